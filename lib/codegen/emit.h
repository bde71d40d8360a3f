/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A BPF program under construction: a growable instruction buffer, named
 * jump targets resolved when the program is finished, and notes that say
 * which part of the application each stretch of instructions implements
 * (xfsmctl show program prints them).  Errors are sticky: emitters do not
 * check each append; xfsm_emit_finish() reports the first failure.
 */
#ifndef XFSM_CODEGEN_EMIT_H
#define XFSM_CODEGEN_EMIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>

#include "codegen/insn.h"

/* The kernel's limit for a privileged program (BPF_COMPLEXITY_LIMIT_INSNS). */
#define XFSM_EMIT_MAX_INSNS	1000000
#define XFSM_EMIT_NOTE_LEN	120

struct xfsm_emit_note {
	unsigned int insn;		/* first instruction it describes */
	unsigned int depth;		/* nesting: 0 program part, 1 stage, 2 rule ... */
	char text[XFSM_EMIT_NOTE_LEN];
};

struct xfsm_emit_fix {
	unsigned int insn;		/* a jump whose off is to be set */
	unsigned int label;
};

struct xfsm_emit {
	struct bpf_insn *insn;
	size_t n, cap;
	struct xfsm_emit_note *note;
	size_t n_note, cap_note;
	int *label;			/* instruction index, -1 until bound */
	size_t n_label, cap_label;
	struct xfsm_emit_fix *fix;
	size_t n_fix, cap_fix;
	int err;			/* first error, 0 */
	char why[256];			/* what the first error was about */
};

void xfsm_emit_init(struct xfsm_emit *e);
void xfsm_emit_free(struct xfsm_emit *e);
/* Record the first error (-errno) and a message; later ones are ignored. */
void xfsm_emit_fail(struct xfsm_emit *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append one instruction. */
void xfsm_emit(struct xfsm_emit *e, struct bpf_insn i);
/* dst = 64-bit constant (two instructions). */
void xfsm_emit_imm64(struct xfsm_emit *e, int dst, __u64 v);
/* dst = the map with file descriptor fd (two instructions). */
void xfsm_emit_map(struct xfsm_emit *e, int dst, int map_fd);

/* dst = the address of the value of single-entry array map_fd, plus off
 * (two instructions; the kernel resolves it: no lookup at run time). */
void xfsm_emit_map_value(struct xfsm_emit *e, int dst, int map_fd, __u32 off);

/* A new jump target, not placed yet. */
unsigned int xfsm_emit_label(struct xfsm_emit *e);
/* Place a label at the next instruction. */
void xfsm_emit_bind(struct xfsm_emit *e, unsigned int label);
/* Conditional jumps to a label: `code` is BPF_JMP or BPF_JMP32 | op | BPF_X
 * or BPF_K, as in an instruction. */
void xfsm_emit_jmp_reg(struct xfsm_emit *e, __u8 code, int dst, int src, unsigned int label);
void xfsm_emit_jmp_imm(struct xfsm_emit *e, __u8 code, int dst, __s32 imm, unsigned int label);
void xfsm_emit_ja(struct xfsm_emit *e, unsigned int label);

/* Describe the instructions that follow (printf format). */
void xfsm_emit_note(struct xfsm_emit *e, unsigned int depth, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Resolve every jump.  0, or the first error (e->why says what). */
int xfsm_emit_finish(struct xfsm_emit *e);

/* Stack store-to-load forwarding (lib/codegen/peephole.c), run by
 * xfsm_emit_finish() on the resolved program: rewrites instructions in
 * place and clears keep[i] for each one it drops; target[i] is where the
 * jump at i goes.  0 or -ENOMEM. */
int xfsm_emit_peephole(struct xfsm_emit *e, bool *keep, const long *target);

/* Load the finished program as an XDP program named `name`.  Returns the
 * program's fd, or a negative errno; the verifier's complaint (its log's
 * last lines) is left in e->why. */
int xfsm_emit_load(struct xfsm_emit *e, const char *name);

#endif /* XFSM_CODEGEN_EMIT_H */
