// SPDX-License-Identifier: GPL-2.0
#include "wire.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pmb_col scan_cols[] = {
	[PMB_SCAN_METHOD] = { "method" }, [PMB_SCAN_BATCH] = { "batch" }, [PMB_SCAN_QD] = { "qd" },
	[PMB_SCAN_ROUND] = { "round" }, [PMB_SCAN_WARMUP] = { "warmup" }, [PMB_SCAN_ENTRIES] = { "entries" },
	[PMB_SCAN_READS] = { "reads" }, [PMB_SCAN_NS] = { "ns" }, [PMB_SCAN_PMD_POS] = { "pmd_pos" },
};
const struct pmb_table pmb_scan_table = { "pmscan", 1, scan_cols, PMB_SCAN_NCOLS };

/* One key=value of a line: the value of key as a number. */
struct kv {
	const char *key;
	uint64_t *val;
	bool hex, seen;
};

static int parse_number(const char *s, size_t len, bool hex, uint64_t *out)
{
	char tmp[32], *end;

	if (!len || len >= sizeof(tmp))
		return -EPROTO;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (hex) {
		if (strncmp(tmp, "0x", 2) || !tmp[2])
			return -EPROTO;
		errno = 0;
		*out = strtoull(tmp + 2, &end, 16);
		return errno || *end || tmp[2] == '-' || tmp[2] == '+' || tmp[2] == ' ' ? -EPROTO : 0;
	}
	return pmb_parse_u64(tmp, 0, UINT64_MAX, out) ? -EPROTO : 0;
}

/*
 * "VERB k=v k=v ...": every token after the verb is key=value, every key in
 * kv[] appears once with a number; other keys are handed to extra (may be
 * NULL: passed over).
 */
static int parse_line(const char *line, const char *verb, struct kv *kv, size_t n,
		      int (*extra)(void *ctx, const char *key, size_t klen, const char *v, size_t vlen),
		      void *ctx)
{
	size_t vl = strlen(verb);
	const char *p = line;

	if (strncmp(p, verb, vl) || (p[vl] != ' ' && p[vl] != '\0'))
		return -EPROTO;
	p += vl;
	while (*p) {
		const char *tok, *eq;
		size_t tl, i;

		if (*p++ != ' ' || !*p || *p == ' ')
			return -EPROTO;
		tok = p;
		tl = strcspn(tok, " ");
		p = tok + tl;
		eq = memchr(tok, '=', tl);
		if (!eq || eq == tok)
			return -EPROTO;
		for (i = 0; i < n; i++)
			if (strlen(kv[i].key) == (size_t)(eq - tok) && !strncmp(kv[i].key, tok, (size_t)(eq - tok)))
				break;
		if (i == n) {
			if (extra && extra(ctx, tok, (size_t)(eq - tok), eq + 1, tl - (size_t)(eq - tok) - 1))
				return -EPROTO;
			continue;
		}
		if (kv[i].seen || parse_number(eq + 1, tl - (size_t)(eq - tok) - 1, kv[i].hex, kv[i].val))
			return -EPROTO;
		kv[i].seen = true;
	}
	for (size_t i = 0; i < n; i++)
		if (!kv[i].seen)
			return -EPROTO;
	return 0;
}

static int fit(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int pmb_wire_ready_format(char *buf, size_t len, const struct pmb_ready *r)
{
	size_t used = (size_t)snprintf(buf, len, "READY");

#define X(name, hex) \
	if (used < len) \
		used += (size_t)snprintf(buf + used, len - used, hex ? " %s=0x%" PRIx64 : " %s=%" PRIu64, \
					 #name, r->name);
	PMB_READY_KEYS(X)
#undef X
	if (r->touch_read && used < len)
		used += (size_t)snprintf(buf + used, len - used, " touch=read");
	return used < len ? 0 : -ENOSPC;
}

static int ready_extra(void *ctx, const char *key, size_t klen, const char *v, size_t vlen)
{
	struct pmb_ready *r = ctx;

	if (klen != 5 || strncmp(key, "touch", 5))
		return 0;
	if (vlen == 4 && !strncmp(v, "read", 4))
		r->touch_read = true;
	else if (vlen != 5 || strncmp(v, "write", 5))
		return -EPROTO;
	return 0;
}

int pmb_wire_ready_parse(const char *line, struct pmb_ready *r)
{
	struct kv kv[] = {
#define X(name, hex) { #name, &r->name, hex, false },
		PMB_READY_KEYS(X)
#undef X
	};

	memset(r, 0, sizeof(*r));
	return parse_line(line, "READY", kv, sizeof(kv) / sizeof(kv[0]), ready_extra, r);
}

int pmb_wire_state_format(char *buf, size_t len, const uint64_t counts[PMS_TRUTHS])
{
	return fit(snprintf(buf, len, "STATE none=%" PRIu64 " present=%" PRIu64 " swapped=%" PRIu64
			    " unmapped=%" PRIu64, counts[PMS_NONE], counts[PMS_PRESENT], counts[PMS_SWAPPED],
			    counts[PMS_UNMAPPED]), len);
}

int pmb_wire_state_parse(const char *line, uint64_t counts[PMS_TRUTHS])
{
	struct kv kv[] = {
		{ "none", &counts[PMS_NONE] }, { "present", &counts[PMS_PRESENT] },
		{ "swapped", &counts[PMS_SWAPPED] }, { "unmapped", &counts[PMS_UNMAPPED] },
	};

	return parse_line(line, "STATE", kv, 4, NULL, NULL);
}

int pmb_wire_swapin_format(char *buf, size_t len, uint64_t pages, uint64_t ns)
{
	return fit(snprintf(buf, len, "SWAPIN pages=%" PRIu64 " ns=%" PRIu64, pages, ns), len);
}

int pmb_wire_swapin_parse(const char *line, uint64_t *pages, uint64_t *ns)
{
	struct kv kv[] = { { "pages", pages }, { "ns", ns } };

	return parse_line(line, "SWAPIN", kv, 2, NULL, NULL);
}
