/*
 * cmd/child.c with real processes: line by line from programs that buffer
 * by blocks into a pipe, stderr apart, exit statuses and signals, restart
 * policies and their backoff, the stop (SIGTERM, then SIGKILL to the
 * whole group), and PR_SET_PDEATHSIG when the parent is killed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "tap.h"
#include "util.h"

struct got {
	struct sse_buf out, err; /* err: lines joined with '|' */
	int64_t t0, t_out[16]; /* when out grew past each '\n' */
	int nl;
	struct child_exit ex[8];
	int nex;
	int stop_after; /* write stopfd after this many exits */
	int stop_on_out; /* ... or once stdout has this many lines */
	int stopfd;
	int extra_fd, extras;
};

static void
on_out(void *ctx, const char *p, size_t n)
{
	struct got *g = ctx;

	sse_buf_add(&g->out, p, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' && g->nl < 16)
			g->t_out[g->nl++] = now_mono_ms() - g->t0;
	if (g->stop_on_out > 0 && g->nl >= g->stop_on_out) {
		uint64_t one = 1;

		(void)!write(g->stopfd, &one, sizeof(one));
		g->stop_on_out = 0;
	}
}

static void
on_err(void *ctx, const char *p, size_t n)
{
	struct got *g = ctx;

	sse_buf_add(&g->err, p, n);
	sse_buf_addch(&g->err, '|');
}

static void
on_exit_(void *ctx, const struct child_exit *e)
{
	struct got *g = ctx;
	uint64_t one = 1;

	if (g->nex < 8)
		g->ex[g->nex] = *e;
	if (++g->nex == g->stop_after)
		(void)!write(g->stopfd, &one, sizeof(one));
}

static void
on_flush(void *ctx)
{
	(void)ctx;
}

/* The extra descriptor (a pipe) is readable: take a byte, count it. */
static void
on_extra(void *ctx)
{
	struct got *g = ctx;
	char b;

	if (read(g->extra_fd, &b, 1) == 1)
		g->extras++;
}

static struct child_opts
opts(const char **argv)
{
	struct child_opts o;

	memset(&o, 0, sizeof(o));
	o.argv = (char *const *)argv;
	o.restart = CHILD_RESTART_NEVER;
	o.err = CHILD_STDERR_EVENT;
	o.restart_delay_ms = 50;
	o.kill_after_ms = 300;
	o.max_line = 1024;
	return o;
}

/* Run argv to its end (or until a stop), into g. */
static int
run(struct got *g, const struct child_opts *o)
{
	struct child c;
	struct child_cb cb = {on_out, on_err, on_exit_, on_flush, g,
	    g->extra_fd > 0 ? g->extra_fd : -1, on_extra};
	int rc;

	sse_buf_init(&g->out, 0);
	sse_buf_init(&g->err, 0);
	g->stopfd = eventfd(0, EFD_CLOEXEC);
	g->t0 = now_mono_ms();
	child_init(&c, o);
	if ((rc = child_start(&c)) == 0)
		child_run(&c, g->stopfd, &cb);
	else
		printf("# %s\n", c.why);
	child_release(&c);
	close(g->stopfd);
	sse_buf_addch(&g->out, '\0');
	sse_buf_addch(&g->err, '\0');
	return rc;
}

static void
got_free(struct got *g)
{
	sse_buf_release(&g->out);
	sse_buf_release(&g->err);
	memset(g, 0, sizeof(*g));
}

static void
test_lines(void)
{
	const char *argv[] = {
	    "sh", "-c", "printf 'a\\nb\\n'; test -t 1 && echo tty", NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};

	ok(run(&g, &o) == 0, "sh starts");
	is_mem(g.out.p, g.out.len - 1, "a\nb\ntty\n", 8,
	    "stdout is a terminal, LF not made CRLF");
	ok(g.nex == 1 && WIFEXITED(g.ex[0].status) &&
		WEXITSTATUS(g.ex[0].status) == 0 &&
		g.ex[0].restart_in_ms == -1 && !g.ex[0].stopped,
	    "one exit, status 0, no restart");
	got_free(&g);
}

/* Each of these buffers by blocks into a pipe: the lines must not wait. */
static void
test_line_by_line(const char *name, const char **argv)
{
	struct child_opts o = opts(argv);
	struct got g = {0};

	run(&g, &o);
	ok(g.nl == 2 && g.t_out[1] - g.t_out[0] >= 600,
	    "%s: the first line comes before the sleep (%lld ms apart)", name,
	    g.nl == 2 ? (long long)(g.t_out[1] - g.t_out[0]) : -1LL);
	is_mem(g.out.p, g.out.len - 1, "one\ntwo\n", 8,
	    "  and the lines as written");
	got_free(&g);
}

static void
test_stderr(void)
{
	const char *argv[] = {"sh", "-c",
	    "echo out; echo err1 >&2; printf 'e2\\r\\n' >&2; printf part >&2",
	    NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};

	run(&g, &o);
	is_mem(g.out.p, g.out.len - 1, "out\n", 4, "stderr apart: stdout");
	is_mem(g.err.p, g.err.len - 1, "err1|e2|part|", 13,
	    "stderr lines, CRLF ended too, the last one unended");
	got_free(&g);

	o.err = CHILD_STDERR_MERGE;
	run(&g, &o);
	ok(strstr(g.out.p, "err1\n") != NULL && g.err.len == 1,
	    "merge: stderr on stdout's terminal");
	got_free(&g);

	o.err = CHILD_STDERR_DROP;
	run(&g, &o);
	ok(strcmp(g.out.p, "out\n") == 0 && g.err.len == 1,
	    "drop: stderr nowhere");
	got_free(&g);

	o.err = CHILD_STDERR_EVENT;
	o.max_line = 4;
	argv[2] = "printf 'abcdefghij\\nxy\\n' >&2";
	run(&g, &o);
	is_mem(g.err.p, g.err.len - 1, "abcd|efgh|ij|xy|", 16,
	    "a line longer than max_line in pieces");
	got_free(&g);
}

static void
test_status(void)
{
	const char *argv[] = {"sh", "-c", "exit 3", NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};
	char js[128];

	run(&g, &o);
	ok(g.nex == 1 && WIFEXITED(g.ex[0].status) &&
		WEXITSTATUS(g.ex[0].status) == 3,
	    "exit status 3");
	child_exit_json(js, sizeof(js), &g.ex[0]);
	ok(strstr(js, "\"status\":3}") != NULL, "as JSON: %s", js);
	got_free(&g);

	argv[2] = "kill -USR1 $$";
	run(&g, &o);
	ok(g.nex == 1 && WIFSIGNALED(g.ex[0].status) &&
		WTERMSIG(g.ex[0].status) == SIGUSR1,
	    "killed by SIGUSR1");
	child_exit_json(js, sizeof(js), &g.ex[0]);
	ok(strstr(js, "\"signal\":10,\"name\":\"SIGUSR1\"}") != NULL,
	    "as JSON: %s", js);
	got_free(&g);

	{
		const char *nx[] = {"sse-no-such-command", NULL};

		o = opts(nx);
		ok(run(&g, &o) == -1, "a missing command fails to start");
		got_free(&g);
	}
}

static void
test_restart(void)
{
	const char *argv[] = {"sh", "-c", "echo run; exit 1", NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};
	char js[128];

	o.restart = CHILD_RESTART_ON_FAILURE;
	g.stop_after = 4;
	run(&g, &o);
	ok(g.nex == 4 && strcmp(g.out.p, "run\nrun\nrun\nrun\n") == 0,
	    "on-failure: started again after exit 1 (%d runs)", g.nex);
	ok(g.ex[0].restart_in_ms == 50 && g.ex[1].restart_in_ms == 100 &&
		g.ex[2].restart_in_ms == 200,
	    "backoff doubles: %lld %lld %lld", (long long)g.ex[0].restart_in_ms,
	    (long long)g.ex[1].restart_in_ms, (long long)g.ex[2].restart_in_ms);
	ok(g.ex[3].restart_in_ms == 400 && !g.ex[3].stopped,
	    "stopped while waiting to restart: no more runs");
	child_exit_json(js, sizeof(js), &g.ex[0]);
	ok(strstr(js, "\"restart_in_ms\":50}") != NULL, "as JSON: %s", js);
	got_free(&g);

	argv[2] = "echo run; exit 0";
	run(&g, &o);
	ok(g.nex == 1 && g.ex[0].restart_in_ms == -1,
	    "on-failure: not after exit 0");
	got_free(&g);

	o.restart = CHILD_RESTART_ALWAYS;
	g.stop_after = 2;
	run(&g, &o);
	ok(g.nex == 2 && strcmp(g.out.p, "run\nrun\n") == 0,
	    "always: after exit 0 too");
	got_free(&g);

	o.restart = CHILD_RESTART_NEVER;
	argv[2] = "echo run; exit 1";
	run(&g, &o);
	ok(g.nex == 1 && g.ex[0].restart_in_ms == -1, "never: one run");
	got_free(&g);
}

static int
gone(pid_t pid)
{
	char path[64], st[256];
	FILE *f;
	char *p;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	p = fgets(st, sizeof(st), f);
	fclose(f);
	/* A zombie no one reaps yet is dead too. */
	return p != NULL && (p = strrchr(st, ')')) != NULL && p[2] == 'Z';
}

static int
wait_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (gone(pid))
			return 1;
		usleep(10000);
	}
	return 0;
}

static void
test_stop(void)
{
	/* The shell and its sleep ignore SIGTERM: SIGKILL, to the group. */
	const char *argv[] = {
	    "sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait", NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};
	pid_t sleeper;

	o.restart = CHILD_RESTART_ALWAYS;
	g.stop_on_out = 1;
	run(&g, &o);
	sleeper = (pid_t)atol(g.out.p);
	ok(g.nex == 1 && g.ex[0].stopped && WIFSIGNALED(g.ex[0].status) &&
		WTERMSIG(g.ex[0].status) == SIGKILL &&
		g.ex[0].restart_in_ms == -1,
	    "stopped: SIGKILL after the grace period, no restart");
	ok(g.ex[0].ran_ms >= 250 && g.ex[0].ran_ms < 3000,
	    "  after about kill_after (%lld ms)", (long long)g.ex[0].ran_ms);
	ok(sleeper > 0 && wait_gone(sleeper),
	    "  its background sleep is gone too");
	got_free(&g);

	argv[2] = "echo up; exec sleep 30";
	o.kill_after_ms = 10000; /* SIGTERM's status: it was enough */
	g.stop_on_out = 1;
	run(&g, &o);
	ok(g.nex == 1 && WIFSIGNALED(g.ex[0].status) &&
		WTERMSIG(g.ex[0].status) == SIGTERM && g.ex[0].ran_ms < 5000,
	    "stopped by SIGTERM when it obeys (%lld ms)",
	    (long long)g.ex[0].ran_ms);
	got_free(&g);
}

/* Another descriptor watched meanwhile (serve: publish requests). */
static void
test_extra(void)
{
	const char *argv[] = {"sleep", "0.3", NULL};
	struct child_opts o = opts(argv);
	struct got g = {0};
	int p[2];

	if (pipe(p) == -1)
		return;
	(void)!write(p[1], "ab", 2);
	g.extra_fd = p[0];
	run(&g, &o);
	ok(g.extras == 2, "the extra descriptor is read while it runs (%d)",
	    g.extras);
	close(p[0]);
	close(p[1]);
	got_free(&g);
}

/* The parent killed by SIGKILL: PR_SET_PDEATHSIG takes the command. */
static void
test_pdeathsig(void)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct child_opts o = opts(argv);
	int p[2];
	pid_t helper, pid = 0;

	if (pipe(p) == -1)
		return;
	if ((helper = fork()) == 0) {
		struct child c;

		close(p[0]);
		child_init(&c, &o);
		if (child_start(&c) == 0)
			(void)!write(p[1], &c.pid, sizeof(c.pid));
		pause();
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &pid, sizeof(pid)) == (ssize_t)sizeof(pid) && pid > 0,
	    "a helper started sleep");
	close(p[0]);
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	ok(pid > 0 && wait_gone(pid), "sse killed: the command goes with it");
}

int
main(void)
{
	const char *py[] = {"python3", "-c",
	    "import time\nprint('one')\ntime.sleep(1)\nprint('two')", NULL};
	const char *sd[] = {
	    "sh", "-c", "{ echo one; sleep 1; echo two; } | sed s/x/y/", NULL};
	const char *nd[] = {"node", "-e",
	    "console.log('one'); setTimeout(() => console.log('two'), 1000)",
	    NULL};

	signal(SIGPIPE, SIG_IGN);
	test_lines();
	test_line_by_line("python", py);
	test_line_by_line("sed (C stdio)", sd);
	if (access("/usr/bin/node", X_OK) == 0)
		test_line_by_line("node", nd);
	test_stderr();
	test_status();
	test_restart();
	test_stop();
	test_pdeathsig();
	test_extra();
	return done_testing();
}
