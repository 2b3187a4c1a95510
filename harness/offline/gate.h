/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmbench gate: a comparison judged by a policy, with three performance
 * outcomes (pass, regression, inconclusive), an exit code for CI and the CI
 * outputs (harness/sinks/).  docs/gate.md describes the rules.
 */
#ifndef PMB_GATE_H
#define PMB_GATE_H

#include "compare.h"
#include "policy.h"
#include "harness/sinks/sink.h"

#define PMB_GATE_MAX_METHODS	32

/* The A/A noise of one method, pooled over its series (--noise-floor). */
struct pmb_noise {
	char method[64];
	double sigma;		/* robust spread of ln(ratio) over the A/A series */
	size_t n;		/* series it was pooled from */
};

struct pmb_gate_row {
	enum pmb_status st;
	double limit;		/* the policy's limit: the largest CAND/BASE ratio allowed */
	double lo, hi;		/* the interval judged: the CI, widened by the pooled noise */
	double noise_pct;	/* that widening, 95%, in %; NAN without a noise floor */
	const struct pmb_rule *rule;
	char msg[640];
};

struct pmb_gate_corr {
	enum pmb_status st;
	unsigned flags;
	const struct pmb_rule *rule;
	char msg[1800];
};

struct pmb_gate {
	struct pmb_cmp c;
	struct pmb_policy pol;
	const char *policy_name, *floor_dir;
	double thr;
	struct pmb_noise noise[PMB_GATE_MAX_METHODS];
	size_t nnoise;
	double noise_all;	/* pooled over every method, for a method with too few series */
	double noise_scale;	/* the A/A pair's spread scaled to this comparison's merged boots */
	bool deterministic;	/* both runs under icount: time is instructions */
	bool busy;		/* a run's host was busy and its clock is wall time */
	char busy_why[400];
	struct pmb_gate_row *rows;	/* parallel to c.rows */
	struct pmb_gate_corr *corr;	/* parallel to c.corr */
	size_t n_st[PMB_NR_STATUS], nc_st[PMB_NR_STATUS];
	/* Cases only CAND has, judged on what needs no BASE (correct, swapped-reported). */
	size_t cand_only, cand_only_fail;
	char cand_only_msg[1024];
	char kernel_msg[600];	/* CAND's kernel logged problems outside every case: incorrect */
	int exit_code;
	char why[640];
	/* reply.txt's header lines */
	char base_desc[1024], cand_desc[1024], timing[160], policy_line[600], reproduce[4096];
};

#endif
