// SPDX-License-Identifier: GPL-2.0
/* What the libFuzzer targets share: framing, work directories, quiet output (fuzz.h). */
#include "fuzz.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const pmf_run_files[PMF_RUN_FILES] = {
	"meta.json", "cases.tsv", "samples.tsv", "host-noise.json", "kernel-console.txt",
};

static char base_dir[4096], work_dir[4200];
static int home_fd = -1;
static bool strict;

void pmf_fail(const char *what, const char *file, int line)
{
	/* fd 2 is libFuzzer's; only the project's FILE streams were redirected. */
	dprintf(2, "pmb-fuzz: property failed at %s:%d: %s\n", file, line, what);
	__builtin_trap();
}

/* ---- framing ---- */

size_t pmf_split(const uint8_t *data, size_t size, struct pmf_part *parts, size_t max)
{
	const char *s = (const char *)data, *end = s + size, *start = s;
	size_t n = 0, sl = strlen(PMF_SEP);

	memset(parts, 0, max * sizeof(*parts));
	for (const char *p = s; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) == sl && !memcmp(p, PMF_SEP, sl)) {
			if (n < max)
				parts[n] = (struct pmf_part){ start, (size_t)(p - start) };
			n++;
			start = nl ? nl + 1 : end;
		}
		p = nl ? nl + 1 : end;
	}
	if (n < max)
		parts[n] = (struct pmf_part){ start, (size_t)(end - start) };
	return n + 1;
}

bool pmf_parts_empty(const struct pmf_part *parts, size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		if (parts[i].len)
			return false;
	return true;
}

/* ---- the process's directory and the input's work directory ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static void at_exit(void)
{
	if (base_dir[0])
		rm_tree(base_dir);
}

void pmf_init(void)
{
	const char *tmp = getenv("TMPDIR");
	FILE *null;

	if (base_dir[0])
		return;
	snprintf(base_dir, sizeof(base_dir), "%s/pmb-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	PMF_CHECK(mkdtemp(base_dir));
	snprintf(work_dir, sizeof(work_dir), "%s/w", base_dir);
	home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	PMF_CHECK(home_fd >= 0);
	atexit(at_exit);
	strict = getenv("PMB_FUZZ_STRICT") && !strcmp(getenv("PMB_FUZZ_STRICT"), "1");
	if (!getenv("PMB_FUZZ_VERBOSE") || strcmp(getenv("PMB_FUZZ_VERBOSE"), "1")) {
		null = fopen("/dev/null", "we");
		PMF_CHECK(null);
		stdout = null;
		stderr = null;
	}
	pmb_prog = "pmbench";
}

const char *pmf_begin(void)
{
	PMF_CHECK(mkdir(work_dir, 0755) == 0);
	PMF_CHECK(chdir(work_dir) == 0);
	return work_dir;
}

void pmf_end(void)
{
	PMF_CHECK(fchdir(home_fd) == 0);
	rm_tree(work_dir);
	PMF_CHECK(!pmf_exists(work_dir));	/* nothing may pile up during a campaign */
}

const char *pmf_path(char *buf, size_t len, const char *name)
{
	PMF_CHECK((size_t)snprintf(buf, len, "%s/%s", work_dir, name) < len);
	return buf;
}

const char *pmf_scratch(char *buf, size_t len, const char *name)
{
	PMF_CHECK((size_t)snprintf(buf, len, "%s/%s", base_dir, name) < len);
	return buf;
}

bool pmf_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* ---- files from parts ---- */

/* A link target that stays near the work directory. */
static bool link_ok(const char *t, size_t len)
{
	if (!len || len > 100 || t[0] == '/')
		return false;
	if (len >= 3 && !memcmp(t, "../", 3)) {
		t += 3;
		len -= 3;
	}
	for (size_t i = 0; i < len; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return false;
		if (c == '.' && i + 1 < len && t[i + 1] == '.')
			return false;
	}
	return true;
}

void pmf_put(const char *path, const struct pmf_part *part, size_t cap)
{
	size_t len = part->len;
	int fd;

	if (!len)
		return;
	if (part->p[0] == '@') {
		char word[128];

		if (len && part->p[len - 1] == '\n')
			len--;
		if (len < sizeof(word)) {
			memcpy(word, part->p, len);
			word[len] = '\0';
			if (!strcmp(word, "@dir")) {
				PMF_CHECK(mkdir(path, 0755) == 0);
				return;
			}
			if (!strcmp(word, "@fifo")) {
				PMF_CHECK(mkfifo(path, 0644) == 0);
				return;
			}
			if (!strcmp(word, "@big")) {
				fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
				PMF_CHECK(fd >= 0);
				PMF_CHECK(ftruncate(fd, (off_t)cap + 1) == 0);
				close(fd);
				return;
			}
			if (!strncmp(word, "@link:", 6) && link_ok(word + 6, len - 6)) {
				PMF_CHECK(symlink(word + 6, path) == 0);
				return;
			}
		}
		len = part->len;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	PMF_CHECK(fd >= 0);
	PMF_CHECK(pmb_write_full(fd, part->p, len) == 0);
	close(fd);
}

static size_t run_cap(size_t i)
{
	/* harness/schema/schema.h: meta.json and its neighbours 1 MiB, tables 512 MiB. */
	return i == 1 || i == 2 ? (512u << 20) : (1u << 20);
}

const char *pmf_rundir(char *buf, size_t len, const char *name, const struct pmf_part *parts)
{
	char path[4400];

	pmf_path(buf, len, name);
	PMF_CHECK(mkdir(buf, 0755) == 0);
	for (size_t i = 0; i < PMF_RUN_FILES; i++) {
		PMF_CHECK((size_t)snprintf(path, sizeof(path), "%s/%s", buf, pmf_run_files[i]) < sizeof(path));
		pmf_put(path, &parts[i], run_cap(i));
	}
	return buf;
}

/* ---- running the code under test ---- */

int pmf_cmd(int (*fn)(int, char **), int argc, const char *const *argv)
{
	char *v[32];
	int ret;

	PMF_CHECK(argc > 0 && argc < 32);
	for (int i = 0; i < argc; i++) {
		v[i] = strdup(argv[i]);
		PMF_CHECK(v[i]);
	}
	v[argc] = NULL;
	pmb_verbose = 0;
	ret = fn(argc, v);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < argc; i++)
		free(v[i]);
	return ret;
}

void pmf_check_exit(int code)
{
	switch (code) {
	case PMB_EXIT_PASS: case PMB_EXIT_REGRESSION: case PMB_EXIT_INCORRECT:
	case PMB_EXIT_INCONCLUSIVE: case PMB_EXIT_USAGE: case PMB_EXIT_SKIP:
		return;
	case PMB_EXIT_ERROR:
		if (!strict)
			return;
		pmf_fail("exit 3 (a harness error) on an input that can only be bad input", __FILE__, __LINE__);
	default:
		pmf_fail("an exit code README.md does not document", __FILE__, __LINE__);
	}
}

void pmf_check_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);

	if (!j)
		dprintf(2, "pmb-fuzz: %s:%d: %s\n", path, err.line, err.text);
	PMF_CHECK(j);
	json_decref(j);
}

/* ---- option parts ---- */

static const char *find_word(const struct pmf_part *o, const char *key, size_t *wlen)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < o->len;) {
		size_t j = i;

		while (j < o->len && o->p[j] != ' ' && o->p[j] != '\n' && o->p[j] != '\t')
			j++;
		if (j - i >= kl && !memcmp(o->p + i, key, kl) && (j - i == kl || o->p[i + kl] == '=')) {
			*wlen = j - i;
			return o->p + i;
		}
		i = j + 1;
	}
	return NULL;
}

const char *pmf_opt(const struct pmf_part *opts, const char *key, char *buf, size_t len)
{
	size_t wl, kl = strlen(key);
	const char *w = find_word(opts, key, &wl);

	if (!w || wl == kl)
		return NULL;
	wl -= kl + 1;
	if (wl >= len)
		wl = len - 1;
	memcpy(buf, w + kl + 1, wl);
	buf[wl] = '\0';
	return buf;
}

bool pmf_opt_flag(const struct pmf_part *opts, const char *word)
{
	size_t wl;
	const char *w = find_word(opts, word, &wl);

	return w && wl == strlen(word);
}
