/* SPDX-License-Identifier: GPL-2.0 */
/* pmbench gate: a comparison judged by a policy, with CI outputs. */
#ifndef PMB_GATE_H
#define PMB_GATE_H

#include "compare.h"
#include "policy.h"

enum pmb_status { PMB_ST_PASS, PMB_ST_FAIL, PMB_ST_SKIP };

struct pmb_gate_row {
	enum pmb_status st;
	double limit, eff;	/* ratios: the policy's limit, and after the noise floor */
	double floor_pct;	/* NAN: no floor for this series */
	int raised;		/* the floor raised the limit */
	const struct pmb_rule *rule;
	char msg[512];
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
	struct pmb_gate_row *rows;	/* parallel to c.rows */
	struct pmb_gate_corr *corr;	/* parallel to c.corr */
	size_t n_st[3], nc_st[3], nraised;
	/* Cases only CAND has, judged on what needs no BASE (correct, swapped-reported). */
	size_t cand_only, cand_only_fail;
	char cand_only_msg[1024];
	int exit_code;
	char why[512];
};

/* A name usable in every CI format: [A-Za-z0-9._-]. */
void pmb_ci_name(const char *case_id, const char *suffix, char *buf, size_t len);

int pmb_gate_write_junit(const struct pmb_gate *g, const char *dir);
int pmb_gate_write_ktap(const struct pmb_gate *g, const char *dir);
int pmb_gate_write_kcidb(const struct pmb_gate *g, const char *dir);
int pmb_gate_write_lava(const struct pmb_gate *g, const char *dir);

#endif
