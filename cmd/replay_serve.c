/*
 * sse replay --serve: the recording to SSE clients, on serve's HTTP front
 * end (cmd/httpd.h). Each entry is serialized once, up front; every client
 * is a cursor into those bytes with its own clock. The front end asks for
 * a client's bytes; when the next event is not due yet, the client answers
 * "wait" with a deadline and its connection is suspended until then: one
 * thread, no busy waiting, no thread or timer per client.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "httpd.h"
#include "msg.h"
#include "replay.h"
#include "serialize.h"
#include "util.h"

struct server {
	const struct sse_recording *rec;
	const struct replay_opts *o;
	struct sse_plan plan;
	struct sse_buf wire; /* every entry, serialized */
	size_t *off; /* entry i is wire[off[i], off[i + 1]) */
	size_t *idend; /* where entry i's id value ends in wire, or 0 */
	long first; /* where a client without Last-Event-ID starts */
	long long failed; /* requests answered with --status so far */
	struct sse_buf retry; /* "retry: MS\n\n", sent first, or empty */
	char *also; /* the recorded request: "METHOD\0PATH" */
	char **also_lines; /* the first response's header lines */
	size_t nalso;
};

struct client {
	long next; /* the entry to send next */
	long long loop; /* plays finished on this connection */
	int64_t start; /* monotonic us when play time `base` was */
	int64_t base; /* play time of the entry the client resumed after */
	size_t sent; /* bytes of entry `next` already sent */
	size_t head; /* bytes of server.retry already sent */
	uint64_t events; /* events sent on this connection */
};

static int
serialize_all(struct server *s)
{
	const struct sse_recording *rec = s->rec;
	struct sse_event ev;
	const char *why;
	size_t i, id_at;

	if ((s->off = calloc(rec->nev + 1, sizeof(*s->off))) == NULL ||
	    (s->idend = calloc(rec->nev + 1, sizeof(*s->idend))) == NULL)
		return -1;
	for (i = 0; i < rec->nev; i++) {
		s->off[i] = s->wire.len;
		sse_recording_event(rec, i, &ev);
		/* --exact sends the chunks alone, otherwise everything but
		 * them. */
		switch (rec->ev[i].kind) {
		case SSE_REC_CHUNK:
			if (s->o->pace.exact &&
			    sse_buf_add(&s->wire, ev.data, ev.data_len) == -1)
				return -1;
			break;
		case SSE_REC_RETRY:
			if (!s->o->pace.exact &&
			    sse_serialize_retry(&s->wire, ev.retry) != 0)
				return -1;
			break;
		case SSE_REC_EVENT:
			/* The loader checked that type and id can be sent. */
			if (s->o->pace.exact)
				break;
			if (sse_serialize_at(&s->wire, &ev, &why, &id_at) != 0)
				return -1;
			if (ev.has_id && ev.id_len > 0)
				s->idend[i] = id_at + ev.id_len;
			break;
		default: /* a recording in memory holds nothing else */
			break;
		}
	}
	s->off[rec->nev] = s->wire.len;
	return 0;
}

/* The last entry index holding an event, or -1. */
static long
last_event(const struct sse_recording *rec)
{
	long i;

	for (i = (long)rec->nev - 1; i >= 0; i--)
		if (rec->ev[i].kind == SSE_REC_EVENT)
			return i;
	return -1;
}

/*
 * With --loop, the ids of pass k > 1 end in "~k" (see sse-replay(1)), so
 * that a client resuming is sent the rest of its own pass: the entry after
 * its id, and the pass it was in. -1 when the id is not the recording's.
 */
static long
find_resume(const struct server *s, const char *id, long long *loop)
{
	size_t len = strlen(id), i;
	long found;
	long long k = 0;

	*loop = 0;
	if ((found = sse_recording_find_id(s->rec, id, len)) >= 0 ||
	    s->o->loops == 1)
		return found;
	for (i = len; i > 0 && id[i - 1] >= '0' && id[i - 1] <= '9'; i--)
		;
	if (i == len || i < 2 || id[i - 1] != '~' || len - i > 9 ||
	    id[i] == '0')
		return -1;
	for (size_t j = i; j < len; j++)
		k = k * 10 + (id[j] - '0');
	if (k < 2 || (s->o->loops != 0 && k > s->o->loops))
		return -1;
	if ((found = sse_recording_find_id(s->rec, id, i - 1)) < 0 ||
	    s->idend[found] == 0)
		return -1;
	*loop = k - 1;
	return found;
}

static void *
src_open(void *ctx, struct httpd_open *op)
{
	struct server *s = ctx;
	struct client *c;
	/* An id with a NUL in it is none the recording holds. */
	const char *last_id =
	    op->last_id != NULL && memchr(op->last_id, 0, op->last_len) == NULL
	    ? op->last_id
	    : NULL;
	int *status = &op->status;
	long at = s->first, found;
	long long loop = 0;

	if (s->failed < s->o->fail_first) {
		s->failed++;
		*status = s->o->status;
		return NULL;
	}
	/* --exact: the bytes as recorded, so every connection starts over. */
	if (!s->o->pace.exact && last_id != NULL &&
	    (found = find_resume(s, last_id, &loop)) >= 0) {
		/* The client has everything: tell it to stop reconnecting. */
		if (found == last_event(s->rec) && s->o->loops != 0 &&
		    loop + 1 >= s->o->loops) {
			*status = 204;
			return NULL;
		}
		at = found + 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*status = 503;
		return NULL;
	}
	c->next = at;
	c->loop = loop;
	c->base = at > 0 ? s->plan.at[at - 1] : 0;
	/* Pass `loop` goes on now: its start is loop periods back. */
	c->start = now_mono_us() - loop * s->plan.period;
	return c;
}

static size_t
copy(char *dst, size_t max, const char *src, size_t len)
{
	size_t n = len < max ? len : max;

	if (n > 0) /* src may be NULL when there is nothing */
		memcpy(dst, src, n);
	return n;
}

/*
 * Copy what is left of entry c->next, its id suffixed in passes after the
 * first; *total is the entry's length as sent.
 */
static size_t
entry_copy(const struct server *s, struct client *c, char *dst, size_t max,
    size_t *total)
{
	const char *p = s->wire.p + s->off[c->next];
	size_t len = s->off[c->next + 1] - s->off[c->next], cut = len;
	size_t slen = 0, n = 0, pos;
	char suf[24];

	if (c->loop > 0 && s->idend[c->next] != 0) {
		cut = s->idend[c->next] - s->off[c->next];
		slen = (size_t)snprintf(suf, sizeof(suf), "~%lld", c->loop + 1);
	}
	*total = len + slen;
	while (n < max && c->sent < *total) {
		pos = c->sent;
		if (pos < cut)
			pos = copy(dst + n, max - n, p + pos, cut - pos);
		else if (pos < cut + slen)
			pos = copy(dst + n, max - n, suf + (pos - cut),
			    cut + slen - pos);
		else
			pos = copy(dst + n, max - n, p + pos - slen,
			    len - (pos - slen));
		n += pos;
		c->sent += pos;
	}
	return n;
}

static ssize_t
src_read(void *ctx, void *cl, char *buf, size_t max, int64_t *deadline)
{
	struct server *s = ctx;
	struct client *c = cl;
	const struct replay_opts *o = s->o;
	const struct sse_recording *rec = s->rec;
	size_t n = 0, total, hlen = s->retry.len;
	int64_t due;

	if (c->head < hlen) {
		n = copy(buf, max, s->retry.p + c->head, hlen - c->head);
		c->head += n;
		return (ssize_t)n;
	}
	while (n < max) {
		if ((size_t)c->next >= rec->nev) {
			if (rec->nevents == 0 ||
			    (o->loops != 0 && c->loop + 1 >= o->loops))
				break;
			c->loop++;
			c->next = 0;
		}
		if (c->sent == 0) {
			if (o->disconnect_after > 0 &&
			    c->events >= (uint64_t)o->disconnect_after)
				break;
			due = c->start + c->loop * s->plan.period +
			    s->plan.at[c->next] - c->base;
			if (due > now_mono_us()) {
				if (n > 0)
					return (ssize_t)n;
				*deadline = (due + 999) / 1000;
				return HTTPD_WAIT;
			}
		}
		n += entry_copy(s, c, buf + n, max - n, &total);
		if (c->sent < total)
			break; /* buf is full */
		c->sent = 0;
		if (rec->ev[c->next++].kind == SSE_REC_EVENT) {
			c->events++;
			/* Everything after the stall moves by its length. */
			if (o->stall_ms > 0 &&
			    c->events == (uint64_t)o->stall_after)
				c->start += o->stall_ms * 1000;
		}
	}
	if (n > 0)
		return (ssize_t)n;
	return HTTPD_END;
}

static void
src_close(void *ctx, void *client)
{
	(void)ctx;
	free(client);
}

/*
 * The request the recording was made with (its method and path, when not
 * GET /events) is answered too, with the first response's headers, so
 * that an SDK pointed at the replay with its base URL works unchanged.
 * -1 when out of memory.
 */
static int
recorded_request(struct server *s, struct httpd_source *src)
{
	const struct sse_recording *rec = s->rec;
	const char *str = rec->strings.p, *u, *p, *q;
	size_t i, n;

	if (rec->url_len == 0)
		return 0;
	u = str + rec->url;
	n = rec->url_len;
	/* scheme://host[:port]/path?query: the path, "/" when none */
	if ((p = memmem(u, n, "://", 3)) != NULL)
		p = memchr(p + 3, '/', n - (size_t)(p + 3 - u));
	q = p ? memchr(p, '?', n - (size_t)(p - u)) : NULL;
	if (asprintf(&s->also, "%.*s%c%.*s", (int)rec->method_len,
		str + rec->method, '\0', p ? (int)((q ? q : u + n) - p) : 1,
		p ? p : "/") < 0) {
		s->also = NULL;
		return -1;
	}
	src->also_method = s->also;
	src->also_path = s->also + strlen(s->also) + 1;
	if (strcmp(src->also_method, "GET") == 0 &&
	    strcmp(src->also_path, "/events") == 0)
		src->also_method = src->also_path = NULL;
	if ((s->also_lines = calloc(rec->nhead + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < rec->nhead; i++)
		if ((s->also_lines[s->nalso++] =
			    strndup(str + rec->head_lines[2 * i],
				rec->head_lines[2 * i + 1])) == NULL)
			return -1;
	src->also_headers = (const char *const *)s->also_lines;
	src->also_nheaders = s->nalso;
	return 0;
}

int
replay_serve(const struct sse_recording *rec, const struct replay_opts *o,
    const struct httpd_opts *ho, long first)
{
	struct httpd_source src = {
	    .open = src_open, .read = src_read, .close = src_close};
	struct server s;
	struct httpd *h;
	int rc;

	memset(&s, 0, sizeof(s));
	s.rec = rec;
	s.o = o;
	s.first = first;
	sse_buf_init(&s.wire, 0);
	sse_buf_init(&s.retry, 0);
	if ((o->retry_ms >= 0 &&
		sse_serialize_retry(&s.retry, o->retry_ms) != 0) ||
	    sse_plan_make(&s.plan, rec, &o->pace) == -1 ||
	    serialize_all(&s) == -1) {
		msg_errx("out of memory");
		rc = EXIT_ERROR;
		goto out;
	}
	src.ctx = &s;
	if (recorded_request(&s, &src) == -1) {
		msg_errx("out of memory");
		rc = EXIT_ERROR;
		goto out;
	}
	httpd_block_signals();
	if ((rc = httpd_start(&h, ho, &src)) != 0)
		goto out;
	httpd_run(h);
	httpd_free(h);
	rc = EXIT_OK;
out:
	sse_plan_release(&s.plan);
	free(s.off);
	free(s.idend);
	sse_buf_release(&s.wire);
	sse_buf_release(&s.retry);
	free(s.also);
	while (s.nalso > 0)
		free(s.also_lines[--s.nalso]);
	free(s.also_lines);
	return rc;
}
