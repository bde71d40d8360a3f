/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Network namespaces of instances.  The ports of an instance are
 * ifindexes, which name interfaces only in the namespace the loader ran
 * in; asked from another one, the same numbers are other interfaces, or
 * none.  The loader records that namespace in the instance's pins, and
 * whoever reads ports (status, unload, port show) enters it first.
 *
 * A namespace is identified by its nsfs inode; a handle to enter it is
 * found the way `ip netns identify` and lsns do: under /run/netns, else
 * through a process living in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "xfsm_attach.h"

#define NETNS_RUN_DIR	"/run/netns"
#define SELF_NETNS	"/proc/thread-self/ns/net"

/*
 * What the loader pins as XFSM_PIN_NETNS: one array entry, frozen after
 * it is written.  User space is its only reader; the magic and version
 * let a later layout be told apart.
 */
#define NETNS_REC_MAGIC		0x78666e73	/* "xfns" */
#define NETNS_REC_VERSION	1

struct netns_rec {
	__u32	magic;
	__u32	version;
	__u64	dev;
	__u64	ino;
	char	name[64];
};
_Static_assert(sizeof(struct netns_rec) == 88, "netns record layout");

static int stat_ns(const char *path, __u64 *dev, __u64 *ino)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static bool path_is_ns(const char *path, const struct xfsm_netns *ns)
{
	__u64 dev = 0, ino = 0;

	return !stat_ns(path, &dev, &ino) && dev == ns->dev && ino == ns->ino;
}

/* The name of ns under /run/netns, "" when it has none. */
static void netns_name(const struct xfsm_netns *ns, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	buf[0] = '\0';
	d = opendir(NETNS_RUN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", de->d_name);
		/* A name too long to keep is as good as none. */
		if (strlen(de->d_name) < len && path_is_ns(path, ns)) {
			memcpy(buf, de->d_name, strlen(de->d_name) + 1);
			break;
		}
	}
	closedir(d);
}

int xfsm_netns_self(struct xfsm_netns *ns)
{
	int err;

	memset(ns, 0, sizeof(*ns));
	err = stat_ns(SELF_NETNS, &ns->dev, &ns->ino);
	if (err)
		return err;
	netns_name(ns, ns->name, sizeof(ns->name));
	return 0;
}

void xfsm_netns_rename(struct xfsm_netns *ns)
{
	char name[sizeof(ns->name)];

	netns_name(ns, name, sizeof(name));
	if (name[0])
		memcpy(ns->name, name, sizeof(name));
}

bool xfsm_netns_same(const struct xfsm_netns *a, const struct xfsm_netns *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

const char *xfsm_netns_str(const struct xfsm_netns *ns, char *buf, size_t len)
{
	char name[64];

	netns_name(ns, name, sizeof(name));
	if (!name[0] && ns->name[0])
		snprintf(buf, len, "net:[%llu] (named '%s' when loaded)",
			 (unsigned long long)ns->ino, ns->name);
	else if (name[0])
		snprintf(buf, len, "'%s' (net:[%llu])", name, (unsigned long long)ns->ino);
	else
		snprintf(buf, len, "net:[%llu]", (unsigned long long)ns->ino);
	return buf;
}

/* An fd on ns: its /run/netns name first, then any process inside it. */
static int netns_open(const struct xfsm_netns *ns)
{
	char path[PATH_MAX], name[64];
	struct dirent *de;
	int fd = -1;
	DIR *d;

	netns_name(ns, name, sizeof(name));
	if (name[0]) {
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	d = opendir("/proc");
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (!path_is_ns(path, ns))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			break;
	}
	closedir(d);
	return fd >= 0 ? fd : -ENOENT;
}

int xfsm_netns_enter(const struct xfsm_netns *ns, int *back)
{
	struct xfsm_netns self;
	int fd, err;

	*back = -1;
	err = xfsm_netns_self(&self);
	if (err)
		return err;
	if (xfsm_netns_same(ns, &self))
		return 0;
	fd = netns_open(ns);
	if (fd < 0)
		return fd;
	*back = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (*back < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (err) {
		close(*back);
		*back = -1;
	}
	return err;
}

void xfsm_netns_leave(int back)
{
	if (back < 0)
		return;
	/* Going back to where this thread was cannot be refused: it held
	 * that namespace a moment ago. */
	if (setns(back, CLONE_NEWNET))
		xfsm_log(XFSM_LOG_ERROR, "cannot return to the original network namespace: %s",
			 strerror(errno));
	close(back);
}

/* ---- The pinned record ------------------------------------------------------ */

int xfsm_netns_pin_create(const struct xfsm_netns *ns)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_RDONLY_PROG);
	struct netns_rec rec = {
		.magic = NETNS_REC_MAGIC, .version = NETNS_REC_VERSION,
		.dev = ns->dev, .ino = ns->ino,
	};
	__u32 zero = 0;
	int fd, err;

	snprintf(rec.name, sizeof(rec.name), "%s", ns->name);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, XFSM_PIN_NETNS, sizeof(zero),
			    sizeof(rec), 1, &o);
	if (fd < 0)
		return -errno;
	err = bpf_map_update_elem(fd, &zero, &rec, 0) ? -errno : 0;
	if (!err)
		err = bpf_map_freeze(fd) ? -errno : 0;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int xfsm_netns_rec_read(int fd, struct xfsm_netns *ns)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	struct netns_rec rec;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(zero) ||
	    info.value_size != sizeof(rec) || strcmp(info.name, XFSM_PIN_NETNS))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &zero, &rec))
		return -errno;
	if (rec.magic != NETNS_REC_MAGIC || rec.version != NETNS_REC_VERSION)
		return -EPROTO;
	memset(ns, 0, sizeof(*ns));
	ns->dev = rec.dev;
	ns->ino = rec.ino;
	memcpy(ns->name, rec.name, sizeof(ns->name) - 1);
	return 0;
}
