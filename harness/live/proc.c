// SPDX-License-Identifier: GPL-2.0
/* Child processes: the workload (pmwork) and the reader (pmscan). */
#include "proc.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

long pmb_reader_maxrss_kb, pmb_workload_maxrss_kb;

/* waitpid that also keeps the child's peak RSS. */
static pid_t reap(pid_t pid, int *status, long *maxrss_kb)
{
	struct rusage ru;
	pid_t r;

	while ((r = wait4(pid, status, 0, &ru)) < 0 && errno == EINTR)
		;
	if (r == pid && ru.ru_maxrss > *maxrss_kb)
		*maxrss_kb = ru.ru_maxrss;
	return r;
}

const char *pmb_bindir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0) {
		strcpy(dir, ".");
		return dir;
	}
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	return dir;
}

/* In the child, between fork and exec: die with the parent, default signals. */
static void child_setup(pid_t parent)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int wait_stopped(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WUNTRACED);

		if (r == pid)
			return WIFSTOPPED(*status) ? 0 : -ECHILD;
		if (r < 0 && errno == EINTR) {
			if (pmb_stop_signal)
				return -EINTR;
			continue;
		}
		return -errno;
	}
}

/* Read one line from the workload; -EINTR when interrupted, -EPIPE at EOF. */
static int read_line(struct pmb_workload *w, char *buf, size_t len)
{
	for (;;) {
		errno = 0;
		if (fgets(buf, (int)len, w->from)) {
			buf[strcspn(buf, "\n")] = '\0';
			return 0;
		}
		if (errno == EINTR) {
			clearerr(w->from);
			if (pmb_stop_signal)
				return -EINTR;
			continue;
		}
		return -EPIPE;
	}
}

int pmb_workload_start(struct pmb_workload *w, const struct pmb_params *p, const struct pmb_case *c,
		       const char *cgroup, char *why, size_t whylen)
{
	char exe[PATH_MAX], pages[32], dirty[32], swapped[32], seed[32], line[PMB_WIRE_LINE];
	int in[2], out[2], status, err;
	pid_t parent = getpid();

	memset(w, 0, sizeof(*w));
	w->pid = -1;
	snprintf(exe, sizeof(exe), "%s/pmwork", pmb_bindir());
	snprintf(pages, sizeof(pages), "%llu", (unsigned long long)c->pages);
	snprintf(dirty, sizeof(dirty), "%g", c->dirty);
	snprintf(swapped, sizeof(swapped), "%g", c->swapped);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)p->seed);
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		err = -errno;
		close(in[0]);
		close(in[1]);
		return err;
	}
	w->pid = fork();
	if (w->pid < 0) {
		err = -errno;
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		return err;
	}
	if (w->pid == 0) {
		char *argv[] = { exe, "--kind", (char *)c->kind, "--pages", pages, "--dirty", dirty,
				 "--swapout", (char *)c->swapout, "--swapped", swapped,
				 "--layout", (char *)p->layout, "--seed", seed,
				 "--view", (char *)c->view, "--touch", (char *)c->touch, NULL };

		child_setup(parent);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(PMB_EXIT_ERROR);
		if (cgroup && cgroup[0] && pmb_cgroup_enter(cgroup) < 0) {
			dprintf(1, "ERROR cannot enter cgroup %s: %s\n", cgroup, strerror(errno));
			_exit(PMB_EXIT_ERROR);
		}
		execv(exe, argv);
		dprintf(1, "ERROR exec %s: %s\n", exe, strerror(errno));
		_exit(PMB_EXIT_ERROR);
	}
	close(in[0]);
	close(out[1]);
	w->to_fd = in[1];
	w->from_fd = out[0];
	w->from = fdopen(out[0], "r");
	if (cgroup)
		snprintf(w->cgroup, sizeof(w->cgroup), "%s", cgroup);
	if (!w->from) {
		err = -errno;
		pmb_workload_stop(w);
		return err;
	}
	err = read_line(w, line, sizeof(line));
	if (err == -EINTR) {
		pmb_workload_stop(w);
		return err;
	}
	if (err || strncmp(line, "READY ", 6)) {
		/* It ended before READY: say why. */
		bool have = !err;
		bool last_words = have && (!strncmp(line, "SKIP ", 5) || !strncmp(line, "ERROR ", 6));

		pid_t got = 0;

		/* A workload that said SKIP or ERROR exits by itself: let it, to see its code. */
		for (int i = 0; last_words && i < 500 && !got; i++) {
			got = waitpid(w->pid, &status, WNOHANG);
			if (!got)
				usleep(10000);
		}
		if (got != w->pid) {
			kill(w->pid, SIGKILL);
			while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		w->pid = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == PMB_EXIT_SKIP) {
			snprintf(why, whylen, "%s", have && !strncmp(line, "SKIP ", 5) ? line + 5 : "workload skipped");
			err = -EOPNOTSUPP;
		} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !have) {
			snprintf(why, whylen, "workload was killed (OOM) while building the region");
			err = -ENOMEM;
		} else {
			snprintf(why, whylen, "workload failed: %s",
				 have ? (strncmp(line, "ERROR ", 6) ? line : line + 6) : "no READY line");
			err = -EIO;
		}
		pmb_workload_stop(w);
		return err;
	}
	err = pmb_wire_ready_parse(line, &w->r);
	w->addr = w->r.addr;
	w->pages = w->r.pages;
	w->page_size = (long)w->r.page_size;
	w->view_pid = (pid_t)w->r.view_pid;
	w->view_addr = w->r.view_addr;
	w->touched_read = w->r.touch_read;
	if (err || !w->addr || w->pages != c->pages || w->page_size <= 0 || w->view_pid <= 0 ||
	    w->r.view_pid > INT_MAX || !w->view_addr) {
		snprintf(why, whylen, "workload said something odd: %s", line);
		pmb_workload_stop(w);
		return -EPROTO;
	}
	err = wait_stopped(w->pid, &status);
	if (err) {
		snprintf(why, whylen, "workload did not stop after READY");
		pmb_workload_stop(w);
	}
	return err;
}

static int state_cmd(struct pmb_workload *w, const char *cmd, uint8_t *vec, uint64_t counts[PMS_TRUTHS],
		     char *pre, size_t prelen)
{
	char line[PMB_WIRE_LINE];
	ssize_t n;
	int err, status;

	if (kill(w->pid, SIGCONT) < 0)
		return -errno;
	err = pmb_write_full(w->to_fd, cmd, strlen(cmd));
	if (err)
		return err;
	err = read_line(w, line, sizeof(line));
	if (!err && strncmp(line, "STATE ", 6) && strncmp(line, "ERROR ", 6) && pre) {
		snprintf(pre, prelen, "%s", line);
		err = read_line(w, line, sizeof(line));
	}
	if (err)
		return err;
	if (pmb_wire_state_parse(line, counts)) {
		pmb_warn("workload: %s", line);
		return -EPROTO;
	}
	n = (ssize_t)fread(vec, 1, w->pages, w->from);
	if (n != (ssize_t)w->pages)
		return -EPROTO;
	/* The vector must say what the line says. */
	{
		uint64_t seen[PMS_TRUTHS] = { 0 };

		for (uint64_t i = 0; i < w->pages; i++) {
			if (vec[i] >= PMS_TRUTHS)
				return -EPROTO;
			seen[vec[i]]++;
		}
		if (memcmp(seen, counts, sizeof(seen)))
			return -EPROTO;
	}
	return wait_stopped(w->pid, &status);
}

int pmb_workload_state(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_TRUTHS])
{
	return state_cmd(w, PMB_CMD_STATE "\n", vec, counts, NULL, 0);
}

int pmb_workload_settle(struct pmb_workload *w, uint8_t *vec, uint64_t counts[PMS_TRUTHS])
{
	return state_cmd(w, PMB_CMD_SETTLE "\n", vec, counts, NULL, 0);
}

int pmb_workload_command(struct pmb_workload *w, const char *cmd, uint8_t *vec, uint64_t counts[PMS_TRUTHS],
			 char *pre, size_t prelen)
{
	char line[32];

	snprintf(line, sizeof(line), "%s\n", cmd);
	return state_cmd(w, line, vec, counts, pre, prelen);
}

void pmb_workload_stop(struct pmb_workload *w)
{
	int status;

	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		reap(w->pid, &status, &pmb_workload_maxrss_kb);
		w->pid = -1;
	}
	if (w->from) {
		fclose(w->from);
		w->from = NULL;
	} else if (w->from_fd > 0) {
		close(w->from_fd);
	}
	w->from_fd = -1;
	if (w->to_fd > 0)
		close(w->to_fd);
	w->to_fd = -1;
}

int pmb_spawn_read(char *const argv[], pmb_spawn_sink sink, void *arg, int *status)
{
	pid_t parent = getpid(), pid;
	char chunk[1 << 16];
	int fds[2], err = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		child_setup(parent);
		if (dup2(fds[1], 1) < 0)
			_exit(PMB_EXIT_ERROR);
		execv(argv[0], argv);
		fprintf(stderr, "pmbench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(PMB_EXIT_ERROR);
	}
	close(fds[1]);
	for (;;) {
		ssize_t r = read(fds[0], chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR) {
			if (pmb_stop_signal) {
				err = -EINTR;
				break;
			}
			continue;
		}
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		err = sink(arg, chunk, (size_t)r);
		if (err)
			break;
	}
	close(fds[0]);
	if (err)
		kill(pid, SIGKILL);
	reap(pid, status, &pmb_reader_maxrss_kb);
	return err;
}

struct capture {
	char *buf;
	size_t len, cap;
};

static int capture_sink(void *arg, const char *chunk, size_t n)
{
	struct capture *c = arg;

	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 1 << 16;
		char *nb;

		while (c->len + n + 1 > cap)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, chunk, n);
	c->len += n;
	return 0;
}

int pmb_spawn_capture(char *const argv[], char **out, size_t *outlen, int *status)
{
	struct capture c = { 0 };
	int err = pmb_spawn_read(argv, capture_sink, &c, status);

	if (!err && !c.buf)
		err = capture_sink(&c, "", 0);
	if (err) {
		free(c.buf);
		return err;
	}
	c.buf[c.len] = '\0';
	*out = c.buf;
	*outlen = c.len;
	return 0;
}
