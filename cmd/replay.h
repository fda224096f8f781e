/* sse replay: what the stdout player and the server share. */
#ifndef SSE_REPLAY_H
#define SSE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "httpd.h"
#include "output.h"
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
	long long stall_after;
	/* --serve and its faults */
	bool serve;
	long long disconnect_after; /* 0 never */
	long long fail_first;
	long long status;
	long long retry_ms; /* -1 none */
};

/* The command line: replay's options, output's and the HTTP server's. */
struct replay_cli {
	struct replay_opts o;
	struct output_opts oo;
	struct httpd_opts ho;
	bool loop_bare, speed_set, httpd, keepalive; /* seen on the line */
};

void replay_cli_init(struct replay_cli *);
void replay_cli_release(struct replay_cli *);
/* 0, 1 for --help, or -1 after a message. */
int replay_cli_parse(struct replay_cli *, int argc, char **argv);
size_t replay_opts_help(char *out, size_t outsz);

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
