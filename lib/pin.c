/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * bpffs pin directories of xfsm instances, and reading the datapath's
 * build info (ABI version) from a pinned .rodata map or from an object.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xfsm_attach.h"

#define BPFFS_MOUNT	"/sys/fs/bpf"

const char *xfsm_pin_root(void)
{
	const char *r = getenv("XFSM_PIN_ROOT");

	return r && *r ? r : XFSM_PIN_ROOT;
}

int xfsm_pin_dir_of(const char *instance, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", xfsm_pin_root(), instance) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The deepest existing ancestor of path (path itself if it exists). */
static void existing_ancestor(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	while (access(buf, F_OK) != 0) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			snprintf(buf, len, "/");
			return;
		}
		*slash = '\0';
	}
}

int xfsm_bpffs_prepare(const char *pin_dir)
{
	char anc[PATH_MAX];

	existing_ancestor(pin_dir, anc, sizeof(anc));
	if (is_bpffs(anc))
		return 0;
	/* Only the standard mount point is mounted on the user's behalf
	 * (`ip netns exec` gives a fresh /sys without it). */
	if (strncmp(pin_dir, BPFFS_MOUNT "/", strlen(BPFFS_MOUNT) + 1) != 0 ||
	    (strcmp(anc, BPFFS_MOUNT) != 0 && strcmp(anc, "/sys/fs") != 0 &&
	     strcmp(anc, "/sys") != 0)) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s is not on a BPF filesystem (%s is not bpffs); "
			 "pin under " BPFFS_MOUNT " or mount one first: "
			 "mount -t bpf bpf DIR", pin_dir, anc);
		return -ENOTSUP;
	}
	if (access(BPFFS_MOUNT, F_OK) != 0)
		mkdir(BPFFS_MOUNT, 0700);
	if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700") != 0) {
		int err = -errno;

		xfsm_log(XFSM_LOG_ERROR,
			 "bpffs is not mounted on " BPFFS_MOUNT " and mounting it failed: %s; "
			 "mount it (mount -t bpf bpf " BPFFS_MOUNT ") or choose --pin-dir on a bpffs",
			 strerror(-err));
		return err;
	}
	xfsm_log(XFSM_LOG_INFO, "mounted bpffs on " BPFFS_MOUNT);
	return 1;
}

int xfsm_pin_dir_create(const char *pin_dir, bool *created)
{
	char buf[PATH_MAX], *p;

	*created = false;
	if (snprintf(buf, sizeof(buf), "%s", pin_dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) == 0) {
		*created = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
fail:
	{
		int err = -errno;

		xfsm_log(XFSM_LOG_ERROR, "cannot create pin directory %s: %s",
			 buf, strerror(-err));
		return err;
	}
}

int xfsm_pin_dir_remove(const char *pin_dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (rmdir(pin_dir) && errno != ENOENT)
		err = -errno;
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot remove pins in %s: %s",
			 pin_dir, strerror(-err));
	return err;
}

/* Offset of the variable `xfsm_build_info` in a DATASEC, -1 if absent. */
static long datasec_var_offset(const struct btf *btf, __u32 sec_id)
{
	const struct btf_type *sec = btf__type_by_id(btf, sec_id);
	const struct btf_var_secinfo *vs;
	int i;

	if (!sec || !btf_is_datasec(sec))
		return -1;
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (var && !strcmp(btf__name_by_offset(btf, var->name_off),
				   XFSM_BUILD_INFO_SYM))
			return vs->offset;
	}
	return -1;
}

int xfsm_rodata_build_info(int map_fd, struct xfsm_build_info *bi)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	struct btf *btf = NULL;
	long off = 0;
	void *val;
	int err;

	err = bpf_obj_get_info_by_fd(map_fd, &info, &len);
	if (err)
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4)
		return -EPROTO;
	if (info.btf_id && info.btf_value_type_id) {
		btf = btf__load_from_kernel_by_id(info.btf_id);
		if (btf) {
			off = datasec_var_offset(btf, info.btf_value_type_id);
			btf__free(btf);
			if (off < 0)
				return -EPROTO;
		}
	}
	if (off + sizeof(*bi) > info.value_size)
		return -EPROTO;
	val = calloc(1, info.value_size);
	if (!val)
		return -ENOMEM;
	err = bpf_map_lookup_elem(map_fd, &zero, val) ? -errno : 0;
	if (!err)
		memcpy(bi, (char *)val + off, sizeof(*bi));
	free(val);
	return err;
}

int xfsm_obj_build_info(struct bpf_object *obj, struct xfsm_build_info *bi)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	const void *val;
	size_t size;
	long off;
	int id;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	off = datasec_var_offset(btf, id);
	if (off < 0)
		return -ENOENT;
	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);
		size_t l = strlen(n);

		if (!bpf_map__is_internal(map) || l < 7 || strcmp(n + l - 7, ".rodata"))
			continue;
		val = bpf_map__initial_value(map, &size);
		if (!val || off + sizeof(*bi) > size)
			return -ENOENT;
		memcpy(bi, (const char *)val + off, sizeof(*bi));
		return 0;
	}
	return -ENOENT;
}

int xfsm_pin_lock(const char *pin_dir)
{
	char parent[PATH_MAX];
	bool created;
	int fd, err;

	if (snprintf(parent, sizeof(parent), "%s", pin_dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	dirname(parent);
	err = xfsm_pin_dir_create(parent, &created);
	if (err)
		return err;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void xfsm_pin_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}
