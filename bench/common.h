/*
 * What the benchmark tools share: the clocks, checked numbers for their
 * options, stopping on SIGTERM and SIGINT, and a listening socket on the
 * loopback address. Header only, as static inline functions, because
 * bench/run (and the Makefile, for parse_bench) builds each tool from its
 * one .c file. Errors go out through err(3), which names the tool as argv[0]
 * does.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Set once SIGTERM or SIGINT came, after catch_stop(). */
static volatile sig_atomic_t stop_flag;

/* CLOCK_MONOTONIC is one clock for every process on the machine. */
static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The number in s, within [lo, hi]; exits with 2 naming what otherwise. */
static inline double
num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		errx(2, "bad %s '%s'", what, s);
	return v;
}

static inline void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGTERM and SIGINT set stop_flag; a closed peer is an error, not death. */
static inline void
catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A socket listening on 127.0.0.1 at an ephemeral port, the address in a. */
static inline int
listen_loopback(int backlog, struct sockaddr_in *a)
{
	socklen_t alen = sizeof(*a);
	int l;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)a, sizeof(*a)) == -1 ||
	    listen(l, backlog) == -1 ||
	    getsockname(l, (struct sockaddr *)a, &alen) == -1)
		err(1, "listen");
	return l;
}

#endif
