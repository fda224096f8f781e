/*
 * pub: the benchmarks' publisher. Writes COUNT events "SEQ NS[ PAD]", where
 * SEQ counts from 1 and NS is CLOCK_MONOTONIC in nanoseconds when the event
 * is written, either as lines on stdout (for `sse serve`, whose stdin is a
 * pipe) or as HTTP POSTs on one keep-alive connection (for nchan's publisher
 * location), paced at RATE events per second or flat out.
 *
 * With -Z ENDPOINT -g CHANNEL (built with PUB_ZMQ) each event goes to
 * Pushpin's ZeroMQ PUSH endpoint (push_in_spec) as a JSON publish item of
 * CHANNEL: its documented way to publish many messages (its HTTP control
 * API closes the connection after every request).
 *
 * Flat out, -b puts several lines in one write(2) (stdout), and -d keeps
 * several requests in flight on the connection (HTTP pipelining, written
 * together), so the publisher is not the bottleneck of either server.
 * At the end one line of JSON on stderr (and in -o FILE).
 */
#include <errno.h>
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
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#ifdef PUB_ZMQ
#include <zmq.h>
#endif

#define OUT_MAX (1024 * 1024)
#define IN_MAX (256 * 1024)

static struct {
	uint64_t count;
	double rate; /* events per second, 0: flat out */
	long batch; /* lines per write, flat out */
	long size; /* pad the data to this many bytes */
	int port; /* HTTP mode when non-zero */
	const char *path;
	long depth; /* requests in flight */
	double timeout;
	double delay; /* wait this long before the first event */
	const char *result;
	const char *zmq; /* -Z: Pushpin's push_in_spec */
	const char *grip; /* -g: its channel */
} o = {
    .count = 1000,
    .batch = 1,
    .path = "/pub",
    .depth = 1,
    .timeout = 120,
};

static char *out;
static size_t out_len;
static char in[IN_MAX];
static size_t in_len;
static int sock = -1;
static uint64_t outstanding, responses, bad_responses, deadline;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pub [-m COUNT] [-r RATE] [-b LINES] [-s SIZE] "
	    "[-t SECS] [-w SECS]\n"
	    "           [-P PORT [-u PATH] [-d DEPTH]] [-Z ENDPOINT -g CHANNEL]"
	    " [-o RESULT_FILE]\n");
	exit(2);
}

/* Format the event body "SEQ NS[ PAD]" at p; returns its length. */
static size_t
body(char *p, uint64_t seq, uint64_t ns)
{
	int n = sprintf(p, "%" PRIu64 " %" PRIu64, seq, ns);

	if (o.size > n + 1) {
		p[n++] = ' ';
		memset(p + n, 'x', (size_t)(o.size - n));
		n = (int)o.size;
	}
	return (size_t)n;
}

#ifdef PUB_ZMQ
static void *zctx, *zsock;

/* One GRIP publish item; the body has no character JSON would escape. */
static void
zmq_event(uint64_t seq, uint64_t ns)
{
	char b[256 + 4096];
	int n;

	n = snprintf(b, 256,
	    "J{\"channel\":\"%s\",\"formats\":{\"http-stream\":"
	    "{\"content\":\"data: ",
	    o.grip);
	n += (int)body(b + n, seq, ns);
	n += sprintf(b + n, "\\n\\n\"}}}");
	if (zmq_send(zsock, b, (size_t)n, 0) != n) {
		fprintf(stderr, "pub: zmq_send: %s\n", zmq_strerror(errno));
		exit(1);
	}
}

static void
zmq_start(void)
{
	int hwm = 1000000;

	if ((zctx = zmq_ctx_new()) == NULL ||
	    (zsock = zmq_socket(zctx, ZMQ_PUSH)) == NULL ||
	    zmq_setsockopt(zsock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_connect(zsock, o.zmq) != 0) {
		fprintf(
		    stderr, "pub: zmq %s: %s\n", o.zmq, zmq_strerror(errno));
		exit(1);
	}
}
#endif

static void
add_event(uint64_t seq, uint64_t ns)
{
	char b[64 + 4096];
	size_t n;
	int h;

#ifdef PUB_ZMQ
	if (o.zmq != NULL) {
		zmq_event(seq, ns);
		return;
	}
#endif
	if (o.port == 0) {
		n = body(out + out_len, seq, ns);
		out[out_len + n] = '\n';
		out_len += n + 1;
		return;
	}
	n = body(b, seq, ns);
	h = sprintf(out + out_len,
	    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
	    o.path, n);
	memcpy(out + out_len + h, b, n);
	out_len += (size_t)h + n;
	outstanding++;
}

static void
flush_out(void)
{
	size_t off = 0;
	ssize_t w;
	int fd = o.port ? sock : STDOUT_FILENO;

	while (off < out_len) {
		w = write(fd, out + off, out_len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "pub: write: %s\n", strerror(errno));
			exit(1);
		}
		off += (size_t)w;
	}
	out_len = 0;
}

/* Parse complete responses in the input buffer; returns how many. */
static uint64_t
parse_responses(void)
{
	uint64_t n = 0;
	size_t used = 0;

	for (;;) {
		char *p = in + used, *eoh, *cl;
		size_t avail = in_len - used, hl, blen = 0;

		eoh = memmem(p, avail, "\r\n\r\n", 4);
		if (eoh == NULL)
			break;
		hl = (size_t)(eoh + 4 - p);
		*eoh = '\0';
		cl = strcasestr(p, "\r\ncontent-length:");
		if (cl != NULL)
			blen = strtoul(cl + 17, NULL, 10);
		*eoh = '\r';
		if (hl + blen > avail)
			break;
		if (avail < 12 || p[9] != '2')
			bad_responses++;
		used += hl + blen;
		n++;
	}
	memmove(in, in + used, in_len - used);
	in_len -= used;
	return n;
}

/* Read responses until at most `left` requests are outstanding. */
static void
drain(uint64_t left)
{
	ssize_t r;
	uint64_t n;

	while (outstanding > left) {
		if (mono_ns() > deadline || stop_flag) {
			fprintf(stderr,
			    "pub: timed out waiting for %" PRIu64
			    " responses\n",
			    outstanding);
			return;
		}
		r = read(sock, in + in_len, IN_MAX - in_len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "pub: read: %s\n",
			    r == 0 ? "connection closed" : strerror(errno));
			exit(1);
		}
		in_len += (size_t)r;
		n = parse_responses();
		outstanding -= n;
		responses += n;
		if (in_len == IN_MAX) {
			fprintf(stderr, "pub: response too long\n");
			exit(1);
		}
	}
}

static void
http_connect(void)
{
	struct sockaddr_in a;
	struct timeval tv = {1, 0};
	int one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)o.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sock = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(sock, (struct sockaddr *)&a, sizeof(a)) == -1) {
		fprintf(stderr, "pub: cannot connect to 127.0.0.1:%d: %s\n",
		    o.port, strerror(errno));
		exit(1);
	}
	(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Reads wake up to check the deadline. */
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int
main(int argc, char **argv)
{
	uint64_t seq = 1, t0, t_end, now, target, period_ns = 0;
	struct timespec ts;
	long i, per_write;
	int c;
	FILE *f;

	while ((c = getopt(argc, argv, "m:r:b:s:P:u:d:t:w:o:Z:g:")) != -1) {
		switch (c) {
		case 'm':
			o.count = (uint64_t)num(optarg, 1, 1e12, "count");
			break;
		case 'r':
			o.rate = num(optarg, 0, 1e9, "rate");
			break;
		case 'b':
			o.batch = (long)num(optarg, 1, 10000, "batch");
			break;
		case 's':
			o.size = (long)num(optarg, 0, 4096, "size");
			break;
		case 'P':
			o.port = (int)num(optarg, 1, 65535, "port");
			break;
		case 'u':
			o.path = optarg;
			break;
		case 'd':
			o.depth = (long)num(optarg, 1, 1000, "depth");
			break;
		case 't':
			o.timeout = num(optarg, 0.01, 86400, "timeout");
			break;
		case 'w':
			o.delay = num(optarg, 0, 3600, "delay");
			break;
		case 'o':
			o.result = optarg;
			break;
		case 'Z':
			o.zmq = optarg;
			break;
		case 'g':
			o.grip = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (o.zmq == NULL) != (o.grip == NULL))
		usage();
#ifdef PUB_ZMQ
	if (o.zmq != NULL)
		zmq_start();
#else
	if (o.zmq != NULL) {
		fprintf(stderr, "pub: built without ZeroMQ (libzmq3-dev)\n");
		return 2;
	}
#endif
	if ((o.port ? o.depth : o.batch) * (o.size + 256) > OUT_MAX) {
		fprintf(stderr, "pub: batch or depth too large for size\n");
		return 2;
	}
	catch_stop();
	/* Wake-ups within a microsecond, not the default 50 us slack. */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if ((out = malloc(OUT_MAX)) == NULL)
		return 1;
	if (o.port != 0)
		http_connect();
	if (o.delay > 0) {
		ts.tv_sec = (time_t)o.delay;
		ts.tv_nsec = (long)((o.delay - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	per_write = o.port ? o.depth : o.batch;
	if (o.rate > 0) {
		per_write = 1;
		period_ns = (uint64_t)(1e9 / o.rate);
	}
	t0 = mono_ns();
	deadline = t0 + (uint64_t)(o.timeout * 1e9);
	while (seq <= o.count && !stop_flag) {
		now = mono_ns();
		if (period_ns != 0) {
			target = t0 + (seq - 1) * period_ns;
			if (now < target) {
				ts.tv_sec = (time_t)(target / 1000000000u);
				ts.tv_nsec = (long)(target % 1000000000u);
				clock_nanosleep(
				    CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				now = mono_ns();
			}
		}
		if (now > deadline) {
			fprintf(stderr, "pub: time limit reached\n");
			break;
		}
		if (o.port != 0)
			drain((uint64_t)(o.depth - per_write));
		for (i = 0; i < per_write && seq <= o.count; i++)
			add_event(seq++, now);
		flush_out();
	}
	if (o.port != 0) {
		/* The requests in flight count once answered: a little more
		 * time for them, past the limit. */
		deadline = mono_ns() + 10000000000u;
		drain(0);
	}
#ifdef PUB_ZMQ
	if (zsock != NULL) {
		/* Closing waits (linger) until the queued events are out. */
		zmq_close(zsock);
		zmq_ctx_term(zctx);
	}
#endif
	t_end = mono_ns();
	for (i = 0; i < 2; i++) {
		f = i == 0 ? stderr : (o.result ? fopen(o.result, "w") : NULL);
		if (f == NULL)
			continue;
		fprintf(f,
		    "{\"sent\":%" PRIu64 ",\"elapsed_s\":%.6f,"
		    "\"rate\":%.1f,\"responses\":%" PRIu64
		    ",\"bad_responses\":%" PRIu64 ",\"start_ns\":%" PRIu64
		    ",\"end_ns\":%" PRIu64 "}\n",
		    o.port ? responses - bad_responses : seq - 1,
		    (double)(t_end - t0) / 1e9,
		    (double)(seq - 1) / ((double)(t_end - t0) / 1e9), responses,
		    bad_responses, t0, t_end);
		if (f != stderr)
			fclose(f);
	}
	return 0;
}
