/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Numbers, parsed once.  Every number that xfsm reads from a person goes
 * through here: literals of the language (with units and fractions), its
 * constant arithmetic, the ACL rule syntaxes, ClassBench files, and the
 * arguments of xfsmctl and xfsm-loader.  A number is either exactly
 * representable and in range, or an error that says why.
 *
 * Integers are decimal, or carry an explicit base: 0x (hex), 0o (octal),
 * 0b (binary).  A leading zero never means octal (022 is twenty-two).
 * There are no signs, no spaces and no trailing characters.
 *
 * The parsers take a text and its length (no NUL needed; a NUL inside is
 * an error) and write at most errlen bytes of message into err, without
 * location: the caller prefixes FILE:LINE:COL or the argument's name.
 */
#ifndef XFSM_NUM_H
#define XFSM_NUM_H

#include <stddef.h>
#include <linux/types.h>

typedef unsigned __int128 xfsm_u128;

enum xfsm_unit { XFSM_UNIT_NONE = 0, XFSM_UNIT_TIME, XFSM_UNIT_BYTES, XFSM_UNIT_RATE };

/* What a number may carry (flags of xfsm_num_parse()). */
#define XFSM_NUM_UNIT	(1U << 0)	/* a unit after a decimal number: 10s, 1KiB, 1Mbit */
#define XFSM_NUM_FRAC	(1U << 1)	/* a decimal fraction, exact in the base unit: 1.5s */

struct xfsm_num {
	xfsm_u128 v;		/* in the base unit: ns, bytes or bit/s; < 2^64 */
	enum xfsm_unit unit;	/* XFSM_UNIT_NONE without a unit */
};

#define XFSM_NS_PER_SEC	1000000000ULL

/*
 * One number literal, the whole of s[0..len).  Its value in the base unit
 * must be a whole number below 2^64.  Returns 0, -EINVAL (not a number,
 * unknown unit, not whole) or -ERANGE (does not fit in 64 bits).
 */
int xfsm_num_parse(const char *s, size_t len, unsigned int flags, struct xfsm_num *out,
		   char *err, size_t errlen);

/*
 * A whole NUL-terminated argument as an integer in [min, max].
 * Messages name the text: "'022x' is not a number (...)", "70000 is out
 * of range (0..65535)".  Returns 0, -EINVAL or -ERANGE.
 */
int xfsm_parse_u64(const char *s, __u64 min, __u64 max, __u64 *out, char *err, size_t errlen);
int xfsm_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out, char *err, size_t errlen);

/*
 * A duration: a number with a time unit (ns us ms s min h) or a bare
 * number of seconds; fractions must come out whole in nanoseconds
 * (1.5s, 0.25).  Result in ns, below 2^64.
 */
int xfsm_parse_duration(const char *s, __u64 *ns, char *err, size_t errlen);

/* A flow timeout in whole milliseconds as the datapath keeps it: rounded
 * up (1ns is 1ms, 0 stays 0); -ERANGE above 2^32-1 ms. */
int xfsm_timeout_ms(xfsm_u128 ns, __u32 *ms);

/* Addresses, strict: IPv4 is four decimal octets 0..255 without leading
 * zeros (198.18.0.1), host order; IPv6 is what inet_pton accepts; MAC is
 * six groups of one or two hex digits joined by ':'.  0 or -EINVAL. */
int xfsm_parse_ip4(const char *s, size_t len, __u32 *addr);
int xfsm_parse_ip6(const char *s, size_t len, __u8 addr[16]);
int xfsm_parse_mac(const char *s, size_t len, __u8 mac[6]);

/* ADDR or ADDR/LEN (IPv4 or IPv6); bits set beyond LEN are an error. */
struct xfsm_prefix {
	int	family;		/* AF_INET or AF_INET6 */
	__u8	addr[16];	/* network order; IPv4 in the first 4 bytes */
	unsigned int len;
};
int xfsm_parse_prefix(const char *s, size_t len, struct xfsm_prefix *p,
		      char *err, size_t errlen);

/* Checked 128-bit arithmetic: 0, or -ERANGE when the result does not fit
 * (a shift that loses set bits overflows too). */
int xfsm_u128_add(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r);
int xfsm_u128_mul(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r);
int xfsm_u128_shl(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r);

/* Decimal text of v (buf of at least 40 bytes); returns buf. */
char *xfsm_u128_str(xfsm_u128 v, char *buf, size_t len);

#endif /* XFSM_NUM_H */
