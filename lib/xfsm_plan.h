/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libxfsm internals shared by the library, its tests and the benchmarks,
 * not part of the installed API: fast-path planning of an application,
 * the ingress-port cache generation and the walk of both flow tables.
 */
#ifndef XFSM_PLAN_H
#define XFSM_PLAN_H

#include "libxfsm.h"

/*
 * Fast paths (lib/plan.c, docs/datapath.md "Fast paths"): what the datapath
 * may do more cheaply for an application without changing what it does.
 * xfsm_apply() plans every image it installs; a controller writing rules
 * into a running application's slot by other means must plan them too.
 */
struct xfsm_plan {
	__u8	flow_add[XFSM_MAX_STAGES];	/* bit i: flow reg i of the stage is
						 * additive (only ever added to) */
	__u8	global_add;			/* bit i: global i is additive */
	__u8	flow_nolock[XFSM_MAX_STAGES];	/* bit i: a lock-free rule adds to it */
	__u8	global_nolock;
	__u8	global_fetch;			/* bit i: a fetch-add takes global i */
	__u8	flow_cas[XFSM_MAX_STAGES];	/* bit i: every write of flow reg i of
						 * the stage is an addition or in a
						 * single-register chain, and nothing
						 * else reads it */
	__u8	flow_casw[XFSM_MAX_STAGES];	/* bit i: a compare-and-swap rule
						 * writes it */
	bool	cas_ok;				/* few enough CPUs for the bound */
};
void xfsm_image_plan(const struct xfsm_image *img, struct xfsm_plan *plan);
/* The flow register a rule's flow writes form a single-register chain on
 * (lib/plan.c), or -1. */
int xfsm_plan_chain_reg(const struct xfsm_rule *rule);
/* Mark a rule of `stage` (XFSM_UF_ADD, XFSM_RF_PLANNED), clearing old marks. */
void xfsm_plan_rule(const struct xfsm_plan *plan, unsigned int stage, struct xfsm_rule *rule);
void xfsm_plan_clear_rule(struct xfsm_rule *rule);
/* Fill the derived parts of the configuration `app` (from img->app) of an
 * image: the scan lists of its small stages, their rule copies numbered
 * rule_id + rule_id_base, as the image has them (xfsm_apply() passes 0 and
 * then gives the copies the statistics and counter indexes the rule
 * table's entries get, lib/apply.c). */
void xfsm_plan_app(const struct xfsm_plan *plan, const struct xfsm_image *img,
		   struct xfsm_app *app, __u32 rule_id_base);
void xfsm_plan_clear_app(struct xfsm_app *app);

/* After any change of xfsm_ports: a new generation into xfsm_port_gen
 * (gen_fd; < 0: an instance without one, nothing to do), so that the
 * datapath's per-CPU cache of the ingress port is refreshed. */
int xfsm_ports_changed(int gen_fd);

/* The flow table classes, the wide table first (struct
 * xfsm_flow_table_class): a table more is an entry more. */
#define XFSM_FLOW_TABLE_CLASSES	3
extern const struct xfsm_flow_table_class xfsm_flow_table_classes[XFSM_FLOW_TABLE_CLASSES];
#define xfsm_for_each_flow_table(c)					\
	for ((c) = xfsm_flow_table_classes;				\
	     (c) < xfsm_flow_table_classes + XFSM_FLOW_TABLE_CLASSES; (c)++)

/* The class of the map named `map_name` (its pin and object name,
 * "xfsm_flows_n"), of the table named `what` ("narrow": xfsm-loader --flows
 * narrow=N, xfsmctl show); NULL: not a flow table. */
const struct xfsm_flow_table_class *xfsm_flow_table_class_of_map_name(const char *map_name);
const struct xfsm_flow_table_class *xfsm_flow_table_class_named(const char *what);

/* Delete the entries of every flow table that `pred` picks (a narrower
 * table's key is the head of the wide key: read the stage and epoch
 * through a struct xfsm_flow_key_n); returns the count or a negative
 * errno. */
long xfsm_flows_delete_if(struct xfsm_instance *inst,
			  bool (*pred)(const void *key, const void *value, void *ctx), void *ctx);
/* Move into their class's table the flows of the stages `app` marks
 * XFSM_SF_NARROW or XFSM_SF_MEDIUM that are still in the wide one under
 * their current epoch: a datapath that predates that table (ABI 8, 10)
 * ran the application, kept across an upgrade, with the flows there.  Returns
 * the count moved or a negative errno. */
long xfsm_flows_settle_tables(struct xfsm_instance *inst, const struct xfsm_app *app);

#endif /* XFSM_PLAN_H */
