// SPDX-License-Identifier: GPL-2.0
/*
 * pmscan --probe: the host's own speed, with the kernel kept out of it.  A
 * pointer chase through 4 cache lines of each page of a 16 MiB buffer (1 MiB
 * of lines, more than a core's L2; 4096 pages, more than its TLB), in a
 * seeded random order: every step a dependent load that usually misses the
 * TLB and L2, the kind of work a pagemap read does on page tables and struct
 * pages, but in user space, so that no kernel change can move it.  On a shared machine
 * what other tenants do to the caches, the TLBs and the memory slows both
 * (docs/statistics.md); compare lets a case's change stand only where the
 * probe held steady between the two runs.
 */
#include "method.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROBE_BYTES	(16UL << 20)
#define PROBE_LINES	4	/* per page */
#define PROBE_LAPS	8	/* times round the cycle per sample: a few ms */

int pms_probe(unsigned rounds, unsigned warmup, uint64_t seed)
{
	long psz = sysconf(_SC_PAGESIZE);
	size_t pages = PROBE_BYTES / (size_t)psz, lines = pages * PROBE_LINES;
	size_t *order = malloc(lines * sizeof(size_t));
	char *buf = mmap(NULL, PROBE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t rng = seed ? seed : 1;
	void **p;
	int err = 0;

	if (!order || buf == MAP_FAILED) {
		free(order);
		if (buf != MAP_FAILED)
			munmap(buf, PROBE_BYTES);
		return pmb_err(-ENOMEM, "probe: allocating %lu bytes", PROBE_BYTES), PMB_EXIT_ERROR;
	}
	madvise(buf, PROBE_BYTES, MADV_NOHUGEPAGE);	/* 4 KiB pages whatever THP is set to */
	for (size_t i = 0; i < lines; i++)
		order[i] = i;
	for (size_t i = lines; i > 1; i--) {	/* Fisher-Yates */
		size_t j = (size_t)pmb_rand_below(&rng, i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	/* Line i: page i / PROBE_LINES, at offsets that vary from page to page, over every cache set. */
#define LINE(k) ((void **)(buf + order[k] / PROBE_LINES * (size_t)psz + \
			   (order[k] % PROBE_LINES * 16 + order[k] / PROBE_LINES % 16) * 64))
	for (size_t k = 0; k < lines; k++)
		*LINE(k) = LINE((k + 1) % lines);
	p = LINE(0);
#undef LINE
	printf("# pagemap-bench pmscan v1\n");
	printf("method\tbatch\tqd\tround\twarmup\tentries\treads\tns\tpmd_pos\n");
	for (unsigned r = 0; r < warmup + rounds; r++) {
		uint64_t t0 = pmb_now_ns(), t1;

		for (size_t k = 0; k < PROBE_LAPS * lines; k++)
			p = *p;
		t1 = pmb_now_ns();
		printf("probe\t1\t1\t%u\t%d\t%zu\t0\t%llu\t-1\n", r < warmup ? r : r - warmup, r < warmup,
		       PROBE_LAPS * lines,
		       (unsigned long long)(t1 - t0));
	}
	if (!p)	/* keeps the chase from being optimized away; a cycle never ends at NULL */
		err = pmb_fail(-EFAULT, "probe: the chase left its cycle");
	munmap(buf, PROBE_BYTES);
	free(order);
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = pmb_err(-EIO, "probe: writing the samples");
	return err ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
}
