// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side smoke check for the kernel images (tests/test_kernels.py):
 * dirty N pages of a memfd and of private anonymous memory, push them out
 * with MADV_PAGEOUT, and count what /proc/self/pagemap reports for each.
 * Prints one line per memory kind: "KIND present=P swapped=S none=N".
 * Needs an active swap device.  Exit 0, or 3 on a harness error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pagemap.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define NPAGES 64

static int count_states(int pm_fd, const char *base, size_t page, unsigned *n)
{
	uint64_t e[NPAGES];
	off_t off = (off_t)((uintptr_t)base / page) * PM_ENTRY_BYTES;
	ssize_t got = pread(pm_fd, e, sizeof(e), off);
	size_t i;

	if (got < 0)
		return -errno;
	if ((size_t)got != sizeof(e))
		return -EIO;
	for (i = 0; i < NPAGES; i++)
		n[pm_state_of(e[i])]++;
	return 0;
}

static int probe(const char *kind, int fd, int pm_fd, size_t page)
{
	unsigned n[PMS_NR] = { 0 };
	int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	char *p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, flags, fd, 0);
	int err;

	if (p == MAP_FAILED) {
		fprintf(stderr, "shmem_swap_probe: mmap %s: %s\n", kind, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * page, (int)(i + 1), page);
	if (madvise(p, NPAGES * page, MADV_PAGEOUT)) {
		err = -errno;
		fprintf(stderr, "shmem_swap_probe: MADV_PAGEOUT %s: %s\n", kind, strerror(errno));
		return err;
	}
	err = count_states(pm_fd, p, page, n);
	if (err) {
		fprintf(stderr, "shmem_swap_probe: pagemap %s: %s\n", kind, strerror(-err));
		return err;
	}
	printf("%s present=%u swapped=%u none=%u\n", kind,
	       n[PMS_PRESENT], n[PMS_SWAPPED], n[PMS_NONE]);
	return munmap(p, NPAGES * page) ? -errno : 0;
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int pm_fd = open("/proc/self/pagemap", O_RDONLY);
	int fd;

	if (pm_fd < 0) {
		perror("shmem_swap_probe: /proc/self/pagemap");
		return 3;
	}
	fd = memfd_create("shmem-swap-probe", 0);
	if (fd < 0 || ftruncate(fd, (off_t)(NPAGES * page))) {
		perror("shmem_swap_probe: memfd");
		return 3;
	}
	if (probe("memfd", fd, pm_fd, page) || probe("private", -1, pm_fd, page))
		return 3;
	return 0;
}
