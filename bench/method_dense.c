// SPDX-License-Identifier: GPL-2.0
/* dense: the whole range in one pread of N entries, that is batched with B = N. */
#include "method.h"

static int dense_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	v->batch = ctx->pages;
	return 0;
}

const struct pms_method pms_method_dense = {
	.probe = pms_probe_pread,
	.init = dense_init,
	.pass = pms_pass_batched,
};
