// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The instruction buffer of generated programs (lib/codegen/emit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "xfsm/abi.h"
#include "codegen/emit.h"

void xfsm_emit_init(struct xfsm_emit *e)
{
	memset(e, 0, sizeof(*e));
}

void xfsm_emit_free(struct xfsm_emit *e)
{
	free(e->insn);
	free(e->note);
	free(e->label);
	free(e->fix);
	xfsm_emit_init(e);
}

void xfsm_emit_fail(struct xfsm_emit *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e->err)
		return;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

/* Room for one more element of `size` bytes in *arr (n used, *cap). */
static bool grow(struct xfsm_emit *e, void **arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (e->err)
		return false;
	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 256;
	p = realloc(*arr, ncap * size);
	if (!p) {
		xfsm_emit_fail(e, -ENOMEM, "out of memory generating the program");
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

void xfsm_emit(struct xfsm_emit *e, struct bpf_insn i)
{
	if (e->n >= XFSM_EMIT_MAX_INSNS) {
		xfsm_emit_fail(e, -E2BIG, "the program would exceed %d instructions",
			       XFSM_EMIT_MAX_INSNS);
		return;
	}
	if (!grow(e, (void **)&e->insn, e->n, &e->cap, sizeof(*e->insn)))
		return;
	e->insn[e->n++] = i;
}

void xfsm_emit_imm64(struct xfsm_emit *e, int dst, __u64 v)
{
	xfsm_emit(e, XI_LD_IMM64_LO(dst, 0, v));
	xfsm_emit(e, XI_LD_IMM64_HI(v));
}

void xfsm_emit_map(struct xfsm_emit *e, int dst, int map_fd)
{
	if (map_fd < 0) {
		xfsm_emit_fail(e, -ENOENT, "a map the program needs is missing");
		return;
	}
	xfsm_emit(e, XI_LD_IMM64_LO(dst, BPF_PSEUDO_MAP_FD, map_fd));
	xfsm_emit(e, XI_LD_IMM64_HI(0));
}

unsigned int xfsm_emit_label(struct xfsm_emit *e)
{
	if (!grow(e, (void **)&e->label, e->n_label, &e->cap_label, sizeof(*e->label)))
		return 0;
	e->label[e->n_label] = -1;
	return e->n_label++;
}

void xfsm_emit_bind(struct xfsm_emit *e, unsigned int label)
{
	if (e->err)
		return;
	if (label >= e->n_label || e->label[label] >= 0) {
		xfsm_emit_fail(e, -EINVAL, "generator bug: label %u bound twice or unknown",
			       label);
		return;
	}
	e->label[label] = (int)e->n;
}

static void jump_to(struct xfsm_emit *e, struct bpf_insn i, unsigned int label)
{
	if (!grow(e, (void **)&e->fix, e->n_fix, &e->cap_fix, sizeof(*e->fix)))
		return;
	e->fix[e->n_fix].insn = e->n;
	e->fix[e->n_fix].label = label;
	e->n_fix++;
	xfsm_emit(e, i);
}

void xfsm_emit_jmp_reg(struct xfsm_emit *e, __u8 code, int dst, int src, unsigned int label)
{
	jump_to(e, XI((code & ~BPF_K) | BPF_X, dst, src, 0, 0), label);
}

void xfsm_emit_jmp_imm(struct xfsm_emit *e, __u8 code, int dst, __s32 imm, unsigned int label)
{
	jump_to(e, XI((code & ~BPF_X) | BPF_K, dst, 0, 0, imm), label);
}

void xfsm_emit_ja(struct xfsm_emit *e, unsigned int label)
{
	jump_to(e, XI_JA(0), label);
}

void xfsm_emit_note(struct xfsm_emit *e, unsigned int depth, const char *fmt, ...)
{
	struct xfsm_emit_note *n;
	va_list ap;

	if (!grow(e, (void **)&e->note, e->n_note, &e->cap_note, sizeof(*e->note)))
		return;
	n = &e->note[e->n_note++];
	n->insn = e->n;
	n->depth = depth;
	va_start(ap, fmt);
	vsnprintf(n->text, sizeof(n->text), fmt, ap);
	va_end(ap);
}

static bool is_ld_imm64(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_DW | BPF_IMM);
}

/* A jump with an offset (not a call, not exit)? */
static bool is_jump(const struct bpf_insn *i)
{
	__u8 cls = BPF_CLASS(i->code), op = BPF_OP(i->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

/*
 * Drop the instructions no path reaches (the verifier refuses them, and
 * a generator that ends every branch with its own verdict leaves some,
 * e.g. a pipeline's default verdict after stages that all end the
 * packet), keeping jumps and notes pointing where they did.  `target`
 * holds each jump's destination index.
 */
static int prune(struct xfsm_emit *e, long *target)
{
	size_t n = e->n, i, top = 0, k;
	unsigned char *live = calloc(n + 1, 1);
	size_t *stack = calloc(n + 1, sizeof(*stack)), *newidx = calloc(n + 1, sizeof(*newidx));
	int err = 0;

	if (!live || !stack || !newidx) {
		err = -ENOMEM;
		goto out;
	}
	stack[top++] = 0;
	while (top) {
		i = stack[--top];
		if (i >= n || live[i])
			continue;
		live[i] = 1;
		if (is_ld_imm64(&e->insn[i])) {
			if (i + 1 < n)
				live[i + 1] = 1;
			stack[top++] = i + 2;
			continue;
		}
		if (e->insn[i].code == (BPF_JMP | BPF_EXIT))
			continue;
		if (is_jump(&e->insn[i])) {
			stack[top++] = (size_t)target[i];
			if (BPF_OP(e->insn[i].code) == BPF_JA)
				continue;
		}
		stack[top++] = i + 1;
	}
	for (i = 0, k = 0; i <= n; i++) {
		newidx[i] = k;
		if (i < n && live[i])
			k++;
	}
	for (i = 0; i < n; i++) {
		long off;

		if (!live[i])
			continue;
		if (is_jump(&e->insn[i]) && !(i > 0 && live[i - 1] && is_ld_imm64(&e->insn[i - 1]))) {
			off = (long)newidx[target[i]] - (long)newidx[i] - 1;
			if (off < -32768 || off > 32767) {
				xfsm_emit_fail(e, -E2BIG,
					       "a jump of %ld instructions is too long for one instruction",
					       off);
				err = e->err;
				goto out;
			}
			e->insn[i].off = (__s16)off;
		}
		e->insn[newidx[i]] = e->insn[i];
	}
	for (i = 0; i < e->n_note; i++)
		e->note[i].insn = newidx[e->note[i].insn < n ? e->note[i].insn : n];
	e->n = k;
out:
	free(live);
	free(stack);
	free(newidx);
	return err;
}

int xfsm_emit_finish(struct xfsm_emit *e)
{
	long *target = NULL;
	size_t i;

	if (e->err)
		return e->err;
	target = calloc(e->n + 1, sizeof(*target));
	if (!target) {
		xfsm_emit_fail(e, -ENOMEM, "out of memory generating the program");
		return e->err;
	}
	/* every jump of a generated program goes to a label */
	for (i = 0; i < e->n; i++)
		target[i] = (long)i + 1 + e->insn[i].off;
	for (i = 0; !e->err && i < e->n_fix; i++) {
		const struct xfsm_emit_fix *f = &e->fix[i];

		if (f->label >= e->n_label || e->label[f->label] < 0) {
			xfsm_emit_fail(e, -EINVAL, "generator bug: label %u never placed",
				       f->label);
			break;
		}
		target[f->insn] = e->label[f->label];
	}
	if (!e->err && (!e->n || (e->insn[e->n - 1].code != (BPF_JMP | BPF_EXIT) &&
				  e->insn[e->n - 1].code != (BPF_JMP | BPF_JA))))
		xfsm_emit_fail(e, -EINVAL, "generator bug: the program does not end in exit");
	if (!e->err)
		prune(e, target);
	free(target);
	return e->err;
}

/* The verifier's complaint: its last lines, without the statistics it
 * ends every log with ("processed N insns ...", "verification time"). */
static void log_tail(struct xfsm_emit *e, char *log, int err)
{
	size_t len = strlen(log);
	const char *p;
	int lines = 0;

	for (;;) {
		char *nl;

		while (len && log[len - 1] == '\n')
			log[--len] = '\0';
		nl = strrchr(log, '\n');
		p = nl ? nl + 1 : log;
		if (nl && (!strncmp(p, "processed ", 10) || !strncmp(p, "verification time", 17) ||
			   !strncmp(p, "stack depth", 11))) {
			*nl = '\0';
			len = nl - log;
			continue;
		}
		break;
	}
	p = log + len;
	while (p > log && lines < 2) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	snprintf(e->why, sizeof(e->why), "the verifier refused it (%s): %.200s",
		 strerror(-err), p);
	for (char *c = e->why; *c; c++)
		if (*c == '\n')
			*c = ' ';
	if (getenv("XFSM_SPEC_VLOG"))	/* debugging the generator: the whole log */
		fprintf(stderr, "%s\n", log);
}

int xfsm_emit_load(struct xfsm_emit *e, const char *name)
{
	/* the attach type of every program sharing xfsm_progs (the kernel
	 * refuses a tail call between unlike programs) */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = XFSM_PROGS_ATTACH_TYPE);
	size_t log_size = 1 << 20;
	char *log = NULL;
	int fd;

	if (e->err)
		return e->err;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", e->insn, e->n, &opts);
	if (fd >= 0)
		return fd;
	fd = -errno;
	/* Again with the log, only to say why: the log costs time. */
	log = calloc(1, log_size);
	if (log) {
		opts.log_buf = log;
		opts.log_size = log_size;
		opts.log_level = 1;
		int again = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", e->insn, e->n, &opts);

		if (again >= 0) {	/* a transient failure (memory) */
			free(log);
			return again;
		}
		log_tail(e, log, -errno);
	} else {
		snprintf(e->why, sizeof(e->why), "the kernel refused it: %s", strerror(-fd));
	}
	free(log);
	e->err = fd;
	return fd;
}
