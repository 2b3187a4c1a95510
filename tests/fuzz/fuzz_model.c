// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: pmbench model on one or two run directories (only its
 * entry point, cmd_model, so that the target follows model.c as it changes).
 * Input parts (fuzz.h):
 *	0	options: "weight=W seed=N residuals"
 *	1-5	DIR: meta.json, cases.tsv, samples.tsv, host-noise.json, kernel-console.txt
 *	6-10	DIR2, passed when any of its parts is not empty
 * Always --out inside the work directory and --resamples 10 (the fit, not
 * the bootstrap's length, is under test).  A fit that succeeds writes
 * PREFIX.tsv (a TSV table that parses) and PREFIX.json (JSON that parses);
 * one that fails leaves neither.
 */
#include "fuzz.h"
#include "harness/cmd.h"
#include "lib/tsv.h"
#include "lib/util.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#define P_OPTS	0
#define P_DIR	1
#define P_DIR2	(P_DIR + PMF_RUN_FILES)
#define NPARTS	(P_DIR2 + PMF_RUN_FILES)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

/* docs/model.md: the columns of PREFIX.tsv. */
static const struct pmb_col model_cols[] = {
	{ "run" }, { "hypothesis" }, { "quantity" }, { "key" }, { "value" }, { "ci_lo" }, { "ci_hi" },
	{ "n" }, { "unit" }, { "note" },
};
static const struct pmb_table model_table = { "model", 1, model_cols, sizeof(model_cols) / sizeof(model_cols[0]) };

/* How many entries of the work directory are outputs of the model (model.tsv, model-2.json, ...). */
static int count_outputs(const char *work)
{
	DIR *d = opendir(work);
	struct dirent *e;
	int n = 0;

	PMF_CHECK(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "model", 5);
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmf_part parts[NPARTS];
	char dir[4200], dir2[4200], out[4200], path[4400], weight[64], seed[64];
	const char *argv[16], *work;
	struct pmb_tsv t;
	int argc = 0, ret;

	pmf_split(data, size, parts, NPARTS);
	work = pmf_begin();
	argv[argc++] = "model";
	argv[argc++] = pmf_rundir(dir, sizeof(dir), "dir", parts + P_DIR);
	if (!pmf_parts_empty(parts, P_DIR2, PMF_RUN_FILES))
		argv[argc++] = pmf_rundir(dir2, sizeof(dir2), "dir2", parts + P_DIR2);
	argv[argc++] = "--out";
	argv[argc++] = pmf_path(out, sizeof(out), "model");
	argv[argc++] = "--resamples";
	argv[argc++] = "10";
	if (pmf_opt(&parts[P_OPTS], "weight", weight, sizeof(weight))) {
		argv[argc++] = "--weight";
		argv[argc++] = weight;
	}
	if (pmf_opt(&parts[P_OPTS], "seed", seed, sizeof(seed))) {
		argv[argc++] = "--seed";
		argv[argc++] = seed;
	}
	if (pmf_opt_flag(&parts[P_OPTS], "residuals"))
		argv[argc++] = "--residuals";
	ret = pmf_cmd(cmd_model, argc, argv);
	pmf_check_exit(ret);
	if (ret == PMB_EXIT_PASS) {
		PMF_CHECK(count_outputs(work) == 2);
		snprintf(path, sizeof(path), "%s.json", out);
		pmf_check_json(path);
		snprintf(path, sizeof(path), "%s.tsv", out);
		PMF_CHECK(!pmb_tsv_load(path, &model_table, 64u << 20, &t));
		pmb_tsv_free(&t);
	} else {
		PMF_CHECK(count_outputs(work) == 0);	/* nothing half-written stays behind */
	}
	pmf_end();
	return 0;
}
