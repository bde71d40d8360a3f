/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <stdio.h>
#include <stdlib.h>
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

int xt_suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	if (geteuid() != 0)
		fprintf(stderr, "warning: not root, BPF_PROG_TEST_RUN will fail\n");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
