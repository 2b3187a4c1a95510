// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench compare BASE CAND: for every timed series present in both runs, the
 * ratio of medians CAND/BASE with its bootstrap 95% CI, a Mann-Whitney U
 * p-value and a verdict; next to it, the cases whose confusion matrices differ.
 */
#include "harness/cmd.h"
#include "compare.h"
#include "lib/stats/stats.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const state_names[3] = { "none", "present", "swapped" };

const char *pmb_verdict_token(enum pmb_verdict v)
{
	static const char *const t[] = { "no-change", "regression", "improvement",
					 "too-few-samples" };
	return t[v];
}

const char *pmb_verdict_text(enum pmb_verdict v)
{
	static const char *const t[] = { "no change within noise", "regression", "improvement",
					 "too few samples" };
	return t[v];
}

void pmb_row_name(const struct pmb_cmp_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s:b%lld:qd%lld", r->bc->id, r->method, r->batch, r->qd);
}

int pmb_compare_exit(int err)
{
	switch (err) {
	case 0:
		return PMB_EXIT_PASS;
	case PMB_ERR_NOTDONE:
		return PMB_EXIT_SKIP;
	case PMB_ERR_SCHEMA:
	case PMB_ERR_NOCOMMON:
	case -EINVAL:
	case -ENOENT:
	case -ENOTDIR:
	case -EISDIR:
		return PMB_EXIT_USAGE;
	default:
		return PMB_EXIT_ERROR;
	}
}

static int same_state(const struct pmb_rcase *a, const struct pmb_rcase *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->swapout, b->swapout) &&
	       a->pages == b->pages && a->dirty_pct == b->dirty_pct &&
	       a->swapped_pct == b->swapped_pct;
}

static void judge(struct pmb_cmp_row *r, double thr)
{
	if (r->lo > 1 + thr / 100)
		r->verdict = PMB_V_REGRESSION;
	else if (r->hi < 1 - thr / 100)
		r->verdict = PMB_V_IMPROVEMENT;
	else
		r->verdict = PMB_V_NOCHANGE;
}

static int compare_series(struct pmb_cmp *c, const struct pmb_series *bs,
			  const struct pmb_series *cs, struct pmb_cmp_row *r)
{
	struct pmb_summary sb, sc;
	double *tmp;
	int err;

	memset(r, 0, sizeof(*r));
	r->bc = &c->base.cases[bs->case_idx];
	r->cc = &c->cand.cases[cs->case_idx];
	r->method = bs->method;
	r->batch = bs->batch;
	r->qd = bs->qd;
	r->nb = bs->n;
	r->nc = cs->n;
	r->ratio = r->lo = r->hi = r->p = r->floor_pct = NAN;
	r->med_b = r->med_c = NAN;
	tmp = malloc((bs->n > cs->n ? bs->n : cs->n) * sizeof(double) + 1);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, bs->v, bs->n * sizeof(double));
	err = pmb_summarize(tmp, bs->n, 0, 0, &sb);
	memcpy(tmp, cs->v, cs->n * sizeof(double));
	if (!err)
		err = pmb_summarize(tmp, cs->n, 0, 0, &sc);
	free(tmp);
	if (err)
		return err;
	r->med_b = sb.median;
	r->med_c = sc.median;
	if (bs->n < PMB_MIN_SAMPLES || cs->n < PMB_MIN_SAMPLES) {
		r->verdict = PMB_V_FEW;
		return 0;
	}
	err = pmb_ratio_ci(bs->v, bs->n, cs->v, cs->n, PMB_RESAMPLES, c->seed,
			   &r->ratio, &r->lo, &r->hi);
	if (err)
		return err;
	r->p = pmb_mann_whitney_p(bs->v, bs->n, cs->v, cs->n);
	r->floor_pct = 100 * fmax(r->hi - 1, 1 - r->lo);
	if (!isfinite(r->ratio) || !isfinite(r->lo) || !isfinite(r->hi)) {
		/* A zero median: nothing sensible to say about a ratio. */
		r->ratio = r->lo = r->hi = r->floor_pct = NAN;
		r->verdict = PMB_V_FEW;
		return 0;
	}
	judge(r, c->threshold_pct);
	return 0;
}

static int compare_timing(struct pmb_cmp *c)
{
	size_t i, matched = 0;
	int err;

	c->rows = calloc(c->base.nseries + 1, sizeof(*c->rows));
	if (!c->rows)
		return -ENOMEM;
	for (i = 0; i < c->base.nseries; i++) {
		const struct pmb_series *bs = &c->base.series[i];
		const struct pmb_rcase *bc = &c->base.cases[bs->case_idx];
		long j = pmb_run_find_series(&c->cand, bc->id, bs->method, bs->batch, bs->qd);

		if (j < 0 || !same_state(bc, &c->cand.cases[c->cand.series[j].case_idx])) {
			c->series_only_base++;
			continue;
		}
		matched++;
		err = compare_series(c, bs, &c->cand.series[j], &c->rows[c->nrows]);
		if (err)
			return err;
		c->nrows++;
	}
	c->series_only_cand = c->cand.nseries - matched;
	return 0;
}

/* "none", "swapped (1500) and none (548)" for one side's confusion row. */
static void describe_reported(const struct pmb_rcase *k, int t, char *buf, size_t len)
{
	size_t used = 0;
	int rp, parts = 0, single;

	buf[0] = '\0';
	for (rp = 0; rp < 3; rp++)
		parts += k->cm[t][rp] > 0;
	single = parts == 1;
	for (rp = 2; rp >= 0 && used < len; rp--) {
		long long n = k->cm[t][rp];
		const char *extra = "";

		if (!n)
			continue;
		if (rp == 2) {
			long long bad = k->swap_bad_type + k->swap_bad_offset + k->swap_dup;

			if (bad)
				extra = " with invalid or duplicate offsets";
			else if (k->content_bad)
				extra = " with offsets whose slots hold the wrong page";
			else if (k->content_ok && !k->content_unchecked)
				extra = " with valid, content-checked offsets";
			else
				extra = " with valid offsets";
		}
		if (single)
			used += (size_t)snprintf(buf + used, len - used, "as %s%s",
						 state_names[rp], extra);
		else
			used += (size_t)snprintf(buf + used, len - used, "%s%s (%lld)%s",
						 used ? " and " : "as ", state_names[rp], n, extra);
	}
	if (!parts)
		snprintf(buf, len, "as nothing (no counts)");
}

static int row_differs(const struct pmb_rcase *a, const struct pmb_rcase *b, int t)
{
	int rp;

	for (rp = 0; rp < 3; rp++)
		if (a->cm[t][rp] != b->cm[t][rp])
			return 1;
	/* The same counts, but different validity of the reported swap slots. */
	return t == 2 && a->cm[2][2] &&
	       ((a->swap_bad_type + a->swap_bad_offset + a->swap_dup > 0) !=
		(b->swap_bad_type + b->swap_bad_offset + b->swap_dup > 0) ||
		(a->content_bad > 0) != (b->content_bad > 0));
}

static void describe_case(struct pmb_corr_row *r)
{
	const struct pmb_rcase *b = r->bc, *c = r->cc;
	char rb[256], rc[256];
	size_t used = 0, len = sizeof(r->text);
	int t;

	r->text[0] = '\0';
	for (t = 2; t >= 0; t--) {
		if (!row_differs(b, c, t))
			continue;
		describe_reported(b, t, rb, sizeof(rb));
		describe_reported(c, t, rc, sizeof(rc));
		if (used < len)
			used += (size_t)snprintf(r->text + used, len - used,
				"%s%s (%s), %lld %s pages: reported %s on BASE, %s on CAND.",
				used ? " " : "", b->kind, b->id, c->true_n[t], state_names[t],
				rb, rc);
		r->differs = 1;
	}
	if (strcmp(b->verdict, c->verdict) && used < len) {
		used += (size_t)snprintf(r->text + used, len - used,
					 "%s%s (%s): verdict %s on BASE, %s on CAND.",
					 used ? " " : "", b->kind, b->id, b->verdict, c->verdict);
		r->differs = 1;
	}
}

static int compare_correctness(struct pmb_cmp *c)
{
	size_t i;

	c->corr = calloc(c->base.ncases + 1, sizeof(*c->corr));
	if (!c->corr)
		return -ENOMEM;
	for (i = 0; i < c->base.ncases; i++) {
		const struct pmb_rcase *b = &c->base.cases[i];
		long j = pmb_run_find_case(&c->cand, b->id);
		struct pmb_corr_row *r;

		if (j < 0 || !same_state(b, &c->cand.cases[j])) {
			c->cases_only_base++;
			continue;
		}
		r = &c->corr[c->ncorr++];
		r->bc = b;
		r->cc = &c->cand.cases[j];
		describe_case(r);
	}
	c->cases_only_cand = c->cand.ncases - c->ncorr;
	return 0;
}

static int check_run(const struct pmb_run *r, const char *which)
{
	if (strcmp(r->schema, PMB_SCHEMA)) {
		pmb_err(0, "%s %s: schema '%s' is not '%s': refusing to compare", which, r->dir,
			r->schema, PMB_SCHEMA);
		return PMB_ERR_SCHEMA;
	}
	if (strcmp(r->status, "complete")) {
		pmb_err(0, "%s %s: run status is '%s', not 'complete': its data cannot be trusted",
			which, r->dir, *r->status ? r->status : "(none)");
		return PMB_ERR_NOTDONE;
	}
	return 0;
}

int pmb_compare_load(const char *base, const char *cand, double threshold_pct, uint64_t seed,
		     struct pmb_cmp *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->threshold_pct = threshold_pct;
	c->seed = seed;
	err = pmb_run_load(base, &c->base);
	if (!err)
		err = pmb_run_load(cand, &c->cand);
	if (err)
		return err;
	if (strcmp(c->base.schema, c->cand.schema)) {
		pmb_err(0, "different schema versions: BASE %s is '%s', CAND %s is '%s': "
			"refusing to compare", c->base.dir, c->base.schema, c->cand.dir,
			c->cand.schema);
		return PMB_ERR_SCHEMA;
	}
	err = check_run(&c->base, "BASE");
	if (!err)
		err = check_run(&c->cand, "CAND");
	if (err)
		return err;
	err = compare_correctness(c);
	if (!err)
		err = compare_timing(c);
	if (err)
		return pmb_err(err, "compare");
	if (!c->ncorr) {
		pmb_err(0, "BASE %s and CAND %s have no cases in common (same kind, swap-out, "
			"pages, dirty and swapped fractions): nothing to compare",
			c->base.dir, c->cand.dir);
		return PMB_ERR_NOCOMMON;
	}
	/* The image's hash decides where both runs have one (images under QEMU). */
	if (*c->base.kimage && *c->cand.kimage)
		c->same_build = !strcmp(c->base.kimage, c->cand.kimage);
	else
		c->same_build = !strcmp(c->base.krelease, c->cand.krelease) &&
				!strcmp(c->base.kversion, c->cand.kversion) &&
				!strcmp(c->base.kconfig, c->cand.kconfig);
	if (c->same_build)
		pmb_warn("both runs come from the same kernel build (%s, %s): this is an A/A "
			 "comparison; its spread is the noise floor", c->base.krelease,
			 c->base.kversion);
	return 0;
}

void pmb_compare_free(struct pmb_cmp *c)
{
	free(c->rows);
	free(c->corr);
	pmb_run_free(&c->base);
	pmb_run_free(&c->cand);
	memset(c, 0, sizeof(*c));
}

/* ---- output ---- */

int pmb_mkdir_new(const char *path, char *out, size_t len)
{
	int i;

	for (i = 1; i < 1000; i++) {
		if (i == 1)
			snprintf(out, len, "%s", path);
		else
			snprintf(out, len, "%s-%d", path, i);
		if (!mkdir(out, 0755))
			return 0;
		if (errno != EEXIST)
			return pmb_err(-errno, "mkdir %s", out);
	}
	return pmb_err(-EEXIST, "%s", path);
}

void pmb_default_outdir(const struct pmb_cmp *c, const char *prefix, char *out, size_t len)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", c->base.dir);
	snprintf(out, len, "%s/%s-%s-vs-%s", dirname(tmp), prefix, c->base.run_id,
		 c->cand.run_id);
}

FILE *pmb_open_out(const char *dir, const char *name)
{
	char path[4300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		pmb_err(-errno, "%s", path);
	return f;
}

int pmb_close_out(FILE *f, const char *dir, const char *name)
{
	int bad = ferror(f);

	if (fclose(f) || bad)
		return pmb_err(-EIO, "writing %s/%s", dir, name);
	return 0;
}

int pmb_compare_write_tsv(const struct pmb_cmp *c, const char *dir)
{
	FILE *f = pmb_open_out(dir, "compare.tsv");
	size_t i;

	if (!f)
		return -EIO;
	fprintf(f, "# pagemap-bench compare v1\n"
		   "case\tkind\tswapout\tpages\tdirty_pct\tswapped_pct\tstate\tmethod\tbatch\tqd\t"
		   "n_base\tn_cand\tmedian_base_ns_per_entry\tmedian_cand_ns_per_entry\t"
		   "ratio\tci_lo\tci_hi\tp_mann_whitney\tfloor_pct\tthreshold_pct\tverdict\n");
	for (i = 0; i < c->nrows; i++) {
		const struct pmb_cmp_row *r = &c->rows[i];

		fprintf(f, "%s\t%s\t%s\t%lld\t%g\t%g\t%s\t%s\t%lld\t%lld\t%zu\t%zu\t%.4f\t%.4f\t"
			   "%.5f\t%.5f\t%.5f\t%.4g\t%.3f\t%g\t%s\n",
			r->bc->id, r->bc->kind, r->bc->swapout, r->bc->pages, r->bc->dirty_pct,
			r->bc->swapped_pct, pmb_case_state(r->cc), r->method, r->batch, r->qd,
			r->nb, r->nc, r->med_b, r->med_c, r->ratio, r->lo, r->hi, r->p,
			r->floor_pct, c->threshold_pct, pmb_verdict_token(r->verdict));
	}
	return pmb_close_out(f, dir, "compare.tsv");
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *run_json(const struct pmb_run *r)
{
	char abs[4096];
	const char *d = realpath(r->dir, abs) ? abs : r->dir;

	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "dir", d, "run_id", r->run_id,
			 "kernel_release", r->krelease, "kernel_version", r->kversion,
			 "config_fnv1a64", r->kconfig);
}

static json_t *row_json(const struct pmb_cmp *c, const struct pmb_cmp_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:s, s:s, s:I, s:I, s:I, s:I, "
			 "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:s}",
			 "case", r->bc->id, "kind", r->bc->kind, "swapout", r->bc->swapout,
			 "pages", (json_int_t)r->bc->pages, "dirty_pct", r->bc->dirty_pct,
			 "swapped_pct", r->bc->swapped_pct, "state", pmb_case_state(r->cc),
			 "method", r->method, "batch", (json_int_t)r->batch,
			 "qd", (json_int_t)r->qd, "n_base", (json_int_t)r->nb,
			 "n_cand", (json_int_t)r->nc,
			 "median_base_ns_per_entry", jnum(r->med_b),
			 "median_cand_ns_per_entry", jnum(r->med_c),
			 "ratio", jnum(r->ratio), "ci_lo", jnum(r->lo), "ci_hi", jnum(r->hi),
			 "p_mann_whitney", jnum(r->p), "floor_pct", jnum(r->floor_pct),
			 "threshold_pct", c->threshold_pct,
			 "verdict", pmb_verdict_token(r->verdict));
}

static json_t *cm_json(const struct pmb_rcase *k)
{
	json_t *o = json_object();
	char key[48];
	int t, rp;

	for (t = 0; o && t < 3; t++)
		for (rp = 0; rp < 3; rp++) {
			snprintf(key, sizeof(key), "t_%s_r_%s", state_names[t], state_names[rp]);
			json_object_set_new(o, key, json_integer(k->cm[t][rp]));
		}
	return o;
}

static json_t *corr_json(const struct pmb_corr_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o}",
			 "case", r->bc->id, "kind", r->bc->kind,
			 "verdict_base", r->bc->verdict, "verdict_cand", r->cc->verdict,
			 "differs", r->differs, "text", r->text,
			 "confusion_base", cm_json(r->bc), "confusion_cand", cm_json(r->cc));
}

int pmb_compare_write_json(const struct pmb_cmp *c, const char *dir)
{
	json_t *root, *rows, *corr;
	char path[4300];
	size_t i;
	int err = 0;

	rows = json_array();
	corr = json_array();
	for (i = 0; rows && i < c->nrows; i++)
		if (json_array_append_new(rows, row_json(c, &c->rows[i])))
			err = -ENOMEM;
	for (i = 0; corr && i < c->ncorr; i++)
		if (json_array_append_new(corr, corr_json(&c->corr[i])))
			err = -ENOMEM;
	root = json_pack("{s:s, s:o, s:o, s:f, s:I, s:I, s:i, s:b, s:o, s:o}",
			 "schema", "pagemap-bench-compare/1", "base", run_json(&c->base),
			 "cand", run_json(&c->cand), "threshold_pct", c->threshold_pct,
			 "seed", (json_int_t)c->seed, "resamples", (json_int_t)PMB_RESAMPLES,
			 "min_samples", PMB_MIN_SAMPLES, "same_build", c->same_build,
			 "rows", rows, "correctness", corr);
	if (!root || err) {
		json_decref(root);
		return pmb_err(-ENOMEM, "compare.json");
	}
	snprintf(path, sizeof(path), "%s/compare.json", dir);
	if (json_dump_file(root, path, JSON_INDENT(1) | JSON_SORT_KEYS))
		err = pmb_err(-EIO, "writing %s", path);
	json_decref(root);
	return err;
}

static void fmt_ratio(const struct pmb_cmp_row *r, char *buf, size_t len)
{
	if (isnan(r->ratio))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f [%.3f, %.3f]", r->ratio, r->lo, r->hi);
}

void pmb_compare_print_table(const struct pmb_cmp *c, FILE *f, const char *indent)
{
	size_t i, w = 4;
	char ci[64], p[16];

	for (i = 0; i < c->nrows; i++)
		if (strlen(c->rows[i].bc->id) > w)
			w = strlen(c->rows[i].bc->id);
	fprintf(f, "%s%-*s  %-9s %6s %3s %7s %11s %11s  %-24s %8s  %s\n", indent, (int)w, "case",
		"method", "batch", "qd", "n b/c", "base ns/e", "cand ns/e",
		"ratio [95% CI]", "p(MWU)", "verdict");
	for (i = 0; i < c->nrows; i++) {
		const struct pmb_cmp_row *r = &c->rows[i];
		char n[24];

		fmt_ratio(r, ci, sizeof(ci));
		snprintf(n, sizeof(n), "%zu/%zu", r->nb, r->nc);
		if (isnan(r->p))
			snprintf(p, sizeof(p), "-");
		else
			snprintf(p, sizeof(p), "%.2g", r->p);
		fprintf(f, "%s%-*s  %-9s %6lld %3lld %7s %11.2f %11.2f  %-24s %8s  %s\n", indent,
			(int)w, r->bc->id, r->method, r->batch, r->qd, n, r->med_b, r->med_c, ci,
			p, pmb_verdict_text(r->verdict));
	}
}

static void count_verdicts(const struct pmb_cmp *c, size_t *n)
{
	size_t i;

	memset(n, 0, 4 * sizeof(*n));
	for (i = 0; i < c->nrows; i++)
		n[c->rows[i].verdict]++;
}

void pmb_compare_print_header(const struct pmb_cmp *c, FILE *f)
{
	fprintf(f, "BASE  %s  (kernel %s, %s)\n", c->base.run_id, c->base.krelease,
		c->base.kversion);
	fprintf(f, "CAND  %s  (kernel %s, %s)\n", c->cand.run_id, c->cand.krelease,
		c->cand.kversion);
	if (c->same_build)
		fprintf(f, "NOTE  both runs come from the same kernel build: an A/A comparison. "
			   "Each row's\n      spread, max(ci_hi - 1, 1 - ci_lo), is the noise floor "
			   "(gate --noise-floor DIR).\n");
}

void pmb_compare_print_correctness(const struct pmb_cmp *c, FILE *f)
{
	size_t i, n = 0;

	for (i = 0; i < c->ncorr; i++) {
		if (!c->corr[i].differs)
			continue;
		fprintf(f, "- %s\n", c->corr[i].text);
		n++;
	}
	if (!n)
		fprintf(f, "- No case's correctness differs: the %zu cases in common have the same "
			   "confusion matrices and verdicts.\n", c->ncorr);
}

static void print_counts(const struct pmb_cmp *c, FILE *f)
{
	size_t n[4];

	count_verdicts(c, n);
	fprintf(f, "%zu series compared: %zu regression(s), %zu improvement(s), %zu within noise, "
		   "%zu with too few samples (threshold %g%%).\n", c->nrows,
		n[PMB_V_REGRESSION], n[PMB_V_IMPROVEMENT], n[PMB_V_NOCHANGE], n[PMB_V_FEW],
		c->threshold_pct);
	if (c->series_only_base || c->series_only_cand)
		fprintf(f, "Series in one run only: %zu in BASE, %zu in CAND (not compared).\n",
			c->series_only_base, c->series_only_cand);
	if (c->cases_only_base || c->cases_only_cand)
		fprintf(f, "Cases in one run only: %zu in BASE, %zu in CAND (not compared).\n",
			c->cases_only_base, c->cases_only_cand);
}

static void report_method(const struct pmb_cmp *c, FILE *f)
{
	fprintf(f, "## Method\n\n"
		   "The metric is wall time per pagemap entry (ns/entry; per read for sparse), "
		   "from measured samples only\n(warm-up and drifted series excluded). For each "
		   "series: the ratio of medians CAND/BASE, its\nbootstrap 95%% CI (%d resamples "
		   "of each side, seed %llu) and a two-sided Mann-Whitney U p-value.\nRegression: "
		   "the whole CI lies above 1 + %g%%. Improvement: the whole CI lies below "
		   "1 - %g%%.\nOtherwise: no change within noise. Fewer than %d samples on either "
		   "side: too few samples.\n", PMB_RESAMPLES, (unsigned long long)c->seed,
		c->threshold_pct, c->threshold_pct, PMB_MIN_SAMPLES);
}

int pmb_compare_write_report(const struct pmb_cmp *c, const char *dir)
{
	FILE *f = pmb_open_out(dir, "report.md");

	if (!f)
		return -EIO;
	fprintf(f, "# pagemap-bench comparison: %s vs %s\n\n", c->base.run_id, c->cand.run_id);
	pmb_compare_print_header(c, f);
	fprintf(f, "\n## Correctness\n\n");
	pmb_compare_print_correctness(c, f);
	fprintf(f, "\n## Timing (CAND/BASE)\n\n");
	pmb_compare_print_table(c, f, "    ");
	fprintf(f, "\n");
	print_counts(c, f);
	fprintf(f, "\n");
	report_method(c, f);
	return pmb_close_out(f, dir, "report.md");
}

/* ---- the subcommand ---- */

static void compare_usage(FILE *f)
{
	fprintf(f, "usage: pmbench compare BASE CAND [--out DIR] [--threshold PCT] [--seed S]\n"
		   "  Compare two run directories; writes compare.tsv, compare.json, report.md and\n"
		   "  plots/ into a new directory (default: next to BASE,\n"
		   "  compare-<base-id>-vs-<cand-id>, never overwritten) and prints the table.\n"
		   "  --threshold PCT  verdict threshold (default 5%%)\n"
		   "  --seed S         bootstrap seed (default 1)\n"
		   "  --no-plots       skip rendering plots/\n"
		   "exit: 0 done, 3 harness error, 64 bad input (schema, no common cases),\n"
		   "      77 a run is not complete (interrupted)\n");
}

int cmd_compare(int argc, char **argv)
{
	struct pmb_cmp_opts o = { .thr = PMB_DEFAULT_THRESHOLD_PCT, .seed = 1 };
	char outdir[4096], want[4096];
	struct pmb_cmp c;
	int err, ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		compare_usage(stdout);
		return PMB_EXIT_PASS;
	}
	if (pmb_parse_cmp_opts(argc, argv, 0, &o)) {
		compare_usage(stderr);
		return PMB_EXIT_USAGE;
	}
	err = pmb_compare_load(o.base, o.cand, o.thr, o.seed, &c);
	if (err) {
		pmb_compare_free(&c);
		return pmb_compare_exit(err);
	}
	if (o.out)
		snprintf(want, sizeof(want), "%s", o.out);
	else
		pmb_default_outdir(&c, "compare", want, sizeof(want));
	err = pmb_mkdir_new(want, outdir, sizeof(outdir));
	if (!err)
		err = pmb_compare_write_tsv(&c, outdir);
	if (!err)
		err = pmb_compare_write_json(&c, outdir);
	if (!err)
		err = pmb_compare_write_report(&c, outdir);
	if (!err) {
		pmb_compare_print_header(&c, stdout);
		printf("\nCorrectness:\n");
		pmb_compare_print_correctness(&c, stdout);
		printf("\n");
		pmb_compare_print_table(&c, stdout, "");
		printf("\n");
		print_counts(&c, stdout);
		printf("Wrote %s/{compare.tsv,compare.json,report.md}\n", outdir);
	}
	pmb_compare_free(&c);
	if (err)
		return PMB_EXIT_ERROR;
	if (!o.noplots) {
		ret = pmb_plot_dir(outdir, 1);
		if (ret != PMB_EXIT_PASS && ret != PMB_EXIT_SKIP)
			return ret;
	}
	return PMB_EXIT_PASS;
}

/*
 * Options of compare and gate: BASE CAND positional, options anywhere.
 * --policy, --noise-floor and --print-default-policy are gate's only.
 */
int pmb_parse_cmp_opts(int argc, char **argv, int gate, struct pmb_cmp_opts *o)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "threshold", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-plots", no_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ "noise-floor", required_argument, NULL, 'f' },
		{ "print-default-policy", no_argument, NULL, 'P' },
		{ 0 },
	};
	uint64_t v;
	int c;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (!gate && (c == 'p' || c == 'f' || c == 'P'))
			return pmb_err(-EINVAL, "%s is an option of gate only", argv[optind - 1]);
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 't':
			if (pmb_parse_pct(optarg, &o->thr))
				return pmb_err(-EINVAL, "--threshold '%s': expected a percentage "
					       "(e.g. 5%%)", optarg);
			o->thr_set = 1;
			break;
		case 's':
			if (pmb_parse_u64(optarg, 0, UINT64_MAX, &v))
				return pmb_err(-EINVAL, "--seed '%s': expected an integer", optarg);
			o->seed = v;
			break;
		case 'n':
			o->noplots = 1;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 'f':
			o->floor = optarg;
			break;
		case 'P':
			o->print_policy = 1;
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2)
		return pmb_err(-EINVAL, "expected BASE and CAND run directories (got %d arguments)",
			       argc - optind);
	o->base = argv[optind];
	o->cand = argv[optind + 1];
	return 0;
}
