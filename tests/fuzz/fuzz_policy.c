// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the gate policy parser (harness/offline/policy.c).  The
 * whole input is a policy.  It parses from the buffer and, as the gate reads
 * --policy, from a file: both must agree.  A policy that parses never allows
 * a limit below 1x, and every error names its line.
 */
#include "fuzz.h"
#include "harness/offline/policy.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

static const struct pmb_target targets[] = {
	{ .kind = "memfd", .swapout = "pageout", .state = "swapped", .method = "batched", .shmem = 1,
	  .view = "second-mapper" },
	{ .kind = "private-anon", .swapout = "cgroup", .state = "holes", .method = "sparse" },
	{ .kind = "tmpfs", .swapout = "none", .state = "resident", .method = NULL, .shmem = 1 },
	{ .kind = "thp-shmem", .swapout = "pageout", .state = "swapped", .method = "uring", .shmem = 1,
	  .view = "fork-child" },
};

static void check_policy(const struct pmb_policy *p)
{
	char name[96];

	PMF_CHECK(p->nrules <= PMB_POLICY_MAX_RULES);
	PMF_CHECK(!p->has_threshold || (p->threshold_pct >= 0 && p->threshold_pct <= 10000));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pmb_rule *r = &p->rules[i];

		PMF_CHECK(!r->has_slowdown || r->noise || (r->max_ratio >= 1 && r->max_ratio <= 1000));
		PMF_CHECK(memchr(r->slowdown_text, '\0', sizeof(r->slowdown_text)));
		for (int s = 0; s < PMB_SEL_NR; s++)
			PMF_CHECK(memchr(r->sel[s], '\0', sizeof(r->sel[s])));
		pmb_corr_name(r->corr, name, sizeof(name));
	}
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		const struct pmb_rule *r = pmb_policy_slowdown(p, &targets[t]);

		/* a limit below 1x must never parse */
		PMF_CHECK(!r || r->noise || r->max_ratio >= 1);
		r = pmb_policy_correctness(p, &targets[t]);
		PMF_CHECK(!r || r->has_corr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pmb_policy p, q;
	struct pmf_part whole = { (const char *)data, size };
	char err[160], err2[160], path[4200];
	int ret, ret2;

	memset(&p, 0, sizeof(p));
	ret = pmb_policy_parse((const char *)data, size, &p, err, sizeof(err));
	if (!ret)
		check_policy(&p);
	else
		PMF_CHECK(ret == -EINVAL && !strncmp(err, "line ", 5));	/* every error names its line */

	/* The same text from a file, as gate --policy reads it. */
	if (size && size <= PMB_POLICY_MAX_BYTES && !memchr(data, '\0', size) && data[0] != '@') {
		pmf_put(pmf_scratch(path, sizeof(path), "policy"), &whole, PMB_POLICY_MAX_BYTES);
		memset(&q, 0, sizeof(q));
		ret2 = pmb_policy_load(path, &q, err2, sizeof(err2));
		PMF_CHECK(!unlink(path));
		PMF_CHECK(ret2 == ret);
		PMF_CHECK(ret ? !strcmp(err, err2) : !memcmp(&p, &q, sizeof(p)));
	}
	return 0;
}
