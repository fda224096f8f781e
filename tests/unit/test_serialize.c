/*
 * sse_serialize and sse_serialize_comment: the bytes written, the refusal
 * of anything that would inject fields, and that what is written parses
 * back (WHATWG HTML Standard, "Interpreting an event stream") to the same
 * event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "parser.h"
#include "serialize.h"
#include "evmake.h"
#include "tap.h"

static struct sse_buf out;

static void
check(const struct sse_event *ev, const char *want, const char *name)
{
	const char *why = "x";

	sse_buf_reset(&out);
	ok(sse_serialize(&out, ev, &why) == SSE_OK && why == NULL, "%s: SSE_OK",
	    name);
	is_mem(out.p, out.len, want, strlen(want), name);
}

/* The parsed-back event. */
struct got {
	int n;
	char type[64], data[256], id[64];
	size_t tlen, dlen, ilen;
	bool has_id;
	uint64_t retry;
	int nretry;
};

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct got *g = ctx;

	g->n++;
	memcpy(g->type, ev->type, g->tlen = ev->type_len);
	memcpy(g->data, ev->data, g->dlen = ev->data_len);
	memcpy(g->id, ev->id, g->ilen = ev->id_len);
	g->has_id = ev->has_id;
	return 0;
}

static void
on_retry(void *ctx, uint64_t ms)
{
	struct got *g = ctx;

	g->retry = ms;
	g->nretry++;
}

static void
roundtrip(const struct sse_event *ev, const char *wdata, size_t wdlen,
    const char *name)
{
	struct got g;
	struct sse_parser_cb cb = {on_event, on_retry, NULL, &g};
	struct sse_parser p;

	memset(&g, 0, sizeof(g));
	sse_buf_reset(&out);
	sse_serialize(&out, ev, NULL);
	sse_parser_init(&p, &cb, 0);
	ok(sse_parser_feed(&p, out.p, out.len) == SSE_OK && g.n == 1,
	    "%s: parses back to one event", name);
	is_mem(g.data, g.dlen, wdata, wdlen, "  same data");
	is_mem(g.type, g.tlen, ev->type_len ? ev->type : "message",
	    ev->type_len ? ev->type_len : 7, "  same type");
	if (ev->has_id)
		is_mem(g.id, g.ilen, ev->id, ev->id_len, "  same id");
	ok(g.has_id == ev->has_id, "  has_id the same");
	ok(ev->retry < 0 ? g.nretry == 0
			 : g.nretry == 1 && g.retry == (uint64_t)ev->retry,
	    "  same retry");
	sse_parser_release(&p);
}

static void
refuse(const struct sse_event *ev, const char *name)
{
	const char *why = NULL;

	sse_buf_reset(&out);
	sse_buf_addstr(&out, "keep");
	ok(sse_serialize(&out, ev, &why) == SSE_ERR_INVALID && why != NULL,
	    "%s: refused (%s)", name, why ? why : "no reason");
	is_mem(out.p, out.len, "keep", 4, "  out unchanged");
}

int
main(void)
{
	struct sse_event ev;
	struct sse_buf small;
	static char big[200];

	sse_buf_init(&out, 0);

	ev = ev_make(NULL, "hello", 5, NULL, -1);
	check(&ev, "data: hello\n\n", "message: data only");
	ev = ev_make("message", "x", 1, NULL, -1);
	check(
	    &ev, "data: x\n\n", "type message is the default: no event field");
	ev = ev_make("", "x", 1, NULL, -1);
	check(&ev, "data: x\n\n", "empty type: no event field");
	ev = ev_make("update", "x", 1, "42", 3000);
	check(&ev, "event: update\nid: 42\nretry: 3000\ndata: x\n\n",
	    "all fields, in order event, id, retry, data");
	ev = ev_make(NULL, "", 0, NULL, -1);
	check(&ev, "data: \n\n", "empty data is one data line");
	ev = ev_make(NULL, "x", 1, "", -1);
	check(&ev, "id: \ndata: x\n\n",
	    "empty id written when has_id (it clears the last event ID)");
	ev = ev_make(NULL, "x", 1, NULL, 0);
	check(&ev, "retry: 0\ndata: x\n\n", "retry 0 is written");
	ev = ev_make(NULL, "a\nb\r\nc\rd", 8, NULL, -1);
	check(&ev, "data: a\ndata: b\ndata: c\ndata: d\n\n",
	    "LF, CRLF and lone CR in data each start a data line");
	ev = ev_make(NULL, "a\n", 2, NULL, -1);
	check(&ev, "data: a\ndata: \n\n", "a final LF is an empty last line");
	ev = ev_make(NULL, "\n\n", 2, NULL, -1);
	check(&ev, "data: \ndata: \ndata: \n\n", "data of two LFs");
	ev = ev_make(NULL, "a\r", 2, NULL, -1);
	check(&ev, "data: a\ndata: \n\n", "a final CR is a line break too");
	ev = ev_make(NULL, "a\0b", 3, "i", -1);
	sse_buf_reset(&out);
	ok(sse_serialize(&out, &ev, NULL) == SSE_OK, "NUL in data: SSE_OK");
	is_mem(out.p, out.len, "id: i\ndata: a\0b\n\n", 17,
	    "NUL in data: exact bytes");

	ev = ev_make("a\nb", "x", 1, NULL, -1);
	refuse(&ev, "event type with LF");
	ev = ev_make("a\rb", "x", 1, NULL, -1);
	refuse(&ev, "event type with CR");
	ev = ev_make(NULL, "x", 1, "1\n2", -1);
	refuse(&ev, "id with LF");
	ev = ev_make(NULL, "x", 1, "1\r", -1);
	refuse(&ev, "id with CR");
	ev = ev_make(NULL, "x", 1, NULL, -1);
	ev.id = "1\0"
		"2";
	ev.id_len = 3;
	ev.has_id = true;
	refuse(&ev, "id with NUL (the parser would ignore it)");
	ev = ev_make(NULL, "x", 1, NULL, -1);
	ev.id = "1\n";
	ev.id_len = 2;
	sse_buf_reset(&out);
	ok(sse_serialize(&out, &ev, NULL) == SSE_OK,
	    "an id is not checked when has_id is false (not written)");

	/* Round trips. */
	ev = ev_make(NULL, "hello", 5, NULL, -1);
	roundtrip(&ev, "hello", 5, "plain");
	ev = ev_make(" spaced", "  two leading spaces", 20, " id", 5);
	roundtrip(&ev, "  two leading spaces", 20,
	    "leading spaces survive (one is removed by the parser)");
	ev = ev_make("t", "a\nb\r\nc\rd", 8, "7", -1);
	roundtrip(&ev, "a\nb\nc\nd", 7, "line endings become LF");
	ev = ev_make(NULL, "", 0, "", -1);
	roundtrip(&ev, "", 0, "empty data, empty id");
	ev = ev_make(NULL, "a\n", 2, NULL, -1);
	roundtrip(&ev, "a\n", 2, "trailing LF survives");
	ev = ev_make("x:y", ": not a comment", 15, "i:d", 1);
	roundtrip(&ev, ": not a comment", 15, "colons in values");
	ev = ev_make(NULL,
	    "\xEF\xBB\xBF"
	    "bom",
	    6, NULL, -1);
	roundtrip(&ev,
	    "\xEF\xBB\xBF"
	    "bom",
	    6, "data starting with a BOM is not taken for the stream's BOM");

	/* Comments. */
	sse_buf_reset(&out);
	ok(sse_serialize_comment(&out, "hi", 2) == SSE_OK, "comment: SSE_OK");
	is_mem(out.p, out.len, ": hi\n", 5, "comment: one line");
	sse_buf_reset(&out);
	sse_serialize_comment(&out, "a\r\nb\nc", 6);
	is_mem(out.p, out.len, ": a\n: b\n: c\n", 12,
	    "comment: one line per line");
	sse_buf_reset(&out);
	sse_serialize_comment(&out, "", 0);
	is_mem(out.p, out.len, ": \n", 3, "comment: empty");

	/* Where the id lies in what was written. */
	{
		static const struct {
			const char *type, *id;
			long long retry;
		} at[] = {{NULL, "42", -1}, {"update", "7", 3000},
		    {"message", "x", -1}, {"t", "", 5}};
		size_t i, id_at;

		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			ev = ev_make(
			    at[i].type, "d\ne", 3, at[i].id, at[i].retry);
			sse_buf_reset(&out);
			sse_buf_addstr(&out, "before");
			id_at = 0;
			ok(sse_serialize_at(&out, &ev, NULL, &id_at) ==
				    SSE_OK &&
				id_at >= 4 && id_at + ev.id_len < out.len &&
				memcmp(out.p + id_at - 4, "id: ", 4) == 0 &&
				memcmp(out.p + id_at, ev.id, ev.id_len) == 0 &&
				out.p[id_at + ev.id_len] == '\n',
			    "sse_serialize_at: the id lies at id_at (%zu)", i);
		}
	}

	/* A bare id: an empty dispatch. */
	{
		size_t id_at = 0;

		sse_buf_reset(&out);
		sse_buf_addstr(&out, "x");
		ok(sse_serialize_id(&out, "ab-end", 6, &id_at) == SSE_OK &&
			id_at == 5,
		    "sse_serialize_id: SSE_OK, the id at id_at");
		is_mem(out.p, out.len, "xid: ab-end\n\n", 13,
		    "sse_serialize_id: the id field and a blank line");
		ok(sse_serialize_id(&out, "a\nb", 3, NULL) == SSE_ERR_INVALID &&
			out.len == 13,
		    "sse_serialize_id: a line break is refused");
	}

	/* Retry alone, and the loss signal. */
	sse_buf_reset(&out);
	ok(sse_serialize_retry(&out, 0) == SSE_OK &&
		sse_serialize_retry(&out, 3000) == SSE_OK,
	    "sse_serialize_retry: SSE_OK");
	is_mem(out.p, out.len, "retry: 0\n\nretry: 3000\n\n", 23,
	    "sse_serialize_retry: the field and a blank line");
	sse_buf_reset(&out);
	ok(sse_serialize_lost(&out, "4\"2\n", 4) == SSE_OK,
	    "sse_serialize_lost: SSE_OK");
	{
		static const char want[] =
		    "event: sse-lost\n"
		    "data: {\"lastEventId\":\"4\\\"2\\n\"}"
		    "\n\n";

		is_mem(out.p, out.len, want, sizeof(want) - 1,
		    "sse_serialize_lost: the id as a JSON string, no line "
		    "break in the data");
	}

	/* The cap. */
	sse_buf_init(&small, 16);
	sse_buf_addstr(&small, "ab");
	memset(big, 'x', sizeof(big));
	ev = ev_make(NULL, big, sizeof(big), NULL, -1);
	ok(sse_serialize(&small, &ev, NULL) == SSE_ERR_TOO_BIG,
	    "cap reached: SSE_ERR_TOO_BIG");
	is_mem(small.p, small.len, "ab", 2, "cap reached: out unchanged");
	ok(sse_serialize_comment(&small, big, sizeof(big)) == SSE_ERR_TOO_BIG &&
		small.len == 2,
	    "comment past the cap: SSE_ERR_TOO_BIG, out unchanged");
	sse_buf_reset(&small);
	sse_buf_addstr(&small, "ab");
	ok(sse_serialize_lost(&small, big, sizeof(big)) == SSE_ERR_TOO_BIG &&
		small.len == 2,
	    "loss signal past the cap: SSE_ERR_TOO_BIG, out unchanged");
	sse_buf_release(&small);

	sse_buf_release(&out);
	return done_testing();
}
