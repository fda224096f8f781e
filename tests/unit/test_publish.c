/*
 * lib/publish: publish bodies into events, all or nothing, errors naming
 * the line; lib/topic: topic names.
 */
#include <stdio.h>
#include <string.h>

#include "publish.h"
#include "tap.h"
#include "topic.h"

/* A stand-in for the caller's JSON decoder: "TYPE|DATA[|TOPIC]". */
static int
fake_json(void *ctx, const char *line, size_t len, struct sse_event *ev,
    const char **topic, size_t *topic_len, char *why, size_t whysz)
{
	const char *bar = memchr(line, '|', len), *bar2;

	(void)ctx;
	if (bar == NULL) {
		snprintf(why, whysz, "not a JSON object");
		return -1;
	}
	ev->type = line;
	ev->type_len = (size_t)(bar - line);
	ev->data = bar + 1;
	ev->data_len = len - ev->type_len - 1;
	bar2 = memchr(bar + 1, '|', len - ev->type_len - 1);
	if (bar2 != NULL) {
		ev->data_len = (size_t)(bar2 - ev->data);
		*topic = bar2 + 1;
		*topic_len = (size_t)(line + len - *topic);
	}
	return 0;
}

/* The events of p as "type:data[@topic][#id]," */
static const char *
show(const struct pub *p)
{
	static char out[1024];
	struct sse_event ev;
	const char *t;
	size_t tl, k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n && k < sizeof(out) - 100; i++) {
		pub_get(p, i, &ev, &t, &tl);
		k += (size_t)snprintf(out + k, sizeof(out) - k, "%.*s:%.*s",
		    (int)ev.type_len, ev.type, (int)ev.data_len, ev.data);
		if (t != NULL)
			k += (size_t)snprintf(
			    out + k, sizeof(out) - k, "@%.*s", (int)tl, t);
		if (ev.has_id)
			k += (size_t)snprintf(out + k, sizeof(out) - k, "#%.*s",
			    (int)ev.id_len, ev.id);
		k += (size_t)snprintf(out + k, sizeof(out) - k, ",");
	}
	return out;
}

static void
is_str(const char *got, size_t glen, const char *want, const char *name)
{
	is_mem(got, glen, want, strlen(want), name);
}

static int
parse(struct pub *p, enum pub_kind k, const char *body)
{
	return pub_parse(
	    p, k, body, strlen(body), "message", 7, fake_json, NULL);
}

static void
test_kinds(void)
{
	ok(pub_kind_of(NULL) == PUB_TEXT, "no Content-Type: text");
	ok(pub_kind_of("text/plain; charset=utf-8") == PUB_TEXT,
	    "text/plain with a charset");
	ok(pub_kind_of("application/x-www-form-urlencoded") == PUB_TEXT,
	    "curl -d's default: text");
	ok(pub_kind_of("Application/JSON") == PUB_JSON, "JSON, any case");
	ok(pub_kind_of("application/x-ndjson") == PUB_JSON, "ndjson");
	ok(pub_kind_of("text/event-stream;charset=utf-8") == PUB_SSE, "SSE");
	ok(pub_kind_of("text/html") == PUB_UNSUPPORTED, "text/html: 415");
	ok(pub_kind_of("text/plainx") == PUB_UNSUPPORTED,
	    "a longer name is another type");
}

static void
test_text(void)
{
	struct pub p;

	pub_init(&p, 100, 16);
	ok(parse(&p, PUB_TEXT, "one\r\ntwo\n\nfour") == 0, "text parses");
	is_str(show(&p), strlen(show(&p)),
	    "message:one,message:two,message:,message:four,",
	    "  a line an event, CRLF too, empty lines too");
	p.n = 0;
	ok(parse(&p, PUB_TEXT, "one\n") == 0 && p.n == 1,
	    "a last LF ends the last line");
	p.n = 0;
	ok(parse(&p, PUB_TEXT, "") == -1 && p.err_line == 0 &&
		strcmp(p.err, "no event in the body") == 0,
	    "an empty body: %s", p.err);
	ok(parse(&p, PUB_TEXT, "short\n0123456789abcdefg\nx") == -1 &&
		p.err_line == 2 && p.n == 0,
	    "a line too long: %s, and nothing taken", p.err);
	pub_release(&p);

	pub_init(&p, 2, 100);
	ok(parse(&p, PUB_TEXT, "a\nb\nc\n") == -1 && p.err_line == 3,
	    "more events than allowed: %s", p.err);
	pub_release(&p);
}

static void
test_json(void)
{
	struct pub p;
	struct sse_buf out = SSE_BUF_INIT;

	pub_init(&p, 100, 100);
	ok(parse(&p, PUB_JSON, "tick|1\n\n  \nmessage|2|build\n") == 0,
	    "JSON lines parse");
	is_str(show(&p), strlen(show(&p)), "tick:1,message:2@build,",
	    "  blank lines skipped, topics kept");
	ok(parse(&p, PUB_JSON, "a|1\nb|2\nnope\nc|3") == -1 &&
		p.err_line == 3 && p.n == 2,
	    "a bad line 3: %s; the earlier events of this body not taken",
	    p.err);
	pub_error_json(&p, &out);
	is_str(out.p, out.len,
	    "{\"error\":\"line 3: not a JSON object\",\"line\":3}\n",
	    "  the answer names the line");
	ok(parse(&p, PUB_JSON, "a\nb|x") == -1 && p.err_line == 1,
	    "a type with LF: %s", p.err);
	ok(parse(&p, PUB_JSON, "|x") == -1 && p.err_line == 1,
	    "an empty type: %s", p.err);
	ok(parse(&p, PUB_JSON, "a|x|bad/topic") == -1 && p.err_line == 1,
	    "a bad topic: %s", p.err);
	ok(pub_parse(&p, PUB_JSON, "a|b", 3, "message", 7, NULL, NULL) == -1,
	    "no decoder: refused");
	pub_release(&p);
	sse_buf_release(&out);
}

static void
test_sse(void)
{
	struct pub p;
	struct sse_event ev;

	pub_init(&p, 100, 32);
	ok(parse(&p, PUB_SSE,
	       "event: a\ndata: 1\nid: 7\n\n: comment\nretry: 50\ndata: 2\n"
	       "data: 3") == 0,
	    "SSE parses");
	is_str(show(&p), strlen(show(&p)), "a:1#7,message:2\n3,",
	    "  events as dispatched, the body's end ends the last");
	pub_get(&p, 1, &ev, NULL, NULL);
	ok(ev.retry == 50, "  retry goes with the next event");
	p.n = 0;
	ok(parse(&p, PUB_SSE,
	       "data: ok\n\ndata: "
	       "0123456789012345678901234567890123456789\n\n") == -1 &&
		p.err_line == 3 && p.n == 0,
	    "an event too large on line 3: %s", p.err);
	ok(parse(&p, PUB_SSE, ": only a comment\n") == -1, "no event: %s",
	    p.err);
	pub_release(&p);
}

static void
test_topic(void)
{
	const char *why = NULL;

	ok(sse_topic_valid("build", 5, &why), "build is a topic");
	ok(sse_topic_valid("a.b-c_D9", 8, &why), "letters, digits, . - _");
	ok(!sse_topic_valid("", 0, &why) && strcmp(why, "empty") == 0,
	    "empty: %s", why);
	ok(!sse_topic_valid(".x", 2, &why), "a leading dot: %s", why);
	ok(!sse_topic_valid("a/b", 3, &why), "a slash: %s", why);
	ok(!sse_topic_valid("a b", 3, &why), "a space");
	ok(!sse_topic_valid("caf\xc3\xa9", 5, &why), "non-ASCII");
	ok(sse_topic_valid("012345678901234567890123456789012345678901234567890"
			   "1234567890123",
	       64, &why),
	    "64 bytes");
	ok(!sse_topic_valid("01234567890123456789012345678901234567890123456789"
			    "012345678901234",
	       65, &why),
	    "65 bytes: %s", why);
}

int
main(void)
{
	test_kinds();
	test_text();
	test_json();
	test_sse();
	test_topic();
	return done_testing();
}
