/*
 * Inside the output formats: what format.c (the formats, templates) and
 * pretty.c (the pretty format, text made safe for a terminal) share.
 */
#ifndef SSE_FORMAT_IMPL_H
#define SSE_FORMAT_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "event.h"

/* Split unix_ms into a struct tm (UTC or local) and milliseconds. */
static inline void
sse__split_time(int64_t unix_ms, bool local, struct tm *tm, int *ms)
{
	int64_t sec = unix_ms / 1000, rem = unix_ms % 1000;
	time_t t;

	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	memset(tm, 0, sizeof(*tm));
	if (local)
		localtime_r(&t, tm);
	else
		gmtime_r(&t, tm);
	*ms = (int)rem;
}

/* The pretty format (pretty.c). */
int sse__add_pretty(struct sse_buf *out, const struct sse_event *ev,
    int64_t unix_ms, bool color);

#endif
