/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adaptive sampling of one case (docs/statistics.md): the samples of every
 * timed series so far, by the state (fresh build) they came from, and what
 * to do next to reach a precision target: stop, add rounds (when the noise
 * within a state dominates), or build another state (when the noise between
 * states does).
 */
#ifndef PMB_SAMPLER_H
#define PMB_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strmap.h"

struct pmb_sampler_series {
	char key[96];		/* method, batch, qd */
	double *v;		/* ns per entry */
	long long *state;
	size_t n, cap;
};

struct pmb_sampler {
	struct pmb_strmap map;
	struct pmb_sampler_series *s;
	size_t ns, cap;
};

int pmb_sampler_add(struct pmb_sampler *sa, const char *method, long long batch, long long qd,
		    long long state, double v);
/*
 * The widest 95% CI half-width (% of the median, hierarchical bootstrap) of
 * any series, which series it is, and whether the noise within states
 * dominates it (then more rounds help more than more states).
 */
double pmb_sampler_worst(const struct pmb_sampler *sa, char *which, size_t len, bool *within);
/* How many series are above target_pct. */
size_t pmb_sampler_missed(const struct pmb_sampler *sa, double target_pct);
void pmb_sampler_free(struct pmb_sampler *sa);

#endif
