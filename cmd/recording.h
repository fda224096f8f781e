/*
 * Recordings on disk: the reader behind `sse replay` (a recording, read
 * with jansson and checked by lib/record.c, or a plain text/event-stream
 * file, read with lib/parser.c) and the writer behind `sse listen
 * --record`. The format itself is in lib/record.h and sse-replay(1).
 */
#ifndef SSE_RECORDING_H
#define SSE_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

enum rec_kind {
	REC_EVENT,
	REC_RETRY, /* a retry field alone */
	REC_CHUNK, /* bytes as received (in data) */
};

/* One entry to play. */
struct rec_event {
	int64_t t; /* recorded offset in ms; 0 when the file has no timing */
	/* Offsets into recording.strings. id is the last event ID after this
	 * event, as MessageEvent.lastEventId reports it. */
	size_t type, type_len, data, data_len, id, id_len;
	bool has_id; /* the event carried an id field itself */
	enum rec_kind kind;
	int64_t retry; /* -1 none */
};

struct recording {
	struct rec_event *ev;
	size_t nev, cap;
	struct sse_buf strings;
	bool timed; /* a recording, not a plain text/event-stream file */
	int64_t end_t; /* offset of the last line: where a loop starts over */
	size_t nevents; /* REC_EVENT entries */
	size_t nchunks; /* REC_CHUNK entries */
};

/*
 * Load path ("-" for stdin). Returns 0, or an exit status after printing
 * "sse: replay: 'FILE' line N: what is wrong" (EXIT_STREAM for a bad
 * recording or stream, EXIT_ERROR when the file cannot be read).
 * max_event caps one event of a plain text/event-stream file.
 */
int recording_load(struct recording *, const char *path, size_t max_event);
void recording_release(struct recording *);
/* Entry i as an event (views into the recording); a chunk's bytes are its
 * data. */
void recording_event(const struct recording *, size_t i, struct sse_event *);
/*
 * The index of the first event that set the last event ID to id (an event
 * with its own id field), or -1.
 */
long recording_find_id(const struct recording *, const char *id, size_t len);

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
int recorder_start(struct recorder *, const char *path, const char *url);
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
