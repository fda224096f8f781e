/*
 * sse listen URL: the SSE client. Options become curl_easy_setopt() calls
 * (listen_request.c), the header callback accepts or refuses a response
 * (listen_header.c), the write callback feeds the parser and the output
 * (listen_write.c), and this file runs the event loop and reconnects as
 * the WHATWG HTML Standard's EventSource does.
 *
 * One thread, one curl multi handle, one curl_multi_poll() for everything:
 * the sockets, a self-pipe written by the SIGINT/SIGTERM handler, stdout
 * (to see its reader go away) and, as the poll timeout, the nearest of
 * --timeout, --idle-timeout and the reconnection delay. No busy waiting.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "listen.h"
#include "listen_record.h"
#include "msg.h"
#include "sig.h"
#include "util.h"

static int cmd_listen_exec(int, char **);

const struct cmd_entry cmd_listen_entry = {
    "listen",
    "receive a stream and print its events",
    "usage: sse listen [options] URL\n"
    "\n"
    "Connects to URL, prints each event of its text/event-stream, and\n"
    "reconnects with Last-Event-ID when the stream ends, as a browser's\n"
    "EventSource does.\n"
    "\n",
    cmd_listen_exec,
    listen_opts_help,
};

static int
start_attempt(struct listen *l)
{
	listen_conn_reset(l);
	l->attempts++;
	listen_trace(
	    "* connecting to %s (attempt %lu)", l->o->url, l->attempts);
	if (listen_request_headers(l) == -1)
		return -1;
	l->last_byte_ms = now_mono_ms();
	if (curl_multi_add_handle(l->multi, l->easy) != CURLM_OK) {
		msg_errx("cannot start a transfer");
		return -1;
	}
	return 0;
}

/* Whether stdout is a pipe or socket whose reader can go away. */
static bool
watch_stdout(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

static int
wait_events(struct listen *l, int64_t wait_ms, bool watch)
{
	struct curl_waitfd fds[2];
	unsigned nfds = 0;

	fds[nfds].fd = sig_fd();
	fds[nfds].events = CURL_WAIT_POLLIN;
	fds[nfds++].revents = 0;
	if (watch) {
		/* Asking for nothing still reports POLLERR: the reader left. */
		fds[nfds].fd = l->out.fd;
		fds[nfds].events = 0;
		fds[nfds++].revents = 0;
	}
	if (wait_ms > 60000)
		wait_ms = 60000;
	if (curl_multi_poll(l->multi, fds, nfds, (int)wait_ms, NULL) !=
	    CURLM_OK)
		return -1;
	sig_drain();
	if (watch && fds[1].revents != 0)
		return 1;
	return 0;
}

/*
 * --timeout or --idle-timeout has passed (the latter only counts while
 * connected): end with its status and message.
 */
static bool
deadline_passed(struct listen *l, int64_t now, bool connected)
{
	const struct listen_opts *o = l->o;
	int64_t timeout = o->out.timeout_ms, idle = o->idle_timeout_ms;

	if (l->refused && now - l->refused_ms >= LISTEN_ERRBODY_WAIT_MS) {
		listen_refuse(
		    l); /* a body that does not come is not waited for */
		return true;
	}
	if (timeout >= 0 && now - l->start_ms >= timeout) {
		listen_fail(l, EXIT_TIMEOUT,
		    "'%s': timed out after %g s (--timeout)", o->url,
		    listen_secs(timeout));
		return true;
	}
	if (connected && idle >= 0 && now - l->last_byte_ms >= idle) {
		listen_fail(l, EXIT_IDLE,
		    "'%s': nothing received for %g s (--idle-timeout)", o->url,
		    listen_secs(idle));
		return true;
	}
	return false;
}

/* Whether bytes wait unread in the connection's socket. */
static bool
input_waiting(const struct listen *l)
{
	struct pollfd pfd[LISTEN_MAX_SOCKS];
	unsigned i;

	for (i = 0; i < l->nsocks; i++) {
		pfd[i].fd = l->socks[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return l->nsocks > 0 && poll(pfd, l->nsocks, 0) > 0;
}

/*
 * How long a write to a stalled stdout may wait (output_set_deadline): up
 * to the nearest of the deadlines, so that they hold even against a reader
 * that never reads. The idle clock measures the server's silence, and
 * while stdout is blocked we read nothing: so at the idle deadline, bytes
 * waiting unread in the socket count as received then (the server is not
 * idle, we are behind), and only a server that has really sent nothing
 * ends the session with exit 6.
 */
static int64_t
output_time_left(void *ctx)
{
	struct listen *l = ctx;
	const struct listen_opts *o = l->o;
	int64_t now = now_mono_ms(), left = INT64_MAX, t;

	if (o->out.timeout_ms >= 0)
		left = l->start_ms + o->out.timeout_ms - now;
	if (o->idle_timeout_ms >= 0 && l->opened) {
		t = l->last_byte_ms + o->idle_timeout_ms - now;
		if (t <= 0 && input_waiting(l)) {
			l->last_byte_ms = now;
			t = o->idle_timeout_ms;
		}
		left = listen_min64(left, t);
	}
	if (left == INT64_MAX)
		return -1;
	if (left > 0)
		return left;
	/* Giving up: say why, unless the session is ending for a reason. */
	if (l->stop < 0 || l->stop == EXIT_OK)
		(void)deadline_passed(l, now, l->opened);
	return 0;
}

/*
 * How long to wait for the network: until the next attempt when none is
 * active, and never past --timeout, --idle-timeout or the wait for a
 * refused answer's body.
 */
static int64_t
poll_time(const struct listen *l, bool active, int64_t next)
{
	const struct listen_opts *o = l->o;
	int64_t now = now_mono_ms(), wait = active ? 60000 : next - now;

	if (o->out.timeout_ms >= 0)
		wait =
		    listen_min64(wait, l->start_ms + o->out.timeout_ms - now);
	if (active && o->idle_timeout_ms >= 0)
		wait = listen_min64(
		    wait, l->last_byte_ms + o->idle_timeout_ms - now);
	if (l->refused)
		wait = listen_min64(
		    wait, l->refused_ms + LISTEN_ERRBODY_WAIT_MS - now);
	return wait < 0 ? 0 : wait;
}

/* Run until something ends the session; returns the exit status. */
static int
event_loop(struct listen *l)
{
	int64_t start = now_mono_ms(), now, wait, next = start;
	char *errbuf = l->errbuf;
	bool active = false, watch = watch_stdout(l->out.fd);
	enum output_result r;
	const char *why;
	CURLMsg *msg;
	int running, left;

	curl_easy_setopt(l->easy, CURLOPT_ERRORBUFFER, errbuf);
	l->start_ms = start;
	while (l->stop < 0) {
		now = now_mono_ms();
		if (sig_caught) {
			listen_trace("* interrupted");
			l->stop = 128 + sig_caught;
			break;
		}
		if (deadline_passed(l, now, active))
			break;
		if (!active && now >= next) {
			errbuf[0] = '\0';
			if (start_attempt(l) == -1)
				return EXIT_ERROR;
			active = true;
		}
		if (active) {
			curl_multi_perform(l->multi, &running);
			while ((msg = curl_multi_info_read(l->multi, &left))) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_multi_remove_handle(l->multi, l->easy);
				active = false;
				wait = listen_transfer_done(
				    l, msg->data.result, errbuf);
				next = now_mono_ms() + (wait > 0 ? wait : 0);
			}
			if (l->stop >= 0)
				break;
		}
		/* Every event received reaches stdout before we wait. */
		if ((r = output_flush(&l->out)) != OUTPUT_CONTINUE) {
			if (l->stop < 0) /* an expired write has set it */
				l->stop = output_status(r);
			break;
		}
		wait = poll_time(l, active, next);
		switch (wait_events(l, wait, watch)) {
		case -1:
			msg_errx("cannot wait for events");
			l->stop = EXIT_ERROR;
			break;
		case 1:
			/* stdout's reader went away: end quietly. */
			l->stop = EXIT_OK;
			break;
		}
	}
	/* A signal wins, even over a write it interrupted. */
	if (sig_caught)
		l->stop = 128 + sig_caught;
	if (active) {
		if (l->stop >= 128)
			why = "interrupted";
		else
			why = l->why[0] ? l->why : "stopped";
		listen_call_close(l, why, -1);
		curl_multi_remove_handle(l->multi, l->easy);
	}
	(void)output_flush(&l->out);
	return l->stop;
}

static int
run(struct listen_opts *o, int out_fd)
{
	struct listen l;
	struct listen_record rec;
	int rc = EXIT_ERROR;

	memset(&l, 0, sizeof(l));
	recorder_init(&rec.rec);
	l.o = o;
	l.stop = -1;
	l.retry_ms = (uint64_t)o->retry_delay_ms;
	sse_es_response_init(&l.resp);
	sse_buf_init(&l.headers, LISTEN_MAX_HEADERS);
	/* What it shows is capped already: a comment, an id, a header. */
	sse_buf_init(&l.vis, 0);
	sse_buf_init(&l.errbody, LISTEN_ERRBODY_V);
	sse_buf_init(&l.state_id, 0);
	if (output_init(&l.out, &o->out, out_fd) == -1) {
		sse_es_response_release(&l.resp);
		sse_buf_release(&l.headers);
		sse_buf_release(&l.vis);
		sse_buf_release(&l.errbody);
		return EXIT_USAGE;
	}
	l.out.interrupted = &sig_caught;
	listen_parser_init(&l);
	if ((o->out.timeout_ms >= 0 || o->idle_timeout_ms >= 0) &&
	    output_set_deadline(&l.out, output_time_left, &l) == -1) {
		msg_err("cannot set up a timer");
		goto out;
	}
	if (o->last_event_id != NULL &&
	    sse_parser_set_last_id(&l.parser, o->last_event_id,
		strlen(o->last_event_id)) != SSE_OK) {
		if (o->last_event_id == o->state_text)
			msg_errx("--state: '%s': the event ID is too large",
			    o->state);
		else
			msg_errx("--last-event-id: invalid value: too large");
		rc = EXIT_USAGE;
		goto out;
	}
	srandom((unsigned)now_wall_ms() ^ ((unsigned)getpid() << 16));
	if ((l.easy = curl_easy_init()) == NULL ||
	    (l.multi = curl_multi_init()) == NULL) {
		msg_errx("cannot initialise libcurl");
		goto out;
	}
	if (listen_request_setup(&l) == -1)
		goto out;
	if (sig_catch() == -1) {
		msg_err("cannot set up signals");
		goto out;
	}
	if (o->record != NULL &&
	    listen_record_start(&rec, &l.hooks, o->record, o->fetch_url,
		o->method	  ? o->method
		    : o->has_body ? "POST"
				  : "GET",
		o->record_chunks) == -1)
		goto out;
	listen_parser_relay(&l);
	/* An empty --expect file is met before anything comes. */
	if (o->expected != NULL && o->expected->nevents == 0)
		rc = EXIT_OK;
	else
		rc = listen_expect_end(&l, event_loop(&l));
out:
	listen_record_finish(&rec, "stopped");
	sig_release();
	if (l.multi != NULL)
		curl_multi_cleanup(l.multi);
	if (l.easy != NULL)
		curl_easy_cleanup(l.easy);
	curl_slist_free_all(l.req_headers);
	sse_parser_release(&l.parser);
	output_release(&l.out);
	sse_es_response_release(&l.resp);
	sse_buf_release(&l.headers);
	sse_buf_release(&l.vis);
	sse_buf_release(&l.errbody);
	listen_exec_release(&l);
	return rc;
}

/* -o FILE, or standard output. */
static int
run_to(struct listen_opts *o)
{
	int fd, rc;

	if (o->output == NULL)
		return run(o, STDOUT_FILENO);
	fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1) {
		msg_err("--output: cannot create '%s'", o->output);
		return EXIT_ERROR;
	}
	o->out.path = o->output;
	rc = run(o, fd);
	if (close(fd) == -1 && rc == EXIT_OK) {
		msg_err("--output: cannot write '%s'", o->output);
		rc = EXIT_ERROR;
	}
	return rc;
}

static int
cmd_listen_exec(int argc, char **argv)
{
	struct listen_opts o;
	char *url = NULL, *shown = NULL;
	int rc;

	listen_opts_init(&o);
	switch (listen_opts_parse(&o, argc, argv)) {
	case 1:
		rc = cmd_help(&cmd_listen_entry);
		break;
	case -2:
		rc = cmd_usage(&cmd_listen_entry);
		break;
	case -1:
		rc = EXIT_USAGE;
		break;
	default:
		msg_quiet(o.quiet);
		msg_verbose(o.quiet ? 0 : o.verbose);
		if (o.retry_http && o.has_body && !o.reconnect &&
		    !o.no_reconnect)
			msg_warnx(
			    "--retry-on-http-error: a request with a body "
			    "is sent once; --reconnect sends it again");
		if ((url = listen_check_url(o.url)) == NULL)
			rc = EXIT_USAGE;
		else if (o.output == NULL &&
		    output_check_fd(STDOUT_FILENO) == -1)
			rc = EXIT_ERROR;
		else if (o.state != NULL && listen_state_load(&o) == -1)
			rc = EXIT_ERROR;
		else if (o.expect != NULL && listen_expect_load(&o) == -1)
			rc = EXIT_ERROR;
		else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			msg_errx("cannot initialise libcurl");
			rc = EXIT_ERROR;
		} else {
			o.fetch_url = url;
			if ((shown = listen_shown_url(url)) == NULL) {
				msg_errx("out of memory");
				rc = EXIT_ERROR;
			} else {
				o.url = shown;
				rc = run_to(&o);
			}
			curl_global_cleanup();
		}
	}
	curl_free(url);
	free(shown);
	listen_opts_release(&o);
	return rc;
}
