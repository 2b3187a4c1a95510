// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench merge --out DIR RUN...: one run directory from several runs of the
 * same kernel and parameters, e.g. the A and A' boots of an ABBA order, so
 * that drift between boots cancels in a comparison.  Samples are kept as
 * they are (series renumbered per source); each case keeps the worst
 * verdict any source gave it.
 */
#include "harness/cmd.h"
#include "harness/live/run.h"
#include "lib/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MERGE_MAX 16
#define SERIES_STRIDE 1000	/* source k's series n becomes k * 1000 + n */

static int verdict_rank(const char *v)
{
	static const char *const order[] = { "correct", "skip", "oom", "error", "incorrect" };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(v, order[i]))
			return (int)i;
	return 99;
}

/* The n-th tab-separated field of line (0-based) into buf. */
static void field(const char *line, int n, char *buf, size_t len)
{
	const char *p = line;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\t');
		if (p)
			p++;
	}
	if (!p) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\t\n"), p);
}

struct source {
	const char *dir;
	json_t *meta;
	char **case_lines;	/* data rows of cases.tsv */
	size_t ncases;
	char header[2][4096];
};

static int read_lines(const char *path, char header[2][4096], char ***rows, size_t *n)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, i = 0;

	if (!f)
		return -errno;
	*rows = NULL;
	*n = 0;
	while (getline(&line, &cap, f) > 0) {
		if (i < 2) {
			snprintf(header[i++], 4096, "%s", line);
			continue;
		}
		char **nr = realloc(*rows, (*n + 1) * sizeof(char *));

		if (!nr) {
			fclose(f);
			free(line);
			return -ENOMEM;
		}
		*rows = nr;
		(*rows)[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return i == 2 ? 0 : -EINVAL;
}

static int load_source(struct source *s, const char *dir)
{
	char path[PATH_MAX];
	json_error_t jerr;

	s->dir = dir;
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	s->meta = json_load_file(path, 0, &jerr);
	if (!s->meta)
		return pmb_err(-EINVAL, "%s: %s", path, jerr.text);
	snprintf(path, sizeof(path), "%s/cases.tsv", dir);
	if (read_lines(path, s->header, &s->case_lines, &s->ncases))
		return pmb_err(-EINVAL, "%s: not a cases table", path);
	return 0;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Why run b cannot be merged with run a, or NULL. */
static const char *incompatible(const struct source *a, const struct source *b)
{
	if (strcmp(jstr(b->meta, "status", NULL), "complete"))
		return "is not a complete run";
	if (strcmp(jstr(b->meta, "schema", NULL), jstr(a->meta, "schema", NULL)))
		return "has another schema";
	/* Stock and patched images share release and version strings: their hashes tell them apart. */
	if (strcmp(jstr(b->meta, "kernel", "release"), jstr(a->meta, "kernel", "release")) ||
	    strcmp(jstr(b->meta, "kernel", "version"), jstr(a->meta, "kernel", "version")) ||
	    strcmp(jstr(b->meta, "kernel", "image_sha256"), jstr(a->meta, "kernel", "image_sha256")) ||
	    strcmp(jstr(b->meta, "kernel", "config_fnv1a64"), jstr(a->meta, "kernel", "config_fnv1a64")))
		return "comes from another kernel";
	if (!json_equal(json_object_get(b->meta, "params"), json_object_get(a->meta, "params")))
		return "was run with other parameters";
	if (b->ncases != a->ncases || strcmp(b->header[1], a->header[1]))
		return "has other cases";
	return NULL;
}

/* Same schema, kernel and parameters, and complete: or the merge means nothing. */
static int check_compatible(const struct source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = incompatible(&s[0], &s[i]);

		if (why) {
			pmb_err(0, "merge: %s %s (compared with %s)", s[i].dir, why, s[0].dir);
			return -EINVAL;
		}
	}
	return 0;
}

static int write_cases(const char *out, struct source *s, size_t n)
{
	char path[PATH_MAX], a[160], b[160], va[32], vb[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cases.tsv", out);
	f = fopen(path, "wxe");
	if (!f)
		return pmb_err(-errno, "%s", path);
	fputs(s[0].header[0], f);
	fputs(s[0].header[1], f);
	for (size_t r = 0; r < s[0].ncases; r++) {
		const char *pick = s[0].case_lines[r];

		field(pick, 0, a, sizeof(a));
		field(pick, 8, va, sizeof(va));
		for (size_t i = 1; i < n; i++) {
			field(s[i].case_lines[r], 0, b, sizeof(b));
			field(s[i].case_lines[r], 8, vb, sizeof(vb));
			if (strcmp(a, b)) {
				fclose(f);
				pmb_err(0, "merge: %s: case %zu is %s, %s has %s", s[i].dir, r + 1, b, s[0].dir, a);
				return -EINVAL;
			}
			if (strcmp(va, vb))
				pmb_warn("%s: %s in %s, %s in %s; the merge keeps the worse", a, va, s[0].dir, vb,
					 s[i].dir);
			if (verdict_rank(vb) > verdict_rank(va)) {
				pick = s[i].case_lines[r];
				snprintf(va, sizeof(va), "%s", vb);
			}
		}
		fputs(pick, f);
	}
	return fclose(f) ? pmb_err(-errno, "%s", path) : 0;
}

static int write_samples(const char *out, struct source *s, size_t n)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f, *in;
	int err = 0;

	snprintf(path, sizeof(path), "%s/samples.tsv", out);
	f = fopen(path, "wxe");
	if (!f)
		return pmb_err(-errno, "%s", path);
	for (size_t i = 0; i < n && !err; i++) {
		unsigned lineno = 0;

		snprintf(path, sizeof(path), "%s/samples.tsv", s[i].dir);
		in = fopen(path, "re");
		if (!in) {
			err = pmb_err(-errno, "%s", path);
			break;
		}
		while (getline(&line, &cap, in) > 0) {
			char cas[160], method[64];
			long batch, qd, series;

			if (lineno++ < 2) {
				if (!i)
					fputs(line, f);
				continue;
			}
			if (sscanf(line, "%159[^\t]\t%63[^\t]\t%ld\t%ld\t%ld\t", cas, method, &batch, &qd,
				   &series) != 5) {
				err = pmb_err(-EINVAL, "%s:%u: not a sample row", path, lineno);
				break;
			}
			/* Everything after the series column, unchanged. */
			{
				const char *rest = line;

				for (int k = 0; k < 5; k++)
					rest = strchr(rest, '\t') + 1;
				fprintf(f, "%s\t%s\t%ld\t%ld\t%ld\t%s", cas, method, batch, qd,
					(long)i * SERIES_STRIDE + series, rest);
			}
		}
		fclose(in);
	}
	free(line);
	if (fclose(f) && !err)
		err = pmb_err(-errno, "%s/samples.tsv", out);
	return err;
}

static int write_meta(const char *out, struct source *s, size_t n)
{
	json_t *m = json_deep_copy(s[0].meta), *from = json_array();
	char path[PATH_MAX];
	const char *id = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	int err;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(from, json_string(jstr(s[i].meta, "run_id", NULL)));
	json_object_set_new(m, "run_id", json_string(id));
	json_object_set_new(m, "merged_from", from);
	json_object_set_new(m, "status", json_string("complete"));
	snprintf(path, sizeof(path), "%s/meta.json", out);
	err = json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS) ? pmb_err(-EIO, "%s", path) : 0;
	json_decref(m);
	return err;
}

int cmd_merge(int argc, char **argv)
{
	struct source s[MERGE_MAX];
	const char *out = NULL;
	size_t n = 0;
	int err = 0, i;

	memset(s, 0, sizeof(s));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: pmbench merge --out DIR RUN RUN...\n\n"
			       "One run directory from several runs of the same kernel and parameters (for\n"
			       "example the two boots of each kernel in an ABBA order). Samples are kept, their\n"
			       "series renumbered per source (source k: k*%d + series); each case keeps the\n"
			       "worst verdict any source gave it. DIR must not exist.\n", SERIES_STRIDE);
			return PMB_EXIT_PASS;
		}
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] == '-') {
			pmb_err(0, "merge: unknown option '%s'", argv[i]);
			return PMB_EXIT_USAGE;
		} else if (n == MERGE_MAX) {
			pmb_err(0, "merge: at most %d runs", MERGE_MAX);
			return PMB_EXIT_USAGE;
		} else {
			s[n++].dir = argv[i];
		}
	}
	if (!out || n < 1) {
		pmb_err(0, "merge: usage: pmbench merge --out DIR RUN RUN...");
		return PMB_EXIT_USAGE;
	}
	for (size_t k = 0; k < n && !err; k++)
		err = load_source(&s[k], s[k].dir);
	if (!err)
		err = check_compatible(s, n);
	if (err) {
		err = PMB_EXIT_USAGE;
		goto out;
	}
	if (mkdir(out, 0755) < 0) {
		pmb_err(-errno, "merge: %s (a run directory is never overwritten)", out);
		err = PMB_EXIT_USAGE;
		goto out;
	}
	err = write_cases(out, s, n) || write_samples(out, s, n) || write_meta(out, s, n);
	if (err) {
		char path[PATH_MAX];
		static const char *const files[] = { "cases.tsv", "samples.tsv", "meta.json" };

		/* Nothing half-written stays behind. */
		for (size_t k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "%s/%s", out, files[k]);
			unlink(path);
		}
		rmdir(out);
		err = PMB_EXIT_ERROR;
	} else {
		printf("%s\n", out);
	}
out:
	for (size_t k = 0; k < n; k++) {
		json_decref(s[k].meta);
		for (size_t r = 0; r < s[k].ncases; r++)
			free(s[k].case_lines[r]);
		free(s[k].case_lines);
	}
	return err;
}
