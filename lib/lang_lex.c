/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Lexer of the xfsm language: identifiers (with dots: eth.src), numbers with
 * units (10s, 1Mbit, 1500B), MAC/IPv4/IPv6 addresses, operators.  Newlines
 * end statements, except after ',', '=>', '->', '(' or a trailing '\'.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_internal.h"

struct unit_def {
	const char *suffix;
	enum lang_unit unit;
	unsigned long long mult;
};

static const struct unit_def units[] = {
	{ "ns", U_TIME, 1ULL },
	{ "us", U_TIME, 1000ULL },
	{ "ms", U_TIME, 1000000ULL },
	{ "s", U_TIME, 1000000000ULL },
	{ "min", U_TIME, 60000000000ULL },
	{ "h", U_TIME, 3600000000000ULL },
	{ "B", U_BYTES, 1ULL },
	{ "kB", U_BYTES, 1000ULL },
	{ "KB", U_BYTES, 1000ULL },
	{ "MB", U_BYTES, 1000000ULL },
	{ "GB", U_BYTES, 1000000000ULL },
	{ "KiB", U_BYTES, 1024ULL },
	{ "MiB", U_BYTES, 1048576ULL },
	{ "GiB", U_BYTES, 1073741824ULL },
	{ "bit", U_RATE, 1ULL },
	{ "kbit", U_RATE, 1000ULL },
	{ "Mbit", U_RATE, 1000000ULL },
	{ "Gbit", U_RATE, 1000000000ULL },
	{ "bps", U_RATE, 1ULL },
	{ "kbps", U_RATE, 1000ULL },
	{ "Mbps", U_RATE, 1000000ULL },
	{ "Gbps", U_RATE, 1000000000ULL },
};

struct builtin_const {
	const char *name;
	unsigned long long v;
};

static const struct builtin_const builtins[] = {
	/* TCP flags */
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
	{ "ack", 0x10 }, { "urg", 0x20 }, { "ece", 0x40 }, { "cwr", 0x80 },
	/* IP protocols */
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
	{ "icmp6", 58 }, { "sctp", 132 },
	/* ethertypes */
	{ "ipv4", 0x0800 }, { "arp", 0x0806 }, { "ipv6", 0x86dd },
	{ "vlan", 0x8100 }, { "qinq", 0x88a8 },
	/* packet flags (meta.flags) */
	{ "has_vlan", 1U << 0 }, { "has_qinq", 1U << 1 }, { "has_arp", 1U << 2 },
	{ "has_ipv4", 1U << 3 }, { "has_ipv6", 1U << 4 }, { "is_frag", 1U << 5 },
	{ "has_l4", 1U << 7 }, { "has_tcp", 1U << 8 }, { "has_udp", 1U << 9 },
	{ "has_icmp", 1U << 10 }, { "has_icmp6", 1U << 11 },
};

bool lang_builtin_const(const char *name, size_t len, lang_u128 *v)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strlen(builtins[i].name) == len &&
		    !memcmp(builtins[i].name, name, len)) {
			*v = builtins[i].v;
			return true;
		}
	}
	return false;
}

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

static int parse_mac(const char *s, size_t len, lang_u128 *out)
{
	lang_u128 v = 0;
	unsigned int groups = 0;
	size_t i = 0;

	while (i < len) {
		unsigned int digits = 0, g = 0;

		while (i < len && isxdigit((unsigned char)s[i]) && digits < 3) {
			g = g * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' :
				      (tolower((unsigned char)s[i]) - 'a' + 10));
			i++;
			digits++;
		}
		if (digits == 0 || digits > 2)
			return -1;
		v = (v << 8) | g;
		groups++;
		if (i < len) {
			if (s[i] != ':')
				return -1;
			i++;
			if (i == len)
				return -1;
		}
	}
	if (groups != 6)
		return -1;
	*out = v;
	return 0;
}

static int parse_ip6(const char *s, size_t len, lang_u128 *out)
{
	char buf[64];
	struct in6_addr a;
	lang_u128 v = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return -1;
	for (int i = 0; i < 16; i++)
		v = (v << 8) | a.s6_addr[i];
	*out = v;
	return 0;
}

static int parse_ip4(const char *s, size_t len, lang_u128 *out)
{
	char buf[32];
	struct in_addr a;
	int dots = 0;

	if (len >= sizeof(buf))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)s[i]))
			return -1;
	}
	if (dots != 3)
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* Decimal or hex number with an optional fraction and unit. */
static int parse_number(const char *s, size_t len, struct lang_tok *t,
			struct lang_lex_err *e)
{
	lang_u128 mant = 0, scale = 1;
	size_t i = 0;
	bool frac = false;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++) {
			int c = tolower((unsigned char)s[i]);

			if (!isxdigit(c))
				goto bad;
			mant = mant * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
			if (mant >> 64)
				goto big;
		}
		t->v = mant;
		return 0;
	}
	for (; i < len; i++) {
		if (isdigit((unsigned char)s[i])) {
			mant = mant * 10 + (s[i] - '0');
			if (frac)
				scale *= 10;
			if (mant >> 100)
				goto big;
		} else if (s[i] == '.' && !frac) {
			frac = true;
		} else {
			break;
		}
	}
	if (i < len) {
		const char *u = s + i;
		size_t ulen = len - i;
		size_t k;

		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].suffix) == ulen &&
			    !memcmp(units[k].suffix, u, ulen))
				break;
		if (k == sizeof(units) / sizeof(units[0])) {
			snprintf(e->msg, sizeof(e->msg),
				 "unknown unit '%.*s' in '%.*s' (time: ns us ms s min h; size: B kB KiB MB MiB GB GiB; rate: bit kbit Mbit Gbit)",
				 (int)ulen, u, (int)len, s);
			return -EINVAL;
		}
		mant *= units[k].mult;
		t->unit = units[k].unit;
	}
	if (mant % scale) {
		snprintf(e->msg, sizeof(e->msg),
			 "'%.*s' is not a whole number%s", (int)len, s,
			 t->unit == U_NONE ? "" : " of the smallest unit");
		return -EINVAL;
	}
	mant /= scale;
	if (mant >> 64)
		goto big;
	t->v = mant;
	return 0;
bad:
	snprintf(e->msg, sizeof(e->msg), "invalid number '%.*s'", (int)len, s);
	return -EINVAL;
big:
	snprintf(e->msg, sizeof(e->msg), "number '%.*s' does not fit in 64 bits",
		 (int)len, s);
	return -EINVAL;
}

static int push(struct lang_tok **toks, size_t *n, size_t *cap,
		const struct lang_tok *t)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct lang_tok *nt = realloc(*toks, nc * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		*toks = nt;
		*cap = nc;
	}
	(*toks)[(*n)++] = *t;
	return 0;
}

static bool nl_suppressed(const struct lang_tok *toks, size_t n)
{
	if (n == 0)
		return true;
	switch (toks[n - 1].kind) {
	case T_NL:
	case T_COMMA:
	case T_FATARROW:
	case T_ARROW:
	case T_LPAREN:
		return true;
	default:
		return false;
	}
}

static const struct {
	const char *s;
	enum lang_tk k;
} puncts[] = {
	{ "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE }, { ">=", T_GE },
	{ "<<", T_SHL }, { ">>", T_SHR }, { "->", T_ARROW }, { "=>", T_FATARROW },
	{ "{", T_LBRACE }, { "}", T_RBRACE }, { "(", T_LPAREN }, { ")", T_RPAREN },
	{ ",", T_COMMA }, { "=", T_ASSIGN }, { "<", T_LT }, { ">", T_GT },
	{ "&", T_AMP }, { "|", T_PIPE }, { "^", T_CARET }, { "!", T_BANG },
	{ "-", T_MINUS }, { "+", T_PLUS }, { "*", T_STAR }, { "/", T_SLASH },
	{ "%", T_PERCENT },
};

int lang_lex(const char *text, size_t len, struct lang_tok **toks, size_t *n,
	     struct lang_lex_err *e)
{
	size_t cap = 0, i = 0, line_start = 0;
	unsigned int line = 1;
	int err;

	*toks = NULL;
	*n = 0;
	while (i < len) {
		struct lang_tok t = { 0 };
		char c = text[i];

		t.line = line;
		t.col = (unsigned int)(i - line_start) + 1;
		t.off = i;

		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
			continue;
		}
		if (c == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		if (c == '\\') {
			size_t j = i + 1;

			while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
				j++;
			if (j < len && text[j] == '\n') {
				i = j + 1;
				line++;
				line_start = i;
				continue;
			}
			e->line = t.line;
			e->col = t.col;
			snprintf(e->msg, sizeof(e->msg),
				 "found '\\', expected a line break after it");
			goto inval;
		}
		if (c == '\n' || c == ';') {
			i++;
			if (c == '\n') {
				line++;
				line_start = i;
			}
			if (nl_suppressed(*toks, *n))
				continue;
			t.kind = T_NL;
			t.len = 1;
			if ((err = push(toks, n, &cap, &t)))
				goto fail;
			continue;
		}
		if (c == '\0') {
			e->line = t.line;
			e->col = t.col;
			snprintf(e->msg, sizeof(e->msg), "found a NUL byte, expected text");
			goto inval;
		}

		/* Addresses: runs of hex digits, ':' and '.' containing ':'. */
		if (isxdigit((unsigned char)c) || (c == ':' && i + 1 < len && text[i + 1] == ':')) {
			size_t j = i;
			bool colon = false;

			while (j < len && (isxdigit((unsigned char)text[j]) ||
					   text[j] == ':' || text[j] == '.')) {
				if (text[j] == ':')
					colon = true;
				j++;
			}
			if (colon && !(j < len && is_ident_char((unsigned char)text[j]))) {
				t.len = j - i;
				if (!parse_mac(text + i, t.len, &t.v))
					t.kind = T_MAC;
				else if (!parse_ip6(text + i, t.len, &t.v))
					t.kind = T_IP6;
				else if (isdigit((unsigned char)c) || c == ':') {
					e->line = t.line;
					e->col = t.col;
					snprintf(e->msg, sizeof(e->msg),
						 "invalid address '%.*s'", (int)t.len, text + i);
					goto inval;
				}
				if (t.kind) {
					if ((err = push(toks, n, &cap, &t)))
						goto fail;
					i = j;
					continue;
				}
			}
		}
		if (isdigit((unsigned char)c)) {
			size_t j = i;

			while (j < len && (isalnum((unsigned char)text[j]) ||
					   text[j] == '.' || text[j] == '_'))
				j++;
			t.len = j - i;
			if (!parse_ip4(text + i, t.len, &t.v)) {
				t.kind = T_IP4;
			} else {
				t.kind = T_NUM;
				if (parse_number(text + i, t.len, &t, e)) {
					e->line = t.line;
					e->col = t.col;
					goto inval;
				}
			}
			if ((err = push(toks, n, &cap, &t)))
				goto fail;
			i = j;
			continue;
		}
		if (is_ident_start((unsigned char)c)) {
			size_t j = i;

			while (j < len && is_ident_char((unsigned char)text[j]))
				j++;
			/* a trailing dot belongs to no name */
			while (j > i + 1 && text[j - 1] == '.')
				j--;
			t.kind = T_IDENT;
			t.len = j - i;
			if ((err = push(toks, n, &cap, &t)))
				goto fail;
			i = j;
			continue;
		}
		for (size_t k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++) {
			size_t pl = strlen(puncts[k].s);

			if (i + pl <= len && !memcmp(text + i, puncts[k].s, pl)) {
				t.kind = puncts[k].k;
				t.len = pl;
				break;
			}
		}
		if (!t.kind) {
			e->line = t.line;
			e->col = t.col;
			if (isprint((unsigned char)c))
				snprintf(e->msg, sizeof(e->msg),
					 "found '%c', expected a name, a number or an operator", c);
			else
				snprintf(e->msg, sizeof(e->msg),
					 "found byte 0x%02x, expected a name, a number or an operator",
					 (unsigned char)c);
			goto inval;
		}
		if ((err = push(toks, n, &cap, &t)))
			goto fail;
		i += t.len;
	}
	{
		struct lang_tok t = { 0 };

		t.line = line;
		t.col = (unsigned int)(i - line_start) + 1;
		t.off = len;
		if (!nl_suppressed(*toks, *n) || (*n && (*toks)[*n - 1].kind != T_NL)) {
			t.kind = T_NL;
			if ((err = push(toks, n, &cap, &t)))
				goto fail;
		}
		t.kind = T_EOF;
		if ((err = push(toks, n, &cap, &t)))
			goto fail;
	}
	return 0;
inval:
	err = -EINVAL;
fail:
	free(*toks);
	*toks = NULL;
	*n = 0;
	return err;
}
