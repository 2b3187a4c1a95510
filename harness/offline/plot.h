/* SPDX-License-Identifier: GPL-2.0 */
/* pmbench plot: gnuplot renders of a run or comparison directory. */
#ifndef PMB_PLOT_H
#define PMB_PLOT_H

/* Render DIR/plots (an exit code); quiet_skip: a missing gnuplot is a warning, not an error. */
int pmb_plot_dir(const char *dir, int quiet_skip);

#endif
