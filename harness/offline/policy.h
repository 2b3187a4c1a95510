/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Gate policies (docs/gate.md): which correctness outcome each case group must
 * show on the candidate, and how much slower it may get.  A small, strict,
 * line-based format; the parser never allocates and reports "line N: what".
 */
#ifndef PMB_POLICY_H
#define PMB_POLICY_H

#include <stddef.h>

#define PMB_POLICY_MAX_RULES	64
#define PMB_POLICY_MAX_LINE	512
#define PMB_POLICY_NAME		40
#define PMB_POLICY_MAX_BYTES	(64 * 1024)

/* Correctness requirements: a set of flags; 0 is "any". */
enum {
	PMB_CORR_CORRECT = 1 << 0,		/* candidate verdict is "correct" */
	PMB_CORR_NO_WORSE = 1 << 1,		/* no more misreported pages than the base */
	PMB_CORR_SWAPPED_REPORTED = 1 << 2,	/* every swapped page: swapped, valid, content-checked */
};

enum pmb_sel { PMB_SEL_KIND, PMB_SEL_GROUP, PMB_SEL_STATE, PMB_SEL_METHOD, PMB_SEL_SWAPOUT,
	       PMB_SEL_VIEW, PMB_SEL_NR };

struct pmb_rule {
	unsigned line;
	char sel[PMB_SEL_NR][PMB_POLICY_NAME];	/* "" matches anything */
	int has_slowdown, noise;		/* noise: the threshold (or the floor) */
	double max_ratio;			/* cand/base limit when !noise */
	char slowdown_text[PMB_POLICY_NAME];
	int has_corr;
	unsigned corr;
};

struct pmb_policy {
	int has_threshold;
	double threshold_pct;
	size_t nrules;
	struct pmb_rule rules[PMB_POLICY_MAX_RULES];
};

/* What a rule is matched against. */
struct pmb_target {
	const char *kind, *swapout, *state, *method;	/* method NULL: the case itself */
	int shmem;
	const char *view;				/* NULL: self */
};

/* The built-in policy: byte for byte docs/policy-default.txt. */
extern const char pmb_policy_default_text[];

/* 0, or -EINVAL with "line N: message" in err. */
int pmb_policy_parse(const char *text, size_t len, struct pmb_policy *p, char *err, size_t errlen);
int pmb_policy_load(const char *path, struct pmb_policy *p, char *err, size_t errlen);

/* The rule that sets max_slowdown (or NULL: noise). */
const struct pmb_rule *pmb_policy_slowdown(const struct pmb_policy *p, const struct pmb_target *t);
/* The rule that sets correctness (or NULL: any). */
const struct pmb_rule *pmb_policy_correctness(const struct pmb_policy *p, const struct pmb_target *t);
/* "correct,swapped-reported" / "any". */
void pmb_corr_name(unsigned flags, char *buf, size_t len);

#endif
