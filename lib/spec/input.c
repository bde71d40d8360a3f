// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The specializer's input read back from an instance's maps: the slot's
 * application as written (planned, statistics indexes given) and the rules
 * its stateful stages' rule buffers hold.  A change that carries no image
 * (a rule edit applied in place) regenerates from this.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "xfsm_acl.h"
#include "xfsm_spec.h"

/* Does a rule under key `k` belong to a stateful stage of `app`? */
static bool rule_of_app(const struct xfsm_app *app, const struct xfsm_rule_key *k)
{
	const struct xfsm_stage *st;

	if (k->stage >= app->n_stages || k->stage >= XFSM_MAX_STAGES)
		return false;
	st = &app->stages[k->stage];
	return st->kind == XFSM_STAGE_XFSM && k->slot == st->rule_buf;
}

void xfsm_spec_input_acl_free(struct xfsm_spec_input *in)
{
	unsigned int t;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		free((void *)in->acl[t]);
		in->acl[t] = NULL;
		in->acl_n[t] = 0;
		memset(&in->acl_set[t], 0, sizeof(in->acl_set[t]));
	}
	in->acl_given = 0;
}

/* Table t's rules from buffer `buf` of the instance's maps. */
static int acl_read_buffer(struct xfsm_instance *inst, unsigned int t, unsigned int buf,
			   struct xfsm_spec_input *in)
{
	struct xfsm_acl_entry *r;
	struct xfsm_acl_set set;
	__u32 k = t * 2 + (buf & 1), i, idx;

	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, &set))
		return -errno;
	in->acl_n[t] = set.n_rules;
	in->acl_set[t] = set;
	in->acl_given |= 1U << t;
	if (!set.n_rules)
		return 0;
	r = calloc(set.n_rules, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < set.n_rules; i++) {
		idx = set.rule_base + i;
		if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_ACL_RULES], &idx, &r[i])) {
			int err = -errno;

			free(r);
			return err;
		}
	}
	in->acl[t] = r;
	return 0;
}

int xfsm_spec_input_acl(struct xfsm_instance *inst, struct xfsm_spec_input *in,
			struct xfsm_acl_built *const *built)
{
	const struct xfsm_app *app = in->app;
	unsigned int s, t;
	int err;

	for (s = 0; s < app->n_stages && s < XFSM_MAX_STAGES; s++) {
		if (app->stages[s].kind != XFSM_STAGE_ACL)
			continue;
		t = app->stages[s].acl_table;
		if (t >= XFSM_ACL_TABLES || (in->acl_given & (1U << t)))
			continue;
		if (inst->map_fd[XFSM_M_ACL_SETS] < 0 || inst->map_fd[XFSM_M_ACL_RULES] < 0)
			return 0;	/* no ACL maps: the generator refuses the stage */
		if (built && built[t]) {
			const struct xfsm_acl_set *set = xfsm_acl_built_set(built[t]);
			struct xfsm_acl_entry *r = NULL;
			struct xfsm_acl_ctl ctl;
			unsigned int b = app->acl_buf[t] & 1;

			/* the descriptor xfsm_acl_write_buffer() will write
			 * into buffer b: the built set in b's regions */
			err = xfsm_acl_ctl_get(inst, t, &ctl, NULL);
			if (err)
				return err;
			in->acl_given |= 1U << t;
			in->acl_n[t] = set->n_rules;
			in->acl_set[t] = *set;
			in->acl_set[t].rule_base = ctl.rule_base + b * ctl.rule_cap;
			in->acl_set[t].node_base = ctl.node_base + b * ctl.node_cap;
			if (!set->n_rules)
				continue;
			r = malloc(set->n_rules * sizeof(*r));
			if (!r)
				return -ENOMEM;
			memcpy(r, xfsm_acl_built_rules(built[t]), set->n_rules * sizeof(*r));
			in->acl[t] = r;
			continue;
		}
		err = acl_read_buffer(inst, t, app->acl_buf[t], in);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot read ACL table %u: %s", t, strerror(-err));
			return err;
		}
	}
	return 0;
}

void xfsm_spec_input_free(struct xfsm_spec_input *in)
{
	if (!in)
		return;
	xfsm_spec_input_acl_free(in);
	free((void *)in->app);
	free((void *)in->keys);
	free((void *)in->rules);
	memset(in, 0, sizeof(*in));
}

int xfsm_spec_input_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_spec_input *in)
{
	struct xfsm_rule_key key, next, *keys = NULL;
	struct xfsm_rule *rules = NULL;
	struct xfsm_app *app = NULL;
	size_t n = 0, cap = 0;
	int fd, err, step;

	memset(in, 0, sizeof(*in));
	if (!inst || slot >= XFSM_APP_SLOTS)
		return -EINVAL;
	app = calloc(1, sizeof(*app));
	if (!app)
		return -ENOMEM;
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], &slot, app)) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "cannot read application slot %u: %s", slot,
			 strerror(-err));
		goto fail;
	}
	fd = inst->map_fd[XFSM_M_RULES];
	for (step = bpf_map_get_next_key(fd, NULL, &next); !step;
	     step = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (!rule_of_app(app, &key))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			void *k2 = realloc(keys, ncap * sizeof(*keys));

			if (k2)
				keys = k2;
			void *r2 = k2 ? realloc(rules, ncap * sizeof(*rules)) : NULL;

			if (!r2) {
				err = -ENOMEM;
				goto fail;
			}
			rules = r2;
			cap = ncap;
		}
		if (bpf_map_lookup_elem(fd, &key, &rules[n])) {
			if (errno == ENOENT)
				continue;	/* deleted while walking */
			err = -errno;
			xfsm_log(XFSM_LOG_ERROR, "cannot read a rule of slot %u: %s", slot,
				 strerror(-err));
			goto fail;
		}
		keys[n++] = key;
	}
	if (step != -ENOENT) {
		err = step < 0 ? step : -EIO;
		xfsm_log(XFSM_LOG_ERROR, "cannot walk the rule table: %s", strerror(-err));
		goto fail;
	}
	in->app = app;
	in->slot = slot;
	in->keys = keys;
	in->rules = rules;
	in->n_rules = n;
	err = xfsm_spec_input_acl(inst, in, NULL);
	if (err) {
		xfsm_spec_input_free(in);
		return err;
	}
	return 0;
fail:
	free(app);
	free(keys);
	free(rules);
	return err;
}
