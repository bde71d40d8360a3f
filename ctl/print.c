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
	json_mode = json;
	pretty_mode = pretty;
	depth = 0;
	first[0] = true;
}

bool is_json(void)
{
	return json_mode;
}

static void indent(void)
{
	if (!pretty_mode)
		return;
	putchar('\n');
	for (int i = 0; i < depth; i++)
		fputs("  ", stdout);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Separator and key of the next JSON value. */
static void json_key(const char *key)
{
	if (!first[depth])
		putchar(',');
	first[depth] = false;
	if (depth > 0)
		indent();
	if (key) {
		json_str(key);
		putchar(':');
		if (pretty_mode)
			putchar(' ');
	}
}

static void json_open(const char *key, char c)
{
	if (!json_mode)
		return;
	json_key(key);
	putchar(c);
	if (depth < MAX_DEPTH - 1)
		depth++;
	first[depth] = true;
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
	putchar(c);
	if (depth == 0) {
		first[0] = true;
	}
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
		putchar('\n');
	fflush(stdout);
}

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned long long v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			printf("%llu", v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, v);
	}
}

void print_int(enum output_type t, const char *key, const char *fmt, long long v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			printf("%lld", v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, v);
	}
}

void print_float(enum output_type t, const char *key, const char *fmt, double v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			printf("%.3f", v);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, v);
	}
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			json_str(v ? v : "");
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, v ? v : "");
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt, bool v)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			json_key(key);
			fputs(v ? "true" : "false", stdout);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, v ? "yes" : "no");
	}
}

void print_null(const char *key)
{
	if (json_mode) {
		json_key(key);
		fputs("null", stdout);
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (!json_mode)
		putchar('\n');
}
