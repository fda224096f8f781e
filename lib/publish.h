/*
 * The body of a publish request (POST /events[/TOPIC]) made into events,
 * whole, before any is published: a bad line anywhere means none is, and
 * the error names the line (1-based). So nothing is ever half-published.
 *
 *   text/plain             one event a line (LF or CRLF), type as given;
 *                          an empty line is an event with empty data, as
 *                          with lines input; a last LF ends the last line
 *   application/json       one JSON object a line, blank lines skipped;
 *                          decoded by the caller's function (lib/ has no
 *                          JSON decoder), in the --input json schema
 *   text/event-stream      parsed as a stream (lib/parser), each event as
 *                          it would dispatch; the body's end ends the last
 *
 * Events keep their bytes in one arena (copies), so the body may go once
 * parsing is done. Every type and id is checked against what the
 * serializer would refuse (CR, LF, NUL), and every topic is valid, so
 * publishing what parsed cannot fail half-way.
 */
#ifndef SSE_PUBLISH_H
#define SSE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

enum pub_kind {
	PUB_TEXT,
	PUB_JSON,
	PUB_SSE,
	PUB_UNSUPPORTED, /* answer 415 */
};

/*
 * From a Content-Type header (parameters and case ignored): text/plain,
 * application/json (also application/x-ndjson, application/jsonl),
 * text/event-stream. No header, and application/x-www-form-urlencoded
 * (what curl -d sends unless told), are text: the body is not decoded.
 */
enum pub_kind pub_kind_of(const char *content_type);

/*
 * The caller's decoder of one JSON line (no line end, not blank): 0 and
 * ev (and *topic, NULL when the line names none) set, the views valid
 * until the next call; -1 with a reason in why.
 */
typedef int (*pub_json_fn)(void *ctx, const char *line, size_t len,
    struct sse_event *ev, const char **topic, size_t *topic_len, char *why,
    size_t whysz);

struct pub_event {
	size_t type_off, type_len;
	size_t data_off, data_len;
	size_t id_off, id_len;
	size_t topic_off, topic_len; /* topic_len 0: the request's topic */
	bool has_id;
	int64_t retry;
	unsigned long line; /* the body's line it came from; 0: SSE body */
};

struct pub {
	struct sse_buf arena;
	struct pub_event *ev;
	size_t n, cap;
	size_t max_events; /* more events in one body is an error */
	size_t max_event; /* longest line or event */
	unsigned long err_line; /* the bad line; 0: about the whole body */
	char err[256];
};

void pub_init(struct pub *, size_t max_events, size_t max_event);
void pub_release(struct pub *);

/*
 * Parse body into p's events (adding to what p has). type is the event
 * type of text lines. Returns 0, or -1 with p->err (and p->err_line) set
 * and p->n as it was before the call.
 */
int pub_parse(struct pub *p, enum pub_kind kind, const char *body, size_t len,
    const char *type, size_t type_len, pub_json_fn json, void *ctx);

/* Event i as views into p's arena; *topic NULL when it names none. */
void pub_get(const struct pub *p, size_t i, struct sse_event *ev,
    const char **topic, size_t *topic_len);

/* p's error as a JSON object: {"error":"line 3: ...","line":3}. */
int pub_error_json(const struct pub *p, struct sse_buf *out);

#endif
