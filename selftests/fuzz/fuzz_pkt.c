// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: arbitrary frames through the datapath (build/xfsm.bpf.o,
 * BPF_PROG_TEST_RUN) running each example application (the .xfsm files in
 * examples/).
 *
 * Every application runs in a datapath instance of its own (loaded once),
 * and every input goes through all of them ($XFSM_FUZZ_APP: only that
 * one).  Input: byte 0 bit 0 picks the ingress (loopback as port 1, else
 * none), the rest is the frame, zero-padded to an Ethernet header.  Every
 * frame must get a defined verdict (never XDP_ABORTED), and the
 * datapath's counters must account for it exactly: rx_packets and
 * rx_bytes grow by one frame, the counter of the verdict returned by one,
 * every other verdict counter by none.
 *
 * libFuzzer sees only user-space coverage; which of the datapath's
 * counters (verdicts, actions, exceptions) a frame moved, per
 * application, is fed back to it as extra coverage, so that frames
 * reaching new paths of the datapath are kept.  Needs root (BPF).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "bpf.h"
#include "fuzz.h"
#include "libxfsm.h"
#include "xfsm_lang.h"

#define MAX_APPS	16
#define LO_IFINDEX	1

struct app {
	char	name[64];
	struct xfsm_image img;
	struct xfsm_app_names nm;
	struct xt t;		/* its own datapath */
};

#define N_STATS	(sizeof(struct xfsm_stats) / sizeof(__u64))

static struct app *apps;
static int napps, fixed_app = -1;

/* libFuzzer's extra coverage: counter k of application a moved */
static uint8_t moved[MAX_APPS][N_STATS] __attribute__((section("__libfuzzer_extra_counters")));

#define die(...) fuzz_die("fuzz_pkt", __VA_ARGS__)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct app *)a)->name, ((const struct app *)b)->name);
}

static void load_apps(void)
{
	const char *src = getenv("XFSM_SRC");
	char dir[600], path[900], err[600];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/examples", src ? src : xt_build_dir());
	if (!src)	/* build/ sits in the tree */
		snprintf(dir, sizeof(dir), "%s/../examples", xt_build_dir());
	d = opendir(dir);
	if (!d)
		die("cannot open %s (set XFSM_SRC to the source tree)", dir);
	apps = calloc(MAX_APPS, sizeof(*apps));
	if (!apps)
		die("out of memory");
	while ((de = readdir(d)) && napps < MAX_APPS) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".xfsm"))
			continue;
		snprintf(apps[napps].name, sizeof(apps[napps].name), "%.*s", (int)(l - 5), de->d_name);
		napps++;
	}
	closedir(d);
	if (!napps)
		die("no application in %s", dir);
	qsort(apps, (size_t)napps, sizeof(*apps), name_cmp);
	for (int i = 0; i < napps; i++) {
		snprintf(path, sizeof(path), "%s/%s.xfsm", dir, apps[i].name);
		if (xfsm_compile_file(path, &apps[i].img, &apps[i].nm, err, sizeof(err)))
			die("%s", err);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *only = getenv("XFSM_FUZZ_APP");

	(void)argc;
	(void)argv;
	load_apps();
	if (only) {
		for (int i = 0; i < napps; i++)
			if (!strcmp(apps[i].name, only))
				fixed_app = i;
		if (fixed_app < 0)
			die("no example application '%s'", only);
	}
	for (int i = 0; i < napps; i++) {
		struct xt *t = &apps[i].t;

		if (fixed_app >= 0 && i != fixed_app)
			continue;
		if (xt_open(t, &(struct xt_opts){ .profile = XT_NATIVE, .flows_max = 4096 }))
			die("cannot load the datapath (root, and build/xfsm.bpf.o, needed)");
		if (xt_reset(t) || xt_set_port(t, LO_IFINDEX, 1))
			die("cannot reset the datapath");
		XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .unchecked_ports = true);

		if (xfsm_lang_apply(t->inst, &apps[i].img, &apps[i].nm, &o) < 0)
			die("cannot apply %s", apps[i].name);
	}
	return 0;
}

static __u64 *verdict_counter(struct xfsm_stats *s, __u32 verdict)
{
	switch (verdict) {
	case XDP_PASS: return &s->verdict_pass;
	case XDP_DROP: return &s->verdict_drop;
	case XDP_TX: return &s->verdict_tx;
	case XDP_REDIRECT: return &s->verdict_redirect;
	default: return NULL;
	}
}

static void run_one(int a, const uint8_t *frame, __u32 len, __u32 ifindex)
{
	static const __u32 verdicts[] = { XDP_PASS, XDP_DROP, XDP_TX, XDP_REDIRECT };
	struct xfsm_stats before, after;
	const char *name = apps[a].name;
	struct xt *t = &apps[a].t;
	struct xt_result r;

	if (xfsm_read_stats(t->inst, &before))
		die("cannot read the statistics");
	if (xt_run(t, frame, len, ifindex, &r))
		die("%s: test run failed: %s", name, strerror(-r.err));
	if (r.verdict == XDP_ABORTED)
		die("%s: XDP_ABORTED", name);
	if (!verdict_counter(&after, r.verdict))
		die("%s: undefined verdict %u", name, r.verdict);
	if (xfsm_read_stats(t->inst, &after))
		die("cannot read the statistics");
	if (after.rx_packets != before.rx_packets + 1 || after.rx_bytes != before.rx_bytes + len)
		die("%s: rx counters moved by %llu packets, %llu bytes for one frame of %u", name,
		    (unsigned long long)(after.rx_packets - before.rx_packets),
		    (unsigned long long)(after.rx_bytes - before.rx_bytes), len);
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		__u64 d = *verdict_counter(&after, verdicts[i]) - *verdict_counter(&before, verdicts[i]);

		if (d != (verdicts[i] == r.verdict))
			die("%s: verdict %s returned, counter of %s moved by %llu", name,
			    xt_verdict_name(r.verdict), xt_verdict_name(verdicts[i]),
			    (unsigned long long)d);
	}
	{
		const __u64 *b = (const __u64 *)&before, *e = (const __u64 *)&after;

		for (size_t k = 0; k < N_STATS; k++)
			if (b[k] != e[k] && moved[a][k] < 255)
				moved[a][k]++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[1536] = { 0 };
	__u32 len, ifindex;

	if (size < 1)
		return 0;
	ifindex = data[0] & 1 ? LO_IFINDEX : 0;
	len = (__u32)(size - 1 > 1500 ? 1500 : size - 1);
	memcpy(frame, data + 1, len);
	if (len < ETH_HLEN)
		len = ETH_HLEN;
	for (int a = 0; a < napps; a++)
		if (fixed_app < 0 || a == fixed_app)
			run_one(a, frame, len, ifindex);
	return 0;
}
