/*
 * The growable byte buffer with a hard cap: see buf.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
sse_buf_init(struct sse_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
sse_buf_release(struct sse_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int
sse_buf_reserve(struct sse_buf *b, size_t n)
{
	size_t max = b->max ? b->max : SIZE_MAX - 1;
	size_t need, ncap;
	char *np;

	if (n > max || b->len > max - n)
		return -1;
	need = b->len + n;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap = ncap > SIZE_MAX / 2 ? need + 1 : ncap * 2;
	/* One spare byte so callers may NUL-terminate cheaply. */
	if (ncap > max + 1)
		ncap = max + 1;
	if ((np = realloc(b->p, ncap)) == NULL)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
sse_buf_add(struct sse_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (sse_buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
sse_buf_addstr(struct sse_buf *b, const char *s)
{
	return sse_buf_add(b, s, strlen(s));
}

int
sse_buf_addch(struct sse_buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		return 0;
	}
	return sse_buf_add(b, &c, 1);
}

int
sse_buf_set(struct sse_buf *b, const void *p, size_t n)
{
	b->len = 0;
	return sse_buf_add(b, p, n);
}

int
sse_buf_addf(struct sse_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sse_buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
