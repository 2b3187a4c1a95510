/* SPDX-License-Identifier: GPL-2.0 */
/* A string -> index map (open addressing), so that readers stay linear in their input. */
#ifndef PMB_STRMAP_H
#define PMB_STRMAP_H

#include <stddef.h>

struct pmb_strmap {
	char **key;		/* owned copies */
	size_t *val;
	size_t cap, n;
};

/* The value of key, or (size_t)-1. */
size_t pmb_strmap_get(const struct pmb_strmap *m, const char *key);
/* Set key (copied) to val; 0 or -ENOMEM. */
int pmb_strmap_put(struct pmb_strmap *m, const char *key, size_t val);
void pmb_strmap_free(struct pmb_strmap *m);

#endif
