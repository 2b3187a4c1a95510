/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel log, read while cases run: a WARN, BUG, Oops or sanitizer
 * report that a case provoked makes that case incorrect, whatever pagemap
 * said (a patched kernel that warns on every read must not pass).
 */
#ifndef PMB_KMSG_H
#define PMB_KMSG_H

#include <stdbool.h>
#include <stddef.h>

struct pmb_kmsg {
	int fd;			/* /dev/kmsg, -1 when it cannot be read */
	char why[128];		/* why not, for meta.json */
};

/* Open /dev/kmsg at its end: only what the run adds is looked at. */
void pmb_kmsg_open(struct pmb_kmsg *k);
/*
 * The records added since the last call that name a kernel problem
 * (WARNING:, BUG:, Oops, KASAN, UBSAN, general protection, soft lockup, hung
 * task): how many, the lines appended to hits (one per line, cut to len).
 */
unsigned pmb_kmsg_scan(struct pmb_kmsg *k, char *hits, size_t len);
void pmb_kmsg_close(struct pmb_kmsg *k);
/* Whether one log line names a kernel problem (also used on a QEMU console). */
bool pmb_kmsg_is_problem(const char *line);

#endif
