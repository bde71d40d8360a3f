/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Loading the datapath object and running packets through it with
 * BPF_PROG_TEST_RUN.
 */
#ifndef XT_BPF_H
#define XT_BPF_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "libxfsm.h"
#include "xfsm_acl.h"
#include "pkt.h"

enum xt_profile {
	XT_NATIVE,
	XT_OFFLOAD,
	XT_EMPTY,	/* build/xdp_empty.bpf.o, benchmarks */
};

struct xt_opts {
	enum xt_profile	profile;
	bool		compact;	/* native: build/xfsm-compact.bpf.o, the
					 * compact flow values */
	__u32		flows_max;	/* 0: as built */
	__u32		flows_type;	/* 0: as built, else BPF_MAP_TYPE_* */
	__u32		rules_max;	/* 0: as built */
	const struct xfsm_acl_caps *acl_caps;	/* NULL: as built */
};

struct xt {
	enum xt_profile	profile;
	struct bpf_object *obj;
	int		prog_fd;
	struct xfsm_instance *inst;	/* NULL for XT_EMPTY */
	__u64		clock_ns;	/* offload: current xfsm_ctl.clock_ns */
};

struct xt_result {
	int		err;		/* test_run error, 0 on success */
	__u32		verdict;	/* XDP_* */
	__u32		len;
	__u32		duration;	/* ns per run as reported by the kernel */
	uint8_t		data[PKT_MAX];
};

/* Directory holding the build output (build/): $XFSM_BUILD, else two levels
 * above the test binary (build/selftests/test_x), else "build". */
const char *xt_build_dir(void);
/* The source tree (examples/, bench/): $XFSM_SRC, else the build
 * directory's parent when it holds examples/, else ".". */
const char *xt_src_dir(void);
const char *xt_obj_path(enum xt_profile profile);
/* The object xt_open() loads for `opts` (the compact one when asked). */
const char *xt_opts_obj_path(const struct xt_opts *opts);

/* Open and load.  Returns 0 or a negative errno; prints why. */
int xt_open(struct xt *t, const struct xt_opts *opts);
void xt_close(struct xt *t);
/* Back to a clean instance: no flows, zero stats, globals, ports, counters,
 * malformed verdict PASS, offload clock at 1 s. */
int xt_reset(struct xt *t);

/* Run one frame (ingress ifindex 0: none given). */
int xt_run(struct xt *t, const void *data, __u32 len, __u32 ifindex,
	   struct xt_result *r);
int xt_run_pkt(struct xt *t, const struct pkt *p, __u32 ifindex,
	       struct xt_result *r);
/* Run repeat times with no output copy; returns duration per run in ns. */
int xt_run_repeat(struct xt *t, const void *data, __u32 len, __u32 ifindex,
		  __u32 repeat, __u32 *verdict, __u32 *duration);

/* Time: native sleeps, offload advances xfsm_ctl.clock_ns. */
int xt_advance_ms(struct xt *t, __u32 ms);
int xt_set_clock(struct xt *t, __u64 ns);

/* Ports: ifindex -> port number (xfsm_ports) and port -> ifindex
 * (xfsm_tx_ports devmap). */
int xt_set_port(struct xt *t, __u32 ifindex, __u32 port);
int xt_set_tx_port(struct xt *t, __u32 port, __u32 ifindex);

/* Apply an image with the default options, on the datapath $XT_DATAPATH
 * asks for (then xt_datapath_check()). */
int xt_apply(struct xt *t, const struct xfsm_image *img);
/* After an apply on the datapath $XT_DATAPATH asks for (the tests' direct
 * applies): auto reports a table that runs generic, with why;
 * specialized requires its program running (-EPROTO). */
int xt_datapath_check(struct xt *t);

/* Two instances made alike in what their past applications decide (an
 * application without stages in both slots of each: no statistics index
 * in use, no stage epoch; then the same slot running): the next
 * application applied to both counts at the same indexes and keys its
 * flows alike. */
int xt_forget_histories(struct xt *a, struct xt *b);
/* The slot running (xfsm_ctl.active & 1). */
__u32 xt_active_slot(struct xt *t);

/* Find a flow by stage and key words (epoch ignored). */
int xt_find_flow(struct xt *t, unsigned int stage, const __u32 w[XFSM_KEY_WORDS],
		 struct xfsm_flow_key *key, struct xfsm_flow *flow);
/* Number of flows of a stage (stage < 0: all). */
long xt_count_flows(struct xt *t, int stage);

const char *xt_verdict_name(__u32 verdict);

#endif /* XT_BPF_H */
