/*
 * Publishing over HTTP (--publish): POST /events. The HTTP loop thread
 * parses the body whole (lib/publish; JSON lines through cmd/event_json,
 * the --input json schema), so a bad body is refused at once and nothing
 * of it is published; a good one is queued for the input thread, the one
 * writer of ids, which emits its events one request after another (many
 * publishers keep one order), puts them in the log, and answers with their
 * ids (httpd_pub_done): the request waits, suspended, until then.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "event_json.h"
#include "json.h"
#include "msg.h"
#include "opts.h"
#include "prom.h"
#include "publish.h"
#include "serve.h"

#define PUB_MAX_EVENTS 100000

struct pubjob {
	STAILQ_ENTRY(pubjob) link;
	struct httpd_pub *p;
	struct pub parsed;
};

static int
nonempty(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	(void)base;
	(void)row;
	if (*arg != '\0')
		return 0;
	snprintf(why, whysz, "empty");
	return -1;
}

#define HO(f) offsetof(struct httpd_opts, f)
#define SO(f) offsetof(struct serve, f)

/* clang-format off */
const struct opts_row serve_pub_rows[] = {
    {.kind = OPTS_SECTION, .help = "Publishing over HTTP, operating:"},
    {OPTS_ROW("publish", 0, OPTS_FLAG, HO(publish), NULL),
	.help = "POST /events publishes: text/plain (a line\n"
	    "an event), application/json (an object a\n"
	    "line), text/event-stream"},
    {OPTS_ROW("publish-token", 0, OPTS_STR, HO(publish_token), "TOKEN"),
	.help = "POST needs 'Authorization: Bearer TOKEN'\n"
	    "(default: $SSE_PUBLISH_TOKEN)", .call = nonempty},
    {OPTS_ROW("publish-token-file", 0, OPTS_STR, HO(publish_token_file),
	"FILE"),
	.help = "the publish token: FILE's first line"},
    {OPTS_ROW("max-publish-size", 0, OPTS_SIZE, HO(max_publish), "SIZE"),
	.help = "largest POST body, 413 beyond (default 1M)",
	.min = 16},
    {OPTS_ROW("access-log", 0, OPTS_STR, HO(access_log), "FILE"),
	.help = "a JSON line for each request to FILE\n"
	    "(- for stdout)", .call = nonempty},
    {OPTS_ROW("metrics-token", 0, OPTS_STR, HO(metrics_token), "TOKEN"),
	.help = "GET /metrics and /healthz need this token\n"
	    "(default: $SSE_METRICS_TOKEN, else --token)",
	.call = nonempty},
};

/* Tokens off the command line (in struct serve, read after parsing). */
const struct opts_row serve_secret_rows[] = {
    {OPTS_ROW("metrics-token-file", 0, OPTS_STR, SO(metrics_token_file),
	"FILE"),
	.help = "the metrics token: FILE's first line"},
    {OPTS_ROW("token-file", 0, OPTS_STR, SO(token_file), "FILE"),
	.help = "the token (--token): FILE's first line"},
};
/* clang-format on */

const size_t serve_pub_nrows =
    sizeof(serve_pub_rows) / sizeof(serve_pub_rows[0]);
const size_t serve_secret_nrows =
    sizeof(serve_secret_rows) / sizeof(serve_secret_rows[0]);

/* The first line of path into buf; -1 after saying why. */
static int
read_token(const char *opt, const char *path, char *buf, size_t sz)
{
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "re")) == NULL) {
		msg_err("%s: cannot open '%s'", opt, path);
		return -1;
	}
	if (fgets(buf, (int)sz, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0) {
		msg_errx("%s: no token in '%s'", opt, path);
		return -1;
	}
	return 0;
}

/*
 * After parsing: the publish token (option, file, environment) and the
 * rules: publishing with a subscriber token needs its own token, which a
 * subscriber's cannot be. 0, or -1 after saying why.
 */
/*
 * A token from option opt's file into buf, for *tok: an option and a
 * file for the same token are one too many. 0, or -1 after saying why.
 */
static int
token_from_file(
    const char *opt, const char *path, char *buf, size_t sz, const char **tok)
{
	if (path == NULL)
		return 0;
	if (*tok != NULL) {
		msg_errx("%s: the token is given twice (%.*s too)", opt,
		    (int)(strlen(opt) - 5), opt);
		return -1;
	}
	if (read_token(opt, path, buf, sz) == -1)
		return -1;
	*tok = buf;
	return 0;
}

int
serve_pub_check(struct serve *s, struct httpd_opts *ho)
{
	const char *env = getenv("SSE_PUBLISH_TOKEN"), *sub;
	const char *menv = getenv("SSE_METRICS_TOKEN");

	/* Secrets off the command line: files, or the environment. */
	if (token_from_file("--token-file", s->token_file, s->subtok,
		sizeof(s->subtok), &ho->token) == -1 ||
	    token_from_file("--metrics-token-file", s->metrics_token_file,
		s->mettok, sizeof(s->mettok), &ho->metrics_token) == -1)
		return -1;
	if (ho->metrics_token == NULL && menv != NULL && *menv != '\0')
		ho->metrics_token = menv;
	sub = ho->token;
	if (sub == NULL && getenv("SSE_TOKEN") != NULL &&
	    *getenv("SSE_TOKEN") != '\0')
		sub = getenv("SSE_TOKEN");
	if (ho->publish_token_file != NULL) {
		if (read_token("--publish-token-file", ho->publish_token_file,
			s->pubtok, sizeof(s->pubtok)) == -1)
			return -1;
		ho->publish_token = s->pubtok;
	}
	if (ho->publish_token == NULL && env != NULL && *env != '\0')
		ho->publish_token = env;
	if (!ho->publish &&
	    (ho->publish_token_file != NULL ||
		(ho->publish_token != NULL && ho->publish_token != env))) {
		msg_errx("--publish-token needs --publish");
		return -1;
	}
	if (!ho->publish)
		return 0;
	if (s->redis_url != NULL) { /* its ids come from the stream */
		msg_errx("--publish and --redis do not go together yet");
		return -1;
	}
	if (sub != NULL && ho->publish_token == NULL) {
		msg_errx("--publish with a subscriber token needs its own "
			 "--publish-token (or $SSE_PUBLISH_TOKEN): a "
			 "subscriber's token must not publish");
		return -1;
	}
	if (sub != NULL && strcmp(sub, ho->publish_token) == 0) {
		msg_errx("the publish token must differ from --token");
		return -1;
	}
	return 0;
}

int
serve_pub_init(struct serve *s)
{
	STAILQ_INIT(&s->pubq);
	pthread_mutex_init(&s->pubmu, NULL);
	if (!s->publish) /* not a descriptor more than before */
		return 0;
	s->pubfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return s->pubfd == -1 ? -1 : 0;
}

/* After the input thread: requests never taken are answered 503. */
void
serve_pub_release(struct serve *s)
{
	struct pubjob *job;

	while ((job = STAILQ_FIRST(&s->pubq)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->pubq, link);
		pub_release(&job->parsed);
		free(job);
	}
	if (s->pubfd != -1)
		close(s->pubfd);
	pthread_mutex_destroy(&s->pubmu);
}

/* GET /metrics: the hub's own samples (the HTTP thread). */
void
serve_metrics(void *ctx, struct sse_buf *b)
{
	struct serve *s = ctx;
	uint64_t in, held, bytes, found, missed, published, out;
	struct client *c;

	pthread_mutex_lock(&s->mu);
	out = s->n_out;
	LIST_FOREACH(c, &s->clients, link)
	out += sent_events(s, c);
	in = s->log.next - 1; /* the first is 1 */
	held = s->log.next - s->log.first;
	bytes = s->log.head - s->log.tail;
	serve_topics_sum(s, &in, &held, &bytes); /* from any source */
	found = s->n_resumed;
	missed = s->n_lost;
	published = s->n_published;
	pthread_mutex_unlock(&s->mu);
	prom_family(b, "sse_events_in_total", "counter",
	    "Events put in the history (stdin, the command, publishers).");
	prom_u64(b, "sse_events_in_total", NULL, NULL, 0, in);
	prom_family(b, "sse_events_out_total", "counter",
	    "Events of the main stream sent whole, summed over clients.");
	prom_u64(b, "sse_events_out_total", NULL, NULL, 0, out);
	prom_family(b, "sse_events_published_total", "counter",
	    "Events published over HTTP.");
	prom_u64(b, "sse_events_published_total", NULL, NULL, 0, published);
	prom_family(
	    b, "sse_history_events", "gauge", "Events held for resuming.");
	prom_u64(b, "sse_history_events", NULL, NULL, 0, held);
	prom_family(
	    b, "sse_history_bytes", "gauge", "Bytes held for resuming.");
	prom_u64(b, "sse_history_bytes", NULL, NULL, 0, bytes);
	prom_family(b, "sse_resumes_total", "counter",
	    "Clients that came back with a Last-Event-ID: found in the "
	    "history, or not (sse-lost).");
	prom_u64(b, "sse_resumes_total", "result", "found", 5, found);
	prom_u64(b, "sse_resumes_total", "result", "missed", 6, missed);
	serve_topics_metrics(s, b);
}

/* The JSON line decoder for lib/publish: the views live until next call. */
struct jctx {
	json_t *obj;
	struct event_json ej;
	bool live;
};

static void
jctx_release(struct jctx *j)
{
	if (j->live) {
		event_json_release(&j->ej);
		json_decref(j->obj);
	}
	j->live = false;
}

static int
json_line(void *ctx, const char *line, size_t len, struct sse_event *ev,
    const char **topic, size_t *topic_len, char *why, size_t whysz)
{
	struct jctx *j = ctx;
	json_error_t jerr;
	const char *err;
	json_t *t;

	jctx_release(j);
	if ((j->obj = json_loadb(line, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		snprintf(why, whysz, "invalid JSON: %s", jerr.text);
		return -1;
	}
	memset(&j->ej, 0, sizeof(j->ej));
	j->live = true;
	if (!json_is_object(j->obj)) {
		snprintf(why, whysz, "not a JSON object");
		return -1;
	}
	if ((err = event_json_decode(j->obj, EVENT_JSON_LOOSE, &j->ej)) !=
	    NULL) {
		snprintf(why, whysz, "%s", err);
		return -1;
	}
	*ev = j->ej.ev;
	if ((t = json_object_get(j->obj, "topic")) != NULL) {
		if (!json_is_string(t)) {
			snprintf(why, whysz, "\"topic\" is not a string");
			return -1;
		}
		*topic = json_string_value(t);
		*topic_len = json_string_length(t);
	}
	return 0;
}

/* p's answer: a copy of b's bytes. */
static void
set_answer(struct httpd_pub *p, int status, const struct sse_buf *b)
{
	p->status = status;
	if ((p->answer = malloc(b->len + 1)) != NULL) {
		memcpy(p->answer, b->p, b->len);
		p->answer_len = b->len;
	}
}

/* The HTTP loop thread: parse, then answer now or queue. */
int
serve_publish(void *ctx, struct httpd_pub *p)
{
	struct serve *s = ctx;
	struct pubjob *job;
	struct sse_buf b = SSE_BUF_INIT;
	struct jctx j = {0};
	const char *type = p->event != NULL ? p->event : s->event;
	uint64_t one = 1;
	int rc;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		p->status = 503;
		return 0;
	}
	job->p = p;
	pub_init(&job->parsed, PUB_MAX_EVENTS, s->max_event);
	rc = pub_parse(&job->parsed, pub_kind_of(p->content_type), p->body,
	    p->len, type, strlen(type), json_line, &j);
	jctx_release(&j);
	if (rc == -1) {
		pub_error_json(&job->parsed, &b);
		set_answer(p, 400, &b);
		sse_buf_release(&b);
		pub_release(&job->parsed);
		free(job);
		return 0;
	}
	pthread_mutex_lock(&s->pubmu);
	STAILQ_INSERT_TAIL(&s->pubq, job, link);
	pthread_mutex_unlock(&s->pubmu);
	(void)!write(s->pubfd, &one, sizeof(one));
	return 1;
}

/* Event i's topic: its own, else the request's (NULL: /events). */
static const char *
topic_of(struct pubjob *job, size_t i, struct sse_event *ev, size_t *tlen)
{
	const char *topic;

	pub_get(&job->parsed, i, ev, &topic, tlen);
	if (topic == NULL && job->p->topic != NULL) {
		topic = job->p->topic;
		*tlen = strlen(topic);
	}
	return topic;
}

/*
 * The input thread: hold every topic the request names, made if need be,
 * before any event is published: a topic over --max-topics refuses the
 * whole request (409, naming its line), and nothing of it is published.
 * Returns how many of held[] are held, or -1 after answering into b.
 */
static long
hold_topics(
    struct serve *s, struct pubjob *job, struct topic **held, struct sse_buf *b)
{
	struct sse_event ev;
	const char *topic;
	char why[128];
	size_t i, tlen, n = 0;

	for (i = 0; i < job->parsed.n; i++) {
		if ((topic = topic_of(job, i, &ev, &tlen)) == NULL)
			continue;
		if ((held[n] = serve_topic_hold(s, topic, tlen)) != NULL) {
			n++;
			continue;
		}
		while (n > 0)
			serve_topic_unhold(s, held[--n]);
		snprintf(why, sizeof(why),
		    "too many topics (--max-topics): cannot make '%.*s'",
		    (int)tlen, topic);
		sse_buf_addstr(b, "{\"error\":");
		sse_json_str(b, why, strlen(why));
		if (job->parsed.ev[i].line > 0)
			sse_buf_addf(
			    b, ",\"line\":%lu", job->parsed.ev[i].line);
		sse_buf_addstr(b, "}\n");
		return -1;
	}
	return (long)n;
}

/*
 * The input thread: emit one request's events, keep their ids in b; the
 * answer's status.
 */
static int
emit_job(struct serve *s, struct pubjob *job, struct sse_buf *b)
{
	struct sse_event ev;
	char idbuf[SERVE_ID_MAX > 72 ? SERVE_ID_MAX : 72];
	struct topic **held;
	const char *topic, *why = NULL;
	size_t tlen;
	uint64_t done = 0;
	long nheld;
	bool own;

	if ((held = calloc(job->parsed.n + 1, sizeof(*held))) == NULL) {
		sse_buf_addstr(b, "{\"error\":\"out of memory\"}\n");
		return 503;
	}
	if ((nheld = hold_topics(s, job, held, b)) == -1) {
		free(held);
		return 409;
	}
	sse_buf_addstr(b, "{\"ids\":[");
	for (size_t i = 0; i < job->parsed.n; i++) {
		if (i > 0)
			sse_buf_addch(b, ',');
		if ((topic = topic_of(job, i, &ev, &tlen)) != NULL) {
			/* a topic's own log and ids */
			if (serve_topic_emit(s, topic, tlen, &ev, idbuf,
				sizeof(idbuf), &why) == -1) {
				sse_buf_addstr(b, "null");
				continue;
			}
			done++;
			if (!ev.has_id)
				sse_buf_addstr(b, "null");
			else
				sse_json_str(b, idbuf, strlen(idbuf));
			continue;
		}
		own = ev.has_id;
		if (serve_input_emit(s, &ev) == -1) {
			sse_buf_addstr(b, "null");
			continue;
		}
		done++;
		if (own)
			sse_json_str(b, ev.id, ev.id_len);
		else if (s->ids)
			sse_json_str(b, idbuf, serve_id(s, s->seq, idbuf));
		else
			sse_buf_addstr(b, "null");
	}
	sse_buf_addstr(b, "]}\n");
	while (nheld > 0)
		serve_topic_unhold(s, held[--nheld]);
	free(held);
	pthread_mutex_lock(&s->mu);
	s->n_published += done;
	pthread_mutex_unlock(&s->mu);
	return 200;
}

/* The input thread: take the queued requests, in order. */
void
serve_pub_take(struct serve *s)
{
	STAILQ_HEAD(, pubjob) q = STAILQ_HEAD_INITIALIZER(q);
	struct pubjob *job;
	struct sse_buf b = SSE_BUF_INIT;
	uint64_t junk;

	(void)!read(s->pubfd, &junk, sizeof(junk));
	pthread_mutex_lock(&s->pubmu);
	STAILQ_CONCAT(&q, &s->pubq);
	pthread_mutex_unlock(&s->pubmu);
	if (STAILQ_EMPTY(&q))
		return;
	STAILQ_FOREACH(job, &q, link)
	{
		sse_buf_reset(&b);
		set_answer(job->p, emit_job(s, job, &b), &b);
	}
	/* In the log before anyone is answered. */
	hub_flush(s, false);
	while ((job = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, link);
		httpd_pub_done(s->h, job->p);
		pub_release(&job->parsed);
		free(job);
	}
	sse_buf_release(&b);
}

/* After the input's end: publish requests until the loop stops. */
void
serve_pub_loop(struct serve *s)
{
	struct pollfd pfd[2];

	pfd[0].fd = s->stopfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = s->pubfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			return;
		if (pfd[0].revents != 0)
			return;
		if (pfd[1].revents != 0)
			serve_pub_take(s);
	}
}
