// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench model DIR [DIR2]: fit the per-sample cost model of model.h to the
 * measured read samples of a run, under the "exact" and the "pmd" walk
 * hypotheses, with bootstrap CIs; the position-in-PMD effect of sparse reads;
 * with DIR2, the change of every coefficient.  docs/model.md explains it.
 *
 * This file holds what is particular to pagemap: which entries a read walks,
 * what kind each is, and how the results are reported.  The least squares,
 * the robust weights and the bootstrap intervals are lib/stats/fit.h.
 *
 * A run directory comes from another machine: rundata.c checks every field,
 * and nothing here loops more than a bounded number of times per input row
 * (walks are counted in closed form; series and walk statistics are found
 * through hash maps).
 */
#include "harness/cmd.h"
#include "model.h"
#include "lib/opt.h"
#include "lib/outdir.h"
#include "lib/pagemap.h"
#include "lib/stats/fit.h"
#include "lib/stats/stats.h"
#include "lib/strmap.h"
#include "lib/util.h"
#include "rundata.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERR_SCHEMA	(-EPROTO)	/* not a pagemap-bench/1 run: usage */
#define ERR_NODATA	(-ENODATA)	/* nothing to fit: cannot run */
#define ERR_NOTDONE	(-EBUSY)	/* run not complete: cannot run */
#define TIE_PCT		5.0		/* RMS errors closer than this: no better fit */
#define PASSES_RELATIVE	3
#define PASSES_ROBUST	8
#define MODEL_FORMULA	"ns = a*syscalls + r*entries_returned + b*none_ptes + " \
			"b_present*present_ptes + b_swap*swap_ptes + b_hole*hole_entries + " \
			"c*none_ptes_in_shmem (entries walked of each kind)"

/* How samples are weighted in the least squares (docs/model.md); the order of weight_name. */
enum weighting { W_OLS, W_RELATIVE, W_ROBUST };
static const char *const weight_name[] = { "ols", "relative", "robust", NULL };

#define MAX_SOURCES	16

static const char *const coef_name[PMB_NCOEF] = {
	"a", "b", "b_present", "b_swap", "b_hole", "r", "c",
};
static const char *const coef_unit[PMB_NCOEF] = {
	"ns per syscall", "ns per none PTE walked", "ns per present PTE walked",
	"ns per swap PTE walked", "ns per entry walked without a page table",
	"ns per entry returned", "ns per none entry walked in shmem",
};

/* Why a coefficient has no column: no sample walks that kind of entry. */
static const char *const why_absent[PMB_NCOEF] = {
	[PMB_COEF_A] = "not identifiable: no sample issues a syscall",
	[PMB_COEF_B] = "not identifiable: no sample walks a none PTE",
	[PMB_COEF_BP] = "not identifiable: no sample walks a present page",
	[PMB_COEF_BS] = "not identifiable: no sample walks a swap PTE (no swapped private page)",
	[PMB_COEF_BH] = "not identifiable: no sample walks an entry without a page table (no "
			"view that maps nothing, no walk past a region's end)",
	[PMB_COEF_R] = "not identifiable: no sample returns an entry",
	[PMB_COEF_C] = "not identifiable: no sample walks a none entry in shmem (no shmem case "
		       "with untouched or swapped pages)",
};

/* Why a coefficient is a linear combination of those admitted before it. */
static const char *const why_collinear[PMB_NCOEF] = {
	[PMB_COEF_A] = "not identifiable",
	[PMB_COEF_B] = "not identifiable: none PTEs walked are proportional to syscalls",
	[PMB_COEF_BP] = "not identifiable: present PTEs walked are proportional to the terms "
			"before them (the cases do not vary the mix of entries)",
	[PMB_COEF_BS] = "not identifiable: swap PTEs walked are proportional to the terms "
			"before them (the cases do not vary the mix of entries)",
	[PMB_COEF_BH] = "not identifiable: entries walked without a page table are "
			"proportional to the terms before them",
	[PMB_COEF_R] = "not identifiable: entries returned are proportional to entries walked "
		       "(under 'exact' every entry walked is returned)",
	[PMB_COEF_C] = "not identifiable: none entries walked in shmem are proportional to the "
		       "other terms (no private none PTEs, or every case has the same mix)",
};

/* ---- how far a read walks ---- */

const char *pmb_model_hyp_name(enum pmb_model_hyp h)
{
	return h == PMB_HYP_EXACT ? "exact" : "pmd";
}

/* Entries from virtual page e to the end of its 2 MiB block (0 on a boundary). */
static uint64_t to_block_end(uint64_t e)
{
	return (PMB_PMD_PAGES - e % PMB_PMD_PAGES) % PMB_PMD_PAGES;
}

/* One read of len entries from virtual page pos. */
static uint64_t read_walk(enum pmb_model_hyp h, uint64_t pos, uint64_t len)
{
	return h == PMB_HYP_EXACT ? len : len + to_block_end(pos + len);
}

/*
 * Under pmd, read k of a pass (m reads from page pos, the region ending at
 * E = pos + n) walks its own entries plus the rest of the block its last
 * entry is in.  So the pass walks n + sum over reads of to_block_end(end of
 * read k); the full reads end at pos + j * batch (j = 1 .. m-1), whose block
 * positions repeat with period 512 / gcd(batch, 512), and the last ends at E.
 * The reads whose block end lies past E are those that end in E's own
 * (partial) block: each walks to_block_end(E) entries outside the region.
 */
uint64_t pmb_model_pass_split(enum pmb_model_hyp h, unsigned pos, uint64_t n, uint64_t batch,
			      uint64_t *outside)
{
	uint64_t reads, full, period, j, per_period = 0, partial = 0, pad, end, tail;

	*outside = 0;
	if (!batch || batch > n)
		batch = n;
	if (h == PMB_HYP_EXACT || !n)
		return n;
	pos %= PMB_PMD_PAGES;
	reads = (n - 1) / batch + 1;
	full = reads - 1;
	/* The largest power of two dividing batch, at most 512, sets the period. */
	period = PMB_PMD_PAGES / ((batch & -batch) < PMB_PMD_PAGES ? (batch & -batch) : PMB_PMD_PAGES);
	for (j = 1; j <= period && j <= full; j++) {
		uint64_t t = to_block_end(pos + j % PMB_PMD_PAGES * (batch % PMB_PMD_PAGES));

		per_period += t;
		if (j <= full % period)
			partial += t;
	}
	end = pos + n;
	pad = full / period * per_period + partial + to_block_end(end);
	tail = to_block_end(end);
	if (tail) {
		uint64_t floor_end = end - end % PMB_PMD_PAGES;
		/* Full reads ending at or before floor_end stay inside the region. */
		uint64_t inside = floor_end > pos ? (floor_end - pos) / batch : 0;

		*outside = (1 + full - (inside < full ? inside : full)) * tail;
	}
	return n + pad;
}

uint64_t pmb_model_pass_walk(enum pmb_model_hyp h, unsigned pos, uint64_t n, uint64_t batch)
{
	uint64_t outside;

	return pmb_model_pass_split(h, pos, n, batch, &outside);
}

/*
 * Only the region's last page at position q can walk past its end: every
 * earlier one has the rest of its block inside the region.
 */
double pmb_model_sparse_outside(unsigned p, uint64_t n, unsigned q)
{
	uint64_t first = (q + PMB_PMD_PAGES - p % PMB_PMD_PAGES) % PMB_PMD_PAGES;
	uint64_t k, last, walk;

	if (first >= n)
		return 0;
	k = (n - 1 - first) / PMB_PMD_PAGES + 1;
	last = first + (k - 1) * PMB_PMD_PAGES;
	walk = PMB_PMD_PAGES - q % PMB_PMD_PAGES;
	return walk > n - last ? (double)(walk - (n - last)) / (double)k : 0;
}

/* ---- one run's data ---- */

struct obs {
	double y;				/* ns */
	double x[PMB_NHYP][PMB_NCOEF];
	double w[PMB_NHYP];			/* least-squares weight */
	int pos;				/* sparse: pmd_pos; -1 otherwise */
	bool skip;				/* left out of the fits (see sample_walk) */
	size_t grp;
};

/* One series: the samples of one (case, method, batch, qd, series); the bootstrap's strata. */
struct group {
	size_t cidx;
	const char *method;
	long long batch, qd, series;
	size_t start, n;
};

struct amp {
	const char *method;
	long long batch;
	double walked[PMB_NHYP], entries;
	size_t n;
};

struct excl {
	const char *method;
	size_t rows;
};

struct est {
	double v, lo, hi;
};

struct hypfit {
	bool use[PMB_NCOEF];
	const char *why[PMB_NCOEF];	/* why a coefficient cannot be fitted */
	struct est coef[PMB_NCOEF];
	double rms;			/* RMS relative error of the point fit */
	double srms;			/* the same over series medians */
	double mare;			/* median absolute relative error */
	size_t downweighted;		/* robust: samples given less than full weight */
	double *boot[PMB_NCOEF];	/* one value per resample, NAN when singular */
};

/* The normal equations under each hypothesis, and the sparse reads' ns against pmd_pos. */
struct accum {
	struct pmb_lsq ls[PMB_NHYP];
	struct pmb_linreg sparse;
};

struct mrun {
	struct pmb_run r;
	struct obs *obs;
	size_t nobs, ocap;
	struct group *grp;
	size_t ngrp, gcap;
	struct pmb_strmap grp_map;	/* series key -> index in grp */
	struct amp *amp;
	size_t namp, acap;
	struct pmb_strmap amp_map;	/* "method\tbatch" -> index in amp */
	struct excl excl[16];
	size_t nexcl, excl_other;
	size_t start_unknown;		/* cases whose start was assumed aligned */
	size_t batch_fixed;		/* rows whose batch did not match reads */
	struct pmb_tsv src[MAX_SOURCES];	/* a merged run's sources' cases.tsv */
	long long stride;			/* merge.c: source k's series n became k * stride + n */
	size_t nsrc, src_found;
	int *src_start;			/* [source][case]: its start_pmd_pos there, -1 unknown */
	size_t src_fallback;		/* samples whose source start was not found */
	size_t nambig;			/* sparse reads left out of the fits */
	struct hypfit fit[PMB_NHYP];
	int better;			/* a hypothesis, or -1 for a tie */
	size_t nsparse;
	struct est slope;
	double *slope_boot;
	double bucket_med[PMB_MODEL_BUCKETS];
	size_t bucket_n[PMB_MODEL_BUCKETS];
	uint64_t memo_key[3], memo_val, memo_out;	/* the last pmd pass walk */
	bool memo_set;
	enum weighting weight;
	double *gmed;			/* median ns of each group */
};

/* Methods that read pagemap with read()/pread() (catalog trait); everything else is excluded. */
static bool is_read_method(const char *m)
{
	const struct pmb_method_info *info = pmb_method_find(m);

	return info && (info->traits & PMB_M_READ);
}

/*
 * What one entry walked inside a case's region is, on average: the fractions
 * of its pages that are none, present or swap PTEs, have no page table, and
 * are none PTEs in shmem (the last overlaps the first).  A shmem page that is
 * swapped out leaves a none PTE.  A view that maps shared memory it never
 * touched (second-mapper, fork-child) has no page table there at all.
 *
 * A page the oracle calls unmapped (resident, but perhaps unmapped by a
 * pageout that did not swap it) has a present PTE when pagemap reported it
 * present, else the PTE an unmapped page of its backing leaves: a swap PTE
 * for private memory, a none PTE for shmem and files.
 */
static void case_mix(const struct pmb_rcase *c, double f[PMB_NCOEF])
{
	const struct pmb_kind_info *k = pmb_kind_find(c->kind);
	bool shmem = k && k->backing == PMB_BACKING_SHMEM, anon = k && k->backing == PMB_BACKING_ANON;
	long long tn = c->true_n[PMS_NONE], tp = c->true_n[PMS_PRESENT];
	long long ts = c->true_n[PMS_SWAPPED], tu = c->true_n[PMS_UNMAPPED];
	long long tu_mapped = c->cm[PMS_UNMAPPED][PMS_PRESENT] < tu ? c->cm[PMS_UNMAPPED][PMS_PRESENT] : tu;
	long long tot = tn + tp + ts + tu;
	double d;

	memset(f, 0, PMB_NCOEF * sizeof(*f));
	if (shmem && strcmp(c->view, "self")) {
		f[PMB_COEF_BH] = 1;
		return;
	}
	if (tot <= 0)
		return;
	d = (double)tot;
	tp += tu_mapped;
	tu -= tu_mapped;
	f[PMB_COEF_BP] = (double)tp / d;
	if (shmem) {
		f[PMB_COEF_B] = (double)(tn + ts + tu) / d;
		f[PMB_COEF_C] = f[PMB_COEF_B];
	} else {
		f[PMB_COEF_B] = (double)(tn + (anon ? 0 : tu)) / d;
		f[PMB_COEF_BS] = (double)(ts + (anon ? tu : 0)) / d;
	}
}

/* The case's start_pmd_pos, or -1 when cases.tsv does not know it. */
static int case_start_known(const struct mrun *m, size_t cidx)
{
	long long v = m->r.cases[cidx].start_pmd_pos;

	return v >= 0 && v < PMB_PMD_PAGES ? (int)v : -1;
}

/*
 * Where the walk of a sample's pass starts.  A merged run (pmbench merge)
 * keeps only its first source's start_pmd_pos, so the sample's own source is
 * looked up when it could be loaded; otherwise cases.tsv's value, and a
 * 2 MiB boundary when that is unknown too.
 */
static unsigned case_start(struct mrun *m, size_t cidx, long long series)
{
	int v = -1;

	if (m->nsrc && series >= 0) {
		size_t k = (size_t)(series / m->stride);

		if (k < m->nsrc)
			v = m->src_start[k * m->r.ncases + cidx];
		if (v < 0)
			m->src_fallback++;
	}
	if (v < 0)
		v = case_start_known(m, cidx);
	return v < 0 ? 0 : (unsigned)v;
}

/* Source k's start_pmd_pos of every case of the run it knows (one pass over its rows). */
static void source_starts(struct mrun *m, size_t k)
{
	const struct pmb_tsv *t = &m->src[k];
	long long v;

	if (t->map[PMB_C_START_PMD_POS] < 0)
		return;
	for (size_t row = 0; row < t->nrows; row++) {
		long c = pmb_run_find_case(&m->r, pmb_tsv_get(t, row, PMB_C_CASE));

		if (c >= 0 && !pmb_parse_ll(pmb_tsv_get(t, row, PMB_C_START_PMD_POS), &v) &&
		    v >= 0 && v < PMB_PMD_PAGES)
			m->src_start[k * m->r.ncases + (size_t)c] = (int)v;
	}
}

/* The cases.tsv of each run a merged run was made from, when it can be found. */
static int load_sources(struct mrun *m)
{
	json_t *from = json_object_get(m->r.meta, "merged_from");
	json_t *stride = json_object_get(m->r.meta, "series_stride");
	static const char *const where[] = { "/../boots/", "/../" };
	char path[8400];
	size_t k, w;

	if (!json_is_array(from) || json_array_size(from) < 2)
		return 0;
	m->nsrc = json_array_size(from) < MAX_SOURCES ? json_array_size(from) : MAX_SOURCES;
	/* Runs merged before the stride was recorded used 1000. */
	m->stride = json_is_integer(stride) && json_integer_value(stride) >= 1000 ?
		    json_integer_value(stride) : 1000;
	m->src_start = malloc((m->nsrc * m->r.ncases + 1) * sizeof(int));
	if (!m->src_start)
		return -ENOMEM;
	for (k = 0; k < m->nsrc * m->r.ncases; k++)
		m->src_start[k] = -1;
	for (k = 0; k < m->nsrc; k++) {
		const char *id = json_string_value(json_array_get(from, k));

		for (w = 0; id && pmb_safe_name(id) && w < 2 && !m->src[k].cells; w++) {
			snprintf(path, sizeof(path), "%s%s%s/cases.tsv", m->r.dir, where[w], id);
			if (access(path, R_OK) ||
			    pmb_tsv_load(path, &pmb_cases_table, PMB_MAX_TABLE_BYTES, &m->src[k]))
				continue;
			source_starts(m, k);
			m->src_found++;
		}
	}
	return 0;
}

static void count_excluded(struct mrun *m, const char *method)
{
	size_t i;

	for (i = 0; i < m->nexcl; i++)
		if (!strcmp(m->excl[i].method, method)) {
			m->excl[i].rows++;
			return;
		}
	if (m->nexcl == sizeof(m->excl) / sizeof(m->excl[0])) {
		m->excl_other++;
		return;
	}
	m->excl[m->nexcl].method = method;
	m->excl[m->nexcl++].rows = 1;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 64;
	np = realloc(p, ncap * size);
	if (np)
		*cap = ncap;
	return np;
}

/* The series of a sample, made when new; -ENOMEM. */
static long find_group(struct mrun *m, size_t cidx, const char *method, long long batch,
		       long long qd, long long series)
{
	char key[512];
	size_t i;
	void *p;

	snprintf(key, sizeof(key), "%zu\t%s\t%lld\t%lld\t%lld", cidx, method, batch, qd, series);
	i = pmb_strmap_get(&m->grp_map, key);
	if (i != (size_t)-1)
		return (long)i;
	if (!(p = grow(m->grp, &m->gcap, m->ngrp, sizeof(*m->grp))))
		return -ENOMEM;
	m->grp = p;
	if (pmb_strmap_put(&m->grp_map, key, m->ngrp))
		return -ENOMEM;
	m->grp[m->ngrp] = (struct group){ cidx, method, batch, qd, series, 0, 0 };
	return (long)m->ngrp++;
}

/* Entries walked, of every kind. */
static double obs_walked(const struct obs *o, int h)
{
	return o->x[h][PMB_COEF_B] + o->x[h][PMB_COEF_BP] + o->x[h][PMB_COEF_BS] +
	       o->x[h][PMB_COEF_BH];
}

static int add_amp(struct mrun *m, const struct obs *o, const char *method, long long batch,
		   long long entries)
{
	struct amp *a;
	char key[256];
	size_t i;
	void *p;
	int h;

	snprintf(key, sizeof(key), "%s\t%lld", method, batch);
	i = pmb_strmap_get(&m->amp_map, key);
	if (i == (size_t)-1) {
		if (!(p = grow(m->amp, &m->acap, m->namp, sizeof(*m->amp))))
			return -ENOMEM;
		m->amp = p;
		if (pmb_strmap_put(&m->amp_map, key, m->namp))
			return -ENOMEM;
		i = m->namp++;
		memset(&m->amp[i], 0, sizeof(m->amp[i]));
		m->amp[i].method = method;
		m->amp[i].batch = batch;
	}
	a = &m->amp[i];
	for (h = 0; h < PMB_NHYP; h++)
		a->walked[h] += obs_walked(o, h);
	a->entries += (double)entries;
	a->n++;
	return 0;
}

/* Entries per read: the batch column, unless it disagrees with reads. */
static uint64_t row_batch(struct mrun *m, long long batch, long long entries, long long reads)
{
	uint64_t b = batch > 0 && batch <= entries ? (uint64_t)batch : (uint64_t)entries;

	if (reads > 0 && ((uint64_t)entries + b - 1) / b != (uint64_t)reads) {
		m->batch_fixed++;
		b = ((uint64_t)entries + (uint64_t)reads - 1) / (uint64_t)reads;
	}
	return b;
}

/* The pmd walk of a pass, remembered for the next sample of the same series. */
static uint64_t pmd_walk(struct mrun *m, unsigned pos, uint64_t n, uint64_t b, uint64_t *out)
{
	if (!m->memo_set || m->memo_key[0] != pos || m->memo_key[1] != n || m->memo_key[2] != b) {
		m->memo_key[0] = pos;
		m->memo_key[1] = n;
		m->memo_key[2] = b;
		m->memo_val = pmb_model_pass_split(PMB_HYP_PMD, pos, n, b, &m->memo_out);
		m->memo_set = true;
	}
	*out = m->memo_out;
	return m->memo_val;
}

/* What the model reads of a samples.tsv row (rundata.c checked each field already). */
struct srow {
	const char *method;
	long cidx;
	long long batch, qd, series, warm, disc, entries, reads, ns, pos;
};

/*
 * Entries one sample walks inside its region and past its end, under each
 * hypothesis.  A sparse row reads one entry at PMD position pos; which block
 * of the region it lies in is not recorded.  When the region's last, partial
 * block has that position too, the read walks either to the end of a block
 * inside the region or far past the region's end: its walk is then the
 * expectation over the region's pages at pos, and true is returned so that
 * the read is left out of the fits (a two-valued regressor would bias them,
 * and robust weighting would make that worse).
 */
static bool sample_walk(struct mrun *m, const struct srow *s, uint64_t b, double in[PMB_NHYP],
			double out[PMB_NHYP])
{
	size_t cidx = (size_t)s->cidx;
	unsigned start = case_start(m, cidx, s->series);
	uint64_t o, w;

	in[PMB_HYP_EXACT] = (double)s->entries;
	out[PMB_HYP_EXACT] = 0;
	if (s->pos >= 0) {
		long long pages = m->r.cases[cidx].pages;

		w = read_walk(PMB_HYP_PMD, (uint64_t)s->pos, (uint64_t)s->entries);
		out[PMB_HYP_PMD] = pages > 0 && s->entries == 1 ?
			pmb_model_sparse_outside(start, (uint64_t)pages, (unsigned)s->pos) : 0;
		in[PMB_HYP_PMD] = (double)w - out[PMB_HYP_PMD];
		/* Pages at pos in more than one block, one of which ends past the region. */
		return out[PMB_HYP_PMD] > 0 &&
		       ((uint64_t)s->pos + PMB_PMD_PAGES - start) % PMB_PMD_PAGES + PMB_PMD_PAGES <
		       (uint64_t)pages;
	}
	w = pmd_walk(m, start, (uint64_t)s->entries, b, &o);
	in[PMB_HYP_PMD] = (double)(w - o);
	out[PMB_HYP_PMD] = (double)o;
	return false;
}

static int add_row(struct mrun *m, const struct srow *s)
{
	double f[PMB_NCOEF], in[PMB_NHYP], out[PMB_NHYP];
	struct obs *o;
	long g;
	void *p;
	int h, k;

	g = find_group(m, (size_t)s->cidx, s->method, s->batch, s->qd, s->series);
	if (g < 0)
		return (int)g;
	if (!(p = grow(m->obs, &m->ocap, m->nobs, sizeof(*m->obs))))
		return -ENOMEM;
	m->obs = p;
	o = &m->obs[m->nobs++];
	o->skip = sample_walk(m, s, row_batch(m, s->batch, s->entries, s->reads), in, out);
	m->nambig += o->skip;
	case_mix(&m->r.cases[s->cidx], f);
	o->y = (double)s->ns;
	o->pos = s->pos >= 0 ? (int)s->pos : -1;
	o->grp = (size_t)g;
	for (h = 0; h < PMB_NHYP; h++) {
		for (k = 0; k < PMB_NCOEF; k++)
			o->x[h][k] = in[h] * f[k];
		o->x[h][PMB_COEF_A] = (double)s->reads;
		o->x[h][PMB_COEF_R] = (double)s->entries;
		o->x[h][PMB_COEF_BH] += out[h];
	}
	m->grp[g].n++;
	return add_amp(m, o, s->method, s->batch, s->entries);
}

/* A whole number of a row in [lo, hi]; one line naming file:line otherwise. */
static int row_int(const struct pmb_tsv *t, size_t row, int col, long long lo, long long hi,
		   long long *v)
{
	const char *s = pmb_tsv_get(t, row, col);

	if (pmb_parse_ll(s, v) || *v < lo || *v > hi)
		return pmb_fail(-EINVAL, "%s:%zu: %s '%.40s' is not a whole number from %lld to %lld",
				t->what, pmb_tsv_line(row), t->t->cols[col].name, s, lo, hi);
	return 0;
}

/*
 * One row of samples.tsv.  rundata.c has checked it against its case; the
 * bounds are checked again here because the walks below rely on them: an
 * entry count is at most the case's pages (at most 2^32), so nothing is
 * counted past 2^43 and no count can overflow.
 */
static int parse_row(const struct mrun *m, size_t row, struct srow *s)
{
	const struct pmb_tsv *t = &m->r.samples_tsv;
	const char *id = pmb_tsv_get(t, row, PMB_S_CASE);
	long long pages;

	s->cidx = pmb_run_find_case(&m->r, id);
	if (s->cidx < 0)
		return pmb_fail(-EINVAL, "%s:%zu: case '%.60s' is not in cases.tsv", t->what,
				pmb_tsv_line(row), id);
	pages = m->r.cases[s->cidx].pages;
	s->method = pmb_tsv_get(t, row, PMB_S_METHOD);
	if (pages < 0 || pages > (long long)PMB_MAX_CASE_PAGES)
		return pmb_fail(-EINVAL, "%s:%zu: case '%.60s' has %lld pages", t->what,
				pmb_tsv_line(row), id, pages);
	return row_int(t, row, PMB_S_BATCH, 1, (long long)PMB_MAX_CASE_PAGES, &s->batch) ||
	       row_int(t, row, PMB_S_QD, 1, 1 << 20, &s->qd) ||
	       row_int(t, row, PMB_S_SERIES, 0, INT32_MAX, &s->series) ||
	       row_int(t, row, PMB_S_WARMUP, 0, 1, &s->warm) ||
	       row_int(t, row, PMB_S_DISCARDED, 0, 1, &s->disc) ||
	       row_int(t, row, PMB_S_ENTRIES, 0, pmb_sample_max_entries(s->method, pages), &s->entries) ||
	       row_int(t, row, PMB_S_READS, 0, 4 * pages + 64, &s->reads) ||
	       row_int(t, row, PMB_S_NS, 0, INT64_MAX / 4, &s->ns) ||
	       row_int(t, row, PMB_S_PMD_POS, -1, PMB_PMD_PAGES - 1, &s->pos) ? -EINVAL : 0;
}

static int group_medians(struct mrun *m)
{
	double *v = malloc((m->nobs + 1) * sizeof(double));
	size_t i, k;

	m->gmed = calloc(m->ngrp + 1, sizeof(double));
	if (!v || !m->gmed) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < m->ngrp; i++) {
		const struct group *g = &m->grp[i];

		for (k = 0; k < g->n; k++)
			v[k] = m->obs[g->start + k].y;
		pmb_sort(v, g->n);
		m->gmed[i] = g->n ? pmb_quantile(v, g->n, 0.5) : 0;
	}
	free(v);
	return 0;
}

/* Put each group's observations next to each other (a counting sort). */
static int sort_by_group(struct mrun *m)
{
	struct obs *sorted = malloc((m->nobs + 1) * sizeof(*sorted));
	size_t i, at = 0;

	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < m->ngrp; i++) {
		m->grp[i].start = at;
		at += m->grp[i].n;
		m->grp[i].n = 0;
	}
	for (i = 0; i < m->nobs; i++) {
		struct group *g = &m->grp[m->obs[i].grp];

		sorted[g->start + g->n++] = m->obs[i];
	}
	free(m->obs);
	m->obs = sorted;
	return group_medians(m);
}

static int load_obs(struct mrun *m)
{
	const struct pmb_tsv *t = &m->r.samples_tsv;
	struct srow s;
	size_t row;
	int err;

	err = load_sources(m);
	if (err)
		return err;
	for (row = 0; row < t->nrows; row++) {
		if (parse_row(m, row, &s))
			return -EINVAL;
		if (s.warm || s.disc || !s.entries || !s.reads)
			continue;
		if (!is_read_method(s.method)) {
			count_excluded(m, s.method);
			continue;
		}
		err = add_row(m, &s);
		if (err)
			return err;
	}
	for (row = 0; row < m->r.ncases; row++)
		m->start_unknown += case_start_known(m, row) < 0;
	return sort_by_group(m);
}

/* ---- fitting (the statistics are lib/stats/fit.h) ---- */

static void accum_init(struct accum *acc)
{
	for (int h = 0; h < PMB_NHYP; h++)
		pmb_lsq_init(&acc->ls[h], PMB_NCOEF);
	memset(&acc->sparse, 0, sizeof(acc->sparse));
}

static void accumulate(struct accum *acc, const struct obs *o)
{
	for (int h = 0; h < PMB_NHYP; h++)
		pmb_lsq_add(&acc->ls[h], o->x[h], o->y, o->w[h]);
	if (o->pos >= 0)
		pmb_linreg_add(&acc->sparse, (double)o->pos, o->y);
}

static void accum_finish(struct accum *acc)
{
	for (int h = 0; h < PMB_NHYP; h++)
		pmb_lsq_finish(&acc->ls[h]);
}

/*
 * Which coefficients the run can determine: each in turn (a first, c last),
 * unless no sample has its kind of entry or it is a linear combination of
 * those admitted before it.  -EDOM without a and at least one per-entry cost.
 */
static int choose_coefs(struct hypfit *f, const struct pmb_lsq *ls, double *beta)
{
	enum pmb_lsq_why why[PMB_LSQ_MAX];
	bool walk = false;
	int i, err = pmb_lsq_select(ls, f->use, why, beta);

	for (i = 0; i < PMB_NCOEF; i++)
		f->why[i] = why[i] == PMB_LSQ_EMPTY ? why_absent[i] :
			    why[i] == PMB_LSQ_COLLINEAR ? why_collinear[i] : NULL;
	for (i = PMB_COEF_B; i <= PMB_COEF_BH; i++)
		walk |= f->use[i];
	return err || !f->use[PMB_COEF_A] || !walk ? -EDOM : 0;
}

static double pred_of(const struct obs *o, int h, const double *beta)
{
	return pmb_lsq_predict(o->x[h], beta, PMB_NCOEF);
}

/* Residuals relative to the prediction, for the weights; NAN if predicted <= 0 or left out. */
static void resid_of_pred(const struct mrun *m, int h, const double *beta, double *r)
{
	for (size_t i = 0; i < m->nobs; i++) {
		double pred = pred_of(&m->obs[i], h, beta);

		r[i] = pred > 0 && !m->obs[i].skip ? (m->obs[i].y - pred) / pred : NAN;
	}
}

/*
 * The misfit of a fit: the RMS and the median of |ns - predicted| / ns over
 * the samples in the fits, and the RMS of the same over series medians (each
 * series' median ns against the median of its predictions: the model's misfit
 * without the noise of single samples).
 */
static int fit_quality(const struct mrun *m, int h, const double *beta, struct hypfit *f)
{
	size_t n = m->nobs > m->ngrp ? m->nobs : m->ngrp;
	double *r = malloc((n + 1) * sizeof(double));
	double *y = malloc((m->nobs + 1) * sizeof(double));
	double *p = malloc((m->nobs + 1) * sizeof(double));
	size_t i, k;

	if (!r || !y || !p) {
		free(r);
		free(y);
		free(p);
		return -ENOMEM;
	}
	for (i = 0; i < m->nobs; i++)
		r[i] = m->obs[i].skip ? NAN : pmb_rel_err(m->obs[i].y, pred_of(&m->obs[i], h, beta));
	f->rms = pmb_rms(r, m->nobs);
	f->mare = pmb_median_abs(r, m->nobs);
	for (i = 0; i < m->ngrp; i++) {
		const struct group *g = &m->grp[i];
		size_t j = 0;

		for (k = 0; k < g->n; k++) {
			if (m->obs[g->start + k].skip)
				continue;
			y[j] = m->obs[g->start + k].y;
			p[j++] = pred_of(&m->obs[g->start + k], h, beta);
		}
		r[i] = NAN;
		if (j) {
			pmb_sort(y, j);
			pmb_sort(p, j);
			r[i] = pmb_rel_err(pmb_quantile(y, j, 0.5), pmb_quantile(p, j, 0.5));
		}
	}
	f->srms = pmb_rms(r, m->ngrp);
	free(r);
	free(y);
	free(p);
	return 0;
}

/* One sample's weight; beta NULL in the first pass.  *down counts Huber's downweights. */
static double obs_weight(const struct mrun *m, const struct obs *o, int h, const double *beta,
			 double r, double cut, size_t *down)
{
	double g = m->gmed[o->grp], pred, w, hw;

	if (o->skip)
		return 0;
	if (m->weight == W_OLS)
		return 1;
	if (!beta || !isfinite(r))
		return g > 0 ? 1 / (g * g) : 1;
	pred = pred_of(o, h, beta);
	w = 1 / (pred * pred);
	hw = pmb_huber_weight(r, cut);
	if (hw < 1) {
		w *= hw;
		(*down)++;
	}
	return w;
}

/*
 * Weights for pass `pass` of the fit.  ols: 1.  relative: first 1/median^2
 * of the sample's series, then 1/predicted^2 from the previous pass, so that
 * no weight depends on its own sample's noise.  robust: as relative, times
 * Huber's weight of the relative residual (outliers count less, none is
 * dropped).
 */
static int set_weights(struct mrun *m, int pass, double beta[PMB_NHYP][PMB_NCOEF])
{
	double *r = malloc((m->nobs + 1) * sizeof(double));
	double *tmp = malloc((m->nobs + 1) * sizeof(double));

	if (!r || !tmp) {
		free(r);
		free(tmp);
		return -ENOMEM;
	}
	for (int h = 0; h < PMB_NHYP; h++) {
		double cut = INFINITY;

		if (pass)
			resid_of_pred(m, h, beta[h], r);
		if (pass && m->weight == W_ROBUST)
			cut = pmb_huber_cut(r, m->nobs, PMB_HUBER_K, tmp);
		m->fit[h].downweighted = 0;
		for (size_t i = 0; i < m->nobs; i++)
			m->obs[i].w[h] = obs_weight(m, &m->obs[i], h, pass ? beta[h] : NULL,
						    pass ? r[i] : NAN, cut, &m->fit[h].downweighted);
	}
	free(r);
	free(tmp);
	return 0;
}

static int fit_pass(struct mrun *m, int pass, double beta[PMB_NHYP][PMB_NCOEF],
		    struct accum *acc)
{
	accum_init(acc);
	if (set_weights(m, pass, beta))
		return -ENOMEM;
	for (size_t i = 0; i < m->nobs; i++)
		accumulate(acc, &m->obs[i]);
	accum_finish(acc);
	for (int h = 0; h < PMB_NHYP; h++)
		if (choose_coefs(&m->fit[h], &acc->ls[h], beta[h]))
			return pmb_fail(-EDOM, "%s: the fit is singular under the '%s' hypothesis: "
					"a (per syscall) and the per-entry costs cannot be told "
					"apart, every sample walks the same entries per syscall",
					m->r.dir, pmb_model_hyp_name(h));
	return 0;
}

static int point_fit(struct mrun *m)
{
	double beta[PMB_NHYP][PMB_NCOEF];
	struct accum acc;
	int h, k, err = 0, passes;

	passes = m->weight == W_ROBUST ? PASSES_ROBUST :
		 m->weight == W_RELATIVE ? PASSES_RELATIVE : 1;
	for (k = 0; k < passes && !err; k++)
		err = fit_pass(m, k, beta, &acc);
	for (h = 0; h < PMB_NHYP && !err; h++) {
		struct hypfit *f = &m->fit[h];

		for (k = 0; k < PMB_NCOEF; k++)
			f->coef[k] = (struct est){ f->use[k] ? beta[h][k] : NAN, NAN, NAN };
		err = fit_quality(m, h, beta[h], f);
	}
	m->nsparse = (size_t)acc.sparse.n;
	m->slope = (struct est){ pmb_linreg_slope(&acc.sparse), NAN, NAN };
	return err;
}

/* Resample r: samples drawn with replacement within each series, the point fit's weights kept. */
static void one_resample(struct mrun *m, uint64_t *rng, size_t r)
{
	double beta[PMB_NCOEF];
	struct accum acc;

	accum_init(&acc);
	for (size_t gi = 0; gi < m->ngrp; gi++) {
		const struct group *g = &m->grp[gi];

		for (size_t k = 0; k < g->n; k++)
			accumulate(&acc, &m->obs[g->start + pmb_rand_below(rng, g->n)]);
	}
	accum_finish(&acc);
	for (int h = 0; h < PMB_NHYP; h++) {
		struct hypfit *f = &m->fit[h];
		int err = pmb_lsq_solve(&acc.ls[h], f->use, beta);

		for (int c = 0; c < PMB_NCOEF; c++)
			f->boot[c][r] = err || !f->use[c] ? NAN : beta[c];
	}
	m->slope_boot[r] = pmb_linreg_slope(&acc.sparse);
}

static int bootstrap(struct mrun *m, unsigned nres, uint64_t seed)
{
	uint64_t rng = seed;
	int h, c, err = 0;

	for (h = 0; h < PMB_NHYP; h++)
		for (c = 0; c < PMB_NCOEF; c++)
			if (!(m->fit[h].boot[c] = calloc(nres + 1, sizeof(double))))
				return -ENOMEM;
	if (!(m->slope_boot = calloc(nres + 1, sizeof(double))))
		return -ENOMEM;
	for (size_t r = 0; r < nres; r++)
		one_resample(m, &rng, r);
	for (h = 0; h < PMB_NHYP; h++)
		for (c = 0; c < PMB_NCOEF && !err; c++)
			if (m->fit[h].use[c])
				err = pmb_boot_ci(m->fit[h].boot[c], nres, &m->fit[h].coef[c].lo,
						  &m->fit[h].coef[c].hi);
	return err ? err : pmb_boot_ci(m->slope_boot, nres, &m->slope.lo, &m->slope.hi);
}

static int sparse_buckets(struct mrun *m)
{
	double *v = malloc((m->nsparse + 1) * sizeof(double));
	size_t at[PMB_MODEL_BUCKETS + 1] = { 0 }, fill[PMB_MODEL_BUCKETS] = { 0 }, i;
	int b;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < m->nobs; i++)
		if (m->obs[i].pos >= 0)
			m->bucket_n[m->obs[i].pos / 8]++;
	for (b = 0; b < PMB_MODEL_BUCKETS; b++)
		at[b + 1] = at[b] + m->bucket_n[b];
	for (i = 0; i < m->nobs; i++) {
		b = m->obs[i].pos / 8;
		if (m->obs[i].pos >= 0)
			v[at[b] + fill[b]++] = m->obs[i].y;
	}
	for (b = 0; b < PMB_MODEL_BUCKETS; b++) {
		m->bucket_med[b] = NAN;
		if (!m->bucket_n[b])
			continue;
		pmb_sort(v + at[b], m->bucket_n[b]);
		m->bucket_med[b] = pmb_quantile(v + at[b], m->bucket_n[b], 0.5);
	}
	free(v);
	return 0;
}

static void pick_better(struct mrun *m)
{
	double e = m->fit[PMB_HYP_EXACT].rms, p = m->fit[PMB_HYP_PMD].rms;

	m->better = -1;
	if (!isfinite(e) || !isfinite(p) || fabs(e - p) <= TIE_PCT / 100 * fmax(e, p))
		return;
	m->better = p < e ? PMB_HYP_PMD : PMB_HYP_EXACT;
}

static int check_run(const struct pmb_run *r)
{
	if (strcmp(r->schema, PMB_SCHEMA))
		return pmb_fail(ERR_SCHEMA, "%s: schema '%.40s' is not '%s': cannot model it",
				r->dir, r->schema, PMB_SCHEMA);
	if (strcmp(r->status, "complete"))
		return pmb_fail(ERR_NOTDONE, "%s: run status is '%s', not 'complete': the model "
				"cannot be fitted from this run", r->dir,
				*r->status ? r->status : "(none)");
	return 0;
}

static int model_run(struct mrun *m, const char *dir, unsigned nres, uint64_t seed)
{
	int err = pmb_run_load(dir, &m->r);

	if (!err)
		err = check_run(&m->r);
	if (!err)
		err = load_obs(m);
	if (err)
		return err;
	if (!m->nobs)
		return pmb_fail(ERR_NODATA, "%s: no measured samples of a read method (dense, "
				"batched, sparse, uring): the model cannot be fitted from this run",
				m->r.dir);
	err = point_fit(m);
	if (!err)
		err = bootstrap(m, nres, seed);
	if (!err)
		err = sparse_buckets(m);
	pick_better(m);
	return err == -EDOM ? ERR_NODATA : err;
}

static void mrun_free(struct mrun *m)
{
	int h, c;

	for (h = 0; h < PMB_NHYP; h++)
		for (c = 0; c < PMB_NCOEF; c++)
			free(m->fit[h].boot[c]);
	free(m->slope_boot);
	free(m->obs);
	free(m->gmed);
	free(m->grp);
	free(m->amp);
	pmb_strmap_free(&m->grp_map);
	pmb_strmap_free(&m->amp_map);
	free(m->src_start);
	for (size_t k = 0; k < m->nsrc; k++)
		if (m->src[k].cells)
			pmb_tsv_free(&m->src[k]);
	pmb_run_free(&m->r);
}

/* ---- the difference DIR2 - DIR ---- */

struct diff {
	struct est d;
	char verdict[200];
};

/* The difference of the point estimates, with the CI of the differences of the i-th resamples. */
static int diff_est(const double *b1, const double *b2, size_t nres, double v1, double v2,
		    struct est *d)
{
	double *v = malloc((nres + 1) * sizeof(double));
	int err;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nres; i++)
		v[i] = b2[i] - b1[i];
	d->v = v2 - v1;
	err = pmb_boot_ci(v, nres, &d->lo, &d->hi);
	free(v);
	return err;
}

/* " (+12.3% of DIR)", or "" when DIR's value is unknown or too close to 0 to scale by. */
static void rel_change(double d, double base, char *buf, size_t len)
{
	buf[0] = '\0';
	if (isfinite(d) && isfinite(base) && fabs(base) > 0 && fabs(d) <= 10 * fabs(base))
		snprintf(buf, len, " (%+.1f%% of DIR)", 100 * d / fabs(base));
}

static void diff_verdict(struct diff *df, const char *name, const char *unit, double base)
{
	const struct est *d = &df->d;
	char rel[48];

	if (!isfinite(d->v))
		snprintf(df->verdict, sizeof(df->verdict), "%s: not identifiable in one of the runs",
			 name);
	else if (!isfinite(d->lo))
		snprintf(df->verdict, sizeof(df->verdict), "%s: no CI (too many singular "
			 "resamples)", name);
	else if (d->lo > 0 || d->hi < 0) {
		rel_change(d->v, base, rel, sizeof(rel));
		snprintf(df->verdict, sizeof(df->verdict), "%s %s by %.4g %s [%.4g, %.4g]%s", name,
			 d->v > 0 ? "rises" : "falls", fabs(d->v), unit, d->lo, d->hi, rel);
	}
	else
		snprintf(df->verdict, sizeof(df->verdict), "%s: no change within noise "
			 "(%+.4g %s [%.4g, %.4g])", name, d->v, unit, d->lo, d->hi);
}

static int model_diff(struct mrun *m1, struct mrun *m2, unsigned nres,
		      struct diff df[PMB_NHYP][PMB_NCOEF + 1])
{
	int h, c, err = 0;

	for (h = 0; h < PMB_NHYP && !err; h++)
		for (c = 0; c < PMB_NCOEF && !err; c++) {
			err = diff_est(m1->fit[h].boot[c], m2->fit[h].boot[c], nres,
				       m1->fit[h].coef[c].v, m2->fit[h].coef[c].v, &df[h][c].d);
			diff_verdict(&df[h][c], coef_name[c], coef_unit[c],
				     m1->fit[h].coef[c].v);
		}
	if (!err)
		err = diff_est(m1->slope_boot, m2->slope_boot, nres, m1->slope.v, m2->slope.v,
			       &df[0][PMB_NCOEF].d);
	diff_verdict(&df[0][PMB_NCOEF], "sparse slope", "ns per PMD position", m1->slope.v);
	return err;
}

/* The hypothesis to headline a comparison with: the lower summed RMS error. */
static int joint_better(const struct mrun *m1, const struct mrun *m2)
{
	double e = m1->fit[PMB_HYP_EXACT].rms + m2->fit[PMB_HYP_EXACT].rms;
	double p = m1->fit[PMB_HYP_PMD].rms + m2->fit[PMB_HYP_PMD].rms;

	return p < e ? PMB_HYP_PMD : PMB_HYP_EXACT;
}

/* ---- output ---- */

static void fmt_est(const struct est *e, char *buf, size_t len)
{
	if (!isfinite(e->v))
		snprintf(buf, len, "-");
	else if (!isfinite(e->lo))
		snprintf(buf, len, "%.4g [no CI]", e->v);
	else
		snprintf(buf, len, "%.4g [%.4g, %.4g]", e->v, e->lo, e->hi);
}

static const char *better_name(int b)
{
	return b < 0 ? "tie" : pmb_model_hyp_name(b);
}

static void print_inputs(const struct mrun *m, FILE *f)
{
	size_t i, excluded = m->excl_other;

	fprintf(f, "%zu measured samples of dense/batched/sparse/uring in %zu series; least "
		   "squares, %s\n", m->nobs, m->ngrp,
		m->weight == W_OLS ? "unweighted (OLS)" : m->weight == W_RELATIVE ?
		"weighted by 1/predicted^2 (relative errors)" :
		"weighted by 1/predicted^2 and Huber's weight of the relative residual (robust)");
	for (i = 0; i < m->nexcl; i++)
		excluded += m->excl[i].rows;
	if (excluded) {
		fprintf(f, "excluded (they time no pagemap read() walk):");
		for (i = 0; i < m->nexcl; i++)
			fprintf(f, " %s %zu", m->excl[i].method, m->excl[i].rows);
		if (m->excl_other)
			fprintf(f, " other %zu", m->excl_other);
		fprintf(f, "\n");
	}
	if (m->start_unknown)
		fprintf(f, "region start: %zu case(s) without a known start_pmd_pos in cases.tsv "
			   "are assumed to start on a 2 MiB boundary\n", m->start_unknown);
	if (m->nsrc)
		fprintf(f, "region start: merged from %zu runs, %zu of whose cases.tsv were found "
			   "(each sample uses its own run's start_pmd_pos)\n", m->nsrc,
			m->src_found);
	if (m->nambig)
		fprintf(f, "sparse: %zu reads at PMD positions that the region's last, partial "
			   "block shares are left out of the fits (their walk is one of two; they "
			   "stay in the position analysis)\n", m->nambig);
	if (m->src_fallback)
		fprintf(f, "region start: %zu samples use cases.tsv's start_pmd_pos, which is "
			   "their source run's only by chance (source not found)\n",
			m->src_fallback);
	if (m->batch_fixed)
		fprintf(f, "note: %zu rows had a batch that does not match their reads; used "
			   "entries/reads\n", m->batch_fixed);
}

static void print_fits(const struct mrun *m, FILE *f)
{
	char buf[64];
	int h, c;

	fprintf(f, "%-10s %-38s %-38s %s\n", "coef", "exact [95% CI]", "pmd [95% CI]", "unit");
	for (c = 0; c < PMB_NCOEF; c++) {
		fprintf(f, "%-10s", coef_name[c]);
		for (h = 0; h < PMB_NHYP; h++) {
			fmt_est(&m->fit[h].coef[c], buf, sizeof(buf));
			fprintf(f, " %-38s", buf);
		}
		fprintf(f, " %s\n", coef_unit[c]);
	}
	for (h = 0; h < PMB_NHYP; h++)
		fprintf(f, "%s: RMS relative error %.2f%% per sample (median %.2f%%), %.2f%% per "
			   "series median\n", pmb_model_hyp_name(h), 100 * m->fit[h].rms,
			100 * m->fit[h].mare, 100 * m->fit[h].srms);
	for (h = 0; h < PMB_NHYP; h++)
		if (m->fit[h].downweighted)
			fprintf(f, "%s: %zu of %zu samples downweighted as outliers\n",
				pmb_model_hyp_name(h), m->fit[h].downweighted, m->nobs);
	for (h = 0; h < PMB_NHYP; h++)
		for (c = 0; c < PMB_NCOEF; c++)
			if (m->fit[h].why[c])
				fprintf(f, "%s (%s): %s\n", coef_name[c], pmb_model_hyp_name(h),
					m->fit[h].why[c]);
	if (m->better < 0)
		fprintf(f, "better fit: neither (RMS relative errors within %g%% of each other)\n",
			TIE_PCT);
	else
		fprintf(f, "better fit: %s (RMS relative error %.2f%% against %.2f%%)\n",
			pmb_model_hyp_name(m->better), 100 * m->fit[m->better].rms,
			100 * m->fit[!m->better].rms);
}

static void print_sparse(const struct mrun *m, FILE *f)
{
	char buf[64];
	int b;

	fprintf(f, "walk amplification (entries walked per entry returned):\n");
	for (size_t i = 0; i < m->namp; i++)
		fprintf(f, "  %-8s batch %-8lld exact %8.2f   pmd %8.2f\n", m->amp[i].method,
			m->amp[i].batch, m->amp[i].walked[0] / m->amp[i].entries,
			m->amp[i].walked[1] / m->amp[i].entries);
	if (!m->nsparse) {
		fprintf(f, "sparse: no sparse reads in this run\n");
		return;
	}
	fmt_est(&m->slope, buf, sizeof(buf));
	fprintf(f, "sparse: %zu reads; slope of ns against pmd_pos: %s ns per position\n",
		m->nsparse, buf);
	fprintf(f, "sparse median ns per pmd_pos bucket (first position of each 8):\n");
	for (b = 0; b < PMB_MODEL_BUCKETS; b++)
		fprintf(f, "%s%3d:%-7.0f%s", b % 8 ? " " : "  ", b * 8, m->bucket_med[b],
			b % 8 == 7 ? "\n" : "");
}

/* The median of v (n, reordered), NAN when empty. */
static double median_of(double *v, size_t n)
{
	if (!n)
		return NAN;
	pmb_sort(v, n);
	return pmb_quantile(v, n, 0.5);
}

/*
 * The series of each case, method and batch (series pooled), in the order
 * they first appear: pool[i] of group i, order[] the groups pool by pool,
 * start[] where each pool begins.  Linear in the groups.
 */
static int pool_groups(const struct mrun *m, size_t **order_out, size_t **start_out,
		       size_t *npool)
{
	size_t *pool = malloc((m->ngrp + 1) * sizeof(size_t));
	size_t *order = malloc((m->ngrp + 1) * sizeof(size_t));
	size_t *start = calloc(m->ngrp + 2, sizeof(size_t));
	struct pmb_strmap map = { 0 };
	char key[512];
	size_t i, n = 0;
	int err = pool && order && start ? 0 : -ENOMEM;

	for (i = 0; i < m->ngrp && !err; i++) {
		const struct group *g = &m->grp[i];

		snprintf(key, sizeof(key), "%zu\t%s\t%lld", g->cidx, g->method, g->batch);
		pool[i] = pmb_strmap_get(&map, key);
		if (pool[i] == (size_t)-1) {
			pool[i] = n++;
			err = pmb_strmap_put(&map, key, pool[i]);
		}
		if (!err)
			start[pool[i] + 1]++;
	}
	pmb_strmap_free(&map);
	if (err) {
		free(pool);
		free(order);
		free(start);
		return err;
	}
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (i = 0; i < m->ngrp; i++)
		order[start[pool[i]]++] = i;
	for (i = n; i > 0; i--)		/* undo the fill: start[p] is pool p's first again */
		start[i] = start[i - 1];
	start[0] = 0;
	free(pool);
	*order_out = order;
	*start_out = start;
	*npool = n;
	return 0;
}

/* One line per case, method and batch (series pooled): median observed and predicted ns. */
static int print_residuals(const struct mrun *m, int h, FILE *f)
{
	double *y = malloc((m->nobs + 1) * sizeof(double));
	double *p = malloc((m->nobs + 1) * sizeof(double));
	double beta[PMB_NCOEF];
	size_t *order = NULL, *start = NULL, npool = 0, q, j, k, n;
	int c, err = y && p ? pool_groups(m, &order, &start, &npool) : -ENOMEM;

	if (err) {
		free(y);
		free(p);
		return err;
	}
	for (c = 0; c < PMB_NCOEF; c++)
		beta[c] = m->fit[h].use[c] ? m->fit[h].coef[c].v : 0;
	fprintf(f, "residuals under '%s' (median ns per read or pass, series pooled):\n",
		pmb_model_hyp_name(h));
	fprintf(f, "  %-52s %-8s %6s %12s %12s %8s\n", "case", "method", "batch", "observed",
		"predicted", "pred/obs");
	for (q = 0; q < npool; q++) {
		const struct group *g = &m->grp[order[start[q]]];
		double my, mp;

		for (n = 0, j = start[q]; j < start[q + 1]; j++) {
			const struct group *o = &m->grp[order[j]];

			for (k = 0; k < o->n; k++) {
				if (m->obs[o->start + k].skip)
					continue;
				y[n] = m->obs[o->start + k].y;
				p[n++] = pred_of(&m->obs[o->start + k], h, beta);
			}
		}
		my = median_of(y, n);
		mp = median_of(p, n);
		fprintf(f, "  %-52s %-8s %6lld %12.0f %12.0f %8.3f\n", m->r.cases[g->cidx].id,
			g->method, g->batch, my, mp, mp / my);
	}
	free(order);
	free(start);
	free(y);
	free(p);
	return 0;
}

static void print_run(const struct mrun *m, const char *label, FILE *f)
{
	fprintf(f, "== %s %s (run %s, kernel %s)\n", label, m->r.dir, m->r.run_id,
		m->r.krelease);
	print_inputs(m, f);
	print_fits(m, f);
	print_sparse(m, f);
}

static void print_diff(struct diff df[PMB_NHYP][PMB_NCOEF + 1], int h, FILE *f)
{
	int c;

	fprintf(f, "== DIR2 - DIR under the '%s' hypothesis (the better fit over both runs)\n",
		pmb_model_hyp_name(h));
	for (c = 0; c < PMB_NCOEF; c++)
		fprintf(f, "  %s\n", df[h][c].verdict);
	fprintf(f, "  %s\n", df[0][PMB_NCOEF].verdict);
}

/* A TSV row of the long table. */
static void tsv_row(FILE *f, const char *run, const char *hyp, const char *qty, const char *key,
		    const struct est *e, size_t n, const char *unit, const char *note)
{
	fprintf(f, "%s\t%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t%zu\t%s\t%s\n", run, hyp, qty, key, e->v,
		e->lo, e->hi, n, unit, note ? note : "");
}

static void tsv_run(FILE *f, const struct mrun *m, const char *run)
{
	char key[256];
	size_t i;
	int h, c;

	for (h = 0; h < PMB_NHYP; h++) {
		const struct hypfit *fit = &m->fit[h];
		struct est rms = { fit->rms, NAN, NAN }, mre = { fit->mare, NAN, NAN };
		struct est srms = { fit->srms, NAN, NAN };
		struct est dw = { (double)fit->downweighted, NAN, NAN };

		for (c = 0; c < PMB_NCOEF; c++)
			tsv_row(f, run, pmb_model_hyp_name(h), coef_name[c], "-", &fit->coef[c],
				m->nobs, coef_unit[c], fit->why[c]);
		tsv_row(f, run, pmb_model_hyp_name(h), "rms_rel_err", "-", &rms, m->nobs,
			"fraction", m->better == h ? "better fit" : "");
		tsv_row(f, run, pmb_model_hyp_name(h), "median_abs_rel_err", "-", &mre, m->nobs,
			"fraction", "");
		tsv_row(f, run, pmb_model_hyp_name(h), "series_rms_rel_err", "-", &srms, m->ngrp,
			"fraction", "series medians against the median prediction");
		tsv_row(f, run, pmb_model_hyp_name(h), "downweighted", "-", &dw, m->nobs,
			"samples", "robust weighting: outliers given less than full weight");
		for (i = 0; i < m->namp; i++) {
			struct est a = { m->amp[i].walked[h] / m->amp[i].entries, NAN, NAN };

			snprintf(key, sizeof(key), "%s:%lld", m->amp[i].method, m->amp[i].batch);
			tsv_row(f, run, pmb_model_hyp_name(h), "walk_amplification", key, &a,
				m->amp[i].n, "entries walked per entry returned", "");
		}
	}
	tsv_row(f, run, "-", "sparse_slope", "-", &m->slope, m->nsparse, "ns per PMD position",
		"");
	for (i = 0; i < PMB_MODEL_BUCKETS; i++) {
		struct est b = { m->bucket_med[i], NAN, NAN };

		snprintf(key, sizeof(key), "%zu-%zu", i * 8, i * 8 + 7);
		tsv_row(f, run, "-", "sparse_median_ns", key, &b, m->bucket_n[i], "ns", "");
	}
}

static void tsv_diff(FILE *f, struct diff df[PMB_NHYP][PMB_NCOEF + 1], int best, size_t n)
{
	int h, c;

	for (h = 0; h < PMB_NHYP; h++)
		for (c = 0; c < PMB_NCOEF; c++)
			tsv_row(f, "diff", pmb_model_hyp_name(h), coef_name[c],
				h == best ? "headline" : "-", &df[h][c].d, n, coef_unit[c],
				df[h][c].verdict);
	tsv_row(f, "diff", "-", "sparse_slope", "-", &df[0][PMB_NCOEF].d, n,
		"ns per PMD position", df[0][PMB_NCOEF].verdict);
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *est_json(const struct est *e)
{
	return json_pack("{s:o, s:o, s:o}", "value", jnum(e->v), "ci_lo", jnum(e->lo),
			 "ci_hi", jnum(e->hi));
}

static json_t *fit_json(const struct hypfit *fit)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:I}", "rms_rel_err", jnum(fit->rms),
			      "median_abs_rel_err", jnum(fit->mare),
			      "series_rms_rel_err", jnum(fit->srms),
			      "downweighted", (json_int_t)fit->downweighted);
	int c;

	for (c = 0; o && c < PMB_NCOEF; c++) {
		json_t *e = est_json(&fit->coef[c]);

		if (e) {
			json_object_set_new(e, "unit", json_string(coef_unit[c]));
			json_object_set_new(e, "identifiable", json_boolean(fit->use[c]));
			if (fit->why[c])
				json_object_set_new(e, "note", json_string(fit->why[c]));
		}
		json_object_set_new(o, coef_name[c], e ? e : json_null());
	}
	return o;
}

static json_t *amp_json(const struct mrun *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < m->namp; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:f, s:f}",
			"method", m->amp[i].method, "batch", (json_int_t)m->amp[i].batch,
			"samples", (json_int_t)m->amp[i].n,
			"exact", m->amp[i].walked[0] / m->amp[i].entries,
			"pmd", m->amp[i].walked[1] / m->amp[i].entries));
	return a;
}

static json_t *sparse_json(const struct mrun *m)
{
	json_t *b = json_array();
	int i;

	for (i = 0; b && i < PMB_MODEL_BUCKETS; i++)
		json_array_append_new(b, json_pack("{s:i, s:i, s:I, s:o}", "pos_lo", i * 8,
			"pos_hi", i * 8 + 7, "n", (json_int_t)m->bucket_n[i],
			"median_ns", jnum(m->bucket_med[i])));
	return json_pack("{s:I, s:o, s:o}", "reads", (json_int_t)m->nsparse,
			 "slope_ns_per_pos", est_json(&m->slope), "buckets", b);
}

static json_t *excl_json(const struct mrun *m)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < m->nexcl; i++)
		json_object_set_new(o, m->excl[i].method, json_integer((json_int_t)m->excl[i].rows));
	return o;
}

static json_t *run_json(const struct mrun *m)
{
	json_t *fits = json_object();
	int h;

	for (h = 0; fits && h < PMB_NHYP; h++)
		json_object_set_new(fits, pmb_model_hyp_name(h), fit_json(&m->fit[h]));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o, s:s, "
			 "s:o, s:o}",
			 "dir", m->r.dir, "run_id", m->r.run_id, "kernel_release", m->r.krelease,
			 "kernel_version", m->r.kversion, "samples", (json_int_t)m->nobs,
			 "series", (json_int_t)m->ngrp, "excluded_rows", excl_json(m),
			 "cases_start_assumed_aligned", (json_int_t)m->start_unknown,
			 "merged_sources_found", (json_int_t)m->src_found,
			 "samples_start_from_first_source", (json_int_t)m->src_fallback,
			 "sparse_reads_left_out", (json_int_t)m->nambig,
			 "fits", fits, "better_fit", better_name(m->better),
			 "walk_amplification", amp_json(m), "sparse", sparse_json(m));
}

static json_t *diff_json(struct diff df[PMB_NHYP][PMB_NCOEF + 1], int best)
{
	json_t *o = json_pack("{s:s}", "headline_hypothesis", pmb_model_hyp_name(best));
	int h, c;

	for (h = 0; o && h < PMB_NHYP; h++) {
		json_t *hj = json_object();

		for (c = 0; hj && c < PMB_NCOEF; c++) {
			json_t *e = est_json(&df[h][c].d);

			if (e)
				json_object_set_new(e, "verdict", json_string(df[h][c].verdict));
			json_object_set_new(hj, coef_name[c], e ? e : json_null());
		}
		json_object_set_new(o, pmb_model_hyp_name(h), hj ? hj : json_null());
	}
	if (o) {
		json_t *e = est_json(&df[0][PMB_NCOEF].d);

		if (e)
			json_object_set_new(e, "verdict", json_string(df[0][PMB_NCOEF].verdict));
		json_object_set_new(o, "sparse_slope", e ? e : json_null());
	}
	return o;
}

/* ---- the output files ---- */

struct model_opts {
	const char *pos[2], *out;
	uint64_t seed;
	unsigned resamples;
	int weight;		/* enum weighting */
	bool residuals;
};

/* Where the outputs go: the directory, and the file names' stem, of PREFIX. */
struct outnames {
	char dir[4096];
	const char *stem;
	char tsv[512], js[512];		/* names in dir */
	char show_tsv[4600], show_js[4600];	/* as the user named them */
};

/*
 * PREFIX.tsv and PREFIX.json, else PREFIX-2.*, PREFIX-3.*...: the first pair
 * of which neither name exists, not even as a (dangling) symbolic link.
 * pmb_out_create then makes them exclusively, so a name that appears in
 * between is an error, never overwritten.
 */
static int pick_names(const char *prefix, struct outnames *o)
{
	const char *slash = strrchr(prefix, '/');
	struct stat st;
	size_t n;

	o->stem = slash ? slash + 1 : prefix;
	if (!*o->stem)
		return pmb_fail(-EINVAL, "%s: the output prefix ends in '/' (it names files, "
				"PREFIX.tsv and PREFIX.json)", prefix);
	n = !slash ? 0 : slash == prefix ? 1 : (size_t)(slash - prefix);
	if (n >= sizeof(o->dir) || strlen(o->stem) > 200)
		return pmb_fail(-ENAMETOOLONG, "%.80s...: the output prefix is too long", prefix);
	if (n)
		memcpy(o->dir, prefix, n);
	else
		o->dir[n++] = '.';
	o->dir[n] = '\0';
	if (stat(o->dir, &st))
		return pmb_err(-errno, "%s", o->dir);
	if (!S_ISDIR(st.st_mode))
		return pmb_fail(-ENOTDIR, "%s: not a directory", o->dir);
	for (int i = 1; i < 1000; i++) {
		char num[16] = "", path[4800];
		bool taken = false;

		if (i > 1)
			snprintf(num, sizeof(num), "-%d", i);
		snprintf(o->tsv, sizeof(o->tsv), "%s%s.tsv", o->stem, num);
		snprintf(o->js, sizeof(o->js), "%s%s.json", o->stem, num);
		for (int k = 0; k < 2 && !taken; k++) {
			snprintf(path, sizeof(path), "%s/%s", o->dir, k ? o->js : o->tsv);
			if (!lstat(path, &st))
				taken = true;
			else if (errno != ENOENT)
				return pmb_err(-errno, "%s", path);
		}
		if (!taken) {
			snprintf(o->show_tsv, sizeof(o->show_tsv), "%s%s.tsv", prefix, num);
			snprintf(o->show_js, sizeof(o->show_js), "%s%s.json", prefix, num);
			return 0;
		}
	}
	return pmb_fail(-EEXIST, "%s.tsv: 999 outputs of that name exist already", prefix);
}

/* Remove an output that could not be written whole. */
static void unlink_out(const char *dir, const char *name)
{
	char path[4800];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void default_prefix(const struct mrun *m, int nrun, char *prefix, size_t len)
{
	const char *base;

	if (nrun == 1) {
		snprintf(prefix, len, "%s/model", m[0].r.dir);
		return;
	}
	base = strrchr(m[0].r.dir, '/');
	snprintf(prefix, len, "%s/model-vs-%s", m[1].r.dir, base ? base + 1 : m[0].r.dir);
}

static int write_outputs(const struct model_opts *o, struct mrun *m, int nrun,
			 struct diff df[PMB_NHYP][PMB_NCOEF + 1], int best)
{
	static const char *const label[2] = { "DIR", "DIR2" };
	static struct outnames on;
	char prefix[4200];
	json_t *root, *runs;
	FILE *ft, *fj;
	int i, err;

	if (o->out)
		snprintf(prefix, sizeof(prefix), "%s", o->out);
	else
		default_prefix(m, nrun, prefix, sizeof(prefix));
	err = pick_names(prefix, &on);
	if (err)
		return err;
	ft = pmb_out_create(on.dir, on.tsv);
	if (!ft)
		return -EIO;
	fj = pmb_out_create(on.dir, on.js);
	if (!fj) {
		fclose(ft);
		unlink_out(on.dir, on.tsv);
		return -EIO;
	}
	runs = json_array();
	fprintf(ft, "# pagemap-bench model v1\nrun\thypothesis\tquantity\tkey\tvalue\tci_lo\t"
		    "ci_hi\tn\tunit\tnote\n");
	for (i = 0; i < nrun; i++) {
		tsv_run(ft, &m[i], label[i]);
		json_array_append_new(runs, run_json(&m[i]));
	}
	if (nrun == 2)
		tsv_diff(ft, df, best, o->resamples);
	root = json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:o}", "schema", PMB_MODEL_SCHEMA,
			 "seed", (json_int_t)o->seed, "resamples", (json_int_t)o->resamples,
			 "weight", weight_name[o->weight], "model", MODEL_FORMULA,
			 "runs", runs, "diff", nrun == 2 ? diff_json(df, best) : json_null());
	err = 0;
	if (!root || json_dumpf(root, fj, JSON_INDENT(1) | JSON_SORT_KEYS))
		err = pmb_fail(-EIO, "writing %s/%s failed", on.dir, on.js);
	json_decref(root);
	err = pmb_out_close(ft, on.dir, on.tsv) ?: err;
	err = pmb_out_close(fj, on.dir, on.js) ?: err;
	if (err) {
		unlink_out(on.dir, on.tsv);	/* nothing half-written stays behind */
		unlink_out(on.dir, on.js);
		return err;
	}
	printf("Wrote %s and %s\n", on.show_tsv, on.show_js);
	return 0;
}

/* ---- the subcommand ---- */

#define STR_(x) #x
#define STR(x) STR_(x)
#define OFF(f) offsetof(struct model_opts, f)
static const struct pmb_opt model_opts[] = {
	{ "out", 0, PMB_OPT_STR, OFF(out), "FILE_PREFIX",
	  "write FILE_PREFIX.tsv and FILE_PREFIX.json (default\n"
	  "DIR/model; with DIR2, DIR2/model-vs-<DIR name>);\n"
	  "FILE_PREFIX-2.*, -3.* ... rather than overwrite" },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "S", "bootstrap seed (default 1)", .max = UINT64_MAX },
	{ "resamples", 0, PMB_OPT_UINT32, OFF(resamples), "N",
	  "bootstrap resamples (default " STR(PMB_MODEL_RESAMPLES) ")", .min = 10, .max = 100000 },
	{ "weight", 0, PMB_OPT_INDEX, OFF(weight), "W",
	  "robust (default): relative errors, outliers\n"
	  "downweighted (Huber); relative: relative errors;\n"
	  "ols: unweighted", .words = weight_name },
	{ "residuals", 0, PMB_OPT_FLAG, OFF(residuals), NULL,
	  "print, per case, method and batch, the median\n"
	  "observed and predicted ns (better hypothesis)", .set = 1 },
};
#undef OFF

const struct pmb_opt_spec pmb_model_spec = {
	.prog = "pmbench model", .args = "DIR [DIR2] [options]",
	.about = "Fit ns = a*syscalls + r*entries_returned + b*none_ptes + b_present*present_ptes\n"
		 "+ b_swap*swap_ptes + b_hole*entries_without_page_table + c*none_ptes_in_shmem\n"
		 "(entries walked of each kind, from cases.tsv's true counts) to the measured\n"
		 "samples of the read methods (dense, batched, sparse, uring; swapin, userspace\n"
		 "and scan-ioctl are excluded) under two hypotheses of how far a read walks:\n"
		 "'exact' (L entries) and 'pmd' (to the end of the last entry's 2 MiB block).\n"
		 "Bootstrap 95% CIs, the sparse cost against pmd_pos, the walk amplification;\n"
		 "with DIR2, DIR2 - DIR per coefficient with a verdict.  docs/model.md.\n",
	.opts = model_opts, .nopts = sizeof(model_opts) / sizeof(model_opts[0]),
	.min_pos = 1, .max_pos = 2,
	.more = "exit: 0 done, 3 harness error, 64 bad input (missing run, schema, a malformed\n"
		"      file), 77 the model cannot be fitted from a run (no samples, singular,\n"
		"      incomplete)\n",
};

static int exit_code(int err)
{
	if (!err)
		return PMB_EXIT_PASS;
	if (err == ERR_NODATA || err == ERR_NOTDONE)
		return PMB_EXIT_SKIP;
	if (err == ERR_SCHEMA || pmb_bad_input(err))
		return PMB_EXIT_USAGE;
	return PMB_EXIT_ERROR;
}

int cmd_model(int argc, char **argv)
{
	struct model_opts o = { .seed = 1, .resamples = PMB_MODEL_RESAMPLES, .weight = W_ROBUST };
	static struct diff df[PMB_NHYP][PMB_NCOEF + 1];
	static struct mrun m[2];
	int i, err, best = PMB_HYP_EXACT;
	unsigned ndirs;

	err = pmb_opt_parse(&pmb_model_spec, argc, argv, &o, o.pos, &ndirs, NULL);
	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	memset(m, 0, sizeof(m));
	for (i = 0; i < (int)ndirs && !err; i++) {
		m[i].weight = (enum weighting)o.weight;
		err = model_run(&m[i], o.pos[i], o.resamples,
				o.seed ^ (UINT64_C(0x6d6f64656c000000) * (uint64_t)(i + 1)));
	}
	if (!err && ndirs == 2) {
		err = model_diff(&m[0], &m[1], o.resamples, df);
		best = joint_better(&m[0], &m[1]);
	}
	if (!err) {
		for (i = 0; i < (int)ndirs; i++)
			print_run(&m[i], i ? "DIR2" : "DIR", stdout);
		for (i = 0; i < (int)ndirs && o.residuals && !err; i++)
			err = print_residuals(&m[i], m[i].better < 0 ? PMB_HYP_PMD : m[i].better,
					      stdout);
		if (!err && ndirs == 2)
			print_diff(df, best, stdout);
		if (!err)
			err = write_outputs(&o, m, (int)ndirs, df, best);
	}
	for (i = 0; i < 2; i++)
		mrun_free(&m[i]);
	if (err == -ENOMEM)
		pmb_err(err, "model");
	return exit_code(err);
}
