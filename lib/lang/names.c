/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Name lookups and value formatting shared by xfsmctl and the tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsm_lang.h"
#include "lang.h"
#include "xfsm_num.h"

const char *xfsm_lang_verdict_name(unsigned int v)
{
	switch (v) {
	case XFSM_VERDICT_PASS: return "pass";
	case XFSM_VERDICT_DROP: return "drop";
	case XFSM_VERDICT_TX: return "tx";
	case XFSM_VERDICT_CONTINUE: return "continue";
	default: return "?";
	}
}

const char *xfsm_lang_state_name(const struct xfsm_app_names *names,
				 unsigned int stage, __u32 state,
				 char *buf, size_t len)
{
	if (names && stage < names->n_stages && state < XFSM_LANG_MAX_STATES &&
	    names->stages[stage].states[state][0])
		return names->stages[stage].states[state];
	snprintf(buf, len, "%u", state);
	return buf;
}

const struct xfsm_rule_names *xfsm_lang_rule_by_id(const struct xfsm_app_names *names,
						   __u32 rule_id)
{
	if (!names)
		return NULL;
	for (size_t i = 0; i < names->n_rules; i++) {
		const struct xfsm_rule_names *r = &names->rules[i];

		if (rule_id >= r->rule_id && rule_id < r->rule_id + r->n_entries)
			return r;
	}
	return NULL;
}

const struct xfsm_rule_names *xfsm_lang_rule_by_name(const struct xfsm_app_names *names,
						     unsigned int stage, const char *name)
{
	if (!names)
		return NULL;
	for (size_t i = 0; i < names->n_rules; i++)
		if (names->rules[i].stage == stage && !strcmp(names->rules[i].name, name))
			return &names->rules[i];
	return NULL;
}

int xfsm_lang_stage_by_name(const struct xfsm_app_names *names, const char *name)
{
	__u32 v;

	if (!names)
		return -ENOENT;
	for (unsigned int i = 0; i < names->n_stages; i++)
		if (!strcmp(names->stages[i].name, name))
			return (int)i;
	if (names->n_stages &&
	    !xfsm_parse_u32(name, 0, names->n_stages - 1, &v, NULL, 0))
		return (int)v;
	return -ENOENT;
}

/* Decimal digits of v at p; returns the end. */
static char *put_dec(char *p, __u32 v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* text into buf as snprintf would; returns its length in buf. */
static size_t text_into(char *buf, size_t len, const char *text, size_t n)
{
	if (!len)
		return 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return n;
}

size_t xfsm_lang_format_field(int field_id, const __u32 *words, char *buf, size_t len)
{
	unsigned int n;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&n);
	char tmp[INET6_ADDRSTRLEN], *p = tmp;

	if (field_id < 0 || (unsigned int)field_id >= n)
		return text_into(buf, len, "?", 1);
	f += field_id;
	if (f->bits == 48) {
		snprintf(tmp, sizeof(tmp), "%02x:%02x:%02x:%02x:%02x:%02x",
			 (words[0] >> 8) & 0xff, words[0] & 0xff, words[1] >> 24,
			 (words[1] >> 16) & 0xff, (words[1] >> 8) & 0xff, words[1] & 0xff);
		p += strlen(tmp);
	} else if (f->bits == 128) {
		struct in6_addr a;

		for (int i = 0; i < 4; i++) {
			a.s6_addr[4 * i] = words[i] >> 24;
			a.s6_addr[4 * i + 1] = (words[i] >> 16) & 0xff;
			a.s6_addr[4 * i + 2] = (words[i] >> 8) & 0xff;
			a.s6_addr[4 * i + 3] = words[i] & 0xff;
		}
		/* (an address that does not fit is no address: "?") */
		if (!inet_ntop(AF_INET6, &a, tmp, sizeof(tmp)) || strlen(tmp) >= len)
			return text_into(buf, len, "?", 1);
		p += strlen(tmp);
	} else if (f->word == XFSM_FW_IP4_SRC || f->word == XFSM_FW_IP4_DST ||
		   f->word == XFSM_FW_ARP_SPA || f->word == XFSM_FW_ARP_TPA) {
		/* (written by hand: listings format a million of these) */
		for (int i = 3; i >= 0; i--) {
			p = put_dec(p, (words[0] >> (8 * i)) & 0xff);
			*p++ = '.';
		}
		p--;
	} else {
		p = put_dec(p, words[0]);
	}
	return text_into(buf, len, tmp, p - tmp);
}

int xfsm_lang_parse_field(int field_id, const char *text, __u32 *words)
{
	unsigned int n;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&n);
	struct lang_lex_err le;
	struct lang_tok *t = NULL;
	size_t nt = 0;
	lang_u128 v = 0;
	int err;

	if (field_id < 0 || (unsigned int)field_id >= n)
		return -EINVAL;
	f += field_id;
	err = lang_lex(text, strlen(text), &t, &nt, &le);
	if (err)
		return err;
	err = -EINVAL;
	/* exactly one value and nothing else: the lexer ends the text with
	 * T_NL T_EOF, and the value's token must span all of it */
	if (nt != 3 || t[0].off != 0 || t[0].len != strlen(text))
		goto out;
	if (t[0].kind == T_IDENT) {
		if (!lang_builtin_const(text + t[0].off, t[0].len, &v))
			goto out;
	} else if ((t[0].kind == T_NUM && t[0].unit == U_NONE) || t[0].kind == T_MAC ||
		   t[0].kind == T_IP4 || t[0].kind == T_IP6) {
		/* a unit (1KiB) is no value of a header field */
		v = t[0].v;
	} else {
		goto out;
	}
	if (f->bits < 128 && v >> f->bits)
		goto out;
	for (unsigned int k = 0; k < f->nwords; k++)
		words[k] = (__u32)(v >> (32 * (f->nwords - 1 - k)));
	err = 0;
out:
	free(t);
	return err;
}
