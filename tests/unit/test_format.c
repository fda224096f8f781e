/*
 * The output formats (lib/format.h): raw, json, data, data0, pretty and
 * templates, their errors, and strictly valid JSON for any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "event.h"
#include "format.h"
#include "jsonpp.h"
#include "parser.h"
#include "serialize.h"
#include "jsoncheck.h"
#include "rnd.h"
#include "evmake.h"
#include "tap.h"

/* 2024-05-01T12:34:56.789Z */
#define T0 INT64_C(1714566896789)
/* The json format's time member for T0, its LF included. */
#define T0_JSON ",\"time\":\"2024-05-01T12:34:56.789Z\"}\n"

static struct sse_buf out;

/* Format ev with spec and compare with want (want_len bytes). */
static void
fmt_is(const char *spec, bool color, const struct sse_event *ev,
    const char *want, size_t want_len, const char *name)
{
	struct sse_format f;
	char err[256];

	sse_buf_reset(&out);
	if (!ok(sse_format_init(&f, spec, err, sizeof(err)) == 0,
		"%s: init '%s'", name, spec)) {
		printf("#   error: %s\n", err);
		return;
	}
	f.color = color;
	ok(sse_format_event(&f, &out, ev, T0) == SSE_OK, "%s: SSE_OK", name);
	is_mem(out.p, out.len, want, want_len, name);
	sse_format_release(&f);
}

/* Format ev with spec into out, no checks (for tests that look inside). */
static int
fmt_out(const char *spec, bool color, const struct sse_event *ev)
{
	struct sse_format f;
	int rc;

	sse_buf_reset(&out);
	if (sse_format_init(&f, spec, NULL, 0) == -1)
		return -1;
	f.color = color;
	rc = sse_format_event(&f, &out, ev, T0);
	sse_format_release(&f);
	sse_buf_addch(&out, '\0');
	out.len--;
	return rc;
}

#define FMT_IS(spec, ev, want, name)                                           \
	fmt_is(spec, false, ev, want, sizeof(want) - 1, name)

static void
init_fails(const char *spec, const char *want_err, const char *name)
{
	struct sse_format f;
	char err[256];

	err[0] = '\0';
	ok(sse_format_init(&f, spec, err, sizeof(err)) == -1, "%s: refused",
	    name);
	ok(strcmp(err, want_err) == 0, "%s: message is '%s'", name, want_err);
	if (strcmp(err, want_err) != 0)
		printf("#   got: '%s'\n", err);
	sse_format_release(&f);
}

/*
 * The json format for events of random bytes: each output line is one
 * strictly valid JSON object, and its strings decode to the WHATWG UTF-8
 * decoding of the event's fields.
 */
static void
json_random(void)
{
	struct sse_format f;
	struct sse_event ev;
	char type[16], data[64], id[16], err[64];
	int i, bad = 0, baddec = 0;
	size_t k;
	const char *key, *end;

	sse_format_init(&f, "json", err, sizeof(err));
	for (i = 0; i < 5000; i++) {
		sse_event_init(&ev);
		ev.type_len = rnd() % sizeof(type);
		ev.data_len = rnd() % sizeof(data);
		ev.id_len = rnd() % sizeof(id);
		for (k = 0; k < sizeof(data); k++) {
			data[k] = (char)(rnd() & 0xFF);
			if (k < sizeof(type)) {
				type[k] = (char)(rnd() & 0xFF);
				id[k] = (char)(rnd() % 2 ? rnd() & 0xFF : 0xE2);
			}
		}
		ev.type = type;
		ev.data = data;
		ev.id = id;
		sse_buf_reset(&out);
		if (sse_format_event(&f, &out, &ev, T0) != SSE_OK ||
		    !json_line_valid(out.p, out.len)) {
			bad++;
			continue;
		}
		/* {"event":"..."} - the data string starts after ,"data": */
		key = strstr(out.p, "\",\"data\":\"");
		if (key == NULL) {
			baddec++;
			continue;
		}
		key += 9;
		end = strstr(key + 1, "\",\"id\":\"") + 1;
		if (!json_decodes_to(
			key, (size_t)(end - key), data, ev.data_len))
			baddec++;
	}
	ok(bad == 0,
	    "json: 5000 events of random bytes, each one line of strictly "
	    "valid JSON (%d bad)",
	    bad);
	ok(baddec == 0, "json: data decodes to the WHATWG decoding (%d bad)",
	    baddec);
	sse_format_release(&f);
}

/* A stand-in JSON reader: prints "<PATH of DATA>". */
static int
path_fn(void *ctx, const char *path, size_t plen, const struct sse_event *ev,
    struct sse_buf *b)
{
	(*(int *)ctx)++;
	return sse_buf_addf(
	    b, "<%.*s of %.*s>", (int)plen, path, (int)ev->data_len, ev->data);
}

/* {data.PATH} goes to the caller's reader; .PATH is {data.PATH}\n. */
static void
test_paths(void)
{
	struct sse_event ev = ev_str(NULL, "{}", NULL);
	struct sse_format f;
	char err[256];
	int calls = 0;

	ok(sse_format_init(&f, "{data.a.0.b}|{data.c}", err, sizeof(err)) == 0,
	    "paths: a template with {data.PATH}");
	sse_buf_reset(&out);
	sse_format_event(&f, &out, &ev, 0);
	is_mem(out.p, out.len, "|", 1, "paths: no reader, nothing printed");
	sse_buf_reset(&out);
	f.path_fn = path_fn;
	f.path_ctx = &calls;
	sse_format_event(&f, &out, &ev, 0);
	is_mem(out.p, out.len, "<a.0.b of {}>|<c of {}>", 23,
	    "paths: each placeholder asks the reader, in order");
	ok(calls == 2, "paths: once per placeholder");
	sse_format_release(&f);
	ok(sse_format_init(&f, ".x.y", err, sizeof(err)) == 0,
	    "paths: .PATH is a format");
	f.path_fn = path_fn;
	f.path_ctx = &calls;
	sse_buf_reset(&out);
	sse_format_event(&f, &out, &ev, 0);
	is_mem(out.p, out.len, "<x.y of {}>\n", 12, "paths: .PATH ends a line");
	sse_format_release(&f);
	ok(sse_format_init(&f, ".a{b}", err, sizeof(err)) == -1,
	    "paths: .PATH takes no braces");
	ok(sse_format_init(&f, "{data.}", err, sizeof(err)) == -1,
	    "paths: an empty path is unknown");
}

#define PP(in, want, name)                                                     \
	do {                                                                   \
		sse_buf_reset(&out);                                           \
		ok(sse_json_pretty(&out, in, strlen(in), "> ", false) == 0,    \
		    "json pretty: %s", name);                                  \
		is_mem(out.p, out.len, want, strlen(want), name);              \
	} while (0)

#define NOT_PP(in, name)                                                       \
	do {                                                                   \
		sse_buf_reset(&out);                                           \
		ok(sse_json_pretty(&out, in, strlen(in), "", false) == 1 &&    \
			out.len == 0,                                          \
		    "json pretty: not JSON: %s", name);                        \
	} while (0)

/* lib/jsonpp.c: the pretty format's JSON, checked as it is written. */
static void
test_json_pretty(void)
{
	char deep[200];

	PP("{\"a\": [1, -2.5e3, true, null], \"b\": {}, \"c\": []}",
	    "{\n>   \"a\": [\n>     1,\n>     -2.5e3,\n>     true,\n>     "
	    "null\n>   ],\n>   \"b\": {},\n>   \"c\": []\n> }",
	    "nested, empty containers on one line");
	PP(" [\"x\\u00e9\\n\"] ", "[\n>   \"x\\u00e9\\n\"\n> ]",
	    "escapes kept, blanks around ignored");
	PP("[\"\xC2\x9B\"]", "[\n>   \"\\u009B\"\n> ]",
	    "a C1 control in a string is made visible");
	NOT_PP("[\"\xC4x\"]", "a string that is not UTF-8");
	NOT_PP("[\"a\x7F\"]", "DEL in a string (it would be shown escaped)");
	NOT_PP("42", "a bare number");
	NOT_PP("\"s\"", "a bare string");
	NOT_PP("{\"a\" 1}", "no colon");
	NOT_PP("{\"a\": 1,}", "a trailing comma");
	NOT_PP("[1] x", "text after it");
	NOT_PP("[\"a\nb\"]", "a raw newline in a string");
	NOT_PP("{a: 1}", "a key not quoted");
	NOT_PP("[tru]", "a broken literal");
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	sse_buf_reset(&out);
	ok(sse_json_pretty(&out, deep, 200, "", false) == 1 && out.len == 0,
	    "json pretty: nesting deeper than 64 is left as text");
}

int
main(void)
{
	struct sse_event ev, multi, hostile, empty, utf8;
	struct sse_format f;
	struct sse_buf small, ser = SSE_BUF_INIT;
	char err[256];

	rnd_seed(0x2545F4914F6CDD1Du);
	setenv("TZ", "UTC", 1);
	tzset();
	sse_buf_init(&out, 0);
	ev = ev_str("update", "hello", "42");
	multi = ev_str(NULL, "line one\nline two", NULL);
	hostile = ev_str("a\033]0;x\007",
	    "\033[2J\r\xC2\x9B"
	    "1m\tok",
	    "\x01");
	empty = ev_str(NULL, "", NULL);
	utf8 = ev_str(NULL, "caf\xC3\xA9 \xE2\x82\xAC", NULL);

	/* raw: exactly the serializer's bytes. */
	sse_serialize(&ser, &ev, NULL);
	fmt_is(
	    "raw", false, &ev, ser.p, ser.len, "raw: the serializer's bytes");
	FMT_IS("raw", &multi, "data: line one\ndata: line two\n\n",
	    "raw: multi-line data");

	/* json */
	FMT_IS("json", &ev,
	    "{\"event\":\"update\",\"data\":\"hello\",\"id\":\"42\"" T0_JSON,
	    "json: one object a line");
	FMT_IS("json", &multi,
	    "{\"event\":\"message\",\"data\":\"line one\\nline "
	    "two\",\"id\":\"\"" T0_JSON,
	    "json: default type, LF escaped, empty id");
	FMT_IS("json", &hostile,
	    "{\"event\":\"a\\u001b]0;x\\u0007\",\"data\":\"\\u001b["
	    "2J\\r\xC2\x9B"
	    "1m\\tok\",\"id\":\"\\u0001\"" T0_JSON,
	    "json: controls escaped");
	ev.id = "7";
	ev.id_len = 1;
	ev.has_id = false;
	FMT_IS("json", &ev,
	    "{\"event\":\"update\",\"data\":\"hello\",\"id\":\"7\"" T0_JSON,
	    "json: id is the last event ID even when this event had no id "
	    "field");
	ev = ev_str("update", "hello", "42");
	json_random();

	/* data, data0 */
	FMT_IS("data", &multi, "line one\nline two\n", "data: data then LF");
	FMT_IS("data", &empty, "\n", "data: empty data is an empty line");
	fmt_is("data0", false, &multi, "line one\nline two\0", 18,
	    "data0: data then NUL");

	/* pretty */
	FMT_IS("pretty", &ev, "12:34:56.789 update id=42\n  hello\n",
	    "pretty: time, type, id, then the data indented");
	FMT_IS("pretty", &multi,
	    "12:34:56.789 message\n  line one\n  line two\n",
	    "pretty: no id, every data line indented");
	FMT_IS("pretty", &empty, "12:34:56.789 message\n",
	    "pretty: empty data, header line alone");
	FMT_IS("pretty", &hostile,
	    "12:34:56.789 a\\x1B]0;x\\x07 id=\\x01\n  \\x1B[2J\\x0D\\u009B"
	    "1m\tok\n",
	    "pretty: terminal controls (C0, C1) shown, not obeyed");
	FMT_IS("pretty", &utf8,
	    "12:34:56.789 message\n  caf\xC3\xA9 \xE2\x82\xAC\n",
	    "pretty: non-ASCII text shown as is");
	ok(fmt_out("pretty", true, &ev) == SSE_OK, "pretty colour: SSE_OK");
	ok(out.len > 0 && strstr(out.p, "\033[") != NULL &&
		strstr(out.p, "\033[0m") != NULL,
	    "pretty colour: ANSI SGR sequences present and reset");
	{
		/* Strip the SGR sequences: the same text as without colour. */
		char plain[256];
		size_t i, n = 0;

		for (i = 0; i < out.len && n < sizeof(plain); i++) {
			if (out.p[i] == '\033') {
				while (i < out.len && out.p[i] != 'm')
					i++;
				continue;
			}
			plain[n++] = out.p[i];
		}
		is_mem(plain, n, "12:34:56.789 update id=42\n  hello\n", 34,
		    "pretty colour: same text once the colours are removed");
	}
	fmt_out("pretty", true, &hostile);
	ok(strstr(out.p, "\033]") == NULL && strstr(out.p, "\033[2J") == NULL,
	    "pretty colour: hostile controls still not passed through");
	{
		struct sse_event e = ev_str("a\x01"
					    "b",
		    "c\x02"
		    "d",
		    "e\x7F");

		fmt_out("pretty", true, &e);
		static const char want[] =
		    "\033[2m12:34:56.789\033[0m \033[1;36ma\033[7m\\x01\033[0m"
		    "\033[1;36mb\033[0m \033[33mid=e\033[7m\\x7F\033[0m\033["
		    "33m\033[0m\n  c\033[7m\\x02\033[0md\n";

		is_mem(out.p, out.len, want, sizeof(want) - 1,
		    "pretty colour: after an escape the field's colour is "
		    "back");
	}

	/* sse_format_visible, for -v and the like */
	{
		static const char in[] =
		    "a\0b\x1B[2J\xC2\x9B\t\xFF\xC3(\xE2\x82"
		    "\xAC\xED\xA0\x80\n\x7F";
		static const char want[] =
		    "a\\x00b\\x1B[2J\\u009B\t\\xFF\\xC3("
		    "\xE2\x82\xAC\\xED\\xA0\\x80\\x0A\\x7F";

		sse_buf_reset(&out);
		ok(sse_format_visible(&out, in, sizeof(in) - 1, NULL, NULL) ==
			0,
		    "visible: SSE_OK");
		is_mem(out.p, out.len, want, sizeof(want) - 1,
		    "visible: NUL, C0, C1, DEL and bytes that are not UTF-8 "
		    "escaped, tab and UTF-8 kept");
	}

	/* templates */
	FMT_IS("{event}\\t{id}\\t{data}", &ev, "update\t42\thello",
	    "template: placeholders and \\t, nothing added at the end");
	FMT_IS("{data}\\n", &multi, "line one\nline two\n",
	    "template: \\n escape, data as is");
	FMT_IS("{{{event}}} \\\\ {{}}", &ev, "{update} \\ {}",
	    "template: {{ }} and \\\\ are literal");
	FMT_IS("[{time}]", &ev, "[2024-05-01T12:34:56.789Z]",
	    "template: {time} is ISO 8601 UTC with milliseconds");
	FMT_IS("{json}", &ev,
	    "{\"event\":\"update\",\"data\":\"hello\",\"id\":\"42\","
	    "\"time\":\"2024-05-01T12:34:56.789Z\"}",
	    "template: {json} is the json format's object, no LF");
	FMT_IS("{id}|", &multi, "|", "template: empty id");
	FMT_IS(
	    "{data}{data}", &ev, "hellohello", "template: a placeholder twice");

	init_fails("xml",
	    "unknown format 'xml' (expected raw, json, data, data0, pretty or "
	    "a "
	    "template such as '{event}\\t{data}')",
	    "unknown format");
	init_fails("",
	    "unknown format '' (expected raw, json, data, data0, "
	    "pretty or a template such as '{event}\\t{data}')",
	    "empty format");
	init_fails("{event} {foo}",
	    "unknown placeholder '{foo}' (known: {event}, {data}, "
	    "{data.PATH}, {id}, {time}, {json})",
	    "unknown placeholder named");
	init_fails("{}",
	    "unknown placeholder '{}' (known: {event}, {data}, "
	    "{data.PATH}, {id}, {time}, {json})",
	    "empty placeholder");
	init_fails("{data", "unterminated placeholder '{data' in template",
	    "unterminated placeholder");
	init_fails("{data} }",
	    "single '}' in template (use '}}' for a literal "
	    "brace)",
	    "lone closing brace");
	init_fails("{data}\\q",
	    "unknown escape '\\q' in template (use \\n, \\t or \\\\)",
	    "unknown escape");
	init_fails(
	    "{data}\\", "template ends with a lone '\\'", "trailing backslash");
	ok(sse_format_init(&f, "{data}", NULL, 0) == 0,
	    "err may be NULL with errlen 0");
	sse_format_release(&f);
	ok(sse_format_init(&f, "nope", NULL, 0) == -1,
	    "err NULL: still refused");

	/* the cap: out unchanged */
	sse_buf_init(&small, 12);
	sse_buf_addstr(&small, "ab");
	sse_format_init(&f, "json", err, sizeof(err));
	ok(sse_format_event(&f, &small, &ev, T0) == SSE_ERR_TOO_BIG &&
		small.len == 2,
	    "json past the cap: SSE_ERR_TOO_BIG, out unchanged");
	sse_format_release(&f);
	sse_format_init(&f, "{data}{data}{data}", err, sizeof(err));
	ok(sse_format_event(&f, &small, &ev, T0) == SSE_ERR_TOO_BIG &&
		small.len == 2,
	    "template past the cap: out unchanged");
	sse_format_release(&f);
	sse_buf_release(&small);

	/* raw refuses what would inject fields */
	sse_format_init(&f, "raw", err, sizeof(err));
	ev = ev_str("a\nb", "x", NULL);
	sse_buf_reset(&out);
	ok(sse_format_event(&f, &out, &ev, T0) == SSE_ERR_INVALID &&
		out.len == 0,
	    "raw: a type with LF is refused");
	sse_format_release(&f);

	sse_buf_release(&ser);
	sse_buf_release(&out);
	test_paths();
	test_json_pretty();
	return done_testing();
}
