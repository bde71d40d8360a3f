/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Assertions in the style of the kernel's bpf selftests: each returns a
 * bool, prints what differed and records the failure, so a test reads
 * `if (!ASSERT_OK(err, "apply")) goto out;`.  XT_END() turns recorded
 * failures into a Check failure at the end of a test.
 */
#ifndef XT_ASSERT_H
#define XT_ASSERT_H

#include <stdbool.h>
#include <stdint.h>

extern int xt_failures;
/* Printed before each failure: the scenario and step under test. */
extern char xt_context[256];

bool xt_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void xt_set_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ASSERT_TRUE(cond, name)						\
	xt_check(!!(cond), __FILE__, __LINE__, "%s: unexpected false (%s)", \
		 (name), #cond)

#define ASSERT_FALSE(cond, name)					\
	xt_check(!(cond), __FILE__, __LINE__, "%s: unexpected true (%s)", \
		 (name), #cond)

#define ASSERT_EQ(actual, expected, name) ({				\
	unsigned long long ___a = (unsigned long long)(actual);		\
	unsigned long long ___e = (unsigned long long)(expected);	\
	xt_check(___a == ___e, __FILE__, __LINE__,			\
		 "%s: %s = %llu (0x%llx), expected %llu (0x%llx)",	\
		 (name), #actual, ___a, ___a, ___e, ___e);		\
})

#define ASSERT_NEQ(actual, unexpected, name) ({				\
	unsigned long long ___a = (unsigned long long)(actual);		\
	unsigned long long ___e = (unsigned long long)(unexpected);	\
	xt_check(___a != ___e, __FILE__, __LINE__,			\
		 "%s: %s = %llu, expected anything else",		\
		 (name), #actual, ___a);				\
})

#define ASSERT_GE(actual, bound, name) ({				\
	unsigned long long ___a = (unsigned long long)(actual);		\
	unsigned long long ___b = (unsigned long long)(bound);		\
	xt_check(___a >= ___b, __FILE__, __LINE__,			\
		 "%s: %s = %llu, expected >= %llu", (name), #actual, ___a, ___b); \
})

#define ASSERT_LE(actual, bound, name) ({				\
	unsigned long long ___a = (unsigned long long)(actual);		\
	unsigned long long ___b = (unsigned long long)(bound);		\
	xt_check(___a <= ___b, __FILE__, __LINE__,			\
		 "%s: %s = %llu, expected <= %llu", (name), #actual, ___a, ___b); \
})

#define ASSERT_OK(err, name) ({						\
	long long ___err = (long long)(err);				\
	xt_check(___err == 0, __FILE__, __LINE__,			\
		 "%s: unexpected error %lld (%s)", (name), ___err,	\
		 ___err < 0 ? xt_strerror(-___err) : "positive");	\
})

#define ASSERT_ERR(err, name) ({					\
	long long ___err = (long long)(err);				\
	xt_check(___err < 0, __FILE__, __LINE__,			\
		 "%s: unexpected success (%lld)", (name), ___err);	\
})

const char *xt_strerror(long long err);

/* In a Check test: fail the test if any assertion failed. */
#define XT_END()							\
	ck_assert_msg(xt_failures == 0, "%d assertion(s) failed (see stderr)", \
		      xt_failures)

#endif /* XT_ASSERT_H */
