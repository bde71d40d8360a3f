/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl: install xfsm applications and inspect a running datapath.
 * Commands are dispatched through the cmd tables (main_cmds[] below, each
 * group's in its file) by ctl/args.c, which takes full names or unique
 * prefixes: `xfsmctl sh st` is `xfsmctl show stages`.
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

#ifndef XFSM_VERSION
#error "XFSM_VERSION comes from the Makefile's VERSION (-DXFSM_VERSION)"
#endif

const char *opt_iface;
const char *opt_instance;
const char *opt_pin_dir;
static bool opt_verbose;

void p_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	if (is_json()) {
		char msg[1024];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		json_error_add(msg);
	} else {
		fputs("xfsmctl: error: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

void p_diag(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (is_json()) {
		json_error_add(msg);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s\n", msg);
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

static bool (*diag_filter)(const char *msg, void *ctx);
static void *diag_filter_ctx;

void set_diag_filter(bool (*fn)(const char *msg, void *ctx), void *ctx)
{
	diag_filter = fn;
	diag_filter_ctx = ctx;
}

/* "FILE:LINE:COL: error: ...": a diagnostic about a source. */
static bool located(const char *msg)
{
	const char *e = strstr(msg, ": error: "), *q = e;

	for (int part = 0; e && part < 2; part++) {
		const char *d = q;

		while (d > msg && d[-1] >= '0' && d[-1] <= '9')
			d--;
		if (d == q || d - 1 <= msg || d[-1] != ':')
			return false;
		q = d - 1;
	}
	return e != NULL;
}

static void log_fn(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl == XFSM_LOG_DEBUG && !opt_verbose)
		return;
	if (lvl == XFSM_LOG_INFO && !opt_verbose)
		return;
	/* libxfsm's errors about an application's source (the port check
	 * of a switch) read as the compiler's */
	if (lvl == XFSM_LOG_ERROR && diag_filter && diag_filter(msg, diag_filter_ctx))
		return;
	if (lvl == XFSM_LOG_ERROR && located(msg)) {
		p_diag("%s", msg);
		return;
	}
	if (lvl == XFSM_LOG_ERROR && is_json()) {
		json_error_add(msg);
		return;
	}
	fprintf(stderr, "xfsmctl: %s%s\n",
		lvl == XFSM_LOG_ERROR ? "error: " : lvl == XFSM_LOG_WARN ? "warning: " : "",
		msg);
}

int arg_u64(const char *what, const char *s, __u64 min, __u64 max, __u64 *v)
{
	char msg[200];
	int err = xfsm_parse_u64(s, min, max, v, msg, sizeof(msg));

	if (err)
		usage_err(NULL, "%s: %s", what, msg);
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
		usage_err(NULL, "%s: %s", what, msg);
		return err;
	}
	if (xfsm_timeout_ms(ns, ms)) {
		usage_err(NULL, "%s: %s is longer than %u ms", what, s, 0xffffffffU);
		return -ERANGE;
	}
	return 0;
}

bool is_prefix(const char *arg, const char *word)
{
	return *arg && !strncmp(arg, word, strlen(arg));
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
			p_err("interface '%s' does not exist in this network namespace (see ip link show)",
			      opt_iface);
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
		err = xfsm_instance_open_prog_id(xs.generic_id ? xs.generic_id : xs.xfsm_prog_id, out);
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

void print_main_help(FILE *f)
{
	static const struct cmd all = { "", NULL, NULL, NULL, NULL };

	if (is_json() && f == stdout) {
		cmd_help(f, "", &all);
		return;
	}
	fprintf(f,
		"Usage: xfsmctl [OPTIONS] COMMAND [ARGS]\n"
		"Options (anywhere on the line; '--' ends them; -h after a command: its help):\n"
		"  -j, --json            JSON output          -p, --pretty   pretty JSON\n"
		"  -i, --iface IFACE     datapath attached to IFACE\n"
		"      --instance NAME   pinned instance NAME (default \"%s\")\n"
		"      --pin-dir DIR     instance pinned in DIR\n"
		"  -v, --verbose         -V, --version        -h, --help\n"
		"Commands (full names or unique prefixes; a group named alone runs its first command):\n",
		XFSM_DEFAULT_INSTANCE);
	cmd_list_all(f, main_cmds);
	fprintf(f, "Exit status: 0 success, 1 error, 2 usage error.\n"
		   "See xfsmctl(8), docs/ctl.md and docs/language.md.\n");
}

static int do_help(struct args *a)
{
	int n;

	arg_rest(a, &n);
	print_main_help(stdout);
	return 0;
}

/*
 * The commands.  A new command is a line here (or in a group's table):
 * { "name", do_name, "ARGS for help", NULL, notes }, its function
 * int do_name(struct args *a) taking words with arg_next()/arg_kw() and
 * calling arg_end() before it changes anything (see ctl/args.c).
 */
const struct cmd main_cmds[] = {
	{ "apply", do_apply, "FILE [--datapath auto|generic|specialized] [--dry-run] [--force] [--reset-globals]", NULL, apply_notes },
	{ "show", do_show, "[app | stages | rules | conditions | globals | ports | program | pipeline [--dot] [--app FILE] | fsm STAGE [--dot] [--app FILE]]", NULL, show_notes },
	{ "state", NULL, NULL, state_cmds, state_notes },
	{ "stats", do_stats, "[--watch] [-c COUNT] [--interval SEC] [--reset]", NULL, stats_notes },
	{ "rule", NULL, NULL, rule_cmds, rule_notes },
	{ "global", NULL, NULL, global_cmds, global_notes },
	{ "port", NULL, NULL, port_cmds, port_notes },
	{ "acl", NULL, NULL, acl_cmds, acl_notes },
	{ "group", NULL, NULL, group_cmds, group_notes },
	{ "monitor", do_monitor, "[STAGE] [-c COUNT] | status | stop", NULL, monitor_notes },
	{ "simulate", do_simulate, "[--app FILE] [--port PORT] PACKET [then PACKET]...", NULL, NULL },
	{ "trace", do_trace, "[MATCH] [-c COUNT] [--rate N/s] | stop | status", NULL, trace_notes },
	{ "capture", do_capture, "[MATCH] [--stage STAGE | --verdict VERDICT] [-s SNAPLEN] -w FILE [-c COUNT] [--rate N/s]", NULL, capture_notes },
	{ "fields", do_fields, "[FIELD...]", NULL, fields_notes },
	{ "help", do_help, "[COMMAND...]", NULL, NULL },
	{ NULL },
};

/* The selection options, each given once. */
static int set_selector(const char *opt, const char *val, int *nsel)
{
	bool iface = !strcmp(opt, "-i") || !strcmp(opt, "--iface");
	const char **slot = iface ? &opt_iface : !strcmp(opt, "--instance") ? &opt_instance :
			    &opt_pin_dir;

	if (*slot) {
		usage_err(NULL, "%s is given twice ('%s', then '%s'): give it once",
			  iface ? "-i/--iface" : opt, *slot, val);
		return -EINVAL;
	}
	*slot = val;
	(*nsel)++;
	return 0;
}

/*
 * The global options are taken from anywhere on the line (before a "--"),
 * so `xfsmctl state list -j` is `xfsmctl -j state list`; every other word
 * stays in order for the command.  Returns the number of words kept, or
 * -1 after a usage error.
 */
static int take_global_opts(int argc, char **argv, char **words, bool *json, bool *pretty,
			    bool *help, bool *version, int *nsel)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *eq = strchr(w, '=');
		size_t klen = eq ? (size_t)(eq - w) : strlen(w);

		if (!strcmp(w, "--")) {
			while (++i < argc)
				words[n++] = argv[i];
			break;
		}
		if (w[0] != '-' || !w[1]) {
			words[n++] = argv[i];
			continue;
		}
		if ((klen == 7 && !strncmp(w, "--iface", 7)) ||
		    (klen == 10 && !strncmp(w, "--instance", 10)) ||
		    (klen == 9 && !strncmp(w, "--pin-dir", 9)) || !strcmp(w, "-i")) {
			char opt[16];
			const char *val = eq ? eq + 1 : NULL;

			snprintf(opt, sizeof(opt), "%.*s", (int)klen, w);
			if (!val) {
				if (i + 1 >= argc) {
					usage_err(NULL, "option %s needs a value", opt);
					return -1;
				}
				val = argv[++i];
			}
			if (set_selector(opt, val, nsel))
				return -1;
			continue;
		}
		if (!strcmp(w, "--json")) {
			*json = true;
		} else if (!strcmp(w, "--pretty")) {
			*json = *pretty = true;
		} else if (!strcmp(w, "--verbose")) {
			opt_verbose = true;
		} else if (!strcmp(w, "--version")) {
			*version = true;
		} else if (!strcmp(w, "--help")) {
			*help = true;
		} else if (w[1] != '-' && strspn(w + 1, "jpvVh") == strlen(w + 1)) {
			/* a cluster of flags: -jp */
			for (const char *c = w + 1; *c; c++) {
				*json |= *c == 'j' || *c == 'p';
				*pretty |= *c == 'p';
				opt_verbose |= *c == 'v';
				*version |= *c == 'V';
				*help |= *c == 'h';
			}
		} else {
			/* a command's own option (--dry-run, -n, -c ...) */
			words[n++] = argv[i];
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	bool json = false, pretty = false, help = false, version = false;
	struct args a = { 0 };
	char **words;
	int n, ret, nsel = 0;

	xfsm_set_log(log_fn);
	words = calloc((size_t)argc + 1, sizeof(*words));
	if (!words)
		return 1;
	/* -j is known before any message, so errors come out as JSON */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json") ||
		    !strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty"))
			json = true;
	print_init(json, false);
	n = take_global_opts(argc, argv, words, &json, &pretty, &help, &version, &nsel);
	if (n < 0)
		goto done;
	print_init(json, pretty);
	if (version) {
		open_json_object(NULL);
		print_string(PRINT_ANY, "version", "xfsmctl %s", XFSM_VERSION);
		print_uint(PRINT_ANY, "abi", " (xfsm ABI %u)\n", XFSM_ABI_VERSION);
		close_json_object();
		print_flush();
		ret = 0;
		goto out;
	}
	if (nsel > 1) {
		usage_err(NULL, "choose the datapath once: -i IFACE, --instance NAME or --pin-dir DIR");
		goto done;
	}
	/* A name becomes a path: refuse a bad one before any command runs. */
	if (opt_instance && xfsm_instance_name_check(opt_instance)) {
		ret = 1;
		goto out;
	}
	a.argc = n;
	a.argv = words;
	a.cmd = "";
	a.want_help = help;
	if (n > 0 && words[0][0] == '-' && words[0][1]) {
		usage_err(NULL, "unknown option '%s'", words[0]);
		goto done;
	}
	if (n == 0 && help) {
		print_main_help(stdout);
		ret = 0;
		goto out;
	}
	ret = cmd_run(main_cmds, &a);
	ret = ret < 0 ? 1 : 0;
	goto out;
done:
	ret = 1;
out:
	if (is_json())
		json_error_flush();
	fflush(stdout);
	free(words);
	if (usage_error_seen())
		return 2;
	return ret;
}
