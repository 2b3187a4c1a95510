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

static const char *tmpfs_dir(const char **dir)
{
	static char why[224];
	const char *err = pmw_pick_dir("PMB_TMPFS", tmpfs_dirs, is_tmpfs, dir);

	if (!err)
		return NULL;
	snprintf(why, sizeof(why), "no tmpfs mounted (set PMB_TMPFS): %s", err);
	return why;
}

static const char *tmpfs_probe(void)
{
	const char *dir;

	return tmpfs_dir(&dir);
}

static int tmpfs_create(struct pmw_region *r)
{
	const char *dir;
	int err;

	if (tmpfs_dir(&dir))
		return -ENOENT;
	r->fd = pmw_open_anon_file(dir, r->len);
	if (r->fd < 0) {
		err = r->fd;
		r->fd = -1;
		return err;
	}
	err = pmw_region_map(r, MAP_SHARED, r->fd);
	if (err) {
		close(r->fd);
		r->fd = -1;
	}
	return err;
}

const struct pmw_kind pmw_kind_tmpfs = {
	.name = "tmpfs",
	.desc = "unlinked file on tmpfs ($PMB_TMPFS, /dev/shm, /tmp) mapped MAP_SHARED (shmem)",
	.probe = tmpfs_probe,
	.create = tmpfs_create,
	.destroy = pmw_region_unmap,
	.backing = PMW_BACKING_SHMEM,
};
