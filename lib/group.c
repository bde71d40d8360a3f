/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Output groups: building (weighted sequence, Maglev table), reading and
 * writing the group maps, statistics, and port flags from link state.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xfsm_group.h"
#include "apply_internal.h"
#include "xfsm/group_hash.h"

static const char *const policy_names[XFSM_GP__MAX] = {
	[XFSM_GP_RR_PACKET]	= "rr",
	[XFSM_GP_RR_FLOW]	= "rr-flow",
	[XFSM_GP_WEIGHTED]	= "weighted",
	[XFSM_GP_HASH]		= "hash",
	[XFSM_GP_CONSISTENT]	= "consistent",
};

int xfsm_group_policy_parse(const char *name)
{
	int i;

	for (i = 0; i < XFSM_GP__MAX; i++)
		if (!strcmp(name, policy_names[i]))
			return i;
	return -1;
}

const char *xfsm_group_policy_name(unsigned int policy)
{
	return policy < XFSM_GP__MAX ? policy_names[policy] : "?";
}

/* Smooth weighted round robin: members interleaved, each appearing
 * weight times per cycle. */
static void build_weighted(struct xfsm_group *g, unsigned int total)
{
	long cur[XFSM_GROUP_MAX_MEMBERS] = { 0 };
	unsigned int s, i, best;

	for (s = 0; s < total; s++) {
		best = 0;
		for (i = 0; i < g->n_members; i++) {
			cur[i] += g->weights[i];
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= total;
		g->table[s] = best;
	}
	g->n_slots = total;
}

/* Maglev (Eisenbud et al., NSDI 2016): every member walks its own
 * permutation of the slots, derived from its port number, taking turns
 * to claim the next free slot of its permutation. */
static void build_maglev(struct xfsm_group *g, const struct xfsm_group *prev)
{
	const __u32 m = XFSM_GROUP_TABLE;
	__u32 offset[XFSM_GROUP_MAX_MEMBERS], skip[XFSM_GROUP_MAX_MEMBERS];
	__u32 next[XFSM_GROUP_MAX_MEMBERS] = { 0 }, filled = 0, i, j, c;
	int *entry = malloc(m * sizeof(*entry));

	if (!entry)
		return;
	for (i = 0; i < m; i++)
		entry[i] = -1;
	/* Members only removed: keep every slot of a surviving member (under
	 * its new index) and refill just the slots of the removed ones, so
	 * only their flows move. */
	if (prev) {
		for (i = 0; i < m && i < prev->n_slots; i++) {
			__u16 port = prev->members[prev->table[i] % XFSM_GROUP_MAX_MEMBERS];

			for (j = 0; j < g->n_members; j++)
				if (g->members[j] == port) {
					entry[i] = j;
					filled++;
					break;
				}
		}
	}
	for (i = 0; i < g->n_members; i++) {
		offset[i] = xfsm_gh_final(xfsm_gh_mix(0x2545f491U, g->members[i])) % m;
		skip[i] = xfsm_gh_final(xfsm_gh_mix(0x61c88647U, g->members[i])) % (m - 1) + 1;
	}
	while (filled < m) {
		for (i = 0; i < g->n_members && filled < m; i++) {
			do {
				c = (offset[i] + (__u64)next[i] * skip[i]) % m;
				next[i]++;
			} while (entry[c] >= 0);
			entry[c] = i;
			filled++;
		}
	}
	for (i = 0; i < m; i++)
		g->table[i] = entry[i];
	g->n_slots = m;
	free(entry);
}

/* Is every member of g also a member of prev (a consistent-hash group)? */
static bool only_removed(const struct xfsm_group *g, const struct xfsm_group *prev)
{
	unsigned int i, j;

	if (!prev || prev->policy != XFSM_GP_CONSISTENT || prev->n_slots != XFSM_GROUP_TABLE ||
	    !prev->n_members || prev->n_members > XFSM_GROUP_MAX_MEMBERS)
		return false;
	for (i = 0; i < g->n_members; i++) {
		for (j = 0; j < prev->n_members; j++)
			if (prev->members[j] == g->members[i])
				break;
		if (j == prev->n_members)
			return false;
	}
	return true;
}

int xfsm_group_build(struct xfsm_group *g, unsigned int policy, const __u16 *ports,
		     const __u16 *weights, unsigned int n)
{
	return xfsm_group_rebuild(g, policy, ports, weights, n, NULL);
}

int xfsm_group_rebuild(struct xfsm_group *g, unsigned int policy, const __u16 *ports,
		       const __u16 *weights, unsigned int n, const struct xfsm_group *prev)
{
	unsigned int i, j, total = 0;

	memset(g, 0, sizeof(*g));
	if (policy >= XFSM_GP__MAX || n > XFSM_GROUP_MAX_MEMBERS)
		return -EINVAL;
	g->policy = policy;
	g->n_members = n;
	for (i = 0; i < n; i++) {
		if (!ports[i] || ports[i] >= XFSM_MAX_PORTS)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (ports[j] == ports[i])
				return -EINVAL;
		g->members[i] = ports[i];
		g->weights[i] = weights ? weights[i] : 1;
		if (!g->weights[i])
			return -EINVAL;
		total += g->weights[i];
	}
	if (!n)
		return 0;
	if (policy == XFSM_GP_WEIGHTED) {
		if (total > XFSM_GROUP_TABLE)
			return -E2BIG;
		build_weighted(g, total);
	} else if (policy == XFSM_GP_CONSISTENT) {
		build_maglev(g, only_removed(g, prev) ? prev : NULL);
		if (!g->n_slots)
			return -ENOMEM;
	}
	return 0;
}

unsigned int xfsm_group_consistent_pick(const struct xfsm_group *g, __u32 hash)
{
	if (!g->n_slots)
		return 0;
	return g->table[hash % g->n_slots];
}

/* ---- Maps ------------------------------------------------------------------ */

int xfsm_group_check(struct xfsm_instance *inst)
{
	if (!inst)
		return -EINVAL;
	if (inst->map_fd[XFSM_M_GROUPS] < 0 || inst->map_fd[XFSM_M_GROUP_STATS] < 0 ||
	    inst->map_fd[XFSM_M_GROUP_RR] < 0 || inst->map_fd[XFSM_M_PORT_FLAGS] < 0) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s has no output group maps (offload profile, or an older datapath)",
			 inst->name);
		return -EOPNOTSUPP;
	}
	if (inst->map_value_size[XFSM_M_GROUPS] != sizeof(struct xfsm_group) ||
	    inst->map_max_entries[XFSM_M_GROUPS] < 2 * XFSM_MAX_GROUPS) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: group maps do not match this tool's ABI",
			 inst->name);
		return -EPROTO;
	}
	return 0;
}

/* A change of one group is an application switch: the group is written
 * into the buffer the running slot does not name. */
static int group_change(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g)
{
	struct xfsm_change chg = { .groups = 1ULL << id };
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (id >= XFSM_MAX_GROUPS)
		return -EINVAL;
	chg.group[id] = g;
	return xfsm_apply_change(inst, &chg);
}

int xfsm_group_write(struct xfsm_instance *inst, unsigned int id, const struct xfsm_group *g)
{
	if (!g)
		return -EINVAL;
	return group_change(inst, id, g);
}

int xfsm_group_delete(struct xfsm_instance *inst, unsigned int id)
{
	return group_change(inst, id, NULL);
}

int xfsm_group_read_buffer(struct xfsm_instance *inst, unsigned int id, unsigned int buf,
			   struct xfsm_group *g)
{
	__u32 k = id + (buf & 1) * XFSM_MAX_GROUPS;

	if (id >= XFSM_MAX_GROUPS)
		return -EINVAL;
	return bpf_map_lookup_elem(inst->map_fd[XFSM_M_GROUPS], &k, g) ? -errno : 0;
}

int xfsm_group_write_buffer(struct xfsm_instance *inst, unsigned int id, unsigned int buf,
			    const struct xfsm_group *g, __u32 generation)
{
	__u32 k = id + (buf & 1) * XFSM_MAX_GROUPS;
	struct xfsm_group *nw = calloc(1, sizeof(*nw));
	int err = 0;

	if (!nw)
		return -ENOMEM;
	if (id >= XFSM_MAX_GROUPS) {
		err = -EINVAL;
		goto out;
	}
	/* generation 0: "no group" (a group that exists has >= 1) */
	if (g) {
		*nw = *g;
		nw->generation = generation ? generation : 1;
	}
	if (bpf_map_update_elem(inst->map_fd[XFSM_M_GROUPS], &k, nw, BPF_ANY))
		err = -errno;
out:
	free(nw);
	return err;
}

/* Element `idx` (< limit) of one of the instance's group-related arrays. */
static int group_array_read(struct xfsm_instance *inst, enum xfsm_map_id map,
			    unsigned int idx, unsigned int limit, void *val)
{
	__u32 k = idx;
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (idx >= limit)
		return -EINVAL;
	return bpf_map_lookup_elem(inst->map_fd[map], &k, val) ? -errno : 0;
}

int xfsm_group_read(struct xfsm_instance *inst, unsigned int id, struct xfsm_group *g)
{
	struct xfsm_app *app;
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (id >= XFSM_MAX_GROUPS)
		return -EINVAL;
	err = xfsm_running_app_read(inst, &app);
	if (err)
		return err;
	err = xfsm_group_read_buffer(inst, id, (app->group_buf >> id) & 1, g);
	free(app);
	return err;
}

static bool flow_of_group(const void *key, const void *value, void *ctx)
{
	return ((const struct xfsm_group_flow_key *)key)->group == *(const __u32 *)ctx;
}

int xfsm_group_forget(struct xfsm_instance *inst, unsigned int id)
{
	__u32 gid = id;
	int err;

	err = xfsm_group_reset(inst, id);
	if (!err && inst->map_fd[XFSM_M_GROUP_FLOWS] >= 0) {
		long n = xfsm_map_delete_if(inst, XFSM_M_GROUP_FLOWS, flow_of_group, &gid);

		if (n < 0)
			err = n;
	}
	return err;
}

int xfsm_group_read_stats(struct xfsm_instance *inst, unsigned int id,
			  struct xfsm_group_stats *out)
{
	int ncpu = inst && inst->nr_cpus > 0 ? inst->nr_cpus : 1, c, i;
	struct xfsm_group_stats *v;
	__u32 k = id;
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (id >= XFSM_MAX_GROUPS)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_GROUP_STATS], &k, v)) {
		err = -errno;
		free(v);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpu; c++)
		for (i = 0; i < (int)(sizeof(*out) / 8); i++)
			((__u64 *)out)[i] += ((const __u64 *)&v[c])[i];
	free(v);
	return 0;
}

int xfsm_group_reset(struct xfsm_instance *inst, unsigned int id)
{
	int ncpu = inst && inst->nr_cpus > 0 ? inst->nr_cpus : 1;
	void *zero;
	__u32 k = id;
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (id >= XFSM_MAX_GROUPS)
		return -EINVAL;
	zero = calloc(ncpu, sizeof(struct xfsm_group_stats));
	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(inst->map_fd[XFSM_M_GROUP_STATS], &k, zero, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(inst->map_fd[XFSM_M_GROUP_RR], &k, zero, BPF_ANY);
	free(zero);
	return err ? -errno : 0;
}

/* ---- Port flags -------------------------------------------------------------- */

int xfsm_port_flags_get(struct xfsm_instance *inst, unsigned int port, __u32 *flags)
{
	return group_array_read(inst, XFSM_M_PORT_FLAGS, port, XFSM_MAX_PORTS, flags);
}

/* The down flag of a port known to exist (xfsm_port_set_down() checks). */
static int port_flag_write(struct xfsm_instance *inst, unsigned int port, bool down)
{
	__u32 k = port, f = 0;
	int err = xfsm_port_flags_get(inst, port, &f);

	if (!err) {
		f = down ? (f | XFSM_PORT_F_DOWN) : (f & ~XFSM_PORT_F_DOWN);
		if (bpf_map_update_elem(inst->map_fd[XFSM_M_PORT_FLAGS], &k, &f, BPF_ANY))
			err = -errno;
	}
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot set port %u %s: %s", port, down ? "down" : "up",
			 strerror(-err));
	return err;
}

/* Only a port the loader gave an interface exists: a flag set on any
 * other number would wait there for whichever interface gets it later. */
int xfsm_port_set_down(struct xfsm_instance *inst, unsigned int port, bool down)
{
	bool present[XFSM_MAX_PORTS];
	char msg[400];
	int err = xfsm_group_check(inst);

	if (err)
		return err;
	if (port >= XFSM_MAX_PORTS) {
		xfsm_log(XFSM_LOG_ERROR, "port %u is out of range (1..%u)", port,
			 XFSM_MAX_PORTS - 1);
		return -EINVAL;
	}
	err = xfsm_ports_present(inst, present);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot read the ports of instance '%s': %s", inst->name,
			 strerror(-err));
		return err;
	}
	if (!present[port]) {
		err = xfsm_ports_missing_msg(inst, present, port, msg, sizeof(msg));
		xfsm_log(XFSM_LOG_ERROR, "%s", msg);
		return err;
	}
	return port_flag_write(inst, port, down);
}

struct sync_ctx {
	struct xfsm_instance *inst;
	int sock, down, err;
};

static int sync_one(const void *key, const void *value, void *arg)
{
	const struct xfsm_port *p = value;
	struct sync_ctx *c = arg;
	struct ifreq ifr;
	bool down = true;

	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname(*(const __u32 *)key, ifr.ifr_name) &&
	    !ioctl(c->sock, SIOCGIFFLAGS, &ifr))
		down = !((ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING));
	/* p->port is a port of the instance: the walk found it */
	c->err = port_flag_write(c->inst, p->port, down);
	c->down += down;
	return c->err ? 1 : 0;
}

int xfsm_ports_sync_link(struct xfsm_instance *inst)
{
	struct sync_ctx c = { .inst = inst };
	int err = xfsm_group_check(inst), back;

	if (err)
		return err;
	/* Ports are interfaces of the instance's network namespace: the
	 * socket asked about them must be made there. */
	err = xfsm_instance_netns_enter(inst, &back);
	if (err)
		return err;
	c.sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c.sock < 0) {
		err = -errno;
		xfsm_netns_leave(back);
		return err;
	}
	err = xfsm_map_walk(inst, XFSM_M_PORTS, sync_one, &c);
	close(c.sock);
	xfsm_netns_leave(back);
	if (c.err)
		return c.err;
	return err < 0 ? err : c.down;
}

int xfsm_port_stats_read(struct xfsm_instance *inst, unsigned int port,
			 struct xfsm_port_stats *out)
{
	if (!inst)
		return -EOPNOTSUPP;
	if (port >= XFSM_MAX_PORTS)
		return -EINVAL;
	return xfsm_stats_read_raw(inst, XFSM_SK_PORT, port, out, sizeof(*out));
}

static int port_mark(const void *key, const void *value, void *ctx)
{
	const struct xfsm_port *p = value;
	bool *present = ctx;

	(void)key;
	if (p->port < XFSM_MAX_PORTS)
		present[p->port] = true;
	return 0;
}

int xfsm_ports_present(struct xfsm_instance *inst, bool present[XFSM_MAX_PORTS])
{
	int err;

	memset(present, 0, XFSM_MAX_PORTS * sizeof(*present));
	if (!inst)
		return -EINVAL;
	err = xfsm_map_walk(inst, XFSM_M_PORTS, port_mark, present);
	return err < 0 ? err : 0;
}

int xfsm_ports_missing_msg(struct xfsm_instance *inst, const bool present[XFSM_MAX_PORTS],
			   unsigned int port, char *msg, size_t len)
{
	size_t o;
	int n = 0;

	o = (size_t)snprintf(msg, len, "port %u does not exist in instance '%s' (", port,
			     inst->name);
	for (unsigned int p = 1; p < XFSM_MAX_PORTS && o < len; p++)
		if (present[p])
			o += (size_t)snprintf(msg + o, len - o, "%s%u", n++ ? ", " : "its ports: ", p);
	if (o < len)
		snprintf(msg + o, len - o, "%s; attach the interface first: xfsm-loader load IFACE --instance %s)",
			 n ? "" : "it has no port", inst->name);
	return -ENOENT;
}

int xfsm_ports_check(struct xfsm_instance *inst, const bool want[XFSM_MAX_PORTS],
		     bool (*exempt)(void *ctx, unsigned int port), void *ctx,
		     char *const *where, char *msg, size_t len)
{
	bool present[XFSM_MAX_PORTS];
	char why[400];
	unsigned int p;
	int err;

	for (p = 1; p < XFSM_MAX_PORTS && !want[p]; p++)
		;
	if (p == XFSM_MAX_PORTS)
		return 0;	/* sends to no port: nothing to read */
	err = xfsm_ports_present(inst, present);
	if (err) {
		snprintf(msg, len, "cannot read the ports of instance '%s': %s", inst->name,
			 strerror(-err));
		return err;
	}
	for (; p < XFSM_MAX_PORTS; p++) {
		if (!want[p] || present[p] || (exempt && exempt(ctx, p)))
			continue;
		xfsm_ports_missing_msg(inst, present, p, why, sizeof(why));
		if (where && where[p])
			snprintf(msg, len, "%s: error: %s", where[p], why);
		else
			snprintf(msg, len, "%s", why);
		return -ENOENT;
	}
	return 0;
}
