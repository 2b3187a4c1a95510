// SPDX-License-Identifier: GPL-2.0
/* batched:B: one pass over the range with preads of B entries (the last one shorter). */
#include "method.h"
#include "lib/util.h"

static int batched_sample(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e)
{
	uint64_t t0, t1, reads = 0;
	int err;

	t0 = pmb_now_ns();
	err = pms_read_batched(ctx, ctx->buf, 0, ctx->pages, v->batch, &reads);
	t1 = pmb_now_ns();
	if (err)
		return err;
	return pms_emit_row(e, ctx->pages, reads, t1 - t0, -1);
}

static int batched_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out)
{
	uint64_t reads;

	return pms_read_batched(ctx, out, 0, ctx->pages, v->batch, &reads);
}

const struct pms_method pms_method_batched = {
	.name = "batched",
	.desc = "pass over the range with preads of B entries (batched:B)",
	.args = PMS_ARG_BATCH,
	.probe = pms_probe_pread,
	.sample = batched_sample,
	.collect = batched_collect,
};
