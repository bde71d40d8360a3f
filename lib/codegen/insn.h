/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * BPF instruction builders, one per instruction form (the uapi header
 * defines the encoding, not builders).  Each is an expression of type
 * struct bpf_insn; lib/codegen/emit.h appends them to a program.
 */
#ifndef XFSM_CODEGEN_INSN_H
#define XFSM_CODEGEN_INSN_H

#include <linux/bpf.h>

#define XI(c, d, s, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),	\
			    .off = (o), .imm = (i) })

/* dst op= src / imm, 64 and 32 bits (BPF_ADD, BPF_SUB, ... BPF_ARSH) */
#define XI_ALU64_REG(op, d, s)	XI(BPF_ALU64 | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define XI_ALU64_IMM(op, d, i)	XI(BPF_ALU64 | BPF_OP(op) | BPF_K, d, 0, 0, i)
#define XI_ALU32_REG(op, d, s)	XI(BPF_ALU | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define XI_ALU32_IMM(op, d, i)	XI(BPF_ALU | BPF_OP(op) | BPF_K, d, 0, 0, i)
#define XI_MOV64_REG(d, s)	XI(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define XI_MOV64_IMM(d, i)	XI(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
/* 32-bit moves zero the upper half */
#define XI_MOV32_REG(d, s)	XI(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define XI_MOV32_IMM(d, i)	XI(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define XI_NEG64(d)		XI(BPF_ALU64 | BPF_NEG, d, 0, 0, 0)
/* byte swaps: to big endian (network order) of 16, 32 or 64 bits */
#define XI_BE(d, bits)		XI(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits)

/* Memory: size BPF_B, BPF_H, BPF_W, BPF_DW */
#define XI_LDX(sz, d, s, off)	XI(BPF_LDX | BPF_MEM | (sz), d, s, off, 0)
#define XI_STX(sz, d, s, off)	XI(BPF_STX | BPF_MEM | (sz), d, s, off, 0)
#define XI_ST(sz, d, off, i)	XI(BPF_ST | BPF_MEM | (sz), d, 0, off, i)
/* *(dst + off) += src, atomically (BPF_W or BPF_DW) */
#define XI_ATOMIC_ADD(sz, d, s, off) XI(BPF_STX | BPF_ATOMIC | (sz), d, s, off, BPF_ADD)
#define XI_ATOMIC_FETCH_ADD(sz, d, s, off) \
	XI(BPF_STX | BPF_ATOMIC | (sz), d, s, off, BPF_ADD | BPF_FETCH)
/* R0 = *(dst + off); if that equals R0 as it was, *(dst + off) = src */
#define XI_ATOMIC_CMPXCHG(sz, d, s, off) \
	XI(BPF_STX | BPF_ATOMIC | (sz), d, s, off, BPF_CMPXCHG)

/* Jumps (off is filled by the emitter's labels) */
#define XI_JMP_REG(op, d, s, off)	XI(BPF_JMP | BPF_OP(op) | BPF_X, d, s, off, 0)
#define XI_JMP_IMM(op, d, i, off)	XI(BPF_JMP | BPF_OP(op) | BPF_K, d, 0, off, i)
#define XI_JMP32_REG(op, d, s, off)	XI(BPF_JMP32 | BPF_OP(op) | BPF_X, d, s, off, 0)
#define XI_JMP32_IMM(op, d, i, off)	XI(BPF_JMP32 | BPF_OP(op) | BPF_K, d, 0, off, i)
#define XI_JA(off)			XI(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define XI_CALL(helper)			XI(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
#define XI_EXIT()			XI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A 64-bit immediate takes two instructions; with src BPF_PSEUDO_MAP_FD
 * the immediate is a map's file descriptor, replaced by the kernel. */
#define XI_LD_IMM64_LO(d, s, v)	XI(BPF_LD | BPF_DW | BPF_IMM, d, s, 0, (__s32)(__u32)(v))
#define XI_LD_IMM64_HI(v)	XI(0, 0, 0, 0, (__s32)(__u32)((__u64)(v) >> 32))

/* Registers by role in the calling convention */
enum {
	XR0 = BPF_REG_0,	/* return value, helper result */
	XR1 = BPF_REG_1,	/* arguments 1..5, clobbered by calls */
	XR2 = BPF_REG_2,
	XR3 = BPF_REG_3,
	XR4 = BPF_REG_4,
	XR5 = BPF_REG_5,
	XR6 = BPF_REG_6,	/* callee-saved 6..9 */
	XR7 = BPF_REG_7,
	XR8 = BPF_REG_8,
	XR9 = BPF_REG_9,
	XFP = BPF_REG_10,	/* frame pointer, read-only */
};

#endif /* XFSM_CODEGEN_INSN_H */
