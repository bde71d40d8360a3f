/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The specializer (lib/spec/, docs/specializer.md) against the generic
 * datapath, the reference semantics.  Each application is applied to two
 * instances with identical state: T runs it with the generic datapath, B
 * with the program generated for it installed in xfsm_progs[active slot]
 * (the generic program tail-calls it).  A seeded random walk of packets,
 * the fast path's layouts and those it hands back (VLAN, IP options,
 * fragments, extension headers, ARP, truncated frames), runs through both,
 * from no port or one of two, which swap port numbers halfway;
 * after every packet the verdicts, output bytes and every map (flows, all
 * fields but the clock's; globals; packet, stage, rule, port and user
 * counters) must be the same.  Timeouts are made to expire by moving
 * deadlines into the past in both instances.
 *
 * The two instances need not have run the same applications before: where
 * an instance counts a named stage, rule or counter (its statistics
 * identities) and the epoch in its flows' keys depend on its history, so
 * the walks compare each object at the index each instance gave it
 * (struct sides), and one walk (walk_history) gives the specialized
 * instance a history of its own on purpose.
 *
 *  - generate: each application the specializer takes loads (the
 *    verifier is the first oracle), and the program is seen running (with
 *    the generic program removed, a packet it hands back is not counted)
 *  - walk_*: the differential walks
 *  - refuse: an application with an unsupported construct is refused with
 *    -EOPNOTSUPP and a message naming it, stage and rule
 *  - codegen: labels and fixups (an unbound label, a jump too long)
 *  - omit_*: the parts a measurement leaves out (xfsm_spec_input.omit):
 *    counters still, the same verdicts, the verifier takes each program
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "suite.h"
#include "xfsm_group.h"
#include "xfsm_lang.h"
#include "xfsm_plan.h"
#include "xfsm_spec.h"

#define WALK_STEPS	160
#define WALK_STEPS_EMU	60	/* under emulation (XT_EMULATED: make vmtest) */
#define WALK_SEED	0x5bec1a1U

static struct xt B;	/* the instance that runs the specialized program */
/* A pair with a small plain hash table of flows: tables fill up. */
#define SMALL_FLOWS	3
static struct xt T2, B2;
/* The instance the omit_* tests apply to: the walks' instances keep their
 * ports and groups alike. */
static struct xt O;

static void open_both(void)
{
	const struct xt_opts small = { .profile = XT_NATIVE, .flows_max = SMALL_FLOWS,
				       .flows_type = BPF_MAP_TYPE_HASH };

	suite_open_native();
	if (xt_open(&B, NULL))
		B.obj = NULL;
	if (xt_open(&T2, &small))
		T2.obj = NULL;
	if (xt_open(&B2, &small))
		B2.obj = NULL;
	if (xt_open(&O, NULL))
		O.obj = NULL;
}

static void close_both(void)
{
	xt_close(&O);
	xt_close(&B2);
	xt_close(&T2);
	xt_close(&B);
	suite_close();
}

/* The pair a walk compares: generic G, specialized S. */
static struct xt *G = &T, *S = &B;

static unsigned int walk_steps(void)
{
	return getenv("XT_EMULATED") ? WALK_STEPS_EMU : WALK_STEPS;
}

static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ---- Applying, generating, installing ---------------------------------- */

static bool compile_named(const char *rel, struct xfsm_image *img, struct xfsm_app_names *names)
{
	char path[700], err[512] = "";

	snprintf(path, sizeof(path), "%s/%s", xt_src_dir(), rel);
	return ASSERT_OK(xfsm_compile_file(path, img, names, err, sizeof(err)),
			 err[0] ? err : path);
}

static bool compile(const char *rel, struct xfsm_image *img)
{
	return compile_named(rel, img, NULL);
}

/* As xfsmctl applies a file: its declarations (groups) too.  Always on
 * the generic datapath (the default, auto, would generate a program for
 * the reference side too): the specialized side's program is installed
 * by the test itself. */
static int apply_named(struct xt *t, const struct xfsm_image *img,
		       const struct xfsm_app_names *names)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .datapath = XFSM_DP_GENERIC,
		  .unchecked_ports = true);

	return xfsm_lang_apply(t->inst, img, names, &o);
}

/* Generate and load t's program for its active slot, leaving out `omit`
 * (XFSM_SPEC_OMIT_*): its fd, or a negative errno with e->why kept in
 * `why`. */
/* Do two count group tables have the same groups, member for member? */
static bool same_cg_table(const struct xfsm_cg_table *a, const struct xfsm_cg_table *b)
{
	size_t i;

	if (a->n != b->n || a->n_groups != b->n_groups)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->m[i].group != b->m[i].group || a->m[i].space != b->m[i].space ||
		    a->m[i].bytes != b->m[i].bytes || a->m[i].index != b->m[i].index ||
		    a->m[i].off != b->m[i].off)
			return false;
	return true;
}

/* t's running slot's program generated again, as apply generates it, and
 * loaded: its fd, or a negative errno with *why.  With nothing left out it
 * counts with count groups, and their table is installed for the slot, as
 * apply installs it (the caller puts the program in xfsm_progs: the program
 * running the slot until then, the generic one, counts in no group). */
static int generate_omit(struct xt *t, __u32 omit, char *why, size_t len)
{
	struct xfsm_cg_table cg = { 0 };
	__u32 slot = xt_active_slot(t);
	struct xfsm_spec_input in;
	struct xfsm_emit e;
	int err;

	why[0] = '\0';
	err = xfsm_spec_input_read(t->inst, slot, &in);
	if (err) {
		snprintf(why, len, "xfsm_spec_input_read: %s", strerror(-err));
		return err;
	}
	in.omit = omit;
	in.groups = omit ? NULL : &cg;
	xfsm_emit_init(&e);
	err = xfsm_spec_generate(t->inst, &in, &e);
	if (!err && !omit && (err = xfsm_cg_install(t->inst, slot, &cg)))
		snprintf(e.why, sizeof(e.why), "installing the count groups: %s", strerror(-err));
	free(cg.m);
	if (!err)
		err = xfsm_emit_load(&e, "xfsm_spec");
	if (err < 0)
		snprintf(why, len, "%s", e.why);
	xfsm_emit_free(&e);
	xfsm_spec_input_free(&in);
	return err;
}

/* The program xfsm runs: nothing left out. */
static int generate(struct xt *t, char *why, size_t len)
{
	return generate_omit(t, 0, why, len);
}

static bool install(struct xt *t, int prog_fd)
{
	__u32 slot = xt_active_slot(t);

	return ASSERT_OK(bpf_map_update_elem(t->inst->map_fd[XFSM_M_PROGS], &slot, &prog_fd,
					     BPF_ANY), "install in xfsm_progs");
}

/* ---- Comparing the two instances ----------------------------------------- */

static int read_sum_map(struct xt *t, int map, __u32 key, __u64 *out, size_t words)
{
	int fd = t->inst->map_fd[map], ncpu = libbpf_num_possible_cpus();
	bool percpu = t->inst->map_type[map] == BPF_MAP_TYPE_PERCPU_ARRAY;
	size_t n = percpu ? (size_t)ncpu : 1, c, w;
	__u64 *buf;
	int err = 0;

	buf = calloc(n * words, sizeof(__u64));
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, buf))
		err = -errno;
	memset(out, 0, words * sizeof(*out));
	for (c = 0; !err && c < n; c++)
		for (w = 0; w < words; w++)
			out[w] += buf[c * words + w];
	free(buf);
	return err;
}

/* The port counters, for read_sum(): no map of their own (the
 * statistics block, xfsm_stats_where()). */
#define TS_PORT_STATS	(XFSM_M__MAX + 1)

static const char *map_name(int map)
{
	return map == TS_PORT_STATS ? "port stats" : xfsm_map_names[map];
}

/* Per-CPU values summed as __u64 words (plain arrays: the value).  The
 * counters through libxfsm's readers, which know where they are and add
 * the count groups standing for them: xfsm_stats's (XFSM_M_STATS), a
 * stage's (XFSM_M_STAGE_STATS, from its baseline), a rule's
 * (XFSM_M_RULE_STATS), a port's (TS_PORT_STATS). */
static int read_sum(struct xt *t, int map, __u32 key, __u64 *out, size_t words)
{
	if (map == XFSM_M_STATS)
		return key || words * 8 != sizeof(struct xfsm_stats) ? -EINVAL :
		       xfsm_read_stats(t->inst, (struct xfsm_stats *)out);
	if (map == XFSM_M_RULE_STATS)
		return words * 8 != sizeof(struct xfsm_rule_stats) ? -EINVAL :
		       xfsm_read_rule_stats_at(t->inst, key, (struct xfsm_rule_stats *)out);
	if (map == XFSM_M_STAGE_STATS)
		return words * 8 != sizeof(struct xfsm_stage_stats) ? -EINVAL :
		       xfsm_read_stage_stats_at(t->inst, key, (struct xfsm_stage_stats *)out);
	if (map == TS_PORT_STATS)
		return xfsm_stats_read_raw(t->inst, XFSM_SK_PORT, key, out, words * 8);
	return read_sum_map(t, map, key, out, words);
}

/* Entry ka of G's map against entry kb of S's. */
static bool same_entry_at(int map, const char *name, __u32 ka, __u32 kb, size_t words)
{
	__u64 a[128], b[128];
	size_t w;

	if (words > 128 || read_sum(G, map, ka, a, words) || read_sum(S, map, kb, b, words))
		return ASSERT_TRUE(false, name);
	for (w = 0; w < words; w++)
		if (!xt_check(a[w] == b[w], __FILE__, __LINE__,
			      "%s[%u/%u] word %zu: generic %llu, specialized %llu", name, ka, kb, w,
			      (unsigned long long)a[w], (unsigned long long)b[w]))
			return false;
	return true;
}

static bool same_entry(int map, const char *name, __u32 key, size_t words)
{
	return same_entry_at(map, name, key, key, words);
}

/*
 * What each instance's history decided: the statistics index of every
 * named stage, rule and counter (lib/stat_ids.c: an object keeps its index
 * across applications, a new one takes a free one) and every stage's
 * epoch, part of its flows' keys (bumped by each apply that flushes).
 * Read once after the apply; both instances run one application, so the
 * identities name the same objects in the same order.
 */
struct sides {
	struct xfsm_stat_idents g, s;
	__u16 epoch_g[XFSM_MAX_STAGES], epoch_s[XFSM_MAX_STAGES];
};

static bool read_epochs(struct xt *t, __u16 *epoch)
{
	struct xfsm_app *app = malloc(sizeof(*app));
	__u32 slot = xt_active_slot(t), i;
	bool ok = ASSERT_TRUE(app != NULL, "malloc") &&
		  ASSERT_OK(bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_APPS], &slot, app),
			    "the running application");

	for (i = 0; ok && i < XFSM_MAX_STAGES; i++)
		epoch[i] = app->stages[i].epoch;
	free(app);
	return ok;
}

static void sides_free(struct sides *sd)
{
	xfsm_stat_idents_free(&sd->g);
	xfsm_stat_idents_free(&sd->s);
}

static bool sides_read(struct sides *sd, const struct xfsm_spec_input *in)
{
	size_t i, r;

	if (!ASSERT_OK(xfsm_read_stat_idents(G->inst, &sd->g), "identities (generic)") ||
	    !ASSERT_OK(xfsm_read_stat_idents(S->inst, &sd->s), "identities (specialized)") ||
	    !read_epochs(G, sd->epoch_g) || !read_epochs(S, sd->epoch_s) ||
	    !ASSERT_EQ(sd->s.n, sd->g.n, "identities: specialized, generic"))
		return false;
	for (i = 0; i < sd->g.n; i++) {
		const struct xfsm_stat_ident *a = &sd->g.v[i], *b = &sd->s.v[i];

		if (!xt_check(a->kind == b->kind && a->pos == b->pos && a->n == b->n &&
			      !strcmp(a->name, b->name), __FILE__, __LINE__,
			      "identity %zu: generic %u %s (%u+%u), specialized %u %s (%u+%u)", i,
			      a->kind, a->name, a->pos, a->n, b->kind, b->name, b->pos, b->n))
			return false;
	}
	/* every rule the specialized program counts belongs to an identity */
	for (r = 0; r < in->n_rules; r++) {
		for (i = 0; i < sd->s.n; i++)
			if (sd->s.v[i].kind == XFSM_SID_RULE && sd->s.v[i].index == in->rules[r].rule_id)
				break;
		if (!xt_check(i < sd->s.n, __FILE__, __LINE__,
			      "rule statistics index %u has no identity", in->rules[r].rule_id))
			return false;
	}
	return true;
}

static bool owned(const struct xfsm_stat_idents *ids, __u32 kind, __u32 index)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i].kind == kind && ids->v[i].index == index)
			return true;
	return false;
}

/* An index no object of the running application owns counts nothing. */
static bool unowned_zero(struct xt *t, const struct xfsm_stat_idents *ids, __u32 kind,
			 int map, __u32 slots, size_t words, const char *side)
{
	__u64 v[8];
	__u32 i;
	size_t w;

	for (i = 0; i < slots; i++) {
		if (owned(ids, kind, i))
			continue;
		if (read_sum(t, map, i, v, words))
			return ASSERT_TRUE(false, map_name(map));
		for (w = 0; w < words; w++)
			if (!xt_check(!v[w], __FILE__, __LINE__,
				      "%s[%u] word %zu: %llu on the %s side, an index no object owns",
				      map_name(map), i, w, (unsigned long long)v[w], side))
				return false;
	}
	return true;
}

/* The statistics of every named object, each instance's own index. */
static bool same_named_stats(const struct sides *sd)
{
	static const struct {
		int map;
		size_t words;
		const char *what;
	} by_kind[XFSM_SID__COUNT] = {
		[XFSM_SID_STAGE] = { XFSM_M_STAGE_STATS, 8, "stage stats" },
		[XFSM_SID_RULE] = { XFSM_M_RULE_STATS, 2, "rule stats" },
		[XFSM_SID_COUNTER] = { XFSM_M_COUNTERS, 2, "counters" },
	};
	char what[XFSM_SID_NAME_LEN + 32];
	size_t i;

	for (i = 0; i < sd->g.n; i++) {
		const struct xfsm_stat_ident *a = &sd->g.v[i];

		snprintf(what, sizeof(what), "%s of %s", by_kind[a->kind].what, a->name);
		if (!same_entry_at(by_kind[a->kind].map, what, a->index, sd->s.v[i].index,
				   by_kind[a->kind].words))
			return false;
	}
	return unowned_zero(G, &sd->g, XFSM_SID_STAGE, XFSM_M_STAGE_STATS, XFSM_STAGE_STATS_SLOTS,
			    8, "generic") &&
	       unowned_zero(S, &sd->s, XFSM_SID_STAGE, XFSM_M_STAGE_STATS, XFSM_STAGE_STATS_SLOTS,
			    8, "specialized") &&
	       unowned_zero(G, &sd->g, XFSM_SID_COUNTER, XFSM_M_COUNTERS, XFSM_COUNTER_SLOTS, 2,
			    "generic") &&
	       unowned_zero(S, &sd->s, XFSM_SID_COUNTER, XFSM_M_COUNTERS, XFSM_COUNTER_SLOTS, 2,
			    "specialized");
}

/* G's flow key k as S keys the same flow: its stage's epoch there. */
static bool key_in_s(const struct sides *sd, const struct xfsm_flow_key *k,
		     struct xfsm_flow_key *ks)
{
	if (!xt_check(k->stage < XFSM_MAX_STAGES && k->epoch == sd->epoch_g[k->stage],
		      __FILE__, __LINE__, "flow of stage %u epoch %u: not the stage's epoch (%u)",
		      k->stage, k->epoch, k->stage < XFSM_MAX_STAGES ? sd->epoch_g[k->stage] : 0))
		return false;
	*ks = *k;
	ks->epoch = sd->epoch_s[k->stage];
	return true;
}

/* Every flow table (xfsm_for_each_flow_table(); a table one profile
 * lacks is skipped); a key buffer of the wide key holds any table's key. */

static bool same_flows_in(const struct sides *sd, enum xfsm_map_id id, bool regs, long *na)
{
	int fa = G->inst->map_fd[id], fb = S->inst->map_fd[id];
	struct xfsm_flow_key k = {}, nk = {}, ks;
	struct xfsm_flow x, y;
	int step;

	if (!xt_check((fa < 0) == (fb < 0), __FILE__, __LINE__, "%s in one instance only",
		      xfsm_map_names[id]))
		return false;
	if (fa < 0)
		return true;
	for (step = bpf_map_get_next_key(fa, NULL, &nk); !step;
	     step = bpf_map_get_next_key(fa, &k, &nk)) {
		k = nk;
		if (bpf_map_lookup_elem(fa, &k, &x))
			continue;
		(*na)++;
		if (!key_in_s(sd, &k, &ks) ||
		    !xt_check(!bpf_map_lookup_elem(fb, &ks, &y), __FILE__, __LINE__,
			      "flow of stage %u (key %#x %#x ..., %s) only in the generic run",
			      k.stage, k.w[0], k.w[1], xfsm_map_names[id]))
			return false;
		/* the clock's values differ; whether a deadline is set may not */
		if (!ASSERT_EQ(y.state, x.state, "flow state") ||
		    !ASSERT_EQ(y.version, x.version, "flow version") ||
		    !ASSERT_EQ(y.idle_timeout_ms, x.idle_timeout_ms, "flow idle timeout") ||
		    !ASSERT_EQ(y.idle_rollback, x.idle_rollback, "flow idle rollback") ||
		    !ASSERT_EQ(y.hard_rollback, x.hard_rollback, "flow hard rollback") ||
		    !ASSERT_EQ(y.flags, x.flags, "flow flags") ||
		    !ASSERT_EQ(!!y.hard_deadline_ns, !!x.hard_deadline_ns, "flow hard deadline set") ||
		    !ASSERT_EQ(!!y.created_ns, !!x.created_ns, "flow created time set"))
			return false;
		if (regs && (!ASSERT_EQ(y.regs[0], x.regs[0], "flow reg0") ||
		    !ASSERT_EQ(y.regs[1], x.regs[1], "flow reg1") ||
		    !ASSERT_EQ(y.regs[2], x.regs[2], "flow reg2") ||
		    !ASSERT_EQ(y.regs[3], x.regs[3], "flow reg3")))
			return false;
	}
	return true;
}

/* Each flow of the generic run is in the same table of the specialized
 * run, alike, and that run has no other. */
static bool same_flows(const struct sides *sd, bool regs)
{
	const struct xfsm_flow_table_class *c;
	long na = 0;

	xfsm_for_each_flow_table(c)
		if (!same_flows_in(sd, c->id, regs, &na))
			return false;
	return ASSERT_EQ(xt_count_flows(S, -1), na, "flows: specialized, generic");
}

/* Output groups: statistics, round-robin counters, the members flows
 * were given. */
static bool same_groups(void)
{
	int fa = G->inst->map_fd[XFSM_M_GROUP_FLOWS], fb = S->inst->map_fd[XFSM_M_GROUP_FLOWS];
	struct xfsm_group_flow_key k, nk;
	__u32 x, y, i;
	long na = 0, nb = 0;
	int step;

	for (i = 0; i < (getenv("XT_EMULATED") ? 16U : XFSM_MAX_GROUPS); i++)
		if (!same_entry(XFSM_M_GROUP_STATS, "group stats", i,
				sizeof(struct xfsm_group_stats) / 8) ||
		    !same_entry(XFSM_M_GROUP_RR, "group round-robin counter", i, 1))
			return false;
	for (step = bpf_map_get_next_key(fa, NULL, &nk); !step;
	     step = bpf_map_get_next_key(fa, &k, &nk)) {
		k = nk;
		if (bpf_map_lookup_elem(fa, &k, &x))
			continue;
		na++;
		if (!xt_check(!bpf_map_lookup_elem(fb, &k, &y), __FILE__, __LINE__,
			      "group %u flow %#x only in the generic run", k.group, k.hash) ||
		    !ASSERT_EQ(y, x, "the member a group flow was given"))
			return false;
	}
	for (step = bpf_map_get_next_key(fb, NULL, &nk); !step;
	     step = bpf_map_get_next_key(fb, &k, &nk)) {
		k = nk;
		nb++;
	}
	return ASSERT_EQ(nb, na, "group flows: specialized, generic");
}

static bool same_state(const struct sides *sd, bool regs)
{
	struct xfsm_globals ga, gb;
	__u32 zero = 0, i;

	if (!same_entry(XFSM_M_STATS, "xfsm_stats", 0, sizeof(struct xfsm_stats) / 8) ||
	    !same_named_stats(sd))
		return false;
	/* every port under emulation would take long: the first ones there */
	for (i = 0; i < (getenv("XT_EMULATED") ? 16U : XFSM_MAX_PORTS); i++)
		if (!same_entry(TS_PORT_STATS, "port stats", i, 4))
			return false;
	if (!same_groups())
		return false;
	if (!ASSERT_OK(bpf_map_lookup_elem(G->inst->map_fd[XFSM_M_GLOBALS], &zero, &ga), "globals") ||
	    !ASSERT_OK(bpf_map_lookup_elem(S->inst->map_fd[XFSM_M_GLOBALS], &zero, &gb), "globals"))
		return false;
	for (i = 0; i < XFSM_GLOBAL_REGS; i++)
		if (!ASSERT_EQ(gb.reg[i], ga.reg[i], "global register"))
			return false;
	return same_flows(sd, regs);
}

/* ---- Packets ---------------------------------------------------------------- */

enum pk {
	PK_V4, PK_V6, PK_VLAN, PK_ARP,	/* the fast path (PK_VLAN: one tag, IPv4 or IPv6) */
	PK_OPTS, PK_FRAG, PK_EXT, PK_SHORT, PK_BADLEN,	/* handed back */
	PK__N
};

/* A random packet of a random kind (fast-path layouts most of the time). */
static enum pk random_pkt(struct pkt *p, __u32 *seed, const __u16 *dports, unsigned int nd)
{
	static const __u8 l4s[] = { PS_TCP, PS_UDP, PS_UDP, PS_ICMP, PS_NONE };
	struct pkt_spec s = { 0 };
	__u32 r = rnd(seed);
	enum pk kind = r % 20 < 9 ? PK_V4 : r % 20 < 13 ? PK_V6 : r % 20 < 15 ? PK_VLAN :
		       r % 20 < 17 ? PK_ARP : PK_OPTS + rnd(seed) % (PK__N - PK_OPTS);

	s.l3 = kind == PK_V6 || kind == PK_EXT || (kind == PK_VLAN && (r >> 8) % 2) ? PS_IP6 :
	       kind == PK_ARP ? PS_ARP : PS_IP4;
	s.l4 = kind == PK_ARP ? PS_NONE : l4s[rnd(seed) % sizeof(l4s)];
	if (s.l3 == PS_IP6 && s.l4 == PS_ICMP)
		s.l4 = PS_ICMP6;
	s.src = 1 + rnd(seed) % 4;
	s.dst = rnd(seed) % 4 ? 1 + rnd(seed) % 3 : 100;	/* 100: loadbalancer's vip */
	s.sport = 1000 + rnd(seed) % 3;
	s.dport = dports[rnd(seed) % nd];
	if (s.l4 == PS_ICMP || s.l4 == PS_ICMP6) {
		s.sport = rnd(seed) % 2 ? 8 : 0;
		s.dport = 0;
	}
	s.flags = rnd(seed) & 0x3f;
	s.tos = rnd(seed) & 0xff;
	s.payload = rnd(seed) % 64;
	if (kind == PK_VLAN || (kind == PK_ARP && (r >> 12) % 3 == 0))
		s.vlan = 1 + rnd(seed) % 100;
	pkt_from_spec(p, &s);
	if (kind == PK_V6) {	/* a flow label */
		__u32 fl = rnd(seed);

		p->data[ETH_HLEN + 1] = (p->data[ETH_HLEN + 1] & 0xf0) | (fl & 0x0f);
		p->data[ETH_HLEN + 2] = fl >> 8;
		p->data[ETH_HLEN + 3] = fl >> 16;
	}
	if (s.l4 == PS_TCP && pkt_off(p, PL_TCP, 0) > 0) {	/* sequence numbers */
		int o = pkt_off(p, PL_TCP, 0);

		pkt_put32(p, o + 4, rnd(seed));
		pkt_put32(p, o + 8, rnd(seed));
	}
	switch (kind) {
	case PK_ARP: {
		/* now and then a reply, or another hardware type */
		int a = ETH_HLEN + (s.vlan ? 4 : 0);
		__u32 v = rnd(seed) % 8;

		if (v == 0)
			pkt_put16(p, a + 6, 2);
		else if (v == 1)
			pkt_put16(p, a, 6);
		break;
	}
	case PK_OPTS:
		pkt_set_ip4_ihl(p, 6);
		break;
	case PK_FRAG:
		pkt_put16(p, ETH_HLEN + 6, IP4_MF);
		break;
	case PK_EXT: {
		/* a hop-by-hop header in front of the payload: rebuild */
		struct ip6_args a6 = { .hlim = 64 };

		pkt_init(p);
		pkt_eth(p, TEST_MAC(2), TEST_MAC(1), 0);
		test_ip6(a6.src, s.src);
		test_ip6(a6.dst, s.dst);
		pkt_ip6(p, &a6);
		pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
		pkt_udp(p, s.sport, s.dport);
		pkt_finish(p);
		break;
	}
	case PK_SHORT:
		pkt_truncate(p, 14 + rnd(seed) % 20);
		break;
	case PK_BADLEN:
		pkt_set_ip4_totlen(p, 1400);
		break;
	default:
		break;
	}
	return kind;
}

/* Move every flow's timeout into the past, in both instances alike (hard
 * or idle, by the seed): the next packet of each finds it expired.  The
 * keys are gathered before anything is written: an LRU hash replaces an
 * updated element by a new one at the head of its bucket, so updating
 * while walking can send the walk round a bucket for ever. */
static void expire_table(const struct sides *sd, enum xfsm_map_id id, bool hard)
{
	int fa = G->inst->map_fd[id], fb = S->inst->map_fd[id];
	struct xfsm_flow_key *keys = NULL, *grown, nk = {}, ks;
	size_t n = 0, cap = 0, i;
	struct xfsm_flow x, y;
	int step;

	if (fa < 0 || fb < 0)
		return;
	for (step = bpf_map_get_next_key(fa, NULL, &nk); !step;
	     step = bpf_map_get_next_key(fa, &keys[n - 1], &nk)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!ASSERT_TRUE(grown != NULL, "flow keys"))
				goto out;
			keys = grown;
		}
		keys[n++] = nk;
	}
	for (i = 0; i < n; i++) {
		if (!key_in_s(sd, &keys[i], &ks))
			break;
		if (bpf_map_lookup_elem(fa, &keys[i], &x) || bpf_map_lookup_elem(fb, &ks, &y) ||
		    (!x.hard_deadline_ns && !x.idle_timeout_ms))
			continue;
		if (x.hard_deadline_ns && (!x.idle_timeout_ms || hard))
			x.hard_deadline_ns = y.hard_deadline_ns = 1;
		else
			x.last_seen_ns = y.last_seen_ns = 1;
		bpf_map_update_elem(fa, &keys[i], &x, BPF_EXIST);
		bpf_map_update_elem(fb, &ks, &y, BPF_EXIST);
	}
out:
	free(keys);
}

/* Both instances without history, then `file` applied to S alone, as an
 * earlier test case may apply to T alone. */
static bool apply_history(const char *file)
{
	struct xfsm_app_names names = { 0 };
	struct xfsm_image img;
	bool ok;

	xfsm_image_init(&img);
	ok = ASSERT_OK(xt_forget_histories(G, S), "forget the histories") &&
	     compile_named(file, &img, &names) &&
	     ASSERT_OK(apply_named(S, &img, &names), "apply (the specialized side's history)");
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
	return ok;
}

/* A walk given a history must compare instances that really differ in
 * where they count, key their flows and run the application. */
static bool histories_differ(const struct sides *sd)
{
	bool index = false;
	size_t i;

	for (i = 0; i < sd->g.n; i++)
		index |= sd->g.v[i].index != sd->s.v[i].index;
	return ASSERT_TRUE(index, "a statistics index differs between the instances") &&
	       ASSERT_TRUE(sd->epoch_g[0] != sd->epoch_s[0], "stage 0's epochs differ") &&
	       ASSERT_TRUE(xt_active_slot(G) != xt_active_slot(S), "the application slots differ");
}

/* The output groups, which the applications choose members from: a
 * group's table is rebuilt from the instance's previous one (the fewest
 * flows moved, lib/group.c), so a history could make the two differ, and
 * the walk would compare different inputs. */
static bool same_group_tables(void)
{
	struct xfsm_group a, b;
	unsigned int g;

	for (g = 0; g < XFSM_MAX_GROUPS; g++) {
		if (!ASSERT_OK(xfsm_group_read(G->inst, g, &a), "group (generic)") ||
		    !ASSERT_OK(xfsm_group_read(S->inst, g, &b), "group (specialized)"))
			return false;
		/* the generation counts changes; 0 is "no group" */
		a.generation = !!a.generation;
		b.generation = !!b.generation;
		if (!xt_check(!memcmp(&a, &b, sizeof(a)), __FILE__, __LINE__,
			      "group %u differs between the instances before the walk", g))
			return false;
	}
	return true;
}

static void expire_all(const struct sides *sd, __u32 *seed)
{
	const struct xfsm_flow_table_class *c;
	bool hard = rnd(seed) % 2;

	xfsm_for_each_flow_table(c)
		expire_table(sd, c->id, hard);
}

struct walk_app {
	const char *file;
	const __u16 *dports;
	unsigned int n_dports;
	bool timeouts;		/* the walk must see a flow expire */
	bool clock_regs;	/* registers hold times: not compared */
	bool small;		/* on the pair with a small plain hash of flows */
	bool (*setup)(void);	/* after apply, before generation */
	/* applied to the specialized instance alone first: a history of its
	 * own (other statistics indexes, epochs, application slot) */
	const char *history;
};

static const __u16 knock_ports[] = { 22, 1111, 2222, 3333, 4444, 53 };
static const __u16 any_ports[] = { 22, 53, 80, 443, 1000, 1001 };
static const __u16 nat_ports[] = { 22, 53, 80, 443, 9 };
static const __u16 vlan_ports[] = { 22, 53, 80, 443 };

/* Two real ifindexes in a private namespace (ports 1 and 2, both able to
 * send: tx ports), each instance alike. */
static bool two_ports(__u32 *in, __u32 *out)
{
	if (!ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)") ||
	    !ASSERT_OK(system("ip link add xsin type veth peer name xsout"), "ip link add veth"))
		return false;
	*in = if_nametoindex("xsin");
	*out = if_nametoindex("xsout");
	return ASSERT_TRUE(*in && *out, "veth ifindexes") &&
	       ASSERT_OK(xt_set_port(G, *in, 1), "port 1") &&
	       ASSERT_OK(xt_set_port(S, *in, 1), "port 1") &&
	       ASSERT_OK(xt_set_port(G, *out, 2), "port 2") &&
	       ASSERT_OK(xt_set_port(S, *out, 2), "port 2") &&
	       ASSERT_OK(xt_set_tx_port(G, 1, *in), "tx port 1") &&
	       ASSERT_OK(xt_set_tx_port(S, 1, *in), "tx port 1") &&
	       ASSERT_OK(xt_set_tx_port(G, 2, *out), "tx port 2") &&
	       ASSERT_OK(xt_set_tx_port(S, 2, *out), "tx port 2");
}

/* With the generic program gone from xfsm_progs, a packet the specialized
 * program hands back (IP options) is dropped uncounted: proof that it runs. */
static bool runs_specialized(void)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			      .dport = 2 };
	struct xfsm_stats st;
	__u32 k = XFSM_PROGS_GENERIC;
	struct xt_result res;
	struct pkt p;
	bool ok;

	pkt_from_spec(&p, &s);
	pkt_set_ip4_ihl(&p, 6);
	if (!ASSERT_OK(bpf_map_delete_elem(S->inst->map_fd[XFSM_M_PROGS], &k), "remove generic"))
		return false;
	ok = ASSERT_OK(xt_run_pkt(S, &p, 0, &res), "run") &&
	     ASSERT_EQ(res.verdict, XDP_PASS, "handed back without a generic program: pass") &&
	     ASSERT_OK(xfsm_read_stats(S->inst, &st), "stats") &&
	     ASSERT_EQ(st.rx_packets, 0, "a packet handed back is not counted by the specialized program");
	ASSERT_OK(bpf_map_update_elem(S->inst->map_fd[XFSM_M_PROGS], &k, &S->prog_fd, BPF_ANY),
		  "restore generic");
	return ok;
}

static void walk(const struct walk_app *wa)
{
	struct xfsm_spec_input in = { 0 };
	struct xfsm_app_names names = { 0 };
	struct sides sd = { 0 };
	struct xfsm_image img;
	__u32 seed = WALK_SEED, pin, pout, i, n_fast = 0, n_bail = 0;
	enum pk prev_kind = PK_V4;
	char why[256];
	struct pkt p;
	int fd = -1;

	G = wa->small ? &T2 : &T;
	S = wa->small ? &B2 : &B;
	ck_assert_msg(G->obj && S->obj, "datapath instances did not load");
	NEED_T();
	ck_assert_int_eq(xt_reset(G), 0);
	ck_assert_int_eq(xt_reset(S), 0);
	xfsm_image_init(&img);
	pkt_init(&p);
	if (!two_ports(&pin, &pout) || (wa->history && !apply_history(wa->history)) ||
	    !compile_named(wa->file, &img, &names) ||
	    !ASSERT_OK(apply_named(G, &img, &names), "apply (generic)") ||
	    !ASSERT_OK(apply_named(S, &img, &names), "apply (specialized)"))
		goto out;
	if ((wa->setup && !wa->setup()) || !same_group_tables())
		goto out;
	fd = generate(S, why, sizeof(why));
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "%s: generate and load: %s (%s)", wa->file,
		      strerror(fd < 0 ? -fd : 0), why))
		goto out;
	if (!install(S, fd) || !runs_specialized() ||
	    !ASSERT_OK(xfsm_spec_input_read(S->inst, xt_active_slot(S), &in), "input") ||
	    !sides_read(&sd, &in) || (wa->history && !histories_differ(&sd)))
		goto out;
	for (i = 0; i < walk_steps() && !xt_failures; i++) {
		struct xt_result ra, rb;
		__u32 ifindex = (i / 8) % 3 == 0 ? 0 : (i / 8) % 3 == 1 ? pin : pout;
		enum pk kind;

		if (i % 11 == 10) {
			/* the last packet again, its flow expired */
			expire_all(&sd, &seed);
			kind = prev_kind;
		} else if (i && rnd(&seed) % 3 == 0) {
			kind = prev_kind;	/* flows see several packets */
		} else {
			kind = random_pkt(&p, &seed, wa->dports, wa->n_dports);
		}
		prev_kind = kind;
		/* Halfway, the two interfaces swap port numbers: a program
		 * that knows the port table it was generated with must see
		 * it change. */
		if (i == walk_steps() / 2 &&
		    !(ASSERT_OK(xt_set_port(G, pin, 2), "swap ports") &&
		      ASSERT_OK(xt_set_port(S, pin, 2), "swap ports") &&
		      ASSERT_OK(xt_set_port(G, pout, 1), "swap ports") &&
		      ASSERT_OK(xt_set_port(S, pout, 1), "swap ports")))
			break;
		xt_set_context("%s, step %u (seed %#x), kind %d, ifindex %u", wa->file, i,
			       WALK_SEED, kind, ifindex);
		if (!ASSERT_OK(xt_run_pkt(G, &p, ifindex, &ra), "run generic") ||
		    !ASSERT_OK(xt_run_pkt(S, &p, ifindex, &rb), "run specialized"))
			break;
		if (!ASSERT_EQ(rb.verdict, ra.verdict, "verdict: specialized, generic") ||
		    !ASSERT_EQ(rb.len, ra.len, "output length") ||
		    !ASSERT_TRUE(!memcmp(ra.data, rb.data, ra.len), "output bytes") ||
		    !same_state(&sd, !wa->clock_regs))
			break;
		if (kind <= PK_ARP)
			n_fast++;
		else
			n_bail++;
	}
	xt_set_context("%s", wa->file);
	ASSERT_GE(n_fast, walk_steps() / 2, "fast-path packets");
	ASSERT_GE(n_bail, walk_steps() / 16, "packets handed back");
	if (getenv("XT_SPEC_COVER"))
		for (size_t r = 0; r < in.n_rules; r++) {
			__u64 rs[2];

			if (!read_sum(S, XFSM_M_RULE_STATS, in.rules[r].rule_id, rs, 2))
				fprintf(stderr, "%s: stage %u rule %u: %llu packets\n", wa->file,
					in.keys[r].stage, in.rules[r].image_id,
					(unsigned long long)rs[0]);
		}
	if (wa->timeouts && walk_steps() == WALK_STEPS) {	/* (short walks may not) */
		__u64 ss[8], expired = 0;

		for (i = 0; i < XFSM_STAGE_STATS_SLOTS; i++)
			if (!read_sum(G, XFSM_M_STAGE_STATS, i, ss, 8))
				expired += ss[6] + ss[7];
		ASSERT_GE(expired, 1, "flows expired during the walk");
	}
out:
	if (fd >= 0)
		close(fd);
	sides_free(&sd);
	xfsm_spec_input_free(&in);
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
}

#define WALK_TEST(name, path, ports, to, clk)				\
	START_TEST(test_walk_##name)						\
	{									\
		const struct walk_app wa = { path, ports, ARRAY_SIZE(ports), to, clk, false };	\
		walk(&wa);							\
		XT_END();							\
	}									\
	END_TEST

WALK_TEST(counter, "bench/ref/counter.xfsm", any_ports, false, false)
WALK_TEST(global, "bench/ref/global.xfsm", any_ports, false, false)
WALK_TEST(twostage, "bench/ref/twostage.xfsm", any_ports, false, false)
WALK_TEST(portknock, "examples/portknock.xfsm", knock_ports, true, false)
WALK_TEST(statefulfw, "examples/statefulfw.xfsm", any_ports, true, false)
WALK_TEST(ratelimit, "examples/ratelimit.xfsm", any_ports, false, true)
WALK_TEST(synflood, "examples/synflood.xfsm", any_ports, true, true)
WALK_TEST(maclearn, "examples/maclearn.xfsm", any_ports, true, false)
WALK_TEST(loadbalancer, "examples/loadbalancer.xfsm", any_ports, true, false)
WALK_TEST(mix, "selftests/spec/mix.xfsm", any_ports, true, false)
WALK_TEST(rewrite, "selftests/spec/rewrite.xfsm", nat_ports, false, false)
WALK_TEST(vlan, "selftests/spec/vlan.xfsm", vlan_ports, false, false)
WALK_TEST(arpresponder, "examples/arpresponder.xfsm", any_ports, false, false)
WALK_TEST(timeouts, "selftests/spec/timeouts.xfsm", any_ports, true, false)
WALK_TEST(consts, "selftests/spec/consts.xfsm", any_ports, false, false)

/*
 * The specialized instance with a history of its own: another application
 * (router: stage "route", counter "telnet") applied to it alone, as earlier
 * test cases apply to T alone.  Its stages and counter take other
 * statistics indexes, its stages other epochs, the application the other
 * slot: the walk must still compare each object with itself.
 */
START_TEST(test_walk_history)
{
	const struct walk_app wa = { "examples/synflood.xfsm", any_ports, ARRAY_SIZE(any_ports),
				     true, true, false, NULL, "examples/router.xfsm" };

	walk(&wa);
	XT_END();
}
END_TEST

/* Groups: member 4 is down in both instances; both run on one CPU (the
 * round-robin counters are per CPU).  Port 4 exists as the loader makes a
 * port of an interface (a made-up ifindex no packet arrives on): only a
 * port the instance has takes a flag. */
static bool group_setup(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	return ASSERT_OK(sched_setaffinity(0, sizeof(one), &one), "pin to one CPU") &&
	       ASSERT_OK(xt_set_port(G, 1004, 4), "port 4") &&
	       ASSERT_OK(xt_set_port(S, 1004, 4), "port 4") &&
	       ASSERT_OK(xfsm_port_set_down(G->inst, 4, true), "port 4 down") &&
	       ASSERT_OK(xfsm_port_set_down(S->inst, 4, true), "port 4 down");
}

START_TEST(test_walk_group)
{
	const struct walk_app wa = { "selftests/spec/group.xfsm", nat_ports, ARRAY_SIZE(nat_ports),
				     false, false, false, group_setup };
	static const __u16 ports[] = { 22, 53, 80, 443, 1000, 1001 };
	const struct walk_app wb = { "selftests/spec/group.xfsm", ports, ARRAY_SIZE(ports),
				     false, false, false, group_setup };
	struct xfsm_group_stats gs;
	cpu_set_t all;
	unsigned int g;
	__u64 sent = 0, skipped = 0, empty = 0;

	CPU_ZERO(&all);
	sched_getaffinity(0, sizeof(all), &all);
	walk(&wa);
	walk(&wb);
	sched_setaffinity(0, sizeof(all), &all);
	/* the walk saw every outcome */
	for (g = 1; g <= 9 && !xt_failures; g++) {
		unsigned int m;

		if (!ASSERT_OK(xfsm_group_read_stats(T.inst, g, &gs), "group stats"))
			break;
		for (m = 0; m < XFSM_GROUP_MAX_MEMBERS; m++)
			sent += gs.member[m];
		skipped += gs.skipped;
		empty += gs.empty;
	}
	ASSERT_GE(sent, 10, "packets sent to members");
	ASSERT_GE(skipped, 1, "a down member skipped");
	ASSERT_GE(empty, 1, "an empty group");
	XT_END();
}
END_TEST

/* A flow table that fills up: the stage's table-full action (continue for
 * the counter, drop for mix), its counters and exc_flow_table_full. */
START_TEST(test_walk_full)
{
	static const struct walk_app apps[] = {
		{ "bench/ref/counter.xfsm", any_ports, ARRAY_SIZE(any_ports), false, false, true },
		{ "selftests/spec/mix.xfsm", any_ports, ARRAY_SIZE(any_ports), false, false, true },
	};
	struct xfsm_stats st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(apps) && !xt_failures; i++) {
		walk(&apps[i]);
		xt_set_context("%s, small table", apps[i].file);
		if (ASSERT_OK(xfsm_read_stats(T2.inst, &st), "stats"))
			ASSERT_GE(st.exc_flow_table_full, 1, "the table filled up");
	}
	XT_END();
}
END_TEST

/* ---- Both datapaths at once ------------------------------------------------- */

struct runner {
	pthread_t	tid;
	int		cpu, fd, err;
	const struct pkt *p;
	__u32		repeat;
	pthread_barrier_t *start;
};

static void *run_on_cpu(void *arg)
{
	struct runner *r = arg;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->p->data, .data_size_in = r->p->len,
		    .repeat = r->repeat);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(r->start);
	r->err = bpf_prog_test_run_opts(r->fd, &o) ? -errno : 0;
	return NULL;
}

/* Run program fds[0] on CPU 0 and fds[1] on CPU 1 at once, `repeat`
 * times each, packet p. */
static void run_both(const int fds[2], const struct pkt *p, __u32 repeat)
{
	struct runner r[2] = { { .cpu = 0 }, { .cpu = 1 } };
	pthread_barrier_t start;
	__u32 i;

	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i].fd = fds[i];
		r[i].p = p;
		r[i].repeat = repeat;
		r[i].start = &start;
		ck_assert_int_eq(pthread_create(&r[i].tid, NULL, run_on_cpu, &r[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(r[i].tid, NULL);
		ASSERT_OK(r[i].err, "test run");
	}
	pthread_barrier_destroy(&start);
}

/* Apply `file` to B, generate its program and run both at once on p,
 * the generic one on CPU 0 (an observer keeps it from tail-calling the
 * specialized one) and the specialized one on CPU 1; false when they
 * could not run. */
static bool run_app_both(const char *file, const struct pkt *p, __u32 repeat)
{
	struct xfsm_image img;
	char why[256];
	bool ok = false;
	int fd = -1;

	xfsm_image_init(&img);
	if (!compile(file, &img) || !ASSERT_OK(xt_apply(&B, &img), "apply"))
		goto out;
	fd = generate(&B, why, sizeof(why));
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "%s: %s", file, why) ||
	    !ASSERT_OK(xfsm_ctl_set_observe(B.inst, XFSM_OBS_EVENTS, true), "observer on"))
		goto out;
	run_both((const int[2]){ B.prog_fd, fd }, p, repeat);
	ok = ASSERT_OK(xfsm_ctl_set_observe(B.inst, XFSM_OBS_EVENTS, false), "observer off");
out:
	if (fd >= 0)
		close(fd);
	xfsm_image_free(&img);
	return ok;
}

/*
 * The same flow updated under its lock by the generic program on one CPU
 * and by the specialized one on the other: both must take the same
 * striped lock (flow_lock()'s hash) and the same globals' lock, or
 * updates are lost.
 */
START_TEST(test_shared_locks)
{
	__u32 repeat = getenv("XT_EMULATED") ? 20000 : 300000, zero = 0;
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_flow_key key;
	struct xfsm_globals g;
	struct xfsm_flow f;
	struct pkt p;

	ck_assert_msg(B.obj, "second datapath instance did not load");
	ck_assert_int_eq(xt_reset(&B), 0);
	if (libbpf_num_possible_cpus() < 2)
		return;	/* nothing runs at once */
	pkt_from_spec(&p, &ps);
	if (!run_app_both("selftests/spec/locked.xfsm", &p, repeat))
		goto out;
	if (ASSERT_OK(xt_find_flow(&B, 0, w, &key, &f), "the flow")) {
		ASSERT_EQ(f.regs[0], 2ULL * repeat, "no update lost (register)");
		ASSERT_EQ(f.version, 2 * repeat, "no update lost (version)");
	}
	if (ASSERT_OK(bpf_map_lookup_elem(B.inst->map_fd[XFSM_M_GLOBALS], &zero, &g), "globals"))
		ASSERT_EQ(g.reg[0], 2ULL * repeat, "no global update lost");
out:
	XT_END();
}
END_TEST

/* The same for a compare-and-swap chain (XFSM_RF_FLOW_CAS): the two
 * programs' loops, fast and slow paths, must agree (the slow count in the
 * flow's flags, the striped lock). */
START_TEST(test_shared_cas)
{
	__u32 repeat = getenv("XT_EMULATED") ? 20000 : 300000, i;
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_stats st;
	struct xfsm_flow f;
	__u64 want = 0;
	struct pkt p;

	ck_assert_msg(B.obj, "second datapath instance did not load");
	ck_assert_int_eq(xt_reset(&B), 0);
	if (libbpf_num_possible_cpus() < 2)
		return;	/* nothing runs at once */
	pkt_from_spec(&p, &ps);
	if (!run_app_both("selftests/spec/cas.xfsm", &p, repeat))
		goto out;
	for (i = 0; i < 2 * repeat; i++)
		want = (want * 3 + 1) % 1000003;
	if (ASSERT_OK(xt_find_flow(&B, 0, w, NULL, &f), "the flow")) {
		ASSERT_EQ(f.regs[0], want, "the chain applied 2N times in a row");
		ASSERT_EQ(f.flags & XFSM_FF_CAS_SLOW, 0, "no writer left on the slow path");
	}
	if (ASSERT_OK(xfsm_read_stats(B.inst, &st), "stats"))
		ASSERT_EQ(st.exc_cas_exhausted, 0, "no compare-and-swap gave up");
out:
	XT_END();
}
END_TEST

/* The empty application: counters and the default verdict only. */
START_TEST(test_walk_empty)
{
	struct xfsm_spec_input in = { 0 };
	struct sides sd = { 0 };
	struct xfsm_image img;
	__u32 seed = WALK_SEED, i;
	char why[256];
	int fd = -1;

	G = &T;
	S = &B;
	ck_assert_msg(B.obj, "second datapath instance did not load");
	NEED_T();
	ck_assert_int_eq(xt_reset(&B), 0);
	xfsm_image_init(&img);
	img.app.default_verdict = XFSM_VERDICT_DROP;
	if (!ASSERT_OK(xt_apply(&T, &img), "apply") || !ASSERT_OK(xt_apply(&B, &img), "apply"))
		goto out;
	fd = generate(&B, why, sizeof(why));
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "empty: %s", why) || !install(&B, fd) ||
	    !runs_specialized() ||
	    !ASSERT_OK(xfsm_spec_input_read(B.inst, xt_active_slot(&B), &in), "input") ||
	    !sides_read(&sd, &in))
		goto out;
	for (i = 0; i < 60 && !xt_failures; i++) {
		struct xt_result ra, rb;
		struct pkt p;
		enum pk kind = random_pkt(&p, &seed, any_ports, ARRAY_SIZE(any_ports));

		xt_set_context("empty, step %u, kind %d", i, kind);
		if (!ASSERT_OK(xt_run_pkt(&T, &p, 0, &ra), "run") ||
		    !ASSERT_OK(xt_run_pkt(&B, &p, 0, &rb), "run") ||
		    !ASSERT_EQ(rb.verdict, ra.verdict, "verdict") || !same_state(&sd, true))
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	sides_free(&sd);
	xfsm_spec_input_free(&in);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* A frame of each layout for test_fast_layouts(). */
enum layout {
	L_IP4_UDP, L_IP4_TCP, L_IP6_UDP, L_ARP, L_Q_IP4, L_AD_IP4, L_Q_IP6, L_QINQ,
	L_IP4_FRAG, L_IP4_MF, L_IP4_DF, L_ARP_SHORT, L_OTHER,
};

static void layout_frame(struct pkt *p, enum layout l)
{
	struct ip4_args a4 = { .src = TEST_IP4(1), .dst = TEST_IP4(2) };
	struct ip6_args a6 = { 0 };

	test_ip6(a6.src, 1);
	test_ip6(a6.dst, 2);
	pkt_init(p);
	pkt_eth(p, TEST_MAC(2), TEST_MAC(1), l == L_OTHER ? 0x88b5 : 0);
	if (l == L_Q_IP4 || l == L_Q_IP6)
		pkt_vlan(p, ETHERTYPE_8021Q, 7);
	if (l == L_AD_IP4 || l == L_QINQ)
		pkt_vlan(p, ETHERTYPE_8021AD, 7);
	if (l == L_QINQ)
		pkt_vlan(p, ETHERTYPE_8021Q, 8);
	a4.frag = l == L_IP4_FRAG ? 3 : l == L_IP4_MF ? IP4_MF : l == L_IP4_DF ? IP4_DF : 0;
	switch (l) {
	case L_IP6_UDP:
	case L_Q_IP6:
		pkt_ip6(p, &a6);
		pkt_udp(p, 1, 2);
		break;
	case L_ARP:
	case L_ARP_SHORT:
		pkt_arp(p, 1, TEST_MAC(1), TEST_IP4(1), 0, TEST_IP4(2));
		break;
	case L_OTHER:
		pkt_raw(p, 46, 0);
		break;
	case L_IP4_TCP:
		pkt_ip4(p, &a4);
		pkt_tcp(p, 1, 2, TCPF_SYN, 0);
		break;
	default:
		pkt_ip4(p, &a4);
		pkt_udp(p, 1, 2);
		break;
	}
	pkt_finish(p);
	if (l == L_ARP_SHORT) {
		/* not Ethernet/IPv4 (hardware type 6): no address fields
		 * to read, only the operation, in 22 bytes */
		p->data[ETH_HLEN + 1] = 6;
		pkt_truncate(p, 33);
	}
}

/* Which layouts the specialized program runs itself and which it hands
 * back, told apart with the generic program gone from xfsm_progs (a
 * packet handed back then passes uncounted): the ethertypes it compares
 * as the frame holds them, IPv4 first; a fragment's bits tested without
 * a byte swap; and a frame shorter than an Ethernet and an IPv4 header
 * (34 bytes), here an ARP request of another hardware type (its 8-byte
 * header would do), handed back by the parser's first check. */
START_TEST(test_fast_layouts)
{
	static const struct {
		enum layout l;
		const char *what;
		bool fast;
	} cases[] = {
		{ L_IP4_UDP, "IPv4/UDP", true },
		{ L_IP4_TCP, "IPv4/TCP", true },
		{ L_IP6_UDP, "IPv6/UDP", true },
		{ L_ARP, "ARP", true },
		{ L_Q_IP4, "802.1Q, IPv4", true },
		{ L_AD_IP4, "802.1ad, IPv4", true },
		{ L_Q_IP6, "802.1Q, IPv6", true },
		{ L_IP4_DF, "IPv4, don't fragment", true },
		{ L_QINQ, "two tags", false },
		{ L_IP4_FRAG, "IPv4 fragment (offset)", false },
		{ L_IP4_MF, "IPv4 fragment (more fragments)", false },
		{ L_ARP_SHORT, "ARP (IEEE 802 hardware), 33 bytes", false },
		{ L_OTHER, "another ethertype", false },
	};
	__u32 k = XFSM_PROGS_GENERIC;
	struct xfsm_image img;
	__u64 seen = 0;
	size_t i;
	char why[256];
	int fd = -1;

	S = &B;
	ck_assert_msg(B.obj, "second datapath instance did not load");
	ck_assert_int_eq(xt_reset(&B), 0);
	xfsm_image_init(&img);
	img.app.default_verdict = XFSM_VERDICT_DROP;
	if (!ASSERT_OK(xt_apply(&B, &img), "apply"))
		goto out;
	fd = generate(&B, why, sizeof(why));
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "empty: %s", why) || !install(&B, fd) ||
	    !ASSERT_OK(bpf_map_delete_elem(B.inst->map_fd[XFSM_M_PROGS], &k), "remove generic"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(cases) && !xt_failures; i++) {
		struct xfsm_stats st;
		struct xt_result res;
		struct pkt p;

		xt_set_context("%s", cases[i].what);
		layout_frame(&p, cases[i].l);
		if (!ASSERT_OK(xt_run_pkt(&B, &p, 0, &res), "run") ||
		    !ASSERT_OK(xfsm_read_stats(B.inst, &st), "stats"))
			break;
		seen += cases[i].fast;
		ASSERT_EQ(res.verdict, cases[i].fast ? XDP_DROP : XDP_PASS,
			  cases[i].fast ? "run by the specialized program: the default verdict" :
					  "handed back, no generic program: pass");
		ASSERT_EQ(st.rx_packets, seen, "packets the specialized program counted");
	}
	xt_set_context("%s", "fast layouts");
	ASSERT_OK(bpf_map_update_elem(B.inst->map_fd[XFSM_M_PROGS], &k, &B.prog_fd, BPF_ANY),
		  "restore generic");
out:
	if (fd >= 0)
		close(fd);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* ---- The guard ------------------------------------------------------------- */

/* A generated program run by itself (as it runs attached to an interface)
 * runs the packet only while the switch that installed it is the last one
 * (xfsm_ctl's generation is its application's) and nobody observes; else
 * the program in xfsm_progs[2] does, here a marker that returns XDP_TX.
 * Without the guard the generated program would run its own application
 * after a switch, even after a later switch back to its slot installed
 * other rules there, and hide packets from trace. */
static int load_marker(void)
{
	struct xfsm_emit e;
	int fd;

	xfsm_emit_init(&e);
	xfsm_emit(&e, XI_MOV64_IMM(XR0, XDP_TX));
	xfsm_emit(&e, XI_EXIT());
	fd = xfsm_emit_finish(&e) ? -EINVAL : xfsm_emit_load(&e, "xfsm_marker");
	xfsm_emit_free(&e);
	return fd;
}

static bool ctl_set(struct xt *t, __u32 active, __u32 generation, __u32 observe)
{
	struct xfsm_ctl c;
	__u32 zero = 0;

	return ASSERT_OK(xfsm_ctl_get(t->inst, &c), "read xfsm_ctl") &&
	       (c.active = active, c.generation = generation, c.observe = observe,
		ASSERT_OK(bpf_map_update_elem(t->inst->map_fd[XFSM_M_CTL], &zero, &c, BPF_ANY),
			  "write xfsm_ctl"));
}

START_TEST(test_guard)
{
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	static const struct {
		int later;	/* switches since */
		int observe;
		__u32 verdict;
		const char *what;
	} cases[] = {
		{ 0, 0, XDP_DROP, "its switch the last, no observer: the application's verdict" },
		{ 1, 0, XDP_TX, "after a switch to the other slot: the generic program's" },
		{ 2, 0, XDP_TX, "after a switch back to its slot: the generic program's" },
		{ 0, XFSM_OBS_TRACE, XDP_TX, "trace listening: the generic program's" },
		{ 0, XFSM_OBS_EVENTS, XDP_TX, "monitor listening: the generic program's" },
		{ 0, 0, XDP_DROP, "its switch the last again: the application's verdict" },
	};
	__u32 k = XFSM_PROGS_GENERIC;
	int fd = -1, marker = -1, entry = B.prog_fd;
	struct xfsm_image img;
	struct xfsm_ctl saved;
	char why[256];
	struct pkt p;
	size_t i;

	S = &B;
	ck_assert_msg(B.obj, "second datapath instance did not load");
	ck_assert_int_eq(xt_reset(&B), 0);
	xfsm_image_init(&img);
	img.app.default_verdict = XFSM_VERDICT_DROP;
	pkt_from_spec(&p, &ps);
	if (!ASSERT_OK(xt_apply(&B, &img), "apply") ||
	    !ASSERT_OK(xfsm_ctl_get(B.inst, &saved), "read xfsm_ctl"))
		goto out;
	fd = generate(&B, why, sizeof(why));
	marker = load_marker();
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "generate: %s", why) ||
	    !ASSERT_TRUE(marker >= 0, "load the marker") ||
	    !ASSERT_OK(bpf_map_update_elem(B.inst->map_fd[XFSM_M_PROGS], &k, &marker, BPF_ANY),
		       "marker into xfsm_progs[2]"))
		goto out;
	B.prog_fd = fd;		/* the generated program, entered by nothing */
	for (i = 0; i < ARRAY_SIZE(cases) && !xt_failures; i++) {
		struct xt_result res;

		xt_set_context("%s", cases[i].what);
		if (!ctl_set(&B, saved.active ^ (cases[i].later & 1),
			     saved.generation + cases[i].later, cases[i].observe) ||
		    !ASSERT_OK(xt_run_pkt(&B, &p, 0, &res), "run"))
			break;
		ASSERT_EQ(res.verdict, cases[i].verdict, cases[i].what);
	}
	xt_set_context("%s", "guard");
	B.prog_fd = entry;
	ctl_set(&B, saved.active, saved.generation, saved.observe);
	ASSERT_OK(bpf_map_update_elem(B.inst->map_fd[XFSM_M_PROGS], &k, &B.prog_fd, BPF_ANY),
		  "restore generic");
out:
	B.prog_fd = entry;
	if (fd >= 0)
		close(fd);
	if (marker >= 0)
		close(marker);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* ---- Refusals ----------------------------------------------------------------- */

/* A large stage (searched, not compared inline) whose 300 rules behave in
 * more ways than the specializer generates: it refuses the application. */
static bool compile_many_behaviours(struct xfsm_image *img)
{
	size_t cap = 64 * 400, len = 0;
	char *src = malloc(cap), cerr[256] = "";
	bool ok;
	int r;

	xfsm_image_init(img);
	if (!ASSERT_TRUE(src != NULL, "malloc"))
		return false;
	len += snprintf(src + len, cap - len, "app big\nstage s {\nkey ip.src\n");
	for (r = 0; r < 300; r++)
		len += snprintf(src + len, cap - len,
				"rule r%d when udp.dport == %d => mark = %d, drop\n", r, r + 1, r);
	snprintf(src + len, cap - len, "}\n");
	ok = ASSERT_OK(xfsm_compile_string("big.xfsm", src, strlen(src), img, NULL, cerr,
					   sizeof(cerr)), cerr);
	free(src);
	return ok;
}

START_TEST(test_refuse)
{
	char why[256];
	int err;

	NEED_T();
	/* an action the specializer does not know (router's, made unknown):
	 * the message names the stage, rule and action */
	{
		struct xfsm_spec_input in;
		struct xfsm_image img;
		struct xfsm_emit e;

		xfsm_image_init(&img);
		if (compile("examples/router.xfsm", &img) && ASSERT_OK(xt_apply(&T, &img), "apply") &&
		    ASSERT_OK(xfsm_spec_input_read(T.inst, xt_active_slot(&T), &in), "input")) {
			((struct xfsm_rule *)in.rules)[0].act[0].type = XFSM_ACT__MAX;
			xfsm_emit_init(&e);
			err = xfsm_spec_generate(T.inst, &in, &e);
			xt_set_context("unknown action: %s", e.why);
			ASSERT_EQ(err, -EOPNOTSUPP, "refused");
			ASSERT_TRUE(strstr(e.why, "stage 0") && strstr(e.why, "rule") &&
				    strstr(e.why, "action 0") && strstr(e.why, "'unknown'"),
				    "the message names the stage, rule and action");
			xfsm_emit_free(&e);
			xfsm_spec_input_free(&in);
		}
		xfsm_image_free(&img);
	}
	/* a large stage (searched, not compared inline) whose rules behave
	 * in more ways than the specializer generates */
	{
		struct xfsm_image img;

		if (compile_many_behaviours(&img) && ASSERT_OK(xt_apply(&T, &img), "apply")) {
			err = generate(&T, why, sizeof(why));
			xt_set_context("300 rules: %s", why);
			ASSERT_EQ(err, -EOPNOTSUPP, "refused");
			ASSERT_TRUE(strstr(why, "stage 0: 300 rules of more than 64"),
				    "the message names the stage");
		}
		xfsm_image_free(&img);
	}
	/* an ACL stage */
	{
		struct xfsm_spec_input in = { 0 };
		struct xfsm_app app = { .n_stages = 1 };
		struct xfsm_emit e;

		app.stages[0].kind = XFSM_STAGE_ACL;
		in.app = &app;
		xfsm_emit_init(&e);
		ASSERT_EQ(xfsm_spec_generate(T.inst, &in, &e), -EOPNOTSUPP, "ACL stage refused");
		ASSERT_TRUE(strstr(e.why, "ACL") && strstr(e.why, "stage 0"), e.why);
		xfsm_emit_free(&e);
	}
	XT_END();
}
END_TEST

/* The golden suites' reruns on the specialized datapath (XT_DATAPATH,
 * selftests/run.sh) check every apply with xt_datapath_check(): a table
 * the generic datapath runs is reported under auto and fails the run
 * under specialized, whatever the library returned. */
START_TEST(test_datapath_check)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .datapath = XFSM_DP_AUTO,
		  .unchecked_ports = true);
	struct xfsm_image img;

	NEED_T();
	/* the specializer refuses it: the generic datapath runs it */
	if (compile_many_behaviours(&img) &&
	    ASSERT_OK(xfsm_apply(T.inst, &img, &o), "apply (auto)")) {
		setenv("XT_DATAPATH", "generic", 1);
		ASSERT_OK(xt_datapath_check(&T), "generic asked for: nothing to check");
		setenv("XT_DATAPATH", "auto", 1);
		ASSERT_OK(xt_datapath_check(&T), "auto: reported, not a failure");
		setenv("XT_DATAPATH", "specialized", 1);
		ASSERT_EQ(xt_datapath_check(&T), -EPROTO, "specialized: running generic fails");
		ASSERT_TRUE(xt_apply(&T, &img) < 0, "specialized: xt_apply fails");
	}
	/* and a table the specializer takes passes the check */
	xfsm_image_free(&img);
	xfsm_image_init(&img);
	img.app.default_verdict = XFSM_VERDICT_DROP;
	ASSERT_OK(xt_apply(&T, &img), "specialized: the empty application");
	ASSERT_OK(xt_datapath_check(&T), "specialized: its program runs");
	unsetenv("XT_DATAPATH");
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* ---- Notes of large stages and ACL stages (show program) ------------------------ */

/* Generate the program of the application `src` applied on T into *e
 * (the caller's to free), not loaded. */
/* The program of `src` as applied to T, generated into *e (the caller's to
 * free); with count groups into *cg when cg is set. */
static bool generate_src_cg(const char *src, struct xfsm_emit *e, struct xfsm_cg_table *cg)
{
	struct xfsm_spec_input in;
	struct xfsm_app_names nm;
	struct xfsm_image img;
	char cerr[256] = "";
	bool ok = false;
	int err;

	xfsm_image_init(&img);
	xfsm_emit_init(e);
	/* (the language's apply: it installs the ACL blocks' rules too) */
	if (!ASSERT_OK(xfsm_compile_string("gen.xfsm", src, strlen(src), &img, &nm, cerr,
					   sizeof(cerr)), cerr))
		goto out;
	err = xfsm_lang_apply(T.inst, &img, &nm, NULL);
	xfsm_app_names_free(&nm);
	if (!ASSERT_TRUE(err >= 0, "apply"))
		goto out;
	if (!ASSERT_OK(xfsm_spec_input_read(T.inst, xt_active_slot(&T), &in), "input"))
		goto out;
	in.groups = cg;
	ok = ASSERT_OK(xfsm_spec_generate(T.inst, &in, e), e->why);
	xfsm_spec_input_free(&in);
out:
	xfsm_image_free(&img);
	return ok;
}

static bool generate_src(const char *src, struct xfsm_emit *e)
{
	return generate_src_cg(src, e, NULL);
}

/* True when a note of the program of `src` contains `want`. */
static bool note_has(const char *src, const char *want)
{
	struct xfsm_emit e;
	bool found = false;
	size_t i;

	if (generate_src(src, &e))
		for (i = 0; i < e.n_note && !found; i++)
			found = strstr(e.note[i].text, want) != NULL;
	xfsm_emit_free(&e);
	return found;
}

START_TEST(test_notes)
{
	static const char acl[] =
		"app a\ndefault pass\nacl f {\n\tmiss allow\n"
		"\trule prio 9 src 198.18.0.0/24 proto 17 dport 53 => deny\n}\n"
		"stage s {\n\tkey ip.src\n\trule r when l4.dport == 7 => drop\n}\n";
	size_t cap = 300 * 64, len = 0;
	char *big = malloc(cap);
	int r;

	NEED_T();
	ck_assert_ptr_nonnull(big);
	ASSERT_TRUE(note_has(acl, "ACL rule, order 0: id 1 prio 9 src 198.18.0.0/24 proto 17 dport 53 => deny"),
		    "the ACL rule is named with its text");
	len += snprintf(big + len, cap - len, "app big\nstage s {\nkey ip.src\n");
	for (r = 0; r < 300; r++)
		len += snprintf(big + len, cap - len, "rule r%d when udp.dport == %d => %s\n",
				r, r + 1, r % 2 ? "drop" : "pass");
	snprintf(big + len, cap - len, "}\n");
	ASSERT_TRUE(note_has(big, "tuple search over xfsm_rules (300 rules, 2 behaviours)"),
		    "the search is named with its rules and behaviours");
	ASSERT_TRUE(note_has(big, "stage 0: tuple 0"), "the tuple searched is named");
	free(big);
	XT_END();
}
END_TEST

/* ---- Constant operands of updates (lib/spec/update.c) ------------------------- */

/* How many instructions of e have opcode `code` (and, for an immediate
 * form, the immediate imm; any when imm is -1). */
static unsigned int count_op(const struct xfsm_emit *e, __u8 code, __s64 imm)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < e->n; i++)
		n += e->insn[i].code == code && (imm < 0 || e->insn[i].imm == imm);
	return n;
}

/* A constant second operand is an immediate: a division or remainder by
 * a power of two a shift or a mask, by another constant an immediate
 * division without the zero test; only a divisor held in a register (or
 * 0, counted) keeps the division by register.  (selftests/spec/consts.xfsm
 * walks the same forms against the generic datapath.) */
START_TEST(test_update_consts)
{
	static const char head[] = "app c\ndefault pass\nglobal 0 g\nstage s {\nkey ip.src\n"
				   "register 0 x\nregister 1 y\nregister 2 z\n";
	static const struct {
		const char *rule;
		__u8 code;		/* wanted, with imm */
		__s32 imm;
	} cases[] = {
		{ "rule r => x = x % 16, y = y + 1, pass", BPF_ALU64 | BPF_AND | BPF_K, 15 },
		{ "rule r => x = x / 8, y = y + 1, pass", BPF_ALU64 | BPF_RSH | BPF_K, 3 },
		{ "rule r => x = x % 7, y = y + 1, pass", BPF_ALU64 | BPF_MOD | BPF_K, 7 },
		{ "rule r => x = x / 1000003, y = y + 1, pass", BPF_ALU64 | BPF_DIV | BPF_K, 1000003 },
		{ "rule r => x = x % 4294967296, y = y + 1, pass", BPF_ALU64 | BPF_LSH | BPF_K, 32 },
		{ "rule r => x = x * 3, x = x + 1, x = x % 4096, pass", BPF_ALU64 | BPF_AND | BPF_K, 4095 },
		{ "rule r => x = x << 70, y = y ^ 5, pass", BPF_ALU64 | BPF_LSH | BPF_K, 6 },
		{ "rule r => g = g % 65536, pass", BPF_ALU64 | BPF_AND | BPF_K, 65535 },
	};
	char src[512];
	struct xfsm_emit e;
	size_t i;

	NEED_T();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(src, sizeof(src), "%s%s\n}\n", head, cases[i].rule);
		xt_set_context("%s", cases[i].rule);
		if (generate_src(src, &e)) {
			ASSERT_EQ(count_op(&e, BPF_ALU64 | BPF_DIV | BPF_X, -1) +
				  count_op(&e, BPF_ALU64 | BPF_MOD | BPF_X, -1), 0,
				  "no division by a register");
			ASSERT_GE(count_op(&e, cases[i].code, cases[i].imm), 1, "the immediate form");
		}
		xfsm_emit_free(&e);
	}
	/* a register divisor, and 0, keep the division by register (0 counted) */
	for (i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), "%srule r => x = x %% %s, y = y + 1, pass\n}\n", head,
			 i ? "0" : "y");
		xt_set_context("x %% %s", i ? "0" : "y");
		if (generate_src(src, &e))
			ASSERT_GE(count_op(&e, BPF_ALU64 | BPF_MOD | BPF_X, -1), 1, "division by register");
		xfsm_emit_free(&e);
	}
	xt_set_context("%s", "");
	XT_END();
}
END_TEST

/* ---- Count groups (xfsm_spec_input.groups) ------------------------------------ */

/* How many instructions of e name map `map`. */
static unsigned int map_refs(const struct xfsm_emit *e, enum xfsm_map_id map)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < e->n; i++)
		n += e->insn[i].code == (BPF_LD | BPF_DW | BPF_IMM) &&
		     e->insn[i].src_reg == BPF_PSEUDO_MAP_FD && e->insn[i].imm == T.inst->map_fd[map];
	return n;
}

/* Is (space, index, off, bytes) among group g's members? */
static bool cg_has(const struct xfsm_cg_table *t, unsigned int g, __u8 space, __u32 index,
		   size_t off, bool bytes)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->m[i].group == g && t->m[i].space == space && t->m[i].index == index &&
		    t->m[i].off == off && t->m[i].bytes == bytes)
			return true;
	return false;
}

static unsigned int cg_size(const struct xfsm_cg_table *t, unsigned int g)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		n += t->m[i].group == g;
	return n;
}

/* No two groups of t stand for the same counters (a set met again is
 * the group interned for it the first time). */
static bool cg_distinct(const struct xfsm_cg_table *t)
{
	unsigned int g, h;
	size_t i, j;

	for (g = 0; g < t->n_groups; g++)
		for (h = g + 1; h < t->n_groups; h++) {
			bool same = cg_size(t, g) == cg_size(t, h);

			for (i = 0; same && i < t->n; i++) {
				if (t->m[i].group != g)
					continue;
				for (j = 0; j < t->n; j++)
					if (t->m[j].group == h && t->m[j].space == t->m[i].space &&
					    t->m[j].index == t->m[i].index &&
					    t->m[j].off == t->m[i].off && t->m[j].bytes == t->m[i].bytes)
						break;
				same = j < t->n;
			}
			if (same)
				return false;
		}
	return true;
}

/*
 * With count groups each way out of a one-stage application increments
 * one pair: a rule's exit the group of the datapath's rx pair, the stage's
 * packets, bytes and hits, the rule's pair, the verdict action's and the
 * verdict's counters (9), the miss's the rx pair, the stage's packets,
 * bytes and misses and the verdict's (6); the rules' statistics are not
 * looked up.  Without a table the program is the one counting each
 * counter; with more ways out than a slot has groups, too.
 */
START_TEST(test_count_groups)
{
	static const char src[] = "app k\ndefault pass\nstage s {\nkey ip.src\nmiss pass\n"
				  "rule a when tcp.dport == 22 => drop\n"
				  "rule b when udp.dport == 53 => pass\n}\n";
	struct xfsm_cg_table t = { 0 };
	struct xfsm_spec_input in;
	__u32 ra = 0, rb = 0, st;
	size_t cap = 300 * 64, len = 0, i;
	struct xfsm_emit e;
	char *big = NULL;
	int ga = -1, gb = -1, gm = -1, r;

	NEED_T();
	if (!generate_src_cg(src, &e, &t))
		goto out;
	ASSERT_EQ(map_refs(&e, XFSM_M_RULE_STATS), 0, "no rule statistics lookup");
	xfsm_emit_free(&e);
	if (!ASSERT_OK(xfsm_spec_input_read(T.inst, xt_active_slot(&T), &in), "input"))
		goto out;
	st = in.app->stages[0].stats_id;
	xfsm_spec_input_free(&in);
	ASSERT_EQ(t.n_groups, 3, "three ways out: three groups");
	/* the rules' groups by their verdicts: a drops, b passes */
	for (i = 0; i < t.n; i++) {
		const struct xfsm_cg_member *m = &t.m[i];

		if (m->space != XFSM_CG_DATAPATH)
			continue;
		if (m->off == offsetof(struct xfsm_stats, act_drop))
			ga = m->group;
		if (m->off == offsetof(struct xfsm_stats, act_pass))
			gb = m->group;
	}
	for (i = 0; i < t.n_groups; i++)
		if ((int)i != ga && (int)i != gb)
			gm = (int)i;
	if (!ASSERT_TRUE(ga >= 0 && gb >= 0 && ga != gb && gm >= 0, "a group per rule, one for the miss"))
		goto out;
	for (i = 0; i < t.n; i++)
		if (t.m[i].space == XFSM_CG_RULE && t.m[i].group == ga)
			ra = t.m[i].index;
		else if (t.m[i].space == XFSM_CG_RULE && t.m[i].group == gb)
			rb = t.m[i].index;
	ASSERT_TRUE(ra != rb, "each rule its own statistics index");
#define DP(f)	XFSM_CG_DATAPATH, 0, offsetof(struct xfsm_stats, f)
#define SS(f)	XFSM_CG_STAGE, st, offsetof(struct xfsm_stage_stats, f)
#define RS(r, f) XFSM_CG_RULE, r, offsetof(struct xfsm_rule_stats, f)
	ASSERT_EQ(cg_size(&t, ga), 9, "rule a's group: nine counters");
	ASSERT_TRUE(cg_has(&t, ga, DP(rx_packets), false) && cg_has(&t, ga, DP(rx_bytes), true) &&
		    cg_has(&t, ga, SS(packets), false) && cg_has(&t, ga, SS(bytes), true) &&
		    cg_has(&t, ga, SS(hits), false) && cg_has(&t, ga, RS(ra, packets), false) &&
		    cg_has(&t, ga, RS(ra, bytes), true) && cg_has(&t, ga, DP(act_drop), false) &&
		    cg_has(&t, ga, DP(verdict_drop), false), "rule a's group");
	ASSERT_TRUE(cg_has(&t, gb, RS(rb, bytes), true) && cg_has(&t, gb, DP(act_pass), false) &&
		    cg_has(&t, gb, DP(verdict_pass), false) && !cg_has(&t, gb, DP(act_drop), false),
		    "rule b's group");
	ASSERT_EQ(cg_size(&t, gm), 6, "the miss's group: six counters");
	ASSERT_TRUE(cg_has(&t, gm, SS(misses), false) && cg_has(&t, gm, DP(verdict_pass), false) &&
		    !cg_has(&t, gm, SS(hits), false), "the miss's group");
#undef DP
#undef SS
#undef RS

	/* apply --datapath specialized installs the table it generates: the
	 * same, member for member, as generating again from the maps gives
	 * (the same source: each object keeps its statistics index) */
	{
		XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .unchecked_ports = true,
			  .datapath = XFSM_DP_SPECIALIZED);
		struct xfsm_cg_table have = { 0 };
		struct xfsm_app_names nm;
		struct xfsm_image img;
		char cerr[256] = "";

		xfsm_image_init(&img);
		if (ASSERT_OK(xfsm_compile_string("k.xfsm", src, strlen(src), &img, &nm, cerr,
						  sizeof(cerr)), cerr)) {
			ASSERT_TRUE(xfsm_lang_apply(T.inst, &img, &nm, &o) >= 0, "apply specialized");
			xfsm_app_names_free(&nm);
			if (ASSERT_OK(xfsm_cg_table_read(T.inst, xt_active_slot(&T), &have),
				      "the installed table"))
				ASSERT_TRUE(same_cg_table(&have, &t), "apply installed the generated table");
			xfsm_cg_table_free(&have);
		}
		xfsm_image_free(&img);
	}

	/* ways out that count alike share their group: an ACL's deny rules
	 * (the rx pair and verdict_drop) after a stage's own ways out */
	{
		static const char acl[] =
			"app a\ndefault pass\nstage s {\nkey ip.src\nmiss continue\n"
			"rule a when tcp.dport == 22 => drop\n}\n"
			"acl f {\n\tmiss allow\n"
			"\trule prio 9 src 198.18.0.0/24 proto 17 dport 53 => deny\n"
			"\trule prio 8 src 198.18.1.0/24 proto 6 => deny\n"
			"\trule prio 7 src 198.18.2.0/24 proto 6 => deny\n}\n";

		if (generate_src_cg(acl, &e, &t))
			ASSERT_TRUE(t.n_groups >= 3 && cg_distinct(&t), "one group per set of counters");
		xfsm_emit_free(&e);
	}

	/* no table: every counter counted where it is */
	if (generate_src_cg(src, &e, NULL))
		ASSERT_GE(map_refs(&e, XFSM_M_RULE_STATS), 2, "without groups, the rules' lookups");
	xfsm_emit_free(&e);

	/* 300 rules of one stage, 300 ways out: more than XFSM_COUNT_GROUPS */
	big = malloc(cap);
	ck_assert_ptr_nonnull(big);
	len += snprintf(big + len, cap - len, "app big\nstage s {\nkey ip.src\n");
	for (r = 0; r < 250; r++)
		len += snprintf(big + len, cap - len, "rule r%d when udp.dport == %d => drop\n",
				r, r + 1);
	for (r = 250; r < 256; r++)
		len += snprintf(big + len, cap - len, "rule r%d when udp.dport == %d => pass\n",
				r, r + 1);
	snprintf(big + len, cap - len, "}\n");
	if (generate_src_cg(big, &e, &t)) {
		ASSERT_EQ(t.n_groups, 0, "no groups past the slot's");
		ASSERT_EQ(t.n, 0, "no members past the slot's");
		ASSERT_GE(map_refs(&e, XFSM_M_RULE_STATS), 256, "every rule counted where it is");
	}
	xfsm_emit_free(&e);
out:
	free(big);
	free(t.m);
	XT_END();
}
END_TEST

/* ---- Parts left out for measurement (xfsm_spec_input.omit) ------------------- */

/* t's program leaving out `omit`, generated into *e (the caller's to
 * free), not loaded. */
static bool omit_generate(struct xt *t, __u32 omit, struct xfsm_emit *e)
{
	struct xfsm_spec_input in;
	bool ok = false;

	xfsm_emit_init(e);
	if (!ASSERT_OK(xfsm_spec_input_read(t->inst, xt_active_slot(t), &in), "input"))
		return false;
	in.omit = omit;
	ok = ASSERT_OK(xfsm_spec_generate(t->inst, &in, e), e->why);
	xfsm_spec_input_free(&in);
	return ok;
}

/* The length of t's program leaving out `omit` (0: not generated). */
static size_t omit_insns(struct xt *t, __u32 omit)
{
	struct xfsm_emit e;
	size_t n = omit_generate(t, omit, &e) ? e.n : 0;

	xfsm_emit_free(&e);
	return n;
}

/* How many instructions of t's program leaving out `omit` name `map`. */
static unsigned int omit_map_refs(struct xt *t, __u32 omit, enum xfsm_map_id map)
{
	struct xfsm_emit e;
	unsigned int n = 0;
	size_t i;

	if (omit_generate(t, omit, &e))
		for (i = 0; i < e.n; i++)
			n += e.insn[i].code == (BPF_LD | BPF_DW | BPF_IMM) &&
			     e.insn[i].src_reg == BPF_PSEUDO_MAP_FD &&
			     e.insn[i].imm == t->inst->map_fd[map];
	xfsm_emit_free(&e);
	return n;
}

/* Every counter the counter application's packet from port 1 moves. */
struct omit_counts {
	struct xfsm_stats st;
	struct xfsm_stage_stats ss;
	struct xfsm_rule_stats rs;
	struct xfsm_port_stats ps;
};

static bool omit_counts_read(const struct xfsm_spec_input *in, struct omit_counts *c)
{
	return ASSERT_OK(xfsm_read_stats(O.inst, &c->st), "xfsm_stats") &&
	       ASSERT_OK(read_sum(&O, XFSM_M_STAGE_STATS, in->app->stages[0].stats_id,
				  (__u64 *)&c->ss, sizeof(c->ss) / 8), "stage statistics") &&
	       ASSERT_OK(read_sum(&O, XFSM_M_RULE_STATS, in->rules[0].rule_id, (__u64 *)&c->rs,
				  sizeof(c->rs) / 8), "rule statistics") &&
	       ASSERT_OK(read_sum(&O, TS_PORT_STATS, 1, (__u64 *)&c->ps, sizeof(c->ps) / 8),
			 "port statistics");
}

/*
 * The counter application (reg0 = reg0 + 1, drop) run by its program
 * generated with each omission: the same verdict and the register counted
 * on, while no statistic moves; with nothing left out (last) they all do.
 * The statistics maps are looked up unless the lookups are left out.
 * xfsm_spec_input_read() (what a rule edit regenerates from) leaves omit
 * at 0, and an unknown bit is refused.
 */
START_TEST(test_omit_counts)
{
	static const __u32 omits[] = {
		XFSM_SPEC_OMIT_COUNTS, XFSM_SPEC_OMIT_LOOKUPS,
		XFSM_SPEC_OMIT_COUNTS | XFSM_SPEC_OMIT_LOOKUPS, XFSM_SPEC_OMIT_ALL, 0,
	};
	/* the stage's and the port's counters are in xfsm_stats's value, the
	 * statistics block */
	static const enum xfsm_map_id stats_maps[] = { XFSM_M_STATS, XFSM_M_RULE_STATS };
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_spec_input in = { 0 };
	struct xfsm_app_names names = { 0 };
	struct omit_counts a, b;
	struct xfsm_image img;
	struct xfsm_emit e;
	struct xfsm_flow f;
	__u64 reg = 0;
	unsigned int i;
	char why[256];
	struct pkt p;

	ck_assert_msg(O.obj, "third datapath instance did not load");
	ck_assert_int_eq(xt_reset(&O), 0);
	xfsm_image_init(&img);
	pkt_from_spec(&p, &ps);
	/* lo (ifindex 1, in whatever namespace the test runs) is port 1 */
	if (!compile_named("bench/ref/counter.xfsm", &img, &names) ||
	    !ASSERT_OK(apply_named(&O, &img, &names), "apply") ||
	    !ASSERT_OK(xt_set_port(&O, 1, 1), "port 1"))
		goto out;
	in.omit = XFSM_SPEC_OMIT_ALL;
	if (!ASSERT_OK(xfsm_spec_input_read(O.inst, xt_active_slot(&O), &in), "input") ||
	    !ASSERT_EQ(in.omit, 0, "the input read from the maps leaves nothing out") ||
	    !ASSERT_EQ(in.n_rules, 1, "one rule"))
		goto out;
	in.omit = 1U << 3;
	xfsm_emit_init(&e);
	ASSERT_EQ(xfsm_spec_generate(O.inst, &in, &e), -EINVAL, "an unknown omit bit");
	ASSERT_TRUE(strstr(e.why, "omit bits 0x8") != NULL, "named");
	xfsm_emit_free(&e);
	in.omit = 0;
	/* the statistics maps the counter application's packet counts in:
	 * named by the program unless their lookups are left out */
	for (i = 0; i < ARRAY_SIZE(stats_maps); i++) {
		xt_set_context("%s", xfsm_map_names[stats_maps[i]]);
		ASSERT_GE(omit_map_refs(&O, 0, stats_maps[i]), 1, "looked up");
		ASSERT_GE(omit_map_refs(&O, XFSM_SPEC_OMIT_COUNTS, stats_maps[i]), 1,
			  "looked up, the increments left out");
		ASSERT_EQ(omit_map_refs(&O, XFSM_SPEC_OMIT_LOOKUPS, stats_maps[i]), 0,
			  "not looked up, the lookups left out");
	}
	for (i = 0; i < ARRAY_SIZE(omits) && !xt_failures; i++) {
		struct xt_result r;
		int fd;

		xt_set_context("omit %#x", omits[i]);
		fd = generate_omit(&O, omits[i], why, sizeof(why));
		if (!xt_check(fd >= 0, __FILE__, __LINE__, "generate and load: %s (%s)",
			      strerror(fd < 0 ? -fd : 0), why))
			break;
		if (install(&O, fd) && omit_counts_read(&in, &a) &&
		    ASSERT_OK(xt_run_pkt(&O, &p, 1, &r), "run") &&
		    ASSERT_EQ(r.verdict, XDP_DROP, "the rule's verdict") &&
		    ASSERT_OK(xt_find_flow(&O, 0, w, NULL, &f), "the flow") &&
		    ASSERT_EQ(f.regs[0], ++reg, "the register counted on") &&
		    omit_counts_read(&in, &b)) {
			__u64 n = omits[i] ? 0 : 1;

			if (omits[i])
				ASSERT_TRUE(!memcmp(&a, &b, sizeof(a)), "no statistic moved");
			ASSERT_EQ(b.st.rx_packets, a.st.rx_packets + n, "rx_packets");
			ASSERT_EQ(b.st.verdict_drop, a.st.verdict_drop + n, "verdict_drop");
			ASSERT_EQ(b.ss.packets, a.ss.packets + n, "stage packets");
			ASSERT_EQ(b.ss.hits, a.ss.hits + n, "stage hits");
			ASSERT_EQ(b.rs.packets, a.rs.packets + n, "rule packets");
			ASSERT_EQ(b.ps.rx_packets, a.ps.rx_packets + n, "port 1 rx_packets");
		}
		close(fd);
	}
out:
	xt_set_context("%s", "");
	xfsm_spec_input_free(&in);
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* xfsm_stats[0] on every CPU, as the datapath lays it out (read apart
 * from libxfsm's xfsm_stats_where()). */
static bool block_read(struct xt *t, __u64 **buf)
{
	size_t stride = (sizeof(struct xfsm_stats_block) + 7) / 8;
	__u32 zero = 0;

	*buf = calloc((size_t)libbpf_num_possible_cpus() * stride, 8);
	return ASSERT_TRUE(*buf != NULL, "calloc") &&
	       ASSERT_OK(bpf_map_lookup_elem(t->inst->map_fd[XFSM_M_STATS], &zero, *buf) ? -errno : 0,
			 "xfsm_stats[0]");
}

/* Counter `off` (bytes into the block) summed over CPUs. */
static __u64 block_at(const __u64 *buf, size_t off)
{
	size_t stride = (sizeof(struct xfsm_stats_block) + 7) / 8;
	__u64 v = 0;
	int c;

	for (c = 0; c < libbpf_num_possible_cpus(); c++)
		v += buf[c * stride + off / 8];
	return v;
}

#define BLOCK_OFF(f)	offsetof(struct xfsm_stats_block, f)

/*
 * The statistics block (native profile): the instance has neither a stage
 * nor a port statistics map, xfsm_stats is one per-CPU value of struct
 * xfsm_stats_block, and one packet from port 1 through either datapath
 * (the generic program, then the program generated for the counter
 * application) moves the datapath's counters, its stage's and the port's
 * in that value, where libxfsm reads them.
 */
START_TEST(test_stats_block)
{
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	struct xfsm_app_names names = { 0 };
	struct xfsm_stage_stats ss, ss0, ss1;
	struct xfsm_stats st0, st1;
	struct xfsm_port_stats pst;
	struct xfsm_image img;
	struct xfsm_app *app = NULL;
	__u64 *a = NULL, *b = NULL;
	__u32 slot, sid, round;
	char why[256];
	struct pkt p;

	ck_assert_msg(O.obj, "third datapath instance did not load");
	ck_assert_int_eq(xt_reset(&O), 0);
	xfsm_image_init(&img);
	pkt_from_spec(&p, &ps);
	ASSERT_TRUE(xfsm_stats_in_block(O.inst), "the instance keeps the block");
	ASSERT_EQ(O.inst->map_fd[XFSM_M_STAGE_STATS], -1, "no stage statistics map");
	ASSERT_TRUE(!bpf_object__find_map_by_name(O.obj, "xfsm_stg_stats") &&
		    !bpf_object__find_map_by_name(O.obj, "xfsm_port_stats"),
		    "the object defines no stage or port statistics map");
	ASSERT_EQ(O.inst->map_type[XFSM_M_STATS], BPF_MAP_TYPE_PERCPU_ARRAY, "per CPU");
	ASSERT_EQ(O.inst->map_max_entries[XFSM_M_STATS], 1, "one entry");
	ASSERT_EQ(O.inst->map_value_size[XFSM_M_STATS], sizeof(struct xfsm_stats_block),
		  "a block's value");
	app = malloc(sizeof(*app));
	if (!ASSERT_TRUE(app != NULL, "malloc") ||
	    !compile_named("bench/ref/counter.xfsm", &img, &names) ||
	    !ASSERT_OK(apply_named(&O, &img, &names), "apply") ||
	    !ASSERT_OK(xt_set_port(&O, 1, 1), "port 1"))
		goto out;
	slot = xt_active_slot(&O);
	if (!ASSERT_OK(bpf_map_lookup_elem(O.inst->map_fd[XFSM_M_APPS], &slot, app) ? -errno : 0,
		       "the running application"))
		goto out;
	sid = app->stages[0].stats_id;
	for (round = 0; round < 2 && !xt_failures; round++) {
		struct xt_result r;
		int fd = -1;

		xt_set_context("%s", round ? "specialized" : "generic");
		if (round) {
			fd = generate(&O, why, sizeof(why));
			if (!xt_check(fd >= 0, __FILE__, __LINE__, "generate and load: %s", why) ||
			    !install(&O, fd))
				break;
		}
		free(a);
		free(b);
		a = b = NULL;
		/* the generic program counts each counter; the specialized one
		 * the rule's way out as one count group (the slot's pairs),
		 * which libxfsm's readers add to the same counters */
		if (block_read(&O, &a) && ASSERT_OK(xfsm_read_stats(O.inst, &st0), "stats") &&
		    ASSERT_OK(xfsm_read_stage_stats_at(O.inst, sid, &ss0), "stage") &&
		    ASSERT_OK(xt_run_pkt(&O, &p, 1, &r), "run") &&
		    ASSERT_EQ(r.verdict, XDP_DROP, "the rule's verdict") && block_read(&O, &b) &&
		    ASSERT_OK(xfsm_read_stats(O.inst, &st1), "stats") &&
		    ASSERT_OK(xfsm_read_stage_stats_at(O.inst, sid, &ss1), "stage")) {
			__u64 plain = round ? 0 : 1, pairs[2] = { 0, 0 };
			unsigned int g;

			for (g = 0; g < XFSM_COUNT_GROUPS; g++) {
				pairs[0] += block_at(a, BLOCK_OFF(group[slot][g].packets));
				pairs[1] += block_at(b, BLOCK_OFF(group[slot][g].packets));
			}
			ASSERT_EQ(pairs[1] - pairs[0], round ? 1 : 0, "the slot's count groups");
			ASSERT_EQ(st1.rx_packets - st0.rx_packets, 1, "rx_packets as libxfsm reads it");
			ASSERT_EQ(st1.verdict_drop - st0.verdict_drop, 1, "verdict_drop as read");
			ASSERT_EQ(ss1.packets - ss0.packets, 1, "the stage's packets as read");
			ASSERT_EQ(ss1.hits - ss0.hits, 1, "the stage's hits as read");
			ASSERT_EQ(block_at(b, BLOCK_OFF(stats.rx_packets)),
				  block_at(a, BLOCK_OFF(stats.rx_packets)) + plain, "rx_packets");
			ASSERT_EQ(block_at(b, BLOCK_OFF(stats.verdict_drop)),
				  block_at(a, BLOCK_OFF(stats.verdict_drop)) + plain, "verdict_drop");
			ASSERT_EQ(block_at(b, BLOCK_OFF(stage[sid].packets)),
				  block_at(a, BLOCK_OFF(stage[sid].packets)) + plain, "stage packets");
			ASSERT_EQ(block_at(b, BLOCK_OFF(stage[sid].hits)),
				  block_at(a, BLOCK_OFF(stage[sid].hits)) + plain, "stage hits");
			ASSERT_EQ(block_at(b, BLOCK_OFF(port[1].rx_packets)),
				  block_at(a, BLOCK_OFF(port[1].rx_packets)) + 1, "port 1 rx_packets");
			ASSERT_EQ(block_at(b, BLOCK_OFF(port[1].rx_bytes)),
				  block_at(a, BLOCK_OFF(port[1].rx_bytes)) + p.len, "port 1 rx_bytes");
			/* libxfsm reads the same counters there */
			if (ASSERT_OK(xfsm_port_stats_read(O.inst, 1, &pst), "port 1"))
				ASSERT_EQ(pst.rx_packets, block_at(b, BLOCK_OFF(port[1].rx_packets)),
					  "port 1 as libxfsm reads it");
			if (ASSERT_OK(xfsm_stats_read_raw(O.inst, XFSM_SK_STAGE, sid, &ss,
							  sizeof(ss)), "the stage"))
				ASSERT_EQ(ss.packets, block_at(b, BLOCK_OFF(stage[sid].packets)),
					  "the stage as libxfsm reads it");
		}
		if (fd >= 0)
			close(fd);
	}
out:
	xt_set_context("%s", "");
	free(a);
	free(b);
	free(app);
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/*
 * The ingress port block goes only where nothing reads meta.port: the
 * counter application's program is shorter without it; the stateful
 * firewall's, which tells the inside by meta.port, keeps it whole and
 * still passes a packet from the inside (port 1) and drops one from the
 * outside.
 */
START_TEST(test_omit_port)
{
	static const __u32 lookups = XFSM_SPEC_OMIT_COUNTS | XFSM_SPEC_OMIT_LOOKUPS;
	struct pkt_spec ps = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .sport = 1,
			       .dport = 2 };
	struct xfsm_app_names names = { 0 };
	struct xfsm_image img;
	struct xt_result r;
	size_t with, without;
	char why[256];
	struct pkt p;
	int fd = -1;

	ck_assert_msg(O.obj, "third datapath instance did not load");
	ck_assert_int_eq(xt_reset(&O), 0);
	xfsm_image_init(&img);
	pkt_from_spec(&p, &ps);
	if (!compile_named("bench/ref/counter.xfsm", &img, &names) ||
	    !ASSERT_OK(apply_named(&O, &img, &names), "apply counter"))
		goto out;
	with = omit_insns(&O, lookups);
	without = omit_insns(&O, XFSM_SPEC_OMIT_ALL);
	xt_check(without && without < with, __FILE__, __LINE__,
		 "counter: %zu instructions without the port block, %zu with it", without, with);
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
	ck_assert_int_eq(xt_reset(&O), 0);
	if (!compile_named("examples/statefulfw.xfsm", &img, &names) ||
	    !ASSERT_OK(apply_named(&O, &img, &names), "apply statefulfw") ||
	    !ASSERT_OK(xt_set_port(&O, 1, 1), "port 1"))
		goto out;
	with = omit_insns(&O, lookups);
	ASSERT_EQ(omit_insns(&O, XFSM_SPEC_OMIT_ALL), with, "statefulfw keeps its port block");
	fd = generate_omit(&O, XFSM_SPEC_OMIT_ALL, why, sizeof(why));
	if (!xt_check(fd >= 0, __FILE__, __LINE__, "statefulfw: %s", why) || !install(&O, fd))
		goto out;
	if (ASSERT_OK(xt_run_pkt(&O, &p, 1, &r), "run from port 1"))
		ASSERT_EQ(r.verdict, XDP_PASS, "from the inside: meta.port read");
	/* another source (no open flow), lo now the outside */
	ps.src = 3;
	pkt_from_spec(&p, &ps);
	if (ASSERT_OK(xt_set_port(&O, 1, 2), "lo: port 2") &&
	    ASSERT_OK(xt_run_pkt(&O, &p, 1, &r), "run from port 2"))
		ASSERT_EQ(r.verdict, XDP_DROP, "from the outside: dropped");
out:
	if (fd >= 0)
		close(fd);
	xfsm_app_names_free(&names);
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* An ACL table of n rules (a walk of its trees beyond
 * XFSM_SPEC_ACL_INLINE_RULES), one rule on the ingress port. */
static char *omit_acl_app(unsigned int n)
{
	size_t cap = 100 + 80 * (size_t)n, len;
	char *t = malloc(cap);
	unsigned int r;

	if (!t)
		return NULL;
	len = snprintf(t, cap, "app acl\ndefault pass\nacl f {\n\tmiss allow\n"
		       "\trule prio 1 port 2 => pass\n");
	for (r = 0; r < n; r++)
		len += snprintf(t + len, cap - len, "\trule prio %u src 198.18.%u.0/24 proto udp dport %u => %s\n",
				r + 2, r % 250, 1000 + r, r % 2 ? "deny" : "pass");
	snprintf(t + len, cap - len, "}\n");
	return t;
}

/*
 * Every part left out, alone and together, of every application the walks
 * run (and ACL tables compared inline and walked): the verifier takes
 * each program.  Without the lookups no counter may be left that reads
 * their value.
 */
START_TEST(test_omit_verifier)
{
	static const char *const files[] = {
		"bench/ref/counter.xfsm", "bench/ref/global.xfsm", "bench/ref/twostage.xfsm",
		"examples/portknock.xfsm", "examples/statefulfw.xfsm", "examples/ratelimit.xfsm",
		"examples/synflood.xfsm", "examples/maclearn.xfsm", "examples/loadbalancer.xfsm",
		"examples/arpresponder.xfsm", "examples/router.xfsm", "selftests/spec/mix.xfsm",
		"selftests/spec/rewrite.xfsm", "selftests/spec/vlan.xfsm",
		"selftests/spec/timeouts.xfsm", "selftests/spec/group.xfsm",
		"selftests/spec/cas.xfsm", "selftests/spec/locked.xfsm",
		NULL /* ACL, inline */, NULL /* ACL, walked */,
	};
	static const __u32 omits[] = {
		XFSM_SPEC_OMIT_COUNTS, XFSM_SPEC_OMIT_LOOKUPS, XFSM_SPEC_OMIT_PORT,
		XFSM_SPEC_OMIT_ALL,
	};
	unsigned int i, k, n_loaded = 0;

	ck_assert_msg(O.obj, "third datapath instance did not load");
	for (i = 0; i < ARRAY_SIZE(files) && !xt_failures; i++) {
		struct xfsm_app_names names = { 0 };
		struct xfsm_image img;
		char why[256], cerr[256] = "", *acl = NULL;
		bool is_acl = !files[i];
		int fd, err;

		xt_set_context("%s", files[i] ? files[i] : "ACL");
		ck_assert_int_eq(xt_reset(&O), 0);
		xfsm_image_init(&img);
		if (is_acl) {
			acl = omit_acl_app(i == ARRAY_SIZE(files) - 1 ?
					   2 * XFSM_SPEC_ACL_INLINE_RULES : 4);
			ck_assert_ptr_nonnull(acl);
			err = xfsm_compile_string("acl.xfsm", acl, strlen(acl), &img, &names, cerr,
						  sizeof(cerr));
			if (!ASSERT_OK(err, cerr))
				goto next;
		} else if (!compile_named(files[i], &img, &names)) {
			goto next;
		}
		if (!ASSERT_OK(apply_named(&O, &img, &names), "apply"))
			goto next;
		fd = generate_omit(&O, 0, why, sizeof(why));
		if (fd == -EOPNOTSUPP)
			goto next;	/* refused whole: nothing to leave out */
		if (!xt_check(fd >= 0, __FILE__, __LINE__, "whole: %s (%s)",
			      strerror(fd < 0 ? -fd : 0), why))
			goto next;
		close(fd);
		for (k = 0; k < ARRAY_SIZE(omits); k++) {
			fd = generate_omit(&O, omits[k], why, sizeof(why));
			if (!xt_check(fd >= 0, __FILE__, __LINE__, "omit %#x: %s (%s)", omits[k],
				      strerror(fd < 0 ? -fd : 0), why))
				break;
			close(fd);
			n_loaded++;
		}
next:
		xfsm_app_names_free(&names);
		xfsm_image_free(&img);
		free(acl);
	}
	xt_set_context("%s", "");
	ASSERT_GE(n_loaded, (ARRAY_SIZE(files) - 2) * ARRAY_SIZE(omits),
		  "programs loaded with parts left out");
	XT_END();
}
END_TEST

/* ---- The instruction buffer -------------------------------------------------- */

START_TEST(test_codegen)
{
	struct xfsm_emit e;
	unsigned int l;
	int i;

	/* a label never placed */
	xfsm_emit_init(&e);
	l = xfsm_emit_label(&e);
	xfsm_emit_ja(&e, l);
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), -EINVAL);
	ck_assert_msg(strstr(e.why, "never placed"), "%s", e.why);
	xfsm_emit_free(&e);

	/* a jump longer than an instruction's offset */
	xfsm_emit_init(&e);
	l = xfsm_emit_label(&e);
	xfsm_emit_jmp_imm(&e, BPF_JMP | BPF_JEQ, XR1, 0, l);
	for (i = 0; i < 40000; i++)
		xfsm_emit(&e, XI_MOV64_IMM(XR0, 0));
	xfsm_emit_bind(&e, l);
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), -E2BIG);
	ck_assert_msg(strstr(e.why, "too long"), "%s", e.why);
	xfsm_emit_free(&e);

	/* forward and backward offsets resolved */
	xfsm_emit_init(&e);
	l = xfsm_emit_label(&e);
	xfsm_emit_jmp_imm(&e, BPF_JMP | BPF_JEQ, XR1, 0, l);
	xfsm_emit(&e, XI_MOV64_IMM(XR0, 1));
	xfsm_emit(&e, XI_MOV64_IMM(XR0, 2));
	xfsm_emit_bind(&e, l);
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), 0);
	ck_assert_int_eq(e.insn[0].off, 2);
	xfsm_emit_free(&e);
}
END_TEST

/* ---- Store-to-load forwarding (lib/codegen/peephole.c) ------------------------ */

static bool insn_is(const struct bpf_insn *a, struct bpf_insn b)
{
	return a->code == b.code && a->dst_reg == b.dst_reg && a->src_reg == b.src_reg &&
	       a->off == b.off && a->imm == b.imm;
}

#define CK_INSN(e, i, want)							\
	ck_assert_msg((i) < (int)(e)->n && insn_is(&(e)->insn[i], want),		\
		      "instruction %d: code %#x dst %u src %u off %d imm %d", (i),	\
		      (i) < (int)(e)->n ? (e)->insn[i].code : 0,			\
		      (i) < (int)(e)->n ? (e)->insn[i].dst_reg : 0,			\
		      (i) < (int)(e)->n ? (e)->insn[i].src_reg : 0,			\
		      (i) < (int)(e)->n ? (e)->insn[i].off : 0,			\
		      (i) < (int)(e)->n ? (e)->insn[i].imm : 0)

START_TEST(test_peephole)
{
	struct xfsm_emit e;
	unsigned int l;

	/* a reload into the register stored is dropped; into another one
	 * it becomes a move; an immediate's reload an immediate move */
	xfsm_emit_init(&e);
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR6, -8));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR6, XFP, -8));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR2, XFP, -8));
	xfsm_emit(&e, XI_ST(BPF_W, XFP, -12, -5));
	xfsm_emit(&e, XI_LDX(BPF_W, XR3, XFP, -12));
	xfsm_emit(&e, XI_ST(BPF_DW, XFP, -24, -5));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR4, XFP, -24));
	xfsm_emit(&e, XI_STX(BPF_W, XFP, XR1, -28));
	xfsm_emit(&e, XI_LDX(BPF_W, XR5, XFP, -28));
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), 0);
	ck_assert_int_eq((int)e.n, 9);
	CK_INSN(&e, 1, XI_MOV64_REG(XR2, XR6));
	CK_INSN(&e, 3, XI_MOV32_IMM(XR3, -5));
	CK_INSN(&e, 5, XI_MOV64_IMM(XR4, -5));
	CK_INSN(&e, 7, XI_MOV32_REG(XR5, XR1));
	xfsm_emit_free(&e);

	/* a store of what the slot holds is dropped; a load teaches too */
	xfsm_emit_init(&e);
	xfsm_emit(&e, XI_LDX(BPF_DW, XR1, XFP, -8));
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR1, -8));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR2, XFP, -8));
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), 0);
	ck_assert_int_eq((int)e.n, 3);
	CK_INSN(&e, 1, XI_MOV64_REG(XR2, XR1));
	xfsm_emit_free(&e);

	/* what kills the knowledge: the register written, an overlapping
	 * store, another size, a store through a stack pointer, a helper
	 * that may write the stack, a jump target */
	xfsm_emit_init(&e);
	l = xfsm_emit_label(&e);
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR1, -8));
	xfsm_emit(&e, XI_ALU64_IMM(BPF_ADD, XR1, 1));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR2, XFP, -8));		/* 2: stays */
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR1, -16));
	xfsm_emit(&e, XI_ST(BPF_B, XFP, -13, 0));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR3, XFP, -16));		/* 5: stays */
	xfsm_emit(&e, XI_LDX(BPF_W, XR3, XFP, -16));		/* 6: stays */
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR1, -24));
	xfsm_emit(&e, XI_MOV64_REG(XR4, XFP));
	xfsm_emit(&e, XI_ALU64_IMM(BPF_ADD, XR4, -24));
	xfsm_emit(&e, XI_ST(BPF_DW, XR4, 0, 7));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR3, XFP, -24));		/* 11: stays */
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR6, -32));
	xfsm_emit(&e, XI_CALL(BPF_FUNC_xdp_load_bytes));
	xfsm_emit(&e, XI_LDX(BPF_DW, XR3, XFP, -32));		/* 14: stays */
	xfsm_emit_jmp_imm(&e, BPF_JMP | BPF_JEQ, XR0, 0, l);
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR6, -40));		/* not on the jump's path */
	xfsm_emit_bind(&e, l);
	xfsm_emit(&e, XI_LDX(BPF_DW, XR3, XFP, -40));		/* 17: stays */
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), 0);
	ck_assert_int_eq((int)e.n, 19);
	CK_INSN(&e, 2, XI_LDX(BPF_DW, XR2, XFP, -8));
	CK_INSN(&e, 5, XI_LDX(BPF_DW, XR3, XFP, -16));
	CK_INSN(&e, 6, XI_LDX(BPF_W, XR3, XFP, -16));
	CK_INSN(&e, 11, XI_LDX(BPF_DW, XR3, XFP, -24));
	CK_INSN(&e, 14, XI_LDX(BPF_DW, XR3, XFP, -32));
	CK_INSN(&e, 17, XI_LDX(BPF_DW, XR3, XFP, -40));
	xfsm_emit_free(&e);

	/* what keeps it: stores through map values, a lookup helper (for
	 * the callee-saved registers); a jump over a dropped instruction
	 * is shortened, and one to it lands on the next */
	xfsm_emit_init(&e);
	l = xfsm_emit_label(&e);
	xfsm_emit(&e, XI_STX(BPF_DW, XFP, XR7, -8));
	xfsm_emit(&e, XI_CALL(BPF_FUNC_map_lookup_elem));
	xfsm_emit(&e, XI_ST(BPF_DW, XR0, 0, 1));
	xfsm_emit_imm64(&e, XR8, 0);
	xfsm_emit(&e, XI_ST(BPF_DW, XR8, 0, 1));
	xfsm_emit_jmp_imm(&e, BPF_JMP | BPF_JEQ, XR0, 0, l);	/* 6 */
	xfsm_emit(&e, XI_LDX(BPF_DW, XR7, XFP, -8));		/* dropped */
	xfsm_emit(&e, XI_LDX(BPF_DW, XR2, XFP, -8));		/* a move */
	xfsm_emit_bind(&e, l);
	xfsm_emit(&e, XI_EXIT());
	ck_assert_int_eq(xfsm_emit_finish(&e), 0);
	ck_assert_int_eq((int)e.n, 9);
	CK_INSN(&e, 6, XI_JMP_IMM(BPF_JEQ, XR0, 0, 1));
	CK_INSN(&e, 7, XI_MOV64_REG(XR2, XR7));
	xfsm_emit_free(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("spec");

	tcase_add_unchecked_fixture(tc, open_both, close_both);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_codegen);
	tcase_add_test(tc, test_peephole);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_notes);
	tcase_add_test(tc, test_update_consts);
	tcase_add_test(tc, test_count_groups);
	tcase_add_test(tc, test_omit_counts);
	tcase_add_test(tc, test_stats_block);
	tcase_add_test(tc, test_omit_port);
	tcase_add_test(tc, test_omit_verifier);
	tcase_add_test(tc, test_datapath_check);
	tcase_add_test(tc, test_walk_empty);
	tcase_add_test(tc, test_fast_layouts);
	tcase_add_test(tc, test_guard);
	tcase_add_test(tc, test_walk_counter);
	tcase_add_test(tc, test_walk_global);
	tcase_add_test(tc, test_walk_twostage);
	tcase_add_test(tc, test_walk_portknock);
	tcase_add_test(tc, test_walk_statefulfw);
	tcase_add_test(tc, test_walk_ratelimit);
	tcase_add_test(tc, test_walk_synflood);
	tcase_add_test(tc, test_walk_maclearn);
	tcase_add_test(tc, test_walk_loadbalancer);
	tcase_add_test(tc, test_walk_mix);
	tcase_add_test(tc, test_walk_rewrite);
	tcase_add_test(tc, test_walk_vlan);
	tcase_add_test(tc, test_walk_arpresponder);
	tcase_add_test(tc, test_walk_timeouts);
	tcase_add_test(tc, test_walk_consts);
	tcase_add_test(tc, test_walk_history);
	tcase_add_test(tc, test_walk_group);
	tcase_add_test(tc, test_walk_full);
	tcase_add_test(tc, test_shared_locks);
	tcase_add_test(tc, test_shared_cas);
	suite_add_tcase(s, tc);
	return xt_suite_run(s);
}
