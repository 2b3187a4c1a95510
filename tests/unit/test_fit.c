// SPDX-License-Identifier: GPL-2.0
/* lib/stats/fit.h on inputs whose answers are known. */
#include "lib/stats/fit.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

/* Normal equations of rows x[i][0..n) with y[i] and weight w[i] (NULL: 1). */
static void build(struct pmb_lsq *a, size_t n, const double (*x)[4], const double *y,
		  const double *w, size_t rows)
{
	pmb_lsq_init(a, n);
	for (size_t i = 0; i < rows; i++)
		pmb_lsq_add(a, x[i], y[i], w ? w[i] : 1);
	pmb_lsq_finish(a);
}

static void test_exact_fits(void)
{
	static const double x[6][4] = {
		{ 1, 0, 2, 0 }, { 1, 1, 0, 0 }, { 1, 2, 5, 0 }, { 1, 3, 1, 0 }, { 1, 7, 3, 0 },
		{ 1, 4, 4, 0 },
	};
	static const double w[6] = { 1, 0.5, 3, 10, 0.01, 2 };
	double y[6], beta[4], big[6][4], yb[6];
	struct pmb_lsq a;
	size_t i;

	for (i = 0; i < 6; i++)
		y[i] = 2 - 3 * x[i][1] + 0.5 * x[i][2];
	build(&a, 3, x, y, NULL, 6);
	CHECK(pmb_lsq_solve(&a, NULL, beta) == 0, "a consistent 6x3 system solves");
	CHECK(NEAR(beta[0], 2, 1e-9) && NEAR(beta[1], -3, 1e-9) && NEAR(beta[2], 0.5, 1e-9),
	      "its exact coefficients: 2, -3, 0.5 (got %g, %g, %g)", beta[0], beta[1], beta[2]);
	build(&a, 3, x, y, w, 6);
	CHECK(pmb_lsq_solve(&a, NULL, beta) == 0 && NEAR(beta[0], 2, 1e-9) &&
	      NEAR(beta[1], -3, 1e-9) && NEAR(beta[2], 0.5, 1e-9),
	      "weights do not move an exact fit");
	CHECK(NEAR(pmb_lsq_predict(x[2], beta, 3), y[2], 1e-9), "predict is x . beta");

	/* Columns 12 orders of magnitude apart: the scaling keeps the pivots comparable. */
	for (i = 0; i < 6; i++) {
		big[i][0] = 1e-6 * x[i][0];
		big[i][1] = 1e6 * x[i][1];
		big[i][2] = x[i][2];
		yb[i] = 7e6 * big[i][0] + 2e-6 * big[i][1] - big[i][2];
	}
	build(&a, 3, big, yb, NULL, 6);
	CHECK(pmb_lsq_solve(&a, NULL, beta) == 0 && NEAR(beta[0] / 7e6, 1, 1e-9) &&
	      NEAR(beta[1] / 2e-6, 1, 1e-9) && NEAR(beta[2], -1, 1e-9),
	      "badly scaled columns: 7e6, 2e-6, -1 (got %g, %g, %g)", beta[0], beta[1], beta[2]);

	/* One column of ones: the weighted mean. */
	{
		static const double ones[4][4] = { { 1 }, { 1 }, { 1 }, { 1 } };
		static const double v[4] = { 1, 2, 3, 10 }, wv[4] = { 1, 1, 1, 3 };

		build(&a, 1, ones, v, wv, 4);
		CHECK(pmb_lsq_solve(&a, NULL, beta) == 0 && NEAR(beta[0], 36.0 / 6, 1e-12),
		      "a column of ones fits the weighted mean (6)");
	}
}

static void test_least_squares(void)
{
	/* y = 1 + 2t with residuals +1, -1, -1, +1: the line through them is still 1 + 2t. */
	static const double x[4][4] = { { 1, 0 }, { 1, 1 }, { 1, 2 }, { 1, 3 } };
	static const double y[4] = { 2, 2, 4, 8 };
	double beta[4];
	struct pmb_lsq a;

	build(&a, 2, x, y, NULL, 4);
	CHECK(pmb_lsq_solve(&a, NULL, beta) == 0 && NEAR(beta[0], 1, 1e-12) &&
	      NEAR(beta[1], 2, 1e-12), "an overdetermined fit: intercept 1, slope 2 (got %g, %g)",
	      beta[0], beta[1]);
}

static void test_singular(void)
{
	static const double x[5][4] = {
		{ 1, 2, 0, 3 }, { 2, 4, 0, 1 }, { 3, 6, 0, 4 }, { 4, 8, 0, 1 }, { 5, 10, 0, 5 },
	};
	bool use[4] = { true, true, false, true }, sel[4];
	enum pmb_lsq_why why[4];
	double y[5], beta[4] = { 9, 9, 9, 9 };
	struct pmb_lsq a;
	size_t i;

	for (i = 0; i < 5; i++)
		y[i] = 4 * x[i][0] + 0.25 * x[i][3];
	build(&a, 4, x, y, NULL, 5);
	CHECK(pmb_lsq_solve(&a, NULL, beta) == -EDOM, "an empty column: -EDOM");
	CHECK(beta[0] == 0 && beta[1] == 0 && beta[2] == 0 && beta[3] == 0,
	      "a singular system leaves beta at 0");
	CHECK(pmb_lsq_solve(&a, use, beta) == -EDOM,
	      "column 1 = 2 * column 0: collinear, -EDOM");
	use[1] = false;
	CHECK(pmb_lsq_solve(&a, use, beta) == 0 && NEAR(beta[0], 4, 1e-9) &&
	      NEAR(beta[3], 0.25, 1e-9) && beta[1] == 0 && beta[2] == 0,
	      "without the collinear and the empty column: 4 and 0.25, the others 0");
	CHECK(pmb_lsq_select(&a, sel, why, beta) == 0, "select admits what it can");
	CHECK(sel[0] && !sel[1] && !sel[2] && sel[3], "select uses columns 0 and 3");
	CHECK(why[0] == PMB_LSQ_USED && why[1] == PMB_LSQ_COLLINEAR && why[2] == PMB_LSQ_EMPTY &&
	      why[3] == PMB_LSQ_USED, "and says why: collinear, empty");
	CHECK(NEAR(beta[0], 4, 1e-9) && NEAR(beta[3], 0.25, 1e-9), "with the fit over them");

	pmb_lsq_init(&a, 3);
	pmb_lsq_finish(&a);
	CHECK(pmb_lsq_select(&a, sel, NULL, beta) == -EDOM && !sel[0] && !sel[1] && !sel[2],
	      "no data: select admits nothing, -EDOM");

	/* Nearly collinear: column 1 = column 0 + 1e-12 noise. */
	{
		double xn[4][4], yn[4];

		for (i = 0; i < 4; i++) {
			xn[i][0] = (double)(i + 1);
			xn[i][1] = (double)(i + 1) + (i % 2 ? 1e-12 : -1e-12);
			yn[i] = (double)i;
		}
		build(&a, 2, xn, yn, NULL, 4);
		CHECK(pmb_lsq_solve(&a, NULL, beta) == -EDOM,
		      "a pivot below %g after scaling: -EDOM", PMB_LSQ_PIVOT_MIN);
	}
	{
		double inf[1][4] = { { INFINITY } }, yi[1] = { 1 };

		build(&a, 1, inf, yi, NULL, 1);
		CHECK(pmb_lsq_solve(&a, NULL, beta) == -EDOM, "a column that is not finite: -EDOM");
	}
}

static void test_accumulate(void)
{
	double x[3] = { 1, 2, 3 };
	struct pmb_lsq a;

	pmb_lsq_init(&a, 3);
	pmb_lsq_add(&a, x, 5, 0);
	CHECK(a.g[0][0] == 0 && a.h[2] == 0, "weight 0 adds nothing");
	pmb_lsq_add(&a, x, 5, 2);
	pmb_lsq_finish(&a);
	CHECK(a.g[0][0] == 2 && a.g[1][2] == 12 && a.g[2][1] == 12 && a.g[2][2] == 18,
	      "G = w x x' (2, 12, 12, 18)");
	CHECK(a.h[0] == 10 && a.h[1] == 20 && a.h[2] == 30, "h = w x y (10, 20, 30)");
	pmb_lsq_init(&a, 1000);
	CHECK(a.n == PMB_LSQ_MAX, "more columns than PMB_LSQ_MAX are cut to it");
}

static void test_linreg(void)
{
	struct pmb_linreg l = { 0 };

	for (int i = 0; i < 10; i++)
		pmb_linreg_add(&l, i, 1 + 3.0 * i + (i % 2 ? 0.5 : -0.5));
	/* The alternating noise adds 2.5 / 82.5 to the slope. */
	CHECK(NEAR(pmb_linreg_slope(&l), 3 + 2.5 / 82.5, 1e-12),
	      "slope of 1 + 3x +- 0.5 over x = 0..9: 3.0303 (got %g)", pmb_linreg_slope(&l));
	memset(&l, 0, sizeof(l));
	pmb_linreg_add(&l, 4, 1);
	CHECK(isnan(pmb_linreg_slope(&l)), "one point: no slope");
	pmb_linreg_add(&l, 4, 7);
	CHECK(isnan(pmb_linreg_slope(&l)), "no spread in x: no slope");
	pmb_linreg_add(&l, 6, 11);
	CHECK(NEAR(pmb_linreg_slope(&l), 3.5, 1e-12), "(4,1), (4,7), (6,11): slope 3.5");
}

/*
 * Iteratively reweighted least squares for a location: 19 samples near 10
 * and one at 1000.  The mean is pulled to about 60; Huber's weights bring
 * the estimate back next to 10 and give the outlier, alone, a small weight.
 */
static void test_huber(void)
{
	static const double ones[20][4] = {
		{ 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 },
		{ 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 }, { 1 },
	};
	double y[20], w[20], r[20], scratch[20], beta[4], ols, cut = NAN;
	struct pmb_lsq a;
	size_t i, down = 0;

	for (i = 0; i < 19; i++)
		y[i] = 10 + 0.1 * (double)((int)(i % 5) - 2);
	y[19] = 1000;
	build(&a, 1, ones, y, NULL, 20);
	pmb_lsq_solve(&a, NULL, beta);
	ols = beta[0];
	CHECK(ols > 55, "least squares is pulled by the outlier: %g", ols);
	for (int pass = 0; pass < 20; pass++) {
		for (i = 0; i < 20; i++)
			r[i] = y[i] - beta[0];
		cut = pmb_huber_cut(r, 20, PMB_HUBER_K, scratch);
		for (i = 0; i < 20; i++)
			w[i] = pmb_huber_weight(r[i], cut);
		build(&a, 1, ones, y, w, 20);
		pmb_lsq_solve(&a, NULL, beta);
	}
	for (i = 0; i < 19; i++)
		down += w[i] < 1;
	CHECK(NEAR(beta[0], 10, 0.2), "Huber's estimate stays near 10: %g", beta[0]);
	CHECK(w[19] < 0.01 && w[19] > 0, "the outlier is downweighted, not dropped: %g", w[19]);
	CHECK(down <= 8, "most inliers keep full weight (%zu of 19 downweighted)", down);

	CHECK(pmb_huber_weight(0.5, 1) == 1 && pmb_huber_weight(-1, 1) == 1,
	      "full weight within the cut-off, and on it");
	CHECK(NEAR(pmb_huber_weight(-4, 1), 0.25, 1e-15), "beyond it: c/|r|");
	CHECK(pmb_huber_weight(NAN, 1) == 1 && pmb_huber_weight(5, 0) == 1 &&
	      pmb_huber_weight(5, NAN) == 1, "no residual or no scale: weight 1");
	{
		double rr[4] = { 0.1, -0.2, NAN, 0.3 }, s[4];

		CHECK(NEAR(pmb_huber_cut(rr, 4, 2, s), 2 * PMB_MAD_SD * 0.2, 1e-15),
		      "cut-off = k * 1.4826 * median |r| over the finite r");
		CHECK(rr[0] == 0.1 && rr[1] == -0.2 && isnan(rr[2]) && rr[3] == 0.3,
		      "and r is left as it was");
		rr[0] = rr[1] = rr[3] = NAN;
		CHECK(isnan(pmb_huber_cut(rr, 4, 2, s)) && isnan(pmb_huber_cut(rr, 0, 2, s)),
		      "no finite residual: no cut-off");
	}
}

static void shuffle(double *v, size_t n, uint64_t seed)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)pmb_rand_below(&seed, i);
		double t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void test_boot_ci(void)
{
	static double v[1000], copy[1000];
	double lo, hi;
	size_t i;

	for (i = 0; i < 1000; i++)
		v[i] = (double)i;
	shuffle(v, 1000, 7);
	memcpy(copy, v, sizeof(v));
	CHECK(pmb_boot_ci(v, 1000, &lo, &hi) == 0, "the CI of 0..999");
	CHECK(NEAR(lo, 24.975, 1e-9) && NEAR(hi, 974.025, 1e-9),
	      "is its 2.5%% and 97.5%% quantiles: 24.975, 974.025 (got %g, %g)", lo, hi);
	CHECK(!memcmp(v, copy, sizeof(v)), "and leaves the estimates in their order");
	for (i = 0; i < 100; i++)
		v[i] = i % 2 ? NAN : INFINITY;
	CHECK(pmb_boot_ci(v, 1000, &lo, &hi) == 0 && isfinite(lo) && isfinite(hi) && lo < hi,
	      "10%% of the resamples without an estimate: a CI over the rest");
	v[100] = NAN;
	CHECK(pmb_boot_ci(v, 1000, &lo, &hi) == 0 && isnan(lo) && isnan(hi),
	      "more than 10%% missing: no CI");
	v[0] = 5;
	CHECK(pmb_boot_ci(v, 1, &lo, &hi) == 0 && isnan(lo) && isnan(hi), "one estimate: no CI");
	CHECK(pmb_boot_ci(v, 0, &lo, &hi) == 0 && isnan(lo) && isnan(hi), "none: no CI");
}

static void test_errors(void)
{
	double v[6] = { -3, 1, NAN, -2, INFINITY, -INFINITY };
	double w[3] = { 3, -4, NAN }, none[2] = { NAN, NAN };

	CHECK(pmb_median_abs(v, 6) == 2, "median |v| over the finite values of -3, 1, -2: 2");
	CHECK(isnan(pmb_median_abs(none, 2)) && isnan(pmb_median_abs(none, 0)),
	      "no finite value: NaN");
	CHECK(NEAR(pmb_rms(w, 3), sqrt(12.5), 1e-15), "RMS of 3, -4 (NaN skipped): sqrt(12.5)");
	CHECK(isnan(pmb_rms(none, 2)), "RMS of nothing: NaN");
	CHECK(NEAR(pmb_rel_err(100, 90), 0.1, 1e-15) && NEAR(pmb_rel_err(100, 125), -0.25, 1e-15),
	      "relative error (obs - pred) / obs");
	CHECK(isnan(pmb_rel_err(0, 1)) && isnan(pmb_rel_err(-5, 1)) && isnan(pmb_rel_err(5, NAN)),
	      "no relative error of an observation <= 0, or of no prediction");
}

int main(void)
{
	test_exact_fits();
	test_least_squares();
	test_singular();
	test_accumulate();
	test_linreg();
	test_huber();
	test_boot_ci();
	test_errors();
	return check_done();
}
