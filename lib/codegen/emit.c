// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The instruction buffer of generated programs (lib/codegen/emit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

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

int xfsm_emit_finish(struct xfsm_emit *e)
{
	size_t i;

	for (i = 0; !e->err && i < e->n_fix; i++) {
		const struct xfsm_emit_fix *f = &e->fix[i];
		long off;

		if (f->label >= e->n_label || e->label[f->label] < 0) {
			xfsm_emit_fail(e, -EINVAL, "generator bug: label %u never placed",
				       f->label);
			break;
		}
		off = (long)e->label[f->label] - (long)f->insn - 1;
		if (off < -32768 || off > 32767) {
			xfsm_emit_fail(e, -E2BIG,
				       "a jump of %ld instructions is too long for one instruction",
				       off);
			break;
		}
		e->insn[f->insn].off = (__s16)off;
	}
	if (!e->err && (!e->n || (e->insn[e->n - 1].code != (BPF_JMP | BPF_EXIT) &&
				  e->insn[e->n - 1].code != (BPF_JMP | BPF_JA))))
		xfsm_emit_fail(e, -EINVAL, "generator bug: the program does not end in exit");
	return e->err;
}

/* The verifier's last complete lines, which say what it refused. */
static void log_tail(struct xfsm_emit *e, const char *log, int err)
{
	size_t len = strlen(log);
	const char *p = log + len;
	int lines = 0;

	while (p > log && lines < 3) {
		p--;
		if (*p == '\n' && p + 1 < log + len)
			lines++;
	}
	if (*p == '\n')
		p++;
	snprintf(e->why, sizeof(e->why), "the verifier refused it (%s): %.200s",
		 strerror(-err), p);
	for (char *c = e->why; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

int xfsm_emit_load(struct xfsm_emit *e, const char *name)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
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
