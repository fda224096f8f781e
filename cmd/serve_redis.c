/*
 * sse serve --redis: the node's side of its link to a Redis stream
 * (redis_link.h). The input's events go to the stream instead of the log
 * (serve_input.c calls serve_redis_add and serve_redis_commit); the
 * entries the link reads, every node's and ours alike, go into the log in
 * the stream's order, through the hub's flow control, from the link's
 * thread (or, for the prefill, from main before the HTTP loop starts).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "msg.h"
#include "redis_link.h"
#include "serialize.h"
#include "serve.h"

/* The link's reader: its batch, appended to the log in one go. */
struct serve_redis {
	struct rlink *link;
	struct sse_buf batch;
	struct batched *pend;
	size_t npend, cappend;
};

/* The event just serialized at [old, batch.len) joins the batch. */
static int
pend(
    struct serve_redis *r, size_t old, const struct sse_event *ev, size_t id_at)
{
	struct batched *pp;

	if (r->npend == r->cappend) {
		size_t ncap = r->cappend ? r->cappend * 2 : 1024;

		if ((pp = realloc(r->pend, ncap * sizeof(*pp))) == NULL)
			return -1;
		r->pend = pp;
		r->cappend = ncap;
	}
	pp = &r->pend[r->npend++];
	pp->off = old;
	pp->len = r->batch.len - old;
	pp->has_id = ev != NULL && ev->has_id && ev->id_len > 0;
	pp->id_len = ev != NULL ? ev->id_len : 0;
	pp->id_off = id_at;
	return 0;
}

static void
append(struct serve *s)
{
	struct serve_redis *r = s->redis;

	hub_append(s, &r->batch, r->pend, r->npend, false);
	r->npend = 0;
	sse_buf_reset(&r->batch);
}

static void
on_events(void *ctx, const struct sse_event *evs, size_t n)
{
	struct serve *s = ctx;
	struct serve_redis *r = s->redis;
	const char *why;
	size_t i, old, id_at;

	for (i = 0; i < n; i++) {
		old = r->batch.len;
		id_at = 0;
		if (sse_serialize_at(&r->batch, &evs[i], &why, &id_at) !=
			SSE_OK ||
		    pend(r, old, &evs[i], id_at) == -1) {
			r->batch.len = old;
			msg_warnx("an event from redis cannot be served: %s",
			    why != NULL ? why : "out of memory");
		}
	}
	append(s);
}

/* Events were lost before last_id's successor: say so in the stream. */
static void
on_lost(void *ctx, const char *last_id)
{
	struct serve *s = ctx;
	struct serve_redis *r = s->redis;
	size_t old = r->batch.len;

	if (sse_serialize_lost(&r->batch, last_id, strlen(last_id)) != 0 ||
	    pend(r, old, NULL, 0) == -1)
		r->batch.len = old;
	append(s);
}

/*
 * The ids' epoch: the stream's, not one of our own. The first comes before
 * any event, so the log can find EPOCH-N by number (evlog_set_prefix());
 * after a change ids of the new epoch are indexed by hash.
 */
static void
on_epoch(void *ctx, const char *name)
{
	struct serve *s = ctx;
	char prefix[RSTREAM_EPOCH_MAX + 2];
	size_t n = strlen(name);

	if (n > RSTREAM_EPOCH_MAX)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->epoch_len == 0) {
		memcpy(prefix, name, n);
		prefix[n] = '-';
		(void)evlog_set_prefix(&s->log, prefix, n + 1);
	}
	memcpy(s->epoch, name, n + 1);
	s->epoch_len = n;
	pthread_mutex_unlock(&s->mu);
	msg_debug(1, "ids are in epoch %s", name);
}

int
serve_redis_open(struct serve *s)
{
	const struct rlink_conf conf = {
	    .url = s->redis_url,
	    .key = s->stream != NULL ? s->stream : RLINK_DEFAULT_KEY,
	    .history = (size_t)s->history,
	    .history_bytes = s->history_bytes,
	    .max_event = s->max_event,
	    .ids = s->ids,
	    .publish = s->input != IN_NONE,
	};
	const struct rlink_reader reader = {on_events, on_lost, on_epoch, s};
	int rc;

	if ((s->redis = calloc(1, sizeof(*s->redis))) == NULL) {
		msg_errx("out of memory");
		return EXIT_ERROR;
	}
	sse_buf_init(&s->redis->batch, 0);
	rc = rlink_open(&s->redis->link, &conf, &reader, RLINK_CONNECT_MS);
	return rc;
}

int
serve_redis_start(struct serve *s)
{
	return rlink_start(s->redis->link);
}

int
serve_redis_add(struct serve *s, const struct sse_event *ev)
{
	if (rlink_add(s->redis->link, ev) == -1) {
		msg_warnx("out of memory for an event");
		return -1;
	}
	return 0;
}

void
serve_redis_commit(struct serve *s, bool end)
{
	if (rlink_commit(s->redis->link) == 0 && end && s->exit_on_eof)
		rlink_wait_read(s->redis->link);
}

void
serve_redis_stop(struct serve *s)
{
	rlink_stop(s->redis->link);
}

void
serve_redis_close(struct serve *s)
{
	if (s->redis == NULL)
		return;
	rlink_stop(s->redis->link);
	rlink_free(s->redis->link);
	sse_buf_release(&s->redis->batch);
	free(s->redis->pend);
	free(s->redis);
	s->redis = NULL;
}
