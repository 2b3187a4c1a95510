/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output directories: always new, files created exclusively and never
 * through a symbolic link, and removed whole when writing them failed, so
 * that no input can steer a write elsewhere and nothing half-written stays.
 */
#ifndef PMB_OUTDIR_H
#define PMB_OUTDIR_H

#include <stddef.h>
#include <stdio.h>

/* Make a new directory: path, else path-2, path-3...; the name made goes into out. */
int pmb_mkdir_new(const char *path, char *out, size_t len);
/* dir/name, created (O_EXCL|O_NOFOLLOW); NULL after one line on stderr. */
FILE *pmb_out_create(const char *dir, const char *name);
/* Close what pmb_out_create opened, checking every write; 0 or -EIO (printed). */
int pmb_out_close(FILE *f, const char *dir, const char *name);
/* Remove dir and the files (and one level of subdirectories) in it; links are removed, not followed. */
void pmb_out_remove(const char *dir);

#endif
