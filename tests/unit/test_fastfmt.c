/*
 * The fast paths of the json and data formats against the general ones,
 * byte for byte: sse_json_str() with room for the worst case (block scan)
 * against the same call near a buffer's cap (escape by escape) and a
 * byte-by-byte reference; the json format's object likewise; and
 * sse_format_run() on the parser's runs against sse_format_event() on the
 * same events one by one, on streams full of what is hard to get right.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "format.h"
#include "json.h"
#include "parser.h"
#include "record.h"
#include "utf8.h"
#include "jsoncheck.h"
#include "rnd.h"
#include "evmake.h"
#include "tap.h"

/* A receive time: 2026-12-09T01:02:03.456Z. */
#define T0 1796778123456LL

/* The json format's string, one byte (or UTF-8 sequence) at a time. */
static void
ref_json(struct sse_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, bad;

	sse_buf_addch(b, '"');
	while (i < len) {
		if (u[i] >= 0x80) {
			if ((n = sse_utf8_seq(u + i, len - i, &bad)) == 0) {
				sse_buf_add(b, "\xEF\xBF\xBD", 3);
				i += bad;
			} else if (n == 3 &&
			    memcmp(u + i, "\xE2\x80\xA8", 3) == 0) {
				sse_buf_addstr(b, "\\u2028");
				i += 3;
			} else if (n == 3 &&
			    memcmp(u + i, "\xE2\x80\xA9", 3) == 0) {
				sse_buf_addstr(b, "\\u2029");
				i += 3;
			} else {
				sse_buf_add(b, u + i, n);
				i += n;
			}
			continue;
		}
		switch (u[i]) {
		case '"':
			sse_buf_addstr(b, "\\\"");
			break;
		case '\\':
			sse_buf_addstr(b, "\\\\");
			break;
		case '\b':
			sse_buf_addstr(b, "\\b");
			break;
		case '\f':
			sse_buf_addstr(b, "\\f");
			break;
		case '\n':
			sse_buf_addstr(b, "\\n");
			break;
		case '\r':
			sse_buf_addstr(b, "\\r");
			break;
		case '\t':
			sse_buf_addstr(b, "\\t");
			break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7F)
				sse_buf_addf(b, "\\u%04x", u[i]);
			else
				sse_buf_addch(b, (char)u[i]);
		}
		i++;
	}
	sse_buf_addch(b, '"');
}

/*
 * s through the fast path (room to spare), the tight path (a buffer
 * capped at the exact length), read in place (sse_json_put_in, with 16
 * bytes after it that can be read, and with 15) and the reference: false
 * on a difference.
 */
static bool
json_same(const char *s, size_t len)
{
	struct sse_buf ref = SSE_BUF_INIT, fast = SSE_BUF_INIT, tight;
	char *in, *w, *put;
	size_t lim;
	bool same;

	ref_json(&ref, s, len);
	sse_buf_init(&tight, ref.len);
	sse_buf_addch(&fast, 'x'); /* appends after what is there */
	same = sse_json_str(&fast, s, len) == 0 &&
	    sse_json_str(&tight, s, len) == 0 && fast.len == ref.len + 1 &&
	    memcmp(fast.p + 1, ref.p, ref.len) == 0 && tight.len == ref.len &&
	    memcmp(tight.p, ref.p, ref.len) == 0 &&
	    json_valid(ref.p, ref.len) &&
	    json_decodes_to(ref.p, ref.len, s, len);
	for (lim = 15; lim <= 16 && same; lim++) {
		/* Exactly sized, so that ASan sees a read past lim. */
		in = malloc(len + lim);
		put = malloc(SSE_JSON_ROOM(len));
		if (in == NULL || put == NULL)
			same = false;
		else {
			if (len > 0)
				memcpy(in, s, len);
			memset(in + len, '"', lim);
			w = sse_json_put_in(put, in, len, in + len + lim);
			same = (size_t)(w - put) == ref.len &&
			    memcmp(put, ref.p, ref.len) == 0;
		}
		free(in);
		free(put);
	}
	sse_buf_release(&ref);
	sse_buf_release(&fast);
	sse_buf_release(&tight);
	return same;
}

static const char *const tricky[] = {
    "",
    "a",
    "message",
    "\"",
    "\\",
    "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
    "{\"seq\":1,\"msg\":\"tick tock\"}",
    "line one\nline two\r\nthree\rfour",
    "\x01\x02\x1F\x7F tab\there \b\f",
    "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87",
    "\xE2\x80\xA8 and \xE2\x80\xA9 and \xE2\x80\xAA",
    "\xFF\xFE bad \xC3 \xE2\x82 \xF0\x9F\x98 \xC0\xAF \xED\xA0\x80 \xF4\x90",
    "0123456789abcde\"",
    "0123456789abcdef\"",
    "0123456789abcdef0\"",
    ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\xE2\x80"
     "\xA8"),
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\\",
    ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\xF0\x9F"
     "\x98\x80tail"),
    ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345"
     "6789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\x01"),
};

static void
json_strings(void)
{
	static const unsigned char pick[] = {0x00, 0x01, 0x1F, 0x20, '"', '\\',
	    '/', 'a', 'z', 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2, 0xED,
	    0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F, 0x90, 0xA8, 0xA9,
	    '\n', '\r', '\t', 'x', 'y'};
	char *in;
	size_t i, n, k, off;
	int bad = 0;

	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		ok(json_same(tricky[i], strlen(tricky[i])),
		    "json string %zu: fast, tight and reference agree", i);
	ok(json_same("a\0b\0", 4), "NULs: fast, tight and reference agree");
	/* Every length around the 16- and 64-byte blocks, at every
	 * alignment, mostly plain with a few special bytes. */
	for (i = 0; i < 30000; i++) {
		n = rnd_below(i < 20000 ? 140 : 600);
		off = rnd_below(16);
		if ((in = malloc(n + off + 1)) == NULL)
			break;
		for (k = 0; k < n; k++)
			in[off + k] = (char)(rnd() % 4 == 0
				? pick[rnd_below(sizeof(pick))]
				: 'a' + (char)rnd_below(26));
		/* Exactly sized, so that ASan sees a read past the end. */
		if (!json_same(in + off, n))
			bad++;
		free(in);
	}
	ok(bad == 0,
	    "30000 random strings: fast, tight and reference agree "
	    "(%d differ)",
	    bad);
}

/* The json format's object: room to spare against a buffer capped. */
static void
json_objects(void)
{
	static const char *const types[] = {
	    "message", "messag", "messages", "a\"b", "\xE2\x80\xA8", ""};
	static const char *const ids[] = {"", "42", "a\"b\\c", "\x01", "\xFF"};
	struct sse_format f;
	struct sse_event ev;
	struct sse_buf fast = SSE_BUF_INIT, tight;
	size_t t, i, d;
	int bad = 0;

	sse_format_init(&f, "json", NULL, 0);
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			for (d = 0; d < sizeof(tricky) / sizeof(tricky[0]);
			     d++) {
				ev = ev_str(types[t], tricky[d], ids[i]);
				sse_buf_reset(&fast);
				if (sse_format_event(&f, &fast, &ev, T0) != 0) {
					bad++;
					continue;
				}
				sse_buf_init(&tight, fast.len);
				if (sse_format_event(&f, &tight, &ev, T0) !=
					0 ||
				    tight.len != fast.len ||
				    memcmp(tight.p, fast.p, fast.len) != 0 ||
				    !json_line_valid(fast.p, fast.len))
					bad++;
				sse_buf_release(&tight);
			}
	ok(bad == 0,
	    "json objects: room to spare and a buffer at the cap agree "
	    "(%d differ)",
	    bad);
	sse_buf_init(&tight, 20);
	ev = ev_str("message", "x", "");
	ok(sse_format_event(&f, &tight, &ev, T0) == SSE_ERR_TOO_BIG &&
		tight.len == 0,
	    "json object past the cap: too big, buffer unchanged");
	sse_buf_release(&tight);
	sse_buf_release(&fast);
	sse_format_release(&f);
}

/* Parse a stream, formatting each event, or each run, into out. */
struct sink {
	struct sse_parser p;
	struct sse_format f;
	struct sse_buf out;
	int err;
	bool split;
	int64_t now; /* when the bytes being fed were received */
	struct sse_run_event idx[8]; /* runs indexed, on some streams */
};

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct sink *k = ctx;

	if (sse_format_event(&k->f, &k->out, ev, k->now) != 0)
		k->err++;
	return 0;
}

/*
 * A run, formatted whole or, every other stream, a few bytes of output at
 * a time (as output.c goes on after writing a batch out).
 */
static int
on_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct sink *k = ctx;
	size_t idlen, taken, done, until = 0;
	const struct sse_run_event *x;
	const char *id;

	id = sse_parser_last_id(&k->p, &idlen);
	/* Indexed: formatted from the index, a batch at a time too. */
	x = sse_parser_run_index(&k->p);
	while (x != NULL && n > 0) {
		if (k->split)
			until = k->out.len + 1 + rnd_below(120);
		if (sse_format_run_index(&k->f, &k->out, raw, len, x, n, &id,
			&idlen, k->now, until, &done) != 0 ||
		    done == 0) {
			k->err++;
			return 0;
		}
		x += done;
		n -= done;
	}
	if (x != NULL)
		return 0;
	do {
		if (k->split)
			until = k->out.len + 1 + rnd_below(120);
		if (sse_format_run(&k->f, &k->out, raw, len, &id, &idlen,
			k->now, until, &taken) != 0 ||
		    taken == 0) {
			k->err++;
			return 0;
		}
		raw += taken;
		len -= taken;
	} while (len > 0);
	return 0;
}

static void
sink_run(struct sink *k, const char *fmt, bool runs, const char *s, size_t len,
    bool chunked)
{
	struct sse_parser_cb cb = {on_event, NULL, NULL, k};
	uint64_t cut; /* the reads' sizes: the same with runs and without */
	size_t i, n;

	sse_parser_init(&k->p, &cb, 0);
	sse_format_init(&k->f, fmt, NULL, 0);
	sse_buf_init(&k->out, 0);
	k->err = 0;
	k->split = rnd() % 2 == 0;
	cut = rnd64() | 1;
	if (runs)
		sse_parser_set_run(&k->p, on_run);
	/* Runs indexed, cut at 1 to 8 events, on some streams. */
	if (runs && cut % 3 != 0)
		sse_parser_set_run_index(
		    &k->p, k->idx, 1 + (size_t)(cut >> 7) % 8);
	for (i = 0; i < len; i += n) {
		cut ^= cut << 13;
		cut ^= cut >> 7;
		cut ^= cut << 17;
		n = chunked ? 1 + (size_t)(cut % 40) : len;
		if (n > len - i)
			n = len - i;
		/* Each read its own time, seconds apart now and then. */
		k->now = T0 + (int64_t)i * 37;
		if (sse_parser_feed(&k->p, s + i, n) != SSE_OK)
			k->err++;
	}
}

static void
sink_release(struct sink *k)
{
	sse_parser_release(&k->p);
	sse_format_release(&k->f);
	sse_buf_release(&k->out);
}

/* The stream s in format fmt, with runs and without: false on a
 * difference (or when no run came, if want_runs). */
static bool
runs_same(const char *fmt, const char *s, size_t len, bool chunked)
{
	struct sink a, b;
	bool same;
	uint64_t seed = rnd64();

	rnd_seed(seed);
	sink_run(&a, fmt, true, s, len, chunked);
	rnd_seed(seed);
	sink_run(&b, fmt, false, s, len, chunked);
	same = a.err == 0 && b.err == 0 && a.out.len == b.out.len &&
	    (a.out.len == 0 || memcmp(a.out.p, b.out.p, a.out.len) == 0);
	if (!same)
		printf("#   %s: with runs '%.*s' (%zu), without '%.*s' (%zu)\n",
		    fmt, (int)a.out.len, a.out.p, a.out.len, (int)b.out.len,
		    b.out.p, b.out.len);
	sink_release(&a);
	sink_release(&b);
	return same;
}

static const char *const pieces[] = {
    "data: {\"seq\":1,\"msg\":\"tick tock\"}\n\n",
    "data: x\n\n",
    "data: \n\n",
    "data:\n\n",
    "data:no space\n\n",
    "id: 7\ndata: \"q\"\n\n",
    "id: a\"b\\c\ndata: y\n\n",
    "id: \ndata: cleared\n\n",
    "id: 9\n\n",
    "id: n\0ul\ndata: z\n\n",
    "event: t\"y\ndata: typed\n\n",
    "event: message\ndata: m\n\n",
    "event: tick\nid: 5\ndata: typed, with an id\n\n",
    "event: tock\nid: \ndata: typed, id cleared\n\n",
    "event: \ndata: empty type\n\n",
    "event:nospace\ndata: q\n\n",
    "id: 3\nevent: late\ndata: id first\n\n",
    "event: a\nevent: b\ndata: two types\n\n",
    "event: t\nid: 4\n\n",
    "data: a\ndata: b\n\n",
    "data: crlf\r\n\r\n",
    "data: cr\r\r",
    "id: 1\rdata: after cr\n\n",
    "data: \xE2\x80\xA8\xE2\x80\xA9\n\n",
    "data: bad \xFF\xC3\n\n",
    "data: ctl \x01\t\x7F\b\n\n",
    ": comment\n",
    "retry: 5\n",
    ("data: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
     "ef0123456789\"\n\n"),
};

static void
runs(void)
{
	static const char *const fmts[] = {"json", "data", "data0", "raw"};
	struct sse_buf s = SSE_BUF_INIT;
	size_t f, i, k, n;
	int bad;

	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		bad = 0;
		for (i = 0; i < 3000; i++) {
			sse_buf_reset(&s);
			if (i % 7 == 0)
				sse_buf_addstr(&s, "\xEF\xBB\xBF");
			n = 1 + rnd_below(30);
			for (k = 0; k < n; k++) {
				const char *pc = pieces[rnd_below(
				    sizeof(pieces) / sizeof(pieces[0]))];
				/* "id: n\0ul" holds a NUL: its length. */
				sse_buf_add(
				    &s, pc, pc == pieces[9] ? 19 : strlen(pc));
			}
			if (!runs_same(fmts[f], s.p, s.len, i % 2 == 1))
				bad++;
		}
		ok(bad == 0,
		    "%s: 3000 streams, runs formatted whole and events one "
		    "by one agree (%d differ)",
		    fmts[f], bad);
	}
	sse_buf_release(&s);
}

#define ONE_A                                                                  \
	"{\"event\":\"message\",\"data\":\"a\",\"id\":\"i\","                  \
	"\"time\":\"2026-12-09T01:02:03.456Z\"}\n"

#define TA7 "{\"event\":\"t\",\"data\":\"a\",\"id\":\"7\","
#define B7 "{\"event\":\"message\",\"data\":\"b\",\"id\":\"7\","

static void
run_errors(void)
{
	struct sse_format f;
	struct sse_buf out = SSE_BUF_INIT, small;
	const char *id = "", *run;
	size_t taken, idl = 0;

	sse_format_init(&f, "json", NULL, 0);
	sse_buf_addstr(&out, "kept");
	ok(sse_format_run(&f, &out, "data: a\n\ndata: b\n", 17, &id, &idl, T0,
	       0, &taken) == SSE_ERR_INVALID &&
		out.len == 4 && taken == 0,
	    "run cut short: invalid, buffer unchanged");
	ok(sse_format_run(&f, &out, "data: a\n\nx", 10, &id, &idl, T0, 0,
	       &taken) == SSE_ERR_INVALID &&
		out.len == 4 && taken == 0,
	    "run with bytes of another shape: invalid, buffer unchanged");
	ok(sse_format_run(&f, &out,
	       "event: t\ndata: a\n\nid: 1\nevent: t\n"
	       "data: b\n\n",
	       37, &id, &idl, T0, 0, &taken) == SSE_ERR_INVALID &&
		out.len == 4 && taken == 0,
	    "run with an id before a type: invalid, buffer unchanged");
	id = "i";
	idl = 1;
	ok(sse_format_run(&f, &out, "data: a\n\ndata: b\n\n", 18, &id, &idl, T0,
	       5, &taken) == SSE_OK &&
		taken == 9 && out.len == 4 + sizeof(ONE_A) - 1 &&
		memcmp(out.p + 4, ONE_A, sizeof(ONE_A) - 1) == 0 && idl == 1 &&
		*id == 'i',
	    "until: one event past the mark, then it stops");
	run = "event: t\nid: 7\ndata: a\n\ndata: b\n\n";
	sse_buf_reset(&out);
	ok(sse_format_run(&f, &out, run, strlen(run), &id, &idl, T0, 5,
	       &taken) == SSE_OK &&
		taken == 24 && idl == 1 && id == run + 13,
	    "until: the last event ID after the events taken, for the next "
	    "call");
	ok(sse_format_run(&f, &out, run + taken, strlen(run) - taken, &id, &idl,
	       T0, 0, &taken) == SSE_OK &&
		taken == 9 && idl == 1 && id == run + 13 &&
		memmem(out.p, out.len, B7, sizeof(B7) - 1) != NULL &&
		memcmp(out.p, TA7, sizeof(TA7) - 1) == 0,
	    "and the next call goes on with it");
	sse_buf_init(&small, 80);
	ok(sse_format_run(&f, &small, "data: a\n\ndata: b\n\n", 18, &id, &idl,
	       T0, 0, &taken) == SSE_ERR_TOO_BIG &&
		small.len == 0 && taken == 0,
	    "run past the cap: too big, buffer unchanged");
	sse_buf_release(&small);
	sse_format_release(&f);
	sse_format_init(&f, "pretty", NULL, 0);
	ok(!sse_format_runs(&f) &&
		sse_format_run(&f, &out, "data: a\n\n", 9, &id, &idl, T0, 0,
		    &taken) == SSE_ERR_INVALID,
	    "pretty takes no runs");
	sse_format_release(&f);
	sse_buf_release(&out);
}

/*
 * The json format's time member and {time}, kept from one event to the
 * next, against sse_rec_time() for each time: the same millisecond, the
 * next ones, a new second, back in time, before 1970, a five-digit year.
 */
static void
times(void)
{
	static const int64_t ts[] = {T0, T0, T0 + 1, T0 + 543, T0 + 544,
	    T0 + 1000, T0 + 999, T0 - 86400000, 0, 999, -1, -1001,
	    253402300799999LL, 253402300800000LL, T0};
	struct sse_format f, tf;
	struct sse_buf out = SSE_BUF_INIT, want = SSE_BUF_INIT;
	struct sse_event ev = ev_str("message", "x", "");
	size_t i, pre, tl;
	int bad = 0;

	sse_format_init(&f, "json", NULL, 0);
	sse_format_init(&tf, "{time}|{json}", NULL, 0);
	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		sse_buf_reset(&want);
		sse_buf_addstr(&want,
		    "{\"event\":\"message\",\"data\":\"x\","
		    "\"id\":\"\",\"time\":\"");
		pre = want.len;
		sse_rec_time(&want, ts[i]);
		sse_buf_addstr(&want, "\"}\n");
		sse_buf_reset(&out);
		if (sse_format_event(&f, &out, &ev, ts[i]) != SSE_OK ||
		    out.len != want.len ||
		    memcmp(out.p, want.p, out.len) != 0) {
			printf("# %lld: '%.*s'\n", (long long)ts[i],
			    (int)out.len, out.p);
			bad++;
		}
		/* {time}|{json}: the same time, no LF. */
		tl = want.len - pre - 3;
		sse_buf_reset(&out);
		if (sse_format_event(&tf, &out, &ev, ts[i]) != SSE_OK ||
		    out.len != tl + want.len ||
		    memcmp(out.p, want.p + pre, tl) != 0 || out.p[tl] != '|' ||
		    memcmp(out.p + tl + 1, want.p, want.len - 1) != 0)
			bad++;
	}
	ok(bad == 0,
	    "json time member and {time} as sse_rec_time() writes "
	    "them, from one time to the next (%d differ)",
	    bad);
	sse_format_release(&f);
	sse_format_release(&tf);
	sse_buf_release(&out);
	sse_buf_release(&want);
}

int
main(void)
{
	rnd_seed(0x5DEECE66Du);
	json_strings();
	json_objects();
	runs();
	run_errors();
	times();
	return done_testing();
}
