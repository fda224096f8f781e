/*
 * UTF-8 decoding as the WHATWG Encoding Standard's "UTF-8 decoder" does it:
 * every maximal invalid subpart becomes one U+FFFD, and the byte that broke
 * a sequence is looked at again. Valid text is never copied.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"

static const char replacement[] = "\xEF\xBF\xBD";

/* Length of the leading run of ASCII bytes. */
static size_t
ascii_prefix(const unsigned char *u, size_t len)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, u + i, 8);
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	while (i < len && u[i] < 0x80)
		i++;
	return i;
}

int
sse_utf8_repair(const char *s, size_t len, struct sse_buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, start, bad_end, copied = 0;
	unsigned need, k;
	unsigned char c, lo, hi;
	bool repaired = false;

	i = ascii_prefix(u, len);
	while (i < len) {
		c = u[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		start = i++;
		lo = 0x80;
		hi = 0xBF;
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
			bad_end = i;
			goto bad;
		}
		for (k = 0; k < need; k++) {
			if (i >= len || u[i] < lo || u[i] > hi) {
				bad_end = i; /* u[i] is looked at again */
				goto bad;
			}
			lo = 0x80;
			hi = 0xBF;
			i++;
		}
		continue;
	bad:
		if (!repaired) {
			sse_buf_reset(out);
			repaired = true;
		}
		if (sse_buf_add(out, s + copied, start - copied) == -1 ||
		    sse_buf_add(out, replacement, 3) == -1)
			return -1;
		copied = bad_end;
		i = bad_end;
	}
	if (!repaired)
		return 0;
	if (sse_buf_add(out, s + copied, len - copied) == -1)
		return -1;
	return 1;
}
