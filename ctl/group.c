/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl group: output groups; xfsmctl port set|sync: the port-down flag.
 *
 *   group add|set ID POLICY [PORT[:WEIGHT] [mac MAC]...]
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
#include "xfsm_num.h"

_Static_assert(XFSM_MAX_GROUPS == 64, "group_notes names the ids 0..63");
const char group_notes[] =
	"POLICY: rr (per packet), rr-flow, weighted, hash (symmetric 5-tuple),\n"
	"        consistent (Maglev table); ID 0..63; PORT a port number;\n"
	"        'mac MAC' after a member: the destination MAC of its packets.\n"
	"'group add' creates a group, 'group set' creates or replaces one.\n";

/* An id below `max`, through the shared number parser (lib/xfsm_num.h). */
static int parse_id(const char *s, unsigned int max, unsigned int *out)
{
	__u32 v;

	if (xfsm_parse_u32(s, 0, max - 1, &v, NULL, 0))
		return -EINVAL;
	*out = v;
	return 0;
}

/* The group ID argument, 0..XFSM_MAX_GROUPS-1. */
static int group_id_arg(struct args *a, unsigned int *id)
{
	__u32 v;
	int err = arg_next_u32(a, "group ID", 0, XFSM_MAX_GROUPS - 1, &v);

	if (!err)
		*id = v;
	return err;
}

static bool group_exists(const struct xfsm_group *g)
{
	/* generation 0 is "no group": an empty group that was set has >= 1 */
	return g->n_members || g->generation;
}

static void show_one(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g);

static int group_write(struct args *a, bool must_be_new)
{
	__u16 ports[XFSM_GROUP_MAX_MEMBERS], w[XFSM_GROUP_MAX_MEMBERS];
	__u64 macs[XFSM_GROUP_MAX_MEMBERS] = { 0 };
	struct xfsm_instance *inst;
	struct xfsm_group g, prev;
	unsigned int id, n = 0;
	const char *pol, *m;
	int policy, err;

	if (group_id_arg(a, &id))
		return -EINVAL;
	pol = arg_next(a, "POLICY");
	if (!pol)
		return -EINVAL;
	policy = xfsm_group_policy_parse(pol);
	if (policy < 0)
		return usage_err(a, "unknown policy '%s' (rr, rr-flow, weighted, hash, consistent)", pol);
	while ((m = arg_take(a))) {
		unsigned int p = 0, wt = 1;
		const char *colon = strchr(m, ':');
		char *port = strndup(m, colon ? (size_t)(colon - m) : strlen(m));
		bool bad = !port || parse_id(port, XFSM_MAX_PORTS, &p) || !p ||
			   (colon && (parse_id(colon + 1, 65536, &wt) || !wt));

		free(port);
		if (n == XFSM_GROUP_MAX_MEMBERS || bad)
			return usage_err(a, "bad member %s (PORT[:WEIGHT], at most %d members)", m,
					 XFSM_GROUP_MAX_MEMBERS);
		if (arg_kw(a, "mac")) {
			const char *ms = arg_next(a, "MAC");
			__u8 mb[6];

			if (!ms)
				return -EINVAL;
			if (xfsm_parse_mac(ms, strlen(ms), mb) || (mb[0] & 1) ||
			    !(mb[0] | mb[1] | mb[2] | mb[3] | mb[4] | mb[5]))
				return usage_err(a, "bad MAC %s for member %s (a unicast MAC, as 02:00:00:00:01:00)",
						 ms, m);
			for (int k = 0; k < 6; k++)
				macs[n] = macs[n] << 8 | mb[k];
		}
		ports[n] = p;
		w[n++] = wt;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	/* xfsm_group_write() refuses a member port the instance lacks. */
	err = xfsm_group_read(inst, id, &prev);
	if (err)
		goto out;
	if (must_be_new && group_exists(&prev)) {
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
	memcpy(g.macs, macs, sizeof(g.macs));
	err = xfsm_group_write(inst, id, &g);
	if (err) {
		p_err("cannot write group %u: %s", id, strerror(-err));
	} else if (is_json()) {
		/* the result: the group as group show shows it */
		open_json_object(NULL);
		open_json_array("groups");
		if (!xfsm_group_read(inst, id, &g))
			show_one(inst, id, &g);
		close_json_array();
		close_json_object();
		print_flush();
	}
out:
	xfsm_instance_close(inst);
	return err;
}

static int group_add(struct args *a)
{
	return group_write(a, true);
}

static int group_set(struct args *a)
{
	return group_write(a, false);
}

/* Read group id, which must exist: an error naming it otherwise. */
static int group_read_existing(struct xfsm_instance *inst, unsigned int id, struct xfsm_group *g)
{
	int err = xfsm_group_read(inst, id, g);

	if (err) {
		p_err("cannot read group %u: %s", id, strerror(-err));
		return err;
	}
	if (!group_exists(g)) {
		p_err("group %u does not exist (see 'xfsmctl group show')", id);
		return -ENOENT;
	}
	return 0;
}

static int group_del(struct args *a)
{
	struct xfsm_instance *inst;
	struct xfsm_group g;
	unsigned int id;
	int err;

	if (group_id_arg(a, &id))
		return -EINVAL;
	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_group_check(inst);
	if (!err)
		err = group_read_existing(inst, id, &g);
	if (!err) {
		err = xfsm_group_delete(inst, id);
		if (err) {
			p_err("cannot delete group %u: %s", id, strerror(-err));
		} else if (is_json()) {
			open_json_object(NULL);
			print_uint(PRINT_JSON, "deleted_group", NULL, id);
			close_json_object();
			print_flush();
		}
	}
	xfsm_instance_close(inst);
	return err;
}

/* A group object: {"id", "policy", "members": [...], "empty", "skipped"}. */
static void show_one(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g)
{
	struct xfsm_group_stats st;
	unsigned int i;
	__u32 fl;

	memset(&st, 0, sizeof(st));
	xfsm_group_read_stats(inst, id, &st);
	open_json_object(NULL);
	print_uint(PRINT_ANY, "id", "group %u:", id);
	print_string(PRINT_ANY, "policy", " %s,", xfsm_group_policy_name(g->policy));
	print_uint(PRINT_FP, NULL, " %u member(s),", g->n_members);
	print_uint(PRINT_ANY, "empty", " empty drops %llu,", st.empty);
	print_uint(PRINT_ANY, "skipped", " skipped %llu\n", st.skipped);
	open_json_array("members");
	for (i = 0; i < g->n_members && i < XFSM_GROUP_MAX_MEMBERS; i++) {
		fl = 0;
		xfsm_port_flags_get(inst, g->members[i], &fl);
		open_json_object(NULL);
		print_uint(PRINT_ANY, "port", "  port %u", g->members[i]);
		if (g->policy == XFSM_GP_WEIGHTED)
			print_uint(PRINT_FP, NULL, " weight %u", g->weights[i]);
		print_uint(PRINT_JSON, "weight", NULL, g->policy == XFSM_GP_WEIGHTED ? g->weights[i] : 1);
		if (g->macs[i]) {
			char mb[24];
			__u64 mv = g->macs[i];

			snprintf(mb, sizeof(mb), "%02x:%02x:%02x:%02x:%02x:%02x",
				 (unsigned int)(mv >> 40) & 0xff, (unsigned int)(mv >> 32) & 0xff,
				 (unsigned int)(mv >> 24) & 0xff, (unsigned int)(mv >> 16) & 0xff,
				 (unsigned int)(mv >> 8) & 0xff, (unsigned int)mv & 0xff);
			print_string(PRINT_ANY, "mac", " mac %s", mb);
		}
		print_bool(PRINT_JSON, "down", NULL, fl & XFSM_PORT_F_DOWN);
		print_text("%s", (fl & XFSM_PORT_F_DOWN) ? " (down)" : "");
		print_uint(PRINT_ANY, "packets", " packets %llu\n", st.member[i]);
		close_json_object();
	}
	close_json_array();
	close_json_object();
}

static int group_show(struct args *a)
{
	struct xfsm_instance *inst;
	struct xfsm_group g;
	unsigned int id = 0, shown = 0;
	bool one = arg_more(a);
	int err;

	if (one && group_id_arg(a, &id))
		return -EINVAL;
	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_group_check(inst);
	if (!err && one)
		err = group_read_existing(inst, id, &g);
	if (err)
		goto out;
	open_json_object(NULL);
	open_json_array("groups");
	for (unsigned int i = 0; i < XFSM_MAX_GROUPS; i++) {
		if (one && i != id)
			continue;
		if (xfsm_group_read(inst, i, &g) || !group_exists(&g))
			continue;
		show_one(inst, i, &g);
		shown++;
	}
	close_json_array();
	close_json_object();
	if (!shown)
		print_text("no groups\n");
	print_flush();
out:
	xfsm_instance_close(inst);
	return err;
}

const struct cmd group_cmds[] = {
	{ "show", group_show, "[ID]", NULL, NULL },
	{ "list", group_show, NULL, NULL, NULL },
	{ "add", group_add, "ID POLICY [PORT[:WEIGHT] [mac MAC]...]", NULL, NULL },
	{ "set", group_set, "ID POLICY [PORT[:WEIGHT] [mac MAC]...]", NULL, NULL },
	{ "del", group_del, "ID", NULL, NULL },
	{ "delete", group_del, NULL, NULL, NULL },
	{ NULL },
};

/* ---- port set | sync ------------------------------------------------------------ */

int port_set_cmd(struct args *a)
{
	struct xfsm_instance *inst;
	const char *state;
	__u32 port;
	bool down;
	int err;

	if (arg_next_u32(a, "PORT", 1, XFSM_MAX_PORTS - 1, &port))
		return -EINVAL;
	state = arg_next(a, "up or down");
	if (!state)
		return -EINVAL;
	if (strcmp(state, "up") && strcmp(state, "down"))
		return usage_err(a, "expected up or down, not '%s'", state);
	err = arg_end(a);
	if (err)
		return err;
	down = !strcmp(state, "down");
	err = open_instance(&inst);
	if (err)
		return err;
	/* Refused for a port the instance lacks, with the library's
	 * message (it says every failure). */
	err = xfsm_port_set_down(inst, port, down);
	if (!err && is_json()) {
		struct running r;
		int back;

		/* the result: the port as port show shows it */
		if (!xfsm_instance_netns_enter(inst, &back)) {
			if (!running_load(inst, &r, false)) {
				open_json_object(NULL);
				open_json_array("ports");
				print_ports(inst, r.nm, port);
				close_json_array();
				close_json_object();
				print_flush();
			}
			running_free(&r);
			xfsm_netns_leave(back);
		}
	}
	xfsm_instance_close(inst);
	return err;
}

int port_sync_cmd(struct args *a)
{
	struct xfsm_instance *inst;
	int err;

	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_ports_sync_link(inst);
	if (err < 0)
		p_err("cannot read the ports' link state: %s", strerror(-err));
	else {
		open_json_object(NULL);
		print_int(PRINT_ANY, "ports_down", "%d port(s) down\n", err);
		close_json_object();
		print_flush();
	}
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
	if (!xfsm_stats_in_block(inst))
		return;	/* no port counters (the offload profile) */
	printf("port counters:\n");
	xfsm_map_walk(inst, XFSM_M_PORTS, port_row, inst);
}
