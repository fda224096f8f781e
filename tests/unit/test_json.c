/*
 * sse_json_str: strictly valid JSON (RFC 8259 section 7) for any input
 * bytes, invalid UTF-8 replaced the way the WHATWG Encoding Standard's UTF-8
 * decoder does it (one U+FFFD per maximal invalid subpart).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "parser.h"
#include "jsoncheck.h"
#include "rnd.h"
#include "tap.h"

static struct sse_buf out;

static void
check(const char *in, size_t inlen, const char *want, const char *name)
{
	sse_buf_reset(&out);
	if (!ok(sse_json_str(&out, in, inlen) == 0, "%s: no error", name))
		return;
	is_mem(out.p, out.len, want, strlen(want), name);
	ok(json_valid(out.p, out.len), "%s: strictly valid JSON", name);
}

/*
 * Random byte strings, biased towards the bytes that matter (controls,
 * quotes, backslash, UTF-8 lead and continuation bytes): the output is
 * valid JSON and decodes to exactly the WHATWG decoding of the input.
 */
static void
random_bytes(void)
{
	static const unsigned char pick[] = {0x00, 0x01, 0x1F, 0x20, '"', '\\',
	    '/', 'a', 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE2,
	    0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F, 0x90, 0xA8,
	    0xA9, '\n', '\r', '\t'};
	char in[64];
	int i, bad_valid = 0, bad_decode = 0;
	size_t n, k;

	for (i = 0; i < 20000; i++) {
		n = rnd() % sizeof(in);
		for (k = 0; k < n; k++)
			in[k] = (char)(rnd() % 3 ? pick[rnd() % sizeof(pick)]
						 : rnd() & 0xFF);
		sse_buf_reset(&out);
		if (sse_json_str(&out, in, n) != 0 ||
		    !json_valid(out.p, out.len)) {
			bad_valid++;
			continue;
		}
		if (!json_decodes_to(out.p, out.len, in, n))
			bad_decode++;
	}
	ok(bad_valid == 0, "20000 random byte strings give valid JSON (%d bad)",
	    bad_valid);
	ok(bad_decode == 0,
	    "and decode to the WHATWG UTF-8 decoding of the input (%d bad)",
	    bad_decode);
}

int
main(void)
{
	struct sse_buf small;
	char all[32];
	int i;

	rnd_seed(0x9E3779B97F4A7C15u);
	sse_buf_init(&out, 0);
	check("", 0, "\"\"", "empty string");
	check("hello", 5, "\"hello\"", "plain ASCII copied");
	check(
	    "a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"", "quote and backslash escaped");
	check("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"", "short escapes");
	check("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"",
	    "other controls and DEL as \\u00XX");
	check("a\0b", 3, "\"a\\u0000b\"", "NUL escaped, not a terminator");
	check("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14,
	    "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
	    "valid UTF-8 copied unchanged");
	check("\xE2\x80\xA8\xE2\x80\xA9", 6, "\"\\u2028\\u2029\"",
	    "U+2028 and U+2029 escaped");
	check("\xFF", 1, "\"\xEF\xBF\xBD\"", "invalid byte -> U+FFFD");
	check("a\xC3", 2, "\"a\xEF\xBF\xBD\"", "truncated sequence at the end");
	/* Encoding Standard: a maximal subpart is one U+FFFD, and the byte
	 * that broke it is decoded afresh. */
	check("\xE2\x82"
	      "A",
	    3,
	    "\"\xEF\xBF\xBD"
	    "A\"",
	    "maximal subpart E2 82 then A: one U+FFFD");
	check("\xF0\x80\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"",
	    "F0 80 80 (overlong): three U+FFFD");
	check("\xED\xA0\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"",
	    "ED A0 80 (surrogate): three U+FFFD");
	check("\xC0\xAF", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"",
	    "C0 AF (overlong slash): two U+FFFD");
	check("\xF4\x90\x80\x80", 4,
	    "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"",
	    "F4 90 80 80 (past U+10FFFF): four U+FFFD");
	check("\xF0\x9F\x98\"", 4, "\"\xEF\xBF\xBD\\\"\"",
	    "truncated 4-byte sequence then a quote");

	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	sse_buf_reset(&out);
	ok(sse_json_str(&out, all, 32) == 0 && json_valid(out.p, out.len),
	    "all 32 C0 controls give valid JSON");

	sse_buf_reset(&out);
	sse_buf_addstr(&out, "x");
	sse_json_str(&out, "a", 1);
	is_mem(out.p, out.len, "x\"a\"", 4, "appends to what is there");

	sse_buf_init(&small, 8);
	sse_buf_addstr(&small, "ab");
	ok(sse_json_str(&small, "\x01\x01", 2) == -1,
	    "cap reached: -1 (needs 14 bytes, cap 8)");
	is_mem(small.p, small.len, "ab", 2, "cap reached: out unchanged");
	ok(sse_json_str(&small, "abcd", 4) == 0, "exactly at the cap fits");
	sse_buf_release(&small);

	random_bytes();
	sse_buf_release(&out);
	return done_testing();
}
