// SPDX-License-Identifier: GPL-2.0
#include "outdir.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pmb_mkdir_new(const char *path, char *out, size_t len)
{
	if (!*path)
		return pmb_fail(-EINVAL, "an empty output directory name");
	for (int i = 1; i < 1000; i++) {
		int n = i == 1 ? snprintf(out, len, "%s", path) : snprintf(out, len, "%s-%d", path, i);

		if (n < 0 || (size_t)n >= len)
			return pmb_fail(-ENAMETOOLONG, "%.80s...: the output path is too long", path);
		if (!mkdir(out, 0755))
			return 0;
		if (errno != EEXIST)
			return pmb_err(-errno, "mkdir %s", out);
	}
	return pmb_fail(-EEXIST, "%s: 999 directories of that name exist already", path);
}

FILE *pmb_out_create(const char *dir, const char *name)
{
	char path[4352];
	FILE *f;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		pmb_fail(-ENAMETOOLONG, "%.80s/%s: the output path is too long", dir, name);
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		pmb_err(-errno, "%s", path);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		pmb_err(-errno, "%s", path);
		close(fd);
	}
	return f;
}

int pmb_out_close(FILE *f, const char *dir, const char *name)
{
	int bad = ferror(f);

	if (fclose(f) || bad)
		return pmb_fail(-EIO, "writing %s/%s failed", dir, name);
	return 0;
}

static void remove_entries(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno != EISDIR)
			continue;
		if (depth > 0) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				remove_entries(sub, depth - 1);
		}
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void pmb_out_remove(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd >= 0)
		remove_entries(dfd, 1);
	rmdir(dir);
}
