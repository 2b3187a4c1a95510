// SPDX-License-Identifier: GPL-2.0
/*
 * sysv-shm: shmget(IPC_PRIVATE) + shmat, removed (IPC_RMID) at once: the
 * segment lives while attached and nothing is left if pmwork dies.  Linux
 * still lets a removed segment be attached by id, which the second-mapper
 * view uses.  The backing shmem file is /proc/self/map_files/<range>.
 */
#include "kind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static const char *sysv_shm_probe(void)
{
	static char why[128];
	int id = shmget(IPC_PRIVATE, (size_t)sysconf(_SC_PAGESIZE), IPC_CREAT | 0600);

	if (id < 0) {
		snprintf(why, sizeof(why), "shmget: %s", strerror(errno));
		return why;
	}
	if (shmctl(id, IPC_RMID, NULL) < 0) {
		snprintf(why, sizeof(why), "shmctl(IPC_RMID): %s", strerror(errno));
		return why;
	}
	return NULL;
}

static void sysv_shm_destroy(struct pmw_region *r)
{
	if (r->addr)
		shmdt(r->addr);
	r->addr = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static int attach(struct pmw_region *r)
{
	void *p = shmat(r->id, NULL, 0);

	if (p == (void *)-1)
		return -errno;
	r->addr = p;
	if (madvise(p, r->len, MADV_NOHUGEPAGE) < 0 && errno != EINVAL)
		return -errno;
	r->fd = pmw_open_map_file(r->addr, r->len);
	if (r->fd < 0) {
		int err = r->fd;

		r->fd = -1;
		return err;
	}
	return 0;
}

static int sysv_shm_create(struct pmw_region *r)
{
	int err;

	r->id = shmget(IPC_PRIVATE, r->len, IPC_CREAT | 0600);
	if (r->id < 0) {
		r->id = -1;
		return -errno;
	}
	err = attach(r);
	if (shmctl(r->id, IPC_RMID, NULL) < 0 && !err)
		err = -errno;
	if (err)
		sysv_shm_destroy(r);
	return err;
}

static void *sysv_shm_map_again(const struct pmw_region *r)
{
	void *p = shmat(r->id, NULL, SHM_RDONLY);

	return p == (void *)-1 ? MAP_FAILED : p;
}

const struct pmw_kind pmw_kind_sysv_shm = {
	.name = "sysv-shm",
	.desc = "SysV shmget(IPC_PRIVATE) + shmat, IPC_RMID at once (shmem)",
	.probe = sysv_shm_probe,
	.create = sysv_shm_create,
	.destroy = sysv_shm_destroy,
	.map_again = sysv_shm_map_again,
	.backing = PMW_BACKING_SHMEM,
};
