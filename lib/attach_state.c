/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What runs on an interface: the XDP program (or libxdp dispatcher and its
 * components), whether it is an xfsm datapath, and which maps it uses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xfsm_attach.h"

static const char *const mode_names[] = {
	[XFSM_XDP_NONE] = "none",
	[XFSM_XDP_NATIVE] = "native",
	[XFSM_XDP_SKB] = "skb",
	[XFSM_XDP_HW] = "hw",
	[XFSM_XDP_AUTO] = "auto",
};

const char *xfsm_xdp_mode_name(enum xfsm_xdp_mode m)
{
	return (unsigned int)m <= XFSM_XDP_AUTO ? mode_names[m] : "?";
}

int xfsm_xdp_mode_parse(const char *s, enum xfsm_xdp_mode *out)
{
	static const char *const alias[][2] = {
		{ "drv", "native" }, { "generic", "skb" }, { "offload", "hw" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(s, alias[i][0]))
			s = alias[i][1];
	for (i = XFSM_XDP_NATIVE; i <= XFSM_XDP_AUTO; i++) {
		if (!strcmp(s, mode_names[i])) {
			*out = i;
			return 0;
		}
	}
	xfsm_log(XFSM_LOG_ERROR,
		 "unknown mode '%s': use native, skb, hw or auto", s);
	return -EINVAL;
}

__u32 xfsm_mode_flags(enum xfsm_xdp_mode m)
{
	switch (m) {
	case XFSM_XDP_NATIVE:	return XDP_FLAGS_DRV_MODE;
	case XFSM_XDP_SKB:	return XDP_FLAGS_SKB_MODE;
	case XFSM_XDP_HW:	return XDP_FLAGS_HW_MODE;
	default:		return 0;
	}
}

int xfsm_prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd, err = 0;

	buf[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return err;
}

/* Id of the map of program prog_id whose name is `name` (or ends with it
 * when suffix is set); 0 when none. */
__u32 xfsm_prog_map_id(__u32 prog_id, const char *name, bool suffix)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info), ids[64], i, found = 0;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		goto out;
	if (info.nr_map_ids > 64)
		info.nr_map_ids = 64;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	ilen = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		goto out;
	for (i = 0; i < info.nr_map_ids && i < 64 && !found; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		size_t nl = strlen(name), ml;
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen)) {
			ml = strlen(mi.name);
			if (!strcmp(mi.name, name) ||
			    (suffix && ml >= nl && !strcmp(mi.name + ml - nl, name)))
				found = ids[i];
		}
		close(mfd);
	}
out:
	close(fd);
	return found;
}

__u32 xfsm_fd_id(int fd)
{
	struct bpf_map_info info = {};	/* id is first for maps and progs */
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/*
 * An attached program named like a generated one is xfsm's when it calls
 * through an xfsm_progs whose generic entry holds the datapath: that
 * program's instance is its own.  A stale one (its slot's entry emptied
 * by a later switch) still names the array.  With the generic entry
 * empty (an instance being unloaded), it is still an xfsm program,
 * without an instance.
 */
static void generated_owner(struct xfsm_xdp_state *st)
{
	__u32 key = XFSM_PROGS_GENERIC, gid = 0;
	char name[64];
	int fd;

	st->progs_map_id = xfsm_prog_map_id(st->prog_id, XFSM_MAP_PROGS, false);
	if (!st->progs_map_id)
		return;
	fd = bpf_map_get_fd_by_id(st->progs_map_id);
	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &key, &gid))
		gid = 0;
	close(fd);
	st->xfsm_prog_id = st->prog_id;
	st->specialized = true;
	if (gid && !xfsm_prog_name(gid, name, sizeof(name)) &&
	    !strcmp(name, XFSM_PROG_NAME))
		st->generic_id = gid;
}

int xfsm_xdp_state_get(int ifindex, struct xfsm_xdp_state *st)
{
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	int err;

	memset(st, 0, sizeof(*st));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (q.drv_prog_id) {
		st->prog_id = q.drv_prog_id;
		st->mode = XFSM_XDP_NATIVE;
	} else if (q.skb_prog_id) {
		st->prog_id = q.skb_prog_id;
		st->mode = XFSM_XDP_SKB;
	} else if (q.hw_prog_id) {
		st->prog_id = q.hw_prog_id;
		st->mode = XFSM_XDP_HW;
	} else if (q.prog_id) {
		st->prog_id = q.prog_id;
		st->mode = XFSM_XDP_NATIVE;
	}
	if (!st->prog_id)
		return 0;
	xfsm_prog_name(st->prog_id, st->prog_name, sizeof(st->prog_name));
	if (!strcmp(st->prog_name, XFSM_PROG_NAME)) {
		st->xfsm_prog_id = st->prog_id;
	} else if (!strncmp(st->prog_name, XFSM_SPEC_PROG_PREFIX,
			    strlen(XFSM_SPEC_PROG_PREFIX))) {
		generated_owner(st);
	} else if (!strcmp(st->prog_name, "xdp_dispatcher")) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
		struct xdp_program *p = NULL;

		if (!libxdp_get_error(mp) && mp) {
			st->dispatcher = !xdp_multiprog__is_legacy(mp);
			while ((p = xdp_multiprog__next_prog(p, mp))) {
				if (!strcmp(xdp_program__name(p), XFSM_PROG_NAME)) {
					st->xfsm_prog_id = xdp_program__id(p);
					break;
				}
			}
			xdp_multiprog__close(mp);
		}
	}
	if (!st->xfsm_prog_id)
		return 0;
	if (!st->specialized)
		st->generic_id = st->xfsm_prog_id;
	if (!st->progs_map_id)
		st->progs_map_id = xfsm_prog_map_id(st->xfsm_prog_id, XFSM_MAP_PROGS, false);
	st->ctl_map_id = xfsm_prog_map_id(st->xfsm_prog_id, XFSM_MAP_CTL, false);
	/* A generated program with a port block names the port table itself,
	 * also while its xfsm_progs has no generic entry. */
	st->ports_map_id = xfsm_prog_map_id(st->xfsm_prog_id, XFSM_MAP_PORTS, false);
	if (!st->ports_map_id && st->generic_id)
		st->ports_map_id = xfsm_prog_map_id(st->generic_id, XFSM_MAP_PORTS, false);
	return 0;
}

bool xfsm_xdp_state_of(const struct xfsm_xdp_state *st, const struct xfsm_owner *o)
{
	if (!st->xfsm_prog_id)
		return false;
	if (st->ctl_map_id)
		return st->ctl_map_id == o->ctl_id;
	return st->progs_map_id && st->progs_map_id == o->progs_id;
}

static __u32 pinned_id(const char *pin_dir, bool staged, const char *name)
{
	int fd = xfsm_pin_get(pin_dir, staged, name);
	__u32 id;

	if (fd < 0)
		return 0;
	id = xfsm_fd_id(fd);
	close(fd);
	return id;
}

void xfsm_owner_pinned(const char *pin_dir, bool staged, struct xfsm_owner *o)
{
	o->ctl_id = pinned_id(pin_dir, staged, XFSM_MAP_CTL);
	o->progs_id = pinned_id(pin_dir, staged, XFSM_MAP_PROGS);
}

void xfsm_owner_of(const struct xfsm_instance *inst, struct xfsm_owner *o)
{
	o->ctl_id = inst->map_fd[XFSM_M_CTL] >= 0 ? inst->map_id[XFSM_M_CTL] : 0;
	o->progs_id = inst->map_fd[XFSM_M_PROGS] >= 0 ? inst->map_id[XFSM_M_PROGS] : 0;
}

int xfsm_xdp_xfsm_progs(int ifindex, __u32 *ids, int max)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	struct xfsm_xdp_state st;
	int n = 0;

	if (xfsm_xdp_state_get(ifindex, &st) || !st.xfsm_prog_id || max < 1)
		return 0;
	if (!st.dispatcher) {
		/* A generated program is its instance's generic program's. */
		ids[n++] = st.specialized && st.generic_id ? st.generic_id : st.xfsm_prog_id;
		return n;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	while (n < max && (p = xdp_multiprog__next_prog(p, mp)))
		if (!strcmp(xdp_program__name(p), XFSM_PROG_NAME))
			ids[n++] = xdp_program__id(p);
	xdp_multiprog__close(mp);
	return n;
}

bool xfsm_ports_map_ok(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.key_size == sizeof(__u32) &&
	       info.value_size == sizeof(struct xfsm_port);
}
