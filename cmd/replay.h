/* sse replay: what the stdout player and the server share. */
#ifndef SSE_REPLAY_H
#define SSE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "httpd.h"
#include "recording.h"

struct replay_opts {
	const char *file;
	double speed; /* --speed, 1 by default */
	bool no_delay; /* --no-delay */
	int64_t max_gap_ms; /* --max-gap, -1 none */
	double rate; /* --rate events/s, 0 none */
	long long loops; /* --loop: plays in all, 0 forever */
	const char *from_id;
	bool exact; /* --exact: the chunks, not the events */
	int64_t stall_ms; /* --stall, -1 none */
	uint64_t stall_after;
	/* --serve and its faults */
	bool serve;
	long long disconnect_after; /* 0 never */
	long long fail_first;
	int status;
	long long retry_ms; /* -1 none */
};

/*
 * When each entry plays: at[i] microseconds after the start of a loop, and
 * period the length of one loop (so loop k's entry i plays at
 * k * period + at[i]).
 */
struct replay_plan {
	int64_t *at;
	int64_t period;
};

int replay_pace(
    struct replay_plan *, const struct recording *, const struct replay_opts *);
int64_t replay_now_us(void);
/* Serve rec until a signal; first is the default start entry. */
int replay_serve(const struct recording *, const struct replay_opts *,
    const struct httpd_opts *, long first);

#endif
