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
 *	struct opts_table tabs[] = {
 *	    OPTS_TABLE(own_rows, &own), {output_rows, output_nrows, &oo}};
 *
 *	output_opts_init(&oo);
 *	opts_parse(&p, tabs, 2, argc, argv);	(usage error: exit 2)
 *	if (output_init(&out, &oo, STDOUT_FILENO) == -1)
 *		return EXIT_USAGE;		(bad --format, message printed)
 *	for each batch of events received:
 *		for each event:
 *			if ((r = output_event(&out, &ev, unix_ms)) !=
 *			    OUTPUT_CONTINUE)
 *				stop;
 *		r = output_flush(&out);		(once per batch, not per event)
 *	exit with output_status(r) (after output_flush)
 *	output_release(&out);
 *	output_opts_release(&oo);
 *
 * Output is buffered: nothing reaches stdout before output_flush(), which
 * the caller calls at least once per batch of events it received (so an
 * event is never held back while the program waits for the network) and
 * before it exits. The buffer is also written
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
 *   --until-match REGEX, --until-data TEXT  the same for an event whose
 *                  data matches REGEX (POSIX extended, ^ and $ also at
 *                  line ends) or equals TEXT
 *   -e TYPE, --match REGEX  only events of these types, and whose data
 *                  matches, are written (both when both are given)
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

#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "format.h"
#include "json_path.h"
#include "opts.h"

/*
 * The shared options' rows (-f, -e, -n, --until, --timeout), parsed into a
 * struct output_opts with opts_parse() beside the command's own table.
 */
extern const struct opts_row output_rows[];
extern const size_t output_nrows;

/*
 * A command's options help: the rows before, output's, the rows after
 * (before may be NULL). Returns the length needed, as snprintf does.
 */
size_t output_opts_help(const struct opts_row *before, size_t nbefore,
    const struct opts_row *after, size_t nafter, char *out, size_t outsz);

/* An OPTS_SECONDS row's call: 0 means no limit, stored as -1. */
int output_zero_is_none(void *base, const struct opts_row *, const char *arg,
    char *why, size_t whysz);

/* Flush the buffer when it holds this much, even within a batch. */
#define OUTPUT_BATCH (64 * 1024)

struct output_opts {
	const char *format; /* NULL: the default for the terminal or pipe */
	struct opts_list types; /* -e: print only these types */
	struct opts_list until; /* --until: stop after one of these */
	long long max_events; /* -n; 0 means no limit */
	const char *match; /* --match: print only events whose data matches */
	const char *until_match; /* --until-match: stop after data matching */
	const char *until_data; /* --until-data: stop after data equal to it */
	const char *color; /* --color: auto (NULL), always or never */
	bool comments; /* --comments: print comment lines (raw, json, pretty) */
	int64_t timeout_ms; /* --timeout; -1 means none */
	const char *path; /* -o FILE, named in write errors; NULL: stdout */
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
	regex_t match, until_match; /* compiled --match, --until-match */
	bool has_match, has_until_match;
	struct sse_buf rebuf; /* an event's data with a NUL, for regexec */
	struct json_path jpath; /* {data.PATH} */
	bool filter; /* any of -e, --match: some events are not printed */
	const struct output_opts *opts;
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
 * Set up output to fd with the options (o must outlive out). -1 with a
 * message naming what is wrong on a bad --format (exit EXIT_USAGE).
 */
int output_init(struct output *, const struct output_opts *o, int fd);
void output_release(struct output *);
/*
 * Whether fd can be written at all (not closed, not opened read-only):
 * -1 after "sse: CMD: cannot write to stdout: ..." (exit EXIT_ERROR), so
 * that a command can say so before it does anything.
 */
int output_check_fd(int fd);

/* Whether -e and --match let ev through (whether it is printed). */
bool output_shows(struct output *, const struct sse_event *ev);
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
 * bytes (sse_parser_set_run()), received at unix_ms; id: the last event ID
 * before them; idx: their index (sse_parser_run_index()), or NULL. In the
 * raw format they are held back as output_event_raw() holds them, in the
 * others formatted at once (sse_format_run(), sse_format_run_index() when
 * there is an index).
 */
enum output_result output_events_raw(struct output *, const char *raw,
    size_t len, size_t n, const struct sse_run_event *idx, const char *id,
    size_t id_len, int64_t unix_ms);
/*
 * A comment line (text after the colon) received at unix_ms: printed with
 * --comments in the raw, json and pretty formats. CONTINUE, or the sticky
 * state.
 */
enum output_result output_comment(
    struct output *, const char *text, size_t len, int64_t unix_ms);
/*
 * A block with no data, which dispatches no event: OUTPUT_DONE when --until
 * names its type (a deliberate difference from EventSource), else CONTINUE.
 */
enum output_result output_block(struct output *, const char *type, size_t len);
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
/* Whether to colour: --color's WHEN (NULL: auto), the environment, fd. */
bool output_color(const char *when, int fd);
/* The exit status for a result: EXIT_OK for DONE and CLOSED. */
int output_status(enum output_result);

#endif
