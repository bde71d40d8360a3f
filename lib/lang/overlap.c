/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Overlapping rules (part of the lowering pass).  Rules of a stage may
 * match the same packets: the datapath takes the entry of highest priority
 * (priority, then position in the file), so overlaps need nothing, except
 * where two entries have exactly the same match, which one hash table
 * cannot hold twice.  Of those the winning entry stays and the other is
 * dropped: it could never be taken.
 *
 * A rule all of whose packets are matched first by rules of higher
 * priority can never match: that is what a user wants to hear about.  An
 * entry is such a set of packets, a cube in the space of (state,
 * condition vector, match words) bits; whether the cubes of higher
 * priority cover it is decided by splitting it on a bit they test and it
 * does not, until one cube covers each part or some part is left
 * uncovered.  The work is bounded: past the bound a rule is taken to be
 * able to match, and nothing is said.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define CUBE_WORDS	(2 + XFSM_MATCH_WORDS)
/* Work per stage: cube tests, and splits per entry. */
#define OVERLAP_MAX_TESTS	(64ULL * 1024 * 1024)
#define OVERLAP_MAX_SPLITS	4096

struct cube {
	__u32	v[CUBE_WORDS];
	__u32	m[CUBE_WORDS];
};

static void entry_cube(const struct lang_entry *e, struct cube *q)
{
	q->v[0] = e->m.state & e->m.state_mask;
	q->m[0] = e->m.state_mask;
	q->v[1] = e->m.conds & e->m.cond_mask;
	q->m[1] = e->m.cond_mask;
	for (int i = 0; i < XFSM_MATCH_WORDS; i++) {
		q->v[2 + i] = e->m.match[i] & e->m.match_mask[i];
		q->m[2 + i] = e->m.match_mask[i];
	}
}

static bool cubes_meet(const struct cube *a, const struct cube *b)
{
	for (int i = 0; i < CUBE_WORDS; i++)
		if ((a->v[i] ^ b->v[i]) & a->m[i] & b->m[i])
			return false;
	return true;
}

/* Does a hold every point of q? */
static bool cube_covers(const struct cube *a, const struct cube *q)
{
	for (int i = 0; i < CUBE_WORDS; i++)
		if ((a->m[i] & ~q->m[i]) || ((a->v[i] ^ q->v[i]) & a->m[i]))
			return false;
	return true;
}

static bool cubes_equal(const struct cube *a, const struct cube *b)
{
	return !memcmp(a, b, sizeof(*a));
}

struct cover_ctx {
	const struct cube *cubes;	/* of the whole stage */
	unsigned long long tests;
	unsigned int splits;
	bool gave_up;
};

/*
 * Is q covered by the union of cubes[idx[0..n-1]] (all of which meet q)?
 * idx has room for n more indexes after its n (the parts' lists).
 */
static bool covered(struct cover_ctx *x, const struct cube *q, unsigned int *idx, size_t n)
{
	const struct cube *a;
	struct cube half;
	size_t n0;
	int w = -1;
	__u32 bit = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (cube_covers(&x->cubes[idx[i]], q))
			return true;
	if (++x->splits > OVERLAP_MAX_SPLITS || x->tests > OVERLAP_MAX_TESTS) {
		x->gave_up = true;
		return false;
	}
	/* a bit the first cube tests and q does not (there is one: it meets
	 * q and does not cover it) */
	a = &x->cubes[idx[0]];
	for (int i = 0; i < CUBE_WORDS && w < 0; i++) {
		__u32 d = a->m[i] & ~q->m[i];

		if (d) {
			w = i;
			bit = d & -d;
		}
	}
	if (w < 0)
		return false;	/* cannot happen */
	for (int side = 0; side < 2; side++) {
		half = *q;
		half.m[w] |= bit;
		half.v[w] = side ? half.v[w] | bit : half.v[w] & ~bit;
		n0 = 0;
		for (size_t i = 0; i < n; i++) {
			x->tests++;
			if (cubes_meet(&x->cubes[idx[i]], &half))
				idx[n + n0++] = idx[i];
		}
		if (!covered(x, &half, idx + n, n0))
			return false;
	}
	return true;
}

struct ent_ref {
	const struct cube *q;
	__u32	prio;
	size_t	i;
};

/* Masks, then values, then priority from the highest. */
static int ent_ref_cmp(const void *a, const void *b)
{
	const struct ent_ref *x = a, *y = b;
	int d = memcmp(x->q->m, y->q->m, sizeof(x->q->m));

	if (!d)
		d = memcmp(x->q->v, y->q->v, sizeof(x->q->v));
	if (!d)
		d = x->prio > y->prio ? -1 : x->prio < y->prio;
	if (!d)
		d = x->i < y->i ? -1 : x->i > y->i;
	return d;
}

/* Up to three rule names, "'a'", "'a' and 'b'", "'a', 'b', 'c' and N others". */
static void name_rules(const struct pstage *ps, const unsigned int *rules, size_t n,
		       char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && i < 3 && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s'%s'",
				      i == 0 ? "" : (i == n - 1 && n <= 3) ? " and " : ", ",
				      ps->rules[rules[i]].name);
	if (n > 3 && o < len)
		snprintf(buf + o, len - o, " and %zu other%s", n - 3, n - 3 > 1 ? "s" : "");
}

static int prio_order_cmp(const void *a, const void *b)
{
	const struct ent_ref *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void overlap_resolve(struct lc *c, unsigned int s, struct lang_entry *e, size_t n)
{
	struct pstage *ps = &c->st[s];
	struct cover_ctx x = { 0 };
	struct ent_ref *ref = NULL;
	struct cube *cubes = NULL;
	unsigned int *cand = NULL, *idx = NULL, *by = NULL;
	size_t cap_idx = 0;
	bool *seen = NULL;

	if (!n)
		return;
	cubes = calloc(n, sizeof(*cubes));
	ref = calloc(n, sizeof(*ref));
	cand = calloc(n, sizeof(*cand));
	by = calloc(ps->nrules ? ps->nrules : 1, sizeof(*by));
	seen = calloc(ps->nrules ? ps->nrules : 1, sizeof(*seen));
	if (!cubes || !ref || !cand || !by || !seen)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		entry_cube(&e[i], &cubes[i]);
		ref[i].q = &cubes[i];
		ref[i].prio = e[i].prio;
		ref[i].i = i;
	}
	/* the same match twice: the first after sorting wins */
	qsort(ref, n, sizeof(*ref), ent_ref_cmp);
	for (size_t i = 1; i < n; i++)
		if (cubes_equal(ref[i].q, ref[i - 1].q))
			e[ref[i].i].dropped = true;

	/*
	 * Rules that can never match: every entry of the rule is covered by
	 * the entries of higher priority that meet it.  Entries by priority
	 * (a rule's own are together: no two rules share a priority).
	 */
	qsort(ref, n, sizeof(*ref), prio_order_cmp);
	x.cubes = cubes;
	for (size_t i = 0; i < n && !x.gave_up;) {
		unsigned int rule = e[ref[i].i].rule, n_by = 0;
		__u32 prio = ref[i].prio;
		bool never = true;
		size_t j = i;

		while (j < n && e[ref[j].i].rule == rule)
			j++;
		memset(seen, 0, ps->nrules * sizeof(*seen));
		for (size_t k = i; k < j && never && !x.gave_up; k++) {
			const struct cube *q = &cubes[ref[k].i];
			size_t m = 0, need;

			for (size_t h = 0; h < i; h++) {
				x.tests++;
				if (ref[h].prio > prio && cubes_meet(&cubes[ref[h].i], q))
					cand[m++] = (unsigned int)ref[h].i;
			}
			if (x.tests > OVERLAP_MAX_TESTS) {
				x.gave_up = true;
				break;
			}
			/* each split level's list is at most m long, and a
			 * chain of splits is at most as deep as q has open bits */
			need = m * (CUBE_WORDS * 32 + 1) + 1;
			if (need > cap_idx) {
				unsigned int *ni = realloc(idx, need * sizeof(*idx));

				if (!ni)
					goto nomem;
				idx = ni;
				cap_idx = need;
			}
			memcpy(idx, cand, m * sizeof(*idx));
			x.splits = 0;
			if (!covered(&x, q, idx, m)) {
				never = false;
				break;
			}
			for (size_t h = 0; h < m; h++) {
				unsigned int r = e[cand[h]].rule;

				if (!seen[r]) {
					seen[r] = true;
					by[n_by++] = r;
				}
			}
		}
		/* (a split budget running out ends only this entry's check) */
		if (never && !x.gave_up) {
			char names[200];

			name_rules(ps, by, n_by, names, sizeof(names));
			warn_at(c, ps->rules[rule].name_tok,
				"rule '%s' never matches: %s %s everything it matches first (higher priority or earlier in the file)",
				ps->rules[rule].name, names, n_by > 1 ? "match" : "matches");
		}
		x.gave_up = x.tests > OVERLAP_MAX_TESTS;
		i = j;
	}
	free(cubes);
	free(ref);
	free(cand);
	free(idx);
	free(by);
	free(seen);
	return;
nomem:
	free(cubes);
	free(ref);
	free(cand);
	free(idx);
	free(by);
	free(seen);
	fail_nomem(c);
}
