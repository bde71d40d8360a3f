/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The lowering pass of the xfsm language: the checked program into the
 * tables of the datapath (struct xfsm_image) and the names the datapath
 * does not keep.  A stage's keys become field-vector word lists (with the
 * swapped lists of a symmetric stage); its match words are the union of
 * the fields its rules match on; each rule becomes one or more table
 * entries (a range is a set of prefixes), ranked by priority and then by
 * position in the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static unsigned int fill_key_words(const int *fields, unsigned int n, bool rev,
				   __u8 *words)
{
	unsigned int w = 0;

	for (unsigned int i = 0; i < XFSM_KEY_WORDS; i++)
		words[i] = XFSM_FW_ZERO;
	for (unsigned int i = 0; i < n; i++) {
		int f = rev ? field_sym_partner(fields[i]) : fields[i];

		for (unsigned int k = 0; k < lang_field_table[f].nwords; k++)
			words[w++] = (__u8)(lang_field_table[f].word + k);
	}
	return w;
}

static void lower_keys(struct lc *c, unsigned int s)
{
	struct xfsm_stage_names *sn = &c->nm->stages[s];
	struct xfsm_stage *st = &c->img->app.stages[s];
	struct pstage *ps = &c->st[s];

	if (ps->has_lookup && !ps->has_update) {
		memcpy(sn->update_fields, sn->lookup_fields, sizeof(sn->lookup_fields));
		sn->n_update_fields = sn->n_lookup_fields;
	} else if (ps->has_update && !ps->has_lookup) {
		memcpy(sn->lookup_fields, sn->update_fields, sizeof(sn->update_fields));
		sn->n_lookup_fields = sn->n_update_fields;
	}
	fill_key_words(sn->lookup_fields, sn->n_lookup_fields, false, st->lookup_words);
	fill_key_words(sn->update_fields, sn->n_update_fields, false, st->update_words);
	fill_key_words(sn->lookup_fields, sn->n_lookup_fields, sn->symmetric, st->lookup_rev);
	fill_key_words(sn->update_fields, sn->n_update_fields, sn->symmetric, st->update_rev);
	sn->same_keys = sn->n_lookup_fields == sn->n_update_fields &&
			!memcmp(sn->lookup_fields, sn->update_fields,
				sn->n_lookup_fields * sizeof(int));
	st->flags = 0;
	if (sn->symmetric)
		st->flags |= XFSM_SF_SYMMETRIC;
	if (sn->same_keys)
		st->flags |= XFSM_SF_SAME_KEYS;
}

/* An alternative is always written whole, through these: a field left
 * unwritten would carry what the heap held into the rule's conditions
 * (c->alts grows by realloc). */
static struct mpair alt_value(lang_u128 v, lang_u128 m)
{
	return (struct mpair){ .v = v, .m = m };
}

static struct mpair alt_conds(__u32 conds)
{
	return (struct mpair){ .conds = conds, .cmask = conds };
}

/* Split [lo, hi] of a `bits`-wide field into value/mask prefixes; returns
 * how many (at most 2 * bits), max + 1 when they do not fit. */
static size_t range_to_prefixes(lang_u128 lo, lang_u128 hi, unsigned int bits,
				struct mpair *out, size_t max)
{
	lang_u128 full = bits >= 128 ? ~(lang_u128)0 : (((lang_u128)1 << bits) - 1);
	size_t n = 0;

	for (;;) {
		unsigned int k = 0;

		/* largest aligned block starting at lo that stays <= hi */
		while (k < bits) {
			lang_u128 size = (lang_u128)1 << (k + 1);

			if (lo & (size - 1))
				break;
			if (lo + (size - 1) > hi || lo + (size - 1) < lo)
				break;
			k++;
		}
		if (n == max)
			return max + 1;
		out[n++] = alt_value(lo, k >= 128 ? 0 : (full & ~(((lang_u128)1 << k) - 1)));
		if (k >= 128)
			break;
		{
			lang_u128 end = lo + (((lang_u128)1 << k) - 1);

			if (end >= hi)
				break;
			lo = end + 1;
		}
	}
	return n;
}

static int interval_cmp(const void *a, const void *b)
{
	const struct mpair *x = a, *y = b;	/* v = lo, m = hi here */

	return x->v < y->v ? -1 : x->v > y->v;
}

static struct mpair *alts_room(struct lc *c, size_t need)
{
	if (need > c->cap_alts) {
		struct mpair *n = realloc(c->alts, need * sizeof(*n));

		if (!n)
			fail_nomem(c);
		c->alts = n;
		c->cap_alts = need;
	}
	return c->alts;
}

/*
 * Is match m lowered to conditions?  A negated set of values, prefixes
 * and ranges on a field of at most 64 bits: its complement as prefixes
 * would take many entries of as many different masks (`tcp.dport != 22` is
 * 16 prefixes of 16 lengths, each a tuple of the stage's 16), where a
 * comparison or two per gap of the set takes one entry.
 */
static bool match_by_conds(struct lc *c, const struct pmatch *m)
{
	return m->neg && !c->elems[m->first].masked && lang_field_table[m->field].bits <= 64;
}

/* The bit of condition "field OP value" of stage s, added after the
 * stage's own conditions unless an equal one is there. */
static __u32 stage_cond(struct lc *c, unsigned int s, const struct pmatch *m, __u8 op,
			lang_u128 v)
{
	static const char *const ops[] = {
		[XFSM_CMP_LT] = "<", [XFSM_CMP_LE] = "<=", [XFSM_CMP_GT] = ">",
		[XFSM_CMP_GE] = ">=", [XFSM_CMP_EQ] = "==", [XFSM_CMP_NE] = "!=",
	};
	const struct xfsm_lang_field *f = &lang_field_table[m->field];
	struct xfsm_stage *st = &c->img->app.stages[s];
	struct xfsm_stage_names *sn = &c->nm->stages[s];
	struct xfsm_operand a = xfsm_opnd_field(f->word, f->nwords > 1 ? 2 : 1);
	struct xfsm_operand b = xfsm_opnd_const((__u64)v);
	__u32 w[4] = { (__u32)(v >> 96), (__u32)(v >> 64), (__u32)(v >> 32), (__u32)v };
	char text[96], val[64];
	unsigned int i;

	for (i = 0; i < st->n_conds; i++)
		if (st->conds[i].op == op && !memcmp(&st->conds[i].a, &a, sizeof(a)) &&
		    !memcmp(&st->conds[i].b, &b, sizeof(b)))
			return 1U << i;
	xfsm_lang_format_field(m->field, w + 4 - f->nwords, val, sizeof(val));
	snprintf(text, sizeof(text), "%s %s %s", f->name, ops[op], val);
	if (i == XFSM_MAX_CONDS)
		fail_at(c, m->loc, "stage '%s' has no condition left for '%s': a negated match takes a comparison or two, and a stage has %d conditions",
			sn->name, text, XFSM_MAX_CONDS);
	st->conds[i].op = op;
	st->conds[i].a = a;
	st->conds[i].b = b;
	/* the name shown for the condition: its text, cut to fit */
	memcpy(sn->conds[i], text, sizeof(sn->conds[i]) - 1);
	sn->conds[i][sizeof(sn->conds[i]) - 1] = 0;
	sn->cond_text[i] = strdup(text);
	if (!sn->cond_text[i])
		fail_nomem(c);
	st->n_conds = (__u8)(i + 1);
	return 1U << i;
}

/* A gap [lo, hi] of a negated set: prefixes, or the comparisons bounding
 * it when the match is lowered to conditions. */
static size_t gap_alternatives(struct lc *c, unsigned int s, const struct pmatch *m,
			       lang_u128 lo, lang_u128 hi, struct mpair *out, size_t max)
{
	__u32 conds = 0;

	if (!match_by_conds(c, m))
		return range_to_prefixes(lo, hi, lang_field_table[m->field].bits, out, max);
	if (!max)
		return 1;
	if (lo > 0)
		conds |= stage_cond(c, s, m, XFSM_CMP_GE, lo);
	if (hi < field_max(m->field))
		conds |= stage_cond(c, s, m, XFSM_CMP_LE, hi);
	*out = alt_conds(conds);
	return 1;
}

/*
 * The alternatives of field match m, each a value under a mask, into
 * out[0..]: an interval becomes the prefixes covering it, a masked value
 * stays as it is.  A negated set is everything outside the union of its
 * intervals (the gaps, as prefixes), or outside its one masked value (for
 * each bit of the mask, the values that agree above it and differ on it).
 * Returns the count; out has room for max.
 */
static size_t match_alternatives(struct lc *c, unsigned int s, const struct pmatch *m,
				 struct mpair *out, size_t max)
{
	const struct pelem *el = &c->elems[m->first];
	unsigned int bits = lang_field_table[m->field].bits;
	lang_u128 top = field_max(m->field);
	size_t n = 0, k;

	if (!m->neg) {
		for (size_t i = 0; i < m->n; i++) {
			if (el[i].masked) {
				if (n == max)
					return max + 1;
				out[n++] = alt_value(el[i].val, el[i].mask);
				continue;
			}
			k = range_to_prefixes(el[i].lo, el[i].hi, bits, out + n, max - n);
			if (k > max - n)
				return max + 1;
			n += k;
		}
		return n;
	}
	if (match_by_conds(c, m) && m->n == 1 && el[0].lo == el[0].hi) {
		/* one value: one comparison */
		out[0] = alt_conds(stage_cond(c, s, m, XFSM_CMP_NE, el[0].lo));
		return 1;
	}
	if (el[0].masked) {	/* the one element of a negated masked match */
		for (int b = (int)bits - 1; b >= 0; b--) {
			lang_u128 bit = (lang_u128)1 << b;

			if (!(el[0].mask & bit))
				continue;
			if (n == max)
				return max + 1;
			out[n++] = alt_value((el[0].val ^ bit) & el[0].mask & ~(bit - 1),
					     el[0].mask & ~(bit - 1));
		}
		return n;
	}
	{
		/* the gaps between the merged intervals, sorted */
		struct mpair *iv = malloc(m->n * sizeof(*iv));
		lang_u128 from = 0;
		bool done = false;

		if (!iv)
			fail_nomem(c);
		for (size_t i = 0; i < m->n; i++) {
			iv[i] = alt_value(el[i].lo, el[i].hi);
		}
		qsort(iv, m->n, sizeof(*iv), interval_cmp);
		for (size_t i = 0; i < m->n && !done; i++) {
			if (iv[i].v > from) {
				k = gap_alternatives(c, s, m, from, iv[i].v - 1, out + n, max - n);
				if (k > max - n) {
					free(iv);
					return max + 1;
				}
				n += k;
			}
			if (iv[i].m >= top)
				done = true;
			else if (iv[i].m + 1 > from)
				from = iv[i].m + 1;
		}
		free(iv);
		if (!done) {
			k = gap_alternatives(c, s, m, from, top, out + n, max - n);
			if (k > max - n)
				return max + 1;
			n += k;
		}
		return n;
	}
}

struct expand_ctx {
	struct lc *c;
	struct prule *r;
	unsigned int rule;
	int pos[MAX_RULE_MATCHES];	/* first match word of each match */
	size_t first[MAX_RULE_MATCHES];	/* its alternatives in c->alts */
	size_t nalts[MAX_RULE_MATCHES];
	unsigned int count;
};

static void set_words(struct xfsm_rule_match *m, int pos, int f, lang_u128 v, lang_u128 mask)
{
	unsigned int n = lang_field_table[f].nwords;

	for (unsigned int k = 0; k < n; k++) {
		unsigned int sh = 32 * (n - 1 - k);

		m->match_mask[pos + k] = (__u32)(mask >> sh);
		m->match[pos + k] = (__u32)((v & mask) >> sh);
	}
}

/* The product of the rule's alternatives into c->ents. */
static void expand(struct expand_ctx *x, unsigned int depth, const struct xfsm_rule_match *m)
{
	struct lc *c = x->c;
	struct prule *r = x->r;

	if (depth == r->nm) {
		struct lang_entry *e;

		if (++x->count > XFSM_LANG_MAX_EXPAND)
			fail_at(c, r->name_tok, "rule '%s' expands into more than %d table entries",
				r->name, XFSM_LANG_MAX_EXPAND);
		if (c->n_ents == c->cap_ents) {
			size_t cap = c->cap_ents ? 2 * c->cap_ents : 256;

			e = realloc(c->ents, cap * sizeof(*e));
			if (!e)
				fail_nomem(c);
			c->ents = e;
			c->cap_ents = cap;
		}
		e = &c->ents[c->n_ents++];
		e->m = *m;
		e->prio = r->r.priority;
		e->rule = x->rule;
		e->dropped = false;
		return;
	}
	for (size_t i = 0; i < x->nalts[depth]; i++) {
		struct xfsm_rule_match mm = *m;
		const struct mpair *a = &c->alts[x->first[depth] + i];

		if (x->pos[depth] >= 0)
			set_words(&mm, x->pos[depth], r->m[depth].field, a->v, a->m);
		mm.conds |= a->conds;
		mm.cond_mask |= a->cmask;
		expand(x, depth + 1, &mm);
	}
}

/* One line for display: line breaks (and continuations) become one space. */
static void collapse_space(char *s)
{
	char *d = s;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1] == '\n')
			continue;
		if (*p == '\n' || ((*p == ' ' || *p == '\t') && d > s && d[-1] == ' ')) {
			if (d > s && d[-1] != ' ')
				*d++ = ' ';
			continue;
		}
		*d++ = *p == '\t' ? ' ' : *p;
	}
	*d = 0;
}

struct prio_pos {
	__u32	prio;
	size_t	idx;
};

static int prio_pos_cmp(const void *a, const void *b)
{
	const struct prio_pos *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* For each rule, how many earlier rules of the stage share its priority. */
static size_t *rule_group_positions(struct lc *c, const struct pstage *ps)
{
	struct prio_pos *pp = calloc(ps->nrules ? ps->nrules : 1, sizeof(*pp));
	size_t *pos = calloc(ps->nrules ? ps->nrules : 1, sizeof(*pos));

	if (!pp || !pos) {
		free(pp);
		free(pos);
		fail_nomem(c);
	}
	for (size_t i = 0; i < ps->nrules; i++) {
		pp[i].prio = ps->rules[i].prio;
		pp[i].idx = i;
	}
	qsort(pp, ps->nrules, sizeof(*pp), prio_pos_cmp);
	for (size_t i = 0, run = 0; i < ps->nrules; i++) {
		run = (i && pp[i].prio == pp[i - 1].prio) ? run + 1 : 0;
		pos[pp[i].idx] = run;
	}
	free(pp);
	return pos;
}

static void lower_stage(struct lc *c, unsigned int s)
{
	struct pstage *ps = &c->st[s];
	struct xfsm_stage_names *sn = &c->nm->stages[s];
	struct xfsm_stage *st = &c->img->app.stages[s];
	int wordpos[LANG_MAX_FIELDS];
	unsigned int nw = 0;
	size_t e = 0;

	for (unsigned int i = 0; i < LANG_MAX_FIELDS; i++)
		wordpos[i] = -1;
	for (unsigned int i = 0; i < XFSM_MATCH_WORDS; i++)
		st->match_words[i] = XFSM_FW_ZERO;
	/* match words: union of matched fields, in order of first use */
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];

		for (unsigned int k = 0; k < r->nm; k++) {
			int f = r->m[k].field;

			if (wordpos[f] >= 0 || match_by_conds(c, &r->m[k]))
				continue;
			if (nw + lang_field_table[f].nwords > XFSM_MATCH_WORDS)
				fail_at(c, r->m[k].loc, "stage '%s' matches on too many fields: %s needs %u more word(s), the datapath matches at most %d words of 32 bits",
					sn->name, lang_field_table[f].name, lang_field_table[f].nwords,
					XFSM_MATCH_WORDS);
			wordpos[f] = (int)nw;
			sn->match_fields[sn->n_match_fields++] = f;
			for (unsigned int w = 0; w < lang_field_table[f].nwords; w++)
				st->match_words[nw++] = (__u8)(lang_field_table[f].word + w);
		}
	}
	free(c->group_pos);
	c->group_pos = rule_group_positions(c, ps);
	/* every rule's entries, in file order */
	c->n_ents = 0;
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];
		struct xfsm_rule_match base;
		struct expand_ctx x;
		size_t pos_in_group, cap = 0, used = 0;

		/* position within its priority group: earlier rules win */
		pos_in_group = c->group_pos[i];
		if (pos_in_group >= (1U << RULE_POS_BITS))
			fail_at(c, r->name_tok, "more than %u rules with priority %u in stage '%s'",
				1U << RULE_POS_BITS, r->prio, sn->name);
		r->r.priority = (r->prio << RULE_POS_BITS) |
				(__u32)((1U << RULE_POS_BITS) - 1 - pos_in_group);

		memset(&x, 0, sizeof(x));
		x.c = c;
		x.r = r;
		x.rule = (unsigned int)i;
		memset(&base, 0, sizeof(base));
		if (r->has_state) {
			base.state = r->state;
			base.state_mask = 0xffffffff;
		}
		base.conds = r->conds & r->cond_mask;
		base.cond_mask = r->cond_mask;
		/* room for every match's alternatives: an interval takes at
		 * most 2 * bits prefixes, a negated set as many per gap */
		for (unsigned int k = 0; k < r->nm; k++)
			cap += (r->m[k].n + 1) * (2 * (size_t)lang_field_table[r->m[k].field].bits + 2);
		alts_room(c, cap);
		for (unsigned int k = 0; k < r->nm; k++) {
			x.pos[k] = match_by_conds(c, &r->m[k]) ? -1 : wordpos[r->m[k].field];
			x.first[k] = used;
			x.nalts[k] = match_alternatives(c, s, &r->m[k], c->alts + used, cap - used);
			used += x.nalts[k];
		}
		expand(&x, 0, &base);
	}
	overlap_resolve(c, s, c->ents, c->n_ents);
	/* the entries that stay, with rule ids in file order: a source rule
	 * owns a contiguous range */
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];
		struct xfsm_rule_names *rn = &c->nm->rules[c->nm->n_rules++];
		__u32 first_id = c->next_rule_id;

		for (; e < c->n_ents && c->ents[e].rule == i; e++) {
			int err;

			if (c->ents[e].dropped)
				continue;
			r->r.rule_id = c->next_rule_id++;
			err = xfsm_image_add_rule(c->img, s, &c->ents[e].m, &r->r);
			if (err == -E2BIG)
				fail_at(c, r->name_tok, "stage '%s' needs more than %d tuples (distinct combinations of match masks) at rule '%s'",
					sn->name, XFSM_MAX_TUPLES, r->name);
			if (err == -ENOMEM)
				fail_nomem(c);
			if (err)
				fail_at(c, r->name_tok, "rule '%s' cannot be added: %s", r->name,
					strerror(-err));
		}
		rn->n_entries = c->next_rule_id - first_id;
		rn->stage = s;
		rn->rule_id = first_id;
		rn->priority = r->prio;
		rn->line = r->first->line;
		snprintf(rn->name, sizeof(rn->name), "%s", r->name);
		rn->src_start = r->src_start;
		rn->src_end = r->src_end;
		rn->text = strndup(c->src + r->src_start, r->src_end - r->src_start);
		if (!rn->text)
			fail_nomem(c);
		collapse_space(rn->text);
	}
}

/* The names statistics belong to (libxfsm.h, statistics identities). */
static void fill_idents(struct lc *c)
{
	struct xfsm_stat_idents *ids = &c->img->idents;
	const struct xfsm_app_names *nm = c->nm;
	int err = 0;

	for (unsigned int s = 0; s < nm->n_stages && !err; s++)
		err = xfsm_stat_idents_add(ids, XFSM_SID_STAGE, s, 1, "%s", nm->stages[s].name);
	for (size_t i = 0; i < nm->n_rules && !err; i++) {
		const struct xfsm_rule_names *rn = &nm->rules[i];

		if (rn->n_entries)
			err = xfsm_stat_idents_add(ids, XFSM_SID_RULE, rn->rule_id, rn->n_entries,
						   "%s/%s", nm->stages[rn->stage].name, rn->name);
	}
	for (unsigned int k = 0; k < nm->n_counters && !err; k++)
		err = xfsm_stat_idents_add(ids, XFSM_SID_COUNTER, k, 1, "%s", nm->counters[k]);
	if (err)
		fail_nomem(c);
}

void lower_program(struct lc *c)
{
	size_t total_rules = 0;

	c->img->app.n_stages = c->nm->n_stages;
	c->img->app.default_verdict = c->default_verdict;
	memcpy(c->img->globals, c->globals, sizeof(c->globals));
	c->img->globals_set = c->globals_set;
	for (unsigned int s = 0; s < c->nm->n_stages; s++) {
		c->img->app.stages[s] = c->st[s].hdr;
		if (c->st[s].hdr.kind == XFSM_STAGE_XFSM)
			lower_keys(c, s);
	}
	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		total_rules += c->st[s].nrules;
	c->nm->rules = calloc(total_rules ? total_rules : 1, sizeof(*c->nm->rules));
	if (!c->nm->rules)
		fail_nomem(c);
	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		lower_stage(c, s);
	/* How many table entries fit is the loaded datapath's business
	 * (xfsm-loader --rules): xfsmctl apply checks it against the instance. */
	if (c->needs_port)
		c->img->app.flags |= XFSM_AF_NEEDS_PORT;
	c->img->app.flags |= xfsm_image_meta_flags(c->img);
	fill_idents(c);
}
