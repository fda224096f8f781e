/*
 * sse serve: every line on stdin becomes an event broadcast to every
 * client (see serve.h for the pieces). This file: the options, and main,
 * which starts the HTTP front end and the input thread and stops them.
 */
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "msg.h"
#include "opts.h"
#include "serve.h"
#include "util.h"

static int cmd_serve_exec(int, char **);
static size_t serve_opts_help(char *out, size_t outsz);

const struct cmd_entry cmd_serve_entry = {
    "serve",
    "broadcast lines from stdin to SSE clients",
    "usage: sse serve [options] [-- CMD [ARG...]]\n\n"
    "Every line on stdin (or CMD's stdout) becomes an event sent to every\n"
    "client of GET /events; GET / is a live viewer page.\n\n",
    cmd_serve_exec,
    serve_opts_help,
};

/* --input, --id: one of a few words. */
static int
opt_word(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	static const char *const inputs[] = {"lines", "sse", "json", "none"};
	struct serve *s = base;
	int i;

	if (row->id == 'i') {
		for (i = 0; i < 4; i++)
			if (strcmp(arg, inputs[i]) == 0) {
				s->input = (enum serve_input)i;
				return 0;
			}
		snprintf(why, whysz, "use lines, sse, json or none");
		return -1;
	}
	if (strcmp(arg, "seq") == 0 || strcmp(arg, "none") == 0) {
		s->ids = arg[0] == 's';
		return 0;
	}
	snprintf(why, whysz, "use seq or none");
	return -1;
}

/* -e, --end-event: an event type, which a line break would end. */
static int
opt_type(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	(void)base;
	(void)row;
	if (*arg != '\0' && strpbrk(arg, "\r\n") == NULL)
		return 0;
	snprintf(why, whysz, "invalid event type");
	return -1;
}

/* --fsync always|never|SECS. */
static int
opt_fsync(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	struct serve *s = base;

	(void)row;
	if (strcmp(arg, "always") == 0)
		s->fsync_ms = 0;
	else if (strcmp(arg, "never") == 0)
		s->fsync_ms = -1;
	else if (opts_seconds(arg, &s->fsync_ms, why, whysz) == -1)
		return -1;
	else if (s->fsync_ms == 0) {
		snprintf(why, whysz, "use always, never or seconds above 0");
		return -1;
	}
	return 0;
}

/* --fsync not given: every second (with --journal). */
#define FSYNC_UNSET (-2)
#define FSYNC_DEFAULT_MS 1000

/* The journal's options go together, and not with Redis. */
static int
journal_check(const struct serve *s)
{
	if (s->journal_dir != NULL && s->journal_dir[0] == '\0')
		msg_errx("--journal: the directory is empty");
	else if (s->journal_dir == NULL && s->journal_export)
		msg_errx("--journal-export needs --journal");
	else if (s->journal_dir == NULL && s->fsync_ms != FSYNC_UNSET)
		msg_errx("--fsync needs --journal");
	else if (s->journal_dir != NULL && s->redis_url != NULL)
		msg_errx("--journal and --redis do not go together (Redis "
			 "keeps the stream)");
	else
		return 0;
	return -1;
}

#define SO(f) offsetof(struct serve, f)

/* clang-format off */
static const struct opts_row serve_rows[] = {
    {.kind = OPTS_SECTION, .help = "Input:"},
    {OPTS_ROW("input", 0, OPTS_CALL, 0, "KIND"),
	.help = "lines (default), sse (stdin is an event\n"
	    "stream), json (one object a line) or none\n"
	    "(with --redis: only serve the stream;\n"
	    "with --publish: only what is published)",
	.call = opt_word, .id = 'i'},
    {OPTS_ROW("event", 'e', OPTS_STR, SO(event), "TYPE"),
	.help = "event type of lines input (default message)",
	.call = opt_type},
    {OPTS_ROW("id", 0, OPTS_CALL, 0, "MODE"),
	.help = "seq (EPOCH-1, EPOCH-2...; default) or none",
	.call = opt_word},
    {OPTS_ROW("retry", 0, OPTS_INT, SO(retry), "MS"),
	.help = "send 'retry: MS' to every client", .max = INT32_MAX},
    {OPTS_ROW("max-event-size", 0, OPTS_SIZE, SO(max_event), "SIZE"),
	.help = "longest line or event (default 1M)", .min = 16},
    {OPTS_ROW("end-event", 0, OPTS_STR, SO(end_event), "TYPE"),
	.help = "send this event when stdin ends", .call = opt_type},
    {OPTS_ROW("exit-on-eof", 0, OPTS_FLAG, SO(exit_on_eof), NULL),
	.help = "exit once stdin ends and clients have it all\n"
	    "(a client that does not read: 5 s at most)"},
    {OPTS_ROW("max-stall", 0, OPTS_SECONDS, SO(max_stall_ms), "SECS"),
	.help = "longest stdin waits for clients that take\n"
	    "nothing (default 10, 0: never waits)"},
    {.kind = OPTS_SECTION, .help = "History:"},
    {OPTS_ROW("history", 0, OPTS_INT, SO(history), "N"),
	.help = "events kept for resuming (default 100000)",
	.min = 1, .max = 100000000},
    {OPTS_ROW("history-bytes", 0, OPTS_SIZE, SO(history_bytes), "SIZE"),
	.help = "and at most these bytes (default 64M)", .min = 1024},
    {OPTS_ROW("backlog", 0, OPTS_INT, SO(backlog), "N"),
	.help = "recent events a new client gets first\n(default 1000)",
	.max = 100000000},
    {.kind = OPTS_SECTION, .help = "More than one node:"},
    {OPTS_ROW("redis", 0, OPTS_STR, SO(redis_url), "URL"),
	.help = "share one stream through Redis: redis://\n"
	    "[:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH"},
    {OPTS_ROW("stream", 0, OPTS_STR, SO(stream), "KEY"),
	.help = "the stream's key in Redis (default sse)"},
    {.kind = OPTS_SECTION, .help = "Durability:"},
    {OPTS_ROW("journal", 0, OPTS_STR, SO(journal_dir), "DIR"),
	.help = "write every event to DIR before clients\n"
	    "see it; rebuild the history from it on start"},
    {OPTS_ROW("fsync", 0, OPTS_CALL, 0, "WHEN"),
	.help = "always, never or SECS: how often the journal\n"
	    "is synced to disk (default 1)", .call = opt_fsync},
    {OPTS_ROW("journal-export", 0, OPTS_FLAG, SO(journal_export), NULL),
	.help = "print the journal as a recording for\n"
	    "'sse replay', and exit"},
};

static const struct opts_row help_rows[] = {
    {OPTS_ROW("help", 'h', OPTS_HELP, 0, NULL),
	.help = "show this help and exit"},
};
/* clang-format on */

#define NROWS(r) (sizeof(r) / sizeof((r)[0]))

/* The help of serve's rows, the HTTP rows, then --help. */
static size_t
serve_opts_help(char *out, size_t outsz)
{
	const struct opts_table parts[] = {
	    OPTS_TABLE(serve_rows, NULL),
	    {serve_cmd_rows, serve_cmd_nrows, NULL},
	    {serve_topic_rows, serve_topic_nrows, NULL},
	    {httpd_rows, httpd_nrows, NULL},
	    {serve_pub_rows, serve_pub_nrows, NULL},
	    {serve_secret_rows, serve_secret_nrows, NULL},
	    OPTS_TABLE(help_rows, NULL),
	};
	size_t i, n = 0;
	bool room;

	for (i = 0; i < NROWS(parts); i++) {
		room = out != NULL && n < outsz;
		n += opts_help(parts[i].rows, parts[i].nrows,
		    room ? out + n : NULL, room ? outsz - n : 0);
	}
	return n;
}

/* 0, 1 for --help, or -1 after saying why. */
static int
parse(struct serve *s, struct httpd_opts *ho, int argc, char **argv)
{
	struct opts_table tabs[] = {
	    OPTS_TABLE(serve_rows, s),
	    {serve_cmd_rows, serve_cmd_nrows, s},
	    {serve_topic_rows, serve_topic_nrows, s},
	    {httpd_rows, httpd_nrows, ho},
	    {serve_pub_rows, serve_pub_nrows, ho},
	    {serve_secret_rows, serve_secret_nrows, s},
	    OPTS_TABLE(help_rows, s),
	};
	struct opts_parse p;
	int rc, dd, after;

	rc = opts_parse(&p, tabs, NROWS(tabs), argc, argv);
	if (rc == -1 && p.err[0] != '\0')
		msg_errx("%s", p.err);
	/* The command: the operands after "--", and only those. */
	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	after = argc - dd - 1 > 0 ? argc - dd - 1 : 0;
	if (rc == 0 && p.noperands > after) {
		msg_errx("unexpected argument '%s' (a command goes after "
			 "'--': sse serve [options] -- CMD [ARG...])",
		    p.operands[0]);
		rc = -1;
	}
	if (rc == 0 && serve_cmd_check(s, p.operands, p.noperands) == -1)
		rc = -1;
	if (rc == 0 && serve_pub_check(s, ho) == -1)
		rc = -1;
	opts_parse_release(&p);
	if (rc == 0 && s->redis_url == NULL && s->input == IN_NONE &&
	    !ho->publish) {
		msg_errx("--input none needs --redis or --publish");
		rc = -1;
	}
	if (rc == 0 && s->redis_url == NULL && s->stream != NULL) {
		msg_errx("--stream needs --redis");
		rc = -1;
	}
	if (rc == 0 && s->input == IN_NONE && s->cmd.argv != NULL) {
		msg_errx("--input none reads no input: no command then");
		rc = -1;
	}
	if (rc == 0 && s->stream != NULL && s->stream[0] == '\0') {
		msg_errx("--stream: the key is empty");
		rc = -1;
	}
	if (rc == 0 && journal_check(s) == -1)
		rc = -1;
	if (s->fsync_ms == FSYNC_UNSET)
		s->fsync_ms = FSYNC_DEFAULT_MS;
	if (rc == 0 && s->max_event + 4096 > s->history_bytes) {
		msg_errx("--history-bytes must exceed --max-event-size by 4K");
		rc = -1;
	}
	return rc;
}

void
serve_epoch_new(char out[RSTREAM_EPOCH_LEN + 1])
{
	unsigned char rnd[RSTREAM_EPOCH_LEN];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++) /* no entropy: time */
			rnd[i] = (unsigned char)(now_wall_ms() >> (i * 5));
	rstream_epoch_make(out, rnd);
}

/* A new life of the stream: a random epoch. */
static void
serve_epoch(struct serve *s)
{
	serve_epoch_new(s->epoch);
	s->epoch_len = strlen(s->epoch);
}

/* The log indexes serve's own ids, "EPOCH-N", by N. */
void
serve_prefix(struct serve *s)
{
	char p[RSTREAM_EPOCH_MAX + 2];

	memcpy(p, s->epoch, s->epoch_len);
	p[s->epoch_len] = '-';
	(void)evlog_set_prefix(&s->log, p, s->epoch_len + 1);
}

/* The defaults, then the command line; 0, 1 for --help, or -1. */
static int
serve_opts(struct serve *s, struct httpd_opts *ho, int argc, char **argv)
{
	memset(s, 0, sizeof(*s));
	s->event = SSE_DEFAULT_TYPE;
	s->ids = true;
	s->retry = -1;
	s->max_event = SSE_DEFAULT_MAX_EVENT;
	s->history = 100000;
	s->history_bytes = 64u << 20;
	s->backlog = 1000;
	s->max_stall_ms = 10000;
	s->fsync_ms = FSYNC_UNSET;
	s->stopfd = -1;
	serve_cmd_defaults(s);
	s->max_topics = 64;
	s->pubfd = -1;
	httpd_opts_init(ho);
	ho->max_publish = 1u << 20;
	return parse(s, ho, argc, argv);
}

/*
 * The stream's epoch: the journal's, going on, or a new one (no journal,
 * an empty one, or one whose tail may be lost), said on stderr.
 */
static int
stream_life(struct serve *s)
{
	bool fresh = s->epoch_len == 0 || s->journal_lost;
	unsigned long long next = (unsigned long long)s->seq + 1;

	if (s->journal_lost)
		msg_warnx("--journal: the last server did not close '%s' "
			  "before the machine restarted, and did not sync "
			  "every event: its last events may be lost, so the "
			  "stream takes a new epoch",
		    s->journal_dir);
	if (fresh) {
		serve_epoch(s);
		serve_prefix(s); /* not when the journal filled the log */
	}
	if (!fresh)
		msg_warnx("epoch %s: the history is back from the journal, "
			  "up to %s-%llu; ids %s-%llu on",
		    s->epoch, s->epoch, next - 1, s->epoch, next);
	else if (next > 1)
		msg_warnx("epoch %s: a new life after %llu events in the "
			  "journal, ids %s-%llu on",
		    s->epoch, next - 1, s->epoch, next);
	else if (!s->ids)
		msg_warnx("epoch %s: a new stream (--id none: events carry no "
			  "id of ours)",
		    s->epoch);
	else
		msg_warnx(
		    "epoch %s: a new stream, ids %s-1 on", s->epoch, s->epoch);
	if (s->journal != NULL)
		return serve_journal_start(s, fresh);
	return 0;
}

/* Serve until a signal, or a drain once input is over. */
static int
serve_run(struct serve *s, const struct httpd_opts *ho)
{
	const struct httpd_source src = {.open = hub_open,
	    .read = serve_src_read,
	    .close = serve_src_close,
	    .ctx = s,
	    .open_topics = serve_topics_open,
	    .publish = ho->publish ? serve_publish : NULL,
	    .metrics = serve_metrics,
	    .lost = hub_lost,
	    .announce_later = s->cmd.argv != NULL};
	pthread_t tid;
	uint64_t one = 1;
	int rc;

	s->publish = ho->publish;
	if (serve_pub_init(s) == -1) {
		msg_err("cannot set up publishing");
		return EXIT_ERROR;
	}
	httpd_block_signals();
	if (s->redis_url != NULL && (rc = serve_redis_open(s)) != 0)
		return rc;
	if ((rc = httpd_start(&s->h, ho, &src)) != 0)
		return rc;
	/* The URL only for a server that runs: the command first. */
	if (s->cmd.argv != NULL) {
		if (serve_cmd_start(s) == -1)
			return EXIT_ERROR;
		httpd_announce(s->h);
	}
	if (s->redis != NULL && serve_redis_start(s) == -1)
		return EXIT_ERROR;
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    ((s->input != IN_NONE || s->publish) &&
		pthread_create(&tid, NULL, serve_input_main, s) != 0)) {
		msg_errx("cannot start the input thread");
		return EXIT_ERROR;
	}
	httpd_run(s->h);
	pthread_mutex_lock(&s->mu);
	s->stop = true; /* no client will move now */
	pthread_cond_signal(&s->moved);
	pthread_mutex_unlock(&s->mu);
	(void)!write(s->stopfd, &one, sizeof(one));
	if (s->redis != NULL) /* a commit waiting for Redis gives up */
		serve_redis_stop(s);
	if (s->input != IN_NONE || s->publish)
		pthread_join(tid, NULL);
	return EXIT_OK;
}

static int
cmd_serve_exec(int argc, char **argv)
{
	struct serve s;
	struct httpd_opts ho;
	pthread_condattr_t ca;
	int rc;

	if ((rc = serve_opts(&s, &ho, argc, argv)) != 0) {
		httpd_opts_release(&ho);
		return rc == 1 ? cmd_help(&cmd_serve_entry)
			       : cmd_usage(&cmd_serve_entry);
	}
	if (s.journal_export) {
		httpd_opts_release(&ho);
		return serve_journal_export(s.journal_dir);
	}
	s.event_len = strlen(s.event);
	if (evlog_init(&s.log, (size_t)s.history, s.history_bytes) == -1) {
		msg_errx("cannot allocate the history");
		httpd_opts_release(&ho);
		return EXIT_ERROR;
	}
	if (s.journal_dir != NULL && (rc = serve_journal_open(&s)) != 0) {
		serve_journal_close(&s);
		evlog_release(&s.log);
		httpd_opts_release(&ho);
		return rc;
	}
	/* else the stream in Redis has one */
	if (s.redis_url == NULL && (rc = stream_life(&s)) != 0) {
		serve_journal_close(&s);
		evlog_release(&s.log);
		httpd_opts_release(&ho);
		return rc;
	}
	LIST_INIT(&s.clients);
	pthread_mutex_init(&s.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.moved, &ca);
	pthread_condattr_destroy(&ca);
	serve_input_init(&s);
	rc = serve_run(&s, &ho);
	serve_journal_close(&s);
	if (rc == 0 && s.journal_failed)
		rc = EXIT_ERROR; /* the journal could not be written */
	serve_redis_close(&s); /* its thread wakes the HTTP loop */
	httpd_free(s.h);
	serve_pub_release(&s);
	serve_cmd_release(&s);
	serve_topics_release(&s);
	if (s.stopfd != -1)
		close(s.stopfd);
	serve_input_release(&s);
	evlog_release(&s.log);
	pthread_cond_destroy(&s.moved);
	pthread_mutex_destroy(&s.mu);
	httpd_opts_release(&ho);
	return rc;
}
