/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * BPF instructions as text, for xfsmctl show program: one line per
 * instruction (two for a 64-bit immediate load), in the C-like notation
 * of the kernel's documentation ("r1 = *(u32 *)(r2 + 8)", "if w1 > 5
 * goto 42").  Jump targets are printed as instruction indexes.
 */
#ifndef XFSM_CODEGEN_DISASM_H
#define XFSM_CODEGEN_DISASM_H

#include <stddef.h>
#include <linux/bpf.h>

/* Names the map that a 64-bit load refers to (src_reg BPF_PSEUDO_MAP_FD or
 * BPF_PSEUDO_MAP_VALUE, imm the reference) into buf. */
typedef void (*xfsm_disasm_map_fn)(void *ctx, __u8 src_reg, __s32 imm, char *buf, size_t len);

/*
 * Format the instruction at insn[pc] (n instructions in all) into buf.
 * Returns how many instructions it took: 1, or 2 for a 64-bit load; 0 when
 * pc is past the end.  An encoding it does not know prints as its raw
 * fields.  map_name may be NULL (maps print as their reference).
 */
unsigned int xfsm_disasm(const struct bpf_insn *insn, size_t n, size_t pc, char *buf,
			 size_t len, xfsm_disasm_map_fn map_name, void *ctx);

/* A helper's name ("map_lookup_elem"), NULL for an id this build does not
 * know. */
const char *xfsm_disasm_helper(__s32 id);

#endif /* XFSM_CODEGEN_DISASM_H */
