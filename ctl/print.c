/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Text and JSON output through the same calls (see print.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "print.h"

#define MAX_DEPTH 32

static bool json_mode, pretty_mode;
static int depth;
static bool first[MAX_DEPTH];

void print_init(bool json, bool pretty)
{
	/* Listings run to a million lines: write them in large blocks. */
	static char obuf[1 << 16];

	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	json_mode = json;
	pretty_mode = pretty;
	depth = 0;
	first[0] = true;
}

/*
 * Fast paths.  A million flows make tens of millions of print calls, and
 * printf's parse of the format for each value is most of their cost; the
 * formats used here are mostly a literal, one %s or %u-like conversion and
 * a literal, which are written directly.  Anything else goes to printf.
 */
/*
 * Bulk mode (print_bulk): the output collects in bulk_buf and reaches
 * stdio in blocks, so a listing costs a memcpy per piece rather than a
 * stdio call.  Only print_* may write while it is on: anything else
 * written to stdout in between would come out of order.  Every write of
 * this file that does not go through put_n drains the block first.
 */
static char bulk_buf[1 << 16];
_Static_assert(PRINT_LINE_MAX <= sizeof(bulk_buf), "a hand-written line fits the block");
static size_t bulk_len;
static bool bulk_on;

static void bulk_drain(void)
{
	if (bulk_len)
		fwrite_unlocked(bulk_buf, 1, bulk_len, stdout);
	bulk_len = 0;
}

void print_bulk(bool on)
{
	bulk_drain();
	bulk_on = on;
}

char *print_line_begin(size_t max)
{
	if (max > sizeof(bulk_buf) - bulk_len)
		bulk_drain();
	return bulk_buf + bulk_len;
}

void print_line_end(char *end)
{
	bulk_len = end - bulk_buf;
	if (!bulk_on)
		bulk_drain();
}

static void put_n(const char *s, size_t n)
{
	if (!bulk_on) {
		fwrite_unlocked(s, 1, n, stdout);
		return;
	}
	if (n > sizeof(bulk_buf) - bulk_len) {
		bulk_drain();
		if (n > sizeof(bulk_buf)) {
			fwrite_unlocked(s, 1, n, stdout);
			return;
		}
	}
	memcpy(bulk_buf + bulk_len, s, n);
	bulk_len += n;
}

static void put_s(const char *s)
{
	put_n(s, strlen(s));
}

static void put_c(char c)
{
	if (bulk_on && bulk_len < sizeof(bulk_buf))
		bulk_buf[bulk_len++] = c;
	else
		put_n(&c, 1);
}

static __attribute__((format(printf, 1, 2))) void out_printf(const char *fmt, ...)
{
	va_list ap;

	bulk_drain();
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

char *fmt_u64(char *p, unsigned long long v)
{
	char buf[20], *q = buf + sizeof(buf);

	do {
		*--q = '0' + v % 10;
		v /= 10;
	} while (v);
	memcpy(p, q, buf + sizeof(buf) - q);
	return p + (buf + sizeof(buf) - q);
}

static void put_u64(unsigned long long v)
{
	char buf[20];

	put_n(buf, fmt_u64(buf, v) - buf);
}

/*
 * Split a format around its only conversion: conv is the conversion
 * without the '%' and its length modifiers ('s', 'u', 'd'; 'f' for "%.Nf",
 * N in prec; 0 for a format without one), post the text after it.  NULL
 * when the format is anything else.  The formats are string constants, so the answer is kept by
 * address.
 */
struct fmt_split {
	const char *fmt, *post;
	size_t	pre, post_len;
	char	conv;
	int	prec;
	bool	ok;
};

static const struct fmt_split *split_fmt(const char *fmt)
{
	/* A listing uses a dozen formats, some the tail of another (merged
	 * strings one byte apart): hash the whole address so that they
	 * rarely share a slot. */
	static struct fmt_split cache[256];
	struct fmt_split *e = &cache[((unsigned long)fmt * 0x9e3779b97f4a7c15ULL) >> 56];
	const char *pc, *c;

	if (e->fmt != fmt) {
		e->fmt = fmt;
		e->ok = false;
		e->prec = -1;
		pc = strchr(fmt, '%');
		if (!pc) {
			/* a literal: conv 0, the whole format in pre */
			e->pre = strlen(fmt);
			e->conv = 0;
			e->post = fmt + e->pre;
			e->post_len = 0;
			e->ok = true;
			return e;
		}
		c = pc + 1;
		if (c[0] == '.' && c[1] >= '0' && c[1] <= '9' && c[2] == 'f') {
			e->prec = c[1] - '0';
			c += 2;
		}
		while (*c == 'l')
			c++;
		if ((*c == 's' || *c == 'u' || *c == 'd' || *c == 'f') && !strchr(c + 1, '%') &&
		    (*c == 's' || *c == 'f' ? c == pc + 1 + (e->prec >= 0 ? 2 : 0) : 1) &&
		    (*c != 'f' || e->prec >= 0)) {
			e->pre = pc - fmt;
			e->conv = *c;
			e->post = c + 1;
			e->post_len = strlen(e->post);
			e->ok = true;
		}
	}
	return e->ok ? e : NULL;
}

bool is_json(void)
{
	return json_mode;
}

bool is_pretty(void)
{
	return json_mode && pretty_mode;
}

static void indent(void)
{
	if (!pretty_mode)
		return;
	put_c('\n');
	for (int i = 0; i < depth; i++)
		put_s("  ");
}

char *fmt_json_chars(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (const char *end = s + n; s < end; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\') {
			*p++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n' || c == '\t') {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : 't';
		} else {
			memcpy(p, "\\u00", 4);
			p += 4;
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	return p;
}

char *fmt_json_str(char *p, const char *s, size_t n)
{
	*p++ = '"';
	p = fmt_json_chars(p, s, n);
	*p++ = '"';
	return p;
}

static void json_str(const char *s)
{
	size_t n = strlen(s);

	put_c('"');
	while (n) {
		size_t m = n < PRINT_LINE_MAX / 6 ? n : PRINT_LINE_MAX / 6;

		print_line_end(fmt_json_chars(print_line_begin(6 * m), s, m));
		s += m;
		n -= m;
	}
	put_c('"');
}

/* Separator (and indent) of the next JSON value. */
static void json_sep(void)
{
	if (!first[depth])
		put_c(',');
	first[depth] = false;
	if (depth > 0)
		indent();
}

static void key_end(void)
{
	put_c(':');
	if (pretty_mode)
		put_c(' ');
}

/* Separator and key of the next JSON value. */
static void json_key(const char *key)
{
	json_sep();
	if (key) {
		json_str(key);
		key_end();
	}
}

static void json_push(char c)
{
	put_c(c);
	if (depth < MAX_DEPTH - 1)
		depth++;
	first[depth] = true;
}

static void json_open(const char *key, char c)
{
	if (!json_mode)
		return;
	json_key(key);
	json_push(c);
}

static void json_close(char c)
{
	bool empty;

	if (!json_mode)
		return;
	empty = first[depth];
	if (depth > 0)
		depth--;
	if (!empty)
		indent();
	put_c(c);
	if (depth == 0) {
		first[0] = true;
	}
}

/*
 * A value written by hand.  Compact output takes it where it is written,
 * in the output block; pretty output takes it in pretty_buf and writes it
 * again token by token, each separator and indent as json_sep() and
 * json_close() place them, so that -p shows it as if print_* had built it.
 * The text is trusted (ours): no space outside strings, well nested.
 */
static char pretty_buf[PRINT_LINE_MAX];
static const char *pretty_key;

char *print_json_begin(const char *key, size_t max)
{
	if (is_pretty()) {
		pretty_key = key;
		return pretty_buf;
	}
	json_key(key);
	return print_line_begin(max);
}

/* The end of the JSON token at s: a string (with its escapes) or a bare
 * number, true, false or null. */
static const char *token_end(const char *s, const char *end)
{
	if (*s == '"') {
		for (s++; s < end && *s != '"'; s++)
			if (*s == '\\' && s + 1 < end)
				s++;
		return s < end ? s + 1 : end;
	}
	while (s < end && *s != ',' && *s != ':' && *s != '}' && *s != ']')
		s++;
	return s;
}

static void reindent(const char *s, const char *end)
{
	bool after_key = true;	/* the value itself: pretty_key is its key */
	const char *t;

	json_key(pretty_key);
	while (s < end) {
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '}' || *s == ']') {
			json_close(*s++);
			continue;
		}
		if (!after_key) {
			t = token_end(s, end);
			if (*s == '"' && t < end && *t == ':') {
				/* a member's key: its value follows */
				json_sep();
				put_n(s, (size_t)(t - s));
				key_end();
				s = t + 1;
				after_key = true;
				continue;
			}
			json_sep();
		}
		after_key = false;
		if (*s == '{' || *s == '[') {
			json_push(*s++);
			continue;
		}
		t = token_end(s, end);
		if (t == s)
			t++;	/* a stray ':' (not ours): out as it is, never stuck */
		put_n(s, (size_t)(t - s));
		s = t;
	}
}

void print_json_end(char *end)
{
	if (is_pretty())
		reindent(pretty_buf, end);
	else
		print_line_end(end);
}

void open_json_object(const char *key)
{
	json_open(key, '{');
}

void close_json_object(void)
{
	json_close('}');
}

void open_json_array(const char *key)
{
	json_open(key, '[');
}

void close_json_array(void)
{
	json_close(']');
}

void print_flush(void)
{
	if (json_mode)
		put_c('\n');
	bulk_drain();
	fflush(stdout);
}

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned long long v)
{
	const struct fmt_split *sf;

	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			put_u64(v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		if ((sf = split_fmt(fmt)) && sf->conv == 'u') {
			put_n(fmt, sf->pre);
			put_u64(v);
			put_n(sf->post, sf->post_len);
		} else {
			out_printf(fmt, v);
		}
	}
}

void print_int(enum output_type t, const char *key, const char *fmt, long long v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			out_printf("%lld", v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		out_printf(fmt, v);
	}
}

void print_float(enum output_type t, const char *key, const char *fmt, double v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			out_printf("%.3f", v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		out_printf(fmt, v);
	}
}

char *fmt_seconds(char *p, long long ns, int prec)
{
	static const long long scale[] = { 1000000000, 100000000, 10000000, 1000000,
					   100000, 10000, 1000, 100, 10, 1 };
	unsigned long long u = ns < 0 ? -(unsigned long long)ns : (unsigned long long)ns;
	unsigned long long q = scale[prec], r, ipart;

	if (ns < 0)
		*p++ = '-';
	r = u / q + (u % q >= q - q / 2);	/* (u + q/2) / q without overflow */
	ipart = r / scale[9 - prec];
	p = fmt_u64(p, ipart);
	if (!prec)
		return p;
	r -= ipart * scale[9 - prec];
	*p++ = '.';
	for (int i = prec - 1; i >= 0; i--, r /= 10)
		p[i] = '0' + r % 10;
	return p + prec;
}

static void put_seconds(long long ns, int prec)
{
	char buf[32];

	put_n(buf, fmt_seconds(buf, ns, prec) - buf);
}

void print_seconds(enum output_type t, const char *key, const char *fmt, long long ns)
{
	const struct fmt_split *sf;

	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			put_seconds(ns, 3);
		}
	} else if ((t & PRINT_FP) && fmt) {
		if ((sf = split_fmt(fmt)) && sf->conv == 'f' && sf->prec <= 9) {
			put_n(fmt, sf->pre);
			put_seconds(ns, sf->prec);
			put_n(sf->post, sf->post_len);
		} else {
			out_printf(fmt, (double)ns / 1e9);
		}
	}
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *v)
{
	const struct fmt_split *sf;

	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			json_str(v ? v : "");
		}
	} else if ((t & PRINT_FP) && fmt) {
		if ((sf = split_fmt(fmt)) && sf->conv == 's') {
			put_n(fmt, sf->pre);
			put_s(v ? v : "");
			put_n(sf->post, sf->post_len);
		} else {
			out_printf(fmt, v ? v : "");
		}
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt, bool v)
{
	const struct fmt_split *sf;

	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			put_s(v ? "true" : "false");
		}
	} else if ((t & PRINT_FP) && fmt) {
		sf = split_fmt(fmt);
		if (sf && sf->conv == 0)
			put_n(fmt, sf->pre);	/* "  pinned": a literal */
		else
			out_printf(fmt, v ? "yes" : "no");
	}
}

void print_null(const char *key)
{
	if (json_mode) {
		json_key(key);
		put_s("null");
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode)
		return;
	va_start(ap, fmt);
	bulk_drain();
	vprintf(fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (!json_mode)
		put_c('\n');
}

/*
 * Errors under -j: collected while the command runs and printed once, as
 * {"error": "message"} on stdout, so a script reads one document whatever
 * failed (several messages are joined with "; ").
 */
static char err_buf[4096];
static size_t err_len;

void json_error_add(const char *msg)
{
	int n = snprintf(err_buf + err_len, sizeof(err_buf) - err_len, "%s%s",
			 err_len ? "; " : "", msg);

	if (n > 0)
		err_len += (size_t)n < sizeof(err_buf) - err_len ? (size_t)n :
			   sizeof(err_buf) - err_len - 1;
}

bool json_error_flush(void)
{
	if (!err_len)
		return false;
	/* a document the command had begun is abandoned: one error instead */
	depth = 0;
	first[0] = true;
	open_json_object(NULL);
	print_string(PRINT_JSON, "error", NULL, err_buf);
	close_json_object();
	print_flush();
	err_len = 0;
	return true;
}

void print_opt_string(enum output_type t, const char *key, const char *fmt, const char *v,
		      const char *none)
{
	if (v && *v)
		print_string(t, key, fmt, v);
	else if (json_mode && (t & PRINT_JSON))
		print_null(key);
	else
		print_string(t & PRINT_FP, NULL, fmt, none);
}
