/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL rule syntax: the native one-line form (xfsmctl acl add, rule files,
 * ACL blocks of .xfsm applications) and ClassBench filter lines.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsm_acl.h"
#include "xfsm/acl_match.h"

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* "A" or "A-B" (also "A:B"), 16-bit. */
static bool parse_range(const char *s, __u16 *lo, __u16 *hi)
{
	char buf[64], *sep;
	__u32 a, b;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return false;
	sep = strpbrk(buf, "-:");
	if (sep)
		*sep++ = 0;
	if (!parse_u32(buf, 0xffff, &a))
		return false;
	b = a;
	if (sep && !parse_u32(sep, 0xffff, &b))
		return false;
	if (b < a)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

/* An address with optional /LEN into 4 host-order words; sets the family
 * flag.  Host bits must be zero. */
static int parse_prefix(const char *s, __u32 w[4], __u8 *len, __u8 *famf,
			char *err, size_t errlen)
{
	char buf[96], *slash;
	unsigned char a[16];
	__u32 l, max, i;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return fail(err, errlen, "address too long: %s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(w, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1) {
		w[0] = ((__u32)a[0] << 24) | ((__u32)a[1] << 16) | ((__u32)a[2] << 8) | a[3];
		max = 32;
		if (*famf & XFSM_ACLF_V6)
			return fail(err, errlen, "%s: IPv4 prefix in an IPv6 rule", s);
		*famf |= XFSM_ACLF_V4;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		for (i = 0; i < 4; i++)
			w[i] = ((__u32)a[4 * i] << 24) | ((__u32)a[4 * i + 1] << 16) |
			       ((__u32)a[4 * i + 2] << 8) | a[4 * i + 3];
		max = 128;
		if (*famf & XFSM_ACLF_V4)
			return fail(err, errlen, "%s: IPv6 prefix in an IPv4 rule", s);
		*famf |= XFSM_ACLF_V6;
	} else {
		return fail(err, errlen, "not an IPv4 or IPv6 address: %s", buf);
	}
	l = max;
	if (slash && !parse_u32(slash, max, &l))
		return fail(err, errlen, "bad prefix length in %s (0..%u)", s, max);
	for (i = 0; i < 4; i++) {
		if (w[i] & ~xfsm_acl_pfx_mask(l, i))
			return fail(err, errlen, "%s has bits set beyond /%u", s, l);
	}
	*len = l;
	return 0;
}

static const struct { const char *name; __u32 val; } protos[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 },
	{ "gre", 47 }, { "sctp", 132 }, { "esp", 50 }, { "ah", 51 },
};

static const struct { const char *name; __u32 bit; } tcpf[] = {
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
	{ "ack", 0x10 }, { "urg", 0x20 }, { "ece", 0x40 }, { "cwr", 0x80 },
};

static bool parse_flags_val(const char *s, __u32 *out)
{
	char buf[96], *tok, *save;
	__u32 v = 0, i;

	if (parse_u32(s, 0xff, out))
		return true;
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return false;
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		for (i = 0; i < sizeof(tcpf) / sizeof(tcpf[0]); i++)
			if (!strcmp(tok, tcpf[i].name))
				break;
		if (i == sizeof(tcpf) / sizeof(tcpf[0]))
			return false;
		v |= tcpf[i].bit;
	}
	*out = v;
	return true;
}

#define MAX_WORDS	48

int xfsm_acl_parse_rule(const char *text, struct xfsm_acl_entry *e,
			xfsm_acl_stage_fn stage_of, void *ctx,
			char *err, size_t errlen)
{
	char buf[1024], *w[MAX_WORDS], *p, *save, *slash;
	int nw = 0, i, r;
	bool have_action = false;
	__u32 v, m;

	xfsm_acl_entry_init(e);
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return fail(err, errlen, "rule too long");
	for (p = strtok_r(buf, " \t\r\n,", &save); p; p = strtok_r(NULL, " \t\r\n,", &save)) {
		if (nw == MAX_WORDS)
			return fail(err, errlen, "too many words in rule");
		w[nw++] = p;
	}
	for (i = 0; i < nw; i++) {
		const char *kw = w[i], *arg = i + 1 < nw ? w[i + 1] : NULL;

		if (!strcmp(kw, "=>"))
			continue;
		if (!strcmp(kw, "ip4") || !strcmp(kw, "ipv4")) {
			if (e->flags & XFSM_ACLF_V6)
				return fail(err, errlen, "ip4 in an IPv6 rule");
			e->flags |= XFSM_ACLF_V4;
			continue;
		}
		if (!strcmp(kw, "ip6") || !strcmp(kw, "ipv6")) {
			if (e->flags & XFSM_ACLF_V4)
				return fail(err, errlen, "ip6 in an IPv4 rule");
			e->flags |= XFSM_ACLF_V6;
			continue;
		}
		if (!strcmp(kw, "allow") || !strcmp(kw, "accept") || !strcmp(kw, "deny") ||
		    !strcmp(kw, "drop") || !strcmp(kw, "pass")) {
			if (have_action)
				return fail(err, errlen, "two actions: %s", kw);
			have_action = true;
			e->action = kw[0] == 'a' ? XFSM_ACL_ALLOW :
				    kw[0] == 'p' ? XFSM_ACL_PASS : XFSM_ACL_DENY;
			continue;
		}
		if (!arg)
			return fail(err, errlen, "%s needs a value", kw);
		i++;
		if (!strcmp(kw, "id")) {
			if (!parse_u32(arg, 0xffffffff, &v) || !v)
				return fail(err, errlen, "bad rule id %s (1..4294967295)", arg);
			e->rule_id = v;
		} else if (!strcmp(kw, "prio") || !strcmp(kw, "priority")) {
			if (!parse_u32(arg, 0xffffffff, &v))
				return fail(err, errlen, "bad priority %s", arg);
			e->priority = v;
		} else if (!strcmp(kw, "src") || !strcmp(kw, "dst")) {
			__u8 fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

			r = parse_prefix(arg, kw[0] == 's' ? e->src : e->dst,
					 kw[0] == 's' ? &e->src_len : &e->dst_len, &fam, err, errlen);
			if (r)
				return r;
			e->flags |= fam;
		} else if (!strcmp(kw, "proto")) {
			char pb[64];
			size_t j;

			snprintf(pb, sizeof(pb), "%s", arg);
			slash = strchr(pb, '/');
			if (slash)
				*slash++ = 0;
			m = 0xff;
			for (j = 0; j < sizeof(protos) / sizeof(protos[0]); j++)
				if (!strcmp(pb, protos[j].name))
					break;
			if (j < sizeof(protos) / sizeof(protos[0]))
				v = protos[j].val;
			else if (!parse_u32(pb, 0xff, &v))
				return fail(err, errlen, "bad protocol %s", arg);
			if (slash && !parse_u32(slash, 0xff, &m))
				return fail(err, errlen, "bad protocol mask %s", arg);
			if (v & ~m)
				return fail(err, errlen, "protocol %s has bits outside its mask", arg);
			e->proto = v;
			e->proto_mask = m;
		} else if (!strcmp(kw, "sport")) {
			if (!parse_range(arg, &e->sport_lo, &e->sport_hi))
				return fail(err, errlen, "bad port range %s (N or LO-HI, 0..65535)", arg);
		} else if (!strcmp(kw, "dport")) {
			if (!parse_range(arg, &e->dport_lo, &e->dport_hi))
				return fail(err, errlen, "bad port range %s (N or LO-HI, 0..65535)", arg);
		} else if (!strcmp(kw, "flags")) {
			char fb[96];

			snprintf(fb, sizeof(fb), "%s", arg);
			slash = strchr(fb, '/');
			if (slash)
				*slash++ = 0;
			if (!parse_flags_val(fb, &v))
				return fail(err, errlen, "bad TCP flags %s", arg);
			m = v;
			if (slash && !parse_flags_val(slash, &m))
				return fail(err, errlen, "bad TCP flags mask %s", arg);
			if (v & ~m)
				return fail(err, errlen, "TCP flags %s have bits outside the mask", arg);
			e->tcp_flags = v;
			e->tcp_mask = m;
		} else if (!strcmp(kw, "port") || !strcmp(kw, "in_port")) {
			if (!parse_u32(arg, XFSM_MAX_PORTS - 1, &v) || !v)
				return fail(err, errlen, "bad ingress port %s (1..%u)", arg,
					    XFSM_MAX_PORTS - 1);
			e->in_port = v;
			e->flags |= XFSM_ACLF_PORT;
		} else if (!strcmp(kw, "vlan")) {
			if (!parse_u32(arg, 4095, &v))
				return fail(err, errlen, "bad VLAN id %s (0..4095)", arg);
			e->vlan = v;
			e->flags |= XFSM_ACLF_VLAN;
		} else if (!strcmp(kw, "mark")) {
			if (!parse_u32(arg, 0xffffffff, &v))
				return fail(err, errlen, "bad mark %s", arg);
			e->mark = v;
			e->flags |= XFSM_ACLF_MARK;
		} else if (!strcmp(kw, "goto")) {
			if (have_action)
				return fail(err, errlen, "two actions: goto");
			have_action = true;
			e->action = XFSM_ACL_GOTO;
			if (parse_u32(arg, XFSM_MAX_STAGES - 1, &v)) {
				e->arg = v;
			} else if (stage_of && (r = stage_of(arg, ctx)) >= 0) {
				e->arg = r;
			} else {
				return fail(err, errlen, "goto: unknown stage %s", arg);
			}
		} else {
			return fail(err, errlen, "unknown word %s", kw);
		}
	}
	if (!have_action && !(e->flags & XFSM_ACLF_MARK))
		return fail(err, errlen, "no action (allow, deny, pass, goto STAGE or mark M)");
	/* Ports and protocols only exist on IP packets. */
	if ((e->proto_mask || e->sport_lo || e->sport_hi != 0xffff || e->dport_lo ||
	     e->dport_hi != 0xffff || e->tcp_mask) && !(e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6)))
		e->flags |= XFSM_ACLF_V4 | XFSM_ACLF_V6;
	return 0;
}

int xfsm_acl_parse_classbench(const char *line, struct xfsm_acl_entry *e)
{
	unsigned int s[4], sl, d[4], dl, splo, sphi, dplo, dphi, pr, pm, fl, fm;
	int n;

	xfsm_acl_entry_init(e);
	while (isspace((unsigned char)*line))
		line++;
	n = sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x %x/%x",
		   &s[0], &s[1], &s[2], &s[3], &sl, &d[0], &d[1], &d[2], &d[3], &dl,
		   &splo, &sphi, &dplo, &dphi, &pr, &pm, &fl, &fm);
	if (n < 16)
		return -EINVAL;
	if (sl > 32 || dl > 32 || splo > sphi || sphi > 0xffff || dplo > dphi ||
	    dphi > 0xffff || pr > 0xff || pm > 0xff)
		return -EINVAL;
	e->src[0] = (s[0] << 24 | s[1] << 16 | s[2] << 8 | s[3]) & xfsm_acl_pfx_mask(sl, 0);
	e->dst[0] = (d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]) & xfsm_acl_pfx_mask(dl, 0);
	e->src_len = sl;
	e->dst_len = dl;
	e->sport_lo = splo;
	e->sport_hi = sphi;
	e->dport_lo = dplo;
	e->dport_hi = dphi;
	e->proto_mask = pm;
	e->proto = pr & pm;
	e->flags = XFSM_ACLF_V4;
	e->action = XFSM_ACL_DENY;
	return 0;
}

int xfsm_acl_load_file(const char *path, struct xfsm_acl_rules *rs,
		       char *err, size_t errlen)
{
	char line[1024], msg[256];
	struct xfsm_acl_entry e;
	int lineno = 0, format = 0, r = 0;	/* format: 1 ClassBench, 2 native */
	__u32 cb_id = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		r = -errno;
		fail(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (!format)
			format = *p == '@' ? 1 : 2;
		if (format == 1) {
			r = xfsm_acl_parse_classbench(p, &e);
			if (r) {
				fail(err, errlen, "%s:%d: not a ClassBench filter line", path, lineno);
				break;
			}
			e.rule_id = ++cb_id;
		} else {
			r = xfsm_acl_parse_rule(p, &e, NULL, NULL, msg, sizeof(msg));
			if (r) {
				fail(err, errlen, "%s:%d: %s", path, lineno, msg);
				break;
			}
		}
		r = xfsm_acl_rules_add(rs, &e);
		if (r) {
			fail(err, errlen, "%s:%d: %s", path, lineno,
			     r == -EEXIST ? "rule id already in use" : strerror(-r));
			break;
		}
	}
	fclose(f);
	return r;
}

static void fmt_prefix(char *out, size_t len, const __u32 w[4], unsigned int l, bool v6)
{
	unsigned char a[16];
	char s[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < 4; i++) {
		a[4 * i] = w[i] >> 24;
		a[4 * i + 1] = w[i] >> 16;
		a[4 * i + 2] = w[i] >> 8;
		a[4 * i + 3] = w[i];
	}
	if (v6)
		inet_ntop(AF_INET6, a, s, sizeof(s));
	else
		inet_ntop(AF_INET, a, s, sizeof(s));
	snprintf(out, len, "%s/%u", s, l);
}

#define APPEND(...)	do { if (o < len) o += snprintf(buf + o, len - o, __VA_ARGS__); } while (0)

void xfsm_acl_format(const struct xfsm_acl_entry *e, char *buf, size_t len)
{
	bool v6 = e->flags & XFSM_ACLF_V6, v4 = e->flags & XFSM_ACLF_V4;
	static const char *const act[] = { "allow", "deny", "goto", "pass" };
	char pfx[80];
	size_t o = 0;

	if (!len)
		return;
	buf[0] = 0;
	APPEND("id %u", e->rule_id);
	if (e->priority)
		APPEND(" prio %u", e->priority);
	if (v4 && !v6 && !e->src_len && !e->dst_len)
		APPEND(" ip4");
	if (v6 && !v4 && !e->src_len && !e->dst_len)
		APPEND(" ip6");
	if (e->src_len) {
		fmt_prefix(pfx, sizeof(pfx), e->src, e->src_len, v6 && !v4);
		APPEND(" src %s", pfx);
	}
	if (e->dst_len) {
		fmt_prefix(pfx, sizeof(pfx), e->dst, e->dst_len, v6 && !v4);
		APPEND(" dst %s", pfx);
	}
	if (e->proto_mask == 0xff)
		APPEND(" proto %u", e->proto);
	else if (e->proto_mask)
		APPEND(" proto %u/0x%x", e->proto, e->proto_mask);
	if (e->sport_lo || e->sport_hi != 0xffff) {
		if (e->sport_lo == e->sport_hi)
			APPEND(" sport %u", e->sport_lo);
		else
			APPEND(" sport %u-%u", e->sport_lo, e->sport_hi);
	}
	if (e->dport_lo || e->dport_hi != 0xffff) {
		if (e->dport_lo == e->dport_hi)
			APPEND(" dport %u", e->dport_lo);
		else
			APPEND(" dport %u-%u", e->dport_lo, e->dport_hi);
	}
	if (e->tcp_mask)
		APPEND(" flags 0x%x/0x%x", e->tcp_flags, e->tcp_mask);
	if (e->flags & XFSM_ACLF_PORT)
		APPEND(" port %u", e->in_port);
	if (e->flags & XFSM_ACLF_VLAN)
		APPEND(" vlan %u", e->vlan);
	APPEND(" => %s", e->action < 4 ? act[e->action] : "?");
	if (e->action == XFSM_ACL_GOTO)
		APPEND(" %u", e->arg);
	if (e->flags & XFSM_ACLF_MARK)
		APPEND(" mark %u", e->mark);
}
