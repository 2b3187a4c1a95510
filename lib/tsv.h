/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Versioned TSV tables: a schema line "# pagemap-bench <name> v<N>", a
 * header row, then data rows.  A table is described once (its columns, in
 * the order a writer writes them); readers find columns by name, so a file
 * with more columns, or in another order, still reads, and a column added
 * in a later version may be marked optional with the value older files
 * imply.  Every input is untrusted: field counts, NUL bytes and sizes are
 * checked, and errors name file:line.
 */
#ifndef PMB_TSV_H
#define PMB_TSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PMB_TSV_MAX_COLS	64
#define PMB_TSV_MAX_FIELD	4096	/* bytes in one field */

struct pmb_col {
	const char *name;
	const char *dflt;	/* non-NULL: optional; older files without it mean this */
};

struct pmb_table {
	const char *name;	/* "cases": schema line "# pagemap-bench cases v1" */
	unsigned version;
	const struct pmb_col *cols;
	size_t ncols;
};

/* ---- writing ---- */

/* The schema line and the header. */
int pmb_tsv_write_header(FILE *f, const struct pmb_table *t);

/* One row being filled: every column set exactly once, then written. */
struct pmb_tsv_row {
	const struct pmb_table *t;
	char *cell[PMB_TSV_MAX_COLS];
	/* Every field a reader accepts fits: a row read can always be written again. */
	char buf[PMB_TSV_MAX_COLS * (PMB_TSV_MAX_FIELD + 1)];
	size_t used;
	bool overflow;
};

void pmb_tsv_row_init(struct pmb_tsv_row *r, const struct pmb_table *t);
/* Set column col; tabs, newlines and carriage returns in the value become spaces. */
void pmb_tsv_set(struct pmb_tsv_row *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* -EINVAL when a column was not set or the row did not fit (a harness bug), else 0 or -EIO. */
int pmb_tsv_write_row(FILE *f, const struct pmb_tsv_row *r);

/* ---- reading ---- */

struct pmb_tsv {
	const struct pmb_table *t;
	char *buf;
	char **cells;		/* nrows * nfile cells */
	size_t nrows, nfile;	/* rows, and columns in the file */
	int map[PMB_TSV_MAX_COLS];	/* table column -> file column, -1 absent (optional) */
	char what[256];		/* "path" or a label, for messages */
};

/*
 * Load a table from a file (at most max_bytes, a regular file) or from a
 * buffer (pmb_tsv_parse takes ownership of buf, NUL-terminated, len bytes).
 * One line on stderr and -EINVAL for malformed input (wrong schema line,
 * missing column, a row with the wrong number of fields, a NUL byte); the
 * errors of pmb_read_file otherwise.
 */
int pmb_tsv_load(const char *path, const struct pmb_table *t, size_t max_bytes, struct pmb_tsv *out);
int pmb_tsv_parse(char *buf, size_t len, const char *what, const struct pmb_table *t, struct pmb_tsv *out);
void pmb_tsv_free(struct pmb_tsv *t);

/* The index of the table's column called name, or -1. */
int pmb_tsv_colidx(const struct pmb_table *t, const char *name);
/* Column col of a row: the file's field, or the column's default where the file has none. */
const char *pmb_tsv_get(const struct pmb_tsv *t, size_t row, int col);
/* The line a row came from, for messages (schema line 1, header 2, rows from 3). */
static inline size_t pmb_tsv_line(size_t row)
{
	return row + 3;
}

#endif
