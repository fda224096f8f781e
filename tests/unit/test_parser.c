/*
 * The event stream parser against the WHATWG HTML Standard, section 9.2
 * "Server-sent events": 9.2.5 "Parsing an event stream" (PARSE below) and
 * 9.2.6 "Interpreting an event stream" (INTERPRET below), plus the
 * parsing cases of web-platform-tests eventsource/format-*.any.js (each
 * named by its file). Where the standard leaves a corner open we follow
 * Chromium's EventSource (third_party/blink/renderer/modules/eventsource/
 * event_source_parser.cc) and say so.
 *
 * Every case is also run split at every offset, byte by byte, and (for
 * short inputs) at every pair of offsets, and must give the same log: the
 * chunking invariance property, case by case (every other way of them
 * with runs, sse_parser_set_run). Logs are described in
 * parselog.h: TYPE{DATA}#ID (! when the event had an id field), retry=MS,
 * :COMMENT, ERR=STATUS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "parselog.h"
#include "tap.h"

#define PARSE "PARSE: "
#define INTERPRET "INTERPRET: "
#define WPT "WPT eventsource/"

/*
 * The log of s fed whole, then checked against every other way of cutting
 * it up. Returns the whole-feed log in *out (caller releases).
 */
static bool
all_splits_agree(
    const char *s, size_t n, size_t max, struct sse_buf *out, size_t *nsplits)
{
	struct rec r;
	size_t cuts[2], i, j;
	bool same;

	rec_init(&r, max);
	rec_feed_step(&r, s, n, 0);
	sse_buf_set(out, r.log.p, r.log.len);
	rec_release(&r);
	*nsplits = 1;
	same = rec_agrees(s, n, max, NULL, 0, 1, out, nsplits);
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		same &= rec_agrees(s, n, max, cuts, 1, 0, out, nsplits);
	}
	if (n <= 48)
		for (i = 0; i <= n; i++)
			for (j = i; j <= n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				same &= rec_agrees(
				    s, n, max, cuts, 2, 0, out, nsplits);
			}
	return same;
}

static void
parse_is_max(
    const char *s, size_t n, size_t max, const char *want, const char *name)
{
	struct sse_buf log = SSE_BUF_INIT;
	size_t nsplits;
	bool same;

	same = all_splits_agree(s, n, max, &log, &nsplits);
	is_mem(log.p, log.len, want, strlen(want), name);
	ok(same, "  same log whatever the chunking (%zu ways)", nsplits);
	sse_buf_release(&log);
}

/* s fed in two pieces, cut at offset cut, as a network read would cut it. */
static void
cut_is(const char *s, size_t n, size_t cut, const char *want, const char *name)
{
	struct rec r;

	rec_init(&r, 0);
	rec_feed_cuts(&r, s, n, &cut, 1);
	is_mem(r.log.p, r.log.len, want, strlen(want), name);
	rec_release(&r);
}

/* s is a string literal (it may hold NULs); want is the expected log. */
#define T(s, want, name) parse_is_max(s, sizeof(s) - 1, 0, want, name)
#define TMAX(s, max, want, name) parse_is_max(s, sizeof(s) - 1, max, want, name)
#define TCUT(s, cut, want, name) cut_is(s, sizeof(s) - 1, cut, want, name)

/*
 * Several streams on one parser, sse_parser_end() between them: how a
 * client sees reconnections. streams is a NULL-terminated list.
 */
static void
streams_are(const char *const *streams, const char *want, const char *name)
{
	struct rec r;
	size_t i;

	rec_init(&r, 0);
	for (i = 0; streams[i] != NULL; i++) {
		rec_feed_step(&r, streams[i], strlen(streams[i]), 0);
		sse_parser_end(&r.p);
	}
	is_mem(r.log.p, r.log.len, want, strlen(want), name);
	rec_release(&r);
}

#define STREAMS(want, name, ...)                                               \
	streams_are((const char *const[]){__VA_ARGS__, NULL}, want, name)

static void
line_endings(void)
{
	T("data:a\n\n", "message{a}#\n", PARSE "a line ends at LF (U+000A)");
	T("data:a\r\n\r\n", "message{a}#\n",
	    PARSE "a line ends at CRLF, the pair counts once");
	T("data:a\r\r", "message{a}#\n",
	    PARSE "a line ends at a lone CR (U+000D)");
	T("data:a\rdata:b\ndata:c\r\n\r\n", "message{a\\nb\\nc}#\n",
	    PARSE "CR, LF and CRLF mixed in one stream");
	T("data:a\r\ndata:b\r\n\r\n", "message{a\\nb}#\n",
	    PARSE "CRLF is one line end, not a line end and a blank line");
	T("data:a\n\rdata:b\n\n", "message{a}#\nmessage{b}#\n",
	    PARSE "LF then CR is two line ends (a blank line)");
	T("data:a\r\r\n\r\n", "message{a}#\n",
	    PARSE "CR CR LF: the LF goes with the second CR");
	T("\r\n\r\n\n\r", "", INTERPRET "blank lines alone dispatch nothing");
	/* The split CRLF by hand (the cases above are split every way too). */
	TCUT("data:a\r\ndata:b\r\n\r\n", 7, "message{a\\nb}#\n",
	    PARSE "CRLF split across two feeds is still one line end");
	T("data:test\r\ndata\ndata:test\r\n\r\n", "message{test\\n\\ntest}#\n",
	    WPT "format-newlines.any.js");
}

static void
bom(void)
{
	T("\xEF\xBB\xBF"
	  "data:a\n\n",
	    "message{a}#\n", PARSE "one leading BOM is ignored (UTF-8 decode)");
	T("\xEF\xBB\xBF\n"
	  "data:a\n\n",
	    "message{a}#\n", PARSE "a BOM then at once a line end");
	T("\xEF\xBB\xBF"
	  "data:1\n\n\xEF\xBB\xBF"
	  "data:2\n\ndata:3\n\n\n",
	    "message{1}#\nmessage{3}#\n",
	    WPT "format-bom.any.js: a BOM later on is part of a field name");
	T("\xEF\xBB\xBF\xEF\xBB\xBF"
	  "data:1\n\ndata:2\n\ndata:3\n\n\n",
	    "message{2}#\nmessage{3}#\n",
	    WPT "format-bom-2.any.js: only one BOM is ignored");
	T("\n\xEF\xBB\xBF"
	  "data:a\n\n",
	    "", PARSE "a BOM after the first line is not ignored");
	T(":\xEF\xBB\xBF\n", ":\xEF\xBB\xBF\n",
	    PARSE "a BOM inside a comment is text");
	T("\xEF\xBB"
	  "data:a\n\n",
	    "", PARSE "half a BOM is a U+FFFD in the field name");
	STREAMS("message{a}#\nmessage{b}#\n",
	    PARSE "each stream may start with a BOM (after sse_parser_end)",
	    "\xEF\xBB\xBF"
	    "data:a\n\n",
	    "\xEF\xBB\xBF"
	    "data:b\n\n");
	STREAMS("",
	    PARSE "a CR ending one stream does not eat the next one's "
		  "first LF (so a BOM after it is not at the start)",
	    "x\r",
	    "\n\xEF\xBB\xBF"
	    "data:b\n\n");
}

static void
fields(void)
{
	T("data:a:b: c\n\n", "message{a:b: c}#\n",
	    INTERPRET "the field name ends at the first colon");
	T("data: a\n\n", "message{a}#\n",
	    INTERPRET "one leading space is removed from the value");
	T("data:  a\n\n", "message{ a}#\n",
	    INTERPRET "only one leading space is removed");
	T("data:\ta\n\n", "message{\\x09a}#\n",
	    INTERPRET "a leading tab is not a space");
	T("data:a \n\n", "message{a }#\n",
	    INTERPRET "trailing spaces are kept");
	T("data:\ttest\rdata: \ndata:test\n\n\n",
	    "message{\\x09test\\n\\ntest}#\n",
	    WPT "format-leading-space.any.js");
	T("data\n\n", "message{}#\n",
	    INTERPRET "no colon: the whole line is the field name, the value "
		      "is empty");
	T("data:\n\ndata\ndata\n\ndata:test\n\n\n",
	    "message{}#\nmessage{\\n}#\nmessage{test}#\n",
	    WPT "format-field-data.any.js");
	T("data:a\ndata:\ndata:b\n\n", "message{a\\n\\nb}#\n",
	    INTERPRET "data: append the value, then an LF, to the data buffer");
	T("data:a\ndata:\n\n", "message{a\\n}#\n",
	    INTERPRET "dispatch step 3: only the last LF is removed");
	T(" data:x\n\n", "", INTERPRET "' data' is not 'data'");
	T("Data:x\nDATA:y\n\n", "",
	    INTERPRET "field names are compared exactly (case matters)");
	T("foo:bar\nfoo\ndata:x\n\n", "message{x}#\n",
	    INTERPRET "unknown fields are ignored");
	T("data:test\n "
	  "data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\n"
	  "data:test\n\n\n",
	    ":thisisacommentyay\nmessage{test\\n\\ntest}#\n",
	    WPT "format-field-unknown.any.js");
	T("data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\r"
	  "data_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
	    "message{\\0\\n 2\\n1\\n3\\n\\n4}#\n",
	    WPT "format-field-parsing.any.js");
	T("data:\0\n\n\n\n\n", "message{\\0}#\n",
	    WPT "format-null-character.any.js: NUL is data");
	T("data:1\r:\0\n:\r\ndata:2\n:"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "\rdata:3\n:data:fail\r:"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "\ndata:4\n\n",
	    ":\\0\n:\n:"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\n:data:fail\n:"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\nmessage{1\\n2\\n3\\n4}#\n",
	    WPT "format-comments.any.js (2 KiB comments cut to 64 bytes)");
}

static void
comments(void)
{
	T(": hello\n", ": hello\n",
	    INTERPRET "a line starting with a colon is a comment (callback "
		      "gets it without the colon)");
	T(":\n", ":\n", INTERPRET "an empty comment");
	T("data:a\n:c\ndata:b\n\n", ":c\nmessage{a\\nb}#\n",
	    INTERPRET "a comment inside an event changes nothing");
	T(":data:x\n\n", ":data:x\n", INTERPRET "a comment is never a field");
	T(":\xFF\n", ":\xEF\xBF\xBD\n",
	    PARSE "comments are decoded as UTF-8 too");
}

static void
event_type(void)
{
	T("event:test\ndata:x\n\ndata:x\n\n\n", "test{x}#\nmessage{x}#\n",
	    WPT "format-field-event.any.js: the type is reset after dispatch");
	T("event: \ndata:data\n\n\n", "message{data}#\n",
	    WPT "format-field-event-empty.any.js");
	T("data:x\n\n", "message{x}#\n",
	    INTERPRET "dispatch step 5: the type is 'message' by default");
	T("event:a\n\ndata:x\n\n", "message{x}#\n",
	    INTERPRET "dispatch step 2: an empty data buffer also resets the "
		      "event type buffer");
	T("event:a\nevent:b\ndata:x\n\n", "b{x}#\n",
	    INTERPRET "event: set the event type buffer (last one wins)");
	T("event\ndata:x\n\n", "message{x}#\n",
	    INTERPRET "'event' without a value: empty type, so 'message'");
	T("event:\xC3\xA9t\xC3\xA9\ndata:x\n\n", "\xC3\xA9t\xC3\xA9{x}#\n",
	    INTERPRET "a non-ASCII event type");
}

static void
ids(void)
{
	T("id: 1\ndata:x\n\n", "message{x}#1!\n",
	    INTERPRET "id: set the last event ID buffer; dispatch step 1 sets "
		      "the last event ID string");
	T("id: 1\ndata: 1\n\ndata:2\n\n", "message{1}#1!\nmessage{2}#1\n",
	    WPT "format-field-id-3.window.js (persists)");
	T("id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
	    "message{1}#1!\nmessage{2}#2!\nmessage{3}#2\n",
	    WPT "format-field-id-3.window.js (changes and persists)");
	T("id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
	    "message{1}#1!\nmessage{2}#!\nmessage{3}#\n",
	    WPT "format-field-id-3.window.js (an empty id resets it)");
	T("id\ndata:x\n\n", "message{x}#!\n",
	    INTERPRET "'id' without a colon is an empty id");
	/* has_id (the !) says the ID changed since the last event, so that
	 * the raw format writes it: the id-only block's change is not lost. */
	T("id:7\n\ndata:x\n\n", "message{x}#7!\n",
	    INTERPRET "dispatch step 1 runs before step 2: an id-only block "
		      "updates the last event ID without dispatching");
	T("id:7\ndata:a\n\nid\n\ndata:b\n\ndata:c\n\n",
	    "message{a}#7!\nmessage{b}#!\nmessage{c}#\n",
	    INTERPRET "an id-only block that clears the last event ID "
		      "marks the next event");
	T("id:7\n\nevent:x\n\ndata:a\n\n", "message{a}#7!\n",
	    INTERPRET "an ID change waits through blocks with no data");
	T("id:1\ndata:a\n\nid:2\0\ndata:b\n\n", "message{a}#1!\nmessage{b}#1\n",
	    INTERPRET "an id containing NUL is ignored");
	T("id: 1\ndata: a\n\nid: 2\0\ndata: b\n\nid: 3\ndata: c\n\n",
	    "message{a}#1!\nmessage{b}#1\nmessage{c}#3!\n",
	    INTERPRET "an id containing NUL is ignored, between events that "
		      "can be taken in runs");
	T("id: \0\0\nretry: 200\ndata: hello\n\n",
	    "retry=200\nmessage{hello}#\n",
	    WPT "format-field-id-null.window.js (\\0\\0)");
	T("id: x\0\nretry: 200\ndata: hello\n\n",
	    "retry=200\nmessage{hello}#\n",
	    WPT "format-field-id-null.window.js (x\\0)");
	T("id: \0x\nretry: 200\ndata: hello\n\n",
	    "retry=200\nmessage{hello}#\n",
	    WPT "format-field-id-null.window.js (\\0x)");
	T("id: x\0x\nretry: 200\ndata: hello\n\n",
	    "retry=200\nmessage{hello}#\n",
	    WPT "format-field-id-null.window.js (x\\0x)");
	T("id:  \0\nretry: 200\ndata: hello\n\n",
	    "retry=200\nmessage{hello}#\n",
	    WPT "format-field-id-null.window.js (space \\0)");
	T("id:\xFF\ndata:x\n\n", "message{x}#\xEF\xBF\xBD!\n",
	    PARSE "ids are decoded as UTF-8 (U+FFFD)");
	T("id:a\nid:b\ndata:x\n\n", "message{x}#b!\n",
	    INTERPRET "the last id field in a block wins");

	/* Across streams: as Chromium's EventSource, the last event ID
	 * survives a reconnection and the next stream starts with it. */
	STREAMS("retry=200\nmessage{hello}#\xE2\x80\xA6!\n"
		"message{\xE2\x80\xA6}#\xE2\x80\xA6\n",
	    WPT "format-field-id.any.js: the last event ID persists across a "
		"reconnection",
	    "id: \xE2\x80\xA6\nretry: 200\ndata: hello\n\n",
	    "data: \xE2\x80\xA6\n\n");
	STREAMS("retry=200\nmessage{hello}#\xE2\x80\xA6!\n"
		"message{\xE2\x80\xA6}#\xE2\x80\xA6\n"
		"message{\xE2\x80\xA6}#\xE2\x80\xA6\n",
	    WPT "format-field-id-2.any.js (two reconnections)",
	    "id: \xE2\x80\xA6\nretry: 200\ndata: hello\n\n",
	    "data: \xE2\x80\xA6\n\n", "data: \xE2\x80\xA6\n\n");
	STREAMS("retry=1000\nmessage{test1}#\nretry=1000\nmessage{test1}#\n",
	    WPT "format-data-before-final-empty-line.any.js: an id in an "
		"event cut off by the end of the stream is discarded",
	    "retry:1000\ndata:test1\n\nid:test\ndata:test2\n",
	    "retry:1000\ndata:test1\n\nid:test\ndata:test2\n");
	STREAMS("message{a}#5!\n:\nmessage{b}#5\n",
	    PARSE "the last event ID carries into the next stream",
	    "id:5\ndata:a\n\n", ":\n\ndata:b\n\n");

	{
		struct rec r;
		size_t len;
		const char *id;

		rec_init(&r, 0);
		ok(sse_parser_set_last_id(&r.p, "abc", 3) == SSE_OK,
		    "sse_parser_set_last_id (e.g. --last-event-id)");
		rec_feed_step(&r, "data:x\n\n", 8, 0);
		is_mem(r.log.p, r.log.len, "message{x}#abc\n", 15,
		    "  events carry it as their last event ID");
		id = sse_parser_last_id(&r.p, &len);
		is_mem(id, len, "abc", 3, "  sse_parser_last_id returns it");
		rec_feed_step(&r, "id:z\n\n", 6, 0);
		id = sse_parser_last_id(&r.p, &len);
		is_mem(id, len, "z", 1, "  and then what the stream set");
		ok(sse_parser_set_last_id(&r.p, "a\rb", 3) == SSE_ERR_INVALID &&
			sse_parser_set_last_id(&r.p, "a\nb", 3) ==
			    SSE_ERR_INVALID &&
			sse_parser_set_last_id(&r.p, "a\r\nX: y", 7) ==
			    SSE_ERR_INVALID,
		    "  refuses CR and LF (they would end the Last-Event-ID "
		    "header)");
		ok(sse_parser_set_last_id(&r.p, "\xFF", 1) == SSE_ERR_INVALID &&
			sse_parser_set_last_id(&r.p, "\xC3", 1) ==
			    SSE_ERR_INVALID &&
			sse_parser_set_last_id(&r.p, "\xED\xA0\x80", 3) ==
			    SSE_ERR_INVALID,
		    "  refuses text that is not UTF-8 (no stream id could be)");
		ok(sse_parser_set_last_id(&r.p, "a\0b", 3) == SSE_ERR_INVALID,
		    "  an id with NUL is refused (it could never be one)");
		sse_parser_end(&r.p);
		id = sse_parser_last_id(&r.p, &len);
		is_mem(id, len, "z", 1, "  sse_parser_end keeps it");
		ok(sse_parser_set_last_id(
		       &r.p, "caf\xC3\xA9 \xF0\x9F\x98\x80", 10) == SSE_OK,
		    "  takes UTF-8");
		rec_release(&r);
	}
}

static void
retries(void)
{
	T("retry:1000\ndata:x\n\n", "retry=1000\nmessage{x}#\n",
	    INTERPRET "retry: all ASCII digits set the reconnection time");
	T("retry:03000\ndata:x\n\n\n", "retry=3000\nmessage{x}#\n",
	    WPT "format-field-retry.any.js: base ten, leading zeros");
	T("retry:3000\nretry:1000x\ndata:x\n\n\n", "retry=3000\nmessage{x}#\n",
	    WPT "format-field-retry-bogus.any.js: not only digits, ignored");
	T("retry: -1\nretry:1.5\nretry:+5\nretry:0x10\nretry:  5\nretry:5 \n"
	  "retry:\xD9\xA1\n",
	    "",
	    INTERPRET "retry: anything but ASCII digits is ignored (sign, "
		      "point, hex, extra space, Arabic-Indic digit)");
	T("retry:10\ndata:x", "retry=10\n",
	    INTERPRET "retry takes effect at its line, even in an event that "
		      "is never dispatched");
	T("retry:0\n", "retry=0\n", INTERPRET "retry: 0 is a value");
	/*
	 * Empty value: the standard's "only ASCII digits" is vacuously true
	 * of "" but "" is no integer; Chromium resets the reconnection time
	 * to its default (kDefaultReconnectDelay, 3000 ms). We do the same.
	 */
	T("retry\ndata:test\n\n\n", "retry=3000\nmessage{test}#\n",
	    WPT "format-field-retry-empty.any.js (Chromium: back to the "
		"default)");
	T("retry:\nretry: \n", "retry=3000\nretry=3000\n",
	    "Chromium: 'retry:' and 'retry: ' also reset to the default");
	/* Chromium: ToUInt64Strict; a value past 2^64-1 is ignored. */
	T("retry:18446744073709551615\n", "retry=18446744073709551615\n",
	    "Chromium: 2^64-1 is still a value");
	T("retry:18446744073709551616\nretry:99999999999999999999999\n", "",
	    "Chromium: values past 2^64-1 are ignored");
	{
		struct rec r;

		rec_init(&r, 0);
		sse_parser_set_default_retry(&r.p, 5000);
		rec_feed_step(&r, "retry:\n", 7, 0);
		is_mem(r.log.p, r.log.len, "retry=5000\n", 11,
		    "sse_parser_set_default_retry: what an empty retry "
		    "resets to");
		rec_release(&r);
	}
}

static void
dispatching(void)
{
	T("data:a\n", "",
	    PARSE "end of stream: an incomplete event is "
		  "discarded (no blank line)");
	T("data:a", "", PARSE "end of stream: an unterminated line too");
	STREAMS("", PARSE "sse_parser_end discards the pending event",
	    "data:a\n", "\n");
	STREAMS("", PARSE "sse_parser_end discards a pending line", "data:a",
	    "\n\n");
	STREAMS("message{b}#\n",
	    PARSE "sse_parser_end discards the event type buffer", "event:a\n",
	    "data:b\n\n");
	STREAMS("message{b}#7!\n",
	    PARSE "an ID set by an id-only block marks the next event in the "
		  "next stream too (the raw output of a session keeps it)",
	    "id:7\n\n", "data:b\n\n");
	STREAMS("message{b}#\n",
	    PARSE "an incomplete event's id field changes nothing", "id:7\n",
	    "data:b\n\n");
	T("data:a\n\n\n\ndata:b\n\n", "message{a}#\nmessage{b}#\n",
	    INTERPRET "dispatch step 2: blank lines with an empty data buffer "
		      "dispatch nothing");
	T("data:a\ndata:b\n\ndata:c\n\n", "message{a\\nb}#\nmessage{c}#\n",
	    INTERPRET "dispatch step 7: the data buffer is reset");
	T("data:1\n\ndata:2\n\ndata:3\n\ndata:4\n\n",
	    "message{1}#\nmessage{2}#\nmessage{3}#\nmessage{4}#\n",
	    INTERPRET "several events in one read");
	{
		struct rec r;
		int rc;

		rec_init(&r, 0);
		r.stop_after = 1;
		rc = rec_feed_step(&r, "data:a\n\ndata:b\n\n", 16, 0);
		ok(rc == SSE_ERR_ABORTED,
		    "an event callback returning non-zero stops the parser");
		is_mem(r.log.p, r.log.len, "message{a}#\nERR=-3\n", 19,
		    "  no event after it");
		ok(sse_parser_feed(&r.p, "data:c\n\n", 8) == SSE_ERR_ABORTED,
		    "  and the error is sticky");
		sse_parser_end(&r.p);
		r.stop_after = 0;
		ok(sse_parser_feed(&r.p, "data:d\n\n", 8) == SSE_OK,
		    "  until sse_parser_end");
		rec_release(&r);
	}
}

static void
utf8(void)
{
	T("data:ok\xE2\x80\xA6\n\n\n", "message{ok\xE2\x80\xA6}#\n",
	    WPT "format-utf-8.any.js: always UTF-8");
	T("data:a\xFF"
	  "b\n\n",
	    "message{a\xEF\xBF\xBD"
	    "b}#\n",
	    PARSE "an invalid byte becomes U+FFFD (UTF-8 decode)");
	T("data:\xF0\x9F\x98\n\n", "message{\xEF\xBF\xBD}#\n",
	    PARSE "a truncated sequence before the line end: one U+FFFD");
	T("data:\xE2\x82"
	  "A\n\n",
	    "message{\xEF\xBF\xBD"
	    "A}#\n",
	    PARSE "maximal subpart E2 82, then A decoded afresh");
	T("data:\xC0\x80\n\n", "message{\xEF\xBF\xBD\xEF\xBF\xBD}#\n",
	    PARSE "overlong C0 80: two U+FFFD");
	T("data:\xED\xA0\x80\n\n",
	    "message{\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD}#\n",
	    PARSE "surrogate ED A0 80: three U+FFFD");
	T("data:\xF4\x90\x80\x80\n\n",
	    "message{\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD}#\n",
	    PARSE "past U+10FFFF: four U+FFFD");
	T("data:\xE2\r\n\r\n", "message{\xEF\xBF\xBD}#\n",
	    PARSE "a CR cuts a sequence short and still ends the line");
	T("data:\xF0\x9F\x98\x80 \xE2\x82\xAC\n\n",
	    "message{\xF0\x9F\x98\x80 \xE2\x82\xAC}#\n",
	    PARSE "valid 4- and 3-byte sequences, however they are split");
	T("d\xFF"
	  "ata:x\n\n",
	    "", PARSE "an invalid byte in a field name: an unknown field");
	T("event:\xFE\ndata:x\n\n", "\xEF\xBF\xBD{x}#\n",
	    PARSE "an invalid byte in the event type");
	TCUT("data:\xF0\x9F\x98\x80\n\n", 7, "message{\xF0\x9F\x98\x80}#\n",
	    PARSE "a sequence split across two feeds is one character");
}

static void
caps(void)
{
	/* max_event 16: lines and buffers up to 16 bytes. */
	TMAX("data:12345678901\n\n", 16, "message{12345678901}#\n",
	    "cap: a line of exactly max_event bytes is fine");
	TMAX("data:123456789012\n\n", 16, "ERR=-1\n",
	    "cap: a line one byte longer is SSE_ERR_TOO_BIG");
	TMAX("data:a\n\ndata:123456789012345678901234567890", 16,
	    "message{a}#\nERR=-1\n",
	    "cap: a long line with no line end: error as soon as it passes "
	    "the cap, events before it delivered");
	TMAX("data:aaaa\ndata:bbbb\ndata:cccc\ndata:dddd\n\n", 16, "ERR=-1\n",
	    "cap: data accumulated over many lines past the cap");
	TMAX("id:12345678901234567890\ndata:x\n\n", 16, "ERR=-1\n",
	    "cap: a huge id");
	TMAX("event:12345678901234567890\ndata:x\n\n", 16, "ERR=-1\n",
	    "cap: a huge event type");
	TMAX(":123456789012345678901234567890\ndata:x\n\n", 16, "ERR=-1\n",
	    "cap: a huge comment line");
	{
		struct rec r;
		static char big[4096];

		rec_init(&r, 16);
		memset(big, 'x', sizeof(big));
		ok(sse_parser_feed(&r.p, "data:", 5) == SSE_OK &&
			sse_parser_feed(&r.p, big, sizeof(big)) ==
			    SSE_ERR_TOO_BIG,
		    "cap: a line growing over several feeds");
		ok(sse_parser_feed(&r.p, "\n\ndata:y\n\n", 10) ==
			    SSE_ERR_TOO_BIG &&
			r.log.len == 0,
		    "cap: the error is sticky, nothing more is dispatched");
		ok(r.p.line.cap <= 17 && r.p.data.cap <= 17,
		    "cap: no buffer grew past the cap (line %zu, data %zu)",
		    r.p.line.cap, r.p.data.cap);
		sse_parser_end(&r.p);
		ok(sse_parser_feed(&r.p, "data:y\n\n", 8) == SSE_OK &&
			r.log.len == 12,
		    "cap: sse_parser_end clears the error, parsing goes on");
		rec_release(&r);
	}
	{
		/* sse_parser_taken: where a caller resumes after an error. */
		struct rec r;
		const char *in = "data:a\n\ndata:123456789012345\ndata:b\n\n";
		const char *in2 = "data:aaaaaaaaaa\r\ndata:bbbbbbbbbb\r\n";

		rec_init(&r, 16);
		ok(sse_parser_feed(&r.p, in, strlen(in)) == SSE_ERR_TOO_BIG &&
			sse_parser_taken(&r.p) == 8,
		    "taken: a line too long fails at its start");
		sse_parser_end(&r.p);
		ok(sse_parser_feed(&r.p, in2, strlen(in2)) == SSE_ERR_TOO_BIG &&
			sse_parser_taken(&r.p) == strlen(in2),
		    "taken: data too big fails after the line that made it so");
		sse_parser_end(&r.p);
		ok(sse_parser_feed(&r.p, "data:12", 7) == SSE_OK &&
			sse_parser_feed(&r.p, "34567890123456\n", 15) ==
			    SSE_ERR_TOO_BIG &&
			sse_parser_taken(&r.p) == 0,
		    "taken: a line begun in an earlier feed: 0");
		rec_release(&r);
	}
	ok(strcmp(sse_strerror(SSE_ERR_TOO_BIG), "event too large") == 0 &&
		strcmp(sse_strerror(SSE_ERR_ABORTED), "stopped by callback") ==
		    0,
	    "sse_strerror names the errors");
}

/* The raw spans of the events of s fed whole, as "span|" or "-|". */
struct raws {
	struct sse_parser p;
	char log[512];
	size_t len;
};

static int
raws_event(void *ctx, const struct sse_event *ev)
{
	struct raws *w = ctx;
	const char *raw;
	size_t n;

	(void)ev;
	if ((raw = sse_parser_raw(&w->p, &n)) == NULL) {
		raw = "-";
		n = 1;
	}
	if (w->len + n + 1 < sizeof(w->log)) {
		memcpy(w->log + w->len, raw, n);
		w->log[w->len + n] = '|';
		w->len += n + 1;
	}
	return 0;
}

static void
raw_is(const char *s, size_t n, const char *want, const char *name)
{
	struct raws w;
	struct sse_parser_cb cb = {raws_event, NULL, NULL, &w};

	w.len = 0;
	sse_parser_init(&w.p, &cb, 0);
	sse_parser_feed(&w.p, s, n);
	is_mem(w.log, w.len, want, strlen(want), name);
	sse_parser_release(&w.p);
}

#define RAW(s, want, name) raw_is(s, sizeof(s) - 1, want, name)

/*
 * sse_parser_raw: an event whose lines are what sse_serialize would write
 * comes with them verbatim (every one is also checked against the
 * serializer by the harness above, and by test_chunking and the fuzzer).
 */
static void
raw_spans(void)
{
	RAW("data: a\n\n", "data: a\n\n|", "raw: a canonical event");
	RAW("event: t\nid: 1\ndata: a\ndata: \ndata:  b\n\n",
	    "event: t\nid: 1\ndata: a\ndata: \ndata:  b\n\n|",
	    "raw: event, id, data lines in the serializer's order");
	RAW("data: a\n\ndata: b\n\n", "data: a\n\n|data: b\n\n|",
	    "raw: one span per event");
	RAW("\n\ndata: a\n\n\n\ndata: b\n\n", "data: a\n\n|data: b\n\n|",
	    "raw: blocks that dispatch nothing are not part of the next");
	RAW("id: 1\n\ndata: a\n\ndata: b\n\n", "-|data: b\n\n|",
	    "raw: not when an id-only block set the ID (the span lacks it)");
	RAW("id\n\ndata: a\n\n", "-|",
	    "raw: not when an id-only block cleared the ID");
	RAW("id: 1\n\nid: 2\ndata: a\n\n", "id: 2\ndata: a\n\n|",
	    "raw: an event's own id after an id-only block");
	RAW("\xEF\xBB\xBF"
	    "data: a\n\n",
	    "data: a\n\n|", "raw: the BOM is not part of the span");
	RAW("data: \xC3\xA9\n\n", "data: \xC3\xA9\n\n|",
	    "raw: valid UTF-8 is canonical");
	RAW("data: \xFF\n\n", "-|", "raw: not when UTF-8 was repaired");
	RAW("data:a\n\n", "-|", "raw: not without the space");
	RAW("data\n\n", "-|", "raw: not a bare field name");
	RAW("data: a\r\n\r\n", "-|", "raw: not with CRLF");
	RAW("data: a\n\r", "-|", "raw: not with a CR blank line");
	RAW(": c\ndata: a\n\n", "-|", "raw: not with a comment");
	RAW("retry: 5\ndata: a\n\n", "-|", "raw: not with a retry field");
	RAW("foo: 1\ndata: a\n\n", "-|", "raw: not with an unknown field");
	RAW("data: a\nid: 1\n\n", "-|", "raw: not out of order");
	RAW("id: 1\nid: 2\ndata: a\n\n", "-|", "raw: not with two ids");
	RAW("event: a\nevent: b\ndata: x\n\n", "-|",
	    "raw: not with two event types");
	RAW("event: message\ndata: a\n\n", "-|",
	    "raw: not with an explicit 'message' type");
	RAW("event: \ndata: a\n\n", "-|", "raw: not with an empty type");
	RAW("id: 1\0\ndata: a\n\n", "-|", "raw: not with an ignored id");
	{
		struct raws w;
		struct sse_parser_cb cb = {raws_event, NULL, NULL, &w};

		w.len = 0;
		sse_parser_init(&w.p, &cb, 0);
		sse_parser_feed(&w.p, "data: a\n", 8);
		sse_parser_feed(&w.p, "\ndata: b\n\n", 11);
		is_mem(w.log, w.len, "-|data: b\n\n|", 12,
		    "raw: not for an event split across feeds");
		sse_parser_release(&w.p);
	}
}

/*
 * Runs (sse_parser_set_run): what comes in runs and what one by one, as
 * "R<n>[span]" for a run of n events and "E[data#id]" for an event ("!"
 * after the id when it has has_id set).
 */
struct runs {
	struct sse_parser p;
	char log[512];
	size_t len;
	int stop; /* a run returns non-zero */
};

static void
runs_add(struct runs *w, const char *s, size_t n)
{
	if (w->len + n < sizeof(w->log)) {
		memcpy(w->log + w->len, s, n);
		w->len += n;
	}
}

static int
runs_event(void *ctx, const struct sse_event *ev)
{
	struct runs *w = ctx;

	runs_add(w, "E[", 2);
	runs_add(w, ev->data, ev->data_len);
	runs_add(w, "#", 1);
	runs_add(w, ev->id, ev->id_len);
	runs_add(w, ev->has_id ? "!]" : "]", ev->has_id ? 2 : 1);
	return 0;
}

static int
runs_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct runs *w = ctx;
	char head[32];

	runs_add(w, head, (size_t)snprintf(head, sizeof(head), "R%zu[", n));
	runs_add(w, raw, len);
	runs_add(w, "]", 1);
	return w->stop;
}

/* Feed the pieces of s separated by '|' one by one; the log, then ERR=. */
static void
runs_are(const char *s, size_t max_data, int stop, const char *want,
    const char *name)
{
	struct sse_parser_cb cb = {runs_event, NULL, NULL, NULL};
	struct runs w;
	const char *bar;
	char err[16];
	int rc = SSE_OK;

	memset(&w, 0, sizeof(w));
	w.stop = stop;
	cb.ctx = &w;
	sse_parser_init(&w.p, &cb, 0);
	sse_parser_set_run(&w.p, runs_run);
	sse_parser_set_max_data(&w.p, max_data);
	for (; rc == SSE_OK && *s != '\0'; s = *bar ? bar + 1 : bar) {
		bar = strchr(s, '|');
		if (bar == NULL)
			bar = s + strlen(s);
		rc = sse_parser_feed(&w.p, s, (size_t)(bar - s));
	}
	if (rc != SSE_OK)
		runs_add(
		    &w, err, (size_t)snprintf(err, sizeof(err), "ERR=%d", rc));
	is_mem(w.log, w.len, want, strlen(want), name);
	sse_parser_release(&w.p);
}

/* A run's index (sse_parser_set_run_index), as "n:" then each event. */
static char index_log[256];

static int
index_run(void *ctx, const char *raw, size_t len, size_t n)
{
	const struct sse_run_event *x = sse_parser_run_index(ctx);
	size_t i, at = strlen(index_log);

	(void)len;
	at +=
	    (size_t)snprintf(index_log + at, sizeof(index_log) - at, "%zu:", n);
	for (i = 0; x != NULL && i < n && at < sizeof(index_log); i++)
		at += (size_t)snprintf(index_log + at, sizeof(index_log) - at,
		    "[%.*s|%.*s|%s%.*s]", (int)x[i].type_len, raw + x[i].type,
		    (int)x[i].data_len, raw + x[i].data, x[i].has_id ? "#" : "",
		    (int)x[i].id_len, raw + x[i].id);
	return 0;
}

static void
run_index(void)
{
	struct sse_parser_cb cb = {runs_event, NULL, NULL, NULL};
	struct sse_run_event idx[2];
	struct sse_parser p;
	static const char s[] = "data: a\n\nevent: t\nid: 1\ndata: bb\n\n"
				"id: \ndata: c\n\ndata: d\n\n";
	struct runs w;

	memset(&w, 0, sizeof(w));
	cb.ctx = &w;
	sse_parser_init(&p, &cb, 0);
	p.cb.ctx = &p;
	sse_parser_set_run(&p, index_run);
	sse_parser_set_run_index(&p, idx, 2);
	index_log[0] = '\0';
	ok(sse_parser_feed(&p, s, sizeof(s) - 1) == SSE_OK &&
		strcmp(index_log, "2:[|a|][t|bb|#1]2:[|c|#][|d|]") == 0 &&
		sse_parser_run_index(&p) == NULL,
	    "run index: each event's type, data and id line, runs of at most "
	    "its size (got '%s')",
	    index_log);
	sse_parser_release(&p);
}

static void
runs(void)
{
	runs_are("data: a\n\ndata: b\n\n", SIZE_MAX, 0,
	    "R2[data: a\n\ndata: b\n\n]", "runs: consecutive data events");
	runs_are(
	    "data: \n\n", SIZE_MAX, 0, "R1[data: \n\n]", "runs: empty data");
	runs_are("data: a\n\nid: 7\ndata: b\n\nid: 8\ndata: c\n\ndata: d\n\n"
		 "data: e\n\n",
	    SIZE_MAX, 0,
	    "R5[data: a\n\nid: 7\ndata: b\n\nid: 8\ndata: c\n\ndata: d\n\n"
	    "data: e\n\n]",
	    "runs: events with an id line and without mix");
	runs_are("id: 1\ndata: a\n\nid: \ndata: b\n\nid:2\ndata: c\n\n"
		 "id: 3\ndata:d\n\nid: 4\ndata: e\n\n",
	    SIZE_MAX, 0,
	    "R2[id: 1\ndata: a\n\nid: \ndata: b\n\n]E[c#2!]E[d#3!]"
	    "R1[id: 4\ndata: e\n\n]",
	    "runs: an empty id is in one, an id or data without the space "
	    "not");
	runs_are("id: 2\nid: 3\ndata: b\n\nid: 4\nevent: t\ndata: c\n\n"
		 "id: 5\ndata: d\ndata: e\n\nid: 6\n\ndata: f\n\n",
	    SIZE_MAX, 0, "E[b#3!]E[c#4!]E[d\ne#5!]E[f#6!]",
	    "runs: not with two ids, a type, two data lines, nor an id-only "
	    "block (an id with NUL: the T() cases in ids() run with runs too)");
	runs_are("id: 5\n\nid: 6\ndata: a\n\ndata: b\n\n", SIZE_MAX, 0,
	    "R2[id: 6\ndata: a\n\ndata: b\n\n]",
	    "runs: one after an id-only block if its first event has an id "
	    "(the next one's has_id is not set: parselog.h checks it)");
	runs_are("id: 1\ndata: a\n\nid: 2\ndata: b|\n\nid: 3\ndata: c\n\n",
	    SIZE_MAX, 0, "R1[id: 1\ndata: a\n\n]E[b#2!]R1[id: 3\ndata: c\n\n]",
	    "runs: an id event split across feeds comes alone");
	runs_are("id: 1\ndata: a\n\nid: \xC3\xA9\ndata: b\n\n", SIZE_MAX, 0,
	    "R1[id: 1\ndata: a\n\n]E[b#\xC3\xA9!]",
	    "runs: not with UTF-8 in the id");
	runs_are("data: a\n\nid: 5\n\ndata: b\n\ndata: c\n\nid\n\ndata: d\n\n",
	    SIZE_MAX, 0, "R1[data: a\n\n]E[b#5!]R1[data: c\n\n]E[d#!]",
	    "runs: not the event after an id-only block, which has has_id");
	runs_are("data: a\n\nevent: t\ndata: b\n\n: c\ndata: d\n\n", SIZE_MAX,
	    0, "R2[data: a\n\nevent: t\ndata: b\n\n]E[d#]",
	    "runs: with a type; not after a comment");
	runs_are("event: t\nid: 1\ndata: a\n\nevent: u\ndata: b\n\n"
		 "id: 2\ndata: c\n\n",
	    SIZE_MAX, 0,
	    "R3[event: t\nid: 1\ndata: a\n\nevent: u\ndata: b\n\n"
	    "id: 2\ndata: c\n\n]",
	    "runs: type and id lines in the serializer's order, each when "
	    "there");
	runs_are("event: message\ndata: a\n\nevent: \ndata: b\n\n"
		 "event:t\ndata: c\n\nid: 1\nevent: t\ndata: d\n\n"
		 "event: t\nevent: u\ndata: e\n\nevent: \xC3\xA9\ndata: f\n\n",
	    SIZE_MAX, 0, "E[a#]E[b#]E[c#]E[d#1!]E[e#1]E[f#1]",
	    "runs: not with type message or empty (no line in the "
	    "serializer's bytes), no space, an id before the type, two types, "
	    "UTF-8 in the type");
	runs_are("event: t\n\ndata: a\n\nevent: t\nid: 1\n\ndata: b\n\n",
	    SIZE_MAX, 0, "R1[data: a\n\n]E[b#1!]",
	    "runs: a block with a type and no data is dropped, then a run");
	runs_are("data:a\n\ndata: a\r\n\r\ndata: a\ndata: b\n\n"
		 "data: \xC3\xA9\n\n",
	    SIZE_MAX, 0, "E[a#]E[a#]E[a\nb#]E[\xC3\xA9#]",
	    "runs: not without the space, with CRLF, with two data lines or "
	    "with UTF-8");
	runs_are("\xEF\xBB\xBF"
		 "data: a\n\ndata: b\n\n",
	    SIZE_MAX, 0, "E[a#]R1[data: b\n\n]",
	    "runs: the line with the BOM is taken alone");
	runs_are("data: a\n\ndata: b|\n\ndata: c\n|\ndata: d\n\n", SIZE_MAX, 0,
	    "R1[data: a\n\n]E[b#]E[c#]R1[data: d\n\n]",
	    "runs: events split across feeds come one by one");
	runs_are("data: a\n\n\n\ndata: b\n\n", SIZE_MAX, 0,
	    "R1[data: a\n\n]R1[data: b\n\n]",
	    "runs: an extra blank line ends a run");
	runs_are("data: a\n\ndata: b\n\n", SIZE_MAX, 1,
	    "R2[data: a\n\ndata: b\n\n]ERR=-3",
	    "runs: a run that returns non-zero stops the parser");
	runs_are("data: abc\n\ndata: abcd\n\ndata: e\n\n", 3, 0,
	    "R1[data: abc\n\n]ERR=-1",
	    "max_data: a longer event is an error, in a run");
	runs_are("id: 1\ndata: abc\n\nid: 2\ndata: ab\ndata: c\n\n", 3, 0,
	    "R1[id: 1\ndata: abc\n\n]ERR=-1",
	    "max_data: a longer event is an error, one by one");
	runs_are("data: abcd\n\n", 4, 0, "R1[data: abcd\n\n]",
	    "max_data: data of max_data bytes is fine");
}

/* The blocks dropped for having no data, as "type|" lines. */
static char dropped_log[256];
static int dropped_stop;

static int
on_dropped(void *ctx, const char *type, size_t len)
{
	size_t n = strlen(dropped_log);

	(void)ctx;
	snprintf(
	    dropped_log + n, sizeof(dropped_log) - n, "%.*s|", (int)len, type);
	return dropped_stop;
}

static int
no_event(void *ctx, const struct sse_event *ev)
{
	(void)ctx;
	(void)ev;
	return 0;
}

/*
 * "If the data buffer is an empty string, set the data buffer and the event
 * type buffer to the empty string and return": such a block (with an event
 * or id field) is reported to sse_parser_set_dropped()'s callback.
 */
static void
dropped(void)
{
	const char *in = "id: 11\nevent: done\n\n: only a comment\n\n"
			 "retry: 5\n\n\nevent: e\n\nid: 3\n\nevent: x\n"
			 "data\n\n";
	struct sse_parser_cb cb = {no_event, NULL, NULL, NULL};
	struct sse_parser p;

	sse_parser_init(&p, &cb, 0);
	sse_parser_set_dropped(&p, on_dropped);
	dropped_log[0] = '\0';
	ok(sse_parser_feed(&p, in, strlen(in)) == SSE_OK, "dropped: fed");
	is_mem(dropped_log, strlen(dropped_log), "done|e||", 8,
	    "dropped: blocks with an event or id field and no data, in order");
	sse_parser_end(&p);
	dropped_stop = 1;
	dropped_log[0] = '\0';
	ok(sse_parser_feed(&p, in, strlen(in)) == SSE_ERR_ABORTED &&
		strcmp(dropped_log, "done|") == 0,
	    "dropped: a non-zero return stops the parser");
	sse_parser_release(&p);
}

int
main(void)
{
	raw_spans();
	dropped();
	runs();
	run_index();
	line_endings();
	bom();
	fields();
	comments();
	event_type();
	ids();
	retries();
	dispatching();
	utf8();
	caps();
	return done_testing();
}
