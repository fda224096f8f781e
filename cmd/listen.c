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

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Seconds for messages: "3", "0.25". */
static double
secs(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* ---- reconnection ---------------------------------------------------- */

/*
 * The delay before the next attempt: the reconnection time after a
 * connection that was open ("wait a delay equal to the reconnection time of
 * the event source"), with the standard's optional exponential backoff
 * after attempts that failed (lib/eventsource.c).
 */
static int64_t
reconnect_delay(const struct listen *l)
{
	return sse_es_reconnect_delay(l->retry_ms, l->failures,
	    (uint64_t)l->o->retry_max_ms, (uint64_t)random());
}

/*
 * Errors that retrying will not mend, before any connection was ever
 * opened: the standard lets a client fail the connection when it knows
 * reestablishing it to be futile (a typo in the host name, a certificate
 * that does not verify). Once a connection has been opened, every network
 * error is retried. Not here: CURLE_SSL_CONNECT_ERROR, which is also a
 * connection reset or closed during the TLS handshake, and
 * CURLE_UNSUPPORTED_PROTOCOL, which once the URL has been checked can only
 * be an HTTP/0.9 answer or a redirect elsewhere than http(s), both up to
 * a server that may be restarting or misconfigured for a moment.
 */
static bool
futile(CURLcode cc)
{
	switch (cc) {
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_LOGIN_DENIED:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FUNCTION_NOT_FOUND:
	case CURLE_NOT_BUILT_IN:
		return true;
	default:
		return false;
	}
}

/*
 * Whether the attempt never reached the server: the first connection of a
 * run that cannot be made fails as curl's does (exit 3), unless
 * --retry-connect waits for a server that is starting.
 */
static bool
never_connected(const struct listen *l, CURLcode cc)
{
	curl_off_t t = 0;

	if (cc == CURLE_COULDNT_CONNECT)
		return true;
	return cc == CURLE_OPERATION_TIMEDOUT &&
	    curl_easy_getinfo(l->easy, CURLINFO_CONNECT_TIME_T, &t) ==
	    CURLE_OK &&
	    t == 0;
}

/* The exit status for a futile error. */
static int
futile_status(CURLcode cc)
{
	if (cc == CURLE_TOO_MANY_REDIRECTS)
		return EXIT_HTTP;
	return cc == CURLE_OUT_OF_MEMORY ? EXIT_ERROR : EXIT_CONNECT;
}

static int
call_close(struct listen *l, const char *reason, int64_t reconnect_ms)
{
	struct listen_end e;

	if (l->hooks.close == NULL)
		return 0;
	e.reason = reason;
	e.opened = l->opened;
	e.reconnect_ms = reconnect_ms;
	e.exit_status = l->stop;
	e.unix_ms = now_wall_ms();
	if (l->hooks.close(l->hooks.ctx, &e) != 0) {
		l->stop = EXIT_ERROR;
		return -1;
	}
	return 0;
}

/*
 * Say that listen reconnects, and why (a stream that ended: only with -v),
 * in a line that stays short: libcurl's short text for the error, not its
 * error buffer (that goes with a message that ends the session).
 */
static void
say_reconnect(const struct listen *l, bool ended, const char *why, int64_t ms)
{
	const char *url = l->o->url;

	if (ended)
		listen_trace("* stream ended; reconnecting in %g s", secs(ms));
	else if (l->opened)
		msg_warnx("connection to '%s' lost: %s; reconnecting in %g s",
		    url, why, secs(ms));
	else if (l->http_retry)
		msg_warnx(
		    "'%s' answered %s; retrying in %g s", url, why, secs(ms));
	else
		msg_warnx("cannot connect to '%s': %s; retrying in %g s", url,
		    why, secs(ms));
}

/*
 * A transfer is over: decide between ending (l->stop set) and reconnecting
 * (returns the delay in milliseconds).
 */
static int64_t
transfer_done(struct listen *l, CURLcode cc, const char *errbuf)
{
	const struct listen_opts *o = l->o;
	char why[CURL_ERROR_SIZE + 64];
	int64_t delay;
	bool failed;

	/* "An incomplete event at a disconnect is discarded", and the last
	 * event ID string stays for the next request. */
	sse_parser_end(&l->parser);
	if (l->opened)
		l->ever_opened = true;
	if (l->refused) {
		listen_refuse(l);
		call_close(l, l->why, -1);
		return -1;
	}
	if (l->stop >= 0) {
		call_close(l, l->why[0] ? l->why : "stopped", -1);
		return -1;
	}
	failed = !l->opened;
	if (l->http_retry)
		snprintf(why, sizeof(why), "HTTP status %ld", l->resp.status);
	else if (cc == CURLE_OK && l->opened)
		snprintf(why, sizeof(why), "stream ended");
	else if (cc == CURLE_OK && !l->head_ended)
		/* Cut before the blank line: no answer, a transport failure. */
		snprintf(why, sizeof(why),
		    "connection closed inside the response head");
	else if (cc == CURLE_OK) {
		/* A whole head that is no answer: a redirect curl did not
		 * follow. */
		listen_fail(l, EXIT_HTTP,
		    "'%s' answered HTTP status %ld, not an event stream",
		    o->url, l->resp.status);
		call_close(l, l->why, -1);
		return -1;
	} else {
		snprintf(why, sizeof(why), "%s",
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		if (!l->ever_opened && futile(cc)) {
			listen_fail(l, futile_status(cc),
			    "cannot connect to '%s': %s", o->url, why);
			call_close(l, why, -1);
			return -1;
		}
	}
	if (!l->ever_opened && never_connected(l, cc)) {
		/* --retry-connect waits, even with --no-reconnect. */
		if (o->retry_connect_ms < 0 ||
		    now_mono_ms() - l->start_ms >= o->retry_connect_ms) {
			listen_fail(l, EXIT_CONNECT,
			    "cannot connect to '%s': %s%s", o->url, why,
			    o->retry_connect_ms < 0 ? ""
						    : " (--retry-connect)");
			call_close(l, why, -1);
			return -1;
		}
	} else if (!o->reconnect) {
		if (cc == CURLE_OK && l->opened) {
			listen_trace("* stream ended");
			l->stop = EXIT_OK;
		} else if (l->opened)
			listen_fail(l, EXIT_CONNECT,
			    "connection to '%s' lost: %s", o->url, why);
		else
			listen_fail(l, EXIT_CONNECT,
			    "cannot connect to '%s': %s", o->url, why);
		call_close(l, why, -1);
		return -1;
	}
	if (o->max_reconnects >= 0 && l->reconnects >= o->max_reconnects) {
		listen_fail(l, EXIT_RECONNECTS,
		    "'%s': giving up after %lld reconnects: %s", o->url,
		    l->reconnects, why);
		call_close(l, why, -1);
		return -1;
	}
	if (failed)
		l->failures++;
	delay = reconnect_delay(l);
	if (!l->ever_opened && o->retry_connect_ms >= 0)
		delay = min64(
		    delay, l->start_ms + o->retry_connect_ms - now_mono_ms());
	delay = delay < 0 ? 0 : delay;
	l->reconnects++;
	say_reconnect(l, cc == CURLE_OK && !failed,
	    cc == CURLE_OK || l->http_retry ? why : curl_easy_strerror(cc),
	    delay);
	if (call_close(l, why, delay) == -1)
		return -1;
	return delay;
}

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
		    secs(timeout));
		return true;
	}
	if (connected && idle >= 0 && now - l->last_byte_ms >= idle) {
		listen_fail(l, EXIT_IDLE,
		    "'%s': nothing received for %g s (--idle-timeout)", o->url,
		    secs(idle));
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
		left = min64(left, t);
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

/* Run until something ends the session; returns the exit status. */
static int
event_loop(struct listen *l)
{
	const struct listen_opts *o = l->o;
	int64_t start = now_mono_ms(), now, wait, next = start;
	int64_t timeout = o->out.timeout_ms, idle = o->idle_timeout_ms;
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
				wait =
				    transfer_done(l, msg->data.result, errbuf);
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
		now = now_mono_ms();
		wait = active ? 60000 : next - now;
		if (timeout >= 0)
			wait = min64(wait, start + timeout - now);
		if (active && idle >= 0)
			wait = min64(wait, l->last_byte_ms + idle - now);
		if (l->refused)
			wait = min64(
			    wait, l->refused_ms + LISTEN_ERRBODY_WAIT_MS - now);
		if (wait < 0)
			wait = 0;
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
		call_close(l, why, -1);
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
