/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The content every dirtied page carries, so that a swap slot can be proven to
 * hold the page pagemap says it holds.  A page is a 32-byte header (magic,
 * seed, index, ~index) followed by one 64-bit word, derived from seed and
 * index, repeated: unique per page and run, yet cheap to write and very
 * compressible, so zram stays small.
 */
#ifndef PMB_PATTERN_H
#define PMB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PMB_PATTERN_MAGIC UINT64_C(0x45474150424d5028) /* "(PMBPAGE" */

void pmb_pattern_fill(void *page, size_t page_size, uint64_t seed, uint64_t index);

/*
 * 0 when page holds exactly the pattern of (seed, index).  Otherwise -EBADMSG;
 * *found is then the index its header names (UINT64_MAX if it has no valid header).
 */
int pmb_pattern_check(const void *page, size_t page_size, uint64_t seed,
		      uint64_t index, uint64_t *found);

#endif
