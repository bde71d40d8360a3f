/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Atomic application install.  The datapath reads xfsm_ctl.active once per
 * packet and then only looks at that slot's application and rules, so:
 *
 *   1. write everything into the inactive slot B (rules with key.slot = B,
 *      apps[B], appsrc[B]); a failure here deletes slot B's rules again and
 *      the running application never saw a thing;
 *   2. flip xfsm_ctl to B with one map update: the commit point;
 *   3. wait for every packet that may still be using slot A
 *      (xfsm_sync_rcu), then delete slot A's rules.
 *
 * Flow entries carry their stage's epoch: a stage whose key definition
 * changes gets a new epoch, so old entries can never match new keys, and
 * they are deleted once the flip is done.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "xfsm_plan.h"
#include "xfsm_opts.h"

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

/* ---- Rules of one slot ---------------------------------------------------- */

static bool rule_in_slot(const void *key, const void *value, void *ctx)
{
	const struct xfsm_rule_key *k = key;

	return k->slot == *(const __u8 *)ctx;
}

static long delete_slot_rules(struct xfsm_instance *inst, __u8 slot)
{
	return xfsm_map_delete_if(inst, XFSM_M_RULES, rule_in_slot, &slot);
}

static void log_rule_write_error(struct xfsm_instance *inst, int err, size_t done,
				 size_t total)
{
	if (err == -E2BIG || err == -ENOMEM)
		xfsm_log(XFSM_LOG_ERROR,
			 "rule table %s is full after %zu of %zu rules (capacity %u entries for both application slots); the running application is unchanged",
			 xfsm_map_names[XFSM_M_RULES], done, total,
			 inst->map_max_entries[XFSM_M_RULES]);
	else
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot write rule %zu of %zu: %s; the running application is unchanged",
			 done + 1, total, strerror(-err));
}

/* Write every rule of the image into slot `slot`. */
static int write_rules(struct xfsm_instance *inst, const struct xfsm_image *img, __u8 slot)
{
	int fd = inst->map_fd[XFSM_M_RULES], err = 0;
	struct xfsm_rule_key *keys;
	struct xfsm_rule *vals;
	size_t done = 0, n, i, written;
	struct xfsm_plan plan;
	bool batch = true;

	if (!img->n_rules)
		return 0;
	xfsm_image_plan(img, &plan);
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
			keys[i] = img->rules[done + i].key;
			keys[i].slot = slot;
			vals[i] = img->rules[done + i].rule;
			xfsm_plan_rule(&plan, keys[i].stage, &vals[i]);
			/* the datapath indexes rule stats with this as is */
			vals[i].rule_id += slot * inst->max_rules;
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
	size_t vs = inst->map_value_size[XFSM_M_APPSRC], len = img->source_len;
	char *buf;
	__u32 l;
	int err;

	if (vs < sizeof(__u32))
		return -EPROTO;
	buf = calloc(1, vs);
	if (!buf)
		return -ENOMEM;
	if (!img->source)
		len = 0;
	if (len > vs - sizeof(__u32)) {
		xfsm_log(XFSM_LOG_WARN,
			 "application source is %zu bytes, only the first %zu are kept for show",
			 len, vs - sizeof(__u32));
		len = vs - sizeof(__u32);
	}
	l = len;
	memcpy(buf, &l, sizeof(l));
	if (len)
		memcpy(buf + sizeof(l), img->source, len);
	err = bpf_map_update_elem(inst->map_fd[XFSM_M_APPSRC], &slot, buf, BPF_ANY);
	free(buf);
	return err;
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

struct stale_ctx {
	bool	drop_all[XFSM_MAX_STAGES];	/* stage removed */
	bool	check[XFSM_MAX_STAGES];		/* keys changed */
	__u16	epoch[XFSM_MAX_STAGES];		/* the new epoch */
};

static bool flow_is_stale(const void *key, const void *value, void *arg)
{
	const struct xfsm_flow_key *k = key;
	const struct stale_ctx *c = arg;

	if (k->stage >= XFSM_MAX_STAGES)
		return false;
	return c->drop_all[k->stage] || (c->check[k->stage] && k->epoch != c->epoch[k->stage]);
}

/* One walk of the flow table for every stage whose keys changed or that
 * is gone. */
static long delete_stale_flows(struct xfsm_instance *inst, const struct xfsm_app *old,
			       const struct xfsm_app *app, const bool *changed)
{
	struct stale_ctx c = {};
	bool any = false;
	__u32 s;

	for (s = 0; s < XFSM_MAX_STAGES; s++) {
		if (s < app->n_stages && changed[s]) {
			c.check[s] = true;
			c.epoch[s] = app->stages[s].epoch;
			any = true;
		} else if (s >= app->n_stages && s < old->n_stages) {
			c.drop_all[s] = true;
			any = true;
		}
	}
	if (!any || inst->map_key_size[XFSM_M_FLOWS] != sizeof(struct xfsm_flow_key))
		return 0;
	return xfsm_map_delete_if(inst, XFSM_M_FLOWS, flow_is_stale, &c);
}

static int check_instance(struct xfsm_instance *inst)
{
	static const enum xfsm_map_id need[] = {
		XFSM_M_CTL, XFSM_M_APPS, XFSM_M_RULES, XFSM_M_FLOWS,
		XFSM_M_GLOBALS, XFSM_M_RULE_STATS, XFSM_M_APPSRC,
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
	    inst->map_max_entries[XFSM_M_APPS] < XFSM_APP_SLOTS ||
	    inst->map_max_entries[XFSM_M_APPSRC] < XFSM_APP_SLOTS) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s: maps do not match this tool's ABI; reload the datapath with a matching xfsm-loader",
			 inst->name);
		return -EPROTO;
	}
	return 0;
}

int xfsm_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
	       const struct xfsm_apply_opts *opts)
{
	bool keep_flows = !XFSM_OPTS_GET(opts, flush_flows, false);
	bool reset_globals = XFSM_OPTS_GET(opts, reset_globals, false);
	__u64 old_regs[XFSM_GLOBAL_REGS], new_regs[XFSM_GLOBAL_REGS];
	struct xfsm_plan plan;
	bool changed[XFSM_MAX_STAGES] = {}, globals_written = false;
	struct xfsm_app *old = NULL, *app = NULL;
	__u32 zero = 0, a, b, s, i;
	struct xfsm_ctl ctl, flip;
	int lock = -1, err;
	long n;

	err = XFSM_OPTS_CHECK(opts, xfsm_apply_opts) ?: check_instance(inst);
	if (err)
		return err;
	if (!img || (img->n_rules && !img->rules))
		return -EINVAL;
	err = xfsm_image_validate(img, inst->build.max_stages, inst->build.max_tuples,
				  inst->max_rules);
	if (err)
		return err;

	old = calloc(1, sizeof(*old));
	app = calloc(1, sizeof(*app));
	if (!old || !app) {
		err = -ENOMEM;
		goto out;
	}
	lock = xfsm_instance_lock(inst);
	err = xfsm_ctl_get(inst, &ctl);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot read %s: %s", xfsm_map_names[XFSM_M_CTL],
			 strerror(-err));
		goto out;
	}
	a = ctl.active;
	if (a >= XFSM_APP_SLOTS) {
		xfsm_log(XFSM_LOG_ERROR, "%s names slot %u; the control block is corrupt",
			 xfsm_map_names[XFSM_M_CTL], a);
		err = -EPROTO;
		goto out;
	}
	b = 1 - a;
	err = bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], &a, old);
	if (err)
		goto out;

	*app = img->app;
	/* The datapath takes the time at arrival only when asked to: ask
	 * whenever the application reads meta.time (hand-built images too). */
	app->flags |= xfsm_image_meta_flags(img) & XFSM_AF_NEEDS_TIME;
	xfsm_image_plan(img, &plan);
	xfsm_plan_app(&plan, img, app, b * inst->max_rules);
	app->generation = ctl.generation + 1;
	for (s = 0; s < app->n_stages; s++) {
		struct xfsm_stage *st = &app->stages[s];
		const struct xfsm_stage *os = &old->stages[s];

		if (keep_flows && s < old->n_stages && stage_keys_equal(st, os)) {
			st->epoch = os->epoch;
		} else {
			st->epoch = os->epoch + 1;
			changed[s] = true;
		}
	}

	/* Slot B may hold rules of an apply that failed after its flip. */
	n = delete_slot_rules(inst, b);
	if (n < 0) {
		err = n;
		xfsm_log(XFSM_LOG_ERROR, "cannot clear application slot %u: %s", b,
			 strerror(-err));
		goto out;
	}
	err = xfsm_array_zero(inst, XFSM_M_RULE_STATS, b * inst->max_rules, inst->max_rules);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot reset the rule statistics of slot %u: %s",
			 b, strerror(-err));
		goto out;
	}
	err = write_rules(inst, img, b);
	if (err)
		goto rollback;
	err = bpf_map_update_elem(inst->map_fd[XFSM_M_APPS], &b, app, BPF_ANY);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot write the application to slot %u: %s",
			 b, strerror(-err));
		goto rollback;
	}
	err = write_appsrc(inst, img, b);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot store the application source: %s",
			 strerror(-err));
		goto rollback;
	}

	/* Globals have no slots: they change just before the flip. */
	if (img->globals_set || reset_globals) {
		err = xfsm_globals_read(inst, old_regs);
		if (err)
			goto rollback;
		for (i = 0; i < XFSM_GLOBAL_REGS; i++) {
			if (img->globals_set & (1U << i))
				new_regs[i] = img->globals[i];
			else
				new_regs[i] = reset_globals ? 0 : old_regs[i];
		}
		err = xfsm_globals_write(inst, new_regs);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot set the global registers: %s",
				 strerror(-err));
			goto rollback;
		}
		globals_written = true;
	}

	/* The commit point: one update of the control block.  Re-read it so
	 * that fields others maintain (offload clock, malformed verdict) are
	 * kept as they are now; a changed slot means a writer that bypassed
	 * xfsm_instance_lock(), and nothing is switched. */
	err = xfsm_ctl_get(inst, &flip);
	if (!err && (flip.active != ctl.active || flip.generation != ctl.generation)) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s changed during the apply (another tool installed an application); nothing was switched",
			 xfsm_map_names[XFSM_M_CTL]);
		err = -EBUSY;
	}
	if (err)
		goto rollback;
	flip.active = b;
	flip.generation = ctl.generation + 1;
	err = bpf_map_update_elem(inst->map_fd[XFSM_M_CTL], &zero, &flip, BPF_ANY);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot switch to the new application: %s",
			 strerror(-err));
		goto rollback;
	}

	/* From here on the new application runs: problems are only warnings. */
	err = xfsm_sync_rcu();
	if (err) {
		xfsm_log(XFSM_LOG_WARN,
			 "cannot wait for in-flight packets (%s); the old rules stay until the next apply",
			 strerror(-err));
		err = 0;
		goto out;
	}
	n = delete_slot_rules(inst, a);
	if (n < 0)
		xfsm_log(XFSM_LOG_WARN, "cannot delete the old application's rules: %s",
			 strerror((int)-n));
	n = delete_stale_flows(inst, old, app, changed);
	if (n < 0)
		xfsm_log(XFSM_LOG_WARN, "cannot delete flows of changed stages: %s",
			 strerror((int)-n));
	err = 0;
	goto out;

rollback:
	if (globals_written && xfsm_globals_write(inst, old_regs))
		xfsm_log(XFSM_LOG_WARN, "cannot restore the global registers");
	n = delete_slot_rules(inst, b);
	if (n < 0)
		xfsm_log(XFSM_LOG_WARN, "cannot remove the partly written slot %u: %s",
			 b, strerror((int)-n));
out:
	xfsm_instance_unlock(lock);
	free(old);
	free(app);
	return err;
}

/* ---- Reading the running application --------------------------------- */

struct read_ctx {
	struct xfsm_image *img;
	__u32	slot;
	__u32	id_base;
	int	err;
};

static int read_rule(const void *key, const void *value, void *arg)
{
	const struct xfsm_rule_key *k = key;
	struct read_ctx *rc = arg;
	struct xfsm_image *img = rc->img;
	struct xfsm_rule_entry *e;

	if (k->slot != rc->slot)
		return 0;
	if (img->n_rules == img->cap_rules) {
		size_t cap = img->cap_rules ? img->cap_rules * 2 : 64;

		e = realloc(img->rules, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		img->rules = e;
		img->cap_rules = cap;
	}
	e = &img->rules[img->n_rules++];
	e->key = *k;
	e->key.slot = 0;
	memcpy(&e->rule, value, sizeof(e->rule));
	xfsm_plan_clear_rule(&e->rule);		/* derived: planned again on apply */
	if (e->rule.rule_id >= rc->id_base)
		e->rule.rule_id -= rc->id_base;
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
	__u32 len;
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
	rc.slot = ctl.active;
	rc.id_base = ctl.active * inst->max_rules;
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
	memcpy(&len, src, sizeof(len));
	if (len > vs - sizeof(len))
		len = vs - sizeof(len);
	if (len) {
		img->source = malloc(len + 1);
		if (!img->source) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(img->source, src + sizeof(len), len);
		img->source[len] = '\0';
		img->source_len = len;
	}
	/* Current values, for show; not marked to be written back. */
	err = xfsm_globals_read(inst, img->globals);
out:
	xfsm_instance_unlock(lock);
	free(src);
	if (err)
		xfsm_image_free(img);
	return err;
}
