/*
 * libFuzzer target for `sse serve --input json` lines: jansson, then the one
 * event decoder (cmd/event_json.c), then the serializer, as serve does.
 * Besides memory safety (ASan, UBSan) it checks, abort()ing on a mismatch,
 * that whatever a producer writes cannot break the stream: an event the
 * serializer takes is read back by the parser (the WHATWG rules) as that
 * one event and nothing more (its type, its data with CR and CRLF made LF,
 * its id, its retry), and one it refuses leaves the output unchanged.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "parser.h"
#include "serialize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct got {
	int events;
	int64_t retry;
	struct sse_buf type, data, id;
	bool has_id;
};

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct got *g = ctx;

	g->events++;
	sse_buf_set(&g->type, ev->type, ev->type_len);
	sse_buf_set(&g->data, ev->data, ev->data_len);
	sse_buf_set(&g->id, ev->id, ev->id_len);
	g->has_id = ev->has_id;
	return 0;
}

static void
on_retry(void *ctx, uint64_t ms)
{
	((struct got *)ctx)->retry = (int64_t)ms;
}

/* data with CRLF and CR made LF, as the parser's lines have it. */
static void
lf_only(struct sse_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		sse_buf_addch(out, s[i] == '\r' ? '\n' : s[i]);
	}
}

static bool
same(const struct sse_buf *b, const char *s, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->p, s, n) == 0);
}

static void
round_trip(const struct sse_event *ev)
{
	struct sse_parser_cb cb = {on_event, on_retry, NULL, NULL};
	struct sse_buf out, want;
	struct sse_parser p;
	struct got g;
	const char *why = NULL;
	int rc;

	memset(&g, 0, sizeof(g));
	g.retry = -1;
	sse_buf_init(&out, 0);
	sse_buf_init(&want, 0);
	sse_buf_addstr(&out, "x");
	rc = sse_serialize(&out, ev, &why);
	if (rc != SSE_OK) {
		if (out.len != 1 || why == NULL)
			abort(); /* refused, yet something was written */
		goto done;
	}
	cb.ctx = &g;
	sse_parser_init(&p, &cb, 0);
	if (sse_parser_feed(&p, out.p + 1, out.len - 1) != SSE_OK)
		abort();
	sse_parser_end(&p);
	sse_parser_release(&p);
	lf_only(&want, ev->data, ev->data_len);
	if (g.events != 1 || !same(&g.type, ev->type, ev->type_len) ||
	    !same(&g.data, want.p, want.len) || g.has_id != ev->has_id ||
	    (ev->has_id && !same(&g.id, ev->id, ev->id_len)) ||
	    g.retry != ev->retry)
		abort();
done:
	sse_buf_release(&out);
	sse_buf_release(&want);
	sse_buf_release(&g.type);
	sse_buf_release(&g.data);
	sse_buf_release(&g.id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_json ej;
	json_t *root;

	root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (root == NULL)
		return 0;
	if (json_is_object(root) &&
	    event_json_decode(root, EVENT_JSON_LOOSE, &ej) == NULL)
		round_trip(&ej.ev);
	if (json_is_object(root))
		event_json_release(&ej);
	json_decref(root);
	return 0;
}
