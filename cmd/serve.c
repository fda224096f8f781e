/*
 * sse serve: every line on stdin becomes an event broadcast to every
 * client (see serve.h for the pieces). This file: the options, and main,
 * which starts the HTTP front end and the input thread and stops them.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "msg.h"
#include "serve.h"
#include "util.h"

static int cmd_serve_exec(int, char **);

const struct cmd_entry cmd_serve_entry = {
    "serve",
    "broadcast lines from stdin to SSE clients",
    "usage: sse serve [options]\n\n"
    "Every line on stdin becomes an event sent to every client of\n"
    "GET /events; GET / is a live viewer page.\n\n"
    "Input:\n"
    "      --input KIND        lines (default), sse (stdin is an event\n"
    "                          stream) or json (one object a line)\n"
    "  -e, --event TYPE        event type of lines input (default message)\n"
    "      --id MODE           seq (1, 2, 3...; default) or none\n"
    "      --retry MS          send 'retry: MS' to every client\n"
    "      --max-event-size SIZE  longest line or event (default 1M)\n"
    "      --end-event TYPE    send this event when stdin ends\n"
    "      --exit-on-eof       exit once stdin ends and clients have it all\n"
    "                          (a client that does not read: 5 s at most)\n"
    "      --max-stall SECS    longest stdin waits for clients that take\n"
    "                          nothing (default 10, 0: never waits)\n"
    "History:\n"
    "      --history N         events kept for resuming (default 100000)\n"
    "      --history-bytes SIZE  and at most these bytes (default 64M)\n"
    "      --backlog N         recent events a new client gets first\n"
    "                          (default 1000)\n"
    "HTTP:\n" HTTPD_HELP "  -h, --help              show this help and exit\n",
    cmd_serve_exec,
    NULL,
};

enum {
	OPT_INPUT = 0x100,
	OPT_ID,
	OPT_RETRY,
	OPT_MAX_EVENT,
	OPT_END_EVENT,
	OPT_EXIT_ON_EOF,
	OPT_HISTORY,
	OPT_HISTORY_BYTES,
	OPT_BACKLOG,
	OPT_MAX_STALL,
};

/* ---- options and main ---- */

static int
parse(struct serve *s, struct httpd_opts *ho, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"input", required_argument, NULL, OPT_INPUT},
	    {"event", required_argument, NULL, 'e'},
	    {"id", required_argument, NULL, OPT_ID},
	    {"retry", required_argument, NULL, OPT_RETRY},
	    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT},
	    {"end-event", required_argument, NULL, OPT_END_EVENT},
	    {"exit-on-eof", no_argument, NULL, OPT_EXIT_ON_EOF},
	    {"history", required_argument, NULL, OPT_HISTORY},
	    {"history-bytes", required_argument, NULL, OPT_HISTORY_BYTES},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    {"max-stall", required_argument, NULL, OPT_MAX_STALL},
	    HTTPD_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":he:" HTTPD_SHORTOPTS, longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cmd_help(&cmd_serve_entry);
			return -2;
		case OPT_INPUT:
			if (strcmp(optarg, "lines") == 0)
				s->input = IN_LINES;
			else if (strcmp(optarg, "sse") == 0)
				s->input = IN_SSE;
			else if (strcmp(optarg, "json") == 0)
				s->input = IN_JSON;
			else {
				fprintf(stderr,
				    "sse: serve: --input: invalid value '%s': "
				    "use lines, sse or json\n",
				    optarg);
				return -1;
			}
			break;
		case 'e':
		case OPT_END_EVENT:
			if (*optarg == '\0' || strpbrk(optarg, "\r\n")) {
				fprintf(stderr,
				    "sse: serve: %s: invalid event type '%s'\n",
				    ch == 'e' ? "--event" : "--end-event",
				    optarg);
				return -1;
			}
			if (ch == 'e')
				s->event = optarg;
			else
				s->end_event = optarg;
			break;
		case OPT_ID:
			if (strcmp(optarg, "seq") == 0)
				s->ids = true;
			else if (strcmp(optarg, "none") == 0)
				s->ids = false;
			else {
				fprintf(stderr,
				    "sse: serve: --id: invalid value '%s': use "
				    "seq or none\n",
				    optarg);
				return -1;
			}
			break;
		case OPT_RETRY:
			if (opt_int("serve: --retry", optarg, 0, INT32_MAX,
				&s->retry) == -1)
				return -1;
			break;
		case OPT_MAX_EVENT:
			if (opt_size("serve: --max-event-size", optarg, 16,
				&s->max_event) == -1)
				return -1;
			break;
		case OPT_EXIT_ON_EOF:
			s->exit_on_eof = true;
			break;
		case OPT_HISTORY:
			if (opt_int("serve: --history", optarg, 1, 100000000,
				&s->history) == -1)
				return -1;
			break;
		case OPT_HISTORY_BYTES:
			if (opt_size("serve: --history-bytes", optarg, 1024,
				&s->history_bytes) == -1)
				return -1;
			break;
		case OPT_BACKLOG:
			if (opt_int("serve: --backlog", optarg, 0, 100000000,
				&s->backlog) == -1)
				return -1;
			break;
		case OPT_MAX_STALL:
			if (opt_seconds("serve: --max-stall", optarg,
				&s->max_stall_ms) == -1)
				return -1;
			break;
		case ':':
			fprintf(stderr,
			    "sse: serve: option '%s' needs a value\n",
			    argv[optind - 1]);
			return -1;
		case '?':
			fprintf(stderr, "sse: serve: unknown option '%s'\n",
			    argv[optind - 1]);
			return -1;
		default:
			r = httpd_opt(ho, ch, optarg, "serve");
			if (r <= 0)
				return -1;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sse: serve: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (s->max_event + 4096 > s->history_bytes) {
		fprintf(stderr,
		    "sse: serve: --history-bytes must exceed "
		    "--max-event-size by 4K\n");
		return -1;
	}
	return 0;
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
	s->stopfd = -1;
	httpd_opts_init(ho);
	return parse(s, ho, argc, argv);
}

/* Serve until a signal, or a drain once input is over. */
static int
serve_run(struct serve *s, const struct httpd_opts *ho)
{
	const struct httpd_source src = {hub_open, hub_read, hub_close, s};
	pthread_t tid;
	uint64_t one = 1;
	int rc;

	httpd_block_signals();
	if ((rc = httpd_start(&s->h, ho, &src)) != 0)
		return rc;
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    pthread_create(&tid, NULL, serve_input_main, s) != 0) {
		msg_errx("cannot start the input thread");
		return EXIT_ERROR;
	}
	httpd_run(s->h);
	pthread_mutex_lock(&s->mu);
	s->stop = true; /* no client will move now */
	pthread_cond_signal(&s->moved);
	pthread_mutex_unlock(&s->mu);
	(void)!write(s->stopfd, &one, sizeof(one));
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
		return rc == -2 ? EXIT_OK : cmd_usage(&cmd_serve_entry);
	}
	s.event_len = strlen(s.event);
	if (evlog_init(&s.log, (size_t)s.history, s.history_bytes) == -1) {
		msg_errx("cannot allocate the history");
		httpd_opts_release(&ho);
		return EXIT_ERROR;
	}
	LIST_INIT(&s.clients);
	pthread_mutex_init(&s.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.moved, &ca);
	pthread_condattr_destroy(&ca);
	serve_input_init(&s);
	rc = serve_run(&s, &ho);
	httpd_free(s.h);
	if (s.stopfd != -1)
		close(s.stopfd);
	serve_input_release(&s);
	evlog_release(&s.log);
	pthread_cond_destroy(&s.moved);
	pthread_mutex_destroy(&s.mu);
	httpd_opts_release(&ho);
	return rc;
}
