/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Loading the xfsm datapath into an instance (one set of pinned maps) and
 * attaching it to interfaces, all or nothing.
 *
 * Order of a load: resolve and check every interface, open the object and
 * reuse the instance's pinned maps (refusing any layout mismatch), load,
 * give new interfaces port numbers, attach everywhere (atomically replacing
 * a running xfsm), then pin.  A failure at any step undoes the earlier ones:
 * interfaces get back the program they had, new port entries are removed,
 * new pins are unlinked.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xfsm_acl.h"
#include "xfsm_attach.h"
#include "xfsm_plan.h"
#include "xfsm_features.h"
#include "xfsm_sim.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define MAX_OBJ_MAPS	32

struct iface {
	struct xfsm_link link;
	struct xfsm_xdp_state old;
	int	old_fd;			/* the program it ran, to restore */
	bool	listed;			/* named on the command line */
	bool	attached;		/* we changed what it runs */
	enum xfsm_xdp_mode mode;	/* mode we attached in */
	struct xdp_program *xp;		/* libxdp dispatcher component we added */
	struct bpf_object *copy;	/* the object xp was loaded from */
	__u32	retire_id;		/* old xfsm component, detached once
					 * the whole load has succeeded */
	__u32	port;
	bool	port_new;
};

struct load_ctx {
	const struct xfsm_load_opts *o;
	char	pin_dir[PATH_MAX - 64];
	const char *instance;
	bool	dir_created;
	bool	inst_exists;		/* an xfsm_ports pin was found */
	struct xfsm_owner inst_owner;	/* what its programs know it by */
	struct iface *ifs;
	int	n_ifs;
	struct bpf_object *obj;
	int	prog_fd;
	int	ports_fd, tx_fd, port_gen_fd;
	bool	reused[MAX_OBJ_MAPS];	/* by map index in the object */
	char	pinned[MAX_OBJ_MAPS][PATH_MAX];	/* new pins, to undo */
	int	n_pinned;
	bool	no_dispatcher;		/* libxdp's dispatcher is unusable */
	bool	quiet;			/* auto probing hw: errors are expected */
	bool	quiet_probe;		/* the last try_mode() was such a probe */
	struct xfsm_netns netns;	/* where the interfaces are */
	bool	netns_new;		/* the instance has no record of it yet */
	struct xfsm_acl_caps acl_caps;	/* ACL capacities of new maps */
	bool	acl_sized;		/* the user chose some */
	int	progs_fd;		/* xfsm_progs (native profile), -1 */
	__u32	old_generic_id;		/* what its generic entry held */
	bool	compact;		/* the flow value layout chosen (--flow-value) */
	char	obj_file[PATH_MAX];	/* the object opened */
};

int xfsm_check_privileges(const char *what)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool net_admin, bpf;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel decide */
#define HAS_CAP(c) (data[(c) / 32].effective & (1U << ((c) % 32)))
	net_admin = HAS_CAP(CAP_NET_ADMIN);
	bpf = HAS_CAP(CAP_BPF) || HAS_CAP(CAP_SYS_ADMIN);
#undef HAS_CAP
	if (net_admin && bpf)
		return 0;
	xfsm_log(XFSM_LOG_ERROR,
		 "%s needs root, or the capabilities CAP_BPF and CAP_NET_ADMIN "
		 "(missing:%s%s); run it with sudo", what,
		 bpf ? "" : " CAP_BPF", net_admin ? "" : " CAP_NET_ADMIN");
	return -EPERM;
}

/* libbpf's own error codes (LIBBPF_ERRNO__*, from 4000) are no errno:
 * strerror() calls them "Unknown error 4001". */
static const char *bpf_errstr(int err, char *buf, size_t len)
{
	if (libbpf_strerror(err, buf, len))
		snprintf(buf, len, "error %d", err);
	return buf;
}

/* ---- Finding the object --------------------------------------------------- */

#ifndef XFSM_LIBDIR
#define XFSM_LIBDIR "/usr/local/lib/xfsm"
#endif

static int find_object(const struct xfsm_load_opts *o, bool offload, bool compact,
		       bool quiet, char *buf, size_t len)
{
	const char *name = offload ? "xfsm-offload.bpf.o" :
			   compact ? XFSM_COMPACT_OBJ : "xfsm.bpf.o";
	char installed[PATH_MAX] = "";
	/* PREFIX/sbin/../lib/xfsm: an installed tree works wherever it was
	 * installed, whatever PREFIX the build was made with. */
	const char *dirs[5] = { getenv("XFSM_BPF_DIR"), o->exe_dir, installed,
				XFSM_LIBDIR, "/usr/lib/xfsm" };
	unsigned int i;

	if (o->exe_dir)
		snprintf(installed, sizeof(installed), "%s/../lib/xfsm", o->exe_dir);

	if (o->obj_path && !offload) {
		if (access(o->obj_path, R_OK)) {
			xfsm_log(XFSM_LOG_ERROR, "cannot read BPF object %s: %s",
				 o->obj_path, strerror(errno));
			return -ENOENT;
		}
		snprintf(buf, len, "%s", o->obj_path);
		return 0;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(buf, len, "%s/%s", dirs[i], name);
		if (!access(buf, R_OK))
			return 0;
	}
	if (!quiet)
		xfsm_log(XFSM_LOG_ERROR,
		 "cannot find %s (looked in $XFSM_BPF_DIR, %s and ../lib/xfsm beside it, "
		 XFSM_LIBDIR "); build it with make or give --obj PATH", name,
		 o->exe_dir ? o->exe_dir : "the executable's directory");
	return -ENOENT;
}

/* For tools other than the loader (xfsmctl simulate): the object beside
 * the running executable, or where an installed tree keeps it; `compact`
 * picks the build with compact flow values. */
int xfsm_datapath_object(bool compact, char *buf, size_t len)
{
	struct xfsm_load_opts o = { .flow_lru = -1 };
	char exe[PATH_MAX], dir[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", dirname(exe));
		o.exe_dir = dir;
	}
	return find_object(&o, false, compact, false, buf, len);
}

/* ---- Opening the object and reusing pinned maps ----------------------------- */

static bool is_xfsm_map(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map) &&
	       !strncmp(bpf_map__name(map), "xfsm_", 5);
}

static struct bpf_map *rodata_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);
		size_t l = strlen(n);

		if (bpf_map__is_internal(map) && l >= 7 && !strcmp(n + l - 7, ".rodata"))
			return map;
	}
	return NULL;
}

static const char *map_type_str(__u32 t)
{
	const char *s = libbpf_bpf_map_type_str(t);

	return s ? s : "?";
}

/* The ACL capacities the options ask for (defaults for tables not named). */
static void acl_caps_of(const struct xfsm_load_opts *o, struct xfsm_acl_caps *caps,
			bool *given)
{
	unsigned int t;

	xfsm_acl_caps_default(caps);
	*given = false;
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (o->acl_set[t] & 1) {
			caps->rules[t] = o->acl_rules[t];
			caps->nodes[t] = o->acl_rules[t] * XFSM_ACL_DEF_NODES_PER_RULE;
		}
		if (o->acl_set[t] & 2)
			caps->nodes[t] = o->acl_nodes[t];
		*given |= o->acl_set[t] != 0;
	}
}

/* Size the maps the user may choose, adopting the pinned sizes when the
 * user did not choose. */
static int size_maps(struct load_ctx *c)
{
	const struct xfsm_load_opts *o = c->o;
	struct xfsm_map_sizes sz = {
		.flows = o->flows,
		/* Both application slots share the rule and rule-stats maps. */
		.rules = (__u64)XFSM_APP_SLOTS * o->rules,	/* never wrapped */
		.rule_stats = (__u64)XFSM_APP_SLOTS * o->rules,
	};
	unsigned int t;

	for (t = 0; t < XFSM_FLOW_TABLE_CLASSES; t++)
		sz.flows_per_table[t] = o->flows_per_table[t];
	if (o->flow_lru >= 0)
		sz.flow_type = o->flow_lru ? BPF_MAP_TYPE_LRU_HASH : BPF_MAP_TYPE_HASH;
	acl_caps_of(o, &c->acl_caps, &c->acl_sized);
	if (c->acl_sized)
		sz.acl = &c->acl_caps;
	return xfsm_obj_size_maps(c->obj, &sz);
}

/* Does the pinned xfsm_acl_ctl hold these capacities? */
static bool acl_layout_same(int fd, const struct xfsm_acl_caps *caps)
{
	struct xfsm_acl_ctl ctl;
	__u32 t;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (bpf_map_lookup_elem(fd, &t, &ctl) || ctl.rule_cap != caps->rules[t] ||
		    ctl.node_cap != caps->nodes[t])
			return false;
	}
	return true;
}

static int reuse_pinned(struct load_ctx *c, struct bpf_map *map, int idx)
{
	const struct xfsm_load_opts *o = c->o;
	const char *name = bpf_map__name(map);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	__u32 kernel_flags;
	const struct xfsm_flow_table_class *flows;
	bool user_sized, acl_array, rules_sized;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	/* Sizes the user did not ask for follow the pinned map. */
	acl_array = !strcmp(name, XFSM_MAP_ACL_RULES) || !strcmp(name, XFSM_MAP_ACL_NODES);
	flows = xfsm_flow_table_class_of_map_name(name);
	rules_sized = !strcmp(name, XFSM_MAP_RULES) || !strcmp(name, XFSM_MAP_RULE_STATS) ||
		      !strcmp(name, XFSM_MAP_CG_FOLD);
	user_sized = (flows && (o->flows || o->flows_per_table[flows - xfsm_flow_table_classes])) ||
		     (rules_sized && o->rules) || (acl_array && c->acl_sized);
	if (!user_sized && (xfsm_map_is_flow_table(name) || rules_sized || acl_array))
		bpf_map__set_max_entries(map, info.max_entries);
	if (!strcmp(name, XFSM_MAP_ACL_CTL) && c->acl_sized &&
	    info.value_size == sizeof(struct xfsm_acl_ctl) && !acl_layout_same(fd, &c->acl_caps)) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance '%s' has other ACL capacities than --acl-rules/--acl-nodes ask "
			 "for (xfsmctl acl show tells them); they cannot change in place",
			 c->instance);
		err = -EPROTO;
		goto refuse;
	}
	if (xfsm_map_is_flow_table(name) && o->flow_lru < 0 &&
	    (info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_LRU_HASH))
		bpf_map__set_type(map, info.type);

	/* The kernel makes device maps read-only for programs itself. */
	kernel_flags = (info.type == BPF_MAP_TYPE_DEVMAP ||
			info.type == BPF_MAP_TYPE_DEVMAP_HASH) ? BPF_F_RDONLY_PROG : 0;
	err = -EPROTO;
	if (info.type != bpf_map__type(map))
		xfsm_log(XFSM_LOG_ERROR,
			 "pinned map %s is a %s, the datapath wants a %s%s",
			 path, map_type_str(info.type), map_type_str(bpf_map__type(map)),
			 xfsm_map_is_flow_table(name) ? " (see --flow-table)" : "");
	else if (info.key_size != bpf_map__key_size(map) ||
		 info.value_size != bpf_map__value_size(map))
		xfsm_log(XFSM_LOG_ERROR,
			 "pinned map %s has key/value sizes %u/%u, the datapath wants %u/%u "
			 "(%s)",
			 path, info.key_size, info.value_size,
			 bpf_map__key_size(map), bpf_map__value_size(map),
			 xfsm_map_is_flow_table(name) && info.key_size == bpf_map__key_size(map) ?
			 "another flow value layout: see --flow-value" : "another ABI version");
	else if (info.max_entries != bpf_map__max_entries(map))
		xfsm_log(XFSM_LOG_ERROR,
			 "pinned map %s has %u entries, this load asks for %u; "
			 "a map cannot be resized in place (leave out --flows/--rules/--acl-rules/"
			 "--acl-nodes to keep it)",
			 path, info.max_entries, bpf_map__max_entries(map));
	else if ((info.map_flags & ~kernel_flags) != (bpf_map__map_flags(map) & ~kernel_flags))
		xfsm_log(XFSM_LOG_ERROR,
			 "pinned map %s has flags 0x%x, the datapath wants 0x%x",
			 path, info.map_flags, bpf_map__map_flags(map));
	else
		err = 0;
	if (!err && !strcmp(name, XFSM_MAP_PROGS)) {
		/* An array whose first user was loaded otherwise than this
		 * datapath (by an xfsm from before XFSM_PROGS_ATTACH_TYPE)
		 * cannot take it on a kernel that checks: replace it.  Its
		 * specialized programs go with it; the generic datapath runs
		 * the same application, flows and registers stay. */
		err = xfsm_progs_accepts(fd);
		if (!err) {
			xfsm_log(XFSM_LOG_WARN,
				 "pinned %s holds programs of an older xfsm that this kernel keeps "
				 "apart from the new datapath (another expected attach type): "
				 "replacing it; the application runs on the generic datapath until "
				 "the next `xfsmctl apply`", path);
			goto out;
		}
		if (err < 0) {
			xfsm_log(XFSM_LOG_ERROR, "cannot check pinned %s: %s", path,
				 strerror(-err));
			goto out;
		}
		err = 0;
	}
refuse:
	if (err) {
		xfsm_log(XFSM_LOG_ERROR,
			 "refusing to reuse instance '%s': add --reset to recreate its maps "
			 "(flows, registers and the application are lost)", c->instance);
		goto out;
	}
	err = bpf_map__reuse_fd(map, fd);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot reuse pinned map %s: %s", path,
			 strerror(-err));
		goto out;
	}
	c->reused[idx] = true;
out:
	close(fd);
	return err;
}

static const char *flow_value_name(bool compact)
{
	return compact ? "compact" : "full";
}

/* The build of the instance pinned in c->pin_dir: 0, -ENOENT when there
 * is none, another -errno when it cannot be read. */
static int pinned_build_info(struct load_ctx *c, struct xfsm_build_info *bi)
{
	char rpath[PATH_MAX];
	int fd, err;

	snprintf(rpath, sizeof(rpath), "%s/%s", c->pin_dir, XFSM_PIN_RODATA);
	fd = bpf_obj_get(rpath);
	if (fd < 0)
		return -ENOENT;
	err = xfsm_rodata_build_info(fd, bi);
	close(fd);
	return err == -ENOENT ? -EIO : err;
}

/* Flows are held in the layout of the maps they were written to: none
 * can be carried into the other one. */
static int refuse_flow_value_change(struct load_ctx *c, bool pinned, bool wanted)
{
	xfsm_log(XFSM_LOG_ERROR,
		 "instance '%s' has %s flow values, this load asks for %s ones: flows "
		 "cannot be carried between the layouts; unload the instance first "
		 "(xfsm-loader unload --instance %s), or add --reset to recreate its maps "
		 "(flows, registers and the application are lost)",
		 c->instance, flow_value_name(pinned), flow_value_name(wanted), c->instance);
	return -EPROTO;
}

/*
 * The flow value layout of this load, which picks the object: --flow-value's,
 * else the pinned instance's (--reset too), else full.  check_abi() holds
 * the object opened to the pinned instance (--obj is taken for what its
 * build says it is) before anything changes.
 */
static int choose_flow_value(struct load_ctx *c, enum xfsm_xdp_mode mode)
{
	const struct xfsm_load_opts *o = c->o;
	struct xfsm_build_info pinned = {};
	bool have = pinned_build_info(c, &pinned) == 0 && !pinned.offload;

	if (o->flow_value == XFSM_FLOW_VALUE_KEEP)
		c->compact = have && pinned.compact_flows;
	else
		c->compact = o->flow_value == XFSM_FLOW_VALUE_COMPACT;
	if (c->compact && mode == XFSM_XDP_HW) {
		xfsm_log(XFSM_LOG_ERROR,
			 "the offload profile (--mode hw) has full flow values only; "
			 "load with --flow-value full%s",
			 have && pinned.compact_flows ? " (and --reset)" : "");
		return -EINVAL;
	}
	return 0;
}

static int check_abi(struct load_ctx *c, const char *path)
{
	struct xfsm_build_info bi = {}, pinned = {};
	char rpath[PATH_MAX];
	int fd, err;

	err = xfsm_obj_build_info(c->obj, &bi);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "%s is a BPF object, but not the xfsm datapath: "
			 "it has no %s (--obj takes xfsm.bpf.o)", path, XFSM_BUILD_INFO_SYM);
		return -EPROTO;
	}
	if (bi.abi_version != XFSM_ABI_VERSION) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s has ABI version %u, this xfsm-loader speaks %u: "
			 "install matching versions", path, bi.abi_version, XFSM_ABI_VERSION);
		return -EPROTO;
	}
	if (c->o->flow_value != XFSM_FLOW_VALUE_KEEP && !bi.offload &&
	    !!bi.compact_flows != c->compact) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s has %s flow values, --flow-value asks for %s ones "
			 "(leave out --obj, or give it %s)", path,
			 flow_value_name(bi.compact_flows), flow_value_name(c->compact),
			 c->compact ? XFSM_COMPACT_OBJ : "xfsm.bpf.o");
		return -EPROTO;
	}
	if (c->o->reset)
		return 0;
	snprintf(rpath, sizeof(rpath), "%s/%s", c->pin_dir, XFSM_PIN_RODATA);
	fd = bpf_obj_get(rpath);
	if (fd < 0)
		return 0;
	err = xfsm_rodata_build_info(fd, &pinned);
	close(fd);
	if (!err && pinned.abi_version == bi.abi_version && pinned.offload == bi.offload &&
	    pinned.compact_flows != bi.compact_flows)
		return refuse_flow_value_change(c, pinned.compact_flows, bi.compact_flows);
	if (err || pinned.abi_version != bi.abi_version ||
	    pinned.offload != bi.offload) {
		if (err)
			xfsm_log(XFSM_LOG_ERROR, "pinned %s is unreadable (%s)", rpath,
				 strerror(-err));
		else
			xfsm_log(XFSM_LOG_ERROR,
				 "instance '%s' was loaded with ABI version %u%s (%s), "
				 "the new datapath is ABI version %u%s",
				 c->instance, pinned.abi_version,
				 pinned.offload ? " offload" : "", rpath, bi.abi_version,
				 bi.offload ? " offload" : "");
		xfsm_log(XFSM_LOG_ERROR,
			 "refusing to reuse its maps: add --reset to recreate them "
			 "(flows, registers and the application are lost)");
		return -EPROTO;
	}
	return 0;
}

/* Why libbpf cannot open path, in words: a file that is not ELF at all is
 * the common case (a wrong --obj), and libbpf's own codes are no errno. */
static void explain_open_error(const char *path, int err)
{
	unsigned char magic[4] = "";
	char buf[128];
	FILE *f;

	f = fopen(path, "re");
	if (f) {
		if (fread(magic, 1, sizeof(magic), f) != sizeof(magic))
			memset(magic, 0, sizeof(magic));
		fclose(f);
	}
	if (f && memcmp(magic, "\177ELF", 4))
		xfsm_log(XFSM_LOG_ERROR,
			 "%s is not a BPF object (not an ELF file); --obj takes the xfsm "
			 "datapath, xfsm.bpf.o", path);
	else if (err == -LIBBPF_ERRNO__FORMAT || err == -LIBBPF_ERRNO__LIBELF)
		xfsm_log(XFSM_LOG_ERROR,
			 "%s is not a BPF object (%s: an ELF file of another kind?); --obj "
			 "takes the xfsm datapath, xfsm.bpf.o", path,
			 bpf_errstr(err, buf, sizeof(buf)));
	else
		xfsm_log(XFSM_LOG_ERROR, "cannot open BPF object %s: %s", path,
			 bpf_errstr(err, buf, sizeof(buf)));
}

static void close_obj(struct load_ctx *c)
{
	bpf_object__close(c->obj);
	c->obj = NULL;
	c->prog_fd = c->ports_fd = c->tx_fd = c->port_gen_fd = -1;
	memset(c->reused, 0, sizeof(c->reused));
}

static int open_obj(struct load_ctx *c, enum xfsm_xdp_mode mode)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct bpf_map *map;
	int err, idx = 0;

	err = find_object(c->o, mode == XFSM_XDP_HW, c->compact, c->quiet, path, sizeof(path));
	if (err)
		return err;
	snprintf(c->obj_file, sizeof(c->obj_file), "%s", path);
	c->obj = bpf_object__open_file(path, NULL);
	err = libbpf_get_error(c->obj);
	if (err) {
		c->obj = NULL;
		explain_open_error(path, err);
		return err == -LIBBPF_ERRNO__FORMAT || err == -LIBBPF_ERRNO__LIBELF ||
		       err <= -__LIBBPF_ERRNO__START ? -ENOEXEC : err;
	}
	err = check_abi(c, path);
	if (err)
		goto fail;
	prog = bpf_object__find_program_by_name(c->obj, XFSM_PROG_NAME);
	if (!prog) {
		xfsm_log(XFSM_LOG_ERROR, "%s is not the xfsm datapath: it has no program %s",
			 path, XFSM_PROG_NAME);
		err = -ENOENT;
		goto fail;
	}
	err = size_maps(c);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot size the maps of %s: %s", path, strerror(-err));
		goto fail;
	}
	bpf_object__for_each_map(map, c->obj) {
		if (mode == XFSM_XDP_HW)
			bpf_map__set_ifindex(map, c->ifs[0].link.ifindex);
		if (!is_xfsm_map(map) || c->o->reset) {
			idx++;
			continue;
		}
		err = reuse_pinned(c, map, idx++ % MAX_OBJ_MAPS);
		if (err)
			goto fail;
	}
	if (mode == XFSM_XDP_HW)
		bpf_program__set_ifindex(prog, c->ifs[0].link.ifindex);
	return 0;
fail:
	close_obj(c);
	return err;
}

/* The kernel refused the datapath: say which features it lacks, when the
 * probes find any, rather than leave the reader with an errno. */
static void explain_refusal(int err)
{
	struct xfsm_features ft;
	char missing[512], why[128];

	xfsm_features_probe(&ft);
	if (xfsm_features_missing(&ft, true, missing, sizeof(missing)))
		xfsm_log(XFSM_LOG_ERROR,
			 "the kernel refused the datapath (%s): this kernel (%s) lacks %s; "
			 "see xfsm-loader features", bpf_errstr(err, why, sizeof(why)),
			 ft.release, missing);
	else if (ft.state[XFSM_FEAT_LRU_HASH] == XFSM_FEAT_NO)
		xfsm_log(XFSM_LOG_ERROR,
			 "the kernel refused the datapath (%s): this kernel (%s) has no LRU "
			 "hash maps (Linux 4.10); load with --flow-table hash",
			 bpf_errstr(err, why, sizeof(why)), ft.release);
	else
		xfsm_log(XFSM_LOG_ERROR,
			 "the kernel refused the datapath: %s (it has every feature xfsm "
			 "probes for; run with -v for the verifier log)",
			 bpf_errstr(err, why, sizeof(why)));
}

/* Loaded: name what will not work on this kernel.  libxdp's dispatcher has
 * its own notice when it comes to attaching. */
static void warn_missing_optional(void)
{
	struct xfsm_features ft;
	int i;

	xfsm_features_probe(&ft);
	for (i = 0; i < XFSM_FEAT__MAX; i++) {
		const struct xfsm_feature_desc *d = xfsm_feature_desc(i);

		if (i == XFSM_FEAT_DISPATCHER || d->required || ft.state[i] != XFSM_FEAT_NO)
			continue;
		xfsm_log(XFSM_LOG_WARN, "this kernel (%s) lacks %s (Linux %s); unavailable: %s",
			 ft.release, d->what, d->since, d->loses);
	}
}

/* A new xfsm_acl_ctl map gets the tables' regions; a reused one keeps
 * what it holds (capacities cannot change in place). */
static int acl_layout_init(struct load_ctx *c)
{
	struct bpf_map *map;
	int idx = 0, err;

	bpf_object__for_each_map(map, c->obj) {
		if (strcmp(bpf_map__name(map), XFSM_MAP_ACL_CTL)) {
			idx++;
			continue;
		}
		if (c->reused[idx % MAX_OBJ_MAPS])
			return 0;
		err = xfsm_acl_caps_write_fd(bpf_map__fd(map), &c->acl_caps);
		if (err)
			xfsm_log(XFSM_LOG_ERROR, "cannot record the ACL tables' capacities: %s",
				 strerror(-err));
		return err;
	}
	return 0;	/* the offload profile has no ACL */
}

static int load_obj(struct load_ctx *c, enum xfsm_xdp_mode mode)
{
	struct bpf_map *m;
	int err;

	err = xfsm_obj_load(c->obj);
	if (err && c->quiet)
		return err;
	if (err) {
		char why[128];

		if (mode == XFSM_XDP_HW)
			xfsm_log(XFSM_LOG_ERROR,
				 "%s: cannot offload the datapath to this device (%s%s%s); "
				 "it has no XDP offload support: try --mode auto or --mode native",
				 c->ifs[0].link.name, bpf_errstr(err, why, sizeof(why)),
				 c->ifs[0].link.driver[0] ? ", driver " : "",
				 c->ifs[0].link.driver);
		else
			explain_refusal(err);
		return err;
	}
	warn_missing_optional();
	err = acl_layout_init(c);
	if (err)
		return err;
	c->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(c->obj,
								       XFSM_PROG_NAME));
	m = bpf_object__find_map_by_name(c->obj, XFSM_MAP_PORTS);
	c->ports_fd = m ? bpf_map__fd(m) : -1;
	m = bpf_object__find_map_by_name(c->obj, XFSM_MAP_TX_PORTS);
	c->tx_fd = m ? bpf_map__fd(m) : -1;
	m = bpf_object__find_map_by_name(c->obj, XFSM_MAP_PORT_GEN);
	c->port_gen_fd = m ? bpf_map__fd(m) : -1;
	if (c->ports_fd < 0) {
		xfsm_log(XFSM_LOG_ERROR, "the datapath has no %s map", XFSM_MAP_PORTS);
		return -ENOENT;
	}
	return 0;
}

/* ---- The generic entry of xfsm_progs ------------------------------------------ */

/*
 * A specialized program hands a packet it does not handle to
 * xfsm_progs[XFSM_PROGS_GENERIC] (docs/specializer.md): the generic program
 * of this load goes there before anything is attached, on a new instance
 * as on a reused one (reload, upgrade), so that the entry always holds a
 * datapath whose maps are the instance's.  The pins keep the array's
 * entries (the kernel clears a PROG_ARRAY when its last user reference
 * goes).  The specialized entries stay: they use the same maps.
 */
static int generic_entry_set(struct load_ctx *c)
{
	__u32 key = XFSM_PROGS_GENERIC, id = 0;
	struct bpf_map *m;
	int err;

	m = bpf_object__find_map_by_name(c->obj, XFSM_MAP_PROGS);
	c->progs_fd = m ? bpf_map__fd(m) : -1;
	c->old_generic_id = 0;
	if (c->progs_fd < 0)
		return 0;	/* the offload profile: no specialized programs */
	if (!bpf_map_lookup_elem(c->progs_fd, &key, &id))
		c->old_generic_id = id;
	if (bpf_map_update_elem(c->progs_fd, &key, &c->prog_fd, BPF_ANY)) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "cannot install the generic program in %s[%u]: %s",
			 XFSM_MAP_PROGS, key, strerror(-err));
		return err;
	}
	return 0;
}

/* A failed load: the entry gets back the program it held. */
static void generic_entry_restore(struct load_ctx *c)
{
	__u32 key = XFSM_PROGS_GENERIC;
	int fd = -1;

	if (c->progs_fd < 0)
		return;
	if (c->old_generic_id)
		fd = bpf_prog_get_fd_by_id(c->old_generic_id);
	if (fd >= 0) {
		if (bpf_map_update_elem(c->progs_fd, &key, &fd, BPF_ANY))
			xfsm_log(XFSM_LOG_WARN, "cannot put program %u back into %s[%u]: %s",
				 c->old_generic_id, XFSM_MAP_PROGS, key, strerror(errno));
		close(fd);
	} else {
		bpf_map_delete_elem(c->progs_fd, &key);
	}
	c->progs_fd = -1;
}

/* ---- Ports ------------------------------------------------------------------- */

static int tx_port_set(int tx_fd, __u32 port, int ifindex)
{
	struct bpf_devmap_val val = { .ifindex = ifindex, .bpf_prog.fd = -1 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (tx_fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(tx_fd, &info, &len))
		return -errno;
	if (info.value_size == 4)
		return bpf_map_update_elem(tx_fd, &port, &ifindex, 0) ? -errno : 0;
	return bpf_map_update_elem(tx_fd, &port, &val, 0) ? -errno : 0;
}

static int assign_ports(struct load_ctx *c)
{
	bool used[XFSM_MAX_PORTS] = { true };
	struct xfsm_port pv;
	__u32 key, next, *prev = NULL;
	int i, err;

	while (!bpf_map_get_next_key(c->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->ports_fd, &key, &pv) || pv.port >= XFSM_MAX_PORTS)
			continue;
		used[pv.port] = true;
		for (i = 0; i < c->n_ifs; i++)
			if (c->ifs[i].link.ifindex == (int)key)
				c->ifs[i].port = pv.port;
	}
	for (i = 0; i < c->n_ifs; i++) {
		struct iface *f = &c->ifs[i];
		__u32 p;

		if (f->port && used[f->port] &&
		    !bpf_map_lookup_elem(c->ports_fd, &(__u32){ f->link.ifindex }, &pv))
			continue;	/* already a port of this instance */
		if (f->port && !used[f->port]) {
			p = f->port;	/* carried over by --reset */
		} else {
			for (p = 1; p < XFSM_MAX_PORTS && used[p]; p++)
				;
			if (p == XFSM_MAX_PORTS) {
				xfsm_log(XFSM_LOG_ERROR,
					 "instance '%s' has no free port number for %s (max %d ports)",
					 c->instance, f->link.name, XFSM_MAX_PORTS - 1);
				return -ENOSPC;
			}
		}
		pv = (struct xfsm_port){ .port = p };
		key = f->link.ifindex;
		if (bpf_map_update_elem(c->ports_fd, &key, &pv, BPF_NOEXIST)) {
			err = -errno;
			xfsm_log(XFSM_LOG_ERROR, "cannot add %s to %s: %s", f->link.name,
				 XFSM_MAP_PORTS, strerror(-err));
			return err;
		}
		f->port = p;
		f->port_new = true;
		err = xfsm_ports_changed(c->port_gen_fd);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot update %s: %s", XFSM_MAP_PORT_GEN,
				 strerror(-err));
			return err;
		}
		used[p] = true;
		err = tx_port_set(c->tx_fd, p, f->link.ifindex);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot add %s (port %u) to %s: %s",
				 f->link.name, p, XFSM_MAP_TX_PORTS, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void unassign_ports(struct load_ctx *c)
{
	int i;

	for (i = 0; i < c->n_ifs; i++) {
		struct iface *f = &c->ifs[i];
		__u32 key = f->link.ifindex;

		if (!f->port_new)
			continue;
		bpf_map_delete_elem(c->ports_fd, &key);
		if (c->tx_fd >= 0)
			bpf_map_delete_elem(c->tx_fd, &f->port);
		f->port_new = false;
	}
	xfsm_ports_changed(c->port_gen_fd);
}

/* ---- Attaching ------------------------------------------------------------ */

static enum xdp_attach_mode libxdp_mode(enum xfsm_xdp_mode m)
{
	return m == XFSM_XDP_SKB ? XDP_MODE_SKB :
	       m == XFSM_XDP_HW ? XDP_MODE_HW : XDP_MODE_NATIVE;
}

static void explain_attach_error(struct load_ctx *c, struct iface *f,
				 enum xfsm_xdp_mode mode, int err)
{
	const char *n = f->link.name;

	if (mode == XFSM_XDP_NATIVE && (err == -ERANGE || (err == -EINVAL &&
					f->link.mtu > xfsm_xdp_max_mtu())))
		xfsm_log(XFSM_LOG_ERROR,
			 "%s: native XDP refused: the MTU of %s%s is larger than a "
			 "single-buffer XDP program can take (at most %u bytes here); "
			 "lower it (ip link set dev %s mtu 1500) or use --mode skb",
			 n, n, !strcmp(f->link.kind, "veth") ? " or of its veth peer" : "",
			 xfsm_xdp_max_mtu(), n);
	else if (mode == XFSM_XDP_NATIVE && err == -EOPNOTSUPP)
		xfsm_log(XFSM_LOG_ERROR,
			 "%s: driver %s has no native XDP support; try --mode skb",
			 n, f->link.driver[0] ? f->link.driver : f->link.kind);
	else if (err == -EEXIST || err == -EBUSY)
		xfsm_log(XFSM_LOG_ERROR,
			 "%s: another XDP program was attached meanwhile; retry", n);
	else
		xfsm_log(XFSM_LOG_ERROR, "%s: cannot attach in %s mode: %s", n,
			 xfsm_xdp_mode_name(mode), strerror(-err));
}

/*
 * A second copy of the loaded object, sharing every map (the .rodata too)
 * with it, for libxdp to load the way it needs: as a dispatcher component
 * (BPF_PROG_TYPE_EXT) where the kernel supports it, or as a plain program.
 */
static struct bpf_object *open_copy(struct load_ctx *c)
{
	struct bpf_object *copy;
	struct bpf_map *m, *orig;

	copy = bpf_object__open_file(c->obj_file, NULL);
	if (libbpf_get_error(copy))
		return NULL;
	if (xfsm_obj_prepare(copy)) {
		bpf_object__close(copy);
		return NULL;
	}
	bpf_object__for_each_map(m, copy) {
		orig = bpf_object__find_map_by_name(c->obj, bpf_map__name(m));
		if (!orig || bpf_map__fd(orig) < 0 ||
		    bpf_map__reuse_fd(m, bpf_map__fd(orig))) {
			bpf_object__close(copy);
			return NULL;
		}
	}
	return copy;
}

static void dispatcher_unusable(struct load_ctx *c, const char *why)
{
	if (!c->no_dispatcher)
		xfsm_log(XFSM_LOG_INFO,
			 "notice: libxdp's multi-program dispatcher is not usable here (%s); "
			 "xfsm is attached directly and cannot share an interface with "
			 "other XDP programs", why);
	c->no_dispatcher = true;
}

/*
 * A datapath that tail-calls (xfsm_progs) cannot be a dispatcher component
 * where the kernel refuses tail calls from freplace programs (the
 * `dispatcher` probe): libxdp would learn it only at the end of verifying
 * the copy, then libbpf verifies it again for the log, for nothing.
 */
static bool dispatcher_refused(struct load_ctx *c)
{
	struct xfsm_features ft;
	struct bpf_map *m;

	bpf_object__for_each_map(m, c->obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
			break;
	if (!m)
		return false;
	xfsm_features_probe(&ft);
	return ft.state[XFSM_FEAT_DISPATCHER] == XFSM_FEAT_NO;
}

/*
 * XFSM_NO_DISPATCHER=1 (any value but empty or "0"): attach directly, never
 * through libxdp.  Behind the dispatcher every load verifies the datapath
 * twice (libxdp's copy is an extension program of its own), which costs
 * minutes under emulation: the VM suites that do not test the dispatcher
 * set it (selftests/run.sh).
 */
static bool no_dispatcher_env(void)
{
	const char *v = getenv("XFSM_NO_DISPATCHER");

	return v && *v && strcmp(v, "0");
}

/* Attach to an interface that runs no XDP program (any more). */
static int attach_fresh(struct load_ctx *c, struct iface *f, enum xfsm_xdp_mode mode)
{
	__u32 flags = xfsm_mode_flags(mode);
	struct xdp_multiprog *mp;
	struct bpf_object *copy;
	struct xdp_program *xp;
	int err;

	if (mode == XFSM_XDP_HW || c->no_dispatcher)
		goto plain;
	if (no_dispatcher_env()) {
		dispatcher_unusable(c, "XFSM_NO_DISPATCHER is set");
		goto plain;
	}
	if (dispatcher_refused(c)) {
		dispatcher_unusable(c, "the kernel refuses the datapath's tail calls "
				    "from a freplace program; see xfsm-loader features");
		goto plain;
	}
	copy = open_copy(c);
	if (!copy) {
		dispatcher_unusable(c, "cannot open a second copy of the object");
		goto plain;
	}
	xp = xdp_program__from_bpf_obj(copy, XFSM_PROG_SEC);
	if (libxdp_get_error(xp)) {
		bpf_object__close(copy);
		dispatcher_unusable(c, "libxdp cannot use the object");
		goto plain;
	}
	err = xdp_program__attach(xp, f->link.ifindex, libxdp_mode(mode), 0);
	if (err) {
		xdp_program__close(xp);
		bpf_object__close(copy);
		if (err == -ERANGE || err == -EOPNOTSUPP)
			return err;	/* the interface's fault, not libxdp's */
		dispatcher_unusable(c, strerror(-err));
		goto plain;
	}
	f->attached = true;
	mp = xdp_multiprog__get_from_ifindex(f->link.ifindex);
	if (!libxdp_get_error(mp) && mp && !xdp_multiprog__is_legacy(mp)) {
		/* In the dispatcher: libxdp keeps it attached through its
		 * own pins; keep the handle to undo on failure. */
		xdp_multiprog__close(mp);
		f->xp = xp;
		f->copy = copy;
		return 0;
	}
	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	/* libxdp fell back to a plain attach of its copy: every port of
	 * the instance runs the one pinned program, so swap it in. */
	dispatcher_unusable(c, "the kernel refuses freplace programs");
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = xdp_program__fd(xp));

		err = bpf_xdp_attach(f->link.ifindex, c->prog_fd,
				     flags | XDP_FLAGS_REPLACE, &ao);
	}
	xdp_program__close(xp);
	bpf_object__close(copy);
	return err;

plain:
	err = bpf_xdp_attach(f->link.ifindex, c->prog_fd,
			     flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (!err)
		f->attached = true;
	return err;
}

/* Detach the xfsm component of a libxdp dispatcher, leaving the others. */
static int detach_component(int ifindex, __u32 prog_id)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int err = libxdp_get_error(mp);

	if (err)
		return err;
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (xdp_program__id(p) == prog_id)
			break;
	err = p ? xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0)
		: -ENOENT;
	xdp_multiprog__close(mp);
	return err;
}

static int attach_one(struct load_ctx *c, struct iface *f, enum xfsm_xdp_mode mode)
{
	__u32 flags = xfsm_mode_flags(mode);
	int err;

	f->mode = mode;
	if (f->old.prog_id && !f->old.dispatcher && f->old.mode == mode) {
		/* Same mode: swap programs atomically, no packet unprocessed. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = f->old_fd);

		err = bpf_xdp_attach(f->link.ifindex, c->prog_fd,
				     flags | XDP_FLAGS_REPLACE, &ao);
		if (!err)
			f->attached = true;
		return err;
	}
	if (f->old.dispatcher && f->old.xfsm_prog_id && f->old.mode == mode &&
	    !c->no_dispatcher) {
		/* A reload behind libxdp's dispatcher: the new datapath joins
		 * the old one, which leaves only when every interface has
		 * succeeded (retire_old()), so that a failure gives this one
		 * back exactly what it ran.  Meanwhile a packet the old one
		 * passes runs through the new one too. */
		err = attach_fresh(c, f, mode);
		if (!err && f->xp) {
			f->retire_id = f->old.xfsm_prog_id;
			return 0;
		}
		if (!err)
			return 0;
		xfsm_log(XFSM_LOG_DEBUG, "%s: cannot join the dispatcher next to the old "
			 "datapath (%s); replacing it", f->link.name, strerror(-err));
	}
	if (f->old.dispatcher && !f->old.xfsm_prog_id && f->old.mode == mode) {
		/* Other programs in a libxdp dispatcher: join them. */
		err = attach_fresh(c, f, mode);
		if (!err)
			return 0;
		if (!c->o->force) {
			xfsm_log(XFSM_LOG_ERROR,
				 "%s: cannot join its libxdp dispatcher (id %u): %s; add "
				 "--force to replace the dispatcher and its programs",
				 f->link.name, f->old.prog_id, strerror(-err));
			return -EBUSY;
		}
	}
	if (f->old.prog_id) {
		xfsm_log(XFSM_LOG_WARN,
			 "%s: replacing %s program %s (id %u) by xfsm in %s mode: "
			 "not atomic, a few packets may see no XDP program",
			 f->link.name, xfsm_xdp_mode_name(f->old.mode),
			 f->old.dispatcher && f->old.xfsm_prog_id ? XFSM_PROG_NAME :
			 f->old.prog_name, f->old.dispatcher && f->old.xfsm_prog_id ?
			 f->old.xfsm_prog_id : f->old.prog_id, xfsm_xdp_mode_name(mode));
		if (f->old.dispatcher && f->old.xfsm_prog_id) {
			/* Only our component leaves; the others stay. */
			err = detach_component(f->link.ifindex, f->old.xfsm_prog_id);
		} else if (f->old.dispatcher) {
			struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(f->link.ifindex);

			err = libxdp_get_error(mp);
			if (!err)
				err = xdp_multiprog__detach(mp);
			xdp_multiprog__close(mp);
		} else {
			err = bpf_xdp_detach(f->link.ifindex, xfsm_mode_flags(f->old.mode), NULL);
		}
		if (err)
			return err;
		f->attached = true;	/* from here on, restore on failure */
	}
	err = attach_fresh(c, f, mode);
	if (f->old.prog_id)
		f->attached = true;
	return err;
}

/* Give the interface back what it ran before this load. */
static void restore_one(struct load_ctx *c, struct iface *f)
{
	int err = 0;

	if (!f->attached)
		return;
	if (f->xp) {
		err = xdp_program__detach(f->xp, f->link.ifindex, libxdp_mode(f->mode), 0);
		xdp_program__close(f->xp);
		bpf_object__close(f->copy);
		f->xp = NULL;
		f->copy = NULL;
		if (f->retire_id) {
			/* The old datapath never left the dispatcher. */
			f->retire_id = 0;
			f->attached = false;
			goto out;
		}
	} else if (f->old.prog_id && !f->old.dispatcher && f->old.mode == f->mode &&
		   f->old_fd >= 0) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = c->prog_fd);

		err = bpf_xdp_attach(f->link.ifindex, f->old_fd,
				     xfsm_mode_flags(f->mode) | XDP_FLAGS_REPLACE, &ao);
		f->attached = false;
		goto out;
	} else {
		bpf_xdp_detach(f->link.ifindex, xfsm_mode_flags(f->mode), NULL);
	}
	if (f->old.prog_id && f->old_fd >= 0 && !f->old.dispatcher)
		err = bpf_xdp_attach(f->link.ifindex, f->old_fd,
				     xfsm_mode_flags(f->old.mode), NULL);
	else if (f->old.dispatcher)
		xfsm_log(XFSM_LOG_WARN,
			 "%s: its libxdp dispatcher (id %u) cannot be restored; "
			 "re-attach its programs with xdp-loader", f->link.name,
			 f->old.prog_id);
	f->attached = false;
out:
	if (err)
		xfsm_log(XFSM_LOG_ERROR, "%s: could not restore program id %u: %s",
			 f->link.name, f->old.prog_id, strerror(-err));
	else
		xfsm_log(XFSM_LOG_INFO, "%s: restored to %s", f->link.name,
			 f->old.prog_id ? f->old.prog_name : "no XDP program");
}

/* The load has succeeded: the old datapaths that stayed in their
 * dispatchers next to the new ones leave, and so does any other xfsm
 * component an interrupted reload left there. */
static void retire_old(struct load_ctx *c)
{
	__u32 ids[8], keep;
	int i, j, n, err;

	for (i = 0; i < c->n_ifs; i++) {
		struct iface *f = &c->ifs[i];

		if (!f->xp)
			continue;
		keep = xdp_program__id(f->xp);
		n = xfsm_xdp_xfsm_progs(f->link.ifindex, ids, 8);
		for (j = 0; j < n; j++) {
			if (ids[j] == keep)
				continue;
			err = detach_component(f->link.ifindex, ids[j]);
			if (err)
				xfsm_log(XFSM_LOG_WARN,
					 "%s: the previous datapath (id %u) is still in the libxdp "
					 "dispatcher next to the new one: %s; remove it with "
					 "xdp-loader unload %s -i %u", f->link.name, ids[j],
					 strerror(-err), f->link.name, ids[j]);
		}
		f->retire_id = 0;
	}
}

static int attach_all(struct load_ctx *c, enum xfsm_xdp_mode mode)
{
	int i, err;

	for (i = 0; i < c->n_ifs; i++) {
		err = attach_one(c, &c->ifs[i], mode);
		if (err) {
			if (!(c->o->mode == XFSM_XDP_AUTO && err == -EOPNOTSUPP))
				explain_attach_error(c, &c->ifs[i], mode, err);
			while (i >= 0)
				restore_one(c, &c->ifs[i--]);
			return err;
		}
	}
	return 0;
}

/* ---- Pinning -------------------------------------------------------------- */

/* Pin fd as NAME-new (see XFSM_PIN_STAGED): what this load pins stays
 * staged until every interface runs the new program. */
static int stage_one(struct load_ctx *c, int fd, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s" XFSM_PIN_STAGED, c->pin_dir, name);
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		xfsm_log(XFSM_LOG_ERROR, "cannot pin %s: %s", path, strerror(-err));
		return err;
	}
	if (c->n_pinned < (int)(sizeof(c->pinned) / sizeof(c->pinned[0])))
		snprintf(c->pinned[c->n_pinned++], PATH_MAX, "%s", path);
	return 0;
}

/* New maps, the .rodata, the namespace record and, last, the program:
 * prog-new marks a complete staged set. */
static int stage_pins(struct load_ctx *c)
{
	struct bpf_map *map, *ro;
	int err, fd, idx = 0;

	bpf_object__for_each_map(map, c->obj) {
		int i = idx++ % MAX_OBJ_MAPS;

		if (!is_xfsm_map(map) || c->reused[i])
			continue;
		err = stage_one(c, bpf_map__fd(map), bpf_map__name(map));
		if (err)
			return err;
	}
	ro = rodata_map(c->obj);
	if (ro) {
		err = stage_one(c, bpf_map__fd(ro), XFSM_PIN_RODATA);
		if (err)
			return err;
	}
	if (c->netns_new) {
		fd = xfsm_netns_pin_create(&c->netns);
		if (fd < 0) {
			xfsm_log(XFSM_LOG_ERROR, "cannot record the network namespace of "
				 "instance '%s': %s", c->instance, strerror(-fd));
			return fd;
		}
		err = stage_one(c, fd, XFSM_PIN_NETNS);
		close(fd);
		if (err)
			return err;
	}
	return stage_one(c, c->prog_fd, XFSM_PIN_PROG);
}

static void unpin_new(struct load_ctx *c)
{
	while (c->n_pinned > 0)
		unlink(c->pinned[--c->n_pinned]);
}

/* Every interface runs the new program: its pins become the instance's.
 * A failure here changes nothing that runs, and the staged pins already
 * say which program that is; the next load or unload completes them. */
static void commit_pins(struct load_ctx *c)
{
	int err = xfsm_pin_commit(c->pin_dir);

	if (err)
		xfsm_log(XFSM_LOG_WARN, "cannot rename the new pins in %s into place: %s; "
			 "the next load or unload of instance '%s' does", c->pin_dir,
			 strerror(-err), c->instance);
	c->n_pinned = 0;
}

/* ---- Checks before touching anything ------------------------------------------ */

/* Name of the pinned instance whose program x runs. */
static bool owner_instance(const struct xfsm_xdp_state *x, char *name, size_t len)
{
	struct xfsm_status_inst *st;
	struct xfsm_owner o;
	int n, i;
	bool found = false;

	if (xfsm_status_collect(&st, &n))
		return false;
	for (i = 0; i < n && !found; i++) {
		if (!st[i].pin_dir[0])
			continue;
		xfsm_owner_pinned(st[i].pin_dir, false, &o);
		if (xfsm_xdp_state_of(x, &o)) {
			snprintf(name, len, "%s", st[i].name);
			found = true;
		}
	}
	xfsm_status_free(st, n);
	return found;
}

static int check_iface(struct load_ctx *c, struct iface *f)
{
	const char *n = f->link.name;
	int err;

	err = xfsm_xdp_state_get(f->link.ifindex, &f->old);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "%s: cannot query its XDP program: %s", n,
			 strerror(-err));
		return err;
	}
	if (f->old.prog_id) {
		f->old_fd = bpf_prog_get_fd_by_id(f->old.prog_id);
		if (f->old_fd < 0) {
			err = -errno;
			xfsm_log(XFSM_LOG_ERROR, "%s: cannot open the XDP program it runs (id %u): %s%s",
				 n, f->old.prog_id, strerror(-err), err == -EPERM ?
				 " (opening a program by id needs CAP_SYS_ADMIN)" : "");
			return err;
		}
	}
	/* A reload: the instance's generic program, or one generated for it. */
	if (c->inst_exists && xfsm_xdp_state_of(&f->old, &c->inst_owner))
		return 0;
	if (f->old.xfsm_prog_id) {
		char owner[64];

		if (owner_instance(&f->old, owner, sizeof(owner))) {
			xfsm_log(XFSM_LOG_ERROR,
				 "%s is already a port of xfsm instance '%s'; an interface "
				 "belongs to one instance: unload it first "
				 "(xfsm-loader unload %s) or load into --instance %s",
				 n, owner, n, owner);
			return -EBUSY;
		}
		if (!c->o->force) {
			xfsm_log(XFSM_LOG_ERROR,
				 "%s runs an xfsm datapath that is not pinned (program id %u, "
				 "attached by other means, e.g. ip link); add --force to "
				 "replace it by instance '%s'", n, f->old.xfsm_prog_id, c->instance);
			return -EBUSY;
		}
		return 0;
	}
	if (f->old.prog_id && !f->old.xfsm_prog_id && !f->old.dispatcher && !c->o->force) {
		xfsm_log(XFSM_LOG_ERROR,
			 "%s already runs XDP program '%s' (id %u, %s mode%s); "
			 "add --force to replace it, or detach it first: "
			 "ip link set dev %s xdp off",
			 n, f->old.prog_name, f->old.prog_id, xfsm_xdp_mode_name(f->old.mode),
			 f->old.dispatcher ? ", libxdp dispatcher" : "", n);
		return -EBUSY;
	}
	return 0;
}

static int add_iface(struct load_ctx *c, const char *name, int ifindex, bool listed)
{
	struct iface *f = &c->ifs[c->n_ifs];
	int i, err;

	memset(f, 0, sizeof(*f));
	f->old_fd = -1;
	f->listed = listed;
	err = xfsm_link_get(name, ifindex, &f->link);
	if (err == -ENODEV) {
		xfsm_log(XFSM_LOG_ERROR, "interface '%s' does not exist in this network "
			 "namespace (see ip link show)", name ? name : "?");
		return err;
	}
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "%s: cannot read link: %s", name, strerror(-err));
		return err;
	}
	for (i = 0; i < c->n_ifs; i++)
		if (c->ifs[i].link.ifindex == f->link.ifindex) {
			if (listed)
				xfsm_log(XFSM_LOG_ERROR, "interface %s is listed twice", f->link.name);
			return listed ? -EINVAL : 1;
		}
	c->n_ifs++;
	return 0;
}

/* An instance's ports are interfaces of one network namespace, recorded
 * with its pins: a load from elsewhere would mix in interfaces that share
 * ifindexes with them. */
static int check_netns(struct load_ctx *c)
{
	struct xfsm_netns pinned;
	char here[128], there[128];
	int err;

	err = xfsm_netns_self(&c->netns);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot tell this network namespace: %s", strerror(-err));
		return err;
	}
	err = xfsm_pin_netns(c->pin_dir, false, &pinned);
	if (err == -ENOENT) {
		c->netns_new = true;	/* a new instance, or one of an older loader */
		return 0;
	}
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "%s/%s is unreadable: %s", c->pin_dir,
			 XFSM_PIN_NETNS, strerror(-err));
		return err;
	}
	if (xfsm_netns_same(&pinned, &c->netns))
		return 0;
	xfsm_netns_rename(&pinned);
	xfsm_log(XFSM_LOG_ERROR,
		 "instance '%s' has its ports in network namespace %s, and this is %s: "
		 "load it from there (nsenter --net=/run/netns/%s xfsm-loader load ...), "
		 "or load into another --instance", c->instance,
		 xfsm_netns_str(&pinned, there, sizeof(there)),
		 xfsm_netns_str(&c->netns, here, sizeof(here)),
		 pinned.name[0] ? pinned.name : "NAME");
	return -EXDEV;
}

/* --reset: the instance's old ports are carried into the new maps. */
static void carry_old_ports(struct load_ctx *c, int old_ports_fd, int max)
{
	__u32 key, next, *prev = NULL;
	struct xfsm_port pv;

	if (!xfsm_ports_map_ok(old_ports_fd)) {
		xfsm_log(XFSM_LOG_WARN, "the old port table of instance '%s' has another "
			 "layout: its ports are not carried over by --reset", c->instance);
		return;
	}
	while (c->n_ifs < max && !bpf_map_get_next_key(old_ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(old_ports_fd, &key, &pv))
			continue;
		if (add_iface(c, NULL, key, false) == 0)
			c->ifs[c->n_ifs - 1].port = pv.port;
	}
}

/* ---- Load ------------------------------------------------------------------- */

static int try_mode(struct load_ctx *c, enum xfsm_xdp_mode mode)
{
	int err;

	err = open_obj(c, mode);
	if (err)
		return err;
	err = load_obj(c, mode);
	if (err)
		goto fail;
	err = generic_entry_set(c);
	if (err)
		goto fail;
	err = assign_ports(c);
	if (err)
		goto fail_ports;
	/* Pins first, attach next, rename last: killed at any moment, the
	 * pins name the program that runs (XFSM_PIN_STAGED). */
	err = stage_pins(c);
	if (err)
		goto fail_pins;
	err = attach_all(c, mode);
	if (err)
		goto fail_pins;
	/* The old datapath leaves a dispatcher before the pins move: killed
	 * in between, only the program the staged pins name runs. */
	retire_old(c);
	commit_pins(c);
	return 0;

fail_pins:
	unpin_new(c);
fail_ports:
	unassign_ports(c);
	generic_entry_restore(c);
fail:
	close_obj(c);
	return err;
}

/*
 * The load attached the generic program: where the running slot has a
 * generated program (kept in the pinned xfsm_progs across a reload), it
 * takes the generic one's place, as after a switch.  Serialised with
 * switches by the instance lock.
 */
static void attach_running(struct load_ctx *c)
{
	struct xfsm_instance *inst;
	int lock, err;

	if (xfsm_instance_open_pin_dir(c->pin_dir, &inst))
		return;
	lock = xfsm_instance_lock(inst);
	err = xfsm_attach_direct(inst);
	xfsm_instance_unlock(lock);
	if (err < 0)
		xfsm_log(XFSM_LOG_WARN,
			 "cannot attach the running slot's program to the interfaces (%s): they enter it through the generic program",
			 strerror(-err));
	xfsm_instance_close(inst);
}

int xfsm_load(const struct xfsm_load_opts *o, char *const *ifaces, int n)
{
	struct load_ctx c = { .o = o, .prog_fd = -1, .ports_fd = -1, .tx_fd = -1,
			      .progs_fd = -1 };
	enum xfsm_xdp_mode modes[3], mode = o->mode ? o->mode : XFSM_XDP_NATIVE;
	int i, err, n_modes = 0, old_ports_fd = -1, lock_fd = -1;
	char path[PATH_MAX];

	c.instance = o->instance ? o->instance : XFSM_DEFAULT_INSTANCE;
	err = xfsm_instance_name_check(c.instance);
	if (err)
		return err;
	if (n < 1) {
		xfsm_log(XFSM_LOG_ERROR, "load: name at least one interface");
		return -EINVAL;
	}
	err = xfsm_check_privileges("load");
	if (err)
		return err;
	if (o->pin_dir)
		snprintf(c.pin_dir, sizeof(c.pin_dir), "%s", o->pin_dir);
	else if (xfsm_pin_dir_of(c.instance, c.pin_dir, sizeof(c.pin_dir)))
		return -ENAMETOOLONG;

	c.ifs = calloc(n + XFSM_MAX_PORTS, sizeof(*c.ifs));
	if (!c.ifs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = add_iface(&c, ifaces[i], 0, true);
		if (err)
			goto out;
	}
	if (mode == XFSM_XDP_HW && n > 1) {
		xfsm_log(XFSM_LOG_ERROR,
			 "--mode hw binds the datapath and its maps to one device: "
			 "load one interface per instance");
		err = -EINVAL;
		goto out;
	}

	err = xfsm_bpffs_prepare(c.pin_dir);
	if (err < 0)
		goto out;
	if (err > 0) {
		/* A bpffs this process had to mount (a fresh /sys, as under
		 * `ip netns exec`) goes away with its mount namespace, and
		 * with it libxdp's pins, which are what keeps a dispatcher
		 * component attached: attach directly, which lasts. */
		dispatcher_unusable(&c, "its pins would be on the bpffs just mounted, "
				    "which ends with this mount namespace");
		err = 0;
	}
	/* Port numbers and pins are read, then written: one loader at a time. */
	lock_fd = xfsm_pin_lock(c.pin_dir);
	if (lock_fd < 0) {
		err = lock_fd;
		xfsm_log(XFSM_LOG_ERROR, "cannot lock the directory of %s: %s",
			 c.pin_dir, strerror(-err));
		goto out;
	}
	/* A load killed midway left staged pins: settle them first. */
	err = xfsm_pin_recover(c.pin_dir);
	if (err)
		goto out;
	err = check_netns(&c);
	if (err)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", c.pin_dir, XFSM_MAP_PORTS);
	old_ports_fd = bpf_obj_get(path);
	if (old_ports_fd >= 0) {
		c.inst_exists = true;
		xfsm_owner_pinned(c.pin_dir, false, &c.inst_owner);
		if (o->reset)
			carry_old_ports(&c, old_ports_fd, n + XFSM_MAX_PORTS);
	}
	for (i = 0; i < c.n_ifs; i++) {
		err = check_iface(&c, &c.ifs[i]);
		if (err)
			goto out;
	}
	for (i = 0; i < c.n_ifs; i++) {
		struct iface *f = &c.ifs[i];

		if (!f->link.up)
			xfsm_log(XFSM_LOG_WARN,
				 "%s is down: attaching anyway; traffic flows once it is up "
				 "(ip link set dev %s up)", f->link.name, f->link.name);
	}

	err = choose_flow_value(&c, mode);
	if (err)
		goto out;
	if (mode == XFSM_XDP_AUTO) {
		if (c.compact)
			xfsm_log(XFSM_LOG_INFO, "auto: hw mode skipped (the offload profile "
				 "has full flow values only)");
		else if (c.n_ifs == 1)
			modes[n_modes++] = XFSM_XDP_HW;
		else
			xfsm_log(XFSM_LOG_INFO, "auto: hw mode skipped (offload binds the "
				 "datapath to one device, %d interfaces given)", c.n_ifs);
		modes[n_modes++] = XFSM_XDP_NATIVE;
		modes[n_modes++] = XFSM_XDP_SKB;
	} else {
		modes[n_modes++] = mode;
	}
	if (mode == XFSM_XDP_NATIVE || mode == XFSM_XDP_HW) {
		for (i = 0; i < c.n_ifs; i++) {
			if (c.ifs[i].link.mtu <= xfsm_xdp_max_mtu())
				continue;
			xfsm_log(XFSM_LOG_ERROR,
				 "%s: MTU %u is larger than a single-buffer XDP program can "
				 "see whole in %s mode (at most %u bytes here: a frame must fit "
				 "in one page with XDP headroom); lower it "
				 "(ip link set dev %s mtu 1500) or use --mode skb",
				 c.ifs[i].link.name, c.ifs[i].link.mtu, xfsm_xdp_mode_name(mode),
				 xfsm_xdp_max_mtu(), c.ifs[i].link.name);
			err = -ERANGE;
			goto out;
		}
	}

	err = xfsm_pin_dir_create(c.pin_dir, &c.dir_created);
	if (err)
		goto out;
	for (i = 0; i < n_modes; i++) {
		bool last = i == n_modes - 1;

		if (mode == XFSM_XDP_AUTO)
			xfsm_log(XFSM_LOG_DEBUG, "auto: trying %s mode",
				 xfsm_xdp_mode_name(modes[i]));
		c.quiet = mode == XFSM_XDP_AUTO && modes[i] == XFSM_XDP_HW;
		c.quiet_probe = c.quiet;
		err = try_mode(&c, modes[i]);
		c.quiet = false;
		if (!err) {
			if (mode == XFSM_XDP_AUTO)
				xfsm_log(XFSM_LOG_INFO, "auto: attached in %s mode",
					 xfsm_xdp_mode_name(modes[i]));
			break;
		}
		/* Errors that another mode cannot cure end the search; hw
		 * probing in auto mode may fail any way it likes. */
		if (last || (!c.quiet_probe && (err == -EPROTO || err == -EBUSY ||
						err == -ENOENT || err == -ENOSPC ||
						err == -ENOEXEC)))
			break;
		if (modes[i] == XFSM_XDP_HW)
			xfsm_log(XFSM_LOG_INFO, "auto: %s cannot offload XDP (%s), trying %s",
				 c.ifs[0].link.name, strerror(-err),
				 xfsm_xdp_mode_name(modes[i + 1]));
		else
			xfsm_log(XFSM_LOG_INFO, "auto: %s mode failed (%s), trying %s",
				 xfsm_xdp_mode_name(modes[i]), strerror(-err),
				 xfsm_xdp_mode_name(modes[i + 1]));
	}
	if (err)
		goto out;
	for (i = 0; i < c.n_ifs; i++)
		xfsm_log(XFSM_LOG_INFO, "%s: port %u of instance '%s' (%s mode%s)",
			 c.ifs[i].link.name, c.ifs[i].port, c.instance,
			 xfsm_xdp_mode_name(c.ifs[i].mode),
			 c.ifs[i].old.xfsm_prog_id ? ", replaced" : "");
	attach_running(&c);
	for (i = 0; i < c.n_ifs; i++) {
		if (c.ifs[i].xp)
			xdp_program__close(c.ifs[i].xp);
		bpf_object__close(c.ifs[i].copy);
	}
	close_obj(&c);
out:
	if (err && c.dir_created)
		xfsm_pin_dir_remove(c.pin_dir);
	if (old_ports_fd >= 0)
		close(old_ports_fd);
	xfsm_pin_unlock(lock_fd);
	for (i = 0; i < c.n_ifs; i++)
		if (c.ifs[i].old_fd >= 0)
			close(c.ifs[i].old_fd);
	free(c.ifs);
	return err;
}
