// SPDX-License-Identifier: GPL-2.0
/*
 * The gate policy parser: known good and bad inputs, rule matching, and
 * thousands of seeded random mutations of valid policies (under ASan+UBSan
 * in `make asan`) that must never crash and always give a verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/offline/policy.h"
#include "lib/util.h"

#include "check.h"

static int parse(const char *s, struct pmb_policy *p, char *err)
{
	return pmb_policy_parse(s, strlen(s), p, err, 256);
}

static void test_default(void)
{
	struct pmb_policy p;
	struct pmb_target memfd_sw = { "memfd", "pageout", "swapped", "batched", 1, NULL };
	struct pmb_target priv = { "private-anon", "pageout", "swapped", "batched", 0, NULL };
	struct pmb_target holes = { "shared-anon", "none", "holes", NULL, 1, NULL };
	struct pmb_target mapper = { .kind = "memfd", .swapout = "pageout", .state = "swapped",
				     .shmem = 1, .view = "second-mapper" };
	struct pmb_target child = { .kind = "private-anon", .swapout = "pageout", .state = "swapped",
				    .shmem = 0, .view = "fork-child" };
	const struct pmb_rule *r;
	char err[256];

	CHECK(!parse(pmb_policy_default_text, &p, err), "default policy parses (%s)", err);
	CHECK(p.has_threshold && p.threshold_pct == 5, "default threshold is 5%%");
	r = pmb_policy_slowdown(&p, &memfd_sw);
	CHECK(r && !r->noise && r->max_ratio == 5, "swapped memfd may be 5x slower");
	r = pmb_policy_correctness(&p, &memfd_sw);
	CHECK(r && r->corr == (PMB_CORR_CORRECT | PMB_CORR_SWAPPED_REPORTED),
	      "swapped memfd must be correct and swapped-reported");
	r = pmb_policy_slowdown(&p, &priv);
	CHECK(r && r->noise, "private-anon: within noise");
	r = pmb_policy_slowdown(&p, &holes);
	CHECK(r && r->max_ratio == 5, "shmem holes: 5x");
	r = pmb_policy_correctness(&p, &mapper);
	CHECK(r && r->corr == PMB_CORR_NO_WORSE, "a second mapper of shmem (pte_hole) need only be no worse");
	r = pmb_policy_correctness(&p, &child);
	CHECK(r && r->corr == PMB_CORR_CORRECT, "a fork child of private memory must be correct");
}

static void test_errors(void)
{
	static const struct {
		const char *text, *needle;
	} bad[] = {
		{ "", "line 1: empty policy" },
		{ "# only a comment\n", "empty policy" },
		{ "pagemap-bench-policy 1\n", "no 'match' rule" },
		{ "pagemap-bench-policy 1\nthreshold 5\n", "line 2: '5' is not a percentage" },
		{ "pagemap-bench-policy 1\nthreshold 5%\nthreshold 6%\n", "line 3: threshold given twice" },
		{ "pagemap-bench-policy 1\nmatch * kind=memfd : max_slowdown=2x\n", "line 2: '*' cannot" },
		{ "pagemap-bench-policy 1\nmatch kind=memfd kind=x : max_slowdown=2x\n", "given twice" },
		{ "pagemap-bench-policy 1\nmatch : max_slowdown=2x\n", "no selector" },
		{ "pagemap-bench-policy 1\nmatch * :\n", "no setting" },
		{ "pagemap-bench-policy 1\nmatch * : max_slowdown=0.5x\n", "1x..1000x" },
		{ "pagemap-bench-policy 1\nmatch * : max_slowdown=1e3%\n", "not a percentage" },
		{ "pagemap-bench-policy 1\nmatch * : max_slowdown=nan%\n", "not a percentage" },
		{ "pagemap-bench-policy 1\nmatch * : correctness=any,correct\n", "cannot be combined" },
		{ "pagemap-bench-policy 1\nmatch * : correctness=correct,\n", "empty item" },
		{ "pagemap-bench-policy 1\nmatch method=sparse : correctness=correct\n", "per case" },
		{ "pagemap-bench-policy 1\nmatch group=files : max_slowdown=2x\n", "group 'files'" },
		{ "pagemap-bench-policy 1\nmatch state=wet : max_slowdown=2x\n", "state 'wet'" },
		{ "pagemap-bench-policy 1\nmatch kind=MemFD : max_slowdown=2x\n", "expected a name" },
		{ "pagemap-bench-policy 1\r\nmatch * : max_slowdown=2x\n", "line 1: carriage return" },
		{ "pagemap-bench-policy 1\nmatch * : max_slowdown=2x\nfrobnicate\n", "line 3: unknown directive" },
	};
	struct pmb_policy p;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].text, &p, err);

		CHECK(ret == -EINVAL && strstr(err, bad[i].needle) && !strncmp(err, "line ", 5),
		      "rejects bad policy %zu: \"%s\" (wanted \"%s\")", i, err, bad[i].needle);
	}
}

static void test_first_match(void)
{
	const char *text = "pagemap-bench-policy 1\n"
			   "match kind=memfd method=sparse : max_slowdown=10%   # sparse only\n"
			   "match group=shmem : max_slowdown=3x correctness=no-worse\n"
			   "match * : correctness=correct\n";
	struct pmb_target sparse = { "memfd", "pageout", "swapped", "sparse", 1, NULL };
	struct pmb_target dense = { "memfd", "pageout", "swapped", "dense", 1, NULL };
	struct pmb_target cas = { "memfd", "pageout", "swapped", NULL, 1, NULL };
	struct pmb_target priv = { "private-anon", "none", "holes", "dense", 0, NULL };
	struct pmb_policy p;
	char err[256];

	CHECK(!parse(text, &p, err), "three rules parse (%s)", err);
	CHECK(pmb_policy_slowdown(&p, &sparse)->max_ratio == 1.1, "method rule wins for sparse");
	CHECK(pmb_policy_slowdown(&p, &dense)->max_ratio == 3, "group rule for dense");
	CHECK(pmb_policy_correctness(&p, &cas)->corr == PMB_CORR_NO_WORSE,
	      "correctness of the case ignores the method rule");
	CHECK(!pmb_policy_slowdown(&p, &priv), "no slowdown rule: noise");
	CHECK(pmb_policy_correctness(&p, &priv)->corr == PMB_CORR_CORRECT, "catch-all correct");
}

/* Seeded random mutations of the valid policies: never a crash, always 0 or -EINVAL. */
static void test_mutations(void)
{
	static const char *const seeds[] = {
		pmb_policy_default_text,
		"pagemap-bench-policy 1\nthreshold 2.5%\nmatch kind=memfd method=dense swapout=cgroup "
		"state=holes : max_slowdown=150% \nmatch group=private : correctness=any\n",
	};
	static const char alphabet[] = "#:=*%x., \t\nmatchkindgroupstateshmem0123456789-\r\x01\x80";
	static char buf[PMB_POLICY_MAX_BYTES + 64];
	uint64_t rng = 42;
	size_t ok = 0, bad = 0, other = 0;
	unsigned iter;

	for (iter = 0; iter < 20000; iter++) {
		const char *s = seeds[iter % 2];
		size_t len = strlen(s), n, i;
		struct pmb_policy p;
		char err[128];
		int ret;

		memcpy(buf, s, len);
		n = 1 + pmb_rand_below(&rng, 8);
		for (i = 0; i < n; i++) {
			size_t pos = pmb_rand_below(&rng, len + 1);

			switch (pmb_rand_below(&rng, 4)) {
			case 0:		/* replace a byte */
				if (pos < len)
					buf[pos] = alphabet[pmb_rand_below(&rng, sizeof(alphabet) - 1)];
				break;
			case 1:		/* insert a byte */
				if (len + 1 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = alphabet[pmb_rand_below(&rng, sizeof(alphabet) - 1)];
					len++;
				}
				break;
			case 2:		/* delete a run */
				if (pos < len) {
					size_t k = 1 + pmb_rand_below(&rng, 16);

					k = k > len - pos ? len - pos : k;
					memmove(buf + pos, buf + pos + k, len - pos - k);
					len -= k;
				}
				break;
			default:	/* duplicate a run */
				if (pos < len && len + 64 < sizeof(buf)) {
					size_t k = 1 + pmb_rand_below(&rng, 64);

					k = k > len - pos ? len - pos : k;
					memmove(buf + pos + k, buf + pos, len - pos);
					len += k;
				}
			}
		}
		/* Not NUL-terminated on purpose: the parser must respect len. */
		ret = pmb_policy_parse(buf, len, &p, err, iter % 7 ? sizeof(err) : 9);
		if (!ret)
			ok++;
		else if (ret == -EINVAL)
			bad++;
		else
			other++;
	}
	CHECK(!other && ok && bad, "20000 mutated policies: %zu accepted, %zu rejected, %zu other",
	      ok, bad, other);
}

int main(void)
{
	test_default();
	test_errors();
	test_first_match();
	test_mutations();
	return check_done();
}
