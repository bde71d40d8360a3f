/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL module from user space: rule syntax (native and ClassBench),
 * compiling a rule set into cut trees, the tables' capacities, installing
 * a rule set into an ACL table atomically, reading it back, and
 * classifying in process with the datapath's own walk and rule check
 * (include/xfsm/acl_match.h).
 *
 * A rule is a struct xfsm_acl_entry (include/xfsm/abi.h); `order` is
 * computed when a set is built: rules are ranked by priority (larger
 * first), then by rule id (smaller first), and the first match wins.
 */
#ifndef XFSM_ACL_LIB_H
#define XFSM_ACL_LIB_H

#include <stddef.h>
#include "libxfsm.h"

/* A growable list of rules. */
struct xfsm_acl_rules {
	struct xfsm_acl_entry *r;
	size_t	n;
	size_t	cap;
	__u32	max_id;		/* largest rule id added (ids are not reused) */
};

/* Free the rules' array; the list is empty (and reusable) again.  A zeroed
 * struct xfsm_acl_rules is an empty list. */
void xfsm_acl_rules_free(struct xfsm_acl_rules *rs);
/* Append a rule; rule_id 0 gets the next id after the highest added.
 * -EEXIST when the id is taken, -ERANGE when rule_id is 0 and the highest
 * added is already 2^32-1.  Rules added in ascending id order cost O(1)
 * each. */
int xfsm_acl_rules_add(struct xfsm_acl_rules *rs, const struct xfsm_acl_entry *e);
/* What a failed xfsm_acl_rules_add() means, for a person. */
const char *xfsm_acl_add_error(int err);
/* Remove the rule with this id; -ENOENT when there is none. */
int xfsm_acl_rules_del(struct xfsm_acl_rules *rs, __u32 rule_id);
/* Sort by precedence (priority desc, id asc). */
void xfsm_acl_rules_sort(struct xfsm_acl_rules *rs);

/* A rule with every field wildcarded, action allow. */
void xfsm_acl_entry_init(struct xfsm_acl_entry *e);

/*
 * Native syntax, one rule (words in any order, then the action):
 *   [id N] [prio N] [ip4|ip6] [src PREFIX] [dst PREFIX] [proto P[/MASK]]
 *   [sport A[-B]] [dport A[-B]] [flags V[/MASK]] [port N] [vlan N]
 *   [=>] (allow | deny | pass | goto STAGE) [mark M]
 * PREFIX is an IPv4 or IPv6 address with an optional /LEN; P is a number
 * or tcp, udp, icmp, icmp6; flags V is a number or names joined by |
 * (fin syn rst psh ack urg ece cwr); "mark M" alone means allow.  A goto
 * target is a stage number; `stage_of`, when not NULL, resolves names.
 * Returns 0 or -EINVAL with a message in err.
 */
typedef int (*xfsm_acl_stage_fn)(const char *name, void *ctx);
int xfsm_acl_parse_rule(const char *text, struct xfsm_acl_entry *e,
			xfsm_acl_stage_fn stage_of, void *ctx,
			char *err, size_t errlen);
/* The same for text[0..len), and on error *err_off is the offset of the
 * word at fault (0 when the error is about the whole rule). */
int xfsm_acl_parse_rule_at(const char *text, size_t len, struct xfsm_acl_entry *e,
			   xfsm_acl_stage_fn stage_of, void *ctx,
			   char *err, size_t errlen, size_t *err_off);
/* One ClassBench filter line ("@src/len\tdst/len\tlo : hi\t..."): IPv4
 * prefixes without host bits, decimal port ranges, hex 0xVALUE/0xMASK
 * protocol (value inside the mask) and an optional flags pair, checked
 * but not classified on (the ACL classifies ClassBench sets on the
 * 5-tuple); nothing after it.  The rule gets action `deny` and no id.
 * -EINVAL with the reason in err. */
int xfsm_acl_parse_classbench(const char *line, struct xfsm_acl_entry *e,
			      char *err, size_t errlen);
/* Read a rule file (lib/xfsm_file.h: read whole or refused): ClassBench
 * when the first rule line starts with '@' (rule i of the file gets id
 * i + 1), native syntax otherwise ('#' comments, blank lines), any line
 * length.  Rules are appended to rs only when every line is good and
 * there is at least one (an empty or comments-only file is refused: an
 * empty table comes from flushing it).  Errors name FILE:LINE:COL (the
 * word or field at fault) in err. */
int xfsm_acl_load_file(const char *path, struct xfsm_acl_rules *rs,
		       char *err, size_t errlen);
/* The rule in native syntax (parses back to the same rule). */
void xfsm_acl_format(const struct xfsm_acl_entry *e, char *buf, size_t len);

/* ---- Compiling and classifying (lib/acl_tree.c) -------------------------- */

struct xfsm_acl_built;

/* What a table may hold (0: no limit but the ABI's). */
struct xfsm_acl_limits {
	__u32	max_rules;
	__u32	max_nodes;
};

/* Which limit a set ran into. */
enum xfsm_acl_limit {
	XFSM_ACL_LIMIT_NONE = 0,
	XFSM_ACL_LIMIT_RULES,	/* more rules than the table holds */
	XFSM_ACL_LIMIT_NODES,	/* more tree nodes than the table holds */
	XFSM_ACL_LIMIT_TREES,	/* rules overlapping beyond MAX_TREES * LEAF */
	XFSM_ACL_LIMIT_LOOKUPS,	/* worst packet over XFSM_ACL_MAX_LOOKUPS */
	XFSM_ACL_LIMIT_WORK,	/* replication beyond what the compiler tries */
};

/* What the compiler made, or where it stopped. */
struct xfsm_acl_build_info {
	enum xfsm_acl_limit limit;	/* NONE on success */
	size_t	need, have;		/* for the limit: needed, allowed */
	__u32	rule_order;		/* the rule it stopped at */
	__u32	rule_id;
	char	rule_text[400];		/* "rule ID (native syntax)" */
	unsigned int trees;
	size_t	nodes;
	unsigned int max_lookups;	/* the bound: worst packet, all trees */
	unsigned int max_depth;		/* cut nodes on the longest path */
};

/*
 * Compile a rule set (rules need not be sorted) into cut trees.  lim may
 * be NULL (no table limits), info may be NULL.  Errors: -ENOSPC (rules,
 * nodes or work over their limit), -E2BIG (more trees, or a worst packet
 * over XFSM_ACL_MAX_LOOKUPS lookups), -ENOMEM; *info says which limit and
 * at which rule.  Nothing is logged.
 */
int xfsm_acl_compile(const struct xfsm_acl_entry *rules, size_t n,
		     const struct xfsm_acl_limits *lim, struct xfsm_acl_built **out,
		     struct xfsm_acl_build_info *info);
/* The same without limits. */
int xfsm_acl_build(const struct xfsm_acl_entry *rules, size_t n,
		   struct xfsm_acl_built **out);
void xfsm_acl_built_free(struct xfsm_acl_built *b);
/* The built set's header (trees, counts, the lookup bound); it belongs to
 * b and lives until xfsm_acl_built_free(), as do the arrays below. */
const struct xfsm_acl_set *xfsm_acl_built_set(const struct xfsm_acl_built *b);
/* The rules by order (set->n_rules) and the nodes (set->n_nodes). */
const struct xfsm_acl_entry *xfsm_acl_built_rules(const struct xfsm_acl_built *b);
const struct xfsm_acl_node *xfsm_acl_built_nodes(const struct xfsm_acl_built *b);
/* Classify a field vector in process, exactly as the datapath does.
 * Returns 1 and the matching rule in *hit, or 0; *lookups (may be NULL)
 * gets the number of map lookups the datapath makes for it (nodes and
 * rules), never more than the set's max_lookups. */
int xfsm_acl_classify(const struct xfsm_acl_built *b, const __u32 fv[XFSM_FV_WORDS],
		      struct xfsm_acl_entry *hit, unsigned int *lookups);

/* ---- An instance's ACL tables ---------------------------------------------- */

/* -EOPNOTSUPP with a message when the instance has no ACL maps. */
int xfsm_acl_check(struct xfsm_instance *inst);

/* Capacities of the tables (per buffer: the region holds two). */
struct xfsm_acl_caps {
	__u32	rules[XFSM_ACL_TABLES];
	__u32	nodes[XFSM_ACL_TABLES];
};
/* XFSM_ACL_DEF_RULES rules and DEF_NODES_PER_RULE nodes per rule. */
void xfsm_acl_caps_default(struct xfsm_acl_caps *caps);
/* Entries the rule and node arrays need for these capacities. */
void xfsm_acl_caps_totals(const struct xfsm_acl_caps *caps, __u64 *rules, __u64 *nodes);
/* The tables' regions as an instance records them (its maps' equal
 * shares when nothing was recorded). */
int xfsm_acl_caps_get(struct xfsm_instance *inst, struct xfsm_acl_caps *caps);
/* Record the regions in a fresh instance whose arrays were sized with
 * xfsm_acl_caps_totals(); every table becomes empty. */
int xfsm_acl_caps_set(struct xfsm_instance *inst, const struct xfsm_acl_caps *caps);
/* The same on the xfsm_acl_ctl map's fd (the loader, before pinning). */
int xfsm_acl_caps_write_fd(int ctl_fd, const struct xfsm_acl_caps *caps);

/*
 * Replace the rules of ACL table `table` atomically: an application switch
 * (libxfsm's one, lib/apply.c) that compiles the rules within the table's
 * capacities (an error names the limit, the rule and the xfsm-loader
 * option that raises it), writes them into the buffer of the table the
 * running application slot does not name, and switches to a slot naming
 * it.  A failure before the switch leaves the running rules untouched.
 */
int xfsm_acl_install(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n);
/* The running rules of a table, sorted by precedence (rs is reset). */
int xfsm_acl_read(struct xfsm_instance *inst, unsigned int table,
		  struct xfsm_acl_rules *rs);
/* A table's counters, summed over CPUs.  -EINVAL for a table out of
 * 0..XFSM_ACL_TABLES-1, -EOPNOTSUPP without the ACL maps (for the
 * functions below too). */
int xfsm_acl_read_stats(struct xfsm_instance *inst, unsigned int table,
			struct xfsm_acl_stats *out);
/* The running set descriptor of a table (may be NULL) and the buffer the
 * running application slot names for it (may be NULL). */
int xfsm_acl_set_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_set *set, unsigned int *buffer);
/* The table's regions (filled in when defaulted) and, when set is not
 * NULL, the set packets use now. */
int xfsm_acl_ctl_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_ctl *ctl, struct xfsm_acl_set *set);

#endif /* XFSM_ACL_LIB_H */
