/* SPDX-License-Identifier: GPL-2.0 */
/* pmwork: state shared by the set-up (pmwork.c), the steps (steps.c), views (view.c) and the command loop (serve.c). */
#ifndef PMW_PMWORK_H
#define PMW_PMWORK_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kind.h"
#include "layout.h"
#include "oracle.h"

/* In the order of the catalog's pmb_swapouts, pmb_touches and pmb_views. */
enum pmw_swapout { PMW_SWAPOUT_PAGEOUT, PMW_SWAPOUT_CGROUP, PMW_SWAPOUT_NONE };
enum pmw_touch { PMW_TOUCH_WRITE, PMW_TOUCH_READ };
enum pmw_view { PMW_VIEW_SELF, PMW_VIEW_SECOND_MAPPER, PMW_VIEW_FORK_CHILD };

struct pmw_opts {
	const struct pmb_kind_info *info;	/* the kind's catalog row */
	const struct pmw_kind *kind;		/* its hooks */
	uint64_t pages;
	double dirty_pct, swapped_pct;
	int swapout;		/* enum pmw_swapout */
	int layout;		/* enum pmw_layout */
	int touch;		/* enum pmw_touch */
	int view;		/* enum pmw_view */
	uint64_t seed;
	bool list;
};

struct pmw_ctx {
	struct pmw_opts o;
	struct pmw_region r;
	uint8_t *flags;		/* PMW_* construction flags per page (oracle.h) */
	uint8_t *state;		/* the oracle's vector, enum pm_state per page */
	size_t *cand, *idx;	/* set-up scratch, pages entries each */
	struct pmw_counts c;
	unsigned passes;	/* MADV_PAGEOUT passes made by the last pageout */
	pid_t view_pid;		/* the view process (ourselves for --view self) */
	uintptr_t view_addr;	/* where the view maps the region */
	bool zero_page;		/* private read faults map the shared zero page (lib/kernel.h) */
};

/* Write a protocol line (printf-style, "\n" appended) to stdout with write(2). */
int pmw_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fatal: "ERROR <msg>" on stdout, one line on stderr; returns PMB_EXIT_ERROR. */
int pmw_fatal(int err, const char *what);

/* The oracle over x's region, flags and state vector. */
int pmw_ctx_oracle(struct pmw_ctx *x, struct pmw_counts *c);

/* Pages of the largest folio the kind may use: 512 (PMD THP), 16 (64 KiB mTHP) or 1. */
size_t pmw_folio_pages(const struct pmw_ctx *x);

/* Steps (steps.c).  None allocates. */
void pmw_choose_dirty(struct pmw_ctx *x);	/* mark the dirty set PMW_DIRTY (uses idx) */
void pmw_plan_pageout(struct pmw_ctx *x);	/* choose PMW_PLAN among it (uses cand, idx) */
void pmw_touch_pages(struct pmw_ctx *x);	/* touch the dirty set, in index order */
int pmw_pageout(struct pmw_ctx *x);		/* MADV_PAGEOUT the plan, with retries */
void pmw_fault(struct pmw_ctx *x);		/* write the pattern into the dirty set */
int pmw_remove(struct pmw_ctx *x);		/* drop every page */
/* Pin to the current CPU (true if pinned); restore the saved affinity. */
bool pmw_pin_cpu(cpu_set_t *saved);
void pmw_unpin_cpu(bool pinned, const cpu_set_t *saved);

/* Views (view.c): why the view cannot be had, or NULL; start and stop it. */
const char *pmw_view_unsupported(const struct pmw_opts *o);
int pmw_view_start(struct pmw_ctx *x);
void pmw_view_stop(struct pmw_ctx *x);

/* Serve harness commands until EXIT or EOF.  Returns the exit code. */
int pmw_serve(struct pmw_ctx *x);

#endif
