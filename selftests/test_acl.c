/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL module: exact first-match results against independent linear
 * scans (every trace line of the six ClassBench sets when they are
 * present; 100k headers of every generated set, ClassBench-like and
 * adversarial, always), in process and through the datapath with
 * BPF_PROG_TEST_RUN; the per-packet lookup bound, counted in process on
 * every header; the crafted set of issue 13; capacity and overlap limits
 * and their errors; every match field and verdict; atomic updates under
 * traffic; rule syntax round trips.
 *
 * How the datapath's choice is observed: stage 0 is the ACL (every rule
 * "allow mark ID"), stage 1 a stateful stage whose only rule writes
 * meta.mark into eth.dst and transmits, so the frame that comes back names
 * the rule (0: no rule matched).
 *
 * `test_acl bench` measures instead of testing (make bench-acl).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "aclgen.h"
#include "diff.h"
#include "suite.h"
#include "xfsm_acl.h"
#include "xfsm_lang.h"

/*
 * The ClassBench sets live outside the tree: in $XFSM_CLASSBENCH, else in
 * ../shared/classbench beside the source tree.  A test that needs one
 * skips, saying which file is missing and how to provide it; the
 * generated acl, fw and ipc sets (aclgen) keep the ACL's coverage.
 */
static const char *cb_dir(void)
{
	const char *d = getenv("XFSM_CLASSBENCH");
	static char buf[512];
	char src[PATH_MAX];

	if (d && *d)
		snprintf(buf, sizeof(buf), "%s", d);
	else	/* the tree's own path, so that a message names it plainly */
		snprintf(buf, sizeof(buf), "%.480s/../shared/classbench",
			 realpath(xt_src_dir(), src) ? src : xt_src_dir());
	return buf;
}

/* The set NAME and its trace are readable: else why in msg. */
static bool cb_have(const char *name, char *msg, size_t len)
{
	const char *suffix[] = { "", "_trace" };
	char path[600];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(suffix); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", cb_dir(), name, suffix[i]);
		if (access(path, R_OK)) {
			snprintf(msg, len, "cannot read ClassBench file %s (%s): set "
				 "XFSM_CLASSBENCH to the directory of the ClassBench sets "
				 "(default: ../shared/classbench beside the source tree)",
				 path, strerror(errno));
			return false;
		}
	}
	return true;
}

#define CB_SKIP(name)								\
	do {									\
		char why_[800];							\
										\
		if (!cb_have((name), why_, sizeof(why_))) {			\
			printf("SKIP %s: %s; the generated acl, fw and ipc sets "	\
			       "cover the ACL without it\n", (name), why_);	\
			return;							\
		}								\
	} while (0)

/*
 * Under emulation (the qemu guest of make vmtest sets XT_EMULATED) packet
 * samples shrink tenfold: the host's make test runs them whole.
 */
static bool emulated(void)
{
	return getenv("XT_EMULATED") != NULL;
}

static size_t sample(size_t n)
{
	return emulated() ? (n + 9) / 10 : n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- Reference: an independent ClassBench reader and a linear scan ---------- */

struct ref_rule {
	__u32 src, smask, dst, dmask;
	__u32 splo, sphi, dplo, dphi;
	__u32 proto, pmask;
};

struct ref_set {
	struct ref_rule *r;
	size_t n;
};

static __u32 len_mask(unsigned int l)
{
	return l ? ~0U << (32 - l) : 0;
}

static int ref_load(const char *path, struct ref_set *rs)
{
	unsigned int a[4], b[4], sl, dl, splo, sphi, dplo, dphi, pr, pm;
	char line[512];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	memset(rs, 0, sizeof(*rs));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '@')
			continue;
		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x",
			   &a[0], &a[1], &a[2], &a[3], &sl, &b[0], &b[1], &b[2], &b[3], &dl,
			   &splo, &sphi, &dplo, &dphi, &pr, &pm) != 16)
			continue;
		if (rs->n == cap) {
			cap = cap ? 2 * cap : 1024;
			rs->r = realloc(rs->r, cap * sizeof(*rs->r));
		}
		struct ref_rule *r = &rs->r[rs->n++];

		r->smask = len_mask(sl);
		r->dmask = len_mask(dl);
		r->src = (a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]) & r->smask;
		r->dst = (b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) & r->dmask;
		r->splo = splo;
		r->sphi = sphi;
		r->dplo = dplo;
		r->dphi = dphi;
		r->proto = pr & pm;
		r->pmask = pm;
	}
	fclose(f);
	return 0;
}

/* 1-based index of the first matching rule, 0: none. */
static __u32 ref_classify(const struct ref_set *rs, __u32 s, __u32 d, __u32 sp, __u32 dp,
			  __u32 pr)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const struct ref_rule *r = &rs->r[i];

		if ((s & r->smask) == r->src && (d & r->dmask) == r->dst &&
		    sp >= r->splo && sp <= r->sphi && dp >= r->dplo && dp <= r->dphi &&
		    (pr & r->pmask) == r->proto)
			return i + 1;
	}
	return 0;
}

struct trace_line {
	__u32 s, d, sp, dp, pr, idx;	/* idx: the generator's FILTER_INDEX */
};

static int trace_load(const char *path, struct trace_line **out, size_t *n)
{
	char line[256];
	size_t cap = 0;
	struct trace_line t, *v = NULL;
	FILE *f = fopen(path, "r");

	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int fl;

		t.idx = 0;
		if (sscanf(line, "%u %u %u %u %u %u %u", &t.s, &t.d, &t.sp, &t.dp, &t.pr,
			   &fl, &t.idx) < 5)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = t;
	}
	fclose(f);
	*out = v;
	return 0;
}

/* Tests run in forked children: one that failed may have left rules. */
static void acl_clear_all(void)
{
	unsigned int t;

	for (t = 0; t < XFSM_ACL_TABLES; t++)
		ck_assert_int_eq(xfsm_acl_install(T.inst, t, NULL, 0), 0);
}

#define NEED_ACL()	do { NEED_T(); acl_clear_all(); } while (0)

/* ---- The observing application ---------------------------------------------- */

/* Stage 0: ACL table `table` (miss `miss`); stage 1: eth.dst = meta.mark, tx. */
static int apply_observer(unsigned int table, __u8 miss)
{
	struct xfsm_image img;
	struct rb b;
	int err;

	app_init(&img, 2, XFSM_VERDICT_PASS);
	img.app.stages[0].kind = XFSM_STAGE_ACL;
	img.app.stages[0].acl_table = table;
	img.app.stages[0].miss_verdict = miss;
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_SET_ETH_DST, 0, OPF(XFSM_FW_META_MARK));
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = rb_add(&img, 1, &b);
	if (!err)
		err = xt_apply(&T, &img);
	xfsm_image_free(&img);
	return err;
}

static __u64 out_dmac(const struct xt_result *r)
{
	__u64 m = 0;
	int i;

	for (i = 0; i < 6; i++)
		m = m << 8 | r->data[i];
	return m;
}

static void build_trace_pkt(struct pkt *p, const struct trace_line *t)
{
	struct ip4_args ip = { .src = t->s, .dst = t->d, .ttl = 64, .proto = t->pr };

	pkt_init(p);
	pkt_eth(p, 0x020000000001ULL, 0x020000000002ULL, 0);
	pkt_ip4(p, &ip);
	if (t->pr == IPPROTO_TCP_)
		pkt_tcp(p, t->sp, t->dp, TCPF_ACK, 0);
	else if (t->pr == IPPROTO_UDP_)
		pkt_udp(p, t->sp, t->dp);
	else if (t->pr == 1)
		pkt_icmp(p, 8, 0);
	else
		pkt_raw(p, 8, 0);
	pkt_finish(p);
}

static int load_rules_marked(const char *path, struct xfsm_acl_rules *rs)
{
	char err[256];
	size_t i;
	int r = xfsm_acl_load_file(path, rs, err, sizeof(err));

	if (r) {
		fprintf(stderr, "%s\n", err);
		return r;
	}
	for (i = 0; i < rs->n; i++) {
		rs->r[i].action = XFSM_ACL_ALLOW;
		rs->r[i].flags |= XFSM_ACLF_MARK;
		rs->r[i].mark = rs->r[i].rule_id;
	}
	return 0;
}

static const char *const cb_sets[] = {
	"acl1_1000", "fw1_1000", "ipc1_1000", "acl1_10000", "fw1_10000", "ipc1_10000",
};

START_TEST(test_classbench)
{
	const char *name = cb_sets[_i];
	struct xfsm_acl_rules rs = {};
	struct xfsm_acl_built *b = NULL;
	struct trace_line *tr = NULL;
	struct xfsm_acl_entry hit;
	struct ref_set ref = {};
	struct xfsm_acl_stats st, st0;
	char path[600];
	size_t n = 0, i, bad_proc = 0, bad_dp = 0, matched = 0, over = 0, dp = 0;
	size_t step = emulated() ? 10 : 1;
	unsigned int lk;

	CB_SKIP(name);
	NEED_ACL();
	snprintf(path, sizeof(path), "%s/%s", cb_dir(), name);
	ck_assert_msg(!ref_load(path, &ref) && ref.n > 500, "cannot read %s", path);
	ck_assert_int_eq(load_rules_marked(path, &rs), 0);
	ck_assert_uint_eq(rs.n, ref.n);
	snprintf(path, sizeof(path), "%s/%s_trace", cb_dir(), name);
	ck_assert_msg(!trace_load(path, &tr, &n) && n > 1000, "cannot read %s", path);

	/* In process, full headers (ports of every protocol). */
	ck_assert_int_eq(xfsm_acl_build(rs.r, rs.n, &b), 0);
	for (i = 0; i < n; i++) {
		__u32 fv[XFSM_FV_WORDS] = { 0 }, want, got;

		fv[XFSM_FW_PKT_FLAGS] = XFSM_PF_IPV4;
		fv[XFSM_FW_IP4_SRC] = tr[i].s;
		fv[XFSM_FW_IP4_DST] = tr[i].d;
		fv[XFSM_FW_IP_PROTO] = tr[i].pr;
		fv[XFSM_FW_L4_SPORT] = tr[i].sp;
		fv[XFSM_FW_L4_DPORT] = tr[i].dp;
		want = ref_classify(&ref, tr[i].s, tr[i].d, tr[i].sp, tr[i].dp, tr[i].pr);
		got = xfsm_acl_classify(b, fv, &hit, &lk) ? hit.rule_id : 0;
		if (got != want && bad_proc++ < 5)
			fprintf(stderr, "%s line %zu: in process rule %u, reference %u\n",
				name, i + 1, got, want);
		over += lk > xfsm_acl_built_set(b)->max_lookups;
	}
	ck_assert_msg(bad_proc == 0, "%s: %zu of %zu headers misclassified in process",
		      name, bad_proc, n);
	ck_assert_msg(over == 0, "%s: %zu headers over the set's lookup bound", name, over);

	/* Through the datapath: every line (one in ten under emulation).
	 * Protocols without ports carry none in a real packet, so the
	 * reference sees ports 0 for them. */
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, rs.r, rs.n), 0);
	ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_int_eq(xfsm_acl_read_stats(T.inst, 0, &st0), 0);
	for (i = 0; i < n; i += step, dp++) {
		struct trace_line t = tr[i];
		struct xt_result r;
		struct pkt p;
		__u32 want;

		if (t.pr != IPPROTO_TCP_ && t.pr != IPPROTO_UDP_)
			t.sp = t.dp = 0;
		want = ref_classify(&ref, t.s, t.d, t.sp, t.dp, t.pr);
		matched += want != 0;
		build_trace_pkt(&p, &t);
		ck_assert_int_eq(xt_run_pkt(&T, &p, 0, &r), 0);
		if ((r.verdict != XDP_TX || out_dmac(&r) != want) && bad_dp++ < 5)
			fprintf(stderr, "%s line %zu: datapath %s rule %llu, reference %u\n",
				name, i + 1, xt_verdict_name(r.verdict),
				(unsigned long long)out_dmac(&r), want);
	}
	ck_assert_msg(bad_dp == 0, "%s: %zu of %zu packets misclassified by the datapath",
		      name, bad_dp, n);
	ck_assert_int_eq(xfsm_acl_read_stats(T.inst, 0, &st), 0);
	st.packets -= st0.packets;
	st.matched -= st0.matched;
	st.probes -= st0.probes;
	ck_assert_uint_eq(st.packets, dp);
	ck_assert_uint_eq(st.matched, matched);
	printf("%s: %zu rules, %u trees, %zu trace lines agree in process, %zu through the datapath; %.2f lookups/packet\n",
	       name, rs.n, xfsm_acl_built_set(b)->n_trees, n, dp, (double)st.probes / st.packets);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, NULL, 0), 0);
	xfsm_acl_built_free(b);
	xfsm_acl_rules_free(&rs);
	free(ref.r);
	free(tr);
	XT_END();
}
END_TEST

/* ---- Fields and verdicts ------------------------------------------------------ */

static void add_rule(struct xfsm_acl_rules *rs, const char *text)
{
	struct xfsm_acl_entry e;
	char err[200];

	ck_assert_msg(!xfsm_acl_parse_rule(text, &e, NULL, NULL, err, sizeof(err)),
		      "%s: %s", text, err);
	ck_assert_int_eq(xfsm_acl_rules_add(rs, &e), 0);
}

/* Run a spec through; returns verdict, *mark gets eth.dst (the mark). */
static __u32 run_spec(const struct pkt_spec *s, __u32 ifindex, __u64 *mark)
{
	struct xt_result r;
	struct pkt p;

	pkt_from_spec(&p, s);
	ck_assert_int_eq(xt_run_pkt(&T, &p, ifindex, &r), 0);
	if (mark)
		*mark = r.verdict == XDP_TX ? out_dmac(&r) : ~0ULL;
	return r.verdict;
}

#define EXPECT(spec, ifx, verdict, mark_want)					\
	do {									\
		__u64 m_;							\
		__u32 v_ = run_spec(&(spec), (ifx), &m_);			\
		ck_assert_msg(v_ == (verdict), "line %d: verdict %s, want %s",	\
			      __LINE__, xt_verdict_name(v_), xt_verdict_name(verdict)); \
		if ((verdict) == XDP_TX)					\
			ck_assert_msg(m_ == (mark_want), "line %d: mark %llu, want %llu", \
				      __LINE__, (unsigned long long)m_,		\
				      (unsigned long long)(mark_want));		\
	} while (0)

START_TEST(test_fields)
{
	struct xfsm_acl_rules rs = {};
	struct pkt_spec s;

	NEED_ACL();
	ck_assert_int_eq(xt_set_port(&T, 1, 3), 0);	/* lo */
	/* 198.18.0.x is host x of test addresses (pkt_from_spec). */
	add_rule(&rs, "prio 100 src 198.18.0.1 proto tcp dport 80 flags syn/syn|ack => deny");
	add_rule(&rs, "prio 90 src 198.18.0.1 proto tcp dport 80-90 mark 11");
	add_rule(&rs, "prio 80 src 198.18.0.0/24 dst 198.18.0.9 proto udp sport 1000-2000 => allow mark 12");
	add_rule(&rs, "prio 70 ip6 src 2001:2::/48 dst 2001:2::9 proto udp => mark 13");
	add_rule(&rs, "prio 60 vlan 5 => mark 14");
	add_rule(&rs, "prio 50 port 3 ip4 proto icmp => mark 15");
	add_rule(&rs, "prio 40 dst 198.18.0.8 => pass");
	add_rule(&rs, "prio 30 dst 198.18.0.7 => goto 1 mark 16");
	add_rule(&rs, "prio 20 src 198.18.0.5 => deny");
	ck_assert_int_eq(xfsm_acl_install(T.inst, 2, rs.r, rs.n), 0);
	ck_assert_int_eq(apply_observer(2, XFSM_VERDICT_DROP), 0);

	/* TCP flags and port range, priority between overlapping rules */
	s = (struct pkt_spec){ .l3 = PS_IP4, .l4 = PS_TCP, .src = 1, .dst = 2, .sport = 5, .dport = 80, .flags = TCPF_SYN };
	EXPECT(s, 0, XDP_DROP, 0);
	s.flags = TCPF_SYN | TCPF_ACK;
	EXPECT(s, 0, XDP_TX, 11);
	s.dport = 91;
	EXPECT(s, 0, XDP_DROP, 0);		/* miss: miss verdict drop */
	/* UDP source port range, destination host */
	s = (struct pkt_spec){ .l3 = PS_IP4, .l4 = PS_UDP, .src = 4, .dst = 9, .sport = 1500, .dport = 53 };
	EXPECT(s, 0, XDP_TX, 12);
	s.sport = 999;
	EXPECT(s, 0, XDP_DROP, 0);
	/* IPv6 prefixes */
	s = (struct pkt_spec){ .l3 = PS_IP6, .l4 = PS_UDP, .src = 4, .dst = 9, .sport = 1, .dport = 2 };
	EXPECT(s, 0, XDP_TX, 13);
	s.dst = 10;
	EXPECT(s, 0, XDP_DROP, 0);
	/* VLAN id on any packet, also IPv6 */
	s.vlan = 5;
	EXPECT(s, 0, XDP_TX, 14);
	s.vlan = 6;
	EXPECT(s, 0, XDP_DROP, 0);
	/* ingress port (ifindex 1 is port 3; no ifindex: no port) */
	s = (struct pkt_spec){ .l3 = PS_IP4, .l4 = PS_ICMP, .src = 30, .dst = 31, .sport = 8 };
	EXPECT(s, 1, XDP_TX, 15);
	ck_assert_int_eq(xt_set_port(&T, 1, 4), 0);
	EXPECT(s, 1, XDP_DROP, 0);
	/* pass ends the pipeline; goto continues at the stage named */
	s = (struct pkt_spec){ .l3 = PS_IP4, .l4 = PS_UDP, .src = 30, .dst = 8, .sport = 1, .dport = 2 };
	EXPECT(s, 0, XDP_PASS, 0);
	s.dst = 7;
	EXPECT(s, 0, XDP_TX, 16);
	/* deny */
	s = (struct pkt_spec){ .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 30, .sport = 1, .dport = 2 };
	EXPECT(s, 0, XDP_DROP, 0);
	xfsm_acl_install(T.inst, 2, NULL, 0);
	xfsm_acl_rules_free(&rs);
	XT_END();
}
END_TEST

/* A mark set by the ACL is matched by a later stateful stage. */
START_TEST(test_mark_matched_later)
{
	static const __u8 mw[] = { XFSM_FW_META_MARK };
	struct xfsm_acl_rules rs = {};
	struct xfsm_image img;
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1, .dport = 2 };
	struct rb b;

	NEED_ACL();
	add_rule(&rs, "src 198.18.0.1 => mark 7");
	ck_assert_int_eq(xfsm_acl_install(T.inst, 1, rs.r, rs.n), 0);
	app_init(&img, 2, XFSM_VERDICT_PASS);
	img.app.stages[0].kind = XFSM_STAGE_ACL;
	img.app.stages[0].acl_table = 1;
	app_match_words(&img, 1, mw, 1);
	rb_init(&b, 1);
	rb_match(&b, 0, 7, 0xffffffff);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	ck_assert_int_eq(xt_apply(&T, &img), 0);
	ck_assert_uint_eq(run_spec(&s, 0, NULL), XDP_DROP);
	s.src = 3;
	ck_assert_uint_eq(run_spec(&s, 0, NULL), XDP_PASS);
	xfsm_image_free(&img);
	xfsm_acl_install(T.inst, 1, NULL, 0);
	xfsm_acl_rules_free(&rs);
	XT_END();
}
END_TEST

/* ---- Updates under traffic ------------------------------------------------------ */

/*
 * Set A: 20000 filler rules, then "198.18.0.1 => mark 1", then "any => mark 2".
 * Set B: other filler, then "198.18.0.1 => mark 3", then "any => mark 4".
 * Packets from host 1 must come out marked 1 or 3 and packets from host 2
 * marked 2 or 4, whatever the moment: a mix of the two sets (2 for host 1,
 * or a miss) never shows.
 */
struct traffic {
	volatile int	stop;
	unsigned long	sent, bad, seen[5];
};

static void *traffic_fn(void *arg)
{
	struct traffic *tr = arg;
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1, .dport = 2 };
	struct pkt p1, p2;
	struct xt_result r;

	pkt_from_spec(&p1, &s);
	s.src = 2;
	pkt_from_spec(&p2, &s);
	while (!tr->stop) {
		__u64 m1, m2;

		if (xt_run_pkt(&T, &p1, 0, &r) || r.verdict != XDP_TX) {
			tr->bad++;
			continue;
		}
		m1 = out_dmac(&r);
		if (xt_run_pkt(&T, &p2, 0, &r) || r.verdict != XDP_TX) {
			tr->bad++;
			continue;
		}
		m2 = out_dmac(&r);
		tr->sent += 2;
		if ((m1 != 1 && m1 != 3) || (m2 != 2 && m2 != 4))
			tr->bad++;
		tr->seen[m1 < 5 ? m1 : 0]++;
		tr->seen[m2 < 5 ? m2 : 0]++;
	}
	return NULL;
}

/* Filler of 20000 rules no test packet matches, shaped differently in the
 * two sets (source hosts, or destination hosts and ports), so that their
 * trees and rule arrays differ everywhere. */
static void make_set(struct xfsm_acl_rules *rs, __u32 m_host, __u32 m_any)
{
	char line[128];
	unsigned int i;

	for (i = 0; i < 20000; i++) {
		if (m_host == 1)
			snprintf(line, sizeof(line), "src 198.19.%u.%u dst 198.18.%u.0/24 => deny",
				 i / 250, i % 250 + 1, i % 200);
		else
			snprintf(line, sizeof(line), "dst 198.19.%u.%u proto udp dport %u => deny",
				 i / 250, i % 250 + 1, 1000 + i % 5000);
		add_rule(rs, line);
	}
	snprintf(line, sizeof(line), "src 198.18.0.1 => mark %u", m_host);
	add_rule(rs, line);
	snprintf(line, sizeof(line), "ip4 => mark %u", m_any);
	add_rule(rs, line);
}

START_TEST(test_update_under_traffic)
{
	struct xfsm_acl_rules a = {}, b = {};
	struct traffic tr = {};
	pthread_t th;
	int i;

	NEED_ACL();
	make_set(&a, 1, 2);
	make_set(&b, 3, 4);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, a.r, a.n), 0);
	ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_PASS), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, traffic_fn, &tr), 0);
	for (i = 0; i < 12; i++) {
		const struct xfsm_acl_rules *s = i % 2 ? &a : &b;

		ck_assert_int_eq(xfsm_acl_install(T.inst, 0, s->r, s->n), 0);
	}
	tr.stop = 1;
	pthread_join(th, NULL);
	printf("update under traffic: %lu packets during 12 installs of %zu rules: marks 1:%lu 2:%lu 3:%lu 4:%lu, %lu wrong\n",
	       tr.sent, a.n, tr.seen[1], tr.seen[2], tr.seen[3], tr.seen[4], tr.bad);
	ck_assert_uint_gt(tr.sent, 0);
	ck_assert_uint_eq(tr.bad, 0);
	/* the last install (a) is what runs now */
	{
		struct xfsm_acl_rules now;

		ck_assert_int_eq(xfsm_acl_read(T.inst, 0, &now), 0);
		ck_assert_uint_eq(now.n, a.n);
		ck_assert_uint_eq(now.r[a.n - 2].mark, 1);
		xfsm_acl_rules_free(&now);
	}
	xfsm_acl_install(T.inst, 0, NULL, 0);
	xfsm_acl_rules_free(&a);
	xfsm_acl_rules_free(&b);
	XT_END();
}
END_TEST

/* ---- Generated sets: an independent reference ---------------------------------- */

/* A prefix compared whole words first, then the leading bits of the next
 * (written apart from acl_match.h on purpose). */
static bool ref_prefix(const __u32 *a, const __u32 *p, unsigned int len)
{
	unsigned int w = 0;

	for (; len >= 32; len -= 32, w++)
		if (a[w] != p[w])
			return false;
	return !len || !((a[w] ^ p[w]) >> (32 - len));
}

static bool ref_match(const struct xfsm_acl_entry *e, const struct aclgen_hdr *h)
{
	unsigned int fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

	if ((fam == XFSM_ACLF_V4 && h->family != 4) || (fam == XFSM_ACLF_V6 && h->family != 6))
		return false;
	return ref_prefix(h->src, e->src, e->src_len) && ref_prefix(h->dst, e->dst, e->dst_len) &&
	       !((h->proto ^ e->proto) & e->proto_mask) &&
	       h->sport >= e->sport_lo && h->sport <= e->sport_hi &&
	       h->dport >= e->dport_lo && h->dport <= e->dport_hi &&
	       !((h->tcp_flags ^ e->tcp_flags) & e->tcp_mask) &&
	       (!(e->flags & XFSM_ACLF_PORT) || h->port == e->in_port) &&
	       (!(e->flags & XFSM_ACLF_VLAN) || h->vlan == e->vlan);
}

static int ref_prec(const void *pa, const void *pb)
{
	const struct xfsm_acl_entry *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return a->rule_id < b->rule_id ? -1 : a->rule_id > b->rule_id;
}

/* A rule's first address words, ports and protocol, to turn most rules
 * down quickly (a necessary condition; ref_match() decides). */
struct ref_quick {
	__u32	s0, sm, d0, dm;
	__u16	spl, sph, dpl, dph;
	__u8	pv, pm;
};

struct ref_gen {
	struct xfsm_acl_entry *r;	/* precedence order */
	struct ref_quick *q;
	size_t	n;
};

static __u32 ref_mask0(unsigned int len)
{
	return !len ? 0 : len >= 32 ? ~0U : ~0U << (32 - len);
}

static void ref_gen_init(struct ref_gen *g, const struct xfsm_acl_rules *rs)
{
	size_t i;

	g->n = rs->n;
	g->r = malloc((rs->n + 1) * sizeof(*g->r));
	g->q = malloc((rs->n + 1) * sizeof(*g->q));
	ck_assert(g->r && g->q);
	memcpy(g->r, rs->r, rs->n * sizeof(*g->r));
	qsort(g->r, rs->n, sizeof(*g->r), ref_prec);
	for (i = 0; i < g->n; i++) {
		const struct xfsm_acl_entry *e = &g->r[i];

		g->q[i] = (struct ref_quick){
			.sm = ref_mask0(e->src_len), .dm = ref_mask0(e->dst_len),
			.spl = e->sport_lo, .sph = e->sport_hi,
			.dpl = e->dport_lo, .dph = e->dport_hi,
			.pv = e->proto & e->proto_mask, .pm = e->proto_mask,
		};
		g->q[i].s0 = e->src[0] & g->q[i].sm;
		g->q[i].d0 = e->dst[0] & g->q[i].dm;
	}
}

static void ref_gen_free(struct ref_gen *g)
{
	free(g->r);
	free(g->q);
}

/* Id of the first rule matching h, 0: none. */
static __u32 ref_first(const struct ref_gen *g, const struct aclgen_hdr *h)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		const struct ref_quick *q = &g->q[i];

		if (((h->src[0] ^ q->s0) & q->sm) || ((h->dst[0] ^ q->d0) & q->dm) ||
		    h->dport < q->dpl || h->dport > q->dph || h->sport < q->spl ||
		    h->sport > q->sph || ((h->proto ^ q->pv) & q->pm))
			continue;
		if (ref_match(&g->r[i], h))
			return g->r[i].rule_id;
	}
	return 0;
}

/* Every rule "allow mark ID", so the observer's frame names it. */
static void mark_rules(struct xfsm_acl_rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		rs->r[i].action = XFSM_ACL_ALLOW;
		rs->r[i].flags |= XFSM_ACLF_MARK;
		rs->r[i].mark = rs->r[i].rule_id;
	}
}

static void hdr_pkt(struct pkt *p, const struct aclgen_hdr *h)
{
	unsigned int i;

	pkt_init(p);
	pkt_eth(p, 0x020000000001ULL, 0x020000000002ULL, 0);
	if (h->vlan != 0xffffffffU)
		pkt_vlan(p, ETHERTYPE_8021Q, h->vlan);
	if (h->family == 4) {
		struct ip4_args ip = { .src = h->src[0], .dst = h->dst[0], .ttl = 64,
				       .proto = h->proto };

		pkt_ip4(p, &ip);
	} else {
		struct ip6_args ip = { .hlim = 64, .next = h->proto };

		for (i = 0; i < 16; i++) {
			ip.src[i] = h->src[i / 4] >> (24 - 8 * (i % 4));
			ip.dst[i] = h->dst[i / 4] >> (24 - 8 * (i % 4));
		}
		pkt_ip6(p, &ip);
	}
	if (h->proto == IPPROTO_TCP_)
		pkt_tcp(p, h->sport, h->dport, h->tcp_flags, 0);
	else if (h->proto == IPPROTO_UDP_)
		pkt_udp(p, h->sport, h->dport);
	else
		pkt_raw(p, 8, 0);
	pkt_finish(p);
}

/* The ingress ifindex carrying the header's port (lo is ACLGEN_PORT_A). */
static __u32 hdr_ifindex(const struct aclgen_hdr *h)
{
	return h->port == ACLGEN_PORT_A ? 1 : 0;
}

struct gen_check {
	size_t	headers;	/* checked in process (all) */
	size_t	datapath;	/* of them through the datapath */
	size_t	ref;		/* of them against the linear scan */
	size_t	matched;
	unsigned int max_lookups;
	double	lookups;
};

/*
 * Classify headers in process (lookups within the set's bound, the result
 * of the first `ref` equal to the reference) and run the first `dp`
 * through the datapath, installed in table 0 (frame = reference).
 */
static void check_generated(const char *name, struct xfsm_acl_rules *rs, size_t nh, size_t ref,
			    size_t dp, struct gen_check *gc)
{
	struct xfsm_acl_entry hit;
	struct ref_gen rg;
	struct xfsm_acl_build_info bi;
	struct xfsm_acl_built *b = NULL;
	struct aclgen_hdr *h;
	__u32 *want = calloc(nh, sizeof(*want));
	size_t i, bad_proc = 0, bad_dp = 0, over = 0;
	unsigned long long sum = 0;

	memset(gc, 0, sizeof(*gc));
	ck_assert_ptr_nonnull(want);
	ref_gen_init(&rg, rs);
	ck_assert_msg(!xfsm_acl_compile(rs->r, rs->n, NULL, &b, &bi), "%s: compile: %s", name,
		      bi.rule_text);
	ck_assert_uint_le(bi.max_lookups, XFSM_ACL_MAX_LOOKUPS);
	ck_assert_uint_eq(bi.max_lookups, xfsm_acl_built_set(b)->max_lookups);
	ck_assert_int_eq(aclgen_headers(rs->r, rs->n, nh, 2, &h), 0);
	for (i = 0; i < nh; i++) {
		__u32 fv[XFSM_FV_WORDS], got;
		unsigned int lk;

		aclgen_hdr_fv(&h[i], fv);
		got = xfsm_acl_classify(b, fv, &hit, &lk) ? hit.rule_id : 0;
		sum += lk;
		if (lk > gc->max_lookups)
			gc->max_lookups = lk;
		if (lk > bi.max_lookups && over++ < 5)
			fprintf(stderr, "%s header %zu: %u lookups, the bound is %u\n", name, i, lk,
				bi.max_lookups);
		want[i] = got;
		if (i < ref) {
			want[i] = ref_first(&rg, &h[i]);
			if (got != want[i] && bad_proc++ < 5)
				fprintf(stderr, "%s header %zu: in process rule %u, reference %u\n",
					name, i, got, want[i]);
		}
		gc->matched += want[i] != 0;
	}
	ck_assert_msg(over == 0, "%s: %zu headers over the lookup bound", name, over);
	ck_assert_msg(bad_proc == 0, "%s: %zu of %zu headers misclassified in process", name,
		      bad_proc, ref);
	if (dp) {
		ck_assert_int_eq(xfsm_acl_install(T.inst, 0, rs->r, rs->n), 0);
		ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_CONTINUE), 0);
		ck_assert_int_eq(xt_set_port(&T, 1, ACLGEN_PORT_A), 0);
		for (i = 0; i < dp && i < ref; i++) {
			struct xt_result r;
			struct pkt p;

			hdr_pkt(&p, &h[i]);
			ck_assert_int_eq(xt_run_pkt(&T, &p, hdr_ifindex(&h[i]), &r), 0);
			if ((r.verdict != XDP_TX || out_dmac(&r) != want[i]) && bad_dp++ < 5)
				fprintf(stderr, "%s header %zu: datapath %s rule %llu, reference %u\n",
					name, i, xt_verdict_name(r.verdict),
					(unsigned long long)out_dmac(&r), want[i]);
		}
		ck_assert_msg(bad_dp == 0, "%s: %zu packets misclassified by the datapath", name,
			      bad_dp);
		ck_assert_int_eq(xfsm_acl_install(T.inst, 0, NULL, 0), 0);
	}
	gc->headers = nh;
	gc->ref = ref;
	gc->datapath = dp < ref ? dp : ref;
	gc->lookups = (double)sum / nh;
	printf("%s: %zu rules, %u trees, %zu nodes, bound %u lookups; %zu headers (%zu against the linear scan, %zu through the datapath) agree, %zu matched; lookups %.1f on average, %u at most\n",
	       name, rs->n, bi.trees, bi.nodes, bi.max_lookups, nh, ref, gc->datapath,
	       gc->matched, gc->lookups, gc->max_lookups);
	xfsm_acl_built_free(b);
	ref_gen_free(&rg);
	free(want);
	free(h);
}

/* n rules of style st: 100k headers in process, the first `ref` against
 * the linear scan and through the datapath. */
static void run_generated(enum aclgen_style st, size_t n, size_t ref)
{
	struct xfsm_acl_rules rs = {};
	struct gen_check gc;
	char name[64];

	snprintf(name, sizeof(name), "generated %s %zuk", aclgen_style_name(st), n / 1000);
	ck_assert_int_eq(aclgen_rules(st, n, 1, &rs), 0);
	mark_rules(&rs);
	check_generated(name, &rs, sample(100000), sample(ref), sample(ref), &gc);
	xfsm_acl_rules_free(&rs);
}

/* 10k rules of every style: all 100k headers against the linear scan, in
 * process and through the datapath. */
START_TEST(test_generated)
{
	NEED_ACL();
	run_generated(_i, 10000, 100000);
	XT_END();
}
END_TEST

/* 100k rules of every style, filling table 0: the bound over 100k headers;
 * 2000 of them against the linear scan (of 100k rules) and the datapath. */
START_TEST(test_generated_100k)
{
	NEED_ACL();
	run_generated(_i, 100000, 2000);
	XT_END();
}
END_TEST

/*
 * The crafted set of issue 13: 10,000 rules "any -> any tcp dport P".  The
 * tuple search took 1,250 hash lookups for a packet matching the last rule
 * or none; the trees take a dozen.
 */
START_TEST(test_crafted_dport)
{
	struct aclgen_hdr h = { .family = 4, .proto = IPPROTO_TCP_, .sport = 1000,
				.vlan = 0xffffffffU, .src = { 0xc6120001 }, .dst = { 0xc6120002 } };
	static const __u16 dports[] = { 10000, 1, 5000, 10001, 65535 };
	struct xfsm_acl_rules rs = {};
	struct xfsm_acl_stats s0, s1;
	struct xfsm_acl_built *b;
	size_t i;

	NEED_ACL();
	ck_assert_int_eq(aclgen_rules(ACLGEN_DPORT, 10000, 1, &rs), 0);
	mark_rules(&rs);
	ck_assert_int_eq(xfsm_acl_build(rs.r, rs.n, &b), 0);
	ck_assert_uint_le(xfsm_acl_built_set(b)->max_lookups, 16);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, rs.r, rs.n), 0);
	ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_CONTINUE), 0);
	for (i = 0; i < ARRAY_SIZE(dports); i++) {
		__u32 fv[XFSM_FV_WORDS], want = dports[i] <= 10000 ? dports[i] : 0;
		struct xfsm_acl_entry hit;
		struct xt_result r;
		unsigned int lk;
		struct pkt p;

		h.dport = dports[i];
		aclgen_hdr_fv(&h, fv);
		ck_assert_uint_eq(xfsm_acl_classify(b, fv, &hit, &lk) ? hit.rule_id : 0, want);
		ck_assert_uint_le(lk, 16);
		ck_assert_int_eq(xfsm_acl_read_stats(T.inst, 0, &s0), 0);
		hdr_pkt(&p, &h);
		ck_assert_int_eq(xt_run_pkt(&T, &p, 0, &r), 0);
		ck_assert_int_eq(xfsm_acl_read_stats(T.inst, 0, &s1), 0);
		ck_assert_uint_eq(r.verdict, XDP_TX);
		ck_assert_uint_eq(out_dmac(&r), want);
		/* the datapath counts the same lookups */
		ck_assert_uint_eq(s1.probes - s0.probes, lk);
	}
	xfsm_acl_install(T.inst, 0, NULL, 0);
	xfsm_acl_built_free(b);
	xfsm_acl_rules_free(&rs);
	XT_END();
}
END_TEST

/* ---- Limits ------------------------------------------------------------------------ */

static char logbuf[8192];

static void log_capture(enum xfsm_log_level lvl, const char *msg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

#define LOG_HAS(s)	ck_assert_msg(strstr(logbuf, (s)), "no \"%s\" in: %s", (s), logbuf)

/* n rules "proto tcp dport D" of ids base+1.. */
static void dport_rules(struct xfsm_acl_rules *rs, size_t n, __u32 base)
{
	struct xfsm_acl_entry e;
	size_t i;

	for (i = 0; i < n; i++) {
		xfsm_acl_entry_init(&e);
		e.rule_id = base + i + 1;
		e.proto = IPPROTO_TCP_;
		e.proto_mask = 0xff;
		e.dport_lo = e.dport_hi = i % 65535 + 1;
		e.flags = XFSM_ACLF_MARK;
		e.mark = e.rule_id;
		ck_assert_int_eq(xfsm_acl_rules_add(rs, &e), 0);
	}
}

/* Whatever the other tables hold, a table takes rules up to its capacity;
 * one more is refused with the limit, the table and the option named,
 * and the running rules stay. */
START_TEST(test_limit_capacity)
{
	struct xfsm_acl_rules r1 = {}, r2 = {}, big = {}, now = {};
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 1, .dst = 2, .sport = 9,
			      .dport = 7 };
	struct xfsm_acl_caps caps;
	__u64 mark;

	NEED_ACL();
	ck_assert_int_eq(xfsm_acl_caps_get(T.inst, &caps), 0);
	ck_assert_uint_eq(caps.rules[1], XFSM_ACL_DEF_RULES);
	ck_assert_uint_eq(caps.rules[0], 131072);
	dport_rules(&r1, caps.rules[1], 0);
	dport_rules(&r2, caps.rules[2], 100000);
	dport_rules(&big, caps.rules[0], 200000);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 1, r1.r, r1.n), 0);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 2, r2.r, r2.n), 0);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, big.r, big.n), 0);
	/* every table answers with its own rules */
	ck_assert_int_eq(apply_observer(1, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_uint_eq(run_spec(&s, 0, &mark), XDP_TX);
	ck_assert_uint_eq(mark, 7);
	ck_assert_int_eq(apply_observer(2, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_uint_eq(run_spec(&s, 0, &mark), XDP_TX);
	ck_assert_uint_eq(mark, 100007);
	ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_uint_eq(run_spec(&s, 0, &mark), XDP_TX);
	ck_assert_uint_eq(mark, 200007);

	/* one rule over the capacity of table 1 */
	dport_rules(&r1, 1, 50000);
	logbuf[0] = '\0';
	xfsm_set_log(log_capture);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 1, r1.r, r1.n), -ENOSPC);
	xfsm_set_log(NULL);
	LOG_HAS("ACL table 1 ");
	LOG_HAS("holds 4096 rules, this set has 4097");
	LOG_HAS("--acl-rules 1=N");
	LOG_HAS("the running rules are unchanged");
	ck_assert_int_eq(xfsm_acl_read(T.inst, 1, &now), 0);
	ck_assert_uint_eq(now.n, caps.rules[1]);
	xfsm_acl_rules_free(&now);
	ck_assert_int_eq(apply_observer(1, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_uint_eq(run_spec(&s, 0, &mark), XDP_TX);
	ck_assert_uint_eq(mark, 7);

	/* table 7 has room for 4096 rules but only 64 tree nodes */
	ck_assert_uint_eq(caps.nodes[7], 64);
	logbuf[0] = '\0';
	xfsm_set_log(log_capture);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 7, r2.r, 2000), -ENOSPC);
	xfsm_set_log(NULL);
	LOG_HAS("ACL table 7 ");
	LOG_HAS("holds 64 tree nodes");
	LOG_HAS("--acl-nodes 7=N");
	LOG_HAS("ran out at rule ");
	ck_assert_int_eq(xfsm_acl_install(T.inst, 7, r2.r, 20), 0);

	acl_clear_all();
	xfsm_acl_rules_free(&r1);
	xfsm_acl_rules_free(&r2);
	xfsm_acl_rules_free(&big);
	XT_END();
}
END_TEST

/* 8-bit masks with four bits set: no interval holds one of these flag
 * sets, none contains another, all meet at flags 0xff. */
static __u8 four_bit_mask(unsigned int k)
{
	unsigned int m, seen = 0;

	for (m = 0; m < 256; m++)
		if (__builtin_popcount(m) == 4 && seen++ == k)
			return m;
	return 0xf0;
}

static void flag_rules(struct xfsm_acl_rules *rs, unsigned int n, __u16 dport, __u32 base)
{
	struct xfsm_acl_entry e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		xfsm_acl_entry_init(&e);
		e.rule_id = base + i + 1;
		e.proto = IPPROTO_TCP_;
		e.proto_mask = 0xff;
		e.dport_lo = e.dport_hi = dport;
		e.tcp_flags = e.tcp_mask = four_bit_mask(i);
		ck_assert_int_eq(xfsm_acl_rules_add(rs, &e), 0);
	}
}

/* Rules no cut separates fill at most XFSM_ACL_MAX_TREES leaves; the rule
 * after them is named in the refusal.  Rules an earlier one shadows cost
 * nothing.  A set whose worst packet would take more than
 * XFSM_ACL_MAX_LOOKUPS lookups is refused too. */
START_TEST(test_limit_overlap)
{
	const unsigned int fit = XFSM_ACL_MAX_TREES * XFSM_ACL_LEAF;
	struct xfsm_acl_build_info bi;
	struct xfsm_acl_rules rs = {};
	struct xfsm_acl_built *b;
	struct xfsm_acl_entry e;
	unsigned int i;
	char want[64];

	NEED_ACL();
	flag_rules(&rs, fit, 80, 0);
	ck_assert_int_eq(xfsm_acl_compile(rs.r, rs.n, NULL, &b, &bi), 0);
	ck_assert_uint_eq(bi.trees, XFSM_ACL_MAX_TREES);
	xfsm_acl_built_free(b);
	/* copies of a rule are shadowed by it: free */
	for (i = 0; i < 100; i++) {
		e = rs.r[0];
		e.rule_id = 1000 + i;
		ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), 0);
	}
	ck_assert_int_eq(xfsm_acl_compile(rs.r, rs.n, NULL, &b, &bi), 0);
	xfsm_acl_built_free(b);
	/* one more that overlaps them all */
	e = rs.r[0];
	e.rule_id = 2000;
	e.tcp_flags = e.tcp_mask = four_bit_mask(fit);
	ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), 0);
	ck_assert_int_eq(xfsm_acl_compile(rs.r, rs.n, NULL, &b, &bi), -E2BIG);
	ck_assert_uint_eq(bi.limit, XFSM_ACL_LIMIT_TREES);
	ck_assert_uint_eq(bi.rule_id, 2000);
	logbuf[0] = '\0';
	xfsm_set_log(log_capture);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 3, rs.r, rs.n), -E2BIG);
	xfsm_set_log(NULL);
	LOG_HAS("ACL table 3: rule 2000 (");
	snprintf(want, sizeof(want), "%u trees of %u-rule leaves", XFSM_ACL_MAX_TREES,
		 XFSM_ACL_LEAF);
	LOG_HAS(want);
	xfsm_acl_rules_free(&rs);

	/* 50 such rules behind each of 2000 ports: every one of eight
	 * trees is deep and full */
	for (i = 0; i < 2000; i++)
		flag_rules(&rs, 50, i + 1, i * 50);
	ck_assert_int_eq(xfsm_acl_compile(rs.r, rs.n, NULL, &b, &bi), -E2BIG);
	ck_assert_uint_eq(bi.limit, XFSM_ACL_LIMIT_LOOKUPS);
	ck_assert_uint_gt(bi.need, XFSM_ACL_MAX_LOOKUPS);
	logbuf[0] = '\0';
	xfsm_set_log(log_capture);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, rs.r, rs.n), -E2BIG);
	xfsm_set_log(NULL);
	snprintf(want, sizeof(want), "the limit is %u", XFSM_ACL_MAX_LOOKUPS);
	LOG_HAS(want);
	xfsm_acl_rules_free(&rs);
	XT_END();
}
END_TEST

/*
 * An update writes the buffer packets do not use: after it, the running
 * application slot names the other buffer, whose region is not the
 * previous one's, and the previous buffer's rules are exactly as they
 * were (packets still on it finish with the old set; once none can be,
 * the switch empties its descriptor).  Writing in place fails here,
 * however short the copy.
 */
START_TEST(test_update_double_buffered)
{
	struct xfsm_acl_rules a = {}, b = {};
	struct xfsm_acl_set s1, s2, old;
	struct xfsm_acl_entry e;
	unsigned int b1, b2;
	__u32 k, i;

	NEED_ACL();
	dport_rules(&a, 300, 0);
	dport_rules(&b, 200, 1000);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 4, a.r, a.n), 0);
	ck_assert_int_eq(xfsm_acl_set_get(T.inst, 4, &s1, &b1), 0);
	ck_assert_int_eq(xfsm_acl_install(T.inst, 4, b.r, b.n), 0);
	ck_assert_int_eq(xfsm_acl_set_get(T.inst, 4, &s2, &b2), 0);
	ck_assert_uint_ne(b2, b1);
	ck_assert_uint_gt(s2.generation, s1.generation);
	ck_assert_uint_eq(s1.n_rules, 300);
	ck_assert_uint_eq(s2.n_rules, 200);
	ck_assert_uint_ne(s2.rule_base, s1.rule_base);
	ck_assert_uint_ne(s2.node_base, s1.node_base);
	k = 4 * 2 + b1;
	ck_assert_int_eq(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_ACL_SETS], &k, &old), 0);
	ck_assert_uint_eq(old.n_rules, 0);
	for (i = 0; i < a.n; i++) {
		k = s1.rule_base + i;
		ck_assert_int_eq(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_ACL_RULES], &k, &e), 0);
		ck_assert_uint_eq(e.rule_id, a.r[i].rule_id);
		ck_assert_uint_eq(e.dport_lo, a.r[i].dport_lo);
	}
	xfsm_acl_install(T.inst, 4, NULL, 0);
	xfsm_acl_rules_free(&a);
	xfsm_acl_rules_free(&b);
	XT_END();
}
END_TEST

/* ---- Syntax ------------------------------------------------------------------------ */

START_TEST(test_syntax_roundtrip)
{
	static const char *const good[] = {
		"id 4 prio 9 src 198.18.0.0/15 dst 198.18.3.4 proto tcp sport 1-1023 dport 443 flags syn/syn|ack => deny",
		"ip6 src 2001:2::/48 proto udp dport 53 => allow mark 3",
		"vlan 100 port 2 => goto 3",
		"dst 2001:2::1/128 => pass",
		"proto 6/0xfe => mark 9",
	};
	static const char *const bad[] = {
		"src 198.18.0.1/33 => deny", "src 198.18.0.1/24 => deny",
		"sport 10-5 => deny", "proto tcp", "src 198.18.0.0/15 dst 2001:2::/48 => deny",
		"vlan 4096 => deny", "goto nowhere", "deny allow", "colour red => deny",
	};
	struct xfsm_acl_entry e, e2;
	char buf[512], err[200];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(!xfsm_acl_parse_rule(good[i], &e, NULL, NULL, err, sizeof(err)),
			      "%s: %s", good[i], err);
		if (!e.rule_id)
			e.rule_id = 1;
		xfsm_acl_format(&e, buf, sizeof(buf));
		ck_assert_msg(!xfsm_acl_parse_rule(buf, &e2, NULL, NULL, err, sizeof(err)),
			      "%s: %s", buf, err);
		ck_assert_msg(!memcmp(&e, &e2, sizeof(e)), "round trip of %s gave %s", good[i], buf);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(xfsm_acl_parse_rule(bad[i], &e, NULL, NULL, err, sizeof(err)) == -EINVAL,
			      "accepted %s", bad[i]);
	ck_assert_int_eq(xfsm_acl_parse_classbench(
		"@43.109.148.142/32\t192.75.132.0/24\t0 : 65535\t1221 : 1221\t0x06/0xFF\t0x1000/0x1000\t", &e,
		err, sizeof(err)), 0);
	ck_assert_uint_eq(e.src[0], 0x2b6d948e);
	ck_assert_uint_eq(e.dst_len, 24);
	ck_assert_uint_eq(e.dport_lo, 1221);
	ck_assert_uint_eq(e.proto_mask, 0xff);
}
END_TEST

/* Numbers in the ACL syntaxes: decimal unless a base is written, exact,
 * in range; ClassBench lines are taken strictly; rules of any length. */
START_TEST(test_syntax_numbers)
{
	static const char *const bad_native[] = {
		"dport 0x => deny", "dport 1e3 => deny", "dport 65536 => deny",
		"dport ' 22' => deny", "dport -1 => deny", "mark 4294967296",
		"src 198.300.0.2 => deny", "src 198.018.0.2 => deny", "src 198.18.0.0/016x => deny",
		"proto 0x06/0x00 => deny", "proto 256 => deny", "vlan 0x1000 => deny",
		"id 0 => deny", "flags syn|bogus => deny", "goto 8", "goto 1x",
	};
	static const char *const bad_cb[] = {
		"@198.300.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0x00\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t0x0000/0x0000\tjunk",
		"@198.18.0.2/32\t198.18.0.1/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65536\t0 : 65535\t0x06/0xFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t10 : 5\t0 : 65535\t0x06/0xFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t06/0xFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x106/0xFFF\t0x0000/0x0000\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t0x10000/0x0000\t",
		"@198.18.0.2\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t",
		"@2001:2::/48\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 :\t0x06/0xFF\t",
		"@198.18.0.2/32\t198.18.0.0/16\t0 : 65535",
	};
	struct xfsm_acl_entry e;
	char err[200], *longrule;
	size_t i, pad = 5000;

	ck_assert_msg(!xfsm_acl_parse_rule("dport 022 sport 0x16 prio 010 => deny", &e, NULL, NULL,
					   err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(e.dport_lo, 22);	/* not octal 18 */
	ck_assert_uint_eq(e.sport_lo, 22);
	ck_assert_uint_eq(e.priority, 10);
	ck_assert_msg(!xfsm_acl_parse_rule("proto 0o6/0b11111111 mark 0xffffffff", &e, NULL, NULL,
					   err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(e.proto, 6);
	ck_assert_uint_eq(e.proto_mask, 0xff);
	ck_assert_uint_eq(e.mark, 0xffffffff);
	for (i = 0; i < ARRAY_SIZE(bad_native); i++)
		ck_assert_msg(xfsm_acl_parse_rule(bad_native[i], &e, NULL, NULL, err, sizeof(err)) == -EINVAL,
			      "accepted %s", bad_native[i]);
	xfsm_acl_parse_rule("dport 65536 => deny", &e, NULL, NULL, err, sizeof(err));
	ck_assert_str_eq(err, "bad port range 65536 (N or LO-HI, 0..65535)");
	/* a word given twice is refused, never the last one taken */
	{
		static const char *const twice[][2] = {
			{ "dport 5 dport 6 => deny", "dport" }, { "id 3 id 4 => deny", "id" },
			{ "prio 1 priority 2 => deny", "priority" },
			{ "src 198.18.0.0/15 src 198.19.0.0/16 => deny", "src" },
			{ "proto tcp proto udp => deny", "proto" }, { "port 1 in_port 2 => deny", "in_port" },
			{ "vlan 1 vlan 2 => deny", "vlan" }, { "mark 1 mark 2", "mark" },
		};
		char want[80];

		for (i = 0; i < ARRAY_SIZE(twice); i++) {
			ck_assert_msg(xfsm_acl_parse_rule(twice[i][0], &e, NULL, NULL, err,
							  sizeof(err)) == -EINVAL,
				      "accepted %s", twice[i][0]);
			snprintf(want, sizeof(want), "%s is given twice: a rule takes it once",
				 twice[i][1]);
			ck_assert_str_eq(err, want);
		}
	}

	/* any length: the words at the end count */
	longrule = malloc(pad + 100);
	ck_assert_ptr_nonnull(longrule);
	memcpy(longrule, "prio 1", 6);
	memset(longrule + 6, ' ', pad);
	strcpy(longrule + 6 + pad, "dport 7 => deny mark 1234567");
	ck_assert_msg(!xfsm_acl_parse_rule(longrule, &e, NULL, NULL, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(e.action, XFSM_ACL_DENY);
	ck_assert_uint_eq(e.mark, 1234567);
	free(longrule);

	for (i = 0; i < ARRAY_SIZE(bad_cb); i++)
		ck_assert_msg(xfsm_acl_parse_classbench(bad_cb[i], &e, err, sizeof(err)) == -EINVAL,
			      "accepted ClassBench line %zu: %s", i, bad_cb[i]);
	xfsm_acl_parse_classbench(bad_cb[0], &e, err, sizeof(err));
	ck_assert_str_eq(err, "source: not an IPv4 or IPv6 address: 198.300.0.2");
	xfsm_acl_parse_classbench(bad_cb[1], &e, err, sizeof(err));
	ck_assert_str_eq(err, "protocol 0x06/0x00 has bits outside its mask");
	ck_assert_int_eq(xfsm_acl_parse_classbench(
		"  @198.18.0.2/32 198.18.0.0/16 1:2 3 :4 0x11/0xFF", &e, err, sizeof(err)), 0);
	ck_assert_uint_eq(e.sport_hi, 2);
	ck_assert_uint_eq(e.dport_lo, 3);
	ck_assert_uint_eq(e.dport_hi, 4);
	ck_assert_uint_eq(e.proto, 17);
}
END_TEST

/* Found by fuzz_acl: the id after 4294967295 wrapped to 0, an id no rule
 * may have (the printed rule did not parse back). */
START_TEST(test_rule_id_after_max)
{
	struct xfsm_acl_rules rs = {};
	struct xfsm_acl_entry e;
	char err[200];

	ck_assert_int_eq(xfsm_acl_parse_rule("id 4294967295 => deny", &e, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), 0);
	ck_assert_int_eq(xfsm_acl_parse_rule("ip4 => deny", &e, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), -ERANGE);
	ck_assert_uint_eq(rs.n, 1);
	e.rule_id = 5;
	ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), 0);
	ck_assert_uint_eq(rs.r[1].rule_id, 5);
	xfsm_acl_rules_free(&rs);
}
END_TEST

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* A rule file is used whole or not at all: empty, comments only, not a
 * file, or one bad line changes nothing; lines have no length limit. */
START_TEST(test_load_file_refusals)
{
	char dir[] = "/tmp/xfsm-acl-XXXXXX", path[64], err[300], *text;
	struct xfsm_acl_rules rs = {};
	struct xfsm_acl_entry e;
	size_t pad = 3000, o;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rules", dir);
	xfsm_acl_entry_init(&e);
	e.rule_id = 9;
	e.action = XFSM_ACL_DENY;
	ck_assert_int_eq(xfsm_acl_rules_add(&rs, &e), 0);

	write_file(path, "", 0);
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -ENODATA);
	ck_assert_msg(strstr(err, path) && strstr(err, "empty"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	write_str(path, "# nothing\n\n   \n\t# more nothing\n");
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "no rules"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_ne(xfsm_acl_load_file("/dev/null", &rs, err, sizeof(err)), 0);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(xfsm_acl_load_file(dir, &rs, err, sizeof(err)), -EISDIR);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(xfsm_acl_load_file("/proc/self/mem", &rs, err, sizeof(err)), -EIO);
	ck_assert_uint_eq(rs.n, 1);
	/* good lines before a bad one are not added either */
	write_str(path, "dport 1 => deny\ndport 2 => deny\ndport 3 => explode\n");
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "rules:3:12: explode needs a value"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	write_str(path, "@198.18.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t\n"
			"@198.300.0.2/32\t198.18.0.0/16\t0 : 65535\t0 : 65535\t0x06/0xFF\t\n");
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "rules:2:2: source: not an IPv4"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	/* a duplicate id and a NUL byte: file, line and column of the word */
	write_str(path, "id 5 dport 1 => deny\n  dport 2 id 5 => deny\n");
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -EEXIST);
	ck_assert_msg(strstr(err, "rules:2:14: rule id already in use"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	write_file(path, "dport 1 => deny\ndport 2\0 => deny\n", 33);
	ck_assert_int_eq(xfsm_acl_load_file(path, &rs, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "rules:2:8: a NUL byte in the line"), "%s", err);
	ck_assert_uint_eq(rs.n, 1);

	/* a line longer than any buffer is one rule, not two */
	text = malloc(pad + 200);
	ck_assert_ptr_nonnull(text);
	o = (size_t)snprintf(text, pad + 200, "proto udp dport 7009 mark 5");
	memset(text + o, ' ', pad);
	o += pad;
	o += (size_t)snprintf(text + o, 200, "=> deny\n# end\n");
	write_file(path, text, o);
	ck_assert_msg(!xfsm_acl_load_file(path, &rs, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_uint_eq(rs.r[1].dport_lo, 7009);
	ck_assert_uint_eq(rs.r[1].action, XFSM_ACL_DENY);
	ck_assert_uint_eq(rs.r[1].mark, 5);
	free(text);
	xfsm_acl_rules_free(&rs);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---- ACL blocks in the language ------------------------------------------------ */

static int compile(const char *src, struct xfsm_image *img, struct xfsm_app_names *nm,
		   char *err, size_t len)
{
	return xfsm_compile_string("t.xfsm", src, strlen(src), img, nm, err, len);
}

START_TEST(test_lang_acl)
{
	static const char ok[] =
		"app a\n"
		"acl first {\n"
		"\tmiss deny\n"
		"\trule prio 3 src 198.18.0.0/15 proto tcp dport 22 => goto last mark 4\n"
		"\trule ip6 dst 2001:2::/48 => allow\n"
		"}\n"
		"stage mid {\n\tkey ip.src\n\trule r when meta.mark == 4 => pass\n}\n"
		"acl last table 6 {\n\trule vlan 7 => deny\n}\n";
	static const char *const bad[] = {
		"app a\nacl x {\n\trule src 198.18.0.1/99 => deny\n}\n",
		"app a\nstage s {\n\tkey ip.src\n\trule r => pass\n}\nacl x {\n\trule dport 1 => goto s\n}\n",
		"app a\nacl x {\n\trule dport 1 => goto nowhere\n}\n",
		"app a\nacl x table 1 {\n\trule dport 1 => deny\n}\nacl y table 1 {\n\trule dport 2 => deny\n}\n",
		"app a\nacl x {\n\tmiss maybe\n}\n",
	};
	struct xfsm_app_names *nm = calloc(1, sizeof(*nm));
	struct xfsm_image img;
	char err[512];
	size_t i;

	ck_assert_ptr_nonnull(nm);
	ck_assert_msg(!compile(ok, &img, nm, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(img.app.n_stages, 3);
	ck_assert_uint_eq(img.app.stages[0].kind, XFSM_STAGE_ACL);
	ck_assert_uint_eq(img.app.stages[0].acl_table, 0);
	ck_assert_uint_eq(img.app.stages[0].miss_verdict, XFSM_VERDICT_DROP);
	ck_assert_uint_eq(img.app.stages[1].kind, XFSM_STAGE_XFSM);
	ck_assert_uint_eq(img.app.stages[2].kind, XFSM_STAGE_ACL);
	ck_assert_uint_eq(img.app.stages[2].acl_table, 6);
	ck_assert_uint_eq(img.app.stages[2].miss_verdict, XFSM_VERDICT_CONTINUE);
	ck_assert_uint_eq(nm->acl_tables, (1U << 0) | (1U << 6));
	ck_assert_uint_eq(nm->acl[0].n, 2);
	ck_assert_uint_eq(nm->acl[0].r[0].action, XFSM_ACL_GOTO);
	ck_assert_uint_eq(nm->acl[0].r[0].arg, 2);
	ck_assert_uint_eq(nm->acl[0].r[0].mark, 4);
	ck_assert_uint_eq(nm->acl[0].r[0].dport_lo, 22);
	ck_assert_uint_eq(nm->acl[6].r[0].vlan, 7);
	ck_assert_int_eq(xfsm_image_validate(&img, XFSM_MAX_STAGES, XFSM_MAX_TUPLES, 0), 0);
	xfsm_image_free(&img);
	xfsm_app_names_free(nm);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(compile(bad[i], &img, nm, err, sizeof(err)) == -EINVAL,
			      "accepted:\n%s", bad[i]);
		ck_assert_msg(!strncmp(err, "t.xfsm:", 7), "error without a location: %s", err);
		xfsm_image_free(&img);
		xfsm_app_names_free(nm);
	}
	free(nm);
}
END_TEST

/* An application with an ACL block runs with its table. */
START_TEST(test_lang_acl_install)
{
	static const char src[] =
		"app a\ndefault pass\n"
		"acl f table 4 {\n\trule src 198.18.0.1 => deny\n}\n"
		"stage s {\n\tkey ip.src\n\trule r when udp.dport == 9 => tx\n}\n";
	/* XT_DATAPATH: on either datapath (diff.h) */
	XFSM_OPTS(xfsm_apply_opts, o, .datapath = xt_datapath_env());
	struct xfsm_app_names *nm = calloc(1, sizeof(*nm));
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1, .dport = 9 };
	struct xfsm_image img;
	char err[512];

	NEED_ACL();
	ck_assert_msg(!compile(src, &img, nm, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(xfsm_lang_apply(T.inst, &img, nm, &o), 0);
	ck_assert_int_eq(xt_datapath_check(&T), 0);
	ck_assert_uint_eq(run_spec(&s, 0, NULL), XDP_DROP);
	s.src = 3;
	ck_assert_uint_eq(run_spec(&s, 0, NULL), XDP_TX);
	xfsm_image_free(&img);
	xfsm_app_names_free(nm);
	free(nm);
	XT_END();
}
END_TEST

/* ---- Benchmark (not part of the suite) ------------------------------------------- */

/*
 * make bench-acl: for every ClassBench set (when present) and every
 * generated style, the whole pipeline's ns/packet through
 * BPF_PROG_TEST_RUN (repeat 200, mean over up to 2000 headers meant for
 * the rules installed, best of two rounds) with the first 100 rules and
 * with the whole set, in the same run; the worst packet (the costliest
 * of 20k headers by the in-process lookup count, repeat 1000); install
 * time; memory per rule.
 */
#define BENCH_HEADERS	1000
#define BENCH_REPEAT	500
#define BENCH_ROUNDS	3

struct bench_row {
	char	name[48];
	size_t	rules;
	double	ns, install_s, lookups;
	unsigned int bound, trees;
	size_t	nodes;
	double	worst_ns;
	unsigned int worst_lookups;
};

static struct aclgen_hdr trace_hdr(const struct trace_line *t)
{
	struct aclgen_hdr h = { .family = 4, .proto = t->pr, .vlan = 0xffffffffU,
				.src = { t->s }, .dst = { t->d } };

	if (t->pr == IPPROTO_TCP_ || t->pr == IPPROTO_UDP_) {
		h.sport = t->sp;
		h.dport = t->dp;
	}
	if (!h.proto)
		h.proto = 59;	/* a packet says "no next header", not 0 */
	return h;
}

/* Mean ns/packet of headers h through the installed set. */
static double bench_ns(const struct aclgen_hdr *h, size_t n, __u32 repeat)
{
	unsigned long long sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct pkt p;
		__u32 d = 0, v;

		hdr_pkt(&p, &h[i]);
		if (xt_run_repeat(&T, p.data, p.len, hdr_ifindex(&h[i]), repeat, &v, &d))
			return -1;
		sum += d;
	}
	return n ? (double)sum / n : 0;
}

static void bench_print(const struct bench_row *r, const struct bench_row *base)
{
	printf("%-22s %7zu %8.1f %6.2fx %7.1f %5u %5u %7zu %6.1f %9.2f",
	       r->name, r->rules, r->ns, base ? r->ns / base->ns : 1.0, r->lookups, r->bound,
	       r->trees, r->nodes, (72.0 * r->rules + 32.0 * r->nodes) / r->rules,
	       r->install_s * 1000);
	if (r->worst_ns > 0)
		printf(" %8.1f (%u)", r->worst_ns, r->worst_lookups);
	printf("\n");
}

static void bench_header(void)
{
	printf("%-22s %7s %8s %7s %7s %5s %5s %7s %6s %9s %s\n", "set", "rules", "ns/pkt",
	       "ratio", "lookups", "bound", "trees", "nodes", "B/rule", "install", "worst ns (lookups)");
}

/* One set size under measurement. */
struct bench_case {
	struct bench_row row;
	const struct xfsm_acl_rules *rs;
	size_t	n;
	const struct aclgen_hdr *hs;	/* headers meant for it */
	size_t	nh;
	struct aclgen_hdr top[8];	/* its costliest headers ... */
	unsigned int topl[8];		/* ... by lookups in process */
	double	top_ns[8];
	size_t	ntop;
};

/* Compile the first n rules of rs (the bound, trees, nodes) and find the
 * costliest of headers ws by the in-process count. */
static int bench_prepare(struct bench_case *c, const char *name, const struct xfsm_acl_rules *rs,
			 size_t n, const struct aclgen_hdr *hs, size_t nh,
			 const struct aclgen_hdr *ws, size_t nw)
{
	struct xfsm_acl_build_info bi;
	struct xfsm_acl_built *b;
	unsigned int lk;
	size_t i, k;

	memset(c, 0, sizeof(*c));
	snprintf(c->row.name, sizeof(c->row.name), "%s", name);
	c->row.rules = n;
	c->rs = rs;
	c->n = n;
	c->hs = hs;
	c->nh = nh;
	if (xfsm_acl_compile(rs->r, n, NULL, &b, &bi)) {
		printf("%s: %zu rules refused: %s\n", name, n, bi.rule_text);
		return -1;
	}
	c->row.bound = bi.max_lookups;
	c->row.trees = bi.trees;
	c->row.nodes = bi.nodes;
	for (i = 0; i < nw; i++) {
		__u32 fv[XFSM_FV_WORDS];

		aclgen_hdr_fv(&ws[i], fv);
		xfsm_acl_classify(b, fv, NULL, &lk);
		for (k = 0; k < c->ntop && c->topl[k] >= lk; k++)
			;
		if (k == ARRAY_SIZE(c->top))
			continue;
		if (c->ntop < ARRAY_SIZE(c->top))
			c->ntop++;
		memmove(&c->top[k + 1], &c->top[k], (c->ntop - 1 - k) * sizeof(c->top[0]));
		memmove(&c->topl[k + 1], &c->topl[k], (c->ntop - 1 - k) * sizeof(c->topl[0]));
		c->top[k] = ws[i];
		c->topl[k] = lk;
	}
	xfsm_acl_built_free(b);
	return 0;
}

/* One round: install (timed) and measure; every figure keeps its best
 * round, the worst packet is the slowest header at its best. */
static int bench_measure(struct bench_case *c, int round)
{
	struct xfsm_acl_stats s0, s1;
	double t0, ns;
	size_t k;

	xfsm_acl_install(T.inst, 0, NULL, 0);
	t0 = now_s();
	if (xfsm_acl_install(T.inst, 0, c->rs->r, c->n))
		return -1;
	t0 = now_s() - t0;
	if (!round || t0 < c->row.install_s)
		c->row.install_s = t0;
	xfsm_acl_read_stats(T.inst, 0, &s0);
	ns = bench_ns(c->hs, c->nh, BENCH_REPEAT);
	xfsm_acl_read_stats(T.inst, 0, &s1);
	if (ns < 0)
		return -1;
	if (!round || ns < c->row.ns)
		c->row.ns = ns;
	c->row.lookups = (double)(s1.probes - s0.probes) / (s1.packets - s0.packets);
	c->row.worst_ns = 0;
	for (k = 0; k < c->ntop; k++) {
		ns = bench_ns(&c->top[k], 1, 1000);
		if (!round || ns < c->top_ns[k])
			c->top_ns[k] = ns;
		if (c->top_ns[k] > c->row.worst_ns) {
			c->row.worst_ns = c->top_ns[k];
			c->row.worst_lookups = c->topl[k];
		}
	}
	return 0;
}

/* Rounds over the sizes of one set, interleaved: a burst of other work
 * on the machine spoils one round of each, not every round of one. */
static int bench_rounds(struct bench_case *cs, size_t n)
{
	int round;
	size_t k;

	for (round = 0; round < BENCH_ROUNDS; round++)
		for (k = 0; k < n; k++)
			if (bench_measure(&cs[k], round))
				return -1;
	for (k = 0; k < n; k++)
		bench_print(&cs[k].row, k ? &cs[0].row : NULL);
	return 0;
}

/* Headers for the first n rules: trace lines generated for them. */
static size_t trace_headers(const struct trace_line *tr, size_t ntr, size_t n,
			    struct aclgen_hdr *out, size_t max)
{
	size_t i, elig = 0, step, seen = 0, k = 0;

	for (i = 0; i < ntr; i++)
		elig += tr[i].idx && tr[i].idx <= n;
	step = elig > max ? elig / max : 1;
	for (i = 0; i < ntr && k < max; i++) {
		if (!tr[i].idx || tr[i].idx > n || seen++ % step)
			continue;
		out[k++] = trace_hdr(&tr[i]);
	}
	return k;
}

static int bench_classbench(const char *file)
{
	struct aclgen_hdr *hs = calloc(2 * BENCH_HEADERS, sizeof(*hs)), *ws = NULL;
	struct xfsm_acl_rules rs = {};
	struct trace_line *tr = NULL;
	struct bench_case cs[2];
	char path[600], name[48];
	size_t ntr = 0, nh, i;
	int err = -1;

	snprintf(path, sizeof(path), "%s/%s", cb_dir(), file);
	if (!hs || load_rules_marked(path, &rs))
		goto out;
	snprintf(path, sizeof(path), "%s/%s_trace", cb_dir(), file);
	if (trace_load(path, &tr, &ntr))
		goto out;
	ws = calloc(ntr, sizeof(*ws));
	if (!ws)
		goto out;
	for (i = 0; i < ntr; i++)
		ws[i] = trace_hdr(&tr[i]);
	snprintf(name, sizeof(name), "%s first 100", file);
	nh = trace_headers(tr, ntr, 100, hs, BENCH_HEADERS);
	if (bench_prepare(&cs[0], name, &rs, 100, hs, nh, NULL, 0))
		goto out;
	nh = trace_headers(tr, ntr, rs.n, hs + BENCH_HEADERS, BENCH_HEADERS);
	if (bench_prepare(&cs[1], file, &rs, rs.n, hs + BENCH_HEADERS, nh, ws, ntr))
		goto out;
	err = bench_rounds(cs, 2);
out:
	free(hs);
	free(ws);
	free(tr);
	xfsm_acl_rules_free(&rs);
	return err;
}

static int bench_generated(enum aclgen_style st)
{
	static const size_t sizes[] = { 100, 10000, 100000 };
	struct aclgen_hdr *hs[3] = { NULL }, *ws = NULL;
	struct xfsm_acl_rules rs = {};
	struct bench_case cs[3];
	char name[48];
	size_t k;
	int err = -1;

	if (aclgen_rules(st, 100000, 1, &rs))
		goto out;
	mark_rules(&rs);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		if (sizes[k] < 1000)
			snprintf(name, sizeof(name), "gen %s %zu", aclgen_style_name(st), sizes[k]);
		else
			snprintf(name, sizeof(name), "gen %s %zuk", aclgen_style_name(st),
				 sizes[k] / 1000);
		free(ws);
		ws = NULL;
		if (aclgen_headers(rs.r, sizes[k], BENCH_HEADERS, 3, &hs[k]) ||
		    aclgen_headers(rs.r, sizes[k], 20000, 4, &ws))
			goto out;
		if (bench_prepare(&cs[k], name, &rs, sizes[k], hs[k], BENCH_HEADERS, ws, 20000))
			goto out;
	}
	err = bench_rounds(cs, ARRAY_SIZE(sizes));
out:
	for (k = 0; k < ARRAY_SIZE(sizes); k++)
		free(hs[k]);
	free(ws);
	xfsm_acl_rules_free(&rs);
	return err;
}

/* The same pipeline without the ACL stage. */
static double bench_no_acl(void)
{
	struct aclgen_hdr *hs;
	struct xfsm_acl_rules rs = {};
	struct xfsm_image img;
	struct rb b;
	double ns;

	app_init(&img, 2, XFSM_VERDICT_PASS);
	img.app.stages[0].miss_verdict = XFSM_VERDICT_CONTINUE;
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_SET_ETH_DST, 0, OPF(XFSM_FW_META_MARK));
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	rb_add(&img, 1, &b);
	xt_apply(&T, &img);
	xfsm_image_free(&img);
	aclgen_rules(ACLGEN_ACL, 100, 1, &rs);
	aclgen_headers(rs.r, rs.n, BENCH_HEADERS, 3, &hs);
	ns = bench_ns(hs, BENCH_HEADERS, BENCH_REPEAT);
	free(hs);
	xfsm_acl_rules_free(&rs);
	return ns;
}

/*
 * BPF_PROG_TEST_RUN with repeat > 1 puts the program into the kernel's
 * XDP dispatcher and takes it out again, two RCU grace periods per call
 * (milliseconds on a busy machine).  A program attached in native mode
 * stays in the dispatcher, so attach it to a veth in a network namespace
 * of this process's own: both vanish when the process ends.  Without it
 * the figures are the same, only slower to get.
 */
static void bench_keep_dispatcher(void)
{
	int ifindex;

	if (unshare(CLONE_NEWNET) ||
	    system("ip link add xacl0 type veth peer name xacl1 && ip link set xacl0 up && "
		   "ip link set xacl1 up") ||
	    !(ifindex = if_nametoindex("xacl0")) ||
	    bpf_xdp_attach(ifindex, T.prog_fd, XDP_FLAGS_DRV_MODE, NULL))
		printf("(could not attach the datapath to a veth: every measurement waits for "
		       "the XDP dispatcher)\n");
}

static int bench_all(void)
{
	static const char *const cb_files[] = {
		"acl1_1000", "fw1_1000", "ipc1_1000", "acl1_10000", "fw1_10000", "ipc1_10000",
	};
	size_t i;
	int err = 0;

	printf("ACL: ns/packet of the whole pipeline (ACL stage, then a stateful stage that\n"
	       "rewrites a MAC and transmits) through BPF_PROG_TEST_RUN, repeat %d, mean over\n"
	       "up to %d headers meant for the rules installed, best of %d rounds over the\n"
	       "sizes of a set in turn; ratio to the first 100 rules of the same set;\n"
	       "bound = lookups the compiler allows the worst packet of the set; worst = the\n"
	       "slowest of the 8 costliest of 20k headers by lookups, repeat 1000, each at its best\n"
	       "round; install = compile + write + swap, ms; B/rule = rule and node bytes per rule.\n",
	       BENCH_REPEAT, BENCH_HEADERS, BENCH_ROUNDS);
	bench_keep_dispatcher();
	printf("pipeline without the ACL stage: %.1f ns/packet\n", bench_no_acl());
	xt_set_port(&T, 1, ACLGEN_PORT_A);
	apply_observer(0, XFSM_VERDICT_CONTINUE);
	bench_header();
	for (i = 0; i < ARRAY_SIZE(cb_files) && !err; i++) {
		char why[800];

		if (cb_have(cb_files[i], why, sizeof(why)))
			err = bench_classbench(cb_files[i]);
		else
			printf("(%s skipped: %s)\n", cb_files[i], why);
	}
	for (i = 0; i < ACLGEN__MAX && !err; i++)
		err = bench_generated(i);
	xfsm_acl_install(T.inst, 0, NULL, 0);
	return err;
}

/* Table 0 big enough for the largest sets, the others at the default. */
static void acl_caps(struct xfsm_acl_caps *c)
{
	xfsm_acl_caps_default(c);
	c->rules[0] = 131072;
	c->nodes[0] = 262144;
	c->nodes[7] = 64;	/* test_limit_capacity: a table short of nodes */
}

static void acl_open(void)
{
	static struct xfsm_acl_caps caps;
	struct xt_opts o = { .profile = XT_NATIVE, .acl_caps = &caps };

	acl_caps(&caps);
	suite_open_with(&o);
}

static int bench(void)
{
	struct xfsm_acl_caps caps;
	struct xt_opts o = { .profile = XT_NATIVE, .acl_caps = &caps };
	int err;

	acl_caps(&caps);
	if (xt_open(&T, &o))
		return 1;
	err = bench_all();
	xt_close(&T);
	return err;
}

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;

	if (argc > 1 && !strcmp(argv[1], "bench"))
		return bench();
	s = suite_create("acl");
	tc = xt_tcase(s, "acl", acl_open);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_classbench, 0, ARRAY_SIZE(cb_sets));
	tcase_add_loop_test(tc, test_generated, 0, ACLGEN__MAX);
	tcase_add_loop_test(tc, test_generated_100k, 0, ACLGEN__MAX);
	tcase_add_test(tc, test_crafted_dport);
	tcase_add_test(tc, test_limit_capacity);
	tcase_add_test(tc, test_limit_overlap);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_mark_matched_later);
	tcase_add_test(tc, test_update_under_traffic);
	tcase_add_test(tc, test_update_double_buffered);
	tcase_add_test(tc, test_syntax_roundtrip);
	tcase_add_test(tc, test_syntax_numbers);
	tcase_add_test(tc, test_load_file_refusals);
	tcase_add_test(tc, test_rule_id_after_max);
	tcase_add_test(tc, test_lang_acl);
	tcase_add_test(tc, test_lang_acl_install);
	return xt_suite_run(s);
}
