/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsm micro-benchmark: ns per packet through BPF_PROG_TEST_RUN (repeat),
 * each figure next to the empty XDP program (build/xdp_empty.bpf.o)
 * measured in the same run with the same packets.  Prints a Markdown table.
 *
 *   parser only          application with 0 stages, default verdict drop
 *   port knocking, hot   a source that has knocked, TCP 22 repeated
 *   N active flows       the table holds N flows and consecutive packets
 *                        hit consecutive flows (see app_flows())
 *
 * Usage: micro [-b BUILD_DIR] [-r REPEAT] [-n ROUNDS] [-q]  (-q: no 1M case)
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "libxfsm.h"
#include "xfsm_num.h"

#define MAX_FLOWS_TABLE	(1U << 21)
#define FRAME_LEN	64

struct frame {
	unsigned char d[FRAME_LEN];
};

static const char *build_dir = "build";
static unsigned int repeat = 2000000;
static unsigned int rounds = 5;

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
}

static struct bpf_object *load(const char *name, __u32 flows, int *prog_fd)
{
	char path[512];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;

	snprintf(path, sizeof(path), "%s/%s", build_dir, name);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "micro: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	map = bpf_object__find_map_by_name(obj, XFSM_MAP_FLOWS);
	if (map && flows)
		bpf_map__set_max_entries(map, flows);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "micro: cannot load %s\n", path);
		bpf_object__close(obj);
		return NULL;
	}
	prog = bpf_object__next_program(obj, NULL);
	*prog_fd = bpf_program__fd(prog);
	return obj;
}

static __u16 csum16(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += b[i] << 8 | b[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Ethernet / IPv4 (198.18.0.0/15) / TCP or UDP, padded to 64 bytes. */
static void make_frame(struct frame *f, __u32 src, __u32 dst, __u8 proto,
		       __u16 sport, __u16 dport)
{
	struct ethhdr *eth = (void *)f->d;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 c;

	memset(f, 0, sizeof(*f));
	memcpy(eth->h_dest, "\x02\0\0\0\0\x02", 6);
	memcpy(eth->h_source, "\x02\0\0\0\0\x01", 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = htonl(src);
	ip->daddr = htonl(dst);
	c = csum16(ip, sizeof(*ip));
	ip->check = htons(c);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *t = (void *)(ip + 1);

		t->source = htons(sport);
		t->dest = htons(dport);
		t->doff = 5;
		t->syn = 1;
	} else {
		struct udphdr *u = (void *)(ip + 1);

		u->source = htons(sport);
		u->dest = htons(dport);
		u->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	}
}

/* ns per packet of one frame run `repeat` times, best of `rounds`. */
static double measure(int prog_fd, const struct frame *f)
{
	double best = -1;
	unsigned int r;

	for (r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = f->d,
			.data_size_in = FRAME_LEN,
			.repeat = repeat,
		);

		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "micro: test_run: %s\n", strerror(errno));
			return -1;
		}
		if (best < 0 || o.duration < best)
			best = o.duration;
	}
	return best;
}

/* ---- applications ---------------------------------------------------- */

static int add_rule(struct xfsm_image *img, unsigned int stage,
		    const struct xfsm_rule_match *m, struct xfsm_rule *r)
{
	r->rule_id = img->n_rules;
	return xfsm_image_add_rule(img, stage, m, r);
}

static int app_parser_only(struct xfsm_image *img)
{
	xfsm_image_init(img);
	img->app.n_stages = 0;
	img->app.default_verdict = XFSM_VERDICT_DROP;
	return 0;
}

static int app_portknock(struct xfsm_image *img)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u16 knocks[] = { 1111, 2222, 3333, 4444 };
	struct xfsm_stage *st = &img->app.stages[0];
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	int err, i;

	xfsm_image_init(img);
	img->app.n_stages = 1;
	img->app.default_verdict = XFSM_VERDICT_DROP;
	st->enabled = 1;
	st->miss_verdict = XFSM_VERDICT_DROP;
	err = xfsm_stage_set_keys(st, key, NULL, 1, key, NULL, 1);
	st->match_words[0] = XFSM_FW_IP_PROTO;
	st->match_words[1] = XFSM_FW_L4_DPORT;
	for (i = 0; i <= 4 && !err; i++) {
		memset(&m, 0, sizeof(m));
		memset(&r, 0, sizeof(r));
		m.state = i;
		m.state_mask = ~0U;
		m.match[0] = i < 4 ? IPPROTO_UDP : IPPROTO_TCP;
		m.match_mask[0] = 0xff;
		m.match[1] = i < 4 ? knocks[i] : 22;
		m.match_mask[1] = 0xffff;
		r.priority = 10;
		if (i < 4) {
			r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
			r.next_state = i + 1;
			r.act[0].type = XFSM_ACT_DROP;
		} else {
			r.act[0].type = XFSM_ACT_PASS;
		}
		err = add_rule(img, 0, &m, &r);
	}
	if (!err) {
		memset(&m, 0, sizeof(m));
		memset(&r, 0, sizeof(r));
		r.priority = 1;
		r.flags = XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
		r.act[0].type = XFSM_ACT_DROP;
		err = add_rule(img, 0, &m, &r);
	}
	return err;
}

/*
 * BPF_PROG_TEST_RUN repeats one packet, so the traffic over N flows is made
 * inside the pipeline: stage 0 holds a cursor (one hot flow, reg0 = (reg0 +
 * 1) mod N) and marks the packet with it; stage 1 is keyed on meta.mark and
 * counts (reg0 += 1, reg1 += len), so consecutive packets hit consecutive
 * flows among N pre-populated ones.  N = 1 is the hot-flow figure the
 * larger tables compare with.
 */
static const __u8 cursor_key[] = { XFSM_FW_IP4_SRC };
static const __u8 mark_key[] = { XFSM_FW_META_MARK };

static int app_flows(struct xfsm_image *img, __u32 n)
{
	struct xfsm_stage *s0 = &img->app.stages[0], *s1 = &img->app.stages[1];
	struct xfsm_rule_match m = { 0 };
	struct xfsm_rule r = { 0 };
	int err;

	xfsm_image_init(img);
	img->app.n_stages = 2;
	img->app.default_verdict = XFSM_VERDICT_DROP;
	s0->enabled = s1->enabled = 1;
	s0->miss_verdict = s1->miss_verdict = XFSM_VERDICT_DROP;
	err = xfsm_stage_set_keys(s0, cursor_key, NULL, 1, cursor_key, NULL, 1) ?:
	      xfsm_stage_set_keys(s1, mark_key, NULL, 1, mark_key, NULL, 1);
	if (err)
		return err;
	r.priority = 1;
	r.flags = XFSM_RF_WRITES_FLOW;
	r.upd[0].op = XFSM_UPD_ADD;
	r.upd[0].dst_kind = XFSM_OPND_FLOW_REG;
	r.upd[0].a = xfsm_opnd_flow_reg(0);
	r.upd[0].b = xfsm_opnd_const(1);
	r.upd[1].op = XFSM_UPD_MOD;
	r.upd[1].dst_kind = XFSM_OPND_FLOW_REG;
	r.upd[1].a = xfsm_opnd_flow_reg(0);
	r.upd[1].b = xfsm_opnd_const(n);
	r.act[0].type = XFSM_ACT_SET_MARK;
	r.act[0].opnd = xfsm_opnd_flow_reg(0);
	err = add_rule(img, 0, &m, &r);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	r.priority = 1;
	r.flags = XFSM_RF_WRITES_FLOW;
	r.upd[0].op = XFSM_UPD_ADD;
	r.upd[0].dst_kind = XFSM_OPND_FLOW_REG;
	r.upd[0].a = xfsm_opnd_flow_reg(0);
	r.upd[0].b = xfsm_opnd_const(1);
	r.upd[1].op = XFSM_UPD_ADD;
	r.upd[1].dst_kind = XFSM_OPND_FLOW_REG;
	r.upd[1].dst_index = 1;
	r.upd[1].a = xfsm_opnd_flow_reg(1);
	r.upd[1].b = xfsm_opnd_meta(XFSM_META_LEN);
	r.act[0].type = XFSM_ACT_PASS;
	return add_rule(img, 1, &m, &r);
}

/* Stage 1 flows for marks 0..n-1. */
static int populate(struct xfsm_instance *inst, unsigned int n)
{
	struct xfsm_image live;
	struct xfsm_flow flow = { 0 };
	__u32 fv[XFSM_FV_WORDS] = { 0 };
	struct xfsm_flow_key key;
	unsigned int i;
	int err;

	xfsm_image_init(&live);
	err = xfsm_read_app(inst, &live);
	for (i = 0; i < n && !err; i++) {
		fv[XFSM_FW_META_MARK] = i;
		xfsm_flow_key_build(&live.app.stages[1], 1, fv, false, &key);
		err = xfsm_flow_set(inst, &key, &flow);
		if (err)
			fprintf(stderr, "micro: flow_set %u: %s\n", i, strerror(-err));
	}
	xfsm_image_free(&live);
	return err;
}

struct row {
	const char *name;
	double ns, empty;
};

static void print_row(const struct row *r)
{
	printf("| %s | %.1f | %.1f | %.2fx |\n", r->name, r->ns, r->empty,
	       r->empty > 0 ? r->ns / r->empty : 0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const unsigned int flow_counts[] = { 1, 10000, 1000000 };
	struct xfsm_apply_opts aopts = { .keep_flows = false };
	struct xfsm_instance *inst = NULL;
	struct bpf_object *eobj, *xobj;
	struct xfsm_image img;
	struct frame *frames;
	bool skip_1m = false;
	char ratios[256] = "";
	double hot = 0;
	int efd, xfd, c, err = 1;
	unsigned int k;
	struct row r;

	while ((c = getopt(argc, argv, "b:r:n:q")) != -1) {
		switch (c) {
		case 'b': build_dir = optarg; break;
		case 'r':
			if (xfsm_parse_u32(optarg, 1, 0xffffffff, &repeat, NULL, 0))
				goto usage;
			break;
		case 'n':
			if (xfsm_parse_u32(optarg, 1, 0xffffffff, &rounds, NULL, 0))
				goto usage;
			break;
		case 'q': skip_1m = true; break;
		default:
usage:
			fprintf(stderr, "usage: %s [-b BUILD_DIR] [-r REPEAT] [-n ROUNDS] [-q]\n", argv[0]);
			return 2;
		}
	}
	if (!repeat || !rounds)
		return 2;
	libbpf_set_print(quiet);
	frames = calloc(1, sizeof(*frames));
	if (!frames)
		return 1;
	eobj = load("xdp_empty.bpf.o", 0, &efd);
	xobj = load("xfsm.bpf.o", MAX_FLOWS_TABLE, &xfd);
	if (!eobj || !xobj)
		goto out;
	if ((err = xfsm_instance_open_obj(xobj, &inst))) {
		fprintf(stderr, "micro: open instance: %s\n", strerror(-err));
		goto out;
	}

	printf("| case | xfsm ns/pkt | empty XDP ns/pkt | ratio |\n");
	printf("|---|---:|---:|---:|\n");

	/* parser only */
	make_frame(&frames[0], 198U << 24 | 18U << 16 | 1, 198U << 24 | 19U << 16 | 1,
		   IPPROTO_TCP, 40000, 22);
	app_parser_only(&img);
	err = xfsm_apply(inst, &img, &aopts);
	xfsm_image_free(&img);
	if (err)
		goto out;
	r = (struct row){ "parser only (0 stages)", measure(xfd, frames), measure(efd, frames) };
	print_row(&r);

	/* port knocking, hot flow */
	if ((err = app_portknock(&img)) || (err = xfsm_apply(inst, &img, &aopts))) {
		xfsm_image_free(&img);
		goto out;
	}
	xfsm_image_free(&img);
	{
		static const __u16 knocks[] = { 1111, 2222, 3333, 4444 };
		struct frame kf;

		for (k = 0; k < 4; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = kf.d,
				    .data_size_in = FRAME_LEN, .repeat = 1);

			make_frame(&kf, 198U << 24 | 18U << 16 | 1, 198U << 24 | 19U << 16 | 1,
				   IPPROTO_UDP, 40000, knocks[k]);
			bpf_prog_test_run_opts(xfd, &o);
		}
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[0].d,
			    .data_size_in = FRAME_LEN, .repeat = 1);
		if (bpf_prog_test_run_opts(xfd, &o) || o.retval != XDP_PASS)
			fprintf(stderr, "micro: warning: knocked source not let in (verdict %u)\n",
				o.retval);
	}
	r = (struct row){ "port knocking, hot flow (TCP 22 after knocks)",
			  measure(xfd, frames), measure(efd, frames) };
	print_row(&r);

	/* flow tables: stage 0 cursor + stage 1 keyed on the mark */
	make_frame(&frames[0], 198U << 24 | 18U << 16 | 7, 198U << 24 | 19U << 16 | 1,
		   IPPROTO_UDP, 40000, 80);
	for (k = 0; k < sizeof(flow_counts) / sizeof(flow_counts[0]); k++) {
		unsigned int n = flow_counts[k];
		struct xfsm_stage_stats ss;
		char name[96];

		if (n > 10000 && skip_1m)
			continue;
		if ((err = app_flows(&img, n)) || (err = xfsm_apply(inst, &img, &aopts))) {
			xfsm_image_free(&img);
			goto out;
		}
		xfsm_image_free(&img);
		xfsm_flow_flush(inst, -1);
		if ((err = populate(inst, n)))
			goto out;
		xfsm_reset_stats(inst);
		snprintf(name, sizeof(name), "%u active flow%s (2 stages: cursor + counter)",
			 n, n > 1 ? "s" : "");
		r = (struct row){ name, measure(xfd, frames), measure(efd, frames) };
		print_row(&r);
		if (n == 1)
			hot = r.ns;
		else if (hot > 0)
			snprintf(ratios + strlen(ratios), sizeof(ratios) - strlen(ratios),
				 "%s%u flows / 1 flow: %.2fx", ratios[0] ? "; " : "", n, r.ns / hot);
		if (!xfsm_read_stage_stats(inst, 1, &ss) && (ss.flows_created || ss.table_full))
			fprintf(stderr, "micro: warning: %llu flows created, %llu table full in stage 1\n",
				(unsigned long long)ss.flows_created,
				(unsigned long long)ss.table_full);
	}
	if (ratios[0])
		printf("\n%s\n", ratios);
	err = 0;
out:
	if (inst)
		xfsm_instance_close(inst);
	if (xobj)
		bpf_object__close(xobj);
	if (eobj)
		bpf_object__close(eobj);
	free(frames);
	return err ? 1 : 0;
}
