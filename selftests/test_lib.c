/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libxfsm core: image building (tuples, sorting, limits), flow keys,
 * operands, and, against a loaded build/xfsm.bpf.o, atomic apply, read
 * back, failure rollback, globals, flows and statistics.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "libxfsm.h"
#include "xfsm_features.h"
#include "xfsm_attach.h"
#include "xfsm_acl.h"
#include "xfsm_appsrc.h"
#include "xfsm_file.h"
#include "xfsm_datapath.h"
#include "codegen/disasm.h"
#include "xfsm_num.h"
#include "xfsm_obs.h"

/* ---- helpers -------------------------------------------------------------- */

/* Library messages are captured: tests check what the user would read. */
static char last_msg[1024];

static void capture_log(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl <= XFSM_LOG_WARN)
		snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

#define assert_msg_has(s) \
	ck_assert_msg(strstr(last_msg, (s)) != NULL, "message \"%s\" lacks \"%s\"", last_msg, (s))

static struct xfsm_rule_match match_state(__u32 state, __u32 mask)
{
	struct xfsm_rule_match m;

	memset(&m, 0, sizeof(m));
	m.state = state;
	m.state_mask = mask;
	return m;
}

static struct xfsm_rule rule_prio(__u32 prio, __u32 id)
{
	struct xfsm_rule r;

	memset(&r, 0, sizeof(r));
	r.rule_id = id;
	r.priority = prio;
	r.act[0].type = XFSM_ACT_DROP;
	return r;
}

/* Every rule's key must agree with the tuple it names. */
static void assert_image_consistent(const struct xfsm_image *img)
{
	size_t r;
	int i;

	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];
		const struct xfsm_stage *st = &img->app.stages[e->key.stage];
		const struct xfsm_tuple *t;

		ck_assert_uint_lt(e->key.tuple, st->n_tuples);
		t = &st->tuples[e->key.tuple];
		ck_assert_uint_eq(e->key.state & ~t->state_mask, 0);
		ck_assert_uint_eq(e->key.conds & ~t->cond_mask, 0);
		for (i = 0; i < XFSM_MATCH_WORDS; i++)
			ck_assert_uint_eq(e->key.match[i] & ~t->match_mask[i], 0);
		ck_assert_uint_le(e->rule.priority, t->max_priority);
	}
}

/* Printable text that deflate cannot shrink much: 6 random bits a byte. */
static char *random_text(size_t len, __u64 seed)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *t = malloc(len + 1);

	if (!t)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		t[i] = i % 77 == 76 ? '\n' : abc[seed & 63];
	}
	t[len] = 0;
	return t;
}

/* ---- unit tests: images ----------------------------------------------- */

START_TEST(test_tuple_grouping)
{
	struct xfsm_image img;
	struct xfsm_rule_match m;
	struct xfsm_rule r;

	xfsm_image_init(&img);
	img.app.n_stages = 2;
	m = match_state(1, 0xff);
	r = rule_prio(10, 0xffffffff);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	m = match_state(2, 0xff);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	/* same masks: one tuple */
	ck_assert_uint_eq(img.app.stages[0].n_tuples, 1);
	/* another mask: a second tuple */
	m = match_state(0, 0);
	m.match[1] = 0x0a0b0c0d;
	m.match_mask[1] = 0xffff0000;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	ck_assert_uint_eq(img.app.stages[0].n_tuples, 2);
	ck_assert_uint_eq(img.rules[2].key.match[1], 0x0a0b0000);
	ck_assert_uint_eq(img.rules[2].key.stage, 0);
	/* another stage has its own tuples */
	m = match_state(1, 0xff);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 1, &m, &r), 0);
	ck_assert_uint_eq(img.app.stages[1].n_tuples, 1);
	ck_assert_uint_eq(img.rules[3].key.stage, 1);
	ck_assert_uint_eq(img.rules[3].key.tuple, 0);
	/* rule ids assigned in order */
	ck_assert_uint_eq(img.rules[0].rule.rule_id, 0);
	ck_assert_uint_eq(img.rules[3].rule.rule_id, 3);
	ck_assert_uint_eq(img.n_rules, 4);
	assert_image_consistent(&img);
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 100), 0);
	xfsm_image_free(&img);
}
END_TEST

START_TEST(test_tuple_sorting)
{
	struct xfsm_rule_match ma = match_state(1, 0xff), mb = match_state(0, 0), mc;
	struct xfsm_image img;
	struct xfsm_rule r;
	const struct xfsm_stage *st = &img.app.stages[0];
	size_t i;

	mb.conds = 1;
	mb.cond_mask = 1;
	mc = mb;
	mc.cond_mask = 3;
	xfsm_image_init(&img);
	img.app.n_stages = 1;
	r = rule_prio(10, 100);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &ma, &r), 0);
	r = rule_prio(20, 101);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &mb, &r), 0);
	/* the higher priority tuple comes first */
	ck_assert_uint_eq(st->n_tuples, 2);
	ck_assert_uint_eq(st->tuples[0].max_priority, 20);
	ck_assert_uint_eq(st->tuples[0].cond_mask, 1);
	ck_assert_uint_eq(st->tuples[1].max_priority, 10);
	ck_assert_uint_eq(img.rules[0].key.tuple, 1);
	ck_assert_uint_eq(img.rules[1].key.tuple, 0);
	/* raising tuple A's priority moves it to the front, rules follow */
	ma.state = 2;
	r = rule_prio(30, 102);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &ma, &r), 0);
	ck_assert_uint_eq(st->tuples[0].max_priority, 30);
	ck_assert_uint_eq(st->tuples[0].state_mask, 0xff);
	ck_assert_uint_eq(img.rules[0].key.tuple, 0);
	ck_assert_uint_eq(img.rules[1].key.tuple, 1);
	ck_assert_uint_eq(img.rules[2].key.tuple, 0);
	/* an equal priority goes after the existing tuple (stable) */
	r = rule_prio(20, 103);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &mc, &r), 0);
	ck_assert_uint_eq(st->n_tuples, 3);
	ck_assert_uint_eq(st->tuples[1].cond_mask, 1);
	ck_assert_uint_eq(st->tuples[2].cond_mask, 3);
	ck_assert_uint_eq(img.rules[3].key.tuple, 2);
	for (i = 1; i < st->n_tuples; i++)
		ck_assert_uint_ge(st->tuples[i - 1].max_priority, st->tuples[i].max_priority);
	assert_image_consistent(&img);
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 1000), 0);

	/* deleting the only rule of the top tuple's maximum re-sorts */
	ck_assert_int_eq(xfsm_image_del_rule(&img, 102), 0);
	ck_assert_uint_eq(st->tuples[0].max_priority, 20);
	ck_assert_uint_eq(st->tuples[2].max_priority, 10);
	ck_assert_uint_eq(st->tuples[2].state_mask, 0xff);
	assert_image_consistent(&img);
	/* deleting a tuple's last rule removes the tuple */
	ck_assert_int_eq(xfsm_image_del_rule(&img, 103), 0);
	ck_assert_uint_eq(st->n_tuples, 2);
	ck_assert_uint_eq(img.n_rules, 2);
	assert_image_consistent(&img);
	ck_assert_int_eq(xfsm_image_del_rule(&img, 103), -ENOENT);
	/* an index rebuilt after deletion still finds duplicates */
	r = rule_prio(5, 0xffffffff);
	ma.state = 1;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &ma, &r), -EEXIST);
	xfsm_image_free(&img);
}
END_TEST

START_TEST(test_tuple_limit)
{
	struct xfsm_image img;
	struct xfsm_rule_match m;
	struct xfsm_rule r = rule_prio(1, 0xffffffff);
	int i;

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	for (i = 0; i < XFSM_MAX_TUPLES; i++) {
		m = match_state(0, 1U << i);
		ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	}
	ck_assert_uint_eq(img.app.stages[0].n_tuples, XFSM_MAX_TUPLES);
	m = match_state(0, 1U << XFSM_MAX_TUPLES);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), -E2BIG);
	ck_assert_uint_eq(img.n_rules, XFSM_MAX_TUPLES);
	/* an existing mask still takes more rules */
	m = match_state(1, 1);
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	/* the offload profile walks fewer tuples */
	ck_assert_int_eq(xfsm_image_validate(&img, 0, XFSM_OFFLOAD_MAX_TUPLES, 0), -E2BIG);
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	/* no such stage */
	ck_assert_int_eq(xfsm_image_add_rule(&img, XFSM_MAX_STAGES, &m, &r), -EINVAL);
	xfsm_image_free(&img);
}
END_TEST

/* An image's bytes depend only on the rules added, not on what the memory
 * under its rule array held: the padding between an entry's key and rule
 * included (the fuzzer compares a recompiled image byte for byte). */
START_TEST(test_image_bytes_deterministic)
{
	struct xfsm_image a, b;
	struct xfsm_rule_match m = match_state(0x12, 0xf0);
	struct xfsm_rule r = rule_prio(1, 0xffffffff);
	size_t cap = 4, i;

	xfsm_image_init(&a);
	xfsm_image_init(&b);
	a.app.n_stages = b.app.n_stages = 1;
	a.rules = malloc(cap * sizeof(*a.rules));
	b.rules = malloc(cap * sizeof(*b.rules));
	ck_assert_ptr_nonnull(a.rules);
	ck_assert_ptr_nonnull(b.rules);
	memset(a.rules, 0xa5, cap * sizeof(*a.rules));
	memset(b.rules, 0x3c, cap * sizeof(*b.rules));
	a.cap_rules = b.cap_rules = cap;
	/* six rules: the array is grown past the garbage-filled start */
	for (i = 0; i < 6; i++) {
		m.state = 0x10 * (i + 1);
		m.state_mask = i & 1 ? 0xff : 0xf0;
		ck_assert_int_eq(xfsm_image_add_rule(&a, 0, &m, &r), 0);
		ck_assert_int_eq(xfsm_image_add_rule(&b, 0, &m, &r), 0);
	}
	ck_assert_uint_eq(a.n_rules, 6);
	ck_assert_uint_eq(b.n_rules, 6);
	ck_assert_int_eq(memcmp(a.rules, b.rules, a.n_rules * sizeof(*a.rules)), 0);
	xfsm_image_free(&a);
	xfsm_image_free(&b);
}
END_TEST

START_TEST(test_duplicates)
{
	struct xfsm_image img;
	struct xfsm_rule_match m = match_state(0x12, 0xf0);
	struct xfsm_rule r = rule_prio(1, 0xffffffff);

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	ck_assert_uint_eq(img.rules[0].key.state, 0x10);
	/* differs only in masked-out bits: the same key */
	m.state = 0x1f;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), -EEXIST);
	/* same value, other mask: another tuple, fine */
	m.state_mask = 0xff;
	m.state = 0x10;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	/* explicit rule ids must be unique */
	m.state = 0x20;
	r.rule_id = 1;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), -EEXIST);
	r.rule_id = 10;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	r.rule_id = 0xffffffff;
	m.state = 0x30;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	ck_assert_uint_eq(img.rules[3].rule.rule_id, 11);
	ck_assert_uint_eq(img.n_rules, 4);
	/* rule ids beyond the datapath's capacity are refused at apply */
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 11), -E2BIG);
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 12), 0);
	xfsm_image_free(&img);
}
END_TEST

START_TEST(test_many_rules)
{
	struct xfsm_image img;
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	__u32 i, n = 50000;

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	for (i = 0; i < n; i++) {
		m = match_state(0, 0);
		m.match[0] = i;
		m.match_mask[0] = i % 2 ? 0xffffffff : 0xfffffffe;
		r = rule_prio(i % 7, 0xffffffff);
		ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	}
	ck_assert_uint_eq(img.n_rules, n);
	ck_assert_uint_eq(img.app.stages[0].n_tuples, 2);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(img.rules[i].rule.rule_id, i);
	/* every key is still detected as present */
	for (i = 0; i < n; i += 997) {
		m = match_state(0, 0);
		m.match[0] = i;
		m.match_mask[0] = i % 2 ? 0xffffffff : 0xfffffffe;
		r = rule_prio(1, 0xffffffff);
		ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), -EEXIST);
	}
	assert_image_consistent(&img);
	xfsm_image_free(&img);
}
END_TEST

START_TEST(test_validate)
{
	struct xfsm_image img;
	struct xfsm_rule_match m = match_state(1, 1);
	struct xfsm_rule r = rule_prio(5, 0xffffffff);

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	m = match_state(2, 2);
	r.priority = 3;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	/* a hand-made image with its tuples out of order */
	img.app.stages[0].tuples[1].max_priority = 9;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	img.app.stages[0].tuples[1].max_priority = 3;
	/* a key with bits outside its tuple's mask */
	img.rules[0].key.state = 3;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	img.rules[0].key.state = 1;
	/* rules of a stage beyond n_stages */
	img.app.n_stages = 0;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	img.app.n_stages = 5;
	ck_assert_int_eq(xfsm_image_validate(&img, XFSM_OFFLOAD_MAX_STAGES, 0, 0), -E2BIG);
	xfsm_image_free(&img);
}
END_TEST

/*
 * Every number of a rule's body and a stage's conditions is one the
 * datapath runs as written: it masks a register or word index into range,
 * so an index past the end would read or write another one, and it skips
 * what it does not know.  Each fault is refused alone.  (A backward goto
 * stays the datapath's defined exception: test_xfsm's goto scenario.)
 */
START_TEST(test_validate_bodies)
{
	struct xfsm_rule_match m = match_state(0, 0);
	struct xfsm_rule r = rule_prio(5, 0);
	struct xfsm_image img;
	struct xfsm_rule *rr;
	struct xfsm_stage *st;

	xfsm_image_init(&img);
	img.app.n_stages = 3;
	img.app.stages[1].kind = XFSM_STAGE_ACL;
	img.app.stages[1].acl_table = XFSM_ACL_TABLES - 1;
	r.upd[0] = (struct xfsm_update){ .op = XFSM_UPD_ADD, .dst_kind = XFSM_OPND_FLOW_REG,
					 .dst_index = XFSM_FLOW_REGS - 1,
					 .a = xfsm_opnd_flow_reg(XFSM_FLOW_REGS - 1),
					 .b = xfsm_opnd_global(XFSM_GLOBAL_REGS - 1) };
	r.act[0] = (struct xfsm_action){ .type = XFSM_ACT_SET_MARK,
					 .opnd = xfsm_opnd_field(XFSM_FV_WORDS - 2, 2) };
	r.act[1] = (struct xfsm_action){ .type = XFSM_ACT_GOTO, .arg = 2 };
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	st = &img.app.stages[0];
	st->n_conds = 1;
	st->conds[0] = (struct xfsm_cond){ .op = XFSM_CMP_EQ,
					   .a = xfsm_opnd_meta(XFSM_META__MAX - 1),
					   .b = xfsm_opnd_const(1) };
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	rr = &img.rules[0].rule;
#define REFUSED(field, bad) do {						\
		__typeof__(field) keep = (field);				\
		(field) = (bad);						\
		ck_assert_msg(xfsm_image_validate(&img, 0, 0, 0) == -EINVAL,	\
			      "%s = %s accepted", #field, #bad);		\
		(field) = keep;							\
	} while (0)
	REFUSED(rr->upd[0].dst_index, XFSM_FLOW_REGS);
	REFUSED(rr->upd[0].dst_kind, XFSM_OPND_CONST);
	REFUSED(rr->upd[0].op, XFSM_UPD__MAX);
	REFUSED(rr->upd[0].a.index, XFSM_FLOW_REGS);
	REFUSED(rr->upd[0].b.index, XFSM_GLOBAL_REGS);
	REFUSED(rr->upd[0].b.kind, XFSM_OPND__MAX);
	REFUSED(rr->act[0].opnd.index, XFSM_FV_WORDS - 1);	/* two words from the last */
	REFUSED(rr->act[0].type, XFSM_ACT__MAX);
	rr->act[1].arg = XFSM_MAX_GROUPS;
	REFUSED(rr->act[1].type, XFSM_ACT_OUTPUT_GROUP);
	rr->act[1].arg = 2;
	REFUSED(st->conds[0].a.index, XFSM_META__MAX);
	REFUSED(st->conds[0].op, XFSM_CMP__MAX);
	REFUSED(img.app.stages[1].acl_table, XFSM_ACL_TABLES);
	REFUSED(img.app.stages[2].kind, XFSM_STAGE__MAX);
#undef REFUSED
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	xfsm_image_free(&img);
}
END_TEST

/* A hand-built image is held to the timeout rule the language and
 * xfsmctl state set apply: the validator refuses exactly the transitions
 * xfsm_timeouts_check() finds wrong (a rollback to the state entered, an
 * idle timeout not shorter than the hard one), only on rules that set a
 * state (the datapath reads a rule's timeouts only then). */
START_TEST(test_validate_timeouts)
{
	static const __u32 ms[] = { 0, 500, 1000 };
	unsigned int not_shorter = 0;
	struct xfsm_image img;
	struct xfsm_rule_match m = match_state(0, 0);
	struct xfsm_rule r = rule_prio(5, 0xffffffff), *e;
	unsigned int refused = 0, i, j, ri, rh;

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
	r.next_state = 1;
	ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
	e = &img.rules[0].rule;
	/* idle 1 s back to 0, hard 5 s back to 2: valid */
	e->idle_timeout_ms = 1000;
	e->hard_timeout_ms = 5000;
	e->hard_rollback = 2;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	e->idle_rollback = 1;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	e->idle_rollback = 0;
	e->hard_rollback = 1;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	e->hard_rollback = 2;
	/* idle as long as hard, or longer: it could never fire */
	e->idle_timeout_ms = 5000;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	e->idle_timeout_ms = 6000;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), -EINVAL);
	e->idle_timeout_ms = 4999;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	/* the same rule on every combination: validate agrees with the check */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			for (ri = 0; ri < 3; ri++)
				for (rh = 0; rh < 3; rh++) {
					unsigned int bad;

					e->idle_timeout_ms = ms[i];
					e->hard_timeout_ms = ms[j];
					e->idle_rollback = ri;
					e->hard_rollback = rh;
					bad = xfsm_timeouts_check(1, ms[i], ri, ms[j], rh);
					refused += bad != 0;
					not_shorter += !!(bad & XFSM_TIMEOUT_IDLE_NOT_SHORTER);
					ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0),
							 bad ? -EINVAL : 0);
				}
	ck_assert_uint_gt(refused, 0);
	ck_assert_uint_gt(not_shorter, 0);
	/* without a state to set, the datapath never reads the timeouts */
	e->flags &= ~XFSM_RF_SET_STATE;
	e->idle_timeout_ms = 1000;
	e->idle_rollback = 1;
	ck_assert_int_eq(xfsm_image_validate(&img, 0, 0, 0), 0);
	xfsm_image_free(&img);
}
END_TEST

/* ---- unit tests: keys and operands ----------------------------------- */

START_TEST(test_stage_set_keys)
{
	static const __u8 fwd[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				    XFSM_FW_L4_DPORT, XFSM_FW_IP_PROTO };
	static const __u8 rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC, XFSM_FW_L4_DPORT,
				    XFSM_FW_L4_SPORT, XFSM_FW_IP_PROTO };
	static const __u8 dst[] = { XFSM_FW_ETH_DST_HI, XFSM_FW_ETH_DST_LO };
	static const __u8 src[] = { XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO };
	__u8 big[XFSM_KEY_WORDS + 1], bad[1] = { XFSM_FV_WORDS };
	struct xfsm_image img;
	struct xfsm_stage *st = &img.app.stages[0];
	int i;

	xfsm_image_init(&img);
	ck_assert_int_eq(xfsm_stage_set_keys(st, fwd, rev, 5, fwd, rev, 5), 0);
	ck_assert(st->flags & XFSM_SF_SAME_KEYS);
	ck_assert_uint_eq(st->lookup_words[1], XFSM_FW_IP4_DST);
	ck_assert_uint_eq(st->lookup_rev[1], XFSM_FW_IP4_SRC);
	for (i = 5; i < XFSM_KEY_WORDS; i++) {
		ck_assert_uint_eq(st->lookup_words[i], XFSM_FW_ZERO);
		ck_assert_uint_eq(st->update_rev[i], XFSM_FW_ZERO);
	}
	/* MAC learning: look up by destination, learn by source */
	ck_assert_int_eq(xfsm_stage_set_keys(st, dst, NULL, 2, src, NULL, 2), 0);
	ck_assert(!(st->flags & XFSM_SF_SAME_KEYS));
	ck_assert_uint_eq(st->update_words[0], XFSM_FW_ETH_SRC_HI);
	ck_assert_uint_eq(st->lookup_words[2], XFSM_FW_ZERO);
	/* the symmetric flag is the caller's and is kept */
	st->flags |= XFSM_SF_SYMMETRIC;
	ck_assert_int_eq(xfsm_stage_set_keys(st, fwd, rev, 5, fwd, rev, 5), 0);
	ck_assert_uint_eq(st->flags, XFSM_SF_SYMMETRIC | XFSM_SF_SAME_KEYS);

	memset(big, XFSM_FW_IP_PROTO, sizeof(big));
	ck_assert_int_eq(xfsm_stage_set_keys(st, big, NULL, sizeof(big), big, NULL, 1), -E2BIG);
	ck_assert_int_eq(xfsm_stage_set_keys(st, bad, NULL, 1, bad, NULL, 1), -EINVAL);
	/* a refused call leaves the stage as it was */
	ck_assert_uint_eq(st->lookup_words[0], XFSM_FW_IP4_SRC);
	xfsm_image_free(&img);
}
END_TEST

START_TEST(test_flow_key_build)
{
	static const __u8 fwd[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				    XFSM_FW_L4_DPORT };
	static const __u8 rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC, XFSM_FW_L4_DPORT,
				    XFSM_FW_L4_SPORT };
	static const __u8 dst[] = { XFSM_FW_ETH_DST_HI, XFSM_FW_ETH_DST_LO };
	static const __u8 src[] = { XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO };
	__u32 fv[XFSM_FV_WORDS], fv2[XFSM_FV_WORDS];
	struct xfsm_flow_key k, k2;
	struct xfsm_stage st;
	int i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < XFSM_FV_WORDS; i++)
		fv[i] = 1000 + i;	/* XFSM_FW_ZERO deliberately non-zero */
	ck_assert_int_eq(xfsm_stage_set_keys(&st, dst, NULL, 2, src, NULL, 2), 0);
	st.epoch = 7;
	xfsm_flow_key_build(&st, 3, fv, false, &k);
	ck_assert_uint_eq(k.stage, 3);
	ck_assert_uint_eq(k.epoch, 7);
	ck_assert_uint_eq(k.w[0], 1000 + XFSM_FW_ETH_DST_HI);
	ck_assert_uint_eq(k.w[1], 1000 + XFSM_FW_ETH_DST_LO);
	for (i = 2; i < XFSM_KEY_WORDS; i++)
		ck_assert_uint_eq(k.w[i], 0);
	xfsm_flow_key_build(&st, 3, fv, true, &k);
	ck_assert_uint_eq(k.w[0], 1000 + XFSM_FW_ETH_SRC_HI);
	ck_assert_uint_eq(k.w[1], 1000 + XFSM_FW_ETH_SRC_LO);
	/* words after XFSM_FW_ZERO are fields (tcp.seq), read as such */
	{
		static const __u8 seq[] = { XFSM_FW_TCP_SEQ, XFSM_FW_ZERO };

		ck_assert_int_eq(xfsm_stage_set_keys(&st, seq, NULL, 2, seq, NULL, 2), 0);
		xfsm_flow_key_build(&st, 3, fv, false, &k);
		ck_assert_uint_eq(k.w[0], 1000 + XFSM_FW_TCP_SEQ);
		ck_assert_uint_eq(k.w[1], 0);
	}

	/* symmetric: both directions give the smaller key */
	ck_assert_int_eq(xfsm_stage_set_keys(&st, fwd, rev, 4, fwd, rev, 4), 0);
	st.flags |= XFSM_SF_SYMMETRIC;
	memset(fv, 0, sizeof(fv));
	fv[XFSM_FW_IP4_SRC] = 0xc6120002;	/* 198.18.0.2 */
	fv[XFSM_FW_IP4_DST] = 0xc6120001;
	fv[XFSM_FW_L4_SPORT] = 40000;
	fv[XFSM_FW_L4_DPORT] = 22;
	memcpy(fv2, fv, sizeof(fv));
	fv2[XFSM_FW_IP4_SRC] = fv[XFSM_FW_IP4_DST];
	fv2[XFSM_FW_IP4_DST] = fv[XFSM_FW_IP4_SRC];
	fv2[XFSM_FW_L4_SPORT] = fv[XFSM_FW_L4_DPORT];
	fv2[XFSM_FW_L4_DPORT] = fv[XFSM_FW_L4_SPORT];
	xfsm_flow_key_build(&st, 0, fv, false, &k);
	xfsm_flow_key_build(&st, 0, fv2, true, &k2);
	ck_assert_int_eq(memcmp(&k, &k2, sizeof(k)), 0);
	ck_assert_uint_eq(k.w[0], 0xc6120001);
	ck_assert_uint_eq(k.w[2], 22);
	/* equal first words: decided by the next word, unsigned */
	fv[XFSM_FW_IP4_SRC] = fv[XFSM_FW_IP4_DST] = 0xc6120001;
	fv[XFSM_FW_L4_SPORT] = 0x80000000;
	fv[XFSM_FW_L4_DPORT] = 5;
	xfsm_flow_key_build(&st, 0, fv, false, &k);
	ck_assert_uint_eq(k.w[2], 5);
	ck_assert_uint_eq(k.w[3], 0x80000000);
}
END_TEST

START_TEST(test_operands)
{
	struct xfsm_operand o;

	o = xfsm_opnd_const(0x123456789abcULL);
	ck_assert_uint_eq(o.kind, XFSM_OPND_CONST);
	ck_assert_uint_eq(o.value, 0x123456789abcULL);
	o = xfsm_opnd_field(XFSM_FW_ETH_SRC_HI, 2);
	ck_assert_uint_eq(o.kind, XFSM_OPND_FIELD);
	ck_assert_uint_eq(o.index, XFSM_FW_ETH_SRC_HI);
	ck_assert_uint_eq(o.width, 2);
	ck_assert_uint_eq(o.value, 0);
	o = xfsm_opnd_field(XFSM_FW_IP_TTL, 1);
	ck_assert_uint_eq(o.width, 1);
	o = xfsm_opnd_flow_reg(3);
	ck_assert_uint_eq(o.kind, XFSM_OPND_FLOW_REG);
	ck_assert_uint_eq(o.index, 3);
	o = xfsm_opnd_global(7);
	ck_assert_uint_eq(o.kind, XFSM_OPND_GLOBAL_REG);
	ck_assert_uint_eq(o.index, 7);
	o = xfsm_opnd_meta(XFSM_META_TIME);
	ck_assert_uint_eq(o.kind, XFSM_OPND_META);
	ck_assert_uint_eq(o.index, XFSM_META_TIME);
	o = xfsm_opnd_state();
	ck_assert_uint_eq(o.kind, XFSM_OPND_STATE);
	ck_assert_uint_eq(o.pad[0] | o.pad[4], 0);
}
END_TEST

static int debug_seen;

static void count_debug(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl == XFSM_LOG_DEBUG && !strcmp(msg, "x=42"))
		debug_seen++;
}

START_TEST(test_log_hook)
{
	xfsm_set_log(count_debug);
	xfsm_log(XFSM_LOG_DEBUG, "x=%d", 42);
	ck_assert_int_eq(debug_seen, 1);
	xfsm_set_log(capture_log);
	last_msg[0] = '\0';
	xfsm_log(XFSM_LOG_ERROR, "map %s: %s", "xfsm_ctl", "gone");
	ck_assert_str_eq(last_msg, "map xfsm_ctl: gone");
	/* long messages are cut, not overflowed */
	xfsm_log(XFSM_LOG_WARN, "%2000s", "end");
	ck_assert_uint_lt(strlen(last_msg), sizeof(last_msg));
	ck_assert_str_eq(last_msg + strlen(last_msg) - 3, "   ");
}
END_TEST

/* One validator for every name that becomes a directory under the pin
 * root: what it takes, what it refuses, and that its message names why. */
START_TEST(test_instance_names)
{
	static const char *const good[] = {
		"default", "a", "lab-1", "x_y.z", "A9", "a..b",
		"123456789012345678901234567890123456789012345678901234567890123",
	};
	static const struct { const char *name, *why; } bad[] = {
		{ "", "empty" },
		{ ".", "must not start with '.'" },
		{ "..", "must not start with '.'" },
		{ ".hidden", "must not start with '.'" },
		{ "../../etc", "'/' at position 3" },
		{ "a/b", "'/' at position 2" },
		{ "/abs", "'/' at position 1" },
		{ "a b", "' ' at position 2" },
		{ "tab\there", "\\x09 at position 4" },
		{ "nl\n", "\\x0a at position 3" },
		{ "caf\xc3\xa9", "\\xc3 at position 4" },
		{ "x*", "'*' at position 2" },
		{ "1234567890123456789012345678901234567890123456789012345678901234",
		  "64 characters, at most 63" },
	};
	struct xfsm_instance *inst = (void *)1;
	char dir[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		last_msg[0] = '\0';
		ck_assert_msg(xfsm_instance_name_check(good[i]) == 0, "'%s' refused: %s",
			      good[i], last_msg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		last_msg[0] = '\0';
		ck_assert_int_eq(xfsm_instance_name_check(bad[i].name), -EINVAL);
		assert_msg_has("invalid instance name");
		assert_msg_has(bad[i].why);
		/* the places a name becomes a path refuse it too */
		ck_assert_int_eq(xfsm_pin_dir_of(bad[i].name, dir, sizeof(dir)), -EINVAL);
		ck_assert_int_eq(xfsm_instance_open(bad[i].name, &inst), -EINVAL);
		ck_assert_ptr_null(inst);
		inst = (void *)1;
	}
	ck_assert_int_eq(xfsm_instance_name_check(NULL), -EINVAL);
	/* no control character reaches the message */
	ck_assert_int_eq(xfsm_instance_name_check("a\033[2Jb"), -EINVAL);
	ck_assert_ptr_null(strchr(last_msg, '\033'));
	ck_assert_int_eq(xfsm_pin_dir_of("lab-1", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir + strlen(dir) - 6, "/lab-1");
}
END_TEST

/* A directory is xfsm's only on a bpffs and holding nothing but xfsm's
 * pins: anything else is refused and left as it was. */
START_TEST(test_pin_dir_check)
{
	char tmp[] = "/tmp/xfsm-test-pindir-XXXXXX", path[300];
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/keep", tmp);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	last_msg[0] = '\0';
	ck_assert_int_eq(xfsm_pin_dir_check(tmp, NULL), -EINVAL);
	assert_msg_has("not on a BPF filesystem");
	ck_assert_int_eq(xfsm_pin_dir_remove(tmp), -EINVAL);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(xfsm_pin_dir_check(path, NULL), -ENOTDIR);
	unlink(path);
	rmdir(tmp);
}
END_TEST

START_TEST(test_map_names)
{
	int i;

	for (i = 0; i < XFSM_M__MAX; i++) {
		ck_assert_ptr_nonnull(xfsm_map_names[i]);
		ck_assert_uint_lt(strlen(xfsm_map_names[i]), 16);
	}
	ck_assert_str_eq(xfsm_map_names[XFSM_M_RULE_STATS], XFSM_MAP_RULE_STATS);
	ck_assert_str_eq(xfsm_map_names[XFSM_M_TX_PORTS], XFSM_MAP_TX_PORTS);
}
END_TEST

/* ---- integration: a loaded datapath ---------------------------------- */

static char obj_path[PATH_MAX + 16];
static char pin_dir[128];

static const char *datapath_obj(const char *file)
{
	const char *env = getenv("XFSM_BUILD");
	char exe[PATH_MAX], *p;
	ssize_t n;

	if (env) {
		snprintf(obj_path, sizeof(obj_path), "%s/%s", env, file);
		return obj_path;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		p = strrchr(exe, '/');	/* build/selftests/test_lib */
		if (p) {
			*p = '\0';
			p = strrchr(exe, '/');
			if (p) {
				*p = '\0';
				snprintf(obj_path, sizeof(obj_path), "%s/%s", exe, file);
				if (!access(obj_path, R_OK))
					return obj_path;
			}
		}
	}
	snprintf(obj_path, sizeof(obj_path), "build/%s", file);
	return obj_path;
}

/* libbpf warnings, with a verifier log cut to its end (where the reason is). */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL;
	int n;

	if (level != LIBBPF_WARN)
		return 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return n;
	fputs(n > 2000 ? msg + n - 1500 : msg, stderr);
	free(msg);
	return n;
}

struct dp {
	struct bpf_object *obj;
	struct xfsm_instance *inst;
	int prog_fd;
};

/* rules_max: capacity of xfsm_rules (both slots), 0: as built. */
static void dp_load_file(struct dp *d, const char *file, __u32 rules_max)
{
	const char *path = datapath_obj(file);
	struct bpf_program *prog;
	int err;

	libbpf_set_print(quiet_libbpf);
	memset(d, 0, sizeof(*d));
	ck_assert_msg(!access(path, R_OK), "%s is missing: run make first", path);
	d->obj = bpf_object__open_file(path, NULL);
	ck_assert_msg(d->obj != NULL, "cannot open %s", path);
	/* keep the test light: a small rule statistics array */
	ck_assert_int_eq(xfsm_obj_size_maps(d->obj, &(struct xfsm_map_sizes){
		.rules = rules_max, .rule_stats = 2 * 1024 }), 0);
	err = xfsm_obj_load(d->obj);
	ck_assert_msg(!err, "cannot load %s: %s", path, strerror(-err));
	prog = bpf_object__find_program_by_name(d->obj, XFSM_PROG_NAME);
	ck_assert_ptr_nonnull(prog);
	d->prog_fd = bpf_program__fd(prog);
	ck_assert_int_eq(xfsm_instance_open_obj(d->obj, &d->inst), 0);
	ck_assert_uint_eq(d->inst->max_rules, 1024);
}

static void dp_load(struct dp *d, __u32 rules_max)
{
	dp_load_file(d, "xfsm.bpf.o", rules_max);
}

static void dp_close(struct dp *d)
{
	xfsm_instance_close(d->inst);
	bpf_object__close(d->obj);
}

/* An application of two stages keyed on a 5-tuple (so their flows are in
 * the medium table), n rules split over two masks. */
static void make_app(struct xfsm_image *img, __u32 n, __u32 tag)
{
	static const __u8 k5[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				   XFSM_FW_L4_DPORT, XFSM_FW_IP_PROTO };
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	char *src;
	__u32 i;

	xfsm_image_init(img);
	img->app.n_stages = 2;
	img->app.default_verdict = XFSM_VERDICT_PASS;
	for (i = 0; i < 2; i++) {
		img->app.stages[i].enabled = 1;
		img->app.stages[i].miss_verdict = XFSM_VERDICT_CONTINUE;
		img->app.stages[i].match_words[0] = XFSM_FW_L4_DPORT;
		ck_assert_int_eq(xfsm_stage_set_keys(&img->app.stages[i], k5, NULL, 5,
						     k5, NULL, 5), 0);
	}
	for (i = 0; i < n; i++) {
		m = match_state(i % 3, 0xffffffff);
		m.match[0] = tag + i;
		m.match_mask[0] = i % 2 ? 0xffff : 0xffffffff;
		r = rule_prio(i % 5 + 1, 0xffffffff);
		r.next_state = tag;
		r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
		ck_assert_int_eq(xfsm_image_add_rule(img, i % 2, &m, &r), 0);
	}
	ck_assert_int_gt(asprintf(&src, "app %u with %u rules\n", tag, n), 0);
	img->source = src;
	img->source_len = strlen(src);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct xfsm_rule_entry *x = a, *y = b;

	return x->rule.rule_id < y->rule.rule_id ? -1 : x->rule.rule_id > y->rule.rule_id;
}

/* The running application is exactly `want`. */
static void assert_running(struct dp *d, const struct xfsm_image *want)
{
	struct xfsm_rule_entry *sorted;
	struct xfsm_image got;
	__u32 s;
	size_t i;

	ck_assert_int_eq(xfsm_read_app(d->inst, &got), 0);
	ck_assert_uint_eq(got.n_rules, want->n_rules);
	ck_assert_uint_eq(got.app.n_stages, want->app.n_stages);
	for (s = 0; s < want->app.n_stages; s++) {
		const struct xfsm_stage *a = &got.app.stages[s], *b = &want->app.stages[s];

		ck_assert_uint_eq(a->n_tuples, b->n_tuples);
		ck_assert_int_eq(memcmp(a->tuples, b->tuples, sizeof(a->tuples)), 0);
		ck_assert_int_eq(memcmp(a->lookup_words, b->lookup_words,
					sizeof(a->lookup_words)), 0);
	}
	sorted = malloc(want->n_rules * sizeof(*sorted) + 1);
	ck_assert_ptr_nonnull(sorted);
	memcpy(sorted, want->rules, want->n_rules * sizeof(*sorted));
	qsort(sorted, want->n_rules, sizeof(*sorted), cmp_entry);
	for (i = 0; i < want->n_rules; i++) {
		ck_assert_int_eq(memcmp(&got.rules[i].key, &sorted[i].key,
					sizeof(sorted[i].key)), 0);
		ck_assert_int_eq(memcmp(&got.rules[i].rule, &sorted[i].rule,
					sizeof(sorted[i].rule)), 0);
	}
	ck_assert_uint_eq(got.source_len, want->source_len);
	ck_assert_str_eq(got.source, want->source);
	free(sorted);
	xfsm_image_free(&got);
}

struct slot_count {
	long n[XFSM_APP_SLOTS];
	__u32 max_rules;
	bool ids_ok;
};

static int count_rule(const void *key, const void *value, void *ctx)
{
	const struct xfsm_rule_key *k = key;
	const struct xfsm_rule *r = value;
	struct slot_count *c = ctx;

	if (k->slot < XFSM_APP_SLOTS) {
		c->n[k->slot]++;
		/* the stored id is a statistics index, the image's id kept */
		if (r->rule_id >= 2 * c->max_rules || r->image_id >= c->max_rules)
			c->ids_ok = false;
	}
	return 0;
}

static struct slot_count rules_per_slot(struct dp *d)
{
	struct slot_count c = { .max_rules = d->inst->max_rules, .ids_ok = true };

	ck_assert_int_eq(xfsm_map_walk(d->inst, XFSM_M_RULES, count_rule, &c), 0);
	return c;
}

START_TEST(test_dp_fresh)
{
	struct xfsm_stage_stats ss;
	struct xfsm_rule_stats rs;
	struct xfsm_counter cnt;
	struct xfsm_stats st;
	struct xfsm_image img;
	struct xfsm_ctl ctl;
	struct dp d;
	size_t i;

	dp_load(&d, 0);
	ck_assert_int_eq(xfsm_instance_check_abi(d.inst), 0);
	ck_assert_uint_eq(d.inst->build.abi_version, XFSM_ABI_VERSION);
	ck_assert_uint_eq(d.inst->build.offload, 0);
	ck_assert(d.inst->percpu_stats);
	ck_assert_int_eq(d.inst->nr_cpus, libbpf_num_possible_cpus());
	memset(&st, 0xff, sizeof(st));
	ck_assert_int_eq(xfsm_read_stats(d.inst, &st), 0);
	for (i = 0; i < sizeof(st) / 8; i++)
		ck_assert_uint_eq(((__u64 *)&st)[i], 0);
	/* no application: no stage, rule or counter to read */
	ck_assert_int_eq(xfsm_read_stage_stats(d.inst, 7, &ss), -ENOENT);
	ck_assert_int_eq(xfsm_read_stage_stats(d.inst, XFSM_MAX_STAGES, &ss), -ERANGE);
	ck_assert_int_eq(xfsm_read_rule_stats(d.inst, 1023, &rs), -ENOENT);
	ck_assert_int_eq(xfsm_read_rule_stats(d.inst, 1024, &rs), -ERANGE);
	ck_assert_int_eq(xfsm_read_counter(d.inst, XFSM_MAX_COUNTERS - 1, &cnt), -ENOENT);
	ck_assert_int_eq(xfsm_read_counter(d.inst, XFSM_MAX_COUNTERS, &cnt), -ERANGE);
	memset(&ss, 0xff, sizeof(ss));
	ck_assert_int_eq(xfsm_read_stage_stats_at(d.inst, XFSM_STAGE_STATS_SLOTS - 1, &ss), 0);
	ck_assert_uint_eq(ss.packets | ss.bytes | ss.hits | ss.misses, 0);
	ck_assert_int_eq(xfsm_read_stage_stats_at(d.inst, XFSM_STAGE_STATS_SLOTS, &ss), -ERANGE);
	ck_assert_int_eq(xfsm_read_rule_stats_at(d.inst, 2047, &rs), 0);
	ck_assert_uint_eq(rs.packets | rs.bytes, 0);
	ck_assert_int_eq(xfsm_read_counter_at(d.inst, XFSM_COUNTER_SLOTS - 1, &cnt), 0);
	ck_assert_uint_eq(cnt.packets, 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.active, 0);
	ck_assert_uint_eq(ctl.generation, 0);
	/* nothing installed: reading gives an empty application */
	ck_assert_int_eq(xfsm_read_app(d.inst, &img), 0);
	ck_assert_uint_eq(img.app.n_stages, 0);
	ck_assert_uint_eq(img.n_rules, 0);
	xfsm_image_free(&img);
	ck_assert_int_eq(xfsm_reset_stats(d.inst), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_RULES), 0);
	dp_close(&d);
}
END_TEST

/* Numbers naming a map or a control bit are checked by the library: a map
 * id past the table (once read as a file descriptor from the next array
 * of the instance) and an observer bit the datapath lacks are refused. */
START_TEST(test_dp_bad_numbers)
{
	struct xfsm_ctl ctl;
	struct dp d;

	dp_load(&d, 0);
	ck_assert_int_eq(xfsm_array_zero(d.inst, XFSM_M__MAX, 0, 1), -ENOENT);
	ck_assert_int_eq(xfsm_array_zero(d.inst, (enum xfsm_map_id)(XFSM_M__MAX + 3), 0, 1),
			 -ENOENT);
	ck_assert_int_eq(xfsm_ctl_set_observe(d.inst, 1U << 7, true), -EINVAL);
	ck_assert_int_eq(xfsm_ctl_set_observe(d.inst, XFSM_OBS_EVENTS | 1U << 31, true), -EINVAL);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.observe, 0);
	ck_assert_int_eq(xfsm_ctl_set_observe(d.inst, XFSM_OBS_EVENTS, true), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.observe, XFSM_OBS_EVENTS);
	dp_close(&d);
}
END_TEST

START_TEST(test_dp_apply_flip)
{
	struct xfsm_image a, b, empty;
	struct xfsm_ctl ctl;
	struct slot_count c;
	struct dp d;

	dp_load(&d, 0);
	make_app(&a, 40, 1000);
	make_app(&b, 25, 2000);

	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.active, 1);
	ck_assert_uint_eq(ctl.generation, 1);
	ck_assert_uint_eq(ctl.flags, 0);	/* the switch finished */
	c = rules_per_slot(&d);
	ck_assert_int_eq(c.n[0], 40);	/* rule buffers: 0 first */
	ck_assert_int_eq(c.n[1], 0);
	ck_assert(c.ids_ok);
	assert_running(&d, &a);

	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.active, 0);
	ck_assert_uint_eq(ctl.generation, 2);
	c = rules_per_slot(&d);
	ck_assert_int_eq(c.n[1], 25);
	ck_assert_int_eq(c.n[0], 0);	/* the old buffer is cleared */
	ck_assert(c.ids_ok);
	assert_running(&d, &b);

	/* and back: generation keeps counting */
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.active, 1);
	ck_assert_uint_eq(ctl.generation, 3);
	assert_running(&d, &a);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_RULES), 40);

	/* source text beyond the datapath's room is kept whole (compressed),
	 * never cut */
	free(b.source);
	b.source_len = 4 * sizeof(((struct xfsm_appsrc *)0)->text) + 100;
	b.source = malloc(b.source_len + 1);
	ck_assert_ptr_nonnull(b.source);
	for (size_t k = 0; k < b.source_len; k++)
		b.source[k] = k % 61 == 60 ? '\n' : (char)('a' + k % 26);
	b.source[b.source_len] = '\0';
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	{
		struct xfsm_image got;

		ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
		ck_assert_uint_eq(got.source_len, b.source_len);
		ck_assert_ptr_nonnull(got.source);
		ck_assert_int_eq(memcmp(got.source, b.source, got.source_len), 0);
		ck_assert_uint_eq(got.n_rules, 25);
		xfsm_image_free(&got);
	}
	/* and one that does not fit even compressed is marked as not kept */
	free(b.source);
	b.source_len = 4 * sizeof(((struct xfsm_appsrc *)0)->text);
	b.source = random_text(b.source_len, 7);
	ck_assert_ptr_nonnull(b.source);
	last_msg[0] = '\0';
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	assert_msg_has("is not kept");
	{
		struct xfsm_image got;

		ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
		ck_assert_ptr_null(got.source);
		ck_assert_uint_eq(got.source_len, b.source_len);
		ck_assert_uint_eq(got.n_rules, 25);
		xfsm_image_free(&got);
	}

	/* an empty application uninstalls */
	xfsm_image_init(&empty);
	ck_assert_int_eq(xfsm_apply(d.inst, &empty, NULL), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_RULES), 0);
	xfsm_image_free(&a);
	xfsm_image_free(&b);
	dp_close(&d);
}
END_TEST

START_TEST(test_dp_apply_failure)
{
	struct xfsm_image a, b;
	struct xfsm_ctl before, after;
	__u64 g;
	struct dp d;

	/* room for 100 rules across both slots: a 60-rule application
	 * cannot be written next to another one */
	dp_load(&d, 100);
	make_app(&a, 60, 1000);
	make_app(&b, 60, 5000);
	a.globals[2] = 11;
	a.globals_set = 1U << 2;
	b.globals[2] = 99;
	b.globals_set = 1U << 2;
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &before), 0);
	ck_assert_int_eq(xfsm_global_get(d.inst, 2, &g), 0);
	ck_assert_uint_eq(g, 11);

	ck_assert_int_ne(xfsm_apply(d.inst, &b, NULL), 0);
	assert_msg_has("rule table xfsm_rules is full");
	assert_msg_has("running application is unchanged");
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &after), 0);
	ck_assert_int_eq(memcmp(&before, &after, sizeof(before)), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_RULES), 60);	/* partial buffer removed */
	assert_running(&d, &a);
	ck_assert_int_eq(xfsm_global_get(d.inst, 2, &g), 0);
	ck_assert_uint_eq(g, 11);

	/* an invalid image is refused before anything is written */
	b.app.stages[0].tuples[0].max_priority = 0;
	b.app.stages[0].tuples[1].max_priority = 1000;
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), -EINVAL);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &after), 0);
	ck_assert_int_eq(memcmp(&before, &after, sizeof(before)), 0);
	assert_running(&d, &a);

	/* a failed apply leaves the next one free to succeed */
	xfsm_image_free(&b);
	make_app(&b, 30, 7000);
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	assert_running(&d, &b);
	xfsm_image_free(&a);
	xfsm_image_free(&b);
	dp_close(&d);
}
END_TEST

START_TEST(test_dp_globals)
{
	XFSM_OPTS(xfsm_apply_opts, opts, .reset_globals = true);
	struct xfsm_image a;
	struct xfsm_ctl ctl;
	__u64 v;
	struct dp d;
	int i;

	dp_load(&d, 0);
	for (i = 0; i < XFSM_GLOBAL_REGS; i++)
		ck_assert_int_eq(xfsm_global_set(d.inst, i, 0x1000 + i), 0);
	for (i = 0; i < XFSM_GLOBAL_REGS; i++) {
		ck_assert_int_eq(xfsm_global_get(d.inst, i, &v), 0);
		ck_assert_uint_eq(v, 0x1000 + i);
	}
	ck_assert_int_eq(xfsm_global_set(d.inst, XFSM_GLOBAL_REGS, 1), -ERANGE);
	ck_assert_int_eq(xfsm_global_get(d.inst, XFSM_GLOBAL_REGS, &v), -ERANGE);

	/* apply sets the image's globals and, asked to, zeroes the rest */
	make_app(&a, 4, 1);
	a.globals[1] = 77;
	a.globals_set = 1U << 1;
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_global_get(d.inst, 1, &v), 0);
	ck_assert_uint_eq(v, 77);
	ck_assert_int_eq(xfsm_global_get(d.inst, 2, &v), 0);
	ck_assert_uint_eq(v, 0x1002);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, &opts), 0);
	ck_assert_int_eq(xfsm_global_get(d.inst, 2, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(xfsm_global_get(d.inst, 1, &v), 0);
	ck_assert_uint_eq(v, 77);

	/* malformed verdict: read-modify-write keeps the active slot */
	ck_assert_int_eq(xfsm_ctl_set_malformed_verdict(d.inst, XFSM_VERDICT_DROP), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.malformed_verdict, XFSM_VERDICT_DROP);
	ck_assert_uint_eq(ctl.active, 0);
	ck_assert_uint_eq(ctl.generation, 2);
	/* the offload clock: kept by later applies */
	ck_assert_int_eq(xfsm_ctl_set_clock(d.inst, 5000000000ULL), 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.clock_ns, 5000000000ULL);
	ck_assert_uint_eq(ctl.malformed_verdict, XFSM_VERDICT_DROP);
	ck_assert_uint_eq(ctl.active, 1);
	ck_assert_uint_eq(ctl.generation, 3);
	ck_assert_int_eq(xfsm_ctl_set_malformed_verdict(d.inst, XFSM_VERDICT_CONTINUE), -EINVAL);
	ck_assert_int_eq(xfsm_ctl_set_malformed_verdict(d.inst, 17), -EINVAL);
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.malformed_verdict, XFSM_VERDICT_DROP);
	xfsm_image_free(&a);
	dp_close(&d);
}
END_TEST

struct flow_tally {
	long n[XFSM_MAX_STAGES];
	long bad;
};

static int tally_flow(const struct xfsm_flow_key *k, const struct xfsm_flow *f, void *ctx)
{
	struct flow_tally *t = ctx;

	if (k->stage >= XFSM_MAX_STAGES || f->regs[0] != k->w[0] * 3ULL ||
	    f->state != k->w[1])
		t->bad++;
	else
		t->n[k->stage]++;
	return 0;
}

static void flow_key(struct xfsm_flow_key *k, __u16 stage, __u16 epoch, __u32 i)
{
	memset(k, 0, sizeof(*k));
	k->stage = stage;
	k->epoch = epoch;
	k->w[0] = i;
	k->w[1] = i % 3;
}

static void put_flows(struct dp *d, __u16 stage, __u16 epoch, __u32 n)
{
	struct xfsm_flow_key k;
	struct xfsm_flow f;
	__u32 i;

	for (i = 0; i < n; i++) {
		flow_key(&k, stage, epoch, i);
		memset(&f, 0, sizeof(f));
		f.state = i % 3;	/* make_app()'s stages match on 0, 1, 2 */
		f.regs[0] = i * 3ULL;
		ck_assert_int_eq(xfsm_flow_set(d->inst, &k, &f), 0);
	}
}

/* The epochs of the running application's stages 0 and 1. */
static void app_epochs(struct dp *d, __u16 *e0, __u16 *e1)
{
	struct xfsm_image got;

	ck_assert_int_eq(xfsm_read_app(d->inst, &got), 0);
	*e0 = got.app.stages[0].epoch;
	*e1 = got.app.stages[1].epoch;
	xfsm_image_free(&got);
}

START_TEST(test_dp_flows)
{
	struct flow_tally t = {};
	struct xfsm_flow_key k;
	struct xfsm_image a;
	struct xfsm_flow f;
	__u16 e0, e1;
	struct dp d;

	dp_load(&d, 0);
	/* flows are written for the stages of a running application */
	make_app(&a, 6, 1);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	xfsm_image_free(&a);
	app_epochs(&d, &e0, &e1);
	put_flows(&d, 0, e0, 6000);
	put_flows(&d, 1, e1, 4000);
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, tally_flow, &t), 0);
	ck_assert_int_eq(t.bad, 0);
	ck_assert_int_eq(t.n[0], 6000);
	ck_assert_int_eq(t.n[1], 4000);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), 10000);

	flow_key(&k, 1, e1, 1234);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
	ck_assert_uint_eq(f.state, 1234 % 3);
	ck_assert_uint_eq(f.regs[0], 1234 * 3);
	f.regs[3] = 42;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), 0);
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
	ck_assert_uint_eq(f.regs[3], 42);
	ck_assert_int_eq(xfsm_flow_del(d.inst, &k), 0);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), -ENOENT);
	ck_assert_int_eq(xfsm_flow_del(d.inst, &k), -ENOENT);

	ck_assert_int_eq(xfsm_flow_flush(d.inst, 1), 3999);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, tally_flow, &t), 0);
	ck_assert_int_eq(t.n[0], 6000);
	ck_assert_int_eq(t.n[1], 0);
	ck_assert_int_eq(xfsm_flow_flush(d.inst, 5), 0);
	ck_assert_int_eq(xfsm_flow_flush(d.inst, -1), 6000);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), 0);
	dp_close(&d);
}
END_TEST

/* Two stages; in stage 0 a rule enters state `enters` from 0 (an idle
 * timeout rolling back to idle_to, unless 0) and another matches the
 * states s with (s & mask) == matched.  The stages' key epochs in e. */
static void apply_states(struct dp *d, __u32 enters, __u32 idle_to, __u32 matched, __u32 mask,
			 __u16 e[2])
{
	struct xfsm_rule_match m;
	struct xfsm_image a;
	struct xfsm_rule r;

	make_app(&a, 0, 1);
	m = match_state(0, 0xffffffff);
	m.match[0] = 1;
	m.match_mask[0] = 0xffffffff;
	r = rule_prio(1, 0);
	r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
	r.next_state = enters;
	if (idle_to) {
		r.idle_timeout_ms = 1000;
		r.idle_rollback = idle_to;
	}
	ck_assert_int_eq(xfsm_image_add_rule(&a, 0, &m, &r), 0);
	m = match_state(matched, mask);
	m.match[0] = 2;
	m.match_mask[0] = 0xffffffff;
	r = rule_prio(1, 1);
	ck_assert_int_eq(xfsm_image_add_rule(&a, 0, &m, &r), 0);
	ck_assert_int_eq(xfsm_apply(d->inst, &a, NULL), 0);
	xfsm_image_free(&a);
	app_epochs(d, &e[0], &e[1]);
}

/*
 * xfsm_flow_set() writes only a flow the running application can have.
 * Stage 0 enters state 3 (idle timeout rolling back to 5) and matches on
 * state 7; state 0 is where flows start.  A flow in any other state, with
 * a rollback to any other, of stage 2 (the application has two), of a
 * wrong epoch, or with no application running, is refused and nothing is
 * written.
 */
START_TEST(test_dp_flow_states)
{
	static const struct { __u32 state, idle_to, hard_to; __u16 stage; int want; } cases[] = {
		{ 0, 0, 0, 0, 0 },
		{ 3, 0, 0, 0, 0 },
		{ 5, 0, 0, 0, 0 },
		{ 7, 0, 0, 0, 0 },
		{ 3, 5, 0, 0, 0 },
		{ 3, 0, 7, 0, 0 },
		{ 4, 0, 0, 0, -EINVAL },
		{ 1, 0, 0, 0, -EINVAL },
		{ 3, 4, 0, 0, -EINVAL },
		{ 3, 0, 6, 0, -EINVAL },
		{ 0, 0, 0, 2, -EINVAL },	/* no stage 2 */
		{ 3, 0, 0, 1, -EINVAL },	/* stage 1 enters nothing */
		{ 0, 0, 0, 1, 0 },
	};
	struct xfsm_flow_key k;
	struct xfsm_flow f;
	__u16 e[2];
	struct dp d;
	long n = 0;

	dp_load(&d, 0);
	memset(&f, 0, sizeof(f));
	flow_key(&k, 0, 0, 1);
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);	/* no application */
	apply_states(&d, 3, 5, 7, 0xffffffff, e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.state = cases[i].state;
		f.created_ns = 1000000000ULL;
		if (cases[i].idle_to) {
			f.idle_timeout_ms = 500;
			f.idle_rollback = cases[i].idle_to;
		}
		if (cases[i].hard_to) {
			f.hard_deadline_ns = f.created_ns + 2000000000ULL;
			f.hard_rollback = cases[i].hard_to;
		}
		flow_key(&k, cases[i].stage, cases[i].stage < 2 ? e[cases[i].stage] : 0, i);
		ck_assert_msg(xfsm_flow_set(d.inst, &k, &f) == cases[i].want,
			      "case %zu: state %u (rollbacks %u, %u) in stage %u", i, f.state,
			      cases[i].idle_to, cases[i].hard_to, cases[i].stage);
		n += !cases[i].want;
		ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), n);
	}
	/* another epoch of stage 0's keys */
	memset(&f, 0, sizeof(f));
	flow_key(&k, 0, (__u16)(e[0] + 1), 99);
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), n);

	/* Another application through the same handle: stage 0 now enters
	 * state 4 and matches states s with (s & 0xf0) == 0x20.  What the handle
	 * knew of the first one's states must not answer for it. */
	apply_states(&d, 4, 0, 0x20, 0xf0, e);
	{
		static const struct { __u32 state; int want; } again[] = {
			{ 4, 0 }, { 0x20, 0 }, { 0x2f, 0 }, { 3, -EINVAL }, { 7, -EINVAL },
			{ 0x30, -EINVAL }, { 0x120, 0 },	/* bits outside the mask are free */
		};

		for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
			memset(&f, 0, sizeof(f));
			f.state = again[i].state;
			flow_key(&k, 0, e[0], 200 + i);
			ck_assert_msg(xfsm_flow_set(d.inst, &k, &f) == again[i].want,
				      "second application: state %#x", again[i].state);
		}
	}
	dp_close(&d);
}
END_TEST

static int stop_early(const struct xfsm_flow_key *k, const struct xfsm_flow *f, void *ctx)
{
	return ++*(int *)ctx == 10 ? 7 : 0;
}

START_TEST(test_dp_flow_epochs)
{
	static const __u8 other[] = { XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO };
	struct flow_tally t = {};
	struct xfsm_image a, b;
	struct xfsm_image got;
	int calls = 0;
	__u16 e0, e1;
	struct dp d;

	dp_load(&d, 0);
	make_app(&a, 6, 1);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	e0 = got.app.stages[0].epoch;
	e1 = got.app.stages[1].epoch;
	xfsm_image_free(&got);
	put_flows(&d, 0, e0, 300);
	put_flows(&d, 1, e1, 200);
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, stop_early, &calls), 7);
	ck_assert_int_eq(calls, 10);

	/* same keys: flows survive, epochs stay */
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	ck_assert_uint_eq(got.app.stages[0].epoch, e0);
	ck_assert_uint_eq(got.app.stages[1].epoch, e1);
	xfsm_image_free(&got);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), 500);

	/* stage 1's keys change: its epoch moves on, its old flows go */
	make_app(&b, 6, 1);
	ck_assert_int_eq(xfsm_stage_set_keys(&b.app.stages[1], other, NULL, 2,
					     other, NULL, 2), 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	ck_assert_uint_eq(got.app.stages[0].epoch, e0);
	ck_assert_uint_eq(got.app.stages[1].epoch, (__u16)(e1 + 1));
	xfsm_image_free(&got);
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, tally_flow, &t), 0);
	ck_assert_int_eq(t.n[0], 300);
	ck_assert_int_eq(t.n[1], 0);

	/* with flush_flows every stage starts afresh */
	ck_assert_int_eq(xfsm_apply(d.inst, &b, &(struct xfsm_apply_opts){
		.sz = sizeof(struct xfsm_apply_opts), .flush_flows = true }), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, XFSM_M_FLOWS_M), 0);

	/* a stage that is gone takes its flows along */
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	put_flows(&d, 0, got.app.stages[0].epoch, 50);
	put_flows(&d, 1, got.app.stages[1].epoch, 70);
	xfsm_image_free(&got);
	b.app.n_stages = 1;
	for (size_t i = 0; i < b.n_rules; i++)
		if (b.rules[i].key.stage == 1)
			ck_assert_int_eq(xfsm_image_del_rule(&b, b.rules[i--].rule.rule_id), 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &b, NULL), 0);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, tally_flow, &t), 0);
	ck_assert_int_eq(t.n[0], 50);
	ck_assert_int_eq(t.n[1], 0);
	xfsm_image_free(&a);
	xfsm_image_free(&b);
	dp_close(&d);
}
END_TEST

/* Flow table `where` holds n flows, the other flow tables none. */
static void assert_flow_counts(struct dp *d, enum xfsm_map_id where, long n, const char *what)
{
	static const enum xfsm_map_id tables[] = { XFSM_M_FLOWS, XFSM_M_FLOWS_N, XFSM_M_FLOWS_M };

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		ck_assert_msg(xfsm_map_count(d->inst, tables[i]) == (tables[i] == where ? n : 0),
			      "%s: %ld flows in %s, expected %ld", what,
			      (long)xfsm_map_count(d->inst, tables[i]), xfsm_map_names[tables[i]],
			      tables[i] == where ? n : 0);
}

/* A stage's flows are in its class's table (xfsm_flows_n for a narrow
 * stage, XFSM_SF_NARROW; xfsm_flows_m for a medium one; xfsm_flows for a
 * wide one); get, set, del, foreach and flush find each flow in its
 * table; an apply moves a flow left in the wide table into its class's
 * and drops the flows of a stage whose keys (and so class) change.  Each
 * round: stage 0's class, stage 1's, and the keys stage 1 changes to. */
static const struct {
	const __u8 *k0, *k1, *k1_next;
	unsigned int n0, n1, n1_next;
	enum xfsm_map_id t0, t1, t1_next;
} flow_table_rounds[] = {
	{ .k0 = (const __u8[]){ XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				XFSM_FW_L4_DPORT, XFSM_FW_IP_PROTO }, .n0 = 5, .t0 = XFSM_M_FLOWS_M,
	  .k1 = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO }, .n1 = 2,
	  .t1 = XFSM_M_FLOWS_N,
	  /* two words to five */
	  .k1_next = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO, XFSM_FW_IP4_SRC,
				     XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO },
	  .n1_next = 5, .t1_next = XFSM_M_FLOWS_M },
	{ .k0 = (const __u8[]){ XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				XFSM_FW_L4_DPORT, XFSM_FW_IP_PROTO, XFSM_FW_IP_TTL },
	  .n0 = 6, .t0 = XFSM_M_FLOWS,
	  .k1 = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO, XFSM_FW_IP4_SRC,
				XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO }, .n1 = 5, .t1 = XFSM_M_FLOWS_M,
	  /* five words back to two */
	  .k1_next = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO },
	  .n1_next = 2, .t1_next = XFSM_M_FLOWS_N },
	{ .k0 = (const __u8[]){ XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO },
	  .n0 = 3, .t0 = XFSM_M_FLOWS_M,
	  .k1 = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO }, .n1 = 2,
	  .t1 = XFSM_M_FLOWS_N,
	  /* two words to wide */
	  .k1_next = (const __u8[]){ XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO, XFSM_FW_IP4_SRC,
				     XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT },
	  .n1_next = 6, .t1_next = XFSM_M_FLOWS },
};

START_TEST(test_dp_flow_tables)
{
	__typeof__(flow_table_rounds[0]) *rd = &flow_table_rounds[_i];
	unsigned int words1 = xfsm_flow_table_class_of_map(rd->t1)->words;
	struct flow_tally t = {};
	struct xfsm_image a, got;
	struct xfsm_flow_key k;
	struct xfsm_flow f;
	__u16 e0, e1;
	struct dp d;

	dp_load(&d, 0);
	ck_assert_int_ge(d.inst->map_fd[XFSM_M_FLOWS_N], 0);
	ck_assert_int_ge(d.inst->map_fd[XFSM_M_FLOWS_M], 0);
	ck_assert_int_ne(rd->t0, rd->t1);
	make_app(&a, 6, 1);
	ck_assert_int_eq(xfsm_stage_set_keys(&a.app.stages[0], rd->k0, NULL, rd->n0,
					     rd->k0, NULL, rd->n0), 0);
	ck_assert_int_eq(xfsm_stage_set_keys(&a.app.stages[1], rd->k1, NULL, rd->n1,
					     rd->k1, NULL, rd->n1), 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	e0 = got.app.stages[0].epoch;
	e1 = got.app.stages[1].epoch;
	xfsm_image_free(&got);
	ck_assert_int_eq(xfsm_flow_table(d.inst, 0), rd->t0);
	ck_assert_int_eq(xfsm_flow_table(d.inst, 1), rd->t1);
	put_flows(&d, 0, e0, 30);
	put_flows(&d, 1, e1, 20);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t0), 30);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t1), 20);
	ck_assert_int_eq(xfsm_flow_foreach(d.inst, tally_flow, &t), 0);
	ck_assert_int_eq(t.n[0], 30);
	ck_assert_int_eq(t.n[1], 20);
	ck_assert_int_eq(t.bad, 0);

	/* get and del in each table; a narrower key with a word past its
	 * own is none */
	flow_key(&k, 1, e1, 7);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
	ck_assert_uint_eq(f.regs[0], 21);
	k.w[words1] = 1;
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), -ENOENT);
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);
	k.w[words1] = 0;
	ck_assert_int_eq(xfsm_flow_del(d.inst, &k), 0);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), -ENOENT);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t1), 19);
	flow_key(&k, 0, e0, 7);
	ck_assert_int_eq(xfsm_flow_del(d.inst, &k), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t0), 29);

	/* flush one stage, then all */
	ck_assert_int_eq(xfsm_flow_flush(d.inst, 1), 19);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t1), 0);
	ck_assert_int_eq(xfsm_map_count(d.inst, rd->t0), 29);
	put_flows(&d, 1, e1, 5);
	ck_assert_int_eq(xfsm_flow_flush(d.inst, -1), 34);
	assert_flow_counts(&d, XFSM_M_FLOWS, 0, "flushed");

	/* a flow of stage 1 left in the wide table (an application planned
	 * before its table, run on across an upgrade) moves over at the next
	 * apply */
	flow_key(&k, 1, e1, 11);
	f.state = 1;
	f.regs[0] = 33;
	ck_assert_int_eq(bpf_map_update_elem(d.inst->map_fd[XFSM_M_FLOWS], &k, &f, BPF_ANY), 0);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), -ENOENT);
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	got.app.stages[1].flags &= ~XFSM_SF_TABLE;
	ck_assert_int_eq(bpf_map_update_elem(d.inst->map_fd[XFSM_M_APPS],
					     &(__u32){ 0 }, &got.app, BPF_ANY), 0);
	ck_assert_int_eq(bpf_map_update_elem(d.inst->map_fd[XFSM_M_APPS],
					     &(__u32){ 1 }, &got.app, BPF_ANY), 0);
	xfsm_image_free(&got);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
	ck_assert_uint_eq(f.regs[0], 33);
	assert_flow_counts(&d, rd->t1, 1, "moved");
	ck_assert_int_eq(xfsm_flow_flush(d.inst, -1), 1);

	/* stage 1's keys change (and so its table): a new epoch, its flows
	 * go, stage 0's stay */
	put_flows(&d, 0, e0, 4);
	put_flows(&d, 1, e1, 5);
	ck_assert_int_eq(xfsm_stage_set_keys(&a.app.stages[1], rd->k1_next, NULL, rd->n1_next,
					     rd->k1_next, NULL, rd->n1_next), 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	ck_assert_int_eq(xfsm_flow_table(d.inst, 1), rd->t1_next);
	assert_flow_counts(&d, rd->t0, 4, "stage 0 kept, stage 1 dropped");
	ck_assert_int_eq(xfsm_flow_flush(d.inst, 0), 4);
	flow_key(&k, 1, (__u16)(e1 + 1), 3);
	/* timeouts as a transition into the flow's state may set them
	 * (xfsm_timeouts_check()), the hard one from the entry */
	f.state = 1;
	f.idle_timeout_ms = 1000;
	f.idle_rollback = 1;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);
	f.idle_rollback = 2;
	f.created_ns = 5000000000ULL;
	f.hard_deadline_ns = f.created_ns + 1000000000ULL;	/* hard 1 s */
	f.hard_rollback = 1;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);
	f.hard_rollback = 0;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), -EINVAL);	/* idle 1 s */
	assert_flow_counts(&d, rd->t1_next, 0, "refused");
	f.idle_timeout_ms = 999;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &k, &f), 0);
	assert_flow_counts(&d, rd->t1_next, 1, "stage 1's new flow");
	xfsm_image_free(&a);
	dp_close(&d);
}
END_TEST

/* One IPv4/UDP frame from 198.18.0.1 to 198.18.0.2. */
static __u32 udp_frame(__u8 *buf)
{
	static const __u8 f[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0,
	};
	__u32 sum = 0, i;

	memset(buf, 0, 64);
	memcpy(buf, f, sizeof(f));
	for (i = 14; i < 34; i += 2)
		sum += buf[i] << 8 | buf[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	buf[24] = ~sum >> 8;
	buf[25] = ~sum & 0xff;
	return 64;
}

/* The datapath writes a stage's flow into its class's table: a key of
 * one or two words into xfsm_flows_n, of three to five (a 5-tuple) into
 * xfsm_flows_m, of more into xfsm_flows; xfsm_flow_get() finds each. */
START_TEST(test_dp_flow_tables_datapath)
{
	/* the frame's words: 198.18.0.1, 198.18.0.2, UDP, 12345, 53, TTL 64 */
	static const __u8 words[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO,
				      XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT, XFSM_FW_IP_TTL };
	static const __u32 values[] = { 0xc6120001, 0xc6120002, 17, 12345, 53, 64 };
	static const struct { unsigned int n; enum xfsm_map_id table; } cases[] = {
		{ 1, XFSM_M_FLOWS_N }, { 3, XFSM_M_FLOWS_M }, { 5, XFSM_M_FLOWS_M },
		{ 6, XFSM_M_FLOWS },
	};
	__u8 pkt[64], out[128];
	LIBBPF_OPTS(bpf_test_run_opts, run,
		    .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));
	struct xfsm_rule_match m = match_state(0, 0);
	struct xfsm_image img, got;
	struct xfsm_flow_key k;
	struct xfsm_flow f;
	struct xfsm_rule r;
	char what[32];
	struct dp d;

	dp_load(&d, 0);
	udp_frame(pkt);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned int n = cases[c].n;

		/* one rule: into state 1, pass */
		xfsm_image_init(&img);
		img.app.n_stages = 1;
		img.app.stages[0].enabled = 1;
		img.app.stages[0].miss_verdict = XFSM_VERDICT_PASS;
		ck_assert_int_eq(xfsm_stage_set_keys(&img.app.stages[0], words, NULL, n,
						     words, NULL, n), 0);
		r = rule_prio(1, 3);
		r.act[0].type = XFSM_ACT_PASS;
		r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
		r.next_state = 1;
		ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
		ck_assert_int_eq(xfsm_apply(d.inst, &img, &(struct xfsm_apply_opts){
			.sz = sizeof(struct xfsm_apply_opts), .flush_flows = true }), 0);
		ck_assert_int_eq(xfsm_flow_table(d.inst, 0), cases[c].table);
		run.data_size_out = sizeof(out);
		ck_assert_int_eq(bpf_prog_test_run_opts(d.prog_fd, &run), 0);
		ck_assert_uint_eq(run.retval, XDP_PASS);
		snprintf(what, sizeof(what), "%u-word key", n);
		assert_flow_counts(&d, cases[c].table, 1, what);
		ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
		memset(&k, 0, sizeof(k));
		k.stage = 0;
		k.epoch = got.app.stages[0].epoch;
		xfsm_image_free(&got);
		memcpy(k.w, values, n * sizeof(values[0]));
		ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
		ck_assert_uint_eq(f.state, 1);
		ck_assert_int_eq(xfsm_flow_del(d.inst, &k), 0);
		assert_flow_counts(&d, cases[c].table, 0, what);
		xfsm_image_free(&img);
	}
	dp_close(&d);
}
END_TEST

/* The datapath indexes rule statistics with the stored rule id. */
START_TEST(test_dp_rule_stats)
{
	__u8 pkt[64], out[128];
	LIBBPF_OPTS(bpf_test_run_opts, run,
		    .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));
	struct xfsm_rule_match m = match_state(0, 0);
	struct xfsm_rule_stats rs;
	struct xfsm_rule r;
	struct xfsm_image img;
	int round;
	struct dp d;

	dp_load(&d, 0);
	udp_frame(pkt);
	for (round = 0; round < 2; round++) {
		/* one catch-all rule that drops, id 5 then 9 */
		xfsm_image_init(&img);
		img.app.n_stages = 1;
		img.app.stages[0].enabled = 1;
		img.app.stages[0].miss_verdict = XFSM_VERDICT_PASS;
		r = rule_prio(1, round ? 9 : 5);
		ck_assert_int_eq(xfsm_image_add_rule(&img, 0, &m, &r), 0);
		ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);
		run.data_size_out = sizeof(out);
		ck_assert_int_eq(bpf_prog_test_run_opts(d.prog_fd, &run), 0);
		ck_assert_uint_eq(run.retval, XDP_DROP);
		ck_assert_int_eq(xfsm_read_rule_stats(d.inst, round ? 9 : 5, &rs), 0);
		ck_assert_uint_eq(rs.packets, 1);
		ck_assert_uint_eq(rs.bytes, 64);
		/* the rule that is not there has no statistics */
		ck_assert_int_eq(xfsm_read_rule_stats(d.inst, round ? 5 : 9, &rs), -ENOENT);
		xfsm_image_free(&img);
	}
	dp_close(&d);
}
END_TEST

struct traffic {
	int prog_fd;
	volatile int stop;
	long runs, not_dropped, errors;
};

static void *traffic_thread(void *arg)
{
	struct traffic *t = arg;
	__u8 pkt[64], out[128];
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out);

	udp_frame(pkt);
	while (!t->stop) {
		run.data_size_out = sizeof(out);
		if (bpf_prog_test_run_opts(t->prog_fd, &run))
			t->errors++;
		else if (run.retval != XDP_DROP)
			t->not_dropped++;
		t->runs++;
	}
	return NULL;
}

/* An application whose every packet hits a catch-all drop rule, hidden
 * behind many more specific rules; only a half-installed application
 * would let a packet miss (and pass). */
static void make_drop_app(struct xfsm_image *img, __u32 catch_id, __u32 n)
{
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	__u32 i;
	int err;

	xfsm_image_init(img);
	img->app.n_stages = 1;
	img->app.stages[0].enabled = 1;
	img->app.stages[0].miss_verdict = XFSM_VERDICT_PASS;
	img->app.stages[0].match_words[0] = XFSM_FW_L4_DPORT;
	for (i = 0; i < n; i++) {
		m = match_state(0, 0);
		m.match[0] = 1000 + i;
		m.match_mask[0] = 0xffff >> (i % 8);
		r = rule_prio(100 + i % 8, 0xffffffff);
		err = xfsm_image_add_rule(img, 0, &m, &r);
		ck_assert(err == 0 || err == -EEXIST);	/* masks fold some values */
	}
	m = match_state(0, 0);
	r = rule_prio(1, catch_id);
	ck_assert_int_eq(xfsm_image_add_rule(img, 0, &m, &r), 0);
}

START_TEST(test_dp_apply_under_traffic)
{
	struct traffic t = {};
	struct xfsm_image a, b;
	pthread_t th;
	struct dp d;
	int i;

	dp_load(&d, 0);
	make_drop_app(&a, 1000, 900);
	make_drop_app(&b, 1001, 700);
	ck_assert_int_eq(xfsm_apply(d.inst, &a, NULL), 0);
	t.prog_fd = d.prog_fd;
	ck_assert_int_eq(pthread_create(&th, NULL, traffic_thread, &t), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(xfsm_apply(d.inst, i % 2 ? &a : &b, NULL), 0);
	t.stop = 1;
	pthread_join(th, NULL);
	ck_assert_int_gt(t.runs, 0);
	ck_assert_int_eq(t.errors, 0);
	ck_assert_int_eq(t.not_dropped, 0);
	xfsm_image_free(&a);
	xfsm_image_free(&b);
	dp_close(&d);
}
END_TEST

static void pin_setup(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xfsm-test-lib-%d", (int)getpid());
	/* A fresh machine may have no bpffs on /sys/fs/bpf yet: this suite
	 * can run before anything that mounts it. */
	xfsm_bpffs_prepare(pin_dir);
}

/* A pin directory a failed test left, with one level of subdirectories. */
static void remove_tree(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path))
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Runs in the parent, after the test, also when the test failed. */
static void pin_teardown(void)
{
	char path[256];
	int i;

	for (i = 0; i < XFSM_M__MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, xfsm_map_names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/xfsm_rodata", pin_dir);
	unlink(path);
	rmdir(pin_dir);
	snprintf(path, sizeof(path), "%s-check", pin_dir);
	remove_tree(path);
	snprintf(path, sizeof(path), "%s-unpin", pin_dir);
	remove_tree(path);
}

START_TEST(test_dp_open_paths)
{
	struct xfsm_instance *pi = NULL, *qi = NULL;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct bpf_map *map;
	char path[256];
	struct dp d;
	int i;

	dp_load(&d, 0);
	/* from the program id, as for `ip link set ... xdp obj` */
	ck_assert_int_eq(bpf_obj_get_info_by_fd(d.prog_fd, &info, &len), 0);
	ck_assert_int_eq(xfsm_instance_open_prog_id(info.id, &qi), 0);
	for (i = 0; i < XFSM_M__MAX; i++)
		ck_assert_uint_eq(qi->map_id[i], d.inst->map_id[i]);
	ck_assert_uint_eq(qi->build.abi_version, XFSM_ABI_VERSION);
	ck_assert_int_eq(xfsm_instance_check_abi(qi), 0);

	/* from a pin directory, with and without the pinned .rodata */
	ck_assert_int_eq(mkdir(pin_dir, 0700), 0);
	for (i = 0; i < XFSM_M__MAX; i++) {
		if (d.inst->map_fd[i] < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, xfsm_map_names[i]);
		ck_assert_int_eq(bpf_obj_pin(d.inst->map_fd[i], path), 0);
	}
	ck_assert_int_eq(xfsm_instance_open_pin_dir(pin_dir, &pi), 0);
	for (i = 0; i < XFSM_M__MAX; i++)
		ck_assert_uint_eq(pi->map_id[i], d.inst->map_id[i]);
	/* found through the program that uses the pinned maps */
	ck_assert_uint_eq(pi->build.abi_version, XFSM_ABI_VERSION);
	ck_assert_str_eq(pi->pin_dir, pin_dir);
	xfsm_instance_close(pi);
	bpf_object__for_each_map(map, d.obj) {
		const char *n = bpf_map__name(map);

		if (strlen(n) > 7 && !strcmp(n + strlen(n) - 7, ".rodata")) {
			snprintf(path, sizeof(path), "%s/xfsm_rodata", pin_dir);
			ck_assert_int_eq(bpf_obj_pin(bpf_map__fd(map), path), 0);
		}
	}
	ck_assert_int_eq(xfsm_instance_open_pin_dir(pin_dir, &pi), 0);
	ck_assert_uint_eq(pi->build.abi_version, XFSM_ABI_VERSION);
	ck_assert_int_eq(xfsm_instance_check_abi(pi), 0);
	/* a foreign ABI version is refused */
	pi->build.abi_version = XFSM_ABI_VERSION + 1;
	ck_assert_int_eq(xfsm_instance_check_abi(pi), -EPROTO);
	{
		char want[128];

		snprintf(want, sizeof(want), "datapath ABI version %u differs from this tool's ABI version %u",
			 XFSM_ABI_VERSION + 1, XFSM_ABI_VERSION);
		assert_msg_has(want);
	}
	pi->build.abi_version = 0;
	ck_assert_int_eq(xfsm_instance_check_abi(pi), -EPROTO);
	assert_msg_has("cannot read the ABI version");
	xfsm_instance_close(pi);

	/* a missing required map is an error naming it */
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XFSM_MAP_RULES);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(xfsm_instance_open_pin_dir(pin_dir, &pi), -ENOENT);
	ck_assert_ptr_null(pi);
	assert_msg_has("/" XFSM_MAP_RULES);
	ck_assert_int_eq(xfsm_instance_open_pin_dir("/sys/fs/bpf/xfsm-no-such-dir", &pi),
			 -ENOENT);
	xfsm_instance_close(qi);
	dp_close(&d);
}
END_TEST

/* A new directory dir holding every xfsm_* map of d's object under its
 * name, as a load pins them; how many. */
static int pin_as_loader(struct dp *d, const char *dir)
{
	struct bpf_map *map;
	char path[256];
	int n = 0;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	bpf_object__for_each_map(map, d->obj) {
		const char *name = bpf_map__name(map);

		if (strncmp(name, "xfsm_", 5) || bpf_map__fd(map) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		ck_assert_int_eq(bpf_obj_pin(bpf_map__fd(map), path), 0);
		n++;
	}
	return n;
}

/* On a bpffs: the loader's pins pass, a foreign object is named and
 * refused, and a refused directory keeps everything in it. */
START_TEST(test_dp_pin_dir_check)
{
	char dir[160], path[256], sub[256];
	struct dp d;
	int fd, n, foreign;

	dp_load(&d, 0);
	snprintf(dir, sizeof(dir), "%s-check", pin_dir);
	n = pin_as_loader(&d, dir);
	snprintf(path, sizeof(path), "%s/prog", dir);
	ck_assert_int_eq(bpf_obj_pin(d.prog_fd, path), 0);
	ck_assert_int_eq(xfsm_pin_dir_check(dir, &foreign), 0);
	ck_assert_int_eq(foreign, n + 1);

	/* a map that is not xfsm's, under an xfsm name and under its own */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "not_ours", 4, 4, 1, NULL);
	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "%s/xfsm_extra", dir);
	ck_assert_int_eq(bpf_obj_pin(fd, path), 0);
	last_msg[0] = '\0';
	ck_assert_int_eq(xfsm_pin_dir_check(dir, NULL), -EINVAL);
	assert_msg_has("xfsm_extra is not an xfsm map (it is map 'not_ours')");
	ck_assert_int_eq(xfsm_pin_dir_remove(dir), -EINVAL);
	snprintf(path, sizeof(path), "%s/prog", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/xfsm_extra", dir);
	ck_assert_int_eq(unlink(path), 0);
	/* a program pinned under a map's name */
	snprintf(path, sizeof(path), "%s/xfsm_rodata", dir);
	unlink(path);
	ck_assert_int_eq(bpf_obj_pin(d.prog_fd, path), 0);
	ck_assert_int_eq(xfsm_pin_dir_check(dir, NULL), -EINVAL);
	assert_msg_has("xfsm_rodata is a BPF program, not an xfsm map");
	ck_assert_int_eq(unlink(path), 0);
	/* a subdirectory */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(xfsm_pin_dir_check(dir, NULL), -EINVAL);
	assert_msg_has("sub is a directory");
	ck_assert_int_eq(rmdir(sub), 0);
	/* only ours again: removed whole */
	ck_assert_int_eq(xfsm_pin_dir_remove(dir), 0);
	ck_assert_int_ne(access(dir, F_OK), 0);
	close(fd);
	dp_close(&d);
}
END_TEST

/* Removal unlinks the pins a load makes by their names, not what the
 * directory lists: an entry that another put there after the check (a
 * foreign map, under its own name and under an xfsm-like one) survives,
 * the directory is left, and the message names what is in it.  Checked
 * without the check before it, as the removal runs after it agreed. */
START_TEST(test_dp_pin_dir_unpin)
{
	char dir[160], path[256];
	struct bpf_map *map;
	struct dp d;
	int fd;

	dp_load(&d, 0);
	snprintf(dir, sizeof(dir), "%s-unpin", pin_dir);
	ck_assert_int_gt(pin_as_loader(&d, dir), 0);
	snprintf(path, sizeof(path), "%s/prog", dir);
	ck_assert_int_eq(bpf_obj_pin(d.prog_fd, path), 0);
	snprintf(path, sizeof(path), "%s/prog-new", dir);
	ck_assert_int_eq(bpf_obj_pin(d.prog_fd, path), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "not_ours", 4, 4, 1, NULL);
	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "%s/theirs", dir);
	ck_assert_int_eq(bpf_obj_pin(fd, path), 0);
	snprintf(path, sizeof(path), "%s/xfsm_theirs", dir);
	ck_assert_int_eq(bpf_obj_pin(fd, path), 0);

	last_msg[0] = '\0';
	ck_assert_int_eq(xfsm_pin_dir_unpin(dir), -ENOTEMPTY);
	assert_msg_has("is left in place: it holds ");
	assert_msg_has("theirs, which is not a pin xfsm makes");
	snprintf(path, sizeof(path), "%s/theirs", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/xfsm_theirs", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	bpf_object__for_each_map(map, d.obj) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		ck_assert_msg(access(path, F_OK) != 0, "%s is left", path);
	}
	snprintf(path, sizeof(path), "%s/prog", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/prog-new", dir);
	ck_assert_int_ne(access(path, F_OK), 0);

	/* Refused by the check, a directory holding another's map keeps
	 * it; without it, removed whole. */
	ck_assert_int_eq(xfsm_pin_dir_remove(dir), -EINVAL);
	snprintf(path, sizeof(path), "%s/theirs", dir);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/xfsm_theirs", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(xfsm_pin_dir_remove(dir), 0);
	ck_assert_int_ne(access(dir, F_OK), 0);
	close(fd);
	dp_close(&d);
}
END_TEST

/* The offload profile: plain arrays, no tx ports, no locks, 4 stages. */
/* Before a load: the sizes asked for, each where it belongs; a flow
 * table built as a plain hash (offload) keeps its type. */
/* Sizes past the bounds (include/xfsm/abi.h) are refused whole: each
 * asks for 10 flows too, and the flow tables keep the 5000 set before. */
static void obj_size_maps_bounds(struct bpf_object *obj)
{
	struct xfsm_acl_caps rules_over, nodes_over;
	struct bpf_map *m;

	xfsm_acl_caps_default(&rules_over);
	rules_over.rules[2] = XFSM_ACL_MAX_RULES + 1;
	xfsm_acl_caps_default(&nodes_over);
	nodes_over.nodes[7] = XFSM_ACL_MAX_NODES + 1;
	const struct xfsm_map_sizes bad[] = {
		{ .flows = (__u64)XFSM_MAX_FLOWS + 1 },
		{ .flows = 10, .rules = 2ULL * XFSM_MAX_RULES + 1 },
		{ .flows = 10, .rule_stats = 2ULL * XFSM_MAX_RULES + 1 },
		{ .flows = 10, .rules = 1ULL << 32 },	/* not cut to 0: "as built" */
		{ .flows = 10, .acl = &rules_over },
		{ .flows = 10, .acl = &nodes_over },
		{ .flows = 10, .flow_type = BPF_MAP_TYPE_ARRAY },
	};

	const struct xfsm_flow_table_class *c;
	struct xfsm_map_sizes one_over = { .flows = 10 };

	for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
		ck_assert_int_eq(xfsm_obj_size_maps(obj, &bad[j]),
				 bad[j].flow_type ? -EINVAL : -E2BIG);
	/* one flow table past the bound, also one the object lacks */
	xfsm_for_each_flow_table(c) {
		one_over.flows_per_table[c - xfsm_flow_table_classes] = (__u64)XFSM_MAX_FLOWS + 1;
		ck_assert_int_eq(xfsm_obj_size_maps(obj, &one_over), -E2BIG);
		one_over.flows_per_table[c - xfsm_flow_table_classes] = 0;
	}
	bpf_object__for_each_map(m, obj) {
		if (xfsm_map_is_flow_table(bpf_map__name(m)))
			ck_assert_uint_eq(bpf_map__max_entries(m), 5000);
		else if (!strcmp(bpf_map__name(m), XFSM_MAP_RULES))
			ck_assert_uint_eq(bpf_map__max_entries(m), 300);
	}
}

/* Each flow table its own size, found by its map's name, the others
 * flows; sizes of tables the object lacks (the offload profile has the
 * wide one only) are no error. */
static void obj_size_flow_tables(struct bpf_object *obj)
{
	struct xfsm_map_sizes sz = { .flows = 700 };
	const struct xfsm_flow_table_class *c;
	const char *name;
	struct bpf_map *m;

	sz.flows_per_table[xfsm_flow_table_class_named("narrow") - xfsm_flow_table_classes] = 1000;
	sz.flows_per_table[xfsm_flow_table_class_named("medium") - xfsm_flow_table_classes] = 200;
	ck_assert_int_eq(xfsm_obj_size_maps(obj, &sz), 0);
	bpf_object__for_each_map(m, obj) {
		name = bpf_map__name(m);
		c = xfsm_flow_table_class_of_map_name(name);
		if (!c)
			continue;
		ck_assert_uint_eq(bpf_map__max_entries(m),
				  !strcmp(name, XFSM_MAP_FLOWS_N) ? 1000 :
				  !strcmp(name, XFSM_MAP_FLOWS_M) ? 200 : 700);
		ck_assert_str_eq(xfsm_map_names[c->id], name);
	}
	ck_assert_ptr_null(xfsm_flow_table_class_named("huge"));
	ck_assert_ptr_null(xfsm_flow_table_class_of_map_name(XFSM_MAP_RULES));
}

START_TEST(test_obj_size_maps)
{
	static const char *const objs[] = { "xfsm.bpf.o", "xfsm-offload.bpf.o",
					    "xfsm-compact.bpf.o" };
	struct xfsm_acl_caps caps;
	__u64 nr, nn;

	libbpf_set_print(quiet_libbpf);
	xfsm_acl_caps_default(&caps);
	caps.rules[3] = 100;
	xfsm_acl_caps_totals(&caps, &nr, &nn);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct bpf_object *obj = bpf_object__open_file(datapath_obj(objs[i]), NULL);
		enum bpf_map_type built[8];
		unsigned int n = 0, acl = 0;
		struct bpf_map *m;

		ck_assert_msg(obj != NULL, "cannot open %s", objs[i]);
		bpf_object__for_each_map(m, obj)
			if (xfsm_map_is_flow_table(bpf_map__name(m)) && n < 8)
				built[n++] = bpf_map__type(m);
		/* native: the wide, narrow and medium tables; offload: the wide one */
		ck_assert_uint_eq(n, i == 1 ? 1 : 3);
		ck_assert_int_eq(xfsm_obj_size_maps(obj, &(struct xfsm_map_sizes){
			.flows = 5000, .flow_type = BPF_MAP_TYPE_LRU_HASH, .rules = 300,
			.rule_stats = 700, .acl = &caps }), 0);
		n = 0;
		bpf_object__for_each_map(m, obj) {
			const char *name = bpf_map__name(m);

			if (xfsm_map_is_flow_table(name)) {
				ck_assert_uint_eq(bpf_map__max_entries(m), 5000);
				ck_assert_int_eq(bpf_map__type(m), built[n] == BPF_MAP_TYPE_HASH ?
						 BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_LRU_HASH);
				n++;
			} else if (!strcmp(name, XFSM_MAP_RULES)) {
				ck_assert_uint_eq(bpf_map__max_entries(m), 300);
			} else if (!strcmp(name, XFSM_MAP_RULE_STATS)) {
				ck_assert_uint_eq(bpf_map__max_entries(m), 700);
			} else if (!strcmp(name, XFSM_MAP_ACL_RULES)) {
				ck_assert_uint_eq(bpf_map__max_entries(m), nr);
				acl++;
			} else if (!strcmp(name, XFSM_MAP_ACL_NODES)) {
				ck_assert_uint_eq(bpf_map__max_entries(m), nn);
				acl++;
			}
		}
		ck_assert_uint_eq(acl, i == 1 ? 0 : 2);
		obj_size_maps_bounds(obj);
		obj_size_flow_tables(obj);
		bpf_object__close(obj);
	}
}
END_TEST

START_TEST(test_dp_offload)
{
	struct xfsm_image img;
	struct xfsm_stats st;
	struct xfsm_ctl ctl;
	__u64 v;
	struct dp d;
	size_t i;

	dp_load_file(&d, "xfsm-offload.bpf.o", 0);
	ck_assert_int_eq(xfsm_instance_check_abi(d.inst), 0);
	ck_assert_uint_eq(d.inst->build.offload, 1);
	ck_assert_uint_eq(d.inst->build.max_stages, XFSM_OFFLOAD_MAX_STAGES);
	ck_assert(!d.inst->percpu_stats);
	ck_assert_int_eq(d.inst->map_fd[XFSM_M_TX_PORTS], -1);
	memset(&st, 0xff, sizeof(st));
	ck_assert_int_eq(xfsm_read_stats(d.inst, &st), 0);
	for (i = 0; i < sizeof(st) / 8; i++)
		ck_assert_uint_eq(((__u64 *)&st)[i], 0);
	ck_assert_int_eq(xfsm_global_set(d.inst, 3, 12345), 0);
	ck_assert_int_eq(xfsm_global_get(d.inst, 3, &v), 0);
	ck_assert_uint_eq(v, 12345);
	ck_assert_int_eq(xfsm_reset_stats(d.inst), 0);

	make_app(&img, 10, 1);
	img.app.n_stages = 5;
	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), -E2BIG);
	assert_msg_has("the datapath holds 4");
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.generation, 0);
	img.app.n_stages = 2;
	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);
	assert_running(&d, &img);
	xfsm_image_free(&img);
	dp_close(&d);
}
END_TEST

/* The two flow value layouts: build/xfsm-compact.bpf.o says it is the
 * compact one, its three flow tables (and only those) hold 32-byte
 * values, the library's ABI check takes them; xfsm.bpf.o's hold 80. */
START_TEST(test_dp_compact)
{
	static const struct {
		const char *file;
		__u32 compact, value_size;
	} objs[] = {
		{ "xfsm-compact.bpf.o", 1, XFSM_FLOW_HEAD_SIZE },
		{ "xfsm.bpf.o", 0, sizeof(struct xfsm_flow) },
	};
	const struct xfsm_flow_table_class *c;
	struct dp d;

	ck_assert_uint_eq(XFSM_FLOW_HEAD_SIZE, 32);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		unsigned int tables = 0;

		dp_load_file(&d, objs[i].file, 0);
		ck_assert_uint_eq(d.inst->build.compact_flows, objs[i].compact);
		ck_assert_uint_eq(d.inst->build.offload, 0);
		ck_assert_int_eq(xfsm_instance_check_abi(d.inst), 0);
		xfsm_for_each_flow_table(c) {
			struct bpf_map_info info = { 0 };
			__u32 len = sizeof(info);

			ck_assert_int_ge(d.inst->map_fd[c->id], 0);
			ck_assert_int_eq(bpf_obj_get_info_by_fd(d.inst->map_fd[c->id], &info, &len), 0);
			ck_assert_msg(info.value_size == objs[i].value_size, "%s: %s has %u-byte values",
				      objs[i].file, info.name, info.value_size);
			tables++;
		}
		ck_assert_uint_eq(tables, 3);
		/* the rest of the ABI is one: a rule is as large in both */
		ck_assert_uint_eq(d.inst->map_value_size[XFSM_M_RULES], sizeof(struct xfsm_rule));
		dp_close(&d);
	}
}
END_TEST

/* A trace record's copy of a compact flow (bpf/observe.h): the head as
 * the table holds it, the rest of the record's struct xfsm_flow zero,
 * whatever the per-CPU record buffer held before (it is reused from
 * packet to packet; here it is filled with junk first). */
static int keep_trace(void *ctx, const void *rec, size_t len)
{
	if (len >= sizeof(struct xfsm_trace_rec) &&
	    ((const struct xfsm_trace_rec *)rec)->kind == XFSM_REC_TRACE)
		memcpy(ctx, rec, sizeof(struct xfsm_trace_rec));
	return 0;
}

static bool flow_tail_zero(const struct xfsm_flow *f)
{
	const __u8 *b = (const __u8 *)f;

	for (size_t i = XFSM_FLOW_HEAD_SIZE; i < sizeof(*f); i++)
		if (b[i])
			return false;
	return true;
}

/* A rule of stage 0 moving a flow in state `from` to `to`, idle 60 s
 * (rule id `id`), passing the packet. */
static void compact_move(struct xfsm_image *img, __u32 from, __u32 to, __u32 id)
{
	struct xfsm_rule_match m = match_state(from, 0xffffffff);
	struct xfsm_rule r = rule_prio(1, id);

	r.act[0].type = XFSM_ACT_PASS;
	r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
	r.next_state = to;
	r.idle_timeout_ms = 60000;
	ck_assert_int_eq(xfsm_image_add_rule(img, 0, &m, &r), 0);
}

/* One stage keyed on the addresses whose first packet moves its flow to
 * state 1 with an idle timeout: a flow any layout holds. */
static struct xfsm_image compact_image(void)
{
	static const __u8 words[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST };
	struct xfsm_image img;

	xfsm_image_init(&img);
	img.app.n_stages = 1;
	img.app.stages[0].enabled = 1;
	img.app.stages[0].miss_verdict = XFSM_VERDICT_PASS;
	ck_assert_int_eq(xfsm_stage_set_keys(&img.app.stages[0], words, NULL, 2,
					     words, NULL, 2), 0);
	compact_move(&img, 0, 1, 3);
	return img;
}

START_TEST(test_dp_compact_trace)
{
	__u8 pkt[64], out[128];
	LIBBPF_OPTS(bpf_test_run_opts, run,
		    .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));
	struct xfsm_obs_cfg cfg = { .observer = XFSM_OBS_TRACE };
	static struct xfsm_trace_rec rec;
	const struct xfsm_trace_stage *e = &rec.st[0];
	struct xfsm_image img;
	struct xfsm_obs *o;
	struct bpf_map *buf;
	__u32 zero = 0;
	size_t junk_size;
	void *junk;
	struct dp d;

	dp_load_file(&d, "xfsm-compact.bpf.o", 0);
	udp_frame(pkt);
	img = compact_image();
	compact_move(&img, 1, 2, 4);
	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);

	buf = bpf_object__find_map_by_name(d.obj, XFSM_MAP_OBS_BUF);
	ck_assert_ptr_nonnull(buf);
	junk_size = ((bpf_map__value_size(buf) + 7) & ~(size_t)7) * libbpf_num_possible_cpus();
	junk = malloc(junk_size);
	ck_assert_ptr_nonnull(junk);
	memset(junk, 0xa5, junk_size);
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(buf), &zero, junk, BPF_ANY), 0);
	free(junk);

	ck_assert_int_eq(xfsm_obs_start(d.inst, &cfg, keep_trace, &rec, &o), 0);
	for (__u32 pass = 1; pass <= 2; pass++) {
		memset(&rec, 0, sizeof(rec));
		run.data_size_out = sizeof(out);
		ck_assert_int_eq(bpf_prog_test_run_opts(d.prog_fd, &run), 0);
		ck_assert_uint_eq(run.retval, XDP_PASS);
		for (int i = 0; i < 50 && rec.kind != XFSM_REC_TRACE; i++)
			ck_assert_int_ge(xfsm_obs_poll(o, 100), 0);
		ck_assert_uint_eq(rec.kind, XFSM_REC_TRACE);
		ck_assert_uint_eq(rec.n_stages, 1);
		ck_assert_msg(e->flags & XFSM_TSF_AFTER, "packet %u: no flow after the stage", pass);
		ck_assert_uint_eq(e->after.state, pass);
		ck_assert_uint_eq(e->after.idle_timeout_ms, 60000);
		ck_assert_uint_ne(e->after.last_seen_ns, 0);
		ck_assert_msg(flow_tail_zero(&e->after), "packet %u: the record's flow after has bytes past the head",
			      pass);
		ck_assert_uint_eq(!!(e->flags & XFSM_TSF_BEFORE), pass == 2);
		if (pass == 2) {
			ck_assert_uint_eq(e->before.state, 1);
			ck_assert_msg(flow_tail_zero(&e->before),
				      "the record's flow before has bytes past the head");
		}
	}
	ck_assert_int_eq(xfsm_obs_stop(o, NULL), 0);
	xfsm_image_free(&img);
	dp_close(&d);
}
END_TEST

/* libxfsm on a compact instance: a flow the datapath made reads back with
 * the tail past the head zero (xfsm_flow_get() into a junk-filled struct,
 * xfsm_flow_foreach()); xfsm_flow_set() takes the head and refuses
 * registers, a hard timeout or a creation time; xfsm_apply() refuses a
 * rule that writes or reads a flow register or sets a hard timeout, and
 * the running application stays. */
struct compact_walk {
	struct xfsm_flow_key key;	/* the first flow's */
	struct xfsm_flow flow;
	int n, tails;			/* flows, flows with bytes past the head */
};

static int first_flow(const struct xfsm_flow_key *key, const struct xfsm_flow *flow, void *ctx)
{
	struct compact_walk *w = ctx;

	if (!w->n++) {
		w->key = *key;
		w->flow = *flow;
	}
	w->tails += !flow_tail_zero(flow);
	return 0;
}

START_TEST(test_dp_compact_flows)
{
	__u8 pkt[64], out[128];
	LIBBPF_OPTS(bpf_test_run_opts, run,
		    .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));
	struct compact_walk seen = { 0 };
	struct xfsm_image img = compact_image(), bad;
	struct xfsm_flow f, set;
	struct xfsm_ctl ctl;
	__u32 generation;
	struct dp d;

	dp_load_file(&d, "xfsm-compact.bpf.o", 0);
	ck_assert(xfsm_flows_compact(d.inst));
	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);
	/* three flows: a walk's values lie side by side, 32 bytes apart */
	for (__u8 src = 1; src <= 3; src++) {
		udp_frame(pkt);
		pkt[29] = src;		/* the checksum is not checked */
		run.data_size_out = sizeof(out);
		ck_assert_int_eq(bpf_prog_test_run_opts(d.prog_fd, &run), 0);
		ck_assert_uint_eq(run.retval, XDP_PASS);
	}

	ck_assert_int_eq(xfsm_flow_foreach(d.inst, first_flow, &seen), 0);
	ck_assert_int_eq(seen.n, 3);
	ck_assert_uint_eq(seen.flow.state, 1);
	ck_assert_msg(!seen.tails, "xfsm_flow_foreach: %d flows with bytes past the head",
		      seen.tails);
	memset(&f, 0xa5, sizeof(f));
	ck_assert_int_eq(xfsm_flow_get(d.inst, &seen.key, &f), 0);
	ck_assert_uint_eq(f.state, 1);
	ck_assert_uint_eq(f.idle_timeout_ms, 60000);
	ck_assert_msg(flow_tail_zero(&f), "xfsm_flow_get: bytes past the head");

	/* set: the head alone is taken; anything past it is refused */
	set = f;
	set.idle_timeout_ms = 0;
	set.idle_rollback = 0;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &seen.key, &set), 0);
	set.regs[2] = 7;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &seen.key, &set), -EINVAL);
	set.regs[2] = 0;
	set.hard_deadline_ns = 1;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &seen.key, &set), -EINVAL);
	set.hard_deadline_ns = 0;
	set.created_ns = 1;
	ck_assert_int_eq(xfsm_flow_set(d.inst, &seen.key, &set), -EINVAL);
	ck_assert_int_eq(xfsm_flow_get(d.inst, &seen.key, &f), 0);
	ck_assert_uint_eq(f.idle_timeout_ms, 0);	/* the one write taken */

	/* apply: a flow register written, read, or a hard timeout */
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	generation = ctl.generation;
	for (int kind = 0; kind < 4; kind++) {
		struct xfsm_rule *r;

		bad = compact_image();
		r = &bad.rules[0].rule;
		if (kind == 0) {
			r->upd[0].op = XFSM_UPD_SET;
			r->upd[0].dst_kind = XFSM_OPND_FLOW_REG;
			r->upd[0].a.kind = XFSM_OPND_CONST;
			r->flags |= XFSM_RF_WRITES_FLOW;
		} else if (kind == 1) {
			r->upd[0].op = XFSM_UPD_SET;
			r->upd[0].dst_kind = XFSM_OPND_GLOBAL_REG;
			r->upd[0].a.kind = XFSM_OPND_FLOW_REG;
			r->flags |= XFSM_RF_WRITES_GLOBAL;
		} else if (kind == 2) {
			r->act[1].type = XFSM_ACT_SET_MARK;
			r->act[1].opnd.kind = XFSM_OPND_FLOW_REG;
			r->act[1].opnd.index = 1;
		} else {
			r->hard_timeout_ms = 120000;
		}
		ck_assert_msg(xfsm_apply(d.inst, &bad, NULL) == -EOPNOTSUPP,
			      "case %d: applied on a compact instance", kind);
		xfsm_image_free(&bad);
	}
	ck_assert_int_eq(xfsm_ctl_get(d.inst, &ctl), 0);
	ck_assert_uint_eq(ctl.generation, generation);
	xfsm_image_free(&img);
	dp_close(&d);
}
END_TEST

/* On a compact instance a flow of a stage left in the wide table (an
 * application planned before its stage's table, as in
 * test_dp_flow_tables) moves into the stage's table at the next apply
 * with its 32 bytes as they were: each of a hundred flows with a head of
 * its own (a walk lays their values 32 bytes apart), every field of it,
 * and reads back with the tail past the head zero. */
static void compact_head(struct xfsm_flow_head *h, __u32 i)
{
	memset(h, 0, sizeof(*h));
	h->version = 1000 + i;
	h->state = 1;
	h->idle_timeout_ms = 60000 + i;
	h->flags = i & 1;
	h->last_seen_ns = 5000000000ULL + i * 7919ULL;
}

START_TEST(test_dp_compact_settle)
{
	enum { N = 100 };
	struct xfsm_image img = compact_image(), got;
	struct xfsm_flow_head want, back;
	struct xfsm_flow_key k;
	struct xfsm_flow f;
	int wide, narrow;
	__u16 e0;
	struct dp d;

	dp_load_file(&d, "xfsm-compact.bpf.o", 0);
	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);
	ck_assert_int_eq(xfsm_flow_table(d.inst, 0), XFSM_M_FLOWS_N);
	wide = d.inst->map_fd[XFSM_M_FLOWS];
	narrow = d.inst->map_fd[XFSM_M_FLOWS_N];
	ck_assert_int_eq(xfsm_read_app(d.inst, &got), 0);
	e0 = got.app.stages[0].epoch;
	got.app.stages[0].flags &= ~XFSM_SF_TABLE;
	for (__u32 slot = 0; slot < 2; slot++)
		ck_assert_int_eq(bpf_map_update_elem(d.inst->map_fd[XFSM_M_APPS], &slot,
						     &got.app, BPF_ANY), 0);
	xfsm_image_free(&got);
	for (__u32 i = 0; i < N; i++) {
		flow_key(&k, 0, e0, i);
		compact_head(&want, i);
		ck_assert_int_eq(bpf_map_update_elem(wide, &k, &want, BPF_NOEXIST), 0);
	}
	assert_flow_counts(&d, XFSM_M_FLOWS, N, "left in the wide table");

	ck_assert_int_eq(xfsm_apply(d.inst, &img, NULL), 0);
	assert_flow_counts(&d, XFSM_M_FLOWS_N, N, "moved");
	for (__u32 i = 0; i < N; i++) {
		flow_key(&k, 0, e0, i);
		compact_head(&want, i);
		memset(&back, 0xa5, sizeof(back));
		ck_assert_int_eq(bpf_map_lookup_elem(narrow, &k, &back), 0);
		ck_assert_msg(!memcmp(&back, &want, sizeof(want)),
			      "flow %u: moved as version %u state %u idle %u flags %u last seen %llu",
			      i, back.version, back.state, back.idle_timeout_ms, back.flags,
			      (unsigned long long)back.last_seen_ns);
		memset(&f, 0xa5, sizeof(f));
		ck_assert_int_eq(xfsm_flow_get(d.inst, &k, &f), 0);
		ck_assert_msg(!memcmp(&f, &want, sizeof(want)) && flow_tail_zero(&f),
			      "flow %u: xfsm_flow_get after the move", i);
	}
	xfsm_image_free(&img);
	dp_close(&d);
}
END_TEST

START_TEST(test_sync_rcu)
{
	ck_assert_int_eq(xfsm_sync_rcu(), 0);
	ck_assert_int_eq(xfsm_sync_rcu(), 0);
}
END_TEST

/* The refusal message names each absent feature of the asked kind, with
 * the release that brought it, and nothing that is present or unknown. */
START_TEST(test_features_missing)
{
	struct xfsm_features ft;
	char buf[512], tiny[24];
	int i;

	memset(&ft, 0, sizeof(ft));
	for (i = 0; i < XFSM_FEAT__MAX; i++)
		ft.state[i] = XFSM_FEAT_YES;
	ck_assert_int_eq(xfsm_features_missing(&ft, true, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");

	ft.state[XFSM_FEAT_ATOMICS] = XFSM_FEAT_NO;
	ft.state[XFSM_FEAT_GLOBAL_FUNC] = XFSM_FEAT_NO;
	ft.state[XFSM_FEAT_SPIN_LOCK] = XFSM_FEAT_UNKNOWN;
	ft.state[XFSM_FEAT_BROADCAST] = XFSM_FEAT_NO;
	ck_assert_int_eq(xfsm_features_missing(&ft, true, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "global BPF functions (Linux 5.6), "
			      "BPF atomic fetch operations (Linux 5.12)");
	ck_assert_int_eq(xfsm_features_missing(&ft, false, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "redirect to every port (BPF_F_BROADCAST) (Linux 5.14)");
	/* A short buffer is cut and terminated, the count stays right. */
	ck_assert_int_eq(xfsm_features_missing(&ft, true, tiny, sizeof(tiny)), 2);
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);

	for (i = 0; i < XFSM_FEAT__MAX; i++) {
		const struct xfsm_feature_desc *d = xfsm_feature_desc(i);

		ck_assert_ptr_nonnull(d);
		ck_assert(d->name && d->what && d->since && d->loses);
	}
	ck_assert_ptr_null(xfsm_feature_desc(XFSM_FEAT__MAX));
}
END_TEST

/* On the kernel the suite runs on, the datapath loads (the other suites
 * prove it), so every required feature must probe present. */
START_TEST(test_features_probe)
{
	struct xfsm_features ft;
	char buf[512];

	ck_assert_int_eq(xfsm_features_probe(&ft), 0);
	ck_assert_int_eq(xfsm_features_missing(&ft, true, buf, sizeof(buf)), 0);
	ck_assert_int_eq(ft.state[XFSM_FEAT_ATOMICS], XFSM_FEAT_YES);
	ck_assert_int_eq(ft.state[XFSM_FEAT_GLOBAL_FUNC], XFSM_FEAT_YES);
	ck_assert_int_eq(ft.state[XFSM_FEAT_SPIN_LOCK], XFSM_FEAT_YES);
	ck_assert_int_ne(ft.state[XFSM_FEAT_DISPATCHER], XFSM_FEAT_UNKNOWN);
	ck_assert_int_ne(ft.state[XFSM_FEAT_BROADCAST], XFSM_FEAT_UNKNOWN);
	ck_assert(ft.release[0] != '\0');
}
END_TEST

/* ---- unit tests: numbers, files, kept sources -------------------------------- */

/* Every number is exact and in range, or refused: no octal, no wrapping,
 * no sign, no space, no trailing text, no NaN. */
START_TEST(test_numbers)
{
	static const struct {
		const char *text;
		unsigned int flags;
		int ret;
		unsigned long long v;	/* when ret == 0 */
		enum xfsm_unit unit;
	} cases[] = {
		{ "22", 0, 0, 22, XFSM_UNIT_NONE },
		{ "022", 0, 0, 22, XFSM_UNIT_NONE },	/* never octal */
		{ "0x16", 0, 0, 22, XFSM_UNIT_NONE },
		{ "0X1f", 0, 0, 31, XFSM_UNIT_NONE },
		{ "0o26", 0, 0, 22, XFSM_UNIT_NONE },
		{ "0b10110", 0, 0, 22, XFSM_UNIT_NONE },
		{ "18446744073709551615", 0, 0, 18446744073709551615ULL, XFSM_UNIT_NONE },
		{ "0xffffffffffffffff", 0, 0, 18446744073709551615ULL, XFSM_UNIT_NONE },
		{ "18446744073709551616", 0, -ERANGE, 0, 0 },
		{ "0x10000000000000000", 0, -ERANGE, 0, 0 },
		{ "340282366920938463463374607431768211457", 0, -ERANGE, 0, 0 },
		{ "", 0, -EINVAL, 0, 0 },
		{ "-1", 0, -EINVAL, 0, 0 },
		{ " -1", 0, -EINVAL, 0, 0 },
		{ "+1", 0, -EINVAL, 0, 0 },
		{ " 1", 0, -EINVAL, 0, 0 },
		{ "1 ", 0, -EINVAL, 0, 0 },
		{ "nan", 0, -EINVAL, 0, 0 },
		{ "inf", XFSM_NUM_UNIT | XFSM_NUM_FRAC, -EINVAL, 0, 0 },
		{ "22;junk", 0, -EINVAL, 0, 0 },
		{ "0x", 0, -EINVAL, 0, 0 },
		{ "0x1g", 0, -EINVAL, 0, 0 },
		{ "0o8", 0, -EINVAL, 0, 0 },
		{ "0b2", 0, -EINVAL, 0, 0 },
		{ "1e3", 0, -EINVAL, 0, 0 },
		{ "1KiB", 0, -EINVAL, 0, 0 },		/* a unit where none is allowed */
		{ "1.5", 0, -EINVAL, 0, 0 },
		{ "1KiB", XFSM_NUM_UNIT, 0, 1024, XFSM_UNIT_BYTES },
		{ "0B", XFSM_NUM_UNIT, 0, 0, XFSM_UNIT_BYTES },
		{ "0bit", XFSM_NUM_UNIT, 0, 0, XFSM_UNIT_RATE },
		{ "10s", XFSM_NUM_UNIT, 0, 10000000000ULL, XFSM_UNIT_TIME },
		{ "1.5s", XFSM_NUM_UNIT | XFSM_NUM_FRAC, 0, 1500000000ULL, XFSM_UNIT_TIME },
		{ "1.50000000000000000000000000000000000000000s", XFSM_NUM_UNIT | XFSM_NUM_FRAC,
		  0, 1500000000ULL, XFSM_UNIT_TIME },
		{ "2.0", XFSM_NUM_FRAC, 0, 2, XFSM_UNIT_NONE },
		{ "1.5", XFSM_NUM_FRAC, -EINVAL, 0, 0 },
		{ "1.5ns", XFSM_NUM_UNIT | XFSM_NUM_FRAC, -EINVAL, 0, 0 },
		{ "1.5s", XFSM_NUM_UNIT, -EINVAL, 0, 0 },
		{ "10xs", XFSM_NUM_UNIT, -EINVAL, 0, 0 },
		/* units multiply in 128 bits, checked: no wrapping */
		{ "94522879700260684295381836h", XFSM_NUM_UNIT, -ERANGE, 0, 0 },
		{ "5124095h", XFSM_NUM_UNIT, 0, 18446742000000000000ULL, XFSM_UNIT_TIME },
		{ "5124096h", XFSM_NUM_UNIT, -ERANGE, 0, 0 },
		{ "17179869184GiB", XFSM_NUM_UNIT, -ERANGE, 0, 0 },
	};
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfsm_num n = { 0 };
		int ret = xfsm_num_parse(cases[i].text, strlen(cases[i].text), cases[i].flags, &n,
					 err, sizeof(err));

		ck_assert_msg(ret == cases[i].ret, "'%s': got %d (%s), want %d", cases[i].text, ret,
			      ret ? err : "", cases[i].ret);
		if (ret)
			continue;
		ck_assert_msg(n.v == cases[i].v && n.unit == cases[i].unit,
			      "'%s': got %llu unit %d", cases[i].text, (unsigned long long)n.v, n.unit);
	}
	/* the length bounds the text: nothing is read past it */
	{
		struct xfsm_num n;

		ck_assert_int_eq(xfsm_num_parse("123456", 3, 0, &n, NULL, 0), 0);
		ck_assert_uint_eq((__u64)n.v, 123);
		ck_assert_int_eq(xfsm_num_parse("12\0" "3", 4, 0, &n, NULL, 0), -EINVAL);
	}
	/* messages name the text */
	{
		struct xfsm_num n;

		xfsm_num_parse("22;junk", 7, 0, &n, err, sizeof(err));
		ck_assert_str_eq(err, "'22;junk' is not a number (decimal, or 0x hex, 0o octal, 0b binary; no sign or spaces)");
		xfsm_num_parse("1KiB", 4, 0, &n, err, sizeof(err));
		ck_assert_str_eq(err, "'1KiB': a unit is not allowed here");
		xfsm_num_parse("99999999999999999999", 20, 0, &n, err, sizeof(err));
		ck_assert_str_eq(err, "number '99999999999999999999' does not fit in 64 bits");
	}
	}
END_TEST

START_TEST(test_number_args)
{
	char err[200];
	__u64 v, ns;
	__u32 w, ms;

	ck_assert_int_eq(xfsm_parse_u64("022", 0, 65535, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 22);
	ck_assert_int_eq(xfsm_parse_u64(" -1", 0, ~0ULL, &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_u64("-1", 0, ~0ULL, &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_u64("70000", 0, 65535, &v, err, sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "70000 is out of range (0..65535)");
	ck_assert_int_eq(xfsm_parse_u64("0", 1, 9, &v, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(xfsm_parse_u64("18446744073709551616", 0, ~0ULL, &v, err, sizeof(err)),
			 -ERANGE);
	ck_assert_str_eq(err, "18446744073709551616 is out of range (0..18446744073709551615)");
	ck_assert_int_eq(xfsm_parse_u32("4294967296", 0, 0xffffffff, &w, err, sizeof(err)), -ERANGE);
	ck_assert_int_eq(xfsm_parse_u32("0xffffffff", 0, 0xffffffff, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w, 0xffffffff);

	/* durations: a unit, or plain seconds; never NaN, never negative */
	ck_assert_int_eq(xfsm_parse_duration("10s", &ns, err, sizeof(err)), 0);
	ck_assert_uint_eq(ns, 10000000000ULL);
	ck_assert_int_eq(xfsm_parse_duration("0.25", &ns, err, sizeof(err)), 0);
	ck_assert_uint_eq(ns, 250000000ULL);
	ck_assert_int_eq(xfsm_parse_duration("2min", &ns, err, sizeof(err)), 0);
	ck_assert_uint_eq(ns, 120000000000ULL);
	ck_assert_int_eq(xfsm_parse_duration("250ms", &ns, err, sizeof(err)), 0);
	ck_assert_uint_eq(ns, 250000000ULL);
	ck_assert_int_eq(xfsm_parse_duration("nan", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("NaN", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("inf", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("-5", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("1e3", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("10KiB", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("0.0000000001", &ns, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_duration("18446744074", &ns, err, sizeof(err)), -ERANGE);

	/* timeouts round up to whole ms, as the compiler does */
	ck_assert_int_eq(xfsm_timeout_ms(1, &ms), 0);
	ck_assert_uint_eq(ms, 1);
	ck_assert_int_eq(xfsm_timeout_ms(0, &ms), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(xfsm_timeout_ms(4294967295000000ULL, &ms), 0);
	ck_assert_uint_eq(ms, 0xffffffff);
	ck_assert_int_eq(xfsm_timeout_ms(4294967295000001ULL, &ms), -ERANGE);
	ck_assert_int_eq(xfsm_timeout_ms(~(xfsm_u128)0, &ms), -ERANGE);
}
END_TEST

START_TEST(test_addresses)
{
	static const char *const bad4[] = {
		"198.300.0.2", "198.18.0", "198.18.0.1.5", "198.018.0.1", "198.18.0.-1",
		"198.18..1", " 198.18.0.1", "198.18.0.1 ", "1234.1.1.1", "0x1.2.3.4", "",
	};
	struct xfsm_prefix p;
	char err[200];
	__u8 a6[16], mac[6];
	__u32 a;

	ck_assert_int_eq(xfsm_parse_ip4("198.18.0.1", 10, &a), 0);
	ck_assert_uint_eq(a, 0xc6120001);
	ck_assert_int_eq(xfsm_parse_ip4("0.0.0.0", 7, &a), 0);
	ck_assert_int_eq(xfsm_parse_ip4("255.255.255.255", 15, &a), 0);
	ck_assert_uint_eq(a, 0xffffffff);
	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		ck_assert_msg(xfsm_parse_ip4(bad4[i], strlen(bad4[i]), &a) == -EINVAL,
			      "accepted %s", bad4[i]);
	ck_assert_int_eq(xfsm_parse_ip6("2001:2::1", 9, a6), 0);
	ck_assert_uint_eq(a6[1], 0x01);
	ck_assert_uint_eq(a6[15], 1);
	ck_assert_int_eq(xfsm_parse_ip6("2001:2::1::2", 12, a6), -EINVAL);
	ck_assert_int_eq(xfsm_parse_ip6("2001:2::10000", 13, a6), -EINVAL);
	ck_assert_int_eq(xfsm_parse_mac("02:00:00:00:00:0a", 17, mac), 0);
	ck_assert_uint_eq(mac[5], 0x0a);
	ck_assert_int_eq(xfsm_parse_mac("2:0:0:0:0:a", 11, mac), 0);
	ck_assert_int_eq(xfsm_parse_mac("02:00:00:00:00:0a:", 18, mac), -EINVAL);
	ck_assert_int_eq(xfsm_parse_mac("02:00:00:00:00:100", 18, mac), -EINVAL);

	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.0/15", 13, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.len, 15);
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.0/015", 14, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.len, 15);	/* decimal, never octal */
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.1", 10, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.len, 32);
	ck_assert_int_eq(xfsm_parse_prefix("2001:2::/48", 11, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_uint_eq(p.len, 48);
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.1/15", 13, &p, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "198.18.0.1/15 has bits set beyond /15");
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.0/33", 13, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.0/", 11, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_prefix("198.18.0.0/1x", 13, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(xfsm_parse_prefix("198.300.0.0/16", 14, &p, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "not an IPv4 or IPv6 address: 198.300.0.0");
}
END_TEST

START_TEST(test_u128)
{
	const xfsm_u128 big = (xfsm_u128)1 << 127;
	xfsm_u128 r;
	char buf[48];

	ck_assert_int_eq(xfsm_u128_mul((xfsm_u128)1 << 63, (xfsm_u128)1 << 63, &r), 0);
	ck_assert_int_eq(xfsm_u128_mul(r, 4, &r), -ERANGE);	/* 2^128 would wrap to 0 */
	ck_assert_int_eq(xfsm_u128_add(big, big, &r), -ERANGE);
	ck_assert_int_eq(xfsm_u128_add(big, big - 1, &r), 0);
	ck_assert_int_eq(xfsm_u128_shl(1, 127, &r), 0);
	ck_assert_int_eq(xfsm_u128_shl(1, 128, &r), -ERANGE);
	ck_assert_int_eq(xfsm_u128_shl(3, 127, &r), -ERANGE);
	ck_assert_int_eq(xfsm_u128_shl(0, 1000, &r), 0);
	ck_assert_str_eq(xfsm_u128_str(~(xfsm_u128)0, buf, sizeof(buf)),
			 "340282366920938463463374607431768211455");
	ck_assert_str_eq(xfsm_u128_str(0, buf, sizeof(buf)), "0");
}
END_TEST

/* One reader for every file: whole or refused, never empty, never a
 * directory, every read checked. */
START_TEST(test_read_file)
{
	char dir[] = "/tmp/xfsm-read-XXXXXX", path[64], err[200], *buf;
	size_t len;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(xfsm_read_file(path, &buf, &len, err, sizeof(err)), -ENODATA);
	ck_assert_ptr_null(buf);
	ck_assert_str_eq(err, "the file is empty");
	ck_assert_int_eq(xfsm_read_file("/dev/null", &buf, &len, err, sizeof(err)), -ENODATA);
	ck_assert_int_eq(xfsm_read_file(dir, &buf, &len, err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "is a directory, not a file");
	ck_assert_int_eq(xfsm_read_file("/nonexistent/x", &buf, &len, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "cannot open: No such file or directory");
	/* a read that fails (address 0 of our own memory) is an error, not
	 * an end of file */
	ck_assert_int_eq(xfsm_read_file("/proc/self/mem", &buf, &len, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(buf);
	/* longer than any buffer: all of it, NUL-terminated */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 300000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	ck_assert_int_eq(xfsm_read_file(path, &buf, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 300000);
	ck_assert_uint_eq(strlen(buf), 300000);
	ck_assert_int_eq(buf[299999], 'a' + 299999 % 26);
	free(buf);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A kept source is whole or marked as not kept, never cut. */
/* The listing of show program: every instruction class the specializer
 * emits, as text; a map reference through the callback; the second half
 * of a 64-bit load consumed; an unknown encoding printed raw. */
static void name_map(void *ctx, __u8 src_reg, __s32 imm, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "map[%s%d]", src_reg == BPF_PSEUDO_MAP_VALUE ? "v" : "m", imm);
}

START_TEST(test_disasm)
{
	static const struct {
		struct bpf_insn i[2];
		unsigned int n;
		const char *text;
	} c[] = {
		{ { XI_MOV64_REG(6, 1) }, 1, "r6 = r1" },
		{ { XI_MOV32_IMM(0, 2) }, 1, "w0 = 2" },
		{ { XI_ALU64_IMM(BPF_ADD, 4, 14) }, 1, "r4 += 14" },
		{ { XI_ALU32_REG(BPF_XOR, 1, 2) }, 1, "w1 ^= w2" },
		{ { XI_ALU64_IMM(BPF_AND, 1, 0x3fff) }, 1, "r1 &= 0x3fff" },
		{ { XI_ALU64_IMM(BPF_ARSH, 1, 3) }, 1, "r1 s>>= 3" },
		{ { XI_NEG64(3) }, 1, "r3 = -r3" },
		{ { XI_BE(1, 16) }, 1, "r1 = be16 r1" },
		{ { XI_LDX(BPF_H, 1, 2, 12) }, 1, "r1 = *(u16 *)(r2 + 12)" },
		{ { XI_STX(BPF_DW, 10, 1, -8) }, 1, "*(u64 *)(r10 - 8) = r1" },
		{ { XI_ST(BPF_W, 10, -196, 0) }, 1, "*(u32 *)(r10 - 196) = 0" },
		{ { XI_ATOMIC_ADD(BPF_DW, 1, 2, 8) }, 1, "lock *(u64 *)(r1 + 8) += r2" },
		{ { XI_JMP_IMM(BPF_JGT, 4, 5, 3) }, 1, "if r4 > 5 goto 4" },
		{ { XI_JMP32_REG(BPF_JNE, 1, 2, -1) }, 1, "if w1 != w2 goto 0" },
		{ { XI_JMP_IMM(BPF_JSLT, 1, -1, 0) }, 1, "if r1 s< -1 goto 1" },
		{ { XI_JA(9) }, 1, "goto 10" },
		{ { XI_CALL(BPF_FUNC_map_lookup_elem) }, 1, "call bpf_map_lookup_elem" },
		{ { XI_CALL(BPF_FUNC_tail_call) }, 1, "call bpf_tail_call" },
		{ { XI_EXIT() }, 1, "exit" },
		{ { XI_LD_IMM64_LO(1, 0, 0x100000002ULL), XI_LD_IMM64_HI(0x100000002ULL) }, 2,
		  "r1 = 0x100000002 ll" },
		{ { XI_LD_IMM64_LO(1, BPF_PSEUDO_MAP_FD, 7), XI_LD_IMM64_HI(0) }, 2, "r1 = map[m7]" },
		{ { XI_LD_IMM64_LO(2, BPF_PSEUDO_MAP_VALUE, 3), XI(0, 0, 0, 0, 16) }, 2,
		  "r2 = &map[v3][16]" },
		{ { XI(0xff, 1, 2, 3, 4) }, 1, "(code 0xff dst r1 src r2 off 3 imm 4)" },
	};
	char buf[160];
	size_t k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		ck_assert_uint_eq(xfsm_disasm(c[k].i, c[k].n, 0, buf, sizeof(buf), name_map, NULL),
				  c[k].n);
		ck_assert_str_eq(buf, c[k].text);
	}
	/* past the end: nothing; a 64-bit load cut off: one line, said */
	ck_assert_uint_eq(xfsm_disasm(c[0].i, 1, 1, buf, sizeof(buf), NULL, NULL), 0);
	ck_assert_uint_eq(xfsm_disasm(c[19].i, 1, 0, buf, sizeof(buf), NULL, NULL), 1);
	ck_assert_ptr_nonnull(strstr(buf, "cut off"));
	/* without a callback a map prints as its reference */
	xfsm_disasm(c[20].i, 2, 0, buf, sizeof(buf), NULL, NULL);
	ck_assert_str_eq(buf, "r1 = map#7");
	ck_assert_ptr_null(xfsm_disasm_helper(0));
	ck_assert_ptr_null(xfsm_disasm_helper(100000));
}
END_TEST

/* The words of --datapath, both ways. */
START_TEST(test_datapath_names)
{
	__u32 m = 99;

	ck_assert_int_eq(xfsm_datapath_parse("auto", &m), 0);
	ck_assert_uint_eq(m, XFSM_DP_AUTO);
	ck_assert_int_eq(xfsm_datapath_parse("generic", &m), 0);
	ck_assert_uint_eq(m, XFSM_DP_GENERIC);
	ck_assert_int_eq(xfsm_datapath_parse("specialized", &m), 0);
	ck_assert_uint_eq(m, XFSM_DP_SPECIALIZED);
	ck_assert_int_eq(xfsm_datapath_parse("keep", &m), -EINVAL);
	ck_assert_int_eq(xfsm_datapath_parse("Auto", &m), -EINVAL);
	ck_assert_int_eq(xfsm_datapath_parse(NULL, &m), -EINVAL);
	ck_assert_str_eq(xfsm_datapath_name(XFSM_DP_SPECIALIZED), "specialized");
	ck_assert_ptr_null(xfsm_datapath_name(XFSM_DP_KEEP));
}
END_TEST

START_TEST(test_appsrc_encoding)
{
	const size_t vs = sizeof(struct xfsm_appsrc);
	char *val = malloc(vs), *big = malloc(1 << 20), *rnd, *out;
	size_t len;
	__u32 hdr;

	ck_assert_ptr_nonnull(val);
	ck_assert_ptr_nonnull(big);
	/* small: plain text, as bpftool shows it */
	ck_assert_int_eq(xfsm_appsrc_encode("stage s { rule r => drop }", 26, val, vs), 0);
	memcpy(&hdr, val, 4);
	ck_assert_uint_eq(hdr, 26);
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), 0);
	ck_assert_uint_eq(len, 26);
	ck_assert_str_eq(out, "stage s { rule r => drop }");
	free(out);
	/* 1 MiB of repetitive text: compressed, whole */
	for (size_t i = 0; i < (1 << 20); i++)
		big[i] = i % 40 == 39 ? '\n' : (char)('a' + (i * 7) % 26);
	ck_assert_int_eq(xfsm_appsrc_encode(big, 1 << 20, val, vs), 0);
	memcpy(&hdr, val, 4);
	ck_assert_uint_eq(hdr & ~XFSM_APPSRC_LEN_MASK, XFSM_APPSRC_DEFLATE);
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), 0);
	ck_assert_uint_eq(len, 1 << 20);
	ck_assert_int_eq(memcmp(out, big, len), 0);
	free(out);
	/* incompressible: not kept, and said so */
	rnd = random_text(4 * vs, 99);
	ck_assert_ptr_nonnull(rnd);
	ck_assert_int_eq(xfsm_appsrc_encode(rnd, 4 * vs, val, vs), 1);
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), -EFBIG);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 4 * vs);
	/* damaged values are refused, not trusted */
	ck_assert_int_eq(xfsm_appsrc_encode(big, 1 << 20, val, vs), 0);
	val[40] ^= 0x55;
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), -EPROTO);
	hdr = (__u32)vs;	/* plain, longer than the value */
	memcpy(val, &hdr, 4);
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), -EPROTO);
	hdr = 0x20000000;	/* unknown flag */
	memcpy(val, &hdr, 4);
	ck_assert_int_eq(xfsm_appsrc_decode(val, vs, &out, &len), -EPROTO);
	free(rnd);
	free(big);
	free(val);
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("libxfsm");
	TCase *tc;

	tc = tcase_create("image");
	tcase_add_test(tc, test_tuple_grouping);
	tcase_add_test(tc, test_tuple_sorting);
	tcase_add_test(tc, test_tuple_limit);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_image_bytes_deterministic);
	tcase_add_test(tc, test_many_rules);
	tcase_add_test(tc, test_disasm);
	tcase_add_test(tc, test_datapath_names);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_validate_bodies);
	tcase_add_test(tc, test_validate_timeouts);
	tcase_add_test(tc, test_stage_set_keys);
	tcase_add_test(tc, test_flow_key_build);
	tcase_add_test(tc, test_operands);
	tcase_add_test(tc, test_map_names);
	tcase_add_test(tc, test_instance_names);
	tcase_add_test(tc, test_pin_dir_check);
	tcase_add_test(tc, test_log_hook);
	tcase_add_test(tc, test_features_missing);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_number_args);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_u128);
	tcase_add_test(tc, test_read_file);
	tcase_add_test(tc, test_appsrc_encoding);
	suite_add_tcase(s, tc);

	tc = tcase_create("datapath");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sync_rcu);
	tcase_add_test(tc, test_features_probe);
	tcase_add_test(tc, test_dp_fresh);
	tcase_add_test(tc, test_dp_bad_numbers);
	tcase_add_test(tc, test_dp_apply_flip);
	tcase_add_test(tc, test_dp_apply_failure);
	tcase_add_test(tc, test_dp_globals);
	tcase_add_test(tc, test_dp_flows);
	tcase_add_test(tc, test_dp_flow_states);
	tcase_add_test(tc, test_dp_flow_epochs);
	tcase_add_loop_test(tc, test_dp_flow_tables, 0,
			    sizeof(flow_table_rounds) / sizeof(flow_table_rounds[0]));
	tcase_add_test(tc, test_dp_flow_tables_datapath);
	tcase_add_test(tc, test_dp_rule_stats);
	tcase_add_test(tc, test_dp_apply_under_traffic);
	tcase_add_test(tc, test_dp_offload);
	tcase_add_test(tc, test_dp_compact);
	tcase_add_test(tc, test_dp_compact_trace);
	tcase_add_test(tc, test_dp_compact_flows);
	tcase_add_test(tc, test_dp_compact_settle);
	tcase_add_test(tc, test_obj_size_maps);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, pin_setup, pin_teardown);
	tcase_add_test(tc, test_dp_open_paths);
	tcase_add_test(tc, test_dp_pin_dir_check);
	tcase_add_test(tc, test_dp_pin_dir_unpin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lib_suite());
	int failed;

	xfsm_set_log(capture_log);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
