/*
 * serve's link to a stream in Redis: see redis_link.h. hiredis makes and
 * parses the protocol; the sockets are non-blocking and every wait is a
 * poll(2) on the socket and on stopfd, with a deadline, so that a server
 * that stops answering is noticed and rlink_stop() ends any wait at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis.h>

#include "buf.h"
#include "cmd.h"
#include "msg.h"
#include "redis_link.h"
#include "redisurl.h"
#include "rstream.h"
#include "util.h"

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

/*
 * The epoch record, read and, when need be, begun in one step.
 * KEYS: KEY:epoch, KEY. ARGV: the caller's epoch ("" none), the last entry
 * it read or wrote, a fresh epoch name. A new epoch begins when there is
 * none, or when the caller's is current but the stream ends before the
 * caller's entry (Redis lost its tail: the numbers would be used again).
 */
static const char check_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local top = 0\n"
    "local t = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)\n"
    "if #t > 0 then\n"
    "  local s = string.match(t[1][1], '^0%-(%d+)$')\n"
    "  if s then top = tonumber(s) end\n"
    "end\n"
    "if v then\n"
    "  local e = string.match(v, '^(%S+) ')\n"
    "  if e ~= ARGV[1] or tonumber(ARGV[2]) <= top then return v end\n"
    "end\n"
    "v = ARGV[3] .. ' ' .. string.format('%d', top)\n"
    "redis.call('SET', KEYS[1], v)\n"
    "return v\n";

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

/* ---- connections ---- */

static int
stopped(struct rlink *l)
{
	struct pollfd p = {l->stopfd, POLLIN, 0};

	return poll(&p, 1, 0) == 1;
}

/* Wait ms unless stopped first: 0, or -2 when stopped. */
static int
nap(struct rlink *l, int64_t ms)
{
	struct pollfd p = {l->stopfd, POLLIN, 0};
	int64_t until = now_mono_ms() + ms, left;

	while ((left = until - now_mono_ms()) > 0) {
		if (poll(&p, 1, (int)left) == 1)
			return -2;
	}
	return stopped(l) ? -2 : 0;
}

static void
conn_close(struct rconn *k)
{
	if (k->c != NULL)
		redisFree(k->c);
	k->c = NULL;
}

static int
fail(struct rconn *k, const char *why)
{
	snprintf(k->why, sizeof(k->why), "%s", why);
	return -1;
}

/*
 * Wait for the socket (POLLIN, and POLLOUT when out) until deadline.
 * Returns the revents, or -1 after a timeout (k->why set), -2 stopped.
 */
static int
conn_poll(struct rlink *l, struct rconn *k, bool out, int64_t deadline)
{
	struct pollfd p[2];
	int64_t left;
	int n;

	p[0].fd = k->c->fd;
	p[0].events = (short)(POLLIN | (out ? POLLOUT : 0));
	p[1].fd = l->stopfd;
	p[1].events = POLLIN;
	for (;;) {
		/* Polled once more at the deadline: a process stopped for a
		 * while (SIGSTOP) finds its answer waiting, not a timeout. */
		left = deadline - now_mono_ms();
		n = poll(p, 2,
		    (int)(left < 0	   ? 0
			    : left > 60000 ? 60000
					   : left));
		if (n == -1 && errno != EINTR)
			return fail(k, strerror(errno));
		if (n == 0 && left <= 0)
			return fail(k, "no answer in time");
		if (n <= 0)
			continue;
		if (p[1].revents != 0)
			return -2;
		return p[0].revents;
	}
}

/*
 * Send what is buffered and read n replies into out. Returns 0, or -1
 * (k->why set; the caller closes the connection), -2 stopped. Replies
 * read before a failure are freed.
 */
static int
conn_replies(
    struct rlink *l, struct rconn *k, redisReply **out, size_t n, int64_t ms)
{
	int64_t deadline = now_mono_ms() + ms;
	int done = 0, ev;
	size_t i = 0;
	void *rep;

	while (i < n) {
		if (redisGetReplyFromReader(k->c, &rep) != REDIS_OK) {
			fail(k, k->c->errstr);
			goto bad;
		}
		if (rep != NULL) {
			out[i++] = rep;
			continue;
		}
		if (!done && redisBufferWrite(k->c, &done) != REDIS_OK) {
			fail(k, k->c->errstr);
			goto bad;
		}
		if ((ev = conn_poll(l, k, !done, deadline)) < 0) {
			while (i > 0)
				freeReplyObject(out[--i]);
			return ev;
		}
		if ((ev & (POLLIN | POLLHUP | POLLERR)) &&
		    redisBufferRead(k->c) != REDIS_OK) {
			fail(k, k->c->errstr);
			goto bad;
		}
	}
	return 0;
bad:
	while (i > 0)
		freeReplyObject(out[--i]);
	return -1;
}

/* One command, one reply; an error reply is a failure too. */
static int
conn_call(struct rlink *l, struct rconn *k, redisReply **out, int argc,
    const char **argv, int64_t ms)
{
	int rc;

	if (redisAppendCommandArgv(k->c, argc, argv, NULL) != REDIS_OK)
		return fail(k, "out of memory");
	if ((rc = conn_replies(l, k, out, 1, ms)) != 0)
		return rc;
	if ((*out)->type == REDIS_REPLY_ERROR) {
		fail(k, (*out)->str);
		freeReplyObject(*out);
		return -1;
	}
	return 0;
}

/* Connect, AUTH, SELECT, within ms. 0, -1 (k->why set), or -2. */
static int
conn_open(struct rlink *l, struct rconn *k, int64_t ms)
{
	int64_t deadline = now_mono_ms() + ms;
	socklen_t len = sizeof(int);
	redisReply *rep;
	const char *argv[3];
	char db[24];
	int err = 0, ev, rc;

	k->c = l->url.unix_socket
	    ? redisConnectUnixNonBlock(l->url.path)
	    : redisConnectNonBlock(l->url.host, l->url.port);
	if (k->c == NULL)
		return fail(k, "out of memory");
	if (k->c->err) {
		fail(k, k->c->errstr);
		conn_close(k);
		return -1;
	}
	if ((ev = conn_poll(l, k, true, deadline)) < 0) {
		if (ev == -1)
			fail(k, "timed out connecting");
		conn_close(k);
		return ev;
	}
	if (getsockopt(k->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		fail(k, strerror(err));
		conn_close(k);
		return -1;
	}
	rc = 0;
	if (l->url.has_password) {
		argv[0] = "AUTH";
		argv[1] = l->url.user[0] ? l->url.user : l->url.password;
		argv[2] = l->url.password;
		rc = conn_call(l, k, &rep, l->url.user[0] ? 3 : 2, argv,
		    deadline - now_mono_ms());
		if (rc == 0)
			freeReplyObject(rep);
	}
	if (rc == 0 && l->url.db > 0) {
		snprintf(db, sizeof(db), "%ld", l->url.db);
		argv[0] = "SELECT";
		argv[1] = db;
		rc = conn_call(l, k, &rep, 2, argv, deadline - now_mono_ms());
		if (rc == 0)
			freeReplyObject(rep);
	}
	if (rc != 0)
		conn_close(k);
	return rc;
}

/* The connection failed: say so once (and how it goes on), close it. */
static void
conn_failed(struct rlink *l, struct rconn *k)
{
	if (!k->down) {
		msg_warnx("cannot %s redis '%s': %s; trying again", k->fail_as,
		    l->shown, k->why);
		k->down = true;
		k->down_at = now_mono_ms();
	} else {
		msg_debug(1, "cannot %s redis '%s': %s", k->fail_as, l->shown,
		    k->why);
	}
	k->attempt++;
	conn_close(k);
}

/* A round trip worked: after a failure, say that it works again. */
static void
conn_ok(struct rlink *l, struct rconn *k)
{
	if (k->down)
		msg_warnx("%s redis '%s' again after %.1f s", k->ok_as,
		    l->shown, (double)(now_mono_ms() - k->down_at) / 1000);
	k->down = false;
	k->attempt = 0;
}

/* Connect again, waiting a backoff between attempts. 0 or -2. */
static int
conn_again(struct rlink *l, struct rconn *k)
{
	uint32_t rnd = 0;
	int rc;

	while (k->c == NULL) {
		if (k->attempt > 0) {
			(void)!getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
			if (nap(l, rstream_backoff_ms(k->attempt - 1, rnd)) ==
			    -2)
				return -2;
		}
		if ((rc = conn_open(l, k, SLACK_MS)) == -2)
			return -2;
		if (rc == -1)
			conn_failed(l, k);
	}
	return 0;
}

/* Read the epoch record, beginning one when need be (check_lua). */
static int
check_epoch(struct rlink *l, struct rconn *k, const char *ours, uint64_t seq,
    struct rstream_epoch *now)
{
	unsigned char rnd[RSTREAM_EPOCH_LEN];
	char fresh[RSTREAM_EPOCH_LEN + 1], seqs[24];
	const char *argv[] = {"EVAL", check_lua, "2", l->epoch_key, l->conf.key,
	    ours, seqs, fresh};
	redisReply *rep;
	int rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return fail(k, "cannot get random bytes for an epoch");
	rstream_epoch_make(fresh, rnd);
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	if ((rc = conn_call(l, k, &rep, 8, argv, SLACK_MS)) != 0)
		return rc;
	if (rep->type != REDIS_REPLY_STRING ||
	    rstream_epoch_parse(now, rep->str, rep->len) == -1) {
		snprintf(k->why, sizeof(k->why), "bad epoch record in '%s'",
		    l->epoch_key);
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* ---- reading ---- */

static void
set_lastid(struct rlink *l, uint64_t ms, uint64_t seq)
{
	snprintf(l->lastid, sizeof(l->lastid), "%llu-%llu",
	    (unsigned long long)ms, (unsigned long long)seq);
}

static void
lost(struct rlink *l)
{
	sse_buf_addch(&l->last_id, '\0');
	l->r.lost(l->r.ctx, l->last_id.p);
	l->last_id.len--;
}

static void
reader_epoch(struct rlink *l, const struct rstream_epoch *now)
{
	bool first = l->pos.epoch.name[0] == '\0';
	enum rstream_change ch = rstream_pos_epoch(&l->pos, now);

	if (ch != RSTREAM_SAME && l->r.epoch != NULL)
		l->r.epoch(l->r.ctx, now->name);
	switch (ch) {
	case RSTREAM_SAME:
		break;
	case RSTREAM_SWITCH:
		if (!first)
			msg_warnx("redis '%s': stream '%s' has a new epoch "
				  "'%s': ids change",
			    l->shown, l->conf.key, now->name);
		break;
	case RSTREAM_REWIND:
		msg_warnx("redis '%s': stream '%s' lost events this node "
			  "had read (a new epoch '%s'): clients are told",
		    l->shown, l->conf.key, now->name);
		lost(l);
		set_lastid(l, 0, l->pos.seq);
		break;
	}
}

/* The event of entry e (id MS-SEQ) into *ev with its id; 0, or -1. */
static int
entry_event(struct rlink *l, const redisReply *e, uint64_t ms, uint64_t seq,
    struct sse_event *ev, char *label)
{
	const redisReply *kv = e->element[1];
	const char *f[64], *why;
	size_t flen[64], j, nf = 0;

	if (kv->type == REDIS_REPLY_ARRAY)
		for (j = 0; j < kv->elements && nf < 64; j++) {
			f[nf] = kv->element[j]->str ? kv->element[j]->str : "";
			flen[nf++] = kv->element[j]->len;
		}
	if (rstream_event(ev, f, flen, nf, &why) == -1) {
		msg_warnx("redis '%s': stream '%s' entry '%s': %s, skipped",
		    l->shown, l->conf.key, e->element[0]->str, why);
		return -1;
	}
	if (!ev->has_id && l->conf.ids) {
		ev->id_len = rstream_label(&l->pos.epoch, ms, seq, label);
		ev->id = label;
		ev->has_id = true;
	}
	return 0;
}

/*
 * What entry MS-SEQ means for the reader's place: false to skip it. A gap
 * hands over the n events before it, then the loss signal (*n is 0 then).
 */
static bool
entry_step(
    struct rlink *l, const redisReply *e, uint64_t ms, uint64_t seq, size_t *n)
{
	switch (rstream_pos_next(&l->pos, ms, seq)) {
	case RSTREAM_OLD:
		return false;
	case RSTREAM_GAP:
		if (*n > 0)
			l->r.events(l->r.ctx, l->evs, *n);
		*n = 0;
		msg_warnx("redis '%s': stream '%s' went past events before "
			  "this node read them: clients are told",
		    l->shown, l->conf.key);
		lost(l);
		break;
	case RSTREAM_FOREIGN:
		if (!l->warned_foreign)
			msg_warnx("redis '%s': stream '%s' has entry '%s' not "
				  "added by sse (XADD KEY 0-* is): no gap can "
				  "be seen there",
			    l->shown, l->conf.key, e->element[0]->str);
		l->warned_foreign = true;
		break;
	case RSTREAM_NEXT:
		break;
	}
	set_lastid(l, ms, seq);
	return true;
}

/* Hand the entries of an XREAD or XRANGE reply over, in order. */
static void
deliver(struct rlink *l, const redisReply *ents)
{
	const redisReply *e;
	struct sse_event *ev;
	uint64_t ms, seq;
	size_t i, n = 0;

	for (i = 0; i < ents->elements; i++) {
		e = ents->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    rstream_id_parse(e->element[0]->str, e->element[0]->len,
			&ms, &seq) == -1)
			continue;
		if (!entry_step(l, e, ms, seq, &n))
			continue;
		ev = &l->evs[n];
		if (entry_event(l, e, ms, seq, ev, l->labels[n]) == -1)
			continue;
		if (ev->has_id)
			sse_buf_set(&l->last_id, ev->id, ev->id_len);
		n++;
	}
	if (n > 0)
		l->r.events(l->r.ctx, l->evs, n);
	pthread_mutex_lock(&l->mu);
	l->read_seq = l->pos.seq;
	pthread_cond_broadcast(&l->read_cv);
	pthread_mutex_unlock(&l->mu);
}

/* The entries of "XREAD ... STREAMS KEY ID": [[KEY, [entries]]]. */
static const redisReply *
xread_entries(const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 ||
	    rep->element[0]->type != REDIS_REPLY_ARRAY ||
	    rep->element[0]->elements != 2 ||
	    rep->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	return rep->element[0]->element[1];
}

/* One XREAD round (and the epoch record when it is due). 0, -1, -2. */
static int
read_round(struct rlink *l)
{
	struct rstream_epoch now;
	const redisReply *ents;
	redisReply *rep;
	char count[16], block[16];
	const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", block,
	    "STREAMS", l->conf.key, l->lastid};
	int rc;

	if (now_mono_ms() - l->checked_at >= CHECK_MS) {
		if ((rc = check_epoch(
			 l, &l->rd, l->pos.epoch.name, l->pos.seq, &now)) != 0)
			return rc;
		l->checked_at = now_mono_ms();
		reader_epoch(l, &now);
	}
	snprintf(count, sizeof(count), "%zu", l->count);
	snprintf(block, sizeof(block), "%d", BLOCK_MS);
	if ((rc = conn_call(l, &l->rd, &rep, 8, argv, BLOCK_MS + SLACK_MS)) !=
	    0)
		return rc;
	conn_ok(l, &l->rd);
	if (rep->type != REDIS_REPLY_NIL) {
		if ((ents = xread_entries(rep)) == NULL) {
			freeReplyObject(rep);
			return fail(&l->rd, "unexpected XREAD reply");
		}
		deliver(l, ents);
	}
	freeReplyObject(rep);
	return 0;
}

static void *
reader_main(void *arg)
{
	struct rlink *l = arg;
	int rc;

	for (;;) {
		if (conn_again(l, &l->rd) == -2)
			break;
		if ((rc = read_round(l)) == -2)
			break;
		if (rc == -1) {
			conn_failed(l, &l->rd);
			l->checked_at = 0; /* first thing once back */
		}
	}
	return NULL;
}

/* The number of the stream's last entry (0: none, or not 0-N). */
static int
stream_top(struct rlink *l, uint64_t *top)
{
	const char *argv[] = {"XREVRANGE", l->conf.key, "+", "-", "COUNT", "1"};
	redisReply *rep;
	uint64_t ms, seq;
	int rc;

	*top = 0;
	if ((rc = conn_call(l, &l->rd, &rep, 6, argv, SLACK_MS)) != 0)
		return rc;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    rep->element[0]->type == REDIS_REPLY_ARRAY &&
	    rep->element[0]->elements == 2 &&
	    rstream_id_parse(rep->element[0]->element[0]->str,
		rep->element[0]->element[0]->len, &ms, &seq) == 0 &&
	    ms == 0)
		*top = seq;
	freeReplyObject(rep);
	return 0;
}

/* The last conf.history entries, in batches, to r.events. */
static int
prefill(struct rlink *l)
{
	struct rstream_epoch now;
	redisReply *rep;
	uint64_t top;
	char from[64], count[16];
	const char *argv[] = {"XRANGE", l->conf.key, from, "+", "COUNT", count};
	size_t got;
	int rc;

	if ((rc = check_epoch(l, &l->rd, "", 0, &now)) != 0)
		return rc;
	reader_epoch(l, &now);
	l->checked_at = now_mono_ms();
	if ((rc = stream_top(l, &top)) != 0)
		return rc;
	l->pos.seq = top > l->conf.history ? top - l->conf.history : 0;
	l->pos.fresh = true;
	set_lastid(l, 0, l->pos.seq);
	snprintf(count, sizeof(count), "%zu", l->count);
	do {
		snprintf(from, sizeof(from), "(%s", l->lastid);
		if ((rc = conn_call(l, &l->rd, &rep, 6, argv, SLACK_MS)) != 0)
			return rc;
		if (rep->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			return fail(&l->rd, "unexpected XRANGE reply");
		}
		got = rep->elements;
		deliver(l, rep);
		freeReplyObject(rep);
	} while (got == l->count);
	return 0;
}

/* ---- publishing ---- */

/* A command in the protocol's own form, appended to b. */
static int
resp(struct sse_buf *b, size_t argc, const char *const argv[],
    const size_t len[])
{
	char num[24], *p;
	size_t i, need = 0, v;

	for (i = 0; i < argc; i++)
		need += len[i] + 26;
	if (sse_buf_room(b, need + 24) == -1)
		return -1;
	/* printf-free: this runs for every event a producer publishes */
	for (i = 0; i <= argc; i++) {
		v = i == 0 ? argc : len[i - 1];
		p = num + sizeof(num);
		*--p = '\n';
		*--p = '\r';
		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		*--p = i == 0 ? '*' : '$';
		memcpy(b->p + b->len, p, (size_t)(num + sizeof(num) - p));
		b->len += (size_t)(num + sizeof(num) - p);
		if (i > 0) {
			memcpy(b->p + b->len, argv[i - 1], len[i - 1]);
			memcpy(b->p + b->len + len[i - 1], "\r\n", 2);
			b->len += len[i - 1] + 2;
		}
	}
	return 0;
}

int
rlink_add(struct rlink *l, const struct sse_event *ev)
{
	const char *argv[6 + RSTREAM_NFIELDS] = {
	    "XADD", l->conf.key, "MAXLEN", "~", l->maxlen, "0-*"};
	size_t len[6 + RSTREAM_NFIELDS], i, nf;
	char num[24];
	static const char *const multi[] = {"MULTI"};
	static const size_t multi_len[] = {5};
	size_t old = l->cmds.len;

	if (l->nadd == 0 && l->cmds.len == 0 &&
	    resp(&l->cmds, 1, multi, multi_len) == -1)
		return -1;
	nf = rstream_fields(ev, argv + 6, len + 6, num);
	for (i = 0; i < 6; i++)
		len[i] = strlen(argv[i]);
	if (resp(&l->cmds, 6 + nf, argv, len) == -1) {
		l->cmds.len = old;
		return -1;
	}
	l->nadd++;
	return 0;
}

/* After a reconnect: the epoch record, and whether the batch is in. */
static int
pub_reconnected(struct rlink *l, bool *applied)
{
	struct rstream_epoch now;
	const char *argv[] = {"GET", l->mark_key};
	redisReply *rep;
	char want[24];
	int rc;

	*applied = false;
	if ((rc = check_epoch(
		 l, &l->pub, l->pub_epoch.name, l->pub_seq, &now)) != 0)
		return rc;
	l->pub_epoch = now;
	if (!l->unsure)
		return 0;
	if ((rc = conn_call(l, &l->pub, &rep, 2, argv, SLACK_MS)) != 0)
		return rc;
	snprintf(want, sizeof(want), "%llu", (unsigned long long)l->batchno);
	*applied =
	    rep->type == REDIS_REPLY_STRING && strcmp(rep->str, want) == 0;
	freeReplyObject(rep);
	l->unsure = false;
	return 0;
}

/* The EXEC reply: every XADD's id, or the first error. */
static int
pub_result(struct rlink *l, redisReply **reps, size_t n)
{
	const redisReply *ex = reps[n - 1], *r;
	uint64_t ms, seq;
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (reps[i]->type == REDIS_REPLY_ERROR)
			return fail(&l->pub, reps[i]->str);
	if (ex->type == REDIS_REPLY_ERROR)
		return fail(&l->pub, ex->str);
	if (ex->type != REDIS_REPLY_ARRAY || ex->elements != l->nadd + 1)
		return fail(&l->pub, "unexpected EXEC reply");
	for (i = 0; i < l->nadd; i++) {
		r = ex->element[i];
		if (r->type == REDIS_REPLY_ERROR)
			return fail(&l->pub, r->str);
		if (r->type == REDIS_REPLY_STRING &&
		    rstream_id_parse(r->str, r->len, &ms, &seq) == 0 &&
		    ms == 0 && seq > l->pub_seq)
			l->pub_seq = seq;
	}
	return 0;
}

int
rlink_commit(struct rlink *l)
{
	char no[24];
	const char *argv[] = {"SET", l->mark_key, no, "EX", MARK_TTL};
	size_t len[5], i, n, base;
	static const char *const exec[] = {"EXEC"};
	static const size_t exec_len[] = {4};
	redisReply **reps;
	bool applied;
	int rc;

	if (l->nadd == 0)
		return 0;
	l->batchno++;
	snprintf(no, sizeof(no), "%llu", (unsigned long long)l->batchno);
	for (i = 0; i < 5; i++)
		len[i] = strlen(argv[i]);
	base = l->cmds.len;
	if (resp(&l->cmds, 5, argv, len) == -1 ||
	    resp(&l->cmds, 1, exec, exec_len) == -1 ||
	    (reps = calloc(l->nadd + 3, sizeof(*reps))) == NULL) {
		l->cmds.len = base;
		l->batchno--;
		msg_warnx("out of memory for a batch of %zu events", l->nadd);
		return -1;
	}
	n = l->nadd + 3; /* MULTI, the XADDs, SET, EXEC */
	for (;;) {
		if (conn_again(l, &l->pub) == -2)
			break;
		if ((rc = pub_reconnected(l, &applied)) == 0 && applied)
			goto done;
		if (rc == 0 &&
		    redisAppendFormattedCommand(
			l->pub.c, l->cmds.p, l->cmds.len) != REDIS_OK)
			rc = fail(&l->pub, "out of memory");
		if (rc == 0) {
			rc = conn_replies(l, &l->pub, reps, n, SLACK_MS);
			if (rc == -1 || rc == -2)
				l->unsure = true;
		}
		if (rc == 0) {
			rc = pub_result(l, reps, n);
			for (i = 0; i < n; i++)
				freeReplyObject(reps[i]);
			if (rc == 0)
				goto done;
		}
		if (rc == -2)
			break;
		conn_failed(l, &l->pub);
	}
	free(reps);
	return -1;
done:
	conn_ok(l, &l->pub);
	free(reps);
	l->nadd = 0;
	sse_buf_reset(&l->cmds);
	return 0;
}

int
rlink_wait_read(struct rlink *l)
{
	int rc;

	pthread_mutex_lock(&l->mu);
	while (!l->stopping && l->read_seq < l->pub_seq)
		pthread_cond_wait(&l->read_cv, &l->mu);
	rc = l->stopping ? -1 : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- the link ---- */

/* XADD KEY 0-* needs Redis 7: 0, an exit status, or -1 (l->rd.why). */
static int
check_version(struct rlink *l)
{
	const char *argv[] = {"INFO", "server"};
	redisReply *rep;
	int rc, v;

	if ((rc = conn_call(l, &l->rd, &rep, 2, argv, SLACK_MS)) != 0)
		return rc;
	v = rep->type == REDIS_REPLY_STRING
	    ? rstream_version(rep->str, rep->len)
	    : -1;
	freeReplyObject(rep);
	if (v >= 7)
		return 0;
	if (v < 0)
		msg_errx("redis '%s' does not say its version: --redis needs "
			 "Redis 7 or later",
		    l->shown);
	else
		msg_errx("redis '%s' is version %d: --redis needs Redis 7 or "
			 "later",
		    l->shown, v);
	return EXIT_ERROR;
}

static char *
key_with(const char *key, const char *suffix)
{
	size_t n = strlen(key) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s", key, suffix);
	return p;
}

int
rlink_open(struct rlink **out, const struct rlink_conf *conf,
    const struct rlink_reader *r, int64_t connect_ms)
{
	struct rlink *l;
	unsigned char rnd[RSTREAM_EPOCH_LEN];
	char mark[64];
	int rc;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		msg_errx("out of memory");
		return EXIT_ERROR;
	}
	*out = l;
	l->conf = *conf;
	l->r = *r;
	l->stopfd = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->read_cv, NULL);
	if (redis_url_parse(&l->url, conf->url) == -1) {
		msg_errx(
		    "--redis: invalid value '%s': %s", conf->url, l->url.err);
		return EXIT_USAGE;
	}
	redis_url_show(&l->url, l->shown, sizeof(l->shown));
	l->rd.fail_as = "read from";
	l->rd.ok_as = "reading from";
	l->pub.fail_as = "publish to";
	l->pub.ok_as = "publishing to";
	snprintf(l->maxlen, sizeof(l->maxlen), "%zu", conf->history);
	l->count = conf->max_event > 0
	    ? conf->history_bytes / conf->max_event * 4
	    : READ_COUNT_MAX;
	if (l->count > READ_COUNT_MAX)
		l->count = READ_COUNT_MAX;
	if (l->count < READ_COUNT_MIN)
		l->count = READ_COUNT_MIN;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		msg_err("cannot get random bytes");
		return EXIT_ERROR;
	}
	rstream_epoch_make(l->pubid, rnd);
	snprintf(mark, sizeof(mark), ":pub:%s", l->pubid);
	sse_buf_init(&l->last_id, 0);
	sse_buf_init(&l->cmds, 0);
	if ((l->stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    (l->epoch_key = key_with(conf->key, ":epoch")) == NULL ||
	    (l->mark_key = key_with(conf->key, mark)) == NULL ||
	    (l->evs = calloc(l->count, sizeof(*l->evs))) == NULL ||
	    (l->labels = calloc(l->count, sizeof(*l->labels))) == NULL) {
		msg_err("cannot set up the link to redis");
		return EXIT_ERROR;
	}
	rc = conn_open(l, &l->rd, connect_ms);
	if (rc == 0 && (rc = check_version(l)) > 0)
		return rc;
	if (rc == 0 && conf->publish) {
		rc = conn_open(l, &l->pub, connect_ms);
		if (rc == 0)
			rc = check_epoch(l, &l->pub, "", 0, &l->pub_epoch);
		if (rc != 0)
			snprintf(
			    l->rd.why, sizeof(l->rd.why), "%s", l->pub.why);
	}
	if (rc == 0)
		rc = prefill(l);
	if (rc != 0) {
		msg_errx("cannot connect to redis '%s': %s", l->shown,
		    rc == -2 ? "interrupted" : l->rd.why);
		return EXIT_CONNECT;
	}
	return 0;
}

int
rlink_start(struct rlink *l)
{
	if (pthread_create(&l->tid, NULL, reader_main, l) != 0) {
		msg_errx("cannot start the redis reader");
		return -1;
	}
	l->started = true;
	return 0;
}

void
rlink_stop(struct rlink *l)
{
	uint64_t one = 1;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_cond_broadcast(&l->read_cv);
	pthread_mutex_unlock(&l->mu);
	if (l->stopfd != -1)
		(void)!write(l->stopfd, &one, sizeof(one));
}

void
rlink_free(struct rlink *l)
{
	if (l == NULL)
		return;
	if (l->started) {
		rlink_stop(l);
		pthread_join(l->tid, NULL);
	}
	conn_close(&l->rd);
	conn_close(&l->pub);
	if (l->stopfd != -1)
		close(l->stopfd);
	free(l->epoch_key);
	free(l->mark_key);
	free(l->evs);
	free(l->labels);
	sse_buf_release(&l->last_id);
	sse_buf_release(&l->cmds);
	pthread_cond_destroy(&l->read_cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
