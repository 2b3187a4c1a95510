// SPDX-License-Identifier: GPL-2.0
/*
 * The gate policy parser and matcher.  It needs only the catalog (no other
 * harness file), so that tests/unit/test_policy.c and the fuzz target can build it alone.
 */
#include "policy.h"
#include "catalog/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* docs/policy-default.txt, turned into a string literal by the Makefile: one source of truth. */
const char pmb_policy_default_text[] =
#include "policy-default.inc"
	;

static const char *const sel_names[PMB_SEL_NR] = {
	[PMB_SEL_KIND] = "kind", [PMB_SEL_GROUP] = "group", [PMB_SEL_STATE] = "state",
	[PMB_SEL_METHOD] = "method", [PMB_SEL_SWAPOUT] = "swapout", [PMB_SEL_VIEW] = "view",
};
static const char *const groups[] = { "shmem", "private", "all" };
static const char *const states[] = { "swapped", "holes", "resident", "any" };
static const struct {
	const char *name;
	unsigned flag;
} corr_names[] = {
	{ "any", 0 },
	{ "correct", PMB_CORR_CORRECT },
	{ "no-worse", PMB_CORR_NO_WORSE },
	{ "swapped-reported", PMB_CORR_SWAPPED_REPORTED },
};

struct pctx {
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "line %u: ", c->line);

	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return 1;
	return 0;
}

/* The catalog's names a kind, method, swapout or view selector may take. */
static bool known_value(enum pmb_sel k, const char *v)
{
	switch (k) {
	case PMB_SEL_KIND: return pmb_kind_find(v) != NULL;
	case PMB_SEL_METHOD: return pmb_method_find(v) != NULL;
	case PMB_SEL_SWAPOUT: return pmb_word_index(pmb_swapouts, v) >= 0;
	case PMB_SEL_VIEW: return pmb_word_index(pmb_views, v) >= 0;
	default: return true;
	}
}

/* "a, b, c" for the error message of a selector; a static buffer. */
static const char *known_values(enum pmb_sel k)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
#define ADD(name) (n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s", \
					 n ? ", " : "", name))
	if (k == PMB_SEL_KIND)
		for (size_t i = 0; i < PMB_NR_KINDS; i++)
			ADD(pmb_kinds[i].name);
	else if (k == PMB_SEL_METHOD)
		for (size_t i = 0; i < PMB_NR_METHODS; i++)
			ADD(pmb_methods[i].name);
	else
		for (const char *const *w = k == PMB_SEL_SWAPOUT ? pmb_swapouts : pmb_views; *w; w++)
			ADD(*w);
#undef ADD
	return buf;
}

/* A name: [a-z0-9._-]+, or "*". */
static int valid_name(const char *s)
{
	if (!strcmp(s, "*"))
		return 1;
	if (!*s || strlen(s) >= PMB_POLICY_NAME)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* Plain decimal: digits with at most one '.', no sign, exponent, inf or nan. */
static int parse_decimal(const char *s, size_t len, double *out)
{
	char buf[32];
	size_t i, dots = 0, digits = 0;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else
			return -EINVAL;
	}
	if (dots > 1 || !digits || s[0] == '.' || s[len - 1] == '.')
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL);
	return 0;
}

/* "N%" with 0 <= N <= 10000. */
static int parse_pct(struct pctx *c, const char *s, double *out)
{
	size_t len = strlen(s);

	if (len < 2 || s[len - 1] != '%' || parse_decimal(s, len - 1, out) || *out > 10000)
		return perr(c, "'%s' is not a percentage (0%%..10000%%, e.g. 5%%)", s);
	return 0;
}

static int parse_slowdown(struct pctx *c, const char *v, struct pmb_rule *r)
{
	size_t len = strlen(v);
	double x;

	r->has_slowdown = 1;
	snprintf(r->slowdown_text, sizeof(r->slowdown_text), "%s", v);
	if (!strcmp(v, "noise")) {
		r->noise = 1;
		return 0;
	}
	if (len >= 2 && v[len - 1] == 'x') {
		if (parse_decimal(v, len - 1, &x) || x < 1 || x > 1000)
			return perr(c, "max_slowdown '%s': a factor is 1x..1000x", v);
		r->max_ratio = x;
		return 0;
	}
	if (len >= 2 && v[len - 1] == '%') {
		int err = parse_pct(c, v, &x);

		r->max_ratio = 1 + x / 100;
		return err;
	}
	return perr(c, "max_slowdown '%s': expected noise, N%% or Nx", v);
}

static int parse_corr(struct pctx *c, const char *v, struct pmb_rule *r)
{
	char buf[PMB_POLICY_MAX_LINE];
	char *tok, *save = NULL;
	size_t i;

	r->has_corr = 1;
	r->corr = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	if (!*v || v[strlen(v) - 1] == ',' || *v == ',' || strstr(v, ",,"))
		return perr(c, "correctness '%s': an empty item", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(corr_names) / sizeof(corr_names[0]); i++)
			if (!strcmp(tok, corr_names[i].name))
				break;
		if (i == sizeof(corr_names) / sizeof(corr_names[0]))
			return perr(c, "correctness '%s': expected any, correct, no-worse "
				       "or swapped-reported", tok);
		if (!corr_names[i].flag && strcmp(v, "any"))
			return perr(c, "correctness: 'any' cannot be combined with others");
		if (r->corr & corr_names[i].flag)
			return perr(c, "correctness: '%s' given twice", tok);
		r->corr |= corr_names[i].flag;
	}
	return 0;
}

static int parse_selector(struct pctx *c, char *tok, struct pmb_rule *r, int *star)
{
	char *eq = strchr(tok, '=');
	size_t k;

	if (!strcmp(tok, "*")) {
		if (*star)
			return perr(c, "'*' given twice");
		*star = 1;
		return 0;
	}
	if (!eq)
		return perr(c, "selector '%s': expected key=value or '*'", tok);
	*eq = '\0';
	for (k = 0; k < PMB_SEL_NR; k++)
		if (!strcmp(tok, sel_names[k]))
			break;
	if (k == PMB_SEL_NR && (!strcmp(tok, "max_slowdown") || !strcmp(tok, "correctness")))
		return perr(c, "expected ':' between the selectors and '%s'", tok);
	if (k == PMB_SEL_NR)
		return perr(c, "unknown selector '%s' (kind, group, state, method, swapout, view)", tok);
	if (r->sel[k][0])
		return perr(c, "selector '%s' given twice", tok);
	if (!valid_name(eq + 1))
		return perr(c, "%s='%s': expected a name ([a-z0-9._-]) or '*'", tok, eq + 1);
	if (k == PMB_SEL_GROUP && strcmp(eq + 1, "*") && !in_list(eq + 1, groups, 3))
		return perr(c, "group '%s': expected shmem, private or all", eq + 1);
	if (k == PMB_SEL_STATE && strcmp(eq + 1, "*") && !in_list(eq + 1, states, 4))
		return perr(c, "state '%s': expected swapped, holes, resident or any", eq + 1);
	/* A misspelt value would match nothing and silently drop the rule's requirement. */
	if (strcmp(eq + 1, "*") && !known_value(k, eq + 1))
		return perr(c, "%s '%s': expected one of %s", sel_names[k], eq + 1, known_values(k));
	snprintf(r->sel[k], sizeof(r->sel[k]), "%s", eq + 1);
	return 0;
}

static int parse_setting(struct pctx *c, char *tok, struct pmb_rule *r)
{
	char *eq = strchr(tok, '=');

	if (!eq)
		return perr(c, "setting '%s': expected max_slowdown=... or correctness=...", tok);
	*eq = '\0';
	if (!strcmp(tok, "max_slowdown")) {
		if (r->has_slowdown)
			return perr(c, "max_slowdown given twice");
		return parse_slowdown(c, eq + 1, r);
	}
	if (!strcmp(tok, "correctness")) {
		if (r->has_corr)
			return perr(c, "correctness given twice");
		return parse_corr(c, eq + 1, r);
	}
	return perr(c, "unknown setting '%s' (max_slowdown, correctness)", tok);
}

/* "match SEL... : SET..." with the tokens after "match". */
static int parse_match(struct pctx *c, char **tok, size_t n, struct pmb_policy *p)
{
	struct pmb_rule *r;
	size_t i = 0;
	int err, star = 0, nsel = 0;

	if (p->nrules == PMB_POLICY_MAX_RULES)
		return perr(c, "more than %d rules", PMB_POLICY_MAX_RULES);
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	r->line = c->line;
	for (; i < n && strcmp(tok[i], ":"); i++, nsel++) {
		err = parse_selector(c, tok[i], r, &star);
		if (err)
			return err;
	}
	if (i == n)
		return perr(c, "expected ':' between the selectors and the settings");
	if (!nsel)
		return perr(c, "no selector before ':' (use '*' to match every case)");
	if (star && nsel > 1)
		return perr(c, "'*' cannot be combined with other selectors");
	if (++i == n)
		return perr(c, "no setting after ':'");
	for (; i < n; i++) {
		err = parse_setting(c, tok[i], r);
		if (err)
			return err;
	}
	if (r->has_corr && r->sel[PMB_SEL_METHOD][0] && strcmp(r->sel[PMB_SEL_METHOD], "*"))
		return perr(c, "correctness is per case: it cannot be set by a method= rule");
	p->nrules++;
	return 0;
}

/* Tokenize one line (comment cut) in place. */
static int tokenize(struct pctx *c, char *s, char **tok, size_t max, size_t *n)
{
	char *h = strchr(s, '#');

	if (h)
		*h = '\0';
	*n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (*n == max)
			return perr(c, "too many words");
		tok[(*n)++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return 0;
}

static int check_bytes(struct pctx *c, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r')
			return perr(c, "carriage return (save the file with Unix line ends)");
		if ((ch < 0x20 && ch != '\t') || ch >= 0x7f)
			return perr(c, "byte 0x%02x: only printable ASCII is allowed", ch);
	}
	return 0;
}

static int parse_line(struct pctx *c, char *line, struct pmb_policy *p, int *seen_header)
{
	char *tok[PMB_POLICY_MAX_LINE / 2 + 1];
	size_t n;
	int err = tokenize(c, line, tok, sizeof(tok) / sizeof(tok[0]), &n);

	if (err || !n)
		return err;
	if (!*seen_header) {
		if (n != 2 || strcmp(tok[0], "pagemap-bench-policy"))
			return perr(c, "the first line must be 'pagemap-bench-policy 1'");
		if (strcmp(tok[1], "1"))
			return perr(c, "policy format version '%s' is not supported (only 1)", tok[1]);
		*seen_header = 1;
		return 0;
	}
	if (!strcmp(tok[0], "threshold")) {
		if (n != 2)
			return perr(c, "expected 'threshold N%%'");
		if (p->has_threshold)
			return perr(c, "threshold given twice");
		p->has_threshold = 1;
		return parse_pct(c, tok[1], &p->threshold_pct);
	}
	if (!strcmp(tok[0], "match"))
		return parse_match(c, tok + 1, n - 1, p);
	if (!strcmp(tok[0], "pagemap-bench-policy"))
		return perr(c, "the header appears twice");
	return perr(c, "unknown directive '%s' (threshold, match)", tok[0]);
}

int pmb_policy_parse(const char *text, size_t len, struct pmb_policy *p, char *err, size_t errlen)
{
	struct pctx c = { .line = 0, .err = err, .errlen = errlen };
	char line[PMB_POLICY_MAX_LINE + 1];
	size_t pos = 0;
	int seen_header = 0, ret;

	memset(p, 0, sizeof(*p));
	if (errlen)
		err[0] = '\0';
	if (len > PMB_POLICY_MAX_BYTES)
		return perr(&c, "the policy is larger than %d bytes", PMB_POLICY_MAX_BYTES);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;

		c.line++;
		if (ll > PMB_POLICY_MAX_LINE)
			return perr(&c, "longer than %d characters", PMB_POLICY_MAX_LINE);
		ret = check_bytes(&c, text + pos, ll);
		if (ret)
			return ret;
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		ret = parse_line(&c, line, p, &seen_header);
		if (ret)
			return ret;
		pos += ll + (nl ? 1 : 0);
	}
	if (!seen_header) {
		c.line = c.line ? c.line : 1;
		return perr(&c, "empty policy: no 'pagemap-bench-policy 1' header");
	}
	if (!p->nrules)
		return perr(&c, "no 'match' rule");
	return 0;
}

int pmb_policy_load(const char *path, struct pmb_policy *p, char *err, size_t errlen)
{
	static char buf[PMB_POLICY_MAX_BYTES + 1];
	/*
	 * Regular files only, checked on the open descriptor: fopen of a FIFO
	 * blocked the gate forever, and a device is no policy (issue 12).
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	FILE *f;
	size_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "not a regular file (%s)", S_ISDIR(st.st_mode) ? "a directory" :
			 S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket");
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "%s", strerror(e));
		return -e;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fclose(f);
		snprintf(err, errlen, "read error");
		return -EIO;
	}
	fclose(f);
	if (memchr(buf, '\0', n)) {
		snprintf(err, errlen, "contains a NUL byte");
		return -EINVAL;
	}
	return pmb_policy_parse(buf, n, p, err, errlen);
}

static int sel_match(const char *sel, const char *v)
{
	return !sel[0] || !strcmp(sel, "*") || (v && !strcmp(sel, v));
}

static int rule_matches(const struct pmb_rule *r, const struct pmb_target *t)
{
	const char *g = r->sel[PMB_SEL_GROUP];
	const char *st = r->sel[PMB_SEL_STATE];

	if (!sel_match(r->sel[PMB_SEL_KIND], t->kind) ||
	    !sel_match(r->sel[PMB_SEL_SWAPOUT], t->swapout) ||
	    !sel_match(r->sel[PMB_SEL_VIEW], t->view ? t->view : "self"))
		return 0;
	if (strcmp(st, "any") && !sel_match(st, t->state))
		return 0;
	if (!strcmp(g, "shmem") && !t->shmem)
		return 0;
	if (!strcmp(g, "private") && t->shmem)
		return 0;
	/* The case's correctness is matched without a method: method= rules skip it. */
	if (r->sel[PMB_SEL_METHOD][0] && strcmp(r->sel[PMB_SEL_METHOD], "*"))
		return t->method && !strcmp(r->sel[PMB_SEL_METHOD], t->method);
	return 1;
}

const struct pmb_rule *pmb_policy_slowdown(const struct pmb_policy *p, const struct pmb_target *t)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].has_slowdown && rule_matches(&p->rules[i], t))
			return &p->rules[i];
	return NULL;
}

const struct pmb_rule *pmb_policy_correctness(const struct pmb_policy *p,
					      const struct pmb_target *t)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].has_corr && rule_matches(&p->rules[i], t))
			return &p->rules[i];
	return NULL;
}

void pmb_corr_name(unsigned flags, char *buf, size_t len)
{
	size_t i, used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!flags) {
		snprintf(buf, len, "any");
		return;
	}
	for (i = 1; i < sizeof(corr_names) / sizeof(corr_names[0]); i++) {
		if (!(flags & corr_names[i].flag) || used >= len)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 corr_names[i].name);
	}
}
