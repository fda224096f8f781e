/*
 * Replay pacing: when each entry of a recording plays, computed once, up
 * front, from the recorded offsets and the pacing options (--max-gap,
 * --rate, --speed, --no-delay). Pure arithmetic, so that `sse replay`'s
 * players (stdout, and each client of --serve) only wait for due times.
 */
#ifndef SSE_PACE_H
#define SSE_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

struct sse_pace {
	double speed; /* --speed, 1 by default */
	bool no_delay; /* --no-delay: everything at 0 */
	int64_t max_gap_ms; /* --max-gap, -1 none */
	double rate; /* --rate events/s, 0 none */
	bool exact; /* --exact: chunks are what plays, not events */
};

/*
 * When each entry plays: at[i] microseconds after the start of a loop, and
 * period the length of one loop (so loop k's entry i plays at
 * k * period + at[i]).
 */
struct sse_plan {
	int64_t *at;
	int64_t period;
};

/* 0, or -1 when out of memory. sse_plan_release() it either way. */
int sse_plan_make(
    struct sse_plan *, const struct sse_recording *, const struct sse_pace *);
void sse_plan_release(struct sse_plan *);

#endif
