// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Control-plane benchmark of `make bench`: builds an application image of N
 * rules by hand through libxfsm (one stage keyed by ip.src; rule i matches
 * ip.src == 198.18.0.0 + i and tcp.dport == 1 + i % 1000, drops) and times
 * building the image and xfsm_apply() (encode, write the inactive slot,
 * atomic switch, clear the old slot) separately.  The language compiler
 * refuses more than XFSM_DEFAULT_RULES entries, hence the image.
 *
 * Usage: apply_rules PIN_DIR N     prints {"rules":N,"build_s":S,"apply_s":S}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include "libxfsm.h"
#include "xfsm_num.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	struct xfsm_instance *inst = NULL;
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	struct xfsm_stage *st;
	struct xfsm_image img;
	double t0, t1, t2;
	unsigned long n, i;
	__u32 nrules = 0;
	int err;

	if (argc != 3 || xfsm_parse_u32(argv[2], 1, 131072, &nrules, NULL, 0)) {
		fprintf(stderr, "usage: %s PIN_DIR N   (N <= 131072)\n", argv[0]);
		return 2;
	}
	n = nrules;
	err = xfsm_instance_open_pin_dir(argv[1], &inst);
	if (!err)
		err = xfsm_instance_check_abi(inst);
	if (err) {
		fprintf(stderr, "apply_rules: cannot open the instance in %s: %s\n", argv[1],
			strerror(-err));
		return 1;
	}

	t0 = now_s();
	xfsm_image_init(&img);
	img.app.n_stages = 1;
	img.app.default_verdict = XFSM_VERDICT_PASS;
	st = &img.app.stages[0];
	st->enabled = 1;
	st->miss_verdict = XFSM_VERDICT_PASS;
	err = xfsm_stage_set_keys(st, key, NULL, 1, key, NULL, 1);
	st->match_words[0] = XFSM_FW_IP4_SRC;
	st->match_words[1] = XFSM_FW_L4_DPORT;
	for (i = 0; i < n && !err; i++) {
		memset(&m, 0, sizeof(m));
		memset(&r, 0, sizeof(r));
		m.state_mask = 0;
		m.match[0] = 0xc6120000 + i;	/* 198.18.0.0 + i */
		m.match_mask[0] = ~0U;
		m.match[1] = 1 + i % 1000;
		m.match_mask[1] = 0xffff;
		r.rule_id = i;
		r.priority = 10;
		r.act[0].type = XFSM_ACT_DROP;
		err = xfsm_image_add_rule(&img, 0, &m, &r);
	}
	t1 = now_s();
	if (err) {
		fprintf(stderr, "apply_rules: rule %lu: %s\n", i, strerror(-err));
		goto out;
	}
	err = xfsm_apply(inst, &img, NULL);
	t2 = now_s();
	if (err) {
		fprintf(stderr, "apply_rules: apply: %s\n", strerror(-err));
		goto out;
	}
	printf("{\"rules\":%lu,\"build_s\":%.3f,\"apply_s\":%.3f}\n", n, t1 - t0, t2 - t1);
out:
	xfsm_image_free(&img);
	xfsm_instance_close(inst);
	return err ? 1 : 0;
}
