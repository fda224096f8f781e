/*
 * The event stream parser, its other half: what each field does, and
 * dispatching an event. Rules quoted from the WHATWG HTML Standard,
 * section 9.2.6 "Interpreting an event stream". Out of the hot loop
 * (parser.c): these run once per field or per event, not per byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"
#include "parser_impl.h"
#include "scan.h"

/*
 * Data lines that lie whole in the caller's buffer are not copied: the
 * data buffer is then p->dview (the value, its LF implied) until a second
 * data line comes or the feed returns, when it is copied after all.
 */
int
sse__materialize(struct sse_parser *p)
{
	const char *v = p->dview;

	p->dview = NULL;
	if (sse_buf_reserve(&p->data, p->dview_len + 1) == -1)
		return sse__fail(p, SSE_ERR_TOO_BIG);
	memcpy(p->data.p, v, p->dview_len);
	p->data.p[p->dview_len] = '\n';
	p->data.len = p->dview_len + 1;
	return SSE_OK;
}

/*
 * "If the line is empty (a blank line): Dispatch the event." blank: the
 * blank line's LF in the caller's buffer, if it is one.
 */
int
sse__dispatch(struct sse_parser *p, const char *blank)
{
	struct sse_event ev;
	int rc = SSE_OK;
	bool own;

	/*
	 * Step 1: set the last event ID string to the last event ID buffer.
	 * The buffer's value matters only until it is copied (id_seen), so
	 * the two swap instead: no copy per event.
	 */
	own = p->id_seen;
	if (p->id_seen) {
		struct sse_buf t = p->lastid;

		p->id_seen = false;
		p->lastid = p->idbuf;
		p->idbuf = t;
		p->id_pending = true;
	}
	/*
	 * Step 2: an empty data buffer resets the buffers and dispatches
	 * nothing. Step 3: remove the data buffer's last character, always
	 * an LF.
	 */
	if (p->dview != NULL) {
		ev.data = p->dview;
		ev.data_len = p->dview_len;
		p->dview = NULL;
	} else if (p->data.len > 0) {
		ev.data = p->data.p;
		ev.data_len = p->data.len - 1;
		p->data.len = 0;
	} else {
		p->blk_state = RAW_START;
		if (p->dropped != NULL && (p->type.len > 0 || own) &&
		    p->dropped(p->cb.ctx, p->type.len ? p->type.p : "",
			p->type.len) != 0)
			rc = sse__fail(p, SSE_ERR_ABORTED);
		p->type.len = 0;
		return rc;
	}
	/*
	 * The event carries the last event ID when it changed since the last
	 * event, by this block or by an id-only block before it; in the
	 * latter case the block's own bytes lack the id field.
	 */
	ev.has_id = p->id_pending;
	p->id_pending = false;
	if (blank != NULL && p->blk_state == RAW_DATA && ev.has_id == own) {
		p->raw = p->blk;
		p->raw_len = (size_t)(blank + 1 - p->blk);
	}
	p->blk_state = RAW_START;
	/* Step 5: the type is "message" unless the event type buffer says. */
	if (p->type.len > 0) {
		ev.type = p->type.p;
		ev.type_len = p->type.len;
		p->type.len = 0; /* step 7; the view stays valid */
	} else {
		ev.type = SSE_DEFAULT_TYPE;
		ev.type_len = sizeof(SSE_DEFAULT_TYPE) - 1;
	}
	ev.id = p->lastid.len ? p->lastid.p : "";
	ev.id_len = p->lastid.len;
	ev.retry = -1;
	p->nevents++;
	if (ev.data_len > p->max_data)
		rc = sse__fail(p, SSE_ERR_TOO_BIG);
	else if (p->cb.event != NULL && p->cb.event(p->cb.ctx, &ev) != 0)
		rc = sse__fail(p, SSE_ERR_ABORTED);
	p->raw = NULL;
	return rc;
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

/* "data": append the value, then a single LF, to the data buffer. */
int
sse__data(struct sse_parser *p, const char *v, size_t vlen, bool in_input)
{
	struct sse_buf *b = &p->data;

	if (b->len == 0 && p->dview == NULL && in_input) {
		p->dview = v;
		p->dview_len = vlen;
		return SSE_OK;
	}
	if (p->dview != NULL && sse__materialize(p) != SSE_OK)
		return p->err;
	if (sse_buf_room(b, vlen + 1) == -1)
		return sse__fail(p, SSE_ERR_TOO_BIG);
	memcpy(b->p + b->len, v, vlen);
	b->len += vlen;
	b->p[b->len++] = '\n';
	return SSE_OK;
}

/* "id": unless the value contains NUL, set the last event ID buffer. */
int
sse__id(struct sse_parser *p, const char *v, size_t vlen)
{
	const char *s = v, *end = v + vlen;
	uint64_t w;

	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		if (swar_eq(w, '\0') != 0)
			return SSE_OK;
	}
	for (; s < end; s++)
		if (*s == '\0')
			return SSE_OK;
	p->id_seen = true;
	return sse__set(p, &p->idbuf, v, vlen);
}

int
sse__field(struct sse_parser *p, const char *name, size_t nlen, const char *v,
    size_t vlen, bool in_input)
{
	switch (nlen) {
	case 4:
		if (memcmp(name, "data", 4) == 0)
			return sse__data(p, v, vlen, in_input);
		break;
	case 5:
		if (memcmp(name, "event", 5) == 0)
			return sse__event_type(p, v, vlen);
		if (memcmp(name, "retry", 5) == 0)
			retry(p, v, vlen);
		break;
	case 2:
		if (memcmp(name, "id", 2) == 0)
			return sse__id(p, v, vlen);
		break;
	default:
		/* Any other field is ignored. */
		break;
	}
	return SSE_OK;
}
