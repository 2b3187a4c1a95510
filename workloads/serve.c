// SPDX-License-Identifier: GPL-2.0
/*
 * The command loop.  Runs while the process may sit in a memory-limited
 * cgroup: it allocates nothing, and uses read(2)/write(2) only.
 */
#include "pmwork.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "wire/wire.h"

#define PMW_LINE_MAX	256

int pmw_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	return pmb_write_full(STDOUT_FILENO, buf, (size_t)n);
}

int pmw_fatal(int err, const char *what)
{
	if (err < 0)
		pmw_say("ERROR %s: %s", what, strerror(-err));
	else
		pmw_say("ERROR %s", what);
	pmb_err(err, "%s", what);
	return PMB_EXIT_ERROR;
}

struct line_reader {
	char buf[PMW_LINE_MAX];
	size_t len;		/* bytes held in buf */
	bool overlong;		/* discarding the rest of a too-long line */
};

/*
 * Next command line, NUL-terminated, newline removed, in *line.
 * 1 on a line, 0 on EOF, -errno on error.  Over-long lines come back as "".
 */
static int next_line(struct line_reader *lr, char **line)
{
	static char out[PMW_LINE_MAX];

	for (;;) {
		char *nl = memchr(lr->buf, '\n', lr->len);
		ssize_t n;

		if (nl) {
			size_t used = (size_t)(nl - lr->buf) + 1;

			memcpy(out, lr->buf, used - 1);
			out[used - 1] = '\0';
			if (lr->overlong)
				out[0] = '\0';
			lr->overlong = false;
			memmove(lr->buf, lr->buf + used, lr->len - used);
			lr->len -= used;
			*line = out;
			return 1;
		}
		if (lr->len == sizeof(lr->buf)) {
			lr->overlong = true;
			lr->len = 0;
		}
		n = read(STDIN_FILENO, lr->buf + lr->len, sizeof(lr->buf) - lr->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;	/* a partial last line is dropped */
		lr->len += (size_t)n;
	}
}

static int cmd_state(struct pmw_ctx *x)
{
	char line[PMB_WIRE_LINE];
	uint64_t counts[PMS_TRUTHS];
	struct pmw_counts c;
	int err = pmw_ctx_oracle(x, &c);

	if (err)
		return pmw_fatal(err, "oracle");
	for (int i = 0; i < PMS_TRUTHS; i++)
		counts[i] = c.state[i];
	err = pmb_wire_state_format(line, sizeof(line), counts);
	if (!err)
		err = pmw_say("%s", line);
	if (!err)
		err = pmb_write_full(STDOUT_FILENO, x->state, x->r.pages);
	if (err)
		return pmw_fatal(err, "write state");
	raise(SIGSTOP);
	return -1;
}

/*
 * Map every resident page: read one byte of each page the oracle sees as
 * present.  A page that reclaim unmapped but did not free (still in the page
 * cache or the swap cache) is mapped again by a minor fault, without I/O,
 * so that "resident" and "mapped" mean the same thing afterwards.  Pages in
 * swap stay there.  Then answer as STATE does.
 */
static int cmd_settle(struct pmw_ctx *x)
{
	struct pmw_counts c;
	size_t psz = x->r.len / x->r.pages;
	int err = pmw_ctx_oracle(x, &c);

	if (err)
		return pmw_fatal(err, "oracle");
	for (size_t i = 0; i < x->r.pages; i++)
		if (x->state[i] == PMS_PRESENT || x->state[i] == PMS_UNMAPPED) {
			(void)*(volatile const char *)((const char *)x->r.addr + i * psz);
			x->flags[i] |= PMW_MAPPED;
		}
	return cmd_state(x);
}

static int cmd_fault(struct pmw_ctx *x)
{
	pmw_fault(x);
	return cmd_state(x);
}

static int cmd_pageout(struct pmw_ctx *x)
{
	int err = pmw_pageout(x);

	if (err)
		return pmw_fatal(err, "madvise(MADV_PAGEOUT)");
	return cmd_state(x);
}

static int cmd_remove(struct pmw_ctx *x)
{
	int err = pmw_remove(x);

	if (err)
		return pmw_fatal(err, x->o.info->backing == PMB_BACKING_ANON ?
				 "madvise(MADV_DONTNEED)" : "madvise(MADV_REMOVE)");
	return cmd_state(x);
}

/*
 * The swap-in co-metric: fault back, in index order, every page the oracle
 * sees as swapped by reading one byte of it.  Only the loop is timed.
 */
static int cmd_swapin(struct pmw_ctx *x)
{
	char line[PMB_WIRE_LINE];
	struct pmw_counts c;
	size_t i, n = 0;
	uint64_t t0, t1;
	int err = pmw_ctx_oracle(x, &c);

	if (err)
		return pmw_fatal(err, "oracle");
	t0 = pmb_now_ns();
	for (i = 0; i < x->r.pages; i++) {
		if (x->state[i] != PMS_SWAPPED)
			continue;
		(void)*(volatile const char *)(x->r.addr + i * x->r.page_size);
		x->flags[i] |= PMW_MAPPED;
		n++;
	}
	t1 = pmb_now_ns();
	err = pmb_wire_swapin_format(line, sizeof(line), n, t1 - t0);
	if (!err)
		err = pmw_say("%s", line);
	if (err)
		return pmw_fatal(err, "write SWAPIN");
	return cmd_state(x);
}

/* Commands that answer like STATE; each returns -1 after its SIGSTOP, or an exit code. */
static const struct {
	const char *name;
	int (*run)(struct pmw_ctx *x);
} commands[] = {
	{ PMB_CMD_FAULT, cmd_fault },
	{ PMB_CMD_PAGEOUT, cmd_pageout },
	{ PMB_CMD_REMOVE, cmd_remove },
	{ PMB_CMD_SETTLE, cmd_settle },
	{ PMB_CMD_STATE, cmd_state },
	{ PMB_CMD_SWAPIN, cmd_swapin },
};

static int run_command(struct pmw_ctx *x, const char *line)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(line, commands[i].name))
			return commands[i].run(x);
	if (pmw_say("ERROR unknown command") < 0)
		return pmw_fatal(-EIO, "write");
	return -1;
}

int pmw_serve(struct pmw_ctx *x)
{
	static struct line_reader lr;
	char *line;
	int ret;

	for (;;) {
		ret = next_line(&lr, &line);
		if (ret < 0)
			return pmw_fatal(ret, "read command");
		if (ret == 0 || !strcmp(line, PMB_CMD_EXIT))
			return PMB_EXIT_PASS;
		ret = run_command(x, line);
		if (ret >= 0)
			return ret;
	}
}
