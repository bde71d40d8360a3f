/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Statistics identities: which statistics index each named stage, rule and
 * counter of an application counts into.
 *
 * Counters belong to the named object, not to its position: an object
 * that the next application still has (same kind, same name) keeps its
 * index and so its counts; a new one gets an index nobody uses, zeroed
 * before the switch; one that is gone keeps its index only until the
 * switch, and the index is free for a later application.  Exact: no
 * counter is ever copied or zeroed while a packet may add to it.
 *
 * Each application slot has its table, written with the slot before the
 * switch, as a byte string in the xfsm_ids map (chunks keyed by slot and
 * number), so that every tool finds the running application's table in
 * the instance's pins:
 *
 *	header	magic, version, generation of the slot's application, record
 *		count, byte length, the globals the application sets
 *	records	kind, name length, index, pos, n, name (padded to 4 bytes)
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "apply_internal.h"

#define IDS_MAGIC	0x44495358U	/* "XSID" */
#define IDS_VERSION	1

struct ids_hdr {
	__u32	magic;
	__u32	version;
	__u32	generation;
	__u32	n;		/* records */
	__u32	bytes;		/* header and records */
	__u32	globals_set;	/* pending global register values: mask */
	__u32	reset_globals;	/* 1: registers not in the mask become 0 */
	__u32	flags;		/* XFSM_SLOT_* (0 in records of older libraries) */
	__u64	globals[XFSM_GLOBAL_REGS];
};

struct ids_rec {
	__u8	kind;
	__u8	len;		/* name bytes, without a terminator */
	__u16	pad;
	__u32	index;
	__u32	pos;
	__u32	n;
	/* name[len], padded to 4 bytes */
};

/* ---- Identity lists -------------------------------------------------------- */

void xfsm_stat_idents_free(struct xfsm_stat_idents *ids)
{
	if (!ids)
		return;
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

int xfsm_stat_idents_add(struct xfsm_stat_idents *ids, __u32 kind, __u32 pos, __u32 n,
			 const char *fmt, ...)
{
	struct xfsm_stat_ident *e;
	va_list ap;
	int len;

	if (kind < XFSM_SID_STAGE || kind > XFSM_SID_COUNTER || !n)
		return -EINVAL;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 32;

		e = realloc(ids->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		ids->v = e;
		ids->cap = cap;
	}
	e = &ids->v[ids->n];
	memset(e, 0, sizeof(*e));
	va_start(ap, fmt);
	len = vsnprintf(e->name, sizeof(e->name), fmt, ap);
	va_end(ap);
	if (len <= 0 || len >= (int)sizeof(e->name))
		return -ENAMETOOLONG;
	e->kind = kind;
	e->pos = pos;
	e->n = n;
	ids->n++;
	return 0;
}

static int cmp_kind_pos(const void *pa, const void *pb)
{
	const struct xfsm_stat_ident *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return 0;
}

const struct xfsm_stat_ident *xfsm_stat_idents_find(const struct xfsm_stat_idents *ids,
						    __u32 kind, __u32 pos)
{
	size_t lo = 0, hi = ids ? ids->n : 0;

	/* Sorted by kind, then pos: the last record at or before (kind, pos). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xfsm_stat_ident *e = &ids->v[mid];

		if (e->kind < kind || (e->kind == kind && e->pos <= pos))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (ids->v[lo - 1].kind != kind || pos - ids->v[lo - 1].pos >= ids->v[lo - 1].n)
		return NULL;
	return &ids->v[lo - 1];
}

/* ---- Encoding ------------------------------------------------------------------ */

static size_t rec_size(size_t name_len)
{
	return (sizeof(struct ids_rec) + name_len + 3) & ~(size_t)3;
}

static int encode(const struct xfsm_stat_idents *ids, const struct xfsm_slot_meta *meta,
		  void **out, size_t *out_len)
{
	size_t len = sizeof(struct ids_hdr), i, o;
	struct ids_hdr *h;
	char *buf;

	for (i = 0; i < ids->n; i++)
		len += rec_size(strlen(ids->v[i].name));
	if (len > (size_t)XFSM_IDS_CHUNK * XFSM_IDS_CHUNKS / XFSM_APP_SLOTS)
		return -E2BIG;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	h = (struct ids_hdr *)buf;
	h->magic = IDS_MAGIC;
	h->version = IDS_VERSION;
	h->generation = meta->generation;
	h->n = ids->n;
	h->bytes = len;
	h->globals_set = meta->globals_set;
	h->reset_globals = meta->reset_globals;
	h->flags = meta->flags;
	memcpy(h->globals, meta->globals, sizeof(h->globals));
	o = sizeof(*h);
	for (i = 0; i < ids->n; i++) {
		const struct xfsm_stat_ident *e = &ids->v[i];
		struct ids_rec r = {
			.kind = e->kind, .len = strlen(e->name),
			.index = e->index, .pos = e->pos, .n = e->n,
		};

		memcpy(buf + o, &r, sizeof(r));
		memcpy(buf + o + sizeof(r), e->name, r.len);
		o += rec_size(r.len);
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static int decode(const char *buf, size_t len, struct xfsm_stat_idents *ids,
		  struct xfsm_slot_meta *meta)
{
	const struct ids_hdr *h = (const struct ids_hdr *)buf;
	size_t o = sizeof(*h), i;
	int err;

	if (len < sizeof(*h) || h->magic != IDS_MAGIC || h->version != IDS_VERSION ||
	    h->bytes != len)
		return -EPROTO;
	if (meta) {
		meta->generation = h->generation;
		meta->globals_set = h->globals_set;
		meta->reset_globals = h->reset_globals;
		meta->flags = h->flags;
		memcpy(meta->globals, h->globals, sizeof(meta->globals));
	}
	ids->generation = h->generation;
	for (i = 0; i < h->n; i++) {
		struct ids_rec r;

		if (o + sizeof(r) > len)
			return -EPROTO;
		memcpy(&r, buf + o, sizeof(r));
		if (!r.len || r.len >= XFSM_SID_NAME_LEN || o + rec_size(r.len) > len)
			return -EPROTO;
		err = xfsm_stat_idents_add(ids, r.kind, r.pos, r.n, "%.*s", (int)r.len,
					   buf + o + sizeof(r));
		if (err)
			return err == -ENOMEM ? err : -EPROTO;
		ids->v[ids->n - 1].index = r.index;
		o += rec_size(r.len);
	}
	return o == len ? 0 : -EPROTO;
}

/* ---- The xfsm_ids map ------------------------------------------------------------ */

int xfsm_ids_blob_write(struct xfsm_instance *inst, __u32 key, const void *buf, size_t len)
{
	int fd = inst->map_fd[XFSM_M_IDS], err = 0;
	struct xfsm_ids_key k = { .slot = key };
	char *chunk;
	size_t off;

	if (fd < 0)
		return -ENOENT;
	chunk = calloc(1, XFSM_IDS_CHUNK);
	if (!chunk)
		return -ENOMEM;
	for (off = 0; off < len; off += XFSM_IDS_CHUNK, k.chunk++) {
		size_t n = len - off < XFSM_IDS_CHUNK ? len - off : XFSM_IDS_CHUNK;

		memset(chunk, 0, XFSM_IDS_CHUNK);
		memcpy(chunk, (const char *)buf + off, n);
		if (bpf_map_update_elem(fd, &k, chunk, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* Chunks of a longer string the key held before. */
	while (!bpf_map_delete_elem(fd, &k))
		k.chunk++;
out:
	free(chunk);
	return err;
}

int xfsm_ids_blob_read(struct xfsm_instance *inst, __u32 key, __u32 magic, size_t len_off,
		       size_t min_len, char **out, size_t *out_len)
{
	int fd = inst->map_fd[XFSM_M_IDS], err = 0;
	struct xfsm_ids_key k = { .slot = key };
	__u32 m, len32;
	size_t len = 0, off;
	char *buf;

	*out = NULL;
	*out_len = 0;
	if (fd < 0)
		return -ENOENT;
	buf = malloc(XFSM_IDS_CHUNK);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &k, buf)) {
		err = -errno;
		goto out;
	}
	memcpy(&m, buf, sizeof(m));
	memcpy(&len32, buf + len_off, sizeof(len32));
	len = len32;
	if (m != magic || len < min_len || len > (size_t)XFSM_IDS_CHUNK * XFSM_IDS_CHUNKS) {
		err = -EPROTO;
		goto out;
	}
	if (len > XFSM_IDS_CHUNK) {
		char *nb = realloc(buf, (len + XFSM_IDS_CHUNK - 1) / XFSM_IDS_CHUNK * XFSM_IDS_CHUNK);

		if (!nb) {
			err = -ENOMEM;
			goto out;
		}
		buf = nb;
	}
	for (off = XFSM_IDS_CHUNK; off < len; off += XFSM_IDS_CHUNK) {
		k.chunk++;
		if (bpf_map_lookup_elem(fd, &k, buf + off)) {
			err = errno == ENOENT ? -EPROTO : -errno;
			goto out;
		}
	}
out:
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int xfsm_slot_meta_write(struct xfsm_instance *inst, __u32 slot,
			 const struct xfsm_stat_idents *ids, const struct xfsm_slot_meta *meta)
{
	size_t len = 0;
	void *buf = NULL;
	int err;

	if (inst->map_fd[XFSM_M_IDS] < 0)
		return -ENOENT;
	err = encode(ids, meta, &buf, &len);
	if (err)
		return err;
	err = xfsm_ids_blob_write(inst, slot, buf, len);
	free(buf);
	return err;
}

int xfsm_slot_meta_read(struct xfsm_instance *inst, __u32 slot,
			struct xfsm_stat_idents *ids, struct xfsm_slot_meta *meta)
{
	size_t len = 0;
	char *buf;
	int err;

	memset(ids, 0, sizeof(*ids));
	if (meta)
		memset(meta, 0, sizeof(*meta));
	err = xfsm_ids_blob_read(inst, slot, IDS_MAGIC, offsetof(struct ids_hdr, bytes),
				 sizeof(struct ids_hdr), &buf, &len);
	if (err)
		return err;
	err = decode(buf, len, ids, meta);
	if (!err)
		qsort(ids->v, ids->n, sizeof(ids->v[0]), cmp_kind_pos);
	else
		xfsm_stat_idents_free(ids);
	free(buf);
	return err;
}

/* ---- The identities of an image ---------------------------------------------- */

static bool ident_at(const struct xfsm_stat_idents *given, __u32 kind, __u32 pos,
		     const struct xfsm_stat_ident **out)
{
	*out = given ? xfsm_stat_idents_find(given, kind, pos) : NULL;
	return *out != NULL;
}

/*
 * Every object of the image, named: by the image's own identities where it
 * has them (the compiler gives names), else by position: stage "#S",
 * counter "#C", rule "STAGE/#ID" (one per table entry).  Sorted by kind and
 * position.
 */
int xfsm_image_idents(const struct xfsm_image *img, struct xfsm_stat_idents *out)
{
	struct xfsm_stat_idents given = {};
	const struct xfsm_stat_ident *e;
	bool used[XFSM_MAX_COUNTERS] = {};
	char stage_name[XFSM_MAX_STAGES][XFSM_SID_NAME_LEN];
	size_t i;
	__u32 s, c;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (img->idents.n) {
		given.v = malloc(img->idents.n * sizeof(given.v[0]));
		if (!given.v)
			return -ENOMEM;
		memcpy(given.v, img->idents.v, img->idents.n * sizeof(given.v[0]));
		given.n = given.cap = img->idents.n;
		qsort(given.v, given.n, sizeof(given.v[0]), cmp_kind_pos);
	}
	for (s = 0; s < img->app.n_stages && !err; s++) {
		if (ident_at(&given, XFSM_SID_STAGE, s, &e))
			snprintf(stage_name[s], sizeof(stage_name[s]), "%s", e->name);
		else
			snprintf(stage_name[s], sizeof(stage_name[s]), "#%u", s);
		err = xfsm_stat_idents_add(out, XFSM_SID_STAGE, s, 1, "%s", stage_name[s]);
	}
	for (i = 0; i < img->n_rules && !err; i++) {
		const struct xfsm_rule *r = &img->rules[i].rule;
		unsigned int a;

		for (a = 0; a < XFSM_MAX_ACTIONS; a++)
			if (r->act[a].type == XFSM_ACT_COUNT && r->act[a].arg < XFSM_MAX_COUNTERS)
				used[r->act[a].arg] = true;
	}
	for (c = 0; c < XFSM_MAX_COUNTERS && !err; c++) {
		if (ident_at(&given, XFSM_SID_COUNTER, c, &e))
			err = xfsm_stat_idents_add(out, XFSM_SID_COUNTER, c, 1, "%s", e->name);
		else if (used[c])
			err = xfsm_stat_idents_add(out, XFSM_SID_COUNTER, c, 1, "#%u", c);
	}
	/* Named rules as given; table entries no named rule covers, one each. */
	for (i = 0; i < given.n && !err; i++)
		if (given.v[i].kind == XFSM_SID_RULE)
			err = xfsm_stat_idents_add(out, XFSM_SID_RULE, given.v[i].pos, given.v[i].n,
						   "%s", given.v[i].name);
	for (i = 0; i < img->n_rules && !err; i++) {
		__u32 id = img->rules[i].rule.rule_id, st = img->rules[i].key.stage;

		if (ident_at(&given, XFSM_SID_RULE, id, &e))
			continue;
		if (st >= img->app.n_stages)
			err = -EINVAL;
		else
			err = xfsm_stat_idents_add(out, XFSM_SID_RULE, id, 1, "%s/#%u",
						   stage_name[st], id);
	}
	xfsm_stat_idents_free(&given);
	if (err) {
		xfsm_stat_idents_free(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(out->v[0]), cmp_kind_pos);
	/* Entries of a hand-built image that share a rule id are one rule. */
	for (i = 1, c = 1; i < out->n; i++)
		if (out->v[i].kind != out->v[c - 1].kind || out->v[i].pos != out->v[c - 1].pos)
			out->v[c++] = out->v[i];
	if (out->n)
		out->n = c;
	return 0;
}

/* ---- Assigning indexes ---------------------------------------------------------- */

/* Open-addressed set of (kind, name) -> position in a list. */
struct name_index {
	size_t	*slot;		/* list position + 1, 0 free */
	size_t	cap;		/* power of two */
};

static __u64 name_hash(__u32 kind, const char *name)
{
	__u64 h = 0xcbf29ce484222325ULL ^ kind;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static size_t *name_slot(const struct name_index *ix, const struct xfsm_stat_idents *list,
			 __u32 kind, const char *name)
{
	size_t i = name_hash(kind, name) & (ix->cap - 1);

	for (;;) {
		size_t *s = &ix->slot[i];

		if (!*s || (list->v[*s - 1].kind == kind && !strcmp(list->v[*s - 1].name, name)))
			return s;
		i = (i + 1) & (ix->cap - 1);
	}
}

static bool bit_get(const __u8 *bm, __u32 i)
{
	return bm[i / 8] & (1U << (i % 8));
}

static void bit_set(__u8 *bm, __u32 i)
{
	bm[i / 8] |= 1U << (i % 8);
}

int xfsm_stat_ids_assign(const struct xfsm_stat_idents *old, struct xfsm_stat_idents *nw,
			 const __u32 space[XFSM_SID__COUNT], struct xfsm_fresh *fresh)
{
	struct name_index ix = {};
	__u8 *used[XFSM_SID__COUNT] = {}, *claimed;
	__u32 next[XFSM_SID__COUNT] = {};
	size_t i;
	int err = 0, k;

	memset(fresh, 0, sizeof(*fresh));
	for (ix.cap = 16; ix.cap < 2 * (old->n + 1); ix.cap *= 2)
		;
	ix.slot = calloc(ix.cap, sizeof(*ix.slot));
	claimed = calloc(old->n + 1, 1);
	for (k = XFSM_SID_STAGE; k < XFSM_SID__COUNT; k++)
		used[k] = calloc(space[k] / 8 + 1, 1);
	for (k = XFSM_SID_STAGE; k < XFSM_SID__COUNT; k++) {
		fresh->index[k] = calloc(nw->n + 1, sizeof(__u32));
		if (!used[k] || !fresh->index[k])
			err = -ENOMEM;
	}
	if (!ix.slot || !claimed || err) {
		err = -ENOMEM;
		goto out;
	}
	/* Every index the running application uses stays untouched until
	 * the switch. */
	for (i = 0; i < old->n; i++) {
		const struct xfsm_stat_ident *e = &old->v[i];

		if (e->kind < XFSM_SID_STAGE || e->kind >= XFSM_SID__COUNT ||
		    e->index >= space[e->kind])
			continue;
		bit_set(used[e->kind], e->index);
		*name_slot(&ix, old, e->kind, e->name) = i + 1;
	}
	/* The same named object keeps its index (once: a name the image
	 * repeats gets a new one the second time). */
	for (i = 0; i < nw->n; i++) {
		struct xfsm_stat_ident *e = &nw->v[i];
		size_t at = *name_slot(&ix, old, e->kind, e->name);

		e->index = ~0U;
		if (at && !claimed[at - 1] && old->v[at - 1].index < space[e->kind]) {
			e->index = old->v[at - 1].index;
			claimed[at - 1] = 1;
		}
	}
	for (i = 0; i < nw->n; i++) {
		struct xfsm_stat_ident *e = &nw->v[i];

		if (e->index != ~0U)
			continue;
		while (next[e->kind] < space[e->kind] && bit_get(used[e->kind], next[e->kind]))
			next[e->kind]++;
		if (next[e->kind] >= space[e->kind]) {
			err = -ENOSPC;
			goto out;
		}
		e->index = next[e->kind];
		bit_set(used[e->kind], e->index);
		fresh->index[e->kind][fresh->n[e->kind]++] = e->index;
	}
out:
	free(ix.slot);
	free(claimed);
	for (k = XFSM_SID_STAGE; k < XFSM_SID__COUNT; k++)
		free(used[k]);
	if (err)
		xfsm_fresh_free(fresh);
	return err;
}

void xfsm_fresh_free(struct xfsm_fresh *fresh)
{
	int k;

	for (k = 0; k < XFSM_SID__COUNT; k++)
		free(fresh->index[k]);
	memset(fresh, 0, sizeof(*fresh));
}

/* ---- Reading ---------------------------------------------------------------------- */

int xfsm_read_stat_idents(struct xfsm_instance *inst, struct xfsm_stat_idents *out)
{
	struct xfsm_app app;
	struct xfsm_ctl ctl;
	int err;

	memset(out, 0, sizeof(*out));
	if (!inst)
		return -EINVAL;
	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	if (ctl.active >= XFSM_APP_SLOTS)
		return -EPROTO;
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], &ctl.active, &app);
	if (err)
		return -errno;
	err = xfsm_slot_meta_read(inst, ctl.active, out, NULL);
	if (err == -ENOENT && !app.n_stages)
		return 0;	/* nothing applied yet */
	if (!err && out->generation != app.generation) {
		xfsm_stat_idents_free(out);
		err = -EPROTO;
	}
	return err;
}
