/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bpf.h"
#include "diff.h"
#include "xfsm_attach.h"
#include "xfsm_datapath.h"
#include "xfsm_plan.h"

static char build_dir[PATH_MAX];

const char *xt_build_dir(void)
{
	const char *env = getenv("XFSM_BUILD");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int i;

	if (env && *env)
		return env;
	if (build_dir[0])
		return build_dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* strip "/test_x" and "/selftests" (or "/bench") */
		for (i = 0; i < 2; i++) {
			slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		if (i == 2 && exe[0]) {
			snprintf(build_dir, sizeof(build_dir), "%s", exe);
			return build_dir;
		}
	}
	return "build";
}

const char *xt_src_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("XFSM_SRC");
	char probe[PATH_MAX + 32];

	if (env && *env)
		return env;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/..", xt_build_dir());
		snprintf(probe, sizeof(probe), "%s/examples/portknock.xfsm", dir);
		if (access(probe, R_OK))
			snprintf(dir, sizeof(dir), ".");
	}
	return dir;
}

const char *xt_obj_path(enum xt_profile profile)
{
	static char path[3][PATH_MAX + 32];
	static const char *const names[] = {
		[XT_NATIVE] = "xfsm.bpf.o",
		[XT_OFFLOAD] = "xfsm-offload.bpf.o",
		[XT_EMPTY] = "xdp_empty.bpf.o",
	};

	snprintf(path[profile], sizeof(path[profile]), "%s/%s", xt_build_dir(),
		 names[profile]);
	return path[profile];
}

const char *xt_opts_obj_path(const struct xt_opts *opts)
{
	static char path[PATH_MAX + 32];

	if (!opts->compact || opts->profile != XT_NATIVE)
		return xt_obj_path(opts->profile);
	snprintf(path, sizeof(path), "%s/xfsm-compact.bpf.o", xt_build_dir());
	return path;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int xt_open(struct xt *t, const struct xt_opts *opts)
{
	struct xt_opts def = { .profile = XT_NATIVE };
	const char *path;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	if (!opts)
		opts = &def;
	memset(t, 0, sizeof(*t));
	t->prog_fd = -1;
	t->profile = opts->profile;
	libbpf_set_print(quiet_libbpf);

	path = xt_opts_obj_path(opts);
	t->obj = bpf_object__open_file(path, NULL);
	if (!t->obj) {
		err = -errno;
		fprintf(stderr, "xt_open: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (opts->profile != XT_EMPTY) {
		map = bpf_object__find_map_by_name(t->obj, XFSM_MAP_FLOWS);
		if (!map) {
			fprintf(stderr, "xt_open: %s has no map %s\n", path, XFSM_MAP_FLOWS);
			err = -ENOENT;
			goto fail;
		}
		/* the sizes the test asks for (ACL: native only) */
		err = xfsm_obj_size_maps(t->obj, &(struct xfsm_map_sizes){
			.flows = opts->flows_max, .flow_type = opts->flows_type,
			.rules = opts->rules_max, .rule_stats = 2 * opts->rules_max,
			.acl = opts->profile == XT_NATIVE ? opts->acl_caps : NULL });
		if (err) {
			fprintf(stderr, "xt_open: cannot size the maps: %s\n", strerror(-err));
			goto fail;
		}
	}
	err = xfsm_obj_load(t->obj);
	if (err) {
		fprintf(stderr, "xt_open: cannot load %s: %s\n", path, strerror(-err));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(t->obj,
		opts->profile == XT_EMPTY ? "xdp_empty" : XFSM_PROG_NAME);
	if (!prog && opts->profile == XT_EMPTY)
		prog = bpf_object__next_program(t->obj, NULL);
	if (!prog) {
		fprintf(stderr, "xt_open: %s has no program %s\n", path, XFSM_PROG_NAME);
		err = -ENOENT;
		goto fail;
	}
	t->prog_fd = bpf_program__fd(prog);
	if (opts->profile == XT_EMPTY)
		return 0;
	err = xfsm_instance_open_obj(t->obj, &t->inst);
	if (err) {
		fprintf(stderr, "xt_open: xfsm_instance_open_obj: %s\n", strerror(-err));
		goto fail;
	}
	/* The generic program takes back what a specialized program does
	 * not handle (xfsm-loader installs it the same way). */
	if (t->inst->map_fd[XFSM_M_PROGS] >= 0) {
		__u32 k = XFSM_PROGS_GENERIC;

		if (bpf_map_update_elem(t->inst->map_fd[XFSM_M_PROGS], &k, &t->prog_fd, BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "xt_open: install the generic program in %s: %s\n",
				XFSM_MAP_PROGS, strerror(-err));
			goto fail;
		}
	}
	if (opts->acl_caps && opts->profile == XT_NATIVE) {
		err = xfsm_acl_caps_set(t->inst, opts->acl_caps);
		if (err) {
			fprintf(stderr, "xt_open: ACL capacities: %s\n", strerror(-err));
			goto fail;
		}
	}
	err = xt_reset(t);
	if (err)
		goto fail;
	return 0;
fail:
	xt_close(t);
	return err;
}

void xt_close(struct xt *t)
{
	if (t->inst)
		xfsm_instance_close(t->inst);
	if (t->obj)
		bpf_object__close(t->obj);
	t->inst = NULL;
	t->obj = NULL;
	t->prog_fd = -1;
}

static int clear_hash(int fd, __u32 key_size)
{
	unsigned char key[256], next[256];
	int err;

	if (fd < 0 || key_size > sizeof(key))
		return 0;
	/* Delete from the first key each time: deleting while walking can
	 * restart the walk anyway. */
	while (!(err = bpf_map_get_next_key(fd, NULL, next))) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

int xt_set_clock(struct xt *t, __u64 ns)
{
	struct xfsm_ctl ctl;
	__u32 zero = 0;
	int fd = t->inst->map_fd[XFSM_M_CTL];

	if (bpf_map_lookup_elem(fd, &zero, &ctl))
		return -errno;
	ctl.clock_ns = ns;
	if (bpf_map_update_elem(fd, &zero, &ctl, BPF_ANY))
		return -errno;
	t->clock_ns = ns;
	return 0;
}

int xt_reset(struct xt *t)
{
	unsigned int i;
	int err;

	if (!t->inst)
		return 0;
	if (xfsm_flow_flush(t->inst, -1) < 0)
		fprintf(stderr, "xt_reset: flow flush failed\n");
	if (xt_count_flows(t, -1) > 0) {
		const struct xfsm_flow_table_class *c;

		xfsm_for_each_flow_table(c)
			if (t->inst->map_fd[c->id] >= 0)
				clear_hash(t->inst->map_fd[c->id], t->inst->map_key_size[c->id]);
	}
	err = xfsm_reset_stats(t->inst);
	if (err) {
		fprintf(stderr, "xt_reset: reset stats: %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < XFSM_GLOBAL_REGS; i++)
		if ((err = xfsm_global_set(t->inst, i, 0)))
			return err;
	clear_hash(t->inst->map_fd[XFSM_M_PORTS], sizeof(__u32));
	clear_hash(t->inst->map_fd[XFSM_M_TX_PORTS], sizeof(__u32));
	if ((err = xfsm_ports_changed(t->inst->map_fd[XFSM_M_PORT_GEN])))
		return err;
	err = xfsm_ctl_set_malformed_verdict(t->inst, XFSM_VERDICT_PASS);
	if (err)
		return err;
	/* no specialized program left from an earlier test */
	for (i = 0; t->inst->map_fd[XFSM_M_PROGS] >= 0 && i < XFSM_APP_SLOTS; i++)
		bpf_map_delete_elem(t->inst->map_fd[XFSM_M_PROGS], &i);
	return xt_set_clock(t, t->profile == XT_OFFLOAD ? 1000000000ULL : 0);
}

int xt_run(struct xt *t, const void *data, __u32 len, __u32 ifindex,
	   struct xt_result *r)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.data_out = r->data,
		.data_size_out = sizeof(r->data),
		.repeat = 1,
	);

	if (ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	memset(r, 0, offsetof(struct xt_result, data));
	if (bpf_prog_test_run_opts(t->prog_fd, &opts)) {
		r->err = -errno;
		return r->err;
	}
	r->verdict = opts.retval;
	r->len = opts.data_size_out;
	r->duration = opts.duration;
	return 0;
}

int xt_run_pkt(struct xt *t, const struct pkt *p, __u32 ifindex,
	       struct xt_result *r)
{
	return xt_run(t, p->data, p->len, ifindex, r);
}

int xt_run_repeat(struct xt *t, const void *data, __u32 len, __u32 ifindex,
		  __u32 repeat, __u32 *verdict, __u32 *duration)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.repeat = repeat,
	);

	if (ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(t->prog_fd, &opts))
		return -errno;
	if (verdict)
		*verdict = opts.retval;
	if (duration)
		*duration = opts.duration;
	return 0;
}

int xt_advance_ms(struct xt *t, __u32 ms)
{
	if (!ms)
		return 0;
	if (t->profile == XT_OFFLOAD)
		return xt_set_clock(t, t->clock_ns + (__u64)ms * 1000000ULL);
	usleep(ms * 1000);
	return 0;
}

int xt_set_port(struct xt *t, __u32 ifindex, __u32 port)
{
	struct xfsm_port v = { .port = port };
	int fd = t->inst->map_fd[XFSM_M_PORTS];

	if (bpf_map_update_elem(fd, &ifindex, &v, BPF_ANY))
		return -errno;
	return xfsm_ports_changed(t->inst->map_fd[XFSM_M_PORT_GEN]);
}

int xt_set_tx_port(struct xt *t, __u32 port, __u32 ifindex)
{
	int fd = t->inst->map_fd[XFSM_M_TX_PORTS];

	if (fd < 0)
		return -EOPNOTSUPP;
	if (bpf_map_update_elem(fd, &port, &ifindex, BPF_ANY))
		return -errno;
	return 0;
}

/* $XT_DATAPATH picks the datapath every golden table runs on (diff.h):
 * the same expectations then check the specialized program too. */
int xt_apply(struct xt *t, const struct xfsm_image *img)
{
	/* packets come from BPF_PROG_TEST_RUN: a test sets the ports it
	 * sends to or from itself (xt_set_port(), xt_set_tx_port()) */
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .unchecked_ports = true);
	int err;

	if (t->profile == XT_NATIVE)
		o.datapath = xt_datapath_env();
	err = xfsm_apply(t->inst, img, &o);
	if (err) {
		fprintf(stderr, "xt_apply: %s%s\n", strerror(-err),
			o.datapath == XFSM_DP_SPECIALIZED ?
			" (XT_DATAPATH=specialized: the specialized datapath was required)" : "");
		return err;
	}
	return t->profile == XT_NATIVE ? xt_datapath_check(t) : 0;
}

int xt_datapath_check(struct xt *t)
{
	__u32 mode = xt_datapath_env(), slot, id = 0;
	struct xfsm_dp_record r;
	int err;

	if (mode == XFSM_DP_GENERIC)
		return 0;
	err = xfsm_dp_running(t->inst, &slot, &r, false);
	if (err) {
		fprintf(stderr, "xt_datapath_check: cannot read what runs the application: %s\n",
			strerror(-err));
		return err;
	}
	if (!r.specialized) {
		/* reported either way; a failure where it was required */
		fprintf(stderr, "xt: the generic datapath runs this table%s: %s\n",
			mode == XFSM_DP_SPECIALIZED ? " (XT_DATAPATH=specialized)" : "", r.why);
		return mode == XFSM_DP_SPECIALIZED ? -EPROTO : 0;
	}
	/* the library's word is not proof: the program must be there */
	if (t->inst->map_fd[XFSM_M_PROGS] < 0 ||
	    bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_PROGS], &slot, &id) || id != r.prog_id) {
		fprintf(stderr, "xt_datapath_check: the record says program %u runs slot %u, xfsm_progs holds %u\n",
			r.prog_id, slot, id);
		return -EPROTO;
	}
	return 0;
}

__u32 xt_active_slot(struct xt *t)
{
	struct xfsm_ctl ctl = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &ctl);
	return ctl.active & 1;
}

int xt_forget_histories(struct xt *a, struct xt *b)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true);
	struct xfsm_image img;
	int i, err = 0;

	xfsm_image_init(&img);
	for (i = 0; i < 2 && !err; i++)
		err = xfsm_apply(a->inst, &img, &o) ?: xfsm_apply(b->inst, &img, &o);
	if (!err && xt_active_slot(a) != xt_active_slot(b))
		err = xfsm_apply(a->inst, &img, &o);
	xfsm_image_free(&img);
	return err;
}

struct find_ctx {
	unsigned int stage;
	const __u32 *w;
	struct xfsm_flow_key *key;
	struct xfsm_flow *flow;
	int stage_filter;
	long count;
	bool found;
};

static int find_cb(const struct xfsm_flow_key *key, const struct xfsm_flow *flow,
		   void *arg)
{
	struct find_ctx *c = arg;

	if (c->w) {
		if (key->stage == c->stage &&
		    !memcmp(key->w, c->w, sizeof(key->w))) {
			if (c->key)
				*c->key = *key;
			if (c->flow)
				*c->flow = *flow;
			c->found = true;
			return 1;
		}
		return 0;
	}
	if (c->stage_filter < 0 || key->stage == c->stage_filter)
		c->count++;
	return 0;
}

int xt_find_flow(struct xt *t, unsigned int stage, const __u32 w[XFSM_KEY_WORDS],
		 struct xfsm_flow_key *key, struct xfsm_flow *flow)
{
	struct find_ctx c = { .stage = stage, .w = w, .key = key, .flow = flow };
	int err = xfsm_flow_foreach(t->inst, find_cb, &c);

	if (err < 0)
		return err;
	return c.found ? 0 : -ENOENT;
}

long xt_count_flows(struct xt *t, int stage)
{
	struct find_ctx c = { .stage_filter = stage };
	int err = xfsm_flow_foreach(t->inst, find_cb, &c);

	if (err < 0)
		return err;
	return c.count;
}

const char *xt_verdict_name(__u32 verdict)
{
	switch (verdict) {
	case XDP_ABORTED:	return "XDP_ABORTED";
	case XDP_DROP:		return "XDP_DROP";
	case XDP_PASS:		return "XDP_PASS";
	case XDP_TX:		return "XDP_TX";
	case XDP_REDIRECT:	return "XDP_REDIRECT";
	default:		return "XDP_?";
	}
}
