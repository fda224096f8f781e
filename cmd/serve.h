/*
 * sse serve's pieces, and the state they share. Two threads: the input
 * thread (serve_input.c) reads stdin in big blocks, turns lines (or SSE,
 * or JSON lines) into events, serializes each once into a batch, and hands
 * the batch to the hub; the hub (serve_hub.c) appends it to the event log
 * under one lock, with flow control, and is the source the HTTP loop
 * thread (cmd/http/) asks for each client's bytes, from the client's own
 * cursor. serve.c holds the options and main.
 */
#ifndef SSE_SERVE_H
#define SSE_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "buf.h"
#include "child.h"
#include "evlog.h"
#include "httpd.h"
#include "opts.h"
#include "parser.h"
#include "rstream.h"

#define CLIENT_TOPICS 1

enum serve_input { IN_LINES, IN_SSE, IN_JSON, IN_NONE /* --redis only */ };

/* An event serialized into the batch, waiting for the log. */
struct batched {
	uint64_t n; /* its number in the stream */
	size_t off, len;
	size_t id_off, id_len;
	bool has_id;
};

/* One connected client of the hub. */
struct client {
	int kind; /* 0; CLIENT_TOPICS: a client of topics (serve_topic.c) */
	LIST_ENTRY(client) link;
	uint64_t cursor;
	uint64_t seq0; /* events before its first cursor (events out) */
	char *pre; /* sent before the log: retry, the lost signal */
	size_t pre_len, pre_off;
	bool waiting; /* it answered WAIT: suspended until a wake */
};

LIST_HEAD(client_list, client);

struct serve {
	/* options */
	enum serve_input input;
	const char *event;
	size_t event_len;
	bool ids;
	long long retry;
	size_t max_event;
	const char *end_event;
	bool exit_on_eof;
	long long history, backlog;
	size_t history_bytes;
	int64_t max_stall_ms;
	struct child_opts cmd; /* -- CMD [ARG...]; cmd.argv NULL: stdin */
	char **cmdv;
	const char *redis_url, *stream; /* --redis, --stream */
	bool publish; /* --publish (a copy of the HTTP option) */
	const char *journal_dir; /* --journal */
	int64_t fsync_ms; /* --fsync: 0 always, -1 never, else a period */
	bool journal_export; /* --journal-export */
	char pubtok[256]; /* --publish-token-file's token */
	const char *token_file, *metrics_token_file;
	char subtok[256], mettok[256]; /* their tokens */

	/* shared with the HTTP thread, under mu */
	pthread_mutex_t mu;
	struct evlog log;
	bool ended;
	struct client_list clients; /* every connected client */
	long nclients;
	uint64_t fastest; /* the highest cursor (maybe too high if refresh) */
	uint64_t keep; /* appends evict nothing from here on */
	bool refresh; /* recompute fastest and keep: a client came or left */
	bool blocked; /* the input thread waits for the fastest to reach want */
	bool stalled; /* no client took anything for max_stall: evict freely */
	uint64_t takes; /* counts clients coming or taking something */
	uint64_t want;
	bool stop; /* the loop has ended: the input thread must not wait */
	pthread_cond_t moved; /* the fastest moved, a client left, or stop */
	/*
	 * A client answered WAIT (it is being suspended) since the last
	 * wake: only then must an append wake the loop. Set and cleared under
	 * mu, and httpd checks its wake flag after every callback, so no wake
	 * is lost; with no client, or every client busy, ingesting costs the
	 * loop thread nothing.
	 */
	bool waiters;
	/*
	 * A wake was sent and no waiting client has been resumed since: the
	 * loop may be holding it (cmd/http/loop.c), so the next append wakes
	 * it again, which lets the held event leave with the new one at once.
	 * (Clients that were not waiting, still sending an earlier flush, do
	 * not count: they take new events without a wake.)
	 */
	bool unserved;
	/* named topics (serve_topic.c) */
	struct topic **topics;
	size_t ntopics;
	long long max_topics;
	/* Their ids' epoch: new in every process (they live in its memory
	 * alone), never the main stream's; "" until the first topic. */
	char topic_epoch[RSTREAM_EPOCH_LEN + 1];
	/* for GET /metrics */
	uint64_t n_published, n_resumed, n_lost, n_out;
	/* publish requests: the HTTP thread queues, the input thread takes */
	pthread_mutex_t pubmu;
	STAILQ_HEAD(, pubjob) pubq;
	int pubfd;

	struct httpd *h;
	int stopfd; /* tells the input thread to stop */
	struct serve_redis *redis; /* the link to Redis, with --redis */
	struct journal *journal; /* with --journal (the input thread's) */
	bool journal_lost; /* the last server's tail may be lost: new epoch */
	bool journal_failed; /* a write failed for good: input stopped */

	/*
	 * The stream's life (lib/rstream.h's form, as Redis-linked nodes
	 * use): serve's own ids are "EPOCH-N", N the event's number in the
	 * stream (every event counts, whatever its id), so an id names one
	 * event of one life and a restart never resumes a client on another.
	 */
	char epoch[RSTREAM_EPOCH_MAX + 1];
	size_t epoch_len;

	/* the input thread's own */
	uint64_t seq, lineno; /* seq: events so far (N of the last) */
	struct sse_buf batch;
	struct batched *pend;
	size_t npend, cappend;
	struct sse_parser parser;
	int64_t retry_in; /* a retry field from SSE input, for the next event */
	struct sse_buf scratch;
	/* SSE input: skipping the rest of an oversized event */
	bool skip, skip_bol, skip_cr;
	bool skipping; /* lines input: inside a line too long */
	struct child child; /* the command (serve_cmd.c) */
};

/* serve.c: the history indexes ids "EPOCH-N" by N (before appends). */
void serve_prefix(struct serve *);
/* serve.c: a new random epoch (a life of a stream). */
void serve_epoch_new(char out[RSTREAM_EPOCH_LEN + 1]);

/*
 * serve_journal.c, with --journal DIR: open locks the directory and
 * rebuilds the history (s->seq and s->epoch go on from it); start makes it
 * ready to write (a new segment with a new epoch if asked); write puts the
 * batch (s->pend) on disk before the hub appends it (-1: it failed for
 * good); close syncs and unlocks. Each returns 0 or an exit status, unless said.
 */
struct journal;
int serve_journal_open(struct serve *);
int serve_journal_start(struct serve *, bool new_epoch);
int serve_journal_write(struct serve *);
void serve_journal_close(struct serve *);
/* --journal-export: the journal as a recording on stdout. */
int serve_journal_export(const char *dir);

/* serve_input.c: "EPOCH-N" (or "EPOCH-end" for N 0) into out, its length:
 * of the main stream, or of any epoch (the topics'). */
#define SERVE_ID_MAX (RSTREAM_EPOCH_MAX + 24)
size_t serve_id(const struct serve *, uint64_t n, char *out);
size_t serve_id_in(const char *epoch, size_t len, uint64_t n, char *out);
/* serve_input.c: the input thread (arg: the struct serve). */
void *serve_input_main(void *arg);
/* Set up and free the input thread's own state. */
void serve_input_init(struct serve *);
void serve_input_release(struct serve *);

/* The input's pieces, for serve_cmd.c: bytes of input, one event (0, or -1
 * when it could not be), the end of a run (a last unended line), the end. */
void serve_input_feed(struct serve *, const char *, size_t);
int serve_input_emit(struct serve *, struct sse_event *);
void serve_input_cut(struct serve *);
void serve_input_end(struct serve *);

/* serve_cmd.c: `sse serve -- CMD`, the command as the input. */
extern const struct opts_row serve_cmd_rows[];
extern const size_t serve_cmd_nrows;
void serve_cmd_defaults(struct serve *);
int serve_cmd_check(struct serve *, char **operands, int n);
int serve_cmd_start(struct serve *);
void serve_cmd_run(struct serve *);
void serve_cmd_release(struct serve *);

/* serve_pub.c: POST /events (--publish), and the hub's metrics. */
extern const struct opts_row serve_pub_rows[];
extern const size_t serve_pub_nrows;
extern const struct opts_row serve_secret_rows[]; /* base: struct serve */
extern const size_t serve_secret_nrows;
int serve_pub_check(struct serve *, struct httpd_opts *);
int serve_pub_init(struct serve *);
void serve_pub_release(struct serve *);
int serve_publish(void *ctx, struct httpd_pub *);
void serve_pub_take(struct serve *);
void serve_pub_loop(struct serve *);
void serve_metrics(void *ctx, struct sse_buf *);

/* serve_topic.c: the named topics, each a log of its own. */
int serve_topic_emit(struct serve *, const char *name, size_t len,
    struct sse_event *, char *idbuf, size_t idsz, const char **why);
void *serve_topics_open(
    void *ctx, const char *const *names, size_t n, struct httpd_open *);
ssize_t serve_topics_read(struct serve *, void *client, char *, size_t);
void serve_topics_close(struct serve *, void *client);
/* Whether a topic client fell out of a topic's history (as hub_lost). */
bool serve_topics_lost(struct serve *, void *client);
/* A publish request holds the topics it names (NULL: too many) until
 * it is done, so that none is freed or missing half-way. */
struct topic *serve_topic_hold(struct serve *, const char *name, size_t);
void serve_topic_unhold(struct serve *, struct topic *);
/* Under mu: input ended (serve_hub.c); /metrics' totals (serve_pub.c). */
void serve_topics_end(struct serve *);
void serve_topics_sum(
    struct serve *, uint64_t *in, uint64_t *held, uint64_t *bytes);
void serve_topics_release(struct serve *);
void serve_topics_metrics(struct serve *, struct sse_buf *);
ssize_t serve_src_read(
    void *ctx, void *client, char *buf, size_t max, int64_t *deadline);
void serve_src_close(void *ctx, void *client);
extern const struct opts_row serve_topic_rows[];
extern const size_t serve_topic_nrows;

/* serve_hub.c: the batch into the log (end: input is over), then wake. */
void hub_flush(struct serve *, bool end);
/* The same for any batch: n events of pend, serialized in batch. */
void hub_append(struct serve *, const struct sse_buf *batch,
    const struct batched *pend, size_t n, bool end);
/* The httpd source callbacks (ctx: the struct serve). */
void *hub_open(void *ctx, struct httpd_open *op);
ssize_t hub_read(
    void *ctx, void *client, char *buf, size_t max, int64_t *deadline);
void hub_close(void *ctx, void *client);
bool hub_lost(void *ctx, void *client);
/* Under mu: the events a client has taken whole (for GET /metrics). */
uint64_t sent_events(struct serve *, const struct client *);

/*
 * serve_redis.c, with --redis: the input's events go to the stream, and
 * the stream's entries into the log. open connects and fills the log
 * (0, or an exit status after a message); start starts reading; close
 * stops, joins and frees (before httpd_free(): the link's thread wakes
 * the HTTP loop).
 */
int serve_redis_open(struct serve *);
int serve_redis_start(struct serve *);
int serve_redis_add(struct serve *, const struct sse_event *);
/* The input's batch into the stream: waits while Redis is away. */
void serve_redis_commit(struct serve *, bool end);
/* Any thread: stop waiting for Redis (a commit returns). */
void serve_redis_stop(struct serve *);
void serve_redis_close(struct serve *);

#endif
