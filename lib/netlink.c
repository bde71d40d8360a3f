/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Link facts through libnl-route: name <-> ifindex, MTU, up/down, kind;
 * the driver name through the ethtool ioctl.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "xfsm_attach.h"

/* XDP_PACKET_HEADROOM and the skb_shared_info a driver keeps at the end of
 * the page leave this much of a 4 KiB page for the frame itself. */
#define XDP_HEADROOM		256
#define SKB_SHINFO_ROOM		320

__u32 xfsm_xdp_max_mtu(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	return (__u32)page - XDP_HEADROOM - SKB_SHINFO_ROOM - 14 /* ETH_HLEN */;
}

static void link_driver(const char *name, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	int fd;

	buf[0] = '\0';
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		snprintf(buf, len, "%s", info.driver);
	close(fd);
}

static void link_fill(struct rtnl_link *link, struct xfsm_link *out)
{
	const char *kind = rtnl_link_get_type(link);
	unsigned int flags = rtnl_link_get_flags(link);
	__u8 oper = rtnl_link_get_operstate(link);

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	out->ifindex = rtnl_link_get_ifindex(link);
	out->mtu = rtnl_link_get_mtu(link);
	out->up = flags & IFF_UP;
	/* IF_OPER_UP, or IF_OPER_UNKNOWN with a carrier (loopback, tun). */
	out->running = oper == 6 || (oper == 0 && (flags & IFF_RUNNING));
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
	link_driver(out->name, out->driver, sizeof(out->driver));
}

static int nl_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		xfsm_log(XFSM_LOG_ERROR, "netlink: cannot connect: %s", nl_geterror(err));
		nl_socket_free(sk);
		return -ECONNREFUSED;
	}
	*out = sk;
	return 0;
}

int xfsm_link_get(const char *name, int ifindex, struct xfsm_link *out)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	int err;

	if (name && strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	err = nl_open(&sk);
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, name ? 0 : ifindex, name, &link);
	if (err < 0) {
		err = (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ||
		       err == -NLE_INVAL) ? -ENODEV : -EIO;
		goto out;
	}
	link_fill(link, out);
	rtnl_link_put(link);
out:
	nl_socket_free(sk);
	return err;
}

int xfsm_link_list(struct xfsm_link **out, int *n)
{
	struct nl_cache *cache = NULL;
	struct xfsm_link *links = NULL;
	struct nl_object *obj;
	struct nl_sock *sk;
	int err, cnt = 0;

	*out = NULL;
	*n = 0;
	err = nl_open(&sk);
	if (err)
		return err;
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0) {
		err = -EIO;
		goto out;
	}
	links = calloc(nl_cache_nitems(cache) + 1, sizeof(*links));
	if (!links) {
		err = -ENOMEM;
		goto out;
	}
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		link_fill((struct rtnl_link *)obj, &links[cnt++]);
	*out = links;
	*n = cnt;
	links = NULL;
out:
	free(links);
	if (cache)
		nl_cache_free(cache);
	nl_socket_free(sk);
	return err;
}
