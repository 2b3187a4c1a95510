// SPDX-License-Identifier: GPL-2.0
/* The catalog's tables, expanded from catalog.def. */
#include "catalog.h"

#include <string.h>

const struct pmb_method_info pmb_methods[PMB_NR_METHODS] = {
#define PMB_METHOD(id, n, a, c, t, o, d) \
	[PMB_METHOD_##id] = { .name = n, .desc = d, .args = a, .compare = c, .traits = t, .order = o },
#define PMB_METRIC(id, n, o, d) \
	[PMB_METHOD_##id] = { .name = n, .desc = d, .compare = PMB_CMP_NONE, .traits = PMB_M_METRIC, .order = o },
#include "catalog/catalog.def"
};

const struct pmb_kind_info pmb_kinds[PMB_NR_KINDS] = {
#define PMB_KIND(id, n, b, t, d) [PMB_KIND_##id] = { .name = n, .desc = d, .backing = b, .traits = t },
#include "catalog/catalog.def"
};

const char *const pmb_swapouts[] = { "pageout", "cgroup", "none", NULL };
const char *const pmb_views[] = { "self", "second-mapper", "fork-child", NULL };
const char *const pmb_touches[] = { "write", "read", NULL };
const char *const pmb_layouts[] = { "contiguous", "strided", "random", NULL };

const struct pmb_method_info *pmb_method_findn(const char *name, size_t len)
{
	for (size_t i = 0; i < PMB_NR_METHODS; i++)
		if (strlen(pmb_methods[i].name) == len && !strncmp(pmb_methods[i].name, name, len))
			return &pmb_methods[i];
	return NULL;
}

const struct pmb_method_info *pmb_method_find(const char *name)
{
	return pmb_method_findn(name, strlen(name));
}

const struct pmb_kind_info *pmb_kind_find(const char *name)
{
	for (size_t i = 0; i < PMB_NR_KINDS; i++)
		if (!strcmp(pmb_kinds[i].name, name))
			return &pmb_kinds[i];
	return NULL;
}

bool pmb_kind_is_shmem(const char *kind)
{
	const struct pmb_kind_info *k = pmb_kind_find(kind);

	return k && k->backing == PMB_BACKING_SHMEM;
}

int pmb_method_order(const char *method)
{
	const struct pmb_method_info *m = pmb_method_find(method);

	return m ? m->order : 1000;
}

void pmb_methods_in_order(const struct pmb_method_info **out)
{
	for (size_t i = 0; i < PMB_NR_METHODS; i++) {
		size_t j = i;

		/* Insertion sort: a handful of rows. */
		for (; j > 0 && out[j - 1]->order > pmb_methods[i].order; j--)
			out[j] = out[j - 1];
		out[j] = &pmb_methods[i];
	}
}

int pmb_word_index(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}
