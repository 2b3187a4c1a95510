// SPDX-License-Identifier: GPL-2.0
/*
 * scan-ioctl: the PAGEMAP_SCAN ioctl (Linux 6.7+) on the pagemap fd.  One
 * sample scans the whole range: every page is of interest (no category
 * required), only present/swapped/file are returned, so neighbouring pages
 * of the same kind merge into one region.  When the preallocated vector is
 * full the kernel stops and says where (walk_end); the next call goes on
 * from there.  It can only be compared with read() on those three bits.
 */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Regions per ioctl call (24 bytes each). */
#define SCAN_VEC_LEN	4096u
#define SCAN_RETURN	(PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE)

struct scan_state {
	struct pmb_page_region *vec;
	uint64_t vec_len;
	struct pmb_pm_scan_arg arg;	/* set up once in init; the pass only moves start */
};

static uint64_t scan_end(const struct pms_ctx *ctx)
{
	return ctx->addr + (ctx->pages << ctx->page_shift);
}

static void scan_arg(struct pmb_pm_scan_arg *a, uint64_t start, uint64_t end,
		     struct pmb_page_region *vec, uint64_t vec_len)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->start = start;
	a->end = end;
	a->vec = (uintptr_t)vec;
	a->vec_len = vec_len;
	/* category_mask and category_anyof_mask 0: every page qualifies. */
	a->return_mask = SCAN_RETURN;
}

/* One call from a->start; moves a->start to where the kernel stopped. */
static int scan_once(const struct pms_ctx *ctx, struct pmb_pm_scan_arg *a, long *nr)
{
	uint64_t from = a->start;

	*nr = ioctl(ctx->fd, PMB_PAGEMAP_SCAN, a);
	if (*nr < 0)
		return -errno;
	if (a->walk_end <= from || a->walk_end > a->end)
		return -EIO;	/* no progress, or beyond what was asked */
	a->start = a->walk_end;
	return 0;
}

/* The timed pass: ioctl calls from where the last one stopped; the regions stay in s->vec. */
static int scan_pass(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		     uint64_t *entries, uint64_t *reads)
{
	struct scan_state *s = v->priv;
	struct pmb_pm_scan_arg *a = &s->arg;
	long nr;
	int err = 0;

	a->start = ctx->addr;
	while (!err && a->start < a->end) {
		err = scan_once(ctx, a, &nr);
		++*reads;
	}
	*entries = (a->start - ctx->addr) >> ctx->page_shift;
	return err;
}

/* A region's categories as a pagemap entry of the same kind (no PFN, no offset). */
static uint64_t scan_pseudo_entry(uint64_t categories)
{
	return (categories & PAGE_IS_PRESENT ? PM_PRESENT : 0) |
	       (categories & PAGE_IS_SWAPPED ? PM_SWAP : 0) |
	       (categories & PAGE_IS_FILE ? PM_FILE : 0);
}

static int scan_expand(const struct pms_ctx *ctx, const struct pmb_page_region *r,
		       uint64_t *out)
{
	uint64_t a, end = scan_end(ctx), e = scan_pseudo_entry(r->categories);

	if (r->start >= r->end || r->start < ctx->addr || r->end > end)
		return -EIO;
	for (a = r->start; a < r->end; a += UINT64_C(1) << ctx->page_shift)
		out[(a - ctx->addr) >> ctx->page_shift] = e;
	return 0;
}

/* Pages in no region (no VMA there) stay 0, as read() reports them. */
static int scan_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out)
{
	struct scan_state *s = v->priv;
	struct pmb_pm_scan_arg a;
	long nr, i;
	int err = 0;

	memset(out, 0, ctx->pages * sizeof(*out));
	scan_arg(&a, ctx->addr, scan_end(ctx), s->vec, s->vec_len);
	while (!err && a.start < a.end) {
		err = scan_once(ctx, &a, &nr);
		if (!err && (uint64_t)nr > s->vec_len)
			err = -EIO;
		for (i = 0; !err && i < nr; i++)
			err = scan_expand(ctx, &s->vec[i], out);
	}
	return err;
}

static int scan_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	struct scan_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->vec_len = ctx->pages < SCAN_VEC_LEN ? ctx->pages : SCAN_VEC_LEN;
	s->vec = calloc(s->vec_len, sizeof(*s->vec));
	if (!s->vec) {
		free(s);
		return -ENOMEM;
	}
	scan_arg(&s->arg, ctx->addr, scan_end(ctx), s->vec, s->vec_len);
	v->batch = ctx->pages;
	v->priv = s;
	return 0;
}

static void scan_fini(struct pms_variant *v)
{
	struct scan_state *s = v->priv;

	if (!s)
		return;
	free(s->vec);
	free(s);
	v->priv = NULL;
}

/*
 * Scan one page of our own with the output vector inside a PROT_NONE page:
 * a kernel with the ioctl walks, then fails to copy out (EFAULT); one
 * without it rejects the request before that (ENOTTY, EINVAL).
 */
static const char *scan_probe_errno(int err)
{
	switch (err) {
	case EFAULT:
		return NULL;
	case ENOTTY:
	case EINVAL:
	case EOPNOTSUPP:
		return "no PAGEMAP_SCAN (Linux < 6.7)";
	default:
		return "PAGEMAP_SCAN probe failed unexpectedly";
	}
}

static const char *scan_probe(struct pms_ctx *ctx)
{
	size_t ps = (size_t)1 << ctx->page_shift;
	struct pmb_pm_scan_arg a;
	const char *why;
	char *page;
	int fd, r;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cannot open /proc/self/pagemap";
	page = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		close(fd);
		return "PAGEMAP_SCAN probe: mmap failed";
	}
	scan_arg(&a, (uintptr_t)page, (uintptr_t)page + ps,
		 (struct pmb_page_region *)(void *)(page + 8), 1);
	r = ioctl(fd, PMB_PAGEMAP_SCAN, &a);
	why = r < 0 ? scan_probe_errno(errno) : "PAGEMAP_SCAN probe: wrote to a PROT_NONE page";
	munmap(page, ps);
	close(fd);
	return why;
}

const struct pms_method pms_method_scan_ioctl = {
	.probe = scan_probe,
	.init = scan_init,
	.fini = scan_fini,
	.pass = scan_pass,
	.collect = scan_collect,
};
