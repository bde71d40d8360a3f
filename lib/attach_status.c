/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Status and unload.  Nothing is recorded besides BPF objects: an instance
 * is a pin directory, its ports are the entries of its xfsm_ports map
 * (ifindex -> port number), and what runs where comes from netlink.  A
 * datapath attached without the loader (ip link ... xdp obj) is found from
 * the interfaces' XDP programs and their maps.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xfsm_attach.h"
#include "xfsm_plan.h"

struct links {
	struct xfsm_link *l;
	int n;
};

static const struct xfsm_link *links_find(const struct links *ls, int ifindex)
{
	for (int i = 0; i < ls->n; i++)
		if (ls->l[i].ifindex == ifindex)
			return &ls->l[i];
	return NULL;
}

static long count_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char *a, *b, *tmp;
	void *prev = NULL;
	long n = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	a = calloc(2, info.key_size);
	if (!a)
		return -1;
	b = a + info.key_size;
	while (!bpf_map_get_next_key(fd, prev, b)) {
		n++;
		tmp = a;
		a = b;
		b = tmp;
		prev = a;
	}
	free(a < b ? a : b);
	return n;
}

static void add_table(struct xfsm_status_inst *s, const char *name, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	const struct xfsm_flow_table_class *c = xfsm_flow_table_class_of_map_name(name);
	struct xfsm_status_table *t;

	if (fd < 0 || s->n_tables >= XFSM_STATUS_TABLES ||
	    bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	t = &s->tables[s->n_tables++];
	t->name = name;
	t->flows = c ? c->what : NULL;
	t->max_entries = info.max_entries;
	t->used = count_entries(fd);
	if (!strcmp(name, XFSM_MAP_FLOWS))
		s->flow_table = info.type == BPF_MAP_TYPE_LRU_HASH ? "lru" : "hash";
}

/* The maps an instance's status reads: the flow tables last, one per
 * class (xfsm_flow_table_classes' order). */
enum { FD_PORTS, FD_RULES, FD_RODATA, FD_FLOWS, FD_N = FD_FLOWS + XFSM_FLOW_TABLE_CLASSES };

/* What runs on a port: the xfsm program of st (a dispatcher's component
 * goes by the datapath's name). */
static void port_attached(struct xfsm_status_port *p, const struct xfsm_xdp_state *st)
{
	p->attached = true;
	p->mode = st->mode;
	p->prog_id = st->xfsm_prog_id;
	p->dispatcher = st->dispatcher;
	p->specialized = st->specialized;
	snprintf(p->prog_name, sizeof(p->prog_name), "%s",
		 st->dispatcher ? XFSM_PROG_NAME : st->prog_name);
}

/* Fill an instance from its maps (any fd may be -1); a port is attached
 * where it runs one of the programs of the instance `o` identifies. */
static void inst_fill(struct xfsm_status_inst *s, const struct links *ls, const int fds[FD_N],
		      const struct xfsm_owner *o)
{
	int ports_fd = fds[FD_PORTS], rodata_fd = fds[FD_RODATA];
	const struct xfsm_flow_table_class *c;
	__u32 key, next, *prev = NULL;
	struct xfsm_port pv;
	int cap = 0;

	if (rodata_fd >= 0 && !xfsm_rodata_build_info(rodata_fd, &s->build))
		s->abi_known = true;
	if (ports_fd >= 0 && !xfsm_ports_map_ok(ports_fd))
		ports_fd = -1;	/* another layout: not readable as ports */
	xfsm_for_each_flow_table(c)
		add_table(s, xfsm_map_names[c->id], fds[FD_FLOWS + (c - xfsm_flow_table_classes)]);
	add_table(s, XFSM_MAP_RULES, fds[FD_RULES]);
	add_table(s, XFSM_MAP_PORTS, ports_fd);
	while (ports_fd >= 0 && !bpf_map_get_next_key(ports_fd, prev, &next)) {
		struct xfsm_status_port *p, *np;
		const struct xfsm_link *l;
		struct xfsm_xdp_state st;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ports_fd, &key, &pv))
			continue;
		if (s->n_ports == cap) {
			cap = cap ? 2 * cap : 8;
			np = realloc(s->ports, cap * sizeof(*np));
			if (!np)
				return;
			s->ports = np;
		}
		p = &s->ports[s->n_ports++];
		memset(p, 0, sizeof(*p));
		p->ifindex = key;
		p->port = pv.port;
		l = ls ? links_find(ls, key) : NULL;
		if (!l)
			continue;	/* gone, or its namespace cannot be entered */
		snprintf(p->ifname, sizeof(p->ifname), "%s", l->name);
		p->up = l->up;
		p->running = l->running;
		p->mtu = l->mtu;
		if (xfsm_xdp_state_get(key, &st) || !xfsm_xdp_state_of(&st, o))
			continue;	/* not ours (same ifindex, another netns' device?) */
		port_attached(p, &st);
		p->n_traps = xfsm_port_traps(key, st.mode, p->traps);
	}
}

static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return bpf_obj_get(path);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static struct xfsm_status_inst *inst_new(struct xfsm_status_inst **arr, int *n, int *cap)
{
	struct xfsm_status_inst *na;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		na = realloc(*arr, *cap * sizeof(*na));
		if (!na)
			return NULL;
		*arr = na;
	}
	memset(&(*arr)[*n], 0, sizeof(**arr));
	return &(*arr)[(*n)++];
}

/*
 * Fill a pinned instance: its pins as the staging rule reads them, its
 * ports looked up in its own network namespace (here's links are `ls`).
 * Returns 0 when dir is no instance (no port table).
 */
static int pinned_inst_fill(struct xfsm_status_inst *s, const char *dir,
			    const struct links *ls, const struct xfsm_netns *self)
{
	struct links there = {};
	const struct links *use = ls;
	const struct xfsm_flow_table_class *c;
	struct xfsm_owner o;
	bool staged;
	int fds[FD_N], prog_fd, back = -1, err;

	staged = xfsm_pin_staged(dir) > 0;
	fds[FD_PORTS] = xfsm_pin_get(dir, staged, XFSM_MAP_PORTS);
	if (fds[FD_PORTS] < 0)
		return 0;
	xfsm_for_each_flow_table(c)
		fds[FD_FLOWS + (c - xfsm_flow_table_classes)] =
			xfsm_pin_get(dir, staged, xfsm_map_names[c->id]);
	fds[FD_RULES] = xfsm_pin_get(dir, staged, XFSM_MAP_RULES);
	fds[FD_RODATA] = xfsm_pin_get(dir, staged, XFSM_PIN_RODATA);
	prog_fd = xfsm_pin_get(dir, staged, XFSM_PIN_PROG);
	if (prog_fd >= 0) {
		s->prog_id = xfsm_fd_id(prog_fd);
		close(prog_fd);
	}
	s->interrupted = xfsm_pin_interrupted(dir);
	s->netns_known = !xfsm_pin_netns(dir, staged, &s->netns);
	if (s->netns_known)
		xfsm_netns_rename(&s->netns);
	s->netns_here = !s->netns_known || xfsm_netns_same(&s->netns, self);
	if (!s->netns_here) {
		err = xfsm_netns_enter(&s->netns, &back);
		if (!err)
			err = xfsm_link_list(&there.l, &there.n);
		s->netns_lost = err != 0;
		use = err ? NULL : &there;
	}
	xfsm_owner_pinned(dir, staged, &o);
	inst_fill(s, use, fds, &o);
	xfsm_netns_leave(back);
	free(there.l);
	close_fds(fds, FD_N);
	return 1;
}

int xfsm_status_collect(struct xfsm_status_inst **out, int *n_out)
{
	struct xfsm_status_inst *arr = NULL, *s;
	struct xfsm_netns self;
	struct links ls = {};
	struct xfsm_owner *owners = NULL;
	int n = 0, cap = 0, err, i;
	const char *root = xfsm_pin_root();
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n_out = 0;
	err = xfsm_netns_self(&self);
	if (err)
		return err;
	err = xfsm_link_list(&ls.l, &ls.n);
	if (err)
		return err;

	d = opendir(root);
	while (d && (de = readdir(d))) {
		char dir[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name) >= 256)
			continue;
		s = inst_new(&arr, &n, &cap);
		if (!s) {
			err = -ENOMEM;
			break;
		}
		if (snprintf(s->name, sizeof(s->name), "%s", de->d_name) < 0 ||
		    snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", dir) < 0)
			s->name[0] = '\0';
		if (!pinned_inst_fill(s, dir, &ls, &self)) {
			free(s->ports);
			n--;
		}
	}
	if (d)
		closedir(d);
	if (err)
		goto out;

	/* Datapaths attached without the loader: xfsm programs of no pinned
	 * instance (nor of one found so far). */
	owners = calloc(n + ls.n + 1, sizeof(*owners));
	if (!owners) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		xfsm_owner_pinned(arr[i].pin_dir, xfsm_pin_staged(arr[i].pin_dir) > 0, &owners[i]);
	for (i = 0; i < ls.n; i++) {
		const struct xfsm_flow_table_class *c;
		struct xfsm_xdp_state st;
		int fds[FD_N], j, known = 0;

		if (xfsm_xdp_state_get(ls.l[i].ifindex, &st) || !st.xfsm_prog_id)
			continue;
		for (j = 0; j < n && !known; j++)
			known = xfsm_xdp_state_of(&st, &owners[j]);
		if (known)
			continue;
		owners[n].ctl_id = st.ctl_map_id;
		owners[n].progs_id = st.progs_map_id;
		fds[FD_PORTS] = st.ports_map_id ? bpf_map_get_fd_by_id(st.ports_map_id) : -1;
		xfsm_for_each_flow_table(c) {
			j = xfsm_prog_map_id(st.generic_id, xfsm_map_names[c->id], false);
			fds[FD_FLOWS + (c - xfsm_flow_table_classes)] =
				j ? bpf_map_get_fd_by_id(j) : -1;
		}
		j = xfsm_prog_map_id(st.generic_id, XFSM_MAP_RULES, false);
		fds[FD_RULES] = j ? bpf_map_get_fd_by_id(j) : -1;
		j = xfsm_prog_map_id(st.generic_id, ".rodata", true);
		fds[FD_RODATA] = j ? bpf_map_get_fd_by_id(j) : -1;
		s = inst_new(&arr, &n, &cap);
		if (!s) {
			close_fds(fds, FD_N);
			err = -ENOMEM;
			goto out;
		}
		snprintf(s->name, sizeof(s->name), "prog-%u", st.generic_id ? st.generic_id : st.xfsm_prog_id);
		s->prog_id = st.generic_id ? st.generic_id : st.xfsm_prog_id;
		s->netns = self;
		s->netns_here = true;
		inst_fill(s, &ls, fds, &owners[n - 1]);
		close_fds(fds, FD_N);
		/* Not in its (empty) ports map: report the interface itself. */
		if (!s->n_ports) {
			s->ports = calloc(1, sizeof(*s->ports));
			if (s->ports) {
				struct xfsm_status_port *p = &s->ports[s->n_ports++];

				snprintf(p->ifname, sizeof(p->ifname), "%s", ls.l[i].name);
				p->ifindex = ls.l[i].ifindex;
				p->up = ls.l[i].up;
				p->running = ls.l[i].running;
				p->mtu = ls.l[i].mtu;
				port_attached(p, &st);
				p->n_traps = xfsm_port_traps(p->ifindex, st.mode, p->traps);
			}
		}
	}
out:
	free(owners);
	free(ls.l);
	if (err) {
		xfsm_status_free(arr, n);
		return err;
	}
	*out = arr;
	*n_out = n;
	return 0;
}

void xfsm_status_free(struct xfsm_status_inst *st, int n)
{
	for (int i = 0; i < n; i++)
		free(st[i].ports);
	free(st);
}

/* ---- Unload ---------------------------------------------------------------- */

/* Detach the xfsm program (only it) from an interface. */
static int detach_xfsm(int ifindex, const char *name)
{
	struct xfsm_xdp_state st;
	int err, fd;

	err = xfsm_xdp_state_get(ifindex, &st);
	if (err || !st.xfsm_prog_id)
		return err;
	if (st.dispatcher) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
		struct xdp_program *p = NULL;

		err = libxdp_get_error(mp);
		if (err)
			return err;
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (xdp_program__id(p) == st.xfsm_prog_id)
				break;
		err = p ? xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0)
			: -ENOENT;
		xdp_multiprog__close(mp);
	} else {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao);

		fd = bpf_prog_get_fd_by_id(st.prog_id);
		if (fd < 0)
			return -errno;
		ao.old_prog_fd = fd;
		/* Only if it still runs xfsm: never detach a newcomer. */
		err = bpf_xdp_attach(ifindex, -1,
				     xfsm_mode_flags(st.mode) | XDP_FLAGS_REPLACE, &ao);
		close(fd);
	}
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "%s: cannot detach xfsm: %s", name, strerror(-err));
	else
		xfsm_log(XFSM_LOG_INFO, "%s: detached xfsm (program id %u, %s mode)",
			 name, st.xfsm_prog_id, xfsm_xdp_mode_name(st.mode));
	return err;
}

/* Every xfsm program of an interface: a reload killed in a libxdp
 * dispatcher can leave two components. */
static int detach_all_xfsm(int ifindex, const char *name)
{
	__u32 id;
	int i, err = 0;

	for (i = 0; i < 8 && !err && xfsm_xdp_xfsm_progs(ifindex, &id, 1); i++)
		err = detach_xfsm(ifindex, name);
	return err;
}

/* The port number of ifindex in the port table of the xfsm program it
 * runs, 0 when it has none: a datapath attached without the loader (ip
 * link ... xdp obj) has an empty table. */
static __u32 own_port_number(int ifindex)
{
	struct xfsm_xdp_state st;
	struct xfsm_port pv = {};
	__u32 key = ifindex;
	int fd;

	if (xfsm_xdp_state_get(ifindex, &st) || !st.xfsm_prog_id || !st.ports_map_id)
		return 0;
	fd = bpf_map_get_fd_by_id(st.ports_map_id);
	if (fd < 0)
		return 0;
	if (!xfsm_ports_map_ok(fd) || bpf_map_lookup_elem(fd, &key, &pv))
		pv.port = 0;
	close(fd);
	return pv.port;
}

/* unload --all: the xfsm programs left in this namespace are datapaths
 * attached without the loader (ip link ... xdp obj).  One that is a port
 * of its own port table was loaded by xfsm-loader into an instance pinned
 * outside the pin root (--pin-dir, another XFSM_PIN_ROOT): not unpinned,
 * and not this root's to detach. */
static int unload_unpinned(int err)
{
	struct links ls = {};
	__u32 port;
	int i, e;

	e = xfsm_link_list(&ls.l, &ls.n);
	if (e)
		return e;
	for (i = 0; i < ls.n; i++) {
		port = own_port_number(ls.l[i].ifindex);
		if (port) {
			xfsm_log(XFSM_LOG_INFO,
				 "skipping %s: it is port %u of an xfsm instance pinned outside %s "
				 "(--pin-dir or another XFSM_PIN_ROOT); unload it there "
				 "(xfsm-loader unload --pin-dir DIR, or unload %s)",
				 ls.l[i].name, port, xfsm_pin_root(), ls.l[i].name);
			continue;
		}
		e = detach_all_xfsm(ls.l[i].ifindex, ls.l[i].name);
		if (e)
			err = e;
	}
	free(ls.l);
	return err;
}

static bool map_empty(int fd)
{
	__u32 k;

	return bpf_map_get_next_key(fd, NULL, &k) != 0;
}

/* Remove the port of ifindex from an instance; drop the instance's pins
 * when it has no port left. */
static int drop_port(const char *dir, int ifindex)
{
	int ports_fd = open_pin(dir, XFSM_MAP_PORTS), tx_fd, gen_fd;
	struct xfsm_port pv;
	__u32 key = ifindex;
	int err = 0;

	if (ports_fd < 0)
		return ports_fd;
	if (xfsm_ports_map_ok(ports_fd) && !bpf_map_lookup_elem(ports_fd, &key, &pv)) {
		tx_fd = open_pin(dir, XFSM_MAP_TX_PORTS);
		if (tx_fd >= 0) {
			bpf_map_delete_elem(tx_fd, &pv.port);
			close(tx_fd);
		}
		bpf_map_delete_elem(ports_fd, &key);
		gen_fd = open_pin(dir, XFSM_MAP_PORT_GEN);
		if (gen_fd >= 0) {
			xfsm_ports_changed(gen_fd);
			close(gen_fd);
		}
	}
	if (map_empty(ports_fd)) {
		err = xfsm_pin_dir_remove(dir);
		if (!err)
			xfsm_log(XFSM_LOG_INFO, "removed %s (no port left)", dir);
	}
	close(ports_fd);
	return err;
}

/* Detach this instance's (o's) programs from every port of it that runs
 * one; the caller is in the ports' network namespace. */
static int detach_ports(int ports_fd, const struct xfsm_owner *o, const char *name,
			bool only_local, bool *skipped)
{
	__u32 key, next, *prev = NULL;
	int here = 0, elsewhere = 0, err = 0, e, n_ifs = 0, i;
	struct links ls = {};
	__u32 ifs[XFSM_MAX_PORTS];
	bool runs[XFSM_MAX_PORTS];

	*skipped = false;
	err = xfsm_link_list(&ls.l, &ls.n);
	if (err)
		return err;
	while (n_ifs < XFSM_MAX_PORTS && !bpf_map_get_next_key(ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		ifs[n_ifs++] = key;
	}
	for (i = 0; i < n_ifs; i++) {
		const struct xfsm_link *l = links_find(&ls, ifs[i]);
		struct xfsm_xdp_state st;

		runs[i] = l && !xfsm_xdp_state_get(l->ifindex, &st) && xfsm_xdp_state_of(&st, o);
		here += runs[i];
		elsewhere += l && !runs[i];
	}
	if (only_local && !here && elsewhere) {
		/* An instance of an older loader, without a namespace record. */
		xfsm_log(XFSM_LOG_INFO,
			 "skipping instance '%s': its ports are not in this network namespace",
			 name);
		*skipped = true;
		goto out;
	}
	for (i = 0; i < n_ifs; i++) {
		const struct xfsm_link *l = links_find(&ls, ifs[i]);

		if (!runs[i])
			continue;
		e = detach_all_xfsm(l->ifindex, l->name);
		if (e)
			err = e;
	}
out:
	free(ls.l);
	return err;
}

/* Unload a whole instance: detach every port attached in its network
 * namespace, remove its pins (keep_maps: keep them, and the port table,
 * for a later load).  The directory is known to be xfsm's. */
static int unload_dir(const char *dir, const char *name, bool only_local, bool force,
		      bool keep_maps)
{
	int ports_fd = open_pin(dir, XFSM_MAP_PORTS);
	struct xfsm_netns ns, self;
	struct xfsm_owner o;
	char nsbuf[128];
	bool skipped = false, recorded;
	int err, back = -1;

	if (ports_fd < 0) {
		/* No port table: a leftover of a load that never finished. */
		return xfsm_pin_dir_remove(dir);
	}
	err = xfsm_netns_self(&self);
	if (err)
		goto fail;
	recorded = !xfsm_pin_netns(dir, false, &ns);
	if (recorded && !xfsm_netns_same(&ns, &self)) {
		if (only_local) {
			xfsm_log(XFSM_LOG_INFO,
				 "skipping instance '%s': its ports are in network namespace %s",
				 name, xfsm_netns_str(&ns, nsbuf, sizeof(nsbuf)));
			close(ports_fd);
			return 0;
		}
		err = xfsm_netns_enter(&ns, &back);
		if (err == -ENOENT && force && !keep_maps) {
			xfsm_log(XFSM_LOG_WARN,
				 "network namespace %s of instance '%s' cannot be entered (%s): "
				 "removing its pins without detaching anything (--force)",
				 xfsm_netns_str(&ns, nsbuf, sizeof(nsbuf)), name, strerror(-err));
			close(ports_fd);
			goto remove;
		}
		if (err == -ENOENT) {
			xfsm_log(XFSM_LOG_ERROR,
				 "instance '%s' has its ports in network namespace %s, which "
				 "cannot be found (not under /run/netns, no process in it); "
				 "nothing was changed.  If that namespace is gone, its "
				 "interfaces went with it: remove the pins with --force",
				 name, xfsm_netns_str(&ns, nsbuf, sizeof(nsbuf)));
			close(ports_fd);
			return err;
		}
		if (err) {
			xfsm_log(XFSM_LOG_ERROR,
				 "instance '%s' has its ports in network namespace %s, which this "
				 "process cannot enter: %s%s; nothing was changed", name,
				 xfsm_netns_str(&ns, nsbuf, sizeof(nsbuf)), strerror(-err),
				 err == -EPERM ? " (it needs CAP_SYS_ADMIN)" : "");
			close(ports_fd);
			return err;
		}
	}
	/* Without a record (an older loader), ports that are interfaces
	 * here but do not run this instance are taken for another
	 * namespace's. */
	xfsm_owner_pinned(dir, false, &o);
	err = detach_ports(ports_fd, &o, name, only_local && !recorded, &skipped);
	xfsm_netns_leave(back);
fail:
	close(ports_fd);
	if (err || skipped)
		return err;
	if (keep_maps) {
		xfsm_log(XFSM_LOG_INFO, "instance '%s' detached; its maps and port numbers "
			 "are kept in %s (a load of its interfaces resumes; "
			 "unload without --keep-maps removes them)", name, dir);
		return 0;
	}
remove:
	err = xfsm_pin_dir_remove(dir);
	if (!err)
		xfsm_log(XFSM_LOG_INFO, "instance '%s' unloaded, %s removed", name, dir);
	return err;
}

/*
 * unload --instance NAME IFACE...: take interfaces out of one instance,
 * in its network namespace.  Each is detached where it runs the instance
 * and leaves the port table, also when it was detached already (by
 * unload --keep-maps); keep_maps only detaches.  Every name must be a port
 * of the instance; nothing changes otherwise.
 */
static int unload_ports(const char *dir, const char *name, char *const *ifaces, int n,
			bool keep_maps)
{
	int ports_fd = open_pin(dir, XFSM_MAP_PORTS), err = 0, e, i, back = -1;
	struct xfsm_netns ns, self;
	struct xfsm_link *l = NULL;
	struct xfsm_owner o;
	struct xfsm_port pv;
	char nsbuf[128];
	__u32 key;

	if (ports_fd < 0 || !xfsm_ports_map_ok(ports_fd)) {
		xfsm_log(XFSM_LOG_ERROR, "%s holds no port table of an xfsm instance", dir);
		err = ports_fd < 0 ? ports_fd : -EPROTO;
		goto out;
	}
	if (!xfsm_pin_netns(dir, false, &ns) && !xfsm_netns_self(&self) &&
	    !xfsm_netns_same(&ns, &self)) {
		err = xfsm_netns_enter(&ns, &back);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "instance '%s' has its ports in network "
				 "namespace %s, which this process cannot enter: %s; nothing "
				 "was changed", name, xfsm_netns_str(&ns, nsbuf, sizeof(nsbuf)),
				 strerror(-err));
			goto out;
		}
	}
	xfsm_owner_pinned(dir, false, &o);
	l = calloc(n, sizeof(*l));
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (xfsm_link_get(ifaces[i], 0, &l[i])) {
			xfsm_log(XFSM_LOG_ERROR, "interface '%s' does not exist in the network "
				 "namespace of instance '%s'", ifaces[i], name);
			err = -ENODEV;
			goto out;
		}
		key = l[i].ifindex;
		if (bpf_map_lookup_elem(ports_fd, &key, &pv)) {
			xfsm_log(XFSM_LOG_ERROR, "%s is not a port of instance '%s' "
				 "(see xfsm-loader status)", ifaces[i], name);
			err = -ENOENT;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		struct xfsm_xdp_state st;

		if (!xfsm_xdp_state_get(l[i].ifindex, &st) && xfsm_xdp_state_of(&st, &o)) {
			e = detach_all_xfsm(l[i].ifindex, l[i].name);
			if (e) {
				err = e;
				continue;
			}
		}
		if (keep_maps)
			continue;
		e = drop_port(dir, l[i].ifindex);
		if (e)
			err = e;
		else
			xfsm_log(XFSM_LOG_INFO, "%s: no longer a port of instance '%s'",
				 l[i].name, name);
	}
out:
	xfsm_netns_leave(back);
	free(l);
	if (ports_fd >= 0)
		close(ports_fd);
	return err;
}

/* unload --instance / --pin-dir: only an xfsm instance's directory, all its
 * ports or the ones named. */
static int unload_one(const char *instance, const char *pin_dir, char *const *ifaces,
		      int n_ifaces, bool force, bool keep_maps)
{
	char dir[PATH_MAX];
	int err, n;

	if (pin_dir) {
		if (snprintf(dir, sizeof(dir), "%s", pin_dir) >= (int)sizeof(dir))
			return -ENAMETOOLONG;
	} else {
		err = xfsm_pin_dir_of(instance, dir, sizeof(dir));
		if (err)
			return err;
	}
	if (access(dir, F_OK)) {
		err = -errno;
		if (err == -ENOENT)
			xfsm_log(XFSM_LOG_ERROR, "no xfsm instance '%s' (%s does not exist); "
				 "see xfsm-loader status", instance ? instance : dir, dir);
		else
			xfsm_log(XFSM_LOG_ERROR, "cannot reach %s: %s", dir, strerror(-err));
		return err;
	}
	err = xfsm_pin_dir_check(dir, &n);
	if (err)
		return err;
	if (!n && !xfsm_pin_dir_in_root(dir)) {
		xfsm_log(XFSM_LOG_ERROR, "%s holds no pins: not an xfsm instance; "
			 "refusing to touch it", dir);
		return -EINVAL;
	}
	err = xfsm_pin_recover(dir);
	if (err && !force)
		return err;
	if (n_ifaces > 0)
		return unload_ports(dir, instance ? instance : dir, ifaces, n_ifaces, keep_maps);
	return unload_dir(dir, instance ? instance : dir, false, force, keep_maps);
}

int xfsm_unload(char *const *ifaces, int n, const char *instance,
		const char *pin_dir, bool all, unsigned int flags)
{
	bool force = flags & XFSM_UNLOAD_FORCE, keep_maps = flags & XFSM_UNLOAD_KEEP_MAPS;
	char dir[PATH_MAX];
	int err, i, e, lock_fd = -1;

	if (instance) {
		err = xfsm_instance_name_check(instance);
		if (err)
			return err;
	}
	err = xfsm_check_privileges("unload");
	if (err)
		return err;
	/* Same lock as xfsm_load(): never unload half a load.  Without a
	 * pin root there is nothing pinned to protect. */
	if (access(xfsm_pin_root(), F_OK) == 0) {
		snprintf(dir, sizeof(dir), "%s/x", xfsm_pin_root());
		lock_fd = xfsm_pin_lock(dir);
	}

	if (instance || pin_dir) {
		err = unload_one(instance, pin_dir, ifaces, n, force, keep_maps);
		goto out;
	}

	if (n > 0) {
		struct xfsm_status_inst *st = NULL;
		int ns = 0;

		/* Check every name before detaching anything. */
		for (i = 0; i < n; i++) {
			struct xfsm_link l;
			struct xfsm_xdp_state xs;

			if (xfsm_link_get(ifaces[i], 0, &l)) {
				xfsm_log(XFSM_LOG_ERROR,
					 "interface '%s' does not exist in this network namespace",
					 ifaces[i]);
				err = -ENODEV;
				goto out;
			}
			if (xfsm_xdp_state_get(l.ifindex, &xs) || !xs.xfsm_prog_id) {
				xfsm_log(XFSM_LOG_ERROR, "%s does not run xfsm%s%s%s", ifaces[i],
					 xs.prog_id ? " (it runs XDP program '" : "",
					 xs.prog_id ? xs.prog_name : "", xs.prog_id ? "')" : "");
				err = -ENOENT;
				goto out;
			}
		}
		err = xfsm_status_collect(&st, &ns);
		if (err)
			goto out;
		for (i = 0; i < n; i++) {
			struct xfsm_link l;
			int j, k;

			if (xfsm_link_get(ifaces[i], 0, &l))
				continue;
			e = detach_xfsm(l.ifindex, l.name);
			if (e) {
				err = e;
				continue;
			}
			if (keep_maps)
				continue;
			for (j = 0; j < ns; j++) {
				/* Only instances with ports here: elsewhere the
				 * same ifindex is another interface. */
				if (!st[j].pin_dir[0] || !st[j].netns_here)
					continue;
				for (k = 0; k < st[j].n_ports; k++)
					if (st[j].ports[k].ifindex == l.ifindex &&
					    st[j].ports[k].attached)
						break;
				if (k < st[j].n_ports) {
					e = xfsm_pin_recover(st[j].pin_dir);
					if (!e)
						e = drop_port(st[j].pin_dir, l.ifindex);
					if (e)
						err = e;
				}
			}
		}
		xfsm_status_free(st, ns);
		goto out;
	}

	if (all) {
		const char *root = xfsm_pin_root();
		struct dirent *de;
		DIR *d = opendir(root);

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
			e = xfsm_pin_dir_check(dir, NULL);
			if (!e)
				e = xfsm_pin_recover(dir);
			if (!e)
				e = unload_dir(dir, de->d_name, true, force, keep_maps);
			if (e)
				err = e;
		}
		if (d)
			closedir(d);
		/* Unpinned datapaths (ip link ... xdp obj) of this namespace. */
		err = unload_unpinned(err);
	}
out:
	xfsm_pin_unlock(lock_fd);
	return err;
}
