// SPDX-License-Identifier: GPL-2.0
/*
 * Views: a second process that sees the region, for the harness to read its
 * pagemap.  second-mapper maps the same backing object again at a new
 * address and never touches it (its page tables stay empty: pagemap's
 * pte_hole path); fork-child is a plain fork() after the state is reached.
 * The child dies with pmwork (PR_SET_PDEATHSIG) and stays stopped.
 */
#include "pmwork.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

static void *map_again(const struct pmw_region *r, const struct pmw_kind *k)
{
	if (k->map_again)
		return k->map_again(r);
	return pmw_mmap_pmd_aligned(r->len, PROT_READ, MAP_SHARED, r->fd);
}

/* Drop the inherited mapping (and fd), so that the view holds only its own. */
static void drop_inherited(const struct pmw_region *r, const struct pmw_kind *k)
{
	struct pmw_region copy = *r;

	k->destroy(&copy);
}

static __attribute__((noreturn)) void view_child(struct pmw_ctx *x, pid_t parent, int wfd)
{
	uint64_t msg = (uintptr_t)x->r.addr;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(PMB_EXIT_ERROR);
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	if (x->o.view == PMW_VIEW_SECOND_MAPPER) {
		void *p = map_again(&x->r, x->o.kind);

		if (p == MAP_FAILED) {
			msg = UINT64_MAX - (uint64_t)errno;
		} else {
			drop_inherited(&x->r, x->o.kind);
			msg = (uintptr_t)p;
		}
	}
	if (write(wfd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		_exit(PMB_EXIT_ERROR);
	close(wfd);
	for (;;)
		raise(SIGSTOP);
}

static int wait_view_stopped(pid_t pid)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WUNTRACED);

		if (r == pid)
			return WIFSTOPPED(status) ? 0 : -ECHILD;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* The child's answer: its address, or an errno folded into the top values. */
static int read_view_addr(struct pmw_ctx *x, int rfd)
{
	uint64_t msg;
	ssize_t n = pmb_read_full(rfd, &msg, sizeof(msg));

	if (n < 0)
		return (int)n;
	if (n != (ssize_t)sizeof(msg))
		return -EPIPE;
	if (msg > UINT64_MAX - 4096)
		return -(int)(UINT64_MAX - msg);
	x->view_addr = (uintptr_t)msg;
	return 0;
}

const char *pmw_view_unsupported(const struct pmw_opts *o)
{
	if (o->view == PMW_VIEW_SECOND_MAPPER && o->info->backing == PMB_BACKING_ANON)
		return "private memory has no second mapper";
	return NULL;
}

int pmw_view_start(struct pmw_ctx *x)
{
	pid_t parent = getpid();
	int fds[2], err;

	x->view_pid = parent;
	x->view_addr = (uintptr_t)x->r.addr;
	if (x->o.view == PMW_VIEW_SELF)
		return 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	x->view_pid = fork();
	if (x->view_pid == 0) {
		close(fds[0]);
		view_child(x, parent, fds[1]);
	}
	close(fds[1]);
	if (x->view_pid < 0) {
		err = -errno;
		close(fds[0]);
		x->view_pid = 0;
		return err;
	}
	err = read_view_addr(x, fds[0]);
	close(fds[0]);
	if (!err)
		err = wait_view_stopped(x->view_pid);
	if (err)
		pmw_view_stop(x);
	return err;
}

void pmw_view_stop(struct pmw_ctx *x)
{
	int status;

	if (x->view_pid <= 0 || x->view_pid == getpid())
		return;
	kill(x->view_pid, SIGKILL);
	while (waitpid(x->view_pid, &status, 0) < 0 && errno == EINTR)
		;
	x->view_pid = 0;
}
