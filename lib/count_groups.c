/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Count groups (xfsm/abi.h, "Count groups"): a specialized program
 * increments one packets/bytes pair of its slot where the generic one
 * increments several counters, and its slot's table says which counters
 * each pair stands for.  Here, what user space keeps for them:
 *
 * - The table of each slot, as its own byte string in xfsm_ids (key
 *   XFSM_IDS_COUNT_GROUPS + slot, like the datapath record), beside the
 *   slot's statistics identities rather than among their records: it is
 *   written by xfsm_cg_install() alone, without rewriting (and re-reading)
 *   the identities, and a reader decodes a few KB of members, not every
 *   name of the application.  In the pins, so every tool has it.
 * - xfsm_cg_base: each pair's baseline.  The block holding the pairs is
 *   never written while packets count (a per-CPU value is written whole),
 *   so a pair given to a new program counts from what it holds then.
 * - xfsm_cg_fold: per counter, what the groups of replaced programs had
 *   counted for it; key { 0, 0 } is the sequence count, odd while any of
 *   the three changes.  Readers (lib/stats.c) read under it.
 *
 * A counter reads: what the datapath counted in it, plus its fold, plus,
 * for every member naming it in either slot's table, its group's packets
 * or bytes less the pair's baseline.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "apply_internal.h"

#define CG_MAGIC	0x47435358U	/* "XSCG" */
#define CG_VERSION	1

struct cg_hdr {
	__u32	magic;
	__u32	version;
	__u32	bytes;		/* header and members */
	__u32	n;		/* members */
	__u32	n_groups;
	__u32	pad;
	/* struct xfsm_cg_member m[n] */
};

static const struct xfsm_cg_fold_key seq_key = { 0, 0 };

/* ---- Tables ------------------------------------------------------------------ */

void xfsm_cg_table_free(struct xfsm_cg_table *t)
{
	if (!t)
		return;
	free(t->m);
	memset(t, 0, sizeof(*t));
}

/* Bytes of the struct a space's counters are fields of; 0: no such space. */
static size_t space_size(unsigned int space)
{
	switch (space) {
	case XFSM_CG_DATAPATH:	return sizeof(struct xfsm_stats);
	case XFSM_CG_STAGE:	return sizeof(struct xfsm_stage_stats);
	case XFSM_CG_RULE:	return sizeof(struct xfsm_rule_stats);
	}
	return 0;
}

/* Indexes a space has on this instance. */
static __u32 space_entries(const struct xfsm_instance *inst, unsigned int space)
{
	switch (space) {
	case XFSM_CG_DATAPATH:	return 1;
	case XFSM_CG_STAGE:	return XFSM_STAGE_STATS_SLOTS;
	case XFSM_CG_RULE:	return inst->map_max_entries[XFSM_M_RULE_STATS];
	}
	return 0;
}

/* By counter (space, index, field), then group. */
int xfsm_cg_member_cmp(const void *pa, const void *pb)
{
	const struct xfsm_cg_member *a = pa, *b = pb;

	if (a->space != b->space)
		return a->space < b->space ? -1 : 1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return 0;
}

int xfsm_cg_table_check(const struct xfsm_instance *inst, const struct xfsm_cg_table *t)
{
	struct xfsm_cg_member *s = NULL;
	size_t i;
	int err = 0;

	if (!inst)
		return -EINVAL;
	if (!t)
		return 0;
	if ((t->n && !t->m) || t->n > XFSM_CG_MAX_MEMBERS || t->n_groups > XFSM_COUNT_GROUPS) {
		xfsm_log(XFSM_LOG_ERROR,
			 "count group table: %zu members of %u groups (at most %u of %u)",
			 t->n, t->n_groups, XFSM_CG_MAX_MEMBERS, XFSM_COUNT_GROUPS);
		return -EINVAL;
	}
	for (i = 0; i < t->n; i++) {
		const struct xfsm_cg_member *m = &t->m[i];
		size_t sz = space_size(m->space);
		const char *why = NULL;

		if (m->group >= t->n_groups)
			why = "its group is not one of the table's";
		else if (!sz)
			why = "unknown counter space";
		else if (m->bytes > 1)
			why = "bytes is neither 0 nor 1";
		else if (m->off % 8 || m->off >= sz)
			why = "the field is not a counter of the space's struct";
		else if (m->index >= space_entries(inst, m->space))
			why = "index out of range";
		if (why) {
			xfsm_log(XFSM_LOG_ERROR,
				 "count group table, member %zu (group %u, space %u, index %u, offset %u): %s",
				 i, m->group, m->space, m->index, m->off, why);
			return -EINVAL;
		}
	}
	if (!t->n)
		return 0;
	/* A counter a group names twice would count its packets twice. */
	s = malloc(t->n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, t->m, t->n * sizeof(*s));
	qsort(s, t->n, sizeof(*s), xfsm_cg_member_cmp);
	for (i = 1; i < t->n && !err; i++)
		if (!xfsm_cg_member_cmp(&s[i - 1], &s[i])) {
			xfsm_log(XFSM_LOG_ERROR,
				 "count group table: group %u names counter (space %u, index %u, offset %u) twice",
				 s[i].group, s[i].space, s[i].index, s[i].off);
			err = -EINVAL;
		}
	free(s);
	return err;
}

int xfsm_cg_table_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_cg_table *out)
{
	struct cg_hdr h;
	size_t len, i;
	char *buf;
	int err;

	memset(out, 0, sizeof(*out));
	if (!inst || slot >= XFSM_APP_SLOTS)
		return -EINVAL;
	err = xfsm_ids_blob_read(inst, XFSM_IDS_COUNT_GROUPS + slot, CG_MAGIC,
				 offsetof(struct cg_hdr, bytes), sizeof(h), &buf, &len);
	if (err == -ENOENT)
		return 0;	/* never installed: no groups */
	if (err)
		return err;
	memcpy(&h, buf, sizeof(h));
	if (h.version != CG_VERSION || h.n > XFSM_CG_MAX_MEMBERS ||
	    h.n_groups > XFSM_COUNT_GROUPS ||
	    len != sizeof(h) + (size_t)h.n * sizeof(struct xfsm_cg_member)) {
		err = -EPROTO;
		goto out;
	}
	out->n_groups = h.n_groups;
	if (h.n) {
		out->m = malloc(h.n * sizeof(*out->m));
		if (!out->m) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(out->m, buf + sizeof(h), h.n * sizeof(*out->m));
		out->n = out->cap = h.n;
	}
	/* readers and installs index pairs and baselines by group */
	for (i = 0; i < out->n; i++)
		if (out->m[i].group >= out->n_groups) {
			xfsm_cg_table_free(out);
			err = -EPROTO;
			break;
		}
out:
	free(buf);
	return err;
}

static int table_write(struct xfsm_instance *inst, __u32 slot, const struct xfsm_cg_table *t)
{
	size_t n = t ? t->n : 0, len = sizeof(struct cg_hdr) + n * sizeof(struct xfsm_cg_member);
	struct cg_hdr *h;
	char *buf;
	int err;

	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	h = (struct cg_hdr *)buf;
	h->magic = CG_MAGIC;
	h->version = CG_VERSION;
	h->bytes = len;
	h->n = n;
	h->n_groups = t ? t->n_groups : 0;
	if (n)
		memcpy(buf + sizeof(*h), t->m, n * sizeof(struct xfsm_cg_member));
	err = xfsm_ids_blob_write(inst, XFSM_IDS_COUNT_GROUPS + slot, buf, len);
	free(buf);
	return err;
}

/* ---- The sequence count -------------------------------------------------------- */

bool xfsm_cg_supported(const struct xfsm_instance *inst)
{
	return inst && inst->map_fd[XFSM_M_CG_BASE] >= 0 && inst->map_fd[XFSM_M_CG_FOLD] >= 0 &&
	       inst->map_fd[XFSM_M_IDS] >= 0 && xfsm_stats_in_block(inst);
}

int xfsm_cg_seq(struct xfsm_instance *inst, __u64 *seq)
{
	struct xfsm_cg_fold v;

	if (!xfsm_cg_supported(inst))
		return -ENOENT;
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_CG_FOLD], &seq_key, &v)) {
		if (errno != ENOENT)
			return -errno;
		v.w[0] = 0;	/* never written */
	}
	*seq = v.w[0];
	return 0;
}

static int seq_write(struct xfsm_instance *inst, __u64 seq)
{
	struct xfsm_cg_fold v = { .w = { seq } };

	if (bpf_map_update_elem(inst->map_fd[XFSM_M_CG_FOLD], &seq_key, &v, BPF_ANY))
		return -errno;
	return 0;
}

static void warn_interrupted(const struct xfsm_instance *inst)
{
	xfsm_log(XFSM_LOG_WARN,
		 "instance %s: a change of the count groups was interrupted; their counts may be off by what it had done",
		 inst->name);
}

int xfsm_cg_write_begin(struct xfsm_instance *inst, __u64 *seq)
{
	int err = xfsm_cg_seq(inst, seq);

	if (err)
		return err;
	if (*seq & 1) {
		/* A writer ended inside (killed): what it did is kept, and
		 * this write ends the count's odd spell. */
		warn_interrupted(inst);
		return 0;
	}
	*seq += 1;
	return seq_write(inst, *seq);
}

int xfsm_cg_write_end(struct xfsm_instance *inst, __u64 seq)
{
	return seq_write(inst, (seq | 1) + 1);
}

int xfsm_cg_end_dead_write(struct xfsm_instance *inst)
{
	int lock = xfsm_instance_trylock(inst), err;
	__u64 seq;

	if (lock < 0)
		return -EBUSY;
	/* again under the lock: a writer may have ended it meanwhile */
	err = xfsm_cg_seq(inst, &seq);
	if (!err && (seq & 1)) {
		warn_interrupted(inst);
		err = xfsm_cg_write_end(inst, seq);
	}
	xfsm_instance_unlock(lock);
	return err;
}

/* ---- Reading ------------------------------------------------------------------ */

/* A slot's table and baselines, as of one sequence count. */
struct cg_cache_slot {
	struct xfsm_cg_member	*m;	/* sorted by xfsm_cg_member_cmp */
	size_t			n;
	struct xfsm_count_group	base[XFSM_COUNT_GROUPS];
};

struct xfsm_cg_cache {
	bool			valid;
	__u64			seq;
	struct cg_cache_slot	slot[XFSM_APP_SLOTS];
};

void xfsm_cg_cache_free(struct xfsm_cg_cache *c)
{
	unsigned int s;

	if (!c)
		return;
	for (s = 0; s < XFSM_APP_SLOTS; s++)
		free(c->slot[s].m);
	free(c);
}

/* The baselines of a slot's first ng pairs: one batch lookup where the
 * kernel has batch operations (an array's batch starts after the key
 * in_batch names), else one lookup each. */
static int base_read(struct xfsm_instance *inst, __u32 slot, __u32 ng,
		     struct xfsm_count_group base[XFSM_COUNT_GROUPS])
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = inst->map_fd[XFSM_M_CG_BASE];
	__u32 keys[XFSM_COUNT_GROUPS], first = slot * XFSM_COUNT_GROUPS, prev = first - 1, out;
	__u32 g, count = ng;

	if (!ng)
		return 0;
	/* an array's keys come in order: the first and the count tell */
	if ((!bpf_map_lookup_batch(fd, slot ? &prev : NULL, &out, keys, base, &count, &opts) ||
	     errno == ENOENT) && count == ng && keys[0] == first)
		return 0;
	for (g = 0; g < ng; g++) {
		__u32 k = first + g;

		if (bpf_map_lookup_elem(fd, &k, &base[g]))
			return -errno;
	}
	return 0;
}

/* The baselines of a slot's first ng pairs set to base[] (one batch
 * where the kernel has batch operations); *done counts those written. */
static int base_write(struct xfsm_instance *inst, __u32 slot, __u32 ng,
		      const struct xfsm_count_group base[XFSM_COUNT_GROUPS], size_t *done)
{
	__u32 keys[XFSM_COUNT_GROUPS], g;
	bool batch = true;

	*done = 0;
	if (!ng)
		return 0;
	for (g = 0; g < ng; g++)
		keys[g] = slot * XFSM_COUNT_GROUPS + g;
	return xfsm_map_update_many(inst->map_fd[XFSM_M_CG_BASE], keys, base, ng, sizeof(keys[0]),
				    sizeof(base[0]), &batch, done);
}

static int cache_load(struct xfsm_instance *inst, __u64 seq)
{
	struct xfsm_cg_cache *c = inst->cg_cache;
	struct xfsm_cg_table t;
	unsigned int s;
	int err;

	if (c && c->valid && c->seq == seq)
		return 0;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		inst->cg_cache = c;
	}
	c->valid = false;
	for (s = 0; s < XFSM_APP_SLOTS; s++) {
		err = xfsm_cg_table_read(inst, s, &t);
		if (err)
			return err;
		free(c->slot[s].m);
		c->slot[s].m = t.m;
		c->slot[s].n = t.n;
		if (t.n)
			qsort(t.m, t.n, sizeof(*t.m), xfsm_cg_member_cmp);
		err = base_read(inst, s, t.n_groups, c->slot[s].base);
		if (err)
			return err;
	}
	c->seq = seq;
	c->valid = true;
	return 0;
}

/* The first of a slot's members naming counter (space, index), or n. */
static size_t first_member(const struct cg_cache_slot *cs, unsigned int space, __u32 index)
{
	size_t lo = 0, hi = cs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xfsm_cg_member *m = &cs->m[mid];

		if (m->space < space || (m->space == space && m->index < index))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool member_is(const struct cg_cache_slot *cs, size_t i, unsigned int space, __u32 index)
{
	return i < cs->n && cs->m[i].space == space && cs->m[i].index == index;
}

/* A pair's count since its baseline (the field `bytes` asks for). */
static __u64 pair_since(const struct xfsm_count_group *now, const struct xfsm_count_group *base,
			bool bytes)
{
	__u64 v = bytes ? now->bytes : now->packets, b = bytes ? base->bytes : base->packets;

	return v > b ? v - b : 0;
}

int xfsm_cg_add(struct xfsm_instance *inst, __u64 seq, int space, __u32 index, void *out,
		size_t size)
{
	struct xfsm_count_group pairs[XFSM_COUNT_GROUPS];
	struct xfsm_cg_fold_key key = { .space = space, .index = index };
	struct xfsm_cg_fold fold;
	__u64 *o = out;
	unsigned int s;
	size_t i, w;
	int err;

	if (size % 8 || size > sizeof(fold) || size != space_size(space))
		return -EPROTO;
	err = cache_load(inst, seq);
	if (err)
		return err;
	if (!bpf_map_lookup_elem(inst->map_fd[XFSM_M_CG_FOLD], &key, &fold)) {
		for (w = 0; w < size / 8; w++)
			o[w] += fold.w[w];
	} else if (errno != ENOENT) {
		return -errno;
	}
	for (s = 0; s < XFSM_APP_SLOTS; s++) {
		const struct cg_cache_slot *cs = &inst->cg_cache->slot[s];

		i = first_member(cs, space, index);
		if (!member_is(cs, i, space, index))
			continue;
		err = xfsm_stats_read_raw(inst, XFSM_SK_GROUPS, s, pairs, sizeof(pairs));
		if (err)
			return err;
		for (; member_is(cs, i, space, index); i++) {
			const struct xfsm_cg_member *m = &cs->m[i];

			o[m->off / 8] += pair_since(&pairs[m->group], &cs->base[m->group],
						    m->bytes);
		}
	}
	return 0;
}

/* ---- Writing ------------------------------------------------------------------ */

int xfsm_cg_fold_clear(struct xfsm_instance *inst, int space, const __u32 *idx, size_t n)
{
	struct xfsm_cg_fold_key key = { .space = space };
	__u64 seq;
	size_t i;
	int err, e;

	if (!xfsm_cg_supported(inst) || !n)
		return 0;
	err = xfsm_cg_write_begin(inst, &seq);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		key.index = idx[i];
		if (bpf_map_delete_elem(inst->map_fd[XFSM_M_CG_FOLD], &key) && errno != ENOENT)
			err = -errno;
	}
	e = xfsm_cg_write_end(inst, seq);
	return err ? err : e;
}

int xfsm_cg_reset_locked(struct xfsm_instance *inst)
{
	int fd = inst->map_fd[XFSM_M_CG_FOLD], err;
	struct xfsm_cg_fold_key next;

	/* Every key but the sequence count's, from the first each time (a
	 * deleted key is no place to go on from). */
	for (;;) {
		err = bpf_map_get_next_key(fd, NULL, &next);
		if (!err && !memcmp(&next, &seq_key, sizeof(next)))
			err = bpf_map_get_next_key(fd, &next, &next);
		if (err)
			break;
		if (bpf_map_delete_elem(fd, &next) && errno != ENOENT)
			return -errno;
	}
	if (errno != ENOENT)
		return -errno;
	return xfsm_array_zero(inst, XFSM_M_CG_BASE, 0, inst->map_max_entries[XFSM_M_CG_BASE]);
}

/*
 * An RCU grace period: XDP programs run inside RCU read-side sections, so
 * after it no packet is still in a program that stopped being reachable
 * before it.  membarrier(MEMBARRIER_CMD_GLOBAL) waits for one
 * (synchronize_rcu()); it fails on a nohz_full kernel (-EINVAL), where
 * seccomp forbids it, or before Linux 4.3: then the map-in-map update of
 * xfsm_sync_rcu() waits for one as well.  Both failing, the caller gives up
 * before changing anything: a packet still in the slot's old program could
 * add to a pair after it was folded, and be counted twice.
 */
static int grace_period(void)
{
	int err;

	if (!syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		return 0;
	err = xfsm_sync_rcu();
	if (err)
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot wait for packets still in the old program (membarrier: %s; map-in-map update: %s)",
			 strerror(errno), strerror(-err));
	return err;
}

/* One counter's fold, being summed. */
struct fold_acc {
	struct xfsm_cg_fold_key	key;
	struct xfsm_cg_fold	add;
};

/* What a fold held before an install changed it, to put back when the
 * install fails halfway (the old table stays: counting the old groups
 * both in the fold and through the table would count them twice). */
struct fold_undo {
	struct xfsm_cg_fold_key	key;
	bool			existed;
	struct xfsm_cg_fold	before;
};

/* Add each old member's count since its pair's baseline to its counter's
 * fold, one map update per counter (members sorted by counter); undo[]
 * (old->n entries) records each update, *n_undo counts them. */
static int fold_old(struct xfsm_instance *inst, struct xfsm_cg_table *old,
		    const struct xfsm_count_group *pairs, const struct xfsm_count_group *base,
		    struct fold_undo *undo, size_t *n_undo)
{
	int fd = inst->map_fd[XFSM_M_CG_FOLD];
	struct xfsm_cg_fold cur;
	struct fold_acc acc;
	size_t i = 0, w;

	*n_undo = 0;
	qsort(old->m, old->n, sizeof(*old->m), xfsm_cg_member_cmp);
	while (i < old->n) {
		struct fold_undo *u = &undo[*n_undo];

		memset(&acc, 0, sizeof(acc));
		acc.key.space = old->m[i].space;
		acc.key.index = old->m[i].index;
		for (; i < old->n && old->m[i].space == acc.key.space &&
		       old->m[i].index == acc.key.index; i++) {
			const struct xfsm_cg_member *m = &old->m[i];

			if (m->group >= XFSM_COUNT_GROUPS || m->off % 8 ||
			    m->off >= space_size(m->space))
				continue;	/* not from install: never stored */
			acc.add.w[m->off / 8] += pair_since(&pairs[m->group], &base[m->group],
							    m->bytes);
		}
		u->key = acc.key;
		u->existed = !bpf_map_lookup_elem(fd, &acc.key, &cur);
		if (!u->existed) {
			if (errno != ENOENT)
				return -errno;
			memset(&cur, 0, sizeof(cur));
		}
		u->before = cur;
		for (w = 0; w < XFSM_CG_FOLD_WORDS; w++)
			cur.w[w] += acc.add.w[w];
		if (bpf_map_update_elem(fd, &acc.key, &cur, BPF_ANY))
			return -errno;
		(*n_undo)++;
	}
	return 0;
}

static void fold_undo(struct xfsm_instance *inst, const struct fold_undo *undo, size_t n)
{
	int fd = inst->map_fd[XFSM_M_CG_FOLD];

	while (n--) {
		const struct fold_undo *u = &undo[n];

		if (u->existed ? bpf_map_update_elem(fd, &u->key, &u->before, BPF_ANY) :
				 bpf_map_delete_elem(fd, &u->key))
			xfsm_log(XFSM_LOG_WARN,
				 "cannot restore the count group fold of counter (space %u, index %u): %s",
				 u->key.space, u->key.index, strerror(errno));
	}
}

/* wait: whether a grace period must pass before the old groups fold (an
 * apply has waited one already: see xfsm_cg_install_quiet()). */
static int install(struct xfsm_instance *inst, __u32 slot, const struct xfsm_cg_table *t,
		   bool wait)
{
	struct xfsm_count_group pairs[XFSM_COUNT_GROUPS], base[XFSM_COUNT_GROUPS];
	struct xfsm_cg_table old = {};
	bool empty = !t || !t->n, lost = false;
	struct fold_undo *undo = NULL;
	size_t n_undo = 0;
	__u64 seq;
	int err, e;

	if (!inst || slot >= XFSM_APP_SLOTS)
		return -EINVAL;
	err = xfsm_cg_table_check(inst, t);
	if (err)
		return err;
	if (!xfsm_cg_supported(inst)) {
		if (empty)
			return 0;
		xfsm_log(XFSM_LOG_ERROR, "instance %s has no count groups (%s)", inst->name,
			 xfsm_stats_in_block(inst) ? "loaded by an older xfsm-loader" :
			 "the offload profile");
		return -EOPNOTSUPP;
	}
	err = xfsm_cg_table_read(inst, slot, &old);
	if (err) {
		/* Unreadable: its groups' counts cannot be told apart; they
		 * are left out of every counter from now on. */
		xfsm_log(XFSM_LOG_WARN,
			 "instance %s: slot %u's count group table is unreadable (%s): what its groups counted is lost",
			 inst->name, slot, strerror(-err));
		memset(&old, 0, sizeof(old));
		lost = true;	/* rebased all the same, folding nothing */
	}
	/* A slot whose last program had no groups has pairs nothing has
	 * touched since their baselines: nothing to fold or wait for; and
	 * with no new groups, nothing to write (a generic application's
	 * apply leaves the readers' caches as they are). */
	if (!old.n && !lost && empty)
		goto out;
	if (old.n || lost) {
		undo = calloc(old.n + 1, sizeof(*undo));
		if (!undo) {
			err = -ENOMEM;
			goto out;
		}
		err = wait ? grace_period() : 0;
		if (err)
			goto out;
	}
	err = xfsm_cg_write_begin(inst, &seq);
	if (err)
		goto out;
	if (old.n || lost) {
		/* the pairs the old program can have moved: its groups (the
		 * pairs past them stay where the last install left them), or
		 * all of them when its table is lost */
		__u32 ng = lost ? XFSM_COUNT_GROUPS : old.n_groups;
		size_t rebased = 0, undone;

		err = xfsm_stats_read_raw(inst, XFSM_SK_GROUPS, slot, pairs, sizeof(pairs));
		if (!err)
			err = base_read(inst, slot, ng, base);
		if (!err)
			err = fold_old(inst, &old, pairs, base, undo, &n_undo);
		if (!err)
			err = base_write(inst, slot, ng, pairs, &rebased);
		if (err) {
			/* Back to the old table's state: folds, then the
			 * baselines written. */
			fold_undo(inst, undo, n_undo);
			e = rebased ? base_write(inst, slot, (__u32)rebased, base, &undone) : 0;
			if (e)
				xfsm_log(XFSM_LOG_WARN,
					 "cannot restore slot %u's count group baselines: %s",
					 slot, strerror(-e));
		}
	}
	if (!err) {
		err = table_write(inst, slot, t);
		/* The old groups are folded and rebased: no table is exact
		 * (the new program never runs, its apply failing). */
		if (err)
			table_write(inst, slot, NULL);
	}
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot install slot %u's count groups: %s", slot,
			 strerror(-err));
	e = xfsm_cg_write_end(inst, seq);
	if (!err)
		err = e;
out:
	free(undo);
	xfsm_cg_table_free(&old);
	return err;
}

int xfsm_cg_install(struct xfsm_instance *inst, __u32 slot, const struct xfsm_cg_table *t)
{
	int lock, err;

	if (!inst)
		return -EINVAL;
	/* a reader that finds the count odd and the lock free takes the
	 * writer for dead (xfsm_cg_end_dead_write()) */
	lock = xfsm_instance_lock(inst);
	err = install(inst, slot, t, true);
	xfsm_instance_unlock(lock);
	return err;
}

int xfsm_cg_install_quiet(struct xfsm_instance *inst, __u32 slot, const struct xfsm_cg_table *t)
{
	return install(inst, slot, t, false);
}
