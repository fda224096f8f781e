/*
 * An event as a JSON object, {"event":..., "data":..., "id":..., "retry":...}:
 * the one decoder of that schema, used by recordings (sse replay) and by
 * `sse serve --input json`. Over jansson, so it lives in cmd/, not lib/.
 */
#ifndef SSE_EVENT_JSON_H
#define SSE_EVENT_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "event.h"

/*
 * serve --input json takes more than a recording holds: an id may be an
 * integer, and data any JSON value (sent as its compact JSON text).
 */
#define EVENT_JSON_LOOSE 0x1
/*
 * A recording's entry with neither "event" nor "data" is no event (a lone
 * retry, or keys of a later version): nothing more is looked at.
 */
#define EVENT_JSON_ENTRY 0x2

struct event_json {
	struct sse_event ev; /* views into the object, idbuf or dump */
	bool has_event; /* "event" or "data" present: an event, not just keys */
	char idbuf[32]; /* an integer id as text */
	char *dump; /* data that is not a string, as compact JSON */
};

/*
 * Decode obj into ej (event_json_release() it, whatever the result).
 * Returns NULL, or what is wrong ("\"retry\" is not a whole number >= 0").
 * An absent or empty "event" is a message event, as the parser has it.
 */
const char *event_json_decode(json_t *obj, unsigned flags, struct event_json *);
void event_json_release(struct event_json *);

#endif
