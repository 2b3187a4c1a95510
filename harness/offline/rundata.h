/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a results directory (docs/results.md, schema pagemap-bench/1) for
 * the consumers: compare, gate and plot.  Loaders print one line on error and
 * return -errno (-EINVAL for malformed input, -ENOENT for a missing file).
 */
#ifndef PMB_RUNDATA_H
#define PMB_RUNDATA_H

#include <jansson.h>

#include "catalog/catalog.h"
#include <stddef.h>

#define PMB_SCHEMA	"pagemap-bench/1"

/* A TSV table: schema line, header, rows of strings (all in one buffer). */
struct pmb_tsv {
	char *buf;
	char **cells;		/* nrows * ncols */
	char **hdr;
	size_t ncols, nrows;
};

int pmb_tsv_load(const char *path, const char *table, struct pmb_tsv *t);
int pmb_tsv_col(const struct pmb_tsv *t, const char *name);
static inline const char *pmb_tsv_cell(const struct pmb_tsv *t, size_t row, int col)
{
	return t->cells[row * t->ncols + (size_t)col];
}
void pmb_tsv_free(struct pmb_tsv *t);

enum { PMB_CM_CELLS = 9 };

/* One memory state (a row of cases.tsv). */
struct pmb_rcase {
	const char *id, *kind, *swapout, *verdict, *reason;
	const char *view;		/* self, second-mapper, fork-child ("self" when absent) */
	long long pages;
	double dirty_pct, swapped_pct;
	long long true_n[3];		/* none, present, swapped */
	long long cm[3][3];		/* [true][reported] */
	long long swap_bad_type, swap_bad_offset, swap_dup;
	long long content_ok, content_bad, content_unchecked;
};

/* One timed series: its measured samples in ns per entry. */
struct pmb_series {
	size_t case_idx;
	const char *method;
	long long batch, qd;
	double *v;
	size_t n, cap;
};

struct pmb_run {
	char dir[4096];
	json_t *meta;
	const char *run_id, *schema, *status;
	const char *krelease, *kversion, *kconfig;	/* "" when absent */
	const char *kimage;				/* sha256 of the booted image, "" on the host */
	struct pmb_tsv cases_tsv, samples_tsv;
	struct pmb_rcase *cases;
	size_t ncases;
	struct pmb_series *series;
	size_t nseries;
	size_t rows_skipped;	/* warm-up, discarded, or zero entries */
};

int pmb_run_load(const char *dir, struct pmb_run *r);
void pmb_run_free(struct pmb_run *r);
/* -1 when absent. */
long pmb_run_find_case(const struct pmb_run *r, const char *id);
long pmb_run_find_series(const struct pmb_run *r, const char *case_id, const char *method,
			 long long batch, long long qd);
/* "swapped", "holes" or "resident". */
const char *pmb_case_state(const struct pmb_rcase *c);
/* Sum of the off-diagonal confusion cells. */
long long pmb_case_misreported(const struct pmb_rcase *c);

#endif
