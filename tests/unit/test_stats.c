// SPDX-License-Identifier: GPL-2.0
/* lib/stats.h on inputs whose answers are known. */
#include "lib/stats/stats.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static void shuffle(double *v, size_t n, uint64_t seed)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)pmb_rand_below(&seed, i);
		double t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void test_quantile(void)
{
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 10, 20 }, c[] = { 7 };
	double d[] = { 5, 3, 9, 1, 7 };

	CHECK(pmb_quantile(a, 5, 0) == 1 && pmb_quantile(a, 5, 1) == 5, "q0 and q1 are min and max");
	CHECK(pmb_quantile(a, 5, 0.5) == 3, "median of 1..5");
	CHECK(pmb_quantile(a, 5, 0.25) == 2 && pmb_quantile(a, 5, 0.75) == 4, "quartiles of 1..5");
	CHECK(NEAR(pmb_quantile(a, 5, 0.1), 1.4, 1e-12), "type-7 interpolation: q0.1 of 1..5 = 1.4");
	CHECK(pmb_quantile(b, 2, 0.5) == 15, "median of two values is their mean");
	CHECK(pmb_quantile(c, 1, 0.3) == 7, "one value is every quantile");
	CHECK(isnan(pmb_quantile(a, 0, 0.5)), "no values: NaN");
	pmb_sort(d, 5);
	CHECK(d[0] == 1 && d[1] == 3 && d[2] == 5 && d[3] == 7 && d[4] == 9, "sort ascending");
}

static void test_summarize(void)
{
	double v[100], w[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000 };
	struct pmb_summary s;
	size_t i;

	for (i = 0; i < 100; i++)
		v[i] = (double)(i + 1);
	shuffle(v, 100, 3);
	CHECK(pmb_summarize(v, 100, 0, 1, &s) == 0, "summarize 1..100");
	CHECK(s.n == 100 && s.median == 50.5 && s.min == 1 && s.max == 100, "n, median, min, max");
	CHECK(NEAR(s.q1, 25.75, 1e-9) && NEAR(s.q3, 75.25, 1e-9), "quartiles 25.75 / 75.25");
	CHECK(NEAR(s.p5, 5.95, 1e-9) && NEAR(s.p95, 95.05, 1e-9), "p5 5.95 / p95 95.05");
	CHECK(NEAR(s.mean, 50.5, 1e-9), "mean 50.5");
	CHECK(NEAR(s.cv, sqrt(100.0 * 101.0 / 12.0) / 50.5, 1e-9), "cv = sd / mean");
	CHECK(s.outliers == 0, "no outliers in 1..100");
	CHECK(s.ci_lo == s.median && s.ci_hi == s.median, "no resamples: CI is the median");
	CHECK(pmb_summarize(w, 10, 0, 1, &s) == 0 && s.outliers == 1 && s.max == 1000,
	      "one outlier reported, not dropped");
	CHECK(pmb_summarize(w, 0, 100, 1, &s) == 0 && s.n == 0 && isnan(s.median),
	      "empty set: NaN summary");
	CHECK(pmb_summarize(w, 1, 100, 1, &s) == 0 && s.ci_lo == 1 && s.ci_hi == 1 && s.cv == 0,
	      "one value: CI collapses to it");
}

static void test_bootstrap(void)
{
	double v[60], u[60];
	struct pmb_summary a, b;
	uint64_t rng = 11;
	size_t i;

	for (i = 0; i < 60; i++)
		v[i] = 100 + (double)pmb_rand_below(&rng, 50);
	memcpy(u, v, sizeof(v));
	CHECK(pmb_summarize(v, 60, 2000, 42, &a) == 0, "bootstrap 2000 resamples");
	CHECK(a.ci_lo <= a.median && a.median <= a.ci_hi, "CI [%g, %g] contains the median %g",
	      a.ci_lo, a.ci_hi, a.median);
	CHECK(a.ci_lo < a.ci_hi, "CI of spread data has width");
	CHECK(a.ci_lo >= a.min && a.ci_hi <= a.max, "CI inside the data range");
	CHECK(pmb_summarize(u, 60, 2000, 42, &b) == 0 && a.ci_lo == b.ci_lo && a.ci_hi == b.ci_hi,
	      "same seed, same CI");
}

static void test_ratio(void)
{
	double a[40], b[40];
	double r, lo, hi;
	uint64_t rng = 5;
	size_t i;

	for (i = 0; i < 40; i++)
		a[i] = b[i] = 1000 + (double)pmb_rand_below(&rng, 100);
	CHECK(pmb_ratio_ci(a, 40, b, 40, 2000, 9, &r, &lo, &hi) == 0, "ratio of identical samples");
	CHECK(r == 1.0 && lo <= 1 && hi >= 1, "ratio 1, CI [%g, %g] contains 1", lo, hi);
	CHECK(lo > 0.9 && hi < 1.1, "CI of identical samples is narrow");
	for (i = 0; i < 40; i++)
		b[i] = 2 * a[i];
	CHECK(pmb_ratio_ci(a, 40, b, 40, 2000, 9, &r, &lo, &hi) == 0 && r == 2.0 &&
	      lo > 1.8 && hi < 2.2, "doubled samples: ratio 2, CI [%g, %g]", lo, hi);
	CHECK(pmb_ratio_ci(a, 0, b, 40, 2000, 9, &r, &lo, &hi) == -EINVAL, "empty side: -EINVAL");
}

static void test_mann_whitney(void)
{
	double a[30], b[30];
	size_t i;
	double p;

	for (i = 0; i < 30; i++) {
		a[i] = (double)i;
		b[i] = (double)i + 100;
	}
	p = pmb_mann_whitney_p(a, 30, b, 30);
	CHECK(p < 1e-6, "shifted samples: p = %g is small", p);
	p = pmb_mann_whitney_p(a, 30, a, 30);
	CHECK(p > 0.9, "identical samples: p = %g is large", p);
	for (i = 0; i < 30; i++)
		b[i] = (double)i + 0.5;
	p = pmb_mann_whitney_p(a, 30, b, 30);
	CHECK(p > 0.5, "interleaved samples: p = %g is large", p);
	CHECK(pmb_mann_whitney_p(a, 30, b, 30) == pmb_mann_whitney_p(b, 30, a, 30),
	      "two-sided: symmetric");
	CHECK(isnan(pmb_mann_whitney_p(a, 0, b, 30)), "empty side: NaN");
}

int main(void)
{
	test_quantile();
	test_summarize();
	test_bootstrap();
	test_ratio();
	test_mann_whitney();
	return check_done();
}
