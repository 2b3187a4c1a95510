// SPDX-License-Identifier: GPL-2.0
/*
 * mthp-shmem: MAP_SHARED|MAP_ANONYMOUS with MADV_HUGEPAGE, where the kernel
 * gives anonymous shmem 64 KiB folios (mTHP, 6.11 and later).  With
 * CONFIG_THP_SWAP such a folio goes to swap whole, so one swap entry covers
 * 16 indices and every page's reported offset must be the slot that holds
 * that page: the judge reads each one back.
 *
 * The kind never changes the host's settings.  It runs where
 * hugepages-64kB/shmem_enabled lets a madvised mapping have 64 KiB folios
 * and no larger size would be taken first (the 2 MiB size is off for it);
 * the guests' init sets 64 KiB to "advise".  Elsewhere it is skipped with
 * the setting that stops it.
 */
#include "kind.h"
#include "lib/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"
#define MTHP_KNOB	THP_SYSFS "/hugepages-64kB/shmem_enabled"
#define PMD_KNOB	THP_SYSFS "/hugepages-2048kB/shmem_enabled"
#define TOP_KNOB	THP_SYSFS "/shmem_enabled"

/* The bracketed choice of a THP knob ("[advise]" -> "advise"), or "" when unreadable. */
static const char *knob_choice(const char *path, char *buf, size_t len)
{
	char raw[256], *lb, *rb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (n <= 0)
		return buf;
	raw[n] = '\0';
	lb = strchr(raw, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (lb && rb && (size_t)(rb - lb) < len) {
		memcpy(buf, lb + 1, (size_t)(rb - lb - 1));
		buf[rb - lb - 1] = '\0';
	}
	return buf;
}

/* Whether a size whose knob says choice is on for a madvised anonymous shmem mapping. */
static bool on_for_madvised(const char *choice, const char *top)
{
	if (!strcmp(choice, "inherit"))
		choice = top;
	return !strcmp(choice, "always") || !strcmp(choice, "advise") ||
	       !strcmp(choice, "force");
}

static const char *mthp_shmem_probe(void)
{
	static char why[256];
	char mthp[32], pmd[32], top[32];

	if (access(MTHP_KNOB, F_OK) < 0) {
		snprintf(why, sizeof(why),
			 "no 64 KiB mTHP for shmem in this kernel (%s: %s; 6.11 or later)",
			 MTHP_KNOB, strerror(errno));
		return why;
	}
	knob_choice(MTHP_KNOB, mthp, sizeof(mthp));
	knob_choice(TOP_KNOB, top, sizeof(top));
	knob_choice(PMD_KNOB, pmd, sizeof(pmd));
	if (!on_for_madvised(mthp, top)) {
		snprintf(why, sizeof(why),
			 "64 KiB shmem mTHP is off here (hugepages-64kB/shmem_enabled [%s], "
			 "shmem_enabled [%s]); pmwork leaves it so: set it to advise to run this kind",
			 mthp, top);
		return why;
	}
	if (pmd[0] && on_for_madvised(pmd, top)) {
		snprintf(why, sizeof(why),
			 "2 MiB shmem THP is on for madvised mappings (hugepages-2048kB/shmem_enabled "
			 "[%s]) and would be taken before 64 KiB; pmwork leaves it so", pmd);
		return why;
	}
	return NULL;
}

static int mthp_shmem_create(struct pmw_region *r)
{
	int err = pmw_shared_anon_map(r);

	if (err)
		return err;
	/* pmw_region_map asked for no huge pages: this kind asks for them. */
	if (madvise(r->addr, r->len, MADV_HUGEPAGE) < 0) {
		err = -errno;
		pmw_region_unmap(r);
	}
	return err;
}

const struct pmw_kind pmw_kind_mthp_shmem = {
	.probe = mthp_shmem_probe,
	.create = mthp_shmem_create,
	.destroy = pmw_region_unmap,
};
