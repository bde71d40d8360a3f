/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Trace and capture: the observer's side of bpf/observe.h (lib/xfsm_obs.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply_internal.h"
#include "xfsm_obs.h"

struct xfsm_obs {
	struct xfsm_instance *inst;
	struct ring_buffer *rb;
	xfsm_obs_fn fn;
	void	*ctx;
	bool	discard;	/* draining what an earlier observer left */
	__u32	bit;
};

int xfsm_obs_filter(const struct xfsm_lang_match_term *t, unsigned int n,
		    struct xfsm_obs_cfg *cfg, char *err, size_t errlen)
{
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);

	cfg->n_terms = 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct xfsm_lang_field *f = &fields[t[i].field];

		for (unsigned int k = 0; k < f->nwords && k < 4; k++) {
			struct xfsm_obs_term *o;

			if (!t[i].range && !t[i].mask[k])
				continue;	/* a prefix's host words */
			if (cfg->n_terms == XFSM_OBS_TERMS) {
				snprintf(err, errlen,
					 "the match needs more than %u words of the packet; "
					 "match fewer fields", XFSM_OBS_TERMS);
				return -E2BIG;
			}
			o = &cfg->terms[cfg->n_terms++];
			o->word = f->word + k;
			if (t[i].range) {
				o->mask = ~0U;
				o->lo = t[i].lo[k];
				o->hi = t[i].hi[k];
			} else {
				o->mask = t[i].mask[k];
				o->lo = o->hi = t[i].val[k] & t[i].mask[k];
			}
		}
	}
	return 0;
}

static int obs_fds(struct xfsm_instance *inst, int *cfg_fd, int *ring_fd)
{
	*cfg_fd = inst->map_fd[XFSM_M_OBS_CFG];
	*ring_fd = inst->map_fd[XFSM_M_TRACE];
	if (*cfg_fd < 0 || *ring_fd < 0 || inst->build.offload) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s has no %s and %s maps: %s cannot trace or capture "
			 "(reload it with this version's xfsm-loader, in the native profile)",
			 inst->name, XFSM_MAP_OBS_CFG, XFSM_MAP_TRACE,
			 inst->build.offload ? "the offload profile" : "its datapath");
		return -EOPNOTSUPP;
	}
	return 0;
}

static bool pid_alive(__u32 pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static const char *observer_name(__u32 bit)
{
	return bit == XFSM_OBS_CAPTURE ? "capture" : "trace";
}

int xfsm_obs_status(struct xfsm_instance *inst, struct xfsm_obs_cfg *cfg, __u32 *observe,
		    bool *alive)
{
	struct xfsm_ctl ctl;
	int cfg_fd, ring_fd, err;
	__u32 zero = 0;

	err = obs_fds(inst, &cfg_fd, &ring_fd);
	if (err)
		return err;
	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	if (bpf_map_lookup_elem(cfg_fd, &zero, cfg))
		return -errno;
	*observe = ctl.observe;
	*alive = pid_alive(cfg->owner_pid);
	return 0;
}

static int ring_cb(void *ctx, void *data, size_t len)
{
	struct xfsm_obs *o = ctx;

	if (o->discard)
		return 0;
	return o->fn(o->ctx, data, len);
}

int xfsm_obs_start(struct xfsm_instance *inst, const struct xfsm_obs_cfg *want,
		   xfsm_obs_fn fn, void *ctx, struct xfsm_obs **out)
{
	struct xfsm_obs_cfg cfg, cur;
	struct xfsm_obs *o;
	int cfg_fd, ring_fd, lock, err;
	__u32 observe, zero = 0;
	bool alive;

	*out = NULL;
	err = obs_fds(inst, &cfg_fd, &ring_fd);
	if (err)
		return err;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->inst = inst;
	o->fn = fn;
	o->ctx = ctx;
	o->bit = want->observer;
	o->rb = ring_buffer__new(ring_fd, ring_cb, o, NULL);
	if (!o->rb) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "cannot read the ring buffer %s: %s", XFSM_MAP_TRACE,
			 strerror(-err));
		free(o);
		return err;
	}
	lock = xfsm_instance_lock(inst);
	err = xfsm_obs_status(inst, &cur, &observe, &alive);
	if (err)
		goto unlock;
	if ((observe & (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE)) && alive &&
	    cur.owner_pid != (__u32)getpid()) {
		xfsm_log(XFSM_LOG_ERROR,
			 "a %s (process %u) is observing instance %s: one trace or capture "
			 "runs at a time; stop it first", observer_name(cur.observer),
			 cur.owner_pid, inst->name);
		err = -EBUSY;
		goto unlock;
	}
	if (observe & (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE))
		xfsm_log(XFSM_LOG_INFO, "taking over from a %s whose process %u is gone",
			 observer_name(cur.observer), cur.owner_pid);
	/* Records an earlier observer left in the ring are not ours. */
	o->discard = true;
	ring_buffer__consume(o->rb);
	o->discard = false;
	cfg = *want;
	cfg.owner_pid = (__u32)getpid();
	cfg.second = cfg.used = cfg.lost_rate = cfg.lost_ring = cfg.records = 0;
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY)) {
		err = -errno;
		goto unlock;
	}
	err = xfsm_ctl_observe_locked(inst, want->observer,
				      (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE) & ~want->observer);
unlock:
	xfsm_instance_unlock(lock);
	if (err) {
		if (err != -EBUSY)
			xfsm_log(XFSM_LOG_ERROR, "cannot start the %s: %s",
				 observer_name(want->observer), strerror(-err));
		ring_buffer__free(o->rb);
		free(o);
		return err;
	}
	*out = o;
	return 0;
}

int xfsm_obs_poll(struct xfsm_obs *o, int timeout_ms)
{
	int n = ring_buffer__poll(o->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int xfsm_obs_clear(struct xfsm_instance *inst, struct xfsm_obs_cfg *was)
{
	struct xfsm_obs_cfg cfg;
	int cfg_fd, ring_fd, lock, err;
	__u32 observe, zero = 0;
	bool alive;

	err = obs_fds(inst, &cfg_fd, &ring_fd);
	if (err)
		return err;
	lock = xfsm_instance_lock(inst);
	err = xfsm_obs_status(inst, &cfg, &observe, &alive);
	if (!err) {
		if (!(observe & (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE)))
			cfg.observer = 0;
		if (was)
			*was = cfg;
		err = xfsm_ctl_observe_locked(inst, 0, XFSM_OBS_TRACE | XFSM_OBS_CAPTURE);
	}
	if (!err) {
		cfg.observer = 0;
		cfg.owner_pid = 0;
		if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
			err = -errno;
	}
	xfsm_instance_unlock(lock);
	return err;
}

int xfsm_obs_stop(struct xfsm_obs *o, struct xfsm_obs_cfg *end)
{
	struct xfsm_instance *inst = o->inst;
	int cfg_fd = inst->map_fd[XFSM_M_OBS_CFG], lock, err;
	struct xfsm_obs_cfg cfg;
	__u32 zero = 0;

	lock = xfsm_instance_lock(inst);
	err = bpf_map_lookup_elem(cfg_fd, &zero, &cfg) ? -errno : 0;
	/* Only our own bit: a later observer that took over keeps its. */
	if (!err && cfg.owner_pid == (__u32)getpid()) {
		err = xfsm_ctl_observe_locked(inst, 0, o->bit);
		cfg.observer = 0;
		cfg.owner_pid = 0;
		if (!err && bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
			err = -errno;
	}
	xfsm_instance_unlock(lock);
	/* Packets in flight may still have written one. */
	ring_buffer__consume(o->rb);
	if (!err && bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		err = -errno;
	if (end)
		*end = cfg;
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot turn the %s off: %s; run 'xfsmctl trace stop'",
			 observer_name(o->bit), strerror(-err));
	ring_buffer__free(o->rb);
	free(o);
	return err;
}

/* What an ACL stage did, as far as its result tells. */
static const char *acl_result(const struct xfsm_trace_stage *st)
{
	if (st->result == XDP_DROP)
		return "deny";
	if (st->result == XDP_PASS)
		return "pass";
	if (st->result == (0x100U | (st->stage + 1)))
		return "allow or miss";
	return st->result >= 0x100 ? "goto" : "miss";
}

void xfsm_obs_trace_result(const struct xfsm_trace_rec *rec, const struct xfsm_image *img,
			   struct xfsm_sim_result *res)
{
	unsigned int n = rec->n_stages < XFSM_MAX_STAGES ? rec->n_stages : XFSM_MAX_STAGES;

	memset(res, 0, sizeof(*res));
	res->verdict = (int)rec->verdict;
	if (rec->verdict == XDP_REDIRECT)
		res->stats.verdict_redirect = 1;
	res->port = rec->port;
	res->len = rec->len;
	memcpy(res->fv, rec->fv, sizeof(res->fv));
	memcpy(res->globals_before, rec->globals_before, sizeof(res->globals_before));
	memcpy(res->globals_after, rec->globals_after, sizeof(res->globals_after));
	for (unsigned int i = 0; i < n; i++) {
		const struct xfsm_trace_stage *t = &rec->st[i];
		struct xfsm_sim_stage *o = &res->st[res->n_stages];

		if (t->stage >= XFSM_MAX_STAGES || (img && t->stage >= img->app.n_stages))
			continue;	/* the application changed meanwhile */
		res->n_stages++;
		o->stage = t->stage;
		o->visits = 1;
		o->acl = t->flags & XFSM_TSF_ACL;
		if (o->acl) {
			o->acl_action = acl_result(t);
			o->hit = strcmp(o->acl_action, "allow or miss") != 0;
			o->rule_id = XFSM_SIM_MISS;
			continue;
		}
		o->rule_id = t->flags & XFSM_TSF_MATCHED ? t->rule : XFSM_SIM_MISS;
		o->hit = o->rule_id != XFSM_SIM_MISS;
		o->lookup = t->flags & XFSM_TSF_LOOKUP;
		o->key = t->key;
		o->flow_before_ok = t->flags & XFSM_TSF_BEFORE;
		o->flow_after_ok = t->flags & XFSM_TSF_AFTER;
		o->flow_before = t->before;
		o->flow_after = t->after;
		o->state_seen = t->state_seen;
		if (t->flags & XFSM_TSF_EXPIRED) {
			/* As flow_expire() chooses (bpf/flow.h), at the
			 * packet's time. */
			const struct xfsm_flow *f = &t->before;
			__u64 idle = f->last_seen_ns + (__u64)f->idle_timeout_ms * 1000000ULL;
			bool hard = f->hard_deadline_ns && rec->ts_ns >= f->hard_deadline_ns;
			bool idl = f->idle_timeout_ms && rec->ts_ns >= idle;

			o->hard_expired = hard && (!idl || f->hard_deadline_ns <= idle);
			o->idle_expired = !o->hard_expired;
		}
	}
}
