// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the run-directory reader (harness/offline/rundata.c).
 * Input parts (fuzz.h): meta.json, cases.tsv, samples.tsv, host-noise.json,
 * kernel-console.txt.  pmb_run_load, then pmb_run_read_own where load stops
 * at the status; what loads must hold what the loader promises its users.
 */
#include "fuzz.h"
#include "harness/offline/rundata.h"

#include <math.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

/* The promises of rundata.h to compare, gate, plot, merge and model. */
static void check_run(const struct pmb_run *r)
{
	size_t used = 0;

	PMF_CHECK(pmb_safe_name(r->run_id));
	PMF_CHECK(r->ncases == r->cases_tsv.nrows);
	for (size_t i = 0; i < r->ncases; i++) {
		const struct pmb_rcase *c = &r->cases[i];

		PMF_CHECK(pmb_safe_name(c->id) && pmb_safe_name(c->kind) && pmb_safe_name(c->swapout));
		PMF_CHECK(pmb_run_find_case(r, c->id) == (long)i);
		PMF_CHECK(c->pages >= 0 && c->pages <= (long long)PMB_MAX_CASE_PAGES);
		PMF_CHECK(c->dirty_pct >= 0 && c->dirty_pct <= 100 && c->swapped_pct >= 0 && c->swapped_pct <= 100);
		PMF_CHECK((unsigned)c->verdict < PMB_NR_CASE_VERDICTS);
		PMF_CHECK(c->reason && c->view);
		PMF_CHECK(c->start_pmd_pos >= -1 && c->start_pmd_pos < PMB_PMD_PAGES);
		for (int t = 0; t < PMS_NR; t++) {
			long long sum = 0;

			PMF_CHECK(c->true_n[t] >= 0);
			for (int rp = 0; rp < PMS_NR; rp++) {
				PMF_CHECK(c->cm[t][rp] >= 0);
				sum += c->cm[t][rp];
			}
			PMF_CHECK(sum == c->true_n[t]);
		}
		PMF_CHECK(pmb_case_misreported(c) >= 0);
		PMF_CHECK(pmb_case_state(c));
	}
	for (size_t i = 0; i < r->nseries; i++) {
		const struct pmb_series *s = &r->series[i];

		PMF_CHECK(s->case_idx < r->ncases);
		PMF_CHECK(pmb_safe_name(s->method));
		PMF_CHECK(s->batch >= 1 && s->qd >= 1);
		PMF_CHECK(s->n >= 1 && s->n <= s->cap);
		PMF_CHECK(pmb_run_find_series(r, r->cases[s->case_idx].id, s->method, s->batch, s->qd) == (long)i);
		for (size_t k = 0; k < s->n; k++)
			PMF_CHECK(isfinite(s->v[k]) && s->v[k] >= 0 && s->state[k] >= 0);
		used += s->n;
	}
	PMF_CHECK(used + r->rows_skipped == r->samples_tsv.nrows);
	PMF_CHECK(r->kernel_outside >= 0 && r->kernel_lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmf_part parts[PMF_RUN_FILES];
	char dir[4200];
	struct pmb_run r;
	bool again = false;

	pmf_split(data, size, parts, PMF_RUN_FILES);
	pmf_begin();
	pmf_rundir(dir, sizeof(dir), "run", parts);
	if (!pmb_run_load(dir, &r)) {
		if (!strcmp(r.schema, PMB_SCHEMA) && !strcmp(r.status, "complete"))
			check_run(&r);
		else
			again = !strcmp(r.schema, PMB_SCHEMA);	/* load stopped after meta.json */
	}
	pmb_run_free(&r);
	if (again) {
		if (!pmb_run_read_own(dir, &r))
			check_run(&r);
		pmb_run_free(&r);
	}
	pmf_end();
	return 0;
}
