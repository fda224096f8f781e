/*
 * The EventSource client's rules from the WHATWG HTML Standard, "Server-sent
 * events", as pure functions: which response is accepted (status and
 * content type, read from the head line by line), which ends the session
 * (204) or may be retried (5xx, 429, on request), and how long to wait
 * before reconnecting (the reconnection time, with backoff after failures).
 * `sse listen` applies them over libcurl; they are unit-tested here with no
 * network (tests/unit/test_eventsource.c quotes the text they implement).
 */
#ifndef SSE_EVENTSOURCE_H
#define SSE_EVENTSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The reconnection time before any retry: field (Chromium uses 3 s). */
#define SSE_ES_RETRY_DEFAULT_MS 3000
/* Backoff for consecutive failures stops growing here by default. */
#define SSE_ES_BACKOFF_MAX_MS 30000
/* Backoff grows from at least this, even when retry: is 0. */
#define SSE_ES_BACKOFF_MIN_MS 100

/* The head of one response (of possibly several: 1xx, redirects). */
struct sse_es_response {
	long status; /* 0 until a status line came, or when it was bad */
	bool location; /* a non-empty Location header */
	struct sse_buf ctype; /* the Content-Type value, trimmed */
};

void sse_es_response_init(struct sse_es_response *);
void sse_es_response_reset(struct sse_es_response *);
void sse_es_response_release(struct sse_es_response *);

enum sse_es_line {
	SSE_ES_STATUS, /* "HTTP/..." began a new response: reset, status set */
	SSE_ES_FIELD, /* a header line (Content-Type, Location noted) */
	SSE_ES_END, /* the blank line that ends a head */
};

/* One line of a response head as received, CRLF (or LF) included. */
enum sse_es_line sse_es_response_line(
    struct sse_es_response *, const char *line, size_t len);

/*
 * At SSE_ES_END: whether this head is the last one, i.e. not an interim
 * response (1xx) nor a redirect with a Location that the HTTP layer follows.
 */
bool sse_es_response_final(const struct sse_es_response *);

enum sse_es_verdict {
	SSE_ES_OPEN, /* 200 and text/event-stream: announce the connection */
	SSE_ES_STOP, /* 204: the server asks the client to stop */
	SSE_ES_RETRY, /* 5xx or 429 and retry_http: reconnect later */
	SSE_ES_BAD_STATUS, /* fail the connection: status not 200 */
	SSE_ES_BAD_TYPE, /* fail the connection: not text/event-stream */
};

/* What to do with a final head; retry_http: retry 5xx and 429 statuses. */
enum sse_es_verdict sse_es_verdict(
    const struct sse_es_response *, bool retry_http);

/*
 * Whether a Content-Type value is text/event-stream: the essence compared
 * without regard to case, parameters ignored, except that a charset other
 * than UTF-8 is refused, as Chromium's EventSource does.
 */
bool sse_es_event_stream(const char *ct, size_t len);

/*
 * The delay before the next attempt, in ms. retry_ms is the reconnection
 * time, failures the number of consecutive attempts that did not open,
 * cap_ms the cap of the backoff, rnd any random number (the jitter).
 */
int64_t sse_es_reconnect_delay(
    uint64_t retry_ms, unsigned failures, uint64_t cap_ms, uint64_t rnd);

/* Trim blanks (space, tab) and CR and LF at both ends of a span. */
void sse_es_trim(const char **s, size_t *n);

#endif
