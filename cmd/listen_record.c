/*
 * sse listen --record FILE: the recorder (cmd/recording.c) attached to
 * listen's hooks. Offsets come from the recorder's own monotonic clock, not
 * the hooks' wall-clock times, so that a clock step cannot bend them.
 */
#include <stdlib.h>
#include <string.h>

#include "listen_record.h"

/* At most this many header lines are recorded per response. */
#define MAX_HEADER_LINES 256

static int
rec_open(void *ctx, const struct listen_conn *c)
{
	struct listen_record *lr = ctx;
	const char *lines[MAX_HEADER_LINES];
	const char *p = c->headers, *end = c->headers + c->headers_len, *nl;
	size_t n = 0;
	char *copy;
	int rc;

	/* The headers come as "Name: value\r\n" lines: make them strings. */
	if ((copy = malloc(c->headers_len + 1)) == NULL)
		return recorder_fail(&lr->rec, "out of memory");
	memcpy(copy, c->headers, c->headers_len);
	for (; p < end && n < MAX_HEADER_LINES; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		copy[nl - c->headers] = '\0';
		if (nl > p && nl[-1] == '\r')
			copy[nl - 1 - c->headers] = '\0';
		/* The status line is not a header: "open" has the status. */
		if (copy[p - c->headers] != '\0' && strncmp(p, "HTTP/", 5) != 0)
			lines[n++] = copy + (p - c->headers);
	}
	rc = recorder_response(&lr->rec, (int)c->status, lines, n);
	free(copy);
	return rc;
}

static int
rec_chunk(void *ctx, const char *buf, size_t len, int64_t unix_ms)
{
	struct listen_record *lr = ctx;

	(void)unix_ms;
	return lr->chunks ? recorder_chunk(&lr->rec, buf, len) : 0;
}

static int
rec_event(void *ctx, const struct sse_event *ev, int64_t unix_ms)
{
	struct listen_record *lr = ctx;

	(void)unix_ms;
	return recorder_event(&lr->rec, ev);
}

static void
rec_retry(void *ctx, uint64_t ms)
{
	struct listen_record *lr = ctx;

	recorder_retry(&lr->rec, ms);
}

static int
rec_close(void *ctx, const struct listen_end *e)
{
	struct listen_record *lr = ctx;

	return recorder_end(&lr->rec, e->reason);
}

int
listen_record_start(struct listen_record *lr, struct listen_hooks *h,
    const char *path, const char *url, const char *method, bool chunks)
{
	recorder_init(&lr->rec);
	lr->chunks = chunks;
	if (recorder_start(&lr->rec, path, url, method) == -1)
		return -1;
	h->open = rec_open;
	h->chunk = rec_chunk;
	h->event = rec_event;
	h->retry = rec_retry;
	h->close = rec_close;
	h->ctx = lr;
	return 0;
}

void
listen_record_finish(struct listen_record *lr, const char *reason)
{
	recorder_finish(&lr->rec, reason);
}
