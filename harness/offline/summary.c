// SPDX-License-Identifier: GPL-2.0
/*
 * summary.tsv and summary.txt of a run: per series (case, method, batch, qd)
 * the median ns per entry, its 95% CI from the hierarchical bootstrap
 * (states, then samples: docs/statistics.md), quartiles, p5/p95, CV and
 * outliers.  Read back from the run directory through the one reader.
 */
#include "summary.h"
#include "rundata.h"
#include "lib/outdir.h"
#include "lib/stats/stats.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Series of one case in summary order: the catalog's method order, then batch and qd. */
static const struct pmb_run *sort_run;

static int cmp_series(const void *a, const void *b)
{
	const struct pmb_series *x = &sort_run->series[*(const size_t *)a];
	const struct pmb_series *y = &sort_run->series[*(const size_t *)b];
	int c;

	if (x->case_idx != y->case_idx)
		return x->case_idx < y->case_idx ? -1 : 1;
	c = pmb_method_order(x->method) - pmb_method_order(y->method);
	if (c)
		return c;
	c = strcmp(x->method, y->method);
	if (c)
		return c;
	if (x->batch != y->batch)
		return x->batch < y->batch ? -1 : 1;
	return (x->qd > y->qd) - (x->qd < y->qd);
}

static int row(FILE *sum, const struct pmb_rcase *c, const struct pmb_series *se,
	       const struct pmb_summary *s, size_t states, double hw, double target)
{
	struct pmb_tsv_row r;

	pmb_tsv_row_init(&r, &pmb_summary_table);
	pmb_tsv_set(&r, PMB_Y_CASE, "%s", c->id);
	pmb_tsv_set(&r, PMB_Y_KIND, "%s", c->kind);
	pmb_tsv_set(&r, PMB_Y_SWAPOUT, "%s", c->swapout);
	pmb_tsv_set(&r, PMB_Y_PAGES, "%lld", c->pages);
	pmb_tsv_set(&r, PMB_Y_DIRTY_PCT, "%g", c->dirty_pct);
	pmb_tsv_set(&r, PMB_Y_SWAPPED_PCT, "%g", c->swapped_pct);
	pmb_tsv_set(&r, PMB_Y_METHOD, "%s", se->method);
	pmb_tsv_set(&r, PMB_Y_BATCH, "%lld", se->batch);
	pmb_tsv_set(&r, PMB_Y_QD, "%lld", se->qd);
	pmb_tsv_set(&r, PMB_Y_N, "%zu", s->n);
	pmb_tsv_set(&r, PMB_Y_MEDIAN, "%.3f", s->median);
	pmb_tsv_set(&r, PMB_Y_CI_LO, "%.3f", s->ci_lo);
	pmb_tsv_set(&r, PMB_Y_CI_HI, "%.3f", s->ci_hi);
	pmb_tsv_set(&r, PMB_Y_Q1, "%.3f", s->q1);
	pmb_tsv_set(&r, PMB_Y_Q3, "%.3f", s->q3);
	pmb_tsv_set(&r, PMB_Y_P5, "%.3f", s->p5);
	pmb_tsv_set(&r, PMB_Y_P95, "%.3f", s->p95);
	pmb_tsv_set(&r, PMB_Y_CV, "%.4f", s->cv);
	pmb_tsv_set(&r, PMB_Y_OUTLIERS, "%zu", s->outliers);
	pmb_tsv_set(&r, PMB_Y_CI_HALFWIDTH_PCT, "%.2f", hw);
	pmb_tsv_set(&r, PMB_Y_VERDICT, "%s", pmb_case_verdict_names[c->verdict]);
	pmb_tsv_set(&r, PMB_Y_STATES, "%zu", states);
	pmb_tsv_set(&r, PMB_Y_PRECISION_MET, "%s", !(target > 0) ? "-" : hw <= target ? "yes" : "no");
	return pmb_tsv_write_row(sum, &r);
}

/* One series: its summary with the hierarchical CI of the median. */
static int summarize(const struct pmb_series *se, struct pmb_summary *s, size_t *states)
{
	double *v = malloc((se->n + 1) * sizeof(double));
	int err;

	if (!v)
		return -ENOMEM;
	memcpy(v, se->v, se->n * sizeof(double));
	err = pmb_summarize(v, se->n, 0, 0, s);
	free(v);
	if (!err && se->n)
		err = pmb_series_ci(se->v, se->state, se->n, se->method, se->batch, se->qd, &s->median,
				    &s->ci_lo, &s->ci_hi);
	*states = pmb_count_groups(se->state, se->n);
	return err;
}

static void both(FILE *a, FILE *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void both(FILE *a, FILE *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(a, fmt, ap);
	va_end(ap);
	if (b) {
		va_start(ap, fmt);
		vfprintf(b, fmt, ap);
		va_end(ap);
	}
}

static int write_all(const struct pmb_run *r, FILE *sum, FILE *txt, FILE *human)
{
	size_t *order = malloc((r->nseries + 1) * sizeof(size_t)), k = 0, missed = 0;
	int err = pmb_tsv_write_header(sum, &pmb_summary_table);
	json_t *prec = json_object_get(json_object_get(r->meta, "params"), "precision_pct");
	double target = json_is_number(prec) ? json_number_value(prec) : 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < r->nseries; i++)
		order[i] = i;
	sort_run = r;
	qsort(order, r->nseries, sizeof(size_t), cmp_series);
	both(txt, human, "%-36s %-9s %-8s %7s %5s %12s %23s %7s\n", "case", "verdict", "method", "batch",
	     "n", "ns/entry", "95% CI of median", "+-%");
	for (size_t ci = 0; !err && ci < r->ncases; ci++) {
		const struct pmb_rcase *c = &r->cases[ci];
		const char *verdict = pmb_case_verdict_names[c->verdict];
		bool any = false;

		for (; !err && k < r->nseries && r->series[order[k]].case_idx == ci; k++) {
			const struct pmb_series *se = &r->series[order[k]];
			const struct pmb_method_info *m = pmb_method_find(se->method);
			/* Co-metrics (swapin, probe) are not what sampling drives: no target for them. */
			double t = m && (m->traits & PMB_M_METRIC) ? 0 : target;
			struct pmb_summary s;
			size_t states;
			double hw;

			err = summarize(se, &s, &states);
			if (err)
				break;
			hw = 100.0 * (s.ci_hi - s.ci_lo) / 2.0 / s.median;
			err = row(sum, c, se, &s, states, hw, t);
			missed += t > 0 && !(hw <= t);
			both(txt, human, "%-36s %-9s %-8s %7lld %5zu %12.2f %10.2f .. %-9.2f %7.2f%s\n",
			     any ? "" : c->id, any ? "" : verdict, se->method, se->batch, s.n, s.median,
			     s.ci_lo, s.ci_hi, hw, t > 0 && !(hw <= t) ? " *" : "");
			any = true;
		}
		if (!any)
			both(txt, human, "%-36s %-9s %s\n", c->id, verdict, "(no timings)");
	}
	both(txt, human, "\n");
	for (size_t ci = 0; ci < r->ncases; ci++) {
		char reason[512];

		if (!*r->cases[ci].reason)
			continue;
		pmb_text_clean(r->cases[ci].reason, reason, sizeof(reason));
		both(txt, human, "%s: %s: %s\n", r->cases[ci].id, pmb_case_verdict_names[r->cases[ci].verdict],
		     reason);
	}
	if (missed) {
		both(txt, human, "* %zu series missed the precision target of %.2f%%; how each case's timing "
		     "stopped, and what limits it:\n", missed, target);
		for (size_t ci = 0; ci < r->ncases; ci++) {
			char how[512];

			if (!r->cases[ci].sampling || !strcmp(r->cases[ci].sampling, "-") ||
			    !strncmp(r->cases[ci].sampling, "met:", 4))
				continue;
			pmb_text_clean(r->cases[ci].sampling, how, sizeof(how));
			both(txt, human, "  %s: %s\n", r->cases[ci].id, how);
		}
	}
	if (json_integer_value(json_object_get(json_object_get(r->meta, "params"), "extra_work_pct")) > 0)
		both(txt, human, "NOTE: every timed pass of this run also read %lld%% of its range again "
		     "(--extra-work): a known extra cost, for checking what the statistics can see; these are not "
		     "the kernel's own timings.\n", (long long)json_integer_value(json_object_get(
		     json_object_get(r->meta, "params"), "extra_work_pct")));
	if (r->busy)
		both(txt, human, "NOTE: the host was busy during this run (%s): its timings measure the host "
		     "as much as the kernel; compare and gate claim no regression from them.\n", r->busy_why);
	free(order);
	return err;
}

int pmb_summary_write(const char *dir, FILE *human)
{
	struct pmb_run r;
	FILE *sum = NULL, *txt = NULL;
	int err = pmb_run_read_own(dir, &r);

	if (!err) {
		sum = pmb_out_create(dir, "summary.tsv");
		txt = pmb_out_create(dir, "summary.txt");
		err = sum && txt ? write_all(&r, sum, txt, human) : -EIO;
	}
	if (sum && pmb_out_close(sum, dir, "summary.tsv"))
		err = err ?: -EIO;
	if (txt && pmb_out_close(txt, dir, "summary.txt"))
		err = err ?: -EIO;
	pmb_run_free(&r);
	return err;
}
