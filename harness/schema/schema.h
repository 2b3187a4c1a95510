/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The results schema (docs/results.md), defined once for every writer and
 * reader of a run directory: the tables' columns, the verdicts, and the
 * checks every name read from a run must pass before it is used.
 *
 * Columns are read by name (lib/tsv.h).  A column added after version 1 has
 * a default, the value a run written before it implies, so that results from
 * before a change still compare against results after it.
 */
#ifndef PMB_SCHEMA_H
#define PMB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "lib/pagemap.h"
#include "lib/tsv.h"

#define PMB_SCHEMA		"pagemap-bench/1"
#define PMB_COMPARE_SCHEMA	"pagemap-bench-compare/1"

/* Sizes an input file may have: a run directory comes from another machine. */
#define PMB_MAX_META_BYTES	(1u << 20)
#define PMB_MAX_TABLE_BYTES	(512u << 20)

/* ---- cases.tsv: X(ENUM, "name", default or NULL when required) ---- */
#define PMB_CASES_COLS(X) \
	X(CASE, "case", NULL) X(KIND, "kind", NULL) X(SWAPOUT, "swapout", NULL) \
	X(PAGES, "pages", NULL) X(DIRTY_PCT, "dirty_pct", NULL) X(SWAPPED_PCT, "swapped_pct", NULL) \
	X(LAYOUT, "layout", "random") X(SEED, "seed", "1") X(VERDICT, "verdict", NULL) \
	X(REASON, "reason", NULL) \
	X(TRUE_NONE, "true_none", NULL) X(TRUE_PRESENT, "true_present", NULL) \
	X(TRUE_SWAPPED, "true_swapped", NULL) \
	X(T_NONE_R_NONE, "t_none_r_none", NULL) X(T_NONE_R_PRESENT, "t_none_r_present", NULL) \
	X(T_NONE_R_SWAPPED, "t_none_r_swapped", NULL) \
	X(T_PRESENT_R_NONE, "t_present_r_none", NULL) X(T_PRESENT_R_PRESENT, "t_present_r_present", NULL) \
	X(T_PRESENT_R_SWAPPED, "t_present_r_swapped", NULL) \
	X(T_SWAPPED_R_NONE, "t_swapped_r_none", NULL) X(T_SWAPPED_R_PRESENT, "t_swapped_r_present", NULL) \
	X(T_SWAPPED_R_SWAPPED, "t_swapped_r_swapped", NULL) \
	X(SWAP_BAD_TYPE, "swap_bad_type", NULL) X(SWAP_BAD_OFFSET, "swap_bad_offset", NULL) \
	X(SWAP_DUP, "swap_dup", NULL) X(SWAP_CONTENT_OK, "swap_content_ok", NULL) \
	X(SWAP_CONTENT_BAD, "swap_content_bad", NULL) X(SWAP_CONTENT_UNCHECKED, "swap_content_unchecked", NULL) \
	X(SMAPS_SWAP_KB, "smaps_swap_kb", "-1") X(ORACLE_SWAP_KB, "oracle_swap_kb", "0") \
	X(METHODS_AGREE, "methods_agree", "-") X(SERIES_TOTAL, "series_total", "0") \
	X(SERIES_DISCARDED, "series_discarded", "0") X(VIEW, "view", "self") X(TOUCH, "touch", "write") \
	X(USERSPACE_VS_ORACLE, "userspace_vs_oracle", "-") X(START_PMD_POS, "start_pmd_pos", "-1") \
	X(THP_PAGES, "thp_pages", "-1") X(KERNEL_LOG, "kernel_log", "0") X(SAMPLING, "sampling", "-") \
	X(METHODS_WRONG, "methods_wrong", "-") X(TRUE_UNMAPPED, "true_unmapped", "0") \
	X(T_UNMAPPED_R_NONE, "t_unmapped_r_none", "0") X(T_UNMAPPED_R_PRESENT, "t_unmapped_r_present", "0") \
	X(T_UNMAPPED_R_SWAPPED, "t_unmapped_r_swapped", "0")

/* ---- samples.tsv ---- */
#define PMB_SAMPLES_COLS(X) \
	X(CASE, "case", NULL) X(METHOD, "method", NULL) X(BATCH, "batch", NULL) X(QD, "qd", NULL) \
	X(SERIES, "series", NULL) X(ROUND, "round", NULL) X(WARMUP, "warmup", NULL) \
	X(DISCARDED, "discarded", NULL) X(ENTRIES, "entries", NULL) X(READS, "reads", NULL) \
	X(NS, "ns", NULL) X(PMD_POS, "pmd_pos", "-1")

/* ---- summary.tsv ---- */
#define PMB_SUMMARY_COLS(X) \
	X(CASE, "case", NULL) X(KIND, "kind", NULL) X(SWAPOUT, "swapout", NULL) X(PAGES, "pages", NULL) \
	X(DIRTY_PCT, "dirty_pct", NULL) X(SWAPPED_PCT, "swapped_pct", NULL) X(METHOD, "method", NULL) \
	X(BATCH, "batch", NULL) X(QD, "qd", NULL) X(N, "n", NULL) \
	X(MEDIAN, "median_ns_per_entry", NULL) X(CI_LO, "ci_lo_ns_per_entry", NULL) \
	X(CI_HI, "ci_hi_ns_per_entry", NULL) X(Q1, "q1_ns_per_entry", NULL) X(Q3, "q3_ns_per_entry", NULL) \
	X(P5, "p5_ns_per_entry", NULL) X(P95, "p95_ns_per_entry", NULL) X(CV, "cv", NULL) \
	X(OUTLIERS, "outliers", NULL) X(CI_HALFWIDTH_PCT, "ci_halfwidth_pct", NULL) X(VERDICT, "verdict", NULL) \
	X(STATES, "states", "1") X(PRECISION_MET, "precision_met", "-")

/* ---- compare.tsv (compare and gate directories) ---- */
#define PMB_COMPARE_COLS(X) \
	X(CASE, "case", NULL) X(KIND, "kind", NULL) X(SWAPOUT, "swapout", NULL) X(PAGES, "pages", NULL) \
	X(DIRTY_PCT, "dirty_pct", NULL) X(SWAPPED_PCT, "swapped_pct", NULL) X(STATE, "state", NULL) \
	X(METHOD, "method", NULL) X(BATCH, "batch", NULL) X(QD, "qd", NULL) X(N_BASE, "n_base", NULL) \
	X(N_CAND, "n_cand", NULL) X(MEDIAN_BASE, "median_base_ns_per_entry", NULL) \
	X(MEDIAN_CAND, "median_cand_ns_per_entry", NULL) X(RATIO, "ratio", NULL) X(CI_LO, "ci_lo", NULL) \
	X(CI_HI, "ci_hi", NULL) X(P, "p_mann_whitney", NULL) X(FLOOR_PCT, "floor_pct", NULL) \
	X(THRESHOLD_PCT, "threshold_pct", NULL) X(VERDICT, "verdict", NULL)

#define X_CASES(e, n, d) PMB_C_##e,
#define X_SAMPLES(e, n, d) PMB_S_##e,
#define X_SUMMARY(e, n, d) PMB_Y_##e,
#define X_COMPARE(e, n, d) PMB_R_##e,
enum pmb_cases_col { PMB_CASES_COLS(X_CASES) PMB_C_NCOLS };
enum pmb_samples_col { PMB_SAMPLES_COLS(X_SAMPLES) PMB_S_NCOLS };
enum pmb_summary_col { PMB_SUMMARY_COLS(X_SUMMARY) PMB_Y_NCOLS };
enum pmb_compare_col { PMB_COMPARE_COLS(X_COMPARE) PMB_R_NCOLS };
#undef X_CASES
#undef X_SAMPLES
#undef X_SUMMARY
#undef X_COMPARE

extern const struct pmb_table pmb_cases_table, pmb_samples_table, pmb_summary_table,
	pmb_compare_table;

/* The confusion cell of (true, reported) state, t in 0..PMS_TRUTHS-1, r in 0..PMS_NR-1. */
static inline int pmb_cm_col(int t, int r)
{
	return t == PMS_UNMAPPED ? PMB_C_T_UNMAPPED_R_NONE + r : PMB_C_T_NONE_R_NONE + 3 * t + r;
}

/* The count of true state t. */
static inline int pmb_true_col(int t)
{
	return t == PMS_UNMAPPED ? PMB_C_TRUE_UNMAPPED : PMB_C_TRUE_NONE + t;
}

/*
 * Whether pagemap's report r is right for a page whose truth is t: the same
 * state, or for a page that is in memory but perhaps no longer mapped, either
 * present (still mapped) or what an unmapped page of its backing reads as.
 */
static inline bool pmb_report_ok(int t, int r, enum pmb_backing b)
{
	if (t < PMS_NR)
		return t == r;
	return r == PMS_PRESENT || r == (b == PMB_BACKING_ANON ? PMS_SWAPPED : PMS_NONE);
}

/* ---- verdicts ---- */

/* A case's correctness verdict (cases.tsv), worst last. */
enum pmb_case_verdict {
	PMB_V_CORRECT,
	PMB_V_SKIP,		/* cannot run here (the reason says why) */
	PMB_V_OOM,		/* the workload was OOM-killed in its cgroup */
	PMB_V_ERROR,		/* the harness could not judge it */
	PMB_V_INCORRECT,	/* pagemap reported pages wrongly */
	PMB_NR_CASE_VERDICTS,
};
extern const char *const pmb_case_verdict_names[PMB_NR_CASE_VERDICTS];
/* -1 when s is no verdict. */
int pmb_case_verdict_parse(const char *s);
/* skip or oom: the case said nothing about the kernel. */
static inline bool pmb_case_verdict_skipped(enum pmb_case_verdict v)
{
	return v == PMB_V_SKIP || v == PMB_V_OOM;
}

/* ---- names read from a run ---- */

/*
 * A name that may become part of a path or a CI test name: 1..200 bytes of
 * [A-Za-z0-9._+-], not starting with '.' or '-'.  Run ids, case ids, kinds
 * and methods from a run directory are checked with it before any use.
 */
bool pmb_safe_name(const char *s);

#endif
