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

/* Two-sided Mann-Whitney U test, normal approximation with tie correction. */
double pmb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

#endif
