/*
 * JSON string output. Always strictly valid JSON (RFC 8259) whatever the
 * input bytes: invalid UTF-8 becomes U+FFFD the WHATWG way (one per maximal
 * invalid subpart, as lib/utf8.c does), so that the json format agrees with
 * what a browser would have decoded. Runs of bytes that need no escaping are
 * copied as spans.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "json.h"

static const char hex[] = "0123456789abcdef";

/* Bytes that may be copied unchanged: printable ASCII except " and \. */
static bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

/*
 * Length of the valid UTF-8 sequence at u (lead byte u[0] >= 0x80), or 0 when
 * it is invalid, with *bad set to the length of the maximal invalid subpart
 * (at least 1) that one U+FFFD replaces.
 */
static size_t
utf8_seq(const unsigned char *u, size_t len, size_t *bad)
{
	unsigned char c = u[0], lo = 0x80, hi = 0xBF;
	size_t need, k;

	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		*bad = 1;
		return 0;
	}
	for (k = 1; k <= need; k++) {
		if (k >= len || u[k] < lo || u[k] > hi) {
			*bad = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

static int
escape_ctl(struct sse_buf *out, unsigned char c)
{
	char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

	switch (c) {
	case '"':
		return sse_buf_add(out, "\\\"", 2);
	case '\\':
		return sse_buf_add(out, "\\\\", 2);
	case '\b':
		return sse_buf_add(out, "\\b", 2);
	case '\f':
		return sse_buf_add(out, "\\f", 2);
	case '\n':
		return sse_buf_add(out, "\\n", 2);
	case '\r':
		return sse_buf_add(out, "\\r", 2);
	case '\t':
		return sse_buf_add(out, "\\t", 2);
	}
	/* Other C0 controls and DEL (harmless in JSON, not on a terminal). */
	return sse_buf_add(out, e, sizeof(e));
}

static int
json_body(struct sse_buf *out, const unsigned char *u, size_t len)
{
	size_t i = 0, run, n, bad;

	while (i < len) {
		for (run = i; run < len && plain(u[run]); run++)
			;
		if (sse_buf_add(out, u + i, run - i) == -1)
			return -1;
		if ((i = run) == len)
			break;
		if (u[i] < 0x80) {
			if (escape_ctl(out, u[i]) == -1)
				return -1;
			i++;
		} else if ((n = utf8_seq(u + i, len - i, &bad)) == 0) {
			if (sse_buf_add(out, "\xEF\xBF\xBD", 3) == -1)
				return -1;
			i += bad;
		} else if (n == 3 && u[i] == 0xE2 && u[i + 1] == 0x80 &&
		    (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
			/* U+2028 and U+2029: valid JSON, not valid JavaScript.
			 */
			if (sse_buf_add(out,
				u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029",
				6) == -1)
				return -1;
			i += 3;
		} else {
			if (sse_buf_add(out, u + i, n) == -1)
				return -1;
			i += n;
		}
	}
	return 0;
}

int
sse_json_str(struct sse_buf *out, const char *s, size_t len)
{
	size_t old = out->len;

	if (sse_buf_addch(out, '"') == -1 ||
	    json_body(out, (const unsigned char *)s, len) == -1 ||
	    sse_buf_addch(out, '"') == -1) {
		out->len = old;
		return -1;
	}
	return 0;
}
