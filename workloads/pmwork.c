// SPDX-License-Identifier: GPL-2.0
/*
 * pmwork: build one region of one memory kind, dirty it with the page
 * pattern, drive it to a swap state, report the oracle's truth (READY) and
 * serve the harness's commands while SIGSTOPped.  See docs/workloads.md.
 */
#include "pmwork.h"

#include <errno.h>
#include <getopt.h>
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
#include "lib/util.h"

static const char usage_text[] =
	"usage: pmwork --kind KIND --pages N [--dirty PCT] [--swapout none|pageout|cgroup]\n"
	"              [--swapped PCT] [--layout contiguous|strided|random] [--seed S]\n"
	"              [--touch write|read] [--view self|second-mapper|fork-child]\n"
	"       pmwork --list\n";

/* One line on stderr; returns the usage exit code. */
__attribute__((format(printf, 1, 2)))
static int usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmb_vmsg("", 0, " (see --help)", fmt, ap);
	va_end(ap);
	return PMB_EXIT_USAGE;
}

static int list_kinds(void)
{
	const struct pmw_kind *const *k;

	for (k = pmw_kinds; *k; k++) {
		const char *why = (*k)->probe ? (*k)->probe() : NULL;

		printf("%s\t%s\t%s%s\n", (*k)->name, (*k)->desc,
		       why ? "skip: " : "ok", why ? why : "");
	}
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}

static int parse_swapout(const char *s, enum pmw_swapout *out)
{
	if (!strcmp(s, "none"))
		*out = PMW_SWAPOUT_NONE;
	else if (!strcmp(s, "pageout"))
		*out = PMW_SWAPOUT_PAGEOUT;
	else if (!strcmp(s, "cgroup"))
		*out = PMW_SWAPOUT_CGROUP;
	else
		return -EINVAL;
	return 0;
}

static int parse_touch(const char *s, enum pmw_touch *out)
{
	if (!strcmp(s, "write"))
		*out = PMW_TOUCH_WRITE;
	else if (!strcmp(s, "read"))
		*out = PMW_TOUCH_READ;
	else
		return -EINVAL;
	return 0;
}

static int parse_view(const char *s, enum pmw_view *out)
{
	if (!strcmp(s, "self"))
		*out = PMW_VIEW_SELF;
	else if (!strcmp(s, "second-mapper"))
		*out = PMW_VIEW_SECOND_MAPPER;
	else if (!strcmp(s, "fork-child"))
		*out = PMW_VIEW_FORK_CHILD;
	else
		return -EINVAL;
	return 0;
}

enum { OPT_LIST = 256, OPT_HELP };

static const struct option long_opts[] = {
	{ "kind", required_argument, NULL, 'k' },
	{ "pages", required_argument, NULL, 'n' },
	{ "dirty", required_argument, NULL, 'd' },
	{ "swapout", required_argument, NULL, 'o' },
	{ "swapped", required_argument, NULL, 's' },
	{ "layout", required_argument, NULL, 'l' },
	{ "seed", required_argument, NULL, 'S' },
	{ "touch", required_argument, NULL, 't' },
	{ "view", required_argument, NULL, 'v' },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* One option; 0, or the exit code for main (usage error, or -1 for --list). */
static int parse_one(int c, const char *arg, struct pmw_opts *o, uint64_t max_pages)
{
	switch (c) {
	case 'k':
		o->kind = pmw_kind_find(arg);
		return o->kind ? 0 : usage("unknown kind '%s' (pmwork --list)", arg);
	case 'n':
		return pmb_parse_u64(arg, 1, max_pages, &o->pages) ?
			usage("--pages: '%s' is not a page count >= 1", arg) : 0;
	case 'd':
		return pmb_parse_pct(arg, &o->dirty_pct) ?
			usage("--dirty: '%s' is not a percentage 0..100", arg) : 0;
	case 's':
		return pmb_parse_pct(arg, &o->swapped_pct) ?
			usage("--swapped: '%s' is not a percentage 0..100", arg) : 0;
	case 'o':
		return parse_swapout(arg, &o->swapout) ?
			usage("--swapout: '%s' is not none, pageout or cgroup", arg) : 0;
	case 'l':
		return pmw_layout_parse(arg, &o->layout) ?
			usage("--layout: '%s' is not contiguous, strided or random", arg) : 0;
	case 'S':
		return pmb_parse_u64(arg, 0, UINT64_MAX, &o->seed) ?
			usage("--seed: '%s' is not an unsigned integer", arg) : 0;
	case 't':
		return parse_touch(arg, &o->touch) ?
			usage("--touch: '%s' is not write or read", arg) : 0;
	case 'v':
		return parse_view(arg, &o->view) ?
			usage("--view: '%s' is not self, second-mapper or fork-child", arg) : 0;
	case OPT_LIST:
		return -1;
	case OPT_HELP:
		fputs(usage_text, stdout);
		exit(PMB_EXIT_PASS);
	default:
		return usage("%s", "bad option");
	}
}

static int parse_args(int argc, char **argv, struct pmw_opts *o, size_t page_size)
{
	int c, ret;

	*o = (struct pmw_opts){ .dirty_pct = 100, .swapped_pct = 50,
				.swapout = PMW_SWAPOUT_NONE, .layout = PMW_RANDOM,
				.seed = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?')
			return usage("bad option or missing argument: '%s'",
				     argv[optind - 1]);
		ret = parse_one(c, optarg, o, SIZE_MAX / page_size);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (!o->kind)
		return usage("%s", "--kind is required");
	if (!o->pages)
		return usage("%s", "--pages is required");
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

static int report_ready(struct pmw_ctx *x)
{
	struct pmw_counts *c = &x->c;
	size_t thp_kb = 0;
	int err = 0;

	/*
	 * Only where THP is possible, and before the oracle: reading smaps
	 * allocates (kernel buffers too), which reclaims in a limited cgroup.
	 */
	if (x->o.kind->thp)
		err = pmd_mapped_kb(&x->r, &thp_kb);
	if (err)
		return pmw_fatal(err, "/proc/self/smaps");
	err = pmw_ctx_oracle(x, c);
	if (err)
		return pmw_fatal(err, "oracle");
	if (x->o.swapout == PMW_SWAPOUT_CGROUP)
		c->missed = c->extra = 0;	/* the kernel chose, not us */
	err = pmw_say("READY addr=%#lx pages=%zu page_size=%zu none=%zu present=%zu "
		      "swapped=%zu pageout_missed=%zu pageout_extra=%zu contradictions=%zu "
		      "pageout_passes=%u view_pid=%ld view_addr=%#lx thp_pages=%zu zero_page=%d%s",
		      (unsigned long)x->r.addr, x->r.pages, x->r.page_size,
		      c->state[PMS_NONE], c->state[PMS_PRESENT], c->state[PMS_SWAPPED],
		      c->missed, c->extra, c->contradictions, x->passes,
		      (long)x->view_pid, (unsigned long)x->view_addr,
		      thp_kb * 1024 / x->r.page_size, x->zero_page,
		      x->o.touch == PMW_TOUCH_READ ? " touch=read" : "");
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
	if (ret == -1)
		return list_kinds();
	if (ret)
		return ret;
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
