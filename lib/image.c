/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Application images: an xfsm_app plus its rules, grouped into tuples
 * (one per distinct mask) kept sorted by max_priority, highest first, as the
 * datapath's tuple-space search expects.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libxfsm.h"
#include "apply_internal.h"

#define RULE_ID_AUTO	0xffffffffU

/*
 * Open-addressing index over the image's rules, so that adding n rules
 * stays O(n): one table by masked key (the tuple number is left out of the
 * hash so that renumbering tuples does not invalidate it), one by rule id.
 * Slots hold rule position + 1; 0 is empty.  Rebuilt whenever the rules
 * array changed behind its back.
 */
struct image_index {
	const struct xfsm_rule_entry *rules;
	size_t	n_indexed;
	size_t	cap;		/* power of two, > 2 * n_indexed */
	__u32	*by_key;
	__u32	*by_id;
	__u32	next_id;
};

static __u32 hash_mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1U;
	return h ^ (h >> 15);
}

static __u32 hash_key(const struct xfsm_rule_key *k)
{
	__u32 h = hash_mix(0x12345, k->stage);
	int i;

	h = hash_mix(h, k->state);
	h = hash_mix(h, k->conds);
	for (i = 0; i < XFSM_MATCH_WORDS; i++)
		h = hash_mix(h, k->match[i]);
	return h;
}

static bool key_equal(const struct xfsm_rule_key *a, const struct xfsm_rule_key *b)
{
	return a->stage == b->stage && a->tuple == b->tuple &&
	       a->state == b->state && a->conds == b->conds &&
	       !memcmp(a->match, b->match, sizeof(a->match));
}

static void index_free(struct xfsm_image *img)
{
	struct image_index *ix = img->index;

	if (!ix)
		return;
	free(ix->by_key);
	free(ix->by_id);
	free(ix);
	img->index = NULL;
}

static void index_insert(struct image_index *ix, const struct xfsm_rule_entry *rules,
			 size_t pos)
{
	size_t mask = ix->cap - 1, i;

	for (i = hash_key(&rules[pos].key) & mask; ix->by_key[i]; i = (i + 1) & mask)
		;
	ix->by_key[i] = pos + 1;
	for (i = hash_mix(0, rules[pos].rule.rule_id) & mask; ix->by_id[i]; i = (i + 1) & mask)
		;
	ix->by_id[i] = pos + 1;
	if (rules[pos].rule.rule_id != RULE_ID_AUTO &&
	    rules[pos].rule.rule_id >= ix->next_id)
		ix->next_id = rules[pos].rule.rule_id + 1;
}

/* Make the index cover every rule and leave room for one more. */
static int index_sync(struct xfsm_image *img)
{
	struct image_index *ix = img->index;
	size_t cap, i;

	if (ix && (ix->rules != img->rules || ix->n_indexed > img->n_rules))
		index_free(img), ix = NULL;
	if (ix && 2 * (img->n_rules + 1) < ix->cap) {
		for (i = ix->n_indexed; i < img->n_rules; i++)
			index_insert(ix, img->rules, i);
		ix->n_indexed = img->n_rules;
		return 0;
	}
	/* (Re)build with room to grow. */
	for (cap = 64; cap <= 2 * (img->n_rules + 1); cap *= 2)
		;
	cap *= 2;
	if (!ix) {
		ix = calloc(1, sizeof(*ix));
		if (!ix)
			return -ENOMEM;
		img->index = ix;
	}
	free(ix->by_key);
	free(ix->by_id);
	ix->by_key = calloc(cap, sizeof(__u32));
	ix->by_id = calloc(cap, sizeof(__u32));
	if (!ix->by_key || !ix->by_id) {
		index_free(img);
		return -ENOMEM;
	}
	ix->cap = cap;
	ix->next_id = 0;
	for (i = 0; i < img->n_rules; i++)
		index_insert(ix, img->rules, i);
	ix->rules = img->rules;
	ix->n_indexed = img->n_rules;
	return 0;
}

static bool index_has_key(const struct image_index *ix, const struct xfsm_rule_entry *rules,
			  const struct xfsm_rule_key *k)
{
	size_t mask = ix->cap - 1, i;

	for (i = hash_key(k) & mask; ix->by_key[i]; i = (i + 1) & mask)
		if (key_equal(&rules[ix->by_key[i] - 1].key, k))
			return true;
	return false;
}

static long index_find_id(const struct image_index *ix, const struct xfsm_rule_entry *rules,
			  __u32 id)
{
	size_t mask = ix->cap - 1, i;

	for (i = hash_mix(0, id) & mask; ix->by_id[i]; i = (i + 1) & mask)
		if (rules[ix->by_id[i] - 1].rule.rule_id == id)
			return ix->by_id[i] - 1;
	return -1;
}

void xfsm_image_init(struct xfsm_image *img)
{
	struct xfsm_stage *st;
	int s;

	memset(img, 0, sizeof(*img));
	for (s = 0; s < XFSM_MAX_STAGES; s++) {
		st = &img->app.stages[s];
		memset(st->lookup_words, XFSM_FW_ZERO, sizeof(st->lookup_words));
		memset(st->lookup_rev, XFSM_FW_ZERO, sizeof(st->lookup_rev));
		memset(st->update_words, XFSM_FW_ZERO, sizeof(st->update_words));
		memset(st->update_rev, XFSM_FW_ZERO, sizeof(st->update_rev));
		memset(st->match_words, XFSM_FW_ZERO, sizeof(st->match_words));
		st->flags = XFSM_SF_SAME_KEYS;
	}
}

void xfsm_image_free(struct xfsm_image *img)
{
	if (!img)
		return;
	index_free(img);
	free(img->rules);
	free(img->source);
	xfsm_stat_idents_free(&img->idents);
	xfsm_image_init(img);
}

/*
 * Stable-sort a stage's tuples by max_priority, highest first, and
 * renumber the tuple index of that stage's rule keys if the order changed.
 */
static void stage_sort_tuples(struct xfsm_image *img, unsigned int stage)
{
	struct xfsm_stage *st = &img->app.stages[stage];
	struct xfsm_tuple tmp[XFSM_MAX_TUPLES];
	int order[XFSM_MAX_TUPLES], newpos[XFSM_MAX_TUPLES];
	int n = st->n_tuples, i, j, o;
	bool moved = false;
	size_t r;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 1; i < n; i++) {
		o = order[i];
		for (j = i; j > 0 &&
		     st->tuples[order[j - 1]].max_priority < st->tuples[o].max_priority; j--)
			order[j] = order[j - 1];
		order[j] = o;
	}
	for (i = 0; i < n; i++) {
		newpos[order[i]] = i;
		if (order[i] != i)
			moved = true;
	}
	if (!moved)
		return;
	for (i = 0; i < n; i++)
		tmp[i] = st->tuples[order[i]];
	memcpy(st->tuples, tmp, n * sizeof(tmp[0]));
	for (r = 0; r < img->n_rules; r++)
		if (img->rules[r].key.stage == stage && img->rules[r].key.tuple < n)
			img->rules[r].key.tuple = newpos[img->rules[r].key.tuple];
}

static bool tuple_masks_equal(const struct xfsm_tuple *t, const struct xfsm_rule_match *m)
{
	return t->state_mask == m->state_mask && t->cond_mask == m->cond_mask &&
	       !memcmp(t->match_mask, m->match_mask, sizeof(t->match_mask));
}

struct xfsm_rule_entry *xfsm_image_new_entry(struct xfsm_image *img)
{
	struct xfsm_rule_entry *e;

	if (img->n_rules == img->cap_rules) {
		size_t cap = img->cap_rules ? img->cap_rules * 2 : 64;

		e = realloc(img->rules, cap * sizeof(*e));
		if (!e)
			return NULL;
		img->rules = e;
		img->cap_rules = cap;
	}
	e = &img->rules[img->n_rules];
	memset(e, 0, sizeof(*e));
	return e;
}

int xfsm_image_add_rule(struct xfsm_image *img, unsigned int stage,
			const struct xfsm_rule_match *m,
			const struct xfsm_rule *rule)
{
	struct xfsm_rule_entry *e;
	struct xfsm_rule_key key;
	struct image_index *ix;
	struct xfsm_stage *st;
	struct xfsm_tuple *t;
	__u32 id;
	int ti, i, err;

	if (!img || !m || !rule || stage >= XFSM_MAX_STAGES)
		return -EINVAL;
	st = &img->app.stages[stage];
	if (st->n_tuples > XFSM_MAX_TUPLES)
		return -EINVAL;
	err = index_sync(img);
	if (err)
		return err;
	ix = img->index;

	for (ti = 0; ti < st->n_tuples; ti++)
		if (tuple_masks_equal(&st->tuples[ti], m))
			break;
	if (ti == st->n_tuples && st->n_tuples >= XFSM_MAX_TUPLES)
		return -E2BIG;

	memset(&key, 0, sizeof(key));
	key.stage = stage;
	key.tuple = ti;
	key.state = m->state & m->state_mask;
	key.conds = m->conds & m->cond_mask;
	for (i = 0; i < XFSM_MATCH_WORDS; i++)
		key.match[i] = m->match[i] & m->match_mask[i];
	if (ti < st->n_tuples && index_has_key(ix, img->rules, &key))
		return -EEXIST;

	id = rule->rule_id;
	if (id == RULE_ID_AUTO) {
		for (id = ix->next_id; index_find_id(ix, img->rules, id) >= 0; id++)
			;
		if (id == RULE_ID_AUTO)
			return -ERANGE;
	} else if (index_find_id(ix, img->rules, id) >= 0) {
		xfsm_log(XFSM_LOG_DEBUG, "rule id %u is already used", id);
		return -EEXIST;
	}

	e = xfsm_image_new_entry(img);
	if (!e)
		return -ENOMEM;
	ix->rules = img->rules;

	if (ti == st->n_tuples) {
		t = &st->tuples[st->n_tuples++];
		memset(t, 0, sizeof(*t));
		t->state_mask = m->state_mask;
		t->cond_mask = m->cond_mask;
		memcpy(t->match_mask, m->match_mask, sizeof(t->match_mask));
		t->max_priority = rule->priority;
	} else if (rule->priority > st->tuples[ti].max_priority) {
		st->tuples[ti].max_priority = rule->priority;
	}

	e->key = key;
	e->rule = *rule;
	e->rule.rule_id = id;
	img->n_rules++;
	/* Sorting renumbers every rule of the stage, the new one included. */
	stage_sort_tuples(img, stage);
	index_insert(ix, img->rules, img->n_rules - 1);
	ix->n_indexed = img->n_rules;
	return 0;
}

int xfsm_image_del_rule(struct xfsm_image *img, __u32 rule_id)
{
	struct xfsm_stage *st;
	unsigned int stage, tuple;
	bool left = false;
	__u32 maxp = 0;
	long pos;
	size_t r;
	int err, i;

	if (!img)
		return -EINVAL;
	err = index_sync(img);
	if (err)
		return err;
	pos = index_find_id(img->index, img->rules, rule_id);
	if (pos < 0)
		return -ENOENT;
	stage = img->rules[pos].key.stage;
	tuple = img->rules[pos].key.tuple;
	memmove(&img->rules[pos], &img->rules[pos + 1],
		(img->n_rules - pos - 1) * sizeof(img->rules[0]));
	img->n_rules--;
	index_free(img);
	if (stage >= XFSM_MAX_STAGES)
		return 0;
	st = &img->app.stages[stage];
	if (tuple >= st->n_tuples || st->n_tuples > XFSM_MAX_TUPLES)
		return 0;

	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];

		if (e->key.stage != stage || e->key.tuple != tuple)
			continue;
		if (!left || e->rule.priority > maxp)
			maxp = e->rule.priority;
		left = true;
	}
	if (left) {
		st->tuples[tuple].max_priority = maxp;
		stage_sort_tuples(img, stage);
		return 0;
	}
	/* The tuple is empty: drop it and close the gap. */
	for (i = tuple; i + 1 < st->n_tuples; i++)
		st->tuples[i] = st->tuples[i + 1];
	st->n_tuples--;
	memset(&st->tuples[st->n_tuples], 0, sizeof(st->tuples[0]));
	for (r = 0; r < img->n_rules; r++)
		if (img->rules[r].key.stage == stage && img->rules[r].key.tuple > tuple)
			img->rules[r].key.tuple--;
	return 0;
}

/*
 * A rule's transition by the check the language and xfsmctl state set
 * apply (xfsm_timeouts_check(), the one rule for all three): an image
 * built by hand is held to it too.  A timeout that rolls back to the state
 * it enters would change nothing; an idle timeout not shorter than the
 * hard one could never fire first from the entry (the datapath's rule
 * when both have expired at a packet, the earlier deadline first and the
 * hard one on a tie, is for idle deadlines that packets pushed on).
 */
static bool timeouts_valid(const struct xfsm_rule *r)
{
	unsigned int bad = xfsm_timeouts_check(r->next_state, r->idle_timeout_ms,
					       r->idle_rollback, r->hard_timeout_ms,
					       r->hard_rollback);

	if (bad & XFSM_TIMEOUT_IDLE_SELF)
		xfsm_log(XFSM_LOG_ERROR,
			 "rule %u: its idle timeout rolls back to state %u, the state it enters: it would change nothing",
			 r->rule_id, r->next_state);
	if (bad & XFSM_TIMEOUT_HARD_SELF)
		xfsm_log(XFSM_LOG_ERROR,
			 "rule %u: its hard timeout rolls back to state %u, the state it enters: it would change nothing",
			 r->rule_id, r->next_state);
	if (bad & XFSM_TIMEOUT_IDLE_NOT_SHORTER)
		xfsm_log(XFSM_LOG_ERROR,
			 "rule %u: its idle timeout (%u ms) is not shorter than its hard timeout (%u ms): it could never fire",
			 r->rule_id, r->idle_timeout_ms, r->hard_timeout_ms);
	return !bad;
}

/*
 * What is wrong with an operand, or NULL.  The datapath masks a register
 * or word index into range (for the verifier), so an index past the end
 * would read another register than the one written: refused here.
 */
static const char *operand_fault(const struct xfsm_operand *o)
{
	switch (o->kind) {
	case XFSM_OPND_NONE:
	case XFSM_OPND_CONST:
	case XFSM_OPND_STATE:
		return NULL;
	case XFSM_OPND_FIELD:
		return o->index >= XFSM_FV_WORDS ||
		       (o->width == 2 && o->index + 1 >= XFSM_FV_WORDS) ?
		       "field word out of range" : NULL;
	case XFSM_OPND_FLOW_REG:
		return o->index >= XFSM_FLOW_REGS ? "flow register out of range" : NULL;
	case XFSM_OPND_GLOBAL_REG:
		return o->index >= XFSM_GLOBAL_REGS ? "global register out of range" : NULL;
	case XFSM_OPND_META:
		return o->index >= XFSM_META__MAX ? "unknown metadata" : NULL;
	default:
		return "unknown operand kind";
	}
}

static bool operand_valid(const struct xfsm_operand *o, const char *where, unsigned int id,
			  const char *what, unsigned int i)
{
	const char *fault = operand_fault(o);

	if (fault)
		xfsm_log(XFSM_LOG_ERROR, "%s %u: %s %u: %s (operand kind %u, index %u)", where, id,
			 what, i, fault, o->kind, o->index);
	return !fault;
}

/* A rule's updates and actions as the datapath will run them: nothing it
 * would mask into another register or word, or skip as unknown. */
static bool rule_body_valid(const struct xfsm_rule_entry *e)
{
	const struct xfsm_rule *r = &e->rule;
	unsigned int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		unsigned int n = u->dst_kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS :
				 u->dst_kind == XFSM_OPND_GLOBAL_REG ? XFSM_GLOBAL_REGS : 0;

		if (u->op == XFSM_UPD_NONE)
			continue;
		if (u->op >= XFSM_UPD__MAX || u->dst_index >= n) {
			xfsm_log(XFSM_LOG_ERROR,
				 "rule %u: update %u: %s (operation %u, destination kind %u index %u)",
				 r->rule_id, i, u->op >= XFSM_UPD__MAX ? "unknown operation" :
				 "destination is no flow or global register of the datapath",
				 u->op, u->dst_kind, u->dst_index);
			return false;
		}
		if (!operand_valid(&u->a, "rule", r->rule_id, "update", i) ||
		    !operand_valid(&u->b, "rule", r->rule_id, "update", i))
			return false;
	}
	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];
		const char *fault = NULL;

		/* A goto to no later stage is left to the datapath, which
		 * defines it: a drop counted as exc_goto_backward. */
		if (a->type >= XFSM_ACT__MAX)
			fault = "unknown action";
		else if (a->type == XFSM_ACT_COUNT && a->arg >= XFSM_MAX_COUNTERS)
			fault = "counter out of range";
		else if (a->type == XFSM_ACT_OUTPUT_GROUP && a->arg >= XFSM_MAX_GROUPS)
			fault = "output group out of range";
		if (fault) {
			xfsm_log(XFSM_LOG_ERROR, "rule %u: action %u: %s (type %u, argument %u)",
				 r->rule_id, i, fault, a->type, a->arg);
			return false;
		}
		if (!operand_valid(&a->opnd, "rule", r->rule_id, "action", i))
			return false;
	}
	return true;
}

/* A stage's kind, ACL table and conditions. */
static bool stage_body_valid(const struct xfsm_stage *st, unsigned int s)
{
	unsigned int i;

	if (st->kind >= XFSM_STAGE__MAX ||
	    (st->kind == XFSM_STAGE_ACL && st->acl_table >= XFSM_ACL_TABLES)) {
		xfsm_log(XFSM_LOG_ERROR, "stage %u: %s (kind %u, ACL table %u)", s,
			 st->kind >= XFSM_STAGE__MAX ? "unknown kind" : "ACL table out of range",
			 st->kind, st->acl_table);
		return false;
	}
	for (i = 0; i < st->n_conds && i < XFSM_MAX_CONDS; i++) {
		if (st->conds[i].op >= XFSM_CMP__MAX) {
			xfsm_log(XFSM_LOG_ERROR, "stage %u: condition %u: unknown comparison %u", s,
				 i, st->conds[i].op);
			return false;
		}
		if (!operand_valid(&st->conds[i].a, "stage", s, "condition", i) ||
		    !operand_valid(&st->conds[i].b, "stage", s, "condition", i))
			return false;
	}
	return true;
}

int xfsm_image_validate(const struct xfsm_image *img, __u32 max_stages,
			__u32 max_tuples, __u32 max_rules)
{
	const struct xfsm_app *app;
	const struct xfsm_stage *st;
	const struct xfsm_tuple *t;
	unsigned int s, i;
	size_t r;

	if (!img)
		return -EINVAL;
	app = &img->app;
	if (!max_stages || max_stages > XFSM_MAX_STAGES)
		max_stages = XFSM_MAX_STAGES;
	if (!max_tuples || max_tuples > XFSM_MAX_TUPLES)
		max_tuples = XFSM_MAX_TUPLES;
	if (app->n_stages > max_stages) {
		xfsm_log(XFSM_LOG_ERROR, "application has %u stages, the datapath holds %u",
			 app->n_stages, max_stages);
		return -E2BIG;
	}
	if (app->default_verdict >= XFSM_VERDICT__MAX ||
	    app->default_verdict == XFSM_VERDICT_CONTINUE) {
		xfsm_log(XFSM_LOG_ERROR, "application default verdict %u is invalid",
			 app->default_verdict);
		return -EINVAL;
	}
	for (s = 0; s < app->n_stages; s++) {
		st = &app->stages[s];
		if (st->n_tuples > max_tuples) {
			xfsm_log(XFSM_LOG_ERROR,
				 "stage %u has %u rule masks (tuples), the datapath holds %u",
				 s, st->n_tuples, max_tuples);
			return -E2BIG;
		}
		if (st->n_conds > XFSM_MAX_CONDS) {
			xfsm_log(XFSM_LOG_ERROR, "stage %u has %u conditions, at most %u",
				 s, st->n_conds, XFSM_MAX_CONDS);
			return -E2BIG;
		}
		if (st->full_action >= XFSM_FULL__MAX) {
			xfsm_log(XFSM_LOG_ERROR, "stage %u: invalid table-full action %u",
				 s, st->full_action);
			return -EINVAL;
		}
		if (st->miss_verdict >= XFSM_VERDICT__MAX) {
			xfsm_log(XFSM_LOG_ERROR, "stage %u: invalid miss verdict %u",
				 s, st->miss_verdict);
			return -EINVAL;
		}
		for (i = 0; i < XFSM_KEY_WORDS; i++) {
			if (st->lookup_words[i] >= XFSM_FV_WORDS ||
			    st->lookup_rev[i] >= XFSM_FV_WORDS ||
			    st->update_words[i] >= XFSM_FV_WORDS ||
			    st->update_rev[i] >= XFSM_FV_WORDS) {
				xfsm_log(XFSM_LOG_ERROR, "stage %u: key word %u out of range", s, i);
				return -EINVAL;
			}
		}
		for (i = 0; i < XFSM_MATCH_WORDS; i++) {
			if (st->match_words[i] >= XFSM_FV_WORDS) {
				xfsm_log(XFSM_LOG_ERROR, "stage %u: match word %u out of range", s, i);
				return -EINVAL;
			}
		}
		if (!stage_body_valid(st, s))
			return -EINVAL;
		for (i = 1; i < st->n_tuples; i++) {
			if (st->tuples[i - 1].max_priority < st->tuples[i].max_priority) {
				xfsm_log(XFSM_LOG_ERROR,
					 "stage %u: tuples are not sorted by max_priority (tuple %u)",
					 s, i);
				return -EINVAL;
			}
		}
	}
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];

		if (e->key.stage >= app->n_stages ||
		    e->key.tuple >= app->stages[e->key.stage].n_tuples) {
			xfsm_log(XFSM_LOG_ERROR,
				 "rule %u: stage %u tuple %u does not exist in the application",
				 e->rule.rule_id, e->key.stage, e->key.tuple);
			return -EINVAL;
		}
		t = &app->stages[e->key.stage].tuples[e->key.tuple];
		if ((e->key.state & ~t->state_mask) || (e->key.conds & ~t->cond_mask)) {
			xfsm_log(XFSM_LOG_ERROR, "rule %u: key is not masked by its tuple",
				 e->rule.rule_id);
			return -EINVAL;
		}
		for (i = 0; i < XFSM_MATCH_WORDS; i++) {
			if (e->key.match[i] & ~t->match_mask[i]) {
				xfsm_log(XFSM_LOG_ERROR, "rule %u: match word %u is not masked by its tuple",
					 e->rule.rule_id, i);
				return -EINVAL;
			}
		}
		if (e->rule.priority > t->max_priority) {
			xfsm_log(XFSM_LOG_ERROR,
				 "rule %u: priority %u above its tuple's max_priority %u",
				 e->rule.rule_id, e->rule.priority, t->max_priority);
			return -EINVAL;
		}
		if (!rule_body_valid(e))
			return -EINVAL;
		if ((e->rule.flags & XFSM_RF_SET_STATE) && !timeouts_valid(&e->rule))
			return -EINVAL;
		if (max_rules && e->rule.rule_id >= max_rules) {
			xfsm_log(XFSM_LOG_ERROR,
				 "rule id %u is out of range: the datapath holds %u rules per application",
				 e->rule.rule_id, max_rules);
			return -E2BIG;
		}
	}
	if (max_rules && img->n_rules > max_rules) {
		xfsm_log(XFSM_LOG_ERROR, "application has %zu rules, the datapath holds %u",
			 img->n_rules, max_rules);
		return -E2BIG;
	}
	return 0;
}

static int fill_words(__u8 *dst, const __u8 *src, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < XFSM_KEY_WORDS; i++) {
		if (i < n && src[i] >= XFSM_FV_WORDS)
			return -EINVAL;
		dst[i] = i < n ? src[i] : XFSM_FW_ZERO;
	}
	return 0;
}

int xfsm_stage_set_keys(struct xfsm_stage *st,
			const __u8 *lookup, const __u8 *lookup_rev, unsigned int n_lookup,
			const __u8 *update, const __u8 *update_rev, unsigned int n_update)
{
	struct xfsm_stage tmp;
	bool same;

	if (!st || n_lookup > XFSM_KEY_WORDS || n_update > XFSM_KEY_WORDS)
		return -E2BIG;
	if ((n_lookup && !lookup) || (n_update && !update))
		return -EINVAL;
	/* Without reverse lists the key reads the same both ways. */
	if (!lookup_rev)
		lookup_rev = lookup;
	if (!update_rev)
		update_rev = update;
	tmp = *st;
	if (fill_words(tmp.lookup_words, lookup, n_lookup) ||
	    fill_words(tmp.lookup_rev, lookup_rev, n_lookup) ||
	    fill_words(tmp.update_words, update, n_update) ||
	    fill_words(tmp.update_rev, update_rev, n_update))
		return -EINVAL;
	same = !memcmp(tmp.lookup_words, tmp.update_words, XFSM_KEY_WORDS) &&
	       !memcmp(tmp.lookup_rev, tmp.update_rev, XFSM_KEY_WORDS);
	if (same)
		tmp.flags |= XFSM_SF_SAME_KEYS;
	else
		tmp.flags &= ~XFSM_SF_SAME_KEYS;
	*st = tmp;
	return 0;
}

static struct xfsm_operand opnd(enum xfsm_opnd_kind kind, unsigned int index)
{
	struct xfsm_operand o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.index = index;
	return o;
}

struct xfsm_operand xfsm_opnd_const(__u64 v)
{
	struct xfsm_operand o = opnd(XFSM_OPND_CONST, 0);

	o.value = v;
	return o;
}

struct xfsm_operand xfsm_opnd_field(unsigned int word, unsigned int width)
{
	struct xfsm_operand o = opnd(XFSM_OPND_FIELD, word);

	o.width = width == 2 ? 2 : 1;
	return o;
}

struct xfsm_operand xfsm_opnd_flow_reg(unsigned int i)
{
	return opnd(XFSM_OPND_FLOW_REG, i);
}

struct xfsm_operand xfsm_opnd_global(unsigned int i)
{
	return opnd(XFSM_OPND_GLOBAL_REG, i);
}

struct xfsm_operand xfsm_opnd_meta(enum xfsm_meta m)
{
	return opnd(XFSM_OPND_META, m);
}

struct xfsm_operand xfsm_opnd_state(void)
{
	return opnd(XFSM_OPND_STATE, 0);
}

/*
 * The datapath reads some packet metadata (the ingress port, a random
 * number, the clock) only when the application says it will use it.  The
 * XFSM_AF_NEEDS_* flags an image needs follow from its operands, keys and
 * match words.
 */
static __u32 operand_meta_flags(const struct xfsm_operand *o)
{
	if (o->kind == XFSM_OPND_FIELD && o->index == XFSM_FW_META_PORT)
		return XFSM_AF_NEEDS_PORT;
	if (o->kind != XFSM_OPND_META)
		return 0;
	switch (o->index) {
	case XFSM_META_PORT:
		return XFSM_AF_NEEDS_PORT;
	case XFSM_META_RANDOM:
		return XFSM_AF_NEEDS_RANDOM;
	case XFSM_META_TIME:
		return XFSM_AF_NEEDS_TIME;
	}
	return 0;
}

static __u32 words_meta_flags(const __u8 *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (w[i] == XFSM_FW_META_PORT)
			return XFSM_AF_NEEDS_PORT;
	return 0;
}

__u32 xfsm_image_meta_flags(const struct xfsm_image *img)
{
	__u32 f = 0;

	for (unsigned int s = 0; s < img->app.n_stages && s < XFSM_MAX_STAGES; s++) {
		const struct xfsm_stage *st = &img->app.stages[s];

		f |= words_meta_flags(st->lookup_words, XFSM_KEY_WORDS);
		f |= words_meta_flags(st->lookup_rev, XFSM_KEY_WORDS);
		f |= words_meta_flags(st->update_words, XFSM_KEY_WORDS);
		f |= words_meta_flags(st->update_rev, XFSM_KEY_WORDS);
		f |= words_meta_flags(st->match_words, XFSM_MATCH_WORDS);
		for (unsigned int c = 0; c < XFSM_MAX_CONDS; c++)
			f |= operand_meta_flags(&st->conds[c].a) | operand_meta_flags(&st->conds[c].b);
	}
	for (size_t r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule *rule = &img->rules[r].rule;

		for (unsigned int u = 0; u < XFSM_MAX_UPDATES; u++)
			f |= operand_meta_flags(&rule->upd[u].a) | operand_meta_flags(&rule->upd[u].b);
		for (unsigned int a = 0; a < XFSM_MAX_ACTIONS; a++)
			f |= operand_meta_flags(&rule->act[a].opnd);
	}
	return f;
}
