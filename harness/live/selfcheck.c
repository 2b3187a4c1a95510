// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench selfcheck: the harness's own overhead, proven rather than assumed.
 * A workload is built as a run builds it (no swap needed: a resident
 * region), stopped, and pmscan --selfcheck times dense, batched:1 and
 * batched:512 through the one timed hook against a bare loop of the same
 * preads, interleaved, in the same process layout as a run.
 */
#include "harness/cmd.h"
#include "proc.h"
#include "run.h"
#include "lib/opt.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct selfcheck_opts {
	const char *kind;
	uint64_t size;
	unsigned rounds, cpu;
};

#define OFF(f) offsetof(struct selfcheck_opts, f)
static const struct pmb_opt selfcheck_opts[] = {
	{ "kind", 0, PMB_OPT_STR, OFF(kind), "KIND", "memory kind of the region (default memfd)" },
	{ "size", 0, PMB_OPT_SIZE, OFF(size), "SIZE", "region size (default 64M)", .min = 1 << 20,
	  .max = UINT64_C(1) << 36 },
	{ "rounds", 0, PMB_OPT_UINT32, OFF(rounds), "N", "interleaved rounds per method (default 200)", .min = 5,
	  .max = 100000 },
	{ "cpu", 0, PMB_OPT_UINT32, OFF(cpu), "N", "CPU to pin the reader to (default: the last one)", .max = 4095 },
};
#undef OFF

const struct pmb_opt_spec pmb_selfcheck_spec = {
	.prog = "pmbench selfcheck", .args = "[options]",
	.about = "Time dense, batched:1 and batched:512 through pmscan's timed hook against a bare\n"
		 "loop of the same preads on the same stopped workload, interleaved; print the\n"
		 "ratio of medians (method/bare) with its bootstrap 95% CI, and the cost of one\n"
		 "clock read, which sparse pays per read and does not subtract.\n",
	.opts = selfcheck_opts, .nopts = sizeof(selfcheck_opts) / sizeof(selfcheck_opts[0]),
	.more = "exit: 0 done, 3 harness error, 64 usage, 77 cannot run here (needs root)\n",
};

int cmd_selfcheck(int argc, char **argv)
{
	struct selfcheck_opts o = { .kind = "memfd", .size = 64 << 20, .rounds = 200 };
	struct pmb_params p = { .layout = "random", .seed = 1 };
	struct pmb_case c = { .swapout = "none", .view = "self", .touch = "write", .dirty = 100 };
	struct pmb_workload w;
	char why[256] = "", exe[600], pid[16], addr[32], pages[24], cpu[16], rounds[16];
	char *av[] = { exe, "--pid", pid, "--addr", addr, "--pages", pages, "--cpu", cpu, "--rounds", rounds,
		       "--selfcheck", "--method", "dense", "--method", "batched:1", "--method", "batched:512",
		       NULL };
	unsigned npos;
	char *out;
	size_t len;
	int err, status;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	o.cpu = ncpu > 0 ? (unsigned)ncpu - 1 : 0;
	err = pmb_opt_parse(&pmb_selfcheck_spec, argc, argv, &o, NULL, &npos, NULL);
	if (err)
		return err == PMB_OPT_HELP ? PMB_EXIT_PASS : PMB_EXIT_USAGE;
	if (geteuid() != 0)
		return pmb_fail(PMB_EXIT_SKIP, "skip: needs root (frames in pagemap, like a run)");
	c.kind = o.kind;
	c.pages = o.size / (uint64_t)sysconf(_SC_PAGESIZE);
	snprintf(c.id, sizeof(c.id), "selfcheck-%s-p%" PRIu64, o.kind, c.pages);
	err = pmb_workload_start(&w, &p, &c, NULL, why, sizeof(why));
	if (err)
		return pmb_fail(err == -EOPNOTSUPP ? PMB_EXIT_SKIP : PMB_EXIT_ERROR, "selfcheck: %s", why);
	snprintf(exe, sizeof(exe), "%s/pmscan", pmb_bindir());
	snprintf(pid, sizeof(pid), "%d", (int)w.view_pid);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, w.view_addr);
	snprintf(pages, sizeof(pages), "%" PRIu64, c.pages);
	snprintf(cpu, sizeof(cpu), "%u", o.cpu);
	snprintf(rounds, sizeof(rounds), "%u", o.rounds);
	err = pmb_spawn_capture(av, &out, &len, &status);
	pmb_workload_stop(&w);
	if (err)
		return pmb_err(err, "selfcheck: pmscan"), PMB_EXIT_ERROR;
	fwrite(out, 1, len, stdout);
	free(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : PMB_EXIT_ERROR;
}
