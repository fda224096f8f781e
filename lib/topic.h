/*
 * Topic names, as in GET /events/NAME, ?topic=NAME and the "topic" member
 * of JSON input: 1 to SSE_TOPIC_MAX bytes of ASCII letters, digits, '-',
 * '_' and '.', not starting with '.'. Names so plain need no escaping in a
 * URL path, a query string, JSON, a Prometheus label or a file name.
 */
#ifndef SSE_TOPIC_H
#define SSE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_TOPIC_MAX 64

/* true, or false with *why saying what is wrong ("too long", ...). */
bool sse_topic_valid(const char *name, size_t len, const char **why);

#endif
