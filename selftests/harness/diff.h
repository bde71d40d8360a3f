/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Differential runs of the two datapaths (issue 17, "Proof of
 * equivalence"): two native instances with identical state, one running an
 * application on the generic datapath, the other on the program the
 * specializer generated for it.  Every packet runs on both; verdict,
 * output bytes and every map that holds state or statistics (flows,
 * globals, xfsm_stats, stage, rule, port, user counter, group and ACL
 * statistics, group round-robin and flow tables) must then be identical.
 * Any difference is a bug in one of the two datapaths.
 *
 * Time: the datapath's clock is CLOCK_MONOTONIC, not ours to set, so the
 * two runs of a packet see slightly different times.  Flow timestamps are
 * compared as "both zero or both non-zero"; what derives from them
 * (states after a timeout, expiry counters) exactly.  For that to be
 * deterministic the generated applications use timeouts of
 * XD_TMO_MIN_MS..XD_TMO_MAX_MS or of hours, and the runner keeps every
 * burst of packets shorter than XD_TMO_MIN_MS / 2 (sleeping
 * XD_TMO_MAX_MS + margin in between, once for both instances): no
 * deadline can then fall between the two runs of a packet.  A pair of
 * runs that still straddled one (a stalled machine) is counted as
 * "ambiguous" and ends that packet sequence, never as a difference.
 */
#ifndef XT_DIFF_H
#define XT_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf.h"
#include "pkt.h"

#define XD_TMO_MIN_MS	50
#define XD_TMO_MAX_MS	80
#define XD_TMO_LONG_MS	3600000	/* an hour: never fires in a run */

#define XD_REASONS	48

struct xd_summary {
	unsigned long	apps;		/* applications compiled and applied */
	unsigned long	specialized;	/* ... running their specialized program */
	unsigned long	generic;	/* ... refused by the generator */
	unsigned long	packets;	/* packets compared */
	unsigned long	diffs;		/* packets with a difference */
	unsigned long	ambiguous;	/* sequences cut short by a stalled clock */
	unsigned long	sleeps;
	unsigned long	compile_errors;	/* generated text the compiler refused */
	/* what the compared packets did (the generic instance's counters):
	 * a mix that never matches a rule or never bails proves little */
	unsigned long	verdict[5];	/* pass, drop, tx, redirect, aborted */
	unsigned long	malformed, rule_hits, misses, actions, flows_created, expired;
	struct {
		char	why[160];
		unsigned long n;
	} reason[XD_REASONS];		/* refusals by reason */
	unsigned int	n_reasons;
	unsigned long	reasons_other;
};

struct xd_pair {
	struct xt	gen;		/* XFSM_DP_GENERIC */
	struct xt	spec;		/* XFSM_DP_SPECIALIZED */
	const char	*name;		/* application name, for reports */
	const char	*src;		/* its source text */
	size_t		src_len;
	__u32		spec_prog_id;	/* xfsm_progs[active] of spec */
	int		direct_fd;	/* that program, when > 0: every other
					 * packet runs it by itself, as xfsm
					 * attaches it, the others enter it
					 * through the generic program */
	unsigned int	runs;
	bool		specialized;	/* spec runs a generated program */
	bool		ran;		/* packets may have run since the apply */
	bool		has_short_tmo;	/* timeouts that fire during a run */
	__u64		epoch_ns;	/* end of the last common sleep */
	bool		loose_regs;	/* registers hold clock readings (an
					 * application reading meta.time):
					 * flow and global registers compare
					 * as zero / non-zero */
	bool		quiet;
	bool		both_generic;	/* a check of the runner itself (or
					 * XT_DIFF_AGAINST=generic): spec runs
					 * the generic datapath too */		/* no report on stdout (fuzzing) */
	int		cpu;		/* both run on this CPU */
	struct xd_summary *sum;
	char		why[1024];	/* the generator's refusal */
};

/* Which datapath xt_apply() asks for: $XT_DATAPATH = generic (default),
 * auto or specialized (harness/bpf.c). */
__u32 xt_datapath_env(void);

/* Load both instances and pin this process to one CPU (the per-CPU round
 * robin counters and caches of both must be the same CPU's). */
int xd_open(struct xd_pair *p, struct xd_summary *sum);
/* The same with room for rules_max rules per application (512 above). */
int xd_open_rules(struct xd_pair *p, struct xd_summary *sum, __u32 rules_max);
/* The same with each instance's flow value layout chosen: compact
 * (build/xfsm-compact.bpf.o) or full (rules_max 0: as xd_open()).  Flow tables of two layouts compare
 * as far as the compact value goes (struct xfsm_flow_head). */
int xd_open_layouts(struct xd_pair *p, struct xd_summary *sum, __u32 rules_max,
		    bool gen_compact, bool spec_compact);
void xd_close(struct xd_pair *p);
/* Start a run on an open pair with its own summary (options back to
 * their defaults); end it: what the last application's packets did is
 * added to the summary, which the pair then forgets. */
void xd_begin(struct xd_pair *p, struct xd_summary *sum);
void xd_end(struct xd_pair *p);

/*
 * Reset both instances (ports: ifindex 1 is port 1, ports 1..4 have a
 * transmit device, port 4 is down) and compile and apply the application on both.
 * Returns 0 when both run it and spec runs its specialized program (the
 * program is in xfsm_progs[active] and the entry program dispatches to
 * it: checked with a probe program swapped in for one packet), 1 when
 * the generator refused it (-EOPNOTSUPP / -E2BIG: p->why says why; the
 * refusal is counted by reason), or a negative errno (compile error,
 * apply failure, a program installed but not dispatched to: printed).
 */
int xd_apply_source(struct xd_pair *p, const char *name, const char *text, size_t len);

/* Run one frame (ingress ifindex 0 or 1) on both and compare everything.
 * wait_ms: sleep this long first (both). Returns 0 (identical), 1 (a
 * difference, reported on stdout), 2 (ambiguous timing: stop the
 * sequence) or a negative errno. */
int xd_run(struct xd_pair *p, const uint8_t *data, __u32 len, __u32 ifindex,
	   __u32 wait_ms);

/* Print the summary line (and the refusal reasons). */
void xd_summary_print(const struct xd_summary *s, const char *what);
/* Decode a frame for reports ("eth 02:..>02:.. vlan 5 ipv4 ... tcp 1->2 S"). */
void xd_decode(const uint8_t *d, __u32 len, char *buf, size_t size);

#endif /* XT_DIFF_H */
