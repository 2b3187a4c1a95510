// SPDX-License-Identifier: GPL-2.0
#include "tsv.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int pmb_tsv_write_header(FILE *f, const struct pmb_table *t)
{
	fprintf(f, "# pagemap-bench %s v%u\n", t->name, t->version);
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%s", i ? "\t" : "", t->cols[i].name);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

void pmb_tsv_row_init(struct pmb_tsv_row *r, const struct pmb_table *t)
{
	r->t = t;
	r->used = 0;
	r->overflow = t->ncols > PMB_TSV_MAX_COLS;
	memset(r->cell, 0, sizeof(r->cell));
}

void pmb_tsv_set(struct pmb_tsv_row *r, int col, const char *fmt, ...)
{
	size_t room = sizeof(r->buf) - r->used;
	va_list ap;
	int n;

	if (col < 0 || (size_t)col >= r->t->ncols || r->cell[col] || room < 2) {
		r->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		r->overflow = true;
		return;
	}
	r->cell[col] = r->buf + r->used;
	for (char *p = r->cell[col]; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	r->used += (size_t)n + 1;
}

int pmb_tsv_write_row(FILE *f, const struct pmb_tsv_row *r)
{
	if (r->overflow)
		return -EINVAL;
	for (size_t i = 0; i < r->t->ncols; i++)
		if (!r->cell[i])
			return -EINVAL;
	for (size_t i = 0; i < r->t->ncols; i++)
		fprintf(f, "%s%s", i ? "\t" : "", r->cell[i]);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

void pmb_tsv_free(struct pmb_tsv *t)
{
	free(t->buf);
	free(t->cells);
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < PMB_TSV_MAX_COLS; i++)
		t->map[i] = -1;
}

static size_t count_char(const char *s, const char *end, char c)
{
	size_t n = 0;

	for (; s < end; s++)
		n += *s == c;
	return n;
}

__attribute__((format(printf, 3, 4)))
static int bad(struct pmb_tsv *t, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pmb_fail(-EINVAL, "%s:%zu: %s", t->what, line, msg);
	pmb_tsv_free(t);
	return -EINVAL;
}

/* Split line in place at tabs into out[0..max); the number of fields. */
static size_t split_tabs(char *line, char **out, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *tab = strchr(line, '\t');

		if (n < max)
			out[n] = line;
		n++;
		if (!tab)
			return n;
		*tab = '\0';
		line = tab + 1;
	}
}

int pmb_tsv_parse(char *buf, size_t len, const char *what, const struct pmb_table *t, struct pmb_tsv *out)
{
	char want[96], *line, *next, *hdr[PMB_TSV_MAX_COLS];
	size_t maxrows, nh, lineno = 2;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < PMB_TSV_MAX_COLS; i++)
		out->map[i] = -1;
	out->t = t;
	out->buf = buf;
	snprintf(out->what, sizeof(out->what), "%s", what);
	if (memchr(buf, '\0', len))
		return bad(out, 1 + count_char(buf, (char *)memchr(buf, '\0', len), '\n'), "a NUL byte");
	if (memchr(buf, '\r', len))
		return bad(out, 1 + count_char(buf, strchr(buf, '\r'), '\n'), "a carriage return (CRLF line ends?)");
	snprintf(want, sizeof(want), "# pagemap-bench %s v%u", t->name, t->version);
	next = strchr(buf, '\n');
	if (!next || (size_t)(next - buf) != strlen(want) || strncmp(buf, want, strlen(want)))
		return bad(out, 1, "the schema line is not '%s' (another table or version?)", want);
	line = next + 1;
	next = strchr(line, '\n');
	if (!next)
		return bad(out, 2, "no header row");
	*next = '\0';
	nh = split_tabs(line, hdr, PMB_TSV_MAX_COLS);
	if (nh > PMB_TSV_MAX_COLS)
		return bad(out, 2, "%zu columns, at most %d", nh, PMB_TSV_MAX_COLS);
	for (size_t i = 0; i < nh; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(hdr[i], hdr[j]))
				return bad(out, 2, "column '%s' twice", hdr[i]);
	for (size_t c = 0; c < t->ncols; c++) {
		for (size_t i = 0; i < nh && out->map[c] < 0; i++)
			if (!strcmp(hdr[i], t->cols[c].name))
				out->map[c] = (int)i;
		if (out->map[c] < 0 && !t->cols[c].dflt)
			return bad(out, 2, "no column '%s'", t->cols[c].name);
	}
	out->nfile = nh;
	maxrows = count_char(next + 1, buf + len, '\n') + 1;
	out->cells = calloc(maxrows * nh, sizeof(char *));
	if (!out->cells) {
		pmb_tsv_free(out);
		return pmb_err(-ENOMEM, "%s", what);
	}
	for (line = next + 1; *line; line = next) {
		size_t n;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		n = split_tabs(line, out->cells + out->nrows * nh, nh);
		if (n != nh)
			return bad(out, lineno, "%zu fields, the header has %zu", n, nh);
		for (size_t i = 0; i < nh; i++)
			if (strlen(out->cells[out->nrows * nh + i]) > PMB_TSV_MAX_FIELD)
				return bad(out, lineno, "a field longer than %d bytes", PMB_TSV_MAX_FIELD);
		out->nrows++;
	}
	return 0;
}

int pmb_tsv_load(const char *path, const struct pmb_table *t, size_t max_bytes, struct pmb_tsv *out)
{
	size_t len;
	char *buf;
	int err = pmb_read_file(path, max_bytes, &buf, &len);

	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	return pmb_tsv_parse(buf, len, path, t, out);
}

const char *pmb_tsv_get(const struct pmb_tsv *t, size_t row, int col)
{
	int f = t->map[col];

	return f < 0 ? t->t->cols[col].dflt : t->cells[row * t->nfile + (size_t)f];
}

int pmb_tsv_colidx(const struct pmb_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return (int)i;
	return -1;
}
