// SPDX-License-Identifier: GPL-2.0
/* lib/pattern.h: a filled page checks, any change to it is caught. */
#include "lib/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PG 4096

static void test_fill_check(unsigned char *a, unsigned char *b)
{
	uint64_t found = 0;
	uint64_t w[4];

	pmb_pattern_fill(a, PG, 7, 123);
	memcpy(w, a, sizeof(w));
	CHECK(w[0] == PMB_PATTERN_MAGIC && w[1] == 7 && w[2] == 123 && w[3] == ~UINT64_C(123),
	      "header: magic, seed, index, ~index");
	CHECK(pmb_pattern_check(a, PG, 7, 123, &found) == 0 && found == 123, "own page checks");
	CHECK(pmb_pattern_check(a, PG, 7, 123, NULL) == 0, "found may be NULL");
	CHECK(pmb_pattern_check(a, PG, 7, 124, &found) == -EBADMSG && found == 123,
	      "wrong index: -EBADMSG, found names the real one");
	CHECK(pmb_pattern_check(a, PG, 8, 123, &found) == -EBADMSG && found == UINT64_MAX,
	      "wrong seed: no valid header");
	pmb_pattern_fill(b, PG, 7, 124);
	CHECK(memcmp(a + 32, b + 32, PG - 32) != 0, "body differs between pages");
	pmb_pattern_fill(b, PG, 8, 123);
	CHECK(memcmp(a + 32, b + 32, PG - 32) != 0, "body differs between seeds");
	pmb_pattern_fill(b, PG, 7, 123);
	CHECK(memcmp(a, b, PG) == 0, "fill is deterministic");
}

static void test_corruption(unsigned char *a)
{
	static const size_t at[] = { 0, 8, 16, 24, 32, 100, PG / 2, PG - 1 };
	size_t i;
	int caught = 0;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		pmb_pattern_fill(a, PG, 1, 99);
		a[at[i]] ^= 0x10;
		caught += pmb_pattern_check(a, PG, 1, 99, NULL) == -EBADMSG;
	}
	CHECK(caught == (int)(sizeof(at) / sizeof(at[0])), "a flipped bit anywhere is caught (%d)",
	      caught);
	memset(a, 0, PG);
	CHECK(pmb_pattern_check(a, PG, 0, 0, NULL) == -EBADMSG, "a zero page never checks");
	pmb_pattern_fill(a, PG, 0, 0);
	CHECK(pmb_pattern_check(a, PG, 0, 0, NULL) == 0, "seed 0, index 0 still checks");
}

int main(void)
{
	unsigned char *a = malloc(PG), *b = malloc(PG);

	if (!a || !b)
		return 1;
	test_fill_check(a, b);
	test_corruption(a);
	free(a);
	free(b);
	return check_done();
}
