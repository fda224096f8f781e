/*
 * The event model shared by the parser, the serializer, the formatters,
 * the recording format and the event log. Strings are views (pointer and
 * length, not NUL-terminated); who owns them is said where they are made.
 */
#ifndef SSE_EVENT_H
#define SSE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sse_event {
	const char *type; /* "message" when the stream gave none */
	size_t type_len;
	const char *data; /* final LF already removed */
	size_t data_len;
	const char *id; /* last event ID (MessageEvent.lastEventId) */
	size_t id_len;
	/*
	 * For the serializer: whether to write an id field (an empty id is a
	 * real value: it clears the client's last event ID). The parser sets
	 * it when the last event ID was set since the event before: by this
	 * event's id field, or by a block with an id field and no data in
	 * between, so that the events serialized again keep their IDs.
	 */
	bool has_id;
	int64_t retry; /* serializer: retry field to write, -1 none */
};

#define SSE_DEFAULT_TYPE "message"

/* Set ev to an empty message event: no data, no id, no retry. */
void sse_event_init(struct sse_event *ev);

#endif
