/*
 * The inside of the HTTP front end (cmd/httpd.h is its outside): the
 * state every piece shares, and how the pieces call one another.
 *
 *   opts.c    the options every serving command shares
 *   start.c   bind, TLS files, the descriptor limit; start and free
 *   doors.c   accept, peek at each request head, hand it to a door
 *   route.c   one request: routing, auth, CORS, the answers
 *   stream.c  a stream: its reads, suspension and resumption, hang-ups
 *   heap.c    the suspended streams, ordered by deadline
 *   loop.c    the event loop, wakes, drain and stop
 *   req.c     each request's record: the access log; /metrics, /healthz
 *   publish.c POST /events: the body, the source's answer (maybe later)
 *
 * libmicrohttpd runs in external epoll mode, driven by one loop thread.
 * Streams are responses from a content reader callback; a stream whose
 * source has nothing to send is suspended inside that callback and kept in
 * a min-heap ordered by its next deadline (keepalive or the source's own).
 * httpd_wake_all() from another thread only sets a flag and pokes an
 * eventfd: the loop thread resumes the waiting streams, so every
 * libmicrohttpd call but MHD_resume_connection's flag-setting happens in
 * one thread, and a wake can never be lost: the flag is checked after
 * every MHD_run(), that is after every callback that may have suspended a
 * stream.
 */
#ifndef SSE_HTTP_H
#define SSE_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "httpd.h"

/* A small per-connection pool: an idle stream costs a few KiB. */
#define SMALL_POOL 4096
/*
 * A request head goes to the small pool if its cost (lib/reqhead.h) is at
 * most SMALL_HEAD. Measured, a 4 KiB pool serves heads up to a cost of
 * about 3,800 whatever their shape; tests/serve.bats sends heads of every
 * shape around the limit.
 */
#define SMALL_HEAD 3328
/*
 * The other door's pool: heads up to about 60 KB, or 16 KB of cookies
 * (more gets 431). libmicrohttpd maps pools over 32 KiB on their own, so
 * the pages a stream leaves untouched cost nothing (door_wrote).
 */
#define LARGE_POOL (64 * 1024)
#define HEAD_MS 30000 /* a new connection's time to send its head */
#define MAX_PENDING 1024 /* connections still sending their head */
/*
 * The response's own buffer, used only when the stream is not chunked
 * (HTTP/1.0): chunked streams are written straight into the pool. Every
 * stream has one, so it is small: 0.8 KiB an idle stream less than 1 KiB.
 */
#define BLOCK_SIZE 256
#define GRACE_MS 5000
#define EXTRA_CONNS 64 /* beyond max_clients, to answer 503 and serve / */
/*
 * Coalescing (loop.c): a wake is held for at most HOLD_K times what a
 * flush of the waiting streams costs, and never longer than HOLD_MAX_US.
 */
#define HOLD_K 3
#define HOLD_MAX_US 250000

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
	bool dropped; /* disconnected as lost (stream_check_lost) */
	bool trimmed; /* its send buffer was given back once (door_wrote) */
	size_t wrote; /* the most written at once since then */
	TAILQ_ENTRY(conn) all; /* h->streams */
	struct req *req;
};

/*
 * One request, from its URI to its end (libmicrohttpd's per-request
 * pointer): what the access log says of it, and a publish request's state.
 */
struct req {
	int64_t t0, wall0; /* monotonic and wall clock, ms */
	char *uri; /* as requested, query included */
	char method[16];
	char peer[48];
	unsigned status; /* 0: none queued (the client left first) */
	uint64_t bytes; /* body bytes handed to libmicrohttpd */
	struct pubreq *pub; /* POST /events */
};

/* A connection whose request head has not all come yet. */
struct pending {
	int kind; /* W_PENDING */
	int fd;
	int64_t deadline;
	TAILQ_ENTRY(pending) link;
	socklen_t alen;
	struct sockaddr_storage addr;
};

TAILQ_HEAD(pending_list, pending);

/* One of the two daemons (see doors.c). */
struct door {
	struct httpd *h;
	struct MHD_Daemon *d; /* NULL: not in use (the small one, with TLS) */
	int fd; /* its epoll descriptor */
};

struct httpd {
	struct door door[2]; /* small, large */
	struct httpd_source src;
	struct httpd_opts o;
	int ep, wakefd, sigfd, lfd;
	bool tls;
	bool accept_ready; /* the listening socket has connections */
	int64_t accept_at; /* accepting paused until then (out of fds) */
	struct pending_list pending; /* oldest first */
	long npending;
	atomic_bool wake; /* set by httpd_wake_all() */
	atomic_bool wake_now; /* set by httpd_wake_now() */
	bool wake_due; /* a wake is held (loop.c: coalescing) */
	int64_t held_until; /* ... until then at the latest (us) */
	int64_t woke_at; /* when a wake last resumed the streams (us) */
	int64_t flush_us; /* what a flush costs (moving average, us) */
	int64_t flush_last; /* what the last one took */
	size_t flush_n; /* the streams it resumed */
	bool flushing; /* the streams were resumed, the loop is busy */
	bool pwait2; /* epoll_pwait2() works here */
	atomic_bool drain; /* set by httpd_drain() */
	bool draining; /* the loop has seen the drain */
	bool stopping; /* a signal came: drain, then stop */
	int signo;
	int64_t stop_by;
	long nstreams;
	struct req *cur; /* the request route_request() is handling */
	FILE *alog; /* --access-log */
	TAILQ_HEAD(, pubreq) pubs; /* publish requests suspended */
	TAILQ_HEAD(, conn) streams; /* every stream */
	int64_t lost_at; /* when stream_check_lost is due next */
	char url[128]; /* "http://HOST:PORT/", as announced */
	atomic_bool pub_wake; /* set by httpd_pub_done() */
	/* For GET /metrics (loop thread only). */
	uint64_t n_requests, n_streams, n_dropped, bytes_out;
	struct conn **heap; /* suspended streams, by deadline */
	size_t nheap, capheap;
	char *cert, *key;
};

/* heap.c */
int heap_push(struct httpd *, struct conn *);
struct conn *heap_pop(struct httpd *);
void heap_remove(struct httpd *, struct conn *);

/* stream.c */
struct MHD_Response *stream_response(
    struct httpd *, struct MHD_Connection *, void *client);
void stream_hung_up(struct httpd *, struct conn *, uint32_t events);
void stream_resume_all(struct httpd *);
void stream_resume_due(struct httpd *, int64_t now);
void stream_check_lost(struct httpd *, int64_t now);

/* route.c: libmicrohttpd's request callback (cls: the struct door). */
enum MHD_Result route_request(void *cls, struct MHD_Connection *mc,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **req);

/* req.c */
void *req_begin(void *cls, const char *uri, struct MHD_Connection *);
void req_end(void *cls, struct MHD_Connection *, void **req,
    enum MHD_RequestTerminationCode);
int req_log_open(struct httpd *);
enum MHD_Result req_ops(struct httpd *, struct MHD_Connection *, bool metrics);

/* publish.c */
enum MHD_Result publish_request(struct httpd *, struct MHD_Connection *,
    const char *url, const char *upload, size_t *upload_size, struct req *);
void publish_resume_done(struct httpd *);
void publish_resume_all(struct httpd *);
void publish_free(struct pubreq *);

/* route.c, for req.c and publish.c */
enum MHD_Result route_answer(struct httpd *, struct MHD_Connection *,
    unsigned status, const char *type, const char *body, size_t len,
    bool is_static);
bool route_token_ok(struct MHD_Connection *, const char *token, bool query);

/* doors.c */
int door_open(struct httpd *, struct door *, bool small, unsigned limit);
void door_accept(struct httpd *);
bool door_peek(struct httpd *, struct pending *, uint32_t events);
void door_wrote(struct conn *, char *buf, size_t max, ssize_t n);
void door_expire(struct httpd *, int64_t now);
void door_close_all(struct httpd *);
/* Watch one of our own descriptors (told from streams by address). */
int httpd_watch_fd(int ep, int *fdp);

/* loop.c */
void loop_run_doors(struct httpd *);

#endif
