/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsm micro-benchmark: the cost of generality.  Each job runs as an xfsm
 * application and as the hand-written XDP program an engineer would write
 * for that one function (bench/ref/), through BPF_PROG_TEST_RUN on the same
 * frames, the two programs alternating round after round in one run; the
 * figure of each is its best round (noise only ever adds time), and each
 * job is loaded -P times (3) to take the median over where the kernel put
 * the programs' JIT images (measure_loads()).
 *
 *   jobs        ns per packet, xfsm / reference
 *   scaling     two test-run threads pinned to two CPUs: distinct flows
 *               per CPU, then one register shared by both, with the final
 *               counts checked against the packets sent (no lost update);
 *               packets over wall time, and two more copies of the
 *               reference in the same rounds (the A/A spread)
 *   breakdown   the datapath built to stop after each phase
 *               (build/bench/xfsm-stopN.bpf.o): the cost of each component
 *   specbreak   the small jobs' specialized program generated again with
 *               parts left out (xfsm_spec_input.omit: counter increments,
 *               statistics lookups, the ingress port block), taking turns
 *               with the reference: what each part costs of the gap
 *   prelude     (only with -o prelude) what entering a specialized program
 *               through the generic one costs: its prelude, its tail call
 *   acl         (only with -A RULES,TRACE) one ACL stage holding a rule
 *               file (ClassBench or native), generic and specialized taking
 *               turns on frames made from a ClassBench trace; there is no
 *               hand-written reference for it
 *
 * Jobs over many flows run behind bench/flowdrv.bpf.c, which rewrites the
 * source of each repetition and tail-calls the program under test; its own
 * cost (tail-calling the empty program) is printed and subtracted from
 * both sides before the ratio.
 *
 * Usage: micro [-b BUILD_DIR] [-r REPEAT] [-n ROUNDS] [-P PLACEMENTS] [-c CPU] [-q]
 *              [-o jobs,scaling,breakdown,specbreak,prelude,JOB...] [-x OBJECT] [-X OBJECT [-s]] [-W]
 *              [-J FILE]
 *              [-A RULES,TRACE]
 *   Every job is measured on the generic datapath (xfsmctl apply
 *   --datapath generic), on the program generated for it (--datapath
 *   specialized, lib/spec/; none when the specializer refuses it; run
 *   itself, as xfsm attaches it where no libxdp dispatcher stands in
 *   between) and by its reference, taking turns;
 *   -q  no 1M-flow cases;  -o  only these parts (a job's key selects that
 *   job);  -x  the xfsm object to measure (default xfsm.bpf.o);  -X  also
 *   measure this build of the datapath, taking turns with the other two
 *   (to compare a change in one run), running the job generic or, with
 *   -s, specialized (then compared with the specialized column);  -P  loads
 *   of each job (default 3);  -W  each run's wall time over its
 *   repetitions instead of the kernel's figure, which is whole ns (a
 *   fraction of a ns tells between two builds; the system call's own
 *   cost, about 1 us, is spread over the repetitions, and a preemption
 *   shows, so take the best of several rounds);  -J  JSON results too
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "libxfsm.h"
#include "xfsm_attach.h"
#include "xfsm_datapath.h"
#include "xfsm_plan.h"
#include "xfsm_lang.h"
#include "ref/load.h"
#include "xfsm_num.h"
#include "xfsm_acl.h"
#include "xfsm_spec.h"

#define MAX_FLOWS_TABLE	(1U << 21)
#define FRAME_LEN	64
#define LO_IFINDEX	1	/* the "inside" port of the firewall job */
#define SRC_IP(x)	(198U << 24 | 18U << 16 | (x))
#define DST_IP		(198U << 24 | 19U << 16 | 255U << 8 | 1)

struct frame {
	unsigned char d[FRAME_LEN];
};

static const char *build_dir = "build";
static unsigned int repeat = 1000000;
static unsigned int rounds = 7;
static unsigned int placements = 3;	/* -P: loads of each job, see run_jobs() */
static int bench_cpu = -1;
static bool skip_1m;
static const char *only;
static const char *acl_arg;	/* -A RULES,TRACE */
static const struct xfsm_acl_caps *acl_caps;	/* load_xfsm(): ACL tables' sizes */
static const char *xfsm_obj = "xfsm.bpf.o";
static const char *cand_obj;
static bool cand_spec;		/* -s: the -X build runs the job specialized */
static bool wall_clock;		/* -W: fractional ns from the wall clock */
static FILE *json;

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
}

/* Is `word` one of the comma-separated words of `list`? */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *at;

	for (at = list; (at = strstr(at, word)); at += n)
		if ((at == list || at[-1] == ',') && (at[n] == ',' || !at[n]))
			return true;
	return false;
}

static bool want(const char *part)
{
	return !only || in_list(only, part);
}

/* An object's path: under the build directory unless it is absolute. */
static void path_of(char *buf, size_t len, const char *name)
{
	if (name[0] == '/')
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", build_dir, name);
}

/* ---- frames ----------------------------------------------------------- */

static __u16 csum16(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += b[i] << 8 | b[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Ethernet / IPv4 (198.18.0.0/15) / TCP SYN or UDP, padded to 64 bytes. */
static void make_frame_to(struct frame *f, __u32 src, __u32 dst, __u8 proto, __u16 sport,
			  __u16 dport)
{
	struct ethhdr *eth = (void *)f->d;
	struct iphdr *ip = (void *)(eth + 1);

	memset(f, 0, sizeof(*f));
	memcpy(eth->h_dest, "\x02\0\0\0\0\x02", 6);
	memcpy(eth->h_source, "\x02\0\0\0\0\x01", 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = htonl(src);
	ip->daddr = htonl(dst);
	ip->check = htons(csum16(ip, sizeof(*ip)));
	if (proto == IPPROTO_TCP) {
		struct tcphdr *t = (void *)(ip + 1);

		t->source = htons(sport);
		t->dest = htons(dport);
		t->doff = 5;
		t->syn = 1;
	} else {
		struct udphdr *u = (void *)(ip + 1);

		u->source = htons(sport);
		u->dest = htons(dport);
		u->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	}
}

static void make_frame(struct frame *f, __u32 src, __u8 proto, __u16 sport, __u16 dport)
{
	make_frame_to(f, src, DST_IP, proto, sport, dport);
}

/* ---- running programs --------------------------------------------------- */

/* Run a frame `n` times; the verdict of the last run in *verdict and the
 * kernel's mean ns per run in *ns.  0 or -errno. */
static int run(int fd, const struct frame *f, __u32 ifindex, __u32 n, __u32 *verdict,
	       __u32 *ns)
{
	struct xdp_md ctx = { .data_end = FRAME_LEN, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->d, .data_size_in = FRAME_LEN,
		    .repeat = n);

	if (ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (verdict)
		*verdict = o.retval;
	if (ns)
		*ns = o.duration;
	return 0;
}

/* A program under test: an xfsm object with its instance, or a reference.
 * `drv` set: packets enter through the flow driver, which tail-calls it. */
struct prog {
	const char		*what;
	struct bpf_object	*obj;
	int			fd;
	struct xfsm_instance	*inst;	/* xfsm only */
	struct bpf_object	*drv;	/* flow driver, or NULL */
	int			drv_fd;
	int			entry_fd;	/* xfsm: the generic program */
	int			own_fd;		/* xfsm: the generated program, when > 0 */
};

static void prog_close(struct prog *p)
{
	if (p->inst)
		xfsm_instance_close(p->inst);
	if (p->obj)
		bpf_object__close(p->obj);
	if (p->drv)
		bpf_object__close(p->drv);
	if (p->own_fd > 0)
		close(p->own_fd);
	memset(p, 0, sizeof(*p));
}

static int load_xfsm(struct prog *p, const char *name)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[512];
	int err;

	memset(p, 0, sizeof(*p));
	p->what = name;
	path_of(path, sizeof(path), name);
	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj) {
		fprintf(stderr, "micro: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	err = xfsm_obj_size_maps(p->obj, &(struct xfsm_map_sizes){ .flows = MAX_FLOWS_TABLE,
								       .acl = acl_caps });
	if (err) {
		fprintf(stderr, "micro: cannot size the maps of %s: %s\n", path, strerror(-err));
		goto fail;
	}
	err = xfsm_obj_load(p->obj);
	if (err) {
		fprintf(stderr, "micro: cannot load %s\n", path);
		goto fail;
	}
	prog = bpf_object__find_program_by_name(p->obj, XFSM_PROG_NAME);
	p->fd = prog ? bpf_program__fd(prog) : -1;
	p->entry_fd = p->fd;
	/* A specialized program hands packets it does not handle to the
	 * generic one (xfsm-loader does the same). */
	map = bpf_object__find_map_by_name(p->obj, XFSM_MAP_PROGS);
	if (map && p->fd >= 0) {
		__u32 k = XFSM_PROGS_GENERIC;

		bpf_map_update_elem(bpf_map__fd(map), &k, &p->fd, BPF_ANY);
	}
	err = xfsm_instance_open_obj(p->obj, &p->inst);
	if (!err && acl_caps)
		err = xfsm_acl_caps_set(p->inst, acl_caps);
	if (!err && p->fd >= 0) {
		struct xfsm_port port = { .port = 1 };	/* lo is port 1, "inside" */
		__u32 ifindex = LO_IFINDEX;

		err = bpf_map_update_elem(p->inst->map_fd[XFSM_M_PORTS], &ifindex, &port, BPF_ANY);
		if (!err)
			err = xfsm_ports_changed(p->inst->map_fd[XFSM_M_PORT_GEN]);
	}
	if (!err)
		return 0;
	fprintf(stderr, "micro: %s: cannot set up the instance: %s\n", path, strerror(-err));
fail:
	prog_close(p);
	return err ? err : -EINVAL;
}

static int load_ref(struct prog *p, const char *name, const struct ref_setting *set,
		    unsigned int n)
{
	char path[512];

	memset(p, 0, sizeof(*p));
	p->what = name;
	path_of(path, sizeof(path), name);
	p->obj = ref_load(path, set, n, &p->fd);
	if (!p->obj) {
		fprintf(stderr, "micro: cannot load %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Put the flow driver (nflows flows) in front of p. */
static int add_driver(struct prog *p, __u32 nflows)
{
	struct ref_setting set = { "nflows", nflows };
	struct bpf_map *map;
	char path[512];
	__u32 zero = 0;

	path_of(path, sizeof(path), "bench/flowdrv.bpf.o");
	p->drv = ref_load(path, &set, 1, &p->drv_fd);
	if (!p->drv) {
		fprintf(stderr, "micro: cannot load %s: %s\n", path, strerror(errno));
		return -errno;
	}
	map = bpf_object__find_map_by_name(p->drv, "flowdrv_target");
	if (!map || bpf_map_update_elem(bpf_map__fd(map), &zero, &p->fd, BPF_ANY)) {
		fprintf(stderr, "micro: cannot chain the flow driver to %s\n", p->what);
		return -ENOENT;
	}
	return 0;
}

static int entry_fd(const struct prog *p)
{
	return p->drv ? p->drv_fd : p->fd;
}

/* Compile and install application text. */
static int apply_text(struct xfsm_instance *inst, const char *name, const char *text,
		      __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .datapath = datapath);
	struct xfsm_image img;
	char err[512] = "";
	int ret;

	ret = xfsm_compile_string(name, text, strlen(text), &img, NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "micro: %s\n", err);
		xfsm_image_free(&img);
		return ret;
	}
	ret = xfsm_apply(inst, &img, &o);
	xfsm_image_free(&img);
	return ret;
}

/* Compile and install DIR/NAME.xfsm of the source tree (next to build/). */
static int apply_file(struct xfsm_instance *inst, const char *dir, const char *name,
		      __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .datapath = datapath);
	struct xfsm_image img;
	char err[512] = "", path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/../%s/%s.xfsm", build_dir, dir, name);
	ret = xfsm_compile_file(path, &img, NULL, err, sizeof(err));
	if (!ret)
		ret = xfsm_apply(inst, &img, &o);
	else
		fprintf(stderr, "micro: %s\n", err);
	xfsm_image_free(&img);
	return ret;
}

/* ---- the jobs ------------------------------------------------------------ */

/* The 2-stage application for n marks: bench/ref/twostage.xfsm with its
 * `define marks = 16` line rewritten. */
static int apply_twostage(struct xfsm_instance *inst, __u32 n, __u32 datapath)
{
	static const char def[] = "define marks = 16\n";
	char path[512], *text = NULL, *at, *out = NULL;
	size_t len = 0;
	FILE *f;
	int err = -EINVAL;

	snprintf(path, sizeof(path), "%s/../bench/ref/twostage.xfsm", build_dir);
	f = fopen(path, "r");
	if (!f || getdelim(&text, &len, '\0', f) < 0 || !(at = strstr(text, def))) {
		fprintf(stderr, "micro: cannot read %s (with a line \"%s\")\n", path, "define marks = 16");
		goto out;
	}
	*at = '\0';
	if (asprintf(&out, "%sdefine marks = %u\n%s", text, n, at + strlen(def)) < 0) {
		out = NULL;
		err = -ENOMEM;
		goto out;
	}
	err = apply_text(inst, path, out, datapath);
out:
	if (f)
		fclose(f);
	free(text);
	free(out);
	return err;
}

enum job_app { APP_EMPTY, APP_PORTKNOCK, APP_STATEFULFW, APP_COUNTER, APP_GLOBAL, APP_TWOSTAGE };

struct job {
	const char	*name;
	const char	*key;		/* short name (JSON, breakdown) */
	enum job_app	app;
	const char	*ref;		/* bench/ref object */
	__u32		flows;		/* driver flows (0: no driver) or 2-stage marks */
	bool		knocked;	/* portknock: the source has knocked */
	bool		big;		/* a 1M case (skipped by -q) */
	__u8		proto;
	__u16		dport;
	__u32		ifindex;
	__u32		expect;		/* the verdict both must give */
};

static const struct job jobs[] = {
	{ "empty application (no stage, default drop)", "empty", APP_EMPTY,
	  "bench/ref/empty.bpf.o", 0, false, false, IPPROTO_UDP, 9, 0, XDP_DROP },
	{ "port knocking, closed port (TCP 22, never knocked)", "portknock_closed",
	  APP_PORTKNOCK, "bench/ref/portknock.bpf.o", 0, false, false, IPPROTO_TCP, 22, 0,
	  XDP_DROP },
	{ "port knocking, opened source (TCP 22 after the knocks)", "portknock_open",
	  APP_PORTKNOCK, "bench/ref/portknock.bpf.o", 0, true, false, IPPROTO_TCP, 22, 0,
	  XDP_PASS },
	{ "stateful firewall, 1 flow (UDP from inside, pass)", "statefulfw_1",
	  APP_STATEFULFW, "bench/ref/statefulfw.bpf.o", 1, false, false, IPPROTO_UDP, 9,
	  LO_IFINDEX, XDP_PASS },
	{ "stateful firewall, 1000000 flows (UDP from inside, pass)", "statefulfw_1m",
	  APP_STATEFULFW, "bench/ref/statefulfw.bpf.o", 1000000, false, true, IPPROTO_UDP, 9,
	  LO_IFINDEX, XDP_PASS },
	{ "per-source counter (reg0 = reg0 + 1, drop)", "counter", APP_COUNTER,
	  "bench/ref/counter.bpf.o", 0, false, false, IPPROTO_UDP, 9, 0, XDP_DROP },
	{ "global register (global0 = global0 + 1, drop)", "global", APP_GLOBAL,
	  "bench/ref/global.bpf.o", 0, false, false, IPPROTO_UDP, 9, 0, XDP_DROP },
	{ "2 stages (cursor + counter), 1 active flow", "twostage_1", APP_TWOSTAGE,
	  "bench/ref/twostage.bpf.o", 1, false, false, IPPROTO_UDP, 80, 0, XDP_PASS },
	{ "2 stages (cursor + counter), 10000 active flows", "twostage_10k", APP_TWOSTAGE,
	  "bench/ref/twostage.bpf.o", 10000, false, false, IPPROTO_UDP, 80, 0, XDP_PASS },
	{ "2 stages (cursor + counter), 1000000 active flows", "twostage_1m", APP_TWOSTAGE,
	  "bench/ref/twostage.bpf.o", 1000000, false, true, IPPROTO_UDP, 80, 0, XDP_PASS },
};

static const struct job *job_by_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (!strcmp(jobs[i].key, key))
			return &jobs[i];
	return NULL;
}

/* -o names the part "jobs" (all of them) or some jobs by key. */
static bool want_job(const struct job *j)
{
	return want("jobs") || in_list(only, j->key);
}

static bool want_jobs(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (want_job(&jobs[i]))
			return true;
	return false;
}

static bool uses_driver(const struct job *j)
{
	return j->app == APP_STATEFULFW;
}

/* A new descriptor of the running slot's generated program; -ENOENT when
 * the generic datapath runs the slot. */
static int spec_prog_fd(struct xfsm_instance *inst)
{
	struct xfsm_dp_record r = { 0 };
	__u32 slot;
	int err = xfsm_dp_running(inst, &slot, &r, false), fd;

	if (err)
		return err;
	fd = r.specialized ? bpf_prog_get_fd_by_id(r.prog_id) : -ENOENT;
	xfsm_dp_record_free(&r);
	return fd < 0 && fd != -ENOENT ? -errno : fd;
}

/* Install the job's application on an xfsm object, run by the generic
 * datapath or by a program generated for it (enum xfsm_datapath). */
static int job_apply_as(const struct job *j, struct xfsm_instance *inst, __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, o, .datapath = datapath);
	struct xfsm_image img;
	int err;

	switch (j->app) {
	case APP_EMPTY:
		/* the language wants a stage: built by hand */
		xfsm_image_init(&img);
		img.app.default_verdict = XFSM_VERDICT_DROP;
		err = xfsm_apply(inst, &img, &o);
		xfsm_image_free(&img);
		return err;
	case APP_PORTKNOCK:
		return apply_file(inst, "examples", "portknock", datapath);
	case APP_STATEFULFW:
		return apply_file(inst, "examples", "statefulfw", datapath);
	case APP_COUNTER:
		return apply_file(inst, "bench/ref", "counter", datapath);
	case APP_GLOBAL:
		return apply_file(inst, "bench/ref", "global", datapath);
	case APP_TWOSTAGE:
		return apply_twostage(inst, j->flows, datapath);
	}
	return -EINVAL;
}

/* The generic datapath: what the breakdown's variants and -X measure. */
static int job_apply(const struct job *j, struct xfsm_instance *inst)
{
	return job_apply_as(j, inst, XFSM_DP_GENERIC);
}

/* The program an interface runs after the switch, as xfsm attaches it
 * where it attaches plainly (no libxdp dispatcher: this project's
 * hosts, under lockdown): the running slot's generated program itself
 * (its guard, then the application), else the generic program.  Behind
 * the dispatcher the generic program enters the generated one by a tail
 * call instead: `-o prelude` measures that way too. */
static int run_attached(struct prog *p)
{
	int fd;

	if (p->own_fd > 0)
		close(p->own_fd);
	p->own_fd = 0;
	p->fd = p->entry_fd;
	fd = spec_prog_fd(p->inst);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	p->own_fd = p->fd = fd;
	return 0;
}

/* The job's application switched to `datapath`, run as attached. */
static int prog_apply(const struct job *j, struct prog *p, __u32 datapath)
{
	return job_apply_as(j, p->inst, datapath) ?: run_attached(p);
}

static int load_job_ref(const struct job *j, struct prog *p)
{
	struct ref_setting set[3];
	unsigned int n = 0;

	if (j->app == APP_STATEFULFW) {
		set[n++] = (struct ref_setting){ "inside_ifindex", LO_IFINDEX };
		set[n++] = (struct ref_setting){ "#conns", MAX_FLOWS_TABLE };
	} else if (j->app == APP_TWOSTAGE) {
		set[n++] = (struct ref_setting){ "nflows", j->flows };
		set[n++] = (struct ref_setting){ "#counts", MAX_FLOWS_TABLE };
	}
	return load_ref(p, j->ref, set, n);
}

/* Bring a program to the job's steady state: knocks, flows created. */
/* Create the job's flows; check the verdict unless `partial` (a datapath
 * variant that stops early gives its own). */
static int job_prepare(const struct job *j, const struct prog *p, const struct frame *f,
		       bool partial)
{
	static const __u16 knocks[] = { 1111, 2222, 3333, 4444 };
	bool restore = false;
	cpu_set_t saved;
	struct frame kf;
	__u32 v, k, n;
	int err;

	if (j->knocked) {
		for (k = 0; k < 4; k++) {
			make_frame(&kf, SRC_IP(1), IPPROTO_UDP, 40000, knocks[k]);
			if ((err = run(p->fd, &kf, 0, 1, NULL, NULL)))
				return err;
		}
	}
	/* One pass over every flow creates them all, on one CPU: the flow
	 * driver's round robin is per CPU, and a long test run that
	 * reschedules may go on on another. */
	n = uses_driver(j) ? j->flows : j->app == APP_TWOSTAGE ? j->flows : 1;
	if (n > 1 && !sched_getaffinity(0, sizeof(saved), &saved)) {
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		restore = !sched_setaffinity(0, sizeof(one), &one);
	}
	err = run(entry_fd(p), f, j->ifindex, n, &v, NULL);
	if (restore)
		sched_setaffinity(0, sizeof(saved), &saved);
	if (err)
		return err;
	if (v != j->expect && !partial) {
		fprintf(stderr, "micro: %s: %s gives verdict %u, expected %u\n", j->key,
			p->what, v, j->expect);
		return -EPROTO;
	}
	return 0;
}

/* Best ns/packet of each of n programs over `rounds` rounds, the programs
 * taking turns within each round. */
static int measure_set(const struct prog *const *p, unsigned int n, const struct frame *f,
		       __u32 ifindex, double *ns)
{
	struct timespec t0, t1;
	unsigned int r, i;
	double v;
	__u32 t;
	int err;

	for (i = 0; i < n; i++)
		ns[i] = -1;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if ((err = run(entry_fd(p[i]), f, ifindex, repeat, NULL, &t)))
				return err;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			v = wall_clock ? ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
					 repeat : t;
			if (ns[i] < 0 || v < ns[i])
				ns[i] = v;
		}
	}
	return 0;
}

static int measure_pair(const struct prog *a, const struct prog *b, const struct frame *f,
			__u32 ifindex, double *ns_a, double *ns_b)
{
	const struct prog *p[2] = { a, b };
	double ns[2];
	int err;

	err = measure_set(p, 2, f, ifindex, ns);
	*ns_a = ns[0];
	*ns_b = ns[1];
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
	double	xfsm, ref, drv;	/* ns/pkt; drv: the driver's own cost, 0: none */
	double	spec;		/* the program generated for the job, 0: none */
	double	cand;		/* -X: the other build of the datapath */
};

static void json_num(const char *key, double v, bool last)
{
	if (json)
		fprintf(json, "\"%s\": %.2f%s", key, v, last ? "" : ", ");
}

static int measure_job(const struct job *j, struct prog *empty, struct result *res)
{
	struct prog x = { 0 }, r = { 0 }, sp = { 0 }, c = { 0 };
	const struct prog *set[4] = { &x, &r };
	struct frame f;
	double dx, de, ns[4];
	unsigned int n = 2, i_sp = 0, i_c = 0;
	int err;

	memset(res, 0, sizeof(*res));
	make_frame(&f, SRC_IP(1), j->proto, 40000, j->dport);
	if ((err = load_xfsm(&x, xfsm_obj)) || (err = job_apply(j, x.inst)) ||
	    (err = load_job_ref(j, &r)))
		goto out;
	/* The same application run by the program generated for it; a
	 * refusal (printed by libxfsm) leaves the column empty. */
	if ((err = load_xfsm(&sp, xfsm_obj)))
		goto out;
	if (prog_apply(j, &sp, XFSM_DP_SPECIALIZED)) {
		fprintf(stderr, "micro: %s: no specialized program, generic only\n", j->key);
		prog_close(&sp);
	} else {
		i_sp = n;
		set[n++] = &sp;
	}
	if (cand_obj && ((err = load_xfsm(&c, cand_obj)) ||
			 (err = prog_apply(j, &c, cand_spec ? XFSM_DP_SPECIALIZED :
							     XFSM_DP_GENERIC))))
		goto out;
	if (cand_obj) {
		i_c = n;
		set[n++] = &c;
	}
	if (uses_driver(j) && ((err = add_driver(&x, j->flows)) || (err = add_driver(&r, j->flows)) ||
			       (i_sp && (err = add_driver(&sp, j->flows))) ||
			       (cand_obj && (err = add_driver(&c, j->flows))) ||
			       (err = add_driver(empty, j->flows))))
		goto out;
	if ((err = job_prepare(j, &x, &f, false)) || (err = job_prepare(j, &r, &f, false)) ||
	    (i_sp && (err = job_prepare(j, &sp, &f, false))) ||
	    (cand_obj && (err = job_prepare(j, &c, &f, false))))
		goto out;
	err = measure_set(set, n, &f, j->ifindex, ns);
	res->xfsm = ns[0];
	res->ref = ns[1];
	res->spec = i_sp ? ns[i_sp] : 0;
	res->cand = i_c ? ns[i_c] : 0;
	if (!err && uses_driver(j)) {
		/* the driver's own cost: driver + empty program, minus the
		 * empty program alone */
		struct prog bare = *empty;

		bare.drv = NULL;
		err = measure_pair(empty, &bare, &f, j->ifindex, &dx, &de);
		res->drv = dx > de ? dx - de : 0;
	}
out:
	if (empty->drv) {
		bpf_object__close(empty->drv);
		empty->drv = NULL;
	}
	prog_close(&x);
	prog_close(&r);
	prog_close(&sp);
	prog_close(&c);
	return err;
}

/*
 * The kernel puts each JIT image at a random offset in its pack
 * (bpf_jit_binary_pack_alloc()), and a program's cost can depend on where
 * it lands: on this project's Zen 5 host the closed-knock job's program
 * took 17-19 ns on most loads and 35-75 ns on some, entered through the
 * generic program's tail call (bench/BENCHMARKS.tail.md, "Placement of
 * the JIT image").
 * One load is one draw of that layout, so each job is loaded `placements`
 * times, every program anew, and each figure is the median of the loads'
 * best rounds; lo and hi get the range.
 */
static const size_t result_field[] = {
	offsetof(struct result, xfsm), offsetof(struct result, ref), offsetof(struct result, drv),
	offsetof(struct result, spec), offsetof(struct result, cand),
};

#define RESULT_AT(r, off) (*(double *)((char *)(r) + (off)))

static int measure_loads(const struct job *j, struct prog *empty, struct result *res,
			 struct result *lo, struct result *hi)
{
	struct result *each = calloc(placements, sizeof(*each));
	double *v = calloc(placements, sizeof(*v));
	unsigned int p, k;
	int err = -ENOMEM;

	if (!each || !v)
		goto out;
	for (p = 0; p < placements; p++)
		if ((err = measure_job(j, empty, &each[p])))
			goto out;
	for (k = 0; k < sizeof(result_field) / sizeof(result_field[0]); k++) {
		for (p = 0; p < placements; p++)
			v[p] = RESULT_AT(&each[p], result_field[k]);
		RESULT_AT(res, result_field[k]) = median(v, placements);	/* sorts v */
		RESULT_AT(lo, result_field[k]) = v[0];
		RESULT_AT(hi, result_field[k]) = v[placements - 1];
	}
out:
	free(each);
	free(v);
	return err;
}

/* ns/pkt of `v` over the reference's, the flow driver's cost taken off both. */
static double ratio_to_ref(const struct result *r, double v)
{
	double x = v - r->drv, f = r->ref - r->drv;

	return f > 0 && v > 0 ? x / f : 0;
}

static double net_ratio(const struct result *r)
{
	return ratio_to_ref(r, r->xfsm);
}

static int run_jobs(struct prog *empty)
{
	struct result res, lo, hi, sf1 = { 0 }, sf1m = { 0 };
	unsigned int i, done = 0;
	int err;

	if (placements > 1)
		printf("Each job loaded %u times (every program anew, so every JIT image at a new "
		       "place): each column is the median of the %u loads' best rounds, the last "
		       "column their range.\n\n", placements, placements);
	printf("| job | xfsm generic ns/pkt | xfsm specialized ns/pkt | reference ns/pkt | "
	       "ratio generic/reference | ratio specialized/reference |%s\n",
	       placements > 1 ? " range over loads: generic / specialized / reference |" : "");
	printf("|---|---:|---:|---:|---:|---:|%s\n", placements > 1 ? "---|" : "");
	if (json)
		fprintf(json, "\"jobs\": [");
	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		const struct job *j = &jobs[i];

		if ((j->big && skip_1m) || !want_job(j))
			continue;
		err = measure_loads(j, empty, &res, &lo, &hi);
		if (err) {
			fprintf(stderr, "micro: job %s failed: %s\n", j->key, strerror(-err));
			return err;
		}
		char sp[32] = "-", spr[32] = "- (generic only)";

		if (res.spec > 0) {
			snprintf(sp, sizeof(sp), "%.1f", res.spec);
			snprintf(spr, sizeof(spr), "%.2fx", ratio_to_ref(&res, res.spec));
		}
		printf("| %s | %.1f | %s | %.1f | %.2fx | %s |", j->name, res.xfsm, sp, res.ref,
		       net_ratio(&res), spr);
		if (placements > 1 && res.spec > 0)
			printf(" %.0f-%.0f / %.0f-%.0f / %.0f-%.0f |", lo.xfsm, hi.xfsm, lo.spec,
			       hi.spec, lo.ref, hi.ref);
		else if (placements > 1)
			printf(" %.0f-%.0f / - / %.0f-%.0f |", lo.xfsm, hi.xfsm, lo.ref, hi.ref);
		if (cand_obj)
			printf(" %s%s: %.1f (%+.1f) |", cand_obj, cand_spec ? " specialized" : "",
			       res.cand, res.cand - (cand_spec ? res.spec : res.xfsm));
		else if (res.drv)
			printf(" (%.0f ns of flow driver taken off every column's ratio) |", res.drv);
		printf("\n");
		fflush(stdout);
		if (json) {
			fprintf(json, "%s{\"job\": \"%s\", \"name\": \"%s\", ", done ? ", " : "",
				j->key, j->name);
			json_num("xfsm_ns", res.xfsm, false);
			json_num("ref_ns", res.ref, false);
			json_num("driver_ns", res.drv, false);
			json_num("spec_ns", res.spec, false);
			json_num("spec_ratio", ratio_to_ref(&res, res.spec), false);
			json_num("xfsm_ns_min", lo.xfsm, false);
			json_num("xfsm_ns_max", hi.xfsm, false);
			json_num("spec_ns_min", lo.spec, false);
			json_num("spec_ns_max", hi.spec, false);
			json_num("ref_ns_min", lo.ref, false);
			json_num("ref_ns_max", hi.ref, false);
			if (cand_obj)
				json_num("cand_ns", res.cand, false);
			json_num("ratio", net_ratio(&res), true);
			fprintf(json, "}");
		}
		done++;
		if (!strcmp(j->key, "statefulfw_1"))
			sf1 = res;
		if (!strcmp(j->key, "statefulfw_1m"))
			sf1m = res;
	}
	if (json)
		fprintf(json, "]");
	if (sf1.xfsm > 0 && sf1m.xfsm > 0)
		printf("\nStateful firewall, 1000000 flows / 1 flow (packet rate): xfsm %.2fx, reference %.2fx\n",
		       (sf1.xfsm - sf1.drv) / (sf1m.xfsm - sf1m.drv),
		       (sf1.ref - sf1.drv) / (sf1m.ref - sf1m.drv));
	if (sf1.spec > 0 && sf1m.spec > 0)
		printf("Stateful firewall, 1000000 flows / 1 flow (packet rate), specialized: %.2fx\n",
		       (sf1.spec - sf1.drv) / (sf1m.spec - sf1m.drv));
	return 0;
}

/* ---- scaling over two CPUs -------------------------------------------- */

struct runner {
	pthread_t		tid;
	int			cpu, fd, err;
	const struct frame	*f;
	__u32			n, ns;
	double			t0, t1;		/* CLOCK_MONOTONIC around the run, µs */
	pthread_barrier_t	*start;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *runner_main(void *arg)
{
	const struct sched_param sp = { .sched_priority = 50 };
	struct runner *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	r->err = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	/* Real-time, so that the other tasks of a shared machine do not
	 * take turns with the two threads (refused without the privilege:
	 * then at normal priority, the overlap tells). */
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (r->start)
		pthread_barrier_wait(r->start);
	r->t0 = now_us();
	if (!r->err)
		r->err = run(r->fd, r->f, 0, r->n, NULL, &r->ns);
	r->t1 = now_us();
	return NULL;
}

/*
 * Packets per µs of each of n programs on CPU 0 alone (f0) and on CPUs 0
 * and 1 at once (f0, f1), the median of `rounds`.  The programs take turns
 * within each round, starting one further each round, so that what the
 * machine's other tasks do meets them all alike.  fd[i] < 0: not run.
 *
 * A rate is packets over wall time: from the first thread's start to the
 * last one's end.  The kernel's own duration of each run leaves out the
 * time its thread was off its CPU, so the sum of the two threads' own
 * rates counts a round in which they ran one after the other (the other
 * tasks of a 2-CPU machine see to it) as a perfect 2x.  The median, not
 * the best round: what a shared line costs varies from round to round
 * (with where the host runs the two vCPUs), and the best of several
 * rounds would pick whichever program met the cheapest moment; between
 * identical programs the median lies half as far apart (docs/BENCHMARKS.md,
 * "Across CPUs").  overlap[i]: the median share of the wall time both
 * threads ran.
 */
static int scale_set(const int *fd, unsigned int n, const struct frame *f0,
		     const struct frame *f1, double *one, double *two, double *overlap)
{
	double *o1 = calloc((size_t)n * rounds, sizeof(double));
	double *o2 = calloc((size_t)n * rounds, sizeof(double));
	double *ov = calloc((size_t)n * rounds, sizeof(double));
	struct runner r[2];
	pthread_barrier_t start;
	unsigned int k, s, i;
	double span;
	int err = o1 && o2 && ov ? 0 : -ENOMEM;

	for (k = 0; k < rounds && !err; k++) {
		for (s = k % n; s < k % n + n && !err; s++) {
			unsigned int q = s % n;

			if (fd[q] < 0)
				continue;
			r[0] = (struct runner){ .cpu = 0, .fd = fd[q], .f = f0, .n = repeat };
			pthread_create(&r[0].tid, NULL, runner_main, &r[0]);
			pthread_join(r[0].tid, NULL);
			if ((err = r[0].err))
				break;
			o1[q * rounds + k] = repeat / (r[0].t1 - r[0].t0);
			pthread_barrier_init(&start, NULL, 2);
			for (i = 0; i < 2; i++) {
				r[i] = (struct runner){ .cpu = i, .fd = fd[q], .f = i ? f1 : f0,
							.n = repeat, .start = &start };
				pthread_create(&r[i].tid, NULL, runner_main, &r[i]);
			}
			for (i = 0; i < 2; i++) {
				pthread_join(r[i].tid, NULL);
				if (r[i].err)
					err = r[i].err;
			}
			pthread_barrier_destroy(&start);
			span = (r[0].t1 > r[1].t1 ? r[0].t1 : r[1].t1) -
			       (r[0].t0 < r[1].t0 ? r[0].t0 : r[1].t0);
			o2[q * rounds + k] = 2.0 * repeat / span;
			ov[q * rounds + k] = ((r[0].t1 < r[1].t1 ? r[0].t1 : r[1].t1) -
					      (r[0].t0 > r[1].t0 ? r[0].t0 : r[1].t0)) / span;
		}
	}
	for (s = 0; s < n && !err; s++) {
		one[s] = median(o1 + s * rounds, rounds);
		two[s] = median(o2 + s * rounds, rounds);
		overlap[s] = median(ov + s * rounds, rounds);
	}
	free(o1);
	free(o2);
	free(ov);
	return err;
}

/* The count a job keeps for source `src`: xfsm's reg0 / global0, the
 * reference's map value. */
static int read_count(const struct prog *p, enum job_app app, __u32 src, __u64 *out)
{
	struct bpf_map *map;
	__u32 key = htonl(src), zero = 0;

	if (p->inst) {
		__u32 fv[XFSM_FV_WORDS] = { 0 };
		struct xfsm_image live;
		struct xfsm_flow_key k;
		struct xfsm_flow fl;
		int err;

		if (app == APP_GLOBAL)
			return xfsm_global_get(p->inst, 0, out);
		xfsm_image_init(&live);
		err = xfsm_read_app(p->inst, &live);
		fv[XFSM_FW_IP4_SRC] = src;
		if (!err) {
			xfsm_flow_key_build(&live.app.stages[0], 0, fv, false, &k);
			err = xfsm_flow_get(p->inst, &k, &fl);
		}
		xfsm_image_free(&live);
		*out = err ? 0 : fl.regs[0];
		return err == -ENOENT ? 0 : err;
	}
	map = bpf_object__find_map_by_name(p->obj, app == APP_GLOBAL ? "total" : "counts");
	if (!map)
		return -ENOENT;
	if (bpf_map_lookup_elem(bpf_map__fd(map), app == APP_GLOBAL ? &zero : &key, out))
		*out = 0;
	return 0;
}

struct scale_case {
	const char	*name;
	const char	*key;
	enum job_app	app;
	bool		shared;		/* both CPUs send from one source */
};

/*
 * The programs of a scaling case, in their turn order.  SC_REF_B and
 * SC_REF_C are copies of the reference (own maps, same code), measured in
 * the same rounds: how far their scaling lies from the reference's is how
 * far two identical programs differ on this machine, the yardstick for
 * "no worse than the reference" (the A/A spread, bench/report.py).
 */
enum { SC_XFSM, SC_REF, SC_SPEC, SC_REF_B, SC_REF_C, SC_N };
#define SC_AA_COPIES	2
/* A case whose two threads ran together less than this share of the time
 * (the hypervisor took the second vCPU) measured the host, not the
 * program: it is measured again, up to SC_ATTEMPTS times, and the table
 * says how many attempts it took and why. */
#define SC_MIN_OVERLAP	0.90
#define SC_ATTEMPTS	3

static const char *exact_word(int e)
{
	return e < 0 ? "-" : e ? "yes" : "NO: updates lost";
}

static int run_scaling(void)
{
	static const struct scale_case cases[] = {
		{ "per-source counter, a distinct source per CPU", "distinct", APP_COUNTER, false },
		{ "per-source counter, one source (one flow register) on both CPUs",
		  "shared_flow", APP_COUNTER, true },
		{ "global register on both CPUs", "shared_global", APP_GLOBAL, true },
	};
	const struct job jc = { .app = APP_COUNTER, .ref = "bench/ref/counter.bpf.o" };
	const struct job jg = { .app = APP_GLOBAL, .ref = "bench/ref/global.bpf.o" };
	unsigned int i, s;
	int err = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("(scaling not measured: one CPU online)\n");
		return 0;
	}
	printf("Packets per µs through BPF_PROG_TEST_RUN (packets over wall time), one "
	       "real-time thread on CPU 0, then one each on CPUs 0 and 1 at once (median of %u "
	       "rounds, the programs taking turns in each); "
	       "\"exact\": the final count equals the packets sent; \"A/A\": the scaling of %u "
	       "more copies of the reference, measured in the same rounds, over the "
	       "reference's (identical programs: what the machine's noise alone makes of "
	       "a scaling ratio); a case whose threads ran together less than %.0f%% of the "
	       "time is measured again, up to %u attempts.\n\n", rounds, SC_AA_COPIES,
	       100 * SC_MIN_OVERLAP, SC_ATTEMPTS);
	printf("| case | xfsm 1 CPU | xfsm 2 CPUs | xfsm scaling | reference 1 CPU | "
	       "reference 2 CPUs | reference scaling | specialized 1 CPU | specialized 2 CPUs | "
	       "specialized scaling | A/A: copies / reference | both threads running "
	       "(xfsm, reference, specialized, copies) | "
	       "exact (xfsm, reference, specialized, copies) |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
	if (json)
		fprintf(json, ", \"scaling\": [");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]) && !err; i++) {
		const struct scale_case *c = &cases[i];
		const struct job *j = c->app == APP_GLOBAL ? &jg : &jc;
		struct prog p[SC_N];
		double one[SC_N], two[SC_N], sc[SC_N], ov[SC_N];
		int exact[SC_N], fd[SC_N];
		struct frame f0, f1;
		__u64 before[SC_N], b1[SC_N], after, a1;
		double least = 1, low[SC_ATTEMPTS] = { 0 };
		unsigned int attempt = 0, k;
		bool all_exact = true;

		memset(p, 0, sizeof(p));
		make_frame(&f0, SRC_IP(1), IPPROTO_UDP, 40000, 9);
		make_frame(&f1, SRC_IP(c->shared ? 1 : 2), IPPROTO_UDP, 40000, 9);
		if ((err = load_xfsm(&p[SC_XFSM], xfsm_obj)) ||
		    (err = job_apply(j, p[SC_XFSM].inst)) || (err = load_job_ref(j, &p[SC_REF])) ||
		    (err = load_job_ref(j, &p[SC_REF_B])) || (err = load_job_ref(j, &p[SC_REF_C])) ||
		    (err = load_xfsm(&p[SC_SPEC], xfsm_obj)))
			goto next;
		if (prog_apply(j, &p[SC_SPEC], XFSM_DP_SPECIALIZED))
			prog_close(&p[SC_SPEC]);	/* generic only */
		for (s = 0; s < SC_N; s++) {
			fd[s] = p[s].obj ? p[s].fd : -1;
			exact[s] = -1;
		}
		/* create the flows first, then count from here */
		for (s = 0; s < SC_N && !err; s++)
			if (fd[s] >= 0)
				err = run(fd[s], &f0, 0, 1, NULL, NULL) ?:
				      run(fd[s], &f1, 0, 1, NULL, NULL);
		for (attempt = 1; !err; attempt++) {
			for (s = 0; s < SC_N && !err; s++)
				if (fd[s] >= 0)
					err = read_count(&p[s], c->app, SRC_IP(1), &before[s]) ?:
					      read_count(&p[s], c->app, SRC_IP(2), &b1[s]);
			if (err || (err = scale_set(fd, SC_N, &f0, &f1, one, two, ov)))
				break;
			all_exact = true;
			least = 1;
			for (s = 0; s < SC_N && !err; s++) {
				sc[s] = one[s] > 0 ? two[s] / one[s] : 0;
				if (fd[s] < 0 || (err = read_count(&p[s], c->app, SRC_IP(1), &after)) ||
				    (err = read_count(&p[s], c->app, SRC_IP(2), &a1)))
					continue;
				/* per round: repeat on CPU 0 alone, then repeat on each CPU */
				exact[s] = c->app == APP_GLOBAL || c->shared ?
					after - before[s] == 3ULL * rounds * repeat :
					after - before[s] == 2ULL * rounds * repeat &&
					a1 - b1[s] == 1ULL * rounds * repeat;
				all_exact = all_exact && exact[s];
				if (ov[s] < least)
					least = ov[s];
			}
			if (err || !all_exact || least >= SC_MIN_OVERLAP || attempt == SC_ATTEMPTS)
				break;
			low[attempt - 1] = least;
		}
		if (err)
			goto next;
		printf("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | ", c->name,
		       one[SC_XFSM], two[SC_XFSM], sc[SC_XFSM], one[SC_REF], two[SC_REF], sc[SC_REF]);
		if (fd[SC_SPEC] >= 0)
			printf("%.1f | %.1f | %.2fx | ", one[SC_SPEC], two[SC_SPEC], sc[SC_SPEC]);
		else
			printf("- | - | - (generic only) | ");
		printf("%.3fx, %.3fx | %.0f%% %.0f%% %.0f%% %.0f%% %.0f%%", sc[SC_REF_B] / sc[SC_REF],
		       sc[SC_REF_C] / sc[SC_REF], 100 * ov[SC_XFSM], 100 * ov[SC_REF],
		       100 * ov[SC_SPEC], 100 * ov[SC_REF_B], 100 * ov[SC_REF_C]);
		if (attempt > 1) {
			printf(" (attempt %u; before it, least overlap", attempt);
			for (k = 0; k + 1 < attempt; k++)
				printf("%s %.0f%%", k ? "," : "", 100 * low[k]);
			printf(")");
		}
		if (least < SC_MIN_OVERLAP)
			printf(" INVALID: under %.0f%% after %u attempts", 100 * SC_MIN_OVERLAP, attempt);
		printf(" | %s, %s, %s, %s |\n", exact_word(exact[SC_XFSM]),
		       exact_word(exact[SC_REF]), exact_word(exact[SC_SPEC]),
		       exact[SC_REF_B] && exact[SC_REF_C] ? "yes" : "NO: updates lost");
		fflush(stdout);
		if (json) {
			fprintf(json, "%s{\"case\": \"%s\", ", i ? ", " : "", c->key);
			json_num("xfsm_1cpu", one[SC_XFSM], false);
			json_num("xfsm_2cpu", two[SC_XFSM], false);
			json_num("ref_1cpu", one[SC_REF], false);
			json_num("ref_2cpu", two[SC_REF], false);
			json_num("spec_1cpu", fd[SC_SPEC] >= 0 ? one[SC_SPEC] : 0, false);
			json_num("spec_2cpu", fd[SC_SPEC] >= 0 ? two[SC_SPEC] : 0, false);
			fprintf(json, "\"ref_copies_1cpu\": [%.2f, %.2f], "
				"\"ref_copies_2cpu\": [%.2f, %.2f], \"aa\": [%.4f, %.4f], ",
				one[SC_REF_B], one[SC_REF_C], two[SC_REF_B], two[SC_REF_C],
				sc[SC_REF_B] / sc[SC_REF], sc[SC_REF_C] / sc[SC_REF]);
			fprintf(json, "\"overlap\": {\"xfsm\": %.3f, \"ref\": %.3f, \"spec\": %.3f}, ",
				ov[SC_XFSM], ov[SC_REF], ov[SC_SPEC]);
			fprintf(json, "\"attempts\": %u, \"valid\": %s, ", attempt,
				least >= SC_MIN_OVERLAP ? "true" : "false");
			fprintf(json, "\"xfsm_exact\": %s, \"ref_exact\": %s, \"spec_exact\": %s, "
				"\"copies_exact\": %s}",
				exact[SC_XFSM] ? "true" : "false", exact[SC_REF] ? "true" : "false",
				exact[SC_SPEC] < 0 ? "null" : exact[SC_SPEC] ? "true" : "false",
				exact[SC_REF_B] && exact[SC_REF_C] ? "true" : "false");
		}
		if (!all_exact)
			err = -EPROTO;
next:
		for (s = 0; s < SC_N; s++)
			prog_close(&p[s]);
	}
	if (json)
		fprintf(json, "]");
	return err;
}

/* ---- the entry's prelude ------------------------------------------------- */

/*
 * What a specialized application pays for entering through the generic
 * program: the job specialized as attached (the generic program's prelude,
 * its tail call, the generated program), the same with the tail call moved
 * to the very top (build/bench/xfsm-tailfirst.bpf.o: no prelude) and each
 * instance's generated program run alone (what replacing the attachment
 * would give), taking turns.  The two instances have their own maps (flow
 * tables), so each difference is taken within one instance.  Asked for by
 * name only (-o prelude).
 */
static int run_prelude(void)
{
	static const char *const which[] = { "empty", "global", "counter", "portknock_closed" };
	unsigned int w;
	int err = 0;

	printf("ns per packet of a specialized application, taking turns: entered through "
	       "the generic program (its prelude, a tail call, the program: behind libxdp's "
	       "dispatcher) and its program alone (as attached plainly); with the tail call "
	       "first (bench/xfsm-tailfirst.bpf.o, another instance) and its program "
	       "alone:\n\n");
	printf("| job | through the generic program | program alone | tail call first | "
	       "program alone | prelude + tail call | tail call | prelude |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (w = 0; w < sizeof(which) / sizeof(which[0]) && !err; w++) {
		struct prog sp = { 0 }, tf = { 0 }, alone = { 0 }, tf_alone = { 0 };
		const struct prog *set[4] = { &sp, &alone, &tf, &tf_alone };
		const struct job *j = job_by_key(which[w]);
		struct frame f;
		double ns[4];

		make_frame(&f, SRC_IP(1), j->proto, 40000, j->dport);
		err = load_xfsm(&sp, xfsm_obj) ?: job_apply_as(j, sp.inst, XFSM_DP_SPECIALIZED) ?:
		      load_xfsm(&tf, "bench/xfsm-tailfirst.bpf.o") ?:
		      job_apply_as(j, tf.inst, XFSM_DP_SPECIALIZED) ?:
		      job_prepare(j, &sp, &f, false) ?: job_prepare(j, &tf, &f, false);
		alone.fd = tf_alone.fd = -1;
		if (!err) {
			alone.fd = spec_prog_fd(sp.inst);
			tf_alone.fd = spec_prog_fd(tf.inst);
			err = alone.fd < 0 ? alone.fd : tf_alone.fd < 0 ? tf_alone.fd : 0;
		}
		if (!err)
			err = measure_set(set, 4, &f, j->ifindex, ns);
		if (!err)
			printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", j->name,
			       ns[0], ns[1], ns[2], ns[3], ns[0] - ns[1], ns[2] - ns[3],
			       (ns[0] - ns[1]) - (ns[2] - ns[3]));
		if (alone.fd >= 0)
			close(alone.fd);
		if (tf_alone.fd >= 0)
			close(tf_alone.fd);
		prog_close(&sp);
		prog_close(&tf);
	}
	return err;
}

/* ---- per-component breakdown ----------------------------------------- */

static int run_breakdown(struct prog *empty)
{
	static const char *const phases[] = {
		"parser, packet counters",
		"application, ingress port and its counters",
		"stage counters, flow lookup, timeouts",
		"conditions, rule match, hit counters",
		"register updates, transition",
		"actions, verdict counters (the whole datapath)",
	};
	/* Each variant stops in the first stage: for the 2-stage job the
	 * last row holds the first stage's actions and the whole second
	 * stage. */
	static const char *const which[] = { "portknock_closed", "counter", "global", "twostage_1" };
	enum { N_WHICH = sizeof(which) / sizeof(which[0]) };
	const struct job *jw[N_WHICH] = { NULL };
	double t[N_WHICH][7];
	unsigned int w, k;
	int err = 0;

	for (w = 0; w < N_WHICH; w++) {
		const struct job *j = job_by_key(which[w]);
		struct frame f;

		jw[w] = j;
		make_frame(&f, SRC_IP(1), j->proto, 40000, j->dport);
		for (k = 0; k <= 6 && !err; k++) {
			struct prog x = { 0 };
			char name[64];
			double d;

			if (k == 0) {	/* the empty program: test-run overhead */
				err = measure_pair(empty, empty, &f, 0, &t[w][0], &d);
				if (d < t[w][0])
					t[w][0] = d;
				continue;
			}
			if (k < 6)
				snprintf(name, sizeof(name), "bench/xfsm-stop%u.bpf.o", k);
			else
				snprintf(name, sizeof(name), "xfsm.bpf.o");
			err = load_xfsm(&x, name) ?: job_apply(j, x.inst) ?:
			      job_prepare(j, &x, &f, k < 6);
			if (!err)
				err = measure_pair(&x, &x, &f, 0, &t[w][k], &d);
			if (!err && d < t[w][k])
				t[w][k] = d;
			prog_close(&x);
		}
	}
	if (err)
		return err;
	printf("ns per packet added by each phase (the datapath built to stop after it, "
	       "minus the variant before; the first row is BPF_PROG_TEST_RUN with the empty "
	       "program; every variant stops in the first stage, so the 2-stage job's last "
	       "row holds its second stage):\n\n");
	printf("| phase |");
	for (w = 0; w < N_WHICH; w++)
		printf(" %s |", jw[w]->name);
	printf("\n|---|");
	for (w = 0; w < N_WHICH; w++)
		printf("---:|");
	printf("\n| test-run overhead (empty program) |");
	for (w = 0; w < N_WHICH; w++)
		printf(" %.1f |", t[w][0]);
	printf("\n");
	for (k = 1; k <= 6; k++) {
		printf("| %s |", phases[k - 1]);
		for (w = 0; w < N_WHICH; w++)
			printf(" %.1f |", t[w][k] - t[w][k - 1]);
		printf("\n");
	}
	printf("| total, xfsm |");
	for (w = 0; w < N_WHICH; w++)
		printf(" %.1f |", t[w][6]);
	printf("\n");
	if (json) {
		fprintf(json, ", \"breakdown\": {");
		for (w = 0; w < N_WHICH; w++) {
			fprintf(json, "%s\"%s\": [", w ? ", " : "", which[w]);
			for (k = 0; k <= 6; k++)
				fprintf(json, "%s%.2f", k ? ", " : "", t[w][k]);
			fprintf(json, "]");
		}
		fprintf(json, "}");
	}
	return 0;
}

/* ---- specbreak: the specialized program's parts ---------------------------- */

/*
 * Where the specialized program of a small job spends what the reference
 * does not: the program generated again from its slot's input (as a rule
 * edit regenerates it) whole, then leaving out one more part at each level
 * (xfsm_spec_input.omit, lib/xfsm_spec.h): the counter increments, the
 * statistics maps' lookups, the ingress port block.  The four programs and
 * the reference take turns in each round; each figure is the best round,
 * the median over -P loads.  The programs with parts left out are not
 * what xfsm runs (their counters stay still): they only measure.  The
 * firewall runs without the flow driver (one flow, one frame).  The jobs
 * whose reference can keep xfsm's statistics (bench/ref/xstats.h) time
 * that reference too, in the same rounds: the other side of the same
 * question (SB_RSTATS, after the five), and with the same counters in one
 * block (SB_RBLOCK: what that layout would save).
 */
enum { SB_FULL, SB_COUNTS, SB_LOOKUPS, SB_PORT, SB_REF, SB_N, SB_RSTATS = SB_N, SB_RBLOCK,
       SB_ALL };

static const __u32 sb_omit[SB_REF] = {
	[SB_FULL] = 0,
	[SB_COUNTS] = XFSM_SPEC_OMIT_COUNTS,
	[SB_LOOKUPS] = XFSM_SPEC_OMIT_COUNTS | XFSM_SPEC_OMIT_LOOKUPS,
	[SB_PORT] = XFSM_SPEC_OMIT_ALL,
};

static const char *const sb_part[SB_N] = {
	[SB_COUNTS] = "counter increments",
	[SB_LOOKUPS] = "statistics lookups",
	[SB_PORT] = "ingress port block",
	[SB_REF] = "the rest",
};

/* JSON keys of the figures */
static const char *const sb_key[SB_ALL] = {
	[SB_FULL] = "full", [SB_COUNTS] = "no_counts", [SB_LOOKUPS] = "no_lookups",
	[SB_PORT] = "no_port", [SB_REF] = "ref", [SB_RSTATS] = "ref_stats",
	[SB_RBLOCK] = "ref_stats_block",
};

/* Does job j's reference keep xfsm's statistics when asked (keep_stats)? */
static bool sb_ref_stats(const struct job *j)
{
	return j->app == APP_COUNTER || j->app == APP_GLOBAL;
}

/* The running slot's program generated anew from the slot's input,
 * leaving out `omit`, and loaded as lib/apply.c loads a generated program
 * (xfsm_emit_load()): its fd, or a negative errno; *digest tells one
 * program's instructions from another's (FNV-1a). */
static int spec_prog_omit(struct xfsm_instance *inst, __u32 omit, __u64 *digest)
{
	const unsigned char *b;
	size_t i;
	struct xfsm_dp_record r = { 0 };
	struct xfsm_cg_table cg = { 0 };
	struct xfsm_spec_input in;
	struct xfsm_emit e;
	char name[16];
	__u32 slot;
	int err;

	err = xfsm_dp_running(inst, &slot, &r, false);
	xfsm_dp_record_free(&r);
	if (err || (err = xfsm_spec_input_read(inst, slot, &in)))
		return err;
	in.omit = omit;
	/* with nothing left out, the program apply generates: with count
	 * groups (whose counts this one's table does not name) */
	in.groups = omit ? NULL : &cg;
	snprintf(name, sizeof(name), "specbreak_o%u", omit);
	xfsm_emit_init(&e);
	err = xfsm_spec_generate(inst, &in, &e);
	*digest = 0xcbf29ce484222325ULL;
	for (b = (const void *)e.insn, i = 0; !err && i < e.n * sizeof(*e.insn); i++)
		*digest = (*digest ^ b[i]) * 0x100000001b3ULL;
	if (!err)
		err = xfsm_emit_load(&e, name);
	if (err < 0)
		fprintf(stderr, "micro: specbreak: omit %#x: %s\n", omit,
			e.why[0] ? e.why : strerror(-err));
	xfsm_emit_free(&e);
	xfsm_spec_input_free(&in);
	free(cg.m);
	return err;
}

/* One load of job j: ns[SB_ALL], the best round of each (SB_RSTATS -1
 * where the reference cannot keep xfsm's statistics); same[k]: level k
 * generated the program of level k - 1 (none of that part in it, or the
 * application needs it).  1 when the specializer refuses the job. */
static int specbreak_load(const struct job *j, double *ns, bool *same)
{
	const struct ref_setting keep = { "keep_stats", 1 }, block = { "keep_stats", 2 };
	unsigned int n = sb_ref_stats(j) ? SB_ALL : SB_N;
	struct prog x = { 0 }, r = { 0 }, rs = { 0 }, rb = { 0 }, lv[SB_REF];
	const struct prog *set[SB_ALL];
	__u64 digest[SB_REF];
	struct frame f;
	unsigned int k;
	int err;

	memset(lv, 0, sizeof(lv));
	make_frame(&f, SRC_IP(1), j->proto, 40000, j->dport);
	ns[SB_RSTATS] = ns[SB_RBLOCK] = -1;
	err = load_xfsm(&x, xfsm_obj) ?: load_job_ref(j, &r);
	if (!err && n == SB_ALL)
		err = load_ref(&rs, j->ref, &keep, 1) ?: load_ref(&rb, j->ref, &block, 1);
	if (!err && job_apply_as(j, x.inst, XFSM_DP_SPECIALIZED)) {
		fprintf(stderr, "micro: specbreak: %s: no specialized program\n", j->key);
		err = 1;
	}
	for (k = 0; k < SB_REF && !err; k++) {
		lv[k].what = sb_key[k];
		lv[k].fd = spec_prog_omit(x.inst, sb_omit[k], &digest[k]);
		err = lv[k].fd < 0 ? lv[k].fd : 0;
		set[k] = &lv[k];
		same[k] = k > 0 && digest[k] == digest[k - 1];
	}
	set[SB_REF] = &r;
	set[SB_RSTATS] = &rs;
	set[SB_RBLOCK] = &rb;
	/* each level gives the job's verdict (and the flows exist) */
	for (k = 0; k < n && !err; k++)
		err = job_prepare(j, set[k], &f, false);
	if (!err)
		err = measure_set(set, n, &f, j->ifindex, ns);
	for (k = 0; k < SB_REF; k++)
		if (lv[k].fd > 0)
			close(lv[k].fd);
	prog_close(&x);
	prog_close(&r);
	prog_close(&rs);
	prog_close(&rb);
	return err;
}

static int run_specbreak(void)
{
	static const char *const which[] = {
		"empty", "portknock_closed", "counter", "global", "twostage_1", "statefulfw_1",
	};
	double *each = calloc((size_t)placements * SB_ALL, sizeof(double));
	double *v = calloc(placements, sizeof(double));
	double ns[SB_ALL], lo[SB_ALL], hi[SB_ALL];
	bool same[SB_ALL] = { false };
	unsigned int w, p, k, n_json = 0;
	int err = each && v ? 0 : -ENOMEM;

	printf("The specialized program's parts (-o specbreak): ns per packet of the program "
	       "generated for the job, then again leaving out one more part at each step "
	       "(lib/xfsm_spec.h, XFSM_SPEC_OMIT_*), and of the reference, taking turns. "
	       "The programs with parts left out are not what xfsm runs (their counters "
	       "stay still): they exist to measure what each part costs. Each step's ns "
	       "and its share of the gap between the whole program and the reference "
	       "(\"same program\": the step left nothing out, the program had none of "
	       "that part or the application needs it, as the firewall reads meta.port); "
	       "the firewall without the flow driver. Last, for the jobs whose reference can "
	       "do it, the reference that also keeps xfsm's statistics (bench/ref/xstats.h), "
	       "as xfsm lays them out and with all but the rules' in one block, in the same "
	       "rounds.\n\n");
	printf("| job | specialized | - counter increments | - statistics lookups | "
	       "- ingress port block | reference | gap |");
	for (k = SB_COUNTS; k < SB_N; k++)
		printf(" %s |", sb_part[k]);
	printf(" reference keeping xfsm's statistics | the same in one block |");
	printf("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	if (json)
		fprintf(json, ", \"specbreak\": [");
	for (w = 0; w < sizeof(which) / sizeof(which[0]) && !err; w++) {
		const struct job *j = job_by_key(which[w]);
		double gap;

		for (p = 0; p < placements && !err; p++)
			err = specbreak_load(j, each + p * SB_ALL, same);
		if (err == 1) {
			printf("| %s | - (generic only) | | | | | | | | | | | |\n", j->name);
			err = 0;
			continue;
		}
		if (err) {
			fprintf(stderr, "micro: specbreak: %s failed: %s\n", j->key, strerror(-err));
			break;
		}
		for (k = 0; k < SB_ALL; k++) {
			for (p = 0; p < placements; p++)
				v[p] = each[p * SB_ALL + k];
			ns[k] = median(v, placements);	/* sorts v */
			lo[k] = v[0];
			hi[k] = v[placements - 1];
			if (same[k]) {	/* the same program: nothing to tell */
				ns[k] = ns[k - 1];
				lo[k] = lo[k - 1];
				hi[k] = hi[k - 1];
			}
		}
		gap = ns[SB_FULL] - ns[SB_REF];
		printf("| %s |", j->name);
		for (k = 0; k < SB_N; k++)
			printf(" %.1f |", ns[k]);
		printf(" %.1f |", gap);
		for (k = SB_COUNTS; k < SB_N; k++) {
			double d = ns[k - 1] - ns[k];

			if (same[k])
				printf(" - (same program) |");
			else if (gap > 0)
				printf(" %.1f (%.0f%%) |", d, 100 * d / gap);
			else
				printf(" %.1f |", d);
		}
		for (k = SB_RSTATS; k < SB_ALL; k++)
			if (ns[k] >= 0)
				printf(" %.1f |", ns[k]);
			else
				printf(" n/a |");
		printf("\n");
		fflush(stdout);
		if (json) {
			fprintf(json, "%s{\"job\": \"%s\", \"name\": \"%s\", ", n_json++ ? ", " : "",
				j->key, j->name);
			for (k = 0; k < SB_ALL; k++) {
				char key[32];

				if (k >= SB_RSTATS && ns[k] < 0)
					continue;

				snprintf(key, sizeof(key), "%s_ns", sb_key[k]);
				json_num(key, ns[k], false);
				snprintf(key, sizeof(key), "%s_ns_min", sb_key[k]);
				json_num(key, lo[k], false);
				snprintf(key, sizeof(key), "%s_ns_max", sb_key[k]);
				json_num(key, hi[k], false);
				if (k > SB_FULL && k < SB_REF)
					fprintf(json, "\"%s_same\": %s, ", sb_key[k],
						same[k] ? "true" : "false");
			}
			json_num("gap_ns", gap, true);
			fprintf(json, "}");
		}
	}
	if (json)
		fprintf(json, "]");
	free(each);
	free(v);
	return err;
}

/* ---- acl: a large ACL table, generic and specialized ------------------------ */

#define ACL_FRAMES	64

/* Frames from a ClassBench trace ("src dst sport dport proto ..."), TCP
 * and UDP only, their addresses moved into 198.18.0.0/15 as
 * bench/run-bench.sh moves the rules' (the low 16 bits kept). */
static int acl_frames(const char *path, struct frame *f, unsigned int max, unsigned int *n)
{
	unsigned long src, dst, sport, dport, proto;
	FILE *in = fopen(path, "r");
	char line[256];

	*n = 0;
	if (!in)
		return -errno;
	while (*n < max && fgets(line, sizeof(line), in)) {
		if (sscanf(line, "%lu %lu %lu %lu %lu", &src, &dst, &sport, &dport, &proto) != 5 ||
		    (proto != IPPROTO_TCP && proto != IPPROTO_UDP) || sport > 0xffff ||
		    dport > 0xffff)
			continue;
		make_frame_to(&f[(*n)++], 198U << 24 | 18U << 16 | (src & 0xffff),
			      198U << 24 | 19U << 16 | (dst & 0xffff), proto, sport, dport);
	}
	fclose(in);
	return *n ? 0 : -ENOENT;
}

/* One ACL stage on table 0 (no rule matched: pass), the rules of `rs` in
 * the table, running `datapath`. */
static int acl_setup(struct prog *p, const struct xfsm_acl_rules *rs, __u32 datapath)
{
	static const char app[] = "app acl\ndefault pass\nacl f table 0 {\n\tmiss pass\n}\n";
	int err;

	err = load_xfsm(p, xfsm_obj);
	if (!err)
		err = apply_text(p->inst, "acl", app, datapath);
	if (!err)
		err = xfsm_acl_install(p->inst, 0, rs->r, rs->n);
	return err ?: run_attached(p);
}

static int run_acl(void)
{
	static struct frame f[ACL_FRAMES];
	struct xfsm_acl_rules rs = { 0 };
	struct prog g = { 0 }, sp = { 0 };
	const struct prog *p[2] = { &g, &sp };
	unsigned int n = 0, i, saved = repeat, hits = 0;
	char rules[512], err_msg[512] = "";
	struct xfsm_acl_stats st[2];
	struct xfsm_acl_caps caps;
	double ns[2], sum[2] = { 0, 0 };
	const char *trace;
	int err;

	trace = strchr(acl_arg, ',');
	if (!trace || (size_t)(trace - acl_arg) >= sizeof(rules)) {
		fprintf(stderr, "micro: -A wants RULES,TRACE\n");
		return -EINVAL;
	}
	snprintf(rules, sizeof(rules), "%.*s", (int)(trace - acl_arg), acl_arg);
	trace++;
	err = xfsm_acl_load_file(rules, &rs, err_msg, sizeof(err_msg));
	if (err) {
		fprintf(stderr, "micro: %s\n", err_msg[0] ? err_msg : strerror(-err));
		return err;
	}
	err = acl_frames(trace, f, ACL_FRAMES, &n);
	if (err) {
		fprintf(stderr, "micro: %s: no TCP or UDP header read: %s\n", trace, strerror(-err));
		goto out;
	}
	xfsm_acl_caps_default(&caps);
	if (caps.rules[0] < rs.n) {
		caps.rules[0] = rs.n;
		caps.nodes[0] = rs.n * XFSM_ACL_DEF_NODES_PER_RULE;
	}
	acl_caps = &caps;
	err = acl_setup(&g, &rs, XFSM_DP_GENERIC);
	if (!err)
		err = acl_setup(&sp, &rs, XFSM_DP_SPECIALIZED);
	acl_caps = NULL;
	if (err) {
		fprintf(stderr, "micro: acl: cannot set up the table of %zu rules: %s\n", rs.n,
			strerror(-err));
		goto out;
	}
	/* the same verdict on both for every frame, then the frames' mean */
	for (i = 0; i < n; i++) {
		__u32 vg, vs;

		if ((err = run(g.fd, &f[i], 0, 1, &vg, NULL)) ||
		    (err = run(sp.fd, &f[i], 0, 1, &vs, NULL)))
			goto out;
		if (vg != vs) {
			fprintf(stderr, "micro: acl: frame %u: verdict %u generic, %u specialized\n",
				i, vg, vs);
			err = -EPROTO;
			goto out;
		}
		hits += vg == XDP_DROP;
	}
	repeat = saved / n > 1000 ? saved / n : 1000;
	for (i = 0; i < n && !err; i++) {
		err = measure_set(p, 2, &f[i], 0, ns);
		sum[0] += ns[0];
		sum[1] += ns[1];
	}
	repeat = saved;
	if (err)
		goto out;
	printf("ACL stage of %zu rules (%s), %u frames of %s (%u matched a rule), "
	       "%u repetitions each, best of %u rounds; no hand-written reference: generic and "
	       "specialized taking turns.\n\n", rs.n, rules, n, trace, hits,
	       saved / n > 1000 ? saved / n : 1000, rounds);
	/* the walk's map lookups, as each side's `probes` counter has them */
	if ((err = xfsm_acl_read_stats(g.inst, 0, &st[0])) ||
	    (err = xfsm_acl_read_stats(sp.inst, 0, &st[1])))
		goto out;
	printf("| job | xfsm generic ns/pkt | xfsm specialized ns/pkt | specialized / generic | "
	       "lookups/packet, generic / specialized |\n");
	printf("|---|---|---|---|---|\n");
	printf("| ACL, %zu rules | %.1f | %.1f | %.2f | %.1f / %.1f |\n", rs.n, sum[0] / n,
	       sum[1] / n, sum[1] / sum[0],
	       st[0].packets ? (double)st[0].probes / st[0].packets : 0.0,
	       st[1].packets ? (double)st[1].probes / st[1].packets : 0.0);
	if (json)
		fprintf(json, ", \"acl\": {\"rules\": %zu, \"frames\": %u, \"generic\": %.2f, "
			"\"specialized\": %.2f}", rs.n, n, sum[0] / n, sum[1] / n);
out:
	prog_close(&g);
	prog_close(&sp);
	xfsm_acl_rules_free(&rs);
	return err;
}

/* ---- the test run's fixed cost ------------------------------------------ */

#define RCU_EXPEDITED "/sys/kernel/rcu_expedited"

static int rcu_saved = -1;	/* the setting to restore, or -1 */

static int rcu_expedited_get(void)
{
	FILE *f = fopen(RCU_EXPEDITED, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int rcu_expedited_set(int v)
{
	char c = v ? '1' : '0';
	int fd = open(RCU_EXPEDITED, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, &c, 1) != 1)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

static void rcu_restore(void)
{
	if (rcu_saved >= 0)
		rcu_expedited_set(rcu_saved);
	rcu_saved = -1;
}

static void rcu_restore_signal(int sig)
{
	rcu_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Best wall time of a two-repetition run of `fd`, us: the system call and
 * the dispatcher's changes, nearly nothing of the program. */
static double fixed_cost_us(int fd)
{
	struct frame f;
	double best = -1;
	int i;

	make_frame(&f, 1, IPPROTO_UDP, 1000, 2000);
	for (i = 0; i < 5; i++) {
		struct timespec t0, t1;
		double v;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (run(fd, &f, 0, 2, NULL, NULL))
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		v = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
		if (best < 0 || v < best)
			best = v;
	}
	return best;
}

/* With -W: expedite RCU grace periods for the run where the kernel's
 * setting allows it (see the top of this file); print what was done. */
static void wall_clock_setup(int fd)
{
	double before = fixed_cost_us(fd), after;
	int v = rcu_expedited_get(), err;

	if (v != 0) {
		printf("A test run's fixed cost (two repetitions, best of 5): %.0f us; RCU grace "
		       "periods %s.\n\n", before,
		       v > 0 ? "already expedited (" RCU_EXPEDITED ")" : "as the kernel has them");
		return;
	}
	if ((err = rcu_expedited_set(1))) {
		printf("A test run's fixed cost (two repetitions, best of 5): %.0f us, spread over "
		       "the repetitions; " RCU_EXPEDITED " could not be set: %s.\n\n", before,
		       strerror(-err));
		return;
	}
	rcu_saved = 0;
	atexit(rcu_restore);
	signal(SIGINT, rcu_restore_signal);
	signal(SIGTERM, rcu_restore_signal);
	signal(SIGHUP, rcu_restore_signal);
	after = fixed_cost_us(fd);
	printf("A test run's fixed cost (two repetitions, best of 5): %.0f us with the kernel's "
	       "RCU grace periods, %.0f us with them expedited (" RCU_EXPEDITED " = 1 for this "
	       "run, 0 again at its end): the dispatcher's changes around each run wait for "
	       "one.\n\n", before, after);
	if (json)
		fprintf(json, "\"fixed_cost_us\": [%.1f, %.1f], ", before, after);
}

int main(int argc, char **argv)
{
	const char *json_path = NULL;
	struct prog empty = { 0 };
	char path[512];
	int c, err = 1;

	while ((c = getopt(argc, argv, "b:r:n:P:c:qo:x:X:sWJ:A:")) != -1) {
		switch (c) {
		case 'b': build_dir = optarg; break;
		case 'r':
			if (xfsm_parse_u32(optarg, 1, 0xffffffff, &repeat, NULL, 0))
				goto usage;
			break;
		case 'n':
			if (xfsm_parse_u32(optarg, 1, 0xffffffff, &rounds, NULL, 0))
				goto usage;
			break;
		case 'P':
			if (xfsm_parse_u32(optarg, 1, 99, &placements, NULL, 0))
				goto usage;
			break;
		case 'c': {
			__u32 cpu;

			if (xfsm_parse_u32(optarg, 0, 1023, &cpu, NULL, 0))
				goto usage;
			bench_cpu = cpu;
			break;
		}
		case 'q': skip_1m = true; break;
		case 'o': only = optarg; break;
		case 'x': xfsm_obj = optarg; break;
		case 'X': cand_obj = optarg; break;
		case 's': cand_spec = true; break;
		case 'W': wall_clock = true; break;
		case 'J': json_path = optarg; break;
		case 'A': acl_arg = optarg; break;
		default:
usage:
			fprintf(stderr, "usage: %s [-b BUILD_DIR] [-r REPEAT] [-n ROUNDS] [-P PLACEMENTS] [-c CPU] [-q] "
				"[-o jobs,scaling,breakdown,specbreak,prelude,JOB...] [-x OBJECT] [-X OBJECT [-s]] [-W] [-J FILE] "
				"[-A RULES,TRACE]\n", argv[0]);
			return 2;
		}
	}
	if (!repeat || !rounds)
		return 2;
	libbpf_set_print(quiet);
	if (bench_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(bench_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "micro: cannot pin to CPU %d: %s\n", bench_cpu, strerror(errno));
	}
	if (json_path && !(json = fopen(json_path, "w"))) {
		fprintf(stderr, "micro: %s: %s\n", json_path, strerror(errno));
		return 1;
	}
	if (json)
		fprintf(json, "{\"repeat\": %u, \"rounds\": %u, \"placements\": %u, ", repeat,
			rounds, placements);
	path_of(path, sizeof(path), "xdp_empty.bpf.o");
	empty.what = "xdp_empty.bpf.o";
	empty.obj = ref_load(path, NULL, 0, &empty.fd);
	if (!empty.obj) {
		fprintf(stderr, "micro: cannot load %s: %s\n", path, strerror(errno));
		goto out;
	}
	printf("ns per packet through BPF_PROG_TEST_RUN (%u repetitions, best of %u rounds "
	       "alternating xfsm and its reference; %s).\n\n", repeat, rounds,
	       wall_clock ? "wall time over the repetitions" : "the kernel reports whole ns");
	if (wall_clock)
		wall_clock_setup(empty.fd);
	if (want_jobs() && run_jobs(&empty))
		goto out;
	if (json)
		fprintf(json, "%s", want_jobs() ? "" : "\"jobs\": []");
	if (want("scaling")) {
		printf("\n");
		if (run_scaling())
			goto out;
	}
	if (want("breakdown")) {
		printf("\n");
		if (run_breakdown(&empty))
			goto out;
	}
	if (want("specbreak")) {
		printf("\n");
		if (run_specbreak())
			goto out;
	}
	if (acl_arg && want("acl")) {
		printf("\n");
		if (run_acl())
			goto out;
	}
	if (only && in_list(only, "prelude")) {
		printf("\n");
		if (run_prelude())
			goto out;
	}
	err = 0;
out:
	if (json) {
		fprintf(json, "}\n");
		fclose(json);
	}
	prog_close(&empty);
	return err;
}
