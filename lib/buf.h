/*
 * Growable byte buffer with a hard cap. Used everywhere in lib/ so that
 * every buffer has a maximum and growth failure is an ordinary error.
 */
#ifndef SSE_BUF_H
#define SSE_BUF_H

#include <stddef.h>

struct sse_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len; 0 means SIZE_MAX */
};

#define SSE_BUF_INIT                                                           \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

void sse_buf_init(struct sse_buf *, size_t max);
void sse_buf_release(struct sse_buf *);
/* Make room for n more bytes; -1 if that would pass the cap or malloc fails. */
int sse_buf_reserve(struct sse_buf *, size_t n);
int sse_buf_add(struct sse_buf *, const void *, size_t);
int sse_buf_addstr(struct sse_buf *, const char *);
int sse_buf_addch(struct sse_buf *, char);
int sse_buf_set(struct sse_buf *, const void *, size_t);
/* printf-style append; -1 on cap or allocation failure. */
int sse_buf_addf(struct sse_buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* sse_buf_reserve with the common case (room enough already) inline. */
static inline int
sse_buf_room(struct sse_buf *b, size_t n)
{
	/* cap never passes max + 1, so fitting is being within the cap. */
	if (b->cap > b->len && b->cap - b->len > n)
		return 0;
	return sse_buf_reserve(b, n);
}

static inline void
sse_buf_reset(struct sse_buf *b)
{
	b->len = 0;
}

#endif
