/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL rule syntax: the native one-line form (xfsmctl acl add, rule files,
 * ACL blocks of .xfsm applications) and ClassBench filter lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsm_acl.h"
#include "xfsm_file.h"
#include "xfsm_num.h"
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

/* A word of rule text: s[0..n), not NUL-terminated. */
struct word {
	const char *s;
	size_t	n;
};

/* Quoting a word in a message: at most 64 bytes of it. */
#define WQ(w)		(int)((w)->n > 64 ? 64 : (w)->n), (w)->s, (w)->n > 64 ? "..." : ""

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',';
}

static bool next_word(const char **p, const char *end, struct word *w)
{
	const char *q = *p;

	while (q < end && is_sep(*q))
		q++;
	if (q == end)
		return false;
	w->s = q;
	while (q < end && !is_sep(*q))
		q++;
	w->n = (size_t)(q - w->s);
	*p = q;
	return true;
}

static bool word_is(const struct word *w, const char *kw)
{
	return strlen(kw) == w->n && !memcmp(w->s, kw, w->n);
}

/* Split "A<sep>B" at the first sep; b is empty without one. */
static bool split_at(const struct word *w, char sep, struct word *a, struct word *b)
{
	const char *x = memchr(w->s, sep, w->n);

	a->s = w->s;
	a->n = x ? (size_t)(x - w->s) : w->n;
	b->s = x ? x + 1 : w->s + w->n;
	b->n = x ? w->n - a->n - 1 : 0;
	return x != NULL;
}

/* A number of the shared syntax (lib/num.c) in 0..max. */
static bool parse_u32(const struct word *w, __u32 max, __u32 *out)
{
	struct xfsm_num n;

	if (xfsm_num_parse(w->s, w->n, 0, &n, NULL, 0) || n.v > max)
		return false;
	*out = (__u32)n.v;
	return true;
}

/* "A" or "A-B" (also "A:B"), 16-bit. */
static bool parse_range(const struct word *w, __u16 *lo, __u16 *hi)
{
	struct word a, b;
	__u32 x, y;
	const char *dash = memchr(w->s, '-', w->n);
	const char *colon = memchr(w->s, ':', w->n);
	char sep = dash && (!colon || dash < colon) ? '-' : ':';

	if (!split_at(w, sep, &a, &b))
		b = a;
	if (!parse_u32(&a, 0xffff, &x) || !parse_u32(&b, 0xffff, &y) || y < x)
		return false;
	*lo = (__u16)x;
	*hi = (__u16)y;
	return true;
}

/* An address with optional /LEN into 4 host-order words; sets the family
 * flag.  Host bits must be zero. */
static int parse_prefix(const struct word *w, __u32 out[4], __u8 *len, __u8 *famf,
			char *err, size_t errlen)
{
	struct xfsm_prefix p;
	int r, i;

	r = xfsm_parse_prefix(w->s, w->n, &p, err, errlen);
	if (r)
		return r;
	if (p.family == AF_INET && (*famf & XFSM_ACLF_V6))
		return fail(err, errlen, "%.*s%s: IPv4 prefix in an IPv6 rule", WQ(w));
	if (p.family == AF_INET6 && (*famf & XFSM_ACLF_V4))
		return fail(err, errlen, "%.*s%s: IPv6 prefix in an IPv4 rule", WQ(w));
	*famf |= p.family == AF_INET ? XFSM_ACLF_V4 : XFSM_ACLF_V6;
	for (i = 0; i < 4; i++)
		out[i] = ((__u32)p.addr[4 * i] << 24) | ((__u32)p.addr[4 * i + 1] << 16) |
			 ((__u32)p.addr[4 * i + 2] << 8) | p.addr[4 * i + 3];
	*len = (__u8)p.len;
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

/* A number, or flag names joined by '|'. */
static bool parse_flags_val(const struct word *w, __u32 *out)
{
	struct word rest = *w, name;
	__u32 v = 0, i;

	if (parse_u32(w, 0xff, out))
		return true;
	for (;;) {
		bool more = split_at(&rest, '|', &name, &rest);

		for (i = 0; i < sizeof(tcpf) / sizeof(tcpf[0]); i++)
			if (word_is(&name, tcpf[i].name))
				break;
		if (i == sizeof(tcpf) / sizeof(tcpf[0]))
			return false;
		v |= tcpf[i].bit;
		if (!more)
			break;
	}
	*out = v;
	return true;
}

/* The bit of a match or option keyword that takes a value (0 for others):
 * a rule gives each at most once. */
static unsigned int value_kw_bit(const struct word *kw)
{
	static const char *const kws[][2] = {
		{ "id", NULL }, { "prio", "priority" }, { "src", NULL }, { "dst", NULL },
		{ "proto", NULL }, { "sport", NULL }, { "dport", NULL }, { "flags", NULL },
		{ "port", "in_port" }, { "vlan", NULL }, { "mark", NULL },
	};

	for (unsigned int i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (word_is(kw, kws[i][0]) || (kws[i][1] && word_is(kw, kws[i][1])))
			return 1U << i;
	return 0;
}

/* *at: the word an error is about (the rule's start when about all of it). */
static int parse_rule(const char *text, size_t len, struct xfsm_acl_entry *e,
		      xfsm_acl_stage_fn stage_of, void *ctx, char *err, size_t errlen,
		      const char **at)
{
	const char *p = text, *end = text + len;
	bool have_action = false;
	struct word kw, arg, a, b;
	unsigned int seen = 0, bit;
	__u32 v, m;
	int r;

	xfsm_acl_entry_init(e);
	*at = text;
	if (memchr(text, '\0', len))
		return fail(err, errlen, "a rule must not contain a NUL byte");
	while (next_word(&p, end, &kw)) {
		*at = kw.s;
		if (word_is(&kw, "=>"))
			continue;
		if (word_is(&kw, "ip4") || word_is(&kw, "ipv4")) {
			if (e->flags & XFSM_ACLF_V6)
				return fail(err, errlen, "ip4 in an IPv6 rule");
			e->flags |= XFSM_ACLF_V4;
			continue;
		}
		if (word_is(&kw, "ip6") || word_is(&kw, "ipv6")) {
			if (e->flags & XFSM_ACLF_V4)
				return fail(err, errlen, "ip6 in an IPv4 rule");
			e->flags |= XFSM_ACLF_V6;
			continue;
		}
		if (word_is(&kw, "allow") || word_is(&kw, "accept") || word_is(&kw, "deny") ||
		    word_is(&kw, "drop") || word_is(&kw, "pass")) {
			if (have_action)
				return fail(err, errlen, "two actions: %.*s%s", WQ(&kw));
			have_action = true;
			e->action = kw.s[0] == 'a' ? XFSM_ACL_ALLOW :
				    kw.s[0] == 'p' ? XFSM_ACL_PASS : XFSM_ACL_DENY;
			continue;
		}
		if (!next_word(&p, end, &arg))
			return fail(err, errlen, "%.*s%s needs a value", WQ(&kw));
		/* `dport 5 dport 6` is no range: never the last one silently */
		bit = value_kw_bit(&kw);
		if (seen & bit)
			return fail(err, errlen, "%.*s%s is given twice: a rule takes it once",
				    WQ(&kw));
		seen |= bit;
		*at = arg.s;
		if (word_is(&kw, "id")) {
			if (!parse_u32(&arg, 0xffffffff, &v) || !v)
				return fail(err, errlen, "bad rule id %.*s%s (1..4294967295)", WQ(&arg));
			e->rule_id = v;
		} else if (word_is(&kw, "prio") || word_is(&kw, "priority")) {
			if (!parse_u32(&arg, 0xffffffff, &v))
				return fail(err, errlen, "bad priority %.*s%s (0..4294967295)", WQ(&arg));
			e->priority = v;
		} else if (word_is(&kw, "src") || word_is(&kw, "dst")) {
			__u8 fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

			r = parse_prefix(&arg, kw.s[0] == 's' ? e->src : e->dst,
					 kw.s[0] == 's' ? &e->src_len : &e->dst_len, &fam, err, errlen);
			if (r)
				return r;
			e->flags |= fam;
		} else if (word_is(&kw, "proto")) {
			size_t j;
			bool has_mask = split_at(&arg, '/', &a, &b);

			m = 0xff;
			for (j = 0; j < sizeof(protos) / sizeof(protos[0]); j++)
				if (word_is(&a, protos[j].name))
					break;
			if (j < sizeof(protos) / sizeof(protos[0]))
				v = protos[j].val;
			else if (!parse_u32(&a, 0xff, &v))
				return fail(err, errlen, "bad protocol %.*s%s", WQ(&arg));
			if (has_mask && !parse_u32(&b, 0xff, &m))
				return fail(err, errlen, "bad protocol mask %.*s%s", WQ(&arg));
			if (v & ~m)
				return fail(err, errlen, "protocol %.*s%s has bits outside its mask",
					    WQ(&arg));
			e->proto = (__u8)v;
			e->proto_mask = (__u8)m;
		} else if (word_is(&kw, "sport")) {
			if (!parse_range(&arg, &e->sport_lo, &e->sport_hi))
				return fail(err, errlen, "bad port range %.*s%s (N or LO-HI, 0..65535)",
					    WQ(&arg));
		} else if (word_is(&kw, "dport")) {
			if (!parse_range(&arg, &e->dport_lo, &e->dport_hi))
				return fail(err, errlen, "bad port range %.*s%s (N or LO-HI, 0..65535)",
					    WQ(&arg));
		} else if (word_is(&kw, "flags")) {
			bool has_mask = split_at(&arg, '/', &a, &b);

			if (!parse_flags_val(&a, &v))
				return fail(err, errlen, "bad TCP flags %.*s%s", WQ(&arg));
			m = v;
			if (has_mask && !parse_flags_val(&b, &m))
				return fail(err, errlen, "bad TCP flags mask %.*s%s", WQ(&arg));
			if (v & ~m)
				return fail(err, errlen, "TCP flags %.*s%s have bits outside the mask",
					    WQ(&arg));
			e->tcp_flags = (__u8)v;
			e->tcp_mask = (__u8)m;
		} else if (word_is(&kw, "port") || word_is(&kw, "in_port")) {
			if (!parse_u32(&arg, XFSM_MAX_PORTS - 1, &v) || !v)
				return fail(err, errlen, "bad ingress port %.*s%s (1..%u)", WQ(&arg),
					    XFSM_MAX_PORTS - 1);
			e->in_port = (__u16)v;
			e->flags |= XFSM_ACLF_PORT;
		} else if (word_is(&kw, "vlan")) {
			if (!parse_u32(&arg, 4095, &v))
				return fail(err, errlen, "bad VLAN id %.*s%s (0..4095)", WQ(&arg));
			e->vlan = (__u16)v;
			e->flags |= XFSM_ACLF_VLAN;
		} else if (word_is(&kw, "mark")) {
			if (!parse_u32(&arg, 0xffffffff, &v))
				return fail(err, errlen, "bad mark %.*s%s (0..4294967295)", WQ(&arg));
			e->mark = v;
			e->flags |= XFSM_ACLF_MARK;
		} else if (word_is(&kw, "goto")) {
			if (have_action)
				return fail(err, errlen, "two actions: goto");
			have_action = true;
			e->action = XFSM_ACL_GOTO;
			if (arg.s[0] >= '0' && arg.s[0] <= '9') {
				if (!parse_u32(&arg, XFSM_MAX_STAGES - 1, &v))
					return fail(err, errlen, "goto: bad stage number %.*s%s (0..%u)",
						    WQ(&arg), XFSM_MAX_STAGES - 1);
				e->arg = v;
			} else {
				char *name = strndup(arg.s, arg.n);

				if (!name)
					return -ENOMEM;
				r = stage_of ? stage_of(name, ctx) : -ENOENT;
				free(name);
				if (r < 0)
					return fail(err, errlen, "goto: unknown stage %.*s%s", WQ(&arg));
				e->arg = (__u32)r;
			}
		} else {
			const char *q = kw.s;

			*at = kw.s;
			while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
				q--;
			/* `dport 53,80`: a list where one value goes */
			if (q > text && q[-1] == ',' && kw.s[0] >= '0' && kw.s[0] <= '9')
				return fail(err, errlen,
					    "a list of values is no ACL match (%.*s%s after ','): a match takes one value or a range LO-HI; write one rule for each value",
					    WQ(&kw));
			return fail(err, errlen, "unknown word %.*s%s", WQ(&kw));
		}
	}
	*at = text;
	if (!have_action && !(e->flags & XFSM_ACLF_MARK))
		return fail(err, errlen, "no action (allow, deny, pass, goto STAGE or mark M)");
	/* Ports and protocols only exist on IP packets. */
	if ((e->proto_mask || e->sport_lo || e->sport_hi != 0xffff || e->dport_lo ||
	     e->dport_hi != 0xffff || e->tcp_mask) && !(e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6)))
		e->flags |= XFSM_ACLF_V4 | XFSM_ACLF_V6;
	return 0;
}

int xfsm_acl_parse_rule(const char *text, struct xfsm_acl_entry *e,
			xfsm_acl_stage_fn stage_of, void *ctx,
			char *err, size_t errlen)
{
	const char *at;

	return parse_rule(text, strlen(text), e, stage_of, ctx, err, errlen, &at);
}

int xfsm_acl_parse_rule_at(const char *text, size_t len, struct xfsm_acl_entry *e,
			   xfsm_acl_stage_fn stage_of, void *ctx,
			   char *err, size_t errlen, size_t *err_off)
{
	const char *at;
	int r = parse_rule(text, len, e, stage_of, ctx, err, errlen, &at);

	if (r && err_off)
		*err_off = (size_t)(at - text);
	return r;
}

/* ---- ClassBench --------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next run of non-space bytes. */
static bool cb_word(const char **p, const char *end, struct word *w)
{
	const char *q = *p;

	while (q < end && is_space(*q))
		q++;
	w->s = q;
	while (q < end && !is_space(*q))
		q++;
	w->n = (size_t)(q - w->s);
	*p = q;
	return w->n > 0;
}

/* A ClassBench prefix: IPv4 only, host bits zero. */
static int cb_prefix(const struct word *w, __u32 *addr, __u8 *len, const char *what,
		     char *err, size_t errlen)
{
	struct xfsm_prefix p;
	char msg[160];

	if (xfsm_parse_prefix(w->s, w->n, &p, msg, sizeof(msg)))
		return fail(err, errlen, "%s: %s", what, msg);
	if (p.family != AF_INET || !memchr(w->s, '/', w->n))
		return fail(err, errlen, "%s: expected an IPv4 prefix A.B.C.D/LEN, found %.*s%s",
			    what, WQ(w));
	*addr = ((__u32)p.addr[0] << 24) | ((__u32)p.addr[1] << 16) |
		((__u32)p.addr[2] << 8) | p.addr[3];
	*len = (__u8)p.len;
	return 0;
}

/* "LO : HI", the spaces optional. */
static int cb_ports(const char **p, const char *end, __u16 *lo, __u16 *hi, const char *what,
		    char *err, size_t errlen)
{
	struct word w, a, b;
	__u32 x, y;

	if (!cb_word(p, end, &w))
		return fail(err, errlen, "%s: expected LO : HI", what);
	split_at(&w, ':', &a, &b);
	if (!b.n && a.n == w.n) {	/* "LO :" or "LO : HI" */
		struct word sep;

		if (!cb_word(p, end, &sep) || sep.s[0] != ':')
			return fail(err, errlen, "%s: expected LO : HI", what);
		b.s = sep.s + 1;
		b.n = sep.n - 1;
		if (!b.n && !cb_word(p, end, &b))
			return fail(err, errlen, "%s: expected LO : HI", what);
	}
	if (!parse_u32(&a, 0xffff, &x) || !parse_u32(&b, 0xffff, &y) || y < x)
		return fail(err, errlen, "%s: bad range %.*s%s : %.*s%s (0..65535, LO <= HI)",
			    what, WQ(&a), WQ(&b));
	*lo = (__u16)x;
	*hi = (__u16)y;
	return 0;
}

/* "0xVV/0xMM": hex as ClassBench writes it, value bits inside the mask. */
static int cb_hex_pair(const struct word *w, __u32 max, __u32 *v, __u32 *m,
		       const char *what, char *err, size_t errlen)
{
	struct word a, b;

	if (!split_at(w, '/', &a, &b) || a.n < 3 || b.n < 3 || a.s[0] != '0' ||
	    (a.s[1] != 'x' && a.s[1] != 'X') || b.s[0] != '0' || (b.s[1] != 'x' && b.s[1] != 'X') ||
	    !parse_u32(&a, max, v) || !parse_u32(&b, max, m))
		return fail(err, errlen, "%s: expected 0xVALUE/0xMASK (at most 0x%x), found %.*s%s",
			    what, max, WQ(w));
	if (*v & ~*m)
		return fail(err, errlen, "%s %.*s%s has bits outside its mask", what, WQ(w));
	return 0;
}

/* The next field starts at *p after spaces: *at points there. */
static const char *cb_field(const char **p, const char *end, const char **at)
{
	while (*p < end && is_space(**p))
		(*p)++;
	return *at = *p;
}

/* *at: the field an error is about. */
static int parse_classbench(const char *line, size_t len, struct xfsm_acl_entry *e,
			    char *err, size_t errlen, const char **at)
{
	const char *p = line, *end = line + len;
	struct word w;
	__u32 v, m;
	int r;

	xfsm_acl_entry_init(e);
	cb_field(&p, end, at);
	if (p == end || *p != '@')
		return fail(err, errlen, "a ClassBench filter line starts with '@'");
	p++;
	cb_field(&p, end, at);
	if (!cb_word(&p, end, &w))
		return fail(err, errlen, "source: expected an IPv4 prefix");
	r = cb_prefix(&w, &e->src[0], &e->src_len, "source", err, errlen);
	if (r)
		return r;
	cb_field(&p, end, at);
	if (!cb_word(&p, end, &w))
		return fail(err, errlen, "destination: expected an IPv4 prefix");
	r = cb_prefix(&w, &e->dst[0], &e->dst_len, "destination", err, errlen);
	if (r)
		return r;
	cb_field(&p, end, at);
	r = cb_ports(&p, end, &e->sport_lo, &e->sport_hi, "source ports", err, errlen);
	if (r)
		return r;
	cb_field(&p, end, at);
	r = cb_ports(&p, end, &e->dport_lo, &e->dport_hi, "destination ports", err, errlen);
	if (r)
		return r;
	cb_field(&p, end, at);
	if (!cb_word(&p, end, &w))
		return fail(err, errlen, "protocol: expected 0xVALUE/0xMASK");
	r = cb_hex_pair(&w, 0xff, &v, &m, "protocol", err, errlen);
	if (r)
		return r;
	e->proto = (__u8)v;
	e->proto_mask = (__u8)m;
	/* the flags field is optional and not classified on, but checked */
	cb_field(&p, end, at);
	if (cb_word(&p, end, &w)) {
		r = cb_hex_pair(&w, 0xffff, &v, &m, "flags", err, errlen);
		if (r)
			return r;
	}
	cb_field(&p, end, at);
	if (cb_word(&p, end, &w))
		return fail(err, errlen, "unexpected %.*s%s after the last field", WQ(&w));
	e->flags = XFSM_ACLF_V4;
	e->action = XFSM_ACL_DENY;
	return 0;
}

int xfsm_acl_parse_classbench(const char *line, struct xfsm_acl_entry *e,
			      char *err, size_t errlen)
{
	const char *at;

	return parse_classbench(line, strlen(line), e, err, errlen, &at);
}

/* ---- Rule files ------------------------------------------------------------------ */

const char *xfsm_acl_add_error(int err)
{
	switch (err) {
	case -EEXIST: return "rule id already in use";
	case -ERANGE: return "no rule id after the highest in use (4294967295): give this rule one with 'id N'";
	case -E2BIG: return "more rules than an ACL table holds";
	default: return strerror(-err);
	}
}

/* The value of a native rule's "id" word (the rule's start without one):
 * where a duplicate id is. */
static const char *rule_id_word(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct word w;

	while (next_word(&p, end, &w))
		if (word_is(&w, "id") && next_word(&p, end, &w))
			return w.s;
	return text;
}

int xfsm_acl_load_file(const char *path, struct xfsm_acl_rules *rs,
		       char *err, size_t errlen)
{
	struct xfsm_acl_rules got = { 0 };
	struct xfsm_acl_entry e;
	int format = 0, r;	/* format: 1 ClassBench, 2 native */
	unsigned int lineno = 0;
	char msg[256], *buf;
	const char *p, *end;
	size_t len;
	__u32 cb_id = 0;

	r = xfsm_read_file(path, &buf, &len, msg, sizeof(msg));
	if (r) {
		fail(err, errlen, "%s: %s", path, msg);
		return r;
	}
	/* all or nothing: work on a copy, rs changes only when the whole
	 * file was good */
	for (size_t i = 0; i < rs->n; i++) {
		r = xfsm_acl_rules_add(&got, &rs->r[i]);
		if (r) {
			fail(err, errlen, "%s: %s", path, strerror(-r));
			goto out;
		}
	}
	end = buf + len;
	for (p = buf; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *line_end = eol ? eol : end, *line_start = p, *at = NULL;

		lineno++;
		p = eol ? eol + 1 : end;
		while (q < line_end && is_space(*q))
			q++;
		if (q == line_end || *q == '#')
			continue;
		at = memchr(q, '\0', (size_t)(line_end - q));
		if (at) {
			r = fail(err, errlen, "%s:%u:%zu: a NUL byte in the line", path, lineno,
				 (size_t)(at - line_start) + 1);
			goto out;
		}
		if (!format)
			format = *q == '@' ? 1 : 2;
		if (format == 1) {
			r = parse_classbench(q, (size_t)(line_end - q), &e, msg, sizeof(msg), &at);
			e.rule_id = ++cb_id;
		} else {
			r = parse_rule(q, (size_t)(line_end - q), &e, NULL, NULL, msg, sizeof(msg),
				       &at);
		}
		if (r) {
			fail(err, errlen, "%s:%u:%zu: %s", path, lineno,
			     (size_t)(at - line_start) + 1, msg);
			goto out;
		}
		r = xfsm_acl_rules_add(&got, &e);
		if (r) {
			at = format == 2 ? rule_id_word(q, (size_t)(line_end - q)) : q;
			fail(err, errlen, "%s:%u:%zu: %s", path, lineno, (size_t)(at - line_start) + 1,
			     xfsm_acl_add_error(r));
			goto out;
		}
	}
	if (got.n == rs->n) {
		r = fail(err, errlen, "%s: no rules in the file (only blank lines and comments); 'xfsmctl acl flush' empties a table",
			 path);
		goto out;
	}
	xfsm_acl_rules_free(rs);
	*rs = got;
	memset(&got, 0, sizeof(got));
out:
	xfsm_acl_rules_free(&got);
	free(buf);
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
