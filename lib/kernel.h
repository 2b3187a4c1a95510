/* SPDX-License-Identifier: GPL-2.0 */
/* Facts about the running kernel that change what a correct pagemap shows: detected, never assumed. */
#ifndef PMB_KERNEL_H
#define PMB_KERNEL_H

/*
 * Does a read fault on private anonymous memory map the shared zero page?
 * 1 yes, 0 no (the kernel gives each such page a frame of its own, e.g. a
 * host booted with pvm_no_zero_page=1), or -errno when it cannot be told.
 * Two pages are read-faulted and their pagemap entries compared: the zero
 * page is one frame for both and never mapped exclusively.
 */
int pmb_read_fault_zero_page(void);

#endif
