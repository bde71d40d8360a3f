/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xfsmctl: shared command plumbing (bpftool/iproute2 style). */
#ifndef XFSMCTL_H
#define XFSMCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xfsm_num.h"
#include "xfsm_datapath.h"
#include "print.h"

/*
 * The words after the command's name (ctl/args.c).  Commands take them
 * with the arg_*() helpers and call arg_end() before they change
 * anything: a word is used or refused, never ignored.
 */
struct args {
	int	argc;
	char	**argv;
	const char *cmd;		/* "acl flush": names the command in messages */
	char	path[128];		/* storage of cmd */
	bool	want_help;		/* -h/--help was on the line */
	const struct cmd *group;	/* the command group being run, NULL: top */
};

/*
 * A command table entry.  A command: fn and usage (its arguments, "" for
 * none; NULL marks an alias of the entry before).  A group of commands:
 * sub, whose first entry runs when the group is named alone.  notes
 * follow the usage in help.
 */
struct cmd {
	const char *name;
	int (*fn)(struct args *a);
	const char *usage;
	const struct cmd *sub;
	const char *notes;
};

/* Select and run the command the words name (exact, or a unique prefix). */
int cmd_run(const struct cmd *table, struct args *a);
void cmd_help(FILE *f, const char *path, const struct cmd *c);
void cmd_list_all(FILE *f, const struct cmd *table);
void print_main_help(FILE *f);
extern const struct cmd main_cmds[];

/* A usage error (exit 2): "CMD: message (see 'xfsmctl help CMD')". */
int usage_err(const struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool usage_error_seen(void);

bool arg_more(const struct args *a);
const char *arg_peek(const struct args *a);
/* The next word, NULL at the end (no message). */
const char *arg_take(struct args *a);
/* The next word; at the end a usage error "expected WHAT" and NULL. */
const char *arg_next(struct args *a, const char *what);
/* Consume the next word if it is exactly kw. */
bool arg_kw(struct args *a, const char *kw);
/* 0 when every word was used, else a usage error naming the first left. */
int arg_end(struct args *a);
/* All remaining words (a rule text), consumed. */
char **arg_rest(struct args *a, int *n);
int arg_next_u64(struct args *a, const char *what, __u64 min, __u64 max, __u64 *v);
int arg_next_u32(struct args *a, const char *what, __u32 min, __u32 max, __u32 *v);
/* The word w taken from a: --datapath MODE or --datapath=MODE gives 1 (the
 * mode in *mode, *given true), another word 0, a bad MODE a usage error. */
int arg_datapath(struct args *a, const char *w, bool *given, __u32 *mode);

/* Print "xfsmctl: error: ..." to stderr ({"error": ...} under -j). */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A diagnostic in its own format ("FILE:LINE:COL: error: ..."): stderr,
 * or part of the {"error": ...} object under -j. */
void p_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Until called again with NULL, libxfsm's error messages go to fn first;
 * one it returns true for is printed (rule add: the recompiled running
 * application's locations said as the rule's). */
void set_diag_filter(bool (*fn)(const char *msg, void *ctx), void *ctx);

bool is_prefix(const char *arg, const char *word);

extern const char *opt_iface;
extern const char *opt_instance;
extern const char *opt_pin_dir;

/* Open the datapath chosen with -i / --instance / --pin-dir and check
 * its ABI; prints why on failure. */
int open_instance(struct xfsm_instance **out);

/*
 * The running application: read back from the datapath, and its names
 * recovered by recompiling the source stored with it.
 */
struct running {
	struct xfsm_image img;
	struct xfsm_app_names *nm;	/* NULL when no source could be compiled */
	__u32	generation;
};

int running_load(struct xfsm_instance *inst, struct running *r, bool need_app);
void running_free(struct running *r);
/* Statistics of a running stage, rule (any of its image rule ids) or
 * counter (its number in the image), by the identities read with img
 * (XFSM_SID_*; out: the kind's statistics struct).  -ENOENT: no such
 * object. */
int running_stats_at(struct xfsm_instance *inst, const struct xfsm_image *img,
		     __u32 kind, __u32 pos, void *out);

/*
 * A decision record (ctl/simulate.c), as simulate and trace print it:
 * the fields the application reads, per stage the flow key, the state
 * before and after, the rule or the miss, registers written, the verdict.
 * `compact`: the instance's flows are compact (xfsm_flows_compact()), with
 * no registers to show (nor a "registers" key in the JSON).
 */
struct xfsm_sim_result;
struct decision_ctx {
	const struct xfsm_image *img;
	const struct xfsm_app_names *nm;
	bool	compact;		/* flows without registers */
	bool	reads[XFSM_FV_WORDS];	/* words the application reads */
	unsigned int n;			/* records printed so far */
	double	when;			/* the record's wall-clock time, 0: none */
};
void decision_init(struct decision_ctx *c, const struct xfsm_image *img,
		   const struct xfsm_app_names *nm, bool compact);
void decision_print(struct decision_ctx *c, const struct xfsm_sim_result *res);

/* Printing compiled tables (dry run, show). */
enum show_what {
	SHOW_APP = 1 << 0,
	SHOW_STAGES = 1 << 1,
	SHOW_RULES = 1 << 2,
	SHOW_CONDS = 1 << 3,
	SHOW_GLOBALS = 1 << 4,
	SHOW_PORTS = 1 << 5,
	SHOW_ENTRIES = 1 << 6,	/* compiled entries under each rule */
	SHOW_ACL = 1 << 7,	/* the application's ACL tables (dry run) */
	SHOW_ALL = 0x3f,
};
struct port_walk {
	struct xfsm_instance *inst;
	const struct xfsm_app_names *nm;
	unsigned int only;	/* 0: every port */
};
/* Port objects (the ports array's elements), one port or all. */
void print_ports(struct xfsm_instance *inst, const struct xfsm_app_names *nm, unsigned int only);
struct xfsm_acl_entry;
void print_acl_rules(const struct xfsm_acl_entry *r, size_t n);
void show_image(const struct xfsm_image *img, const struct xfsm_app_names *nm,
		struct xfsm_instance *inst, unsigned int what, __u32 generation);
void format_operand(const struct xfsm_operand *o, const struct xfsm_app_names *nm,
		    unsigned int stage, char *buf, size_t len);
int field_at_word(unsigned int w);
/* A flow's stage and key printed as `state list` prints them (text
 * "stage field=value...", JSON "stage" and "key"), with the stage views
 * cached in fp until flow_printer_reset(). */
struct flow_printer {
	void	*ctx;
};
void print_flow_stage_key(struct flow_printer *fp, struct running *r,
			  const struct xfsm_flow_key *key);
void flow_printer_reset(struct flow_printer *fp);
/* Send a flow event made in user space (state del, flush) to every
 * listening monitor (ctl/monitor.c); nothing when none listens. */
void monitor_notify(struct xfsm_instance *inst, const struct xfsm_event *ev);
/* Whether a field's JSON values are numbers (ports, protocol) rather than
 * text (addresses) (ctl/state.c). */
bool field_is_number(int fid);
/* A rule's updates, transition and actions as `show rules` writes them. */
void format_rule_effects(const struct xfsm_rule *r, unsigned int stage,
			 const struct xfsm_app_names *nm, char *buf, size_t len);
const char *stage_name(const struct xfsm_app_names *nm, unsigned int s, char *buf, size_t len);
/* Numeric arguments through libxfsm's one number parser (lib/xfsm_num.h):
 * on a bad value, print "WHAT: why" and return -EINVAL or -ERANGE. */
int arg_u64(const char *what, const char *s, __u64 min, __u64 max, __u64 *v);
int arg_u32(const char *what, const char *s, __u32 min, __u32 max, __u32 *v);
/* A flow timeout: "10s", "250ms", "2min" or plain seconds, rounded up to
 * whole ms as the compiler does; 0 means none. */
int arg_timeout_ms(const char *what, const char *s, __u32 *ms);

extern const struct cmd state_cmds[], rule_cmds[], global_cmds[], port_cmds[],
	acl_cmds[], group_cmds[];
extern const char state_notes[], rule_notes[], global_notes[], port_notes[],
	acl_notes[], group_notes[], apply_notes[], show_notes[], stats_notes[],
	fields_notes[], monitor_notes[];
int do_apply(struct args *a);
int do_monitor(struct args *a);
int do_fields(struct args *a);
int do_show(struct args *a);
/* show the sections `what` of the running application (after arg_end) */
int do_show_what(struct args *a, unsigned int what);

/* ctl/program.c: which program runs the application (docs/specializer.md). */
/* The running slot's datapath as a "datapath" object (text: one line
 * after indent). */
void print_datapath(struct xfsm_instance *inst, const char *indent);
void print_attachment(struct xfsm_instance *inst, const char *indent);
int do_show_program(struct args *a);
int do_stats(struct args *a);
int do_simulate(struct args *a);
/* Compile an application file for a command that runs or draws it without
 * applying it; on failure the compiler's message is printed. */
int app_file_load(const char *path, struct xfsm_image *img, struct xfsm_app_names **nm);
/* show pipeline|fsm ... (ctl/graph.c); argv[0] is the section. */
int show_graph(const struct args *a, int argc, char **argv);
int do_trace(struct args *a);
int do_capture(struct args *a);
extern const char trace_notes[];
extern const char capture_notes[];
int port_set_cmd(struct args *a);
int port_sync_cmd(struct args *a);
void port_counters_print(struct xfsm_instance *inst);

#endif
