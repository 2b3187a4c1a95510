// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what pmwork and pmscan say to pmbench (wire/wire.h).
 * Input parts (fuzz.h): 0 protocol lines, 1 pmscan's output (a table); an
 * input without a separator is both.  Each line (as the harness reads it:
 * at most PMB_WIRE_LINE - 1 bytes, up to its newline) goes to the READY,
 * STATE and SWAPIN parsers; what parses must format back to a line that
 * parses to the same values.  The table goes to pmb_tsv_parse with
 * pmb_scan_table and through the checks the harness makes of each row
 * (harness/live/run.c); what parses must write back (lib/tsv.h) to a table
 * that parses to the same fields.
 */
#include "fuzz.h"
#include "lib/tsv.h"
#include "lib/util.h"
#include "wire/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pmf_init();
	return 0;
}

static void check_line(const char *line)
{
	char buf[PMB_WIRE_LINE];
	struct pmb_ready r, r2;
	/* Room for every state the wire may carry, whatever their number (lib/pagemap.h). */
	uint64_t c[8] = { 0 }, c2[8] = { 0 }, pages, ns, pages2, ns2;

	if (!pmb_wire_ready_parse(line, &r) && !pmb_wire_ready_format(buf, sizeof(buf), &r)) {
		PMF_CHECK(!pmb_wire_ready_parse(buf, &r2));
		PMF_CHECK(!memcmp(&r, &r2, sizeof(r)));
	}
	if (!pmb_wire_state_parse(line, c)) {
		PMF_CHECK(!pmb_wire_state_format(buf, sizeof(buf), c));
		PMF_CHECK(!pmb_wire_state_parse(buf, c2));
		PMF_CHECK(!memcmp(c, c2, sizeof(c)));
	}
	if (!pmb_wire_swapin_parse(line, &pages, &ns)) {
		PMF_CHECK(!pmb_wire_swapin_format(buf, sizeof(buf), pages, ns));
		PMF_CHECK(!pmb_wire_swapin_parse(buf, &pages2, &ns2));
		PMF_CHECK(pages == pages2 && ns == ns2);
	}
}

static void check_lines(const struct pmf_part *p)
{
	char line[PMB_WIRE_LINE];
	size_t i = 0;

	for (int n = 0; n < 64 && i < p->len; n++) {
		const char *nl = memchr(p->p + i, '\n', p->len - i);
		size_t l = (nl ? (size_t)(nl - p->p) : p->len) - i;

		/* fgets into a PMB_WIRE_LINE buffer: a longer line arrives in pieces. */
		if (l > sizeof(line) - 1)
			l = sizeof(line) - 1;
		memcpy(line, p->p + i, l);
		line[l] = '\0';
		check_line(line);
		i += l;
		if (i < p->len && p->p[i] == '\n')
			i++;
	}
}

/* A parsed table written back with the writer and read again: the same fields. */
static void round_trip(const struct pmb_tsv *t)
{
	struct pmb_tsv_row *row = malloc(sizeof(*row));
	struct pmb_tsv t2;
	char *buf = NULL;
	size_t len = 0;
	bool ok = true;
	FILE *f = open_memstream(&buf, &len);

	PMF_CHECK(row && f);
	PMF_CHECK(!pmb_tsv_write_header(f, &pmb_scan_table));
	for (size_t i = 0; ok && i < t->nrows; i++) {
		pmb_tsv_row_init(row, &pmb_scan_table);
		for (int c = 0; c < PMB_SCAN_NCOLS; c++)
			pmb_tsv_set(row, c, "%s", pmb_tsv_get(t, i, c));
		ok = !pmb_tsv_write_row(f, row);	/* -EINVAL: the row is too long for a writer's row */
	}
	PMF_CHECK(!fclose(f));
	free(row);
	if (!ok) {
		free(buf);
		return;
	}
	PMF_CHECK(!pmb_tsv_parse(buf, len, "round trip", &pmb_scan_table, &t2));
	PMF_CHECK(t2.nrows == t->nrows);
	for (size_t i = 0; i < t->nrows; i++)
		for (int c = 0; c < PMB_SCAN_NCOLS; c++)
			PMF_CHECK(!strcmp(pmb_tsv_get(t, i, c), pmb_tsv_get(&t2, i, c)));
	pmb_tsv_free(&t2);
}

static void check_table(const struct pmf_part *p)
{
	char *buf = malloc(p->len + 1);
	struct pmb_tsv t;

	PMF_CHECK(buf);
	memcpy(buf, p->p, p->len);
	buf[p->len] = '\0';
	if (pmb_tsv_parse(buf, p->len, "pmscan output", &pmb_scan_table, &t)) {
		PMF_CHECK(!t.buf && !t.cells);	/* freed on error */
		return;
	}
	for (size_t i = 0; i < t.nrows; i++) {
		for (int c = 0; c < PMB_SCAN_NCOLS; c++) {
			const char *s = pmb_tsv_get(&t, i, c);
			long long v;

			PMF_CHECK(s && !strpbrk(s, "\t\n") && strlen(s) <= PMB_TSV_MAX_FIELD);
			/* keep_samples (harness/live/run.c) reads every column but the method as a number. */
			if (c != PMB_SCAN_METHOD && !pmb_parse_ll(s, &v))
				PMF_CHECK(*s);
		}
	}
	round_trip(&t);
	pmb_tsv_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmf_part parts[2];
	size_t n = pmf_split(data, size, parts, 2);

	check_lines(&parts[0]);
	check_table(n > 1 ? &parts[1] : &parts[0]);
	return 0;
}
