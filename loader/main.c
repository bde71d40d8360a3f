/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsm-loader: attach the xfsm datapath to interfaces, pin its maps,
 * detach it, and show what runs where.  A thin front end over
 * lib/xfsm_attach.h.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xfsm_attach.h"
#include "xfsm_features.h"
#include "xfsm_num.h"
#include "xfsm_plan.h"
#include "output.h"

static bool verbose;
static bool json;
static bool quiet;		/* errors only on stderr, nothing on stdout */
static const char *prog_name = "xfsm-loader";

/*
 * Errors go to stderr as "xfsm-loader: MESSAGE", or under -j are gathered
 * here and printed at exit as one {"error": "..."} object on stdout (as
 * xfsmctl's, docs/json.md), several joined with "; ".
 */
static char err_msgs[2048];

static void err_add(const char *msg, size_t len)
{
	size_t n = strlen(err_msgs);

	while (len && msg[len - 1] == '\n')
		len--;
	snprintf(err_msgs + n, sizeof(err_msgs) - n, "%s%.*s", n ? "; " : "", (int)len, msg);
}

static void __attribute__((format(printf, 1, 2))) p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json)
		err_add(msg, strlen(msg));
	else
		fprintf(stderr, "%s: %s\n", prog_name, msg);
}

/* The exit status rc, after the error object of a failure under -j. */
static int finish(int rc)
{
	if (json && rc) {
		if (!err_msgs[0])
			err_add("failed", 6);
		printf("{");
		out_json_string("error");
		printf(":");
		out_json_string(err_msgs);
		printf("}\n");
	}
	fflush(stdout);
	return rc;
}

static void log_cb(enum xfsm_log_level lvl, const char *msg)
{
	size_t len = strlen(msg);
	const char *nl = len && msg[len - 1] == '\n' ? "" : "\n";

	switch (lvl) {
	case XFSM_LOG_ERROR:
		if (json)
			err_add(msg, len);
		else
			fprintf(stderr, "%s: %s%s", prog_name, msg, nl);
		break;
	case XFSM_LOG_WARN:
		if (quiet)
			break;
		fprintf(stderr, "%s: warning: %s%s", prog_name, msg, nl);
		break;
	case XFSM_LOG_INFO:
		if (quiet)
			break;
		/* -j keeps stdout for JSON */
		fprintf(json ? stderr : stdout, "%s%s", msg, nl);
		break;
	case XFSM_LOG_DEBUG:
		if (verbose)
			fprintf(stderr, "%s: %s%s", prog_name, msg, nl);
		break;
	}
}

static int libbpf_print_cb(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print_cb(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- Argument helpers ----------------------------------------------------- */

/* The single-valued options a command has seen, so that a repeated one is
 * an error rather than silently the last. */
struct opts_seen {
	const char *name[16];
	const char *value[16];
	int n;
};

/* "--name VALUE" or "--name=VALUE"; returns the value or NULL. */
static const char *opt_value(int *i, int argc, char **argv, const char *name,
			     struct opts_seen *seen)
{
	size_t n = strlen(name);
	const char *a = argv[*i], *v;
	int k;

	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=') {
		v = a + n + 1;
	} else if (a[n] != '\0') {
		return NULL;
	} else if (*i + 1 >= argc) {
		p_err("%s needs a value", name);
		exit(finish(2));
	} else {
		v = argv[++*i];
	}
	for (k = 0; k < seen->n; k++) {
		if (strcmp(seen->name[k], name))
			continue;
		p_err("%s is given twice ('%s', then '%s'): give it once", name, seen->value[k], v);
		exit(finish(2));
	}
	if (seen->n < 16) {
		seen->name[seen->n] = name;
		seen->value[seen->n++] = v;
	}
	return v;
}

/* Numbers go through libxfsm's one parser (lib/xfsm_num.h). */
static __u32 parse_count(const char *opt, const char *s, __u32 min, __u32 max)
{
	char msg[200];
	__u32 v;

	if (xfsm_parse_u32(s, min, max, &v, msg, sizeof(msg))) {
		p_err("%s: %s", opt, msg);
		exit(finish(2));
	}
	return v;
}

/*
 * A size per table: "N" for every table (returns true, *every = N), or
 * "TABLE=N[,TABLE=N...]" for the tables named (returns false; v[t] = N,
 * given[t] set).  table_of() turns an item's TABLE into its index (or
 * exits with the error); tables names them for the usage message.
 * Every item is used: an empty one (",a=5", "a=5,"), one without TABLE=
 * (a plain N among TABLE=N items) or a table named twice is refused,
 * never skipped or overridden.
 */
static bool parse_table_sizes(const char *opt, const char *s, const char *tables,
			      unsigned int (*table_of)(const char *opt, const char *name),
			      unsigned int n_tables, __u32 min, __u32 max,
			      __u32 *every, __u32 *v, bool *given)
{
	char buf[256], label[300], *tok, *next, *eq;
	unsigned int t;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) {
		p_err("%s value is too long", opt);
		exit(finish(2));
	}
	if (!strchr(buf, '=')) {
		*every = parse_count(opt, buf, min, max);
		return true;
	}
	for (t = 0; t < n_tables; t++)
		given[t] = false;
	for (tok = buf; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		eq = strchr(tok, '=');
		if (!eq) {
			p_err("%s wants N or TABLE=N[,TABLE=N...] (TABLE %s), not '%s'%s%s%s", opt,
			      tables, s, *tok ? " (item '" : " (an empty item)", tok,
			      *tok ? "' has no TABLE=: one N sizes every table)" : "");
			exit(finish(2));
		}
		*eq = '\0';
		t = table_of(opt, tok);
		if (given[t]) {
			p_err("%s names table %s twice in '%s': give each table once", opt, tok, s);
			exit(finish(2));
		}
		given[t] = true;
		snprintf(label, sizeof(label), "%s %s", opt, tok);
		v[t] = parse_count(label, eq + 1, min, max);
	}
	return false;
}

static unsigned int acl_table_of(const char *opt, const char *name)
{
	return parse_count(opt, name, 0, XFSM_ACL_TABLES - 1);
}

/* --acl-rules / --acl-nodes: bit is 1 (rules) or 2 (nodes) in o->acl_set. */
static void parse_acl_caps(struct xfsm_load_opts *o, const char *opt, const char *s,
			   __u32 max, unsigned int bit)
{
	__u32 *v = bit == 1 ? o->acl_rules : o->acl_nodes, every, t;
	bool given[XFSM_ACL_TABLES];
	char tables[32];

	snprintf(tables, sizeof(tables), "0..%u", XFSM_ACL_TABLES - 1);
	if (parse_table_sizes(opt, s, tables, acl_table_of, XFSM_ACL_TABLES, 0, max,
			      &every, v, given)) {
		for (t = 0; t < XFSM_ACL_TABLES; t++) {
			v[t] = every;
			o->acl_set[t] |= bit;
		}
		return;
	}
	for (t = 0; t < XFSM_ACL_TABLES; t++)
		if (given[t])
			o->acl_set[t] |= bit;
}

/* The flow tables' names, as xfsmctl show says them: "wide, narrow or medium". */
static void flow_table_names(char *buf, size_t len)
{
	const struct xfsm_flow_table_class *c;
	size_t n = 0;

	buf[0] = '\0';
	xfsm_for_each_flow_table(c)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      c == xfsm_flow_table_classes ? "" :
			      c + 1 == xfsm_flow_table_classes + XFSM_FLOW_TABLE_CLASSES ?
			      " or " : ", ", c->what);
}

static unsigned int flow_table_of(const char *opt, const char *name)
{
	const struct xfsm_flow_table_class *c = xfsm_flow_table_class_named(name);
	char names[64];

	if (!c) {
		flow_table_names(names, sizeof(names));
		p_err("%s: no flow table '%s' (the tables are %s)", opt, name, names);
		exit(finish(2));
	}
	return c - xfsm_flow_table_classes;
}

/* --flows: N for every flow table, or TABLE=N for the tables named. */
static void parse_flows(struct xfsm_load_opts *o, const char *s)
{
	bool given[XFSM_FLOW_TABLE_CLASSES];
	char names[64];

	flow_table_names(names, sizeof(names));
	parse_table_sizes("--flows", s, names, flow_table_of, XFSM_FLOW_TABLE_CLASSES, 1,
			  XFSM_MAX_FLOWS, &o->flows, o->flows_per_table, given);
}

static void exe_dir(char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	buf[0] = '\0';
	if (n <= 0)
		return;
	path[n] = '\0';
	snprintf(buf, len, "%s", dirname(path));
}

static int errno_exit(int err)
{
	return err ? 1 : 0;
}

/* ---- load ------------------------------------------------------------------ */

/* A trap as a JSON object, or as a text line after indent. */
static void print_trap(const struct xfsm_trap *t, const char *indent)
{
	char msg[512];

	xfsm_trap_message(t, msg, sizeof(msg));
	out_obj_open(NULL);
	out_str("ifname", NULL, t->port);
	out_str("kind", NULL, xfsm_trap_name(t->kind));
	out_str("peer", NULL, t->peer[0] ? t->peer : NULL);
	out_str("peer_netns", NULL, t->peer_netns[0] ? t->peer_netns : NULL);
	out_text(indent);
	out_str("message", "warning: %s", msg);
	out_str("fix", "; fix: %s", t->fix);
	out_str("alt_fix", " (or %s)", t->alt_fix[0] ? t->alt_fix : NULL);
	out_text("\n");
	out_obj_close();
}

/*
 * After a load, the traps of the ports it attached (lib/veth_traps.c),
 * once per port: on stderr as warnings, or with -j as the "warnings" of
 * the load's JSON object on stdout; --quiet prints none (status shows
 * them).  A peer that cannot be read is said under -v only.
 */
static void load_report(const char *instance, char *const *ifs, int n)
{
	struct xfsm_trap traps[XFSM_TRAPS_MAX];
	struct xfsm_xdp_state st;
	char msg[512];
	int i, k, nt, ifindex;

	out_init(json);
	out_obj_open(NULL);
	out_str("instance", NULL, instance ? instance : XFSM_DEFAULT_INSTANCE);
	out_arr_open("warnings");
	for (i = 0; i < n; i++) {
		ifindex = if_nametoindex(ifs[i]);
		if (!ifindex || xfsm_xdp_state_get(ifindex, &st))
			continue;
		nt = xfsm_port_traps(ifindex, st.mode, traps);
		if (nt < 0 && verbose)
			fprintf(stderr, "%s: %s: cannot read its veth peer: %s\n", prog_name,
				ifs[i], strerror(-nt));
		for (k = 0; k < nt; k++) {
			if (json) {
				print_trap(&traps[k], "");
				continue;
			}
			if (quiet)
				continue;
			xfsm_trap_message(&traps[k], msg, sizeof(msg));
			fprintf(stderr, "%s: warning: %s; fix: %s%s%s%s\n", prog_name, msg,
				traps[k].fix, traps[k].alt_fix[0] ? " (or " : "",
				traps[k].alt_fix, traps[k].alt_fix[0] ? ")" : "");
		}
	}
	out_arr_close();
	out_obj_close();
	if (json)
		out_finish();
}

static int do_load(int argc, char **argv)
{
	struct xfsm_load_opts o = { .flow_lru = -1 };
	struct opts_seen seen = {};
	char dir[PATH_MAX];
	char **ifs;
	const char *v;
	int i, n = 0, err;

	ifs = calloc(argc + 1, sizeof(*ifs));
	if (!ifs)
		return 1;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if ((v = opt_value(&i, argc, argv, "--mode", &seen))) {
			if (xfsm_xdp_mode_parse(v, &o.mode)) {
				free(ifs);
				return 2;
			}
		} else if ((v = opt_value(&i, argc, argv, "--instance", &seen))) {
			o.instance = v;
		} else if ((v = opt_value(&i, argc, argv, "--pin-dir", &seen))) {
			o.pin_dir = v;
		} else if ((v = opt_value(&i, argc, argv, "--flows", &seen))) {
			parse_flows(&o, v);
		} else if ((v = opt_value(&i, argc, argv, "--rules", &seen))) {
			o.rules = parse_count("--rules", v, 1, XFSM_MAX_RULES);
		} else if ((v = opt_value(&i, argc, argv, "--acl-rules", &seen))) {
			parse_acl_caps(&o, "--acl-rules", v, XFSM_ACL_MAX_RULES, 1);
		} else if ((v = opt_value(&i, argc, argv, "--acl-nodes", &seen))) {
			parse_acl_caps(&o, "--acl-nodes", v, XFSM_ACL_MAX_NODES, 2);
		} else if ((v = opt_value(&i, argc, argv, "--stages", &seen))) {
			parse_count("--stages", v, 1, XFSM_MAX_STAGES);
			fprintf(stderr, "%s: notice: the datapath always has %d stages "
				"(fixed by its ABI); an application uses the ones it declares\n",
				prog_name, XFSM_MAX_STAGES);
		} else if ((v = opt_value(&i, argc, argv, "--flow-table", &seen))) {
			if (!strcmp(v, "lru")) {
				o.flow_lru = 1;
			} else if (!strcmp(v, "hash")) {
				o.flow_lru = 0;
			} else {
				p_err("--flow-table is lru or hash, not '%s'", v);
				free(ifs);
				return 2;
			}
		} else if ((v = opt_value(&i, argc, argv, "--flow-value", &seen))) {
			if (!strcmp(v, "full")) {
				o.flow_value = XFSM_FLOW_VALUE_FULL;
			} else if (!strcmp(v, "compact")) {
				o.flow_value = XFSM_FLOW_VALUE_COMPACT;
			} else {
				p_err("--flow-value is full or compact, not '%s'", v);
				free(ifs);
				return 2;
			}
		} else if ((v = opt_value(&i, argc, argv, "--obj", &seen))) {
			o.obj_path = v;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o.force = true;
		} else if (!strcmp(a, "--reset")) {
			o.reset = true;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
		} else if (a[0] == '-') {
			p_err("load: unknown option '%s' (see %s help)", a, prog_name);
			free(ifs);
			return 2;
		} else {
			ifs[n++] = argv[i];
		}
	}
	if (!n) {
		p_err("load: name at least one interface, e.g. %s load eth0", prog_name);
		free(ifs);
		return 2;
	}
	if (o.pin_dir && strlen(o.pin_dir) > 200) {
		p_err("--pin-dir is too long");
		free(ifs);
		return 2;
	}
	exe_dir(dir, sizeof(dir));
	o.exe_dir = dir;
	err = xfsm_load(&o, ifs, n);
	if (!err)
		load_report(o.instance, ifs, n);
	free(ifs);
	return errno_exit(err);
}

/* ---- unload --------------------------------------------------------------- */

static int do_unload(int argc, char **argv)
{
	const char *instance = NULL, *pin_dir = NULL, *v;
	struct opts_seen seen = {};
	bool all = false, force = false;
	unsigned int flags = 0;
	char **ifs;
	int i, n = 0, err;

	ifs = calloc(argc + 1, sizeof(*ifs));
	if (!ifs)
		return 1;
	for (i = 0; i < argc; i++) {
		if ((v = opt_value(&i, argc, argv, "--instance", &seen)))
			instance = v;
		else if ((v = opt_value(&i, argc, argv, "--pin-dir", &seen)))
			pin_dir = v;
		else if (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))
			all = true;
		else if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else if (!strcmp(argv[i], "--keep-maps"))
			flags |= XFSM_UNLOAD_KEEP_MAPS;
		else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-') {
			p_err("unload: unknown option '%s'", argv[i]);
			free(ifs);
			return 2;
		} else
			ifs[n++] = argv[i];
	}
	if (!!(n > 0 || instance || pin_dir) + all != 1 || (instance && pin_dir)) {
		p_err("unload takes interfaces, or --instance NAME or --pin-dir "
			"DIR (with or without interfaces), or --all");
		free(ifs);
		return 2;
	}
	if (force && (n > 0 || (flags & XFSM_UNLOAD_KEEP_MAPS))) {
		p_err("unload --force is for an instance (--instance, "
			"--pin-dir, --all) whose network namespace is gone, without "
			"interfaces or --keep-maps");
		free(ifs);
		return 2;
	}
	if (force)
		flags |= XFSM_UNLOAD_FORCE;
	err = xfsm_unload(ifs, n, instance, pin_dir, all, flags);
	/* the text stays quiet; -j says what was asked and done */
	if (!err && json) {
		out_init(true);
		out_obj_open(NULL);
		out_str("instance", NULL, instance);
		out_str("pin_dir", NULL, pin_dir);
		out_arr_open("interfaces");
		for (i = 0; i < n; i++)
			out_str(NULL, NULL, ifs[i]);
		out_arr_close();
		out_bool("all", NULL, all);
		out_bool("keep_maps", NULL, flags & XFSM_UNLOAD_KEEP_MAPS);
		out_bool("force", NULL, force);
		out_obj_close();
		out_finish();
	}
	free(ifs);
	return errno_exit(err);
}

/* ---- status --------------------------------------------------------------- */

static void print_port(const struct xfsm_status_port *p)
{
	int i;

	out_obj_open(NULL);
	out_text("    ");
	out_uint("port", "port %llu", p->port);
	out_str("ifname", "  %s", p->ifname[0] ? p->ifname : NULL);
	if (!p->ifname[0])
		out_text("  ?");
	out_uint("ifindex", "  ifindex %llu", p->ifindex);
	out_bool("attached", NULL, p->attached);
	out_str("mode", "  %s", p->attached ? xfsm_xdp_mode_name(p->mode) : "not-attached");
	if (p->attached) {
		out_uint("prog_id", "  prog %llu", p->prog_id);
		out_str("prog_name", " %s", p->prog_name);
	} else {
		out_null("prog_id");
		out_null("prog_name");
	}
	/* The program entered: generated and attached directly, or the
	 * generic one (which may enter a generated one by tail call). */
	out_bool("specialized", p->specialized ? " (specialized, directly)" : NULL,
		 p->specialized);
	out_bool("dispatcher", p->dispatcher ? "  (libxdp dispatcher)" :
		 p->attached && !p->specialized ? " (entry)" : NULL, p->dispatcher);
	if (p->ifname[0]) {
		out_bool("up", p->up ? "  up" : "  down", p->up);
		out_bool("carrier", p->up && !p->running ? " (no carrier)" : NULL,
			 p->running);
		out_uint("mtu", "  mtu %llu", p->mtu);
	} else {
		out_null("up");
		out_null("carrier");
		out_null("mtu");
	}
	out_text("\n");
	out_arr_open("warnings");
	for (i = 0; i < p->n_traps; i++)
		print_trap(&p->traps[i], "      ");
	out_arr_close();
	out_obj_close();
}

/* Where the ports are: in text only when it is not here. */
static void print_netns(const struct xfsm_status_inst *s)
{
	char buf[128];
	bool show = s->netns_known && !s->netns_here;

	out_obj_open("netns");
	out_str("name", NULL, s->netns_known && s->netns.name[0] ? s->netns.name : NULL);
	if (s->netns_known)
		out_uint("inode", NULL, s->netns.ino);
	else
		out_null("inode");
	out_bool("here", NULL, s->netns_here);
	out_bool("reachable", NULL, !s->netns_lost);
	out_obj_close();
	if (show) {
		out_text("  netns ");
		out_text(xfsm_netns_str(&s->netns, buf, sizeof(buf)));
		if (s->netns_lost)
			out_text(" (cannot be entered: its ports are not shown)");
	}
	out_bool("interrupted", s->interrupted ?
		 "  (a load was interrupted: the next load or unload settles its pins)" :
		 NULL, s->interrupted);
}

static void print_inst(const struct xfsm_status_inst *s)
{
	int i;

	out_obj_open(NULL);
	out_str("name", "instance %s", s->name);
	out_bool("pinned", NULL, s->pin_dir[0] != '\0');
	out_str("pin_dir", "  pins %s", s->pin_dir[0] ? s->pin_dir : NULL);
	if (!s->pin_dir[0])
		out_text("  pins -");
	out_uint("prog_id", "  prog %llu", s->prog_id);
	print_netns(s);
	if (s->abi_known) {
		out_uint("abi_version", "  abi %llu", s->build.abi_version);
		out_bool("offload", s->build.offload ? "  offload" : NULL, s->build.offload);
		out_str("flow_value", "  flow-value %s",
			s->build.compact_flows ? "compact" : "full");
	} else {
		out_null("abi_version");
		out_null("offload");
		out_null("flow_value");
		out_text("  abi ?");
	}
	out_str("flow_table", "  flows-table %s", s->flow_table);
	out_text("\n  ");
	out_arr_open("tables");
	for (i = 0; i < s->n_tables; i++) {
		const struct xfsm_status_table *t = &s->tables[i];

		out_obj_open(NULL);
		out_str("name", " %s", t->name);
		out_str("flows", " (%s)", t->flows);
		if (t->used >= 0)
			out_int("used", " %lld", t->used);
		else
			out_null("used");
		if (t->used < 0)
			out_text(" -1");
		out_uint("max_entries", "/%llu", t->max_entries);
		out_obj_close();
	}
	out_arr_close();
	out_text("\n");
	out_arr_open("ports");
	for (i = 0; i < s->n_ports; i++)
		print_port(&s->ports[i]);
	out_arr_close();
	out_obj_close();
}

static int do_status(int argc, char **argv)
{
	struct xfsm_status_inst *st;
	int i, n, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			p_err("status: unknown argument '%s'", argv[i]);
			return 2;
		}
	}
	/* Without CAP_BPF the pins cannot be opened: say so rather than
	 * report that nothing is loaded. */
	if (xfsm_check_privileges("status"))
		return 1;
	err = xfsm_status_collect(&st, &n);
	if (err) {
		p_err("status: %s%s", strerror(-err),
			err == -EPERM ? " (run as root)" : "");
		return 1;
	}
	out_init(json);
	out_obj_open(NULL);
	out_arr_open("instances");
	for (i = 0; i < n; i++)
		print_inst(&st[i]);
	out_arr_close();
	out_obj_close();
	if (!json && !n)
		printf("no xfsm instance (pins under %s) and no xfsm program on any interface\n",
		       xfsm_pin_root());
	out_finish();
	xfsm_status_free(st, n);
	return 0;
}

/* ---- features ----------------------------------------------------------------- */

static const char *feature_state_name(enum xfsm_feature_state s)
{
	switch (s) {
	case XFSM_FEAT_YES:
		return "yes";
	case XFSM_FEAT_NO:
		return "no";
	default:
		return "unknown";
	}
}

/* What this kernel offers the datapath, probe by probe, and what xfsm
 * lacks without each missing feature. */
static int do_features(int argc, char **argv)
{
	struct xfsm_features ft;
	char missing[512];
	int i, n_req;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			p_err("features: unknown argument '%s'", argv[i]);
			return 2;
		}
	}
	if (xfsm_check_privileges("features"))
		return 1;
	xfsm_features_probe(&ft);
	n_req = xfsm_features_missing(&ft, true, missing, sizeof(missing));

	out_init(json);
	out_obj_open(NULL);
	out_str("kernel", "kernel %s", ft.release);
	out_str("lockdown", ", lockdown %s\n", ft.lockdown);
	out_arr_open("features");
	for (i = 0; i < XFSM_FEAT__MAX; i++) {
		const struct xfsm_feature_desc *d = xfsm_feature_desc(i);
		char line[160];

		out_obj_open(NULL);
		snprintf(line, sizeof(line), "  %-13s %%-7s", d->name);
		out_str("name", NULL, d->name);
		out_str("state", line, feature_state_name(ft.state[i]));
		snprintf(line, sizeof(line), " %s, Linux %s%s", d->what, d->since,
			 d->required ? ", required" : "");
		out_text(line);
		out_str("what", NULL, d->what);
		out_str("since", NULL, d->since);
		out_bool("required", NULL, d->required);
		out_str("without", "\n    without it: %s",
			ft.state[i] != XFSM_FEAT_YES ? d->loses : NULL);
		out_text("\n");
		out_obj_close();
	}
	out_arr_close();
	out_bool("datapath_loads", NULL, n_req == 0);
	out_str("missing", "this kernel cannot run the datapath; it lacks %s\n",
		n_req ? missing : NULL);
	out_obj_close();
	out_finish();
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

static int do_help(int argc, char **argv);

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "load",	do_load },
	{ "unload",	do_unload },
	{ "status",	do_status },
	{ "show",	do_status },
	{ "features",	do_features },
	{ "help",	do_help },
	{ NULL, NULL },
};

/* One usage per command: the text help and help -j (xfsmctl's @help shape). */
static const struct {
	const char *command, *usage;
} usages[] = {
	{ "load", "load [--mode native|skb|hw|auto] [--instance NAME] [--pin-dir DIR]\n"
		  "       [--flows [TABLE=]N[,...]] [--flow-table lru|hash] [--rules N]\n"
		  "       [--flow-value full|compact]\n"
		  "       [--stages N]\n"
		  "       [--acl-rules [TABLE=]N[,...]] [--acl-nodes [TABLE=]N[,...]]\n"
		  "       [--force] [--reset] [-q] [-j]\n"
		  "       [--obj PATH] IFACE..." },
	{ "unload", "unload [--keep-maps] IFACE... | [--force] [--keep-maps] --instance NAME | --pin-dir DIR\n"
		    "         [IFACE...] | [--force] [--keep-maps] --all" },
	{ "status", "status [-j]" },
	{ "features", "features [-j]" },
	{ "help", "help [-j]" },
};

static int do_help(int argc, char **argv)
{
	char notes[256];
	size_t i;

	for (i = 0; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			p_err("help: unknown argument '%s'", argv[i]);
			return 2;
		}
	}
	snprintf(notes, sizeof(notes), "Maps are pinned under %s/NAME (instance \"%s\" by default).\n"
		 "See xfsm-loader(8).", xfsm_pin_root(), XFSM_DEFAULT_INSTANCE);
	out_init(json);
	out_obj_open(NULL);
	out_text("Usage: xfsm-loader [-v] [-q] [-j] [-V] COMMAND ...\n");
	out_arr_open("commands");
	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		out_obj_open(NULL);
		out_str("command", NULL, usages[i].command);
		out_str("usage", "  %s\n", usages[i].usage);
		out_obj_close();
	}
	out_arr_close();
	out_str("notes", "%s\n", notes);
	out_obj_close();
	out_finish();
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c, *match = NULL;
	int i, nmatch = 0;

	xfsm_set_log(log_cb);
	libbpf_set_print(libbpf_print_cb);
	libxdp_set_print(libxdp_print_cb);

	/* -j anywhere on the line (as xfsmctl): known before anything can fail */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return finish(do_help(0, NULL));
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			/* the Makefile's VERSION, as xfsmctl's */
			if (json)
				printf("{\"version\":\"%s\",\"abi\":%d}\n", XFSM_VERSION,
				       XFSM_ABI_VERSION);
			else
				printf("%s %s (xfsm ABI %d)\n", prog_name, XFSM_VERSION,
				       XFSM_ABI_VERSION);
			return 0;
		} else {
			p_err("unknown option '%s' (see %s help)", argv[i], prog_name);
			return finish(2);
		}
	}
	if (i >= argc) {
		if (json)
			p_err("name a command (see %s help)", prog_name);
		else
			do_help(0, NULL);
		return finish(2);
	}
	for (c = cmds; c->name; c++) {
		if (!strcmp(c->name, argv[i])) {
			match = c;
			nmatch = 1;
			break;
		}
		if (!strncmp(c->name, argv[i], strlen(argv[i]))) {
			if (!match || match->fn != c->fn)
				nmatch++;
			match = c;
		}
	}
	if (nmatch != 1) {
		p_err("%s command '%s' (commands: load, unload, status, features, help)",
		      nmatch ? "ambiguous" : "unknown", argv[i]);
		return finish(2);
	}
	return finish(match->fn(argc - i - 1, argv + i + 1));
}
