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
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	size_t size = 256u << 20, len = 0;
	uint64_t events = 0;
	long clients = 10, i;
	char *stream;
	int l, fd, c, one = 1, typed = 0;

	while ((c = getopt(argc, argv, "s:k:t")) != -1) {
		switch (c) {
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
			    "usage: blast [-t] [-s BYTES] [-k CLIENTS]\n");
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
