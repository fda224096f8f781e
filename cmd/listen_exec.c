/*
 * sse listen: what happens after each event besides printing it. --state
 * FILE keeps the last event ID across runs (read at the start, replaced
 * atomically after each event whose ID changed), so that a cron or CI job
 * goes on where the last one stopped; --exec CMD runs a command for each
 * event, one at a time and in order, with the data on its standard input
 * and the fields in its environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "listen.h"
#include "msg.h"
#include "recording.h"
#include "sig.h"
#include "utf8.h"
#include "util.h"

/* The longest data also given in SSE_DATA (the kernel caps one string). */
#define EXEC_ENV_DATA_MAX (64 * 1024)

int
listen_state_load(struct listen_opts *o)
{
	FILE *fp;
	char buf[8192];
	size_t n;

	if ((fp = fopen(o->state, "r")) == NULL) {
		if (errno == ENOENT)
			return 0; /* the first run: nothing yet */
		msg_err("--state: cannot read '%s'", o->state);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* --last-event-id, when given too, says where to start. */
	if (o->last_event_id == NULL && n > 0) {
		if (memchr(buf, '\n', n) != NULL || strlen(buf) != n) {
			msg_errx("--state: '%s' does not hold an event ID",
			    o->state);
			return -1;
		}
		if (!sse_utf8_valid(buf, n)) {
			msg_errx("--state: '%s' does not hold an event ID: not "
				 "valid UTF-8",
			    o->state);
			return -1;
		}
		if ((o->state_text = strdup(buf)) == NULL) {
			msg_errx("out of memory");
			return -1;
		}
		o->last_event_id = o->state_text;
	}
	return 0;
}

/* Replace FILE with id and a newline: a new file renamed over it. */
static int
state_write(const char *path, const char *id, size_t len)
{
	char tmp[4096];
	ssize_t w;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1)
		return -1;
	if ((w = write(fd, id, len)) != (ssize_t)len || write(fd, "\n", 1) != 1)
		rc = -1;
	if (close(fd) == -1 || rc == -1 || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static int
state_save(struct listen *l, const struct sse_event *ev)
{
	struct sse_buf *b = &l->state_id;

	if (l->state_written && b->len == ev->id_len &&
	    (b->len == 0 || memcmp(b->p, ev->id, b->len) == 0))
		return 0;
	if (sse_buf_set(b, ev->id, ev->id_len) == -1 ||
	    state_write(l->o->state, ev->id, ev->id_len) == -1) {
		listen_fail(l, EXIT_ERROR, "--state: cannot write '%s': %s",
		    l->o->state, strerror(errno ? errno : ENOMEM));
		return -1;
	}
	l->state_written = true;
	return 0;
}

/* In the child: the event in the environment, then the command. */
static void
exec_child(const char *cmd, const struct sse_event *ev, int in)
{
	char *s;

	if (dup2(in, STDIN_FILENO) == -1)
		_exit(127);
	if (in != STDIN_FILENO)
		close(in);
	if ((s = strndup(ev->type, ev->type_len)) != NULL)
		setenv("SSE_EVENT", s, 1);
	free(s);
	if ((s = strndup(ev->id, ev->id_len)) != NULL)
		setenv("SSE_ID", s, 1);
	free(s);
	unsetenv("SSE_DATA");
	if (ev->data_len <= EXEC_ENV_DATA_MAX &&
	    memchr(ev->data, '\0', ev->data_len) == NULL &&
	    (s = strndup(ev->data, ev->data_len)) != NULL)
		setenv("SSE_DATA", s, 1);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* A command still running at --timeout (or a signal): SIGTERM to its
 * process group, then SIGKILL after this long. */
#define EXEC_KILL_AFTER_MS 1000

/* A run of --exec's command: its process (group), the data still to feed
 * it, and how it ended. */
struct exec_run {
	pid_t pid;
	int pidfd; /* -1: polled for instead */
	int in; /* the write end of its standard input; -1 once closed */
	const char *p; /* data not written yet */
	size_t len;
	int64_t kill_ms; /* monotonic: SIGKILL then; -1 before SIGTERM */
	int status; /* as from waitpid(2) */
};

/* Write what the command will take now; a command that does not read all
 * of it is fine (EPIPE). */
static void
exec_feed(struct exec_run *x)
{
	ssize_t n;

	while (x->len > 0) {
		n = write(x->in, x->p, x->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		x->p += n;
		x->len -= (size_t)n;
	}
	close(x->in);
	x->in = -1;
}

static int
exec_start(struct exec_run *x, const char *cmd, const struct sse_event *ev)
{
	int fds[2];

	if (pipe(fds) == -1)
		return -1;
	if ((x->pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (x->pid == 0) {
		/* A group of its own: what it starts is stopped with it. */
		(void)setpgid(0, 0);
		close(fds[1]);
		exec_child(cmd, ev, fds[0]);
	}
	(void)setpgid(x->pid, x->pid);
	close(fds[0]);
	x->in = fds[1];
	(void)fcntl(x->in, F_SETFL, fcntl(x->in, F_GETFL) | O_NONBLOCK);
	(void)fcntl(x->in, F_SETFD, FD_CLOEXEC);
	x->p = ev->data;
	x->len = ev->data_len;
	x->kill_ms = -1;
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	return 0;
}

/* Whether the command has ended (and been reaped). */
static bool
exec_reaped(struct exec_run *x)
{
	pid_t r;

	while (
	    (r = waitpid(x->pid, &x->status, WNOHANG)) == -1 && errno == EINTR)
		;
	return r == x->pid || (r == -1 && errno == ECHILD);
}

/* The poll timeout: until the deadline, the SIGKILL, or a tick without a
 * pidfd. */
static int
exec_wait_ms(const struct exec_run *x, int64_t deadline, int64_t now)
{
	int64_t t = 60000;

	if (x->kill_ms >= 0)
		t = x->kill_ms - now;
	else if (deadline >= 0)
		t = deadline - now;
	if (x->pidfd == -1 && t > 20)
		t = 20;
	if (t > 60000)
		t = 60000;
	return t < 0 ? 0 : (int)t;
}

/*
 * Feed the command and wait for its end, but not past --timeout nor a
 * SIGINT or SIGTERM: then stop it (SIGTERM to its group, SIGKILL a second
 * later) and say so: 1. 0 when it ended on its own, -1 on error.
 */
static int
exec_wait(struct listen *l, struct exec_run *x)
{
	const struct listen_opts *o = l->o;
	int64_t deadline = -1, now;
	struct pollfd pfd[3];
	int n, stopped = 0;

	if (o->out.timeout_ms >= 0)
		deadline = l->start_ms + o->out.timeout_ms;
	for (;;) {
		if (x->in != -1 && x->len == 0) {
			close(x->in);
			x->in = -1;
		}
		if (exec_reaped(x))
			break;
		now = now_mono_ms();
		if (x->kill_ms < 0 &&
		    (sig_caught || (deadline >= 0 && now >= deadline))) {
			stopped = 1;
			(void)kill(-x->pid, SIGTERM);
			x->kill_ms = now + EXEC_KILL_AFTER_MS;
		} else if (x->kill_ms >= 0 && now >= x->kill_ms) {
			(void)kill(-x->pid, SIGKILL);
			while (waitpid(x->pid, &x->status, 0) == -1)
				if (errno != EINTR)
					break;
			break;
		}
		n = 0;
		pfd[n].fd = sig_fd();
		pfd[n++].events = POLLIN;
		if (x->pidfd != -1) {
			pfd[n].fd = x->pidfd;
			pfd[n++].events = POLLIN;
		}
		if (x->in != -1) {
			pfd[n].fd = x->in;
			pfd[n++].events = POLLOUT;
		}
		if (poll(pfd, (nfds_t)n, exec_wait_ms(x, deadline, now)) ==
			-1 &&
		    errno != EINTR)
			return -1;
		sig_drain();
		if (x->in != -1)
			exec_feed(x);
	}
	if (x->in != -1)
		close(x->in);
	if (x->pidfd != -1)
		close(x->pidfd);
	/* Once its leader is gone, what it left behind goes too. */
	if (stopped)
		(void)kill(-x->pid, SIGKILL);
	return stopped;
}

/* Run --exec's command for ev and wait for it: its exit status, -1 on
 * error, or -2 when it was stopped (--timeout or a signal: l->stop). */
static int
exec_run(struct listen *l, const char *cmd, const struct sse_event *ev)
{
	struct exec_run x;
	int r;

	memset(&x, 0, sizeof(x));
	if (exec_start(&x, cmd, ev) == -1)
		return -1;
	if ((r = exec_wait(l, &x)) == -1)
		return -1;
	if (r == 1) {
		if (sig_caught)
			l->stop = 128 + sig_caught;
		else
			listen_fail(l, EXIT_TIMEOUT,
			    "'%s': timed out after %g s (--timeout); --exec: "
			    "'%s' stopped",
			    l->o->url, listen_secs(l->o->out.timeout_ms), cmd);
		return -2;
	}
	if (WIFSIGNALED(x.status))
		return 128 + WTERMSIG(x.status);
	return WEXITSTATUS(x.status);
}

/* Run the command for ev: 0 when it succeeded, 1 when it failed (and
 * listen goes on), -1 when listen ends. */
static int
exec_event(struct listen *l, const struct sse_event *ev)
{
	int st;

	/* What was printed comes before what the command prints. */
	if (output_flush(&l->out) != OUTPUT_CONTINUE)
		return -1; /* the output ends listen on its own */
	if ((st = exec_run(l, l->o->exec, ev)) == 0)
		return 0;
	if (st == -2)
		return -1;
	if (st == -1) {
		listen_fail(l, EXIT_ERROR, "--exec: cannot run '%s': %s",
		    l->o->exec, strerror(errno));
		return -1;
	}
	if (l->o->exec_stop) {
		listen_fail(
		    l, EXIT_ERROR, "--exec: '%s' exited %d", l->o->exec, st);
		return -1;
	}
	msg_warnx("--exec: '%s' exited %d", l->o->exec, st);
	return 1;
}

int
listen_expect_load(struct listen_opts *o)
{
	struct sse_event ev;
	size_t i;
	int rc;

	if ((o->expected = calloc(1, sizeof(*o->expected))) == NULL) {
		msg_errx("out of memory");
		return -1;
	}
	/* The reader's messages name sse replay's way of seeing it. */
	if ((rc = recording_load(o->expected, o->expect, 0)) != 0) {
		free(o->expected);
		o->expected = NULL;
		return -1;
	}
	for (i = 0; i < o->expected->nev && !o->expect_ids; i++)
		if (o->expected->ev[i].kind == SSE_REC_EVENT) {
			sse_recording_event(o->expected, i, &ev);
			o->expect_ids = ev.id_len > 0;
		}
	return 0;
}

/* The next expected event at or after *i, or false when there is none. */
static bool
next_expected(const struct sse_recording *rec, size_t *i)
{
	while (*i < rec->nev && rec->ev[*i].kind != SSE_REC_EVENT)
		(*i)++;
	return *i < rec->nev;
}

/* One event for a diff: type, data and last event ID, made visible. */
static void
show(struct listen *l, const char *what, const struct sse_event *ev)
{
	const char *v;
	int n;

	v = listen_visible(l, ev->type, ev->type_len, &n);
	fprintf(stderr, "  %s event: %.*s\n", what, n, v);
	v = listen_visible(l, ev->id, ev->id_len, &n);
	fprintf(stderr, "  %s id:    %.*s\n", what, n, v);
	v = listen_visible(l, ev->data, ev->data_len, &n);
	fprintf(stderr, "  %s data:  %.*s\n", what, n, v);
}

static bool
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/*
 * The counter of an id of sse serve's form EPOCH-N (EPOCH: up to 32 lower
 * case letters and digits, N: digits or "end"), whose epoch changes on
 * every start of a server without a journal; NULL for other ids.
 */
static const char *
serve_counter(const char *id, size_t len, size_t *n)
{
	const char *dash = memchr(id, '-', len);
	size_t i, e;

	if (dash == NULL || (e = (size_t)(dash - id)) == 0 || e > 32 ||
	    e + 1 == len)
		return NULL;
	for (i = 0; i < e; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
			(id[i] >= '0' && id[i] <= '9')))
			return NULL;
	*n = len - e - 1;
	if (same(dash + 1, *n, "end", 3))
		return dash + 1;
	for (i = e + 1; i < len; i++)
		if (id[i] < '0' || id[i] > '9')
			return NULL;
	return dash + 1;
}

/* One place of an id: [TOPIC:]EPOCH-N compared by TOPIC and N. */
static bool
same_place(const char *a, size_t an, const char *b, size_t bn)
{
	const char *ta = memchr(a, ':', an), *tb = memchr(b, ':', bn);
	size_t pa = ta != NULL ? (size_t)(ta - a) + 1 : 0;
	size_t pb = tb != NULL ? (size_t)(tb - b) + 1 : 0;
	const char *ca, *cb;
	size_t na, nb;

	if (!same(a, pa, b, pb))
		return false;
	if ((ca = serve_counter(a + pa, an - pa, &na)) != NULL &&
	    (cb = serve_counter(b + pb, bn - pb, &nb)) != NULL)
		return same(ca, na, cb, nb);
	return same(a, an, b, bn);
}

/*
 * Ids are compared only when the file has some, and ids of sse serve's
 * forms by their counters, so that a golden file recorded from one run of
 * sse serve matches the next: EPOCH-N, and on a connection that follows
 * several topics "b:EPOCH-7 a:EPOCH-5", place by place.
 */
static bool
same_id(const struct listen *l, const struct sse_event *a,
    const struct sse_event *b)
{
	const char *pa = a->id, *ea = a->id + a->id_len;
	const char *pb = b->id, *eb = b->id + b->id_len;
	const char *sa, *sb;

	if (!l->o->expect_ids)
		return true;
	if (a->id_len == 0 || b->id_len == 0)
		return a->id_len == b->id_len;
	for (;;) {
		if ((sa = memchr(pa, ' ', (size_t)(ea - pa))) == NULL)
			sa = ea;
		if ((sb = memchr(pb, ' ', (size_t)(eb - pb))) == NULL)
			sb = eb;
		if (!same_place(pa, (size_t)(sa - pa), pb, (size_t)(sb - pb)))
			return false;
		if (sa == ea || sb == eb)
			return sa == ea && sb == eb;
		pa = sa + 1;
		pb = sb + 1;
	}
}

/* --expect: ev must be the next event of the file; 1 when all have come. */
static int
expect_event(struct listen *l, const struct sse_event *ev)
{
	const struct sse_recording *rec = l->o->expected;
	struct sse_event want;
	size_t i = l->expect_next, n;

	n = (size_t)rec->nevents;
	if (!next_expected(rec, &i)) {
		listen_fail(l, EXIT_EXPECT,
		    "--expect: an event after the %zu of '%s'", n,
		    l->o->expect);
		show(l, "+", ev);
		return -1;
	}
	sse_recording_event(rec, i, &want);
	if (!same(ev->type, ev->type_len, want.type, want.type_len) ||
	    !same(ev->data, ev->data_len, want.data, want.data_len) ||
	    !same_id(l, ev, &want)) {
		listen_fail(l, EXIT_EXPECT,
		    "--expect: event %zu differs from '%s' (- expected, + "
		    "received)",
		    l->expect_count + 1, l->o->expect);
		show(l, "-", &want);
		show(l, "+", ev);
		return -1;
	}
	l->expect_next = i + 1;
	if (++l->expect_count < n)
		return 0;
	l->stop = EXIT_OK; /* all came: done, as -n is */
	return 1;
}

/* What ended the session before the expected events came. */
static const char *
expect_stopped(int rc)
{
	switch (rc) {
	case EXIT_OK:
		return "the end (of the stream, or -n, --until)";
	case EXIT_TIMEOUT:
		return "--timeout";
	case EXIT_IDLE:
		return "--idle-timeout";
	case EXIT_RECONNECTS:
		return "--max-reconnects";
	default:
		return rc >= 128 ? "a signal" : "an error";
	}
}

int
listen_expect_end(struct listen *l, int rc)
{
	size_t n;

	if (l->o->expected == NULL || rc == EXIT_EXPECT)
		return rc;
	n = l->o->expected->nevents;
	if (l->expect_count >= n)
		return rc;
	msg_errx("--expect: %zu of the %zu events of '%s' came before %s "
		 "(exit %d)",
	    l->expect_count, n, l->o->expect, expect_stopped(rc), EXIT_EXPECT);
	return EXIT_EXPECT;
}

/*
 * At least once: --state never passes an event whose command did not
 * succeed, so the next run gets it again. A command that failed (listen
 * going on without --exec-stop) holds the state where it was for the rest
 * of the run.
 */
int
listen_after_event(struct listen *l, const struct sse_event *ev, bool printed)
{
	int r = 0, x = 0;

	if (l->o->expected != NULL && printed &&
	    (r = expect_event(l, ev)) == -1)
		return -1;
	if (l->o->exec != NULL && printed && (x = exec_event(l, ev)) == -1)
		return -1;
	if (x == 1 && l->o->state != NULL && !l->state_held) {
		l->state_held = true;
		msg_warnx("--state: '%s' stays before this event for the rest "
			  "of the run (--exec failed)",
		    l->o->state);
	}
	if (l->o->state != NULL && !l->state_held && state_save(l, ev) == -1)
		return -1;
	return r == 1 ? -1 : 0; /* --expect has all its events */
}

void
listen_exec_release(struct listen *l)
{
	sse_buf_release(&l->state_id);
}
