/*
 * Each request's record, from its URI (libmicrohttpd's URI log callback,
 * whose answer becomes the request's pointer) to its end (the completion
 * callback): the access log line, and the operator's routes, GET /metrics
 * (the Prometheus text format) and GET /healthz.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "http.h"
#include "msg.h"
#include "prom.h"
#include "util.h"

void *
req_begin(void *cls, const char *uri, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd *h = ((struct door *)cls)->h;
	const struct sockaddr *sa;
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->t0 = now_mono_ms();
	r->wall0 = now_wall_ms();
	h->n_requests++;
	if (h->alog != NULL && (r->uri = strdup(uri)) == NULL) {
		free(r);
		return NULL;
	}
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa != NULL &&
	    (sa->sa_family == AF_INET6 || sa->sa_family == AF_INET))
		(void)getnameinfo(sa,
		    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in),
		    r->peer, sizeof(r->peer), NULL, 0, NI_NUMERICHOST);
	return r;
}

static void
log_line(struct httpd *h, const struct req *r)
{
	struct sse_buf b = SSE_BUF_INIT;
	struct access_rec a;

	a.time_ms = r->wall0;
	a.peer = r->peer;
	a.method = r->method;
	a.path = r->uri != NULL ? r->uri : "";
	a.status = (int)r->status;
	a.bytes = r->bytes;
	a.duration_ms = now_mono_ms() - r->t0;
	/* One write a line: lines never mix with another writer's. */
	if (access_log_line(&b, &a) == 0 &&
	    (fwrite(b.p, 1, b.len, h->alog) != b.len || fflush(h->alog) != 0))
		msg_warn("--access-log: cannot write");
	sse_buf_release(&b);
}

void
req_end(void *cls, struct MHD_Connection *mc, void **req,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = ((struct door *)cls)->h;
	struct req *r = *req;

	(void)mc;
	(void)toe;
	if (r == NULL)
		return;
	if (h->cur == r)
		h->cur = NULL;
	if (h->alog != NULL)
		log_line(h, r);
	if (r->pub != NULL)
		publish_free(r->pub);
	free(r->uri);
	free(r);
	*req = NULL;
}

/* Open --access-log; -1 after saying why. */
int
req_log_open(struct httpd *h)
{
	const char *path = h->o.access_log;

	if (path == NULL)
		return 0;
	if (strcmp(path, "-") == 0) {
		h->alog = stdout;
		return 0;
	}
	if ((h->alog = fopen(path, "ae")) == NULL) {
		msg_err("--access-log: cannot open '%s'", path);
		return -1;
	}
	return 0;
}

static void
metrics(struct httpd *h, struct sse_buf *b)
{
	prom_one(b, "sse_clients", "gauge", "Streams connected now.",
	    (uint64_t)h->nstreams);
	prom_one(b, "sse_connections_total", "counter",
	    "Streams opened since the start.", h->n_streams);
	prom_one(b, "sse_requests_total", "counter",
	    "HTTP requests since the start.", h->n_requests);
	prom_one(b, "sse_bytes_out_total", "counter",
	    "Stream bytes sent (events, keepalives).", h->bytes_out);
	prom_one(b, "sse_clients_dropped_total", "counter",
	    "Streams cut off as too slow (they may resume by id).",
	    h->n_dropped);
	if (h->src.metrics != NULL)
		h->src.metrics(h->src.ctx, b);
}

/*
 * GET /metrics or /healthz: behind --metrics-token when there is one,
 * else behind --token (as a bearer token or ?token=).
 */
enum MHD_Result
req_ops(struct httpd *h, struct MHD_Connection *mc, bool prom)
{
	const char *tok =
	    h->o.metrics_token != NULL ? h->o.metrics_token : h->o.token;
	struct sse_buf b = SSE_BUF_INIT;
	enum MHD_Result ret;

	if (!route_token_ok(mc, tok, true))
		return route_answer(h, mc, MHD_HTTP_UNAUTHORIZED,
		    "text/plain; charset=utf-8", "unauthorized\n", 13, true);
	if (!prom && (h->stopping || atomic_load(&h->drain)))
		return route_answer(h, mc, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "application/json", "{\"status\":\"stopping\"}\n", 22,
		    true);
	if (!prom)
		return route_answer(h, mc, MHD_HTTP_OK, "application/json",
		    "{\"status\":\"ok\"}\n", 16, true);
	metrics(h, &b);
	ret = route_answer(h, mc, MHD_HTTP_OK, PROM_CONTENT_TYPE,
	    b.p != NULL ? b.p : "", b.len, false);
	sse_buf_release(&b);
	return ret;
}
