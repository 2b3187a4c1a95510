/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cost model of pmbench model (docs/model.md): per sample
 *
 *	ns = a * syscalls + b * entries_walked + c * none_entries_walked_in_shmem
 *
 * fitted by least squares under two hypotheses of how far a read walks.
 */
#ifndef PMB_MODEL_H
#define PMB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define PMB_MODEL_SCHEMA	"pagemap-bench-model/1"
#define PMB_MODEL_RESAMPLES	1000
#define PMB_MODEL_BUCKETS	64	/* sparse positions, 8 per bucket */

enum pmb_model_hyp {
	PMB_HYP_EXACT,		/* a read of L entries walks L entries */
	PMB_HYP_PMD,		/* a read walks to the end of the 2 MiB block of its last entry */
	PMB_NHYP,
};

enum pmb_model_coef { PMB_COEF_A, PMB_COEF_B, PMB_COEF_C, PMB_NCOEF };

const char *pmb_model_hyp_name(enum pmb_model_hyp h);

/*
 * Entries walked by one pass of reads of `batch` entries over `n` entries,
 * the first of which sits at index `pos` of its PMD, under hypothesis h.
 */
uint64_t pmb_model_pass_walk(enum pmb_model_hyp h, unsigned pos, uint64_t n, uint64_t batch);

/*
 * Solve the normal equations g * beta = rhs restricted to the coefficients
 * with use[i] set (the others get 0).  -EDOM when that system is singular.
 */
int pmb_model_solve(const double g[PMB_NCOEF][PMB_NCOEF], const double rhs[PMB_NCOEF],
		    const bool use[PMB_NCOEF], double beta[PMB_NCOEF]);

#endif
