/*
 * Publishing through serve's link to a stream in Redis (see
 * redis_link.h): a node's input in batches, each one MULTI/EXEC round trip
 * of XADDs with a marker key that tells, after a failure during EXEC,
 * whether the batch was applied, so that it is applied once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "msg.h"
#include "redis_priv.h"
#include "util.h"

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
			return conn_fail(&l->pub, reps[i]->str);
	if (ex->type == REDIS_REPLY_ERROR)
		return conn_fail(&l->pub, ex->str);
	if (ex->type != REDIS_REPLY_ARRAY || ex->elements != l->nadd + 1)
		return conn_fail(&l->pub, "unexpected EXEC reply");
	for (i = 0; i < l->nadd; i++) {
		r = ex->element[i];
		if (r->type == REDIS_REPLY_ERROR)
			return conn_fail(&l->pub, r->str);
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
			rc = conn_fail(&l->pub, "out of memory");
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
