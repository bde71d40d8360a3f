/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xfsmctl: shared command plumbing (bpftool/iproute2 style). */
#ifndef XFSMCTL_H
#define XFSMCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xfsm_num.h"
#include "print.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* Run the command whose name argv[0] is a prefix of (unique, or exact). */
int cmd_select(const struct cmd *cmds, int argc, char **argv,
	       int (*help)(int argc, char **argv), const char *what);

/* Print "xfsmctl: error: ..." to stderr. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool is_prefix(const char *arg, const char *word);

#define NEXT_ARG()	({ argc--; argv++; })
#define REQ_ARGS(n)							\
	({								\
		int ___n = (n);						\
		if (argc < ___n) {					\
			p_err("%s: expected %d more argument(s); see 'xfsmctl help'", \
			      argc ? *argv : "command", ___n - argc);	\
			return -EINVAL;					\
		}							\
	})

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

/* Printing compiled tables (dry run, show). */
enum show_what {
	SHOW_APP = 1 << 0,
	SHOW_STAGES = 1 << 1,
	SHOW_RULES = 1 << 2,
	SHOW_CONDS = 1 << 3,
	SHOW_GLOBALS = 1 << 4,
	SHOW_PORTS = 1 << 5,
	SHOW_ENTRIES = 1 << 6,	/* compiled entries under each rule */
	SHOW_ALL = 0x3f,
};
void show_image(const struct xfsm_image *img, const struct xfsm_app_names *nm,
		struct xfsm_instance *inst, unsigned int what, __u32 generation);
void format_operand(const struct xfsm_operand *o, const struct xfsm_app_names *nm,
		    unsigned int stage, char *buf, size_t len);
int field_at_word(unsigned int w);
const char *stage_name(const struct xfsm_app_names *nm, unsigned int s, char *buf, size_t len);
/* Numeric arguments through libxfsm's one number parser (lib/xfsm_num.h):
 * on a bad value, print "WHAT: why" and return -EINVAL or -ERANGE. */
int arg_u64(const char *what, const char *s, __u64 min, __u64 max, __u64 *v);
int arg_u32(const char *what, const char *s, __u32 min, __u32 max, __u32 *v);
/* A flow timeout: "10s", "250ms", "2min" or plain seconds, rounded up to
 * whole ms as the compiler does; 0 means none. */
int arg_timeout_ms(const char *what, const char *s, __u32 *ms);

int do_apply(int argc, char **argv);
int do_show(int argc, char **argv);
int do_rule(int argc, char **argv);
int do_state(int argc, char **argv);
int do_global(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_port(int argc, char **argv);
int do_acl(int argc, char **argv);
int do_group(int argc, char **argv);
int port_set_cmd(int argc, char **argv);
int port_sync_cmd(int argc, char **argv);
void port_counters_print(struct xfsm_instance *inst);

#endif
