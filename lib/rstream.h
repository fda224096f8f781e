/*
 * One stream shared by many `sse serve` nodes through Redis Streams: the
 * parts that need no connection. How an event is kept in a stream entry,
 * what SSE id an entry gets, the epoch record, how a reader finds a gap,
 * and how long it waits before connecting again.
 *
 * In Redis, for the stream key KEY:
 *
 *   KEY        the stream. Entry ids are 0-1, 0-2, 0-3 ... (XADD KEY 0-*
 *              makes the next one, whoever publishes), so an entry's
 *              number is its place in the stream and a missing number is
 *              a gap. Fields: data, and optionally event, id, retry.
 *   KEY:epoch  "EPOCH BASE": the stream's life. Ids an entry gets on a
 *              node are "EPOCH-N" (N its number). When Redis loses data
 *              (restarted empty, or the tail of the stream lost with an
 *              unflushed log), a new epoch begins, so that the same id
 *              never names two different events; BASE is the number of
 *              the last entry that was there when it began.
 *   KEY:pub:P  the last batch producer P applied (MULTI ... EXEC), read
 *              after a reconnect so a batch is applied once.
 *
 * Pure: no I/O, errors are a reason in a string.
 */
#ifndef SSE_RSTREAM_H
#define SSE_RSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define RSTREAM_EPOCH_LEN 8 /* the epochs sse makes */
#define RSTREAM_EPOCH_MAX 32 /* the longest epoch accepted from Redis */
/* "EPOCH-MS-SEQ" at most */
#define RSTREAM_LABEL_MAX (RSTREAM_EPOCH_MAX + 2 * 21)
#define RSTREAM_NFIELDS 8 /* field names and values of one entry */

/*
 * The entry for ev: names and values, in f and flen, for XADD (data always;
 * event unless "message"; id when ev->has_id; retry when >= 0, written
 * into num). Returns how many strings (even, at most RSTREAM_NFIELDS).
 */
size_t rstream_fields(
    const struct sse_event *ev, const char *f[], size_t flen[], char num[24]);

/*
 * The event of an entry's fields (views into them; type "message" and
 * empty data when absent; other fields are ignored). Returns 0, or -1 with
 * *why set when a field cannot be an event's (a retry that is not a
 * number, a type or id with CR or LF).
 */
int rstream_event(struct sse_event *ev, const char *const f[],
    const size_t flen[], size_t n, const char **why);

/* "MS-SEQ" (both decimal, 64 bits). Returns 0, or -1. */
int rstream_id_parse(const char *s, size_t len, uint64_t *ms, uint64_t *seq);

struct rstream_epoch {
	char name[RSTREAM_EPOCH_MAX + 1]; /* "" before the first is read */
	uint64_t base;
};

/* "EPOCH BASE", EPOCH of [0-9A-Za-z_] only. Returns 0, or -1. */
int rstream_epoch_parse(struct rstream_epoch *e, const char *v, size_t len);
/* A new epoch's name from RSTREAM_EPOCH_LEN random bytes. */
void rstream_epoch_make(char out[RSTREAM_EPOCH_LEN + 1],
    const unsigned char rnd[RSTREAM_EPOCH_LEN]);

/* The SSE id of entry MS-SEQ in epoch e: "E-SEQ", or "E-MS-SEQ" when MS
 * is not 0 (an entry not added by sse). Returns its length. */
size_t rstream_label(const struct rstream_epoch *e, uint64_t ms, uint64_t seq,
    char out[RSTREAM_LABEL_MAX + 1]);

/* A reader's place: the epoch its ids are in, the last entry it read. */
struct rstream_pos {
	struct rstream_epoch epoch;
	uint64_t seq; /* the last entry read (0-seq); 0 none */
	bool fresh; /* the next entry starts the reading: no gap before it */
};

enum rstream_step {
	RSTREAM_NEXT, /* the entry that follows the last one */
	RSTREAM_GAP, /* entries between the last one and this were lost */
	RSTREAM_OLD, /* not after the last one: skip it */
	RSTREAM_FOREIGN, /* an id not of the form 0-N: no gap can be seen */
};

/* The reader got entry MS-SEQ: what it means, and pos moved to it. */
enum rstream_step rstream_pos_next(
    struct rstream_pos *pos, uint64_t ms, uint64_t seq);

enum rstream_change {
	RSTREAM_SAME, /* the epoch pos is in */
	RSTREAM_SWITCH, /* a new epoch: ids from here on are in it */
	RSTREAM_REWIND, /* a new epoch, and entries pos read after its base
			   are gone: pos->seq is now the base, read again */
};

/* The epoch record as read from Redis, for a reader at pos. */
enum rstream_change rstream_pos_epoch(
    struct rstream_pos *pos, const struct rstream_epoch *now);

/*
 * The server's major version from the text of INFO server
 * ("redis_version:7.0.15"), or -1 when it names none. XADD KEY 0-* needs
 * Redis 7.
 */
int rstream_version(const char *info, size_t len);

/*
 * The wait before connecting again after attempt failures (0 the first):
 * doubling from 100 ms up to 5 s, the upper half chosen at random by rnd
 * (jitter, so that nodes do not all come back at the same moment).
 */
int64_t rstream_backoff_ms(unsigned attempt, uint32_t rnd);

#endif
