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

static int acl_help(int argc, char **argv)
{
	fprintf(stdout,
		"Usage: xfsmctl acl add [table N] RULE...\n"
		"       xfsmctl acl del [table N] ID\n"
		"       xfsmctl acl show [table N]\n"
		"       xfsmctl acl flush [table N]\n"
		"       xfsmctl acl load [table N] FILE\n"
		"RULE: [id N] [prio N] [ip4|ip6] [src PFX] [dst PFX] [proto P[/M]]\n"
		"      [sport A[-B]] [dport A[-B]] [flags F[/M]] [port N] [vlan N]\n"
		"      => allow|deny|pass|goto STAGE [mark M]\n"
		"FILE: one RULE per line, or a ClassBench filter set (lines starting with @).\n"
		"Tables 0..%u; an ACL stage of the application names its table (docs/modules.md).\n",
		XFSM_ACL_TABLES - 1);
	return 0;
}

/* Strip a leading "table N" / "--table N"; returns the table or -EINVAL. */
static int take_table(int *argc, char ***argv)
{
	__u32 t;

	if (*argc < 2 || (strcmp((*argv)[0], "table") && strcmp((*argv)[0], "--table")))
		return 0;
	if (arg_u32("ACL table", (*argv)[1], 0, XFSM_ACL_TABLES - 1, &t))
		return -EINVAL;
	*argc -= 2;
	*argv += 2;
	return (int)t;
}

struct acl_ctx {
	struct xfsm_instance *inst;
	struct xfsm_acl_rules rs;
	int table;
};

static int ctx_open(struct acl_ctx *c, int *argc, char ***argv, bool read)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->table = take_table(argc, argv);
	if (c->table < 0)
		return c->table;
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

static void ctx_close(struct acl_ctx *c)
{
	xfsm_acl_rules_free(&c->rs);
	xfsm_instance_close(c->inst);
}

static int acl_add(int argc, char **argv)
{
	struct xfsm_acl_entry e;
	struct acl_ctx c;
	char *text = NULL, msg[256], shown[1024];
	size_t len = 1, o = 0;
	int err, i;

	err = ctx_open(&c, &argc, &argv, true);
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
		p_err("acl add: %s", msg);
		goto out;
	}
	err = xfsm_acl_rules_add(&c.rs, &e);
	if (err) {
		p_err("acl add: %s", xfsm_acl_add_error(err));
		goto out;
	}
	err = ctx_commit(&c);
	if (!err) {
		xfsm_acl_format(&c.rs.r[c.rs.n - 1], shown, sizeof(shown));
		p_info("table %d: added %s", c.table, shown);
	}
out:
	free(text);
	ctx_close(&c);
	return err;
}

static int acl_del(int argc, char **argv)
{
	struct acl_ctx c;
	__u32 id;
	int err;

	err = ctx_open(&c, &argc, &argv, true);
	if (err)
		return err;
	if (argc != 1) {
		p_err("acl del: expected one rule id");
		err = -EINVAL;
		goto out;
	}
	err = arg_u32("acl del ID", argv[0], 1, 0xffffffff, &id);
	if (err)
		goto out;
	err = xfsm_acl_rules_del(&c.rs, id);
	if (err) {
		p_err("acl del: table %d has no rule %u", c.table, id);
		goto out;
	}
	err = ctx_commit(&c);
out:
	ctx_close(&c);
	return err;
}

static int acl_flush(int argc, char **argv)
{
	struct acl_ctx c;
	int err;

	err = ctx_open(&c, &argc, &argv, false);
	if (err)
		return err;
	err = ctx_commit(&c);
	ctx_close(&c);
	return err;
}

static int acl_load(int argc, char **argv)
{
	struct acl_ctx c;
	char msg[512];
	int err;

	err = ctx_open(&c, &argc, &argv, false);
	if (err)
		return err;
	if (argc != 1) {
		p_err("acl load: expected one file");
		err = -EINVAL;
		goto out;
	}
	err = xfsm_acl_load_file(argv[0], &c.rs, msg, sizeof(msg));
	if (err) {
		p_err("%s", msg);
		goto out;
	}
	err = ctx_commit(&c);
	if (!err)
		p_info("table %d: %zu rules loaded from %s", c.table, c.rs.n, argv[0]);
out:
	ctx_close(&c);
	return err;
}

static int acl_show(int argc, char **argv)
{
	struct xfsm_acl_stats st;
	struct xfsm_acl_ctl ctl;
	struct xfsm_acl_set set;
	unsigned int buf;
	struct acl_ctx c;
	char text[1024];
	size_t i;
	int err;

	err = ctx_open(&c, &argc, &argv, true);
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
	printf("acl table %d: %zu rules of %u, %u trees, %u nodes of %u, at most %u lookups per packet, generation %u, buffer %u\n",
	       c.table, c.rs.n, ctl.rule_cap, set.n_trees, set.n_nodes, ctl.node_cap,
	       set.max_lookups, set.generation, buf);
	printf("  packets %llu matched %llu missed %llu allow %llu deny %llu goto %llu pass %llu marked %llu lookups/packet %.2f\n",
	       (unsigned long long)st.packets, (unsigned long long)st.matched,
	       (unsigned long long)st.missed, (unsigned long long)st.allow,
	       (unsigned long long)st.deny, (unsigned long long)st.go,
	       (unsigned long long)st.pass, (unsigned long long)st.marked,
	       st.packets ? (double)st.probes / st.packets : 0.0);
	for (i = 0; i < c.rs.n; i++) {
		xfsm_acl_format(&c.rs.r[i], text, sizeof(text));
		printf("  %s\n", text);
	}
out:
	ctx_close(&c);
	return err;
}

int do_acl(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", acl_add },
		{ "del", acl_del },
		{ "delete", acl_del },
		{ "show", acl_show },
		{ "list", acl_show },
		{ "flush", acl_flush },
		{ "load", acl_load },
		{ "help", acl_help },
		{ NULL, NULL },
	};

	if (argc == 0)
		return acl_show(0, argv);
	return cmd_select(cmds, argc, argv, acl_help, "acl command");
}
