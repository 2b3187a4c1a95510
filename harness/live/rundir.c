// SPDX-License-Identifier: GPL-2.0
/* The run directory: never overwritten, self-describing, raw samples first. */
#include "rundir.h"
#include "proc.h"
#include "catalog/catalog.h"
#include "lib/kernel.h"
#include "lib/stats/stats.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int mkdir_p(const char *path)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pmb_rundir_create(struct pmb_rundir *rd, const char *root)
{
	char stamp[32], latest[600], tmp[640];
	struct utsname u;
	time_t t = time(NULL);
	struct tm tm;
	int err, i;

	memset(rd, 0, sizeof(*rd));
	err = mkdir_p(root);
	if (err)
		return err;
	uname(&u);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 1; i < 1000; i++) {
		if (i == 1)
			snprintf(rd->id, sizeof(rd->id), "%s-%s", stamp, u.release);
		else
			snprintf(rd->id, sizeof(rd->id), "%s-%s-%d", stamp, u.release, i);
		snprintf(rd->path, sizeof(rd->path), "%s/%s", root, rd->id);
		if (mkdir(rd->path, 0755) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (i == 1000)
		return -EEXIST;
	pmb_own_note("rundir", rd->path);
	snprintf(tmp, sizeof(tmp), "%s/cases.tsv", rd->path);
	rd->cases = fopen(tmp, "we");
	snprintf(tmp, sizeof(tmp), "%s/samples.tsv", rd->path);
	rd->samples = fopen(tmp, "we");
	if (!rd->cases || !rd->samples)
		return -errno;
	pmb_tsv_write_header(rd->cases, &pmb_cases_table);
	pmb_tsv_write_header(rd->samples, &pmb_samples_table);
	fflush(rd->cases);
	fflush(rd->samples);
	/* results/latest -> this run (replaced atomically). */
	snprintf(latest, sizeof(latest), "%s/latest", root);
	snprintf(tmp, sizeof(tmp), "%s/.latest.%d", root, (int)getpid());
	unlink(tmp);
	if (symlink(rd->id, tmp) == 0 && rename(tmp, latest) < 0)
		unlink(tmp);
	return 0;
}

static json_t *str_list(const char *const *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *num_list(const double *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static json_t *u64_list(const uint64_t *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static json_t *file_str(const char *path)
{
	char buf[4096];

	return pmb_read_str(path, buf, sizeof(buf)) == 0 ? json_string(buf) : json_null();
}

/* FNV-1a 64 of a file: a stable fingerprint of the kernel config where it is exposed. */
static json_t *file_fnv(const char *path)
{
	FILE *f = fopen(path, "re");
	uint64_t h = PMB_FNV1A_INIT;
	char hex[24], buf[4096];
	size_t n;

	if (!f)
		return json_null();
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		h = pmb_fnv1a(h, buf, n);
	fclose(f);
	snprintf(hex, sizeof(hex), "%016" PRIx64, h);
	return json_string(hex);
}

static json_t *cpu_model(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];
	json_t *v = json_null();

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			line[strcspn(line, "\n")] = '\0';
			v = json_string(c + 2);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

static int meta_save(const struct pmb_rundir *rd, json_t *meta)
{
	char path[600], tmp[620];

	snprintf(path, sizeof(path), "%s/meta.json", rd->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(meta, tmp, JSON_INDENT(2) | JSON_SORT_KEYS))
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

int pmb_meta_write(const struct pmb_rundir *rd, const struct pmb_params *p, const struct pmb_swap *sw,
		   const struct pmb_cgroup_env *cg, int argc, char **argv, const char *status)
{
	json_t *m = json_object(), *o, *a = json_array();
	struct utsname u;
	char now[32];
	const char *env;
	int err, zp;

	uname(&u);
	iso_now(now, sizeof(now));
	for (int i = 0; i < argc; i++)
		json_array_append_new(a, json_string(argv[i]));
	json_object_set_new(m, "schema", json_string(PMB_SCHEMA));
	json_object_set_new(m, "run_id", json_string(rd->id));
	json_object_set_new(m, "status", json_string(status));
	json_object_set_new(m, "started", json_string(now));
	json_object_set_new(m, "finished", json_null());
	json_object_set_new(m, "profile", json_string(p->profile));
	json_object_set_new(m, "command_line", a);
	env = getenv("PMB_ENVIRONMENT");
	json_object_set_new(m, "environment", json_string(env && *env ? env : "host"));

	o = json_object();
	json_object_set_new(o, "release", json_string(u.release));
	json_object_set_new(o, "version", json_string(u.version));
	json_object_set_new(o, "machine", json_string(u.machine));
	json_object_set_new(o, "cmdline", file_str("/proc/cmdline"));
	json_object_set_new(o, "config_fnv1a64", file_fnv("/proc/config.gz"));
	json_object_set_new(o, "image", (env = getenv("PMB_KERNEL_IMAGE")) ? json_string(env) : json_null());
	json_object_set_new(o, "build_key", (env = getenv("PMB_KERNEL_KEY")) ? json_string(env) : json_null());
	json_object_set_new(o, "image_sha256", (env = getenv("PMB_KERNEL_SHA256")) ? json_string(env) : json_null());
	json_object_set_new(o, "clocksource",
			    file_str("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
	json_object_set_new(o, "tsc_khz_given", (env = getenv("PMB_TSC_KHZ")) ? json_string(env) : json_null());
	zp = pmb_read_fault_zero_page();
	json_object_set_new(o, "read_fault_zero_page", zp < 0 ? json_null() : json_boolean(zp));
	json_object_set_new(m, "kernel", o);

	o = json_object();
	json_object_set_new(o, "cpu_model", cpu_model());
	json_object_set_new(o, "ncpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(o, "mem_total_kb", json_integer(pmb_meminfo_kb("MemTotal")));
	json_object_set_new(o, "page_size", json_integer(sysconf(_SC_PAGESIZE)));
	json_object_set_new(o, "hostname", json_string(u.nodename));
	json_object_set_new(m, "host", o);

	o = json_object();
	json_object_set_new(o, "kind", json_string(sw->mode));
	json_object_set_new(o, "device", sw->path[0] ? json_string(sw->path) : json_null());
	json_object_set_new(o, "size_bytes", json_integer((json_int_t)sw->size_bytes));
	json_object_set_new(o, "created", json_boolean(sw->swapped_on));
	json_object_set_new(o, "zram_comp_algorithm", sw->comp[0] ? json_string(sw->comp) : json_null());
	a = json_array();
	for (unsigned i = 0; i < sw->ndevs; i++) {
		json_t *d = json_object();

		json_object_set_new(d, "path", json_string(sw->devs[i].path));
		json_object_set_new(d, "type", json_integer(sw->devs[i].type));
		json_object_set_new(d, "pages", json_integer((json_int_t)sw->devs[i].pages));
		json_object_set_new(d, "ours", json_boolean(sw->devs[i].ours));
		json_array_append_new(a, d);
	}
	json_object_set_new(o, "active", a);
	json_object_set_new(m, "swap", o);

	o = json_object();
	json_object_set_new(o, "mode", json_string(cg->mode == PMB_CG_V2 ? "v2" : cg->mode == PMB_CG_V1 ?
						   "v1" : "none"));
	json_object_set_new(o, "root", cg->root[0] ? json_string(cg->root) : json_null());
	json_object_set_new(o, "why_none", cg->why[0] ? json_string(cg->why) : json_null());
	json_object_set_new(m, "cgroup", o);

	o = json_object();
	json_object_set_new(o, "enabled", file_str("/sys/kernel/mm/transparent_hugepage/enabled"));
	json_object_set_new(o, "shmem_enabled", file_str("/sys/kernel/mm/transparent_hugepage/shmem_enabled"));
	json_object_set_new(m, "thp", o);

	o = json_object();
	json_object_set_new(o, "compiler", json_string("gcc " __VERSION__));
	json_object_set_new(o, "git_rev", (env = getenv("PMB_GIT_REV")) && *env ? json_string(env) : json_null());
	json_object_set_new(m, "build", o);

	o = json_object();
	json_object_set_new(o, "kinds", str_list(p->kinds, p->nkinds));
	json_object_set_new(o, "swapout", str_list(p->swapouts, p->nswapouts));
	json_object_set_new(o, "sizes_bytes", u64_list(p->sizes, p->nsizes));
	json_object_set_new(o, "dirty_pct", num_list(p->dirty, p->ndirty));
	json_object_set_new(o, "swapped_pct", num_list(p->swapped, p->nswapped));
	json_object_set_new(o, "methods", str_list(p->methods, p->nmethods));
	json_object_set_new(o, "batches", u64_list(p->batches, p->nbatches));
	json_object_set_new(o, "layout", json_string(p->layout));
	json_object_set_new(o, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(o, "rounds", json_integer(p->rounds));
	json_object_set_new(o, "warmup", json_integer(p->warmup));
	json_object_set_new(o, "series", json_integer(p->series));
	json_object_set_new(o, "sparse_reads", json_integer(p->sparse_reads));
	json_object_set_new(o, "cpu", json_integer(p->cpu));
	json_object_set_new(o, "timing", json_boolean(p->timing));
	json_object_set_new(o, "views", str_list(p->views, p->nviews));
	json_object_set_new(o, "touch", json_string(p->touch));
	json_object_set_new(o, "qd", json_integer(p->qd));
	json_object_set_new(o, "sequence", json_boolean(p->sequence));
	json_object_set_new(o, "swapin_rounds", json_integer(p->swapin_rounds));
	json_object_set_new(o, "precision_pct", json_real(p->precision));
	json_object_set_new(o, "time_budget_s", json_integer(p->time_budget));
	json_object_set_new(o, "max_series", json_integer(p->max_series));
	json_object_set_new(o, "extra_work_pct", json_integer(p->extra_work));
	json_object_set_new(o, "swap", json_string(p->swap));
	json_object_set_new(o, "swap_size_bytes", json_integer((json_int_t)p->swap_size));
	json_object_set_new(o, "cgroup", json_string(p->cgroup));
	json_object_set_new(o, "content_check", json_boolean(p->check_content));
	json_object_set_new(m, "params", o);

	err = meta_save(rd, m);
	json_decref(m);
	return err;
}

int pmb_meta_set_status(const struct pmb_rundir *rd, const char *status)
{
	char path[600], now[32];
	json_error_t jerr;
	json_t *m;
	int err;

	snprintf(path, sizeof(path), "%s/meta.json", rd->path);
	m = json_load_file(path, 0, &jerr);
	if (!m)
		return -EIO;
	iso_now(now, sizeof(now));
	json_object_set_new(m, "status", json_string(status));
	json_object_set_new(m, "finished", json_string(now));
	err = meta_save(rd, m);
	json_decref(m);
	return err;
}

int pmb_meta_set(const struct pmb_rundir *rd, const char *key, void *json)
{
	char path[600];
	json_error_t jerr;
	json_t *m;
	int err;

	snprintf(path, sizeof(path), "%s/meta.json", rd->path);
	m = json_load_file(path, 0, &jerr);
	if (!m || !json) {
		json_decref(m);
		json_decref(json);
		return -EIO;
	}
	json_object_set_new(m, key, json);
	err = meta_save(rd, m);
	json_decref(m);
	return err;
}

int pmb_meta_set_resources(const struct pmb_rundir *rd, double wall_s)
{
	char path[600];
	json_error_t jerr;
	struct rusage ru;
	json_t *m, *o;
	int err;

	snprintf(path, sizeof(path), "%s/meta.json", rd->path);
	m = json_load_file(path, 0, &jerr);
	if (!m)
		return -EIO;
	getrusage(RUSAGE_SELF, &ru);
	o = json_object();
	json_object_set_new(o, "wall_s", json_real(wall_s));
	json_object_set_new(o, "harness_maxrss_kb", json_integer(ru.ru_maxrss));
	json_object_set_new(o, "reader_maxrss_kb", json_integer(pmb_reader_maxrss_kb));
	json_object_set_new(o, "workload_maxrss_kb", json_integer(pmb_workload_maxrss_kb));
	json_object_set_new(o, "mem_available_kb_at_end", json_integer(pmb_meminfo_kb("MemAvailable")));
	json_object_set_new(m, "resources", o);
	err = meta_save(rd, m);
	json_decref(m);
	return err;
}

int pmb_case_row(struct pmb_rundir *rd, const struct pmb_case *c, const struct pmb_params *p)
{
	struct pmb_tsv_row row;
	int err;

	pmb_tsv_row_init(&row, &pmb_cases_table);
	pmb_tsv_set(&row, PMB_C_CASE, "%s", c->id);
	pmb_tsv_set(&row, PMB_C_KIND, "%s", c->kind);
	pmb_tsv_set(&row, PMB_C_SWAPOUT, "%s", c->swapout);
	pmb_tsv_set(&row, PMB_C_PAGES, "%" PRIu64, c->pages);
	pmb_tsv_set(&row, PMB_C_DIRTY_PCT, "%g", c->dirty);
	pmb_tsv_set(&row, PMB_C_SWAPPED_PCT, "%g", c->swapped);
	pmb_tsv_set(&row, PMB_C_LAYOUT, "%s", p->layout);
	pmb_tsv_set(&row, PMB_C_SEED, "%" PRIu64, p->seed);
	pmb_tsv_set(&row, PMB_C_VERDICT, "%s", pmb_case_verdict_names[c->verdict]);
	pmb_tsv_set(&row, PMB_C_REASON, "%s", c->reason);
	for (int t = 0; t < PMS_TRUTHS; t++) {
		pmb_tsv_set(&row, pmb_true_col(t), "%" PRIu64, c->truth[t]);
		for (int r = 0; r < PMS_NR; r++)
			pmb_tsv_set(&row, pmb_cm_col(t, r), "%" PRIu64, c->cm[t][r]);
	}
	pmb_tsv_set(&row, PMB_C_SWAP_BAD_TYPE, "%" PRIu64, c->bad_type);
	pmb_tsv_set(&row, PMB_C_SWAP_BAD_OFFSET, "%" PRIu64, c->bad_offset);
	pmb_tsv_set(&row, PMB_C_SWAP_DUP, "%" PRIu64, c->dup);
	pmb_tsv_set(&row, PMB_C_SWAP_CONTENT_OK, "%" PRIu64, c->content_ok);
	pmb_tsv_set(&row, PMB_C_SWAP_CONTENT_BAD, "%" PRIu64, c->content_bad);
	pmb_tsv_set(&row, PMB_C_SWAP_CONTENT_UNCHECKED, "%" PRIu64, c->content_unchecked);
	pmb_tsv_set(&row, PMB_C_SMAPS_SWAP_KB, "%" PRId64,
		    c->smaps_swap_kb == UINT64_MAX ? (int64_t)-1 : (int64_t)c->smaps_swap_kb);
	pmb_tsv_set(&row, PMB_C_ORACLE_SWAP_KB, "%" PRIu64, c->oracle_swap_kb);
	pmb_tsv_set(&row, PMB_C_METHODS_AGREE, "%s", c->agree ? c->agree : "-");
	pmb_tsv_set(&row, PMB_C_SERIES_TOTAL, "%u", c->series_total);
	pmb_tsv_set(&row, PMB_C_SERIES_DISCARDED, "%u", c->series_discarded);
	pmb_tsv_set(&row, PMB_C_VIEW, "%s", c->view ? c->view : "self");
	pmb_tsv_set(&row, PMB_C_TOUCH, "%s", c->touch ? c->touch : "write");
	pmb_tsv_set(&row, PMB_C_USERSPACE_VS_ORACLE, "%s", c->userspace[0] ? c->userspace : "-");
	pmb_tsv_set(&row, PMB_C_START_PMD_POS, "%d", c->start_pmd_pos);
	pmb_tsv_set(&row, PMB_C_THP_PAGES, "%ld", c->thp_pages);
	pmb_tsv_set(&row, PMB_C_KERNEL_LOG, "%u", c->kernel_log);
	pmb_tsv_set(&row, PMB_C_SAMPLING, "%s", c->sampling[0] ? c->sampling : "-");
	pmb_tsv_set(&row, PMB_C_METHODS_WRONG, "%s", c->methods_wrong[0] ? c->methods_wrong : "-");
	err = pmb_tsv_write_row(rd->cases, &row);
	fflush(rd->cases);
	return err;
}

int pmb_sample_row(struct pmb_rundir *rd, const char *case_id, const char *method, long long batch,
		   long long qd, unsigned series, long long round, int warmup, int discarded,
		   unsigned long long entries, unsigned long long reads, unsigned long long ns, long long pmd_pos)
{
	struct pmb_tsv_row row;

	pmb_tsv_row_init(&row, &pmb_samples_table);
	pmb_tsv_set(&row, PMB_S_CASE, "%s", case_id);
	pmb_tsv_set(&row, PMB_S_METHOD, "%s", method);
	pmb_tsv_set(&row, PMB_S_BATCH, "%lld", batch);
	pmb_tsv_set(&row, PMB_S_QD, "%lld", qd);
	pmb_tsv_set(&row, PMB_S_SERIES, "%u", series);
	pmb_tsv_set(&row, PMB_S_ROUND, "%lld", round);
	pmb_tsv_set(&row, PMB_S_WARMUP, "%d", warmup);
	pmb_tsv_set(&row, PMB_S_DISCARDED, "%d", discarded);
	pmb_tsv_set(&row, PMB_S_ENTRIES, "%llu", entries);
	pmb_tsv_set(&row, PMB_S_READS, "%llu", reads);
	pmb_tsv_set(&row, PMB_S_NS, "%llu", ns);
	pmb_tsv_set(&row, PMB_S_PMD_POS, "%lld", pmd_pos);
	return pmb_tsv_write_row(rd->samples, &row);
}

