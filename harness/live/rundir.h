/* SPDX-License-Identifier: GPL-2.0 */
/* The run directory a run writes: never overwritten, self-describing, raw samples first. */
#ifndef PMB_RUNDIR_H
#define PMB_RUNDIR_H

#include <stdio.h>

#include "env.h"
#include "run.h"

struct pmb_rundir {
	char path[512];
	char id[160];
	FILE *cases, *samples;
};

int pmb_rundir_create(struct pmb_rundir *rd, const char *root);
int pmb_meta_write(const struct pmb_rundir *rd, const struct pmb_params *p, const struct pmb_swap *sw,
		   const struct pmb_cgroup_env *cg, int argc, char **argv, const char *status);
int pmb_meta_set_status(const struct pmb_rundir *rd, const char *status);
/* Peak memory and wall time of the run, for meta.json's "resources". */
int pmb_meta_set_resources(const struct pmb_rundir *rd, double wall_s);
/* A JSON object (jansson) merged into meta.json under key; takes the reference. */
int pmb_meta_set(const struct pmb_rundir *rd, const char *key, void *json);
int pmb_case_row(struct pmb_rundir *rd, const struct pmb_case *c, const struct pmb_params *p);
/* One samples.tsv row. */
int pmb_sample_row(struct pmb_rundir *rd, const char *case_id, const char *method, long long batch,
		   long long qd, unsigned series, long long round, int warmup, int discarded,
		   unsigned long long entries, unsigned long long reads, unsigned long long ns, long long pmd_pos);

#endif
