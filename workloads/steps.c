// SPDX-License-Identifier: GPL-2.0
/*
 * The steps that move a region between states: touching the dirty set,
 * choosing and paging out the swapped set, faulting and removing.  Used at
 * set-up and by the FAULT/PAGEOUT/REMOVE commands; nothing here allocates.
 */
#include "pmwork.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/pattern.h"
#include "lib/util.h"

/* MADV_PAGEOUT passes over the chosen pages, at most. */
#define PMW_PAGEOUT_PASSES	4

/* Seed of the random choice of the swapped set, derived from --seed. */
#define PMW_SWAP_SEED_XOR	UINT64_C(0x5357415050454421)

int pmw_ctx_oracle(struct pmw_ctx *x, struct pmw_counts *c)
{
	return pmw_oracle(&x->r, x->o.info->backing, x->flags, x->state, c);
}

size_t pmw_folio_pages(const struct pmw_ctx *x)
{
	if (x->o.info->traits & PMB_K_THP)
		return PMB_PMD_PAGES;
	if (x->o.info->traits & PMB_K_MTHP)
		return PMB_MTHP_PAGES;
	return 1;
}

static void touch_one(struct pmw_ctx *x, size_t i)
{
	char *page = x->r.addr + i * x->r.page_size;

	if (x->o.touch == PMW_TOUCH_READ) {
		(void)*(volatile const char *)page;
		x->flags[i] |= PMW_DIRTY | PMW_HELD | PMW_MAPPED;
		/* Without the zero page a private read fault gets a page of its own. */
		if (x->o.info->backing == PMB_BACKING_ANON && !x->zero_page)
			x->flags[i] |= PMW_OWNED;
		return;
	}
	pmb_pattern_fill(page, x->r.page_size, x->o.seed, i);
	x->flags[i] |= PMW_DIRTY | PMW_HELD | PMW_OWNED | PMW_MAPPED;
}

/* Pages a kind's choices are made in: whole 64 KiB folios for an mTHP kind. */
static size_t choice_unit(const struct pmw_ctx *x)
{
	return (x->o.info->traits & PMB_K_MTHP) ? pmw_folio_pages(x) : 1;
}

/*
 * An mTHP kind dirties whole folios: touching one page allocates (and makes
 * resident) all 16, so a folio is the smallest unit its state can be built in.
 */
void pmw_choose_dirty(struct pmw_ctx *x)
{
	size_t fp = choice_unit(x), n = (x->r.pages + fp - 1) / fp;
	size_t k = pmw_pct_of(n, x->o.dirty_pct), j, i;

	pmw_choose(x->o.layout, x->o.seed, n, k, x->idx);
	for (j = 0; j < k; j++)
		for (i = x->idx[j] * fp; i < (x->idx[j] + 1) * fp && i < x->r.pages; i++)
			x->flags[i] |= PMW_DIRTY;
}

void pmw_touch_pages(struct pmw_ctx *x)
{
	size_t i;

	for (i = 0; i < x->r.pages; i++)
		if (x->flags[i] & PMW_DIRTY)
			touch_one(x, i);
}

/*
 * Mark the chosen subset of the dirty set (in index order) PMW_PLAN.  A kind
 * of 64 KiB folios chooses whole folios (the dirty pages of each): asked for
 * part of a large folio, MADV_PAGEOUT splits it and may swap none of it, and
 * what the kind is for is a folio swapped out whole.
 */
void pmw_plan_pageout(struct pmw_ctx *x)
{
	size_t fp = choice_unit(x), i, j, d = 0, k;

	for (i = 0; i < x->r.pages; i += fp)
		for (j = i; j < i + fp && j < x->r.pages; j++)
			if (x->flags[j] & PMW_DIRTY) {
				x->cand[d++] = i;	/* the unit's first page */
				break;
			}
	k = pmw_pct_of(d, x->o.swapped_pct);
	pmw_choose(x->o.layout, x->o.seed ^ PMW_SWAP_SEED_XOR, d, k, x->idx);
	for (j = 0; j < k; j++)
		for (i = x->cand[x->idx[j]]; i < x->cand[x->idx[j]] + fp && i < x->r.pages; i++)
			if (x->flags[i] & PMW_DIRTY)
				x->flags[i] |= PMW_PLAN;
}

/*
 * One run [start, start+n) of pages to page out.  A disk file's dirty pages
 * are only written back by kswapd or writeback, never by MADV_PAGEOUT: write
 * them back first, and MADV_PAGEOUT then drops the clean pages.
 */
static int pageout_run(struct pmw_ctx *x, size_t start, size_t n)
{
	/*
	 * MADV_PAGEOUT unmaps what it takes, a whole large folio (a THP's PMD)
	 * even when asked for part of it; a page it could not swap may stay in
	 * memory, unmapped.
	 */
	size_t fp = pmw_folio_pages(x), lo = start / fp * fp, hi = (start + n + fp - 1) / fp * fp;

	for (size_t k = lo; k < hi && k < x->r.pages; k++)
		x->flags[k] &= (uint8_t)~PMW_MAPPED;

	char *p = x->r.addr + start * x->r.page_size;
	size_t len = n * x->r.page_size;

	if (x->o.info->backing == PMB_BACKING_FILE && msync(p, len, MS_SYNC) < 0)
		return -errno;
	return madvise(p, len, MADV_PAGEOUT) < 0 ? -errno : 0;
}

/*
 * MADV_PAGEOUT each maximal run of chosen pages; with `only_missed`, only the
 * chosen pages the oracle's last pass (x->state) does not see as paged out.
 */
static int pageout_pass(struct pmw_ctx *x, bool only_missed)
{
	enum pm_state out = x->o.info->backing == PMB_BACKING_FILE ? PMS_NONE : PMS_SWAPPED;
	size_t i = 0, start, n = x->r.pages;
	int err;

#define WANTED(i) ((x->flags[i] & PMW_CHOSEN) && \
		   (!only_missed || x->state[i] != out))
	while (i < n) {
		if (!WANTED(i)) {
			i++;
			continue;
		}
		start = i;
		while (i < n && WANTED(i))
			i++;
		err = pageout_run(x, start, i - start);
		if (err)
			return err;
	}
#undef WANTED
	return 0;
}

/*
 * Stay on one CPU while dirtying and paging out, so that the new pages sit in
 * this CPU's LRU batch, which MADV_PAGEOUT drains.  Best effort.
 */
bool pmw_pin_cpu(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*saved), saved) < 0)
		return false;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) == 0;
}

void pmw_unpin_cpu(bool pinned, const cpu_set_t *saved)
{
	if (pinned && sched_setaffinity(0, sizeof(*saved), saved) < 0)
		pmb_info("restore CPU affinity: %s", strerror(errno));
}

/*
 * Page out the planned set.  A few pages can stay behind (still in the swap
 * cache, or held by another CPU's LRU batch): page those out again, up to
 * PMW_PAGEOUT_PASSES in all.  What remains is reported as pageout_missed.
 */
int pmw_pageout(struct pmw_ctx *x)
{
	cpu_set_t saved;
	bool pinned = pmw_pin_cpu(&saved);
	int err;
	size_t i;

	for (i = 0; i < x->r.pages; i++)
		if (x->flags[i] & PMW_PLAN)
			x->flags[i] |= PMW_CHOSEN;
	err = pageout_pass(x, false);
	for (x->passes = 1; !err && x->passes < PMW_PAGEOUT_PASSES; x->passes++) {
		err = pmw_ctx_oracle(x, &x->c);
		if (err || !x->c.missed)
			break;
		err = pageout_pass(x, true);
	}
	pmw_unpin_cpu(pinned, &saved);
	return err;
}

void pmw_fault(struct pmw_ctx *x)
{
	cpu_set_t saved;
	bool pinned = pmw_pin_cpu(&saved);
	size_t i;

	for (i = 0; i < x->r.pages; i++) {
		if (!(x->flags[i] & PMW_DIRTY))
			continue;
		pmb_pattern_fill(x->r.addr + i * x->r.page_size, x->r.page_size,
				 x->o.seed, i);
		x->flags[i] |= PMW_HELD | PMW_OWNED | PMW_MAPPED;
	}
	pmw_unpin_cpu(pinned, &saved);
}

/* File-backed kinds punch a hole (MADV_REMOVE); private memory is zapped. */
int pmw_remove(struct pmw_ctx *x)
{
	int advice = x->o.info->backing == PMB_BACKING_ANON ? MADV_DONTNEED : MADV_REMOVE;
	size_t i;

	if (madvise(x->r.addr, x->r.len, advice) < 0)
		return -errno;
	for (i = 0; i < x->r.pages; i++)
		x->flags[i] &= (uint8_t)~(PMW_HELD | PMW_OWNED | PMW_MAPPED);
	return 0;
}
