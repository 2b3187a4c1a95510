// SPDX-License-Identifier: GPL-2.0
/*
 * shared-anon: MAP_SHARED|MAP_ANONYMOUS.  The kernel backs it with an
 * unlinked shmem file; /proc/self/map_files/<start>-<end> opens it.
 */
#include "kind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *shared_anon_probe(void)
{
	static char why[128];
	long ps = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED) {
		snprintf(why, sizeof(why), "mmap shared anon: %s", strerror(errno));
		return why;
	}
	fd = pmw_open_map_file(p, (size_t)ps);
	munmap(p, (size_t)ps);
	if (fd < 0) {
		snprintf(why, sizeof(why),
			 "cannot open /proc/self/map_files (needs CAP_SYS_ADMIN): %s",
			 strerror(-fd));
		return why;
	}
	close(fd);
	return NULL;
}

int pmw_shared_anon_map(struct pmw_region *r)
{
	int err = pmw_region_map(r, MAP_SHARED | MAP_ANONYMOUS, -1);

	if (err)
		return err;
	r->fd = pmw_open_map_file(r->addr, r->len);
	if (r->fd < 0) {
		err = r->fd;
		r->fd = -1;
		pmw_region_unmap(r);
		return err;
	}
	return 0;
}

const struct pmw_kind pmw_kind_shared_anon = {
	.probe = shared_anon_probe,
	.create = pmw_shared_anon_map,
	.destroy = pmw_region_unmap,
};
