/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What the running kernel offers the datapath, found by probing it (small
 * maps and programs the kernel accepts or refuses), in the manner of
 * `bpftool feature probe`.  xfsm-loader probes when the kernel refuses the
 * datapath, to name what is missing, and after a load, to say which
 * optional parts will not work; `xfsm-loader features` prints the table.
 * docs/testing.md ("Minimum kernel") lists the same features.
 */
#ifndef XFSM_FEATURES_H
#define XFSM_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

enum xfsm_feature {
	XFSM_FEAT_XDP,			/* BPF_PROG_TYPE_XDP */
	XFSM_FEAT_BTF,			/* the kernel loads BTF */
	XFSM_FEAT_GLOBAL_FUNC,		/* global functions verified alone */
	XFSM_FEAT_SPIN_LOCK,		/* bpf_spin_lock in array values */
	XFSM_FEAT_ATOMICS,		/* BPF_ATOMIC with BPF_FETCH */
	XFSM_FEAT_LRU_HASH,
	XFSM_FEAT_PERCPU_ARRAY,
	XFSM_FEAT_MAP_IN_MAP,		/* array of maps (RCU waits) */
	XFSM_FEAT_DEVMAP_HASH,		/* output ports */
	XFSM_FEAT_BROADCAST,		/* bpf_redirect_map BPF_F_BROADCAST */
	XFSM_FEAT_XSKMAP,		/* AF_XDP ports */
	XFSM_FEAT_DISPATCHER,		/* libxdp's dispatcher (freplace) */
	XFSM_FEAT__MAX,
};

enum xfsm_feature_state {
	XFSM_FEAT_UNKNOWN = -1,		/* the probe itself failed (ENOMEM...) */
	XFSM_FEAT_NO = 0,
	XFSM_FEAT_YES = 1,
};

struct xfsm_feature_desc {
	const char *name;		/* short key: "atomics" */
	const char *what;		/* "BPF atomic operations" */
	const char *since;		/* first Linux release: "5.12" */
	bool	required;		/* the datapath does not load without */
	const char *loses;		/* what xfsm lacks without it */
};

struct xfsm_features {
	char	release[65];		/* uname -r */
	char	lockdown[24];		/* "none", "integrity", ... "unknown" */
	enum xfsm_feature_state state[XFSM_FEAT__MAX];
};

const struct xfsm_feature_desc *xfsm_feature_desc(enum xfsm_feature f);

/* Probe every feature.  Needs the privileges of a BPF loader (CAP_BPF,
 * CAP_SYS_ADMIN or CAP_PERFMON for the map-in-map probe...); without them
 * every probe reports XFSM_FEAT_UNKNOWN.  Returns 0 or a negative errno. */
int xfsm_features_probe(struct xfsm_features *ft);

/*
 * "<what> (Linux <since>), ..." for every feature that is absent and whose
 * `required` equals `required`; "" when none is.  Returns the number of
 * such features.
 */
int xfsm_features_missing(const struct xfsm_features *ft, bool required,
			  char *buf, size_t len);

#endif /* XFSM_FEATURES_H */
