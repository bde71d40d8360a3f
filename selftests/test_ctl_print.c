/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl's output helpers (ctl/print.c), built into this suite: the
 * number and seconds formatters that text listings write by hand, at
 * their edges, hand-written lines keeping their place among print_*
 * output whether or not bulk mode collects it, JSON strings escaped, and
 * JSON values written by hand coming out as print_* would write them,
 * compact and indented (-p).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"
#include "../ctl/print.c"

static void check_text(char *buf, char *end, const char *want, const char *what)
{
	*end = '\0';
	ASSERT_TRUE(!strcmp(buf, want), what);
	if (strcmp(buf, want))
		fprintf(stderr, "%s: '%s', want '%s'\n", what, buf, want);
}

START_TEST(test_fmt_u64)
{
	char buf[32];

	check_text(buf, fmt_u64(buf, 0), "0", "0");
	check_text(buf, fmt_u64(buf, 9), "9", "9");
	check_text(buf, fmt_u64(buf, 10), "10", "10");
	check_text(buf, fmt_u64(buf, 4294967296ULL), "4294967296", "2^32");
	check_text(buf, fmt_u64(buf, ULLONG_MAX), "18446744073709551615", "max u64");
	XT_END();
}
END_TEST

START_TEST(test_fmt_seconds)
{
	static const struct {
		long long ns;
		int prec;
		const char *want;
	} t[] = {
		{ 0, 1, "0.0" },
		{ 49999999, 1, "0.0" },			/* under half a tenth */
		{ 50000000, 1, "0.1" },			/* half: up */
		{ 999950000, 1, "1.0" },		/* carries into the seconds */
		{ 12345678901LL, 1, "12.3" },
		{ 1234567890, 3, "1.235" },
		{ 1500000000, 0, "2" },
		{ 1, 9, "0.000000001" },
		{ -1, 1, "-0.0" },			/* a sign, the magnitude rounded */
		{ -150000000, 1, "-0.2" },
		{ -12345678901LL, 3, "-12.346" },
		{ LLONG_MAX, 1, "9223372036.9" },	/* no overflow at the ends */
		{ LLONG_MAX, 9, "9223372036.854775807" },
		{ LLONG_MIN, 3, "-9223372036.855" },
	};
	char buf[32], what[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(what, sizeof(what), "%lld ns, %d decimals", t[i].ns, t[i].prec);
		check_text(buf, fmt_seconds(buf, t[i].ns, t[i].prec), t[i].want, what);
	}
	XT_END();
}
END_TEST

/* Everything printed to stdout by fn, read back. */
static char *captured(void (*fn)(void), bool json, bool pretty, size_t *len)
{
	FILE *f = tmpfile();
	int saved = dup(1);
	char *out = NULL;
	long n;

	if (!f || saved < 0)
		return NULL;
	fflush(stdout);
	dup2(fileno(f), 1);
	print_init(json, pretty);
	fn();
	print_flush();
	dup2(saved, 1);
	close(saved);
	n = ftell(f);
	if (n >= 0 && (out = calloc(1, (size_t)n + 1))) {
		rewind(f);
		*len = fread(out, 1, (size_t)n, f);
	}
	fclose(f);
	return out;
}

static void line(const char *text)
{
	char *p = print_line_begin(PRINT_LINE_MAX);

	memcpy(p, text, strlen(text));
	print_line_end(p + strlen(text));
}

static void lines_plain(void)
{
	print_string(PRINT_FP, NULL, "a%s", "b");
	line("<line 1>");
	print_uint(PRINT_FP, NULL, " %u\n", 7);
	line("<line 2>\n");
}

/* A block nearly full when a line begins: the block is written out
 * first, nothing lost or reordered. */
static void lines_bulk(void)
{
	char piece[1000];

	memset(piece, '.', sizeof(piece) - 1);
	piece[sizeof(piece) - 1] = '\0';
	print_bulk(true);
	for (int i = 0; i < 64; i++) {
		print_string(PRINT_FP, NULL, "%s", piece);
		line(i & 1 ? "|\n" : "-");
	}
	print_bulk(false);
	print_string(PRINT_FP, NULL, "%s", "end\n");
}

START_TEST(test_line_order)
{
	size_t len = 0;
	char *out = captured(lines_plain, false, false, &len), *want;

	ASSERT_TRUE(out && !strcmp(out, "ab<line 1> 7\n<line 2>\n"), "plain: in order");
	free(out);
	out = captured(lines_bulk, false, false, &len);
	want = calloc(1, 64 * 1001 + 8);
	if (ASSERT_TRUE(out && want, "captured")) {
		char *p = want;

		for (int i = 0; i < 64; i++) {
			memset(p, '.', 999);
			p += 999;
			p += sprintf(p, "%s", i & 1 ? "|\n" : "-");
		}
		strcpy(p, "end\n");
		ASSERT_EQ(len, strlen(want), "bulk: every byte");
		ASSERT_TRUE(!strcmp(out, want), "bulk: in order");
	}
	free(out);
	free(want);
	XT_END();
}
END_TEST

static void json_strings(void)
{
	char long_text[3001];

	open_json_object(NULL);
	print_string(PRINT_JSON, "k\"ey", NULL, "a\"b\\c\nd\te\001f\037g\x7f\xc3\xa9");
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	long_text[1364] = '"';	/* on both sides of the escaper's chunks */
	long_text[1365] = '\n';
	print_bulk(true);
	print_string(PRINT_JSON, "long", NULL, long_text);
	print_bulk(false);
	print_string(PRINT_JSON, "empty", NULL, "");
	close_json_object();
}

/* Strings escaped as JSON wants them, however long, in and out of bulk mode. */
START_TEST(test_json_strings)
{
	size_t len = 0;
	char *out = captured(json_strings, true, false, &len), *want = malloc(4000), *p = want;

	if (ASSERT_TRUE(out && want, "captured")) {
		p += sprintf(p, "{\"k\\\"ey\":\"a\\\"b\\\\c\\nd\\te\\u0001f\\u001fg\x7f\xc3\xa9\",\"long\":\"");
		memset(p, 'x', 1364);
		p += 1364;
		p += sprintf(p, "\\\"\\n");
		memset(p, 'x', 3000 - 1366);
		p += 3000 - 1366;
		sprintf(p, "\",\"empty\":\"\"}\n");
		ASSERT_TRUE(!strcmp(out, want), "escaped");
		if (strcmp(out, want))
			fprintf(stderr, "got  %.120s\nwant %.120s\n", out, want);
	}
	free(out);
	free(want);
	XT_END();
}
END_TEST

/* The same document built by print_* alone and with values by hand:
 * strings holding the characters that delimit JSON, escapes, empty
 * objects and arrays, arrays of arrays, members and elements. */
static const char tricky[] = "a{b}[c],d:e\"f\\";

static void doc_print(void)
{
	open_json_object(NULL);
	print_string(PRINT_JSON, "s", NULL, tricky);
	open_json_object("key");
	print_string(PRINT_JSON, "ip.src", NULL, "198.18.0.1");
	print_uint(PRINT_JSON, "x,y:{}\"", NULL, 17);
	close_json_object();
	open_json_array("flows");
	open_json_object(NULL);
	open_json_array("regs");
	print_uint(PRINT_JSON, NULL, NULL, 0);
	print_uint(PRINT_JSON, NULL, NULL, ULLONG_MAX);
	close_json_array();
	open_json_object("empty");
	close_json_object();
	open_json_array("none");
	close_json_array();
	print_bool(PRINT_JSON, "t", NULL, true);
	print_string(PRINT_JSON, tricky, NULL, tricky);
	print_seconds(PRINT_JSON, "age_s", NULL, 674000000);
	close_json_object();
	open_json_object(NULL);
	open_json_array("nested");
	open_json_array(NULL);
	print_uint(PRINT_JSON, NULL, NULL, 1);
	print_uint(PRINT_JSON, NULL, NULL, 2);
	close_json_array();
	open_json_array(NULL);
	open_json_object(NULL);
	print_null("a");
	close_json_object();
	close_json_array();
	close_json_array();
	close_json_object();
	close_json_array();
	print_uint(PRINT_JSON, "n", NULL, 5);
	close_json_object();
}

static void by_hand(const char *key, const char *text)
{
	char *p = print_json_begin(key, strlen(text));

	memcpy(p, text, strlen(text));
	print_json_end(p + strlen(text));
}

static void doc_hand(void)
{
	open_json_object(NULL);
	print_string(PRINT_JSON, "s", NULL, tricky);
	by_hand("key", "{\"ip.src\":\"198.18.0.1\",\"x,y:{}\\\"\":17}");
	open_json_array("flows");
	by_hand(NULL, "{\"regs\":[0,18446744073709551615],\"empty\":{},\"none\":[],\"t\":true,"
		      "\"a{b}[c],d:e\\\"f\\\\\":\"a{b}[c],d:e\\\"f\\\\\",\"age_s\":0.674}");
	by_hand(NULL, "{\"nested\":[[1,2],[{\"a\":null}]]}");
	close_json_array();
	by_hand("n", "5");
	close_json_object();
}

START_TEST(test_json_by_hand)
{
	for (int pretty = 0; pretty <= 1; pretty++) {
		size_t la = 0, lb = 0;
		char *a = captured(doc_print, true, pretty, &la);
		char *b = captured(doc_hand, true, pretty, &lb);

		if (ASSERT_TRUE(a && b, "captured")) {
			ASSERT_TRUE(la == lb && !memcmp(a, b, la),
				    pretty ? "-p: indented as print_* indents" : "compact: the same bytes");
			if (la != lb || memcmp(a, b, la))
				fprintf(stderr, "print_*:\n%s\nby hand:\n%s\n", a, b);
		}
		free(a);
		free(b);
	}
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctl_print");
	TCase *tc = tcase_create("print");

	tcase_add_test(tc, test_fmt_u64);
	tcase_add_test(tc, test_fmt_seconds);
	tcase_add_test(tc, test_line_order);
	tcase_add_test(tc, test_json_strings);
	tcase_add_test(tc, test_json_by_hand);
	suite_add_tcase(s, tc);
	return xt_suite_run(s);
}
