/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scan methods of pmscan: one file per method, bench/method_<id>.c, holding
 * the hooks (struct pms_method pms_method_<id>); its name and traits are its
 * row in catalog/catalog.def, and the registry (methods.c) is made from it.
 *
 * pmscan times a method in one place: the clock is read right before and
 * right after pass(), which issues the method's syscalls and nothing that
 * could be done before (buffers, rings, indices are prepared in init()).
 * Only a method that must time single reads (PMB_M_SINGLE: sparse) has a
 * sample() hook with clock reads of its own, around each syscall alone.
 */
#ifndef PMS_METHOD_H
#define PMS_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog/catalog.h"
#include "lib/pagemap.h"

#define PMS_BATCH_MAX	1048576u
#define PMS_QD_MAX	256u
#define PMS_QD_DEFAULT	8u

/* The target: one pagemap file and one range of pages in it. */
struct pms_ctx {
	int fd;			/* /proc/PID/pagemap, read-only */
	pid_t pid;		/* whose pagemap (getpid() for --list) */
	uint64_t addr;		/* first virtual address, page aligned */
	uint64_t pages;		/* N: entries in the range */
	unsigned page_shift;
	unsigned sparse_reads;	/* K: reads per sparse sample */
	uint64_t seed;
	uint64_t *buf;		/* N entries, prefaulted: the timed reads land here */
	unsigned extra_pct;	/* --extra-pct: every timed pass reads this % of its range again */
};

/* An entry reduced to what PAGEMAP_SCAN can tell: PM_PRESENT, PM_SWAP, PM_FILE. */
static inline uint64_t pms_categories(uint64_t e)
{
	return (pm_present(e) ? PM_PRESENT : 0) | (pm_swapped(e) ? PM_SWAP : 0) |
	       (pm_file(e) ? PM_FILE : 0);
}

struct pms_method;

/* One --method SPEC: a method with its parameters and private state. */
struct pms_variant {
	const struct pmb_method_info *info;	/* its catalog row */
	const struct pms_method *m;		/* its hooks */
	char spec[48];		/* as given, normalized: "batched:64" */
	uint64_t batch;		/* entries per read; 0 = method default, set by init */
	unsigned qd;		/* reads in flight; 1 for synchronous methods */
	unsigned ordinal;	/* position on the command line */
	void *priv;		/* owned by the method: init() sets, fini() frees */
};

/* One output row, filled by pms_emit_row(). */
struct pms_row {
	unsigned variant;
	unsigned round;
	bool warmup;
	int pmd_pos;		/* -1 unless the method reads single entries */
	uint64_t entries, reads, ns;
};

/* Where sample() puts its rows; grows outside the timed sections only. */
struct pms_emit {
	struct pms_row *rows;
	size_t n, cap;
	unsigned variant, round;
	bool warmup;
};

struct pms_method {
	/* NULL when usable on ctx, else why not (static string). */
	const char *(*probe)(struct pms_ctx *ctx);
	/* Optional: set up v->priv and the batch; may fail with -errno. */
	int (*init)(struct pms_ctx *ctx, struct pms_variant *v);
	void (*fini)(struct pms_variant *v);
	/*
	 * One pass over the range, the timed unit: entries land in out[0..N)
	 * (or in the method's own state); *entries (preset to N) is how many
	 * pages the pass covered, *reads the syscalls it issued.
	 */
	int (*pass)(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		    uint64_t *entries, uint64_t *reads);
	/* Instead of pass, for PMB_M_SINGLE methods: one sample, timing each read, rows emitted. */
	int (*sample)(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e);
	/* All N entries into out[0..N), untimed (--agree, --classify); NULL: pass() does it. */
	int (*collect)(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out);
};

/* The registry (methods.c), indexed like the catalog; NULL for co-metrics. */
extern const struct pms_method *const pms_methods[PMB_NR_METHODS];
/* The hooks of a catalog row, or NULL when it is not a pmscan method. */
const struct pms_method *pms_method_of(const struct pmb_method_info *info);

/* Parse "name[:B[:QD]]" into v (v->info, v->m, v->batch, v->qd, v->spec); -EINVAL with a message. */
int pms_parse_spec(const char *spec, struct pms_variant *v);
/* All N entries by whichever hook the method has. */
int pms_collect(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out);

/* A one-line usage error (no strerror suffix); evaluates to -EINVAL. */
#define pms_usage(...) (pmb_err(0, __VA_ARGS__), -EINVAL)

int pms_emit_row(struct pms_emit *e, uint64_t entries, uint64_t reads,
		 uint64_t ns, int pmd_pos);

/*
 * The one timed hook (pmscan.c): the clock read right before and right after
 * the method's pass, around nothing else.
 */
int pms_time_pass(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *ns, uint64_t *entries,
		  uint64_t *reads);
/* --selfcheck (selfcheck.c): the timed hook against a bare loop; an exit code. */
int pms_selfcheck(struct pms_ctx *ctx, struct pms_variant *v, unsigned nv, unsigned rounds);
/* pmscan --probe (bench/probe.c): the host's speed, rows of method "probe" on stdout; an exit code. */
int pms_probe(unsigned rounds, unsigned warmup, uint64_t seed);

/* Helpers shared by the pread methods. */
const char *pms_probe_pread(struct pms_ctx *ctx);
/* Read count entries from index first into out with preads of batch entries. */
int pms_read_batched(const struct pms_ctx *ctx, uint64_t *out, uint64_t first,
		     uint64_t count, uint64_t batch, uint64_t *reads);
/* The pass of batched (and of dense, which is batched with B = N). */
int pms_pass_batched(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out,
		     uint64_t *entries, uint64_t *reads);
static inline off_t pms_offset(const struct pms_ctx *ctx, uint64_t index)
{
	return (off_t)(((ctx->addr >> ctx->page_shift) + index) * PM_ENTRY_BYTES);
}

#endif
