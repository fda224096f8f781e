/*
 * The reader behind `sse replay`. The file is read in blocks and taken in
 * as it comes, never held whole: what stays is the recording's own strings
 * (see sse-replay(1)). Its kind is told from its first bytes; a recording's
 * event lines in the writer's own shape are read without a JSON tree
 * (lib/record_read.c), every other line is parsed with jansson and decoded
 * (cmd/event_json.c), and all are checked (lib/record.c); a plain
 * text/event-stream goes through the parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "event_json.h"
#include "msg.h"
#include "parser.h"
#include "record.h"
#include "recording.h"

/* Read this much at a time. */
#define LOAD_BLOCK (256 * 1024)

struct loader {
	struct sse_recording *rec;
	const char *path;
	size_t line;
	int64_t retry; /* plain files: a retry field for the next event */
	struct sse_buf scratch; /* chunk64 decoding, event lines' strings */
	struct sse_rec_check check;
	struct sse_parser parser; /* plain files */
	struct sse_rec_lines lines; /* recordings; before the kind is known */
	enum sse_rec_sniff kind;
	size_t max_event; /* the data of one event, 0 for no bound */
	size_t max_line; /* a recording's line, 0 for no bound */
};

static int
load_error(const struct loader *l, const char *what)
{
	msg_errx("'%s' line %zu: %s", l->path, l->line, what);
	return EXIT_STREAM;
}

/* A plain text/event-stream file, through the parser. */
static int
plain_event(void *ctx, const struct sse_event *ev)
{
	struct loader *l = ctx;
	struct sse_event e = *ev;

	e.retry = l->retry;
	l->retry = -1;
	return sse_recording_add(l->rec, SSE_REC_EVENT, 0, &e);
}

static void
plain_retry(void *ctx, uint64_t ms)
{
	struct loader *l = ctx;

	l->retry = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

/* The header line: format and version. */
static const char *
header_entry(json_t *o, json_t *v, struct sse_rec_entry *e)
{
	json_t *m = json_object_get(o, "method"),
	       *u = json_object_get(o, "url");

	e->kind = SSE_REC_HEADER;
	if (m != NULL && !json_is_string(m))
		return "\"method\" is not a string";
	if (u != NULL && !json_is_string(u))
		return "\"url\" is not a string";
	if (!json_is_string(v) ||
	    strcmp(json_string_value(v), SSE_RECORD_FORMAT) != 0)
		return "not an sse recording (\"format\" is not "
		       "\"" SSE_RECORD_FORMAT "\")";
	if (!json_is_integer(v = json_object_get(o, "version")))
		return "\"version\" missing or not a whole number";
	e->version = json_integer_value(v);
	return NULL;
}

static const char *
open_entry(json_t *o, json_t *v, struct sse_rec_entry *e)
{
	json_t *h;
	size_t i;

	e->kind = SSE_REC_OPEN;
	if (!json_is_integer(v) || json_integer_value(v) < 100 ||
	    json_integer_value(v) > 999)
		return "\"open\" is not an HTTP status";
	e->status = (int)json_integer_value(v);
	h = json_object_get(o, "headers");
	if (h != NULL && !json_is_array(h))
		return "\"headers\" is not an array";
	for (i = 0; h != NULL && i < json_array_size(h); i++)
		if (!json_is_string(json_array_get(h, i)))
			return "\"headers\" holds a non-string";
	return NULL;
}

/* "chunk" (a string) or "chunk64" (base64), if either is there. */
static const char *
chunk_entry(struct loader *l, json_t *o, struct sse_rec_entry *e, bool *is)
{
	json_t *v;

	*is = true;
	e->kind = SSE_REC_CHUNK;
	if ((v = json_object_get(o, "chunk")) != NULL) {
		if (!json_is_string(v))
			return "\"chunk\" is not a string";
		e->text = json_string_value(v);
		e->text_len = json_string_length(v);
		return NULL;
	}
	if ((v = json_object_get(o, "chunk64")) != NULL) {
		sse_buf_reset(&l->scratch);
		if (!json_is_string(v) ||
		    sse_base64_decode(&l->scratch, json_string_value(v),
			json_string_length(v)) == -1)
			return "\"chunk64\" is not base64";
		e->text = l->scratch.p;
		e->text_len = l->scratch.len;
		return NULL;
	}
	*is = false;
	return NULL;
}

/* Take one JSON object apart into an entry; NULL, or an error message. */
static const char *
to_entry(
    struct loader *l, json_t *o, struct sse_rec_entry *e, struct event_json *ej)
{
	const char *why;
	json_t *v;
	bool chunk;

	memset(e, 0, sizeof(*e));
	sse_event_init(&e->ev);
	if ((v = json_object_get(o, "format")) != NULL)
		return header_entry(o, v, e);
	if (!json_is_integer(v = json_object_get(o, "t")))
		return v == NULL ? "\"t\" (the offset) missing"
				 : "\"t\" is not a whole number of "
				   "milliseconds";
	e->t = json_integer_value(v);
	if ((v = json_object_get(o, "open")) != NULL)
		return open_entry(o, v, e);
	if ((v = json_object_get(o, "close")) != NULL) {
		e->kind = SSE_REC_CLOSE;
		return json_is_string(v) ? NULL : "\"close\" is not a string";
	}
	if ((why = chunk_entry(l, o, e, &chunk)) != NULL || chunk)
		return why;
	if ((why = event_json_decode(o, EVENT_JSON_ENTRY, ej)) != NULL)
		return why;
	e->ev = ej->ev;
	/* Only keys of a later version: skipped, as documented. */
	if (!ej->has_event)
		e->kind = ej->ev.retry < 0 ? SSE_REC_OTHER : SSE_REC_RETRY;
	else
		e->kind = SSE_REC_EVENT;
	return NULL;
}

/* The request (header) and the first response's head (open) are kept. */
static int
keep_request(struct loader *l, json_t *o, const struct sse_rec_entry *e)
{
	struct sse_recording *rec = l->rec;
	json_t *m, *u, *h;
	size_t i;

	if (e->kind == SSE_REC_HEADER) {
		m = json_object_get(o, "method");
		u = json_object_get(o, "url");
		return sse_recording_set_request(rec,
		    u ? json_string_value(u) : "",
		    u ? json_string_length(u) : 0,
		    m ? json_string_value(m) : "GET",
		    m ? json_string_length(m) : 3);
	}
	if (e->kind != SSE_REC_OPEN || rec->status != 0)
		return 0;
	rec->status = e->status;
	h = json_object_get(o, "headers");
	for (i = 0; h != NULL && i < json_array_size(h); i++)
		if (sse_recording_add_head(rec, e->status,
			json_string_value(json_array_get(h, i)),
			json_string_length(json_array_get(h, i))) == -1)
			return -1;
	return 0;
}

/* Past --max-event-size: exit 7, as sse listen. */
static int
too_big(const struct loader *l, const char *what)
{
	char m[160];

	snprintf(m, sizeof(m), "%s --max-event-size (%zu bytes)", what,
	    l->max_event);
	return load_error(l, m);
}

/* Keep what plays: events, lone retries, chunks. */
static int
keep(struct loader *l, struct sse_rec_entry *e)
{
	if (e->kind == SSE_REC_CHUNK) {
		e->ev.data = e->text;
		e->ev.data_len = e->text_len;
	} else if (e->kind != SSE_REC_EVENT && e->kind != SSE_REC_RETRY)
		return 0;
	if (l->max_event > 0 && e->ev.data_len > l->max_event)
		return too_big(l,
		    e->kind == SSE_REC_CHUNK ? "a chunk longer than"
					     : "an event's data longer than");
	if (sse_recording_add(l->rec, e->kind, e->t, &e->ev) == -1)
		return load_error(l, "out of memory");
	return 0;
}

static json_t *
parse_line(struct loader *l, const char *p, size_t len, bool cut)
{
	json_error_t jerr;
	json_t *o;

	o = json_loadb(p, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL && cut)
		msg_errx("'%s' line %zu: incomplete last line, the recording "
			 "was cut short (%s); delete the line to play the rest",
		    l->path, l->line, jerr.text);
	else if (o == NULL)
		msg_errx("'%s' line %zu: bad JSON at column %d: %s", l->path,
		    l->line, jerr.column, jerr.text);
	return o;
}

static int
load_line(struct loader *l, const char *p, size_t len, bool cut)
{
	struct sse_rec_entry e;
	struct event_json ej;
	const char *why;
	json_t *o;
	size_t i;
	int rc;

	if (l->max_line > 0 && len > l->max_line)
		return too_big(
		    l, "a line longer than any event could take with");
	/* Most lines are events in the writer's own shape: no JSON tree. */
	if (len > 0 && p[0] == '{' &&
	    sse_rec_read_event(p, len, &e, &l->scratch) == 1) {
		if (sse_rec_check(&l->check, &e) == -1)
			return load_error(l, l->check.err);
		if ((rc = keep(l, &e)) == 0)
			l->rec->end_t = e.t;
		return rc;
	}
	for (i = 0; i < len && strchr(" \t\r", p[i]) != NULL; i++)
		;
	if (i == len)
		return 0; /* blank lines are allowed: editing is */
	if ((o = parse_line(l, p, len, cut)) == NULL)
		return EXIT_STREAM;
	if (!json_is_object(o)) {
		json_decref(o);
		return load_error(l, "not a JSON object");
	}
	memset(&ej, 0, sizeof(ej));
	if ((why = to_entry(l, o, &e, &ej)) == NULL &&
	    sse_rec_check(&l->check, &e) == -1)
		why = l->check.err;
	rc = why != NULL ? load_error(l, why) : keep(l, &e);
	if (rc == 0 && keep_request(l, o, &e) == -1)
		rc = load_error(l, "out of memory");
	if (rc == 0 && e.kind != SSE_REC_HEADER)
		l->rec->end_t = e.t;
	event_json_release(&ej);
	json_decref(o);
	return rc;
}

/* Recordings: every whole line so far; at the end, the rest. */
static int
json_lines(struct loader *l, bool end)
{
	const char *p;
	size_t len;
	bool cut;
	int rc;

	while (sse_rec_lines_next(&l->lines, end, &p, &len, &cut) == 1) {
		l->line++;
		if ((rc = load_line(l, p, len, cut)) != 0)
			return rc;
	}
	/* A line with no end in sight is not read whole. */
	if (l->max_line > 0 && l->lines.pend.len - l->lines.off > l->max_line) {
		l->line++;
		return too_big(
		    l, "a line longer than any event could take with");
	}
	return 0;
}

static int
feed_plain(struct loader *l, const char *p, size_t len)
{
	int rc = sse_parser_feed(&l->parser, p, len);

	if (rc == SSE_OK)
		return 0;
	if (rc == SSE_ERR_TOO_BIG && l->max_event > 0) {
		msg_errx("'%s': an event or line longer than --max-event-size "
			 "(%zu bytes)",
		    l->path, l->max_event);
		return EXIT_STREAM;
	}
	msg_errx("'%s': %s", l->path,
	    rc == SSE_ERR_ABORTED ? "out of memory" : sse_strerror(rc));
	return EXIT_STREAM;
}

/* A block read: until the kind is known, bytes wait in lines. */
static int
take(struct loader *l, const char *p, size_t len, bool end)
{
	const char *held;
	size_t n;

	if (l->kind == SSE_REC_PLAIN)
		return feed_plain(l, p, len);
	if (sse_rec_lines_add(&l->lines, p, len) == -1) {
		msg_errx("out of memory");
		return EXIT_ERROR;
	}
	if (l->kind == SSE_REC_MORE) {
		held = l->lines.pend.p;
		n = l->lines.pend.len;
		l->kind = sse_rec_sniff(held, n, end);
		if (l->kind == SSE_REC_PLAIN) {
			l->lines.pend.len = 0;
			return n > 0 ? feed_plain(l, held, n) : 0;
		}
		if (l->kind == SSE_REC_MORE)
			return 0;
		l->rec->timed = true;
		sse_rec_check_init(&l->check);
	}
	return json_lines(l, end);
}

static int
finish(struct loader *l)
{
	struct sse_event ev;
	int rc;

	if (l->kind == SSE_REC_MORE && (rc = take(l, "", 0, true)) != 0)
		return rc;
	if (l->kind == SSE_REC_JSON) {
		if ((rc = json_lines(l, true)) != 0)
			return rc;
		if (!l->check.header_seen) {
			l->line = 1;
			return load_error(
			    l, "no header line (not a recording)");
		}
		return 0;
	}
	/* An event not ended by a blank line is not dispatched, as on the
	 * wire; a retry field at the end still counts. */
	if (l->retry >= 0) {
		sse_event_init(&ev);
		ev.retry = l->retry;
		if (sse_recording_add(l->rec, SSE_REC_RETRY, 0, &ev) == -1)
			return EXIT_ERROR;
	}
	return 0;
}

/* -1 when reading fails (errno set); else 0 and *rc the outcome. */
static int
load_fd(struct loader *l, int fd, int *rc)
{
	char *blk;
	ssize_t n;

	if ((blk = malloc(LOAD_BLOCK)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*rc = 0;
	for (;;) {
		n = read(fd, blk, LOAD_BLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(blk);
			return -1;
		}
		if (n == 0 || (*rc = take(l, blk, (size_t)n, false)) != 0)
			break;
	}
	free(blk);
	if (*rc == 0)
		*rc = finish(l);
	return 0;
}

int
recording_load(struct sse_recording *rec, const char *path, size_t max_event)
{
	struct sse_parser_cb cb = {plain_event, plain_retry, NULL, NULL};
	struct loader l;
	int fd, rc;

	sse_recording_init(rec);
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	memset(&l, 0, sizeof(l));
	l.rec = rec;
	l.path = strcmp(path, "-") == 0 ? "(stdin)" : path;
	l.retry = -1;
	l.kind = SSE_REC_MORE;
	l.max_event = max_event;
	/* JSON's escapes take 6 bytes for one at most, fields a few more. */
	l.max_line = max_event > 0 ? 6 * max_event + 4096 : 0;
	sse_buf_init(&l.scratch, 0);
	cb.ctx = &l;
	sse_parser_init(&l.parser, &cb, max_event);
	sse_rec_lines_init(&l.lines, 0);
	if (fd == -1 || load_fd(&l, fd, &rc) == -1) {
		msg_err("cannot read '%s'", path);
		rc = EXIT_ERROR;
	}
	if (fd > 0)
		close(fd);
	sse_parser_release(&l.parser);
	sse_rec_lines_release(&l.lines);
	sse_buf_release(&l.scratch);
	if (rc != 0)
		sse_recording_release(rec);
	return rc;
}
