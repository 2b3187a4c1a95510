/* SPDX-License-Identifier: GPL-2.0 */
/* The unit tests' one macro: print a line per check, count failures, exit 0 on pass. */
#ifndef PMB_TEST_CHECK_H
#define PMB_TEST_CHECK_H

#include <stdio.h>

static int check_failed, check_run;

#define CHECK(cond, ...) do {						\
	int ok_ = !!(cond);						\
	check_run++;							\
	if (!ok_)							\
		check_failed++;						\
	printf("%s %d - ", ok_ ? "ok" : "not ok", check_run);		\
	printf(__VA_ARGS__);						\
	if (!ok_)							\
		printf("  [%s:%d: %s]", __FILE__, __LINE__, #cond);	\
	putchar('\n');							\
} while (0)

static inline int check_done(void)
{
	printf("# %d checks, %d failed\n", check_run, check_failed);
	return check_failed ? 1 : 0;
}

#endif
