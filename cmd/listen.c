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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "format.h"
#include "listen.h"
#include "listen_record.h"
#include "utf8.h"
#include "util.h"

static int cmd_listen_exec(int, char **);

/* clang-format off */
const struct cmd_entry cmd_listen_entry = {
    "listen",
    "receive a stream and print its events",
    "usage: sse listen [options] URL\n"
    "\n"
    "Connects to URL, prints each event of its text/event-stream, and\n"
    "reconnects with Last-Event-ID when the stream ends, as a browser's\n"
    "EventSource does.\n"
    "\n"
    OUTPUT_HELP
    "\n"
    "Recording (played back by sse replay):\n"
    "      --record FILE     write the session to FILE as it is received\n"
    "      --record-chunks   with --record: also the raw bytes received\n"
    "\n"
    "Request:\n"
    "  -H, --header LINE     add a request header (repeatable)\n"
    "  -X, --request METHOD  request method (default GET, POST with a body)\n"
    "  -d, --data DATA       request body; @FILE reads a file, @- stdin\n"
    "      --data-binary DATA  the same, with FILE's bytes kept exactly\n"
    "      --json DATA       JSON request body (Content-Type: application/json)\n"
    "  -u, --user USER:PASS  HTTP basic authentication\n"
    "      --oauth2-bearer TOKEN  Authorization: Bearer TOKEN\n"
    "  -A, --user-agent NAME  User-Agent header\n"
    "  -k, --insecure        do not verify the server's TLS certificate\n"
    "      --compressed      ask for a compressed response (any is decoded)\n"
    "      --cacert FILE     CA certificates to verify the server with\n"
    "      --proxy URL       use this proxy (default: the *_proxy variables)\n"
    "      --connect-timeout SECS  give up connecting after SECS\n"
    "      --max-redirs N    follow at most N redirects (default 20)\n"
    "\n"
    "Reconnection:\n"
    "      --no-reconnect    exit when the stream ends\n"
    "      --max-reconnects N  reconnect at most N times, then exit 8\n"
    "      --retry-delay SECS  reconnection time until the server sends\n"
    "                        retry: (default 3)\n"
    "      --retry-max-delay SECS  cap of the backoff after failures\n"
    "                        (default 30)\n"
    "      --retry-on-http-error  reconnect after a 5xx or 429 status\n"
    "      --last-event-id ID  send Last-Event-ID: ID on the first request\n"
    "\n"
    "Limits and messages:\n"
    "      --idle-timeout SECS  exit 6 after SECS with nothing received (0: none)\n"
    "      --max-event-size SIZE  exit 7 on a larger event (default 1M)\n"
    "  -v, --verbose         report connections, headers, comments and\n"
    "                        retries on stderr (twice: libcurl's trace too)\n"
    "  -q, --quiet           print errors only\n"
    "  -h, --help            show this help and exit\n",
    cmd_listen_exec,
};
/* clang-format on */

enum {
	OPT_DATA_BINARY = 0x100,
	OPT_JSON,
	OPT_BEARER,
	OPT_CACERT,
	OPT_PROXY,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_REDIRS,
	OPT_NO_RECONNECT,
	OPT_MAX_RECONNECTS,
	OPT_RETRY_DELAY,
	OPT_RETRY_MAX_DELAY,
	OPT_RETRY_HTTP,
	OPT_LAST_EVENT_ID,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_EVENT_SIZE,
	OPT_RECORD,
	OPT_RECORD_CHUNKS,
	OPT_COMPRESSED,
};

static const struct option longopts[] = {
    OUTPUT_LONGOPTS,
    {"header", required_argument, NULL, 'H'},
    {"request", required_argument, NULL, 'X'},
    {"data", required_argument, NULL, 'd'},
    {"data-binary", required_argument, NULL, OPT_DATA_BINARY},
    {"json", required_argument, NULL, OPT_JSON},
    {"user", required_argument, NULL, 'u'},
    {"oauth2-bearer", required_argument, NULL, OPT_BEARER},
    {"user-agent", required_argument, NULL, 'A'},
    {"insecure", no_argument, NULL, 'k'},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"no-reconnect", no_argument, NULL, OPT_NO_RECONNECT},
    {"max-reconnects", required_argument, NULL, OPT_MAX_RECONNECTS},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"retry-max-delay", required_argument, NULL, OPT_RETRY_MAX_DELAY},
    {"retry-on-http-error", no_argument, NULL, OPT_RETRY_HTTP},
    {"last-event-id", required_argument, NULL, OPT_LAST_EVENT_ID},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT_SIZE},
    {"record", required_argument, NULL, OPT_RECORD},
    {"record-chunks", no_argument, NULL, OPT_RECORD_CHUNKS},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The signal handler's only state: which signal, and the self-pipe. */
static volatile sig_atomic_t got_signal;
static int sigpipe_fd[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (sigpipe_fd[1] != -1)
		(void)!write(sigpipe_fd[1], "", 1);
	errno = saved;
}

static int
signals_init(void)
{
	struct sigaction sa;
	int i;

	if (pipe(sigpipe_fd) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		(void)fcntl(sigpipe_fd[i], F_SETFL,
		    fcntl(sigpipe_fd[i], F_GETFL) | O_NONBLOCK);
		(void)fcntl(sigpipe_fd[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked write(2) to stdout must see EINTR. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

static void
signals_release(void)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sigpipe_fd[i] != -1) {
			close(sigpipe_fd[i]);
			sigpipe_fd[i] = -1;
		}
}

void
listen_log(const struct listen *l, const char *fmt, ...)
{
	va_list ap;

	if (l->o->verbose == 0 || l->o->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
listen_warn(const struct listen *l, const char *fmt, ...)
{
	va_list ap;

	if (l->o->quiet)
		return;
	fputs("sse: listen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
listen_fail(struct listen *l, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sse: listen: %s\n", l->why);
	l->stop = status;
}

/*
 * Text from the network, made safe for a terminal (sse_format_visible):
 * control characters and bytes that are not UTF-8 escaped, NUL included.
 * Valid until the next call; *len for "%.*s".
 */
const char *
listen_visible(struct listen *l, const char *s, size_t n, int *len)
{
	sse_buf_reset(&l->vis);
	if (sse_format_visible(&l->vis, s, n, NULL, NULL) == -1)
		sse_buf_reset(&l->vis);
	*len = (int)l->vis.len;
	return l->vis.len ? l->vis.p : "";
}

/* -v: a line of prefix and text from the network, made safe. */
void
listen_show(struct listen *l, const char *prefix, const char *s, size_t n)
{
	const char *v;
	int len;

	if (l->o->verbose == 0 || l->o->quiet)
		return;
	v = listen_visible(l, s, n, &len);
	fprintf(stderr, "%s%.*s\n", prefix, len, v);
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
	if (l->stop >= 0) {
		call_close(l, l->why[0] ? l->why : "stopped", -1);
		return -1;
	}
	failed = !l->opened;
	if (l->http_retry)
		snprintf(why, sizeof(why), "HTTP status %ld", l->resp.status);
	else if (cc == CURLE_OK && l->opened)
		snprintf(why, sizeof(why), "stream ended");
	else if (cc == CURLE_OK) {
		/* A response that never finished its headers, or a redirect
		 * curl did not follow. */
		listen_fail(l, EXIT_HTTP,
		    "'%s' answered HTTP status %ld, not an event stream",
		    o->url, l->resp.status);
		call_close(l, l->why, -1);
		return -1;
	} else {
		snprintf(why, sizeof(why), "%s",
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		if (!l->ever_opened && futile(cc)) {
			listen_fail(l,
			    cc == CURLE_TOO_MANY_REDIRECTS  ? EXIT_HTTP
				: cc == CURLE_OUT_OF_MEMORY ? EXIT_ERROR
							    : EXIT_CONNECT,
			    "cannot connect to '%s': %s", o->url, why);
			call_close(l, why, -1);
			return -1;
		}
	}
	if (!o->reconnect) {
		if (cc == CURLE_OK && l->opened) {
			listen_log(l, "* stream ended");
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
	l->reconnects++;
	if (cc == CURLE_OK && !failed)
		listen_log(
		    l, "* stream ended; reconnecting in %g s", secs(delay));
	else if (l->opened)
		listen_warn(l,
		    "connection to '%s' lost: %s; reconnecting in %g s", o->url,
		    why, secs(delay));
	else if (l->http_retry)
		listen_warn(l, "'%s' answered %s; retrying in %g s", o->url,
		    why, secs(delay));
	else
		listen_warn(l, "cannot connect to '%s': %s; retrying in %g s",
		    o->url, why, secs(delay));
	if (call_close(l, why, delay) == -1)
		return -1;
	return delay;
}

static int
start_attempt(struct listen *l)
{
	listen_conn_reset(l);
	l->attempts++;
	listen_log(
	    l, "* connecting to %s (attempt %lu)", l->o->url, l->attempts);
	if (listen_request_headers(l) == -1)
		return -1;
	l->last_byte_ms = now_mono_ms();
	if (curl_multi_add_handle(l->multi, l->easy) != CURLM_OK) {
		fprintf(stderr, "sse: listen: cannot start a transfer\n");
		return -1;
	}
	return 0;
}

/* Whether stdout is a pipe or socket whose reader can go away. */
static bool
watch_stdout(void)
{
	struct stat st;

	return fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

static int
wait_events(struct listen *l, int64_t wait_ms, bool watch)
{
	struct curl_waitfd fds[2];
	unsigned nfds = 0;
	char drain[64];

	fds[nfds].fd = sigpipe_fd[0];
	fds[nfds].events = CURL_WAIT_POLLIN;
	fds[nfds++].revents = 0;
	if (watch) {
		/* Asking for nothing still reports POLLERR: the reader left. */
		fds[nfds].fd = STDOUT_FILENO;
		fds[nfds].events = 0;
		fds[nfds++].revents = 0;
	}
	if (wait_ms > 60000)
		wait_ms = 60000;
	if (curl_multi_poll(l->multi, fds, nfds, (int)wait_ms, NULL) !=
	    CURLM_OK)
		return -1;
	while (read(sigpipe_fd[0], drain, sizeof(drain)) > 0)
		;
	if (watch && fds[1].revents != 0)
		return 1;
	return 0;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
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
	bool active = false, watch = watch_stdout();
	enum output_result r;
	const char *why;
	CURLMsg *msg;
	int running, left;

	curl_easy_setopt(l->easy, CURLOPT_ERRORBUFFER, errbuf);
	l->start_ms = start;
	while (l->stop < 0) {
		now = now_mono_ms();
		if (got_signal) {
			listen_log(l, "* interrupted");
			l->stop = 128 + got_signal;
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
		if (wait < 0)
			wait = 0;
		switch (wait_events(l, wait, watch)) {
		case -1:
			fprintf(
			    stderr, "sse: listen: cannot wait for events\n");
			l->stop = EXIT_ERROR;
			break;
		case 1:
			/* stdout's reader went away: end quietly. */
			l->stop = EXIT_OK;
			break;
		}
	}
	/* A signal wins, even over a write it interrupted. */
	if (got_signal)
		l->stop = 128 + got_signal;
	if (active) {
		why = l->stop >= 128 ? "interrupted"
		    : l->why[0]	     ? l->why
				     : "stopped";
		call_close(l, why, -1);
		curl_multi_remove_handle(l->multi, l->easy);
	}
	(void)output_flush(&l->out);
	return l->stop;
}

/* ---- options ------------------------------------------------------- */

static void
opts_init(struct listen_opts *o)
{
	memset(o, 0, sizeof(*o));
	output_opts_init(&o->out);
	sse_buf_init(&o->body, 0);
	o->reconnect = true;
	o->max_redirs = LISTEN_MAX_REDIRS;
	o->idle_timeout_ms = -1;
	o->retry_delay_ms = SSE_ES_RETRY_DEFAULT_MS;
	o->retry_max_ms = SSE_ES_BACKOFF_MAX_MS;
	o->max_reconnects = -1;
	o->max_event = SSE_DEFAULT_MAX_EVENT;
}

static void
opts_release(struct listen_opts *o)
{
	output_opts_release(&o->out);
	curl_slist_free_all(o->headers);
	sse_buf_release(&o->body);
}

/*
 * Check the URL with libcurl's parser: only http and https; a URL given
 * without a scheme gets http:// as curl(1) does. Returns the URL to use
 * (allocated by libcurl) or NULL after a message.
 */
static char *
check_url(const char *arg)
{
	CURLU *u = curl_url();
	CURLUcode uc;
	char *scheme = NULL, *out = NULL, *full = NULL;

	if (u == NULL)
		return NULL;
	/* libcurl's own default scheme would be https */
	if (strstr(arg, "://") == NULL && asprintf(&full, "http://%s", arg) < 0)
		full = NULL;
	uc = curl_url_set(
	    u, CURLUPART_URL, full ? full : arg, CURLU_NON_SUPPORT_SCHEME);
	free(full);
	if (uc != CURLUE_OK)
		fprintf(stderr, "sse: listen: invalid URL '%s': %s\n", arg,
		    curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 &&
		strcasecmp(scheme, "https") != 0))
		fprintf(stderr,
		    "sse: listen: invalid URL '%s': not http or https\n", arg);
	else if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		fprintf(stderr, "sse: listen: invalid URL '%s'\n", arg);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

/* "sse: listen: OPT: invalid value 'ARG': WHY", the value made visible. */
static int
bad_value(const char *opt, const char *arg, const char *why)
{
	struct sse_buf b;

	sse_buf_init(&b, 0);
	if (sse_format_visible(&b, arg, strlen(arg), NULL, NULL) == -1)
		sse_buf_reset(&b);
	fprintf(stderr, "sse: listen: %s: invalid value '%.*s': %s\n", opt,
	    (int)b.len, b.len ? b.p : "", why);
	sse_buf_release(&b);
	return -1;
}

/*
 * A value that goes into the request head as it is: libcurl does not check
 * it, and a CR or LF would end its line and start one of the value's
 * choosing (another header, or another request).
 */
static int
one_line(const char *opt, const char *v)
{
	if (strpbrk(v, "\r\n") != NULL)
		return bad_value(opt, v, "contains a line break (CR or LF)");
	return 0;
}

/*
 * --last-event-id, or the value of -H 'Last-Event-ID: ...' (arg): what the
 * standard sends is the last event ID string encoded as UTF-8, and no
 * stream can set an ID that is not valid UTF-8 (it is decoded), so such an
 * ID is refused rather than changed (repaired, it would not be the ID the
 * server knows).
 */
static int
last_event_id(
    struct listen_opts *o, const char *opt, const char *arg, const char *id)
{
	if (one_line(opt, arg) == -1)
		return -1;
	if (!sse_utf8_valid(id, strlen(id)))
		return bad_value(opt, arg, "the ID is not valid UTF-8");
	o->last_event_id = id;
	return 0;
}

static int
add_header(struct listen_opts *o, const char *h)
{
	struct curl_slist *n;
	const char *v;

	if (one_line("--header", h) == -1)
		return -1;
	if (strchr(h, ':') == NULL && strchr(h, ';') == NULL)
		return bad_value("--header", h, "not 'Name: value'");
	/* Last-Event-ID is ours to send: take it as --last-event-id. */
	if (strncasecmp(h, "Last-Event-ID:", 14) == 0) {
		for (v = h + 14; *v == ' ' || *v == '\t'; v++)
			;
		return last_event_id(o, "--header", h, v);
	}
	if ((n = curl_slist_append(o->headers, h)) == NULL) {
		fprintf(stderr, "sse: listen: out of memory\n");
		return -1;
	}
	o->headers = n;
	return 0;
}

/* Returns -1 to go on, or the exit status to end with. */
static int
parse_opts(struct listen_opts *o, int argc, char **argv)
{
	/* ':' first: a missing value is ':', an unknown option '?'. */
	static const char shortopts[] = ":" OUTPUT_SHORTOPTS "H:X:d:u:A:kvqh";
	long long n;
	int ch, r;

	optind = 0;
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if ((r = output_opt(&o->out, "listen", ch, optarg)) == 1)
			continue;
		if (r == -1)
			return EXIT_USAGE;
		r = 0;
		switch (ch) {
		case 'h':
			return cmd_help(&cmd_listen_entry);
		case 'H':
			r = add_header(o, optarg);
			break;
		case 'X':
			r = one_line("--request", optarg);
			o->method = optarg;
			break;
		case 'd':
			r = listen_load_body(o, "--data", optarg, BODY_DATA);
			break;
		case OPT_DATA_BINARY:
			r = listen_load_body(
			    o, "--data-binary", optarg, BODY_BINARY);
			break;
		case OPT_JSON:
			r = listen_load_body(o, "--json", optarg, BODY_JSON);
			break;
		case 'u':
			o->user = optarg;
			break;
		case OPT_BEARER:
			r = one_line("--oauth2-bearer", optarg);
			o->bearer = optarg;
			break;
		case 'A':
			r = one_line("--user-agent", optarg);
			o->user_agent = optarg;
			break;
		case 'k':
			o->insecure = true;
			break;
		case OPT_CACERT:
			o->cacert = optarg;
			break;
		case OPT_COMPRESSED:
			o->compressed = true;
			break;
		case OPT_PROXY:
			o->proxy = optarg;
			break;
		case OPT_CONNECT_TIMEOUT:
			r = opt_seconds("listen: --connect-timeout", optarg,
			    &o->connect_timeout_ms);
			break;
		case OPT_MAX_REDIRS:
			r = opt_int(
			    "listen: --max-redirs", optarg, 0, 1000, &n);
			o->max_redirs = (long)n;
			break;
		case OPT_NO_RECONNECT:
			o->reconnect = false;
			break;
		case OPT_MAX_RECONNECTS:
			r = opt_int("listen: --max-reconnects", optarg, 0,
			    INT64_MAX, &o->max_reconnects);
			break;
		case OPT_RETRY_DELAY:
			r = opt_seconds("listen: --retry-delay", optarg,
			    &o->retry_delay_ms);
			break;
		case OPT_RETRY_MAX_DELAY:
			r = opt_seconds("listen: --retry-max-delay", optarg,
			    &o->retry_max_ms);
			break;
		case OPT_RETRY_HTTP:
			o->retry_http = true;
			break;
		case OPT_LAST_EVENT_ID:
			r = last_event_id(o, "--last-event-id", optarg, optarg);
			break;
		case OPT_IDLE_TIMEOUT:
			r = opt_seconds("listen: --idle-timeout", optarg,
			    &o->idle_timeout_ms);
			if (o->idle_timeout_ms == 0)
				o->idle_timeout_ms = -1; /* as --timeout 0 */
			break;
		case OPT_MAX_EVENT_SIZE:
			r = opt_size("listen: --max-event-size", optarg, 1,
			    &o->max_event);
			if (r == 0 && o->max_event > SIZE_MAX / 4) {
				fprintf(stderr,
				    "sse: listen: --max-event-size: invalid "
				    "value "
				    "'%s': too large\n",
				    optarg);
				r = -1;
			}
			break;
		case OPT_RECORD:
			o->record = optarg;
			break;
		case OPT_RECORD_CHUNKS:
			o->record_chunks = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case ':':
			fprintf(stderr,
			    "sse: listen: option '%s' needs a value\n",
			    argv[optind - 1]);
			return cmd_usage(&cmd_listen_entry);
		default:
			if (optopt != 0)
				fprintf(stderr,
				    "sse: listen: unknown option '-%c'\n",
				    optopt);
			else
				fprintf(stderr,
				    "sse: listen: unknown option '%s'\n",
				    argv[optind - 1]);
			return cmd_usage(&cmd_listen_entry);
		}
		if (r == -1)
			return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr,
		    optind >= argc ? "sse: listen: no URL given\n"
				   : "sse: listen: more than one URL given\n");
		return cmd_usage(&cmd_listen_entry);
	}
	o->url = argv[optind];
	if (o->record_chunks && o->record == NULL) {
		fprintf(
		    stderr, "sse: listen: --record-chunks needs --record\n");
		return cmd_usage(&cmd_listen_entry);
	}
	return -1;
}

static int
run(struct listen_opts *o)
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
	if (output_init(&l.out, &o->out, STDOUT_FILENO, "listen") == -1) {
		sse_es_response_release(&l.resp);
		sse_buf_release(&l.headers);
		sse_buf_release(&l.vis);
		return EXIT_USAGE;
	}
	l.out.interrupted = &got_signal;
	listen_parser_init(&l);
	if ((o->out.timeout_ms >= 0 || o->idle_timeout_ms >= 0) &&
	    output_set_deadline(&l.out, output_time_left, &l) == -1) {
		fprintf(stderr, "sse: listen: cannot set up a timer: %s\n",
		    strerror(errno));
		goto out;
	}
	if (o->last_event_id != NULL &&
	    sse_parser_set_last_id(&l.parser, o->last_event_id,
		strlen(o->last_event_id)) != SSE_OK) {
		fprintf(stderr,
		    "sse: listen: --last-event-id: invalid value: too large\n");
		rc = EXIT_USAGE;
		goto out;
	}
	srandom((unsigned)now_wall_ms() ^ ((unsigned)getpid() << 16));
	if ((l.easy = curl_easy_init()) == NULL ||
	    (l.multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "sse: listen: cannot initialise libcurl\n");
		goto out;
	}
	if (listen_request_setup(&l) == -1)
		goto out;
	if (signals_init() == -1) {
		fprintf(stderr, "sse: listen: cannot set up signals: %s\n",
		    strerror(errno));
		goto out;
	}
	if (o->record != NULL &&
	    listen_record_start(
		&rec, &l.hooks, o->record, o->url, o->record_chunks) == -1)
		goto out;
	listen_parser_relay(&l);
	rc = event_loop(&l);
out:
	listen_record_finish(&rec, "stopped");
	signals_release();
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
	return rc;
}

static int
cmd_listen_exec(int argc, char **argv)
{
	struct listen_opts o;
	char *url = NULL;
	int rc;

	opts_init(&o);
	if ((rc = parse_opts(&o, argc, argv)) == -1) {
		if ((url = check_url(o.url)) == NULL)
			rc = EXIT_USAGE;
		else if (output_check_fd(STDOUT_FILENO, "listen") == -1)
			rc = EXIT_ERROR;
		else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr,
			    "sse: listen: cannot initialise "
			    "libcurl\n");
			rc = EXIT_ERROR;
		} else {
			o.url = url;
			rc = run(&o);
			curl_global_cleanup();
		}
	}
	curl_free(url);
	opts_release(&o);
	return rc;
}
