/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL module from user space: rule syntax (native and ClassBench),
 * building the tuple-space search structure, installing a rule set into an
 * ACL table atomically, reading it back, and classifying in process with
 * the datapath's own rule check (include/xfsm/acl_match.h).
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
};

void xfsm_acl_rules_free(struct xfsm_acl_rules *rs);
/* Append a rule; rule_id 0 gets the next id after the highest in use.
 * -EEXIST when the id is taken. */
int xfsm_acl_rules_add(struct xfsm_acl_rules *rs, const struct xfsm_acl_entry *e);
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
/* One ClassBench filter line ("@src/len\tdst/len\tlo : hi\t..."); its
 * flags field is ignored (the ACL classifies ClassBench sets on the
 * 5-tuple).  The rule gets action `deny` and no id. */
int xfsm_acl_parse_classbench(const char *line, struct xfsm_acl_entry *e);
/* Read a rule file: ClassBench when the first rule line starts with '@'
 * (rule i of the file gets id i + 1), native syntax otherwise ('#'
 * comments, blank lines).  Rules are appended to rs.  Errors name
 * FILE:LINE in err. */
int xfsm_acl_load_file(const char *path, struct xfsm_acl_rules *rs,
		       char *err, size_t errlen);
/* The rule in native syntax (parses back to the same rule). */
void xfsm_acl_format(const struct xfsm_acl_entry *e, char *buf, size_t len);

/* ---- Building and classifying ------------------------------------------- */

struct xfsm_acl_built;

/* Build the search structure of a rule set (rules need not be sorted).
 * -E2BIG when it needs more than XFSM_ACL_MAX_TUPLES tuples or more than
 * XFSM_ACL_MAX_RULES rules. */
int xfsm_acl_build(const struct xfsm_acl_entry *rules, size_t n,
		   struct xfsm_acl_built **out);
void xfsm_acl_built_free(struct xfsm_acl_built *b);
const struct xfsm_acl_set *xfsm_acl_built_set(const struct xfsm_acl_built *b);
size_t xfsm_acl_built_buckets(const struct xfsm_acl_built *b);
/* Classify a field vector in process, exactly as the datapath does.
 * Returns 1 and the matching rule in *hit, or 0; *probes (may be NULL)
 * gets the number of hash lookups. */
int xfsm_acl_classify(const struct xfsm_acl_built *b, const __u32 fv[XFSM_FV_WORDS],
		      struct xfsm_acl_entry *hit, unsigned int *probes);

/* ---- An instance's ACL tables ---------------------------------------------- */

/* -EOPNOTSUPP with a message when the instance has no ACL maps. */
int xfsm_acl_check(struct xfsm_instance *inst);
/*
 * Replace the rules of ACL table `table` atomically: an application switch
 * (xfsm_apply_change()) that builds the set into the buffer of the table
 * the running slot does not name, and switches to a slot naming it.  A
 * failure before the switch leaves the running rules untouched.
 */
int xfsm_acl_install(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n);
/* The running rules of a table, sorted by precedence (rs is reset). */
int xfsm_acl_read(struct xfsm_instance *inst, unsigned int table,
		  struct xfsm_acl_rules *rs);
int xfsm_acl_read_stats(struct xfsm_instance *inst, unsigned int table,
			struct xfsm_acl_stats *out);
/* The running set descriptor of a table (may be NULL) and the buffer the
 * running application slot names for it (may be NULL). */
int xfsm_acl_set_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_set *set, unsigned int *buffer);

#endif /* XFSM_ACL_LIB_H */
