// SPDX-License-Identifier: GPL-2.0
#include "strmap.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	return pmb_fnv1a(PMB_FNV1A_INIT, s, strlen(s));
}

/* The slot of key, or the empty slot where it would go. */
static size_t slot(const struct pmb_strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->key[i] && strcmp(m->key[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

size_t pmb_strmap_get(const struct pmb_strmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return (size_t)-1;
	i = slot(m, key);
	return m->key[i] ? m->val[i] : (size_t)-1;
}

static int grow(struct pmb_strmap *m)
{
	struct pmb_strmap n = { .cap = m->cap ? m->cap * 2 : 64 };

	n.key = calloc(n.cap, sizeof(*n.key));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (!n.key || !n.val) {
		free(n.key);
		free(n.val);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->key[i]) {
			size_t j = slot(&n, m->key[i]);

			n.key[j] = m->key[i];
			n.val[j] = m->val[i];
			n.n++;
		}
	free(m->key);
	free(m->val);
	*m = n;
	return 0;
}

int pmb_strmap_put(struct pmb_strmap *m, const char *key, size_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	i = slot(m, key);
	if (!m->key[i]) {
		m->key[i] = strdup(key);
		if (!m->key[i])
			return -ENOMEM;
		m->n++;
	}
	m->val[i] = val;
	return 0;
}

void pmb_strmap_free(struct pmb_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->key[i]);
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}
