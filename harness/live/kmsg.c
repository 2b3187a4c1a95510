// SPDX-License-Identifier: GPL-2.0
#include "kmsg.h"
#include "lib/text.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* What the kernel prints when something went wrong in it (liburing's runtests.sh looks for the first two). */
static const char *const problems[] = {
	"WARNING:", "BUG:", "Oops", "KASAN", "UBSAN", "general protection", "soft lockup",
	"hung task", "blocked for more than", "Kernel panic",
};

bool pmb_kmsg_is_problem(const char *line)
{
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		if (strstr(line, problems[i]))
			return true;
	return false;
}

void pmb_kmsg_open(struct pmb_kmsg *k)
{
	k->why[0] = '\0';
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(k->why, sizeof(k->why), "/dev/kmsg: %s", strerror(errno));
		return;
	}
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		snprintf(k->why, sizeof(k->why), "/dev/kmsg: seek: %s", strerror(errno));
		close(k->fd);
		k->fd = -1;
	}
}

unsigned pmb_kmsg_scan(struct pmb_kmsg *k, char *hits, size_t len)
{
	size_t used = strlen(hits);
	unsigned n = 0;
	char rec[8192];

	while (k->fd >= 0) {
		ssize_t r = read(k->fd, rec, sizeof(rec) - 1);
		char *msg, line[512];

		if (r < 0 && errno == EPIPE)
			continue;	/* records were overwritten before we read them: go on */
		if (r <= 0)
			break;		/* EAGAIN: nothing more for now */
		rec[r] = '\0';
		/* "prio,seq,usec,flags;message\n" then " KEY=value" lines: the message only. */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg[strcspn(msg, "\n")] = '\0';
		if (!pmb_kmsg_is_problem(msg + 1))
			continue;
		n++;
		pmb_text_clean(msg + 1, line, sizeof(line));
		if (used + 2 < len)
			used += (size_t)snprintf(hits + used, len - used, "%s\n", line);
	}
	return n;
}

void pmb_kmsg_close(struct pmb_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}
