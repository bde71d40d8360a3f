/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The xfsm application language: compile `*.xfsm` text into an xfsm_image
 * ready for xfsm_apply(), plus the names (stages, states, conditions, rules,
 * ports, counters) that the datapath does not keep.  See docs/language.md.
 */
#ifndef XFSM_LANG_H
#define XFSM_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "libxfsm.h"
#include "xfsm_acl.h"
#include "xfsm_group.h"

#define XFSM_LANG_NAME_LEN	32
#define XFSM_LANG_MAX_STATES	256	/* named states per stage */
#define XFSM_LANG_MAX_DEFINES	128
#define XFSM_LANG_MAX_EXPAND	4096	/* table entries one rule may expand to */

enum xfsm_lang_table_kind { XFSM_TABLE_LRU = 0, XFSM_TABLE_HASH };

struct xfsm_stage_names {
	char	name[XFSM_LANG_NAME_LEN];
	/* Field ids (index into xfsm_lang_fields()) of the keys, in order. */
	int	lookup_fields[XFSM_KEY_WORDS];
	unsigned int n_lookup_fields;
	int	update_fields[XFSM_KEY_WORDS];
	unsigned int n_update_fields;
	int	match_fields[XFSM_MATCH_WORDS];
	unsigned int n_match_fields;
	bool	symmetric;
	bool	same_keys;
	__u32	table_size;		/* informative: one shared flow table */
	int	table_kind;		/* enum xfsm_lang_table_kind, informative */
	char	states[XFSM_LANG_MAX_STATES][XFSM_LANG_NAME_LEN]; /* by number */
	unsigned int n_states;		/* highest named state + 1 */
	char	conds[XFSM_MAX_CONDS][XFSM_LANG_NAME_LEN];
	char	*cond_text[XFSM_MAX_CONDS];	/* source text of each condition */
	char	regs[XFSM_FLOW_REGS][XFSM_LANG_NAME_LEN];
	size_t	body_end;		/* source offset of the stage's closing '}' */
	unsigned int line;
};

/* An output group the application declares (`group NAME = N POLICY ...`). */
struct xfsm_group_decl {
	char	name[XFSM_LANG_NAME_LEN];
	__u32	policy;			/* enum xfsm_group_policy */
	unsigned int n_members;
	__u16	ports[XFSM_GROUP_MAX_MEMBERS];
	__u16	weights[XFSM_GROUP_MAX_MEMBERS];
	__u64	macs[XFSM_GROUP_MAX_MEMBERS];	/* `mac M`: eth.dst written; 0: none */
	unsigned int line;
};

/* One source rule (it may have expanded into several table entries). */
struct xfsm_rule_names {
	unsigned int stage;
	__u32	rule_id;
	__u32	priority;
	unsigned int n_entries;		/* table entries it expanded into */
	char	name[XFSM_LANG_NAME_LEN];
	char	*text;			/* the rule statement as written */
	size_t	src_start, src_end;	/* its byte range in the source */
	unsigned int line;
};

struct xfsm_app_names {
	char	app[XFSM_LANG_NAME_LEN];
	unsigned int n_stages;
	struct xfsm_stage_names stages[XFSM_MAX_STAGES];
	struct xfsm_rule_names *rules;
	size_t	n_rules;
	char	ports[XFSM_MAX_PORTS][XFSM_LANG_NAME_LEN];
	char	counters[XFSM_MAX_COUNTERS][XFSM_LANG_NAME_LEN];
	unsigned int n_counters;
	char	globals[XFSM_GLOBAL_REGS][XFSM_LANG_NAME_LEN];
	/* ACL blocks (stages of kind XFSM_STAGE_ACL): their rules, by ACL
	 * table.  `xfsmctl apply` switches to these tables together with the
	 * application (xfsm_lang_apply()). */
	struct xfsm_acl_rules acl[XFSM_ACL_TABLES];
	unsigned int acl_tables;	/* bit t: table t belongs to the app */
	/* What the compiler warns about (a rule that can never match, a
	 * default taken silently): "FILE:LINE:COL: warning: MESSAGE" each,
	 * at most 100.  The application compiled; xfsmctl apply prints them. */
	char	**warnings;
	unsigned int n_warnings;
	/* Output groups it declares, by group number. */
	struct xfsm_group_decl groups[XFSM_MAX_GROUPS];
	__u64	groups_declared;	/* bit g: group g belongs to the app */
	/* The ports it sends to, by port number: where the first `output N`
	 * (N a number or a port name) or group member naming the port is
	 * written, "FILE:LINE:COL"; NULL: not sent to (xfsm_lang_check_ports()). */
	char	*port_use[XFSM_MAX_PORTS];
};

/*
 * Install a compiled application as one switch (as xfsm_apply()): its
 * stages, rules and names, the ACL tables of its ACL blocks and the output
 * groups it declares; other ACL tables and groups stay as they run.  A
 * consistent-hash group that only lost members keeps the slots of the
 * others (xfsm_group_rebuild() against the running group).  Returns 0
 * (switched), XFSM_APPLY_UNCHANGED (below: nothing to do, nothing done)
 * or a negative errno (the running application is untouched): -ENOENT,
 * with the message "FILE:LINE:COL: error: port N does not exist ..."
 * naming where the source first sends to it, for a port the instance
 * lacks (xfsm_apply_opts.unchecked_ports; offline uses such as the
 * simulator set it).  With opts->rules_only only stages and rules switch
 * (xfsmctl rule add|del).
 */
int xfsm_lang_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
		    const struct xfsm_app_names *names, const struct xfsm_apply_opts *opts);
/*
 * Would xfsm_lang_apply() refuse the application for a port `inst` does
 * not have (names->port_use)?  The switch checks it itself (the check of
 * xfsm_apply_opts.unchecked_ports, with the same message): this asks
 * beforehand, without a switch.  0, or -ENOENT with msg "FILE:LINE:COL:
 * error: ..." naming the first use of the first port it lacks (a negative
 * errno if the ports cannot be read).  Ports `running` (may be NULL) also
 * sends to are not checked: a change is refused for what it adds, not for
 * what already runs.
 */
int xfsm_lang_check_ports(struct xfsm_instance *inst, const struct xfsm_app_names *names,
			  const struct xfsm_app_names *running, char *msg, size_t len);
/*
 * xfsm_lang_apply()'s answer when the running application is identical
 * and nothing was written (no map at all: counters, flows, global
 * registers and the generation stay as they are).  Identical means: the
 * source the running application keeps compiles to the same image
 * (stages, rules, default verdict, the global values it sets), the same
 * names (application, stages, states, conditions, registers, rules and
 * their text, ports, counters, globals, groups) and the same ACL blocks
 * and group declarations, and since it was applied no ACL table or group
 * was changed by other means.  So comments, blank lines and indentation
 * outside rule and condition text do not count, and anything a tool shows
 * does.  Not with opts->force, flush_flows or reset_globals (they ask for
 * a switch), nor while an interrupted switch is still to be finished.
 */
#define XFSM_APPLY_UNCHANGED	1

/* The header fields the language knows (XFSM_FIELD_LIST), a static table:
 * *n (may be NULL) gets its length.  A field's id is its index. */
struct xfsm_lang_field {
	const char *name;
	unsigned int word;	/* first field-vector word */
	unsigned int nwords;
	unsigned int bits;
};
const struct xfsm_lang_field *xfsm_lang_fields(unsigned int *n);
int xfsm_lang_field_find(const char *name, size_t len);	/* id or -1 */

/* The reference of a field (docs/language.md, "Header fields"): how its
 * values are written, which packets have it (others read 0), what it is.
 * NULL for an id out of range. */
struct xfsm_lang_field_doc {
	const char *name;
	const char *format;
	const char *packets;
	const char *desc;
};
const struct xfsm_lang_field_doc *xfsm_lang_field_doc(int field_id);

/* The metadata operands (meta.time, meta.ifindex, meta.random): values of
 * a packet that conditions and updates read but rules cannot match. */
struct xfsm_lang_meta {
	const char *name;
	unsigned int bits;
	const char *desc;
	const char *why_not_matched;	/* and what to write instead */
};
const struct xfsm_lang_meta *xfsm_lang_metas(unsigned int *n);

/*
 * Compile application text.  `img` is initialized by the call and holds the
 * result (source text included) on success; on failure it is left empty
 * (xfsm_image_free() is still safe) and `err` holds one line
 * "FILE:LINE:COL: error: MESSAGE".  `names` may be NULL; when given it is
 * filled on success and must be released with xfsm_app_names_free().
 * Returns 0 or a negative errno (-EINVAL for errors in the text).
 */
int xfsm_compile_string(const char *filename, const char *text, size_t len,
			struct xfsm_image *img, struct xfsm_app_names *names,
			char *err, size_t errlen);
int xfsm_compile_file(const char *path, struct xfsm_image *img,
		      struct xfsm_app_names *names, char *err, size_t errlen);
void xfsm_app_names_free(struct xfsm_app_names *names);

/* Helpers for printing.  A state's name, or its number written into buf
 * when names is NULL or the state has none; the result is names' or buf's
 * memory.  The rule and stage lookups return NULL or -1 when there is no
 * such rule or stage. */
const char *xfsm_lang_verdict_name(unsigned int v);
const char *xfsm_lang_state_name(const struct xfsm_app_names *names,
				 unsigned int stage, __u32 state,
				 char *buf, size_t len);
const struct xfsm_rule_names *xfsm_lang_rule_by_id(const struct xfsm_app_names *names,
						   __u32 rule_id);
const struct xfsm_rule_names *xfsm_lang_rule_by_name(const struct xfsm_app_names *names,
						     unsigned int stage, const char *name);
int xfsm_lang_stage_by_name(const struct xfsm_app_names *names, const char *name);
/* Format a field value held in words (host order) as the language writes it;
 * returns the length of the text in buf (as strlen(buf); 0 when len is 0).
 * Room for any field: 46 bytes (an IPv6 address, INET6_ADDRSTRLEN). */
size_t xfsm_lang_format_field(int field_id, const __u32 *words, char *buf, size_t len);
/* Parse a field value ("198.18.0.1", "02:00:..", "22") into words. */
int xfsm_lang_parse_field(int field_id, const char *text, __u32 *words);

/*
 * A packet match outside an application, in the language's rule syntax:
 * "ip.src == 198.18.0.0/16, tcp.dport == 22" (exact values, prefixes,
 * ranges lo-hi, masks FIELD & MASK [== VALUE], separated by ',' or
 * "and"; "any" or "" for every packet), or with XFSM_LANG_MATCH_ASSIGN
 * field assignments "ip.src=198.18.0.1 tcp.flags=syn|ack" (values only,
 * separated by spaces or ',').  Values are what a rule takes: numbers,
 * addresses, builtin names (syn, tcp, ipv6), and the port names of
 * `names` when given.  Fills terms[0..*n-1] (at most max); on an error,
 * -EINVAL and one line "WHAT:1:COL: error: MESSAGE" in err.
 */
#define XFSM_LANG_MATCH_ASSIGN	(1U << 0)
#define XFSM_LANG_MATCH_MAX	16	/* fields in one match */

struct xfsm_lang_match_term {
	int	field;		/* xfsm_lang_fields() id */
	bool	range;		/* lo..hi (one-word values) instead of val/mask */
	__u32	val[4];		/* the field's words, most significant first */
	__u32	mask[4];
	__u32	lo[4];
	__u32	hi[4];
};

int xfsm_lang_parse_match(const char *what, const char *text,
			  const struct xfsm_app_names *names, unsigned int flags,
			  struct xfsm_lang_match_term *terms, unsigned int max,
			  unsigned int *n, char *err, size_t errlen);

#endif /* XFSM_LANG_H */
