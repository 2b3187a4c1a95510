/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Comparing two runs (docs/gate.md, docs/statistics.md): per series the
 * ratio of medians CAND/BASE with a confidence interval that covers the
 * noise between states (hierarchical bootstrap), its ratio in each half of
 * an ABBA order, a rank test and a verdict; per case the differences in
 * correctness.
 */
#ifndef PMB_COMPARE_H
#define PMB_COMPARE_H

#include "rundata.h"
#include "lib/opt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PMB_DEFAULT_THRESHOLD_PCT	5.0
#define PMB_MIN_SAMPLES			5
#define PMB_RESAMPLES			2000
#define PMB_MAX_SOURCES			16	/* runs merged into one, e.g. the boots of one kernel */

/* Errors of pmb_compare_load beyond -errno of the loaders. */
#define PMB_ERR_SCHEMA		(-EPROTO)	/* different or unknown schema: usage */
#define PMB_ERR_NOCOMMON	(-ENODATA)	/* no cases in common: usage */
#define PMB_ERR_NOTDONE		(-EBUSY)	/* a run is not complete: cannot run */

/* A series' verdict against the threshold (compare) or its limit (gate). */
enum pmb_series_verdict {
	PMB_SV_NOCHANGE,	/* the whole interval within the limits */
	PMB_SV_REGRESSION,	/* the whole interval above, in every ABBA half */
	PMB_SV_IMPROVEMENT,	/* the whole interval below, in every ABBA half */
	PMB_SV_INCONCLUSIVE,	/* the interval straddles a limit: the noise is too large to tell */
	PMB_SV_FEW,		/* too few samples on a side */
	PMB_NR_SV,
};
extern const char *const pmb_sv_token[PMB_NR_SV];	/* no-change, regression, ... */
extern const char *const pmb_sv_text[PMB_NR_SV];	/* "no change within noise", ... */

struct pmb_cmp_row {
	const struct pmb_rcase *bc, *cc;
	const char *method;
	long long batch, qd;
	size_t nb, nc;				/* samples */
	size_t states_b, states_c;		/* states they came from */
	double med_b, med_c, ratio, lo, hi, p;	/* NAN when too few samples */
	double host, host_lo, host_hi;		/* the case's probe ratio and CI; NAN: no probe */
	int host_steady;			/* the probe within 1 +- threshold: 1, 0; -1 no probe */
	double floor_pct;			/* max(hi - 1, 1 - lo) in %, NAN if few */
	double half[PMB_MAX_SOURCES];		/* ratio of medians in each ABBA half */
	size_t nhalves;				/* 0: the runs are not merged alike */
	enum pmb_series_verdict verdict;
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
	size_t sources_b, sources_c;	/* runs merged into each (1 when not merged) */
	long long stride_b, stride_c;	/* series = source * stride + series of the source */
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

/*
 * The verdict of an interval [lo, hi] and the ABBA halves against the limits
 * lim_lo < 1 < lim_hi (either may be NAN: no such side).
 */
enum pmb_series_verdict pmb_judge_interval(double lo, double hi, const double *half, size_t nhalves,
					   double lim_lo, double lim_hi);

/* "memfd-...:batched:b64:qd1" */
void pmb_row_name(const struct pmb_cmp_row *r, char *buf, size_t len);
/* The suffix of a series in CI names: "batched.b64.qd1". */
void pmb_row_suffix(const struct pmb_cmp_row *r, char *buf, size_t len);

/* Default output: <parent of BASE>/<prefix>-<base-id>-vs-<cand-id> (run ids are checked names). */
void pmb_default_outdir(const struct pmb_cmp *c, const char *prefix, char *out, size_t len);

int pmb_compare_write_tsv(const struct pmb_cmp *c, const char *dir);
int pmb_compare_write_json(const struct pmb_cmp *c, const char *dir);
void pmb_compare_print_table(const struct pmb_cmp *c, FILE *f, const char *indent);
void pmb_compare_print_header(const struct pmb_cmp *c, FILE *f);
void pmb_compare_print_correctness(const struct pmb_cmp *c, FILE *f);
void pmb_compare_print_method(const struct pmb_cmp *c, FILE *f);

/* The options compare and gate share (gate adds its own rows). */
struct pmb_cmp_opts {
	const char *pos[2];
	const char *out, *policy, *floor;
	const char *reproduce;	/* gate: the command reply.txt gives (default: this one) */
	double thr;
	bool thr_set, noplots, print_policy;
	uint64_t seed;
};
extern const struct pmb_opt_spec pmb_compare_spec;

#endif
