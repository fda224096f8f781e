/*
 * The HTTP front end shared by `sse serve` and `sse replay --serve` (its
 * inside is cmd/http/, see cmd/http/http.h), over
 * libmicrohttpd: bind and port, TLS, CORS, token auth, the client limit,
 * keepalives, the built-in viewer page, routing, and the suspend/resume
 * machinery that lets ten thousand idle streams cost nothing.
 *
 * What is served comes from a *source* (struct httpd_source): for serve,
 * the broadcast event log with a cursor per client; for replay, a paced
 * reader of a recording per client. httpd asks the source for each
 * client's next bytes; when the source has none it answers HTTPD_WAIT and
 * the connection is suspended (off the poll set, no CPU) until
 * httpd_wake_all() is called, or the source's deadline passes, or a
 * keepalive is due, or the client hangs up (its socket is watched for
 * that meanwhile, so a vanished client is freed at once).
 *
 * Routes: GET /events streams (text/event-stream); GET / serves the viewer
 * unless disabled; OPTIONS answers CORS preflights; other paths 404, other
 * methods 405. With a token every route but OPTIONS needs
 * "Authorization: Bearer TOKEN" or "?token=TOKEN" (401 otherwise).
 * Streams beyond max_clients get 503.
 *
 * Threads: httpd_run() runs one event loop (epoll over the listening
 * socket, the connections still sending their request head, the two
 * libmicrohttpd daemons' epoll fds, a wake eventfd and a signalfd) in the
 * calling thread, and every source callback runs in that thread, one at a
 * time. httpd_wake_all() and httpd_drain() may be called from any thread.
 * Everything else: the thread that called httpd_start().
 */
#ifndef SSE_HTTPD_H
#define SSE_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "opts.h"

/* The options every serving command shares. */
struct httpd_opts {
	const char *bind; /* default 127.0.0.1; IPv4, IPv6 or a host name */
	long long port; /* default 8080; 0 picks a free port */
	const char *tls_cert, *tls_key; /* PEM files; both or neither */
	struct opts_list cors; /* --cors origins ("*": any) */
	const char *token; /* --token, else $SSE_TOKEN, else none */
	long long max_clients; /* streams at once; default 10000 */
	int64_t keepalive_ms; /* comment on idle streams; 0 none; 15 s */
	bool viewer; /* serve the viewer at / (--no-viewer) */
	/*
	 * Set by the command, not by httpd_opt(): one JSON line a request
	 * to this file ("-": stdout); the token of GET /metrics and
	 * /healthz instead of token; POST /events (the source's publish
	 * callback) with its own token and largest body.
	 */
	const char *access_log;
	const char *metrics_token;
	bool publish;
	const char *publish_token;
	const char *publish_token_file;
	size_t max_publish;
};

/* The rows' ids, for httpd_opt(). */
enum {
	HTTPD_OPT_CORS = 0x1000,
	HTTPD_OPT_TOKEN,
	HTTPD_OPT_TLS_CERT,
	HTTPD_OPT_TLS_KEY,
	HTTPD_OPT_MAX_CLIENTS,
	HTTPD_OPT_KEEPALIVE,
	HTTPD_OPT_NO_VIEWER,
};

/*
 * Their option table (lib/opts.h), with its "HTTP:" heading: parse it with
 * a struct httpd_opts as its base, and print it in the command's help.
 */
extern const struct opts_row httpd_rows[];
extern const size_t httpd_nrows;

void httpd_opts_init(struct httpd_opts *);
/*
 * One option given alone: ch is its row's id ('b', 'p' or HTTPD_OPT_*),
 * arg its value (NULL for --no-viewer). Returns 1 if ch is one of ours
 * (and good), 0 if it is not ours, -1 after printing why a value is bad.
 * cmd is not used (msg names the command).
 */
int httpd_opt(struct httpd_opts *, int ch, const char *arg, const char *cmd);
/* Free what httpd_opt() allocated (the --cors list). */
void httpd_opts_release(struct httpd_opts *);

/*
 * A publish request (POST /events[/TOPIC]) with its whole body, for the
 * source's publish callback; views valid until httpd_pub_done().
 */
struct httpd_pub {
	const char *topic; /* NULL for /events */
	const char *content_type; /* NULL: none was sent */
	const char *event; /* ?event=TYPE, else NULL */
	const char *body;
	size_t len;
	/* The answer, set by the source: a status and a JSON body. */
	int status;
	char *answer; /* malloc'd, freed by httpd; NULL for none */
	size_t answer_len;
};

/* What a source's read callback returns besides a byte count. */
#define HTTPD_WAIT ((ssize_t)0) /* nothing now: suspend */
#define HTTPD_END ((ssize_t)-1) /* the stream is complete: end it */
#define HTTPD_ABORT ((ssize_t)-2) /* drop the connection (e.g. too slow) */

/* A stream was asked for: what the source is told, and may answer. */
struct httpd_open {
	/*
	 * The client's Last-Event-ID header, else its ?lastEventId=, else
	 * NULL; last_len bytes, which may hold a NUL (from %00), which no id
	 * a server sent can hold.
	 */
	const char *last_id;
	size_t last_len;
	int status; /* the answer when open returns NULL */
	/*
	 * The source does not hold last_id: the response says
	 * "Last-Event-ID: earliest" (as a Mercure hub does), and the stream
	 * starts with the loss signal.
	 */
	bool lost;
};

struct httpd_source {
	/*
	 * A stream was asked for and allowed. Return the client's state (not
	 * NULL), or NULL and set o->status to answer that HTTP status
	 * instead (204 to tell a browser to stop).
	 */
	void *(*open)(void *ctx, struct httpd_open *o);
	/*
	 * Copy up to max bytes of the client's stream into buf and return
	 * how many; or HTTPD_WAIT when there is nothing to send now (only
	 * between events: httpd may send a keepalive comment then); *deadline
	 * (a now_mono_ms() time, -1 on entry) asks to be called again then
	 * even without a wake. HTTPD_END ends the stream; HTTPD_ABORT drops
	 * it. Once httpd drains (signal or httpd_drain()), WAIT means END.
	 */
	ssize_t (*read)(
	    void *ctx, void *client, char *buf, size_t max, int64_t *deadline);
	/* The connection is gone (whatever the reason): free the client. */
	void (*close)(void *ctx, void *client);
	void *ctx;
	/*
	 * Optional (NULL: POST is 405). Answer p now (set its status and
	 * answer, return 0), or return 1 and call httpd_pub_done() once it
	 * is answered, from any thread: the request waits meanwhile,
	 * suspended. Called in the loop thread.
	 */
	int (*publish)(void *ctx, struct httpd_pub *p);
	/*
	 * Optional (NULL: GET /events/NAME is 404): a stream of the topics
	 * names[0..n) (valid names), from /events/NAME or ?topic=; as open.
	 */
	void *(*open_topics)(void *ctx, const char *const *names, size_t n,
	    struct httpd_open *o);
	/* Optional: the source's own samples for GET /metrics. */
	void (*metrics)(void *ctx, struct sse_buf *out);
	/*
	 * Optional: whether the client fell out of what the source holds,
	 * so that read would drop it. A client whose socket is full is never
	 * asked to read, so httpd asks this of every stream that is not
	 * suspended, once a second, and disconnects the lost ones.
	 */
	bool (*lost)(void *ctx, void *client);
	/*
	 * Optional: also stream at this method and path (replay answers the
	 * request it recorded, e.g. POST /v1/chat/completions), any request
	 * body ignored, with these header lines ("Name: value") added.
	 */
	const char *also_method, *also_path;
	const char *const *also_headers;
	size_t also_nheaders;
	/*
	 * httpd_start() prints nothing: the caller calls httpd_announce()
	 * once it has what else it needs (serve's command started), so a
	 * server about to fail is never announced.
	 */
	bool announce_later;
};

struct httpd;

/*
 * Bind, start libmicrohttpd, and print "sse: serving http://HOST:PORT/" to
 * stderr. Returns 0, or an exit status after printing why: EXIT_CONNECT
 * when the address cannot be bound, EXIT_ERROR otherwise (e.g. an
 * unreadable certificate).
 */
int httpd_start(
    struct httpd **, const struct httpd_opts *, const struct httpd_source *);
/* The "sse: serving" lines, with the source's announce_later. */
void httpd_announce(struct httpd *);
/*
 * Run the loop until SIGINT or SIGTERM (call with both blocked in every
 * thread, e.g. httpd_block_signals() before starting threads), or until
 * httpd_drain() was called and every stream has ended. On a signal it stops
 * accepting, lets every stream take what it is owed (bounded by a grace
 * period of a few seconds), then returns the signal number; 0 after a
 * drain.
 */
int httpd_run(struct httpd *);
/* Stop libmicrohttpd and free everything; after httpd_run(). */
void httpd_free(struct httpd *);

/*
 * Any thread: the sources have new bytes; resume every waiting stream
 * (within a millisecond when wakes come in quick succession, so that what
 * comes meanwhile leaves in one send).
 */
void httpd_wake_all(struct httpd *);
/* Any thread: the same, at once: a producer waits for the streams. */
void httpd_wake_now(struct httpd *);
/* Any thread: finish each stream once its source waits, then return. */
void httpd_drain(struct httpd *);

/* Any thread: a publish request the source took (returned 1) is answered. */
void httpd_pub_done(struct httpd *, struct httpd_pub *);

/* Block SIGINT, SIGTERM and SIGPIPE in this thread and those it starts. */
void httpd_block_signals(void);

/* The viewer page (cmd/viewer.html, built into the binary). */
const char *httpd_viewer(size_t *len);

#endif
