/*
 * POST /events[/TOPIC] (with the publish option): the head is checked
 * first (the publish token, the topic's name, the content type, a
 * Content-Length over the limit), so a refused request is answered before
 * its body is read; then the body is gathered (bounded) and handed to the
 * source's publish callback. The source answers at once, or later from
 * another thread (httpd_pub_done): the request is suspended meanwhile, and
 * the loop resumes it on the wake that follows.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "publish.h"
#include "topic.h"

struct pubreq {
	TAILQ_ENTRY(pubreq) link;
	struct MHD_Connection *mc;
	struct httpd_pub p;
	struct sse_buf body;
	char topic[SSE_TOPIC_MAX + 1];
	char *ctype, *event;
	bool too_big;
	bool waiting; /* suspended, in h->pubs */
	atomic_bool done;
};

void
publish_free(struct pubreq *q)
{
	sse_buf_release(&q->body);
	free(q->ctype);
	free(q->event);
	free(q->p.answer);
	free(q);
}

static enum MHD_Result
json_error(struct httpd *h, struct MHD_Connection *mc, unsigned status,
    const char *msg)
{
	struct sse_buf b = SSE_BUF_INIT;
	enum MHD_Result ret;

	sse_buf_addstr(&b, "{\"error\":");
	sse_json_str(&b, msg, strlen(msg));
	sse_buf_addstr(&b, "}\n");
	ret = route_answer(h, mc, status, "application/json",
	    b.p != NULL ? b.p : "", b.len, false);
	sse_buf_release(&b);
	return ret;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* The head: refuse early, or set up the request for its body. */
static enum MHD_Result
publish_begin(
    struct httpd *h, struct MHD_Connection *mc, const char *url, struct req *r)
{
	const char *ct, *cl, *ev, *why;
	struct pubreq *q;
	size_t tlen = 0;

	if (!route_token_ok(mc, h->o.publish_token, false))
		return json_error(h, mc, MHD_HTTP_UNAUTHORIZED,
		    "publishing needs the publish token "
		    "(Authorization: Bearer)");
	if (url[7] == '/') {
		tlen = strlen(url + 8);
		if (!sse_topic_valid(url + 8, tlen, &why))
			return json_error(h, mc, MHD_HTTP_BAD_REQUEST, why);
	}
	ct = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (pub_kind_of(ct) == PUB_UNSUPPORTED)
		return json_error(h, mc, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "use text/plain (a line an event), application/json "
		    "(an object a line) or text/event-stream");
	cl = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > h->o.max_publish)
		return json_error(h, mc, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body larger than --max-publish-size");
	ev = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "event");
	if (ev != NULL && (*ev == '\0' || strpbrk(ev, "\r\n") != NULL))
		return json_error(
		    h, mc, MHD_HTTP_BAD_REQUEST, "invalid ?event= type");
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return MHD_NO;
	sse_buf_init(&q->body, h->o.max_publish);
	memcpy(q->topic, url + 8, tlen);
	q->topic[tlen] = '\0';
	q->ctype = dup_or_null(ct);
	q->event = dup_or_null(ev);
	if ((ct != NULL && q->ctype == NULL) ||
	    (ev != NULL && q->event == NULL)) {
		publish_free(q);
		return MHD_NO;
	}
	r->pub = q;
	return MHD_YES;
}

static enum MHD_Result
publish_answer(struct httpd *h, struct MHD_Connection *mc, struct pubreq *q)
{
	if (q->p.status == 0)
		return json_error(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
	return route_answer(h, mc, (unsigned)q->p.status, "application/json",
	    q->p.answer != NULL ? q->p.answer : "{}\n",
	    q->p.answer != NULL ? q->p.answer_len : 3, false);
}

enum MHD_Result
publish_request(struct httpd *h, struct MHD_Connection *mc, const char *url,
    const char *upload, size_t *upload_size, struct req *r)
{
	struct pubreq *q;

	if (r == NULL) { /* out of memory when it began */
		*upload_size = 0;
		return MHD_NO;
	}
	if ((q = r->pub) == NULL)
		return publish_begin(h, mc, url, r);
	if (*upload_size > 0) {
		if (!q->too_big &&
		    sse_buf_add(&q->body, upload, *upload_size) == -1)
			q->too_big = true; /* read on, answer 413 at the end */
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->waiting) /* resumed: the source has answered */
		return publish_answer(h, mc, q);
	if (q->too_big)
		return json_error(h, mc, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body larger than --max-publish-size");
	if (h->stopping || atomic_load(&h->drain))
		return json_error(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
	q->p.topic = q->topic[0] != '\0' ? q->topic : NULL;
	q->p.content_type = q->ctype;
	q->p.event = q->event;
	q->p.body = q->body.p != NULL ? q->body.p : "";
	q->p.len = q->body.len;
	if (h->src.publish(h->src.ctx, &q->p) == 0)
		return publish_answer(h, mc, q);
	q->waiting = true;
	q->mc = mc;
	TAILQ_INSERT_TAIL(&h->pubs, q, link);
	MHD_suspend_connection(mc);
	return MHD_YES;
}

void
httpd_pub_done(struct httpd *h, struct httpd_pub *p)
{
	struct pubreq *q =
	    (struct pubreq *)(void *)((char *)p - offsetof(struct pubreq, p));

	atomic_store(&q->done, true);
	atomic_store(&h->pub_wake, true);
	httpd_wake_now(h);
}

/* The loop thread, on a wake: resume the requests that have an answer. */
void
publish_resume_done(struct httpd *h)
{
	struct pubreq *q, *next;

	for (q = TAILQ_FIRST(&h->pubs); q != NULL; q = next) {
		next = TAILQ_NEXT(q, link);
		if (!atomic_load(&q->done))
			continue;
		TAILQ_REMOVE(&h->pubs, q, link);
		MHD_resume_connection(q->mc);
	}
}

/* At the end (the source is done with them): resume every one. */
void
publish_resume_all(struct httpd *h)
{
	struct pubreq *q;

	while ((q = TAILQ_FIRST(&h->pubs)) != NULL) {
		TAILQ_REMOVE(&h->pubs, q, link);
		MHD_resume_connection(q->mc);
	}
}
