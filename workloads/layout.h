/* SPDX-License-Identifier: GPL-2.0 */
/* Choosing k of n candidates, deterministically from a seed. */
#ifndef PMW_LAYOUT_H
#define PMW_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* In the order of the catalog's pmb_layouts. */
enum pmw_layout {
	PMW_CONTIGUOUS,		/* the first k */
	PMW_STRIDED,		/* candidate floor(j*n/k) for j < k */
	PMW_RANDOM,		/* seeded partial Fisher-Yates (pmb_rand64) */
};

/* round(n * pct / 100), half away from zero. */
size_t pmw_pct_of(size_t n, double pct);

/*
 * Write the k chosen candidate positions (0..n-1, distinct) to idx[0..k-1].
 * idx must hold n entries: the random layout permutes it in place.
 */
void pmw_choose(enum pmw_layout l, uint64_t seed, size_t n, size_t k, size_t *idx);

#endif
