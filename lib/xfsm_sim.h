/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Simulation: run packets through a private copy of the datapath with
 * BPF_PROG_TEST_RUN and report what each one did (lib/simulate.c).
 *
 * The copy is the same BPF object loaded a second time.  The maps the
 * datapath only reads (control block, applications, rules, ACL tables,
 * groups, output ports) are the live instance's own; every map it writes
 * (flows, global registers, statistics, counters, group state, its
 * scratch) is a new map of the copy, the flows and registers filled from
 * the live ones when the copy is made.  Nothing the live datapath holds
 * changes, whatever the packets do; packets simulated one after another
 * see each other's effects in the copy.
 *
 * With an image, the copy runs that application instead (installed into
 * its own maps: nothing is read from the live control block or tables,
 * and no flow is copied), which is how an application is tried before it
 * is applied.  `live` may then be NULL: the copy has no ports, groups or
 * output interfaces.
 *
 * The copy is the live datapath's build: on an instance loaded with
 * --flow-value compact it holds compact flow values too, so an image that
 * needs flow registers or a hard timeout is refused there as xfsm_apply()
 * would refuse it, and flows read back with the tail past the head zero.
 */
#ifndef XFSM_SIM_H
#define XFSM_SIM_H

#include <stdbool.h>
#include <linux/types.h>
#include "libxfsm.h"
#include "xfsm_lang.h"

struct xfsm_sim;

#define XFSM_SIM_MISS	0xffffffffU	/* xfsm_sim_stage.rule_id: no rule matched */
/* The longest frame simulated: BPF_PROG_TEST_RUN gives an XDP program one
 * page less the headroom and skb_shared_info (4096 - 256 - 320 on x86-64);
 * a longer one would reach it cut short or be refused, depending on the
 * kernel. */
#define XFSM_SIM_FRAME_MAX	3520

/* A flow the packet created, changed or removed (LRU eviction included). */
struct xfsm_sim_flow {
	struct xfsm_flow_key key;
	bool	before_ok;	/* it existed before the packet */
	bool	after_ok;	/* it exists after */
	struct xfsm_flow before;
	struct xfsm_flow after;
};

/* One stage the packet ran through. */
struct xfsm_sim_stage {
	unsigned int stage;
	__u64	visits;		/* times the packet entered it (1, or more with goto) */
	bool	acl;		/* an ACL stage: rule_id is not known, but */
	const char *acl_action;	/* "deny", "pass", "goto", "allow" or "miss" */
	bool	acl_marked;	/* the ACL rule set meta.mark */
	bool	hit;		/* a rule matched */
	__u32	rule_id;	/* image rule id, or XFSM_SIM_MISS */
	bool	lookup;		/* the stage looks up a flow: key, flow_* are set */
	struct xfsm_flow_key key;
	bool	flow_before_ok;	/* the flow under key, before and after the packet */
	bool	flow_after_ok;
	struct xfsm_flow flow_before;
	struct xfsm_flow flow_after;
	bool	idle_expired;	/* its idle or hard timeout had run out: the */
	bool	hard_expired;	/* packet saw the rollback state */
	__u32	state_seen;	/* the state the stage's rules matched on */
};

struct xfsm_sim_result {
	int	verdict;		/* the XDP action returned */
	__u32	port;			/* ingress port, 0: none */
	__u32	len;			/* frame length */
	__u32	fv[XFSM_FV_WORDS];	/* the field vector after the run */
	struct xfsm_stats stats;	/* what the packet added to them */
	unsigned int n_stages;
	struct xfsm_sim_stage st[XFSM_MAX_STAGES];
	struct xfsm_sim_flow *flows;	/* flows written, removed or evicted */
	size_t	n_flows;
	__u64	globals_before[XFSM_GLOBAL_REGS];
	__u64	globals_after[XFSM_GLOBAL_REGS];
	__u64	counters[XFSM_MAX_COUNTERS];	/* packets each user counter gained */
	__u32	out_len;		/* the frame as the program left it */
	unsigned char out[XFSM_SIM_FRAME_MAX];
};

/* Make the copy (see above); img NULL: the live application.  Logs why
 * on failure. */
int xfsm_sim_open(struct xfsm_instance *live, const struct xfsm_image *img,
		  const struct xfsm_app_names *nm, struct xfsm_sim **out);
/* The copy's maps, to read back its application or its flows. */
struct xfsm_instance *xfsm_sim_instance(struct xfsm_sim *s);
/* Run one frame arriving on `port` (0: on no port).  res->flows is the
 * caller's to free (xfsm_sim_result_free()). */
int xfsm_sim_run(struct xfsm_sim *s, const void *frame, size_t len, __u32 port,
		 struct xfsm_sim_result *res);
void xfsm_sim_result_free(struct xfsm_sim_result *res);
void xfsm_sim_close(struct xfsm_sim *s);

/* Build an Ethernet frame from field assignments (ip.src=198.18.0.1
 * tcp.dport=22 tcp.flags=syn; xfsm_lang_parse_match() with
 * XFSM_LANG_MATCH_ASSIGN).  Fields not given take defaults (addresses
 * 198.18.0.1 -> 198.18.0.2 or 2001:2::1 -> 2001:2::2, ports 1024 -> 80,
 * TTL 64, MACs 02:00:00:00:00:01 -> 02:00:00:00:00:02).  meta.port goes to
 * *port (0 when not given); meta.len pads the frame.  Returns the frame
 * length, or -EINVAL with a message in err for fields a packet cannot
 * carry together. */
int xfsm_sim_frame_build(const struct xfsm_lang_match_term *t, unsigned int n,
			 unsigned char *buf, size_t cap, __u32 *port,
			 char *err, size_t errlen);

/* The BPF object the loader would load (xfsm.bpf.o, or with `compact`
 * xfsm-compact.bpf.o: --flow-value compact), found as xfsm-loader finds
 * it; logs where it looked on failure. */
int xfsm_datapath_object(bool compact, char *buf, size_t len);

#endif /* XFSM_SIM_H */
