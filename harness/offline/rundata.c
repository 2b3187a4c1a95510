// SPDX-License-Identifier: GPL-2.0
/* Results directories as the consumers see them (see rundata.h). */
#include "rundata.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pmb_meta_str(json_t *meta, const char *key, const char *sub)
{
	json_t *v = json_object_get(meta, key);
	const char *s;

	if (sub)
		v = json_object_get(v, sub);
	s = json_string_value(v);
	return s ? s : "";
}

/* A whole integer in [min, max]. */
static int get_int(const struct pmb_tsv *t, size_t row, int col, long long min, long long max,
		   long long *out)
{
	const char *s = pmb_tsv_get(t, row, col);

	if (pmb_parse_ll(s, out) || *out < min || *out > max)
		return pmb_fail(-EINVAL, "%s:%zu: %s '%.40s' is not a whole number from %lld to %lld",
				t->what, pmb_tsv_line(row), t->t->cols[col].name, s, min, max);
	return 0;
}

static int get_pct(const struct pmb_tsv *t, size_t row, int col, double *out)
{
	const char *s = pmb_tsv_get(t, row, col);

	if (pmb_parse_double(s, out) || *out < 0 || *out > 100)
		return pmb_fail(-EINVAL, "%s:%zu: %s '%.40s' is not a percentage", t->what,
				pmb_tsv_line(row), t->t->cols[col].name, s);
	return 0;
}

/* A name from the file that later becomes part of a path or a CI name. */
static int get_name(const struct pmb_tsv *t, size_t row, int col, const char **out)
{
	const char *s = pmb_tsv_get(t, row, col);

	if (!pmb_safe_name(s))
		return pmb_fail(-EINVAL, "%s:%zu: %s '%.40s' is not a name ([A-Za-z0-9._+-], at most 200)",
				t->what, pmb_tsv_line(row), t->t->cols[col].name, s);
	*out = s;
	return 0;
}

/*
 * A count may be "-" (a skipped case), else a whole number no larger than
 * the steps of a sequence times the pages: no sum of counts can overflow.
 */
static int get_count(const struct pmb_tsv *t, size_t row, int col, long long pages, long long *out)
{
	const char *s = pmb_tsv_get(t, row, col);

	if (!strcmp(s, "-") || !*s) {
		*out = 0;
		return 0;
	}
	return get_int(t, row, col, 0, 8 * pages, out);
}

static int parse_case(const struct pmb_tsv *t, size_t row, struct pmb_rcase *c)
{
	static const int more[] = { PMB_C_SWAP_BAD_TYPE, PMB_C_SWAP_BAD_OFFSET, PMB_C_SWAP_DUP,
				    PMB_C_SWAP_CONTENT_OK, PMB_C_SWAP_CONTENT_BAD, PMB_C_SWAP_CONTENT_UNCHECKED };
	long long *mv[] = { &c->swap_bad_type, &c->swap_bad_offset, &c->swap_dup,
			    &c->content_ok, &c->content_bad, &c->content_unchecked };
	const char *v;
	int err, vi;

	err = get_name(t, row, PMB_C_CASE, &c->id) || get_name(t, row, PMB_C_KIND, &c->kind) ||
	      get_name(t, row, PMB_C_SWAPOUT, &c->swapout) ||
	      get_int(t, row, PMB_C_PAGES, 0, (long long)PMB_MAX_CASE_PAGES, &c->pages) ||
	      get_pct(t, row, PMB_C_DIRTY_PCT, &c->dirty_pct) || get_pct(t, row, PMB_C_SWAPPED_PCT, &c->swapped_pct) ||
	      get_int(t, row, PMB_C_START_PMD_POS, -1, PMB_PMD_PAGES - 1, &c->start_pmd_pos);
	if (err)
		return -EINVAL;
	v = pmb_tsv_get(t, row, PMB_C_VERDICT);
	vi = pmb_case_verdict_parse(v);
	if (vi < 0)
		return pmb_fail(-EINVAL, "%s:%zu: verdict '%.40s' is not one of correct, incorrect, oom, skip, error",
				t->what, pmb_tsv_line(row), v);
	c->verdict = (enum pmb_case_verdict)vi;
	c->reason = pmb_tsv_get(t, row, PMB_C_REASON);
	c->view = pmb_tsv_get(t, row, PMB_C_VIEW);
	c->methods_wrong = pmb_tsv_get(t, row, PMB_C_METHODS_WRONG);
	c->sampling = pmb_tsv_get(t, row, PMB_C_SAMPLING);
	if (pmb_word_index(pmb_views, c->view) < 0)
		return pmb_fail(-EINVAL, "%s:%zu: view '%.40s' is not self, second-mapper or fork-child",
				t->what, pmb_tsv_line(row), c->view);
	for (int s = 0; s < PMS_TRUTHS; s++) {
		long long sum = 0;

		if (get_count(t, row, pmb_true_col(s), c->pages, &c->true_n[s]))
			return -EINVAL;
		for (int r = 0; r < PMS_NR; r++) {
			if (get_count(t, row, pmb_cm_col(s, r), c->pages, &c->cm[s][r]))
				return -EINVAL;
			sum += c->cm[s][r];
		}
		if (sum != c->true_n[s])
			return pmb_fail(-EINVAL, "%s:%zu: the confusion row of true %s sums to %lld, not %lld",
					t->what, pmb_tsv_line(row), pm_state_name(s), sum, c->true_n[s]);
	}
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (get_count(t, row, more[i], c->pages, mv[i]))
			return -EINVAL;
	if (c->content_ok + c->content_bad + c->content_unchecked > c->cm[PMS_SWAPPED][PMS_SWAPPED] +
	    c->cm[PMS_NONE][PMS_SWAPPED] + c->cm[PMS_PRESENT][PMS_SWAPPED])
		return pmb_fail(-EINVAL, "%s:%zu: more swap slots checked than pages reported swapped",
				t->what, pmb_tsv_line(row));
	return 0;
}

static int load_cases(struct pmb_run *r)
{
	char path[4200];
	int err;

	snprintf(path, sizeof(path), "%s/cases.tsv", r->dir);
	err = pmb_tsv_load(path, &pmb_cases_table, PMB_MAX_TABLE_BYTES, &r->cases_tsv);
	if (err)
		return err;
	r->cases = calloc(r->cases_tsv.nrows + 1, sizeof(*r->cases));
	if (!r->cases)
		return pmb_err(-ENOMEM, "%s", path);
	for (size_t i = 0; i < r->cases_tsv.nrows; i++) {
		err = parse_case(&r->cases_tsv, i, &r->cases[i]);
		if (err)
			return err;
		if (pmb_run_find_case(r, r->cases[i].id) >= 0)
			return pmb_fail(-EINVAL, "%s:%zu: case '%s' appears twice", path, pmb_tsv_line(i),
					r->cases[i].id);
		if (pmb_strmap_put(&r->case_map, r->cases[i].id, i))
			return pmb_err(-ENOMEM, "%s", path);
		r->ncases++;
	}
	return 0;
}

long pmb_run_find_case(const struct pmb_run *r, const char *id)
{
	size_t i = pmb_strmap_get(&r->case_map, id);

	return i == (size_t)-1 ? -1 : (long)i;
}

static void series_key(char *buf, size_t len, size_t cidx, const char *method, long long batch,
		       long long qd)
{
	snprintf(buf, len, "%zu\t%s\t%lld\t%lld", cidx, method, batch, qd);
}

long pmb_run_find_series(const struct pmb_run *r, const char *case_id, const char *method,
			 long long batch, long long qd)
{
	long c = pmb_run_find_case(r, case_id);
	char key[512];
	size_t i;

	if (c < 0)
		return -1;
	series_key(key, sizeof(key), (size_t)c, method, batch, qd);
	i = pmb_strmap_get(&r->series_map, key);
	return i == (size_t)-1 ? -1 : (long)i;
}

static int push_sample(struct pmb_series *s, double v, long long state)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		double *nv = realloc(s->v, cap * sizeof(double));
		long long *ns;

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		ns = realloc(s->state, cap * sizeof(long long));
		if (!ns)
			return -ENOMEM;
		s->state = ns;
		s->cap = cap;
	}
	s->v[s->n] = v;
	s->state[s->n++] = state;
	return 0;
}

static struct pmb_series *get_series(struct pmb_run *r, size_t cidx, const char *method,
				     long long batch, long long qd, size_t *cap)
{
	struct pmb_series *s;
	char key[512];
	size_t i;

	series_key(key, sizeof(key), cidx, method, batch, qd);
	i = pmb_strmap_get(&r->series_map, key);
	if (i != (size_t)-1)
		return &r->series[i];
	if (r->nseries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;

		s = realloc(r->series, ncap * sizeof(*s));
		if (!s)
			return NULL;
		r->series = s;
		*cap = ncap;
	}
	if (pmb_strmap_put(&r->series_map, key, r->nseries))
		return NULL;
	s = &r->series[r->nseries++];
	memset(s, 0, sizeof(*s));
	s->case_idx = cidx;
	s->method = method;
	s->batch = batch;
	s->qd = qd;
	return s;
}

/* Every field of a sample row, checked against its case. */
struct srow {
	const char *method;
	long long batch, qd, series, round, warm, disc, entries, reads, ns, pos;
	long cidx;
};

bool pmb_is_probe(const char *method)
{
	return !strcmp(method, pmb_methods[PMB_METHOD_probe].name);
}

long long pmb_sample_max_entries(const char *method, long long pages)
{
	/* The host probe's entries are its own chase's steps, not the case's pages. */
	return pmb_is_probe(method) ? 1 << 24 : pages;
}

static int parse_sample(const struct pmb_run *r, size_t i, struct srow *s)
{
	const struct pmb_tsv *t = &r->samples_tsv;
	const char *id = pmb_tsv_get(t, i, PMB_S_CASE);
	long long pages;

	s->cidx = pmb_run_find_case(r, id);
	if (s->cidx < 0)
		return pmb_fail(-EINVAL, "%s:%zu: case '%.60s' is not in cases.tsv", t->what,
				pmb_tsv_line(i), id);
	pages = r->cases[s->cidx].pages;
	if (get_name(t, i, PMB_S_METHOD, &s->method))
		return -EINVAL;
	pages = pmb_sample_max_entries(s->method, pages);
	if (get_int(t, i, PMB_S_BATCH, 1, (long long)PMB_MAX_CASE_PAGES, &s->batch) ||
	    get_int(t, i, PMB_S_QD, 1, 1 << 20, &s->qd) ||
	    get_int(t, i, PMB_S_SERIES, 0, INT_MAX, &s->series) ||
	    get_int(t, i, PMB_S_ROUND, 0, INT_MAX, &s->round) ||
	    get_int(t, i, PMB_S_WARMUP, 0, 1, &s->warm) ||
	    get_int(t, i, PMB_S_DISCARDED, 0, 1, &s->disc) ||
	    get_int(t, i, PMB_S_ENTRIES, 0, pages, &s->entries) ||
	    get_int(t, i, PMB_S_READS, 0, 4 * pages + 64, &s->reads) ||
	    get_int(t, i, PMB_S_NS, 0, INT64_MAX / 4, &s->ns) ||
	    get_int(t, i, PMB_S_PMD_POS, -1, PMB_PMD_PAGES - 1, &s->pos))
		return -EINVAL;
	return 0;
}

static int load_samples(struct pmb_run *r)
{
	struct pmb_tsv *t = &r->samples_tsv;
	char path[4200];
	size_t cap = 0;
	int err;

	snprintf(path, sizeof(path), "%s/samples.tsv", r->dir);
	err = pmb_tsv_load(path, &pmb_samples_table, PMB_MAX_TABLE_BYTES, t);
	if (err)
		return err;
	for (size_t i = 0; i < t->nrows; i++) {
		struct pmb_series *s;
		struct srow row;

		if (parse_sample(r, i, &row))
			return -EINVAL;
		if (row.warm || row.disc || !row.entries) {
			r->rows_skipped++;
			continue;
		}
		s = get_series(r, (size_t)row.cidx, row.method, row.batch, row.qd, &cap);
		if (!s || push_sample(s, (double)row.ns / (double)row.entries, row.series))
			return pmb_err(-ENOMEM, "%s", path);
	}
	return 0;
}

static int load_meta(struct pmb_run *r)
{
	static const char *const statuses[] = { "running", "complete", "interrupted", "failed", NULL };
	char path[4200], *buf;
	json_error_t jerr;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/meta.json", r->dir);
	err = pmb_read_file(path, PMB_MAX_META_BYTES, &buf, &len);
	if (err)
		return err;
	r->meta = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!r->meta)
		return pmb_fail(-EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(r->meta))
		return pmb_fail(-EINVAL, "%s: not a JSON object", path);
	r->schema = pmb_meta_str(r->meta, "schema", NULL);
	r->run_id = pmb_meta_str(r->meta, "run_id", NULL);
	r->status = pmb_meta_str(r->meta, "status", NULL);
	r->krelease = pmb_meta_str(r->meta, "kernel", "release");
	r->kversion = pmb_meta_str(r->meta, "kernel", "version");
	r->kconfig = pmb_meta_str(r->meta, "kernel", "config_fnv1a64");
	r->kimage = pmb_meta_str(r->meta, "kernel", "image_sha256");
	r->environment = pmb_meta_str(r->meta, "environment", NULL);
	if (!*r->environment)
		r->environment = "host";
	if (!*r->schema)
		return pmb_fail(-EINVAL, "%s: no \"schema\"", path);
	if (!pmb_safe_name(r->run_id))
		return pmb_fail(-EINVAL, "%s: run_id '%.60s' is not a name ([A-Za-z0-9._+-], at most 200)",
				path, r->run_id);
	if (pmb_word_index(statuses, r->status) < 0)
		return pmb_fail(-EINVAL, "%s: status '%.40s' is not running, complete, interrupted or failed",
				path, r->status);
	/* Printed into reports and CI files: a name, like the run id (issue 12). */
	if (!pmb_safe_name(r->environment))
		return pmb_fail(-EINVAL, "%s: environment '%.40s' is not a name (host, qemu-icount, "
				"qemu-tcg, qemu-kvm)", path, r->environment);
	return 0;
}

/*
 * What disturbed the run's timing: meta.json's host_noise (written by the
 * run itself; in a guest it sees only the guest) and host-noise.json next to
 * it (written by vm.sh, which sees the host a guest cannot).  Busy when
 * either says so.  Both optional; malformed is an error.
 */
static int noise_of(struct pmb_run *r, json_t *hn, const char *where)
{
	json_t *b = json_object_get(hn, "busy");
	size_t used = strlen(r->busy_why);

	if (!json_is_object(hn) || !json_is_boolean(b))
		return pmb_fail(-EINVAL, "%s: host_noise has no boolean \"busy\"", where);
	if (json_is_true(b)) {
		r->busy = true;
		if (used < sizeof(r->busy_why))
			snprintf(r->busy_why + used, sizeof(r->busy_why) - used, "%s%s", used ? "; " : "",
				 pmb_meta_str(hn, "why", NULL));
	}
	return 0;
}

static int load_noise(struct pmb_run *r)
{
	json_t *hn = json_object_get(r->meta, "host_noise"), *file;
	char path[4200], *buf;
	json_error_t jerr;
	size_t len;
	int err = 0;

	if (hn)
		err = noise_of(r, hn, r->dir);
	snprintf(path, sizeof(path), "%s/host-noise.json", r->dir);
	if (err || access(path, F_OK))
		return err;
	err = pmb_read_file(path, PMB_MAX_META_BYTES, &buf, &len);
	if (err)
		return err;
	file = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!file)
		return pmb_fail(-EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	err = noise_of(r, file, path);
	json_decref(file);
	return err;
}

/* kernel-console.txt: problem lines vm.sh found on a guest's console that its run did not see. */
static int load_console_problems(struct pmb_run *r)
{
	char path[4200];
	size_t len, n = 0;
	int err;

	snprintf(path, sizeof(path), "%s/kernel-console.txt", r->dir);
	if (access(path, F_OK))
		return 0;
	err = pmb_read_file(path, PMB_MAX_META_BYTES, &r->console_buf, &len);
	if (err)
		return err;
	for (size_t i = 0; i < len; i++)
		n += r->console_buf[i] == '\n';
	r->kernel_outside += (long long)(n ? n : len > 0);
	if (!*r->kernel_lines)
		r->kernel_lines = r->console_buf;
	return 0;
}

/* The basename of a path, cleaned, into out. */
static void base_name(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	pmb_text_clean(slash ? slash + 1 : path, out, len);
}

/*
 * kernel-build.json: how the booted image was built (kernels/build.sh's
 * info.json, copied by vm.sh), made into one line for reports: release,
 * source (tarball or tree and commit), patches and series; in a merged
 * run, meta.json's kernel_build.  Optional; malformed is an error.
 */
static int load_kernel_build(struct pmb_run *r)
{
	char path[4200], *buf, tmp[256];
	json_error_t jerr;
	json_t *kb, *v;
	size_t len, n = 0, i;
	int err;

	snprintf(path, sizeof(path), "%s/kernel-build.json", r->dir);
	if (access(path, F_OK)) {
		/* A merged run keeps its sources' line in meta.json. */
		pmb_text_clean(pmb_meta_str(r->meta, "kernel_build", NULL), r->kbuild, sizeof(r->kbuild));
		return 0;
	}
	err = pmb_read_file(path, PMB_MAX_META_BYTES, &buf, &len);
	if (err)
		return err;
	kb = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!kb)
		return pmb_fail(-EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(kb)) {
		json_decref(kb);
		return pmb_fail(-EINVAL, "%s: not a JSON object", path);
	}
#define ADD(...) do { if (n < sizeof(r->kbuild)) \
		n += (size_t)snprintf(r->kbuild + n, sizeof(r->kbuild) - n, __VA_ARGS__); } while (0)
	pmb_text_clean(pmb_meta_str(kb, "kernel_release", NULL), tmp, 64);
	ADD("%s", *tmp ? tmp : "?");
	if (!strcmp(pmb_meta_str(kb, "source_kind", NULL), "git")) {
		char tree[128];

		pmb_text_clean(pmb_meta_str(kb, "commit", NULL), tmp, 13);
		base_name(pmb_meta_str(kb, "source", NULL), tree, sizeof(tree));
		ADD(", commit %s of %s", *tmp ? tmp : "?", tree);
		pmb_text_clean(pmb_meta_str(kb, "rev", NULL), tmp, 64);
		if (*tmp)
			ADD(" (%s)", tmp);
	} else {
		base_name(pmb_meta_str(kb, "source", NULL), tmp, sizeof(tmp));
		ADD(", from %s", *tmp ? tmp : "?");
	}
	v = json_object_get(kb, "patches");
	for (i = 0; json_is_array(v) && i < json_array_size(v) && i < 8; i++) {
		base_name(pmb_meta_str(json_array_get(v, i), "name", NULL), tmp, 96);
		ADD("%s%s", i ? ", " : " + ", tmp);
	}
	v = json_object_get(kb, "series");
	if (json_is_array(v) && json_array_size(v)) {
		json_t *tot = json_object_get(kb, "series_total");
		size_t k = json_array_size(v);

		ADD(" + series patches 1..%zu", k);
		if (json_is_integer(tot) && json_integer_value(tot) >= (json_int_t)k)
			ADD(" of %lld", (long long)json_integer_value(tot));
		pmb_text_clean(pmb_meta_str(json_array_get(v, k - 1), "subject", NULL), tmp, 120);
		if (*tmp)
			ADD(", last: \"%s\"", tmp);
		pmb_text_clean(pmb_meta_str(json_array_get(v, k - 1), "message_id", NULL), tmp, 120);
		if (*tmp)
			ADD(" %s", tmp);
	}
#undef ADD
	json_decref(kb);
	return 0;
}

static int load(const char *dir, struct pmb_run *r, bool any_status)
{
	size_t n = strlen(dir);
	int err;

	memset(r, 0, sizeof(*r));
	pmb_tsv_free(&r->cases_tsv);
	pmb_tsv_free(&r->samples_tsv);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!n)
		return pmb_fail(-EINVAL, "an empty run directory name");
	if (n >= sizeof(r->dir))
		return pmb_fail(-ENAMETOOLONG, "%.80s...: a path longer than %zu bytes", dir, sizeof(r->dir) - 1);
	memcpy(r->dir, dir, n);
	r->dir[n] = '\0';
	err = load_meta(r);
	if (err || strcmp(r->schema, PMB_SCHEMA) || (!any_status && strcmp(r->status, "complete")))
		return err;
	err = load_noise(r);
	if (err)
		return err;
	{
		json_t *kl = json_object_get(r->meta, "kernel_log"), *o = json_object_get(kl, "outside_cases");

		r->kernel_lines = pmb_meta_str(kl, "outside_lines", NULL);
		/* At most 2^40: sums over sources and console lines cannot overflow. */
		if (o && (!json_is_integer(o) || json_integer_value(o) < 0 ||
			  json_integer_value(o) > (json_int_t)1 << 40))
			return pmb_fail(-EINVAL, "%s/meta.json: kernel_log.outside_cases is not a count "
					"(0..2^40)", r->dir);
		r->kernel_outside = o ? json_integer_value(o) : 0;
	}
	err = load_console_problems(r);
	if (!err)
		err = load_kernel_build(r);
	if (err)
		return err;
	err = load_cases(r);
	if (!err)
		err = load_samples(r);
	return err;
}

int pmb_run_load(const char *dir, struct pmb_run *r)
{
	return load(dir, r, false);
}

int pmb_run_read_own(const char *dir, struct pmb_run *r)
{
	return load(dir, r, true);
}

void pmb_run_free(struct pmb_run *r)
{
	for (size_t i = 0; i < r->nseries; i++) {
		free(r->series[i].v);
		free(r->series[i].state);
	}
	free(r->series);
	free(r->cases);
	pmb_tsv_free(&r->cases_tsv);
	pmb_tsv_free(&r->samples_tsv);
	pmb_strmap_free(&r->case_map);
	pmb_strmap_free(&r->series_map);
	free(r->console_buf);
	json_decref(r->meta);
	memset(r, 0, sizeof(*r));
}

const char *pmb_case_state(const struct pmb_rcase *c)
{
	if (c->true_n[PMS_SWAPPED] > 0)
		return "swapped";
	if (c->true_n[PMS_NONE] > 0)
		return "holes";
	return "resident";
}

long long pmb_case_misreported(const struct pmb_rcase *c)
{
	const struct pmb_kind_info *k = pmb_kind_find(c->kind);
	long long n = 0;

	for (int t = 0; t < PMS_TRUTHS; t++)
		for (int rp = 0; rp < PMS_NR; rp++)
			if (!pmb_report_ok(t, rp, k ? k->backing : PMB_BACKING_SHMEM))
				n += c->cm[t][rp];
	return n;
}
