/*
 * Byte scanning shared by the parser and the serializer (internal to lib/).
 * find_eol finds the first CR or LF, find_high the first byte >= 0x80;
 * both return end when there is none. With SSE2 (every x86-64) they look
 * at 16 bytes at a time, otherwise they use memchr and 8-byte words.
 */
#ifndef SSE_SCAN_H
#define SSE_SCAN_H

#include <stdint.h>
#include <string.h>

/* SWAR: the lowest byte of w equal to c's byte, as a bit index, or 64. */
#define SSE_ONES UINT64_C(0x0101010101010101)
#define SSE_HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t
swar_eq(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (SSE_ONES * c);

	/* Exact for the lowest match: a borrow only runs upwards. */
	return (x - SSE_ONES) & ~x & SSE_HIGHS;
}

/* Short spans (under 16 bytes): two 8-byte words, then bytes. */
static inline const char *
find_eol_short(const char *s, const char *end)
{
	uint64_t w, m;

	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		if ((m = swar_eq(w, '\n') | swar_eq(w, '\r')) != 0)
			return s + (__builtin_ctzll(m) >> 3);
	}
	while (s < end && *s != '\n' && *s != '\r')
		s++;
	return s;
}

#ifdef __SSE2__
#include <emmintrin.h>

static inline unsigned
eol_mask16(const char *s)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);

	return (unsigned)_mm_movemask_epi8(
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
		_mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
}

static inline const char *
find_eol(const char *s, const char *end)
{
	const char *last;
	unsigned m;

	if (end - s < 16)
		return find_eol_short(s, end);
	last = end - 16;
	for (; s <= last; s += 16)
		if ((m = eol_mask16(s)) != 0)
			return s + __builtin_ctz(m);
	if (s == end)
		return end;
	/* The last 16 bytes again, less those already looked at. */
	if ((m = eol_mask16(last) >> (s - last)) != 0)
		return s + __builtin_ctz(m);
	return end;
}

static inline const char *
find_high(const char *s, const char *end)
{
	const char *last;
	__m128i v;
	unsigned m;

	for (; end - s >= 64; s += 64) {
		v = _mm_or_si128(
		    _mm_or_si128(
			_mm_loadu_si128((const __m128i *)(const void *)s),
			_mm_loadu_si128(
			    (const __m128i *)(const void *)(s + 16))),
		    _mm_or_si128(_mm_loadu_si128(
				     (const __m128i *)(const void *)(s + 32)),
			_mm_loadu_si128(
			    (const __m128i *)(const void *)(s + 48))));
		if (_mm_movemask_epi8(v) != 0)
			break;
	}
	if (end - s >= 16) {
		last = end - 16;
		for (; s <= last; s += 16) {
			m = (unsigned)_mm_movemask_epi8(
			    _mm_loadu_si128((const __m128i *)(const void *)s));
			if (m != 0)
				return s + __builtin_ctz(m);
		}
	}
	while (s < end && (unsigned char)*s < 0x80)
		s++;
	return s;
}

/*
 * The parser's line ends, 64 bytes at a time: a bitmask of the CR and LF
 * bytes of one block, consumed line by line, so that a short line costs a
 * bit scan rather than a search of its own.
 */
struct eolscan {
	const char *base; /* the block mask describes */
	const char *end;
	uint64_t mask; /* CR and LF at base + bit */
};

static inline uint64_t
eol_mask64(const char *b, const char *end)
{
	size_t n = (size_t)(end - b), i = 0;
	uint64_t m = 0;

	if (n >= 64)
		return (uint64_t)eol_mask16(b) |
		    (uint64_t)eol_mask16(b + 16) << 16 |
		    (uint64_t)eol_mask16(b + 32) << 32 |
		    (uint64_t)eol_mask16(b + 48) << 48;
	for (; i + 16 <= n; i += 16)
		m |= (uint64_t)eol_mask16(b + i) << i;
	for (; i < n; i++)
		if (b[i] == '\n' || b[i] == '\r')
			m |= UINT64_C(1) << i;
	return m;
}

static inline void
eolscan_init(struct eolscan *sc, const char *s, const char *end)
{
	sc->base = s;
	sc->end = end;
	sc->mask = s < end ? eol_mask64(s, end) : 0;
}

/* The first CR or LF at or after s (which never moves back), or end. */
static inline __attribute__((always_inline)) const char *
eolscan_next(struct eolscan *sc, const char *s)
{
	size_t off;

	for (;;) {
		if (s > sc->base) {
			off = (size_t)(s - sc->base);
			if (off >= 64)
				sc->mask = 0;
			else
				sc->mask &= ~UINT64_C(0) << off;
		}
		if (sc->mask != 0)
			return sc->base + __builtin_ctzll(sc->mask);
		if (sc->end - sc->base <= 64)
			return sc->end;
		sc->base += 64;
		sc->mask = eol_mask64(sc->base, sc->end);
	}
}
#else
static inline const char *
find_eol(const char *s, const char *end)
{
	const char *lf, *cr;

	if ((lf = memchr(s, '\n', (size_t)(end - s))) == NULL)
		lf = end;
	if (lf > s && (cr = memchr(s, '\r', (size_t)(lf - s))) != NULL)
		return cr;
	return lf;
}

static inline const char *
find_high(const char *s, const char *end)
{
	uint64_t w;

	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	while (s < end && (unsigned char)*s < 0x80)
		s++;
	return s;
}

struct eolscan {
	const char *end;
};

static inline void
eolscan_init(struct eolscan *sc, const char *s, const char *end)
{
	(void)s;
	sc->end = end;
}

static inline const char *
eolscan_next(struct eolscan *sc, const char *s)
{
	return find_eol(s, sc->end);
}
#endif

#endif
