/*
 * The client output pipeline shared by `sse listen` and `sse replay`: the
 * --format choice and its defaults, the filters and exit conditions
 * (-e/--event, -n/--max-events, --until, --timeout), and writing formatted
 * events to stdout in batches.
 *
 * Use:
 *
 *	struct output_opts oo;
 *	struct output out;
 *
 *	output_opts_init(&oo);
 *	while ((ch = getopt_long(argc, argv, "..." OUTPUT_SHORTOPTS, longopts,
 *	    NULL)) != -1) {
 *		switch (output_opt(&oo, "listen", ch, optarg)) {
 *		case 1: continue;		   (one of ours, parsed)
 *		case -1: return EXIT_USAGE;	   (bad value, message printed)
 *		}
 *		switch (ch) { ... the command's own options ... }
 *	}
 *	if (output_init(&out, &oo, STDOUT_FILENO, "listen") == -1)
 *		return EXIT_USAGE;		   (bad --format, message
 *printed) for each batch of events received: for each event: if ((r =
 *output_event(&out, &ev, unix_ms)) != OUTPUT_CONTINUE) stop; r =
 *output_flush(&out);	   (once per batch, not per event) exit with
 *output_status(r) (after output_flush) ... output_release(&out);
 *output_opts_release(&oo);
 *
 * The long options go in the command's table with OUTPUT_LONGOPTS, its help
 * text includes OUTPUT_HELP. Output is buffered: nothing reaches stdout
 * before output_flush(), which the caller calls at least once per batch of
 * events it received (so an event is never held back while the program
 * waits for the network) and before it exits. The buffer is also written
 * out whenever it passes OUTPUT_BATCH bytes, so memory stays bounded
 * however many events one batch holds. Formatting an event allocates
 * nothing once the buffer has grown to its working size.
 *
 * Defaults: the format is `pretty` when fd is a terminal (ANSI colour
 * unless NO_COLOR is set and not empty), `raw` otherwise, so that
 * `sse listen URL | sse serve --input sse` relays a stream unchanged.
 *
 * Filters and exit conditions, in this order for each event:
 *   --until TYPE   (repeatable) after an event of one of these types is
 *                  handled, output_event() returns OUTPUT_DONE; it looks
 *                  at every event, whether -e lets it through or not
 *   -e TYPE        (repeatable) only events of these types are written
 *   -n N           OUTPUT_DONE once N events have been written
 *   --timeout SECS parsed here, enforced by the caller (it owns the clock):
 *                  opts.timeout_ms, -1 when not given or 0 (no limit, as
 *                  curl's --max-time 0); exit EXIT_TIMEOUT
 *
 * A closed stdout (the reader went away, as with `| head -1`) is
 * OUTPUT_CLOSED: the program ends quietly with EXIT_OK. SIGPIPE must be
 * ignored by the caller (output_init() does it) so that this is seen.
 */
#ifndef SSE_OUTPUT_H
#define SSE_OUTPUT_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "format.h"

/* Long option values for the shared options with no short form. */
enum {
	OUTPUT_OPT_UNTIL = 0x4f00,
	OUTPUT_OPT_TIMEOUT,
};

#define OUTPUT_SHORTOPTS "e:f:n:"

/* clang-format off */
#define OUTPUT_LONGOPTS \
	{"event", required_argument, NULL, 'e'}, \
	{"format", required_argument, NULL, 'f'}, \
	{"max-events", required_argument, NULL, 'n'}, \
	{"until", required_argument, NULL, OUTPUT_OPT_UNTIL}, \
	{"timeout", required_argument, NULL, OUTPUT_OPT_TIMEOUT}

/* The --help lines of the shared options (tests/docs.bats reads them). */
#define OUTPUT_HELP \
	"Output (default: pretty on a terminal, raw otherwise):\n" \
	"  -f, --format FMT      raw, json, data, data0, pretty, or a template\n" \
	"                        with {event} {data} {id} {time} {json}\n" \
	"  -e, --event TYPE      print only events of this type (repeatable)\n" \
	"  -n, --max-events N    exit 0 after printing N events\n" \
	"      --until TYPE      exit 0 after an event of this type (repeatable)\n" \
	"      --timeout SECS    exit 5 after SECS seconds in all (0: none)\n"
/* clang-format on */

/* Flush the buffer when it holds this much, even within a batch. */
#define OUTPUT_BATCH (64 * 1024)

struct output_opts {
	const char *format; /* NULL: the default for the terminal or pipe */
	const char **types; /* -e: print only these types */
	size_t ntypes;
	const char **until; /* --until: stop after one of these */
	size_t nuntil;
	uint64_t max_events; /* -n; 0 means no limit */
	int64_t timeout_ms; /* --timeout; -1 means none */
};

enum output_result {
	OUTPUT_CONTINUE = 0,
	OUTPUT_DONE, /* -n or --until met: flush, then exit EXIT_OK */
	OUTPUT_CLOSED, /* stdout closed by its reader: exit EXIT_OK quietly */
	OUTPUT_FAILED, /* error, message printed: exit EXIT_ERROR */
	OUTPUT_EXPIRED, /* the deadline passed, stdout blocked: EXIT_TIMEOUT */
};

struct output {
	struct sse_format fmt;
	struct sse_buf buf;
	const struct output_opts *opts;
	const char *cmd; /* for messages: "sse: CMD: ..." */
	int fd;
	uint64_t nwritten; /* events written (after -e) */
	enum output_result state; /* sticky CLOSED or FAILED */
	bool plain; /* raw format, no -e, -n or --until: spans pass as is */
	/* No -e, -n or --until, a format that takes runs whole. */
	bool runs;
	const char *span; /* raw bytes held back (output_event_raw) */
	size_t span_len;
	/*
	 * Optional: a flag set by the caller's signal handler. A write that
	 * blocks on a stalled reader gives up when a signal arrives and the
	 * flag is set, so that SIGINT still ends the program.
	 */
	const volatile sig_atomic_t *interrupted;
	/* Optional: see output_set_deadline(). */
	int64_t (*deadline)(void *ctx);
	void *deadline_ctx;
};

void output_opts_init(struct output_opts *);
void output_opts_release(struct output_opts *);
/*
 * Handle one getopt_long() result: 1 if ch is a shared option (parsed into
 * o), 0 if it is not one of ours, -1 on a bad value (message printed with
 * "sse: CMD: ..."; the caller exits EXIT_USAGE).
 */
int output_opt(struct output_opts *, const char *cmd, int ch, const char *arg);

/*
 * Set up output to fd with the options (o must outlive out). -1 with a
 * message naming what is wrong on a bad --format (exit EXIT_USAGE).
 */
int output_init(
    struct output *, const struct output_opts *o, int fd, const char *cmd);
void output_release(struct output *);
/*
 * Whether fd can be written at all (not closed, not opened read-only):
 * -1 after "sse: CMD: cannot write to stdout: ..." (exit EXIT_ERROR), so
 * that a command can say so before it does anything.
 */
int output_check_fd(int fd, const char *cmd);

/* Whether -e lets events of this type through. */
bool output_wants(const struct output *, const char *type, size_t len);
/*
 * Filter, format and buffer one event received at unix_ms (wall clock, ms).
 * OUTPUT_DONE when an exit condition is met (the event that met it is
 * already buffered). Once CLOSED or FAILED, every call returns that.
 */
enum output_result output_event(
    struct output *, const struct sse_event *, int64_t unix_ms);
/*
 * The same for an event whose raw-format bytes the caller has (from
 * sse_parser_raw(); raw may be NULL): in the raw format they are copied
 * rather than serialized again, and the spans of consecutive events that
 * lie end to end in memory are copied as one, by output_commit() at the
 * latest. So raw must stay valid until output_commit() or output_flush().
 */
enum output_result output_event_raw(struct output *, const struct sse_event *,
    int64_t unix_ms, const char *raw, size_t len);
/*
 * n events that need no filtering (out->runs is set), as their raw-format
 * bytes (sse_parser_set_run()); id: the last event ID before them. In the
 * raw format they are held back as output_event_raw() holds them, in the
 * others formatted at once (sse_format_run()).
 */
enum output_result output_events_raw(struct output *, const char *raw,
    size_t len, size_t n, const char *id, size_t id_len);
/*
 * Copy the raw bytes held back into the buffer (writing it out first if it
 * holds OUTPUT_BATCH bytes): before the memory they are in goes away.
 * CONTINUE, CLOSED, FAILED or EXPIRED.
 */
enum output_result output_commit(struct output *);
/*
 * Write what is buffered (and held back). CONTINUE, CLOSED, FAILED
 * (message printed) or EXPIRED (see output_set_deadline).
 */
enum output_result output_flush(struct output *);
/*
 * Bound the time a write may wait for a stalled reader: fn returns the
 * milliseconds left, 0 to give up now, -1 for no limit. It is asked before
 * each write(2) and again when that time is up, so that it may grant more
 * (and it prints the message when it returns 0). A write that gives up is
 * OUTPUT_EXPIRED, sticky. A blocking write(2) is cut short by SIGALRM from
 * an interval timer (ITIMER_REAL), which the caller must not use itself.
 */
int output_set_deadline(struct output *, int64_t (*fn)(void *ctx), void *ctx);
/* The exit status for a result: EXIT_OK for DONE and CLOSED. */
int output_status(enum output_result);

#endif
