// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Reads the counters of bench/sink.bpf.o attached to an interface (with
 * `ip link set dev IF xdp obj sink.bpf.o sec xdp`) and prints them as one
 * JSON object:
 *
 *   {"frames":N,"packets":N,"sources":N,"ports":N}
 *
 * frames: every frame seen (also the neighbour discovery and other
 * traffic of the link); packets: IPv4/IPv6 UDP/TCP frames; sources:
 * distinct (address, source port) pairs among them; ports: distinct
 * source ports.
 *
 * Usage: sink IFACE   (in the receiver's network namespace)
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct sink_src {
	__u32 addr[4];
	__u16 sport;
	__u8 family;
	__u8 proto;
};

static int map_by_name(int prog_fd, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16], n, i;
	struct bpf_map_info minfo;
	int fd;

	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < 16 ? info.nr_map_ids : 16;
	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (!bpf_obj_get_info_by_fd(fd, &minfo, &len) && !strcmp(minfo.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int main(int argc, char **argv)
{
	static unsigned char seen_port[65536];	/* 0 or 1 */
	unsigned long long packets = 0, total = 0, sources = 0, ports = 0;
	struct sink_src key, next, *prev = NULL;
	int ifindex, ncpu, prog_fd, pkts_fd, srcs_fd, i;
	__u32 prog_id = 0, zero = 0;
	__u64 *vals, v;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFACE\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "sink: no interface %s here\n", argv[1]);
		return 1;
	}
	if (bpf_xdp_query_id(ifindex, 0, &prog_id) || !prog_id) {
		fprintf(stderr, "sink: %s runs no XDP program\n", argv[1]);
		return 1;
	}
	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0) {
		fprintf(stderr, "sink: program %u: %s\n", prog_id, strerror(errno));
		return 1;
	}
	pkts_fd = map_by_name(prog_fd, "sink_pkts");
	srcs_fd = map_by_name(prog_fd, "sink_srcs");
	if (pkts_fd < 0 || srcs_fd < 0) {
		fprintf(stderr, "sink: the program on %s is not bench/sink.bpf.o\n", argv[1]);
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals || bpf_map_lookup_elem(pkts_fd, &zero, vals)) {
		fprintf(stderr, "sink: cannot read sink_pkts\n");
		return 1;
	}
	for (i = 0; i < ncpu; i++)
		packets += vals[i];
	while (!bpf_map_get_next_key(srcs_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(srcs_fd, &key, &v))
			continue;
		sources++;
		total += v;
		if (!seen_port[key.sport]) {
			seen_port[key.sport] = 1;
			ports++;
		}
	}
	printf("{\"frames\":%llu,\"packets\":%llu,\"sources\":%llu,\"ports\":%llu}\n",
	       packets, total, sources, ports);
	return 0;
}
