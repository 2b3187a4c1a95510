// SPDX-License-Identifier: GPL-2.0
/*
 * uring:B:QD: one pass over the range with reads of B entries submitted
 * through io_uring, QD of them in flight: submit QD, then reap each
 * completion and submit the next read in its place.  The ring lives from
 * init to fini, outside the timed section.
 */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

struct uring_state {
	struct io_uring ring;
};

/* Entries in read k of a pass with reads of batch entries. */
static uint64_t uring_entries(const struct pms_ctx *ctx, uint64_t batch, uint64_t k)
{
	uint64_t first = k * batch;

	return ctx->pages - first < batch ? ctx->pages - first : batch;
}

static void uring_prep(const struct pms_ctx *ctx, struct io_uring_sqe *sqe,
		       uint64_t *out, uint64_t batch, uint64_t k)
{
	uint64_t first = k * batch;

	io_uring_prep_read(sqe, ctx->fd, out + first,
			   (unsigned)(uring_entries(ctx, batch, k) * PM_ENTRY_BYTES),
			   (uint64_t)pms_offset(ctx, first));
	io_uring_sqe_set_data64(sqe, k);
}

/* Queue reads until QD are in flight or none is left; returns how many queued. */
static unsigned uring_fill(const struct pms_ctx *ctx, struct io_uring *ring, uint64_t *out,
			   uint64_t batch, uint64_t *next, uint64_t total, unsigned room)
{
	unsigned n = 0;
	struct io_uring_sqe *sqe;

	while (n < room && *next < total && (sqe = io_uring_get_sqe(ring))) {
		uring_prep(ctx, sqe, out, batch, (*next)++);
		n++;
	}
	return n;
}

/* Reap one completion; a failed or short read is an error, the first one kept. */
static int uring_reap(const struct pms_ctx *ctx, struct io_uring *ring, uint64_t batch,
		      int *first_err)
{
	struct io_uring_cqe *cqe;
	int err = io_uring_wait_cqe(ring, &cqe);

	if (err)
		return err;
	if (cqe->res < 0 && !*first_err)
		*first_err = cqe->res;
	else if (cqe->res >= 0 && !*first_err &&
		 (uint64_t)cqe->res != uring_entries(ctx, batch, io_uring_cqe_get_data64(cqe)) *
				       PM_ENTRY_BYTES)
		*first_err = -EIO;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/*
 * The pass itself: only ring operations.  After an error no new read is
 * submitted, but those in flight are reaped before returning.
 */
static int uring_pass(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		      uint64_t *entries, uint64_t *reads)
{
	struct uring_state *s = v->priv;
	uint64_t total = (ctx->pages + v->batch - 1) / v->batch, next = 0;
	unsigned inflight = 0, queued;
	int err = 0, ferr = 0;

	while (!err && (inflight || next < total)) {
		queued = ferr ? 0 : uring_fill(ctx, &s->ring, out, v->batch, &next, total,
					       v->qd - inflight);
		if (queued) {
			int r = io_uring_submit(&s->ring);

			/* What the kernel took is in flight, whatever happened to the rest. */
			if (r > 0)
				inflight += (unsigned)r;
			if (r < 0)
				err = r;
			else if ((unsigned)r != queued)
				err = -EIO;
			if (err)
				break;
		}
		if (!inflight)
			break;
		err = uring_reap(ctx, &s->ring, v->batch, &ferr);
		if (!err)
			inflight--;
	}
	/* Never return while the kernel may still write into out. */
	while (inflight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&s->ring, &cqe);

		if (r == -EINTR)
			continue;
		if (r)
			break;	/* the ring itself failed: nothing more will complete */
		io_uring_cqe_seen(&s->ring, cqe);
		inflight--;
	}
	*reads = next;
	*entries = ctx->pages;
	return err ? err : ferr;
}

static int uring_init(struct pms_ctx *ctx, struct pms_variant *v)
{
	struct uring_state *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = io_uring_queue_init(v->qd, &s->ring, 0);
	if (err) {
		free(s);
		return err;
	}
	v->priv = s;
	return 0;
}

static void uring_fini(struct pms_variant *v)
{
	struct uring_state *s = v->priv;

	if (!s)
		return;
	io_uring_queue_exit(&s->ring);
	free(s);
	v->priv = NULL;
}

static const char *uring_probe(struct pms_ctx *ctx)
{
	struct io_uring ring;
	int err = io_uring_queue_init(1, &ring, 0);

	if (!err) {
		io_uring_queue_exit(&ring);
		return pms_probe_pread(ctx);
	}
	switch (err) {
	case -ENOSYS:
		return "no io_uring in this kernel";
	case -EPERM:
		return "io_uring not permitted (kernel.io_uring_disabled or seccomp)";
	case -ENOMEM:
		return "io_uring ring setup: out of memory (RLIMIT_MEMLOCK?)";
	default:
		return "io_uring ring setup failed";
	}
}

const struct pms_method pms_method_uring = {
	.probe = uring_probe,
	.init = uring_init,
	.fini = uring_fini,
	.pass = uring_pass,
};
