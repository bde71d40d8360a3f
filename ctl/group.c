/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl group: output groups; xfsmctl port set|sync: the port-down flag.
 *
 *   group add|set ID POLICY [PORT[:WEIGHT]...]
 *   group del ID          group show [ID]
 *   port set PORT up|down port sync
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"
#include "xfsm_attach.h"
#include "xfsm_group.h"

static int group_help(int argc, char **argv)
{
	fprintf(stdout,
		"Usage: xfsmctl group add|set ID POLICY [PORT[:WEIGHT]...]\n"
		"       xfsmctl group del ID\n"
		"       xfsmctl group show [ID]\n"
		"POLICY: rr (per packet), rr-flow, weighted, hash (symmetric 5-tuple),\n"
		"        consistent (Maglev table); ID 0..%u; PORT a port number.\n",
		XFSM_MAX_GROUPS - 1);
	return 0;
}

/* An id below `max`, through the shared number parser (lib/xfsm_num.h). */
static int parse_id(const char *s, unsigned int max, unsigned int *out)
{
	__u32 v;

	if (xfsm_parse_u32(s, 0, max - 1, &v, NULL, 0))
		return -EINVAL;
	*out = v;
	return 0;
}

static int group_write(int argc, char **argv, bool must_be_new)
{
	__u16 ports[XFSM_GROUP_MAX_MEMBERS], w[XFSM_GROUP_MAX_MEMBERS];
	struct xfsm_instance *inst;
	struct xfsm_group g, prev;
	unsigned int id, n = 0;
	int policy, err, i;

	if (argc < 2 || parse_id(argv[0], XFSM_MAX_GROUPS, &id)) {
		p_err("group: expected ID (0..%u) and POLICY", XFSM_MAX_GROUPS - 1);
		return -EINVAL;
	}
	policy = xfsm_group_policy_parse(argv[1]);
	if (policy < 0) {
		p_err("group: unknown policy %s (rr, rr-flow, weighted, hash, consistent)", argv[1]);
		return -EINVAL;
	}
	for (i = 2; i < argc; i++) {
		unsigned int p = 0, wt = 1;
		char *colon = strchr(argv[i], ':');
		char *port = strndup(argv[i], colon ? (size_t)(colon - argv[i]) : strlen(argv[i]));
		bool bad = !port || parse_id(port, XFSM_MAX_PORTS, &p) || !p ||
			   (colon && (parse_id(colon + 1, 65536, &wt) || !wt));

		free(port);
		if (n == XFSM_GROUP_MAX_MEMBERS || bad) {
			p_err("group: bad member %s (PORT[:WEIGHT], at most %d members)", argv[i],
			      XFSM_GROUP_MAX_MEMBERS);
			return -EINVAL;
		}
		ports[n] = p;
		w[n++] = wt;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_group_read(inst, id, &prev);
	if (err)
		goto out;
	if (must_be_new && prev.n_members) {
		p_err("group %u exists (use 'group set' to change it)", id);
		err = -EEXIST;
		goto out;
	}
	err = xfsm_group_rebuild(&g, policy, ports, w, n, &prev);
	if (err) {
		p_err("group %u: %s", id, err == -E2BIG ? "weights add up to more than the table holds" :
		      "bad members (duplicate or out-of-range port)");
		goto out;
	}
	err = xfsm_group_write(inst, id, &g);
	if (err)
		p_err("cannot write group %u: %s", id, strerror(-err));
out:
	xfsm_instance_close(inst);
	return err;
}

static int group_add(int argc, char **argv)
{
	return group_write(argc, argv, true);
}

static int group_set(int argc, char **argv)
{
	return group_write(argc, argv, false);
}

static int group_del(int argc, char **argv)
{
	struct xfsm_instance *inst;
	unsigned int id;
	int err;

	if (argc != 1 || parse_id(argv[0], XFSM_MAX_GROUPS, &id)) {
		p_err("group del: expected one group id");
		return -EINVAL;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_group_delete(inst, id);
	if (err)
		p_err("cannot delete group %u: %s", id, strerror(-err));
	xfsm_instance_close(inst);
	return err;
}

static void show_one(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g)
{
	struct xfsm_group_stats st;
	unsigned int i;
	__u32 fl;

	memset(&st, 0, sizeof(st));
	xfsm_group_read_stats(inst, id, &st);
	printf("group %u: %s, %u member(s), empty drops %llu, skipped %llu\n", id,
	       xfsm_group_policy_name(g->policy), g->n_members,
	       (unsigned long long)st.empty, (unsigned long long)st.skipped);
	for (i = 0; i < g->n_members && i < XFSM_GROUP_MAX_MEMBERS; i++) {
		fl = 0;
		xfsm_port_flags_get(inst, g->members[i], &fl);
		printf("  port %u", g->members[i]);
		if (g->policy == XFSM_GP_WEIGHTED)
			printf(" weight %u", g->weights[i]);
		printf("%s packets %llu\n", (fl & XFSM_PORT_F_DOWN) ? " (down)" : "",
		       (unsigned long long)st.member[i]);
	}
}

static int group_show(int argc, char **argv)
{
	struct xfsm_instance *inst;
	struct xfsm_group g;
	unsigned int id = 0, shown = 0;
	int err;

	if (argc > 1 || (argc == 1 && parse_id(argv[0], XFSM_MAX_GROUPS, &id))) {
		p_err("group show: expected at most one group id");
		return -EINVAL;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_group_check(inst);
	for (unsigned int i = 0; !err && i < XFSM_MAX_GROUPS; i++) {
		if (argc == 1 && i != id)
			continue;
		err = xfsm_group_read(inst, i, &g);
		if (err || (argc == 0 && !g.n_members && !g.generation))
			continue;
		show_one(inst, i, &g);
		shown++;
	}
	if (!err && !shown)
		printf("no groups\n");
	xfsm_instance_close(inst);
	return err;
}

int do_group(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", group_add },
		{ "set", group_set },
		{ "del", group_del },
		{ "delete", group_del },
		{ "show", group_show },
		{ "list", group_show },
		{ "help", group_help },
		{ NULL, NULL },
	};

	if (argc == 0)
		return group_show(0, argv);
	return cmd_select(cmds, argc, argv, group_help, "group command");
}

/* ---- port set | sync ------------------------------------------------------------ */

int port_set_cmd(int argc, char **argv)
{
	struct xfsm_instance *inst;
	unsigned int port;
	bool down;
	int err;

	if (argc != 2 || parse_id(argv[0], XFSM_MAX_PORTS, &port) || !port ||
	    (strcmp(argv[1], "up") && strcmp(argv[1], "down"))) {
		p_err("port set: expected PORT up|down");
		return -EINVAL;
	}
	down = !strcmp(argv[1], "down");
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_port_set_down(inst, port, down);
	if (err)
		p_err("cannot set port %u %s: %s", port, argv[1], strerror(-err));
	xfsm_instance_close(inst);
	return err;
}

int port_sync_cmd(int argc, char **argv)
{
	struct xfsm_instance *inst;
	int err;

	(void)argv;
	if (argc) {
		p_err("port sync takes no argument");
		return -EINVAL;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_ports_sync_link(inst);
	if (err < 0)
		p_err("cannot read the ports' link state: %s", strerror(-err));
	else
		printf("%d port(s) down\n", err);
	xfsm_instance_close(inst);
	return err < 0 ? err : 0;
}

/* ---- port show: counters ------------------------------------------------------------ */

/*
 * tx counts what the datapath sent out of a port.  A veth whose peer lacks
 * NAPI drops it afterwards (docs/loader.md, "Traps of veth ports"): say so
 * under the row, read now, rather than let the counter pass for delivered.
 */
static void port_trap_note(int ifindex)
{
	struct xfsm_trap t[XFSM_TRAPS_MAX];
	struct xfsm_xdp_state xs;
	char msg[512];
	int i, n;

	if (xfsm_xdp_state_get(ifindex, &xs))
		return;
	n = xfsm_port_traps(ifindex, xs.mode, t);
	for (i = 0; i < n; i++) {
		if (t[i].kind != XFSM_TRAP_REDIRECT_DROP)
			continue;
		xfsm_trap_message(&t[i], msg, sizeof(msg));
		printf("           tx is not delivered: %s; fix: %s\n", msg, t[i].fix);
	}
}

static int port_row(const void *key, const void *value, void *ctx)
{
	const struct xfsm_port *p = value;
	struct xfsm_instance *inst = ctx;
	struct xfsm_port_stats st;
	char name[IF_NAMESIZE] = "?";
	__u32 fl = 0;

	if (xfsm_port_stats_read(inst, p->port, &st))
		return 0;
	xfsm_port_flags_get(inst, p->port, &fl);
	if_indextoname(*(const __u32 *)key, name);
	printf("  port %-3u %-16s rx %llu pkts %llu bytes, tx %llu pkts %llu bytes%s\n",
	       p->port, name, (unsigned long long)st.rx_packets,
	       (unsigned long long)st.rx_bytes, (unsigned long long)st.tx_packets,
	       (unsigned long long)st.tx_bytes, (fl & XFSM_PORT_F_DOWN) ? " (down)" : "");
	port_trap_note(*(const __u32 *)key);
	return 0;
}

void port_counters_print(struct xfsm_instance *inst)
{
	if (inst->map_fd[XFSM_M_PORT_STATS] < 0)
		return;
	printf("port counters:\n");
	xfsm_map_walk(inst, XFSM_M_PORTS, port_row, inst);
}
