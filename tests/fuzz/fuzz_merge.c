// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: pmbench merge of one to three run directories.
 * Input parts (fuzz.h): 0-4 the first run (meta.json, cases.tsv, samples.tsv,
 * host-noise.json, kernel-console.txt), 5-9 the second, 10-14 the third; a
 * run is passed when it or a later one has a part.  A merge that fails
 * leaves nothing; one that succeeds is a run that loads, with every source's
 * cases (the worst verdict of each) and every one of their samples.
 */
#include "fuzz.h"
#include "harness/cmd.h"
#include "harness/offline/rundata.h"
#include "lib/util.h"

#include <string.h>

#define NRUNS	3
#define NPARTS	(NRUNS * PMF_RUN_FILES)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

static void check_merged(const char *out, char dirs[NRUNS][4200], int n)
{
	static struct pmb_run m, s[NRUNS];
	size_t rows = 0;

	PMF_CHECK(!pmb_run_load(out, &m));
	PMF_CHECK(!strcmp(m.schema, PMB_SCHEMA) && !strcmp(m.status, "complete"));
	PMF_CHECK(json_array_size(json_object_get(m.meta, "merged_from")) == (size_t)n);
	for (int k = 0; k < n; k++) {
		PMF_CHECK(!pmb_run_load(dirs[k], &s[k]));	/* merge loaded it */
		PMF_CHECK(s[k].ncases == m.ncases);
		rows += s[k].samples_tsv.nrows;
	}
	PMF_CHECK(rows == m.samples_tsv.nrows);
	for (size_t i = 0; i < m.ncases; i++) {
		enum pmb_case_verdict worst = PMB_V_CORRECT;

		for (int k = 0; k < n; k++) {
			PMF_CHECK(!strcmp(s[k].cases[i].id, m.cases[i].id));
			if (s[k].cases[i].verdict > worst)
				worst = s[k].cases[i].verdict;
		}
		PMF_CHECK(m.cases[i].verdict == worst);
	}
	for (size_t i = 0; i < m.nseries; i++) {
		const struct pmb_series *ms = &m.series[i];
		size_t sum = 0;

		for (int k = 0; k < n; k++) {
			long j = pmb_run_find_series(&s[k], m.cases[ms->case_idx].id, ms->method, ms->batch, ms->qd);

			if (j >= 0)
				sum += s[k].series[j].n;
		}
		PMF_CHECK(sum == ms->n);
	}
	for (int k = 0; k < n; k++)
		pmb_run_free(&s[k]);
	pmb_run_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmf_part parts[NPARTS];
	char dirs[NRUNS][4200], out[4200];
	const char *argv[3 + NRUNS];
	int argc = 0, n = 1, ret;

	pmf_split(data, size, parts, NPARTS);
	for (int k = 1; k < NRUNS; k++)
		if (!pmf_parts_empty(parts, (size_t)k * PMF_RUN_FILES, PMF_RUN_FILES))
			n = k + 1;
	pmf_begin();
	argv[argc++] = "merge";
	argv[argc++] = "--out";
	argv[argc++] = pmf_path(out, sizeof(out), "merged");
	for (int k = 0; k < n; k++) {
		char name[8];

		snprintf(name, sizeof(name), "r%d", k);
		argv[argc++] = pmf_rundir(dirs[k], sizeof(dirs[k]), name, parts + k * PMF_RUN_FILES);
	}
	ret = pmf_cmd(cmd_merge, argc, argv);
	pmf_check_exit(ret);
	if (ret == PMB_EXIT_PASS)
		check_merged(out, dirs, n);
	else
		PMF_CHECK(!pmf_exists(out));	/* nothing half-written stays behind */
	pmf_end();
	return 0;
}
