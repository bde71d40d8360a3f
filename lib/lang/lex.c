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

#include "lang.h"
#include "xfsm_num.h"

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

static lang_u128 bytes_value(const __u8 *b, unsigned int n)
{
	lang_u128 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

static int lex_mac(const char *s, size_t len, lang_u128 *out)
{
	__u8 m[6];

	if (xfsm_parse_mac(s, len, m))
		return -1;
	*out = bytes_value(m, 6);
	return 0;
}

static int lex_ip6(const char *s, size_t len, lang_u128 *out)
{
	__u8 a[16];

	if (xfsm_parse_ip6(s, len, a))
		return -1;
	*out = bytes_value(a, 16);
	return 0;
}

/* Digits and at least two dots: meant as an IPv4 address. */
static bool dotted(const char *s, size_t len)
{
	unsigned int dots = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return dots >= 2;
}

/* A number with an optional fraction and unit: lib/num.c, shared with
 * every other reader of numbers. */
static int lex_number(const char *s, size_t len, struct lang_tok *t, struct lang_lex_err *e)
{
	struct xfsm_num n;

	if (xfsm_num_parse(s, len, XFSM_NUM_UNIT | XFSM_NUM_FRAC, &n, e->msg, sizeof(e->msg)))
		return -EINVAL;
	t->v = n.v;
	t->unit = (enum lang_unit)n.unit;
	return 0;
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
				if (!lex_mac(text + i, t.len, &t.v))
					t.kind = T_MAC;
				else if (!lex_ip6(text + i, t.len, &t.v))
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
			if (dotted(text + i, t.len)) {
				__u32 a;

				if (xfsm_parse_ip4(text + i, t.len, &a)) {
					e->line = t.line;
					e->col = t.col;
					snprintf(e->msg, sizeof(e->msg),
						 "invalid IPv4 address '%.*s' (four numbers 0..255 without leading zeros)",
						 (int)(t.len > 64 ? 64 : t.len), text + i);
					goto inval;
				}
				t.kind = T_IP4;
				t.v = a;
			} else {
				t.kind = T_NUM;
				if (lex_number(text + i, t.len, &t, e)) {
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
