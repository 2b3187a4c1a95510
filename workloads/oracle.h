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
#include "pagemap.h"

/* Per-page construction flags. */
#define PMW_DIRTY	0x1	/* the workload wrote the pattern into it */
#define PMW_CHOSEN	0x2	/* MADV_PAGEOUT was asked for it */

struct pmw_counts {
	size_t state[PMS_NR];	/* pages per enum pm_state */
	size_t contradictions;	/* resident or data, yet never dirtied */
	size_t missed;		/* chosen, not swapped */
	size_t extra;		/* not chosen, swapped */
};

/*
 * Fill state[0..pages-1] (enum pm_state bytes) and the counts.  Allocates
 * nothing.  0 or -errno.
 */
int pmw_oracle(const struct pmw_region *r, bool shmem, const uint8_t *flags,
	       uint8_t *state, struct pmw_counts *c);

#endif
