/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * output fib: forwarding by the kernel's routing and neighbour tables.
 * Through BPF_PROG_TEST_RUN the lookup uses the routes of the test's own
 * network namespace (made here, gone with the process): a veth pair whose
 * xf0 is the ingress device and xf1 the egress one, with a neighbour, a
 * route that needs one it does not have, blackhole, unreachable and
 * prohibit routes, a route with a small MTU (IPv4 and IPv6), policy rules
 * on the protocol, ports and TOS / traffic class, and no default route.  Each
 * golden packet checks its verdict and exactly one fib counter moving; a
 * forwarded one also its MACs (the neighbour's and xf1's), TTL / hop
 * limit, IPv4 checksum and the egress port's tx counter (the redirect's
 * ifindex, as XDP_REDIRECT leaves no other trace in a test run).
 */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/bpf.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xt_assert.h"
#include "bpf.h"
#include "golden.h"
#include "pkt.h"

#define MAC_XF1		0x020000f10000ULL	/* the egress device */
#define MAC_NEIGH	0x020000000022ULL	/* the next hop, 198.18.0.2 / 2001:2::2 */
#define EGRESS_PORT	7

/* The namespace: every address in 198.18.0.0/15 and 2001:2::/48. */
static const char *const net_setup[] = {
	"ip link add xf0 address 02:00:00:f0:00:00 type veth peer name xf1 address 02:00:00:f1:00:00",
	"ip link set lo up",
	"ip link set xf0 up",
	"ip link set xf1 up",
	"ip addr add 198.18.1.1/24 dev xf0",
	"ip addr add 198.18.0.1/28 dev xf1",
	"ip neigh replace 198.18.0.2 lladdr 02:00:00:00:00:22 nud permanent dev xf1",
	"ip route add blackhole 198.18.0.16/28",
	"ip route add unreachable 198.18.0.32/28",
	"ip route add prohibit 198.18.0.48/28",
	"ip route add 198.18.0.64/28 via 198.18.0.2 dev xf1 mtu lock 600",
	"ip -6 addr add 2001:2:1::1/64 dev xf0 nodad",
	"ip -6 addr add 2001:2::1/120 dev xf1 nodad",
	"ip -6 neigh replace 2001:2::2 lladdr 02:00:00:00:00:22 nud permanent dev xf1",
	"ip -6 route add 2001:2::100/120 via 2001:2::2 dev xf1 mtu lock 1280",
	/* policy rules on what the lookup is given besides the addresses */
	"ip rule add ipproto udp dport 5353 prohibit",
	"ip rule add ipproto tcp sport 7777 unreachable",
	"ip rule add tos 0x10 blackhole",
	"ip -6 rule add tos 0x10 prohibit",
	"sysctl -qw net.ipv4.ip_forward=1",
	"sysctl -qw net.ipv6.conf.all.forwarding=1",
};

static __u32 if_xf0, if_xf1;

static bool make_net(void)
{
	char cmd[256];

	if (!ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(net_setup); i++) {
		snprintf(cmd, sizeof(cmd), "%s >/dev/null", net_setup[i]);
		if (!ASSERT_OK(system(cmd), net_setup[i]))
			return false;
	}
	if_xf0 = if_nametoindex("xf0");
	if_xf1 = if_nametoindex("xf1");
	return ASSERT_TRUE(if_xf0 && if_xf1, "veth ifindexes");
}

static bool open_app(struct xt *t, const char *text)
{
	struct xfsm_image img;
	struct xfsm_app_names nm;
	char err[512];
	bool ok;
	int e;

	memset(&img, 0, sizeof(img));
	e = xfsm_compile_string("fib.xfsm", text, strlen(text), &img, &nm, err, sizeof(err));
	if (!ASSERT_OK(e, err))
		return false;
	e = xt_open(t, &(struct xt_opts){ .profile = XT_NATIVE });
	if (e) {
		xfsm_image_free(&img);
		xfsm_app_names_free(&nm);
		ck_abort_msg("cannot load the datapath: %s (run as root after make)", strerror(-e));
	}
	ok = ASSERT_OK(xt_apply(t, &img), "apply");
	xfsm_image_free(&img);
	xfsm_app_names_free(&nm);
	return ok;
}

/* The fib counters, by name, to compare a step's deltas. */
struct fib_ctr {
	const char *name;
	size_t off;
};
#define FC(n)	{ #n, offsetof(struct xfsm_stats, fib_##n) },
static const struct fib_ctr fib_ctrs[] = { XFSM_FIB_COUNTERS(FC) };

static __u64 stat_u64(const struct xfsm_stats *s, size_t off)
{
	__u64 v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

struct fib_step {
	const char *desc;
	struct pkt_spec spec;
	__u32 verdict;
	size_t counter;		/* offsetof(struct xfsm_stats, fib_...) */
};

#define FIB(c)	offsetof(struct xfsm_stats, fib_##c)

/* Run one step: verdict and exactly `counter` among the fib counters. */
static bool fib_run(struct xt *t, const struct fib_step *st, struct xt_result *r)
{
	struct xfsm_stats a, b;
	struct pkt p;
	bool ok = true;

	xt_set_context("%s", st->desc);
	pkt_from_spec(&p, &st->spec);
	if (!ASSERT_OK(xfsm_read_stats(t->inst, &a), "stats before") ||
	    !ASSERT_OK(xt_run_pkt(t, &p, if_xf0, r), "run") ||
	    !ASSERT_OK(xfsm_read_stats(t->inst, &b), "stats after"))
		return false;
	ok &= ASSERT_EQ(r->verdict, st->verdict, "verdict");
	for (size_t i = 0; i < ARRAY_SIZE(fib_ctrs); i++) {
		__u64 d = stat_u64(&b, fib_ctrs[i].off) - stat_u64(&a, fib_ctrs[i].off);

		ok &= xt_check(d == (fib_ctrs[i].off == st->counter), __FILE__, __LINE__,
			       "fib_%s moved by %llu", fib_ctrs[i].name, (unsigned long long)d);
	}
	return ok;
}

static const char app_fib[] =
	"stage route {\n"
	"  rule fwd => output fib\n"
	"}\n";

/* The MAC address at offset off of a frame (0: destination, 6: source). */
static __u64 mac_at(const __u8 *d, unsigned int off)
{
	return (__u64)pkt_get16(d + off) << 32 | pkt_get32(d + off + 2);
}

/* A forwarded IPv4 and IPv6 packet: the next hop's MAC, xf1's MAC, TTL
 * and hop limit 63, the IPv4 checksum, the egress port's tx counter. */
START_TEST(test_fib_forward)
{
	static const struct fib_step v4 = {
		"IPv4 to 198.18.0.2 (neighbour known)",
		{ .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2, .sport = 1000, .dport = 53,
		  .payload = 20 }, XDP_REDIRECT, FIB(forwarded) };
	static const struct fib_step v6 = {
		"IPv6 to 2001:2::2 (neighbour known)",
		{ .l3 = PS_IP6, .l4 = PS_TCP, .src = 5, .dst = 2, .sport = 1000, .dport = 80,
		  .flags = 0x02, .ttl = 9 }, XDP_REDIRECT, FIB(forwarded) };
	struct xfsm_port_stats ps;
	struct xt_result r;
	struct xt t = { 0 };

	if (!make_net() || !open_app(&t, app_fib))
		goto out;
	ASSERT_OK(xt_set_port(&t, if_xf1, EGRESS_PORT), "xf1 is port 7");
	if (fib_run(&t, &v4, &r)) {
		ASSERT_EQ(mac_at(r.data, 0), MAC_NEIGH, "eth.dst: the neighbour's MAC");
		ASSERT_EQ(mac_at(r.data, 6), MAC_XF1, "eth.src: the egress device's MAC");
		ASSERT_EQ(r.data[14 + 8], 63, "TTL 64 - 1");
		ASSERT_TRUE(ip4_csum_ok(r.data, r.len, 14), "IPv4 checksum");
	}
	if (ASSERT_OK(xfsm_port_stats_read(t.inst, EGRESS_PORT, &ps), "port stats"))
		ASSERT_EQ(ps.tx_packets, 1, "counted as sent on xf1's port: the redirect went there");
	if (fib_run(&t, &v6, &r)) {
		ASSERT_EQ(mac_at(r.data, 0), MAC_NEIGH, "IPv6 eth.dst");
		ASSERT_EQ(mac_at(r.data, 6), MAC_XF1, "IPv6 eth.src");
		ASSERT_EQ(r.data[14 + 7], 8, "hop limit 9 - 1");
	}
	if (ASSERT_OK(xfsm_port_stats_read(t.inst, EGRESS_PORT, &ps), "port stats"))
		ASSERT_EQ(ps.tx_packets, 2, "IPv6 too");
out:
	xt_close(&t);
	XT_END();
}
END_TEST

/* Every other outcome: its verdict and its counter, the frame unchanged. */
START_TEST(test_fib_failures)
{
	static const struct fib_step steps[] = {
		{ "no neighbour for 198.18.0.3: to the stack, which resolves it",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 3, .sport = 1, .dport = 2 },
		  XDP_PASS, FIB(no_neigh) },
		{ "blackhole route", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 17 },
		  XDP_DROP, FIB(blackhole) },
		{ "unreachable route", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 33 },
		  XDP_DROP, FIB(unreachable) },
		{ "prohibit route", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 49 },
		  XDP_DROP, FIB(prohibit) },
		{ "no route to 198.18.0.200", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 200 },
		  XDP_PASS, FIB(not_forwarded) },
		{ "to the router's own 198.18.0.1", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 1 },
		  XDP_PASS, FIB(not_forwarded) },
		{ "700 bytes over a 600-byte MTU route",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 65, .payload = 700 },
		  XDP_PASS, FIB(frag_needed) },
		/* the lookup's length counts the IPv6 header: 1284 bytes */
		{ "1284 bytes over a 1280-byte MTU route (IPv6)",
		  { .l3 = PS_IP6, .l4 = PS_UDP, .src = 5, .dst = 0x101, .payload = 1236 },
		  XDP_PASS, FIB(frag_needed) },
		/* the lookup is given the protocol, ports and TOS (rules) */
		{ "UDP to port 5353: a prohibit rule",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2, .sport = 1, .dport = 5353 },
		  XDP_DROP, FIB(prohibit) },
		/* (a rule's unreachable is -ENETUNREACH: not forwarded) */
		{ "TCP from port 7777: an unreachable rule",
		  { .l3 = PS_IP4, .l4 = PS_TCP, .src = 5, .dst = 2, .sport = 7777, .dport = 80,
		    .flags = 0x02 }, XDP_PASS, FIB(not_forwarded) },
		{ "UDP from port 5353 (the rule names the destination port)",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 3, .sport = 5353, .dport = 1 },
		  XDP_PASS, FIB(no_neigh) },
		{ "TOS 0x10: a blackhole rule",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2, .tos = 0x10 },
		  XDP_DROP, FIB(blackhole) },
		{ "IPv6 traffic class 0x10: a prohibit rule",
		  { .l3 = PS_IP6, .l4 = PS_UDP, .src = 5, .dst = 2, .tos = 0x10 },
		  XDP_PASS, FIB(not_forwarded) },
		{ "TTL 1: to the stack for ICMP time exceeded",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2, .ttl = 1 },
		  XDP_PASS, FIB(ttl_expired) },
		{ "hop limit 1", { .l3 = PS_IP6, .l4 = PS_UDP, .src = 5, .dst = 2, .ttl = 1 },
		  XDP_PASS, FIB(ttl_expired) },
		{ "ARP: not IP", { .l3 = PS_ARP, .src = 5, .dst = 2 }, XDP_PASS, FIB(not_ip) },
		{ "VLAN-tagged IPv4",
		  { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2, .vlan = 100 },
		  XDP_PASS, FIB(vlan) },
	};
	static const struct fib_step off = {
		"forwarding off on xf0", { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2 },
		XDP_PASS, FIB(fwd_disabled) };
	struct xt_result r;
	struct xt t = { 0 };
	struct pkt p;

	if (!make_net() || !open_app(&t, app_fib))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (!fib_run(&t, &steps[i], &r))
			continue;
		pkt_from_spec(&p, &steps[i].spec);
		ASSERT_TRUE(r.len == p.len && !memcmp(r.data, p.data, p.len), "frame unchanged");
	}
	if (ASSERT_OK(system("sysctl -qw net.ipv4.conf.xf0.forwarding=0"), "forwarding off"))
		fib_run(&t, &off, &r);
out:
	xt_close(&t);
	XT_END();
}
END_TEST

/* The offload profile cannot look up the FIB nor fetch and add: applying
 * such an application is refused with a message, the running one kept;
 * an image that has output fib anyway drops and counts it. */
START_TEST(test_fib_offload)
{
	static const char *const apps[] = {
		app_fib,
		"global 0 cursor = 0\nstage s {\n  key ip.src\n"
		"  rule r => reg0 = fetch_add(cursor, 1), pass\n}\n",
	};
	struct pkt_spec spec = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 2 };
	struct xfsm_app_names nm;
	struct xfsm_image img;
	struct xfsm_stats a, b;
	struct xt_result r;
	struct xt t = { 0 };
	struct pkt p;
	char err[512];
	int e;

	e = xt_open(&t, &(struct xt_opts){ .profile = XT_OFFLOAD });
	if (e)
		ck_abort_msg("cannot load the offload datapath: %s", strerror(-e));
	for (size_t i = 0; i < ARRAY_SIZE(apps); i++) {
		xt_set_context("app %zu", i);
		memset(&img, 0, sizeof(img));
		if (!ASSERT_OK(xfsm_compile_string("o.xfsm", apps[i], strlen(apps[i]), &img, &nm,
						   err, sizeof(err)), err))
			continue;
		ASSERT_EQ(xfsm_lang_apply(t.inst, &img, &nm, NULL), -EOPNOTSUPP,
			  "refused by the offload profile");
		if (i == 0 && ASSERT_OK(xt_apply(&t, &img), "the image itself")) {
			pkt_from_spec(&p, &spec);
			if (ASSERT_OK(xfsm_read_stats(t.inst, &a), "stats") &&
			    ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run") &&
			    ASSERT_OK(xfsm_read_stats(t.inst, &b), "stats")) {
				ASSERT_EQ(r.verdict, XDP_DROP, "unsupported: drop");
				ASSERT_EQ(b.exc_unsupported - a.exc_unsupported, 1, "counted");
			}
		}
		xfsm_image_free(&img);
		xfsm_app_names_free(&nm);
	}
	xt_close(&t);
	XT_END();
}
END_TEST

static Suite *fib_suite(void)
{
	Suite *s = suite_create("fib");
	TCase *tc = tcase_create("fib");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fib_forward);
	tcase_add_test(tc, test_fib_failures);
	tcase_add_test(tc, test_fib_offload);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fib_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
