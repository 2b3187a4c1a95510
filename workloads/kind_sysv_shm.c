// SPDX-License-Identifier: GPL-2.0
/*
 * sysv-shm: shmget(IPC_PRIVATE) + shmat, removed (IPC_RMID) at once: the
 * segment lives while attached and nothing is left if pmwork dies.  Linux
 * still lets a removed segment be attached by id, which the second-mapper
 * view uses.  The backing shmem file is /proc/self/map_files/<range>.
 */
#include "kind.h"
#include "lib/pagemap.h"

#include <stdint.h>

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

/* shmat at a 2 MiB boundary, like pmw_mmap_pmd_aligned(): inside a reservation, with SHM_REMAP. */
static void *shmat_pmd_aligned(int id, size_t len, int flags)
{
	const size_t pmd = (size_t)PMB_PMD_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	char *res = mmap(NULL, len + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *start;
	void *p;

	if (res == MAP_FAILED)
		return (void *)-1;
	start = (char *)(((uintptr_t)res + pmd - 1) & ~(uintptr_t)(pmd - 1));
	p = shmat(id, start, flags | SHM_REMAP);
	if (p == (void *)-1) {
		int e = errno;

		munmap(res, len + pmd);
		errno = e;
		return p;
	}
	if (start > res)
		munmap(res, (size_t)(start - res));
	munmap(start + len, (size_t)(res + len + pmd - (start + len)));
	return p;
}

static int attach(struct pmw_region *r)
{
	void *p = shmat_pmd_aligned(r->id, r->len, 0);

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
	void *p = shmat_pmd_aligned(r->id, r->len, SHM_RDONLY);

	return p == (void *)-1 ? MAP_FAILED : p;
}

const struct pmw_kind pmw_kind_sysv_shm = {
	.probe = sysv_shm_probe,
	.create = sysv_shm_create,
	.destroy = sysv_shm_destroy,
	.map_again = sysv_shm_map_again,
};
