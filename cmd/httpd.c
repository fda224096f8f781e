/*
 * The shared HTTP front end (see httpd.h): libmicrohttpd in external epoll
 * mode, driven by one loop thread. Streams are responses from a content
 * reader callback; a stream whose source has nothing to send is suspended
 * inside that callback and kept in a min-heap ordered by its next deadline
 * (keepalive or the source's own). httpd_wake_all() from another thread
 * only sets a flag and pokes an eventfd: the loop thread resumes the
 * waiting streams, so every libmicrohttpd call but MHD_resume_connection's
 * flag-setting happens in one thread, and a wake can never be lost: the
 * flag is checked after every MHD_run(), that is after every callback that
 * may have suspended a stream.
 *
 * Wakes are coalesced in time: the waiting streams are resumed at most once
 * every COALESCE_US. A wake that comes later than that after the last
 * resume (an isolated event) resumes them at once; one that comes sooner
 * (events in quick succession) waits for the rest of the interval, so the
 * events that arrive meanwhile leave in one send per client instead of
 * one each. httpd_wake_now() (a producer that waits for its clients) is
 * never deferred.
 *
 * Two doors: libmicrohttpd sizes every connection's memory pool alike, and
 * one pool holds the request's head, the answer's head and the stream's
 * send buffer. A 4 KiB pool keeps an idle stream at a few KiB, but refuses
 * a browser's request with a few KiB of cookies; a pool big enough for that
 * would cost every idle stream as much. So we accept connections ourselves,
 * peek at the request head (MSG_PEEK: nothing is consumed), and hand each
 * connection to one of two daemons: the small-pool one when the head fits
 * its pool, the large-pool one otherwise (and for TLS, whose bytes cannot
 * be peeked). The small door closes each connection after its answer, so
 * every request it serves is one that was measured. A connection that has
 * not sent its whole head waits, without a pool, in a FIFO bounded in time
 * (HEAD_MS) and in number (MAX_PENDING: the oldest is dropped first).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cmd.h"
#include "httpd.h"
#include "reqhead.h"
#include "util.h"

/* A small per-connection pool: an idle stream costs a few KiB. */
#define SMALL_POOL 4096
/*
 * A request head goes to the small pool if its cost (lib/reqhead.h) is at
 * most SMALL_HEAD. Measured, a 4 KiB pool serves heads up to a cost of
 * about 3,800 whatever their shape; tests/serve.bats sends heads of every
 * shape around the limit.
 */
#define SMALL_HEAD 3328
/* The other door's pool: heads up to about 32 KB (more gets 431). */
#define LARGE_POOL (32 * 1024)
#define HEAD_MS 30000 /* a new connection's time to send its head */
#define MAX_PENDING 1024 /* connections still sending their head */
/*
 * The response's own buffer, used only when the stream is not chunked
 * (HTTP/1.0): chunked streams are written straight into the pool.
 */
#define BLOCK_SIZE 1024
#define GRACE_MS 5000
#define EXTRA_CONNS 64 /* beyond max_clients, to answer 503 and serve / */
#define COALESCE_US 2000

/* What an epoll event of ours names, besides our own descriptors. */
enum { W_CONN = 1, W_PENDING };

struct conn {
	int kind; /* W_CONN */
	struct httpd *h;
	struct MHD_Connection *mc;
	void *client;
	int64_t deadline; /* when suspended: wake then (INT64_MAX never) */
	int64_t ka_at; /* a keepalive is due at this time */
	size_t heap_i;
	int fd; /* its socket, once watched for a hang-up (else -1) */
	bool suspended;
	bool gone; /* the client hung up */
	bool ka_due;
	bool sent; /* bytes went out since the last suspension */
};

/* A connection whose request head has not all come yet. */
struct pending {
	int kind; /* W_PENDING */
	int fd;
	int64_t deadline;
	struct pending *prev, *next;
	socklen_t alen;
	struct sockaddr_storage addr;
};

/* One of the two daemons (see the top of this file). */
struct door {
	struct httpd *h;
	struct MHD_Daemon *d; /* NULL: not in use (the small one, with TLS) */
	int fd; /* its epoll descriptor */
};

struct httpd {
	struct door door[2]; /* small, large */
	struct httpd_source src;
	struct httpd_opts o;
	const char *cmd;
	int ep, wakefd, sigfd, lfd;
	bool tls;
	bool accept_ready; /* the listening socket has connections */
	int64_t accept_at; /* accepting paused until then (out of fds) */
	struct pending *phead, *ptail; /* oldest first */
	long npending;
	atomic_bool wake; /* set by httpd_wake_all() */
	atomic_bool wake_now; /* set by httpd_wake_now() */
	bool wake_due; /* a wake waits for the interval to end */
	int64_t woke_at; /* when a wake last resumed the streams (us) */
	bool pwait2; /* epoll_pwait2() works here */
	atomic_bool drain; /* set by httpd_drain() */
	bool stopping; /* a signal came: drain, then stop */
	int signo;
	int64_t stop_by;
	long nstreams;
	struct conn **heap; /* suspended streams, by deadline */
	size_t nheap, capheap;
	char *cert, *key;
};

static const char events_type[] = "text/event-stream; charset=utf-8";

/* ---- options ---- */

void
httpd_opts_init(struct httpd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind = "127.0.0.1";
	o->port = 8080;
	o->max_clients = 10000;
	o->keepalive_ms = 15000;
	o->viewer = true;
}

void
httpd_opts_release(struct httpd_opts *o)
{
	free(o->cors);
	o->cors = NULL;
	o->ncors = 0;
}

int
httpd_opt(struct httpd_opts *o, int ch, const char *arg, const char *cmd)
{
	char opt[64];
	long long v;
	const char **nc;

	switch (ch) {
	case 'b':
		if (*arg == '\0') {
			fprintf(
			    stderr, "sse: %s: --bind: empty address\n", cmd);
			return -1;
		}
		o->bind = arg;
		return 1;
	case 'p':
		snprintf(opt, sizeof(opt), "%s: --port", cmd);
		if (opt_int(opt, arg, 0, 65535, &v) == -1)
			return -1;
		o->port = (long)v;
		return 1;
	case HTTPD_OPT_CORS:
		if (*arg == '\0' || strpbrk(arg, "\r\n") != NULL) {
			fprintf(stderr,
			    "sse: %s: --cors: invalid origin '%s'\n", cmd, arg);
			return -1;
		}
		if ((nc = realloc(o->cors, (o->ncors + 1) * sizeof(*nc))) ==
		    NULL) {
			fprintf(stderr, "sse: %s: out of memory\n", cmd);
			return -1;
		}
		o->cors = nc;
		o->cors[o->ncors++] = arg;
		return 1;
	case HTTPD_OPT_TOKEN:
		if (*arg == '\0') {
			fprintf(stderr, "sse: %s: --token: empty token\n", cmd);
			return -1;
		}
		o->token = arg;
		return 1;
	case HTTPD_OPT_TLS_CERT:
		o->tls_cert = arg;
		return 1;
	case HTTPD_OPT_TLS_KEY:
		o->tls_key = arg;
		return 1;
	case HTTPD_OPT_MAX_CLIENTS:
		snprintf(opt, sizeof(opt), "%s: --max-clients", cmd);
		if (opt_int(opt, arg, 1, 1000000, &v) == -1)
			return -1;
		o->max_clients = (long)v;
		return 1;
	case HTTPD_OPT_KEEPALIVE:
		snprintf(opt, sizeof(opt), "%s: --keepalive", cmd);
		return opt_seconds(opt, arg, &o->keepalive_ms) == -1 ? -1 : 1;
	case HTTPD_OPT_NO_VIEWER:
		o->viewer = false;
		return 1;
	default:
		return 0;
	}
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the heap of suspended streams ---- */

static bool
heap_less(struct conn *a, struct conn *b)
{
	return a->deadline < b->deadline;
}

static void
heap_set(struct httpd *h, size_t i, struct conn *c)
{
	h->heap[i] = c;
	c->heap_i = i;
}

static int
heap_push(struct httpd *h, struct conn *c)
{
	struct conn **nh;
	size_t i, p;

	if (h->nheap == h->capheap) {
		size_t ncap = h->capheap ? h->capheap * 2 : 256;

		if ((nh = realloc(h->heap, ncap * sizeof(*nh))) == NULL)
			return -1;
		h->heap = nh;
		h->capheap = ncap;
	}
	for (i = h->nheap++; i > 0; i = p) {
		p = (i - 1) / 2;
		if (!heap_less(c, h->heap[p]))
			break;
		heap_set(h, i, h->heap[p]);
	}
	heap_set(h, i, c);
	return 0;
}

/* Move the entry at i up or down to its place. */
static void
heap_fix(struct httpd *h, size_t i)
{
	struct conn *c = h->heap[i];
	size_t p, k;

	while (i > 0 && heap_less(c, h->heap[p = (i - 1) / 2])) {
		heap_set(h, i, h->heap[p]);
		i = p;
	}
	for (;;) {
		k = 2 * i + 1;
		if (k >= h->nheap)
			break;
		if (k + 1 < h->nheap && heap_less(h->heap[k + 1], h->heap[k]))
			k++;
		if (!heap_less(h->heap[k], c))
			break;
		heap_set(h, i, h->heap[k]);
		i = k;
	}
	heap_set(h, i, c);
}

static struct conn *
heap_pop(struct httpd *h)
{
	struct conn *top = h->heap[0];

	if (--h->nheap > 0) {
		heap_set(h, 0, h->heap[h->nheap]);
		heap_fix(h, 0);
	}
	return top;
}

/* Take stream c out of the heap, wherever it is. */
static void
heap_remove(struct httpd *h, struct conn *c)
{
	size_t i = c->heap_i;

	h->nheap--;
	if (i == h->nheap)
		return;
	heap_set(h, i, h->heap[h->nheap]);
	heap_fix(h, i);
}

static void
resume(struct conn *c)
{
	c->suspended = false;
	MHD_resume_connection(c->mc);
}

/* Resume every suspended stream (a wake, a drain, or the end). */
static void
resume_all(struct httpd *h)
{
	size_t i;

	for (i = 0; i < h->nheap; i++)
		resume(h->heap[i]);
	h->nheap = 0;
}

/*
 * A suspended stream's socket is out of libmicrohttpd's epoll set, so a
 * client that vanished would be noticed only when a keepalive write fails,
 * two keepalive periods later, and would count against --max-clients
 * until then. Watch the socket for a hang-up in our own epoll set (edge
 * triggered, once per connection, from its first suspension until
 * stream_free) and act on it as soon as it comes (hung_up).
 */
static void
watch(struct httpd *h, struct conn *c)
{
	const union MHD_ConnectionInfo *ci;
	struct epoll_event ev;

	if (c->fd != -1)
		return;
	ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, ci->connect_fd, &ev) == 0)
		c->fd = ci->connect_fd;
}

/*
 * The client's socket reported a hang-up. An error or a full hang-up
 * (EPOLLHUP: it reset the connection) ends the stream. A FIN alone
 * (EPOLLRDHUP) may be a client that vanished or one that only shut down
 * its sending side and still reads: send it a keepalive at once. A client
 * that is gone answers that with a reset, which comes back here as
 * EPOLLHUP; one that still reads takes it, and its stream goes on.
 */
static void
hung_up(struct httpd *h, struct conn *c, uint32_t events)
{
	if (events & (EPOLLHUP | EPOLLERR))
		c->gone = true;
	else
		c->ka_due = true;
	if (c->suspended) {
		heap_remove(h, c);
		resume(c);
	}
}

/* Resume the streams whose deadline has come. */
static void
resume_due(struct httpd *h, int64_t now)
{
	struct conn *c;

	while (h->nheap > 0 && h->heap[0]->deadline <= now) {
		c = heap_pop(h);
		if (c->ka_at <= now)
			c->ka_due = true;
		resume(c);
	}
}

/* ---- streams ---- */

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char ka[] = ":\n";
	struct conn *c = cls;
	struct httpd *h = c->h;
	int64_t deadline = -1, now;
	ssize_t n;

	(void)pos;
	if (c->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (c->ka_due && max >= sizeof(ka) - 1) {
		c->ka_due = false;
		memcpy(buf, ka, sizeof(ka) - 1);
		n = (ssize_t)(sizeof(ka) - 1);
	} else {
		n = h->src.read(h->src.ctx, c->client, buf, max, &deadline);
	}
	if (n > 0) {
		c->sent = true;
		return n;
	}
	if (n == HTTPD_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n != HTTPD_WAIT)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (h->stopping || atomic_load(&h->drain))
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* A keepalive is due a period after the last bytes went out. */
	now = now_mono_ms();
	if (c->sent || c->ka_at == 0)
		c->ka_at =
		    h->o.keepalive_ms > 0 ? now + h->o.keepalive_ms : INT64_MAX;
	c->sent = false;
	c->deadline = c->ka_at;
	if (deadline >= 0 && deadline < c->deadline)
		c->deadline = deadline;
	if (heap_push(h, c) == -1)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	watch(h, c);
	c->suspended = true;
	MHD_suspend_connection(c->mc);
	return 0;
}

static void
stream_free(void *cls)
{
	struct conn *c = cls;
	struct httpd *h = c->h;

	/* libmicrohttpd closes the socket after this: no event may name c. */
	if (c->fd != -1)
		(void)epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
	h->src.close(h->src.ctx, c->client);
	h->nstreams--;
	free(c);
}

/* ---- requests ---- */

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

static bool
authorized(struct httpd *h, struct MHD_Connection *mc)
{
	const char *v;

	if (h->o.token == NULL)
		return true;
	v = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (v != NULL && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		while (*v == ' ')
			v++;
		if (token_eq(v, h->o.token))
			return true;
	}
	v = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "token");
	return v != NULL && token_eq(v, h->o.token);
}

/* The allowed value for Access-Control-Allow-Origin, or NULL. */
static const char *
cors_origin(struct httpd *h, struct MHD_Connection *mc)
{
	const char *origin;
	size_t i;

	if (h->o.ncors == 0)
		return NULL;
	origin = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	for (i = 0; i < h->o.ncors; i++) {
		if (strcmp(h->o.cors[i], "*") == 0)
			return origin != NULL ? origin : "*";
		if (origin != NULL && strcmp(h->o.cors[i], origin) == 0)
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
	if (h->o.ncors > 0)
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
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	add_common(h, mc, r);
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
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
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
	add_common(h, mc, r);
	if (origin != NULL) {
		MHD_add_response_header(r,
		    MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS,
		    "GET, HEAD, OPTIONS");
		want = MHD_lookup_connection_value(
		    mc, MHD_HEADER_KIND, "Access-Control-Request-Headers");
		MHD_add_response_header(r,
		    MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_HEADERS,
		    want != NULL
			? want
			: "Authorization, Last-Event-ID, Cache-Control");
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_ACCESS_CONTROL_MAX_AGE, "86400");
	}
	ret = MHD_queue_response(mc, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
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

static enum MHD_Result
queue_stream(struct httpd *h, struct MHD_Connection *mc, struct MHD_Response *r)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, events_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	add_common(h, mc, r);
	ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
stream(struct httpd *h, struct MHD_Connection *mc, bool head)
{
	struct MHD_Response *r;
	struct conn *c;
	const char *last;
	int status = MHD_HTTP_NO_CONTENT;
	void *client;

	if (h->stopping || atomic_load(&h->drain))
		return text(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
	if (h->nstreams >= h->o.max_clients)
		return text(
		    h, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "too many clients\n");
	last = MHD_lookup_connection_value(
	    mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_LAST_EVENT_ID);
	if (last == NULL)
		last = MHD_lookup_connection_value(
		    mc, MHD_GET_ARGUMENT_KIND, "lastEventId");
	if ((client = h->src.open(h->src.ctx, last, &status)) == NULL)
		return answer(h, mc, (unsigned)status, NULL, "", 0, true);
	if (head) {
		/* GET's status and headers, without a stream behind them. */
		h->src.close(h->src.ctx, client);
		r = MHD_create_response_from_callback(
		    MHD_SIZE_UNKNOWN, BLOCK_SIZE, head_read, NULL, NULL);
		if (r == NULL)
			return MHD_NO;
		return queue_stream(h, mc, r);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		h->src.close(h->src.ctx, client);
		return MHD_NO;
	}
	c->kind = W_CONN;
	c->h = h;
	c->fd = -1;
	c->mc = mc;
	c->client = client;
	h->nstreams++;
	r = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, BLOCK_SIZE, stream_read, c, stream_free);
	if (r == NULL) {
		stream_free(c);
		return MHD_NO;
	}
	return queue_stream(h, mc, r); /* stream_free runs when it ends */
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	struct httpd *h = ((struct door *)cls)->h;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	const char *page;
	size_t len;

	(void)version;
	(void)upload;
	/* Any request body is ignored: every route answers at once. */
	*upload_size = 0;
	*req = h;
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return preflight(h, mc);
	if (!get && !head)
		return text(
		    h, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/events") != 0 &&
	    !(h->o.viewer &&
		(strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)))
		return text(h, mc, MHD_HTTP_NOT_FOUND, "not found\n");
	if (!authorized(h, mc))
		return text(h, mc, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	if (strcmp(url, "/events") == 0)
		return stream(h, mc, head);
	/* libmicrohttpd sends no body to HEAD, and GET's Content-Length. */
	page = httpd_viewer(&len);
	return answer(
	    h, mc, MHD_HTTP_OK, "text/html; charset=utf-8", page, len, true);
}

/* ---- start, run, stop ---- */

static int
read_file(const char *cmd, const char *what, const char *path, char **out)
{
	FILE *fp;
	long n;
	char *p;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "sse: %s: %s: cannot open '%s': %s\n", cmd,
		    what, path, strerror(errno));
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || n > 1 << 20 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (p = malloc((size_t)n + 1)) == NULL) {
		fprintf(
		    stderr, "sse: %s: %s: cannot read '%s'\n", cmd, what, path);
		fclose(fp);
		return -1;
	}
	if (fread(p, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(
		    stderr, "sse: %s: %s: cannot read '%s'\n", cmd, what, path);
		free(p);
		fclose(fp);
		return -1;
	}
	p[n] = '\0';
	fclose(fp);
	*out = p;
	return 0;
}

/* Create, bind and listen; -1 after printing why. */
static int
listen_on(const struct httpd_opts *o, const char *cmd, char *url, size_t urlsz,
    bool tls)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN + 2], port[16], ip[INET6_ADDRSTRLEN];
	const char *name = o->bind;
	char buf[256];
	size_t n = strlen(name);
	int fd, one = 1, rc;

	/* Accept [::1] as well as ::1. */
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']' &&
	    n - 2 < sizeof(buf)) {
		memcpy(buf, name + 1, n - 2);
		buf[n - 2] = '\0';
		name = buf;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%ld", o->port);
	if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
		fprintf(stderr, "sse: %s: cannot bind '%s': %s\n", cmd, o->bind,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(stderr, "sse: %s: cannot bind %s%s%s:%ld: %s\n", cmd,
		    res->ai_family == AF_INET6 ? "[" : "", name,
		    res->ai_family == AF_INET6 ? "]" : "", o->port,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(host, sizeof(host), "[%s]", ip);
		snprintf(port, sizeof(port), "%u", ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(host, sizeof(host), "%s", ip);
		snprintf(port, sizeof(port), "%u", ntohs(s4->sin_port));
	}
	snprintf(url, urlsz, "%s://%s:%s/", tls ? "https" : "http", host, port);
	return fd;
}

/* Room for every allowed client, and then some. */
static void
raise_fd_limit(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want
	    ? (rlim_t)want
	    : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

void
httpd_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Our own descriptors are told from streams (struct conn) by address. */
static int
add_fd(int ep, int *fdp)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = fdp;
	return epoll_ctl(ep, EPOLL_CTL_ADD, *fdp, &ev);
}

/* ---- the two doors ---- */

static void
pending_unlink(struct httpd *h, struct pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		h->phead = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		h->ptail = p->prev;
	h->npending--;
	(void)epoll_ctl(h->ep, EPOLL_CTL_DEL, p->fd, NULL);
}

/* Hand the connection to a door (NULL: drop it) and forget it. */
static void
pending_end(struct httpd *h, struct pending *p, struct door *to)
{
	pending_unlink(h, p);
	if (to != NULL)
		/* It closes the socket if it cannot take it. */
		(void)MHD_add_connection(
		    to->d, p->fd, (struct sockaddr *)&p->addr, p->alen);
	else
		close(p->fd);
	free(p);
}

/* Peek at a pending connection's head: route it, drop it, or wait. */
static void
pending_peek(struct httpd *h, struct pending *p, uint32_t events)
{
	char b[SMALL_HEAD + 1];
	ssize_t n;
	long k;

	n = recv(p->fd, b, sizeof(b), MSG_PEEK);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		k = -2;
	else if (n <= 0)
		k = 0; /* the client left before its request */
	else
		k = reqhead_fit(b, (size_t)n, SMALL_HEAD);
	if (k == -2 && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		k = 0; /* a head that can never be finished */
	if (k > 0)
		pending_end(h, p, &h->door[0]);
	else if (k == -1)
		pending_end(h, p, &h->door[1]);
	else if (k == 0)
		pending_end(h, p, NULL);
}

static void
pending_add(
    struct httpd *h, int fd, struct sockaddr_storage *addr, socklen_t alen)
{
	struct epoll_event ev;
	struct pending *p;

	if (h->npending >= MAX_PENDING) /* drop the oldest */
		pending_end(h, h->phead, NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return;
	}
	p->kind = W_PENDING;
	p->fd = fd;
	p->deadline = now_mono_ms() + HEAD_MS;
	p->addr = *addr;
	p->alen = alen;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = p;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		free(p);
		return;
	}
	p->prev = h->ptail;
	if (h->ptail != NULL)
		h->ptail->next = p;
	else
		h->phead = p;
	h->ptail = p;
	h->npending++;
	/* The head often came with the connection: look at once. */
	pending_peek(h, p, 0);
}

/* Drop the connections whose head is overdue. */
static void
pending_expire(struct httpd *h, int64_t now)
{
	while (h->phead != NULL && h->phead->deadline <= now)
		pending_end(h, h->phead, NULL);
}

/* Accept what the listening socket holds (a bounded batch per call). */
static void
accept_some(struct httpd *h)
{
	struct sockaddr_storage addr;
	socklen_t alen;
	int i, fd;

	for (i = 0; i < 64; i++) {
		alen = sizeof(addr);
		fd = accept4(h->lfd, (struct sockaddr *)&addr, &alen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				h->accept_ready = false;
				return;
			}
			if ((errno == EMFILE || errno == ENFILE) &&
			    h->phead != NULL) {
				/*
				 * Out of descriptors: a connection that has
				 * sent nothing yet makes room, the oldest
				 * first, as beyond MAX_PENDING.
				 */
				pending_end(h, h->phead, NULL);
				continue;
			}
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: try again in a while. */
				(void)epoll_ctl(
				    h->ep, EPOLL_CTL_DEL, h->lfd, NULL);
				h->accept_ready = false;
				h->accept_at = now_mono_ms() + 100;
				return;
			}
			continue; /* e.g. ECONNABORTED: the next one */
		}
		if (h->tls)
			(void)MHD_add_connection(
			    h->door[1].d, fd, (struct sockaddr *)&addr, alen);
		else
			pending_add(h, fd, &addr, alen);
	}
}

static struct MHD_Daemon *
door_open(struct httpd *h, struct door *dr, bool small, unsigned limit)
{
	const union MHD_DaemonInfo *info;
	unsigned flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;

	if (h->tls)
		flags |= MHD_USE_TLS;
	dr->h = h;
	dr->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, dr,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(small ? SMALL_POOL : LARGE_POOL),
	    MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)512,
	    MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)60, h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
	if (dr->d == NULL)
		return NULL;
	info = MHD_get_daemon_info(dr->d, MHD_DAEMON_INFO_EPOLL_FD);
	dr->fd = info != NULL ? info->epoll_fd : -1;
	if (dr->fd == -1 || add_fd(h->ep, &dr->fd) == -1)
		return NULL;
	return dr->d;
}

int
httpd_start(struct httpd **out, const struct httpd_opts *o,
    const struct httpd_source *src, const char *cmd)
{
	struct httpd *h;
	char url[128];
	unsigned limit;
	sigset_t set;
	bool tls = o->tls_cert != NULL || o->tls_key != NULL;

	*out = NULL;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fprintf(stderr,
		    "sse: %s: --tls-cert and --tls-key go together\n", cmd);
		return EXIT_USAGE;
	}
	if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		fprintf(
		    stderr, "sse: %s: this libmicrohttpd has no TLS\n", cmd);
		return EXIT_ERROR;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		fprintf(stderr, "sse: %s: out of memory\n", cmd);
		return EXIT_ERROR;
	}
	h->o = *o;
	h->src = *src;
	h->cmd = cmd;
	h->tls = tls;
	h->ep = h->wakefd = h->sigfd = h->lfd = -1;
	h->pwait2 = true;
	if (h->o.token == NULL) {
		const char *env = getenv("SSE_TOKEN");

		if (env != NULL && *env != '\0')
			h->o.token = env;
	}
	if (tls &&
	    (read_file(cmd, "--tls-cert", o->tls_cert, &h->cert) == -1 ||
		read_file(cmd, "--tls-key", o->tls_key, &h->key) == -1)) {
		httpd_free(h);
		return EXIT_ERROR;
	}
	if ((h->lfd = listen_on(o, cmd, url, sizeof(url), tls)) == -1) {
		httpd_free(h);
		return EXIT_CONNECT;
	}
	limit = (unsigned)o->max_clients + EXTRA_CONNS;
	raise_fd_limit(2 * (long)limit + MAX_PENDING + 64);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (h->ep == -1 || h->wakefd == -1 || h->sigfd == -1 ||
	    add_fd(h->ep, &h->lfd) == -1 || add_fd(h->ep, &h->wakefd) == -1 ||
	    add_fd(h->ep, &h->sigfd) == -1) {
		fprintf(stderr, "sse: %s: cannot set up the event loop: %s\n",
		    cmd, strerror(errno));
		httpd_free(h);
		return EXIT_ERROR;
	}
	if ((!tls && door_open(h, &h->door[0], true, limit) == NULL) ||
	    door_open(h, &h->door[1], false, limit) == NULL) {
		fprintf(stderr, "sse: %s: cannot start the HTTP server%s\n",
		    cmd, tls ? " (check the TLS certificate and key)" : "");
		httpd_free(h);
		return EXIT_ERROR;
	}
	fprintf(stderr, "sse: serving %s\n", url);
	*out = h;
	return 0;
}

void
httpd_wake_all(struct httpd *h)
{
	uint64_t one = 1;

	if (!atomic_exchange(&h->wake, true))
		(void)!write(h->wakefd, &one, sizeof(one));
}

void
httpd_wake_now(struct httpd *h)
{
	atomic_store(&h->wake_now, true);
	httpd_wake_all(h);
}

void
httpd_drain(struct httpd *h)
{
	atomic_store(&h->drain, true);
	httpd_wake_all(h);
}

/* Stop accepting: close the listening socket and the pending heads. */
static void
close_doors(struct httpd *h)
{
	while (h->phead != NULL)
		pending_end(h, h->phead, NULL);
	if (h->lfd != -1) {
		close(h->lfd);
		h->lfd = -1;
	}
	h->accept_ready = false;
	h->accept_at = 0;
}

static void
begin_stop(struct httpd *h, int signo)
{
	if (h->stopping)
		return;
	h->stopping = true;
	h->signo = signo;
	if (h->stop_by == 0) /* a drain's grace is not extended */
		h->stop_by = now_mono_ms() + GRACE_MS;
	close_doors(h);
	resume_all(h);
}

/* The earlier of timeout t (us, -1 none) and a time (ms) from now. */
static int64_t
sooner(int64_t t, int64_t at, int64_t now)
{
	int64_t d = at - now;

	d = d < 0 ? 0 : d * 1000;
	return t < 0 || d < t ? d : t;
}

/* How long the loop may sleep, in microseconds; -1 for no limit. */
static int64_t
loop_timeout_us(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG mto;
	int64_t t = -1, d, now = now_mono_ms();
	int i;

	if (h->accept_ready)
		return 0;
	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL &&
		    MHD_get_timeout(h->door[i].d, &mto) == MHD_YES) {
			d = mto > INT32_MAX ? INT32_MAX : (int64_t)mto * 1000;
			if (t < 0 || d < t)
				t = d;
		}
	if (h->nheap > 0 && h->heap[0]->deadline != INT64_MAX)
		t = sooner(t, h->heap[0]->deadline, now);
	if (h->stop_by != 0)
		t = sooner(t, h->stop_by, now);
	if (h->phead != NULL)
		t = sooner(t, h->phead->deadline, now);
	if (h->accept_at != 0)
		t = sooner(t, h->accept_at, now);
	if (h->wake_due) { /* the rest of the coalescing interval */
		d = h->woke_at + COALESCE_US - now_us();
		d = d < 0 ? 0 : d;
		if (t < 0 || d < t)
			t = d;
	}
	return t;
}

/* epoll_wait() to the microsecond where the kernel can (Linux 5.11). */
static int
loop_wait(struct httpd *h, struct epoll_event *evs, int nevs, int64_t us)
{
	struct timespec ts;
	int n;

	if (us >= 0 && h->pwait2) {
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (long)(us % 1000000) * 1000;
		n = epoll_pwait2(h->ep, evs, nevs, &ts, NULL);
		if (n != -1 || errno != ENOSYS)
			return n;
		h->pwait2 = false;
	}
	return epoll_wait(
	    h->ep, evs, nevs, us < 0 ? -1 : (int)((us + 999) / 1000));
}

static void
run_doors(struct httpd *h)
{
	int i;

	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL)
			MHD_run(h->door[i].d);
}

/* W_CONN or W_PENDING for what an event names, 0 for our own fds. */
static int
watched(struct httpd *h, void *p)
{
	if (p == &h->wakefd || p == &h->sigfd || p == &h->lfd ||
	    p == &h->door[0].fd || p == &h->door[1].fd)
		return 0;
	return *(int *)p;
}

int
httpd_run(struct httpd *h)
{
	struct epoll_event evs[64];
	struct signalfd_siginfo si;
	uint64_t junk;
	bool draining = false;
	int i, n, signo;
	int64_t now;

	for (;;) {
		n = loop_wait(h, evs, 64, loop_timeout_us(h));
		if (n == -1 && errno != EINTR)
			break;
		/*
		 * Nothing is freed in this pass: every stream and pending
		 * connection an event names is live. Streams are freed only in
		 * MHD_run(), pending connections only after the pass.
		 */
		signo = 0;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &h->wakefd)
				(void)!read(h->wakefd, &junk, sizeof(junk));
			else if (p == &h->sigfd) {
				if (read(h->sigfd, &si, sizeof(si)) ==
				    sizeof(si))
					signo = (int)si.ssi_signo;
			} else if (p == &h->lfd)
				h->accept_ready = true;
			else if (watched(h, p) == W_CONN)
				hung_up(h, p, evs[i].events);
		}
		/*
		 * Then the heads: handing a connection to libmicrohttpd may
		 * free streams that the pass above still had to see.
		 */
		for (i = 0; i < n; i++)
			if (watched(h, evs[i].data.ptr) == W_PENDING)
				pending_peek(h, evs[i].data.ptr, evs[i].events);
		if (signo != 0)
			begin_stop(h, signo);
		now = now_mono_ms();
		pending_expire(h, now);
		if (h->accept_at != 0 && now >= h->accept_at && h->lfd != -1) {
			h->accept_at = 0;
			if (add_fd(h->ep, &h->lfd) == 0)
				h->accept_ready = true;
		}
		if (h->accept_ready)
			accept_some(h);
		if (atomic_load(&h->drain) && !draining) {
			draining = true;
			/* A client that does not read is not waited for long.
			 */
			if (h->stop_by == 0)
				h->stop_by = now_mono_ms() + GRACE_MS;
			resume_all(h);
		}
		if (atomic_exchange(&h->wake, false))
			h->wake_due = true;
		if (h->wake_due) {
			int64_t us = now_us();

			if (atomic_exchange(&h->wake_now, false) ||
			    us - h->woke_at >= COALESCE_US) {
				h->wake_due = false;
				h->woke_at = us;
				resume_all(h);
			}
		}
		resume_due(h, now_mono_ms());
		run_doors(h);
		if ((draining || h->stopping) && h->nstreams == 0)
			break;
		if (h->stop_by != 0 && now_mono_ms() >= h->stop_by)
			break;
	}
	return h->stopping ? h->signo : 0;
}

void
httpd_free(struct httpd *h)
{
	int i;

	if (h == NULL)
		return;
	/* libmicrohttpd must not be stopped with streams suspended. */
	resume_all(h);
	run_doors(h);
	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL)
			MHD_stop_daemon(h->door[i].d);
	close_doors(h);
	if (h->ep != -1)
		close(h->ep);
	if (h->wakefd != -1)
		close(h->wakefd);
	if (h->sigfd != -1)
		close(h->sigfd);
	free(h->heap);
	free(h->cert);
	free(h->key);
	free(h);
}
