// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xsk_echo: a process port.  Receives, through an AF_XDP socket, the
 * packets the running xfsm application sends it (`output xsk`), swaps
 * their Ethernet, IP and port addresses and sends them back out of the
 * interface they came from, as BESS's process ports do.
 *
 *   xsk_echo [--instance NAME | --pin-dir DIR] [-q QUEUE] [-n COUNT]
 *            [-t IDLE_SECONDS] IFACE
 *
 * Stops after COUNT packets, after IDLE_SECONDS without one, or on
 * SIGINT/SIGTERM, and prints "received R, echoed E".
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xfsm/libxfsm.h>
#include <xfsm/xfsm_xsk.h>
#include <xfsm/xfsm_num.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void swap(unsigned char *a, unsigned char *b, size_t n)
{
	unsigned char t;

	while (n--) {
		t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static __u32 sum16(const unsigned char *p, size_t n, __u32 sum)
{
	while (n > 1) {
		sum += p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += p[0] << 8;
	return sum;
}

/* Recompute a TCP or UDP checksum: a frame that came from a local socket
 * through a veth may carry only the partial sum of checksum offload. */
static void l4_csum(unsigned char *l4, size_t l4len, unsigned int proto,
		    const unsigned char *src, const unsigned char *dst, size_t alen)
{
	unsigned char *ck = l4 + (proto == 6 ? 16 : 6);
	__u32 sum;

	if (l4len < (proto == 6 ? 20u : 8u))
		return;
	ck[0] = ck[1] = 0;
	sum = sum16(src, alen, 0);
	sum = sum16(dst, alen, sum);
	sum += proto + l4len;
	sum = sum16(l4, l4len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	if (proto == 17 && !sum)
		sum = 0xffff;
	ck[0] = sum >> 8;
	ck[1] = sum;
}

/* Swap addresses and ports; the L4 checksum is recomputed. */
static bool echo(void *data, size_t *len, void *ctx)
{
	unsigned char *p = data, *l4 = NULL, *src = NULL, *dst = NULL;
	size_t off = 14, l4len = 0, alen = 0;
	unsigned int proto = 0;
	__u16 type;

	(void)ctx;
	if (*len < 14)
		return false;
	swap(p, p + 6, 6);
	type = p[12] << 8 | p[13];
	if (type == 0x8100 && *len >= 18) {
		type = p[16] << 8 | p[17];
		off = 18;
	}
	if (type == 0x0800 && *len >= off + 20) {
		size_t tot = p[off + 2] << 8 | p[off + 3], ihl = (p[off] & 0x0f) * 4;

		swap(p + off + 12, p + off + 16, 4);
		proto = p[off + 9];
		l4 = p + off + ihl;
		l4len = tot > ihl && off + tot <= *len ? tot - ihl : 0;
		src = p + off + 12;
		dst = p + off + 16;
		alen = 4;
	} else if (type == 0x86dd && *len >= off + 40) {
		size_t pl = p[off + 4] << 8 | p[off + 5];

		swap(p + off + 8, p + off + 24, 16);
		proto = p[off + 6];
		l4 = p + off + 40;
		l4len = off + 40 + pl <= *len ? pl : 0;
		src = p + off + 8;
		dst = p + off + 24;
		alen = 16;
	}
	if (l4 && (proto == 6 || proto == 17) && l4len >= 4) {
		swap(l4, l4 + 2, 2);
		l4_csum(l4, l4len, proto, src, dst, alen);
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'I' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "queue", required_argument, NULL, 'q' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *inst_name = XFSM_DEFAULT_INSTANCE, *pin_dir = NULL;
	unsigned long count = 0, rx = 0, tx = 0;
	__u32 queue = 0, idle_s = 0;
	__u64 count64;
	struct xfsm_instance *inst;
	struct xfsm_xsk *x;
	time_t last;
	int c, err;

	while ((c = getopt_long(argc, argv, "I:P:q:n:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'I': inst_name = optarg; break;
		case 'P': pin_dir = optarg; break;
		case 'q':
			if (xfsm_parse_u32(optarg, 0, 0xffff, &queue, NULL, 0))
				goto usage;
			break;
		case 'n':
			if (xfsm_parse_u64(optarg, 0, ~0ULL, &count64, NULL, 0))
				goto usage;
			count = count64;
			break;
		case 't':
			if (xfsm_parse_u32(optarg, 0, 86400, &idle_s, NULL, 0))
				goto usage;
			break;
		default:
usage:
			fprintf(stderr, "usage: xsk_echo [--instance NAME | --pin-dir DIR] [-q QUEUE] [-n COUNT] [-t IDLE_SECONDS] IFACE\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "xsk_echo: expected one interface\n");
		return 2;
	}
	/* A name is checked by the library before it becomes a path. */
	err = pin_dir ? xfsm_instance_open_pin_dir(pin_dir, &inst)
		      : xfsm_instance_open(inst_name, &inst);
	if (err)
		return 1;
	err = xfsm_xsk_open(inst, argv[optind], queue, &x);
	if (err) {
		xfsm_instance_close(inst);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	last = time(NULL);
	while (!stop && (!count || rx < count)) {
		int n = xfsm_xsk_poll(x, 64, 100, echo, NULL);

		if (n < 0 && n != -EINTR)
			break;
		if (n > 0)
			last = time(NULL);
		xfsm_xsk_counts(x, &rx, &tx);
		if (idle_s && time(NULL) - last >= (time_t)idle_s)
			break;
	}
	/* let the last transmits complete */
	for (c = 0; c < 20; c++) {
		xfsm_xsk_poll(x, 0, 10, NULL, NULL);
		xfsm_xsk_counts(x, &rx, &tx);
		if (tx >= rx)
			break;
	}
	printf("received %lu, echoed %lu\n", rx, tx);
	xfsm_xsk_close(x);
	xfsm_instance_close(inst);
	return 0;
}
