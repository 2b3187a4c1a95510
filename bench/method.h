/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scan methods of pmscan: one file per method, each described by one
 * struct pms_method and listed once in methods.c (sorted by name).
 *
 * A method's sample() does its own clock reads (pmb_now_ns()) around nothing
 * but the syscalls, then emits one row per timed unit.  Everything else
 * (buffers, random indices, rings) is prepared in init() or by the caller.
 */
#ifndef PMS_METHOD_H
#define PMS_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/types.h>

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
};

/* What a --method SPEC may carry after the name. */
enum pms_args {
	PMS_ARG_NONE = 0,
	PMS_ARG_BATCH = 1,	/* name:B, B required */
	PMS_ARG_QD = 2,		/* with PMS_ARG_BATCH: name:B[:QD], QD default 8 */
};

/* What --agree may compare a method's entries on. */
enum pms_compare {
	PMS_CMP_RAW = 0,	/* the 64-bit entries, exactly */
	PMS_CMP_CATEGORIES,	/* only present/swapped/file (pms_categories) */
	PMS_CMP_NONE,		/* an oracle: meant to differ from read(); counts only */
};

static inline const char *pms_compare_name(enum pms_compare c)
{
	switch (c) {
	case PMS_CMP_RAW: return "raw";
	case PMS_CMP_CATEGORIES: return "categories";
	default: return "none";
	}
}

/* An entry reduced to what PAGEMAP_SCAN can tell: PM_PRESENT, PM_SWAP, PM_FILE. */
static inline uint64_t pms_categories(uint64_t e)
{
	return (pm_present(e) ? PM_PRESENT : 0) | (pm_swapped(e) ? PM_SWAP : 0) |
	       (pm_file(e) ? PM_FILE : 0);
}

struct pms_method;

/* One --method SPEC: a method with its parameters and private state. */
struct pms_variant {
	const struct pms_method *m;
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
	const char *name;	/* command-line key */
	const char *desc;
	enum pms_args args;
	enum pms_compare compare;	/* what --agree compares; 0 = raw */
	/* NULL when usable on ctx, else why not (static string). */
	const char *(*probe)(struct pms_ctx *ctx);
	/* Optional: set up v->priv and the batch; may fail with -errno. */
	int (*init)(struct pms_ctx *ctx, struct pms_variant *v);
	void (*fini)(struct pms_variant *v);
	/* One timed sample: emits one or more rows. */
	int (*sample)(struct pms_ctx *ctx, struct pms_variant *v, struct pms_emit *e);
	/* All N entries into out[0..N), untimed: for --agree. */
	int (*collect)(struct pms_ctx *ctx, struct pms_variant *v, uint64_t *out);
};

/* The registry (methods.c), sorted by name. */
extern const struct pms_method *const pms_methods[];
extern const size_t pms_nr_methods;
const struct pms_method *pms_method_find(const char *name, size_t len);

/* Parse "name[:B[:QD]]" into v (v->m, v->batch, v->qd, v->spec); -EINVAL with a message. */
int pms_parse_spec(const char *spec, struct pms_variant *v);

/* A one-line usage error (no strerror suffix); evaluates to -EINVAL. */
#define pms_usage(...) (pmb_err(0, __VA_ARGS__), -EINVAL)

int pms_emit_row(struct pms_emit *e, uint64_t entries, uint64_t reads,
		 uint64_t ns, int pmd_pos);

/* Helpers shared by the pread methods. */
const char *pms_probe_pread(struct pms_ctx *ctx);
/* Read count entries from index first into out with preads of batch entries. */
int pms_read_batched(const struct pms_ctx *ctx, uint64_t *out, uint64_t first,
		     uint64_t count, uint64_t batch, uint64_t *reads);
static inline off_t pms_offset(const struct pms_ctx *ctx, uint64_t index)
{
	return (off_t)(((ctx->addr >> ctx->page_shift) + index) * PM_ENTRY_BYTES);
}

extern const struct pms_method pms_method_batched;
extern const struct pms_method pms_method_dense;
extern const struct pms_method pms_method_scan_ioctl;
extern const struct pms_method pms_method_sparse;
extern const struct pms_method pms_method_uring;
extern const struct pms_method pms_method_userspace;

#endif
