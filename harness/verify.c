// SPDX-License-Identifier: GPL-2.0
/*
 * The correctness verdict of a case: what pagemap reports against what the
 * oracle says, and whether every reported swap slot really holds its page.
 */
#include "run.h"
#include "pattern.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slot {
	uint64_t key;		/* type << 56 | offset */
	uint64_t index;
};

static int cmp_slot(const void *a, const void *b)
{
	uint64_t x = ((const struct slot *)a)->key, y = ((const struct slot *)b)->key;

	return (x > y) - (x < y);
}

int pmb_smaps_swap_kb(pid_t pid, uint64_t addr, uint64_t *kb)
{
	char path[64], line[512];
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, v;

		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = lo == addr;
			continue;
		}
		if (in && sscanf(line, "Swap: %llu kB", &v) == 1) {
			*kb = v;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* Read one slot of a swap device; -errno when it cannot be read at all. */
static int read_slot(int *fd, const char *path, uint64_t off, void *buf, long psz)
{
	ssize_t n;

	if (*fd == -1) {
		*fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (*fd < 0)
			*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0) {
			*fd = -2;
			return -errno;
		}
	}
	if (*fd < 0)
		return -EBADF;
	n = pmb_pread_full(*fd, buf, (size_t)psz, (off_t)(off * (uint64_t)psz));
	if (n < 0)
		return (int)n;
	return n == psz ? 0 : -EIO;
}

static void check_content(struct pmb_case *c, struct slot *s, size_t n, const struct pmb_swap *sw,
			  uint64_t seed, long psz)
{
	int fds[PMB_MAX_SWAPS];
	void *buf;
	size_t i;

	if (posix_memalign(&buf, (size_t)psz, (size_t)psz)) {
		c->content_unchecked += n;
		return;
	}
	for (i = 0; i < PMB_MAX_SWAPS; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		unsigned type = (unsigned)(s[i].key >> 56);
		const struct pmb_swapdev *d = pmb_swap_by_type(sw, type);
		uint64_t found;

		if (!d || type >= PMB_MAX_SWAPS ||
		    read_slot(&fds[type], d->path, s[i].key & ((UINT64_C(1) << 56) - 1), buf, psz)) {
			c->content_unchecked++;
			continue;
		}
		if (pmb_pattern_check(buf, (size_t)psz, seed, s[i].index, &found) == 0)
			c->content_ok++;
		else
			c->content_bad++;
	}
	for (i = 0; i < PMB_MAX_SWAPS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(buf);
}

static void explain(struct pmb_case *c)
{
	size_t len = 0;
	int t, r;

	c->reason[0] = '\0';
	for (t = 0; t < PMS_NR; t++)
		for (r = 0; r < PMS_NR; r++)
			if (t != r && c->cm[t][r] && len < sizeof(c->reason))
				len += (size_t)snprintf(c->reason + len, sizeof(c->reason) - len,
						"%s%" PRIu64 " %s pages reported as %s", len ? "; " : "",
						c->cm[t][r], pm_state_name(t), pm_state_name(r));
#define SAY(field, what) \
	if (c->field && len < sizeof(c->reason)) \
		len += (size_t)snprintf(c->reason + len, sizeof(c->reason) - len, "%s%" PRIu64 " " what, \
					len ? "; " : "", c->field)
	SAY(bad_type, "swap entries name no active swap device");
	SAY(bad_offset, "swap offsets outside their device");
	SAY(dup, "swap slots claimed by more than one page");
	SAY(content_bad, "swap slots do not hold the page");
#undef SAY
}

int pmb_judge(struct pmb_case *c, const struct pmb_workload *w, const uint8_t *truth,
	      struct pmb_swap *sw, uint64_t seed, bool content)
{
	size_t bytes = w->pages * PM_ENTRY_BYTES, nslots = 0, i;
	long psz = w->page_size;
	struct slot *slots;
	uint64_t *pm;
	char path[64];
	ssize_t n;
	int fd, err = 0;

	memset(c->truth, 0, sizeof(c->truth));
	memset(c->cm, 0, sizeof(c->cm));
	c->bad_type = c->bad_offset = c->dup = c->content_ok = c->content_bad = c->content_unchecked = 0;
	pm = malloc(bytes);
	slots = malloc(w->pages * sizeof(*slots));
	if (!pm || !slots) {
		free(pm);
		free(slots);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)w->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	n = pmb_pread_full(fd, pm, bytes, (off_t)(w->addr / (uint64_t)psz * PM_ENTRY_BYTES));
	close(fd);
	if (n < 0 || (size_t)n != bytes) {
		err = n < 0 ? (int)n : -EIO;
		goto out;
	}
	pmb_swap_refresh(sw);
	for (i = 0; i < w->pages; i++) {
		enum pm_state t = truth[i] < PMS_NR ? truth[i] : PMS_NONE;
		enum pm_state r = pm_state_of(pm[i]);
		const struct pmb_swapdev *d;

		c->truth[t]++;
		c->cm[t][r]++;
		if (r != PMS_SWAPPED)
			continue;
		d = pmb_swap_by_type(sw, pm_swap_type(pm[i]));
		if (!d)
			c->bad_type++;
		else if (pm_swap_offset(pm[i]) == 0 || pm_swap_offset(pm[i]) >= d->pages)
			c->bad_offset++;
		else
			slots[nslots++] = (struct slot){
				.key = (uint64_t)pm_swap_type(pm[i]) << 56 | pm_swap_offset(pm[i]),
				.index = i,
			};
	}
	qsort(slots, nslots, sizeof(*slots), cmp_slot);
	for (i = 1; i < nslots; i++)
		if (slots[i].key == slots[i - 1].key)
			c->dup++;
	if (content)
		check_content(c, slots, nslots, sw, seed, psz);
	else
		c->content_unchecked = nslots;
	c->oracle_swap_kb = c->truth[PMS_SWAPPED] * (uint64_t)psz / 1024;
	if (pmb_smaps_swap_kb(w->pid, w->addr, &c->smaps_swap_kb) < 0)
		c->smaps_swap_kb = UINT64_MAX;
	explain(c);
	if (c->reason[0]) {
		strcpy(c->verdict, "incorrect");
	} else if (c->smaps_swap_kb != c->oracle_swap_kb) {
		strcpy(c->verdict, "error");
		snprintf(c->reason, sizeof(c->reason), "oracle disagrees with smaps: %" PRIu64
			 " kB swapped by mincore/SEEK_DATA, %" PRIu64 " kB by smaps Swap",
			 c->oracle_swap_kb, c->smaps_swap_kb);
	} else {
		strcpy(c->verdict, "correct");
	}
out:
	free(pm);
	free(slots);
	return err;
}

void pmb_ktap_case(FILE *f, unsigned n, const struct pmb_case *c)
{
	static const char *const s[] = { "none", "present", "swapped" };

	if (!strcmp(c->verdict, "skip") || !strcmp(c->verdict, "oom")) {
		fprintf(f, "ok %u %s # SKIP %s%s\n", n, c->id, !strcmp(c->verdict, "oom") ? "oom: " : "",
			c->reason);
		return;
	}
	if (strcmp(c->verdict, "error")) {
		fprintf(f, "# %s: truth none=%" PRIu64 " present=%" PRIu64 " swapped=%" PRIu64 "\n", c->id,
			c->truth[0], c->truth[1], c->truth[2]);
		for (int t = 0; t < PMS_NR; t++)
			fprintf(f, "# %s: true %s reported as none=%" PRIu64 " present=%" PRIu64
				" swapped=%" PRIu64 "\n", c->id, s[t], c->cm[t][0], c->cm[t][1], c->cm[t][2]);
		fprintf(f, "# %s: swap entries bad_type=%" PRIu64 " bad_offset=%" PRIu64 " dup=%" PRIu64
			" content_ok=%" PRIu64 " content_bad=%" PRIu64 " unchecked=%" PRIu64 "\n", c->id,
			c->bad_type, c->bad_offset, c->dup, c->content_ok, c->content_bad, c->content_unchecked);
	}
	if (c->reason[0])
		fprintf(f, "# %s: %s\n", c->id, c->reason);
	fprintf(f, "%s %u %s\n", !strcmp(c->verdict, "correct") ? "ok" : "not ok", n, c->id);
}
