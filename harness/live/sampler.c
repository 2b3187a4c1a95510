// SPDX-License-Identifier: GPL-2.0
#include "sampler.h"
#include "lib/stats/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pmb_sampler_series *series_of(struct pmb_sampler *sa, const char *method, long long batch,
					    long long qd)
{
	char key[96];
	size_t i;

	snprintf(key, sizeof(key), "%s:b%lld:qd%lld", method, batch, qd);
	i = pmb_strmap_get(&sa->map, key);
	if (i != (size_t)-1)
		return &sa->s[i];
	if (sa->ns == sa->cap) {
		size_t cap = sa->cap ? 2 * sa->cap : 16;
		struct pmb_sampler_series *n = realloc(sa->s, cap * sizeof(*n));

		if (!n)
			return NULL;
		sa->s = n;
		sa->cap = cap;
	}
	i = sa->ns;
	if (pmb_strmap_put(&sa->map, key, i))
		return NULL;
	memset(&sa->s[i], 0, sizeof(sa->s[i]));
	snprintf(sa->s[i].key, sizeof(sa->s[i].key), "%s", key);
	snprintf(sa->s[i].method, sizeof(sa->s[i].method), "%s", method);
	sa->s[i].batch = batch;
	sa->s[i].qd = qd;
	sa->s[i].hw = INFINITY;
	sa->ns++;
	return &sa->s[i];
}

int pmb_sampler_add(struct pmb_sampler *sa, const char *method, long long batch, long long qd,
		    long long state, double v, double ns)
{
	struct pmb_sampler_series *s = series_of(sa, method, batch, qd);

	if (!s)
		return -ENOMEM;
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
	s->ns += ns;
	return 0;
}

static double halfwidth_pct(const struct pmb_sampler_series *s)
{
	double med, lo, hi;

	if (s->n < 2 || pmb_series_ci(s->v, s->state, s->n, s->method, s->batch, s->qd, &med, &lo, &hi) ||
	    !(med > 0))
		return INFINITY;
	return 100.0 * (hi - lo) / 2.0 / med;
}

/*
 * Within against between, for one series.  A state's median varies from
 * its own samples by about pi/2 sigma^2 / n (sigma from the interquartile
 * range); W is that averaged over the states.  The state medians' variance
 * contains W as well as the variance between states, so the part between
 * states is B = var(state medians) - W, at least 0.  More rounds shrink W
 * only; more states shrink both.  With one state B is unknown (-1).
 */
static void within_between(const struct pmb_sampler_series *s, double *w_out, double *b_out)
{
	double *meds = malloc((s->n + 1) * sizeof(double)), *tmp = malloc((s->n + 1) * sizeof(double));
	long long *seen = malloc((s->n + 1) * sizeof(long long));
	double within = 0, mean = 0, between = 0;
	size_t k = 0;

	*w_out = 0;
	*b_out = -1;
	if (!meds || !tmp || !seen)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		size_t j, m = 0;
		double sigma;

		for (j = 0; j < k && seen[j] != s->state[i]; j++)
			;
		if (j < k)
			continue;
		seen[k] = s->state[i];
		for (j = i; j < s->n; j++)
			if (s->state[j] == seen[k])
				tmp[m++] = s->v[j];
		pmb_sort(tmp, m);
		meds[k] = pmb_quantile(tmp, m, 0.5);
		sigma = (pmb_quantile(tmp, m, 0.75) - pmb_quantile(tmp, m, 0.25)) / 1.349;
		within += 1.5708 * sigma * sigma / (double)m;
		k++;
	}
	if (!k)
		goto out;
	*w_out = within / (double)k;
	if (k >= 2) {
		for (size_t j = 0; j < k; j++)
			mean += meds[j] / (double)k;
		for (size_t j = 0; j < k; j++)
			between += (meds[j] - mean) * (meds[j] - mean) / (double)(k - 1);
		*b_out = between > *w_out ? between - *w_out : 0;
	}
out:
	free(meds);
	free(tmp);
	free(seen);
}

void pmb_sampler_assess(struct pmb_sampler *sa, double target_pct, struct pmb_sampler_view *out)
{
	double all = 0, missed = 0;

	memset(out, 0, sizeof(*out));
	out->worst = INFINITY;
	for (size_t i = 0; i < sa->ns; i++) {
		struct pmb_sampler_series *s = &sa->s[i];

		s->hw = halfwidth_pct(s);
		all += s->ns;
		if (!(s->hw <= target_pct)) {
			out->missed++;
			missed += s->ns;
		}
		if (i == 0 || s->hw > sa->s[out->wi].hw)
			out->wi = i;
	}
	out->missed_share = all > 0 ? missed / all : 1;
	if (sa->ns) {
		const struct pmb_sampler_series *s = &sa->s[out->wi];
		double w, b, med = pmb_median(s->v, s->n);

		out->worst = s->hw;
		within_between(s, &w, &b);
		out->within = b >= 0 && w > b;
		if (b >= 0 && med > 0 && target_pct > 0) {
			out->between_pct = 100.0 * sqrt(b) / med;
			out->states_needed = pow(1.96 * out->between_pct / target_pct, 2);
		}
	}
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
