/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * bpffs pin directories of xfsm instances, reading the datapath's build
 * info (ABI version) from a pinned .rodata map or from an object, and
 * loading the datapath's object as every program sharing its program
 * array must be loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
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
#include "xfsm_acl.h"
#include "xfsm_plan.h"

#define BPFFS_MOUNT	"/sys/fs/bpf"

const char *xfsm_pin_root(void)
{
	const char *r = getenv("XFSM_PIN_ROOT");

	return r && *r ? r : XFSM_PIN_ROOT;
}

int xfsm_pin_dir_of(const char *instance, char *buf, size_t len)
{
	int err = xfsm_instance_name_check(instance);

	if (err)
		return err;
	if ((size_t)snprintf(buf, len, "%s/%s", xfsm_pin_root(), instance) >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool xfsm_pin_dir_in_root(const char *pin_dir)
{
	const char *root = xfsm_pin_root();
	size_t n = strlen(root);

	return !strncmp(pin_dir, root, n) && pin_dir[n] == '/' && pin_dir[n + 1] &&
	       pin_dir[n + 1] != '.' && !strchr(pin_dir + n + 1, '/');
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

/* ---- What is ours ----------------------------------------------------------- */

enum bpf_obj_kind { OBJ_UNKNOWN, OBJ_MAP, OBJ_PROG, OBJ_LINK };

/* Whether a BPF fd is a map, a program or a link: the kernel says so in
 * its fdinfo (one object's info struct cannot be asked of another). */
static enum bpf_obj_kind fd_kind(int fd)
{
	enum bpf_obj_kind k = OBJ_UNKNOWN;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return OBJ_UNKNOWN;
	while (k == OBJ_UNKNOWN && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "map_type:", 9))
			k = OBJ_MAP;
		else if (!strncmp(line, "prog_type:", 10))
			k = OBJ_PROG;
		else if (!strncmp(line, "link_type:", 10))
			k = OBJ_LINK;
	}
	fclose(f);
	return k;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * Every name a load pins, each also staged (XFSM_PIN_STAGED): the
 * datapath's maps (xfsm_map_names[], and two the library never opens by
 * name; test_dp_pin_dir_check in selftests/test_lib.c pins each xfsm_*
 * map of the object and wants the directory gone), its .rodata, the
 * namespace record and the program.
 */
static const char *const pin_names_more[] = {
	XFSM_MAP_ZERO, XFSM_MAP_OBS_BUF, XFSM_PIN_RODATA, XFSM_PIN_NETNS, XFSM_PIN_PROG,
};
#define N_PIN_NAMES (XFSM_M__MAX + sizeof(pin_names_more) / sizeof(pin_names_more[0]))

/* The i-th of those names (i < N_PIN_NAMES), NULL for none. */
static const char *pin_name(size_t i)
{
	return i < XFSM_M__MAX ? xfsm_map_names[i] : pin_names_more[i - XFSM_M__MAX];
}

static bool known_pin_name(const char *base)
{
	for (size_t i = 0; i < N_PIN_NAMES; i++)
		if (pin_name(i) && !strcmp(base, pin_name(i)))
			return true;
	return false;
}

/*
 * Why the pin `name` in dir is not one the loader makes, or NULL when it
 * is: "prog" is the xfsm XDP program, "xfsm_rodata" a .rodata holding
 * xfsm_build_info, "xfsm_netns" the loader's namespace record, and every
 * other name of pin_name() a map of that name; each may carry the
 * suffix of an interrupted load.  Nothing else: no file, directory, link,
 * foreign map or map of another name.
 */
static const char *foreign_pin(const char *dir, const char *name, char *why, size_t len)
{
	char path[PATH_MAX], base[NAME_MAX + 1];
	enum bpf_obj_kind kind;
	struct stat st;
	size_t n;
	int fd;

	snprintf(base, sizeof(base), "%s", name);
	if (has_suffix(base, XFSM_PIN_STAGED))
		base[strlen(base) - strlen(XFSM_PIN_STAGED)] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st))
		return snprintf(why, len, "%s cannot be read: %s", name, strerror(errno)), why;
	if (S_ISDIR(st.st_mode))
		return snprintf(why, len, "%s is a directory", name), why;
	if (!S_ISREG(st.st_mode))
		return snprintf(why, len, "%s is not a BPF pin", name), why;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return snprintf(why, len, "%s is not a BPF object (%s)", name,
				strerror(errno)), why;
	kind = fd_kind(fd);
	why[0] = '\0';
	if (!strcmp(base, XFSM_PIN_PROG)) {
		struct bpf_prog_info info = {};
		__u32 ilen = sizeof(info);

		if (kind != OBJ_PROG || bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
		    info.type != BPF_PROG_TYPE_XDP || strcmp(info.name, XFSM_PROG_NAME))
			snprintf(why, len, "%s is not the xfsm program (%s)", name,
				 kind == OBJ_PROG ? info.name : "not a program");
	} else if (kind != OBJ_MAP) {
		snprintf(why, len, "%s is a BPF %s, not an xfsm map", name,
			 kind == OBJ_PROG ? "program" : kind == OBJ_LINK ? "link" : "object");
	} else if (!strcmp(base, XFSM_PIN_RODATA)) {
		struct xfsm_build_info bi = {};

		if (xfsm_rodata_build_info(fd, &bi) || !bi.abi_version)
			snprintf(why, len, "%s holds no xfsm build info", name);
	} else if (!strcmp(base, XFSM_PIN_NETNS)) {
		struct xfsm_netns ns;

		if (xfsm_netns_rec_read(fd, &ns))
			snprintf(why, len, "%s is not the loader's network namespace record", name);
	} else {
		struct bpf_map_info info = {};
		__u32 ilen = sizeof(info);

		/* The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a name. */
		n = strlen(base);
		if (n > sizeof(info.name) - 1)
			n = sizeof(info.name) - 1;
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) || !known_pin_name(base) ||
		    strlen(info.name) != n || strncmp(info.name, base, n))
			snprintf(why, len, "%s is not an xfsm map%s%s%s", name,
				 info.name[0] ? " (it is map '" : "", info.name,
				 info.name[0] ? "')" : "");
	}
	close(fd);
	return why[0] ? why : NULL;
}

int xfsm_pin_dir_check(const char *pin_dir, int *n_pins)
{
	char why[256];
	struct dirent *de;
	struct stat st;
	int err = 0, n = 0;
	DIR *d;

	if (n_pins)
		*n_pins = 0;
	if (lstat(pin_dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		xfsm_log(XFSM_LOG_ERROR, "%s is not a directory, so not an xfsm pin directory",
			 pin_dir);
		return -ENOTDIR;
	}
	if (!is_bpffs(pin_dir)) {
		xfsm_log(XFSM_LOG_ERROR, "%s is not on a BPF filesystem, so it holds no "
			 "xfsm pins; refusing to touch it", pin_dir);
		return -EINVAL;
	}
	d = opendir(pin_dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (foreign_pin(pin_dir, de->d_name, why, sizeof(why))) {
			xfsm_log(XFSM_LOG_ERROR, "%s is not an xfsm pin directory: %s; "
				 "refusing to touch it", pin_dir, why);
			err = -EINVAL;
		}
		n++;
	}
	closedir(d);
	if (n_pins)
		*n_pins = n;
	return err;
}

/* The first entry of dir, "" when none is left. */
static void first_entry(const char *dir, char *buf, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	buf[0] = '\0';
	while (d && !buf[0] && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			snprintf(buf, len, "%s", de->d_name);
	if (d)
		closedir(d);
}

int xfsm_pin_dir_unpin(const char *pin_dir)
{
	static const char *const suffixes[] = { "", XFSM_PIN_STAGED };
	char path[PATH_MAX], left[NAME_MAX + 1];
	size_t i, j;
	int err = 0;

	for (i = 0; i < N_PIN_NAMES; i++) {
		for (j = 0; j < 2 && pin_name(i); j++) {
			snprintf(path, sizeof(path), "%s/%s%s", pin_dir, pin_name(i), suffixes[j]);
			if (unlink(path) && errno != ENOENT && !err)
				err = -errno;
		}
	}
	if (!err && rmdir(pin_dir) && errno != ENOENT) {
		err = -errno;
		first_entry(pin_dir, left, sizeof(left));
		if (left[0]) {
			xfsm_log(XFSM_LOG_ERROR, "%s is left in place: it holds %s, which is not a "
				 "pin xfsm makes (the instance's own pins are removed)",
				 pin_dir, left);
			return err;
		}
	}
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "cannot remove pins in %s: %s",
			 pin_dir, strerror(-err));
	return err;
}

int xfsm_pin_dir_remove(const char *pin_dir)
{
	int err;

	err = xfsm_pin_dir_check(pin_dir, NULL);
	if (err)
		return err == -ENOENT ? 0 : err;
	return xfsm_pin_dir_unpin(pin_dir);
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

int xfsm_obj_prepare(struct bpf_object *obj)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, obj) {
		err = bpf_program__set_expected_attach_type(prog, XFSM_PROGS_ATTACH_TYPE);
		if (err)
			return err;
	}
	return 0;
}

int xfsm_obj_load(struct bpf_object *obj)
{
	int err = xfsm_obj_prepare(obj);

	return err ? err : bpf_object__load(obj);
}

bool xfsm_map_is_flow_table(const char *name)
{
	return xfsm_flow_table_class_of_map_name(name) != NULL;
}

/* Set map `name`'s entries when n is given (0: as built). */
static int set_entries(struct bpf_object *obj, const char *name, __u64 n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m && n ? bpf_map__set_max_entries(m, n) : 0;
}

/* Is `n` entries of `what` within `max`?  Else -E2BIG, said. */
static int size_within(const char *what, __u64 n, __u64 max)
{
	if (n <= max)
		return 0;
	xfsm_log(XFSM_LOG_ERROR, "%s: %llu entries is more than the %llu a datapath may have",
		 what, (unsigned long long)n, (unsigned long long)max);
	return -E2BIG;
}

/* The entries sz gives flow table c (0: as built). */
static __u64 flow_table_entries(const struct xfsm_map_sizes *sz,
				const struct xfsm_flow_table_class *c)
{
	__u64 n = sz->flows_per_table[c - xfsm_flow_table_classes];

	return n ? n : sz->flows;
}

/* Sizes a loader may choose (struct xfsm_map_sizes): checked whole before
 * any map is resized. */
static int map_sizes_check(const struct xfsm_map_sizes *sz)
{
	const __u64 rules_max = (__u64)XFSM_APP_SLOTS * XFSM_MAX_RULES;
	const struct xfsm_flow_table_class *c;
	char what[64];
	unsigned int t;
	int err;

	if (sz->flow_type && sz->flow_type != BPF_MAP_TYPE_HASH &&
	    sz->flow_type != BPF_MAP_TYPE_LRU_HASH) {
		xfsm_log(XFSM_LOG_ERROR, "flow table type %u is neither a hash nor an LRU hash",
			 sz->flow_type);
		return -EINVAL;
	}
	xfsm_for_each_flow_table(c) {
		snprintf(what, sizeof(what), "the %s flow table (%s)", c->what,
			 xfsm_map_names[c->id]);
		err = size_within(what, flow_table_entries(sz, c), XFSM_MAX_FLOWS);
		if (err)
			return err;
	}
	if ((err = size_within("rule table (both application slots)", sz->rules, rules_max)) ||
	    (err = size_within("rule statistics (both application slots)", sz->rule_stats,
			       rules_max)))
		return err;
	for (t = 0; sz->acl && t < XFSM_ACL_TABLES; t++) {
		snprintf(what, sizeof(what), "ACL table %u's rules", t);
		err = size_within(what, sz->acl->rules[t], XFSM_ACL_MAX_RULES);
		if (err)
			return err;
		snprintf(what, sizeof(what), "ACL table %u's nodes", t);
		err = size_within(what, sz->acl->nodes[t], XFSM_ACL_MAX_NODES);
		if (err)
			return err;
	}
	return 0;
}

int xfsm_obj_size_maps(struct bpf_object *obj, const struct xfsm_map_sizes *sz)
{
	const struct xfsm_flow_table_class *c;
	struct bpf_map *m;
	__u64 nr, nn, n;
	int err = map_sizes_check(sz);

	if (err)
		return err;
	/* The object's own flow tables: a size for one it lacks is unused. */
	bpf_object__for_each_map(m, obj) {
		c = xfsm_flow_table_class_of_map_name(bpf_map__name(m));
		if (!c)
			continue;
		n = flow_table_entries(sz, c);
		if (n && (err = bpf_map__set_max_entries(m, n)))
			return err;
		/* The offload profile only has plain hash tables. */
		if (sz->flow_type && bpf_map__type(m) != BPF_MAP_TYPE_HASH &&
		    (err = bpf_map__set_type(m, sz->flow_type)))
			return err;
	}
	if (sz->acl) {
		xfsm_acl_caps_totals(sz->acl, &nr, &nn);
		err = set_entries(obj, XFSM_MAP_ACL_RULES, nr ? nr : 1);
		if (!err)
			err = set_entries(obj, XFSM_MAP_ACL_NODES, nn ? nn : 1);
	}
	if (!err)
		err = set_entries(obj, XFSM_MAP_RULES, sz->rules);
	if (!err)
		err = set_entries(obj, XFSM_MAP_RULE_STATS, sz->rule_stats);
	if (!err && sz->rule_stats)
		err = set_entries(obj, XFSM_MAP_CG_FOLD, XFSM_CG_FOLD_ENTRIES(sz->rule_stats));
	return err;
}

int xfsm_progs_accepts(int map_fd)
{
	/* r1, the context, is what bpf_tail_call() takes first. */
	struct bpf_insn caller[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = XFSM_PROGS_ATTACH_TYPE);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xfsm_progs_chk", "GPL", caller,
			       sizeof(caller) / sizeof(caller[0]), &o);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
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

/* ---- Loads interrupted between attaching and pinning ------------------------ */

int xfsm_pin_get(const char *pin_dir, bool staged, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (staged) {
		snprintf(path, sizeof(path), "%s/%s" XFSM_PIN_STAGED, pin_dir, name);
		fd = bpf_obj_get(path);
		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : -errno;
	}
	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd >= 0 ? fd : -errno;
}

int xfsm_pin_netns(const char *pin_dir, bool staged, struct xfsm_netns *ns)
{
	int fd = xfsm_pin_get(pin_dir, staged, XFSM_PIN_NETNS), err;

	if (fd < 0)
		return fd;
	err = xfsm_netns_rec_read(fd, ns);
	close(fd);
	return err;
}

/* Whether an interface of the port table runs prog_id, or a copy of it
 * (a libxdp dispatcher component shares the loaded program's .rodata). */
static bool ports_run(int ports_fd, __u32 prog_id, __u32 rodata_id)
{
	__u32 key, next, *prev = NULL, ids[8];
	int i, n;

	while (!bpf_map_get_next_key(ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		n = xfsm_xdp_xfsm_progs(key, ids, 8);
		for (i = 0; i < n; i++)
			if (ids[i] == prog_id ||
			    (rodata_id && xfsm_prog_map_id(ids[i], ".rodata", true) == rodata_id))
				return true;
	}
	return false;
}

int xfsm_pin_staged(const char *pin_dir)
{
	struct xfsm_netns ns;
	char path[PATH_MAX];
	__u32 prog_id, rodata_id;
	int prog_fd, ports_fd, back = -1, err;
	bool runs;

	snprintf(path, sizeof(path), "%s/" XFSM_PIN_PROG XFSM_PIN_STAGED, pin_dir);
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	prog_id = xfsm_fd_id(prog_fd);
	close(prog_fd);
	rodata_id = xfsm_prog_map_id(prog_id, ".rodata", true);
	ports_fd = xfsm_pin_get(pin_dir, true, XFSM_MAP_PORTS);
	if (ports_fd < 0)
		return ports_fd == -ENOENT ? 0 : ports_fd;
	err = xfsm_pin_netns(pin_dir, true, &ns);
	if (!err)
		err = xfsm_netns_enter(&ns, &back);
	else if (err == -ENOENT)
		err = 0;	/* no record: an older loader, this namespace */
	if (err) {
		close(ports_fd);
		return err;
	}
	runs = ports_run(ports_fd, prog_id, rodata_id);
	xfsm_netns_leave(back);
	close(ports_fd);
	return runs;
}

#define MAX_STAGED	64	/* an instance pins about 30 objects */

/* Call fn on every staged pin of pin_dir but prog's, then on prog's.  The
 * names are read first: renaming entries of a directory while reading it
 * may skip some. */
static int for_each_staged(const char *pin_dir, int (*fn)(const char *dir, const char *name))
{
	char (*names)[NAME_MAX + 1], prog[NAME_MAX + 1];
	struct dirent *de;
	int err = 0, n = 0, i;
	DIR *d;

	names = calloc(MAX_STAGED, sizeof(*names));
	if (!names)
		return -ENOMEM;
	snprintf(prog, sizeof(prog), XFSM_PIN_PROG XFSM_PIN_STAGED);
	d = opendir(pin_dir);
	while (d && (de = readdir(d))) {
		if (!has_suffix(de->d_name, XFSM_PIN_STAGED) || !strcmp(de->d_name, prog))
			continue;
		if (n == MAX_STAGED) {
			err = -E2BIG;
			break;
		}
		memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	if (d)
		closedir(d);
	else if (errno != ENOENT)
		err = -errno;
	for (i = 0; i < n && !err; i++)
		err = fn(pin_dir, names[i]);
	free(names);
	/* prog last, and only when the rest went: while prog-new is there,
	 * the reading rule still holds. */
	return err ? err : fn(pin_dir, prog);
}

bool xfsm_pin_interrupted(const char *pin_dir)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = opendir(pin_dir);
	while (d && !found && (de = readdir(d)))
		found = has_suffix(de->d_name, XFSM_PIN_STAGED);
	if (d)
		closedir(d);
	return found;
}

static int promote_one(const char *dir, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", dir, name);
	snprintf(to, sizeof(to), "%s/%.*s", dir,
		 (int)(strlen(name) - strlen(XFSM_PIN_STAGED)), name);
	if (rename(from, to) && errno != ENOENT)
		return -errno;
	return 0;
}

static int discard_one(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int xfsm_pin_commit(const char *pin_dir)
{
	return for_each_staged(pin_dir, promote_one);
}

int xfsm_pin_discard(const char *pin_dir)
{
	return for_each_staged(pin_dir, discard_one);
}

int xfsm_pin_recover(const char *pin_dir)
{
	int staged, err;

	/* Only ever in an xfsm pin directory: a foreign pin named like a
	 * staged one is not ours to discard, and a load, which settles
	 * first, must not pin an instance beside foreign objects. */
	err = xfsm_pin_dir_check(pin_dir, NULL);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (!xfsm_pin_interrupted(pin_dir))
		return 0;
	staged = xfsm_pin_staged(pin_dir);
	if (staged < 0) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s holds the pins of an interrupted load, and whether that load "
			 "took effect cannot be told: %s", pin_dir, strerror(-staged));
		return staged;
	}
	err = staged ? xfsm_pin_commit(pin_dir) : xfsm_pin_discard(pin_dir);
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "%s: cannot %s the pins of an interrupted load: %s",
			 pin_dir, staged ? "complete" : "discard", strerror(-err));
	else
		xfsm_log(XFSM_LOG_INFO, "%s: %s the pins of an interrupted load", pin_dir,
			 staged ? "completed (its program runs)" :
			 "discarded (its program never ran)");
	return err;
}
