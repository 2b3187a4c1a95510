/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The catalog of names (catalog.def): scan methods, co-metrics and memory
 * kinds with their traits, and the small fixed vocabularies (swap-out modes,
 * views, touch modes) that several programs parse.  Nothing else in the tree
 * lists them.
 */
#ifndef PMB_CATALOG_H
#define PMB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

/* What a --method SPEC may carry after the name. */
enum pmb_args {
	PMB_ARG_NONE = 0,
	PMB_ARG_BATCH = 1,	/* name:B, B required */
	PMB_ARG_QD = 2,		/* with PMB_ARG_BATCH: name:B[:QD], QD default 8 */
};

/* What pmscan --agree may compare a method's entries on. */
enum pmb_compare {
	PMB_CMP_RAW = 0,	/* the 64-bit entries, exactly */
	PMB_CMP_CATEGORIES,	/* only present/swapped/file */
	PMB_CMP_NONE,		/* an oracle: meant to differ from read(); judged page by page */
};

/* Method traits. */
enum {
	PMB_M_READ = 1 << 0,	/* read() of pagemap: walks page tables per read (the model fits it) */
	PMB_M_SINGLE = 1 << 1,	/* times every single read itself: one row per read */
	PMB_M_SWEEP = 1 << 2,	/* drawn by the batch-sweep plot */
	PMB_M_METRIC = 1 << 3,	/* a co-metric timed by the workload, not a pmscan method */
};

/* Where a page's data goes when it leaves memory: decides the oracle's rule. */
enum pmb_backing {
	PMB_BACKING_ANON,	/* swap PTE (private anonymous) */
	PMB_BACKING_SHMEM,	/* swap entry in the shmem file's page cache */
	PMB_BACKING_FILE,	/* written back to a disk file, never swapped */
};

/* Kind traits. */
enum {
	PMB_K_THP = 1 << 0,	/* may be PMD-mapped: READY reports thp_pages */
	PMB_K_MTHP = 1 << 1,	/* 64 KiB shmem folios (mTHP), swapped out whole: READY's thp_pages counts pages in large folios */
};

/* Pages of one 64 KiB folio with 4 KiB pages. */
#define PMB_MTHP_PAGES	16

struct pmb_method_info {
	const char *name, *desc;
	unsigned args;		/* enum pmb_args */
	enum pmb_compare compare;
	unsigned traits;	/* PMB_M_* */
	int order;		/* place in summaries and plots */
};

struct pmb_kind_info {
	const char *name, *desc;
	enum pmb_backing backing;
	unsigned traits;	/* PMB_K_* */
};

#define PMB_METHOD(id, name, args, compare, traits, order, desc) PMB_METHOD_##id,
#define PMB_METRIC(id, name, order, desc) PMB_METHOD_##id,
enum pmb_method_id {
#include "catalog/catalog.def"
	PMB_NR_METHODS
};
#define PMB_KIND(id, name, backing, traits, desc) PMB_KIND_##id,
enum pmb_kind_id {
#include "catalog/catalog.def"
	PMB_NR_KINDS
};

/* Indexed by enum pmb_method_id / pmb_kind_id, in catalog order (sorted by name). */
extern const struct pmb_method_info pmb_methods[PMB_NR_METHODS];
extern const struct pmb_kind_info pmb_kinds[PMB_NR_KINDS];

/* NULL when the name is not in the catalog. */
const struct pmb_method_info *pmb_method_find(const char *name);
const struct pmb_kind_info *pmb_kind_find(const char *name);
/* By a name's first len characters (method specs carry ":B"). */
const struct pmb_method_info *pmb_method_findn(const char *name, size_t len);

/* A kind whose pages live in a shmem file (the policy's group=shmem). */
bool pmb_kind_is_shmem(const char *kind);
/* A method's place in summaries and plots; unknown names sort last. */
int pmb_method_order(const char *method);
/* Every method row (co-metrics included) in that order, into out[PMB_NR_METHODS]. */
void pmb_methods_in_order(const struct pmb_method_info **out);

/* The fixed vocabularies, each a NULL-terminated list in the order help texts give them. */
extern const char *const pmb_swapouts[];	/* pageout cgroup none */
extern const char *const pmb_views[];		/* self second-mapper fork-child */
extern const char *const pmb_touches[];		/* write read */
extern const char *const pmb_layouts[];		/* contiguous strided random */
/* Index of s in a NULL-terminated list, or -1. */
int pmb_word_index(const char *const *list, const char *s);

#endif
