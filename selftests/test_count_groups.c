/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Count groups in libxfsm (lib/count_groups.c): the readers add the pairs
 * a slot's table names to their counters, a new table folds the old
 * groups' counts, a fresh statistics index forgets its fold, stats
 * --reset zeroes everything, a bad table is refused, and readers wait out
 * an odd sequence count.  No program generates groups yet: the tests write
 * the pairs into the statistics block themselves (whole per-CPU value; no
 * packet flows through the instance) and install tables by hand.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "suite.h"
#include "ctlrun.h"
#include "apply_internal.h"

#define N	((__u64)T.inst->nr_cpus)
#define DP(f)	XFSM_CG_DATAPATH, 0, offsetof(struct xfsm_stats, f)
#define SG(i, f) XFSM_CG_STAGE, (i), offsetof(struct xfsm_stage_stats, f)
#define RL(i, f) XFSM_CG_RULE, (i), offsetof(struct xfsm_rule_stats, f)

static void add(struct xfsm_cg_table *t, __u16 g, bool bytes, __u8 space, __u32 index,
		__u32 off)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->m = realloc(t->m, t->cap * sizeof(*t->m));
		ck_assert_ptr_nonnull(t->m);
	}
	t->m[t->n++] = (struct xfsm_cg_member){
		.group = g, .space = space, .bytes = bytes, .index = index, .off = off,
	};
	if (g >= t->n_groups)
		t->n_groups = g + 1;
}

/* The statistics block, every CPU's value. */
static size_t stride(void)
{
	return (sizeof(struct xfsm_stats_block) + 7) & ~7UL;
}

static char *block_get(void)
{
	char *b = calloc(T.inst->nr_cpus, stride());
	__u32 zero = 0;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_STATS], &zero, b), 0);
	return b;
}

static void block_put(char *b)
{
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_STATS], &zero, b, BPF_ANY), 0);
	free(b);
}

/* Add (packets, bytes) to pair g of slot on every CPU. */
static void pair_add(__u32 slot, __u32 g, __u64 packets, __u64 bytes)
{
	char *b = block_get();
	int c;

	for (c = 0; c < T.inst->nr_cpus; c++) {
		struct xfsm_stats_block *v = (void *)(b + c * stride());

		v->group[slot][g].packets += packets;
		v->group[slot][g].bytes += bytes;
	}
	block_put(b);
}

/* What the datapath itself counted: a few raw counters, on every CPU. */
static void raw_counts(void)
{
	struct xfsm_rule_stats *rs = calloc(T.inst->nr_cpus, sizeof(*rs));
	char *b = block_get();
	__u32 k = 7;
	int c;

	for (c = 0; c < T.inst->nr_cpus; c++) {
		struct xfsm_stats_block *v = (void *)(b + c * stride());

		v->stats.rx_packets += 1;
		v->stats.rx_bytes += 100;
		v->stage[3].packets += 2;
		rs[c].packets = 4;
		rs[c].bytes = 400;
	}
	block_put(b);
	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_RULE_STATS], &k, rs, BPF_ANY),
			 0);
	free(rs);
}

/* Both slots without groups, every count 0. */
static void clean(void)
{
	NEED_T();
	ck_assert_int_eq(xfsm_cg_install(T.inst, 0, NULL), 0);
	ck_assert_int_eq(xfsm_cg_install(T.inst, 1, NULL), 0);
	ck_assert_int_eq(xfsm_reset_stats(T.inst), 0);
}

struct seen {
	struct xfsm_stats dp;
	struct xfsm_stage_stats st3, st5;
	struct xfsm_rule_stats r7, r9;
};

static bool read_all(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return ASSERT_OK(xfsm_read_stats(T.inst, &s->dp), "read datapath") &&
	       ASSERT_OK(xfsm_read_stage_stats_at(T.inst, 3, &s->st3), "read stage 3") &&
	       ASSERT_OK(xfsm_read_stage_stats_at(T.inst, 5, &s->st5), "read stage 5") &&
	       ASSERT_OK(xfsm_read_rule_stats_at(T.inst, 7, &s->r7), "read rule 7") &&
	       ASSERT_OK(xfsm_read_rule_stats_at(T.inst, 9, &s->r9), "read rule 9");
}

/*
 * Slot 0: group 0 stands for the datapath's rx pair, stage 3's packets,
 * bytes and hits and rule 7's pair; group 1 for stage 3's hits too and the
 * drop verdict.  Slot 1: group 0 for rule 7's packets.
 */
static void install_first(void)
{
	struct xfsm_cg_table t0 = {}, t1 = {};

	add(&t0, 0, false, DP(rx_packets));
	add(&t0, 0, true, DP(rx_bytes));
	add(&t0, 0, false, SG(3, packets));
	add(&t0, 0, true, SG(3, bytes));
	add(&t0, 0, false, SG(3, hits));
	add(&t0, 0, false, RL(7, packets));
	add(&t0, 0, true, RL(7, bytes));
	add(&t0, 1, false, SG(3, hits));
	add(&t0, 1, false, DP(verdict_drop));
	add(&t1, 0, false, RL(7, packets));
	ck_assert_int_eq(xfsm_cg_install(T.inst, 0, &t0), 0);
	ck_assert_int_eq(xfsm_cg_install(T.inst, 1, &t1), 0);
	xfsm_cg_table_free(&t0);
	xfsm_cg_table_free(&t1);
}

/* From nothing: the raw counts, install_first()'s tables and the pairs
 * check_first() expects (slot 0's groups 0 and 1, slot 1's group 0). */
static void first_counts(void)
{
	clean();
	raw_counts();
	install_first();
	pair_add(0, 0, 10, 1000);
	pair_add(0, 1, 3, 300);
	pair_add(1, 0, 5, 50);
}

/* The counts install_first()'s tables and these pairs make. */
static void check_first(const struct seen *s)
{
	ASSERT_EQ(s->dp.rx_packets, 1 * N + 10 * N, "rx_packets: raw and group 0's packets");
	ASSERT_EQ(s->dp.rx_bytes, 100 * N + 1000 * N, "rx_bytes: raw and group 0's bytes");
	ASSERT_EQ(s->dp.verdict_drop, 3 * N, "verdict_drop: group 1's packets");
	ASSERT_EQ(s->dp.verdict_pass, 0, "a counter no group names");
	ASSERT_EQ(s->st3.packets, 2 * N + 10 * N, "stage 3 packets");
	ASSERT_EQ(s->st3.bytes, 1000 * N, "stage 3 bytes");
	ASSERT_EQ(s->st3.hits, 13 * N, "stage 3 hits: both groups");
	ASSERT_EQ(s->st3.misses, 0, "stage 3 misses");
	ASSERT_EQ(s->st5.packets, 0, "stage 5: no group");
	ASSERT_EQ(s->r7.packets, 4 * N + 10 * N + 5 * N, "rule 7 packets: raw and both slots");
	ASSERT_EQ(s->r7.bytes, 400 * N + 1000 * N, "rule 7 bytes");
	ASSERT_EQ(s->r9.packets, 0, "rule 9: no group");
}

/* (a) Every reader adds the pairs its counter's members name. */
START_TEST(test_cg_readers_add_groups)
{
	struct seen s;

	clean();
	raw_counts();
	install_first();
	pair_add(0, 0, 10, 1000);
	pair_add(0, 1, 3, 300);
	pair_add(0, 2, 50, 5000);	/* a pair no member names */
	pair_add(1, 0, 5, 50);
	pair_add(1, 1, 70, 700);	/* slot 1's group 1: not in its table */
	if (read_all(&s))
		check_first(&s);
	XT_END();
}
END_TEST

/* (b) A new table folds the old groups' counts into their counters; the
 * pairs then count for the new members only; again and again. */
START_TEST(test_cg_install_folds)
{
	struct xfsm_cg_table t = {};
	struct seen s;

	first_counts();

	/* Slot 0's program changes: group 0 now stands for rule 9's
	 * packets, group 1 for the datapath's rx_packets. */
	add(&t, 0, false, RL(9, packets));
	add(&t, 1, false, DP(rx_packets));
	if (!ASSERT_OK(xfsm_cg_install(T.inst, 0, &t), "second install") || !read_all(&s))
		goto out;
	check_first(&s);
	ASSERT_EQ(s.r9.packets, 0, "rule 9 counts from the install on");

	pair_add(0, 0, 2, 20);
	pair_add(0, 1, 4, 40);
	if (!read_all(&s))
		goto out;
	ASSERT_EQ(s.r9.packets, 2 * N, "rule 9: the new group 0");
	ASSERT_EQ(s.r9.bytes, 0, "rule 9 bytes: no member");
	ASSERT_EQ(s.dp.rx_packets, 1 * N + 10 * N + 4 * N, "rx_packets: folded and group 1");
	ASSERT_EQ(s.dp.rx_bytes, 100 * N + 1000 * N, "rx_bytes: folded only");
	ASSERT_EQ(s.dp.verdict_drop, 3 * N, "verdict_drop: folded, group 1 moved on");
	ASSERT_EQ(s.st3.packets, 2 * N + 10 * N, "stage 3 packets: folded");
	ASSERT_EQ(s.st3.hits, 13 * N, "stage 3 hits: folded");
	ASSERT_EQ(s.r7.packets, 4 * N + 10 * N + 5 * N, "rule 7: folded and slot 1's");

	/* A third program without groups: everything stays. */
	if (!ASSERT_OK(xfsm_cg_install(T.inst, 0, NULL), "third install") || !read_all(&s))
		goto out;
	pair_add(0, 0, 100, 100);
	ASSERT_EQ(s.r9.packets, 2 * N, "rule 9: folded");
	ASSERT_EQ(s.dp.rx_packets, 1 * N + 14 * N, "rx_packets: both folds");
	ASSERT_EQ(s.st3.hits, 13 * N, "stage 3 hits");
	ASSERT_EQ(s.r7.packets, 4 * N + 10 * N + 5 * N, "rule 7");
	if (!read_all(&s))
		goto out;
	ASSERT_EQ(s.r9.packets, 2 * N, "rule 9: a pair without a member counts for nobody");

	/* Slot 1's table changes too: its group 0 folds into rule 7. */
	if (!ASSERT_OK(xfsm_cg_install(T.inst, 1, NULL), "slot 1 install") || !read_all(&s))
		goto out;
	pair_add(1, 0, 100, 100);
	if (read_all(&s))
		ASSERT_EQ(s.r7.packets, 4 * N + 10 * N + 5 * N, "rule 7 after slot 1's fold");
out:
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* (b2) An install rebases the pairs the old program can have moved (its
 * table's groups) and no others: an apply's bpf() calls grow with the
 * groups in use, not with the 256 a slot has (test_kill kills a change
 * before each of them). */
static struct xfsm_count_group base_get(__u32 slot, __u32 g)
{
	struct xfsm_count_group v = {};
	__u32 k = slot * XFSM_COUNT_GROUPS + g;

	ck_assert_int_eq(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_CG_BASE], &k, &v), 0);
	return v;
}

static void base_set(__u32 slot, __u32 g, __u64 packets, __u64 bytes)
{
	struct xfsm_count_group v = { .packets = packets, .bytes = bytes };
	__u32 k = slot * XFSM_COUNT_GROUPS + g;

	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_CG_BASE], &k, &v, BPF_ANY),
			 0);
}

START_TEST(test_cg_install_rebases_used_groups)
{
	struct xfsm_cg_table t = {};
	struct xfsm_count_group b;
	struct seen s;

	first_counts();
	/* a baseline no program of slot 0 uses, marked */
	base_set(0, 200, 77, 7700);
	add(&t, 0, false, RL(9, packets));
	add(&t, 2, false, DP(rx_packets));
	if (!ASSERT_OK(xfsm_cg_install(T.inst, 0, &t), "second install"))
		goto out;
	b = base_get(0, 0);
	ASSERT_EQ(b.packets, 10 * N, "group 0 rebased to its pair");
	ASSERT_EQ(b.bytes, 1000 * N, "group 0's bytes rebased");
	b = base_get(0, 1);
	ASSERT_EQ(b.packets, 3 * N, "group 1 rebased to its pair");
	b = base_get(0, 200);
	ASSERT_EQ(b.packets, 77, "a group the old table does not name: left alone");
	ASSERT_EQ(b.bytes, 7700, "its bytes left alone");
	/* group 2 was not the old program's: it still counts from its
	 * baseline (0), as the new member's */
	pair_add(0, 2, 4, 40);
	if (read_all(&s))
		ASSERT_EQ(s.dp.rx_packets, 1 * N + 10 * N + 4 * N,
			  "rx_packets: folded and the new group 2");
	/* the next install names group 2 in the old table: rebased */
	if (ASSERT_OK(xfsm_cg_install(T.inst, 0, NULL), "third install")) {
		b = base_get(0, 2);
		ASSERT_EQ(b.packets, 4 * N, "group 2 rebased once its program is replaced");
		b = base_get(0, 200);
		ASSERT_EQ(b.packets, 77, "group 200 still left alone");
	}
	base_set(0, 200, 0, 0);
out:
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* (c) An index apply gives to a new object forgets what groups folded
 * into it (the old object's). */
START_TEST(test_cg_fresh_index_clears_fold)
{
	struct xfsm_cg_table t = {};
	struct xfsm_stat_idents ids = {};
	const struct xfsm_stat_ident *e;
	struct xfsm_stage_stats ss;
	struct xfsm_rule_stats rs;
	struct xfsm_image img;
	bool used_s[8] = {}, used_r[8] = {};
	unsigned int n_s, n_r;
	__u32 b_slot;
	struct rb b;
	__u32 i;

	clean();
	for (i = 0; i < 8; i++) {
		add(&t, 0, false, SG(i, packets));
		add(&t, 0, false, RL(i, packets));
	}
	/* 7 per CPU in stages and rules 0..7, counted by the groups of the
	 * slot the apply writes: its install folds them, then the indexes
	 * it gives fresh forget theirs. */
	b_slot = 1 - xt_active_slot(&T);
	ck_assert_int_eq(xfsm_cg_install(T.inst, b_slot, &t), 0);
	pair_add(b_slot, 0, 7, 70);

	app_init(&img, 2, XFSM_VERDICT_PASS);
	rb_init(&b, 1);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 2);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	if (!ASSERT_OK(xfsm_apply(T.inst, &img, NULL), "apply") ||
	    !ASSERT_OK(xfsm_read_stat_idents(T.inst, &ids), "identities"))
		goto out;
	for (i = 0; i < ids.n; i++) {
		e = &ids.v[i];
		if (e->index >= 8)
			continue;
		if (e->kind == XFSM_SID_STAGE)
			used_s[e->index] = true;
		else if (e->kind == XFSM_SID_RULE)
			used_r[e->index] = true;
	}
	for (i = 0, n_s = 0, n_r = 0; i < 8; i++) {
		n_s += used_s[i];
		n_r += used_r[i];
	}
	ASSERT_EQ(n_s, 2, "both stages got folded indexes");
	ASSERT_EQ(n_r, 2, "both rules got folded indexes");
	for (i = 0; i < 8; i++) {
		if (!ASSERT_OK(xfsm_read_stage_stats_at(T.inst, i, &ss), "stage") ||
		    !ASSERT_OK(xfsm_read_rule_stats_at(T.inst, i, &rs), "rule"))
			break;
		ASSERT_EQ(ss.packets, used_s[i] ? 0 : 7 * N, "stage: fresh forgets, others keep");
		ASSERT_EQ(rs.packets, used_r[i] ? 0 : 7 * N, "rule: fresh forgets, others keep");
	}
out:
	xfsm_stat_idents_free(&ids);
	xfsm_image_free(&img);
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* (d) stats --reset zeroes pairs, folds and baselines: every count starts
 * again from 0. */
START_TEST(test_cg_reset_zeroes)
{
	struct xfsm_cg_table t = {};
	struct xfsm_cg_fold_key k = {}, next;
	struct xfsm_count_group base;
	struct seen s;
	__u32 key = 1;
	int n = 0;

	first_counts();
	add(&t, 0, false, RL(9, packets));	/* folds slot 0's and rebases at 10 */
	ck_assert_int_eq(xfsm_cg_install(T.inst, 0, &t), 0);
	ck_assert_int_eq(xfsm_reset_stats(T.inst), 0);
	if (!read_all(&s))
		goto out;
	ASSERT_EQ(s.dp.rx_packets, 0, "rx_packets");
	ASSERT_EQ(s.dp.verdict_drop, 0, "verdict_drop");
	ASSERT_EQ(s.st3.hits, 0, "stage 3 hits");
	ASSERT_EQ(s.r7.packets, 0, "rule 7");
	ASSERT_EQ(s.r9.packets, 0, "rule 9");
	ASSERT_OK(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_CG_BASE], &key, &base), "base");
	ASSERT_EQ(base.packets, 0, "a baseline is zeroed");
	while (!bpf_map_get_next_key(T.inst->map_fd[XFSM_M_CG_FOLD], n ? &k : NULL, &next)) {
		ASSERT_TRUE(!next.space && !next.index, "only the sequence count is left");
		k = next;
		n++;
	}
	/* The program counts on from the zeroed pairs, below the old
	 * baseline of 10. */
	pair_add(0, 0, 3, 30);
	if (read_all(&s))
		ASSERT_EQ(s.r9.packets, 3 * N, "rule 9 counts from 0");
out:
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* (e) A table that is not one is refused with nothing changed. */
START_TEST(test_cg_bad_table)
{
	static const struct {
		const char *why;
		struct xfsm_cg_member m;
		__u32 n_groups;
	} bad[] = {
		{ "group beyond the table's", { 2, XFSM_CG_RULE, 0, 9, 0 }, 2 },
		{ "more groups than a slot has", { 0, XFSM_CG_RULE, 0, 9, 0 },
		  XFSM_COUNT_GROUPS + 1 },
		{ "space 0", { 0, 0, 0, 9, 0 }, 1 },
		{ "unknown space", { 0, XFSM_CG_RULE + 1, 0, 9, 0 }, 1 },
		{ "bytes 2", { 0, XFSM_CG_RULE, 2, 9, 0 }, 1 },
		{ "offset not of a word", { 0, XFSM_CG_RULE, 0, 9, 4 }, 1 },
		{ "offset past the rule's struct", { 0, XFSM_CG_RULE, 0, 9, 16 }, 1 },
		{ "offset past the stage's struct",
		  { 0, XFSM_CG_STAGE, 0, 3, sizeof(struct xfsm_stage_stats) }, 1 },
		{ "offset past the datapath's struct",
		  { 0, XFSM_CG_DATAPATH, 0, 0, sizeof(struct xfsm_stats) }, 1 },
		{ "datapath index 1", { 0, XFSM_CG_DATAPATH, 0, 1, 0 }, 1 },
		{ "stage index out of range", { 0, XFSM_CG_STAGE, 0, XFSM_STAGE_STATS_SLOTS, 0 }, 1 },
	};
	struct xfsm_cg_table t = {}, back = {};
	struct seen after;
	unsigned int i;

	first_counts();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xfsm_cg_member ok = { 0, XFSM_CG_RULE, 0, 9, 0 };

		xfsm_cg_table_free(&t);
		add(&t, 0, false, RL(9, packets));
		add(&t, 0, true, RL(9, bytes));
		t.m[0] = ok;
		t.m[1] = bad[i].m;
		t.n_groups = bad[i].n_groups;
		ASSERT_EQ(xfsm_cg_install(T.inst, 0, &t), -EINVAL, bad[i].why);
	}
	xfsm_cg_table_free(&t);
	add(&t, 0, false, RL(T.inst->map_max_entries[XFSM_M_RULE_STATS], packets));
	ASSERT_EQ(xfsm_cg_install(T.inst, 0, &t), -EINVAL, "rule index out of range");
	xfsm_cg_table_free(&t);
	add(&t, 1, false, RL(9, packets));
	add(&t, 1, false, RL(9, packets));
	ASSERT_EQ(xfsm_cg_install(T.inst, 0, &t), -EINVAL, "a counter a group names twice");
	t.m[1].bytes = 1;
	ASSERT_EQ(xfsm_cg_install(T.inst, 0, &t), -EINVAL, "a field a group names twice");
	{
		struct xfsm_cg_table nul = { .m = NULL, .n = 1, .n_groups = 1 };

		ASSERT_EQ(xfsm_cg_install(T.inst, 0, &nul), -EINVAL, "members without an array");
		nul.n = 0;
		nul.n_groups = XFSM_COUNT_GROUPS + 1;
		ASSERT_EQ(xfsm_cg_install(T.inst, 0, &nul), -EINVAL, "no members, too many groups");
	}
	/* Nothing changed: the table, the counts, no fold. */
	if (!read_all(&after))
		goto out;
	check_first(&after);
	if (ASSERT_OK(xfsm_cg_table_read(T.inst, 0, &back), "read the table"))
		ASSERT_EQ(back.n, 9, "slot 0 keeps its table");
	/* Still exact when installed for real afterwards. */
	xfsm_cg_table_free(&t);
	add(&t, 0, false, RL(9, packets));
	if (ASSERT_OK(xfsm_cg_install(T.inst, 0, &t), "a good table") && read_all(&after)) {
		check_first(&after);
		ASSERT_EQ(after.r9.packets, 0, "rule 9 from now on");
	}
out:
	xfsm_cg_table_free(&back);
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* A slot whose stored table cannot be read: its pairs count from the
 * install all the same (what its groups counted is lost, not given to the
 * new table's members). */
START_TEST(test_cg_unreadable_table)
{
	struct xfsm_ids_key k = { .slot = XFSM_IDS_COUNT_GROUPS + 1 };
	struct xfsm_cg_table t = {};
	struct seen s;
	__u32 *chunk = calloc(1, XFSM_IDS_CHUNK);

	clean();
	ck_assert_ptr_nonnull(chunk);
	install_first();
	pair_add(1, 0, 5, 50);
	chunk[0] = 0x47435358U;		/* its magic, */
	chunk[1] = 99;			/* another version */
	chunk[2] = 24;
	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_IDS], &k, chunk, BPF_ANY), 0);
	add(&t, 0, false, RL(9, packets));
	if (ASSERT_OK(xfsm_cg_install(T.inst, 1, &t), "install") && read_all(&s)) {
		ASSERT_EQ(s.r9.packets, 0, "rule 9 counts from the install");
		pair_add(1, 0, 1, 1);
		if (read_all(&s))
			ASSERT_EQ(s.r9.packets, 1 * N, "and on");
	}
	xfsm_cg_table_free(&t);
	free(chunk);
	XT_END();
}
END_TEST

/* A stored table whose member names a group past the table's count is
 * refused when read (readers and installs index pairs and baselines by
 * group); the next install takes the slot's groups for lost and starts
 * them again. */
START_TEST(test_cg_stored_member_out_of_table)
{
	struct xfsm_ids_key k = { .slot = XFSM_IDS_COUNT_GROUPS + 0 };
	char *chunk = calloc(1, XFSM_IDS_CHUNK);
	struct xfsm_cg_table t = {};
	__u16 bad = 9;
	struct seen s;

	clean();
	ck_assert_ptr_nonnull(chunk);
	install_first();	/* slot 0: groups 0 and 1 */
	ck_assert_int_eq(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_IDS], &k, chunk), 0);
	/* the first member's group, after the 24-byte header */
	memcpy(chunk + 24 + offsetof(struct xfsm_cg_member, group), &bad, sizeof(bad));
	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_IDS], &k, chunk, BPF_ANY), 0);
	ASSERT_EQ(xfsm_cg_table_read(T.inst, 0, &t), -EPROTO, "the table is refused");
	ASSERT_EQ(t.n, 0, "and nothing returned");
	if (ASSERT_OK(xfsm_cg_install(T.inst, 0, NULL), "an install over it") && read_all(&s))
		ASSERT_EQ(s.r9.packets, 0, "readers read again");
	xfsm_cg_table_free(&t);
	free(chunk);
	XT_END();
}
END_TEST

static __u64 seq_get(void)
{
	struct xfsm_cg_fold_key k = {};
	struct xfsm_cg_fold f = {};

	bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_CG_FOLD], &k, &f);
	return f.w[0];
}

static bool seq_set(__u64 v)
{
	struct xfsm_cg_fold_key k = {};
	struct xfsm_cg_fold f = { .w = { v } };

	return ASSERT_OK(bpf_map_update_elem(T.inst->map_fd[XFSM_M_CG_FOLD], &k, &f, BPF_ANY),
			 "set the sequence count");
}

/* (f) While the sequence count is odd (a table, baseline or fold being
 * changed) and a writer holds the instance lock, readers wait, and give
 * up with -EAGAIN; even again, they read.  Odd with the lock free (the
 * writer died inside), the first reader ends the odd spell and reads. */
START_TEST(test_cg_seq_odd_retries)
{
	struct xfsm_stats dp;
	struct xfsm_stage_stats ss;
	struct xfsm_rule_stats rs;
	struct seen s;
	int lock;

	first_counts();
	lock = xfsm_instance_lock(T.inst);	/* a writer at work */
	ck_assert_int_ge(lock, 0);
	if (!seq_set(41)) {
		xfsm_instance_unlock(lock);
		goto out;
	}
	ASSERT_EQ(xfsm_read_stats(T.inst, &dp), -EAGAIN, "datapath reader");
	ASSERT_EQ(xfsm_read_stage_stats_at(T.inst, 3, &ss), -EAGAIN, "stage reader");
	ASSERT_EQ(xfsm_read_rule_stats_at(T.inst, 7, &rs), -EAGAIN, "rule reader");
	ASSERT_EQ(seq_get(), 41, "readers leave a live writer's count alone");
	if (!seq_set(42)) {
		xfsm_instance_unlock(lock);
		goto out;
	}
	xfsm_instance_unlock(lock);
	if (read_all(&s))
		check_first(&s);
	/* A writer killed inside: odd, and nobody holds the lock. */
	if (!seq_set(45))
		goto out;
	if (ASSERT_OK(xfsm_read_stats(T.inst, &dp), "a reader after a dead writer"))
		ASSERT_EQ(dp.rx_packets, 1 * N + 10 * N, "it reads the counts");
	ASSERT_EQ(seq_get(), 46, "the reader ended the dead writer's odd spell");
	if (read_all(&s))
		check_first(&s);
	/* A writer finding the count odd (one killed inside) ends it. */
	if (!seq_set(47))
		goto out;
	ASSERT_OK(xfsm_cg_install(T.inst, 1, NULL), "install over an odd count");
	ASSERT_EQ(seq_get(), 48, "even after the install");
	if (read_all(&s))
		check_first(&s);
out:
	XT_END();
}
END_TEST

/* Each instance has a lock of its own: a writer of another instance at
 * work holds up neither a writer of this one nor a reader ending this
 * one's dead write (one lock for the machine did: the reader gave up with
 * -EAGAIN while another instance applied). */
START_TEST(test_cg_lock_per_instance)
{
	struct xt other = {};
	struct xfsm_stats dp;
	struct seen s;
	int lock, mine;

	first_counts();
	if (!ASSERT_OK(xt_open(&other, NULL), "a second instance"))
		goto out;
	lock = xfsm_instance_lock(other.inst);	/* its writer at work */
	ck_assert_int_ge(lock, 0);
	mine = xfsm_instance_trylock(T.inst);
	ASSERT_TRUE(mine >= 0, "this instance's lock is free meanwhile");
	if (mine >= 0) {
		ASSERT_TRUE(xfsm_instance_trylock(T.inst) < 0 && errno == EWOULDBLOCK,
			    "and taken, another file of this process cannot take it");
		xfsm_instance_unlock(mine);
	}
	if (seq_set(45)) {
		if (ASSERT_OK(xfsm_read_stats(T.inst, &dp), "a reader after a dead writer"))
			ASSERT_EQ(dp.rx_packets, 1 * N + 10 * N, "it reads the counts");
		ASSERT_EQ(seq_get(), 46, "it ended the odd spell, the other's lock held");
	}
	xfsm_instance_unlock(lock);
	if (read_all(&s))
		check_first(&s);
	xt_close(&other);
out:
	XT_END();
}
END_TEST

/* A writer installing slot 0's table again and again, the pair counting
 * one more per CPU before each install: written[0] is how many it had
 * added when it started the next step, written[1] when it finished it. */
struct racer {
	struct xfsm_instance *inst;
	unsigned int rounds;
	volatile __u64 started, done;	/* pair packets added, per CPU */
	volatile bool stop;
	int err;
};

static void *race_writer(void *arg)
{
	struct racer *r = arg;
	struct xfsm_cg_table t = {};
	unsigned int i;

	add(&t, 0, false, RL(9, packets));
	for (i = 0; i < r->rounds && !r->err; i++) {
		r->started = i + 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		pair_add(0, 0, 1, 1);
		r->err = xfsm_cg_install(r->inst, 0, &t);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		r->done = i + 1;
	}
	r->stop = true;
	xfsm_cg_table_free(&t);
	return NULL;
}

/* xfsm_cg_install() writes under the instance lock: a reader that finds
 * the count odd and the lock free may end the odd spell, so a writer
 * without it could be taken for dead.  An install waits while another
 * holds the lock, and goes on when it is let go. */
static void *lone_install(void *arg)
{
	struct racer *r = arg;

	r->err = xfsm_cg_install(r->inst, 0, NULL);
	__atomic_store_n(&r->stop, true, __ATOMIC_SEQ_CST);
	return NULL;
}

START_TEST(test_cg_install_takes_lock)
{
	const struct timespec wait = { .tv_nsec = 200 * 1000 * 1000 };
	struct racer r = { .rounds = 1 };
	pthread_t th;
	int lock;

	clean();
	r.inst = T.inst;
	lock = xfsm_instance_lock(T.inst);
	ck_assert_int_ge(lock, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, lone_install, &r), 0);
	nanosleep(&wait, NULL);
	ASSERT_FALSE(__atomic_load_n(&r.stop, __ATOMIC_SEQ_CST),
		     "the install waits for the lock another holds");
	xfsm_instance_unlock(lock);
	pthread_join(th, NULL);
	ASSERT_TRUE(r.stop, "it ran once the lock was free");
	ASSERT_OK(r.err, "the install");
	XT_END();
}
END_TEST

/* Readers racing installs never count a group twice or not at all: each
 * read lies between what the pair had counted before it began and after
 * it ended (the sequence count read again after the read). */
START_TEST(test_cg_reader_races_install)
{
	struct racer r = { .rounds = 1000 };
	struct xfsm_cg_table t = {};
	struct xfsm_rule_stats rs;
	unsigned long reads = 0, bad = 0, again = 0;
	__u64 lo, hi;
	pthread_t th;
	int err;

	clean();
	add(&t, 0, false, RL(9, packets));
	ck_assert_int_eq(xfsm_cg_install(T.inst, 0, &t), 0);
	ck_assert_int_eq(xfsm_instance_open_obj(T.obj, &r.inst), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, race_writer, &r), 0);
	while (!r.stop) {
		lo = r.done;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		err = xfsm_read_rule_stats_at(T.inst, 9, &rs);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		hi = r.started;
		reads++;
		if (err == -EAGAIN) {
			again++;
			continue;
		}
		if (err || rs.packets < lo * N || rs.packets > hi * N) {
			if (!bad++)
				fprintf(stderr, "read %lu: %llu packets, between %llu and %llu (err %d)\n",
					reads, (unsigned long long)rs.packets,
					(unsigned long long)(lo * N), (unsigned long long)(hi * N), err);
		}
	}
	pthread_join(th, NULL);
	ASSERT_OK(r.err, "installs");
	ASSERT_EQ(bad, 0, "reads outside what the pair had counted");
	ASSERT_TRUE(reads > again, "some reads got through");
	if (ASSERT_OK(xfsm_read_rule_stats_at(T.inst, 9, &rs), "last read"))
		ASSERT_EQ(rs.packets, (__u64)r.rounds * N, "every round counted once");
	xfsm_instance_close(r.inst);
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* ---- A small instance: 64 rules per slot ----------------------------------- */

static void small_open(void)
{
	struct xt_opts o = { .profile = XT_NATIVE, .rules_max = 64 };

	suite_open_with(&o);
}


/* Two stages of one rule each, run by datapath mode dp. */
static int apply_two_rules_dp(enum xfsm_datapath dp)
{
	struct xfsm_image img;
	struct rb b;
	int err;

	app_init(&img, 2, XFSM_VERDICT_PASS);
	rb_init(&b, 1);
	err = rb_add(&img, 0, &b);
	if (!err) {
		rb_init(&b, 2);
		err = rb_add(&img, 1, &b);
	}
	if (!err) {
		XFSM_OPTS(xfsm_apply_opts, o, .datapath = dp);

		err = xfsm_apply(T.inst, &img, &o);
	}
	xfsm_image_free(&img);
	return err;
}

/* The generic datapath: a program of its own would bring count groups,
 * which these tests install by hand. */
static int apply_two_rules(void)
{
	return apply_two_rules_dp(XFSM_DP_GENERIC);
}

/* Every counter a table may name has room for its fold: the loader sizes
 * xfsm_cg_fold with the rule statistics. */
START_TEST(test_cg_fold_sized_with_rules)
{
	NEED_T();
	ASSERT_EQ(T.inst->map_max_entries[XFSM_M_RULE_STATS], 128, "rule statistics");
	ASSERT_EQ(T.inst->map_max_entries[XFSM_M_CG_FOLD], XFSM_CG_FOLD_ENTRIES(128),
		  "folds: the datapath's, 16 stages', 128 rules' and the sequence count");
	XT_END();
}
END_TEST

/* An install that fails fails its apply before the switch, and leaves
 * the counts exact; an apply without groups writes nothing of them. */
START_TEST(test_cg_install_failure_fails_apply)
{
	struct xfsm_cg_fold_key k = { .space = 9 }, k4 = { .space = XFSM_CG_RULE };
	struct xfsm_cg_fold f = {};
	struct xfsm_cg_table t = {};
	struct xfsm_ctl before, after;
	struct xfsm_rule_stats rs;
	__u32 b_slot;
	__u64 seq;

	clean();
	if (!ASSERT_OK(apply_two_rules(), "a first application"))
		goto out;
	seq = seq_get();
	if (!ASSERT_OK(apply_two_rules(), "an application without groups"))
		goto out;
	ASSERT_EQ(seq_get(), seq, "it left the sequence count alone");

	b_slot = 1 - xt_active_slot(&T);
	add(&t, 0, false, RL(4, packets));
	add(&t, 0, false, RL(5, packets));
	ck_assert_int_eq(xfsm_cg_install(T.inst, b_slot, &t), 0);
	pair_add(b_slot, 0, 6, 60);
	/* Fill xfsm_cg_fold: rule 4's fold can be added to (it exists),
	 * rule 5's cannot be made, and rule 4's must be put back. */
	k4.index = 4;
	ck_assert_int_eq(bpf_map_update_elem(T.inst->map_fd[XFSM_M_CG_FOLD], &k4, &f, BPF_ANY),
			 0);
	for (k.index = 0; !bpf_map_update_elem(T.inst->map_fd[XFSM_M_CG_FOLD], &k, &f, BPF_ANY);
	     k.index++)
		;
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_int_eq(xfsm_ctl_get(T.inst, &before), 0);
	ASSERT_NEQ(apply_two_rules(), 0, "the apply fails");
	ck_assert_int_eq(xfsm_ctl_get(T.inst, &after), 0);
	ASSERT_EQ(after.active, before.active, "no switch");
	ASSERT_EQ(after.generation, before.generation, "the same application");
	ASSERT_EQ(seq_get() & 1, 0, "the sequence count is even again");
	if (ASSERT_OK(xfsm_read_rule_stats_at(T.inst, 5, &rs), "rule 5"))
		ASSERT_EQ(rs.packets, 6 * N, "slot's groups still counted, once");
	if (ASSERT_OK(xfsm_read_rule_stats_at(T.inst, 4, &rs), "rule 4"))
		ASSERT_EQ(rs.packets, 6 * N, "rule 4's fold put back: counted once");
	ck_assert_int_eq(xfsm_reset_stats(T.inst), 0);	/* the fillers go */
	ASSERT_OK(apply_two_rules(), "with room again, the apply succeeds");
out:
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

/* An apply waits no grace period of its own before it folds the other
 * slot's groups (membarrier() is a synchronize_rcu(): milliseconds per
 * apply): the apply's protocol has waited one since that slot last ran.
 * A child that dies at its first membarrier() applies three times, the
 * third replacing a program that counted with groups. */
START_TEST(test_cg_apply_no_second_grace_period)
{
	struct xfsm_cg_table t = {};
	int status = 0, i;
	pid_t pid;

	clean();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		if (xt_forbid_syscall(__NR_membarrier))
			_exit(2);
		for (i = 0; i < 3; i++)
			if (apply_two_rules_dp(XFSM_DP_SPECIALIZED))
				_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ASSERT_FALSE(WIFSIGNALED(status), "the applies made no membarrier() call");
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status), "three specialized applies");
	/* they did count with groups: the running slot has a table, and the
	 * other slot's (the second apply's) was folded by the third */
	if (ASSERT_OK(xfsm_cg_table_read(T.inst, xt_active_slot(&T), &t), "running table"))
		ASSERT_GE(t.n, 1, "the running program counts with groups");
	xfsm_cg_table_free(&t);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("count_groups");
	TCase *tc = xt_tcase(s, "cg", suite_open_native);

	xfsm_set_log(NULL);
	tcase_add_test(tc, test_cg_readers_add_groups);
	tcase_add_test(tc, test_cg_install_folds);
	tcase_add_test(tc, test_cg_install_rebases_used_groups);
	tcase_add_test(tc, test_cg_fresh_index_clears_fold);
	tcase_add_test(tc, test_cg_reset_zeroes);
	tcase_add_test(tc, test_cg_bad_table);
	tcase_add_test(tc, test_cg_unreadable_table);
	tcase_add_test(tc, test_cg_stored_member_out_of_table);
	tcase_add_test(tc, test_cg_seq_odd_retries);
	tcase_add_test(tc, test_cg_lock_per_instance);
	tcase_add_test(tc, test_cg_reader_races_install);
	tcase_add_test(tc, test_cg_install_takes_lock);
	tc = xt_tcase(s, "cg_small", small_open);
	tcase_add_test(tc, test_cg_fold_sized_with_rules);
	tcase_add_test(tc, test_cg_install_failure_fails_apply);
	tcase_add_test(tc, test_cg_apply_no_second_grace_period);
	return xt_suite_run(s);
}
