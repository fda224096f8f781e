/*
 * sse serve's hub: the event log and the clients. The input thread appends
 * each batch here under one lock; the HTTP loop thread asks here for each
 * client's bytes, copied from the log from the client's own cursor.
 *
 * Flow control, bounded by the fastest client: the log never evicts what
 * the most advanced connected client has not taken yet, nor the last half
 * of the history that it has (so that clients a little behind it, which
 * is every other client that keeps up, are not dropped for a moment's
 * jitter). When an append would, the input thread wakes the clients and
 * waits (on the condition variable moved) until that client has taken
 * another quarter of the ring; meanwhile stdin is not read, so its pipe
 * fills and the producer blocks. Clients more than half the history behind
 * the fastest are evicted as before and disconnected (they can resume by
 * id); with no client, appends never wait. Nor do they once the fastest
 * client has taken nothing for --max-stall (a client that stopped reading
 * must not hold the producer): then appends evict freely, the stalled
 * clients fall out of the history and are dropped, until a client moves
 * the fastest cursor on again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "serialize.h"
#include "serve.h"
#include "util.h"

/* Under mu: keep for the fastest client as it is now. */
static uint64_t
keep_for_fastest(struct serve *s)
{
	return evlog_behind(
	    &s->log, s->fastest, s->log.max_events / 2, s->log.max_bytes / 2);
}

/*
 * Under mu: the cursor appends must not evict from (UINT64_MAX: evict
 * freely, with no client in the history, with --max-stall 0, or once the
 * loop has ended).
 * Between refreshes it is cached: the fastest only moves on, so an old
 * keep errs on the safe side, and append_flow() recomputes it when it
 * stands in the way. A client below the tail is lost for good (its next
 * read drops it): it must not hold input back.
 */
static uint64_t
keep_cursor(struct serve *s)
{
	struct client *c;
	bool live = false;

	if (s->nclients == 0 || s->stop || s->stalled || s->max_stall_ms == 0)
		return UINT64_MAX;
	if (s->refresh) {
		s->fastest = 0;
		LIST_FOREACH(c, &s->clients, link)
		if (c->cursor >= s->log.tail && c->cursor >= s->fastest) {
			s->fastest = c->cursor;
			live = true;
		}
		s->keep = live ? keep_for_fastest(s) : UINT64_MAX;
		s->refresh = false;
	}
	return s->keep;
}

/*
 * Under mu: the log is full of what the fastest client still needs. Let
 * the clients have what was appended, and wait until that client has
 * taken another quarter of the ring (fewer, longer waits), or a client
 * came or left, or the loop ended. hub_read, hub_open and hub_close signal
 * moved, so no wakeup is lost. If the fastest takes nothing for
 * max_stall, stop waiting for it: the clients are stalled.
 */
static void
wait_for_fastest(struct serve *s)
{
	uint64_t head = evlog_head(&s->log);
	uint64_t q =
	    (head - s->log.tail) / 4 > 0 ? (head - s->log.tail) / 4 : 1;
	uint64_t seen = s->takes;
	struct timespec at = mono_after(s->max_stall_ms);

	s->want = head - s->fastest > q ? s->fastest + q : head;
	s->blocked = true;
	httpd_wake_now(s->h);
	while (s->nclients > 0 && !s->stop && !s->refresh &&
	    s->fastest < s->want) {
		if (pthread_cond_timedwait(&s->moved, &s->mu, &at) ==
		    ETIMEDOUT) {
			if (s->takes != seen) { /* slow, but they read */
				seen = s->takes;
				at = mono_after(s->max_stall_ms);
				continue;
			}
			s->stalled = true;
			msg_warnx("no client took anything for %g s: "
				  "input goes on without them",
			    (double)s->max_stall_ms / 1000);
			break;
		}
	}
	s->blocked = false;
}

/* Under mu: append one event, waiting for the fastest client if need be. */
static int
append_flow(struct serve *s, const struct sse_buf *b, const struct batched *pp)
{
	const char *p = b->p + pp->off;
	const char *id = pp->has_id ? b->p + pp->id_off : NULL;
	uint64_t keep;
	int rc;

	for (;;) {
		rc = evlog_append_keep(
		    &s->log, p, pp->len, id, pp->id_len, keep_cursor(s));
		if (rc != EVLOG_FULL)
			return rc;
		/* The cached keep may lag the fastest: bring it up first. */
		if ((keep = keep_for_fastest(s)) > s->keep) {
			s->keep = keep;
			continue;
		}
		/* It has everything and still the event does not fit with
		 * the slack (an event of over half the ring): keep only what
		 * it has not taken. */
		if (s->fastest >= evlog_head(&s->log))
			return evlog_append_keep(
			    &s->log, p, pp->len, id, pp->id_len, s->fastest);
		wait_for_fastest(s);
	}
}

/* Append a batch to the log in one critical section, then wake. */
void
hub_append(struct serve *s, const struct sse_buf *batch,
    const struct batched *pend, size_t n, bool end)
{
	size_t i;
	bool wake;

	if (n == 0 && !end)
		return;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < n; i++)
		if (append_flow(s, batch, &pend[i]) == -1)
			msg_warnx("an event of %zu bytes does not fit in "
				  "--history-bytes, skipped",
			    pend[i].len);
	if (end) {
		s->ended = true;
		serve_topics_end(s);
	}
	wake = s->waiters || s->unserved || end;
	s->unserved = s->waiters || s->unserved;
	s->waiters = false;
	pthread_mutex_unlock(&s->mu);
	if (wake && s->h != NULL) /* not while --redis fills the log */
		httpd_wake_all(s->h);
}

/* The input's batch: into the stream with --redis, else into the log. */
void
hub_flush(struct serve *s, bool end)
{
	if (s->redis != NULL) {
		serve_redis_commit(s, end); /* the stream never ends */
		return;
	}
	/* On disk first: no client sees an event a crash could lose. */
	if (s->journal_failed ||
	    (s->journal != NULL && serve_journal_write(s) == -1)) {
		if (!s->journal_failed) { /* input stops, the server ends */
			s->journal_failed = true;
			httpd_drain(s->h);
		}
		s->npend = 0;
		sse_buf_reset(&s->batch);
		return;
	}
	hub_append(s, &s->batch, s->pend, s->npend, end);
	s->npend = 0;
	sse_buf_reset(&s->batch);
}

/*
 * Under mu: c is new or took something. Any client that does, not only
 * the fastest, shows that the clients are not all stalled.
 */
static void
client_moved(struct serve *s, struct client *c)
{
	s->takes++;
	if (c->waiting) { /* resumed: the loop answered the last wake */
		c->waiting = false;
		s->unserved = false;
	}
	if (s->stalled) { /* a client is back: wait for the fastest again */
		s->stalled = false;
		s->refresh = true;
	}
	if (c->cursor > s->fastest)
		s->fastest = c->cursor;
	if (s->blocked && c->cursor >= s->want)
		pthread_cond_signal(&s->moved);
}

/*
 * Under mu: where a client starts. Without an id, the backlog; after the
 * event with its id, if held; otherwise (an id of another life of the
 * stream, one from the future, one evicted, or with a NUL in it: no id we
 * sent) it is lost: everything held, after the loss signal.
 */
static uint64_t
start_at(struct serve *s, const struct httpd_open *op)
{
	uint64_t cur;

	if (op->last_id == NULL || op->last_len == 0)
		return evlog_backlog(&s->log, (size_t)s->backlog);
	if (memchr(op->last_id, 0, op->last_len) == NULL &&
	    evlog_find_id(&s->log, op->last_id, op->last_len, &cur) == 0)
		return cur;
	return UINT64_MAX;
}

void *
hub_open(void *ctx, struct httpd_open *op)
{
	struct serve *s = ctx;
	struct client *c;
	struct sse_buf pre = SSE_BUF_INIT;
	uint64_t cur;

	pthread_mutex_lock(&s->mu);
	if ((cur = start_at(s, op)) == UINT64_MAX) {
		op->lost = true;
		cur = s->log.tail;
	}
	if (op->last_id != NULL && op->last_len > 0) /* for GET /metrics */
		op->lost ? s->n_lost++ : s->n_resumed++;
	if (s->ended && !op->lost && cur == evlog_head(&s->log)) {
		pthread_mutex_unlock(&s->mu);
		op->status = 204; /* everything was sent: stop reconnecting */
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&s->mu);
		op->status = 503;
		return NULL;
	}
	c->cursor = cur;
	c->seq0 = evlog_seq_at(&s->log, cur);
	/* With no client in the history, keep and fastest are from another
	 * time. */
	if (s->nclients++ == 0 || s->keep == UINT64_MAX)
		s->refresh = true;
	client_moved(s, c);
	LIST_INSERT_HEAD(&s->clients, c, link);
	pthread_mutex_unlock(&s->mu);
	if (s->retry >= 0)
		sse_serialize_retry(&pre, s->retry);
	/* The in-band signal: events between the id and now are gone. */
	if (op->lost)
		sse_serialize_lost(&pre, op->last_id, op->last_len);
	c->pre = pre.p;
	c->pre_len = pre.len;
	return c;
}

ssize_t
hub_read(void *ctx, void *client, char *buf, size_t max, int64_t *deadline)
{
	struct serve *s = ctx;
	struct client *c = client;
	struct evlog_span sp;
	size_t n = 0, k;
	long long avail;
	bool ended;

	(void)deadline;
	if (c->pre_off < c->pre_len) {
		n = c->pre_len - c->pre_off;
		if (n > max)
			n = max;
		memcpy(buf, c->pre + c->pre_off, n);
		c->pre_off += n;
		if (n == max)
			return (ssize_t)n;
	}
	pthread_mutex_lock(&s->mu);
	avail = evlog_read(&s->log, c->cursor, &sp);
	ended = s->ended;
	if (avail == EVLOG_LOST) {
		pthread_mutex_unlock(&s->mu);
		return HTTPD_ABORT; /* too slow: it may resume by id */
	}
	if (avail == 0) {
		if (n == 0 && !ended) /* the next append must wake it */
			s->waiters = c->waiting = true;
		pthread_mutex_unlock(&s->mu);
		if (n > 0)
			return (ssize_t)n;
		return ended ? HTTPD_END : HTTPD_WAIT;
	}
	k = sp.len[0] < max - n ? sp.len[0] : max - n;
	if (k > 0) /* an empty log has no span to copy from */
		memcpy(buf + n, sp.p[0], k);
	n += k;
	c->cursor += k;
	if (k == sp.len[0] && sp.len[1] > 0) {
		k = sp.len[1] < max - n ? sp.len[1] : max - n;
		memcpy(buf + n, sp.p[1], k);
		n += k;
		c->cursor += k;
	}
	if (n > 0)
		client_moved(s, c);
	if (n == 0 && !ended)
		s->waiters = c->waiting = true;
	pthread_mutex_unlock(&s->mu);
	if (n > 0)
		return (ssize_t)n;
	return ended ? HTTPD_END : HTTPD_WAIT;
}

/* Under mu: the events c has taken whole. */
uint64_t
sent_events(struct serve *s, const struct client *c)
{
	uint64_t now = evlog_seq_at(&s->log, c->cursor);

	return now > c->seq0 ? now - c->seq0 : 0;
}

/*
 * httpd asks this of a client it has not asked to read for a while (its
 * socket is full): whether it fell out of the history, as read would find.
 */
bool
hub_lost(void *ctx, void *client)
{
	struct serve *s = ctx;
	struct client *c = client;
	bool lost;

	if (c->kind == CLIENT_TOPICS)
		return serve_topics_lost(s, client);
	pthread_mutex_lock(&s->mu);
	lost = c->cursor < s->log.tail;
	pthread_mutex_unlock(&s->mu);
	return lost;
}

void
hub_close(void *ctx, void *client)
{
	struct serve *s = ctx;
	struct client *c = client;

	pthread_mutex_lock(&s->mu);
	LIST_REMOVE(c, link);
	s->nclients--;
	s->n_out += sent_events(s, c); /* for GET /metrics */
	if (c->cursor >= s->fastest)
		s->refresh = true;
	if (s->blocked) /* it may have been the fastest, or the last */
		pthread_cond_signal(&s->moved);
	pthread_mutex_unlock(&s->mu);
	free(c->pre);
	free(c);
}
