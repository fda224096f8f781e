/*
 * sse listen: how a connection ends. Reconnect, after the reconnection
 * time and the backoff of lib/eventsource.c, or end the session with a
 * documented exit status: the stream ended (--no-reconnect, a request with
 * a body), a refusal, an error retrying cannot mend, a first connection
 * that cannot be made (--retry-connect), reconnects exhausted.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "listen.h"
#include "msg.h"
#include "util.h"

/* The first wait of --retry-connect. */
#define RETRY_CONNECT_FIRST_MS 100

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
 * --retry-connect polls for a server that is starting: 0.1 s, doubling up
 * to the reconnection time (at least 0.1 s), not the backoff meant for a
 * server that is up.
 */
static int64_t
poll_delay(const struct listen *l)
{
	int64_t cap = (int64_t)l->retry_ms, d = RETRY_CONNECT_FIRST_MS;
	unsigned i;

	if (cap < RETRY_CONNECT_FIRST_MS)
		cap = RETRY_CONNECT_FIRST_MS;
	for (i = 1; i < l->failures && d < cap; i++)
		d *= 2;
	return listen_min64(d, cap);
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

/* Whether the attempt made a connection (TCP, or a proxy's). */
static bool
connected(const struct listen *l)
{
	curl_off_t t = 0;

	return l->answered ||
	    (curl_easy_getinfo(l->easy, CURLINFO_CONNECT_TIME_T, &t) ==
		    CURLE_OK &&
		t > 0);
}

/*
 * Whether the attempt never reached a server that answers: the first
 * connection of a run that cannot be made, or that gets no answer at all
 * (nothing, a close at once, a TLS handshake with a plain HTTP port, or
 * plain HTTP to a TLS one), fails as curl's does (exit 3), unless
 * --retry-connect waits for a server that is starting.
 */
static bool
never_connected(const struct listen *l, CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return true;
	case CURLE_OPERATION_TIMEDOUT:
		return !connected(l);
	case CURLE_OK:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
		return !l->answered;
	default:
		return false;
	}
}

/* How a message names a failed attempt: the connection was not made, it
 * was made and nothing came back, or something did. */
static const char *
attempt_failed(const struct listen *l)
{
	if (!connected(l))
		return "cannot connect to";
	return l->answered ? "no usable answer from" : "no answer from";
}

/* The exit status for a futile error. */
static int
futile_status(CURLcode cc)
{
	if (cc == CURLE_TOO_MANY_REDIRECTS)
		return EXIT_HTTP;
	return cc == CURLE_OUT_OF_MEMORY ? EXIT_ERROR : EXIT_CONNECT;
}

int
listen_call_close(struct listen *l, const char *reason, int64_t reconnect_ms)
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
		listen_trace(
		    "* stream ended; reconnecting in %g s", listen_secs(ms));
	else if (l->opened)
		msg_warnx("connection to '%s' lost: %s; reconnecting in %g s",
		    url, why, listen_secs(ms));
	else if (l->http_retry)
		msg_warnx("'%s' answered %s; retrying in %g s", url, why,
		    listen_secs(ms));
	else
		msg_warnx("%s '%s': %s; retrying in %g s", attempt_failed(l),
		    url, why, listen_secs(ms));
}

/*
 * Why the connection ended, in why: 0 to go on deciding; when that already
 * ends the session, -1 (a refusal: l->why says it) or -2 (an error that
 * retrying cannot mend: why says it).
 */
static int
why_ended(
    struct listen *l, CURLcode cc, const char *errbuf, char *why, size_t sz)
{
	const struct listen_opts *o = l->o;

	if (l->http_retry)
		snprintf(why, sz, "HTTP status %ld", l->resp.status);
	else if (cc == CURLE_OK && l->opened)
		snprintf(why, sz, "stream ended");
	else if (cc == CURLE_OK && !l->answered)
		snprintf(why, sz, "connection closed before any answer");
	else if (cc == CURLE_OK && !l->head_ended)
		/* Cut before the blank line: no answer, a transport failure. */
		snprintf(why, sz, "connection closed inside the response head");
	else if (cc == CURLE_OK) {
		/* A whole head that is no answer: a redirect curl did not
		 * follow. */
		listen_fail(l, EXIT_HTTP,
		    "'%s' answered HTTP status %ld, not an event stream",
		    o->url, l->resp.status);
		return -1;
	} else {
		snprintf(
		    why, sz, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		if (!l->ever_opened && futile(cc)) {
			listen_fail(l, futile_status(cc), "%s '%s': %s",
			    attempt_failed(l), o->url, why);
			return -2;
		}
	}
	return 0;
}

/*
 * Whether the session ends here rather than reconnecting: the first
 * connection cannot be made (unless --retry-connect waits), or no
 * reconnection is wanted, or they are exhausted.
 */
static bool
ends_now(struct listen *l, CURLcode cc, const char *why)
{
	const struct listen_opts *o = l->o;

	if (!l->ever_opened && never_connected(l, cc)) {
		/* --retry-connect waits, even with --no-reconnect. */
		if (o->retry_connect_ms < 0 ||
		    now_mono_ms() - l->start_ms >= o->retry_connect_ms) {
			listen_fail(l, EXIT_CONNECT, "%s '%s': %s%s",
			    attempt_failed(l), o->url, why,
			    o->retry_connect_ms < 0 ? ""
						    : " (--retry-connect)");
			return true;
		}
	} else if (!o->reconnect) {
		if (cc == CURLE_OK && l->opened) {
			listen_trace("* stream ended");
			l->stop = EXIT_OK;
		} else if (l->opened)
			listen_fail(l, EXIT_CONNECT,
			    "connection to '%s' lost: %s", o->url, why);
		else
			listen_fail(l, EXIT_CONNECT, "%s '%s': %s",
			    attempt_failed(l), o->url, why);
		return true;
	}
	if (o->max_reconnects >= 0 && l->reconnects >= o->max_reconnects) {
		listen_fail(l, EXIT_RECONNECTS,
		    "'%s': giving up after %lld reconnects: %s", o->url,
		    l->reconnects, why);
		return true;
	}
	return false;
}

int64_t
listen_transfer_done(struct listen *l, CURLcode cc, const char *errbuf)
{
	const struct listen_opts *o = l->o;
	char why[CURL_ERROR_SIZE + 64];
	int64_t delay;
	bool failed = !l->opened;
	int rc;

	/* "An incomplete event at a disconnect is discarded", and the last
	 * event ID string stays for the next request. */
	sse_parser_end(&l->parser);
	/* The events received come before what is said about the end. */
	(void)output_flush(&l->out);
	if (l->opened)
		l->ever_opened = true;
	if (l->refused) {
		listen_refuse(l);
		listen_call_close(l, l->why, -1);
		return -1;
	}
	if (l->stop >= 0) {
		listen_call_close(l, l->why[0] ? l->why : "stopped", -1);
		return -1;
	}
	if ((rc = why_ended(l, cc, errbuf, why, sizeof(why))) != 0) {
		listen_call_close(l, rc == -1 ? l->why : why, -1);
		return -1;
	}
	if (ends_now(l, cc, why)) {
		listen_call_close(l, why, -1);
		return -1;
	}
	if (failed)
		l->failures++;
	delay = reconnect_delay(l);
	if (!l->ever_opened && o->retry_connect_ms >= 0) {
		if (never_connected(l, cc))
			delay = poll_delay(l);
		delay = listen_min64(
		    delay, l->start_ms + o->retry_connect_ms - now_mono_ms());
	}
	delay = delay < 0 ? 0 : delay;
	l->reconnects++;
	say_reconnect(l, cc == CURLE_OK && !failed,
	    cc == CURLE_OK || l->http_retry ? why : curl_easy_strerror(cc),
	    delay);
	if (listen_call_close(l, why, delay) == -1)
		return -1;
	return delay;
}
