/*
 * The request-head cost model of reqhead.h: one pass over the bytes, no
 * allocation, no state kept between calls (a head that comes in pieces is
 * measured again from its start, which costs little as heads are short).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "reqhead.h"

/* Is the field named b[0..n) copied or echoed? */
static bool
copied_field(const char *b, size_t n)
{
	static const char *const names[] = {
	    "cookie", "origin", "access-control-request-headers"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(b, names[i], n) == 0)
			return true;
	return false;
}

/* Does the LF at b[i] end the head (a blank line after LF or CRLF)? */
static bool
blank_line(const char *b, size_t i)
{
	return b[i] == '\n' && i >= 1 &&
	    (b[i - 1] == '\n' ||
		(b[i - 1] == '\r' && i >= 2 && b[i - 2] == '\n'));
}

long
reqhead_fit(const char *b, size_t n, size_t budget)
{
	size_t i, cost, line;
	bool first = true; /* on the request line */
	bool named = false; /* this line's field name is known */
	bool copied = false; /* and its value is copied or echoed */
	bool cookie = false; /* a Cookie line, whose ',' parts cookies too */

	/*
	 * Empty lines before the request line neither end the head nor make
	 * a field, and the line after them is the one whose URL arguments
	 * count.
	 */
	for (i = 0; i < n && (b[i] == '\r' || b[i] == '\n'); i++)
		;
	cost = line = i;
	if (cost > budget)
		return -1;
	for (; i < n; i++) {
		/* A folded line (obsolete, RFC 9112 5.2). */
		if (i == line && !first && (b[i] == ' ' || b[i] == '\t'))
			return -1;
		cost += copied ? 2 : 1;
		if (b[i] == '\n') {
			cost += REQHEAD_FIELD_COST;
			first = named = copied = cookie = false;
			line = i + 1;
		} else if (b[i] == ';' || (cookie && b[i] == ',') ||
		    (first && (b[i] == '?' || b[i] == '&'))) {
			cost += REQHEAD_FIELD_COST;
		} else if (b[i] == ':' && !first && !named) {
			named = true;
			copied = copied_field(b + line, i - line);
			cookie = i - line == 6 &&
			    strncasecmp(b + line, "cookie", 6) == 0;
		}
		if (cost > budget)
			return -1;
		if (blank_line(b, i))
			return (long)(i + 1);
	}
	return -2;
}
