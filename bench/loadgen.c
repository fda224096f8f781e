/*
 * loadgen: an epoll load generator for SSE servers, for the benchmarks.
 *
 * Opens N streaming HTTP/1.1 GET connections to one address, decodes the
 * responses (plain or chunked) and feeds them to libsse's parser, the same
 * parser `sse listen` uses. Each event's data is expected to start with
 * "SEQ NS": a sequence number and the CLOCK_MONOTONIC time in nanoseconds
 * at which the publisher wrote it. CLOCK_MONOTONIC is one clock for every
 * process on a machine, so receipt time minus NS is the delivery latency.
 * Sequence numbers check completeness and order per connection.
 *
 * Protocol with the driver (bench/run): once every connection has its
 * response headers (or failed), one line "connected N MS" on stdout; at the
 * end one line of JSON with the results. Run time is always bounded (-t).
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "parser.h"

#define RBUF_SIZE (256 * 1024)
#define HDR_MAX 8192
#define MAX_HEADERS 16

/* Latency histogram: 64 linear sub-buckets per power of two (< 1.6 %). */
#define HSUB 64
#define HBUCKETS (HSUB * 60)

enum conn_state {
	ST_CONNECTING,
	ST_HEADERS,
	ST_BODY,
	ST_DONE, /* received the last expected event */
	ST_FAILED,
};

enum chunk_state {
	CH_SIZE,
	CH_EXT,
	CH_DATA,
	CH_DATA_CR,
	CH_TRAILER,
};

struct conn {
	int fd;
	enum conn_state state;
	bool chunked;
	enum chunk_state ch;
	uint64_t ch_left;
	int ch_digits;
	char *hdr; /* response header bytes until the blank line */
	size_t hdr_len;
	struct sse_parser parser;
	uint64_t t_start; /* connect() called */
	uint64_t last_seq;
	uint64_t events; /* events with a sequence number */
	uint64_t gaps; /* events missing between two received */
	uint64_t disorder; /* sequence number not above the previous */
	bool first_ok; /* first event was sequence 1 */
};

struct opts {
	const char *addr;
	int port;
	const char *path;
	const char *headers[MAX_HEADERS];
	int nheaders;
	long nconns;
	uint64_t expect; /* events each connection should get; 0: unknown */
	double timeout; /* total run time, seconds */
	double idle; /* stop after this long without bytes, once events came */
	long inflight; /* connects in progress at once */
	int sources; /* 127.0.0.1 .. 127.0.0.N as source addresses */
	bool hold; /* connect, then wait until the time limit or SIGTERM */
	const char *result; /* write the JSON result here too */
};

static struct opts o = {
    .addr = "127.0.0.1",
    .path = "/",
    .nconns = 1,
    .timeout = 60,
    .idle = 2,
    .inflight = 256,
    .sources = 1,
};

static struct conn *conns;
static int epfd;
static char *rbuf;
static uint64_t now_ns;
static uint64_t hist[HBUCKETS];
static uint64_t lat_max, lat_sum, lat_n;
static uint64_t min_stamp = UINT64_MAX, max_stamp, last_recv, first_recv;
static uint64_t total_events, other_events, total_bytes;
static long n_started, n_connected, n_failed, n_closed, n_done, n_active;
static long fail_refused, fail_status, fail_other;
static uint64_t conn_hist[HBUCKETS], conn_lat_max;
static struct sockaddr_in dst;
/* Room for a browser's head with 16 KB of cookies. */
static char request[32768];
static size_t request_len;

static unsigned
hidx(uint64_t v)
{
	unsigned shift;

	if (v < 2 * HSUB)
		return (unsigned)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - 6;
	return HSUB * shift + (unsigned)(v >> shift);
}

static uint64_t
hval(unsigned i)
{
	unsigned shift;

	if (i < 2 * HSUB)
		return i;
	shift = i / HSUB - 1;
	return ((uint64_t)(i - HSUB * shift) << shift) +
	    ((uint64_t)1 << shift) / 2;
}

static uint64_t
hpct(const uint64_t *h, uint64_t n, double pct, uint64_t max)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (n == 0)
		return 0;
	want = (uint64_t)(pct / 100.0 * (double)n);
	if (want == 0)
		want = 1;
	for (i = 0; i < HBUCKETS; i++) {
		seen += h[i];
		if (seen >= want)
			return hval(i) < max ? hval(i) : max;
	}
	return max;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -p PORT [-a ADDR] [-u PATH] [-H HEADER]... "
	    "[-n CONNS]\n"
	    "               [-m EVENTS] [-t SECS] [-i IDLE_SECS] "
	    "[-c INFLIGHT] [-s SOURCES]\n"
	    "               [-k] [-o RESULT_FILE]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "a:p:u:H:n:m:t:i:c:s:ko:")) != -1) {
		switch (c) {
		case 'a':
			o.addr = optarg;
			break;
		case 'p':
			o.port = (int)num(optarg, 1, 65535, "port");
			break;
		case 'u':
			o.path = optarg;
			break;
		case 'H':
			if (o.nheaders == MAX_HEADERS)
				usage();
			o.headers[o.nheaders++] = optarg;
			break;
		case 'n':
			o.nconns = (long)num(optarg, 1, 1000000, "count");
			break;
		case 'm':
			o.expect = (uint64_t)num(optarg, 0, 1e12, "events");
			break;
		case 't':
			o.timeout = num(optarg, 0.01, 86400, "timeout");
			break;
		case 'i':
			o.idle = num(optarg, 0.01, 86400, "idle time");
			break;
		case 'c':
			o.inflight = (long)num(optarg, 1, 1000000, "inflight");
			break;
		case 's':
			o.sources = (int)num(optarg, 1, 250, "sources");
			break;
		case 'k':
			o.hold = true;
			break;
		case 'o':
			o.result = optarg;
			break;
		default:
			usage();
		}
	}
	if (o.port == 0 || optind != argc)
		usage();
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.nconns + 16) {
		fprintf(stderr,
		    "loadgen: %ld connections need %ld descriptors, the limit "
		    "is %lu\n",
		    o.nconns, o.nconns + 16, (unsigned long)rl.rlim_cur);
		exit(1);
	}
}

static void
build_request(void)
{
	int n, i;

	n = snprintf(request, sizeof(request),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Accept: text/event-stream\r\nCache-Control: no-cache\r\n",
	    o.path, o.addr, o.port);
	for (i = 0; i < o.nheaders; i++)
		n += snprintf(request + n, sizeof(request) - (size_t)n,
		    "%s\r\n", o.headers[i]);
	n += snprintf(request + n, sizeof(request) - (size_t)n, "\r\n");
	if (n >= (int)sizeof(request)) {
		fprintf(stderr, "loadgen: request too long\n");
		exit(2);
	}
	request_len = (size_t)n;
}

static void
conn_finish(struct conn *c, enum conn_state st)
{
	if (c->state == ST_FAILED || c->state == ST_DONE)
		return;
	if (c->state == ST_CONNECTING || c->state == ST_HEADERS) {
		n_failed++;
		n_active--;
	}
	if (st == ST_FAILED && c->state == ST_BODY)
		n_closed++;
	if (st == ST_DONE)
		n_done++;
	c->state = st;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	free(c->hdr);
	c->hdr = NULL;
}

static uint64_t
parse_u64(const char **s, const char *end, bool *ok)
{
	uint64_t v = 0;
	const char *p = *s;

	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	*ok = p > *s;
	*s = p;
	return v;
}

static int
on_event(void *ctx, const struct sse_event *ev)
{
	struct conn *c = ctx;
	const char *p = ev->data, *end = ev->data + ev->data_len;
	uint64_t seq, stamp, lat;
	bool ok1, ok2;

	seq = parse_u64(&p, end, &ok1);
	if (p < end && *p == ' ')
		p++;
	stamp = parse_u64(&p, end, &ok2);
	if (!ok1 || !ok2) {
		other_events++;
		return 0;
	}
	total_events++;
	if (c->events == 0)
		c->first_ok = seq == 1;
	else if (seq > c->last_seq + 1)
		c->gaps += seq - c->last_seq - 1;
	else if (seq <= c->last_seq)
		c->disorder++;
	if (c->events == 0 && seq > 1)
		c->gaps += seq - 1;
	c->events++;
	c->last_seq = seq;
	lat = now_ns > stamp ? now_ns - stamp : 0;
	hist[hidx(lat)]++;
	lat_sum += lat;
	lat_n++;
	if (lat > lat_max)
		lat_max = lat;
	if (stamp < min_stamp)
		min_stamp = stamp;
	if (stamp > max_stamp)
		max_stamp = stamp;
	if (o.expect != 0 && seq >= o.expect)
		return 1; /* this connection has everything */
	return 0;
}

static void
feed(struct conn *c, const char *s, size_t n)
{
	int rc;

	if (n == 0 || c->state != ST_BODY)
		return;
	rc = sse_parser_feed(&c->parser, s, n);
	if (rc == SSE_ERR_ABORTED)
		conn_finish(c, ST_DONE);
	else if (rc != SSE_OK)
		conn_finish(c, ST_FAILED);
}

/* Strip the chunked framing and feed the payload spans to the parser. */
static void
body(struct conn *c, const char *s, size_t n)
{
	const char *end = s + n;
	size_t take;
	int d;

	if (!c->chunked) {
		feed(c, s, n);
		return;
	}
	while (s < end && c->state == ST_BODY) {
		switch (c->ch) {
		case CH_SIZE:
			if (*s >= '0' && *s <= '9')
				d = *s - '0';
			else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
				d = (*s | 0x20) - 'a' + 10;
			else
				d = -1;
			if (d >= 0 && c->ch_digits < 15) {
				c->ch_left = c->ch_left * 16 + (uint64_t)d;
				c->ch_digits++;
			} else if (*s == '\n') {
				if (c->ch_digits == 0) {
					conn_finish(c, ST_FAILED);
					return;
				}
				c->ch = c->ch_left ? CH_DATA : CH_TRAILER;
			} else if (*s != '\r') {
				c->ch = CH_EXT;
			}
			s++;
			break;
		case CH_EXT:
			if (*s++ == '\n')
				c->ch = c->ch_left ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA:
			take = (size_t)(end - s);
			if (take > c->ch_left)
				take = (size_t)c->ch_left;
			c->ch_left -= take;
			if (c->ch_left == 0)
				c->ch = CH_DATA_CR;
			feed(c, s, take);
			s += take;
			break;
		case CH_DATA_CR:
			if (*s++ == '\n') {
				c->ch = CH_SIZE;
				c->ch_left = 0;
				c->ch_digits = 0;
			}
			break;
		case CH_TRAILER:
			/* The last chunk: the stream is over. */
			conn_finish(c, ST_FAILED);
			return;
		}
	}
}

static bool
header_has(const char *h, size_t n, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i;
	const char *line = h, *eol, *end = h + n;

	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > nl &&
		    strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			for (i = nl + 1; line + i + vl <= eol; i++)
				if (strncasecmp(line + i, value, vl) == 0)
					return true;
		}
		line = eol + 1;
	}
	return false;
}

static void
headers(struct conn *c, const char *s, size_t n)
{
	const char *eoh;
	char *rest;
	size_t take, hl;
	uint64_t lat;

	take = n;
	if (c->hdr_len + take > HDR_MAX)
		take = HDR_MAX - c->hdr_len;
	memcpy(c->hdr + c->hdr_len, s, take);
	c->hdr_len += take;
	eoh = memmem(c->hdr, c->hdr_len, "\r\n\r\n", 4);
	if (eoh == NULL) {
		if (c->hdr_len == HDR_MAX) {
			fail_other++;
			conn_finish(c, ST_FAILED);
		}
		return;
	}
	hl = (size_t)(eoh + 4 - c->hdr);
	if (c->hdr_len < 12 || memcmp(c->hdr + 8, " 200", 4) != 0) {
		fail_status++;
		if (fail_status <= 3)
			fprintf(stderr, "loadgen: status: %.*s\n",
			    (int)strcspn(c->hdr, "\r\n"), c->hdr);
		conn_finish(c, ST_FAILED);
		return;
	}
	c->chunked = header_has(c->hdr, hl, "transfer-encoding", "chunked");
	c->state = ST_BODY;
	n_connected++;
	n_active--;
	lat = now_ns - c->t_start;
	conn_hist[hidx(lat)]++;
	if (lat > conn_lat_max)
		conn_lat_max = lat;
	/* What came after the headers in this read: body bytes. */
	rest = c->hdr;
	c->hdr = NULL;
	body(c, rest + hl, c->hdr_len - hl);
	free(rest);
}

static void
start_connect(long i)
{
	struct conn *c = &conns[i];
	struct sockaddr_in src;
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
		exit(1);
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o.sources > 1) {
		/* More source addresses, more ephemeral ports: the port is
		 * picked at connect() time for the whole 4-tuple. */
		(void)setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &one, sizeof(one));
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr =
		    htonl(0x7f000001u + (uint32_t)(i % o.sources));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
			fprintf(stderr, "loadgen: bind: %s\n", strerror(errno));
			exit(1);
		}
	}
	c->state = ST_CONNECTING;
	c->t_start = mono_ns();
	n_started++;
	n_active++;
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)i;
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) {
		if (errno == ECONNREFUSED)
			fail_refused++;
		else
			fail_other++;
		conn_finish(c, ST_FAILED);
		return;
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		fprintf(stderr, "loadgen: epoll_ctl: %s\n", strerror(errno));
		exit(1);
	}
}

static void
on_writable(struct conn *c, long i)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t w;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		if (err == ECONNREFUSED)
			fail_refused++;
		else
			fail_other++;
		conn_finish(c, ST_FAILED);
		return;
	}
	w = write(c->fd, request, request_len);
	if (w != (ssize_t)request_len) {
		fail_other++;
		conn_finish(c, ST_FAILED);
		return;
	}
	if ((c->hdr = malloc(HDR_MAX)) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	c->hdr_len = 0;
	c->state = ST_HEADERS;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)i;
	(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
on_readable(struct conn *c)
{
	ssize_t r;
	int rounds;

	/* Bounded: a connection that always has data must not starve the
	 * others. */
	for (rounds = 0; rounds < 8; rounds++) {
		r = read(c->fd, rbuf, RBUF_SIZE);
		if (r > 0) {
			now_ns = mono_ns();
			if (first_recv == 0)
				first_recv = now_ns;
			last_recv = now_ns;
			total_bytes += (uint64_t)r;
			if (c->state == ST_HEADERS)
				headers(c, rbuf, (size_t)r);
			else
				body(c, rbuf, (size_t)r);
			if (c->state != ST_HEADERS && c->state != ST_BODY)
				return;
			if (r < RBUF_SIZE)
				return;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or error: the server closed this stream. */
		if (c->state == ST_HEADERS)
			fail_other++;
		conn_finish(c, ST_FAILED);
		return;
	}
}

static void
json_hist(
    FILE *f, const char *name, const uint64_t *h, uint64_t n, uint64_t max)
{
	fprintf(f,
	    "\"%s_p50_us\":%.1f,\"%s_p90_us\":%.1f,\"%s_p99_us\":%.1f,"
	    "\"%s_p999_us\":%.1f,\"%s_max_us\":%.1f",
	    name, (double)hpct(h, n, 50, max) / 1e3, name,
	    (double)hpct(h, n, 90, max) / 1e3, name,
	    (double)hpct(h, n, 99, max) / 1e3, name,
	    (double)hpct(h, n, 99.9, max) / 1e3, name, (double)max / 1e3);
}

static void
report(FILE *f, uint64_t t0, uint64_t t_connected, uint64_t t_end)
{
	uint64_t gaps = 0, disorder = 0, complete = 0, badfirst = 0, inner = 0;
	uint64_t cmin = UINT64_MAX, cmax = 0;
	struct rusage ru;
	double span, cpu = 0;
	long i;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
			(double)ru.ru_stime.tv_usec) /
			1e6;

	for (i = 0; i < o.nconns; i++) {
		struct conn *c = &conns[i];
		uint64_t missing = 0;

		if (o.expect != 0 && c->last_seq < o.expect && c->t_start != 0)
			missing = o.expect - c->last_seq;
		gaps += c->gaps + missing;
		inner += c->gaps;
		disorder += c->disorder;
		if (c->events < cmin)
			cmin = c->events;
		if (c->events > cmax)
			cmax = c->events;
		if (c->events > 0 && !c->first_ok)
			badfirst++;
		if (o.expect != 0 && c->events == o.expect && c->gaps == 0 &&
		    c->disorder == 0 && c->last_seq == o.expect)
			complete++;
	}
	span = last_recv > min_stamp && min_stamp != UINT64_MAX
	    ? (double)(last_recv - min_stamp) / 1e9
	    : 0;
	fprintf(f,
	    "{\"conns\":%ld,\"connected\":%ld,\"failed\":%ld,"
	    "\"refused\":%ld,\"bad_status\":%ld,\"other_failures\":%ld,"
	    "\"closed_by_server\":%ld,\"connect_s\":%.4f,",
	    o.nconns, n_connected, n_failed, fail_refused, fail_status,
	    fail_other, n_closed,
	    t_connected ? (double)(t_connected - t0) / 1e9 : -1.0);
	json_hist(f, "conn", conn_hist, (uint64_t)n_connected, conn_lat_max);
	fprintf(f,
	    ",\"events\":%" PRIu64 ",\"expected_per_conn\":%" PRIu64
	    ",\"expected\":%" PRIu64 ",\"complete_conns\":%" PRIu64
	    ",\"missing\":%" PRIu64 ",\"gaps_inside\":%" PRIu64
	    ",\"conn_events_min\":%" PRIu64 ",\"conn_events_max\":%" PRIu64
	    ",\"disorder\":%" PRIu64 ",\"bad_first\":%" PRIu64
	    ",\"other_events\":%" PRIu64 ",\"bytes\":%" PRIu64 ",",
	    total_events, o.expect, o.expect * (uint64_t)o.nconns, complete,
	    gaps, inner, cmin == UINT64_MAX ? 0 : cmin, cmax, disorder,
	    badfirst, other_events, total_bytes);
	json_hist(f, "lat", hist, lat_n, lat_max);
	fprintf(f,
	    ",\"lat_mean_us\":%.1f,\"first_stamp_ns\":%" PRIu64
	    ",\"last_stamp_ns\":%" PRIu64 ",\"last_recv_ns\":%" PRIu64
	    ",\"span_s\":%.4f,\"events_per_s\":%.0f,\"run_s\":%.3f,"
	    "\"cpu_s\":%.3f}\n",
	    lat_n ? (double)lat_sum / (double)lat_n / 1e3 : 0.0,
	    min_stamp == UINT64_MAX ? 0 : min_stamp, max_stamp, last_recv, span,
	    span > 0 ? (double)total_events / span : 0.0,
	    (double)(t_end - t0) / 1e9, cpu);
}

int
main(int argc, char **argv)
{
	struct sse_parser_cb cb = {on_event, NULL, NULL, NULL};
	struct epoll_event evs[1024];
	uint64_t t0, t_connected = 0, deadline, now, idle_ns;
	long next = 0, i;
	int n, k;
	FILE *f;

	parse_args(argc, argv);
	raise_nofile();
	build_request();
	catch_stop();

	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.addr, &dst.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad address '%s'\n", o.addr);
		return 2;
	}
	conns = calloc((size_t)o.nconns, sizeof(*conns));
	rbuf = malloc(RBUF_SIZE);
	if (conns == NULL || rbuf == NULL ||
	    (epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(
		    stderr, "loadgen: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < o.nconns; i++) {
		conns[i].fd = -1;
		sse_parser_init(&conns[i].parser, NULL, 0);
		cb.ctx = &conns[i];
		conns[i].parser.cb = cb;
	}

	t0 = mono_ns();
	deadline = t0 + (uint64_t)(o.timeout * 1e9);
	idle_ns = (uint64_t)(o.idle * 1e9);
	while (!stop_flag) {
		while (next < o.nconns && n_active < o.inflight)
			start_connect(next++);
		if (t_connected == 0 && next == o.nconns && n_active == 0) {
			t_connected = mono_ns();
			printf("connected %ld %.3f\n", n_connected,
			    (double)(t_connected - t0) / 1e6);
			fflush(stdout);
			if (n_connected == 0)
				break;
		}
		if (o.expect != 0 && t_connected != 0 &&
		    n_done + n_closed + n_failed >= o.nconns)
			break;
		n = epoll_wait(epfd, evs, 1024, 50);
		if (n == -1 && errno != EINTR) {
			fprintf(stderr, "loadgen: epoll_wait: %s\n",
			    strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct conn *c;

			i = (long)evs[k].data.u64;
			c = &conns[i];
			if (c->state == ST_CONNECTING)
				on_writable(c, i);
			else if (c->state == ST_HEADERS || c->state == ST_BODY)
				on_readable(c);
		}
		now = mono_ns();
		if (now >= deadline)
			break;
		if (!o.hold && last_recv != 0 && total_events > 0 &&
		    now - last_recv > idle_ns && t_connected != 0)
			break;
	}
	now = mono_ns();
	if (t_connected == 0) {
		printf("connected %ld %.3f\n", n_connected,
		    (double)(now - t0) / 1e6);
	}
	report(stdout, t0, t_connected, now);
	fflush(stdout);
	if (o.result != NULL && (f = fopen(o.result, "w")) != NULL) {
		report(f, t0, t_connected, now);
		fclose(f);
	}
	/* The process exits: the kernel closes the sockets. */
	return 0;
}
