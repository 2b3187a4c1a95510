/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libFuzzer targets share (tests/fuzz/README.md).
 *
 * Framing.  An input is a list of parts separated by lines that are exactly
 * "%%": the bytes up to the line "%%" (the newline before it included) are
 * one part, the bytes after it the next.  Each target gives its parts names
 * (a file of a run directory, an option line); a part that is missing or
 * empty is a file that does not exist.  Mutations move bytes between files
 * by moving a separator.  A part whose whole text is one of these makes
 * something other than a regular file, for the readers' checks:
 *	"@dir"		a directory
 *	"@fifo"		a FIFO (a reader that blocks on it is a hang)
 *	"@big"		a sparse regular file one byte over the reader's size cap
 *	"@link:T"	a symbolic link to T (relative: [A-Za-z0-9._/-], at most
 *			one leading "../", no other "..")
 *
 * Every input runs in a work directory of its own, inside a directory made
 * once per process under $TMPDIR (default /tmp): the target chdirs into it
 * around the code under test and removes it afterwards; a work directory
 * that cannot be removed whole is a failure (__builtin_trap), so nothing
 * accumulates during a campaign.  The process's directory goes at exit.
 *
 * The project's stdout and stderr (its FILE streams) go to /dev/null;
 * libFuzzer and the sanitizers keep the real ones.  PMB_FUZZ_VERBOSE=1 keeps
 * the project's output, to read what a reproducer does.
 */
#ifndef PMB_FUZZ_H
#define PMB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMF_MAX_PARTS	16
#define PMF_SEP		"%%"

/* The files of a run directory a part may become, in framing order. */
#define PMF_RUN_FILES	5
extern const char *const pmf_run_files[PMF_RUN_FILES];

struct pmf_part {
	const char *p;
	size_t len;
};

/* A failed property of the code under test: report it as a crash. */
#define PMF_CHECK(cond) do { if (!(cond)) pmf_fail(#cond, __FILE__, __LINE__); } while (0)
__attribute__((noreturn)) void pmf_fail(const char *what, const char *file, int line);

/* Split data into parts[0..max) (the rest empty); the number of parts the input has. */
size_t pmf_split(const uint8_t *data, size_t size, struct pmf_part *parts, size_t max);
/* True when every part in [from, from + n) is empty. */
bool pmf_parts_empty(const struct pmf_part *parts, size_t from, size_t n);

/* Once per process (from LLVMFuzzerInitialize). */
void pmf_init(void);
/* A fresh, empty work directory for one input; its absolute path.  The cwd is it until pmf_end. */
const char *pmf_begin(void);
/* Remove the work directory (a failure when that leaves anything) and restore the cwd. */
void pmf_end(void);
/* path of name inside the work directory, in a buffer of the caller's. */
const char *pmf_path(char *buf, size_t len, const char *name);
/* path of name inside the process's directory (outside any work directory): a cheap scratch file. */
const char *pmf_scratch(char *buf, size_t len, const char *name);

/*
 * The run directory name (made inside the work directory), its files from
 * parts[0..PMF_RUN_FILES); the directory's absolute path in buf.
 */
const char *pmf_rundir(char *buf, size_t len, const char *name, const struct pmf_part *parts);
/* One file (path absolute or in the work directory) from a part; no file for an empty part. */
void pmf_put(const char *path, const struct pmf_part *part, size_t cap);

/* Run a subcommand: argv[0..argc) copied, so that it may keep or change them. */
int pmf_cmd(int (*fn)(int, char **), int argc, const char *const *argv);
/* A documented exit code (README.md); with PMB_FUZZ_STRICT=1, 3 (harness error) fails too. */
void pmf_check_exit(int code);

/* Whether a path exists (lstat). */
bool pmf_exists(const char *path);
/* A JSON file that must parse (jansson, duplicates rejected). */
void pmf_check_json(const char *path);

/*
 * A value "key=VALUE" among the whitespace-separated words of an option
 * part, copied into buf (at most len - 1 bytes); NULL when absent.  A word
 * without '=' is a flag: pmf_opt_flag.
 */
const char *pmf_opt(const struct pmf_part *opts, const char *key, char *buf, size_t len);
bool pmf_opt_flag(const struct pmf_part *opts, const char *word);

#endif
