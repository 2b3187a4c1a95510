// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench gate BASE CAND: the comparison of compare.c judged by a policy
 * (policy.c).  Correctness is exact.  Performance has three outcomes: a
 * series passes when its whole interval lies within its limit, regresses
 * when the whole interval lies above it in every half of an ABBA order, and
 * is inconclusive otherwise.  The interval is the hierarchical CI, widened
 * by the A/A noise of its method pooled over every series of that method
 * (--noise-floor), so one noisy pair never raises a limit.  A regression
 * measured in wall time on a busy host is inconclusive too: a gate that
 * cries wolf is worse than none.  The CI outputs are the sinks'.
 */
#include "harness/cmd.h"
#include "gate.h"
#include "plot.h"
#include "lib/outdir.h"
#include "lib/stats/stats.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* z of a two-sided 95% interval. */
#define Z95	1.959964

__attribute__((format(printf, 3, 4)))
static void msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- the noise: an A/A compare.json, pooled per method ---- */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* 1.4826 * the median |ln ratio|: a spread that a few wild pairs do not move. */
static double robust_sigma(double *absdev, size_t n)
{
	qsort(absdev, n, sizeof(double), cmp_dbl);
	return 1.4826 * pmb_quantile(absdev, n, 0.5);
}

static int load_floor(struct pmb_gate *g)
{
	char path[4200], *buf;
	json_error_t jerr;
	json_t *root, *rows, *x;
	double *all = NULL, *dev = NULL;
	size_t len, i, n = 0;
	int err;

	snprintf(path, sizeof(path), "%s/compare.json", g->floor_dir);
	/* An error blames the option, not only the path it named (issue 12). */
	err = pmb_read_file_as("--noise-floor ", path, PMB_MAX_TABLE_BYTES, &buf, &len);
	if (err)
		return err;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root)
		return pmb_fail(-EINVAL, "--noise-floor %s:%d: %s", path, jerr.line, jerr.text);
	rows = json_object_get(root, "rows");
	if (strcmp(pmb_meta_str(root, "schema", NULL), PMB_COMPARE_SCHEMA) || !json_is_array(rows)) {
		json_decref(root);
		return pmb_fail(-EINVAL, "--noise-floor %s: not a %s file with rows", path, PMB_COMPARE_SCHEMA);
	}
	if (!json_is_true(json_object_get(root, "same_build")))
		pmb_warn("--noise-floor %s: its runs come from different kernel builds, so its "
			 "spread is not only noise", g->floor_dir);
	all = malloc((json_array_size(rows) + 1) * sizeof(double));
	dev = malloc((json_array_size(rows) + 1) * sizeof(double));
	if (!all || !dev) {
		err = pmb_err(-ENOMEM, "--noise-floor");
		goto out;
	}
	json_array_foreach(rows, i, x) {
		double ratio = json_number_value(json_object_get(x, "ratio"));

		if (json_is_number(json_object_get(x, "ratio")) && ratio > 0 && isfinite(ratio))
			all[n++] = fabs(log(ratio));
	}
	g->noise_all = n ? robust_sigma(all, n) : NAN;
	/* Per method, in the order the methods first appear. */
	json_array_foreach(rows, i, x) {
		const char *m = pmb_meta_str(x, "method", NULL);
		size_t k, j, nd = 0;
		json_t *y;

		for (k = 0; k < g->nnoise && strcmp(g->noise[k].method, m); k++)
			;
		if (k < g->nnoise || !*m || g->nnoise == PMB_GATE_MAX_METHODS)
			continue;
		json_array_foreach(rows, j, y) {
			double ratio = json_number_value(json_object_get(y, "ratio"));

			if (!strcmp(pmb_meta_str(y, "method", NULL), m) &&
			    json_is_number(json_object_get(y, "ratio")) && ratio > 0 && isfinite(ratio))
				dev[nd++] = fabs(log(ratio));
		}
		snprintf(g->noise[g->nnoise].method, sizeof(g->noise[0].method), "%s", m);
		g->noise[g->nnoise].n = nd;
		g->noise[g->nnoise].sigma = nd ? robust_sigma(dev, nd) : NAN;
		g->nnoise++;
	}
out:
	free(all);
	free(dev);
	json_decref(root);
	return err;
}

/* The pooled sigma of a method: its own with 3 or more series, else every method's. */
static double method_sigma(const struct pmb_gate *g, const char *method)
{
	for (size_t k = 0; k < g->nnoise; k++)
		if (!strcmp(g->noise[k].method, method) && g->noise[k].n >= 3)
			return g->noise[k].sigma;
	return g->noise_all;
}

/*
 * The A/A pair compares two single boots: the variance of its ln ratio is
 * twice a boot's.  A comparison of runs merged from nb and nc boots has
 * (1/nb + 1/nc) times a boot's variance.
 */
static double noise_scale(const struct pmb_cmp *c)
{
	return sqrt((1.0 / (double)c->sources_b + 1.0 / (double)c->sources_c) / 2.0);
}

/* ---- judging ---- */

static void target_of(const struct pmb_rcase *k, const char *method, struct pmb_target *t)
{
	t->kind = k->kind;
	t->swapout = k->swapout;
	t->state = pmb_case_state(k);
	t->method = method;
	t->shmem = pmb_kind_is_shmem(k->kind);
	t->view = k->view;
}

static void rule_text(const struct pmb_gate *g, const struct pmb_rule *r, char *buf, size_t len)
{
	if (!r)
		snprintf(buf, len, "no rule: threshold %g%%", g->thr);
	else if (r->noise)
		snprintf(buf, len, "%s line %u: max_slowdown=noise, threshold %g%%",
			 g->policy_name, r->line, g->thr);
	else
		snprintf(buf, len, "%s line %u: max_slowdown=%s", g->policy_name, r->line,
			 r->slowdown_text);
}

/*
 * What resolves an inconclusive series.  Under icount the host adds no noise:
 * what spread there is belongs to the work itself (sparse reads at different
 * offsets, a different layout per state), and only more samples narrow it.
 */
static const char *resolve_hint(const struct pmb_gate *g)
{
	return g->deterministic ? "more rounds or series (under icount the spread is the work's own, "
				  "not the host's)"
				: "more rounds or series, icount, or a quieter host";
}

static void judge_row(struct pmb_gate *g, size_t i)
{
	const struct pmb_cmp_row *r = &g->c.rows[i];
	struct pmb_gate_row *gr = &g->rows[i];
	enum pmb_series_verdict v;
	struct pmb_target t;
	char rt[256], noise[160] = "";
	double sigma;

	target_of(r->cc, r->method, &t);
	gr->rule = pmb_policy_slowdown(&g->pol, &t);
	gr->limit = !gr->rule || gr->rule->noise ? 1 + g->thr / 100 : gr->rule->max_ratio;
	gr->noise_pct = NAN;
	rule_text(g, gr->rule, rt, sizeof(rt));
	if (pmb_is_probe(r->method)) {
		gr->st = PMB_ST_SKIP;
		msgf(gr->msg, sizeof(gr->msg), "the host's own speed, not the kernel's: ratio %.3f (95%% CI "
		     "%.3f-%.3f); a regression of the case stands only if it lies within 1 +- %g%%",
		     r->ratio, r->lo, r->hi, g->thr);
		g->n_st[gr->st]++;
		return;
	}
	if (r->verdict == PMB_SV_FEW || isnan(r->lo)) {
		gr->st = PMB_ST_SKIP;
		msgf(gr->msg, sizeof(gr->msg), "too few samples (%zu BASE, %zu CAND; need %d)",
		     r->nb, r->nc, PMB_MIN_SAMPLES);
		g->n_st[gr->st]++;
		return;
	}
	gr->lo = r->lo;
	gr->hi = r->hi;
	sigma = g->floor_dir ? method_sigma(g, r->method) : NAN;
	if (isfinite(sigma)) {
		double w = Z95 * sigma * g->noise_scale;

		gr->noise_pct = 100 * (exp(w) - 1);
		gr->lo = fmin(gr->lo, r->ratio * exp(-w));
		gr->hi = fmax(gr->hi, r->ratio * exp(w));
		msgf(noise, sizeof(noise), ", widened by the A/A noise of %s to %.3f-%.3f", r->method,
		     gr->lo, gr->hi);
	}
	v = pmb_judge_interval(gr->lo, gr->hi, r->half, r->nhalves, NAN, gr->limit);
	if (v == PMB_SV_REGRESSION && r->host_steady == 0) {
		gr->st = PMB_ST_INCONCLUSIVE;
		msgf(gr->msg, sizeof(gr->msg), "ratio %.3f (95%% CI %.3f-%.3f%s) above the limit %.3f (%s), "
		     "but the host itself changed speed between the runs: its probe (a userspace pointer "
		     "chase, kernel aside) ran at %.3f (95%% CI %.3f-%.3f) of BASE's; run BASE and CAND "
		     "again side by side (ABBA, pmbench merge), or under icount", r->ratio, r->lo, r->hi,
		     noise, gr->limit, rt, r->host, r->host_lo, r->host_hi);
	} else if (v == PMB_SV_REGRESSION && g->busy && !g->deterministic) {
		gr->st = PMB_ST_INCONCLUSIVE;
		msgf(gr->msg, sizeof(gr->msg), "ratio %.3f (95%% CI %.3f-%.3f%s) above the limit %.3f (%s), "
		     "but measured in wall time on a busy host (%s): run it again on a quiet host, "
		     "or under icount", r->ratio, r->lo, r->hi, noise, gr->limit, rt, g->busy_why);
	} else if (v == PMB_SV_REGRESSION) {
		gr->st = PMB_ST_FAIL;
		msgf(gr->msg, sizeof(gr->msg), "regression: ratio %.3f (95%% CI %.3f-%.3f%s) above the "
		     "limit %.3f (%s)", r->ratio, r->lo, r->hi, noise, gr->limit, rt);
	} else if (v == PMB_SV_NOCHANGE) {
		gr->st = PMB_ST_PASS;
		msgf(gr->msg, sizeof(gr->msg), "ratio %.3f (95%% CI %.3f-%.3f%s) within the limit %.3f (%s)",
		     r->ratio, r->lo, r->hi, noise, gr->limit, rt);
	} else {
		gr->st = PMB_ST_INCONCLUSIVE;
		msgf(gr->msg, sizeof(gr->msg), "ratio %.3f (95%% CI %.3f-%.3f%s) %s the limit %.3f (%s): "
		     "%s would resolve it", r->ratio, r->lo, r->hi, noise, gr->lo > gr->limit ?
		     "is above, but not in every ABBA half," : "straddles", gr->limit, rt, resolve_hint(g));
	}
	g->n_st[gr->st]++;
}

/*
 * Every swapped page reported as swapped, at a valid slot of its own; and,
 * where the run could read the slots back, every one holding its page.  A
 * run that could not check content at all (read-touched pages carry no
 * pattern; --no-content-check) is judged on the rest.
 */
static int swapped_reported(const struct pmb_rcase *k)
{
	int content_checked = k->content_ok + k->content_bad > 0;

	if (!k->true_n[2])
		return 1;
	if (k->cm[2][2] != k->true_n[2] || k->swap_bad_type || k->swap_bad_offset || k->swap_dup ||
	    k->content_bad)
		return 0;
	return !content_checked || (!k->content_unchecked && k->content_ok >= k->true_n[2]);
}

static size_t add(char *buf, size_t len, size_t used, const char *s)
{
	if (used < len)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "; " : "", s);
	return used;
}

static bool unjudgeable(enum pmb_case_verdict v)
{
	return pmb_case_verdict_skipped(v) || v == PMB_V_ERROR;
}

static void judge_corr(struct pmb_gate *g, size_t i)
{
	const struct pmb_corr_row *r = &g->c.corr[i];
	const struct pmb_rcase *b = r->bc, *k = r->cc;
	struct pmb_gate_corr *gc = &g->corr[i];
	char need[96], why[900] = "", tmp[300], reason[300];
	size_t used = 0;
	struct pmb_target t;

	target_of(k, NULL, &t);
	gc->rule = pmb_policy_correctness(&g->pol, &t);
	gc->flags = gc->rule ? gc->rule->corr : 0;
	pmb_corr_name(gc->flags, need, sizeof(need));
	pmb_text_clean(*k->reason ? k->reason : "no reason given", reason, sizeof(reason));
	if (gc->flags && unjudgeable(k->verdict)) {
		gc->st = PMB_ST_SKIP;
		msgf(gc->msg, sizeof(gc->msg), "CAND verdict is %s (%s): cannot check %s",
		     pmb_case_verdict_names[k->verdict], reason, need);
		g->nc_st[gc->st]++;
		return;
	}
	if ((gc->flags & PMB_CORR_CORRECT) && k->verdict != PMB_V_CORRECT) {
		msgf(tmp, sizeof(tmp), "CAND verdict is %s (%s)", pmb_case_verdict_names[k->verdict], reason);
		used = add(why, sizeof(why), used, tmp);
	}
	if ((gc->flags & PMB_CORR_NO_WORSE) &&
	    (pmb_case_misreported(k) > pmb_case_misreported(b) ||
	     k->swap_bad_type + k->swap_bad_offset + k->swap_dup + k->content_bad >
	     b->swap_bad_type + b->swap_bad_offset + b->swap_dup + b->content_bad)) {
		msgf(tmp, sizeof(tmp), "worse than BASE: %lld misreported pages against %lld",
		     pmb_case_misreported(k), pmb_case_misreported(b));
		used = add(why, sizeof(why), used, tmp);
	}
	if ((gc->flags & PMB_CORR_SWAPPED_REPORTED) && !swapped_reported(k)) {
		msgf(tmp, sizeof(tmp), "of %lld swapped pages %lld are reported as swapped "
		     "(%lld as none, %lld as present)", k->true_n[2], k->cm[2][2],
		     k->cm[2][0], k->cm[2][1]);
		used = add(why, sizeof(why), used, tmp);
		if (k->swap_bad_type + k->swap_bad_offset + k->swap_dup + k->content_bad +
		    k->content_unchecked) {
			msgf(tmp, sizeof(tmp), "swap entries: %lld bad type, %lld bad offset, "
			     "%lld duplicate, %lld holding the wrong page, %lld unchecked",
			     k->swap_bad_type, k->swap_bad_offset, k->swap_dup, k->content_bad,
			     k->content_unchecked);
			used = add(why, sizeof(why), used, tmp);
		}
	}
	gc->st = used ? PMB_ST_FAIL : PMB_ST_PASS;
	if (used)
		msgf(gc->msg, sizeof(gc->msg), "requires %s (%s line %u): %s", need,
		     g->policy_name, gc->rule ? gc->rule->line : 0, why);
	else
		msgf(gc->msg, sizeof(gc->msg), "%s: ok (CAND verdict %s)", need,
		     pmb_case_verdict_names[k->verdict]);
	g->nc_st[gc->st]++;
}

/*
 * A case only CAND has cannot be compared, but it can still be wrong: judge
 * it on what needs no BASE, so that a new kind cannot slip an incorrect
 * kernel through the gate.
 */
static void judge_cand_only(struct pmb_gate *g)
{
	size_t used = 0;

	for (size_t j = 0; j < g->c.cand.ncases; j++) {
		const struct pmb_rcase *k = &g->c.cand.cases[j];
		const struct pmb_rule *rule;
		struct pmb_target t;

		if (pmb_run_find_case(&g->c.base, k->id) >= 0 &&
		    !strcmp(g->c.base.cases[pmb_run_find_case(&g->c.base, k->id)].kind, k->kind))
			continue;
		g->cand_only++;
		if (unjudgeable(k->verdict))
			continue;
		target_of(k, NULL, &t);
		rule = pmb_policy_correctness(&g->pol, &t);
		if (!rule || !(((rule->corr & PMB_CORR_CORRECT) && k->verdict != PMB_V_CORRECT) ||
			       ((rule->corr & PMB_CORR_SWAPPED_REPORTED) && !swapped_reported(k))))
			continue;
		g->cand_only_fail++;
		if (used < sizeof(g->cand_only_msg))
			used += (size_t)snprintf(g->cand_only_msg + used, sizeof(g->cand_only_msg) - used,
						 "%s%s (verdict %s, %s line %u)", used ? "; " : "", k->id,
						 pmb_case_verdict_names[k->verdict], g->policy_name, rule->line);
	}
}

static void decide(struct pmb_gate *g)
{
	if (g->nc_st[PMB_ST_FAIL] || g->cand_only_fail || g->kernel_msg[0]) {
		g->exit_code = PMB_EXIT_INCORRECT;
		if (g->nc_st[PMB_ST_FAIL] || g->cand_only_fail)
			msgf(g->why, sizeof(g->why), "incorrect kernel behaviour: %zu case(s) fail "
			     "their correctness requirement", g->nc_st[PMB_ST_FAIL] + g->cand_only_fail);
		else
			msgf(g->why, sizeof(g->why), "incorrect kernel behaviour: %s", g->kernel_msg);
	} else if (g->n_st[PMB_ST_FAIL]) {
		g->exit_code = PMB_EXIT_REGRESSION;
		msgf(g->why, sizeof(g->why), "performance regression in %zu series",
		     g->n_st[PMB_ST_FAIL]);
	} else if (!g->c.nrows) {
		g->exit_code = PMB_EXIT_SKIP;
		msgf(g->why, sizeof(g->why), "cannot judge performance: no timing series in "
		     "common (BASE has %zu, CAND %zu; same case, method, batch and qd needed)",
		     g->c.base.nseries, g->c.cand.nseries);
	} else if (g->n_st[PMB_ST_INCONCLUSIVE]) {
		g->exit_code = PMB_EXIT_INCONCLUSIVE;
		msgf(g->why, sizeof(g->why), "inconclusive: %zu series cannot be told from their "
		     "limits at this noise (%zu pass); %s would resolve them", g->n_st[PMB_ST_INCONCLUSIVE],
		     g->n_st[PMB_ST_PASS], resolve_hint(g));
	} else if (!g->n_st[PMB_ST_PASS]) {
		g->exit_code = PMB_EXIT_SKIP;
		msgf(g->why, sizeof(g->why), "cannot judge performance: every series has too "
		     "few samples (need %d a side)", PMB_MIN_SAMPLES);
	} else {
		g->exit_code = PMB_EXIT_PASS;
		msgf(g->why, sizeof(g->why), "pass: %zu series within their limits, %zu "
		     "case(s) meet their correctness requirement", g->n_st[PMB_ST_PASS],
		     g->nc_st[PMB_ST_PASS]);
	}
}

static void timing_environment(struct pmb_gate *g)
{
	const struct pmb_run *rs[2] = { &g->c.base, &g->c.cand };
	size_t used = 0;

	g->deterministic = !strcmp(g->c.base.environment, "qemu-icount") &&
			   !strcmp(g->c.cand.environment, "qemu-icount");
	for (int k = 0; k < 2; k++) {
		if (!rs[k]->busy)
			continue;
		g->busy = true;
		if (used < sizeof(g->busy_why))
			used += (size_t)snprintf(g->busy_why + used, sizeof(g->busy_why) - used, "%s%s: %s",
						 used ? "; " : "", k ? "CAND" : "BASE", rs[k]->busy_why);
	}
}

static int gate_judge(struct pmb_gate *g)
{
	if (g->floor_dir) {
		int err = load_floor(g);

		if (err)
			return err;
	}
	g->noise_scale = noise_scale(&g->c);
	timing_environment(g);
	g->rows = calloc(g->c.nrows + 1, sizeof(*g->rows));
	g->corr = calloc(g->c.ncorr + 1, sizeof(*g->corr));
	if (!g->rows || !g->corr)
		return pmb_err(-ENOMEM, "gate");
	for (size_t i = 0; i < g->c.nrows; i++)
		judge_row(g, i);
	for (size_t i = 0; i < g->c.ncorr; i++)
		judge_corr(g, i);
	judge_cand_only(g);
	if (g->c.cand.kernel_outside) {
		char first[300];

		pmb_text_clean(g->c.cand.kernel_lines, first, sizeof(first));
		first[strcspn(first, "\n")] = '\0';
		msgf(g->kernel_msg, sizeof(g->kernel_msg), "CAND's kernel logged %lld problem line(s) "
		     "outside every case, first: %s", g->c.cand.kernel_outside, first);
	}
	decide(g);
	return 0;
}

/* ---- human output ---- */

static void print_verdict(const struct pmb_gate *g, FILE *f, const char *pre)
{
	fprintf(f, "%sPolicy: %s; threshold %g%%", pre, g->policy_name, g->thr);
	if (g->floor_dir)
		fprintf(f, "; A/A noise pooled per method from %s", g->floor_dir);
	fprintf(f, "\n%sTiming: %s", pre, g->deterministic ? "icount (deterministic: instructions)" :
		!strcmp(g->c.cand.environment, "qemu-tcg") ? "TCG wall time (on request; noisy)" :
		!strcmp(g->c.cand.environment, "qemu-kvm") ? "KVM wall time" : "host wall time");
	if (g->busy)
		fprintf(f, "; the host was busy (%s): no regression is claimed from it", g->busy_why);
	fprintf(f, "\n%sCorrectness: %zu pass, %zu fail, %zu skip\n", pre, g->nc_st[PMB_ST_PASS],
		g->nc_st[PMB_ST_FAIL], g->nc_st[PMB_ST_SKIP]);
	for (size_t i = 0; i < g->c.ncorr; i++)
		if (g->corr[i].st != PMB_ST_PASS)
			fprintf(f, "%s  %s %s: %s\n", pre, pmb_status_names[g->corr[i].st],
				g->c.corr[i].cc->id, g->corr[i].msg);
	if (g->cand_only)
		fprintf(f, "%s  %zu case(s) only in CAND, judged without BASE: %zu fail%s%s\n", pre,
			g->cand_only, g->cand_only_fail, g->cand_only_fail ? ": " : "", g->cand_only_msg);
	if (g->kernel_msg[0])
		fprintf(f, "%s  FAIL %s\n", pre, g->kernel_msg);
	fprintf(f, "%sPerformance: %zu pass, %zu fail, %zu inconclusive, %zu skip\n", pre,
		g->n_st[PMB_ST_PASS], g->n_st[PMB_ST_FAIL], g->n_st[PMB_ST_INCONCLUSIVE],
		g->n_st[PMB_ST_SKIP]);
	for (size_t i = 0; i < g->c.nrows; i++) {
		char name[512];

		if (g->rows[i].st != PMB_ST_FAIL && g->rows[i].st != PMB_ST_INCONCLUSIVE)
			continue;
		pmb_row_name(&g->c.rows[i], name, sizeof(name));
		fprintf(f, "%s  %s %s: %s\n", pre, pmb_status_names[g->rows[i].st], name, g->rows[i].msg);
	}
	fprintf(f, "%sVERDICT: %s (exit %d)\n", pre, g->why, g->exit_code);
}

static int write_report(const struct pmb_gate *g, const char *dir)
{
	FILE *f = pmb_out_create(dir, "report.md");

	if (!f)
		return -EIO;
	fprintf(f, "# pagemap-bench gate: %s vs %s\n\n", g->c.base.run_id, g->c.cand.run_id);
	fprintf(f, "**%s** (exit %d)\n\n", g->why, g->exit_code);
	pmb_compare_print_header(&g->c, f);
	fprintf(f, "\n## Verdict\n\n");
	print_verdict(g, f, "    ");
	fprintf(f, "\n## Correctness differences between BASE and CAND\n\n");
	pmb_compare_print_correctness(&g->c, f);
	fprintf(f, "\n## Timing (CAND/BASE)\n\n");
	pmb_compare_print_table(&g->c, f, "    ");
	fprintf(f, "\n## Per series: limit applied\n\n");
	for (size_t i = 0; i < g->c.nrows; i++) {
		char name[512];

		pmb_row_name(&g->c.rows[i], name, sizeof(name));
		fprintf(f, "- %s %s: %s\n", pmb_status_names[g->rows[i].st], name, g->rows[i].msg);
	}
	fprintf(f, "\n");
	pmb_compare_print_method(&g->c, f);
	fprintf(f, "\nThe gate judges each series' interval against its limit: pass when it lies "
		   "within,\nregression when it lies above in every ABBA half, inconclusive otherwise "
		   "(or when the\nhost was busy and time is wall time). Exit codes: 0 pass, 1 "
		   "performance regression,\n2 incorrect kernel behaviour (wins over the others), 4 "
		   "inconclusive, 64 usage or bad\ninput, 77 cannot run (see docs/gate.md).\n");
	return pmb_out_close(f, dir, "report.md");
}

/* ---- the CI report the sinks write ---- */

/* One run as reply.txt names it: kernel and how it was built, the run, where it ran. */
static void describe_run(const struct pmb_run *r, char *buf, size_t len)
{
	char rel[64];

	pmb_text_clean(r->krelease, rel, sizeof(rel));
	if (r->kbuild[0])
		snprintf(buf, len, "%s; run %s (%s)", r->kbuild, r->run_id, r->environment);
	else
		snprintf(buf, len, "%s%s; run %s (%s)", *rel ? "Linux " : "", *rel ? rel : "kernel unknown",
			 r->run_id, r->environment);
}

static const char *timing_line(const struct pmb_gate *g)
{
	return g->deterministic ? "icount, deterministic: time is instructions" :
	       !strcmp(g->c.cand.environment, "qemu-tcg") ? "QEMU TCG wall time (noisy)" :
	       !strcmp(g->c.cand.environment, "qemu-kvm") ? "KVM wall time" : "host wall time";
}

/* The gate's own command line, quoted for a POSIX shell. */
static void own_command(int argc, char **argv, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "pmbench gate");

	for (int i = 1; i < argc && n < len; i++) {
		const char *a = argv[i];
		bool plain = *a != '\0';

		for (const char *p = a; *p; p++)
			plain &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				 (*p >= '0' && *p <= '9') || strchr("_./:=@%+,-", *p);
		if (plain) {
			n += (size_t)snprintf(buf + n, len - n, " %s", a);
			continue;
		}
		n += (size_t)snprintf(buf + n, len - n, " '");
		for (const char *p = a; *p && n < len; p++)
			n += (size_t)snprintf(buf + n, len - n, *p == '\'' ? "'\\''" : "%c", *p);
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "'");
	}
}

static int build_report(struct pmb_gate *g, struct pmb_report *rep, char (*sfx)[128],
			char (*label)[512])
{
	struct pmb_suite *corr = &rep->suite[0], *perf = &rep->suite[1];

	memset(rep, 0, sizeof(*rep));
	rep->title = "pagemap-bench gate";
	rep->run_id = g->c.cand.run_id;
	rep->krelease = g->c.cand.krelease;
	rep->kversion = g->c.cand.kversion;
	rep->verdict = g->why;
	rep->exit_code = g->exit_code;
	describe_run(&g->c.base, g->base_desc, sizeof(g->base_desc));
	describe_run(&g->c.cand, g->cand_desc, sizeof(g->cand_desc));
	snprintf(g->timing, sizeof(g->timing), "%s", timing_line(g));
	snprintf(g->policy_line, sizeof(g->policy_line), "%s, threshold %g%%%s%s", g->policy_name, g->thr,
		 g->floor_dir ? ", A/A noise from " : "", g->floor_dir ? g->floor_dir : "");
	rep->base_desc = g->base_desc;
	rep->cand_desc = g->cand_desc;
	rep->timing = g->timing;
	rep->policy = g->policy_line;
	rep->reproduce = g->reproduce;
	rep->nsuites = 2;
	corr->name = "correctness";
	corr->failure = "incorrect";
	perf->name = "performance";
	perf->failure = "regression";
	corr->items = calloc(g->c.ncorr + 2, sizeof(struct pmb_item));
	perf->items = calloc(g->c.nrows + 1, sizeof(struct pmb_item));
	if (!corr->items || !perf->items)
		return -ENOMEM;
	for (size_t i = 0; i < g->c.ncorr; i++) {
		const struct pmb_rcase *k = g->c.corr[i].cc;
		struct pmb_item *it = &corr->items[corr->n++];

		it->id = it->label = k->id;
		it->suffix = "correctness";
		it->st = g->corr[i].st;
		it->msg = g->corr[i].msg;
		it->m = (struct pmb_measure){ (double)pmb_case_misreported(k), "pages" };
		it->kv[it->nkv++] = (struct pmb_kv){ "verdict_base", 0, pmb_case_verdict_names[g->c.corr[i].bc->verdict] };
		it->kv[it->nkv++] = (struct pmb_kv){ "verdict_cand", 0, pmb_case_verdict_names[k->verdict] };
	}
	if (g->kernel_msg[0]) {
		struct pmb_item *it = &corr->items[corr->n++];

		it->id = it->label = "kernel-log";
		it->suffix = "correctness";
		it->st = PMB_ST_FAIL;
		it->msg = g->kernel_msg;
		it->m = (struct pmb_measure){ (double)g->c.cand.kernel_outside, "lines" };
	}
	for (size_t i = 0; i < g->c.nrows; i++) {
		const struct pmb_cmp_row *r = &g->c.rows[i];
		struct pmb_item *it = &perf->items[perf->n++];

		pmb_row_suffix(r, sfx[i], sizeof(sfx[i]));
		pmb_row_name(r, label[i], sizeof(label[i]));
		it->id = r->bc->id;
		it->suffix = sfx[i];
		it->label = label[i];
		it->st = g->rows[i].st;
		it->msg = g->rows[i].msg;
		it->m = (struct pmb_measure){ r->ratio, "ratio" };
		it->child = (struct pmb_measure){ r->med_c, "ns_per_entry" };
		it->kv[it->nkv++] = (struct pmb_kv){ "ci_lo", r->lo, NULL };
		it->kv[it->nkv++] = (struct pmb_kv){ "ci_hi", r->hi, NULL };
		it->kv[it->nkv++] = (struct pmb_kv){ "p_mann_whitney", r->p, NULL };
		it->kv[it->nkv++] = (struct pmb_kv){ "limit_ratio", g->rows[i].limit, NULL };
		it->kv[it->nkv++] = (struct pmb_kv){ "noise_pct", g->rows[i].noise_pct, NULL };
		it->kv[it->nkv++] = (struct pmb_kv){ "verdict", 0, pmb_sv_token[r->verdict] };
	}
	pmb_report_count(rep);
	return 0;
}

static int gate_write(struct pmb_gate *g, const char *outdir)
{
	char (*sfx)[128] = calloc(g->c.nrows + 1, sizeof(*sfx));
	char (*label)[512] = calloc(g->c.nrows + 1, sizeof(*label));
	struct pmb_report rep = { 0 };
	int err = sfx && label ? 0 : -ENOMEM;

	if (!err)
		err = pmb_compare_write_tsv(&g->c, outdir);
	if (!err)
		err = pmb_compare_write_json(&g->c, outdir);
	if (!err)
		err = write_report(g, outdir);
	if (!err)
		err = build_report(g, &rep, sfx, label);
	if (!err)
		err = pmb_sinks_write(outdir, &rep);
	free(rep.suite[0].items);
	free(rep.suite[1].items);
	free(sfx);
	free(label);
	return err;
}

/* ---- the subcommand ---- */

static int load_policy(struct pmb_gate *g, const char *file)
{
	char err[512];
	int ret;

	if (!file) {
		g->policy_name = "default policy";
		ret = pmb_policy_parse(pmb_policy_default_text, strlen(pmb_policy_default_text),
				       &g->pol, err, sizeof(err));
		if (ret)
			pmb_err(0, "built-in policy: %s", err);
		return ret;
	}
	g->policy_name = file;
	ret = pmb_policy_load(file, &g->pol, err, sizeof(err));
	if (ret)
		pmb_err(0, "--policy %s: %s", file, err);
	return ret;
}

static int gate_run(struct pmb_gate *g, const struct pmb_cmp_opts *o)
{
	char outdir[4096], want[4096];
	int err;

	if (load_policy(g, o->policy))
		return PMB_EXIT_USAGE;
	g->thr = o->thr_set ? o->thr : g->pol.has_threshold ? g->pol.threshold_pct : o->thr;
	g->floor_dir = o->floor;
	err = pmb_compare_load(o->pos[0], o->pos[1], g->thr, o->seed, &g->c);
	if (err)
		return pmb_compare_exit(err);
	err = gate_judge(g);
	if (err)
		return pmb_bad_input(err) ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
	if (o->out)
		snprintf(want, sizeof(want), "%s", o->out);
	else
		pmb_default_outdir(&g->c, "gate", want, sizeof(want));
	err = pmb_mkdir_new(want, outdir, sizeof(outdir));
	if (err)
		return pmb_bad_input(err) ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
	if (gate_write(g, outdir)) {
		pmb_out_remove(outdir);	/* nothing half-written stays behind */
		return PMB_EXIT_ERROR;
	}
	pmb_compare_print_header(&g->c, stdout);
	print_verdict(g, stdout, "");
	printf("Wrote %s/{report.md,reply.txt,junit.xml,gate.ktap,kcidb.json,lava.txt,compare.*}\n", outdir);
	return g->exit_code;
}

#define OFF(f) offsetof(struct pmb_cmp_opts, f)
static const struct pmb_opt gate_opts[] = {
	{ "threshold", 0, PMB_OPT_PCT, OFF(thr), "PCT", "the 'noise' threshold (default: the policy's, else 5%)" },
	{ "policy", 0, PMB_OPT_STR, OFF(policy), "FILE", "gate policy (default: built in, docs/policy-default.txt)" },
	{ "noise-floor", 0, PMB_OPT_STR, OFF(floor), "DIR",
	  "an A/A compare directory: its spread, pooled per method, widens\nevery interval" },
	{ "out", 0, PMB_OPT_STR, OFF(out), "DIR", "the new output directory (default: next to BASE,\n"
	  "gate-<base-id>-vs-<cand-id>)" },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "S", "bootstrap seed (default 1)", .max = UINT64_MAX },
	{ "reproduce", 0, PMB_OPT_STR, OFF(reproduce), "CMD",
	  "the command reply.txt says reproduces this verdict (default:\nthis gate command; ab passes its own)" },
	{ "print-default-policy", 0, PMB_OPT_FLAG, OFF(print_policy), NULL, "print the built-in policy and exit",
	  .set = 1 },
};
#undef OFF

const struct pmb_opt_spec pmb_gate_spec = {
	.prog = "pmbench gate", .args = "BASE CAND [options] | --print-default-policy",
	.about = "Compare CAND with BASE and judge it by a policy. Writes compare.tsv,\n"
		 "compare.json, report.md, reply.txt (for the mailing list), junit.xml,\n"
		 "gate.ktap, kcidb.json and lava.txt into a new directory.\n",
	.opts = gate_opts, .nopts = sizeof(gate_opts) / sizeof(gate_opts[0]),
	.max_pos = 2,
	.more = "exit: 0 pass, 1 performance regression, 2 incorrect kernel behaviour (wins),\n"
		"      3 harness error, 4 inconclusive (noise too large to resolve a limit),\n"
		"      64 usage or bad input, 77 cannot run (a run not complete, no timing series\n"
		"      in common, too few samples everywhere)\n",
};

int cmd_gate(int argc, char **argv)
{
	struct pmb_cmp_opts o = { .thr = PMB_DEFAULT_THRESHOLD_PCT, .seed = 1 };
	struct pmb_gate g;
	unsigned npos;
	uint64_t seen;
	int ret;

	ret = pmb_opt_parse(&pmb_gate_spec, argc, argv, &o, o.pos, &npos, &seen);
	if (ret)
		return ret == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	o.thr_set = seen & 1;
	if (o.print_policy) {
		if (npos)
			return pmb_fail(PMB_EXIT_USAGE, "--print-default-policy takes no run directories");
		fputs(pmb_policy_default_text, stdout);
		return PMB_EXIT_PASS;
	}
	if (npos != 2)
		return pmb_fail(PMB_EXIT_USAGE, "usage: pmbench gate BASE CAND [options] (see --help)");
	memset(&g, 0, sizeof(g));
	if (o.reproduce)
		pmb_text_clean(o.reproduce, g.reproduce, sizeof(g.reproduce));
	else
		own_command(argc, argv, g.reproduce, sizeof(g.reproduce));
	ret = gate_run(&g, &o);
	free(g.rows);
	free(g.corr);
	pmb_compare_free(&g.c);
	return ret;
}
