// SPDX-License-Identifier: GPL-2.0
#include "stats.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* Samples grouped by state: order[] lists sample indices state by state, start[] where each begins. */
struct groups {
	size_t *order, *start, k, n;
};

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void groups_free(struct groups *gr)
{
	free(gr->order);
	free(gr->start);
}

/* The index of x in the ascending distinct keys[0..k). */
static size_t key_rank(const long long *keys, size_t k, long long x)
{
	size_t lo = 0, hi = k;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (keys[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int group(const long long *g, size_t n, struct groups *out)
{
	long long *keys = malloc((n + 1) * sizeof(*keys));
	size_t *rank = malloc((n + 1) * sizeof(*rank));
	size_t *fill = calloc(n + 2, sizeof(*fill));

	out->n = n;
	out->k = 0;
	out->order = malloc((n + 1) * sizeof(size_t));
	out->start = malloc((n + 2) * sizeof(size_t));
	if (!keys || !rank || !fill || !out->order || !out->start) {
		free(keys);
		free(rank);
		free(fill);
		groups_free(out);
		return -ENOMEM;
	}
	memcpy(keys, g, n * sizeof(*keys));
	qsort(keys, n, sizeof(*keys), cmp_ll);
	for (size_t i = 0; i < n; i++)
		if (!i || keys[i] != keys[i - 1])
			keys[out->k++] = keys[i];
	/* A counting sort of the samples by the rank of their state. */
	for (size_t i = 0; i < n; i++) {
		rank[i] = key_rank(keys, out->k, g[i]);
		fill[rank[i] + 1]++;
	}
	for (size_t j = 0; j < out->k; j++)
		fill[j + 1] += fill[j];
	memcpy(out->start, fill, (out->k + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		out->order[fill[rank[i]]++] = i;
	free(keys);
	free(rank);
	free(fill);
	return 0;
}

size_t pmb_count_groups(const long long *g, size_t n)
{
	struct groups gr;
	size_t k;

	if (!n || group(g, n, &gr))
		return 0;
	k = gr.k;
	groups_free(&gr);
	return k;
}

/*
 * The samples in ascending order, and for each position of gr->order the
 * rank of its sample in that order: a resample is then a count per rank,
 * and its median is read off the counts without sorting (O(n) a resample).
 */
struct ranked_groups {
	double *sorted;
	size_t *pos;	/* pos[j]: rank of sample gr->order[j] */
	uint32_t *count;
};

struct vi {
	double v;
	size_t i;
};

static int cmp_vi(const void *a, const void *b)
{
	const struct vi *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

static int rank_groups(const double *v, const struct groups *gr, struct ranked_groups *rg)
{
	struct vi *t = malloc((gr->n + 1) * sizeof(*t));
	size_t *rank = malloc((gr->n + 1) * sizeof(*rank));

	rg->sorted = malloc((gr->n + 1) * sizeof(double));
	rg->pos = malloc((gr->n + 1) * sizeof(size_t));
	rg->count = malloc((gr->n + 1) * sizeof(uint32_t));
	if (!t || !rank || !rg->sorted || !rg->pos || !rg->count) {
		free(t);
		free(rank);
		free(rg->sorted);
		free(rg->pos);
		free(rg->count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < gr->n; i++)
		t[i] = (struct vi){ v[i], i };
	qsort(t, gr->n, sizeof(*t), cmp_vi);
	for (size_t r = 0; r < gr->n; r++) {
		rg->sorted[r] = t[r].v;
		rank[t[r].i] = r;
	}
	for (size_t j = 0; j < gr->n; j++)
		rg->pos[j] = rank[gr->order[j]];
	free(t);
	free(rank);
	return 0;
}

/* The value at position at of the resample's ascending order. */
static double nth_counted(const struct ranked_groups *rg, size_t n, size_t at)
{
	size_t seen = 0;

	for (size_t r = 0; r < n; r++) {
		seen += rg->count[r];
		if (seen > at)
			return rg->sorted[r];
	}
	return rg->sorted[n - 1];
}

/*
 * One two-stage resample: k states drawn with replacement; from each drawn
 * state as many samples as it has, drawn with replacement within it.  The
 * median as pmb_quantile(sorted resample, m, 0.5) gives it, bit for bit.
 */
static double hier_resample_median(const struct groups *gr, const struct ranked_groups *rg, uint64_t *rng)
{
	size_t m = 0, i;
	double h, f, lo, hi;

	memset(rg->count, 0, gr->n * sizeof(uint32_t));
	for (size_t j = 0; j < gr->k; j++) {
		size_t s = (size_t)pmb_rand_below(rng, gr->k);
		size_t from = gr->start[s], cnt = gr->start[s + 1] - from;

		for (size_t d = 0; d < cnt; d++)
			rg->count[rg->pos[from + pmb_rand_below(rng, cnt)]]++;
		m += cnt;
	}
	h = (double)(m - 1) * 0.5;
	i = (size_t)h;
	f = h - (double)i;
	lo = nth_counted(rg, gr->n, i);
	if (i + 1 >= m)
		return lo;
	hi = nth_counted(rg, gr->n, i + 1);
	return lo + f * (hi - lo);
}

/* resamples medians of the two-stage bootstrap into out[]. */
static int hier_medians(const double *v, const long long *g, size_t n, unsigned r, uint64_t *rng,
			double **out)
{
	struct groups gr;
	struct ranked_groups rg;
	double *meds;
	int err = group(g, n, &gr);

	if (err)
		return err;
	err = rank_groups(v, &gr, &rg);
	if (err) {
		groups_free(&gr);
		return err;
	}
	meds = malloc((r + 1) * sizeof(double));
	for (unsigned i = 0; meds && i < r; i++)
		meds[i] = hier_resample_median(&gr, &rg, rng);
	free(rg.sorted);
	free(rg.pos);
	free(rg.count);
	groups_free(&gr);
	if (!meds)
		return -ENOMEM;
	*out = meds;
	return 0;
}

double pmb_median(const double *v, size_t n)
{
	double *t = malloc((n + 1) * sizeof(double)), m;

	if (!t || !n) {
		free(t);
		return NAN;
	}
	memcpy(t, v, n * sizeof(double));
	pmb_sort(t, n);
	m = pmb_quantile(t, n, 0.5);
	free(t);
	return m;
}

int pmb_hier_median_ci(const double *v, const long long *g, size_t n, unsigned resamples,
		       uint64_t seed, double *median, double *lo, double *hi)
{
	uint64_t rng = seed;
	double *meds;
	int err;

	if (!n || !resamples)
		return -EINVAL;
	*median = pmb_median(v, n);
	err = hier_medians(v, g, n, resamples, &rng, &meds);
	if (err)
		return err;
	pmb_sort(meds, resamples);
	*lo = pmb_quantile(meds, resamples, 0.025);
	*hi = pmb_quantile(meds, resamples, 0.975);
	free(meds);
	return isnan(*median) ? -ENOMEM : 0;
}

int pmb_series_ci(const double *v, const long long *g, size_t n, const char *method, long long batch,
		  long long qd, double *median, double *lo, double *hi)
{
	char name[96];
	uint64_t seed;

	snprintf(name, sizeof(name), "%s:%lld:%lld", method, batch, qd);
	seed = pmb_fnv1a(PMB_FNV1A_INIT, name, strlen(name));
	return pmb_hier_median_ci(v, g, n, PMB_CI_RESAMPLES, seed, median, lo, hi);
}

int pmb_hier_ratio_ci(const double *a, const long long *ga, size_t na,
		      const double *b, const long long *gb, size_t nb,
		      unsigned resamples, uint64_t seed, double *ratio, double *lo, double *hi)
{
	uint64_t rng = seed;
	double *ma, *mb;
	int err;

	if (!na || !nb || !resamples)
		return -EINVAL;
	*ratio = pmb_median(b, nb) / pmb_median(a, na);
	err = hier_medians(a, ga, na, resamples, &rng, &ma);
	if (err)
		return err;
	err = hier_medians(b, gb, nb, resamples, &rng, &mb);
	if (err) {
		free(ma);
		return err;
	}
	for (unsigned i = 0; i < resamples; i++)
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
