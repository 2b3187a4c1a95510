// SPDX-License-Identifier: GPL-2.0
#include "noise.h"
#include "lib/util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The first line of /proc/stat: user nice system idle iowait irq softirq steal ... */
static void cpu_ticks(struct pmb_noise_snap *s)
{
	unsigned long long v[8] = { 0 };
	char buf[4096];

	if (pmb_read_str("/proc/stat", buf, sizeof(buf)) ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6], &v[7]) < 4)
		return;
	s->busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6];
	s->steal_ticks = v[7];
	s->all_ticks = s->busy_ticks + v[3] + v[4] + v[7];
	for (const char *p = strstr(buf, "procs_running "); p; p = NULL)
		s->running = (unsigned)strtoul(p + 14, NULL, 10);
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

void pmb_noise_snap(struct pmb_noise_snap *s, unsigned cpu)
{
	struct rusage self, kids;
	char path[128], buf[64];

	memset(s, 0, sizeof(*s));
	cpu_ticks(s);
	if (!pmb_read_str("/proc/loadavg", buf, sizeof(buf)))
		s->load1 = strtod(buf, NULL);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	s->own_ns = tv_ns(self.ru_utime) + tv_ns(self.ru_stime) + tv_ns(kids.ru_utime) + tv_ns(kids.ru_stime);
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq", cpu);
	if (!pmb_read_str(path, buf, sizeof(buf)))
		s->mhz = strtod(buf, NULL) / 1000.0;
	s->when_ns = pmb_now_ns();
}

void pmb_noise_add(struct pmb_noise *n, const struct pmb_noise_snap *a, const struct pmb_noise_snap *b)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t busy = b->busy_ticks - a->busy_ticks, own;

	if (b->all_ticks <= a->all_ticks || hz <= 0)
		return;
	/* Our own CPU time in ticks; what else was busy was someone else. */
	own = (b->own_ns - a->own_ns) * (uint64_t)hz / 1000000000u;
	n->other_ticks += busy > own ? busy - own : 0;
	n->all_ticks += b->all_ticks - a->all_ticks;
	n->steal_ticks += b->steal_ticks - a->steal_ticks;
	n->load1_max = fmax(n->load1_max, fmax(a->load1, b->load1));
	n->running_max = b->running > n->running_max ? b->running : n->running_max;
	if (b->mhz > 0) {
		n->mhz_min = n->any && n->mhz_min > 0 ? fmin(n->mhz_min, b->mhz) : b->mhz;
		n->mhz_max = fmax(n->mhz_max, b->mhz);
	}
	n->any = true;
}

double pmb_noise_other_pct(const struct pmb_noise *n)
{
	return n->all_ticks ? 100.0 * (double)n->other_ticks / (double)n->all_ticks : 0;
}

double pmb_noise_steal_pct(const struct pmb_noise *n)
{
	return n->all_ticks ? 100.0 * (double)n->steal_ticks / (double)n->all_ticks : 0;
}

bool pmb_noise_busy(const struct pmb_noise *n, char *why, size_t len)
{
	double other = pmb_noise_other_pct(n), steal = pmb_noise_steal_pct(n);
	bool busy = other > PMB_BUSY_OTHER_PCT || steal > PMB_BUSY_STEAL_PCT;

	if (why)
		snprintf(why, len, "other processes used %.0f%% of the CPU time, steal %.1f%%, load up to %.1f, "
			 "%u runnable", other, steal, n->load1_max, n->running_max);
	return busy;
}

void *pmb_noise_json(const struct pmb_noise *n)
{
	char why[256];
	bool busy = pmb_noise_busy(n, why, sizeof(why));

	return json_pack("{s:b, s:s, s:f, s:f, s:f, s:i, s:o, s:o, s:f, s:f}",
			 "busy", busy, "why", busy ? why : "",
			 "other_cpu_pct", pmb_noise_other_pct(n), "steal_pct", pmb_noise_steal_pct(n),
			 "load1_max", n->load1_max, "procs_running_max", (int)n->running_max,
			 "cpu_mhz_min", n->mhz_min > 0 ? json_real(n->mhz_min) : json_null(),
			 "cpu_mhz_max", n->mhz_max > 0 ? json_real(n->mhz_max) : json_null(),
			 "busy_other_pct_limit", PMB_BUSY_OTHER_PCT, "busy_steal_pct_limit", PMB_BUSY_STEAL_PCT);
}
