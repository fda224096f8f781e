/*
 * sse listen: the SSE client over libcurl. Shared by its files:
 *
 *   listen.c          options, the event loop (curl multi), reconnection
 *   listen_request.c  the request: options become curl_easy_setopt calls
 *   listen_header.c   the header callback: status and content type checks
 *   listen_write.c    the write callback: body bytes -> parser -> output
 *
 * Observers (recording with --record) attach through struct listen_hooks.
 */
#ifndef SSE_LISTEN_H
#define SSE_LISTEN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "eventsource.h"
#include "output.h"
#include "parser.h"
#include "record.h"

/* Redirects followed per connection, as the Fetch standard allows. */
#define LISTEN_MAX_REDIRS 20
/*
 * The default --connect-timeout, TLS handshake included (undici's): an
 * https:// URL to a port that never answers the handshake, such as a plain
 * HTTP server waiting for a request head, fails in seconds, not in
 * libcurl's 300.
 */
#define LISTEN_CONNECT_TIMEOUT_MS 10000
/* The response headers kept for -v and the hooks. */
#define LISTEN_MAX_HEADERS (256 * 1024)
/* A refused response's body shown under the message (-v: more), and how
 * long listen waits for it. */
#define LISTEN_ERRBODY 1024
#define LISTEN_ERRBODY_V (64 * 1024)
#define LISTEN_ERRBODY_WAIT_MS 2000
/* Sockets of the transfer open at once (happy eyeballs races two). */
#define LISTEN_MAX_SOCKS 8

/* What a connection that was accepted looks like (the open hook). */
struct listen_conn {
	const char *url; /* the URL asked for */
	const char *final_url; /* after redirects */
	long status; /* 200 */
	const char *headers; /* the response headers, "Name: value\r\n"... */
	size_t headers_len;
	unsigned long attempt; /* 1 for the first connection */
	int64_t unix_ms; /* when the headers arrived */
};

/* How a connection ended (the close hook). */
struct listen_end {
	const char *reason; /* "stream ended", or the error */
	bool opened; /* whether it had been accepted */
	int64_t reconnect_ms; /* delay before the next attempt; -1: none */
	int exit_status; /* when listen ends now: its exit status, else -1 */
	int64_t unix_ms;
};

/*
 * Observers of a session, for recording (--record). Any may be NULL. For
 * each connection: open once it is accepted (status 200, an event stream),
 * then chunk for each piece of body bytes as received (before parsing),
 * event for each dispatched event (before -e and the other filters) and
 * retry for each retry field, in stream order, and close when it ends, with
 * whether and when listen reconnects. A refused or failed attempt gets close
 * without open. A hook returns 0, or non-zero (after printing its own message)
 * to end listen with EXIT_ERROR.
 */
struct listen_hooks {
	int (*open)(void *ctx, const struct listen_conn *);
	int (*chunk)(void *ctx, const char *buf, size_t len, int64_t unix_ms);
	int (*event)(void *ctx, const struct sse_event *, int64_t unix_ms);
	/* A valid retry field: the new reconnection time, in stream order. */
	void (*retry)(void *ctx, uint64_t ms);
	int (*close)(void *ctx, const struct listen_end *);
	void *ctx;
};

struct listen_opts {
	const char *url; /* as shown: a password or token in it masked */
	const char *fetch_url; /* as requested */
	struct curl_slist *headers; /* -H, in order */
	const char *method; /* -X */
	struct sse_buf body; /* -d, --data-binary, --json */
	bool has_body;
	bool json;
	const char *user;
	const char *bearer; /* --oauth2-bearer, @FILE read, or SSE_BEARER */
	char *bearer_text; /* what FILE held, owned */
	const char *cacert;
	const char *proxy;
	const char *user_agent;
	const char *last_event_id;
	bool insecure;
	bool compressed; /* --compressed: send Accept-Encoding */
	bool reconnect;
	bool no_reconnect; /* --no-reconnect */
	bool force_reconnect; /* --reconnect: also with a request body */
	int64_t retry_connect_ms; /* --retry-connect: -1 none */
	bool retry_http;
	int verbose; /* -v */
	bool quiet; /* -q */
	long long max_redirs;
	int64_t connect_timeout_ms; /* 0: libcurl's default (300 s) */
	int64_t idle_timeout_ms; /* -1: none */
	int64_t retry_delay_ms;
	int64_t retry_max_ms;
	long long max_reconnects; /* -1: no limit */
	size_t max_event;
	const char *output; /* -o: FILE instead of stdout */
	bool include; /* -i: print the response head */
	bool curl_noop; /* -N, -L: accepted, as curl's, with no effect */
	const char *state; /* --state FILE */
	char *state_text; /* what FILE held, owned */
	const char *exec; /* --exec CMD */
	bool exec_stop; /* --exec-stop: a failing CMD ends listen */
	const char *expect; /* --expect FILE */
	struct sse_recording *expected; /* its events, loaded */
	bool expect_ids; /* some of them have an id: ids are compared */
	const char *record; /* --record FILE */
	bool record_chunks;
	struct output_opts out;
};

/* One session: the state of the current connection and what persists. */
struct listen {
	const struct listen_opts *o;
	CURL *easy;
	CURLM *multi;
	struct curl_slist *req_headers; /* this attempt's request headers */
	struct sse_parser parser;
	struct sse_run_event run_index[256]; /* see listen_parser_relay */
	struct output out;
	struct listen_hooks hooks;

	/* this connection */
	struct sse_es_response resp; /* the current response head */
	struct sse_buf headers; /* its header lines */
	struct sse_buf vis; /* scratch for listen_show() */
	bool opened; /* accepted: 200 and an event stream */
	bool head_ended; /* the blank line that ends a response head came */
	bool answered; /* some of a response head came */
	bool http_retry; /* refused, but --retry-on-http-error applies */
	size_t head_bytes; /* received of this response's head (capped) */
	bool refused; /* refused: its body is kept for the message (errbody) */
	int64_t refused_ms; /* monotonic: when */
	struct sse_buf errbody;
	struct sse_buf state_id; /* --state: the ID last written */
	bool state_written;
	bool state_held; /* --exec failed: --state is not written again */
	size_t expect_next; /* --expect: the entry the next event must match */
	size_t expect_count; /* --expect: events matched */
	int64_t last_byte_ms; /* monotonic: last bytes received */
	int64_t chunk_ms; /* wall clock of the chunk being parsed */
	curl_socket_t socks[LISTEN_MAX_SOCKS]; /* open, for input_waiting() */
	unsigned nsocks;

	/* the session */
	int64_t start_ms; /* monotonic: when it started (--timeout) */
	unsigned long attempts;
	long long reconnects;
	unsigned failures; /* consecutive attempts that did not open */
	bool ever_opened; /* some connection was accepted */
	uint64_t retry_ms; /* the reconnection time */
	int stop; /* exit status to end with; -1 while going on */
	char why[CURL_ERROR_SIZE + 256]; /* the message that set stop, if any */
	char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER */
};

/* listen_request.c */
int listen_request_setup(struct listen *);
int listen_request_headers(struct listen *);
int listen_load_body(
    struct listen_opts *, const char *opt, const char *arg, int mode);
enum { BODY_DATA, BODY_BINARY, BODY_JSON };

/* listen_header.c */
size_t listen_header_cb(char *buf, size_t size, size_t n, void *ctx);
void listen_conn_reset(struct listen *);

/* listen_write.c */
size_t listen_write_cb(char *buf, size_t size, size_t n, void *ctx);
void listen_parser_init(struct listen *);
/*
 * Once the hooks are attached: let runs of events that need nothing but
 * copying go to the output as spans (sse_parser_set_run()).
 */
void listen_parser_relay(struct listen *);

static inline int64_t
listen_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Seconds for messages: "3", "0.25". */
static inline double
listen_secs(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* listen_end.c */
/*
 * A transfer is over: end the session (l->stop set, -1) or reconnect
 * after the delay returned (milliseconds).
 */
int64_t listen_transfer_done(struct listen *, CURLcode, const char *errbuf);
/* Tell the close hook how the connection ended; -1 when it failed. */
int listen_call_close(
    struct listen *, const char *reason, int64_t reconnect_ms);

/* listen_exec.c: --state and --exec, after each event */
/* Read --state's FILE into o->last_event_id; -1 after a message. */
int listen_state_load(struct listen_opts *);
/*
 * After an event was handled by the output (printed: it went through the
 * filters): save --state, run --exec. -1 after a message when listen must
 * end (exit status set).
 */
int listen_after_event(struct listen *, const struct sse_event *, bool printed);
void listen_exec_release(struct listen *);
/* --expect: load FILE; -1 after a message. */
int listen_expect_load(struct listen_opts *);
/* The session ended with rc: EXIT_EXPECT when expected events are missing. */
int listen_expect_end(struct listen *, int rc);

/* listen_opts.c */
void listen_opts_init(struct listen_opts *);
void listen_opts_release(struct listen_opts *);
/* 0 to go on, 1 for --help, -1 (message printed) or -2 (add usage). */
int listen_opts_parse(struct listen_opts *, int argc, char **argv);
size_t listen_opts_help(char *out, size_t outsz);
/* The URL to use (curl_free() it), or NULL after a message. */
char *listen_check_url(const char *);
/*
 * The URL to show in messages and -v (free() it): a password and the value
 * of a token= or access_token= query parameter masked as "***". NULL when
 * out of memory.
 */
char *listen_shown_url(const char *url);
void listen_mask_query(char *q);

/*
 * listen_msg.c: what listen says. The -v lines trace the session in
 * curl's way ("* connected", "< header"), without the "sse: listen:"
 * prefix of messages (cmd/msg.h).
 */
void listen_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A refused response is complete (or waited for enough): say why, with
 * the start of its body, and end with EXIT_HTTP. */
void listen_refuse(struct listen *);
/* End the session with status, saying why (kept in l->why). */
void listen_fail(struct listen *, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* -v: a line of prefix and text from the network, made safe. */
void listen_show(struct listen *, const char *prefix, const char *s, size_t);
/*
 * Text from the network, made safe for a terminal (sse_format_visible).
 * Valid until the next call; *len for "%.*s".
 */
const char *listen_visible(struct listen *, const char *s, size_t, int *len);

#endif
