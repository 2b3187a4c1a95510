// SPDX-License-Identifier: GPL-2.0
/*
 * KCIDB v5 I/O data: one checkout, one build, and a test per item (path
 * pagemap_bench.<suite>.<name>), plus a DONE child test for an item's
 * measurement without a verdict.  Strings are cleaned to valid UTF-8 first,
 * which jansson requires.
 */
#include "sink.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *const kcidb_status[PMB_NR_STATUS] = {
	[PMB_ST_PASS] = "PASS", [PMB_ST_FAIL] = "FAIL", [PMB_ST_SKIP] = "SKIP",
	[PMB_ST_INCONCLUSIVE] = "SKIP",
};

static json_t *jstr(const char *s)
{
	char buf[2048];

	pmb_text_clean(s ? s : "", buf, sizeof(buf));
	return json_string(buf);
}

/* pagemap_bench.<suite>.<name>: path elements are dot-separated, so dots inside become '_'. */
static void kcidb_path(const char *suite, const struct pmb_item *it, char *buf, size_t len)
{
	char name[512];
	size_t start;

	pmb_ci_name(it->id, NULL, name, sizeof(name));
	for (char *p = name; *p; p++)
		if (*p == '.')
			*p = '_';
	start = (size_t)snprintf(buf, len, "pagemap_bench.%s.%s", suite, name);
	if (it->suffix && *it->suffix && start < len) {
		pmb_ci_name(it->suffix, NULL, name, sizeof(name));
		snprintf(buf + start, len - start, ".%s", name);
	}
}

static json_t *test_obj(const char *id, const char *path, const char *status, const char *build,
			const char *comment, const struct pmb_measure *m, json_t *misc)
{
	json_t *t = json_object();

	json_object_set_new(t, "id", jstr(id));
	json_object_set_new(t, "origin", json_string("pmbench"));
	json_object_set_new(t, "build_id", jstr(build));
	json_object_set_new(t, "path", jstr(path));
	json_object_set_new(t, "status", json_string(status));
	json_object_set_new(t, "comment", jstr(comment));
	json_object_set_new(t, "misc", misc ? misc : json_object());
	if (m->unit && isfinite(m->value))
		json_object_set_new(t, "number", json_pack("{s:f, s:s}", "value", m->value, "unit", m->unit));
	return t;
}

static json_t *misc_of(const struct pmb_item *it)
{
	json_t *o = json_object();

	for (size_t k = 0; k < it->nkv; k++)
		json_object_set_new(o, it->kv[k].key, it->kv[k].str ? jstr(it->kv[k].str) :
				    isfinite(it->kv[k].num) ? json_real(it->kv[k].num) : json_null());
	if (it->st == PMB_ST_INCONCLUSIVE)
		json_object_set_new(o, "inconclusive", json_true());
	return o;
}

static int kcidb_write(FILE *f, const struct pmb_report *r)
{
	char bid[512], cid[512], id[1024], path[1024];
	json_t *root, *tests = json_array();
	int err = 0;

	snprintf(cid, sizeof(cid), "pmbench:%s", r->krelease && *r->krelease ? r->krelease : "unknown");
	snprintf(bid, sizeof(bid), "pmbench:%s", r->run_id ? r->run_id : "unknown");
	for (size_t s = 0; s < r->nsuites; s++)
		for (size_t i = 0; i < r->suite[s].n; i++) {
			const struct pmb_item *it = &r->suite[s].items[i];
			char name[512];

			pmb_ci_name(it->id, it->suffix, name, sizeof(name));
			snprintf(id, sizeof(id), "%s:%s:%s", bid, r->suite[s].name, name);
			kcidb_path(r->suite[s].name, it, path, sizeof(path));
			err |= json_array_append_new(tests, test_obj(id, path, kcidb_status[it->st], bid, it->msg,
								     &it->m, misc_of(it)));
			if (!it->child.unit)
				continue;
			/* The measurement itself: no verdict of its own, so DONE. */
			snprintf(id + strlen(id), sizeof(id) - strlen(id), ":%s", it->child.unit);
			snprintf(path + strlen(path), sizeof(path) - strlen(path), ".%s", it->child.unit);
			err |= json_array_append_new(tests, test_obj(id, path, "DONE", bid, "the measurement on CAND",
								     &it->child, NULL));
		}
	root = json_pack("{s:{s:i, s:i}, s:[{s:o, s:s, s:{s:o}}], s:[{s:o, s:o, s:s, s:o, s:b}], s:o}",
			 "version", "major", 5, "minor", 3,
			 "checkouts", "id", jstr(cid), "origin", "pmbench", "misc", "kernel_version",
			 jstr(r->kversion),
			 "builds", "id", jstr(bid), "checkout_id", jstr(cid), "origin", "pmbench",
			 "comment", jstr(r->verdict), "valid", 1,
			 "tests", tests);
	if (!root || err) {
		json_decref(root);
		return pmb_err(-ENOMEM, "kcidb.json");
	}
	err = json_dumpf(root, f, JSON_INDENT(1)) ? -EIO : 0;
	fputc('\n', f);
	json_decref(root);
	return err;
}

const struct pmb_sink pmb_sink_kcidb = { .name = "kcidb", .file = "kcidb.json", .write = kcidb_write };
