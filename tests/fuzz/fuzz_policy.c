// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the gate policy parser.  Build and run with
 * tests/fuzz/run.sh (clang with -fsanitize=fuzzer,address,undefined).
 */
#include "harness/offline/policy.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pmb_policy p;
	static const struct pmb_target t = { .kind = "memfd", .swapout = "pageout", .state = "swapped",
					     .method = "batched", .shmem = 1, .view = "second-mapper" };
	char err[160];

	if (!pmb_policy_parse((const char *)data, size, &p, err, sizeof(err))) {
		const struct pmb_rule *r = pmb_policy_slowdown(&p, &t);

		if (r && !r->noise && !(r->max_ratio >= 1))
			__builtin_trap();	/* a limit below 1x must never parse */
		pmb_policy_correctness(&p, &t);
	} else if (strncmp(err, "line ", 5)) {
		__builtin_trap();		/* every error names its line */
	}
	return 0;
}
