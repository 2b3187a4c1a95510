/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the three programs say to each other, defined once:
 * - pmwork -> pmbench, one line each (docs/workloads.md): READY, STATE and
 *   SWAPIN, "VERB key=value key=value ..."; the command words pmbench sends;
 * - pmscan -> pmbench: the samples table (docs/methods.md).
 * A line that does not parse (a token that is no key=value, a value that is
 * no number, a key missing) is an error, -EPROTO, never a zero.  Keys a
 * reader does not know are passed over, so a key can be added later.
 */
#ifndef PMB_WIRE_H
#define PMB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/pagemap.h"
#include "lib/tsv.h"

/* Every protocol line is shorter than this (commands included). */
#define PMB_WIRE_LINE	512

/* READY's keys: X(name, hex) in the order pmwork writes them. */
#define PMB_READY_KEYS(X) \
	X(addr, 1) X(pages, 0) X(page_size, 0) X(none, 0) X(present, 0) X(swapped, 0) \
	X(pageout_missed, 0) X(pageout_extra, 0) X(contradictions, 0) X(pageout_passes, 0) \
	X(view_pid, 0) X(view_addr, 1) X(thp_pages, 0) X(zero_page, 0) X(unmapped, 0)

/* The region as pmwork built it, and the oracle's counts (READY). */
struct pmb_ready {
#define X(name, hex) uint64_t name;
	PMB_READY_KEYS(X)
#undef X
	bool touch_read;	/* touch=read: pages were read-faulted, they hold no pattern */
};

int pmb_wire_ready_format(char *buf, size_t len, const struct pmb_ready *r);
int pmb_wire_ready_parse(const char *line, struct pmb_ready *r);

/*
 * "STATE none=A present=B swapped=C unmapped=D", followed on the wire by one
 * byte per page (enum pm_state, the truth: PMS_UNMAPPED included).
 */
int pmb_wire_state_format(char *buf, size_t len, const uint64_t counts[PMS_TRUTHS]);
int pmb_wire_state_parse(const char *line, uint64_t counts[PMS_TRUTHS]);

/* "SWAPIN pages=N ns=T": N pages faulted back from swap in T ns. */
int pmb_wire_swapin_format(char *buf, size_t len, uint64_t pages, uint64_t ns);
int pmb_wire_swapin_parse(const char *line, uint64_t *pages, uint64_t *ns);

/* The commands pmbench sends (one per line). */
#define PMB_CMD_STATE	"STATE"
#define PMB_CMD_SETTLE	"SETTLE"
#define PMB_CMD_FAULT	"FAULT"
#define PMB_CMD_PAGEOUT	"PAGEOUT"
#define PMB_CMD_REMOVE	"REMOVE"
#define PMB_CMD_SWAPIN	"SWAPIN"
#define PMB_CMD_EXIT	"EXIT"

/* pmscan's samples on stdout. */
enum pmb_scan_col {
	PMB_SCAN_METHOD, PMB_SCAN_BATCH, PMB_SCAN_QD, PMB_SCAN_ROUND, PMB_SCAN_WARMUP,
	PMB_SCAN_ENTRIES, PMB_SCAN_READS, PMB_SCAN_NS, PMB_SCAN_PMD_POS, PMB_SCAN_NCOLS,
};
extern const struct pmb_table pmb_scan_table;

#endif
