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
