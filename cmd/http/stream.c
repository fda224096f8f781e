/*
 * A stream: libmicrohttpd asks its content reader for bytes, the reader
 * asks the source; when the source has none, the stream is suspended
 * (off the poll set, no CPU) in the heap until a wake, its deadline, a
 * keepalive or a hang-up of its client resumes it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "http.h"
#include "msg.h"
#include "util.h"

static void
resume(struct conn *c)
{
	c->suspended = false;
	MHD_resume_connection(c->mc);
}

/* Resume every suspended stream (a wake, a drain, or the end). */
void
stream_resume_all(struct httpd *h)
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
 * stream_free) and act on it as soon as it comes (stream_hung_up).
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
void
stream_hung_up(struct httpd *h, struct conn *c, uint32_t events)
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
void
stream_resume_due(struct httpd *h, int64_t now)
{
	struct conn *c;

	while (h->nheap > 0 && h->heap[0]->deadline <= now) {
		c = heap_pop(h);
		if (c->ka_at <= now)
			c->ka_due = true;
		resume(c);
	}
}

/*
 * Once a second: the streams whose client is too far behind to be sent
 * anything more (the source no longer holds its next bytes) are ended.
 * Those that read are dropped when they ask (stream_read), but a client
 * that reads nothing keeps its socket full and is never asked: it is
 * found here, and its socket shut down, which libmicrohttpd sees as the
 * end of the connection. Suspended streams are caught up: never lost.
 */
void
stream_check_lost(struct httpd *h, int64_t now)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (h->src.lost == NULL || now < h->lost_at)
		return;
	h->lost_at = now + 1000;
	TAILQ_FOREACH(c, &h->streams, all)
	{
		if (c->suspended || c->dropped || c->gone ||
		    !h->src.lost(h->src.ctx, c->client))
			continue;
		ci = MHD_get_connection_info(
		    c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL)
			continue;
		c->dropped = true;
		h->n_dropped++;
		/* A reset when libmicrohttpd closes it: what the socket still
		 * holds for the client is thrown away, not sent for minutes. */
		(void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER,
		    &(struct linger){1, 0}, sizeof(struct linger));
		msg_warnx(
		    "%s: disconnected: too far behind, its next events are "
		    "no longer held (it may resume by id)",
		    c->req != NULL ? c->req->peer : "a client");
		(void)shutdown(ci->connect_fd, SHUT_RDWR);
	}
}

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
	door_wrote(c, buf, max, n);
	if (n > 0) {
		c->sent = true;
		h->bytes_out += (uint64_t)n;
		if (c->req != NULL)
			c->req->bytes += (uint64_t)n;
		return n;
	}
	if (n == HTTPD_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n == HTTPD_ABORT) {
		h->n_dropped++;
		msg_warnx("%s: disconnected: too far behind, its next events "
			  "are no longer held (it may resume by id)",
		    c->req != NULL ? c->req->peer : "a client");
	}
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
	TAILQ_REMOVE(&h->streams, c, all);
	free(c);
}

/*
 * The response of a new stream for the source's client (closed here if
 * that fails); stream_free runs when the stream ends, whatever the reason.
 */
struct MHD_Response *
stream_response(struct httpd *h, struct MHD_Connection *mc, void *client)
{
	struct MHD_Response *r;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		h->src.close(h->src.ctx, client);
		return NULL;
	}
	c->kind = W_CONN;
	c->h = h;
	c->fd = -1;
	c->mc = mc;
	c->client = client;
	c->req = h->cur;
	TAILQ_INSERT_TAIL(&h->streams, c, all);
	h->nstreams++;
	h->n_streams++;
	r = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, BLOCK_SIZE, stream_read, c, stream_free);
	if (r == NULL)
		stream_free(c);
	return r;
}
