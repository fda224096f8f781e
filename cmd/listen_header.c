/*
 * sse listen: the header callback. Each line of the response head goes to
 * lib/eventsource.c, which also decides, once the final head is in, whether
 * the connection is announced (status 200 and an event stream), retried,
 * stopped (204) or failed; this file acts on the decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "eventsource.h"
#include "listen.h"
#include "msg.h"
#include "util.h"

/* A new response head began (its status line is in l->resp already). */
static void
new_response(struct listen *l)
{
	sse_buf_reset(&l->headers);
	l->opened = false;
	l->head_ended = false;
	l->http_retry = false;
	l->head_bytes = 0;
	l->refused = false;
	sse_buf_reset(&l->errbody);
}

void
listen_conn_reset(struct listen *l)
{
	sse_es_response_reset(&l->resp);
	new_response(l);
	l->answered = false;
}

static const char *
url(const struct listen *l)
{
	return l->o->url;
}

/*
 * On a terminal, without -v (which says more) or -q: a short, dim line on
 * stderr when connected and when connected again, so that a quiet stream
 * is not a blank screen and an outage is seen to end.
 */
static void
status_line(const struct listen *l, const char *to)
{
	bool dim;

	if (msg_verbosity() > 0 || msg_is_quiet() || !isatty(STDERR_FILENO))
		return;
	dim = output_color(l->o->out.color, STDERR_FILENO);
	fprintf(stderr, "%s%s to %s%s\n", dim ? "\033[2m" : "",
	    l->ever_opened ? "reconnected" : "connected", to,
	    dim ? "\033[0m" : "");
}

/* Announce an accepted connection (and tell the open hook). */
static bool
open_conn(struct listen *l)
{
	struct listen_conn c;
	char *final = NULL, *shown;

	l->opened = true;
	l->failures = 0;
	/* -i: the head as received, before the events, as curl -i does. */
	if (l->o->include &&
	    (sse_buf_add(&l->out.buf, l->headers.p, l->headers.len) == -1 ||
		sse_buf_add(&l->out.buf, "\r\n", 2) == -1)) {
		listen_fail(l, EXIT_ERROR, "out of memory");
		return false;
	}
	(void)curl_easy_getinfo(l->easy, CURLINFO_EFFECTIVE_URL, &final);
	shown = final ? listen_shown_url(final) : NULL;
	listen_trace("* connected to %s", shown ? shown : url(l));
	status_line(l, shown ? shown : url(l));
	free(shown);
	if (l->hooks.open == NULL)
		return true;
	memset(&c, 0, sizeof(c));
	c.url = url(l);
	c.final_url = final ? final : url(l);
	c.status = l->resp.status;
	c.headers = l->headers.len ? l->headers.p : "";
	c.headers_len = l->headers.len;
	c.attempt = l->attempts;
	c.unix_ms = now_wall_ms();
	if (l->hooks.open(l->hooks.ctx, &c) != 0) {
		l->stop = EXIT_ERROR;
		return false;
	}
	return true;
}

/* Whether a refused content type is text/event-stream all the same (its
 * charset is what is refused). */
static bool
is_event_stream(const char *p, size_t n)
{
	static const char want[] = "text/event-stream";
	const size_t wn = sizeof(want) - 1;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n < wn || strncasecmp(p, want, wn) != 0)
		return false;
	for (p += wn, n -= wn; n > 0 && (*p == ' ' || *p == '\t'); p++, n--)
		;
	return n > 0 && *p == ';';
}

/* The final header block is in: announce the connection or fail it. */
static bool
decide(struct listen *l)
{
	const struct sse_es_response *r = &l->resp;
	const char *ct;
	int ctlen;

	switch (sse_es_verdict(r, l->o->retry_http && l->o->reconnect)) {
	case SSE_ES_OPEN:
		return open_conn(l);
	case SSE_ES_STOP:
		listen_trace(
		    "* HTTP status 204: the server asks the client to stop");
		l->stop = EXIT_OK;
		return false;
	case SSE_ES_RETRY:
		l->http_retry = true;
		return false;
	case SSE_ES_BAD_STATUS:
	case SSE_ES_BAD_TYPE:
		ct = listen_visible(l, r->ctype.p, r->ctype.len, &ctlen);
		if (r->status != 200)
			snprintf(l->why, sizeof(l->why),
			    "'%s' answered HTTP status %ld (content type "
			    "'%.*s'), not 200",
			    url(l), r->status, ctlen, ct);
		else if (is_event_stream(r->ctype.p, r->ctype.len))
			snprintf(l->why, sizeof(l->why),
			    "'%s' answered content type '%.*s' (HTTP status "
			    "200): a charset other than utf-8",
			    url(l), ctlen, ct);
		else
			snprintf(l->why, sizeof(l->why),
			    "'%s' answered content type '%.*s' (HTTP status "
			    "200), not text/event-stream",
			    url(l), ctlen, ct);
		/* The body says why, as curl shows it: keep its start. */
		l->refused = true;
		l->refused_ms = now_mono_ms();
		return true;
	}
	return false;
}

static void
keep_header(struct listen *l, const char *p, size_t len)
{
	if (l->headers.len + len + 2 <= LISTEN_MAX_HEADERS) {
		(void)sse_buf_add(&l->headers, p, len);
		(void)sse_buf_add(&l->headers, "\r\n", 2);
	}
}

size_t
listen_header_cb(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct listen *l = ctx;
	size_t n = size * nitems, vlen;
	const char *v;

	l->last_byte_ms = now_mono_ms();
	l->answered = true;
	/* Trailers after the body, if any, change nothing. */
	if (l->opened)
		return n;
	/* A head that never ends is refused, as one too large. */
	if ((l->head_bytes += n) > LISTEN_MAX_HEADERS) {
		listen_fail(l, EXIT_HTTP,
		    "'%s': response head larger than %u KiB", url(l),
		    LISTEN_MAX_HEADERS / 1024);
		return 0;
	}
	v = buf;
	vlen = n;
	sse_es_trim(&v, &vlen);
	if (vlen > 0)
		listen_show(l, "< ", v, vlen);
	switch (sse_es_response_line(&l->resp, buf, n)) {
	case SSE_ES_STATUS:
		/* A new response: an interim one, a redirect, or the last. */
		new_response(l);
		break;
	case SSE_ES_END:
		l->head_ended = true;
		/* Interim responses and redirects that curl follows go on. */
		if (!sse_es_response_final(&l->resp))
			return n;
		return decide(l) ? n : 0;
	case SSE_ES_FIELD:
		break;
	}
	keep_header(l, v, vlen);
	return n;
}
