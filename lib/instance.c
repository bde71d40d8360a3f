/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Opening an xfsm instance: the set of datapath maps, found in a pin
 * directory, in a loaded BPF object, or through an attached program.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "apply_internal.h"
#include "xfsm_attach.h"

const char *const xfsm_map_names[XFSM_M__MAX] = {
	[XFSM_M_CTL]		= XFSM_MAP_CTL,
	[XFSM_M_APPS]		= XFSM_MAP_APPS,
	[XFSM_M_RULES]		= XFSM_MAP_RULES,
	[XFSM_M_FLOWS]		= XFSM_MAP_FLOWS,
	[XFSM_M_GLOBALS]	= XFSM_MAP_GLOBALS,
	[XFSM_M_STATS]		= XFSM_MAP_STATS,
	[XFSM_M_STAGE_STATS]	= XFSM_MAP_STAGE_STATS,
	[XFSM_M_RULE_STATS]	= XFSM_MAP_RULE_STATS,
	[XFSM_M_COUNTERS]	= XFSM_MAP_COUNTERS,
	[XFSM_M_PORTS]		= XFSM_MAP_PORTS,
	[XFSM_M_TX_PORTS]	= XFSM_MAP_TX_PORTS,
	[XFSM_M_APPSRC]		= XFSM_MAP_APPSRC,
	[XFSM_M_LOCKS]		= XFSM_MAP_LOCKS,
	[XFSM_M_IDS]		= XFSM_MAP_IDS,
	[XFSM_M_ACL_CTL]	= XFSM_MAP_ACL_CTL,
	[XFSM_M_ACL_SETS]	= XFSM_MAP_ACL_SETS,
	[XFSM_M_ACL_RULES]	= XFSM_MAP_ACL_RULES,
	[XFSM_M_ACL_STATS]	= XFSM_MAP_ACL_STATS,
	[XFSM_M_GROUPS]		= XFSM_MAP_GROUPS,
	[XFSM_M_GROUP_STATS]	= XFSM_MAP_GROUP_STATS,
	[XFSM_M_GROUP_RR]	= XFSM_MAP_GROUP_RR,
	[XFSM_M_GROUP_FLOWS]	= XFSM_MAP_GROUP_FLOWS,
	[XFSM_M_PORT_FLAGS]	= XFSM_MAP_PORT_FLAGS,
	[XFSM_M_XSKS]		= XFSM_MAP_XSKS,
	[XFSM_M_STAGE_BASE]	= XFSM_MAP_STAGE_BASE,
	[XFSM_M_PORT_GEN]	= XFSM_MAP_PORT_GEN,
	[XFSM_M_ACL_NODES]	= XFSM_MAP_ACL_NODES,
	[XFSM_M_OBS_CFG]	= XFSM_MAP_OBS_CFG,
	[XFSM_M_TRACE]		= XFSM_MAP_TRACE,
	[XFSM_M_EVENTS]		= XFSM_MAP_EVENTS,
	[XFSM_M_PROGS]		= XFSM_MAP_PROGS,
	[XFSM_M_WORK]		= XFSM_MAP_WORK,
	[XFSM_M_FLOWS_N]	= XFSM_MAP_FLOWS_N,
	[XFSM_M_FLOWS_M]	= XFSM_MAP_FLOWS_M,
	[XFSM_M_CG_BASE]	= XFSM_MAP_CG_BASE,
	[XFSM_M_CG_FOLD]	= XFSM_MAP_CG_FOLD,
};

/* ---- Instance names ----------------------------------------------------------- */

static bool name_char_ok(char c)
{
	return c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* name, quoted for a message: unprintable bytes as \xNN, cut when long. */
static const char *name_quoted(const char *name, char *buf, size_t len)
{
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p && o + 8 < len; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			buf[o++] = *p;
		else
			o += snprintf(buf + o, len - o, "\\x%02x", *p);
	}
	if (*p)
		o += snprintf(buf + o, len - o, "...");
	buf[o < len ? o : len - 1] = '\0';
	return buf;
}

int xfsm_instance_name_check(const char *name)
{
	char q[96];
	size_t i, n;

	if (!name || !*name) {
		xfsm_log(XFSM_LOG_ERROR, "invalid instance name: it is empty");
		return -EINVAL;
	}
	n = strlen(name);
	for (i = 0; i < n && name_char_ok(name[i]); i++)
		;
	if (i < n) {
		char c[8];

		if ((unsigned char)name[i] >= 0x20 && (unsigned char)name[i] < 0x7f)
			snprintf(c, sizeof(c), "'%c'", name[i]);
		else
			snprintf(c, sizeof(c), "\\x%02x", (unsigned char)name[i]);
		xfsm_log(XFSM_LOG_ERROR,
			 "invalid instance name '%s': %s at position %zu is not allowed "
			 "(use letters, digits, '-', '_' and '.')",
			 name_quoted(name, q, sizeof(q)), c, i + 1);
		return -EINVAL;
	}
	if (name[0] == '.') {
		xfsm_log(XFSM_LOG_ERROR,
			 "invalid instance name '%s': it must not start with '.'",
			 name_quoted(name, q, sizeof(q)));
		return -EINVAL;
	}
	if (n > XFSM_INSTANCE_NAME_MAX) {
		xfsm_log(XFSM_LOG_ERROR,
			 "invalid instance name '%s': %zu characters, at most %d",
			 name_quoted(name, q, sizeof(q)), n, XFSM_INSTANCE_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

static bool map_optional(int id)
{
	return id == XFSM_M_TX_PORTS || id == XFSM_M_LOCKS || id == XFSM_M_STAGE_STATS ||
	       id >= XFSM_M_ACL_CTL;
}

static struct xfsm_instance *instance_new(const char *name)
{
	struct xfsm_instance *inst = calloc(1, sizeof(*inst));
	int i;

	if (!inst)
		return NULL;
	for (i = 0; i < XFSM_M__MAX; i++)
		inst->map_fd[i] = -1;
	snprintf(inst->name, sizeof(inst->name), "%s", name);
	return inst;
}

void xfsm_instance_close(struct xfsm_instance *inst)
{
	int i;

	if (!inst)
		return;
	if (inst->owns_fds)
		for (i = 0; i < XFSM_M__MAX; i++)
			if (inst->map_fd[i] >= 0)
				close(inst->map_fd[i]);
	xfsm_flow_states_free(inst->flow_states);
	xfsm_cg_cache_free(inst->cg_cache);
	free(inst);
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Fill the per-map facts and the derived fields once every fd is known. */
static int instance_finish(struct xfsm_instance *inst)
{
	struct bpf_map_info info;
	int i, err;

	for (i = 0; i < XFSM_M__MAX; i++) {
		if (inst->map_fd[i] < 0) {
			if (map_optional(i))
				continue;
			xfsm_log(XFSM_LOG_ERROR, "instance %s has no map %s",
				 inst->name, xfsm_map_names[i]);
			return -ENOENT;
		}
		err = map_info(inst->map_fd[i], &info);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "map %s: cannot read its info: %s",
				 xfsm_map_names[i], strerror(-err));
			return err;
		}
		inst->map_id[i] = info.id;
		inst->map_type[i] = info.type;
		inst->map_max_entries[i] = info.max_entries;
		inst->map_key_size[i] = info.key_size;
		inst->map_value_size[i] = info.value_size;
		inst->map_flags[i] = info.map_flags;
	}
	inst->percpu_stats = inst->map_type[XFSM_M_STATS] == BPF_MAP_TYPE_PERCPU_ARRAY;
	err = libbpf_num_possible_cpus();
	if (err < 0)
		return err;
	inst->nr_cpus = err;
	inst->max_rules = inst->map_max_entries[XFSM_M_RULE_STATS] / XFSM_APP_SLOTS;
	return 0;
}

/*
 * The build info is the datapath's .rodata global xfsm_build_info.  Its
 * offset comes from the map's BTF (a DATASEC).  `strict` requires the
 * variable to be found there (-ENOENT otherwise: another read-only section,
 * such as .rodata.str1.1); without strict, a map without BTF is read at
 * offset 0, the datapath's only .rodata variable.
 */
static int rodata_read_build_info(int fd, bool strict, struct xfsm_build_info *out)
{
	const struct btf_var_secinfo *vs;
	struct bpf_map_info info;
	__u32 zero = 0;
	const struct btf_type *t;
	struct btf *btf = NULL;
	bool found = false;
	void *buf = NULL;
	long off = 0;
	int err, i;

	err = map_info(fd, &info);
	if (err)
		return err;
	if (info.value_size < sizeof(*out) || info.max_entries < 1)
		return -ENOENT;
	if (info.btf_id && info.btf_value_type_id) {
		btf = btf__load_from_kernel_by_id(info.btf_id);
		t = btf ? btf__type_by_id(btf, info.btf_value_type_id) : NULL;
		if (t && btf_is_datasec(t)) {
			vs = btf_var_secinfos(t);
			for (i = 0; i < btf_vlen(t); i++, vs++) {
				const struct btf_type *v = btf__type_by_id(btf, vs->type);

				if (v && !strcmp(btf__name_by_offset(btf, v->name_off),
						 XFSM_BUILD_INFO_SYM)) {
					off = vs->offset;
					found = true;
					break;
				}
			}
		}
	}
	if ((strict || btf) && !found) {
		err = -ENOENT;
		goto out;
	}
	if (off + sizeof(*out) > info.value_size) {
		err = -EPROTO;
		goto out;
	}
	buf = calloc(1, info.value_size);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	err = bpf_map_lookup_elem(fd, &zero, buf);
	if (err)
		goto out;
	memcpy(out, (char *)buf + off, sizeof(*out));
out:
	free(buf);
	btf__free(btf);
	return err;
}

static bool name_is_rodata(const char *name)
{
	return strstr(name, ".rodata") != NULL;
}

/* Read the build info from the read-only maps among `fds`. */
static int build_info_from_fds(const int *fds, int n, struct xfsm_build_info *out)
{
	int i, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			if (fds[i] >= 0 && !rodata_read_build_info(fds[i], pass == 0, out))
				return 0;
	return -ENOENT;
}

/* The program's map ids; *ids is allocated. */
static int prog_map_ids(int prog_fd, __u32 **ids, __u32 *n, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info), cnt;
	int err;

	*ids = NULL;
	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(prog_fd, info, &len);
	if (err)
		return err;
	cnt = info->nr_map_ids;
	*ids = calloc(cnt ? cnt : 1, sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	memset(info, 0, sizeof(*info));
	info->nr_map_ids = cnt;
	info->map_ids = (__u64)(unsigned long)*ids;
	len = sizeof(*info);
	err = bpf_obj_get_info_by_fd(prog_fd, info, &len);
	if (err) {
		free(*ids);
		*ids = NULL;
		return err;
	}
	*n = info->nr_map_ids < cnt ? info->nr_map_ids : cnt;
	return 0;
}

/* A .rodata the program's code does not read is not bound to it: find it
 * among the maps created with the program's BTF. */
static int build_info_by_btf(__u32 btf_id, struct xfsm_build_info *out)
{
	struct bpf_map_info minfo;
	__u32 id = 0;
	int fd, err = -ENOENT;

	while (err && !bpf_map_get_next_id(id, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!map_info(fd, &minfo) && minfo.btf_id == btf_id &&
		    name_is_rodata(minfo.name))
			err = build_info_from_fds(&fd, 1, out);
		close(fd);
	}
	return err;
}

/* Build info of a program: from its read-only maps. */
static int prog_build_info(int prog_fd, __u32 want_map_id, bool *has_map,
			   struct xfsm_build_info *out)
{
	struct bpf_prog_info info;
	struct bpf_map_info minfo;
	__u32 *ids, n = 0, i;
	int *fds = NULL, nfds = 0, err, fd;

	*has_map = false;
	err = prog_map_ids(prog_fd, &ids, &n, &info);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (!want_map_id || ids[i] == want_map_id)
			*has_map = true;
	err = -ENOENT;
	if (!*has_map)
		goto out;
	fds = calloc(n ? n : 1, sizeof(*fds));
	if (!fds) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (!map_info(fd, &minfo) && name_is_rodata(minfo.name))
			fds[nfds++] = fd;
		else
			close(fd);
	}
	err = build_info_from_fds(fds, nfds, out);
	while (nfds--)
		close(fds[nfds]);
	if (err && info.btf_id)
		err = build_info_by_btf(info.btf_id, out);
out:
	free(fds);
	free(ids);
	return err;
}

/* Without a pinned .rodata: find a loaded program that uses our control
 * map and read its .rodata. */
static int build_info_by_ctl_map(__u32 ctl_map_id, struct xfsm_build_info *out)
{
	__u32 id = 0;
	bool has;
	int fd, r;

	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		r = prog_build_info(fd, ctl_map_id, &has, out);
		close(fd);
		if (has)
			return r;
	}
	return -ENOENT;
}

static void instance_set_build_info(struct xfsm_instance *inst, int err)
{
	if (!err)
		return;
	memset(&inst->build, 0, sizeof(inst->build));
	xfsm_log(XFSM_LOG_DEBUG, "instance %s: cannot read the build info: %s",
		 inst->name, strerror(-err));
}

/* What a permission error means for the tools. */
#define PRIVILEGE_HINT	"xfsm needs root, or the capabilities CAP_BPF and CAP_NET_ADMIN " \
			"(and search permission on the pin directories); run it with sudo"

int xfsm_instance_open_pin_dir(const char *pin_dir, struct xfsm_instance **out)
{
	struct xfsm_instance *inst;
	char path[PATH_MAX];
	const char *base;
	bool staged;
	int i, err, fd;

	*out = NULL;
	if (!pin_dir || !*pin_dir)
		return -EINVAL;
	/* A cut path would name another directory. */
	if (strlen(pin_dir) >= sizeof(inst->pin_dir)) {
		xfsm_log(XFSM_LOG_ERROR, "pin directory path is longer than %zu bytes: %.40s...",
			 sizeof(inst->pin_dir) - 1, pin_dir);
		return -ENAMETOOLONG;
	}
	if (access(pin_dir, F_OK)) {
		err = -errno;
		if (err == -EACCES || err == -EPERM)
			xfsm_log(XFSM_LOG_ERROR,
				 "cannot open the xfsm instance at %s: %s; %s",
				 pin_dir, strerror(-err), PRIVILEGE_HINT);
		else
			xfsm_log(XFSM_LOG_ERROR,
				 "no xfsm datapath pinned at %s: %s (is the datapath loaded? "
				 "see xfsm-loader load)",
				 pin_dir, strerror(-err));
		return err;
	}
	base = strrchr(pin_dir, '/');
	base = base && base[1] ? base + 1 : pin_dir;
	inst = instance_new(base);
	if (!inst)
		return -ENOMEM;
	inst->owns_fds = true;
	snprintf(inst->pin_dir, sizeof(inst->pin_dir), "%s", pin_dir);
	/* A load killed between attaching and pinning: its pins are the
	 * instance's when its program runs (lib/pin.c). */
	staged = xfsm_pin_staged(pin_dir) > 0;

	for (i = 0; i < XFSM_M__MAX; i++) {
		fd = xfsm_pin_get(pin_dir, staged, xfsm_map_names[i]);
		if (fd < 0) {
			if (fd == -ENOENT && map_optional(i))
				continue;
			err = fd;
			snprintf(path, sizeof(path), "%s/%s", pin_dir, xfsm_map_names[i]);
			xfsm_log(XFSM_LOG_ERROR, "cannot open pinned map %s: %s%s%s",
				 path, strerror(-err),
				 err == -EPERM || err == -EACCES ? "; " : "",
				 err == -EPERM || err == -EACCES ? PRIVILEGE_HINT : "");
			goto err;
		}
		inst->map_fd[i] = fd;
	}
	err = instance_finish(inst);
	if (err)
		goto err;
	inst->netns_known = !xfsm_pin_netns(pin_dir, staged, &inst->netns);

	fd = xfsm_pin_get(pin_dir, staged, XFSM_PIN_RODATA);
	if (fd >= 0) {
		err = build_info_from_fds(&fd, 1, &inst->build);
		close(fd);
	} else {
		err = build_info_by_ctl_map(inst->map_id[XFSM_M_CTL], &inst->build);
	}
	instance_set_build_info(inst, err);
	*out = inst;
	return 0;
err:
	xfsm_instance_close(inst);
	return err;
}

int xfsm_instance_open(const char *name, struct xfsm_instance **out)
{
	char dir[PATH_MAX];
	int err;

	*out = NULL;
	if (!name)
		name = XFSM_DEFAULT_INSTANCE;
	err = xfsm_pin_dir_of(name, dir, sizeof(dir));
	if (err)
		return err;
	if (access(dir, F_OK)) {
		err = -errno;
		if (err == -ENOENT)
			xfsm_log(XFSM_LOG_ERROR,
				 "unknown instance '%s': %s does not exist "
				 "(see 'xfsm-loader status' for the loaded instances)", name, dir);
		else
			xfsm_log(XFSM_LOG_ERROR, "cannot open instance '%s' (%s): %s%s%s",
				 name, dir, strerror(-err),
				 err == -EACCES || err == -EPERM ? "; " : "",
				 err == -EACCES || err == -EPERM ? PRIVILEGE_HINT : "");
		return err;
	}
	err = xfsm_instance_open_pin_dir(dir, out);
	if (!err)
		snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return err;
}

int xfsm_instance_netns_enter(const struct xfsm_instance *inst, int *back)
{
	char buf[128];
	int err;

	*back = -1;
	if (!inst->netns_known)
		return 0;
	err = xfsm_netns_enter(&inst->netns, back);
	if (err == -ENOENT)
		xfsm_log(XFSM_LOG_ERROR,
			 "the ports of instance '%s' are interfaces of network namespace %s, "
			 "which cannot be found (not under /run/netns, and no process is in it): "
			 "it no longer exists, or run this from inside it",
			 inst->name, xfsm_netns_str(&inst->netns, buf, sizeof(buf)));
	else if (err)
		xfsm_log(XFSM_LOG_ERROR,
			 "the ports of instance '%s' are interfaces of network namespace %s, "
			 "which this process cannot enter: %s%s", inst->name,
			 xfsm_netns_str(&inst->netns, buf, sizeof(buf)), strerror(-err),
			 err == -EPERM ? " (entering it needs CAP_SYS_ADMIN; run it with sudo, "
			 "or from inside that namespace)" : "");
	return err;
}

int xfsm_instance_open_obj(struct bpf_object *obj, struct xfsm_instance **out)
{
	struct xfsm_instance *inst;
	int i, err, ro_fds[8], n_ro = 0;
	struct bpf_map *map;

	*out = NULL;
	if (!obj)
		return -EINVAL;
	inst = instance_new(bpf_object__name(obj));
	if (!inst)
		return -ENOMEM;
	for (i = 0; i < XFSM_M__MAX; i++) {
		map = bpf_object__find_map_by_name(obj, xfsm_map_names[i]);
		if (map)
			inst->map_fd[i] = bpf_map__fd(map);
		if (inst->map_fd[i] < 0 && !map_optional(i)) {
			xfsm_log(XFSM_LOG_ERROR, "BPF object %s has no %s map%s",
				 bpf_object__name(obj), xfsm_map_names[i],
				 map ? " loaded" : "");
			err = -ENOENT;
			goto err;
		}
		if (inst->map_fd[i] < 0)
			inst->map_fd[i] = -1;
	}
	err = instance_finish(inst);
	if (err)
		goto err;
	bpf_object__for_each_map(map, obj) {
		if (n_ro < 8 && name_is_rodata(bpf_map__name(map)) && bpf_map__fd(map) >= 0)
			ro_fds[n_ro++] = bpf_map__fd(map);
	}
	err = build_info_from_fds(ro_fds, n_ro, &inst->build);
	instance_set_build_info(inst, err);
	*out = inst;
	return 0;
err:
	xfsm_instance_close(inst);
	return err;
}

static int map_slot_by_name(const struct xfsm_instance *inst, const char *name)
{
	int j;

	for (j = 0; j < XFSM_M__MAX; j++)
		if (inst->map_fd[j] < 0 && !strncmp(name, xfsm_map_names[j], BPF_OBJ_NAME_LEN))
			return j;
	return -1;
}

/*
 * Maps the program's code never touches (xfsm_appsrc) are not bound to
 * it.  Every map of one BPF object carries the object's BTF, so the
 * missing ones are the maps of that name with the program's BTF id.
 */
static void find_unbound_maps(struct xfsm_instance *inst, __u32 btf_id)
{
	struct bpf_map_info minfo;
	__u32 id = 0;
	int fd, j, missing = 0;

	for (j = 0; j < XFSM_M__MAX; j++)
		missing += inst->map_fd[j] < 0;
	while (missing && !bpf_map_get_next_id(id, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		j = -1;
		if (!map_info(fd, &minfo) && minfo.btf_id == btf_id)
			j = map_slot_by_name(inst, minfo.name);
		if (j < 0) {
			close(fd);
			continue;
		}
		inst->map_fd[j] = fd;
		missing--;
	}
}

int xfsm_instance_open_prog_id(__u32 prog_id, struct xfsm_instance **out)
{
	struct xfsm_instance *inst = NULL;
	struct bpf_map_info minfo;
	struct bpf_prog_info info;
	int prog_fd, fd, err, j;
	__u32 *ids = NULL, n = 0, i;
	bool has;
	char name[32];

	*out = NULL;
	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0) {
		xfsm_log(XFSM_LOG_ERROR, "cannot open BPF program id %u: %s",
			 prog_id, strerror(-prog_fd));
		return prog_fd;
	}
	err = prog_map_ids(prog_fd, &ids, &n, &info);
	if (err)
		goto out;
	snprintf(name, sizeof(name), "prog%u", prog_id);
	inst = instance_new(name);
	if (!inst) {
		err = -ENOMEM;
		goto out;
	}
	inst->owns_fds = true;
	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (map_info(fd, &minfo)) {
			close(fd);
			continue;
		}
		j = map_slot_by_name(inst, minfo.name);
		if (j >= 0)
			inst->map_fd[j] = fd;
		else
			close(fd);
	}
	if (inst->map_fd[XFSM_M_CTL] >= 0 && info.btf_id)
		find_unbound_maps(inst, info.btf_id);
	if (inst->map_fd[XFSM_M_CTL] < 0) {
		xfsm_log(XFSM_LOG_ERROR, "BPF program id %u (%s) is not an xfsm datapath",
			 prog_id, info.name);
		err = -ENOENT;
		goto out;
	}
	err = instance_finish(inst);
	if (err)
		goto out;
	instance_set_build_info(inst, prog_build_info(prog_fd, 0, &has, &inst->build));
out:
	free(ids);
	close(prog_fd);
	if (err) {
		xfsm_instance_close(inst);
		return err;
	}
	*out = inst;
	return 0;
}

/* What each map's value must look like for this tool's ABI. */
static int expected_value_size(const struct xfsm_instance *inst, int id, __u32 *size)
{
	switch (id) {
	case XFSM_M_STATS:
		*size = xfsm_stats_in_block(inst) ? sizeof(struct xfsm_stats_block) :
						    sizeof(struct xfsm_stats);
		break;
	case XFSM_M_CTL:		*size = sizeof(struct xfsm_ctl); break;
	case XFSM_M_APPS:		*size = sizeof(struct xfsm_app); break;
	case XFSM_M_RULES:		*size = sizeof(struct xfsm_rule); break;
	case XFSM_M_FLOWS:
	case XFSM_M_FLOWS_N:
	case XFSM_M_FLOWS_M:
		/* one layout for the three, chosen at load (--flow-value) */
		*size = inst->build.compact_flows ? XFSM_FLOW_HEAD_SIZE : sizeof(struct xfsm_flow);
		break;
	case XFSM_M_GLOBALS:		*size = sizeof(struct xfsm_globals); break;
	case XFSM_M_APPSRC:		*size = sizeof(struct xfsm_appsrc); break;
	case XFSM_M_LOCKS:		*size = sizeof(struct xfsm_lock); break;
	case XFSM_M_STAGE_STATS:
	case XFSM_M_STAGE_BASE:		*size = sizeof(struct xfsm_stage_stats); break;
	case XFSM_M_RULE_STATS:		*size = sizeof(struct xfsm_rule_stats); break;
	case XFSM_M_COUNTERS:		*size = sizeof(struct xfsm_counter); break;
	case XFSM_M_IDS:		*size = XFSM_IDS_CHUNK; break;
	case XFSM_M_PORTS:		*size = sizeof(struct xfsm_port); break;
	case XFSM_M_OBS_CFG:		*size = sizeof(struct xfsm_obs_cfg); break;
	case XFSM_M_CG_BASE:		*size = sizeof(struct xfsm_count_group); break;
	case XFSM_M_CG_FOLD:		*size = sizeof(struct xfsm_cg_fold); break;
	default:
		return -ENOENT;
	}
	return 0;
}

static int expected_key_size(int id, __u32 *size)
{
	switch (id) {
	case XFSM_M_RULES:	*size = sizeof(struct xfsm_rule_key); break;
	case XFSM_M_FLOWS:	*size = sizeof(struct xfsm_flow_key); break;
	case XFSM_M_FLOWS_N:	*size = sizeof(struct xfsm_flow_key_n); break;
	case XFSM_M_FLOWS_M:	*size = sizeof(struct xfsm_flow_key_m); break;
	case XFSM_M_IDS:	*size = sizeof(struct xfsm_ids_key); break;
	case XFSM_M_CG_FOLD:	*size = sizeof(struct xfsm_cg_fold_key); break;
	default:
		return -ENOENT;
	}
	return 0;
}

int xfsm_instance_check_abi(const struct xfsm_instance *inst)
{
	__u32 want;
	int i;

	if (!inst)
		return -EINVAL;
	if (!inst->build.abi_version) {
		xfsm_log(XFSM_LOG_ERROR,
			 "cannot read the ABI version of instance %s (no .rodata%s%s%s); reload the datapath with a matching xfsm-loader",
			 inst->name, inst->pin_dir[0] ? " pinned as " : "",
			 inst->pin_dir[0] ? inst->pin_dir : "",
			 inst->pin_dir[0] ? "/" XFSM_PIN_RODATA : "");
		return -EPROTO;
	}
	if (inst->build.abi_version != XFSM_ABI_VERSION) {
		xfsm_log(XFSM_LOG_ERROR,
			 "datapath ABI version %u differs from this tool's ABI version %u; reload the datapath with a matching xfsm-loader or use matching tools",
			 inst->build.abi_version, XFSM_ABI_VERSION);
		return -EPROTO;
	}
	for (i = 0; i < XFSM_M__MAX; i++) {
		if (inst->map_fd[i] < 0)
			continue;
		if (!expected_value_size(inst, i, &want) && inst->map_value_size[i] != want) {
			xfsm_log(XFSM_LOG_ERROR,
				 "map %s has %u-byte values, this tool expects %u (ABI mismatch); reload the datapath with a matching xfsm-loader",
				 xfsm_map_names[i], inst->map_value_size[i], want);
			return -EPROTO;
		}
		if (!expected_key_size(i, &want) && inst->map_key_size[i] != want) {
			xfsm_log(XFSM_LOG_ERROR,
				 "map %s has %u-byte keys, this tool expects %u (ABI mismatch); reload the datapath with a matching xfsm-loader",
				 xfsm_map_names[i], inst->map_key_size[i], want);
			return -EPROTO;
		}
	}
	return 0;
}

/*
 * Every bpf map file is an anonymous inode, and they all share one inode:
 * a lock on a fresh file of the control map is seen by every xfsm tool on
 * the machine, whichever way each opened the instance (pins, object,
 * program id), and the kernel drops it when the holder exits.  An open
 * file description lock (F_OFD_SETLK, Linux 3.15) on the one byte at the
 * control map's id makes it the instance's own: two files of one process
 * conflict (as with flock), and an instance is never held up by another's
 * apply (a reader that ends a dead writer's odd spell needs its own
 * instance's lock free, not every instance's).  Never take it twice in
 * one thread.
 */
static int instance_lock_fd(const struct xfsm_instance *inst, bool wait)
{
	struct flock l = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_len = 1,
	};
	int fd;

	if (!inst || !inst->map_id[XFSM_M_CTL])
		return -1;
	fd = bpf_map_get_fd_by_id(inst->map_id[XFSM_M_CTL]);
	if (fd < 0) {
		xfsm_log(XFSM_LOG_DEBUG, "cannot open %s for locking: %s",
			 xfsm_map_names[XFSM_M_CTL], strerror(-fd));
		return -1;
	}
	l.l_start = inst->map_id[XFSM_M_CTL];
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &l)) {
		int e = errno;

		if (e == EINTR)
			continue;
		if (e == EACCES)
			e = EWOULDBLOCK;	/* POSIX allows either for a held lock */
		if (e != EWOULDBLOCK)
			xfsm_log(XFSM_LOG_DEBUG, "cannot lock %s: %s",
				 xfsm_map_names[XFSM_M_CTL], strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int xfsm_instance_lock(const struct xfsm_instance *inst)
{
	return instance_lock_fd(inst, true);
}

int xfsm_instance_trylock(const struct xfsm_instance *inst)
{
	return instance_lock_fd(inst, false);
}

void xfsm_instance_unlock(int lock)
{
	if (lock >= 0)
		close(lock);
}
