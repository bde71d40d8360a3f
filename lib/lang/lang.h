/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Internals of the xfsm language compiler (docs/language.md), shared by its
 * passes.  Each pass has a file of its own:
 *
 *   lex.c     text -> tokens (every token keeps its line and column)
 *   parse.c   tokens -> program: declarations, stages, rules (with match.c
 *             for a rule's matches and value sets, expr.c for expressions
 *             and constant folding, acl.c for ACL blocks, scope.c for
 *             names in scope, cursor.c for the token cursor)
 *   check.c   checks that need the whole program: goto targets, states
 *             that are matched but never entered, keys
 *   lower.c   program -> tables: key and match words, value sets as masked
 *             entries, priorities, the image and its names (overlap.c
 *             resolves entries that overlap by priority and finds rules
 *             that can never match)
 *   compile.c the driver: runs the passes in order (xfsm_compile_*())
 *
 * diag.c holds errors and warnings.  Every error carries the token it is
 * about, whichever pass finds it: "FILE:LINE:COL: error: MESSAGE".  The
 * first error stops compilation: fail_at() jumps back to the driver, which
 * frees everything.
 */
#ifndef XFSM_LANG_INTERNAL_H
#define XFSM_LANG_INTERNAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xfsm_num.h"

typedef xfsm_u128 lang_u128;

/* ---- tokens (lex.c) ------------------------------------------------------------ */

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

/* ---- the program (parse.c builds it, check.c and lower.c read it) ------------ */

#define MAX_EXPR_NODES	128
#define LANG_MAX_NESTING 64	/* parentheses and calls in one expression */
#define MAX_RULE_MATCHES 16
#define LANG_MAX_FIELDS	64	/* header fields the language knows, at most */
#define RULE_POS_BITS	12	/* position within a priority group */
#define MAX_PRIORITY	((1U << (32 - RULE_POS_BITS)) - 1)

enum ex_kind { EX_CONST, EX_OPND, EX_BIN, EX_CALL };
enum ex_fn { FN_MIN, FN_MAX, FN_EWMA, FN_FETCH_ADD };

struct ex {
	enum ex_kind kind;
	enum lang_tk op;	/* EX_BIN */
	enum ex_fn fn;		/* EX_CALL */
	const struct lang_tok *loc;
	lang_u128 v;		/* EX_CONST */
	enum lang_unit unit;
	struct xfsm_operand o;	/* EX_OPND */
	struct ex *a, *b, *c;
};

/*
 * One element of a field match's value set: an interval [lo, hi] (a value,
 * a prefix or a range as written), or a value under a mask.
 */
struct pelem {
	bool	masked;
	lang_u128 lo, hi;	/* interval */
	lang_u128 val, mask;	/* masked: val has no bits outside mask */
	const struct lang_tok *loc;
};

/* A match on a header field: its value is in the set of elements
 * c->elems[first .. first + n), or with neg, outside it. */
struct pmatch {
	int field;
	const struct lang_tok *loc;
	bool	neg;
	size_t	first, n;
};

/* A `goto stage NAME`, resolved by check.c. */
struct pgoto {
	const struct lang_tok *name;
	unsigned int act;
};

struct prule {
	const struct lang_tok *name_tok;
	const struct lang_tok *first;
	char	name[XFSM_LANG_NAME_LEN];
	__u32	prio;
	bool	has_state;
	__u32	state;
	const struct lang_tok *state_tok;
	__u32	conds, cond_mask;
	struct pmatch m[MAX_RULE_MATCHES];
	unsigned int nm;
	struct xfsm_rule r;	/* effects, as the datapath runs them */
	struct pgoto gotos[XFSM_MAX_ACTIONS];
	unsigned int ngotos;
	size_t	src_start, src_end;
};

struct pstage {
	const struct lang_tok *name_tok;
	/* What the stage declares: kind, miss verdict, ACL table and
	 * conditions (lower.c adds keys, match words and tuples). */
	struct xfsm_stage hdr;
	struct prule *rules;
	size_t	nrules, caprules;
	size_t	*name_slot;	/* open-addressed index of rule names: i + 1 */
	size_t	name_cap;	/* a power of two, at least 2 * nrules */
	__u32	*entered;	/* states a rule moves a flow into, any number */
	size_t	n_entered, cap_entered;
	unsigned int next_state;	/* for `states a, b, c` */
	bool	has_lookup, has_update, has_key;
	/* Statements a stage takes once (`miss`, `table size|lru|hash|full`):
	 * a second one is an error, never the last one silently. */
	bool	miss_given, size_given, kind_given, full_given;
	/* The `key` statements that set each key, and their `symmetric`
	 * (NULL: not written), for check.c. */
	const struct lang_tok *lookup_kw, *update_kw, *lookup_sym, *update_sym;
};

struct define {
	char	name[XFSM_LANG_NAME_LEN];
	lang_u128 v;
	enum lang_unit unit;
};

/* An ACL rule whose goto names a stage, resolved by check.c. */
struct acl_goto {
	unsigned int stage, table;
	size_t	idx;
	const struct lang_tok *tok;
	char	name[XFSM_LANG_NAME_LEN];
};

#define LANG_MAX_ACL_GOTOS	256

/* One alternative of a field match as a table entry holds it: a value
 * under a mask, or condition bits that must be set (a negated match
 * lowered to comparisons, lower.c). */
struct mpair {
	lang_u128 v, m;
	__u32	conds, cmask;
};

/* A table entry as lower.c builds it, before overlap.c decides which of
 * those that overlap stay. */
struct lang_entry {
	struct xfsm_rule_match m;	/* values already under their masks */
	__u32	prio;			/* datapath priority: larger wins */
	unsigned int rule;		/* index into the stage's rules */
	bool	dropped;		/* the same match as an entry that wins */
};

/* The compiler's state, from the first pass to the last. */
struct lc {
	const char *fname;
	const char *src;
	size_t	srclen;
	struct lang_tok *t;
	size_t	nt, p;
	jmp_buf	jb;
	char	*err;
	size_t	errlen;
	int	errcode;
	/* The output: lower.c writes the image; the names are the symbol
	 * table of every pass and part of the output. */
	struct xfsm_image *img;
	struct xfsm_app_names *nm;
	/* The program. */
	__u32	default_verdict;
	__u64	globals[XFSM_GLOBAL_REGS];
	__u32	globals_set;
	struct define defs[XFSM_LANG_MAX_DEFINES];
	unsigned int ndefs;
	struct pstage st[XFSM_MAX_STAGES];
	bool	needs_port;
	struct pelem *elems;	/* of every field match, growing */
	size_t	n_elems, cap_elems;
	struct acl_goto acl_goto[LANG_MAX_ACL_GOTOS];
	unsigned int n_acl_goto;
	char	acl_goto_name[XFSM_LANG_NAME_LEN];	/* set by acl_stage_of() */
	/* Parser state. */
	unsigned int cur;	/* stage being parsed */
	bool	in_stage;
	struct ex pool[MAX_EXPR_NODES];
	unsigned int npool;
	unsigned int depth;	/* of parse_expr() calls */
	/* Lowering state (scratch memory is freed by the driver, also
	 * when an error jumps out). */
	__u32	next_rule_id;
	size_t	*group_pos;	/* rank of each rule among rules of its priority */
	struct mpair *alts;	/* alternatives of a rule's field matches */
	size_t	cap_alts;
	struct lang_entry *ents;	/* a stage's entries */
	size_t	n_ents, cap_ents;
	/* Warnings, "FILE:LINE:COL: warning: MESSAGE" each (diag.c). */
	char	**warnings;
	unsigned int n_warnings, cap_warnings;
};

/* ---- diagnostics (diag.c) ------------------------------------------------------- */

void __attribute__((noreturn, format(printf, 3, 4)))
fail_at(struct lc *c, const struct lang_tok *t, const char *fmt, ...);
void __attribute__((noreturn)) fail_nomem(struct lc *c);
/* The application sends to `port`, written at t (its first use is kept:
 * xfsm_app_names.port_use). */
void note_port_use(struct lc *c, __u64 port, const struct lang_tok *t);
/* A warning about token t: compilation goes on. */
void __attribute__((format(printf, 3, 4)))
warn_at(struct lc *c, const struct lang_tok *t, const char *fmt, ...);
/* "'text'", "end of line" or "end of file", for "found X" messages. */
const char *tok_desc(struct lc *c, const struct lang_tok *t, char *buf, size_t len);
void __attribute__((noreturn))
expected(struct lc *c, const struct lang_tok *t, const char *what);

/* ---- the token cursor (cursor.c) ------------------------------------------------ */

static inline const struct lang_tok *peek(struct lc *c)
{
	return &c->t[c->p];
}

static inline const struct lang_tok *next(struct lc *c)
{
	const struct lang_tok *t = &c->t[c->p];

	if (t->kind != T_EOF)
		c->p++;
	return t;
}

static inline bool tok_eq(struct lc *c, const struct lang_tok *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(c->src + t->off, s, t->len);
}

static inline bool is_kw(struct lc *c, const struct lang_tok *t, const char *kw)
{
	return t->kind == T_IDENT && tok_eq(c, t, kw);
}

bool accept_kw(struct lc *c, const char *kw);
bool accept_tk(struct lc *c, enum lang_tk k);
const struct lang_tok *expect(struct lc *c, enum lang_tk k, const char *what);
void expect_eol(struct lc *c);
void skip_nl(struct lc *c);
/* Copy a name token into out (XFSM_LANG_NAME_LEN bytes), checking it. */
void tok_name(struct lc *c, const struct lang_tok *t, char *out);
void check_not_reserved(struct lc *c, const struct lang_tok *t);

/* ---- names in scope (scope.c) -------------------------------------------------- */

struct xfsm_stage_names *cur_names(struct lc *c);
int find_state(struct lc *c, const struct lang_tok *t);
int find_cond(struct lc *c, const struct lang_tok *t);
struct define *find_define(struct lc *c, const struct lang_tok *t);
int find_port(struct lc *c, const struct lang_tok *t);
int find_global(struct lc *c, const struct lang_tok *t);
/* A declared output group by name: its number, or -1. */
int find_group(struct lc *c, const struct lang_tok *t);
int find_reg_alias(struct lc *c, const struct lang_tok *t);
/* regN / globalN: the index (saturated), -1 when the name is not of that form. */
long reg_index(struct lc *c, const struct lang_tok *t, const char *prefix);
/* The index as written, for messages. */
const char *idx_text(struct lc *c, const struct lang_tok *t, const char *prefix,
		     char *buf, size_t len);
/* Fail unless t may name something new here. */
void name_in_use(struct lc *c, const struct lang_tok *t);

/* ---- header fields (fields.c) --------------------------------------------------- */

extern const struct xfsm_lang_field lang_field_table[];
extern const unsigned int lang_n_fields;
/* The field a symmetric key swaps with this one (itself if none). */
int field_sym_partner(int field);
/* The largest value of a field: all ones in its width. */
lang_u128 field_max(int f);
/* Fail at t unless field f can hold v: every constant compared with a
 * field (rule matches, conditions) goes through here.  A field's range is
 * its width, or less where the datapath says so (meta.port < 256). */
void check_field_value(struct lc *c, int f, lang_u128 v, const struct lang_tok *t);
/* Fail: "unknown field 'x'", with the nearest names (metadata operands
 * too unless in_match). */
void __attribute__((noreturn))
lang_fail_unknown_field(struct lc *c, const struct lang_tok *t, bool in_match);
/* Fail if t names a metadata operand, saying why a rule cannot match it. */
void lang_check_meta_match(struct lc *c, const struct lang_tok *t);

/* ---- expressions (expr.c) ------------------------------------------------------- */

struct ex *parse_expr(struct lc *c);
struct ex *parse_primary(struct lc *c);
struct ex *mk_bin(struct lc *c, const struct lang_tok *op, struct ex *a, struct ex *b);
/* A constant expression; its unit and first token when asked. */
lang_u128 parse_const(struct lc *c, const char *what, enum lang_unit *unit,
		      const struct lang_tok **loc);
/* A plain number (no unit) up to max. */
__u64 parse_u64(struct lc *c, const char *what, __u64 max);
const char *unit_kind(enum lang_unit u);
/* A constant, field, register or metadata operand; ctx names the place. */
struct xfsm_operand leaf_operand(struct lc *c, struct ex *e, const char *ctx);

/* ---- the passes ----------------------------------------------------------------- */

/* parse.c: the whole file into c's program. */
void parse_file(struct lc *c);
/* compile.c: point the compiler at its text and cut it into tokens; a
 * lexical error becomes the one-line message in err. */
int lc_start(struct lc *c, const char *fname, const char *text, size_t len,
	     char *err, size_t errlen);
/* match.c: a rule's matches, after `when`. */
void parse_matches(struct lc *c, struct prule *r);
/* acl.c: an `acl NAME [table N] { ... }` block (after the keyword). */
void parse_acl(struct lc *c, const struct lang_tok *kw);
/* parse.c: name pipeline slot s (a stage or an ACL block) after token t. */
void declare_stage(struct lc *c, const struct lang_tok *kw, const struct lang_tok *t,
		   unsigned int s);
/* check.c: the checks that need the whole program. */
void check_program(struct lc *c);
/* acl.c: ACL goto targets (part of the check pass). */
void check_acl_gotos(struct lc *c);
/* lower.c: the program into c->img and c->nm. */
void lower_program(struct lc *c);
/* overlap.c: drop each entry whose match an entry of higher priority has
 * too, and warn about rules of stage s that can never match. */
void overlap_resolve(struct lc *c, unsigned int s, struct lang_entry *e, size_t n);

int lang_u32_cmp(const void *a, const void *b);

#endif /* XFSM_LANG_INTERNAL_H */
