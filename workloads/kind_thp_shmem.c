// SPDX-License-Identifier: GPL-2.0
/*
 * thp-shmem: shmem backed by transparent huge pages, without touching the
 * global THP settings.  pmwork moves into a mount namespace of its own
 * (private propagation), mounts a fresh tmpfs with huge=always over /tmp
 * there (no directory is created anywhere, so nothing can be left behind),
 * creates an unnamed file on it and detaches the mount at once: the open file
 * keeps it alive, and the namespace dies with the process.  The mapping is 2 MiB aligned (over-allocated and
 * trimmed) and MADV_HUGEPAGE.
 */
#include "kind.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define THP_SIZE	(UINT64_C(2) << 20)

/* In a private mount namespace: an unnamed file on a huge=always tmpfs. */
static int thp_file(size_t len, const char **what)
{
	static const char dir[] = "/tmp";
	int fd, err = 0;

	*what = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	*what = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* Over /tmp, in this namespace only: the host's /tmp is not touched. */
	*what = "mount tmpfs huge=always over /tmp";
	if (mount("pmwork-thp", dir, "tmpfs", MS_NOSUID | MS_NODEV, "huge=always,mode=0700") < 0)
		return -errno;
	*what = "create file on the huge tmpfs";
	fd = pmw_open_anon_file(dir, len);
	if (umount2(dir, MNT_DETACH) < 0 && fd >= 0) {
		*what = "umount2";
		err = -errno;
	}
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

/* The probe tries it all in a child, so pmwork itself stays where it is. */
static const char *thp_shmem_probe(void)
{
	static char why[160];
	static const char sysfs[] = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	int status, fds[2];
	pid_t pid;
	ssize_t n;

	if (access(sysfs, F_OK) < 0) {
		snprintf(why, sizeof(why), "no THP for shmem in this kernel (%s: %s)",
			 sysfs, strerror(errno));
		return why;
	}
	if (pipe(fds) < 0) {
		snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
		return why;
	}
	pid = fork();
	if (pid == 0) {
		const char *what = "";
		int fd = thp_file((size_t)THP_SIZE, &what);
		char msg[128];

		close(fds[0]);
		if (fd < 0) {
			int len = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-fd));

			if (write(fds[1], msg, (size_t)len) != len)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		return why;
	}
	n = read(fds[0], why, sizeof(why) - 1);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	why[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(why, sizeof(why), "huge tmpfs probe failed (status %#x)", status);
	return why;
}

/* Map fd at a 2 MiB aligned address: reserve len + 2 MiB, map inside, trim. */
static int map_aligned(struct pmw_region *r)
{
	size_t span = r->len + THP_SIZE;
	char *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *start, *p;

	if (res == MAP_FAILED)
		return -errno;
	start = (char *)(((uintptr_t)res + THP_SIZE - 1) & ~(uintptr_t)(THP_SIZE - 1));
	p = mmap(start, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r->fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(res, span);
		return err;
	}
	if (start > res)
		munmap(res, (size_t)(start - res));
	if (res + span > start + r->len)
		munmap(start + r->len, (size_t)(res + span - (start + r->len)));
	r->addr = p;
	return 0;
}

static int thp_shmem_create(struct pmw_region *r)
{
	const char *what;
	int err;

	r->fd = thp_file(r->len, &what);
	if (r->fd < 0) {
		err = r->fd;
		r->fd = -1;
		return err;
	}
	err = map_aligned(r);
	if (!err && madvise(r->addr, r->len, MADV_HUGEPAGE) < 0)
		err = -errno;
	if (err)
		pmw_region_unmap(r);
	return err;
}

const struct pmw_kind pmw_kind_thp_shmem = {
	.probe = thp_shmem_probe,
	.create = thp_shmem_create,
	.destroy = pmw_region_unmap,
};
