// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench run / verify / cleanup: build each memory state with pmwork, judge
 * it against the oracle, time it with pmscan, keep every raw sample.
 */
#include "harness/cmd.h"
#include "run.h"
#include "judge.h"
#include "kmsg.h"
#include "sampler.h"
#include "noise.h"
#include "proc.h"
#include "rundir.h"
#include "harness/offline/summary.h"
#include "harness/sinks/sink.h"
#include "lib/outdir.h"
#include "wire/wire.h"
#include "catalog/catalog.h"
#include "lib/opt.h"
#include "lib/util.h"

#include <errno.h>
#include <jansson.h>
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

/* ---------------------------------------------------------------- timing */

static size_t method_args(const struct pmb_params *p, char **argv, size_t at, char specs[][32])
{
	size_t n = 0;

	for (unsigned m = 0; m < p->nmethods; m++) {
		unsigned args = pmb_method_find(p->methods[m])->args;

		if (args & PMB_ARG_BATCH) {
			for (unsigned b = 0; b < p->nbatches; b++) {
				if (args & PMB_ARG_QD)
					snprintf(specs[n], 32, "%s:%" PRIu64 ":%u", p->methods[m], p->batches[b],
						 p->qd);
				else
					snprintf(specs[n], 32, "%s:%" PRIu64, p->methods[m], p->batches[b]);
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
/*
 * only[0..nonly): the method specs to time (the series still above the
 * precision target); nonly 0: every method and batch of the run.
 */
static int scan(const struct pmb_params *p, const struct pmb_workload *w, bool agree, uint64_t seed,
		uint64_t first, uint64_t n_pages, char (*only)[32], size_t nonly, char **out, size_t *len,
		int *status)
{
	char exe[600], pid[16], addr[32], pages[24], cpu[16], sd[24], rounds[16], warm[16], sparse[16], extra[16];
	char specs[PMB_MAX_LIST * 3][32];
	char *argv[32 + 6 * PMB_MAX_LIST];
	size_t n = 0;

	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(pid, sizeof(pid), "%d", (int)w->view_pid);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, w->view_addr + first * (uint64_t)w->page_size);
	snprintf(pages, sizeof(pages), "%" PRIu64, n_pages ? n_pages : w->pages);
	snprintf(cpu, sizeof(cpu), "%u", p->cpu);
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
		if (p->extra_work) {
			snprintf(extra, sizeof(extra), "%u", p->extra_work);
			argv[n++] = "--extra-pct"; argv[n++] = extra;
		}
	}
	if (!nonly) {
		method_args(p, argv, n, specs);
	} else {
		for (size_t i = 0; i < nonly && i < PMB_MAX_LIST * 3; i++) {
			argv[n++] = "--method";
			argv[n++] = only[i];
		}
		argv[n] = NULL;
	}
	return pmb_spawn_capture(argv, out, len, status);
}

/*
 * Append pmscan's rows (wire/wire.h's table) to samples.tsv, tagged with
 * case, series and the drift verdict.  A row that does not parse is an
 * error, never a dropped sample.
 */
static int keep_samples(struct pmb_rundir *rd, const struct pmb_case *c, unsigned series, unsigned round0,
			bool discarded, char *out, size_t len, struct pmb_sampler *sa)
{
	struct pmb_tsv t;
	int err = pmb_tsv_parse(out, len, "pmscan output", &pmb_scan_table, &t);

	for (size_t i = 0; !err && i < t.nrows; i++) {
		long long v[PMB_SCAN_NCOLS];

		for (int col = PMB_SCAN_BATCH; !err && col < PMB_SCAN_NCOLS; col++)
			if (pmb_parse_ll(pmb_tsv_get(&t, i, col), &v[col]) ||
			    (col != PMB_SCAN_PMD_POS && v[col] < 0))
				err = pmb_fail(-EPROTO, "pmscan output:%zu: %s '%s' is not a count",
					       pmb_tsv_line(i), pmb_scan_table.cols[col].name,
					       pmb_tsv_get(&t, i, col));
		if (!err && sa && !discarded && !v[PMB_SCAN_WARMUP] && v[PMB_SCAN_ENTRIES] > 0)
			err = pmb_sampler_add(sa, pmb_tsv_get(&t, i, PMB_SCAN_METHOD), v[PMB_SCAN_BATCH],
					      v[PMB_SCAN_QD], series,
					      (double)v[PMB_SCAN_NS] / (double)v[PMB_SCAN_ENTRIES],
					      (double)v[PMB_SCAN_NS]);
		if (!err)
			err = pmb_sample_row(rd, c->id, pmb_tsv_get(&t, i, PMB_SCAN_METHOD), v[PMB_SCAN_BATCH],
					     v[PMB_SCAN_QD], series, round0 + v[PMB_SCAN_ROUND], (int)v[PMB_SCAN_WARMUP],
					     discarded, (unsigned long long)v[PMB_SCAN_ENTRIES],
					     (unsigned long long)v[PMB_SCAN_READS], (unsigned long long)v[PMB_SCAN_NS],
					     v[PMB_SCAN_PMD_POS]);
	}
	if (t.buf)
		pmb_tsv_free(&t);	/* it owned out */
	fflush(rd->samples);
	return err ? -EPROTO : 0;
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
	struct pmb_noise noise;		/* what else ran on the host while the cases did */
	struct pmb_kmsg kmsg;		/* the kernel log since the run began */
	FILE *klog;			/* kernel-log.txt: the problem lines, per case */
	unsigned klog_hits;
	double build_s;			/* the case's first build, settled: what another state costs */
};

/*
 * Kernel problems logged since the last look make the case incorrect, with
 * the lines quoted: pagemap may have answered right while the kernel warned.
 */
static void check_kernel_log(struct runner *r, struct pmb_case *c, const char *when)
{
	char hits[4096] = "", first[200];
	unsigned n = pmb_kmsg_scan(&r->kmsg, hits, sizeof(hits));
	size_t len = strlen(c->reason);

	if (!n)
		return;
	c->kernel_log += n;
	r->klog_hits += n;
	if (!r->klog)
		r->klog = pmb_out_create(r->rd.path, "kernel-log.txt");
	if (r->klog) {
		fprintf(r->klog, "# %s%s\n%s", c->id, when, hits);
		fflush(r->klog);
	}
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(hits, "\n"), hits);
	snprintf(c->reason + len, sizeof(c->reason) - len, "%skernel log%s: %u problem line(s), first: %s",
		 len ? "; " : "", when, n, first);
	c->verdict = PMB_V_INCORRECT;
	pmb_warn("%s: the kernel logged %u problem line(s)%s: %s", c->id, n, when, first);
}

static void release_case(struct runner *r)
{
	pmb_workload_stop(&r->w);
	if (r->cgroup[0]) {
		pmb_cgroup_destroy(r->cgroup);
		r->cgroup[0] = '\0';
	}
}

static void set_verdict(struct pmb_case *c, enum pmb_case_verdict verdict, const char *prefix, const char *why)
{
	c->verdict = verdict;
	snprintf(c->reason, sizeof(c->reason), "%s%s", prefix, why);
}

static bool same_state(const uint8_t *a, const uint8_t *b, uint64_t n)
{
	return !memcmp(a, b, n);
}

/*
 * A state vector's fingerprint: what a series' rounds are checked against,
 * so that no second copy of the vector is held (4 MiB at 16 GiB).
 */
static uint64_t state_sum(const uint8_t *st, uint64_t n)
{
	return pmb_fnv1a(PMB_FNV1A_INIT, st, n);
}

/* Create the case's cgroup (cgroup mode) and start its workload; 1 when the case ends here. */
static int build_case(struct runner *r, struct pmb_case *c)
{
	long psz = sysconf(_SC_PAGESIZE);
	char why[256] = "", name[96];
	const char *cg = NULL;
	int err;

	if ((strcmp(c->swapout, "none") || c->sequence) && !r->have_swap) {
		set_verdict(c, PMB_V_SKIP, "no swap: ", r->swap_why);
		return 1;
	}
	if (!strcmp(c->swapout, "cgroup")) {
		uint64_t region = c->pages * (uint64_t)psz;
		uint64_t limit = (uint64_t)((double)region * (100.0 - c->swapped) / 100.0) + (1 << 20);

		if (r->cg.mode == PMB_CG_NONE) {
			set_verdict(c, PMB_V_SKIP, "no memory cgroup: ", r->cg.why);
			return 1;
		}
		snprintf(name, sizeof(name), "pagemap-bench.%d.%ld", (int)getpid(), (long)(c - r->cases));
		err = pmb_cgroup_create(&r->cg, name, limit, r->cgroup, sizeof(r->cgroup));
		if (err) {
			set_verdict(c, PMB_V_SKIP, "cannot create a memory cgroup: ", strerror(-err));
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
		set_verdict(c, PMB_V_SKIP, "", why);
		return 1;
	}
	if (err == -ENOMEM || (err && cg && pmb_cgroup_oom_kills(&r->cg, cg) > 0)) {
		set_verdict(c, PMB_V_OOM, "", "the workload was OOM-killed in its cgroup; raise the limit (--swapped)");
		return 1;
	}
	if (err) {
		set_verdict(c, PMB_V_ERROR, "", why);
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
 * Whether a fresh build reached the same state as the first: exactly, where
 * the set-up chose every page (pageout, none); in its counts within 1% of the
 * pages, where the kernel's reclaim chose them (cgroup).
 */
static bool same_build(const struct pmb_case *c, const uint8_t *ref, const uint8_t *now)
{
	uint64_t a[PMS_TRUTHS] = { 0 }, b[PMS_TRUTHS] = { 0 };

	if (strcmp(c->swapout, "cgroup"))
		return !memcmp(ref, now, c->pages);
	for (uint64_t i = 0; i < c->pages; i++) {
		a[ref[i] < PMS_TRUTHS ? ref[i] : 0]++;
		b[now[i] < PMS_TRUTHS ? now[i] : 0]++;
	}
	for (int k = 0; k < PMS_TRUTHS; k++)
		if ((a[k] > b[k] ? a[k] - b[k] : b[k] - a[k]) * 100 > c->pages)
			return false;
	return true;
}

/* A fresh build of the case's state for the next series, settled into cur: 0, 1 when it cannot be had. */
static int rebuild(struct runner *r, const struct pmb_case *c, uint8_t *cur)
{
	struct pmb_case tmp = *c;	/* a failed build must not change the case's verdict */
	uint64_t counts[PMS_TRUTHS];
	int err;

	release_case(r);
	err = build_case(r, &tmp);
	if (err)
		return err < 0 ? err : 1;
	return pmb_workload_settle(&r->w, cur, counts);
}

/*
 * Rounds of pmscan over the stopped workload's state s, then the state
 * re-read into now and checked against its fingerprint cur_sum: every method
 * of the run (a fresh state), or only the specs in only[] (more rounds for the
 * series still above the target).  round0 is the number the first round gets
 * in samples.tsv, after the state's earlier ones.
 */
static int time_series(struct runner *r, struct pmb_case *c, unsigned s, unsigned rounds, unsigned warmup,
		       unsigned round0, char (*only)[32], size_t nonly, bool rebuilt_ok, uint64_t cur_sum,
		       uint8_t *now, struct pmb_sampler *sa)
{
	struct pmb_params p = r->p;
	uint64_t counts[PMS_TRUTHS];
	char *out;
	size_t len;
	int status, err;
	bool ok;

	p.rounds = rounds;
	p.warmup = warmup;
	err = scan(&p, &r->w, false, r->p.seed + s + round0, 0, 0, only, nonly, &out, &len, &status);
	if (err)
		return err;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(out);
		if (WIFEXITED(status) && WEXITSTATUS(status) == PMB_EXIT_SKIP)
			return -EOPNOTSUPP;
		return -EIO;
	}
	err = pmb_workload_state(&r->w, now, counts);
	ok = !err && rebuilt_ok && state_sum(now, c->pages) == cur_sum;
	if (!nonly) {
		c->series_total++;
		if (!ok)
			c->series_discarded++;
	}
	if (err) {
		free(out);
		return err;
	}
	if (!rebuilt_ok)
		pmb_warn("%s: series %u: the fresh build differs from the first; its samples are discarded",
			 c->id, s);
	else if (!ok)
		pmb_warn("%s: the state drifted during series %u; %s discarded", c->id, s,
			 nonly ? "the added rounds are" : "the series is");
	return keep_samples(&r->rd, c, s, round0, !ok, out, len, sa);	/* takes out */
}

/*
 * The host's own speed beside state s: pmscan --probe on the reader's CPU,
 * its rows kept as method "probe" of that state.  compare withholds a
 * change of the case's series unless the probe's ratio held within 1 +-
 * threshold (docs/statistics.md).
 */
#define PROBE_WARMUP	2
#define PROBE_ROUNDS	10

static int probe_host(struct runner *r, struct pmb_case *c, unsigned s)
{
	char exe[600], cpu[16], rounds[16], warm[16], sd[24];
	char *argv[] = { exe, "--probe", "--cpu", cpu, "--rounds", rounds, "--warmup", warm, "--seed", sd, NULL };
	char *out;
	size_t len;
	int status, err;

	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(cpu, sizeof(cpu), "%u", r->p.cpu);
	snprintf(rounds, sizeof(rounds), "%u", PROBE_ROUNDS);
	snprintf(warm, sizeof(warm), "%u", PROBE_WARMUP);
	snprintf(sd, sizeof(sd), "%" PRIu64, r->p.seed);
	err = pmb_spawn_capture(argv, &out, &len, &status);
	if (err)
		return err;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(out);
		return -EIO;
	}
	return keep_samples(&r->rd, c, s, 0, false, out, len, NULL);	/* takes out */
}

/* The pmscan spec of a sampler series: method, with batch and qd where it takes them. */
static void series_spec(const struct pmb_sampler_series *s, char spec[32])
{
	const struct pmb_method_info *m = pmb_method_find(s->method);
	unsigned args = m ? m->args : 0;

	if (!(args & PMB_ARG_BATCH))
		snprintf(spec, 32, "%s", s->method);
	else if (args & PMB_ARG_QD)
		snprintf(spec, 32, "%s:%lld:%lld", s->method, s->batch, s->qd);
	else
		snprintf(spec, 32, "%s:%lld", s->method, s->batch);
}

static double since_s(uint64_t t)
{
	return (double)(pmb_now_ns() - t) / 1e9;
}

/*
 * Swap-in cost (--swapin-rounds): the workload times faulting every swapped
 * page back in, one sample a round, kept as method "swapin" of state `state`
 * (rounds numbered from 0); between rounds the same pages are paged out again.
 * Timed for cases with swapped pages in the self view: once per state before
 * it is rebuilt, and --swapin-rounds times in the last, so that its interval
 * spans states like every other series'.
 */
static bool wants_swapin(const struct runner *r, const struct pmb_case *c)
{
	return r->p.swapin_rounds && c->truth[PMS_SWAPPED] && !strcmp(c->view, "self");
}

static int time_swapin(struct runner *r, struct pmb_case *c, uint8_t *now, unsigned state, unsigned rounds)
{
	uint64_t counts[PMS_TRUTHS];
	int err = 0;

	for (unsigned k = 0; k < rounds && !pmb_stop_signal; k++) {
		char line[PMB_WIRE_LINE] = "";
		uint64_t n = 0, ns = 0;

		err = pmb_workload_command(&r->w, PMB_CMD_SWAPIN, now, counts, line, sizeof(line));
		if (err)
			break;
		if (pmb_wire_swapin_parse(line, &n, &ns)) {
			err = -EPROTO;
			break;
		}
		if (n)
			err = pmb_sample_row(&r->rd, c->id, pmb_methods[PMB_METHOD_swapin].name, 1, 1, state, k,
					     0, 0, n, 0, ns, -1);
		if (!err && k + 1 < rounds)
			err = pmb_workload_command(&r->w, PMB_CMD_PAGEOUT, now, counts, NULL, 0);
		if (err)
			break;
	}
	fflush(r->rd.samples);
	return err;
}

/*
 * Time one case: states (fresh builds; the first is the one judged), so
 * that the intervals cover the noise between states (which pages, which swap
 * slots), and with --precision more rounds or more states, chosen from the
 * samples so far, until every timed series' 95% CI half-width is at or below
 * the target.  The time budget bounds the whole: a step whose expected cost
 * (from the builds and rounds so far) does not fit in what is left is not
 * taken, whatever --series asks (docs/statistics.md).
 */
static int time_case(struct runner *r, struct pmb_case *c, const uint8_t *ref, uint8_t *now)
{
	const struct pmb_params *p = &r->p;
	struct pmb_sampler sa = { 0 };
	struct pmb_sampler_view view;
	char (*only)[32] = calloc(PMB_MAX_LIST * 3, 32);
	uint64_t t0 = pmb_now_ns();
	double build_s = r->build_s, round_s = 0, fixed_s = 0;
	unsigned s = 0, held = 0, round0 = 0, topups = 0;
	uint64_t cur_sum = state_sum(ref, c->pages);
	bool new_state = true, rebuilt_ok = true, swapin = wants_swapin(r, c), gone = false;
	int err = only ? 0 : -ENOMEM;

	snprintf(c->sampling, sizeof(c->sampling), "fixed");
	while (!err && !pmb_stop_signal) {
		size_t nonly = 0;
		double spent, cost, state_cost, topup_cost;
		bool want_state, may_state, may_topup, fits_state, fits_topup;
		const char *why = NULL;
		char step[96];
		uint64_t t;

		if (new_state) {
			if (s > 0) {
				t = pmb_now_ns();
				/* The state at hand is left: its swap-in, counted as part of the next build. */
				if (swapin)
					err = time_swapin(r, c, now, held, 1);
				if (!err)
					err = rebuild(r, c, now);
				if (err > 0) {
					snprintf(c->sampling, sizeof(c->sampling), "stopped after %u states: the "
						 "state could not be built again", s);
					err = 0;
					gone = true;
					break;
				}
				if (err)
					break;
				held = s;
				build_s = since_s(t);
				rebuilt_ok = same_build(c, ref, now);
				cur_sum = state_sum(now, c->pages);
			}
			t = pmb_now_ns();
			err = time_series(r, c, s, p->rounds, p->warmup, 0, NULL, 0, rebuilt_ok, cur_sum, now, &sa);
			/* A state's rounds: what a round of every series costs, and what a call costs besides. */
			round_s = since_s(t) / (double)(p->rounds + p->warmup);
			if (!err)
				err = probe_host(r, c, s);
			round0 = p->rounds;
			s++;
		} else {
			for (size_t i = 0; i < sa.ns; i++)
				if (!(sa.s[i].hw <= p->precision) && nonly < PMB_MAX_LIST * 3)
					series_spec(&sa.s[i], only[nonly++]);
			t = pmb_now_ns();
			err = time_series(r, c, s - 1, p->rounds, p->warmup ? 1 : 0, round0, only, nonly,
					  rebuilt_ok, cur_sum, now, &sa);
			fixed_s = since_s(t) - round_s * view.missed_share * (double)(p->rounds + (p->warmup ? 1 : 0));
			if (fixed_s < 0)
				fixed_s = 0;
			round0 += p->rounds;
			topups++;
		}
		if (err)
			break;
		if (!(p->precision > 0)) {
			if (s >= p->series)
				break;
			continue;
		}
		pmb_sampler_assess(&sa, p->precision, &view);
		spent = since_s(t0);
		state_cost = build_s + round_s * (double)(p->rounds + p->warmup);
		topup_cost = fixed_s + round_s * view.missed_share * (double)(p->rounds + (p->warmup ? 1 : 0));
		if (view.worst <= p->precision && s >= p->series) {
			snprintf(c->sampling, sizeof(c->sampling), "met: every series within %.2f%% (widest "
				 "%.2f%%) after %u state%s, %u added rounds, %.1f s", p->precision, view.worst, s,
				 s == 1 ? "" : "s", topups * p->rounds, spent);
			break;
		}
		/*
		 * Below --series states, or the noise between states dominates (or
		 * is not known yet): another state.  Else more rounds of the
		 * series above the target, in the state at hand (at most 8 times
		 * --rounds in one state).  A step that does not fit in the budget,
		 * or is not allowed, gives way to the other; when neither can be
		 * taken, timing stops.
		 */
		want_state = s < p->series || !view.within;
		may_state = s < p->max_series;
		may_topup = s >= p->series && round0 < 8 * p->rounds && view.missed && sa.ns;
		fits_state = !p->time_budget || spent + state_cost <= p->time_budget;
		fits_topup = !p->time_budget || spent + topup_cost <= p->time_budget;
		if (want_state && may_state && fits_state) {
			new_state = true;
			continue;
		}
		if (may_topup && fits_topup) {
			new_state = false;
			continue;
		}
		if (!want_state && may_state && fits_state) {
			new_state = true;
			continue;
		}
		/* Neither: the step named is the first allowed one, which the budget did not fit. */
		new_state = want_state ? may_state || !may_topup : !may_topup && may_state;
		why = !may_state && !may_topup ? "max-series" : "budget spent";
		cost = new_state ? state_cost : topup_cost;
		snprintf(step, sizeof(step), "%s, about %.1f s", new_state ? "another state" : "more rounds", cost);
		if (view.between_pct > 0)
			snprintf(c->sampling, sizeof(c->sampling), "%s after %u state%s, %u added rounds, %.1f s "
				 "(next: %s): %zu series above %.2f%%, widest %s %.2f%%; its spread between "
				 "states %.2f%% of the median asks for about %.0f states", why, s, s == 1 ? "" : "s",
				 topups * p->rounds, spent, step, view.missed, p->precision, sa.s[view.wi].key,
				 view.worst, view.between_pct, view.states_needed);
		else
			snprintf(c->sampling, sizeof(c->sampling), "%s after %u state%s, %u added rounds, %.1f s "
				 "(next: %s): %zu series above %.2f%%, widest %s %.2f%%", why, s, s == 1 ? "" : "s",
				 topups * p->rounds, spent, step, view.missed, p->precision,
				 sa.ns ? sa.s[view.wi].key : "(every series so far discarded)", view.worst);
		break;
	}
	/* The last state's swap-in rounds; also where its methods could not be timed here. */
	if (swapin && !gone && (!err || err == -EOPNOTSUPP) && !pmb_stop_signal) {
		int e = time_swapin(r, c, now, held, r->p.swapin_rounds);

		if (e)
			err = e;
	}
	free(only);
	pmb_sampler_free(&sa);
	if (err)
		return err;
	return pmb_stop_signal ? -EINTR : 0;
}

/*
 * What the viewing process should see.  A process that maps shared memory
 * without touching it (a second mapper, or a fork child, which inherits no
 * PTEs of shared mappings) has no page mapped: present pages read as none
 * there, while swapped pages are still swapped.  Private memory is copied
 * into a fork child as it is.  Where the view sees what the workload does,
 * the expected vector is the workload's own (no copy: 4 MiB at 16 GiB).
 */
static bool view_differs(const struct pmb_case *c)
{
	return strcmp(c->view, "self") && pmb_kind_find(c->kind)->backing != PMB_BACKING_ANON;
}

static void expected_view(const struct pmb_case *c, const uint8_t *ref, uint8_t *expect)
{
	if (expect == ref)
		return;
	for (uint64_t i = 0; i < c->pages; i++)
		expect[i] = ref[i] == PMS_PRESENT || ref[i] == PMS_UNMAPPED ? PMS_NONE : ref[i];
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
		int status, err = scan(&r->p, &r->w, true, r->p.seed, at, n, NULL, 0, &out, &len, &status);

		if (err)
			return err;
		c->agree = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" :
			   WIFEXITED(status) && WEXITSTATUS(status) == PMB_EXIT_INCORRECT ? "no" : "-";
		if (!strcmp(c->agree, "no")) {
			char *mm = strstr(out, "mismatch");

			pmb_warn("%s: scan methods disagree (window from page %" PRIu64 "): %.*s", c->id, at,
				 mm ? (int)strcspn(mm, "\n") : 0, mm ? mm : "");
			if (c->verdict == PMB_V_CORRECT) {
				c->verdict = PMB_V_INCORRECT;
				snprintf(c->reason, sizeof(c->reason), "scan methods disagree on the same frozen "
					 "region: %.*s", mm ? (int)strcspn(mm, "\n") : 0, mm ? mm : "");
			}
		}
		free(out);
	}
	return 0;
}

/* pmscan --classify's bytes as they come, tallied against what the view should show. */
struct tally {
	const uint8_t *expect;
	uint64_t pages, at, wrong;
	enum pmb_backing backing;
	uint64_t (*cm)[PMS_NR];
};

static int tally_sink(void *arg, const char *chunk, size_t n)
{
	struct tally *t = arg;

	for (size_t k = 0; k < n; k++, t->at++) {
		unsigned got, want;

		if (t->at >= t->pages)
			return -EPROTO;		/* more states than pages */
		got = (uint8_t)chunk[k] < PMS_NR ? (uint8_t)chunk[k] : PMS_NONE;
		want = t->expect[t->at] < PMS_TRUTHS ? t->expect[t->at] : PMS_NONE;
		t->cm[want][got]++;
		t->wrong += !pmb_report_ok((int)want, (int)got, t->backing);
	}
	return 0;
}

/*
 * One method's view of every page: pmscan --classify, one byte per page
 * (enum pm_state), tallied as it is read (no copy of the vector).  *wrong: how
 * many differ from what the view should show; -1 when the method cannot run here.
 */
static int classify(struct runner *r, const struct pmb_case *c, const char *spec, const uint8_t *expect,
		    int64_t *wrong, uint64_t cm[PMS_TRUTHS][PMS_NR])
{
	char exe[600], pid[16], addr[32], pages[24];
	char *argv[] = { exe, "--pid", pid, "--addr", addr, "--pages", pages, "--classify", (char *)spec,
			 NULL };
	struct tally t = { .expect = expect, .pages = c->pages, .cm = cm,
			   .backing = pmb_kind_find(c->kind)->backing };
	int status, err;

	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(pid, sizeof(pid), "%d", (int)r->w.view_pid);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, r->w.view_addr);
	snprintf(pages, sizeof(pages), "%" PRIu64, c->pages);
	memset(cm, 0, sizeof(uint64_t) * PMS_TRUTHS * PMS_NR);
	err = pmb_spawn_read(argv, tally_sink, &t, &status);
	if (err && err != -EPROTO)
		return err;
	*wrong = -1;		/* a reader that says more than it was asked is not believed either */
	if (!err && WIFEXITED(status) && WEXITSTATUS(status) == 0 && t.at == c->pages)
		*wrong = (int64_t)t.wrong;
	else
		memset(cm, 0, sizeof(uint64_t) * PMS_TRUTHS * PMS_NR);
	return 0;
}

/*
 * The spec a method is classified with: its largest batch (and qd) where it
 * takes them, the fewest reads (a batched:1 pass over 4M pages takes about 7
 * s).  The batch does not change what the kernel reports; the agreement check
 * holds every other batch to the same entries.
 */
static void method_spec(const struct pmb_params *p, const char *method, char *spec, size_t len)
{
	unsigned args = pmb_method_find(method)->args;
	uint64_t batch = p->batches[0];

	for (unsigned i = 1; i < p->nbatches; i++)
		if (p->batches[i] > batch)
			batch = p->batches[i];
	if (!(args & PMB_ARG_BATCH))
		snprintf(spec, len, "%s", method);
	else if (args & PMB_ARG_QD)
		snprintf(spec, len, "%s:%" PRIu64 ":%u", method, batch, p->qd);
	else
		snprintf(spec, len, "%s:%" PRIu64, method, batch);
}

/*
 * Every method judged against the oracle on its own, so that a verdict names
 * the method that is wrong (read() and PAGEMAP_SCAN are separate paths in
 * the kernel).  A method that is an oracle of its own (compare none: the
 * userspace alternative) is recorded, never held against the kernel.
 */
static int check_methods(struct runner *r, struct pmb_case *c, const uint8_t *expect)
{
	/* Methods that err alike are named together: "dense, batched, scan-ioctl report ...". */
	struct { char what[160], who[160]; } g[PMB_MAX_LIST];
	size_t ng = 0, used = strlen(c->reason);

	c->methods_wrong[0] = '\0';
	for (unsigned m = 0; m < r->p.nmethods; m++) {
		const struct pmb_method_info *info = pmb_method_find(r->p.methods[m]);
		uint64_t cm[PMS_TRUTHS][PMS_NR];
		char spec[64], what[160] = "";
		size_t wl = 0, k;
		int64_t wrong;
		int err;

		method_spec(&r->p, info->name, spec, sizeof(spec));
		err = classify(r, c, spec, expect, &wrong, cm);
		if (err)
			return err;
		if (info->compare == PMB_CMP_NONE) {
			snprintf(c->userspace, sizeof(c->userspace), wrong < 0 ? "-" : wrong ? "no:%" PRId64 : "yes",
				 wrong);
			continue;
		}
		if (wrong <= 0)
			continue;
		for (int t = 0; t < PMS_TRUTHS; t++)
			for (int q = 0; q < PMS_NR; q++)
				if (!pmb_report_ok(t, q, info == NULL ? PMB_BACKING_SHMEM :
						   pmb_kind_find(c->kind)->backing) && cm[t][q] && wl < sizeof(what))
					wl += (size_t)snprintf(what + wl, sizeof(what) - wl, "%s%" PRIu64 " %s pages as %s",
							       wl ? ", " : "", cm[t][q], pm_state_name(t),
							       pm_state_name(q));
		snprintf(c->methods_wrong + strlen(c->methods_wrong), sizeof(c->methods_wrong) -
			 strlen(c->methods_wrong), "%s%s:%" PRId64, c->methods_wrong[0] ? "," : "", info->name,
			 wrong);
		c->verdict = PMB_V_INCORRECT;
		for (k = 0; k < ng && strcmp(g[k].what, what); k++)
			;
		if (k == ng) {
			snprintf(g[ng].what, sizeof(g[ng].what), "%s", what);
			g[ng++].who[0] = '\0';
		}
		snprintf(g[k].who + strlen(g[k].who), sizeof(g[k].who) - strlen(g[k].who), "%s%s",
			 g[k].who[0] ? ", " : "", info->name);
	}
	for (size_t k = 0; k < ng && used < sizeof(c->reason); k++)
		used += (size_t)snprintf(c->reason + used, sizeof(c->reason) - used, "%s%s report%s %s",
					 used ? "; " : "", g[k].who, strchr(g[k].who, ',') ? "" : "s", g[k].what);
	return 0;
}

/* Pages pagemap reported wrongly (pmb_report_ok). */
static uint64_t misreported(const struct pmb_case *c)
{
	enum pmb_backing b = pmb_kind_find(c->kind)->backing;
	uint64_t n = 0;

	for (int t = 0; t < PMS_TRUTHS; t++)
		for (int q = 0; q < PMS_NR; q++)
			if (!pmb_report_ok(t, q, b))
				n += c->cm[t][q];
	return n;
}

/*
 * fault -> pageout -> fault -> remove -> pageout -> remove, with pagemap
 * judged against the oracle after every step, and the oracle against what
 * the step must have done.
 */
static int run_sequence(struct runner *r, struct pmb_case *c, uint8_t *state)
{
	static const char *const steps[] = { PMB_CMD_FAULT, PMB_CMD_PAGEOUT, PMB_CMD_FAULT, PMB_CMD_REMOVE,
					     PMB_CMD_PAGEOUT, PMB_CMD_REMOVE };
	uint64_t dirtied = (uint64_t)llround((double)c->pages * c->dirty / 100.0);
	uint64_t chosen = (uint64_t)llround((double)dirtied * c->swapped / 100.0);
	struct pmb_case sum = *c, step;
	uint64_t counts[PMS_TRUTHS];
	size_t len = 0;
	int err;

	memset(sum.truth, 0, sizeof(sum.truth));
	memset(sum.cm, 0, sizeof(sum.cm));
	sum.reason[0] = '\0';
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint64_t want[PMS_NR] = { c->pages - dirtied, dirtied, 0 }, seen[PMS_NR];

		if (!strcmp(steps[i], PMB_CMD_PAGEOUT) && i == 1) {
			want[PMS_PRESENT] = dirtied - chosen;
			want[PMS_SWAPPED] = chosen;
		} else if (!strcmp(steps[i], PMB_CMD_REMOVE) || i == 4) {
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
		if (step.unmapped_behind)
			pmb_warn("%s: step %zu %s: the kernel unmapped %" PRIu64 " resident pages on its own "
				 "(smaps Rss agrees with pagemap); judged as unmapped", c->id, i + 1, steps[i],
				 step.unmapped_behind);
		for (int t = 0; t < PMS_TRUTHS; t++) {
			sum.truth[t] += step.truth[t];
			for (int q = 0; q < PMS_NR; q++)
				sum.cm[t][q] += step.cm[t][q];
		}
		/*
		 * A page paged out is swapped, or, where the kernel kept it, in
		 * memory but unmapped; so is any page sharing a large folio with
		 * one (MADV_PAGEOUT unmaps the whole folio).  The construction
		 * holds when nothing else moved and no more than the chosen
		 * pages are in swap.
		 */
		memcpy(seen, counts, sizeof(seen));
		if (counts[PMS_UNMAPPED] && counts[PMS_NONE] == want[PMS_NONE] &&
		    counts[PMS_SWAPPED] <= want[PMS_SWAPPED] &&
		    counts[PMS_PRESENT] + counts[PMS_SWAPPED] + counts[PMS_UNMAPPED] ==
		    want[PMS_PRESENT] + want[PMS_SWAPPED])
			memcpy(seen, want, sizeof(seen));
		sum.bad_type += step.bad_type;
		sum.bad_offset += step.bad_offset;
		sum.dup += step.dup;
		sum.content_ok += step.content_ok;
		sum.content_bad += step.content_bad;
		sum.content_unchecked += step.content_unchecked;
		if (step.verdict != PMB_V_CORRECT && len < sizeof(sum.reason))
			len += (size_t)snprintf(sum.reason + len, sizeof(sum.reason) - len, "%sstep %zu %s: %s",
						len ? "; " : "", i + 1, steps[i], step.reason);
		if (memcmp(seen, want, sizeof(want)) && len < sizeof(sum.reason))
			len += (size_t)snprintf(sum.reason + len, sizeof(sum.reason) - len,
						"%sstep %zu %s: the oracle sees none/present/swapped/unmapped %" PRIu64
						"/%" PRIu64 "/%" PRIu64 "/%" PRIu64 ", construction says %" PRIu64 "/%"
						PRIu64 "/%" PRIu64, len ? "; " : "", i + 1, steps[i], counts[0], counts[1],
						counts[2], counts[3], want[0], want[1], want[2]);
	}
	sum.oracle_swap_kb = sum.smaps_swap_kb = 0;
	if (!sum.reason[0])
		sum.verdict = PMB_V_CORRECT;
	else if (sum.bad_type + sum.bad_offset + sum.dup + sum.content_bad || misreported(&sum))
		sum.verdict = PMB_V_INCORRECT;
	else
		sum.verdict = PMB_V_ERROR;
	*c = sum;
	return 0;
}

/*
 * Judge the settled state: pagemap against the oracle, every method on its
 * own, and the methods' raw entries against each other.  1 when the state
 * changed while it was judged (the verdicts are void), else 0 or -errno.
 */
static int judge_case(struct runner *r, struct pmb_case *c, const uint8_t *ref, const uint8_t *expect,
		      uint8_t *now)
{
	uint64_t counts[PMS_TRUTHS];
	int err;

	c->agree = "-";
	c->userspace[0] = c->methods_wrong[0] = '\0';
	err = pmb_judge(c, &r->w, expect, &r->sw, r->p.seed, r->p.check_content);
	if (err) {
		set_verdict(c, PMB_V_ERROR, "", "cannot read pagemap");
		return 0;
	}
	err = check_methods(r, c, expect);
	if (!err)
		err = check_agreement(r, c);
	if (!err)
		err = pmb_workload_state(&r->w, now, counts);
	if (err)
		return err;
	return !same_state(ref, now, c->pages);
}

static int run_case(struct runner *r, struct pmb_case *c)
{
	uint64_t counts[PMS_TRUTHS];
	uint8_t *ref, *now, *expect;
	int err;

	c->start_pmd_pos = -1;
	c->thp_pages = -1;
	r->build_s = (double)pmb_now_ns();
	err = build_case(r, c);
	if (err)
		return err < 0 ? err : 0;
	c->start_pmd_pos = (int)(r->w.view_addr / (uint64_t)r->w.page_size % PMB_PMD_PAGES);
	c->thp_pages = (long)r->w.r.thp_pages;
	ref = malloc(c->pages);
	now = malloc(c->pages);
	expect = ref && view_differs(c) ? malloc(c->pages) : ref;
	if (!ref || !now || !expect) {
		err = -ENOMEM;
		goto out;
	}
	err = pmb_workload_settle(&r->w, ref, counts);
	r->build_s = ((double)pmb_now_ns() - r->build_s) / 1e9;
	if (err) {
		set_verdict(c, PMB_V_ERROR, "", "cannot read the workload's state");
		goto out;
	}
	if (c->sequence) {
		err = run_sequence(r, c, now);
		goto out;
	}
	/* A case that set out to swap pages and neither swapped nor unmapped one tests nothing. */
	if (r->w.r.pageout_missed > 0 && r->w.r.swapped == 0 && r->w.r.unmapped == 0 &&
	    pmb_kind_find(c->kind)->backing != PMB_BACKING_FILE) {
		char why[160];

		snprintf(why, sizeof(why), "MADV_PAGEOUT left all %" PRIu64 " chosen pages mapped on this "
			 "kernel: no swapped or unmapped page to judge", r->w.r.pageout_missed);
		set_verdict(c, PMB_V_SKIP, "", why);
		err = 0;
		goto out;
	}
	if (r->w.r.pageout_missed > 0 || r->w.r.contradictions > 0)
		pmb_warn("%s: MADV_PAGEOUT missed %" PRIu64 " chosen pages, %" PRIu64 " oracle contradictions",
			 c->id, r->w.r.pageout_missed, r->w.r.contradictions);
	for (int attempt = 0;; attempt++) {
		expected_view(c, ref, expect);
		err = judge_case(r, c, ref, expect, now);
		if (err <= 0)
			break;
		/* The state changed under the judge: its verdicts say nothing about the kernel. */
		if (attempt == 1) {
			set_verdict(c, PMB_V_ERROR, "", "the state kept changing while it was judged (something "
				    "on the host pages memory in or out: see the summary's host notes)");
			err = 0;
			goto out;
		}
		pmb_warn("%s: the state changed while it was judged; settling and judging again", c->id);
		err = pmb_workload_settle(&r->w, ref, counts);
		if (err)
			goto out;
	}
	if (err)
		goto out;
	if (r->p.timing)
		err = time_case(r, c, ref, now);
	if (err == -EOPNOTSUPP)
		err = 0;
out:
	if (expect != ref)
		free(expect);
	free(ref);
	free(now);
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
	c->verdict = PMB_V_SKIP;
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
	unsigned nskip = 0, nbad = 0, nerr = 0, i;
	uint64_t t0 = pmb_now_ns();
	struct pmb_item item;
	char diag[2048];
	int err, ret;

	if (!r)
		return PMB_EXIT_ERROR;
	ret = pmb_params_parse(argc, argv, &r->p, !strcmp(cmd, "verify"));
	if (ret) {
		free(r);
		return ret == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		pmb_err(0, "skip: needs root (swap, cgroups, and swap offsets in pagemap need CAP_SYS_ADMIN)");
		free(r);
		return PMB_EXIT_SKIP;
	}
	{
		int holder;

		err = pmb_run_lock(!r->p.no_wait, &holder);
		if (err == -EBUSY) {
			pmb_err(0, "skip: another pmbench run (pid %d) is running on this machine, and "
				"--no-wait: runs share the machine's swap, so one runs at a time", holder);
			free(r);
			return PMB_EXIT_SKIP;
		}
		if (err) {
			pmb_err(err, "cannot take %s/run.lock", PMB_STATE_DIR);
			free(r);
			return PMB_EXIT_ERROR;
		}
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
	pmb_kmsg_open(&r->kmsg);
	if (r->kmsg.fd < 0)
		pmb_warn("cannot read the kernel log (%s): kernel warnings will not be seen", r->kmsg.why);
	r->ktap = pmb_out_create(r->rd.path, "verify.ktap");
	for (FILE **o = (FILE *[]){ r->ktap, !strcmp(cmd, "verify") ? stdout : NULL, NULL }; *o; o++)
		pmb_ktap_begin(*o, &(struct pmb_report){ .title = "pagemap-bench verify", .run_id = r->rd.id,
							 .flat = 1 }, r->ncases);
	fprintf(stderr, "pmbench: %s: %u cases, results in %s\n", cmd, r->ncases, r->rd.path);

	for (i = 0; i < r->ncases && !pmb_stop_signal; i++) {
		struct pmb_case *c = &r->cases[i];
		struct pmb_noise_snap before, after;

		pmb_progress(i, r->ncases, t0, "%s", c->id);
		pmb_noise_snap(&before, r->p.cpu);
		err = run_case(r, c);
		release_case(r);
		pmb_noise_snap(&after, r->p.cpu);
		pmb_noise_add(&r->noise, &before, &after);
		if (!pmb_stop_signal)
			check_kernel_log(r, c, "");
		if (err == -EINTR || pmb_stop_signal)
			break;
		if (err) {
			/* A later step failing does not undo a verdict already reached on the kernel. */
			if (c->verdict == PMB_V_INCORRECT) {
				size_t len = strlen(c->reason);

				snprintf(c->reason + len, sizeof(c->reason) - len, "; then the harness failed: %s",
					 strerror(-err));
				nerr++;
			} else {
				set_verdict(c, PMB_V_ERROR, "", strerror(-err));
			}
			err = 0;
		}
		if (pmb_case_row(&r->rd, c, &r->p))
			nerr++, pmb_err(-EIO, "%s/cases.tsv: writing %s", r->rd.path, c->id);
		pmb_case_item(c, &item, diag, sizeof(diag));
		for (FILE **o = (FILE *[]){ r->ktap, !strcmp(cmd, "verify") ? stdout : NULL, NULL }; *o; o++) {
			pmb_ktap_item(*o, "", i + 1, &item);
			fflush(*o);
		}
		nskip += pmb_case_verdict_skipped(c->verdict);
		nbad += c->verdict == PMB_V_INCORRECT;
		nerr += c->verdict == PMB_V_ERROR;
	}
	if (pmb_stop_signal)
		pmb_progress_stopped(i, r->ncases, pmb_stop_signal);
	else
		pmb_progress(r->ncases, r->ncases, t0, "cases done");
	teardown(r);
	/* What the kernel logged after the last case's look (the teardown) belongs to the run. */
	{
		char hits[4096] = "";
		unsigned outside = pmb_stop_signal ? 0 : pmb_kmsg_scan(&r->kmsg, hits, sizeof(hits));

		if (outside) {
			pmb_warn("the kernel logged %u problem line(s) after the last case: %.*s", outside,
				 (int)strcspn(hits, "\n"), hits);
			nbad++;
		}
		pmb_meta_set(&r->rd, "kernel_log", json_pack("{s:b, s:s, s:i, s:i, s:s}", "readable",
							      r->kmsg.fd >= 0, "why", r->kmsg.why, "problems",
							      (int)(r->klog_hits + outside), "outside_cases",
							      (int)outside, "outside_lines", hits));
	}
	pmb_kmsg_close(&r->kmsg);
	if (r->klog)
		pmb_out_close(r->klog, r->rd.path, "kernel-log.txt");
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
	if (pmb_meta_set(&r->rd, "host_noise", pmb_noise_json(&r->noise)))
		nerr++, pmb_err(0, "%s/meta.json: cannot record host_noise", r->rd.path);
	if (!strcmp(cmd, "verify"))
		printf("# totals: %u cases, %u incorrect, %u errors, %u skipped\n", r->ncases, nbad, nerr, nskip);
	else if (pmb_summary_write(r->rd.path, stdout))
		nerr++, pmb_err(0, "%s: the summary could not be written", r->rd.path);
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

const struct pmb_opt_spec pmb_cleanup_spec = {
	.prog = "pmbench cleanup", .args = "",
	.about = "Remove the swap, zram devices and cgroups that a killed run left behind\n"
		 "(recorded in " PMB_STATE_DIR "), and mark its run directory interrupted.\n",
	.more = "exit: 0 done, 3 error, 64 usage, 77 not root\n",
};

int cmd_cleanup(int argc, char **argv)
{
	unsigned npos;
	int n = pmb_opt_parse(&pmb_cleanup_spec, argc, argv, NULL, NULL, &npos, NULL);

	if (n)
		return n == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
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
