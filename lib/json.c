/*
 * JSON string output. Always strictly valid JSON (RFC 8259) whatever the
 * input bytes: invalid UTF-8 becomes U+FFFD the WHATWG way (one per maximal
 * invalid subpart, as lib/utf8.c does), so that the json format agrees with
 * what a browser would have decoded.
 *
 * No input byte grows to more than six output bytes (a control character
 * as \u00XX), so when the output buffer has room for that worst case the
 * string is written with no bounds checks: runs of plain bytes are copied
 * 16 (or 8) at a time while they are looked at, and each special byte costs
 * a table lookup. Only close to the buffer's cap is room asked for escape by
 * escape (json_str_tight); both write the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char hex[] = "0123456789abcdef";

/* The two-character escapes of C0 controls; 0: \u00XX. */
/* The second character of the two-character escapes; 0: \u00XX. */
static const char esc2[128] = {
    ['\b'] = 'b',
    ['\t'] = 't',
    ['\n'] = 'n',
    ['\f'] = 'f',
    ['\r'] = 'r',
    ['"'] = '"',
    ['\\'] = '\\',
};

/* Bytes copied unchanged: printable ASCII except " and \\. */
static inline bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
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
	if ((e[1] = esc2[u[0]]) != 0)
		return 2;
	/* Other C0 controls and DEL (harmless in JSON, not on a terminal). */
	memcpy(e + 1, "u00", 3);
	e[4] = hex[u[0] >> 4];
	e[5] = hex[u[0] & 15];
	return 6;
}

/*
 * The output is never shorter than the input, so room for the rest of the
 * input, as if plain, and the closing quote is kept at all times; only a
 * special byte that grows (an escape) asks for more.
 */
static int
json_str_tight(struct sse_buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t old = out->len, i = 0, n, used;
	char e[6], *w;

	if (sse_buf_room(out, len + 2) == -1)
		return -1;
	w = out->p + out->len;
	*w++ = '"';
	for (;;) {
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

/* A bit for each byte of u[0..16) that is not plain. */
static inline __attribute__((always_inline)) unsigned
special_mask16(const unsigned char *u)
{
#ifdef __SSE2__
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)u);
	/* Signed: the bytes >= 0x80 are below 0x20 too. */
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));

	m = _mm_or_si128(m,
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
		_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F))));
	return (unsigned)_mm_movemask_epi8(m);
#else
	unsigned m = 0, i;

	for (i = 0; i < 16; i++)
		if (!plain(u[i]))
			m |= 1u << i;
	return m;
#endif
}

/*
 * A bit for each of the n bytes at b (n <= 64) that is not plain; b has
 * bytes to read up to the next multiple of 16 past n.
 */
static inline uint64_t
special_mask(const unsigned char *b, size_t n)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < n; i += 16)
		m |= (uint64_t)special_mask16(b + i) << i;
	return n < 64 ? m & ((UINT64_C(1) << n) - 1) : m;
}

/*
 * Copy the n plain bytes at p to w, the first 16 at once (there are 16 to
 * read at p, and w has room for 16 more: SSE_JSON_ROOM's slack).
 */
static inline __attribute__((always_inline)) char *
copy_plain(char *w, const unsigned char *p, size_t n)
{
	memcpy(w, p, 16);
	if (n > 16)
		memcpy(w + 16, p + 16, n - 16);
	return w + n;
}

/*
 * The replacement of the byte >= 0x80 (and what follows) at u, written at
 * w: where the output goes on, with *used set to the bytes taken. Valid
 * UTF-8 is copied as it is.
 */
static char *
escape_high(
    char *w, const unsigned char *u, const unsigned char *end, size_t *used)
{
	size_t n, bad;

	if ((n = sse_utf8_seq(u, (size_t)(end - u), &bad)) == 0) {
		memcpy(w, "\xEF\xBF\xBD", 3);
		*used = bad;
		return w + 3;
	}
	*used = n;
	if (n == 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] & 0xFE) == 0xA8) {
		/* U+2028, U+2029: valid JSON, not valid JavaScript. */
		memcpy(w, u[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
		return w + 6;
	}
	memcpy(w, u, n);
	return w + n;
}

/* The escape of the ASCII byte c (not plain) at w: where the output goes on. */
static inline __attribute__((always_inline)) char *
escape_ascii(char *w, unsigned char c)
{
	w[0] = '\\';
	if ((w[1] = esc2[c]) != 0)
		return w + 2;
	memcpy(w + 1, "u00", 3);
	w[4] = hex[c >> 4];
	w[5] = hex[c & 15];
	return w + 6;
}

/*
 * The n bytes (n <= 64) at *pp, the string ending at end, with 16 bytes to
 * read past each of them: their special bytes found at once, as a bitmask, and
 * the plain runs between them copied whole. *pp moves past them (and past a
 * UTF-8 sequence that straddles their end).
 */
static inline __attribute__((always_inline)) char *
put_block(char *w, const unsigned char **pp, size_t n, const unsigned char *end)
{
	const unsigned char *b = *pp, *p = b, *q;
	uint64_t m = special_mask(b, n);
	size_t off, used;

	while (m != 0) {
		q = b + (size_t)__builtin_ctzll(m);
		w = copy_plain(w, p, (size_t)(q - p));
		/* Quotes first: data that is JSON has many. */
		if (*q == '"') {
			memcpy(w, "\\\"", 2);
			w += 2;
			p = q + 1;
			m &= m - 1;
			continue;
		}
		if (*q < 0x80) {
			w = escape_ascii(w, *q);
			p = q + 1;
			m &= m - 1;
			continue;
		}
		w = escape_high(w, q, end, &used);
		p = q + used;
		off = (size_t)(p - b);
		m = off >= 64 ? 0 : m & (~UINT64_C(0) << off);
	}
	if (p < b + n) {
		w = copy_plain(w, p, (size_t)(b + n - p));
		p = b + n;
	}
	*pp = p;
	return w;
}

/* Copy n bytes (1 to 80) with fixed-size moves, never reading past src + n. */
static inline __attribute__((always_inline)) void
copy_tail(unsigned char *dst, const unsigned char *src, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;
	size_t i;

	if (n >= 16) {
		for (i = 0; i + 16 < n; i += 16)
			memcpy(dst + i, src + i, 16);
		memcpy(dst + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else {
		for (i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/*
 * 64 bytes at a time, so long as 16 more can be read after each of them;
 * the last 80 or fewer from a copy with that room, so that no load goes
 * past the string.
 */
char *
sse_json_put(char *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned char tail[80 + 16];
	size_t n;

	*w++ = '"';
	while (end - p > 80)
		w = put_block(w, &p, 64, end);
	if ((n = (size_t)(end - p)) > 0) {
		copy_tail(tail, p, n);
		p = tail;
		end = tail + n;
		while (p < end) {
			n = (size_t)(end - p);
			w = put_block(w, &p, n < 64 ? n : 64, end);
		}
	}
	*w++ = '"';
	return w;
}

char *
sse_json_put_in(char *w, const char *s, size_t len, const char *lim)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;

	if ((size_t)(lim - s) - len < 16)
		return sse_json_put(w, s, len);
	*w++ = '"';
	while (p < end) {
		n = (size_t)(end - p);
		w = put_block(w, &p, n < 64 ? n : 64, end);
	}
	*w++ = '"';
	return w;
}

int
sse_json_str(struct sse_buf *out, const char *s, size_t len)
{
	if (len > (SIZE_MAX - 32) / 6 ||
	    sse_buf_room(out, SSE_JSON_ROOM(len)) == -1)
		return json_str_tight(out, s, len);
	out->len = (size_t)(sse_json_put(out->p + out->len, s, len) - out->p);
	return 0;
}
