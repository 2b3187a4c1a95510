// SPDX-License-Identifier: GPL-2.0
#include "layout.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "lib/util.h"

size_t pmw_pct_of(size_t n, double pct)
{
	return (size_t)floor((double)n * pct / 100.0 + 0.5);
}

static void choose_random(uint64_t seed, size_t n, size_t k, size_t *idx)
{
	uint64_t state = seed;
	size_t j;

	for (j = 0; j < n; j++)
		idx[j] = j;
	for (j = 0; j < k; j++) {
		size_t r = j + (size_t)pmb_rand_below(&state, n - j);
		size_t t = idx[j];

		idx[j] = idx[r];
		idx[r] = t;
	}
}

void pmw_choose(enum pmw_layout l, uint64_t seed, size_t n, size_t k, size_t *idx)
{
	size_t j;

	if (k > n)
		k = n;
	switch (l) {
	case PMW_CONTIGUOUS:
		for (j = 0; j < k; j++)
			idx[j] = j;
		break;
	case PMW_STRIDED:
		for (j = 0; j < k; j++)
			idx[j] = (size_t)((unsigned __int128)j * n / k);
		break;
	case PMW_RANDOM:
		choose_random(seed, n, k, idx);
		break;
	}
}
