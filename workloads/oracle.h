/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The oracle: the true state of every page of the region, from outside
 * pagemap (mincore, SEEK_DATA/SEEK_HOLE on the shmem file, construction).
 */
#ifndef PMW_ORACLE_H
#define PMW_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kind.h"
#include "lib/pagemap.h"

/* Per-page construction flags. */
#define PMW_DIRTY	0x1	/* in the dirty set: touched at construction, FAULT writes it */
#define PMW_CHOSEN	0x2	/* MADV_PAGEOUT was asked for it */
#define PMW_HELD	0x4	/* touched (read or written) and not removed since */
/*
 * Has a page of its own, so a private page can be in swap: written (holds the
 * pattern), or read-faulted where the kernel maps no zero page for reads.
 */
#define PMW_OWNED	0x8
#define PMW_PLAN	0x10	/* the set pageout would choose, whatever --swapout */
#define PMW_MAPPED	0x20	/* touched since it was last paged out or removed: mapped, if resident */

struct pmw_counts {
	size_t state[PMS_TRUTHS];	/* pages per enum pm_state (the truth: unmapped included) */
	size_t contradictions;	/* resident or data, yet never touched */
	size_t missed;		/* chosen and held, not paged out */
	size_t extra;		/* not chosen, paged out */
};

/*
 * Fill state[0..pages-1] (enum pm_state bytes) and the counts.  Allocates
 * nothing.  0 or -errno.
 */
int pmw_oracle(const struct pmw_region *r, enum pmb_backing b, const uint8_t *flags,
	       uint8_t *state, struct pmw_counts *c);

#endif
