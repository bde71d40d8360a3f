/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Check glue: one datapath instance per suite, loaded once in the parent by
 * an unchecked fixture; every test (run in its own child by Check) starts
 * from xt_reset() and installs the application it needs.
 */
#ifndef XT_SUITE_H
#define XT_SUITE_H

#include <check.h>

#include "golden.h"

extern struct xt T;

/* Unchecked fixtures loading the native / offload object into T. */
void suite_open_native(void);
void suite_open_offload(void);
void suite_close(void);
/* The same with options (call it from a suite's own fixture). */
void suite_open_with(const struct xt_opts *o);

/* At the start of a test: T is loaded and reset, else the test fails. */
#define NEED_T()							\
	do {								\
		ck_assert_msg(T.obj, "datapath object %s did not load",	\
			      xt_obj_path(T.profile));			\
		ck_assert_msg(xt_reset(&T) == 0, "reset failed");	\
	} while (0)

TCase *xt_tcase(Suite *s, const char *name, void (*open)(void));
/* Run every test; prints Check's summary line; returns the exit code. */
int xt_suite_run(Suite *s);

/*
 * $XT_TESTS=name,name,...: run only those tests, in that order, each as
 * often as it is named (within its test case, the cases in their order),
 * so that a test's dependence on what ran before it can be shown:
 * XT_TESTS=test_refuse,test_walk_synflood.  A name no suite's test has
 * fails the run.  Unset: every test as added.  tcase_add_test() and
 * tcase_add_loop_test() (every iteration) go through xt_tcase_add_test()
 * to record them.
 */
void xt_tcase_add_test(TCase *tc, const TTest *t, int start, int end);
#undef tcase_add_test
#define tcase_add_test(tc, tf) xt_tcase_add_test(tc, tf, 0, 1)
#undef tcase_add_loop_test
#define tcase_add_loop_test(tc, tf, s, e) xt_tcase_add_test(tc, tf, s, e)

#endif /* XT_SUITE_H */
