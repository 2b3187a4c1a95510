// SPDX-License-Identifier: GPL-2.0
/* Results directories as the consumers see them (see rundata.h). */
#include "rundata.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE	(1u << 30)

static int slurp(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (!f)
		return pmb_err(-errno, "%s", path);
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		if (cap >= MAX_FILE) {
			free(buf);
			fclose(f);
			return pmb_err(-EFBIG, "%s", path);
		}
		cap *= 2;
		char *nb = realloc(buf, cap + 1);

		if (!nb)
			free(buf);
		buf = nb;
	}
	if (!buf) {
		fclose(f);
		return pmb_err(-ENOMEM, "%s", path);
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return pmb_err(-EIO, "%s", path);
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return pmb_err(-EINVAL, "%s: contains a NUL byte", path);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Split s in place at c; returns the count and stores up to max pointers. */
static size_t split(char *s, char c, char **v, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *e = strchr(s, c);

		if (n < max)
			v[n] = s;
		n++;
		if (!e)
			return n;
		*e = '\0';
		s = e + 1;
	}
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

int pmb_tsv_load(const char *path, const char *table, struct pmb_tsv *t)
{
	char want[96], *line, *next;
	size_t len, lineno = 2, maxrows;
	int err;

	memset(t, 0, sizeof(*t));
	err = slurp(path, &t->buf, &len);
	if (err)
		return err;
	snprintf(want, sizeof(want), "# pagemap-bench %s v1", table);
	next = strchr(t->buf, '\n');
	if (!next || (size_t)(next - t->buf) != strlen(want) ||
	    strncmp(t->buf, want, strlen(want))) {
		pmb_err(0, "%s:1: schema line is not '%s' (different schema version?)", path, want);
		goto inval;
	}
	line = next + 1;
	next = strchr(line, '\n');
	if (!next) {
		pmb_err(0, "%s:2: no header row", path);
		goto inval;
	}
	*next = '\0';
	t->ncols = count_char(line, '\t') + 1;
	t->hdr = calloc(t->ncols, sizeof(char *));
	maxrows = count_char(next + 1, '\n') + 1;
	t->cells = calloc(maxrows * t->ncols, sizeof(char *));
	if (!t->hdr || !t->cells) {
		pmb_tsv_free(t);
		return pmb_err(-ENOMEM, "%s", path);
	}
	split(line, '\t', t->hdr, t->ncols);
	for (line = next + 1; *line; line = next) {
		size_t n;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		n = split(line, '\t', t->cells + t->nrows * t->ncols, t->ncols);
		if (n != t->ncols) {
			pmb_err(0, "%s:%zu: %zu fields, the header has %zu", path, lineno, n, t->ncols);
			goto inval;
		}
		t->nrows++;
	}
	return 0;
inval:
	pmb_tsv_free(t);
	return -EINVAL;
}

int pmb_tsv_col(const struct pmb_tsv *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->hdr[i], name))
			return (int)i;
	return -1;
}

void pmb_tsv_free(struct pmb_tsv *t)
{
	free(t->buf);
	free(t->cells);
	free(t->hdr);
	memset(t, 0, sizeof(*t));
}

/* Column indexes looked up once; a missing column is a malformed file. */
static int need_cols(const struct pmb_tsv *t, const char *path, const char *const *names,
		     size_t n, int *idx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		idx[i] = pmb_tsv_col(t, names[i]);
		if (idx[i] < 0)
			return pmb_err(-EINVAL, "%s: no column '%s'", path, names[i]);
	}
	return 0;
}

static const char *const case_cols[] = {
	"case", "kind", "swapout", "verdict", "reason", "pages", "dirty_pct", "swapped_pct",
	"true_none", "true_present", "true_swapped",
	"t_none_r_none", "t_none_r_present", "t_none_r_swapped",
	"t_present_r_none", "t_present_r_present", "t_present_r_swapped",
	"t_swapped_r_none", "t_swapped_r_present", "t_swapped_r_swapped",
	"swap_bad_type", "swap_bad_offset", "swap_dup",
	"swap_content_ok", "swap_content_bad", "swap_content_unchecked",
};
#define NCASE_COLS (sizeof(case_cols) / sizeof(case_cols[0]))

static int parse_case(const struct pmb_tsv *t, size_t row, const int *ix, const char *path,
		      struct pmb_rcase *c)
{
	long long *ints[] = {
		&c->true_n[0], &c->true_n[1], &c->true_n[2],
		&c->cm[0][0], &c->cm[0][1], &c->cm[0][2], &c->cm[1][0], &c->cm[1][1], &c->cm[1][2],
		&c->cm[2][0], &c->cm[2][1], &c->cm[2][2],
		&c->swap_bad_type, &c->swap_bad_offset, &c->swap_dup,
		&c->content_ok, &c->content_bad, &c->content_unchecked,
	};
	size_t i;

	c->id = pmb_tsv_cell(t, row, ix[0]);
	c->kind = pmb_tsv_cell(t, row, ix[1]);
	c->swapout = pmb_tsv_cell(t, row, ix[2]);
	c->verdict = pmb_tsv_cell(t, row, ix[3]);
	c->reason = pmb_tsv_cell(t, row, ix[4]);
	{
		int v = pmb_tsv_col(t, "view");

		c->view = v >= 0 && *pmb_tsv_cell(t, row, v) ? pmb_tsv_cell(t, row, v) : "self";
	}
	if (!*c->id || !*c->kind)
		return pmb_err(-EINVAL, "%s:%zu: empty case or kind", path, row + 3);
	if (pmb_parse_ll(pmb_tsv_cell(t, row, ix[5]), &c->pages) ||
	    pmb_parse_double(pmb_tsv_cell(t, row, ix[6]), &c->dirty_pct) ||
	    pmb_parse_double(pmb_tsv_cell(t, row, ix[7]), &c->swapped_pct))
		return pmb_err(-EINVAL, "%s:%zu: bad pages/dirty_pct/swapped_pct", path, row + 3);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		const char *s = pmb_tsv_cell(t, row, ix[8 + i]);

		/* A skipped case may leave its counts as "-". */
		if (!strcmp(s, "-") || !*s) {
			*ints[i] = 0;
			continue;
		}
		if (pmb_parse_ll(s, ints[i]) || *ints[i] < 0)
			return pmb_err(-EINVAL, "%s:%zu: column %s: '%s' is not a count",
				       path, row + 3, case_cols[8 + i], s);
	}
	return 0;
}

static int load_cases(struct pmb_run *r)
{
	char path[4200];
	int ix[NCASE_COLS], err;
	size_t i, j;

	snprintf(path, sizeof(path), "%s/cases.tsv", r->dir);
	err = pmb_tsv_load(path, "cases", &r->cases_tsv);
	if (err)
		return err;
	err = need_cols(&r->cases_tsv, path, case_cols, NCASE_COLS, ix);
	if (err)
		return err;
	r->cases = calloc(r->cases_tsv.nrows + 1, sizeof(*r->cases));
	if (!r->cases)
		return pmb_err(-ENOMEM, "%s", path);
	for (i = 0; i < r->cases_tsv.nrows; i++) {
		err = parse_case(&r->cases_tsv, i, ix, path, &r->cases[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcmp(r->cases[j].id, r->cases[i].id))
				return pmb_err(-EINVAL, "%s:%zu: case '%s' appears twice",
					       path, i + 3, r->cases[i].id);
		r->ncases++;
	}
	return 0;
}

long pmb_run_find_case(const struct pmb_run *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->ncases; i++)
		if (!strcmp(r->cases[i].id, id))
			return (long)i;
	return -1;
}

long pmb_run_find_series(const struct pmb_run *r, const char *case_id, const char *method,
			 long long batch, long long qd)
{
	size_t i;

	for (i = 0; i < r->nseries; i++) {
		const struct pmb_series *s = &r->series[i];

		if (s->batch == batch && s->qd == qd && !strcmp(s->method, method) &&
		    !strcmp(r->cases[s->case_idx].id, case_id))
			return (long)i;
	}
	return -1;
}

static int push_sample(struct pmb_series *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		double *nv = realloc(s->v, cap * sizeof(double));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static struct pmb_series *get_series(struct pmb_run *r, size_t cidx, const char *method,
				     long long batch, long long qd, size_t *cap)
{
	struct pmb_series *s;
	size_t i;

	/* Rows of one series are contiguous in practice: look at the last one first. */
	for (i = r->nseries; i-- > 0;) {
		s = &r->series[i];
		if (s->case_idx == cidx && s->batch == batch && s->qd == qd &&
		    !strcmp(s->method, method))
			return s;
	}
	if (r->nseries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;

		s = realloc(r->series, ncap * sizeof(*s));
		if (!s)
			return NULL;
		r->series = s;
		*cap = ncap;
	}
	s = &r->series[r->nseries++];
	memset(s, 0, sizeof(*s));
	s->case_idx = cidx;
	s->method = method;
	s->batch = batch;
	s->qd = qd;
	return s;
}

static const char *const sample_cols[] = {
	"case", "method", "batch", "qd", "warmup", "discarded", "entries", "ns",
};
#define NSAMPLE_COLS (sizeof(sample_cols) / sizeof(sample_cols[0]))

static int load_samples(struct pmb_run *r)
{
	struct pmb_tsv *t = &r->samples_tsv;
	char path[4200];
	int ix[NSAMPLE_COLS], err;
	size_t i, cap = 0;

	snprintf(path, sizeof(path), "%s/samples.tsv", r->dir);
	err = pmb_tsv_load(path, "samples", t);
	if (err)
		return err;
	err = need_cols(t, path, sample_cols, NSAMPLE_COLS, ix);
	if (err)
		return err;
	for (i = 0; i < t->nrows; i++) {
		long long batch, qd, warm, disc, entries, ns;
		struct pmb_series *s;
		long cidx;

		if (pmb_parse_ll(pmb_tsv_cell(t, i, ix[2]), &batch) ||
		    pmb_parse_ll(pmb_tsv_cell(t, i, ix[3]), &qd) ||
		    pmb_parse_ll(pmb_tsv_cell(t, i, ix[4]), &warm) ||
		    pmb_parse_ll(pmb_tsv_cell(t, i, ix[5]), &disc) ||
		    pmb_parse_ll(pmb_tsv_cell(t, i, ix[6]), &entries) ||
		    pmb_parse_ll(pmb_tsv_cell(t, i, ix[7]), &ns) || ns < 0 || entries < 0)
			return pmb_err(-EINVAL, "%s:%zu: a number field is malformed", path, i + 3);
		cidx = pmb_run_find_case(r, pmb_tsv_cell(t, i, ix[0]));
		if (cidx < 0)
			return pmb_err(-EINVAL, "%s:%zu: case '%s' is not in cases.tsv",
				       path, i + 3, pmb_tsv_cell(t, i, ix[0]));
		if (warm || disc || !entries) {
			r->rows_skipped++;
			continue;
		}
		s = get_series(r, (size_t)cidx, pmb_tsv_cell(t, i, ix[1]), batch, qd, &cap);
		if (!s || push_sample(s, (double)ns / (double)entries))
			return pmb_err(-ENOMEM, "%s", path);
	}
	return 0;
}

static const char *meta_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static int load_meta(struct pmb_run *r)
{
	char path[4200];
	json_error_t jerr;
	json_t *k;

	snprintf(path, sizeof(path), "%s/meta.json", r->dir);
	r->meta = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!r->meta) {
		if (jerr.line < 0 || strstr(jerr.text, "unable to open"))
			return pmb_err(-ENOENT, "%s: %s", path, jerr.text);
		return pmb_err(-EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	}
	if (!json_is_object(r->meta))
		return pmb_err(-EINVAL, "%s: not a JSON object", path);
	r->schema = meta_str(r->meta, "schema");
	r->run_id = meta_str(r->meta, "run_id");
	r->status = meta_str(r->meta, "status");
	k = json_object_get(r->meta, "kernel");
	r->krelease = meta_str(k, "release");
	r->kversion = meta_str(k, "version");
	r->kconfig = meta_str(k, "config_fnv1a64");
	r->kimage = meta_str(k, "image_sha256");
	if (!*r->schema)
		return pmb_err(-EINVAL, "%s: no \"schema\"", path);
	if (!*r->run_id)
		return pmb_err(-EINVAL, "%s: no \"run_id\"", path);
	return 0;
}

/*
 * Loads meta.json first and stops there when the schema is not ours: the
 * caller reports a schema mismatch rather than a parse error deep inside.
 */
int pmb_run_load(const char *dir, struct pmb_run *r)
{
	size_t n = strlen(dir);
	int err;

	memset(r, 0, sizeof(*r));
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n >= sizeof(r->dir))
		return pmb_err(-ENAMETOOLONG, "%s", dir);
	memcpy(r->dir, dir, n);
	r->dir[n] = '\0';
	err = load_meta(r);
	if (err || strcmp(r->schema, PMB_SCHEMA))
		return err;
	/*
	 * An interrupted run may end in a half-written row: its tables are not
	 * read at all, and the caller refuses it by its status (exit 77).
	 */
	if (strcmp(r->status, "complete"))
		return 0;
	err = load_cases(r);
	if (!err)
		err = load_samples(r);
	return err;
}

void pmb_run_free(struct pmb_run *r)
{
	size_t i;

	for (i = 0; i < r->nseries; i++)
		free(r->series[i].v);
	free(r->series);
	free(r->cases);
	pmb_tsv_free(&r->cases_tsv);
	pmb_tsv_free(&r->samples_tsv);
	json_decref(r->meta);
	memset(r, 0, sizeof(*r));
}

const char *pmb_case_state(const struct pmb_rcase *c)
{
	if (c->true_n[2] > 0)
		return "swapped";
	if (c->true_n[0] > 0)
		return "holes";
	return "resident";
}

long long pmb_case_misreported(const struct pmb_rcase *c)
{
	long long n = 0;
	int t, rp;

	for (t = 0; t < 3; t++)
		for (rp = 0; rp < 3; rp++)
			if (t != rp)
				n += c->cm[t][rp];
	return n;
}
