/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What disturbs timing on the host while a run measures: other processes'
 * CPU time, steal time, runnable tasks, load and the CPU frequency.  The
 * run records it per case and for the whole run (meta.json host_noise), says
 * so in its summary when the host was busy, and compare/gate take it into
 * account (docs/gate.md).
 */
#ifndef PMB_NOISE_H
#define PMB_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Other processes may use at most this share of the CPU time before a run is "busy". */
#define PMB_BUSY_OTHER_PCT	10.0
#define PMB_BUSY_STEAL_PCT	5.0

struct pmb_noise_snap {
	uint64_t busy_ticks, all_ticks, steal_ticks;	/* /proc/stat, every CPU */
	uint64_t own_ns;				/* this process and its reaped children */
	uint64_t when_ns;
	double load1;
	unsigned running;				/* procs_running, ourselves included */
	double mhz;					/* the reader CPU's, 0 when not readable */
};

struct pmb_noise {
	uint64_t other_ticks, all_ticks, steal_ticks;
	double load1_max, mhz_min, mhz_max;
	unsigned running_max;
	bool any;
};

/* Snapshot now; cpu is the reader's CPU (for its frequency). */
void pmb_noise_snap(struct pmb_noise_snap *s, unsigned cpu);
/* Add the interval a..b. */
void pmb_noise_add(struct pmb_noise *n, const struct pmb_noise_snap *a, const struct pmb_noise_snap *b);
/* Other processes' share of the CPU time, and steal's, in %. */
double pmb_noise_other_pct(const struct pmb_noise *n);
double pmb_noise_steal_pct(const struct pmb_noise *n);
/* Busy, and why in words (why may be NULL). */
bool pmb_noise_busy(const struct pmb_noise *n, char *why, size_t len);
/* The record for meta.json's "host_noise" (a jansson object). */
void *pmb_noise_json(const struct pmb_noise *n);

#endif
