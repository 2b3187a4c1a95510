// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench run / verify / cleanup: build each memory state with pmwork, judge
 * it against the oracle, time it with pmscan, keep every raw sample.
 */
#include "harness/cmd.h"
#include "run.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int pmb_stop_signal;

static void on_signal(int sig)
{
	pmb_stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: blocking calls return EINTR */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- options */

static const char *const known_kinds[] = { "file-disk", "memfd", "private-anon", "shared-anon", "sysv-shm",
					   "thp-shmem", "tmpfs" };
static const char *const known_swapouts[] = { "cgroup", "none", "pageout" };
static const char *const known_views[] = { "fork-child", "second-mapper", "self" };
static const char *const known_methods[] = { "batched", "dense", "scan-ioctl", "sparse", "uring", "userspace" };

struct profile {
	const char *name, *desc;
	const char *kinds, *swapouts, *sizes, *dirty, *swapped, *methods, *batches;
	unsigned rounds, warmup, series, sparse_reads, swapin_rounds;
};

static const struct profile profiles[] = {
	{ "cover-letter", "the 2021 cover letter scaled to fit: 4 GiB under a 1 GiB limit, batch sweep",
	  "private-anon,shared-anon", "cgroup", "4G", "0,50,100", "75", "batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 10, 3, 1, 0, 0 },
	{ "cover-letter-full", "the 2021 cover letter at full size: 16 GiB under a 4 GiB limit, batch sweep",
	  "private-anon,shared-anon", "cgroup", "16G", "0,50,100", "75", "batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 10, 3, 1, 0, 0 },
	{ "quick", "the default: 3 kinds x 2 swap-out modes, 64 MiB, 50% swapped, all methods",
	  "memfd,shared-anon,private-anon", "pageout,cgroup", "64M", "100", "50", "dense,sparse,batched",
	  "1,2,4,8,16,32,64,128,256,512,1024", 30, 3, 3, 256, 5 },
	{ "standard", "sizes 64M and 256M, dirty 50/100%, swapped 0/50/100%",
	  "memfd,shared-anon,private-anon", "pageout,cgroup", "64M,256M", "50,100", "0,50,100",
	  "dense,sparse,batched", "1,2,4,8,16,32,64,128,256,512,1024", 15, 3, 3, 512, 5 },
};

static const struct profile *find_profile(const char *name)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

static bool in_set(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

/* Split a comma list into p->list (strings point into a strdup'd copy kept for the run). */
static int split(const char *opt, const char *arg, const char **out, unsigned *n,
		 const char *const *allowed, size_t nallowed)
{
	char *copy = strdup(arg), *tok, *save;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == PMB_MAX_LIST)
			return pmb_fail(-E2BIG, "%s: at most %d values", opt, PMB_MAX_LIST);
		if (allowed && !in_set(tok, allowed, nallowed))
			return pmb_fail(-EINVAL, "%s: unknown value '%s'", opt, tok);
		if (in_set(tok, out, *n))	/* twice would mean two cases with one id */
			return pmb_fail(-EINVAL, "%s: '%s' given twice", opt, tok);
		out[(*n)++] = tok;
	}
	if (!*n)
		return pmb_fail(-EINVAL, "%s: empty list", opt);
	return 0;
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
	long psz = sysconf(_SC_PAGESIZE);
	int err = split(opt, arg, v, &p->nsizes, NULL, 0);

	for (unsigned i = 0; !err && i < p->nsizes; i++) {
		if (pmb_parse_size(v[i], &p->sizes[i]) < 0 || p->sizes[i] < (uint64_t)psz ||
		    p->sizes[i] % (uint64_t)psz)
			return pmb_fail(-EINVAL, "%s: '%s' is not a size of whole pages (e.g. 64M, 4G)", opt, v[i]);
	}
	return err ? err : no_dup_u64(opt, p->sizes, p->nsizes);
}

static int parse_pcts(const char *opt, const char *arg, double *out, unsigned *n)
{
	const char *v[PMB_MAX_LIST];
	int err = split(opt, arg, v, n, NULL, 0);

	for (unsigned i = 0; !err && i < *n; i++)
		if (pmb_parse_pct(v[i], &out[i]) < 0)
			return pmb_fail(-EINVAL, "%s: '%s' is not a percentage from 0 to 100", opt, v[i]);
	return err ? err : no_dup_double(opt, out, *n);
}

static int parse_batches(const char *opt, const char *arg, struct pmb_params *p)
{
	const char *v[PMB_MAX_LIST];
	int err = split(opt, arg, v, &p->nbatches, NULL, 0);

	for (unsigned i = 0; !err && i < p->nbatches; i++)
		if (pmb_parse_u64(v[i], 1, 1 << 20, &p->batches[i]) < 0)
			return pmb_fail(-EINVAL, "%s: '%s' is not a batch size from 1 to 1048576", opt, v[i]);
	return err ? err : no_dup_u64(opt, p->batches, p->nbatches);
}

static int uint_opt(const char *opt, const char *arg, uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (pmb_parse_u64(arg, min, max, &v) < 0)
		return pmb_fail(-EINVAL, "%s: '%s' is not a whole number from %" PRIu64 " to %" PRIu64,
			       opt, arg, min, max);
	*out = (unsigned)v;
	return 0;
}

static int apply_profile(struct pmb_params *p, const struct profile *pr)
{
	int err;

	p->profile = pr->name;
	err = split("--kinds", pr->kinds, p->kinds, &p->nkinds, NULL, 0) ||
	      split("--swapout", pr->swapouts, p->swapouts, &p->nswapouts, NULL, 0) ||
	      parse_sizes("--size", pr->sizes, p) ||
	      parse_pcts("--dirty", pr->dirty, p->dirty, &p->ndirty) ||
	      parse_pcts("--swapped", pr->swapped, p->swapped, &p->nswapped) ||
	      split("--methods", pr->methods, p->methods, &p->nmethods, NULL, 0) ||
	      parse_batches("--batches", pr->batches, p);
	p->rounds = pr->rounds;
	p->warmup = pr->warmup;
	p->series = pr->series;
	p->sparse_reads = pr->sparse_reads ? pr->sparse_reads : 64;
	p->swapin_rounds = pr->swapin_rounds;
	return err ? -EINVAL : 0;
}

static void usage(FILE *f, const char *cmd)
{
	fprintf(f,
"usage: pmbench %s [options]\n"
"\n"
"%s\n"
"\n"
"  --profile NAME     quick (default), standard, cover-letter, cover-letter-full\n"
"  --kinds LIST       memfd,shared-anon,private-anon,tmpfs,sysv-shm,thp-shmem,file-disk\n"
"  --swapout LIST     pageout (MADV_PAGEOUT on an exact set), cgroup (memory limit), none\n"
"  --size LIST        region sizes, e.g. 64M,1G\n"
"  --dirty LIST       percent of pages written, e.g. 0,50,100\n"
"  --swapped LIST     percent swapped (pageout: of the dirtied pages; cgroup: of the region,\n"
"                     by setting the limit to the rest)\n"
"  --layout L         contiguous, strided or random (default) choice of pages\n"
"  --methods LIST     dense,sparse,batched,uring,scan-ioctl,userspace\n"
"  --batches LIST     entries per read for batched and uring, e.g. 1,8,64,512\n"
"  --qd N             uring: reads in flight (default 8)\n"
"  --views LIST       whose pagemap is read: self (default), second-mapper (another\n"
"                     process maps the same shmem, never touching it), fork-child\n"
"  --touch MODE       write (default: dirty with the pattern) or read (present, clean)\n"
"  --sequence         add, per kind, the fault/pageout/fault/remove/pageout/remove sequence\n"
"                     (--no-sequence: leave it out again)\n"
"  --swapin-rounds N  time faulting every swapped page back in, N times per case\n"
"  --rounds N         measured rounds per series (every method once per round)\n"
"  --warmup N         warm-up rounds per series, discarded\n"
"  --series N         timed series per case; the state is re-checked around each\n"
"  --sparse-reads N   single-entry reads per sparse sample\n"
"  --cpu N            CPU to pin the reader to (default: the last one)\n"
"  --seed N           seed of every random choice (default 1)\n"
"  --swap S           zram (default: set up a zram device and remove it after),\n"
"                     existing (use the active swap), or a device/file path to swapon\n"
"  --swap-size SIZE   zram size (default: twice the largest region, at least 256M)\n"
"  --cgroup MODE      auto (default), v1 or v2\n"
"  --results DIR      results root (default: results)\n"
"  --no-content-check do not read swap slots back\n"
"  -v, --verbose\n"
"\n"
"exit codes: 0 done (run) or correct (verify), 2 incorrect kernel behaviour (verify),\n"
"            3 harness error, 64 usage error, 77 cannot run here, 128+N interrupted by signal N\n",
		cmd, !strcmp(cmd, "verify") ?
		"Correctness only: build every case, compare pagemap with the oracle, print KTAP." :
		"Run the matrix: build every case, judge it, time every method, write results/<run-id>/.");
}

enum { O_PROFILE = 256, O_KINDS, O_SWAPOUT, O_SIZE, O_DIRTY, O_SWAPPED, O_LAYOUT, O_METHODS,
       O_BATCHES, O_ROUNDS, O_WARMUP, O_SERIES, O_SPARSE, O_CPU, O_SEED, O_SWAP, O_SWAPSIZE,
       O_CGROUP, O_RESULTS, O_NOCONTENT, O_QD, O_VIEWS, O_TOUCH, O_SEQUENCE, O_NOSEQUENCE, O_SWAPIN };

static const struct option longopts[] = {
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "kinds", required_argument, NULL, O_KINDS },
	{ "swapout", required_argument, NULL, O_SWAPOUT },
	{ "size", required_argument, NULL, O_SIZE },
	{ "dirty", required_argument, NULL, O_DIRTY },
	{ "swapped", required_argument, NULL, O_SWAPPED },
	{ "layout", required_argument, NULL, O_LAYOUT },
	{ "methods", required_argument, NULL, O_METHODS },
	{ "batches", required_argument, NULL, O_BATCHES },
	{ "rounds", required_argument, NULL, O_ROUNDS },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "series", required_argument, NULL, O_SERIES },
	{ "sparse-reads", required_argument, NULL, O_SPARSE },
	{ "cpu", required_argument, NULL, O_CPU },
	{ "seed", required_argument, NULL, O_SEED },
	{ "swap", required_argument, NULL, O_SWAP },
	{ "swap-size", required_argument, NULL, O_SWAPSIZE },
	{ "cgroup", required_argument, NULL, O_CGROUP },
	{ "results", required_argument, NULL, O_RESULTS },
	{ "no-content-check", no_argument, NULL, O_NOCONTENT },
	{ "qd", required_argument, NULL, O_QD },
	{ "views", required_argument, NULL, O_VIEWS },
	{ "touch", required_argument, NULL, O_TOUCH },
	{ "sequence", no_argument, NULL, O_SEQUENCE },
	{ "no-sequence", no_argument, NULL, O_NOSEQUENCE },
	{ "swapin-rounds", required_argument, NULL, O_SWAPIN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 0, or an exit code to return at once (help, usage). */
static int parse_args(int argc, char **argv, struct pmb_params *p, const char *cmd)
{
	static const char *const layouts[] = { "contiguous", "random", "strided" };
	const struct profile *pr = find_profile("quick");
	uint64_t v = 0;
	unsigned u = 0;
	int c, i;

	/* The profile sets the defaults; every other option overrides it, in any order. */
	for (i = 1; i < argc; i++) {
		const char *name = NULL;

		if (!strncmp(argv[i], "--profile=", 10))
			name = argv[i] + 10;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			name = argv[i + 1];
		if (name && !(pr = find_profile(name))) {
			pmb_err(0, "--profile: unknown profile '%s' (quick, standard, cover-letter, cover-letter-full)",
				name);
			return PMB_EXIT_USAGE;
		}
	}
	memset(p, 0, sizeof(*p));
	if (apply_profile(p, pr))
		return PMB_EXIT_ERROR;
	p->layout = "random";
	p->seed = 1;
	p->cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	p->swap = "zram";
	p->cgroup = "auto";
	p->results = "results";
	p->timing = strcmp(cmd, "verify") != 0;
	p->check_content = true;
	p->qd = 8;
	p->views[0] = "self";
	p->nviews = 1;
	p->touch = "write";

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		int err = 0;

		switch (c) {
		case O_PROFILE: break;
		case O_KINDS: err = split("--kinds", optarg, p->kinds, &p->nkinds, known_kinds, 7); break;
		case O_SWAPOUT:
			err = split("--swapout", optarg, p->swapouts, &p->nswapouts, known_swapouts, 3);
			break;
		case O_SIZE: err = parse_sizes("--size", optarg, p); break;
		case O_DIRTY: err = parse_pcts("--dirty", optarg, p->dirty, &p->ndirty); break;
		case O_SWAPPED: err = parse_pcts("--swapped", optarg, p->swapped, &p->nswapped); break;
		case O_LAYOUT:
			if (!in_set(optarg, layouts, 3))
				err = pmb_fail(-EINVAL, "--layout: '%s' is not contiguous, strided or random", optarg);
			p->layout = optarg;
			break;
		case O_METHODS:
			err = split("--methods", optarg, p->methods, &p->nmethods, known_methods, 6);
			break;
		case O_BATCHES: err = parse_batches("--batches", optarg, p); break;
		case O_ROUNDS: err = uint_opt("--rounds", optarg, 1, 100000, &p->rounds); break;
		case O_WARMUP: err = uint_opt("--warmup", optarg, 0, 1000, &p->warmup); break;
		case O_SERIES: err = uint_opt("--series", optarg, 1, 1000, &p->series); break;
		case O_SPARSE: err = uint_opt("--sparse-reads", optarg, 1, 1 << 20, &p->sparse_reads); break;
		case O_QD: err = uint_opt("--qd", optarg, 1, 256, &p->qd); break;
		case O_VIEWS: err = split("--views", optarg, p->views, &p->nviews, known_views, 3); break;
		case O_TOUCH:
			if (strcmp(optarg, "write") && strcmp(optarg, "read"))
				err = pmb_fail(-EINVAL, "--touch: '%s' is not write or read", optarg);
			p->touch = optarg;
			break;
		case O_SEQUENCE: p->sequence = true; break;
		case O_NOSEQUENCE: p->sequence = false; break;
		case O_SWAPIN: err = uint_opt("--swapin-rounds", optarg, 0, 1000, &p->swapin_rounds); break;
		case O_CPU:
			err = uint_opt("--cpu", optarg, 0, (uint64_t)sysconf(_SC_NPROCESSORS_ONLN) - 1, &u);
			p->cpu = (int)u;
			break;
		case O_SEED:
			if (pmb_parse_u64(optarg, 0, UINT64_MAX, &v) < 0)
				err = pmb_fail(-EINVAL, "--seed: '%s' is not a whole number", optarg);
			p->seed = v;
			break;
		case O_SWAP: p->swap = optarg; break;
		case O_SWAPSIZE:
			if (pmb_parse_size(optarg, &p->swap_size) < 0 || p->swap_size < (1 << 20))
				err = pmb_fail(-EINVAL, "--swap-size: '%s' is not a size of at least 1M", optarg);
			break;
		case O_CGROUP:
			if (strcmp(optarg, "auto") && strcmp(optarg, "v1") && strcmp(optarg, "v2"))
				err = pmb_fail(-EINVAL, "--cgroup: '%s' is not auto, v1 or v2", optarg);
			p->cgroup = optarg;
			break;
		case O_RESULTS: p->results = optarg; break;
		case O_NOCONTENT: p->check_content = false; break;
		case 'v': pmb_verbose = 1; break;
		case 'h': usage(stdout, cmd); return -1;
		case ':':
			pmb_err(0, "%s needs a value", argv[optind - 1]);
			return PMB_EXIT_USAGE;
		default:
			pmb_err(0, "unknown option '%s' (see pmbench %s --help)", argv[optind - 1], cmd);
			return PMB_EXIT_USAGE;
		}
		if (err)
			return PMB_EXIT_USAGE;
	}
	if (optind < argc) {
		pmb_err(0, "unexpected argument '%s' (see pmbench %s --help)", argv[optind], cmd);
		return PMB_EXIT_USAGE;
	}
	if (!p->swap_size) {
		uint64_t max = 0;

		for (unsigned k = 0; k < p->nsizes; k++)
			if (p->sizes[k] > max)
				max = p->sizes[k];
		p->swap_size = 2 * max < (256 << 20) ? (256 << 20) : 2 * max;
	}
	return 0;
}

/* ---------------------------------------------------------------- timing */

static size_t method_args(const struct pmb_params *p, char **argv, size_t at, char specs[][32])
{
	size_t n = 0;

	for (unsigned m = 0; m < p->nmethods; m++) {
		bool uring = !strcmp(p->methods[m], "uring");

		if (uring || !strcmp(p->methods[m], "batched")) {
			for (unsigned b = 0; b < p->nbatches; b++) {
				if (uring)
					snprintf(specs[n], 32, "uring:%" PRIu64 ":%u", p->batches[b], p->qd);
				else
					snprintf(specs[n], 32, "batched:%" PRIu64, p->batches[b]);
				argv[at++] = "--method";
				argv[at++] = specs[n++];
			}
		} else {
			snprintf(specs[n], 32, "%s", p->methods[m]);
			argv[at++] = "--method";
			argv[at++] = specs[n++];
		}
	}
	argv[at] = NULL;
	return at;
}

/* Run pmscan against the stopped workload; out is its stdout. */
/* Run pmscan on pages [first, first + n) of the view; n 0 means all of them. */
static int scan(const struct pmb_params *p, const struct pmb_workload *w, bool agree, uint64_t seed,
		uint64_t first, uint64_t n_pages, char **out, size_t *len, int *status)
{
	char exe[600], pid[16], addr[32], pages[24], cpu[16], sd[24], rounds[16], warm[16], sparse[16];
	char specs[PMB_MAX_LIST * 3][32];
	char *argv[32 + 6 * PMB_MAX_LIST];
	size_t n = 0;

	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(pid, sizeof(pid), "%d", (int)w->view_pid);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, w->view_addr + first * (uint64_t)w->page_size);
	snprintf(pages, sizeof(pages), "%" PRIu64, n_pages ? n_pages : w->pages);
	snprintf(cpu, sizeof(cpu), "%d", p->cpu);
	snprintf(sd, sizeof(sd), "%" PRIu64, seed);
	snprintf(rounds, sizeof(rounds), "%u", p->rounds);
	snprintf(warm, sizeof(warm), "%u", p->warmup);
	snprintf(sparse, sizeof(sparse), "%u", p->sparse_reads);
	argv[n++] = exe;
	argv[n++] = "--pid"; argv[n++] = pid;
	argv[n++] = "--addr"; argv[n++] = addr;
	argv[n++] = "--pages"; argv[n++] = pages;
	argv[n++] = "--cpu"; argv[n++] = cpu;
	argv[n++] = "--seed"; argv[n++] = sd;
	if (agree) {
		argv[n++] = "--agree";
	} else {
		argv[n++] = "--rounds"; argv[n++] = rounds;
		argv[n++] = "--warmup"; argv[n++] = warm;
		argv[n++] = "--sparse-reads"; argv[n++] = sparse;
	}
	method_args(p, argv, n, specs);
	return pmb_spawn_capture(argv, out, len, status);
}

/* Append pmscan's rows to samples.tsv, tagged with case, series and the drift verdict. */
static void keep_samples(struct pmb_rundir *rd, const struct pmb_case *c, unsigned series, bool discarded,
			 char *out)
{
	char *line, *save;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char method[32];
		long batch, qd, round, warm, pos;
		unsigned long long entries, reads, ns;

		if (sscanf(line, "%31[^\t]\t%ld\t%ld\t%ld\t%ld\t%llu\t%llu\t%llu\t%ld", method, &batch, &qd,
			   &round, &warm, &entries, &reads, &ns, &pos) != 9)
			continue;
		fprintf(rd->samples, "%s\t%s\t%ld\t%ld\t%u\t%ld\t%ld\t%d\t%llu\t%llu\t%llu\t%ld\n", c->id,
			method, batch, qd, series, round, warm, discarded, entries, reads, ns, pos);
	}
	fflush(rd->samples);
}

/* ---------------------------------------------------------------- cases */

struct runner {
	struct pmb_params p;
	struct pmb_swap sw;
	bool have_swap;
	char swap_why[256];
	struct pmb_cgroup_env cg;
	struct pmb_rundir rd;
	FILE *ktap;
	struct pmb_case *cases;
	unsigned ncases;
	struct pmb_workload w;
	char cgroup[512];
};

static void release_case(struct runner *r)
{
	pmb_workload_stop(&r->w);
	if (r->cgroup[0]) {
		pmb_cgroup_destroy(r->cgroup);
		r->cgroup[0] = '\0';
	}
}

static void set_verdict(struct pmb_case *c, const char *verdict, const char *prefix, const char *why)
{
	snprintf(c->verdict, sizeof(c->verdict), "%s", verdict);
	snprintf(c->reason, sizeof(c->reason), "%s%s", prefix, why);
}

static bool same_state(const uint8_t *a, const uint8_t *b, uint64_t n)
{
	return !memcmp(a, b, n);
}

/* Time one case: series of rounds, each bracketed by a state check. */
static int time_case(struct runner *r, struct pmb_case *c, const uint8_t *ref, uint8_t *now)
{
	uint64_t counts[PMS_NR];
	int err;

	for (unsigned s = 0; s < r->p.series && !pmb_stop_signal; s++) {
		char *out;
		size_t len;
		int status;
		bool ok;

		err = scan(&r->p, &r->w, false, r->p.seed + s, 0, 0, &out, &len, &status);
		if (err)
			return err;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			free(out);
			if (WIFEXITED(status) && WEXITSTATUS(status) == PMB_EXIT_SKIP)
				return -EOPNOTSUPP;
			return -EIO;
		}
		err = pmb_workload_state(&r->w, now, counts);
		ok = !err && same_state(ref, now, c->pages);
		c->series_total++;
		if (!ok)
			c->series_discarded++;
		keep_samples(&r->rd, c, s, !ok, out);
		free(out);
		if (err)
			return err;
		if (!ok) {
			pmb_warn("%s: the state drifted during series %u; the series is discarded, the case stops",
				 c->id, s);
			break;
		}
	}
	return pmb_stop_signal ? -EINTR : 0;
}

/* Create the case's cgroup (cgroup mode) and start its workload; 1 when the case ends here. */
static int build_case(struct runner *r, struct pmb_case *c)
{
	long psz = sysconf(_SC_PAGESIZE);
	char why[256] = "", name[96];
	const char *cg = NULL;
	int err;

	if ((strcmp(c->swapout, "none") || c->sequence) && !r->have_swap) {
		set_verdict(c, "skip", "no swap: ", r->swap_why);
		return 1;
	}
	if (!strcmp(c->swapout, "cgroup")) {
		uint64_t region = c->pages * (uint64_t)psz;
		uint64_t limit = (uint64_t)((double)region * (100.0 - c->swapped) / 100.0) + (1 << 20);

		if (r->cg.mode == PMB_CG_NONE) {
			set_verdict(c, "skip", "no memory cgroup: ", r->cg.why);
			return 1;
		}
		snprintf(name, sizeof(name), "pagemap-bench.%d.%ld", (int)getpid(), (long)(c - r->cases));
		err = pmb_cgroup_create(&r->cg, name, limit, r->cgroup, sizeof(r->cgroup));
		if (err) {
			set_verdict(c, "skip", "cannot create a memory cgroup: ", strerror(-err));
			r->cgroup[0] = '\0';
			return 1;
		}
		cg = r->cgroup;
	}
	pmb_info("%s: building", c->id);
	err = pmb_workload_start(&r->w, &r->p, c, cg, why, sizeof(why));
	if (err == -EINTR)
		return err;
	if (err == -EOPNOTSUPP) {
		set_verdict(c, "skip", "", why);
		return 1;
	}
	if (err == -ENOMEM || (err && cg && pmb_cgroup_oom_kills(&r->cg, cg) > 0)) {
		set_verdict(c, "oom", "", "the workload was OOM-killed in its cgroup; raise the limit (--swapped)");
		return 1;
	}
	if (err) {
		set_verdict(c, "error", "", why);
		return 1;
	}
	/*
	 * The state is reached: lift the limit, or every later charge (a pipe
	 * buffer, a page table) would reclaim another page and the state drift.
	 */
	if (cg && pmb_cgroup_unlimit(&r->cg, cg) < 0)
		pmb_warn("%s: cannot lift the cgroup limit; the state may drift", c->id);
	return 0;
}

/*
 * What the viewing process should see.  A process that maps shared memory
 * without touching it (a second mapper, or a fork child, which inherits no
 * PTEs of shared mappings) has no page mapped: present pages read as none
 * there, while swapped pages are still swapped.  Private memory is copied
 * into a fork child as it is.
 */
static void expected_view(const struct pmb_case *c, const uint8_t *ref, uint8_t *expect)
{
	bool unmapped = strcmp(c->view, "self") && strcmp(c->kind, "private-anon");

	for (uint64_t i = 0; i < c->pages; i++)
		expect[i] = unmapped && ref[i] == PMS_PRESENT ? PMS_NONE : ref[i];
}

/*
 * Differential check: every method must return the same entries for the
 * frozen region.  In windows of AGREE_WINDOW pages, so that the reader's two
 * full copies of the entries stay small for any region (16 MiB, not 64 at 16 GiB).
 */
#define AGREE_WINDOW (UINT64_C(1) << 20)

static int check_agreement(struct runner *r, struct pmb_case *c)
{
	c->agree = "yes";
	for (uint64_t at = 0; at < c->pages && !strcmp(c->agree, "yes"); at += AGREE_WINDOW) {
		uint64_t n = c->pages - at < AGREE_WINDOW ? c->pages - at : AGREE_WINDOW;
		char *out;
		size_t len;
		int status, err = scan(&r->p, &r->w, true, r->p.seed, at, n, &out, &len, &status);

		if (err)
			return err;
		c->agree = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" :
			   WIFEXITED(status) && WEXITSTATUS(status) == PMB_EXIT_INCORRECT ? "no" : "-";
		if (!strcmp(c->agree, "no")) {
			char *mm = strstr(out, "mismatch");

			pmb_warn("%s: scan methods disagree (window from page %" PRIu64 "): %.*s", c->id, at,
				 mm ? (int)strcspn(mm, "\n") : 0, mm ? mm : "");
			if (!strcmp(c->verdict, "correct")) {
				strcpy(c->verdict, "incorrect");
				snprintf(c->reason, sizeof(c->reason),
					 "scan methods disagree on the same frozen region");
			}
		}
		free(out);
	}
	return 0;
}

/* The userspace alternative's classification, page by page, against what the view should show. */
static int check_userspace(struct runner *r, struct pmb_case *c, const uint8_t *expect)
{
	char exe[600], pid[16], addr[32], pages[24];
	char *argv[] = { exe, "--pid", pid, "--addr", addr, "--pages", pages, "--classify", "userspace", NULL };
	uint64_t wrong = 0;
	char *out;
	size_t len;
	int status, err;

	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(pid, sizeof(pid), "%d", (int)r->w.view_pid);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, r->w.view_addr);
	snprintf(pages, sizeof(pages), "%" PRIu64, c->pages);
	err = pmb_spawn_capture(argv, &out, &len, &status);
	if (err)
		return err;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len != c->pages) {
		snprintf(c->userspace, sizeof(c->userspace), "-");
	} else {
		for (uint64_t i = 0; i < c->pages; i++)
			wrong += (uint8_t)out[i] != expect[i];
		if (wrong)
			snprintf(c->userspace, sizeof(c->userspace), "no:%" PRIu64, wrong);
		else
			snprintf(c->userspace, sizeof(c->userspace), "yes");
	}
	free(out);
	return 0;
}

static bool uses_method(const struct pmb_params *p, const char *m)
{
	return in_set(m, p->methods, p->nmethods);
}

/*
 * Swap-in cost: the workload times faulting every swapped page back in; then
 * the same pages are paged out again for the next round.  One sample per
 * round, kept with the other samples as method "swapin".
 */
static int time_swapin(struct runner *r, struct pmb_case *c, uint8_t *now)
{
	uint64_t counts[PMS_NR];
	int err = 0;

	for (unsigned k = 0; k < r->p.swapin_rounds && !pmb_stop_signal; k++) {
		char line[128] = "";
		unsigned long long n = 0, ns = 0;
		const char *pn, *pt;

		err = pmb_workload_command(&r->w, "SWAPIN", now, counts, line, sizeof(line));
		if (err)
			break;
		pn = strstr(line, "pages=");
		pt = strstr(line, "ns=");
		if (strncmp(line, "SWAPIN ", 7) || !pn || !pt) {
			err = -EPROTO;
			break;
		}
		n = strtoull(pn + 6, NULL, 10);
		ns = strtoull(pt + 3, NULL, 10);
		if (n)
			fprintf(r->rd.samples, "%s\tswapin\t1\t1\t%u\t0\t0\t0\t%llu\t0\t%llu\t-1\n", c->id,
				r->p.series + k, n, ns);
		if (k + 1 < r->p.swapin_rounds) {
			err = pmb_workload_command(&r->w, "PAGEOUT", now, counts, NULL, 0);
			if (err)
				break;
		}
	}
	fflush(r->rd.samples);
	return err;
}

/*
 * fault -> pageout -> fault -> remove -> pageout -> remove, with pagemap
 * judged against the oracle after every step, and the oracle against what
 * the step must have done.
 */
static int run_sequence(struct runner *r, struct pmb_case *c, uint8_t *state)
{
	static const char *const steps[] = { "FAULT", "PAGEOUT", "FAULT", "REMOVE", "PAGEOUT", "REMOVE" };
	uint64_t dirtied = (uint64_t)llround((double)c->pages * c->dirty / 100.0);
	uint64_t chosen = (uint64_t)llround((double)dirtied * c->swapped / 100.0);
	struct pmb_case sum = *c, step;
	uint64_t counts[PMS_NR];
	size_t len = 0;
	int err;

	memset(sum.truth, 0, sizeof(sum.truth));
	memset(sum.cm, 0, sizeof(sum.cm));
	sum.reason[0] = '\0';
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint64_t want[PMS_NR] = { c->pages - dirtied, dirtied, 0 };

		if (!strcmp(steps[i], "PAGEOUT") && i == 1) {
			want[PMS_PRESENT] = dirtied - chosen;
			want[PMS_SWAPPED] = chosen;
		} else if (!strcmp(steps[i], "REMOVE") || i == 4) {
			want[PMS_NONE] = c->pages;
			want[PMS_PRESENT] = 0;
		}
		err = pmb_workload_command(&r->w, steps[i], state, counts, NULL, 0);
		if (err)
			return err;
		step = *c;
		err = pmb_judge(&step, &r->w, state, &r->sw, r->p.seed, r->p.check_content);
		if (err)
			return err;
		for (int t = 0; t < PMS_NR; t++) {
			sum.truth[t] += step.truth[t];
			for (int q = 0; q < PMS_NR; q++)
				sum.cm[t][q] += step.cm[t][q];
		}
		sum.bad_type += step.bad_type;
		sum.bad_offset += step.bad_offset;
		sum.dup += step.dup;
		sum.content_ok += step.content_ok;
		sum.content_bad += step.content_bad;
		sum.content_unchecked += step.content_unchecked;
		if (strcmp(step.verdict, "correct") && len < sizeof(sum.reason))
			len += (size_t)snprintf(sum.reason + len, sizeof(sum.reason) - len, "%sstep %zu %s: %s",
						len ? "; " : "", i + 1, steps[i], step.reason);
		if (memcmp(counts, want, sizeof(want)) && len < sizeof(sum.reason))
			len += (size_t)snprintf(sum.reason + len, sizeof(sum.reason) - len,
						"%sstep %zu %s: the oracle sees none/present/swapped %" PRIu64 "/%"
						PRIu64 "/%" PRIu64 ", construction says %" PRIu64 "/%" PRIu64 "/%" PRIu64,
						len ? "; " : "", i + 1, steps[i], counts[0], counts[1], counts[2],
						want[0], want[1], want[2]);
	}
	sum.oracle_swap_kb = sum.smaps_swap_kb = 0;
	if (!sum.reason[0])
		strcpy(sum.verdict, "correct");
	else if (sum.bad_type + sum.bad_offset + sum.dup + sum.content_bad ||
		 sum.cm[0][1] + sum.cm[0][2] + sum.cm[1][0] + sum.cm[1][2] + sum.cm[2][0] + sum.cm[2][1])
		strcpy(sum.verdict, "incorrect");
	else
		strcpy(sum.verdict, "error");
	*c = sum;
	return 0;
}

static int run_case(struct runner *r, struct pmb_case *c)
{
	uint64_t counts[PMS_NR];
	uint8_t *ref, *now, *expect;
	int err;

	c->start_pmd_pos = -1;
	c->thp_pages = -1;
	err = build_case(r, c);
	if (err)
		return err < 0 ? err : 0;
	c->start_pmd_pos = (int)(r->w.view_addr / (uint64_t)r->w.page_size % PMB_PMD_PAGES);
	c->thp_pages = r->w.thp_pages;
	ref = malloc(c->pages);
	now = malloc(c->pages);
	expect = malloc(c->pages);
	if (!ref || !now || !expect) {
		err = -ENOMEM;
		goto out;
	}
	err = pmb_workload_settle(&r->w, ref, counts);
	if (err) {
		set_verdict(c, "error", "", "cannot read the workload's state");
		goto out;
	}
	if (c->sequence) {
		err = run_sequence(r, c, now);
		goto out;
	}
	expected_view(c, ref, expect);
	err = pmb_judge(c, &r->w, expect, &r->sw, r->p.seed, r->p.check_content);
	if (err) {
		set_verdict(c, "error", "", "cannot read pagemap");
		goto out;
	}
	if (r->w.pageout_missed > 0 || r->w.contradictions > 0)
		pmb_warn("%s: MADV_PAGEOUT missed %ld chosen pages, %ld oracle contradictions", c->id,
			 r->w.pageout_missed, r->w.contradictions);
	err = check_agreement(r, c);
	if (!err && uses_method(&r->p, "userspace"))
		err = check_userspace(r, c, expect);
	if (!err && r->p.timing)
		err = time_case(r, c, ref, now);
	if (err == -EOPNOTSUPP)
		err = 0;
	if (!err && r->p.timing && c->truth[PMS_SWAPPED] && strcmp(c->view, "self") == 0)
		err = time_swapin(r, c, now);
out:
	free(ref);
	free(now);
	free(expect);
	return err;
}

static void add_case(struct runner *r, const char *kind, const char *swapout, uint64_t pages, double dirty,
		     double swapped, const char *view, bool sequence)
{
	struct pmb_case *c = &r->cases[r->ncases++];
	size_t n;

	c->kind = kind;
	c->swapout = swapout;
	c->pages = pages;
	c->dirty = dirty;
	c->swapped = swapped;
	c->view = view;
	c->touch = r->p.touch;
	c->sequence = sequence;
	if (sequence)
		n = (size_t)snprintf(c->id, sizeof(c->id), "%s-sequence-p%" PRIu64, kind, pages);
	else
		n = (size_t)snprintf(c->id, sizeof(c->id), "%s-%s-p%" PRIu64 "-d%g-s%g", kind, swapout, pages,
				     dirty, swapped);
	/* Suffixes only for what is not the default, so that ids stay stable across versions. */
	if (strcmp(view, "self") && n < sizeof(c->id))
		n += (size_t)snprintf(c->id + n, sizeof(c->id) - n, "-v%s", view);
	if (strcmp(c->touch, "write") && n < sizeof(c->id))
		snprintf(c->id + n, sizeof(c->id) - n, "-t%s", c->touch);
	strcpy(c->verdict, "skip");
}

static void case_list(struct runner *r)
{
	const struct pmb_params *p = &r->p;
	long psz = sysconf(_SC_PAGESIZE);

	r->cases = calloc((size_t)p->nkinds * p->nswapouts * p->nsizes * p->ndirty * p->nswapped * p->nviews +
			  p->nkinds * p->nsizes, sizeof(*r->cases));
	for (unsigned a = 0; a < p->nkinds; a++)
		for (unsigned b = 0; b < p->nswapouts; b++)
			for (unsigned s = 0; s < p->nsizes; s++)
				for (unsigned d = 0; d < p->ndirty; d++)
					for (unsigned w = 0; w < p->nswapped; w++)
						for (unsigned v = 0; v < p->nviews; v++) {
							bool none = !strcmp(p->swapouts[b], "none");

							/* "none" ignores --swapped: one case, not duplicates. */
							if (none && w)
								continue;
							add_case(r, p->kinds[a], p->swapouts[b],
								 p->sizes[s] / (uint64_t)psz, p->dirty[d],
								 none ? 0 : p->swapped[w], p->views[v], false);
						}
	if (p->sequence)
		for (unsigned a = 0; a < p->nkinds; a++)
			for (unsigned s = 0; s < p->nsizes; s++)
				add_case(r, p->kinds[a], "none", p->sizes[s] / (uint64_t)psz, 100, 50, "self", true);
}

static int preflight(const struct runner *r, char *why, size_t whylen)
{
	long psz = sysconf(_SC_PAGESIZE), avail_kb = pmb_meminfo_kb("MemAvailable");
	uint64_t worst = 0;
	const char *worst_id = NULL;

	if (avail_kb <= 0)
		return 0;
	for (unsigned i = 0; i < r->ncases; i++) {
		const struct pmb_case *c = &r->cases[i];
		uint64_t region = c->pages * (uint64_t)psz;
		uint64_t dirty = (uint64_t)((double)region * c->dirty / 100.0), resident = dirty, need;

		if (!strcmp(c->swapout, "cgroup")) {
			uint64_t limit = (uint64_t)((double)region * (100.0 - c->swapped) / 100.0) + (1 << 20);

			resident = dirty < limit ? dirty : limit;
		}
		need = resident + (dirty - resident) / 16 + region / 256 + c->pages * 24 + (64 << 20);
		if (need > worst) {
			worst = need;
			worst_id = c->id;
		}
	}
	if (worst_id && worst / 1024 > (uint64_t)avail_kb * 9 / 10) {
		snprintf(why, whylen, "%s needs about %" PRIu64 " MiB; this machine has %ld MiB available",
			 worst_id, worst >> 20, avail_kb / 1024);
		return -ENOMEM;
	}
	return 0;
}

static int setup_env(struct runner *r)
{
	int err;

	if (!strcmp(r->p.cgroup, "auto")) {
		pmb_cgroup_detect(&r->cg);
	} else {
		pmb_cgroup_detect(&r->cg);
		if ((!strcmp(r->p.cgroup, "v1") && r->cg.mode != PMB_CG_V1) ||
		    (!strcmp(r->p.cgroup, "v2") && r->cg.mode != PMB_CG_V2)) {
			snprintf(r->cg.why, sizeof(r->cg.why), "--cgroup %s: not the memory controller's "
				 "hierarchy here", r->p.cgroup);
			r->cg.mode = PMB_CG_NONE;
		}
	}
	err = pmb_swap_setup(&r->sw, r->p.swap, r->p.swap_size, r->swap_why, sizeof(r->swap_why));
	r->have_swap = !err;
	if (err)
		pmb_warn("no swap for this run: %s", r->swap_why);
	return 0;
}

static void teardown(struct runner *r)
{
	release_case(r);
	pmb_own_close(pmb_swap_teardown(&r->sw) == 0);
}

static int run_main(int argc, char **argv, const char *cmd)
{
	struct runner *r = calloc(1, sizeof(*r));
	unsigned nskip = 0, nbad = 0, nerr = 0;
	uint64_t t0 = pmb_now_ns();
	char path[600];
	int err, ret;

	if (!r)
		return PMB_EXIT_ERROR;
	ret = parse_args(argc, argv, &r->p, cmd);
	if (ret) {
		free(r);
		return ret < 0 ? PMB_EXIT_PASS : ret;
	}
	if (geteuid() != 0) {
		pmb_err(0, "skip: needs root (swap, cgroups, and swap offsets in pagemap need CAP_SYS_ADMIN)");
		free(r);
		return PMB_EXIT_SKIP;
	}
	install_signals();
	pmb_sweep_leftovers(true);
	err = pmb_own_open();
	if (err) {
		pmb_err(err, "cannot write %s", PMB_STATE_DIR);
		free(r);
		return PMB_EXIT_ERROR;
	}
	case_list(r);
	{
		char why[256];

		if (preflight(r, why, sizeof(why)) < 0) {
			pmb_err(0, "skip: %s (use a smaller --size)", why);
			pmb_own_close(true);
			free(r->cases);
			free(r);
			return PMB_EXIT_SKIP;
		}
	}
	setup_env(r);
	err = pmb_rundir_create(&r->rd, r->p.results);
	if (err) {
		pmb_err(err, "cannot create a run directory under %s", r->p.results);
		teardown(r);
		return PMB_EXIT_ERROR;
	}
	pmb_meta_write(&r->rd, &r->p, &r->sw, &r->cg, argc, argv, "running");
	snprintf(path, sizeof(path), "%s/verify.ktap", r->rd.path);
	r->ktap = fopen(path, "we");
	for (FILE **o = (FILE *[]){ r->ktap, !strcmp(cmd, "verify") ? stdout : NULL, NULL }; *o; o++)
		fprintf(*o, "KTAP version 1\n# pagemap-bench verify: %s\n1..%u\n", r->rd.id, r->ncases);
	fprintf(stderr, "pmbench: %s: %u cases, results in %s\n", cmd, r->ncases, r->rd.path);

	for (unsigned i = 0; i < r->ncases && !pmb_stop_signal; i++) {
		struct pmb_case *c = &r->cases[i];

		fprintf(stderr, "pmbench: [%u/%u] %s\n", i + 1, r->ncases, c->id);
		err = run_case(r, c);
		release_case(r);
		if (err == -EINTR || pmb_stop_signal)
			break;
		if (err) {
			/* A later step failing does not undo a verdict already reached on the kernel. */
			if (!strcmp(c->verdict, "incorrect")) {
				size_t len = strlen(c->reason);

				snprintf(c->reason + len, sizeof(c->reason) - len, "; then the harness failed: %s",
					 strerror(-err));
				nerr++;
			} else {
				set_verdict(c, "error", "", strerror(-err));
			}
			err = 0;
		}
		pmb_case_row(&r->rd, c, &r->p);
		for (FILE **o = (FILE *[]){ r->ktap, !strcmp(cmd, "verify") ? stdout : NULL, NULL }; *o; o++) {
			pmb_ktap_case(*o, i + 1, c);
			fflush(*o);
		}
		nskip += !strcmp(c->verdict, "skip") || !strcmp(c->verdict, "oom");
		nbad += !strcmp(c->verdict, "incorrect");
		nerr += !strcmp(c->verdict, "error");
	}
	teardown(r);
	if (pmb_stop_signal) {
		int sig = pmb_stop_signal;

		pmb_meta_set_status(&r->rd, "interrupted");
		pmb_err(0, "interrupted by signal %d; %s is marked interrupted", sig, r->rd.path);
		ret = 128 + sig;
		goto out;
	}
	if (r->ktap)
		fprintf(r->ktap, "# totals: %u cases, %u incorrect, %u errors, %u skipped\n", r->ncases, nbad,
			nerr, nskip);
	if (!strcmp(cmd, "verify"))
		printf("# totals: %u cases, %u incorrect, %u errors, %u skipped\n", r->ncases, nbad, nerr, nskip);
	else
		pmb_summarize_run(&r->rd, r->cases, r->ncases, stdout);
	pmb_meta_set_status(&r->rd, "complete");
	pmb_meta_set_resources(&r->rd, (double)(pmb_now_ns() - t0) / 1e9);
	fprintf(stderr, "pmbench: run directory: %s\n", r->rd.path);
	if (nskip == r->ncases) {
		pmb_err(0, "skip: no case could run here (see the reasons above)");
		ret = PMB_EXIT_SKIP;
	} else if (!strcmp(cmd, "verify")) {
		ret = nbad ? PMB_EXIT_INCORRECT : nerr ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
	} else {
		ret = nerr ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
	}
out:
	if (r->ktap)
		fclose(r->ktap);
	if (r->rd.cases)
		fclose(r->rd.cases);
	if (r->rd.samples)
		fclose(r->rd.samples);
	free(r->cases);
	free(r);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	return run_main(argc, argv, "run");
}

int cmd_verify(int argc, char **argv)
{
	return run_main(argc, argv, "verify");
}

int cmd_cleanup(int argc, char **argv)
{
	int n;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pmbench cleanup\n\nRemove the swap, zram devices and cgroups that a killed run "
		       "left behind\n(recorded in %s), and mark its run directory interrupted.\n", PMB_STATE_DIR);
		return PMB_EXIT_PASS;
	}
	if (argc > 1) {
		pmb_err(0, "cleanup takes no arguments");
		return PMB_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		pmb_err(0, "skip: needs root");
		return PMB_EXIT_SKIP;
	}
	n = pmb_sweep_leftovers(true);
	if (n < 0)
		return pmb_err(n, "cleanup"), PMB_EXIT_ERROR;
	printf("cleaned %d leftover item%s\n", n, n == 1 ? "" : "s");
	return PMB_EXIT_PASS;
}
