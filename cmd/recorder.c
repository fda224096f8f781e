/*
 * The writer behind `sse listen --record`: one write(2) per line, as each
 * line is made (lib/record.c makes them), so that whatever was received is
 * on disk when the program is stopped or crashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "record.h"
#include "recorder.h"
#include "util.h"

void
recorder_init(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->retry = -1;
	sse_buf_init(&r->line, 0);
}

/* Write the line buffer out whole, then empty it. */
static int
flush_line(struct recorder *r)
{
	size_t off = 0;
	ssize_t n;

	while (off < r->line.len) {
		n = write(r->fd, r->line.p + off, r->line.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sse_buf_reset(&r->line);
			return recorder_fail(r, strerror(errno));
		}
		off += (size_t)n;
	}
	sse_buf_reset(&r->line);
	return 0;
}

static bool
active(const struct recorder *r)
{
	return r->fd != -1 && !r->failed;
}

static int64_t
offset(const struct recorder *r)
{
	return now_mono_ms() - r->start;
}

int
recorder_fail(struct recorder *r, const char *why)
{
	msg_errx("cannot write recording '%s': %s", r->path, why);
	r->failed = true;
	return -1;
}

/* A line could not be made (allocation): as good as a failed write. */
static int
made(struct recorder *r, int rc)
{
	if (rc == -1)
		return recorder_fail(r, "out of memory");
	return flush_line(r);
}

int
recorder_start(
    struct recorder *r, const char *path, const char *url, const char *method)
{
	r->path = path;
	r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (r->fd == -1) {
		msg_err("cannot create recording '%s'", path);
		return -1;
	}
	r->start = now_mono_ms();
	return made(r, sse_rec_header(&r->line, url, method, now_wall_ms()));
}

int
recorder_response(
    struct recorder *r, int status, const char *const *headers, size_t n)
{
	if (!active(r))
		return r->failed ? -1 : 0;
	r->open = true;
	return made(r, sse_rec_open(&r->line, offset(r), status, headers, n));
}

int
recorder_event(struct recorder *r, const struct sse_event *ev)
{
	struct sse_event e = *ev;

	if (!active(r))
		return r->failed ? -1 : 0;
	e.retry = r->retry;
	r->retry = -1;
	return made(r, sse_rec_event(&r->line, offset(r), &e));
}

void
recorder_retry(struct recorder *r, uint64_t ms)
{
	r->retry = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

int
recorder_chunk(struct recorder *r, const void *p, size_t len)
{
	if (!active(r))
		return r->failed ? -1 : 0;
	return made(r, sse_rec_chunk(&r->line, offset(r), p, len));
}

int
recorder_end(struct recorder *r, const char *reason)
{
	int64_t t;

	if (!active(r))
		return r->failed ? -1 : 0;
	r->open = false;
	t = offset(r);
	if (r->retry >= 0) {
		if (made(r, sse_rec_retry(&r->line, t, r->retry)) == -1)
			return -1;
		r->retry = -1;
	}
	return made(r, sse_rec_close(&r->line, t, reason));
}

void
recorder_finish(struct recorder *r, const char *reason)
{
	if (r->fd == -1)
		return;
	if (r->open)
		recorder_end(r, reason);
	close(r->fd);
	r->fd = -1;
	sse_buf_release(&r->line);
}
