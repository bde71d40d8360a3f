/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Attaching the xfsm datapath to interfaces: links (libnl), bpffs pins,
 * loading with map reuse, all-or-nothing XDP attach (libxdp, plain
 * bpf_xdp_attach as fallback), unload and status.  Used by xfsm-loader;
 * functions return 0 or a negative errno and report through xfsm_log().
 */
#ifndef XFSM_ATTACH_H
#define XFSM_ATTACH_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "libxfsm.h"
#include "xfsm_plan.h"

struct bpf_object;

enum xfsm_xdp_mode {
	XFSM_XDP_NONE = 0,
	XFSM_XDP_NATIVE,
	XFSM_XDP_SKB,
	XFSM_XDP_HW,
	XFSM_XDP_AUTO,		/* hw, then native, then skb */
};

const char *xfsm_xdp_mode_name(enum xfsm_xdp_mode m);
/* -EINVAL (with a message) for an unknown mode name. */
int xfsm_xdp_mode_parse(const char *s, enum xfsm_xdp_mode *out);

/* ---- Links (lib/netlink.c) ---------------------------------------------- */

struct xfsm_link {
	char	name[IFNAMSIZ];
	int	ifindex;
	__u32	mtu;
	bool	up;		/* IFF_UP */
	bool	running;	/* operstate up (or unknown with carrier) */
	char	kind[32];	/* rtnl link kind ("veth"), "" for hardware */
	char	driver[32];	/* ethtool driver name, "" if unknown */
};

/* Look a link up by name (ifindex 0) or by ifindex (name NULL):
 * -ENODEV when it does not exist in this network namespace. */
int xfsm_link_get(const char *name, int ifindex, struct xfsm_link *out);
/* Every link of this network namespace; free(*out) after use. */
int xfsm_link_list(struct xfsm_link **out, int *n);
/* Whether ifindex is a veth, its peer's ifindex (IFLA_LINK; 0 for none) and
 * the peer's nsid (-1: this network namespace); -ENODEV when ifindex does
 * not exist. */
int xfsm_link_peer(int ifindex, bool *veth, int *peer, int *nsid);

/* Largest MTU a single-buffer XDP program sees whole in native mode. */
__u32 xfsm_xdp_max_mtu(void);

/* ---- Traps of veth ports (lib/veth_traps.c) ------------------------------- */

enum xfsm_trap_kind {
	XFSM_TRAP_REDIRECT_DROP,	/* frames into the port are dropped */
	XFSM_TRAP_TX_CSUM,		/* local TCP/UDP behind the peer: bad checksums */
};

#define XFSM_TRAPS_MAX	2		/* at most one of each kind per port */

struct xfsm_trap {
	enum xfsm_trap_kind kind;
	char	port[IFNAMSIZ];		/* the xfsm port */
	char	peer[IFNAMSIZ];		/* its veth peer */
	char	peer_netns[64];		/* the peer's namespace, "" when the port's */
	char	fix[256];		/* the command that removes the trap */
	char	alt_fix[256];		/* another one, "" when none */
};

/*
 * The traps of port ifindex (of the calling thread's namespace) attached
 * in mode: how many were found (0 for a device that is not a veth, or
 * a mode without traps), each in out[] (XFSM_TRAPS_MAX entries), or -errno
 * when the peer cannot be read (its namespace cannot be entered).  The
 * peer is read each time: fixed, a trap is gone.  Logs nothing.
 */
int xfsm_port_traps(int ifindex, enum xfsm_xdp_mode mode, struct xfsm_trap *out);
/* Stable name of a kind ("veth-redirect-drop", "veth-tx-checksum"). */
const char *xfsm_trap_name(enum xfsm_trap_kind k);
/* One sentence saying what goes wrong (no fix), snprintf's return. */
int xfsm_trap_message(const struct xfsm_trap *t, char *buf, size_t len);

/* ---- Pins (lib/pin.c) ------------------------------------------------------ */

#define XFSM_PIN_RODATA		"xfsm_rodata"	/* the datapath's .rodata */
#define XFSM_PIN_PROG		"prog"		/* the program last loaded */
#define XFSM_PIN_NETNS		"xfsm_netns"	/* the ports' network namespace */
/*
 * A load pins what it made under NAME-new, attaches, then renames each to
 * NAME ("prog" last).  Killed in between, the pins say which program runs:
 * the -new ones are the instance's when prog-new runs on one of its ports
 * (xfsm_pin_staged()), and leftovers otherwise.  The next load or unload
 * settles them (xfsm_pin_recover()).
 */
#define XFSM_PIN_STAGED		"-new"

/* Make sure the directory that will hold pin_dir is on a bpffs, mounting
 * bpffs on /sys/fs/bpf when it is not mounted.  Does not create pin_dir.
 * Returns 1 when it mounted bpffs, 0 when one was there, or -errno. */
int xfsm_bpffs_prepare(const char *pin_dir);
/* mkdir -p with mode 0700 for the last component; *created tells whether
 * pin_dir itself was new. */
int xfsm_pin_dir_create(const char *pin_dir, bool *created);
/* Serialise loaders and unloaders: an exclusive flock on the directory
 * that holds pin_dir (created if needed).  Returns the fd to unlock. */
int xfsm_pin_lock(const char *pin_dir);
void xfsm_pin_unlock(int fd);
/*
 * Whether pin_dir is an xfsm instance's directory, the only kind xfsm ever
 * removes: a directory on a bpffs holding nothing but the pins a load
 * makes (see foreign_pin() in lib/pin.c), each a BPF object whose type,
 * name and contents identify xfsm.  0, or an error with a message naming
 * the first thing that is not xfsm's; *n_pins (may be NULL) counts them.
 */
int xfsm_pin_dir_check(const char *pin_dir, int *n_pins);
/* After xfsm_pin_dir_check() agrees: xfsm_pin_dir_unpin().  A directory
 * that is not xfsm's is left alone (error). */
int xfsm_pin_dir_remove(const char *pin_dir);
/* Unlink the pins a load makes, by their names (never whatever the
 * directory lists: what another put there since the check stays), and
 * remove the directory; one left holding another's entry is an error
 * (-ENOTEMPTY) with a message naming it. */
int xfsm_pin_dir_unpin(const char *pin_dir);
/* Instance directory under the pin root: "<root>/<name>"; -EINVAL (with
 * a message) for a name xfsm_instance_name_check() refuses. */
int xfsm_pin_dir_of(const char *instance, char *buf, size_t len);
/* pin_dir is a directory directly under the pin root. */
bool xfsm_pin_dir_in_root(const char *pin_dir);

/* Open pin NAME of pin_dir, or NAME-new when staged and it exists: fd or
 * -errno. */
int xfsm_pin_get(const char *pin_dir, bool staged, const char *name);
/* 1 when an interrupted load's prog-new runs on a port of the instance
 * (its -new pins are then the instance's), 0 when not or when there is
 * none; -errno when the ports' namespace cannot be entered. */
int xfsm_pin_staged(const char *pin_dir);
/* pin_dir holds staged pins: a load was killed midway. */
bool xfsm_pin_interrupted(const char *pin_dir);
/* Rename every NAME-new to NAME, prog-new last. */
int xfsm_pin_commit(const char *pin_dir);
/* Unlink every NAME-new. */
int xfsm_pin_discard(const char *pin_dir);
/* Settle an interrupted load's pins: commit them if its program runs,
 * else discard them.  Callers hold xfsm_pin_lock().  A pin_dir that is not
 * xfsm's (xfsm_pin_dir_check()) is refused with its message, touched in
 * nothing; one that does not exist is fine. */
int xfsm_pin_recover(const char *pin_dir);

/* The network namespace record pinned with an instance (-ENOENT: none,
 * as from an older loader). */
int xfsm_pin_netns(const char *pin_dir, bool staged, struct xfsm_netns *ns);
/* A new, frozen record of ns for pinning as XFSM_PIN_NETNS: its fd. */
int xfsm_netns_pin_create(const struct xfsm_netns *ns);
/* Read a record: -EPROTO when fd is not one. */
int xfsm_netns_rec_read(int fd, struct xfsm_netns *ns);
/* Pin root used by status and unload: $XFSM_PIN_ROOT or XFSM_PIN_ROOT. */
const char *xfsm_pin_root(void);

/* The build info in a pinned .rodata map (BTF-located, else offset 0). */
int xfsm_rodata_build_info(int map_fd, struct xfsm_build_info *bi);
/* The build info an (opened, not necessarily loaded) object will expose. */
int xfsm_obj_build_info(struct bpf_object *obj, struct xfsm_build_info *bi);

/*
 * Every program that calls through xfsm_progs or enters it is loaded with
 * expected attach type XFSM_PROGS_ATTACH_TYPE (include/xfsm/abi.h), so
 * that libxdp's dispatcher can run a copy of the datapath: the kernel
 * refuses a tail call between programs of unlike expected attach types.
 * Every loader of a datapath object goes through xfsm_obj_load()
 * (xfsm-loader, the simulator, the tests, the benchmarks);
 * xfsm_obj_prepare() alone is for an object another library loads
 * (libxdp's copy).  Both return 0 or a negative errno (libbpf's).
 */
int xfsm_obj_prepare(struct bpf_object *obj);
int xfsm_obj_load(struct bpf_object *obj);

/*
 * The sizes of the maps a loader may choose, set on an opened object
 * before xfsm_obj_load() by xfsm_obj_size_maps(), the one place that
 * knows which maps they are (xfsm-loader, the tests, the benchmarks).
 * 0 or NULL: as built.  A flow table's entries are its own size in
 * flows_per_table, else flows; a size for a table the object lacks (the
 * offload profile has only the wide one) is no error.  A flow table built
 * as a plain hash (the offload profile's) keeps its type.  It is also the
 * one place that checks them: at most XFSM_MAX_FLOWS flows per flow
 * table, XFSM_APP_SLOTS * XFSM_MAX_RULES rule and
 * rule statistics entries, XFSM_ACL_MAX_RULES rules and XFSM_ACL_MAX_NODES
 * nodes per ACL table, a flow table type of the two (include/xfsm/abi.h;
 * xfsm-loader's options take the same bounds); else -E2BIG (-EINVAL for
 * the type) with a message, and no map is resized.
 */
struct xfsm_acl_caps;
struct xfsm_map_sizes {
	__u64	flows;		/* entries of each flow table (wide, narrow, medium) */
	/* Entries of one flow table, xfsm_flow_table_classes' order (wide,
	 * narrow, medium); 0: flows. */
	__u64	flows_per_table[XFSM_FLOW_TABLE_CLASSES];
	__u32	flow_type;	/* BPF_MAP_TYPE_HASH or BPF_MAP_TYPE_LRU_HASH */
	__u64	rules;		/* entries of the rule table (both application slots) */
	__u64	rule_stats;	/* entries of the rule statistics */
	const struct xfsm_acl_caps *acl;	/* the ACL arrays: xfsm_acl_caps_totals() */
};
int xfsm_obj_size_maps(struct bpf_object *obj, const struct xfsm_map_sizes *sz);
/* Each flow table (include/xfsm/abi.h): wide, narrow, medium. */
bool xfsm_map_is_flow_table(const char *name);
/* Whether the program array map_fd takes programs loaded that way: 1, 0
 * when its first user had another expected attach type (a pin made by an
 * xfsm before this rule, on a kernel that checks), or a negative errno. */
int xfsm_progs_accepts(int map_fd);

/* ---- Programs on interfaces (lib/attach.c) ----------------------------- */

/* The programs lib/apply.c generates are named XFSM_SPEC_PROG_PREFIX and
 * their slot ("xfsm_spec_s0"). */
#define XFSM_SPEC_PROG_PREFIX	"xfsm_spec_s"

struct xfsm_xdp_state {
	__u32	prog_id;		/* program run by the interface, 0: none */
	enum xfsm_xdp_mode mode;
	bool	dispatcher;		/* a libxdp dispatcher is attached */
	__u32	xfsm_prog_id;		/* the xfsm program, if any (maybe
					 * a component of the dispatcher, or
					 * a generated program attached
					 * directly) */
	char	prog_name[64];		/* name of prog_id (or foreign one) */
	__u32	ports_map_id;		/* xfsm_ports map of generic_id */
	/* Appended: */
	bool	specialized;		/* xfsm_prog_id is a generated program */
	__u32	generic_id;		/* the generic program of xfsm_prog_id's
					 * instance: xfsm_prog_id itself, or
					 * the one in xfsm_progs[2] of a
					 * generated program (0: none there) */
	__u32	progs_map_id;		/* xfsm_progs map of xfsm_prog_id, 0: none */
	__u32	ctl_map_id;		/* xfsm_ctl map of xfsm_prog_id, 0: none:
					 * the instance's identity, which every
					 * program of it reads */
};

/*
 * What an interface runs.  An xfsm program is the generic datapath
 * (XFSM_PROG_NAME), attached or a libxdp dispatcher's component, or a
 * program generated for an application slot (XFSM_SPEC_PROG_PREFIX)
 * attached directly, whose instance is the one of the generic program in
 * its xfsm_progs[XFSM_PROGS_GENERIC].  The maps a caller reads (ports,
 * flows, rules, .rodata) are generic_id's: a generated program uses only
 * what its application needs.
 */
int xfsm_xdp_state_get(int ifindex, struct xfsm_xdp_state *st);
/*
 * Whose program an interface runs: one rule for every caller (apply's
 * direct attachment, load, status, show app, unload).  An instance is
 * known to its programs by its xfsm_ctl, which every one of them reads:
 * the generic program and each generated one, a stale one too, also
 * when xfsm_progs[XFSM_PROGS_GENERIC] no longer names the generic one
 * (emptied, or the array replaced).  For a program that reads no
 * xfsm_ctl, by its xfsm_progs.  The ports map is not the rule: a
 * generated program names one only where it has a port block.
 */
struct xfsm_owner {
	__u32	ctl_id;		/* the instance's xfsm_ctl map id, 0: none */
	__u32	progs_id;	/* its xfsm_progs map id, 0: none */
};
/* st runs one of the programs of the instance `o` identifies. */
bool xfsm_xdp_state_of(const struct xfsm_xdp_state *st, const struct xfsm_owner *o);
/* The identity of the instance pinned in pin_dir (staged pins first when
 * `staged`); ids of absent pins are 0. */
void xfsm_owner_pinned(const char *pin_dir, bool staged, struct xfsm_owner *o);
/* The identity of an open instance. */
void xfsm_owner_of(const struct xfsm_instance *inst, struct xfsm_owner *o);
/* xfsm_xdp_state_of() for an open instance. */
bool xfsm_xdp_state_owned(const struct xfsm_instance *inst,
			  const struct xfsm_xdp_state *st);
/* An interface of an instance's port table and what it runs. */
struct xfsm_port_entry {
	int	ifindex;
	char	ifname[IFNAMSIZ];	/* "": not an interface (any more) */
	struct xfsm_xdp_state st;
	bool	owned;			/* st runs one of the instance's programs */
};
/* Every interface of inst's port table, read in the instance's network
 * namespace; free(*out) after use. */
int xfsm_attach_ports(struct xfsm_instance *inst, struct xfsm_port_entry **out, int *n);
/*
 * Bring every interface of inst's port table (in the instance's network
 * namespace) that plainly runs one of inst's programs to the one that
 * should run there: the program in xfsm_progs[active slot], else the
 * generic program of xfsm_progs[XFSM_PROGS_GENERIC] (a generic program
 * of the instance that an earlier load attached may stay); atomically
 * (XDP_FLAGS_REPLACE against what runs).  A dispatcher, an offloaded
 * program, another's program or an instance without the generic entry
 * is left alone.  An interface that cannot be swapped is a warning (it
 * runs on through the generic entry).  Returns how many were swapped, or
 * -errno when the instance cannot be read or its namespace entered.
 * Callers serialise it with switches (xfsm_instance_lock()).
 */
int xfsm_attach_direct(struct xfsm_instance *inst);
/* Every xfsm program an interface runs: the one attached directly (for a
 * generated program, the generic program of its instance, which the pins
 * name), or each xfsm component of its libxdp dispatcher (an interrupted
 * reload can leave two).  Stores at most max ids; returns how many. */
int xfsm_xdp_xfsm_progs(int ifindex, __u32 *ids, int max);

/* The generic datapath whose flow tables hold struct xfsm_flow_head
 * (xfsm_build_info.compact_flows), beside xfsm.bpf.o. */
#define XFSM_COMPACT_OBJ	"xfsm-compact.bpf.o"

/* The flow value layout of a load (include/xfsm/abi.h, struct xfsm_flow). */
enum xfsm_flow_value {
	XFSM_FLOW_VALUE_KEEP,		/* the pinned instance's; full for a new one */
	XFSM_FLOW_VALUE_FULL,		/* struct xfsm_flow */
	XFSM_FLOW_VALUE_COMPACT,	/* struct xfsm_flow_head */
};

struct xfsm_load_opts {
	const char *instance;		/* NULL: "default" */
	const char *pin_dir;		/* NULL: /sys/fs/bpf/xfsm/<instance> */
	const char *obj_path;		/* NULL: searched */
	const char *exe_dir;		/* directory of the executable */
	enum xfsm_xdp_mode mode;	/* NONE: native */
	__u32	flows;			/* 0: keep pinned / default */
	/* One flow table's entries (xfsm_flow_table_classes' order); 0: flows */
	__u32	flows_per_table[XFSM_FLOW_TABLE_CLASSES];
	int	flow_lru;		/* -1: keep pinned / default (LRU) */
	__u32	rules;			/* 0: keep pinned / default */
	bool	force;
	bool	reset;
	/* ACL tables' capacities, per buffer (lib/xfsm_acl.h): rules and
	 * cut-tree nodes.  acl_set[t] bit 0: acl_rules[t] given, bit 1:
	 * acl_nodes[t] given (0 is a valid capacity).  Rules given without
	 * nodes get XFSM_ACL_DEF_NODES_PER_RULE nodes each.  Nothing given:
	 * keep the pinned capacities, or the defaults. */
	__u32	acl_rules[XFSM_ACL_TABLES];
	__u32	acl_nodes[XFSM_ACL_TABLES];
	__u8	acl_set[XFSM_ACL_TABLES];
	enum xfsm_flow_value flow_value;
};

int xfsm_load(const struct xfsm_load_opts *opts, char *const *ifaces, int n);

/*
 * Detach xfsm from interfaces (by name), from an instance, or from all
 * instances (ifaces NULL and instance NULL); pins of instances left with
 * no port are removed.  Only ever xfsm's own pin directories
 * (xfsm_pin_dir_check()); an instance's ports are detached in its own
 * network namespace.  Interfaces and an instance together take those
 * interfaces out of that instance, also ports it has that are detached.
 * XFSM_UNLOAD_FORCE: an instance whose namespace cannot be entered (gone
 * with its interfaces) loses its pins all the same.
 * XFSM_UNLOAD_KEEP_MAPS: only detach; pins and port numbers stay, so that a
 * load of the same interfaces resumes with the flows, registers and
 * application.
 */
#define XFSM_UNLOAD_FORCE	(1U << 0)
#define XFSM_UNLOAD_KEEP_MAPS	(1U << 1)
int xfsm_unload(char *const *ifaces, int n, const char *instance,
		const char *pin_dir, bool all, unsigned int flags);

/* Privileges: -EPERM with a message when CAP_NET_ADMIN or CAP_BPF
 * (CAP_SYS_ADMIN) are missing. */
int xfsm_check_privileges(const char *what);

/* ---- Status ------------------------------------------------------------------- */

struct xfsm_status_port {
	char	ifname[IFNAMSIZ];	/* "" when the ifindex is unknown here */
	int	ifindex;
	__u32	port;
	enum xfsm_xdp_mode mode;	/* NONE: not attached */
	__u32	prog_id;
	bool	up;			/* administratively up */
	bool	running;		/* operationally up (carrier) */
	bool	attached;		/* runs this instance's datapath */
	bool	dispatcher;
	__u32	mtu;
	int	n_traps;		/* xfsm_port_traps(): found, or -errno */
	struct xfsm_trap traps[XFSM_TRAPS_MAX];
	bool	specialized;		/* prog_id is a generated program,
					 * attached directly */
	char	prog_name[64];		/* prog_id's name */
};

struct xfsm_status_table {
	const char *name;
	const char *flows;		/* a flow table's name for --flows TABLE=N
					 * ("narrow"), NULL for another map */
	__u32	max_entries;
	long	used;			/* -1: not counted (arrays) */
};

#define XFSM_STATUS_TABLES	5

struct xfsm_status_inst {
	char	name[64];
	char	pin_dir[256];		/* "" for an unpinned datapath */
	__u32	prog_id;		/* the instance's program (pinned) */
	struct xfsm_netns netns;	/* where its ports are */
	bool	netns_known;		/* recorded (else: assumed here) */
	bool	netns_here;		/* the caller's namespace */
	bool	netns_lost;		/* recorded, but cannot be entered */
	bool	interrupted;		/* a killed load left staged pins */
	bool	abi_known;
	struct xfsm_build_info build;
	const char *flow_table;		/* "lru" / "hash" */
	struct xfsm_status_table tables[XFSM_STATUS_TABLES];
	int	n_tables;
	struct xfsm_status_port *ports;
	int	n_ports;
};

int xfsm_status_collect(struct xfsm_status_inst **out, int *n);
void xfsm_status_free(struct xfsm_status_inst *st, int n);

/* ---- Helpers shared by lib/attach*.c ---------------------------------- */

__u32 xfsm_mode_flags(enum xfsm_xdp_mode m);	/* XDP_FLAGS_*_MODE */
int xfsm_prog_name(__u32 id, char *buf, size_t len);
/* Map of a program by name (or name suffix): its id, 0 when absent. */
__u32 xfsm_prog_map_id(__u32 prog_id, const char *name, bool suffix);
__u32 xfsm_fd_id(int fd);	/* id of a BPF map or program fd */
/* A port table we can read: u32 ifindex -> struct xfsm_port. */
bool xfsm_ports_map_ok(int fd);

#endif /* XFSM_ATTACH_H */
