/*
 * serve's link to a stream in Redis (see redis_link.h): its connections,
 * publishing, and the link's life; the reading thread is redis_read.c.
 * hiredis makes and
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
#include "redis_priv.h"
#include "redisurl.h"
#include "rstream.h"
#include "util.h"

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

/* ---- connections ---- */

int
stopped(struct rlink *l)
{
	struct pollfd p = {l->stopfd, POLLIN, 0};

	return poll(&p, 1, 0) == 1;
}

/* Wait ms unless stopped first: 0, or -2 when stopped. */
int
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

int
conn_fail(struct rconn *k, const char *why)
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
			return conn_fail(k, strerror(errno));
		if (n == 0 && left <= 0)
			return conn_fail(k, "no answer in time");
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
int
conn_replies(
    struct rlink *l, struct rconn *k, redisReply **out, size_t n, int64_t ms)
{
	int64_t deadline = now_mono_ms() + ms;
	int done = 0, ev;
	size_t i = 0;
	void *rep;

	while (i < n) {
		if (redisGetReplyFromReader(k->c, &rep) != REDIS_OK) {
			conn_fail(k, k->c->errstr);
			goto bad;
		}
		if (rep != NULL) {
			out[i++] = rep;
			continue;
		}
		if (!done && redisBufferWrite(k->c, &done) != REDIS_OK) {
			conn_fail(k, k->c->errstr);
			goto bad;
		}
		if ((ev = conn_poll(l, k, !done, deadline)) < 0) {
			while (i > 0)
				freeReplyObject(out[--i]);
			return ev;
		}
		if ((ev & (POLLIN | POLLHUP | POLLERR)) &&
		    redisBufferRead(k->c) != REDIS_OK) {
			conn_fail(k, k->c->errstr);
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
int
conn_call(struct rlink *l, struct rconn *k, redisReply **out, int argc,
    const char **argv, int64_t ms)
{
	int rc;

	if (redisAppendCommandArgv(k->c, argc, argv, NULL) != REDIS_OK)
		return conn_fail(k, "out of memory");
	if ((rc = conn_replies(l, k, out, 1, ms)) != 0)
		return rc;
	if ((*out)->type == REDIS_REPLY_ERROR) {
		conn_fail(k, (*out)->str);
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
		return conn_fail(k, "out of memory");
	if (k->c->err) {
		conn_fail(k, k->c->errstr);
		conn_close(k);
		return -1;
	}
	if ((ev = conn_poll(l, k, true, deadline)) < 0) {
		if (ev == -1)
			conn_fail(k, "timed out connecting");
		conn_close(k);
		return ev;
	}
	if (getsockopt(k->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_fail(k, strerror(err));
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
void
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
void
conn_ok(struct rlink *l, struct rconn *k)
{
	if (k->down)
		msg_warnx("%s redis '%s' again after %.1f s", k->ok_as,
		    l->shown, (double)(now_mono_ms() - k->down_at) / 1000);
	k->down = false;
	k->attempt = 0;
}

/* Connect again, waiting a backoff between attempts. 0 or -2. */
int
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
int
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
		return conn_fail(k, "cannot get random bytes for an epoch");
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
		rc = rlink_prefill(l);
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
	if (pthread_create(&l->tid, NULL, rlink_reader_main, l) != 0) {
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
