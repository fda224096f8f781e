/* sse replay: what the stdout player and the server share. */
#ifndef SSE_REPLAY_H
#define SSE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpd.h"
#include "output.h"
#include "pace.h"
#include "recording.h"

struct replay_opts {
	const char *file;
	struct sse_pace
	    pace; /* --speed, --no-delay, --max-gap, --rate, --exact */
	long long loops; /* --loop: plays in all, 0 forever */
	const char *from_id;
	size_t max_event; /* --max-event-size */
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

/* Serve rec until a signal; first is the default start entry. */
int replay_serve(const struct sse_recording *, const struct replay_opts *,
    const struct httpd_opts *, long first);

#endif
