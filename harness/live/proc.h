/* SPDX-License-Identifier: GPL-2.0 */
/* Child processes: the workload (pmwork), spoken to by wire/wire.h, and the reader (pmscan). */
#ifndef PMB_PROC_H
#define PMB_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "run.h"
#include "wire/wire.h"

/* A live workload: a stopped pmwork child with the region it built. */
struct pmb_workload {
	pid_t pid;
	int to_fd, from_fd;
	FILE *from;
	struct pmb_ready r;		/* its READY line */
	uint64_t addr, pages;
	long page_size;
	pid_t view_pid;			/* whose pagemap is read: pid itself, or a view process */
	uint64_t view_addr;
	bool touched_read;		/* pages were read-faulted: no pattern to check */
	char cgroup[512];
};

int pmb_workload_start(struct pmb_workload *w, const struct pmb_params *p, const struct pmb_case *c,
		       const char *cgroup, char *why, size_t whylen);
/* STATE: the oracle's counts and one byte per page. */
int pmb_workload_state(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_TRUTHS]);
/* Map every resident page again (no I/O), then report the state as above. */
int pmb_workload_settle(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_TRUTHS]);
/*
 * Any state-changing command (PMB_CMD_FAULT, _PAGEOUT, _REMOVE, _SWAPIN): do
 * it, then report the state as above.  A line the workload sends before its
 * STATE line (SWAPIN's timing) lands in pre (may be NULL).
 */
int pmb_workload_command(struct pmb_workload *w, const char *cmd, uint8_t *vec, uint64_t counts[PMS_TRUTHS],
			 char *pre, size_t prelen);
void pmb_workload_stop(struct pmb_workload *w);
/*
 * Run argv[0] (a path) and hand its stdout to sink as it comes, in chunks of
 * any size; a sink's error (-errno) stops the child.  *status as waitpid
 * gives it.
 */
typedef int (*pmb_spawn_sink)(void *arg, const char *chunk, size_t n);
int pmb_spawn_read(char *const argv[], pmb_spawn_sink sink, void *arg, int *status);
/* The same, its stdout captured whole and NUL-terminated in *out (malloc'd). */
int pmb_spawn_capture(char *const argv[], char **out, size_t *outlen, int *status);
/* The directory of this binary, where pmwork and pmscan are. */
const char *pmb_bindir(void);
extern long pmb_reader_maxrss_kb, pmb_workload_maxrss_kb;	/* peak RSS of the children */

#endif
