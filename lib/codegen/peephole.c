// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Stack store-to-load forwarding over a finished program.  The emitters
 * keep what lives across helper calls in stack slots and reload a slot
 * wherever they need it, often right after storing it or loading it
 * again; each such reload is a memory access the JIT keeps.  Within a
 * stretch of straight-line code (no jump lands inside it), a slot's
 * value is known after a store to it or a load from it: a later load of
 * the same slot and size becomes a register move (or an immediate move,
 * or nothing when the register already holds it), and a store of what
 * the slot already holds is dropped.
 *
 * The knowledge dies at every jump target, at every write to the
 * register holding it, at every store that may overlap the slot (a
 * store through a register that may point into the stack counts as one
 * that overlaps them all), and at calls of helpers that may write memory
 * the program passes them.  The verifier sees the same values in the
 * same registers, so what it accepts is unchanged.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "codegen/emit.h"

#define MAX_KNOWN	64

struct known {
	__s16	off;		/* stack offset from R10 */
	__u8	size;		/* BPF_W or BPF_DW */
	bool	is_imm;
	__u8	reg;		/* !is_imm: the register holding the slot's value */
	__s32	imm;		/* is_imm: the stored immediate */
};

struct facts {
	struct known k[MAX_KNOWN];
	unsigned int n;
};

static int size_bytes(__u8 sz)
{
	switch (sz) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

static void forget_reg(struct facts *f, unsigned int reg)
{
	unsigned int i;

	for (i = 0; i < f->n;)
		if (!f->k[i].is_imm && f->k[i].reg == reg)
			f->k[i] = f->k[--f->n];
		else
			i++;
}

/* A store of `len` bytes at off: every overlapping fact goes. */
static void forget_range(struct facts *f, int off, int len)
{
	unsigned int i;

	for (i = 0; i < f->n;) {
		int a = f->k[i].off, b = a + size_bytes(f->k[i].size);

		if (a < off + len && off < b)
			f->k[i] = f->k[--f->n];
		else
			i++;
	}
}

static struct known *find(struct facts *f, int off, __u8 size)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (f->k[i].off == off && f->k[i].size == size)
			return &f->k[i];
	return NULL;
}

static void learn(struct facts *f, const struct known *k)
{
	if (k->size != BPF_W && k->size != BPF_DW)
		return;
	forget_range(f, k->off, size_bytes(k->size));
	if (f->n < MAX_KNOWN)
		f->k[f->n++] = *k;
}

static bool is_ld_imm64(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_DW | BPF_IMM);
}

static bool is_jump(const struct bpf_insn *i)
{
	__u8 cls = BPF_CLASS(i->code), op = BPF_OP(i->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

/* Helpers that write no memory the program hands them. */
static bool helper_keeps_stack(__s32 id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_get_prandom_u32:
	case BPF_FUNC_get_smp_processor_id:
	case BPF_FUNC_tail_call:
	case BPF_FUNC_redirect:
	case BPF_FUNC_redirect_map:
	case BPF_FUNC_spin_lock:
	case BPF_FUNC_spin_unlock:
		return true;
	}
	return false;
}

/*
 * Which registers may point into the stack, before each instruction: a
 * forward data flow (a register is suspect if it is on some path).  A
 * load is suspect once the program stores a suspect register anywhere.
 * Returns NULL on allocation failure.
 */
static __u16 *stack_regs(const struct bpf_insn *in, size_t n, const long *target)
{
	__u16 *m = calloc(n + 1, sizeof(*m));
	bool changed = true, spilled = false;
	size_t i;

	if (!m)
		return NULL;
	/* the sets only grow: iterate until a pass changes nothing */
	m[0] = 1U << BPF_REG_10;
	while (changed) {
		changed = false;
		for (i = 0; i < n; i++) {
			const struct bpf_insn *x = &in[i];
			__u16 s = m[i] | 1U << BPF_REG_10;
			__u8 cls = BPF_CLASS(x->code), d = x->dst_reg, r = x->src_reg;
			bool fall = true;

			if (is_ld_imm64(x)) {
				s &= ~(1U << d);
				m[i + 1] |= s;
				if (i + 2 <= n)
					m[i + 2] |= s;
				i++;
				continue;
			}
			switch (cls) {
			case BPF_ALU:
			case BPF_ALU64:
				if (BPF_OP(x->code) == BPF_MOV)
					s = (s & ~(1U << d)) |
					    (BPF_SRC(x->code) == BPF_X && (s >> r & 1) ? 1U << d : 0);
				else if (BPF_SRC(x->code) == BPF_X && (s >> r & 1))
					s |= 1U << d;
				break;
			case BPF_LDX:
				s = (s & ~(1U << d)) | (spilled ? 1U << d : 0);
				break;
			case BPF_STX:
				if (s >> r & 1 && !spilled) {
					spilled = true;
					changed = true;
				}
				if (BPF_MODE(x->code) == BPF_ATOMIC && (x->imm & BPF_FETCH))
					s = (s & ~(1U << r)) | (spilled ? 1U << r : 0);
				if (BPF_MODE(x->code) == BPF_ATOMIC && x->imm == BPF_CMPXCHG)
					s = (s & ~1U) | (spilled ? 1U : 0);
				break;
			case BPF_LD:	/* packet loads: R0, R1-R5 clobbered */
				s &= ~0x3fU;
				break;
			case BPF_JMP:
			case BPF_JMP32:
				if (BPF_OP(x->code) == BPF_CALL) {
					s &= ~0x3fU;
				} else if (BPF_OP(x->code) == BPF_EXIT) {
					fall = false;
				} else {
					if (target[i] >= 0 && (size_t)target[i] <= n) {
						__u16 old = m[target[i]];

						m[target[i]] |= s;
						if ((size_t)target[i] <= i && m[target[i]] != old)
							changed = true;
					}
					if (BPF_OP(x->code) == BPF_JA)
						fall = false;
				}
				break;
			}
			if (fall)
				m[i + 1] |= s;
		}
	}
	return m;
}

int xfsm_emit_peephole(struct xfsm_emit *e, bool *keep, const long *target)
{
	size_t n = e->n, i;
	unsigned char *is_target = calloc(n + 1, 1);
	__u16 *sregs = NULL;
	struct facts f = { .n = 0 };
	int err = 0;

	if (!is_target)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (is_ld_imm64(&e->insn[i])) {
			i++;
			continue;
		}
		/* a program with subprograms is left alone */
		if (e->insn[i].code == (BPF_JMP | BPF_CALL) && e->insn[i].src_reg)
			goto out;
		if (is_jump(&e->insn[i]) && target[i] >= 0 && (size_t)target[i] <= n)
			is_target[target[i]] = 1;
	}
	sregs = stack_regs(e->insn, n, target);
	if (!sregs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct bpf_insn *x = &e->insn[i];
		__u8 cls = BPF_CLASS(x->code), d = x->dst_reg, r = x->src_reg;
		__u8 sz = BPF_SIZE(x->code);
		struct known *k;

		if (is_target[i])
			f.n = 0;
		if (is_ld_imm64(x)) {
			forget_reg(&f, d);
			i++;
			continue;
		}
		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64:
			forget_reg(&f, d);
			break;
		case BPF_LDX:
			if (BPF_MODE(x->code) != BPF_MEM || r != BPF_REG_10) {
				forget_reg(&f, d);
				break;
			}
			k = find(&f, x->off, sz);
			if (k && k->is_imm) {
				*x = sz == BPF_DW ? XI_MOV64_IMM(d, k->imm) : XI_MOV32_IMM(d, k->imm);
				forget_reg(&f, d);
			} else if (k && k->reg == d) {
				keep[i] = false;	/* already there */
			} else if (k) {
				*x = sz == BPF_DW ? XI_MOV64_REG(d, k->reg) : XI_MOV32_REG(d, k->reg);
				forget_reg(&f, d);
			} else {
				forget_reg(&f, d);
				learn(&f, &(struct known){ .off = x->off, .size = sz, .reg = d });
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (BPF_MODE(x->code) == BPF_ATOMIC) {
				if (r == BPF_REG_10 || (sregs[i] >> d & 1))
					f.n = 0;
				if (d == BPF_REG_10)
					forget_range(&f, x->off, size_bytes(sz));
				if (x->imm & BPF_FETCH)
					forget_reg(&f, r);
				if (x->imm == BPF_CMPXCHG)
					forget_reg(&f, BPF_REG_0);
				break;
			}
			if (d != BPF_REG_10) {
				if (sregs[i] >> d & 1)
					f.n = 0;	/* may point into the stack */
				break;
			}
			k = find(&f, x->off, sz);
			if (k && ((cls == BPF_STX && !k->is_imm && k->reg == r) ||
				  (cls == BPF_ST && k->is_imm && k->imm == x->imm))) {
				keep[i] = false;	/* the slot holds it already */
				break;
			}
			forget_range(&f, x->off, size_bytes(sz));
			if (cls == BPF_STX && r != BPF_REG_10)
				learn(&f, &(struct known){ .off = x->off, .size = sz, .reg = r });
			else if (cls == BPF_ST)
				learn(&f, &(struct known){ .off = x->off, .size = sz, .is_imm = true,
							   .imm = x->imm });
			break;
		case BPF_LD:
			f.n = 0;
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (BPF_OP(x->code) == BPF_CALL) {
				if (!helper_keeps_stack(x->imm)) {
					f.n = 0;
				} else {
					unsigned int reg;

					for (reg = BPF_REG_0; reg <= BPF_REG_5; reg++)
						forget_reg(&f, reg);
				}
			} else if (BPF_OP(x->code) == BPF_EXIT || BPF_OP(x->code) == BPF_JA) {
				f.n = 0;
			}
			break;
		default:
			f.n = 0;
			break;
		}
	}
out:
	free(is_target);
	free(sregs);
	return err;
}
