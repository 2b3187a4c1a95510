// SPDX-License-Identifier: GPL-2.0
/*
 * The correctness verdict of a case: what pagemap reports against what the
 * oracle says, and whether every reported swap slot really holds its page.
 */
#include "judge.h"
#include "lib/pattern.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pmb_slotmap_init(struct pmb_slotmap *m, const struct pmb_swap *sw, long psz)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < PMB_MAX_SWAPS; i++)
		m->fd[i] = -1;
	for (unsigned i = 0; i < sw->ndevs; i++) {
		const struct pmb_swapdev *d = &sw->devs[i];

		m->bits[i] = calloc(d->pages / 64 + 1, sizeof(uint64_t));
		if (!m->bits[i])
			return -ENOMEM;
	}
	return posix_memalign(&m->page, (size_t)psz, (size_t)psz) ? -ENOMEM : 0;
}

void pmb_slotmap_free(struct pmb_slotmap *m)
{
	for (unsigned i = 0; i < PMB_MAX_SWAPS; i++) {
		free(m->bits[i]);
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	}
	free(m->page);
}

/* Claim a slot of device dev; false when another page already had it. */
static bool slot_claim(struct pmb_slotmap *m, unsigned dev, uint64_t off)
{
	uint64_t bit = UINT64_C(1) << (off % 64), *w = &m->bits[dev][off / 64];
	bool fresh = !(*w & bit);

	*w |= bit;
	return fresh;
}

int pmb_smaps_swap_kb(pid_t pid, uint64_t addr, uint64_t *kb)
{
	return pmb_smaps_kb(pid, addr, "Swap:", kb);
}

int pmb_smaps_kb(pid_t pid, uint64_t addr, const char *field, uint64_t *kb)
{
	char path[64], line[512];
	size_t flen = strlen(field);
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
		if (in && !strncmp(line, field, flen) && sscanf(line + flen, " %llu kB", &v) == 1) {
			*kb = v;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* 0 when slot off of device dev holds page index's pattern, -EBADMSG when not, else -errno. */
static int read_slot(struct pmb_slotmap *m, const struct pmb_swap *sw, unsigned dev, uint64_t off,
		     uint64_t index, uint64_t seed, long psz)
{
	int *fd = &m->fd[dev];
	ssize_t n;

	if (*fd == -1) {
		*fd = open(sw->devs[dev].path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (*fd < 0)
			*fd = open(sw->devs[dev].path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			*fd = -2;
	}
	if (*fd < 0 || off > sw->devs[dev].pages)
		return -EBADF;
	n = pmb_pread_full(*fd, m->page, (size_t)psz, (off_t)(off * (uint64_t)psz));
	if (n != psz)
		return n < 0 ? (int)n : -EIO;
	return pmb_pattern_check(m->page, (size_t)psz, seed, index, NULL);
}

/*
 * The first swap entry of a type whose device is not proven yet: find the
 * device whose slot holds this page, and so learn which device the type is.
 */
static void prove_type(struct pmb_swap *sw, struct pmb_slotmap *m, unsigned type, uint64_t off,
		       uint64_t index, uint64_t seed, long psz)
{
	if (type >= PMB_MAX_SWAPS || sw->tried[type])
		return;
	sw->tried[type] = true;
	for (unsigned k = 0; k < sw->ndevs; k++)
		if (read_slot(m, sw, k, off, index, seed, psz) == 0) {
			pmb_swap_prove(sw, k, type);
			return;
		}
}

/* The backing a kind's pages go to: what an unmapped page of it reads as. */
static enum pmb_backing backing_of(const struct pmb_case *c)
{
	const struct pmb_kind_info *k = pmb_kind_find(c->kind);

	return k ? k->backing : PMB_BACKING_SHMEM;
}

static void explain(struct pmb_case *c)
{
	enum pmb_backing b = backing_of(c);
	size_t len = 0;
	int t, r;

	c->reason[0] = '\0';
	for (t = 0; t < PMS_TRUTHS; t++)
		for (r = 0; r < PMS_NR; r++)
			if (!pmb_report_ok(t, r, b) && c->cm[t][r] && len < sizeof(c->reason))
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

void pmb_judge_entries(struct pmb_case *c, struct pmb_slotmap *m, struct pmb_swap *sw,
		       const uint8_t *truth, const uint64_t *pm, uint64_t n, uint64_t first,
		       uint64_t seed, long psz, bool content)
{
	for (uint64_t j = 0; j < n; j++) {
		uint64_t e = pm[j], off = pm_swap_offset(e);
		enum pm_state t = truth[j] < PMS_TRUTHS ? truth[j] : PMS_NONE;
		enum pm_state r = pm_state_of(e);
		const struct pmb_swapdev *d;

		c->truth[t]++;
		c->cm[t][r]++;
		if (r != PMS_SWAPPED)
			continue;
		if (content)
			prove_type(sw, m, pm_swap_type(e), off, first + j, seed, psz);
		d = pmb_swap_by_type(sw, pm_swap_type(e));
		if (!d)
			c->bad_type++;
		else if (off == 0 || off > d->pages)	/* slot 0 is the header; 1..pages are usable */
			c->bad_offset++;
		else if (!slot_claim(m, (unsigned)(d - sw->devs), off))
			c->dup++;
		else if (!content)
			c->content_unchecked++;
		else
			switch (read_slot(m, sw, (unsigned)(d - sw->devs), off, first + j, seed, psz)) {
			case 0: c->content_ok++; break;
			case -EBADMSG: c->content_bad++; break;
			default: c->content_unchecked++; break;
			}
	}
}

/*
 * Reclaim may unmap pages the oracle still believes mapped (it knows which
 * pages it paged out itself, not what the kernel did on its own: kswapd, or
 * a large folio's neighbours).  Such a page is resident but unmapped, and a
 * correct pagemap reads it as what an unmapped page of its backing reads as.
 * smaps' Rss, the same kernel's count of the mapped pages from a walk of its
 * own, decides: when pagemap's present pages are exactly as many as Rss, the
 * "present" pages it reported otherwise are unmapped ones, and are judged as
 * such.  A pagemap that loses a mapped page reports fewer present pages
 * than Rss, and stays incorrect.
 */
static void unmapped_behind(struct pmb_case *c, const struct pmb_workload *w, enum pmb_backing b,
			    long psz)
{
	uint64_t rss_kb, reported_present = 0, moved = 0;

	for (int t = 0; t < PMS_TRUTHS; t++)
		reported_present += c->cm[t][PMS_PRESENT];
	for (int r = 0; r < PMS_NR; r++)
		if (r != PMS_PRESENT && pmb_report_ok(PMS_UNMAPPED, r, b))
			moved += c->cm[PMS_PRESENT][r];
	if (!moved || pmb_smaps_kb(w->view_pid, w->view_addr, "Rss:", &rss_kb) < 0 ||
	    rss_kb * 1024 / (uint64_t)psz != reported_present)
		return;
	for (int r = 0; r < PMS_NR; r++)
		if (r != PMS_PRESENT && pmb_report_ok(PMS_UNMAPPED, r, b)) {
			c->cm[PMS_UNMAPPED][r] += c->cm[PMS_PRESENT][r];
			c->cm[PMS_PRESENT][r] = 0;
		}
	c->truth[PMS_PRESENT] -= moved;
	c->truth[PMS_UNMAPPED] += moved;
	c->unmapped_behind = moved;
}

#define JUDGE_CHUNK 65536	/* entries read at once: the judge's memory stays small for any region */

int pmb_judge(struct pmb_case *c, const struct pmb_workload *w, const uint8_t *truth,
	      struct pmb_swap *sw, uint64_t seed, bool content)
{
	long psz = w->page_size;
	off_t base = (off_t)(w->view_addr / (uint64_t)psz * PM_ENTRY_BYTES);
	struct pmb_slotmap m;
	uint64_t *pm;
	char path[64];
	int fd, err;

	memset(c->truth, 0, sizeof(c->truth));
	memset(c->cm, 0, sizeof(c->cm));
	c->bad_type = c->bad_offset = c->dup = c->content_ok = c->content_bad = c->content_unchecked = 0;
	c->unmapped_behind = 0;
	pmb_swap_refresh(sw);
	pm = malloc(JUDGE_CHUNK * PM_ENTRY_BYTES);
	err = pmb_slotmap_init(&m, sw, psz);
	if (!pm || err) {
		free(pm);
		pmb_slotmap_free(&m);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)w->view_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (w->touched_read)	/* read-faulted pages carry no pattern */
		content = false;
	for (uint64_t at = 0; at < w->pages; at += JUDGE_CHUNK) {
		uint64_t n = w->pages - at < JUDGE_CHUNK ? w->pages - at : JUDGE_CHUNK;
		ssize_t got = pmb_pread_full(fd, pm, n * PM_ENTRY_BYTES, base + (off_t)(at * PM_ENTRY_BYTES));

		if (got < 0 || (uint64_t)got != n * PM_ENTRY_BYTES) {
			err = got < 0 ? (int)got : -EIO;	/* a short read is a kernel or harness defect */
			break;
		}
		pmb_judge_entries(c, &m, sw, truth + at, pm, n, at, seed, psz, content);
	}
	close(fd);
	if (err)
		goto out;
	unmapped_behind(c, w, backing_of(c), psz);
	c->oracle_swap_kb = c->truth[PMS_SWAPPED] * (uint64_t)psz / 1024;
	if (pmb_smaps_swap_kb(w->view_pid, w->view_addr, &c->smaps_swap_kb) < 0)
		c->smaps_swap_kb = UINT64_MAX;
	explain(c);
	if (c->reason[0]) {
		c->verdict = PMB_V_INCORRECT;
	} else if (c->smaps_swap_kb != c->oracle_swap_kb) {
		c->verdict = PMB_V_ERROR;
		snprintf(c->reason, sizeof(c->reason), "oracle disagrees with smaps: %" PRIu64
			 " kB swapped by mincore/SEEK_DATA, %" PRIu64 " kB by smaps Swap",
			 c->oracle_swap_kb, c->smaps_swap_kb);
	} else {
		c->verdict = PMB_V_CORRECT;
	}
out:
	free(pm);
	pmb_slotmap_free(&m);
	return err;
}

void pmb_case_item(const struct pmb_case *c, struct pmb_item *it, char *diag, size_t len)
{
	size_t used = 0;

	memset(it, 0, sizeof(*it));
	it->id = it->label = c->id;
	it->msg = c->reason;
	it->diag = diag;
	diag[0] = '\0';
	switch (c->verdict) {
	case PMB_V_SKIP:
	case PMB_V_OOM:
		it->st = PMB_ST_SKIP;
		snprintf(diag, len, "%s%s", c->verdict == PMB_V_OOM ? "oom: " : "", c->reason);
		it->msg = diag;
		it->diag = NULL;
		return;
	case PMB_V_CORRECT:
		it->st = PMB_ST_PASS;
		break;
	default:
		it->st = PMB_ST_FAIL;
	}
	if (c->verdict == PMB_V_ERROR)
		return;
#define LINE(...) \
	do { \
		if (used < len) \
			used += (size_t)snprintf(diag + used, len - used, __VA_ARGS__); \
	} while (0)
	LINE("%s: truth none=%" PRIu64 " present=%" PRIu64 " swapped=%" PRIu64 " unmapped=%" PRIu64 "\n",
	     c->id, c->truth[0], c->truth[1], c->truth[2], c->truth[PMS_UNMAPPED]);
	for (int t = 0; t < PMS_TRUTHS; t++)
		if (t < PMS_NR || c->truth[t])
			LINE("%s: true %s reported as none=%" PRIu64 " present=%" PRIu64 " swapped=%" PRIu64 "\n",
		     c->id, pm_state_name(t), c->cm[t][0], c->cm[t][1], c->cm[t][2]);
	LINE("%s: swap entries bad_type=%" PRIu64 " bad_offset=%" PRIu64 " dup=%" PRIu64
	     " content_ok=%" PRIu64 " content_bad=%" PRIu64 " unchecked=%" PRIu64, c->id,
	     c->bad_type, c->bad_offset, c->dup, c->content_ok, c->content_bad, c->content_unchecked);
#undef LINE
}
