// SPDX-License-Identifier: GPL-2.0
/* The scan-method registry and what the pread methods share. */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PMB_METHOD(id, ...) extern const struct pms_method pms_method_##id;
#include "catalog/catalog.def"

/* One entry per catalog row: adding a method file and its row is all it takes. */
const struct pms_method *const pms_methods[PMB_NR_METHODS] = {
#define PMB_METHOD(id, ...) [PMB_METHOD_##id] = &pms_method_##id,
#include "catalog/catalog.def"
};

const struct pms_method *pms_method_of(const struct pmb_method_info *info)
{
	return pms_methods[info - pmb_methods];
}

/* The optional ":QD" after the batch; the default when absent. */
static int parse_qd(const char *spec, const char *colon, struct pms_variant *v)
{
	uint64_t qd = PMS_QD_DEFAULT;

	if (colon && pmb_parse_u64(colon + 1, 1, PMS_QD_MAX, &qd))
		return pms_usage("--method %s: queue depth must be an integer in 1..%u",
			       spec, PMS_QD_MAX);
	v->qd = (unsigned)qd;
	return 0;
}

int pms_parse_spec(const char *spec, struct pms_variant *v)
{
	const char *colon = strchr(spec, ':'), *colon2 = NULL;
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	char num[24];
	uint64_t b;

	memset(v, 0, sizeof(*v));
	v->qd = 1;
	v->info = pmb_method_findn(spec, len);
	v->m = v->info ? pms_method_of(v->info) : NULL;
	if (!v->m)
		return pms_usage("--method %s: unknown method (see --list)", spec);
	if (!(v->info->args & PMB_ARG_BATCH)) {
		if (colon)
			return pms_usage("--method %s: %s takes no parameter",
				       spec, v->info->name);
		snprintf(v->spec, sizeof(v->spec), "%s", v->info->name);
		return 0;
	}
	if (!colon)
		return pms_usage("--method %s: needs a batch, %s:B%s", spec, v->info->name,
			       v->info->args & PMB_ARG_QD ? "[:QD]" : "");
	if (v->info->args & PMB_ARG_QD)
		colon2 = strchr(colon + 1, ':');
	len = colon2 ? (size_t)(colon2 - colon - 1) : strlen(colon + 1);
	if (len < sizeof(num)) {
		memcpy(num, colon + 1, len);
		num[len] = 0;
	}
	if (len >= sizeof(num) || pmb_parse_u64(num, 1, PMS_BATCH_MAX, &b))
		return pms_usage("--method %s: batch must be an integer in 1..%u",
			       spec, PMS_BATCH_MAX);
	v->batch = b;
	if (!(v->info->args & PMB_ARG_QD)) {
		snprintf(v->spec, sizeof(v->spec), "%s:%llu", v->info->name,
			 (unsigned long long)b);
		return 0;
	}
	if (parse_qd(spec, colon2, v))
		return -EINVAL;
	snprintf(v->spec, sizeof(v->spec), "%s:%llu:%u", v->info->name,
		 (unsigned long long)b, v->qd);
	return 0;
}

int pms_emit_row(struct pms_emit *e, uint64_t entries, uint64_t reads,
		 uint64_t ns, int pmd_pos)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 256;
		struct pms_row *r = realloc(e->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		e->rows = r;
		e->cap = cap;
	}
	e->rows[e->n++] = (struct pms_row){
		.variant = e->variant, .round = e->round, .warmup = e->warmup,
		.pmd_pos = pmd_pos, .entries = entries, .reads = reads, .ns = ns,
	};
	return 0;
}

/* pread of pagemap exists since 2.6.25; this catches a kernel without it. */
const char *pms_probe_pread(struct pms_ctx *ctx)
{
	uint64_t e;
	ssize_t r = pread(ctx->fd, &e, sizeof(e), pms_offset(ctx, 0));

	if (r == (ssize_t)sizeof(e))
		return NULL;
	return r < 0 ? "pread of pagemap failed" : "pread of pagemap returned a short read";
}

int pms_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out)
{
	uint64_t entries = ctx->pages, reads = 0;

	if (v->m->collect)
		return v->m->collect(ctx, v, out);
	return v->m->pass(ctx, v, out, &entries, &reads);
}

/*
 * The loop the dense and batched methods time: only preads and a length
 * check.  One pread per batch; a short or failed read is an error.
 */
int pms_read_batched(const struct pms_ctx *ctx, uint64_t *out, uint64_t first,
		     uint64_t count, uint64_t batch, uint64_t *reads)
{
	uint64_t i, n = 0;

	for (i = 0; i < count; i += batch) {
		size_t len = (size_t)(count - i < batch ? count - i : batch) * PM_ENTRY_BYTES;
		ssize_t r = pread(ctx->fd, out + i, len, pms_offset(ctx, first + i));

		n++;
		if (r < 0)
			return -errno;
		if ((size_t)r != len)
			return -EIO;
	}
	*reads = n;
	return 0;
}

int pms_pass_batched(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		     uint64_t *entries, uint64_t *reads)
{
	*entries = ctx->pages;
	return pms_read_batched(ctx, out, 0, ctx->pages, v->batch, reads);
}

/*
 * The one timed hook: the clock is read right around the method's pass and
 * around nothing else.  A method that times single reads (sparse) samples
 * itself.  With --extra-pct the pass also reads the first extra_pct% of its
 * range again, inside the clock reads, while *entries stays the range: a
 * known amount of real extra work per entry, to show that the statistics
 * see it (docs/statistics.md).  *reads counts every read.
 */
int pms_time_pass(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *ns, uint64_t *entries,
		  uint64_t *reads)
{
	uint64_t t0, t1;
	int err;

	*entries = ctx->pages;
	*reads = 0;
	t0 = pmb_now_ns();
	err = v->m->pass(ctx, v, ctx->buf, entries, reads);
	if (!err && ctx->extra_pct) {
		uint64_t full = ctx->pages, e2 = 0, r2 = 0;

		ctx->pages = full * ctx->extra_pct / 100 ? full * ctx->extra_pct / 100 : 1;
		err = v->m->pass(ctx, v, ctx->buf, &e2, &r2);
		ctx->pages = full;
		*reads += r2;
	}
	t1 = pmb_now_ns();
	*ns = t1 - t0;
	return err;
}
