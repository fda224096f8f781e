/*
 * Event -> text/event-stream bytes. Serialize once, send many times: serve
 * and replay format each event here once and copy the bytes to every client.
 */
#ifndef SSE_SERIALIZE_H
#define SSE_SERIALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

/*
 * Append ev to out, ending with the blank line that dispatches it:
 * "event: T" unless T is "message", "id: I" when has_id, "retry: N" when
 * retry >= 0, then one "data: " line per line of data (data containing CR,
 * LF or CRLF becomes several data lines; empty data is one "data: " line).
 * Returns SSE_OK, or SSE_ERR_INVALID with *why set (and out unchanged) when
 * the type or id contains CR or LF or the id contains NUL, since those
 * would inject fields; SSE_ERR_TOO_BIG when out's cap is reached.
 */
int sse_serialize(
    struct sse_buf *out, const struct sse_event *ev, const char **why);
/*
 * sse_serialize(), and when ev has an id, *id_at is the offset in out->p
 * where its ev->id_len bytes were written (verbatim: a view of them is the
 * id), so that nobody needs to parse the output again to find it.
 */
int sse_serialize_at(struct sse_buf *out, const struct sse_event *ev,
    const char **why, size_t *id_at);
/*
 * Append "id: ID\n\n": an empty dispatch, which fires no event but sets
 * the client's last event ID (WHATWG 9.2.6); *id_at as sse_serialize_at().
 * SSE_ERR_INVALID when the id cannot be written.
 */
int sse_serialize_id(
    struct sse_buf *out, const char *id, size_t len, size_t *id_at);
/* Append "retry: MS\n\n": the reconnection time alone, no event. */
int sse_serialize_retry(struct sse_buf *out, int64_t ms);
/*
 * Append the in-band loss signal: an event of type SSE_LOST_TYPE whose data
 * is the JSON object {"lastEventId": ID} (ID as a JSON string, so any byte
 * is safe in it), telling a client that resumed from id that the events
 * after it are no longer held.
 */
#define SSE_LOST_TYPE "sse-lost"
int sse_serialize_lost(struct sse_buf *out, const char *id, size_t len);
/* Append a comment (": text\n" for each line of text). */
int sse_serialize_comment(struct sse_buf *out, const char *text, size_t len);

#endif
