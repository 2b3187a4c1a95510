// SPDX-License-Identifier: GPL-2.0
#include "util.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *pmb_prog = "pagemap-bench";
int pmb_verbose;

void pmb_vmsg(const char *tag, int err, const char *tail, const char *fmt, va_list ap)
{
	/*
	 * One line, whatever the message quotes: a value read from an untrusted
	 * file may hold a newline, a terminal escape or invalid UTF-8 (issue 12).
	 */
	char raw[8192], msg[8192];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	pmb_text_clean(raw, msg, sizeof(msg));
	fprintf(stderr, "%s: %s%s", pmb_prog, tag, msg);
	if (err < 0)
		fprintf(stderr, ": %s", strerror(-err));
	fprintf(stderr, "%s\n", tail);
}

int pmb_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmb_vmsg("", err, "", fmt, ap);
	va_end(ap);
	return err;
}

int pmb_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmb_vmsg("", 0, "", fmt, ap);
	va_end(ap);
	return err;
}

void pmb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmb_vmsg("warning: ", 0, "", fmt, ap);
	va_end(ap);
}

void pmb_info(const char *fmt, ...)
{
	va_list ap;

	if (!pmb_verbose)
		return;
	va_start(ap, fmt);
	pmb_vmsg("", 0, "", fmt, ap);
	va_end(ap);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Every number parser starts at a digit: strtoull and strtod would skip
 * leading white space and take a sign, so " -4096" would wrap around.
 */
void pmb_progress(unsigned done, unsigned total, uint64_t start_ns, const char *fmt, ...)
{
	bool tty = isatty(STDERR_FILENO) && !getenv("CI");
	char eta[32] = "";
	va_list ap;

	if (done && done < total) {
		uint64_t left = (pmb_now_ns() - start_ns) / done * (total - done) / 1000000000u;

		snprintf(eta, sizeof(eta), " ETA %um%02us", (unsigned)(left / 60), (unsigned)(left % 60));
	}
	fprintf(stderr, "%s%s: [%u/%u]%s ", tty ? "\r\033[K" : "", pmb_prog, done, total, eta);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!tty || done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

void pmb_progress_stopped(unsigned done, unsigned total, int sig)
{
	bool tty = isatty(STDERR_FILENO) && !getenv("CI");

	fprintf(stderr, "%s%s: [%u/%u] interrupted by signal %d\n", tty ? "\r\033[K" : "", pmb_prog, done, total,
		sig);
	fflush(stderr);
}

int pmb_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !is_digit(*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Plain decimal only ("50", "12.5", "50%"): no sign, exponent, hex or white space. */
int pmb_parse_pct(const char *s, double *out)
{
	const char *p = s;
	size_t digits = 0;
	char *end;
	double v;

	if (!s)
		return -EINVAL;
	for (; is_digit(*p); p++)
		digits++;
	if (*p == '.')
		for (p++; is_digit(*p); p++)
			digits++;
	if (!digits || (*p && strcmp(p, "%")))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end != p || v < 0 || v > 100)
		return -EINVAL;
	*out = v;
	return 0;
}

int pmb_parse_ll(const char *s, long long *out)
{
	char *end;

	if (!s || !(is_digit(*s) || (*s == '-' && is_digit(s[1]))))
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* A finite decimal number as printf's %g writes it: no hex, inf, nan or white space. */
int pmb_parse_double(const char *s, double *out)
{
	const char *d = s && (*s == '-' || *s == '+') ? s + 1 : s;
	char *end;

	if (!d || !(is_digit(*d) || (*d == '.' && is_digit(d[1]))) || strpbrk(s, "xXpP"))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end || !isfinite(*out) ? -EINVAL : 0;
}

int pmb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !is_digit(*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);	/* decimal only: "010" is ten, not eight */
	if (errno || end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* read (off < 0) or pread until len bytes, EOF or an error. */
static ssize_t io_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = off < 0 ? read(fd, (char *)buf + done, len - done) :
				      pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t pmb_read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, len, -1);
}

ssize_t pmb_pread_full(int fd, void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : io_full(fd, buf, len, off);
}

uint64_t pmb_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * UINT64_C(0x100000001b3);
	return h;
}

int pmb_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, (const char *)buf + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)w;
	}
	return 0;
}

int pmb_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return pmb_read_file_as("", path, max, buf, len);
}

int pmb_read_file_as(const char *what, const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;
	char *b;

	if (fd < 0)
		return pmb_err(-errno, "%s%s", what, path);
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return pmb_err(err, "%s%s", what, path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (S_ISDIR(st.st_mode))
			return pmb_fail(-EISDIR, "%s%s: a directory, not a file", what, path);
		return pmb_fail(-EINVAL, "%s%s: not a regular file (%s)", what, path,
				S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device" :
				S_ISBLK(st.st_mode) ? "a block device" : S_ISSOCK(st.st_mode) ? "a socket" :
				"of another type");
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return pmb_fail(-EFBIG, "%s%s: %lld bytes, more than the %zu this file may have", what,
				path, (long long)st.st_size, max);
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return pmb_err(-ENOMEM, "%s%s", what, path);
	}
	/* Read one byte more than fstat said: a file that grew is refused too. */
	n = pmb_read_full(fd, b, (size_t)st.st_size + 1 > max ? max : (size_t)st.st_size + 1);
	close(fd);
	if (n < 0) {
		free(b);
		return pmb_err((int)n, "%s%s", what, path);
	}
	if ((size_t)n > (size_t)st.st_size) {
		free(b);
		return pmb_fail(-EFBIG, "%s%s: grew while it was read", what, path);
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
}

bool pmb_bad_input(int err)
{
	switch (err) {
	case -EINVAL: case -ENOENT: case -ENOTDIR: case -EISDIR: case -EFBIG: case -ELOOP:
	case -ENAMETOOLONG: case -EACCES: case -EPERM: case -EPROTO: case -ERANGE: case -EOVERFLOW:
	case -EILSEQ: case -EEXIST:
		return true;
	default:
		return false;
	}
}

int pmb_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pmb_read_full(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int pmb_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	/* sysfs and cgroupfs take one write; a short write is an error there. */
	w = write(fd, s, len);
	if (w < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

long pmb_meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	size_t klen = strlen(key);
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':' && sscanf(line + klen + 1, "%ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}
