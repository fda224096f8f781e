/*
 * Two doors: libmicrohttpd sizes every connection's memory pool alike, and
 * one pool holds the request's head, the answer's head and the stream's
 * send buffer. A 4 KiB pool keeps an idle stream at a few KiB, but refuses
 * a browser's request with a few KiB of cookies; in a pool big enough for
 * that, an idle stream keeps a page for its head and another for
 * libmicrohttpd's records of it at least, even once the rest of the pool
 * is given back (door_wrote): about 4 KiB more a plain stream than in
 * the small pool (bench/README.md, analysis 7). So we accept connections
 * ourselves, peek at the request head (MSG_PEEK: nothing is consumed), and
 * hand each connection to one of two daemons: the small-pool one when the
 * head fits its pool, the large-pool one otherwise (and for TLS, whose
 * bytes cannot be peeked). The small door closes each connection after its answer, so
 * every request it serves is one that was measured. A connection that has
 * not sent its whole head waits, without a pool, in a FIFO bounded in time
 * (HEAD_MS) and in number (MAX_PENDING: the oldest is dropped first).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "reqhead.h"
#include "util.h"

/* A write this long touches pages door_wrote gives back. */
#define TRIM_AT (16 * 1024)

/* Our own descriptors are told from streams (struct conn) by address. */
int
httpd_watch_fd(int ep, int *fdp)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = fdp;
	return epoll_ctl(ep, EPOLL_CTL_ADD, *fdp, &ev);
}

static void
pending_unlink(struct httpd *h, struct pending *p)
{
	TAILQ_REMOVE(&h->pending, p, link);
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

/*
 * Peek at a pending connection's head: route it, drop it, or wait.
 * Returns whether p was handed on or dropped (and so freed).
 */
bool
door_peek(struct httpd *h, struct pending *p, uint32_t events)
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
	return k != -2;
}

static void
pending_add(
    struct httpd *h, int fd, struct sockaddr_storage *addr, socklen_t alen)
{
	struct epoll_event ev;
	struct pending *p;

	if (h->npending >= MAX_PENDING) /* drop the oldest */
		pending_end(h, TAILQ_FIRST(&h->pending), NULL);
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
	TAILQ_INSERT_TAIL(&h->pending, p, link);
	h->npending++;
	/* The head often came with the connection: look at once. */
	(void)door_peek(h, p, 0);
}

/* Drop the connections whose head is overdue. */
void
door_expire(struct httpd *h, int64_t now)
{
	struct pending *p;

	while ((p = TAILQ_FIRST(&h->pending)) != NULL && p->deadline <= now)
		pending_end(h, TAILQ_FIRST(&h->pending), NULL);
}

/*
 * Data a client leaves unacknowledged for twice the keepalive interval (10 s
 * at least) ends its connection (TCP_USER_TIMEOUT): one whose packets are
 * all lost, as with a cable pulled, is freed within about three intervals
 * of going quiet (the keepalive that is never acknowledged, then this),
 * not after the kernel's fifteen minutes of retransmissions. A client that
 * reads slowly still acknowledges, and is the business of --max-stall.
 */
static void
lost_peer_timeout(struct httpd *h, int fd)
{
	int64_t ms = h->o.keepalive_ms * 2;
	unsigned int uto;

	if (h->o.keepalive_ms <= 0)
		return;
	uto = (unsigned int)(ms < 10000 ? 10000 : ms > 3600000 ? 3600000 : ms);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

/* Whether a connection waits in the listening socket's queue. */
static bool
queued(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Accept what the listening socket holds (a bounded batch per call). */
void
door_accept(struct httpd *h)
{
	struct sockaddr_storage addr;
	struct pending *p;
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
			    !queued(h->lfd)) {
				/*
				 * accept(2) fails for want of a descriptor
				 * before it looks at its queue: with nobody
				 * waiting, there is nothing to make room for.
				 */
				h->accept_ready = false;
				return;
			}
			if ((errno == EMFILE || errno == ENFILE) &&
			    !TAILQ_EMPTY(&h->pending)) {
				/*
				 * Out of descriptors: a connection that has
				 * sent nothing yet makes room, the oldest
				 * first, as beyond MAX_PENDING. One whose
				 * head came since it was last looked at (its
				 * event not yet taken) is handed on instead.
				 */
				p = TAILQ_FIRST(&h->pending);
				if (!door_peek(h, p, 0))
					pending_end(h, p, NULL);
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
		lost_peer_timeout(h, fd);
		if (h->tls)
			(void)MHD_add_connection(
			    h->door[1].d, fd, (struct sockaddr *)&addr, alen);
		else
			pending_add(h, fd, &addr, alen);
	}
}

/*
 * A stream's send buffer is the rest of its connection's pool, after the
 * request's head and before the records libmicrohttpd keeps of it at the
 * pool's end. libmicrohttpd zeroes the first half of the pool, where it
 * read the head, when it is done with it (the shrinking read buffer), so
 * that half is in memory whatever the head's size: 32 KiB of the large
 * pool's 64 where a browser's head needs one or two pages. When the
 * reader has nothing to write, the buffer's contents do not matter: give
 * its whole pages back (MADV_DONTNEED, which is writing zeroes to them
 * without touching them). Once after the head, then again only after a
 * write of more than TRIM_AT, so that a busy stream makes no system call
 * for it. A small pool, or HTTP/1.0's 1 KiB block, holds no whole page.
 */
void
door_wrote(struct conn *c, char *buf, size_t max, ssize_t n)
{
	static uintptr_t page;
	uintptr_t a, b;

	if (n > 0) {
		if ((size_t)n > c->wrote)
			c->wrote = (size_t)n;
		return;
	}
	if (n != HTTPD_WAIT || (c->trimmed && c->wrote <= TRIM_AT))
		return;
	c->trimmed = true;
	c->wrote = 0;
	if (page == 0)
		page = (uintptr_t)sysconf(_SC_PAGESIZE);
	a = ((uintptr_t)buf + page - 1) & ~(page - 1);
	b = ((uintptr_t)buf + max) & ~(page - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}

int
door_open(struct httpd *h, struct door *dr, bool small, unsigned limit)
{
	const union MHD_DaemonInfo *info;
	unsigned flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;

	if (h->tls)
		flags |= MHD_USE_TLS;
	dr->h = h;
	dr->d = MHD_start_daemon(flags, 0, NULL, NULL, route_request, dr,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(small ? SMALL_POOL : LARGE_POOL),
	    MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)512,
	    MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)60, MHD_OPTION_URI_LOG_CALLBACK, req_begin, dr,
	    MHD_OPTION_NOTIFY_COMPLETED, req_end, dr,
	    h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
	if (dr->d == NULL)
		return -1;
	info = MHD_get_daemon_info(dr->d, MHD_DAEMON_INFO_EPOLL_FD);
	dr->fd = info != NULL ? info->epoll_fd : -1;
	if (dr->fd == -1 || httpd_watch_fd(h->ep, &dr->fd) == -1)
		return -1;
	return 0;
}

/* Stop accepting: close the listening socket and the pending heads. */
void
door_close_all(struct httpd *h)
{
	while (!TAILQ_EMPTY(&h->pending))
		pending_end(h, TAILQ_FIRST(&h->pending), NULL);
	if (h->lfd != -1) {
		close(h->lfd);
		h->lfd = -1;
	}
	h->accept_ready = false;
	h->accept_at = 0;
}
