/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A results directory as the offline consumers see it (docs/results.md,
 * harness/schema/): loaded once, every field checked, so that compare, gate,
 * plot, merge and model never meet a malformed value.  A run directory is
 * untrusted input; loaders print one line naming file:line and return
 * -errno (pmb_bad_input() tells bad input from a harness failure).
 */
#ifndef PMB_RUNDATA_H
#define PMB_RUNDATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "harness/schema/schema.h"
#include "lib/pagemap.h"
#include "lib/strmap.h"
#include "lib/tsv.h"

/* A page count is at most this (pmscan's limit times the steps of a sequence). */
#define PMB_MAX_CASE_PAGES	(UINT64_C(1) << 32)

/* One memory state (a row of cases.tsv). */
struct pmb_rcase {
	const char *id, *kind, *swapout, *reason;
	const char *view;		/* self, second-mapper, fork-child */
	const char *methods_wrong;	/* "dense:816,sparse:816", "" or "-": none */
	const char *sampling;		/* how timing stopped (run.c's time_case), "-" untimed */
	enum pmb_case_verdict verdict;
	long long pages;
	double dirty_pct, swapped_pct;
	long long true_n[PMS_TRUTHS];	/* none, present, swapped, unmapped */
	long long cm[PMS_TRUTHS][PMS_NR];	/* [true][reported] */
	long long swap_bad_type, swap_bad_offset, swap_dup;
	long long content_ok, content_bad, content_unchecked;
	long long start_pmd_pos;	/* -1 unknown */
};

/* One timed series: its measured samples in ns per entry, and the state each came from. */
struct pmb_series {
	size_t case_idx;
	const char *method;
	long long batch, qd;
	double *v;
	long long *state;	/* samples.tsv's series number of each sample: which build of the state */
	size_t n, cap;
};

struct pmb_run {
	char dir[4096];
	json_t *meta;
	const char *run_id, *schema, *status;
	const char *krelease, *kversion, *kconfig;	/* "" when absent */
	const char *kimage;				/* sha256 of the booted image, "" on the host */
	const char *environment;			/* host, qemu-icount, qemu-tcg, qemu-kvm */
	bool busy;		/* the host was busy while it ran (meta.json host_noise, or host-noise.json) */
	long long kernel_outside;	/* kernel problems logged outside every case (meta.json kernel_log) */
	const char *kernel_lines;
	char *console_buf;	/* kernel-console.txt, written by vm.sh */
	char busy_why[256];
	char kbuild[768];	/* how the kernel was built (kernel-build.json), one line; "" unknown */
	struct pmb_tsv cases_tsv, samples_tsv;
	struct pmb_rcase *cases;
	size_t ncases;
	struct pmb_series *series;
	size_t nseries;
	size_t rows_skipped;	/* warm-up, discarded, or zero entries */
	struct pmb_strmap case_map, series_map;
};

/*
 * Loads meta.json first and stops there when the schema is not PMB_SCHEMA or
 * the run is not complete: the caller refuses such a run with its own
 * message (a half-written run's tables are never read).
 */
int pmb_run_load(const char *dir, struct pmb_run *r);
/* The same for the run this process is writing: its tables whatever its status says. */
int pmb_run_read_own(const char *dir, struct pmb_run *r);
void pmb_run_free(struct pmb_run *r);
/* -1 when absent. */
long pmb_run_find_case(const struct pmb_run *r, const char *id);
long pmb_run_find_series(const struct pmb_run *r, const char *case_id, const char *method,
			 long long batch, long long qd);
/* "swapped", "holes" or "resident". */
const char *pmb_case_state(const struct pmb_rcase *c);
/* Sum of the off-diagonal confusion cells. */
long long pmb_case_misreported(const struct pmb_rcase *c);
/* A string of meta.json (an object path of up to two keys); "" when absent or not a string. */
const char *pmb_meta_str(json_t *meta, const char *key, const char *sub);

/* Whether a series is the host probe (the host's speed, never judged as the kernel's). */
bool pmb_is_probe(const char *method);
/* The most entries a samples.tsv row of this method may have, in a case of pages pages. */
long long pmb_sample_max_entries(const char *method, long long pages);

#endif
