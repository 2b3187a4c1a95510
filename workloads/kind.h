/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory kinds of the workload: one file per kind, one row in kinds.c.
 *
 * A kind maps a region of r->pages pages and, for shmem kinds, sets r->fd to
 * a descriptor of the backing shmem file that lseek(SEEK_DATA/SEEK_HOLE)
 * works on.  Hooks return 0 or -errno.
 */
#ifndef PMW_KIND_H
#define PMW_KIND_H

#include <stdbool.h>
#include <stddef.h>

struct pmw_region {
	char *addr;		/* MAP_FAILED-checked start of the mapping */
	size_t len;		/* pages * page_size */
	size_t pages;
	size_t page_size;
	int fd;			/* shmem backing file for SEEK_DATA, or -1 */
};

struct pmw_kind {
	const char *name;	/* command-line key */
	const char *desc;
	/* NULL when the kind can run here, else why not. */
	const char *(*probe)(void);
	int (*create)(struct pmw_region *r);
	void (*destroy)(struct pmw_region *r);
	bool shmem;		/* pages live in a shmem file (r->fd valid) */
};

/* The registry, sorted by name, NULL-terminated. */
extern const struct pmw_kind *const pmw_kinds[];

const struct pmw_kind *pmw_kind_find(const char *name);

/* Helpers for kinds: mmap r->len with MADV_NOHUGEPAGE; unmap and close. */
int pmw_region_map(struct pmw_region *r, int flags, int fd);
void pmw_region_unmap(struct pmw_region *r);

#endif
