/*
 * The recording format, "sse-recording" version 1: what `sse listen
 * --record` writes and `sse replay` reads. JSON lines (one JSON object per
 * line, each line complete on its own), so that a recording is readable,
 * editable, greppable, diffable and a jq filter away from anything else:
 *
 *   {"format":"sse-recording","version":1,"url":"U","start":"ISO-8601"}
 *   {"t":3,"open":200,"headers":["Content-Type: text/event-stream"]}
 *   {"t":5,"event":"message","data":"hello","id":"1"}
 *   {"t":9,"retry":3000}
 *   {"t":12,"chunk":"data: raw bytes\n\n"}
 *   {"t":900,"close":"eof"}
 *
 * t is the receive offset in milliseconds since the start. The first line
 * is the header; every other line is one entry, told apart by its key:
 * "open" (a response began: status and headers), "close" (the connection
 * ended: reason), "data" (an event: "event" is its type, default
 * "message"; "id" is present when the event carried an id field; "retry"
 * when a retry field came with it), "retry" alone (a retry field with no
 * event after it), "chunk" or "chunk64" (bytes as received, as a string
 * when they are UTF-8, else base64). Unknown keys are ignored, so later
 * versions can add keys without breaking older readers.
 *
 * This module is the pure model: it writes entries into an sse_buf and
 * checks entries that a JSON reader (cmd/recording.c, with jansson) has
 * taken apart. It does no I/O.
 */
#ifndef SSE_RECORD_H
#define SSE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

#define SSE_RECORD_FORMAT "sse-recording"
#define SSE_RECORD_VERSION 1

enum sse_rec_kind {
	SSE_REC_HEADER,
	SSE_REC_OPEN,
	SSE_REC_CLOSE,
	SSE_REC_EVENT,
	SSE_REC_RETRY,
	SSE_REC_CHUNK,
	SSE_REC_OTHER, /* only keys of a later version: skipped, "t" checked */
};

/*
 * One entry, as views. Which members mean something depends on kind:
 * HEADER version, text (the URL); OPEN status; CLOSE text (the reason);
 * EVENT ev (ev.retry -1 when none); RETRY ev.retry; CHUNK text (the
 * bytes, already decoded from base64).
 */
struct sse_rec_entry {
	enum sse_rec_kind kind;
	int64_t t; /* ms since the start; 0 for the header */
	long long version;
	int status;
	const char *text;
	size_t text_len;
	struct sse_event ev;
};

/* Writers: each appends exactly one line, LF included, or nothing (-1). */

/* The header. start_unix_ms is the wall-clock start, written as ISO 8601. */
int sse_rec_header(struct sse_buf *out, const char *url, int64_t start_unix_ms);
/* A response began. headers are the response header lines, without CRLF. */
int sse_rec_open(struct sse_buf *out, int64_t t, int status,
    const char *const *headers, size_t nheaders);
int sse_rec_close(struct sse_buf *out, int64_t t, const char *reason);
/*
 * An event as the parser dispatched it: id written only when ev->has_id,
 * retry when ev->retry >= 0.
 */
int sse_rec_event(struct sse_buf *out, int64_t t, const struct sse_event *ev);
/* A retry field not followed by an event on the same connection. */
int sse_rec_retry(struct sse_buf *out, int64_t t, int64_t ms);
/* Raw bytes as received: a JSON string when they are UTF-8, else base64. */
int sse_rec_chunk(struct sse_buf *out, int64_t t, const void *p, size_t len);

/*
 * The reader's rules that JSON alone does not say: the header comes first
 * and names this format and a version this code reads; offsets are never
 * negative and never go back; an event's type and id could be sent again
 * (no CR or LF, no NUL in an id); retry is not negative. Feed the entries
 * in file order; a failure names what is wrong in err (no line number:
 * the caller knows it) and is not sticky.
 */
struct sse_rec_check {
	bool header_seen;
	int64_t last_t;
	char err[160];
};

void sse_rec_check_init(struct sse_rec_check *);
int sse_rec_check(struct sse_rec_check *, const struct sse_rec_entry *);

/* Base64 (RFC 4648, with padding) for chunk64. */
int sse_base64_encode(struct sse_buf *out, const void *p, size_t len);
/* -1 on a character outside the alphabet, bad padding, or out's cap. */
int sse_base64_decode(struct sse_buf *out, const char *s, size_t len);

/* Append unix_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
int sse_rec_time(struct sse_buf *out, int64_t unix_ms);

#endif
