// SPDX-License-Identifier: GPL-2.0
/* dense: the whole range in one pread of N entries. */
#include "method.h"
#include "lib/util.h"

static int dense_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	v->batch = ctx->pages;
	return 0;
}

static int dense_sample(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e)
{
	uint64_t t0, t1, reads = 0;
	int err;

	t0 = pmb_now_ns();
	err = pms_read_batched(ctx, ctx->buf, 0, ctx->pages, ctx->pages, &reads);
	t1 = pmb_now_ns();
	if (err)
		return err;
	return pms_emit_row(e, ctx->pages, reads, t1 - t0, -1);
}

static int dense_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out)
{
	uint64_t reads;

	return pms_read_batched(ctx, out, 0, ctx->pages, ctx->pages, &reads);
}

const struct pms_method pms_method_dense = {
	.name = "dense",
	.desc = "whole range in one pread of N entries",
	.probe = pms_probe_pread,
	.init = dense_init,
	.sample = dense_sample,
	.collect = dense_collect,
};
