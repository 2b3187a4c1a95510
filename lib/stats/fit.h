/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linear least squares for small models, and what fitting them by
 * bootstrap and robust reweighting needs: the normal equations accumulated
 * sample by sample with weights, solved with column scaling and partial
 * pivoting, the columns a data set can determine, Huber's weights, the
 * percentile CI of a set of resampled estimates, and summaries of relative
 * errors.  Nothing here knows what the columns stand for (harness/offline/
 * model.c does); stats.h has the summaries of raw samples.
 */
#ifndef PMB_FIT_H
#define PMB_FIT_H

#include <stdbool.h>
#include <stddef.h>

#define PMB_LSQ_MAX		16	/* columns of one model, at most */
#define PMB_LSQ_PIVOT_MIN	1e-9	/* a smaller pivot of the scaled system: singular */
#define PMB_HUBER_K		1.345	/* full weight within K robust SDs: 95% efficiency */
#define PMB_MAD_SD		1.4826	/* an SD from a median absolute deviation (normal errors) */
#define PMB_BOOT_MAX_MISSING_PCT 10	/* more resamples than this without an estimate: no CI */

/*
 * The normal equations of a weighted least-squares fit without intercept,
 * y ~ x[0]*beta[0] + ... + x[n-1]*beta[n-1]:  G = sum w x x', h = sum w x y.
 * Fill with pmb_lsq_add, then pmb_lsq_finish before solving.
 */
struct pmb_lsq {
	size_t n;
	double g[PMB_LSQ_MAX][PMB_LSQ_MAX];	/* upper triangle until pmb_lsq_finish */
	double h[PMB_LSQ_MAX];
};

/* Empty normal equations of n columns (1..PMB_LSQ_MAX; more are cut to it). */
void pmb_lsq_init(struct pmb_lsq *a, size_t n);
/* Add one observation: y with its regressors x[0..n) and weight w (w = 0 adds nothing). */
void pmb_lsq_add(struct pmb_lsq *a, const double *x, double y, double w);
/* Copy the upper triangle of G to the lower one. */
void pmb_lsq_finish(struct pmb_lsq *a);

/*
 * Solve G beta = h over the columns i with use[i] (use NULL: all); the
 * others get beta[i] = 0.  Columns are scaled to unit norm (equilibration)
 * and eliminated with partial pivoting.  -EDOM when that system is singular:
 * a used column without data (G[i][i] = 0, or not finite) or a pivot below
 * PMB_LSQ_PIVOT_MIN, i.e. a column that is (nearly) a linear combination of
 * the others.  beta is all zero then.
 */
int pmb_lsq_solve(const struct pmb_lsq *a, const bool *use, double *beta);

/* Why pmb_lsq_select left a column out. */
enum pmb_lsq_why {
	PMB_LSQ_USED,		/* in the fit */
	PMB_LSQ_EMPTY,		/* no observation has a non-zero (weighted) value in it */
	PMB_LSQ_COLLINEAR,	/* a linear combination of the columns admitted before it */
};

/*
 * The columns the data can determine: admitted in order 0, 1, ..., each
 * unless it is empty or collinear with those admitted before it.  Fills
 * use[] and why[] (why may be NULL), and beta with the fit over the admitted
 * columns.  -EDOM when no column is admitted.
 */
int pmb_lsq_select(const struct pmb_lsq *a, bool *use, enum pmb_lsq_why *why, double *beta);

/* x . beta over n columns. */
double pmb_lsq_predict(const double *x, const double *beta, size_t n);

/*
 * Ordinary least-squares slope of y on x (with intercept), accumulated one
 * point at a time.
 */
struct pmb_linreg {
	double n, sx, sy, sxx, sxy;
};

void pmb_linreg_add(struct pmb_linreg *l, double x, double y);
/* NAN with fewer than two points or no spread in x. */
double pmb_linreg_slope(const struct pmb_linreg *l);

/*
 * Robust (Huber) reweighting of relative residuals r[i]: the cut-off is
 * k * PMB_MAD_SD * the median of |r| over the finite r (a scale estimate
 * that a few outliers do not move); NAN when no r is finite.  scratch has
 * room for n values (r is not modified).
 */
double pmb_huber_cut(const double *r, size_t n, double k, double *scratch);
/*
 * Huber's weight of residual r under cut-off c: 1 within it, c/|r| beyond
 * (an outlier keeps an influence of c, it is never dropped).  1 when r is not
 * finite or c is not positive (no scale to judge by).
 */
double pmb_huber_weight(double r, double c);

/*
 * The 95% percentile interval (2.5% and 97.5% quantiles) of a set of
 * bootstrap estimates v[0..n), of which a non-finite value is a resample
 * without an estimate (a singular fit).  NAN, NAN when fewer than two are
 * finite or more than PMB_BOOT_MAX_MISSING_PCT percent of them are
 * missing.  0 or
 * -ENOMEM; v is not modified.
 */
int pmb_boot_ci(const double *v, size_t n, double *lo, double *hi);

/* The median of |v| over its finite values (v is reordered); NAN when none is. */
double pmb_median_abs(double *v, size_t n);
/* sqrt(mean(v^2)) over the finite values of v; NAN when none is. */
double pmb_rms(const double *v, size_t n);
/* (obs - pred) / obs, the relative error of a prediction; NAN unless obs > 0 and both are finite. */
double pmb_rel_err(double obs, double pred);

#endif
