/*
 * `sse serve -- CMD [ARG...]`: the command (cmd/child.c) as the input,
 * instead of stdin. Its stdout goes through the input mode as stdin would;
 * each stderr line is an event of type "stderr"; each end of a run is an
 * event of type "exit" saying how it ended (lib-free JSON from child.c).
 * The stream goes on across restarts: the same ids, history and clients.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "msg.h"
#include "opts.h"
#include "serve.h"

/* --stderr, --restart: one of a few words. */
static int
opt_cmd_word(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	static const char *const errs[] = {"event", "drop", "merge"};
	static const char *const restarts[] = {"never", "on-failure", "always"};
	struct serve *s = base;
	int i;

	for (i = 0; i < 3; i++) {
		if (row->id == 's' && strcmp(arg, errs[i]) == 0) {
			s->cmd.err = (enum child_stderr)i;
			return 0;
		}
		if (row->id == 'r' && strcmp(arg, restarts[i]) == 0) {
			s->cmd.restart = (enum child_restart)i;
			return 0;
		}
	}
	snprintf(why, whysz, "%s",
	    row->id == 's' ? "use event, merge or drop"
			   : "use never, on-failure or always");
	return -1;
}

#define SO(f) offsetof(struct serve, f)

/* clang-format off */
const struct opts_row serve_cmd_rows[] = {
    {.kind = OPTS_SECTION,
	.help = "Command (sse serve [options] -- CMD [ARG...]):"},
    {OPTS_ROW("stderr", 0, OPTS_CALL, 0, "MODE"),
	.help = "CMD's stderr lines: event (type stderr;\n"
	    "default), merge (into stdout) or drop",
	.call = opt_cmd_word, .id = 's'},
    {OPTS_ROW("restart", 0, OPTS_CALL, 0, "WHEN"),
	.help = "never (default), on-failure or always",
	.call = opt_cmd_word, .id = 'r'},
    {OPTS_ROW("restart-delay", 0, OPTS_SECONDS, SO(cmd.restart_delay_ms),
	"SECS"),
	.help = "first wait before a restart, doubled after\n"
	    "each quick failure (default 1)"},
    {OPTS_ROW("kill-after", 0, OPTS_SECONDS, SO(cmd.kill_after_ms), "SECS"),
	.help = "on shutdown, SIGKILL this long after\nSIGTERM (default 5)"},
};
/* clang-format on */

const size_t serve_cmd_nrows =
    sizeof(serve_cmd_rows) / sizeof(serve_cmd_rows[0]);

void
serve_cmd_defaults(struct serve *s)
{
	s->cmd.restart_delay_ms = 1000;
	s->cmd.kill_after_ms = 5000;
}

/* After parsing: the operands are the command; 0, or -1 after saying why. */
int
serve_cmd_check(struct serve *s, char **operands, int n)
{
	if (n > 0) {
		/* A copy: the parser's array goes; argv's strings stay. */
		if ((s->cmdv = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
			msg_errx("out of memory");
			return -1;
		}
		memcpy(s->cmdv, operands, (size_t)n * sizeof(char *));
		s->cmd.argv = s->cmdv;
	} else if (s->cmd.restart != CHILD_RESTART_NEVER ||
	    s->cmd.err != CHILD_STDERR_EVENT ||
	    s->cmd.restart_delay_ms != 1000 || s->cmd.kill_after_ms != 5000) {
		msg_errx(
		    "--stderr, --restart, --restart-delay and --kill-after "
		    "need a command: sse serve [options] -- CMD [ARG...]");
		return -1;
	}
	if (s->cmd.restart_delay_ms < 10) {
		msg_errx("--restart-delay: at least 0.01 seconds");
		return -1;
	}
	return 0;
}

static void
cmd_out(void *ctx, const char *p, size_t n)
{
	serve_input_feed(ctx, p, n);
}

static void
cmd_err(void *ctx, const char *p, size_t n)
{
	struct sse_event ev;

	sse_event_init(&ev);
	ev.type = "stderr";
	ev.type_len = 6;
	ev.data = p;
	ev.data_len = n;
	serve_input_emit(ctx, &ev);
}

/* A run ended: what it left unfinished, then how it ended. */
static void
cmd_exited(void *ctx, const struct child_exit *e)
{
	struct serve *s = ctx;
	struct sse_event ev;
	char js[160];
	int n;

	serve_input_cut(s);
	n = child_exit_json(js, sizeof(js), e);
	sse_event_init(&ev);
	ev.type = "exit";
	ev.type_len = 4;
	ev.data = js;
	ev.data_len = n > 0 && (size_t)n < sizeof(js) ? (size_t)n : 0;
	serve_input_emit(s, &ev);
	if (e->restart_in_ms >= 0)
		msg_debug(1, "'%s' ended, again in %lld ms", s->cmd.argv[0],
		    (long long)e->restart_in_ms);
}

static void
cmd_flush(void *ctx)
{
	hub_flush(ctx, false);
}

static void
cmd_extra(void *ctx)
{
	serve_pub_take(ctx);
}

int
serve_cmd_start(struct serve *s)
{
	s->cmd.max_line = s->max_event;
	child_init(&s->child, &s->cmd);
	if (child_start(&s->child) == -1) {
		msg_errx("%s", s->child.why);
		return -1;
	}
	return 0;
}

/* The input thread, with a command: until it is over for good, or stop. */
void
serve_cmd_run(struct serve *s)
{
	struct child_cb cb = {cmd_out, cmd_err, cmd_exited, cmd_flush, s,
	    s->publish ? s->pubfd : -1, cmd_extra};
	bool stop;

	child_run(&s->child, s->stopfd, &cb);
	pthread_mutex_lock(&s->mu);
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	if (stop) {
		hub_flush(s, false);
		return;
	}
	serve_input_end(s); /* over for good: the input's end */
	if (s->publish && !s->exit_on_eof)
		serve_pub_loop(s); /* publishers go on */
}

void
serve_cmd_release(struct serve *s)
{
	if (s->cmd.argv != NULL)
		child_release(&s->child);
	free(s->cmdv);
	s->cmdv = NULL;
}
