// SPDX-License-Identifier: GPL-2.0
/*
 * pmwork: build one region of one memory kind, dirty it with the page
 * pattern, drive it to a swap state, report the oracle's truth (READY) and
 * serve the harness's commands while SIGSTOPped.  See docs/workloads.md.
 */
#include "pmwork.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/kernel.h"
#include "lib/pagemap.h"
#include "lib/opt.h"
#include "lib/util.h"
#include "wire/wire.h"

static int opt_kind(void *obj, const char *v, const char *name)
{
	struct pmw_opts *o = obj;

	o->info = pmb_kind_find(v);
	if (!o->info)
		return pmb_fail(-EINVAL, "--%s: unknown kind '%s' (pmwork --list)", name, v);
	o->kind = pmw_kind_of(o->info);
	return 0;
}

#define OFF(f) offsetof(struct pmw_opts, f)
static const struct pmb_opt pmwork_opts[] = {
	{ "kind", 0, PMB_OPT_FN, 0, "KIND", "memory kind (--list), required", .fn = opt_kind },
	{ "pages", 0, PMB_OPT_UINT, OFF(pages), "N", "region size in pages, required", .min = 1,
	  .max = UINT64_C(1) << 32 },
	{ "dirty", 0, PMB_OPT_PCT, OFF(dirty_pct), "PCT", "percentage of pages that get the pattern (default 100)" },
	{ "swapout", 0, PMB_OPT_INDEX, OFF(swapout), "MODE",
	  "pageout (MADV_PAGEOUT the swapped set), cgroup (the harness's limit\n"
	  "reclaims), none (default)", .words = pmb_swapouts },
	{ "swapped", 0, PMB_OPT_PCT, OFF(swapped_pct), "PCT", "pageout: percentage of the dirtied pages (default 50)" },
	{ "layout", 0, PMB_OPT_INDEX, OFF(layout), "L", "contiguous, strided or random (default) choice of pages",
	  .words = pmb_layouts },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "S", "seed of the pattern and of the random layout (default 1)",
	  .max = UINT64_MAX },
	{ "touch", 0, PMB_OPT_INDEX, OFF(touch), "MODE", "write (default: the pattern) or read (one byte per page)",
	  .words = pmb_touches },
	{ "view", 0, PMB_OPT_INDEX, OFF(view), "VIEW", "self (default), second-mapper or fork-child",
	  .words = pmb_views },
	{ "list", 0, PMB_OPT_FLAG, OFF(list), NULL, "the kinds, one per line: name, description, ok or skip: reason",
	  .set = 1 },
};
#undef OFF

static const struct pmb_opt_spec pmwork_spec = {
	.prog = "pmwork", .args = "--kind KIND --pages N [options] | --list",
	.about = "Build one region of one memory kind in a known state, report the oracle's\n"
		 "truth (READY), then serve the harness's commands while stopped\n"
		 "(docs/workloads.md).\n",
	.opts = pmwork_opts, .nopts = sizeof(pmwork_opts) / sizeof(pmwork_opts[0]),
	.more = "exit: 0 ok, 3 error, 64 usage, 77 cannot run here (SKIP <reason>)\n",
};

static int list_kinds(void)
{
	for (size_t i = 0; i < PMB_NR_KINDS; i++) {
		const char *why = pmw_kinds[i]->probe ? pmw_kinds[i]->probe() : NULL;

		printf("%s\t%s\t%s%s\n", pmb_kinds[i].name, pmb_kinds[i].desc,
		       why ? "skip: " : "ok", why ? why : "");
	}
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}

/* 0, or the exit code main returns (help, usage). */
static int parse_args(int argc, char **argv, struct pmw_opts *o, size_t page_size)
{
	unsigned npos;
	int err;

	*o = (struct pmw_opts){ .dirty_pct = 100, .swapped_pct = 50,
				.swapout = PMW_SWAPOUT_NONE, .layout = PMW_RANDOM,
				.seed = 1 };
	err = pmb_opt_parse(&pmwork_spec, argc, argv, o, NULL, &npos, NULL);
	if (err)
		return err == PMB_OPT_HELP ? -2 : PMB_EXIT_USAGE;
	if (o->list)
		return 0;
	if (!o->kind)
		return pmb_fail(PMB_EXIT_USAGE, "--kind is required (see --help)");
	if (!o->pages)
		return pmb_fail(PMB_EXIT_USAGE, "--pages is required (see --help)");
	if (o->pages > SIZE_MAX / page_size)
		return pmb_fail(PMB_EXIT_USAGE, "--pages %llu: larger than the address space",
				(unsigned long long)o->pages);
	return 0;
}

/* Whether /proc/swaps lists any device.  1 yes, 0 no, -errno. */
static int swap_active(void)
{
	char buf[4096];
	int err = pmb_read_str("/proc/swaps", buf, sizeof(buf));
	char *nl;

	if (err)
		return err;
	nl = strchr(buf, '\n');	/* after the header line */
	return nl && nl[1] != '\0';
}

static int skip(const char *why)
{
	pmw_say("SKIP %s", why);
	fprintf(stderr, "%s: skip: %s\n", pmb_prog, why);
	return PMB_EXIT_SKIP;
}

/* Allocate and pre-fault (and lock, best effort) everything before dirtying. */
static int alloc_vectors(struct pmw_ctx *x)
{
	size_t n = x->r.pages;

	x->flags = calloc(n, 1);
	x->state = calloc(n, 1);
	x->idx = calloc(n, sizeof(*x->idx));
	x->cand = calloc(n, sizeof(*x->cand));
	if (!x->flags || !x->state || !x->idx || !x->cand)
		return -ENOMEM;
	memset(x->state, 0xff, n);	/* fault in, so commands allocate no page */
	/* and the scratch, so that nothing is charged between dirtying and READY */
	memset(x->idx, 0xff, n * sizeof(*x->idx));
	memset(x->cand, 0xff, n * sizeof(*x->cand));
	if (mlock(x->flags, n) < 0 || mlock(x->state, n) < 0)
		pmb_info("mlock vectors: %s (continuing)", strerror(errno));
	return 0;
}

static void free_scratch(struct pmw_ctx *x)
{
	free(x->cand);
	free(x->idx);
	x->cand = x->idx = NULL;
}

static void free_vectors(struct pmw_ctx *x)
{
	free_scratch(x);
	free(x->flags);
	free(x->state);
	x->flags = x->state = NULL;
}

static int reach_state(struct pmw_ctx *x)
{
	cpu_set_t saved;
	bool pinned = pmw_pin_cpu(&saved);
	int err = 0;

	/*
	 * Every choice before the first touch: in a limited cgroup, touching
	 * the scratch vectors after dirtying would swap them in, and swap
	 * readahead would pull region pages into the swap cache with them.
	 */
	pmw_choose_dirty(x);
	pmw_plan_pageout(x);	/* the PAGEOUT command's set, whatever --swapout */
	pmw_touch_pages(x);
	if (x->o.swapout == PMW_SWAPOUT_PAGEOUT)
		err = pmw_pageout(x);
	pmw_unpin_cpu(pinned, &saved);
	if (err == -EINVAL)
		return skip("madvise(MADV_PAGEOUT) not supported (EINVAL)");
	if (err)
		return pmw_fatal(err, "madvise(MADV_PAGEOUT)");
	return 0;
}

/* kB of the region mapped by PMDs (THP), from the VMA's /proc/self/smaps entry. */
static int pmd_mapped_kb(const struct pmw_region *r, size_t *kb)
{
	static const char *const keys[] = { "AnonHugePages:", "ShmemPmdMapped:",
					    "FilePmdMapped:", NULL };
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256];
	bool in_vma = false, found = false;

	if (!f)
		return -errno;
	*kb = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		const char *const *k;

		size_t tok = strcspn(line, " ");

		/* A VMA header's first token is start-end; a field's is "Name:". */
		if (line[tok - (tok > 0)] != ':' &&
		    sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in_vma = start == (unsigned long)r->addr;
			found |= in_vma;
			continue;
		}
		for (k = keys; in_vma && *k; k++)
			if (!strncmp(line, *k, strlen(*k)))
				*kb += strtoul(line + strlen(*k), NULL, 10);
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/*
 * Pages of the region in large folios (compound pages), from the PFNs in
 * this process's pagemap and /proc/kpageflags.  Both need CAP_SYS_ADMIN;
 * without it PFNs read as 0 and nothing is counted.
 */
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
static int large_folio_pages(const struct pmw_region *r, size_t *pages)
{
	uint64_t pm[512], fl;
	int pfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), kfd;
	size_t i, j, n;
	int err = 0;

	*pages = 0;
	if (pfd < 0)
		return -errno;
	kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		close(pfd);
		return 0;	/* no kpageflags: nothing to count with */
	}
	for (i = 0; i < r->pages && !err; i += n) {
		off_t at = (off_t)((uintptr_t)r->addr / r->page_size + i) * PM_ENTRY_BYTES;
		ssize_t got;

		n = r->pages - i < 512 ? r->pages - i : 512;
		got = pread(pfd, pm, n * PM_ENTRY_BYTES, at);
		if (got != (ssize_t)(n * PM_ENTRY_BYTES)) {
			err = got < 0 ? -errno : -EIO;
			break;
		}
		for (j = 0; j < n; j++) {
			if (!pm_present(pm[j]) || !pm_pfn(pm[j]))
				continue;
			if (pread(kfd, &fl, sizeof(fl), (off_t)(pm_pfn(pm[j]) * sizeof(fl))) != sizeof(fl))
				continue;
			if (fl & ((UINT64_C(1) << KPF_COMPOUND_HEAD) | (UINT64_C(1) << KPF_COMPOUND_TAIL)))
				(*pages)++;
		}
	}
	close(kfd);
	close(pfd);
	return err;
}

static int report_ready(struct pmw_ctx *x)
{
	struct pmb_ready ready;
	char line[PMB_WIRE_LINE];
	struct pmw_counts *c = &x->c;
	size_t thp_kb = 0;
	int err = 0;

	/*
	 * Only where THP is possible, and before the oracle: reading smaps
	 * allocates (kernel buffers too), which reclaims in a limited cgroup.
	 */
	if (x->o.info->traits & PMB_K_THP)
		err = pmd_mapped_kb(&x->r, &thp_kb);
	if (err)
		return pmw_fatal(err, "/proc/self/smaps");
	if (x->o.info->traits & PMB_K_MTHP) {
		size_t pages;

		err = large_folio_pages(&x->r, &pages);
		if (err)
			return pmw_fatal(err, "/proc/self/pagemap");
		thp_kb = pages * x->r.page_size / 1024;
	}
	err = pmw_ctx_oracle(x, c);
	if (err)
		return pmw_fatal(err, "oracle");
	if (x->o.swapout == PMW_SWAPOUT_CGROUP)
		c->missed = c->extra = 0;	/* the kernel chose, not us */
	ready = (struct pmb_ready){
		.addr = (uintptr_t)x->r.addr, .pages = x->r.pages, .page_size = x->r.page_size,
		.none = c->state[PMS_NONE], .present = c->state[PMS_PRESENT],
		.swapped = c->state[PMS_SWAPPED], .unmapped = c->state[PMS_UNMAPPED],
		.pageout_missed = c->missed,
		.pageout_extra = c->extra, .contradictions = c->contradictions,
		.pageout_passes = x->passes, .view_pid = (uint64_t)x->view_pid,
		.view_addr = x->view_addr, .thp_pages = thp_kb * 1024 / x->r.page_size,
		.zero_page = x->zero_page, .touch_read = x->o.touch == PMW_TOUCH_READ,
	};
	err = pmb_wire_ready_format(line, sizeof(line), &ready);
	if (!err)
		err = pmw_say("%s", line);
	if (err)
		return pmw_fatal(err, "write READY");
	return 0;
}

static int run(struct pmw_ctx *x)
{
	const char *why = x->o.kind->probe ? x->o.kind->probe() : NULL;
	int err;

	if (!why)
		why = pmw_view_unsupported(&x->o);
	if (why)
		return skip(why);
	if (x->o.swapout != PMW_SWAPOUT_NONE) {
		err = swap_active();
		if (err < 0)
			return pmw_fatal(err, "/proc/swaps");
		if (!err)
			return skip("no active swap");
	}
	/* Before the region exists: the probe's two pages are charged and freed first. */
	err = pmb_read_fault_zero_page();
	if (err < 0)
		return pmw_fatal(err, "probing the zero page");
	x->zero_page = err;
	err = alloc_vectors(x);
	if (err)
		return pmw_fatal(err, "allocate page vectors");
	err = x->o.kind->create(&x->r);
	if (err)
		return pmw_fatal(err, "create region");
	err = reach_state(x);
	free_scratch(x);	/* set-up only; nothing allocates after this */
	if (err)
		return err;
	err = pmw_view_start(x);
	if (err)
		return pmw_fatal(err, "start the view process");
	err = report_ready(x);
	if (err)
		return err;
	raise(SIGSTOP);
	return pmw_serve(x);
}

int main(int argc, char **argv)
{
	struct pmw_ctx x = { .r = { .fd = -1, .id = -1 } };
	long ps;
	int ret;

	pmb_prog = "pmwork";
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return pmw_fatal(-errno, "prctl(PR_SET_PDEATHSIG)");
	if (getppid() == 1)
		return pmw_fatal(0, "parent already gone");
	ps = sysconf(_SC_PAGESIZE);
	if (ps <= 0)
		return pmw_fatal(-EINVAL, "sysconf(_SC_PAGESIZE)");
	ret = parse_args(argc, argv, &x.o, (size_t)ps);
	if (ret == -2)
		return PMB_EXIT_PASS;	/* --help */
	if (ret)
		return ret;
	if (x.o.list)
		return list_kinds();
	x.r.page_size = (size_t)ps;
	x.r.pages = x.o.pages;
	x.r.len = x.o.pages * (size_t)ps;
	ret = run(&x);
	pmw_view_stop(&x);
	if (x.r.addr)
		x.o.kind->destroy(&x.r);
	free_vectors(&x);
	return ret;
}
