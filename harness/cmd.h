/* SPDX-License-Identifier: GPL-2.0 */
/* The pmbench subcommands.  Each returns an exit code (enum pmb_exit). */
#ifndef PMB_CMD_H
#define PMB_CMD_H

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

#endif
