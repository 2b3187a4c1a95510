// SPDX-License-Identifier: GPL-2.0
/* The kind registry and the mapping helpers every kind shares. */
#include "kind.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern const struct pmw_kind pmw_kind_memfd;
extern const struct pmw_kind pmw_kind_private_anon;
extern const struct pmw_kind pmw_kind_shared_anon;

/* Sorted by name.  Adding a kind: one file and one row here. */
const struct pmw_kind *const pmw_kinds[] = {
	&pmw_kind_memfd,
	&pmw_kind_private_anon,
	&pmw_kind_shared_anon,
	NULL,
};

const struct pmw_kind *pmw_kind_find(const char *name)
{
	const struct pmw_kind *const *k;

	for (k = pmw_kinds; *k; k++)
		if (!strcmp((*k)->name, name))
			return *k;
	return NULL;
}

int pmw_region_map(struct pmw_region *r, int flags, int fd)
{
	void *p = mmap(NULL, r->len, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	r->addr = p;
	/* THP is a separate kind; EINVAL only means no THP in this kernel. */
	if (madvise(p, r->len, MADV_NOHUGEPAGE) < 0 && errno != EINVAL) {
		int err = -errno;

		munmap(p, r->len);
		r->addr = NULL;
		return err;
	}
	return 0;
}

void pmw_region_unmap(struct pmw_region *r)
{
	if (r->addr)
		munmap(r->addr, r->len);
	r->addr = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
