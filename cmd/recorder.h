/*
 * Recordings written: the writer behind `sse listen --record`. The format
 * itself is in lib/record.h and sse-replay(1).
 */
#ifndef SSE_RECORDER_H
#define SSE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

/*
 * The writer. Every line goes to the file with one write(2) as soon as it
 * is made, so that whatever was received is on disk when the program is
 * stopped or crashes, and the file ends on a whole line.
 */
struct recorder {
	int fd; /* -1 when not recording */
	const char *path;
	int64_t start; /* monotonic ms */
	int64_t retry; /* a retry field not yet written, -1 none */
	bool failed; /* a write failed: reported once, nothing more written */
	bool open; /* between recorder_response and recorder_end */
	struct sse_buf line;
};

void recorder_init(struct recorder *);
/* Create (truncate) path and write the header; -1 after printing why. */
/* method: the request's, written when it is not GET (NULL: GET). */
int recorder_start(
    struct recorder *, const char *path, const char *url, const char *method);
/* A response began. Headers are raw header lines without CRLF. */
int recorder_response(
    struct recorder *, int status, const char *const *headers, size_t nheaders);
int recorder_event(struct recorder *, const struct sse_event *);
/* A retry field: written with the next event, or alone at the end. */
void recorder_retry(struct recorder *, uint64_t ms);
int recorder_chunk(struct recorder *, const void *, size_t);
/* A connection (or an attempt that never opened) ended, and why. */
int recorder_end(struct recorder *, const char *reason);
/* Report a failure of the recording once; nothing more is written. -1. */
int recorder_fail(struct recorder *, const char *why);
/* recorder_end if a connection is open, then close the file. */
void recorder_finish(struct recorder *, const char *reason);

#endif
