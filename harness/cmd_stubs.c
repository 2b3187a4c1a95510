// SPDX-License-Identifier: GPL-2.0
/* Placeholders until the real subcommands land; a strong definition elsewhere wins. */
#include "cmd.h"
#include "util.h"

#define STUB(name) \
	__attribute__((weak)) int name(int argc, char **argv) \
	{ return pmb_err(PMB_EXIT_ERROR, "%s: not built in yet", #name) ? PMB_EXIT_ERROR : 0; }

STUB(cmd_run)
STUB(cmd_verify)
STUB(cmd_cleanup)
STUB(cmd_compare)
STUB(cmd_gate)
STUB(cmd_plot)
