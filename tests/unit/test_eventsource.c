/*
 * lib/eventsource.c: the EventSource client's rules, each test quoting the
 * text of the WHATWG HTML Standard, "Server-sent events", it checks.
 */
#include <stdint.h>
#include <string.h>

#include "eventsource.h"
#include "tap.h"

/* Feed a head given as lines joined by '|' (each gets CRLF), then the end. */
static enum sse_es_line
head(struct sse_es_response *r, const char *lines)
{
	char line[512];
	const char *p = lines, *bar;
	size_t n;

	sse_es_response_reset(r);
	while (*p != '\0') {
		bar = strchr(p, '|');
		n = bar ? (size_t)(bar - p) : strlen(p);
		memcpy(line, p, n);
		memcpy(line + n, "\r\n", 2);
		sse_es_response_line(r, line, n + 2);
		p += n + (bar != NULL);
	}
	return sse_es_response_line(r, "\r\n", 2);
}

static enum sse_es_verdict
verdict(const char *lines, bool retry_http)
{
	struct sse_es_response r;
	enum sse_es_verdict v;

	sse_es_response_init(&r);
	head(&r, lines);
	v = sse_es_verdict(&r, retry_http);
	sse_es_response_release(&r);
	return v;
}

#define ES(s) sse_es_event_stream(s, strlen(s))

static void
test_content_type(void)
{
	/* "HTTP 200 OK responses with a `Content-Type` header specifying the
	 * type `text/event-stream`, ignoring any MIME type parameters, must be
	 * processed line by line" */
	ok(ES("text/event-stream"), "text/event-stream");
	ok(ES("Text/Event-Stream"), "the essence compared without case");
	ok(ES(" text/event-stream \t"), "blanks around it");
	ok(ES("text/event-stream; foo=bar"), "MIME type parameters ignored");
	ok(ES("text/event-stream;charset=utf-8"), "charset=utf-8");
	ok(ES("text/event-stream; charset=\"UTF-8\""), "charset quoted");
	ok(ES("text/event-stream; charset="), "an empty charset is none");
	/* The stream is always decoded as UTF-8: Chromium refuses another
	 * declared charset, and so do we. */
	ok(!ES("text/event-stream; charset=iso-8859-1"), "other charset");
	/* "HTTP 200 OK responses that have a Content-Type specifying an
	 * unsupported type, or that have no Content-Type at all, must cause the
	 * user agent to fail the connection." */
	ok(!ES("text/plain"), "text/plain");
	ok(!ES(""), "no type at all");
	ok(!ES("text/event-streams"), "a longer type");
	ok(!ES("text/event"), "a shorter type");
}

static void
test_verdict(void)
{
	const char *es = "Content-Type: text/event-stream";
	char h[256];

	snprintf(h, sizeof(h), "HTTP/1.1 200 OK|%s", es);
	ok(verdict(h, false) == SSE_ES_OPEN, "200 and text/event-stream open");
	snprintf(h, sizeof(h), "HTTP/2 200|content-type:text/event-stream");
	ok(verdict(h, false) == SSE_ES_OPEN, "HTTP/2, lower case, no blank");
	ok(verdict("HTTP/1.1 200 OK", false) == SSE_ES_BAD_TYPE,
	    "200 with no Content-Type fails the connection");
	ok(verdict("HTTP/1.1 200 OK|Content-Type: text/html", true) ==
		SSE_ES_BAD_TYPE,
	    "200 with another type fails the connection");
	/* "Clients will reconnect if the connection is closed; a client can be
	 * told to stop reconnecting using the HTTP 204 No Content response
	 * code." */
	ok(verdict("HTTP/1.1 204 No Content", false) == SSE_ES_STOP,
	    "204 stops reconnecting");
	/* "Any other HTTP response code not listed here ... must cause the
	 * user agent to fail the connection." */
	snprintf(h, sizeof(h), "HTTP/1.1 404 Not Found|%s", es);
	ok(verdict(h, false) == SSE_ES_BAD_STATUS, "404 fails");
	ok(verdict(h, true) == SSE_ES_BAD_STATUS, "404 fails, retry or not");
	snprintf(h, sizeof(h), "HTTP/1.1 503 Busy|%s", es);
	ok(verdict(h, false) == SSE_ES_BAD_STATUS, "503 fails by default");
	ok(verdict(h, true) == SSE_ES_RETRY, "503 retried on request");
	ok(verdict("HTTP/1.1 429 Slow down", true) == SSE_ES_RETRY,
	    "429 retried on request");
	ok(verdict("HTTP/1.1 2x0 OK|Content-Type: text/event-stream", false) ==
		SSE_ES_BAD_STATUS,
	    "a status line without three digits fails");
}

static void
test_heads(void)
{
	struct sse_es_response r;

	sse_es_response_init(&r);
	/* "HTTP 301 Moved Permanently, 302 Found, 303 See Other, and 307
	 * Temporary Redirect responses are handled by the fetching and CORS
	 * algorithms": the HTTP layer follows them, the head is not final. */
	ok(head(&r, "HTTP/1.1 302 Found|Location: /e") == SSE_ES_END,
	    "a blank line ends a head");
	ok(!sse_es_response_final(&r), "a redirect with Location goes on");
	head(&r, "HTTP/1.1 302 Found|Location:  ");
	ok(sse_es_response_final(&r), "a redirect with no Location is final");
	head(&r, "HTTP/1.1 100 Continue");
	ok(!sse_es_response_final(&r), "an interim response is not final");
	head(&r, "HTTP/1.1 200 OK");
	ok(sse_es_response_final(&r) && r.status == 200, "200 is final");
	head(&r, "HTTP/1.1 200 OK|Content-Type:  text/event-stream \t");
	ok(r.ctype.len == 17 && memcmp(r.ctype.p, "text/event-stream", 17) == 0,
	    "the Content-Type value is kept trimmed");
	ok(sse_es_response_line(&r, "HTTP/1.1 500 x\r\n", 16) ==
		    SSE_ES_STATUS &&
		r.status == 500 && r.ctype.len == 0,
	    "a new status line starts a new head");
	ok(sse_es_response_line(&r, "\n", 1) == SSE_ES_END, "LF alone ends");
	ok(sse_es_response_line(&r, "X-No-Colon\r\n", 12) == SSE_ES_FIELD,
	    "a line without a colon is a field line");
	sse_es_response_release(&r);
}

static void
test_delay(void)
{
	uint64_t rnd;
	int64_t d;
	bool in = true;

	/* "Wait a delay equal to the reconnection time of the event source." */
	ok(sse_es_reconnect_delay(3000, 0, 30000, 12345) == 3000,
	    "after an open connection: the reconnection time exactly");
	ok(sse_es_reconnect_delay(0, 0, 30000, 7) == 0, "retry: 0 is 0");
	ok(sse_es_reconnect_delay(UINT64_MAX, 0, 30000, 7) ==
		(int64_t)(UINT64_C(1) << 40),
	    "a huge reconnection time is bounded");
	/* "Optionally, wait some more. In particular, if the previous attempt
	 * failed, then user agents might introduce an exponential backoff
	 * delay to avoid overloading a potentially already overloaded
	 * server." */
	ok(sse_es_reconnect_delay(3000, 1, 30000, 0) == 3000,
	    "one failure: never less than the reconnection time");
	ok(sse_es_reconnect_delay(3000, 1, 30000, 3000) == 6000,
	    "one failure: up to twice the reconnection time");
	ok(sse_es_reconnect_delay(0, 1, 30000, 0) == 100,
	    "retry: 0 still backs off from 0.1 s (half of 0.2 s)");
	ok(sse_es_reconnect_delay(0, 3, 30000, 400) == 800,
	    "three failures from 0.1 s: up to 0.8 s");
	for (rnd = 0; rnd < 40000; rnd += 7) {
		d = sse_es_reconnect_delay(1000, 20, 30000, rnd);
		in = in && d >= 15000 && d <= 30000;
	}
	ok(in, "many failures: equal jitter within [cap/2, cap]");
	ok(sse_es_reconnect_delay(50000, 4, 30000, 0) == 50000,
	    "a reconnection time above the cap is still waited");
	ok(sse_es_reconnect_delay(1000, 4000000000u, 30000, 1) <= 30000,
	    "the doubling stops at the cap");
}

static void
test_trim(void)
{
	const char *s = " \t\r\nab c\r\n";
	size_t n = strlen(s);

	sse_es_trim(&s, &n);
	ok(n == 4 && memcmp(s, "ab c", 4) == 0, "trim blanks, CR and LF");
	s = "\r\n";
	n = 2;
	sse_es_trim(&s, &n);
	ok(n == 0, "trim to nothing");
}

int
main(void)
{
	test_content_type();
	test_verdict();
	test_heads();
	test_delay();
	test_trim();
	return done_testing();
}
