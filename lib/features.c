// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Kernel feature probes (lib/xfsm_features.h).  Each probe asks the kernel
 * itself: it creates a map or loads a program that needs the feature and
 * no other, and takes the kernel's answer.  Release numbers are printed for
 * the reader, never compared: distribution kernels carry backports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xfsm/abi.h"
#include "xfsm_features.h"
#include "xfsm_file.h"

static const struct xfsm_feature_desc descs[XFSM_FEAT__MAX] = {
	[XFSM_FEAT_XDP] = { "xdp", "XDP programs", "4.8", true,
		"everything: the datapath is an XDP program" },
	[XFSM_FEAT_BTF] = { "btf", "BTF type information", "4.18", true,
		"everything: maps with locks and global functions are described by BTF" },
	[XFSM_FEAT_GLOBAL_FUNC] = { "global_func", "global BPF functions", "5.6", true,
		"everything: each stage is verified as global functions" },
	[XFSM_FEAT_SPIN_LOCK] = { "spin_lock", "bpf_spin_lock in map values", "5.1", true,
		"everything: flow and global register updates take locks" },
	[XFSM_FEAT_ATOMICS] = { "atomics", "BPF atomic fetch operations", "5.12", true,
		"everything: the datapath is built for -mcpu=v3" },
	[XFSM_FEAT_LRU_HASH] = { "lru_hash", "LRU hash maps", "4.10", false,
		"the default flow table: load with --flow-table hash" },
	[XFSM_FEAT_PERCPU_ARRAY] = { "percpu_array", "per-CPU arrays", "4.6", true,
		"everything: counters and the working set are per-CPU" },
	[XFSM_FEAT_MAP_IN_MAP] = { "map_in_map", "arrays of maps", "4.12", true,
		"applying applications and ACLs: a swap waits for packets in flight "
		"through a map-in-map update" },
	[XFSM_FEAT_DEVMAP_HASH] = { "devmap_hash", "device hash maps", "5.4", true,
		"everything: output ports live in a device hash map" },
	[XFSM_FEAT_BROADCAST] = { "broadcast", "redirect to every port (BPF_F_BROADCAST)", "5.14", false,
		"the flood action: packets to be flooded are dropped and counted as bad_port" },
	[XFSM_FEAT_XSKMAP] = { "xskmap", "AF_XDP socket maps", "4.18", true,
		"everything: the datapath declares a map of AF_XDP sockets" },
	[XFSM_FEAT_DISPATCHER] = { "dispatcher", "freplace programs (libxdp's dispatcher)", "5.10", false,
		"sharing an interface with other XDP programs: xfsm attaches alone" },
};

const struct xfsm_feature_desc *xfsm_feature_desc(enum xfsm_feature f)
{
	return (unsigned int)f < XFSM_FEAT__MAX ? &descs[f] : NULL;
}

/* ---- Instruction builders ------------------------------------------------- */

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src,
			      .off = off, .imm = imm };
	return i;
}

#define MOV64_IMM(dst, imm)	insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define EXIT()			insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define CALL_HELPER(id)		insn(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALL_LOCAL(rel)		insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel)

/* ---- Probes ------------------------------------------------------------------ */

static enum xfsm_feature_state answer(int ok_or_errno)
{
	if (ok_or_errno >= 0)
		return XFSM_FEAT_YES;
	/* The kernel's refusals; anything else says nothing of the kernel. */
	switch (-ok_or_errno) {
	case EINVAL:
	case EPERM:
	case EACCES:
	case E2BIG:
	case EOPNOTSUPP:
	case 524:	/* ENOTSUPP, the kernel's own */
		return XFSM_FEAT_NO;
	default:
		return XFSM_FEAT_UNKNOWN;
	}
}

static enum xfsm_feature_state probe_libbpf(int r)
{
	if (r == 1)
		return XFSM_FEAT_YES;
	if (r == 0)
		return XFSM_FEAT_NO;
	return XFSM_FEAT_UNKNOWN;
}

static int load_xdp(const struct bpf_insn *insns, size_t n, struct bpf_prog_load_opts *o)
{
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", insns, n, o);

	return fd < 0 ? -errno : fd;
}

/* An atomic fetch-add on the stack: before 5.12 the same opcode was
 * BPF_XADD, whose imm had to be 0. */
static enum xfsm_feature_state probe_atomics(void)
{
	struct bpf_insn p[] = {
		insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0),
		MOV64_IMM(BPF_REG_1, 1),
		insn(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_10, BPF_REG_1, -8,
		     BPF_ADD | BPF_FETCH),
		MOV64_IMM(BPF_REG_0, XDP_PASS),
		EXIT(),
	};
	int fd = load_xdp(p, sizeof(p) / sizeof(p[0]), NULL);

	if (fd >= 0)
		close(fd);
	return answer(fd);
}

/* BTF of the probes: int, int (void), two global functions, a struct
 * holding a struct bpf_spin_lock, and two global functions taking the XDP
 * context (int (struct xdp_md *)). */
struct probe_btf {
	struct btf *btf;
	int	fd;
	int	int_id, main_id, sub_id, lock_val_id;
	int	ctx_main_id, ctx_sub_id;
};

static int probe_btf_build(struct probe_btf *b)
{
	int proto, lock;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->btf = btf__new_empty();
	if (!b->btf)
		return -errno;
	b->int_id = btf__add_int(b->btf, "int", 4, BTF_INT_SIGNED);
	proto = btf__add_func_proto(b->btf, b->int_id);
	b->main_id = btf__add_func(b->btf, "xfsm_probe_main", BTF_FUNC_GLOBAL, proto);
	b->sub_id = btf__add_func(b->btf, "xfsm_probe_sub", BTF_FUNC_GLOBAL, proto);
	{
		/* The verifier knows a context argument by its struct's name. */
		int md = btf__add_struct(b->btf, "xdp_md", 0);
		int ptr = md > 0 ? btf__add_ptr(b->btf, md) : md;
		int cproto = ptr > 0 ? btf__add_func_proto(b->btf, b->int_id) : ptr;

		if (cproto > 0 && !btf__add_func_param(b->btf, "ctx", ptr)) {
			b->ctx_main_id = btf__add_func(b->btf, "xfsm_probe_ctx_main",
						       BTF_FUNC_GLOBAL, cproto);
			b->ctx_sub_id = btf__add_func(b->btf, "xfsm_probe_ctx_sub",
						      BTF_FUNC_GLOBAL, cproto);
		}
	}
	lock = btf__add_struct(b->btf, "bpf_spin_lock", 4);
	if (lock > 0)
		btf__add_field(b->btf, "val", b->int_id, 0, 0);
	b->lock_val_id = btf__add_struct(b->btf, "xfsm_probe_val", 4);
	if (b->lock_val_id > 0)
		btf__add_field(b->btf, "lock", lock, 0, 0);
	if (b->int_id < 0 || proto < 0 || b->main_id < 0 || b->sub_id < 0 ||
	    lock < 0 || b->lock_val_id < 0)
		return -ENOMEM;
	if (btf__load_into_kernel(b->btf))
		return -errno ? -errno : -EINVAL;
	b->fd = btf__fd(b->btf);
	return 0;
}

static void probe_btf_free(struct probe_btf *b)
{
	btf__free(b->btf);	/* closes b->fd */
}

/* main() calls sub(); both global.  Returns the program's fd. */
static int load_global_pair(const struct probe_btf *b)
{
	struct bpf_insn p[] = {
		CALL_LOCAL(2),
		MOV64_IMM(BPF_REG_0, XDP_PASS),
		EXIT(),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	struct bpf_func_info fi[] = {
		{ .insn_off = 0, .type_id = b->main_id },
		{ .insn_off = 3, .type_id = b->sub_id },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_btf_fd = b->fd, .func_info = fi,
		    .func_info_cnt = 2, .func_info_rec_size = sizeof(fi[0]));

	return load_xdp(p, sizeof(p) / sizeof(p[0]), &o);
}

/* An extension program replacing sub() in a loaded program: what libxdp's
 * dispatcher loads for each of its components.  A locked-down kernel may
 * refuse it (EPERM) although it knows the program type. */
static enum xfsm_feature_state probe_freplace(const struct probe_btf *b, int target)
{
	struct bpf_insn p[] = { MOV64_IMM(BPF_REG_0, XDP_PASS), EXIT() };
	struct bpf_func_info fi = { .insn_off = 0, .type_id = b->sub_id };
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_btf_fd = b->fd, .func_info = &fi,
		    .func_info_cnt = 1, .func_info_rec_size = sizeof(fi),
		    .attach_prog_fd = target, .attach_btf_id = b->sub_id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_EXT, NULL, "GPL", p, 2, &o);

	if (fd < 0)
		return answer(-errno);
	close(fd);
	return XFSM_FEAT_YES;
}

/*
 * Behind libxdp's dispatcher the datapath runs as an extension program, a
 * second copy of xfsm_xdp sharing every map with the instance's own plain
 * XDP program, xfsm_progs among them, through which xfsm_xdp tail-calls a
 * slot's specialized program.  A kernel takes a tail call only through a
 * program array whose first user matches the caller: the same program
 * type (an extension counts as the type of the program it extends only
 * on kernels that resolve it so), and on stable kernels since 2025 the
 * same expected attach type, which is why every program sharing
 * xfsm_progs is loaded with XFSM_PROGS_ATTACH_TYPE, an extension's.
 * Where the kernel refuses, the copy's load fails only after its whole
 * verification (minutes under emulation), and libbpf verifies it once
 * more for the log.  So the same three programs, small: a target with a
 * global function taking the context (the dispatcher), a plain program
 * loaded as the loader loads xfsm_xdp that tail-calls through a program
 * array, and an extension replacing the target's function that tail-calls
 * through the same array (the copy).
 */
static enum xfsm_feature_state probe_freplace_tail_call(const struct probe_btf *b)
{
	enum xfsm_feature_state st;
	int map, owner = -1, target = -1, fd;

	if (b->ctx_main_id <= 0 || b->ctx_sub_id <= 0)
		return XFSM_FEAT_UNKNOWN;
	map = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "xfsm_probe", 4, 4, 1, NULL);
	if (map < 0)
		return answer(-errno);
	{
		/* r1 is the context on entry, as bpf_tail_call() wants it. */
		struct bpf_insn tail[] = {
			insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0, map),
			insn(0, 0, 0, 0, 0),
			MOV64_IMM(BPF_REG_3, 0),
			CALL_HELPER(BPF_FUNC_tail_call),
			MOV64_IMM(BPF_REG_0, XDP_PASS),
			EXIT(),
		};
		struct bpf_insn pair[] = {
			CALL_LOCAL(2),
			MOV64_IMM(BPF_REG_0, XDP_PASS),
			EXIT(),
			MOV64_IMM(BPF_REG_0, XDP_PASS),
			EXIT(),
		};
		struct bpf_func_info fi[] = {
			{ .insn_off = 0, .type_id = b->ctx_main_id },
			{ .insn_off = 3, .type_id = b->ctx_sub_id },
		};
		struct bpf_func_info efi = { .insn_off = 0, .type_id = b->ctx_sub_id };
		LIBBPF_OPTS(bpf_prog_load_opts, to, .prog_btf_fd = b->fd, .func_info = fi,
			    .func_info_cnt = 2, .func_info_rec_size = sizeof(fi[0]));
		LIBBPF_OPTS(bpf_prog_load_opts, oo,
			    .expected_attach_type = XFSM_PROGS_ATTACH_TYPE);

		owner = load_xdp(tail, sizeof(tail) / sizeof(tail[0]), &oo);
		if (owner < 0) {
			st = answer(owner);
			goto out;
		}
		target = load_xdp(pair, sizeof(pair) / sizeof(pair[0]), &to);
		if (target < 0) {
			st = answer(target);
			goto out;
		}
		{
			LIBBPF_OPTS(bpf_prog_load_opts, eo, .prog_btf_fd = b->fd,
				    .func_info = &efi, .func_info_cnt = 1,
				    .func_info_rec_size = sizeof(efi),
				    .attach_prog_fd = target, .attach_btf_id = b->ctx_sub_id);

			fd = bpf_prog_load(BPF_PROG_TYPE_EXT, NULL, "GPL", tail,
					   sizeof(tail) / sizeof(tail[0]), &eo);
		}
		if (fd < 0) {
			st = answer(-errno);
			goto out;
		}
		close(fd);
		st = XFSM_FEAT_YES;
	}
out:
	if (target >= 0)
		close(target);
	if (owner >= 0)
		close(owner);
	close(map);
	return st;
}

static enum xfsm_feature_state probe_spin_lock(const struct probe_btf *b)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .btf_fd = b->fd,
		    .btf_key_type_id = b->int_id, .btf_value_type_id = b->lock_val_id);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xfsm_probe", 4, 4, 1, &o);

	if (fd < 0)
		return answer(-errno);
	close(fd);
	return XFSM_FEAT_YES;
}

/*
 * bpf_redirect_map(devmap, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS),
 * run once on a test frame: a kernel that knows the flags answers
 * XDP_REDIRECT; an older one takes them for an invalid fallback action and
 * answers XDP_ABORTED.  The verifier accepts either.
 */
static enum xfsm_feature_state probe_broadcast(void)
{
	unsigned char frame[64] = { 0 };
	enum xfsm_feature_state st;
	int map, fd;

	map = bpf_map_create(BPF_MAP_TYPE_DEVMAP_HASH, "xfsm_probe", 4, 4, 1, NULL);
	if (map < 0)
		return answer(-errno);
	{
		struct bpf_insn p[] = {
			insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map),
			insn(0, 0, 0, 0, 0),
			MOV64_IMM(BPF_REG_2, 0),
			MOV64_IMM(BPF_REG_3, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS),
			CALL_HELPER(BPF_FUNC_redirect_map),
			EXIT(),
		};
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 1);

		fd = load_xdp(p, sizeof(p) / sizeof(p[0]), NULL);
		if (fd < 0) {
			close(map);
			return answer(fd);
		}
		if (bpf_prog_test_run_opts(fd, &t))
			st = XFSM_FEAT_UNKNOWN;
		else
			st = t.retval == XDP_REDIRECT ? XFSM_FEAT_YES : XFSM_FEAT_NO;
	}
	close(fd);
	close(map);
	return st;
}

static void read_lockdown(char *buf, size_t len)
{
	char *text, *a, *b;
	size_t n;

	snprintf(buf, len, "unknown");
	if (xfsm_read_file("/sys/kernel/security/lockdown", &text, &n, NULL, 0))
		return;
	a = strchr(text, '[');
	b = a ? strchr(a, ']') : NULL;
	if (a && b && b - a - 1 < (long)len) {
		memcpy(buf, a + 1, b - a - 1);
		buf[b - a - 1] = '\0';
	}
	free(text);
}

int xfsm_features_probe(struct xfsm_features *ft)
{
	struct probe_btf b;
	struct utsname u;
	int target, err, i;

	memset(ft, 0, sizeof(*ft));
	for (i = 0; i < XFSM_FEAT__MAX; i++)
		ft->state[i] = XFSM_FEAT_UNKNOWN;
	if (!uname(&u))
		snprintf(ft->release, sizeof(ft->release), "%s", u.release);
	read_lockdown(ft->lockdown, sizeof(ft->lockdown));

	ft->state[XFSM_FEAT_XDP] = probe_libbpf(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL));
	ft->state[XFSM_FEAT_LRU_HASH] =
		probe_libbpf(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LRU_HASH, NULL));
	ft->state[XFSM_FEAT_PERCPU_ARRAY] =
		probe_libbpf(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERCPU_ARRAY, NULL));
	ft->state[XFSM_FEAT_MAP_IN_MAP] =
		probe_libbpf(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL));
	ft->state[XFSM_FEAT_DEVMAP_HASH] =
		probe_libbpf(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_DEVMAP_HASH, NULL));
	ft->state[XFSM_FEAT_XSKMAP] =
		probe_libbpf(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_XSKMAP, NULL));
	ft->state[XFSM_FEAT_ATOMICS] = probe_atomics();
	if (ft->state[XFSM_FEAT_DEVMAP_HASH] == XFSM_FEAT_YES)
		ft->state[XFSM_FEAT_BROADCAST] = probe_broadcast();
	else
		ft->state[XFSM_FEAT_BROADCAST] = ft->state[XFSM_FEAT_DEVMAP_HASH];

	err = probe_btf_build(&b);
	if (err) {
		ft->state[XFSM_FEAT_BTF] = answer(err);
		/* Without BTF there are no global functions, no locks in map
		 * values and no extension programs. */
		if (ft->state[XFSM_FEAT_BTF] == XFSM_FEAT_NO) {
			ft->state[XFSM_FEAT_GLOBAL_FUNC] = XFSM_FEAT_NO;
			ft->state[XFSM_FEAT_SPIN_LOCK] = XFSM_FEAT_NO;
			ft->state[XFSM_FEAT_DISPATCHER] = XFSM_FEAT_NO;
		}
		probe_btf_free(&b);
		return 0;
	}
	ft->state[XFSM_FEAT_BTF] = XFSM_FEAT_YES;
	ft->state[XFSM_FEAT_SPIN_LOCK] = probe_spin_lock(&b);
	target = load_global_pair(&b);
	ft->state[XFSM_FEAT_GLOBAL_FUNC] = answer(target);
	if (target >= 0) {
		ft->state[XFSM_FEAT_DISPATCHER] = probe_freplace(&b, target);
		if (ft->state[XFSM_FEAT_DISPATCHER] == XFSM_FEAT_YES)
			ft->state[XFSM_FEAT_DISPATCHER] = probe_freplace_tail_call(&b);
		close(target);
	} else if (ft->state[XFSM_FEAT_GLOBAL_FUNC] == XFSM_FEAT_NO) {
		ft->state[XFSM_FEAT_DISPATCHER] = XFSM_FEAT_NO;
	}
	probe_btf_free(&b);
	return 0;
}

int xfsm_features_missing(const struct xfsm_features *ft, bool required,
			  char *buf, size_t len)
{
	size_t used = 0;
	int n = 0, i, w;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < XFSM_FEAT__MAX; i++) {
		if (ft->state[i] != XFSM_FEAT_NO || descs[i].required != required)
			continue;
		w = snprintf(buf + used, used < len ? len - used : 0, "%s%s (Linux %s)",
			     n ? ", " : "", descs[i].what, descs[i].since);
		if (w > 0)
			used += (size_t)w;
		n++;
	}
	if (len && used >= len)
		buf[len - 1] = '\0';
	return n;
}
