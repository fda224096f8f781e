/*
 * Output formats for the client (listen, replay): how one dispatched event
 * is written to stdout.
 *
 *   raw     canonical text/event-stream (the serializer's bytes)
 *   json    one JSON object a line: {"event":..,"data":..,"id":..,"time":..};
 *           id is the last event ID, as MessageEvent.lastEventId reports
 *           it, time when the event was received (RFC 3339, UTC,
 *           milliseconds, as sse_rec_time() writes it)
 *   data    the data alone, then LF
 *   data0   the data alone, then NUL (multi-line data stays unambiguous)
 *   pretty  for people: time, type, id and data; ANSI colour when asked
 *   TEMPLATE  any other spec containing '{': placeholders {event}, {data},
 *           {id}, {time} (ISO 8601 UTC, milliseconds) and {json} (the
 *           event as the json format's object); escapes \n \t \\ and
 *           {{ }} for literal braces. Nothing is added at the end.
 *           {data.PATH} is a member of the data taken as JSON (PATH as
 *           choices.0.delta.content, array indexes as numbers); lib has
 *           no JSON reader, so the caller provides one (path_fn).
 *   .PATH   short for the template {data.PATH}\n
 */
#ifndef SSE_FORMAT_H
#define SSE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "parser.h"

enum sse_format_kind {
	SSE_FMT_RAW,
	SSE_FMT_JSON,
	SSE_FMT_DATA,
	SSE_FMT_DATA0,
	SSE_FMT_PRETTY,
	SSE_FMT_TEMPLATE,
};

/*
 * {data.PATH}: append the member PATH (path[0..plen), dot-separated) of
 * ev's data taken as JSON to out: a string as its text, anything else as
 * compact JSON, nothing when the data is not JSON or has no such member.
 * -1 at out's cap.
 */
typedef int (*sse_format_path_fn)(void *ctx, const char *path, size_t plen,
    const struct sse_event *ev, struct sse_buf *out);

/* The json format's time member, the longest: ,"time":"...Z"} and LF. */
#define SSE_FORMAT_TIME_MAX 48

struct sse_format {
	enum sse_format_kind kind;
	bool color; /* pretty: ANSI colours; the caller decides */
	void *tmpl; /* compiled template, owned */
	sse_format_path_fn path_fn; /* {data.PATH}; NULL: they print nothing */
	void *path_ctx;
	/*
	 * The time member of the last time formatted: events received in one
	 * read share it, and a second's text is formatted once (the
	 * milliseconds are written into it as they change).
	 */
	int64_t t_ms, t_sec; /* what tmember holds; t_sec INT64_MIN: nothing */
	size_t t_len; /* tmember's length, its LF included */
	char tmember[SSE_FORMAT_TIME_MAX];
};

/*
 * Parse a format spec. Returns 0, or -1 with a message naming what is
 * wrong written to err (e.g. "unknown placeholder '{foo}'").
 */
int sse_format_init(
    struct sse_format *, const char *spec, char *err, size_t errlen);
void sse_format_release(struct sse_format *);
/*
 * Append ev formatted to out; unix_ms is when it was received (the format
 * keeps the text of the last time it wrote, hence not const).
 */
int sse_format_event(struct sse_format *, struct sse_buf *out,
    const struct sse_event *ev, int64_t unix_ms);
/*
 * Append the events of a run (len bytes, as sse_parser_set_run() hands
 * them over: each "event: T\n" if typed, "id: I\n" if it has an id, then
 * "data: D\n\n") formatted as sse_format_event() formats each of them:
 * type T or "message", data D, and as id the last I so far, at first the
 * last event ID before the run (*id, *id_len), all received at unix_ms.
 * until > 0: stop after the event that brings out to until bytes or more,
 * so that the caller may write them out and go on from there (each event
 * may repeat a long last event ID: a run's output is not bounded by its
 * size). *taken: the bytes of raw done with, and *id, *id_len the last
 * event ID after them (a view into raw, or what it was), for the call
 * that goes on. Raw, json, data and data0; SSE_ERR_INVALID for the others
 * or for bytes not of that shape, SSE_ERR_TOO_BIG at out's cap, and then
 * out is as it was and *taken 0.
 */
int sse_format_run(struct sse_format *, struct sse_buf *out, const char *raw,
    size_t len, const char **id, size_t *id_len, int64_t unix_ms, size_t until,
    size_t *taken);
/*
 * The same for a run whose events the parser indexed (n of them,
 * sse_parser_run_index(); trusted, not checked against raw): *done is the
 * events done with, the others as for sse_format_run().
 */
int sse_format_run_index(struct sse_format *, struct sse_buf *out,
    const char *raw, size_t len, const struct sse_run_event *idx, size_t n,
    const char **id, size_t *id_len, int64_t unix_ms, size_t until,
    size_t *done);
/* Whether sse_format_run() takes this format. */
bool sse_format_runs(const struct sse_format *);
/*
 * Append s[0..len) to out as the pretty format shows text, for a terminal:
 * control characters (C0 but tab, DEL, and the C1 range U+0080..U+009F
 * that some terminals obey) become \u00NN or \xNN, and so does every byte
 * that is not part of valid UTF-8, so that text from the network cannot
 * move the cursor, retitle the window or worse, and a NUL does not cut it
 * short. Tab passes, and LF when indent is not NULL (then followed by
 * indent). color: NULL for none, else the SGR sequence in force around the
 * text, restored after each escape (shown in reverse video). -1 at out's
 * cap.
 */
int sse_format_visible(struct sse_buf *out, const char *s, size_t len,
    const char *color, const char *indent);

#endif
