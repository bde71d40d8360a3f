/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"

struct xt T;

void suite_open_with(const struct xt_opts *o)
{
	if (T.obj)
		return;
	if (xt_open(&T, o)) {
		T.obj = NULL;
		T.profile = o->profile;
	}
}

static void suite_open(enum xt_profile profile)
{
	struct xt_opts o = { .profile = profile };

	suite_open_with(&o);
}

void suite_open_native(void)
{
	suite_open(XT_NATIVE);
}

void suite_open_offload(void)
{
	suite_open(XT_OFFLOAD);
}

void suite_close(void)
{
	if (T.obj)
		xt_close(&T);
}

TCase *xt_tcase(Suite *s, const char *name, void (*open)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, open, suite_close);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return tc;
}

/* The tests added while $XT_TESTS selects: added at xt_suite_run(). */
#define XT_MAX_TESTS	256
static struct {
	TCase		*tc;
	const TTest	*t;
	int		start, end;
} added[XT_MAX_TESTS];
static unsigned int n_added;

void xt_tcase_add_test(TCase *tc, const TTest *t, int start, int end)
{
	if (!getenv("XT_TESTS")) {
		_tcase_add_test(tc, t, 0, 0, start, end);
		return;
	}
	if (n_added == XT_MAX_TESTS) {
		fprintf(stderr, "XT_TESTS: more than %d tests in this suite\n", XT_MAX_TESTS);
		exit(EXIT_FAILURE);
	}
	added[n_added].tc = tc;
	added[n_added].t = t;
	added[n_added].start = start;
	added[n_added++].end = end;
}

/* Add the tests $XT_TESTS names, in its order; false on a name no test has. */
static bool add_selected(void)
{
	const char *sel = getenv("XT_TESTS");
	char *list, *name, *save = NULL;
	bool ok = true;
	unsigned int i;

	if (!sel)
		return true;
	list = strdup(sel);
	if (!list)
		return false;
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n_added && strcmp(added[i].t->name, name); i++)
			;
		if (i == n_added) {
			fprintf(stderr, "XT_TESTS: this suite has no test %s\n", name);
			ok = false;
			continue;
		}
		_tcase_add_test(added[i].tc, added[i].t, 0, 0, added[i].start, added[i].end);
	}
	free(list);
	return ok;
}

int xt_suite_run(Suite *s)
{
	SRunner *sr;
	int failed;

	if (!add_selected())
		return EXIT_FAILURE;
	sr = srunner_create(s);

	if (geteuid() != 0)
		fprintf(stderr, "warning: not root, BPF_PROG_TEST_RUN will fail\n");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
