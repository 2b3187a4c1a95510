/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cost model of pmbench model (docs/model.md): per sample
 *
 *	ns = a * syscalls + r * entries_returned
 *	   + b * none_ptes + b_present * present_ptes + b_swap * swap_ptes
 *	   + b_hole * entries_without_page_table + c * none_ptes_in_shmem
 *
 * (the PTE counts are entries walked of each kind), fitted by least squares
 * under two hypotheses of how far a read walks (lib/stats/fit.h does the
 * statistics; this is what is particular to pagemap).
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

/*
 * The coefficients, in the order in which they are admitted to a fit: one
 * that is a linear combination of those before it is not identifiable.
 */
enum pmb_model_coef {
	PMB_COEF_A,		/* per syscall */
	PMB_COEF_B,		/* per none PTE walked */
	PMB_COEF_BP,		/* per present PTE walked */
	PMB_COEF_BS,		/* per swap PTE walked (private memory) */
	PMB_COEF_BH,		/* per entry walked without a page table, or outside the region */
	PMB_COEF_R,		/* per entry returned (copy-out) */
	PMB_COEF_C,		/* extra per none PTE walked in shmem (the patch's lookup) */
	PMB_NCOEF,
};

const char *pmb_model_hyp_name(enum pmb_model_hyp h);

/*
 * Entries walked by one pass of reads of `batch` entries over `n` entries,
 * the first of which sits at index `pos` of its PMD, under hypothesis h.
 * Computed in closed form: at most 2 * PMB_PMD_PAGES steps whatever n and
 * batch are (n up to 2^32 with batch 1 is a run's worst case).
 */
uint64_t pmb_model_pass_walk(enum pmb_model_hyp h, unsigned pos, uint64_t n, uint64_t batch);
/* The same, and *outside = how many of them lie past the n entries. */
uint64_t pmb_model_pass_split(enum pmb_model_hyp h, unsigned pos, uint64_t n, uint64_t batch,
			      uint64_t *outside);
/*
 * Expected entries walked past the region's end by one pmd-hypothesis read of
 * one entry at PMD position q, over a region of n entries starting at PMD
 * position p, when the page is drawn uniformly among the region's pages at q.
 */
double pmb_model_sparse_outside(unsigned p, uint64_t n, unsigned q);

/* The fit itself is generic least squares: lib/stats/fit.h. */

#endif
