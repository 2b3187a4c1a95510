// SPDX-License-Identifier: GPL-2.0
#include "schema.h"

#include <string.h>

#define COL(e, n, d) { n, d },
static const struct pmb_col cases_cols[] = { PMB_CASES_COLS(COL) };
static const struct pmb_col samples_cols[] = { PMB_SAMPLES_COLS(COL) };
static const struct pmb_col summary_cols[] = { PMB_SUMMARY_COLS(COL) };
static const struct pmb_col compare_cols[] = { PMB_COMPARE_COLS(COL) };
#undef COL

const struct pmb_table pmb_cases_table = { "cases", 1, cases_cols, PMB_C_NCOLS };
const struct pmb_table pmb_samples_table = { "samples", 1, samples_cols, PMB_S_NCOLS };
const struct pmb_table pmb_summary_table = { "summary", 1, summary_cols, PMB_Y_NCOLS };
const struct pmb_table pmb_compare_table = { "compare", 1, compare_cols, PMB_R_NCOLS };

const char *const pmb_case_verdict_names[PMB_NR_CASE_VERDICTS] = {
	[PMB_V_CORRECT] = "correct", [PMB_V_SKIP] = "skip", [PMB_V_OOM] = "oom",
	[PMB_V_ERROR] = "error", [PMB_V_INCORRECT] = "incorrect",
};

int pmb_case_verdict_parse(const char *s)
{
	for (int i = 0; i < PMB_NR_CASE_VERDICTS; i++)
		if (!strcmp(s, pmb_case_verdict_names[i]))
			return i;
	return -1;
}

bool pmb_safe_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 200 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-' || *s == '+'))
			return false;
	return true;
}
