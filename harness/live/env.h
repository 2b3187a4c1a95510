/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The environment a run borrows from the machine: a swap device and memory
 * cgroups.  Everything made here is written to an ownership file under
 * /run/pagemap-bench first, so that a run killed with SIGKILL is cleaned up
 * by the next one.  Nothing here touches a device or cgroup it did not make.
 */
#ifndef PMB_ENV_H
#define PMB_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PMB_STATE_DIR "/run/pagemap-bench"
#define PMB_MAX_SWAPS 32

struct pmb_swapdev {
	char path[256];
	unsigned type;		/* index into the kernel's swap_info, as pagemap reports it */
	uint64_t pages;		/* usable slots, from /proc/swaps: offsets 1..pages (0 is the header) */
	bool ours;
};

struct pmb_swap {
	char mode[16];		/* zram | existing | path */
	char path[256];		/* the device this run set up or uses */
	int zram_index;		/* -1 unless we configured a zram device */
	bool zram_hot_added;
	bool swapped_on;	/* we called swapon() and owe a swapoff() */
	uint64_t size_bytes;
	char comp[32];
	/* Every active swap device, as pagemap's type numbers name them. */
	struct pmb_swapdev devs[PMB_MAX_SWAPS];
	unsigned ndevs;
	/*
	 * /proc/swaps lists devices in type order but skips freed types, so a
	 * line number is only a guess at a type.  Types proven by a slot that
	 * held its page's pattern are kept here, by path, across refreshes.
	 */
	struct { char path[256]; unsigned type; } proven[PMB_MAX_SWAPS];
	unsigned nproven;
	bool tried[PMB_MAX_SWAPS];	/* a type whose proof was already attempted */
};

enum pmb_cg_mode { PMB_CG_NONE, PMB_CG_V1, PMB_CG_V2 };

struct pmb_cgroup_env {
	enum pmb_cg_mode mode;
	char root[256];		/* the memory hierarchy's mount point */
	char why[160];		/* why none, when mode == PMB_CG_NONE */
};

/* Ownership log. */
int pmb_own_open(void);
/*
 * Take the machine's run lock, waiting for the run that holds it when wait
 * is true: 0, or -EBUSY (not waiting) with *holder the running pmbench's pid.
 */
int pmb_run_lock(bool wait, int *holder);
void pmb_own_close(bool released);
int pmb_own_note(const char *what, const char *arg);
/* Clean what dead runs left; returns how many items were cleaned or -errno. */
int pmb_sweep_leftovers(bool verbose);

/* Swap. */
int pmb_swap_setup(struct pmb_swap *sw, const char *mode, uint64_t size_bytes, char *why, size_t whylen);
int pmb_swap_refresh(struct pmb_swap *sw);
int pmb_swap_teardown(struct pmb_swap *sw);
const struct pmb_swapdev *pmb_swap_by_type(const struct pmb_swap *sw, unsigned type);
/* Device `dev` (an index into devs) is proven to be swap type `type`. */
void pmb_swap_prove(struct pmb_swap *sw, unsigned dev, unsigned type);
int pmb_swap_write_header(const char *path, uint64_t size_bytes);

/* Memory cgroups. */
void pmb_cgroup_detect(struct pmb_cgroup_env *env);
int pmb_cgroup_create(const struct pmb_cgroup_env *env, const char *name, uint64_t limit,
		      char *path, size_t pathlen);
/* In a forked child, before exec: move the calling process into the cgroup. */
int pmb_cgroup_enter(const char *path);
/* Lift the limit once the state is reached, so nothing reclaims while it is measured. */
int pmb_cgroup_unlimit(const struct pmb_cgroup_env *env, const char *path);
/* Number of OOM kills the cgroup saw (v2 memory.events, v1 memory.oom_control). */
long pmb_cgroup_oom_kills(const struct pmb_cgroup_env *env, const char *path);
void pmb_cgroup_destroy(const char *path);

#endif
