/*
 * Inside the parser: what parser.c (the hot loop) and parser_event.c (the
 * fields and dispatch) share. Not for users of the parser.
 */
#ifndef SSE_PARSER_IMPL_H
#define SSE_PARSER_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "parser.h"

/* Where an event block stands against its canonical form (raw_line). */
enum { RAW_START, RAW_EVENT, RAW_ID, RAW_DATA, RAW_NO };

static inline int
sse__fail(struct sse_parser *p, int err)
{
	p->err = err;
	return err;
}

/* Set b to v, copying in place when it fits (the common case). */
static inline int
sse__set(struct sse_parser *p, struct sse_buf *b, const char *v, size_t vlen)
{
	if (vlen < b->cap) {
		memcpy(b->p, v, vlen);
		b->len = vlen;
		return SSE_OK;
	}
	if (sse_buf_set(b, v, vlen) == -1)
		return sse__fail(p, SSE_ERR_TOO_BIG);
	return SSE_OK;
}

/* "event": set the event type buffer to the value. */
static inline int
sse__event_type(struct sse_parser *p, const char *v, size_t vlen)
{
	return sse__set(p, &p->type, v, vlen);
}

int sse__materialize(struct sse_parser *);
int sse__dispatch(struct sse_parser *, const char *blank);
int sse__data(struct sse_parser *, const char *v, size_t vlen, bool in_input);
int sse__id(struct sse_parser *, const char *v, size_t vlen);
int sse__field(struct sse_parser *, const char *name, size_t nlen,
    const char *v, size_t vlen, bool in_input);

#endif
