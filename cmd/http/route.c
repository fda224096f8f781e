/*
 * One request: GET /events (a stream), GET / (the viewer page), OPTIONS
 * (CORS preflight), GET /metrics and /healthz (req.c), POST /events
 * (publish.c), 404 and 405 for the rest; token auth, CORS headers and the
 * client limit on the way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "topic.h"

#define TOPICS_MAX 16 /* on one connection */

static const char events_type[] = "text/event-stream; charset=utf-8";

static bool
token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	/* Constant time in the length of the secret. */
	for (i = 0; i < lb; i++)
		d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return d == 0;
}

/* token (NULL: none needed) as a bearer token, or as ?token= if query. */
bool
route_token_ok(struct MHD_Connection *mc, const char *token, bool query)
{
	const char *v;

	if (token == NULL)
		return true;
	v = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (v != NULL && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		while (*v == ' ')
			v++;
		if (token_eq(v, token))
			return true;
	}
	if (!query)
		return false;
	v = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "token");
	return v != NULL && token_eq(v, token);
}

static bool
authorized(struct httpd *h, struct MHD_Connection *mc)
{
	return route_token_ok(mc, h->o.token, true);
}

static const char *
methods(struct httpd *h)
{
	return h->o.publish ? "GET, HEAD, OPTIONS, POST" : "GET, HEAD, OPTIONS";
}

/* The allowed value for Access-Control-Allow-Origin, or NULL. */
static const char *
cors_origin(struct httpd *h, struct MHD_Connection *mc)
{
	const char *origin;
	size_t i;

	if (h->o.cors.n == 0)
		return NULL;
	origin = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	for (i = 0; i < h->o.cors.n; i++) {
		if (strcmp(h->o.cors.v[i], "*") == 0)
			return origin != NULL ? origin : "*";
		if (origin != NULL && strcmp(h->o.cors.v[i], origin) == 0)
			return origin;
	}
	return NULL;
}

/*
 * The headers every answer carries: CORS, and on the small door
 * "Connection: close", so that the connection's next request is measured
 * (and routed) anew.
 */
static void
add_common(struct httpd *h, struct MHD_Connection *mc, struct MHD_Response *r)
{
	const union MHD_ConnectionInfo *ci;
	const char *origin = cors_origin(h, mc);

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_DAEMON);
	if (ci != NULL && ci->daemon == h->door[0].d)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");

	/* The answer depends on Origin, allowed or not: caches must know. */
	if (h->o.cors.n > 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	if (origin != NULL)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
}

static enum MHD_Result
answer(struct httpd *h, struct MHD_Connection *mc, unsigned status,
    const char *type, const char *body, size_t len, bool is_static)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    is_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, methods(h));
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	add_common(h, mc, r);
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES && h->cur != NULL) {
		h->cur->status = status;
		h->cur->bytes = len;
	}
	return ret;
}

enum MHD_Result
route_answer(struct httpd *h, struct MHD_Connection *mc, unsigned status,
    const char *type, const char *body, size_t len, bool is_static)
{
	return answer(h, mc, status, type, body, len, is_static);
}

static enum MHD_Result
text(struct httpd *h, struct MHD_Connection *mc, unsigned status,
    const char *msg)
{
	return answer(
	    h, mc, status, "text/plain; charset=utf-8", msg, strlen(msg), true);
}

static enum MHD_Result
preflight(struct httpd *h, struct MHD_Connection *mc)
{
	struct MHD_Response *r;
	const char *origin = cors_origin(h, mc), *want;
	enum MHD_Result ret;

	if (origin == NULL &&
	    MHD_lookup_connection_value(
		mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN) != NULL)
		return text(h, mc, MHD_HTTP_FORBIDDEN, "origin not allowed\n");
	if ((r = MHD_create_response_from_buffer(
		 0, NULL, MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, methods(h));
	add_common(h, mc, r);
	if (origin != NULL) {
		MHD_add_response_header(r,
		    MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS, methods(h));
		want = MHD_lookup_connection_value(
		    mc, MHD_HEADER_KIND, "Access-Control-Request-Headers");
		MHD_add_response_header(r,
		    MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_HEADERS,
		    want != NULL
			? want
			: "Authorization, Last-Event-ID, Cache-Control, "
			  "Content-Type");
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_ACCESS_CONTROL_MAX_AGE, "86400");
	}
	ret = MHD_queue_response(mc, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES && h->cur != NULL)
		h->cur->status = MHD_HTTP_NO_CONTENT;
	return ret;
}

/* A HEAD request's stream: never read, as there is no body. */
static ssize_t
head_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* The source's recorded header lines (replay), but for these. */
static void
add_also(struct httpd *h, struct MHD_Response *r)
{
	static const char *const skip[] = {"content-type", "content-length",
	    "transfer-encoding", "connection", "content-encoding", "date",
	    "keep-alive", "cache-control"};
	const char *line, *colon;
	char name[128];
	size_t i, k, n;

	for (i = 0; i < h->src.also_nheaders; i++) {
		line = h->src.also_headers[i];
		if ((colon = strchr(line, ':')) == NULL ||
		    (n = (size_t)(colon - line)) >= sizeof(name))
			continue;
		memcpy(name, line, n);
		name[n] = '\0';
		for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			if (strcasecmp(name, skip[k]) == 0)
				break;
		if (k == sizeof(skip) / sizeof(skip[0]))
			MHD_add_response_header(
			    r, name, colon + 1 + strspn(colon + 1, " \t"));
	}
}

static enum MHD_Result
queue_stream(struct httpd *h, struct MHD_Connection *mc, struct MHD_Response *r)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, events_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	add_also(h, r);
	add_common(h, mc, r);
	ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES && h->cur != NULL)
		h->cur->status = MHD_HTTP_OK;
	return ret;
}

/* The topics a stream asks for: /events/NAME, and each ?topic=NAME. */
struct topics {
	const char *v[TOPICS_MAX];
	size_t n;
	bool too_many;
};

static enum MHD_Result
topic_arg(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct topics *t = cls;

	(void)kind;
	if (strcmp(key, "topic") != 0)
		return MHD_YES;
	value = value != NULL ? value : "";
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], value) == 0)
			return MHD_YES; /* named twice: followed once */
	if (t->n == TOPICS_MAX)
		t->too_many = true;
	else
		t->v[t->n++] = value;
	return MHD_YES;
}

/* The stream's client from the source; NULL with *status to answer. */
static void *
open_stream(struct httpd *h, struct MHD_Connection *mc, const char *url,
    struct httpd_open *op, const char **why)
{
	int *status = &op->status;
	struct topics t = {.n = 0};
	const char *bad;
	void *client;
	size_t i;

	if (url[7] == '/')
		t.v[t.n++] = url + 8;
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, topic_arg, &t);
	if (t.n == 0)
		return h->src.open(h->src.ctx, op);
	*status = MHD_HTTP_BAD_REQUEST;
	if (h->src.open_topics == NULL) {
		*status = MHD_HTTP_NOT_FOUND;
		*why = "not found\n";
		return NULL;
	}
	if (t.too_many) {
		*why = "too many topics on one connection\n";
		return NULL;
	}
	for (i = 0; i < t.n; i++)
		if (!sse_topic_valid(t.v[i], strlen(t.v[i]), &bad)) {
			*why = "invalid topic name: letters, digits, '-', '_' "
			       "and '.', at most 64\n";
			return NULL;
		}
	*why = "cannot follow that topic (--max-topics)\n";
	if ((client = h->src.open_topics(h->src.ctx, t.v, t.n, op)) == NULL &&
	    *status == MHD_HTTP_NO_CONTENT)
		*why = "";
	return client;
}

static enum MHD_Result
stream(struct httpd *h, struct MHD_Connection *mc, bool head, const char *url)
{
	struct httpd_open op = {NULL, 0, MHD_HTTP_NO_CONTENT, false};
	struct MHD_Response *r;
	const char *why = "";
	void *client;

	if (h->stopping || atomic_load(&h->drain))
		return text(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
	if (h->nstreams >= h->o.max_clients)
		return text(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "too many clients\n");
	if (MHD_lookup_connection_value_n(mc, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_LAST_EVENT_ID,
		sizeof(MHD_HTTP_HEADER_LAST_EVENT_ID) - 1, &op.last_id,
		&op.last_len) != MHD_YES)
		(void)MHD_lookup_connection_value_n(mc, MHD_GET_ARGUMENT_KIND,
		    "lastEventId", 11, &op.last_id, &op.last_len);
	if ((client = open_stream(h, mc, url, &op, &why)) == NULL)
		return answer(h, mc, (unsigned)op.status,
		    *why ? "text/plain; charset=utf-8" : NULL, why, strlen(why),
		    true);
	if (head) {
		/* GET's status and headers, without a stream behind them. */
		h->src.close(h->src.ctx, client);
		r = MHD_create_response_from_callback(
		    MHD_SIZE_UNKNOWN, BLOCK_SIZE, head_read, NULL, NULL);
	} else
		r = stream_response(h, mc, client);
	if (r == NULL)
		return MHD_NO;
	if (op.lost)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_LAST_EVENT_ID, "earliest");
	return queue_stream(h, mc, r);
}

enum MHD_Result
route_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	struct httpd *h = ((struct door *)cls)->h;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	const char *page;
	size_t len;

	(void)version;
	if ((h->cur = *req) != NULL && h->cur->method[0] == '\0')
		snprintf(h->cur->method, sizeof(h->cur->method), "%s", method);
	if (h->o.publish && h->src.publish != NULL &&
	    strcmp(method, MHD_HTTP_METHOD_POST) == 0 &&
	    (strcmp(url, "/events") == 0 || strncmp(url, "/events/", 8) == 0))
		return publish_request(h, mc, url, upload, upload_size, *req);
	/* Any other request body is ignored: those routes answer at once. */
	*upload_size = 0;
	if (h->src.also_path != NULL && strcmp(url, h->src.also_path) == 0 &&
	    strcmp(method, h->src.also_method) == 0) {
		if (!authorized(h, mc))
			return text(
			    h, mc, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
		return stream(h, mc, false, "/events");
	}
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return preflight(h, mc);
	if (!get && !head)
		return text(
		    h, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0)
		return req_ops(h, mc, url[1] == 'm');
	if (strcmp(url, "/events") != 0 && strncmp(url, "/events/", 8) != 0 &&
	    !(h->o.viewer &&
		(strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)))
		return text(h, mc, MHD_HTTP_NOT_FOUND, "not found\n");
	if (!authorized(h, mc))
		return text(h, mc, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	if (strncmp(url, "/events", 7) == 0)
		return stream(h, mc, head, url);
	/* libmicrohttpd sends no body to HEAD, and GET's Content-Length. */
	page = httpd_viewer(&len);
	return answer(
	    h, mc, MHD_HTTP_OK, "text/html; charset=utf-8", page, len, true);
}
