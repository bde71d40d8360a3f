/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Flow table access and batched map walks.  A million flows must list in
 * seconds: entries move in batches of WALK_BATCH with
 * BPF_MAP_LOOKUP_BATCH, and only kernels without batching fall back to
 * get_next_key.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "apply_internal.h"
#include "xfsm_plan.h"

#define WALK_BATCH	8192
#define WALK_MAX_BUF	(16U << 20)	/* bytes of values per batch at most */
#define ENOTSUPP_KERNEL	524		/* the kernel's internal ENOTSUPP */

__u64 xfsm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The clock only moves on, so no generation is ever written twice and a
 * cache filled before a change can never look current again, whatever
 * the number of writers. */
int xfsm_ports_changed(int gen_fd)
{
	__u64 gen = xfsm_now_ns();
	__u32 zero = 0;

	if (gen_fd < 0)
		return 0;
	return bpf_map_update_elem(gen_fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

/* As the datapath reads a key word: XFSM_FW_ZERO, and anything past the
 * vector, read as 0 (words after XFSM_FW_ZERO are fields too). */
static __u32 fv_word(const __u32 fv[XFSM_FV_WORDS], __u8 w)
{
	return w == XFSM_FW_ZERO || w >= XFSM_FV_WORDS ? 0 : fv[w];
}

static void key_from_words(struct xfsm_flow_key *key, const __u8 *words,
			   const __u32 fv[XFSM_FV_WORDS])
{
	int i;

	for (i = 0; i < XFSM_KEY_WORDS; i++)
		key->w[i] = fv_word(fv, words[i]);
}

void xfsm_flow_key_build(const struct xfsm_stage *st, unsigned int stage,
			 const __u32 fv[XFSM_FV_WORDS], bool update_scope,
			 struct xfsm_flow_key *key)
{
	bool upd = update_scope && !(st->flags & XFSM_SF_SAME_KEYS);
	struct xfsm_flow_key rev;
	int i;

	memset(key, 0, sizeof(*key));
	key->stage = stage;
	key->epoch = st->epoch;
	key_from_words(key, upd ? st->update_words : st->lookup_words, fv);
	if (!(st->flags & XFSM_SF_SYMMETRIC))
		return;
	rev = *key;
	key_from_words(&rev, upd ? st->update_rev : st->lookup_rev, fv);
	/* Both directions share the entry of the smaller key, compared word
	 * by word as unsigned 32-bit numbers, as the datapath does. */
	for (i = 0; i < XFSM_KEY_WORDS; i++) {
		if (rev.w[i] != key->w[i]) {
			if (rev.w[i] < key->w[i])
				*key = rev;
			break;
		}
	}
}

static int map_fd(struct xfsm_instance *inst, enum xfsm_map_id id)
{
	if (!inst || id < 0 || id >= XFSM_M__MAX || inst->map_fd[id] < 0)
		return -ENOENT;
	return inst->map_fd[id];
}

/*
 * Maps whose values hold a bpf_spin_lock are read and written with
 * BPF_F_LOCK so that user space never sees or makes a half-updated entry.
 * LRU hash maps refuse BPF_F_LOCK on update and the offload profile has no
 * locks: remember the refusal and go on without.
 */
#define NOLOCK_UPDATE(id)	(1U << (id))
#define NOLOCK_LOOKUP(id)	(1U << ((id) + 16))

int xfsm_map_lookup_locked(struct xfsm_instance *inst, enum xfsm_map_id id,
			   const void *key, void *val)
{
	int fd = map_fd(inst, id), err;

	if (fd < 0)
		return fd;
	if (!(inst->nolock_mask & NOLOCK_LOOKUP(id))) {
		err = bpf_map_lookup_elem_flags(fd, key, val, BPF_F_LOCK);
		if (err != -EINVAL)
			return err;
	}
	err = bpf_map_lookup_elem(fd, key, val);
	if (!err)
		inst->nolock_mask |= NOLOCK_LOOKUP(id);
	return err;
}

int xfsm_map_update_locked(struct xfsm_instance *inst, enum xfsm_map_id id,
			   const void *key, const void *val, __u64 flags)
{
	int fd = map_fd(inst, id), err;

	if (fd < 0)
		return fd;
	if (!(inst->nolock_mask & NOLOCK_UPDATE(id))) {
		err = bpf_map_update_elem(fd, key, val, flags | BPF_F_LOCK);
		if (err != -EINVAL)
			return err;
	}
	err = bpf_map_update_elem(fd, key, val, flags);
	if (!err)
		inst->nolock_mask |= NOLOCK_UPDATE(id);
	return err;
}

const struct xfsm_flow_table_class xfsm_flow_table_classes[XFSM_FLOW_TABLE_CLASSES] = {
	{ XFSM_M_FLOWS,   0,              XFSM_KEY_WORDS,        "wide" },
	{ XFSM_M_FLOWS_N, XFSM_SF_NARROW, XFSM_NARROW_KEY_WORDS, "narrow" },
	{ XFSM_M_FLOWS_M, XFSM_SF_MEDIUM, XFSM_MEDIUM_KEY_WORDS, "medium" },
};

const struct xfsm_flow_table_class *xfsm_flow_table_class(__u32 stage_flags)
{
	const struct xfsm_flow_table_class *c;

	xfsm_for_each_flow_table(c)
		if (c->stage_flag == (stage_flags & XFSM_SF_TABLE))
			return c;
	return &xfsm_flow_table_classes[0];	/* both flags: no stage the planner marks */
}

const struct xfsm_flow_table_class *xfsm_flow_table_class_of_map(enum xfsm_map_id id)
{
	const struct xfsm_flow_table_class *c;

	xfsm_for_each_flow_table(c)
		if (c->id == id)
			return c;
	return NULL;
}

const struct xfsm_flow_table_class *xfsm_flow_table_class_of_map_name(const char *map_name)
{
	const struct xfsm_flow_table_class *c;

	xfsm_for_each_flow_table(c)
		if (!strcmp(map_name, xfsm_map_names[c->id]))
			return c;
	return NULL;
}

const struct xfsm_flow_table_class *xfsm_flow_table_class_named(const char *what)
{
	const struct xfsm_flow_table_class *c;

	xfsm_for_each_flow_table(c)
		if (!strcmp(what, c->what))
			return c;
	return NULL;
}

/* The bytes of a table's key: the head of struct xfsm_flow_key and its
 * first c->words words. */
static size_t flow_key_size(const struct xfsm_flow_table_class *c)
{
	return offsetof(struct xfsm_flow_key, w) + sizeof(__u32) * c->words;
}

/* The table's key is the first map_key_size bytes of the struct
 * xfsm_flow_key. */
enum xfsm_map_id xfsm_flow_table(struct xfsm_instance *inst, unsigned int stage)
{
	const struct xfsm_flow_table_class *c;
	struct xfsm_app *app;

	if (stage >= XFSM_MAX_STAGES || xfsm_running_app_read(inst, &app))
		return XFSM_M_FLOWS;
	c = xfsm_flow_table_class(stage < app->n_stages ? app->stages[stage].flags : 0);
	free(app);
	return map_fd(inst, c->id) < 0 ? XFSM_M_FLOWS : c->id;
}

/* A flow key's table, or -EINVAL: a narrower table's key has no other
 * words than its own. */
static int flow_key_table(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
			  enum xfsm_map_id *id)
{
	unsigned int i;

	if (!key)
		return -EINVAL;
	*id = xfsm_flow_table(inst, key->stage);
	for (i = xfsm_flow_table_class_of_map(*id)->words; i < XFSM_KEY_WORDS; i++)
		if (key->w[i])
			return -EINVAL;
	return 0;
}

bool xfsm_flows_compact(const struct xfsm_instance *inst)
{
	return inst && inst->build.compact_flows;
}

/* Flows hold no bpf_spin_lock (xfsm_flow): plain map calls.  A compact
 * value is the full one's head: the rest reads as zeros. */
int xfsm_flow_get(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
		  struct xfsm_flow *flow)
{
	enum xfsm_map_id id;
	int err, fd;

	if (!flow)
		return -EINVAL;
	memset(flow, 0, sizeof(*flow));
	err = flow_key_table(inst, key, &id);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	fd = map_fd(inst, id);
	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, key, flow) ? -errno : 0;
}

/*
 * A flow's timeouts as a transition into its state may set them
 * (xfsm_timeouts_check(), the rule of the language, xfsmctl state set and
 * xfsm_image_validate()): the hard timeout is its deadline's distance from
 * the state's entry (created_ns), as the datapath and state set write it.
 */
static int flow_timeouts_valid(const struct xfsm_flow *f)
{
	__u64 span = f->hard_deadline_ns > f->created_ns ? f->hard_deadline_ns - f->created_ns : 0;
	__u32 hard_ms = 0;
	unsigned int bad;

	if (f->hard_deadline_ns)
		hard_ms = span / 1000000 > 0xffffffffULL ? 0xffffffffU :
			  span / 1000000 ? (__u32)(span / 1000000) : 1;
	bad = xfsm_timeouts_check(f->state, f->idle_timeout_ms, f->idle_rollback, hard_ms,
				  f->hard_rollback);
	if (bad & (XFSM_TIMEOUT_IDLE_SELF | XFSM_TIMEOUT_HARD_SELF))
		xfsm_log(XFSM_LOG_ERROR,
			 "flow in state %u: its %s timeout rolls back to that state: it would change nothing",
			 f->state, bad & XFSM_TIMEOUT_IDLE_SELF ? "idle" : "hard");
	else if (bad & XFSM_TIMEOUT_IDLE_NOT_SHORTER)
		xfsm_log(XFSM_LOG_ERROR,
			 "flow: its idle timeout (%u ms) is not shorter than its hard one (%u ms from entry): it could never fire",
			 f->idle_timeout_ms, hard_ms);
	return bad ? -EINVAL : 0;
}

/*
 * The states a flow of a stage may be in.  The image keeps no list of a
 * stage's states (their names live in the source, for the compiler and
 * xfsmctl; an image made through this API need have none): it records
 * where states are used.  A flow can be in state 0 (where flows start), in
 * a state a rule of its stage moves flows into (goto state, or the
 * rollback of a timeout it sets) or in one a rule matches on; the
 * application can have a flow in no other state (the language refuses a
 * matched state that nothing enters, so for a compiled application these
 * are the states entered).  A state named in the source that no rule
 * uses is one of those.
 */
struct state_pair {
	__u32	mask, value;	/* states s with (s & mask) == value */
};

/* A stage's states as sets: the states rules enter and the exact states
 * they match (mask ~0) in one sorted array, matches under a partial mask
 * as pairs. */
struct stage_states {
	__u32	*exact;
	size_t	n_exact, cap_exact;
	struct state_pair *masked;
	size_t	n_masked, cap_masked;
};

/* Every stateful stage's states, for the application of one generation:
 * worked out by one walk of the rule table, kept with the instance until
 * another application (a new generation) runs.  A rule edit is a switch
 * (xfsm_apply_change), so the generation tells every change of rules. */
struct xfsm_flow_states {
	__u32	generation;
	struct stage_states stage[XFSM_MAX_STAGES];
};

struct states_walk {
	const struct xfsm_app *app;
	struct xfsm_flow_states *fs;
};

/* Room for one more of n elements of size bytes at *v (capacity *cap). */
static int room_for_one(void *v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*(void **)v, c * size);
	if (!p)
		return -ENOMEM;
	*(void **)v = p;
	*cap = c;
	return 0;
}

static int add_exact(struct stage_states *ss, __u32 state)
{
	int err = room_for_one(&ss->exact, &ss->cap_exact, ss->n_exact, sizeof(*ss->exact));

	if (!err)
		ss->exact[ss->n_exact++] = state;
	return err;
}

static int add_masked(struct stage_states *ss, __u32 mask, __u32 value)
{
	int err = room_for_one(&ss->masked, &ss->cap_masked, ss->n_masked, sizeof(*ss->masked));

	if (!err)
		ss->masked[ss->n_masked++] = (struct state_pair){ mask, value & mask };
	return err;
}

static int rule_states(const void *key, const void *value, void *ctx)
{
	const struct xfsm_rule_key *k = key;
	const struct xfsm_rule *r = value;
	struct states_walk *w = ctx;
	const struct xfsm_stage *st;
	struct stage_states *ss;
	__u32 mask;
	int err = 0;

	if (k->stage >= w->app->n_stages || k->stage >= XFSM_MAX_STAGES)
		return 0;
	st = &w->app->stages[k->stage];
	if (k->slot != st->rule_buf)
		return 0;
	ss = &w->fs->stage[k->stage];
	mask = k->tuple < XFSM_MAX_TUPLES ? st->tuples[k->tuple].state_mask : 0;
	if (mask == ~0U)
		err = add_exact(ss, k->state);
	else if (mask)
		err = add_masked(ss, mask, k->state);
	if (!err && (r->flags & XFSM_RF_SET_STATE)) {
		err = add_exact(ss, r->next_state);
		if (!err && r->idle_timeout_ms)
			err = add_exact(ss, r->idle_rollback);
		if (!err && r->hard_timeout_ms)
			err = add_exact(ss, r->hard_rollback);
	}
	return err;	/* an error stops the walk, which returns it */
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct state_pair *x = a, *y = b;

	if (x->mask != y->mask)
		return x->mask < y->mask ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* Sorted, each once: what a thousand rules matching one state leave. */
static size_t sort_unique(void *base, size_t n, size_t size,
			  int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t out = 0;

	if (!n)
		return 0;
	qsort(base, n, size, cmp);
	for (size_t i = 1; i < n; i++)
		if (cmp(b + out * size, b + i * size))
			memcpy(b + ++out * size, b + i * size, size);
	return out + 1;
}

void xfsm_flow_states_free(struct xfsm_flow_states *fs)
{
	if (!fs)
		return;
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++) {
		free(fs->stage[s].exact);
		free(fs->stage[s].masked);
	}
	free(fs);
}

/* The running application's stage states, walked anew only when another
 * application runs than the one they were worked out for. */
static int flow_states(struct xfsm_instance *inst, const struct xfsm_app *app,
		       const struct xfsm_flow_states **out)
{
	struct states_walk w = { .app = app };
	int err;

	if (inst->flow_states && inst->flow_states->generation == app->generation) {
		*out = inst->flow_states;
		return 0;
	}
	xfsm_flow_states_free(inst->flow_states);
	inst->flow_states = NULL;
	w.fs = calloc(1, sizeof(*w.fs));
	if (!w.fs)
		return -ENOMEM;
	err = xfsm_map_walk(inst, XFSM_M_RULES, rule_states, &w);
	if (err) {
		xfsm_flow_states_free(w.fs);
		return err;
	}
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++) {
		struct stage_states *ss = &w.fs->stage[s];

		ss->n_exact = sort_unique(ss->exact, ss->n_exact, sizeof(*ss->exact), cmp_u32);
		ss->n_masked = sort_unique(ss->masked, ss->n_masked, sizeof(*ss->masked),
					   cmp_pair);
	}
	w.fs->generation = app->generation;
	inst->flow_states = w.fs;
	*out = w.fs;
	return 0;
}

static bool stage_has_state(const struct stage_states *ss, __u32 state)
{
	if (!state || bsearch(&state, ss->exact, ss->n_exact, sizeof(*ss->exact), cmp_u32))
		return true;
	for (size_t i = 0; i < ss->n_masked; i++)
		if ((state & ss->masked[i].mask) == ss->masked[i].value)
			return true;
	return false;
}

/* Is the flow one the running application can have: of a stateful stage
 * it has, under the epoch of the stage's keys, in states (its own and its
 * timeouts' rollbacks) the stage can have?  -EINVAL, said, if not. */
static int flow_of_running_app(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
			       const struct xfsm_flow *f)
{
	const struct xfsm_flow_states *fs;
	const struct stage_states *ss;
	struct xfsm_app *app;
	const char *what[3];
	__u32 want[3];
	unsigned int n = 0;
	int err;

	err = xfsm_running_app_read(inst, &app);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: cannot read the running application: %s",
			 inst->name, strerror(-err));
		return err;
	}
	if (xfsm_flow_is_stale(key, NULL, app)) {
		if (key->stage < app->n_stages && key->stage < XFSM_MAX_STAGES &&
		    app->stages[key->stage].kind == XFSM_STAGE_XFSM)
			xfsm_log(XFSM_LOG_ERROR,
				 "flow of stage %u: its key is of epoch %u, the stage's keys are of epoch %u (xfsm_flow_key_build())",
				 key->stage, key->epoch, app->stages[key->stage].epoch);
		else
			xfsm_log(XFSM_LOG_ERROR,
				 "flow of stage %u: the running application has no stateful stage %u (it has %u stages)",
				 key->stage, key->stage, app->n_stages);
		err = -EINVAL;
		goto out;
	}
	what[n] = "state";
	want[n++] = f->state;
	if (f->idle_timeout_ms) {
		what[n] = "idle rollback state";
		want[n++] = f->idle_rollback;
	}
	if (f->hard_deadline_ns) {
		what[n] = "hard rollback state";
		want[n++] = f->hard_rollback;
	}
	err = flow_states(inst, app, &fs);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s: cannot read the rules: %s",
			 inst->name, strerror(-err));
		goto out;
	}
	ss = &fs->stage[key->stage];
	for (unsigned int i = 0; i < n && !err; i++) {
		if (stage_has_state(ss, want[i]))
			continue;
		xfsm_log(XFSM_LOG_ERROR,
			 "flow of stage %u: %s %u is no state the running application can have there (0, one a rule of the stage enters or matches)",
			 key->stage, what[i], want[i]);
		err = -EINVAL;
	}
out:
	free(app);
	return err;
}

/* A compact flow value (xfsm-loader --flow-value compact) is the head
 * of the full one: a flow that needs more cannot be written there. */
static int flow_fits_layout(const struct xfsm_instance *inst, const struct xfsm_flow *f)
{
	const char *what = NULL;

	if (!xfsm_flows_compact(inst))
		return 0;
	for (unsigned int i = 0; i < XFSM_FLOW_REGS && !what; i++)
		if (f->regs[i])
			what = "registers";
	if (f->hard_deadline_ns || f->hard_rollback)
		what = "a hard timeout";
	else if (!what && f->created_ns)
		what = "a creation time";
	if (!what)
		return 0;
	xfsm_log(XFSM_LOG_ERROR,
		 "instance %s has compact flow values (loaded with --flow-value compact): "
		 "a flow there has a state and an idle timeout, not %s",
		 inst->name, what);
	return -EINVAL;
}

int xfsm_flow_set(struct xfsm_instance *inst, const struct xfsm_flow_key *key,
		  const struct xfsm_flow *flow)
{
	struct xfsm_flow v, old;
	enum xfsm_map_id id;
	int err, fd;

	if (!inst || !key || !flow)
		return -EINVAL;
	err = flow_fits_layout(inst, flow);
	if (err)
		return err;
	err = flow_timeouts_valid(flow);
	if (err)
		return err;
	err = flow_key_table(inst, key, &id);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR,
			 "flow of stage %u: a %s stage's key has no words past its first %u",
			 key->stage, xfsm_flow_table_class_of_map(id)->what,
			 xfsm_flow_table_class_of_map(id)->words);
		return err;
	}
	err = flow_of_running_app(inst, key, flow);
	if (err)
		return err;
	fd = map_fd(inst, id);
	if (fd < 0) {
		xfsm_log(XFSM_LOG_ERROR, "instance %s has no flow table", inst->name);
		return fd;
	}
	v = *flow;
	/* A changed version tells a datapath update in flight that the entry
	 * moved under it. */
	if (!bpf_map_lookup_elem(fd, key, &old))
		v.version = old.version + 1;
	/* The new entry has no compare-and-swap writer on its slow path
	 * (those in flight hold the entry it replaces). */
	v.flags &= ~XFSM_FF_CAS_SLOW;
	if (bpf_map_update_elem(fd, key, &v, BPF_ANY)) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "cannot write the flow of stage %u: %s", key->stage,
			 err == -E2BIG ? "its flow table is full" : strerror(-err));
	}
	return err;
}

int xfsm_flow_del(struct xfsm_instance *inst, const struct xfsm_flow_key *key)
{
	enum xfsm_map_id id;
	int err, fd;

	err = flow_key_table(inst, key, &id);
	if (err)
		return err == -EINVAL && key ? -ENOENT : err;
	fd = map_fd(inst, id);
	if (fd < 0)
		return fd;
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

unsigned int xfsm_timeouts_check(__u32 state, __u32 idle_ms, __u32 idle_rollback,
				 __u32 hard_ms, __u32 hard_rollback)
{
	unsigned int bad = 0;

	/* bpf/flow.h: an expired timeout moves the flow to its rollback
	 * state and clears both timeouts, nothing else */
	if (idle_ms && idle_rollback == state)
		bad |= XFSM_TIMEOUT_IDLE_SELF;
	if (hard_ms && hard_rollback == state)
		bad |= XFSM_TIMEOUT_HARD_SELF;
	if (idle_ms && hard_ms && idle_ms >= hard_ms)
		bad |= XFSM_TIMEOUT_IDLE_NOT_SHORTER;
	return bad;
}

static bool map_is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUPP_KERNEL ||
	       err == -EPERM || err == -ENOSYS;
}

int xfsm_map_update_many(int fd, const void *keys, const void *vals, size_t n,
			 size_t ksz, size_t vsz, bool *batch, size_t *written)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;
	size_t i;
	int err;

	*written = 0;
	if (*batch) {
		err = bpf_map_update_batch(fd, keys, vals, &count, &opts);
		if (!err) {
			*written = n;
			return 0;
		}
		if (count || !batch_unsupported(err)) {
			*written = count;
			return err;
		}
		*batch = false;		/* the kernel has no batch ops here */
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, BPF_ANY)) {
			*written = i;
			return -errno;
		}
	}
	*written = n;
	return 0;
}

static int walk_slow(int fd, size_t ksz, size_t vsz, xfsm_map_walk_cb cb, void *ctx)
{
	void *key = calloc(1, ksz), *next = calloc(1, ksz), *val = calloc(1, vsz), *t;
	int err, ret = 0;

	if (!key || !next || !val) {
		ret = -ENOMEM;
		goto out;
	}
	err = bpf_map_get_next_key(fd, NULL, next);
	while (!err) {
		t = key, key = next, next = t;
		err = bpf_map_lookup_elem(fd, key, val);
		if (!err) {
			ret = cb(key, val, ctx);
			if (ret)
				goto out;
		} else if (err != -ENOENT) {
			ret = err;
			goto out;
		}
		err = bpf_map_get_next_key(fd, key, next);
	}
	if (err != -ENOENT)
		ret = err;
out:
	free(key);
	free(next);
	free(val);
	return ret;
}

int xfsm_map_walk(struct xfsm_instance *inst, enum xfsm_map_id id,
		  xfsm_map_walk_cb cb, void *ctx)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t ksz, vsz, n, i;
	void *keys = NULL, *vals = NULL;
	__u64 in[8], out[8];	/* batch tokens: a bucket index for hash maps */
	bool first = true;
	int fd, err, ret = 0;
	__u32 count;

	fd = map_fd(inst, id);
	if (fd < 0)
		return fd;
	if (!cb)
		return -EINVAL;
	ksz = inst->map_key_size[id];
	vsz = inst->map_value_size[id];
	if (map_is_percpu(inst->map_type[id]))
		vsz = ((vsz + 7) & ~7UL) * inst->nr_cpus;
	if (!ksz || !vsz)
		return -EINVAL;
	n = WALK_BATCH;
	if (n * vsz > WALK_MAX_BUF)
		n = WALK_MAX_BUF / vsz ? WALK_MAX_BUF / vsz : 1;
again:
	keys = malloc(n * ksz);
	vals = malloc(n * vsz);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = n;
		err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals,
					   &count, &opts);
		if (err && err != -ENOENT) {
			if (first && batch_unsupported(err)) {
				free(keys);
				free(vals);
				return walk_slow(fd, ksz, vsz, cb, ctx);
			}
			if (err == -ENOSPC && count == 0 && n < (1U << 22)) {
				/* a bucket holds more than n entries */
				free(keys);
				free(vals);
				keys = vals = NULL;
				n *= 4;
				goto again;
			}
			ret = err;
			goto out;
		}
		for (i = 0; i < count; i++) {
			ret = cb((char *)keys + i * ksz, (char *)vals + i * vsz, ctx);
			if (ret)
				goto out;
		}
		if (err == -ENOENT)
			break;
		memcpy(in, out, sizeof(in));
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

struct delete_ctx {
	xfsm_map_pred pred;
	void	*ctx;
	size_t	ksz;
	char	*keys;
	size_t	n, cap;
};

static int collect_key(const void *key, const void *value, void *arg)
{
	struct delete_ctx *dc = arg;
	char *p;

	if (!dc->pred(key, value, dc->ctx))
		return 0;
	if (dc->n == dc->cap) {
		size_t cap = dc->cap ? dc->cap * 2 : 1024;

		p = realloc(dc->keys, cap * dc->ksz);
		if (!p)
			return -ENOMEM;
		dc->keys = p;
		dc->cap = cap;
	}
	memcpy(dc->keys + dc->n * dc->ksz, key, dc->ksz);
	dc->n++;
	return 0;
}

/* Delete keys in batches; keys that vanished meanwhile are not counted. */
static long delete_keys(int fd, const char *keys, size_t n, size_t ksz)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool batch = true;
	size_t i = 0;
	long deleted = 0;
	__u32 count;
	int err;

	while (i < n) {
		if (batch) {
			count = n - i < WALK_BATCH ? n - i : WALK_BATCH;
			err = bpf_map_delete_batch(fd, keys + i * ksz, &count, &opts);
			if (!err) {
				deleted += count;
				i += count;
				continue;
			}
			if (batch_unsupported(err) && count == 0) {
				batch = false;
				continue;
			}
			deleted += count;
			i += count;
			if (err != -ENOENT)
				return err;
			i++;	/* skip the key that is gone */
			continue;
		}
		err = bpf_map_delete_elem(fd, keys + i * ksz);
		if (!err)
			deleted++;
		else if (err != -ENOENT)
			return err;
		i++;
	}
	return deleted;
}

long xfsm_map_delete_if(struct xfsm_instance *inst, enum xfsm_map_id id,
			xfsm_map_pred pred, void *ctx)
{
	struct delete_ctx dc = { .pred = pred, .ctx = ctx };
	int fd = map_fd(inst, id);
	long ret;

	if (fd < 0)
		return fd;
	if (!pred)
		return -EINVAL;
	dc.ksz = inst->map_key_size[id];
	ret = xfsm_map_walk(inst, id, collect_key, &dc);
	if (!ret)
		ret = delete_keys(fd, dc.keys, dc.n, dc.ksz);
	free(dc.keys);
	return ret;
}

static int count_one(const void *key, const void *value, void *ctx)
{
	(*(long *)ctx)++;
	return 0;
}

long xfsm_map_count(struct xfsm_instance *inst, enum xfsm_map_id id)
{
	long n = 0;
	int err;

	if (map_fd(inst, id) < 0)
		return -ENOENT;
	switch (inst->map_type[id]) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return inst->map_max_entries[id];
	default:
		break;
	}
	err = xfsm_map_walk(inst, id, count_one, &n);
	return err ? err : n;
}

/* Is each flow table's key what this ABI says (a table absent is)? */
static bool flow_keys_ok(const struct xfsm_instance *inst)
{
	const struct xfsm_flow_table_class *c;

	if (!inst)
		return true;
	xfsm_for_each_flow_table(c)
		if (inst->map_fd[c->id] >= 0 && inst->map_key_size[c->id] != flow_key_size(c))
			return false;
	return true;
}

struct flow_walk {
	xfsm_flow_cb cb;
	void	*ctx;
	size_t	key_size;	/* of the table walked */
	size_t	value_size;	/* of its values: full or compact */
};

/* An entry, with its key as the wide key the table's is a prefix of, and
 * its value as the full one (a compact value is its head; the rest reads
 * as zeros). */
static int flow_walk_one(const void *key, const void *value, void *ctx)
{
	struct flow_walk *fw = ctx;
	struct xfsm_flow_key k = {};
	struct xfsm_flow f;

	memcpy(&k, key, fw->key_size);
	if (fw->value_size >= sizeof(f))
		return fw->cb(&k, value, fw->ctx);
	memset(&f, 0, sizeof(f));
	memcpy(&f, value, fw->value_size);
	return fw->cb(&k, &f, fw->ctx);
}

int xfsm_flow_foreach(struct xfsm_instance *inst, xfsm_flow_cb cb, void *ctx)
{
	const struct xfsm_flow_table_class *c;
	struct flow_walk fw = { .cb = cb, .ctx = ctx };
	int ret = 0;

	if (!cb)
		return -EINVAL;
	if (!flow_keys_ok(inst))
		return -EPROTO;
	/* the wide table first: it is there (or the walk's error is) */
	xfsm_for_each_flow_table(c) {
		if (c->id != XFSM_M_FLOWS && map_fd(inst, c->id) < 0)
			continue;
		fw.key_size = flow_key_size(c);
		fw.value_size = inst->map_value_size[c->id];
		ret = xfsm_map_walk(inst, c->id, flow_walk_one, &fw);
		if (ret)
			break;
	}
	return ret;
}

struct flush_filter {
	int	stage;		/* < 0: any */
	int	keep_epoch;	/* < 0: delete every epoch */
};

/* (A narrower key's head is the wide key's.) */
static bool flow_matches(const void *key, const void *value, void *ctx)
{
	const struct xfsm_flow_key_n *k = key;
	const struct flush_filter *f = ctx;

	if (f->stage >= 0 && k->stage != f->stage)
		return false;
	return f->keep_epoch < 0 || k->epoch != f->keep_epoch;
}

long xfsm_flows_delete_if(struct xfsm_instance *inst,
			  bool (*pred)(const void *key, const void *value, void *ctx), void *ctx)
{
	const struct xfsm_flow_table_class *c;
	long n, total = 0;

	if (!flow_keys_ok(inst))
		return -EPROTO;
	xfsm_for_each_flow_table(c) {
		if (c->id != XFSM_M_FLOWS && map_fd(inst, c->id) < 0)
			continue;
		n = xfsm_map_delete_if(inst, c->id, pred, ctx);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

long xfsm_flow_flush(struct xfsm_instance *inst, int stage)
{
	struct flush_filter f = { .stage = stage < 0 ? -1 : stage, .keep_epoch = -1 };

	return xfsm_flows_delete_if(inst, flow_matches, &f);
}

long xfsm_flow_flush_stale(struct xfsm_instance *inst, unsigned int stage,
			   __u16 keep_epoch)
{
	struct flush_filter f = { .stage = stage, .keep_epoch = keep_epoch };

	return xfsm_flows_delete_if(inst, flow_matches, &f);
}

struct table_move {
	struct xfsm_instance *inst;
	const struct xfsm_app *app;
	struct xfsm_flow_key *keys;
	struct xfsm_flow *vals;
	size_t n, cap;
};

/* A wide-table entry of a stage `app` keeps in a narrower table the
 * instance has. */
static int collect_misplaced(const void *key, const void *value, void *ctx)
{
	const struct xfsm_flow_key *k = key;
	const struct xfsm_flow_table_class *c;
	struct table_move *m = ctx;
	unsigned int i;
	void *p;

	if (k->stage >= m->app->n_stages || k->stage >= XFSM_MAX_STAGES ||
	    k->epoch != m->app->stages[k->stage].epoch)
		return 0;
	c = xfsm_flow_table_class(m->app->stages[k->stage].flags);
	if (c->id == XFSM_M_FLOWS || map_fd(m->inst, c->id) < 0)
		return 0;
	for (i = c->words; i < XFSM_KEY_WORDS; i++)
		if (k->w[i])
			return 0;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		p = realloc(m->keys, m->cap * sizeof(*m->keys));
		if (!p)
			return -ENOMEM;
		m->keys = p;
		p = realloc(m->vals, m->cap * sizeof(*m->vals));
		if (!p)
			return -ENOMEM;
		m->vals = p;
	}
	m->keys[m->n] = *k;
	/* a compact value is the head of the full one */
	memset(&m->vals[m->n], 0, sizeof(m->vals[m->n]));
	memcpy(&m->vals[m->n++], value, m->inst->map_value_size[XFSM_M_FLOWS]);
	return 0;
}

long xfsm_flows_settle_tables(struct xfsm_instance *inst, const struct xfsm_app *app)
{
	struct table_move m = { .inst = inst, .app = app };
	int wide = map_fd(inst, XFSM_M_FLOWS), to;
	long moved = 0;
	size_t i;
	int err;

	if (wide < 0 || !flow_keys_ok(inst))
		return 0;
	err = xfsm_map_walk(inst, XFSM_M_FLOWS, collect_misplaced, &m);
	for (i = 0; !err && i < m.n; i++) {
		to = map_fd(inst, xfsm_flow_table_class(app->stages[m.keys[i].stage].flags)->id);
		/* a flow the datapath made meanwhile in that table wins */
		if (bpf_map_update_elem(to, &m.keys[i], &m.vals[i], BPF_NOEXIST) &&
		    errno != EEXIST) {
			err = -errno;
			break;
		}
		if (!bpf_map_delete_elem(wide, &m.keys[i]))
			moved++;
	}
	free(m.keys);
	free(m.vals);
	return err ? err : moved;
}
