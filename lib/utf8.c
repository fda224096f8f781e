/*
 * UTF-8 decoding as the WHATWG Encoding Standard's "UTF-8 decoder" does it:
 * every maximal invalid subpart becomes one U+FFFD, and the byte that broke
 * a sequence is looked at again. Valid text is never copied.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

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

/*
 * Length of the valid UTF-8 sequence at u (lead byte u[0] >= 0x80), or 0 when
 * it is invalid, with *bad set to the length of the maximal invalid subpart
 * (at least 1) that one U+FFFD replaces; the byte after it is looked at
 * again.
 */
size_t
sse_utf8_seq(const unsigned char *u, size_t len, size_t *bad)
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

bool
sse_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = ascii_prefix(u, len), k, bad;

	for (; i < len; i += k)
		if (u[i] < 0x80)
			k = 1;
		else if ((k = sse_utf8_seq(u + i, len - i, &bad)) == 0)
			return false;
	return true;
}

int
sse_utf8_repair(const char *s, size_t len, struct sse_buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n, bad, copied = 0;
	bool repaired = false;

	i = ascii_prefix(u, len);
	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = sse_utf8_seq(u + i, len - i, &bad)) != 0) {
			i += n;
			continue;
		}
		if (!repaired) {
			sse_buf_reset(out);
			repaired = true;
		}
		if (sse_buf_add(out, s + copied, i - copied) == -1 ||
		    sse_buf_add(out, replacement, 3) == -1)
			return -1;
		i += bad;
		copied = i;
	}
	if (!repaired)
		return 0;
	if (sse_buf_add(out, s + copied, len - copied) == -1)
		return -1;
	return 1;
}
