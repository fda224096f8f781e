/*
 * The reading thread of serve's link to a stream in Redis (see
 * redis_link.h): XREAD BLOCK from the last entry, every entry handed over
 * in the stream's order, gaps and epochs checked; and the history filled
 * from the stream when the link starts.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "msg.h"
#include "redis_priv.h"
#include "util.h"

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
			return conn_fail(&l->rd, "unexpected XREAD reply");
		}
		deliver(l, ents);
	}
	freeReplyObject(rep);
	return 0;
}

void *
rlink_reader_main(void *arg)
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
int
rlink_prefill(struct rlink *l)
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
			return conn_fail(&l->rd, "unexpected XRANGE reply");
		}
		got = rep->elements;
		deliver(l, rep);
		freeReplyObject(rep);
	} while (got == l->count);
	return 0;
}
