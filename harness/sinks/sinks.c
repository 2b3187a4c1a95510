// SPDX-License-Identifier: GPL-2.0
/* The sink table and what every sink shares. */
#include "sink.h"
#include "lib/outdir.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>

const char *const pmb_status_names[PMB_NR_STATUS] = {
	[PMB_ST_PASS] = "PASS", [PMB_ST_FAIL] = "FAIL", [PMB_ST_SKIP] = "SKIP",
	[PMB_ST_INCONCLUSIVE] = "INCONCLUSIVE",
};

/* One row per CI format, in the order they are written. */
const struct pmb_sink *const pmb_sinks[] = {
	&pmb_sink_junit,
	&pmb_sink_ktap,
	&pmb_sink_kcidb,
	&pmb_sink_lava,
	&pmb_sink_reply,
};
const size_t pmb_nr_sinks = sizeof(pmb_sinks) / sizeof(pmb_sinks[0]);

void pmb_report_count(struct pmb_report *r)
{
	for (size_t s = 0; s < r->nsuites; s++) {
		struct pmb_suite *su = &r->suite[s];

		for (int k = 0; k < PMB_NR_STATUS; k++)
			su->count[k] = 0;
		for (size_t i = 0; i < su->n; i++)
			su->count[su->items[i].st]++;
	}
}

int pmb_sinks_write(const char *dir, const struct pmb_report *r)
{
	for (size_t i = 0; i < pmb_nr_sinks; i++) {
		FILE *f = pmb_out_create(dir, pmb_sinks[i]->file);
		int err;

		if (!f)
			return -EIO;
		err = pmb_sinks[i]->write(f, r);
		if (pmb_out_close(f, dir, pmb_sinks[i]->file) || err)
			return err ? err : -EIO;
	}
	return 0;
}

void pmb_ci_name(const char *id, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", id, suffix && *suffix ? "." : "", suffix ? suffix : "");
	for (size_t i = 0; buf[i]; i++) {
		char ch = buf[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			buf[i] = '_';
	}
}
