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
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "suite.h"
#include "ctlrun.h"
#include "xfsm_group.h"
#include "xfsm_plan.h"

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

/* Flows, a global register the file sets, an ACL block: what an
 * identical apply must leave as it is. */
static const char app_same[] =
	"app same\n"
	"default pass\n"
	"global 0 budget = 100\n"
	"acl front table 2 {\n"
	"\trule proto udp dport 3009 => deny\n"
	"}\n"
	"stage fw {\n"
	"\tkey ip.src\n"
	"\tmiss pass\n"
	"\tstates closed, seen\n"
	"\trule first when state closed, udp.dport == 3001 => goto state seen, count opened, pass\n"
	"\trule later when state seen, udp.dport == 3001 => count again, pass\n"
	"}\n";

/* The same application written otherwise: comments, blank lines,
 * indentation. */
static const char app_same_commented[] =
	"# the same, reformatted\n"
	"app same\n"
	"\n"
	"default pass   # as before\n"
	"global 0 budget = 100\n"
	"acl front table 2 {\n"
	"  rule proto udp dport 3009 => deny\n"
	"}\n"
	"\n"
	"stage fw {\n"
	"    key ip.src\n"
	"    miss pass\n"
	"\n"
	"    # two states\n"
	"    states closed, seen\n"
	"    rule first when state closed, udp.dport == 3001 => goto state seen, count opened, pass\n"
	"    rule later when state seen, udp.dport == 3001 => count again, pass\n"
	"}\n";

/* The per-stage and per-action settings of the language (table-full
 * policy, NAT, TTL, VLAN, ARP reply), operands named by defines so that a
 * changed value leaves every rule's text as it was. */
static const char app_edits[] =
	"app edits\n"
	"default pass\n"
	"define ADDR = 198.18.0.9\n"
	"define PORT = 53\n"
	"define TTL = 9\n"
	"define VID = 100\n"
	"define MAC = 02:00:00:00:00:01\n"
	"stage s {\n"
	"\tkey ip.src\n"
	"\ttable full drop\n"
	"\trule nat when udp.dport == 4001 => set ip.src = ADDR, set l4.sport = PORT, pass\n"
	"\trule ttl when udp.dport == 4002 => set ip.ttl = TTL, pass\n"
	"\trule vlan when udp.dport == 4003 => push vlan VID, pass\n"
	"\trule arp when arp.op == 1 => arp reply MAC\n"
	"}\n";

/* app_edits with one thing changed: what and to what. */
static const struct {
	const char *what, *from, *to;
} edits[] = {
	{ "table full policy", "table full drop", "table full pass" },
	{ "NAT address", "ADDR = 198.18.0.9", "ADDR = 198.18.0.8" },
	{ "NAT port", "PORT = 53", "PORT = 54" },
	{ "ip.ttl value", "TTL = 9", "TTL = 8" },
	{ "pushed VLAN id", "VID = 100", "VID = 101" },
	{ "push vlan to pop vlan", "push vlan VID", "pop vlan" },
	{ "ARP reply MAC", "MAC = 02:00:00:00:00:01", "MAC = 02:00:00:00:00:02" },
};

static const char *pin_dir = "";
static char path_counts[PATH_MAX], path_other[PATH_MAX], path_more[PATH_MAX];
static char path_same[PATH_MAX], path_commented[PATH_MAX], path_changed[PATH_MAX];
static char path_json[PATH_MAX];

/* ---- Fixture ------------------------------------------------------------------------- */

static struct xt_ctl_env env;

/* app_same with one verdict changed. */
static bool write_changed(void)
{
	static const char from[] = "count again, pass", to[] = "count again, drop";
	char text[sizeof(app_same)];
	char *at;

	memcpy(text, app_same, sizeof(app_same));
	at = strstr(text, from);
	if (!at)
		return false;
	memcpy(at, to, sizeof(to) - 1);
	return xt_ctl_env_file(&env, "changed.xfsm", text, path_changed, sizeof(path_changed));
}

static void ids_open(void)
{
	xt_ctl_env_open(&env, "ids");
	if (!xt_ctl_env_file(&env, "counts.xfsm", app_counts, path_counts, sizeof(path_counts)) ||
	    !xt_ctl_env_file(&env, "other.xfsm", app_other, path_other, sizeof(path_other)) ||
	    !xt_ctl_env_file(&env, "more.xfsm", app_counts_more, path_more, sizeof(path_more)) ||
	    !xt_ctl_env_file(&env, "same.xfsm", app_same, path_same, sizeof(path_same)) ||
	    !xt_ctl_env_file(&env, "commented.xfsm", app_same_commented, path_commented,
			     sizeof(path_commented)) ||
	    !write_changed() ||
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
	/* the same file again, switched to (--force; without it nothing
	 * would be written): nothing changes its identity */
	if (!ctl("apply", "--force", (char *)path_counts, NULL))
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

/* The statistics index of the running application's stage `name`. */
static bool stage_index(const char *name, __u32 *index)
{
	struct xfsm_stat_idents ids;
	bool found = false;
	size_t i;

	if (!ASSERT_OK(xfsm_read_stat_idents(T.inst, &ids), "identities"))
		return false;
	for (i = 0; i < ids.n; i++)
		if (ids.v[i].kind == XFSM_SID_STAGE && !strcmp(ids.v[i].name, name)) {
			*index = ids.v[i].index;
			found = true;
		}
	xfsm_stat_idents_free(&ids);
	return ASSERT_TRUE(found, name);
}

/*
 * A stage statistics entry given to a new stage counts from a baseline:
 * "first" leaves with the other application and comes back new in the
 * entry it had (the lowest free one), which still holds its old counts, as
 * user space never writes the statistics block (abi.h, xfsm_stg_base);
 * the stage shows 0 and counts on from there, while the datapath's and the
 * port's counters, in the same per-CPU value, keep every packet across
 * both switches.
 */
START_TEST(test_reused_stage_entry_baseline)
{
	struct xfsm_port_stats pa, pb;
	struct xfsm_stage_stats raw;
	struct xfsm_stats a, b;
	__u32 before, after;
	struct xt_result r;
	struct pkt p;
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 7,
			       .dport = 2001 };
	int i;

	setup();
	pkt_from_spec(&p, &ps);
	/* lo (ifindex 1) is port 1 */
	if (!ASSERT_OK(xfsm_reset_stats(T.inst), "reset") ||
	    !ASSERT_OK(xt_set_port(&T, 1, 1), "port 1") || !apply(path_counts))
		goto out;
	for (i = 0; i < 5; i++)
		ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	ASSERT_SHOWN("first", 5);
	if (!stage_index("first", &before) ||
	    !ASSERT_OK(xfsm_read_stats(T.inst, &a), "xfsm_stats") ||
	    !ASSERT_OK(xfsm_port_stats_read(T.inst, 1, &pa), "port 1") ||
	    !ASSERT_EQ(pa.rx_packets, 5, "port 1 received") ||
	    !apply(path_other) || !apply(path_counts) || !stage_index("first", &after) ||
	    !ASSERT_EQ(after, before, "\"first\" is back in its entry"))
		goto out;
	if (ASSERT_OK(xfsm_stats_read_raw(T.inst, XFSM_SK_STAGE, after, &raw, sizeof(raw)),
		      "the entry as the datapath counts it"))
		ASSERT_EQ(raw.packets, 5, "the entry keeps what it counted");
	ASSERT_SHOWN("first", 0);
	if (ASSERT_OK(xfsm_read_stats(T.inst, &b), "xfsm_stats") &&
	    ASSERT_OK(xfsm_port_stats_read(T.inst, 1, &pb), "port 1")) {
		ASSERT_EQ(b.rx_packets, a.rx_packets, "xfsm_stats kept across the switches");
		ASSERT_EQ(pb.rx_packets, pa.rx_packets, "port 1 kept across the switches");
	}
	for (i = 0; i < 2; i++)
		ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	ASSERT_SHOWN("first", 2);
	if (ASSERT_OK(xfsm_read_stats(T.inst, &b), "xfsm_stats") &&
	    ASSERT_OK(xfsm_port_stats_read(T.inst, 1, &pb), "port 1")) {
		ASSERT_EQ(b.rx_packets, a.rx_packets + 2, "xfsm_stats counts on");
		ASSERT_EQ(pb.rx_packets, pa.rx_packets + 2, "port 1 counts on");
	}
	/* an explicit reset forgets the baselines with the counts */
	if (ASSERT_OK(xfsm_reset_stats(T.inst), "reset"))
		ASSERT_SHOWN("first", 0);
	ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	ASSERT_SHOWN("first", 1);
out:
	bpf_map_delete_elem(T.inst->map_fd[XFSM_M_PORTS], &(__u32){ 1 });
	xfsm_ports_changed(T.inst->map_fd[XFSM_M_PORT_GEN]);
	XT_END();
}
END_TEST

/* ---- Re-applying what runs ------------------------------------------------------------------ */

/* What an apply must not touch, taken whole: the control block, both
 * application slots and the flow table. */
struct snap {
	struct xfsm_ctl ctl;
	struct xfsm_app app[XFSM_APP_SLOTS];
	unsigned char *flows;
	size_t flows_len;
	__u64 budget;
};

/* (both flow tables, each key as the wide key) */
static int snap_flow(const struct xfsm_flow_key *key, const struct xfsm_flow *value, void *arg)
{
	struct snap *s = arg;
	size_t kl = sizeof(struct xfsm_flow_key), vl = sizeof(struct xfsm_flow);
	unsigned char *p = realloc(s->flows, s->flows_len + kl + vl);

	if (!p)
		return -ENOMEM;
	memcpy(p + s->flows_len, key, kl);
	memcpy(p + s->flows_len + kl, value, vl);
	s->flows = p;
	s->flows_len += kl + vl;
	return 0;
}

static bool snap_take(struct snap *s)
{
	__u32 i;

	memset(s, 0, sizeof(*s));
	if (!ASSERT_OK(xfsm_ctl_get(T.inst, &s->ctl), "control block") ||
	    !ASSERT_OK(xfsm_global_get(T.inst, 0, &s->budget), "global 0") ||
	    !ASSERT_OK(xfsm_flow_foreach(T.inst, snap_flow, s), "flows"))
		return false;
	for (i = 0; i < XFSM_APP_SLOTS; i++)
		if (!ASSERT_OK(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_APPS], &i, &s->app[i]),
			       "slot"))
			return false;
	return true;
}

/* The flow table walked in the same order twice holds the same bytes. */
static bool snap_same(const struct snap *a, const struct snap *b)
{
	bool ok = true;

	ok &= ASSERT_EQ(b->ctl.generation, a->ctl.generation, "generation");
	ok &= ASSERT_EQ(b->ctl.active, a->ctl.active, "running slot");
	ok &= ASSERT_EQ(b->ctl.flags, a->ctl.flags, "control flags");
	ok &= ASSERT_EQ(memcmp(a->app, b->app, sizeof(a->app)), 0, "both slots as they were");
	ok &= ASSERT_EQ(b->budget, a->budget, "global 0 as it was");
	ok &= ASSERT_EQ(b->flows_len, a->flows_len, "flow table size");
	if (a->flows_len == b->flows_len && a->flows_len)
		ok &= ASSERT_EQ(memcmp(a->flows, b->flows, a->flows_len), 0,
				"flows (keys, states, timestamps) as they were");
	return ok;
}

static void snap_free(struct snap *s)
{
	free(s->flows);
	s->flows = NULL;
}

/* bpf() commands that write a map. */
static unsigned int map_writes(const unsigned int c[XT_BPF_CMDS])
{
	return c[BPF_MAP_UPDATE_ELEM] + c[BPF_MAP_DELETE_ELEM] + c[BPF_MAP_UPDATE_BATCH] +
	       c[BPF_MAP_DELETE_BATCH] + c[BPF_MAP_LOOKUP_AND_DELETE_ELEM] +
	       c[BPF_MAP_LOOKUP_AND_DELETE_BATCH] + c[BPF_MAP_FREEZE];
}

/* `xfsmctl [-j] apply [--force] FILE`: its exit status 0, its output must
 * hold `want`, and the bpf() commands it made (another run: the seccomp
 * watch keeps no output) go to cmds. */
static bool apply_says(const char *path, bool json, bool force, const char *want,
		       unsigned int cmds[XT_BPF_CMDS])
{
	char *args[6] = { 0 }, out[4096];
	int n = 0, status, rc;

	if (json)
		args[n++] = "-j";
	args[n++] = "apply";
	if (force)
		args[n++] = "--force";
	args[n++] = (char *)path;
	if (cmds) {
		rc = xt_ctl_bpf_cmds(pin_dir, args, cmds, &status);
		return ASSERT_GE(rc, 1, "bpf() calls") &&
		       ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status), "exit status 0");
	}
	rc = xt_ctl(pin_dir, out, sizeof(out), args);
	if (!ASSERT_EQ(rc, 0, "exit status") ||
	    !ASSERT_TRUE(strstr(out, want) != NULL, want)) {
		fprintf(stderr, "xfsmctl apply %s: %s", path, out);
		return false;
	}
	return true;
}

/*
 * Issue 16, item 7: applying what runs is a no-op.  The identical file and
 * the same application written otherwise: "unchanged" (and JSON), exit 0,
 * not one map written, flows, counters, the global the file sets (changed
 * since by `global set`) and the generation as they were.  A changed file,
 * --force, and the same file after an ACL edit do switch.
 */
START_TEST(test_identical_apply_unchanged)
{
	unsigned int cmds[XT_BPF_CMDS];
	struct snap before = { 0 }, after = { 0 };

	setup();
	if (!apply(path_same))
		goto out;
	send(3001, 3);		/* a flow in state seen; opened 1, again 2 */
	ASSERT_SHOWN("#opened", 1);
	ASSERT_SHOWN("#again", 2);
	if (!ctl("global", "set", "budget", "5") || !snap_take(&before))
		goto out;
	ASSERT_GE(before.flows_len, 1, "a flow to keep");

	/* identical, and written otherwise: nothing written */
	if (apply_says(path_same, false, false, NULL, cmds)) {
		ASSERT_EQ(map_writes(cmds), 0, "map writes of an identical apply");
		ASSERT_GE(cmds[BPF_MAP_LOOKUP_ELEM], 1, "it read the running application");
	}
	apply_says(path_same, false, false, "unchanged: generation", NULL);
	apply_says(path_same, true, false, "\"applied\":false,\"unchanged\":true", NULL);
	if (apply_says(path_commented, false, false, NULL, cmds))
		ASSERT_EQ(map_writes(cmds), 0, "map writes of a reformatted apply");
	apply_says(path_commented, false, false, "unchanged", NULL);
	if (snap_take(&after))
		snap_same(&before, &after);
	ASSERT_SHOWN("#opened", 1);
	ASSERT_SHOWN("#again", 2);
	ASSERT_SHOWN("fw/later", 2);
	snap_free(&after);

	/* --force switches: the file's global value again, counts and
	 * flows kept */
	if (!apply_says(path_same, true, true, "\"applied\":true,\"unchanged\":false", NULL) ||
	    !snap_take(&after))
		goto out;
	ASSERT_EQ(after.ctl.generation, before.ctl.generation + 1, "forced: a switch");
	ASSERT_EQ(after.budget, 100, "forced: global 0 set by the file");
	ASSERT_EQ(after.flows_len, before.flows_len, "forced: flows kept");
	ASSERT_SHOWN("#again", 2);
	snap_free(&before);
	before = after;
	after.flows = NULL;

	/* an ACL edit since: the same file switches, restoring the block */
	{
		char *args[] = { "acl", "add", "table", "2", "proto", "udp", "dport", "3010",
				 "=>", "deny", NULL };
		char out[1024];

		if (!ASSERT_EQ(xt_ctl(pin_dir, out, sizeof(out), args), 0, "acl add"))
			goto out;
	}
	if (!apply_says(path_same, false, false, "applied: generation", NULL))
		goto out;
	apply_says(path_same, false, false, "unchanged", NULL);

	/* a changed file switches (and writes) */
	if (apply_says(path_changed, false, false, NULL, cmds))
		ASSERT_GE(map_writes(cmds), 1, "map writes of a changed apply");
	if (snap_take(&after))
		ASSERT_GE(after.ctl.generation, before.ctl.generation + 3, "changed: switched");
	ASSERT_SHOWN("#again", 2);
out:
	snap_free(&before);
	snap_free(&after);
	XT_END();
}
END_TEST

/* The file of edits[i] (i < 0: app_edits itself). */
static bool write_edit(int i, char *path, size_t len)
{
	char text[sizeof(app_edits) + 64], *at;
	size_t nf, nt;

	if (i < 0)
		return xt_ctl_env_file(&env, "edits.xfsm", app_edits, path, len);
	memcpy(text, app_edits, sizeof(app_edits));
	at = strstr(text, edits[i].from);
	if (!ASSERT_TRUE(at != NULL, edits[i].from))
		return false;
	nf = strlen(edits[i].from);
	nt = strlen(edits[i].to);
	memmove(at + nt, at + nf, strlen(at + nf) + 1);
	memcpy(at, edits[i].to, nt);
	return xt_ctl_env_file(&env, "edit.xfsm", text, path, len);
}

/*
 * What the language added per stage and per action is part of the
 * identity: an application that differs from the running one only in a
 * stage's table-full policy, a NAT address or port, the TTL it sets, the
 * VLAN it pushes (or a pop instead), or the MAC an ARP reply gives, is
 * applied, not "unchanged" (the defines keep the rule texts the same).
 */
START_TEST(test_lang_settings_not_unchanged)
{
	char base[PATH_MAX], edit[PATH_MAX];

	setup();
	if (!write_edit(-1, base, sizeof(base)) || !apply(base))
		goto out;
	apply_says(base, false, false, "unchanged", NULL);
	for (unsigned int i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		xt_set_context("%s", edits[i].what);
		if (!write_edit((int)i, edit, sizeof(edit)))
			continue;
		apply_says(edit, false, false, "applied: generation", NULL);
		apply_says(edit, false, false, "unchanged", NULL);
		apply_says(base, false, false, "applied: generation", NULL);
	}
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
	tcase_add_test(tc, test_reused_stage_entry_baseline);
	tcase_add_test(tc, test_exact_under_traffic);
	tcase_add_test(tc, test_identical_apply_unchanged);
	tcase_add_test(tc, test_lang_settings_not_unchanged);
	return xt_suite_run(s);
}
