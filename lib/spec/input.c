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

void xfsm_spec_input_free(struct xfsm_spec_input *in)
{
	if (!in)
		return;
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
	return 0;
fail:
	free(app);
	free(keys);
	free(rules);
	return err;
}
