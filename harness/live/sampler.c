// SPDX-License-Identifier: GPL-2.0
#include "sampler.h"
#include "lib/stats/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resamples while deciding: enough for a half-width to a tenth of a percent. */
#define SAMPLER_RESAMPLES	400

int pmb_sampler_add(struct pmb_sampler *sa, const char *method, long long batch, long long qd,
		    long long state, double v)
{
	char key[96];
	size_t i;
	struct pmb_sampler_series *s;

	snprintf(key, sizeof(key), "%s:b%lld:qd%lld", method, batch, qd);
	i = pmb_strmap_get(&sa->map, key);
	if (i == (size_t)-1) {
		if (sa->ns == sa->cap) {
			size_t cap = sa->cap ? 2 * sa->cap : 16;
			struct pmb_sampler_series *n = realloc(sa->s, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			sa->s = n;
			sa->cap = cap;
		}
		i = sa->ns;
		if (pmb_strmap_put(&sa->map, key, i))
			return -ENOMEM;
		memset(&sa->s[i], 0, sizeof(sa->s[i]));
		snprintf(sa->s[i].key, sizeof(sa->s[i].key), "%s", key);
		sa->ns++;
	}
	s = &sa->s[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nv = realloc(s->v, cap * sizeof(double));
		long long *ng;

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		ng = realloc(s->state, cap * sizeof(long long));
		if (!ng)
			return -ENOMEM;
		s->state = ng;
		s->cap = cap;
	}
	s->v[s->n] = v;
	s->state[s->n++] = state;
	return 0;
}

static double halfwidth_pct(const struct pmb_sampler_series *s)
{
	double med, lo, hi;

	if (s->n < 2 || pmb_hier_median_ci(s->v, s->state, s->n, SAMPLER_RESAMPLES, 1, &med, &lo, &hi) ||
	    !(med > 0))
		return INFINITY;
	return 100.0 * (hi - lo) / 2.0 / med;
}

/*
 * Within against between: the variance of the state medians, against the
 * variance each state's median has from its own samples (1.2533 sigma /
 * sqrt(n) for a median, sigma from the interquartile range).
 */
static bool within_dominates(const struct pmb_sampler_series *s)
{
	double meds[256], within = 0, mean = 0, between = 0, *tmp = malloc(s->n * sizeof(double) + 1);
	long long seen[256];
	size_t k = 0;

	if (!tmp)
		return false;
	for (size_t i = 0; i < s->n && k < 256; i++) {
		size_t j, m = 0;
		double iqr, sigma;

		for (j = 0; j < k && seen[j] != s->state[i]; j++)
			;
		if (j < k)
			continue;
		seen[k] = s->state[i];
		for (j = 0; j < s->n; j++)
			if (s->state[j] == seen[k])
				tmp[m++] = s->v[j];
		pmb_sort(tmp, m);
		meds[k] = pmb_quantile(tmp, m, 0.5);
		iqr = pmb_quantile(tmp, m, 0.75) - pmb_quantile(tmp, m, 0.25);
		sigma = iqr / 1.349;
		within += 1.5708 * sigma * sigma / (double)m;
		k++;
	}
	free(tmp);
	if (k < 2)
		return true;	/* one state: nothing is known between states yet */
	for (size_t j = 0; j < k; j++)
		mean += meds[j] / (double)k;
	for (size_t j = 0; j < k; j++)
		between += (meds[j] - mean) * (meds[j] - mean) / (double)(k - 1);
	return within / (double)k > between;
}

double pmb_sampler_worst(const struct pmb_sampler *sa, char *which, size_t len, bool *within)
{
	double worst = 0;
	size_t wi = 0;

	for (size_t i = 0; i < sa->ns; i++) {
		double h = halfwidth_pct(&sa->s[i]);

		if (h > worst || i == 0) {
			worst = h;
			wi = i;
		}
	}
	if (which)
		snprintf(which, len, "%s", sa->ns ? sa->s[wi].key : "-");
	if (within)
		*within = sa->ns && within_dominates(&sa->s[wi]);
	return worst;
}

size_t pmb_sampler_missed(const struct pmb_sampler *sa, double target_pct)
{
	size_t n = 0;

	for (size_t i = 0; i < sa->ns; i++)
		n += !(halfwidth_pct(&sa->s[i]) <= target_pct);
	return n;
}

void pmb_sampler_free(struct pmb_sampler *sa)
{
	for (size_t i = 0; i < sa->ns; i++) {
		free(sa->s[i].v);
		free(sa->s[i].state);
	}
	free(sa->s);
	pmb_strmap_free(&sa->map);
	memset(sa, 0, sizeof(*sa));
}
