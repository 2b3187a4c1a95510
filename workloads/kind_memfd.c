// SPDX-License-Identifier: GPL-2.0
/* memfd: memfd_create() + MAP_SHARED; the memfd is the backing file. */
#include "kind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *memfd_probe(void)
{
	static char why[96];
	int fd = memfd_create("pmwork-probe", MFD_CLOEXEC);

	if (fd < 0) {
		snprintf(why, sizeof(why), "memfd_create: %s", strerror(errno));
		return why;
	}
	close(fd);
	return NULL;
}

static int memfd_create_region(struct pmw_region *r)
{
	int err;

	r->fd = memfd_create("pmwork", MFD_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (ftruncate(r->fd, (off_t)r->len) < 0) {
		err = -errno;
		goto fail;
	}
	err = pmw_region_map(r, MAP_SHARED, r->fd);
	if (err)
		goto fail;
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return err;
}

const struct pmw_kind pmw_kind_memfd = {
	.probe = memfd_probe,
	.create = memfd_create_region,
	.destroy = pmw_region_unmap,
};
