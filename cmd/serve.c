/*
 * sse serve: every line on stdin becomes an event broadcast to every
 * client. Two threads: the input thread reads stdin in big blocks, turns
 * lines (or SSE, or JSON lines) into events, serializes each once into a
 * batch, and appends the batch to the event log under one lock; the HTTP
 * loop thread (httpd.c) copies each client's pending bytes from the log,
 * from its own cursor, and suspends the clients that are caught up until
 * the input thread wakes them.
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
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "evlog.h"
#include "httpd.h"
#include "json.h"
#include "parser.h"
#include "serialize.h"
#include "util.h"

static int cmd_serve_exec(int, char **);

const struct cmd_entry cmd_serve_entry = {
    "serve",
    "broadcast lines from stdin to SSE clients",
    "usage: sse serve [options]\n\n"
    "Every line on stdin becomes an event sent to every client of\n"
    "GET /events; GET / is a live viewer page.\n\n"
    "Input:\n"
    "      --input KIND        lines (default), sse (stdin is an event\n"
    "                          stream) or json (one object a line)\n"
    "  -e, --event TYPE        event type of lines input (default message)\n"
    "      --id MODE           seq (1, 2, 3...; default) or none\n"
    "      --retry MS          send 'retry: MS' to every client\n"
    "      --max-event-size SIZE  longest line or event (default 1M)\n"
    "      --end-event TYPE    send this event when stdin ends\n"
    "      --exit-on-eof       exit once stdin ends and clients have it all\n"
    "                          (a client that does not read: 5 s at most)\n"
    "      --max-stall SECS    longest stdin waits for clients that take\n"
    "                          nothing (default 10, 0: never waits)\n"
    "History:\n"
    "      --history N         events kept for resuming (default 100000)\n"
    "      --history-bytes SIZE  and at most these bytes (default 64M)\n"
    "      --backlog N         recent events a new client gets first\n"
    "                          (default 1000)\n"
    "HTTP:\n" HTTPD_HELP "  -h, --help              show this help and exit\n",
    cmd_serve_exec,
    NULL,
};

enum input { IN_LINES, IN_SSE, IN_JSON };

enum {
	OPT_INPUT = 0x100,
	OPT_ID,
	OPT_RETRY,
	OPT_MAX_EVENT,
	OPT_END_EVENT,
	OPT_EXIT_ON_EOF,
	OPT_HISTORY,
	OPT_HISTORY_BYTES,
	OPT_BACKLOG,
	OPT_MAX_STALL,
};

#define READ_BLOCK (256 * 1024)

/* An event serialized into the batch, waiting for the log. */
struct pending {
	size_t off, len;
	size_t id_off, id_len;
	bool has_id;
};

struct serve {
	/* options */
	enum input input;
	const char *event;
	size_t event_len;
	bool ids;
	long long retry;
	size_t max_event;
	const char *end_event;
	bool exit_on_eof;
	long long history, backlog;
	size_t history_bytes;
	int64_t max_stall_ms;

	/* shared with the HTTP thread, under mu */
	pthread_mutex_t mu;
	struct evlog log;
	bool ended;
	struct client *clients; /* every connected client */
	long nclients;
	uint64_t fastest; /* the highest cursor (maybe too high if refresh) */
	uint64_t keep; /* appends evict nothing from here on */
	bool refresh; /* recompute fastest and keep: a client came or left */
	bool blocked; /* the input thread waits for the fastest to reach want */
	bool stalled; /* no client took anything for max_stall: evict freely */
	uint64_t takes; /* counts clients coming or taking something */
	uint64_t want;
	bool stop; /* the loop has ended: the input thread must not wait */
	pthread_cond_t moved; /* the fastest moved, a client left, or stop */
	/*
	 * A client answered WAIT (it is being suspended) since the last
	 * wake: only then must an append wake the loop. Set and cleared under
	 * mu, and httpd checks its wake flag after every callback, so no wake
	 * is lost; with no client, or every client busy, ingesting costs the
	 * loop thread nothing.
	 */
	bool waiters;

	struct httpd *h;
	int stopfd; /* tells the input thread to stop */

	/* the input thread's own */
	uint64_t seq, lineno;
	struct sse_buf batch;
	struct pending *pend;
	size_t npend, cappend;
	struct sse_parser parser;
	int64_t retry_in; /* a retry field from SSE input, for the next event */
	struct sse_buf scratch;
	/* SSE input: skipping the rest of an oversized event */
	bool skip, skip_bol, skip_cr;
};

struct client {
	struct client *prev, *next; /* in s->clients */
	uint64_t cursor;
	char *pre; /* sent before the log: retry, the lost signal */
	size_t pre_len, pre_off;
};

/* ---- the input thread: events into the batch, the batch into the log */

static void
warn_line(struct serve *s, const char *what)
{
	fprintf(stderr, "sse: serve: line %llu: %s\n",
	    (unsigned long long)s->lineno, what);
}

/* Decimal digits of v, ending at end; returns where they start. */
static char *
u64_digits(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

static int
emit(struct serve *s, struct sse_event *ev)
{
	char idbuf[24];
	struct pending *pp;
	const char *why;
	size_t old = s->batch.len, id_at = 0;

	if (!ev->has_id && s->ids) {
		ev->id = u64_digits(idbuf + sizeof(idbuf), s->seq + 1);
		ev->id_len = (size_t)(idbuf + sizeof(idbuf) - ev->id);
		ev->has_id = true;
	}
	if (sse_serialize_at(&s->batch, ev, &why, &id_at) != SSE_OK) {
		s->batch.len = old;
		warn_line(s, why);
		return -1; /* no event: --id seq goes on with the same number */
	}
	if (s->npend == s->cappend) {
		size_t ncap = s->cappend ? s->cappend * 2 : 1024;

		if ((pp = realloc(s->pend, ncap * sizeof(*pp))) == NULL) {
			s->batch.len = old;
			warn_line(s, "out of memory");
			return -1;
		}
		s->pend = pp;
		s->cappend = ncap;
	}
	s->seq++;
	pp = &s->pend[s->npend++];
	pp->off = old;
	pp->len = s->batch.len - old;
	pp->has_id = ev->has_id && ev->id_len > 0;
	pp->id_len = ev->id_len;
	pp->id_off = id_at;
	return 0;
}

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
		for (c = s->clients; c != NULL; c = c->next)
			if (c->cursor >= s->log.tail &&
			    c->cursor >= s->fastest) {
				s->fastest = c->cursor;
				live = true;
			}
		s->keep = live ? keep_for_fastest(s) : UINT64_MAX;
		s->refresh = false;
	}
	return s->keep;
}

/* now + ms on the clock of the condition variable moved. */
static struct timespec
stall_at(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/*
 * Under mu: the log is full of what the fastest client still needs. Let
 * the clients have what was appended, and wait until that client has
 * taken another quarter of the ring (fewer, longer waits), or a client
 * came or left, or the loop ended. src_read, src_open and src_close signal
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
	struct timespec at = stall_at(s->max_stall_ms);

	s->want = head - s->fastest > q ? s->fastest + q : head;
	s->blocked = true;
	httpd_wake_now(s->h);
	while (s->nclients > 0 && !s->stop && !s->refresh &&
	    s->fastest < s->want) {
		if (pthread_cond_timedwait(&s->moved, &s->mu, &at) ==
		    ETIMEDOUT) {
			if (s->takes != seen) { /* slow, but they read */
				seen = s->takes;
				at = stall_at(s->max_stall_ms);
				continue;
			}
			s->stalled = true;
			fprintf(stderr,
			    "sse: serve: no client took anything for %g s: "
			    "input goes on without them\n",
			    (double)s->max_stall_ms / 1000);
			break;
		}
	}
	s->blocked = false;
}

/* Under mu: append one event, waiting for the fastest client if need be. */
static int
append_flow(struct serve *s, const struct pending *pp)
{
	const char *p = s->batch.p + pp->off;
	const char *id = pp->has_id ? s->batch.p + pp->id_off : NULL;
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

/* Append the batch to the log in one critical section, then wake. */
static void
flush(struct serve *s, bool end)
{
	struct pending *pp;
	size_t i;
	bool any = s->npend > 0 || end, wake;

	if (!any)
		return;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->npend; i++) {
		pp = &s->pend[i];
		if (append_flow(s, pp) == -1)
			fprintf(stderr,
			    "sse: serve: an event of %zu bytes does not fit "
			    "in --history-bytes, skipped\n",
			    pp->len);
	}
	if (end)
		s->ended = true;
	wake = s->waiters || end;
	s->waiters = false;
	pthread_mutex_unlock(&s->mu);
	s->npend = 0;
	sse_buf_reset(&s->batch);
	if (wake)
		httpd_wake_all(s->h);
}

static void
line_event(struct serve *s, const char *p, size_t len)
{
	struct sse_event ev;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	sse_event_init(&ev);
	ev.type = s->event;
	ev.type_len = s->event_len;
	ev.data = p;
	ev.data_len = len;
	emit(s, &ev);
}

static void
json_event(struct serve *s, const char *p, size_t len)
{
	struct sse_event ev;
	json_error_t jerr;
	json_t *root, *v;
	char *dump = NULL, idbuf[32], msg[256];

	while (len > 0 &&
	    (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0)
		return; /* a blank line is no event */
	if ((root = json_loadb(p, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		snprintf(msg, sizeof(msg), "invalid JSON: %s", jerr.text);
		warn_line(s, msg);
		return;
	}
	if (!json_is_object(root)) {
		warn_line(s, "not a JSON object");
		goto out;
	}
	sse_event_init(&ev);
	if ((v = json_object_get(root, "event")) != NULL) {
		if (!json_is_string(v)) {
			warn_line(s, "\"event\" is not a string");
			goto out;
		}
		ev.type = json_string_value(v);
		ev.type_len = json_string_length(v);
	}
	if ((v = json_object_get(root, "id")) != NULL) {
		if (json_is_string(v)) {
			ev.id = json_string_value(v);
			ev.id_len = json_string_length(v);
		} else if (json_is_integer(v)) {
			snprintf(idbuf, sizeof(idbuf), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			ev.id = idbuf;
			ev.id_len = strlen(idbuf);
		} else {
			warn_line(s, "\"id\" is not a string or an integer");
			goto out;
		}
		ev.has_id = true;
	}
	if ((v = json_object_get(root, "retry")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			warn_line(s, "\"retry\" is not a whole number >= 0");
			goto out;
		}
		ev.retry = json_integer_value(v);
	}
	if ((v = json_object_get(root, "data")) != NULL) {
		if (json_is_string(v)) {
			ev.data = json_string_value(v);
			ev.data_len = json_string_length(v);
		} else {
			dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			if (dump == NULL) {
				warn_line(s, "out of memory");
				goto out;
			}
			ev.data = dump;
			ev.data_len = strlen(dump);
		}
	}
	emit(s, &ev);
out:
	free(dump);
	json_decref(root);
}

static void
one_line(struct serve *s, const char *p, size_t len)
{
	s->lineno++;
	if (s->input == IN_JSON)
		json_event(s, p, len);
	else
		line_event(s, p, len);
}

static int
sse_in_event(void *ctx, const struct sse_event *pev)
{
	struct serve *s = ctx;
	struct sse_event ev = *pev;

	s->lineno++;
	ev.retry = s->retry_in;
	s->retry_in = -1;
	emit(s, &ev);
	return 0;
}

static void
sse_in_retry(void *ctx, uint64_t ms)
{
	struct serve *s = ctx;

	s->retry_in = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

/*
 * Split a block into lines with memchr; a line that straddles two blocks
 * waits in scratch; a line longer than max_event is skipped with a
 * warning (skipping says we are inside one).
 */
static void
feed_lines(struct serve *s, const char *p, size_t n, bool *skipping)
{
	const char *end = p + n, *nl;
	char msg[128];

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (!*skipping &&
			    sse_buf_add(&s->scratch, p, (size_t)(end - p)) ==
				-1) {
				s->lineno++;
				snprintf(msg, sizeof(msg),
				    "longer than --max-event-size (%zu "
				    "bytes), skipped",
				    s->max_event);
				warn_line(s, msg);
				s->lineno--;
				*skipping = true;
				sse_buf_reset(&s->scratch);
			}
			return;
		}
		if (*skipping) {
			s->lineno++;
			*skipping = false;
		} else if (s->scratch.len > 0) {
			if (sse_buf_add(&s->scratch, p, (size_t)(nl - p)) ==
			    -1) {
				s->lineno++;
				snprintf(msg, sizeof(msg),
				    "longer than --max-event-size (%zu "
				    "bytes), skipped",
				    s->max_event);
				warn_line(s, msg);
			} else {
				one_line(s, s->scratch.p, s->scratch.len);
			}
			sse_buf_reset(&s->scratch);
		} else if ((size_t)(nl - p) > s->max_event) {
			s->lineno++;
			snprintf(msg, sizeof(msg),
			    "longer than --max-event-size (%zu bytes), skipped",
			    s->max_event);
			warn_line(s, msg);
		} else {
			one_line(s, p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
}

static void
end_of_input(struct serve *s, bool skipping)
{
	struct sse_event ev;

	if (s->input != IN_SSE && s->scratch.len > 0 && !skipping)
		one_line(s, s->scratch.p, s->scratch.len); /* no final LF */
	sse_buf_reset(&s->scratch);
	if (s->end_event != NULL) {
		sse_event_init(&ev);
		ev.type = s->end_event;
		ev.type_len = strlen(s->end_event);
		emit(s, &ev);
	}
	flush(s, true);
	if (s->exit_on_eof)
		httpd_drain(s->h);
}

/*
 * SSE input past an oversized event: its remaining lines are dropped up to
 * the blank line that ends it. Returns how many bytes of buf that took
 * (all of them while still inside the event).
 */
static size_t
skip_event(struct serve *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (s->skip_cr && c == '\n') { /* the LF of a CRLF */
			s->skip_cr = false;
			continue;
		}
		s->skip_cr = c == '\r';
		if (c != '\n' && c != '\r') {
			s->skip_bol = false;
		} else if (s->skip_bol) {
			s->skip = false; /* a blank line: the event's end */
			return i + 1;
		} else {
			s->skip_bol = true;
		}
	}
	return len;
}

/* Feed SSE input; an oversized event is skipped, the rest is kept. */
static void
feed_sse(struct serve *s, const char *buf, size_t len)
{
	size_t off = 0, k;
	int rc;

	while (off < len) {
		if (s->skip) {
			off += skip_event(s, buf + off, len - off);
			continue;
		}
		rc = sse_parser_feed(&s->parser, buf + off, len - off);
		if (rc == SSE_OK)
			return;
		fprintf(stderr, "sse: serve: event %llu: %s, skipped\n",
		    (unsigned long long)s->lineno + 1, sse_strerror(rc));
		k = sse_parser_taken(&s->parser);
		sse_parser_end(&s->parser);
		/*
		 * The failing line ends at or after k: skip to a blank line.
		 * Before k is a line end when the failing line was complete.
		 */
		off += k;
		s->skip = true;
		s->skip_cr = off > 0 && buf[off - 1] == '\r';
		s->skip_bol = s->skip_cr || (off > 0 && buf[off - 1] == '\n');
	}
}

static void *
input_main(void *arg)
{
	struct serve *s = arg;
	struct pollfd pfd[2];
	bool skipping = false;
	ssize_t n;
	char *buf;

	if ((buf = malloc(READ_BLOCK)) == NULL) {
		fprintf(stderr, "sse: serve: out of memory\n");
		end_of_input(s, false);
		return NULL;
	}
	pfd[0].fd = 0;
	pfd[0].events = POLLIN;
	pfd[1].fd = s->stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			goto stopped;
		if (pfd[0].revents == 0)
			continue;
		n = read(0, buf, READ_BLOCK);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			fprintf(stderr, "sse: serve: cannot read stdin: %s\n",
			    strerror(errno));
		if (n <= 0)
			break;
		if (s->input == IN_SSE) {
			feed_sse(s, buf, (size_t)n);
		} else {
			feed_lines(s, buf, (size_t)n, &skipping);
		}
		flush(s, false);
	}
	end_of_input(s, skipping);
stopped:
	free(buf);
	return NULL;
}

/* ---- the source: what httpd asks for each client ---- */

/*
 * Under mu: c is new or took something. Any client that does, not only
 * the fastest, shows that the clients are not all stalled.
 */
static void
client_moved(struct serve *s, struct client *c)
{
	s->takes++;
	if (s->stalled) { /* a client is back: wait for the fastest again */
		s->stalled = false;
		s->refresh = true;
	}
	if (c->cursor > s->fastest)
		s->fastest = c->cursor;
	if (s->blocked && c->cursor >= s->want)
		pthread_cond_signal(&s->moved);
}

static void *
src_open(void *ctx, const char *last_id, int *status)
{
	struct serve *s = ctx;
	struct client *c;
	struct sse_buf pre = SSE_BUF_INIT;
	uint64_t cur;
	bool lost = false, ended, caught_up;

	pthread_mutex_lock(&s->mu);
	if (last_id == NULL || *last_id == '\0') {
		cur = evlog_backlog(&s->log, (size_t)s->backlog);
	} else if (evlog_find_id(&s->log, last_id, strlen(last_id), &cur) ==
	    -1) {
		lost = true;
		cur = s->log.tail;
	}
	ended = s->ended;
	caught_up = cur == evlog_head(&s->log);
	if (ended && !lost && caught_up) {
		pthread_mutex_unlock(&s->mu);
		*status = 204; /* everything was sent: stop reconnecting */
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&s->mu);
		*status = 503;
		return NULL;
	}
	c->cursor = cur;
	/* With no client in the history, keep and fastest are from another
	 * time. */
	if (s->nclients++ == 0 || s->keep == UINT64_MAX)
		s->refresh = true;
	client_moved(s, c);
	if ((c->next = s->clients) != NULL)
		c->next->prev = c;
	s->clients = c;
	pthread_mutex_unlock(&s->mu);
	if (s->retry >= 0)
		sse_serialize_retry(&pre, s->retry);
	/* The in-band signal: events between the id and now are gone. */
	if (lost)
		sse_serialize_lost(&pre, last_id, strlen(last_id));
	c->pre = pre.p;
	c->pre_len = pre.len;
	return c;
}

static ssize_t
src_read(void *ctx, void *client, char *buf, size_t max, int64_t *deadline)
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
		if (n == 0 && !ended)
			s->waiters = true; /* the next append must wake it */
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
		s->waiters = true;
	pthread_mutex_unlock(&s->mu);
	if (n > 0)
		return (ssize_t)n;
	return ended ? HTTPD_END : HTTPD_WAIT;
}

static void
src_close(void *ctx, void *client)
{
	struct serve *s = ctx;
	struct client *c = client;

	pthread_mutex_lock(&s->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nclients--;
	if (c->cursor >= s->fastest)
		s->refresh = true;
	if (s->blocked) /* it may have been the fastest, or the last */
		pthread_cond_signal(&s->moved);
	pthread_mutex_unlock(&s->mu);
	free(c->pre);
	free(c);
}

/* ---- options and main ---- */

static int
parse(struct serve *s, struct httpd_opts *ho, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"input", required_argument, NULL, OPT_INPUT},
	    {"event", required_argument, NULL, 'e'},
	    {"id", required_argument, NULL, OPT_ID},
	    {"retry", required_argument, NULL, OPT_RETRY},
	    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT},
	    {"end-event", required_argument, NULL, OPT_END_EVENT},
	    {"exit-on-eof", no_argument, NULL, OPT_EXIT_ON_EOF},
	    {"history", required_argument, NULL, OPT_HISTORY},
	    {"history-bytes", required_argument, NULL, OPT_HISTORY_BYTES},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    {"max-stall", required_argument, NULL, OPT_MAX_STALL},
	    HTTPD_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":he:" HTTPD_SHORTOPTS, longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cmd_help(&cmd_serve_entry);
			return -2;
		case OPT_INPUT:
			if (strcmp(optarg, "lines") == 0)
				s->input = IN_LINES;
			else if (strcmp(optarg, "sse") == 0)
				s->input = IN_SSE;
			else if (strcmp(optarg, "json") == 0)
				s->input = IN_JSON;
			else {
				fprintf(stderr,
				    "sse: serve: --input: invalid value '%s': "
				    "use lines, sse or json\n",
				    optarg);
				return -1;
			}
			break;
		case 'e':
		case OPT_END_EVENT:
			if (*optarg == '\0' || strpbrk(optarg, "\r\n")) {
				fprintf(stderr,
				    "sse: serve: %s: invalid event type '%s'\n",
				    ch == 'e' ? "--event" : "--end-event",
				    optarg);
				return -1;
			}
			if (ch == 'e')
				s->event = optarg;
			else
				s->end_event = optarg;
			break;
		case OPT_ID:
			if (strcmp(optarg, "seq") == 0)
				s->ids = true;
			else if (strcmp(optarg, "none") == 0)
				s->ids = false;
			else {
				fprintf(stderr,
				    "sse: serve: --id: invalid value '%s': use "
				    "seq or none\n",
				    optarg);
				return -1;
			}
			break;
		case OPT_RETRY:
			if (opt_int("serve: --retry", optarg, 0, INT32_MAX,
				&s->retry) == -1)
				return -1;
			break;
		case OPT_MAX_EVENT:
			if (opt_size("serve: --max-event-size", optarg, 16,
				&s->max_event) == -1)
				return -1;
			break;
		case OPT_EXIT_ON_EOF:
			s->exit_on_eof = true;
			break;
		case OPT_HISTORY:
			if (opt_int("serve: --history", optarg, 1, 100000000,
				&s->history) == -1)
				return -1;
			break;
		case OPT_HISTORY_BYTES:
			if (opt_size("serve: --history-bytes", optarg, 1024,
				&s->history_bytes) == -1)
				return -1;
			break;
		case OPT_BACKLOG:
			if (opt_int("serve: --backlog", optarg, 0, 100000000,
				&s->backlog) == -1)
				return -1;
			break;
		case OPT_MAX_STALL:
			if (opt_seconds("serve: --max-stall", optarg,
				&s->max_stall_ms) == -1)
				return -1;
			break;
		case ':':
			fprintf(stderr,
			    "sse: serve: option '%s' needs a value\n",
			    argv[optind - 1]);
			return -1;
		case '?':
			fprintf(stderr, "sse: serve: unknown option '%s'\n",
			    argv[optind - 1]);
			return -1;
		default:
			r = httpd_opt(ho, ch, optarg, "serve");
			if (r <= 0)
				return -1;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sse: serve: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (s->max_event + 4096 > s->history_bytes) {
		fprintf(stderr,
		    "sse: serve: --history-bytes must exceed "
		    "--max-event-size by 4K\n");
		return -1;
	}
	return 0;
}

static int
cmd_serve_exec(int argc, char **argv)
{
	struct serve s;
	struct httpd_opts ho;
	struct httpd_source src;
	struct sse_parser_cb cb;
	pthread_condattr_t ca;
	pthread_t tid;
	uint64_t one = 1;
	int rc;

	memset(&s, 0, sizeof(s));
	s.event = SSE_DEFAULT_TYPE;
	s.ids = true;
	s.retry = -1;
	s.max_event = SSE_DEFAULT_MAX_EVENT;
	s.history = 100000;
	s.history_bytes = 64u << 20;
	s.backlog = 1000;
	s.max_stall_ms = 10000;
	s.retry_in = -1;
	s.stopfd = -1;
	httpd_opts_init(&ho);
	if ((rc = parse(&s, &ho, argc, argv)) != 0) {
		httpd_opts_release(&ho);
		return rc == -2 ? EXIT_OK : cmd_usage(&cmd_serve_entry);
	}
	s.event_len = strlen(s.event);
	if (evlog_init(&s.log, (size_t)s.history, s.history_bytes) == -1) {
		fprintf(stderr, "sse: serve: cannot allocate the history\n");
		httpd_opts_release(&ho);
		return EXIT_ERROR;
	}
	pthread_mutex_init(&s.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.moved, &ca);
	pthread_condattr_destroy(&ca);
	sse_buf_init(&s.batch, 0);
	sse_buf_init(&s.scratch, s.max_event);
	memset(&cb, 0, sizeof(cb));
	cb.event = sse_in_event;
	cb.retry = sse_in_retry;
	cb.ctx = &s;
	sse_parser_init(&s.parser, &cb, s.max_event);

	src.open = src_open;
	src.read = src_read;
	src.close = src_close;
	src.ctx = &s;
	httpd_block_signals();
	rc = httpd_start(&s.h, &ho, &src);
	if (rc == 0 &&
	    ((s.stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
		pthread_create(&tid, NULL, input_main, &s) != 0)) {
		fprintf(stderr, "sse: serve: cannot start the input thread\n");
		rc = EXIT_ERROR;
	} else if (rc == 0) {
		httpd_run(s.h);
		pthread_mutex_lock(&s.mu);
		s.stop = true; /* no client will move now */
		pthread_cond_signal(&s.moved);
		pthread_mutex_unlock(&s.mu);
		(void)!write(s.stopfd, &one, sizeof(one));
		pthread_join(tid, NULL);
	}
	httpd_free(s.h);
	if (s.stopfd != -1)
		close(s.stopfd);
	sse_parser_release(&s.parser);
	sse_buf_release(&s.batch);
	sse_buf_release(&s.scratch);
	free(s.pend);
	evlog_release(&s.log);
	pthread_cond_destroy(&s.moved);
	pthread_mutex_destroy(&s.mu);
	httpd_opts_release(&ho);
	return rc;
}
