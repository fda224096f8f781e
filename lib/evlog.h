/*
 * The event log: serve's history ring of already-serialized events.
 *
 * Serialize once, send many times. Each event's text/event-stream bytes are
 * appended once to a byte ring; every client keeps only a cursor, the
 * absolute byte offset of the next byte it is owed (offsets count from the
 * first byte ever appended and never wrap). A reader asks for everything
 * after its cursor and gets at most two contiguous spans (the ring may wrap
 * once), which it copies to its socket in one go.
 *
 * The ring holds at most max_events events and max_bytes bytes; appending
 * past either bound evicts the oldest events whole (evlog_append_keep()
 * refuses instead to evict what a given reader still needs: flow control).
 * A cursor that points below the oldest byte still held has been
 * overtaken: that client was too slow (EVLOG_LOST), and its owner
 * disconnects it; it can come back with Last-Event-ID.
 *
 * Events that carry an id are indexed by it, so resuming by Last-Event-ID
 * is a seek: evlog_find_id() gives the cursor just after the newest event
 * with that id. While every id is a decimal number above the one before,
 * after a fixed prefix (serve's own ids EPOCH-1, EPOCH-2..., and most
 * producers' 1, 2, 3... with none), the index costs
 * nothing: each record keeps the number, and a lookup is a binary search
 * along the ring. From the first id that is not, ids are hashed: a table
 * over the ids held (built once from the ring at the switch), so lookups
 * cost the same with 10 events or 1,000,000.
 *
 * Locking contract: none inside. The log is plain data; the caller makes
 * every call under one lock (serve holds a mutex around each batch of
 * appends and around each reader's lookup-and-copy). The spans returned by
 * evlog_read() stay valid only until the next append.
 */
#ifndef SSE_EVLOG_H
#define SSE_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#define EVLOG_LOST (-1) /* the cursor fell out of the ring */
#define EVLOG_FULL (-2) /* appending would evict what a reader still needs */

struct evlog_rec; /* one event in the ring; private to evlog.c */

struct evlog_slot {
	uint64_t seq1; /* seq + 1 of the newest event with this id; 0 empty */
	uint64_t hash; /* of the id */
};

struct evlog {
	char *ring; /* max_bytes bytes */
	size_t max_bytes;
	uint64_t tail; /* offset of the oldest byte held */
	uint64_t head; /* offset just after the newest byte */
	size_t head_at; /* head % max_bytes, kept to spare a division */
	struct evlog_rec *recs; /* by seq & rmask */
	size_t max_events;
	size_t rmask; /* recs holds rmask + 1 >= max_events records */
	uint64_t first; /* seq of the oldest event held */
	uint64_t next; /* seq the next event gets; next - first held */
	struct evlog_slot *htab; /* the id index, open addressing */
	size_t hmask; /* htab size - 1 (a power of two) */
	int hashed; /* ids are found by htab, not by number */
	uint64_t last_key; /* by number: 1 + the newest id's number */
	char prefix[48]; /* ids by number are this and the number */
	size_t prefix_len;
};

/* One or two spans of bytes, in order. */
struct evlog_span {
	const char *p[2];
	size_t len[2];
};

/*
 * Allocate a ring for max_events events (>= 1) and max_bytes bytes (>= 1).
 * Returns 0, or -1 when out of memory (the log is then empty and
 * released).
 */
int evlog_init(struct evlog *, size_t max_events, size_t max_bytes);
void evlog_release(struct evlog *);
/*
 * Ids by number are prefix then the number ("Q7nXk2aB-41" with prefix
 * "Q7nXk2aB-"), as serve makes them: with it, such ids rising cost no
 * index either. Only before the first append; 0, or -1 (then, or too long).
 */
int evlog_set_prefix(struct evlog *, const char *prefix, size_t len);

/*
 * Append one serialized event. When the event carries an id, id points to
 * id_len bytes INSIDE [bytes, bytes + len) (the serializer writes the id
 * verbatim, so the caller passes that view): the index then costs no copy.
 * id NULL: the event is not indexed (no id, or an empty id).
 * Returns 0; -1 when len is 0, larger than max_bytes, or id is not inside
 * bytes (nothing is appended then).
 */
int evlog_append(struct evlog *, const char *bytes, size_t len, const char *id,
    size_t id_len);

/*
 * Flow control: evlog_append(), but evicting nothing that a reader at
 * cursor keep still needs (no byte at or after keep). When the event fits
 * only by evicting such bytes, nothing is appended and EVLOG_FULL is
 * returned; the events wholly before keep may have been evicted meanwhile.
 * evlog_append() is this with keep UINT64_MAX.
 */
int evlog_append_keep(struct evlog *, const char *bytes, size_t len,
    const char *id, size_t id_len, uint64_t keep);

/*
 * Everything from cursor to the head. Returns the number of bytes (0 when
 * caught up) and fills *s (the second span is empty unless the bytes wrap),
 * or EVLOG_LOST when cursor is below the tail (evicted) or past the head.
 */
long long evlog_read(
    const struct evlog *, uint64_t cursor, struct evlog_span *s);

/*
 * Resume: set *cursor just after the newest event held whose id is
 * [id, id + len). Returns 0, or -1 when no such event is held (the id is
 * unknown or already evicted).
 */
int evlog_find_id(
    const struct evlog *, const char *id, size_t len, uint64_t *cursor);

/*
 * For flow control with slack: the cursor that lies events events, or
 * bytes bytes, before cursor, whichever is nearer (never below the tail).
 * Passed to evlog_append_keep(), it keeps that much history behind a
 * reader at cursor for the readers that follow it. O(log n).
 */
uint64_t evlog_behind(
    const struct evlog *, uint64_t cursor, size_t events, size_t bytes);

/*
 * How many events ever appended lie wholly before cursor (the seq of the
 * first event at or after it): events a reader took between two cursors
 * are the difference. A cursor below the tail counts from the oldest
 * event held. O(log n).
 */
uint64_t evlog_seq_at(const struct evlog *, uint64_t cursor);

/* The cursor at the start of the n most recent events (all when n is
 * larger than what is held; the head when n is 0). */
uint64_t evlog_backlog(const struct evlog *, size_t n);

static inline uint64_t
evlog_head(const struct evlog *l)
{
	return l->head;
}

static inline uint64_t
evlog_count(const struct evlog *l)
{
	return l->next - l->first;
}

#endif
