/*
 * Topics: GET /events/NAME, GET /events?topic=a&topic=b, POST
 * /events/NAME, and "topic" in JSON input. Each topic has its own event
 * log: its own ids, history, backlog and resume. Its ids are "EPOCH-N",
 * N counting its events, EPOCH the topics' (s->topic_epoch): topics live
 * in this process's memory alone (no journal, not shared through Redis),
 * so their epoch is new in every process, never the main stream's, and
 * an id of another life (a restart, another node) is never taken for one
 * of this one's: the log's prefix lookup (evlog_set_prefix(), as the main
 * stream's) finds no such event, and the client gets the loss signal.
 * /events alone is the hub's stream, as before (serve_hub.c); a topic's
 * log never holds input back (no flow control): a client too far behind
 * is dropped and resumes by id. Their number is bounded (--max-topics); a
 * topic exists from its first event or subscriber on.
 *
 * One connection may follow several topics. Its events are those of each
 * topic as they come, and each one's id names every topic's position,
 * the event's own first: "b:E-7 a:E-5" is event 7 of topic b, with topic
 * a at 5 (lib/topic.h). A browser sends that back as Last-Event-ID, and
 * every topic resumes where it was.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "opts.h"
#include "prom.h"
#include "serialize.h"
#include "serve.h"
#include "topic.h"
#include "msg.h"

#define TOPIC_EVENTS 10000 /* each topic's history, at most */
#define MAX_SUB 16 /* topics on one connection */
#define ID_MAX 64 /* a topic's last id, as a multi-topic id keeps it */

struct topic {
	char name[SSE_TOPIC_MAX + 1];
	struct evlog log;
	uint64_t seq;
	long holds; /* its subscribers, and publish requests naming it */
};

struct sub {
	struct topic *t;
	uint64_t cursor;
	char last[ID_MAX + 1]; /* its last id sent, "" none */
};

/* A client of topics; kind tells it from the hub's clients. */
struct tclient {
	int kind; /* CLIENT_TOPICS */
	size_t n;
	struct sub sub[MAX_SUB];
	size_t next; /* the topic to look at first (round robin) */
	struct sse_buf out; /* a multi-topic connection's rewritten events */
	size_t out_off;
	struct sse_buf event; /* one event being rewritten */
	struct sse_buf pre; /* sent first: retry, the lost signal */
	size_t pre_off;
};

/* Under mu, before the first topic: their epoch, this process's own. */
static void
topic_epoch(struct serve *s)
{
	serve_epoch_new(s->topic_epoch);
	/* Another than the main stream's (only a clock for entropy could
	 * give it twice): an id of one is never found in the other. */
	if (strcmp(s->topic_epoch, s->epoch) == 0)
		s->topic_epoch[0] = s->topic_epoch[0] == 'z' ? 'y' : 'z';
	msg_debug(1, "topics: epoch %s, ids %s-1 on in each", s->topic_epoch,
	    s->topic_epoch);
}

/* Under mu: the topic, made if need be (NULL: too many, or no memory). */
static struct topic *
topic_get(struct serve *s, const char *name, size_t len, bool make)
{
	struct topic **nt, *t;
	char prefix[RSTREAM_EPOCH_LEN + 1];
	size_t i, bytes = s->history_bytes / 16;

	for (i = 0; i < s->ntopics; i++)
		if (strlen(s->topics[i]->name) == len &&
		    memcmp(s->topics[i]->name, name, len) == 0)
			return s->topics[i];
	if (!make || s->ntopics >= (size_t)s->max_topics || len > SSE_TOPIC_MAX)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	/* A sixteenth of the main history, room for two largest events. */
	if (bytes < 2 * s->max_event + 4096)
		bytes = 2 * s->max_event + 4096;
	if ((nt = realloc(s->topics, (s->ntopics + 1) * sizeof(*nt))) == NULL ||
	    evlog_init(&t->log,
		(size_t)(s->history < TOPIC_EVENTS ? s->history : TOPIC_EVENTS),
		bytes) == -1) {
		if (nt != NULL)
			s->topics = nt;
		free(t);
		return NULL;
	}
	if (s->topic_epoch[0] == '\0')
		topic_epoch(s);
	/* Its own ids, EPOCH-N, are found by N (as the main stream's). */
	memcpy(prefix, s->topic_epoch, RSTREAM_EPOCH_LEN);
	prefix[RSTREAM_EPOCH_LEN] = '-';
	(void)evlog_set_prefix(&t->log, prefix, sizeof(prefix));
	memcpy(t->name, name, len);
	s->topics = nt;
	s->topics[s->ntopics++] = t;
	return t;
}

/*
 * Under mu: one hold on t less. A topic that no one holds and that never
 * had an event (subscribers made it) is freed: subscribers must not use
 * up --max-topics. One with events stays, for its history.
 */
static void
topic_unhold(struct serve *s, struct topic *t)
{
	size_t i;

	if (--t->holds > 0 || t->log.next > 1)
		return;
	for (i = 0; i < s->ntopics && s->topics[i] != t; i++)
		;
	if (i == s->ntopics)
		return;
	s->topics[i] = s->topics[--s->ntopics];
	evlog_release(&t->log);
	free(t);
}

struct topic *
serve_topic_hold(struct serve *s, const char *name, size_t len)
{
	struct topic *t;

	pthread_mutex_lock(&s->mu);
	if ((t = topic_get(s, name, len, true)) != NULL)
		t->holds++;
	pthread_mutex_unlock(&s->mu);
	return t;
}

void
serve_topic_unhold(struct serve *s, struct topic *t)
{
	pthread_mutex_lock(&s->mu);
	topic_unhold(s, t);
	pthread_mutex_unlock(&s->mu);
}

/*
 * Under mu, input has ended: with --id none, each topic that has events
 * ends with a bare "id: EPOCH-end" (the topics' epoch), as /events does
 * (serve_input.c), so that a client that reconnects is answered 204, not
 * sent the backlog again. With ids, a client's last id already says it
 * has everything.
 */
void
serve_topics_end(struct serve *s)
{
	struct sse_buf b = SSE_BUF_INIT;
	char id[SERVE_ID_MAX];
	size_t len = serve_id_in(s->topic_epoch, strlen(s->topic_epoch), 0, id);
	size_t id_at = 0;

	if (s->ids || s->ntopics == 0 ||
	    sse_serialize_id(&b, id, len, &id_at) != SSE_OK) {
		sse_buf_release(&b);
		return;
	}
	for (size_t i = 0; i < s->ntopics; i++)
		if (s->topics[i]->log.next > 1)
			(void)evlog_append(
			    &s->topics[i]->log, b.p, b.len, b.p + id_at, len);
	sse_buf_release(&b);
}

/* Under mu: what the topics add to /metrics' totals. */
void
serve_topics_sum(struct serve *s, uint64_t *in, uint64_t *held, uint64_t *bytes)
{
	for (size_t i = 0; i < s->ntopics; i++) {
		*in += s->topics[i]->log.next - 1;
		*held += evlog_count(&s->topics[i]->log);
		*bytes += s->topics[i]->log.head - s->topics[i]->log.tail;
	}
}

void
serve_topics_release(struct serve *s)
{
	for (size_t i = 0; i < s->ntopics; i++) {
		evlog_release(&s->topics[i]->log);
		free(s->topics[i]);
	}
	free(s->topics);
	s->topics = NULL;
	s->ntopics = 0;
}

/*
 * Any thread but the loop's: one event into topic name's log. The id, as
 * given or the topic's next number, is written to idbuf (NUL-terminated,
 * "" for none). 0, or -1 with *why set.
 */
int
serve_topic_emit(struct serve *s, const char *name, size_t len,
    struct sse_event *ev, char *idbuf, size_t idsz, const char **why)
{
	struct sse_buf b = SSE_BUF_INIT;
	struct topic *t;
	char num[SERVE_ID_MAX];
	size_t id_at = 0;
	int rc = -1;

	*why = "too many topics (--max-topics)";
	idbuf[0] = '\0';
	pthread_mutex_lock(&s->mu);
	if ((t = topic_get(s, name, len, true)) == NULL)
		goto out;
	if (!ev->has_id && s->ids) {
		ev->id_len = serve_id_in(
		    s->topic_epoch, RSTREAM_EPOCH_LEN, t->seq + 1, num);
		ev->id = num;
		ev->has_id = true;
	}
	*why = "invalid event";
	if (sse_serialize_at(&b, ev, why, &id_at) != SSE_OK)
		goto out;
	*why = "larger than the topic's history";
	if (evlog_append(&t->log, b.p, b.len,
		ev->has_id && ev->id_len > 0 ? b.p + id_at : NULL,
		ev->id_len) == -1)
		goto out;
	t->seq++;
	if (ev->has_id)
		snprintf(idbuf, idsz, "%.*s", (int)ev->id_len, ev->id);
	rc = 0;
out:
	pthread_mutex_unlock(&s->mu);
	sse_buf_release(&b);
	if (rc == 0)
		httpd_wake_all(s->h);
	return rc;
}

/* Whether a multi-topic Last-Event-ID names topic t; its id then. */
static bool
names(const struct httpd_open *op, const struct topic *t, const char **id,
    size_t *len)
{
	return sse_topic_id(
	    op->last_id, op->last_len, t->name, strlen(t->name), id, len);
}

/*
 * Under mu: where sub i of c starts. Without an id, the backlog. With
 * one: a single topic's own id; a multi-topic id ("b:E-7 a:E-5") names
 * each topic's place, and a topic it does not name (none of it was sent
 * yet) starts at the oldest event held. An id that is not held (another
 * life's, one from the future, one evicted), names none of the topics, or
 * has a NUL in it (no id we sent) is lost: everything held, after the
 * loss signal, as on /events. Returns whether lost.
 */
static bool
sub_start(struct serve *s, struct tclient *c, size_t i,
    const struct httpd_open *op, bool named)
{
	struct sub *sb = &c->sub[i];
	const char *want = NULL;
	size_t len = 0;

	if (op->last_id == NULL || op->last_len == 0) {
		sb->cursor = evlog_backlog(&sb->t->log, (size_t)s->backlog);
		return false;
	}
	if (c->n == 1) {
		want = op->last_id;
		len = op->last_len;
	} else if (!names(op, sb->t, &want, &len)) {
		want = NULL;
	}
	if (memchr(op->last_id, 0, op->last_len) != NULL ||
	    (want == NULL && !named) ||
	    (want != NULL &&
		((c->n > 1 && len > ID_MAX) || /* longer than we send */
		    evlog_find_id(&sb->t->log, want, len, &sb->cursor) ==
			-1))) {
		sb->cursor = evlog_backlog(&sb->t->log, SIZE_MAX);
		return true;
	}
	if (want == NULL) { /* not named: nothing of it was sent */
		sb->cursor = evlog_backlog(&sb->t->log, SIZE_MAX);
		return false;
	}
	len = len < ID_MAX ? len : ID_MAX; /* only multi-topic ids use it */
	memcpy(sb->last, want, len);
	sb->last[len] = '\0';
	return false;
}

/* Whether a multi-topic id names any of c's topics. */
static bool
names_any(const struct tclient *c, const struct httpd_open *op)
{
	const char *id;
	size_t len;

	for (size_t i = 0; i < c->n; i++)
		if (names(op, c->sub[i].t, &id, &len))
			return true;
	return false;
}

/* Under mu: c's topics held so far (the first n), given back. */
static void
unhold_subs(struct serve *s, struct tclient *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		topic_unhold(s, c->sub[i].t);
}

void *
serve_topics_open(
    void *ctx, const char *const *names, size_t n, struct httpd_open *op)
{
	struct serve *s = ctx;
	struct tclient *c;
	bool lost = false, named, caught_up = true;
	size_t i;

	op->status = 400;
	if (n == 0 || n > MAX_SUB || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->kind = CLIENT_TOPICS;
	c->n = n;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < n; i++) {
		if ((c->sub[i].t = topic_get(
			 s, names[i], strlen(names[i]), true)) == NULL) {
			unhold_subs(s, c, i);
			pthread_mutex_unlock(&s->mu);
			free(c);
			op->status = 503;
			return NULL;
		}
		c->sub[i].t->holds++;
	}
	named = n == 1 ||
	    (op->last_id != NULL &&
		memchr(op->last_id, 0, op->last_len) == NULL &&
		names_any(c, op));
	for (i = 0; i < n; i++) {
		if (sub_start(s, c, i, op, named))
			lost = true;
		if (c->sub[i].cursor != evlog_head(&c->sub[i].t->log))
			caught_up = false;
	}
	if (op->last_id != NULL && op->last_len > 0) /* for GET /metrics */
		lost ? s->n_lost++ : s->n_resumed++;
	if (s->ended && !lost && caught_up && op->last_id != NULL &&
	    op->last_len > 0) {
		/* Everything was sent and input is over: stop reconnecting. */
		unhold_subs(s, c, n);
		pthread_mutex_unlock(&s->mu);
		free(c);
		op->status = 204;
		return NULL;
	}
	pthread_mutex_unlock(&s->mu);
	sse_buf_init(&c->out, 0);
	sse_buf_init(&c->event, 0);
	sse_buf_init(&c->pre, 0);
	if (s->retry >= 0)
		sse_serialize_retry(&c->pre, s->retry);
	/* As on /events: what came between the id and now is gone. */
	op->lost = lost;
	if (lost)
		sse_serialize_lost(&c->pre, op->last_id, op->last_len);
	return c;
}

/* Under mu: one topic's bytes, as they are (a single-topic connection). */
static ssize_t
read_one(struct sub *sb, char *buf, size_t max)
{
	struct evlog_span sp;
	long long avail = evlog_read(&sb->t->log, sb->cursor, &sp);
	size_t n = 0, k;

	if (avail == EVLOG_LOST)
		return HTTPD_ABORT;
	for (int i = 0; i < 2 && n < max; i++) {
		k = sp.len[i] < max - n ? sp.len[i] : max - n;
		if (k > 0)
			memcpy(buf + n, sp.p[i], k);
		n += k;
		if (k < sp.len[i])
			break;
	}
	sb->cursor += n;
	return (ssize_t)n;
}

/*
 * Under mu: the next whole event of sb into c->event, or 0 when none is
 * complete yet (-1: lost).
 */
static int
next_event(struct tclient *c, struct sub *sb)
{
	struct evlog_span sp;
	long long avail = evlog_read(&sb->t->log, sb->cursor, &sp);
	const char *end;
	size_t k;

	if (avail == EVLOG_LOST)
		return -1;
	if (avail == 0)
		return 0;
	sse_buf_reset(&c->event);
	/* Events end with "\n\n"; the serializer writes no empty line else. */
	for (int i = 0; i < 2; i++) {
		if (sp.len[i] == 0)
			continue;
		if (c->event.len > 0 && sp.p[i][0] == '\n' &&
		    c->event.p[c->event.len - 1] == '\n')
			end = sp.p[i] - 1; /* the blank line straddles */
		else
			end = memmem(sp.p[i], sp.len[i], "\n\n", 2);
		k = end != NULL ? (size_t)(end + 2 - sp.p[i]) : sp.len[i];
		if (sse_buf_add(&c->event, sp.p[i], k) == -1)
			return -1;
		if (end != NULL) {
			sb->cursor += c->event.len;
			return 1;
		}
	}
	return 0;
}

/* The event in c->event, from sb, with the vector id, into c->out. */
static int
rewrite(struct tclient *c, struct sub *sb)
{
	const char *p = c->event.p, *end = p + c->event.len, *nl;
	size_t i, k;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		k = (size_t)(nl - p);
		if (k >= 4 && memcmp(p, "id: ", 4) == 0) {
			snprintf(sb->last, sizeof(sb->last), "%.*s",
			    (int)(k - 4 < ID_MAX ? k - 4 : ID_MAX), p + 4);
			if (sse_buf_addf(&c->out, "id: %s:%s", sb->t->name,
				sb->last) == -1)
				return -1;
			for (i = 0; i < c->n; i++)
				if (&c->sub[i] != sb && c->sub[i].last[0] &&
				    sse_buf_addf(&c->out, " %s:%s",
					c->sub[i].t->name,
					c->sub[i].last) == -1)
					return -1;
			if (sse_buf_addch(&c->out, '\n') == -1)
				return -1;
		} else if (sse_buf_add(&c->out, p, k + 1) == -1) {
			return -1;
		}
	}
	return 0;
}

/* Under mu: a multi-topic connection's bytes, rewritten event by event. */
static ssize_t
read_many(struct tclient *c, char *buf, size_t max)
{
	size_t i, tried, n;
	int rc;

	if (c->out_off == c->out.len) {
		sse_buf_reset(&c->out);
		c->out_off = 0;
		/* Round robin, an event at a time, up to about max bytes. */
		for (tried = 0; tried < c->n && c->out.len < max;) {
			i = c->next;
			c->next = (c->next + 1) % c->n;
			rc = next_event(c, &c->sub[i]);
			if (rc == -1)
				return HTTPD_ABORT;
			if (rc == 0) {
				tried++;
				continue;
			}
			tried = 0;
			if (rewrite(c, &c->sub[i]) == -1)
				return HTTPD_ABORT;
		}
	}
	n = c->out.len - c->out_off < max ? c->out.len - c->out_off : max;
	if (n > 0)
		memcpy(buf, c->out.p + c->out_off, n);
	c->out_off += n;
	return (ssize_t)n;
}

ssize_t
serve_topics_read(struct serve *s, void *client, char *buf, size_t max)
{
	struct tclient *c = client;
	ssize_t n;

	if (c->pre_off < c->pre.len) {
		n = (ssize_t)(c->pre.len - c->pre_off < max
			? c->pre.len - c->pre_off
			: max);
		memcpy(buf, c->pre.p + c->pre_off, (size_t)n);
		c->pre_off += (size_t)n;
		return n;
	}
	pthread_mutex_lock(&s->mu);
	n = c->n == 1 ? read_one(&c->sub[0], buf, max) : read_many(c, buf, max);
	if (n == 0 && s->ended)
		n = HTTPD_END; /* input is over: as on /events */
	else if (n == 0)
		s->waiters = true; /* the next append must wake it */
	pthread_mutex_unlock(&s->mu);
	return n;
}

bool
serve_topics_lost(struct serve *s, void *client)
{
	struct tclient *c = client;
	bool lost = false;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < c->n && !lost; i++)
		lost = c->sub[i].cursor < c->sub[i].t->log.tail;
	pthread_mutex_unlock(&s->mu);
	return lost;
}

void
serve_topics_close(struct serve *s, void *client)
{
	struct tclient *c = client;

	pthread_mutex_lock(&s->mu);
	unhold_subs(s, c, c->n);
	pthread_mutex_unlock(&s->mu);

	sse_buf_release(&c->out);
	sse_buf_release(&c->event);
	sse_buf_release(&c->pre);
	free(c);
}

/* The httpd source's read and close: the hub's clients, or topics'. */
ssize_t
serve_src_read(
    void *ctx, void *client, char *buf, size_t max, int64_t *deadline)
{
	if (*(int *)client == CLIENT_TOPICS)
		return serve_topics_read(ctx, client, buf, max);
	return hub_read(ctx, client, buf, max, deadline);
}

void
serve_src_close(void *ctx, void *client)
{
	if (*(int *)client == CLIENT_TOPICS)
		serve_topics_close(ctx, client);
	else
		hub_close(ctx, client);
}

#define SO(f) offsetof(struct serve, f)

/* clang-format off */
const struct opts_row serve_topic_rows[] = {
    {.kind = OPTS_SECTION, .help = "Topics (GET /events/NAME, ?topic=NAME):"},
    {OPTS_ROW("max-topics", 0, OPTS_INT, SO(max_topics), "N"),
	.help = "topics at most, each with its own ids and\n"
	    "history (default 64)",
	.min = 1, .max = 10000},
};
/* clang-format on */

const size_t serve_topic_nrows =
    sizeof(serve_topic_rows) / sizeof(serve_topic_rows[0]);

/* GET /metrics: each topic's events and history. */
void
serve_topics_metrics(struct serve *s, struct sse_buf *b)
{
	struct sse_buf in = SSE_BUF_INIT, held = SSE_BUF_INIT;
	struct topic *t;
	size_t i, n;

	pthread_mutex_lock(&s->mu);
	n = s->ntopics;
	for (i = 0; i < n; i++) {
		t = s->topics[i];
		prom_u64(&in, "sse_topic_events_in_total", "topic", t->name,
		    strlen(t->name), t->log.next - 1);
		prom_u64(&held, "sse_topic_history_events", "topic", t->name,
		    strlen(t->name), evlog_count(&t->log));
	}
	pthread_mutex_unlock(&s->mu);
	prom_family(b, "sse_topics", "gauge", "Topics now (--max-topics).");
	prom_u64(b, "sse_topics", NULL, NULL, 0, n);
	prom_family(b, "sse_topic_events_in_total", "counter",
	    "Events put in each topic's history.");
	sse_buf_add(b, in.p, in.len);
	prom_family(b, "sse_topic_history_events", "gauge",
	    "Events each topic holds for resuming.");
	sse_buf_add(b, held.p, held.len);
	sse_buf_release(&in);
	sse_buf_release(&held);
}
