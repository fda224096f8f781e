/*
 * The inside of serve's link to a stream in Redis (redis_link.c: the
 * connections, publishing and the link itself; redis_read.c: the reading
 * thread), shared by its two files and no one else.
 */
#ifndef SSE_REDIS_PRIV_H
#define SSE_REDIS_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis.h>

#include "buf.h"
#include "redis_link.h"
#include "redisurl.h"
#include "rstream.h"

/*
 * Entries per XREAD or XRANGE: up to 4096, but a reply of the largest
 * events stays within 4 times the history's bytes (at least 256 entries).
 */
#define READ_COUNT_MAX 4096
#define READ_COUNT_MIN 256
#define BLOCK_MS 1000 /* XREAD BLOCK */
#define SLACK_MS 10000 /* an answer later than this: the server is gone */
#define CHECK_MS 1000 /* the reader reads the epoch record this often */
#define MARK_TTL "86400" /* a producer's marker key lives a day */

struct rconn {
	redisContext *c;
	const char *fail_as, *ok_as; /* "read from", "reading from" */
	bool down; /* said so on stderr */
	int64_t down_at;
	unsigned attempt;
	char why[256];
};

struct rlink {
	struct rlink_conf conf;
	struct redis_url url;
	char shown[512];
	char *epoch_key, *mark_key;
	char maxlen[24];
	struct rlink_reader r;
	int stopfd;
	pthread_t tid;
	bool started;

	/* the reading thread's (and rlink_open()'s) */
	struct rconn rd;
	struct rstream_pos pos;
	char lastid[48]; /* XREAD after this entry */
	size_t count; /* entries a read asks for */
	int64_t checked_at;
	struct sse_event *evs;
	char (*labels)[RSTREAM_LABEL_MAX + 1];
	struct sse_buf last_id; /* of the last event handed over with one */
	bool warned_foreign;

	/* the publishing thread's */
	struct rconn pub;
	struct sse_buf cmds; /* MULTI, the XADDs */
	size_t nadd;
	uint64_t batchno;
	bool unsure; /* the connection failed during EXEC: applied? */
	char pubid[RSTREAM_EPOCH_LEN + 1];
	struct rstream_epoch pub_epoch;
	uint64_t pub_seq; /* the last entry this node added */

	pthread_mutex_t mu;
	pthread_cond_t read_cv; /* read_seq moved, or stopping */
	uint64_t read_seq;
	bool stopping;
};

/* redis_link.c: the connections */
int stopped(struct rlink *l);
int nap(struct rlink *l, int64_t ms);
int conn_fail(struct rconn *k, const char *why);
int conn_call(struct rlink *l, struct rconn *k, redisReply **out, int argc,
    const char **argv, int64_t ms);
int conn_replies(
    struct rlink *l, struct rconn *k, redisReply **out, size_t n, int64_t ms);
void conn_failed(struct rlink *l, struct rconn *k);
void conn_ok(struct rlink *l, struct rconn *k);
int conn_again(struct rlink *l, struct rconn *k);
int check_epoch(struct rlink *l, struct rconn *k, const char *ours,
    uint64_t seq, struct rstream_epoch *now);

/* redis_read.c: the reading thread, and the history filled at the start */
void *rlink_reader_main(void *arg);
int rlink_prefill(struct rlink *l);

#endif
