/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The /proc/PID/pagemap ABI, defined once for the whole project.
 *
 * Nothing outside this header masks or shifts a pagemap entry: use the
 * accessors below.  Names follow fs/proc/task_mmu.c and
 * Documentation/admin-guide/mm/pagemap.rst.
 */
#ifndef PMB_PAGEMAP_H
#define PMB_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#define PM_ENTRY_BYTES		8
#define PM_PFRAME_BITS		55
#define PM_PFRAME_MASK		((UINT64_C(1) << PM_PFRAME_BITS) - 1)
#define PM_SOFT_DIRTY		(UINT64_C(1) << 55)
#define PM_MMAP_EXCLUSIVE	(UINT64_C(1) << 56)
#define PM_UFFD_WP		(UINT64_C(1) << 57)
#define PM_GUARD_REGION		(UINT64_C(1) << 58)
#define PM_FILE			(UINT64_C(1) << 61)
#define PM_SWAP			(UINT64_C(1) << 62)
#define PM_PRESENT		(UINT64_C(1) << 63)

/* Swap entries: bits 0-4 type, bits 5-54 offset (MAX_SWAPFILES_SHIFT). */
#define PM_SWAP_TYPE_BITS	5
#define PM_SWAP_TYPE_MASK	((UINT64_C(1) << PM_SWAP_TYPE_BITS) - 1)

/* What a page really is, and what pagemap says it is. */
enum pm_state {
	PMS_NONE = 0,		/* never touched, or nothing reported */
	PMS_PRESENT = 1,	/* resident and mapped by this process */
	PMS_SWAPPED = 2,	/* in swap */
	PMS_NR = 3,		/* the states pagemap can report */
	/*
	 * The truth only: resident (in the page cache, or the swap cache) but
	 * perhaps no longer mapped by this process, after a pageout that
	 * unmapped it and did not swap it.  "Present" in pagemap means mapped,
	 * so a correct pagemap may say present (still mapped) or what an
	 * unmapped page of its backing reads as: none for shmem and files, a
	 * swap entry for private memory.
	 */
	PMS_UNMAPPED = 3,
	PMS_TRUTHS = 4,
};

static inline const char *pm_state_name(enum pm_state s)
{
	switch (s) {
	case PMS_NONE: return "none";
	case PMS_PRESENT: return "present";
	case PMS_SWAPPED: return "swapped";
	case PMS_UNMAPPED: return "unmapped";
	default: return "?";
	}
}

static inline bool pm_present(uint64_t e) { return e & PM_PRESENT; }
static inline bool pm_swapped(uint64_t e) { return e & PM_SWAP; }
static inline bool pm_file(uint64_t e) { return e & PM_FILE; }
static inline bool pm_soft_dirty(uint64_t e) { return e & PM_SOFT_DIRTY; }
static inline bool pm_exclusive(uint64_t e) { return e & PM_MMAP_EXCLUSIVE; }
static inline bool pm_uffd_wp(uint64_t e) { return e & PM_UFFD_WP; }
static inline bool pm_guard(uint64_t e) { return e & PM_GUARD_REGION; }
static inline uint64_t pm_pfn(uint64_t e) { return e & PM_PFRAME_MASK; }
static inline unsigned pm_swap_type(uint64_t e)
{
	return (unsigned)(e & PM_SWAP_TYPE_MASK);
}
static inline uint64_t pm_swap_offset(uint64_t e)
{
	return (e & PM_PFRAME_MASK) >> PM_SWAP_TYPE_BITS;
}

/*
 * The state an entry reports.  Present wins over swap: the kernel never sets
 * both, and a corrupt entry with both is still a page the kernel maps.
 */
static inline enum pm_state pm_state_of(uint64_t e)
{
	if (e & PM_PRESENT)
		return PMS_PRESENT;
	if (e & PM_SWAP)
		return PMS_SWAPPED;
	return PMS_NONE;
}

/* Build an entry (for tests and synthetic data only). */
static inline uint64_t pm_make_swap(unsigned type, uint64_t offset)
{
	return PM_SWAP | (((offset << PM_SWAP_TYPE_BITS) |
			   (type & PM_SWAP_TYPE_MASK)) & PM_PFRAME_MASK);
}

/* PAGEMAP_SCAN (Linux 6.7+, include/uapi/linux/fs.h); Debian 12's headers lack it. */
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

struct pmb_page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct pmb_pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PMB_PAGEMAP_SCAN	_IOWR('f', 16, struct pmb_pm_scan_arg)

/* Pages per PMD (2 MiB) on x86-64 with 4 KiB pages. */
#define PMB_PMD_PAGES		512

#endif
