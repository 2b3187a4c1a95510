// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench: the harness.  It orchestrates workloads (pmwork) and readers
 * (pmscan), judges correctness and keeps results; it never times anything
 * itself.
 */
#include "cmd.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

static const struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} subcmds[] = {
	{ "catalog", cmd_catalog, "the catalog of methods and kinds with their traits (TSV)" },
	{ "cleanup", cmd_cleanup, "remove what an earlier, killed run left behind" },
	{ "compare", cmd_compare, "compare two result directories" },
	{ "gate", cmd_gate, "gate a candidate run against a baseline" },
	{ "merge", cmd_merge, "merge runs of one kernel (e.g. the two boots of an ABBA order)" },
	{ "model", cmd_model, "fit the pagemap cost model (per syscall, entry walked, none entry)" },
	{ "plot", cmd_plot, "render the plots of a run or comparison directory" },
	{ "run", cmd_run, "run the matrix (default)" },
	{ "selfcheck", cmd_selfcheck, "the harness's own overhead: the timed hook against a bare pread loop" },
	{ "verify", cmd_verify, "correctness only, KTAP on stdout" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: pmbench <subcommand> [options]   (pmbench <subcommand> --help)\n\n");
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(f, "  %-8s %s\n", subcmds[i].name, subcmds[i].desc);
	fprintf(f, "\nexit codes: 0 pass, 1 performance regression, 2 incorrect kernel behaviour,\n"
		   "            3 harness error, 64 usage error, 77 cannot run here (skip)\n");
}

int main(int argc, char **argv)
{
	size_t i;

	pmb_prog = "pmbench";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return PMB_EXIT_PASS;
		}
		if (argc < 2)
			return cmd_run(argc, argv);
		/* Options without a subcommand belong to `run`. */
		return cmd_run(argc, argv);
	}
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (!strcmp(argv[1], subcmds[i].name))
			return subcmds[i].fn(argc - 1, argv + 1);
	pmb_err(0, "unknown subcommand '%s' (try --help)", argv[1]);
	return PMB_EXIT_USAGE;
}
