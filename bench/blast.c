/*
 * blast: serves one pre-generated text/event-stream of SIZE bytes of small
 * events as fast as the socket takes it, to measure clients (`sse listen`,
 * curl, Node's eventsource-parser) against the same bytes. HTTP/1.1 with
 * chunked encoding, as a real SSE server sends an unbounded stream, then
 * the last chunk and a close. One client at a time, at most -k clients.
 *
 * -t: every event has an "event:" and an "id:" line (a typed stream, as
 * many real servers send), not data alone.
 *
 * Prints "port PORT events N bytes B" on stdout once it listens.
 *
 * With -b, it is instead the raw broadcaster of the fan-out benchmark: the
 * least a server must do to send the events of `sse serve`'s stdin to N
 * subscribers, as a reference for `sse serve` itself. One thread, epoll,
 * non-blocking sockets. Each read of stdin (lines "SEQ NS", as bench/pub
 * writes them) becomes one chunk of events shaped as `sse serve` sends
 * them ("id: ...\ndata: LINE\n\n"), appended to one in-memory log; then
 * every subscriber that is not blocked gets everything it has not had in
 * one write(2) (a subscriber that would block waits for EPOLLOUT). A
 * subscriber gets what is read after its request came. At the end of
 * stdin: the last chunk, and each connection closes once it has it all.
 * Prints "port PORT" once it listens.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

#define CHUNK (64u * 1024u)

static int
write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[4];
	ssize_t w;
	int i;

	memcpy(v, iov, (size_t)n * sizeof(*v));
	i = 0;
	while (i < n) {
		w = writev(fd, v + i, n - i);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (i < n && (size_t)w >= v[i].iov_len)
			w -= (ssize_t)v[i++].iov_len;
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void
serve(int fd, const char *stream, size_t len)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/event-stream; charset=utf-8\r\n"
	    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n";
	char req[8192], size[32];
	size_t got = 0, off, n;
	struct iovec iov[3];
	ssize_t r;

	/* The request: read until the blank line (bounded). */
	while (got < sizeof(req)) {
		r = read(fd, req + got, sizeof(req) - got);
		if (r <= 0)
			return;
		got += (size_t)r;
		if (memmem(req, got, "\r\n\r\n", 4) != NULL)
			break;
	}
	iov[0].iov_base = (void *)head;
	iov[0].iov_len = sizeof(head) - 1;
	if (write_all(fd, iov, 1) == -1)
		return;
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		iov[0].iov_base = size;
		iov[0].iov_len = (size_t)sprintf(size, "%zx\r\n", n);
		iov[1].iov_base = (void *)(stream + off);
		iov[1].iov_len = n;
		iov[2].iov_base = (void *)"\r\n";
		iov[2].iov_len = 2;
		if (write_all(fd, iov, 3) == -1)
			return;
	}
	iov[0].iov_base = (void *)"0\r\n\r\n";
	iov[0].iov_len = 5;
	(void)write_all(fd, iov, 1);
}

/* A subscriber of the broadcaster: what it has had of the log. */
struct sub {
	int fd;
	bool live; /* its request came: it is sent the log from off on */
	bool blocked; /* its socket is full: wait for EPOLLOUT */
	size_t off;
};

struct bcast {
	char *log;
	size_t len, cap;
	uint64_t seq;
	struct sub **subs;
	size_t nsubs, capsubs;
	bool ended;
	size_t done; /* connections that have the whole log, after the end */
};

static void
log_add(struct bcast *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : (1u << 20);
		if ((b->log = realloc(b->log, b->cap)) == NULL)
			err(1, "realloc");
	}
	memcpy(b->log + b->len, p, n);
	b->len += n;
}

/* One chunk of events from lines[0..n): "id: bc-SEQ\ndata: LINE\n\n". */
static void
log_chunk(struct bcast *b, const char *lines, size_t n)
{
	static char ev[1 << 20];
	const char *p = lines, *nl;
	size_t len = 0;
	char head[32];

	while ((nl = memchr(p, '\n', n - (size_t)(p - lines))) != NULL &&
	    len + (size_t)(nl - p) + 64 < sizeof(ev)) {
		len += (size_t)sprintf(
		    ev + len, "id: bc-%" PRIu64 "\ndata: ", ++b->seq);
		memcpy(ev + len, p, (size_t)(nl - p));
		len += (size_t)(nl - p);
		memcpy(ev + len, "\n\n", 2);
		len += 2;
		p = nl + 1;
	}
	if (len == 0)
		return;
	log_add(b, head, (size_t)sprintf(head, "%zx\r\n", len));
	log_add(b, ev, len);
	log_add(b, "\r\n", 2);
}

/* Send s what it has not had, in one write; false: it is finished. */
static bool
sub_send(struct bcast *b, struct sub *s)
{
	ssize_t w;

	if (!s->live || s->blocked || s->off == b->len)
		return !(b->ended && s->live && s->off == b->len);
	w = write(s->fd, b->log + s->off, b->len - s->off);
	if (w > 0)
		s->off += (size_t)w;
	else if (w == -1 && errno == EAGAIN)
		s->blocked = true;
	else if (w == -1 && errno != EINTR)
		return false;
	if (s->off < b->len && w > 0)
		s->blocked = true; /* a short write: the socket is full */
	return !(b->ended && s->off == b->len);
}

static void
sub_end(struct bcast *b, struct sub *s)
{
	close(s->fd);
	s->fd = -1;
	b->done++;
}

/* Its request: read to the blank line, then the response head. */
static void
sub_request(struct bcast *b, struct sub *s)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
	char req[8192];
	ssize_t r;

	while ((r = read(s->fd, req, sizeof(req))) > 0)
		if (memmem(req, (size_t)r, "\r\n\r\n", 4) != NULL) {
			if (write(s->fd, head, sizeof(head) - 1) !=
			    (ssize_t)(sizeof(head) - 1))
				break;
			s->live = true;
			s->off = b->len;
			return;
		}
	if (r == 0 || (r == -1 && errno != EAGAIN))
		sub_end(b, s);
}

static void
bc_accept(struct bcast *b, int ep, int l)
{
	struct epoll_event ev;
	struct sub *s;
	int fd, one = 1;

	while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((s = calloc(1, sizeof(*s))) == NULL)
			err(1, "calloc");
		s->fd = fd;
		if (b->nsubs == b->capsubs) {
			b->capsubs = b->capsubs ? b->capsubs * 2 : 1024;
			b->subs =
			    realloc(b->subs, b->capsubs * sizeof(*b->subs));
			if (b->subs == NULL)
				err(1, "realloc");
		}
		b->subs[b->nsubs++] = s;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
		ev.data.ptr = s;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
}

static void
broadcast(void)
{
	static char in[1 << 16];
	struct epoll_event ev, evs[256];
	struct sockaddr_in a;
	struct bcast b = {0};
	size_t i, carry = 0, k;
	ssize_t r;
	int ep, l, n, j;
	char *nl;

	l = listen_loopback(4096, &a);
	if (fcntl(l, F_SETFL, O_NONBLOCK) == -1 ||
	    (ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = &l;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	ev.data.ptr = &b;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	while (!stop_flag && !(b.ended && b.done == b.nsubs)) {
		if ((n = epoll_wait(ep, evs, 256, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (j = 0; j < n; j++) {
			struct sub *s = evs[j].data.ptr;

			if (evs[j].data.ptr == &l) {
				bc_accept(&b, ep, l);
			} else if (evs[j].data.ptr == &b) {
				r = read(0, in + carry, sizeof(in) - carry);
				if (r <= 0) {
					b.ended = true;
					(void)epoll_ctl(
					    ep, EPOLL_CTL_DEL, 0, NULL);
					log_add(&b, "0\r\n\r\n", 5);
				} else {
					k = carry + (size_t)r;
					nl = memrchr(in, '\n', k);
					carry =
					    nl ? k - (size_t)(nl + 1 - in) : k;
					if (nl)
						log_chunk(&b, in, k - carry);
					memmove(in, in + k - carry, carry);
				}
				for (i = 0; i < b.nsubs; i++)
					if (b.subs[i]->fd != -1 &&
					    !sub_send(&b, b.subs[i]))
						sub_end(&b, b.subs[i]);
			} else if (s->fd != -1) {
				if (!s->live && (evs[j].events & EPOLLIN))
					sub_request(&b, s);
				if (s->fd != -1 && (evs[j].events & EPOLLOUT))
					s->blocked = false;
				if (s->fd != -1 && !sub_send(&b, s))
					sub_end(&b, s);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	size_t size = 256u << 20, len = 0;
	uint64_t events = 0;
	long clients = 10, i;
	char *stream;
	int l, fd, c, one = 1, typed = 0;

	while ((c = getopt(argc, argv, "bs:k:t")) != -1) {
		switch (c) {
		case 'b':
			catch_stop();
			broadcast();
			return 0;
		case 's':
			size = (size_t)num(optarg, 1024, 1e12, "size");
			break;
		case 'k':
			clients = (long)num(optarg, 1, 1e6, "client count");
			break;
		case 't':
			typed = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: blast [-t] [-s BYTES] [-k CLIENTS] | -b\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((stream = malloc(size + 256)) == NULL)
		err(1, "malloc");
	/* Small events, as a log or a ticker sends: about 50 bytes each. */
	while (len < size - 128) {
		events++;
		if (typed)
			len += (size_t)sprintf(stream + len,
			    "event: tick\nid: %" PRIu64 "\n", events);
		len += (size_t)sprintf(stream + len,
		    "data: {\"seq\":%" PRIu64 ",\"msg\":\"tick tock\"}\n\n",
		    events);
	}
	l = listen_loopback(16, &a);
	printf("port %d events %" PRIu64 " bytes %zu\n", ntohs(a.sin_port),
	    events, len);
	fflush(stdout);
	for (i = 0; i < clients; i++) {
		if ((fd = accept(l, NULL, NULL)) == -1)
			err(1, "accept");
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve(fd, stream, len);
		close(fd);
	}
	return 0;
}
