/*
 * Running a command for `sse serve -- CMD`: its stdout on a pseudo-terminal
 * (so that C stdio, Python and Node write line by line, as on a terminal),
 * its stderr on a pipe of its own, its end as a wait(2) status, restarts
 * with backoff, and a stop that never leaves it behind: SIGTERM to its
 * process group, SIGKILL after a grace period, and PR_SET_PDEATHSIG in case
 * sse itself is killed.
 *
 * One thread drives it: child_start() in any thread, then child_run() until
 * the command is over for good or stopfd becomes readable.
 */
#ifndef SSE_CHILD_H
#define SSE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

enum child_restart {
	CHILD_RESTART_NEVER,
	CHILD_RESTART_ON_FAILURE, /* an exit status other than 0, a signal */
	CHILD_RESTART_ALWAYS,
};

enum child_stderr {
	CHILD_STDERR_EVENT, /* lines handed to the err callback */
	CHILD_STDERR_DROP, /* /dev/null */
	CHILD_STDERR_MERGE, /* the same terminal as stdout */
};

struct child_opts {
	char *const *argv; /* NULL-terminated; argv[0] is looked up in PATH */
	enum child_restart restart;
	enum child_stderr err;
	int64_t restart_delay_ms; /* the first backoff, doubled up to 1 min */
	int64_t kill_after_ms; /* SIGTERM, then SIGKILL after this long */
	size_t max_line; /* longer stderr lines are handed on in pieces */
};

/* How one run of the command ended. */
struct child_exit {
	pid_t pid;
	int status; /* as from waitpid(2); 127 when it could not be run */
	int64_t ran_ms;
	int64_t restart_in_ms; /* -1: it will not be started again */
	bool stopped; /* child_run was told to stop it */
};

struct child_cb {
	void (*out)(void *ctx, const char *p, size_t n); /* stdout bytes */
	void (*err)(void *ctx, const char *line, size_t n); /* no line end */
	void (*exited)(void *ctx, const struct child_exit *e);
	void (*flush)(void *ctx); /* after each round of reads */
	void *ctx;
	int extra_fd; /* also watched (-1: none): extra() when readable */
	void (*extra)(void *ctx);
};

struct child {
	struct child_opts o;
	pid_t pid; /* 0: no run going on */
	pid_t left; /* the last run's group, when something outlived it */
	int out, err, pidfd;
	int status;
	bool reaped;
	int64_t started_ms;
	struct sse_buf errline; /* a stderr line not ended yet */
	char *rbuf;
	char why[256]; /* child_start's reason, as "cannot run 'x': ..." */
};

void child_init(struct child *c, const struct child_opts *o);
/* Starts the command; -1 with c->why set (it was not found, ...). */
int child_start(struct child *c);
/*
 * Reads the command's output into the callbacks, restarts it as o.restart
 * says, and returns once it has ended for good, or (when stopfd becomes
 * readable) once it is stopped and reaped.
 */
void child_run(struct child *c, int stopfd, const struct child_cb *cb);
/* Stops and reaps a command still running (child_run not used), frees. */
void child_release(struct child *c);

/*
 * The exit as the data of an event: {"pid":N,"status":N} or
 * {"pid":N,"signal":N,"name":"SIGTERM"}, with "restart_in_ms":N when it is
 * started again. Returns the length, as snprintf.
 */
int child_exit_json(char *buf, size_t sz, const struct child_exit *e);

#endif
