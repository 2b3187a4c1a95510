/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one option parser: every program describes its options as a table of
 * rows with a type and a range, and this file parses, validates, and prints
 * --help (and the man page) from the same rows.  Options may come anywhere
 * among the positional arguments; "--name=value" and "--name value" both
 * work; "--" ends the options.  Errors are one line on stderr.
 */
#ifndef PMB_OPT_H
#define PMB_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pmb_opt_type {
	PMB_OPT_FLAG,		/* no value: stores .set into a bool */
	PMB_OPT_UINT,		/* a decimal integer in [min, max] into a uint64_t */
	PMB_OPT_UINT32,		/* the same into an unsigned */
	PMB_OPT_SIZE,		/* "64M", "4G" (binary units) in [min, max] into a uint64_t */
	PMB_OPT_PCT,		/* "50", "12.5%" (0..100) into a double */
	PMB_OPT_STR,		/* any non-empty string into a const char * */
	PMB_OPT_WORD,		/* one of .words into a const char * */
	PMB_OPT_INDEX,		/* one of .words: its index into an int (an enum in the same order) */
	PMB_OPT_FN,		/* .fn(obj, value, name) decides; 0 or -EINVAL (it prints) */
};

struct pmb_opt {
	const char *name;	/* long name, without "--" */
	char short_name;	/* or 0 */
	enum pmb_opt_type type;
	size_t off;		/* where the value goes: offsetof(struct of the caller, field) */
	const char *metavar;	/* "N", "LIST", "DIR"; NULL for flags */
	const char *help;	/* may hold '\n' for further lines */
	uint64_t min, max;	/* UINT, UINT32, SIZE */
	const char *const *words;	/* WORD: NULL-terminated */
	int (*fn)(void *obj, const char *value, const char *name);	/* FN; value NULL for a flag */
	int set;		/* FLAG: the value stored (1, or 0 for a --no-... row) */
	int no_value;		/* FN: the option takes no value */
};

struct pmb_opt_spec {
	const char *prog;	/* "pmbench compare" */
	const char *args;	/* "BASE CAND [options]" */
	const char *about;	/* what it does, one paragraph (lines end in '\n') */
	const struct pmb_opt *opts;
	size_t nopts;
	unsigned min_pos, max_pos;	/* positional arguments allowed */
	const char *more;	/* printed after the options: exit codes and the like */
};

#define PMB_OPT_HELP	1	/* pmb_opt_parse printed --help: exit 0 */

/*
 * Parse argv[1..argc): options into obj, positional arguments into pos
 * (room for spec->max_pos), their count into *npos.  seen (may be NULL) gets
 * bit i for every row i given (rows beyond 64 are not tracked).
 * Returns 0, PMB_OPT_HELP after printing the help to stdout, or -EINVAL after
 * printing one line to stderr.
 */
int pmb_opt_parse(const struct pmb_opt_spec *spec, int argc, char **argv, void *obj,
		  const char **pos, unsigned *npos, uint64_t *seen);

/* The help text: "usage: PROG ARGS", ABOUT, one block per option, MORE. */
void pmb_opt_help(const struct pmb_opt_spec *spec, FILE *f);
/* The same text as a man page section (roff), for pmbench(1). */
void pmb_opt_man(const struct pmb_opt_spec *spec, FILE *f);

/* Index of the row called name, or -1. */
int pmb_opt_index(const struct pmb_opt_spec *spec, const char *name);

#endif
