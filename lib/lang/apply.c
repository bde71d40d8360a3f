/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Applying a compiled application (xfsm_lang_apply()): one switch of its
 * stages, rules, ACL tables and output groups, or nothing at all when the
 * running application is the same one.  Not a compiler pass: it runs on
 * the image and names the driver returns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lang.h"
#include "apply_internal.h"
#include "xfsm_appsrc.h"
#include "xfsm_group.h"

static bool str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/*
 * What the compiler made of two sources, compared (both fresh compiles:
 * the same bytes for the same application).  The whole xfsm_app and every
 * table entry count, so a stage's table-full policy (full_action) and
 * every action with its operands (NAT addresses and ports, ip.ttl, VLAN
 * push and pop, ARP reply) are part of the identity.
 */
static bool image_same(const struct xfsm_image *a, const struct xfsm_image *b)
{
	size_t i;

	if (memcmp(&a->app, &b->app, sizeof(a->app)) || a->n_rules != b->n_rules ||
	    a->globals_set != b->globals_set || a->idents.n != b->idents.n)
		return false;
	if (a->n_rules && memcmp(a->rules, b->rules, a->n_rules * sizeof(a->rules[0])))
		return false;
	for (i = 0; i < XFSM_GLOBAL_REGS; i++)
		if ((a->globals_set & (1U << i)) && a->globals[i] != b->globals[i])
			return false;
	for (i = 0; i < a->idents.n; i++) {
		const struct xfsm_stat_ident *x = &a->idents.v[i], *y = &b->idents.v[i];

		if (x->kind != y->kind || x->pos != y->pos || x->n != y->n ||
		    strcmp(x->name, y->name))
			return false;
	}
	return true;
}

/* The names tools show, compared; where they stand in the source (lines,
 * offsets) does not count. */
static bool names_same(const struct xfsm_app_names *a, const struct xfsm_app_names *b)
{
	unsigned int s, i;
	size_t r;

	if (strcmp(a->app, b->app) || a->n_stages != b->n_stages || a->n_rules != b->n_rules ||
	    a->n_counters != b->n_counters || a->acl_tables != b->acl_tables ||
	    a->groups_declared != b->groups_declared ||
	    memcmp(a->ports, b->ports, sizeof(a->ports)) ||
	    memcmp(a->counters, b->counters, sizeof(a->counters)) ||
	    memcmp(a->globals, b->globals, sizeof(a->globals)))
		return false;
	for (s = 0; s < a->n_stages && s < XFSM_MAX_STAGES; s++) {
		const struct xfsm_stage_names *x = &a->stages[s], *y = &b->stages[s];

		if (strcmp(x->name, y->name) || x->n_lookup_fields != y->n_lookup_fields ||
		    x->n_update_fields != y->n_update_fields ||
		    x->n_match_fields != y->n_match_fields ||
		    memcmp(x->lookup_fields, y->lookup_fields, sizeof(x->lookup_fields)) ||
		    memcmp(x->update_fields, y->update_fields, sizeof(x->update_fields)) ||
		    memcmp(x->match_fields, y->match_fields, sizeof(x->match_fields)) ||
		    x->symmetric != y->symmetric || x->same_keys != y->same_keys ||
		    x->table_size != y->table_size || x->table_kind != y->table_kind ||
		    x->n_states != y->n_states ||
		    memcmp(x->states, y->states, sizeof(x->states)) ||
		    memcmp(x->conds, y->conds, sizeof(x->conds)) ||
		    memcmp(x->regs, y->regs, sizeof(x->regs)))
			return false;
		for (i = 0; i < XFSM_MAX_CONDS; i++)
			if (!str_same(x->cond_text[i], y->cond_text[i]))
				return false;
	}
	for (r = 0; r < a->n_rules; r++) {
		const struct xfsm_rule_names *x = &a->rules[r], *y = &b->rules[r];

		if (x->stage != y->stage || x->rule_id != y->rule_id ||
		    x->priority != y->priority || x->n_entries != y->n_entries ||
		    strcmp(x->name, y->name) || !str_same(x->text, y->text))
			return false;
	}
	for (i = 0; i < XFSM_ACL_TABLES; i++) {
		const struct xfsm_acl_rules *x = &a->acl[i], *y = &b->acl[i];

		if (!(a->acl_tables & (1U << i)))
			continue;
		if (x->n != y->n || (x->n && memcmp(x->r, y->r, x->n * sizeof(x->r[0]))))
			return false;
	}
	for (i = 0; i < XFSM_MAX_GROUPS; i++) {
		const struct xfsm_group_decl *x = &a->groups[i], *y = &b->groups[i];

		if (!(a->groups_declared & (1ULL << i)))
			continue;
		if (strcmp(x->name, y->name) || x->policy != y->policy ||
		    x->n_members != y->n_members || memcmp(x->ports, y->ports, sizeof(x->ports)) ||
		    memcmp(x->weights, y->weights, sizeof(x->weights)) ||
		    memcmp(x->macs, y->macs, sizeof(x->macs)))
			return false;
	}
	return true;
}

/*
 * 1 when what runs is what img and names describe (XFSM_APPLY_UNCHANGED's
 * rule, xfsm_lang.h): the running slot is complete and the source it keeps
 * compiles to the same; 0 when not, or when that cannot be told (then the
 * switch happens, which is always right).  Decided under the instance
 * lock, so no other writer switches in between.
 */
static int running_same(struct xfsm_instance *inst, const struct xfsm_image *img,
			const struct xfsm_app_names *names)
{
	size_t vs = inst->map_value_size[XFSM_M_APPSRC], len = 0;
	struct xfsm_app_names *old_names = NULL;
	char *val = NULL, *src = NULL, msg[256];
	struct xfsm_image old;
	struct xfsm_ctl ctl;
	int lock, same = 0;

	xfsm_image_init(&old);
	lock = xfsm_instance_lock(inst);
	/* an interrupted switch is finished by a switch */
	if (xfsm_ctl_get(inst, &ctl) || (ctl.flags & XFSM_CTLF_DIRTY) ||
	    ctl.active >= XFSM_APP_SLOTS || !xfsm_slot_complete(inst, ctl.active, ctl.generation))
		goto out;
	val = calloc(1, vs + 1);
	if (!val || bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPSRC], &ctl.active, val) ||
	    xfsm_appsrc_decode(val, vs, &src, &len) || !src)
		goto out;
	old_names = calloc(1, sizeof(*old_names));
	if (!old_names ||
	    xfsm_compile_string("<running>", src, len, &old, old_names, msg, sizeof(msg))) {
		free(old_names);
		old_names = NULL;
		goto out;
	}
	same = image_same(img, &old) && names_same(names, old_names);
out:
	xfsm_instance_unlock(lock);
	if (old_names) {
		xfsm_app_names_free(old_names);
		free(old_names);
	}
	xfsm_image_free(&old);
	free(src);
	free(val);
	return same;
}

/* What the offload profile cannot run at all: output fib (no
 * bpf_fib_lookup, no redirect off the device) and fetch_add() (no
 * fetching atomics: two packets could take the same value). */
static int offload_refuses(const struct xfsm_image *img)
{
	for (size_t r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule *rule = &img->rules[r].rule;

		for (int i = 0; i < XFSM_MAX_ACTIONS; i++)
			if (rule->act[i].type == XFSM_ACT_OUTPUT_FIB) {
				xfsm_log(XFSM_LOG_ERROR,
					 "the offload profile cannot run 'output fib' (no kernel FIB lookup and no redirect on the device): attach in native mode to forward by the routing table");
				return -EOPNOTSUPP;
			}
		for (int i = 0; i < XFSM_MAX_UPDATES; i++)
			if (rule->upd[i].op == XFSM_UPD_FETCH_ADD) {
				xfsm_log(XFSM_LOG_ERROR,
					 "the offload profile cannot run fetch_add() (no atomic fetch-and-add there): attach in native mode");
				return -EOPNOTSUPP;
			}
	}
	return 0;
}

/* A port the running application's source also sends to. */
static bool running_port_use(void *ctx, unsigned int port)
{
	const struct xfsm_app_names *running = ctx;

	return running && running->port_use[port];
}

int xfsm_lang_check_ports(struct xfsm_instance *inst, const struct xfsm_app_names *names,
			  const struct xfsm_app_names *running, char *msg, size_t len)
{
	bool want[XFSM_MAX_PORTS];

	if (!inst || !names)
		return -EINVAL;
	for (unsigned int p = 0; p < XFSM_MAX_PORTS; p++)
		want[p] = names->port_use[p] != NULL;
	return xfsm_ports_check(inst, want, running_port_use, (void *)running, names->port_use,
				msg, len);
}

int xfsm_lang_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
		    const struct xfsm_app_names *names, const struct xfsm_apply_opts *opts)
{
	struct xfsm_change chg = { .img = img };
	struct xfsm_group *groups = NULL, prev;
	unsigned int t, g;
	int err;

	if (!inst || !img || !names)
		return -EINVAL;
	err = xfsm_change_opts(&chg, opts);
	if (err)
		return err;
	chg.port_use = names->port_use;
	if (inst->build.offload) {
		err = offload_refuses(img);
		if (err)
			return err;
	}
	/* A rule edit: stages and rules switch, always (as xfsm_apply()). */
	if (chg.rules_only)
		return xfsm_apply_change(inst, &chg);
	if (!chg.force && !chg.flush_flows && !chg.reset_globals &&
	    xfsm_change_keeps_datapath(inst, &chg) && running_same(inst, img, names) == 1)
		return XFSM_APPLY_UNCHANGED;
	chg.complete = true;
	if ((names->acl_tables || names->groups_declared) && inst->build.offload) {
		xfsm_log(XFSM_LOG_ERROR,
			 "the offload profile has no ACL module and no output groups: an application with ACL blocks or groups cannot run there");
		return -EOPNOTSUPP;
	}
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (!(names->acl_tables & (1U << t)))
			continue;
		chg.acl_tables |= 1U << t;
		chg.acl_rules[t] = names->acl[t].r;
		chg.acl_n[t] = names->acl[t].n;
	}
	if (names->groups_declared) {
		groups = calloc(XFSM_MAX_GROUPS, sizeof(*groups));
		if (!groups)
			return -ENOMEM;
	}
	for (g = 0; g < XFSM_MAX_GROUPS; g++) {
		const struct xfsm_group_decl *gd = &names->groups[g];

		if (!(names->groups_declared & (1ULL << g)))
			continue;
		if (xfsm_group_read(inst, g, &prev))
			memset(&prev, 0, sizeof(prev));
		err = xfsm_group_rebuild(&groups[g], gd->policy, gd->ports, gd->weights,
					 gd->n_members, prev.generation ? &prev : NULL);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "group %s (%u) cannot be built: %s", gd->name, g,
				 strerror(-err));
			goto out;
		}
		memcpy(groups[g].macs, gd->macs, sizeof(groups[g].macs));
		chg.groups |= 1ULL << g;
		chg.group[g] = &groups[g];
	}
	err = xfsm_apply_change(inst, &chg);
out:
	free(groups);
	return err;
}

