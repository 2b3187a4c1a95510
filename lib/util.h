/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by every binary.  Library code returns -errno; only main() exits. */
#ifndef PMB_UTIL_H
#define PMB_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Exit codes: stable, documented in README.md. */
enum pmb_exit {
	PMB_EXIT_PASS = 0,
	PMB_EXIT_REGRESSION = 1,	/* candidate slower beyond the threshold */
	PMB_EXIT_INCORRECT = 2,		/* the kernel reported a page wrongly */
	PMB_EXIT_ERROR = 3,		/* the harness itself failed */
	PMB_EXIT_INCONCLUSIVE = 4,	/* the noise is too large to resolve a limit */
	PMB_EXIT_USAGE = 64,		/* bad arguments or input files */
	PMB_EXIT_SKIP = 77,		/* this environment cannot run it */
};

extern const char *pmb_prog;

/* Print "prog: fmt" (plus ": strerror(-err)" when err < 0) to stderr; return err. */
int pmb_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same line without strerror (the message says it all); returns err. */
int pmb_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pmb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Verbose diagnostics, enabled by pmb_verbose. */
extern int pmb_verbose;
void pmb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "prog: <tag><message>[: strerror(-err)]<tail>" on stderr: what the helpers above print. */
void pmb_vmsg(const char *tag, int err, const char *tail, const char *fmt, va_list ap);

/* "4G", "64M", "4096", "16k" (binary units); 0 on success, -EINVAL otherwise. */
int pmb_parse_size(const char *s, uint64_t *out);
/* "50%", "50", "12.5%" -> 0..100; -EINVAL outside. */
int pmb_parse_pct(const char *s, double *out);
/* A whole TSV/JSON field: a signed integer, or a finite double; -EINVAL otherwise. */
int pmb_parse_ll(const char *s, long long *out);
int pmb_parse_double(const char *s, double *out);
/* Unsigned integer within [min, max]. */
int pmb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

static inline uint64_t pmb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A progress line on stderr with an estimate of the time left: rewritten in
 * place on a terminal, one plain line per call when stderr is not one or CI
 * is set.  done of total since start_ns (pmb_now_ns()).
 */
void pmb_progress(unsigned done, unsigned total, uint64_t start_ns, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The progress line of a run that a signal stopped after done of total. */
void pmb_progress_stopped(unsigned done, unsigned total, int sig);

/* FNV-1a 64 of n bytes, continuing from h (PMB_FNV1A_INIT to start). */
#define PMB_FNV1A_INIT UINT64_C(0xcbf29ce484222325)
uint64_t pmb_fnv1a(uint64_t h, const void *p, size_t n);

/* Full-length I/O: return bytes done or -errno; short only at EOF. */
ssize_t pmb_read_full(int fd, void *buf, size_t len);
ssize_t pmb_pread_full(int fd, void *buf, size_t len, off_t off);
int pmb_write_full(int fd, const void *buf, size_t len);

/*
 * Read an untrusted input file whole: a regular file only (a FIFO, device or
 * directory is refused without blocking), at most max bytes; *buf is
 * NUL-terminated and malloc'd.  Prints one line naming the file and returns
 * -errno: -EINVAL not a regular file, -EFBIG too large, -EISDIR, -ENOENT,
 * -ELOOP, -ENAMETOOLONG... as open(2) says, -ENOMEM.
 */
int pmb_read_file(const char *path, size_t max, char **buf, size_t *len);
/* The same, its message starting with `what` (e.g. "--noise-floor "): what named the file. */
int pmb_read_file_as(const char *what, const char *path, size_t max, char **buf, size_t *len);
/* Bad input (exit 64) rather than a harness failure (exit 3), for an error of the readers. */
bool pmb_bad_input(int err);

/* Read a small file (sysfs, procfs) into buf, NUL-terminated, trailing newline cut. */
int pmb_read_str(const char *path, char *buf, size_t len);
/* Write a string to a sysfs/cgroup file. */
int pmb_write_str(const char *path, const char *s);

/* A /proc/meminfo field in kB ("MemTotal", "MemAvailable"), or -1. */
long pmb_meminfo_kb(const char *key);

/* splitmix64: the project's one PRNG, seeded explicitly everywhere. */
static inline uint64_t pmb_rand64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint64_t pmb_rand_below(uint64_t *state, uint64_t n)
{
	return n ? pmb_rand64(state) % n : 0;
}

#endif
