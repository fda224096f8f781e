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
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "listen.h"
#include "msg.h"
#include "recording.h"

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

/* Write the data to the command; a command that does not read is fine. */
static void
feed_child(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EPIPE: it did not want it all */
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Run --exec's command for ev and wait for it: its exit status, or -1. */
static int
exec_run(const char *cmd, const struct sse_event *ev)
{
	int fds[2], st;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		exec_child(cmd, ev, fds[0]);
	}
	close(fds[0]);
	feed_child(fds[1], ev->data, ev->data_len);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int
exec_event(struct listen *l, const struct sse_event *ev)
{
	int st;

	/* What was printed comes before what the command prints. */
	if (output_flush(&l->out) != OUTPUT_CONTINUE)
		return 0; /* the output ends listen on its own */
	if ((st = exec_run(l->o->exec, ev)) == 0)
		return 0;
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
	return 0;
}

int
listen_expect_load(struct listen_opts *o)
{
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
	    !same(ev->id, ev->id_len, want.id, want.id_len)) {
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

int
listen_expect_end(struct listen *l, int rc)
{
	size_t n;

	if (l->o->expected == NULL || rc == EXIT_EXPECT)
		return rc;
	n = l->o->expected->nevents;
	if (l->expect_count >= n)
		return rc;
	msg_errx("--expect: %zu of the %zu events of '%s' came (exit %d)",
	    l->expect_count, n, l->o->expect, rc);
	return EXIT_EXPECT;
}

int
listen_after_event(struct listen *l, const struct sse_event *ev, bool printed)
{
	int r = 0;

	if (l->o->expected != NULL && printed &&
	    (r = expect_event(l, ev)) == -1)
		return -1;
	if (l->o->state != NULL && state_save(l, ev) == -1)
		return -1;
	if (l->o->exec != NULL && printed && exec_event(l, ev) == -1)
		return -1;
	return r == 1 ? -1 : 0; /* --expect has all its events */
}

void
listen_exec_release(struct listen *l)
{
	sse_buf_release(&l->state_id);
}
