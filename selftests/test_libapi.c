/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The versioning contract of libxfsm's options structures (XFSM_OPTS() in
 * libxfsm.h, docs/libxfsm.md): the library reads only the fields within
 * sz, refuses an option it does not know, and a field left out is the
 * default.  Programs built against older and newer headers are imitated by
 * setting sz by hand.
 */
#include <errno.h>
#include <string.h>

#include "suite.h"

/* An options structure from a newer header: one more field. */
struct apply_opts_next {
	struct xfsm_apply_opts	o;
	__u64			future;
};

static int apply_empty(const struct xfsm_apply_opts *opts)
{
	struct xfsm_image img;
	int err;

	app_init(&img, 1, XFSM_VERDICT_PASS);
	err = xfsm_apply(T.inst, &img, opts);
	xfsm_image_free(&img);
	return err;
}

static __u32 generation(void)
{
	struct xfsm_ctl ctl = {};

	xfsm_ctl_get(T.inst, &ctl);
	return ctl.generation;
}

/* XFSM_OPTS() sets sz and zeroes every other byte, padding included. */
START_TEST(test_opts_macro)
{
	size_t end = offsetof(struct xfsm_apply_opts, reset_globals) + sizeof(bool);
	unsigned char tail[sizeof(struct xfsm_apply_opts)] = { 0 };
	XFSM_OPTS(xfsm_apply_opts, o, .reset_globals = true);

	ASSERT_EQ(o.sz, sizeof(struct xfsm_apply_opts), "sz");
	ASSERT_EQ(o.flush_flows, false, "a field left out is zero");
	ASSERT_EQ(o.reset_globals, true, "a field given");
	ASSERT_EQ(memcmp((unsigned char *)&o + end, tail, sizeof(o) - end), 0,
		  "padding after the last field is zero");
	XT_END();
}
END_TEST

/* A caller that knows only the fields before reset_globals gets its
 * default (keep the registers), whatever lies beyond its sz. */
START_TEST(test_opts_older_caller)
{
	XFSM_OPTS(xfsm_apply_opts, o, .reset_globals = true);
	__u64 v = 0;

	NEED_T();
	if (!ASSERT_OK(xfsm_global_set(T.inst, 3, 77), "global set"))
		goto out;
	o.sz = offsetof(struct xfsm_apply_opts, reset_globals);
	if (!ASSERT_OK(apply_empty(&o), "apply, older sz"))
		goto out;
	ASSERT_OK(xfsm_global_get(T.inst, 3, &v), "global get");
	ASSERT_EQ(v, 77, "reset_globals beyond sz is not read");

	o.sz = sizeof(o);
	if (!ASSERT_OK(apply_empty(&o), "apply, full sz"))
		goto out;
	ASSERT_OK(xfsm_global_get(T.inst, 3, &v), "global get");
	ASSERT_EQ(v, 0, "reset_globals within sz is read");
out:
	XT_END();
}
END_TEST

/* A newer caller: an unknown field set is refused before anything
 * changes; left zero, it is accepted. */
START_TEST(test_opts_newer_caller)
{
	struct apply_opts_next n;
	__u32 gen;

	NEED_T();
	memset(&n, 0, sizeof(n));
	n.o.sz = sizeof(n);
	n.future = 1;
	gen = generation();
	ASSERT_EQ(apply_empty(&n.o), -EINVAL, "unknown option refused");
	ASSERT_EQ(generation(), gen, "nothing applied");
	n.future = 0;
	ASSERT_OK(apply_empty(&n.o), "unknown field left zero");
	ASSERT_EQ(generation(), gen + 1, "applied");
	XT_END();
}
END_TEST

/* sz 0 (a structure not declared with XFSM_OPTS) is refused; NULL is the
 * defaults. */
START_TEST(test_opts_bad_size)
{
	struct xfsm_apply_opts o;
	__u32 gen;

	NEED_T();
	memset(&o, 0, sizeof(o));
	gen = generation();
	ASSERT_EQ(apply_empty(&o), -EINVAL, "sz 0 refused");
	ASSERT_EQ(generation(), gen, "nothing applied");
	ASSERT_OK(apply_empty(NULL), "NULL options");
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libapi");
	TCase *tc = xt_tcase(s, "opts", suite_open_native);

	xfsm_set_log(NULL);
	tcase_add_test(tc, test_opts_macro);
	tcase_add_test(tc, test_opts_older_caller);
	tcase_add_test(tc, test_opts_newer_caller);
	tcase_add_test(tc, test_opts_bad_size);
	return xt_suite_run(s);
}
