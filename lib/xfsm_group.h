/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Output groups and port flags from user space: building a group (the
 * weighted round-robin sequence, the Maglev table of the consistent-hash
 * policy), writing and reading groups, their statistics, and the port-down
 * flag that groups honour.
 */
#ifndef XFSM_GROUP_LIB_H
#define XFSM_GROUP_LIB_H

#include <stdbool.h>
#include "libxfsm.h"

/* "rr", "rr-flow", "weighted", "hash", "consistent"; -1 if unknown. */
int xfsm_group_policy_parse(const char *name);
const char *xfsm_group_policy_name(unsigned int policy);

/* Fill *g for members ports[0..n-1] (weights may be NULL: all 1).
 * -EINVAL for a bad policy, port, weight or n > XFSM_GROUP_MAX_MEMBERS;
 * -E2BIG when the weights add up to more than XFSM_GROUP_TABLE. */
int xfsm_group_build(struct xfsm_group *g, unsigned int policy, const __u16 *ports,
		     const __u16 *weights, unsigned int n);
/* The same, replacing group prev: for a consistent-hash group whose
 * members were only removed, the slots of the remaining members are kept
 * so that only the removed members' flows move (a full Maglev rebuild
 * moves a few others too).  Adding members rebuilds the table: about
 * 1/(N+1) of the flows move to the new member. */
int xfsm_group_rebuild(struct xfsm_group *g, unsigned int policy, const __u16 *ports,
		       const __u16 *weights, unsigned int n, const struct xfsm_group *prev);
/* The member index the table of a consistent-hash group gives a hash. */
unsigned int xfsm_group_consistent_pick(const struct xfsm_group *g, __u32 hash);

/* -EOPNOTSUPP, with a message, when the instance has no group maps (an
 * older or offload datapath); the functions below check it too. */
int xfsm_group_check(struct xfsm_instance *inst);
/* Set group `id` (0..XFSM_MAX_GROUPS-1; -EINVAL otherwise, or for a
 * member port outside 1..XFSM_MAX_PORTS-1; a new one starts with zero
 * statistics): an application switch (libxfsm's one,
 * lib/apply.c) that writes the group's other buffer.  -ENOENT, with a
 * message, for a member port the instance does not have (unless the
 * running application sends to it already). */
int xfsm_group_write(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g);
/* The group as the running application slot names it (generation 0: no
 * such group). */
int xfsm_group_read(struct xfsm_instance *inst, unsigned int id, struct xfsm_group *g);
/* Remove the group (a switch, as above); then its statistics and
 * round-robin counter are zeroed and its flows forgotten. */
int xfsm_group_delete(struct xfsm_instance *inst, unsigned int id);
/* A group's counters, summed over CPUs. */
int xfsm_group_read_stats(struct xfsm_instance *inst, unsigned int id,
			  struct xfsm_group_stats *out);
/* Zero a group's statistics and round-robin counters. */
int xfsm_group_reset(struct xfsm_instance *inst, unsigned int id);

/* Port flags (XFSM_PORT_F_*), by port number.  xfsm_port_set_down()
 * refuses a port the instance does not have (xfsm_ports_present()):
 * -ENOENT with xfsm_ports_missing_msg()'s message; every refusal and
 * failure is logged once (XFSM_LOG_ERROR). */
int xfsm_port_flags_get(struct xfsm_instance *inst, unsigned int port, __u32 *flags);
int xfsm_port_set_down(struct xfsm_instance *inst, unsigned int port, bool down);
/* Set every port's down flag from its interface's link state (a port is
 * up when its interface is up and running).  Returns the number of ports
 * marked down, or a negative errno. */
int xfsm_ports_sync_link(struct xfsm_instance *inst);

/* Which port numbers the instance has: the ports xfsm-loader gave its
 * interfaces.  Every switch checks the ports it makes the datapath send
 * to against it (xfsm_apply_opts.unchecked_ports), xfsm_port_set_down()
 * the port it is given. */
int xfsm_ports_present(struct xfsm_instance *inst, bool present[XFSM_MAX_PORTS]);
/* "port P does not exist in instance 'x' (its ports: 1, 2; attach the
 * interface first: ...)" in msg; returns -ENOENT. */
int xfsm_ports_missing_msg(struct xfsm_instance *inst, const bool present[XFSM_MAX_PORTS],
			   unsigned int port, char *msg, size_t len);

/* A port's counters, summed over CPUs (-EOPNOTSUPP: the instance keeps
 * none, the offload profile). */
int xfsm_port_stats_read(struct xfsm_instance *inst, unsigned int port,
			 struct xfsm_port_stats *out);

#endif /* XFSM_GROUP_LIB_H */
