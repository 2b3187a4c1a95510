// SPDX-License-Identifier: GPL-2.0
/*
 * The swap-slot checks of the correctness judge, on synthetic entries and a
 * file standing in for the swap device.  A kernel that reports plausible but
 * wrong offsets must be caught by the content check, where range checks pass.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lib/pagemap.h"
#include "lib/pattern.h"
#include "harness/live/judge.h"

#define PSZ 4096
#define SLOTS 16
#define SEED 42

static struct pmb_swap sw;

/* Slot k+1 holds page k's pattern, for pages 0..7; slot 0 is the header. */
static void make_device(char *path)
{
	char page[PSZ];
	int fd = mkstemp(path);

	memset(page, 0, sizeof(page));
	for (int s = 0; s < SLOTS; s++) {
		if (s >= 1 && s <= 8)
			pmb_pattern_fill(page, PSZ, SEED, (uint64_t)s - 1);
		else
			memset(page, 0, sizeof(page));
		if (write(fd, page, PSZ) != PSZ)
			abort();
	}
	close(fd);
	memset(&sw, 0, sizeof(sw));
	sw.ndevs = 1;
	sw.devs[0].type = 0;
	sw.devs[0].pages = SLOTS - 1;	/* as /proc/swaps counts: the header slot is not usable */
	snprintf(sw.devs[0].path, sizeof(sw.devs[0].path), "%s", path);
}

static struct pmb_case judge(const uint8_t *truth, const uint64_t *pm, uint64_t n)
{
	struct pmb_case c;
	struct pmb_slotmap m;

	memset(&c, 0, sizeof(c));
	if (pmb_slotmap_init(&m, &sw, PSZ))
		abort();
	pmb_judge_entries(&c, &m, &sw, truth, pm, n, 0, SEED, PSZ, true);
	pmb_slotmap_free(&m);
	return c;
}

int main(void)
{
	char path[] = "/tmp/pmb-test-judge-XXXXXX";
	uint8_t truth[8];
	uint64_t pm[8];
	struct pmb_case c;

	make_device(path);
	memset(truth, PMS_SWAPPED, sizeof(truth));

	for (int i = 0; i < 8; i++)
		pm[i] = pm_make_swap(0, (uint64_t)i + 1);
	c = judge(truth, pm, 8);
	CHECK(c.cm[PMS_SWAPPED][PMS_SWAPPED] == 8, "right offsets: all 8 reported swapped");
	CHECK(c.content_ok == 8 && c.content_bad == 0, "right offsets: every slot holds its page");
	CHECK(!c.bad_type && !c.bad_offset && !c.dup, "right offsets: no range or duplicate errors");

	/* Offsets shifted by one: every one is in range and unique, none holds its page. */
	for (int i = 0; i < 8; i++)
		pm[i] = pm_make_swap(0, (uint64_t)i + 2);
	c = judge(truth, pm, 8);
	CHECK(!c.bad_type && !c.bad_offset && !c.dup, "shifted offsets pass the range checks");
	CHECK(c.content_bad == 8 && c.content_ok == 0, "shifted offsets are caught by content");

	/* Two pages claiming one slot. */
	for (int i = 0; i < 8; i++)
		pm[i] = pm_make_swap(0, (uint64_t)i + 1);
	pm[5] = pm_make_swap(0, 3);
	c = judge(truth, pm, 8);
	CHECK(c.dup == 1, "a slot claimed twice is a duplicate");

	pm[5] = pm_make_swap(0, 0);
	pm[6] = pm_make_swap(0, SLOTS);	/* slots 1..SLOTS-1 exist */
	pm[7] = pm_make_swap(3, 4);
	c = judge(truth, pm, 8);
	CHECK(c.bad_offset == 2, "offset 0 (the header) and one past the device are out of range");
	CHECK(c.bad_type == 1, "a type with no active device is caught");

	/* Stock-kernel shape: swapped shmem pages read back as none. */
	memset(pm, 0, sizeof(pm));
	pm[0] = PM_PRESENT | PM_FILE | 123;
	truth[0] = PMS_PRESENT;
	c = judge(truth, pm, 8);
	CHECK(c.cm[PMS_SWAPPED][PMS_NONE] == 7 && c.cm[PMS_PRESENT][PMS_PRESENT] == 1,
	      "swapped pages reported as none land in t_swapped_r_none");
	CHECK(c.truth[PMS_SWAPPED] == 7 && c.truth[PMS_PRESENT] == 1, "truth counts");
	CHECK(c.content_ok + c.content_bad + c.content_unchecked == 0, "no slot to check when none is reported");

	/*
	 * /proc/swaps order is only a guess at types: here the device holding
	 * the pages is listed second (guessed type 1) while pagemap says type 0.
	 * The first slot that holds its page proves the mapping.
	 */
	{
		char other[] = "/tmp/pmb-test-judge-other-XXXXXX";
		int fd = mkstemp(other);
		char zero[PSZ] = { 0 };

		for (int k = 0; k < SLOTS; k++)
			if (write(fd, zero, PSZ) != PSZ)
				abort();
		close(fd);
		sw.devs[1] = sw.devs[0];
		sw.devs[1].type = 1;
		snprintf(sw.devs[0].path, sizeof(sw.devs[0].path), "%s", other);
		sw.ndevs = 2;
		memset(sw.tried, 0, sizeof(sw.tried));
		memset(truth, PMS_SWAPPED, sizeof(truth));
		for (int i = 0; i < 8; i++)
			pm[i] = pm_make_swap(0, (uint64_t)i + 1);
		c = judge(truth, pm, 8);
		CHECK(c.content_ok == 8 && !c.bad_type, "type 0 is proven to be the second listed device");
		CHECK(sw.devs[1].type == 0 && sw.devs[0].type == 1, "the guesses are swapped");
		pmb_swap_refresh(&sw);	/* a refresh keeps what was proven (no device is active here) */
		unlink(other);
	}

	unlink(path);
	return check_done();
}
