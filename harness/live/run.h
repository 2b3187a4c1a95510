/* SPDX-License-Identifier: GPL-2.0 */
/* The run: its parameters and its cases (proc.h, judge.h and rundir.h hold the pieces it uses). */
#ifndef PMB_RUN_H
#define PMB_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "env.h"
#include "harness/schema/schema.h"
#include "lib/pagemap.h"

#define PMB_MAX_LIST 32
/* Pages per region at most: one dense pread of them stays below the kernel's 2 GiB cap. */
#define PMB_MAX_PAGES (UINT64_C(1) << 27)

struct pmb_params {
	const char *profile;
	const char *kinds[PMB_MAX_LIST];
	unsigned nkinds;
	const char *swapouts[PMB_MAX_LIST];
	unsigned nswapouts;
	uint64_t sizes[PMB_MAX_LIST];		/* bytes */
	unsigned nsizes;
	double dirty[PMB_MAX_LIST];
	unsigned ndirty;
	double swapped[PMB_MAX_LIST];
	unsigned nswapped;
	const char *methods[PMB_MAX_LIST];	/* dense, sparse, batched */
	unsigned nmethods;
	uint64_t batches[PMB_MAX_LIST];
	unsigned nbatches;
	const char *layout;
	const char *views[PMB_MAX_LIST];	/* self, second-mapper, fork-child */
	unsigned nviews;
	const char *touch;			/* write (default) or read */
	bool sequence;				/* add the sequence cases */
	unsigned swapin_rounds;			/* swap-in timings per case */
	uint64_t seed;
	unsigned rounds, warmup, series, sparse_reads, qd;
	double precision;			/* target 95% CI half-width in %, 0: fixed rounds and series */
	unsigned time_budget;			/* seconds of timing per case at most, 0: none */
	unsigned max_series;			/* states per case at most */
	unsigned extra_work;			/* --extra-work: % of each pass read again (sensitivity checks) */
	unsigned cpu;
	const char *swap;			/* zram | existing | PATH */
	uint64_t swap_size;
	const char *cgroup;			/* auto | v1 | v2 */
	const char *results;			/* results root */
	bool timing;				/* false for verify */
	bool check_content;
	bool no_wait;			/* refuse, not wait, when another run holds the machine */
};

/* What a case was and what was found. */
struct pmb_case {
	char id[160];
	const char *kind, *swapout;
	const char *view;			/* self second-mapper fork-child */
	const char *touch;			/* write read */
	bool sequence;				/* the fault/pageout/remove sequence, not a state */
	uint64_t pages;
	double dirty, swapped;
	enum pmb_case_verdict verdict;
	char reason[256];
	uint64_t truth[PMS_TRUTHS];
	uint64_t cm[PMS_TRUTHS][PMS_NR];	/* [true][reported] */
	uint64_t bad_type, bad_offset, dup, content_ok, content_bad, content_unchecked;
	uint64_t unmapped_behind;	/* pages reclaim unmapped without the oracle knowing (smaps Rss) */
	uint64_t smaps_swap_kb, oracle_swap_kb;
	const char *agree;			/* yes no - */
	char userspace[32];			/* the userspace method against the oracle: yes, no:N, - */
	char methods_wrong[256];		/* methods whose pages differ from the oracle: "scan-ioctl:2048" */
	int start_pmd_pos;			/* the region's first page's index in its 2 MiB block, -1 unknown */
	long thp_pages;				/* pages mapped by PMDs when built (thp-shmem), -1 unknown */
	unsigned series_total, series_discarded;
	unsigned kernel_log;			/* kernel problems (WARN, BUG, Oops...) logged while it ran */
	char sampling[400];			/* how timing stopped: fixed, met, budget, max-series */
};

extern volatile int pmb_stop_signal;	/* set by SIGINT/SIGTERM */

/* params.c: the options of run and verify; 0, PMB_OPT_HELP, or -EINVAL (printed). */
int pmb_params_parse(int argc, char **argv, struct pmb_params *p, bool verify);

#endif
