// SPDX-License-Identifier: GPL-2.0
/*
 * pmscan --selfcheck: proof that the harness adds nothing to what it times.
 * Each read() method given (dense, batched:B) is timed through the one timed
 * hook, interleaved round by round with a bare loop of the same preads
 * written out here with nothing else around it; the ratio of medians
 * (method over bare, bootstrap 95% CI) should be 1 within noise.  Also the
 * cost of one clock read, which sparse pays once per read and does not
 * subtract.
 */
#include "method.h"
#include "lib/stats/stats.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The bare loop: nothing but the preads of one pass, between two clock reads. */
static int bare_pass(const struct pms_ctx *ctx, uint64_t batch, uint64_t *ns)
{
	uint64_t t0, t1;
	int err = 0;

	t0 = pmb_now_ns();
	for (uint64_t i = 0; i < ctx->pages; i += batch) {
		size_t len = (size_t)(ctx->pages - i < batch ? ctx->pages - i : batch) * PM_ENTRY_BYTES;

		if (pread(ctx->fd, ctx->buf + i, len, pms_offset(ctx, i)) != (ssize_t)len) {
			err = -EIO;
			break;
		}
	}
	t1 = pmb_now_ns();
	*ns = t1 - t0;
	return err;
}

/* ns per clock read: the median of 101 runs of 1000 back-to-back reads. */
static double clock_cost(void)
{
	double v[101];

	for (int k = 0; k < 101; k++) {
		uint64_t t0 = pmb_now_ns(), t;

		for (int i = 0; i < 999; i++)
			t = pmb_now_ns();
		t = pmb_now_ns();
		v[k] = (double)(t - t0) / 1000.0;
	}
	return pmb_median(v, 101);
}

int pms_selfcheck(struct pms_ctx *ctx, struct pms_variant *v, unsigned nv, unsigned rounds)
{
	double *a = malloc(rounds * sizeof(double)), *b = malloc(rounds * sizeof(double));
	double *q = malloc(rounds * sizeof(double));
	int err = a && b && q ? 0 : -ENOMEM;

	for (unsigned k = 0; !err && k < nv; k++) {
		double ratio, lo, hi;
		struct pmb_summary pq;

		if (!(v[k].info->traits & PMB_M_READ) || (v[k].info->traits & PMB_M_SINGLE) ||
		    (v[k].info->args & PMB_ARG_QD)) {
			fprintf(stderr, "selfcheck: %s: not a synchronous pread pass; left out\n", v[k].spec);
			continue;
		}
		for (unsigned r = 0; !err && r < rounds; r++) {
			uint64_t ns, entries, reads;

			/* Interleaved, and the order swaps each round: drift hits both alike. */
			if (r & 1) {
				err = bare_pass(ctx, v[k].batch, &ns);
				b[r] = (double)ns;
				err = err ?: pms_time_pass(ctx, &v[k], &ns, &entries, &reads);
				a[r] = (double)ns;
			} else {
				err = pms_time_pass(ctx, &v[k], &ns, &entries, &reads);
				a[r] = (double)ns;
				err = err ?: bare_pass(ctx, v[k].batch, &ns);
				b[r] = (double)ns;
			}
		}
		if (!err)
			err = pmb_ratio_ci(b, rounds, a, rounds, 2000, ctx->seed, &ratio, &lo, &hi);
		/* Paired: each round's two passes ran back to back, so their ratio cancels what drifts. */
		for (unsigned r = 0; !err && r < rounds; r++)
			q[r] = a[r] / b[r];
		if (!err)
			err = pmb_summarize(q, rounds, 2000, ctx->seed, &pq);
		if (!err)
			printf("selfcheck\t%s\tratio=%.4f\tci_lo=%.4f\tci_hi=%.4f\tpaired=%.4f\tpaired_lo=%.4f"
			       "\tpaired_hi=%.4f\tmethod_ns_per_entry=%.3f\tbare_ns_per_entry=%.3f\trounds=%u\n",
			       v[k].spec, ratio, lo, hi, pq.median, pq.ci_lo, pq.ci_hi,
			       pmb_median(a, rounds) / (double)ctx->pages, pmb_median(b, rounds) / (double)ctx->pages,
			       rounds);
	}
	if (!err)
		printf("clock\tns_per_read=%.2f\tsparse_subtracts=no\n", clock_cost());
	free(a);
	free(b);
	free(q);
	if (err)
		return pmb_err(err, "selfcheck"), PMB_EXIT_ERROR;
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}
