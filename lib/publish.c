/*
 * A publish request's body into events: see publish.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "parser.h"
#include "publish.h"
#include "utf8.h"
#include "topic.h"

void
pub_init(struct pub *p, size_t max_events, size_t max_event)
{
	memset(p, 0, sizeof(*p));
	sse_buf_init(&p->arena, 0);
	p->max_events = max_events;
	p->max_event = max_event;
}

void
pub_release(struct pub *p)
{
	sse_buf_release(&p->arena);
	free(p->ev);
	p->ev = NULL;
	p->n = p->cap = 0;
}

/* The media type, without parameters or blanks, compared with want. */
static bool
media_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

enum pub_kind
pub_kind_of(const char *ct)
{
	if (ct == NULL || media_is(ct, "text/plain") ||
	    media_is(ct, "application/x-www-form-urlencoded"))
		return PUB_TEXT;
	if (media_is(ct, "application/json") ||
	    media_is(ct, "application/x-ndjson") ||
	    media_is(ct, "application/jsonl"))
		return PUB_JSON;
	if (media_is(ct, "text/event-stream"))
		return PUB_SSE;
	return PUB_UNSUPPORTED;
}

static int
fail(struct pub *p, unsigned long line, const char *why)
{
	int k = 0;

	p->err_line = line;
	if (line > 0)
		k = snprintf(p->err, sizeof(p->err), "line %lu: ", line);
	if (k < 0 || (size_t)k >= sizeof(p->err))
		k = 0;
	if (why != p->err + k) /* not already in place */
		memmove(p->err + k, why,
		    strnlen(why, sizeof(p->err) - (size_t)k - 1) + 1);
	p->err[sizeof(p->err) - 1] = '\0';
	return -1;
}

static bool
has_any(const char *s, size_t n, const char *set, size_t nset)
{
	for (size_t i = 0; i < n; i++)
		if (memchr(set, s[i], nset) != NULL)
			return true;
	return false;
}

/* Copy ev (and topic) into the arena as event p->n. */
static int
add(struct pub *p, unsigned long line, const struct sse_event *ev,
    const char *topic, size_t topic_len)
{
	struct pub_event *e;
	const char *why;

	if (p->n >= p->max_events)
		return fail(p, line, "too many events in one request");
	if (ev->data_len > p->max_event)
		return fail(p, line, "event larger than --max-event-size");
	/* Text lines may be anything; the stream is UTF-8: refused, named. */
	if (!sse_utf8_valid(ev->data, ev->data_len) ||
	    !sse_utf8_valid(ev->type, ev->type_len) ||
	    (ev->has_id && !sse_utf8_valid(ev->id, ev->id_len)))
		return fail(p, line, "not valid UTF-8");
	if (has_any(ev->type, ev->type_len, "\r\n\0", 3))
		return fail(p, line, "the event type has a CR, LF or NUL");
	if (ev->type_len == 0)
		return fail(p, line, "the event type is empty");
	if (ev->has_id && has_any(ev->id, ev->id_len, "\r\n\0", 3))
		return fail(p, line, "the id has a CR, LF or NUL");
	if (topic != NULL && !sse_topic_valid(topic, topic_len, &why)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "invalid topic: %s", why);
		return fail(p, line, msg);
	}
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct pub_event *ne = realloc(p->ev, ncap * sizeof(*ne));

		if (ne == NULL)
			return fail(p, line, "out of memory");
		p->ev = ne;
		p->cap = ncap;
	}
	e = &p->ev[p->n];
	memset(e, 0, sizeof(*e));
	e->type_off = p->arena.len;
	e->type_len = ev->type_len;
	e->data_off = e->type_off + ev->type_len;
	e->data_len = ev->data_len;
	e->id_off = e->data_off + ev->data_len;
	e->id_len = ev->has_id ? ev->id_len : 0;
	e->topic_off = e->id_off + e->id_len;
	e->topic_len = topic != NULL ? topic_len : 0;
	e->has_id = ev->has_id;
	e->retry = ev->retry;
	e->line = line;
	if (sse_buf_add(&p->arena, ev->type, ev->type_len) == -1 ||
	    sse_buf_add(&p->arena, ev->data, ev->data_len) == -1 ||
	    sse_buf_add(&p->arena, ev->id, e->id_len) == -1 ||
	    sse_buf_add(&p->arena, topic, e->topic_len) == -1)
		return fail(p, line, "out of memory");
	p->n++;
	return 0;
}

static int
parse_lines(struct pub *p, enum pub_kind kind, const char *b, size_t len,
    const char *type, size_t type_len, pub_json_fn json, void *ctx)
{
	const char *end = b + len, *nl, *topic;
	struct sse_event ev;
	unsigned long line = 0;
	size_t n, topic_len;
	char why[200];

	while (b < end) {
		line++;
		nl = memchr(b, '\n', (size_t)(end - b));
		n = nl != NULL ? (size_t)(nl - b) : (size_t)(end - b);
		if (n > 0 && b[n - 1] == '\r')
			n--;
		if (n > p->max_event)
			return fail(p, line, "longer than --max-event-size");
		sse_event_init(&ev);
		topic = NULL;
		topic_len = 0;
		if (kind == PUB_TEXT) {
			ev.type = type;
			ev.type_len = type_len;
			ev.data = b;
			ev.data_len = n;
		} else {
			while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
				n--;
			if (n == 0)
				goto next; /* a blank line is no event */
			why[0] = '\0';
			if (json(ctx, b, n, &ev, &topic, &topic_len, why,
				sizeof(why)) == -1)
				return fail(p, line, why);
		}
		if (add(p, line, &ev, topic, topic_len) == -1)
			return -1;
	next:
		if (nl == NULL)
			break;
		b = nl + 1;
	}
	return 0;
}

struct sse_ctx {
	struct pub *p;
	int64_t retry;
	int failed;
};

static int
sse_ev(void *ctx, const struct sse_event *pev)
{
	struct sse_ctx *c = ctx;
	struct sse_event ev = *pev;

	ev.retry = c->retry;
	c->retry = -1;
	if (add(c->p, 0, &ev, NULL, 0) == -1) {
		c->failed = 1;
		return 1;
	}
	return 0;
}

static void
sse_retry(void *ctx, uint64_t ms)
{
	struct sse_ctx *c = ctx;

	c->retry = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

/* The line that holds byte off: 1 + the line ends before it. */
static unsigned long
line_at(const char *b, size_t off)
{
	unsigned long line = 1;

	for (size_t i = 0; i < off; i++)
		if (b[i] == '\n' ||
		    (b[i] == '\r' && (i + 1 >= off || b[i + 1] != '\n')))
			line++;
	return line;
}

static int
parse_sse(struct pub *p, const char *b, size_t len)
{
	struct sse_parser ps;
	struct sse_parser_cb cb;
	struct sse_ctx c = {p, -1, 0};
	size_t taken;
	int rc;

	memset(&cb, 0, sizeof(cb));
	cb.event = sse_ev;
	cb.retry = sse_retry;
	cb.ctx = &c;
	sse_parser_init(&ps, &cb, p->max_event);
	rc = sse_parser_feed(&ps, b, len);
	taken = rc == SSE_OK ? len : sse_parser_taken(&ps);
	if (rc == SSE_OK) /* the end of the body ends the last event */
		rc = sse_parser_feed(&ps, "\n\n", 2);
	sse_parser_release(&ps);
	if (rc == SSE_OK)
		return 0;
	if (c.failed) { /* add() said why; name the line */
		char why[sizeof(p->err)];

		memcpy(why, p->err, sizeof(why));
		return fail(p, line_at(b, taken), why);
	}
	return fail(p, line_at(b, taken), sse_strerror(rc));
}

int
pub_parse(struct pub *p, enum pub_kind kind, const char *body, size_t len,
    const char *type, size_t type_len, pub_json_fn json, void *ctx)
{
	size_t n0 = p->n, a0 = p->arena.len;
	int rc;

	p->err[0] = '\0';
	p->err_line = 0;
	switch (kind) {
	case PUB_TEXT:
	case PUB_JSON:
		if (kind == PUB_JSON && json == NULL)
			return fail(p, 0, "JSON bodies are not supported");
		rc = parse_lines(p, kind, body, len, type, type_len, json, ctx);
		break;
	case PUB_SSE:
		rc = parse_sse(p, body, len);
		break;
	default:
		return fail(p, 0, "unsupported content type");
	}
	if (rc == 0 && p->n == n0)
		rc = fail(p, 0, "no event in the body");
	if (rc == -1) {
		p->n = n0;
		p->arena.len = a0;
	}
	return rc;
}

void
pub_get(const struct pub *p, size_t i, struct sse_event *ev, const char **topic,
    size_t *topic_len)
{
	const struct pub_event *e = &p->ev[i];
	const char *a = p->arena.p;

	sse_event_init(ev);
	ev->type = a + e->type_off;
	ev->type_len = e->type_len;
	ev->data = a + e->data_off;
	ev->data_len = e->data_len;
	ev->id = a + e->id_off;
	ev->id_len = e->id_len;
	ev->has_id = e->has_id;
	ev->retry = e->retry;
	if (topic != NULL) {
		*topic = e->topic_len > 0 ? a + e->topic_off : NULL;
		*topic_len = e->topic_len;
	}
}

int
pub_error_json(const struct pub *p, struct sse_buf *out)
{
	if (sse_buf_addstr(out, "{\"error\":") == -1 ||
	    sse_json_str(out, p->err, strlen(p->err)) == -1)
		return -1;
	if (p->err_line > 0 &&
	    sse_buf_addf(out, ",\"line\":%lu", p->err_line) == -1)
		return -1;
	return sse_buf_addstr(out, "}\n");
}
