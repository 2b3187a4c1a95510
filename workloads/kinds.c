// SPDX-License-Identifier: GPL-2.0
/* The kind registry and the mapping helpers every kind shares. */
#include "kind.h"
#include "lib/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#define PMB_KIND(id, ...) extern const struct pmw_kind pmw_kind_##id;
#include "catalog/catalog.def"

/* One entry per catalog row: adding a kind file and its row is all it takes. */
const struct pmw_kind *const pmw_kinds[PMB_NR_KINDS] = {
#define PMB_KIND(id, ...) [PMB_KIND_##id] = &pmw_kind_##id,
#include "catalog/catalog.def"
};

const struct pmw_kind *pmw_kind_of(const struct pmb_kind_info *info)
{
	return pmw_kinds[info - pmb_kinds];
}

void *pmw_mmap_pmd_aligned(size_t len, int prot, int flags, int fd)
{
	const size_t pmd = (size_t)PMB_PMD_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	char *res, *start, *p;

	/* Reserve len + 2 MiB of address space, then map at its first 2 MiB boundary. */
	res = mmap(NULL, len + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	start = (char *)(((uintptr_t)res + pmd - 1) & ~(uintptr_t)(pmd - 1));
	p = mmap(start, len, prot, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(res, len + pmd);
		errno = e;
		return MAP_FAILED;
	}
	if (start > res)
		munmap(res, (size_t)(start - res));
	if (res + len + pmd > start + len)
		munmap(start + len, (size_t)(res + len + pmd - (start + len)));
	return p;
}

int pmw_region_map(struct pmw_region *r, int flags, int fd)
{
	void *p = pmw_mmap_pmd_aligned(r->len, PROT_READ | PROT_WRITE, flags, fd);

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

int pmw_open_map_file(const void *addr, size_t len)
{
	char path[80];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)addr,
		 (unsigned long)((uintptr_t)addr + len));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* create+unlink, for file systems without O_TMPFILE. */
static int open_unlinked(const char *dir)
{
	char path[4096];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/pmwork-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int pmw_open_anon_file(const char *dir, size_t len)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = open_unlinked(dir);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A directory we can create files in, on a file system `ok` accepts. */
static const char *dir_unusable(const char *dir, bool (*ok)(long f_type))
{
	static char why[160];
	struct statfs sf;

	if (statfs(dir, &sf) < 0) {
		snprintf(why, sizeof(why), "%s: %s", dir, strerror(errno));
		return why;
	}
	if (!ok((long)sf.f_type)) {
		snprintf(why, sizeof(why), "%s: file system type %#lx not accepted",
			 dir, (unsigned long)sf.f_type);
		return why;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, sizeof(why), "%s: %s", dir, strerror(errno));
		return why;
	}
	return NULL;
}

const char *pmw_pick_dir(const char *env, const char *const *fallbacks,
			 bool (*ok)(long f_type), const char **dir)
{
	const char *set = getenv(env), *why = NULL;

	if (set && set[0]) {
		why = dir_unusable(set, ok);
		if (!why)
			*dir = set;
		return why;	/* an explicit choice is never second-guessed */
	}
	for (; *fallbacks; fallbacks++) {
		why = dir_unusable(*fallbacks, ok);
		if (!why) {
			*dir = *fallbacks;
			return NULL;
		}
	}
	return why;
}

const char *pmw_dir_probe(const struct pmw_dir_choice *c, const char **dir)
{
	static char why[224];
	const char *err = pmw_pick_dir(c->env, c->dirs, c->ok, dir);

	if (!err)
		return NULL;
	snprintf(why, sizeof(why), "%s (set %s): %s", c->what, c->env, err);
	return why;
}

int pmw_dir_file_map(const struct pmw_dir_choice *c, struct pmw_region *r)
{
	const char *dir;
	int err;

	if (pmw_dir_probe(c, &dir))
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
