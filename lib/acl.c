/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL module, user-space side: rule lists, building the merged tuple-space
 * structure, in-process classification, atomic install into an instance's
 * ACL table, read-back and statistics.  Rule syntax is in lib/acl_parse.c.
 *
 * Building (TupleMerge-like): rules are placed in precedence order.  A
 * rule may join any tuple of its address family whose prefix lengths are
 * at most its own and whose exact-protocol flag it satisfies; it lands in
 * the last bucket of the chain of its cut addresses (a new chained bucket
 * when that one is full).  The most specific tuple with the shortest chain
 * wins, unless the rule's own grid tuple (prefix lengths rounded down to
 * multiples of 16) does not exist yet and is more specific:
 * then that tuple is made.  Only when every chain is at its limit does a
 * tuple of the rule's exact lengths appear.  So the number of tuples stays
 * near the grid's size whatever the number of rules.  Buckets hold rules
 * in order, so a scan stops at its first match, and tuples are sorted by
 * the best order they hold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "xfsm_acl.h"
#include "apply_internal.h"
#include "xfsm/acl_match.h"

/* ---- Rule lists ------------------------------------------------------------- */

void xfsm_acl_entry_init(struct xfsm_acl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->sport_hi = 0xffff;
	e->dport_hi = 0xffff;
	e->action = XFSM_ACL_ALLOW;
}

void xfsm_acl_rules_free(struct xfsm_acl_rules *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

int xfsm_acl_rules_add(struct xfsm_acl_rules *rs, const struct xfsm_acl_entry *e)
{
	__u32 max_id = 0;
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (e->rule_id && rs->r[i].rule_id == e->rule_id)
			return -EEXIST;
		if (rs->r[i].rule_id > max_id)
			max_id = rs->r[i].rule_id;
	}
	if (rs->n >= XFSM_ACL_MAX_RULES)
		return -E2BIG;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct xfsm_acl_entry *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n] = *e;
	if (!e->rule_id)
		rs->r[rs->n].rule_id = max_id + 1;
	rs->n++;
	return 0;
}

int xfsm_acl_rules_del(struct xfsm_acl_rules *rs, __u32 rule_id)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].rule_id == rule_id) {
			memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(rs->r[0]));
			rs->n--;
			return 0;
		}
	}
	return -ENOENT;
}

static int prec_cmp(const void *pa, const void *pb)
{
	const struct xfsm_acl_entry *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->rule_id != b->rule_id)
		return a->rule_id < b->rule_id ? -1 : 1;
	return 0;
}

void xfsm_acl_rules_sort(struct xfsm_acl_rules *rs)
{
	if (rs->n)
		qsort(rs->r, rs->n, sizeof(rs->r[0]), prec_cmp);
}

/* ---- The built structure ---------------------------------------------------- */

struct acl_bucket {
	struct xfsm_acl_key key;
	struct xfsm_acl_bucket b;
};

struct xfsm_acl_built {
	struct xfsm_acl_set set;
	struct acl_bucket *bk;
	size_t	n_bk, cap_bk;
	int	*hash;		/* open addressing: bucket index + 1, 0 free */
	size_t	hash_cap;	/* power of two */
};

static __u64 key_hash(const struct xfsm_acl_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u64 h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < sizeof(*k) / 4; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h;
}

static int *hash_slot(const struct xfsm_acl_built *b, const struct xfsm_acl_key *k)
{
	size_t i = key_hash(k) & (b->hash_cap - 1);

	for (;;) {
		int *s = &b->hash[i];

		if (!*s || !memcmp(&b->bk[*s - 1].key, k, sizeof(*k)))
			return s;
		i = (i + 1) & (b->hash_cap - 1);
	}
}

static struct acl_bucket *bucket_find(const struct xfsm_acl_built *b,
				      const struct xfsm_acl_key *k)
{
	int *s = hash_slot(b, k);

	return *s ? &b->bk[*s - 1] : NULL;
}

static void key_make(struct xfsm_acl_key *k, const struct xfsm_acl_tuple *t, __u32 ti,
		     const __u32 *src, const __u32 *dst, __u32 proto, __u32 dport)
{
	int i;

	memset(k, 0, sizeof(*k));
	k->tuple = ti;
	k->proto = (t->flags & XFSM_ACLT_PROTO) ? proto : 0;
	k->dport = (t->flags & XFSM_ACLT_DPORT) ? dport : 0;
	for (i = 0; i < 4; i++) {
		k->src[i] = src[i] & xfsm_acl_pfx_mask(t->src_len, i);
		k->dst[i] = dst[i] & xfsm_acl_pfx_mask(t->dst_len, i);
	}
}

static unsigned int rule_family(const struct xfsm_acl_entry *e)
{
	if (!e->src_len && !e->dst_len)
		return 0;
	return (e->flags & XFSM_ACLF_V6) ? 6 : 4;
}

static bool tuple_fits(const struct xfsm_acl_tuple *t, const struct xfsm_acl_entry *e,
		       unsigned int fam)
{
	if (t->family != fam || t->src_len > e->src_len || t->dst_len > e->dst_len)
		return false;
	if ((t->flags & XFSM_ACLT_PROTO) && e->proto_mask != 0xff)
		return false;
	if ((t->flags & XFSM_ACLT_DPORT) && e->dport_lo != e->dport_hi)
		return false;
	return true;
}

/* Prefix lengths of a new tuple: rounded down so that neighbours share. */
static unsigned int relax(unsigned int len)
{
	return len - len % 16;
}

/* The bucket of a chain a new rule lands in (the last one, or a new one
 * after it), -1 when the chain is at its limit. */
static int landing(const struct xfsm_acl_built *b, struct xfsm_acl_key *k)
{
	const struct acl_bucket *bk;
	int c;

	for (c = 0; c < XFSM_ACL_MAX_CHAIN; c++) {
		k->chain = c;
		bk = bucket_find(b, k);
		if (!bk || bk->b.n < XFSM_ACL_BUCKET)
			return c;
	}
	return -1;
}

static int tuple_score(const struct xfsm_acl_tuple *t, int chain)
{
	return t->src_len + t->dst_len + ((t->flags & XFSM_ACLT_PROTO) ? 4 : 0) -
	       40 * chain;
}

static int place_rule(struct xfsm_acl_built *b, const struct xfsm_acl_entry *e)
{
	unsigned int fam = rule_family(e), t, best = ~0U;
	int c, score, best_score = -1000000, best_chain = 0, *slot;
	struct xfsm_acl_tuple nt;
	struct xfsm_acl_key k;
	struct acl_bucket *bk;
	bool grid_exists = false;

	memset(&nt, 0, sizeof(nt));
	nt.family = fam;
	nt.src_len = relax(e->src_len);
	nt.dst_len = relax(e->dst_len);
	nt.flags = e->proto_mask == 0xff ? XFSM_ACLT_PROTO : 0;
	nt.min_order = e->order;

	for (t = 0; t < b->set.n_tuples; t++) {
		const struct xfsm_acl_tuple *tp = &b->set.tuples[t];

		if (tp->family == nt.family && tp->src_len == nt.src_len &&
		    tp->dst_len == nt.dst_len && tp->flags == nt.flags)
			grid_exists = true;
		if (!tuple_fits(tp, e, fam))
			continue;
		key_make(&k, tp, t, e->src, e->dst, e->proto, e->dport_lo);
		c = landing(b, &k);
		if (c < 0)
			continue;
		score = tuple_score(tp, c);
		if (score > best_score) {
			best_score = score;
			best = t;
			best_chain = c;
		}
	}
	if (!grid_exists && tuple_score(&nt, 0) > best_score) {
		best = ~0U;
	} else if (best == ~0U) {
		/* every fitting tuple's chain is full: a tuple of exact lengths */
		nt.src_len = e->src_len;
		nt.dst_len = e->dst_len;
	}
	if (best == ~0U) {
		if (b->set.n_tuples >= XFSM_ACL_MAX_TUPLES)
			return -E2BIG;
		best = b->set.n_tuples++;
		b->set.tuples[best] = nt;
		best_chain = 0;
	}
	key_make(&k, &b->set.tuples[best], best, e->src, e->dst, e->proto, e->dport_lo);
	k.chain = best_chain;
	slot = hash_slot(b, &k);
	if (!*slot) {
		if (b->n_bk == b->cap_bk)
			return -E2BIG;	/* sized for one bucket per rule */
		bk = &b->bk[b->n_bk++];
		memset(bk, 0, sizeof(*bk));
		bk->key = k;
		*slot = b->n_bk;
		if (best_chain) {
			k.chain = best_chain - 1;
			bucket_find(b, &k)->b.more = 1;
		}
	} else {
		bk = &b->bk[*slot - 1];
	}
	bk->b.e[bk->b.n++] = *e;
	return 0;
}

static int tuple_order_cmp(const void *pa, const void *pb)
{
	const struct xfsm_acl_tuple *a = pa, *b = pb;

	return a->min_order < b->min_order ? -1 : a->min_order > b->min_order;
}

static void rehash(struct xfsm_acl_built *b)
{
	size_t i;

	memset(b->hash, 0, b->hash_cap * sizeof(b->hash[0]));
	for (i = 0; i < b->n_bk; i++)
		*hash_slot(b, &b->bk[i].key) = i + 1;
}

int xfsm_acl_build(const struct xfsm_acl_entry *rules, size_t n,
		   struct xfsm_acl_built **out)
{
	struct xfsm_acl_rules sorted = {};
	struct xfsm_acl_built *b;
	unsigned int map[XFSM_ACL_MAX_TUPLES], t;
	struct xfsm_acl_tuple tmp[XFSM_ACL_MAX_TUPLES];
	size_t i;
	int err = 0;

	*out = NULL;
	if (n > XFSM_ACL_MAX_RULES)
		return -E2BIG;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cap_bk = n ? n : 1;
	b->bk = calloc(b->cap_bk, sizeof(*b->bk));
	for (b->hash_cap = 16; b->hash_cap < 2 * b->cap_bk; b->hash_cap *= 2)
		;
	b->hash = calloc(b->hash_cap, sizeof(*b->hash));
	sorted.r = n ? malloc(n * sizeof(*rules)) : NULL;
	if (!b->bk || !b->hash || (n && !sorted.r)) {
		err = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(sorted.r, rules, n * sizeof(*rules));
	sorted.n = sorted.cap = n;
	xfsm_acl_rules_sort(&sorted);
	for (i = 0; i < n; i++) {
		sorted.r[i].order = i;
		if (sorted.r[i].flags & XFSM_ACLF_PORT)
			b->set.flags |= XFSM_ACLS_NEEDS_PORT;
		err = place_rule(b, &sorted.r[i]);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR,
				 "ACL rule set needs more than %u tuples (at rule %zu of %zu)",
				 XFSM_ACL_MAX_TUPLES, i + 1, n);
			goto out;
		}
	}
	b->set.n_rules = n;

	/* Sort tuples by their best order and renumber the bucket keys. */
	for (t = 0; t < b->set.n_tuples; t++) {
		tmp[t] = b->set.tuples[t];
		map[t] = t;
	}
	{
		/* sort indexes by min_order (stable on creation order) */
		unsigned int j, idx[XFSM_ACL_MAX_TUPLES];

		for (t = 0; t < b->set.n_tuples; t++)
			idx[t] = t;
		for (t = 1; t < b->set.n_tuples; t++) {
			unsigned int v = idx[t];

			for (j = t; j > 0 && tuple_order_cmp(&tmp[idx[j - 1]], &tmp[v]) > 0; j--)
				idx[j] = idx[j - 1];
			idx[j] = v;
		}
		for (t = 0; t < b->set.n_tuples; t++) {
			b->set.tuples[t] = tmp[idx[t]];
			map[idx[t]] = t;
		}
	}
	for (i = 0; i < b->n_bk; i++)
		b->bk[i].key.tuple = map[b->bk[i].key.tuple];
	rehash(b);
out:
	free(sorted.r);
	if (err) {
		xfsm_acl_built_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void xfsm_acl_built_free(struct xfsm_acl_built *b)
{
	if (!b)
		return;
	free(b->bk);
	free(b->hash);
	free(b);
}

const struct xfsm_acl_set *xfsm_acl_built_set(const struct xfsm_acl_built *b)
{
	return &b->set;
}

size_t xfsm_acl_built_buckets(const struct xfsm_acl_built *b)
{
	return b->n_bk;
}

/* The datapath's walk (bpf/acl.h), over the in-memory buckets. */
int xfsm_acl_classify(const struct xfsm_acl_built *b, const __u32 fv[XFSM_FV_WORDS],
		      struct xfsm_acl_entry *hit, unsigned int *probes)
{
	const struct xfsm_acl_entry *best = NULL;
	struct xfsm_acl_view v;
	struct xfsm_acl_key k;
	__u32 best_order = ~0U, t, i, c;
	unsigned int np = 0;

	xfsm_acl_view_fill(&v, fv);
	for (t = 0; t < b->set.n_tuples && t < XFSM_ACL_MAX_TUPLES; t++) {
		const struct xfsm_acl_tuple *tp = &b->set.tuples[t];
		const struct acl_bucket *bk;

		if (tp->min_order >= best_order)
			break;
		if (tp->family && tp->family != v.family)
			continue;
		key_make(&k, tp, t, v.src, v.dst, v.proto, v.dport);
		for (c = 0; c < XFSM_ACL_MAX_CHAIN; c++) {
			bool more;

			np++;
			k.chain = c;
			bk = bucket_find(b, &k);
			if (!bk)
				break;
			more = bk->b.more;
			for (i = 0; i < bk->b.n && i < XFSM_ACL_BUCKET; i++) {
				const struct xfsm_acl_entry *e = &bk->b.e[i];

				if (e->order >= best_order) {
					more = false;
					break;
				}
				if (xfsm_acl_entry_match(e, &v)) {
					best = e;
					best_order = e->order;
					more = false;
					break;
				}
			}
			if (!more)
				break;
		}
	}
	if (probes)
		*probes = np;
	if (!best)
		return 0;
	if (hit)
		*hit = *best;
	return 1;
}

/* ---- Instance tables ------------------------------------------------------------ */

int xfsm_acl_check(struct xfsm_instance *inst)
{
	if (!inst)
		return -EINVAL;
	if (inst->map_fd[XFSM_M_ACL_SETS] < 0 || inst->map_fd[XFSM_M_ACL_RULES] < 0 ||
	    inst->map_fd[XFSM_M_ACL_STATS] < 0) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s has no ACL maps (offload profile, or a datapath older than the ACL module)",
			 inst->name);
		return -EOPNOTSUPP;
	}
	if (inst->map_value_size[XFSM_M_ACL_RULES] != sizeof(struct xfsm_acl_bucket) ||
	    inst->map_key_size[XFSM_M_ACL_RULES] != sizeof(struct xfsm_acl_key) ||
	    inst->map_value_size[XFSM_M_ACL_SETS] != sizeof(struct xfsm_acl_set) ||
	    inst->map_max_entries[XFSM_M_ACL_SETS] < 2 * XFSM_ACL_TABLES) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: ACL maps do not match this tool's ABI",
			 inst->name);
		return -EPROTO;
	}
	return 0;
}

/* The buffer of `table` the running application slot names. */
static int running_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int *buf)
{
	struct xfsm_app *app = malloc(sizeof(*app));
	__u32 slot;
	int err;

	if (!app)
		return -ENOMEM;
	err = xfsm_running_slot(inst, &slot, app);
	if (!err)
		*buf = app->acl_buf[table] & 1;
	free(app);
	return err;
}

int xfsm_acl_set_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_set *set, unsigned int *buffer)
{
	unsigned int buf;
	__u32 k;
	int err;

	err = xfsm_acl_check(inst);
	if (err)
		return err;
	if (table >= XFSM_ACL_TABLES)
		return -EINVAL;
	err = running_buffer(inst, table, &buf);
	if (err)
		return err;
	if (buffer)
		*buffer = buf;
	k = table * 2 + buf;
	if (set && bpf_map_lookup_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, set))
		return -errno;
	return 0;
}

/* Buckets of the buffers of `tables` that the application does not name. */
struct settle_ctx {
	const struct xfsm_app *app;
	__u32	tables;
};

static bool bucket_unnamed(const void *key, const void *value, void *ctx)
{
	const struct xfsm_acl_key *k = key;
	const struct settle_ctx *c = ctx;
	unsigned int t = k->set / 2;

	if (t >= XFSM_ACL_TABLES)
		return true;
	return (c->tables & (1U << t)) && (k->set & 1) != (c->app->acl_buf[t] & 1);
}

int xfsm_acl_settle(struct xfsm_instance *inst, const struct xfsm_app *app, __u32 tables)
{
	struct settle_ctx c = { .app = app, .tables = tables };
	struct xfsm_acl_set zero = {};
	unsigned int t;
	long n;
	__u32 k;

	n = xfsm_map_delete_if(inst, XFSM_M_ACL_RULES, bucket_unnamed, &c);
	if (n < 0)
		return n;
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (!(tables & (1U << t)))
			continue;
		k = t * 2 + !(app->acl_buf[t] & 1);
		if (bpf_map_update_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, &zero, BPF_ANY))
			return -errno;
	}
	return 0;
}

#define ACL_BATCH	1024

static int write_buckets(struct xfsm_instance *inst, const struct xfsm_acl_built *b, __u16 set)
{
	int fd = inst->map_fd[XFSM_M_ACL_RULES], err = 0;
	struct xfsm_acl_key *keys;
	struct xfsm_acl_bucket *vals;
	size_t done = 0, n, i, written;
	bool batch = true;

	keys = calloc(ACL_BATCH, sizeof(*keys));
	vals = calloc(ACL_BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (done < b->n_bk) {
		n = b->n_bk - done < ACL_BATCH ? b->n_bk - done : ACL_BATCH;
		for (i = 0; i < n; i++) {
			keys[i] = b->bk[done + i].key;
			keys[i].set = set;
			vals[i] = b->bk[done + i].b;
		}
		err = xfsm_map_update_many(fd, keys, vals, n, sizeof(*keys), sizeof(*vals),
					   &batch, &written);
		done += written;
		if (err)
			goto out;
	}
out:
	if (err)
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot write ACL bucket %zu of %zu: %s; the running rules are unchanged",
			 done + 1, b->n_bk, strerror(-err));
	free(keys);
	free(vals);
	return err;
}

int xfsm_acl_write_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int buf,
			  const struct xfsm_acl_built *b, __u32 generation)
{
	struct xfsm_acl_set set;
	__u32 k = table * 2 + (buf & 1);
	int err;

	err = write_buckets(inst, b, k);
	if (err)
		return err;
	set = b->set;
	set.generation = generation;
	if (bpf_map_update_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, &set, BPF_ANY))
		return -errno;
	return 0;
}

int xfsm_acl_install(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n)
{
	struct xfsm_change chg = { .acl_tables = 1U << table };
	int err;

	err = xfsm_acl_check(inst);
	if (err)
		return err;
	if (table >= XFSM_ACL_TABLES)
		return -EINVAL;
	chg.acl_rules[table] = rules;
	chg.acl_n[table] = n;
	return xfsm_apply_change(inst, &chg);
}

struct read_ctx {
	struct xfsm_acl_rules *rs;
	__u16	set;
	int	err;
};

static int read_cb(const void *key, const void *value, void *arg)
{
	const struct xfsm_acl_key *k = key;
	const struct xfsm_acl_bucket *b = value;
	struct read_ctx *c = arg;
	__u32 i;

	if (k->set != c->set)
		return 0;
	for (i = 0; i < b->n && i < XFSM_ACL_BUCKET; i++) {
		c->err = xfsm_acl_rules_add(c->rs, &b->e[i]);
		if (c->err)
			return 1;
	}
	return 0;
}

int xfsm_acl_read(struct xfsm_instance *inst, unsigned int table,
		  struct xfsm_acl_rules *rs)
{
	struct read_ctx c = { .rs = rs };
	unsigned int buf;
	int err;

	memset(rs, 0, sizeof(*rs));
	err = xfsm_acl_set_get(inst, table, NULL, &buf);
	if (err)
		return err;
	c.set = table * 2 + buf;
	err = xfsm_map_walk(inst, XFSM_M_ACL_RULES, read_cb, &c);
	if (c.err)
		err = c.err;
	if (err < 0) {
		xfsm_acl_rules_free(rs);
		return err;
	}
	xfsm_acl_rules_sort(rs);
	return 0;
}

int xfsm_acl_read_stats(struct xfsm_instance *inst, unsigned int table,
			struct xfsm_acl_stats *out)
{
	int fd, ncpu = inst ? inst->nr_cpus : 0, c, i;
	struct xfsm_acl_stats *v;
	__u32 k = table;
	int err;

	err = xfsm_acl_check(inst);
	if (err)
		return err;
	if (table >= XFSM_ACL_TABLES)
		return -EINVAL;
	if (ncpu < 1)
		ncpu = 1;
	fd = inst->map_fd[XFSM_M_ACL_STATS];
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &k, v)) {
		err = -errno;
		free(v);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpu; c++) {
		const __u64 *src = (const __u64 *)&v[c];
		__u64 *dst = (__u64 *)out;

		for (i = 0; i < (int)(sizeof(*out) / 8); i++)
			dst[i] += src[i];
	}
	free(v);
	return 0;
}
