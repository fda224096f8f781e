/*
 * libFuzzer target for the event stream parser (make fuzz). Besides
 * memory safety (ASan, UBSan) it checks, abort()ing on a mismatch:
 *
 * - chunking invariance: the input fed whole, split at two offsets derived
 *   from the data, in chunks of a size derived from the data, and byte by
 *   byte gives the same events, retries, comments and final status, with
 *   the default max_event and with a small one derived from the data (so
 *   that the cap error must come at the same point however it is split);
 * - everything dispatched is valid UTF-8 (the WHATWG decode);
 * - the json format of every event is strictly valid JSON;
 * - the round trip parse -> sse_serialize -> parse gives the same events,
 *   and serializing them again gives the same bytes;
 * - every span sse_parser_raw() hands out is what sse_serialize writes;
 * - runs (sse_parser_set_run) give the same events as the event callback,
 *   as spans that are what sse_serialize writes for them;
 * - the json and data formats of runs (sse_format_run, stopped now and then
 *   at a mark and resumed) are the bytes those of their events one by one
 *   are, and a JSON string written with room to spare is the one written
 *   into a buffer capped at its length (the escape-by-escape path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SSE_HARNESS __attribute__((no_sanitize("coverage")))

#include "format.h"
#include "json.h"
#include "parser.h"
#include "serialize.h"
#include "utf8.h"
#include "../unit/jsoncheck.h"
#include "../unit/parselog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sse_buf want, scratch, jsonbuf;
static struct sse_format json_fmt;
static bool json_ready;

SSE_HARNESS static void
check_utf8(const char *s, size_t n)
{
	if (n > 0 && sse_utf8_repair(s, n, &scratch) != 0)
		abort(); /* the parser let invalid UTF-8 through */
}

/* The log of one way of feeding; abort() unless it matches want. */
SSE_HARNESS static void
same_as_want(const struct rec *r)
{
	if (r->log.len != want.len ||
	    (want.len > 0 && memcmp(r->log.p, want.p, want.len) != 0))
		abort(); /* chunking changed what the parser reported */
	if (r->raw_bad != 0)
		abort(); /* a raw span differs from the serializer's bytes */
}

SSE_HARNESS static void
splits(
    const char *s, size_t n, size_t max, size_t cut1, size_t cut2, size_t step)
{
	struct rec r;
	size_t cuts[2];

	rec_init(&r, max);
	rec_feed_step(&r, s, n, 0);
	sse_buf_set(&want, r.log.p, r.log.len);
	rec_release(&r);

	cuts[0] = cut1 < cut2 ? cut1 : cut2;
	cuts[1] = cut1 < cut2 ? cut2 : cut1;
	rec_init(&r, max);
	rec_feed_cuts(&r, s, n, cuts, 1);
	same_as_want(&r);
	rec_release(&r);

	rec_init(&r, max);
	rec_feed_cuts(&r, s, n, cuts, 2);
	same_as_want(&r);
	rec_release(&r);

	rec_init(&r, max);
	rec_use_runs(&r);
	rec_feed_cuts(&r, s, n, cuts, 2);
	same_as_want(&r);
	rec_release(&r);

	rec_init(&r, max);
	rec_feed_step(&r, s, n, step);
	same_as_want(&r);
	rec_release(&r);

	rec_init(&r, max);
	rec_use_runs(&r);
	rec_feed_step(&r, s, n, step);
	same_as_want(&r);
	rec_release(&r);

	rec_init(&r, max);
	rec_feed_step(&r, s, n, 1);
	same_as_want(&r);
	rec_release(&r);
}

/* Round trip: events logged (plain) and serialized again as they come. */
struct rt {
	struct rec r; /* first: it is the parser's ctx */
	struct sse_buf ser;
};

SSE_HARNESS static int
rt_event(void *ctx, const struct sse_event *ev)
{
	struct rt *t = ctx;
	const char *why;

	check_utf8(ev->type, ev->type_len);
	check_utf8(ev->data, ev->data_len);
	check_utf8(ev->id, ev->id_len);
	sse_buf_reset(&jsonbuf);
	if (sse_format_event(&json_fmt, &jsonbuf, ev, 0) != SSE_OK ||
	    !json_line_valid(jsonbuf.p, jsonbuf.len))
		abort(); /* the json format wrote something that is not JSON */
	rec_event(&t->r, ev);
	/* has_id is also set when an id-only block changed the ID. */
	if (sse_serialize(&t->ser, ev, &why) != SSE_OK)
		abort(); /* a parsed event must always serialize */
	return 0;
}

SSE_HARNESS static void
rt_run(struct rt *t, const char *s, size_t n)
{
	rec_init(&t->r, 0);
	t->r.plain = true;
	t->r.p.cb.event = rt_event;
	sse_buf_init(&t->ser, 0);
	rec_feed_step(&t->r, s, n, 0);
}

SSE_HARNESS static void
rt_release(struct rt *t)
{
	rec_release(&t->r);
	sse_buf_release(&t->ser);
}

SSE_HARNESS static void
round_trip(const char *s, size_t n)
{
	struct rt a, b;

	rt_run(&a, s, n);
	rt_run(&b, a.ser.p, a.ser.len);
	if (a.r.log.len != b.r.log.len ||
	    (a.r.log.len > 0 && memcmp(a.r.log.p, b.r.log.p, a.r.log.len) != 0))
		abort(); /* parse -> serialize -> parse changed the events */
	if (a.ser.len != b.ser.len ||
	    (a.ser.len > 0 && memcmp(a.ser.p, b.ser.p, a.ser.len) != 0))
		abort(); /* serializing is not a fixed point */
	rt_release(&a);
	rt_release(&b);
}

/* Formats of the same stream, by runs (split at marks) or event by event. */
struct fmt_sink {
	struct sse_parser p;
	struct sse_format f;
	struct sse_buf out;
	size_t step; /* sse_format_run's until, past out's length; 0: none */
	struct sse_run_event idx[5]; /* runs indexed when step is odd */
};

SSE_HARNESS static int
fmt_event(void *ctx, const struct sse_event *ev)
{
	struct fmt_sink *k = ctx;
	struct sse_buf tight;
	size_t at = k->out.len;

	if (sse_format_event(&k->f, &k->out, ev, 0) != SSE_OK)
		abort(); /* no cap: formatting cannot fail */
	if (k->f.kind == SSE_FMT_JSON) {
		sse_buf_init(&tight, k->out.len - at);
		if (sse_format_event(&k->f, &tight, ev, 0) != SSE_OK ||
		    tight.len != k->out.len - at ||
		    memcmp(tight.p, k->out.p + at, tight.len) != 0)
			abort(); /* the fast and tight json paths differ */
		sse_buf_release(&tight);
	}
	return 0;
}

SSE_HARNESS static int
fmt_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct fmt_sink *k = ctx;
	size_t idlen, taken;
	const char *id;

	const struct sse_run_event *x = sse_parser_run_index(&k->p);

	id = sse_parser_last_id(&k->p, &idlen);
	while (x != NULL && n > 0) {
		if (sse_format_run_index(&k->f, &k->out, raw, len, x, n, &id,
			&idlen, 0, k->step ? k->out.len + k->step : 0,
			&taken) != SSE_OK ||
		    taken == 0 || taken > n)
			abort(); /* the index of a run is not its events */
		x += taken;
		n -= taken;
	}
	while (x == NULL && len > 0) {
		if (sse_format_run(&k->f, &k->out, raw, len, &id, &idlen, 0,
			k->step ? k->out.len + k->step : 0, &taken) != SSE_OK ||
		    taken == 0 || taken > len)
			abort(); /* a run the parser made is not a run */
		raw += taken;
		len -= taken;
	}
	return 0;
}

SSE_HARNESS static void
fmt_feed(struct fmt_sink *k, const char *spec, bool runs, size_t step,
    const char *s, size_t n)
{
	struct sse_parser_cb cb = {fmt_event, NULL, NULL, k};

	sse_parser_init(&k->p, &cb, 0);
	if (sse_format_init(&k->f, spec, NULL, 0) != 0)
		abort();
	sse_buf_init(&k->out, 0);
	k->step = step;
	if (runs)
		sse_parser_set_run(&k->p, fmt_run);
	if (runs && step % 2 == 1)
		sse_parser_set_run_index(&k->p, k->idx, 1 + step % 5);
	(void)sse_parser_feed(&k->p, s, n);
}

SSE_HARNESS static void
fmt_release(struct fmt_sink *k)
{
	sse_parser_release(&k->p);
	sse_format_release(&k->f);
	sse_buf_release(&k->out);
}

SSE_HARNESS static void
formats(const char *s, size_t n, size_t step)
{
	static const char *const specs[] = {"json", "data"};
	struct fmt_sink a, b;
	size_t i;

	for (i = 0; i < 2; i++) {
		fmt_feed(&a, specs[i], true, step, s, n);
		fmt_feed(&b, specs[i], false, 0, s, n);
		if (a.out.len != b.out.len ||
		    (a.out.len > 0 && memcmp(a.out.p, b.out.p, a.out.len) != 0))
			abort(); /* runs formatted whole differ from events */
		fmt_release(&a);
		fmt_release(&b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t cut1 = 0, cut2 = 0, step = 1, max = 16;
	char err[64];

	if (!json_ready) {
		if (sse_format_init(&json_fmt, "json", err, sizeof(err)) != 0)
			abort();
		json_ready = true;
	}
	/* Split points and sizes from the first and last bytes, so that the
	 * fuzzer steers them too. */
	if (size > 0) {
		cut1 = ((size_t)data[0] * 131 + data[size - 1]) % (size + 1);
		cut2 = ((size_t)data[size - 1] * 257 + size) % (size + 1);
		step = 1 + (size_t)data[size / 2] % 64;
		max = 4 + (size_t)data[size - 1] % 256;
	}
	splits(s, size, 0, cut1, cut2, step);
	splits(s, size, max, cut1, cut2, step);
	round_trip(s, size);
	formats(s, size, size > 0 && data[0] % 2 ? step : 0);
	return 0;
}
