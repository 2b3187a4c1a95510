// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench: the harness.  It orchestrates workloads (pmwork) and readers
 * (pmscan), judges correctness and keeps results; it never times anything
 * itself.
 */
#include "cmd.h"
#include "catalog/catalog.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

static int cmd_man(int argc, char **argv);

static const struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct pmb_opt_spec *spec;	/* NULL: the subcommand prints its own help */
	const char *desc;
} subcmds[] = {
	{ "catalog", cmd_catalog, &pmb_catalog_spec, "the catalog of methods and kinds with their traits (TSV)" },
	{ "cleanup", cmd_cleanup, &pmb_cleanup_spec, "remove what an earlier, killed run left behind" },
	{ "compare", cmd_compare, &pmb_compare_spec, "compare two result directories" },
	{ "gate", cmd_gate, &pmb_gate_spec, "gate a candidate run against a baseline" },
	{ "man", cmd_man, NULL, "print the pmbench(1) man page, made from the same tables as --help" },
	{ "merge", cmd_merge, &pmb_merge_spec, "merge runs of one kernel (e.g. the two boots of an ABBA order)" },
	{ "model", cmd_model, &pmb_model_spec, "fit the pagemap cost model (per syscall, entry walked, none entry)" },
	{ "plot", cmd_plot, &pmb_plot_spec, "render the plots of a run or comparison directory" },
	{ "run", cmd_run, &pmb_run_spec, "run the matrix (default)" },
	{ "selfcheck", cmd_selfcheck, &pmb_selfcheck_spec,
	  "the harness's own overhead: the timed hook against a bare pread loop" },
	{ "verify", cmd_verify, &pmb_verify_spec, "correctness only, KTAP on stdout" },
};
#define NR_SUBCMDS (sizeof(subcmds) / sizeof(subcmds[0]))

static const char exit_codes[] =
	"exit codes: 0 pass, 1 performance regression, 2 incorrect kernel behaviour,\n"
	"            3 harness error, 4 inconclusive, 64 usage error, 77 cannot run here (skip),\n"
	"            128+N interrupted by signal N\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: pmbench <subcommand> [options]   (pmbench <subcommand> --help)\n\n");
	for (size_t i = 0; i < NR_SUBCMDS; i++)
		fprintf(f, "  %-9s %s\n", subcmds[i].name, subcmds[i].desc);
	fprintf(f, "\n%s", exit_codes);
}

/* pmbench(1): the same rows --help prints, as roff. */
static int cmd_man(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return pmb_fail(PMB_EXIT_USAGE, "man takes no arguments");
	printf(".TH PMBENCH 1 \"\" \"pagemap-bench\" \"User Commands\"\n"
	       ".SH NAME\npmbench \\- benchmark and regression harness for /proc/PID/pagemap on "
	       "shared memory under swap\n.SH SYNOPSIS\n.B pmbench\n\\fISUBCOMMAND\\fR [options]\n"
	       ".SH DESCRIPTION\n.nf\n");
	for (size_t i = 0; i < NR_SUBCMDS; i++)
		printf("%-9s %s\n", subcmds[i].name, subcmds[i].desc);
	printf(".fi\n.SH SUBCOMMANDS\n");
	for (size_t i = 0; i < NR_SUBCMDS; i++) {
		if (subcmds[i].spec)
			pmb_opt_man(subcmds[i].spec, stdout);
		else
			printf(".SS \"pmbench %s\"\n%s: see\n.B pmbench %s \\-\\-help\n", subcmds[i].name,
			       subcmds[i].desc, subcmds[i].name);
	}
	/* The catalog: what --methods and --kinds take, as pmscan and pmwork --list give it. */
	printf(".SH METHODS\n");
	for (size_t i = 0; i < PMB_NR_METHODS; i++)
		printf(".TP\n.B %s\n%s\n", pmb_methods[i].name, pmb_methods[i].desc);
	printf(".SH MEMORY KINDS\n");
	for (size_t i = 0; i < PMB_NR_KINDS; i++)
		printf(".TP\n.B %s\n%s\n", pmb_kinds[i].name, pmb_kinds[i].desc);
	printf(".SH EXIT STATUS\n.nf\n%s.fi\n.SH SEE ALSO\nREADME.md and docs/ in the source tree.\n",
	       exit_codes);
	return fflush(stdout) ? PMB_EXIT_ERROR : PMB_EXIT_PASS;
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
	for (i = 0; i < NR_SUBCMDS; i++)
		if (!strcmp(argv[1], subcmds[i].name))
			return subcmds[i].fn(argc - 1, argv + 1);
	pmb_err(0, "unknown subcommand '%s' (try --help)", argv[1]);
	return PMB_EXIT_USAGE;
}
