/*
 * limits: the machine's physical limits, for context in the benchmark
 * table. Each measure runs for about -t seconds:
 *
 *   memcpy and memchr bandwidth over a buffer larger than the caches;
 *   pipe bandwidth (64 KiB writes) and pipe write rate (one 32-byte line
 *   per write, as `sse serve` sees a line-buffered producer);
 *   loopback TCP bandwidth (64 KiB writes) and write rate (32-byte writes
 *   with TCP_NODELAY: one small event per send, as a server that does not
 *   batch pays it).
 *
 * Prints one line of JSON.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BIG (64u * 1024u * 1024u)
#define CHUNK (64u * 1024u)
#define SMALL 32u

static double secs = 0.5;

/* Bytes per second of memcpy over BIG bytes. */
static double
bench_memcpy(void)
{
	char *a = malloc(BIG), *b = malloc(BIG);
	double t0, t;
	uint64_t bytes = 0;

	if (a == NULL || b == NULL)
		err(1, "malloc");
	memset(a, 'a', BIG);
	memset(b, 'b', BIG);
	t0 = mono_s();
	do {
		memcpy(b, a, BIG);
		__asm__ volatile("" : : "r"(b) : "memory");
		bytes += BIG;
	} while ((t = mono_s()) - t0 < secs);
	free(a);
	free(b);
	return (double)bytes / (t - t0);
}

/* Bytes per second of memchr for a byte that is not there. */
static double
bench_memchr(void)
{
	char *a = malloc(BIG);
	double t0, t;
	uint64_t bytes = 0;
	const void *volatile sink;

	if (a == NULL)
		err(1, "malloc");
	memset(a, 'a', BIG);
	t0 = mono_s();
	do {
		__asm__ volatile("" : : "r"(a) : "memory");
		sink = memchr(a, '\n', BIG);
		bytes += BIG;
	} while ((t = mono_s()) - t0 < secs);
	(void)sink;
	free(a);
	return (double)bytes / (t - t0);
}

/*
 * The reader for pipe and socket measures: a child that reads fd until
 * EOF and writes the byte count to the result pipe.
 */
static pid_t
reader(int fd, int other, int result)
{
	pid_t pid = fork();
	char *buf;
	uint64_t total = 0;
	ssize_t r;

	if (pid == -1)
		err(1, "fork");
	if (pid > 0)
		return pid;
	close(other); /* the writer's end: EOF comes when the parent closes */
	if ((buf = malloc(CHUNK * 4)) == NULL)
		_exit(1);
	while ((r = read(fd, buf, CHUNK * 4)) > 0)
		total += (uint64_t)r;
	if (write(result, &total, sizeof(total)) != sizeof(total))
		_exit(1);
	_exit(0);
}

/* Write chunks of size n to fd for secs; returns what the reader got. */
static void
writer(int fd, int rfd, pid_t pid, size_t n, double *bytes_s, double *writes_s)
{
	char buf[CHUNK];
	uint64_t writes = 0, got = 0;
	double t0, t;
	int i;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; (size_t)i + 1 < n; i += SMALL)
		buf[i + SMALL - 1] = '\n';
	t0 = mono_s();
	do {
		for (i = 0; i < 64; i++) {
			if (write(fd, buf, n) != (ssize_t)n)
				err(1, "write");
			writes++;
		}
	} while ((t = mono_s()) - t0 < secs);
	close(fd);
	if (read(rfd, &got, sizeof(got)) != sizeof(got))
		err(1, "read");
	t = mono_s();
	waitpid(pid, NULL, 0);
	*bytes_s = (double)got / (t - t0);
	*writes_s = (double)writes / (t - t0);
}

static void
bench_pipe(size_t n, double *bytes_s, double *writes_s)
{
	int p[2], r[2];
	pid_t pid;

	if (pipe(p) == -1 || pipe(r) == -1)
		err(1, "pipe");
	pid = reader(p[0], p[1], r[1]);
	close(p[0]);
	close(r[1]);
	writer(p[1], r[0], pid, n, bytes_s, writes_s);
	close(r[0]);
}

static void
bench_tcp(size_t n, double *bytes_s, double *writes_s)
{
	struct sockaddr_in a;
	int l, c, s, r[2], one = 1;
	pid_t pid;

	l = listen_loopback(1, &a);
	if ((c = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    (s = accept(l, NULL, NULL)) == -1)
		err(1, "connect");
	close(l);
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		err(1, "setsockopt");
	if (pipe(r) == -1)
		err(1, "pipe");
	pid = reader(c, s, r[1]);
	close(c);
	close(r[1]);
	writer(s, r[0], pid, n, bytes_s, writes_s);
	close(r[0]);
}

int
main(int argc, char **argv)
{
	double cpy, chr, pipe_bw, pipe_w, pipe_sbw, pipe_sw, tcp_bw, tcp_w,
	    tcp_sbw, tcp_sw;

	if (argc > 2) {
		fprintf(stderr, "usage: limits [SECS]\n");
		return 2;
	}
	if (argc > 1)
		secs = num(argv[1], 0.001, 3600, "seconds");
	signal(SIGPIPE, SIG_IGN);
	cpy = bench_memcpy();
	chr = bench_memchr();
	bench_pipe(CHUNK, &pipe_bw, &pipe_w);
	bench_pipe(SMALL, &pipe_sbw, &pipe_sw);
	bench_tcp(CHUNK, &tcp_bw, &tcp_w);
	bench_tcp(SMALL, &tcp_sbw, &tcp_sw);
	printf("{\"memcpy_Bps\":%.0f,\"memchr_Bps\":%.0f,"
	       "\"pipe_Bps\":%.0f,\"pipe_small_writes_per_s\":%.0f,"
	       "\"pipe_small_Bps\":%.0f,\"tcp_Bps\":%.0f,"
	       "\"tcp_small_writes_per_s\":%.0f,\"tcp_small_Bps\":%.0f}\n",
	    cpy, chr, pipe_bw, pipe_sw, pipe_sbw, tcp_bw, tcp_sw, tcp_sbw);
	(void)pipe_w;
	(void)tcp_w;
	return 0;
}
