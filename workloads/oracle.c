// SPDX-License-Identifier: GPL-2.0
/*
 * Rules:  shmem:   resident ? present : (data in the file ? swapped : none)
 *         resident pages paged out since they were last touched: unmapped
 *         (pagemap's "present" means mapped, and MADV_PAGEOUT unmaps what it
 *         takes, swapped or not: a THP of shmem on 6.12 stays in memory)
 *         private: resident ? present : (a page of its own ? swapped : none)
 *         file:    resident ? present : none
 * A swapped-out shmem page stays in the file's page cache as a swap entry,
 * which SEEK_DATA counts as data.  A disk file's written-back page is data
 * too, but in the file, not in swap: such pages are never swapped.
 */
#include "oracle.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int mark_resident(const struct pmw_region *r, uint8_t *state)
{
	size_t i;

	if (mincore(r->addr, r->len, state) < 0)
		return -errno;
	for (i = 0; i < r->pages; i++)
		state[i] = (state[i] & 1) ? PMS_PRESENT : PMS_NONE;
	return 0;
}

/* Pages of the data range [from, to) that are not resident are in swap. */
static void mark_data(const struct pmw_region *r, off_t from, off_t to,
		      const uint8_t *flags, uint8_t *state, struct pmw_counts *c)
{
	size_t i = (size_t)from / r->page_size;
	size_t end = ((size_t)to + r->page_size - 1) / r->page_size;

	if (end > r->pages)
		end = r->pages;
	for (; i < end; i++) {
		if (state[i] != PMS_NONE)
			continue;	/* resident: judged by the caller */
		state[i] = PMS_SWAPPED;
		if (!(flags[i] & PMW_HELD))
			c->contradictions++;
	}
}

static int walk_data(const struct pmw_region *r, const uint8_t *flags,
		     uint8_t *state, struct pmw_counts *c)
{
	off_t off = 0, data, hole;

	while ((size_t)off < r->len) {
		data = lseek(r->fd, off, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		hole = lseek(r->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (hole <= data)
			return -EIO;
		mark_data(r, data, hole, flags, state, c);
		off = hole;
	}
	return 0;
}

/* What "paged out" means for this backing: swapped, or (file) dropped. */
static bool paged_out(enum pmb_backing b, uint8_t flags, uint8_t state)
{
	if (b == PMB_BACKING_FILE)
		return state == PMS_NONE && (flags & PMW_HELD);
	return state == PMS_SWAPPED;
}

static void tally(const struct pmw_region *r, enum pmb_backing b, const uint8_t *flags,
		  uint8_t *state, struct pmw_counts *c)
{
	size_t i;

	for (i = 0; i < r->pages; i++) {
		bool held = flags[i] & PMW_HELD;
		bool chosen = flags[i] & PMW_CHOSEN;
		bool out;

		if (b == PMB_BACKING_ANON && state[i] == PMS_NONE && (flags[i] & PMW_OWNED))
			state[i] = PMS_SWAPPED;
		/* In memory, but paged out since it was last touched: perhaps no longer mapped. */
		if (state[i] == PMS_PRESENT && held && !(flags[i] & PMW_MAPPED))
			state[i] = PMS_UNMAPPED;
		out = paged_out(b, flags[i], state[i]);
		if ((state[i] == PMS_PRESENT || state[i] == PMS_UNMAPPED) && !held)
			c->contradictions++;
		if (chosen && held && !out)
			c->missed++;
		if (!chosen && out)
			c->extra++;
		c->state[state[i]]++;
	}
}

int pmw_oracle(const struct pmw_region *r, enum pmb_backing b, const uint8_t *flags,
	       uint8_t *state, struct pmw_counts *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	err = mark_resident(r, state);
	if (err)
		return err;
	if (b == PMB_BACKING_SHMEM) {
		err = walk_data(r, flags, state, c);
		if (err)
			return err;
	}
	tally(r, b, flags, state, c);
	return 0;
}
