/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL module: ClassBench correctness against a linear first-match
 * reference (in process over every trace line with the full header, and
 * through the datapath with BPF_PROG_TEST_RUN over every trace line of all
 * six sets), every match field and verdict, atomic updates under traffic,
 * rule syntax round trips, and the offload profile's refusal.
 *
 * How the datapath's choice is observed: stage 0 is the ACL (every rule
 * "allow mark ID"), stage 1 a stateful stage whose only rule writes
 * meta.mark into eth.dst and transmits, so the frame that comes back names
 * the rule (0: no rule matched).
 *
 * `test_acl bench` prints the per-packet cost at 100 and 10k rules
 * (BPF_PROG_TEST_RUN repeat) instead of running the suite.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"
#include "xfsm_acl.h"
#include "xfsm_lang.h"

#define CB_DIR_DEFAULT	"../shared/classbench"

static const char *cb_dir(void)
{
	const char *d = getenv("XFSM_CLASSBENCH");
	static char buf[512];

	if (d)
		return d;
	/* the build dir is <tree>/build: the sets sit next to the tree */
	snprintf(buf, sizeof(buf), "%s/../../shared/classbench", xt_build_dir());
	if (!access(buf, R_OK))
		return buf;
	return CB_DIR_DEFAULT;
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
	size_t n = 0, i, bad_proc = 0, bad_dp = 0, matched = 0;

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
		got = xfsm_acl_classify(b, fv, &hit, NULL) ? hit.rule_id : 0;
		if (got != want && bad_proc++ < 5)
			fprintf(stderr, "%s line %zu: in process rule %u, reference %u\n",
				name, i + 1, got, want);
	}
	ck_assert_msg(bad_proc == 0, "%s: %zu of %zu headers misclassified in process",
		      name, bad_proc, n);

	/* Through the datapath: every line.  Protocols without ports carry
	 * none in a real packet, so the reference sees ports 0 for them. */
	ck_assert_int_eq(xfsm_acl_install(T.inst, 0, rs.r, rs.n), 0);
	ck_assert_int_eq(apply_observer(0, XFSM_VERDICT_CONTINUE), 0);
	ck_assert_int_eq(xfsm_acl_read_stats(T.inst, 0, &st0), 0);
	for (i = 0; i < n; i++) {
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
	ck_assert_uint_eq(st.packets, n);
	ck_assert_uint_eq(st.matched, matched);
	printf("%s: %zu rules, %u tuples, %zu trace lines, all agree (in process and datapath); %.2f probes/packet\n",
	       name, rs.n, xfsm_acl_built_set(b)->n_tuples, n, (double)st.probes / st.packets);
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
 * Set A: many /32 rules, then "198.18.0.1 => mark 1", then "any => mark 2".
 * Set B: the same filler, then "198.18.0.1 => mark 3", then "any => mark 4".
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

static void make_set(struct xfsm_acl_rules *rs, __u32 m_host, __u32 m_any)
{
	char line[128];
	unsigned int i;

	for (i = 0; i < 3000; i++) {
		snprintf(line, sizeof(line), "src 198.19.%u.%u dst 198.18.%u.0/24 => deny",
			 i / 250, i % 250 + 1, i % 200);
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
	ck_assert_int_eq(xfsm_acl_install(T.inst, 3, a.r, a.n), 0);
	ck_assert_int_eq(apply_observer(3, XFSM_VERDICT_PASS), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, traffic_fn, &tr), 0);
	for (i = 0; i < 12; i++) {
		const struct xfsm_acl_rules *s = i % 2 ? &a : &b;

		ck_assert_int_eq(xfsm_acl_install(T.inst, 3, s->r, s->n), 0);
	}
	tr.stop = 1;
	pthread_join(th, NULL);
	printf("update under traffic: %lu packets during 12 installs of %zu rules: marks 1:%lu 2:%lu 3:%lu 4:%lu, %lu wrong\n",
	       tr.sent, a.n, tr.seen[1], tr.seen[2], tr.seen[3], tr.seen[4], tr.bad);
	ck_assert_uint_gt(tr.sent, 0);
	ck_assert_uint_eq(tr.bad, 0);
	/* the last install (a) is what runs now, and the old buffer is gone */
	{
		struct xfsm_acl_rules now;

		ck_assert_int_eq(xfsm_acl_read(T.inst, 3, &now), 0);
		ck_assert_uint_eq(now.n, a.n);
		ck_assert_uint_eq(now.r[a.n - 2].mark, 1);
		xfsm_acl_rules_free(&now);
		long nb = xfsm_map_count(T.inst, XFSM_M_ACL_RULES);

		ck_assert_msg(nb > 0 && nb <= (long)a.n, "%ld buckets for %zu rules", nb, a.n);
	}
	xfsm_acl_install(T.inst, 3, NULL, 0);
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
		"@43.109.148.142/32\t192.75.132.0/24\t0 : 65535\t1221 : 1221\t0x06/0xFF\t0x1000/0x1000\t", &e), 0);
	ck_assert_uint_eq(e.src[0], 0x2b6d948e);
	ck_assert_uint_eq(e.dst_len, 24);
	ck_assert_uint_eq(e.dport_lo, 1221);
	ck_assert_uint_eq(e.proto_mask, 0xff);
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
	struct xfsm_app_names *nm = calloc(1, sizeof(*nm));
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1, .dport = 9 };
	struct xfsm_image img;
	char err[512];

	NEED_ACL();
	ck_assert_msg(!compile(src, &img, nm, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(xfsm_lang_apply(T.inst, &img, nm, NULL), 0);
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

static int bench_set(const char *set)
{
	static const unsigned int sizes[] = { 100, 1000, 10000 };
	char path[600];
	struct xfsm_acl_rules all = {};
	struct trace_line *tr;
	size_t n, k, i;

	snprintf(path, sizeof(path), "%s/%s_10000", cb_dir(), set);
	if (load_rules_marked(path, &all))
		return 1;
	snprintf(path, sizeof(path), "%s/%s_10000_trace", cb_dir(), set);
	if (trace_load(path, &tr, &n))
		return 1;
	apply_observer(0, XFSM_VERDICT_CONTINUE);
	printf("%s: the first N rules of %s_10000; up to 2000 headers of its trace generated\n"
	       "for those rules; BPF_PROG_TEST_RUN repeat 200 each\n", set, set);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		unsigned long long sum = 0;
		struct xfsm_acl_stats s0, s1;
		size_t cnt = 0, elig = 0, step, seen = 0;

		size_t nr = sizes[k] < all.n ? sizes[k] : all.n;

		if (xfsm_acl_install(T.inst, 0, all.r, nr))
			return 1;
		xfsm_acl_read_stats(T.inst, 0, &s0);
		for (i = 0; i < n; i++)
			elig += tr[i].idx && tr[i].idx <= nr;
		step = elig > 2000 ? elig / 2000 : 1;
		for (i = 0; i < n && cnt < 2000; i++) {
			struct pkt p;
			struct trace_line t = tr[i];
			__u32 d = 0, v;

			if (!t.idx || t.idx > nr || seen++ % step)
				continue;
			if (t.pr != IPPROTO_TCP_ && t.pr != IPPROTO_UDP_)
				t.sp = t.dp = 0;
			build_trace_pkt(&p, &t);
			if (xt_run_repeat(&T, p.data, p.len, 0, 200, &v, &d))
				return 1;
			sum += d;
			cnt++;
		}
		xfsm_acl_read_stats(T.inst, 0, &s1);
		printf("  %5zu rules: %6.1f ns/packet, %5.2f probes/packet, %3.0f%% matched (%zu headers)\n",
		       nr, (double)sum / cnt, (double)(s1.probes - s0.probes) / (s1.packets - s0.packets),
		       100.0 * (s1.matched - s0.matched) / (s1.packets - s0.packets), cnt);
	}
	/* The same with no ACL stage: the pipeline's own cost. */
	{
		struct xfsm_image img;
		struct rb b;
		unsigned long long sum = 0;
		size_t cnt = 0;
		__u32 d, v;

		app_init(&img, 2, XFSM_VERDICT_PASS);
		img.app.stages[0].miss_verdict = XFSM_VERDICT_CONTINUE;
		rb_init(&b, 1);
		rb_act(&b, XFSM_ACT_SET_ETH_DST, 0, OPF(XFSM_FW_META_MARK));
		rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
		rb_add(&img, 1, &b);
		xt_apply(&T, &img);
		xfsm_image_free(&img);
		for (i = 0; i < n && cnt < 2000; i += n / 2000) {
			struct pkt p;

			build_trace_pkt(&p, &tr[i]);
			if (xt_run_repeat(&T, p.data, p.len, 0, 200, &v, &d))
				return 1;
			sum += d;
			cnt++;
		}
		printf("  no ACL (empty stateful stage instead): %.1f ns/packet\n", (double)sum / cnt);
	}
	xfsm_acl_install(T.inst, 0, NULL, 0);
	xfsm_acl_rules_free(&all);
	free(tr);
	return 0;
}

static int bench(void)
{
	struct xt_opts o = { .profile = XT_NATIVE };
	int err;

	if (xt_open(&T, &o))
		return 1;
	err = bench_set("acl1") || bench_set("fw1") || bench_set("ipc1");
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
	tc = xt_tcase(s, "acl", suite_open_native);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_classbench, 0, ARRAY_SIZE(cb_sets));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_mark_matched_later);
	tcase_add_test(tc, test_update_under_traffic);
	tcase_add_test(tc, test_syntax_roundtrip);
	tcase_add_test(tc, test_lang_acl);
	tcase_add_test(tc, test_lang_acl_install);
	return xt_suite_run(s);
}
