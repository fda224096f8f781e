/*
 * The event stream parser. Rules quoted from the WHATWG HTML Standard,
 * section 9.2.5 "Parsing an event stream" and 9.2.6 "Interpreting an event
 * stream"; tests/unit/test_parser.c checks each one and names it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"

static const char bom[] = "\xEF\xBB\xBF";

void
sse_parser_init(
    struct sse_parser *p, const struct sse_parser_cb *cb, size_t max_event)
{
	memset(p, 0, sizeof(*p));
	if (cb != NULL)
		p->cb = *cb;
	if (max_event == 0)
		max_event = SSE_DEFAULT_MAX_EVENT;
	p->max_event = max_event;
	p->default_retry = SSE_DEFAULT_RETRY_MS;
	sse_buf_init(&p->line, max_event);
	sse_buf_init(&p->data, max_event);
	sse_buf_init(&p->type, max_event);
	sse_buf_init(&p->idbuf, max_event);
	sse_buf_init(&p->lastid, max_event);
	/* A repaired line can be three times longer than the bytes it came
	 * from. */
	sse_buf_init(
	    &p->utf8, max_event > SIZE_MAX / 3 ? SIZE_MAX : max_event * 3);
}

void
sse_parser_release(struct sse_parser *p)
{
	sse_buf_release(&p->line);
	sse_buf_release(&p->data);
	sse_buf_release(&p->type);
	sse_buf_release(&p->idbuf);
	sse_buf_release(&p->lastid);
	sse_buf_release(&p->utf8);
}

const char *
sse_strerror(int status)
{
	switch (status) {
	case SSE_OK:
		return "success";
	case SSE_ERR_TOO_BIG:
		return "event too large";
	case SSE_ERR_NOMEM:
		return "out of memory";
	case SSE_ERR_ABORTED:
		return "stopped by callback";
	case SSE_ERR_INVALID:
		return "invalid argument";
	}
	return "unknown error";
}

static int
fail(struct sse_parser *p, int err)
{
	p->err = err;
	return err;
}

/* "If the line is empty (a blank line): Dispatch the event." */
static int
dispatch(struct sse_parser *p)
{
	struct sse_event ev;
	bool had_id = p->id_seen;

	/* Step 1: set the last event ID string to the last event ID buffer. */
	if (p->id_seen) {
		p->id_seen = false;
		if (sse_buf_set(&p->lastid, p->idbuf.p, p->idbuf.len) == -1)
			return fail(p, SSE_ERR_TOO_BIG);
	}
	/* Step 2: an empty data buffer resets the buffers and dispatches
	 * nothing. */
	if (p->data.len == 0) {
		sse_buf_reset(&p->type);
		return SSE_OK;
	}
	sse_event_init(&ev);
	/* Step 3: remove the data buffer's last character, always an LF. */
	ev.data = p->data.p;
	ev.data_len = p->data.len - 1;
	/* Step 5: the type is the event type buffer unless that is empty. */
	if (p->type.len > 0) {
		ev.type = p->type.p;
		ev.type_len = p->type.len;
	}
	ev.id = p->lastid.len ? p->lastid.p : "";
	ev.id_len = p->lastid.len;
	ev.has_id = had_id;
	/* Step 6: reset the data and event type buffers (views stay valid). */
	sse_buf_reset(&p->data);
	sse_buf_reset(&p->type);
	p->nevents++;
	if (p->cb.event != NULL && p->cb.event(p->cb.ctx, &ev) != 0)
		return fail(p, SSE_ERR_ABORTED);
	return SSE_OK;
}

/*
 * "retry": "If the field value consists of only ASCII digits, then interpret
 * the field value as an integer in base ten, and set the event stream's
 * reconnection time to that integer. Otherwise, ignore the field."
 *
 * Two corners the standard leaves open are settled as Chromium does
 * (third_party/blink/renderer/modules/eventsource/event_source_parser.cc):
 * an empty value ("retry", "retry:" or "retry: ") resets the reconnection
 * time to the default (EventSource::kDefaultReconnectDelay there, our
 * default_retry, 3000 ms unless the caller sets it), and a value too large
 * for 64 bits is ignored (ToUInt64Strict fails), rather than saturated.
 */
static void
retry(struct sse_parser *p, const char *v, size_t vlen)
{
	uint64_t ms = 0;
	unsigned d;
	size_t i;

	if (vlen == 0) {
		if (p->cb.retry != NULL)
			p->cb.retry(p->cb.ctx, p->default_retry);
		return;
	}
	for (i = 0; i < vlen; i++) {
		d = (unsigned)(unsigned char)v[i] - '0';
		if (d > 9)
			return;
		if (ms > (UINT64_MAX - d) / 10)
			return; /* overflow: ignored, as Chromium does */
		ms = ms * 10 + d;
	}
	if (p->cb.retry != NULL)
		p->cb.retry(p->cb.ctx, ms);
}

static int
field(struct sse_parser *p, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	switch (nlen) {
	case 4:
		/* "data": append the value, then a single LF, to the data
		 * buffer. */
		if (memcmp(name, "data", 4) != 0)
			break;
		if (sse_buf_reserve(&p->data, vlen + 1) == -1)
			return fail(p, SSE_ERR_TOO_BIG);
		if (vlen > 0)
			memcpy(p->data.p + p->data.len, v, vlen);
		p->data.len += vlen;
		p->data.p[p->data.len++] = '\n';
		break;
	case 5:
		if (memcmp(name, "event", 5) == 0) {
			/* "event": set the event type buffer to the value. */
			if (sse_buf_set(&p->type, v, vlen) == -1)
				return fail(p, SSE_ERR_TOO_BIG);
		} else if (memcmp(name, "retry", 5) == 0) {
			retry(p, v, vlen);
		}
		break;
	case 2:
		/* "id": unless the value contains NUL, set the last event ID
		 * buffer. */
		if (memcmp(name, "id", 2) != 0 || memchr(v, '\0', vlen) != NULL)
			break;
		if (sse_buf_set(&p->idbuf, v, vlen) == -1)
			return fail(p, SSE_ERR_TOO_BIG);
		p->id_seen = true;
		break;
	default:
		/* Any other field is ignored. */
		break;
	}
	return SSE_OK;
}

static int
line(struct sse_parser *p, const char *l, size_t n)
{
	const char *colon, *v;
	size_t vlen;
	int rc;

	/* The UTF-8 decode algorithm strips one leading BOM, at the start only.
	 */
	if (!p->bom_done) {
		p->bom_done = true;
		if (n >= 3 && memcmp(l, bom, 3) == 0) {
			l += 3;
			n -= 3;
		}
	}
	if (n == 0)
		return dispatch(p);
	if ((rc = sse_utf8_repair(l, n, &p->utf8)) == -1)
		return fail(p, SSE_ERR_TOO_BIG);
	if (rc == 1) {
		l = p->utf8.p;
		n = p->utf8.len;
	}
	/* "If the line starts with a U+003A COLON character": a comment. */
	if (l[0] == ':') {
		if (p->cb.comment != NULL)
			p->cb.comment(p->cb.ctx, l + 1, n - 1);
		return SSE_OK;
	}
	/*
	 * "If the line contains a U+003A COLON character": the field is what
	 * comes before the first colon, the value what comes after it, less
	 * one leading U+0020 SPACE. Otherwise the whole line is the field name
	 * and the value is the empty string.
	 */
	if ((colon = memchr(l, ':', n)) != NULL) {
		v = colon + 1;
		vlen = n - (size_t)(v - l);
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		return field(p, l, (size_t)(colon - l), v, vlen);
	}
	return field(p, l, n, "", 0);
}

int
sse_parser_feed(struct sse_parser *p, const void *buf, size_t len)
{
	const char *s = buf, *end, *eol, *lf = NULL, *cr = NULL;
	int rc;

	if (p->err != SSE_OK)
		return p->err;
	if (len == 0)
		return SSE_OK; /* buf may be NULL */
	end = s + len;
	p->nbytes += len;
	/* A CRLF split across two feeds: the LF belongs to the CR already seen.
	 */
	if (len > 0 && p->skip_lf) {
		p->skip_lf = false;
		if (*s == '\n')
			s++;
	}
	while (s < end) {
		/*
		 * Lines end at CRLF, LF or CR. Remember where the next of each
		 * is, so that each memchr runs over the chunk once in all.
		 */
		if (lf == NULL || lf < s)
			if ((lf = memchr(s, '\n', (size_t)(end - s))) == NULL)
				lf = end;
		if (cr == NULL || cr < s)
			if ((cr = memchr(s, '\r', (size_t)(end - s))) == NULL)
				cr = end;
		eol = lf < cr ? lf : cr;
		if (eol == end) {
			if (sse_buf_add(&p->line, s, (size_t)(end - s)) == -1)
				return fail(p, SSE_ERR_TOO_BIG);
			break;
		}
		if (p->line.len > 0) {
			if (sse_buf_add(&p->line, s, (size_t)(eol - s)) == -1)
				return fail(p, SSE_ERR_TOO_BIG);
			rc = line(p, p->line.p, p->line.len);
			sse_buf_reset(&p->line);
		} else {
			if ((size_t)(eol - s) > p->max_event)
				return fail(p, SSE_ERR_TOO_BIG);
			rc = line(p, s, (size_t)(eol - s));
		}
		s = eol + 1;
		if (*eol == '\r') {
			if (s < end) {
				if (*s == '\n')
					s++;
			} else
				p->skip_lf = true;
		}
		if (rc != SSE_OK)
			return rc;
	}
	return SSE_OK;
}

void
sse_parser_end(struct sse_parser *p)
{
	sse_buf_reset(&p->line);
	sse_buf_reset(&p->data);
	sse_buf_reset(&p->type);
	/* A new stream starts with the last event ID the client holds. */
	(void)sse_buf_set(&p->idbuf, p->lastid.p, p->lastid.len);
	p->id_seen = false;
	p->bom_done = false;
	p->skip_lf = false;
	p->err = SSE_OK;
}

void
sse_parser_set_default_retry(struct sse_parser *p, uint64_t ms)
{
	p->default_retry = ms;
}

int
sse_parser_set_last_id(struct sse_parser *p, const char *id, size_t len)
{
	if (memchr(id, '\0', len) != NULL)
		return SSE_ERR_INVALID;
	if (sse_buf_set(&p->lastid, id, len) == -1 ||
	    sse_buf_set(&p->idbuf, id, len) == -1)
		return SSE_ERR_TOO_BIG;
	return SSE_OK;
}

const char *
sse_parser_last_id(const struct sse_parser *p, size_t *len)
{
	*len = p->lastid.len;
	return p->lastid.len ? p->lastid.p : "";
}
