// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench gate BASE CAND: the comparison of compare.c, judged by a policy
 * (policy.c) and a measured noise floor, with an exit code for CI and the
 * CI formats: JUnit XML, KTAP, KCIDB v5 JSON and LAVA test-case lines.
 */
#include "harness/cmd.h"
#include "gate.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const st_name[] = { "PASS", "FAIL", "SKIP" };

/* snprintf for messages that may be cut: cutting is fine there. */
__attribute__((format(printf, 3, 4)))
static void msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void pmb_ci_name(const char *case_id, const char *suffix, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s%s%s", case_id, *suffix ? "." : "", suffix);
	for (i = 0; buf[i]; i++) {
		char ch = buf[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			buf[i] = '_';
	}
}

static void row_ci_name(const struct pmb_cmp_row *r, char *buf, size_t len)
{
	char sfx[128];

	snprintf(sfx, sizeof(sfx), "%s.b%lld.qd%lld", r->method, r->batch, r->qd);
	pmb_ci_name(r->bc->id, sfx, buf, len);
}

/* ---- the noise floor: an A/A compare.json ---- */

static json_t *load_floor(const char *dir)
{
	char path[4200];
	json_error_t jerr;
	json_t *root, *rows;

	snprintf(path, sizeof(path), "%s/compare.json", dir);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		pmb_err(0, "--noise-floor %s: %s", path, jerr.text);
		return NULL;
	}
	rows = json_object_get(root, "rows");
	if (strcmp(json_string_value(json_object_get(root, "schema")) ?: "",
		   "pagemap-bench-compare/1") || !json_is_array(rows)) {
		pmb_err(0, "--noise-floor %s: not a pagemap-bench-compare/1 file with rows", path);
		json_decref(root);
		return NULL;
	}
	if (!json_is_true(json_object_get(root, "same_build")))
		pmb_warn("--noise-floor %s: its runs come from different kernel builds, so its "
			 "spread is not only noise", dir);
	return root;
}

static double floor_of(json_t *aa, const struct pmb_cmp_row *r)
{
	json_t *rows = json_object_get(aa, "rows"), *x;
	size_t i;

	json_array_foreach(rows, i, x) {
		json_t *f = json_object_get(x, "floor_pct");

		if (strcmp(json_string_value(json_object_get(x, "case")) ?: "", r->bc->id) ||
		    strcmp(json_string_value(json_object_get(x, "method")) ?: "", r->method) ||
		    json_integer_value(json_object_get(x, "batch")) != r->batch ||
		    json_integer_value(json_object_get(x, "qd")) != r->qd)
			continue;
		return json_is_number(f) ? json_number_value(f) : NAN;
	}
	return NAN;
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

static void judge_row(struct pmb_gate *g, json_t *aa, size_t i)
{
	const struct pmb_cmp_row *r = &g->c.rows[i];
	struct pmb_gate_row *gr = &g->rows[i];
	struct pmb_target t;
	char rt[256];

	target_of(r->cc, r->method, &t);
	gr->rule = pmb_policy_slowdown(&g->pol, &t);
	gr->limit = !gr->rule || gr->rule->noise ? 1 + g->thr / 100 : gr->rule->max_ratio;
	gr->floor_pct = aa ? floor_of(aa, r) : NAN;
	gr->eff = gr->limit;
	if (isfinite(gr->floor_pct) && 1 + gr->floor_pct / 100 > gr->limit) {
		gr->eff = 1 + gr->floor_pct / 100;
		gr->raised = 1;
		g->nraised++;
	}
	rule_text(g, gr->rule, rt, sizeof(rt));
	if (r->verdict == PMB_V_FEW || isnan(r->lo)) {
		gr->st = PMB_ST_SKIP;
		snprintf(gr->msg, sizeof(gr->msg), "too few samples (%zu BASE, %zu CAND; need %d)",
			 r->nb, r->nc, PMB_MIN_SAMPLES);
	} else if (r->lo > gr->eff) {
		gr->st = PMB_ST_FAIL;
		snprintf(gr->msg, sizeof(gr->msg),
			 "regression: ratio %.3f (95%% CI %.3f-%.3f) above the limit %.3f (%s%s)",
			 r->ratio, r->lo, r->hi, gr->eff, rt,
			 gr->raised ? "; raised to the noise floor" : "");
	} else {
		gr->st = PMB_ST_PASS;
		snprintf(gr->msg, sizeof(gr->msg), "ratio %.3f (95%% CI %.3f-%.3f) within the "
			 "limit %.3f (%s%s)", r->ratio, r->lo, r->hi, gr->eff, rt,
			 gr->raised ? "; raised to the noise floor" : "");
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

static void judge_corr(struct pmb_gate *g, size_t i)
{
	const struct pmb_corr_row *r = &g->c.corr[i];
	const struct pmb_rcase *b = r->bc, *k = r->cc;
	struct pmb_gate_corr *gc = &g->corr[i];
	char need[96], why[900] = "", tmp[300];
	size_t used = 0;
	struct pmb_target t;

	target_of(k, NULL, &t);
	gc->rule = pmb_policy_correctness(&g->pol, &t);
	gc->flags = gc->rule ? gc->rule->corr : 0;
	pmb_corr_name(gc->flags, need, sizeof(need));
	if (gc->flags && (!strcmp(k->verdict, "skip") || !strcmp(k->verdict, "oom") ||
			  !strcmp(k->verdict, "error"))) {
		gc->st = PMB_ST_SKIP;
		snprintf(gc->msg, sizeof(gc->msg), "CAND verdict is %s (%s): cannot check %s",
			 k->verdict, *k->reason ? k->reason : "no reason given", need);
		g->nc_st[gc->st]++;
		return;
	}
	if ((gc->flags & PMB_CORR_CORRECT) && strcmp(k->verdict, "correct")) {
		snprintf(tmp, sizeof(tmp), "CAND verdict is %s (%s)", k->verdict,
			 *k->reason ? k->reason : "no reason given");
		used = add(why, sizeof(why), used, tmp);
	}
	if ((gc->flags & PMB_CORR_NO_WORSE) &&
	    (pmb_case_misreported(k) > pmb_case_misreported(b) ||
	     k->swap_bad_type + k->swap_bad_offset + k->swap_dup + k->content_bad >
	     b->swap_bad_type + b->swap_bad_offset + b->swap_dup + b->content_bad)) {
		snprintf(tmp, sizeof(tmp), "worse than BASE: %lld misreported pages against %lld",
			 pmb_case_misreported(k), pmb_case_misreported(b));
		used = add(why, sizeof(why), used, tmp);
	}
	if ((gc->flags & PMB_CORR_SWAPPED_REPORTED) && !swapped_reported(k)) {
		snprintf(tmp, sizeof(tmp), "of %lld swapped pages %lld are reported as swapped "
			 "(%lld as none, %lld as present)", k->true_n[2], k->cm[2][2],
			 k->cm[2][0], k->cm[2][1]);
		used = add(why, sizeof(why), used, tmp);
		if (k->swap_bad_type + k->swap_bad_offset + k->swap_dup + k->content_bad +
		    k->content_unchecked) {
			snprintf(tmp, sizeof(tmp), "swap entries: %lld bad type, %lld bad offset, "
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
		snprintf(gc->msg, sizeof(gc->msg), "%s: ok (CAND verdict %s)", need, k->verdict);
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
		bool matched = false, bad = false;

		for (size_t i = 0; i < g->c.ncorr && !matched; i++)
			matched = g->c.corr[i].cc == k;
		if (matched)
			continue;
		g->cand_only++;
		if (!strcmp(k->verdict, "skip") || !strcmp(k->verdict, "oom") || !strcmp(k->verdict, "error"))
			continue;
		target_of(k, NULL, &t);
		rule = pmb_policy_correctness(&g->pol, &t);
		if (!rule)
			continue;
		bad = ((rule->corr & PMB_CORR_CORRECT) && strcmp(k->verdict, "correct")) ||
		      ((rule->corr & PMB_CORR_SWAPPED_REPORTED) && !swapped_reported(k));
		if (!bad)
			continue;
		g->cand_only_fail++;
		if (used < sizeof(g->cand_only_msg))
			used += (size_t)snprintf(g->cand_only_msg + used, sizeof(g->cand_only_msg) - used,
						 "%s%s (verdict %s, %s line %u)", used ? "; " : "", k->id,
						 k->verdict, g->policy_name, rule->line);
	}
}

static void decide(struct pmb_gate *g)
{
	if (g->nc_st[PMB_ST_FAIL] || g->cand_only_fail) {
		g->exit_code = PMB_EXIT_INCORRECT;
		snprintf(g->why, sizeof(g->why), "incorrect kernel behaviour: %zu case(s) fail "
			 "their correctness requirement", g->nc_st[PMB_ST_FAIL] + g->cand_only_fail);
	} else if (g->n_st[PMB_ST_FAIL]) {
		g->exit_code = PMB_EXIT_REGRESSION;
		snprintf(g->why, sizeof(g->why), "performance regression in %zu series",
			 g->n_st[PMB_ST_FAIL]);
	} else if (!g->c.nrows) {
		g->exit_code = PMB_EXIT_SKIP;
		snprintf(g->why, sizeof(g->why), "cannot judge performance: no timing series in "
			 "common (BASE has %zu, CAND %zu; same case, method, batch and qd needed)",
			 g->c.base.nseries, g->c.cand.nseries);
	} else if (!g->n_st[PMB_ST_PASS]) {
		g->exit_code = PMB_EXIT_SKIP;
		snprintf(g->why, sizeof(g->why), "cannot judge performance: every series has too "
			 "few samples (need %d a side)", PMB_MIN_SAMPLES);
	} else {
		g->exit_code = PMB_EXIT_PASS;
		snprintf(g->why, sizeof(g->why), "pass: %zu series within their limits, %zu "
			 "case(s) meet their correctness requirement", g->n_st[PMB_ST_PASS],
			 g->nc_st[PMB_ST_PASS]);
	}
}

static int gate_judge(struct pmb_gate *g)
{
	json_t *aa = NULL;
	size_t i;

	if (g->floor_dir) {
		aa = load_floor(g->floor_dir);
		if (!aa)
			return -EINVAL;
	}
	g->rows = calloc(g->c.nrows + 1, sizeof(*g->rows));
	g->corr = calloc(g->c.ncorr + 1, sizeof(*g->corr));
	if (!g->rows || !g->corr) {
		json_decref(aa);
		return pmb_err(-ENOMEM, "gate");
	}
	for (i = 0; i < g->c.nrows; i++)
		judge_row(g, aa, i);
	for (i = 0; i < g->c.ncorr; i++)
		judge_corr(g, i);
	judge_cand_only(g);
	json_decref(aa);
	decide(g);
	return 0;
}

/* ---- human output ---- */

static void print_verdict(const struct pmb_gate *g, FILE *f, const char *pre)
{
	size_t i;

	fprintf(f, "%sPolicy: %s; threshold %g%%", pre, g->policy_name, g->thr);
	if (g->floor_dir)
		fprintf(f, "; noise floor from %s (raised the limit of %zu series)",
			g->floor_dir, g->nraised);
	fprintf(f, "\n%sCorrectness: %zu pass, %zu fail, %zu skip\n", pre, g->nc_st[PMB_ST_PASS],
		g->nc_st[PMB_ST_FAIL], g->nc_st[PMB_ST_SKIP]);
	for (i = 0; i < g->c.ncorr; i++)
		if (g->corr[i].st != PMB_ST_PASS)
			fprintf(f, "%s  %s %s: %s\n", pre, st_name[g->corr[i].st],
				g->c.corr[i].cc->id, g->corr[i].msg);
	if (g->cand_only)
		fprintf(f, "%s  %zu case(s) only in CAND, judged without BASE: %zu fail%s%s\n", pre,
			g->cand_only, g->cand_only_fail, g->cand_only_fail ? ": " : "", g->cand_only_msg);
	fprintf(f, "%sPerformance: %zu pass, %zu fail, %zu skip\n", pre, g->n_st[PMB_ST_PASS],
		g->n_st[PMB_ST_FAIL], g->n_st[PMB_ST_SKIP]);
	for (i = 0; i < g->c.nrows; i++) {
		char name[256];

		pmb_row_name(&g->c.rows[i], name, sizeof(name));
		if (g->rows[i].st == PMB_ST_FAIL)
			fprintf(f, "%s  FAIL %s: %s\n", pre, name, g->rows[i].msg);
		if (g->rows[i].raised)
			fprintf(f, "%s  NOTE %s: the policy asks for %.1f%%, below the measured "
				   "noise floor %.1f%%: the floor is used\n", pre, name,
				100 * (g->rows[i].limit - 1), g->rows[i].floor_pct);
	}
	fprintf(f, "%sVERDICT: %s (exit %d)\n", pre, g->why, g->exit_code);
}

static int write_report(const struct pmb_gate *g, const char *dir)
{
	FILE *f = pmb_open_out(dir, "report.md");
	size_t i;

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
	for (i = 0; i < g->c.nrows; i++) {
		char name[256];

		pmb_row_name(&g->c.rows[i], name, sizeof(name));
		fprintf(f, "- %s %s: %s\n", st_name[g->rows[i].st], name, g->rows[i].msg);
	}
	fprintf(f, "\nThe exit codes: 0 pass, 1 performance regression, 2 incorrect kernel "
		   "behaviour (wins over 1),\n64 usage or bad input, 77 cannot run (see "
		   "docs/gate.md).\n");
	return pmb_close_out(f, dir, "report.md");
}

/* ---- JUnit XML ---- */

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* XML 1.0 allows no control characters but tab and newline. */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static void junit_case(FILE *f, const char *cls, const char *name, enum pmb_status st,
		       const char *type, const char *msg)
{
	fputs("    <testcase classname=\"", f);
	xml_text(f, cls);
	fputs("\" name=\"", f);
	xml_text(f, name);
	fputs("\" time=\"0\"", f);
	if (st == PMB_ST_PASS) {
		fputs(">\n      <system-out>", f);
		xml_text(f, msg);
		fputs("</system-out>\n    </testcase>\n", f);
		return;
	}
	fprintf(f, ">\n      <%s", st == PMB_ST_FAIL ? "failure" : "skipped");
	if (st == PMB_ST_FAIL)
		fprintf(f, " type=\"%s\"", type);
	fputs(" message=\"", f);
	xml_text(f, msg);
	fputs("\"/>\n    </testcase>\n", f);
}

int pmb_gate_write_junit(const struct pmb_gate *g, const char *dir)
{
	FILE *f = pmb_open_out(dir, "junit.xml");
	size_t i;

	if (!f)
		return -EIO;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"pagemap-bench gate\" tests=\"%zu\" failures=\"%zu\" "
		   "skipped=\"%zu\">\n", g->c.nrows + g->c.ncorr,
		g->n_st[PMB_ST_FAIL] + g->nc_st[PMB_ST_FAIL],
		g->n_st[PMB_ST_SKIP] + g->nc_st[PMB_ST_SKIP]);
	fprintf(f, "  <testsuite name=\"correctness\" tests=\"%zu\" failures=\"%zu\" "
		   "skipped=\"%zu\" errors=\"0\">\n", g->c.ncorr, g->nc_st[PMB_ST_FAIL],
		g->nc_st[PMB_ST_SKIP]);
	for (i = 0; i < g->c.ncorr; i++)
		junit_case(f, "pagemap-bench.correctness", g->c.corr[i].cc->id, g->corr[i].st,
			   "incorrect", g->corr[i].msg);
	fprintf(f, "  </testsuite>\n  <testsuite name=\"performance\" tests=\"%zu\" "
		   "failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n", g->c.nrows,
		g->n_st[PMB_ST_FAIL], g->n_st[PMB_ST_SKIP]);
	for (i = 0; i < g->c.nrows; i++) {
		char name[256];

		pmb_row_name(&g->c.rows[i], name, sizeof(name));
		junit_case(f, "pagemap-bench.performance", name, g->rows[i].st, "regression",
			   g->rows[i].msg);
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return pmb_close_out(f, dir, "junit.xml");
}

/* ---- KTAP ---- */

/* A KTAP description: no '#' and no newline. */
static void ktap_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '#' || *s == '\n' ? ' ' : *s, f);
}

static void ktap_line(FILE *f, size_t n, const char *name, enum pmb_status st, const char *msg)
{
	fprintf(f, "    %s %zu %s", st == PMB_ST_FAIL ? "not ok" : "ok", n, name);
	if (st == PMB_ST_SKIP) {
		fputs(" # SKIP ", f);
		ktap_text(f, msg);
	}
	fputc('\n', f);
	if (st == PMB_ST_FAIL) {
		fputs("    # ", f);
		ktap_text(f, msg);
		fputc('\n', f);
	}
}

int pmb_gate_write_ktap(const struct pmb_gate *g, const char *dir)
{
	FILE *f = pmb_open_out(dir, "gate.ktap");
	char name[256];
	size_t i;

	if (!f)
		return -EIO;
	fprintf(f, "KTAP version 1\n1..2\n");
	fprintf(f, "    KTAP version 1\n    # Subtest: correctness\n    1..%zu\n", g->c.ncorr);
	for (i = 0; i < g->c.ncorr; i++) {
		pmb_ci_name(g->c.corr[i].cc->id, "correctness", name, sizeof(name));
		ktap_line(f, i + 1, name, g->corr[i].st, g->corr[i].msg);
	}
	fprintf(f, "%s 1 correctness\n", g->nc_st[PMB_ST_FAIL] ? "not ok" : "ok");
	fprintf(f, "    KTAP version 1\n    # Subtest: performance\n    1..%zu\n", g->c.nrows);
	for (i = 0; i < g->c.nrows; i++) {
		row_ci_name(&g->c.rows[i], name, sizeof(name));
		ktap_line(f, i + 1, name, g->rows[i].st, g->rows[i].msg);
	}
	fprintf(f, "%s 2 performance", g->n_st[PMB_ST_FAIL] ? "not ok" : "ok");
	if (!g->n_st[PMB_ST_FAIL] && !g->n_st[PMB_ST_PASS])
		fprintf(f, " # SKIP no series could be judged");
	fprintf(f, "\n# gate: %s (exit %d)\n", g->why, g->exit_code);
	return pmb_close_out(f, dir, "gate.ktap");
}

/* ---- KCIDB v5 ---- */

static json_t *kcidb_test(const char *id, const char *path, const char *status,
			  const char *build_id, double value, const char *unit,
			  const char *comment, json_t *misc)
{
	json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", id,
			      "origin", "pmbench", "build_id", build_id, "path", path,
			      "status", status, "comment", comment, "misc", misc);

	if (t && isfinite(value))
		json_object_set_new(t, "number", json_pack("{s:f, s:s}", "value", value,
							   "unit", unit));
	return t;
}

static void kcidb_path(const char *kind_elem, const char *name, char *buf, size_t len)
{
	size_t i, start;

	start = (size_t)snprintf(buf, len, "pagemap_bench.%s.", kind_elem);
	snprintf(buf + (start < len ? start : len - 1), len - (start < len ? start : len - 1),
		 "%s", name);
	/* Path elements are dot-separated: a dot inside a name becomes '_'. */
	for (i = start; i < len && buf[i]; i++)
		if (buf[i] == '.' || buf[i] == ':')
			buf[i] = buf[i] == ':' ? '.' : '_';
}

static int kcidb_tests(const struct pmb_gate *g, const char *bid, json_t *tests)
{
	char id[512], path[512], name[256];
	int err = 0;
	size_t i;

	for (i = 0; i < g->c.ncorr; i++) {
		const struct pmb_rcase *k = g->c.corr[i].cc;

		snprintf(id, sizeof(id), "pmbench:%s:correctness:%s", g->c.cand.run_id, k->id);
		kcidb_path("correctness", k->id, path, sizeof(path));
		err |= json_array_append_new(tests, kcidb_test(id, path, st_name[g->corr[i].st],
			bid, (double)pmb_case_misreported(k), "pages", g->corr[i].msg,
			json_pack("{s:s, s:s}", "verdict_base", g->c.corr[i].bc->verdict,
				  "verdict_cand", k->verdict)));
	}
	for (i = 0; i < g->c.nrows; i++) {
		const struct pmb_cmp_row *r = &g->c.rows[i];

		pmb_row_name(r, name, sizeof(name));
		snprintf(id, sizeof(id), "pmbench:%s:perf:%s", g->c.cand.run_id, name);
		kcidb_path("perf", name, path, sizeof(path));
		err |= json_array_append_new(tests, kcidb_test(id, path, st_name[g->rows[i].st],
			bid, r->ratio, "ratio", g->rows[i].msg,
			json_pack("{s:o, s:o, s:o, s:f, s:s}", "ci_lo", isfinite(r->lo) ?
				  json_real(r->lo) : json_null(), "ci_hi", isfinite(r->hi) ?
				  json_real(r->hi) : json_null(), "p_mann_whitney", isfinite(r->p) ?
				  json_real(r->p) : json_null(), "limit_ratio", g->rows[i].eff,
				  "verdict", pmb_verdict_token(r->verdict))));
		/* The measurement itself: no verdict of its own, so DONE. */
		snprintf(id + strlen(id), sizeof(id) - strlen(id), ":ns_per_entry");
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".ns_per_entry");
		err |= json_array_append_new(tests, kcidb_test(id, path, "DONE", bid, r->med_c,
			"ns", "median ns per entry on CAND", json_pack("{s:o}",
			"median_base_ns_per_entry", isfinite(r->med_b) ? json_real(r->med_b) :
			json_null())));
	}
	return err ? -ENOMEM : 0;
}

int pmb_gate_write_kcidb(const struct pmb_gate *g, const char *dir)
{
	char bid[300], cid[300], path[4300];
	json_t *root, *tests = json_array();
	int err;

	snprintf(cid, sizeof(cid), "pmbench:%s", g->c.cand.krelease[0] ?
		 g->c.cand.krelease : "unknown");
	snprintf(bid, sizeof(bid), "pmbench:%s", g->c.cand.run_id);
	err = tests ? kcidb_tests(g, bid, tests) : -ENOMEM;
	root = json_pack("{s:{s:i, s:i}, s:[{s:s, s:s, s:{s:s}}], "
			 "s:[{s:s, s:s, s:s, s:s, s:b}], s:o}",
			 "version", "major", 5, "minor", 3,
			 "checkouts", "id", cid, "origin", "pmbench", "misc", "kernel_version",
			 g->c.cand.kversion,
			 "builds", "id", bid, "checkout_id", cid, "origin", "pmbench",
			 "comment", g->why, "valid", 1,
			 "tests", tests);
	if (!root || err) {
		json_decref(root);
		return pmb_err(-ENOMEM, "kcidb.json");
	}
	snprintf(path, sizeof(path), "%s/kcidb.json", dir);
	err = json_dump_file(root, path, JSON_INDENT(1)) ? pmb_err(-EIO, "writing %s", path) : 0;
	json_decref(root);
	return err;
}

/* ---- LAVA ---- */

int pmb_gate_write_lava(const struct pmb_gate *g, const char *dir)
{
	static const char *const res[] = { "pass", "fail", "skip" };
	FILE *f = pmb_open_out(dir, "lava.txt");
	char name[256];
	size_t i;

	if (!f)
		return -EIO;
	for (i = 0; i < g->c.ncorr; i++) {
		pmb_ci_name(g->c.corr[i].cc->id, "correctness", name, sizeof(name));
		fprintf(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s MEASUREMENT=%lld "
			   "UNITS=pages>\n", name, res[g->corr[i].st],
			pmb_case_misreported(g->c.corr[i].cc));
	}
	for (i = 0; i < g->c.nrows; i++) {
		const struct pmb_cmp_row *r = &g->c.rows[i];

		row_ci_name(r, name, sizeof(name));
		if (isfinite(r->ratio))
			fprintf(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s "
				   "MEASUREMENT=%.5f UNITS=ratio>\n", name, res[g->rows[i].st],
				r->ratio);
		else
			fprintf(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s>\n", name,
				res[g->rows[i].st]);
	}
	return pmb_close_out(f, dir, "lava.txt");
}

/* ---- the subcommand ---- */

static void gate_usage(FILE *f)
{
	fprintf(f, "usage: pmbench gate BASE CAND [--threshold PCT] [--policy FILE]\n"
		   "                    [--noise-floor AA_COMPARE_DIR] [--out DIR] [--seed S]\n"
		   "       pmbench gate --print-default-policy\n"
		   "  Compare CAND with BASE and judge it by a policy (default: built in, as\n"
		   "  docs/policy-default.txt). Writes compare.tsv, compare.json, report.md,\n"
		   "  junit.xml, gate.ktap, kcidb.json and lava.txt into a new directory\n"
		   "  (default: next to BASE, gate-<base-id>-vs-<cand-id>).\n"
		   "  --threshold PCT    'noise' threshold (default: the policy's, else 5%%)\n"
		   "  --noise-floor DIR  an A/A compare directory: no limit goes below its spread\n"
		   "exit: 0 pass, 1 performance regression, 2 incorrect kernel behaviour (wins),\n"
		   "      3 harness error, 64 usage or bad input, 77 cannot run (a run not\n"
		   "      complete, no timing series in common, too few samples everywhere)\n");
}

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
		pmb_err(0, "policy %s: %s", file, err);
	return ret;
}

static int gate_write(struct pmb_gate *g, const char *outdir)
{
	int err = pmb_compare_write_tsv(&g->c, outdir);

	if (!err)
		err = pmb_compare_write_json(&g->c, outdir);
	if (!err)
		err = write_report(g, outdir);
	if (!err)
		err = pmb_gate_write_junit(g, outdir);
	if (!err)
		err = pmb_gate_write_ktap(g, outdir);
	if (!err)
		err = pmb_gate_write_kcidb(g, outdir);
	if (!err)
		err = pmb_gate_write_lava(g, outdir);
	return err;
}

static int gate_run(struct pmb_gate *g, const struct pmb_cmp_opts *o)
{
	char outdir[4096], want[4096];
	int err;

	if (load_policy(g, o->policy))
		return PMB_EXIT_USAGE;
	g->thr = o->thr_set ? o->thr : g->pol.has_threshold ? g->pol.threshold_pct : o->thr;
	g->floor_dir = o->floor;
	err = pmb_compare_load(o->base, o->cand, g->thr, o->seed, &g->c);
	if (err)
		return pmb_compare_exit(err);
	if (gate_judge(g))
		return PMB_EXIT_USAGE;
	if (o->out)
		snprintf(want, sizeof(want), "%s", o->out);
	else
		pmb_default_outdir(&g->c, "gate", want, sizeof(want));
	err = pmb_mkdir_new(want, outdir, sizeof(outdir));
	if (!err)
		err = gate_write(g, outdir);
	if (err)
		return PMB_EXIT_ERROR;
	pmb_compare_print_header(&g->c, stdout);
	print_verdict(g, stdout, "");
	printf("Wrote %s/{report.md,junit.xml,gate.ktap,kcidb.json,lava.txt,compare.*}\n", outdir);
	return g->exit_code;
}

int cmd_gate(int argc, char **argv)
{
	struct pmb_cmp_opts o = { .thr = PMB_DEFAULT_THRESHOLD_PCT, .seed = 1 };
	struct pmb_gate g;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		gate_usage(stdout);
		return PMB_EXIT_PASS;
	}
	if (pmb_parse_cmp_opts(argc, argv, 1, &o)) {
		gate_usage(stderr);
		return PMB_EXIT_USAGE;
	}
	if (o.print_policy) {
		fputs(pmb_policy_default_text, stdout);
		return PMB_EXIT_PASS;
	}
	memset(&g, 0, sizeof(g));
	ret = gate_run(&g, &o);
	free(g.rows);
	free(g.corr);
	pmb_compare_free(&g.c);
	return ret;
}
