// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Simulation through a private copy of the datapath (lib/xfsm_sim.h).
 *
 * Why a copy rather than a read-only flag in the datapath: a flag would
 * cost every live packet a test, and a run that must not write anything
 * could not show what it would have written.  The copy runs the very same
 * program on maps of its own, and what a packet did is read off them: the
 * statistics name the stages it entered and the rules it matched (they
 * start at zero in the copy), the flow table and the registers before and
 * after give the writes, the per-CPU scratch value holds the parsed fields.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfsm_acl.h"
#include "xfsm_plan.h"
#include "xfsm_attach.h"
#include "xfsm_sim.h"

struct flow_snap {
	struct xfsm_flow_key key;
	struct xfsm_flow flow;
};

struct snap {
	struct flow_snap *flows;
	size_t	n, cap;
	struct xfsm_stats stats;
	struct xfsm_stage_stats st[XFSM_MAX_STAGES];
	struct xfsm_acl_stats acl[XFSM_MAX_STAGES];	/* of ACL stages' tables */
	__u64	*rule_pkts;		/* by index into img.idents (rules only) */
	__u64	globals[XFSM_GLOBAL_REGS];
	__u64	counters[XFSM_MAX_COUNTERS];
};

struct xfsm_sim {
	struct bpf_object *obj;
	struct xfsm_instance *inst;	/* the copy's maps */
	struct xfsm_image img;		/* the application it runs, image rule ids */
	int	prog_fd;
	int	work_fd;
	__u32	work_size;
	int	cpu;			/* the CPU the runs are pinned to */
	int	nr_cpus;
	__u32	lo_ifindex;		/* test runs arrive on the loopback device */
	__u32	port;			/* port lo_ifindex is mapped to now */
	__u64	port_gen;
};

/*
 * Maps the datapath only reads, shared with the live instance.  With an
 * image of its own the copy keeps only what is outside any application:
 * where ports lead (groups are copied: applying writes the groups an
 * application declares).
 */
static bool shared_map(int id, bool own_app)
{
	switch (id) {
	case XFSM_M_TX_PORTS:
	case XFSM_M_PORT_FLAGS:
	case XFSM_M_XSKS:
		return true;
	case XFSM_M_CTL:
	case XFSM_M_APPS:
	case XFSM_M_RULES:
	case XFSM_M_APPSRC:
	case XFSM_M_IDS:
	case XFSM_M_GROUPS:	/* an application declares its groups */
	case XFSM_M_ACL_CTL:
	case XFSM_M_ACL_SETS:
	case XFSM_M_ACL_RULES:
	case XFSM_M_ACL_NODES:
		return !own_app;
	default:
		return false;
	}
}

static int map_id_of(const char *name)
{
	for (int i = 0; i < XFSM_M__MAX; i++)
		if (!strcmp(name, xfsm_map_names[i]))
			return i;
	return -1;
}

/* Share or size each map of the copy before it is loaded. */
static int prepare_maps(struct bpf_object *obj, struct xfsm_instance *live, bool own_app)
{
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, obj) {
		int id = map_id_of(bpf_map__name(m));

		if (id < 0 || !live || live->map_fd[id] < 0)
			continue;
		if (shared_map(id, own_app)) {
			err = bpf_map__reuse_fd(m, live->map_fd[id]);
			if (err) {
				xfsm_log(XFSM_LOG_ERROR, "simulate: cannot share map %s: %s",
					 xfsm_map_names[id], strerror(-err));
				return err;
			}
			continue;
		}
		/* Same sizes as the live maps: rule ids index the rule
		 * statistics (and their folds), and a full flow table must
		 * behave the same. */
		if (xfsm_flow_table_class_of_map(id) || id == XFSM_M_RULES ||
		    id == XFSM_M_RULE_STATS || id == XFSM_M_CG_FOLD || id == XFSM_M_GROUP_FLOWS)
			bpf_map__set_max_entries(m, live->map_max_entries[id]);
		if (xfsm_flow_table_class_of_map(id))
			bpf_map__set_type(m, live->map_type[id]);
	}
	return 0;
}

struct walk_copy {
	int	fd;
	int	err;
};

static int copy_entry_cb(const void *key, const void *value, void *ctx)
{
	struct walk_copy *w = ctx;

	if (bpf_map_update_elem(w->fd, key, value, BPF_ANY))
		w->err = -errno;
	return w->err;
}

/* The state the datapath writes, as the live instance holds it now. */
static int copy_live_state(struct xfsm_sim *s, struct xfsm_instance *live)
{
	struct walk_copy wc = { .fd = s->inst->map_fd[XFSM_M_GROUP_FLOWS] };
	const struct xfsm_flow_table_class *c;
	__u64 regs[XFSM_GLOBAL_REGS];
	int err;

	/* Each table into its copy (an LRU table may be full; the copy has
	 * the same size). */
	xfsm_for_each_flow_table(c) {
		struct walk_copy fc = { .fd = s->inst->map_fd[c->id] };

		if (live->map_fd[c->id] < 0)
			continue;
		err = fc.fd < 0 ? -ENOENT : xfsm_map_walk(live, c->id, copy_entry_cb, &fc);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "simulate: cannot copy the flow table %s: %s",
				 xfsm_map_names[c->id], strerror(err < 0 ? -err : err));
			return err < 0 ? err : -EIO;
		}
	}
	err = xfsm_globals_read(live, regs);
	if (!err)
		err = xfsm_globals_write(s->inst, regs);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: cannot copy the global registers: %s",
			 strerror(-err));
		return err;
	}
	if (live->map_fd[XFSM_M_GROUP_FLOWS] >= 0 && wc.fd >= 0) {
		err = xfsm_map_walk(live, XFSM_M_GROUP_FLOWS, copy_entry_cb, &wc);
		if (err)
			return err;
	}
	/* Round-robin positions, so that a group picks the member it would. */
	if (live->map_fd[XFSM_M_GROUP_RR] >= 0 && s->inst->map_fd[XFSM_M_GROUP_RR] >= 0) {
		size_t vsz = (size_t)s->nr_cpus * 8;
		void *v = calloc(1, vsz);

		if (!v)
			return -ENOMEM;
		for (__u32 k = 0; k < live->map_max_entries[XFSM_M_GROUP_RR]; k++) {
			if (!bpf_map_lookup_elem(live->map_fd[XFSM_M_GROUP_RR], &k, v))
				bpf_map_update_elem(s->inst->map_fd[XFSM_M_GROUP_RR], &k, v, BPF_ANY);
		}
		free(v);
	}
	return 0;
}

static int install_app(struct xfsm_sim *s, struct xfsm_instance *live,
		       const struct xfsm_image *img, const struct xfsm_app_names *nm)
{
	struct walk_copy wc = { .fd = s->inst->map_fd[XFSM_M_GROUPS] };
	struct xfsm_acl_caps caps;
	int err;

	/* The groups the live datapath has, for `output group N` of groups
	 * the application does not declare itself. */
	if (live && live->map_fd[XFSM_M_GROUPS] >= 0 && wc.fd >= 0) {
		struct xfsm_group g;

		for (__u32 k = 0; k < live->map_max_entries[XFSM_M_GROUPS] &&
				  k < s->inst->map_max_entries[XFSM_M_GROUPS]; k++)
			if (!bpf_map_lookup_elem(live->map_fd[XFSM_M_GROUPS], &k, &g))
				bpf_map_update_elem(wc.fd, &k, &g, BPF_ANY);
	}

	if (s->inst->map_fd[XFSM_M_ACL_CTL] >= 0) {
		xfsm_acl_caps_default(&caps);
		err = xfsm_acl_caps_write_fd(s->inst->map_fd[XFSM_M_ACL_CTL], &caps);
		if (err)
			return err;
	}
	/* ACL tables and groups switch with the application.  The generic
	 * datapath runs it: the reference semantics, and the one whose
	 * decision records the simulator reads (docs/specializer.md).  The
	 * scratch instance has no ports: a run makes up the ingress one
	 * (set_port()), and sent packets only count. */
	XFSM_OPTS(xfsm_apply_opts, opts, .datapath = XFSM_DP_GENERIC, .unchecked_ports = true);
	err = nm ? xfsm_lang_apply(s->inst, img, nm, &opts) : xfsm_apply(s->inst, img, &opts);
	return err < 0 ? err : 0;
}

static int pin_cpu(struct xfsm_sim *s)
{
	cpu_set_t set;

	s->cpu = sched_getcpu();
	if (s->cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	/* The scratch value read after a run is this CPU's. */
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int xfsm_sim_open(struct xfsm_instance *live, const struct xfsm_image *img,
		  const struct xfsm_app_names *nm, struct xfsm_sim **out)
{
	struct bpf_program *prog;
	struct xfsm_sim *s;
	struct bpf_map *work;
	char path[4096];
	int err;

	*out = NULL;
	if (!live && !img)
		return -EINVAL;
	if (live && live->build.offload) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: the instance runs the offload profile; "
			 "simulation runs the native datapath only");
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	xfsm_image_init(&s->img);
	s->nr_cpus = libbpf_num_possible_cpus();
	s->lo_ifindex = if_nametoindex("lo");
	if (!s->lo_ifindex)
		s->lo_ifindex = 1;
	err = pin_cpu(s);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: cannot pin to a CPU: %s", strerror(-err));
		goto fail;
	}
	/* The live datapath's own build: a compact one's flows are heads
	 * alone (registers, a hard timeout and a creation time don't exist
	 * there), and so are the copy's. */
	err = xfsm_datapath_object(live && live->build.compact_flows, path, sizeof(path));
	if (err)
		goto fail;
	s->obj = bpf_object__open_file(path, NULL);
	err = libbpf_get_error(s->obj);
	if (err) {
		s->obj = NULL;
		xfsm_log(XFSM_LOG_ERROR, "simulate: cannot open %s: %s", path, strerror(-err));
		goto fail;
	}
	err = prepare_maps(s->obj, live, img != NULL);
	if (err)
		goto fail;
	err = xfsm_obj_load(s->obj);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: the kernel refused the copy of %s: %s",
			 path, strerror(-err));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(s->obj, XFSM_PROG_NAME);
	work = bpf_object__find_map_by_name(s->obj, "xfsm_work");
	if (!prog || !work) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: %s is not the native xfsm datapath", path);
		err = -ENOENT;
		goto fail;
	}
	s->prog_fd = bpf_program__fd(prog);
	s->work_fd = bpf_map__fd(work);
	s->work_size = bpf_map__value_size(work);
	err = xfsm_instance_open_obj(s->obj, &s->inst);
	if (err)
		goto fail;
	err = xfsm_instance_check_abi(s->inst);
	if (err)
		goto fail;
	if (live && memcmp(&live->build, &s->inst->build, sizeof(live->build))) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: the running datapath (ABI %u, %u stages, %u tuples, "
			 "%s flow values) is another build than %s (ABI %u, %u stages, %u tuples, "
			 "%s flow values)",
			 live->build.abi_version, live->build.max_stages, live->build.max_tuples,
			 live->build.compact_flows ? "compact" : "full",
			 path, s->inst->build.abi_version, s->inst->build.max_stages,
			 s->inst->build.max_tuples, s->inst->build.compact_flows ? "compact" : "full");
		err = -EPROTO;
		goto fail;
	}
	if (img) {
		err = install_app(s, live, img, nm);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "simulate: cannot install the application in the copy: %s",
				 strerror(-err));
			goto fail;
		}
	} else {
		err = copy_live_state(s, live);
		if (err)
			goto fail;
	}
	err = xfsm_read_app(s->inst, &s->img);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	xfsm_sim_close(s);
	return err;
}

struct xfsm_instance *xfsm_sim_instance(struct xfsm_sim *s)
{
	return s->inst;
}

void xfsm_sim_close(struct xfsm_sim *s)
{
	if (!s)
		return;
	xfsm_instance_close(s->inst);
	bpf_object__close(s->obj);
	xfsm_image_free(&s->img);
	free(s);
}

void xfsm_sim_result_free(struct xfsm_sim_result *res)
{
	free(res->flows);
	res->flows = NULL;
	res->n_flows = 0;
}

/* ---- snapshots ---------------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xfsm_flow_key));
}

static int snap_flow_cb(const struct xfsm_flow_key *key, const struct xfsm_flow *flow,
			void *ctx)
{
	struct snap *sn = ctx;

	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? 2 * sn->cap : 256;
		struct flow_snap *p = realloc(sn->flows, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sn->flows = p;
		sn->cap = cap;
	}
	sn->flows[sn->n].key = *key;
	sn->flows[sn->n].flow = *flow;
	sn->n++;
	return 0;
}

static void snap_free(struct snap *sn)
{
	free(sn->flows);
	free(sn->rule_pkts);
}

static int snap_take(struct xfsm_sim *s, struct snap *sn)
{
	const struct xfsm_stat_idents *ids = &s->img.idents;
	struct xfsm_counter c;
	struct xfsm_rule_stats rs;
	int err;

	memset(sn, 0, sizeof(*sn));
	sn->rule_pkts = calloc(ids->n + 1, sizeof(__u64));
	if (!sn->rule_pkts)
		return -ENOMEM;
	err = xfsm_flow_foreach(s->inst, snap_flow_cb, sn);
	if (err)
		return err < 0 ? err : -EIO;
	qsort(sn->flows, sn->n, sizeof(*sn->flows), key_cmp);
	err = xfsm_read_stats(s->inst, &sn->stats);
	for (unsigned int i = 0; !err && i < s->img.app.n_stages && i < XFSM_MAX_STAGES; i++) {
		const struct xfsm_stage *st = &s->img.app.stages[i];

		err = xfsm_read_stage_stats(s->inst, i, &sn->st[i]);
		if (!err && st->kind == XFSM_STAGE_ACL)
			err = xfsm_acl_read_stats(s->inst, st->acl_table, &sn->acl[i]);
	}
	/* a source rule's table entries share one counter, as do the count
	 * actions of one user counter */
	for (size_t i = 0; !err && i < ids->n; i++) {
		const struct xfsm_stat_ident *e = &ids->v[i];

		if (e->kind == XFSM_SID_RULE) {
			err = xfsm_read_rule_stats_at(s->inst, e->index, &rs);
			sn->rule_pkts[i] = rs.packets;
		} else if (e->kind == XFSM_SID_COUNTER && e->pos < XFSM_MAX_COUNTERS) {
			err = xfsm_read_counter_at(s->inst, e->index, &c);
			sn->counters[e->pos] = c.packets;
		}
	}
	if (!err)
		err = xfsm_globals_read(s->inst, sn->globals);
	return err;
}

static const struct flow_snap *snap_find(const struct snap *sn, const struct xfsm_flow_key *k)
{
	return bsearch(k, sn->flows, sn->n, sizeof(*sn->flows), key_cmp);
}

static int add_flow_change(struct xfsm_sim_result *res, const struct flow_snap *b,
			   const struct flow_snap *a)
{
	struct xfsm_sim_flow *p = realloc(res->flows, (res->n_flows + 1) * sizeof(*p));
	struct xfsm_sim_flow *f;

	if (!p)
		return -ENOMEM;
	res->flows = p;
	f = &p[res->n_flows++];
	memset(f, 0, sizeof(*f));
	f->key = b ? b->key : a->key;
	f->before_ok = b != NULL;
	f->after_ok = a != NULL;
	if (b)
		f->before = b->flow;
	if (a)
		f->after = a->flow;
	return 0;
}

/* Flows that differ between the two sorted snapshots. */
static int diff_flows(const struct snap *b, const struct snap *a, struct xfsm_sim_result *res)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < b->n || j < a->n)) {
		int c = i == b->n ? 1 : j == a->n ? -1 : key_cmp(&b->flows[i].key, &a->flows[j].key);

		if (c < 0)
			err = add_flow_change(res, &b->flows[i++], NULL);
		else if (c > 0)
			err = add_flow_change(res, NULL, &a->flows[j++]);
		else {
			if (memcmp(&b->flows[i].flow, &a->flows[j].flow, sizeof(struct xfsm_flow)))
				err = add_flow_change(res, &b->flows[i], &a->flows[j]);
			i++;
			j++;
		}
	}
	return err;
}

/* ---- running a packet ------------------------------------------------------------ */

/* Make the loopback device, where test runs arrive, port `port`. */
static int set_port(struct xfsm_sim *s, __u32 port)
{
	struct xfsm_port pv = { .port = port };
	int fd = s->inst->map_fd[XFSM_M_PORTS], err;
	__u32 zero = 0;

	if (port == s->port)
		return 0;
	if (port)
		err = bpf_map_update_elem(fd, &s->lo_ifindex, &pv, BPF_ANY);
	else
		err = bpf_map_delete_elem(fd, &s->lo_ifindex);
	if (err && !(errno == ENOENT && !port))
		return -errno;
	/* The datapath caches a CPU's last port until the generation moves. */
	s->port_gen++;
	if (s->inst->map_fd[XFSM_M_PORT_GEN] >= 0 &&
	    bpf_map_update_elem(s->inst->map_fd[XFSM_M_PORT_GEN], &zero, &s->port_gen, BPF_ANY))
		return -errno;
	s->port = port;
	return 0;
}

/* The field vector the run left in this CPU's scratch value (struct
 * xfsm_work starts with it: bpf/common.h asserts so). */
static int read_fields(struct xfsm_sim *s, __u32 *fv)
{
	size_t stride = (s->work_size + 7) & ~7U;
	__u32 zero = 0;
	char *v = calloc(s->nr_cpus, stride);
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->work_fd, &zero, v))
		err = -errno;
	else
		memcpy(fv, v + (size_t)s->cpu * stride, XFSM_FV_WORDS * sizeof(__u32));
	free(v);
	return err;
}

static void fill_stage(struct xfsm_sim *s, const struct snap *b, const struct snap *a,
		       const struct xfsm_sim_result *res, unsigned int i,
		       struct xfsm_sim_stage *o)
{
	const struct xfsm_stage *st = &s->img.app.stages[i];
	const struct flow_snap *fb, *fa;

	memset(o, 0, sizeof(*o));
	o->stage = i;
	o->visits = a->st[i].packets - b->st[i].packets;
	o->hit = a->st[i].hits != b->st[i].hits;
	o->acl = st->kind == XFSM_STAGE_ACL;
	o->rule_id = XFSM_SIM_MISS;
	o->idle_expired = a->st[i].idle_expired != b->st[i].idle_expired;
	o->hard_expired = a->st[i].hard_expired != b->st[i].hard_expired;
	for (size_t k = 0; k < s->img.idents.n && o->rule_id == XFSM_SIM_MISS; k++) {
		const struct xfsm_stat_ident *e = &s->img.idents.v[k];

		if (e->kind != XFSM_SID_RULE || a->rule_pkts[k] == b->rule_pkts[k])
			continue;
		for (size_t r = 0; r < s->img.n_rules; r++) {
			if (s->img.rules[r].rule.rule_id == e->pos) {
				if (s->img.rules[r].key.stage == i)
					o->rule_id = e->pos;
				break;
			}
		}
	}
	if (o->acl) {
		const struct xfsm_acl_stats *ab = &b->acl[i], *aa = &a->acl[i];

		o->acl_action = aa->deny != ab->deny ? "deny" : aa->pass != ab->pass ? "pass" :
				aa->go != ab->go ? "goto" : aa->allow != ab->allow ? "allow" : "miss";
		o->acl_marked = aa->marked != ab->marked;
		return;
	}
	if (st->flags & XFSM_SF_NO_LOOKUP)
		return;
	o->lookup = true;
	xfsm_flow_key_build(st, i, res->fv, false, &o->key);
	fb = snap_find(b, &o->key);
	fa = snap_find(a, &o->key);
	o->flow_before_ok = fb != NULL;
	o->flow_after_ok = fa != NULL;
	if (fb)
		o->flow_before = fb->flow;
	if (fa)
		o->flow_after = fa->flow;
	o->state_seen = !fb ? 0 : o->hard_expired ? fb->flow.hard_rollback :
			o->idle_expired ? fb->flow.idle_rollback : fb->flow.state;
}

int xfsm_sim_run(struct xfsm_sim *s, const void *frame, size_t len, __u32 port,
		 struct xfsm_sim_result *res)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct snap b, a;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	if (len > XFSM_SIM_FRAME_MAX) {
		xfsm_log(XFSM_LOG_ERROR, "simulate: a frame of %zu bytes; at most %u are simulated",
			 len, XFSM_SIM_FRAME_MAX);
		return -E2BIG;
	}
	res->port = port;
	res->len = (__u32)len;
	err = set_port(s, port);
	if (err)
		return err;
	err = snap_take(s, &b);
	if (err)
		goto out;
	o.data_in = frame;
	o.data_size_in = (__u32)len;
	o.data_out = res->out;
	o.data_size_out = sizeof(res->out);
	o.repeat = 1;
	err = bpf_prog_test_run_opts(s->prog_fd, &o);
	if (err) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "simulate: BPF_PROG_TEST_RUN failed: %s", strerror(-err));
		goto out;
	}
	res->verdict = (int)o.retval;
	res->out_len = o.data_size_out;
	err = read_fields(s, res->fv);
	if (!err)
		err = snap_take(s, &a);
	if (err)
		goto out;
	{
		__u64 *pa = (__u64 *)&a.stats, *pb = (__u64 *)&b.stats, *pd = (__u64 *)&res->stats;

		for (size_t k = 0; k < sizeof(res->stats) / sizeof(__u64); k++)
			pd[k] = pa[k] - pb[k];
	}
	for (unsigned int i = 0; i < s->img.app.n_stages && i < XFSM_MAX_STAGES; i++) {
		if (a.st[i].packets == b.st[i].packets)
			continue;
		fill_stage(s, &b, &a, res, i, &res->st[res->n_stages++]);
	}
	memcpy(res->globals_before, b.globals, sizeof(b.globals));
	memcpy(res->globals_after, a.globals, sizeof(a.globals));
	for (unsigned int i = 0; i < XFSM_MAX_COUNTERS; i++)
		res->counters[i] = a.counters[i] - b.counters[i];
	err = diff_flows(&b, &a, res);
out:
	snap_free(&b);
	snap_free(&a);
	if (err)
		xfsm_sim_result_free(res);
	return err;
}

_Static_assert(sizeof(struct xfsm_stats) % sizeof(__u64) == 0,
	       "xfsm_stats is read as an array of counters");
