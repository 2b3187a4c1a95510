/* SPDX-License-Identifier: GPL-2.0 */
/* pmwork: state shared by the set-up (pmwork.c) and the command loop (serve.c). */
#ifndef PMW_PMWORK_H
#define PMW_PMWORK_H

#include <stdint.h>

#include "kind.h"
#include "layout.h"
#include "oracle.h"

enum pmw_swapout { PMW_SWAPOUT_NONE, PMW_SWAPOUT_PAGEOUT, PMW_SWAPOUT_CGROUP };

struct pmw_opts {
	const struct pmw_kind *kind;
	uint64_t pages;
	double dirty_pct, swapped_pct;
	enum pmw_swapout swapout;
	enum pmw_layout layout;
	uint64_t seed;
};

struct pmw_ctx {
	struct pmw_opts o;
	struct pmw_region r;
	uint8_t *flags;		/* PMW_DIRTY | PMW_CHOSEN per page */
	uint8_t *state;		/* the oracle's vector, enum pm_state per page */
	size_t *cand, *idx;	/* set-up scratch, pages entries each */
	struct pmw_counts c;
	unsigned passes;	/* MADV_PAGEOUT passes made */
};

/* Write a protocol line (printf-style, "\n" appended) to stdout with write(2). */
int pmw_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fatal: "ERROR <msg>" on stdout, one line on stderr; returns PMB_EXIT_ERROR. */
int pmw_fatal(int err, const char *what);

/* Serve harness commands until EXIT or EOF.  Returns the exit code. */
int pmw_serve(struct pmw_ctx *x);

#endif
