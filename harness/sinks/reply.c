// SPDX-License-Identifier: GPL-2.0
/*
 * reply.txt: the verdict as a maintainer pastes it into a mail, unchanged.
 * Plain ASCII, no line longer than 72 columns: the verdict, what was
 * compared (base and candidate: kernel, source, commit, series), the
 * correctness result, the one table that matters (every timed series, the
 * ones that did not pass first) and the command that reproduces it.
 *
 * Every string can come from an untrusted run directory: bytes outside
 * printable ASCII become '?', and everything is wrapped, so no input can
 * make a line longer or add one of its own.
 */
#include "sink.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_COLS	72
#define REPLY_ROWS	24	/* timing rows shown at most; report.md has them all */

/* s as printable ASCII on one line, at most len - 1 bytes. */
static void ascii(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; s && *s && n + 1 < len; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : (*s == '\n' || *s == '\t') ? ' ' : '?';
	out[n] = '\0';
}

/*
 * Words of s wrapped at REPLY_COLS: the first line starts with `first`, the
 * others with `indent` (same width or not).  A word too long for a line is
 * cut where the line ends.
 */
static void wrap(FILE *f, const char *first, const char *indent, const char *s)
{
	char buf[4096];
	const char *p = buf, *pre = first;

	ascii(s, buf, sizeof(buf));
	while (*p == ' ')
		p++;
	do {
		size_t room = REPLY_COLS - strlen(pre), n = 0, last_space = 0;

		fputs(pre, f);
		while (p[n] && n < room) {
			if (p[n] == ' ')
				last_space = n;
			n++;
		}
		if (p[n] && p[n] != ' ' && last_space)
			n = last_space;
		while (n && p[n - 1] == ' ')
			n--;
		fwrite(p, 1, n, f);
		fputc('\n', f);
		p += n;
		while (*p == ' ')
			p++;
		pre = indent;
	} while (*p);
}

/*
 * A shell command over several lines: breaks between words with " \",
 * and inside a word too long for a line with a backslash-newline, which
 * the shell removes (outside quotes) or between two quoted halves.
 */
static void wrap_command(FILE *f, const char *cmd)
{
	char buf[4096];
	const char *p = buf;
	size_t col = 0;
	const size_t lim = REPLY_COLS - 2;	/* room for " \" */
	bool quoted = false;

	ascii(cmd, buf, sizeof(buf));
	fputs("  ", f);
	col = 2;
	while (*p) {
		size_t w = strcspn(p, " ");

		if (!w) {
			p++;
			continue;
		}
		if (col > 2 && col + 1 + w > lim) {
			fputs(" \\\n    ", f);
			col = 4;
		} else if (col > 2) {
			fputc(' ', f);
			col++;
		}
		for (size_t i = 0; i < w; i++) {
			/*
			 * Inside a word the continuation is not indented: the
			 * shell drops backslash-newline, and spaces would split
			 * the word.  A quote is closed before it and reopened
			 * after; an escaped character is never split from its
			 * backslash.
			 */
			if (col >= lim && !(i > 0 && p[i - 1] == '\\' && !quoted)) {
				fputs(quoted ? "'\\\n'" : "\\\n", f);
				col = quoted ? 1 : 0;
			}
			if (p[i] == '\'' && !(i > 0 && p[i - 1] == '\\' && !quoted))
				quoted = !quoted;
			fputc(p[i], f);
			col++;
		}
		p += w;
	}
	fputc('\n', f);
}

static double kv_num(const struct pmb_item *it, const char *key)
{
	for (size_t k = 0; k < it->nkv; k++)
		if (!strcmp(it->kv[k].key, key) && !it->kv[k].str)
			return it->kv[k].num;
	return NAN;
}

/* Failed and inconclusive first, then the rest, each in the order given. */
static int rank(enum pmb_status st)
{
	return st == PMB_ST_FAIL ? 0 : st == PMB_ST_INCONCLUSIVE ? 1 : st == PMB_ST_PASS ? 2 : 3;
}

static void timing_table(FILE *f, const struct pmb_suite *s)
{
	const char *last = NULL;
	size_t shown = 0;

	if (!s->n) {
		fputs("No timed series in common.\n", f);
		return;
	}
	fputs("Timing, CAND/BASE median ns per entry, 95% CI:\n\n", f);
	fprintf(f, "  %-32s %7s %17s  %s\n", "case / series", "ratio", "95% CI", "verdict");
	for (int r = 0; r < 4; r++)
		for (size_t i = 0; i < s->n; i++) {
			const struct pmb_item *it = &s->items[i];
			char id[80], sfx[64], ci[40], ratio[24];
			double lo = kv_num(it, "ci_lo"), hi = kv_num(it, "ci_hi");

			if (rank(it->st) != r)
				continue;
			if (shown++ >= REPLY_ROWS)
				continue;
			if (!last || strcmp(last, it->id)) {
				ascii(it->id, id, sizeof(id));
				if (strlen(it->id) > sizeof(id) - 1)
					id[sizeof(id) - 2] = '~';
				fprintf(f, "  %s\n", id);
				last = it->id;
			}
			ascii(it->suffix, sfx, sizeof(sfx));
			snprintf(ratio, sizeof(ratio), isfinite(it->m.value) ? "%.3f" : "-", it->m.value);
			if (isfinite(lo) && isfinite(hi))
				snprintf(ci, sizeof(ci), "%.3f..%.3f", lo, hi);
			else
				snprintf(ci, sizeof(ci), "-");
			fprintf(f, "    %-30.30s %7.7s %17.17s  %s\n", sfx, ratio, ci,
				it->st == PMB_ST_INCONCLUSIVE ? "UNSURE" : pmb_status_names[it->st]);
		}
	if (shown > REPLY_ROWS)
		fprintf(f, "  (%zu more series, all in report.md)\n", shown - REPLY_ROWS);
	if (s->count[PMB_ST_INCONCLUSIVE])
		fputs("  UNSURE: inconclusive, the interval straddles the limit (or the\n"
		      "  host was busy): no regression is claimed from it.\n", f);
}

static void correctness(FILE *f, const struct pmb_suite *s)
{
	size_t bad = s->count[PMB_ST_FAIL], listed = 0;
	char line[160];

	snprintf(line, sizeof(line), "Correctness: %zu case(s) correct, %zu incorrect, %zu not judged.",
		 s->count[PMB_ST_PASS], bad, s->count[PMB_ST_SKIP] + s->count[PMB_ST_INCONCLUSIVE]);
	wrap(f, "", "", line);
	for (size_t i = 0; i < s->n; i++) {
		const struct pmb_item *it = &s->items[i];
		char text[1024], id[160];

		if (it->st != PMB_ST_FAIL)
			continue;
		if (listed++ == 8) {
			fprintf(f, "  (%zu more in report.md)\n", bad - 8);
			break;
		}
		ascii(it->id, id, sizeof(id));
		snprintf(text, sizeof(text), "%s: %s", id, it->msg ? it->msg : "");
		wrap(f, "- ", "  ", text);
	}
}

static int reply_write(FILE *f, const struct pmb_report *r)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "pagemap-bench: %s (exit %d)", r->verdict ? r->verdict : "?",
		 r->exit_code);
	wrap(f, "", "  ", buf);
	fputc('\n', f);
	if (r->base_desc)
		wrap(f, "Base:      ", "           ", r->base_desc);
	if (r->cand_desc)
		wrap(f, "Candidate: ", "           ", r->cand_desc);
	if (r->timing)
		wrap(f, "Timing:    ", "           ", r->timing);
	if (r->policy)
		wrap(f, "Policy:    ", "           ", r->policy);
	fputc('\n', f);
	if (r->nsuites > 0) {
		correctness(f, &r->suite[0]);
		fputc('\n', f);
	}
	if (r->nsuites > 1) {
		timing_table(f, &r->suite[1]);
		fputc('\n', f);
	}
	if (r->reproduce) {
		fputs("Reproduce:\n", f);
		wrap_command(f, r->reproduce);
	}
	return ferror(f) ? -1 : 0;
}

const struct pmb_sink pmb_sink_reply = { .name = "reply", .file = "reply.txt", .write = reply_write };
