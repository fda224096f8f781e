/*
 * reqhead_fit: the picohttpparser convention (head length, -1 does not fit,
 * -2 partial), the cost of each kind of field, and that a head fed in
 * pieces is partial until its blank line, whatever the split.
 */
#include <stdio.h>
#include <string.h>

#include "reqhead.h"
#include "tap.h"

#define F REQHEAD_FIELD_COST

static long
fit(const char *s, size_t budget)
{
	return reqhead_fit(s, strlen(s), budget);
}

/* The smallest budget head s fits in (its cost), found by bisection. */
static size_t
cost(const char *s)
{
	size_t lo = 0, hi = 1 << 20, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fit(s, mid) > 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Every proper prefix of a fitting head is partial: never -1, never done. */
static void
prefixes(const char *s, const char *name)
{
	size_t n = strlen(s), i;
	long want = fit(s, 1 << 20);
	int bad = 0;

	for (i = 0; i < (size_t)want; i++)
		if (reqhead_fit(s, i, 1 << 20) != -2)
			bad++;
	ok(want > 0 && bad == 0 && (size_t)want <= n,
	    "%s: every prefix is partial (-2)", name);
}

int
main(void)
{
	static const char get[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char body[] = "GET / HTTP/1.1\r\nA: b\r\n\r\nBODY";
	char big[8192];

	ok(fit(get, 4096) == (long)strlen(get),
	    "a whole head: its length is returned");
	ok(fit(body, 4096) == (long)strlen(body) - 4,
	    "bytes after the blank line are not the head's");
	ok(fit("GET / HTTP/1.1\nA: b\n\n", 4096) == 21,
	    "LF alone ends lines and the head too");
	ok(fit("GET / HTTP/1.1\r\nA: b\r\n", 4096) == -2,
	    "no blank line yet: partial (-2)");
	ok(reqhead_fit("", 0, 4096) == -2, "nothing yet: partial");
	ok(fit("\r\n\r\nGET / HTTP/1.1\r\n\r\n", 4096) == 22,
	    "empty lines before the request line are skipped, not the end");
	ok(fit("\r\n\r\n", 4096) == -2,
	    "empty lines alone are not a head: partial");
	ok(fit("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 1 << 20) == -1,
	    "a folded line never fits (-1)");
	ok(fit(" GET / HTTP/1.1\r\n\r\n", 4096) > 0,
	    "a space at the very start is not a folded line");
	ok(fit(get, 10) == -1 && reqhead_fit(get, 12, 10) == -1,
	    "over budget: -1, even before the head is all there");

	/* The cost model, field by field. */
	ok(cost("G\r\n\r\n") == 5 + 2 * F, "a byte costs 1 and a line %d more",
	    F);
	ok(cost("G?a&b\r\n\r\n") == 9 + 4 * F,
	    "URL arguments of the request line are fields");
	ok(cost("G\r\nX: a?b&c\r\n\r\n") == 15 + 3 * F,
	    "'?' and '&' in a header are plain bytes");
	ok(cost("G\r\nX: a;b\r\n\r\n") == 13 + 4 * F,
	    "';' makes a field anywhere");
	ok(cost("G\r\nCookie: a,b\r\n\r\n") == 3 + 7 + 2 * 6 + 2 + 4 * F,
	    "Cookie: value bytes cost 2, ',' parts cookies");
	ok(cost("G\r\nX-Cookie: a,b\r\n\r\n") == 20 + 3 * F,
	    "a field that only ends in 'cookie' is not copied");
	ok(cost("G\r\norigin: ab\r\n\r\n") == 3 + 7 + 2 * 5 + 2 + 3 * F,
	    "Origin (any case) is echoed: its value bytes cost 2");
	ok(cost("G\r\nACCESS-CONTROL-REQUEST-HEADERS: a\r\n\r\n") ==
		3 + 31 + 2 * 4 + 2 + 3 * F,
	    "Access-Control-Request-Headers is echoed too");
	ok(cost("\r\n\r\nG\r\n\r\n") == 4 + 5 + 2 * F,
	    "skipped empty lines cost their bytes only");

	prefixes(get, "GET with CRLF");
	prefixes("\n\nGET /?a=1&b=2 HTTP/1.1\nCookie: a=1; b=2\nOrigin: o\n\n",
	    "LF head with arguments and cookies");

	/* A head exactly at the budget fits, one byte more does not. */
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'x', 3000);
	strcat(big, "\r\n\r\n");
	ok(fit(big, cost(big)) > 0 && fit(big, cost(big) - 1) == -1,
	    "the budget is inclusive (cost %zu)", cost(big));
	return done_testing();
}
