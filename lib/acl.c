/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL module, user-space side: rule lists, each table's regions of the
 * rule and node arrays, atomic install into an instance's ACL table,
 * read-back and statistics.  The compiler and the in-process classifier
 * are in lib/acl_tree.c, rule syntax in lib/acl_parse.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xfsm_acl.h"
#include "apply_internal.h"
#include "xfsm/acl_match.h"

/* ---- Rule lists ------------------------------------------------------------- */

void xfsm_acl_entry_init(struct xfsm_acl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->sport_hi = 0xffff;
	e->dport_hi = 0xffff;
	e->action = XFSM_ACL_ALLOW;
}

void xfsm_acl_rules_free(struct xfsm_acl_rules *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

int xfsm_acl_rules_add(struct xfsm_acl_rules *rs, const struct xfsm_acl_entry *e)
{
	size_t i;

	/* ids above every id in use cannot be taken: files and generated
	 * sets add in ascending order, so this stays linear overall */
	if (e->rule_id && e->rule_id <= rs->max_id) {
		for (i = 0; i < rs->n; i++)
			if (rs->r[i].rule_id == e->rule_id)
				return -EEXIST;
	}
	if (rs->n >= XFSM_ACL_MAX_RULES)
		return -E2BIG;
	/* ids are 1..2^32-1: after the highest there may be none (0 is no id) */
	if (!e->rule_id && rs->max_id == 0xffffffffU)
		return -ERANGE;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct xfsm_acl_entry *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n] = *e;
	if (!e->rule_id)
		rs->r[rs->n].rule_id = rs->max_id + 1;
	if (rs->r[rs->n].rule_id > rs->max_id)
		rs->max_id = rs->r[rs->n].rule_id;
	rs->n++;
	return 0;
}

int xfsm_acl_rules_del(struct xfsm_acl_rules *rs, __u32 rule_id)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].rule_id == rule_id) {
			memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(rs->r[0]));
			rs->n--;
			return 0;
		}
	}
	return -ENOENT;
}

static int prec_cmp(const void *pa, const void *pb)
{
	const struct xfsm_acl_entry *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->rule_id != b->rule_id)
		return a->rule_id < b->rule_id ? -1 : 1;
	return 0;
}

void xfsm_acl_rules_sort(struct xfsm_acl_rules *rs)
{
	if (rs->n)
		qsort(rs->r, rs->n, sizeof(rs->r[0]), prec_cmp);
}

/* ---- Instance tables ------------------------------------------------------------ */

static const enum xfsm_map_id acl_maps[] = {
	XFSM_M_ACL_CTL, XFSM_M_ACL_SETS, XFSM_M_ACL_RULES, XFSM_M_ACL_NODES, XFSM_M_ACL_STATS,
};

int xfsm_acl_check(struct xfsm_instance *inst)
{
	size_t i;

	if (!inst)
		return -EINVAL;
	for (i = 0; i < sizeof(acl_maps) / sizeof(acl_maps[0]); i++) {
		if (inst->map_fd[acl_maps[i]] < 0) {
			xfsm_log(XFSM_LOG_ERROR,
				 "instance %s has no ACL map %s (offload profile, or a datapath older than this tool)",
				 inst->name, xfsm_map_names[acl_maps[i]]);
			return -EOPNOTSUPP;
		}
	}
	if (inst->map_value_size[XFSM_M_ACL_RULES] != sizeof(struct xfsm_acl_entry) ||
	    inst->map_value_size[XFSM_M_ACL_NODES] != sizeof(struct xfsm_acl_node) ||
	    inst->map_value_size[XFSM_M_ACL_SETS] != sizeof(struct xfsm_acl_set) ||
	    inst->map_value_size[XFSM_M_ACL_CTL] != sizeof(struct xfsm_acl_ctl) ||
	    inst->map_max_entries[XFSM_M_ACL_SETS] < 2 * XFSM_ACL_TABLES) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: ACL maps do not match this tool's ABI",
			 inst->name);
		return -EPROTO;
	}
	return 0;
}

/* The regions of the table in ctl, or the default split when the maps
 * were made without a layout (all zero). */
static void layout_default(const struct xfsm_instance *inst, unsigned int table,
			   struct xfsm_acl_ctl *ctl)
{
	if (ctl->rule_cap || ctl->node_cap)
		return;
	ctl->rule_cap = inst->map_max_entries[XFSM_M_ACL_RULES] / (2 * XFSM_ACL_TABLES);
	ctl->rule_base = table * 2 * ctl->rule_cap;
	ctl->node_cap = inst->map_max_entries[XFSM_M_ACL_NODES] / (2 * XFSM_ACL_TABLES);
	ctl->node_base = table * 2 * ctl->node_cap;
}

/* The instance has ACL maps of this ABI and `table` is one of them. */
static int table_check(struct xfsm_instance *inst, unsigned int table)
{
	int err = xfsm_acl_check(inst);

	if (!err && table >= XFSM_ACL_TABLES)
		err = -EINVAL;
	return err;
}

/* The buffer of `table` the running application slot names. */
static int running_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int *buf)
{
	struct xfsm_app *app;
	int err;

	err = xfsm_running_app_read(inst, &app);
	if (err)
		return err;
	*buf = app->acl_buf[table] & 1;
	free(app);
	return 0;
}

int xfsm_acl_set_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_set *set, unsigned int *buffer)
{
	unsigned int buf;
	__u32 k;
	int err;

	err = table_check(inst, table);
	if (err)
		return err;
	err = running_buffer(inst, table, &buf);
	if (err)
		return err;
	if (buffer)
		*buffer = buf;
	k = table * 2 + buf;
	if (set && bpf_map_lookup_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, set))
		return -errno;
	return 0;
}

int xfsm_acl_ctl_get(struct xfsm_instance *inst, unsigned int table,
		     struct xfsm_acl_ctl *ctl, struct xfsm_acl_set *set)
{
	__u32 k = table;
	int err;

	err = table_check(inst, table);
	if (err)
		return err;
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_ACL_CTL], &k, ctl))
		return -errno;
	layout_default(inst, table, ctl);
	return set ? xfsm_acl_set_get(inst, table, set, NULL) : 0;
}

int xfsm_acl_caps_get(struct xfsm_instance *inst, struct xfsm_acl_caps *caps)
{
	struct xfsm_acl_ctl ctl;
	unsigned int t;
	int err;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		err = xfsm_acl_ctl_get(inst, t, &ctl, NULL);
		if (err)
			return err;
		caps->rules[t] = ctl.rule_cap;
		caps->nodes[t] = ctl.node_cap;
	}
	return 0;
}

void xfsm_acl_caps_default(struct xfsm_acl_caps *caps)
{
	unsigned int t;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		caps->rules[t] = XFSM_ACL_DEF_RULES;
		caps->nodes[t] = XFSM_ACL_DEF_RULES * XFSM_ACL_DEF_NODES_PER_RULE;
	}
}

void xfsm_acl_caps_totals(const struct xfsm_acl_caps *caps, __u64 *rules, __u64 *nodes)
{
	unsigned int t;

	*rules = *nodes = 0;
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		*rules += 2ULL * caps->rules[t];
		*nodes += 2ULL * caps->nodes[t];
	}
}

int xfsm_acl_caps_write_fd(int ctl_fd, const struct xfsm_acl_caps *caps)
{
	struct xfsm_acl_ctl ctl;
	__u64 rb = 0, nb = 0;
	unsigned int t;
	__u32 k;

	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		k = t;
		memset(&ctl, 0, sizeof(ctl));
		ctl.rule_base = rb;
		ctl.rule_cap = caps->rules[t];
		ctl.node_base = nb;
		ctl.node_cap = caps->nodes[t];
		rb += 2ULL * caps->rules[t];
		nb += 2ULL * caps->nodes[t];
		if (rb > 0xffffffffULL || nb > 0xffffffffULL)
			return -E2BIG;
		if (bpf_map_update_elem(ctl_fd, &k, &ctl, BPF_ANY))
			return -errno;
	}
	return 0;
}

int xfsm_acl_caps_set(struct xfsm_instance *inst, const struct xfsm_acl_caps *caps)
{
	__u64 rules, nodes;
	int err;

	err = xfsm_acl_check(inst);
	if (err)
		return err;
	xfsm_acl_caps_totals(caps, &rules, &nodes);
	if (rules > inst->map_max_entries[XFSM_M_ACL_RULES] ||
	    nodes > inst->map_max_entries[XFSM_M_ACL_NODES]) {
		xfsm_log(XFSM_LOG_ERROR,
			 "instance %s: ACL capacities need %llu rule and %llu node entries, its maps have %u and %u",
			 inst->name, (unsigned long long)rules, (unsigned long long)nodes,
			 inst->map_max_entries[XFSM_M_ACL_RULES],
			 inst->map_max_entries[XFSM_M_ACL_NODES]);
		return -ENOSPC;
	}
	return xfsm_acl_caps_write_fd(inst->map_fd[XFSM_M_ACL_CTL], caps);
}

/* An ACL array of the instance mapped into memory (whole). */
struct acl_mmap {
	void	*p;
	size_t	len;
};

static int acl_map_mmap(struct xfsm_instance *inst, enum xfsm_map_id id, int prot,
			struct acl_mmap *m)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)inst->map_max_entries[id] * inst->map_value_size[id];

	m->len = (len + page - 1) / page * page;
	m->p = mmap(NULL, m->len, prot, MAP_SHARED, inst->map_fd[id], 0);
	if (m->p == MAP_FAILED) {
		int err = -errno;

		m->p = NULL;
		xfsm_log(XFSM_LOG_ERROR, "instance %s: cannot map %s into memory: %s",
			 inst->name, xfsm_map_names[id], strerror(-err));
		return err;
	}
	return 0;
}

static void acl_map_unmap(struct acl_mmap *m)
{
	if (m->p)
		munmap(m->p, m->len);
	m->p = NULL;
}

/* The option of xfsm-loader that raises a limit, for error messages. */
static void report_limit(struct xfsm_instance *inst, unsigned int table, size_t n,
			 const struct xfsm_acl_build_info *bi, int err)
{
	switch (bi->limit) {
	case XFSM_ACL_LIMIT_RULES:
		xfsm_log(XFSM_LOG_ERROR,
			 "ACL table %u of instance %s holds %zu rules, this set has %zu: "
			 "raise it with xfsm-loader load --acl-rules %u=N (max %u); the running rules are unchanged",
			 table, inst->name, bi->have, n, table, XFSM_ACL_MAX_RULES);
		break;
	case XFSM_ACL_LIMIT_NODES:
		xfsm_log(XFSM_LOG_ERROR,
			 "ACL table %u of instance %s holds %zu tree nodes; these %zu rules need more "
			 "(ran out at %s): raise it with xfsm-loader load --acl-nodes %u=N; "
			 "the running rules are unchanged",
			 table, inst->name, bi->have, n, bi->rule_text, table);
		break;
	case XFSM_ACL_LIMIT_TREES:
		xfsm_log(XFSM_LOG_ERROR,
			 "ACL table %u: %s overlaps more rules than %u trees of %u-rule leaves can "
			 "separate (XFSM_ACL_MAX_TREES, XFSM_ACL_LEAF); the running rules are unchanged",
			 table, bi->rule_text, XFSM_ACL_MAX_TREES, XFSM_ACL_LEAF);
		break;
	case XFSM_ACL_LIMIT_LOOKUPS:
		xfsm_log(XFSM_LOG_ERROR,
			 "ACL table %u: a packet could take %zu map lookups in this set, the limit is %u "
			 "(XFSM_ACL_MAX_LOOKUPS; the last tree starts at %s); the running rules are unchanged",
			 table, bi->need, XFSM_ACL_MAX_LOOKUPS, bi->rule_text);
		break;
	case XFSM_ACL_LIMIT_WORK:
		xfsm_log(XFSM_LOG_ERROR,
			 "ACL table %u: the rules replicate beyond what the compiler builds "
			 "(stopped at %s); the running rules are unchanged",
			 table, bi->rule_text);
		break;
	default:
		xfsm_log(XFSM_LOG_ERROR, "ACL table %u: cannot compile %zu rules: %s",
			 table, n, strerror(-err));
		break;
	}
}

int xfsm_acl_prepare(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n, struct xfsm_acl_built **out)
{
	struct xfsm_acl_build_info bi;
	struct xfsm_acl_built *b = NULL;
	const struct xfsm_acl_set *set;
	struct xfsm_acl_limits lim;
	struct xfsm_acl_ctl ctl;
	int err;

	*out = NULL;
	err = xfsm_acl_ctl_get(inst, table, &ctl, NULL);
	if (err)
		return err;
	lim.max_rules = ctl.rule_cap;
	lim.max_nodes = ctl.node_cap;
	err = xfsm_acl_compile(rules, n, &lim, &b, &bi);
	if (err) {
		report_limit(inst, table, n, &bi, err);
		return err;
	}
	set = xfsm_acl_built_set(b);
	/* never write past the buffer, whatever the compiler made */
	if (set->n_rules > ctl.rule_cap || set->n_nodes > ctl.node_cap) {
		xfsm_log(XFSM_LOG_ERROR, "ACL table %u: the compiled set does not fit its buffer",
			 table);
		xfsm_acl_built_free(b);
		return -ENOSPC;
	}
	*out = b;
	return 0;
}

int xfsm_acl_write_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int buf,
			  const struct xfsm_acl_built *b, __u32 generation)
{
	struct acl_mmap mr = { 0 }, mn = { 0 };
	struct xfsm_acl_ctl ctl;
	struct xfsm_acl_set set;
	__u32 k;
	int err;

	err = xfsm_acl_ctl_get(inst, table, &ctl, NULL);
	if (err)
		return err;
	set = *xfsm_acl_built_set(b);
	if (set.n_rules > ctl.rule_cap || set.n_nodes > ctl.node_cap)
		return -ENOSPC;
	if ((__u64)ctl.rule_base + 2ULL * ctl.rule_cap > inst->map_max_entries[XFSM_M_ACL_RULES] ||
	    (__u64)ctl.node_base + 2ULL * ctl.node_cap > inst->map_max_entries[XFSM_M_ACL_NODES]) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: ACL table %u's regions lie outside its maps",
			 inst->name, table);
		return -EPROTO;
	}
	err = acl_map_mmap(inst, XFSM_M_ACL_RULES, PROT_READ | PROT_WRITE, &mr);
	if (!err)
		err = acl_map_mmap(inst, XFSM_M_ACL_NODES, PROT_READ | PROT_WRITE, &mn);
	if (err)
		goto out;
	buf &= 1;
	set.rule_base = ctl.rule_base + buf * ctl.rule_cap;
	set.node_base = ctl.node_base + buf * ctl.node_cap;
	set.generation = generation;
	if (set.n_rules)
		memcpy((struct xfsm_acl_entry *)mr.p + set.rule_base, xfsm_acl_built_rules(b),
		       set.n_rules * sizeof(struct xfsm_acl_entry));
	if (set.n_nodes)
		memcpy((struct xfsm_acl_node *)mn.p + set.node_base, xfsm_acl_built_nodes(b),
		       set.n_nodes * sizeof(struct xfsm_acl_node));
	/* the buffer is complete before its descriptor points to it (and
	 * only the slot written next names the descriptor) */
	__sync_synchronize();
	k = table * 2 + buf;
	if (bpf_map_update_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, &set, BPF_ANY))
		err = -errno;
out:
	acl_map_unmap(&mr);
	acl_map_unmap(&mn);
	return err;
}

int xfsm_acl_settle(struct xfsm_instance *inst, const struct xfsm_app *app, __u32 tables)
{
	struct xfsm_acl_set zero = {};
	unsigned int t;
	__u32 k;

	/* A descriptor is all a buffer is: an empty one leaves its region's
	 * entries unreachable until the next write replaces them. */
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (!(tables & (1U << t)))
			continue;
		k = t * 2 + !(app->acl_buf[t] & 1);
		if (bpf_map_update_elem(inst->map_fd[XFSM_M_ACL_SETS], &k, &zero, BPF_ANY))
			return -errno;
	}
	return 0;
}

int xfsm_acl_install(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n)
{
	struct xfsm_change chg = { 0 };
	int err;

	err = table_check(inst, table);
	if (err)
		return err;
	chg.acl_tables = 1U << table;	/* a table number checked: no shift past 31 */
	chg.acl_rules[table] = rules;
	chg.acl_n[table] = n;
	return xfsm_apply_change(inst, &chg);
}

int xfsm_acl_read(struct xfsm_instance *inst, unsigned int table,
		  struct xfsm_acl_rules *rs)
{
	struct xfsm_acl_ctl ctl;
	struct xfsm_acl_set set;
	struct acl_mmap mr = { 0 };
	const struct xfsm_acl_entry *e;
	size_t i;
	int err;

	memset(rs, 0, sizeof(*rs));
	err = xfsm_acl_ctl_get(inst, table, &ctl, &set);
	if (err)
		return err;
	if (!set.n_rules)
		return 0;
	if (set.n_rules > ctl.rule_cap ||
	    (__u64)set.rule_base + set.n_rules > inst->map_max_entries[XFSM_M_ACL_RULES])
		return -EPROTO;
	err = acl_map_mmap(inst, XFSM_M_ACL_RULES, PROT_READ, &mr);
	if (err)
		return err;
	e = (const struct xfsm_acl_entry *)mr.p + set.rule_base;
	rs->r = malloc(set.n_rules * sizeof(*rs->r));
	if (!rs->r) {
		acl_map_unmap(&mr);
		return -ENOMEM;
	}
	/* by order, which is precedence order */
	memcpy(rs->r, e, set.n_rules * sizeof(*rs->r));
	acl_map_unmap(&mr);
	rs->n = rs->cap = set.n_rules;
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].rule_id > rs->max_id)
			rs->max_id = rs->r[i].rule_id;
	return 0;
}

int xfsm_acl_read_stats(struct xfsm_instance *inst, unsigned int table,
			struct xfsm_acl_stats *out)
{
	int fd, ncpu = inst ? inst->nr_cpus : 0, c, i;
	struct xfsm_acl_stats *v;
	__u32 k = table;
	int err;

	err = table_check(inst, table);
	if (err)
		return err;
	if (ncpu < 1)
		ncpu = 1;
	fd = inst->map_fd[XFSM_M_ACL_STATS];
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &k, v)) {
		err = -errno;
		free(v);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpu; c++) {
		const __u64 *src = (const __u64 *)&v[c];
		__u64 *dst = (__u64 *)out;

		for (i = 0; i < (int)(sizeof(*out) / 8); i++)
			dst[i] += src[i];
	}
	free(v);
	return 0;
}
