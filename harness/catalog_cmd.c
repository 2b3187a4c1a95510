// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench catalog: the catalog (catalog/catalog.def) as TSV, so that scripts
 * and the Python tests take their names and traits from the one place.
 */
#include "harness/cmd.h"
#include "catalog/catalog.h"
#include "lib/opt.h"
#include "lib/util.h"

#include <stdio.h>

static const char *const backing_name[] = {
	[PMB_BACKING_ANON] = "anon", [PMB_BACKING_SHMEM] = "shmem", [PMB_BACKING_FILE] = "file",
};
static const char *const compare_name[] = {
	[PMB_CMP_RAW] = "raw", [PMB_CMP_CATEGORIES] = "categories", [PMB_CMP_NONE] = "none",
};

const struct pmb_opt_spec pmb_catalog_spec = {
	.prog = "pmbench catalog", .args = "",
	.about = "Print the catalog: one line per method, co-metric and kind, tab-separated:\n"
		 "  method NAME ARGS COMPARE TRAITS ORDER DESCRIPTION\n"
		 "  kind   NAME BACKING TRAITS DESCRIPTION\n"
		 "ARGS: none, batch or batch,qd; COMPARE: raw, categories or none; TRAITS: a\n"
		 "comma list (read, single, sweep, metric; thp, mthp) or '-'.\n",
};

static void traits(char *buf, size_t len, unsigned t, const char *const *names, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (t & (1u << i))
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? "," : "", names[i]);
	if (!used)
		snprintf(buf, len, "-");
}

int cmd_catalog(int argc, char **argv)
{
	static const char *const mtraits[] = { "read", "single", "sweep", "metric" };
	static const char *const ktraits[] = { "thp", "mthp" };
	unsigned npos;
	char t[128];
	int err = pmb_opt_parse(&pmb_catalog_spec, argc, argv, NULL, NULL, &npos, NULL);

	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	for (size_t i = 0; i < PMB_NR_METHODS; i++) {
		const struct pmb_method_info *m = &pmb_methods[i];

		traits(t, sizeof(t), m->traits, mtraits, sizeof(mtraits) / sizeof(mtraits[0]));
		printf("method\t%s\t%s\t%s\t%s\t%d\t%s\n", m->name,
		       !(m->args & PMB_ARG_BATCH) ? "none" : m->args & PMB_ARG_QD ? "batch,qd" : "batch",
		       compare_name[m->compare], t, m->order, m->desc);
	}
	for (size_t i = 0; i < PMB_NR_KINDS; i++) {
		const struct pmb_kind_info *k = &pmb_kinds[i];

		traits(t, sizeof(t), k->traits, ktraits, sizeof(ktraits) / sizeof(ktraits[0]));
		printf("kind\t%s\t%s\t%s\t%s\n", k->name, backing_name[k->backing], t, k->desc);
	}
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}
