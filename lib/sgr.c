/*
 * SGR sequences: see sgr.h.
 */
#include <string.h>

#include "sgr.h"

size_t
sse_sgr_len(const char *p, size_t n)
{
	size_t i;

	if (n < 3 || p[0] != '\033' || p[1] != '[')
		return 0;
	for (i = 2; i < n && i < SSE_SGR_MAX; i++) {
		if (p[i] == 'm')
			return i + 1;
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ';' ||
			p[i] == ':'))
			return 0;
	}
	return 0;
}

void
sse_sgr_reset(struct sse_sgr *r)
{
	r->attrs = 0;
	r->fg = r->bg = SSE_SGR_DEFAULT;
}

bool
sse_sgr_is_default(const struct sse_sgr *r)
{
	return r->attrs == 0 && r->fg == SSE_SGR_DEFAULT &&
	    r->bg == SSE_SGR_DEFAULT;
}

/* The parameters, empty ones as 0, at most max; ':' as ';'. */
static size_t
params(const char *p, size_t n, int *v, size_t max)
{
	size_t k = 0;
	int cur = 0;

	for (size_t i = 2; i + 1 < n; i++) {
		if (p[i] == ';' || p[i] == ':') {
			if (k < max)
				v[k++] = cur;
			cur = 0;
		} else if (cur < 100000) {
			cur = cur * 10 + (p[i] - '0');
		}
	}
	if (k < max)
		v[k++] = cur;
	return k;
}

/* 38/48: ;5;N or ;2;R;G;B from v[i + 1]; returns how many it took. */
static size_t
extended(const int *v, size_t i, size_t n, int32_t *c)
{
	if (i + 2 < n && v[i + 1] == 5) {
		if (v[i + 2] <= 255)
			*c = v[i + 2];
		return 2;
	}
	if (i + 4 < n && v[i + 1] == 2) {
		if (v[i + 2] <= 255 && v[i + 3] <= 255 && v[i + 4] <= 255)
			*c = SSE_SGR_RGB |
			    (v[i + 2] << 16 | v[i + 3] << 8 | v[i + 4]);
		return 4;
	}
	return n - i - 1; /* malformed: the rest means nothing */
}

void
sse_sgr_apply(struct sse_sgr *r, const char *p, size_t n)
{
	static const unsigned set[10] = {0, SSE_SGR_BOLD, SSE_SGR_DIM,
	    SSE_SGR_ITALIC, SSE_SGR_UNDERLINE, 0, 0, SSE_SGR_INVERSE, 0,
	    SSE_SGR_STRIKE};
	int v[SSE_SGR_MAX];
	size_t nv = params(p, n, v, SSE_SGR_MAX), i;

	for (i = 0; i < nv; i++) {
		int c = v[i];

		if (c == 0)
			sse_sgr_reset(r);
		else if (c < 10)
			r->attrs |= set[c];
		else if (c == 22)
			r->attrs &= ~(unsigned)(SSE_SGR_BOLD | SSE_SGR_DIM);
		else if (c >= 23 && c <= 29 && c != 25 && c != 26 && c != 28)
			r->attrs &= ~set[c - 20];
		else if (c >= 30 && c <= 37)
			r->fg = c - 30;
		else if (c >= 90 && c <= 97)
			r->fg = c - 90 + 8;
		else if (c == 39)
			r->fg = SSE_SGR_DEFAULT;
		else if (c >= 40 && c <= 47)
			r->bg = c - 40;
		else if (c >= 100 && c <= 107)
			r->bg = c - 100 + 8;
		else if (c == 49)
			r->bg = SSE_SGR_DEFAULT;
		else if (c == 38)
			i += extended(v, i, nv, &r->fg);
		else if (c == 48)
			i += extended(v, i, nv, &r->bg);
	}
}
