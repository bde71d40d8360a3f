// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Scenario 5 of `make bench` through libxfsm's ACL module (issue 5) while
 * xfsmctl has no `acl` command: loads a rule file (ClassBench format: every
 * rule denies), installs it into ACL table 0 (timed), then applies an
 * application of one ACL stage on that table; a packet no rule matches
 * goes to the kernel stack, as with nftables' policy accept.
 *
 * Usage: apply_acl PIN_DIR FILE     prints {"rules":N,"install_s":S}
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libxfsm.h"
#include "xfsm_acl.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct xfsm_acl_rules rs = { 0 };
	struct xfsm_instance *inst = NULL;
	struct xfsm_stage *st;
	struct xfsm_image img;
	char err_msg[512] = "";
	double t0, t1;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PIN_DIR FILE\n", argv[0]);
		return 2;
	}
	err = xfsm_instance_open_pin_dir(argv[1], &inst);
	if (!err)
		err = xfsm_instance_check_abi(inst);
	if (!err)
		err = xfsm_acl_check(inst);
	if (err) {
		fprintf(stderr, "apply_acl: no usable datapath with ACL tables in %s: %s\n",
			argv[1], strerror(-err));
		goto out;
	}
	err = xfsm_acl_load_file(argv[2], &rs, err_msg, sizeof(err_msg));
	if (err) {
		fprintf(stderr, "apply_acl: %s\n", err_msg[0] ? err_msg : strerror(-err));
		goto out;
	}
	t0 = now_s();
	err = xfsm_acl_install(inst, 0, rs.r, rs.n);
	t1 = now_s();
	if (err) {
		fprintf(stderr, "apply_acl: install: %s\n", strerror(-err));
		goto out;
	}
	xfsm_image_init(&img);
	img.app.n_stages = 1;
	img.app.default_verdict = XFSM_VERDICT_PASS;
	st = &img.app.stages[0];
	st->enabled = 1;
	st->kind = XFSM_STAGE_ACL;
	st->acl_table = 0;
	st->miss_verdict = XFSM_VERDICT_PASS;
	err = xfsm_apply(inst, &img, NULL);
	xfsm_image_free(&img);
	if (err) {
		fprintf(stderr, "apply_acl: apply: %s\n", strerror(-err));
		goto out;
	}
	printf("{\"rules\":%zu,\"install_s\":%.3f}\n", rs.n, t1 - t0);
out:
	xfsm_acl_rules_free(&rs);
	if (inst)
		xfsm_instance_close(inst);
	return err ? 1 : 0;
}
