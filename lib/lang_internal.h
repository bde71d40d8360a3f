/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Internals shared by the lang_*.c files of the xfsm language compiler. */
#ifndef XFSM_LANG_INTERNAL_H
#define XFSM_LANG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "xfsm_num.h"

typedef xfsm_u128 lang_u128;

enum lang_tk {
	T_EOF = 0,
	T_NL,		/* end of line or ';' */
	T_IDENT,
	T_NUM,
	T_MAC,
	T_IP4,
	T_IP6,
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA,
	T_ASSIGN, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_AMP, T_PIPE, T_CARET, T_BANG, T_MINUS, T_PLUS, T_STAR, T_SLASH,
	T_PERCENT, T_SHL, T_SHR, T_ARROW, T_FATARROW,
};

/* The unit kinds of lib/xfsm_num.h under the compiler's short names. */
enum lang_unit {
	U_NONE = XFSM_UNIT_NONE,
	U_TIME = XFSM_UNIT_TIME,
	U_BYTES = XFSM_UNIT_BYTES,
	U_RATE = XFSM_UNIT_RATE,
};

struct lang_tok {
	enum lang_tk kind;
	unsigned int line, col;
	size_t off, len;		/* source text of the token */
	lang_u128 v;			/* NUM, MAC, IP4, IP6 */
	enum lang_unit unit;
};

struct lang_lex_err {
	unsigned int line, col;
	char msg[160];
};

/* Split text into tokens (T_EOF last).  Returns 0, -ENOMEM or -EINVAL
 * (with *e filled). */
int lang_lex(const char *text, size_t len, struct lang_tok **toks, size_t *n,
	     struct lang_lex_err *e);

/* Builtin named constants (TCP flags, protocols, ethertypes). */
bool lang_builtin_const(const char *name, size_t len, lang_u128 *v);

#endif /* XFSM_LANG_INTERNAL_H */
