// SPDX-License-Identifier: GPL-2.0
/* lib/pagemap.h: every accessor, swap encoding round trips, state precedence. */
#include "lib/pagemap.h"

#include <string.h>

#include "check.h"

static void test_bits(void)
{
	static const struct {
		const char *name;
		uint64_t bit;
		bool (*get)(uint64_t);
	} bits[] = {
		{ "present", PM_PRESENT, pm_present },
		{ "swapped", PM_SWAP, pm_swapped },
		{ "file", PM_FILE, pm_file },
		{ "soft_dirty", PM_SOFT_DIRTY, pm_soft_dirty },
		{ "exclusive", PM_MMAP_EXCLUSIVE, pm_exclusive },
		{ "uffd_wp", PM_UFFD_WP, pm_uffd_wp },
		{ "guard", PM_GUARD_REGION, pm_guard },
	};
	size_t i, j;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		CHECK(bits[i].get(bits[i].bit), "%s: its own bit is seen", bits[i].name);
		CHECK(!bits[i].get(0), "%s: zero entry has none", bits[i].name);
		CHECK(!bits[i].get(~bits[i].bit), "%s: every other bit leaves it clear",
		      bits[i].name);
		for (j = 0; j < sizeof(bits) / sizeof(bits[0]); j++)
			if (i != j && bits[i].get(bits[j].bit))
				CHECK(0, "%s: set by %s", bits[i].name, bits[j].name);
	}
	CHECK(PM_SOFT_DIRTY == UINT64_C(1) << 55 && PM_MMAP_EXCLUSIVE == UINT64_C(1) << 56 &&
	      PM_UFFD_WP == UINT64_C(1) << 57 && PM_GUARD_REGION == UINT64_C(1) << 58 &&
	      PM_FILE == UINT64_C(1) << 61 && PM_SWAP == UINT64_C(1) << 62 &&
	      PM_PRESENT == UINT64_C(1) << 63, "bit numbers as in pagemap.rst");
}

static void test_pfn(void)
{
	uint64_t max = (UINT64_C(1) << 55) - 1;

	CHECK(pm_pfn(PM_PRESENT | 0x12345) == 0x12345, "pfn of a present entry");
	CHECK(pm_pfn(PM_PRESENT | PM_SOFT_DIRTY | PM_MMAP_EXCLUSIVE | max) == max,
	      "pfn: all 55 bits, flags masked off");
	CHECK(pm_pfn(~UINT64_C(0)) == max, "pfn of all-ones is 55 bits");
	CHECK(pm_pfn(PM_PRESENT) == 0, "pfn hidden (no CAP_SYS_ADMIN) reads 0");
}

static void test_swap_roundtrip(void)
{
	static const uint64_t offsets[] = {
		0, 1, 2, 0x1f, 0x20, 4095, UINT64_C(1) << 20, UINT64_C(1) << 32,
		(UINT64_C(1) << 50) - 2, (UINT64_C(1) << 50) - 1,
	};
	unsigned type;
	size_t i;
	int bad = 0;

	for (type = 0; type < 32; type++)
		for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
			uint64_t e = pm_make_swap(type, offsets[i]);

			if (!pm_swapped(e) || pm_present(e) || pm_file(e) ||
			    pm_swap_type(e) != type || pm_swap_offset(e) != offsets[i] ||
			    pm_state_of(e) != PMS_SWAPPED)
				bad++;
		}
	CHECK(bad == 0, "swap type 0..31 x %zu offsets round trip (%d bad)",
	      sizeof(offsets) / sizeof(offsets[0]), bad);
	CHECK(pm_swap_type(pm_make_swap(31, 7)) == 31, "max type 31");
	CHECK(pm_swap_offset(pm_make_swap(31, 7)) == 7, "offset beside max type");
	CHECK(pm_swap_offset(pm_make_swap(0, (UINT64_C(1) << 50) - 1)) == (UINT64_C(1) << 50) - 1,
	      "max offset (50 bits)");
	CHECK(pm_swap_type(pm_make_swap(32, 5)) == 0, "type is 5 bits wide (32 wraps to 0)");
	CHECK(pm_pfn(pm_make_swap(31, (UINT64_C(1) << 50) - 1)) == PM_PFRAME_MASK,
	      "type and offset fill exactly bits 0-54");
	CHECK((pm_make_swap(3, UINT64_C(1) << 50) & ~PM_PFRAME_MASK) == PM_SWAP,
	      "an offset beyond 50 bits never reaches the flag bits");
	CHECK(pm_swap_type(pm_make_swap(1, 0x123) | PM_SOFT_DIRTY | PM_MMAP_EXCLUSIVE) == 1 &&
	      pm_swap_offset(pm_make_swap(1, 0x123) | PM_SOFT_DIRTY) == 0x123,
	      "flags do not disturb type/offset");
}

static void test_state(void)
{
	CHECK(pm_state_of(0) == PMS_NONE, "0 is none");
	CHECK(pm_state_of(PM_SOFT_DIRTY | PM_FILE | PM_MMAP_EXCLUSIVE) == PMS_NONE,
	      "flags without present/swap are none");
	CHECK(pm_state_of(PM_PRESENT) == PMS_PRESENT, "present");
	CHECK(pm_state_of(PM_SWAP | 5) == PMS_SWAPPED, "swapped");
	CHECK(pm_state_of(PM_PRESENT | PM_SWAP) == PMS_PRESENT, "present wins over swap");
	CHECK(pm_state_of(PM_PRESENT | PM_FILE) == PMS_PRESENT, "file page present");
	CHECK(!strcmp(pm_state_name(PMS_NONE), "none") &&
	      !strcmp(pm_state_name(PMS_PRESENT), "present") &&
	      !strcmp(pm_state_name(PMS_SWAPPED), "swapped") &&
	      !strcmp(pm_state_name(PMS_UNMAPPED), "unmapped") &&
	      !strcmp(pm_state_name(PMS_TRUTHS), "?"), "state names");
}

int main(void)
{
	test_bits();
	test_pfn();
	test_swap_roundtrip();
	test_state();
	return check_done();
}
