// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Differential runs of the generic and the specialized datapath (diff.h). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "diff.h"
#include "golden.h"
#include "xfsm_attach.h"
#include "xfsm_lang.h"
#include "apply_internal.h"

#define MS		1000000ULL
#define XD_N(a)		(sizeof(a) / sizeof((a)[0]))
#define XD_PORTS	4	/* ports 1..4 have a transmit device (lo) */
#define XD_RULES_MAX	512
#define XD_FLOWS_MAX	4096
#define XD_MAX_REPORTED	24	/* differing fields printed per packet */

/* ---- What is compared, field by field --------------------------------- */

struct xd_field {
	const char	*name;
	__u16		off;
	__u8		size;	/* 1, 2, 4 or 8 */
	__u8		loose;	/* a clock reading: both zero or both non-zero */
};

#define XF(s, f)	{ #f, offsetof(s, f), sizeof(((s *)0)->f), 0 }
#define XFL(s, f)	{ #f, offsetof(s, f), sizeof(((s *)0)->f), 1 }
/* xfsm_stats[0], the statistics block: every counter of struct
 * xfsm_stats, named by golden.c's table, then every stage entry's and every
 * port's (filled by xd_open()) */
#define XD_BLOCK_FIELDS	(N_STAT_FIELDS + XFSM_STAGE_STATS_SLOTS * 8 + XFSM_MAX_PORTS * 4)
static struct xd_field block_fields[XD_BLOCK_FIELDS];
static char block_names[XD_BLOCK_FIELDS][40];

static const struct xd_field stage_fields[] = {
	XF(struct xfsm_stage_stats, packets), XF(struct xfsm_stage_stats, bytes),
	XF(struct xfsm_stage_stats, hits), XF(struct xfsm_stage_stats, misses),
	XF(struct xfsm_stage_stats, flows_created),
	XF(struct xfsm_stage_stats, table_full),
	XF(struct xfsm_stage_stats, idle_expired),
	XF(struct xfsm_stage_stats, hard_expired),
};

static const struct xd_field pb_fields[] = {	/* rule stats, counters */
	XF(struct xfsm_rule_stats, packets), XF(struct xfsm_rule_stats, bytes),
};

static const struct xd_field port_fields[] = {
	XF(struct xfsm_port_stats, rx_packets), XF(struct xfsm_port_stats, rx_bytes),
	XF(struct xfsm_port_stats, tx_packets), XF(struct xfsm_port_stats, tx_bytes),
};

static const struct xd_field acl_fields[] = {
	XF(struct xfsm_acl_stats, packets), XF(struct xfsm_acl_stats, matched),
	XF(struct xfsm_acl_stats, allow), XF(struct xfsm_acl_stats, deny),
	XF(struct xfsm_acl_stats, go), XF(struct xfsm_acl_stats, pass),
	XF(struct xfsm_acl_stats, marked), XF(struct xfsm_acl_stats, missed),
};

#define XF_REG(s, a, i)	{ #a "[" #i "]", offsetof(s, a[i]), 8, 0 }

static const struct xd_field global_fields[] = {	/* the lock is not state */
	XF_REG(struct xfsm_globals, reg, 0), XF_REG(struct xfsm_globals, reg, 1),
	XF_REG(struct xfsm_globals, reg, 2), XF_REG(struct xfsm_globals, reg, 3),
	XF_REG(struct xfsm_globals, reg, 4), XF_REG(struct xfsm_globals, reg, 5),
	XF_REG(struct xfsm_globals, reg, 6), XF_REG(struct xfsm_globals, reg, 7),
};
_Static_assert(XFSM_GLOBAL_REGS == 8, "global_fields lists every global register");

static const struct xd_field flow_fields[] = {
	XF(struct xfsm_flow, version), XF(struct xfsm_flow, state),
	XF(struct xfsm_flow, idle_timeout_ms), XF(struct xfsm_flow, idle_rollback),
	XF(struct xfsm_flow, hard_rollback), XF(struct xfsm_flow, flags),
	XFL(struct xfsm_flow, hard_deadline_ns), XFL(struct xfsm_flow, last_seen_ns),
	XFL(struct xfsm_flow, created_ns),
	XF_REG(struct xfsm_flow, regs, 0), XF_REG(struct xfsm_flow, regs, 1),
	XF_REG(struct xfsm_flow, regs, 2), XF_REG(struct xfsm_flow, regs, 3),
};
_Static_assert(XFSM_FLOW_REGS == 4, "flow_fields lists every flow register");

/* Maps without a field table compare as words (member counts of a group,
 * the round-robin counters, the flow -> member table). */
struct xd_map {
	enum xfsm_map_id id;
	const struct xd_field *f;
	unsigned int	nf;
};

#define XM(i, t)	{ (i), (t), XD_N(t) }

static const struct xd_map xd_maps[] = {
	XM(XFSM_M_STATS, block_fields),
	XM(XFSM_M_STAGE_BASE, stage_fields),
	XM(XFSM_M_RULE_STATS, pb_fields),
	XM(XFSM_M_COUNTERS, pb_fields),
	XM(XFSM_M_GLOBALS, global_fields),
	XM(XFSM_M_ACL_STATS, acl_fields),
	XM(XFSM_M_FLOWS, flow_fields),
	XM(XFSM_M_FLOWS_N, flow_fields),
	XM(XFSM_M_FLOWS_M, flow_fields),
	{ XFSM_M_GROUP_STATS, NULL, 0 },
	{ XFSM_M_GROUP_RR, NULL, 0 },
	{ XFSM_M_GROUP_FLOWS, NULL, 0 },
};

/* ---- Reading a whole map ---------------------------------------------- */

struct xd_dump {
	__u32	ksz, vsz;	/* vsz: every CPU's value (8-byte strides) */
	__u32	usz;		/* one CPU's value as the map declares it */
	__u32	ncpu;		/* values per entry (1 unless per-CPU) */
	__u32	n, cap;
	uint8_t	*k, *v;
};

static int ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n > 0 ? n : 1;
}

static bool percpu_type(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int dump_grow(struct xd_dump *d, __u32 want)
{
	uint8_t *k, *v;

	if (want <= d->cap)
		return 0;
	k = realloc(d->k, (size_t)want * d->ksz);
	if (!k)
		return -ENOMEM;
	d->k = k;
	v = realloc(d->v, (size_t)want * d->vsz);
	if (!v)
		return -ENOMEM;
	d->v = v;
	d->cap = want;
	return 0;
}

static int key_cmp_sz;

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, key_cmp_sz);
}

/* Every entry of the map, keys sorted (arrays come in index order). */
static int dump_map(int fd, struct xd_dump *d)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info), count, i;
	bool array;
	uint8_t *kv;
	int err;

	d->n = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	d->ksz = info.key_size;
	d->usz = info.value_size;
	d->ncpu = percpu_type(info.type) ? ncpus() : 1;
	d->vsz = d->ncpu > 1 ? ((info.value_size + 7) & ~7U) * d->ncpu : info.value_size;
	array = info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY;
	if (array) {
		__u32 out = 0;

		if ((err = dump_grow(d, info.max_entries)))
			return err;
		count = info.max_entries;
		err = bpf_map_lookup_batch(fd, NULL, &out, d->k, d->v, &count, NULL);
		if (!err || (errno == ENOENT && count == info.max_entries)) {
			d->n = count;
			return 0;
		}
		for (i = 0; i < info.max_entries; i++) {	/* no batch ops */
			memcpy(d->k + (size_t)i * d->ksz, &i, sizeof(i));
			if (bpf_map_lookup_elem(fd, &i, d->v + (size_t)i * d->vsz))
				return -errno;
		}
		d->n = info.max_entries;
		return 0;
	}
	/* a hash: walk it (they hold few entries here), then sort */
	kv = malloc(d->ksz);
	if (!kv)
		return -ENOMEM;
	err = bpf_map_get_next_key(fd, NULL, kv);
	while (!err) {
		if ((err = dump_grow(d, d->n + 64)))
			break;
		memcpy(d->k + (size_t)d->n * d->ksz, kv, d->ksz);
		if (!bpf_map_lookup_elem(fd, kv, d->v + (size_t)d->n * d->vsz))
			d->n++;
		err = bpf_map_get_next_key(fd, kv, kv) ? -errno : 0;
	}
	free(kv);
	if (err && err != -ENOENT)
		return err;
	if (d->n > 1) {
		/* keep keys and values together: sort an index, then permute */
		uint8_t *k2 = malloc((size_t)d->n * d->ksz), *v2 = malloc((size_t)d->n * d->vsz);
		__u32 *idx = malloc(d->n * sizeof(*idx));

		if (!k2 || !v2 || !idx) {
			free(k2), free(v2), free(idx);
			return -ENOMEM;
		}
		/* sort pointers-by-index: pack key + index, qsort, unpack */
		{
			size_t rs = d->ksz + sizeof(__u32);
			uint8_t *rec = malloc(rs * d->n);

			if (!rec) {
				free(k2), free(v2), free(idx);
				return -ENOMEM;
			}
			for (i = 0; i < d->n; i++) {
				memcpy(rec + i * rs, d->k + (size_t)i * d->ksz, d->ksz);
				memcpy(rec + i * rs + d->ksz, &i, sizeof(i));
			}
			key_cmp_sz = d->ksz;
			qsort(rec, d->n, rs, key_cmp);
			for (i = 0; i < d->n; i++)
				memcpy(&idx[i], rec + i * rs + d->ksz, sizeof(__u32));
			free(rec);
		}
		for (i = 0; i < d->n; i++) {
			memcpy(k2 + (size_t)i * d->ksz, d->k + (size_t)idx[i] * d->ksz, d->ksz);
			memcpy(v2 + (size_t)i * d->vsz, d->v + (size_t)idx[i] * d->vsz, d->vsz);
		}
		memcpy(d->k, k2, (size_t)d->n * d->ksz);
		memcpy(d->v, v2, (size_t)d->n * d->vsz);
		free(k2), free(v2), free(idx);
	}
	return 0;
}

static void dump_free(struct xd_dump *d)
{
	free(d->k);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- Reports ---------------------------------------------------------- */

struct xd_report {
	unsigned int	n;	/* differences found */
	char		*buf;
	size_t		len, size;
};

static void rep(struct xd_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rep(struct xd_report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len + 256 > r->size) {
		size_t ns = r->size ? 2 * r->size : 4096;
		char *b = realloc(r->buf, ns);

		if (!b)
			return;
		r->buf = b;
		r->size = ns;
	}
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->size - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < r->size - r->len ? (size_t)n : r->size - r->len - 1;
}

static __u64 get_n(const uint8_t *p, unsigned int size)
{
	__u64 v = 0;

	switch (size) {
	case 1: v = *p; break;
	case 2: { __u16 x; memcpy(&x, p, 2); v = x; break; }
	case 4: { __u32 x; memcpy(&x, p, 4); v = x; break; }
	default: memcpy(&v, p, 8); break;
	}
	return v;
}

static void key_text(const struct xd_map *m, const uint8_t *k, __u32 ksz,
		     char *buf, size_t size)
{
	size_t o = 0;
	__u32 i;

	if (xfsm_flow_table_class_of_map(m->id)) {
		const struct xfsm_flow_key *fk = (const void *)k;	/* its head, if narrower */
		__u32 n = xfsm_flow_table_class_of_map(m->id)->words;

		o += snprintf(buf, size, "stage %u epoch %u key", fk->stage, fk->epoch);
		for (i = 0; i < n && o < size; i++)
			o += snprintf(buf + o, size - o, " %08x", fk->w[i]);
		return;
	}
	if (ksz == 4) {
		snprintf(buf, size, "%u", (unsigned int)get_n(k, 4));
		return;
	}
	for (i = 0; i < ksz && o + 3 < size; i++)
		o += snprintf(buf + o, size - o, "%02x", k[i]);
}

/* Compare one entry's values, every CPU's. */
static void cmp_value(struct xd_pair *p, struct xd_report *r, const struct xd_map *m,
		      const char *mname,
		      const char *key, const uint8_t *g, const uint8_t *s,
		      const struct xd_dump *d)
{
	__u32 stride = d->ncpu > 1 ? (d->usz + 7) & ~7U : d->usz, c, i;

	for (c = 0; c < d->ncpu; c++) {
		const uint8_t *gv = g + (size_t)c * stride, *sv = s + (size_t)c * stride;
		char cpu[16] = "";

		if (d->ncpu > 1)
			snprintf(cpu, sizeof(cpu), " cpu%u", c);
		if (!m->f) {
			for (i = 0; i + 4 <= d->usz; i += 4) {
				__u32 a = (__u32)get_n(gv + i, 4), b = (__u32)get_n(sv + i, 4);

				if (a != b && r->n++ < XD_MAX_REPORTED)
					rep(r, "  %s[%s]%s word %u: generic %u, specialized %u\n",
					    mname, key, cpu, i / 4, a, b);
			}
			continue;
		}
		for (i = 0; i < m->nf; i++) {
			const struct xd_field *f = &m->f[i];
			__u64 a, b;
			bool loose, differ;

			if (f->off + f->size > d->usz)
				continue;	/* past a compact flow (cmp_map()) */
			a = get_n(gv + f->off, f->size);
			b = get_n(sv + f->off, f->size);
			loose = f->loose || (p->loose_regs &&
				(m->id == XFSM_M_GLOBALS || !strncmp(f->name, "regs", 4)));
			differ = loose ? (!a != !b) : a != b;

			if (differ && r->n++ < XD_MAX_REPORTED)
				rep(r, "  %s[%s]%s .%s: generic %llu, specialized %llu%s\n",
				    mname, key, cpu, f->name, (unsigned long long)a,
				    (unsigned long long)b,
				    loose ? " (a time: compared as zero / non-zero)" : "");
		}
	}
}

/*
 * Count groups (xfsm/abi.h): the specialized program counts a set of
 * counters as one pair of the statistics block; libxfsm's readers add to
 * each counter what its groups counted since their slot's install and
 * what earlier installs folded (xfsm_cg_add()).  The harness compares
 * raw values CPU by CPU, so it adds the same to the specialized side's
 * dump of xfsm_stats or xfsm_rule_stats, on the CPU the packets run on
 * (xd_open_rules() pins them: the other CPUs count nothing), and the pairs
 * read as zero, as the generic side's do.  The counters concerned: those
 * either slot's table names, and those with a fold.
 */
struct cg_target {
	__u32	space, index;
};

static int cg_targets(struct xfsm_instance *inst, struct cg_target **out, size_t *n)
{
	struct xfsm_cg_table t = { 0 };
	struct xfsm_cg_fold_key k, next;
	struct cg_target *v = NULL, *nv;
	size_t cap = 0, i;
	__u32 slot;
	int err = 0, fd = inst->map_fd[XFSM_M_CG_FOLD];

	*n = 0;
#define CG_PUSH(sp, ix) do {							\
		if (*n == cap) {						\
			cap = cap ? 2 * cap : 64;				\
			if (!(nv = realloc(v, cap * sizeof(*v)))) {		\
				err = -ENOMEM;					\
				goto out;					\
			}							\
			v = nv;							\
		}								\
		v[(*n)++] = (struct cg_target){ (sp), (ix) };			\
	} while (0)
	for (slot = 0; slot < XFSM_APP_SLOTS; slot++) {
		if ((err = xfsm_cg_table_read(inst, slot, &t)))
			goto out;
		for (i = 0; i < t.n; i++)
			CG_PUSH(t.m[i].space, t.m[i].index);
		xfsm_cg_table_free(&t);
	}
	if (fd >= 0 && !bpf_map_get_next_key(fd, NULL, &next)) {
		do {
			k = next;
			if (k.space >= XFSM_CG_DATAPATH && k.space <= XFSM_CG_RULE)
				CG_PUSH(k.space, k.index);
		} while (!bpf_map_get_next_key(fd, &k, &next));
	}
#undef CG_PUSH
out:
	xfsm_cg_table_free(&t);
	if (err) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return err;
}

static int cg_apply(struct xd_pair *p, const struct xd_map *m, struct xd_dump *s)
{
	struct xfsm_instance *inst = p->spec.inst;
	size_t stride = (s->usz + 7) & ~(size_t)7, i, j, k;
	struct cg_target *tg = NULL;
	uint8_t *cpu;
	struct xfsm_stats_loc loc;
	__u64 add[XFSM_CG_FOLD_WORDS], seq, v;
	size_t n = 0, size;
	int err;

	if (m->id != XFSM_M_STATS && m->id != XFSM_M_RULE_STATS)
		return 0;
	if (inst->map_fd[XFSM_M_CG_FOLD] < 0 || !s->n)
		return 0;	/* no groups in this instance; no entries */
	cpu = s->v + (size_t)p->cpu * stride;
	if ((err = xfsm_cg_seq(inst, &seq)) || (err = cg_targets(inst, &tg, &n)))
		return err;
	for (i = 0; i < n && !err; i++) {
		uint8_t *dst;

		for (j = 0; j < i; j++)		/* each counter once */
			if (tg[j].space == tg[i].space && tg[j].index == tg[i].index)
				break;
		if (j < i)
			continue;
		if (m->id == XFSM_M_STATS && tg[i].space == XFSM_CG_DATAPATH) {
			dst = cpu;
			size = sizeof(struct xfsm_stats);
		} else if (m->id == XFSM_M_STATS && tg[i].space == XFSM_CG_STAGE) {
			if ((err = xfsm_stats_where(inst, XFSM_SK_STAGE, tg[i].index, &loc)))
				break;
			dst = cpu + loc.off;
			size = sizeof(struct xfsm_stage_stats);
		} else if (m->id == XFSM_M_RULE_STATS && tg[i].space == XFSM_CG_RULE &&
			   tg[i].index < s->n) {
			dst = s->v + (size_t)tg[i].index * s->vsz + (size_t)p->cpu * stride;
			size = sizeof(struct xfsm_rule_stats);
		} else {
			continue;
		}
		if (size > sizeof(add)) {
			err = -EPROTO;
			break;
		}
		memset(add, 0, size);
		if ((err = xfsm_cg_add(inst, seq, tg[i].space, tg[i].index, add, size)))
			break;
		for (k = 0; k < size / 8; k++) {
			memcpy(&v, dst + 8 * k, 8);
			v += add[k];
			memcpy(dst + 8 * k, &v, 8);
		}
	}
	if (!err && m->id == XFSM_M_STATS &&
	    !(err = xfsm_stats_where(inst, XFSM_SK_GROUPS, 0, &loc)))
		for (k = 0; k < s->ncpu; k++)
			memset(s->v + k * stride + loc.off, 0,
			       sizeof(((struct xfsm_stats_block *)0)->group));
	free(tg);
	return err;
}

static int cmp_map(struct xd_pair *p, const struct xd_map *m, struct xd_report *r)
{
	int gfd = p->gen.inst->map_fd[m->id], sfd = p->spec.inst->map_fd[m->id];
	const char *mname = xfsm_map_names[m->id];
	struct xd_dump g = { 0 }, s = { 0 };
	__u32 i = 0, j = 0;
	char key[160];
	int err;

	if (gfd < 0 && sfd < 0)
		return 0;
	if (gfd < 0 || sfd < 0) {
		r->n++;
		rep(r, "  %s: present in one instance only\n", mname);
		return 0;
	}
	if ((err = dump_map(gfd, &g)) || (err = dump_map(sfd, &s)) || (err = cg_apply(p, m, &s))) {
		fprintf(stderr, "diff: cannot read %s: %s\n", mname, strerror(-err));
		goto out;
	}
	if (g.usz != s.usz) {
		/* Instances of two flow value layouts (xd_open_layouts()): the
		 * compact one's fields are the full one's head, compared as
		 * such; anything else must have one size. */
		if (!xfsm_map_is_flow_table(mname) || g.ncpu != 1 || s.ncpu != 1) {
			r->n++;
			rep(r, "  %s: %u-byte values in the generic instance, %u in the specialized one\n",
			    mname, g.usz, s.usz);
			goto out;
		}
	}
	/* merge two key-sorted lists */
	while (i < g.n || j < s.n) {
		int c = i >= g.n ? 1 : j >= s.n ? -1 :
			memcmp(g.k + (size_t)i * g.ksz, s.k + (size_t)j * s.ksz, g.ksz);

		if (c < 0) {
			key_text(m, g.k + (size_t)i * g.ksz, g.ksz, key, sizeof(key));
			if (r->n++ < XD_MAX_REPORTED)
				rep(r, "  %s[%s]: only in the generic instance\n", mname, key);
			i++;
		} else if (c > 0) {
			key_text(m, s.k + (size_t)j * s.ksz, s.ksz, key, sizeof(key));
			if (r->n++ < XD_MAX_REPORTED)
				rep(r, "  %s[%s]: only in the specialized instance\n", mname, key);
			j++;
		} else {
			const uint8_t *gv = g.v + (size_t)i * g.vsz, *sv = s.v + (size_t)j * s.vsz;

			const struct xd_dump *small = g.usz <= s.usz ? &g : &s;

			if (memcmp(gv, sv, small->vsz)) {
				key_text(m, g.k + (size_t)i * g.ksz, g.ksz, key, sizeof(key));
				cmp_value(p, r, m, mname, key, gv, sv, small);
			}
			i++, j++;
		}
	}
out:
	dump_free(&g);
	dump_free(&s);
	return err;
}

/* ---- Packets in reports ----------------------------------------------- */

void xd_decode(const uint8_t *d, __u32 len, char *buf, size_t size)
{
	size_t o = 0;
	__u32 off = 14, l4 = 0, i;
	__u16 type;
	__u8 proto = 0;

#define OUT(...) do { if (o < size) o += snprintf(buf + o, size - o, __VA_ARGS__); } while (0)
	buf[0] = '\0';
	if (len < 14) {
		OUT("%u bytes, shorter than an Ethernet header", len);
		return;
	}
	OUT("eth %02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x",
	    d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]);
	type = pkt_get16(d + 12);
	for (i = 0; i < 3 && (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD); i++) {
		if (off + 4 > len) {
			OUT(" vlan (cut)");
			return;
		}
		OUT(" vlan %u", pkt_get16(d + off) & 0xfff);
		type = pkt_get16(d + off + 2);
		off += 4;
	}
	OUT(" type 0x%04x", type);
	if (type == ETHERTYPE_IP && off + 20 <= len) {
		__u8 ihl = (d[off] & 0xf) * 4;

		proto = d[off + 9];
		OUT(" ipv4 v%u ihl %u len %u ttl %u frag 0x%04x %u.%u.%u.%u > %u.%u.%u.%u proto %u",
		    d[off] >> 4, ihl, pkt_get16(d + off + 2), d[off + 8],
		    pkt_get16(d + off + 6), d[off + 12], d[off + 13], d[off + 14],
		    d[off + 15], d[off + 16], d[off + 17], d[off + 18], d[off + 19], proto);
		if (!(pkt_get16(d + off + 6) & 0x1fff))
			l4 = off + ihl;
	} else if (type == ETHERTYPE_IPV6 && off + 40 <= len) {
		proto = d[off + 6];
		OUT(" ipv6 plen %u hlim %u ...:%02x%02x > ...:%02x%02x next %u",
		    pkt_get16(d + off + 4), d[off + 7], d[off + 22], d[off + 23],
		    d[off + 38], d[off + 39], proto);
		l4 = off + 40;
		if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_ && proto != IPPROTO_ICMPV6_)
			l4 = 0;	/* extension headers: the hex says the rest */
	} else if (type == ETHERTYPE_ARP && off + 28 <= len) {
		OUT(" arp op %u %u.%u.%u.%u > %u.%u.%u.%u", pkt_get16(d + off + 6),
		    d[off + 14], d[off + 15], d[off + 16], d[off + 17],
		    d[off + 24], d[off + 25], d[off + 26], d[off + 27]);
	} else if (type == ETHERTYPE_IP || type == ETHERTYPE_IPV6 || type == ETHERTYPE_ARP) {
		OUT(" (header cut)");
	}
	if (l4 && l4 < len) {
		if (proto == IPPROTO_TCP_ && l4 + 14 <= len)
			OUT(" tcp %u > %u flags 0x%02x", pkt_get16(d + l4), pkt_get16(d + l4 + 2),
			    d[l4 + 13]);
		else if (proto == IPPROTO_UDP_ && l4 + 8 <= len)
			OUT(" udp %u > %u", pkt_get16(d + l4), pkt_get16(d + l4 + 2));
		else if ((proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_) && l4 + 2 <= len)
			OUT(" icmp type %u code %u", d[l4], d[l4 + 1]);
	}
	OUT(", %u bytes", len);
#undef OUT
}

static void print_hex(const uint8_t *d, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++)
		printf("%s%02x%s", i % 16 ? "" : "    ", d[i],
		       i % 16 == 15 || i + 1 == len ? "\n" : (i % 2 ? " " : ""));
}

/* ---- Setting up -------------------------------------------------------- */

__u32 xt_datapath_env(void)
{
	const char *e = getenv("XT_DATAPATH");

	if (!e || !*e || !strcmp(e, "generic"))
		return XFSM_DP_GENERIC;
	if (!strcmp(e, "specialized"))
		return XFSM_DP_SPECIALIZED;
	if (!strcmp(e, "auto"))
		return XFSM_DP_AUTO;
	fprintf(stderr, "XT_DATAPATH=%s: expected generic, auto or specialized\n", e);
	exit(2);
}

_Static_assert(sizeof(struct xfsm_stats_block) < 65536, "xd_field.off is 16 bits");
_Static_assert(XD_N(stage_fields) == 8 && XD_N(port_fields) == 4, "XD_BLOCK_FIELDS");

/* Fields `fields` (nf of them) of `count` array entries of `stride`
 * bytes from byte `base` of the block, named "what[i].field", from index
 * *n of block_fields on. */
static void block_array_fill(unsigned int *n, const char *what, const struct xd_field *fields,
			     unsigned int nf, size_t base, size_t stride, unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < count; i++)
		for (j = 0; j < nf; j++, (*n)++) {
			snprintf(block_names[*n], sizeof(block_names[*n]), "%s[%u].%s", what, i,
				 fields[j].name);
			block_fields[*n] = fields[j];
			block_fields[*n].name = block_names[*n];
			block_fields[*n].off = (__u16)(base + i * stride + fields[j].off);
		}
}

static void block_fields_fill(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < N_STAT_FIELDS; i++, n++)
		block_fields[n] = (struct xd_field){ stat_fields[i].name,
						     (__u16)stat_fields[i].off, 8, 0 };
	block_array_fill(&n, "stage", stage_fields, XD_N(stage_fields),
			 offsetof(struct xfsm_stats_block, stage), sizeof(struct xfsm_stage_stats),
			 XFSM_STAGE_STATS_SLOTS);
	block_array_fill(&n, "port", port_fields, XD_N(port_fields),
			 offsetof(struct xfsm_stats_block, port), sizeof(struct xfsm_port_stats),
			 XFSM_MAX_PORTS);
}

int xd_open(struct xd_pair *p, struct xd_summary *sum)
{
	return xd_open_rules(p, sum, XD_RULES_MAX);
}

int xd_open_rules(struct xd_pair *p, struct xd_summary *sum, __u32 rules_max)
{
	return xd_open_layouts(p, sum, rules_max, false, false);
}

int xd_open_layouts(struct xd_pair *p, struct xd_summary *sum, __u32 rules_max,
		    bool gen_compact, bool spec_compact)
{
	struct xt_opts o = { .profile = XT_NATIVE, .flows_max = XD_FLOWS_MAX,
			     .rules_max = rules_max };
	cpu_set_t set;
	int err;

	if (!rules_max)
		o.rules_max = XD_RULES_MAX;
	block_fields_fill();
	memset(p, 0, sizeof(*p));
	p->sum = sum;
	/* Round-robin groups count per CPU, and the test run happens on the
	 * caller's CPU: both instances must see the same one. */
	p->cpu = sched_getcpu();
	if (p->cpu < 0)
		p->cpu = 0;
	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	o.compact = gen_compact;
	if ((err = xt_open(&p->gen, &o)))
		return err;
	o.compact = spec_compact;
	if ((err = xt_open(&p->spec, &o))) {
		xt_close(&p->gen);
		return err;
	}
	return 0;
}

/* Add what the last application's packets did to the summary. */
static void account(struct xd_pair *p)
{
	struct xfsm_stage_stats ss;
	struct xfsm_stats st;
	__u32 i;

	if (!p->sum || !p->gen.inst || xfsm_read_stats(p->gen.inst, &st))
		return;
	p->sum->verdict[0] += st.verdict_pass;
	p->sum->verdict[1] += st.verdict_drop;
	p->sum->verdict[2] += st.verdict_tx;
	p->sum->verdict[3] += st.verdict_redirect;
	p->sum->malformed += st.malformed;
#define XD_ACT_SUM(n) p->sum->actions += st.act_##n;
	XFSM_ACTION_COUNTERS(XD_ACT_SUM)
#undef XD_ACT_SUM
	for (i = 0; i < XFSM_STAGE_STATS_SLOTS; i++) {
		if (xfsm_stats_read_raw(p->gen.inst, XFSM_SK_STAGE, i, &ss, sizeof(ss)))
			return;
		p->sum->rule_hits += ss.hits;
		p->sum->misses += ss.misses;
		p->sum->flows_created += ss.flows_created;
		p->sum->expired += ss.idle_expired + ss.hard_expired;
	}
}

void xd_begin(struct xd_pair *p, struct xd_summary *sum)
{
	p->sum = sum;
	p->quiet = p->both_generic = p->loose_regs = p->has_short_tmo = false;
	p->ran = p->specialized = false;
}

void xd_end(struct xd_pair *p)
{
	if (p->ran && p->sum)
		account(p);
	p->ran = false;
	p->sum = NULL;
}

void xd_close(struct xd_pair *p)
{
	xd_end(p);
	if (p->direct_fd > 0)
		close(p->direct_fd);
	p->direct_fd = 0;
	xt_close(&p->gen);
	xt_close(&p->spec);
}

static int prepare(struct xt *t)
{
	/* what xt_reset() leaves: both instances start each application
	 * from the same zeroes, whatever ran before */
	static const enum xfsm_map_id zero[] = {
		XFSM_M_GROUP_STATS, XFSM_M_GROUP_RR, XFSM_M_ACL_STATS,
	};
	int gf = t->inst->map_fd[XFSM_M_GROUP_FLOWS];
	struct xfsm_group_flow_key next;
	__u32 i;
	int err;

	if ((err = xt_reset(t)) || (err = xt_set_port(t, 1, 1)))
		return err;
	for (i = 0; i < XD_N(zero); i++)
		if (t->inst->map_fd[zero[i]] >= 0 &&
		    (err = xfsm_array_zero(t->inst, zero[i], 0, t->inst->map_max_entries[zero[i]])))
			return err;
	while (gf >= 0 && !bpf_map_get_next_key(gf, NULL, &next))
		if (bpf_map_delete_elem(gf, &next))
			return -errno;
	for (i = 1; i <= XD_PORTS; i++) {
		/* port 4 is down: groups with it as a member skip it */
		__u32 flags = i == XD_PORTS ? XFSM_PORT_F_DOWN : 0;

		if ((err = xt_set_tx_port(t, i, 1)))
			return err;
		if (t->inst->map_fd[XFSM_M_PORT_FLAGS] >= 0 &&
		    bpf_map_update_elem(t->inst->map_fd[XFSM_M_PORT_FLAGS], &i, &flags, BPF_ANY))
			return -errno;
	}
	return 0;
}

static char log_buf[1024];

static void log_capture(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl <= XFSM_LOG_WARN)
		snprintf(log_buf, sizeof(log_buf), "%s", msg);
}

static int lang_apply(struct xt *t, const struct xfsm_image *img,
		      const struct xfsm_app_names *nm, __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .force = true,
		  .datapath = datapath, .unchecked_ports = true);
	int err;

	log_buf[0] = '\0';
	xfsm_set_log(log_capture);
	err = xfsm_lang_apply(t->inst, img, nm, &o);
	xfsm_set_log(NULL);
	return err == XFSM_APPLY_UNCHANGED ? 0 : err;
}

static int active_slot(struct xt *t, __u32 *slot)
{
	struct xfsm_ctl ctl;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &ctl))
		return -errno;
	*slot = ctl.active & 1;
	return 0;
}

/* The program id in xfsm_progs[i], 0 when the entry is empty. */
static __u32 progs_entry(struct xt *t, __u32 i)
{
	__u32 id = 0;

	if (t->inst->map_fd[XFSM_M_PROGS] < 0 ||
	    bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_PROGS], &i, &id))
		return 0;
	return id;
}

static void count_reason(struct xd_summary *s, const char *why)
{
	unsigned int i;
	char key[160];

	const char *last = why, *c;

	/* "cannot run ...: stage S, rule R, action A: WHAT": one cause
	 * counts once, whichever stage and rule it was met in */
	while ((c = strstr(last, ": ")))
		last = c + 2;
	snprintf(key, sizeof(key), "%.159s", *last ? last : "(no message)");
	for (i = 0; i < s->n_reasons; i++)
		if (!strcmp(s->reason[i].why, key)) {
			s->reason[i].n++;
			return;
		}
	if (s->n_reasons == XD_REASONS) {
		s->reasons_other++;
		return;
	}
	memcpy(s->reason[s->n_reasons].why, key, sizeof(key));
	s->reason[s->n_reasons++].n = 1;
}

/*
 * The specialized instance must run its generated program: xfsm_progs of
 * the active slot holds it, and the entry program dispatches to it.  The
 * dispatch is checked by swapping a probe program (returns XDP_ABORTED,
 * touches nothing) into that entry for one packet: the entry program's
 * own datapath would never return XDP_ABORTED nor leave rx_packets
 * unmoved.  Then the generated program goes back.
 */
static int check_dispatch(struct xd_pair *p, __u32 slot)
{
	struct bpf_insn probe[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_ABORTED },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int pfd, sfd = -1, mfd = p->spec.inst->map_fd[XFSM_M_PROGS], err;
	struct xfsm_stats before, after;
	struct xt_result *r = malloc(sizeof(*r));
	struct pkt *pk = malloc(sizeof(*pk));

	if (!r || !pk) {
		free(r), free(pk);
		return -ENOMEM;
	}
	/* as every program entering xfsm_progs */
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .expected_attach_type = XFSM_PROGS_ATTACH_TYPE);

	pfd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xd_probe", "Dual BSD/GPL", probe,
			    XD_N(probe), &lo);
	if (pfd < 0) {
		err = -errno;
		printf("diff: cannot load the probe program: %s\n", strerror(-err));
		goto out;
	}
	/* hold the generated program while the probe takes its place */
	sfd = bpf_prog_get_fd_by_id(p->spec_prog_id);
	if (sfd < 0) {
		err = -errno;
		printf("diff: program %u: %s\n", p->spec_prog_id, strerror(-err));
		goto out;
	}
	pkt_init(pk);
	pkt_eth(pk, TEST_MAC(2), TEST_MAC(1), 0);
	pkt_ip4(pk, &(struct ip4_args){ .src = TEST_IP4(1), .dst = TEST_IP4(2) });
	pkt_udp(pk, 1, 2);
	pkt_finish(pk);
	if ((err = xfsm_read_stats(p->spec.inst, &before)))
		goto out;
	if (bpf_map_update_elem(mfd, &slot, &pfd, BPF_ANY)) {
		err = -errno;
		printf("diff: cannot put the probe program into %s[%u]: %s\n", XFSM_MAP_PROGS,
		       slot, strerror(-err));
		goto out;
	}
	err = xt_run_pkt(&p->spec, pk, 0, r);
	if (bpf_map_update_elem(mfd, &slot, &sfd, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "diff: cannot put the generated program back: %s\n",
			strerror(errno));
		goto out;
	}
	if (err)
		goto out;
	if ((err = xfsm_read_stats(p->spec.inst, &after)))
		goto out;
	if (r->verdict != XDP_ABORTED || after.rx_packets != before.rx_packets) {
		if (!p->quiet)
			printf("diff: %s: the entry program does not dispatch to xfsm_progs[%u] "
			       "(a probe there: verdict %s, rx_packets %llu -> %llu)\n", p->name,
			       slot, xt_verdict_name(r->verdict),
			       (unsigned long long)before.rx_packets,
			       (unsigned long long)after.rx_packets);
		err = -EPROTO;
	}
out:
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	free(r), free(pk);
	return err;
}

/*
 * The maps are compared key by key, so both instances must count each
 * named stage, rule and counter at the same statistics index and key each
 * stage's flows with the same epoch: what their past applications
 * decided (lib/stat_ids.c, lib/apply.c).  They do when both have made the
 * same applications; an instance given one of its own (a test's) would
 * have every later difference compared across different objects, so that
 * is refused here rather than reported as differences.
 */
static int same_history(struct xd_pair *p)
{
	struct xfsm_stat_idents a = { 0 }, b = { 0 };
	struct xfsm_app *ga = malloc(sizeof(*ga)), *sa = malloc(sizeof(*sa));
	__u32 gs = xt_active_slot(&p->gen), ss = xt_active_slot(&p->spec), s;
	const char *what = NULL;
	size_t i;
	int err;

	err = !ga || !sa ? -ENOMEM :
	      xfsm_read_stat_idents(p->gen.inst, &a) ?: xfsm_read_stat_idents(p->spec.inst, &b);
	if (!err && (bpf_map_lookup_elem(p->gen.inst->map_fd[XFSM_M_APPS], &gs, ga) ||
		     bpf_map_lookup_elem(p->spec.inst->map_fd[XFSM_M_APPS], &ss, sa)))
		err = -errno;
	if (err) {
		printf("diff: %s: cannot read the instances' histories: %s\n", p->name, strerror(-err));
		goto out;
	}
	if (gs != ss)
		what = "the application slot";
	for (s = 0; !what && s < ga->n_stages && s < XFSM_MAX_STAGES; s++)
		if (ga->stages[s].epoch != sa->stages[s].epoch)
			what = "a stage's epoch";
	if (!what && a.n != b.n)
		what = "the statistics identities";
	for (i = 0; !what && i < a.n; i++)
		if (a.v[i].index != b.v[i].index)
			what = "a statistics index";
	if (what) {
		if (!p->quiet)
			printf("diff: %s: the instances' histories differ (%s): an application was applied to one alone\n",
			       p->name, what);
		err = -EPROTO;
	}
out:
	xfsm_stat_idents_free(&a);
	xfsm_stat_idents_free(&b);
	free(ga), free(sa);
	return err;
}

int xd_apply_source(struct xd_pair *p, const char *name, const char *text, size_t len)
{
	struct xfsm_image img;
	struct xfsm_app_names nm;
	char err_text[512];
	__u32 slot = 0;
	int err;

	if (p->ran)
		account(p);
	p->ran = false;
	p->name = name;
	p->src = text;
	p->src_len = len;
	p->specialized = false;
	p->spec_prog_id = 0;
	if (p->direct_fd > 0)
		close(p->direct_fd);
	p->direct_fd = 0;
	p->why[0] = '\0';
	memset(&nm, 0, sizeof(nm));
	err = xfsm_compile_string(name, text, len, &img, &nm, err_text, sizeof(err_text));
	if (err) {
		if (!p->quiet)
			printf("diff: %s does not compile: %s\n", name, err_text);
		if (p->sum)
			p->sum->compile_errors++;
		goto out;
	}
	if ((err = prepare(&p->gen)) || (err = prepare(&p->spec)))
		goto out;
	err = lang_apply(&p->gen, &img, &nm, XFSM_DP_GENERIC);
	if (err) {
		printf("diff: %s: generic apply failed: %s (%s)\n", name, strerror(-err), log_buf);
		goto out;
	}
	if (p->both_generic ||
	    (getenv("XT_DIFF_AGAINST") && !strcmp(getenv("XT_DIFF_AGAINST"), "generic"))) {
		/* a check of the runner itself: both sides generic must never
		 * differ; it counts nothing as specialized */
		err = lang_apply(&p->spec, &img, &nm, XFSM_DP_GENERIC);
		if (!err)
			err = same_history(p);
		if (!err && p->sum)
			p->sum->apps++;
		p->ran = !err;
		p->epoch_ns = xfsm_now_ns();
		goto out;
	}
	err = lang_apply(&p->spec, &img, &nm, XFSM_DP_SPECIALIZED);
	if (err == -EOPNOTSUPP || err == -E2BIG) {
		/* refused by the generator: nothing to compare */
		snprintf(p->why, sizeof(p->why), "%s", log_buf[0] ? log_buf : strerror(-err));
		/* both instances keep making the same switches (slots, epochs,
		 * statistics ids), so that the next application compares */
		if (lang_apply(&p->spec, &img, &nm, XFSM_DP_GENERIC))
			printf("diff: %s: generic apply on the second instance failed: %s\n",
			       name, log_buf);
		if (p->sum) {
			p->sum->apps++;
			p->sum->generic++;
			count_reason(p->sum, p->why);
		}
		err = 1;
		goto out;
	}
	if (err) {
		printf("diff: %s: specialized apply failed: %s (%s)\n", name, strerror(-err),
		       log_buf);
		goto out;
	}
	if (p->sum)
		p->sum->apps++;
	/* both run the same application, each its own way */
	if ((err = active_slot(&p->gen, &slot)))
		goto out;
	if (progs_entry(&p->gen, slot)) {
		printf("diff: %s: applied with the generic datapath, yet xfsm_progs[%u] holds program %u\n",
		       name, slot, progs_entry(&p->gen, slot));
		err = -EPROTO;
		goto out;
	}
	if ((err = active_slot(&p->spec, &slot)))
		goto out;
	p->spec_prog_id = progs_entry(&p->spec, slot);
	if (!p->spec_prog_id) {
		printf("diff: %s: applied with the specialized datapath, yet xfsm_progs[%u] is empty\n",
		       name, slot);
		err = -EPROTO;
		goto out;
	}
	if (progs_entry(&p->spec, XFSM_PROGS_GENERIC) == 0) {
		printf("diff: %s: xfsm_progs[%u] (the generic program a specialized one bails to) is empty\n",
		       name, XFSM_PROGS_GENERIC);
		err = -EPROTO;
		goto out;
	}
	if ((err = check_dispatch(p, slot)) || (err = same_history(p)))
		goto out;
	p->direct_fd = bpf_prog_get_fd_by_id(p->spec_prog_id);
	if (p->direct_fd < 0) {
		err = -errno;
		printf("diff: program %u: %s\n", p->spec_prog_id, strerror(-err));
		p->direct_fd = 0;
		goto out;
	}
	p->specialized = true;
	p->ran = true;
	if (p->sum)
		p->sum->specialized++;
	p->epoch_ns = xfsm_now_ns();
out:
	xfsm_image_free(&img);
	xfsm_app_names_free(&nm);
	return err;
}

/* ---- Running ------------------------------------------------------------ */

static void common_sleep(struct xd_pair *p)
{
	usleep((XD_TMO_MAX_MS + 5) * 1000);
	p->epoch_ns = xfsm_now_ns();
	if (p->sum)
		p->sum->sleeps++;
}

int xd_run(struct xd_pair *p, const uint8_t *data, __u32 len, __u32 ifindex,
	   __u32 wait_ms)
{
	struct xt_result *g = NULL, *s = NULL;
	struct xd_report r = { 0 };
	unsigned int i;
	char dec[512];
	__u64 t1;
	int err = 0;

	if (wait_ms)
		common_sleep(p);
	else if (p->has_short_tmo && xfsm_now_ns() - p->epoch_ns > XD_TMO_MIN_MS * MS / 2)
		common_sleep(p);
	g = malloc(sizeof(*g));
	s = malloc(sizeof(*s));
	if (!g || !s) {
		err = -ENOMEM;
		goto out;
	}
	xt_run(&p->gen, data, len, ifindex, g);
	if (p->direct_fd > 0 && (p->runs++ & 1)) {
		struct xt direct = p->spec;

		direct.prog_fd = p->direct_fd;
		xt_run(&direct, data, len, ifindex, s);
	} else {
		xt_run(&p->spec, data, len, ifindex, s);
	}
	t1 = xfsm_now_ns();
	if (p->has_short_tmo && t1 - p->epoch_ns >= XD_TMO_MIN_MS * MS) {
		/* a deadline may lie between the two runs */
		if (p->sum)
			p->sum->ambiguous++;
		err = 2;
		goto out;
	}
	if (p->sum)
		p->sum->packets++;
	if (g->err != s->err) {
		r.n++;
		rep(&r, "  test run: generic %s, specialized %s\n", strerror(-g->err),
		    strerror(-s->err));
	}
	if (g->verdict != s->verdict) {
		r.n++;
		rep(&r, "  verdict: generic %s, specialized %s\n", xt_verdict_name(g->verdict),
		    xt_verdict_name(s->verdict));
	}
	if (g->len != s->len || memcmp(g->data, s->data, g->len)) {
		char hd[4096];

		r.n++;
		pkt_hexdiff(g->data, g->len, s->data, s->len, hd, sizeof(hd));
		rep(&r, "  output bytes differ (generic %u bytes, specialized %u):\n%s\n",
		    g->len, s->len, hd);
	}
	for (i = 0; i < XD_N(xd_maps); i++)
		if ((err = cmp_map(p, &xd_maps[i], &r)))
			goto out;
	if (r.n) {
		if (p->sum)
			p->sum->diffs++;
		if (!p->quiet) {
			xd_decode(data, len, dec, sizeof(dec));
			printf("DIFFERENCE: application %s, packet (ingress ifindex %u%s): %s\n",
			       p->name, ifindex, wait_ms ? ", after a sleep" : "", dec);
			print_hex(data, len);
			printf("%s", r.buf ? r.buf : "");
			if (r.n > XD_MAX_REPORTED)
				printf("  ... %u more differences\n", r.n - XD_MAX_REPORTED);
		}
		err = 1;
	}
out:
	free(r.buf);
	free(g);
	free(s);
	return err;
}

void xd_summary_print(const struct xd_summary *s, const char *what)
{
	unsigned int i;

	printf("%s: %lu applications, %lu specialized, %lu generic (refused), "
	       "%lu packets compared, %lu differences, %lu sequences cut short by the clock, "
	       "%lu sleeps, %lu generated texts refused by the compiler\n",
	       what, s->apps, s->specialized, s->generic, s->packets, s->diffs, s->ambiguous,
	       s->sleeps, s->compile_errors);
	printf("%s: the packets compared: verdicts pass %lu, drop %lu, tx %lu, redirect %lu; "
	       "malformed %lu, rule hits %lu, misses %lu, actions %lu, flows created %lu, "
	       "timeouts fired %lu\n", what, s->verdict[0], s->verdict[1], s->verdict[2],
	       s->verdict[3], s->malformed, s->rule_hits, s->misses, s->actions,
	       s->flows_created, s->expired);
	for (i = 0; i < s->n_reasons; i++)
		printf("  generic: %s: %lu\n", s->reason[i].why, s->reason[i].n);
	if (getenv("XT_DIFF_OMIT") && *getenv("XT_DIFF_OMIT"))
		printf("%s: generated applications without: %s (XT_DIFF_OMIT)\n", what,
		       getenv("XT_DIFF_OMIT"));
	if (s->reasons_other)
		printf("  generic: other reasons: %lu\n", s->reasons_other);
}
