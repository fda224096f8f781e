/*
 * sse serve's input thread: stdin read in big blocks, split into lines
 * (or parsed as an event stream, or as JSON lines), each event serialized
 * once into a batch, and the batch handed to the hub after each block.
 * Oversized lines and events are skipped with a warning naming the line.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event_json.h"
#include "msg.h"
#include "serialize.h"
#include "serve.h"
#include "utf8.h"
#include "topic.h"

#define READ_BLOCK (256 * 1024)

static void
warn_line(struct serve *s, const char *what)
{
	msg_warnx("line %llu: %s", (unsigned long long)s->lineno, what);
}

/* Line lineno is over --max-event-size: it is skipped. */
static void
too_long(struct serve *s, uint64_t lineno)
{
	msg_warnx("line %llu: longer than --max-event-size (%zu bytes), "
		  "skipped",
	    (unsigned long long)lineno, s->max_event);
}

/* Room for one more batched event. */
static int
reserve_pend(struct serve *s)
{
	struct batched *pp;
	size_t ncap;

	if (s->npend < s->cappend)
		return 0;
	ncap = s->cappend ? s->cappend * 2 : 1024;
	if ((pp = realloc(s->pend, ncap * sizeof(*pp))) == NULL)
		return -1;
	s->pend = pp;
	s->cappend = ncap;
	return 0;
}

size_t
serve_id_in(const char *epoch, size_t len, uint64_t n, char *out)
{
	char num[24], *p = num + sizeof(num);

	memcpy(out, epoch, len);
	out[len] = '-';
	if (n == 0) {
		memcpy(out + len + 1, "end", 3);
		return len + 4;
	}
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	memcpy(out + len + 1, p, (size_t)(num + sizeof(num) - p));
	return len + 1 + (size_t)(num + sizeof(num) - p);
}

size_t
serve_id(const struct serve *s, uint64_t n, char *out)
{
	return serve_id_in(s->epoch, s->epoch_len, n, out);
}

/*
 * --id none: the events carry no id, so a client cannot resume, and one
 * that reconnects after input ended would be sent the backlog again and
 * again. The stream ends with a bare "id: EPOCH-end" field instead: no
 * event (an empty dispatch fires nothing, WHATWG 9.2.6), but the client's
 * last event ID, with which its reconnection is answered 204. It ends this
 * run only: it goes into the history, never into the journal, so that a
 * server started again on the journal continues the stream without the
 * last run's end in the middle of it; and it takes no number.
 */
static void
end_mark(struct serve *s)
{
	char id[SERVE_ID_MAX];
	struct batched *pp;
	size_t old = s->batch.len, len = serve_id(s, 0, id), id_at = 0;

	if (sse_serialize_id(&s->batch, id, len, &id_at) != SSE_OK ||
	    reserve_pend(s) == -1) {
		s->batch.len = old;
		return;
	}
	pp = &s->pend[s->npend++];
	pp->n = s->seq + 1; /* never journaled */
	pp->off = old;
	pp->len = s->batch.len - old;
	pp->has_id = true;
	pp->id_len = len;
	pp->id_off = id_at;
}

static int
emit(struct serve *s, struct sse_event *ev)
{
	char idbuf[SERVE_ID_MAX];
	struct batched *pp;
	const char *why;
	size_t old = s->batch.len, id_at = 0;

	if (s->redis != NULL) /* ids come from the stream */
		return serve_redis_add(s, ev);
	if (!ev->has_id && s->ids) {
		ev->id = idbuf;
		ev->id_len = serve_id(s, s->seq + 1, idbuf);
		ev->has_id = true;
	}
	if (sse_serialize_at(&s->batch, ev, &why, &id_at) != SSE_OK) {
		s->batch.len = old;
		warn_line(s, why);
		return -1; /* no event: --id seq goes on with the same number */
	}
	if (reserve_pend(s) == -1) {
		s->batch.len = old;
		warn_line(s, "out of memory");
		return -1;
	}
	pp = &s->pend[s->npend++];
	pp->n = ++s->seq;
	pp->off = old;
	pp->len = s->batch.len - old;
	pp->has_id = ev->has_id && ev->id_len > 0;
	pp->id_len = ev->id_len;
	pp->id_off = id_at;
	return 0;
}

/*
 * The stream says charset=utf-8: data that is not valid UTF-8 (stdin's
 * lines, a command's stderr) goes out as the standard's decoder would show
 * it, each maximal invalid subpart a U+FFFD, with a warning naming the
 * line. Only the input thread calls this, hence one buffer for it.
 */
static int
emit_utf8(struct serve *s, struct sse_event *ev)
{
	static struct sse_buf fixed;

	if (sse_utf8_valid(ev->data, ev->data_len))
		return emit(s, ev);
	sse_buf_reset(&fixed);
	if (sse_utf8_repair(ev->data, ev->data_len, &fixed) != 1) {
		warn_line(s, "out of memory");
		return -1;
	}
	warn_line(s,
	    "not valid UTF-8: sent with U+FFFD in place of the "
	    "invalid bytes");
	ev->data = fixed.p;
	ev->data_len = fixed.len;
	return emit(s, ev);
}

static void
line_event(struct serve *s, const char *p, size_t len)
{
	struct sse_event ev;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	sse_event_init(&ev);
	ev.type = s->event;
	ev.type_len = s->event_len;
	ev.data = p;
	ev.data_len = len;
	emit_utf8(s, &ev);
}

/* One line of --input json: an object decoded by cmd/event_json.c. */
/* A JSON line with "topic": the event goes to that topic's log. */
static void
topic_event(struct serve *s, json_t *root, struct sse_event *ev)
{
	json_t *t = json_object_get(root, "topic");
	const char *why;
	char id[72];

	if (!json_is_string(t))
		warn_line(s, "\"topic\" is not a string");
	else if (!sse_topic_valid(
		     json_string_value(t), json_string_length(t), &why) ||
	    serve_topic_emit(s, json_string_value(t), json_string_length(t), ev,
		id, sizeof(id), &why) == -1)
		warn_line(s, why);
}

static void
json_event(struct serve *s, const char *p, size_t len)
{
	struct event_json ej;
	json_error_t jerr;
	json_t *root;
	const char *why;

	while (len > 0 &&
	    (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0)
		return; /* a blank line is no event */
	if ((root = json_loadb(p, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		msg_warnx("line %llu: invalid JSON: %s",
		    (unsigned long long)s->lineno, jerr.text);
		return;
	}
	if (!json_is_object(root)) {
		warn_line(s, "not a JSON object");
	} else {
		if ((why = event_json_decode(root, EVENT_JSON_LOOSE, &ej)) !=
		    NULL)
			warn_line(s, why);
		else if (json_object_get(root, "topic") != NULL)
			topic_event(s, root, &ej.ev);
		else
			emit(s, &ej.ev);
		event_json_release(&ej);
	}
	json_decref(root);
}

static void
one_line(struct serve *s, const char *p, size_t len)
{
	s->lineno++;
	if (s->input == IN_JSON)
		json_event(s, p, len);
	else
		line_event(s, p, len);
}

static int
sse_in_event(void *ctx, const struct sse_event *pev)
{
	struct serve *s = ctx;
	struct sse_event ev = *pev;

	s->lineno++;
	ev.retry = s->retry_in;
	s->retry_in = -1;
	emit(s, &ev);
	return 0;
}

static void
sse_in_retry(void *ctx, uint64_t ms)
{
	struct serve *s = ctx;

	s->retry_in = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

/*
 * Split a block into lines with memchr; a line that straddles two blocks
 * waits in scratch; a line longer than max_event is skipped with a
 * warning (skipping says we are inside one).
 */
static void
feed_lines(struct serve *s, const char *p, size_t n, bool *skipping)
{
	const char *end = p + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (!*skipping &&
			    sse_buf_add(&s->scratch, p, (size_t)(end - p)) ==
				-1) {
				too_long(s, s->lineno + 1);
				*skipping = true;
				sse_buf_reset(&s->scratch);
			}
			return;
		}
		s->lineno += *skipping;
		if (*skipping)
			*skipping = false;
		else if (s->scratch.len > 0) {
			if (sse_buf_add(&s->scratch, p, (size_t)(nl - p)) == -1)
				too_long(s, ++s->lineno);
			else
				one_line(s, s->scratch.p, s->scratch.len);
			sse_buf_reset(&s->scratch);
		} else if ((size_t)(nl - p) > s->max_event)
			too_long(s, ++s->lineno);
		else
			one_line(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

static void
end_of_input(struct serve *s, bool skipping)
{
	struct sse_event ev;
	bool end;

	if (s->input != IN_SSE && s->scratch.len > 0 && !skipping)
		one_line(s, s->scratch.p, s->scratch.len); /* no final LF */
	sse_buf_reset(&s->scratch);
	if (s->end_event != NULL) {
		sse_event_init(&ev);
		ev.type = s->end_event;
		ev.type_len = strlen(s->end_event);
		emit(s, &ev);
	}
	/* Publishing, the stream goes on after the input's end. */
	end = !s->publish || s->exit_on_eof;
	if (end && !s->ids && s->redis == NULL) {
		hub_flush(s, false); /* the events, on disk first */
		if (!s->journal_failed) {
			end_mark(s);
			hub_append(s, &s->batch, s->pend, s->npend, true);
		}
		s->npend = 0;
		sse_buf_reset(&s->batch);
	} else {
		hub_flush(s, end);
	}
	if (s->exit_on_eof)
		httpd_drain(s->h);
}

/*
 * SSE input past an oversized event: its remaining lines are dropped up to
 * the blank line that ends it. Returns how many bytes of buf that took
 * (all of them while still inside the event).
 */
static size_t
skip_event(struct serve *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (s->skip_cr && c == '\n') { /* the LF of a CRLF */
			s->skip_cr = false;
			continue;
		}
		s->skip_cr = c == '\r';
		if (c != '\n' && c != '\r') {
			s->skip_bol = false;
		} else if (s->skip_bol) {
			s->skip = false; /* a blank line: the event's end */
			return i + 1;
		} else {
			s->skip_bol = true;
		}
	}
	return len;
}

/* Feed SSE input; an oversized event is skipped, the rest is kept. */
static void
feed_sse(struct serve *s, const char *buf, size_t len)
{
	size_t off = 0, k;
	int rc;

	while (off < len) {
		if (s->skip) {
			off += skip_event(s, buf + off, len - off);
			continue;
		}
		rc = sse_parser_feed(&s->parser, buf + off, len - off);
		if (rc == SSE_OK)
			return;
		msg_warnx("event %llu: %s, skipped",
		    (unsigned long long)s->lineno + 1, sse_strerror(rc));
		k = sse_parser_taken(&s->parser);
		sse_parser_end(&s->parser);
		/*
		 * The failing line ends at or after k: skip to a blank line.
		 * Before k is a line end when the failing line was complete.
		 */
		off += k;
		s->skip = true;
		s->skip_cr = off > 0 && buf[off - 1] == '\r';
		s->skip_bol = s->skip_cr || (off > 0 && buf[off - 1] == '\n');
	}
}

/*
 * Read and take in what stdin holds now, up to about READ_BLOCK bytes of
 * events: one batch, so one write of the journal and one append to the
 * log (a pipe gives 64 KiB a read). Nothing waits for more to come.
 * Returns the bytes read, else read()'s 0 or -1.
 */
static ssize_t
read_batch(struct serve *s, char *buf)
{
	struct pollfd p = {0, POLLIN, 0};
	ssize_t n, total = 0;

	do {
		if ((n = read(0, buf, READ_BLOCK)) <= 0)
			break;
		serve_input_feed(s, buf, (size_t)n);
		total += n;
	} while (s->batch.len < READ_BLOCK && poll(&p, 1, 0) == 1);
	return total > 0 ? total : n;
}

void *
serve_input_main(void *arg)
{
	struct serve *s = arg;
	struct pollfd pfd[3];
	ssize_t n;
	char *buf;

	if (s->cmd.argv != NULL) {
		serve_cmd_run(s);
		return NULL;
	}
	if (s->input == IN_NONE) { /* --publish alone: no end of input */
		serve_pub_loop(s);
		return NULL;
	}
	if ((buf = malloc(READ_BLOCK)) == NULL) {
		msg_warnx("out of memory");
		end_of_input(s, false);
		return NULL;
	}
	pfd[0].fd = 0;
	pfd[0].events = POLLIN;
	pfd[1].fd = s->stopfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = s->publish ? s->pubfd : -1; /* -1: not watched */
	pfd[2].events = POLLIN;
	for (;;) {
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0 || s->journal_failed)
			goto stopped;
		if (pfd[2].revents != 0)
			serve_pub_take(s);
		if (pfd[0].revents == 0)
			continue;
		n = read_batch(s, buf);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			msg_warn("cannot read stdin");
		if (n <= 0)
			break;
		hub_flush(s, false);
		if (s->journal_failed)
			goto stopped; /* the producer blocks: it is told why */
	}
	end_of_input(s, s->skipping);
	if (s->publish && !s->exit_on_eof)
		serve_pub_loop(s); /* publishers go on */
stopped:
	free(buf);
	return NULL;
}

void
serve_input_feed(struct serve *s, const char *p, size_t n)
{
	if (s->input == IN_SSE)
		feed_sse(s, p, n);
	else
		feed_lines(s, p, n, &s->skipping);
}

int
serve_input_emit(struct serve *s, struct sse_event *ev)
{
	return emit_utf8(s, ev);
}

/* A run of the command ended: its last line, unended, is one; the next
 * run starts a new stream. */
void
serve_input_cut(struct serve *s)
{
	if (s->input != IN_SSE && s->scratch.len > 0 && !s->skipping)
		one_line(s, s->scratch.p, s->scratch.len);
	sse_buf_reset(&s->scratch);
	s->skipping = false;
	if (s->input == IN_SSE) {
		sse_parser_end(&s->parser);
		s->skip = false;
	}
}

void
serve_input_end(struct serve *s)
{
	end_of_input(s, s->skipping);
}

void
serve_input_init(struct serve *s)
{
	struct sse_parser_cb cb;

	s->retry_in = -1;
	sse_buf_init(&s->batch, 0);
	sse_buf_init(&s->scratch, s->max_event);
	memset(&cb, 0, sizeof(cb));
	cb.event = sse_in_event;
	cb.retry = sse_in_retry;
	cb.ctx = s;
	sse_parser_init(&s->parser, &cb, s->max_event);
}

void
serve_input_release(struct serve *s)
{
	sse_parser_release(&s->parser);
	sse_buf_release(&s->batch);
	sse_buf_release(&s->scratch);
	free(s->pend);
}
