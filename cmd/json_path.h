/*
 * {data.PATH} in output templates: a member of an event's data taken as
 * JSON, read with jansson (lib/format.c renders templates but has no JSON
 * reader). The data is parsed once per event however many placeholders
 * name it.
 */
#ifndef SSE_JSON_PATH_H
#define SSE_JSON_PATH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

struct json_path {
	uint64_t seq; /* the event the cache holds */
	uint64_t cached_seq;
	json_t *root; /* its data parsed, or NULL when it is not JSON */
};

void json_path_init(struct json_path *);
void json_path_release(struct json_path *);
/* A new event: the next call parses its data. */
void json_path_next(struct json_path *);
/* An sse_format_path_fn; ctx is a struct json_path. */
int json_path_fn(void *ctx, const char *path, size_t plen,
    const struct sse_event *ev, struct sse_buf *out);

#endif
