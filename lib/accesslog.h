/*
 * One line of --access-log: a JSON object a request,
 *   {"time":"2026-12-07T22:30:00.123Z","peer":"127.0.0.1","method":"GET",
 *    "path":"/events?topic=a","status":200,"bytes":1234,"duration_ms":5012}
 * with the value of every query argument whose name has "token" in it
 * (after %-decoding, in any case) written as "REDACTED": a token never
 * reaches the log.
 */
#ifndef SSE_ACCESSLOG_H
#define SSE_ACCESSLOG_H

#include <stdint.h>

#include "buf.h"

struct access_rec {
	int64_t time_ms; /* wall clock, ms since the epoch */
	const char *peer; /* address, without the port */
	const char *method;
	const char *path; /* as requested, query included */
	int status;
	uint64_t bytes; /* body bytes sent */
	int64_t duration_ms;
};

/* Append the line, LF included. 0, or -1 at out's cap. */
int access_log_line(struct sse_buf *out, const struct access_rec *r);
/* Append path with the token arguments' values redacted. */
int access_redact(struct sse_buf *out, const char *path);

#endif
