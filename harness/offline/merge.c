// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench merge --out DIR RUN...: one run directory from several runs of the
 * same kernel and parameters, e.g. the A and A' boots of an ABBA order, so
 * that drift between boots cancels in a comparison.  Every source is loaded
 * and checked as compare would (rundata.c); samples are kept as they are,
 * their series renumbered per source (source k: k * stride + series), and
 * each case keeps the worst verdict any source gave it.  Columns are read
 * and written by name (harness/schema).  Nothing half-written stays behind.
 */
#include "harness/cmd.h"
#include "compare.h"
#include "lib/opt.h"
#include "lib/outdir.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Source k's series n becomes k * SERIES_STRIDE + n: every series of a run is below it. */
#define SERIES_STRIDE	10000

struct merge_opts {
	const char *out;
	const char *runs[PMB_MAX_SOURCES];
};

/* Why run b cannot be merged with run a, or NULL. */
static const char *incompatible(const struct pmb_run *a, const struct pmb_run *b)
{
	/* Stock and patched images share release and version strings: their hashes tell them apart. */
	if (strcmp(b->krelease, a->krelease) || strcmp(b->kversion, a->kversion) ||
	    strcmp(b->kimage, a->kimage) || strcmp(b->kconfig, a->kconfig))
		return "comes from another kernel";
	if (strcmp(b->environment, a->environment))
		return "ran in another environment (host, icount, tcg, kvm)";
	if (!json_equal(json_object_get(b->meta, "params"), json_object_get(a->meta, "params")))
		return "was run with other parameters";
	if (b->ncases != a->ncases)
		return "has other cases";
	for (size_t i = 0; i < a->ncases; i++)
		if (strcmp(a->cases[i].id, b->cases[i].id))
			return "has other cases";
	if (json_object_get(b->meta, "merged_from"))
		return "is a merged run itself (merge the runs it was made from)";
	return NULL;
}

static int load_all(struct pmb_run *s, const struct merge_opts *o, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *why;
		int err = pmb_run_load(o->runs[k], &s[k]);

		if (err)
			return err;
		if (strcmp(s[k].schema, PMB_SCHEMA))
			return pmb_fail(-EINVAL, "merge: %s: schema '%.60s' is not '%s'", o->runs[k],
					s[k].schema, PMB_SCHEMA);
		if (strcmp(s[k].status, "complete"))
			return pmb_fail(-EBUSY, "merge: %s: status '%s' is not 'complete'", o->runs[k],
					s[k].status);
		why = incompatible(&s[0], &s[k]);
		if (why)
			return pmb_fail(-EINVAL, "merge: %s %s (compared with %s)", o->runs[k], why, o->runs[0]);
	}
	return 0;
}

/* Row r of table t, every column of the schema (a column the file lacks takes its default). */
static int copy_row(FILE *f, const struct pmb_tsv *t, size_t r, int renumber_col, long long series)
{
	struct pmb_tsv_row row;

	pmb_tsv_row_init(&row, t->t);
	for (size_t c = 0; c < t->t->ncols; c++)
		if ((int)c == renumber_col)
			pmb_tsv_set(&row, (int)c, "%lld", series);
		else
			pmb_tsv_set(&row, (int)c, "%s", pmb_tsv_get(t, r, (int)c));
	return pmb_tsv_write_row(f, &row);
}

static int write_cases(const char *out, struct pmb_run *s, size_t n)
{
	FILE *f = pmb_out_create(out, "cases.tsv");
	int err;

	if (!f)
		return -EIO;
	err = pmb_tsv_write_header(f, &pmb_cases_table);
	for (size_t r = 0; !err && r < s[0].ncases; r++) {
		size_t pick = 0;

		for (size_t k = 1; k < n; k++) {
			if (s[k].cases[r].verdict != s[0].cases[r].verdict)
				pmb_warn("%s: %s in %s, %s in %s; the merge keeps the worse", s[0].cases[r].id,
					 pmb_case_verdict_names[s[0].cases[r].verdict], s[0].dir,
					 pmb_case_verdict_names[s[k].cases[r].verdict], s[k].dir);
			if (s[k].cases[r].verdict > s[pick].cases[r].verdict)
				pick = k;
		}
		err = copy_row(f, &s[pick].cases_tsv, r, -1, 0);
	}
	return pmb_out_close(f, out, "cases.tsv") || err ? -EIO : 0;
}

static int write_samples(const char *out, struct pmb_run *s, size_t n)
{
	FILE *f = pmb_out_create(out, "samples.tsv");
	int err;

	if (!f)
		return -EIO;
	err = pmb_tsv_write_header(f, &pmb_samples_table);
	for (size_t k = 0; !err && k < n; k++) {
		const struct pmb_tsv *t = &s[k].samples_tsv;

		for (size_t r = 0; !err && r < t->nrows; r++) {
			long long series;

			/* rundata.c checked it is a whole number from 0. */
			pmb_parse_ll(pmb_tsv_get(t, r, PMB_S_SERIES), &series);
			if (series >= SERIES_STRIDE) {
				err = pmb_fail(-ERANGE, "merge: %s/samples.tsv:%zu: series %lld: at most %d "
					       "series can be renumbered", s[k].dir, pmb_tsv_line(r), series,
					       SERIES_STRIDE - 1);
				break;
			}
			err = copy_row(f, t, r, PMB_S_SERIES, (long long)k * SERIES_STRIDE + series);
		}
	}
	return pmb_out_close(f, out, "samples.tsv") || err ? (err ? err : -EIO) : 0;
}

static int write_meta(const char *out, const char *id, struct pmb_run *s, size_t n)
{
	json_t *m = json_deep_copy(s[0].meta), *from = json_array(), *noise = NULL;
	char why[1024] = "";
	size_t used = 0;
	bool busy = false;
	FILE *f;
	int err;

	if (!m || !from) {
		json_decref(m);
		json_decref(from);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		json_array_append_new(from, json_string(s[k].run_id));
		if (s[k].busy && used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s: %s", used ? "; " : "",
						 s[k].run_id, s[k].busy_why);
		busy |= s[k].busy;
	}
	noise = json_pack("{s:b, s:s}", "busy", busy, "why", why);
	{
		long long outside = 0;
		const char *lines = "";
		json_t *kl = json_object_get(m, "kernel_log");

		for (size_t k = 0; k < n; k++) {
			outside += s[k].kernel_outside;
			if (!*lines && s[k].kernel_lines)
				lines = s[k].kernel_lines;
		}
		/* Problems outside every case, in any source (its console included), stay problems. */
		if (json_is_object(kl) || outside) {
			if (!json_is_object(kl)) {
				kl = json_object();
				json_object_set_new(m, "kernel_log", kl);
			}
			json_object_set_new(kl, "outside_cases", json_integer(outside));
			char clean[2048];

			pmb_text_clean(lines, clean, sizeof(clean));
			json_object_set_new(kl, "outside_lines", json_string(clean));
		}
	}
	/* How the kernel was built, when every source says the same. */
	{
		bool same = true;

		for (size_t k = 1; k < n; k++)
			same &= !strcmp(s[k].kbuild, s[0].kbuild);
		if (same && s[0].kbuild[0])
			json_object_set_new(m, "kernel_build", json_string(s[0].kbuild));
		else
			json_object_del(m, "kernel_build");
	}
	json_object_set_new(m, "run_id", json_string(id));
	json_object_set_new(m, "merged_from", from);
	json_object_set_new(m, "series_stride", json_integer(SERIES_STRIDE));
	json_object_set_new(m, "status", json_string("complete"));
	json_object_set_new(m, "host_noise", noise);
	f = pmb_out_create(out, "meta.json");
	if (!f) {
		json_decref(m);
		return -EIO;
	}
	err = json_dumpf(m, f, JSON_INDENT(2) | JSON_SORT_KEYS) ? -EIO : 0;
	json_decref(m);
	return pmb_out_close(f, out, "meta.json") || err ? -EIO : 0;
}

#define OFF(f) offsetof(struct merge_opts, f)
static const struct pmb_opt merge_opts[] = {
	{ "out", 0, PMB_OPT_STR, OFF(out), "DIR", "the merged run directory (must not exist; its name\n"
	  "becomes the run id)" },
};
#undef OFF

const struct pmb_opt_spec pmb_merge_spec = {
	.prog = "pmbench merge", .args = "--out DIR RUN RUN...",
	.about = "One run directory from several runs of the same kernel and parameters (for\n"
		 "example the two boots of each kernel in an ABBA order). Samples are kept, their\n"
		 "series renumbered per source (source k: k*10000 + series); each case keeps the\n"
		 "worst verdict any source gave it.\n",
	.opts = merge_opts, .nopts = 1, .min_pos = 1, .max_pos = PMB_MAX_SOURCES,
	.more = "exit: 0 done, 3 harness error, 64 bad input or runs that cannot be merged,\n"
		"      77 a run is not complete\n",
};

int cmd_merge(int argc, char **argv)
{
	struct merge_opts o = { 0 };
	struct pmb_run s[PMB_MAX_SOURCES];
	char out[4096], base[4096];
	const char *id;
	unsigned n;
	int err;

	err = pmb_opt_parse(&pmb_merge_spec, argc, argv, &o, o.runs, &n, NULL);
	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	if (!o.out)
		return pmb_fail(PMB_EXIT_USAGE, "merge: --out DIR is required (see --help)");
	snprintf(out, sizeof(out), "%s", o.out);
	for (size_t l = strlen(out); l > 1 && out[l - 1] == '/'; l--)
		out[l - 1] = '\0';
	snprintf(base, sizeof(base), "%s", out);
	id = basename(base);
	if (!pmb_safe_name(id))
		return pmb_fail(PMB_EXIT_USAGE, "merge: --out %s: its last part is the run id and must be a name "
				"([A-Za-z0-9._+-], at most 200)", o.out);
	memset(s, 0, sizeof(s));
	err = load_all(s, &o, n);
	if (!err && mkdir(out, 0755) < 0)
		err = pmb_err(-errno, "merge: %s (a run directory is never overwritten)", out);
	else if (!err) {
		err = write_cases(out, s, n);
		if (!err)
			err = write_samples(out, s, n);
		if (!err)
			err = write_meta(out, id, s, n);
		if (err)
			pmb_out_remove(out);	/* nothing half-written stays behind */
		else
			printf("%s\n", out);
	}
	for (unsigned k = 0; k < n; k++)
		pmb_run_free(&s[k]);
	if (!err)
		return PMB_EXIT_PASS;
	if (err == -EBUSY)
		return PMB_EXIT_SKIP;
	return pmb_bad_input(err) ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
}
