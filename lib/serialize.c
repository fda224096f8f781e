/*
 * Event -> text/event-stream bytes. What is written parses back, under the
 * WHATWG rules, to the same event: the parser removes exactly one leading
 * space after the colon (so a value that starts with a space survives), and
 * splits lines at CRLF, LF and lone CR (so data is written one line per
 * data field, split at the same three line endings).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "parser.h"
#include "scan.h"
#include "serialize.h"

/*
 * Write "PREFIXline\n" for every line of s, lines split at CRLF, LF or lone
 * CR; an empty s, and an empty last line after a final line break, are
 * written as an empty line too, so that "a\n" survives the round trip.
 * Room is made once for the usual single line, and again per line break.
 */
static int
lines(struct sse_buf *out, const char *prefix, size_t plen, const char *s,
    size_t len)
{
	const char *end = s + len, *eol;
	size_t n;
	char *w;

	if (len == 0)
		s = end = "";
	for (;;) {
		eol = find_eol(s, end);
		n = (size_t)(eol - s);
		if (sse_buf_room(out, plen + n + 1) == -1)
			return -1;
		w = out->p + out->len;
		memcpy(w, prefix, plen);
		memcpy(w + plen, s, n);
		w[plen + n] = '\n';
		out->len += plen + n + 1;
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
	return len > 0 && find_eol(s, s + len) != s + len;
}

/*
 * Why an id cannot be written (a line break would end the field, a NUL
 * would make the parser ignore it), or NULL. One pass over the id.
 */
static const char *
bad_id(const char *s, size_t len)
{
	const char *end = s + len;
	uint64_t w;

	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		if (swar_eq(w, '\n') | swar_eq(w, '\r') | swar_eq(w, '\0'))
			break;
	}
	for (; s < end; s++) {
		if (*s == '\n' || *s == '\r')
			return "id contains a line break";
		if (*s == '\0')
			return "id contains a NUL character";
	}
	return NULL;
}

/* Write "name: value\n" at w (nlen counts the ": "); returns the end. */
static char *
put_field(char *w, const char *name, size_t nlen, const char *v, size_t vlen)
{
	memcpy(w, name, nlen);
	if (vlen > 0)
		memcpy(w + nlen, v, vlen);
	w[nlen + vlen] = '\n';
	return w + nlen + vlen + 1;
}

/* Decimal digits of v >= 0 at w; returns the end. */
static char *
put_u64(char *w, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*w++ = tmp[--n];
	return w;
}

int
sse_serialize(struct sse_buf *out, const struct sse_event *ev, const char **why)
{
	return sse_serialize_at(out, ev, why, NULL);
}

int
sse_serialize_at(struct sse_buf *out, const struct sse_event *ev,
    const char **why, size_t *id_at)
{
	const char *dend = ev->data + ev->data_len, *eol, *rest;
	size_t old = out->len, need;
	const char *dummy;
	bool typed;
	char *w;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	/* An empty type dispatches as "message" too: no field needed. */
	typed = ev->type_len > 0 &&
	    !(ev->type_len == sizeof(SSE_DEFAULT_TYPE) - 1 &&
		memcmp(ev->type, SSE_DEFAULT_TYPE, ev->type_len) == 0);
	if (typed && has_break(ev->type, ev->type_len)) {
		*why = "event type contains a line break";
		return SSE_ERR_INVALID;
	}
	if (ev->has_id && (*why = bad_id(ev->id, ev->id_len)) != NULL)
		return SSE_ERR_INVALID;
	eol = ev->data_len > 0 ? find_eol(ev->data, dend) : dend;
	/* Room for everything up to the first data line's end, and the
	 * blank line. */
	need = (typed ? 8 + ev->type_len : 0) +
	    (ev->has_id ? 5 + ev->id_len : 0) + (ev->retry >= 0 ? 28 : 0) + 7 +
	    (size_t)(eol - ev->data) + 1;
	if (sse_buf_room(out, need) == -1)
		goto toobig;
	w = out->p + out->len;
	if (typed)
		w = put_field(w, "event: ", 7, ev->type, ev->type_len);
	if (ev->has_id) {
		if (id_at != NULL)
			*id_at = (size_t)(w - out->p) + 4;
		w = put_field(w, "id: ", 4, ev->id, ev->id_len);
	}
	if (ev->retry >= 0) {
		memcpy(w, "retry: ", 7);
		w = put_u64(w + 7, (uint64_t)ev->retry);
		*w++ = '\n';
	}
	w = put_field(w, "data: ", 6, ev->data, (size_t)(eol - ev->data));
	if (eol == dend) {
		*w++ = '\n';
		out->len = (size_t)(w - out->p);
		return SSE_OK;
	}
	/* Data of several lines: the rest, one data field each. */
	out->len = (size_t)(w - out->p);
	rest = eol + 1;
	if (*eol == '\r' && rest < dend && *rest == '\n')
		rest++;
	if (lines(out, "data: ", 6, rest, (size_t)(dend - rest)) == -1 ||
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

int
sse_serialize_id(struct sse_buf *out, const char *id, size_t len, size_t *id_at)
{
	char *w;

	if (bad_id(id, len) != NULL)
		return SSE_ERR_INVALID;
	if (sse_buf_room(out, 4 + len + 2) == -1)
		return SSE_ERR_TOO_BIG;
	w = out->p + out->len;
	if (id_at != NULL)
		*id_at = out->len + 4;
	w = put_field(w, "id: ", 4, id, len);
	*w++ = '\n';
	out->len = (size_t)(w - out->p);
	return SSE_OK;
}

int
sse_serialize_retry(struct sse_buf *out, int64_t ms)
{
	char *w;

	if (ms < 0 || sse_buf_room(out, 7 + 20 + 2) == -1)
		return SSE_ERR_TOO_BIG;
	w = out->p + out->len;
	memcpy(w, "retry: ", 7);
	w = put_u64(w + 7, (uint64_t)ms);
	*w++ = '\n';
	*w++ = '\n';
	out->len = (size_t)(w - out->p);
	return SSE_OK;
}

int
sse_serialize_lost(struct sse_buf *out, const char *id, size_t len)
{
	size_t old = out->len;

	if (sse_buf_addstr(out,
		"event: " SSE_LOST_TYPE "\ndata: {\"lastEventId\":") == -1 ||
	    sse_json_str(out, id, len) == -1 ||
	    sse_buf_addstr(out, "}\n\n") == -1) {
		out->len = old;
		return SSE_ERR_TOO_BIG;
	}
	return SSE_OK;
}
