/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Numbers, parsed once (lib/xfsm_num.h).  Values are accumulated in 128
 * bits with every step checked, so that nothing wraps: a literal is exact
 * or refused, and only then checked against the range its use allows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "xfsm_num.h"

#define U128_MAX	(~(xfsm_u128)0)
#define U64_MAX		0xffffffffffffffffULL

/* Quoting user text in a message: at most 64 bytes of it. */
#define QLEN(n)		(int)((n) > 64 ? 64 : (n))
#define QDOTS(n)	((n) > 64 ? "..." : "")

static int num_fail(int code, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int num_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const struct unit_def {
	const char *suffix;
	enum xfsm_unit unit;
	__u64 mult;
} units[] = {
	{ "ns", XFSM_UNIT_TIME, 1ULL },
	{ "us", XFSM_UNIT_TIME, 1000ULL },
	{ "ms", XFSM_UNIT_TIME, 1000000ULL },
	{ "s", XFSM_UNIT_TIME, 1000000000ULL },
	{ "min", XFSM_UNIT_TIME, 60000000000ULL },
	{ "h", XFSM_UNIT_TIME, 3600000000000ULL },
	{ "B", XFSM_UNIT_BYTES, 1ULL },
	{ "kB", XFSM_UNIT_BYTES, 1000ULL },
	{ "KB", XFSM_UNIT_BYTES, 1000ULL },
	{ "MB", XFSM_UNIT_BYTES, 1000000ULL },
	{ "GB", XFSM_UNIT_BYTES, 1000000000ULL },
	{ "KiB", XFSM_UNIT_BYTES, 1024ULL },
	{ "MiB", XFSM_UNIT_BYTES, 1048576ULL },
	{ "GiB", XFSM_UNIT_BYTES, 1073741824ULL },
	{ "bit", XFSM_UNIT_RATE, 1ULL },
	{ "kbit", XFSM_UNIT_RATE, 1000ULL },
	{ "Mbit", XFSM_UNIT_RATE, 1000000ULL },
	{ "Gbit", XFSM_UNIT_RATE, 1000000000ULL },
	{ "bps", XFSM_UNIT_RATE, 1ULL },
	{ "kbps", XFSM_UNIT_RATE, 1000ULL },
	{ "Mbps", XFSM_UNIT_RATE, 1000000ULL },
	{ "Gbps", XFSM_UNIT_RATE, 1000000000ULL },
};

#define UNITS_HELP "time: ns us ms s min h; size: B kB KiB MB MiB GB GiB; rate: bit kbit Mbit Gbit"
#define INT_HELP "decimal, or 0x hex, 0o octal, 0b binary; no sign or spaces"

static const struct unit_def *unit_find(const char *u, size_t n)
{
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
		if (strlen(units[k].suffix) == n && !memcmp(units[k].suffix, u, n))
			return &units[k];
	return NULL;
}

int xfsm_u128_add(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r)
{
	if (a > U128_MAX - b)
		return -ERANGE;
	*r = a + b;
	return 0;
}

int xfsm_u128_mul(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r)
{
	if (a && b > U128_MAX / a)
		return -ERANGE;
	*r = a * b;
	return 0;
}

int xfsm_u128_shl(xfsm_u128 a, xfsm_u128 b, xfsm_u128 *r)
{
	if (!a) {
		*r = 0;
		return 0;
	}
	if (b >= 128 || (a << (unsigned int)b) >> (unsigned int)b != a)
		return -ERANGE;
	*r = a << (unsigned int)b;
	return 0;
}

char *xfsm_u128_str(xfsm_u128 v, char *buf, size_t len)
{
	char tmp[48];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (unsigned int)(v % 10));
		v /= 10;
	} while (v);
	if (!len)
		return buf;
	for (size_t i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n < len ? n : len - 1] = 0;
	return buf;
}

static xfsm_u128 gcd(xfsm_u128 a, xfsm_u128 b)
{
	while (b) {
		xfsm_u128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* An integer with an explicit base prefix: 0x, 0o, 0b.  No fraction, no unit. */
static int parse_based(const char *s, size_t len, unsigned int base, struct xfsm_num *out,
		       char *err, size_t errlen)
{
	static const char *const base_name[17] = {
		[2] = "binary", [8] = "octal", [16] = "hexadecimal",
	};
	xfsm_u128 v = 0;
	bool big = false;

	if (len == 2)
		return num_fail(-EINVAL, err, errlen, "'%.*s' has no digits after its base prefix",
				(int)len, s);
	for (size_t i = 2; i < len; i++) {
		int d = digit_val(s[i]);

		if (d >= (int)base)
			return num_fail(-EINVAL, err, errlen, "'%.*s%s' is not a %s number",
					QLEN(len), s, QDOTS(len), base_name[base]);
		if (v > (U128_MAX - (xfsm_u128)d) / base)
			big = true;
		else
			v = v * base + (xfsm_u128)d;
	}
	if (big || v > U64_MAX)
		return num_fail(-ERANGE, err, errlen, "number '%.*s%s' does not fit in 64 bits",
				QLEN(len), s, QDOTS(len));
	out->v = v;
	out->unit = XFSM_UNIT_NONE;
	return 0;
}

/*
 * The core: `bare_mult` scales a number written without a unit (1 for a
 * plain number, 10^9 for "seconds unless a unit is given").
 */
static int parse_num(const char *s, size_t len, unsigned int flags, __u64 bare_mult,
		     struct xfsm_num *out, char *err, size_t errlen)
{
	const struct unit_def *u = NULL;
	xfsm_u128 mant = 0, scale = 1, mult, g, v;
	size_t i = 0, frac_end = 0, nfrac = 0;
	bool big = false, frac = false;

	if (!len)
		return num_fail(-EINVAL, err, errlen, "expected a number");
	if (memchr(s, '\0', len))
		return num_fail(-EINVAL, err, errlen, "a number must not contain a NUL byte");
	if (s[0] < '0' || s[0] > '9')
		return num_fail(-EINVAL, err, errlen, "'%.*s%s' is not a number (" INT_HELP ")",
				QLEN(len), s, QDOTS(len));
	/* a base prefix, unless the text is zero with a unit (0B, 0bit) */
	if (len >= 2 && s[0] == '0' &&
	    !((flags & XFSM_NUM_UNIT) && unit_find(s + 1, len - 1))) {
		switch (s[1]) {
		case 'x': case 'X': return parse_based(s, len, 16, out, err, errlen);
		case 'o': return parse_based(s, len, 8, out, err, errlen);
		case 'b': return parse_based(s, len, 2, out, err, errlen);
		}
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (mant > (U128_MAX - 9) / 10)
			big = true;
		else
			mant = mant * 10 + (xfsm_u128)(s[i] - '0');
	}
	if (i < len && s[i] == '.' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9') {
		size_t start = ++i;

		frac = true;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		/* trailing zeros change nothing: 1.50s is 1.5s */
		for (frac_end = i; frac_end > start && s[frac_end - 1] == '0'; frac_end--)
			;
		nfrac = frac_end - start;
		/* 10^-18 of the largest unit is not a whole nanosecond */
		for (size_t k = start; !big && nfrac <= 18 && k < frac_end; k++) {
			if (mant > (U128_MAX - 9) / 10) {
				big = true;
				break;
			}
			mant = mant * 10 + (xfsm_u128)(s[k] - '0');
			scale *= 10;
		}
	}
	if (i < len) {
		u = unit_find(s + i, len - i);
		if (!(flags & XFSM_NUM_UNIT)) {
			if (u)
				return num_fail(-EINVAL, err, errlen,
						"'%.*s%s': a unit is not allowed here",
						QLEN(len), s, QDOTS(len));
			return num_fail(-EINVAL, err, errlen, "'%.*s%s' is not a number (" INT_HELP ")",
					QLEN(len), s, QDOTS(len));
		}
		if (!u)
			return num_fail(-EINVAL, err, errlen,
					"unknown unit '%.*s%s' in '%.*s%s' (" UNITS_HELP ")",
					QLEN(len - i), s + i, QDOTS(len - i), QLEN(len), s,
					QDOTS(len));
	}
	if (frac && !(flags & XFSM_NUM_FRAC))
		return num_fail(-EINVAL, err, errlen, "'%.*s%s' is not a whole number",
				QLEN(len), s, QDOTS(len));
	mult = u ? u->mult : bare_mult;
	if (nfrac > 18)
		goto not_whole;
	if (big)
		goto too_big;
	/* mant * mult / scale, exactly, without forming mant * mult */
	g = gcd(mult, scale);
	mult /= g;
	scale /= g;
	if (mant % scale)
		goto not_whole;
	if (xfsm_u128_mul(mant / scale, mult, &v) || v > U64_MAX)
		goto too_big;
	out->v = v;
	out->unit = u ? u->unit : XFSM_UNIT_NONE;
	return 0;
not_whole:
	return num_fail(-EINVAL, err, errlen, "'%.*s%s' is not a whole number%s",
			QLEN(len), s, QDOTS(len),
			u || bare_mult != 1 ? " of the smallest unit" : "");
too_big:
	return num_fail(-ERANGE, err, errlen, "number '%.*s%s' does not fit in 64 bits",
			QLEN(len), s, QDOTS(len));
}

int xfsm_num_parse(const char *s, size_t len, unsigned int flags, struct xfsm_num *out,
		   char *err, size_t errlen)
{
	return parse_num(s, len, flags, 1, out, err, errlen);
}

int xfsm_parse_u64(const char *s, __u64 min, __u64 max, __u64 *out, char *err, size_t errlen)
{
	size_t len = strlen(s = s ? s : "");
	struct xfsm_num n;
	int ret;

	ret = parse_num(s, len, 0, 1, &n, err, errlen);
	if (ret && ret != -ERANGE)
		return ret;
	if (ret || n.v < min || n.v > max)
		return num_fail(-ERANGE, err, errlen, "%.*s%s is out of range (%llu..%llu)",
				QLEN(len), s, QDOTS(len), (unsigned long long)min,
				(unsigned long long)max);
	*out = (__u64)n.v;
	return 0;
}

int xfsm_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out, char *err, size_t errlen)
{
	__u64 v;
	int ret = xfsm_parse_u64(s, min, max, &v, err, errlen);

	if (!ret)
		*out = (__u32)v;
	return ret;
}

int xfsm_parse_duration(const char *s, __u64 *ns, char *err, size_t errlen)
{
	size_t len = strlen(s = s ? s : "");
	struct xfsm_num n;
	int ret;

	ret = parse_num(s, len, XFSM_NUM_UNIT | XFSM_NUM_FRAC, XFSM_NS_PER_SEC, &n, err, errlen);
	if (ret)
		return ret;
	if (n.unit != XFSM_UNIT_NONE && n.unit != XFSM_UNIT_TIME)
		return num_fail(-EINVAL, err, errlen,
				"'%.*s%s' is not a duration (a number of seconds, or with a unit: ns us ms s min h)",
				QLEN(len), s, QDOTS(len));
	*ns = (__u64)n.v;
	return 0;
}

int xfsm_timeout_ms(xfsm_u128 ns, __u32 *ms)
{
	xfsm_u128 q = ns / 1000000 + (ns % 1000000 != 0);

	if (q > 0xffffffffULL)
		return -ERANGE;
	*ms = (__u32)q;
	return 0;
}

/* ---- addresses -------------------------------------------------------------- */

int xfsm_parse_ip4(const char *s, size_t len, __u32 *addr)
{
	__u32 a = 0;
	size_t i = 0;

	for (int o = 0; o < 4; o++) {
		size_t start = i;
		unsigned int v = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned int)(s[i++] - '0');
		/* an octet with a leading zero reads as octal elsewhere: refuse it */
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return -EINVAL;
		a = a << 8 | v;
		if (o < 3) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
	}
	if (i != len)
		return -EINVAL;
	*addr = a;
	return 0;
}

int xfsm_parse_ip6(const char *s, size_t len, __u8 addr[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (!len || len >= sizeof(buf) || memchr(s, '\0', len) || !memchr(s, ':', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -EINVAL;
}

int xfsm_parse_mac(const char *s, size_t len, __u8 mac[6])
{
	size_t i = 0;

	for (int g = 0; g < 6; g++) {
		unsigned int v = 0, digits = 0;

		while (i < len && digit_val(s[i]) < 16 && digits < 3) {
			v = v * 16 + (unsigned int)digit_val(s[i++]);
			digits++;
		}
		if (digits == 0 || digits > 2)
			return -EINVAL;
		mac[g] = (__u8)v;
		if (g < 5) {
			if (i >= len || s[i] != ':')
				return -EINVAL;
			i++;
		}
	}
	return i == len ? 0 : -EINVAL;
}

int xfsm_parse_prefix(const char *s, size_t len, struct xfsm_prefix *p,
		      char *err, size_t errlen)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned int max;
	struct xfsm_num n;
	__u32 a4;

	memset(p, 0, sizeof(*p));
	if (!xfsm_parse_ip4(s, alen, &a4)) {
		p->family = AF_INET;
		p->addr[0] = (__u8)(a4 >> 24);
		p->addr[1] = (__u8)(a4 >> 16);
		p->addr[2] = (__u8)(a4 >> 8);
		p->addr[3] = (__u8)a4;
		max = 32;
	} else if (!xfsm_parse_ip6(s, alen, p->addr)) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return num_fail(-EINVAL, err, errlen, "not an IPv4 or IPv6 address: %.*s%s",
				QLEN(alen), s, QDOTS(alen));
	}
	p->len = max;
	if (slash) {
		size_t llen = len - alen - 1;

		if (parse_num(slash + 1, llen, 0, 1, &n, NULL, 0) || n.v > max)
			return num_fail(-EINVAL, err, errlen, "bad prefix length in %.*s%s (0..%u)",
					QLEN(len), s, QDOTS(len), max);
		p->len = (unsigned int)n.v;
	}
	for (unsigned int b = p->len; b < max; b++)
		if (p->addr[b / 8] & (0x80 >> (b % 8)))
			return num_fail(-EINVAL, err, errlen, "%.*s%s has bits set beyond /%u",
					QLEN(len), s, QDOTS(len), p->len);
	return 0;
}
