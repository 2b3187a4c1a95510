// SPDX-License-Identifier: GPL-2.0
/*
 * The parameters of pmbench run and verify: profiles, and one table of
 * options (lib/opt.h) whose lists are checked against the catalog.
 */
#include "run.h"
#include "catalog/catalog.h"
#include "lib/opt.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct profile {
	const char *name, *desc;
	const char *kinds, *swapouts, *sizes, *dirty, *swapped, *methods, *batches;
	unsigned rounds, warmup, series, sparse_reads, swapin_rounds;
	double precision;	/* target half-width, % */
	unsigned time_budget;	/* s per case */
};

static const struct profile profiles[] = {
	{ "cover-letter", "the 2021 cover letter scaled to fit: 4 GiB under a 1 GiB limit, batch sweep",
	  "private-anon,shared-anon", "cgroup", "4G", "0,50,100", "75", "batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 3, 1, 2, 64, 0, 1.0, 90 },
	{ "cover-letter-full", "the 2021 cover letter at full size: 16 GiB under a 4 GiB limit, batch sweep",
	  "private-anon,shared-anon", "cgroup", "16G", "0,50,100", "75", "batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 2, 1, 2, 64, 0, 1.0, 50 },
	{ "quick", "the default: 3 kinds x 2 swap-out modes, 64 MiB, 50% swapped, all methods",
	  "memfd,shared-anon,private-anon", "pageout,cgroup", "64M", "100", "50", "dense,sparse,batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 10, 3, 3, 256, 5, 0.5, 10 },
	{ "standard", "sizes 64M and 256M, dirty 50/100%, swapped 0/50/100%",
	  "memfd,shared-anon,private-anon", "pageout,cgroup", "64M,256M", "50,100", "0,50,100",
	  "dense,sparse,batched", "1,2,4,8,16,32,64,128,256,512,1024", 10, 3, 3, 512, 5, 0.5, 20 },
};

static const struct profile *find_profile(const char *name)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

static bool in_set(const char *s, const char *const *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

/* What a list element must be: a catalog name, or anything (numbers are checked later). */
enum list_kind { L_ANY, L_KIND, L_METHOD, L_SWAPOUT, L_VIEW };

static bool list_ok(enum list_kind k, const char *v)
{
	const struct pmb_method_info *m;

	switch (k) {
	case L_KIND: return pmb_kind_find(v) != NULL;
	case L_METHOD: return (m = pmb_method_find(v)) && !(m->traits & PMB_M_METRIC);
	case L_SWAPOUT: return pmb_word_index(pmb_swapouts, v) >= 0;
	case L_VIEW: return pmb_word_index(pmb_views, v) >= 0;
	default: return true;
	}
}

/* Split a comma list; the strings point into a copy kept for the run. */
/*
 * The copies list values point into: kept for the process's life (the
 * parameters are), in one place, so that they stay reachable however a run
 * ends.  A list given again replaces its copy.
 */
#define NR_LIST_COPIES	16
static char *list_copies[NR_LIST_COPIES];

static char **copy_slot(const char *opt)
{
	static const char *owner[NR_LIST_COPIES];

	for (unsigned i = 0; i < NR_LIST_COPIES; i++)
		if (!owner[i] || !strcmp(owner[i], opt)) {
			owner[i] = opt;
			return &list_copies[i];
		}
	return NULL;
}

/* Split arg at commas into out[]; the values point into a copy that *copy holds after. */
static int split_into(const char *opt, const char *arg, const char **out, unsigned *n,
		      enum list_kind k, char **copy)
{
	char *tok, *save;
	int err = 0;

	*copy = strdup(arg);
	if (!*copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(*copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (*n == PMB_MAX_LIST)
			err = pmb_fail(-E2BIG, "%s: at most %d values", opt, PMB_MAX_LIST);
		else if (!list_ok(k, tok))
			err = pmb_fail(-EINVAL, "%s: unknown value '%s'", opt, tok);
		else if (in_set(tok, out, *n))	/* twice would mean two cases with one id */
			err = pmb_fail(-EINVAL, "%s: '%s' given twice", opt, tok);
		else
			out[(*n)++] = tok;
	}
	if (!err && !*n)
		err = pmb_fail(-EINVAL, "%s: empty list", opt);
	if (err) {
		free(*copy);
		*copy = NULL;
		*n = 0;
	}
	return err;
}

/* A list the parameters keep (names): its copy lives as long as the process. */
static int split(const char *opt, const char *arg, const char **out, unsigned *n, enum list_kind k)
{
	char **slot = copy_slot(opt), *copy;
	int err;

	if (!slot)
		return -ENOSPC;
	err = split_into(opt, arg, out, n, k, &copy);
	if (!err) {
		free(*slot);
		*slot = copy;
	}
	return err;
}

/* A value twice in a numeric list ("64M,65536K", "50,50%") would make two cases with one id. */
static int no_dup_u64(const char *opt, const uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (v[i] == v[j])
				return pmb_fail(-EINVAL, "%s: %" PRIu64 " given twice", opt, v[i]);
	return 0;
}

static int no_dup_double(const char *opt, const double *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (v[i] == v[j])
				return pmb_fail(-EINVAL, "%s: %g given twice", opt, v[i]);
	return 0;
}

static int parse_sizes(const char *opt, const char *arg, struct pmb_params *p)
{
	const char *v[PMB_MAX_LIST];
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE);
	char *copy;
	int err = split_into(opt, arg, v, &p->nsizes, L_ANY, &copy);

	for (unsigned i = 0; !err && i < p->nsizes; i++)
		if (pmb_parse_size(v[i], &p->sizes[i]) < 0 || p->sizes[i] < psz || p->sizes[i] % psz ||
		    p->sizes[i] / psz > PMB_MAX_PAGES)
			err = pmb_fail(-EINVAL, "%s: '%s' is not a size of whole pages up to %" PRIu64 "G "
				       "(e.g. 64M, 4G)", opt, v[i], PMB_MAX_PAGES * psz >> 30);
	free(copy);
	return err ? err : no_dup_u64(opt, p->sizes, p->nsizes);
}

static int parse_pcts(const char *opt, const char *arg, double *out, unsigned *n)
{
	const char *v[PMB_MAX_LIST];
	char *copy;
	int err = split_into(opt, arg, v, n, L_ANY, &copy);

	for (unsigned i = 0; !err && i < *n; i++)
		if (pmb_parse_pct(v[i], &out[i]) < 0)
			err = pmb_fail(-EINVAL, "%s: '%s' is not a percentage from 0 to 100", opt, v[i]);
	free(copy);
	return err ? err : no_dup_double(opt, out, *n);
}

static int parse_batches(const char *opt, const char *arg, struct pmb_params *p)
{
	const char *v[PMB_MAX_LIST];
	char *copy;
	int err = split_into(opt, arg, v, &p->nbatches, L_ANY, &copy);

	for (unsigned i = 0; !err && i < p->nbatches; i++)
		if (pmb_parse_u64(v[i], 1, 1 << 20, &p->batches[i]) < 0)
			err = pmb_fail(-EINVAL, "%s: '%s' is not a batch size from 1 to 1048576", opt, v[i]);
	free(copy);
	return err ? err : no_dup_u64(opt, p->batches, p->nbatches);
}

#define P(obj) ((struct pmb_params *)(obj))

static int o_profile(void *obj, const char *v, const char *name)
{
	if (!find_profile(v))
		return pmb_fail(-EINVAL, "--%s: unknown profile '%s' (quick, standard, cover-letter, "
				"cover-letter-full)", name, v);
	P(obj)->profile = v;
	return 0;
}
static int o_kinds(void *o, const char *v, const char *n) { (void)n; return split("--kinds", v, P(o)->kinds, &P(o)->nkinds, L_KIND); }
static int o_swapout(void *o, const char *v, const char *n) { (void)n; return split("--swapout", v, P(o)->swapouts, &P(o)->nswapouts, L_SWAPOUT); }
static int o_methods(void *o, const char *v, const char *n) { (void)n; return split("--methods", v, P(o)->methods, &P(o)->nmethods, L_METHOD); }
static int o_views(void *o, const char *v, const char *n) { (void)n; return split("--views", v, P(o)->views, &P(o)->nviews, L_VIEW); }
static int o_size(void *o, const char *v, const char *n) { (void)n; return parse_sizes("--size", v, P(o)); }
static int o_dirty(void *o, const char *v, const char *n) { (void)n; return parse_pcts("--dirty", v, P(o)->dirty, &P(o)->ndirty); }
static int o_swapped(void *o, const char *v, const char *n) { (void)n; return parse_pcts("--swapped", v, P(o)->swapped, &P(o)->nswapped); }
static int o_batches(void *o, const char *v, const char *n) { (void)n; return parse_batches("--batches", v, P(o)); }
static int o_verbose(void *o, const char *v, const char *n) { (void)o; (void)v; (void)n; pmb_verbose = 1; return 0; }

enum {	/* rows whose profile value applies unless given */
	R_PROFILE, R_KINDS, R_SWAPOUT, R_SIZE, R_DIRTY, R_SWAPPED, R_LAYOUT, R_METHODS, R_BATCHES,
	R_QD, R_VIEWS, R_TOUCH, R_SEQUENCE, R_NOSEQUENCE, R_SWAPIN, R_ROUNDS, R_WARMUP, R_SERIES,
	R_SPARSE, R_PRECISION, R_BUDGET,
};

#define OFF(f) offsetof(struct pmb_params, f)
static const struct pmb_opt run_opts[] = {
	[R_PROFILE] = { "profile", 0, PMB_OPT_FN, 0, "NAME", "quick (default), standard, cover-letter, cover-letter-full",
			.fn = o_profile },
	[R_KINDS] = { "kinds", 0, PMB_OPT_FN, 0, "LIST", "memory kinds (pmwork --list), e.g. memfd,shared-anon,private-anon",
		      .fn = o_kinds },
	[R_SWAPOUT] = { "swapout", 0, PMB_OPT_FN, 0, "LIST",
			"pageout (MADV_PAGEOUT on an exact set), cgroup (memory limit), none", .fn = o_swapout },
	[R_SIZE] = { "size", 0, PMB_OPT_FN, 0, "LIST", "region sizes, e.g. 64M,1G", .fn = o_size },
	[R_DIRTY] = { "dirty", 0, PMB_OPT_FN, 0, "LIST", "percent of pages written, e.g. 0,50,100", .fn = o_dirty },
	[R_SWAPPED] = { "swapped", 0, PMB_OPT_FN, 0, "LIST",
			"percent swapped (pageout: of the dirtied pages; cgroup: of the region,\n"
			"by setting the limit to the rest)", .fn = o_swapped },
	[R_LAYOUT] = { "layout", 0, PMB_OPT_WORD, OFF(layout), "L", "contiguous, strided or random (default) choice of pages",
		       .words = pmb_layouts },
	[R_METHODS] = { "methods", 0, PMB_OPT_FN, 0, "LIST", "scan methods (pmscan --list), e.g. dense,sparse,batched",
			.fn = o_methods },
	[R_BATCHES] = { "batches", 0, PMB_OPT_FN, 0, "LIST", "entries per read for methods that take a batch, e.g. 1,8,64,512",
			.fn = o_batches },
	[R_QD] = { "qd", 0, PMB_OPT_UINT32, OFF(qd), "N", "reads in flight for methods that take one (default 8)",
		   .min = 1, .max = 256 },
	[R_VIEWS] = { "views", 0, PMB_OPT_FN, 0, "LIST",
		      "whose pagemap is read: self (default), second-mapper (another\n"
		      "process maps the same shmem, never touching it), fork-child", .fn = o_views },
	[R_TOUCH] = { "touch", 0, PMB_OPT_WORD, OFF(touch), "MODE", "write (default: dirty with the pattern) or read (present, clean)",
		      .words = pmb_touches },
	[R_SEQUENCE] = { "sequence", 0, PMB_OPT_FLAG, OFF(sequence), NULL,
			 "add, per kind, the fault/pageout/fault/remove/pageout/remove sequence", .set = 1 },
	[R_NOSEQUENCE] = { "no-sequence", 0, PMB_OPT_FLAG, OFF(sequence), NULL, "leave the sequence out again", .set = 0 },
	[R_SWAPIN] = { "swapin-rounds", 0, PMB_OPT_UINT32, OFF(swapin_rounds), "N",
		       "time faulting every swapped page back in: once in each state as it is left, "
		       "N times in the last", .min = 0, .max = 1000 },
	[R_ROUNDS] = { "rounds", 0, PMB_OPT_UINT32, OFF(rounds), "N", "measured rounds per series (every method once per round)",
		       .min = 1, .max = 100000 },
	[R_WARMUP] = { "warmup", 0, PMB_OPT_UINT32, OFF(warmup), "N", "warm-up rounds per series, discarded", .min = 0, .max = 1000 },
	[R_SERIES] = { "series", 0, PMB_OPT_UINT32, OFF(series), "N",
		       "timed series per case, each on a fresh build of its state (the\n"
		       "least with --precision); the state is re-checked around each", .min = 1, .max = 1000 },
	[R_SPARSE] = { "sparse-reads", 0, PMB_OPT_UINT32, OFF(sparse_reads), "N", "single-entry reads per sparse sample",
		       .min = 1, .max = 1 << 20 },
	[R_PRECISION] = { "precision", 0, PMB_OPT_PCT, OFF(precision), "PCT",
			  "target 95% CI half-width of every series' median: add rounds and\n"
			  "fresh states until it is met or the budget is spent (0: fixed)" },
	[R_BUDGET] = { "time-budget", 0, PMB_OPT_UINT32, OFF(time_budget), "SEC",
		       "timing seconds per case at most with --precision (0: none)", .max = 86400 },
	{ "max-series", 0, PMB_OPT_UINT32, OFF(max_series), "N", "states per case at most with --precision (default 20)",
	  .min = 1, .max = 1000 },
	{ "extra-work", 0, PMB_OPT_UINT32, OFF(extra_work), "PCT",
	  "sensitivity checks only: every timed pass also reads PCT% of its\n"
	  "range again, counted as the range alone (default 0)", .max = 100 },
	{ "cpu", 0, PMB_OPT_UINT32, OFF(cpu), "N", "CPU to pin the reader to (default: the last one)", .min = 0,
	  .max = 4095 },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "N", "seed of every random choice (default 1)", .max = UINT64_MAX },
	{ "swap", 0, PMB_OPT_STR, OFF(swap), "S",
	  "zram (default: set up a zram device and remove it after),\n"
	  "existing (use the active swap), or a device/file path to swapon" },
	{ "swap-size", 0, PMB_OPT_SIZE, OFF(swap_size), "SIZE", "zram size (default: twice the largest region, at least 256M)",
	  .min = 1 << 20, .max = UINT64_C(1) << 44 },
	{ "cgroup", 0, PMB_OPT_WORD, OFF(cgroup), "MODE", "auto (default), v1 or v2", .words = (const char *const[]){ "auto", "v1", "v2", NULL } },
	{ "results", 0, PMB_OPT_STR, OFF(results), "DIR", "results root (default: results)" },
	{ "no-content-check", 0, PMB_OPT_FLAG, OFF(check_content), NULL, "do not read swap slots back", .set = 0 },
	{ "no-wait", 0, PMB_OPT_FLAG, OFF(no_wait), NULL, "when another run holds the machine (its swap is shared),\n"
	  "exit 77 instead of waiting for it", .set = 1 },
	{ "verbose", 'v', PMB_OPT_FN, 0, NULL, "more diagnostics on stderr", .fn = o_verbose, .no_value = 1 },
};
#undef OFF

static const char run_more[] =
	"exit codes: 0 done (run) or correct (verify), 2 incorrect kernel behaviour (verify),\n"
	"            3 harness error, 64 usage error, 77 cannot run here, 128+N interrupted by signal N\n";

const struct pmb_opt_spec pmb_run_spec = {
	.prog = "pmbench run", .args = "[options]",
	.about = "Run the matrix: build every case, judge it, time every method, write results/<run-id>/.\n",
	.opts = run_opts, .nopts = sizeof(run_opts) / sizeof(run_opts[0]), .more = run_more,
};

const struct pmb_opt_spec pmb_verify_spec = {
	.prog = "pmbench verify", .args = "[options]",
	.about = "Correctness only: build every case, compare pagemap with the oracle, print KTAP.\n",
	.opts = run_opts, .nopts = sizeof(run_opts) / sizeof(run_opts[0]), .more = run_more,
};

/* The profile's value for every list and count the command line did not give. */
static int apply_profile(struct pmb_params *p, const struct profile *pr, uint64_t seen)
{
#define UNSEEN(r) (!(seen & (UINT64_C(1) << (r))))
	int err = 0;

	if (UNSEEN(R_KINDS))
		err = err ?: split("--kinds", pr->kinds, p->kinds, &p->nkinds, L_KIND);
	if (UNSEEN(R_SWAPOUT))
		err = err ?: split("--swapout", pr->swapouts, p->swapouts, &p->nswapouts, L_SWAPOUT);
	if (UNSEEN(R_SIZE))
		err = err ?: parse_sizes("--size", pr->sizes, p);
	if (UNSEEN(R_DIRTY))
		err = err ?: parse_pcts("--dirty", pr->dirty, p->dirty, &p->ndirty);
	if (UNSEEN(R_SWAPPED))
		err = err ?: parse_pcts("--swapped", pr->swapped, p->swapped, &p->nswapped);
	if (UNSEEN(R_METHODS))
		err = err ?: split("--methods", pr->methods, p->methods, &p->nmethods, L_METHOD);
	if (UNSEEN(R_BATCHES))
		err = err ?: parse_batches("--batches", pr->batches, p);
	if (UNSEEN(R_ROUNDS))
		p->rounds = pr->rounds;
	if (UNSEEN(R_WARMUP))
		p->warmup = pr->warmup;
	if (UNSEEN(R_SERIES))
		p->series = pr->series;
	if (UNSEEN(R_SPARSE))
		p->sparse_reads = pr->sparse_reads;
	if (UNSEEN(R_SWAPIN))
		p->swapin_rounds = pr->swapin_rounds;
	if (UNSEEN(R_PRECISION))
		p->precision = pr->precision;
	if (UNSEEN(R_BUDGET))
		p->time_budget = pr->time_budget;
#undef UNSEEN
	return err ? -EINVAL : 0;
}

int pmb_params_parse(int argc, char **argv, struct pmb_params *p, bool verify)
{
	const struct pmb_opt_spec *spec = verify ? &pmb_verify_spec : &pmb_run_spec;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned npos;
	uint64_t seen;
	int err;

	memset(p, 0, sizeof(*p));
	p->profile = "quick";
	p->layout = "random";
	p->seed = 1;
	p->cpu = ncpu > 0 ? (unsigned)ncpu - 1 : 0;
	p->swap = "zram";
	p->cgroup = "auto";
	p->results = "results";
	p->timing = !verify;
	p->check_content = true;
	p->qd = 8;
	p->max_series = 20;
	p->views[0] = "self";
	p->nviews = 1;
	p->touch = "write";
	err = pmb_opt_parse(spec, argc, argv, p, NULL, &npos, &seen);
	if (err)
		return err;
	if (apply_profile(p, find_profile(p->profile), seen))
		return -EINVAL;
	if (p->max_series < p->series)
		p->max_series = p->series;
	if ((long)p->cpu >= ncpu)
		return pmb_fail(-EINVAL, "--cpu: %u is not an online CPU (0..%ld)", p->cpu, ncpu - 1);
	if (!p->swap_size) {
		uint64_t max = 0;

		for (unsigned k = 0; k < p->nsizes; k++)
			if (p->sizes[k] > max)
				max = p->sizes[k];
		p->swap_size = 2 * max < (256 << 20) ? (256 << 20) : 2 * max;
	}
	return 0;
}
