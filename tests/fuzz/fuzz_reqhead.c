/*
 * libFuzzer target for the request-head classifier (lib/reqhead.c), which
 * reads the first bytes of every connection `sse serve` accepts. Besides
 * memory safety (ASan, UBSan) it checks, abort()ing on a mismatch, the
 * picohttpparser convention the event loop relies on:
 *
 * - a length is within the bytes given and ends with the blank line;
 * - prefixes agree: a head that fits is -2 (partial) for every shorter
 *   prefix that does not yet hold its end, and the same length with more
 *   bytes after it; a head refused (-1) stays refused with more bytes;
 * - the budget is monotone: what fits a budget fits every larger one.
 *
 * The first two bytes of the input choose the budget.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reqhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data + 2;
	size_t n, budget, k;
	long r, rk;

	if (size < 2)
		return 0;
	budget = ((size_t)data[0] << 8 | data[1]) & 0x1fff;
	n = size - 2;
	r = reqhead_fit(b, n, budget);
	if (r < -2 || r == 0 || r > (long)n)
		abort();
	if (r > 0 && (b[r - 1] != '\n'))
		abort();
	/* Every prefix: partial before the end, the same after it. */
	for (k = 0; k <= n; k += 1 + k / 8) {
		rk = reqhead_fit(b, k, budget);
		if (r > 0 && (long)k < r && rk != -2)
			abort();
		if (r > 0 && (long)k >= r && rk != r)
			abort();
		if (r == -2 && rk != -2)
			abort(); /* a prefix of a partial head is partial */
		if (rk == -1 && r != -1)
			abort(); /* refused, then taken with more bytes */
		if (rk > 0 && r != rk)
			abort(); /* a head ended, then more bytes moved its end */
	}
	/* A larger budget takes what a smaller one took. */
	if (r > 0 && reqhead_fit(b, n, budget + 1 + budget / 2) != r)
		abort();
	return 0;
}
