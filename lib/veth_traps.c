/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Two ways a veth port in native XDP mode loses traffic that no counter of
 * the datapath can see, read from the kernel rather than guessed:
 *
 *  - A frame redirected (or sent back with XDP_TX) into a veth travels as
 *    an XDP frame to the peer's receive queue, which only exists while the
 *    peer runs NAPI: when it has a native XDP program or GRO is on.
 *    Otherwise the kernel drops the frame after the program returned
 *    XDP_REDIRECT, and the datapath has counted a redirect.
 *  - A local socket behind the peer hands the veth its TCP/UDP segments
 *    with the checksum left to the "hardware" (CHECKSUM_PARTIAL) while the
 *    peer's tx checksumming is on.  Native XDP sees only the bytes: a
 *    redirected frame leaves with the partial checksum and the receiver
 *    drops it.
 *
 * The peer is the port's IFLA_LINK, in the namespace IFLA_LINK_NETNSID
 * names (absent: the port's own).  Its XDP program comes from netlink, GRO
 * and tx checksumming from the ethtool ioctls, asked inside its namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/ethtool.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "xfsm_attach.h"

#define NETNS_RUN_DIR	"/run/netns"
#define SELF_NETNS	"/proc/thread-self/ns/net"

const char *xfsm_trap_name(enum xfsm_trap_kind k)
{
	switch (k) {
	case XFSM_TRAP_REDIRECT_DROP:
		return "veth-redirect-drop";
	case XFSM_TRAP_TX_CSUM:
		return "veth-tx-checksum";
	}
	return "?";
}

/*
 * GRO on a veth starts its NAPI (and with it the queue XDP frames need)
 * since Linux 5.13; before, only a native XDP program on the peer does.
 */
static bool gro_starts_napi(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;
	return major > 5 || (major == 5 && minor >= 13);
}

/* The nsid the calling thread's namespace gives the namespace of fd:
 * >= 0, NETNSA_NSID_NOT_ASSIGNED, or -errno. */
static int nsid_of_fd(int fd)
{
	struct {
		struct nlmsghdr	n;
		struct rtgenmsg	g;
		char		pad[3];
		struct nlattr	a;
		__u32		fd;
	} req = {
		.n = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1,
		},
		.g = { .rtgen_family = AF_UNSPEC },
		.a = { .nla_len = NLA_HDRLEN + sizeof(__u32), .nla_type = NETNSA_FD },
		.fd = (__u32)fd,
	};
	char buf[256];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct nlattr *a;
	int sk, len, off, ret = -ENOENT;

	_Static_assert(offsetof(typeof(req), a) == NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg))),
		       "attribute right after the aligned rtgenmsg");
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return -errno;
	if (send(sk, &req, sizeof(req), 0) < 0) {
		ret = -errno;
		goto out;
	}
	len = recv(sk, buf, sizeof(buf), 0);
	if (len < 0) {
		ret = -errno;
		goto out;
	}
	if (!NLMSG_OK(n, (unsigned int)len) || n->nlmsg_type == NLMSG_ERROR) {
		ret = -EPROTO;
		goto out;
	}
	off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	while (off + NLA_HDRLEN <= (int)n->nlmsg_len) {
		a = (struct nlattr *)(buf + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > (int)n->nlmsg_len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NETNSA_NSID &&
		    a->nla_len >= NLA_HDRLEN + sizeof(__s32)) {
			ret = *(__s32 *)((char *)a + NLA_HDRLEN);
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
out:
	close(sk);
	return ret;
}

/* Does path name the namespace with this nsid?  Then its fd, else -1. */
static int ns_match(const char *path, int nsid)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (nsid_of_fd(fd) == nsid)
		return fd;
	close(fd);
	return -1;
}

/*
 * A handle on the namespace with this nsid, and how a user reaches it:
 * its /run/netns name ("ip netns exec NAME"), else a process inside it
 * ("nsenter --net=/proc/PID/ns/net").  -ENOENT when neither exists.
 */
static int ns_find(int nsid, char *name, size_t name_len, char *prefix, size_t prefix_len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int fd = -1;
	DIR *d;

	d = opendir(NETNS_RUN_DIR);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= name_len)
			continue;
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", de->d_name);
		fd = ns_match(path, nsid);
		if (fd >= 0) {
			snprintf(name, name_len, "%s", de->d_name);
			snprintf(prefix, prefix_len, "ip netns exec %s ", de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	if (fd >= 0)
		return fd;
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		/* pids are short: neither line can be cut */
		if (strlen(de->d_name) > 10)
			continue;
		snprintf(path, sizeof(path), "/proc/%.10s/ns/net", de->d_name);
		fd = ns_match(path, nsid);
		if (fd >= 0) {
			snprintf(name, name_len, "pid %.10s", de->d_name);
			snprintf(prefix, prefix_len, "nsenter --net=/proc/%.10s/ns/net ",
				 de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	return fd >= 0 ? fd : -ENOENT;
}

/* One ethtool_value feature of dev: 0/1, or -errno. */
static int ethtool_flag(int sk, const char *dev, __u32 cmd)
{
	struct ethtool_value v = { .cmd = cmd };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&v;
	if (ioctl(sk, SIOCETHTOOL, &ifr))
		return -errno;
	return v.data != 0;
}

/* What the peer runs, asked in its namespace (the calling thread's now). */
struct peer_facts {
	char	name[IFNAMSIZ];
	bool	xdp_native;
	int	gro;		/* 0/1, or -errno */
	int	tx_csum;	/* 0/1, or -errno */
};

static int peer_read(int ifindex, struct peer_facts *pf)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int sk, err;

	if (!if_indextoname(ifindex, pf->name))
		return -ENODEV;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	pf->xdp_native = q.drv_prog_id != 0;
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	pf->gro = ethtool_flag(sk, pf->name, ETHTOOL_GGRO);
	pf->tx_csum = ethtool_flag(sk, pf->name, ETHTOOL_GTXCSUM);
	close(sk);
	return 0;
}

int xfsm_link_peer(int ifindex, bool *veth, int *peer, int *nsid)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	const char *kind;
	int32_t id;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		err = -ECONNREFUSED;
		goto out;
	}
	if (rtnl_link_get_kernel(sk, ifindex, NULL, &link) < 0) {
		err = -ENODEV;
		goto out;
	}
	kind = rtnl_link_get_type(link);
	*veth = kind && !strcmp(kind, "veth");
	*peer = rtnl_link_get_link(link);
	*nsid = rtnl_link_get_link_netnsid(link, &id) ? -1 : id;
	rtnl_link_put(link);
	err = 0;
out:
	nl_socket_free(sk);
	return err;
}

/* Read the peer's facts, entering its namespace when it is another one. */
static int peer_facts(int peer, int nsid, struct peer_facts *pf, char *ns_name,
		      size_t ns_len, char *prefix, size_t prefix_len)
{
	int fd, back, err;

	ns_name[0] = prefix[0] = '\0';
	if (nsid < 0)
		return peer_read(peer, pf);
	fd = ns_find(nsid, ns_name, ns_len, prefix, prefix_len);
	if (fd < 0)
		return fd;
	back = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (back < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (!err) {
		err = peer_read(peer, pf);
		/* Back to a namespace this thread held a moment ago. */
		if (setns(back, CLONE_NEWNET))
			xfsm_log(XFSM_LOG_ERROR, "cannot return to the original network "
				 "namespace: %s", strerror(errno));
	}
	close(back);
	return err;
}

/* A trap of kind about port and its peer, the fixes left to the caller. */
static struct xfsm_trap *trap_init(struct xfsm_trap *t, enum xfsm_trap_kind kind,
				   const char *port, const char *peer, const char *ns)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	snprintf(t->port, sizeof(t->port), "%s", port);
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	snprintf(t->peer_netns, sizeof(t->peer_netns), "%s", ns);
	return t;
}

int xfsm_port_traps(int ifindex, enum xfsm_xdp_mode mode, struct xfsm_trap *out)
{
	char ns_name[sizeof(out->peer_netns)], prefix[128];
	struct peer_facts pf = {};
	struct xfsm_trap *t;
	int peer, nsid, err, n = 0;
	char port[IFNAMSIZ];
	bool veth, gro;

	/* In skb mode frames go through the stack as skbs, which need
	 * neither NAPI on the peer nor a checksum done in software. */
	if (mode != XFSM_XDP_NATIVE)
		return 0;
	err = xfsm_link_peer(ifindex, &veth, &peer, &nsid);
	if (err || !veth)
		return err;
	if (peer <= 0)
		return -ENOENT;
	if (!if_indextoname(ifindex, port))
		return -ENODEV;
	err = peer_facts(peer, nsid, &pf, ns_name, sizeof(ns_name), prefix, sizeof(prefix));
	if (err)
		return err;
	gro = gro_starts_napi();
	if (!pf.xdp_native && (!gro || pf.gro == 0)) {
		t = trap_init(&out[n++], XFSM_TRAP_REDIRECT_DROP, port, pf.name, ns_name);
		if (gro) {
			snprintf(t->fix, sizeof(t->fix), "%sethtool -K %s gro on", prefix, pf.name);
			snprintf(t->alt_fix, sizeof(t->alt_fix),
				 "%sip link set dev %s xdpdrv obj PROG.o", prefix, pf.name);
		} else {
			snprintf(t->fix, sizeof(t->fix), "%sip link set dev %s xdpdrv obj PROG.o",
				 prefix, pf.name);
		}
	}
	if (pf.tx_csum == 1) {
		t = trap_init(&out[n++], XFSM_TRAP_TX_CSUM, port, pf.name, ns_name);
		snprintf(t->fix, sizeof(t->fix), "%sethtool -K %s tx off", prefix, pf.name);
	}
	return n;
}

int xfsm_trap_message(const struct xfsm_trap *t, char *buf, size_t len)
{
	char where[sizeof(t->peer_netns) + 16] = "";

	if (t->peer_netns[0])
		snprintf(where, sizeof(where), " (netns %s)", t->peer_netns);
	switch (t->kind) {
	case XFSM_TRAP_REDIRECT_DROP:
		return snprintf(buf, len,
				"%s: frames redirected or sent back into %s are dropped by the "
				"kernel, yet counted as redirect/tx: its veth peer %s%s has "
				"%s", t->port, t->port, t->peer, where,
				gro_starts_napi() ? "neither a native XDP program nor GRO" :
				"no native XDP program");
	case XFSM_TRAP_TX_CSUM:
		return snprintf(buf, len,
				"%s: TCP and UDP that local sockets behind its veth peer %s%s send "
				"through %s leave a redirect with a partial checksum (tx "
				"checksumming is on) and are dropped by their receiver",
				t->port, t->peer, where, t->port);
	}
	return snprintf(buf, len, "%s: ?", t->port);
}
