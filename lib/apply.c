/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one way an application changes (xfsm_apply_change(), used by apply,
 * rule edits, ACL tables and output groups alike).  The datapath reads
 * xfsm_ctl.active once per packet and from then on only what that
 * application slot names: its stages, each stage's rule buffer
 * (xfsm_stage.rule_buf) and statistics entry (stats_id), the buffer of
 * every ACL table (acl_buf) and output group (group_buf), the counters its
 * rules name.  So:
 *
 *   1. the other slot B is written, and every buffer only B names:
 *      rules with key.slot = B's rule_buf of their stage, ACL sets, groups;
 *      B's source and statistics identities; new statistics entries are
 *      zeroed (no packet uses them);
 *   2. one update of xfsm_ctl makes B the running application: the commit
 *      point;
 *   3. after every packet that may still use the old slot A has finished
 *      (xfsm_sync_rcu), whatever B does not name is cleared: "settling".
 *
 * XFSM_CTLF_DIRTY is set in xfsm_ctl before step 1 and cleared after step
 * 3.  A writer that finds it set knows that one before it died (or failed)
 * in between: it waits for in-flight packets and settles against the
 * running slot before it writes anything, so a half-written B or a left
 * A never mixes with the next application.
 *
 * Flow entries carry their stage's epoch: a stage whose key definition
 * changes gets a new epoch, so old entries can never match new keys, and
 * settling deletes them.
 *
 * The program that runs B (docs/specializer.md) is B's like its tables:
 * the generic program tail-calls xfsm_progs[active slot], so B's
 * specialized program goes into xfsm_progs[B] (or that entry is emptied
 * for the generic datapath) in step 1, and the flip switches application
 * and program together.  It is generated and loaded before anything is
 * written, so that a refusal in specialized mode leaves everything as it
 * was; after settling, the old slot's entry is emptied (no packet can
 * reach it any more) and its program freed.  Where an interface runs one
 * of the instance's programs directly, B's replaces it right after the
 * flip (xfsm_attach_direct()), before the wait that precedes settling.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "apply_internal.h"
#include "xfsm_plan.h"
#include "xfsm_opts.h"
#include "xfsm_appsrc.h"
#include "xfsm_attach.h"
#include "xfsm_datapath.h"
#include "xfsm_spec.h"

#define RULE_BATCH	4096

/* ---- Waiting for in-flight programs ------------------------------------ */

static int sync_outer_fd = -1;
static int sync_inner_fd = -1;

/*
 * An update of a map-in-map from the bpf() syscall ends with
 * synchronize_rcu() (maybe_wait_bpf_programs() in kernel/bpf/syscall.c).
 * XDP programs run inside an RCU read-side section, so when the update
 * returns every program run that started before it has finished.
 */
static int sync_maps_create(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd;

	if (sync_inner_fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xfsm_sync_in",
				    sizeof(__u32), sizeof(__u32), 1, NULL);
		if (fd < 0)
			return fd;
		sync_inner_fd = fd;
	}
	opts.inner_map_fd = sync_inner_fd;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "xfsm_sync",
			    sizeof(__u32), sizeof(__u32), 1, &opts);
	if (fd < 0)
		return fd;
	sync_outer_fd = fd;
	return 0;
}

int xfsm_sync_rcu(void)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	__u32 key = 0, val;
	int err = 0;

	pthread_mutex_lock(&mu);
	if (sync_outer_fd < 0)
		err = sync_maps_create();
	val = sync_inner_fd;
	pthread_mutex_unlock(&mu);
	if (err)
		return err;
	return bpf_map_update_elem(sync_outer_fd, &key, &val, BPF_ANY);
}

/* ---- Settling: clearing what the running slot does not name -------------- */

/* What a settle walks: only what a switch replaced, or all of it. */
struct settle_scope {
	bool	rules;
	bool	flows;
	__u32	acl_tables;
};

static const struct settle_scope settle_all = {
	.rules = true, .flows = true, .acl_tables = (1U << XFSM_ACL_TABLES) - 1,
};

static bool stage_has_rules(const struct xfsm_app *app, __u32 s)
{
	return s < app->n_stages && s < XFSM_MAX_STAGES &&
	       app->stages[s].kind == XFSM_STAGE_XFSM;
}

static bool rule_unnamed(const void *key, const void *value, void *ctx)
{
	const struct xfsm_rule_key *k = key;
	const struct xfsm_app *app = ctx;

	return !stage_has_rules(app, k->stage) || k->slot != app->stages[k->stage].rule_buf;
}

/* Flows of a stage that is gone, is no longer stateful, or whose keys
 * changed (another epoch). */
bool xfsm_flow_is_stale(const void *key, const void *value, void *ctx)
{
	const struct xfsm_flow_key_n *k = key;	/* any table's key's head */
	const struct xfsm_app *app = ctx;

	return !stage_has_rules(app, k->stage) || k->epoch != app->stages[k->stage].epoch;
}

static int settle(struct xfsm_instance *inst, const struct xfsm_app *app,
		  const struct settle_scope *sc)
{
	int err = 0, e;
	long n;

	if (sc->rules) {
		n = xfsm_map_delete_if(inst, XFSM_M_RULES, rule_unnamed, (void *)app);
		if (n < 0) {
			xfsm_log(XFSM_LOG_WARN, "cannot delete rules of the other buffers: %s",
				 strerror((int)-n));
			err = n;
		}
	}
	if (sc->acl_tables && inst->map_fd[XFSM_M_ACL_RULES] >= 0) {
		e = xfsm_acl_settle(inst, app, sc->acl_tables);
		if (e) {
			xfsm_log(XFSM_LOG_WARN, "cannot clear the other ACL buffers: %s",
				 strerror(-e));
			err = err ?: e;
		}
	}
	if (sc->flows) {
		n = xfsm_flows_delete_if(inst, xfsm_flow_is_stale, (void *)app);
		if (n < 0 && n != -EPROTO) {
			xfsm_log(XFSM_LOG_WARN, "cannot delete flows of changed stages: %s",
				 strerror((int)-n));
			err = err ?: n;
		}
		n = xfsm_flows_settle_tables(inst, app);
		if (n < 0) {
			xfsm_log(XFSM_LOG_WARN, "cannot move flows into their stages' tables: %s",
				 strerror((int)-n));
			err = err ?: n;
		}
	}
	return err;
}

/* Read-modify-write of the control block's flags (under the instance
 * lock, as every writer of xfsm_ctl). */
static int ctl_flags(struct xfsm_instance *inst, __u32 set, __u32 clear)
{
	struct xfsm_ctl ctl;
	__u32 zero = 0;
	int err;

	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	ctl.flags = (ctl.flags | set) & ~clear;
	return bpf_map_update_elem(inst->map_fd[XFSM_M_CTL], &zero, &ctl, BPF_ANY);
}

/* Global registers an application sets, computed against the live ones
 * (written right after its switch, or by the writer that recovers it). */
static int write_app_globals(struct xfsm_instance *inst, const struct xfsm_slot_meta *m)
{
	__u64 regs[XFSM_GLOBAL_REGS];
	int err, i;

	if (!m->globals_set && !m->reset_globals)
		return 0;
	err = xfsm_globals_read(inst, regs);
	if (err)
		return err;
	for (i = 0; i < XFSM_GLOBAL_REGS; i++) {
		if (m->globals_set & (1U << i))
			regs[i] = m->globals[i];
		else if (m->reset_globals)
			regs[i] = 0;
	}
	return xfsm_globals_write(inst, regs);
}

/* Interfaces run the active slot's program itself (lib/attach_direct.c);
 * one that cannot runs it through the generic entry, as before. */
static void attach_running(struct xfsm_instance *inst)
{
	int err = xfsm_attach_direct(inst);

	if (err < 0)
		xfsm_log(XFSM_LOG_WARN,
			 "cannot attach the running program to the interfaces (%s): they enter it through the generic program",
			 strerror(-err));
}

/*
 * A writer died or failed between marking the control block dirty and
 * settling.  The running slot is complete (it was written before it became
 * the running one): wait for packets that may still use the other side,
 * clear it, and finish what the running application's switch left undone.
 */
static int recover(struct xfsm_instance *inst, __u32 slot, const struct xfsm_app *app,
		   __u32 flags)
{
	struct xfsm_stat_idents ids;
	struct xfsm_slot_meta meta;
	int err;

	xfsm_log(XFSM_LOG_INFO,
		 "an earlier change of the application did not finish; cleaning up after it");
	/* Killed after its flip, it may have left the other slot's program
	 * attached: the running slot's replaces it before anything of the
	 * other slot is written again, and the wait below covers packets
	 * that were still in it. */
	attach_running(inst);
	err = xfsm_sync_rcu();
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot wait for in-flight packets: %s", strerror(-err));
		return err;
	}
	/* It switched, and died before it set the application's globals. */
	if (flags & XFSM_CTLF_GLOBALS) {
		err = xfsm_slot_meta_read(inst, slot, &ids, &meta);
		if (!err && meta.generation != app->generation)
			err = -ESTALE;
		if (!err)
			err = write_app_globals(inst, &meta);
		if (!err)
			err = ctl_flags(inst, 0, XFSM_CTLF_GLOBALS);
		if (err)
			xfsm_log(XFSM_LOG_WARN, "cannot set the global registers: %s",
				 strerror(-err));
		xfsm_stat_idents_free(&ids);
	}
	err = settle(inst, app, &settle_all);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot clear what an interrupted change left: %s; nothing was changed",
			 strerror(-err));
		return err;
	}
	return ctl_flags(inst, 0, XFSM_CTLF_DIRTY);
}

/* ---- Writing the other side --------------------------------------------- */

static void log_rule_write_error(struct xfsm_instance *inst, int err, size_t done,
				 size_t total)
{
	if (err == -E2BIG || err == -ENOMEM)
		xfsm_log(XFSM_LOG_ERROR,
			 "rule table %s is full after %zu of %zu rules (capacity %u entries for both rule buffers); the running application is unchanged",
			 xfsm_map_names[XFSM_M_RULES], done, total,
			 inst->map_max_entries[XFSM_M_RULES]);
	else
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot write rule %zu of %zu: %s; the running application is unchanged",
			 done + 1, total, strerror(-err));
}

/* An image rule as the datapath runs it: its statistics index, its
 * counters' indexes (the image's id kept for reading it back).  The rule
 * table and the stage's scan list (lib/plan.c) hold the same. */
static void rule_indexes(struct xfsm_rule *v, const __u32 *rule_index,
			 const __u32 *counter_index)
{
	unsigned int a;

	v->image_id = v->rule_id;
	v->rule_id = rule_index[v->rule_id];
	for (a = 0; a < XFSM_MAX_ACTIONS; a++)
		if (v->act[a].type == XFSM_ACT_COUNT)
			v->act[a].arg = counter_index[v->act[a].arg];
}

/* What the table holds for an image rule: its buffer, its indexes. */
static void rule_for_table(const struct xfsm_rule_entry *e, const struct xfsm_app *app,
			   const __u32 *rule_index, const __u32 *counter_index,
			   struct xfsm_rule_key *k, struct xfsm_rule *v)
{
	*k = e->key;
	k->slot = app->stages[e->key.stage].rule_buf;
	*v = e->rule;
	rule_indexes(v, rule_index, counter_index);
}

static int write_rules(struct xfsm_instance *inst, const struct xfsm_image *img,
		       const struct xfsm_plan *plan, const struct xfsm_app *app,
		       const __u32 *rule_index, const __u32 *counter_index)
{
	int fd = inst->map_fd[XFSM_M_RULES], err = 0;
	struct xfsm_rule_key *keys;
	struct xfsm_rule *vals;
	size_t done = 0, n, i, written;
	bool batch = true;

	if (!img->n_rules)
		return 0;
	n = img->n_rules < RULE_BATCH ? img->n_rules : RULE_BATCH;
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (done < img->n_rules) {
		n = img->n_rules - done < RULE_BATCH ? img->n_rules - done : RULE_BATCH;
		for (i = 0; i < n; i++) {
			rule_for_table(&img->rules[done + i], app, rule_index, counter_index,
				       &keys[i], &vals[i]);
			xfsm_plan_rule(plan, keys[i].stage, &vals[i]);
		}
		err = xfsm_map_update_many(fd, keys, vals, n, sizeof(*keys), sizeof(*vals),
					   &batch, &written);
		done += written;
		if (err) {
			log_rule_write_error(inst, err, done, img->n_rules);
			goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

static int write_appsrc(struct xfsm_instance *inst, const struct xfsm_image *img, __u32 slot)
{
	size_t vs = inst->map_value_size[XFSM_M_APPSRC];
	char *buf;
	int err;

	buf = calloc(1, vs ? vs : 1);
	if (!buf)
		return -ENOMEM;
	/* whole (compressed if need be) or marked as not kept: never cut */
	err = xfsm_appsrc_encode(img->source, img->source_len, buf, vs);
	if (err == 1)
		xfsm_log(XFSM_LOG_WARN,
			 "the application source (%zu bytes) does not fit in the datapath's %zu bytes even compressed: it is not kept, so show prints no names and rule add|del are refused",
			 img->source_len, vs - sizeof(__u32));
	if (err >= 0)
		err = bpf_map_update_elem(inst->map_fd[XFSM_M_APPSRC], &slot, buf, BPF_ANY);
	free(buf);
	return err;
}

/* The running slot's source, for a switch that keeps the application. */
static int copy_appsrc(struct xfsm_instance *inst, __u32 from, __u32 to)
{
	size_t vs = inst->map_value_size[XFSM_M_APPSRC];
	char *buf = calloc(1, vs ? vs : 1);
	int err;

	if (!buf)
		return -ENOMEM;
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPSRC], &from, buf);
	if (!err)
		err = bpf_map_update_elem(inst->map_fd[XFSM_M_APPSRC], &to, buf, BPF_ANY);
	free(buf);
	return err;
}

/* Zero statistics entries that start counting for a new object. */
static int zero_entries(struct xfsm_instance *inst, enum xfsm_map_id id,
			const __u32 *idx, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = xfsm_array_zero(inst, id, idx[i], 1);
		if (err)
			return err;
	}
	return 0;
}

/* A fresh stage statistics entry counts from what it holds now: its
 * baseline, as the block it lives in is not written while packets count
 * (abi.h, XFSM_MAP_STAGE_BASE). */
static int rebase_stages(struct xfsm_instance *inst, const __u32 *idx, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = xfsm_stage_stats_rebase(inst, idx[i]);
		if (err)
			return err;
	}
	return 0;
}

static bool stage_keys_equal(const struct xfsm_stage *a, const struct xfsm_stage *b)
{
	const __u8 kf = XFSM_SF_SYMMETRIC | XFSM_SF_SAME_KEYS;

	return (a->flags & kf) == (b->flags & kf) &&
	       !memcmp(a->lookup_words, b->lookup_words, sizeof(a->lookup_words)) &&
	       !memcmp(a->lookup_rev, b->lookup_rev, sizeof(a->lookup_rev)) &&
	       !memcmp(a->update_words, b->update_words, sizeof(a->update_words)) &&
	       !memcmp(a->update_rev, b->update_rev, sizeof(a->update_rev));
}

static int check_instance(struct xfsm_instance *inst)
{
	static const enum xfsm_map_id need[] = {
		XFSM_M_CTL, XFSM_M_APPS, XFSM_M_RULES, XFSM_M_FLOWS, XFSM_M_GLOBALS,
		XFSM_M_STAGE_BASE, XFSM_M_RULE_STATS, XFSM_M_COUNTERS, XFSM_M_APPSRC,
		XFSM_M_IDS,
	};
	unsigned int i;

	if (!inst)
		return -EINVAL;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (inst->map_fd[need[i]] < 0) {
			xfsm_log(XFSM_LOG_ERROR, "instance %s has no map %s",
				 inst->name, xfsm_map_names[need[i]]);
			return -ENOENT;
		}
	}
	if (inst->map_value_size[XFSM_M_APPS] != sizeof(struct xfsm_app) ||
	    inst->map_value_size[XFSM_M_CTL] != sizeof(struct xfsm_ctl) ||
	    inst->map_key_size[XFSM_M_RULES] != sizeof(struct xfsm_rule_key) ||
	    inst->map_value_size[XFSM_M_RULES] != sizeof(struct xfsm_rule) ||
	    inst->map_value_size[XFSM_M_GLOBALS] != sizeof(struct xfsm_globals) ||
	    inst->map_value_size[XFSM_M_COUNTERS] != sizeof(struct xfsm_counter) ||
	    inst->map_key_size[XFSM_M_IDS] != sizeof(struct xfsm_ids_key) ||
	    inst->map_max_entries[XFSM_M_APPS] < XFSM_APP_SLOTS ||
	    inst->map_max_entries[XFSM_M_APPSRC] < XFSM_APP_SLOTS ||
	    inst->map_max_entries[XFSM_M_STAGE_BASE] < XFSM_STAGE_STATS_SLOTS ||
	    (!xfsm_stats_in_block(inst) &&
	     inst->map_max_entries[XFSM_M_STAGE_STATS] < XFSM_STAGE_STATS_SLOTS) ||
	    inst->map_max_entries[XFSM_M_COUNTERS] < XFSM_COUNTER_SLOTS) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s: maps do not match this tool's ABI; reload the datapath with a matching xfsm-loader",
			 inst->name);
		return -EPROTO;
	}
	return 0;
}

/* ---- The switch ------------------------------------------------------------ */

struct change_ctx {
	struct xfsm_instance *inst;
	const struct xfsm_change *chg;
	struct xfsm_ctl ctl;
	__u32	a, b;			/* running slot, slot written */
	struct xfsm_app *old, *app;
	struct xfsm_stat_idents old_ids, ids;
	struct xfsm_slot_meta meta, old_meta;
	struct xfsm_fresh fresh;
	struct xfsm_plan plan;		/* of the image */
	__u32	*rule_index;		/* image rule id -> statistics index */
	__u32	counter_index[XFSM_MAX_COUNTERS];
	struct xfsm_acl_built *acl[XFSM_ACL_TABLES];
	struct settle_scope scope;	/* what the switch replaced */
	__u64	groups_new, groups_gone;
	__u32	mode;			/* enum xfsm_datapath asked for B */
	struct xfsm_emit emit;		/* B's specialized program ... */
	int	prog_fd;		/* ... loaded, -1: the generic datapath */
	struct xfsm_dp_record rec;	/* B's datapath record */
	bool	prog_written;		/* xfsm_progs[B] was changed */
	/* B's count group table: which counters each pair of B's program
	 * stands for, as xfsm_spec_generate() filled it for the program
	 * prepare_program() loads; empty when B runs generic.  Freed with
	 * the context. */
	struct xfsm_cg_table cg;
};

static const char *field_of_word(unsigned int w)
{
	static const struct { const char *name; unsigned int word, n; } f[] = {
#define X(n, w, nw, b) { n, w, nw },
		XFSM_FIELD_LIST(X)
#undef X
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (w >= f[i].word && w < f[i].word + f[i].n)
			return f[i].name;
	return "?";
}

static bool opnd_word_beyond(const struct xfsm_operand *o, unsigned int n_words,
			     unsigned int *w)
{
	if (o->kind != XFSM_OPND_FIELD)
		return false;
	*w = o->index + (o->width == 2 ? 1U : 0U);
	return *w >= n_words;
}

/*
 * The offload profile's field vector is shorter (XFSM_OFFLOAD_FV_WORDS):
 * a field after it would read as 0 there, so an image that keys on,
 * matches or reads one is refused, naming the first such field.
 */
static int check_field_words(const struct xfsm_image *img, unsigned int n_words)
{
	const struct xfsm_app *app = &img->app;
	unsigned int s, i, w = 0;
	const char *where = NULL;
	size_t r;

	for (s = 0; s < app->n_stages && s < XFSM_MAX_STAGES && !where; s++) {
		const struct xfsm_stage *st = &app->stages[s];

		for (i = 0; i < XFSM_KEY_WORDS && !where; i++) {
			const __u8 *k[] = { st->lookup_words, st->lookup_rev,
					    st->update_words, st->update_rev };

			for (size_t j = 0; j < 4 && !where; j++)
				if ((w = k[j][i]) >= n_words)
					where = "a flow key";
		}
		for (i = 0; i < XFSM_MATCH_WORDS && !where; i++)
			if ((w = st->match_words[i]) >= n_words)
				where = "a rule match";
		for (i = 0; i < st->n_conds && i < XFSM_MAX_CONDS && !where; i++)
			if (opnd_word_beyond(&st->conds[i].a, n_words, &w) ||
			    opnd_word_beyond(&st->conds[i].b, n_words, &w))
				where = "a condition";
	}
	for (r = 0; r < img->n_rules && !where; r++) {
		const struct xfsm_rule *ru = &img->rules[r].rule;

		for (i = 0; i < XFSM_MAX_UPDATES && !where; i++)
			if (opnd_word_beyond(&ru->upd[i].a, n_words, &w) ||
			    opnd_word_beyond(&ru->upd[i].b, n_words, &w))
				where = "a register update";
		for (i = 0; i < XFSM_MAX_ACTIONS && !where; i++)
			if (opnd_word_beyond(&ru->act[i].opnd, n_words, &w))
				where = "an action";
	}
	if (!where)
		return 0;
	xfsm_log(XFSM_LOG_ERROR,
		 "%s reads %s (field word %u): the offload profile's field vector ends at word %u; run the application on the native datapath",
		 where, field_of_word(w), w, n_words - 1);
	return -EOPNOTSUPP;
}

/*
 * A compact flow value (xfsm-loader --flow-value compact) is the head of
 * the full one: a state and an idle timeout, no register, no hard
 * timeout.  The datapaths, generic and specialized, would read such a
 * field as 0 and drop writes to it: an image that reads or writes one is
 * refused, naming the first stage and rule that does.
 */
static const char *opnd_needs_full(const struct xfsm_operand *o)
{
	return o->kind == XFSM_OPND_FLOW_REG ? "reads a flow register" : NULL;
}

static const char *rule_needs_full(const struct xfsm_rule *r, unsigned int *which)
{
	unsigned int i;

	if (r->hard_timeout_ms)
		return "sets a hard timeout";
	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];

		*which = i;
		if (u->op == XFSM_UPD_NONE)
			continue;
		if (u->dst_kind == XFSM_OPND_FLOW_REG)
			return "writes a flow register";
		if (opnd_needs_full(&u->a) || opnd_needs_full(&u->b))
			return "reads a flow register in an update";
	}
	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		*which = i;
		if (r->act[i].type != XFSM_ACT_NONE && opnd_needs_full(&r->act[i].opnd))
			return "reads a flow register in an action";
	}
	return NULL;
}

/* The first rule of stage s that uses condition `cond`, -1: none. */
static long rule_using_cond(const struct xfsm_image *img, unsigned int s, unsigned int cond)
{
	const struct xfsm_stage *st = &img->app.stages[s];

	for (size_t r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_key *k = &img->rules[r].key;

		if (k->stage == s && k->tuple < XFSM_MAX_TUPLES &&
		    (st->tuples[k->tuple].cond_mask & (1U << cond)))
			return (long)r;
	}
	return -1;
}

static int check_flow_value_fit(const struct xfsm_image *img)
{
	const struct xfsm_app *app = &img->app;
	const struct xfsm_stat_ident *e;
	struct xfsm_stat_idents ids = {};
	const char *what = NULL;
	char stage[XFSM_SID_NAME_LEN + 8], rule[XFSM_SID_NAME_LEN + 24] = "";
	unsigned int s = 0, which = 0;
	long r = -1;

	for (s = 0; s < app->n_stages && s < XFSM_MAX_STAGES && !what; s++) {
		const struct xfsm_stage *st = &app->stages[s];

		for (which = 0; which < st->n_conds && which < XFSM_MAX_CONDS; which++) {
			if (opnd_needs_full(&st->conds[which].a) ||
			    opnd_needs_full(&st->conds[which].b)) {
				what = "reads a flow register in a condition";
				r = rule_using_cond(img, s, which);
				break;
			}
		}
		if (what)
			break;
	}
	for (size_t i = 0; i < img->n_rules && !what; i++) {
		what = rule_needs_full(&img->rules[i].rule, &which);
		if (what) {
			r = (long)i;
			s = img->rules[i].key.stage;
		}
	}
	if (!what)
		return 0;
	/* named as the statistics name them: the compiler's names, else
	 * positions */
	xfsm_image_idents(img, &ids);
	e = xfsm_stat_idents_find(&ids, XFSM_SID_STAGE, s);
	if (e)
		snprintf(stage, sizeof(stage), "%s", e->name);
	else
		snprintf(stage, sizeof(stage), "#%u", s);
	if (r >= 0) {
		__u32 id = img->rules[r].rule.rule_id;

		e = xfsm_stat_idents_find(&ids, XFSM_SID_RULE, id);
		if (e)
			snprintf(rule, sizeof(rule), ", rule %s", e->name);
		else
			snprintf(rule, sizeof(rule), ", rule #%u", id);
	}
	xfsm_log(XFSM_LOG_ERROR,
		 "stage %s%s %s: the instance was loaded with --flow-value compact, whose "
		 "flows hold a state and an idle timeout only (no registers, no hard "
		 "timeout); reload it with --flow-value full (unload first: flows cannot be "
		 "carried between layouts) or change the application",
		 stage, rule, what);
	xfsm_stat_idents_free(&ids);
	return -EOPNOTSUPP;
}

static int check_change(struct change_ctx *c)
{
	const struct xfsm_change *chg = c->chg;
	struct xfsm_instance *inst = c->inst;
	unsigned int t, g;
	int err;

	if (chg->img) {
		if (chg->img->n_rules && !chg->img->rules)
			return -EINVAL;
		err = xfsm_image_validate(chg->img, inst->build.max_stages,
					  inst->build.max_tuples, inst->max_rules);
		if (err)
			return err;
		if (!inst->max_rules && chg->img->n_rules)
			return -EPROTO;
		if (inst->build.offload) {
			err = check_field_words(chg->img, XFSM_OFFLOAD_FV_WORDS);
			if (err)
				return err;
		}
		if (inst->build.compact_flows) {
			err = check_flow_value_fit(chg->img);
			if (err)
				return err;
		}
	}
	if (chg->acl_tables) {
		if (chg->acl_tables >> XFSM_ACL_TABLES)
			return -EINVAL;
		err = xfsm_acl_check(inst);
		if (err)
			return err;
		for (t = 0; t < XFSM_ACL_TABLES; t++) {
			if (!(chg->acl_tables & (1U << t)))
				continue;
			err = xfsm_acl_prepare(inst, t, chg->acl_rules[t], chg->acl_n[t],
					       &c->acl[t]);
			if (err)
				return err;
		}
	}
	if (chg->groups) {
		err = xfsm_group_check(inst);
		if (err)
			return err;
		for (g = 0; g < XFSM_MAX_GROUPS; g++) {
			const struct xfsm_group *gr = chg->group[g];

			if (!(chg->groups & (1ULL << g)) || !gr)
				continue;
			if (gr->policy >= XFSM_GP__MAX || gr->n_members > XFSM_GROUP_MAX_MEMBERS ||
			    gr->n_slots > XFSM_GROUP_TABLE)
				return -EINVAL;
			/* as xfsm_group_build() makes them: a group built by
			 * hand is held to it too */
			for (unsigned int i = 0; i < gr->n_members; i++) {
				if (gr->members[i] && gr->members[i] < XFSM_MAX_PORTS)
					continue;
				xfsm_log(XFSM_LOG_ERROR,
					 "group %u: member %u is port %u: ports are 1..%d", g, i,
					 gr->members[i], XFSM_MAX_PORTS - 1);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---- Ports ------------------------------------------------------------------ */

/* The ports a rule sends to by number (`output N`; a port read from a
 * register or field is known only per packet). */
static void rule_ports(const struct xfsm_rule *r, bool port[XFSM_MAX_PORTS])
{
	for (unsigned int a = 0; a < XFSM_MAX_ACTIONS; a++) {
		const struct xfsm_action *act = &r->act[a];

		if (act->type == XFSM_ACT_OUTPUT && act->opnd.kind == XFSM_OPND_CONST &&
		    act->opnd.value < XFSM_MAX_PORTS)
			port[act->opnd.value] = true;
	}
}

static void group_ports(const struct xfsm_group *g, bool port[XFSM_MAX_PORTS])
{
	for (unsigned int i = 0; i < g->n_members && i < XFSM_GROUP_MAX_MEMBERS; i++)
		if (g->members[i] < XFSM_MAX_PORTS)
			port[g->members[i]] = true;
}

/* What the running application sends to, read once when asked. */
struct running_ports {
	struct change_ctx *c;
	bool	read;
	bool	port[XFSM_MAX_PORTS];
};

static int mark_running_rule(const void *key, const void *value, void *ctx)
{
	struct running_ports *rp = ctx;

	if (!rule_unnamed(key, value, rp->c->old))
		rule_ports(value, rp->port);
	return 0;
}

static bool running_sends_to(void *ctx, unsigned int port)
{
	struct running_ports *rp = ctx;
	struct change_ctx *c = rp->c;
	struct xfsm_group g;

	if (!rp->read) {
		rp->read = true;
		/* unreadable: nothing excused, the change is refused */
		if (xfsm_map_walk(c->inst, XFSM_M_RULES, mark_running_rule, rp) < 0)
			memset(rp->port, 0, sizeof(rp->port));
		for (unsigned int i = 0; c->inst->map_fd[XFSM_M_GROUPS] >= 0 && i < XFSM_MAX_GROUPS;
		     i++)
			if (!xfsm_group_read_buffer(c->inst, i, (c->old->group_buf >> i) & 1, &g) &&
			    g.generation)
				group_ports(&g, rp->port);
	}
	return rp->port[port];
}

/*
 * The switch may only make the datapath send to ports the instance has
 * (xfsm_apply_opts.unchecked_ports): the `output N` of the image's rules
 * and the members of the groups it writes, other than ports the running
 * application sends to already.  With the application's source, the error
 * names where it sends to the port first.
 */
static int check_ports(struct change_ctx *c)
{
	const struct xfsm_change *chg = c->chg;
	struct running_ports rp = { .c = c };
	bool want[XFSM_MAX_PORTS] = { false };
	char msg[600];
	int err;

	for (size_t r = 0; chg->img && r < chg->img->n_rules; r++)
		rule_ports(&chg->img->rules[r].rule, want);
	for (unsigned int g = 0; g < XFSM_MAX_GROUPS; g++)
		if ((chg->groups & (1ULL << g)) && chg->group[g])
			group_ports(chg->group[g], want);
	err = xfsm_ports_check(c->inst, want, running_sends_to, &rp, chg->port_use, msg,
			       sizeof(msg));
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "%s", msg);
	return err;
}

/* Statistics identities and indexes of the new application. */
static int assign_ids(struct change_ctx *c)
{
	const struct xfsm_image *img = c->chg->img;
	__u32 space[XFSM_SID__COUNT] = {
		[XFSM_SID_STAGE] = XFSM_STAGE_STATS_SLOTS,
		[XFSM_SID_RULE] = c->inst->map_max_entries[XFSM_M_RULE_STATS],
		[XFSM_SID_COUNTER] = XFSM_COUNTER_SLOTS,
	};
	size_t i, k;
	int err;

	err = xfsm_image_idents(img, &c->ids);
	if (err)
		return err;
	err = xfsm_stat_ids_assign(&c->old_ids, &c->ids, space, &c->fresh);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot give the application's objects statistics entries: %s",
			 strerror(-err));
		return err;
	}
	c->rule_index = calloc(c->inst->max_rules ? c->inst->max_rules : 1, sizeof(__u32));
	if (!c->rule_index)
		return -ENOMEM;
	for (i = 0; i < c->ids.n; i++) {
		const struct xfsm_stat_ident *e = &c->ids.v[i];

		switch (e->kind) {
		case XFSM_SID_STAGE:
			if (e->pos < c->app->n_stages)
				c->app->stages[e->pos].stats_id = e->index;
			break;
		case XFSM_SID_COUNTER:
			if (e->pos < XFSM_MAX_COUNTERS)
				c->counter_index[e->pos] = e->index;
			break;
		case XFSM_SID_RULE:
			for (k = e->pos; k < (size_t)e->pos + e->n && k < c->inst->max_rules; k++)
				c->rule_index[k] = e->index;
			break;
		}
	}
	return 0;
}

/* The scan lists' copies of the rules run with the statistics and counter
 * indexes of the rule table's: a packet counts in the same entries
 * whichever path matched it. */
static void plan_indexes(struct change_ctx *c)
{
	struct xfsm_app *app = c->app;
	unsigned int s, i;

	for (s = 0; s < app->n_stages && s < XFSM_MAX_STAGES; s++) {
		struct xfsm_scan *sc = &app->scan[s];

		for (i = 0; sc->enabled && i < sc->n_rules && i < XFSM_SCAN_RULES; i++)
			rule_indexes(&sc->rules[i].rule, c->rule_index, c->counter_index);
	}
}

/* The new slot's descriptor: the image's stages (or the running ones),
 * each stage's rules in the buffer the running slot does not name, the
 * buffers of replaced ACL tables and groups flipped. */
static void build_app(struct change_ctx *c)
{
	const struct xfsm_change *chg = c->chg;
	const struct xfsm_image *img = chg->img;
	const struct xfsm_app *old = c->old;
	struct xfsm_app *app = c->app;
	__u32 s, t;

	*app = *old;
	if (img) {
		bool keep_flows = !chg->flush_flows;

		memcpy(app, &img->app, offsetof(struct xfsm_app, group_buf));
		/* The datapath takes the time at arrival only when asked to:
		 * ask whenever the application reads meta.time (hand-built
		 * images too). */
		app->flags |= xfsm_image_meta_flags(img) & XFSM_AF_NEEDS_TIME;
		/* Fast paths (lib/plan.c); the scan lists' rules get their
		 * indexes with the table's (plan_indexes()). */
		xfsm_image_plan(img, &c->plan);
		xfsm_plan_app(&c->plan, img, app, 0);
		for (s = 0; s < app->n_stages; s++) {
			struct xfsm_stage *st = &app->stages[s];
			const struct xfsm_stage *os = &old->stages[s];

			if (!(keep_flows && stage_has_rules(old, s) && stage_keys_equal(st, os)))
				st->epoch = os->epoch + 1;
			else
				st->epoch = os->epoch;
			st->rule_buf = stage_has_rules(old, s) ? !os->rule_buf : 0;
		}
		c->scope.rules = true;
		/* The flow table is walked only when a stage that may have
		 * flows loses them (keys changed, stage gone or not
		 * stateful any more) or moves them into a narrower table
		 * (planned before there was one: xfsm_flows_settle_tables()). */
		for (s = 0; s < XFSM_MAX_STAGES; s++)
			if (stage_has_rules(old, s) &&
			    (!stage_has_rules(app, s) || app->stages[s].epoch != old->stages[s].epoch ||
			     ((app->stages[s].flags & XFSM_SF_TABLE) &&
			      (app->stages[s].flags & XFSM_SF_TABLE) !=
			      (old->stages[s].flags & XFSM_SF_TABLE))))
				c->scope.flows = true;
	}
	for (t = 0; t < XFSM_ACL_TABLES; t++)
		if (chg->acl_tables & (1U << t))
			app->acl_buf[t] = !(old->acl_buf[t] & 1);
	app->group_buf = old->group_buf ^ chg->groups;
	app->generation = c->ctl.generation + 1;
	c->scope.acl_tables = chg->acl_tables;
}

static int write_groups(struct change_ctx *c)
{
	const struct xfsm_change *chg = c->chg;
	struct xfsm_group cur;
	unsigned int g;
	int err;

	for (g = 0; g < XFSM_MAX_GROUPS; g++) {
		__u32 gen = 0;

		if (!(chg->groups & (1ULL << g)))
			continue;
		if (!xfsm_group_read_buffer(c->inst, g, (c->old->group_buf >> g) & 1, &cur))
			gen = cur.generation;
		if (chg->group[g] && !gen)
			c->groups_new |= 1ULL << g;
		if (!chg->group[g] && gen)
			c->groups_gone |= 1ULL << g;
		err = xfsm_group_write_buffer(c->inst, g, (c->app->group_buf >> g) & 1,
					      chg->group[g], chg->group[g] ? gen + 1 : 0);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot write output group %u: %s", g,
				 strerror(-err));
			return err;
		}
		/* A new group starts with no statistics.  Before the switch
		 * only drops counted against the absent group can be lost. */
		if (c->groups_new & (1ULL << g))
			xfsm_group_forget(c->inst, g);
	}
	return 0;
}

/* ---- The program that runs the new slot ------------------------------------ */

/* The mode the switch is asked for: given, or the running slot's. */
static __u32 resolve_mode(struct change_ctx *c)
{
	struct xfsm_dp_record r;
	__u32 mode = XFSM_DP_AUTO;

	if (c->chg->datapath_set)
		return c->chg->datapath;
	if (!xfsm_dp_record_read(c->inst, c->a, &r, false) &&
	    r.generation == c->old->generation && r.mode < XFSM_DP_KEEP)
		mode = r.mode;
	return mode;
}

struct rules_buf {
	struct xfsm_rule_key *keys;
	struct xfsm_rule *vals;
	size_t	n, cap;
};

static int rules_add(struct rules_buf *rb, const struct xfsm_rule_key *k,
		     const struct xfsm_rule *v)
{
	if (rb->n == rb->cap) {
		size_t cap = rb->cap ? rb->cap * 2 : 64;
		struct xfsm_rule_key *nk = realloc(rb->keys, cap * sizeof(*nk));
		struct xfsm_rule *nv;

		if (!nk)
			return -ENOMEM;
		rb->keys = nk;
		nv = realloc(rb->vals, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		rb->vals = nv;
		rb->cap = cap;
	}
	rb->keys[rb->n] = *k;
	rb->vals[rb->n] = *v;
	rb->n++;
	return 0;
}

/* Every rule of the new slot as the rule table holds it (or will). */
static int slot_rules(struct change_ctx *c, struct rules_buf *rb)
{
	const struct xfsm_image *img = c->chg->img;
	struct xfsm_spec_input running;
	struct xfsm_rule_key k;
	struct xfsm_rule v;
	size_t i;
	int err;

	if (!img) {
		/* The running rules stay: B names the buffers A does. */
		err = xfsm_spec_input_read(c->inst, c->a, &running);
		if (err)
			return err;
		rb->keys = (struct xfsm_rule_key *)running.keys;
		rb->vals = (struct xfsm_rule *)running.rules;
		rb->n = rb->cap = running.n_rules;
		xfsm_spec_input_acl_free(&running);
		free((void *)running.app);
		return 0;
	}
	for (i = 0; i < img->n_rules; i++) {
		rule_for_table(&img->rules[i], c->app, c->rule_index, c->counter_index, &k, &v);
		xfsm_plan_rule(&c->plan, k.stage, &v);
		err = rules_add(rb, &k, &v);
		if (err)
			return err;
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Said once per process: an instance without xfsm_progs is not news on
 * every rule edit. */
static void note_no_progs(struct xfsm_instance *inst)
{
	static bool said;

	if (said || inst->build.offload)
		return;
	said = true;
	xfsm_log(XFSM_LOG_WARN,
		 "instance %s has no %s map (loaded by an older xfsm-loader): it runs the generic datapath; reload it to specialize",
		 inst->name, XFSM_MAP_PROGS);
}

static bool generic_entry_present(struct xfsm_instance *inst)
{
	__u32 key = XFSM_PROGS_GENERIC, id = 0;

	return !bpf_map_lookup_elem(inst->map_fd[XFSM_M_PROGS], &key, &id) && id;
}

/*
 * Generate and load B's program, before anything is written.  Auto falls
 * back to the generic datapath (c->prog_fd -1, c->rec.why saying why);
 * specialized fails the change.  Nothing in the kernel changes here but a
 * new, unreferenced program.
 */
static int prepare_program(struct change_ctx *c)
{
	struct xfsm_instance *inst = c->inst;
	struct xfsm_spec_input in = { .app = c->app, .slot = c->b };
	struct rules_buf rb = {};
	struct xfsm_dp_record *r = &c->rec;
	char name[16];
	__u64 t0, t1;
	int err = 0, fd;

	c->mode = resolve_mode(c);
	r->generation = c->app->generation;
	r->mode = c->mode;
	if (inst->map_fd[XFSM_M_PROGS] < 0) {
		snprintf(r->why, sizeof(r->why), "%s", inst->build.offload ?
			 "the offload profile runs the generic datapath only" :
			 "the datapath has no " XFSM_MAP_PROGS " map (loaded by an older xfsm-loader)");
		if (c->mode == XFSM_DP_SPECIALIZED) {
			xfsm_log(XFSM_LOG_ERROR, "cannot run the application specialized: %s",
				 r->why);
			return -EOPNOTSUPP;
		}
		if (c->mode == XFSM_DP_AUTO)
			note_no_progs(inst);
		return 0;
	}
	if (c->mode == XFSM_DP_GENERIC) {
		snprintf(r->why, sizeof(r->why), "the generic datapath was asked for (--datapath generic)");
		return 0;
	}
	/* A specialized program hands what it does not handle to entry 2: no
	 * program there (a datapath attached by other means than xfsm-loader,
	 * e.g. ip link, whose array the kernel also empties when this process
	 * ends), no specialization. */
	if (!generic_entry_present(inst)) {
		snprintf(r->why, sizeof(r->why),
			 "%s[%u] holds no generic program (the datapath was not loaded by xfsm-loader): a specialized program could not hand back the packets it does not handle",
			 XFSM_MAP_PROGS, XFSM_PROGS_GENERIC);
		if (c->mode == XFSM_DP_SPECIALIZED) {
			xfsm_log(XFSM_LOG_ERROR, "cannot run the application specialized: %s",
				 r->why);
			return -EOPNOTSUPP;
		}
		return 0;
	}
	err = slot_rules(c, &rb);
	if (err) {
		snprintf(r->why, sizeof(r->why), "cannot read the rules: %s", strerror(-err));
		goto fail;
	}
	if (rb.n > XFSM_SPEC_MAX_RULES) {
		err = -E2BIG;
		snprintf(r->why, sizeof(r->why),
			 "%zu rules, more than the specializer takes (%u, XFSM_SPEC_MAX_RULES)",
			 rb.n, XFSM_SPEC_MAX_RULES);
		goto fail;
	}
	in.keys = rb.keys;
	in.rules = rb.vals;
	in.n_rules = rb.n;
	err = xfsm_spec_input_acl(inst, &in, c->acl);
	if (err) {
		snprintf(r->why, sizeof(r->why), "cannot read the ACL rules: %s", strerror(-err));
		goto fail;
	}
	in.groups = &c->cg;
	t0 = now_ns();
	err = xfsm_spec_generate(inst, &in, &c->emit);	/* finished when 0 */
	t1 = now_ns();
	r->generate_ns = t1 - t0;
	if (err) {
		snprintf(r->why, sizeof(r->why), "%s",
			 c->emit.why[0] ? c->emit.why : strerror(-err));
		goto fail;
	}
	snprintf(name, sizeof(name), XFSM_SPEC_PROG_PREFIX "%u", c->b);
	fd = xfsm_emit_load(&c->emit, name);
	r->load_ns = now_ns() - t1;
	if (fd < 0) {
		err = fd;
		snprintf(r->why, sizeof(r->why), "%s",
			 c->emit.why[0] ? c->emit.why : strerror(-err));
		goto fail;
	}
	c->prog_fd = fd;
	r->specialized = true;
	r->prog_id = xfsm_fd_id(fd);
	r->n_insns = c->emit.n;
	r->why[0] = 0;
	goto out;
fail:
	/* no program of B's: no groups */
	c->cg.n = 0;
	c->cg.n_groups = 0;
	if (c->mode == XFSM_DP_SPECIALIZED) {
		xfsm_log(XFSM_LOG_ERROR, "cannot run the application specialized: %s", r->why);
		goto out;
	}
	/* Auto: what the specializer does not handle runs generic (show says
	 * why); anything else is a fault worth a warning. */
	xfsm_log(err == -EOPNOTSUPP || err == -E2BIG ? XFSM_LOG_INFO : XFSM_LOG_WARN,
		 "the generic datapath runs the application: %s", r->why);
	err = 0;
out:
	xfsm_spec_input_acl_free(&in);
	free(rb.keys);
	free(rb.vals);
	return err;
}

/* B's entry of xfsm_progs, and its record; in step 1. */
static int install_program(struct change_ctx *c)
{
	struct xfsm_instance *inst = c->inst;
	int fd = inst->map_fd[XFSM_M_PROGS], err = 0;

	if (fd >= 0) {
		c->prog_written = true;
		if (c->prog_fd >= 0)
			err = bpf_map_update_elem(fd, &c->b, &c->prog_fd, BPF_ANY);
		else if (bpf_map_delete_elem(fd, &c->b) && errno != ENOENT)
			err = -errno;
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot set %s[%u]: %s", XFSM_MAP_PROGS, c->b,
				 strerror(-err));
			return err;
		}
	}
	err = xfsm_dp_record_write(inst, c->b, &c->rec, c->prog_fd >= 0 ? &c->emit : NULL);
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot store the datapath record of slot %u: %s",
			 c->b, strerror(-err));
	return err;
}

/* Step 1: everything into the other side.  Returns 0 or a negative errno
 * (the caller settles against the running slot). */
static int write_other_side(struct change_ctx *c)
{
	struct xfsm_instance *inst = c->inst;
	const struct xfsm_change *chg = c->chg;
	unsigned int t;
	int err;

	/* B's pairs to B's new program: first, so that what B's old groups
	 * fold into an index given fresh below is cleared with it.  No
	 * packet is in B's old program: B was written only after the wait
	 * that followed its last switch away (or recover()'s). */
	err = xfsm_cg_install_quiet(inst, c->b, &c->cg);
	if (err)
		return err;
	err = rebase_stages(inst, c->fresh.index[XFSM_SID_STAGE], c->fresh.n[XFSM_SID_STAGE]);
	if (!err)
		err = xfsm_cg_fold_clear(inst, XFSM_CG_STAGE, c->fresh.index[XFSM_SID_STAGE],
					 c->fresh.n[XFSM_SID_STAGE]);
	if (!err)
		err = zero_entries(inst, XFSM_M_RULE_STATS, c->fresh.index[XFSM_SID_RULE],
				   c->fresh.n[XFSM_SID_RULE]);
	if (!err)
		err = xfsm_cg_fold_clear(inst, XFSM_CG_RULE, c->fresh.index[XFSM_SID_RULE],
					 c->fresh.n[XFSM_SID_RULE]);
	if (!err)
		err = zero_entries(inst, XFSM_M_COUNTERS, c->fresh.index[XFSM_SID_COUNTER],
				   c->fresh.n[XFSM_SID_COUNTER]);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot zero the statistics of new objects: %s",
			 strerror(-err));
		return err;
	}
	if (chg->img) {
		err = write_rules(inst, chg->img, &c->plan, c->app, c->rule_index,
				  c->counter_index);
		if (err)
			return err;
	}
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (!(chg->acl_tables & (1U << t)))
			continue;
		err = xfsm_acl_write_buffer(inst, t, c->app->acl_buf[t], c->acl[t],
					    c->app->generation);
		if (err)
			return err;
	}
	err = write_groups(c);
	if (err)
		return err;
	err = bpf_map_update_elem(inst->map_fd[XFSM_M_APPS], &c->b, c->app, BPF_ANY);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot write the application to slot %u: %s",
			 c->b, strerror(-err));
		return err;
	}
	err = chg->img ? write_appsrc(inst, chg->img, c->b) : copy_appsrc(inst, c->a, c->b);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot store the application source: %s",
			 strerror(-err));
		return err;
	}
	c->meta.generation = c->app->generation;
	if (chg->img) {
		c->meta.globals_set = chg->img->globals_set;
		c->meta.reset_globals = chg->reset_globals;
		memcpy(c->meta.globals, chg->img->globals, sizeof(c->meta.globals));
		/* A rule edit keeps the tables and groups as they are. */
		c->meta.flags = chg->complete ? XFSM_SLOT_COMPLETE :
						c->old_meta.flags & XFSM_SLOT_COMPLETE;
	}
	err = xfsm_slot_meta_write(inst, c->b, chg->img ? &c->ids : &c->old_ids, &c->meta);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot store the statistics identities: %s",
			 strerror(-err));
		return err;
	}
	return install_program(c);
}

/* Step 2: the commit point.  The control block is read again so that
 * fields others maintain (offload clock, malformed verdict) are kept as
 * they are now; a changed slot means a writer that bypassed
 * xfsm_instance_lock(), and nothing is switched. */
static int flip(struct change_ctx *c)
{
	struct xfsm_ctl now;
	__u32 zero = 0;
	int err;

	err = xfsm_ctl_get(c->inst, &now);
	if (!err && (now.active != c->ctl.active || now.generation != c->ctl.generation)) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s changed during the apply (another tool installed an application); nothing was switched",
			 xfsm_map_names[XFSM_M_CTL]);
		return -EBUSY;
	}
	if (err)
		return err;
	now.active = c->b;
	now.generation = c->app->generation;
	now.flags |= XFSM_CTLF_DIRTY;
	if (c->meta.globals_set || c->meta.reset_globals)
		now.flags |= XFSM_CTLF_GLOBALS;
	err = bpf_map_update_elem(c->inst->map_fd[XFSM_M_CTL], &zero, &now, BPF_ANY);
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot switch to the new application: %s",
			 strerror(-err));
	return err;
}

/* Step 3, and what follows the switch. */
static void after_flip(struct change_ctx *c)
{
	struct xfsm_instance *inst = c->inst;
	unsigned int g;
	int err;

	/* B's program replaces A's on the interfaces before the wait below,
	 * which then also covers the packets still in A's program: after it,
	 * A's entry can be emptied and its leftovers settled. */
	attach_running(inst);
	if (c->meta.globals_set || c->meta.reset_globals) {
		err = write_app_globals(inst, &c->meta);
		if (!err)
			err = ctl_flags(inst, 0, XFSM_CTLF_GLOBALS);
		if (err)
			xfsm_log(XFSM_LOG_WARN, "cannot set the global registers: %s",
				 strerror(-err));
	}
	err = xfsm_sync_rcu();
	if (err) {
		xfsm_log(XFSM_LOG_WARN,
			 "cannot wait for in-flight packets (%s); the next change clears the old application",
			 strerror(-err));
		return;
	}
	if (settle(inst, c->app, &c->scope))
		return;		/* DIRTY stays: the next writer settles again */
	for (g = 0; g < XFSM_MAX_GROUPS; g++)
		if (c->groups_gone & (1ULL << g))
			xfsm_group_forget(inst, g);
	/* No packet reaches the old slot's program any more: free it. */
	if (inst->map_fd[XFSM_M_PROGS] >= 0 &&
	    bpf_map_delete_elem(inst->map_fd[XFSM_M_PROGS], &c->a) && errno != ENOENT)
		xfsm_log(XFSM_LOG_WARN, "cannot empty %s[%u]: %s", XFSM_MAP_PROGS, c->a,
			 strerror(errno));
	err = ctl_flags(inst, 0, XFSM_CTLF_DIRTY);
	if (err)
		xfsm_log(XFSM_LOG_WARN, "cannot mark the switch finished: %s", strerror(-err));
}

int xfsm_apply_change(struct xfsm_instance *inst, const struct xfsm_change *chg)
{
	struct change_ctx c = { .inst = inst, .chg = chg, .prog_fd = -1 };
	int lock = -1, err;
	unsigned int t;

	xfsm_emit_init(&c.emit);

	err = check_instance(inst);
	if (err)
		return err;
	if (!chg)
		return -EINVAL;
	err = check_change(&c);
	if (err)
		goto out;
	c.old = calloc(1, sizeof(*c.old));
	c.app = calloc(1, sizeof(*c.app));
	if (!c.old || !c.app) {
		err = -ENOMEM;
		goto out;
	}
	lock = xfsm_instance_lock(inst);
	err = xfsm_ctl_get(inst, &c.ctl);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot read %s: %s", xfsm_map_names[XFSM_M_CTL],
			 strerror(-err));
		goto out;
	}
	c.a = c.ctl.active;
	if (c.a >= XFSM_APP_SLOTS) {
		xfsm_log(XFSM_LOG_ERROR, "%s names slot %u; the control block is corrupt",
			 xfsm_map_names[XFSM_M_CTL], c.a);
		err = -EPROTO;
		goto out;
	}
	c.b = 1 - c.a;
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], &c.a, c.old);
	if (err)
		goto out;
	if (c.ctl.flags & XFSM_CTLF_DIRTY) {
		err = recover(inst, c.a, c.old, c.ctl.flags);
		if (err)
			goto out;
		c.ctl.flags &= ~XFSM_CTLF_DIRTY;
	}

	/* The running identities: what keeps its statistics.  Unreadable
	 * (none yet, or damaged): every object starts at 0. */
	err = xfsm_slot_meta_read(inst, c.a, &c.old_ids, &c.old_meta);
	if (!err && c.old_ids.generation != c.old->generation)
		err = -ESTALE;
	if (err) {
		memset(&c.old_meta, 0, sizeof(c.old_meta));
		if (c.old->n_stages)
			xfsm_log(XFSM_LOG_WARN,
				 "the running application's statistics identities are unreadable (%s): its counters start again at 0",
				 strerror(-err));
		xfsm_stat_idents_free(&c.old_ids);
	}
	if (!chg->unchecked_ports) {
		err = check_ports(&c);
		if (err)
			goto out;
	}
	build_app(&c);
	if (chg->img) {
		err = assign_ids(&c);
		if (err)
			goto out;
		plan_indexes(&c);
	}
	err = prepare_program(&c);
	if (err)
		goto out;

	err = ctl_flags(inst, XFSM_CTLF_DIRTY, 0);
	if (err)
		goto out;
	c.ctl.flags |= XFSM_CTLF_DIRTY;
	err = write_other_side(&c);
	if (!err)
		err = flip(&c);
	if (err) {
		/* Nothing switched: the other side was never in use (flows
		 * are made only by the running application). */
		c.scope.flows = false;
		if (c.prog_written)
			bpf_map_delete_elem(inst->map_fd[XFSM_M_PROGS], &c.b);
		if (!settle(inst, c.old, &c.scope) && ctl_flags(inst, 0, XFSM_CTLF_DIRTY))
			xfsm_log(XFSM_LOG_WARN, "cannot mark the control block clean");
		goto out;
	}
	after_flip(&c);
out:
	xfsm_instance_unlock(lock);
	for (t = 0; t < XFSM_ACL_TABLES; t++)
		xfsm_acl_built_free(c.acl[t]);
	xfsm_stat_idents_free(&c.old_ids);
	xfsm_stat_idents_free(&c.ids);
	xfsm_fresh_free(&c.fresh);
	if (c.prog_fd >= 0)
		close(c.prog_fd);	/* xfsm_progs holds it now, or nothing does */
	xfsm_emit_free(&c.emit);
	xfsm_cg_table_free(&c.cg);
	free(c.rule_index);
	free(c.old);
	free(c.app);
	return err;
}

int xfsm_change_opts(struct xfsm_change *chg, const struct xfsm_apply_opts *opts)
{
	int err = XFSM_OPTS_CHECK(opts, xfsm_apply_opts);

	if (err)
		return err;
	chg->flush_flows = XFSM_OPTS_GET(opts, flush_flows, false);
	chg->reset_globals = XFSM_OPTS_GET(opts, reset_globals, false);
	chg->force = XFSM_OPTS_GET(opts, force, false);
	chg->datapath = XFSM_OPTS_GET(opts, datapath, XFSM_DP_AUTO);
	if (chg->datapath >= XFSM_DP__MAX)
		return -EINVAL;
	chg->datapath_set = chg->datapath != XFSM_DP_KEEP;
	chg->unchecked_ports = XFSM_OPTS_GET(opts, unchecked_ports, false);
	chg->rules_only = XFSM_OPTS_GET(opts, rules_only, false);
	return 0;
}

int xfsm_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
	       const struct xfsm_apply_opts *opts)
{
	struct xfsm_change chg = { .img = img };
	int err;

	if (!img)
		return -EINVAL;
	err = xfsm_change_opts(&chg, opts);
	if (err)
		return err;
	return xfsm_apply_change(inst, &chg);
}

bool xfsm_change_keeps_datapath(struct xfsm_instance *inst, const struct xfsm_change *chg)
{
	struct xfsm_dp_record r;
	__u32 slot;
	bool same;

	if (!chg->datapath_set)
		return true;
	if (xfsm_dp_running(inst, &slot, &r, false))
		return false;
	/* No record: the slot was switched before there were modes (auto). */
	same = r.mode == chg->datapath;
	xfsm_dp_record_free(&r);
	return same;
}

/* ---- Reading the running application --------------------------------- */

bool xfsm_slot_complete(struct xfsm_instance *inst, __u32 slot, __u32 generation)
{
	struct xfsm_stat_idents ids;
	struct xfsm_slot_meta meta;
	bool complete;

	if (xfsm_slot_meta_read(inst, slot, &ids, &meta))
		return false;
	complete = meta.generation == generation && (meta.flags & XFSM_SLOT_COMPLETE);
	xfsm_stat_idents_free(&ids);
	return complete;
}

int xfsm_running_slot(struct xfsm_instance *inst, __u32 *slot, struct xfsm_app *app)
{
	struct xfsm_ctl ctl;
	int err;

	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	if (ctl.active >= XFSM_APP_SLOTS)
		return -EPROTO;
	*slot = ctl.active;
	if (app && bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], slot, app))
		return -errno;
	return 0;
}

int xfsm_running_app_read(struct xfsm_instance *inst, struct xfsm_app **app)
{
	__u32 slot;
	int err;

	*app = malloc(sizeof(**app));
	if (!*app)
		return -ENOMEM;
	err = xfsm_running_slot(inst, &slot, *app);
	if (err) {
		free(*app);
		*app = NULL;
	}
	return err;
}

struct read_ctx {
	struct xfsm_image *img;
	__u32	counter_pos[XFSM_COUNTER_SLOTS];	/* index -> image number */
	int	err;
};

static int read_rule(const void *key, const void *value, void *arg)
{
	const struct xfsm_rule_key *k = key;
	struct read_ctx *rc = arg;
	struct xfsm_image *img = rc->img;
	struct xfsm_rule_entry *e;
	unsigned int a;

	if (rule_unnamed(key, value, &img->app))
		return 0;
	e = xfsm_image_new_entry(img);
	if (!e)
		return -ENOMEM;
	img->n_rules++;
	e->key = *k;
	e->key.slot = 0;
	memcpy(&e->rule, value, sizeof(e->rule));
	xfsm_plan_clear_rule(&e->rule);		/* derived: planned again on apply */
	/* As the image had it: its rule id, its counter numbers. */
	e->rule.rule_id = e->rule.image_id;
	e->rule.image_id = 0;
	for (a = 0; a < XFSM_MAX_ACTIONS; a++)
		if (e->rule.act[a].type == XFSM_ACT_COUNT && e->rule.act[a].arg < XFSM_COUNTER_SLOTS)
			e->rule.act[a].arg = rc->counter_pos[e->rule.act[a].arg];
	return 0;
}

static int cmp_rule_id(const void *pa, const void *pb)
{
	const struct xfsm_rule_entry *a = pa, *b = pb;

	if (a->rule.rule_id != b->rule.rule_id)
		return a->rule.rule_id < b->rule.rule_id ? -1 : 1;
	return 0;
}

int xfsm_read_app(struct xfsm_instance *inst, struct xfsm_image *img)
{
	struct read_ctx rc = { .img = img };
	struct xfsm_ctl ctl;
	char *src = NULL;
	size_t vs;
	int lock, err;

	if (!img)
		return -EINVAL;
	xfsm_image_init(img);
	err = check_instance(inst);
	if (err)
		return err;
	lock = xfsm_instance_lock(inst);
	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		goto out;
	if (ctl.active >= XFSM_APP_SLOTS) {
		err = -EPROTO;
		goto out;
	}
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], &ctl.active, &img->app);
	if (err)
		goto out;
	xfsm_plan_clear_app(&img->app);	/* derived: planned again on apply */
	/* The identities come along (a re-applied image keeps its names). */
	if (!xfsm_slot_meta_read(inst, ctl.active, &img->idents, NULL) &&
	    img->idents.generation == img->app.generation) {
		for (size_t i = 0; i < img->idents.n; i++) {
			const struct xfsm_stat_ident *e = &img->idents.v[i];

			if (e->kind == XFSM_SID_COUNTER && e->index < XFSM_COUNTER_SLOTS)
				rc.counter_pos[e->index] = e->pos;
		}
	} else {
		xfsm_stat_idents_free(&img->idents);
	}
	err = xfsm_map_walk(inst, XFSM_M_RULES, read_rule, &rc);
	if (err)
		goto out;
	if (img->n_rules > 1)
		qsort(img->rules, img->n_rules, sizeof(img->rules[0]), cmp_rule_id);

	vs = inst->map_value_size[XFSM_M_APPSRC];
	src = calloc(1, vs + 1);
	if (!src) {
		err = -ENOMEM;
		goto out;
	}
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPSRC], &ctl.active, src);
	if (err)
		goto out;
	err = xfsm_appsrc_decode(src, vs, &img->source, &img->source_len);
	if (err == -EFBIG)
		err = 0;	/* not kept: source NULL, source_len its length */
	if (err)
		goto out;
	/* Current values, for show; not marked to be written back. */
	err = xfsm_globals_read(inst, img->globals);
out:
	xfsm_instance_unlock(lock);
	free(src);
	if (err)
		xfsm_image_free(img);
	return err;
}
