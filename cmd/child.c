/*
 * The command of `sse serve -- CMD`: see child.h.
 *
 * Why a pseudo-terminal: C stdio, Python and Node buffer stdout in blocks
 * when it is a pipe and by lines when it is a terminal, and no
 * environment variable reaches all three. The terminal is raw (no echo, no
 * signals from control characters) and has no output processing (OPOST
 * off), so a "\n" stays "\n" instead of becoming "\r\n".
 *
 * Why a process group: the command runs as a session leader on its own
 * terminal, so its pid is its group's id, and kill(-pid) also reaches what
 * a shell script started. The end of a run is its exit (a pidfd in the
 * poll set), not the end of its output, which a daemonized grandchild may
 * hold open: after the exit what is already written is read for a moment,
 * then the run is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "msg.h"
#include "util.h"

#define READ_SIZE (64 * 1024)
#define DRAIN_MS 500 /* reading what a run wrote before its exit */
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_MS 10000 /* a run this long starts backoff again */
#define POLL_NO_PIDFD_MS 50

void
child_init(struct child *c, const struct child_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = *o;
	c->out = c->err = c->pidfd = -1;
	sse_buf_init(&c->errline, o->max_line);
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* In the new process, before exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
exec_child(const struct child *c, int slave, int errfd, int xfd, pid_t parent)
{
	sigset_t none;
	int e, i;

	if (setsid() == -1 || ioctl(slave, TIOCSCTTY, 0) == -1)
		goto fail;
	/* sse killed, even by SIGKILL: the command goes too. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		goto fail;
	if (dup2(slave, 1) == -1)
		goto fail;
	if (c->o.err == CHILD_STDERR_MERGE)
		errfd = slave;
	else if (c->o.err == CHILD_STDERR_DROP &&
	    (errfd = open("/dev/null", O_WRONLY)) == -1)
		goto fail;
	if (dup2(errfd, 2) == -1)
		goto fail;
	if (slave > 2)
		close(slave);
	if (errfd > 2)
		close(errfd);
	/* sse blocks or ignores some signals; exec would keep that. */
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(c->o.argv[0], c->o.argv);
fail:
	e = errno;
	(void)!write(xfd, &e, sizeof(e));
	_exit(127);
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
child_start(struct child *c)
{
	struct winsize ws = {24, 80, 0, 0};
	struct termios t;
	int master = -1, slave = -1, ep[2] = {-1, -1}, xp[2] = {-1, -1};
	int e = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	c->why[0] = '\0';
	if (c->rbuf == NULL && (c->rbuf = malloc(READ_SIZE)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (openpty(&master, &slave, NULL, NULL, &ws) == -1)
		goto fail;
	if (tcgetattr(slave, &t) == -1)
		goto fail;
	cfmakeraw(&t); /* also OPOST off: no "\r\n" for "\n" */
	if (tcsetattr(slave, TCSANOW, &t) == -1)
		goto fail;
	if (fcntl(master, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(slave, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	if (c->o.err == CHILD_STDERR_EVENT && pipe2(ep, O_CLOEXEC) == -1)
		goto fail;
	if (pipe2(xp, O_CLOEXEC) == -1)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		/* dup2 clears FD_CLOEXEC on 1 and 2; the originals close. */
		close(master);
		close(xp[0]);
		if (ep[0] != -1)
			close(ep[0]);
		exec_child(c, slave, ep[1], xp[1], parent);
	}
	close_fd(&slave);
	close_fd(&ep[1]);
	close_fd(&xp[1]);
	do
		n = read(xp[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close_fd(&xp[0]);
	if (n == (ssize_t)sizeof(e)) { /* exec failed */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		errno = e;
		goto fail;
	}
	set_nonblock(master);
	if (ep[0] != -1)
		set_nonblock(ep[0]);
	c->pid = pid;
	c->out = master;
	c->err = ep[0];
	c->reaped = false;
	c->status = 0;
	c->started_ms = now_mono_ms();
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
fail:
	e = errno;
	snprintf(c->why, sizeof(c->why), "cannot run '%s': %s", c->o.argv[0],
	    strerror(e));
	if (master != -1)
		close(master);
	if (slave != -1)
		close(slave);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	close_fd(&xp[0]);
	close_fd(&xp[1]);
	return -1;
}

/* Hand on the complete lines of errline and keep the rest. */
static void
err_lines(struct child *c, const struct child_cb *cb, bool all)
{
	char *p = c->errline.p, *end = p + c->errline.len, *nl;
	size_t n;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		cb->err(cb->ctx, p, n);
		p = nl + 1;
	}
	if (all && p < end) {
		cb->err(cb->ctx, p, (size_t)(end - p));
		p = end;
	}
	n = (size_t)(end - p);
	memmove(c->errline.p, p, n);
	c->errline.len = n;
}

static void
take_err(struct child *c, const struct child_cb *cb, const char *p, size_t n)
{
	size_t room, k;

	while (n > 0) {
		room = c->o.max_line - c->errline.len;
		k = n < room ? n : room;
		if (sse_buf_add(&c->errline, p, k) == -1) {
			/* Out of memory: what is held, and drop the rest. */
			err_lines(c, cb, true);
			return;
		}
		p += k;
		n -= k;
		err_lines(c, cb, false);
		if (c->errline.len >= c->o.max_line) /* a piece */
			err_lines(c, cb, true);
	}
}

/* Read what fd has now; -1 once it is at its end (EIO: no writer left). */
static int
take(struct child *c, const struct child_cb *cb, int *fd)
{
	ssize_t n;

	for (;;) {
		n = read(*fd, c->rbuf, READ_SIZE);
		if (n > 0) {
			if (*fd == c->out)
				cb->out(cb->ctx, c->rbuf, (size_t)n);
			else
				take_err(c, cb, c->rbuf, (size_t)n);
			if (n < READ_SIZE)
				return 0;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		close_fd(fd);
		return -1;
	}
}

static bool
reap(struct child *c)
{
	pid_t r;

	if (c->reaped)
		return true;
	do
		r = waitpid(c->pid, &c->status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == c->pid || (r == -1 && errno == ECHILD))
		c->reaped = true;
	if (c->reaped)
		close_fd(&c->pidfd);
	return c->reaped;
}

static void
signal_group(pid_t pid, int sig)
{
	kill(-pid, sig);
	kill(pid, sig); /* in case it left its group */
}

/*
 * Whether anything is left of the command's process group: what it
 * started (sh -c's command, npm's node) may outlive it. A group's id is
 * not given to another process while the group has members.
 */
static bool
group_alive(pid_t pid)
{
	return kill(-pid, 0) == 0;
}

/* sig to the group, and to the command itself while it is not reaped. */
static void
signal_rest(struct child *c, int sig)
{
	if (!c->reaped)
		signal_group(c->pid, sig);
	else if (group_alive(c->pid))
		kill(-c->pid, sig);
}

static bool
wants_restart(const struct child *c)
{
	if (c->o.restart == CHILD_RESTART_ALWAYS)
		return true;
	return c->o.restart == CHILD_RESTART_ON_FAILURE &&
	    !(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0);
}

/* The run is over: report it and say when the next one starts (or -1). */
static int64_t
end_run(
    struct child *c, const struct child_cb *cb, bool stopping, int64_t *delay)
{
	struct child_exit e;

	if (c->errline.len > 0)
		err_lines(c, cb, true);
	close_fd(&c->out);
	close_fd(&c->err);
	close_fd(&c->pidfd);
	memset(&e, 0, sizeof(e));
	e.pid = c->pid;
	e.status = c->status;
	e.ran_ms = now_mono_ms() - c->started_ms;
	e.stopped = stopping;
	e.restart_in_ms = -1;
	if (!stopping && wants_restart(c)) {
		if (e.ran_ms >= BACKOFF_RESET_MS)
			*delay = c->o.restart_delay_ms;
		e.restart_in_ms = *delay;
		*delay =
		    *delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *delay * 2;
		if (*delay < c->o.restart_delay_ms)
			*delay = c->o.restart_delay_ms;
	}
	/*
	 * What the command started may outlive it in its group (sh -c's
	 * command, npm's node): it goes with the run, SIGKILL following at
	 * the next start or at the end (child_release).
	 */
	if (group_alive(c->pid)) {
		c->left = c->pid;
		if (!stopping)
			kill(-c->left, SIGTERM);
	}
	c->pid = 0;
	cb->exited(cb->ctx, &e);
	cb->flush(cb->ctx);
	return e.restart_in_ms;
}

/* Start the next run; if it cannot start, that run failed at once. */
static int64_t
restart(struct child *c, const struct child_cb *cb, int64_t *delay)
{
	int64_t in;

	if (c->left > 0 && group_alive(c->left))
		kill(-c->left, SIGKILL);
	c->left = 0;
	if (child_start(c) == 0)
		return -1;
	msg_warnx("%s", c->why);
	c->status = 127 << 8; /* as a shell says it */
	c->reaped = true;
	c->started_ms = now_mono_ms();
	in = end_run(c, cb, false, delay);
	return in >= 0 ? now_mono_ms() + in : -1;
}

static int
timeout_to(int64_t at, int64_t now)
{
	if (at < 0)
		return -1;
	if (at <= now)
		return 0;
	return at - now > 60000 ? 60000 : (int)(at - now);
}

static int64_t
earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/*
 * What child_run() polls: stopfd (-1 once stopping; its slot's which is
 * NULL), the caller's extra descriptor, the command's output, its pidfd.
 */
static int
watch_fds(
    struct child *c, int stopfd, int *extra, struct pollfd *pfd, int **which)
{
	int *fds[4] = {extra, &c->out, &c->err, &c->pidfd};
	int n = 0, i;

	if (stopfd != -1) {
		pfd[n].fd = stopfd;
		which[n++] = NULL;
	}
	for (i = 0; i < 4; i++) {
		if (*fds[i] == -1 || (i > 0 && c->pid == 0) ||
		    (fds[i] == &c->pidfd && c->reaped))
			continue;
		pfd[n].fd = *fds[i];
		which[n++] = fds[i];
	}
	for (i = 0; i < n; i++) {
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return n;
}

void
child_run(struct child *c, int stopfd, const struct child_cb *cb)
{
	struct pollfd pfd[5];
	int *which[5], extra = cb->extra_fd;
	int64_t delay = c->o.restart_delay_ms, now, kill_at = -1, drain_at = -1;
	int64_t restart_at = -1, at;
	bool stopping = false;
	int n, i, tmo;

	for (;;) {
		now = now_mono_ms();
		if (c->pid == 0) { /* between runs */
			if (stopping || restart_at < 0)
				return;
			if (now >= restart_at) {
				restart_at = restart(c, cb, &delay);
				continue;
			}
		} else if (c->reaped &&
		    (drain_at <= now || (c->out == -1 && c->err == -1))) {
			drain_at = -1;
			kill_at = -1;
			restart_at = end_run(c, cb, stopping, &delay);
			if (restart_at >= 0)
				restart_at += now_mono_ms();
			continue;
		}
		n = watch_fds(c, stopping ? -1 : stopfd, &extra, pfd, which);
		at = earliest(earliest(kill_at, drain_at), restart_at);
		if (c->pid != 0 && !c->reaped && c->pidfd == -1)
			at = earliest(at, now + POLL_NO_PIDFD_MS);
		tmo = timeout_to(at, now);
		if (poll(pfd, (nfds_t)n, tmo) == -1 && errno != EINTR)
			tmo = 10; /* not expected; do not spin */
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (which[i] == NULL) {
				stopping = true;
				if (c->pid > 0 && !c->reaped) {
					signal_group(c->pid, SIGTERM);
					kill_at =
					    now_mono_ms() + c->o.kill_after_ms;
				}
			} else if (which[i] == &extra) {
				cb->extra(cb->ctx);
			} else if (which[i] != &c->pidfd) {
				take(c, cb, which[i]);
			}
		}
		if (c->pid > 0 && !c->reaped && reap(c)) {
			drain_at = now_mono_ms() + DRAIN_MS;
			if (c->out != -1)
				take(c, cb, &c->out);
			if (c->err != -1)
				take(c, cb, &c->err);
		}
		if (kill_at >= 0 && now_mono_ms() >= kill_at) {
			signal_rest(c, SIGKILL);
			kill_at = -1;
		}
		cb->flush(cb->ctx);
	}
}

void
child_release(struct child *c)
{
	pid_t g = c->pid > 0 ? c->pid : c->left; /* the run, or its leftovers */
	int64_t until;

	if (g > 0 && ((c->pid > 0 && !c->reaped) || group_alive(g))) {
		if (c->pid > 0)
			signal_rest(c, SIGTERM);
		else
			kill(-g, SIGTERM);
		until = now_mono_ms() + c->o.kill_after_ms;
		while (((c->pid > 0 && !reap(c)) || group_alive(g)) &&
		    now_mono_ms() < until)
			usleep(10000);
		if (c->pid > 0)
			signal_rest(c, SIGKILL);
		else if (group_alive(g))
			kill(-g, SIGKILL);
		while (c->pid > 0 && !c->reaped &&
		    waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	c->left = 0;
	close_fd(&c->out);
	close_fd(&c->err);
	close_fd(&c->pidfd);
	sse_buf_release(&c->errline);
	free(c->rbuf);
	c->rbuf = NULL;
	c->pid = 0;
}

int
child_exit_json(char *buf, size_t sz, const struct child_exit *e)
{
	char rs[48] = "";
	const char *name;

	if (e->restart_in_ms >= 0)
		snprintf(rs, sizeof(rs), ",\"restart_in_ms\":%lld",
		    (long long)e->restart_in_ms);
	if (WIFSIGNALED(e->status)) {
		name = sigabbrev_np(WTERMSIG(e->status));
		return snprintf(buf, sz,
		    "{\"pid\":%ld,\"signal\":%d,\"name\":\"SIG%s\"%s}",
		    (long)e->pid, WTERMSIG(e->status), name ? name : "UNKNOWN",
		    rs);
	}
	return snprintf(buf, sz, "{\"pid\":%ld,\"status\":%d%s}", (long)e->pid,
	    WEXITSTATUS(e->status), rs);
}
