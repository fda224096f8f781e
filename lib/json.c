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
#include "parser.h"

static const char hex[] = "0123456789abcdef";

/* Bytes copied unchanged: printable ASCII except " and \\. */
static const unsigned char plain_tab[256] = {
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
};

static bool
plain(unsigned char c)
{
	return plain_tab[c] != 0;
}

/*
 * What replaces the special byte(s) at u: written to e, returning how many
 * bytes were written (2 to 6) and setting *used to how many were read.
 */
static size_t
special(const unsigned char *u, size_t left, char e[6], size_t *used)
{
	size_t n, bad;

	*used = 1;
	if (u[0] >= 0x80) {
		if ((n = sse_utf8_seq(u, left, &bad)) == 0) {
			*used = bad;
			memcpy(e, "\xEF\xBF\xBD", 3);
			return 3;
		}
		*used = n;
		/* U+2028 and U+2029: valid JSON, not valid JavaScript. */
		if (n == 3 && u[0] == 0xE2 && u[1] == 0x80 &&
		    (u[2] == 0xA8 || u[2] == 0xA9)) {
			memcpy(e, u[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
			return 6;
		}
		memcpy(e, u, n);
		return n;
	}
	e[0] = '\\';
	switch (u[0]) {
	case '"':
	case '\\':
		e[1] = (char)u[0];
		return 2;
	case '\b':
		e[1] = 'b';
		return 2;
	case '\f':
		e[1] = 'f';
		return 2;
	case '\n':
		e[1] = 'n';
		return 2;
	case '\r':
		e[1] = 'r';
		return 2;
	case '\t':
		e[1] = 't';
		return 2;
	}
	/* Other C0 controls and DEL (harmless in JSON, not on a terminal). */
	memcpy(e + 1, "u00", 3);
	e[4] = hex[u[0] >> 4];
	e[5] = hex[u[0] & 15];
	return 6;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Whether all 8 bytes of w are plain (SWAR; a hit may be spurious, never
 * missed: the caller then looks byte by byte). */
static bool
plain8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\'),
		 d = w ^ (ONES * 0x7F);

	return ((((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
		    ((b - ONES) & ~b) | ((d - ONES) & ~d) | w) &
		   HIGHS) == 0;
}

/*
 * The output is never shorter than the input, so room for the rest of the
 * input, as if plain, and the closing quote is kept at all times; only a
 * special byte that grows (an escape) asks for more. Plain bytes are
 * copied 8 at a time while looking at them.
 */
int
sse_json_str(struct sse_buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t old = out->len, i = 0, n, used;
	uint64_t x;
	char e[6], *w;

	if (sse_buf_room(out, len + 2) == -1)
		return -1;
	w = out->p + out->len;
	*w++ = '"';
	for (;;) {
		for (; i + 8 <= len; i += 8, w += 8) {
			memcpy(&x, u + i, 8);
			if (!plain8(x))
				break;
			memcpy(w, &x, 8);
		}
		while (i < len && plain(u[i]))
			*w++ = (char)u[i++];
		if (i == len)
			break;
		n = special(u + i, len - i, e, &used);
		if (n > used) {
			out->len = (size_t)(w - out->p);
			if (sse_buf_room(out, n + (len - i - used) + 1) == -1) {
				out->len = old;
				return -1;
			}
			w = out->p + out->len;
		}
		memcpy(w, e, n);
		w += n;
		i += used;
	}
	*w++ = '"';
	out->len = (size_t)(w - out->p);
	return 0;
}
