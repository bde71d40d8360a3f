/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <stdio.h>

#include "output.h"

#define MAX_DEPTH 16

static bool json;
static int depth;
static bool need_comma[MAX_DEPTH];

void out_init(bool j)
{
	json = j;
	depth = 0;
	need_comma[0] = false;
}

void out_finish(void)
{
	if (json)
		putchar('\n');
	fflush(stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Comma and key of the next JSON member or element. */
static void json_member(const char *key)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = true;
	if (key) {
		json_string(key);
		putchar(':');
	}
}

static void open_(const char *key, char c)
{
	if (!json)
		return;
	json_member(key);
	putchar(c);
	if (depth < MAX_DEPTH - 1)
		depth++;
	need_comma[depth] = false;
}

static void close_(char c)
{
	if (!json)
		return;
	putchar(c);
	if (depth > 0)
		depth--;
}

void out_obj_open(const char *key) { open_(key, '{'); }
void out_obj_close(void) { close_('}'); }
void out_arr_open(const char *key) { open_(key, '['); }
void out_arr_close(void) { close_(']'); }

void out_text(const char *s)
{
	if (!json)
		fputs(s, stdout);
}

/* A NULL v is JSON null (a missing name) and prints nothing as text. */
void out_str(const char *key, const char *fmt, const char *v)
{
	if (json) {
		json_member(key);
		if (v)
			json_string(v);
		else
			fputs("null", stdout);
	} else if (fmt && v) {
		printf(fmt, v);
	}
}

/* A value that is not known: null in JSON, text through out_text(). */
void out_null(const char *key)
{
	if (json) {
		json_member(key);
		fputs("null", stdout);
	}
}

/* s as a JSON string on its own, for a document main() prints itself. */
void out_json_string(const char *s)
{
	json_string(s);
}

void out_uint(const char *key, const char *fmt, unsigned long long v)
{
	if (json) {
		json_member(key);
		printf("%llu", v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void out_int(const char *key, const char *fmt, long long v)
{
	if (json) {
		json_member(key);
		printf("%lld", v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void out_bool(const char *key, const char *fmt, bool v)
{
	if (json) {
		json_member(key);
		fputs(v ? "true" : "false", stdout);
	} else if (fmt) {
		fputs(fmt, stdout);
	}
}
