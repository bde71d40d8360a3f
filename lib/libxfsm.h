/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libxfsm: the user-space API shared by xfsm-loader, xfsmctl, the tests and
 * any external controller (installed as <xfsm/libxfsm.h>; link with
 * `pkg-config --libs libxfsm`; docs/libxfsm.md is the guide).
 *
 * Conventions for every function of the public headers:
 *  - a function that can fail returns 0 (or a count) on success and a
 *    negative errno on failure; errors that a user should read are also
 *    reported through the log function (xfsm_set_log()).  Errors of the
 *    bpf() syscall come back as they are (-EPERM without privileges,
 *    -ENOENT for a missing key, -E2BIG for a full table, ...);
 *  - a pointer argument the library keeps or returns says who frees it;
 *    everything else is only read during the call;
 *  - the library has no global state of its own besides the log function
 *    and the map used by xfsm_sync_rcu(); one xfsm_instance must not be
 *    used by two threads at once, two instances may.
 *
 * Structure versions: a structure the library allocates (xfsm_instance)
 * grows only at its end, so never allocate, copy or embed one.  An options
 * structure (xfsm_apply_opts) starts with its size and is declared with
 * XFSM_OPTS().  Structures the caller allocates and fills (xfsm_image and
 * the datapath ABI structures of <xfsm/abi.h>) keep their layout for the
 * life of the soname libxfsm.so.0.
 */
#ifndef LIBXFSM_H
#define LIBXFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "xfsm/abi.h"

struct bpf_object;

/* ---- Logging --------------------------------------------------------------- */

enum xfsm_log_level { XFSM_LOG_ERROR, XFSM_LOG_WARN, XFSM_LOG_INFO, XFSM_LOG_DEBUG };
/* Receives one message, without a trailing newline as a rule; msg is valid
 * only during the call. */
typedef void (*xfsm_log_fn)(enum xfsm_log_level lvl, const char *msg);
/* Route the library's messages to fn for the whole process (NULL, the
 * default: errors and warnings to stderr prefixed "xfsm: ", debug messages
 * only when $XFSM_DEBUG is set).  Set it once, before using instances. */
void xfsm_set_log(xfsm_log_fn fn);
/* Format a message and hand it to the log function (at most 1023 bytes;
 * longer text is cut). */
void xfsm_log(enum xfsm_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- Options structures ------------------------------------------------- */

/*
 * XFSM_OPTS(TYPE, NAME, field = value, ...) declares `struct TYPE NAME`
 * with NAME.sz = sizeof(struct TYPE) and every byte not named zero,
 * padding included.  A field left out is zero, which always means the
 * default.  The library reads only the fields that fit in sz, so a program
 * built against an older header gets the defaults of the fields it does
 * not know, and it refuses (-EINVAL) an options structure with a non-zero
 * byte beyond the last field it knows: a program asking for an option this
 * library does not have.
 */
#define XFSM_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };	\
	})

/* ---- Maps of an instance -------------------------------------------------- */

enum xfsm_map_id {
	XFSM_M_CTL,
	XFSM_M_APPS,
	XFSM_M_RULES,
	XFSM_M_FLOWS,
	XFSM_M_GLOBALS,
	XFSM_M_STATS,		/* the statistics block (native; see xfsm_stats_where()) */
	XFSM_M_STAGE_STATS,	/* offload profile only */
	XFSM_M_RULE_STATS,
	XFSM_M_COUNTERS,
	XFSM_M_PORTS,
	XFSM_M_TX_PORTS,	/* absent in the offload profile */
	XFSM_M_APPSRC,
	XFSM_M_LOCKS,		/* striped flow locks; not used by user space */
	XFSM_M_IDS,		/* statistics identities of each slot */
	/* ACL module (lib/xfsm_acl.h); absent in the offload profile and in
	 * instances loaded by an older datapath. */
	XFSM_M_ACL_CTL,
	XFSM_M_ACL_SETS,
	XFSM_M_ACL_RULES,
	XFSM_M_ACL_STATS,
	/* Output groups and port flags (lib/xfsm_group.h); optional too. */
	XFSM_M_GROUPS,
	XFSM_M_GROUP_STATS,
	XFSM_M_GROUP_RR,
	XFSM_M_GROUP_FLOWS,
	XFSM_M_PORT_FLAGS,
	XFSM_M_XSKS,		/* AF_XDP sockets (lib/xfsm_xsk.h); optional */
	XFSM_M_STAGE_BASE,	/* stage statistics' baselines (user space only) */
	XFSM_M_PORT_GEN,	/* port table generation (native); optional */
	XFSM_M_ACL_NODES,	/* ACL cut-tree nodes (lib/xfsm_acl.h); optional */
	XFSM_M_OBS_CFG,		/* trace and capture (native); optional */
	XFSM_M_TRACE,		/* their ring buffer (native); optional */
	XFSM_M_EVENTS,		/* flow events ring (native); optional */
	XFSM_M_PROGS,		/* specialized programs (native); optional */
	XFSM_M_WORK,		/* per-CPU packet scratch (native): the bail word and
				 * port cache a specialized program shares; optional */
	XFSM_M_FLOWS_N,		/* the narrow stages' flows (native; XFSM_SF_NARROW):
				 * absent, every flow is in XFSM_M_FLOWS; optional */
	XFSM_M_FLOWS_M,		/* the medium stages' flows (native; XFSM_SF_MEDIUM):
				 * likewise; optional */
	XFSM_M_CG_BASE,		/* count groups' baselines (native, user space only) */
	XFSM_M_CG_FOLD,		/* count groups' folds and sequence count (native,
				 * user space only); both absent: no groups */
	XFSM_M__MAX,
};

/* Map name (as in the BPF object and in the pin directory) of each id. */
extern const char *const xfsm_map_names[XFSM_M__MAX];

#define XFSM_PIN_ROOT		"/sys/fs/bpf/xfsm"
#define XFSM_DEFAULT_INSTANCE	"default"
#define XFSM_INSTANCE_NAME_MAX	63

/*
 * Instance names become directory names under the pin root, so every
 * entry point (tools, library, examples) checks them here and nowhere
 * else: 1 to 63 of letters, digits, '-', '_' and '.', not starting with
 * '.' (no "..", no hidden directory, never a '/').  0, or -EINVAL with a
 * message naming the offending character.
 */
int xfsm_instance_name_check(const char *name);

/*
 * A network namespace, as the kernel names it: the device and inode of its
 * nsfs file (what `ls -l /proc/PID/ns/net` shows as net:[INODE]), and the
 * name it has under /run/netns (iproute2's `ip netns`), "" when none.  An
 * instance's ports are ifindexes, which mean something only there.
 */
struct xfsm_netns {
	__u64	dev;
	__u64	ino;
	char	name[64];
};

/* The calling thread's network namespace. */
int xfsm_netns_self(struct xfsm_netns *ns);
/* Set ns->name to the namespace's name under /run/netns now, when it has
 * one (else the name is left as it was recorded). */
void xfsm_netns_rename(struct xfsm_netns *ns);
bool xfsm_netns_same(const struct xfsm_netns *a, const struct xfsm_netns *b);
/* "'NAME' (net:[INODE])", or "net:[INODE]" for a namespace without a name;
 * the name is looked up again under /run/netns. */
const char *xfsm_netns_str(const struct xfsm_netns *ns, char *buf, size_t len);
/*
 * Move the calling thread into ns for netlink and ifindex lookups (the
 * mount namespace, and with it bpffs, stays the caller's).  *back is -1
 * when the thread is there already, else what xfsm_netns_leave() needs.
 * -ENOENT when no handle on ns can be found (not under /run/netns and no
 * process in it: most likely it no longer exists), -EPERM without
 * CAP_SYS_ADMIN.  Logs nothing.
 */
int xfsm_netns_enter(const struct xfsm_netns *ns, int *back);
void xfsm_netns_leave(int back);

/*
 * An instance is one set of datapath maps: opened from a pin directory,
 * from a loaded BPF object (tests, loader) or from an attached program id
 * (a datapath attached with `ip link ... xdp obj`).
 *
 * The open functions allocate it and xfsm_instance_close() frees it; its
 * fields are the caller's to read, not to write.  Later versions of the
 * library append fields (map_id to netns_known were added so), which is why a
 * caller never allocates, copies or embeds a struct xfsm_instance.
 */
struct xfsm_instance {
	char	name[64];
	char	pin_dir[256];		/* "" when not pinned */
	int	map_fd[XFSM_M__MAX];	/* -1 when absent */
	__u32	map_max_entries[XFSM_M__MAX];
	__u32	map_type[XFSM_M__MAX];
	struct xfsm_build_info build;	/* from the program's .rodata */
	bool	percpu_stats;		/* native profile: per-CPU stats maps */
	int	nr_cpus;		/* possible CPUs (per-CPU value count) */
	__u32	max_rules;		/* rules per slot = rule stats / 2 */
	bool	owns_fds;		/* close() closes the map fds */
	__u32	map_id[XFSM_M__MAX];
	__u32	map_key_size[XFSM_M__MAX];
	__u32	map_value_size[XFSM_M__MAX];
	__u32	map_flags[XFSM_M__MAX];
	__u32	nolock_mask;		/* bit id: map refuses BPF_F_LOCK */
	/* The network namespace of the instance's ports, from its pins
	 * (netns_known false: unpinned, or loaded by an older loader, so
	 * the caller's namespace is assumed). */
	struct xfsm_netns netns;
	bool	netns_known;
	/* libxfsm's own: the states each stage of the running application
	 * can have, for xfsm_flow_set() (lib/flows.c), freed by close. */
	struct xfsm_flow_states *flow_states;
	/* libxfsm's own: the count group tables and baselines as of one
	 * value of their sequence count (lib/count_groups.c), freed by close. */
	struct xfsm_cg_cache *cg_cache;
};

/* Open the pinned instance NAME (NULL: "default") under the pin root
 * ($XFSM_PIN_ROOT or XFSM_PIN_ROOT), checking the name first
 * (xfsm_instance_name_check()).  *out is NULL on failure, else the
 * caller's to close.  Errors name their cause: an unknown instance
 * (-ENOENT) is not a permission problem (-EACCES/-EPERM: not root, or
 * without CAP_BPF). */
int xfsm_instance_open(const char *name, struct xfsm_instance **out);
/*
 * Open the instance pinned in pin_dir.  *out is NULL on failure, else the
 * caller's to close.  -EINVAL for an empty path, -ENOENT when there is no
 * instance there (or a map it must have is missing), -EACCES/-EPERM
 * without the privileges to open pins (root, or CAP_BPF).  Maps the
 * datapath may lack (ACL, groups, ...) are opened when present.
 */
int xfsm_instance_open_pin_dir(const char *pin_dir, struct xfsm_instance **out);
/* Open the maps of a loaded libbpf object.  The object keeps owning the
 * map fds: close the instance before the object.  -ENOENT when a needed
 * map is missing. */
int xfsm_instance_open_obj(struct bpf_object *obj, struct xfsm_instance **out);
/* Open the maps of the xfsm program with this id (a datapath attached
 * with ip-link, found through the interface's XDP program id).  -ENOENT
 * when the program does not exist or is not the xfsm datapath. */
int xfsm_instance_open_prog_id(__u32 prog_id, struct xfsm_instance **out);
/* Close the map fds the instance owns and free it; NULL is a no-op. */
void xfsm_instance_close(struct xfsm_instance *inst);
/* Enter the network namespace of the instance's ports (see
 * xfsm_netns_enter()); on failure a message names the namespace. */
int xfsm_instance_netns_enter(const struct xfsm_instance *inst, int *back);
/* 0 when the datapath has this library's ABI version and map layouts;
 * -EPROTO, with a message naming what differs, otherwise.  Call it after
 * opening: the other functions assume a matching datapath. */
int xfsm_instance_check_abi(const struct xfsm_instance *inst);
/* Serialise writers of the control block (apply, ctl updates) across
 * processes: an open file description lock on a fresh file of the
 * control map, at the map's id (each instance its own lock, which the
 * kernel drops when its holder dies; never nest it).  Returns a value
 * for xfsm_instance_unlock() (-1 when no lock could be taken: a debug
 * message is logged and the caller goes on unlocked). */
int xfsm_instance_lock(const struct xfsm_instance *inst);
void xfsm_instance_unlock(int lock);
/* Number of entries in a map of the instance (hash maps are walked in
 * batches; arrays report max_entries).  Negative errno on failure. */
long xfsm_map_count(struct xfsm_instance *inst, enum xfsm_map_id id);

/* ---- Statistics identities ------------------------------------------------ */

/*
 * Statistics belong to named objects: a stage, rule or counter that the
 * next application still has (same kind, same name) keeps its statistics
 * index and its counts; a new one starts at 0; a removed one is gone.
 * Names are the compiler's ("knock", "knock/ssh_open" for rule ssh_open of
 * stage knock, "hits"); objects of hand-built images are known by position
 * ("#2" for stage 2 or counter 2, "#0/#17" for rule id 17 of stage 0).
 */
enum xfsm_sid_kind {
	XFSM_SID_STAGE = 1,
	XFSM_SID_RULE,
	XFSM_SID_COUNTER,
	XFSM_SID__COUNT,
};

#define XFSM_SID_NAME_LEN	64

struct xfsm_stat_ident {
	__u32	kind;		/* enum xfsm_sid_kind */
	__u32	index;		/* statistics index (of the running application) */
	__u32	pos;		/* stage; counter (the count action's arg in the
				 * image); rule: its first image rule id */
	__u32	n;		/* rule: image rule ids pos..pos+n-1; else 1 */
	char	name[XFSM_SID_NAME_LEN];
};

struct xfsm_stat_idents {
	struct xfsm_stat_ident *v;
	size_t	n, cap;
	__u32	generation;	/* of the application they belong to */
};

/* Append an identity (index 0); -ENAMETOOLONG past XFSM_SID_NAME_LEN - 1. */
int xfsm_stat_idents_add(struct xfsm_stat_idents *ids, __u32 kind, __u32 pos, __u32 n,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void xfsm_stat_idents_free(struct xfsm_stat_idents *ids);
/* The identity of a stage, a counter, or the rule an image rule id belongs
 * to (ids sorted by kind and position, as read); NULL when none. */
const struct xfsm_stat_ident *xfsm_stat_idents_find(const struct xfsm_stat_idents *ids,
						    __u32 kind, __u32 pos);

/* ---- Compiled application images ---------------------------------------- */

/*
 * An image is an application as tables: what xfsm_compile_file()
 * (<xfsm/xfsm_lang.h>) produces and xfsm_apply() installs.  It can also be
 * built by hand from the ABI structures (the tests do).
 */

/* What a rule matches, before it is placed into a tuple. */
struct xfsm_rule_match {
	__u32	state;
	__u32	state_mask;
	__u32	conds;
	__u32	cond_mask;
	__u32	match[XFSM_MATCH_WORDS];
	__u32	match_mask[XFSM_MATCH_WORDS];
};

struct xfsm_rule_entry {
	struct xfsm_rule_key key;	/* key.slot is set by xfsm_apply() */
	struct xfsm_rule rule;
};

/*
 * An application ready to push: the configuration block, its rules and its
 * initial global register values.  Built by the compiler (lib/lang*) or by
 * hand (tests).
 */
struct xfsm_image {
	struct xfsm_app app;
	struct xfsm_rule_entry *rules;
	size_t	n_rules;
	size_t	cap_rules;
	__u64	globals[XFSM_GLOBAL_REGS];
	__u32	globals_set;		/* bit i: write globals[i] on apply */
	char	*source;		/* application text kept for `show` */
	size_t	source_len;		/* read back with source NULL: a source
					 * of that length that was not kept */
	void	*index;			/* private: rule lookup index */
	/* Names of stages, rules (first rule id, entries) and counters, for
	 * statistics identity; empty: known by position.  The compiler
	 * fills them. */
	struct xfsm_stat_idents idents;
};
/* An image owns its rules, source, index and identities: do not copy one
 * by struct assignment and then change or free both. */

/* Zeroes the image; every stage's key and match words are XFSM_FW_ZERO
 * (flags XFSM_SF_SAME_KEYS).  app.n_stages, enabled, verdicts are the
 * caller's to set. */
void xfsm_image_init(struct xfsm_image *img);
/* Frees what the image holds and re-initialises it. */
void xfsm_image_free(struct xfsm_image *img);
/*
 * Add a rule to a stage: the rule goes into the tuple whose masks equal the
 * match's masks (a new tuple is made if needed).  rule->rule_id is assigned
 * when 0xffffffff is passed (the next id after the highest one in use).
 * -E2BIG when the stage has no tuple left, -EEXIST when a rule with the same
 * masked key, or the same explicit rule id, already exists.  Key values are
 * stored masked; key.slot is 0.  Tuples stay sorted by max_priority, highest
 * first (ties: older tuple first), and rule keys' tuple indexes follow.
 * Does not change app.n_stages.  Rules appended to rules[] by hand are
 * picked up; rules changed in place by hand are not (rebuild the image).
 */
int xfsm_image_add_rule(struct xfsm_image *img, unsigned int stage,
			const struct xfsm_rule_match *m,
			const struct xfsm_rule *rule);
/* Remove the rule with this id (tuples left empty are removed, max_priority
 * recomputed, tuples kept sorted).  -ENOENT when there is no such rule. */
int xfsm_image_del_rule(struct xfsm_image *img, __u32 rule_id);
/* Check what xfsm_apply() would refuse without touching a datapath:
 * limits, tuple order, rule keys consistent with their tuples, a
 * transition whose timeout rolls back to the state it enters or whose idle
 * timeout is not shorter than its hard one (xfsm_timeouts_check()).
 * max_rules may be 0 (rule ids not checked). */
int xfsm_image_validate(const struct xfsm_image *img, __u32 max_stages,
			__u32 max_tuples, __u32 max_rules);
/* Set up a stage's keys from word lists (XFSM_FW_* indexes, n <= KEY_WORDS);
 * rev lists may be NULL for non-symmetric stages. */
int xfsm_stage_set_keys(struct xfsm_stage *st,
			const __u8 *lookup, const __u8 *lookup_rev, unsigned int n_lookup,
			const __u8 *update, const __u8 *update_rev, unsigned int n_update);

/* The XFSM_AF_NEEDS_* flags (port, random, time) the image's operands,
 * keys and match words call for.  The compiler sets them all; xfsm_apply()
 * adds XFSM_AF_NEEDS_TIME itself. */
__u32 xfsm_image_meta_flags(const struct xfsm_image *img);

/* Operand constructors, for images built by hand: a constant, a field of
 * the field vector (word, width in bits), flow register i, global register
 * i, packet metadata, the flow's state. */
struct xfsm_operand xfsm_opnd_const(__u64 v);
struct xfsm_operand xfsm_opnd_field(unsigned int word, unsigned int width);
struct xfsm_operand xfsm_opnd_flow_reg(unsigned int i);
struct xfsm_operand xfsm_opnd_global(unsigned int i);
struct xfsm_operand xfsm_opnd_meta(enum xfsm_meta m);
struct xfsm_operand xfsm_opnd_state(void);

/* ---- Applying ------------------------------------------------------------- */

/* Declare with XFSM_OPTS(xfsm_apply_opts, opts, ...).  Zero fields: the
 * flows of stages whose keys did not change are kept, and global registers
 * the image does not set keep their values. */
struct xfsm_apply_opts {
	size_t	sz;		/* sizeof(struct xfsm_apply_opts) */
	bool	flush_flows;	/* delete every flow, also of unchanged stages */
	bool	reset_globals;	/* zero the global registers the image does not set */
	bool	force;		/* xfsm_lang_apply(): switch even when the running
				 * application is identical (xfsm_apply() always
				 * switches) */
	__u32	datapath;	/* enum xfsm_datapath: which program runs it */
	/* The switch is refused (-ENOENT, with a message) when it makes the
	 * datapath send to a port the instance does not have: an `output N`
	 * of its rules (N a constant) or a member of a group it writes; a
	 * port the running application already sends to is not checked (a
	 * change is refused for what it adds).  unchecked_ports skips that,
	 * for an instance whose ports are made up after the switch: the
	 * simulator's scratch instance, a test harness that runs packets
	 * through BPF_PROG_TEST_RUN. */
	bool	unchecked_ports;
	/* xfsm_lang_apply(): switch the stages and rules only, as
	 * xfsm_apply() does (always, even when identical); ACL tables and
	 * output groups stay as they run and the application's ACL blocks
	 * and group declarations are not installed (xfsmctl rule add|del). */
	bool	rules_only;
};
#define xfsm_apply_opts__last_field rules_only

/* Which program runs an application (docs/specializer.md). */
enum xfsm_datapath {
	XFSM_DP_AUTO = 0,	/* a program generated for it where possible,
				 * else the generic datapath */
	XFSM_DP_GENERIC,	/* the generic datapath */
	XFSM_DP_SPECIALIZED,	/* a program generated for it, or fail */
	XFSM_DP_KEEP,		/* the mode the running application was
				 * switched with (auto when none) */
	XFSM_DP__MAX,
};

/*
 * Switch to the application of `img`, atomically whatever moment the
 * process dies (lib/apply.c): everything new is written where the running
 * application does not look, one map update switches all of it, and what
 * the old application alone used is cleared once no packet uses it.  A
 * failure before the switch leaves the running application untouched.
 * opts may be NULL (the defaults).  Errors: -EINVAL for a bad image or
 * options structure, -E2BIG when the image exceeds the datapath's limits
 * (stages, tuples, rules), -ENOENT/-EPROTO for an instance that is not a
 * complete datapath of this ABI, or what a map update returned; each comes
 * with a message.  Serialised against other writers by
 * xfsm_instance_lock(), which it takes itself.
 */
int xfsm_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
	       const struct xfsm_apply_opts *opts);
/* Read back the running application (configuration, rules sorted by id
 * with image rule ids, key.slot 0 and image_id 0, count actions with the
 * image's counter numbers, source text, current global values with
 * globals_set 0).  The stage descriptors keep what libxfsm set (epoch,
 * stats_id, rule_buf; acl_buf and group_buf of the slot).  The source
 * comes back whole or not at all (source NULL; source_len > 0 when it was
 * too large to keep, lib/xfsm_appsrc.h).  Initialises *img; free it with
 * xfsm_image_free(). */
int xfsm_read_app(struct xfsm_instance *inst, struct xfsm_image *img);

/* Wait until every XDP program run that started before the call finished
 * (an RCU grace period, through a map-in-map update).  Thread-safe. */
int xfsm_sync_rcu(void);

/* ---- Reading state and statistics -------------------------------------- */

/* Statistics into a caller's structure: per-CPU values summed; for the
 * offload profile, the single value.  Datapath-wide counters, one stage's
 * (0..XFSM_MAX_STAGES-1), one rule's (an image rule id of the running
 * application) and user counter idx (0..XFSM_MAX_COUNTERS-1).  -ERANGE
 * for an index out of range, -ENOENT when the map is absent, -EPROTO when
 * its value size is not this ABI's. */
int xfsm_read_stats(struct xfsm_instance *inst, struct xfsm_stats *out);
/* Statistics of the running application's stage, of the rule an image rule
 * id belongs to, of a counter (its number in the image): -ENOENT when the
 * application has no such object. */
int xfsm_read_stage_stats(struct xfsm_instance *inst, unsigned int stage,
			  struct xfsm_stage_stats *out);
int xfsm_read_rule_stats(struct xfsm_instance *inst, __u32 rule_id,
			 struct xfsm_rule_stats *out);
int xfsm_read_counter(struct xfsm_instance *inst, unsigned int idx,
		      struct xfsm_counter *out);
/* The running application's identities with their statistics indexes,
 * sorted by kind and position (empty before any apply).  Reading many
 * objects: read these once, then by index below. */
int xfsm_read_stat_idents(struct xfsm_instance *inst, struct xfsm_stat_idents *out);
int xfsm_read_stage_stats_at(struct xfsm_instance *inst, __u32 index,
			     struct xfsm_stage_stats *out);
int xfsm_read_rule_stats_at(struct xfsm_instance *inst, __u32 index,
			    struct xfsm_rule_stats *out);
int xfsm_read_counter_at(struct xfsm_instance *inst, __u32 index,
			 struct xfsm_counter *out);
/* Zero every statistics map of the instance (datapath, stage, port, rule
 * and user counters, the stage baselines, and the count groups' pairs,
 * baselines and folds: every counter reads 0), on all CPUs.  Takes
 * xfsm_instance_lock(). */
int xfsm_reset_stats(struct xfsm_instance *inst);

/* Where the counters a packet writes but the rules' live: the one place
 * that knows the layouts (XFSM_MAP_STATS in xfsm/abi.h).  The native
 * profile keeps all of them in xfsm_stats[0], the statistics block; the
 * offload profile the datapath's in xfsm_stats[0], the stages' in
 * xfsm_stg_stats[index], and no port counters (-EOPNOTSUPP).  -ERANGE for
 * an index out of range. */
enum xfsm_stats_kind {
	XFSM_SK_DATAPATH,	/* struct xfsm_stats (index 0) */
	XFSM_SK_STAGE,		/* struct xfsm_stage_stats, by stats_id */
	XFSM_SK_PORT,		/* struct xfsm_port_stats, by port number */
	XFSM_SK_GROUPS,		/* struct xfsm_count_group[XFSM_COUNT_GROUPS]: an
				 * application slot's pairs, by slot (native) */
};

struct xfsm_stats_loc {
	enum xfsm_map_id map;
	__u32	key;
	__u32	off;		/* bytes into the map value */
	__u32	size;
};

int xfsm_stats_where(const struct xfsm_instance *inst, enum xfsm_stats_kind kind,
		     __u32 index, struct xfsm_stats_loc *loc);
/* Does the instance keep them in the statistics block? */
bool xfsm_stats_in_block(const struct xfsm_instance *inst);

/*
 * Count groups (struct xfsm_count_group in xfsm/abi.h): one member of a
 * group is one counter the group stands for.  A slot's table lists every
 * member of every group its specialized program increments; readers add
 * the group's packets (bytes = 0) or bytes (bytes = 1) to that counter.
 */
enum xfsm_cg_space {
	XFSM_CG_DATAPATH = 1,	/* a field of struct xfsm_stats (index 0) */
	XFSM_CG_STAGE,		/* a field of struct xfsm_stage_stats, by stats_id */
	XFSM_CG_RULE,		/* a field of struct xfsm_rule_stats, by index */
};

struct xfsm_cg_member {
	__u16	group;		/* < XFSM_COUNT_GROUPS */
	__u8	space;		/* enum xfsm_cg_space */
	__u8	bytes;		/* 1: the group's bytes, 0: its packets */
	__u32	index;		/* stage stats_id or rule statistics index */
	__u32	off;		/* the __u64 field's byte offset in its struct */
};

struct xfsm_cg_table {
	struct xfsm_cg_member	*m;
	size_t			n, cap;
	__u32			n_groups;	/* groups used: 0..n_groups-1 */
};

/* Members a table may have: 12 bytes each, at most 192 KiB of xfsm_ids per slot. */
#define XFSM_CG_MAX_MEMBERS	(XFSM_COUNT_GROUPS * 64)

/*
 * Give application slot `slot`'s pairs to the program apply is about to
 * install there, whose groups table `t` describes (NULL or empty: a
 * program without groups).  Apply does so for the slot it writes, which
 * does not run, before the switch (with its own variant, under its
 * instance lock); this function takes xfsm_instance_lock() itself, so
 * never call it holding that lock.  The counts of
 * the slot's previous groups stay in their counters (folded), and the
 * pairs count from now for t's members.  -EINVAL for a table that
 * xfsm_cg_table_check() refuses, with nothing changed; -EOPNOTSUPP for a
 * non-empty table on an instance without groups (offload profile).
 */
int xfsm_cg_install(struct xfsm_instance *inst, __u32 slot, const struct xfsm_cg_table *t);
/* 0, or -EINVAL (said) for a table no instance may install. */
int xfsm_cg_table_check(const struct xfsm_instance *inst, const struct xfsm_cg_table *t);
/* The table installed in `slot` (empty when none); free it with
 * xfsm_cg_table_free(). */
int xfsm_cg_table_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_cg_table *out);
void xfsm_cg_table_free(struct xfsm_cg_table *t);
/* The entry as the datapath counts it (summed over CPUs; for a stage,
 * without subtracting its baseline): `size` is the entry's. */
int xfsm_stats_read_raw(struct xfsm_instance *inst, enum xfsm_stats_kind kind, __u32 index,
			void *out, size_t size);
/* Record stage statistics entry `index`'s count as its baseline (an
 * application switch gives the entry to a new stage; lib/apply.c). */
int xfsm_stage_stats_rebase(struct xfsm_instance *inst, __u32 index);
/* Zero entries first..first+n-1 of an array map (all CPUs). */
int xfsm_array_zero(struct xfsm_instance *inst, enum xfsm_map_id id,
		    __u32 first, __u32 n);

/* Global register idx (0..XFSM_GLOBAL_REGS-1; -ERANGE otherwise).  A set
 * is a locked read-modify-write of the registers' map value. */
int xfsm_global_get(struct xfsm_instance *inst, unsigned int idx, __u64 *val);
int xfsm_global_set(struct xfsm_instance *inst, unsigned int idx, __u64 val);
/* All global registers at once (one locked map value). */
int xfsm_globals_read(struct xfsm_instance *inst, __u64 regs[XFSM_GLOBAL_REGS]);
int xfsm_globals_write(struct xfsm_instance *inst, const __u64 regs[XFSM_GLOBAL_REGS]);

/* The control block: active application slot, generation, clock... */
int xfsm_ctl_get(struct xfsm_instance *inst, struct xfsm_ctl *ctl);
/* Writers of xfsm_ctl: each a locked read-modify-write (see
 * xfsm_instance_lock()).  Anything else that writes xfsm_ctl must take that
 * lock too, or it may undo an apply's switch of the active slot. */
int xfsm_ctl_set_malformed_verdict(struct xfsm_instance *inst, enum xfsm_verdict v);
/* Offload profile: the datapath's time source (xfsm_ctl.clock_ns). */
int xfsm_ctl_set_clock(struct xfsm_instance *inst, __u64 now_ns);
/* Observers (xfsm_ctl.observe): set (on) or clear the XFSM_OBS_* bits. */
int xfsm_ctl_set_observe(struct xfsm_instance *inst, __u32 bits, bool on);

/* Flow table access.  xfsm_flow_key_build() fills a key from the stage
 * configuration and a field vector, exactly as the datapath does: from the
 * lookup key, or the update key when update_scope is set (the two differ
 * unless the stage has XFSM_SF_SAME_KEYS), ordered for symmetric stages.
 * A flow belongs to the running application only when key.epoch equals its
 * stage's epoch (entries of older key definitions wait to be deleted). */
void xfsm_flow_key_build(const struct xfsm_stage *st, unsigned int stage,
			 const __u32 fv[XFSM_FV_WORDS], bool update_scope,
			 struct xfsm_flow_key *key);
/* Read, write (create or replace) and delete one flow, in the table that
 * holds its stage's flows under the running application: the narrow one
 * (XFSM_M_FLOWS_N) for a stage marked XFSM_SF_NARROW, the medium one
 * (XFSM_M_FLOWS_M) for XFSM_SF_MEDIUM, where the datapath has it, under
 * the key's first bytes (xfsm_flow_table_class); -EINVAL for a key with
 * a word set past them.
 * -ENOENT: no such flow; -E2BIG: a plain hash flow table is full.
 * xfsm_flow_set() refuses (-EINVAL) timeouts that xfsm_timeouts_check()
 * finds wrong for the flow's state, the hard timeout taken as
 * hard_deadline_ns - created_ns (the state's entry), and a flow the
 * running application cannot have: of a stage that is not one of its
 * stateful stages, of another epoch than the stage's keys, or in a state
 * (its own, or a running timeout's rollback) that is not 0 and that no
 * rule of the stage enters (goto state, a timeout's rollback) or matches
 * on.  The image lists no states (their names live in the source), so
 * that is what can be known of them; it walks the rule table.  Every
 * refusal and failure of xfsm_flow_set() is logged (XFSM_LOG_ERROR).
 * On an instance with compact flow values (xfsm_flows_compact()) a flow
 * is the head of struct xfsm_flow: xfsm_flow_get() and the walks give
 * the rest as zeros, xfsm_flow_set() refuses (-EINVAL) a flow with
 * registers, a hard timeout or a creation time. */
int xfsm_flow_get(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
		  struct xfsm_flow *flow);
int xfsm_flow_set(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
		  const struct xfsm_flow *flow);
int xfsm_flow_del(struct xfsm_instance *inst, const struct xfsm_flow_key *key);
/* Whether inst's flow tables hold compact values (struct xfsm_flow_head,
 * xfsm_build_info.compact_flows: loaded with xfsm-loader --flow-value
 * compact): no registers, hard timeout or creation time. */
bool xfsm_flows_compact(const struct xfsm_instance *inst);
/* The flow tables (include/xfsm/abi.h): a stage's class, the
 * XFSM_SF_TABLE bits of its flags, picks the table that holds its flows,
 * whose key is the first 4 + 4 * words bytes of its struct xfsm_flow_key
 * (the other words 0).  The wide table (stage_flag 0) comes first. */
struct xfsm_flow_table_class {
	enum xfsm_map_id	id;
	__u32			stage_flag;	/* XFSM_SF_NARROW, XFSM_SF_MEDIUM or 0 */
	unsigned int		words;		/* key words the table's key holds */
	const char		*what;		/* "wide", "narrow", "medium" */
};
/* The class of a stage with flags `stage_flags`; of flow table `id`;
 * NULL: not a flow table.  (Naming and listing the tables: xfsm_plan.h.) */
const struct xfsm_flow_table_class *xfsm_flow_table_class(__u32 stage_flags);
const struct xfsm_flow_table_class *xfsm_flow_table_class_of_map(enum xfsm_map_id id);
/* The table that holds stage `stage`'s flows under the running
 * application: its class's table (XFSM_M_FLOWS_N for a stage it marks
 * XFSM_SF_NARROW, XFSM_M_FLOWS_M for XFSM_SF_MEDIUM) where the datapath
 * has that table (the offload profile does not), else XFSM_M_FLOWS. */
enum xfsm_map_id xfsm_flow_table(struct xfsm_instance *inst, unsigned int stage);
/* The class (XFSM_SF_TABLE bits) of a stateful stage's keys: the
 * narrowest table whose key holds every word its four key lists use, so
 * that the native datapath keeps its flows there: the rule by which
 * libxfsm marks the applications it installs.  0 (wide) for an ACL
 * stage. */
__u32 xfsm_stage_keys_table(const struct xfsm_stage *st);
/*
 * What is wrong with the timeouts of a transition into `state` (a rule's
 * goto state, or a flow written by hand): a bit set per fault, 0 if none.
 * A timeout (ms != 0) that rolls back to the state entered would change
 * nothing when it fires; an idle timeout not shorter than the hard one
 * could never fire.  The language, xfsmctl state set,
 * xfsm_image_validate() (so every switch) and xfsm_flow_set() refuse all
 * three.
 */
#define XFSM_TIMEOUT_IDLE_SELF		(1U << 0)
#define XFSM_TIMEOUT_HARD_SELF		(1U << 1)
#define XFSM_TIMEOUT_IDLE_NOT_SHORTER	(1U << 2)
unsigned int xfsm_timeouts_check(__u32 state, __u32 idle_ms, __u32 idle_rollback,
				 __u32 hard_ms, __u32 hard_rollback);
/* Call cb for every flow of the table, of every stage and epoch, in no
 * particular order; key and flow are valid during the call only.  Batched
 * (falls back to get_next_key when batching is unsupported).  The datapath
 * keeps running: flows may come and go during the walk.  The callback
 * returns non-zero to stop; that value is returned.  Every flow table is
 * walked; a narrow or medium table's key comes as the whole struct
 * xfsm_flow_key. */
typedef int (*xfsm_flow_cb)(const struct xfsm_flow_key *key,
			    const struct xfsm_flow *flow, void *ctx);
int xfsm_flow_foreach(struct xfsm_instance *inst, xfsm_flow_cb cb, void *ctx);
/* Delete every flow of a stage (stage < 0: all stages); returns the count
 * deleted or a negative errno. */
long xfsm_flow_flush(struct xfsm_instance *inst, int stage);
/* Delete the flows of a stage whose epoch differs from keep_epoch; returns
 * the count or a negative errno. */
long xfsm_flow_flush_stale(struct xfsm_instance *inst, unsigned int stage,
			   __u16 keep_epoch);

/* Generic batched walk over a map of the instance (hash maps: flows,
 * rules, ports).  Per-CPU values come as nr_cpus values, each rounded up to
 * 8 bytes.  The callback returns non-zero to stop (that value is returned). */
typedef int (*xfsm_map_walk_cb)(const void *key, const void *value, void *ctx);
int xfsm_map_walk(struct xfsm_instance *inst, enum xfsm_map_id id,
		  xfsm_map_walk_cb cb, void *ctx);
/* Single-entry access that takes the entry's bpf_spin_lock (BPF_F_LOCK)
 * where the map supports it, and plain access where it does not. */
int xfsm_map_lookup_locked(struct xfsm_instance *inst, enum xfsm_map_id id,
			   const void *key, void *val);
int xfsm_map_update_locked(struct xfsm_instance *inst, enum xfsm_map_id id,
			   const void *key, const void *val, __u64 flags);
/* Write n keys and values (arrays of ksz- and vsz-byte elements) into a
 * map: one batch update while *batch holds, else element by element (*batch
 * is cleared when the kernel has no batch ops).  *written counts what was
 * written; returns 0 or a negative errno. */
int xfsm_map_update_many(int fd, const void *keys, const void *vals, size_t n,
			 size_t ksz, size_t vsz, bool *batch, size_t *written);
/* Delete every entry for which pred() returns true; returns the count. */
typedef bool (*xfsm_map_pred)(const void *key, const void *value, void *ctx);
long xfsm_map_delete_if(struct xfsm_instance *inst, enum xfsm_map_id id,
			xfsm_map_pred pred, void *ctx);

/* Monotonic time as the datapath sees it (CLOCK_MONOTONIC, ns): the time
 * base of flows' last_seen_ns, created_ns and hard deadlines. */
__u64 xfsm_now_ns(void);

#endif /* LIBXFSM_H */
