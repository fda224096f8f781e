/*
 * The recording format: writers for each kind of line, and the checks a
 * reader applies after JSON parsing. See record.h for the format itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "record.h"
#include "utf8.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
sse_rec_time(struct sse_buf *out, int64_t unix_ms)
{
	struct tm tm;
	time_t secs;
	int64_t ms;

	if (unix_ms < 0)
		unix_ms = 0;
	secs = (time_t)(unix_ms / 1000);
	ms = unix_ms % 1000;
	if (gmtime_r(&secs, &tm) == NULL)
		return -1;
	return sse_buf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)ms);
}

/* Helpers that keep "one line or nothing": on failure, out is rolled back. */
static int
undo(struct sse_buf *out, size_t old)
{
	out->len = old;
	return -1;
}

static int
key_str(struct sse_buf *out, const char *key, const char *s, size_t len)
{
	if (sse_buf_addf(out, ",\"%s\":", key) == -1)
		return -1;
	return sse_json_str(out, s, len);
}

int
sse_rec_header(struct sse_buf *out, const char *url, const char *method,
    int64_t start_unix_ms)
{
	size_t old = out->len;

	if (sse_buf_addstr(out,
		"{\"format\":\"" SSE_RECORD_FORMAT "\",\"version\":") == -1 ||
	    sse_buf_addf(out, "%d", SSE_RECORD_VERSION) == -1 ||
	    key_str(out, "url", url, strlen(url)) == -1 ||
	    (method != NULL && strcmp(method, "GET") != 0 &&
		key_str(out, "method", method, strlen(method)) == -1) ||
	    sse_buf_addstr(out, ",\"start\":\"") == -1 ||
	    sse_rec_time(out, start_unix_ms) == -1 ||
	    sse_buf_addstr(out, "\"}\n") == -1)
		return undo(out, old);
	return 0;
}

int
sse_rec_open(struct sse_buf *out, int64_t t, int status,
    const char *const *headers, size_t nheaders)
{
	size_t old = out->len, i;

	if (sse_buf_addf(out, "{\"t\":%" PRId64 ",\"open\":%d,\"headers\":[", t,
		status) == -1)
		return undo(out, old);
	for (i = 0; i < nheaders; i++)
		if ((i > 0 && sse_buf_addch(out, ',') == -1) ||
		    sse_json_str(out, headers[i], strlen(headers[i])) == -1)
			return undo(out, old);
	if (sse_buf_addstr(out, "]}\n") == -1)
		return undo(out, old);
	return 0;
}

int
sse_rec_close(struct sse_buf *out, int64_t t, const char *reason)
{
	size_t old = out->len;

	if (sse_buf_addf(out, "{\"t\":%" PRId64, t) == -1 ||
	    key_str(out, "close", reason, strlen(reason)) == -1 ||
	    sse_buf_addstr(out, "}\n") == -1)
		return undo(out, old);
	return 0;
}

int
sse_rec_event(struct sse_buf *out, int64_t t, const struct sse_event *ev)
{
	size_t old = out->len;

	if (sse_buf_addf(out, "{\"t\":%" PRId64, t) == -1 ||
	    key_str(out, "event", ev->type, ev->type_len) == -1 ||
	    key_str(out, "data", ev->data, ev->data_len) == -1 ||
	    (ev->has_id && key_str(out, "id", ev->id, ev->id_len) == -1) ||
	    (ev->retry >= 0 &&
		sse_buf_addf(out, ",\"retry\":%" PRId64, ev->retry) == -1) ||
	    sse_buf_addstr(out, "}\n") == -1)
		return undo(out, old);
	return 0;
}

int
sse_rec_retry(struct sse_buf *out, int64_t t, int64_t ms)
{
	size_t old = out->len;

	if (sse_buf_addf(out, "{\"t\":%" PRId64 ",\"retry\":%" PRId64 "}\n", t,
		ms) == -1)
		return undo(out, old);
	return 0;
}

/* Whether the bytes are valid UTF-8, so that a JSON string keeps them all. */
static bool
utf8_valid(const void *p, size_t len)
{
	struct sse_buf scratch;
	int rc;

	/* A one-byte cap: repair stops at the first invalid sequence. */
	sse_buf_init(&scratch, 1);
	rc = sse_utf8_repair(p, len, &scratch);
	sse_buf_release(&scratch);
	return rc == 0;
}

int
sse_rec_chunk(struct sse_buf *out, int64_t t, const void *p, size_t len)
{
	size_t old = out->len;
	int rc;

	if (sse_buf_addf(out, "{\"t\":%" PRId64, t) == -1)
		return undo(out, old);
	if (utf8_valid(p, len))
		rc = key_str(out, "chunk", p, len);
	else
		rc = sse_buf_addstr(out, ",\"chunk64\":\"") == -1 ||
			sse_base64_encode(out, p, len) == -1 ||
			sse_buf_addch(out, '"') == -1
		    ? -1
		    : 0;
	if (rc == -1 || sse_buf_addstr(out, "}\n") == -1)
		return undo(out, old);
	return 0;
}

int
sse_base64_encode(struct sse_buf *out, const void *p, size_t len)
{
	const unsigned char *u = p;
	size_t i, old = out->len;
	uint32_t v;
	char q[4];

	if (sse_buf_reserve(out, (len + 2) / 3 * 4) == -1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = b64[(v >> 6) & 63];
		q[3] = b64[v & 63];
		if (sse_buf_add(out, q, 4) == -1)
			return undo(out, old);
	}
	if (i < len) {
		v = (uint32_t)u[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)u[i + 1] << 8;
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = '=';
		if (sse_buf_add(out, q, 4) == -1)
			return undo(out, old);
	}
	return 0;
}

static int
b64_val(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

int
sse_base64_decode(struct sse_buf *out, const char *s, size_t len)
{
	size_t i, old = out->len, pad = 0;
	uint32_t v;
	int k, d;
	char o[3];

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			if (i + (size_t)k >= len - pad) {
				d = 0;
				if (s[i + (size_t)k] != '=')
					return undo(out, old);
			} else if ((d = b64_val(s[i + (size_t)k])) == -1)
				return undo(out, old);
			v = v << 6 | (uint32_t)d;
		}
		o[0] = (char)(v >> 16);
		o[1] = (char)(v >> 8);
		o[2] = (char)v;
		if (sse_buf_add(out, o, i + 4 == len ? 3 - pad : 3) == -1)
			return undo(out, old);
	}
	return 0;
}

void
sse_rec_check_init(struct sse_rec_check *c)
{
	memset(c, 0, sizeof(*c));
}

static int
bad(struct sse_rec_check *c, const char *why)
{
	snprintf(c->err, sizeof(c->err), "%s", why);
	return -1;
}

/* CR or LF in s (types and ids are short: a loop, not two memchr). */
static bool
has_eol(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

int
sse_rec_check(struct sse_rec_check *c, const struct sse_rec_entry *e)
{
	if (e->kind == SSE_REC_HEADER) {
		if (c->header_seen)
			return bad(c, "a second header line");
		if (e->version != SSE_RECORD_VERSION) {
			snprintf(c->err, sizeof(c->err),
			    "unsupported version %lld (this sse reads "
			    "version %d)",
			    e->version, SSE_RECORD_VERSION);
			return -1;
		}
		c->header_seen = true;
		c->last_t = 0;
		return 0;
	}
	if (!c->header_seen)
		return bad(c, "no header line first (not a recording)");
	if (e->t < 0)
		return bad(c, "negative offset \"t\"");
	if (e->t < c->last_t) {
		snprintf(c->err, sizeof(c->err),
		    "offset \"t\" %" PRId64
		    " goes back (previous line: %" PRId64 ")",
		    e->t, c->last_t);
		return -1;
	}
	switch (e->kind) {
	case SSE_REC_OPEN:
		if (e->status < 100 || e->status > 999)
			return bad(c, "\"open\" is not an HTTP status");
		break;
	case SSE_REC_EVENT:
		if (has_eol(e->ev.type, e->ev.type_len))
			return bad(c, "\"event\" contains CR or LF");
		if (e->ev.has_id && has_eol(e->ev.id, e->ev.id_len))
			return bad(c, "\"id\" contains CR or LF");
		if (e->ev.has_id && e->ev.id_len > 0 &&
		    memchr(e->ev.id, '\0', e->ev.id_len) != NULL)
			return bad(c, "\"id\" contains NUL");
		break;
	case SSE_REC_RETRY:
		if (e->ev.retry < 0)
			return bad(c, "\"retry\" is negative");
		break;
	case SSE_REC_HEADER:
	case SSE_REC_CLOSE:
	case SSE_REC_CHUNK:
	case SSE_REC_OTHER:
		break;
	}
	c->last_t = e->t;
	return 0;
}
