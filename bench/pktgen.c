// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xfsm-pktgen: a packet generator built on BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES (xdp-trafficgen does not run on current
 * kernels).  The kernel turns one template frame into `repeat` frames and
 * runs bench/pktgen.bpf.c on each; that program varies the source address
 * and port per packet (--flows) and returns XDP_TX, which transmits the
 * frame out of --dev.  --dev is the generator's end of a veth pair: the
 * peer needs an XDP program (or GRO enabled) to accept XDP frames.
 *
 * Run it inside the generator's network namespace (the ifindex is
 * resolved there) and pin it to a CPU with taskset: the frames are
 * generated on the calling CPU.
 *
 * Some kernels refuse live frames (EPERM: a sandbox's kernel can forbid
 * them outright; kernels before 5.18 do not know the flag: EINVAL).
 * --engine packet sends the same frames through an AF_PACKET socket bound
 * to --dev instead (PACKET_QDISC_BYPASS, sendmmsg batches): every frame
 * then costs a system call's share and an skb, so it offers a fraction of
 * the live engine's rate.  --engine loop makes XDP frames without live
 * frames: it attaches the same program to the peer of --loop-dev, one end
 * of a second veth pair in this namespace, and feeds it --batch frames
 * once through an AF_PACKET socket; from then on each frame that comes
 * round sends a copy out of --dev (a devmap broadcast) and goes round the
 * loop again, so the receiver gets XDP frames as from live frames, at the
 * rate the loop's NAPI (on the CPU that fed it) turns them.  The program
 * lets the frames go at the count, at the end of the run (told through a
 * map) or a second after the longest run allowed, whatever happens to this
 * process; the attachment is a BPF link and goes with the process.
 * --engine auto (the default) tries live frames first, then the loop when
 * --loop-dev is given, else the packet engine, and says on stderr when it
 * falls back.
 *
 * Addresses are restricted to the benchmarking ranges 198.18.0.0/15 and
 * 2001:2::/48 (RFC 2544, RFC 5180): the tool refuses anything else.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xfsm_attach.h"
#include "xfsm_num.h"

#define PKTGEN_MAX_SIZE		1500	/* frame without FCS; one page per frame */
#define PKTGEN_MAX_DURATION	600.0	/* seconds */
#define PKTGEN_DEFAULT_COUNT	1000000ULL
#define PACED_RUNS		(1U << 20)	/* program runs per call when paced: ~40 ms */
#define PACKET_MAX_BATCH	256	/* frames per sendmmsg() */
#define PACKET_STALL_S		1.0	/* seconds of refused frames that end a run */
#define LOOP_MAX_FRAMES		128	/* frames round the loop: half a veth's ring */
#define PKTGEN_MAX_CLONE	8	/* as in pktgen.bpf.c */

enum pktgen_engine { ENGINE_AUTO, ENGINE_LIVE, ENGINE_LOOP, ENGINE_PACKET };

static const char *const engine_names[] = {
	[ENGINE_AUTO] = "auto", [ENGINE_LIVE] = "live", [ENGINE_LOOP] = "loop",
	[ENGINE_PACKET] = "packet",
};

struct pktgen_opts {
	const char *dev;
	const char *loop_dev;
	const char *obj;
	unsigned long long count;	/* 0: bounded by duration only */
	double duration;		/* 0: bounded by count only */
	double rate;			/* packets per second, 0: as fast as possible */
	unsigned int size;
	unsigned int flows;
	unsigned int batch;
	unsigned int clone;		/* the loop engine: copies of each frame sent */
	enum pktgen_engine engine;
	bool ipv6;
	int proto;
	__u8 tcp_flags;
	__u8 src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
	bool have_src_mac;
	struct in_addr src4, dst4;
	struct in6_addr src6, dst6;
	bool have_src, have_dst;
	__u16 sport, dport;
	bool json;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int quiet_print(enum libbpf_print_level l, const char *f, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xfsm-pktgen --dev IFACE [OPTIONS]\n"
"  --dev IFACE         generator's end of a veth pair (in this netns)\n"
"  --dst-mac MAC       destination MAC (default ff:ff:ff:ff:ff:ff)\n"
"  --src-mac MAC       source MAC (default: the MAC of IFACE)\n"
"  -n, --count N       packets to send (default %llu without --duration)\n"
"  -d, --duration SEC  stop after SEC seconds (or 500ms, 2min; at most %.0f s)\n"
"  --rate PPS          pace to at most PPS (a whole number, up to 10^9) packets per\n"
"                      second: the program sends a frame when the clock says so\n"
"  -s, --size BYTES    frame size without FCS (default: 60, or\n"
"                      the headers' size if larger; max %d)\n"
"  -4, --ipv4 | -6, --ipv6     (default IPv4)\n"
"  --udp | --tcp       (default UDP)\n"
"  --tcp-flags LIST    e.g. syn or syn,ack or 0x12 (default syn)\n"
"  --flows N           distinct flows, N source address/port pairs (default 1)\n"
"  --src ADDR --dst ADDR       first source, destination (198.18.0.0/15 or\n"
"                      2001:2::/48; default 198.18.0.1 -> 198.19.255.1,\n"
"                      2001:2::1 -> 2001:2:0:ffff::1)\n"
"  --sport PORT --dport PORT   first source port, destination port\n"
"                      (default 1024, 9)\n"
"  --batch N           frames per kernel batch or sendmmsg() (1-256, default 64)\n"
"  --clone N           each flow's frames N in a row (1-%d, default 1; --count a\n"
"                      multiple of N); the loop engine sends the N at once\n"
"  --engine E          live (BPF_PROG_TEST_RUN live frames), loop (XDP frames\n"
"                      going round --loop-dev), packet (AF_PACKET socket), auto\n"
"                      (default: live, else loop with --loop-dev, else packet;\n"
"                      a fallback is said on stderr)\n"
"  --loop-dev IFACE    the loop engine's veth end (in this netns, its peer too,\n"
"                      which must have no XDP program); --batch frames (at\n"
"                      most %d) go round\n"
"  --obj PATH          generator object (default: pktgen.bpf.o next to the\n"
"                      executable, then build/bench/pktgen.bpf.o)\n"
"  -j, --json          JSON report\n"
"Flow i uses source address SRC + i %% min(N, 65536) and source port\n"
"SPORT + i / 65536.\n",
		PKTGEN_DEFAULT_COUNT, PKTGEN_MAX_DURATION, PKTGEN_MAX_SIZE, PKTGEN_MAX_CLONE,
		LOOP_MAX_FRAMES);
}

static int parse_mac(const char *s, __u8 *mac)
{
	return xfsm_parse_mac(s, strlen(s), mac);
}

static int parse_tcp_flags(const char *s, __u8 *out)
{
	static const struct { const char *name; __u8 bit; } names[] = {
		{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
		{ "ack", 0x10 }, { "urg", 0x20 }, { "ece", 0x40 }, { "cwr", 0x80 },
	};
	char buf[128], *tok, *save = NULL;
	__u32 v;
	size_t i;

	if (s[0] >= '0' && s[0] <= '9') {
		if (xfsm_parse_u32(s, 0, 0xff, &v, NULL, 0))
			return -EINVAL;
		*out = (__u8)v;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, ",|+", &save); tok; tok = strtok_r(NULL, ",|+", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(tok, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*out |= names[i].bit;
	}
	return 0;
}

static bool in_bench_range4(__u32 host)
{
	return (host & 0xfffe0000) == 0xc6120000;	/* 198.18.0.0/15 */
}

static bool in_bench_range6(const struct in6_addr *a)
{
	/* 2001:2::/48: 2001:0002:0000 */
	return a->s6_addr[0] == 0x20 && a->s6_addr[1] == 0x01 &&
	       a->s6_addr[2] == 0x00 && a->s6_addr[3] == 0x02 &&
	       a->s6_addr[4] == 0x00 && a->s6_addr[5] == 0x00;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	__u64 v;

	if (xfsm_parse_u64(s, 0, max, &v, NULL, 0))
		return -EINVAL;
	*out = v;
	return 0;
}

static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static __u16 csum_finish(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/* Builds the frame of flow idx (see usage()); returns its length. */
static unsigned int build_frame(const struct pktgen_opts *o, __u8 *pkt, __u32 idx)
{
	__u32 n_src = o->flows < 65536 ? o->flows : 65536;
	__u32 src_off = (idx % o->flows) % n_src;
	__u16 sport = o->sport + (idx % o->flows) / n_src;
	struct ethhdr *eth = (struct ethhdr *)pkt;
	unsigned int l3 = sizeof(*eth), l4, l4len;
	__u32 sum = 0;
	__u16 *check;

	memset(pkt, 0, o->size);
	memcpy(eth->h_dest, o->dst_mac, ETH_ALEN);
	memcpy(eth->h_source, o->src_mac, ETH_ALEN);
	eth->h_proto = htons(o->ipv6 ? ETH_P_IPV6 : ETH_P_IP);

	l4 = l3 + (o->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr));
	l4len = o->size - l4;

	if (o->proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)(pkt + l4);

		th->source = htons(sport);
		th->dest = htons(o->dport);
		th->seq = htonl(1);
		th->doff = sizeof(*th) / 4;
		((__u8 *)th)[13] = o->tcp_flags;
		if (o->tcp_flags & 0x10)
			th->ack_seq = htonl(1);
		th->window = htons(65535);
		check = &th->check;
	} else {
		struct udphdr *uh = (struct udphdr *)(pkt + l4);

		uh->source = htons(sport);
		uh->dest = htons(o->dport);
		uh->len = htons(l4len);
		check = &uh->check;
	}

	if (o->ipv6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(pkt + l3);

		ip6->version = 6;
		ip6->payload_len = htons(l4len);
		ip6->nexthdr = o->proto;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, &o->src6, 16);
		ip6->saddr.s6_addr32[3] = htonl(ntohl(o->src6.s6_addr32[3]) + src_off);
		memcpy(&ip6->daddr, &o->dst6, 16);
		sum = csum_add(sum, &ip6->saddr, 32);
	} else {
		struct iphdr *ip = (struct iphdr *)(pkt + l3);

		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(o->size - l3);
		ip->ttl = 64;
		ip->protocol = o->proto;
		ip->saddr = htonl(ntohl(o->src4.s_addr) + src_off);
		ip->daddr = o->dst4.s_addr;
		ip->check = csum_finish(csum_add(0, ip, sizeof(*ip)));
		sum = csum_add(sum, &ip->saddr, 8);
	}
	sum += o->proto + l4len;
	sum = csum_add(sum, pkt + l4, l4len);
	*check = csum_finish(sum);
	if (o->proto == IPPROTO_UDP && *check == 0)
		*check = 0xffff;
	return o->size;
}

static int dev_mac(const char *dev, __u8 *mac)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *default_obj(char *buf, size_t len)
{
	char exe[512];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, len, "%s/pktgen.bpf.o", exe);
			if (!access(buf, R_OK))
				return buf;
			snprintf(buf, len, "%s/bench/pktgen.bpf.o", exe);
			if (!access(buf, R_OK))
				return buf;
		}
	}
	return "build/bench/pktgen.bpf.o";
}

/* Writes the generator's configuration into its .rodata before load. */
static int configure(struct bpf_object *obj, const struct pktgen_opts *o, __u64 until_ns)
{
	struct pktgen_cfg {
		__u64 gap_ns, count, until_ns;
		__u32 flows, n_src, src_base, clone;
		__u16 sport_base;
		__u8 ipv6, proto, loop;
	} cfg;
	/* Each variable of pktgen.bpf.c's .rodata and the field it takes. */
#define CFG_VAR(f) { "cfg_" #f, offsetof(struct pktgen_cfg, f), sizeof(cfg.f) }
	static const struct { const char *name; size_t off, size; } vars[] = {
		CFG_VAR(flows), CFG_VAR(n_src), CFG_VAR(src_base), CFG_VAR(sport_base),
		CFG_VAR(ipv6), CFG_VAR(proto), CFG_VAR(gap_ns), CFG_VAR(count),
		CFG_VAR(clone), CFG_VAR(loop), CFG_VAR(until_ns),
	};
#undef CFG_VAR
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	size_t size, j, found = 0;
	char *rodata = NULL;
	int i, id;

	cfg.flows = o->flows;
	cfg.n_src = o->flows < 65536 ? o->flows : 65536;
	cfg.src_base = o->ipv6 ? ntohl(o->src6.s6_addr32[3]) : ntohl(o->src4.s_addr);
	cfg.sport_base = o->sport;
	cfg.ipv6 = o->ipv6;
	cfg.proto = o->proto;
	cfg.gap_ns = 0;
	if (o->rate) {
		/* per send: the loop sends --clone frames at once */
		cfg.gap_ns = (__u64)(1e9 * (until_ns ? o->clone : 1) / o->rate + 0.5);
		if (!cfg.gap_ns)
			cfg.gap_ns = 1;
	}
	cfg.count = o->count;
	cfg.clone = o->clone;
	cfg.loop = until_ns != 0;
	cfg.until_ns = until_ns;

	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);

		if (bpf_map__is_internal(map) && strstr(n, ".rodata")) {
			const void *init = bpf_map__initial_value(map, &size);

			if (!init)
				return -ENOENT;
			rodata = malloc(size);
			if (!rodata)
				return -ENOMEM;
			memcpy(rodata, init, size);
			break;
		}
	}
	if (!rodata)
		return -ENOENT;
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (id < 0)
		goto out;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off);

		for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++)
			if (!strcmp(name, vars[j].name))
				break;
		if (j == sizeof(vars) / sizeof(vars[0]))
			continue;
		if (vs->size != vars[j].size || vs->offset + vs->size > size)
			break;
		memcpy(rodata + vs->offset, (const char *)&cfg + vars[j].off, vs->size);
		found++;
	}
	if (found == sizeof(vars) / sizeof(vars[0]))
		id = bpf_map__set_initial_value(map, rodata, size);
	else
		id = -ENOENT;
out:
	free(rodata);
	return id < 0 ? id : 0;
}

/*
 * Opens, configures (until_ns non-zero: for the loop engine) and loads the
 * generator object; NULL after saying why.
 */
static struct bpf_object *gen_load(const struct pktgen_opts *o, __u64 until_ns,
				   struct bpf_program **prog)
{
	struct bpf_object *obj;

	libbpf_set_print(quiet_print);
	obj = bpf_object__open_file(o->obj, NULL);
	if (!obj) {
		fprintf(stderr, "xfsm-pktgen: cannot open %s: %s (run make, or pass --obj)\n",
			o->obj, strerror(errno));
		return NULL;
	}
	if (configure(obj, o, until_ns)) {
		fprintf(stderr, "xfsm-pktgen: %s is not a pktgen object (no configuration)\n", o->obj);
		goto fail;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "xfsm-pktgen: cannot load %s: %s\n", o->obj, strerror(errno));
		goto fail;
	}
	*prog = bpf_object__find_program_by_name(obj, "pktgen_xdp");
	if (!*prog) {
		fprintf(stderr, "xfsm-pktgen: %s has no program pktgen_xdp\n", o->obj);
		goto fail;
	}
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

static const char *stop_reason(void)
{
	if (stop == SIGALRM)
		return "duration";
	return stop ? "signal" : "count";
}

static unsigned long long read_seq(int fd)
{
	__u32 zero = 0;
	__u64 v;

	return bpf_map_lookup_elem(fd, &zero, &v) ? 0 : v;
}

/*
 * The live engine.  Each BPF_PROG_TEST_RUN call has a fixed cost (the
 * kernel sets up and tears down a page pool: tens of ms on some kernels),
 * so unpaced runs make one call for the whole count, and the duration
 * bound interrupts it with SIGALRM (the kernel stops between batches).  The
 * program's own counter says how many frames were generated; it sends no
 * more than the count.  A paced program runs more often than it sends (it
 * drops the frames it runs ahead of the clock): calls of PACED_RUNS runs,
 * the count checked after each.  Returns 0, -ENOTSUP when the kernel
 * refuses live frames at the first call (errno EPERM or EINVAL, in
 * `why`; said by the caller), or -1 after saying why.
 */
static int send_live(const struct pktgen_opts *o, __u8 *pkt, unsigned int ifindex,
		     unsigned long long *sent, int *why)
{
	struct xdp_md ctx_in = {};
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd, seq_fd, err = -1;

	obj = gen_load(o, 0, &prog);
	if (!obj)
		return -1;
	prog_fd = bpf_program__fd(prog);
	seq_fd = bpf_object__find_map_fd_by_name(obj, "pktgen_seq");
	if (seq_fd < 0) {
		fprintf(stderr, "xfsm-pktgen: cannot set up the packet counter\n");
		goto out;
	}
	/* The kernel wants data_end to be the frame length. */
	ctx_in.data_end = o->size;
	ctx_in.ingress_ifindex = ifindex;

	while (!stop) {
		LIBBPF_OPTS(bpf_test_run_opts, topts,
			.data_in = pkt,
			.data_size_in = o->size,
			.ctx_in = &ctx_in,
			.ctx_size_in = sizeof(ctx_in),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = o->batch,
		);
		unsigned long long chunk = 0xffffffffULL;

		if (o->rate)
			chunk = PACED_RUNS;
		else if (o->count && o->count - *sent < chunk)
			chunk = o->count - *sent;
		topts.repeat = chunk;
		if (bpf_prog_test_run_opts(prog_fd, &topts) && errno != EINTR) {
			if ((errno == EPERM || errno == EINVAL) && !*sent) {
				*why = errno;
				err = -ENOTSUP;
				goto out;
			}
			fprintf(stderr, "xfsm-pktgen: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			goto out;
		}
		*sent = read_seq(seq_fd);
		if (o->count && *sent >= o->count)
			break;
	}
	err = 0;
out:
	bpf_object__close(obj);
	return err;
}

/*
 * An AF_PACKET socket that sends on ifindex, bypassing the qdisc, and
 * receives nothing; *sll addresses its frames.  -1 after saying why.
 */
static int packet_open(const struct pktgen_opts *o, unsigned int ifindex,
		       struct sockaddr_ll *sll)
{
	int one = 1, sndbuf = 4 << 20, fd;

	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_ifindex = (int)ifindex;
	sll->sll_halen = ETH_ALEN;
	sll->sll_protocol = htons(o->ipv6 ? ETH_P_IPV6 : ETH_P_IP);
	memcpy(sll->sll_addr, o->dst_mac, ETH_ALEN);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);	/* protocol 0: receives nothing */
	if (fd < 0) {
		fprintf(stderr, "xfsm-pktgen: AF_PACKET socket: %s\n", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf))) {
		fprintf(stderr, "xfsm-pktgen: AF_PACKET socket options: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The loop engine (see the top of the file): the loop is --loop-dev and its
 * peer, which runs the program; the program's ports are --dev (a copy of
 * every frame sent) and --loop-dev (every frame, back to the peer).  The
 * process feeds the loop --batch frames, then only watches the program's
 * counter: the run ends at the count, at the duration (SIGALRM) or on a
 * signal, and when nothing has been sent for PACKET_STALL_S past two of
 * the pace's gaps (the loop lost its frames: an error).  Returns 0 or -1 after saying why.
 */
static int send_loop(const struct pktgen_opts *o, const __u8 *pkt, unsigned int ifindex,
		     unsigned long long *sent)
{
	unsigned int loop_ifindex, seeds = o->batch, i;
	__u32 zero = 0, one = 1, port;
	struct bpf_link *link = NULL;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct sockaddr_ll sll;
	int peer, nsid, fd, ports_fd, stop_fd, seq_fd, err = -1;
	double last_move, max_s, stall_s;
	unsigned long long seen = 0;
	struct timespec ts;
	bool veth;

	loop_ifindex = if_nametoindex(o->loop_dev);
	if (!loop_ifindex) {
		fprintf(stderr, "xfsm-pktgen: --loop-dev: interface '%s' does not exist in this "
			"network namespace\n", o->loop_dev);
		return -1;
	}
	err = xfsm_link_peer((int)loop_ifindex, &veth, &peer, &nsid);
	if (err || !veth || peer <= 0 || nsid >= 0 || (unsigned int)peer == ifindex ||
	    loop_ifindex == ifindex) {
		fprintf(stderr, "xfsm-pktgen: --loop-dev %s: %s\n", o->loop_dev,
			err ? strerror(-err) : !veth || peer <= 0 ? "not a veth" :
			nsid >= 0 ? "its peer is in another network namespace" :
			"the loop must be a veth pair of its own, not --dev's");
		return -1;
	}
	err = -1;
	/* The program's own bound: a second past the longest run allowed. */
	max_s = o->duration ? o->duration : PKTGEN_MAX_DURATION;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	obj = gen_load(o, (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec +
		       (__u64)((max_s + 1.0) * 1e9), &prog);
	if (!obj)
		return -1;
	ports_fd = bpf_object__find_map_fd_by_name(obj, "pktgen_ports");
	stop_fd = bpf_object__find_map_fd_by_name(obj, "pktgen_stop");
	seq_fd = bpf_object__find_map_fd_by_name(obj, "pktgen_seq");
	if (ports_fd < 0 || stop_fd < 0 || seq_fd < 0) {
		fprintf(stderr, "xfsm-pktgen: %s has no loop maps (an older object?)\n", o->obj);
		goto out;
	}
	/* Slot 0 the loop, then --dev once per copy (pktgen.bpf.c). */
	for (i = 0; i <= o->clone; i++) {
		port = i ? ifindex : loop_ifindex;
		if (bpf_map_update_elem(ports_fd, &i, &port, BPF_ANY)) {
			fprintf(stderr, "xfsm-pktgen: cannot add %s to the loop's ports: %s\n",
				i ? o->dev : o->loop_dev, strerror(errno));
			goto out;
		}
	}
	link = bpf_program__attach_xdp(prog, peer);
	if (!link) {
		char name[IF_NAMESIZE] = "?";

		if_indextoname((unsigned int)peer, name);
		fprintf(stderr, "xfsm-pktgen: cannot attach the loop's program to %s (the peer of "
			"%s): %s\n", name, o->loop_dev, strerror(errno));
		goto out;
	}
	fd = packet_open(o, loop_ifindex, &sll);
	if (fd < 0)
		goto out;
	if (seeds > LOOP_MAX_FRAMES)
		seeds = LOOP_MAX_FRAMES;
	for (i = 0; i < seeds; i++) {
		if (sendto(fd, pkt, o->size, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			fprintf(stderr, "xfsm-pktgen: cannot feed the loop through %s: %s\n",
				o->loop_dev, strerror(errno));
			close(fd);
			goto halt;
		}
	}
	close(fd);

	/* A slow pace sends less than once a second: its gaps are no stall. */
	stall_s = PACKET_STALL_S + (o->rate ? 2.0 * o->clone / o->rate : 0.0);
	last_move = now_s();
	while (!stop) {
		struct timespec nap = { 0, 1000000 };

		*sent = read_seq(seq_fd);
		if (o->count && *sent >= o->count)
			break;
		if (*sent != seen) {
			seen = *sent;
			last_move = now_s();
		} else if (now_s() - last_move > stall_s) {
			fprintf(stderr, "xfsm-pktgen: nothing went round the loop %s for %.1f s "
				"(%s)\n", o->loop_dev, stall_s, seen ? "frames lost" :
				"never: a kernel before 5.14 cannot broadcast to a devmap");
			goto halt;
		}
		nanosleep(&nap, NULL);
	}
	err = 0;
halt:
	/* Let the frames go; then the link goes too. */
	bpf_map_update_elem(stop_fd, &zero, &one, BPF_ANY);
	*sent = read_seq(seq_fd);
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return err;
}

/*
 * The packet engine: the frames of the flows in turn, built in user space,
 * sent in sendmmsg() batches through an AF_PACKET socket that bypasses the
 * qdisc (the veth transmits each frame at once).  Paced, it sends what the
 * clock allows since the start, at most one batch at a time, and sleeps
 * when ahead.  A frame the veth refuses (its peer's ring full) comes back
 * as ENOBUFS and is sent again, so this engine is held back to what the
 * receiver takes (the live engine's refused frames are lost instead):
 * what it reports sent arrived at the veth's peer.  A device that takes
 * nothing for PACKET_STALL_S ends the run.  Returns 0 or -1 after saying
 * why.
 */
static int send_packet(const struct pktgen_opts *o, unsigned int ifindex,
		       unsigned long long *sent)
{
	static __u8 frames[PACKET_MAX_BATCH][PKTGEN_MAX_SIZE];
	struct mmsghdr msgs[PACKET_MAX_BATCH];
	struct iovec iov[PACKET_MAX_BATCH];
	struct sockaddr_ll sll;
	unsigned int i, batch = o->batch;
	unsigned long long flow = 0;
	double t0 = now_s(), progress = t0;
	int fd;

	fd = packet_open(o, ifindex, &sll);
	if (fd < 0)
		return -1;
	/* One flow: one frame for the whole run; otherwise rebuilt per batch. */
	if (batch > PACKET_MAX_BATCH)
		batch = PACKET_MAX_BATCH;
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = frames[o->flows == 1 ? 0 : i];
		iov[i].iov_len = o->size;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
	}
	if (o->flows == 1)
		build_frame(o, frames[0], 0);

	while (!stop && (!o->count || *sent < o->count)) {
		unsigned long long n = batch;
		int r;

		if (o->count && o->count - *sent < n)
			n = o->count - *sent;
		if (o->rate) {
			double due = (now_s() - t0) * o->rate;

			if (due < *sent + 1) {
				struct timespec ts = { 0, (long)((*sent + 1 - due) / o->rate * 1e9) };

				nanosleep(&ts, NULL);
				continue;
			}
			if (due - *sent < n)
				n = (unsigned long long)(due - *sent);
		}
		if (o->flows > 1) {
			for (i = 0; i < n; i++)
				build_frame(o, frames[i], (__u32)((flow + i) / o->clone % o->flows));
		}
		r = sendmmsg(fd, msgs, (unsigned int)n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == ENOBUFS || errno == EAGAIN) && now_s() - progress < PACKET_STALL_S)
				continue;	/* the receiver's ring is full: again */
			fprintf(stderr, "xfsm-pktgen: sendmmsg on %s: %s%s\n", o->dev, strerror(errno),
				errno == ENOBUFS || errno == EAGAIN ? " (for a second: the receiver takes nothing)" : "");
			close(fd);
			return -1;
		}
		*sent += r;
		flow += r;
		if (r)
			progress = now_s();
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dev", required_argument, NULL, 'D' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "udp", no_argument, NULL, 'U' },
		{ "tcp", no_argument, NULL, 'T' },
		{ "tcp-flags", required_argument, NULL, 'F' },
		{ "flows", required_argument, NULL, 'f' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'R' },
		{ "sport", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "batch", required_argument, NULL, 'b' },
		{ "obj", required_argument, NULL, 'o' },
		{ "engine", required_argument, NULL, 'E' },
		{ "loop-dev", required_argument, NULL, 'L' },
		{ "clone", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct pktgen_opts o = {
		.size = 0, .flows = 1, .batch = 64, .clone = 1, .proto = IPPROTO_UDP,
		.tcp_flags = 0x02, .sport = 1024, .dport = 9,
		.dst_mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	const char *src_arg = NULL, *dst_arg = NULL;
	unsigned long long v, sent = 0;
	__u8 pkt[PKTGEN_MAX_SIZE];
	char objbuf[600];
	enum pktgen_engine engine;
	unsigned int ifindex, min_size;
	double t0, t1, elapsed;
	int c, err = -1, why = 0;
	struct sigaction sa;

	while ((c = getopt_long(argc, argv, "n:d:s:46f:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'D': o.dev = optarg; break;
		case 'M':
			if (parse_mac(optarg, o.dst_mac))
				goto bad_arg;
			break;
		case 'm':
			if (parse_mac(optarg, o.src_mac))
				goto bad_arg;
			o.have_src_mac = true;
			break;
		case 'n':
			if (parse_u64(optarg, 1ULL << 40, &o.count) || !o.count)
				goto bad_arg;
			break;
		case 'd': {
			__u64 ns;

			if (xfsm_parse_duration(optarg, &ns, NULL, 0) || !ns ||
			    ns > (__u64)PKTGEN_MAX_DURATION * XFSM_NS_PER_SEC)
				goto bad_arg;
			o.duration = (double)ns / 1e9;
			break;
		}
		case 'r':
			if (parse_u64(optarg, 1000000000ULL, &v) || !v)
				goto bad_arg;
			o.rate = (double)v;
			break;
		case 's':
			if (parse_u64(optarg, PKTGEN_MAX_SIZE, &v))
				goto bad_arg;
			o.size = v;
			break;
		case '4': o.ipv6 = false; break;
		case '6': o.ipv6 = true; break;
		case 'U': o.proto = IPPROTO_UDP; break;
		case 'T': o.proto = IPPROTO_TCP; break;
		case 'F':
			if (parse_tcp_flags(optarg, &o.tcp_flags))
				goto bad_arg;
			break;
		case 'f':
			if (parse_u64(optarg, 1U << 24, &v) || !v)
				goto bad_arg;
			o.flows = v;
			break;
		case 'S': src_arg = optarg; break;
		case 'R': dst_arg = optarg; break;
		case 'p':
			if (parse_u64(optarg, 65535, &v))
				goto bad_arg;
			o.sport = v;
			break;
		case 'P':
			if (parse_u64(optarg, 65535, &v))
				goto bad_arg;
			o.dport = v;
			break;
		case 'b':
			if (parse_u64(optarg, 256, &v) || !v)
				goto bad_arg;
			o.batch = v;
			break;
		case 'o': o.obj = optarg; break;
		case 'L': o.loop_dev = optarg; break;
		case 'C':
			if (parse_u64(optarg, PKTGEN_MAX_CLONE, &v) || !v)
				goto bad_arg;
			o.clone = v;
			break;
		case 'E':
			if (!strcmp(optarg, "auto"))
				o.engine = ENGINE_AUTO;
			else if (!strcmp(optarg, "live"))
				o.engine = ENGINE_LIVE;
			else if (!strcmp(optarg, "loop"))
				o.engine = ENGINE_LOOP;
			else if (!strcmp(optarg, "packet"))
				o.engine = ENGINE_PACKET;
			else
				goto bad_arg;
			break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		continue;
bad_arg:
		fprintf(stderr, "xfsm-pktgen: invalid value '%s' for %s\n", optarg,
			argv[optind - 1]);
		return 2;
	}
	if (optind < argc || !o.dev) {
		fprintf(stderr, "xfsm-pktgen: %s\n", o.dev ? "unexpected argument" :
			"--dev IFACE is required (the generator's end of a veth)");
		usage(stderr);
		return 2;
	}
	if (!o.count && !o.duration)
		o.count = PKTGEN_DEFAULT_COUNT;
	if (o.count % o.clone) {
		fprintf(stderr, "xfsm-pktgen: --count must be a multiple of --clone (%u)\n", o.clone);
		return 2;
	}
	if (o.engine == ENGINE_LOOP && !o.loop_dev) {
		fprintf(stderr, "xfsm-pktgen: --engine loop needs --loop-dev IFACE\n");
		return 2;
	}

	/* Addresses: benchmarking ranges only. */
	if (!src_arg)
		src_arg = o.ipv6 ? "2001:2::1" : "198.18.0.1";
	if (!dst_arg)
		dst_arg = o.ipv6 ? "2001:2:0:ffff::1" : "198.19.255.1";
	if (o.ipv6) {
		if (xfsm_parse_ip6(src_arg, strlen(src_arg), o.src6.s6_addr) ||
		    xfsm_parse_ip6(dst_arg, strlen(dst_arg), o.dst6.s6_addr)) {
			fprintf(stderr, "xfsm-pktgen: --src/--dst must be IPv6 addresses with --ipv6\n");
			return 2;
		}
		if (!in_bench_range6(&o.src6) || !in_bench_range6(&o.dst6)) {
			fprintf(stderr, "xfsm-pktgen: addresses must be in 2001:2::/48 (benchmarking range)\n");
			return 2;
		}
		if ((unsigned long long)ntohl(o.src6.s6_addr32[3]) +
		    (o.flows < 65536 ? o.flows : 65536) - 1 > 0xffffffffULL) {
			fprintf(stderr, "xfsm-pktgen: --src + flows overflows the last 32 bits\n");
			return 2;
		}
	} else {
		__u32 s, n_src = o.flows < 65536 ? o.flows : 65536;

		__u32 a4, d4;

		if (xfsm_parse_ip4(src_arg, strlen(src_arg), &a4) ||
		    xfsm_parse_ip4(dst_arg, strlen(dst_arg), &d4)) {
			fprintf(stderr, "xfsm-pktgen: --src/--dst must be IPv4 addresses (or add --ipv6)\n");
			return 2;
		}
		o.src4.s_addr = htonl(a4);
		o.dst4.s_addr = htonl(d4);
		s = ntohl(o.src4.s_addr);
		if (!in_bench_range4(s) || !in_bench_range4(s + n_src - 1) ||
		    !in_bench_range4(ntohl(o.dst4.s_addr))) {
			fprintf(stderr, "xfsm-pktgen: addresses (source through source + %u) must be in "
				"198.18.0.0/15 (benchmarking range)\n", n_src - 1);
			return 2;
		}
	}
	if ((unsigned long long)o.sport + (o.flows - 1) / 65536 > 65535) {
		fprintf(stderr, "xfsm-pktgen: --sport + flows / 65536 exceeds 65535\n");
		return 2;
	}
	min_size = ETH_HLEN + (o.ipv6 ? 40 : 20) + (o.proto == IPPROTO_TCP ? 20 : 8);
	if (!o.size)
		o.size = min_size > 60 ? min_size : 60;
	if (o.size < min_size || o.size < 60) {
		fprintf(stderr, "xfsm-pktgen: --size must be at least %u\n",
			min_size > 60 ? min_size : 60);
		return 2;
	}

	ifindex = if_nametoindex(o.dev);
	if (!ifindex) {
		fprintf(stderr, "xfsm-pktgen: interface '%s' does not exist in this network namespace\n",
			o.dev);
		return 1;
	}
	if (!o.have_src_mac && dev_mac(o.dev, o.src_mac)) {
		fprintf(stderr, "xfsm-pktgen: cannot read the MAC of %s: %s\n", o.dev,
			strerror(errno));
		return 1;
	}
	build_frame(&o, pkt, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: a run in progress ends */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	if (!o.obj)
		o.obj = default_obj(objbuf, sizeof(objbuf));
	t0 = now_s();
	if (o.duration) {
		struct itimerval it = {};

		it.it_value.tv_sec = (time_t)o.duration;
		it.it_value.tv_usec = (suseconds_t)((o.duration - it.it_value.tv_sec) * 1e6);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	engine = o.engine == ENGINE_AUTO ? ENGINE_LIVE : o.engine;
	if (engine == ENGINE_LIVE) {
		err = send_live(&o, pkt, ifindex, &sent, &why);
		if (err == -ENOTSUP) {
			/* (the words the tests and the bench look for) */
			fprintf(stderr, "xfsm-pktgen: this kernel refuses live frames (BPF_PROG_TEST_RUN: %s%s)%s\n",
				strerror(why), why == EINVAL ? ": older than 5.18?" : "",
				o.engine != ENGINE_AUTO ? "; try --engine loop or --engine packet" :
				o.loop_dev ? "; sending XDP frames round the loop instead (--engine loop)" :
				"; sending through an AF_PACKET socket instead (--engine packet), at a "
				"fraction of the rate (--loop-dev gives the loop engine)");
			if (o.engine == ENGINE_AUTO)
				engine = o.loop_dev ? ENGINE_LOOP : ENGINE_PACKET;
		}
	}
	if (engine == ENGINE_LOOP)
		err = send_loop(&o, pkt, ifindex, &sent);
	else if (engine == ENGINE_PACKET)
		err = send_packet(&o, ifindex, &sent);
	if (err)
		return 1;
	t1 = now_s();
	elapsed = t1 - t0;
	if (o.duration) {
		struct itimerval off = {};

		setitimer(ITIMER_REAL, &off, NULL);
	}

	if (o.json) {
		printf("{\"dev\":\"%s\",\"sent\":%llu,\"duration_s\":%.6f,\"pps\":%.0f,"
		       "\"mpps\":%.4f,\"size\":%u,\"ip\":\"%s\",\"proto\":\"%s\","
		       "\"flows\":%u,\"stopped_by\":\"%s\",\"engine\":\"%s\"}\n",
		       o.dev, sent, elapsed, elapsed > 0 ? sent / elapsed : 0.0,
		       elapsed > 0 ? sent / elapsed / 1e6 : 0.0, o.size,
		       o.ipv6 ? "ipv6" : "ipv4", o.proto == IPPROTO_TCP ? "tcp" : "udp",
		       o.flows, stop_reason(), engine_names[engine]);
	} else {
		printf("sent %llu packets in %.3f s: %.3f Mpps (%s/%s, %u bytes, %u flow%s, dev %s, %s engine)%s\n",
		       sent, elapsed, elapsed > 0 ? sent / elapsed / 1e6 : 0.0,
		       o.proto == IPPROTO_TCP ? "tcp" : "udp", o.ipv6 ? "ipv6" : "ipv4",
		       o.size, o.flows, o.flows == 1 ? "" : "s", o.dev,
		       engine_names[engine],
		       stop && stop != SIGALRM ? " (interrupted)" : "");
	}
	return 0;
}
