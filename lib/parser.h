/*
 * Incremental text/event-stream parser, exact to the WHATWG HTML Standard,
 * "Server-sent events", sections "Parsing an event stream" and
 * "Interpreting an event stream".
 *
 * Caller-owned state: bytes go in through sse_parser_feed() in chunks of any
 * size; each dispatched event comes out through a callback with views that
 * are valid only during the callback. Chunk boundaries never change the
 * events. Steady state allocates nothing: buffers are reused between events.
 * Every buffer is capped by max_event; going past it is a sticky error.
 */
#ifndef SSE_PARSER_H
#define SSE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

enum sse_status {
	SSE_OK = 0,
	SSE_ERR_TOO_BIG = -1, /* a line or an event passed max_event */
	SSE_ERR_NOMEM = -2,
	SSE_ERR_ABORTED = -3, /* a callback returned non-zero */
	SSE_ERR_INVALID = -4, /* bad argument (serializer, formatter) */
};

struct sse_parser_cb {
	/* A dispatched event. Return non-zero to stop: feed returns ABORTED. */
	int (*event)(void *ctx, const struct sse_event *ev);
	/*
	 * A valid retry field: the new reconnection time in milliseconds. An
	 * empty retry value gives the default reconnection time (see
	 * sse_parser_set_default_retry), as Chromium does.
	 */
	void (*retry)(void *ctx, uint64_t ms);
	/* A comment line, without its leading colon. Optional. */
	void (*comment)(void *ctx, const char *text, size_t len);
	void *ctx;
};

#define SSE_DEFAULT_MAX_EVENT (1024u * 1024u) /* 1 MiB */
/* Chromium's EventSource::kDefaultReconnectDelay. */
#define SSE_DEFAULT_RETRY_MS 3000u

/*
 * An event of a run (sse_parser_set_run_index), as offsets into the run's
 * span: its data; its type, or type_len 0 for "message" (no event line);
 * its id when has_id (an id line), else the last event ID of the event
 * before it.
 */
struct sse_run_event {
	size_t data, data_len, type, type_len, id, id_len;
	bool has_id;
};

struct sse_parser {
	struct sse_parser_cb cb;
	size_t max_event;
	struct sse_buf line; /* a line that straddles two feeds */
	struct sse_buf data; /* data buffer */
	struct sse_buf type; /* event type buffer */
	struct sse_buf idbuf; /* last event ID buffer */
	struct sse_buf lastid; /* last event ID string */
	struct sse_buf utf8; /* scratch for lines that need U+FFFD */
	const char *dview; /* data buffer as a view into the input, or NULL */
	size_t dview_len;
	const char *blk; /* where the current event's lines began (raw) */
	unsigned char blk_state; /* whether they are still canonical */
	const char *raw; /* during an event callback: its raw span or NULL */
	size_t raw_len;
	bool id_seen; /* an id field in this event */
	bool id_pending; /* last event ID set since the last event dispatched */
	bool bom_done; /* past the start of the stream */
	bool skip_lf; /* last line ended with CR */
	int err; /* sticky enum sse_status */
	uint64_t default_retry; /* what an empty retry field resets to */
	size_t max_data; /* longest data an event may have */
	int (*run)(void *ctx, const char *raw, size_t len, size_t n);
	struct sse_run_event *ridx; /* see sse_parser_set_run_index */
	size_t ridx_cap;
	bool ridx_on; /* during a run callback: ridx holds its events */
	int (*dropped)(void *ctx, const char *type, size_t type_len);
	uint64_t nevents;
	uint64_t nbytes;
	size_t taken; /* see sse_parser_taken */
};

/* max_event 0 means SSE_DEFAULT_MAX_EVENT. Allocates nothing. */
void sse_parser_init(
    struct sse_parser *, const struct sse_parser_cb *, size_t max_event);
void sse_parser_release(struct sse_parser *);
/* Feed len bytes. Returns SSE_OK or the sticky error. */
int sse_parser_feed(struct sse_parser *, const void *buf, size_t len);
/*
 * After sse_parser_feed returned an error: how many bytes of that feed the
 * parser went through. The line that failed ends there or, when it is not
 * complete there, goes on from there (a caller that skips the rest of the
 * event after an error, as far as its blank line, resumes from here).
 */
size_t sse_parser_taken(const struct sse_parser *);
/*
 * End of one stream (connection closed): an incomplete event is discarded,
 * the next bytes start a new stream (a BOM is skipped again), and the last
 * event ID string is kept, as a browser's EventSource keeps it across
 * reconnections. Clears a sticky error.
 */
void sse_parser_end(struct sse_parser *);
/*
 * The reconnection time an empty "retry" field resets to (the client's
 * default; SSE_DEFAULT_RETRY_MS unless set).
 */
void sse_parser_set_default_retry(struct sse_parser *, uint64_t ms);
/*
 * An event with more than max bytes of data is an error, SSE_ERR_TOO_BIG,
 * when it would be dispatched (sticky, as any error). By default only
 * max_event limits the data.
 */
void sse_parser_set_max_data(struct sse_parser *, size_t max);
/*
 * For relaying a stream as it came: consecutive events in their canonical
 * form then come to run as one span of their bytes (len bytes, n >= 1
 * events) instead of through the event callback one by one. Each event of
 * a run is exactly what sse_serialize writes for it, all in the buffer
 * being fed, with LF line ends and ASCII only:
 *   "event: T\n"   if its type T is not "message" (T not empty), then
 *   "id: I\n"      if it has an id field (I without NUL): has_id set and
 *                  last event ID I, then
 *   "data: D\n\n"  its data D (one line).
 * An event without an id line has has_id false and the last event ID of
 * the event before it (so a run does not start right after an id-only
 * block, which sets has_id of the next event). During the call the last
 * event ID string (sse_parser_last_id) is still the one from before the
 * run; the run's last I becomes it after the call. ctx is the callbacks'
 * ctx; run returns non-zero to stop, and feed then returns ABORTED. NULL
 * (the default) turns this off.
 */
void sse_parser_set_run(struct sse_parser *,
    int (*run)(void *ctx, const char *raw, size_t len, size_t n));
/*
 * With sse_parser_set_run(): also write each run's events into idx (cap
 * entries, cap >= 1, the caller's), where the run callback finds them
 * (sse_parser_run_index) rather than looking for them again in the span;
 * a run is then at most cap events. NULL (the default): no index.
 */
void sse_parser_set_run_index(
    struct sse_parser *, struct sse_run_event *idx, size_t cap);
/* During a run callback: its n events, or NULL when there is no index. */
const struct sse_run_event *sse_parser_run_index(const struct sse_parser *);
/*
 * Be told of each block that ends with no data and so dispatches nothing
 * ("If the data buffer is an empty string, set the data buffer and the
 * event type buffer to the empty string and return"), when it had an event
 * or id field: type is its event type (empty when it had none). Return
 * non-zero to stop: feed then returns ABORTED. NULL (the default): none.
 */
void sse_parser_set_dropped(struct sse_parser *,
    int (*dropped)(void *ctx, const char *type, size_t type_len));
/*
 * During an event callback: the event's bytes exactly as sse_serialize
 * would write them, when the stream had them so, verbatim, in the buffer
 * being fed (canonical field order and spacing, LF line ends, no comment,
 * retry or unknown field in the event); NULL otherwise, and also when the
 * event's has_id comes from an id-only block before it (its own bytes lack
 * the id field). The raw format can copy these instead of serializing the
 * event again.
 */
const char *sse_parser_raw(const struct sse_parser *, size_t *len);
/*
 * Set the last event ID string (e.g. from --last-event-id). SSE_ERR_INVALID
 * for what no stream could have set: a NUL, CR or LF (a CR or LF would
 * also end the Last-Event-ID header it is sent in), or text that is not
 * valid UTF-8 (ids from a stream are decoded, so it always is).
 */
int sse_parser_set_last_id(struct sse_parser *, const char *, size_t);
const char *sse_parser_last_id(const struct sse_parser *, size_t *len);
const char *sse_strerror(int status);

#endif
