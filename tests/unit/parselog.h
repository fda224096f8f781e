/*
 * Test helper: run the parser over bytes split in a given way and record
 * everything it reports as one text log, so that tests compare logs and the
 * chunking property compares the logs of different splits.
 *
 * Log lines:
 *   TYPE{DATA}#ID      a dispatched event (ID followed by ! when
 *                      ev->has_id: the ID was set since the last event)
 *   retry=MS           a retry callback
 *   :TEXT              a comment callback
 *   ERR=STATUS         the sticky status feed returned, when not SSE_OK
 * Bytes below 0x20, backslash and DEL are escaped (\n, \r, \0, \\, \xNN).
 * With plain set, only TYPE{DATA}#ID lines (no !, retries or comments).
 * With rec_use_runs(), the events the parser hands over in runs are logged
 * one by one as any other, so that logs compare with and without runs.
 */
#ifndef SSE_PARSELOG_H
#define SSE_PARSELOG_H

/*
 * The fuzz target defines SSE_HARNESS to keep coverage instrumentation out
 * of the test helpers, so that the fuzzer steers by lib/ alone.
 */
#ifndef SSE_HARNESS
#define SSE_HARNESS
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "parser.h"
#include "serialize.h"

struct rec {
	struct sse_buf log;
	struct sse_parser p;
	int stop_after; /* abort from the event callback after this many */
	int nevents;
	bool plain;
	/* sse_parser_raw() spans seen, and those unlike sse_serialize's. */
	int nraw, raw_bad;
	struct sse_buf ser;
};

SSE_HARNESS static void
rec_esc(struct sse_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (u[i]) {
		case '\n':
			sse_buf_add(b, "\\n", 2);
			break;
		case '\r':
			sse_buf_add(b, "\\r", 2);
			break;
		case '\0':
			sse_buf_add(b, "\\0", 2);
			break;
		case '\\':
			sse_buf_add(b, "\\\\", 2);
			break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7F)
				sse_buf_addf(b, "\\x%02X", u[i]);
			else
				sse_buf_addch(b, (char)u[i]);
		}
	}
}

SSE_HARNESS static int
rec_log_event(struct rec *r, const struct sse_event *ev)
{
	rec_esc(&r->log, ev->type, ev->type_len);
	sse_buf_addch(&r->log, '{');
	rec_esc(&r->log, ev->data, ev->data_len);
	sse_buf_add(&r->log, "}#", 2);
	rec_esc(&r->log, ev->id, ev->id_len);
	sse_buf_addstr(&r->log, ev->has_id && !r->plain ? "!\n" : "\n");
	r->nevents++;
	return r->stop_after > 0 && r->nevents >= r->stop_after;
}

SSE_HARNESS static int
rec_event(void *ctx, const struct sse_event *ev)
{
	struct rec *r = ctx;
	const char *raw;
	size_t rlen;

	/* A raw span must be exactly what the serializer writes. */
	if ((raw = sse_parser_raw(&r->p, &rlen)) != NULL) {
		r->nraw++;
		sse_buf_reset(&r->ser);
		if (sse_serialize(&r->ser, ev, NULL) != SSE_OK ||
		    r->ser.len != rlen || memcmp(r->ser.p, raw, rlen) != 0)
			r->raw_bad++;
	}
	return rec_log_event(r, ev);
}

/*
 * The line of a run at s: prefix, then ASCII without CR or LF (or NUL,
 * for an id), then LF; returns the value's end (the LF), or NULL.
 */
SSE_HARNESS static const char *
rec_run_line(const char *s, const char *end, const char *prefix, bool id)
{
	size_t n = strlen(prefix);
	const char *v;

	if ((size_t)(end - s) < n + 1 || memcmp(s, prefix, n) != 0)
		return NULL;
	for (v = s + n; v < end && *v != '\n' && *v != '\r' &&
	     (unsigned char)*v < 0x80 && !(id && *v == '\0');
	     v++)
		;
	return v < end && *v == '\n' ? v : NULL;
}

/*
 * A run (sse_parser_set_run): each of its n events logged as rec_event
 * logs one, after checking that the span is n events each "event: T\n" (T
 * neither empty nor "message") or nothing, "id: I\n" or nothing, then
 * "data: D\n\n", with T, I and D ASCII and without CR or LF (I without
 * NUL), which is what sse_serialize writes for them; an event without an
 * id line has the last event ID before it; during the call the parser's
 * last event ID is still the one before the run (raw_bad counts spans
 * that are not so). The run's last I is checked to be the parser's last
 * event ID by the next event or run, which logs it.
 */
SSE_HARNESS static int
rec_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct rec *r = ctx;
	const char *s = raw, *end = raw + len, *e;
	struct sse_event ev;
	size_t k;
	int stop = 0;

	sse_event_init(&ev);
	ev.id = sse_parser_last_id(&r->p, &ev.id_len);
	for (k = 0; k < n && stop == 0; k++) {
		ev.type = SSE_DEFAULT_TYPE;
		ev.type_len = sizeof(SSE_DEFAULT_TYPE) - 1;
		if ((e = rec_run_line(s, end, "event: ", false)) != NULL) {
			ev.type = s + 7;
			ev.type_len = (size_t)(e - ev.type);
			if (ev.type_len == 0 ||
			    (ev.type_len == 7 &&
				memcmp(ev.type, "message", 7) == 0)) {
				r->raw_bad++;
				return 1;
			}
			s = e + 1;
		}
		ev.has_id = false;
		if ((e = rec_run_line(s, end, "id: ", true)) != NULL) {
			ev.has_id = true;
			ev.id = s + 4;
			ev.id_len = (size_t)(e - ev.id);
			s = e + 1;
		}
		if ((e = rec_run_line(s, end, "data: ", false)) == NULL ||
		    end - e < 2 || e[1] != '\n') {
			r->raw_bad++;
			return 1;
		}
		ev.data = s + 6;
		ev.data_len = (size_t)(e - ev.data);
		r->nraw++;
		stop = rec_log_event(r, &ev);
		s = e + 2;
	}
	if (stop == 0 && s != end)
		r->raw_bad++;
	return stop;
}

/* Take events in runs from now on (sse_parser_set_run). */
SSE_HARNESS static void
rec_use_runs(struct rec *r)
{
	sse_parser_set_run(&r->p, rec_run);
}

SSE_HARNESS static void
rec_retry(void *ctx, uint64_t ms)
{
	struct rec *r = ctx;

	if (r->plain)
		return;
	sse_buf_addf(&r->log, "retry=%llu\n", (unsigned long long)ms);
}

SSE_HARNESS static void
rec_comment(void *ctx, const char *text, size_t len)
{
	struct rec *r = ctx;

	if (r->plain)
		return;
	sse_buf_addch(&r->log, ':');
	rec_esc(&r->log, text, len);
	sse_buf_addch(&r->log, '\n');
}

SSE_HARNESS static void
rec_init(struct rec *r, size_t max_event)
{
	struct sse_parser_cb cb = {rec_event, rec_retry, rec_comment, r};

	memset(r, 0, sizeof(*r));
	sse_buf_init(&r->log, 0);
	sse_buf_init(&r->ser, 0);
	sse_parser_init(&r->p, &cb, max_event);
}

SSE_HARNESS static void
rec_release(struct rec *r)
{
	sse_parser_release(&r->p);
	sse_buf_release(&r->log);
	sse_buf_release(&r->ser);
}

/* Feed s[0..n) in pieces ending at the offsets cuts[0..ncuts). */
SSE_HARNESS static int
rec_feed_cuts(
    struct rec *r, const char *s, size_t n, const size_t *cuts, size_t ncuts)
{
	size_t i, at = 0, to;
	int rc = SSE_OK;

	for (i = 0; i <= ncuts && rc == SSE_OK; i++) {
		to = i < ncuts ? cuts[i] : n;
		rc = sse_parser_feed(&r->p, s ? s + at : s, to - at);
		at = to;
	}
	if (rc != SSE_OK)
		sse_buf_addf(&r->log, "ERR=%d\n", rc);
	return rc;
}

/* Feed s[0..n) in pieces of step bytes (step 0: whole). */
SSE_HARNESS static int
rec_feed_step(struct rec *r, const char *s, size_t n, size_t step)
{
	size_t at = 0, k;
	int rc = SSE_OK;

	if (step == 0)
		step = n ? n : 1;
	do {
		k = n - at < step ? n - at : step;
		rc = sse_parser_feed(&r->p, s ? s + at : s, k);
		at += k;
	} while (at < n && rc == SSE_OK);
	if (rc != SSE_OK)
		sse_buf_addf(&r->log, "ERR=%d\n", rc);
	return rc;
}

/* Whether r logged exactly want. */
SSE_HARNESS __attribute__((unused)) static bool
rec_log_is(const struct rec *r, const struct sse_buf *want)
{
	return r->log.len == want->len &&
	    (want->len == 0 || memcmp(r->log.p, want->p, want->len) == 0);
}

/*
 * One more way (*ways counts them) of feeding s[0..n) to a fresh parser of
 * cap max: in pieces ending at cuts[0..ncuts), or of step bytes when ncuts
 * is 0. Every other way takes "data: D\n\n" events in runs. Whether the log
 * is want and every raw span is what sse_serialize writes.
 */
SSE_HARNESS __attribute__((unused)) static bool
rec_agrees(const char *s, size_t n, size_t max, const size_t *cuts,
    size_t ncuts, size_t step, const struct sse_buf *want, size_t *ways)
{
	struct rec r;
	bool same;

	rec_init(&r, max);
	if (*ways % 2 == 1)
		rec_use_runs(&r);
	if (ncuts > 0)
		rec_feed_cuts(&r, s, n, cuts, ncuts);
	else
		rec_feed_step(&r, s, n, step);
	same = rec_log_is(&r, want) && r.raw_bad == 0;
	rec_release(&r);
	(*ways)++;
	return same;
}

#endif
