/*
 * Event -> text/event-stream bytes. What is written parses back, under the
 * WHATWG rules, to the same event: the parser removes exactly one leading
 * space after the colon (so a value that starts with a space survives), and
 * splits lines at CRLF, LF and lone CR (so data is written one line per
 * data field, split at the same three line endings).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"
#include "serialize.h"

/* Next line break (CR or LF) in s[0..len), or s + len. */
static const char *
next_break(const char *s, size_t len)
{
	const char *lf, *cr;

	if (len == 0)
		return s;
	lf = memchr(s, '\n', len);
	cr = memchr(s, '\r', lf ? (size_t)(lf - s) : len);
	if (cr != NULL)
		return cr;
	return lf != NULL ? lf : s + len;
}

/*
 * Write "PREFIXline\n" for every line of s, lines split at CRLF, LF or lone
 * CR; an empty s, and an empty last line after a final line break, are
 * written as an empty line too, so that "a\n" survives the round trip.
 */
static int
lines(struct sse_buf *out, const char *prefix, size_t plen, const char *s,
    size_t len)
{
	const char *end = s + len, *eol;

	for (;;) {
		eol = next_break(s, (size_t)(end - s));
		if (sse_buf_add(out, prefix, plen) == -1 ||
		    sse_buf_add(out, s, (size_t)(eol - s)) == -1 ||
		    sse_buf_addch(out, '\n') == -1)
			return -1;
		if (eol == end)
			return 0;
		s = eol + 1;
		if (*eol == '\r' && s < end && *s == '\n')
			s++;
	}
}

static bool
has_break(const char *s, size_t len)
{
	return len > 0 &&
	    (memchr(s, '\n', len) != NULL || memchr(s, '\r', len) != NULL);
}

int
sse_serialize(struct sse_buf *out, const struct sse_event *ev, const char **why)
{
	size_t old = out->len;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (has_break(ev->type, ev->type_len)) {
		*why = "event type contains a line break";
		return SSE_ERR_INVALID;
	}
	if (ev->has_id && has_break(ev->id, ev->id_len)) {
		*why = "id contains a line break";
		return SSE_ERR_INVALID;
	}
	if (ev->has_id && ev->id_len > 0 &&
	    memchr(ev->id, '\0', ev->id_len) != NULL) {
		*why = "id contains a NUL character";
		return SSE_ERR_INVALID;
	}
	/* An empty type dispatches as "message" too: no field needed. */
	if (ev->type_len > 0 &&
	    !(ev->type_len == sizeof(SSE_DEFAULT_TYPE) - 1 &&
		memcmp(ev->type, SSE_DEFAULT_TYPE, ev->type_len) == 0)) {
		if (sse_buf_add(out, "event: ", 7) == -1 ||
		    sse_buf_add(out, ev->type, ev->type_len) == -1 ||
		    sse_buf_addch(out, '\n') == -1)
			goto toobig;
	}
	if (ev->has_id) {
		if (sse_buf_add(out, "id: ", 4) == -1 ||
		    sse_buf_add(out, ev->id, ev->id_len) == -1 ||
		    sse_buf_addch(out, '\n') == -1)
			goto toobig;
	}
	if (ev->retry >= 0 &&
	    sse_buf_addf(out, "retry: %lld\n", (long long)ev->retry) == -1)
		goto toobig;
	if (lines(out, "data: ", 6, ev->data, ev->data_len) == -1 ||
	    sse_buf_addch(out, '\n') == -1)
		goto toobig;
	return SSE_OK;
toobig:
	out->len = old;
	*why = "output buffer full";
	return SSE_ERR_TOO_BIG;
}

int
sse_serialize_comment(struct sse_buf *out, const char *text, size_t len)
{
	size_t old = out->len;

	if (lines(out, ": ", 2, text, len) == -1) {
		out->len = old;
		return SSE_ERR_TOO_BIG;
	}
	return SSE_OK;
}
