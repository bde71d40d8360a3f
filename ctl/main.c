/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl: install xfsm applications and inspect a running datapath.
 * Commands are dispatched through cmds[] tables with prefix matching, so
 * `xfsmctl st li knock` is `xfsmctl state list knock`.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xfsmctl.h"
#include "xfsm_attach.h"

#define XFSMCTL_VERSION "0.1"

const char *opt_iface;
const char *opt_instance;
const char *opt_pin_dir;
static bool opt_verbose;

void p_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("xfsmctl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (is_json())
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_fn(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl == XFSM_LOG_DEBUG && !opt_verbose)
		return;
	if (lvl == XFSM_LOG_INFO && !opt_verbose)
		return;
	fprintf(stderr, "xfsmctl: %s%s\n",
		lvl == XFSM_LOG_ERROR ? "error: " : lvl == XFSM_LOG_WARN ? "warning: " : "",
		msg);
}

int arg_u64(const char *what, const char *s, __u64 min, __u64 max, __u64 *v)
{
	char msg[200];
	int err = xfsm_parse_u64(s, min, max, v, msg, sizeof(msg));

	if (err)
		p_err("%s: %s", what, msg);
	return err;
}

int arg_u32(const char *what, const char *s, __u32 min, __u32 max, __u32 *v)
{
	__u64 w;
	int err = arg_u64(what, s, min, max, &w);

	if (!err)
		*v = (__u32)w;
	return err;
}

int arg_timeout_ms(const char *what, const char *s, __u32 *ms)
{
	char msg[200];
	__u64 ns;
	int err = xfsm_parse_duration(s, &ns, msg, sizeof(msg));

	if (err) {
		p_err("%s: %s", what, msg);
		return err;
	}
	if (xfsm_timeout_ms(ns, ms)) {
		p_err("%s: %s is longer than %u ms", what, s, 0xffffffffU);
		return -ERANGE;
	}
	return 0;
}

bool is_prefix(const char *arg, const char *word)
{
	return *arg && !strncmp(arg, word, strlen(arg));
}

int cmd_select(const struct cmd *cmds, int argc, char **argv,
	       int (*help)(int argc, char **argv), const char *what)
{
	const struct cmd *match = NULL;

	if (argc < 1)
		return help(argc, argv);
	/* an exact name, else the first command in table order that the
	 * argument is a prefix of (as bpftool does: `st` is `state`) */
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(argv[0], c->name)) {
			match = c;
			break;
		}
		if (!match && is_prefix(argv[0], c->name))
			match = c;
	}
	if (match)
		return match->fn(argc - 1, argv + 1);
	p_err("unknown %s '%s'; see 'xfsmctl help'", what, argv[0]);
	return -EINVAL;
}

int open_instance(struct xfsm_instance **out)
{
	char dir[512];
	int err;

	*out = NULL;
	if (opt_iface) {
		struct xfsm_xdp_state xs;
		int ifindex = (int)if_nametoindex(opt_iface);

		if (!ifindex) {
			p_err("interface %s does not exist in this network namespace", opt_iface);
			return -ENODEV;
		}
		err = xfsm_xdp_state_get(ifindex, &xs);
		if (err) {
			p_err("cannot read the XDP state of %s: %s", opt_iface, strerror(-err));
			return err;
		}
		if (!xs.xfsm_prog_id) {
			if (xs.prog_id)
				p_err("%s runs XDP program %u (%s), not the xfsm datapath; attach it with 'xfsm-loader load %s'",
				      opt_iface, xs.prog_id, xs.prog_name, opt_iface);
			else
				p_err("no XDP program is attached to %s: no xfsm datapath loaded (attach one with 'xfsm-loader load %s')",
				      opt_iface, opt_iface);
			return -ENOENT;
		}
		err = xfsm_instance_open_prog_id(xs.xfsm_prog_id, out);
	} else if (opt_pin_dir) {
		err = xfsm_instance_open_pin_dir(opt_pin_dir, out);
	} else {
		/* The library names the cause: an unknown instance, or no
		 * permission to look (not root). */
		err = xfsm_instance_open(opt_instance, out);
		if (err == -ENOENT && !opt_instance &&
		    xfsm_pin_dir_of(XFSM_DEFAULT_INSTANCE, dir, sizeof(dir)) == 0 &&
		    access(dir, F_OK) && errno == ENOENT)
			p_info("no xfsm datapath loaded: load one with 'xfsm-loader load IFACE', "
			       "or pick one with -i IFACE, --instance NAME or --pin-dir DIR");
	}
	if (err)
		return err;
	err = xfsm_instance_check_abi(*out);
	if (err) {
		xfsm_instance_close(*out);
		*out = NULL;
	}
	return err;
}

static int do_help(int argc, char **argv)
{
	fprintf(stdout,
		"Usage: xfsmctl [OPTIONS] COMMAND [ARGS]\n"
		"Options:\n"
		"  -j, --json            JSON output          -p, --pretty   pretty JSON\n"
		"  -i, --iface IFACE     datapath attached to IFACE\n"
		"      --instance NAME   pinned instance NAME (default \"%s\")\n"
		"      --pin-dir DIR     instance pinned in DIR\n"
		"  -v, --verbose         -V, --version        -h, --help\n"
		"Commands (any unique prefix works):\n"
		"  apply FILE [--dry-run] [--force] [--reset-globals]\n"
		"  show [app | stages | rules | conditions | globals | ports]\n"
		"  rule add STAGE 'RULE TEXT'      rule del STAGE RULE\n"
		"  state list [STAGE] [-n]          state get STAGE KEY...\n"
		"  state set STAGE KEY... state STATE [idle DUR] [hard DUR] [regN VAL]...\n"
		"  state del STAGE KEY...           state flush [STAGE]\n"
		"  global get [REG]                 global set REG VALUE\n"
		"  stats [--watch] [-c COUNT] [--interval SEC] [--reset]\n"
		"  port show                        port set PORT up|down    port sync\n"
		"  group add|set ID POLICY [PORT[:WEIGHT]...]  group del ID  group show [ID]\n"
		"  acl add [table N] RULE...        acl del [table N] ID\n"
		"  acl show [table N]               acl flush [table N]\n"
		"  acl load [table N] FILE          (native rules or ClassBench)\n"
		"See xfsmctl(8), docs/ctl.md and docs/language.md.\n",
		XFSM_DEFAULT_INSTANCE);
	return 0;
}

static const struct cmd main_cmds[] = {
	{ "apply", do_apply },
	{ "show", do_show },
	{ "state", do_state },
	{ "stats", do_stats },
	{ "rule", do_rule },
	{ "global", do_global },
	{ "port", do_port },
	{ "acl", do_acl },
	{ "group", do_group },
	{ "help", do_help },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "instance", required_argument, NULL, 'I' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false;
	int opt, ret, nsel = 0;
	const char **slot;

	/* options stop at the command: its own options follow it */
	while ((opt = getopt_long(argc, argv, "+jpi:vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			json = true;
			pretty = true;
			break;
		case 'i':
		case 'I':
		case 'P':
			slot = opt == 'i' ? &opt_iface : opt == 'I' ? &opt_instance : &opt_pin_dir;
			if (*slot) {
				p_err("%s is given twice ('%s', then '%s'): give it once",
				      opt == 'i' ? "-i/--iface" :
				      opt == 'I' ? "--instance" : "--pin-dir", *slot, optarg);
				return 1;
			}
			*slot = optarg;
			nsel++;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'V':
			printf("xfsmctl %s (xfsm ABI %d)\n", XFSMCTL_VERSION, XFSM_ABI_VERSION);
			return 0;
		case 'h':
			return do_help(0, NULL);
		default:
			fprintf(stderr, "Try 'xfsmctl --help'.\n");
			return 1;
		}
	}
	xfsm_set_log(log_fn);
	if (nsel > 1) {
		p_err("choose the datapath once: -i IFACE, --instance NAME or --pin-dir DIR");
		return 1;
	}
	/* A name becomes a path: refuse a bad one before any command runs. */
	if (opt_instance && xfsm_instance_name_check(opt_instance))
		return 1;
	print_init(json, pretty);
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		do_help(0, NULL);
		return 1;
	}
	ret = cmd_select(main_cmds, argc, argv, do_help, "command");
	return ret < 0 ? 1 : 0;
}
