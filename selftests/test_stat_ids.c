/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Statistics belong to the named object (issue 12, item 7): a stage, rule
 * or counter keeps its counts across apply (the identical file, or another
 * application that keeps the name) and across rule add / rule del; a new
 * one starts at 0; a removed one is gone.  And exactly: no packet is lost
 * from a counter while applications switch under traffic.
 *
 * Packets go through BPF_PROG_TEST_RUN; commands and counts go through
 * xfsmctl as a user runs them (another process, `-j stats` read with jq),
 * on this suite's datapath pinned for it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "suite.h"
#include "ctlrun.h"

static const char app_counts[] =
	"app counts\n"
	"default pass\n"
	"stage first {\n"
	"\tkey ip.src\n"
	"\tmiss continue\n"
	"\trule r1 when udp.dport == 2001 => count ca, goto stage second\n"
	"\trule r9 when udp.dport == 2009 => pass\n"
	"}\n"
	"stage second {\n"
	"\tkey ip.src\n"
	"\trule r2 when udp.dport == 2001 => count cb, pass\n"
	"\trule r3 when udp.dport == 2003 => count cc, drop\n"
	"}\n";

/* Another application: keeps stage "second" (now first), its rule r2 and
 * counter cb; stage "third" takes the position "second" had. */
static const char app_other[] =
	"app other\n"
	"default pass\n"
	"stage second {\n"
	"\tkey ip.src\n"
	"\tmiss continue\n"
	"\trule r2 when udp.dport == 2001 => count cb, pass\n"
	"}\n"
	"stage third {\n"
	"\tkey ip.src\n"
	"\trule r7 when udp.dport == 2003 => count cz, drop\n"
	"}\n";

/* The first application plus a rule: what switches under traffic. */
static const char app_counts_more[] =
	"app counts\n"
	"default pass\n"
	"stage first {\n"
	"\tkey ip.src\n"
	"\tmiss continue\n"
	"\trule r0 when udp.dport == 2000 => drop\n"
	"\trule r1 when udp.dport == 2001 => count ca, goto stage second\n"
	"\trule r9 when udp.dport == 2009 => pass\n"
	"}\n"
	"stage second {\n"
	"\tkey ip.src\n"
	"\trule r2 when udp.dport == 2001 => count cb, pass\n"
	"\trule r3 when udp.dport == 2003 => count cc, drop\n"
	"}\n";

static const char *pin_dir = "";
static char path_counts[PATH_MAX], path_other[PATH_MAX], path_more[PATH_MAX];
static char path_json[PATH_MAX];

/* ---- Fixture ------------------------------------------------------------------------- */

static struct xt_ctl_env env;

static void ids_open(void)
{
	xt_ctl_env_open(&env, "ids");
	if (!xt_ctl_env_file(&env, "counts.xfsm", app_counts, path_counts, sizeof(path_counts)) ||
	    !xt_ctl_env_file(&env, "other.xfsm", app_other, path_other, sizeof(path_other)) ||
	    !xt_ctl_env_file(&env, "more.xfsm", app_counts_more, path_more, sizeof(path_more)) ||
	    !xt_ctl_env_file(&env, "stats.json", "", path_json, sizeof(path_json)))
		env.pin_dir[0] = 0;
	pin_dir = env.pin_dir;
}

static void ids_close(void)
{
	xt_ctl_env_close(&env);
}

/* ---- Commands and counts, as a user sees them ------------------------------------- */

static bool ctl(char *a0, char *a1, char *a2, char *a3)
{
	char *args[] = { a0, a1, a2, a3, NULL };
	char out[4096];
	int rc = xt_ctl(pin_dir, out, sizeof(out), args);

	if (rc)
		fprintf(stderr, "xfsmctl %s %s: %s", a0, a1 ? a1 : "", out);
	return ASSERT_EQ(rc, 0, a0);
}

static bool apply(const char *path)
{
	return ctl("apply", (char *)path, NULL, NULL);
}

/*
 * Packets counted for a stage ("S"), a rule ("S/R") or a counter ("#C"), as
 * `xfsmctl -j stats` shows them; -1 when it shows no such object.
 */
static long long shown(const char *what)
{
	char *args[] = { "-j", "stats", NULL }, *out = malloc(1 << 20), q[256], cmd[PATH_MAX + 512];
	const char *slash = strchr(what, '/');
	long long v = -2;
	FILE *f;
	int rc;

	if (!out)
		return -2;
	rc = xt_ctl(pin_dir, out, 1 << 20, args);
	if (!ASSERT_EQ(rc, 0, "xfsmctl -j stats") ||
	    !xt_ctl_env_file(&env, "stats.json", out, path_json, sizeof(path_json)))
		goto out;
	if (what[0] == '#')
		snprintf(q, sizeof(q), ".counters[] | select(.name == \"%s\") | .packets", what + 1);
	else if (slash)
		snprintf(q, sizeof(q),
			 ".stages[] | select(.name == \"%.*s\") | .rules[] | select(.name == \"%s\") | .packets",
			 (int)(slash - what), what, slash + 1);
	else
		snprintf(q, sizeof(q), ".stages[] | select(.name == \"%s\") | .packets", what);
	snprintf(cmd, sizeof(cmd), "jq -r '%s' %s", q, path_json);
	f = popen(cmd, "r");
	if (!f)
		goto out;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (pclose(f))
		v = -2;
out:
	free(out);
	return v;
}

#define ASSERT_SHOWN(what, n)	ASSERT_EQ(shown(what), (long long)(n), what)

static void send(__u16 dport, unsigned int n)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 7,
			      .dport = dport };
	struct xt_result r;
	struct pkt p;

	pkt_from_spec(&p, &s);
	while (n--)
		ASSERT_OK(xt_run_pkt(&T, &p, 0, &r), "run");
}

static void setup(void)
{
	NEED_T();
	ck_assert_msg(pin_dir[0], "cannot pin the instance or write the test files");
	ck_assert_msg(!system("command -v jq >/dev/null"), "jq is needed (make deps)");
}

/* ---- Tests -------------------------------------------------------------------------------- */

START_TEST(test_identical_apply_keeps_counts)
{
	setup();
	if (!apply(path_counts))
		goto out;
	send(2001, 5);
	send(2003, 3);
	ASSERT_SHOWN("first/r1", 5);
	ASSERT_SHOWN("second/r2", 5);
	ASSERT_SHOWN("second/r3", 3);
	ASSERT_SHOWN("#ca", 5);
	ASSERT_SHOWN("#cc", 3);
	ASSERT_SHOWN("first", 8);
	ASSERT_SHOWN("second", 8);
	/* the same file again: nothing changes its identity */
	if (!apply(path_counts))
		goto out;
	ASSERT_SHOWN("first/r1", 5);
	ASSERT_SHOWN("second/r2", 5);
	ASSERT_SHOWN("second/r3", 3);
	ASSERT_SHOWN("#ca", 5);
	ASSERT_SHOWN("#cb", 5);
	ASSERT_SHOWN("first", 8);
	send(2001, 1);
	ASSERT_SHOWN("first/r1", 6);
	ASSERT_SHOWN("#cb", 6);
	ASSERT_SHOWN("second", 9);
out:
	XT_END();
}
END_TEST

START_TEST(test_rule_edits_keep_counts)
{
	setup();
	if (!apply(path_counts))
		goto out;
	send(2001, 5);
	send(2003, 3);
	send(2009, 2);
	/* a rule with a new counter into the earlier stage: the new counter
	 * comes first in the application, the others keep their counts */
	if (!ctl("rule", "add", "first", "rule rn when udp.dport == 2005 => count cn, pass"))
		goto out;
	ASSERT_SHOWN("#cn", 0);
	ASSERT_SHOWN("#ca", 5);
	ASSERT_SHOWN("#cb", 5);
	ASSERT_SHOWN("#cc", 3);
	ASSERT_SHOWN("first/rn", 0);
	ASSERT_SHOWN("first/r1", 5);
	ASSERT_SHOWN("first/r9", 2);
	ASSERT_SHOWN("second/r3", 3);
	ASSERT_SHOWN("first", 10);
	send(2005, 4);
	ASSERT_SHOWN("#cn", 4);
	ASSERT_SHOWN("first/rn", 4);
	ASSERT_SHOWN("#cb", 5);
	/* deleting a rule: the others keep theirs, the deleted one is gone */
	if (!ctl("rule", "del", "first", "r9"))
		goto out;
	ASSERT_SHOWN("first/r9", -1);
	ASSERT_SHOWN("first/r1", 5);
	ASSERT_SHOWN("first/rn", 4);
	ASSERT_SHOWN("#cn", 4);
	ASSERT_SHOWN("second/r2", 5);
	ASSERT_SHOWN("first", 14);
	/* and deleting the rule with the counter removes the counter */
	if (!ctl("rule", "del", "first", "rn"))
		goto out;
	ASSERT_SHOWN("#cn", -1);
	ASSERT_SHOWN("#ca", 5);
out:
	XT_END();
}
END_TEST

START_TEST(test_other_app_keeps_names)
{
	setup();
	if (!apply(path_counts))
		goto out;
	send(2001, 5);
	send(2003, 3);
	ASSERT_SHOWN("second", 8);
	if (!apply(path_other))
		goto out;
	/* kept names keep their counts, at whatever position */
	ASSERT_SHOWN("second", 8);
	ASSERT_SHOWN("second/r2", 5);
	ASSERT_SHOWN("#cb", 5);
	/* a new stage where "second" was starts at 0; new rule and counter */
	ASSERT_SHOWN("third", 0);
	ASSERT_SHOWN("third/r7", 0);
	ASSERT_SHOWN("#cz", 0);
	/* what the other application does not have is gone */
	ASSERT_SHOWN("first", -1);
	ASSERT_SHOWN("first/r1", -1);
	ASSERT_SHOWN("#ca", -1);
	ASSERT_SHOWN("#cc", -1);
	send(2003, 2);
	ASSERT_SHOWN("third", 2);
	ASSERT_SHOWN("#cz", 2);
	/* back: "first" is new again, "second" went on counting */
	if (!apply(path_counts))
		goto out;
	ASSERT_SHOWN("first", 0);
	ASSERT_SHOWN("#ca", 0);
	ASSERT_SHOWN("second", 10);
	ASSERT_SHOWN("#cb", 5);
out:
	XT_END();
}
END_TEST

/* ---- Exact under traffic ------------------------------------------------------------------------ */

struct traffic {
	volatile int stop;
	volatile long runs;
	long wrong, errors;
};

#define BURST	64

static void *traffic_thread(void *arg)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 7,
			      .dport = 2001 };
	struct traffic *t = arg;
	__u8 out[PKT_MAX];
	struct pkt p;

	pkt_from_spec(&p, &s);
	while (!t->stop) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = p.data, .data_size_in = p.len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = BURST);

		if (bpf_prog_test_run_opts(T.prog_fd, &run)) {
			t->errors++;
			continue;
		}
		t->runs += BURST;
		if (run.retval != XDP_PASS)
			t->wrong++;
	}
	return NULL;
}

START_TEST(test_exact_under_traffic)
{
	struct traffic t = { 0 };
	pthread_t th;
	int i;

	setup();
	if (!apply(path_counts))
		goto out;
	ck_assert_int_eq(pthread_create(&th, NULL, traffic_thread, &t), 0);
	/* the application switches back and forth while packets run: both
	 * have r1, r2, ca, cb */
	for (i = 0; i < 20; i++) {
		long seen = t.runs;

		/* packets between every two switches (the test runs yield
		 * to other tasks: slow on a loaded machine) */
		while (t.runs == seen && !t.errors)
			usleep(1000);
		if (!apply(i % 2 ? path_counts : path_more))
			break;
	}
	t.stop = 1;
	pthread_join(th, NULL);
	fprintf(stderr, "traffic: %ld packets during %d applies (%ld errors)\n", t.runs, i, t.errors);
	ASSERT_EQ(t.errors, 0, "test runs failed");
	ASSERT_EQ(t.wrong, 0, "packets without the pass verdict");
	ASSERT_GE(t.runs, BURST, "packets sent");
	ASSERT_SHOWN("first/r1", t.runs);
	ASSERT_SHOWN("second/r2", t.runs);
	ASSERT_SHOWN("#ca", t.runs);
	ASSERT_SHOWN("#cb", t.runs);
	ASSERT_SHOWN("first", t.runs);
	ASSERT_SHOWN("second", t.runs);
out:
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stat_ids");
	TCase *tc = tcase_create("stat_ids");

	tcase_add_unchecked_fixture(tc, ids_open, ids_close);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_identical_apply_keeps_counts);
	tcase_add_test(tc, test_rule_edits_keep_counts);
	tcase_add_test(tc, test_other_app_keeps_names);
	tcase_add_test(tc, test_exact_under_traffic);
	return xt_suite_run(s);
}
