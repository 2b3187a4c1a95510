/* SPDX-License-Identifier: GPL-2.0 */
/* Summary statistics over raw samples; every summary in the project comes from here. */
#ifndef PMB_STATS_H
#define PMB_STATS_H

#include <stddef.h>
#include <stdint.h>

struct pmb_summary {
	size_t n;
	double median, q1, q3, p5, p95, min, max, mean, cv;
	double ci_lo, ci_hi;	/* bootstrap 95% CI of the median */
	size_t outliers;	/* beyond 1.5 IQR of the quartiles: reported, never dropped */
};

/* Quantile (type 7, linear) of an ascending array. */
double pmb_quantile(const double *sorted, size_t n, double q);
void pmb_sort(double *v, size_t n);
/* The median of v[0..n) (not modified); NAN when n is 0. */
double pmb_median(const double *v, size_t n);

/* Summarize v (n values; reordered).  Bootstrap with `resamples` draws from seed. */
int pmb_summarize(double *v, size_t n, unsigned resamples, uint64_t seed,
		  struct pmb_summary *out);

/*
 * Ratio of medians b/a with a bootstrap 95% CI (resampling both sides
 * independently).  a and b are not modified.
 */
int pmb_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		 unsigned resamples, uint64_t seed,
		 double *ratio, double *lo, double *hi);

/*
 * Between-state noise: samples v[0..n) came from states g[0..n) (a state is
 * one build of the memory state: a series, or a boot).  The hierarchical
 * bootstrap draws states with replacement, then samples with replacement
 * within each drawn state, so that its interval covers the variance between
 * states as well as within them (docs/statistics.md).  With one state it is
 * the ordinary bootstrap.
 */
int pmb_hier_ratio_ci(const double *a, const long long *ga, size_t na,
		      const double *b, const long long *gb, size_t nb,
		      unsigned resamples, uint64_t seed, double *ratio, double *lo, double *hi);
/* The median's bootstrap CI in the same way, for one side. */
int pmb_hier_median_ci(const double *v, const long long *g, size_t n, unsigned resamples,
		       uint64_t seed, double *median, double *lo, double *hi);
/*
 * The interval of one timed series' median, as the run's summary and its
 * sampler both compute it: the hierarchical bootstrap above with
 * PMB_CI_RESAMPLES resamples and a seed made from the series' name, so that
 * the same samples give the same interval wherever it is computed.
 */
#define PMB_CI_RESAMPLES 2000
int pmb_series_ci(const double *v, const long long *g, size_t n, const char *method, long long batch,
		  long long qd, double *median, double *lo, double *hi);
/* Distinct values of g[0..n). */
size_t pmb_count_groups(const long long *g, size_t n);

/* Two-sided Mann-Whitney U test, normal approximation with tie correction. */
double pmb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

#endif
