/* SPDX-License-Identifier: GPL-2.0 */
/* The run: its parameters, its cases, and the pieces cmd_run/cmd_verify are built from. */
#ifndef PMB_RUN_H
#define PMB_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "env.h"
#include "lib/pagemap.h"

#define PMB_MAX_LIST 32
/* Pages per region at most: one dense pread of them stays below the kernel's 2 GiB cap. */
#define PMB_MAX_PAGES (UINT64_C(1) << 27)
#define PMB_SCHEMA "pagemap-bench/1"

struct pmb_params {
	const char *profile;
	const char *kinds[PMB_MAX_LIST];
	unsigned nkinds;
	const char *swapouts[PMB_MAX_LIST];
	unsigned nswapouts;
	uint64_t sizes[PMB_MAX_LIST];		/* bytes */
	unsigned nsizes;
	double dirty[PMB_MAX_LIST];
	unsigned ndirty;
	double swapped[PMB_MAX_LIST];
	unsigned nswapped;
	const char *methods[PMB_MAX_LIST];	/* dense, sparse, batched */
	unsigned nmethods;
	uint64_t batches[PMB_MAX_LIST];
	unsigned nbatches;
	const char *layout;
	const char *views[PMB_MAX_LIST];	/* self, second-mapper, fork-child */
	unsigned nviews;
	const char *touch;			/* write (default) or read */
	bool sequence;				/* add the sequence cases */
	unsigned swapin_rounds;			/* swap-in timings per case */
	uint64_t seed;
	unsigned rounds, warmup, series, sparse_reads, qd;
	unsigned cpu;
	const char *swap;			/* zram | existing | PATH */
	uint64_t swap_size;
	const char *cgroup;			/* auto | v1 | v2 */
	const char *results;			/* results root */
	bool timing;				/* false for verify */
	bool ktap_stdout;
	bool check_content;
};

/* A live workload: a stopped pmwork child with the region it built. */
struct pmb_workload {
	pid_t pid;
	int to_fd, from_fd;
	FILE *from;
	uint64_t addr, pages;
	long page_size;
	long pageout_missed, pageout_extra, contradictions, thp_pages;
	pid_t view_pid;			/* whose pagemap is read: pid itself, or a view process */
	uint64_t view_addr;
	bool touched_read;		/* pages were read-faulted: no pattern to check */
	char cgroup[512];
};

/* What a case was and what was found. */
struct pmb_case {
	char id[160];
	const char *kind, *swapout;
	const char *view;			/* self second-mapper fork-child */
	const char *touch;			/* write read */
	bool sequence;				/* the fault/pageout/remove sequence, not a state */
	uint64_t pages;
	double dirty, swapped;
	char verdict[16];			/* correct incorrect oom skip error */
	char reason[256];
	uint64_t truth[PMS_NR];
	uint64_t cm[PMS_NR][PMS_NR];		/* [true][reported] */
	uint64_t bad_type, bad_offset, dup, content_ok, content_bad, content_unchecked;
	uint64_t smaps_swap_kb, oracle_swap_kb;
	const char *agree;			/* yes no - */
	char userspace[32];			/* the userspace method against the oracle: yes, no:N, - */
	int start_pmd_pos;			/* the region's first page's index in its 2 MiB block, -1 unknown */
	long thp_pages;				/* pages mapped by PMDs when built (thp-shmem), -1 unknown */
	unsigned series_total, series_discarded;
};

/* The open run directory. */
struct pmb_rundir {
	char path[512];
	char id[160];
	FILE *cases, *samples;
};

extern volatile int pmb_stop_signal;	/* set by SIGINT/SIGTERM */

/* params.c: the options of run and verify; 0, PMB_OPT_HELP, or -EINVAL (printed). */
int pmb_params_parse(int argc, char **argv, struct pmb_params *p, bool verify);

/* proc.c */
int pmb_workload_start(struct pmb_workload *w, const struct pmb_params *p, const struct pmb_case *c,
		       const char *cgroup, char *why, size_t whylen);
int pmb_workload_state(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_NR]);
/* Map every resident page again (no I/O), then report the state as above. */
int pmb_workload_settle(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_NR]);
/*
 * Any state-changing command (FAULT, PAGEOUT, REMOVE, SWAPIN): do it, then
 * report the state as above.  A line the workload sends before its STATE
 * line (SWAPIN's timing) lands in pre (may be NULL).
 */
int pmb_workload_command(struct pmb_workload *w, const char *cmd, uint8_t *vec, uint64_t counts[PMS_NR],
			 char *pre, size_t prelen);
void pmb_workload_stop(struct pmb_workload *w);
int pmb_spawn_capture(char *const argv[], char **out, size_t *outlen, int *status);
const char *pmb_bindir(void);
extern long pmb_reader_maxrss_kb, pmb_workload_maxrss_kb;	/* peak RSS of the children */

/* verify.c */
/* Which slots of each swap device some page already claimed: one bit per slot. */
struct pmb_slotmap {
	uint64_t *bits[PMB_MAX_SWAPS];
	int fd[PMB_MAX_SWAPS];		/* -1 not opened yet, -2 cannot be opened */
	void *page;			/* O_DIRECT-aligned buffer for one slot */
};
int pmb_slotmap_init(struct pmb_slotmap *m, const struct pmb_swap *sw, long psz);
void pmb_slotmap_free(struct pmb_slotmap *m);
/*
 * Judge n entries of pages first..first+n-1 against truth[0..n-1], adding to
 * c's confusion matrix and swap-slot checks (type, range, duplicates, content).
 */
void pmb_judge_entries(struct pmb_case *c, struct pmb_slotmap *m, struct pmb_swap *sw,
		       const uint8_t *truth, const uint64_t *pm, uint64_t n, uint64_t first,
		       uint64_t seed, long psz, bool content);
int pmb_judge(struct pmb_case *c, const struct pmb_workload *w, const uint8_t *truth,
	      struct pmb_swap *sw, uint64_t seed, bool check_content);
int pmb_smaps_swap_kb(pid_t pid, uint64_t addr, uint64_t *kb);
void pmb_ktap_case(FILE *f, unsigned n, const struct pmb_case *c);

/* results.c */
int pmb_rundir_create(struct pmb_rundir *rd, const char *root);
int pmb_meta_write(const struct pmb_rundir *rd, const struct pmb_params *p, const struct pmb_swap *sw,
		   const struct pmb_cgroup_env *cg, int argc, char **argv, const char *status);
int pmb_meta_set_status(const struct pmb_rundir *rd, const char *status);
/* Peak memory and wall time of the run, for meta.json's "resources". */
int pmb_meta_set_resources(const struct pmb_rundir *rd, double wall_s);
void pmb_case_row(struct pmb_rundir *rd, const struct pmb_case *c, const struct pmb_params *p);
int pmb_summarize_run(struct pmb_rundir *rd, const struct pmb_case *cases, unsigned ncases,
		      FILE *human);

#endif
