/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The proof of equivalence of the two datapaths (issue 17,
 * docs/testing.md "Differential tests"): every application runs in two
 * instances, one on the generic datapath and one on the program the
 * specializer generated for it, and every packet must give both the same
 * verdict, output bytes, flows, registers and counters (harness/diff.h).
 *
 *  - examples: the .xfsm files of examples/ and the benchmark
 *    applications of bench/ref/ on a packet mix built from their own
 *    constants;
 *  - random: random valid applications (harness/gen_app.c) times random
 *    and mutated packets (gen_pkt.c) for XT_DIFF_SECONDS (60; 10 under
 *    XT_EMULATED), from XT_DIFF_SEED (printed; default: the time);
 *    XT_DIFF_APP=N runs application N of that seed alone;
 *  - generator: the generated applications compile.
 * Every application's specialized side is checked to run its program:
 * xfsm_progs[active slot] holds it and the entry program dispatches to
 * it (a probe program swapped in for one packet, harness/diff.c).
 *
 * An application the generator refuses (-EOPNOTSUPP, -E2BIG) is printed as
 * "generic: REASON" and counted; a run where too few were specialized
 * (XD_MIN_SHARE_*) fails, since comparing the generic datapath with itself
 * proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "diff.h"
#include "gen.h"
#include "suite.h"
#include "xfsm_acl.h"
#include "xfsm_lang.h"
#include "xfsm_spec.h"

/* Of the applications applied, at least this share (%) must have run
 * their specialized program. */
#define XD_MIN_SHARE_EXAMPLES	75
#define XD_MIN_SHARE_RANDOM	90
/* The examples the specializer does not take yet: none, every one must
 * run specialized. */
#define XD_EXAMPLES_GENERIC	0
#define XD_PACKETS_PER_APP	40
#define XD_PACKETS_EXAMPLE	300

static bool emulated(void)
{
	return getenv("XT_EMULATED") != NULL;
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
out:
	fclose(f);
	return buf;
}

/* The constants an application's text names (numbers, IPv4 addresses),
 * for the packet mix of a hand-written application. */
static void consts_from_text(struct xg_app *a, const char *text)
{
	const char *p = text;

	memset(a, 0, sizeof(*a));
	a->wants_ip6 = a->wants_arp = a->wants_vlan = a->wants_icmp = true;
	while (*p) {
		unsigned int b[4];
		int n = 0;

		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (p[0] >= '0' && p[0] <= '9' && (p == text || !strchr("._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", p[-1]))) {
			if (sscanf(p, "%u.%u.%u.%u%n", &b[0], &b[1], &b[2], &b[3], &n) == 4 && b[0] < 256) {
				uint64_t v = IP4(b[0], b[1], b[2], b[3] & 0xff);
				enum xg_fid f[] = { XG_IP_SRC, XG_IP_DST, XG_ARP_SPA, XG_ARP_TPA };

				for (unsigned int i = 0; i < 4; i++)
					if (a->n_consts[f[i]] < XG_CONSTS)
						a->consts[f[i]][a->n_consts[f[i]]++] = v;
				p += n;
				continue;
			}
			unsigned long v = strtoul(p, (char **)&p, 0);

			if (v && v < 65536) {
				enum xg_fid f[] = { XG_SPORT, XG_DPORT, XG_META_MARK };

				for (unsigned int i = 0; i < 3; i++)
					if (a->n_consts[f[i]] < XG_CONSTS)
						a->consts[f[i]][a->n_consts[f[i]]++] = v;
			}
			continue;
		}
		p++;
	}
}

/* Run packets 0..n-1 again on freshly applied instances, quietly; true
 * when packet n - 1 (or one before) differs again. */
static bool replay_differs(struct xd_pair *p, const struct pkt *pk, const uint32_t *ifx,
			   const bool *wait, unsigned int n)
{
	struct xd_summary *sum = p->sum;
	bool quiet = p->quiet, differs = false;
	unsigned int i;

	p->sum = NULL;
	p->quiet = true;
	if (xd_apply_source(p, p->name, p->src, p->src_len) == 0)
		for (i = 0; i < n && !differs; i++)
			differs = xd_run(p, pk[i].data, pk[i].len, ifx[i], wait[i]) == 1;
	p->sum = sum;
	p->quiet = quiet;
	return differs;
}

static int run_app_packets(struct xd_pair *p, struct xg_rng *r, const struct xg_app *a,
			   unsigned int n)
{
	struct pkt *pk = calloc(n, sizeof(*pk));
	uint32_t *ifx = calloc(n, sizeof(*ifx));
	bool *wait = calloc(n, sizeof(*wait));
	unsigned int i;
	int diffs = 0, ret;

	ck_assert(pk && ifx && wait);
	for (i = 0; i < n; i++) {
		xg_packet(r, a, &pk[i], &ifx[i], &wait[i]);
		ret = xd_run(p, pk[i].data, pk[i].len, ifx[i], wait[i]);
		if (ret == 2)
			break;	/* the clock stalled: counted, not compared */
		if (ret < 0) {
			printf("diff: %s: packet %u: %s\n", p->name, i, strerror(-ret));
			diffs++;
			break;
		}
		if (ret == 1 && p->loose_regs && !replay_differs(p, pk, ifx, wait, i + 1)) {
			/* An application that reads meta.time sees two clocks a few
			 * microseconds apart; a condition on the time near its edge
			 * may then legitimately decide differently.  A bug repeats
			 * on the same packets, such a race does not. */
			printf("  (%s reads meta.time and the difference did not repeat on a replay "
			       "of the same packets: taken as a clock race, not counted)\n", p->name);
			if (p->sum) {
				p->sum->diffs--;
				p->sum->ambiguous++;
			}
			break;
		}
		if (ret == 1 && ++diffs >= 3)
			break;	/* the first differences say it; the state has diverged */
	}
	free(pk);
	free(ifx);
	free(wait);
	return diffs;
}

static bool share_ok(const struct xd_summary *s, unsigned int min_share, const char *what)
{
	if (!s->apps) {
		printf("%s: no application ran\n", what);
		return false;
	}
	if (s->specialized * 100 < (unsigned long)min_share * s->apps) {
		printf("%s: only %lu of %lu applications ran a specialized program (at least %u%% required): "
		       "the comparison would mostly be the generic datapath against itself\n",
		       what, s->specialized, s->apps, min_share);
		return false;
	}
	return true;
}

static void example_dir(struct xd_pair *p, const char *dir, struct xd_summary *sum,
			int *diffs, unsigned int *n_files)
{
	char path[1024];
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	ck_assert_msg(n >= 0, "cannot read %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		size_t l = strlen(ents[i]->d_name), len;
		struct xg_app a;
		struct xg_rng r;
		char *text;
		int ret;

		if (l < 6 || strcmp(ents[i]->d_name + l - 5, ".xfsm"))
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		text = read_text(path, &len);
		ck_assert_msg(text, "cannot read %s", path);
		(*n_files)++;
		ret = xd_apply_source(p, path, text, len);
		if (ret == 1) {
			printf("generic: %s: %s\n", path, p->why);
		} else if (ret) {
			printf("diff: %s: cannot run it on both datapaths (%s)\n", path, strerror(-ret));
			(*diffs)++;
		} else {
			/* clock-based registers differ by the time between the two runs */
			p->loose_regs = strstr(text, "meta.time") != NULL;
			consts_from_text(&a, text);
			xg_seed(&r, 0x5eed0000 + i);
			*diffs += run_app_packets(p, &r, &a, emulated() ? XD_PACKETS_EXAMPLE / 5 :
						  XD_PACKETS_EXAMPLE);
			p->loose_regs = false;
		}
		free(text);
next:
		free(ents[i]);
	}
	free(ents);
}

/* One pair of instances for the whole suite, loaded by the first test
 * case's fixture in Check's parent and kept until exit (under emulation
 * every load verifies the datapath for tens of seconds); each test starts
 * its own run on it.  CK_RUN_CASE=examples etc. still loads it once. */
static struct xd_pair P;
static int pair_err = -ENOENT;
static pid_t pair_pid;

static void pair_close(void)
{
	if (pair_err || getpid() != pair_pid)
		return;	/* a test's child: the parent closes */
	P.sum = NULL;
	xd_close(&P);
	pair_err = -ENOENT;
}

static void pair_open(void)
{
	if (!pair_err)
		return;
	pair_err = xd_open(&P, NULL);
	pair_pid = getpid();
	if (!pair_err)
		atexit(pair_close);
}

#define NEED_PAIR(sum)							\
	do {								\
		ck_assert_msg(!pair_err, "cannot load two datapath instances: %s", \
			      strerror(-pair_err));			\
		xd_begin(&P, (sum));					\
	} while (0)

START_TEST(test_examples)
{
	struct xd_summary sum = { 0 };
	char dir[1024];
	unsigned int n_files = 0;
	int diffs = 0;

	NEED_PAIR(&sum);
	snprintf(dir, sizeof(dir), "%s/examples", xt_src_dir());
	example_dir(&P, dir, &sum, &diffs, &n_files);
	snprintf(dir, sizeof(dir), "%s/bench/ref", xt_src_dir());
	example_dir(&P, dir, &sum, &diffs, &n_files);
	xd_end(&P);
	xd_summary_print(&sum, "examples");
	ck_assert_msg(n_files >= 8, "only %u applications found under %s", n_files, xt_src_dir());
	ck_assert_msg(diffs == 0, "%d differences between the datapaths (above)", diffs);
	ck_assert_msg(share_ok(&sum, XD_MIN_SHARE_EXAMPLES, "examples"),
		      "too few examples specialized (above)");
	ck_assert_msg(sum.apps - sum.specialized <= XD_EXAMPLES_GENERIC,
		      "%lu of %lu examples specialized, at least %lu expected (above)",
		      sum.specialized, sum.apps, sum.apps - XD_EXAMPLES_GENERIC);
}
END_TEST

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* Application i of a run has its own stream: it reproduces alone. */
static uint64_t app_seed(uint64_t seed, unsigned int i)
{
	return seed * 0x100000001b3ULL ^ (uint64_t)i * 0x9e3779b97f4a7c15ULL;
}

/*
 * Random applications for `secs` seconds, constructs `omit` left out (NULL:
 * XT_DIFF_OMIT's).  Every application that runs specialized is compared
 * packet by packet; `min_share` percent of them at least must have been
 * specialized (0: the share is only reported).  With a share asked for,
 * the run also goes on until RANDOM_MIN_PACKETS were compared: a loaded
 * machine takes longer over them instead of comparing fewer (up to
 * RANDOM_MAX_STRETCH times `secs`, then the count falls short and says so).
 */
#define RANDOM_MIN_PACKETS	(emulated() ? 100UL : 1000UL)
#define RANDOM_MAX_STRETCH	5
static void random_run(const char *what, const char *omit, unsigned int secs,
		       unsigned int min_share)
{
	struct xd_summary sum = { 0 };
	uint64_t seed = env_u64("XT_DIFF_SEED", (uint64_t)time(NULL));
	long only = getenv("XT_DIFF_APP") ? (long)env_u64("XT_DIFF_APP", 0) : -1;
	unsigned long min_packets = only < 0 && min_share ? RANDOM_MIN_PACKETS : 0;
	struct timespec t0, t;
	unsigned int i, shown = 0;
	int diffs = 0;

	xg_set_omit(omit);
	printf("%s: seed %llu (reproduce: XT_DIFF_SEED=%llu [XT_DIFF_APP=N] %s%s%s)\n", what,
	       (unsigned long long)seed, (unsigned long long)seed,
	       omit ? "XT_DIFF_OMIT=" : "", omit ? omit : "", " build/selftests/test_spec_diff");
	NEED_PAIR(&sum);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = only >= 0 ? (unsigned int)only : 0;; i++) {
		struct xg_app a;
		struct xg_rng r;
		int ret, d;

		long spent;

		clock_gettime(CLOCK_MONOTONIC, &t);
		spent = t.tv_sec - t0.tv_sec;
		if (only >= 0 ? i > (unsigned long)only :
		    spent >= (long)secs && (sum.packets >= min_packets ||
					    spent >= (long)secs * RANDOM_MAX_STRETCH))
			break;
		xg_seed(&r, app_seed(seed, i));
		ck_assert_int_eq(xg_app(&r, &a, i), 0);
		P.quiet = shown >= 5;	/* the first applications with differences say it */
		ret = xd_apply_source(&P, a.name, a.text, a.len);
		if (ret == -EINVAL && only >= 0)
			printf("%s", a.text);
		if (ret == 0) {
			P.has_short_tmo = a.short_tmo;
			d = run_app_packets(&P, &r, &a, XD_PACKETS_PER_APP);
			if (d) {
				diffs += d;
				if (!P.quiet) {
					printf("---- application %s (reproduce: XT_DIFF_SEED=%llu XT_DIFF_APP=%u):\n%s----\n",
					       a.name, (unsigned long long)seed, i, a.text);
					shown++;
				}
			}
			P.has_short_tmo = false;
		} else if (ret < 0 && ret != -EINVAL) {
			printf("diff: %s (XT_DIFF_SEED=%llu XT_DIFF_APP=%u) cannot run on both datapaths: %s\n%s",
			       a.name, (unsigned long long)seed, i, strerror(-ret), a.text);
			diffs++;
		}
		xg_app_free(&a);
	}
	xd_end(&P);
	xg_set_omit(NULL);
	xd_summary_print(&sum, what);
	ck_assert_msg(diffs == 0, "%d differences between the datapaths (seed %llu, above)", diffs,
		      (unsigned long long)seed);
	/* the generator must mostly write what the compiler takes */
	ck_assert_msg(sum.compile_errors * 4 <= sum.apps + sum.compile_errors,
		      "%lu of %lu generated applications did not compile", sum.compile_errors,
		      sum.apps + sum.compile_errors);
	ck_assert_msg(!min_share || share_ok(&sum, min_share, what),
		      "too few applications specialized");
	/* (the VM guest emulates its CPUs: a tenth of the host's rate) */
	ck_assert_msg(sum.packets >= min_packets, "only %lu packets compared in %u s",
		      sum.packets, secs * RANDOM_MAX_STRETCH);
}

/*
 * The constructs the specializer does not generate yet (docs/specializer.md,
 * "Coverage"): an application that uses one runs generic as a whole, so in
 * applications drawn from the whole language most would compare the
 * generic datapath with itself.  The second run leaves them out and must
 * be specialized nearly always; drop a word here when the specializer
 * takes the construct.
 */
#define XD_NOT_GENERATED	""

START_TEST(test_random)
{
	unsigned int secs = env_u64("XT_DIFF_SECONDS", emulated() ? 10 : 60);

	/* the whole language: the share of it the specializer takes, reported */
	random_run("random (whole language)", NULL, secs / 3, 0);
	random_run("random (what the specializer generates)",
		   getenv("XT_DIFF_OMIT") ? NULL : XD_NOT_GENERATED, secs - secs / 3,
		   XD_MIN_SHARE_RANDOM);
}
END_TEST

/* ---- Hand-built cases: large stages and ACL tables ------------------------ */

/* Does the specialized side run a program for its active slot? */
static bool spec_runs_program(struct xt *t)
{
	struct xfsm_ctl ctl;
	__u32 zero = 0, slot, id = 0;

	if (bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &ctl))
		return false;
	slot = ctl.active & 1;
	return !bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_PROGS], &slot, &id) && id;
}

/* Run packets, each compared; 0 or the number of differences. */
static int run_frames(struct xd_pair *p, struct pkt *pk, unsigned int n)
{
	unsigned int i;
	int diffs = 0, ret;

	for (i = 0; i < n && diffs < 3; i++) {
		ret = xd_run(p, pk[i].data, pk[i].len, 1, 0);
		if (ret == 2)
			break;
		if (ret)
			diffs++;
	}
	return diffs;
}

/*
 * A stage of n rules (more than the specializer compares inline, so the
 * program searches the rule table as the generic datapath does) over five
 * tuples (l4.dport; ip.src and l4.dport; ip.dst; state b and l4.dport;
 * ip.src), random priorities, and seven behaviours whose rules interleave
 * (drop, pass, to state b, four counters).  Rule i's values: source
 * 198.18.i, destination 198.19.i, port 1000 + i.
 */
static char *large_app(struct xg_rng *r, unsigned int n, unsigned int *kind, size_t *len)
{
	static const char *const acts[] = {
		"drop", "pass", "goto state b, pass", "count c0, drop", "count c1, pass",
		"count c2, goto state b, drop", "count c3, tx",
	};
	size_t cap = 200 + (size_t)n * 140, l = 0;
	char *t = malloc(cap);
	unsigned int i;

	ck_assert_ptr_nonnull(t);
	l += snprintf(t + l, cap - l, "app large%u\ndefault pass\nstage s {\n\tkey ip.src\n"
		      "\tstates a, b\n\tmiss continue\n", n);
	for (i = 0; i < n; i++) {
		unsigned int src = IP4(198, 18, i >> 8, i & 0xff);
		unsigned int dst = IP4(198, 19, i >> 8, i & 0xff);
		char a[20], b[20];

		snprintf(a, sizeof(a), "%u.%u.%u.%u", src >> 24, (src >> 16) & 0xff,
			 (src >> 8) & 0xff, src & 0xff);
		snprintf(b, sizeof(b), "%u.%u.%u.%u", dst >> 24, (dst >> 16) & 0xff,
			 (dst >> 8) & 0xff, dst & 0xff);
		kind[i] = xg_below(r, 5);
		l += snprintf(t + l, cap - l, "\trule r%u priority %u when ", i, 1 + xg_below(r, 4));
		switch (kind[i]) {
		case 0: l += snprintf(t + l, cap - l, "l4.dport == %u", 1000 + i); break;
		case 1: l += snprintf(t + l, cap - l, "ip.src == %s, l4.dport == %u", a, 1000 + i); break;
		case 2: l += snprintf(t + l, cap - l, "ip.dst == %s", b); break;
		case 3: l += snprintf(t + l, cap - l, "state b, l4.dport == %u", 1000 + i); break;
		default: l += snprintf(t + l, cap - l, "ip.src == %s", a); break;
		}
		l += snprintf(t + l, cap - l, " => %s\n", acts[xg_below(r, 7)]);
	}
	l += snprintf(t + l, cap - l, "}\nstage t {\n\tkey ip.dst\n\trule any when l4.dport == 7 => drop\n}\n");
	*len = l;
	return t;
}

/* Packets aimed at rule i's values, or beside them: sources from a few
 * (flows come back in state b), ports of several rules. */
static void large_packets(struct xg_rng *r, unsigned int n, struct pkt *pk, unsigned int np)
{
	unsigned int k;

	for (k = 0; k < np; k++) {
		unsigned int i = xg_below(r, n), j = xg_below(r, n);
		__u32 src = IP4(198, 18, i >> 8, i & 0xff), dst = IP4(198, 19, j >> 8, j & 0xff);
		__u16 dport = 1000 + (xg_chance(r, 50) ? i : j);

		if (xg_chance(r, 40))
			src = IP4(198, 18, 0, xg_below(r, 8));
		if (xg_chance(r, 10))
			dport = 7;
		pkt_init(&pk[k]);
		pkt_eth(&pk[k], TEST_MAC(2), TEST_MAC(1), 0);
		pkt_ip4(&pk[k], &(struct ip4_args){ .src = src, .dst = dst });
		if (xg_chance(r, 50))
			pkt_udp(&pk[k], 2000 + xg_below(r, 4), dport);
		else
			pkt_tcp(&pk[k], 2000 + xg_below(r, 4), dport, 0x02, 0);
		pkt_finish(&pk[k]);
	}
}

/* One application of n rules on pair p: 0 or the differences found. */
static int large_case(struct xd_pair *p, unsigned int n, unsigned int np)
{
	unsigned int *kind = calloc(n, sizeof(*kind));
	struct pkt *pk = calloc(np, sizeof(*pk));
	struct xg_rng r;
	size_t len;
	char *text;
	int ret;

	ck_assert(kind && pk);
	xg_seed(&r, 0x1a26e000 + n);
	text = large_app(&r, n, kind, &len);
	ret = xd_apply_source(p, "large", text, len);
	ck_assert_msg(ret == 0, "%u rules: not specialized (%d): %s", n, ret, p->why);
	large_packets(&r, n, pk, np);
	ret = run_frames(p, pk, np);
	free(text);
	free(kind);
	free(pk);
	return ret;
}

START_TEST(test_large_stages)
{
	struct xd_summary sum = { 0 };
	unsigned int np = emulated() ? 100 : 600;
	struct xd_pair big;
	int diffs = 0;

	NEED_PAIR(&sum);
	diffs += large_case(&P, 300, np);	/* (the pair holds 512 rules) */
	xd_end(&P);
	/* 2000 rules need a pair with room for them (not under emulation:
	 * each load verifies the datapath for tens of seconds) */
	if (!emulated()) {
		ck_assert_int_eq(xd_open_rules(&big, &sum, 4096), 0);
		xd_begin(&big, &sum);
		diffs += large_case(&big, 2000, np);
		xd_end(&big);
		big.sum = NULL;
		xd_close(&big);
	}
	xd_summary_print(&sum, "large stages");
	ck_assert_msg(diffs == 0, "%d differences between the datapaths (above)", diffs);
	ck_assert_msg(sum.specialized == (emulated() ? 1 : 2), "%lu specialized", sum.specialized);
	/* the packets reached rules of the search, and missed it too */
	ck_assert_msg(sum.rule_hits > np / 4 && sum.misses > 0,
		      "the packets did not exercise the rules (%lu hits, %lu misses)", sum.rule_hits,
		      sum.misses);
}
END_TEST

/* An ACL stage (table 0) before a stateful stage and a last stage; the
 * rules overlap, priorities decide, the actions and marks all occur. */
static const char acl_app[] =
	"app aclcase\ndefault pass\n"
	"acl filter {\n\tmiss allow\n"
	"\trule prio 50 src 198.18.0.0/30 proto 17 dport 1000-1003 => deny\n"
	"\trule prio 40 src 198.18.0.0/24 proto 17 => pass mark 3\n"
	"\trule prio 40 ip6 src 2001:2::/112 proto 6 flags syn/syn|ack => deny\n"
	"\trule prio 30 proto 6 dport 1000-1010 flags syn/syn|ack => goto last\n"
	"\trule prio 20 ip4 dst 198.19.0.0/16 sport 2001-2002 => allow mark 9\n"
	"\trule prio 10 port 1 dport 1005 => deny\n"
	"\trule prio 5 ip6 => allow mark 1\n"
	"}\n"
	"stage s {\n\tkey ip.src\n\tmiss continue\n"
	"\trule m when meta.mark == 9 => count marked, pass\n"
	"\trule d when l4.dport == 1006 => count d, goto state 1, drop\n"
	"}\n"
	"stage last {\n\tkey ip.dst\n\trule t when l4.dport == 1001 => count last, tx\n}\n";

static void acl_packets(struct xg_rng *r, struct pkt *pk, unsigned int np)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18 };
	unsigned int k;

	for (k = 0; k < np; k++) {
		__u16 sport = 2000 + xg_below(r, 4), dport = 998 + xg_below(r, 16);

		pkt_init(&pk[k]);
		pkt_eth(&pk[k], TEST_MAC(2), TEST_MAC(1), 0);
		if (xg_chance(r, 25)) {
			struct ip6_args a = { 0 };

			test_ip6(a.src, xg_below(r, 3) ? xg_below(r, 4) : 0x1234);
			test_ip6(a.dst, 7);
			pkt_ip6(&pk[k], &a);
		} else {
			__u32 src = IP4(198, 18, xg_chance(r, 30), xg_below(r, 6));
			__u32 dst = xg_chance(r, 50) ? IP4(198, 19, 0, 1) : IP4(198, 18, 9, 1);

			pkt_ip4(&pk[k], &(struct ip4_args){ .src = src, .dst = dst });
		}
		if (xg_chance(r, 50))
			pkt_udp(&pk[k], sport, dport);
		else
			pkt_tcp(&pk[k], sport, dport, flags[xg_below(r, 4)], 0);
		pkt_finish(&pk[k]);
	}
}

/* Table 0 of both instances: the running rules with `add` added (native
 * syntax; NULL: none) and rule `del` removed (0: none). */
static int acl_edit(struct xt *t, const char *add, __u32 del)
{
	struct xfsm_acl_rules rs;
	struct xfsm_acl_entry e;
	char err[200];
	int ret;

	ret = xfsm_acl_read(t->inst, 0, &rs);
	if (ret)
		return ret;
	if (add) {
		ret = xfsm_acl_parse_rule(add, &e, NULL, NULL, err, sizeof(err));
		if (!ret)
			ret = xfsm_acl_rules_add(&rs, &e);
	}
	if (!ret && del)
		ret = xfsm_acl_rules_del(&rs, del);
	if (!ret)
		ret = xfsm_acl_install(t->inst, 0, rs.r, rs.n);
	xfsm_acl_rules_free(&rs);
	return ret;
}

/* One edit of table 0 on both instances: the rule `add` added (native
 * syntax; NULL: none), rule `del` removed (0: none); the edit regenerates
 * the program of the slot it switches to, which must then run. */
struct acl_step {
	const char *add;
	__u32 del;
};

static void acl_step_both(const struct acl_step *st, unsigned int n_rules, unsigned int i)
{
	ck_assert_int_eq(acl_edit(&P.gen, st->add, st->del), 0);
	ck_assert_int_eq(acl_edit(&P.spec, st->add, st->del), 0);
	ck_assert_msg(spec_runs_program(&P.spec), "%u rules, edit %u: no program runs the slot",
		      n_rules, i);
}

/* Every ACL outcome occurred at least once: the packets exercised the
 * whole table, not one kind of verdict. */
static void assert_every_outcome(const struct xfsm_acl_stats *as)
{
	ck_assert_msg(as->deny && as->pass && as->go && as->allow && as->marked && as->missed,
		      "ACL outcomes: deny %llu pass %llu goto %llu allow %llu marked %llu missed %llu",
		      (unsigned long long)as->deny, (unsigned long long)as->pass,
		      (unsigned long long)as->go, (unsigned long long)as->allow,
		      (unsigned long long)as->marked, (unsigned long long)as->missed);
}

START_TEST(test_acl)
{
	static const struct acl_step edits[] = {
		{ "prio 45 src 198.18.0.0/31 => goto 2", 0 },
		{ NULL, 2 },
		{ "prio 60 proto 17 dport 1002 => allow mark 9", 0 },
		{ NULL, 1 },
		{ "prio 60 ip4 => deny", 0 },
	};
	struct xd_summary sum = { 0 };
	unsigned int np = emulated() ? 40 : 200, i;
	struct pkt *pk = calloc(np, sizeof(*pk));
	struct xfsm_acl_stats as;
	struct xg_rng r;
	int diffs = 0;

	ck_assert_ptr_nonnull(pk);
	NEED_PAIR(&sum);
	xg_seed(&r, 0xac1);
	ck_assert_msg(xd_apply_source(&P, "aclcase", acl_app, sizeof(acl_app) - 1) == 0,
		      "the ACL application is not specialized: %s", P.why);
	acl_packets(&r, pk, np);
	diffs += run_frames(&P, pk, np);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]) && !diffs; i++) {
		acl_step_both(&edits[i], 0, i);
		acl_packets(&r, pk, np);
		diffs += run_frames(&P, pk, np);
	}
	ck_assert_int_eq(xfsm_acl_read_stats(P.spec.inst, 0, &as), 0);
	xd_end(&P);
	xd_summary_print(&sum, "ACL");
	ck_assert_msg(diffs == 0, "%d differences between the datapaths (above)", diffs);
	/* every outcome occurred (the packets are not all of one kind) */
	assert_every_outcome(&as);
	free(pk);
}
END_TEST

/*
 * Rule i of a large table (more than the specializer compares inline, so
 * its stage walks the cut trees): mostly hosts of 198.18.0.0/20 (one
 * source each, a protocol, a destination port), every 16th a /28 of them
 * with a port range, every 40th an IPv6 host, every 97th a TCP flags or
 * ingress port rule; priorities repeat, so the listing decides too.  The
 * actions and marks all occur.
 */
static void large_acl_rule(unsigned int i, char *buf, size_t size)
{
	static const char *const act[] = {
		"deny", "pass", "allow mark 9", "goto 2", "allow", "pass mark 3", "deny",
	};
	unsigned int prio = 1 + (i * 7919) % 500, h = i % 4096;
	const char *a = act[(i * 31) % (sizeof(act) / sizeof(act[0]))];

	if (i % 97 == 5)
		snprintf(buf, size, "prio %u proto 6 dport %u flags syn/syn|ack => %s", prio,
			 998 + i % 16, a);
	else if (i % 97 == 50)
		snprintf(buf, size, "prio %u port 1 src 198.18.%u.0/24 => %s", prio, (h >> 8) & 15,
			 a);
	else if (i % 40 == 3)
		snprintf(buf, size, "prio %u ip6 src 2001:2::%x/128 proto %u => %s", prio, i % 8,
			 i % 3 ? 6 : 17, a);
	else if (i % 16 == 1)
		snprintf(buf, size, "prio %u src 198.18.%u.%u/28 sport 2000-%u => %s", prio,
			 (h >> 8) & 15, h & 0xf0, 2000 + i % 4, a);
	else
		snprintf(buf, size, "prio %u src 198.18.%u.%u/32 proto %u dport %u-%u => %s", prio,
			 (h >> 8) & 15, h & 0xff, i % 2 ? 6 : 17, 998 + i % 16,
			 998 + i % 16 + i % 3, a);
}

/* Packets over the large table's space (and some beside it). */
static void large_acl_packets(struct xg_rng *r, unsigned int n_rules, struct pkt *pk,
			      unsigned int np)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18 };
	unsigned int k, hosts = n_rules < 4096 ? n_rules : 4096;

	for (k = 0; k < np; k++) {
		__u16 sport = 2000 + xg_below(r, 5), dport = 998 + xg_below(r, 18);
		unsigned int h = xg_below(r, hosts + hosts / 8);

		pkt_init(&pk[k]);
		pkt_eth(&pk[k], TEST_MAC(2), TEST_MAC(1), 0);
		if (xg_chance(r, 15)) {
			struct ip6_args a = { 0 };

			test_ip6(a.src, xg_below(r, 10));
			test_ip6(a.dst, 7);
			pkt_ip6(&pk[k], &a);
		} else {
			__u32 src = IP4(198, 18, (h >> 8) & 31, h & 0xff);

			pkt_ip4(&pk[k], &(struct ip4_args){ .src = src, .dst = IP4(198, 19, 0, 1) });
		}
		if (xg_chance(r, 50))
			pkt_udp(&pk[k], sport, dport);
		else
			pkt_tcp(&pk[k], sport, dport, flags[xg_below(r, 4)], 0);
		pkt_finish(&pk[k]);
	}
}

static int acl_install_large(struct xt *t, unsigned int n)
{
	struct xfsm_acl_rules rs = { 0 };
	struct xfsm_acl_entry e;
	char err[200], text[128];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		large_acl_rule(i, text, sizeof(text));
		ret = xfsm_acl_parse_rule(text, &e, NULL, NULL, err, sizeof(err));
		if (ret)
			fprintf(stderr, "%s: %s\n", text, err);
		if (!ret)
			ret = xfsm_acl_rules_add(&rs, &e);
	}
	if (!ret)
		ret = xfsm_acl_install(t->inst, 0, rs.r, rs.n);
	xfsm_acl_rules_free(&rs);
	return ret;
}

/* Every counter of table 0, probes included: the walk makes the generic
 * run's lookups. */
static bool acl_stats_equal(struct xd_pair *p, struct xfsm_acl_stats *out)
{
	struct xfsm_acl_stats g, s;

	if (xfsm_acl_read_stats(p->gen.inst, 0, &g) || xfsm_acl_read_stats(p->spec.inst, 0, &s))
		return false;
	*out = s;
	if (!memcmp(&g, &s, sizeof(g)))
		return true;
	printf("ACL table 0: generic packets %llu matched %llu missed %llu probes %llu, specialized %llu %llu %llu %llu\n",
	       (unsigned long long)g.packets, (unsigned long long)g.matched,
	       (unsigned long long)g.missed, (unsigned long long)g.probes,
	       (unsigned long long)s.packets, (unsigned long long)s.matched,
	       (unsigned long long)s.missed, (unsigned long long)s.probes);
	return false;
}

/* ACL tables of 60, 300 and 2,000 rules run specialized (the stage walks the
 * cut trees) and equal the generic datapath, edits included. */
START_TEST(test_acl_large)
{
	static const unsigned int sizes[] = { 60, 300, 2000 };
	static const struct acl_step edits[] = {
		{ "prio 800 src 198.18.0.0/22 proto 17 => deny", 0 },
		{ NULL, 7 },
		{ "prio 700 dport 1000-1005 => goto 2", 0 },
		{ NULL, 2 },
	};
	struct xd_summary sum = { 0 };
	unsigned int np = emulated() ? 60 : 400, i, z;
	struct pkt *pk = calloc(np, sizeof(*pk));
	struct xfsm_acl_stats as, tot = { 0 };
	struct xg_rng r;
	int diffs = 0;

	ck_assert_ptr_nonnull(pk);
	NEED_PAIR(&sum);
	xg_seed(&r, 0xac12);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]) && !diffs; z++) {
		ck_assert_msg(xd_apply_source(&P, "aclcase", acl_app, sizeof(acl_app) - 1) == 0,
			      "the ACL application is not specialized: %s", P.why);
		ck_assert_int_eq(acl_install_large(&P.gen, sizes[z]), 0);
		ck_assert_int_eq(acl_install_large(&P.spec, sizes[z]), 0);
		ck_assert_msg(spec_runs_program(&P.spec), "%u rules: no program runs the slot",
			      sizes[z]);
		large_acl_packets(&r, sizes[z], pk, np);
		diffs += run_frames(&P, pk, np);
		for (i = 0; i < sizeof(edits) / sizeof(edits[0]) && !diffs; i++) {
			acl_step_both(&edits[i], sizes[z], i);
			large_acl_packets(&r, sizes[z], pk, np);
			diffs += run_frames(&P, pk, np);
		}
		ck_assert_msg(acl_stats_equal(&P, &as), "%u rules: the ACL counters differ (above)",
			      sizes[z]);
		ck_assert_msg(as.probes > as.packets, "%u rules: %llu lookups for %llu packets",
			      sizes[z], (unsigned long long)as.probes,
			      (unsigned long long)as.packets);
		tot.deny += as.deny;
		tot.pass += as.pass;
		tot.go += as.go;
		tot.allow += as.allow;
		tot.marked += as.marked;
		tot.missed += as.missed;
	}
	xd_end(&P);
	xd_summary_print(&sum, "large ACL");
	ck_assert_msg(diffs == 0, "%d differences between the datapaths (above)", diffs);
	/* every outcome occurred, over the sizes (few packets under emulation) */
	assert_every_outcome(&tot);
	free(pk);
}
END_TEST

/* The generated applications themselves: they compile (the generator is
 * part of the proof), whatever the datapath does with them. */
START_TEST(test_generator_compiles)
{
	unsigned int i, bad = 0, n = 300;

	for (i = 0; i < n; i++) {
		struct xfsm_image img;
		struct xg_app a;
		struct xg_rng r;
		char err[512];

		xg_seed(&r, app_seed(42, i));
		ck_assert_int_eq(xg_app(&r, &a, i), 0);
		if (xfsm_compile_string(a.name, a.text, a.len, &img, NULL, err, sizeof(err))) {
			if (bad++ < 5)
				printf("generated application %u does not compile: %s\n%s\n", i, err, a.text);
		} else {
			xfsm_image_free(&img);
		}
		xg_app_free(&a);
	}
	printf("generator: %u of %u applications compile\n", n - bad, n);
	/* Constants compared with a field are in its range (meta.port's
	 * too): everything the generator writes compiles. */
	ck_assert_msg(bad == 0, "%u of %u generated applications do not compile", bad, n);
}
END_TEST

/* The comparison is no formality: a difference planted in the second
 * instance (a verdict, a global, a flow register, a counter) is found. */
START_TEST(test_runner_detects)
{
	static const char app[] =
		"app planted\ndefault pass\nstage s {\n\tkey ip.src\n\tstates a, b\n"
		"\trule r when udp.dport == 53 => reg1 = reg1 + 1, goto state b, count c, pass\n}\n";
	static const char other[] =
		"app other\nstage t {\n\tkey ip.dst\n\trule q when udp.dport == 9 => count d, drop\n}\n";
	struct xd_summary sum = { 0 };
	struct xfsm_image img;
	char err[256];
	struct pkt pk;
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_flow_key key;
	struct xfsm_flow flow;

	NEED_PAIR(&sum);
	P.both_generic = true;
	P.quiet = true;	/* the differences are planted: counted, not printed */
	pkt_init(&pk);
	pkt_eth(&pk, TEST_MAC(2), TEST_MAC(1), 0);
	pkt_ip4(&pk, &(struct ip4_args){ .src = TEST_IP4(1), .dst = TEST_IP4(2) });
	pkt_udp(&pk, 1000, 53);
	pkt_finish(&pk);
	ck_assert_int_eq(xd_apply_source(&P, "planted", app, sizeof(app) - 1), 0);
	ck_assert_int_eq(xd_run(&P, pk.data, pk.len, 1, 0), 0);
	/* a global register */
	ck_assert_int_eq(xfsm_global_set(P.spec.inst, 3, 7), 0);
	ck_assert_int_eq(xd_run(&P, pk.data, pk.len, 1, 0), 1);
	ck_assert_int_eq(xfsm_global_set(P.spec.inst, 3, 0), 0);
	ck_assert_int_eq(xd_run(&P, pk.data, pk.len, 1, 0), 0);
	/* a flow register */
	ck_assert_int_eq(xt_find_flow(&P.spec, 0, w, &key, &flow), 0);
	flow.regs[2] = 9;
	/* where it is (its stage's table) */
	ck_assert_int_eq(bpf_map_update_elem(P.spec.inst->map_fd[xfsm_flow_table(P.spec.inst, 0)],
					     &key, &flow, BPF_EXIST), 0);
	ck_assert_int_eq(xd_run(&P, pk.data, pk.len, 1, 0), 1);
	/* the verdict of a malformed frame, and what it counts */
	ck_assert_int_eq(xd_apply_source(&P, "planted", app, sizeof(app) - 1), 0);
	ck_assert_int_eq(xfsm_ctl_set_malformed_verdict(P.spec.inst, XFSM_VERDICT_DROP), 0);
	ck_assert_int_eq(xd_run(&P, pk.data, 20, 1, 0), 1);
	ck_assert_int_eq(sum.diffs, 3);
	/* an application applied to one instance alone: the maps would be
	 * compared across different objects, which the runner refuses */
	ck_assert_int_eq(xfsm_compile_string("other", other, sizeof(other) - 1, &img, NULL, err,
					     sizeof(err)), 0);
	ck_assert_int_eq(xt_apply(&P.spec, &img), 0);
	ck_assert_int_eq(xd_apply_source(&P, "planted", app, sizeof(app) - 1), -EPROTO);
	ck_assert_int_eq(xt_forget_histories(&P.gen, &P.spec), 0);
	ck_assert_int_eq(xd_apply_source(&P, "planted", app, sizeof(app) - 1), 0);
	xfsm_image_free(&img);
	xd_end(&P);
}
END_TEST

/* The check that the specialized side runs its program is no formality
 * either: with an observer listening the entry program keeps every packet
 * for itself (docs/specializer.md), and the probe then finds the
 * generated program installed but not dispatched to. */
static int set_observe(struct xt *t, __u32 observe)
{
	struct xfsm_ctl ctl;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &ctl))
		return -errno;
	ctl.observe = observe;
	return bpf_map_update_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &ctl, BPF_ANY) ? -errno : 0;
}

START_TEST(test_dispatch_checked)
{
	static const char app[] =
		"app dispatch\ndefault pass\nstage s {\n\tkey ip.src\n\tstates a, b\n"
		"\trule r when udp.dport == 53 => goto state b, drop\n}\n";
	struct xd_summary sum = { 0 };
	int ret;

	NEED_PAIR(&sum);
	ck_assert_msg(xd_apply_source(&P, "dispatch", app, sizeof(app) - 1) == 0,
		      "the specializer must take this application (%s)", P.why);
	ck_assert_int_eq(set_observe(&P.spec, XFSM_OBS_EVENTS), 0);
	P.quiet = true;	/* the failure is planted */
	ret = xd_apply_source(&P, "dispatch", app, sizeof(app) - 1);
	set_observe(&P.spec, 0);
	ck_assert_int_eq(ret, -EPROTO);
	xd_end(&P);
}
END_TEST

/* ---- Compact flow values ------------------------------------------------- */
/*
 * An instance loaded with compact flow values (build/xfsm-compact.bpf.o,
 * struct xfsm_flow_head) runs an application that needs no more than a
 * state and an idle timeout as a full instance does: the same verdicts,
 * output bytes, counters and flows (their heads; harness/diff.c compares
 * two layouts' flows as far as the compact one goes), on the compact
 * generic program and on the program the specializer generates for the
 * compact instance alike.  The generated program touching a flow past its
 * 32 bytes would not load: the verifier bounds every access by the map's
 * value size.
 */
static const char *const compact_examples[] = { "statefulfw.xfsm", "router.xfsm" };

/* Idle timeouts that fire during the run, in each flow table (the narrow,
 * medium and wide keys), rollbacks, refreshes and counters. */
static const char compact_timers_app[] =
	"app compacttimers\n"
	"default pass\n"
	"port inside = 1\n"
	"stage watch {\n"
	"\tkey ip.src\n"
	"\tmiss continue\n"
	"\tstates none, seen, busy\n"
	"\trule busy when state busy => goto state busy idle 60ms -> seen, count busy, goto stage conns\n"
	"\trule again when state seen, ip.proto == udp => goto state busy idle 60ms -> seen, goto stage conns\n"
	"\trule first when ip.proto == udp => goto state seen idle 70ms, goto stage conns\n"
	"\trule other when * => goto stage conns\n"
	"}\n"
	"stage conns {\n"
	"\tkey ip.src, ip.dst, ip.proto, l4.sport, l4.dport symmetric\n"
	"\tmiss pass\n"
	"\tstates none, open\n"
	"\trule keep when state open => goto state open idle 80ms -> none, goto stage mac\n"
	"\trule lab when ip.dst == 198.18.0.2, ip.proto == icmp => goto state open idle 60ms -> none, pass\n"
	"\trule web when ip.src == 198.18.0.1, l4.dport == 80 => goto state open idle 50ms -> none, goto stage mac\n"
	"\trule tcp when ip.proto == tcp, meta.port == inside => goto state open idle 50ms -> none, goto stage mac\n"
	"\trule udp when ip.proto == udp => goto state open idle 3600s, pass\n"
	"\trule other when * => drop\n"
	"}\n"
	"stage mac {\n"
	"\tkey eth.src, ip.src, ip.dst, l4.dport\n"
	"\tstates none, known\n"
	"\trule known when state known => count again, pass\n"
	"\trule learn when * => goto state known idle 70ms -> none, tx\n"
	"}\n";

/* Run one application on the pair; its differences are added to *diffs.
 * Returns what xd_apply_source() returned. */
static int compact_case(struct xd_pair *p, const char *name, const char *text, size_t len,
			unsigned int seed, int *diffs)
{
	struct xg_app a;
	struct xg_rng r;
	int ret;

	ret = xd_apply_source(p, name, text, len);
	if (ret) {
		printf("diff: %s: %s on the compact instance: %s\n", name,
		       ret == 1 ? "not specialized" : "cannot run", ret == 1 ? p->why : strerror(-ret));
		(*diffs)++;
		return ret;
	}
	consts_from_text(&a, text);
	a.short_tmo = strstr(text, "ms") != NULL;
	p->has_short_tmo = a.short_tmo;
	xg_seed(&r, 0xc0de0000 + seed);
	*diffs += run_app_packets(p, &r, &a, emulated() ? XD_PACKETS_EXAMPLE / 5 :
				  XD_PACKETS_EXAMPLE);
	p->has_short_tmo = false;
	return 0;
}

START_TEST(test_compact)
{
	/* [0]: the compact instance runs the specialized program, [1]: the
	 * compact generic program */
	static const char *const how[] = { "compact specialized", "compact generic" };
	struct xd_summary sum[2] = { 0 };
	struct xd_pair cp;
	unsigned int side, i, n_apps = 0;
	char path[1024];
	int diffs = 0;

	ck_assert_int_eq(xd_open_layouts(&cp, NULL, 0, false, true), 0);
	ck_assert_uint_eq(cp.spec.inst->build.compact_flows, 1);
	ck_assert_uint_eq(cp.gen.inst->build.compact_flows, 0);
	for (side = 0; side < 2; side++) {
		xd_begin(&cp, &sum[side]);
		cp.both_generic = side == 1;
		n_apps = 0;
		for (i = 0; i < sizeof(compact_examples) / sizeof(compact_examples[0]); i++) {
			size_t len;
			char *text;

			snprintf(path, sizeof(path), "%s/examples/%s", xt_src_dir(), compact_examples[i]);
			text = read_text(path, &len);
			ck_assert_msg(text, "cannot read %s", path);
			compact_case(&cp, path, text, len, i, &diffs);
			free(text);
			n_apps++;
		}
		compact_case(&cp, "compacttimers", compact_timers_app, strlen(compact_timers_app),
			     99, &diffs);
		n_apps++;
		xd_end(&cp);
		xd_summary_print(&sum[side], how[side]);
	}
	xd_close(&cp);
	ck_assert_msg(diffs == 0, "%d differences between a full and a compact instance (above)",
		      diffs);
	ck_assert_uint_eq(sum[0].apps, n_apps);
	ck_assert_msg(sum[0].specialized == n_apps, "%lu of %u applications specialized",
		      sum[0].specialized, n_apps);
	ck_assert_uint_eq(sum[1].apps, n_apps);
	/* the packets made flows, hit rules and expired timers */
	for (side = 0; side < 2; side++) {
		ck_assert_uint_gt(sum[side].packets, 0);
		ck_assert_uint_gt(sum[side].flows_created, 0);
		ck_assert_uint_gt(sum[side].rule_hits, 0);
		ck_assert_uint_gt(sum[side].expired, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spec_diff");
	TCase *tc = tcase_create("generator");

	setvbuf(stdout, NULL, _IOLBF, 0);	/* reports survive Check's fork */
	tcase_add_unchecked_fixture(tc, pair_open, NULL);
	tcase_add_test(tc, test_generator_compiles);
	tcase_add_test(tc, test_runner_detects);
	tcase_add_test(tc, test_dispatch_checked);
	suite_add_tcase(s, tc);
	tc = tcase_create("examples");
	tcase_add_unchecked_fixture(tc, pair_open, NULL);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	tc = tcase_create("tables");
	tcase_add_unchecked_fixture(tc, pair_open, NULL);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_large_stages);
	tcase_add_test(tc, test_acl);
	tcase_add_test(tc, test_acl_large);
	suite_add_tcase(s, tc);
	tc = tcase_create("compact");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_compact);
	suite_add_tcase(s, tc);
	tc = tcase_create("random");
	tcase_add_unchecked_fixture(tc, pair_open, NULL);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return xt_suite_run(s);
}
