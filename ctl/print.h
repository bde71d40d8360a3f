/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * One printing path for text and JSON, after iproute2's print_*(PRINT_ANY,
 * key, fmt, value): the key is used in JSON (-j), the format in text; a
 * NULL format prints nothing in text mode.  Objects and arrays exist only in
 * JSON; print_nl() and print_text() only in text.
 */
#ifndef XFSMCTL_PRINT_H
#define XFSMCTL_PRINT_H

#include <stdbool.h>

enum output_type {
	PRINT_FP = 1,
	PRINT_JSON = 2,
	PRINT_ANY = PRINT_FP | PRINT_JSON,
};

void print_init(bool json, bool pretty);
bool is_json(void);
void print_flush(void);	/* end of one JSON document (newline) */
/* Listings: with on, output collects in large blocks until print_bulk(false)
 * or print_flush(); nothing but print_* may write to stdout meanwhile. */
void print_bulk(bool on);
/* A text line written by hand, for listings where print_* per value costs
 * most of the time: room for max bytes (at most PRINT_LINE_MAX) at the
 * pointer returned; print_line_end() with the end of what was written. */
#define PRINT_LINE_MAX	8192
char *print_line_begin(size_t max);
void print_line_end(char *end);
/* Decimal digits of v, and seconds from nanoseconds with prec (0..9)
 * decimals rounded half up (print_seconds' text): written at p, the end
 * returned.  Room: 20 and 32 bytes. */
char *fmt_u64(char *p, unsigned long long v);
char *fmt_seconds(char *p, long long ns, int prec);
/* The n chars at s escaped for a JSON string, and the same in quotes:
 * written at p, the end returned.  Room: 6 * n (+ 2) bytes. */
char *fmt_json_chars(char *p, const char *s, size_t n);
char *fmt_json_str(char *p, const char *s, size_t n);
bool is_pretty(void);	/* -j -p */
/* A JSON value written by hand, compact (no space outside strings), as
 * member key (NULL: an element) of the object or array open, under -j
 * only (is_json()): room for max bytes (at most PRINT_LINE_MAX) at the
 * pointer returned, then print_json_end() with the end of what was
 * written.  Under -p the value comes out indented as print_* would have
 * written it. */
char *print_json_begin(const char *key, size_t max);
void print_json_end(char *end);

void open_json_object(const char *key);
void close_json_object(void);
void open_json_array(const char *key);
void close_json_array(void);

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned long long v);
void print_int(enum output_type t, const char *key, const char *fmt, long long v);
void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *v);
void print_bool(enum output_type t, const char *key, const char *fmt, bool v);
void print_float(enum output_type t, const char *key, const char *fmt, double v);
/* A time in seconds from nanoseconds: "%.Nf" formats (JSON: 3 decimals),
 * the last digit rounded half up from the exact value. */
void print_seconds(enum output_type t, const char *key, const char *fmt, long long ns);
void print_null(const char *key);
/* A name that may be missing: JSON null, text `none` in its place. */
void print_opt_string(enum output_type t, const char *key, const char *fmt, const char *v,
		      const char *none);
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);
/* Errors under -j: add a message; flush prints {"error": ...} once
 * (false when there was none). */
void json_error_add(const char *msg);
bool json_error_flush(void);

#endif
