/* SPDX-License-Identifier: GPL-2.0 */
/* The pmbench subcommands.  Each returns an exit code (enum pmb_exit). */
#ifndef PMB_CMD_H
#define PMB_CMD_H

#include "lib/opt.h"

int cmd_run(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);

/* Their option tables: --help and the man page (pmbench man) are printed from them. */
extern const struct pmb_opt_spec pmb_run_spec, pmb_verify_spec, pmb_compare_spec, pmb_gate_spec,
	pmb_merge_spec, pmb_plot_spec, pmb_catalog_spec, pmb_selfcheck_spec, pmb_cleanup_spec,
	pmb_model_spec;

#endif
