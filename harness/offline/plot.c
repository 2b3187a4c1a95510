// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench plot DIR: the .dat files and gnuplot renders (PNG and SVG) of a run
 * directory or a comparison directory.  The .gp scripts live in plots/; this
 * file only selects and summarizes the data they draw.
 */
#include "harness/cmd.h"
#include "compare.h"
#include "plot.h"
#include "lib/opt.h"
#include "lib/outdir.h"
#include "lib/text.h"
#include "lib/stats/stats.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLOT_RESAMPLES	500
#define MAX_KINDS	8

extern char **environ;

struct psrc {
	struct pmb_run run;
	char label[128];
	long rep[MAX_KINDS];		/* representative case per kind, -1 none */
};

struct pctx {
	const char *dir;
	char plots[4200], gpdir[4096];	/* plots: a fresh directory the renders go into first */
	char final[4200];		/* DIR/plots, where they are moved at the end */
	struct psrc src[2];
	int nsrc;
	const char *kinds[MAX_KINDS];
	int nkinds;
};

/* ---- finding things ---- */

static int have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4200], *p, *save = NULL, *dirs;

	if (!path)
		return 0;
	dirs = strdup(path);
	for (p = dirs ? strtok_r(dirs, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/gnuplot", p);
		if (!access(buf, X_OK)) {
			free(dirs);
			return 1;
		}
	}
	free(dirs);
	return 0;
}

static int find_scripts(struct pctx *c)
{
	const char *env = getenv("PMB_PLOTS_DIR");
	char exe[4096], test[4300];
	ssize_t n;

	if (env && *env) {
		snprintf(c->gpdir, sizeof(c->gpdir), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return pmb_err(-errno, "readlink /proc/self/exe");
		exe[n] = '\0';
		snprintf(c->gpdir, sizeof(c->gpdir), "%s/../../plots", dirname(exe));
	}
	snprintf(test, sizeof(test), "%s/sweep.gp", c->gpdir);
	if (access(test, R_OK))
		return pmb_err(-ENOENT, "no gnuplot scripts in %s (set PMB_PLOTS_DIR)", c->gpdir);
	return 0;
}

/* ---- sources ---- */

static int kind_index(struct pctx *c, const char *kind)
{
	int i;

	for (i = 0; i < c->nkinds; i++)
		if (!strcmp(c->kinds[i], kind))
			return i;
	if (c->nkinds == MAX_KINDS)
		return -1;
	c->kinds[c->nkinds] = kind;
	return c->nkinds++;
}

static bool has_trait(const char *method, unsigned trait)
{
	const struct pmb_method_info *m = pmb_method_find(method);

	return m && (m->traits & trait);
}

/* Series of case cidx the batch sweep draws (PMB_M_SWEEP in the catalog). */
static size_t batched_count(const struct pmb_run *r, size_t cidx)
{
	size_t i, n = 0;

	for (i = 0; i < r->nseries; i++)
		n += r->series[i].case_idx == cidx && has_trait(r->series[i].method, PMB_M_SWEEP);
	return n;
}

/*
 * One case per kind stands for it in the sweep, bars and CDF: the largest
 * region with swapped pages, half swapped if there is such a case.
 */
static double rep_score(const struct pmb_run *r, size_t i)
{
	const struct pmb_rcase *k = &r->cases[i];

	return (k->true_n[2] > 0) * 1e12 + (batched_count(r, i) >= 2) * 1e11 +
	       (double)k->pages * 10 - fabs(k->swapped_pct - 50);
}

static void pick_reps(struct pctx *c, struct psrc *s)
{
	size_t i;
	int k;

	for (k = 0; k < MAX_KINDS; k++)
		s->rep[k] = -1;
	for (i = 0; i < s->run.ncases; i++) {
		k = kind_index(c, s->run.cases[i].kind);
		if (k < 0)
			continue;
		if (s->rep[k] < 0 || rep_score(&s->run, i) > rep_score(&s->run, (size_t)s->rep[k]))
			s->rep[k] = (long)i;
	}
}

static int load_src(struct pctx *c, const char *dir)
{
	struct psrc *s = &c->src[c->nsrc];
	int err = pmb_run_load(dir, &s->run);

	if (err) {
		pmb_run_free(&s->run);	/* what it read before the error: not counted in nsrc */
		return err;
	}
	c->nsrc++;
	if (strcmp(s->run.schema, PMB_SCHEMA))
		return pmb_fail(PMB_ERR_SCHEMA, "%s: schema '%.60s' is not '%s'", dir, s->run.schema,
				PMB_SCHEMA);
	if (strcmp(s->run.status, "complete"))
		return pmb_fail(PMB_ERR_NOTDONE, "%s: run status is '%s', not 'complete': nothing to plot",
				dir, s->run.status);
	/* A title inside the .dat files: one line, no double quote. */
	pmb_text_clean(*s->run.krelease ? s->run.krelease : s->run.run_id, s->label, sizeof(s->label));
	for (char *p = s->label; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	return 0;
}

static int load_sources(struct pctx *c)
{
	char path[4200];
	json_error_t jerr;
	json_t *root;
	int err;

	char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/compare.json", c->dir);
	if (access(path, F_OK))
		return load_src(c, c->dir);
	err = pmb_read_file(path, PMB_MAX_TABLE_BYTES, &buf, &len);
	if (err)
		return err;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root)
		return pmb_fail(-EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	err = load_src(c, json_string_value(json_object_get(json_object_get(root, "base"),
							    "dir")) ?: "(none)");
	if (!err)
		err = load_src(c, json_string_value(json_object_get(json_object_get(root, "cand"),
								    "dir")) ?: "(none)");
	json_decref(root);
	if (err)
		return err;
	if (!strcmp(c->src[0].label, c->src[1].label)) {
		snprintf(c->src[0].label, sizeof(c->src[0].label), "BASE %s", c->src[0].run.run_id);
		snprintf(c->src[1].label, sizeof(c->src[1].label), "CAND %s", c->src[1].run.run_id);
	}
	return 0;
}

/* ---- data ---- */

static int summarize(const struct pmb_series *s, struct pmb_summary *out)
{
	double *v = malloc(s->n * sizeof(double) + 1);
	int err;

	if (!v)
		return -ENOMEM;
	memcpy(v, s->v, s->n * sizeof(double));
	err = pmb_summarize(v, s->n, PLOT_RESAMPLES, 1, out);
	free(v);
	return err;
}

static FILE *open_dat(struct pctx *c, const char *name)
{
	return pmb_out_create(c->plots, name);
}

static int cmp_series_batch(const void *a, const void *b)
{
	const struct pmb_series *x = *(const struct pmb_series *const *)a;
	const struct pmb_series *y = *(const struct pmb_series *const *)b;

	return (x->batch > y->batch) - (x->batch < y->batch);
}

/* The batched series of case cidx, sorted by batch; returns the count. */
static size_t sweep_of(const struct pmb_run *r, long cidx, const struct pmb_series **out,
		       size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < r->nseries && n < max; i++)
		if ((long)r->series[i].case_idx == cidx && has_trait(r->series[i].method, PMB_M_SWEEP) &&
		    r->series[i].qd == 1 && r->series[i].n)
			out[n++] = &r->series[i];
	qsort(out, n, sizeof(*out), cmp_series_batch);
	return n;
}

/* sweep.dat: per kernel and kind, batch median lo hi.  Returns the block count. */
static int write_sweep(struct pctx *c, FILE *f)
{
	const struct pmb_series *sv[64];
	struct pmb_summary sm;
	int blocks = 0, s, k;
	size_t i, n;

	for (s = 0; s < c->nsrc; s++)
		for (k = 0; k < c->nkinds; k++) {
			n = sweep_of(&c->src[s].run, c->src[s].rep[k], sv, 64);
			if (n < 2)
				continue;
			fprintf(f, "%s\"%s: %s\"\n", blocks ? "\n\n" : "", c->src[s].label,
				c->src[s].run.cases[c->src[s].rep[k]].id);
			for (i = 0; i < n; i++) {
				if (summarize(sv[i], &sm))
					return -ENOMEM;
				fprintf(f, "%lld %.5g %.5g %.5g\n", sv[i]->batch, sm.median,
					sm.ci_lo, sm.ci_hi);
			}
			blocks++;
		}
	return blocks;
}

/* ratio.dat (comparison): per kind, batch ratio lo hi of CAND/BASE. */
static int write_ratio(struct pctx *c, FILE *f)
{
	const struct pmb_series *sv[64];
	double ratio, lo, hi;
	int blocks = 0, k;
	size_t i, n;

	if (c->nsrc < 2)
		return 0;
	for (k = 0; k < c->nkinds; k++) {
		const struct pmb_run *b = &c->src[0].run, *cd = &c->src[1].run;
		long bc = c->src[0].rep[k];
		int wrote = 0;

		n = sweep_of(b, bc, sv, 64);
		for (i = 0; n >= 2 && i < n; i++) {
			long j = pmb_run_find_series(cd, b->cases[bc].id, sv[i]->method, sv[i]->batch, 1);

			if (j < 0 || !cd->series[j].n)
				continue;
			if (pmb_ratio_ci(sv[i]->v, sv[i]->n, cd->series[j].v, cd->series[j].n,
					 PLOT_RESAMPLES, 1, &ratio, &lo, &hi))
				return -ENOMEM;
			if (!wrote++)
				fprintf(f, "%s\"%s\"\n", blocks++ ? "\n\n" : "", b->cases[bc].id);
			fprintf(f, "%lld %.5g %.5g %.5g\n", sv[i]->batch, ratio, lo, hi);
		}
	}
	return blocks;
}

/* ref.dat: the published post/pre ratios, shared-anon at 50% and 100% dirty. */
static int write_ref(struct pctx *c, FILE *f)
{
	static const int dirty[] = { 50, 100 };
	char path[4400], line[512];
	int blocks = 0, d;
	FILE *in;

	snprintf(path, sizeof(path), "%s/../../shared/reference/cover-letter-2021.tsv", c->gpdir);
	in = fopen(path, "r");
	if (!in) {
		snprintf(path, sizeof(path), "%s/cover-letter-2021.tsv", c->gpdir);
		in = fopen(path, "r");
	}
	if (!in) {
		pmb_warn("no cover-letter-2021.tsv next to %s: the published ratios are left out",
			 c->gpdir);
		return 0;
	}
	for (d = 0; d < 2; d++) {
		rewind(in);
		fprintf(f, "%s\"published 2021, shared-anon %d%% dirty\"\n", blocks ? "\n\n" : "",
			dirty[d]);
		while (fgets(line, sizeof(line), in)) {
			char mem[64];
			int dp, batch;
			double pre, post;

			if (line[0] == '#' ||
			    sscanf(line, "%63s %d %d %lf %lf", mem, &dp, &batch, &pre, &post) != 5)
				continue;
			if (!strcmp(mem, "shared-anon") && dp == dirty[d] && pre > 0)
				fprintf(f, "%d %.4f\n", batch, post / pre);
		}
		blocks++;
	}
	fclose(in);
	return blocks;
}

/* The series that stands for (case, method): qd 1, the largest batch. */
static const struct pmb_series *series_for(const struct pmb_run *r, long cidx, const char *m)
{
	const struct pmb_series *best = NULL;
	size_t i;

	for (i = 0; i < r->nseries; i++) {
		const struct pmb_series *s = &r->series[i];

		if ((long)s->case_idx == cidx && !strcmp(s->method, m) && s->n &&
		    (!best || s->batch > best->batch))
			best = s;
	}
	return best;
}

/* bars.dat: "kind/method" then median lo hi per kernel. */
static int write_bars(struct pctx *c, FILE *f)
{
	const struct pmb_method_info *methods[PMB_NR_METHODS];
	struct pmb_summary sm;
	int rows = 0, k, s;
	size_t m;

	pmb_methods_in_order(methods);

	fprintf(f, "group");
	for (s = 0; s < c->nsrc; s++)
		fprintf(f, " \"%s\" lo hi", c->src[s].label);
	fprintf(f, "\n");
	for (k = 0; k < c->nkinds; k++)
		for (m = 0; m < PMB_NR_METHODS; m++) {
			const struct pmb_series *sv[2] = { NULL, NULL };
			int have = 0;

			if (methods[m]->traits & PMB_M_METRIC)
				continue;
			for (s = 0; s < c->nsrc; s++) {
				sv[s] = c->src[s].rep[k] < 0 ? NULL :
					series_for(&c->src[s].run, c->src[s].rep[k], methods[m]->name);
				have += !!sv[s];
			}
			if (have < c->nsrc)
				continue;
			fprintf(f, "\"%s/%s\"", c->kinds[k], methods[m]->name);
			for (s = 0; s < c->nsrc; s++) {
				if (summarize(sv[s], &sm))
					return -ENOMEM;
				fprintf(f, " %.5g %.5g %.5g", sm.median, sm.ci_lo, sm.ci_hi);
			}
			fprintf(f, "\n");
			rows++;
		}
	return rows;
}

/* The read() method first in the catalog's order that the run has: dense where timed. */
static const char *scaling_method(const struct pmb_run *r)
{
	const char *best = NULL;
	size_t i;

	for (i = 0; i < r->nseries; i++) {
		const char *m = r->series[i].method;

		if (has_trait(m, PMB_M_READ) && !has_trait(m, PMB_M_SINGLE) &&
		    (!best || pmb_method_order(m) < pmb_method_order(best)))
			best = m;
	}
	return best ? best : "dense";
}

/*
 * scale-<x>.dat: cost against pages (x = 0) or swapped_pct (x = 1), one block
 * per kernel and kind over the cases that differ only in x.
 */
static int write_scaling(struct pctx *c, FILE *f, int x)
{
	struct pmb_summary sm;
	int blocks = 0, s, k;
	size_t i;

	for (s = 0; s < c->nsrc; s++) {
		const struct pmb_run *r = &c->src[s].run;
		const char *m = scaling_method(r);

		for (k = 0; k < c->nkinds; k++) {
			const struct pmb_rcase *rep;
			int n = 0;

			if (c->src[s].rep[k] < 0)
				continue;
			rep = &r->cases[c->src[s].rep[k]];
			for (i = 0; i < r->ncases; i++) {
				const struct pmb_rcase *q = &r->cases[i];

				n += !strcmp(q->kind, rep->kind) && series_for(r, (long)i, m) &&
				     (x ? q->pages == rep->pages && q->dirty_pct == rep->dirty_pct :
				      q->swapped_pct == rep->swapped_pct &&
				      q->dirty_pct == rep->dirty_pct);
			}
			if (n < 2)
				continue;
			fprintf(f, "%s\"%s: %s %s\"\n", blocks++ ? "\n\n" : "", c->src[s].label,
				rep->kind, m);
			/* Cases in cases.tsv order; the scripts sort with 'smooth unique'. */
			for (i = 0; i < r->ncases; i++) {
				const struct pmb_rcase *q = &r->cases[i];
				const struct pmb_series *sr = series_for(r, (long)i, m);

				if (!sr || strcmp(q->kind, rep->kind) ||
				    (x ? q->pages != rep->pages || q->dirty_pct != rep->dirty_pct :
				     q->swapped_pct != rep->swapped_pct ||
				     q->dirty_pct != rep->dirty_pct))
					continue;
				if (summarize(sr, &sm))
					return -ENOMEM;
				fprintf(f, "%g %.5g %.5g %.5g\n", x ? q->swapped_pct : (double)q->pages,
					sm.median, sm.ci_lo, sm.ci_hi);
			}
		}
	}
	return blocks;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* cdf.dat: single-read latencies (PMB_M_SINGLE: sparse), sorted, with their cumulative fraction. */
/* One cdf.dat block: the series' samples, sorted, with their cumulative fraction. */
static int cdf_block(FILE *f, const char *title_label, const char *case_id,
		     const struct pmb_series *sr, int blocks)
{
	double *v = malloc(sr->n * sizeof(double) + 1);

	if (!v)
		return -ENOMEM;
	memcpy(v, sr->v, sr->n * sizeof(double));
	qsort(v, sr->n, sizeof(double), cmp_dbl);
	fprintf(f, "%s\"%s: %s\"\n", blocks ? "\n\n" : "", title_label, case_id);
	for (size_t i = 0; i < sr->n; i++)
		fprintf(f, "%.5g %.5f\n", v[i], (double)(i + 1) / (double)sr->n);
	free(v);
	return 0;
}

/* cdf.dat: single-read latencies (PMB_M_SINGLE methods: sparse). */
static int write_cdf(struct pctx *c, FILE *f)
{
	int blocks = 0, s, k;

	for (s = 0; s < c->nsrc; s++)
		for (k = 0; k < c->nkinds; k++)
			for (size_t m = 0; m < PMB_NR_METHODS && c->src[s].rep[k] >= 0; m++) {
				const struct pmb_series *sr;

				if (!(pmb_methods[m].traits & PMB_M_SINGLE))
					continue;
				sr = series_for(&c->src[s].run, c->src[s].rep[k], pmb_methods[m].name);
				if (!sr)
					continue;
				if (cdf_block(f, c->src[s].label, c->src[s].run.cases[c->src[s].rep[k]].id,
					      sr, blocks++))
					return -ENOMEM;
			}
	return blocks;
}

/* ---- rendering ---- */

static int gnuplot(struct pctx *c, const char *script, const char *out, const char *vars)
{
	static const char *const terms[] = { "png", "svg" };
	char gp[4400], e[16384], log[4300];
	size_t t;

	snprintf(gp, sizeof(gp), "%s/%s", c->gpdir, script);
	snprintf(log, sizeof(log), "%s/gnuplot.log", c->plots);
	for (t = 0; t < 2; t++) {
		posix_spawn_file_actions_t fa;
		char *argv[] = { "gnuplot", "-e", e, gp, NULL };
		int status, err;
		pid_t pid;

		snprintf(e, sizeof(e), "gpdir='%s'; datadir='%s'; outfile='%s/%s.%s'; term='%s'; %s",
			 c->gpdir,
			 c->plots, c->plots, out, terms[t], terms[t], vars);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_APPEND | O_CREAT, 0644);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		err = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (err)
			return pmb_err(-err, "gnuplot");
		if (waitpid(pid, &status, 0) < 0)
			return pmb_err(-errno, "waitpid gnuplot");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			return pmb_err(-EIO, "gnuplot %s failed for %s.%s (see %s)", script, out,
				       terms[t], log);
	}
	printf("plot: %s/%s.{png,svg}\n", c->final, out);
	return 0;
}

typedef int (*writer_fn)(struct pctx *c, FILE *f);

static int dat(struct pctx *c, const char *name, writer_fn fn)
{
	FILE *f = open_dat(c, name);
	int n;

	if (!f)
		return -EIO;
	n = fn(c, f);
	if (pmb_out_close(f, c->plots, name))
		return -EIO;
	return n;
}

static int w_size(struct pctx *c, FILE *f) { return write_scaling(c, f, 0); }
static int w_swapped(struct pctx *c, FILE *f) { return write_scaling(c, f, 1); }

static int render(struct pctx *c)
{
	int nsweep, nratio, nref, nbars, nsize, nswap, ncdf, err = 0;
	char vars[512];

	snprintf(vars, sizeof(vars), "%.400s/gnuplot.log", c->plots);
	unlink(vars);
	nsweep = dat(c, "sweep.dat", write_sweep);
	nratio = dat(c, "ratio.dat", write_ratio);
	nref = dat(c, "ref.dat", write_ref);
	nbars = dat(c, "bars.dat", write_bars);
	nsize = dat(c, "scale-size.dat", w_size);
	nswap = dat(c, "scale-swapped.dat", w_swapped);
	ncdf = dat(c, "cdf.dat", write_cdf);
	if (nsweep < 0 || nratio < 0 || nref < 0 || nbars < 0 || nsize < 0 || nswap < 0 ||
	    ncdf < 0)
		return -EIO;
	if (nsweep) {
		snprintf(vars, sizeof(vars), "nsweep=%d; nratio=%d; nref=%d", nsweep, nratio, nref);
		err = err ?: gnuplot(c, "sweep.gp", "batch-sweep", vars);
	} else {
		printf("plot: batch sweep skipped: no case has batched reads at 2+ batch sizes\n");
	}
	if (nbars) {
		snprintf(vars, sizeof(vars), "nsrc=%d", c->nsrc);
		err = err ?: gnuplot(c, "bars.gp", "bars", vars);
	}
	if (nsize || nswap) {
		snprintf(vars, sizeof(vars), "nsize=%d; nswap=%d", nsize, nswap);
		err = err ?: gnuplot(c, "scaling.gp", "scaling", vars);
	} else {
		printf("plot: scaling skipped: no cases that differ only in size or swapped "
		       "fraction\n");
	}
	if (ncdf) {
		snprintf(vars, sizeof(vars), "ncdf=%d", ncdf);
		err = err ?: gnuplot(c, "cdf.gp", "sparse-cdf", vars);
	} else {
		printf("plot: sparse CDF skipped: no sparse series\n");
	}
	return err;
}

/*
 * DIR/plots must be a directory of its own (not a link to one elsewhere);
 * the renders go into a fresh directory next to it first, and each file is
 * then renamed into place, which replaces a link of that name instead of
 * following it.
 */
static int prepare_plots(struct pctx *c)
{
	struct stat st;

	snprintf(c->final, sizeof(c->final), "%s/plots", c->dir);
	if (lstat(c->final, &st) == 0 && !S_ISDIR(st.st_mode))
		return pmb_fail(-EINVAL, "%s is not a directory (a link?): refusing to write there", c->final);
	if (mkdir(c->final, 0755) && errno != EEXIST)
		return pmb_err(-errno, "mkdir %s", c->final);
	snprintf(c->plots, sizeof(c->plots), "%s/.plots-XXXXXX", c->dir);
	if (!mkdtemp(c->plots))
		return pmb_err(-errno, "mkdtemp %s", c->plots);
	return 0;
}

static int move_plots(struct pctx *c)
{
	int from = open(c->plots, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int to = open(c->final, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	DIR *d;
	int err = 0;

	if (from < 0 || to < 0 || !(d = fdopendir(from))) {
		err = pmb_err(-errno, "%s", c->final);
		if (from >= 0)
			close(from);
		if (to >= 0)
			close(to);
		return err;
	}
	while (!err && (e = readdir(d)))
		if (e->d_name[0] != '.' && renameat(from, e->d_name, to, e->d_name) < 0)
			err = pmb_err(-errno, "%s/%s", c->final, e->d_name);
	closedir(d);
	close(to);
	return err;
}

int pmb_plot_dir(const char *dir, int quiet_skip)
{
	struct pctx c;
	int err, s;

	memset(&c, 0, sizeof(c));
	c.dir = dir;
	if (!have_gnuplot()) {
		if (quiet_skip)
			pmb_warn("gnuplot not found in PATH: plots skipped");
		else
			pmb_err(0, "skip: gnuplot not found in PATH (apt-get install gnuplot-nox)");
		return PMB_EXIT_SKIP;
	}
	/* "" would read /compare.json (issue 12: an empty directory argument). */
	if (!*dir)
		return pmb_fail(PMB_EXIT_USAGE, "an empty directory name");
	if (strchr(dir, '\'') || strchr(dir, '"') || strchr(dir, '\n'))
		return pmb_fail(PMB_EXIT_USAGE, "%s: a quote or newline in the path", dir);
	err = find_scripts(&c);
	if (!err)
		err = load_sources(&c);
	if (!err) {
		for (s = 0; s < c.nsrc; s++)
			pick_reps(&c, &c.src[s]);
		err = prepare_plots(&c);
	}
	if (!err)
		err = render(&c);
	if (!err)
		err = move_plots(&c);
	if (c.plots[0])
		pmb_out_remove(c.plots);	/* empty after the move; whole after a failure */
	for (s = 0; s < c.nsrc; s++)
		pmb_run_free(&c.src[s].run);
	if (!err)
		return PMB_EXIT_PASS;
	if (err == PMB_ERR_NOTDONE)
		return PMB_EXIT_SKIP;
	return err == PMB_ERR_SCHEMA || pmb_bad_input(err) ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
}

const struct pmb_opt_spec pmb_plot_spec = {
	.prog = "pmbench plot", .args = "DIR",
	.about = "Render DIR/plots/*.png and *.svg (and their .dat files) for a run directory\n"
		 "(meta.json) or a comparison directory (compare.json). Scripts: $PMB_PLOTS_DIR,\n"
		 "else <binary>/../../plots.\n",
	.min_pos = 1, .max_pos = 1,
	.more = "exit: 0 done, 3 error, 64 bad directory, 77 gnuplot missing or a run not complete\n",
};

int cmd_plot(int argc, char **argv)
{
	const char *dir;
	unsigned npos;
	int err = pmb_opt_parse(&pmb_plot_spec, argc, argv, NULL, &dir, &npos, NULL);

	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	return pmb_plot_dir(dir, 0);
}
