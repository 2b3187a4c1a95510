// SPDX-License-Identifier: GPL-2.0
/*
 * pmscan: the timed reader.  It reads /proc/PID/pagemap of a stopped process
 * by one or more scan methods, pinned to one CPU, and prints raw timing
 * samples as TSV on stdout.  It never decides a verdict; --agree is the one
 * correctness check it makes (every method returns the same entries, on what
 * it can be compared on), and --classify prints one method's page states.
 */
#include "method.h"
#include "lib/opt.h"
#include "lib/pagemap.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PMS_MAX_VARIANTS	64
/* One dense pread must stay below the kernel's 2 GiB cap on a read. */
#define PMS_MAX_PAGES		(UINT64_C(1) << 27)
#define PMS_MAX_ROWS		(UINT64_C(1) << 24)
#define PMS_ADDR_LIMIT		(UINT64_C(1) << 57)	/* 5-level paging user space */

struct opts {
	uint64_t pid, addr, pages, cpu, seed, rounds, warmup, sparse_reads, extra_pct;
	bool agree, list, classify, selfcheck, probe;
	struct pms_variant v[PMS_MAX_VARIANTS];
	unsigned nv;
	uint64_t seen;
};

static int opt_addr(void *obj, const char *v, const char *name)
{
	struct opts *o = obj;
	char *end;

	/* Hex with or without 0x; digits first, so no sign and no white space. */
	if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'f') || (*v >= 'A' && *v <= 'F')))
		goto bad;
	errno = 0;
	o->addr = strtoull(v, &end, 16);
	if (errno || *end || o->addr >= PMS_ADDR_LIMIT)
		goto bad;
	return 0;
bad:
	return pms_usage("--%s %s: expected a hex address below %#llx", name, v,
			 (unsigned long long)PMS_ADDR_LIMIT);
}

static int opt_method(void *obj, const char *v, const char *name)
{
	struct opts *o = obj;
	int err;

	if (!strcmp(name, "classify")) {
		if (o->classify)
			return pms_usage("--classify: at most once");
		o->classify = true;
	}
	if (o->nv == PMS_MAX_VARIANTS)
		return pms_usage("at most %d --method options", PMS_MAX_VARIANTS);
	err = pms_parse_spec(v, &o->v[o->nv]);
	if (err)
		return err;
	o->v[o->nv].ordinal = o->nv;
	o->nv++;
	return 0;
}

enum { R_PID, R_ADDR, R_PAGES, R_CPU };

#define OFF(f) offsetof(struct opts, f)
static const struct pmb_opt pmscan_opts[] = {
	[R_PID] = { "pid", 0, PMB_OPT_UINT, OFF(pid), "P", "the stopped process whose pagemap is read", .min = 1,
		    .max = 4194304 },
	[R_ADDR] = { "addr", 0, PMB_OPT_FN, 0, "HEX", "first virtual address of the range, page aligned",
		     .fn = opt_addr },
	[R_PAGES] = { "pages", 0, PMB_OPT_UINT, OFF(pages), "N", "pages in the range", .min = 1,
		      .max = PMS_MAX_PAGES },
	[R_CPU] = { "cpu", 0, PMB_OPT_UINT, OFF(cpu), "C", "CPU to pin to (default: the last online one)",
		    .max = CPU_SETSIZE - 1 },
	{ "seed", 0, PMB_OPT_UINT, OFF(seed), "S", "seed of the round order and sparse indices (default 1)",
	  .max = UINT64_MAX },
	{ "rounds", 0, PMB_OPT_UINT, OFF(rounds), "R", "measured rounds (default 10)", .min = 1, .max = 1000000 },
	{ "warmup", 0, PMB_OPT_UINT, OFF(warmup), "W", "warm-up rounds (default 2)", .max = 1000000 },
	{ "sparse-reads", 0, PMB_OPT_UINT, OFF(sparse_reads), "K", "single-entry reads per sparse sample (default 64)",
	  .min = 1, .max = 1000000 },
	{ "extra-pct", 0, PMB_OPT_UINT, OFF(extra_pct), "P", "sensitivity checks only: every timed pass also reads\n"
	  "the first P% of its range again, counted as the range alone (default 0)", .max = 100 },
	{ "method", 0, PMB_OPT_FN, 0, "SPEC", "a scan method, as often as wanted (see --list):\n"
	  "name, name:B or name:B[:QD] (B in 1..1048576, QD in 1..256, default 8)", .fn = opt_method },
	{ "agree", 0, PMB_OPT_FLAG, OFF(agree), NULL, "compare every method's entries instead of timing", .set = 1 },
	{ "classify", 0, PMB_OPT_FN, 0, "SPEC", "one byte per page on stdout by that method: 0 none, 1 present,\n"
	  "2 swapped", .fn = opt_method },
	{ "list", 0, PMB_OPT_FLAG, OFF(list), NULL, "the methods: name, description, ok or skip: reason", .set = 1 },
	{ "probe", 0, PMB_OPT_FLAG, OFF(probe), NULL, "no pagemap: time the host's own speed (a userspace pointer chase\n"
	  "over 16 MiB, one sample per round) as rows of method probe", .set = 1 },
	{ "selfcheck", 0, PMB_OPT_FLAG, OFF(selfcheck), NULL, "time each pread method against a bare loop of the same\n"
	  "preads, interleaved (--rounds), and the clock's own cost", .set = 1 },
};
#undef OFF

static const struct pmb_opt_spec pmscan_spec = {
	.prog = "pmscan", .args = "--pid P --addr HEX --pages N --method SPEC... [options] | --probe | --list",
	.about = "Timed reads of /proc/PID/pagemap of a stopped process, pinned to one CPU;\n"
		 "raw samples as TSV on stdout (docs/methods.md).\n",
	.opts = pmscan_opts, .nopts = sizeof(pmscan_opts) / sizeof(pmscan_opts[0]),
	.more = "exit: 0 ok, 2 methods disagree (--agree), 3 error, 64 usage, 77 cannot run here\n",
};

#define GIVEN(o, r) ((o)->seen & (UINT64_C(1) << (r)))

static int check_opts(struct opts *o)
{
	uint64_t rows;

	if (o->list || o->probe)
		return 0;
	if (!GIVEN(o, R_PID) || !GIVEN(o, R_ADDR) || !GIVEN(o, R_PAGES) || !o->nv)
		return pms_usage("--pid, --addr, --pages and --method (or --classify) are required");
	if (o->classify && (o->nv > 1 || o->agree))
		return pms_usage("--classify SPEC: no --method and no --agree with it");
	if (o->addr & (uint64_t)(sysconf(_SC_PAGESIZE) - 1))
		return pms_usage("--addr %#llx: not page aligned",
			       (unsigned long long)o->addr);
	if (o->pages > (PMS_ADDR_LIMIT - o->addr) / (uint64_t)sysconf(_SC_PAGESIZE))
		return pms_usage("--addr + --pages: beyond the user address space");
	rows = (o->rounds + o->warmup) * o->nv * o->sparse_reads;
	if (!o->agree && rows > PMS_MAX_ROWS)
		return pms_usage("(rounds + warmup) * methods * sparse-reads: too many samples");
	return 0;
}

/* 0, PMB_OPT_HELP, or -EINVAL (printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned npos;
	int err = pmb_opt_parse(&pmscan_spec, argc, argv, o, NULL, &npos, &o->seen);

	return err ? err : check_opts(o);
}

/* The highest-numbered CPU we may run on (the last online one). */
static int last_cpu(void)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (c = CPU_SETSIZE - 1; c > 0; c--)
		if (CPU_ISSET(c, &set))
			break;
	return c;
}

static int pin_cpu(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

static int open_pagemap(uint64_t pid, int *fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%llu/pagemap", (unsigned long long)pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	return 0;
}

/* A target that runs can move its pages while we read: say so. */
static void warn_if_running(uint64_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%llu/stat", (unsigned long long)pid);
	if (pmb_read_str(path, buf, sizeof(buf)))
		return;
	p = strrchr(buf, ')');
	if (p && p[1] == ' ' && p[2] != 'T' && p[2] != 't')
		pmb_warn("pid %llu is not stopped (state %c): entries may change while read",
			 (unsigned long long)pid, p[2]);
}

static int alloc_buf(struct pms_ctx *ctx)
{
	size_t len = (size_t)ctx->pages * PM_ENTRY_BYTES;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0xff, len);	/* prefault: no page fault inside a timed read */
	ctx->buf = p;
	return 0;
}

static void free_buf(struct pms_ctx *ctx)
{
	if (ctx->buf)
		munmap(ctx->buf, (size_t)ctx->pages * PM_ENTRY_BYTES);
	ctx->buf = NULL;
}

static unsigned page_shift(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned s = 0;

	while ((1L << s) < ps)
		s++;
	return s;
}

static int do_list(void)
{
	struct pms_ctx ctx = { .pages = 1, .page_shift = page_shift(), .sparse_reads = 1,
			       .pid = getpid() };
	size_t i;

	/* Probe on the page of our own stack: mapped for sure. */
	ctx.addr = (uintptr_t)&ctx & ~(((uint64_t)1 << ctx.page_shift) - 1);
	ctx.fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < PMB_NR_METHODS; i++) {
		const struct pms_method *m = pms_methods[i];
		const char *why;

		if (!m)
			continue;	/* a co-metric, timed by the workload */
		why = ctx.fd < 0 ? "cannot open /proc/self/pagemap" : m->probe ? m->probe(&ctx) : NULL;
		printf("%s\t%s\t%s%s\n", pmb_methods[i].name, pmb_methods[i].desc,
		       why ? "skip: " : "ok", why ? why : "");
	}
	if (ctx.fd >= 0)
		close(ctx.fd);
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}

/* Leave out the variants whose method cannot run here; 0 left is -ENOTSUP. */
static int probe_variants(struct pms_ctx *ctx, struct opts *o)
{
	unsigned i, n = 0;

	for (i = 0; i < o->nv; i++) {
		const char *why = o->v[i].m->probe ? o->v[i].m->probe(ctx) : NULL;

		if (why) {
			fprintf(stderr, "skip: %s: %s\n", o->v[i].spec, why);
			continue;
		}
		o->v[n++] = o->v[i];
	}
	o->nv = n;
	return n ? 0 : -ENOTSUP;
}

static int init_variants(struct pms_ctx *ctx, struct opts *o)
{
	unsigned i;
	int err;

	for (i = 0; i < o->nv; i++) {
		struct pms_variant *v = &o->v[i];

		if (!v->m->init)
			continue;
		err = v->m->init(ctx, v);
		if (err)
			return pmb_err(err, "%s: setting up", v->spec);
	}
	return 0;
}

static void fini_variants(struct opts *o)
{
	unsigned i;

	for (i = 0; i < o->nv; i++)
		if (o->v[i].m->fini)
			o->v[i].m->fini(&o->v[i]);
}

/* A new random order of the variants for each round (Fisher-Yates). */
static void shuffle(unsigned *order, unsigned n, uint64_t *rng)
{
	unsigned i;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--) {
		unsigned j = (unsigned)pmb_rand_below(rng, i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
}

static int sample_variant(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e)
{
	uint64_t ns, entries, reads;
	int err;

	if (v->m->sample)
		return v->m->sample(ctx, v, e);
	err = pms_time_pass(ctx, v, &ns, &entries, &reads);
	if (err)
		return err;
	return pms_emit_row(e, entries, reads, ns, -1);
}

static int run_round(struct pms_ctx *ctx, struct opts *o, struct pms_emit *e,
		     unsigned *order, uint64_t *rng)
{
	unsigned i;
	int err;

	shuffle(order, o->nv, rng);
	for (i = 0; i < o->nv; i++) {
		struct pms_variant *v = &o->v[order[i]];

		e->variant = order[i];
		err = sample_variant(ctx, v, e);
		if (err)
			return pmb_err(err, "%s: round %u", v->spec, e->round);
	}
	return 0;
}

static int print_rows(const struct opts *o, const struct pms_emit *e)
{
	size_t i;

	printf("# pagemap-bench pmscan v1\n");
	printf("method\tbatch\tqd\tround\twarmup\tentries\treads\tns\tpmd_pos\n");
	for (i = 0; i < e->n; i++) {
		const struct pms_row *r = &e->rows[i];
		const struct pms_variant *v = &o->v[r->variant];

		printf("%s\t%llu\t%u\t%u\t%d\t%llu\t%llu\t%llu\t%d\n", v->info->name,
		       (unsigned long long)v->batch, v->qd, r->round, r->warmup,
		       (unsigned long long)r->entries, (unsigned long long)r->reads,
		       (unsigned long long)r->ns, r->pmd_pos);
	}
	if (fflush(stdout) || ferror(stdout))
		return pmb_err(-EIO, "writing the samples");
	return 0;
}

static int do_timed(struct pms_ctx *ctx, struct opts *o)
{
	struct pms_emit e = { 0 };
	unsigned order[PMS_MAX_VARIANTS];
	uint64_t rng = ctx->seed, r;
	int err = 0;

	for (r = 0; !err && r < o->warmup + o->rounds; r++) {
		e.warmup = r < o->warmup;
		e.round = (unsigned)(e.warmup ? r : r - o->warmup);
		err = run_round(ctx, o, &e, order, &rng);
	}
	if (!err)
		err = print_rows(o, &e);
	free(e.rows);
	return err ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}

static const char *pms_compare_name(enum pmb_compare c)
{
	return c == PMB_CMP_RAW ? "raw" : c == PMB_CMP_CATEGORIES ? "categories" : "none";
}

static void print_agree(const struct pms_variant *v, const uint64_t *ent, uint64_t n)
{
	uint64_t st[PMS_NR] = { 0 }, file = 0, sd = 0, ex = 0, i;

	for (i = 0; i < n; i++) {
		st[pm_state_of(ent[i])]++;
		file += pm_file(ent[i]);
		sd += pm_soft_dirty(ent[i]);
		ex += pm_exclusive(ent[i]);
	}
	printf("agree\t%s\tnone=%llu\tpresent=%llu\tswapped=%llu\tfile=%llu"
	       "\tsoft_dirty=%llu\texclusive=%llu\tcompare=%s\n", v->spec,
	       (unsigned long long)st[PMS_NONE], (unsigned long long)st[PMS_PRESENT],
	       (unsigned long long)st[PMS_SWAPPED], (unsigned long long)file,
	       (unsigned long long)sd, (unsigned long long)ex,
	       pms_compare_name(v->info->compare));
}

static uint64_t as_compared(uint64_t e, enum pmb_compare how)
{
	return how == PMB_CMP_RAW ? e : pms_categories(e);
}

/* The first index where a and b differ on what `how` compares; n if none. */
static uint64_t first_diff(const uint64_t *a, const uint64_t *b, uint64_t n,
			   enum pmb_compare how)
{
	uint64_t i;

	for (i = 0; i < n && as_compared(a[i], how) == as_compared(b[i], how); i++)
		;
	return i;
}

/*
 * The reference: the first variant compared raw, else the first compared on
 * categories; oracles (compare none) never are.  -1 when there is none.
 */
static int agree_reference(const struct opts *o)
{
	enum pmb_compare how;
	unsigned k;

	for (how = PMB_CMP_RAW; how < PMB_CMP_NONE; how++)
		for (k = 0; k < o->nv; k++)
			if (o->v[k].info->compare == how)
				return (int)k;
	return -1;
}

/* Variant k against the reference's entries, on what k can be compared on. */
static int agree_one(struct pms_ctx *ctx, struct pms_variant *v, const uint64_t *want,
		     uint64_t *got)
{
	enum pmb_compare how = v->info->compare;
	uint64_t i = ctx->pages;
	int err = pms_collect(ctx, v, got);

	if (err) {
		pmb_err(err, "%s: reading all entries", v->spec);
		return PMB_EXIT_ERROR;
	}
	if (want && how != PMB_CMP_NONE)
		i = first_diff(want, got, ctx->pages, how);
	if (i < ctx->pages) {
		printf("mismatch\t%s\tindex=%llu\twant=0x%llx\tgot=0x%llx\tcompare=%s\n",
		       v->spec, (unsigned long long)i,
		       (unsigned long long)as_compared(want[i], how),
		       (unsigned long long)as_compared(got[i], how), pms_compare_name(how));
		return PMB_EXIT_INCORRECT;
	}
	print_agree(v, got, ctx->pages);
	return PMB_EXIT_PASS;
}

/*
 * Every variant against the reference (agree_reference), each on what it can
 * be compared on; printed in command-line order, the reference read first.
 */
static int do_agree(struct pms_ctx *ctx, struct opts *o)
{
	uint64_t *want = ctx->buf, *got = NULL;
	int ref = agree_reference(o), ret = PMB_EXIT_PASS, err;
	unsigned k;

	if (o->nv > 1 && !(got = calloc(ctx->pages, sizeof(*got))))
		return pmb_err(-ENOMEM, "agree"), PMB_EXIT_ERROR;
	if (ref >= 0) {
		err = pms_collect(ctx, &o->v[ref], want);
		if (err) {
			pmb_err(err, "%s: reading all entries", o->v[ref].spec);
			ret = PMB_EXIT_ERROR;
		}
	}
	for (k = 0; ret == PMB_EXIT_PASS && k < o->nv; k++) {
		if ((int)k == ref)
			print_agree(&o->v[k], want, ctx->pages);
		else
			ret = agree_one(ctx, &o->v[k], ref >= 0 ? want : NULL,
					got ? got : want);
	}
	free(got);
	if (fflush(stdout) || ferror(stdout))
		return pmb_err(-EIO, "writing the result"), PMB_EXIT_ERROR;
	return ret;
}

/*
 * One byte per page, enum pm_state of what the method reports, and nothing
 * else.  The bytes overwrite the entries in place: byte i lies in entry i / 8,
 * already read when entry i is.
 */
static int do_classify(struct pms_ctx *ctx, struct opts *o)
{
	struct pms_variant *v = &o->v[0];
	uint8_t *st = (uint8_t *)ctx->buf;
	uint64_t i;
	int err;

	err = pms_collect(ctx, v, ctx->buf);
	if (err)
		return pmb_err(err, "%s: reading all entries", v->spec), PMB_EXIT_ERROR;
	for (i = 0; i < ctx->pages; i++) {
		uint64_t e = ctx->buf[i];

		st[i] = (uint8_t)pm_state_of(e);
	}
	err = pmb_write_full(STDOUT_FILENO, st, ctx->pages);
	if (err)
		return pmb_err(err, "writing the states"), PMB_EXIT_ERROR;
	return PMB_EXIT_PASS;
}

/* The target must be readable at all before a method can be judged. */
static int check_readable(struct pms_ctx *ctx, uint64_t pid)
{
	ssize_t r = pread(ctx->fd, ctx->buf, PM_ENTRY_BYTES, pms_offset(ctx, 0));

	if (r == PM_ENTRY_BYTES)
		return 0;
	if (r < 0)
		return pmb_err(-errno, "read /proc/%llu/pagemap", (unsigned long long)pid);
	return pmb_err(-EIO, "read /proc/%llu/pagemap: %zd bytes (has the process exited?)",
		       (unsigned long long)pid, r);
}

static int open_target(const struct opts *o, struct pms_ctx *ctx)
{
	int err = open_pagemap(o->pid, &ctx->fd);

	if (!err)
		return PMB_EXIT_PASS;
	if ((err == -EPERM || err == -EACCES) && geteuid() != 0) {
		fprintf(stderr, "skip: needs root to read /proc/%llu/pagemap\n",
			(unsigned long long)o->pid);
		return PMB_EXIT_SKIP;
	}
	pmb_err(err, "open /proc/%llu/pagemap", (unsigned long long)o->pid);
	return PMB_EXIT_ERROR;
}

static int run(struct opts *o)
{
	struct pms_ctx ctx = {
		.fd = -1, .pid = (pid_t)o->pid, .addr = o->addr, .pages = o->pages,
		.page_shift = page_shift(),
		.sparse_reads = (unsigned)o->sparse_reads, .seed = o->seed,
		.extra_pct = (unsigned)o->extra_pct,
	};
	int ret, err;

	ret = open_target(o, &ctx);
	if (ret)
		return ret;
	warn_if_running(o->pid);
	ret = PMB_EXIT_ERROR;
	err = alloc_buf(&ctx);
	if (err) {
		pmb_err(err, "allocating %llu entries", (unsigned long long)ctx.pages);
		goto out;
	}
	if (check_readable(&ctx, o->pid))
		goto out;
	if (probe_variants(&ctx, o)) {
		fprintf(stderr, "skip: no usable scan method\n");
		ret = PMB_EXIT_SKIP;
		goto out;
	}
	if (init_variants(&ctx, o) == 0)
		ret = o->classify ? do_classify(&ctx, o) : o->agree ? do_agree(&ctx, o) :
		      o->selfcheck ? pms_selfcheck(&ctx, o->v, o->nv, (unsigned)o->rounds) : do_timed(&ctx, o);
	fini_variants(o);
out:
	free_buf(&ctx);
	close(ctx.fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = 1, .rounds = 10, .warmup = 2, .sparse_reads = 64 };
	int err;

	pmb_prog = "pmscan";
	err = parse_args(argc, argv, &o);
	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	if (o.list)
		return do_list();
	if (!GIVEN(&o, R_CPU))
		o.cpu = (uint64_t)last_cpu();
	/* Pinned before anything is opened or allocated. */
	err = pin_cpu((unsigned)o.cpu);
	if (err) {
		pmb_err(err, "--cpu %llu: cannot pin there", (unsigned long long)o.cpu);
		return err == -EINVAL ? PMB_EXIT_USAGE : PMB_EXIT_ERROR;
	}
	pmb_info("pinned to cpu %llu", (unsigned long long)o.cpu);
	if (o.probe)
		return pms_probe((unsigned)o.rounds, (unsigned)o.warmup, o.seed);
	return run(&o);
}
