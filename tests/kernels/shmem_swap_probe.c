// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side check of what pagemap reports for swapped-out memory, for the
 * kernel images (tests/test_kernels.py, through tests/kernels/standin-pmbench).
 *
 *   shmem_swap_probe SWAPDEV     correctness, one line per case (below)
 *   shmem_swap_probe --time      dense-read timing, one line (below)
 *
 * Correctness.  For private anonymous memory, a memfd and
 * MAP_SHARED|MAP_ANONYMOUS memory it writes a unique pattern into every page
 * of NPAGES, pushes them out with MADV_PAGEOUT, and reads what
 * /proc/self/pagemap reports: with read(), and with the PAGEMAP_SCAN ioctl
 * where the kernel has it.  Every swap location read() reports is checked
 * against SWAPDEV, which must be the only active swap: the device, read with
 * O_DIRECT at offset * page size, must hold that page's pattern.
 * Where /sys/kernel/mm/transparent_hugepage/hugepages-64kB/shmem_enabled
 * exists, it does the same for MAP_SHARED|MAP_ANONYMOUS memory made of
 * 64 KiB shmem folios (mTHP, set to "always" for the test and restored), and
 * also checks that the reported offsets are distinct and consecutive within
 * each folio, as a folio swapped out whole is given consecutive slots.
 *
 *   KIND present=P swapped=S none=N scan=C slots=K bad=B
 *       KIND: private, memfd, shared-anon.  P/S/N: what read() reports.
 *       C: pages PAGEMAP_SCAN reports as swapped, -1 without PAGEMAP_SCAN.
 *       K: swapped pages whose slot holds the page's pattern; B: those whose
 *       slot does not (wrong content, wrong swap type, offset off the device).
 *   mthp64 folios=F alloc=A swpout=W present=P swapped=S none=N scan=C
 *          slots=K bad=B distinct=D consecutive=Q
 *       A, W: the 64 KiB counters shmem_alloc and swpout, before to after.
 *       D: distinct offsets among swapped pages; Q: folios whose swapped
 *       pages all sit at first offset + index in the folio.
 *   mthp64 skipped=1       (no 64 KiB shmem mTHP in this kernel)
 *
 * Timing.  Dense read()s of the pagemap of TIME_PAGES present pages of
 * private anonymous memory and of a memfd mapping, PTE-mapped: TIME_ROUNDS
 * reads each after two warm-up reads, the median in ns of CLOCK_MONOTONIC
 * (instructions, under QEMU icount).
 *
 *   time private_ns=X memfd_ns=Y rounds=R pages=N
 *
 * Exit 0, or 3 on a harness error (the reason on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pagemap.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define NPAGES		64
#define MTHP_PAGES	16		/* 64 KiB of 4 KiB pages */
#define MTHP_FOLIOS	16
#define PATTERN_MAGIC	UINT64_C(0x706d622d70726f62)	/* "pmb-prob" */
#define PAGEOUT_TRIES	10
#define TIME_PAGES	8192		/* 32 MiB */
#define TIME_ROUNDS	15

#define MTHP_DIR	"/sys/kernel/mm/transparent_hugepage/hugepages-64kB"

static size_t page;

static int fail(const char *what, int err)
{
	fprintf(stderr, "shmem_swap_probe: %s: %s\n", what, strerror(err));
	return -err;
}

enum kind { K_PRIVATE = 1, K_MEMFD, K_SHARED_ANON, K_MTHP };

struct counts {
	unsigned n[PMS_NR];
	long scan;		/* -1: no PAGEMAP_SCAN */
	unsigned slots, bad, distinct, consecutive;
};

/* Word j of page i of kind k: unique to (k, i). */
static uint64_t pattern_word(enum kind k, size_t i, size_t j)
{
	return PATTERN_MAGIC ^ ((uint64_t)k << 56) ^ ((uint64_t)i << 24) ^ j;
}

static void write_pattern(char *p, size_t npages, enum kind k)
{
	for (size_t i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(p + i * page);

		for (size_t j = 0; j < page / sizeof(*w); j++)
			w[j] = pattern_word(k, i, j);
	}
}

static bool has_pattern(const void *buf, enum kind k, size_t i)
{
	const uint64_t *w = buf;

	for (size_t j = 0; j < page / sizeof(*w); j++)
		if (w[j] != pattern_word(k, i, j))
			return false;
	return true;
}

/* MADV_PAGEOUT until mincore() sees no page resident (a few tries). */
static int page_out(char *p, size_t npages)
{
	unsigned char *vec = malloc(npages);
	int tries, err = 0;

	if (!vec)
		return fail("malloc", ENOMEM);
	for (tries = 0; tries < PAGEOUT_TRIES; tries++) {
		size_t resident = 0;

		if (madvise(p, npages * page, MADV_PAGEOUT)) {
			err = fail("MADV_PAGEOUT", errno);
			break;
		}
		if (mincore(p, npages * page, vec)) {
			err = fail("mincore", errno);
			break;
		}
		for (size_t i = 0; i < npages; i++)
			resident += vec[i] & 1;
		if (!resident)
			break;
		usleep(100 * 1000);
	}
	free(vec);
	return err;
}

static int read_entries(int pm_fd, const char *p, size_t npages, uint64_t *e)
{
	off_t off = (off_t)((uintptr_t)p / page) * PM_ENTRY_BYTES;
	size_t want = npages * PM_ENTRY_BYTES;
	ssize_t got = pread(pm_fd, e, want, off);

	if (got < 0)
		return fail("pagemap read", errno);
	if ((size_t)got != want)
		return fail("pagemap read: short", EIO);
	return 0;
}

/* Pages PAGEMAP_SCAN reports as swapped; -1 if the kernel has no PAGEMAP_SCAN. */
static int scan_swapped(int pm_fd, const char *p, size_t npages, long *out)
{
	struct pmb_page_region r[32];
	uint64_t start = (uintptr_t)p, end = start + npages * page;
	long pages = 0;

	while (start < end) {
		struct pmb_pm_scan_arg a = {
			.size = sizeof(a),
			.start = start,
			.end = end,
			.vec = (uintptr_t)r,
			.vec_len = sizeof(r) / sizeof(r[0]),
			.category_mask = PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_SWAPPED,
		};
		long n = ioctl(pm_fd, PMB_PAGEMAP_SCAN, &a);

		if (n < 0 && errno == ENOTTY) {
			*out = -1;
			return 0;
		}
		if (n < 0)
			return fail("PAGEMAP_SCAN", errno);
		for (long i = 0; i < n; i++)
			pages += (long)((r[i].end - r[i].start) / page);
		if (a.walk_end <= start)
			return fail("PAGEMAP_SCAN: no progress", EIO);
		start = a.walk_end;
	}
	*out = pages;
	return 0;
}

struct swapdev {
	int fd;
	uint64_t pages;		/* device size in pages */
	int type;		/* swap type, learnt from the first checked entry; -1 before */
	void *buf;		/* one page, aligned for O_DIRECT */
};

/* Does the slot read() reported for page i hold the page's pattern? */
static int slot_holds(struct swapdev *d, uint64_t e, enum kind k, size_t i, bool *ok)
{
	uint64_t off = pm_swap_offset(e);
	ssize_t got;

	*ok = false;
	if (d->type < 0)
		d->type = (int)pm_swap_type(e);
	if ((int)pm_swap_type(e) != d->type || off == 0 || off >= d->pages)
		return 0;
	got = pread(d->fd, d->buf, page, (off_t)(off * page));
	if (got < 0)
		return fail("reading the swap device", errno);
	if ((size_t)got != page)
		return fail("reading the swap device: short", EIO);
	*ok = has_pattern(d->buf, k, i);
	return 0;
}

static int judge(int pm_fd, struct swapdev *d, char *p, size_t npages, enum kind k,
		 struct counts *c)
{
	uint64_t *e = calloc(npages, sizeof(*e));
	int err;

	if (!e)
		return fail("calloc", ENOMEM);
	memset(c, 0, sizeof(*c));
	err = read_entries(pm_fd, p, npages, e);
	if (!err)
		err = scan_swapped(pm_fd, p, npages, &c->scan);
	for (size_t i = 0; !err && i < npages; i++) {
		bool ok;

		c->n[pm_state_of(e[i])]++;
		if (pm_state_of(e[i]) != PMS_SWAPPED)
			continue;
		err = slot_holds(d, e[i], k, i, &ok);
		if (ok)
			c->slots++;
		else
			c->bad++;
		for (size_t j = 0; j < i; j++)
			if (pm_swapped(e[j]) && !pm_present(e[j]) &&
			    pm_swap_offset(e[j]) == pm_swap_offset(e[i]))
				goto dup;
		c->distinct++;
dup:;
	}
	if (!err && k == K_MTHP) {
		for (size_t f = 0; f < npages / MTHP_PAGES; f++) {
			const uint64_t *fe = e + f * MTHP_PAGES;
			bool cons = pm_state_of(fe[0]) == PMS_SWAPPED;

			for (size_t j = 1; cons && j < MTHP_PAGES; j++)
				cons = pm_state_of(fe[j]) == PMS_SWAPPED &&
				       pm_swap_offset(fe[j]) == pm_swap_offset(fe[0]) + j;
			c->consecutive += cons;
		}
	}
	free(e);
	return err;
}

static void print_counts(const struct counts *c)
{
	printf("present=%u swapped=%u none=%u scan=%ld slots=%u bad=%u",
	       c->n[PMS_PRESENT], c->n[PMS_SWAPPED], c->n[PMS_NONE], c->scan,
	       c->slots, c->bad);
}

static int probe(const char *name, enum kind k, int pm_fd, struct swapdev *d)
{
	struct counts c;
	int fd = -1, flags = MAP_SHARED, err;
	char *p;

	if (k == K_PRIVATE)
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
	else if (k == K_SHARED_ANON)
		flags = MAP_SHARED | MAP_ANONYMOUS;
	else {
		fd = memfd_create("shmem-swap-probe", 0);
		if (fd < 0)
			return fail("memfd_create", errno);
		if (ftruncate(fd, (off_t)(NPAGES * page))) {
			err = fail("ftruncate", errno);
			close(fd);
			return err;
		}
	}
	p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return fail(name, errno);
	write_pattern(p, NPAGES, k);
	err = page_out(p, NPAGES);
	if (!err)
		err = judge(pm_fd, d, p, NPAGES, k, &c);
	if (!err) {
		printf("%s ", name);
		print_counts(&c);
		printf("\n");
	}
	if (munmap(p, NPAGES * page) && !err)
		err = fail("munmap", errno);
	return err;
}

/* ---------------------------------------------------------------- mTHP */

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fail(path, errno);
	n = write(fd, s, strlen(s));
	if (n < 0 || (size_t)n != strlen(s)) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		return fail(path, err);
	}
	return close(fd) ? fail(path, errno) : 0;
}

static long counter(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), MTHP_DIR "/stats/%s", name);
	return read_line(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

/* The selected word of a sysfs choice ("always [never]" -> "never"). */
static int selected(const char *path, char *out, size_t len)
{
	char buf[256], *a, *b;
	int err = read_line(path, buf, sizeof(buf));

	if (err)
		return fail(path, -err);
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!b || (size_t)(b - a) >= len)
		return fail(path, EINVAL);
	memcpy(out, a + 1, (size_t)(b - a - 1));
	out[b - a - 1] = '\0';
	return 0;
}

static int probe_mthp(int pm_fd, struct swapdev *d)
{
	const char *knob = MTHP_DIR "/shmem_enabled";
	size_t npages = MTHP_FOLIOS * MTHP_PAGES, len = npages * page;
	size_t align = MTHP_PAGES * page;
	long alloc0, swpout0;
	char old[32], *res, *p;
	struct counts c;
	int err;

	if (access(knob, F_OK)) {
		printf("mthp64 skipped=1\n");
		return 0;
	}
	err = selected(knob, old, sizeof(old));
	if (err)
		return err;
	err = write_str(knob, "always");
	if (err)
		return err;
	/* An aligned window, so that file index 0 sits at a 64 KiB boundary. */
	res = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		err = fail("mmap (reserve)", errno);
		goto restore;
	}
	p = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED) {
		err = fail("mmap (mthp64)", errno);
		munmap(res, len + align);
		goto restore;
	}
	alloc0 = counter("shmem_alloc");
	swpout0 = counter("swpout");
	write_pattern(p, npages, K_MTHP);
	err = page_out(p, npages);
	if (!err)
		err = judge(pm_fd, d, p, npages, K_MTHP, &c);
	if (!err) {
		printf("mthp64 folios=%d alloc=%ld swpout=%ld ", MTHP_FOLIOS,
		       counter("shmem_alloc") - alloc0, counter("swpout") - swpout0);
		print_counts(&c);
		printf(" distinct=%u consecutive=%u\n", c.distinct, c.consecutive);
	}
	if (munmap(res, len + align) && !err)
		err = fail("munmap", errno);
restore:
	if (write_str(knob, old) && !err)
		err = -EIO;
	return err;
}

/* ---------------------------------------------------------------- timing */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median time of a dense read() of the pagemap of p[0..TIME_PAGES). */
static int time_dense(int pm_fd, const char *p, uint64_t *e, uint64_t *median)
{
	uint64_t t[TIME_ROUNDS];

	for (int r = -2; r < TIME_ROUNDS; r++) {	/* two warm-up rounds */
		uint64_t t0 = now_ns();
		int err = read_entries(pm_fd, p, TIME_PAGES, e);

		if (err)
			return err;
		if (r >= 0)
			t[r] = now_ns() - t0;
	}
	qsort(t, TIME_ROUNDS, sizeof(t[0]), cmp_u64);
	*median = t[TIME_ROUNDS / 2];
	return 0;
}

static int do_time(int pm_fd)
{
	uint64_t *e = calloc(TIME_PAGES, sizeof(*e)), priv_ns = 0, memfd_ns = 0;
	size_t len = TIME_PAGES * page;
	char *priv = MAP_FAILED, *shm = MAP_FAILED;
	int fd, err = 0;

	if (!e)
		return fail("calloc", ENOMEM);
	fd = memfd_create("shmem-swap-probe-time", 0);
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		err = fail("memfd", errno);
		goto out;
	}
	priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (priv == MAP_FAILED || shm == MAP_FAILED) {
		err = fail("mmap", errno);
		goto out;
	}
	/* Page-table mapped, not PMD-mapped: every entry goes through the PTE path. */
	madvise(priv, len, MADV_NOHUGEPAGE);
	madvise(shm, len, MADV_NOHUGEPAGE);
	write_pattern(priv, TIME_PAGES, K_PRIVATE);
	write_pattern(shm, TIME_PAGES, K_MEMFD);
	err = time_dense(pm_fd, priv, e, &priv_ns);
	if (!err)
		err = time_dense(pm_fd, shm, e, &memfd_ns);
	if (!err)
		printf("time private_ns=%llu memfd_ns=%llu rounds=%d pages=%d\n",
		       (unsigned long long)priv_ns, (unsigned long long)memfd_ns,
		       TIME_ROUNDS, TIME_PAGES);
out:
	if (priv != MAP_FAILED)
		munmap(priv, len);
	if (shm != MAP_FAILED)
		munmap(shm, len);
	if (fd >= 0)
		close(fd);
	free(e);
	return err;
}

/* ---------------------------------------------------------------- main */

/* SWAPDEV must be the only active swap, so that every swap entry is on it. */
static int open_swapdev(const char *dev, struct swapdev *d)
{
	char line[512], name[256];
	int active = 0, found = 0;
	long long kib;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return fail("/proc/swaps", errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %*s %lld", name, &kib) != 2 || name[0] != '/')
			continue;
		active++;
		if (!strcmp(name, dev)) {
			found = 1;
			d->pages = (uint64_t)kib * 1024 / page;
		}
	}
	fclose(f);
	if (!found || active != 1) {
		fprintf(stderr, "shmem_swap_probe: %s must be the only active swap (%d active)\n",
			dev, active);
		return -EINVAL;
	}
	d->fd = open(dev, O_RDONLY | O_DIRECT);
	if (d->fd < 0)
		return fail(dev, errno);
	if (posix_memalign(&d->buf, page, page)) {
		close(d->fd);
		return fail("posix_memalign", ENOMEM);
	}
	d->type = -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct swapdev d = { .fd = -1 };
	int pm_fd, err;

	page = (size_t)sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: shmem_swap_probe SWAPDEV | --time\n");
		return 64;
	}
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0) {
		perror("shmem_swap_probe: /proc/self/pagemap");
		return 3;
	}
	if (!strcmp(argv[1], "--time"))
		return do_time(pm_fd) ? 3 : 0;
	err = open_swapdev(argv[1], &d);
	/* private first: its entries are the reference for the swap type. */
	if (!err)
		err = probe("private", K_PRIVATE, pm_fd, &d);
	if (!err)
		err = probe("memfd", K_MEMFD, pm_fd, &d);
	if (!err)
		err = probe("shared-anon", K_SHARED_ANON, pm_fd, &d);
	if (!err)
		err = probe_mthp(pm_fd, &d);
	return err ? 3 : 0;
}
