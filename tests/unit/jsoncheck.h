/*
 * A tiny strict JSON (RFC 8259) checker for the unit tests: json_valid()
 * accepts exactly one JSON value (surrounded by optional whitespace) whose
 * strings are valid UTF-8 without raw control characters; json_unquote()
 * decodes one JSON string into UTF-8 bytes so that tests can compare what a
 * JSON reader would see; json_line_valid() and json_decodes_to() are the
 * checks the tests make with them.
 */
#ifndef SSE_JSONCHECK_H
#define SSE_JSONCHECK_H

/*
 * The fuzz target defines SSE_HARNESS to keep coverage instrumentation out
 * of the test helpers, so that the fuzzer steers by lib/ alone.
 */
#ifndef SSE_HARNESS
#define SSE_HARNESS
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "parser.h"
#include "utf8.h"

struct jc {
	const unsigned char *s, *end;
	char *out; /* json_unquote: decoded bytes */
	size_t outlen, outcap;
	int depth;
};

SSE_HARNESS static void
jc_put(struct jc *j, unsigned long c)
{
	unsigned char b[4];
	size_t n, i;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xC0 | c >> 6);
		b[1] = (unsigned char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xE0 | c >> 12);
		b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
		b[2] = (unsigned char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | c >> 18);
		b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
		b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
		b[3] = (unsigned char)(0x80 | (c & 0x3F));
		n = 4;
	}
	for (i = 0; i < n && j->out != NULL; i++)
		if (j->outlen < j->outcap)
			j->out[j->outlen++] = (char)b[i];
}

SSE_HARNESS static void
jc_ws(struct jc *j)
{
	while (j->s < j->end &&
	    (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

SSE_HARNESS static int
jc_hex4(struct jc *j, unsigned long *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++, j->s++) {
		if (j->s >= j->end)
			return 0;
		if (*j->s >= '0' && *j->s <= '9')
			*v = *v * 16 + (unsigned long)(*j->s - '0');
		else if (*j->s >= 'a' && *j->s <= 'f')
			*v = *v * 16 + (unsigned long)(*j->s - 'a' + 10);
		else if (*j->s >= 'A' && *j->s <= 'F')
			*v = *v * 16 + (unsigned long)(*j->s - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/* One strictly valid UTF-8 sequence (no surrogates, no overlongs). */
SSE_HARNESS static int
jc_utf8(struct jc *j)
{
	const unsigned char *u = j->s;
	size_t need, k, left = (size_t)(j->end - u);
	unsigned char lo = 0x80, hi = 0xBF;
	unsigned long c;

	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		need = 1, c = u[0] & 0x1F;
	else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		need = 2, c = u[0] & 0x0F;
		lo = u[0] == 0xE0 ? 0xA0 : 0x80;
		hi = u[0] == 0xED ? 0x9F : 0xBF;
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		need = 3, c = u[0] & 0x07;
		lo = u[0] == 0xF0 ? 0x90 : 0x80;
		hi = u[0] == 0xF4 ? 0x8F : 0xBF;
	} else
		return 0;
	for (k = 1; k <= need; k++) {
		if (k >= left || u[k] < lo || u[k] > hi)
			return 0;
		c = c << 6 | (u[k] & 0x3F);
		lo = 0x80, hi = 0xBF;
	}
	jc_put(j, c);
	j->s += need + 1;
	return 1;
}

SSE_HARNESS static int
jc_string(struct jc *j)
{
	unsigned long c, c2;

	if (j->s >= j->end || *j->s != '"')
		return 0;
	j->s++;
	while (j->s < j->end) {
		if (*j->s == '"') {
			j->s++;
			return 1;
		}
		if (*j->s < 0x20)
			return 0;
		if (*j->s >= 0x80) {
			if (!jc_utf8(j))
				return 0;
			continue;
		}
		if (*j->s != '\\') {
			jc_put(j, *j->s++);
			continue;
		}
		if (++j->s >= j->end)
			return 0;
		switch (*j->s++) {
		case '"':
			jc_put(j, '"');
			break;
		case '\\':
			jc_put(j, '\\');
			break;
		case '/':
			jc_put(j, '/');
			break;
		case 'b':
			jc_put(j, '\b');
			break;
		case 'f':
			jc_put(j, '\f');
			break;
		case 'n':
			jc_put(j, '\n');
			break;
		case 'r':
			jc_put(j, '\r');
			break;
		case 't':
			jc_put(j, '\t');
			break;
		case 'u':
			if (!jc_hex4(j, &c))
				return 0;
			/* A lone surrogate is legal JSON grammar but no text.
			 */
			if (c >= 0xDC00 && c <= 0xDFFF)
				return 0;
			if (c >= 0xD800 && c <= 0xDBFF) {
				if (j->end - j->s < 6 || j->s[0] != '\\' ||
				    j->s[1] != 'u')
					return 0;
				j->s += 2;
				if (!jc_hex4(j, &c2) || c2 < 0xDC00 ||
				    c2 > 0xDFFF)
					return 0;
				c = 0x10000 + ((c - 0xD800) << 10) +
				    (c2 - 0xDC00);
			}
			jc_put(j, c);
			break;
		default:
			return 0;
		}
	}
	return 0;
}

SSE_HARNESS static int
jc_number(struct jc *j)
{
	const unsigned char *st;

	if (j->s < j->end && *j->s == '-')
		j->s++;
	if (j->s >= j->end)
		return 0;
	if (*j->s == '0')
		j->s++;
	else if (*j->s >= '1' && *j->s <= '9')
		while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
			j->s++;
	else
		return 0;
	if (j->s < j->end && *j->s == '.') {
		st = ++j->s;
		while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
			j->s++;
		if (j->s == st)
			return 0;
	}
	if (j->s < j->end && (*j->s == 'e' || *j->s == 'E')) {
		j->s++;
		if (j->s < j->end && (*j->s == '+' || *j->s == '-'))
			j->s++;
		st = j->s;
		while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
			j->s++;
		if (j->s == st)
			return 0;
	}
	return 1;
}

SSE_HARNESS static int
jc_lit(struct jc *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n) != 0)
		return 0;
	j->s += n;
	return 1;
}

SSE_HARNESS static int
jc_value(struct jc *j)
{
	int first = 1;
	char close;

	jc_ws(j);
	if (j->s >= j->end)
		return 0;
	switch (*j->s) {
	case '"':
		return jc_string(j);
	case 't':
		return jc_lit(j, "true");
	case 'f':
		return jc_lit(j, "false");
	case 'n':
		return jc_lit(j, "null");
	case '{':
	case '[':
		if (++j->depth > 64)
			return 0;
		close = *j->s == '{' ? '}' : ']';
		j->s++;
		jc_ws(j);
		if (j->s < j->end && *j->s == close) {
			j->s++;
			j->depth--;
			return 1;
		}
		for (;;) {
			if (!first) {
				jc_ws(j);
				if (j->s < j->end && *j->s == close) {
					j->s++;
					j->depth--;
					return 1;
				}
				if (j->s >= j->end || *j->s != ',')
					return 0;
				j->s++;
			}
			first = 0;
			if (close == '}') {
				jc_ws(j);
				if (!jc_string(j))
					return 0;
				jc_ws(j);
				if (j->s >= j->end || *j->s != ':')
					return 0;
				j->s++;
			}
			if (!jc_value(j))
				return 0;
		}
	default:
		return jc_number(j);
	}
}

/* Exactly one strictly valid JSON value in s[0..len). */
SSE_HARNESS __attribute__((unused)) static bool
json_valid(const char *s, size_t len)
{
	struct jc j = {(const unsigned char *)s, (const unsigned char *)s + len,
	    NULL, 0, 0, 0};

	if (!jc_value(&j))
		return false;
	jc_ws(&j);
	return j.s == j.end;
}

/*
 * Decode the JSON string s[0..len) (quotes included, nothing around it)
 * into out; returns the decoded length, or -1 if it is not exactly one
 * valid JSON string.
 */
SSE_HARNESS __attribute__((unused)) static long
json_unquote(const char *s, size_t len, char *out, size_t outcap)
{
	struct jc j = {(const unsigned char *)s, (const unsigned char *)s + len,
	    out, 0, outcap, 0};

	if (!jc_string(&j) || j.s != j.end)
		return -1;
	return (long)j.outlen;
}

/* s[0..len) is one line of JSON: one strictly valid value, then LF. */
SSE_HARNESS __attribute__((unused)) static bool
json_line_valid(const char *s, size_t len)
{
	return len > 0 && s[len - 1] == '\n' &&
	    memchr(s, '\n', len - 1) == NULL && json_valid(s, len - 1);
}

/*
 * The JSON string s[0..len) decodes to the WHATWG UTF-8 decoding of the
 * bytes in[0..n): a JSON reader sees the text a browser would.
 */
SSE_HARNESS __attribute__((unused)) static bool
json_decodes_to(const char *s, size_t len, const char *in, size_t n)
{
	struct sse_buf whatwg = SSE_BUF_INIT;
	size_t cap = 3 * n + 1; /* each byte at most one U+FFFD */
	char *dec = malloc(cap);
	bool same = false;
	long dn;

	if (dec == NULL)
		return false;
	dn = json_unquote(s, len, dec, cap);
	switch (sse_utf8_repair(in, n, &whatwg)) {
	case 0:
		same = dn == (long)n && memcmp(dec, in, n) == 0;
		break;
	case 1:
		same = dn == (long)whatwg.len &&
		    memcmp(dec, whatwg.p, whatwg.len) == 0;
		break;
	}
	free(dec);
	sse_buf_release(&whatwg);
	return same;
}

#endif
