// SPDX-License-Identifier: GPL-2.0
#include "env.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#ifndef SWAP_FLAG_PREFER
#define SWAP_FLAG_PREFER 0x8000
#endif
#define SWAP_PRIO_MAX 0x7fff

/* ---------------------------------------------------------------- ownership */

static int own_fd = -1;
static char own_path[128];

int pmb_own_open(void)
{
	if (own_fd >= 0)
		return 0;
	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(PMB_STATE_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(own_path, sizeof(own_path), PMB_STATE_DIR "/owned.%d", (int)getpid());
	own_fd = open(own_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	return own_fd < 0 ? -errno : 0;
}

/*
 * One run at a time per machine.  Swap is the machine's, not a process's:
 * the kernel puts any process's pages on any active swap device, so a
 * second run's zram would hold the first run's pages, and its swapoff would
 * fault them back in under the first run's judge.  Cgroups and run
 * directories could be kept apart; swap cannot.  So a second run waits
 * for the first (or, with wait false, is refused).  The lock is an flock()
 * on PMB_STATE_DIR/run.lock, held until the process exits (the kernel drops
 * it even after SIGKILL); the file names the holder.
 */
int pmb_run_lock(bool wait, int *holder)
{
	static int fd = -1;
	char buf[32];
	ssize_t n;

	*holder = 0;
	if (fd >= 0)
		return 0;
	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(PMB_STATE_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(PMB_STATE_DIR "/run.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		*holder = atoi(buf);
		if (err == -EBUSY && wait) {
			pmb_fail(0, "waiting for pmbench pid %d to finish: runs share the machine's swap, "
				 "so one runs at a time", *holder);
			while ((err = flock(fd, LOCK_EX) < 0 ? -errno : 0) == -EINTR)
				;
		}
		if (err) {
			close(fd);
			fd = -1;
			return err;
		}
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/* Forget the log when everything was released; keep it for the next sweep otherwise. */
void pmb_own_close(bool released)
{
	if (own_fd < 0)
		return;
	close(own_fd);
	own_fd = -1;
	if (released)
		unlink(own_path);
}

int pmb_own_note(const char *what, const char *arg)
{
	char line[512];
	int n;

	if (own_fd < 0)
		return 0;
	n = snprintf(line, sizeof(line), "%s %s\n", what, arg);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	n = pmb_write_full(own_fd, line, (size_t)n);
	if (!n)
		fdatasync(own_fd);
	return n;
}

static bool swap_active(const char *path);
static int swapoff_retry(const char *path);

static bool pid_is_pmbench(int pid)
{
	char path[64], comm[64];

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (pmb_read_str(path, comm, sizeof(comm)) < 0)
		return false;
	return !strcmp(comm, "pmbench");
}

static void zram_release(int idx, bool hot_added)
{
	char path[96], s[16];

	snprintf(path, sizeof(path), "/sys/block/zram%d/reset", idx);
	if (pmb_write_str(path, "1") < 0 && errno != ENOENT)
		pmb_warn("cannot reset zram%d", idx);
	if (hot_added) {
		snprintf(s, sizeof(s), "%d", idx);
		pmb_write_str("/sys/class/zram-control/hot_remove", s);
	}
}

static void mark_interrupted(const char *dir)
{
	char path[512], tmp[520];
	json_t *meta;
	json_error_t jerr;
	const char *st;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	meta = json_load_file(path, 0, &jerr);
	if (!meta)
		return;
	st = json_string_value(json_object_get(meta, "status"));
	if (st && !strcmp(st, "running")) {
		json_object_set_new(meta, "status", json_string("interrupted"));
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		if (!json_dump_file(meta, tmp, JSON_INDENT(2)))
			rename(tmp, path);
	}
	json_decref(meta);
}

static int sweep_one(const char *file, bool verbose)
{
	char line[512];
	FILE *f = fopen(file, "re");
	bool stuck = false;
	int n = 0;

	if (!f)
		return -errno;
	/* Reverse dependencies: processes and cgroups first, then swap, then zram. */
	for (int pass = 0; pass < 4; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			char what[32], arg[480];
			int idx, hot;

			line[strcspn(line, "\n")] = '\0';
			if (sscanf(line, "%31s %479[^\n]", what, arg) != 2)
				continue;
			if (pass == 0 && !strcmp(what, "cgroup")) {
				if (access(arg, F_OK) == 0) {
					pmb_cgroup_destroy(arg);
					n++;
					if (verbose)
						fprintf(stderr, "pmbench: removed leftover cgroup %s\n", arg);
				}
			} else if (pass == 1 && !strcmp(what, "swapon")) {
				if (!swap_active(arg))
					continue;
				if (swapoff_retry(arg) == 0) {
					n++;
					if (verbose)
						fprintf(stderr, "pmbench: swapped off leftover %s\n", arg);
				} else {
					pmb_warn("cannot swap off leftover %s: %s; kept for the next cleanup", arg,
						 strerror(errno));
					stuck = true;
				}
			} else if (pass == 2 && stuck) {
				continue;	/* its zram cannot be reset while it is still swap */
			} else if (pass == 2 && !strcmp(what, "zram") &&
				   sscanf(arg, "%d %d", &idx, &hot) == 2) {
				zram_release(idx, hot);
				n++;
				if (verbose)
					fprintf(stderr, "pmbench: reset leftover zram%d\n", idx);
			} else if (pass == 3 && !strcmp(what, "rundir")) {
				mark_interrupted(arg);
			}
		}
	}
	fclose(f);
	if (!stuck)
		unlink(file);
	return n;
}

int pmb_sweep_leftovers(bool verbose)
{
	DIR *d = opendir(PMB_STATE_DIR);
	struct dirent *de;
	int total = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[300];
		int pid, r;

		if (sscanf(de->d_name, "owned.%d", &pid) != 1)
			continue;
		/* Our own pid's log can only be a dead run's: ours is made after the sweep. */
		if (pid != (int)getpid() && pid_is_pmbench(pid))
			continue;
		snprintf(path, sizeof(path), PMB_STATE_DIR "/%s", de->d_name);
		r = sweep_one(path, verbose);
		if (r > 0)
			total += r;
	}
	closedir(d);
	return total;
}

/* ---------------------------------------------------------------- swap */

int pmb_swap_write_header(const char *path, uint64_t size_bytes)
{
	long psz = sysconf(_SC_PAGESIZE);
	unsigned char *hdr;
	uint32_t *info;
	int fd, err = 0;

	if (size_bytes / (uint64_t)psz < 10 || size_bytes / (uint64_t)psz > UINT32_MAX)
		return -EINVAL;
	hdr = calloc(1, (size_t)psz);
	if (!hdr)
		return -ENOMEM;
	/* union swap_header: info at 1024 (version, last_page, nr_badpages), magic at the page's end. */
	info = (uint32_t *)(hdr + 1024);
	info[0] = 1;
	info[1] = (uint32_t)(size_bytes / (uint64_t)psz - 1);
	info[2] = 0;
	memcpy(hdr + psz - 10, "SWAPSPACE2", 10);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
	} else {
		ssize_t w = pwrite(fd, hdr, (size_t)psz, 0);

		if (w < 0)
			err = -errno;
		else if (w != psz)
			err = -EIO;
		if (!err && fsync(fd) < 0)
			err = -errno;
		close(fd);
	}
	free(hdr);
	return err;
}

int pmb_swap_refresh(struct pmb_swap *sw)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[512];
	unsigned type = 0;

	if (!f)
		return -errno;
	sw->ndevs = 0;
	/* /proc/swaps lists swap_info[] in type order; types are dense unless one was swapped off. */
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f) && sw->ndevs < PMB_MAX_SWAPS) {
		struct pmb_swapdev *d = &sw->devs[sw->ndevs];
		unsigned long long kb;
		char name[256], kind[32];

		if (sscanf(line, "%255s %31s %llu", name, kind, &kb) != 3)
			continue;
		snprintf(d->path, sizeof(d->path), "%s", name);
		d->type = type++;
		d->pages = kb * 1024 / (unsigned long long)sysconf(_SC_PAGESIZE);
		d->ours = sw->swapped_on && !strcmp(name, sw->path);
		sw->ndevs++;
	}
	fclose(f);
	for (unsigned i = 0; i < sw->nproven; i++)
		for (unsigned k = 0; k < sw->ndevs; k++)
			if (!strcmp(sw->devs[k].path, sw->proven[i].path))
				pmb_swap_prove(sw, k, sw->proven[i].type);
	return 0;
}

void pmb_swap_prove(struct pmb_swap *sw, unsigned dev, unsigned type)
{
	unsigned i;

	/* Whichever device guessed this type takes the proven device's old guess. */
	for (i = 0; i < sw->ndevs; i++)
		if (i != dev && sw->devs[i].type == type)
			sw->devs[i].type = sw->devs[dev].type;
	sw->devs[dev].type = type;
	for (i = 0; i < sw->nproven; i++)
		if (!strcmp(sw->proven[i].path, sw->devs[dev].path))
			break;
	if (i == sw->nproven && sw->nproven < PMB_MAX_SWAPS)
		sw->nproven++;
	if (i < PMB_MAX_SWAPS) {
		if (strcmp(sw->proven[i].path, sw->devs[dev].path))
			memcpy(sw->proven[i].path, sw->devs[dev].path, sizeof(sw->proven[i].path));
		sw->proven[i].type = type;
	}
}

const struct pmb_swapdev *pmb_swap_by_type(const struct pmb_swap *sw, unsigned type)
{
	for (unsigned i = 0; i < sw->ndevs; i++)
		if (sw->devs[i].type == type)
			return &sw->devs[i];
	return NULL;
}

static bool swap_active(const char *path)
{
	struct pmb_swap probe = { .zram_index = -1 };

	if (pmb_swap_refresh(&probe) < 0)
		return false;
	for (unsigned i = 0; i < probe.ndevs; i++)
		if (!strcmp(probe.devs[i].path, path))
			return true;
	return false;
}

/* A zram device of our own: zram0 when it is unconfigured, else a hot-added one. */
static int zram_claim(struct pmb_swap *sw, char *why, size_t whylen)
{
	char path[96], buf[64];
	int idx = -1;

	if (pmb_read_str("/sys/block/zram0/disksize", buf, sizeof(buf)) == 0 &&
	    !strcmp(buf, "0") && !swap_active("/dev/zram0")) {
		idx = 0;
	} else if (access("/sys/class/zram-control/hot_add", R_OK) == 0) {
		if (pmb_read_str("/sys/class/zram-control/hot_add", buf, sizeof(buf)) < 0 ||
		    sscanf(buf, "%d", &idx) != 1) {
			snprintf(why, whylen, "zram hot_add failed");
			return -EIO;
		}
		sw->zram_hot_added = true;
	} else {
		snprintf(why, whylen, "no zram device available (zram not built in or loaded, and zram0 in use)");
		return -ENODEV;
	}
	sw->zram_index = idx;
	snprintf(buf, sizeof(buf), "%d %d", idx, sw->zram_hot_added);
	pmb_own_note("zram", buf);
	snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", idx);
	if (pmb_read_str(path, buf, sizeof(buf)) == 0) {
		char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;

		if (l && r)
			snprintf(sw->comp, sizeof(sw->comp), "%.*s", (int)(r - l - 1), l + 1);
	}
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", idx);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)sw->size_bytes);
	if (pmb_write_str(path, buf) < 0) {
		snprintf(why, whylen, "cannot size zram%d: %s", idx, strerror(errno));
		return -errno;
	}
	snprintf(sw->path, sizeof(sw->path), "/dev/zram%d", idx);
	for (int i = 0; i < 200 && access(sw->path, F_OK) < 0; i++)
		usleep(10000);
	if (access(sw->path, F_OK) < 0) {
		snprintf(why, whylen, "%s did not appear", sw->path);
		return -ENODEV;
	}
	return 0;
}

int pmb_swap_setup(struct pmb_swap *sw, const char *mode, uint64_t size_bytes, char *why, size_t whylen)
{
	int err;

	memset(sw, 0, sizeof(*sw));
	sw->zram_index = -1;
	sw->size_bytes = size_bytes;
	snprintf(sw->mode, sizeof(sw->mode), "%s", !strcmp(mode, "zram") || !strcmp(mode, "existing") ?
		 mode : "path");
	if (!strcmp(mode, "existing")) {
		err = pmb_swap_refresh(sw);
		if (err)
			return err;
		if (!sw->ndevs) {
			snprintf(why, whylen, "--swap existing: no active swap device");
			return -ENODEV;
		}
		snprintf(sw->path, sizeof(sw->path), "%s", sw->devs[0].path);
		return 0;
	}
	if (!strcmp(mode, "zram")) {
		err = zram_claim(sw, why, whylen);
		if (err)
			return err;
		err = pmb_swap_write_header(sw->path, size_bytes);
		if (err) {
			snprintf(why, whylen, "cannot write a swap header to %s: %s", sw->path, strerror(-err));
			return err;
		}
	} else {
		snprintf(sw->path, sizeof(sw->path), "%s", mode);
		if (swap_active(sw->path))
			return pmb_swap_refresh(sw);
	}
	pmb_own_note("swapon", sw->path);
	if (swapon(sw->path, SWAP_FLAG_PREFER | SWAP_PRIO_MAX) < 0) {
		err = -errno;
		snprintf(why, whylen, "swapon %s: %s", sw->path, strerror(errno));
		return err;
	}
	sw->swapped_on = true;
	return pmb_swap_refresh(sw);
}

/* swapoff, retried when a signal interrupts the drain; 0 when the device is no longer swap. */
static int swapoff_retry(const char *path)
{
	for (int i = 0; i < 20; i++) {
		if (swapoff(path) == 0 || errno == EINVAL)	/* EINVAL: not (or no longer) swap */
			return 0;
		if (errno != EINTR)
			break;
	}
	return -errno;
}

int pmb_swap_teardown(struct pmb_swap *sw)
{
	int err = 0;

	if (sw->swapped_on) {
		err = swapoff_retry(sw->path);
		if (err) {
			/* Still swap: resetting its zram would fail too.  Keep the ownership log. */
			pmb_warn("swapoff %s: %s; it is still active swap (./run.sh cleanup retries)",
				 sw->path, strerror(-err));
			return err;
		}
		sw->swapped_on = false;
	}
	if (sw->zram_index >= 0) {
		zram_release(sw->zram_index, sw->zram_hot_added);
		sw->zram_index = -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- cgroups */

static bool file_has_word(const char *path, const char *word)
{
	char buf[1024], *tok, *save;

	if (pmb_read_str(path, buf, sizeof(buf)) < 0)
		return false;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

void pmb_cgroup_detect(struct pmb_cgroup_env *env)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], mnt[256], type[64], opts[512];
	char v1[256] = "", v2[256] = "";

	memset(env, 0, sizeof(*env));
	if (!f) {
		snprintf(env->why, sizeof(env->why), "cannot read /proc/self/mounts");
		return;
	}
	while (fscanf(f, "%255s %255s %63s %511s %*d %*d\n", dev, mnt, type, opts) == 4) {
		char ctl[300];

		if (!strcmp(type, "cgroup2") && !v2[0]) {
			snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", mnt);
			if (file_has_word(ctl, "memory"))
				snprintf(v2, sizeof(v2), "%s", mnt);
		} else if (!strcmp(type, "cgroup") && !v1[0]) {
			char *tok, *save;

			for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "memory"))
					snprintf(v1, sizeof(v1), "%s", mnt);
		}
	}
	fclose(f);
	if (v2[0]) {
		char sub[300];

		snprintf(sub, sizeof(sub), "%s/cgroup.subtree_control", v2);
		if (file_has_word(sub, "memory")) {
			env->mode = PMB_CG_V2;
			snprintf(env->root, sizeof(env->root), "%s", v2);
			return;
		}
		if (!v1[0])
			snprintf(env->why, sizeof(env->why),
				 "cgroup v2 at %s has the memory controller but does not enable it for children", v2);
	}
	if (v1[0]) {
		env->mode = PMB_CG_V1;
		snprintf(env->root, sizeof(env->root), "%s", v1);
		return;
	}
	if (!env->why[0])
		snprintf(env->why, sizeof(env->why), "no memory cgroup controller mounted (v1 or v2)");
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return pmb_write_str(path, val) < 0 ? -errno : 0;
}

int pmb_cgroup_create(const struct pmb_cgroup_env *env, const char *name, uint64_t limit,
		      char *path, size_t pathlen)
{
	char val[32];
	int err;

	if (env->mode == PMB_CG_NONE)
		return -ENOTSUP;
	if ((size_t)snprintf(path, pathlen, "%s/%s", env->root, name) >= pathlen)
		return -ENAMETOOLONG;
	pmb_own_note("cgroup", path);
	if (mkdir(path, 0755) < 0)
		return -errno;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)limit);
	if (env->mode == PMB_CG_V2) {
		err = cg_write(path, "memory.max", val);
		if (!err) {
			err = cg_write(path, "memory.swap.max", "max");
			if (err == -ENOENT)	/* no swap accounting: swap is unlimited anyway */
				err = 0;
		}
	} else {
		err = cg_write(path, "memory.limit_in_bytes", val);
		if (!err)
			err = cg_write(path, "memory.swappiness", "60");
	}
	if (err)
		pmb_cgroup_destroy(path);
	return err;
}

int pmb_cgroup_enter(const char *path)
{
	char procs[512], pid[24];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return pmb_write_str(procs, pid) < 0 ? -errno : 0;
}

int pmb_cgroup_unlimit(const struct pmb_cgroup_env *env, const char *path)
{
	if (env->mode == PMB_CG_V2)
		return cg_write(path, "memory.max", "max");
	return cg_write(path, "memory.limit_in_bytes", "-1");
}

long pmb_cgroup_oom_kills(const struct pmb_cgroup_env *env, const char *path)
{
	char file[512], line[128];
	long n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s", path,
		 env->mode == PMB_CG_V2 ? "memory.events" : "memory.oom_control");
	f = fopen(file, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

void pmb_cgroup_destroy(const char *path)
{
	char procs[512], line[32];

	snprintf(procs, sizeof(procs), "%s/cgroup.kill", path);
	if (pmb_write_str(procs, "1") < 0) {
		FILE *f;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
		f = fopen(procs, "re");
		while (f && fgets(line, sizeof(line), f))
			kill(atoi(line), SIGKILL);
		if (f)
			fclose(f);
	}
	/* rmdir fails with EBUSY until the killed tasks are gone. */
	for (int i = 0; i < 300; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return;
		usleep(10000);
	}
	pmb_warn("cannot remove cgroup %s: %s", path, strerror(errno));
}
