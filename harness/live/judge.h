/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The judge of a case: what pagemap reports against what the oracle says,
 * and whether every reported swap slot really holds its page.
 */
#ifndef PMB_JUDGE_H
#define PMB_JUDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "env.h"
#include "proc.h"
#include "run.h"
#include "harness/sinks/sink.h"

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
/* The whole case: its confusion matrix, slot checks and verdict. */
int pmb_judge(struct pmb_case *c, const struct pmb_workload *w, const uint8_t *truth,
	      struct pmb_swap *sw, uint64_t seed, bool check_content);
int pmb_smaps_swap_kb(pid_t pid, uint64_t addr, uint64_t *kb);
/* A field ("Rss:", "Swap:") of the VMA at addr in /proc/pid/smaps, in kB; 0 or -errno. */
int pmb_smaps_kb(pid_t pid, uint64_t addr, const char *field, uint64_t *kb);
/* A case as a KTAP item (verify's output); diag is filled and pointed to. */
void pmb_case_item(const struct pmb_case *c, struct pmb_item *it, char *diag, size_t len);

#endif
