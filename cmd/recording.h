/*
 * Recordings read: the reader behind `sse replay`. A recording is read with
 * jansson (cmd/event_json.c decodes its events) and checked by
 * lib/record.c; a plain text/event-stream file is read with lib/parser.c.
 * Either becomes a struct sse_recording (lib/record.h).
 */
#ifndef SSE_RECORDING_H
#define SSE_RECORDING_H

#include <stddef.h>

#include "record.h"

/*
 * Load path ("-" for stdin). Returns 0, or an exit status after printing
 * "sse: replay: 'FILE' line N: what is wrong" (EXIT_STREAM for a bad
 * recording or stream, EXIT_ERROR when the file cannot be read).
 * max_event caps one event of a plain text/event-stream file.
 */
int recording_load(struct sse_recording *, const char *path, size_t max_event);

#endif
