/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The program attached to an instance's interfaces: the active slot's
 * generated program itself where there is one, else the generic datapath
 * (docs/specializer.md, "How a specialized program runs").
 *
 * Entered through the generic program, a generated program costs a
 * prelude and a tail call per packet; attached directly it costs
 * neither.  A generated program checks at its top that its slot is the
 * active one and that no observer listens, and otherwise tail-calls the
 * generic program (xfsm_progs[XFSM_PROGS_GENERIC]): whichever of the
 * instance's programs an interface runs, packets get the running
 * application's semantics, so a swap that fails or comes late costs
 * speed only.
 *
 * Only a plain attachment is swapped (a libxdp dispatcher runs its copy
 * of the generic program; hardware offload binds a program to its
 * device), and only when what runs there is this instance's (its
 * programs name its xfsm_progs): an ifindex of the port table may be
 * another device of another namespace, or run a newcomer's program.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libxfsm.h"
#include "xfsm_attach.h"

struct port_list {
	struct xfsm_instance *inst;
	struct xfsm_port_entry *e;
	int	n, cap;
};

/* The program of entry `key` of xfsm_progs: its id, 0 when empty. */
static __u32 progs_entry(struct xfsm_instance *inst, __u32 key)
{
	__u32 id = 0;

	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_PROGS], &key, &id))
		return 0;
	return id;
}

bool xfsm_xdp_state_owned(const struct xfsm_instance *inst, const struct xfsm_xdp_state *st)
{
	struct xfsm_owner o;

	xfsm_owner_of(inst, &o);
	return xfsm_xdp_state_of(st, &o);
}

static int list_one(const void *key, const void *value, void *arg)
{
	struct port_list *l = arg;
	struct xfsm_port_entry *e;

	(void)value;
	if (l->n == l->cap) {
		void *np = realloc(l->e, (l->cap ? l->cap * 2 : 8) * sizeof(*l->e));

		if (!np)
			return -ENOMEM;
		l->e = np;
		l->cap = l->cap ? l->cap * 2 : 8;
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->ifindex = (int)*(const __u32 *)key;
	if (!if_indextoname(e->ifindex, e->ifname))
		e->ifname[0] = 0;	/* gone */
	else if (!xfsm_xdp_state_get(e->ifindex, &e->st))
		e->owned = xfsm_xdp_state_owned(l->inst, &e->st);
	return 0;
}

int xfsm_attach_ports(struct xfsm_instance *inst, struct xfsm_port_entry **out, int *n)
{
	struct port_list l = { .inst = inst };
	int err, back;

	*out = NULL;
	*n = 0;
	if (inst->map_fd[XFSM_M_PORTS] < 0)
		return 0;
	err = xfsm_instance_netns_enter(inst, &back);
	if (err)
		return err;
	err = xfsm_map_walk(inst, XFSM_M_PORTS, list_one, &l);
	xfsm_netns_leave(back);
	if (err < 0) {
		free(l.e);
		return err;
	}
	*out = l.e;
	*n = l.n;
	return 0;
}

/* Swap what e runs (one of inst's programs) for target; in e's namespace.
 * 1 when swapped, 0 when left. */
static int swap_one(const struct xfsm_port_entry *e, __u32 target_id, int target_fd,
		    __u32 generic_id)
{
	const struct xfsm_xdp_state *st = &e->st;
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int old_fd, err;

	/* A generic program of the instance (a port an earlier load
	 * attached) runs the same maps as the newest: it stays unless a
	 * generated program is to run. */
	if (!e->owned || st->prog_id == target_id || (!st->specialized && target_id == generic_id))
		return 0;
	if (st->dispatcher || st->mode == XFSM_XDP_HW) {
		xfsm_log(XFSM_LOG_DEBUG, "%s: %s: the generic program stays the entry",
			 e->ifname, st->dispatcher ? "behind a libxdp dispatcher" : "offloaded");
		return 0;
	}
	old_fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (old_fd < 0)
		return 0;		/* replaced and freed meanwhile */
	ao.old_prog_fd = old_fd;
	err = bpf_xdp_attach(e->ifindex, target_fd,
			     xfsm_mode_flags(st->mode) | XDP_FLAGS_REPLACE, &ao);
	close(old_fd);
	if (!err) {
		xfsm_log(XFSM_LOG_DEBUG, "%s: runs program %u (was %s, id %u)", e->ifname,
			 target_id, st->prog_name, st->prog_id);
		return 1;
	}
	if (err == -EEXIST || err == -ENOENT || err == -ENODEV) {
		/* Replaced or detached since the query: someone else's now. */
		xfsm_log(XFSM_LOG_DEBUG, "%s: changed meanwhile (%s): left as it is",
			 e->ifname, strerror(-err));
		return 0;
	}
	xfsm_log(XFSM_LOG_WARN,
		 "%s: cannot attach program %u in place of %s (id %u): %s; the datapath "
		 "runs there through its generic entry", e->ifname, target_id,
		 st->prog_name, st->prog_id, strerror(-err));
	return 0;
}

int xfsm_attach_direct(struct xfsm_instance *inst)
{
	__u32 generic_id, active_id, target_id;
	struct xfsm_port_entry *e = NULL;
	int err, back, target_fd, i, n = 0, swapped = 0;
	struct xfsm_ctl ctl;

	if (inst->map_fd[XFSM_M_PROGS] < 0 || inst->map_fd[XFSM_M_PORTS] < 0)
		return 0;
	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	/* Without the generic entry (a datapath attached by other means),
	 * nothing generated runs, and there is nothing this may attach. */
	generic_id = progs_entry(inst, XFSM_PROGS_GENERIC);
	if (!generic_id)
		return 0;
	active_id = ctl.active < XFSM_APP_SLOTS ? progs_entry(inst, ctl.active) : 0;
	target_id = active_id ? active_id : generic_id;
	target_fd = bpf_prog_get_fd_by_id(target_id);
	if (target_fd < 0 && active_id) {
		/* Emptied by a switch since: the generic one. */
		target_id = generic_id;
		target_fd = bpf_prog_get_fd_by_id(target_id);
	}
	if (target_fd < 0) {
		err = -errno;
		xfsm_log(XFSM_LOG_WARN, "cannot open program %u of %s: %s", target_id,
			 XFSM_MAP_PROGS, strerror(-err));
		return err;
	}
	err = xfsm_attach_ports(inst, &e, &n);
	if (!err)
		err = xfsm_instance_netns_enter(inst, &back);
	if (!err) {
		for (i = 0; i < n; i++)
			swapped += swap_one(&e[i], target_id, target_fd, generic_id);
		xfsm_netns_leave(back);
	}
	free(e);
	close(target_fd);
	return err < 0 ? err : swapped;
}
