/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adaptive sampling of one case (docs/statistics.md): the samples of every
 * timed series so far, by the state (fresh build) they came from, and what
 * they say about the next step: stop, more rounds in the state at hand for
 * the series still above the target (when the noise within states
 * dominates), or another state (when the noise between states does).
 */
#ifndef PMB_SAMPLER_H
#define PMB_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strmap.h"

struct pmb_sampler_series {
	char key[96];		/* method, batch, qd */
	char method[32];
	long long batch, qd;
	double *v;		/* ns per entry */
	long long *state;
	size_t n, cap;
	double ns;		/* time spent in its samples, for the cost of more rounds */
	double hw;		/* half-width, % of the median, at the last assessment */
};

struct pmb_sampler {
	struct pmb_strmap map;
	struct pmb_sampler_series *s;
	size_t ns, cap;
};

/* What the samples so far say, against a target half-width. */
struct pmb_sampler_view {
	double worst;		/* the widest 95% CI half-width, % of its median */
	size_t wi;		/* which series */
	size_t missed;		/* series above the target */
	bool within;		/* the noise within states dominates the widest series */
	double between_pct;	/* its spread between states, beyond what within explains, % of median */
	double states_needed;	/* states that spread alone asks for to reach the target; 0 unknown */
	double missed_share;	/* the missed series' share of the time timed so far */
};

int pmb_sampler_add(struct pmb_sampler *sa, const char *method, long long batch, long long qd,
		    long long state, double v, double ns);
/*
 * Every series' half-width, with the same resamples and seed as the run's
 * summary (pmb_series_ci), so that the sampler stops on the figure the
 * summary prints.
 */
void pmb_sampler_assess(struct pmb_sampler *sa, double target_pct, struct pmb_sampler_view *out);
void pmb_sampler_free(struct pmb_sampler *sa);

#endif
