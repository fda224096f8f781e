/*
 * Parser micro-benchmark (not part of make check): parse a large in-memory
 * text/event-stream in 64 KiB chunks, as sse listen gets it from libcurl,
 * and compare with memchr for LF over the same buffer in the same chunks,
 * the floor for any line-based parser. Also parse + format (raw, data,
 * json) into an output buffer flushed every 64 KiB, as listen writes;
 * raw-copy is raw copying sse_parser_raw() spans where there are some;
 * raw-run also takes runs of "data: D\n\n" events as spans
 * (sse_parser_set_run), as sse listen relays a stream.
 *
 *   make parse-bench     (or build/bench/parse_bench [MiB [WHAT]], WHAT
 *                        one of parse, raw, raw-copy, raw-run, data, json:
 *                        that row alone)
 *
 * Prints MB/s, events/s and the ratio to memchr; best of 5 runs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "format.h"
#include "parser.h"

#define CHUNK (64 * 1024)
#define RUNS 5

struct sink {
	uint64_t events, bytes;
	struct sse_format *fmt;
	struct sse_buf out;
	struct sse_parser *p; /* raw format: copy sse_parser_raw() spans */
};

/*
 * What sse listen does with a full output buffer: write it out (here only
 * its last byte is read, so that the compiler keeps the formatting).
 */
static void
sink_flush(struct sink *k)
{
	if (k->out.len >= CHUNK) {
		k->bytes += (unsigned char)k->out.p[k->out.len - 1];
		sse_buf_reset(&k->out);
	}
}

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct sink *k = ctx;

	k->events++;
	k->bytes += ev->data_len + ev->type_len + ev->id_len;
	if (k->fmt != NULL) {
		const char *raw = NULL;
		size_t rlen = 0;

		if (k->p != NULL)
			raw = sse_parser_raw(k->p, &rlen);
		if (raw != NULL) {
			if (sse_buf_add(&k->out, raw, rlen) != 0)
				return 1;
		} else if (sse_format_event(k->fmt, &k->out, ev, 0) != SSE_OK)
			return 1;
		sink_flush(k);
	}
	return 0;
}

/*
 * Fill buf with whole events made from the shape, each '#' in it replaced
 * by a number (the event's sequence number, then other numbers); returns
 * the length.
 */
static size_t
make_stream(char *buf, size_t cap, const char *shape, uint64_t *nevents)
{
	char num[32], ev[256];
	size_t len = 0, n, k;
	const char *c;
	uint64_t v;

	for (*nevents = 0;; (*nevents)++) {
		v = *nevents;
		for (n = 0, c = shape; *c != '\0' && n < sizeof(ev) - 32; c++) {
			if (*c != '#') {
				ev[n++] = *c;
				continue;
			}
			k = (size_t)snprintf(
			    num, sizeof(num), "%llu", (unsigned long long)v);
			memcpy(ev + n, num, k);
			n += k;
			v = v * 7919 + 13;
		}
		if (n > cap - len)
			return len;
		memcpy(buf + len, ev, n);
		len += n;
	}
}

static double
run_memchr(const char *buf, size_t len, uint64_t *lines)
{
	double t0 = mono_s();
	const char *p, *end, *q;
	size_t off, n;

	*lines = 0;
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		p = buf + off;
		end = p + n;
		while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			(*lines)++;
			p = q + 1;
		}
	}
	return mono_s() - t0;
}

static int
on_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct sink *k = ctx;

	k->events += n;
	if (sse_buf_add(&k->out, raw, len) != 0)
		return 1;
	sink_flush(k);
	return 0;
}

/* copy: 1 copies sse_parser_raw() spans, 2 also takes runs. */
static double
run_parser(const char *buf, size_t len, struct sse_format *fmt, int copy,
    uint64_t *events)
{
	struct sink k = {0, 0, fmt, SSE_BUF_INIT, NULL};
	struct sse_parser_cb cb = {on_event, NULL, NULL, &k};
	struct sse_parser p;
	double t0;
	size_t off, n;

	sse_buf_init(&k.out, 0);
	sse_parser_init(&p, &cb, 0);
	if (fmt != NULL && fmt->kind == SSE_FMT_RAW && copy > 0)
		k.p = &p;
	if (k.p != NULL && copy > 1)
		sse_parser_set_run(&p, on_run);
	t0 = mono_s();
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		if (sse_parser_feed(&p, buf + off, n) != SSE_OK) {
			fprintf(stderr, "parse_bench: parser error\n");
			exit(1);
		}
	}
	t0 = mono_s() - t0;
	sse_parser_release(&p);
	sse_buf_release(&k.out);
	*events = k.events;
	return t0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name, *shape;
	} shapes[] = {
	    {"small json events",
		"id: #\ndata: {\"seq\":#,\"msg\":\"hello world\"}\n\n"},
	    {"tiny events", "data: # #\n\n"},
	    {"typed, CRLF", "event: tick\r\nid: #\r\ndata: #\r\n\r\n"},
	    {"3-line data", "data: #\ndata: line two\ndata: #\n\n"},
	};
	static const char *fmts[] = {
	    "raw", "raw-copy", "raw-run", "data", "json"};
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, len, i, f;
	const char *only = argc > 2 ? argv[2] : NULL;
	uint64_t nev, got, lines;
	double t, tm, tp;
	struct sse_format fmt;
	char err[128], *buf;
	int copy;
	int r;

	if (mib == 0)
		mib = 64;
	if ((buf = malloc(mib << 20)) == NULL)
		return 1;
	printf("%-18s %-8s %9s %12s %9s\n", "stream", "what", "MB/s",
	    "events/s", "/memchr");
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		len = make_stream(buf, mib << 20, shapes[i].shape, &nev);
		for (tm = 1e9, r = 0; r < RUNS; r++)
			if ((t = run_memchr(buf, len, &lines)) < tm)
				tm = t;
		printf("%-18s %-8s %9.0f %12s %9s\n", shapes[i].name, "memchr",
		    (double)len / tm / 1e6, "", "1.00");
		for (tp = 1e9, r = 0; r < RUNS; r++) {
			if (only != NULL && strcmp(only, "parse") != 0)
				break;
			if ((t = run_parser(buf, len, NULL, false, &got)) < tp)
				tp = t;
		}
		if (r > 0 && got != nev) {
			fprintf(stderr, "parse_bench: %llu events, want %llu\n",
			    (unsigned long long)got, (unsigned long long)nev);
			return 1;
		}
		printf("%-18s %-8s %9.0f %12.0f %9.2f\n", shapes[i].name,
		    "parse", (double)len / tp / 1e6, (double)nev / tp, tm / tp);
		for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			if (only != NULL && strcmp(only, fmts[f]) != 0)
				continue;
			copy = strcmp(fmts[f], "raw-copy") == 0 ? 1
			    : strcmp(fmts[f], "raw-run") == 0	? 2
								: 0;
			if (sse_format_init(&fmt, copy ? "raw" : fmts[f], err,
				sizeof(err)) != 0)
				return 1;
			for (tp = 1e9, r = 0; r < RUNS; r++)
				if ((t = run_parser(
					 buf, len, &fmt, copy, &got)) < tp)
					tp = t;
			if (got != nev) {
				fprintf(stderr,
				    "parse_bench: %s: %llu events, want %llu\n",
				    fmts[f], (unsigned long long)got,
				    (unsigned long long)nev);
				return 1;
			}
			sse_format_release(&fmt);
			printf("%-18s +%-7s %9.0f %12.0f %9.2f\n",
			    shapes[i].name, fmts[f], (double)len / tp / 1e6,
			    (double)nev / tp, tm / tp);
		}
	}
	free(buf);
	return 0;
}
