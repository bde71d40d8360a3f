/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Statistics, global registers and the control block.  Statistics maps are
 * per-CPU arrays in the native profile (summed here, field by field, as
 * every statistics struct is made of __u64 counters) and plain arrays in
 * the offload profile.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "apply_internal.h"

#define ZERO_BATCH	4096

static int inst_fd(struct xfsm_instance *inst, enum xfsm_map_id id)
{
	if (!inst || (unsigned int)id >= XFSM_M__MAX || inst->map_fd[id] < 0)
		return -ENOENT;
	return inst->map_fd[id];
}

static bool is_percpu(const struct xfsm_instance *inst, enum xfsm_map_id id)
{
	return inst->map_type[id] == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       inst->map_type[id] == BPF_MAP_TYPE_PERCPU_HASH;
}

/* Bytes one lookup returns: per-CPU values are 8-byte aligned each. */
static size_t value_bytes(const struct xfsm_instance *inst, enum xfsm_map_id id)
{
	size_t vs = inst->map_value_size[id];

	return is_percpu(inst, id) ? ((vs + 7) & ~7UL) * inst->nr_cpus : vs;
}

/* Bytes off..off+size-1 of entry idx, summed over CPUs, of a map whose
 * values are vsize bytes. */
static int read_summed(struct xfsm_instance *inst, enum xfsm_map_id id, __u32 idx,
		       size_t vsize, size_t off, void *out, size_t size)
{
	int fd = inst_fd(inst, id), err, c;
	size_t stride, j;
	__u64 *buf, *sum = out;

	if (fd < 0)
		return fd;
	if (!out || inst->map_value_size[id] != vsize || size % 8 || off % 8 ||
	    off + size > vsize)
		return -EPROTO;
	if (idx >= inst->map_max_entries[id])
		return -ERANGE;
	stride = is_percpu(inst, id) ? (vsize + 7) / 8 : 0;
	buf = calloc(is_percpu(inst, id) ? inst->nr_cpus : 1, (vsize + 7) / 8 * 8);
	if (!buf)
		return -ENOMEM;
	err = bpf_map_lookup_elem(fd, &idx, buf);
	if (err)
		err = -errno;
	if (!err) {
		memset(out, 0, size);
		for (c = 0; c < (stride ? inst->nr_cpus : 1); c++)
			for (j = 0; j < size / 8; j++)
				sum[j] += buf[c * stride + off / 8 + j];
	}
	free(buf);
	return err;
}

bool xfsm_stats_in_block(const struct xfsm_instance *inst)
{
	return inst && inst->map_fd[XFSM_M_STAGE_STATS] < 0;
}

int xfsm_stats_where(const struct xfsm_instance *inst, enum xfsm_stats_kind kind,
		     __u32 index, struct xfsm_stats_loc *loc)
{
	bool block = xfsm_stats_in_block(inst);

	if (!inst || !loc)
		return -EINVAL;
	memset(loc, 0, sizeof(*loc));
	loc->map = XFSM_M_STATS;
	switch (kind) {
	case XFSM_SK_DATAPATH:
		if (index)
			return -ERANGE;
		loc->off = offsetof(struct xfsm_stats_block, stats);
		loc->size = sizeof(struct xfsm_stats);
		return 0;
	case XFSM_SK_STAGE:
		if (index >= XFSM_STAGE_STATS_SLOTS)
			return -ERANGE;
		loc->size = sizeof(struct xfsm_stage_stats);
		if (!block) {
			loc->map = XFSM_M_STAGE_STATS;
			loc->key = index;
			return 0;
		}
		loc->off = offsetof(struct xfsm_stats_block, stage) + index * loc->size;
		return 0;
	case XFSM_SK_PORT:
		if (!block)
			return -EOPNOTSUPP;
		if (index >= XFSM_MAX_PORTS)
			return -ERANGE;
		loc->size = sizeof(struct xfsm_port_stats);
		loc->off = offsetof(struct xfsm_stats_block, port) + index * loc->size;
		return 0;
	case XFSM_SK_GROUPS:
		if (!block)
			return -EOPNOTSUPP;
		if (index >= XFSM_APP_SLOTS)
			return -ERANGE;
		loc->size = sizeof(struct xfsm_count_group) * XFSM_COUNT_GROUPS;
		loc->off = offsetof(struct xfsm_stats_block, group) + index * loc->size;
		return 0;
	}
	return -EINVAL;
}

int xfsm_stats_read_raw(struct xfsm_instance *inst, enum xfsm_stats_kind kind, __u32 index,
			void *out, size_t size)
{
	struct xfsm_stats_loc loc;
	size_t vsize;
	int err;

	err = xfsm_stats_where(inst, kind, index, &loc);
	if (err)
		return err;
	if (size != loc.size)
		return -EPROTO;
	vsize = loc.map == XFSM_M_STATS && xfsm_stats_in_block(inst) ?
		sizeof(struct xfsm_stats_block) : loc.size;
	return read_summed(inst, loc.map, loc.key, vsize, loc.off, out, size);
}

/*
 * Counters count groups may stand for (enum xfsm_cg_space): what the
 * datapath counted in the counter itself (`raw`), plus what the groups of
 * both slots and the folds hold for it (lib/count_groups.c), all as of one
 * even value of the groups' sequence count, read before and after: a
 * change of a table, baseline or fold in between (odd, or another value
 * after) reads again.  Bounded: -EAGAIN after CG_READ_TRIES, 1 ms apart
 * (a writer's odd window is a few map updates, under the instance lock;
 * one killed inside leaves it odd, and the first reader that finds the
 * lock free ends that).
 */
#define CG_READ_TRIES	100

static int read_counted(struct xfsm_instance *inst, enum xfsm_cg_space space, __u32 index,
			void *out, size_t size,
			int (*raw)(struct xfsm_instance *, __u32, void *, size_t))
{
	const struct timespec pause = { .tv_nsec = 1000 * 1000 };
	__u64 s1, s2;
	int err, i;

	if (!inst || !out)
		return -EINVAL;
	for (i = 0; i < CG_READ_TRIES; i++) {
		if (i)
			nanosleep(&pause, NULL);
		err = xfsm_cg_seq(inst, &s1);
		if (err == -ENOENT)
			return raw(inst, index, out, size);	/* no groups */
		if (err)
			return err;
		if (s1 & 1) {
			/* no writer holds the lock: the last one died
			 * inside, and the count ends its odd spell */
			err = xfsm_cg_end_dead_write(inst);
			if (err && err != -EBUSY)
				return err;
			continue;
		}
		err = raw(inst, index, out, size);
		if (!err)
			err = xfsm_cg_add(inst, s1, space, index, out, size);
		if (!err)
			err = xfsm_cg_seq(inst, &s2);
		if (err)
			return err;
		if (s2 == s1)
			return 0;
	}
	return -EAGAIN;
}

static int datapath_raw(struct xfsm_instance *inst, __u32 index, void *out, size_t size)
{
	return xfsm_stats_read_raw(inst, XFSM_SK_DATAPATH, index, out, size);
}

int xfsm_read_stats(struct xfsm_instance *inst, struct xfsm_stats *out)
{
	return read_counted(inst, XFSM_CG_DATAPATH, 0, out, sizeof(*out), datapath_raw);
}

/* A stage statistics entry counts from its baseline, recorded when an
 * application switch gave it to its stage: the block is never written
 * while packets may count in it (abi.h, XFSM_MAP_STAGE_BASE). */
static int stage_raw(struct xfsm_instance *inst, __u32 index, void *vout, size_t size)
{
	struct xfsm_stage_stats *out = vout;
	struct xfsm_stage_stats base;
	__u64 *o = (__u64 *)out, *b = (__u64 *)&base;
	size_t i;
	int err;

	if (size != sizeof(*out))
		return -EPROTO;
	err = xfsm_stats_read_raw(inst, XFSM_SK_STAGE, index, out, sizeof(*out));
	if (err || inst->map_fd[XFSM_M_STAGE_BASE] < 0)
		return err;
	err = read_summed(inst, XFSM_M_STAGE_BASE, index, sizeof(base), 0, &base,
			  sizeof(base));
	if (err)
		return err;
	for (i = 0; i < sizeof(base) / 8; i++)
		o[i] = o[i] > b[i] ? o[i] - b[i] : 0;
	return 0;
}

int xfsm_read_stage_stats_at(struct xfsm_instance *inst, __u32 index,
			     struct xfsm_stage_stats *out)
{
	return read_counted(inst, XFSM_CG_STAGE, index, out, sizeof(*out), stage_raw);
}

int xfsm_stage_stats_rebase(struct xfsm_instance *inst, __u32 index)
{
	struct xfsm_stage_stats now;
	int fd = inst_fd(inst, XFSM_M_STAGE_BASE), err;

	if (fd < 0)
		return fd;
	if (is_percpu(inst, XFSM_M_STAGE_BASE) ||
	    inst->map_value_size[XFSM_M_STAGE_BASE] != sizeof(now))
		return -EPROTO;
	err = xfsm_stats_read_raw(inst, XFSM_SK_STAGE, index, &now, sizeof(now));
	if (!err && bpf_map_update_elem(fd, &index, &now, BPF_ANY))
		err = -errno;
	return err;
}

static int rule_raw(struct xfsm_instance *inst, __u32 index, void *out, size_t size)
{
	return read_summed(inst, XFSM_M_RULE_STATS, index, sizeof(struct xfsm_rule_stats), 0,
			   out, size);
}

int xfsm_read_rule_stats_at(struct xfsm_instance *inst, __u32 index,
			    struct xfsm_rule_stats *out)
{
	return read_counted(inst, XFSM_CG_RULE, index, out, sizeof(*out), rule_raw);
}

int xfsm_read_counter_at(struct xfsm_instance *inst, __u32 index, struct xfsm_counter *out)
{
	return read_summed(inst, XFSM_M_COUNTERS, index, sizeof(*out), 0, out, sizeof(*out));
}

int xfsm_read_stage_stats(struct xfsm_instance *inst, unsigned int stage,
			  struct xfsm_stage_stats *out)
{
	struct xfsm_app *app;
	__u32 index = 0;
	int err;

	if (!inst)
		return -EINVAL;
	if (stage >= XFSM_MAX_STAGES)
		return -ERANGE;
	err = xfsm_running_app_read(inst, &app);
	if (err)
		return err;
	if (stage >= app->n_stages)
		err = -ENOENT;
	else
		index = app->stages[stage].stats_id;
	free(app);
	return err ? err : xfsm_read_stage_stats_at(inst, index, out);
}

/* The statistics index of a running object, by its number in the image. */
static int running_index(struct xfsm_instance *inst, __u32 kind, __u32 pos, __u32 *index)
{
	struct xfsm_stat_idents ids;
	const struct xfsm_stat_ident *e;
	int err;

	err = xfsm_read_stat_idents(inst, &ids);
	if (err)
		return err;
	e = xfsm_stat_idents_find(&ids, kind, pos);
	if (e)
		*index = e->index;
	xfsm_stat_idents_free(&ids);
	return e ? 0 : -ENOENT;
}

int xfsm_read_rule_stats(struct xfsm_instance *inst, __u32 rule_id,
			 struct xfsm_rule_stats *out)
{
	__u32 index;
	int err;

	if (!inst || rule_id >= inst->max_rules)
		return -ERANGE;
	err = running_index(inst, XFSM_SID_RULE, rule_id, &index);
	return err ? err : xfsm_read_rule_stats_at(inst, index, out);
}

int xfsm_read_counter(struct xfsm_instance *inst, unsigned int idx,
		      struct xfsm_counter *out)
{
	__u32 index;
	int err;

	if (!inst || idx >= XFSM_MAX_COUNTERS || !out)
		return -ERANGE;
	err = running_index(inst, XFSM_SID_COUNTER, idx, &index);
	return err ? err : xfsm_read_counter_at(inst, index, out);
}

int xfsm_array_zero(struct xfsm_instance *inst, enum xfsm_map_id id,
		    __u32 first, __u32 n)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = inst_fd(inst, id), err = 0;
	bool batch = true;
	__u32 *keys = NULL, i, chunk, count;
	void *vals = NULL;
	size_t vb;

	if (fd < 0)
		return fd;
	if (first > inst->map_max_entries[id] || n > inst->map_max_entries[id] - first)
		return -ERANGE;
	vb = value_bytes(inst, id);
	chunk = n < ZERO_BATCH ? n : ZERO_BATCH;
	if (!chunk)
		return 0;
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, vb);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; ) {
		count = n - i < chunk ? n - i : chunk;
		if (batch) {
			__u32 k;

			for (k = 0; k < count; k++)
				keys[k] = first + i + k;
			err = bpf_map_update_batch(fd, keys, vals, &count, &opts);
			if (!err) {
				i += count;
				continue;
			}
			if (count)
				goto out;
			batch = false;	/* no batch support: one by one */
		}
		keys[0] = first + i;
		err = bpf_map_update_elem(fd, &keys[0], vals, BPF_ANY);
		if (err)
			goto out;
		i++;
	}
	err = 0;
out:
	free(keys);
	free(vals);
	return err;
}

/* An explicit reset writes the statistics while packets may count in
 * them: increments racing it are lost (its purpose is to forget counts).
 * The baselines go first, so that a reader in between sees the old counts,
 * never a count below its baseline.  The count groups' folds and pair
 * baselines are zeroed with the block that holds the pairs, all inside
 * the groups' sequence count (readers wait for the end), under the
 * instance lock (so that it never interleaves with an apply's install);
 * the slots' group tables stay. */
int xfsm_reset_stats(struct xfsm_instance *inst)
{
	static const enum xfsm_map_id ids[] = {
		XFSM_M_STAGE_BASE, XFSM_M_STATS, XFSM_M_STAGE_STATS, XFSM_M_RULE_STATS,
		XFSM_M_COUNTERS,
	};
	bool groups = false;
	unsigned int i;
	__u64 seq = 0;
	int err = 0, lock, e;

	if (!inst)
		return -EINVAL;
	lock = xfsm_instance_lock(inst);
	e = xfsm_cg_seq(inst, &seq);
	if (!e) {
		err = xfsm_cg_write_begin(inst, &seq);
		if (err)
			goto out;
		groups = true;
		err = xfsm_cg_reset_locked(inst);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot reset the count groups: %s",
				 strerror(-err));
			goto out;
		}
	} else if (e != -ENOENT) {
		err = e;
		goto out;
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (inst->map_fd[ids[i]] < 0 && (ids[i] == XFSM_M_STAGE_STATS ||
						 ids[i] == XFSM_M_STAGE_BASE))
			continue;
		err = xfsm_array_zero(inst, ids[i], 0, inst->map_max_entries[ids[i]]);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "cannot reset %s: %s",
				 xfsm_map_names[ids[i]], strerror(-err));
			goto out;
		}
	}
out:
	if (groups && (e = xfsm_cg_write_end(inst, seq)) && !err)
		err = e;
	xfsm_instance_unlock(lock);
	return err;
}

int xfsm_global_get(struct xfsm_instance *inst, unsigned int idx, __u64 *val)
{
	struct xfsm_globals g;
	__u32 zero = 0;
	int err;

	if (!inst || !val)
		return -EINVAL;
	if (idx >= XFSM_GLOBAL_REGS)
		return -ERANGE;
	err = xfsm_map_lookup_locked(inst, XFSM_M_GLOBALS, &zero, &g);
	if (!err)
		*val = g.reg[idx];
	return err;
}

int xfsm_globals_read(struct xfsm_instance *inst, __u64 regs[XFSM_GLOBAL_REGS])
{
	struct xfsm_globals g;
	__u32 zero = 0;
	int err;

	if (!inst || !regs)
		return -EINVAL;
	err = xfsm_map_lookup_locked(inst, XFSM_M_GLOBALS, &zero, &g);
	if (!err)
		memcpy(regs, g.reg, sizeof(g.reg));
	return err;
}

int xfsm_globals_write(struct xfsm_instance *inst, const __u64 regs[XFSM_GLOBAL_REGS])
{
	struct xfsm_globals g;
	__u32 zero = 0;

	if (!inst || !regs)
		return -EINVAL;
	memset(&g, 0, sizeof(g));	/* lock bytes stay zero */
	memcpy(g.reg, regs, sizeof(g.reg));
	return xfsm_map_update_locked(inst, XFSM_M_GLOBALS, &zero, &g, BPF_ANY);
}

/* All registers share one map value: a read-modify-write.  A datapath
 * update of another register between the two steps is overwritten with
 * its old value; set registers while traffic does not update them. */
int xfsm_global_set(struct xfsm_instance *inst, unsigned int idx, __u64 val)
{
	__u64 regs[XFSM_GLOBAL_REGS];
	int err;

	if (!inst)
		return -EINVAL;
	if (idx >= XFSM_GLOBAL_REGS)
		return -ERANGE;
	err = xfsm_globals_read(inst, regs);
	if (err)
		return err;
	regs[idx] = val;
	return xfsm_globals_write(inst, regs);
}

int xfsm_ctl_get(struct xfsm_instance *inst, struct xfsm_ctl *ctl)
{
	int fd = inst_fd(inst, XFSM_M_CTL);
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	if (!ctl)
		return -EINVAL;
	return bpf_map_lookup_elem(fd, &zero, ctl);
}

/* Read-modify-write of the block that also names the active slot; the
 * caller holds the instance lock. */
static int ctl_update_locked(struct xfsm_instance *inst,
			     int (*change)(struct xfsm_ctl *, __u64), __u64 arg)
{
	int fd = inst_fd(inst, XFSM_M_CTL), err;
	struct xfsm_ctl ctl;
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, &ctl);
	if (!err)
		err = change(&ctl, arg);
	if (!err)
		err = bpf_map_update_elem(fd, &zero, &ctl, BPF_ANY);
	return err;
}

/* The same under the instance lock, so that neither this nor xfsm_apply()
 * undoes the other. */
static int ctl_update(struct xfsm_instance *inst, int (*change)(struct xfsm_ctl *, __u64),
		      __u64 arg)
{
	int lock, err;

	lock = xfsm_instance_lock(inst);
	err = ctl_update_locked(inst, change, arg);
	xfsm_instance_unlock(lock);
	return err;
}

static int set_clock(struct xfsm_ctl *ctl, __u64 ns)
{
	ctl->clock_ns = ns;
	return 0;
}

int xfsm_ctl_set_clock(struct xfsm_instance *inst, __u64 now_ns)
{
	return ctl_update(inst, set_clock, now_ns);
}

static int set_malformed(struct xfsm_ctl *ctl, __u64 v)
{
	ctl->malformed_verdict = v;
	return 0;
}

int xfsm_ctl_set_malformed_verdict(struct xfsm_instance *inst, enum xfsm_verdict v)
{
	if ((unsigned int)v >= XFSM_VERDICT__MAX || v == XFSM_VERDICT_CONTINUE) {
		xfsm_log(XFSM_LOG_ERROR, "invalid malformed-packet verdict %d", v);
		return -EINVAL;
	}
	return ctl_update(inst, set_malformed, v);
}

static int set_observe(struct xfsm_ctl *ctl, __u64 arg)
{
	ctl->observe = (ctl->observe | (__u32)arg) & ~(__u32)(arg >> 32);
	return 0;
}

int xfsm_ctl_observe_locked(struct xfsm_instance *inst, __u32 set, __u32 clear)
{
	return ctl_update_locked(inst, set_observe, (__u64)clear << 32 | set);
}

int xfsm_ctl_set_observe(struct xfsm_instance *inst, __u32 bits, bool on)
{
	const __u32 known = XFSM_OBS_TRACE | XFSM_OBS_CAPTURE | XFSM_OBS_EVENTS;

	if (bits & ~known) {
		xfsm_log(XFSM_LOG_ERROR, "observer bits 0x%x are none the datapath has (0x%x)",
			 bits & ~known, known);
		return -EINVAL;
	}
	return ctl_update(inst, set_observe, on ? bits : (__u64)bits << 32);
}
