/*
 * serve's link to a stream in Redis (sse serve --redis URL --stream KEY):
 * many nodes append to one Redis stream and each reads all of it, so that
 * they serve the same events with the same ids in the same order. The
 * layout in Redis (entries 0-1, 0-2 ..., KEY:epoch, ids EPOCH-N) is in
 * lib/rstream.h.
 *
 * Two connections, each with its own thread:
 *
 *  - reading (the link's own thread): XREAD BLOCK from the last entry
 *    read, every entry handed to the reader callbacks in the stream's
 *    order with its id (EPOCH-N, or the producer's own). A missing entry
 *    number, or an epoch that began before what was read, is reported
 *    through lost() first: never a silent gap. When the connection fails
 *    it says so on stderr and connects again, with backoff and jitter,
 *    for as long as it takes; the node keeps serving what it holds.
 *  - publishing (the caller's thread, the producer's): events added with
 *    rlink_add() go to Redis in one MULTI ... EXEC per rlink_commit(),
 *    one round trip for the whole batch, each an XADD ... MAXLEN ~ N. A
 *    commit waits until Redis has applied the batch, reconnecting as long
 *    as it takes (the caller then reads no input: the producer blocks);
 *    a marker key written in the same transaction tells, after a lost
 *    connection, whether the batch was applied, so it is applied once.
 *
 * Each connection reads the epoch record after it connects (and the reader
 * every second): an epoch that vanished (Redis lost its data) or a stream
 * that ends before what this node read or wrote (its tail was lost) starts
 * a new epoch, so that one id never names two events.
 *
 * Writing to a connection Redis closed raises SIGPIPE: call with it
 * blocked or ignored in every thread (httpd_block_signals() does).
 */
#ifndef SSE_REDIS_LINK_H
#define SSE_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define RLINK_DEFAULT_KEY "sse"
#define RLINK_CONNECT_MS 5000 /* at start: then exit EXIT_CONNECT */

struct rlink_conf {
	const char *url; /* redis://..., unix://... (lib/redisurl.h) */
	const char *key; /* the stream's key */
	size_t history; /* entries kept in Redis (MAXLEN ~) and prefilled */
	size_t history_bytes, max_event; /* bound what one read asks for */
	bool ids; /* give entries ids EPOCH-N (else only the producer's) */
	bool publish; /* this node appends its input */
};

struct rlink_reader {
	/*
	 * Entries, in the stream's order (views valid during the call).
	 * Called from the link's thread, and from rlink_open() for the
	 * prefill, never from two threads at once.
	 */
	void (*events)(void *ctx, const struct sse_event *evs, size_t n);
	/*
	 * Events after last_id (the id of the last event handed over, ""
	 * when none had an id) were lost: the stream moved past them before
	 * they were read, or Redis lost them.
	 */
	void (*lost)(void *ctx, const char *last_id);
	/*
	 * Optional: the epoch the ids are in from now on ("EPOCH" of
	 * "EPOCH-N"): first before the prefill's events, then at each change.
	 */
	void (*epoch)(void *ctx, const char *name);
	void *ctx;
};

struct rlink;

/*
 * Connect (and the publishing connection too with conf->publish), read
 * or begin the epoch, and prefill: the last conf->history entries go to
 * r->events in this thread. Returns 0, or after an error message an exit
 * status: EXIT_USAGE for a bad URL, EXIT_CONNECT when Redis cannot be
 * reached or refuses (it is tried for connect_ms), EXIT_ERROR.
 */
int rlink_open(struct rlink **, const struct rlink_conf *,
    const struct rlink_reader *r, int64_t connect_ms);
/* Start the reading thread. Returns 0, or -1 after an error message. */
int rlink_start(struct rlink *);

/* Publishing, one thread: add an event to the batch (-1: out of memory). */
int rlink_add(struct rlink *, const struct sse_event *);
/*
 * Apply the batch in Redis, waiting and reconnecting as long as it takes.
 * Returns 0 (also for an empty batch), or -1 when rlink_stop() was called
 * first (the batch may not have been applied).
 */
int rlink_commit(struct rlink *);
/*
 * Wait until the reader has read every entry this node published (so
 * that its clients can have them). Returns 0, or -1 after rlink_stop().
 */
int rlink_wait_read(struct rlink *);

/* Any thread: stop waiting and reconnecting; the reading thread ends. */
void rlink_stop(struct rlink *);
/* Join the reading thread and free everything. */
void rlink_free(struct rlink *);

#endif
