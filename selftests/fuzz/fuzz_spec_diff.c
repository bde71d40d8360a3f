// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the differential test of the two datapaths
 * (selftests/harness/diff.h) driven by the fuzzer's input.  The input's
 * bytes steer the random application generator (gen_app.c) and then the
 * packet generator (gen_pkt.c), choice by choice; when they run out, a
 * generator seeded from the input's length goes on.  Each input is one
 * application and XD_FUZZ_PACKETS packets through both instances.
 *
 * A failure (abort, input saved): a difference between the generic and
 * the specialized datapath (printed in full), an application both
 * compile and the generator accepts that cannot run on both, or a
 * specialized program the entry does not dispatch to.  An application
 * the generator refuses is no failure (it is counted, and printed with
 * XFSM_FUZZ_VERBOSE=1).  Needs root (BPF).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "fuzz.h"
#include "gen.h"

#define XD_FUZZ_PACKETS	24

static struct xd_pair pair;
static struct xd_summary sum;
static bool opened;

#define die(...) fuzz_die("fuzz_spec_diff", __VA_ARGS__)

static void summary(void)
{
	xd_summary_print(&sum, "fuzz_spec_diff");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt *pk;
	struct xg_app a;
	struct xg_rng r;
	unsigned int i;
	int ret;

	if (!opened) {
		if ((ret = xd_open(&pair, &sum)))
			die("cannot load two datapath instances: %s", strerror(-ret));
		opened = true;
		atexit(summary);
	}
	xg_from_bytes(&r, data, size);
	if (xg_app(&r, &a, 0))
		die("out of memory");
	ret = xd_apply_source(&pair, a.name, a.text, a.len);
	if (ret == 1 && getenv("XFSM_FUZZ_VERBOSE"))
		fprintf(stderr, "generic: %s\n", pair.why);
	if (ret < 0 && ret != -EINVAL)
		die("the application cannot run on both datapaths: %s\n%s", strerror(-ret), a.text);
	if (ret == 0) {
		pk = malloc(sizeof(*pk));
		if (!pk)
			die("out of memory");
		pair.has_short_tmo = a.short_tmo;
		for (i = 0; i < XD_FUZZ_PACKETS; i++) {
			uint32_t ifindex;
			bool wait;

			xg_packet(&r, &a, pk, &ifindex, &wait);
			ret = xd_run(&pair, pk->data, pk->len, ifindex, wait);
			if (ret == 1)
				die("the datapaths differ (above) on application\n%s", a.text);
			if (ret < 0)
				die("packet %u: %s", i, strerror(-ret));
			if (ret == 2)
				break;
		}
		free(pk);
	}
	xg_app_free(&a);
	return 0;
}
