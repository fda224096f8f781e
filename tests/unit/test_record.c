/* lib/record.c: the recording format's writers, base64, and reader checks. */
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "evmake.h"
#include "tap.h"

#define event(t, d, id, r) ev_make((t), (d), strlen(d), (id), (r))

#define IS(b, want, name) is_mem((b).p, (b).len, want, strlen(want), name)

static void
test_writers(void)
{
	struct sse_buf b;
	struct sse_event ev;
	const char *hdrs[] = {
	    "Content-Type: text/event-stream", "X-Quote: \"q\""};

	sse_buf_init(&b, 0);
	ok(sse_rec_header(&b, "http://h/e?a=\"1\"", NULL, 1763727330123LL) == 0,
	    "header written");
	IS(b,
	    "{\"format\":\"sse-recording\",\"version\":1,"
	    "\"url\":\"http://h/e?a=\\\"1\\\"\","
	    "\"start\":\"2025-11-21T12:15:30.123Z\"}\n",
	    "header: format, version, url (escaped), start in ISO 8601 UTC");

	sse_buf_reset(&b);
	sse_rec_open(&b, 3, 200, hdrs, 2);
	IS(b,
	    "{\"t\":3,\"open\":200,\"headers\":[\"Content-Type: "
	    "text/event-stream\",\"X-Quote: \\\"q\\\"\"]}\n",
	    "open: status and header lines in order");
	sse_buf_reset(&b);
	sse_rec_open(&b, 0, 204, NULL, 0);
	IS(b, "{\"t\":0,\"open\":204,\"headers\":[]}\n", "open: no headers");

	sse_buf_reset(&b);
	ev = event(NULL, "hello", NULL, -1);
	sse_rec_event(&b, 5, &ev);
	IS(b, "{\"t\":5,\"event\":\"message\",\"data\":\"hello\"}\n",
	    "event: no id field, no retry");

	sse_buf_reset(&b);
	ev = event("tick", "a\nb\t\"c\"", "7", 3000);
	sse_rec_event(&b, 1234567, &ev);
	IS(b,
	    "{\"t\":1234567,\"event\":\"tick\",\"data\":\"a\\nb\\t\\\"c\\\"\","
	    "\"id\":\"7\",\"retry\":3000}\n",
	    "event: type, escaped multi-line data, id and retry");

	sse_buf_reset(&b);
	ev = event(NULL, "", "", -1);
	sse_rec_event(&b, 0, &ev);
	IS(b, "{\"t\":0,\"event\":\"message\",\"data\":\"\",\"id\":\"\"}\n",
	    "event: an empty id field is kept (it resets the last event ID)");

	sse_buf_reset(&b);
	sse_rec_retry(&b, 9, 500);
	IS(b, "{\"t\":9,\"retry\":500}\n", "retry alone");

	sse_buf_reset(&b);
	sse_rec_close(&b, 900, "eof");
	IS(b, "{\"t\":900,\"close\":\"eof\"}\n", "close with its reason");

	sse_buf_reset(&b);
	sse_rec_chunk(&b, 12, "data: \xc3\xa9\r\n\r\n", 12);
	IS(b, "{\"t\":12,\"chunk\":\"data: \xc3\xa9\\r\\n\\r\\n\"}\n",
	    "chunk: UTF-8 bytes as a JSON string");
	sse_buf_reset(&b);
	sse_rec_chunk(&b, 13, "d\xff\xfe", 3);
	IS(b, "{\"t\":13,\"chunk64\":\"ZP/+\"}\n",
	    "chunk: invalid UTF-8 as base64, so no byte is lost");
	sse_buf_release(&b);

	sse_buf_init(&b, 10);
	ev = event(NULL, "this is longer than the cap", NULL, -1);
	ok(sse_rec_event(&b, 1, &ev) == -1 && b.len == 0,
	    "a line past the buffer cap is refused whole (no partial line)");
	sse_buf_release(&b);
}

static void
test_base64(void)
{
	static const char *const plain[] = {
	    "", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {
	    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *const bad[] = {
	    "Zg=", "Z===", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm=v"};
	struct sse_buf b;
	unsigned char all[256];
	size_t i;
	int good = 1;

	sse_buf_init(&b, 0);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		sse_buf_reset(&b);
		sse_base64_encode(&b, plain[i], strlen(plain[i]));
		good &= b.len == strlen(enc[i]) &&
		    memcmp(b.p ? b.p : "", enc[i], b.len) == 0;
		sse_buf_reset(&b);
		good &= sse_base64_decode(&b, enc[i], strlen(enc[i])) == 0 &&
		    b.len == strlen(plain[i]) &&
		    memcmp(b.p ? b.p : "", plain[i], b.len) == 0;
	}
	ok(good, "RFC 4648 section 10 test vectors, both ways");
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	sse_buf_reset(&b);
	sse_base64_encode(&b, all, sizeof(all));
	{
		struct sse_buf d;

		sse_buf_init(&d, 0);
		ok(sse_base64_decode(&d, b.p, b.len) == 0 &&
			d.len == sizeof(all) &&
			memcmp(d.p, all, sizeof(all)) == 0,
		    "every byte value round-trips");
		sse_buf_release(&d);
	}
	good = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sse_buf_reset(&b);
		good &= sse_base64_decode(&b, bad[i], strlen(bad[i])) == -1 &&
		    b.len == 0;
	}
	ok(good, "bad length, padding or alphabet is refused, out unchanged");
	sse_buf_release(&b);
}

static struct sse_rec_entry
entry(enum sse_rec_kind kind, int64_t t)
{
	struct sse_rec_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.t = t;
	e.version = 1;
	e.status = 200;
	sse_event_init(&e.ev);
	return e;
}

static void
test_check(void)
{
	struct sse_rec_check c;
	struct sse_rec_entry e;

	sse_rec_check_init(&c);
	e = entry(SSE_REC_EVENT, 0);
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "no header") != NULL,
	    "an entry before the header: '%s'", c.err);
	e = entry(SSE_REC_HEADER, 0);
	e.version = 2;
	ok(sse_rec_check(&c, &e) == -1 &&
		strstr(c.err, "unsupported version 2") != NULL,
	    "a newer version is refused by name: '%s'", c.err);
	e.version = 1;
	ok(sse_rec_check(&c, &e) == 0, "header version 1");
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "second header"),
	    "a second header is refused");
	e = entry(SSE_REC_OPEN, 10);
	ok(sse_rec_check(&c, &e) == 0, "open at 10");
	e = entry(SSE_REC_EVENT, 10);
	ok(sse_rec_check(&c, &e) == 0, "an event at the same offset");
	e = entry(SSE_REC_EVENT, 9);
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "goes back") &&
		strstr(c.err, "previous line: 10"),
	    "an offset that goes back names both: '%s'", c.err);
	e = entry(SSE_REC_CLOSE, -1);
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "negative"),
	    "a negative offset");
	e = entry(SSE_REC_OPEN, 11);
	e.status = 42;
	ok(sse_rec_check(&c, &e) == -1, "an open status that is not HTTP");
	e = entry(SSE_REC_EVENT, 11);
	e.ev.type = "a\nb";
	e.ev.type_len = 3;
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "\"event\""),
	    "an event type with LF would inject a field");
	e = entry(SSE_REC_EVENT, 11);
	e.ev.id = "1\r";
	e.ev.id_len = 2;
	e.ev.has_id = true;
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "\"id\""),
	    "an id with CR would inject a field");
	e.ev.id = "1\0002";
	e.ev.id_len = 3;
	ok(sse_rec_check(&c, &e) == -1 && strstr(c.err, "NUL"),
	    "an id with NUL is refused (the standard ignores such ids)");
	e = entry(SSE_REC_RETRY, 12);
	e.ev.retry = -5;
	ok(sse_rec_check(&c, &e) == -1, "a negative retry");
	e.ev.retry = 0;
	ok(sse_rec_check(&c, &e) == 0, "retry 0 is fine");
	e = entry(SSE_REC_CHUNK, 12);
	ok(sse_rec_check(&c, &e) == 0 && c.last_t == 12,
	    "a chunk; failures are not sticky");
}

static void
test_time(void)
{
	struct sse_buf b;

	sse_buf_init(&b, 0);
	sse_rec_time(&b, 0);
	sse_buf_addch(&b, ' ');
	sse_rec_time(&b, 951782400999LL);
	IS(b, "1970-01-01T00:00:00.000Z 2000-02-29T00:00:00.999Z",
	    "ISO 8601 UTC with milliseconds, leap day included");
	sse_buf_release(&b);
}

/* Reads line (NUL-free here) with the fast reader; 1 when taken. */
static int
read_ev(const char *line, struct sse_rec_entry *e, struct sse_buf *b)
{
	return sse_rec_read_event(line, strlen(line), e, b);
}

static void
test_read_event(void)
{
	static const char *const not_mine[] = {
	    "{\"t\": 1,\"event\":\"a\",\"data\":\"b\"}", /* a blank */
	    "{\"t\":1,\"data\":\"b\",\"event\":\"a\"}", /* order */
	    "{\"t\":01,\"event\":\"a\",\"data\":\"b\"}", /* leading 0 */
	    "{\"t\":-1,\"event\":\"a\",\"data\":\"b\"}",
	    "{\"t\":1234567890123456789,\"event\":\"\",\"data\":\"\"}",
	    "{\"t\":1,\"event\":\"\\ud800\",\"data\":\"b\"}", /* lone */
	    "{\"t\":1,\"event\":\"a\",\"data\":\"\xff\"}", /* not UTF-8 */
	    "{\"t\":1,\"event\":\"a\",\"data\":\"\t\"}", /* raw TAB */
	    "{\"t\":1,\"event\":\"a\",\"data\":\"\\x\"}", /* bad escape */
	    "{\"t\":1,\"event\":\"a\",\"data\":\"b\",\"x\":1}", /* key */
	    "{\"t\":1,\"event\":\"a\",\"data\":\"b\"} ", /* after */
	    "{\"t\":1,\"event\":\"a\",\"data64\":\"Yg==\"}",
	    "{\"t\":1,\"open\":200}",
	    "{\"t\":1,\"retry\":5}",
	    "",
	};
	struct sse_rec_entry e;
	struct sse_event ev;
	struct sse_buf b, line;
	size_t i;

	sse_buf_init(&b, 0);
	sse_buf_init(&line, 0);
	ev = ev_str("up\u00e9", "a \"b\"\n\\c\x01\U0001F600", "7");
	ev.retry = 2500;
	ok(sse_rec_event(&line, 42, &ev) == 0, "writer");
	ok(sse_rec_read_event(line.p, line.len - 1, &e, &b) == 1 &&
		e.kind == SSE_REC_EVENT && e.t == 42 && e.ev.retry == 2500 &&
		e.ev.has_id && e.ev.id_len == 1 && e.ev.id[0] == '7' &&
		e.ev.type_len == ev.type_len &&
		memcmp(e.ev.type, ev.type, ev.type_len) == 0 &&
		e.ev.data_len == ev.data_len &&
		memcmp(e.ev.data, ev.data, ev.data_len) == 0,
	    "the writer's line reads back without a JSON tree");
	ok(read_ev("{\"t\":0,\"event\":\"\",\"data\":\"\"}", &e, &b) == 1 &&
		e.ev.type_len == 7 && memcmp(e.ev.type, "message", 7) == 0 &&
		e.ev.data_len == 0 && !e.ev.has_id && e.ev.retry == -1,
	    "an empty type is message; no id, no retry");
	ok(read_ev("{\"t\":3,\"event\":\"a\",\"data\":\"\\ud83d\\ude00\\u00e9"
		   "\\/\"}",
	       &e, &b) == 1 &&
		e.ev.data_len == 7 &&
		memcmp(e.ev.data, "\xf0\x9f\x98\x80\xc3\xa9/", 7) == 0,
	    "a surrogate pair, \\u00e9 and \\/ decode");
	for (i = 0; i < sizeof(not_mine) / sizeof(not_mine[0]); i++)
		ok(read_ev(not_mine[i], &e, &b) == 0,
		    "left to the JSON reader: %s", not_mine[i]);
	sse_buf_release(&b);
	sse_buf_release(&line);
}

int
main(void)
{
	test_read_event();
	test_writers();
	test_base64();
	test_check();
	test_time();
	return done_testing();
}
