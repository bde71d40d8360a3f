/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Observing the running datapath: trace (decision records) and capture
 * (packets), one mechanism with two record kinds (bpf/observe.h).
 *
 * An observer owns the filter and rate of xfsm_obs_cfg and its bit of
 * xfsm_ctl.observe from xfsm_obs_start() to xfsm_obs_stop().  One trace or
 * capture runs at a time: a second is refused (-EBUSY, naming the process
 * that holds it) while that process lives.  One killed without stopping
 * leaves its bit set, so the datapath keeps filtering packets: the next
 * xfsm_obs_start() takes over from a process that is gone, and
 * xfsm_obs_clear() (xfsmctl trace stop) clears it at once.
 */
#ifndef XFSM_OBS_H
#define XFSM_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xfsm_sim.h"

struct xfsm_obs;

/* A record as it came out of the ring: struct xfsm_trace_rec, or struct
 * xfsm_cap_rec and its bytes.  A negative return stops xfsm_obs_poll(). */
typedef int (*xfsm_obs_fn)(void *ctx, const void *rec, size_t len);

/* Fill cfg's filter from a match (xfsm_lang_parse_match()): every term a
 * mask and a range of field vector words.  -E2BIG (with err) when the
 * match needs more than XFSM_OBS_TERMS words. */
int xfsm_obs_filter(const struct xfsm_lang_match_term *t, unsigned int n,
		    struct xfsm_obs_cfg *cfg, char *err, size_t errlen);

/* Start observing with cfg (observer, filter, rate, point, snaplen; the
 * counters are reset).  Logs why on failure: -EBUSY another observer,
 * -EOPNOTSUPP a datapath without trace maps (offload profile). */
int xfsm_obs_start(struct xfsm_instance *inst, const struct xfsm_obs_cfg *cfg,
		   xfsm_obs_fn fn, void *ctx, struct xfsm_obs **out);
/* Deliver the records that arrive within timeout_ms (-1: wait). */
int xfsm_obs_poll(struct xfsm_obs *o, int timeout_ms);
/* Turn the datapath's recording off, deliver what is left in the ring
 * (fn may refuse it), and free o; *end gets the final counters. */
int xfsm_obs_stop(struct xfsm_obs *o, struct xfsm_obs_cfg *end);

/* The observer of inst now: *cfg as the datapath holds it, *observe the
 * control block's bits, *alive whether cfg->owner_pid still runs. */
int xfsm_obs_status(struct xfsm_instance *inst, struct xfsm_obs_cfg *cfg, __u32 *observe,
		    bool *alive);
/* Turn trace and capture off whoever started them (*was: the observer
 * that was on, as xfsm_obs_status() gives it). */
int xfsm_obs_clear(struct xfsm_instance *inst, struct xfsm_obs_cfg *was);

/* A trace record as a decision record (the shape simulate prints). */
void xfsm_obs_trace_result(const struct xfsm_trace_rec *rec, const struct xfsm_image *img,
			   struct xfsm_sim_result *res);

#endif /* XFSM_OBS_H */
