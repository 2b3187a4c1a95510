// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench compare BASE CAND: for every timed series present in both runs, the
 * ratio of medians CAND/BASE with a hierarchical bootstrap 95% CI (states,
 * then samples), its ratio in each half of an ABBA order, a Mann-Whitney U
 * p-value and a verdict; next to it, the cases whose confusion matrices differ.
 */
#include "harness/cmd.h"
#include "compare.h"
#include "plot.h"
#include "lib/outdir.h"
#include "lib/stats/stats.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char *const pmb_sv_token[PMB_NR_SV] = {
	[PMB_SV_NOCHANGE] = "no-change", [PMB_SV_REGRESSION] = "regression",
	[PMB_SV_IMPROVEMENT] = "improvement", [PMB_SV_INCONCLUSIVE] = "inconclusive",
	[PMB_SV_FEW] = "too-few-samples",
};
const char *const pmb_sv_text[PMB_NR_SV] = {
	[PMB_SV_NOCHANGE] = "no change within noise", [PMB_SV_REGRESSION] = "regression",
	[PMB_SV_IMPROVEMENT] = "improvement", [PMB_SV_INCONCLUSIVE] = "inconclusive",
	[PMB_SV_FEW] = "too few samples",
};

void pmb_row_name(const struct pmb_cmp_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s:b%lld:qd%lld", r->bc->id, r->method, r->batch, r->qd);
}

void pmb_row_suffix(const struct pmb_cmp_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s.b%lld.qd%lld", r->method, r->batch, r->qd);
}

int pmb_compare_exit(int err)
{
	if (!err)
		return PMB_EXIT_PASS;
	if (err == PMB_ERR_NOTDONE)
		return PMB_EXIT_SKIP;
	if (err == PMB_ERR_SCHEMA || err == PMB_ERR_NOCOMMON || pmb_bad_input(err))
		return PMB_EXIT_USAGE;
	return PMB_EXIT_ERROR;
}

static int same_state(const struct pmb_rcase *a, const struct pmb_rcase *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->swapout, b->swapout) &&
	       a->pages == b->pages && a->dirty_pct == b->dirty_pct &&
	       a->swapped_pct == b->swapped_pct;
}

enum pmb_series_verdict pmb_judge_interval(double lo, double hi, const double *half, size_t nhalves,
					   double lim_lo, double lim_hi)
{
	bool above = lo > lim_hi, below = hi < lim_lo;

	/* An effect must show in every half of an ABBA order, or drift made it. */
	for (size_t k = 0; k < nhalves; k++) {
		above = above && half[k] > lim_hi;
		below = below && half[k] < lim_lo;
	}
	if (above)
		return PMB_SV_REGRESSION;
	if (below)
		return PMB_SV_IMPROVEMENT;
	if ((isnan(lim_hi) || hi <= lim_hi) && (isnan(lim_lo) || lo >= lim_lo))
		return PMB_SV_NOCHANGE;
	return PMB_SV_INCONCLUSIVE;
}

/* The samples of series s that came from source k of a merged run. */
static size_t source_samples(const struct pmb_series *s, long long stride, size_t k, double *out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->state[i] / stride == (long long)k)
			out[n++] = s->v[i];
	return n;
}

/* Ratio of medians in each ABBA half: source k of CAND against source k of BASE. */
static int halves(const struct pmb_cmp *c, const struct pmb_series *bs, const struct pmb_series *cs,
		  struct pmb_cmp_row *r)
{
	double *tb, *tc;

	r->nhalves = 0;
	if (c->sources_b < 2 || c->sources_b != c->sources_c)
		return 0;
	tb = malloc((bs->n + 1) * sizeof(double));
	tc = malloc((cs->n + 1) * sizeof(double));
	if (!tb || !tc) {
		free(tb);
		free(tc);
		return -ENOMEM;
	}
	for (size_t k = 0; k < c->sources_b; k++) {
		size_t nb = source_samples(bs, c->stride_b, k, tb), nc = source_samples(cs, c->stride_c, k, tc);

		if (!nb || !nc) {
			r->nhalves = 0;	/* a half without samples: no halves at all */
			break;
		}
		r->half[r->nhalves++] = pmb_median(tc, nc) / pmb_median(tb, nb);
	}
	free(tb);
	free(tc);
	return 0;
}

static int compare_series(struct pmb_cmp *c, const struct pmb_series *bs,
			  const struct pmb_series *cs, struct pmb_cmp_row *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->bc = &c->base.cases[bs->case_idx];
	r->cc = &c->cand.cases[cs->case_idx];
	r->method = bs->method;
	r->batch = bs->batch;
	r->qd = bs->qd;
	r->nb = bs->n;
	r->nc = cs->n;
	r->states_b = pmb_count_groups(bs->state, bs->n);
	r->states_c = pmb_count_groups(cs->state, cs->n);
	r->ratio = r->lo = r->hi = r->p = r->floor_pct = NAN;
	r->host = r->host_lo = r->host_hi = NAN;
	r->host_steady = -1;
	r->med_b = pmb_median(bs->v, bs->n);
	r->med_c = pmb_median(cs->v, cs->n);
	if (bs->n < PMB_MIN_SAMPLES || cs->n < PMB_MIN_SAMPLES) {
		r->verdict = PMB_SV_FEW;
		return 0;
	}
	err = pmb_hier_ratio_ci(bs->v, bs->state, bs->n, cs->v, cs->state, cs->n, PMB_RESAMPLES,
				c->seed, &r->ratio, &r->lo, &r->hi);
	if (!err)
		err = halves(c, bs, cs, r);
	if (err)
		return err;
	r->p = pmb_mann_whitney_p(bs->v, bs->n, cs->v, cs->n);
	if (!isfinite(r->ratio) || !isfinite(r->lo) || !isfinite(r->hi)) {
		/* A zero median: nothing sensible to say about a ratio. */
		r->ratio = r->lo = r->hi = NAN;
		r->verdict = PMB_SV_FEW;
		return 0;
	}
	r->floor_pct = 100 * fmax(r->hi - 1, 1 - r->lo);
	r->verdict = pmb_judge_interval(r->lo, r->hi, r->half, r->nhalves, 1 - c->threshold_pct / 100,
					1 + c->threshold_pct / 100);
	return 0;
}

/*
 * The host's own speed: where both runs timed the probe beside a case (a
 * userspace pointer chase, kernel aside), its ratio says whether the host
 * ran at the same speed for both.  Unless its whole interval lies within 1
 * +- threshold, no series of the case can claim a change: a regression or
 * an improvement becomes inconclusive (host_steady = 0).  Dividing the probe
 * out instead was tried and measured: the kernel's reads do not follow the
 * host's swings closely enough (docs/statistics.md).
 */
static void check_host(struct pmb_cmp *c)
{
	double lo = 1 - c->threshold_pct / 100, hi = 1 + c->threshold_pct / 100;

	for (size_t i = 0; i < c->nrows; i++) {
		struct pmb_cmp_row *r = &c->rows[i], *h = NULL;

		if (pmb_is_probe(r->method))
			continue;
		for (size_t j = 0; j < c->nrows && !h; j++)
			if (c->rows[j].bc == r->bc && pmb_is_probe(c->rows[j].method) && isfinite(c->rows[j].lo))
				h = &c->rows[j];
		if (!h)
			continue;
		r->host = h->ratio;
		r->host_lo = h->lo;
		r->host_hi = h->hi;
		r->host_steady = h->lo >= lo && h->hi <= hi;
		if (!r->host_steady && (r->verdict == PMB_SV_REGRESSION || r->verdict == PMB_SV_IMPROVEMENT))
			r->verdict = PMB_SV_INCONCLUSIVE;
	}
}

static int compare_timing(struct pmb_cmp *c)
{
	size_t matched = 0;
	int err;

	c->rows = calloc(c->base.nseries + 1, sizeof(*c->rows));
	if (!c->rows)
		return -ENOMEM;
	for (size_t i = 0; i < c->base.nseries; i++) {
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
	check_host(c);
	return 0;
}

static const char *const state_names[PMS_TRUTHS] = { "none", "present", "swapped", "unmapped" };

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
	for (int rp = 0; rp < 3; rp++)
		if (a->cm[t][rp] != b->cm[t][rp])
			return 1;
	/* The same counts, but different validity of the reported swap slots. */
	return t == 2 && a->cm[2][2] &&
	       ((a->swap_bad_type + a->swap_bad_offset + a->swap_dup > 0) !=
		(b->swap_bad_type + b->swap_bad_offset + b->swap_dup > 0) ||
		(a->content_bad > 0) != (b->content_bad > 0));
}

/* A methods_wrong cell, "none" when no method was wrong. */
static const char *wrong_or_none(const char *s)
{
	return !s || !*s || !strcmp(s, "-") ? "none" : s;
}

static void describe_case(struct pmb_corr_row *r)
{
	const struct pmb_rcase *b = r->bc, *c = r->cc;
	char rb[256], rc[256];
	size_t used = 0, len = sizeof(r->text);

	r->text[0] = '\0';
	for (int t = PMS_TRUTHS - 1; t >= 0; t--) {
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
	if (strcmp(wrong_or_none(b->methods_wrong), wrong_or_none(c->methods_wrong)) && used < len) {
		used += (size_t)snprintf(r->text + used, len - used,
				"%s%s (%s): methods wrong %s on BASE, %s on CAND.", used ? " " : "",
				b->kind, b->id, wrong_or_none(b->methods_wrong), wrong_or_none(c->methods_wrong));
		r->differs = 1;
	}
	if (b->verdict != c->verdict && used < len) {
		snprintf(r->text + used, len - used, "%s%s (%s): verdict %s on BASE, %s on CAND.",
			 used ? " " : "", b->kind, b->id, pmb_case_verdict_names[b->verdict],
			 pmb_case_verdict_names[c->verdict]);
		r->differs = 1;
	}
}

static int compare_correctness(struct pmb_cmp *c)
{
	c->corr = calloc(c->base.ncases + 1, sizeof(*c->corr));
	if (!c->corr)
		return -ENOMEM;
	for (size_t i = 0; i < c->base.ncases; i++) {
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
		pmb_err(0, "%s %s: schema '%.60s' is not '%s': refusing to compare", which, r->dir,
			r->schema, PMB_SCHEMA);
		return PMB_ERR_SCHEMA;
	}
	if (strcmp(r->status, "complete")) {
		pmb_err(0, "%s %s: run status is '%s', not 'complete': its data cannot be trusted",
			which, r->dir, r->status);
		return PMB_ERR_NOTDONE;
	}
	return 0;
}

/*
 * How many runs a merged run was made of, and the series stride of its
 * renumbering (docs/results.md): 1 and 0 for a run that was not merged.
 */
static int merged_sources(const struct pmb_run *r, size_t *n, long long *stride)
{
	json_t *from = json_object_get(r->meta, "merged_from"), *st = json_object_get(r->meta, "series_stride");

	*n = 1;
	*stride = 0;
	if (!from)
		return 0;
	if (!json_is_array(from) || json_array_size(from) < 1 || json_array_size(from) > PMB_MAX_SOURCES ||
	    (st && (!json_is_integer(st) || json_integer_value(st) < 1000 ||
		    json_integer_value(st) > 1000000)))
		return pmb_fail(-EINVAL, "%s/meta.json: merged_from or series_stride is malformed", r->dir);
	*n = json_array_size(from);
	*stride = st ? json_integer_value(st) : 1000;	/* runs merged before the stride was recorded */
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
		pmb_err(0, "different schema versions: BASE %s is '%.60s', CAND %s is '%.60s': "
			"refusing to compare", c->base.dir, c->base.schema, c->cand.dir,
			c->cand.schema);
		return PMB_ERR_SCHEMA;
	}
	err = check_run(&c->base, "BASE");
	if (!err)
		err = check_run(&c->cand, "CAND");
	if (!err)
		err = merged_sources(&c->base, &c->sources_b, &c->stride_b);
	if (!err)
		err = merged_sources(&c->cand, &c->sources_c, &c->stride_c);
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

void pmb_default_outdir(const struct pmb_cmp *c, const char *prefix, char *out, size_t len)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", c->base.dir);
	snprintf(out, len, "%s/%s-%s-vs-%s", dirname(tmp), prefix, c->base.run_id, c->cand.run_id);
}

int pmb_compare_write_tsv(const struct pmb_cmp *c, const char *dir)
{
	FILE *f = pmb_out_create(dir, "compare.tsv");
	struct pmb_tsv_row row;
	int err;

	if (!f)
		return -EIO;
	err = pmb_tsv_write_header(f, &pmb_compare_table);
	for (size_t i = 0; !err && i < c->nrows; i++) {
		const struct pmb_cmp_row *r = &c->rows[i];

		pmb_tsv_row_init(&row, &pmb_compare_table);
		pmb_tsv_set(&row, PMB_R_CASE, "%s", r->bc->id);
		pmb_tsv_set(&row, PMB_R_KIND, "%s", r->bc->kind);
		pmb_tsv_set(&row, PMB_R_SWAPOUT, "%s", r->bc->swapout);
		pmb_tsv_set(&row, PMB_R_PAGES, "%lld", r->bc->pages);
		pmb_tsv_set(&row, PMB_R_DIRTY_PCT, "%g", r->bc->dirty_pct);
		pmb_tsv_set(&row, PMB_R_SWAPPED_PCT, "%g", r->bc->swapped_pct);
		pmb_tsv_set(&row, PMB_R_STATE, "%s", pmb_case_state(r->cc));
		pmb_tsv_set(&row, PMB_R_METHOD, "%s", r->method);
		pmb_tsv_set(&row, PMB_R_BATCH, "%lld", r->batch);
		pmb_tsv_set(&row, PMB_R_QD, "%lld", r->qd);
		pmb_tsv_set(&row, PMB_R_N_BASE, "%zu", r->nb);
		pmb_tsv_set(&row, PMB_R_N_CAND, "%zu", r->nc);
		pmb_tsv_set(&row, PMB_R_MEDIAN_BASE, "%.4f", r->med_b);
		pmb_tsv_set(&row, PMB_R_MEDIAN_CAND, "%.4f", r->med_c);
		pmb_tsv_set(&row, PMB_R_RATIO, "%.5f", r->ratio);
		pmb_tsv_set(&row, PMB_R_CI_LO, "%.5f", r->lo);
		pmb_tsv_set(&row, PMB_R_CI_HI, "%.5f", r->hi);
		pmb_tsv_set(&row, PMB_R_P, "%.4g", r->p);
		pmb_tsv_set(&row, PMB_R_FLOOR_PCT, "%.3f", r->floor_pct);
		pmb_tsv_set(&row, PMB_R_THRESHOLD_PCT, "%g", c->threshold_pct);
		pmb_tsv_set(&row, PMB_R_VERDICT, "%s", pmb_sv_token[r->verdict]);
		err = pmb_tsv_write_row(f, &row);
	}
	if (err)
		pmb_err(err, "%s/compare.tsv", dir);
	return pmb_out_close(f, dir, "compare.tsv") || err ? -EIO : 0;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* A string from a run directory, as valid UTF-8 (jansson refuses anything else). */
static json_t *jtext(const char *s)
{
	char buf[2048];

	pmb_text_clean(s, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *run_json(const struct pmb_run *r)
{
	char abs[4096];
	const char *d = realpath(r->dir, abs) ? abs : r->dir;

	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:s}", "dir", jtext(d), "run_id", r->run_id,
			 "kernel_release", jtext(r->krelease), "kernel_version", jtext(r->kversion),
			 "config_fnv1a64", jtext(r->kconfig), "environment", r->environment);
}

static json_t *row_json(const struct pmb_cmp *c, const struct pmb_cmp_row *r)
{
	json_t *halves = json_array();

	for (size_t k = 0; k < r->nhalves; k++)
		json_array_append_new(halves, jnum(r->half[k]));
	return json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:s}",
			 "case", r->bc->id, "kind", r->bc->kind, "swapout", r->bc->swapout,
			 "pages", (json_int_t)r->bc->pages, "dirty_pct", r->bc->dirty_pct,
			 "swapped_pct", r->bc->swapped_pct, "state", pmb_case_state(r->cc),
			 "method", r->method, "batch", (json_int_t)r->batch,
			 "qd", (json_int_t)r->qd, "n_base", (json_int_t)r->nb,
			 "n_cand", (json_int_t)r->nc, "states_base", (json_int_t)r->states_b,
			 "states_cand", (json_int_t)r->states_c,
			 "median_base_ns_per_entry", jnum(r->med_b),
			 "median_cand_ns_per_entry", jnum(r->med_c),
			 "ratio", jnum(r->ratio), "ci_lo", jnum(r->lo), "ci_hi", jnum(r->hi),
			 "p_mann_whitney", jnum(r->p), "floor_pct", jnum(r->floor_pct),
			 "halves", halves, "threshold_pct", c->threshold_pct,
			 "verdict", pmb_sv_token[r->verdict]);
}

/* The row's JSON with the host's speed beside its case: the probe's ratio and CI, and whether it held. */
static json_t *row_json_host(const struct pmb_cmp *c, const struct pmb_cmp_row *r)
{
	json_t *o = row_json(c, r);

	if (o) {
		json_object_set_new(o, "host_ratio", jnum(r->host));
		json_object_set_new(o, "host_ci_lo", jnum(r->host_lo));
		json_object_set_new(o, "host_ci_hi", jnum(r->host_hi));
		json_object_set_new(o, "host_steady", r->host_steady < 0 ? json_null() :
				    json_boolean(r->host_steady));
	}
	return o;
}

static json_t *cm_json(const struct pmb_rcase *k)
{
	json_t *o = json_object();
	char key[48];

	for (int t = 0; o && t < 3; t++)
		for (int rp = 0; rp < 3; rp++) {
			snprintf(key, sizeof(key), "t_%s_r_%s", state_names[t], state_names[rp]);
			json_object_set_new(o, key, json_integer(k->cm[t][rp]));
		}
	return o;
}

static json_t *corr_json(const struct pmb_corr_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o}",
			 "case", r->bc->id, "kind", r->bc->kind,
			 "verdict_base", pmb_case_verdict_names[r->bc->verdict],
			 "verdict_cand", pmb_case_verdict_names[r->cc->verdict],
			 "methods_wrong_base", jtext(wrong_or_none(r->bc->methods_wrong)),
			 "methods_wrong_cand", jtext(wrong_or_none(r->cc->methods_wrong)),
			 "differs", r->differs, "text", jtext(r->text),
			 "confusion_base", cm_json(r->bc), "confusion_cand", cm_json(r->cc));
}

int pmb_compare_write_json(const struct pmb_cmp *c, const char *dir)
{
	json_t *root, *rows = json_array(), *corr = json_array();
	FILE *f;
	int err = 0;

	for (size_t i = 0; rows && i < c->nrows; i++)
		if (json_array_append_new(rows, row_json_host(c, &c->rows[i])))
			err = -ENOMEM;
	for (size_t i = 0; corr && i < c->ncorr; i++)
		if (json_array_append_new(corr, corr_json(&c->corr[i])))
			err = -ENOMEM;
	root = json_pack("{s:s, s:o, s:o, s:f, s:I, s:I, s:i, s:b, s:s, s:o, s:o}",
			 "schema", PMB_COMPARE_SCHEMA, "base", run_json(&c->base),
			 "cand", run_json(&c->cand), "threshold_pct", c->threshold_pct,
			 "seed", (json_int_t)c->seed, "resamples", (json_int_t)PMB_RESAMPLES,
			 "min_samples", PMB_MIN_SAMPLES, "same_build", c->same_build,
			 "interval", "hierarchical bootstrap: states, then samples within each",
			 "rows", rows, "correctness", corr);
	if (!root || err) {
		json_decref(root);
		return pmb_err(-ENOMEM, "compare.json");
	}
	f = pmb_out_create(dir, "compare.json");
	if (!f) {
		json_decref(root);
		return -EIO;
	}
	err = json_dumpf(root, f, JSON_INDENT(1) | JSON_SORT_KEYS) ? -EIO : 0;
	json_decref(root);
	return pmb_out_close(f, dir, "compare.json") || err ? -EIO : 0;
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
	size_t w = 4;
	char ci[64], p[16];

	for (size_t i = 0; i < c->nrows; i++)
		if (strlen(c->rows[i].bc->id) > w)
			w = strlen(c->rows[i].bc->id);
	fprintf(f, "%s%-*s  %-9s %6s %3s %7s %11s %11s  %-24s %8s  %s\n", indent, (int)w, "case",
		"method", "batch", "qd", "n b/c", "base ns/e", "cand ns/e",
		"ratio [95% CI]", "p(MWU)", "verdict");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct pmb_cmp_row *r = &c->rows[i];
		char n[48];

		fmt_ratio(r, ci, sizeof(ci));
		snprintf(n, sizeof(n), "%zu/%zu", r->nb, r->nc);
		if (isnan(r->p))
			snprintf(p, sizeof(p), "-");
		else
			snprintf(p, sizeof(p), "%.2g", r->p);
		fprintf(f, "%s%-*s  %-9s %6lld %3lld %7s %11.2f %11.2f  %-24s %8s  %s\n", indent,
			(int)w, r->bc->id, r->method, r->batch, r->qd, n, r->med_b, r->med_c, ci,
			p, pmb_sv_text[r->verdict]);
	}
}

void pmb_compare_print_header(const struct pmb_cmp *c, FILE *f)
{
	char rel[256], ver[256];

	pmb_text_clean(c->base.krelease, rel, sizeof(rel));
	pmb_text_clean(c->base.kversion, ver, sizeof(ver));
	fprintf(f, "BASE  %s  (kernel %s, %s; %s)\n", c->base.run_id, rel, ver, c->base.environment);
	pmb_text_clean(c->cand.krelease, rel, sizeof(rel));
	pmb_text_clean(c->cand.kversion, ver, sizeof(ver));
	fprintf(f, "CAND  %s  (kernel %s, %s; %s)\n", c->cand.run_id, rel, ver, c->cand.environment);
	if (!strcmp(c->base.environment, "qemu-tcg") || !strcmp(c->cand.environment, "qemu-tcg"))
		fprintf(f, "NOTE  TCG wall time: an emulator's clock on a shared host measures the host as\n"
			   "      much as the kernel; icount (the default) counts instructions instead.\n");
	if (c->same_build)
		fprintf(f, "NOTE  both runs come from the same kernel build: an A/A comparison. "
			   "Its rows' spread\n      is the noise the gate pools per method "
			   "(gate --noise-floor DIR).\n");
}

void pmb_compare_print_correctness(const struct pmb_cmp *c, FILE *f)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ncorr; i++) {
		char text[1600];

		if (!c->corr[i].differs)
			continue;
		pmb_text_clean(c->corr[i].text, text, sizeof(text));
		fprintf(f, "- %s\n", text);
		n++;
	}
	if (!n)
		fprintf(f, "- No case's correctness differs: the %zu cases in common have the same "
			   "confusion matrices and verdicts.\n", c->ncorr);
}

static void print_counts(const struct pmb_cmp *c, FILE *f)
{
	size_t n[PMB_NR_SV] = { 0 };

	for (size_t i = 0; i < c->nrows; i++)
		n[c->rows[i].verdict]++;
	fprintf(f, "%zu series compared: %zu regression(s), %zu improvement(s), %zu within noise, "
		   "%zu inconclusive, %zu with too few samples (threshold %g%%).\n", c->nrows,
		n[PMB_SV_REGRESSION], n[PMB_SV_IMPROVEMENT], n[PMB_SV_NOCHANGE], n[PMB_SV_INCONCLUSIVE],
		n[PMB_SV_FEW], c->threshold_pct);
	if (n[PMB_SV_INCONCLUSIVE])
		fprintf(f, "Inconclusive: the interval straddles a limit, or the effect shows in one half "
			   "of the ABBA order only. More rounds or series (--rounds, --series), icount "
			   "(deterministic), or a quieter host resolve it.\n");
	if (c->series_only_base || c->series_only_cand)
		fprintf(f, "Series in one run only: %zu in BASE, %zu in CAND (not compared).\n",
			c->series_only_base, c->series_only_cand);
	if (c->cases_only_base || c->cases_only_cand)
		fprintf(f, "Cases in one run only: %zu in BASE, %zu in CAND (not compared).\n",
			c->cases_only_base, c->cases_only_cand);
}

void pmb_compare_print_method(const struct pmb_cmp *c, FILE *f)
{
	fprintf(f, "## Method\n\n"
		   "The metric is time per pagemap entry (ns/entry; per read for sparse), from measured\n"
		   "samples only (warm-up and drifted series excluded). For each series: the ratio of\n"
		   "medians CAND/BASE and its hierarchical bootstrap 95%% CI (%d resamples, seed\n"
		   "%llu): states (each series is a fresh build of the memory state; each boot of a\n"
		   "merged run its own) are drawn first, then samples within them, so the interval\n"
		   "covers the noise between states, not only within one. A two-sided Mann-Whitney U\n"
		   "p-value is shown for reference. Regression: the whole CI lies above 1 + %g%%, and\n"
		   "so does the ratio in each half of an ABBA order. Improvement: likewise below\n"
		   "1 - %g%%. No change: the whole CI lies within. Inconclusive: anything else. Fewer\n"
		   "than %d samples on a side: too few samples. Where both runs timed the host probe\n"
		   "beside a case (the probe rows: a userspace pointer chase, kernel aside), a\n"
		   "regression or improvement stands only if the probe's whole interval lies within\n"
		   "1 +- the threshold: else the host itself changed speed between the runs and the\n"
		   "series is inconclusive.\n", PMB_RESAMPLES,
		(unsigned long long)c->seed, c->threshold_pct, c->threshold_pct, PMB_MIN_SAMPLES);
}

static int write_report(const struct pmb_cmp *c, const char *dir)
{
	FILE *f = pmb_out_create(dir, "report.md");

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
	pmb_compare_print_method(c, f);
	return pmb_out_close(f, dir, "report.md");
}

/* ---- the subcommand ---- */

#define OFF(f) offsetof(struct pmb_cmp_opts, f)
static const struct pmb_opt compare_opts[] = {
	{ "out", 0, PMB_OPT_STR, OFF(out), "DIR", "the new output directory (default: next to BASE,\n"
	  "compare-<base-id>-vs-<cand-id>, never overwritten)" },
	{ "threshold", 0, PMB_OPT_PCT, OFF(thr), "PCT", "verdict threshold (default 5%)" },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "S", "bootstrap seed (default 1)", .max = UINT64_MAX },
	{ "no-plots", 0, PMB_OPT_FLAG, OFF(noplots), NULL, "skip rendering plots/", .set = 1 },
};
#undef OFF

const struct pmb_opt_spec pmb_compare_spec = {
	.prog = "pmbench compare", .args = "BASE CAND [options]",
	.about = "Compare two run directories; write compare.tsv, compare.json, report.md and\n"
		 "plots/ into a new directory and print the table.\n",
	.opts = compare_opts, .nopts = sizeof(compare_opts) / sizeof(compare_opts[0]),
	.min_pos = 2, .max_pos = 2,
	.more = "exit: 0 done, 3 harness error, 64 bad input (schema, no common cases),\n"
		"      77 a run is not complete (interrupted)\n",
};

int cmd_compare(int argc, char **argv)
{
	struct pmb_cmp_opts o = { .thr = PMB_DEFAULT_THRESHOLD_PCT, .seed = 1 };
	char outdir[4096], want[4096];
	struct pmb_cmp c;
	unsigned npos;
	int err, ret;

	err = pmb_opt_parse(&pmb_compare_spec, argc, argv, &o, o.pos, &npos, NULL);
	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	err = pmb_compare_load(o.pos[0], o.pos[1], o.thr, o.seed, &c);
	if (err) {
		pmb_compare_free(&c);
		return pmb_compare_exit(err);
	}
	if (o.out)
		snprintf(want, sizeof(want), "%s", o.out);
	else
		pmb_default_outdir(&c, "compare", want, sizeof(want));
	err = pmb_mkdir_new(want, outdir, sizeof(outdir));
	if (err) {
		pmb_compare_free(&c);
		return pmb_bad_input(err) ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
	}
	err = pmb_compare_write_tsv(&c, outdir);
	if (!err)
		err = pmb_compare_write_json(&c, outdir);
	if (!err)
		err = write_report(&c, outdir);
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
	if (err) {
		pmb_out_remove(outdir);	/* nothing half-written stays behind */
		return PMB_EXIT_ERROR;
	}
	if (!o.noplots) {
		ret = pmb_plot_dir(outdir, 1);
		if (ret != PMB_EXIT_PASS && ret != PMB_EXIT_SKIP)
			return ret;
	}
	return PMB_EXIT_PASS;
}
