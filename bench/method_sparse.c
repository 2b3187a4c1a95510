// SPDX-License-Identifier: GPL-2.0
/*
 * sparse: K single-entry preads at seeded random indices, each timed on its
 * own and emitted as its own row with its position inside the 2 MiB block.
 */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sparse_state {
	uint64_t rng;
	uint64_t *index;	/* K indices drawn before the timed reads */
	uint64_t *ns;		/* K timings */
};

static int sparse_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	struct sparse_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->index = calloc(ctx->sparse_reads, sizeof(*s->index));
	s->ns = calloc(ctx->sparse_reads, sizeof(*s->ns));
	if (!s->index || !s->ns) {
		free(s->index);
		free(s->ns);
		free(s);
		return -ENOMEM;
	}
	/* Its own stream: the indices do not depend on the round order. */
	s->rng = ctx->seed ^ (UINT64_C(0x7370617273650000) + v->ordinal);
	v->batch = 1;
	v->priv = s;
	return 0;
}

static void sparse_fini(struct pms_variant *v)
{
	struct sparse_state *s = v->priv;

	if (!s)
		return;
	free(s->index);
	free(s->ns);
	free(s);
	v->priv = NULL;
}

static int sparse_pmd_pos(const struct pms_ctx *ctx, uint64_t index)
{
	return (int)(((ctx->addr >> ctx->page_shift) + index) % PMB_PMD_PAGES);
}

static int sparse_sample(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e)
{
	struct sparse_state *s = v->priv;
	unsigned k, nr = ctx->sparse_reads;
	int err;

	for (k = 0; k < nr; k++)
		s->index[k] = pmb_rand_below(&s->rng, ctx->pages);
	for (k = 0; k < nr; k++) {
		uint64_t *dst = ctx->buf + s->index[k];
		off_t off = pms_offset(ctx, s->index[k]);
		uint64_t t0, t1;
		ssize_t r;

		t0 = pmb_now_ns();
		r = pread(ctx->fd, dst, PM_ENTRY_BYTES, off);
		t1 = pmb_now_ns();
		if (r < 0)
			return -errno;
		if (r != PM_ENTRY_BYTES)
			return -EIO;
		s->ns[k] = t1 - t0;
	}
	for (k = 0; k < nr; k++) {
		err = pms_emit_row(e, 1, 1, s->ns[k], sparse_pmd_pos(ctx, s->index[k]));
		if (err)
			return err;
	}
	return 0;
}

static int sparse_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out)
{
	uint64_t i, reads;
	int err;

	for (i = 0; i < ctx->pages; i++) {
		err = pms_read_batched(ctx, out + i, i, 1, 1, &reads);
		if (err)
			return err;
	}
	return 0;
}

const struct pms_method pms_method_sparse = {
	.probe = pms_probe_pread,
	.init = sparse_init,
	.fini = sparse_fini,
	.sample = sparse_sample,
	.collect = sparse_collect,
};
