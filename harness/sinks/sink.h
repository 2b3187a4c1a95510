/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CI outputs as a table of sinks.  A verdict (the gate's, or verify's) is
 * first put into one neutral report: suites of items, each with a status,
 * a message and measurements; each sink then writes that report in its own
 * format (JUnit XML, KTAP, KCIDB JSON, LAVA test-case signals, and a reply
 * for the mailing list).  A new CI format is one file defining a struct
 * pmb_sink plus one row in sinks.c.
 *
 * Every string in a report may come from an untrusted run directory: sinks
 * escape and clean what they copy (lib/text.h), so that no input can forge
 * a line, break the XML or make the JSON unwritable.
 */
#ifndef PMB_SINK_H
#define PMB_SINK_H

#include <stddef.h>
#include <stdio.h>

enum pmb_status {
	PMB_ST_PASS,
	PMB_ST_FAIL,
	PMB_ST_SKIP,		/* could not be judged: too few samples, a skipped case */
	PMB_ST_INCONCLUSIVE,	/* judged, but the noise is too large to resolve the limit */
	PMB_NR_STATUS,
};
extern const char *const pmb_status_names[PMB_NR_STATUS];	/* PASS FAIL SKIP INCONCLUSIVE */

/* A number with its unit; unit NULL: none. */
struct pmb_measure {
	double value;
	const char *unit;
};

/* A named value for a sink's free-form fields (KCIDB misc): a number, or str when non-NULL. */
struct pmb_kv {
	const char *key;
	double num;
	const char *str;
};

#define PMB_ITEM_KV	8

struct pmb_item {
	const char *id;		/* the case id: names in every format are made from it */
	const char *suffix;	/* "correctness", "batched.b64.qd1": appended with '.' */
	const char *label;	/* a human name ("case:method:b64:qd1"), for JUnit */
	enum pmb_status st;
	const char *msg;	/* one line */
	const char *diag;	/* more lines ('\n'-separated), or NULL */
	struct pmb_measure m;	/* the measurement of the verdict (pages, ratio) */
	struct pmb_measure child;	/* a measurement without a verdict of its own (ns), unit NULL: none */
	struct pmb_kv kv[PMB_ITEM_KV];
	size_t nkv;
};

struct pmb_suite {
	const char *name;	/* "correctness", "performance" */
	const char *failure;	/* the JUnit failure type: "incorrect", "regression" */
	struct pmb_item *items;
	size_t n;
	size_t count[PMB_NR_STATUS];
};

struct pmb_report {
	const char *title;	/* "pagemap-bench gate" */
	const char *run_id;	/* of the run judged (CAND) */
	const char *krelease, *kversion;
	const char *verdict;	/* the one-line verdict */
	int exit_code;
	struct pmb_suite suite[2];
	size_t nsuites;
	int flat;		/* KTAP: one plan of items, not suites as subtests (verify) */
	/* For reply.txt; NULL: left out. */
	const char *base_desc, *cand_desc;	/* what was compared: kernel, source, series */
	const char *timing, *policy;		/* how time was measured; the policy and limit */
	const char *reproduce;			/* the command that reproduces it */
};

struct pmb_sink {
	const char *name;	/* "junit" */
	const char *file;	/* "junit.xml" */
	int (*write)(FILE *f, const struct pmb_report *r);
};

extern const struct pmb_sink pmb_sink_junit, pmb_sink_ktap, pmb_sink_kcidb, pmb_sink_lava,
	pmb_sink_reply;
/* The table: every CI format a gate writes. */
extern const struct pmb_sink *const pmb_sinks[];
extern const size_t pmb_nr_sinks;

/* Count the statuses of every suite. */
void pmb_report_count(struct pmb_report *r);
/* Write every sink's file into dir (created with O_EXCL, never through a link); 0 or -errno. */
int pmb_sinks_write(const char *dir, const struct pmb_report *r);

/* A name usable in every CI format: [A-Za-z0-9._-], id.suffix. */
void pmb_ci_name(const char *id, const char *suffix, char *buf, size_t len);

/* KTAP, also streamed by verify while cases run: the version line, a flat report's title, the plan; */
void pmb_ktap_begin(FILE *f, const struct pmb_report *r, size_t plan);
/* one test line (and its diagnostics before it). */
void pmb_ktap_item(FILE *f, const char *indent, size_t n, const struct pmb_item *it);

#endif
