// SPDX-License-Identifier: GPL-2.0
#include "stats.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void pmb_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double pmb_quantile(const double *s, size_t n, double q)
{
	double h, f;
	size_t i;

	if (!n)
		return NAN;
	h = (double)(n - 1) * q;
	i = (size_t)h;
	f = h - (double)i;
	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + f * (s[i + 1] - s[i]);
}

/* Median of n draws with replacement from v; scratch has room for n. */
static double resample_median(const double *v, size_t n, double *scratch, uint64_t *rng)
{
	size_t i;

	for (i = 0; i < n; i++)
		scratch[i] = v[pmb_rand_below(rng, n)];
	pmb_sort(scratch, n);
	return pmb_quantile(scratch, n, 0.5);
}

static int boot_medians(const double *v, size_t n, unsigned r, uint64_t *rng, double **out)
{
	double *scratch = malloc(n * sizeof(double));
	double *meds = malloc(r * sizeof(double));
	unsigned i;

	if (!scratch || !meds) {
		free(scratch);
		free(meds);
		return -ENOMEM;
	}
	for (i = 0; i < r; i++)
		meds[i] = resample_median(v, n, scratch, rng);
	free(scratch);
	*out = meds;
	return 0;
}

int pmb_summarize(double *v, size_t n, unsigned resamples, uint64_t seed,
		  struct pmb_summary *s)
{
	double sum = 0, sq = 0, iqr;
	uint64_t rng = seed;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (!n) {
		s->median = s->q1 = s->q3 = s->p5 = s->p95 = NAN;
		s->min = s->max = s->mean = s->cv = s->ci_lo = s->ci_hi = NAN;
		return 0;
	}
	pmb_sort(v, n);
	s->median = pmb_quantile(v, n, 0.5);
	s->q1 = pmb_quantile(v, n, 0.25);
	s->q3 = pmb_quantile(v, n, 0.75);
	s->p5 = pmb_quantile(v, n, 0.05);
	s->p95 = pmb_quantile(v, n, 0.95);
	s->min = v[0];
	s->max = v[n - 1];
	for (i = 0; i < n; i++) {
		sum += v[i];
		sq += v[i] * v[i];
	}
	s->mean = sum / (double)n;
	s->cv = n > 1 && s->mean != 0 ?
		sqrt(fmax(0, (sq - sum * sum / (double)n) / (double)(n - 1))) / s->mean : 0;
	iqr = s->q3 - s->q1;
	for (i = 0; i < n; i++)
		if (v[i] < s->q1 - 1.5 * iqr || v[i] > s->q3 + 1.5 * iqr)
			s->outliers++;
	if (n < 2 || !resamples) {
		s->ci_lo = s->ci_hi = s->median;
		return 0;
	} else {
		double *meds;
		int err = boot_medians(v, n, resamples, &rng, &meds);

		if (err)
			return err;
		pmb_sort(meds, resamples);
		s->ci_lo = pmb_quantile(meds, resamples, 0.025);
		s->ci_hi = pmb_quantile(meds, resamples, 0.975);
		free(meds);
	}
	return 0;
}

int pmb_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		 unsigned resamples, uint64_t seed,
		 double *ratio, double *lo, double *hi)
{
	double *sa, *ma, *mb;
	uint64_t rng = seed;
	unsigned i;
	int err;

	if (!na || !nb || !resamples)
		return -EINVAL;
	sa = malloc((na > nb ? na : nb) * sizeof(double));
	if (!sa)
		return -ENOMEM;
	memcpy(sa, a, na * sizeof(double));
	pmb_sort(sa, na);
	*ratio = pmb_quantile(sa, na, 0.5);
	memcpy(sa, b, nb * sizeof(double));
	pmb_sort(sa, nb);
	*ratio = pmb_quantile(sa, nb, 0.5) / *ratio;
	free(sa);
	err = boot_medians(a, na, resamples, &rng, &ma);
	if (err)
		return err;
	err = boot_medians(b, nb, resamples, &rng, &mb);
	if (err) {
		free(ma);
		return err;
	}
	for (i = 0; i < resamples; i++)
		mb[i] /= ma[i];
	pmb_sort(mb, resamples);
	*lo = pmb_quantile(mb, resamples, 0.025);
	*hi = pmb_quantile(mb, resamples, 0.975);
	free(ma);
	free(mb);
	return 0;
}

struct ranked {
	double v;
	int group;
};

static int cmp_ranked(const void *x, const void *y)
{
	return cmp_double(&((const struct ranked *)x)->v, &((const struct ranked *)y)->v);
}

double pmb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
	size_t n = na + nb, i, j;
	struct ranked *r;
	double ra = 0, tie = 0, u, mu, sigma, z;

	if (!na || !nb)
		return NAN;
	r = malloc(n * sizeof(*r));
	if (!r)
		return NAN;
	for (i = 0; i < na; i++)
		r[i] = (struct ranked){ a[i], 0 };
	for (i = 0; i < nb; i++)
		r[na + i] = (struct ranked){ b[i], 1 };
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n; i = j) {
		double rank, t;

		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		rank = (double)(i + 1 + j) / 2.0;	/* mean of ranks i+1..j */
		t = (double)(j - i);
		tie += t * t * t - t;
		for (size_t k = i; k < j; k++)
			if (r[k].group == 0)
				ra += rank;
	}
	free(r);
	u = ra - (double)na * (double)(na + 1) / 2.0;
	mu = (double)na * (double)nb / 2.0;
	sigma = sqrt((double)na * (double)nb / 12.0 *
		     ((double)(n + 1) - tie / ((double)n * (double)(n - 1))));
	if (sigma == 0)
		return 1.0;
	z = (fabs(u - mu) - 0.5) / sigma;	/* continuity correction */
	if (z < 0)
		z = 0;
	return erfc(z / sqrt(2.0));
}
