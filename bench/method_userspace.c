// SPDX-License-Identifier: GPL-2.0
/*
 * userspace: how a program tells swapped shmem from never-touched pages on a
 * stock kernel, without the PM_SWAP patch.  pagemap reports both as none.
 * For a shmem-backed VMA, the backing file is opened through
 * /proc/PID/map_files/<start>-<end> and mapped here (MAP_SHARED, PROT_READ,
 * never touched); a page that pagemap calls none, that SEEK_DATA calls data
 * and that mincore() on our mapping calls not resident is in swap.  Other
 * VMAs (private anonymous: no map_files, or not tmpfs) use pagemap alone.
 *
 * init opens and maps; the timed sample is what a user pays per scan: the
 * pagemap read, the SEEK_DATA/SEEK_HOLE walk, mincore and the classifying.
 * Entries are pseudo-entries: PM_PRESENT, PM_SWAP (no type/offset) or 0.
 * A page resident in the file but not mapped by the target stays none.
 */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC	0x01021994
#endif

/* The part of one VMA inside the range. */
struct us_seg {
	uint64_t first, count;	/* page indices in the range */
	int fd;			/* backing shmem file, or -1: pagemap alone */
	off_t foff;		/* file offset of page `first` */
	size_t len;		/* count pages in bytes */
	void *map;		/* our mapping of [foff, foff + len) */
};

struct us_state {
	struct us_seg *seg;
	size_t nseg;
	uint8_t *data;		/* N: 1 where SEEK_DATA says data */
	unsigned char *vec;	/* N: mincore() */
};

static void us_free(struct us_state *s)
{
	size_t i;

	for (i = 0; i < s->nseg; i++) {
		if (s->seg[i].map)
			munmap(s->seg[i].map, s->seg[i].len);
		if (s->seg[i].fd >= 0)
			close(s->seg[i].fd);
	}
	free(s->seg);
	free(s->data);
	free(s->vec);
	free(s);
}

/* Open the VMA's file if it is shmem; *fd = -1 for no file (ENOENT) or not tmpfs. */
static int us_open_shmem(const struct pms_ctx *ctx, uint64_t start, uint64_t end, int *fd)
{
	char path[96];
	struct statfs sf;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)ctx->pid, start, end);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT)
		return 0;
	if (*fd < 0 || fstatfs(*fd, &sf) < 0) {
		int err = -errno;

		pmb_info("userspace: %s: %s", path, strerror(-err));
		return err;
	}
	if (sf.f_type != TMPFS_MAGIC) {
		close(*fd);
		*fd = -1;
	}
	return 0;
}

static int us_map(struct us_seg *g)
{
	void *p = mmap(NULL, g->len, PROT_READ, MAP_SHARED, g->fd, g->foff);

	if (p == MAP_FAILED)
		return -errno;
	g->map = p;
	return 0;
}

/*
 * One VMA [start, end) at file offset off: its part inside the range.  The
 * map_files name is the VMA's own range; the page indices and the file
 * offset move by where the range starts inside it.
 */
static int us_add_vma(const struct pms_ctx *ctx, struct us_state *s, uint64_t start,
		      uint64_t end, uint64_t off)
{
	uint64_t lo = ctx->addr, hi = ctx->addr + (ctx->pages << ctx->page_shift);
	uint64_t from = start < lo ? lo : start, to = end > hi ? hi : end;
	struct us_seg *g, *n;
	int err;

	if (end <= lo || start >= hi)
		return 0;
	n = realloc(s->seg, (s->nseg + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->seg = n;
	g = &s->seg[s->nseg++];
	*g = (struct us_seg){
		.first = (from - lo) >> ctx->page_shift,
		.count = (to - from) >> ctx->page_shift,
		.len = (size_t)(to - from),
		.fd = -1,
		.foff = (off_t)(off + (from - start)),
	};
	err = us_open_shmem(ctx, start, end, &g->fd);
	if (!err && g->fd >= 0)
		err = us_map(g);
	return err;
}

/* Walk /proc/PID/maps once: the VMAs that overlap the range. */
static int us_read_maps(const struct pms_ctx *ctx, struct us_state *s)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && getline(&line, &cap, f) > 0) {
		uint64_t start, end, off;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &start, &end, &off) == 3)
			err = us_add_vma(ctx, s, start, end, off);
		else
			err = -EIO;	/* not the maps format */
	}
	free(line);
	fclose(f);
	return err;
}

/* Mark the pages of g that SEEK_DATA/SEEK_HOLE call data; counts the lseeks. */
static int us_walk_data(const struct pms_ctx *ctx, const struct us_seg *g, uint8_t *data,
			uint64_t *calls)
{
	off_t lo = g->foff, hi = g->foff + (off_t)g->len, off = lo, d, h;
	uint64_t i, end;

	memset(data + g->first, 0, g->count);
	while (off < hi) {
		d = lseek(g->fd, off, SEEK_DATA);
		++*calls;
		if (d < 0)
			return errno == ENXIO ? 0 : -errno;
		if (d >= hi)
			return 0;
		h = lseek(g->fd, d, SEEK_HOLE);
		++*calls;
		if (h < 0)
			return -errno;
		if (h <= d)
			return -EIO;
		if (h > hi)
			h = hi;
		i = (uint64_t)(d - lo) >> ctx->page_shift;
		end = ((uint64_t)(h - lo) + (UINT64_C(1) << ctx->page_shift) - 1) >> ctx->page_shift;
		memset(data + g->first + i, 1, end - i);
		off = h;
	}
	return 0;
}

/* An entry as this method reports it: only the state, as a pseudo-entry. */
static uint64_t us_pseudo(uint64_t e)
{
	switch (pm_state_of(e)) {
	case PMS_PRESENT:
		return PM_PRESENT;
	case PMS_SWAPPED:
		return PM_SWAP;
	default:
		return 0;
	}
}

static bool us_any_none(const uint64_t *ent, const struct us_seg *g)
{
	uint64_t i;

	for (i = g->first; i < g->first + g->count; i++)
		if (pm_state_of(ent[i]) == PMS_NONE)
			return true;
	return false;
}

/* A shmem segment: none in pagemap, data in the file, not resident = swapped. */
static int us_fix_shmem(const struct pms_ctx *ctx, struct us_state *s, const struct us_seg *g,
			uint64_t *ent, uint64_t *calls)
{
	uint64_t i;
	int err;

	err = us_walk_data(ctx, g, s->data, calls);
	if (err)
		return err;
	++*calls;
	if (mincore(g->map, g->len, s->vec + g->first) < 0)
		return -errno;
	for (i = g->first; i < g->first + g->count; i++)
		if (pm_state_of(ent[i]) == PMS_NONE && s->data[i] && !(s->vec[i] & 1))
			ent[i] = PM_SWAP;
	return 0;
}

/*
 * The whole method, into out (N entries): one pagemap pread, then per shmem
 * segment with none pages the SEEK walk and mincore.  *calls counts syscalls.
 */
static int us_scan(const struct pms_ctx *ctx, struct us_state *s, uint64_t *out,
		   uint64_t *calls)
{
	uint64_t i;
	size_t k;
	int err;

	err = pms_read_batched(ctx, out, 0, ctx->pages, ctx->pages, calls);
	if (err)
		return err;
	for (i = 0; i < ctx->pages; i++)
		out[i] = us_pseudo(out[i]);
	for (k = 0; k < s->nseg; k++) {
		const struct us_seg *g = &s->seg[k];

		if (g->fd < 0 || !us_any_none(out, g))
			continue;
		err = us_fix_shmem(ctx, s, g, out, calls);
		if (err)
			return err;
	}
	return 0;
}

static int us_pass(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		   uint64_t *entries, uint64_t *reads)
{
	*entries = ctx->pages;
	*reads = 0;
	return us_scan(ctx, v->priv, out, reads);
}

static int us_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	struct us_state *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->data = malloc(ctx->pages);
	s->vec = malloc(ctx->pages);
	if (!s->data || !s->vec) {
		us_free(s);
		return -ENOMEM;
	}
	memset(s->data, 0, ctx->pages);	/* prefault: the sample writes both */
	memset(s->vec, 0, ctx->pages);
	err = us_read_maps(ctx, s);
	if (err) {
		us_free(s);
		return err;
	}
	v->batch = ctx->pages;
	v->priv = s;
	return 0;
}

static void us_fini(struct pms_variant *v)
{
	if (!v->priv)
		return;
	us_free(v->priv);
	v->priv = NULL;
}

static const char *us_probe_fd(int fd, void *map, size_t len)
{
	struct statfs sf;
	unsigned char vec;

	if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
		return "map_files of shared anonymous memory is not on tmpfs";
	if (lseek(fd, 0, SEEK_DATA) < 0 && errno != ENXIO)
		return "no SEEK_DATA on shmem files";
	if (mincore(map, len, &vec) < 0)
		return "mincore() failed";
	return NULL;
}

/*
 * Everything the method needs, on a page of shared anonymous memory of our
 * own: opening it through map_files (CAP_SYS_ADMIN), SEEK_DATA, mincore.
 */
static const char *us_probe(struct pms_ctx *ctx)
{
	size_t ps = (size_t)1 << ctx->page_shift;
	char path[96];
	const char *why;
	void *p;
	int fd;

	p = mmap(NULL, ps, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return "userspace probe: mmap failed";
	snprintf(path, sizeof(path), "/proc/self/map_files/%" PRIxPTR "-%" PRIxPTR,
		 (uintptr_t)p, (uintptr_t)p + ps);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		why = errno == EPERM || errno == EACCES ?
		      "opening /proc/PID/map_files needs CAP_SYS_ADMIN" :
		      "cannot open /proc/PID/map_files entries";
	} else {
		why = us_probe_fd(fd, p, ps);
		close(fd);
	}
	munmap(p, ps);
	return why ? why : pms_probe_pread(ctx);
}

const struct pms_method pms_method_userspace = {
	.probe = us_probe,
	.init = us_init,
	.fini = us_fini,
	.pass = us_pass,
};
