/*
 * sse listen: the write callback. Body bytes go to the parser as they come;
 * each dispatched event goes to the output buffer, which the event loop
 * writes out once per round of transfers, before it waits for the network
 * again: never once per event, and never holding an event back.
 *
 * In the raw format an event the stream already had in canonical form is
 * not serialized again: its bytes are copied as they came, and those of
 * consecutive events as one span (sse_parser_raw(), output_event_raw()).
 */
#include <stdio.h>

#include "cmd.h"
#include "listen.h"
#include "msg.h"
#include "util.h"

/*
 * The parser's cap is --max-event-size plus room for a field name, so that
 * the limit reads as "the data of an event": `data: ` and SIZE bytes is
 * one line the parser must take whole.
 */
#define FIELD_SLACK 64

static void
too_big(struct listen *l)
{
	listen_fail(l, EXIT_STREAM,
	    "'%s': event larger than --max-event-size (%zu bytes)", l->o->url,
	    l->o->max_event);
}

/* What the parser callbacks return after output said r: 1 stops it. */
static int
output_said(struct listen *l, enum output_result r)
{
	if (r == OUTPUT_CONTINUE)
		return 0;
	if (l->stop < 0) /* an expired write has set it */
		l->stop = output_status(r);
	return 1;
}

/* With --state or --exec: print ev, then act on it (--exec: if printed). */
static int
then_act(
    struct listen *l, const struct sse_event *ev, const char *raw, size_t len)
{
	bool printed = output_shows(&l->out, ev);
	enum output_result r;

	r = output_event_raw(&l->out, ev, l->chunk_ms, raw, len);
	if (r != OUTPUT_CONTINUE && r != OUTPUT_DONE)
		return output_said(l, r);
	if (listen_after_event(l, ev, printed) == -1)
		return 1;
	return output_said(l, r);
}

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct listen *l = ctx;
	const char *raw;
	size_t len;

	if (l->hooks.event != NULL &&
	    l->hooks.event(l->hooks.ctx, ev, l->chunk_ms) != 0) {
		l->stop = EXIT_ERROR;
		return 1;
	}
	/* Only the raw format copies an event's bytes. */
	raw = NULL;
	len = 0;
	if (l->out.fmt.kind == SSE_FMT_RAW)
		raw = sse_parser_raw(&l->parser, &len);
	if (l->o->state == NULL && l->o->exec == NULL && l->o->expected == NULL)
		return output_said(
		    l, output_event_raw(&l->out, ev, l->chunk_ms, raw, len));
	return then_act(l, ev, raw, len);
}

/*
 * Events of the most common shapes that need no filtering: copied as they
 * came in the raw format, formatted as one run in json, data and data0.
 */
static int
on_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct listen *l = ctx;
	const char *id;
	size_t id_len;

	id = sse_parser_last_id(&l->parser, &id_len);
	return output_said(l,
	    output_events_raw(&l->out, raw, len, n,
		sse_parser_run_index(&l->parser), id, id_len, l->chunk_ms));
}

/* "If the field value consists of only ASCII digits, then interpret the
 * field value as an integer in base ten, and set the event stream's
 * reconnection time to that integer." */
static void
on_retry(void *ctx, uint64_t ms)
{
	struct listen *l = ctx;

	l->retry_ms = ms;
	if (l->hooks.retry != NULL)
		l->hooks.retry(l->hooks.ctx, ms);
	listen_trace(
	    "* retry: reconnection time %llu ms", (unsigned long long)ms);
}

/*
 * A block with no data is not dispatched: EventSource drops it. -v says so,
 * and --until TYPE still fires on it (the Flask tutorial ends its stream
 * with "event: done" and no data), a deliberate difference.
 */
static int
on_dropped(void *ctx, const char *type, size_t len)
{
	struct listen *l = ctx;
	size_t idlen;
	const char *id = sse_parser_last_id(&l->parser, &idlen);
	struct sse_event ev;
	int tlen, vlen;
	const char *t;

	if (msg_verbosity() > 0) {
		t = listen_visible(l, type, len, &tlen);
		fprintf(stderr, "* dropped a block with no data (event: %.*s)",
		    tlen, t);
		t = listen_visible(l, id, idlen, &vlen);
		fprintf(stderr, ", last event ID '%.*s'\n", vlen, t);
	}
	/* The block set the last event ID all the same: --state keeps it. */
	if (l->o->state != NULL) {
		sse_event_init(&ev);
		ev.id = id;
		ev.id_len = idlen;
		if (listen_after_event(l, &ev, false) == -1)
			return 1;
	}
	return output_said(l, output_block(&l->out, type, len));
}

static void
on_comment(void *ctx, const char *text, size_t len)
{
	struct listen *l = ctx;

	listen_show(l, "* comment:", text, len);
	(void)output_said(l, output_comment(&l->out, text, len, l->chunk_ms));
}

void
listen_parser_init(struct listen *l)
{
	struct sse_parser_cb cb = {on_event, on_retry, on_comment, l};

	sse_parser_init(&l->parser, &cb, l->o->max_event + FIELD_SLACK);
	sse_parser_set_dropped(&l->parser, on_dropped);
	sse_parser_set_max_data(&l->parser, l->o->max_event);
	/* An empty retry field resets the reconnection time to ours. */
	sse_parser_set_default_retry(
	    &l->parser, (uint64_t)l->o->retry_delay_ms);
}

void
listen_parser_relay(struct listen *l)
{
	if (l->out.runs && l->hooks.event == NULL && l->o->state == NULL &&
	    l->o->exec == NULL && l->o->expect == NULL) {
		sse_parser_set_run(&l->parser, on_run);
		/* The formats that format each event take it from the index. */
		if (!l->out.plain)
			sse_parser_set_run_index(&l->parser, l->run_index,
			    sizeof(l->run_index) / sizeof(l->run_index[0]));
	}
}

/* A refused response's body: its start is kept for the message. */
static size_t
keep_errbody(struct listen *l, const char *buf, size_t n)
{
	size_t cap = msg_verbosity() > 0 ? LISTEN_ERRBODY_V : LISTEN_ERRBODY;
	size_t room = cap - l->errbody.len;

	if (sse_buf_add(&l->errbody, buf, n < room ? n : room) == -1 ||
	    l->errbody.len >= cap)
		return 0; /* enough: the transfer ends, listen_refuse() */
	return n;
}

size_t
listen_write_cb(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct listen *l = ctx;
	size_t n = size * nitems;
	enum output_result r;
	int rc;

	l->last_byte_ms = now_mono_ms();
	/* The body of a response that was refused is not a stream. */
	if (l->refused)
		return keep_errbody(l, buf, n);
	if (!l->opened || l->stop >= 0)
		return l->stop >= 0 ? 0 : n;
	l->chunk_ms = now_wall_ms();
	if (l->hooks.chunk != NULL &&
	    l->hooks.chunk(l->hooks.ctx, buf, n, l->chunk_ms) != 0) {
		l->stop = EXIT_ERROR;
		return 0;
	}
	rc = sse_parser_feed(&l->parser, buf, n);
	/* Raw spans point into buf, which libcurl reuses. */
	r = output_commit(&l->out);
	if (rc == SSE_ERR_TOO_BIG && l->stop < 0)
		too_big(l);
	else if (rc == SSE_ERR_NOMEM && l->stop < 0)
		listen_fail(l, EXIT_ERROR, "out of memory");
	(void)output_said(l, r);
	return l->stop >= 0 ? 0 : n;
}
