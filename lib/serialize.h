/*
 * Event -> text/event-stream bytes. Serialize once, send many times: serve
 * and replay format each event here once and copy the bytes to every client.
 */
#ifndef SSE_SERIALIZE_H
#define SSE_SERIALIZE_H

#include <stddef.h>

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
/* Append a comment (": text\n" for each line of text). */
int sse_serialize_comment(struct sse_buf *out, const char *text, size_t len);

#endif
