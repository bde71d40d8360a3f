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
	struct xfsm_status_table *t;

	if (fd < 0 || s->n_tables >= XFSM_STATUS_TABLES ||
	    bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	t = &s->tables[s->n_tables++];
	t->name = name;
	t->max_entries = info.max_entries;
	t->used = count_entries(fd);
	if (!strcmp(name, XFSM_MAP_FLOWS))
		s->flow_table = info.type == BPF_MAP_TYPE_LRU_HASH ? "lru" : "hash";
}

/* Fill an instance from its maps (any fd may be -1). */
static void inst_fill(struct xfsm_status_inst *s, const struct links *ls,
		      int ports_fd, int flows_fd, int rules_fd, int rodata_fd)
{
	__u32 ports_id = ports_fd >= 0 ? xfsm_fd_id(ports_fd) : 0;
	__u32 key, next, *prev = NULL;
	struct xfsm_port pv;
	int cap = 0;

	if (rodata_fd >= 0 && !xfsm_rodata_build_info(rodata_fd, &s->build))
		s->abi_known = true;
	if (ports_fd >= 0 && !xfsm_ports_map_ok(ports_fd))
		ports_fd = -1;	/* another layout: not readable as ports */
	add_table(s, XFSM_MAP_FLOWS, flows_fd);
	add_table(s, XFSM_MAP_RULES, rules_fd);
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
		l = links_find(ls, key);
		if (!l)
			continue;	/* gone, or in another network namespace */
		snprintf(p->ifname, sizeof(p->ifname), "%s", l->name);
		p->up = l->up;
		p->running = l->running;
		p->mtu = l->mtu;
		if (xfsm_xdp_state_get(key, &st) || !st.xfsm_prog_id)
			continue;
		if (st.ports_map_id != ports_id)
			continue;	/* same ifindex, another netns' device */
		p->attached = true;
		p->mode = st.mode;
		p->prog_id = st.xfsm_prog_id;
		p->dispatcher = st.dispatcher;
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

int xfsm_status_collect(struct xfsm_status_inst **out, int *n_out)
{
	struct xfsm_status_inst *arr = NULL, *s;
	struct links ls = {};
	__u32 *pinned_ids = NULL;
	int n = 0, cap = 0, err, i;
	const char *root = xfsm_pin_root();
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n_out = 0;
	err = xfsm_link_list(&ls.l, &ls.n);
	if (err)
		return err;

	d = opendir(root);
	while (d && (de = readdir(d))) {
		char dir[PATH_MAX];
		int fds[4], prog_fd;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name) >= 256)
			continue;
		fds[0] = open_pin(dir, XFSM_MAP_PORTS);
		if (fds[0] < 0)
			continue;
		fds[1] = open_pin(dir, XFSM_MAP_FLOWS);
		fds[2] = open_pin(dir, XFSM_MAP_RULES);
		fds[3] = open_pin(dir, XFSM_PIN_RODATA);
		s = inst_new(&arr, &n, &cap);
		if (!s) {
			close_fds(fds, 4);
			err = -ENOMEM;
			break;
		}
		if (snprintf(s->name, sizeof(s->name), "%s", de->d_name) < 0 ||
		    snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", dir) < 0)
			s->name[0] = '\0';
		prog_fd = open_pin(dir, XFSM_PIN_PROG);
		if (prog_fd >= 0) {
			s->prog_id = xfsm_fd_id(prog_fd);
			close(prog_fd);
		}
		inst_fill(s, &ls, fds[0], fds[1], fds[2], fds[3]);
		close_fds(fds, 4);
	}
	if (d)
		closedir(d);
	if (err)
		goto out;

	/* Datapaths attached without the loader: xfsm programs whose maps
	 * are no pinned instance's. */
	pinned_ids = calloc(n + ls.n + 1, sizeof(*pinned_ids));
	if (!pinned_ids) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		int fd = open_pin(arr[i].pin_dir, XFSM_MAP_PORTS);

		pinned_ids[i] = fd >= 0 ? xfsm_fd_id(fd) : 0;
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < ls.n; i++) {
		struct xfsm_xdp_state st;
		int fds[4], j, known = 0, pinned_n = n;

		if (xfsm_xdp_state_get(ls.l[i].ifindex, &st) || !st.xfsm_prog_id)
			continue;
		for (j = 0; j < pinned_n; j++)
			if (pinned_ids[j] == st.ports_map_id)
				known = 1;
		if (known)
			continue;
		pinned_ids[n] = st.ports_map_id;
		fds[0] = st.ports_map_id ? bpf_map_get_fd_by_id(st.ports_map_id) : -1;
		j = xfsm_prog_map_id(st.xfsm_prog_id, XFSM_MAP_FLOWS, false);
		fds[1] = j ? bpf_map_get_fd_by_id(j) : -1;
		j = xfsm_prog_map_id(st.xfsm_prog_id, XFSM_MAP_RULES, false);
		fds[2] = j ? bpf_map_get_fd_by_id(j) : -1;
		j = xfsm_prog_map_id(st.xfsm_prog_id, ".rodata", true);
		fds[3] = j ? bpf_map_get_fd_by_id(j) : -1;
		s = inst_new(&arr, &n, &cap);
		if (!s) {
			close_fds(fds, 4);
			err = -ENOMEM;
			goto out;
		}
		snprintf(s->name, sizeof(s->name), "prog-%u", st.xfsm_prog_id);
		s->prog_id = st.xfsm_prog_id;
		inst_fill(s, &ls, fds[0], fds[1], fds[2], fds[3]);
		close_fds(fds, 4);
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
				p->attached = true;
				p->mode = st.mode;
				p->prog_id = st.xfsm_prog_id;
				p->dispatcher = st.dispatcher;
			}
		}
	}
out:
	free(pinned_ids);
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
		return -errno;
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

/* Unload a whole instance: detach every port attached here, remove pins. */
static int unload_dir(const char *dir, const char *name, const struct links *ls,
		      bool only_local)
{
	int ports_fd = open_pin(dir, XFSM_MAP_PORTS);
	__u32 ports_id, key, next, *prev = NULL;
	int here = 0, elsewhere = 0, err = 0, e;
	__u32 ifs[XFSM_MAX_PORTS];
	int n_ifs = 0, i;

	if (ports_fd < 0) {
		/* No port table: a leftover; remove it. */
		return xfsm_pin_dir_remove(dir);
	}
	ports_id = xfsm_fd_id(ports_fd);
	while (n_ifs < XFSM_MAX_PORTS && !bpf_map_get_next_key(ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		ifs[n_ifs++] = key;
	}
	for (i = 0; i < n_ifs; i++) {
		const struct xfsm_link *l = links_find(ls, ifs[i]);
		struct xfsm_xdp_state st;

		if (l && !xfsm_xdp_state_get(l->ifindex, &st) && st.xfsm_prog_id &&
		    st.ports_map_id == ports_id)
			here++;
		else if (l)
			elsewhere++;
	}
	if (only_local && !here && elsewhere) {
		xfsm_log(XFSM_LOG_INFO,
			 "skipping instance '%s': its ports are not in this network namespace",
			 name);
		close(ports_fd);
		return 0;
	}
	for (i = 0; i < n_ifs; i++) {
		const struct xfsm_link *l = links_find(ls, ifs[i]);
		struct xfsm_xdp_state st;

		if (l && !xfsm_xdp_state_get(l->ifindex, &st) && st.xfsm_prog_id &&
		    st.ports_map_id == ports_id) {
			e = detach_xfsm(l->ifindex, l->name);
			if (e)
				err = e;
		}
	}
	close(ports_fd);
	if (err)
		return err;
	err = xfsm_pin_dir_remove(dir);
	if (!err)
		xfsm_log(XFSM_LOG_INFO, "instance '%s' unloaded, %s removed", name, dir);
	return err;
}

int xfsm_unload(char *const *ifaces, int n, const char *instance,
		const char *pin_dir, bool all)
{
	struct links ls = {};
	char dir[PATH_MAX];
	int err, i, e, lock_fd = -1;

	err = xfsm_check_privileges("unload");
	if (err)
		return err;
	err = xfsm_link_list(&ls.l, &ls.n);
	if (err)
		return err;
	/* Same lock as xfsm_load(): never unload half a load.  Without a
	 * pin root there is nothing pinned to protect. */
	if (access(xfsm_pin_root(), F_OK) == 0) {
		snprintf(dir, sizeof(dir), "%s/x", xfsm_pin_root());
		lock_fd = xfsm_pin_lock(dir);
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
			for (j = 0; j < ns; j++) {
				if (!st[j].pin_dir[0])
					continue;
				for (k = 0; k < st[j].n_ports; k++)
					if (st[j].ports[k].ifindex == l.ifindex &&
					    st[j].ports[k].attached)
						break;
				if (k < st[j].n_ports) {
					e = drop_port(st[j].pin_dir, l.ifindex);
					if (e)
						err = e;
				}
			}
		}
		xfsm_status_free(st, ns);
		goto out;
	}

	if (instance || pin_dir) {
		if (pin_dir)
			snprintf(dir, sizeof(dir), "%s", pin_dir);
		else
			xfsm_pin_dir_of(instance, dir, sizeof(dir));
		if (access(dir, F_OK)) {
			xfsm_log(XFSM_LOG_ERROR, "no xfsm instance '%s' (%s does not exist); "
				 "see xfsm-loader status", instance ? instance : dir, dir);
			err = -ENOENT;
			goto out;
		}
		err = unload_dir(dir, instance ? instance : dir, &ls, false);
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
			e = unload_dir(dir, de->d_name, &ls, true);
			if (e)
				err = e;
		}
		if (d)
			closedir(d);
		/* Unpinned datapaths (ip link ... xdp obj). */
		for (i = 0; i < ls.n; i++) {
			e = detach_xfsm(ls.l[i].ifindex, ls.l[i].name);
			if (e)
				err = e;
		}
	}
out:
	xfsm_pin_unlock(lock_fd);
	free(ls.l);
	return err;
}
