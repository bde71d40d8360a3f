/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL rule set and header generator for the tests and the benchmark.
 *
 * Three styles imitate the ClassBench seeds (access control lists,
 * firewalls, IP chains: their protocol mix, port classes and prefix
 * lengths as measured on the acl1/fw1/ipc1 sets), so the ACL keeps full
 * coverage where ../shared/classbench is absent.  The others are built to
 * be hard: for the merged tuple-space search the ACL used first (long
 * bucket chains, many distinct prefix-length pairs, 10k `any -> any tcp
 * dport P`) and for the cut trees that replaced it (rules specific in the
 * field others are wildcard in, which make a decision tree replicate;
 * wildcard addresses with overlapping port ranges; masks no interval
 * describes, which no cut separates; IPv6).
 *
 * Everything is a pure function of (style, size, seed).
 */
#ifndef XT_ACLGEN_H
#define XT_ACLGEN_H

#include <stddef.h>
#include <linux/types.h>
#include "xfsm_acl.h"

enum aclgen_style {
	ACLGEN_ACL,	/* ClassBench-like: access control list */
	ACLGEN_FW,	/* ClassBench-like: firewall */
	ACLGEN_IPC,	/* ClassBench-like: IP chain */
	ACLGEN_DPORT,	/* any -> any tcp dport P, every P distinct */
	ACLGEN_MASKS,	/* every source/destination prefix length pair, nested */
	ACLGEN_RANGES,	/* wildcard addresses, overlapping port ranges */
	ACLGEN_CROSS,	/* host rules and service rules under the same sources */
	ACLGEN_CHAINS,	/* hundreds of rules behind each address pair */
	ACLGEN_IP6,	/* IPv6 prefixes of every length, ports, protocols */
	ACLGEN_FIELDS,	/* VLAN, ingress port, TCP flag and protocol masks */
	ACLGEN_OVERLAP,	/* 42 flag masks meeting at each port: no cut separates them */
	ACLGEN__MAX
};

/* First adversarial style: the ones before imitate ClassBench. */
#define ACLGEN_FIRST_ADVERSARIAL	ACLGEN_DPORT

const char *aclgen_style_name(enum aclgen_style s);
/* -1 for an unknown name. */
int aclgen_style_parse(const char *name);

/* n rules of a style appended to out, ids 1..n in listing order (no
 * priorities: the first rule listed wins).  Every rule is "deny".
 * 0 or a negative errno. */
int aclgen_rules(enum aclgen_style s, size_t n, __u64 seed, struct xfsm_acl_rules *out);

/* A packet header as the ACL sees it (normalised as the datapath parses
 * a packet: ports 0 unless TCP or UDP, flags 0 unless TCP). */
struct aclgen_hdr {
	__u8	family;		/* 4 or 6 */
	__u8	proto;
	__u8	tcp_flags;
	__u8	port;		/* ingress port number, 0: none */
	__u16	sport;
	__u16	dport;
	__u32	vlan;		/* VLAN id, 0xffffffff: untagged */
	__u32	src[4];		/* IPv4 in word 0 */
	__u32	dst[4];
};

/* Ingress port numbers the generator uses in rules and headers. */
#define ACLGEN_PORT_A	3
#define ACLGEN_PORT_B	4

/*
 * n headers for a rule set: most fall inside a rule (a random point of
 * it, as ClassBench's trace generator does), some sit just outside a
 * rule's bounds, some are uniform.  Headers carry ingress port
 * ACLGEN_PORT_A or none.  0 or -ENOMEM.
 */
int aclgen_headers(const struct xfsm_acl_entry *rules, size_t n_rules, size_t n,
		   __u64 seed, struct aclgen_hdr **out);

/* The field vector the datapath's parser makes of such a header. */
void aclgen_hdr_fv(const struct aclgen_hdr *h, __u32 fv[XFSM_FV_WORDS]);

/* Write rules in native syntax, one a line; 0 or -errno. */
int aclgen_write(const struct xfsm_acl_rules *rs, const char *path);

#endif /* XT_ACLGEN_H */
