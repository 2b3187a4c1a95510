// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: pmbench gate (and compare) on a pair of run directories.
 * Input parts (fuzz.h):
 *	0	options: "threshold=PCT seed=N compare default-out"
 *	1-5	BASE: meta.json, cases.tsv, samples.tsv, host-noise.json, kernel-console.txt
 *	6-10	CAND: the same
 *	11	a gate policy (--policy) when not empty
 *	12	an A/A compare.json (--noise-floor) when not empty
 * cmd_gate always writes into --out inside the work directory; with
 * "compare", cmd_compare --no-plots runs too (into --out, or with
 * "default-out" next to BASE).  An output directory is whole or absent, and
 * what it holds parses.
 */
#include "fuzz.h"
#include "harness/cmd.h"
#include "harness/offline/policy.h"
#include "harness/schema/schema.h"
#include "lib/text.h"
#include "lib/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define P_OPTS		0
#define P_BASE		1
#define P_CAND		(P_BASE + PMF_RUN_FILES)
#define P_POLICY	(P_CAND + PMF_RUN_FILES)
#define P_FLOOR		(P_POLICY + 1)
#define NPARTS		(P_FLOOR + 1)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

/* Valid UTF-8, and no control characters but newline and tab: nothing copied raw from a run. */
static void check_text(const char *dir, const char *name)
{
	char path[4400], *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	PMF_CHECK(!pmb_read_file(path, 64u << 20, &buf, &len));
	for (size_t i = 0; i < len;) {
		size_t n = pmb_utf8_len((const unsigned char *)buf + i);
		unsigned char c = (unsigned char)buf[i];

		PMF_CHECK(n > 0);
		PMF_CHECK(c >= 0x20 || c == '\n' || c == '\t');
		PMF_CHECK(c != 0x7f);
		i += n;
	}
	free(buf);
}

/* Every line of a KTAP file is one a KTAP parser knows: no input forged a line. */
static void check_ktap(const char *dir)
{
	char path[4400], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/gate.ktap", dir);
	f = fopen(path, "re");
	PMF_CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		const char *s = line + strspn(line, " ");

		PMF_CHECK(!strncmp(s, "KTAP version 1\n", 15) || !strncmp(s, "1..", 3) ||
			  !strncmp(s, "ok ", 3) || !strncmp(s, "not ok ", 7) || !strncmp(s, "# ", 2));
	}
	fclose(f);
}

static void check_compare_files(const char *dir)
{
	char path[4400];
	struct pmb_tsv t;

	snprintf(path, sizeof(path), "%s/compare.tsv", dir);
	PMF_CHECK(!pmb_tsv_load(path, &pmb_compare_table, PMB_MAX_TABLE_BYTES, &t));
	pmb_tsv_free(&t);
	snprintf(path, sizeof(path), "%s/compare.json", dir);
	pmf_check_json(path);
	check_text(dir, "report.md");
}

/* An output directory is whole or absent; after a failure, absent. */
static void check_gate_out(const char *dir, int ret)
{
	char path[4400];

	if (ret == PMB_EXIT_USAGE || ret == PMB_EXIT_ERROR) {
		PMF_CHECK(!pmf_exists(dir));
		return;
	}
	if (ret != PMB_EXIT_SKIP)
		PMF_CHECK(pmf_exists(dir));
	if (!pmf_exists(dir))
		return;
	check_compare_files(dir);
	snprintf(path, sizeof(path), "%s/kcidb.json", dir);
	pmf_check_json(path);
	check_text(dir, "junit.xml");
	check_text(dir, "lava.txt");
	check_text(dir, "gate.ktap");
	check_ktap(dir);
}

static void check_compare_out(const char *dir, int ret)
{
	if (ret != PMB_EXIT_PASS) {
		PMF_CHECK(!pmf_exists(dir));
		return;
	}
	PMF_CHECK(pmf_exists(dir));
	check_compare_files(dir);
}

/* The directory compare made next to BASE (its name comes from the run ids), or "". */
static void find_default_out(const char *work, char *out, size_t len)
{
	DIR *d = opendir(work);
	struct dirent *e;
	int n = 0;

	out[0] = '\0';
	PMF_CHECK(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "compare-", 8)) {
			snprintf(out, len, "%s/%s", work, e->d_name);
			n++;
		}
	closedir(d);
	PMF_CHECK(n <= 1);
}

/* --threshold and --seed from the option part, as given (the option parser checks them). */
static int add_opts(const struct pmf_part *o, const char **argv, int argc, char (*buf)[64])
{
	if (pmf_opt(o, "threshold", buf[0], sizeof(buf[0]))) {
		argv[argc++] = "--threshold";
		argv[argc++] = buf[0];
	}
	if (pmf_opt(o, "seed", buf[1], sizeof(buf[1]))) {
		argv[argc++] = "--seed";
		argv[argc++] = buf[1];
	}
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmf_part parts[NPARTS];
	char base[4200], cand[4200], out[4200], pol[4200], floor_dir[4200], floor_file[4400];
	char vals[2][64];
	const char *argv[24], *work;
	int argc = 0, ret;

	pmf_split(data, size, parts, NPARTS);
	work = pmf_begin();
	pmf_rundir(base, sizeof(base), "base", parts + P_BASE);
	pmf_rundir(cand, sizeof(cand), "cand", parts + P_CAND);

	argv[argc++] = "gate";
	argv[argc++] = base;
	argv[argc++] = cand;
	argv[argc++] = "--out";
	argv[argc++] = pmf_path(out, sizeof(out), "gate");
	if (parts[P_POLICY].len) {
		pmf_put(pmf_path(pol, sizeof(pol), "policy.txt"), &parts[P_POLICY], PMB_POLICY_MAX_BYTES);
		argv[argc++] = "--policy";
		argv[argc++] = pol;
	}
	if (parts[P_FLOOR].len) {
		pmf_path(floor_dir, sizeof(floor_dir), "floor");
		PMF_CHECK(mkdir(floor_dir, 0755) == 0);
		snprintf(floor_file, sizeof(floor_file), "%s/compare.json", floor_dir);
		pmf_put(floor_file, &parts[P_FLOOR], PMB_MAX_TABLE_BYTES);
		argv[argc++] = "--noise-floor";
		argv[argc++] = floor_dir;
	}
	argc = add_opts(&parts[P_OPTS], argv, argc, vals);
	ret = pmf_cmd(cmd_gate, argc, argv);
	pmf_check_exit(ret);
	check_gate_out(out, ret);

	if (pmf_opt_flag(&parts[P_OPTS], "compare")) {
		bool dflt = pmf_opt_flag(&parts[P_OPTS], "default-out");

		argc = 0;
		argv[argc++] = "compare";
		argv[argc++] = base;
		argv[argc++] = cand;
		argv[argc++] = "--no-plots";
		if (!dflt) {
			argv[argc++] = "--out";
			argv[argc++] = pmf_path(out, sizeof(out), "compare");
		}
		argc = add_opts(&parts[P_OPTS], argv, argc, vals);
		ret = pmf_cmd(cmd_compare, argc, argv);
		pmf_check_exit(ret);
		if (dflt)
			find_default_out(work, out, sizeof(out));
		if (*out)
			check_compare_out(out, ret);
		else
			PMF_CHECK(ret != PMB_EXIT_PASS);
	}
	pmf_end();
	return 0;
}
