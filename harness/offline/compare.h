/* SPDX-License-Identifier: GPL-2.0 */
/* Comparing two runs: per-series ratio, CI, rank test and verdict; correctness differences. */
#ifndef PMB_COMPARE_H
#define PMB_COMPARE_H

#include "rundata.h"

#include <stdint.h>
#include <stdio.h>

#define PMB_DEFAULT_THRESHOLD_PCT	5.0
#define PMB_MIN_SAMPLES			5
#define PMB_RESAMPLES			2000

/* Errors of pmb_compare_load beyond -errno of the loaders. */
#define PMB_ERR_SCHEMA		(-EPROTO)	/* different or unknown schema: usage */
#define PMB_ERR_NOCOMMON	(-ENODATA)	/* no cases in common: usage */
#define PMB_ERR_NOTDONE		(-EBUSY)	/* a run is not complete: cannot run */

enum pmb_verdict { PMB_V_NOCHANGE, PMB_V_REGRESSION, PMB_V_IMPROVEMENT, PMB_V_FEW };

struct pmb_cmp_row {
	const struct pmb_rcase *bc, *cc;
	const char *method;
	long long batch, qd;
	size_t nb, nc;
	double med_b, med_c, ratio, lo, hi, p;	/* NAN when too few samples */
	double floor_pct;			/* max(hi - 1, 1 - lo) in %, NAN if few */
	enum pmb_verdict verdict;
};

struct pmb_corr_row {
	const struct pmb_rcase *bc, *cc;
	int differs;
	char text[1536];	/* plain sentence(s) when it differs */
};

struct pmb_cmp {
	struct pmb_run base, cand;
	double threshold_pct;
	uint64_t seed;
	int same_build;
	struct pmb_cmp_row *rows;
	size_t nrows;
	struct pmb_corr_row *corr;
	size_t ncorr;
	size_t cases_only_base, cases_only_cand, series_only_base, series_only_cand;
};

int pmb_compare_load(const char *base, const char *cand, double threshold_pct, uint64_t seed,
		     struct pmb_cmp *c);
void pmb_compare_free(struct pmb_cmp *c);
/* Exit code for an error of pmb_compare_load. */
int pmb_compare_exit(int err);

const char *pmb_verdict_token(enum pmb_verdict v);	/* regression, no-change, ... */
const char *pmb_verdict_text(enum pmb_verdict v);	/* "no change within noise", ... */
/* "memfd-...:batched:b64:qd1" */
void pmb_row_name(const struct pmb_cmp_row *r, char *buf, size_t len);

/* Make a new directory: path, else path-2, path-3...; the name made goes into out. */
int pmb_mkdir_new(const char *path, char *out, size_t len);
/* Default output: <parent of BASE>/<prefix>-<base-id>-vs-<cand-id>. */
void pmb_default_outdir(const struct pmb_cmp *c, const char *prefix, char *out, size_t len);
/* fopen of dir/name for writing; pmb_close_out checks the write. */
FILE *pmb_open_out(const char *dir, const char *name);
int pmb_close_out(FILE *f, const char *dir, const char *name);

int pmb_compare_write_tsv(const struct pmb_cmp *c, const char *dir);
int pmb_compare_write_json(const struct pmb_cmp *c, const char *dir);
void pmb_compare_print_table(const struct pmb_cmp *c, FILE *f, const char *indent);
void pmb_compare_print_header(const struct pmb_cmp *c, FILE *f);
void pmb_compare_print_correctness(const struct pmb_cmp *c, FILE *f);
int pmb_compare_write_report(const struct pmb_cmp *c, const char *dir);

struct pmb_cmp_opts {
	const char *base, *cand, *out, *policy, *floor;
	double thr;
	int thr_set, noplots, print_policy;
	uint64_t seed;
};
int pmb_parse_cmp_opts(int argc, char **argv, int gate, struct pmb_cmp_opts *o);

/* plot.c: render the plots of a run or comparison directory (an exit code). */
int pmb_plot_dir(const char *dir, int quiet_skip);

#endif
