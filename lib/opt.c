// SPDX-License-Identifier: GPL-2.0
#include "opt.h"
#include "util.h"

#include <errno.h>
#include <string.h>

int pmb_opt_index(const struct pmb_opt_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nopts; i++)
		if (!strcmp(spec->opts[i].name, name))
			return (int)i;
	return -1;
}

static int takes_value(const struct pmb_opt *o)
{
	return o->type != PMB_OPT_FLAG && !(o->type == PMB_OPT_FN && o->no_value);
}

static void words_list(const char *const *w, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *w && n < len; w++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", *w);
}

/* One option's value into obj; one line on stderr when it is not acceptable. */
static int set_value(const struct pmb_opt *o, void *obj, const char *v)
{
	char *field = (char *)obj + o->off, list[256];
	uint64_t u;
	double d;

	switch (o->type) {
	case PMB_OPT_FLAG:
		*(bool *)field = o->set;
		return 0;
	case PMB_OPT_FN:
		return o->fn(obj, v, o->name);
	case PMB_OPT_STR:
		if (!*v)
			return pmb_fail(-EINVAL, "--%s: empty value", o->name);
		*(const char **)field = v;
		return 0;
	case PMB_OPT_WORD:
	case PMB_OPT_INDEX:
		for (const char *const *w = o->words; *w; w++)
			if (!strcmp(*w, v)) {
				if (o->type == PMB_OPT_WORD)
					*(const char **)field = *w;
				else
					*(int *)field = (int)(w - o->words);
				return 0;
			}
		words_list(o->words, list, sizeof(list));
		return pmb_fail(-EINVAL, "--%s: '%s' is not one of %s", o->name, v, list);
	case PMB_OPT_UINT:
	case PMB_OPT_UINT32:
		if (pmb_parse_u64(v, o->min, o->max, &u))
			return pmb_fail(-EINVAL, "--%s: '%s' is not a whole number from %llu to %llu",
					o->name, v, (unsigned long long)o->min, (unsigned long long)o->max);
		if (o->type == PMB_OPT_UINT)
			*(uint64_t *)field = u;
		else
			*(unsigned *)field = (unsigned)u;
		return 0;
	case PMB_OPT_SIZE:
		if (pmb_parse_size(v, &u) || u < o->min || u > o->max)
			return pmb_fail(-EINVAL, "--%s: '%s' is not a size from %llu to %llu bytes "
					"(e.g. 64M, 4G)", o->name, v, (unsigned long long)o->min,
					(unsigned long long)o->max);
		*(uint64_t *)field = u;
		return 0;
	case PMB_OPT_PCT:
		if (pmb_parse_pct(v, &d))
			return pmb_fail(-EINVAL, "--%s: '%s' is not a percentage from 0 to 100 (e.g. 5%%)",
					o->name, v);
		*(double *)field = d;
		return 0;
	}
	return -EINVAL;
}

/* The row named by "--name[=value]" or "-c"; NULL when none is. */
static const struct pmb_opt *find_row(const struct pmb_opt_spec *spec, const char *arg,
				      size_t *namelen, size_t *row)
{
	if (arg[1] != '-') {
		for (size_t i = 0; i < spec->nopts; i++)
			if (spec->opts[i].short_name && arg[1] == spec->opts[i].short_name && !arg[2]) {
				*row = i;
				*namelen = 1;
				return &spec->opts[i];
			}
		return NULL;
	}
	*namelen = strcspn(arg + 2, "=");
	for (size_t i = 0; i < spec->nopts; i++)
		if (strlen(spec->opts[i].name) == *namelen &&
		    !strncmp(spec->opts[i].name, arg + 2, *namelen)) {
			*row = i;
			return &spec->opts[i];
		}
	return NULL;
}

int pmb_opt_parse(const struct pmb_opt_spec *spec, int argc, char **argv, void *obj,
		  const char **pos, unsigned *npos, uint64_t *seen)
{
	bool dashdash = false;

	*npos = 0;
	if (seen)
		*seen = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct pmb_opt *o;
		size_t nlen = 0, row = 0;

		if (dashdash || a[0] != '-' || !a[1]) {
			if (*npos == spec->max_pos)
				return pmb_fail(-EINVAL, "unexpected argument '%s' (see %s --help)", a,
						spec->prog);
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			pmb_opt_help(spec, stdout);
			return PMB_OPT_HELP;
		}
		o = find_row(spec, a, &nlen, &row);
		if (!o)
			return pmb_fail(-EINVAL, "unknown option '%s' (see %s --help)", a, spec->prog);
		if (a[1] == '-' && a[2 + nlen] == '=')
			val = a + 3 + nlen;
		if (takes_value(o) && !val) {
			if (i + 1 >= argc)
				return pmb_fail(-EINVAL, "--%s needs a value (%s)", o->name,
						o->metavar ? o->metavar : "see --help");
			val = argv[++i];
		} else if (!takes_value(o) && val) {
			return pmb_fail(-EINVAL, "--%s takes no value", o->name);
		}
		if (set_value(o, obj, val))
			return -EINVAL;
		if (seen && row < 64)
			*seen |= UINT64_C(1) << row;
	}
	if (*npos < spec->min_pos)
		return pmb_fail(-EINVAL, "usage: %s %s (see --help)", spec->prog, spec->args);
	return 0;
}

static void opt_head(const struct pmb_opt *o, char *buf, size_t len)
{
	int n = 0;

	if (o->short_name)
		n = snprintf(buf, len, "-%c, ", o->short_name);
	snprintf(buf + n, len - (size_t)n, "--%s%s%s", o->name, o->metavar ? " " : "",
		 o->metavar ? o->metavar : "");
}

void pmb_opt_help(const struct pmb_opt_spec *spec, FILE *f)
{
	char head[96];

	fprintf(f, "usage: %s %s\n", spec->prog, spec->args);
	if (spec->about)
		fprintf(f, "\n%s", spec->about);
	if (spec->nopts)
		fprintf(f, "\noptions:\n");
	for (size_t i = 0; i < spec->nopts; i++) {
		const struct pmb_opt *o = &spec->opts[i];
		const char *h = o->help ? o->help : "";

		opt_head(o, head, sizeof(head));
		fprintf(f, "  %-22s ", head);
		if (strlen(head) > 22)
			fprintf(f, "\n  %-22s ", "");
		for (const char *p = h; *p; p++) {
			fputc(*p, f);
			if (*p == '\n' && p[1])
				fprintf(f, "  %-22s ", "");
		}
		fputc('\n', f);
	}
	fprintf(f, "  %-22s %s\n", "-h, --help", "this text");
	if (spec->more)
		fprintf(f, "\n%s", spec->more);
}

/* Text into roff: backslashes doubled, a leading '.' or '\'' escaped, '-' as \-. */
static void roff(FILE *f, const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

void pmb_opt_man(const struct pmb_opt_spec *spec, FILE *f)
{
	char head[96];

	fprintf(f, ".SS \"");
	roff(f, spec->prog);
	fprintf(f, "\"\n.B ");
	roff(f, spec->prog);
	fprintf(f, "\n");
	roff(f, spec->args);
	fprintf(f, "\n.PP\n");
	if (spec->about) {
		fprintf(f, ".nf\n");
		roff(f, spec->about);
		fprintf(f, ".fi\n");
	}
	for (size_t i = 0; i < spec->nopts; i++) {
		opt_head(&spec->opts[i], head, sizeof(head));
		fprintf(f, ".TP\n.B ");
		roff(f, head);
		fprintf(f, "\n.nf\n");
		roff(f, spec->opts[i].help ? spec->opts[i].help : "");
		fprintf(f, "\n.fi\n");
	}
	if (spec->more) {
		fprintf(f, ".PP\n.nf\n");
		roff(f, spec->more);
		fprintf(f, ".fi\n");
	}
}
