// SPDX-License-Identifier: GPL-2.0
/*
 * tmpfs: an unnamed file on a tmpfs mount mapped MAP_SHARED (shmem).  The
 * directory is $PMB_TMPFS, else /dev/shm, else /tmp, whichever statfs calls
 * tmpfs first; the file is O_TMPFILE (or unlinked at once), so nothing is
 * left behind.
 */
#include "kind.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const tmpfs_dirs[] = { "/dev/shm", "/tmp", NULL };

static bool is_tmpfs(long f_type)
{
	return f_type == TMPFS_MAGIC;
}

static const struct pmw_dir_choice tmpfs_choice = {
	.env = "PMB_TMPFS", .dirs = tmpfs_dirs, .ok = is_tmpfs, .what = "no tmpfs mounted",
};

static const char *tmpfs_probe(void)
{
	const char *dir;

	return pmw_dir_probe(&tmpfs_choice, &dir);
}

static int tmpfs_create(struct pmw_region *r)
{
	return pmw_dir_file_map(&tmpfs_choice, r);
}

const struct pmw_kind pmw_kind_tmpfs = {
	.probe = tmpfs_probe,
	.create = tmpfs_create,
	.destroy = pmw_region_unmap,
};
