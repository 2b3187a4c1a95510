// SPDX-License-Identifier: GPL-2.0
#include "pattern.h"

#include <errno.h>

static uint64_t fill_word(uint64_t seed, uint64_t index)
{
	uint64_t z = seed ^ (index * UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
	return z ^ (z >> 29);
}

void pmb_pattern_fill(void *page, size_t page_size, uint64_t seed, uint64_t index)
{
	uint64_t *w = page, f = fill_word(seed, index);
	size_t i, n = page_size / sizeof(*w);

	w[0] = PMB_PATTERN_MAGIC;
	w[1] = seed;
	w[2] = index;
	w[3] = ~index;
	for (i = 4; i < n; i++)
		w[i] = f;
}

int pmb_pattern_check(const void *page, size_t page_size, uint64_t seed,
		      uint64_t index, uint64_t *found)
{
	const uint64_t *w = page;
	size_t i, n = page_size / sizeof(*w);
	uint64_t f = fill_word(seed, index);

	if (found)
		*found = UINT64_MAX;
	if (w[0] != PMB_PATTERN_MAGIC || w[1] != seed || w[3] != ~w[2])
		return -EBADMSG;
	if (found)
		*found = w[2];
	if (w[2] != index)
		return -EBADMSG;
	for (i = 4; i < n; i++)
		if (w[i] != f)
			return -EBADMSG;
	return 0;
}
