/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl acl: the ACL module's tables.
 *
 *   acl add [table N] RULE...      acl del [table N] ID
 *   acl show [table N]             acl flush [table N]
 *   acl load [table N] FILE        (native syntax or ClassBench; replaces)
 *
 * Every change rebuilds the table's rule set and installs it atomically
 * (xfsm_acl_install): packets see the old set or the new one, never a mix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"
#include "xfsm_acl.h"

_Static_assert(XFSM_ACL_TABLES == 8, "acl_notes names the tables 0..7");
const char acl_notes[] =
	"RULE: [id N] [prio N] [ip4|ip6] [src PFX] [dst PFX] [proto P[/M]]\n"
	"      [sport A[-B]] [dport A[-B]] [flags F[/M]] [port N] [vlan N]\n"
	"      => allow|deny|pass|goto STAGE [mark M]\n"
	"FILE: one RULE per line, or a ClassBench filter set (lines starting with @).\n"
	"Tables 0..7 (default 0); an ACL stage of the application names its table (docs/modules.md).\n";

/* An optional leading "table N" (or "--table N"): the table, 0 without. */
static int take_table(struct args *a, int *table)
{
	__u32 t;

	*table = 0;
	if (!arg_kw(a, "table") && !arg_kw(a, "--table"))
		return 0;
	if (arg_next_u32(a, "ACL table", 0, XFSM_ACL_TABLES - 1, &t))
		return -EINVAL;
	*table = (int)t;
	return 0;
}

struct acl_ctx {
	struct xfsm_instance *inst;
	struct xfsm_acl_rules rs;
	int table;
};

/* Open table `table` (taken from a before) once every word of a was
 * used: nothing is opened for a command line with a word left. */
static int ctx_open(struct acl_ctx *c, struct args *a, int table, bool read)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->table = table;
	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&c->inst);
	if (err)
		return err;
	err = xfsm_acl_check(c->inst);
	if (!err && read)
		err = xfsm_acl_read(c->inst, c->table, &c->rs);
	if (err) {
		if (err != -EOPNOTSUPP && err != -EPROTO)
			p_err("cannot read ACL table %d: %s", c->table, strerror(-err));
		xfsm_instance_close(c->inst);
		c->inst = NULL;
	}
	return err;
}

static int ctx_commit(struct acl_ctx *c)
{
	int err = xfsm_acl_install(c->inst, c->table, c->rs.r, c->rs.n);

	if (err)
		p_err("cannot install ACL table %d (%zu rules): %s", c->table, c->rs.n,
		      strerror(-err));
	return err;
}

/* The result of a change under -j: {"table", "n_rules"[, "added"|"deleted"]}. */
static void ctx_result(const struct acl_ctx *c, const struct xfsm_acl_entry *added, __u32 deleted)
{
	char text[1024];

	if (!is_json())
		return;
	open_json_object(NULL);
	print_int(PRINT_JSON, "table", NULL, c->table);
	print_uint(PRINT_JSON, "n_rules", NULL, c->rs.n);
	if (added) {
		xfsm_acl_format(added, text, sizeof(text));
		open_json_object("added");
		print_uint(PRINT_JSON, "id", NULL, added->rule_id);
		print_uint(PRINT_JSON, "priority", NULL, added->priority);
		print_string(PRINT_JSON, "text", NULL, text);
		close_json_object();
	}
	if (deleted)
		print_uint(PRINT_JSON, "deleted", NULL, deleted);
	close_json_object();
	print_flush();
}

static void ctx_close(struct acl_ctx *c)
{
	xfsm_acl_rules_free(&c->rs);
	xfsm_instance_close(c->inst);
}

static int acl_add(struct args *a)
{
	struct xfsm_acl_entry e;
	struct acl_ctx c;
	char *text = NULL, msg[256], shown[1024], **argv;
	size_t len = 1, o = 0;
	int err, i, argc, table;

	if (take_table(a, &table))
		return -EINVAL;
	argv = arg_rest(a, &argc);
	if (!argc)
		return usage_err(a, "expected the RULE");
	err = ctx_open(&c, a, table, true);
	if (err)
		return err;
	/* the arguments joined, however long: the parser sees all of them */
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	text = malloc(len);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	text[0] = 0;
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (i)
			text[o++] = ' ';
		memcpy(text + o, argv[i], n + 1);
		o += n;
	}
	err = xfsm_acl_parse_rule(text, &e, NULL, NULL, msg, sizeof(msg));
	if (err) {
		usage_err(a, "%s", msg);
		goto out;
	}
	err = xfsm_acl_rules_add(&c.rs, &e);
	if (err) {
		p_err("acl add: %s", xfsm_acl_add_error(err));
		goto out;
	}
	err = ctx_commit(&c);
	if (!err) {
		const struct xfsm_acl_entry *added = &c.rs.r[c.rs.n - 1];

		/* the rule as installed (the rule set keeps its order) */
		for (size_t k = 0; k < c.rs.n; k++)
			if (c.rs.r[k].rule_id == e.rule_id || (!e.rule_id && k == c.rs.n - 1))
				added = &c.rs.r[k];
		xfsm_acl_format(added, shown, sizeof(shown));
		p_info("table %d: added %s", c.table, shown);
		ctx_result(&c, added, 0);
	}
out:
	free(text);
	ctx_close(&c);
	return err;
}

static int acl_del(struct args *a)
{
	struct acl_ctx c;
	int err, table;
	__u32 id;

	if (take_table(a, &table) || arg_next_u32(a, "acl del ID", 1, 0xffffffff, &id))
		return -EINVAL;
	err = ctx_open(&c, a, table, true);
	if (err)
		return err;
	err = xfsm_acl_rules_del(&c.rs, id);
	if (err) {
		p_err("acl del: table %d has no rule %u", c.table, id);
		goto out;
	}
	err = ctx_commit(&c);
	if (!err)
		ctx_result(&c, NULL, id);
out:
	ctx_close(&c);
	return err;
}

static int acl_flush(struct args *a)
{
	struct acl_ctx c;
	int err, table;

	if (take_table(a, &table))
		return -EINVAL;
	err = ctx_open(&c, a, table, false);
	if (err)
		return err;
	err = ctx_commit(&c);
	if (!err)
		ctx_result(&c, NULL, 0);
	ctx_close(&c);
	return err;
}

static int acl_load(struct args *a)
{
	struct acl_ctx c;
	const char *file;
	char msg[512];
	int err, table;

	if (take_table(a, &table))
		return -EINVAL;
	file = arg_next(a, "FILE");
	if (!file)
		return -EINVAL;
	err = ctx_open(&c, a, table, false);
	if (err)
		return err;
	err = xfsm_acl_load_file(file, &c.rs, msg, sizeof(msg));
	if (err) {
		p_err("%s", msg);
		goto out;
	}
	err = ctx_commit(&c);
	if (!err) {
		p_info("table %d: %zu rules loaded from %s", c.table, c.rs.n, file);
		ctx_result(&c, NULL, 0);
	}
out:
	ctx_close(&c);
	return err;
}

static int acl_show(struct args *a)
{
	struct xfsm_acl_stats st;
	struct xfsm_acl_ctl ctl;
	struct xfsm_acl_set set;
	unsigned int buf;
	struct acl_ctx c;
	int err, table;

	if (take_table(a, &table))
		return -EINVAL;
	err = ctx_open(&c, a, table, true);
	if (err)
		return err;
	err = xfsm_acl_ctl_get(c.inst, c.table, &ctl, NULL);
	if (!err)
		err = xfsm_acl_set_get(c.inst, c.table, &set, &buf);
	if (!err)
		err = xfsm_acl_read_stats(c.inst, c.table, &st);
	if (err) {
		p_err("cannot read ACL table %d: %s", c.table, strerror(-err));
		goto out;
	}
	open_json_object(NULL);
	print_int(PRINT_ANY, "table", "acl table %d:", c.table);
	print_uint(PRINT_ANY, "n_rules", " %u rules", (unsigned int)c.rs.n);
	print_uint(PRINT_ANY, "rule_cap", " of %u,", ctl.rule_cap);
	print_uint(PRINT_ANY, "trees", " %u trees,", set.n_trees);
	print_uint(PRINT_ANY, "nodes", " %u nodes", set.n_nodes);
	print_uint(PRINT_ANY, "node_cap", " of %u,", ctl.node_cap);
	print_uint(PRINT_ANY, "max_lookups", " at most %u lookups per packet,", set.max_lookups);
	print_uint(PRINT_ANY, "generation", " generation %u,", set.generation);
	print_uint(PRINT_ANY, "buffer", " buffer %u\n", buf);
	open_json_object("stats");
	print_uint(PRINT_ANY, "packets", "  packets %llu", st.packets);
	print_uint(PRINT_ANY, "matched", " matched %llu", st.matched);
	print_uint(PRINT_ANY, "missed", " missed %llu", st.missed);
	print_uint(PRINT_ANY, "allow", " allow %llu", st.allow);
	print_uint(PRINT_ANY, "deny", " deny %llu", st.deny);
	print_uint(PRINT_ANY, "goto", " goto %llu", st.go);
	print_uint(PRINT_ANY, "pass", " pass %llu", st.pass);
	print_uint(PRINT_ANY, "marked", " marked %llu", st.marked);
	print_float(PRINT_ANY, "lookups_per_packet", " lookups/packet %.2f\n",
		    st.packets ? (double)st.probes / st.packets : 0.0);
	close_json_object();
	print_acl_rules(c.rs.r, c.rs.n);
	close_json_object();
	print_flush();
out:
	ctx_close(&c);
	return err;
}

const struct cmd acl_cmds[] = {
	{ "show", acl_show, "[table N]", NULL, NULL },
	{ "list", acl_show, NULL, NULL, NULL },
	{ "add", acl_add, "[table N] RULE...", NULL, NULL },
	{ "del", acl_del, "[table N] ID", NULL, NULL },
	{ "delete", acl_del, NULL, NULL, NULL },
	{ "flush", acl_flush, "[table N]", NULL, NULL },
	{ "load", acl_load, "[table N] FILE", NULL, NULL },
	{ NULL },
};
