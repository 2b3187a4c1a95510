/* SPDX-License-Identifier: GPL-2.0 */
/* The summary of a run directory: summary.tsv, summary.txt and the table printed at the end of a run. */
#ifndef PMB_SUMMARY_H
#define PMB_SUMMARY_H

#include <stdio.h>

/* Read dir's tables (whatever its status) and write its summary; human gets the table too (may be NULL). */
int pmb_summary_write(const char *dir, FILE *human);

#endif
