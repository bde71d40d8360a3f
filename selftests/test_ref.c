/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The hand-written references of the benchmarks (bench/ref/) against xfsm:
 * each reference and the xfsm application it stands for run the same
 * packet sequences through BPF_PROG_TEST_RUN and must give the same verdict
 * for every packet, and the same counts at the end.  A scripted sequence
 * first checks that both do the job at all (the port opens, a connection
 * from inside passes); then a seeded random walk compares them step by
 * step.  A benchmark ratio means something only while this suite passes.
 *
 * Timeouts are not exercised (the native datapath and the references read
 * the kernel's clock); the references handle IPv4 only, so the sequences
 * are IPv4 plus ARP, which both must treat alike.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "suite.h"
#include "xfsm_lang.h"
#include "../bench/ref/load.h"
#include "../bench/ref/xstats.h"

#define WALK_STEPS	600
#define WALK_SEED	0x5eed1234U
#define LO_IFINDEX	1	/* in any namespace */

/* A seeded xorshift: the same walk on every run and kernel. */
static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

struct ref {
	struct bpf_object *obj;
	int fd;
};

static bool ref_open(struct ref *r, const char *name, const struct ref_setting *set,
		     unsigned int n)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/bench/ref/%s.bpf.o", xt_build_dir(), name);
	r->obj = ref_load(path, set, n, &r->fd);
	return ASSERT_TRUE(r->obj != NULL, path);
}

static void ref_close(struct ref *r)
{
	if (r->obj)
		bpf_object__close(r->obj);
	r->obj = NULL;
}

/* A reference map value: per-CPU values summed. */
static __u64 ref_value(const struct ref *r, const char *map, const void *key)
{
	struct bpf_map *m = bpf_object__find_map_by_name(r->obj, map);
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 vals[256] = { 0 }, sum = 0;

	if (!ASSERT_TRUE(m != NULL, map) || ncpu <= 0 || ncpu > 256)
		return ~0ULL;
	if (bpf_map_lookup_elem(bpf_map__fd(m), key, vals))
		return 0;
	if (bpf_map__type(m) != BPF_MAP_TYPE_PERCPU_ARRAY)
		return vals[0];
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static bool apply_src(const char *rel)
{
	struct xfsm_image img;
	char path[700], err[512] = "";
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", xt_src_dir(), rel);
	ok = ASSERT_OK(xfsm_compile_file(path, &img, NULL, err, sizeof(err)), err[0] ? err : path) &&
	     ASSERT_OK(xt_apply(&T, &img), "apply");
	xfsm_image_free(&img);
	return ok;
}

/* The same with every rule's `pass` at the end of its line turned into
 * `drop`, as make bench does for scenario 4d (bench/run-bench.sh: sed
 * 's/, pass$/, drop/; s/=> pass$/=> drop/').  Counts the rules changed. */
static bool apply_src_pass_to_drop(const char *rel, unsigned int *changed)
{
	char path[700], err[512] = "", *text = NULL, *at;
	struct xfsm_image img;
	size_t len = 0;
	bool ok = false;
	FILE *f;

	*changed = 0;
	snprintf(path, sizeof(path), "%s/%s", xt_src_dir(), rel);
	f = fopen(path, "r");
	if (!ASSERT_TRUE(f != NULL, path))
		return false;
	if (!ASSERT_TRUE(getdelim(&text, &len, '\0', f) > 0, path))
		goto out;
	for (at = text; (at = strstr(at, " pass\n")); at += 6) {
		if (at[-1] != ',' && at[-1] != '>')
			continue;
		memcpy(at + 1, "drop", 4);
		(*changed)++;
	}
	xfsm_image_init(&img);
	ok = ASSERT_OK(xfsm_compile_string(path, text, strlen(text), &img, NULL, err, sizeof(err)),
		       err[0] ? err : path) &&
	     ASSERT_OK(xt_apply(&T, &img), "apply");
	xfsm_image_free(&img);
out:
	fclose(f);
	free(text);
	return ok;
}

static __u32 run_ref(const struct ref *r, const struct pkt *p, __u32 ifindex)
{
	struct xdp_md ctx = { .data_end = p->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->data, .data_size_in = p->len,
		    .repeat = 1);

	if (ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(r->fd, &o))
		return ~0U;
	return o.retval;
}

/* One packet through both.  Returns the verdict they agree on (checked
 * against `want` unless that is ~0), ~0 when they differ. */
static __u32 both(const struct ref *r, const struct pkt *p, __u32 ifindex, __u32 want,
		  const char *what)
{
	struct xt_result res;
	__u32 v;

	if (!ASSERT_OK(xt_run_pkt(&T, p, ifindex, &res), "xfsm test run"))
		return ~0U;
	v = run_ref(r, p, ifindex);
	if (!xt_check(res.verdict == v, __FILE__, __LINE__, "%s: xfsm %s, reference %s", what,
		      xt_verdict_name(res.verdict), xt_verdict_name(v)))
		return ~0U;
	if (want != ~0U)
		xt_check(v == want, __FILE__, __LINE__, "%s: both %s, expected %s", what,
			 xt_verdict_name(v), xt_verdict_name(want));
	return v;
}

static void spec_pkt(struct pkt *p, __u8 l3, __u8 l4, __u16 src, __u16 dst, __u16 sport,
		     __u16 dport, __u16 payload)
{
	struct pkt_spec s = { .l3 = l3, .l4 = l4, .src = src, .dst = dst, .sport = sport,
			      .dport = dport, .payload = payload,
			      .flags = l4 == PS_TCP ? TCPF_SYN : 0 };

	pkt_from_spec(p, &s);
}

/* ---- empty application ------------------------------------------------- */

START_TEST(test_empty)
{
	static const __u8 l3[] = { PS_IP4, PS_IP4, PS_IP4, PS_ARP, PS_IP6 };
	static const __u8 l4[] = { PS_TCP, PS_UDP, PS_ICMP, PS_NONE, PS_UDP };
	struct xfsm_image img;
	struct ref r = { 0 };
	unsigned int i;
	struct pkt p;

	NEED_T();
	xfsm_image_init(&img);
	img.app.default_verdict = XFSM_VERDICT_DROP;
	if (!ASSERT_OK(xt_apply(&T, &img), "apply") || !ref_open(&r, "empty", NULL, 0))
		goto out;
	for (i = 0; i < sizeof(l3); i++) {
		spec_pkt(&p, l3[i], l4[i], 1 + i, 2, 1000, 80, 10 * i);
		xt_set_context("empty, packet %u", i);
		both(&r, &p, 0, XDP_DROP, "packet");
	}
out:
	ref_close(&r);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* ---- port knocking ------------------------------------------------------- */

static void knock_pkt(struct pkt *p, __u16 src, bool tcp, __u16 dport)
{
	spec_pkt(p, PS_IP4, tcp ? PS_TCP : PS_UDP, src, 1, 40000, dport, 0);
}

START_TEST(test_portknock_script)
{
	struct ref r = { 0 };
	struct pkt p;
	__u32 zero = 0;
	int k;

	NEED_T();
	if (!apply_src("examples/portknock.xfsm") || !ref_open(&r, "portknock", NULL, 0))
		goto out;
	xt_set_context("portknock script");
	knock_pkt(&p, 1, true, 22);
	both(&r, &p, 0, XDP_DROP, "TCP 22 before knocking");
	for (k = 1; k <= 3; k++) {
		knock_pkt(&p, 1, false, 1111 * k);
		both(&r, &p, 0, XDP_DROP, "knock");
	}
	knock_pkt(&p, 1, true, 22);
	both(&r, &p, 0, XDP_DROP, "TCP 22 after three knocks");
	knock_pkt(&p, 1, false, 4444);
	both(&r, &p, 0, XDP_DROP, "last knock");
	knock_pkt(&p, 1, true, 22);
	both(&r, &p, 0, XDP_PASS, "TCP 22 once open");
	knock_pkt(&p, 2, true, 22);
	both(&r, &p, 0, XDP_DROP, "TCP 22 from another source");
	knock_pkt(&p, 1, false, 53);
	both(&r, &p, 0, XDP_PASS, "other UDP once open");
	knock_pkt(&p, 3, false, 1111);
	both(&r, &p, 0, XDP_DROP, "first knock of another source");
	knock_pkt(&p, 3, false, 9999);
	both(&r, &p, 0, XDP_DROP, "a wrong knock starts over");
	knock_pkt(&p, 3, false, 2222);
	both(&r, &p, 0, XDP_PASS, "second knock after starting over: no rule");
	spec_pkt(&p, PS_ARP, PS_NONE, 4, 1, 0, 0, 0);
	both(&r, &p, 0, XDP_PASS, "ARP");
	{
		struct xfsm_counter c;

		if (ASSERT_OK(xfsm_read_counter(T.inst, 0, &c), "counter opened"))
			ASSERT_EQ(c.packets, ref_value(&r, "opened", &zero), "opened: xfsm, reference");
	}
out:
	ref_close(&r);
	XT_END();
}
END_TEST

/* Three sources knocking, each usually sending its next knock, sometimes
 * anything else. */
START_TEST(test_portknock_walk)
{
	__u32 seed = WALK_SEED, zero = 0, ssh_passed = 0;
	unsigned int next[4] = { 0 }, i;
	struct ref r = { 0 };
	struct pkt p;

	NEED_T();
	if (!apply_src("examples/portknock.xfsm") || !ref_open(&r, "portknock", NULL, 0))
		goto out;
	for (i = 0; i < WALK_STEPS && !xt_failures; i++) {
		__u32 src = 1 + rnd(&seed) % 3, pick = rnd(&seed) % 10, v;

		if (pick < 6) {		/* the next knock, then SSH */
			if (next[src] < 4)
				knock_pkt(&p, src, false, 1111 * (next[src] + 1));
			else
				knock_pkt(&p, src, true, 22);
			next[src] = (next[src] + 1) % 6;
		} else if (pick < 8) {
			knock_pkt(&p, src, true, pick == 6 ? 22 : 80);
		} else if (pick == 8) {
			knock_pkt(&p, src, false, 1000 + rnd(&seed) % 5000);
		} else {
			spec_pkt(&p, PS_IP4, PS_ICMP, src, 1, 8, 0, 0);
		}
		xt_set_context("portknock walk, step %u (seed %#x)", i, WALK_SEED);
		v = both(&r, &p, 0, ~0U, "packet");
		ssh_passed += pick < 6 && next[src] == 5 && v == XDP_PASS;	/* SSH, knocked */
	}
	ASSERT_GE(ssh_passed, 1, "the walk reached an open port");
	{
		struct xfsm_counter c;

		if (ASSERT_OK(xfsm_read_counter(T.inst, 0, &c), "counter opened")) {
			ASSERT_GE(c.packets, 1, "opened at least once");
			ASSERT_EQ(c.packets, ref_value(&r, "opened", &zero), "opened: xfsm, reference");
		}
	}
out:
	ref_close(&r);
	XT_END();
}
END_TEST

/* ---- stateful firewall ---------------------------------------------------- */

/* A private network namespace with a veth pair: two real ifindexes, the
 * inside and the outside port (the namespace goes with the test's
 * process). */
static bool two_ports(__u32 *inside, __u32 *outside)
{
	if (!ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)"))
		return false;
	if (!ASSERT_OK(system("ip link add xrin type veth peer name xrout"), "ip link add veth"))
		return false;
	*inside = if_nametoindex("xrin");
	*outside = if_nametoindex("xrout");
	return ASSERT_TRUE(*inside && *outside, "veth ifindexes") &&
	       ASSERT_OK(xt_set_port(&T, *inside, 1), "port inside") &&
	       ASSERT_OK(xt_set_port(&T, *outside, 2), "port outside");
}

struct conn {
	__u16	in, out;	/* inside and outside host numbers */
	__u8	l4;
	__u16	sport, dport;
};

/* The firewall and its reference on the same walk; `drop`: the
 * application with every pass turned into drop and the reference with
 * pass_verdict XDP_DROP (make bench, scenario 4d), where only the state
 * each keeps (seen in the refused counter) tells a reply from a stranger. */
static void statefulfw_walk(bool drop)
{
	static const struct conn conns[] = {
		{ 10, 500, PS_UDP, 40000, 53 },
		{ 11, 501, PS_TCP, 40001, 443 },
		{ 12, 502, PS_ICMP, 8, 0 },
		{ 13, 503, PS_UDP, 40003, 9 },
		{ 10, 500, PS_TCP, 40000, 53 },	/* same ports as 0, another protocol */
	};
	__u32 seed = WALK_SEED, inside, outside, zero = 0, seen[4] = { 0 };
	__u32 outside_ip4 = 3;	/* IPv4 packets from outside: the script's */
	const __u32 pass = drop ? XDP_DROP : XDP_PASS;
	struct ref_setting set[3];
	unsigned int i, changed;
	struct ref r = { 0 };
	struct pkt p;

	if (!two_ports(&inside, &outside))
		goto out;
	if (drop) {
		/* not_ipv4 and the six rules that let a packet through */
		if (!apply_src_pass_to_drop("examples/statefulfw.xfsm", &changed) ||
		    !ASSERT_EQ(changed, 7, "rules turned from pass to drop"))
			goto out;
	} else if (!apply_src("examples/statefulfw.xfsm")) {
		goto out;
	}
	set[0] = (struct ref_setting){ "inside_ifindex", inside };
	set[1] = (struct ref_setting){ "outside_ifindex", outside };
	set[2] = (struct ref_setting){ "pass_verdict", pass };
	if (!ref_open(&r, "statefulfw", set, 3))
		goto out;

	xt_set_context("statefulfw%s script", drop ? " (pass -> drop)" : "");
	spec_pkt(&p, PS_IP4, PS_UDP, 500, 10, 53, 40000, 0);
	both(&r, &p, outside, XDP_DROP, "reply before the connection exists");
	spec_pkt(&p, PS_IP4, PS_UDP, 10, 500, 40000, 53, 0);
	both(&r, &p, inside, pass, "opened from inside");
	spec_pkt(&p, PS_IP4, PS_UDP, 500, 10, 53, 40000, 0);
	both(&r, &p, outside, pass, "reply");
	spec_pkt(&p, PS_IP4, PS_TCP, 500, 10, 53, 40000, 0);
	both(&r, &p, outside, XDP_DROP, "same ports, other protocol");
	spec_pkt(&p, PS_ARP, PS_NONE, 500, 10, 0, 0, 0);
	both(&r, &p, outside, pass, "ARP from outside");
	/* the example filters IPv4 only: IPv6, neighbour discovery included, passes */
	spec_pkt(&p, PS_IP6, PS_ICMP6, 500, 10, 135, 0, 0);
	both(&r, &p, outside, pass, "IPv6 neighbour solicitation from outside");
	spec_pkt(&p, PS_IP6, PS_TCP, 500, 10, 40000, 22, 0);
	both(&r, &p, outside, pass, "IPv6 TCP from outside");
	/* two of the script's three IPv4 packets from outside were refused */
	ASSERT_EQ(ref_value(&r, "refused", &zero), 2, "reference: refused in the script");

	for (i = 0; i < WALK_STEPS && !xt_failures; i++) {
		const struct conn *c = &conns[rnd(&seed) % (sizeof(conns) / sizeof(conns[0]))];
		__u32 how = rnd(&seed) % 8, ifindex, v;

		if (how < 3) {		/* inside to outside */
			spec_pkt(&p, PS_IP4, c->l4, c->in, c->out, c->sport, c->dport, how * 20);
			ifindex = inside;
		} else if (how < 6) {	/* the reply */
			spec_pkt(&p, PS_IP4, c->l4, c->out, c->in, c->dport, c->sport, how * 20);
			ifindex = outside;
		} else if (how == 6) {	/* a stranger from outside */
			spec_pkt(&p, PS_IP4, c->l4, 900 + how, c->in, c->dport, c->sport, 0);
			ifindex = outside;
		} else {		/* a port xfsm does not know */
			spec_pkt(&p, PS_IP4, c->l4, c->in, c->out, c->sport, c->dport, 0);
			ifindex = LO_IFINDEX;
		}
		xt_set_context("statefulfw%s walk, step %u (seed %#x)",
			       drop ? " (pass -> drop)" : "", i, WALK_SEED);
		v = both(&r, &p, ifindex, drop ? XDP_DROP : ~0U, "packet");
		seen[(v == XDP_PASS) * 2 + (ifindex == outside)]++;
		outside_ip4 += ifindex == outside;
	}
	if (drop) {
		ASSERT_EQ(seen[2] + seen[3], 0, "nothing passed");
	} else {
		ASSERT_GE(seen[3], 1, "a reply from outside passed");
		ASSERT_GE(seen[1], 1, "a packet from outside was dropped");
	}
	{
		struct xfsm_counter c;
		__u64 refused = ref_value(&r, "refused", &zero);

		if (ASSERT_OK(xfsm_read_counter(T.inst, 0, &c), "counter refused")) {
			ASSERT_GE(c.packets, 3, "refused in the walk too");
			ASSERT_EQ(c.packets, refused, "refused: xfsm, reference");
			/* the state was kept: replies from outside were not refused */
			ASSERT_LE(refused + 1, outside_ip4, "some packets from outside were replies");
		}
	}
out:
	ref_close(&r);
}

START_TEST(test_statefulfw_walk)
{
	NEED_T();
	statefulfw_walk(false);
	XT_END();
}
END_TEST

START_TEST(test_statefulfw_drop_walk)
{
	NEED_T();
	statefulfw_walk(true);
	XT_END();
}
END_TEST

/* ---- counters ------------------------------------------------------------- */

/* xfsm's reg0 of the stage-`stage` flow keyed by one word. */
static __u64 flow_reg(unsigned int stage, __u32 word, unsigned int reg)
{
	__u32 w[XFSM_KEY_WORDS] = { word };
	struct xfsm_flow f;

	if (xt_find_flow(&T, stage, w, NULL, &f))
		return 0;
	return f.regs[reg];
}

START_TEST(test_counter_walk)
{
	__u32 seed = WALK_SEED, src;
	struct ref r = { 0 };
	unsigned int i;
	struct pkt p;

	NEED_T();
	if (!apply_src("bench/ref/counter.xfsm") || !ref_open(&r, "counter", NULL, 0))
		goto out;
	for (i = 0; i < WALK_STEPS && !xt_failures; i++) {
		__u32 kind = rnd(&seed) % 6;

		src = 1 + rnd(&seed) % 5;
		if (kind == 5)
			spec_pkt(&p, PS_ARP, PS_NONE, src, 1, 0, 0, 0);
		else
			spec_pkt(&p, PS_IP4, kind % 3 == 0 ? PS_TCP : kind % 3 == 1 ? PS_UDP : PS_ICMP,
				 src, 1, 1000 + kind, 80, kind * 7);
		xt_set_context("counter walk, step %u (seed %#x)", i, WALK_SEED);
		both(&r, &p, 0, XDP_DROP, "packet");
	}
	for (src = 0; src <= 5; src++) {
		__u32 a = src ? TEST_IP4(src) : 0, key = htonl(a);
		__u64 x = flow_reg(0, a, 0);

		xt_set_context("counter of source %u", src);
		ASSERT_EQ(x, ref_value(&r, "counts", &key), "count: xfsm, reference");
		if (src)
			ASSERT_GE(x, 1, "counted");
	}
out:
	ref_close(&r);
	XT_END();
}
END_TEST

START_TEST(test_global)
{
	struct ref r = { 0 };
	__u64 g = 0;
	__u32 zero = 0;
	unsigned int i;
	struct pkt p;

	NEED_T();
	if (!apply_src("bench/ref/global.xfsm") || !ref_open(&r, "global", NULL, 0))
		goto out;
	for (i = 0; i < 50 && !xt_failures; i++) {
		spec_pkt(&p, PS_IP4, i % 2 ? PS_TCP : PS_UDP, 1 + i % 7, 1, 1000, 80, i);
		xt_set_context("global, packet %u", i);
		both(&r, &p, 0, XDP_DROP, "packet");
	}
	if (ASSERT_OK(xfsm_global_get(T.inst, 0, &g), "global0"))
		ASSERT_EQ(g, ref_value(&r, "total", &zero), "total: xfsm, reference");
	ASSERT_EQ(g, 50, "every packet counted");
out:
	ref_close(&r);
	XT_END();
}
END_TEST

START_TEST(test_twostage_walk)
{
	const struct ref_setting set = { "nflows", 16 };	/* twostage.xfsm: marks = 16 */
	struct { __u64 packets, bytes; } rc;
	__u32 seed = WALK_SEED, m;
	struct ref r = { 0 };
	struct bpf_map *map;
	unsigned int i;
	struct pkt p;

	NEED_T();
	if (!apply_src("bench/ref/twostage.xfsm") || !ref_open(&r, "twostage", &set, 1))
		goto out;
	for (i = 0; i < WALK_STEPS && !xt_failures; i++) {
		spec_pkt(&p, PS_IP4, PS_UDP, 1 + rnd(&seed) % 2, 1, 1000, 80, rnd(&seed) % 200);
		xt_set_context("2 stages, step %u (seed %#x)", i, WALK_SEED);
		both(&r, &p, 0, XDP_PASS, "packet");
	}
	map = bpf_object__find_map_by_name(r.obj, "counts");
	if (!ASSERT_TRUE(map != NULL, "reference map counts"))
		goto out;
	for (m = 0; m < 16; m++) {
		memset(&rc, 0, sizeof(rc));
		bpf_map_lookup_elem(bpf_map__fd(map), &m, &rc);
		xt_set_context("2 stages, mark %u", m);
		ASSERT_GE(rc.packets, 1, "every mark counted");
		ASSERT_EQ(flow_reg(1, m, 0), rc.packets, "packets: xfsm, reference");
		ASSERT_EQ(flow_reg(1, m, 1), rc.bytes, "bytes: xfsm, reference");
	}
out:
	ref_close(&r);
	XT_END();
}
END_TEST

/* ---- the references keeping xfsm's statistics (benchmark only) ------------ */

/* Field `off` of entry `key` of the reference's per-CPU map `map` whose
 * values are `size` bytes, summed over the CPUs. */
static __u64 ref_stat(const struct ref *r, const char *map, __u32 key, size_t size, size_t off)
{
	struct bpf_map *m = bpf_object__find_map_by_name(r->obj, map);
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 sum = 0, v;
	char *vals;

	if (!ASSERT_TRUE(m != NULL, map) || !ASSERT_TRUE(ncpu > 0, "possible CPUs") ||
	    !ASSERT_EQ(bpf_map__value_size(m), size, map))
		return ~0ULL;
	vals = calloc(ncpu, size);
	if (!ASSERT_TRUE(vals != NULL, "calloc"))
		return ~0ULL;
	if (ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(m), &key, vals), map))
		for (i = 0; i < ncpu; i++) {
			memcpy(&v, vals + (size_t)i * size + off, sizeof(v));
			sum += v;
		}
	free(vals);
	return sum;
}

#define REF_STAT(r, map, key, type, field) \
	ref_stat(r, map, key, sizeof(type), offsetof(type, field))
/* A counter of the datapath, of the port, of the stage, in the layout
 * keep_stats `keep` writes (bench/ref/xstats.h). */
#define XS_DP(r, keep, f) ((keep) == 2 ? \
	REF_STAT(r, "xs_block", 0, struct ref_xstats_block, stats.f) : \
	REF_STAT(r, "xs_stats", 0, struct xfsm_stats, f))
#define XS_PORT(r, keep, f) ((keep) == 2 ? \
	REF_STAT(r, "xs_block", 0, struct ref_xstats_block, ports[REF_XSTATS_PORT].f) : \
	REF_STAT(r, "xs_ports", REF_XSTATS_PORT, struct xfsm_port_stats, f))
#define XS_STAGE(r, keep, f) ((keep) == 2 ? \
	REF_STAT(r, "xs_block", 0, struct ref_xstats_block, stages[REF_XSTATS_STAGE].f) : \
	REF_STAT(r, "xs_stages", REF_XSTATS_STAGE, struct xfsm_stage_stats, f))

/*
 * bench/ref/xstats.h: with keep_stats = 1 (xfsm's layout) or 2 (one
 * block) the per-source counter and the global register count every
 * packet as xfsm does (its datapath, stage and rule counters; the port is
 * not one in a test run) and still give xfsm's verdicts; with keep_stats
 * = 0 they count nothing of it.
 */
static void keep_stats_case(const char *name, __u32 keep)
{
	const struct ref_setting set = { "keep_stats", keep };
	struct xfsm_stats x0 = { 0 }, x1 = { 0 };
	struct xfsm_stage_stats s0 = { 0 }, s1 = { 0 };
	char app[64];
	struct ref r = { 0 };
	__u64 n = 0, bytes = 0;
	unsigned int i;
	struct pkt p;

	snprintf(app, sizeof(app), "bench/ref/%s.xfsm", name);
	if (!apply_src(app) || !ref_open(&r, name, &set, 1))
		goto out;
	if (!ASSERT_OK(xfsm_read_stats(T.inst, &x0), "xfsm stats before") ||
	    !ASSERT_OK(xfsm_read_stage_stats(T.inst, 0, &s0), "xfsm stage stats before"))
		goto out;
	for (i = 0; i < 40 && !xt_failures; i++) {
		spec_pkt(&p, PS_IP4, i % 2 ? PS_TCP : PS_UDP, 1 + i % 5, 1, 1000, 80, i * 3);
		xt_set_context("%s keep_stats=%u, packet %u", name, keep, i);
		both(&r, &p, 0, XDP_DROP, "packet");
		n++;
		bytes += p.len;
	}
	xt_set_context("%s keep_stats=%u", name, keep);
	if (!ASSERT_OK(xfsm_read_stats(T.inst, &x1), "xfsm stats after") ||
	    !ASSERT_OK(xfsm_read_stage_stats(T.inst, 0, &s1), "xfsm stage stats after"))
		goto out;
	ASSERT_EQ(x1.rx_packets - x0.rx_packets, n, "xfsm counted every packet");
	if (!keep) {
		ASSERT_EQ(XS_DP(&r, 1, rx_packets) + XS_DP(&r, 2, rx_packets), 0,
			  "the plain reference counts nothing");
		ASSERT_EQ(REF_STAT(&r, "xs_rules", REF_XSTATS_RULE, struct xfsm_rule_stats, packets),
			  0, "the plain reference counts no rule");
		goto out;
	}
	ASSERT_EQ(XS_DP(&r, 3 - keep, rx_packets), 0, "the other layout stays still");
	ASSERT_EQ(XS_DP(&r, keep, rx_packets), x1.rx_packets - x0.rx_packets,
		  "rx packets: reference, xfsm");
	ASSERT_EQ(XS_DP(&r, keep, rx_bytes), x1.rx_bytes - x0.rx_bytes,
		  "rx bytes: reference, xfsm");
	ASSERT_EQ(XS_DP(&r, keep, verdict_drop), x1.verdict_drop - x0.verdict_drop,
		  "drop verdicts: reference, xfsm");
	ASSERT_EQ(XS_DP(&r, keep, act_drop), x1.act_drop - x0.act_drop,
		  "drop actions: reference, xfsm");
	ASSERT_EQ(XS_PORT(&r, keep, rx_bytes), bytes, "port rx bytes");
	ASSERT_EQ(XS_STAGE(&r, keep, packets), s1.packets - s0.packets,
		  "stage packets: reference, xfsm");
	ASSERT_EQ(XS_STAGE(&r, keep, bytes), s1.bytes - s0.bytes, "stage bytes: reference, xfsm");
	ASSERT_EQ(XS_STAGE(&r, keep, hits), s1.hits - s0.hits, "stage hits: reference, xfsm");
	ASSERT_EQ(REF_STAT(&r, "xs_rules", REF_XSTATS_RULE, struct xfsm_rule_stats, bytes),
		  bytes, "rule bytes");
out:
	ref_close(&r);
}

START_TEST(test_keep_stats)
{
	NEED_T();
	keep_stats_case("counter", 1);
	keep_stats_case("counter", 2);
	keep_stats_case("global", 1);
	keep_stats_case("global", 2);
	keep_stats_case("global", 0);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ref");
	TCase *tc = xt_tcase(s, "ref", suite_open_native);

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_portknock_script);
	tcase_add_test(tc, test_portknock_walk);
	tcase_add_test(tc, test_statefulfw_walk);
	tcase_add_test(tc, test_statefulfw_drop_walk);
	tcase_add_test(tc, test_counter_walk);
	tcase_add_test(tc, test_global);
	tcase_add_test(tc, test_twostage_walk);
	tcase_add_test(tc, test_keep_stats);
	return xt_suite_run(s);
}
