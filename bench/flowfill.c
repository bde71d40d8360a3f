// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Fills a stage's flow table with N distinct flows without traffic, for
 * measuring and checking `xfsmctl state list` on a full table (issue 11:
 * 1M flows).  The keys are built as the datapath builds them
 * (xfsm_flow_key_build) from field vectors whose addresses are in
 * 198.18.0.0/15 and 2001:2::/48 and whose ports, protocol and the rest
 * vary with the flow's number, so any stage's key gets N distinct keys.
 * The flows come in several shapes, so that a listing formats all of
 * them: idle timeouts running and run out, hard deadlines, registers of
 * 0 up to the largest value, pinned flags, states with and without names,
 * ages known and unknown.
 *
 * Usage: flowfill PIN_DIR STAGE N      prints {"flows":N,"fill_s":S}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libxfsm.h"

#define FILL_BATCH 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void flow_fields(__u32 i, __u32 fv[XFSM_FV_WORDS])
{
	memset(fv, 0, XFSM_FV_WORDS * sizeof(fv[0]));
	fv[XFSM_FW_IP4_SRC] = 0xc6120000 | (i & 0xffff);	/* 198.18.x.y */
	fv[XFSM_FW_IP4_DST] = 0xc6130001;			/* 198.19.0.1 */
	fv[XFSM_FW_IP6_SRC] = 0x20010002;			/* 2001:2::/48 */
	fv[XFSM_FW_IP6_SRC + 3] = i;
	fv[XFSM_FW_IP6_DST] = 0x20010002;
	fv[XFSM_FW_IP6_DST + 2] = i % 5 ? 0 : 0x10000;		/* 2001:2::1:0:0:1 */
	fv[XFSM_FW_IP6_DST + 3] = 1;
	fv[XFSM_FW_ETH_SRC_HI] = 0x0200;			/* 02:00:00:..: local */
	fv[XFSM_FW_ETH_SRC_HI + 1] = i & 0xffffff;
	fv[XFSM_FW_VLAN_ID] = i % 4095;
	fv[XFSM_FW_IP_PROTO] = 17;
	fv[XFSM_FW_L4_SPORT] = 1024 + (i >> 16);
	fv[XFSM_FW_L4_DPORT] = 53;
}

/* The flow's timers and registers as one of a dozen shapes, by number. */
static void flow_value(__u32 i, __u64 now, struct xfsm_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->state = i % 23 ? 1 : 0;
	if (i % 29 == 0)
		f->state = 7;			/* a state without a name */
	f->idle_timeout_ms = i % 31 ? 30000 : 0;
	f->idle_rollback = i % 37 ? 0 : 9;
	/* last seen up to 40 s ago: a quarter of the idle timeouts ran out */
	f->last_seen_ns = now - (__u64)(i % 40000) * 1000003ULL;
	if (i % 7 == 0) {
		f->hard_deadline_ns = now + (__u64)(i % 600) * 999999937ULL - 5000000000ULL;
		f->hard_rollback = i % 3 ? 0 : 1;
	}
	f->created_ns = now - (__u64)i * 1000;
	if (i % 17 == 0)
		f->created_ns = 0;		/* unknown: no age */
	if (i % 19 == 0)
		f->created_ns = now + 1000000;	/* after now: no age */
	if (i % 11 == 0)
		f->flags |= XFSM_FF_PINNED;
	if (i % 13 == 0)
		f->regs[1] = (__u64)i * 0x9e3779b97f4a7c15ULL;
	if (i % 1000 == 0)
		f->regs[0] = ~0ULL;
	if (i % 3 == 0)
		f->regs[3] = i;
}

int main(int argc, char **argv)
{
	struct xfsm_instance *inst = NULL;
	struct xfsm_image img;
	struct xfsm_flow_key key;
	struct xfsm_flow *vals = NULL;
	char *keys = NULL, *end;
	unsigned long stage, n;
	size_t ksz, done = 0, written;
	bool batch = true;
	__u32 fv[XFSM_FV_WORDS];
	__u64 now;
	double t0;
	int fd, err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PIN_DIR STAGE N\n", argv[0]);
		return 2;
	}
	stage = strtoul(argv[2], &end, 10);
	if (*end || !*argv[2]) {
		fprintf(stderr, "flowfill: STAGE: '%s' is not a stage number\n", argv[2]);
		return 2;
	}
	n = strtoul(argv[3], &end, 10);
	if (*end || !*argv[3] || n > 0xffffffffUL) {
		fprintf(stderr, "flowfill: N: '%s' is not a count of flows\n", argv[3]);
		return 2;
	}
	xfsm_image_init(&img);
	err = xfsm_instance_open_pin_dir(argv[1], &inst);
	if (!err)
		err = xfsm_instance_check_abi(inst);
	if (!err)
		err = xfsm_read_app(inst, &img);
	if (err) {
		fprintf(stderr, "flowfill: no running application in %s: %s\n", argv[1],
			strerror(-err));
		goto out;
	}
	if (stage >= img.app.n_stages) {
		fprintf(stderr, "flowfill: STAGE: the application has %u stage(s)\n",
			img.app.n_stages);
		err = -1;
		goto out;
	}
	fd = inst->map_fd[xfsm_flow_table(inst, stage)];
	ksz = inst->map_key_size[xfsm_flow_table(inst, stage)];
	keys = malloc(FILL_BATCH * ksz);
	vals = malloc(FILL_BATCH * sizeof(*vals));
	if (!keys || !vals || fd < 0 || ksz > sizeof(key)) {
		fprintf(stderr, "flowfill: cannot set up the flow table's writes\n");
		err = -1;
		goto out;
	}
	now = xfsm_now_ns();
	t0 = now_s();
	while (done < n) {
		size_t m = n - done < FILL_BATCH ? n - done : FILL_BATCH;

		for (size_t j = 0; j < m; j++) {
			flow_fields((__u32)(done + j), fv);
			xfsm_flow_key_build(&img.app.stages[stage], stage, fv, true, &key);
			memcpy(keys + j * ksz, &key, ksz);
			flow_value((__u32)(done + j), now, &vals[j]);
		}
		err = xfsm_map_update_many(fd, keys, vals, m, ksz, sizeof(*vals), &batch,
					   &written);
		done += written;
		if (err) {
			fprintf(stderr, "flowfill: after %zu flows: %s\n", done, strerror(-err));
			goto out;
		}
	}
	printf("{\"flows\":%zu,\"fill_s\":%.3f}\n", done, now_s() - t0);
out:
	free(keys);
	free(vals);
	xfsm_image_free(&img);
	xfsm_instance_close(inst);
	return err ? 1 : 0;
}
