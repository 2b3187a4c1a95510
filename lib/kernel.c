// SPDX-License-Identifier: GPL-2.0
#include "kernel.h"
#include "pagemap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int pmb_read_fault_zero_page(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t e[2];
	char *p;
	int fd, ret;

	p = mmap(NULL, 2 * (size_t)psz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, 2 * (size_t)psz, MADV_NOHUGEPAGE);	/* a small page each, never the huge zero page */
	(void)*(volatile const char *)p;
	(void)*(volatile const char *)(p + psz);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		ssize_t n = pmb_pread_full(fd, e, sizeof(e),
					   (off_t)((uintptr_t)p / (uintptr_t)psz * PM_ENTRY_BYTES));

		ret = n < 0 ? (int)n : n != (ssize_t)sizeof(e) ? -EIO : 0;
		close(fd);
	}
	munmap(p, 2 * (size_t)psz);
	if (ret)
		return ret;
	if (!pm_present(e[0]) || !pm_present(e[1]))
		return -EIO;
	/* Frames are shown to CAP_SYS_ADMIN only; the exclusive bit to everyone. */
	if (pm_pfn(e[0]) && pm_pfn(e[1]))
		return pm_pfn(e[0]) == pm_pfn(e[1]);
	return !pm_exclusive(e[0]) && !pm_exclusive(e[1]);
}
