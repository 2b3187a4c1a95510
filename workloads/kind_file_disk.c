// SPDX-License-Identifier: GPL-2.0
/*
 * file-disk: the bystander that never swaps.  An unnamed file on a disk
 * file system ($PMB_DISKDIR, else /var/tmp, else the current directory)
 * mapped MAP_SHARED.  Paged out, its pages are written back and dropped: the
 * data is in the file, not in swap, and the oracle calls them none.
 *
 * MADV_RANDOM keeps fault-time readahead from putting pages we never touched
 * into the page cache, where mincore() would see them as resident although
 * no PTE maps them.
 */
#include "kind.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const disk_dirs[] = { "/var/tmp", ".", NULL };

/* Memory-only and pseudo file systems: pages there are not written to a disk. */
static bool is_disk_fs(long f_type)
{
	static const long memory_fs[] = {
		TMPFS_MAGIC, RAMFS_MAGIC, OVERLAYFS_SUPER_MAGIC, HUGETLBFS_MAGIC,
		SQUASHFS_MAGIC, PROC_SUPER_MAGIC, SYSFS_MAGIC, 0x27e0eb /* cgroup */,
	};
	size_t i;

	for (i = 0; i < sizeof(memory_fs) / sizeof(memory_fs[0]); i++)
		if (f_type == memory_fs[i])
			return false;
	return true;
}

static const struct pmw_dir_choice disk_choice = {
	.env = "PMB_DISKDIR", .dirs = disk_dirs, .ok = is_disk_fs, .what = "no disk file system",
};

static const char *file_disk_probe(void)
{
	const char *dir;

	return pmw_dir_probe(&disk_choice, &dir);
}

static int file_disk_create(struct pmw_region *r)
{
	int err = pmw_dir_file_map(&disk_choice, r);

	/* No readahead: pages never touched must stay out of the page cache. */
	if (!err && madvise(r->addr, r->len, MADV_RANDOM) < 0) {
		err = -errno;
		pmw_region_unmap(r);
	}
	return err;
}

const struct pmw_kind pmw_kind_file_disk = {
	.probe = file_disk_probe,
	.create = file_disk_create,
	.destroy = pmw_region_unmap,
};
