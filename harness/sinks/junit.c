// SPDX-License-Identifier: GPL-2.0
/*
 * JUnit XML: one <testsuite> per suite, one <testcase> per item.  A failure
 * carries its type and message; skipped and inconclusive items are
 * <skipped> (the message says which); a pass keeps its message as output.
 */
#include "sink.h"
#include "lib/text.h"

#include <stdio.h>

static void junit_case(FILE *f, const char *cls, const char *type, const struct pmb_item *it)
{
	fputs("    <testcase classname=\"", f);
	pmb_xml_put(f, cls);
	fputs("\" name=\"", f);
	pmb_xml_put(f, it->label ? it->label : it->id);
	fputs("\" time=\"0\"", f);
	if (it->st == PMB_ST_PASS) {
		fputs(">\n      <system-out>", f);
		pmb_xml_put(f, it->msg);
		fputs("</system-out>\n    </testcase>\n", f);
		return;
	}
	if (it->st == PMB_ST_FAIL) {
		fputs(">\n      <failure type=\"", f);
		pmb_xml_put(f, type);
		fputs("\"", f);
	} else {
		fputs(">\n      <skipped", f);
	}
	fputs(" message=\"", f);
	if (it->st == PMB_ST_INCONCLUSIVE)
		fputs("inconclusive: ", f);
	pmb_xml_put(f, it->msg);
	fputs("\"/>\n    </testcase>\n", f);
}

static int junit_write(FILE *f, const struct pmb_report *r)
{
	size_t tests = 0, fail = 0, skip = 0;

	for (size_t s = 0; s < r->nsuites; s++) {
		tests += r->suite[s].n;
		fail += r->suite[s].count[PMB_ST_FAIL];
		skip += r->suite[s].count[PMB_ST_SKIP] + r->suite[s].count[PMB_ST_INCONCLUSIVE];
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
	pmb_xml_put(f, r->title);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", tests, fail, skip);
	for (size_t s = 0; s < r->nsuites; s++) {
		const struct pmb_suite *su = &r->suite[s];
		char cls[128];

		fprintf(f, "  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
			   "errors=\"0\">\n", su->name, su->n, su->count[PMB_ST_FAIL],
			su->count[PMB_ST_SKIP] + su->count[PMB_ST_INCONCLUSIVE]);
		snprintf(cls, sizeof(cls), "pagemap-bench.%s", su->name);
		for (size_t i = 0; i < su->n; i++)
			junit_case(f, cls, su->failure, &su->items[i]);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	return 0;
}

const struct pmb_sink pmb_sink_junit = { .name = "junit", .file = "junit.xml", .write = junit_write };
