/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory kinds of the workload: one file per kind, workloads/kind_<id>.c,
 * holding its hooks (struct pmw_kind pmw_kind_<id>); its name, backing and
 * traits are its row in catalog/catalog.def, and the registry (kinds.c) is
 * made from it.
 *
 * A kind maps a region of r->pages pages and, for shmem and file kinds, sets
 * r->fd to a descriptor of the backing file that lseek(SEEK_DATA/SEEK_HOLE)
 * works on.  Hooks return 0 or -errno.
 */
#ifndef PMW_KIND_H
#define PMW_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/catalog.h"

struct pmw_region {
	char *addr;		/* MAP_FAILED-checked start of the mapping */
	size_t len;		/* pages * page_size */
	size_t pages;
	size_t page_size;
	int fd;			/* backing file for SEEK_DATA, or -1 */
	int id;			/* kind-private handle (SysV shm id), or -1 */
};

struct pmw_kind {
	/* NULL when the kind can run here, else why not. */
	const char *(*probe)(void);
	int (*create)(struct pmw_region *r);
	void (*destroy)(struct pmw_region *r);
	/*
	 * Map the same backing object once more, read-only, at a new address
	 * (in a view child).  NULL: mmap r->fd MAP_SHARED, or, without a
	 * backing file, no second mapper is possible.  Returns the address
	 * or MAP_FAILED with errno set.
	 */
	void *(*map_again)(const struct pmw_region *r);
};

/* The registry, indexed like the catalog's kinds. */
extern const struct pmw_kind *const pmw_kinds[PMB_NR_KINDS];
/* The hooks of a catalog row. */
const struct pmw_kind *pmw_kind_of(const struct pmb_kind_info *info);

/* Helpers for kinds: mmap r->len with MADV_NOHUGEPAGE; unmap and close. */
/*
 * mmap at a 2 MiB boundary.  Where a region starts inside its PMD decides how
 * far a pagemap read walks on kernels that walk to the PMD's end (6.1), so
 * every region and view starts at the same place: position 0.
 */
void *pmw_mmap_pmd_aligned(size_t len, int prot, int flags, int fd);
int pmw_region_map(struct pmw_region *r, int flags, int fd);
void pmw_region_unmap(struct pmw_region *r);
/* MAP_SHARED|MAP_ANONYMOUS, its shmem file open as r->fd (shared-anon, mthp-shmem). */
int pmw_shared_anon_map(struct pmw_region *r);
/* open(/proc/self/map_files/<start>-<end>) read-only: fd or -errno. */
int pmw_open_map_file(const void *addr, size_t len);
/* An empty file for a MAP_SHARED region in dir (O_TMPFILE, else create+unlink). */
int pmw_open_anon_file(const char *dir, size_t len);
/* The first usable directory of $env, then the fallbacks; the reason if none. */
const char *pmw_pick_dir(const char *env, const char *const *fallbacks,
			 bool (*ok)(long f_type), const char **dir);

/* Where a file-backed kind puts its unnamed file: $env, else the first fallback ok() accepts. */
struct pmw_dir_choice {
	const char *env;
	const char *const *dirs;
	bool (*ok)(long f_type);
	const char *what;		/* "no tmpfs mounted", for the skip reason */
};
/* NULL and *dir set, or why there is none. */
const char *pmw_dir_probe(const struct pmw_dir_choice *c, const char **dir);
/* An unnamed file of r->len bytes in that directory, mapped MAP_SHARED; 0 or -errno. */
int pmw_dir_file_map(const struct pmw_dir_choice *c, struct pmw_region *r);

#endif
