/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * An application switches as one, whatever moment the control process
 * dies (issue 12, item 2): xfsmctl runs as another process on this suite's
 * datapath (pinned for it) and is killed with SIGKILL, at random moments
 * and before each of its bpf() calls in turn; afterwards the verdicts of a
 * fixed packet set (BPF_PROG_TEST_RUN) must be exactly those of the
 * configuration before the command or after it, and the next command must
 * leave nothing of the interrupted one behind.
 *
 * Two applications differ in every part a switch covers: ACL table 0 (the
 * same table, other rules), output group 1 (another member), the stage's
 * rules, counters and the default verdict.  The commands: apply of either,
 * `rule add` / `rule del` of a rule, `acl load` of table 0.  Each of the
 * eight reachable configurations gives another verdict vector.
 *
 * The program that runs the active slot is the one generated for the
 * application in it, or the generic datapath: after every kill
 * xfsm_progs[active] is empty or holds the program the active slot's
 * datapath record names for that application (a packet never runs a
 * program of the other slot).  A port of the instance (a veth of a
 * namespace of the test's) runs one of its programs after every kill, with
 * the datapath's verdicts: the active slot's, or, killed between the flip
 * and the swap, the old slot's, whose guard hands the packets to the
 * generic program; the next switch attaches the active slot's.
 *
 * XT_KILL_ROUNDS overrides the number of random rounds (default 300, about
 * half of them killed), XT_KILL_SEED the random seed (printed).  Under
 * emulation (`make vmtest` sets CK_TIMEOUT_MULTIPLIER, 10 there) both
 * variants do that many times less: every N-th bpf() call, 300 / N rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "suite.h"
#include "ctlrun.h"
#include "xfsm_acl.h"
#include "xfsm_datapath.h"
#include "xfsm_attach.h"

#define NPKT		8	/* UDP to ports 1001..1008 */
#define NSTATES		8

static const char app_one[] =
	"app one\n"
	"default pass\n"
	"port p1 = 1\n"
	"port p9 = 9\n"
	"group lb = 1 rr p1\n"
	"acl front table 0 {\n"
	"\tmiss allow\n"
	"\trule proto udp dport 1001 => deny\n"
	"\trule proto udp dport 1002 => allow mark 11\n"
	"\trule proto udp dport 1003 => pass\n"
	"}\n"
	"stage main {\n"
	"\tkey ip.src\n"
	"\trule marked when meta.mark == 11 => count seen, tx\n"
	"\trule lb when udp.dport == 1004 => output group lb\n"
	"\trule d5 when udp.dport == 1005 => drop\n"
	"\trule d6 when udp.dport == 1006 => tx\n"
	"\trule d7 when udp.dport == 1007 => count seven, pass\n"
	"}\n";

static const char app_two[] =
	"app two\n"
	"default drop\n"
	"port p1 = 1\n"
	"port p9 = 9\n"
	"group lb = 1 rr p9\n"
	"acl front table 0 {\n"
	"\tmiss allow\n"
	"\trule proto udp dport 1002 => deny\n"
	"\trule proto udp dport 1001 => allow mark 22\n"
	"\trule proto udp dport 1005 => pass\n"
	"}\n"
	"stage main {\n"
	"\tkey ip.src\n"
	"\trule marked when meta.mark == 22 => count seen2, tx\n"
	"\trule lb when udp.dport == 1004 => output group lb\n"
	"\trule d3 when udp.dport == 1003 => drop\n"
	"\trule d6 when udp.dport == 1006 => pass\n"
	"\trule d7 when udp.dport == 1007 => count seven, tx\n"
	"}\n";

static const char acl_file[] = "proto udp dport 1007 => deny\n";

/* Two applications the specializer generates programs for, with other
 * verdicts for the same packets. */
static const char spec_one[] =
	"app sone\n"
	"default pass\n"
	"stage main {\n"
	"\tkey ip.src\n"
	"\trule d1 when udp.dport == 1001 => drop\n"
	"\trule t2 when udp.dport == 1002 => tx\n"
	"}\n";

static const char spec_two[] =
	"app stwo\n"
	"default drop\n"
	"stage main {\n"
	"\tkey ip.src\n"
	"\trule p1 when udp.dport == 1001 => pass\n"
	"\trule t3 when udp.dport == 1003 => tx\n"
	"}\n";
static char path_sone[PATH_MAX], path_stwo[PATH_MAX];

static const char *pin_dir = "";
static char path_one[PATH_MAX], path_two[PATH_MAX], path_acl[PATH_MAX];

/* ---- Configurations and commands ------------------------------------------------- */

/* A configuration: which application, whether ACL table 0 holds the
 * loaded file instead of the application's block, whether the extra rule
 * was added. */
#define CONF(app, acl, extra)	((app) | (acl) << 1 | (extra) << 2)
#define CONF_APP(s)		((s) & 1)
#define CONF_ACL(s)		(((s) >> 1) & 1)
#define CONF_EXTRA(s)		(((s) >> 2) & 1)

enum op { OP_APPLY_ONE, OP_APPLY_TWO, OP_RULE_ADD, OP_RULE_DEL, OP_ACL_LOAD, OP__N };

static const char *const op_names[OP__N] = {
	"apply one", "apply two", "rule add", "rule del", "acl load",
};

static int op_next(enum op op, int st)
{
	switch (op) {
	case OP_APPLY_ONE:
		return CONF(0, 0, 0);
	case OP_APPLY_TWO:
		return CONF(1, 0, 0);
	case OP_RULE_ADD:
		return st | CONF(0, 0, 1);
	case OP_RULE_DEL:
		return st & ~CONF(0, 0, 1);
	default:
		return st | CONF(0, 1, 0);
	}
}

static void op_args(enum op op, char *args[8])
{
	static char extra[] = "rule extra priority 100 when udp.dport == 1008 => tx";

	memset(args, 0, 8 * sizeof(args[0]));
	switch (op) {
	case OP_APPLY_ONE:
	case OP_APPLY_TWO:
		args[0] = "apply";
		args[1] = op == OP_APPLY_ONE ? path_one : path_two;
		break;
	case OP_RULE_ADD:
		args[0] = "rule";
		args[1] = "add";
		args[2] = "main";
		args[3] = extra;
		break;
	case OP_RULE_DEL:
		args[0] = "rule";
		args[1] = "del";
		args[2] = "main";
		args[3] = "extra";
		break;
	default:
		args[0] = "acl";
		args[1] = "load";
		args[2] = "table";
		args[3] = "0";
		args[4] = path_acl;
		break;
	}
}

/* Run a command to its end; it must succeed. */
static bool run_op(enum op op)
{
	char *args[8], out[4096];
	int rc;

	op_args(op, args);
	rc = xt_ctl(pin_dir, out, sizeof(out), args);
	return ASSERT_EQ(rc, 0, op_names[op]) || (fprintf(stderr, "%s\n", out), false);
}

/* ---- The packet set ------------------------------------------------------------------ */

static void verdicts(__u32 v[NPKT])
{
	struct xt_result r;
	struct pkt p;
	int i;

	for (i = 0; i < NPKT; i++) {
		struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2,
				      .sport = 5000, .dport = 1001 + i };

		pkt_from_spec(&p, &s);
		v[i] = xt_run_pkt(&T, &p, 0, &r) ? ~0U : r.verdict;
	}
}

static void verdicts_str(const __u32 v[NPKT], char *buf, size_t len)
{
	size_t o = 0;
	int i;

	for (i = 0; i < NPKT && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s", i ? " " : "", xt_verdict_name(v[i]));
}

static __u32 golden[NSTATES][NPKT];

static void record(int st)
{
	verdicts(golden[st]);
}

/* The verdicts of all eight configurations, by complete commands. */
static bool build_goldens(void)
{
	int a, s, t;

	for (a = 0; a < 2; a++) {
		if (!run_op(a ? OP_APPLY_TWO : OP_APPLY_ONE))
			return false;
		record(CONF(a, 0, 0));
		if (!run_op(OP_RULE_ADD))
			return false;
		record(CONF(a, 0, 1));
		if (!run_op(OP_ACL_LOAD))
			return false;
		record(CONF(a, 1, 1));
		if (!run_op(OP_RULE_DEL))
			return false;
		record(CONF(a, 1, 0));
	}
	/* the packet set tells every configuration apart */
	for (s = 0; s < NSTATES; s++)
		for (t = s + 1; t < NSTATES; t++)
			if (!ASSERT_NEQ(memcmp(golden[s], golden[t], sizeof(golden[s])), 0,
					"two configurations give the same verdicts"))
				return false;
	return true;
}

/* ---- What must hold after every command that ran to its end -------------------------- */

/* ACL buffers that the running slot does not name and that are not empty
 * (a buffer is its set descriptor: the region's entries are reachable only
 * through one). */
static long acl_foreign(const struct xfsm_app *app)
{
	struct xfsm_acl_set set;
	long n = 0;
	__u32 t, k;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		k = t * 2 + !(app->acl_buf[t] & 1);
		if (bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_ACL_SETS], &k, &set))
			return -1;
		if (set.n_rules || set.n_trees || set.n_nodes)
			n++;
	}
	return n;
}

/* Nothing of an interrupted command is left: the control block is clean,
 * every rule and ACL buffer is one the running slot names, and the
 * running slot's statistics identities are readable. */
static bool check_clean(const char *when)
{
	struct xfsm_stat_idents ids;
	struct xfsm_image img;
	struct xfsm_ctl ctl;
	bool ok = true;
	long n;

	xt_set_context("%s", when);
	ok &= ASSERT_OK(xfsm_ctl_get(T.inst, &ctl), "read xfsm_ctl");
	ok &= ASSERT_EQ(ctl.flags, 0, "control block clean");
	if (!ASSERT_OK(xfsm_read_app(T.inst, &img), "read app"))
		return false;
	n = xfsm_map_count(T.inst, XFSM_M_RULES);
	ok &= ASSERT_EQ(n, img.n_rules, "rules in the table = rules of the running slot");
	ok &= ASSERT_EQ(acl_foreign(&img.app), 0, "ACL buffers outside the running slot's");
	if (ASSERT_OK(xfsm_read_stat_idents(T.inst, &ids), "read identities")) {
		ok &= ASSERT_EQ(ids.generation, img.app.generation, "identities of the running slot");
		xfsm_stat_idents_free(&ids);
	}
	xfsm_image_free(&img);
	xt_set_context("%s", "");
	return ok;
}

/* xfsm_progs[active] holds the active application's own program or
 * nothing (the generic datapath runs it). */
static bool check_progs(const char *when)
{
	struct xfsm_dp_record r;
	struct xfsm_app app;
	struct xfsm_ctl ctl;
	__u32 id = 0, slot;
	bool ok = true, have;

	if (T.inst->map_fd[XFSM_M_PROGS] < 0)
		return true;	/* no specialized programs on this datapath */
	xt_set_context("%s", when);
	if (!ASSERT_OK(xfsm_ctl_get(T.inst, &ctl), "read xfsm_ctl") ||
	    !ASSERT_LE(ctl.active, XFSM_APP_SLOTS - 1, "active slot"))
		goto out;
	slot = ctl.active;
	ok &= ASSERT_OK(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_APPS], &slot, &app) ? -errno : 0,
			"read the active slot");
	if (bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_PROGS], &slot, &id))
		id = 0;
	have = !xfsm_dp_record_read(T.inst, slot, &r, false) &&
	       r.generation == app.generation;
	if (id) {
		ok &= ASSERT_TRUE(have, "a program in xfsm_progs[active] has its slot's record");
		ok &= ASSERT_TRUE(have && r.specialized && r.prog_id == id,
				  "xfsm_progs[active] holds the program generated for the active application");
	} else if (have) {
		ok &= ASSERT_TRUE(!r.specialized,
				  "an empty xfsm_progs[active] goes with a generic record");
	}
out:
	xt_set_context("%s", "");
	return ok;
}

/* ---- Fixture ------------------------------------------------------------------------- */

static struct xt_ctl_env env;

static void kill_open(void)
{
	xt_ctl_env_open(&env, "kill");
	if (!xt_ctl_env_file(&env, "one.xfsm", app_one, path_one, sizeof(path_one)) ||
	    !xt_ctl_env_file(&env, "two.xfsm", app_two, path_two, sizeof(path_two)) ||
	    !xt_ctl_env_file(&env, "table0.acl", acl_file, path_acl, sizeof(path_acl)) ||
	    !xt_ctl_env_file(&env, "sone.xfsm", spec_one, path_sone, sizeof(path_sone)) ||
	    !xt_ctl_env_file(&env, "stwo.xfsm", spec_two, path_stwo, sizeof(path_stwo)))
		env.pin_dir[0] = 0;
	pin_dir = env.pin_dir;
}

static void kill_close(void)
{
	xt_ctl_env_close(&env);
}

/* The datapath reset, ports set, every configuration's verdicts known. */
static void setup(void)
{
	NEED_T();
	ck_assert_msg(pin_dir[0], "cannot pin the instance or write the test files");
	/* port 1 leads somewhere (lo); port 9 nowhere: its packets drop.
	 * Both are ports of the instance (xfsmctl apply refuses to send to
	 * a port it does not have), on interfaces no packet comes in on. */
	ck_assert_int_eq(xt_set_tx_port(&T, 1, 1), 0);
	ck_assert_int_eq(xt_set_port(&T, 1001, 1), 0);
	ck_assert_int_eq(xt_set_port(&T, 1009, 9), 0);
	ck_assert_msg(build_goldens(), "cannot build the configurations");
}

static bool same(const __u32 a[NPKT], const __u32 b[NPKT])
{
	return !memcmp(a, b, NPKT * sizeof(a[0]));
}

/* The verdicts now are those of `from` or `to`: which (-1: neither; the
 * first few are printed). */
static int judge(int from, int to, const char *what)
{
	static unsigned int printed;
	__u32 v[NPKT];
	char got[128], a[128], b[128];

	verdicts(v);
	if (same(v, golden[from]))
		return from;
	if (same(v, golden[to]))
		return to;
	if (printed++ >= 6)
		return -1;
	verdicts_str(v, got, sizeof(got));
	verdicts_str(golden[from], a, sizeof(a));
	verdicts_str(golden[to], b, sizeof(b));
	xt_check(false, __FILE__, __LINE__,
		 "%s: verdicts [%s] are neither those before [%s] nor after [%s]", what, got, a, b);
	return -1;
}

/* ---- Killed before each bpf() call in turn ---------------------------------------------- */

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : dflt;
}

/* How much slower than a host this machine runs us (emulation). */
static unsigned int slowness(void)
{
	unsigned int m = env_uint("CK_TIMEOUT_MULTIPLIER", 1);

	return m ? m : 1;
}

static void kill_each_call(enum op op, enum op restore, int from)
{
	char *args[8], what[160];
	int total, k, to = op_next(op, from), status, seen[2] = { 0, 0 }, got, mixed = 0;
	int stride = slowness();

	op_args(op, args);
	if (!run_op(restore))
		return;
	/* how many bpf() calls the command makes when left alone */
	total = xt_ctl_kill_at_bpf(pin_dir, args, 0, &status);
	if (!ASSERT_GE(total, 10, "bpf() calls of the command") ||
	    !ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status), "command without a kill"))
		return;
	fprintf(stderr, "%s: %d bpf() calls, killed before each in turn%s\n", op_names[op],
		total, stride > 1 ? " (every few: emulation)" : "");
	/* every stride-th call, and the last one */
	for (k = 1; k <= total; k = k < total && k + stride > total ? total : k + stride) {
		if (!run_op(restore) || !check_clean("the command after a kill"))
			return;
		if (!ASSERT_TRUE(judge(from, from, "restored") == from, "restored configuration"))
			return;
		got = xt_ctl_kill_at_bpf(pin_dir, args, k, &status);
		if (!ASSERT_EQ(got, k, "killed at the chosen call") ||
		    !ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "killed"))
			return;
		snprintf(what, sizeof(what), "%s killed before bpf() call %d of %d", op_names[op],
			 k, total);
		got = judge(from, to, what);
		check_progs(what);
		if (got < 0)
			mixed++;	/* go on: how many points are wrong */
		else
			seen[got == to]++;
	}
	fprintf(stderr, "%s: %d kill points left the old configuration, %d the new one, %d a mix\n",
		op_names[op], seen[0], seen[1], mixed);
	ASSERT_EQ(mixed, 0, "kill points that left a mix");
	/* the commit point lies inside: early kills change nothing, late
	 * ones leave the new configuration */
	ASSERT_GE(seen[0], 1, "kill points before the switch");
	ASSERT_GE(seen[1], 1, "kill points after the switch");
	run_op(restore);
	check_clean("the command after the last kill");
}

START_TEST(test_kill_apply_each_call)
{
	setup();
	/* apply of the other application, and back */
	kill_each_call(OP_APPLY_TWO, OP_APPLY_ONE, CONF(0, 0, 0));
	kill_each_call(OP_APPLY_ONE, OP_APPLY_TWO, CONF(1, 0, 0));
	XT_END();
}
END_TEST

START_TEST(test_kill_edits_each_call)
{
	setup();
	kill_each_call(OP_RULE_ADD, OP_APPLY_ONE, CONF(0, 0, 0));
	kill_each_call(OP_ACL_LOAD, OP_APPLY_TWO, CONF(1, 0, 0));
	XT_END();
}
END_TEST

/* ---- Specialized programs: killed before each bpf() call -------------------------------------- */

static void spec_args(int which, char *args[8])
{
	memset(args, 0, 8 * sizeof(args[0]));
	args[0] = "apply";
	args[1] = "--datapath";
	args[2] = "specialized";
	args[3] = which ? path_stwo : path_sone;
}

static bool spec_apply(int which)
{
	char *args[8], out[4096];
	int rc;

	spec_args(which, args);
	rc = xt_ctl(pin_dir, out, sizeof(out), args);
	return ASSERT_EQ(rc, 0, "apply --datapath specialized") ||
	       (fprintf(stderr, "%s\n", out), false);
}

/* Does the active slot run its own specialized program? */
static bool runs_specialized(void)
{
	struct xfsm_dp_record r;
	__u32 slot;
	bool yes;

	if (xfsm_dp_running(T.inst, &slot, &r, false))
		return false;
	yes = r.specialized && !r.why[0];
	xfsm_dp_record_free(&r);
	return yes;
}

/* ---- What an interface runs (lib/attach_direct.c) ------------------------------------ */

/* A veth in a network namespace of this test's own, a port of the
 * instance running its generic program (as xfsm-loader attaches it):
 * each switch attaches the active slot's program there.  0 when none. */
static int attach_ifindex;
static int attach_back_ns = -1;

static bool attach_port_open(void)
{
	__u32 key = XFSM_PROGS_GENERIC, gid = 0;
	int fd, err;

	attach_back_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!ASSERT_GE(attach_back_ns, 0, "open this network namespace") ||
	    !ASSERT_OK(unshare(CLONE_NEWNET) ? -errno : 0, "a network namespace of the test's") ||
	    !ASSERT_EQ(system("ip link add xk0 type veth peer name xk1 && "
			      "ip link set xk0 up && ip link set xk1 up"), 0, "veth xk0"))
		return false;
	attach_ifindex = (int)if_nametoindex("xk0");
	if (!ASSERT_OK(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_PROGS], &key, &gid) ? -errno : 0,
		       "the generic entry"))
		return false;
	fd = bpf_prog_get_fd_by_id(gid);
	if (!ASSERT_GE(fd, 0, "open the generic program"))
		return false;
	err = bpf_xdp_attach(attach_ifindex, fd, XDP_FLAGS_SKB_MODE, NULL);
	close(fd);
	return ASSERT_OK(err, "attach the generic program to xk0") &&
	       ASSERT_OK(xt_set_port(&T, attach_ifindex, 3), "xk0 is port 3");
}

static void attach_port_close(void)
{
	if (attach_ifindex) {
		bpf_map_delete_elem(T.inst->map_fd[XFSM_M_PORTS], &(__u32){ attach_ifindex });
		attach_ifindex = 0;
	}
	if (attach_back_ns >= 0) {
		ASSERT_OK(setns(attach_back_ns, CLONE_NEWNET) ? -errno : 0,
			  "back to the suite's network namespace");
		close(attach_back_ns);
		attach_back_ns = -1;
	}
}

/* The verdicts of the packet set run by program fd. */
static void verdicts_of(int fd, __u32 v[NPKT])
{
	int saved = T.prog_fd;

	T.prog_fd = fd;
	verdicts(v);
	T.prog_fd = saved;
}

/*
 * xk0 runs one of the instance's programs, never a foreign or freed one,
 * and that program gives the verdicts the datapath gives (a stale one,
 * of a slot no longer active, through its guard).  *stale: it is not the
 * program of xfsm_progs[active] (or the generic one when that is empty).
 */
static bool check_attached(const char *when, bool *stale)
{
	__u32 key, active_id = 0, gid = 0, v[NPKT], want[NPKT];
	struct xfsm_xdp_state st;
	struct xfsm_ctl ctl;
	bool ok = true;
	int fd;

	*stale = false;
	xt_set_context("%s", when);
	if (!ASSERT_OK(xfsm_xdp_state_get(attach_ifindex, &st), "query xk0") ||
	    !ASSERT_TRUE(st.prog_id != 0, "xk0 runs a program") ||
	    !ASSERT_TRUE(xfsm_xdp_state_owned(T.inst, &st), "xk0 runs one of the instance's programs")) {
		ok = false;
		goto out;
	}
	ok &= ASSERT_TRUE(!st.dispatcher && (st.specialized ||
		!strcmp(st.prog_name, XFSM_PROG_NAME)), "a generated or the generic program");
	key = XFSM_PROGS_GENERIC;
	bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_PROGS], &key, &gid);
	if (!xfsm_ctl_get(T.inst, &ctl)) {
		key = ctl.active;
		if (bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_PROGS], &key, &active_id))
			active_id = 0;
	}
	*stale = st.prog_id != (active_id ? active_id : gid);
	fd = bpf_prog_get_fd_by_id(st.prog_id);
	if (!ASSERT_GE(fd, 0, "open xk0's program"))
		goto out;
	verdicts_of(fd, v);
	close(fd);
	verdicts(want);
	ok &= ASSERT_TRUE(same(v, want), "xk0's program gives the datapath's verdicts");
out:
	xt_set_context("%s", "");
	return ok;
}

/*
 * Switching between two specialized applications, killed before each
 * bpf() call: the packets (through the generic program, which tail-calls
 * the active slot's program) get the verdicts of one application or the
 * other, never a mix, and xfsm_progs[active] is the active application's.
 * A port runs one of the instance's programs with the same verdicts after
 * every kill (a killed switch may leave the old slot's program there),
 * and the next switch attaches the active slot's program to it.
 */
START_TEST(test_kill_spec_each_call)
{
	__u32 golden_spec[2][NPKT], v[NPKT];
	int dir, k, total, status, got, seen[2] = { 0, 0 }, mixed = 0, n_stale = 0;
	int stride = slowness();
	bool stale;
	char *args[8], what[160];

	NEED_T();
	ck_assert_msg(pin_dir[0], "cannot pin the instance or write the test files");
	ck_assert_int_eq(xt_set_tx_port(&T, 1, 1), 0);
	if (T.inst->map_fd[XFSM_M_PROGS] < 0) {
		fprintf(stderr, "no xfsm_progs on this datapath: nothing to test\n");
		XT_END();
		return;
	}
	if (!attach_port_open())
		goto out;
	for (dir = 0; dir < 2; dir++) {
		if (!spec_apply(dir))
			goto out;
		ASSERT_TRUE(runs_specialized(), "the application runs specialized");
		verdicts(golden_spec[dir]);
		check_attached("after a whole switch", &stale);
		ASSERT_TRUE(!stale, "a whole switch attaches the active slot's program");
	}
	if (!ASSERT_NEQ(memcmp(golden_spec[0], golden_spec[1], sizeof(golden_spec[0])), 0,
			"the two applications give other verdicts"))
		goto out;
	for (dir = 0; dir < 2; dir++) {
		int from = dir, to = !dir;

		spec_args(to, args);
		if (!spec_apply(from))
			goto out;
		total = xt_ctl_kill_at_bpf(pin_dir, args, 0, &status);
		if (!ASSERT_GE(total, 10, "bpf() calls of the command"))
			goto out;
		for (k = 1; k <= total; k = k < total && k + stride > total ? total : k + stride) {
			if (!spec_apply(from) || !check_clean("the apply after a kill"))
				goto out;
			check_attached("the apply after a kill", &stale);
			ASSERT_TRUE(!stale, "the apply after a kill attaches the active slot's program");
			verdicts(v);
			if (!ASSERT_TRUE(same(v, golden_spec[from]), "restored verdicts"))
				goto out;
			got = xt_ctl_kill_at_bpf(pin_dir, args, k, &status);
			if (!ASSERT_EQ(got, k, "killed at the chosen call"))
				goto out;
			snprintf(what, sizeof(what), "specialized apply killed before bpf() call %d of %d",
				 k, total);
			verdicts(v);
			if (same(v, golden_spec[from]))
				seen[0]++;
			else if (same(v, golden_spec[to]))
				seen[1]++;
			else
				mixed++;
			check_progs(what);
			check_attached(what, &stale);
			n_stale += stale;
		}
	}
	fprintf(stderr, "specialized apply: %d kill points left a stale program attached\n", n_stale);
	fprintf(stderr, "specialized apply: %d kill points left the old application, %d the new one, %d a mix\n",
		seen[0], seen[1], mixed);
	ASSERT_EQ(mixed, 0, "kill points that left a mix");
	ASSERT_GE(seen[0], 1, "kill points before the switch");
	ASSERT_GE(seen[1], 1, "kill points after the switch");
	if (spec_apply(0))
		check_clean("the end");
out:
	attach_port_close();
	XT_END();
}
END_TEST

/* ---- Killed at random moments ------------------------------------------------------------- */

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

START_TEST(test_kill_random)
{
	unsigned int rounds = env_uint("XT_KILL_ROUNDS", 300 / slowness());
	unsigned int seed = env_uint("XT_KILL_SEED", (unsigned int)time(NULL));
	long dur[OP__N] = { 0 }, t0;
	unsigned int r, killed = 0, changed = 0, mixed = 0;
	int st, status;
	char *args[8], what[160];
	enum op op;

	setup();
	/* Kill moments are drawn from [0, window): starting at twice a
	 * command's length when left alone, each window widens after a kill
	 * and narrows after a command that finished, so that about half are
	 * killed, at moments spread over the whole command, however loaded
	 * the machine is. */
	for (op = 0; op < OP__N; op++) {	/* add comes before del */
		t0 = now_us();
		if (!run_op(op))
			goto out;
		dur[op] = (now_us() - t0) * 2 + 1000;
	}
	st = CONF(1, 1, 0);	/* two, table 0 from the file, no extra rule */
	fprintf(stderr, "random kills: %u rounds, seed %u (XT_KILL_SEED)\n", rounds, seed);
	srand(seed);
	for (r = 0; r < rounds; r++) {
		int to, got;

		do
			op = rand() % OP__N;
		while ((op == OP_RULE_ADD && CONF_EXTRA(st)) || (op == OP_RULE_DEL && !CONF_EXTRA(st)));
		to = op_next(op, st);
		op_args(op, args);
		if (!ASSERT_OK(xt_ctl_kill_after(pin_dir, args, rand() % dur[op], &status),
			       "run and kill"))
			break;
		killed += WIFSIGNALED(status);
		dur[op] = WIFSIGNALED(status) ? dur[op] * 11 / 10 : dur[op] * 9 / 10 + 100;
		snprintf(what, sizeof(what), "round %u: %s (from configuration %d)", r,
			 op_names[op], st);
		got = judge(st, to, what);
		check_progs(what);
		if (got < 0) {
			/* counted; a complete apply starts over from a known
			 * configuration */
			mixed++;
			if (!run_op(OP_APPLY_ONE))
				break;
			st = CONF(0, 0, 0);
			continue;
		}
		changed += got != st;
		st = got;
		/* now and then a command that runs to its end cleans up */
		if (r % 50 == 49) {
			op = CONF_APP(st) ? OP_APPLY_TWO : OP_APPLY_ONE;
			if (!run_op(op) || !check_clean("a complete apply after kills"))
				break;
			st = op_next(op, st);
			if (judge(st, st, "after a complete apply") != st)
				break;
		}
	}
	fprintf(stderr, "random kills: %u of %u commands killed, %u changed the configuration, %u left a mix\n",
		killed, r, changed, mixed);
	ASSERT_EQ(mixed, 0, "kills that left a mix");
	ASSERT_EQ(r, rounds, "rounds run");
	ASSERT_GE(killed, rounds / 4, "commands killed");
	if (run_op(OP_APPLY_ONE))
		check_clean("the end");
out:
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kill");
	TCase *tc = tcase_create("kill");

	tcase_add_unchecked_fixture(tc, kill_open, kill_close);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_kill_apply_each_call);
	tcase_add_test(tc, test_kill_edits_each_call);
	tcase_add_test(tc, test_kill_spec_each_call);
	tcase_add_test(tc, test_kill_random);
	return xt_suite_run(s);
}
