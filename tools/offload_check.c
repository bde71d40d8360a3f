/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsm-offload-check: fail the build when a BPF object steps outside the
 * Netronome-style SmartNIC offload profile (docs/datapath.md, "Offload
 * profile").
 *
 *   xfsm-offload-check [-q] OBJ.bpf.o...
 *
 * One line per violation on stderr and exit 1; otherwise
 * "OBJ: offload profile OK (N insns, M maps)" on stdout and exit 0.
 * Exit 2 when an object cannot be read.
 *
 * Map definitions come from libbpf.  Code comes straight from the ELF file
 * (libelf): before load, libbpf 1.1 does not expose the .text subprograms a
 * program calls, and the checker must see every instruction that will run.
 * Functions are the STT_FUNC symbols of each executable section; calls into
 * .text are resolved through the .rel<section> entries the way libbpf does
 * (target = symbol value / 8 + imm + 1).
 *
 * Direct stores into map values are found by a small abstract
 * interpretation: every register and every 8-byte stack slot holds the set
 * of kinds it may hold (scalar, own stack, a caller's stack, ctx, map
 * pointer, map value), stack pointers the constant offsets from R10 they
 * may hold.  Each function is solved to a fixpoint over its control flow,
 * and the functions are re-solved until the summaries that calls exchange
 * stop changing: the kinds of R1-R5 at entry (a map value passed in stays a
 * map value), the kind of R0 at exit (a wrapper returning a lookup result
 * returns a map value), and the pointers kept in, or written into, a
 * caller's frame that the callee reaches through a pointer argument.
 * A register that may hold a map value on any path counts ("may store").
 * Stack semantics follow the verifier: a spill/fill at a constant offset
 * keeps the pointer kind, what an access at a variable offset reads is
 * plain data, and a partial overwrite turns a spilled pointer into data.
 *
 * LIMITS
 * - Loads from anything but the stack produce scalars: a map value pointer
 *   kept in a map value, packet data or ctx is not followed (the verifier
 *   lets no pointer be stored there, kptrs aside, which the profile does
 *   not use).
 * - Conditional jumps do not narrow kinds (no null-check refinement) and
 *   paths are merged, so a register that holds a map value on one path and
 *   another pointer on a correlated other path still counts as a possible
 *   map value.  Such false positives are possible, misses are not meant to
 *   be.
 * - More than four constant offsets for one stack pointer collapse to "any
 *   slot"; all callers' frames are merged into one view per callee, and a
 *   pointer a callee writes into a caller's frame may land in any of the
 *   caller's slots.  Through a pointer into a caller's frame only map
 *   pointers and map value pointers are followed: a stack pointer kept in
 *   a caller's frame reads back as a scalar, so a map value pointer
 *   reached through two levels of stack indirection across a call is
 *   missed.
 * - Constants are tracked only through mov, add and sub, which is what
 *   clang emits for stack addressing.
 * - Only code reachable from a program (a section other than .text)
 *   through calls or callback references is checked, as only that loads.
 * - libbpf-internal maps (.rodata, .data, .bss, .kconfig) are noted, not
 *   rejected; stores into .data/.bss globals are reported like stores into
 *   any other map value.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/libbpf.h>

#ifndef EM_BPF
#define EM_BPF 247
#endif

#define MAX_BPF_STACK	512
#define STACK_SLOTS	(MAX_BPF_STACK / 8)
#define NR_REGS		11
#define MAX_ROUNDS	1000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static bool quiet;	/* -q: violations only */

/* ---- helpers --------------------------------------------------------- */

static const int offload_helpers[] = {
	BPF_FUNC_map_lookup_elem,
	BPF_FUNC_map_update_elem,
	BPF_FUNC_map_delete_elem,
	BPF_FUNC_get_prandom_u32,
	BPF_FUNC_xdp_adjust_head,
	BPF_FUNC_xdp_adjust_tail,
};

static const struct {
	int id;
	const char *name;
} helper_names[] = {
	{ 1, "bpf_map_lookup_elem" },	{ 2, "bpf_map_update_elem" },
	{ 3, "bpf_map_delete_elem" },	{ 4, "bpf_probe_read" },
	{ 5, "bpf_ktime_get_ns" },	{ 6, "bpf_trace_printk" },
	{ 7, "bpf_get_prandom_u32" },	{ 8, "bpf_get_smp_processor_id" },
	{ 9, "bpf_skb_store_bytes" },	{ 12, "bpf_tail_call" },
	{ 13, "bpf_clone_redirect" },	{ 23, "bpf_redirect" },
	{ 25, "bpf_perf_event_output" },	{ 28, "bpf_csum_diff" },
	{ 42, "bpf_get_numa_node_id" },	{ 44, "bpf_xdp_adjust_head" },
	{ 51, "bpf_redirect_map" },	{ 54, "bpf_xdp_adjust_meta" },
	{ 65, "bpf_xdp_adjust_tail" },	{ 69, "bpf_fib_lookup" },
	{ 84, "bpf_sk_lookup_tcp" },	{ 85, "bpf_sk_lookup_udp" },
	{ 86, "bpf_sk_release" },	{ 87, "bpf_map_push_elem" },
	{ 88, "bpf_map_pop_elem" },	{ 89, "bpf_map_peek_elem" },
	{ 93, "bpf_spin_lock" },	{ 94, "bpf_spin_unlock" },
	{ 99, "bpf_skc_lookup_tcp" },	{ 100, "bpf_tcp_check_syncookie" },
	{ 110, "bpf_tcp_gen_syncookie" },	{ 113, "bpf_probe_read_kernel" },
	{ 118, "bpf_jiffies64" },	{ 121, "bpf_xdp_output" },
	{ 125, "bpf_ktime_get_boot_ns" },	{ 130, "bpf_ringbuf_output" },
	{ 131, "bpf_ringbuf_reserve" },	{ 132, "bpf_ringbuf_submit" },
	{ 133, "bpf_ringbuf_discard" },	{ 160, "bpf_ktime_get_coarse_ns" },
	{ 163, "bpf_check_mtu" },	{ 164, "bpf_for_each_map_elem" },
	{ 165, "bpf_snprintf" },	{ 169, "bpf_timer_init" },
	{ 170, "bpf_timer_set_callback" },	{ 171, "bpf_timer_start" },
	{ 172, "bpf_timer_cancel" },	{ 177, "bpf_trace_vprintk" },
	{ 181, "bpf_loop" },		{ 182, "bpf_strncmp" },
	{ 188, "bpf_xdp_get_buff_len" },	{ 189, "bpf_xdp_load_bytes" },
	{ 190, "bpf_xdp_store_bytes" },	{ 194, "bpf_kptr_xchg" },
	{ 195, "bpf_map_lookup_percpu_elem" },
	{ 208, "bpf_ktime_get_tai_ns" },
};

static const char *helper_name(int id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(helper_names); i++)
		if (helper_names[i].id == id)
			return helper_names[i].name;
	return NULL;
}

static bool helper_allowed(int id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(offload_helpers); i++)
		if (offload_helpers[i] == id)
			return true;
	return false;
}

/* ---- abstract values ------------------------------------------------- */

enum kind {
	K_SCALAR = 1 << 0,	/* number, uninitialised, or pointer we ignore */
	K_STACK  = 1 << 1,	/* own frame, R10-derived */
	K_FSTACK = 1 << 2,	/* a caller's frame, passed in by pointer */
	K_CTX    = 1 << 3,
	K_MAP    = 1 << 4,	/* struct bpf_map *, from ld_imm64 */
	K_VALUE  = 1 << 5,	/* map value or global data */
};

#define K_REGION (K_MAP | K_VALUE)
#define K_FRAME  (K_STACK | K_FSTACK)
#define REGION_NONE	(-1)
#define REGION_MANY	(-2)

#define OFF_MAX	4	/* constant offsets tracked per register */
#define OFF_ANY	0xff	/* more constant offsets than that */

/*
 * Frame pointers (K_STACK, K_FSTACK) carry the constant offsets from their
 * frame's R10 they may hold, and whether they may hold a variable offset
 * (R10 plus a register).  This follows the verifier, which walks every
 * path with exact offsets and turns whatever a variable-offset access
 * reads or writes into plain scalars.
 */
struct reg {
	uint8_t k;		/* set of enum kind */
	uint8_t noff;		/* entries of off[] in use, or OFF_ANY */
	uint8_t var;		/* the offset may be variable */
	uint8_t cst;		/* a scalar whose value is cval */
	int16_t region;		/* index into checker.regions (K_REGION only) */
	int16_t pad;
	int32_t off[OFF_MAX];	/* sorted, unique (K_FRAME only) */
	int32_t cval;		/* a constant the verifier would see as one */
};

struct astate {
	struct reg r[NR_REGS];
	struct reg slot[STACK_SLOTS];	/* slot i covers R10-8*(i+1) */
};

static const struct reg scalar = { .k = K_SCALAR, .region = REGION_NONE };

static struct reg scalar_const(int64_t v)
{
	struct reg r = scalar;

	if (v >= INT32_MIN && v <= INT32_MAX) {
		r.cst = 1;
		r.cval = (int32_t)v;
	}
	return r;
}

static void reg_norm(struct reg *r)
{
	int i;

	if (!(r->k & K_REGION))
		r->region = REGION_NONE;
	if (!(r->k & K_FRAME)) {
		r->noff = 0;
		r->var = 0;
	}
	for (i = r->noff == OFF_ANY ? 0 : r->noff; i < OFF_MAX; i++)
		r->off[i] = 0;
	if (r->k != K_SCALAR)
		r->cst = 0;
	if (!r->cst)
		r->cval = 0;
	r->pad = 0;
}

static bool reg_eq(const struct reg *a, const struct reg *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The union of two sorted offset sets, OFF_ANY when it does not fit. */
static void off_union(struct reg *d, const struct reg *s)
{
	int32_t u[2 * OFF_MAX];
	int i = 0, j = 0, n = 0;

	if (d->noff == OFF_ANY || s->noff == OFF_ANY) {
		d->noff = OFF_ANY;
		return;
	}
	while (i < d->noff || j < s->noff) {
		int32_t v;

		if (j >= s->noff || (i < d->noff && d->off[i] < s->off[j]))
			v = d->off[i++];
		else if (i >= d->noff || s->off[j] < d->off[i])
			v = s->off[j++];
		else
			v = d->off[i++], j++;
		u[n++] = v;
	}
	if (n > OFF_MAX) {
		d->noff = OFF_ANY;
		return;
	}
	memcpy(d->off, u, n * sizeof(u[0]));
	d->noff = (uint8_t)n;
}

/* d = d join s; returns true when d changed.  No kind at all is bottom. */
static bool reg_join(struct reg *d, const struct reg *s)
{
	struct reg o = *d;

	if (!d->k) {
		*d = *s;
		reg_norm(d);
		return !reg_eq(&o, d);
	}
	d->cst = d->cst && s->cst && d->cval == s->cval;
	if (s->k & K_REGION) {
		if (!(d->k & K_REGION))
			d->region = s->region;
		else if (d->region != s->region)
			d->region = REGION_MANY;
	}
	if (s->k & K_FRAME) {
		if (!(d->k & K_FRAME)) {
			memcpy(d->off, s->off, sizeof(d->off));
			d->noff = s->noff;
			d->var = s->var;
		} else {
			d->var |= s->var;
			off_union(d, s);
		}
	}
	d->k |= s->k;
	reg_norm(d);
	return !reg_eq(&o, d);
}

static bool state_join(struct astate *d, const struct astate *s)
{
	bool changed = false;
	int i;

	for (i = 0; i < NR_REGS; i++)
		changed |= reg_join(&d->r[i], &s->r[i]);
	for (i = 0; i < STACK_SLOTS; i++)
		changed |= reg_join(&d->slot[i], &s->slot[i]);
	return changed;
}

/* Pointer kinds only: scalar (which also stands for "uninitialised")
 * cannot be the base of a memory access the verifier accepts. */
static uint8_t ptr_kinds(const struct reg *r)
{
	return r->k & ~K_SCALAR;
}

/* ---- object model ---------------------------------------------------- */

struct section {
	const char *name;
	bool exec;
	bool maps;		/* .maps or legacy maps */
	bool data;		/* .data*, .rodata*, .bss*: global data maps */
	struct bpf_insn *insns;
	size_t cnt;
	uint32_t *rel;		/* per insn: symbol index + 1, 0 if none */
};

struct func {
	const char *name;
	size_t sec;
	size_t start, cnt;
	bool entry;		/* a program, not a .text subprogram */
	bool reachable;
	/* summaries exchanged between functions */
	struct reg args[6];	/* R1..R5 at entry */
	/* Pointer kinds its callers keep in their frames (K_FSTACK), by
	 * frame offset; all callers' frames are merged. */
	struct reg fslot[STACK_SLOTS];
	struct reg ret;		/* R0 at exit */
	struct reg foreign_out;	/* pointers it stores through K_FSTACK */
};

struct region {
	const char *name;
	bool global_data;	/* a .data/.rodata/.bss section, not a map */
	const struct func *used_by;	/* first code reference (global data) */
	size_t used_at;
};

struct checker {
	const char *path;
	int fd;
	Elf *elf;
	struct section *secs;
	size_t nsecs;
	Elf_Data *symtab;
	size_t strtab;
	size_t nsyms;
	struct func *funcs;
	size_t nfuncs;
	struct region *regions;
	size_t nregions;
	size_t nmaps;
	int violations;
	bool changed;		/* some summary changed this round */
	const char *debug;	/* function to trace, from the environment */
};

/* "OBJ: prog NAME insn N: WHAT, not allowed in the offload profile (HINT)" */
static void violation(struct checker *c, const struct func *f, size_t insn,
		      const char *hint, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s %s insn %zu: ", c->path,
		f->entry ? "prog" : "subprog", f->name, insn);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ", not allowed in the offload profile%s%s%s\n",
		hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	c->violations++;
}

static bool sym_get(struct checker *c, size_t idx, GElf_Sym *sym,
		    const char **name)
{
	if (!c->symtab || idx >= c->nsyms || !gelf_getsym(c->symtab, idx, sym))
		return false;
	*name = elf_strptr(c->elf, c->strtab, sym->st_name);
	if (!*name)
		*name = "?";
	return true;
}

static int region_get(struct checker *c, const char *name, bool global_data)
{
	struct region *r;
	size_t i;

	for (i = 0; i < c->nregions; i++)
		if (!strcmp(c->regions[i].name, name))
			return (int)i;
	if (c->nregions >= INT16_MAX)
		return REGION_MANY;
	r = realloc(c->regions, (c->nregions + 1) * sizeof(*r));
	if (!r)
		return REGION_MANY;
	c->regions = r;
	memset(&r[c->nregions], 0, sizeof(*r));
	r[c->nregions].name = name;
	r[c->nregions].global_data = global_data;
	return (int)c->nregions++;
}

static struct func *func_at(struct checker *c, size_t sec, size_t idx)
{
	size_t i;

	for (i = 0; i < c->nfuncs; i++)
		if (c->funcs[i].sec == sec && c->funcs[i].start == idx)
			return &c->funcs[i];
	return NULL;
}

static bool is_data_section(const char *name)
{
	return !strncmp(name, ".data", 5) || !strncmp(name, ".rodata", 7) ||
	       !strncmp(name, ".bss", 4);
}

static int load_elf(struct checker *c)
{
	size_t shstrndx, i;
	Elf_Scn *scn;
	GElf_Ehdr eh;

	c->elf = elf_begin(c->fd, ELF_C_READ, NULL);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh)) {
		fprintf(stderr, "%s: not an ELF object\n", c->path);
		return -EINVAL;
	}
	if (eh.e_machine != EM_BPF) {
		fprintf(stderr, "%s: not a BPF object (e_machine %u)\n", c->path,
			eh.e_machine);
		return -EINVAL;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		fprintf(stderr, "%s: big-endian BPF objects are not supported\n",
			c->path);
		return -EINVAL;
	}
	if (elf_getshdrstrndx(c->elf, &shstrndx) || elf_getshdrnum(c->elf, &c->nsecs)) {
		fprintf(stderr, "%s: cannot read the section table: %s\n", c->path,
			elf_errmsg(-1));
		return -EINVAL;
	}
	c->secs = calloc(c->nsecs, sizeof(*c->secs));
	if (!c->secs)
		return -ENOMEM;

	/* Pass 1: names, code, symbol table. */
	for (scn = NULL; (scn = elf_nextscn(c->elf, scn));) {
		struct section *s;
		Elf_Data *d;
		GElf_Shdr sh;

		i = elf_ndxscn(scn);
		if (i >= c->nsecs || !gelf_getshdr(scn, &sh))
			return -EINVAL;
		s = &c->secs[i];
		s->name = elf_strptr(c->elf, shstrndx, sh.sh_name);
		if (!s->name)
			s->name = "?";
		if (sh.sh_type == SHT_SYMTAB) {
			c->symtab = elf_getdata(scn, NULL);
			c->strtab = sh.sh_link;
			c->nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
			continue;
		}
		s->maps = !strcmp(s->name, ".maps") || !strcmp(s->name, "maps");
		s->data = (sh.sh_type == SHT_PROGBITS || sh.sh_type == SHT_NOBITS) &&
			  !(sh.sh_flags & SHF_EXECINSTR) && is_data_section(s->name);
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
		    !sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size % sizeof(struct bpf_insn)) {
			fprintf(stderr, "%s: section %s: malformed code\n",
				c->path, s->name);
			return -EINVAL;
		}
		s->exec = true;
		s->cnt = d->d_size / sizeof(struct bpf_insn);
		s->insns = malloc(d->d_size);
		s->rel = calloc(s->cnt, sizeof(*s->rel));
		if (!s->insns || !s->rel)
			return -ENOMEM;
		memcpy(s->insns, d->d_buf, d->d_size);
	}

	/* Pass 2: relocations against code. */
	for (scn = NULL; (scn = elf_nextscn(c->elf, scn));) {
		struct section *t;
		Elf_Data *d;
		GElf_Shdr sh;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_REL ||
		    sh.sh_info >= c->nsecs)
			continue;
		t = &c->secs[sh.sh_info];
		d = elf_getdata(scn, NULL);
		if (!t->exec || !d || !sh.sh_entsize)
			continue;
		for (n = 0; n < sh.sh_size / sh.sh_entsize; n++) {
			GElf_Rel rel;
			size_t idx;

			if (!gelf_getrel(d, (int)n, &rel))
				return -EINVAL;
			idx = rel.r_offset / sizeof(struct bpf_insn);
			if (idx < t->cnt)
				t->rel[idx] = (uint32_t)GELF_R_SYM(rel.r_info) + 1;
		}
	}
	return 0;
}

static int func_cmp(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int find_funcs(struct checker *c)
{
	size_t i, cap = 0;

	for (i = 0; i < c->nsyms; i++) {
		const char *name;
		struct func *f;
		GElf_Sym sym;

		if (!sym_get(c, i, &sym, &name) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx >= c->nsecs || !c->secs[sym.st_shndx].exec)
			continue;
		if (c->nfuncs == cap) {
			cap = cap ? 2 * cap : 16;
			f = realloc(c->funcs, cap * sizeof(*f));
			if (!f)
				return -ENOMEM;
			c->funcs = f;
		}
		f = &c->funcs[c->nfuncs++];
		memset(f, 0, sizeof(*f));
		f->name = name;
		f->sec = sym.st_shndx;
		f->start = sym.st_value / sizeof(struct bpf_insn);
		f->cnt = sym.st_size / sizeof(struct bpf_insn);
	}
	/* A code section without function symbols is one function. */
	for (i = 0; i < c->nsecs; i++) {
		struct func *f;
		size_t j;

		if (!c->secs[i].exec)
			continue;
		for (j = 0; j < c->nfuncs && c->funcs[j].sec != i; j++)
			;
		if (j < c->nfuncs)
			continue;
		f = realloc(c->funcs, (c->nfuncs + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		c->funcs = f;
		f = &c->funcs[c->nfuncs++];
		memset(f, 0, sizeof(*f));
		f->name = c->secs[i].name;
		f->sec = i;
		f->cnt = c->secs[i].cnt;
	}
	if (c->nfuncs)
		qsort(c->funcs, c->nfuncs, sizeof(*c->funcs), func_cmp);
	for (i = 0; i < c->nfuncs; i++) {
		struct func *f = &c->funcs[i];
		size_t end = c->secs[f->sec].cnt;
		int r;

		if (i + 1 < c->nfuncs && c->funcs[i + 1].sec == f->sec)
			end = c->funcs[i + 1].start;
		if (!f->cnt || f->start + f->cnt > end)
			f->cnt = end > f->start ? end - f->start : 0;
		f->entry = strcmp(c->secs[f->sec].name, ".text") != 0;
		f->reachable = f->entry;
		/* Summaries start at bottom (no kind) and only grow. */
		for (r = 0; r <= 5; r++)
			f->args[r].region = REGION_NONE;
		for (r = 0; r < STACK_SLOTS; r++)
			f->fslot[r].region = REGION_NONE;
		f->ret.region = REGION_NONE;
		f->foreign_out.region = REGION_NONE;
	}
	return 0;
}

/*
 * The function a call at sec/idx leads to.
 * Sets *ext to the symbol name when it refers to an extern (a kfunc).
 */
static struct func *call_target(struct checker *c, size_t sec, size_t idx,
				int32_t imm, const char **ext)
{
	uint32_t rel = c->secs[sec].rel[idx];
	const char *name;
	GElf_Sym sym;
	int64_t t;

	*ext = NULL;
	if (!rel) {
		t = (int64_t)idx + imm + 1;
		return t < 0 ? NULL : func_at(c, sec, (size_t)t);
	}
	if (!sym_get(c, rel - 1, &sym, &name))
		return NULL;
	if (sym.st_shndx == SHN_UNDEF) {
		*ext = name;
		return NULL;
	}
	if (sym.st_shndx >= c->nsecs || !c->secs[sym.st_shndx].exec)
		return NULL;
	t = (int64_t)(sym.st_value / sizeof(struct bpf_insn)) + imm + 1;
	return t < 0 ? NULL : func_at(c, sym.st_shndx, (size_t)t);
}

/*
 * The callback a function-address ld_imm64 at sec/idx refers to: clang
 * relocates it against .text with a byte offset in imm, the kernel form
 * (BPF_PSEUDO_FUNC) holds an instruction offset.
 */
static struct func *func_ref_target(struct checker *c, size_t sec, size_t idx,
				    int32_t imm)
{
	uint32_t rel = c->secs[sec].rel[idx];
	const char *name;
	GElf_Sym sym;
	int64_t t;

	if (!rel) {
		t = (int64_t)idx + imm + 1;
		return t < 0 ? NULL : func_at(c, sec, (size_t)t);
	}
	if (!sym_get(c, rel - 1, &sym, &name) || sym.st_shndx >= c->nsecs ||
	    !c->secs[sym.st_shndx].exec)
		return NULL;
	t = ((int64_t)sym.st_value + imm) / (int64_t)sizeof(struct bpf_insn);
	return t < 0 ? NULL : func_at(c, sym.st_shndx, (size_t)t);
}

/* R0 after ld_imm64 at sec/idx. */
static struct reg ld_imm64_value(struct checker *c, struct func *f, size_t idx,
				 const struct bpf_insn *in)
{
	uint32_t rel = c->secs[f->sec].rel[idx];
	struct reg v = scalar;
	const char *name;
	GElf_Sym sym;

	if (!rel) {
		/* Pre-resolved pseudo sources: keep their meaning. */
		if (in->src_reg == 0 && idx + 1 < c->secs[f->sec].cnt)
			v = scalar_const((int64_t)((uint64_t)(uint32_t)in->imm |
						   (uint64_t)(uint32_t)in[1].imm << 32));
		else if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_IDX)
			v.k = K_MAP, v.region = REGION_MANY;
		else if (in->src_reg == BPF_PSEUDO_MAP_VALUE ||
			 in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE)
			v.k = K_VALUE, v.region = REGION_MANY;
		return v;
	}
	if (!sym_get(c, rel - 1, &sym, &name) || sym.st_shndx == SHN_UNDEF ||
	    sym.st_shndx >= c->nsecs)
		return v;	/* __kconfig / __ksym externs */
	if (c->secs[sym.st_shndx].maps) {
		v.k = K_MAP;
		v.region = (int16_t)region_get(c, name, false);
	} else if (c->secs[sym.st_shndx].data) {
		v.k = K_VALUE;
		v.region = (int16_t)region_get(c, c->secs[sym.st_shndx].name, true);
		if (v.region >= 0 && !c->regions[v.region].used_by) {
			c->regions[v.region].used_by = f;
			c->regions[v.region].used_at = idx - f->start;
		}
	}
	return v;
}

static int insn_size(const struct bpf_insn *in)
{
	switch (BPF_SIZE(in->code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

static const char *size_name(int sz)
{
	return sz == 1 ? "u8" : sz == 2 ? "u16" : sz == 4 ? "u32" : "u64";
}

static int slot_of(int32_t off)
{
	if (off >= 0 || off < -MAX_BPF_STACK)
		return -1;
	return (-off - 1) / 8;
}

/* What an access of sz bytes at b+off reads from a frame's slots. */
static void frame_load(struct reg *v, const struct reg *b, int16_t off, int sz,
		       const struct reg *slots)
{
	int i, n;

	if (b->var || sz != 8)
		v->k |= K_SCALAR;	/* variable offset: the verifier reads misc */
	if (sz != 8)
		return;
	if (b->noff == OFF_ANY) {
		v->k |= K_SCALAR;
		for (i = 0; i < STACK_SLOTS; i++)
			reg_join(v, &slots[i]);
		return;
	}
	for (i = 0; i < b->noff; i++) {
		int32_t a = b->off[i] + off;

		n = a % 8 ? -1 : slot_of(a);
		if (n >= 0)
			reg_join(v, &slots[n]);
		else
			v->k |= K_SCALAR;
	}
}

/* What a load of sz bytes at base+off yields. */
static struct reg mem_load(const struct func *f, const struct astate *st,
			   const struct reg *b, int16_t off, int sz)
{
	struct reg v = { .region = REGION_NONE };
	uint8_t pk = ptr_kinds(b);

	if (pk & ~K_FRAME || !pk)
		v.k |= K_SCALAR;
	if (pk & K_STACK)
		frame_load(&v, b, off, sz, st->slot);
	if (pk & K_FSTACK) {
		v.k |= K_SCALAR;	/* a global callee reads its args as memory */
		frame_load(&v, b, off, sz, f->fslot);
	}
	reg_norm(&v);
	return v;
}

/*
 * Record a store of sz bytes of val at b+off into a frame's slots; with
 * strong set, b is known to point exactly there.  A variable-offset store
 * leaves only misc data behind in the verifier, so it records nothing.
 */
static bool frame_store(struct reg *slots, const struct reg *b, int16_t off,
			int sz, const struct reg *val, bool strong)
{
	bool changed = false;
	int i, lo, hi, n;

	if (b->noff == OFF_ANY) {
		for (i = 0; i < STACK_SLOTS; i++)
			changed |= reg_join(&slots[i], sz == 8 ? val : &scalar);
		return changed;
	}
	strong = strong && b->noff == 1 && !b->var;
	for (i = 0; i < b->noff; i++) {
		int32_t a = b->off[i] + off;

		lo = slot_of(a + sz - 1);
		hi = slot_of(a);
		if (sz == 8 && a % 8 == 0 && lo >= 0) {
			if (strong) {
				changed |= !reg_eq(&slots[lo], val);
				slots[lo] = *val;
			} else {
				changed |= reg_join(&slots[lo], val);
			}
			continue;
		}
		/* Partial writes turn a spilled pointer into misc data. */
		for (n = lo; n >= 0 && n <= hi; n++) {
			if (strong) {
				changed |= !reg_eq(&slots[n], &scalar);
				slots[n] = scalar;
			} else {
				changed |= reg_join(&slots[n], &scalar);
			}
		}
	}
	return changed;
}

/* Effect of a store of sz bytes of val at base+off on the frame model. */
static void stack_store(struct checker *c, struct func *f, struct astate *st,
			const struct reg *b, int16_t off, int sz,
			const struct reg *val)
{
	uint8_t pk = ptr_kinds(b);

	if (pk & K_STACK)
		frame_store(st->slot, b, off, sz, val, pk == K_STACK);
	if ((pk & K_FSTACK) && sz == 8 && (val->k & K_REGION) && b->noff) {
		struct reg r = *val;

		r.k &= K_REGION;
		reg_norm(&r);
		c->changed |= reg_join(&f->foreign_out, &r);
		c->changed |= frame_store(f->fslot, b, off, sz, &r, false);
	}
}

static void describe_region(const struct checker *c, int region, char *buf,
			    size_t len)
{
	if (region >= 0 && c->regions[region].global_data)
		snprintf(buf, len, "global data in %s (a map value)",
			 c->regions[region].name);
	else if (region >= 0)
		snprintf(buf, len, "a value of map %s", c->regions[region].name);
	else
		snprintf(buf, len, "a map value");
}

static void check_store(struct checker *c, const struct func *f, size_t idx,
			const struct bpf_insn *in, const struct reg *b)
{
	char what[160], src[32];
	int sz = insn_size(in);

	if (!(b->k & K_VALUE))
		return;
	describe_region(c, b->region, what, sizeof(what));
	if (BPF_CLASS(in->code) == BPF_ST)
		snprintf(src, sizeof(src), "%d", in->imm);
	else
		snprintf(src, sizeof(src), "r%u", in->src_reg);
	violation(c, f, idx - f->start,
		  "write through bpf_map_update_elem or use an atomic add",
		  "%s directly into %s (*(%s *)(r%u %+d) = %s)",
		  ptr_kinds(b) == K_VALUE ? "stores" : "may store", what,
		  size_name(sz), in->dst_reg, in->off, src);
}

static const char *atomic_name(int32_t imm)
{
	switch (imm) {
	case BPF_OR: return "or";
	case BPF_OR | BPF_FETCH: return "fetch_or";
	case BPF_AND: return "and";
	case BPF_AND | BPF_FETCH: return "fetch_and";
	case BPF_XOR: return "xor";
	case BPF_XOR | BPF_FETCH: return "fetch_xor";
	case BPF_XCHG: return "xchg";
	case BPF_CMPXCHG: return "cmpxchg";
	default: return "op";
	}
}

/* A call at sec/idx: check it and apply its effect on st. */
static void do_call(struct checker *c, struct func *f, size_t idx,
		    const struct bpf_insn *in, struct astate *st, bool report)
{
	struct reg r0 = scalar;
	struct func *callee;
	const char *ext, *name;
	bool passes_stack = false, passes_fstack = false;
	int r, i;

	if (in->src_reg == 0 && !c->secs[f->sec].rel[idx]) {
		name = helper_name(in->imm);
		if (report && !helper_allowed(in->imm)) {
			if (name)
				violation(c, f, idx - f->start, NULL,
					  "calls helper %s (%d)",
					  name, in->imm);
			else
				violation(c, f, idx - f->start, NULL,
					  "calls helper %d",
					  in->imm);
		}
		if (in->imm == BPF_FUNC_map_lookup_elem ||
		    in->imm == BPF_FUNC_map_lookup_percpu_elem) {
			r0.k = K_VALUE;
			r0.region = st->r[1].k & K_MAP ? st->r[1].region : REGION_MANY;
		}
		goto clobber;
	}

	callee = call_target(c, f->sec, idx, in->imm, &ext);
	if (in->src_reg == BPF_PSEUDO_KFUNC_CALL || ext) {
		if (report)
			violation(c, f, idx - f->start, NULL, "calls kfunc %s",
				  ext ? ext : "?");
		goto clobber;
	}
	if (!callee) {
		if (report)
			violation(c, f, idx - f->start, NULL,
				  "calls an unresolvable target (imm %d)", in->imm);
		goto clobber;
	}

	/* BPF-to-BPF call: allowed; exchange summaries. */
	for (r = 1; r <= 5; r++) {
		struct reg a = st->r[r];

		if (a.k & K_FSTACK)
			passes_fstack = true;
		if (a.k & K_STACK) {
			passes_stack = true;
			a.k = (uint8_t)((a.k & ~K_STACK) | K_FSTACK);
		}
		reg_norm(&a);
		if (!report)
			c->changed |= reg_join(&callee->args[r], &a);
	}
	for (i = 0; !report && i < STACK_SLOTS; i++) {
		struct reg s = st->slot[i];

		s.k &= K_REGION;
		reg_norm(&s);
		if (passes_stack)
			c->changed |= reg_join(&callee->fslot[i], &s);
		if (passes_fstack)
			c->changed |= reg_join(&callee->fslot[i], &f->fslot[i]);
	}
	/* What the callee stored into a caller frame may be in any slot. */
	if (callee->foreign_out.k & K_REGION) {
		for (i = 0; i < STACK_SLOTS; i++) {
			if (passes_stack)
				reg_join(&st->slot[i], &callee->foreign_out);
			if (passes_fstack && !report)
				c->changed |= reg_join(&f->fslot[i], &callee->foreign_out);
		}
		if (passes_fstack && !report)
			c->changed |= reg_join(&f->foreign_out, &callee->foreign_out);
	}
	r0 = callee->ret.k ? callee->ret : scalar;
	if (r0.k & (K_STACK | K_FSTACK))	/* verifier forbids; stay safe */
		r0.k = (uint8_t)((r0.k & ~(K_STACK | K_FSTACK)) | K_SCALAR);
	reg_norm(&r0);

clobber:
	for (r = 1; r <= 5; r++)
		st->r[r] = scalar;
	st->r[0] = r0;
}

/* d += v, for frame offsets and constants alike. */
static void reg_add_const(struct reg *d, int64_t v)
{
	int i;

	for (i = 0; d->noff != OFF_ANY && i < d->noff; i++) {
		int64_t o = d->off[i] + v;

		if (o < INT32_MIN || o > INT32_MAX) {
			d->noff = 0;
			d->var = 1;
			break;
		}
		d->off[i] = (int32_t)o;
	}
	if (d->cst) {
		struct reg c = scalar_const((int64_t)d->cval + v);

		d->cst = c.cst;
		d->cval = c.cval;
	}
	reg_norm(d);
}

static void do_alu(struct checker *c, const struct func *f, size_t idx,
		   const struct bpf_insn *in, struct astate *st, bool report)
{
	bool is64 = BPF_CLASS(in->code) == BPF_ALU64;
	bool x = BPF_SRC(in->code) == BPF_X;
	uint8_t op = BPF_OP(in->code);
	struct reg *d = &st->r[in->dst_reg];
	const struct reg *s = &st->r[in->src_reg];
	int64_t cval;
	bool known;

	if ((op == BPF_DIV || op == BPF_MOD) && x && report)
		violation(c, f, idx - f->start,
			  "divide by a constant, or shift and subtract",
			  "%s by a register (%c%u %s= %c%u)",
			  op == BPF_DIV ? "divides" : "takes a modulo",
			  is64 ? 'r' : 'w', in->dst_reg, op == BPF_DIV ? "/" : "%",
			  is64 ? 'r' : 'w', in->src_reg);

	if (!is64) {
		/* A 32-bit result is a scalar; keep small constants. */
		*d = op == BPF_MOV && !x && in->imm >= 0 ? scalar_const(in->imm) : scalar;
		return;
	}
	switch (op) {
	case BPF_MOV:
		if (x)
			*d = in->off == 0 ? *s : scalar;
		else
			*d = scalar_const(in->imm);
		return;
	case BPF_ADD:
	case BPF_SUB:
		if (!x || s->cst) {
			cval = x ? s->cval : in->imm;
			reg_add_const(d, op == BPF_ADD ? cval : -cval);
			return;
		}
		if (!ptr_kinds(s)) {
			d->noff = 0;	/* pointer plus a register */
			d->var = 1;
			d->cst = 0;
		} else if (!ptr_kinds(d) && op == BPF_ADD) {
			known = d->cst;
			cval = d->cval;
			*d = *s;
			if (known) {
				reg_add_const(d, cval);
			} else {
				d->noff = 0;
				d->var = 1;
			}
		} else if (op == BPF_SUB && !(s->k & K_SCALAR) && !(d->k & K_SCALAR)) {
			*d = scalar;	/* pointer difference */
		} else {
			reg_join(d, s);
			d->noff = 0;
			d->var = 1;
		}
		reg_norm(d);
		return;
	default:
		*d = scalar;
	}
}

/*
 * Transfer function of one instruction.  Fills succ[] with up to two
 * successor indices (section-relative) and returns their number.
 */
static int step(struct checker *c, struct func *f, size_t idx,
		struct astate *st, bool report, size_t succ[2])
{
	const struct bpf_insn *in = &c->secs[f->sec].insns[idx];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	struct reg *b, v;
	int n = 0, r;

	succ[n++] = idx + 1;
	if (in->dst_reg >= NR_REGS || in->src_reg >= NR_REGS)
		return n;	/* the verifier rejects it; nothing to model */

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		do_alu(c, f, idx, in, st, report);
		break;
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			if (in->src_reg == BPF_PSEUDO_FUNC ||
			    (c->secs[f->sec].rel[idx] && in->src_reg == 0)) {
				struct func *cb = func_ref_target(c, f->sec, idx, in->imm);

				if (cb && !cb->reachable) {
					cb->reachable = true;
					c->changed = true;
				}
			}
			st->r[in->dst_reg] = ld_imm64_value(c, f, idx, in);
			succ[0] = idx + 2;
		} else {	/* legacy packet loads */
			for (r = 0; r <= 5; r++)
				st->r[r] = scalar;
		}
		break;
	case BPF_LDX:
		st->r[in->dst_reg] = mem_load(f, st, &st->r[in->src_reg], in->off,
					      insn_size(in));
		break;
	case BPF_ST:
	case BPF_STX:
		b = &st->r[in->dst_reg];
		if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC) {
			if (report && in->imm != BPF_ADD && in->imm != (BPF_ADD | BPF_FETCH))
				violation(c, f, idx - f->start, "only atomic add is",
					  "atomic %s on *(%s *)(r%u %+d)",
					  atomic_name(in->imm), size_name(insn_size(in)),
					  in->dst_reg, in->off);
			stack_store(c, f, st, b, in->off, insn_size(in), &scalar);
			if (in->imm & BPF_FETCH)
				st->r[in->src_reg] = scalar;
			if (in->imm == BPF_CMPXCHG)
				st->r[0] = scalar;
			break;
		}
		if (report)
			check_store(c, f, idx, in, b);
		v = cls == BPF_STX ? st->r[in->src_reg] : scalar;
		stack_store(c, f, st, b, in->off, insn_size(in), &v);
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (cls == BPF_JMP && op == BPF_CALL) {
			do_call(c, f, idx, in, st, report);
		} else if (cls == BPF_JMP && op == BPF_EXIT) {
			if (!report && !f->entry)
				c->changed |= reg_join(&f->ret, &st->r[0]);
			n = 0;
		} else if (op == BPF_JA) {
			succ[0] = (size_t)((int64_t)idx + 1 +
					   (cls == BPF_JMP32 ? in->imm : in->off));
		} else {
			succ[n++] = (size_t)((int64_t)idx + 1 + in->off);
		}
		break;
	}
	return n;
}

/* XFSM_OFFLOAD_CHECK_DEBUG=FUNC: the pointer kinds known before each
 * instruction of FUNC, for finding where a "may store" comes from. */
static void dump_reg(const char *name, int n, const struct reg *r)
{
	int n2;

	if (!ptr_kinds(r))
		return;
	fprintf(stderr, " %s%d=%s%s%s%s%s%s", name, n,
		r->k & K_SCALAR ? "S" : "", r->k & K_STACK ? "T" : "",
		r->k & K_FSTACK ? "F" : "", r->k & K_CTX ? "C" : "",
		r->k & K_MAP ? "M" : "", r->k & K_VALUE ? "V" : "");
	if (r->k & K_REGION)
		fprintf(stderr, "#%d", r->region);
	if (r->noff == OFF_ANY)
		fprintf(stderr, "@any");
	for (n2 = 0; r->noff != OFF_ANY && n2 < r->noff; n2++)
		fprintf(stderr, "@%d", r->off[n2]);
	if (r->var)
		fprintf(stderr, "@var");
}

static void dump_state(const struct func *f, size_t i, const struct astate *st)
{
	int n;

	fprintf(stderr, "%s %zu:", f->name, i);
	for (n = 0; n < NR_REGS; n++)
		dump_reg("r", n, &st->r[n]);
	for (n = 0; n < STACK_SLOTS; n++)
		dump_reg("fp-", 8 * (n + 1), &st->slot[n]);
	fputc('\n', stderr);
}

/*
 * Solve f to a fixpoint; with report set, then walk every reachable
 * instruction once more and print its violations.
 */
static int analyze(struct checker *c, struct func *f, bool report)
{
	struct astate *in = calloc(f->cnt ? f->cnt : 1, sizeof(*in));
	bool *seen = calloc(f->cnt ? f->cnt : 1, 1);
	bool *queued = calloc(f->cnt ? f->cnt : 1, 1);
	size_t *work = calloc(f->cnt ? f->cnt : 1, sizeof(*work));
	size_t nwork = 0, i, succ[2];
	int err = 0, r, n, k;

	if (!in || !seen || !queued || !work) {
		err = -ENOMEM;
		goto out;
	}
	if (!f->cnt)
		goto out;
	for (r = 0; r < NR_REGS; r++)
		in[0].r[r] = scalar;
	for (i = 0; i < STACK_SLOTS; i++)
		in[0].slot[i] = scalar;
	in[0].r[BPF_REG_10] = (struct reg){ .k = K_STACK, .noff = 1,
					    .region = REGION_NONE };
	if (f->entry)
		in[0].r[1].k = K_CTX;
	else
		for (r = 1; r <= 5; r++)
			in[0].r[r] = f->args[r].k ? f->args[r] : scalar;
	seen[0] = queued[0] = true;
	work[nwork++] = 0;

	while (nwork) {
		struct astate st;

		i = work[--nwork];
		queued[i] = false;
		st = in[i];
		n = step(c, f, f->start + i, &st, false, succ);
		for (k = 0; k < n; k++) {
			size_t j = succ[k] - f->start;

			if (succ[k] < f->start || j >= f->cnt) {
				fprintf(stderr, "%s: %s %s insn %zu: jumps outside the function\n",
					c->path, f->entry ? "prog" : "subprog", f->name, i);
				err = -EINVAL;
				goto out;
			}
			if (!seen[j]) {
				seen[j] = true;
				in[j] = st;
			} else if (!state_join(&in[j], &st)) {
				continue;
			}
			if (!queued[j]) {
				queued[j] = true;
				work[nwork++] = j;
			}
		}
	}

	if (report) {
		for (i = 0; i < f->cnt; i++) {
			struct astate st = in[i];

			if (!seen[i])
				continue;
			if (c->debug && !strcmp(c->debug, f->name))
				dump_state(f, i, &st);
			step(c, f, f->start + i, &st, true, succ);
		}
	}
out:
	free(in);
	free(seen);
	free(queued);
	free(work);
	return err;
}

/* Mark every function reachable from the programs through calls. */
static void mark_reachable(struct checker *c)
{
	bool more = true;
	size_t i, j;

	while (more) {
		more = false;
		for (i = 0; i < c->nfuncs; i++) {
			struct func *f = &c->funcs[i];
			const struct bpf_insn *code = c->secs[f->sec].insns;

			if (!f->reachable)
				continue;
			for (j = f->start; j < f->start + f->cnt; j++) {
				const char *ext;
				struct func *t;

				if (code[j].code != (BPF_JMP | BPF_CALL) ||
				    code[j].src_reg != BPF_PSEUDO_CALL)
					continue;
				t = call_target(c, f->sec, j, code[j].imm, &ext);
				if (t && !t->reachable)
					t->reachable = more = true;
			}
		}
	}
}

static int check_code(struct checker *c, size_t *ninsns)
{
	int err, rounds = 0, pass;
	size_t i;

	mark_reachable(c);
	do {
		c->changed = false;
		for (i = 0; i < c->nfuncs; i++) {
			if (!c->funcs[i].reachable)
				continue;
			err = analyze(c, &c->funcs[i], false);
			if (err)
				return err;
		}
		if (++rounds > MAX_ROUNDS) {
			fprintf(stderr, "%s: analysis does not converge\n", c->path);
			return -EINVAL;
		}
	} while (c->changed);

	/* Report programs first, then the subprograms they call. */
	*ninsns = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->nfuncs; i++) {
			struct func *f = &c->funcs[i];

			if (!f->reachable || f->entry != (pass == 0))
				continue;
			*ninsns += f->cnt;
			err = analyze(c, f, true);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ---- maps ------------------------------------------------------------ */

static const char *const map_flag_names[] = {
	"BPF_F_NO_PREALLOC", "BPF_F_NO_COMMON_LRU", "BPF_F_NUMA_NODE",
	"BPF_F_RDONLY", "BPF_F_WRONLY", "BPF_F_STACK_BUILD_ID",
	"BPF_F_ZERO_SEED", "BPF_F_RDONLY_PROG", "BPF_F_WRONLY_PROG",
	"BPF_F_CLONE", "BPF_F_MMAPABLE", "BPF_F_PRESERVE_ELEMS",
	"BPF_F_INNER_MAP",
};

static void flag_names(__u32 flags, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < 32 && used < len; i++) {
		if (!(flags & (1U << i)))
			continue;
		if (i < ARRAY_SIZE(map_flag_names))
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "|" : "", map_flag_names[i]);
		else
			used += snprintf(buf + used, len - used, "%s0x%x",
					 used ? "|" : "", 1U << i);
	}
}

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int check_maps(struct checker *c)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	char flags[256];
	long err;

	obj = bpf_object__open_file(c->path, NULL);
	err = libbpf_get_error(obj);
	if (err) {
		char msg[128];

		libbpf_strerror((int)err, msg, sizeof(msg));
		fprintf(stderr, "%s: libbpf cannot open it: %s\n", c->path, msg);
		return (int)err;
	}
	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);
		const char *tname = libbpf_bpf_map_type_str(type);
		__u32 mf = bpf_map__map_flags(map);

		c->nmaps++;
		flag_names(mf, flags, sizeof(flags));
		if (bpf_map__is_internal(map)) {
			if (quiet)
				continue;
			fprintf(stderr, "%s: note: map %s is libbpf global data (%s, map_flags 0x%x%s%s%s), left to the offload loader\n",
				c->path, bpf_map__name(map), tname ? tname : "?", mf,
				mf ? " = " : "", flags, "");
			continue;
		}
		if (type != BPF_MAP_TYPE_HASH && type != BPF_MAP_TYPE_ARRAY) {
			fprintf(stderr, "%s: map %s: type %s (%d), not allowed in the offload profile (hash and array only)\n",
				c->path, bpf_map__name(map), tname ? tname : "unknown",
				type);
			c->violations++;
		}
		if (mf) {
			fprintf(stderr, "%s: map %s: map_flags 0x%x (%s), not allowed in the offload profile (no flags)\n",
				c->path, bpf_map__name(map), mf, flags);
			c->violations++;
		}
	}
	bpf_object__close(obj);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static void checker_free(struct checker *c)
{
	size_t i;

	for (i = 0; c->secs && i < c->nsecs; i++) {
		free(c->secs[i].insns);
		free(c->secs[i].rel);
	}
	free(c->secs);
	free(c->funcs);
	free(c->regions);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
}

/* 0: within the profile, 1: violations, 2: cannot check. */
static int check_object(const char *path)
{
	struct checker c = { .path = path, .fd = -1,
			     .debug = getenv("XFSM_OFFLOAD_CHECK_DEBUG") };
	size_t ninsns = 0, i;
	int ret = 2;

	c.fd = open(path, O_RDONLY);
	if (c.fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	if (load_elf(&c) || find_funcs(&c) || check_maps(&c) ||
	    check_code(&c, &ninsns))
		goto out;
	for (i = 0; !quiet && i < c.nregions; i++) {
		const struct region *g = &c.regions[i];

		if (g->global_data && g->used_by)
			fprintf(stderr, "%s: note: %s %s insn %zu addresses global data in %s directly (a map value address, BPF_PSEUDO_MAP_VALUE); the offload loader must support it\n",
				path, g->used_by->entry ? "prog" : "subprog",
				g->used_by->name, g->used_at, g->name);
	}
	if (c.violations) {
		fprintf(stderr, "%s: %d violation%s of the offload profile\n", path,
			c.violations, c.violations == 1 ? "" : "s");
		ret = 1;
	} else {
		if (!quiet)
			printf("%s: offload profile OK (%zu insns, %zu maps)\n",
			       path, ninsns, c.nmaps);
		ret = 0;
	}
out:
	checker_free(&c);
	return ret;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-q] OBJ.bpf.o...\n"
		"Checks that BPF objects stay inside the xfsm offload profile\n"
		"(docs/datapath.md).  One line per violation on stderr, exit 1;\n"
		"exit 2 when an object cannot be read.\n"
		"  -q  print violations only (no notes, no OK line)\n"
		"XFSM_OFFLOAD_CHECK_DEBUG=FUNC traces the pointer kinds in FUNC.\n",
		prog);
}

int main(int argc, char **argv)
{
	int opt, ret = 0, r;

	while ((opt = getopt(argc, argv, "qh")) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		fprintf(stderr, "libelf: %s\n", elf_errmsg(-1));
		return 2;
	}
	libbpf_set_print(silent_print);
	for (; optind < argc; optind++) {
		r = check_object(argv[optind]);
		if (r > ret)
			ret = r;
	}
	return ret;
}
