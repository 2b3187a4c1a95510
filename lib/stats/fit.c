// SPDX-License-Identifier: GPL-2.0
/* Least squares, robust weights and bootstrap intervals for small models (see fit.h). */
#include "fit.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void pmb_lsq_init(struct pmb_lsq *a, size_t n)
{
	memset(a, 0, sizeof(*a));
	a->n = n < PMB_LSQ_MAX ? n : PMB_LSQ_MAX;
}

void pmb_lsq_add(struct pmb_lsq *a, const double *x, double y, double w)
{
	size_t i, j;

	if (w == 0)
		return;
	for (i = 0; i < a->n; i++) {
		for (j = i; j < a->n; j++)
			a->g[i][j] += w * x[i] * x[j];
		a->h[i] += w * x[i] * y;
	}
}

void pmb_lsq_finish(struct pmb_lsq *a)
{
	size_t i, j;

	for (i = 0; i < a->n; i++)
		for (j = 0; j < i; j++)
			a->g[i][j] = a->g[j][i];
}

int pmb_lsq_solve(const struct pmb_lsq *a, const bool *use, double *beta)
{
	double m[PMB_LSQ_MAX][PMB_LSQ_MAX + 1], s[PMB_LSQ_MAX];
	size_t idx[PMB_LSQ_MAX], k = 0, i, j, r;

	for (i = 0; i < a->n; i++) {
		beta[i] = 0;
		if (!use || use[i])
			idx[k++] = i;
	}
	/* Scale every column (and row) to unit norm: pivots become comparable. */
	for (i = 0; i < k; i++) {
		s[i] = sqrt(a->g[idx[i]][idx[i]]);
		if (!(s[i] > 0) || !isfinite(s[i]))
			return -EDOM;
	}
	for (i = 0; i < k; i++) {
		for (j = 0; j < k; j++)
			m[i][j] = a->g[idx[i]][idx[j]] / (s[i] * s[j]);
		m[i][k] = a->h[idx[i]] / s[i];
	}
	/* Gauss-Jordan elimination with partial pivoting. */
	for (i = 0; i < k; i++) {
		size_t p = i;

		for (r = i + 1; r < k; r++)
			if (fabs(m[r][i]) > fabs(m[p][i]))
				p = r;
		if (!(fabs(m[p][i]) >= PMB_LSQ_PIVOT_MIN))
			return -EDOM;
		for (j = 0; j <= k && p != i; j++) {
			double t = m[i][j];

			m[i][j] = m[p][j];
			m[p][j] = t;
		}
		for (r = 0; r < k; r++) {
			double f = m[r][i] / m[i][i];

			if (r == i)
				continue;
			for (j = i; j <= k; j++)
				m[r][j] -= f * m[i][j];
		}
	}
	for (i = 0; i < k; i++)
		beta[idx[i]] = m[i][k] / m[i][i] / s[i];
	return 0;
}

int pmb_lsq_select(const struct pmb_lsq *a, bool *use, enum pmb_lsq_why *why, double *beta)
{
	size_t i, used = 0;

	for (i = 0; i < a->n; i++)
		use[i] = false;
	for (i = 0; i < a->n; i++) {
		enum pmb_lsq_why w = PMB_LSQ_USED;

		if (!(a->g[i][i] > 0)) {
			w = PMB_LSQ_EMPTY;
		} else {
			use[i] = true;
			if (pmb_lsq_solve(a, use, beta)) {
				use[i] = false;
				w = PMB_LSQ_COLLINEAR;
			}
		}
		used += use[i];
		if (why)
			why[i] = w;
	}
	if (!used) {
		for (i = 0; i < a->n; i++)
			beta[i] = 0;
		return -EDOM;
	}
	return pmb_lsq_solve(a, use, beta);
}

double pmb_lsq_predict(const double *x, const double *beta, size_t n)
{
	double p = 0;
	size_t i;

	for (i = 0; i < n; i++)
		p += beta[i] * x[i];
	return p;
}

void pmb_linreg_add(struct pmb_linreg *l, double x, double y)
{
	l->n++;
	l->sx += x;
	l->sy += y;
	l->sxx += x * x;
	l->sxy += x * y;
}

double pmb_linreg_slope(const struct pmb_linreg *l)
{
	double d = l->n * l->sxx - l->sx * l->sx;

	if (l->n < 2 || !(d > 0))
		return NAN;
	return (l->n * l->sxy - l->sx * l->sy) / d;
}

double pmb_median_abs(double *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = fabs(v[i]);
	if (!k)
		return NAN;
	pmb_sort(v, k);
	return pmb_quantile(v, k, 0.5);
}

double pmb_huber_cut(const double *r, size_t n, double k, double *scratch)
{
	if (n)
		memcpy(scratch, r, n * sizeof(double));
	return k * PMB_MAD_SD * pmb_median_abs(scratch, n);
}

double pmb_huber_weight(double r, double c)
{
	if (!isfinite(r) || !(c > 0) || !(fabs(r) > c))
		return 1;
	return c / fabs(r);
}

int pmb_boot_ci(const double *v, size_t n, double *lo, double *hi)
{
	double *tmp = malloc((n + 1) * sizeof(double));
	size_t i, k = 0;

	*lo = *hi = NAN;
	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			tmp[k++] = v[i];
	if (k >= 2 && 100 * (n - k) <= PMB_BOOT_MAX_MISSING_PCT * n) {
		pmb_sort(tmp, k);
		*lo = pmb_quantile(tmp, k, 0.025);
		*hi = pmb_quantile(tmp, k, 0.975);
	}
	free(tmp);
	return 0;
}

double pmb_rms(const double *v, size_t n)
{
	double sum = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			sum += v[i] * v[i];
			k++;
		}
	return k ? sqrt(sum / (double)k) : NAN;
}

double pmb_rel_err(double obs, double pred)
{
	if (!(obs > 0) || !isfinite(obs) || !isfinite(pred))
		return NAN;
	return (obs - pred) / obs;
}
