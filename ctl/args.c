/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The words of a command line, and the command tables they select.
 *
 * Every command reads its words through struct args: a word is consumed
 * by the command or refused, never skipped.  A command ends its parsing
 * with arg_end() before it changes anything, and the dispatcher checks
 * after it returns that no word was left unread (a command that forgot
 * would otherwise ignore words silently, the defect of issue 12 item 9).
 *
 * Exit codes: 0 success, 1 the command was understood and failed (an
 * object that does not exist, a datapath error, a file that does not
 * compile), 2 the command line itself is wrong (unknown command, option
 * or keyword, a missing, extra or malformed argument).  usage_err() is
 * the only way to report the latter and marks the run for exit 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xfsmctl.h"

static bool usage_failed;

bool usage_error_seen(void)
{
	return usage_failed;
}

static void vusage(const char *cmd, const char *fmt, va_list ap)
{
	fflush(stdout);
	usage_failed = true;
	if (is_json()) {
		char msg[1024];
		int n = 0;

		if (cmd && *cmd)
			n = snprintf(msg, sizeof(msg), "%s: ", cmd);
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
		json_error_add(msg);
		return;
	}
	fputs("xfsmctl: error: ", stderr);
	if (cmd && *cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see 'xfsmctl help%s%s')\n", cmd && *cmd ? " " : "", cmd ? cmd : "");
}

int usage_err(const struct args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(a ? a->cmd : NULL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool arg_more(const struct args *a)
{
	return a->argc > 0;
}

const char *arg_peek(const struct args *a)
{
	return a->argc > 0 ? a->argv[0] : NULL;
}

const char *arg_take(struct args *a)
{
	if (a->argc <= 0)
		return NULL;
	a->argc--;
	return *a->argv++;
}

const char *arg_next(struct args *a, const char *what)
{
	const char *w = arg_take(a);

	if (!w)
		usage_err(a, "expected %s", what);
	return w;
}

bool arg_kw(struct args *a, const char *kw)
{
	if (a->argc <= 0 || strcmp(a->argv[0], kw))
		return false;
	arg_take(a);
	return true;
}

int arg_end(struct args *a)
{
	if (a->argc <= 0)
		return 0;
	return usage_err(a, "unexpected argument '%s'", a->argv[0]);
}

char **arg_rest(struct args *a, int *n)
{
	char **v = a->argv;

	*n = a->argc;
	a->argv += a->argc;
	a->argc = 0;
	return v;
}

int arg_next_u64(struct args *a, const char *what, __u64 min, __u64 max, __u64 *v)
{
	const char *w = arg_next(a, what);

	if (!w)
		return -EINVAL;
	return arg_u64(what, w, min, max, v);
}

int arg_next_u32(struct args *a, const char *what, __u32 min, __u32 max, __u32 *v)
{
	__u64 w;
	int err = arg_next_u64(a, what, min, max, &w);

	if (!err)
		*v = (__u32)w;
	return err;
}

/* --datapath MODE / --datapath=MODE, of the commands that switch the
 * application (docs/specializer.md). */
int arg_datapath(struct args *a, const char *w, bool *given, __u32 *mode)
{
	const char *v;

	if (strcmp(w, "--datapath") && strncmp(w, "--datapath=", 11))
		return 0;
	v = w[10] == '=' ? w + 11 : arg_next(a, "a datapath (auto, generic or specialized)");
	if (!v)
		return -EINVAL;
	if (xfsm_datapath_parse(v, mode) || *mode >= XFSM_DP_KEEP)
		return usage_err(a, "unknown datapath '%s' (expected auto, generic or specialized)",
				 v);
	*given = true;
	return 1;
}

/* ---- help, generated from the tables --------------------------------------------- */

static void usage_lines(FILE *f, const char *indent, const char *path, const struct cmd *c)
{
	char sub[128];

	for (; c->name; c++) {
		if (!c->usage && !c->sub)
			continue;	/* an alias of the entry before */
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? " " : "", c->name);
		if (c->sub) {
			usage_lines(f, indent, sub, c->sub);
			continue;
		}
		if (is_json() && f == stdout) {
			open_json_object(NULL);
			print_string(PRINT_JSON, "command", NULL, sub);
			print_string(PRINT_JSON, "usage", NULL, c->usage);
			close_json_object();
			continue;
		}
		fprintf(f, "%s%s%s%s\n", indent, sub, *c->usage ? " " : "", c->usage);
	}
}

/* help under -j: {"commands": [{"command", "usage"}...], "notes"}. */
static void cmd_help_json(const char *path, const struct cmd *c)
{
	const struct cmd one[2] = { *c, { NULL } };
	char parent[128];
	const char *sp = strrchr(path, ' ');

	snprintf(parent, sizeof(parent), "%.*s", sp ? (int)(sp - path) : 0, path);
	open_json_object(NULL);
	open_json_array("commands");
	if (c->sub)
		usage_lines(stdout, "", path, c->sub);
	else if (c->fn)
		usage_lines(stdout, "", parent, one);
	else
		usage_lines(stdout, "", "", main_cmds);
	close_json_array();
	print_opt_string(PRINT_JSON, "notes", NULL, c->notes, NULL);
	close_json_object();
	print_flush();
}

void cmd_help(FILE *f, const char *path, const struct cmd *c)
{
	const char *lead = "Usage: xfsmctl ";

	if (is_json() && f == stdout)
		return cmd_help_json(path, c);
	if (c->sub) {
		fprintf(f, "Usage:\n");
		usage_lines(f, "  xfsmctl ", path, c->sub);
		if (c->sub[0].name)
			fprintf(f, "'xfsmctl %s' alone is 'xfsmctl %s %s'.\n", path, path,
				c->sub[0].name);
	} else {
		fprintf(f, "%s%s%s%s\n", lead, path, *c->usage ? " " : "", c->usage);
	}
	if (c->notes)
		fprintf(f, "%s", c->notes);
	fprintf(f, "Exit status: 0 success, 1 error, 2 usage error. See xfsmctl(8).\n");
}

void cmd_list_all(FILE *f, const struct cmd *table)
{
	usage_lines(f, "  ", "", table);
}

/* ---- dispatch ---------------------------------------------------------------------- */

/*
 * argv[0] names a command of `table`: exactly, or as a prefix of exactly
 * one command (aliases of one function count once).  An ambiguous prefix
 * is a usage error listing the candidates.
 */
static const struct cmd *cmd_find(const struct cmd *table, struct args *a, const char *what)
{
	const struct cmd *match = NULL;
	const char *w = a->argv[0];
	char cands[512];
	size_t o = 0;
	bool ambiguous = false;

	cands[0] = 0;
	for (const struct cmd *c = table; c->name; c++)
		if (!strcmp(w, c->name))
			return c;
	for (const struct cmd *c = table; c->name; c++) {
		if (!is_prefix(w, c->name))
			continue;
		if (o < sizeof(cands))
			o += (size_t)snprintf(cands + o, sizeof(cands) - o, "%s%s", o ? ", " : "",
					      c->name);
		if (match && (match->fn != c->fn || match->sub != c->sub))
			ambiguous = true;
		if (!match)
			match = c;
	}
	if (ambiguous) {
		usage_err(a, "'%s' is ambiguous: %s", w, cands);
		return NULL;
	}
	if (!match)
		usage_err(a, "unknown %s '%s'", what, w);
	return match;
}

/* The words of `path` selected by argv, for messages: "acl flush". */
static void path_add(struct args *a, const char *name)
{
	size_t n = strlen(a->path);

	snprintf(a->path + n, sizeof(a->path) - n, "%s%s", n ? " " : "", name);
	a->cmd = a->path;
}

static int help_walk(const struct cmd *table, struct args *a, const struct cmd *self)
{
	const struct cmd *c;

	while (arg_more(a)) {
		if (!table)
			return arg_end(a);
		c = cmd_find(table, a, "command");
		if (!c)
			return -EINVAL;
		arg_take(a);
		path_add(a, c->name);
		/* an alias's usage is the entry it follows */
		while (!c->usage && !c->sub && c > table && c[-1].fn == c->fn)
			c--;
		self = c;
		table = c->sub;
	}
	if (self)
		cmd_help(stdout, a->path, self);
	else
		print_main_help(stdout);
	return 0;
}

int cmd_run(const struct cmd *table, struct args *a)
{
	const struct cmd *c;
	int err;

	for (;;) {
		if (!arg_more(a)) {
			if (!a->path[0]) {
				if (is_json())
					return usage_err(a, "expected a command");
				print_main_help(stderr);
				usage_failed = true;
				return -EINVAL;
			}
			c = table;	/* a bare group runs its first command */
		} else if (!strcmp(arg_peek(a), "help")) {
			arg_take(a);
			/* "xfsmctl state help [list]": help on what the words name */
			return help_walk(table, a, a->group);
		} else {
			c = cmd_find(table, a, a->path[0] ? "subcommand" : "command");
			if (!c)
				return -EINVAL;
			arg_take(a);
		}
		path_add(a, c->name);
		if (a->want_help) {
			while (!c->usage && !c->sub && c > table && c[-1].fn == c->fn)
				c--;
			if (!c->sub || !arg_more(a)) {
				int n;

				/* help wins over the rest of the line, as in git */
				cmd_help(stdout, a->path, c);
				arg_rest(a, &n);
				return 0;
			}
		}
		if (!c->sub)
			break;
		a->group = c;
		table = c->sub;
	}
	err = c->fn(a);
	/* A command that returned success with words unread ignored them:
	 * a bug in the command; it is reported, never passed over. */
	if (!err && arg_more(a)) {
		p_err("internal error: %s left '%s' unread", a->cmd, arg_peek(a));
		return -EFAULT;
	}
	return err;
}
