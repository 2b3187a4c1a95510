// SPDX-License-Identifier: GPL-2.0
/*
 * LAVA test-case signals, one line per item, for `cat lava.txt` on a LAVA
 * serial console: <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=... RESULT=... [MEASUREMENT=... UNITS=...]>.
 * An inconclusive item is RESULT=unknown, LAVA's own word for it.
 */
#include "sink.h"

#include <math.h>
#include <stdio.h>

static const char *const lava_result[PMB_NR_STATUS] = {
	[PMB_ST_PASS] = "pass", [PMB_ST_FAIL] = "fail", [PMB_ST_SKIP] = "skip",
	[PMB_ST_INCONCLUSIVE] = "unknown",
};

static int lava_write(FILE *f, const struct pmb_report *r)
{
	char name[512];

	for (size_t s = 0; s < r->nsuites; s++)
		for (size_t i = 0; i < r->suite[s].n; i++) {
			const struct pmb_item *it = &r->suite[s].items[i];

			pmb_ci_name(it->id, it->suffix, name, sizeof(name));
			fprintf(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s", name, lava_result[it->st]);
			if (it->m.unit && isfinite(it->m.value))
				fprintf(f, it->m.value == floor(it->m.value) && fabs(it->m.value) < 1e15 ?
					" MEASUREMENT=%.0f UNITS=%s" : " MEASUREMENT=%.5f UNITS=%s",
					it->m.value, it->m.unit);
			fputs(">\n", f);
		}
	return 0;
}

const struct pmb_sink pmb_sink_lava = { .name = "lava", .file = "lava.txt", .write = lava_write };
