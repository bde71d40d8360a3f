/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL compiler: a rule set into cut trees (include/xfsm/abi.h), and
 * the in-process classifier that walks them exactly as bpf/acl.h does.
 *
 * A rule is a box: an interval per dimension of the packet key (address
 * words, ports, protocol, ...).  A tree node holds the pieces of rules
 * that meet its box, in order; it becomes a leaf when at most
 * XFSM_ACL_LEAF are left after dropping everything behind the first rule
 * that covers the whole box (first match: nothing later can win there).
 * Otherwise it is cut along one dimension into up to XFSM_ACL_FANOUT
 * intervals chosen from the pieces' bounds so that the children hold
 * balanced shares (the weighted-segment rule of HyperSplit, Qi et al.
 * 2009, with several cuts per node); a piece crossing a cut goes to every
 * child it meets.  The dimension is the one whose cut gives the smallest
 * children and the least replication.
 *
 * Rules wide in the dimension another rule set is cut by multiply when
 * mixed with them (the rule replication HiCuts suffers from), so rules are
 * first sorted into trees by the field that is specific for them, as
 * EffiCuts (Vamanan et al. 2010) does: specific source, else specific
 * destination, else specific destination port, else source port, else
 * the rest.  A leaf that still has more than XFSM_ACL_LEAF rules when no
 * cut separates them any more (or at XFSM_ACL_MAX_DEPTH) keeps the first
 * ones and passes the others, cut to the leaf's box, to a spill tree built
 * after the others.  Every packet walks every tree whose best rule can
 * still win, so a set's cost is bounded by the sum over its trees of the
 * longest path plus the largest leaf: the compiler computes that sum and
 * refuses a set above XFSM_ACL_MAX_LOOKUPS, or needing more trees or
 * nodes than it may use, with an error naming a rule and the limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsm_acl.h"
#include "xfsm/acl_match.h"

#define ND		XFSM_ACL_DIMS
#define NCUT		XFSM_ACL_DIMS - 1	/* FAMF is never cut */
#define SAMPLE		2048	/* pieces looked at to place the cuts of a node */
#define ACL_PASS1_NODES	1	/* nodes per rule the first pass may use */
#define WIDE_REPLICATION 2	/* second pass: a cut placing pieces more
				 * than this many times over ... */
#define WIDE_SHARE	4	/* ... because at least 1 in this many pieces
				 * meets every child, spills those */

/* ---- Boxes -------------------------------------------------------------------- */

struct piece {
	__u32	lo[ND], hi[ND];
	__u32	order;		/* rule order (index into the sorted rules) */
	bool	exact;		/* the box is the rule's exact match set */
};

struct box {
	__u32	lo[ND], hi[ND];
	__u32	cut;		/* of a hull: dimensions where pieces differ */
};

/* Values of an 8-bit field matching value/mask: an interval exactly when
 * the free bits are the low ones; otherwise the interval bounds them. */
static bool masked_range(__u32 v, __u32 m, __u32 *lo, __u32 *hi)
{
	__u32 free = ~m & 0xff;

	*lo = v & m;
	*hi = (v & m) | free;
	return !(free & (free + 1));
}

static void rule_piece(const struct xfsm_acl_entry *e, __u32 order, struct piece *p)
{
	__u32 fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6), i, m;
	bool ex1, ex2;

	for (i = 0; i < ND; i++) {
		p->lo[i] = 0;
		p->hi[i] = ~0U;
	}
	p->order = order;
	if (fam == XFSM_ACLF_V4) {
		p->lo[XFSM_ACLD_FAMILY] = p->hi[XFSM_ACLD_FAMILY] = 4;
	} else if (fam == XFSM_ACLF_V6) {
		p->lo[XFSM_ACLD_FAMILY] = p->hi[XFSM_ACLD_FAMILY] = 6;
	} else if (fam) {
		p->lo[XFSM_ACLD_FAMILY] = 4;
		p->hi[XFSM_ACLD_FAMILY] = 6;	/* 5 never occurs */
	}
	for (i = 0; i < 4; i++) {
		m = xfsm_acl_pfx_mask(e->src_len, i);
		p->lo[XFSM_ACLD_SRC + i] = e->src[i] & m;
		p->hi[XFSM_ACLD_SRC + i] = (e->src[i] & m) | ~m;
		m = xfsm_acl_pfx_mask(e->dst_len, i);
		p->lo[XFSM_ACLD_DST + i] = e->dst[i] & m;
		p->hi[XFSM_ACLD_DST + i] = (e->dst[i] & m) | ~m;
	}
	/* ports, protocol and flags: intervals of the values they take */
	p->lo[XFSM_ACLD_SPORT] = e->sport_lo;
	p->hi[XFSM_ACLD_SPORT] = e->sport_hi;
	p->lo[XFSM_ACLD_DPORT] = e->dport_lo;
	p->hi[XFSM_ACLD_DPORT] = e->dport_hi;
	ex1 = masked_range(e->proto, e->proto_mask, &p->lo[XFSM_ACLD_PROTO],
			   &p->hi[XFSM_ACLD_PROTO]);
	ex2 = masked_range(e->tcp_flags, e->tcp_mask, &p->lo[XFSM_ACLD_TCP_FLAGS],
			   &p->hi[XFSM_ACLD_TCP_FLAGS]);
	p->exact = ex1 && ex2;
	if (e->flags & XFSM_ACLF_VLAN)
		p->lo[XFSM_ACLD_VLAN] = p->hi[XFSM_ACLD_VLAN] = e->vlan;
	if (e->flags & XFSM_ACLF_PORT)
		p->lo[XFSM_ACLD_PORT] = p->hi[XFSM_ACLD_PORT] = e->in_port;
}

static bool covers(const struct piece *p, const struct box *b)
{
	unsigned int d;

	if (!p->exact)
		return false;
	for (d = 0; d < NCUT; d++)
		if (p->lo[d] > b->lo[d] || p->hi[d] < b->hi[d])
			return false;
	return true;
}

/* ---- Growable vectors ------------------------------------------------------------ */

struct u32v {
	__u32	*v;
	size_t	n, cap;
};

static int u32v_push(struct u32v *a, __u32 x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		__u32 *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static void u32v_free(struct u32v *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Sort cut points: insertion sort when few, else a radix sort by bytes. */
static int sort_u32(__u32 *v, size_t n)
{
	size_t i, j, cnt[256];
	__u32 *tmp, *src = v, *dst;
	unsigned int shift;

	if (n <= 32) {
		for (i = 1; i < n; i++) {
			__u32 x = v[i];

			for (j = i; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return 0;
	}
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	dst = tmp;
	for (shift = 0; shift < 32; shift += 8) {
		size_t sum = 0, c;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & 0xff]++] = src[i];
		tmp = src;
		src = dst;
		dst = tmp;
	}
	/* four passes: the result is back in v */
	free(dst == v ? src : dst);
	return 0;
}

/* ---- The built set ----------------------------------------------------------------- */

struct xfsm_acl_built {
	struct xfsm_acl_set set;
	struct xfsm_acl_entry *rules;	/* by order */
	struct xfsm_acl_node *nodes;
	size_t	n_nodes, cap_nodes;
};

/* The compiler's working state. */
struct tb {
	struct xfsm_acl_built *b;
	struct piece *pc;
	size_t	n_pc, cap_pc;
	struct u32v spill;		/* pieces for the next tree */
	size_t	max_nodes;
	size_t	work, max_work;		/* piece placements, bounded */
	bool	spill_wide;		/* move pieces a cut replicates everywhere */
	unsigned int max_depth;
	unsigned int tree_cost;		/* worst path of the tree being built */
	unsigned int tree_depth;
	int	err;
	__u32	err_order;		/* rule at fault, when err is set */
};

static int piece_add(struct tb *t, const struct piece *p)
{
	if (t->n_pc == t->cap_pc) {
		size_t cap = t->cap_pc ? 2 * t->cap_pc : 1024;
		struct piece *v = realloc(t->pc, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->pc = v;
		t->cap_pc = cap;
	}
	t->pc[t->n_pc++] = *p;
	return 0;
}

/* Reserve n consecutive nodes; index of the first, or -1 with t->err. */
static long nodes_alloc(struct tb *t, size_t n, __u32 order)
{
	struct xfsm_acl_built *b = t->b;
	size_t first = b->n_nodes;

	if (b->n_nodes + n > t->max_nodes) {
		t->err = -ENOSPC;
		t->err_order = order;
		return -1;
	}
	if (b->n_nodes + n > b->cap_nodes) {
		size_t cap = b->cap_nodes ? b->cap_nodes : 1024;
		struct xfsm_acl_node *v;

		while (cap < b->n_nodes + n)
			cap *= 2;
		v = realloc(b->nodes, cap * sizeof(*v));
		if (!v) {
			t->err = -ENOMEM;
			return -1;
		}
		b->nodes = v;
		b->cap_nodes = cap;
	}
	memset(&b->nodes[first], 0, n * sizeof(b->nodes[0]));
	b->n_nodes += n;
	return first;
}

/* ---- Choosing a cut ----------------------------------------------------------------- */

struct cut {
	int	dim;
	unsigned int k;			/* children */
	__u32	ub[XFSM_ACL_FANOUT - 1];	/* child i ends at ub[i] (i < k - 1) */
	size_t	sum, max;		/* placements into children, largest child */
	double	score;
};

static unsigned int child_of(const struct cut *c, __u32 v)
{
	unsigned int i, n = 0;

	for (i = 0; i + 1 < c->k; i++)
		n += c->ub[i] < v;
	return n;
}

static __u32 clip_lo(const struct piece *p, const struct box *b, int d)
{
	return p->lo[d] > b->lo[d] ? p->lo[d] : b->lo[d];
}

static __u32 clip_hi(const struct piece *p, const struct box *b, int d)
{
	return p->hi[d] < b->hi[d] ? p->hi[d] : b->hi[d];
}

/*
 * The best cut of dimension d for the pieces L of box b: candidate cut
 * points are where a piece starts or ends inside the box; the segments
 * between them are weighed by the pieces over them and the cuts placed at
 * even shares of the total weight.  0, or -1 when d cannot be cut.
 */
static int eval_dim(struct tb *t, const __u32 *L, size_t n, const struct box *b, int d,
		    struct cut *c)
{
	size_t step = n > SAMPLE ? n / SAMPLE : 1, i, m = 0, j, cnt[XFSM_ACL_FANOUT] = { 0 };
	__u32 *cp, *w;
	__u64 total = 0, acc = 0;
	unsigned int k;

	cp = malloc(2 * (n / step + 1) * sizeof(*cp));
	if (!cp) {
		t->err = -ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i += step) {
		const struct piece *p = &t->pc[L[i]];

		if (p->lo[d] > b->lo[d])
			cp[m++] = p->lo[d];
		if (p->hi[d] < b->hi[d])
			cp[m++] = p->hi[d] + 1;
	}
	if (!m) {
		free(cp);
		return -1;
	}
	if (sort_u32(cp, m)) {
		free(cp);
		t->err = -ENOMEM;
		return -1;
	}
	for (i = 1, j = 1; i < m; i++)
		if (cp[i] != cp[j - 1])
			cp[j++] = cp[i];
	m = j;
	memset(c, 0, sizeof(*c));
	c->dim = d;
	if (m < XFSM_ACL_FANOUT) {
		for (i = 0; i < m; i++)
			c->ub[i] = cp[i] - 1;
		c->k = m + 1;
	} else {
		/* segment s covers [cp[s-1], cp[s] - 1] (s = 0: from the box's
		 * low end; s = m: to its high end); weight = pieces over it */
		w = calloc(m + 2, sizeof(*w));
		if (!w) {
			free(cp);
			t->err = -ENOMEM;
			return -1;
		}
		for (i = 0; i < n; i += step) {
			const struct piece *p = &t->pc[L[i]];
			__u32 lo = clip_lo(p, b, d), hi = clip_hi(p, b, d);
			size_t a = 0, z = m, x;

			/* segments: number of cut points <= value */
			for (x = m; a < x;) {
				size_t mid = (a + x) / 2;

				if (cp[mid] <= lo)
					a = mid + 1;
				else
					x = mid;
			}
			for (x = a; x < z;) {
				size_t mid = (x + z) / 2;

				if (cp[mid] <= hi)
					x = mid + 1;
				else
					z = mid;
			}
			w[a]++;
			w[x + 1]--;
		}
		for (i = 1; i <= m; i++)
			w[i] += w[i - 1];
		for (i = 0; i <= m; i++)
			total += w[i] + 1;	/* + 1: even empty stretches count */
		/* walk the segments; start a new child before one that would
		 * take the current child over an even share, so that a heavy
		 * segment ends up alone */
		k = 0;
		for (i = 0; i <= m; i++) {
			if (i && acc && (acc + w[i] + 1) * XFSM_ACL_FANOUT > total &&
			    k < XFSM_ACL_FANOUT - 1) {
				c->ub[k++] = cp[i - 1] - 1;
				acc = 0;
			}
			acc += w[i] + 1;
		}
		if (!k)
			c->ub[k++] = cp[m / 2] - 1;
		c->k = k + 1;
		free(w);
	}
	free(cp);
	/* child sizes over the sample, scaled (split_apply() places every
	 * piece of the cut chosen) */
	for (i = 0; i < n; i += step) {
		const struct piece *p = &t->pc[L[i]];
		unsigned int a = child_of(c, clip_lo(p, b, d)), z = child_of(c, clip_hi(p, b, d));

		c->sum += (z - a + 1) * step;
		for (; a <= z; a++)
			cnt[a] += step;
	}
	for (k = 0; k < c->k; k++)
		if (cnt[k] > c->max)
			c->max = cnt[k];
	return 0;
}

/* Smaller is better: children as small as possible, replication as low. */
static double cut_score(const struct cut *c, size_t n)
{
	return (double)c->max / n + 0.5 * (double)c->sum / n;
}

/* ---- Building a tree -------------------------------------------------------------------- */

/* Drop the pieces after the first one covering the box (L is in order). */
static size_t prune(struct tb *t, __u32 *L, size_t n, const struct box *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (covers(&t->pc[L[i]], b))
			return i + 1;
	return n;
}

/* Pass piece `pi`, cut to box b, to the next tree. */
static int spill_piece(struct tb *t, __u32 pi, const struct box *b)
{
	struct piece p = t->pc[pi];
	unsigned int d;

	for (d = 0; d < NCUT; d++) {
		p.lo[d] = clip_lo(&p, b, d);
		p.hi[d] = clip_hi(&p, b, d);
	}
	if (piece_add(t, &p) || u32v_push(&t->spill, t->n_pc - 1))
		return t->err = -ENOMEM;
	return 0;
}

/* Does piece pi meet every child of cut c? */
static bool spans_all(const struct tb *t, __u32 pi, const struct box *b, const struct cut *c)
{
	const struct piece *p = &t->pc[pi];

	return child_of(c, clip_lo(p, b, c->dim)) == 0 &&
	       child_of(c, clip_hi(p, b, c->dim)) == c->k - 1;
}

/* Does every packet rule x matches match rule y too?  (Exact, field by
 * field: masks no interval describes included.) */
static bool masked_within(__u8 yv, __u8 ym, __u8 xv, __u8 xm)
{
	return !(ym & ~xm) && (xv & ym) == (yv & ym);
}

static bool subsumes(const struct xfsm_acl_entry *y, const struct xfsm_acl_entry *x)
{
	__u32 fy = y->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);
	__u32 fx = x->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6), i;

	if (fy && (!fx || (fx & ~fy)))
		return false;
	if (y->src_len > x->src_len || y->dst_len > x->dst_len)
		return false;
	for (i = 0; i < 4; i++) {
		if ((x->src[i] & xfsm_acl_pfx_mask(y->src_len, i)) != y->src[i] ||
		    (x->dst[i] & xfsm_acl_pfx_mask(y->dst_len, i)) != y->dst[i])
			return false;
	}
	if (!masked_within(y->proto, y->proto_mask, x->proto, x->proto_mask) ||
	    !masked_within(y->tcp_flags, y->tcp_mask, x->tcp_flags, x->tcp_mask))
		return false;
	if (y->sport_lo > x->sport_lo || y->sport_hi < x->sport_hi ||
	    y->dport_lo > x->dport_lo || y->dport_hi < x->dport_hi)
		return false;
	if ((y->flags & XFSM_ACLF_PORT) &&
	    (!(x->flags & XFSM_ACLF_PORT) || x->in_port != y->in_port))
		return false;
	if ((y->flags & XFSM_ACLF_VLAN) &&
	    (!(x->flags & XFSM_ACLF_VLAN) || x->vlan != y->vlan))
		return false;
	return true;
}

/* Drop the pieces of rules an earlier rule of L shadows completely (an
 * identical rule again, say): they can never win.  O(n * kept), for
 * lists too long for a leaf only.  Returns the new length. */
static size_t drop_shadowed(const struct tb *t, __u32 *L, size_t n)
{
	const struct xfsm_acl_entry *r = t->b->rules;
	size_t i, j, m = 0;

	for (i = 0; i < n; i++) {
		__u32 o = t->pc[L[i]].order;

		for (j = 0; j < m; j++) {
			__u32 oj = t->pc[L[j]].order;

			if (oj != o && subsumes(&r[oj], &r[o]))
				break;
		}
		if (j == m)
			L[m++] = L[i];
	}
	return m;
}

/* Make node `slot` a leaf of the first XFSM_ACL_LEAF distinct rules of L;
 * the other pieces, cut to the box, wait for the next tree. */
static int make_leaf(struct tb *t, long slot, __u32 *L, size_t n, const struct box *b,
		     unsigned int depth)
{
	struct xfsm_acl_node *nd = &t->b->nodes[slot];
	size_t i;

	nd->dim = XFSM_ACLN_LEAF;
	if (n > XFSM_ACL_LEAF)
		n = drop_shadowed(t, L, n);
	for (i = 0; i < n; i++) {
		struct piece p = t->pc[L[i]];

		if (nd->n && nd->rule[nd->n - 1] == p.order)
			continue;	/* another piece of the same rule */
		if (nd->n < XFSM_ACL_LEAF) {
			nd->rule[nd->n++] = p.order;
			continue;
		}
		if (spill_piece(t, L[i], b))
			return t->err;
	}
	if (depth + 1 + nd->n > t->tree_cost)
		t->tree_cost = depth + 1 + nd->n;
	if (depth > t->tree_depth)
		t->tree_depth = depth;
	return 0;
}

/* Shrink box b to the hull of the pieces in it: a packet outside every
 * piece matches none of them, so where it goes does not matter, and a
 * rule covering the hull covers every packet the later ones match. */
static void hull(const struct tb *t, const __u32 *L, size_t n, const struct box *b,
		 struct box *h)
{
	__u32 lo_max[NCUT], hi_min[NCUT];
	size_t i;
	unsigned int d;

	*h = *b;
	h->cut = 0;
	if (!n)
		return;
	for (d = 0; d < NCUT; d++) {
		h->lo[d] = lo_max[d] = t->pc[L[0]].lo[d];
		h->hi[d] = hi_min[d] = t->pc[L[0]].hi[d];
	}
	for (i = 1; i < n; i++) {
		const struct piece *p = &t->pc[L[i]];

		for (d = 0; d < NCUT; d++) {
			if (p->lo[d] < h->lo[d])
				h->lo[d] = p->lo[d];
			if (p->lo[d] > lo_max[d])
				lo_max[d] = p->lo[d];
			if (p->hi[d] > h->hi[d])
				h->hi[d] = p->hi[d];
			if (p->hi[d] < hi_min[d])
				hi_min[d] = p->hi[d];
		}
	}
	for (d = 0; d < NCUT; d++) {
		/* clipped to b: a dimension can be cut where the pieces'
		 * clipped bounds differ */
		if (h->lo[d] < b->lo[d])
			h->lo[d] = b->lo[d];
		if (lo_max[d] < b->lo[d])
			lo_max[d] = b->lo[d];
		if (h->hi[d] > b->hi[d])
			h->hi[d] = b->hi[d];
		if (hi_min[d] > b->hi[d])
			hi_min[d] = b->hi[d];
		if (lo_max[d] > h->lo[d] || hi_min[d] < h->hi[d])
			h->cut |= 1U << d;
	}
}

/* The children of a cut: their pieces (pruned) and where each ends. */
struct split {
	struct u32v ch[XFSM_ACL_FANOUT];
	__u32	hi[XFSM_ACL_FANOUT];
	struct box hull[XFSM_ACL_FANOUT];	/* of each child's pieces */
	unsigned int k;
	size_t	max;
};

static void split_free(struct split *sp)
{
	unsigned int k;

	for (k = 0; k < XFSM_ACL_FANOUT; k++)
		u32v_free(&sp->ch[k]);
}

static void child_box(const struct split *sp, int dim, unsigned int k, const struct box *b,
		      struct box *cb)
{
	*cb = *b;
	cb->lo[dim] = k ? sp->hi[k - 1] + 1 : b->lo[dim];
	cb->hi[dim] = sp->hi[k];
}

/* Apply cut c to pieces L: every piece goes to each child it meets, each
 * child is pruned, and neighbours left with the same pieces merge. */
static int split_apply(struct tb *t, const __u32 *L, size_t n, const struct box *b,
		       const struct cut *c, struct split *sp)
{
	unsigned int k, kept = 0;
	struct box cb;
	size_t i;

	memset(sp, 0, sizeof(*sp));
	for (i = 0; i < n; i++) {
		const struct piece *p = &t->pc[L[i]];
		unsigned int a = child_of(c, clip_lo(p, b, c->dim));
		unsigned int z = child_of(c, clip_hi(p, b, c->dim));

		for (; a <= z; a++)
			if (u32v_push(&sp->ch[a], L[i]))
				return t->err = -ENOMEM;
	}
	for (k = 0; k < c->k; k++)
		sp->hi[k] = k + 1 < c->k ? c->ub[k] : b->hi[c->dim];
	for (k = 0; k < c->k; k++) {
		child_box(sp, c->dim, k, b, &cb);
		hull(t, sp->ch[k].v, sp->ch[k].n, &cb, &sp->hull[k]);
		sp->ch[k].n = prune(t, sp->ch[k].v, sp->ch[k].n, &sp->hull[k]);
	}
	for (k = 0; k < c->k; k++) {
		if (kept && sp->ch[kept - 1].n == sp->ch[k].n &&
		    !memcmp(sp->ch[kept - 1].v, sp->ch[k].v, sp->ch[k].n * sizeof(__u32))) {
			/* the previous child extends over this one: its pieces
			 * are the same, so is its hull but in the cut dimension */
			sp->hi[kept - 1] = sp->hi[k];
			if (sp->ch[k].n)
				sp->hull[kept - 1].hi[c->dim] = sp->hull[k].hi[c->dim];
			else
				sp->hull[kept - 1].hi[c->dim] = sp->hi[k];
			sp->hull[kept - 1].cut |= sp->hull[k].cut;
			u32v_free(&sp->ch[k]);
			continue;
		}
		if (kept != k) {
			sp->ch[kept] = sp->ch[k];
			memset(&sp->ch[k], 0, sizeof(sp->ch[k]));
			sp->hi[kept] = sp->hi[k];
			sp->hull[kept] = sp->hull[k];
		}
		if (sp->ch[kept].n > sp->max)
			sp->max = sp->ch[kept].n;
		kept++;
	}
	sp->k = kept;
	return 0;
}

static int cut_cmp(const void *pa, const void *pb)
{
	const struct cut *a = pa, *b = pb;

	return a->score < b->score ? -1 : a->score > b->score;
}

/*
 * Build node `slot` from pieces L (in order) within box `outer`; `ready`:
 * outer is already their hull and L is pruned (a child of a cut).
 */
static int build_node(struct tb *t, long slot, __u32 *L, size_t n, const struct box *outer,
		      bool ready, unsigned int depth)
{
	struct cut cand[NCUT];
	struct split sp;
	struct box hb, *b = &hb;
	unsigned int k, d, nc = 0;
	long first;
	size_t i;
	int err = 0;

	if (ready) {
		hb = *outer;
	} else {
		hull(t, L, n, outer, &hb);
		n = prune(t, L, n, b);
	}
	if (n <= XFSM_ACL_LEAF || depth >= XFSM_ACL_MAX_DEPTH)
		return make_leaf(t, slot, L, n, b, depth);
	t->work += n;
	if (t->work > t->max_work) {
		t->err = -ENOSPC;
		t->err_order = t->pc[L[0]].order;
		return t->err;
	}
	for (d = 0; d < NCUT; d++) {
		if (!(b->cut & (1U << d)) || eval_dim(t, L, n, b, d, &cand[nc]))
			continue;
		cand[nc].score = cut_score(&cand[nc], n);
		nc++;
	}
	if (t->err)
		return t->err;
	qsort(cand, nc, sizeof(cand[0]), cut_cmp);
	/* the best cut that leaves every child smaller once pruned */
	for (d = 0; d < nc; d++) {
		err = split_apply(t, L, n, b, &cand[d], &sp);
		if (err)
			goto out;
		if (sp.k >= 2 && sp.max < n)
			break;
		split_free(&sp);
	}
	if (d == nc)
		return make_leaf(t, slot, L, n, b, depth);	/* nothing separates them */
	if (t->spill_wide) {
		/*
		 * A cut that replicates much, mostly because of pieces wide
		 * in its dimension (in every child): those go to the spill
		 * tree, where they are cut by what is specific in them.
		 */
		size_t sum = 0, nw = 0, m = 0;

		for (k = 0; k < sp.k; k++)
			sum += sp.ch[k].n;
		for (i = 0; sum > WIDE_REPLICATION * n && i < n; i++)
			nw += spans_all(t, L[i], b, &cand[d]);
		if (nw * WIDE_SHARE >= n && nw < n) {
			for (i = 0; i < n; i++) {
				if (!spans_all(t, L[i], b, &cand[d]))
					L[m++] = L[i];
				else if ((err = spill_piece(t, L[i], b)))
					goto out;
			}
			split_free(&sp);
			return build_node(t, slot, L, m, b, false, depth);
		}
	}
	first = nodes_alloc(t, sp.k, t->pc[L[0]].order);
	if (first < 0) {
		err = t->err;
		goto out;
	}
	t->b->nodes[slot].dim = cand[d].dim;
	t->b->nodes[slot].first = first;
	for (k = 0; k < XFSM_ACL_FANOUT - 1; k++)
		t->b->nodes[slot].ub[k] = k + 1 < sp.k ? sp.hi[k] : ~0U;
	for (k = 0; k < sp.k && !err; k++)
		err = build_node(t, first + k, sp.ch[k].v, sp.ch[k].n, &sp.hull[k], true,
				 depth + 1);
out:
	split_free(&sp);
	return err;
}

/* One tree of pieces L (in order). */
static int build_tree(struct tb *t, struct u32v *L)
{
	struct xfsm_acl_set *s = &t->b->set;
	struct xfsm_acl_tree *tr;
	struct box b;
	long root;
	unsigned int d;
	int err;

	if (s->n_trees >= XFSM_ACL_MAX_TREES) {
		t->err = -E2BIG;
		t->err_order = t->pc[L->v[0]].order;
		return t->err;
	}
	root = nodes_alloc(t, 1, t->pc[L->v[0]].order);
	if (root < 0)
		return t->err;
	for (d = 0; d < ND; d++) {
		b.lo[d] = 0;
		b.hi[d] = ~0U;
	}
	t->tree_cost = 0;
	t->tree_depth = 0;
	err = build_node(t, root, L->v, L->n, &b, false, 0);
	if (err)
		return err;
	tr = &s->trees[s->n_trees++];
	tr->root = root;
	tr->min_order = t->pc[L->v[0]].order;
	s->max_lookups += t->tree_cost;
	if (t->tree_depth > t->max_depth)
		t->max_depth = t->tree_depth;
	return 0;
}

/* ---- The whole set ------------------------------------------------------------------------ */

/* Which tree family a rule starts in: the first field specific for it. */
enum { T_SRC, T_DST, T_DPORT, T_SPORT, T_REST, T__N };

static int rule_class(const struct xfsm_acl_entry *e)
{
	unsigned int small = (e->flags & XFSM_ACLF_V6) && !(e->flags & XFSM_ACLF_V4) ? 32 : 16;

	if (e->src_len >= small)
		return T_SRC;
	if (e->dst_len >= small)
		return T_DST;
	if (e->dport_hi - e->dport_lo < 256)
		return T_DPORT;
	if (e->sport_hi - e->sport_lo < 256)
		return T_SPORT;
	return T_REST;
}

static int spill_cmp(const void *pa, const void *pb, void *arg)
{
	const struct piece *pc = arg;
	__u32 a = pc[*(const __u32 *)pa].order, b = pc[*(const __u32 *)pb].order;

	if (a != b)
		return a < b ? -1 : 1;
	return *(const __u32 *)pa < *(const __u32 *)pb ? -1 : 1;
}

static int tree_cmp(const void *pa, const void *pb)
{
	const struct xfsm_acl_tree *a = pa, *b = pb;

	return a->min_order < b->min_order ? -1 : a->min_order > b->min_order;
}

/* "rule ID (TEXT)", the text in native syntax without its id. */
static void describe_rule(const struct xfsm_acl_built *b, __u32 order, char *buf, size_t len)
{
	char text[256], *rest;

	xfsm_acl_format(&b->rules[order], text, sizeof(text));
	rest = strchr(text, ' ');	/* after "id N" */
	snprintf(buf, len, "rule %u (%s)", b->rules[order].rule_id, rest ? rest + 1 : text);
}

/*
 * One attempt at the trees of b->rules (sorted, orders set): the trees of
 * the rule classes, then spill trees while pieces are left.  spill_wide:
 * also move the pieces a cut would replicate into every child to the
 * spill tree.  0, or an error with bi->limit and the rule at fault.
 */
static int compile_pass(struct xfsm_acl_built *b, size_t max_nodes, bool spill_wide,
			struct xfsm_acl_build_info *bi)
{
	struct u32v cls[T__N] = { 0 };
	struct tb t = { .b = b, .spill_wide = spill_wide };
	size_t i, n = b->set.n_rules;
	int err = 0;

	b->n_nodes = 0;
	b->set.n_trees = 0;
	b->set.max_lookups = 0;
	memset(b->set.trees, 0, sizeof(b->set.trees));
	memset(bi, 0, sizeof(*bi));
	t.max_nodes = max_nodes;
	t.max_work = 256 * (max_nodes + n);
	for (i = 0; i < n && !err; i++) {
		struct piece p;

		rule_piece(&b->rules[i], i, &p);
		err = piece_add(&t, &p);
		if (!err)
			err = u32v_push(&cls[rule_class(&b->rules[i])], i);
	}
	for (i = 0; i < T__N && !err; i++)
		if (cls[i].n)
			err = build_tree(&t, &cls[i]);
	while (!err && t.spill.n) {
		struct u32v L = t.spill;

		memset(&t.spill, 0, sizeof(t.spill));
		qsort_r(L.v, L.n, sizeof(L.v[0]), spill_cmp, t.pc);
		err = build_tree(&t, &L);
		u32v_free(&L);
	}
	if (!err && b->set.max_lookups > XFSM_ACL_MAX_LOOKUPS) {
		err = -E2BIG;
		bi->limit = XFSM_ACL_LIMIT_LOOKUPS;
		bi->need = b->set.max_lookups;
		bi->have = XFSM_ACL_MAX_LOOKUPS;
		/* the tree that took the sum over the limit */
		t.err_order = b->set.trees[b->set.n_trees - 1].min_order;
	} else if (err == -ENOSPC && t.work > t.max_work) {
		bi->limit = XFSM_ACL_LIMIT_WORK;
	} else if (err == -ENOSPC) {
		bi->limit = XFSM_ACL_LIMIT_NODES;
		bi->need = b->n_nodes;
		bi->have = t.max_nodes;
	} else if (err == -E2BIG) {
		bi->limit = XFSM_ACL_LIMIT_TREES;
		bi->have = XFSM_ACL_MAX_TREES;
	}
	if (bi->limit) {
		bi->rule_order = t.err_order;
		bi->rule_id = b->rules[t.err_order].rule_id;
		describe_rule(b, t.err_order, bi->rule_text, sizeof(bi->rule_text));
	}
	for (i = 0; i < T__N; i++)
		u32v_free(&cls[i]);
	u32v_free(&t.spill);
	free(t.pc);
	if (err)
		return err;
	qsort(b->set.trees, b->set.n_trees, sizeof(b->set.trees[0]), tree_cmp);
	b->set.n_nodes = b->n_nodes;
	bi->trees = b->set.n_trees;
	bi->nodes = b->n_nodes;
	bi->max_lookups = b->set.max_lookups;
	bi->max_depth = t.max_depth;
	return 0;
}

int xfsm_acl_compile(const struct xfsm_acl_entry *rules, size_t n,
		     const struct xfsm_acl_limits *lim, struct xfsm_acl_built **out,
		     struct xfsm_acl_build_info *info)
{
	struct xfsm_acl_build_info bi1, bi2, dummy;
	size_t cap_nodes, first_nodes, i;
	struct xfsm_acl_built *b;
	int err;

	*out = NULL;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (n > XFSM_ACL_MAX_RULES || (lim && lim->max_rules && n > lim->max_rules)) {
		info->limit = XFSM_ACL_LIMIT_RULES;
		info->need = n;
		info->have = lim && lim->max_rules && lim->max_rules < XFSM_ACL_MAX_RULES ?
			     lim->max_rules : XFSM_ACL_MAX_RULES;
		return -ENOSPC;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->rules = malloc((n ? n : 1) * sizeof(*b->rules));
	if (!b->rules) {
		free(b);
		return -ENOMEM;
	}
	if (n) {
		struct xfsm_acl_rules sorted = { .r = b->rules, .n = n, .cap = n };

		memcpy(b->rules, rules, n * sizeof(*rules));
		xfsm_acl_rules_sort(&sorted);
	}
	for (i = 0; i < n; i++) {
		struct xfsm_acl_entry *e = &b->rules[i];
		unsigned int w;

		e->order = i;
		if (e->flags & XFSM_ACLF_PORT)
			b->set.flags |= XFSM_ACLS_NEEDS_PORT;
		/* a value outside its mask or prefix means nothing: clear it,
		 * so that the datapath's check and the trees agree */
		for (w = 0; w < 4; w++) {
			e->src[w] &= xfsm_acl_pfx_mask(e->src_len, w);
			e->dst[w] &= xfsm_acl_pfx_mask(e->dst_len, w);
		}
		e->proto &= e->proto_mask;
		e->tcp_flags &= e->tcp_mask;
	}
	b->set.n_rules = n;
	cap_nodes = lim && lim->max_nodes ? lim->max_nodes : 64 * (n + 1024);
	/*
	 * First without moving wide pieces out: fewer trees, so fewer lookups
	 * per packet, as long as replication stays modest (a budget of
	 * ACL_PASS1_NODES per rule).  Sets that replicate more (rules wide in
	 * the field others are cut by, in one class) take the second pass.
	 */
	first_nodes = ACL_PASS1_NODES * n + 4096;
	if (first_nodes > cap_nodes)
		first_nodes = cap_nodes;
	err = compile_pass(b, first_nodes, false, &bi1);
	if (err && err != -ENOMEM) {
		err = compile_pass(b, cap_nodes, true, &bi2);
		/* out of nodes at the table's own capacity the first time:
		 * raising it is the way out, say so */
		*info = err && bi1.limit == XFSM_ACL_LIMIT_NODES && first_nodes == cap_nodes ?
			bi1 : bi2;
	} else {
		*info = bi1;
	}
	if (err) {
		xfsm_acl_built_free(b);
		return err;
	}
	*out = b;
	return 0;
}

int xfsm_acl_build(const struct xfsm_acl_entry *rules, size_t n, struct xfsm_acl_built **out)
{
	return xfsm_acl_compile(rules, n, NULL, out, NULL);
}

void xfsm_acl_built_free(struct xfsm_acl_built *b)
{
	if (!b)
		return;
	free(b->rules);
	free(b->nodes);
	free(b);
}

const struct xfsm_acl_set *xfsm_acl_built_set(const struct xfsm_acl_built *b)
{
	return &b->set;
}

const struct xfsm_acl_entry *xfsm_acl_built_rules(const struct xfsm_acl_built *b)
{
	return b->rules;
}

const struct xfsm_acl_node *xfsm_acl_built_nodes(const struct xfsm_acl_built *b)
{
	return b->nodes;
}

/* ---- In process: the datapath's walk (bpf/acl.h), lookup for lookup -------------------- */

int xfsm_acl_classify(const struct xfsm_acl_built *b, const __u32 fv[XFSM_FV_WORDS],
		      struct xfsm_acl_entry *hit, unsigned int *lookups)
{
	const struct xfsm_acl_set *s = &b->set;
	struct xfsm_acl_view v;
	__u32 best = ~0U, t, d, i, idx;
	unsigned int nl = 0;

	xfsm_acl_view_fill(&v, fv);
	for (t = 0; t < s->n_trees && t < XFSM_ACL_MAX_TREES; t++) {
		const struct xfsm_acl_node *nd = NULL;

		if (s->trees[t].min_order >= best)
			break;
		idx = s->trees[t].root;
		for (d = 0; d <= XFSM_ACL_MAX_DEPTH && idx < b->n_nodes; d++) {
			nd = &b->nodes[idx];
			nl++;
			if (nd->dim == XFSM_ACLN_LEAF)
				break;
			idx = nd->first + xfsm_acl_child(nd, v.key[nd->dim & (XFSM_ACL_DIMS - 1)]);
			nd = NULL;
		}
		if (!nd)
			continue;	/* never for a set this file built */
		for (i = 0; i < nd->n && i < XFSM_ACL_LEAF; i++) {
			__u32 r = nd->rule[i];

			if (r >= best || r >= s->n_rules)
				break;
			nl++;
			if (xfsm_acl_entry_match(&b->rules[r], &v)) {
				best = r;
				break;
			}
		}
	}
	if (lookups)
		*lookups = nl;
	if (best == ~0U)
		return 0;
	if (hit)
		*hit = b->rules[best];
	return 1;
}
