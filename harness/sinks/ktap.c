// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP version 1: a flat plan of items (verify), or one subtest per suite
 * (gate).  A skipped item is "ok N name # SKIP reason"; an inconclusive one
 * "ok N name # SKIP inconclusive: reason", since KTAP has no such result; a
 * failure "not ok N name" followed by "# reason".  Text from the input is
 * cleaned: no '#' (a directive), no control character (a CR would start a
 * forged line for a universal-newline reader).
 */
#include "sink.h"
#include "lib/text.h"

#include <stdio.h>
#include <string.h>

/* One cleaned line of text: no control characters, no '#'. */
static void ktap_text(FILE *f, const char *s)
{
	char buf[2048];

	pmb_text_clean(s, buf, sizeof(buf));
	for (char *p = buf; *p; p++)
		if (*p == '#')
			*p = ' ';
	fputs(buf, f);
}

void pmb_ktap_item(FILE *f, const char *indent, size_t n, const struct pmb_item *it)
{
	char name[512];

	pmb_ci_name(it->id, it->suffix, name, sizeof(name));
	if (it->diag) {
		const char *p = it->diag;

		while (*p) {
			size_t l = strcspn(p, "\n");
			char line[1024];

			snprintf(line, sizeof(line), "%.*s", (int)l, p);
			fprintf(f, "%s# ", indent);
			ktap_text(f, line);
			fputc('\n', f);
			p += l + (p[l] == '\n');
		}
	}
	if (it->st == PMB_ST_FAIL && it->msg && *it->msg) {
		fprintf(f, "%s# ", indent);
		ktap_text(f, it->msg);
		fputc('\n', f);
	}
	fprintf(f, "%s%s %zu %s", indent, it->st == PMB_ST_FAIL ? "not ok" : "ok", n, name);
	if (it->st == PMB_ST_SKIP || it->st == PMB_ST_INCONCLUSIVE) {
		fputs(" # SKIP ", f);
		if (it->st == PMB_ST_INCONCLUSIVE)
			fputs("inconclusive: ", f);
		ktap_text(f, it->msg ? it->msg : "");
	}
	fputc('\n', f);
}

void pmb_ktap_begin(FILE *f, const struct pmb_report *r, size_t plan)
{
	fputs("KTAP version 1\n", f);
	if (r->flat) {
		fputs("# ", f);
		ktap_text(f, r->title);
		fputs(": ", f);
		ktap_text(f, r->run_id ? r->run_id : "");
		fputc('\n', f);
	}
	fprintf(f, "1..%zu\n", plan);
}

static int ktap_write(FILE *f, const struct pmb_report *r)
{
	if (r->flat) {
		const struct pmb_suite *su = &r->suite[0];

		pmb_ktap_begin(f, r, su->n);
		for (size_t i = 0; i < su->n; i++)
			pmb_ktap_item(f, "", i + 1, &su->items[i]);
	} else {
		pmb_ktap_begin(f, r, r->nsuites);
		for (size_t s = 0; s < r->nsuites; s++) {
			const struct pmb_suite *su = &r->suite[s];

			fprintf(f, "    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", su->name, su->n);
			for (size_t i = 0; i < su->n; i++)
				pmb_ktap_item(f, "    ", i + 1, &su->items[i]);
			fprintf(f, "%s %zu %s", su->count[PMB_ST_FAIL] ? "not ok" : "ok", s + 1, su->name);
			if (!su->count[PMB_ST_FAIL] && !su->count[PMB_ST_PASS] && su->n)
				fputs(" # SKIP nothing could be judged", f);
			fputc('\n', f);
		}
	}
	fputs("# ", f);
	ktap_text(f, r->title);
	fputs(": ", f);
	ktap_text(f, r->verdict ? r->verdict : "");
	fprintf(f, " (exit %d)\n", r->exit_code);
	return 0;
}

const struct pmb_sink pmb_sink_ktap = { .name = "ktap", .file = "gate.ktap", .write = ktap_write };
