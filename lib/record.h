/*
 * The recording format, "sse-recording" version 1: what `sse listen
 * --record` writes and `sse replay` reads. JSON lines (one JSON object per
 * line, each line complete on its own), so that a recording is readable,
 * editable, greppable, diffable and a jq filter away from anything else:
 *
 *   {"format":"sse-recording","version":1,"url":"U","start":"ISO-8601"}
 *   (with "method":"POST" after the URL when the request was not a GET)
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
 * This module is the pure model: it writes entries into an sse_buf, checks
 * entries that a JSON reader (cmd/recording.c, with jansson) has taken
 * apart, cuts the bytes of a file into lines as they come, and holds a
 * loaded recording in memory for playing. It does no I/O.
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

/*
 * The header. start_unix_ms is the wall-clock start, written as ISO 8601;
 * method is written when it is not GET (NULL: GET), so that a replay can
 * answer the request that was recorded.
 */
int sse_rec_header(struct sse_buf *out, const char *url, const char *method,
    int64_t start_unix_ms);
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
/*
 * An event line in exactly the shape sse_rec_event() writes, read without
 * a JSON tree (record_read.c): 1 and e filled (its strings in scratch,
 * valid until the next call), or 0 when the line has any other shape and
 * must be read by a JSON library. It never refuses a line: 0 only says
 * "not mine".
 */
int sse_rec_read_event(const char *p, size_t len, struct sse_rec_entry *e,
    struct sse_buf *scratch);

int sse_base64_encode(struct sse_buf *out, const void *p, size_t len);
/* -1 on a character outside the alphabet, bad padding, or out's cap. */
int sse_base64_decode(struct sse_buf *out, const char *s, size_t len);

/* Append unix_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
int sse_rec_time(struct sse_buf *out, int64_t unix_ms);

/*
 * A recording in memory, as `sse replay` plays it: its entries (events,
 * lone retry fields and chunks, in file order) with their strings in one
 * buffer, so that it is loaded once and played many times (loops, one
 * cursor per client).
 */
struct sse_rec_item {
	int64_t t; /* recorded offset in ms; 0 when the file has no timing */
	/* Offsets into sse_recording.strings. id is the last event ID after
	 * this event, as MessageEvent.lastEventId reports it. */
	size_t type, type_len, data, data_len, id, id_len;
	bool has_id; /* the event carried an id field itself */
	enum sse_rec_kind
	    kind; /* SSE_REC_EVENT, SSE_REC_RETRY, SSE_REC_CHUNK */
	int64_t retry; /* -1 none */
};

struct sse_recording {
	struct sse_rec_item *ev;
	size_t nev, cap;
	struct sse_buf strings;
	bool timed; /* a recording, not a plain text/event-stream file */
	int64_t end_t; /* offset of the last line: where a loop starts over */
	size_t nevents; /* SSE_REC_EVENT entries */
	size_t nchunks; /* SSE_REC_CHUNK entries */
	size_t lastid, lastid_len; /* the last event ID so far, in strings */
	/* The request recorded (header) and the first response's head (open):
	 * offsets into strings; head_lines holds nhead (offset, length)
	 * pairs. */
	size_t url, url_len, method, method_len;
	int status; /* 0: no open entry */
	size_t *head_lines, nhead;
};

void sse_recording_init(struct sse_recording *);
/* Keep the request recorded (url, method) and the first response's head. */
int sse_recording_set_request(struct sse_recording *, const char *url,
    size_t url_len, const char *method, size_t method_len);
int sse_recording_add_head(
    struct sse_recording *, int status, const char *line, size_t len);
void sse_recording_release(struct sse_recording *);
/*
 * Append an entry: an event (its strings copied; an event without its own
 * id keeps the last event ID), a lone retry (ev->retry) or a chunk (its
 * bytes in ev->data). -1 when out of memory.
 */
int sse_recording_add(struct sse_recording *, enum sse_rec_kind, int64_t t,
    const struct sse_event *ev);
/* Entry i as an event (views into the recording); a chunk's bytes are its
 * data. */
void sse_recording_event(
    const struct sse_recording *, size_t i, struct sse_event *);
/*
 * The index of the first event that set the last event ID to id (an event
 * with its own id field), or -1.
 */
long sse_recording_find_id(
    const struct sse_recording *, const char *id, size_t len);

/*
 * Lines out of bytes that come in blocks: whole lines are handed out as
 * views as soon as their LF is in, and only the unfinished last line is
 * kept (a file is never held whole). A line never passes max bytes.
 */
struct sse_rec_lines {
	struct sse_buf pend; /* bytes not yet handed out */
	size_t off; /* pend: where the next line starts */
	size_t scan; /* pend: how far from off it holds no LF */
};

void sse_rec_lines_init(struct sse_rec_lines *, size_t max);
void sse_rec_lines_release(struct sse_rec_lines *);
/* Take in more bytes (the views handed out before are then stale). */
int sse_rec_lines_add(struct sse_rec_lines *, const char *p, size_t len);
/*
 * The next whole line, without its LF: 1 and the view, or 0 when none is
 * whole. With end set, the rest without an LF comes out as a last line
 * (*cut set, so that a reader can say the file was cut short).
 */
int sse_rec_lines_next(struct sse_rec_lines *, bool end, const char **line,
    size_t *len, bool *cut);

/*
 * What a file holds, from its first bytes: a recording starts with '{'
 * (after a BOM and white space); a text/event-stream never does in
 * practice, as '{' would begin a field name. MORE: not known yet (only a
 * BOM's first bytes or white space so far, and not at the end).
 */
enum sse_rec_sniff { SSE_REC_MORE, SSE_REC_JSON, SSE_REC_PLAIN };
enum sse_rec_sniff sse_rec_sniff(const char *p, size_t len, bool end);

#endif
