/*
 * Recordings on disk. Reading: the whole file is loaded (a recording is
 * played many times: loops, one cursor per client), its kind told from its
 * first bytes, then each line parsed with jansson and checked by
 * lib/record.c. Writing: one write(2) per line, as each line is made.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "parser.h"
#include "record.h"
#include "recording.h"
#include "util.h"

/* Reading --------------------------------------------------------------- */

struct loader {
	struct recording *rec;
	const char *path;
	size_t line;
	int64_t retry; /* plain files: a retry field for the next event */
	struct sse_buf lastid;
	struct sse_buf scratch; /* chunk64 decoding */
	struct sse_rec_check check;
};

static int
load_error(const struct loader *l, const char *what)
{
	fprintf(
	    stderr, "sse: replay: '%s' line %zu: %s\n", l->path, l->line, what);
	return EXIT_STREAM;
}

static int
store(struct recording *rec, const char *s, size_t len, size_t *off)
{
	*off = rec->strings.len;
	return sse_buf_add(&rec->strings, s, len);
}

static int
push(
    struct loader *l, const struct sse_event *ev, enum rec_kind kind, int64_t t)
{
	struct recording *rec = l->rec;
	struct rec_event *e, *nev;
	size_t ncap;

	if (rec->nev == rec->cap) {
		ncap = rec->cap ? rec->cap * 2 : 256;
		if ((nev = realloc(rec->ev, ncap * sizeof(*nev))) == NULL)
			return -1;
		rec->ev = nev;
		rec->cap = ncap;
	}
	e = &rec->ev[rec->nev];
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->kind = kind;
	e->retry = ev->retry;
	if (kind == REC_CHUNK) {
		if (store(rec, ev->data, ev->data_len, &e->data) == -1)
			return -1;
		e->data_len = ev->data_len;
		rec->nchunks++;
	} else if (kind == REC_EVENT) {
		e->has_id = ev->has_id;
		if (ev->has_id && sse_buf_set(&l->lastid, ev->id, ev->id_len))
			return -1;
		if (store(rec, ev->type, ev->type_len, &e->type) == -1 ||
		    store(rec, ev->data, ev->data_len, &e->data) == -1 ||
		    store(rec, l->lastid.p, l->lastid.len, &e->id) == -1)
			return -1;
		e->type_len = ev->type_len;
		e->data_len = ev->data_len;
		e->id_len = l->lastid.len;
		rec->nevents++;
	}
	rec->nev++;
	return 0;
}

/* A plain text/event-stream file, through the parser. */
static int
plain_event(void *ctx, const struct sse_event *ev)
{
	struct loader *l = ctx;
	struct sse_event e = *ev;

	e.retry = l->retry;
	l->retry = -1;
	return push(l, &e, REC_EVENT, 0) == -1 ? -1 : 0;
}

static void
plain_retry(void *ctx, uint64_t ms)
{
	struct loader *l = ctx;

	l->retry = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

static const char *
get_str(json_t *o, const char *key, size_t *len, bool *wrong)
{
	json_t *v = json_object_get(o, key);

	*wrong = false;
	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		*wrong = true;
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

/* Take one JSON object apart into an entry; 0, or an error message. */
static const char *
to_entry(struct loader *l, json_t *o, struct sse_rec_entry *e)
{
	json_t *v, *h;
	const char *s;
	size_t len = 0, i;
	bool wrong;

	memset(e, 0, sizeof(*e));
	sse_event_init(&e->ev);
	if ((v = json_object_get(o, "format")) != NULL) {
		e->kind = SSE_REC_HEADER;
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), SSE_RECORD_FORMAT) != 0)
			return "not an sse recording (\"format\" is not "
			       "\"" SSE_RECORD_FORMAT "\")";
		if (!json_is_integer(v = json_object_get(o, "version")))
			return "\"version\" missing or not a whole number";
		e->version = json_integer_value(v);
		return NULL;
	}
	if (!json_is_integer(v = json_object_get(o, "t")))
		return v == NULL ? "\"t\" (the offset) missing"
				 : "\"t\" is not a whole number of "
				   "milliseconds";
	e->t = json_integer_value(v);
	if ((v = json_object_get(o, "open")) != NULL) {
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
	if ((v = json_object_get(o, "close")) != NULL) {
		e->kind = SSE_REC_CLOSE;
		if (!json_is_string(v))
			return "\"close\" is not a string";
		return NULL;
	}
	if ((s = get_str(o, "chunk", &len, &wrong)) != NULL || wrong) {
		e->kind = SSE_REC_CHUNK;
		if (wrong)
			return "\"chunk\" is not a string";
		e->text = s;
		e->text_len = len;
		return NULL;
	}
	if ((s = get_str(o, "chunk64", &len, &wrong)) != NULL || wrong) {
		e->kind = SSE_REC_CHUNK;
		sse_buf_reset(&l->scratch);
		if (wrong || sse_base64_decode(&l->scratch, s, len) == -1)
			return "\"chunk64\" is not base64";
		e->text = l->scratch.p;
		e->text_len = l->scratch.len;
		return NULL;
	}
	v = json_object_get(o, "retry");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return "\"retry\" is not a whole number >= 0";
	if (v != NULL)
		e->ev.retry = json_integer_value(v);
	if (json_object_get(o, "data") == NULL &&
	    json_object_get(o, "event") == NULL) {
		/* Only keys of a later version: skipped, as documented. */
		e->kind = v == NULL ? SSE_REC_OTHER : SSE_REC_RETRY;
		return NULL;
	}
	e->kind = SSE_REC_EVENT;
	if ((s = get_str(o, "data", &len, &wrong)) != NULL) {
		e->ev.data = s;
		e->ev.data_len = len;
	} else if (wrong)
		return "\"data\" is not a string";
	/* As the parser does: an empty type is "message". */
	if ((s = get_str(o, "event", &len, &wrong)) != NULL && len > 0) {
		e->ev.type = s;
		e->ev.type_len = len;
	} else if (wrong)
		return "\"event\" is not a string";
	if ((s = get_str(o, "id", &len, &wrong)) != NULL) {
		e->ev.id = s;
		e->ev.id_len = len;
		e->ev.has_id = true;
	} else if (wrong)
		return "\"id\" is not a string";
	return NULL;
}

static int
load_line(struct loader *l, const char *p, size_t len, bool last_no_lf)
{
	struct sse_rec_entry e;
	json_error_t jerr;
	const char *why;
	json_t *o;
	size_t i;
	int rc = 0;

	for (i = 0; i < len && strchr(" \t\r", p[i]) != NULL; i++)
		;
	if (i == len)
		return 0; /* blank lines are allowed: editing is */
	o = json_loadb(p, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		fprintf(
		    stderr, "sse: replay: '%s' line %zu: ", l->path, l->line);
		if (last_no_lf)
			fprintf(stderr,
			    "incomplete last line, the recording was cut "
			    "short (%s); delete the line to play the rest\n",
			    jerr.text);
		else
			fprintf(stderr, "bad JSON at column %d: %s\n",
			    jerr.column, jerr.text);
		return EXIT_STREAM;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return load_error(l, "not a JSON object");
	}
	if ((why = to_entry(l, o, &e)) == NULL &&
	    sse_rec_check(&l->check, &e) == -1)
		why = l->check.err;
	if (why != NULL)
		rc = load_error(l, why);
	else if (e.kind == SSE_REC_CHUNK) {
		e.ev.data = e.text;
		e.ev.data_len = e.text_len;
		if (push(l, &e.ev, REC_CHUNK, e.t) == -1)
			rc = load_error(l, "out of memory");
	} else if (e.kind == SSE_REC_EVENT || e.kind == SSE_REC_RETRY) {
		if (push(l, &e.ev,
			e.kind == SSE_REC_EVENT ? REC_EVENT : REC_RETRY,
			e.t) == -1)
			rc = load_error(l, "out of memory");
	}
	if (rc == 0 && e.kind != SSE_REC_HEADER)
		l->rec->end_t = e.t;
	json_decref(o);
	return rc;
}

/*
 * The file is read in blocks and taken in as it comes, never held whole:
 * what stays is the recording's own strings (see sse-replay(1)).
 */
#define LOAD_BLOCK (256 * 1024)

enum { KIND_UNKNOWN, KIND_JSON, KIND_PLAIN };

struct reader {
	struct loader *l;
	struct sse_parser parser; /* plain files */
	struct sse_buf pend; /* recordings: bytes of lines not yet whole */
	size_t scan; /* pend: how far it is known to hold no line end */
	int kind;
	bool started; /* past a BOM and leading whitespace: kind known */
	int rc;
};

/* Recordings: every whole line in pend; at the end, the rest. */
static int
json_lines(struct reader *r, bool end)
{
	struct loader *l = r->l;
	char *p = r->pend.p, *nl, *stop = p + r->pend.len;
	int rc;

	while ((nl = memchr(p + r->scan, '\n', (size_t)(stop - p) - r->scan)) !=
	    NULL) {
		l->line++;
		if ((rc = load_line(l, p, (size_t)(nl - p), false)) != 0)
			return rc;
		p = nl + 1;
		r->scan = 0;
	}
	if (end && p < stop) {
		l->line++;
		if ((rc = load_line(l, p, (size_t)(stop - p), true)) != 0)
			return rc;
		p = stop;
	}
	r->scan = (size_t)(stop - p);
	memmove(r->pend.p, p, (size_t)(stop - p));
	r->pend.len = (size_t)(stop - p);
	return 0;
}

static int
take(struct reader *r, const char *p, size_t len)
{
	int rc;

	if (r->kind == KIND_PLAIN) {
		rc = sse_parser_feed(&r->parser, p, len);
		if (rc != SSE_OK) {
			fprintf(stderr, "sse: replay: '%s': %s\n", r->l->path,
			    rc == SSE_ERR_ABORTED ? "out of memory"
						  : sse_strerror(rc));
			return EXIT_STREAM;
		}
		return 0;
	}
	if (sse_buf_add(&r->pend, p, len) == -1) {
		fprintf(stderr, "sse: replay: out of memory\n");
		return EXIT_ERROR;
	}
	return r->kind == KIND_JSON ? json_lines(r, false) : 0;
}

/*
 * Until the kind is known, bytes wait in pend: a recording starts with
 * '{' (after a BOM and whitespace); a text/event-stream never does in
 * practice, as '{' would begin a field name.
 */
static int
decide(struct reader *r, bool end)
{
	const char *p = r->pend.p;
	size_t i = 0, n = r->pend.len;
	int rc;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	else if (n < 3 && !end && (n == 0 || (unsigned char)p[0] == 0xEF))
		return 0; /* a BOM may be coming */
	while (i < n && strchr(" \t\r\n", p[i]) != NULL)
		i++;
	if (i == n && !end)
		return 0;
	r->started = true;
	if (i < n && p[i] == '{') {
		r->kind = KIND_JSON;
		r->l->rec->timed = true;
		sse_rec_check_init(&r->l->check);
		return json_lines(r, end);
	}
	r->kind = KIND_PLAIN;
	rc = n > 0 ? take(r, p, n) : 0;
	r->pend.len = 0;
	return rc;
}

static int
finish(struct reader *r)
{
	struct loader *l = r->l;
	struct sse_event ev;
	int rc;

	if (!r->started && (rc = decide(r, true)) != 0)
		return rc;
	if (r->kind == KIND_JSON) {
		if ((rc = json_lines(r, true)) != 0)
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
		if (push(l, &ev, REC_RETRY, 0) == -1)
			return EXIT_ERROR;
	}
	return 0;
}

static int
load_fd(struct reader *r, int fd)
{
	char *blk;
	ssize_t n;
	int rc = 0;

	if ((blk = malloc(LOAD_BLOCK)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		n = read(fd, blk, LOAD_BLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(blk);
			return -1;
		}
		if (n == 0)
			break;
		if (r->started) {
			rc = take(r, blk, (size_t)n);
		} else if (sse_buf_add(&r->pend, blk, (size_t)n) == -1) {
			fprintf(stderr, "sse: replay: out of memory\n");
			rc = EXIT_ERROR;
		} else {
			rc = decide(r, false);
		}
		if (rc != 0)
			break;
	}
	free(blk);
	r->rc = rc != 0 ? rc : finish(r);
	return 0;
}

int
recording_load(struct recording *rec, const char *path, size_t max_event)
{
	struct sse_parser_cb cb = {plain_event, plain_retry, NULL, NULL};
	struct reader r;
	struct loader l;
	int fd, rc;

	memset(rec, 0, sizeof(*rec));
	sse_buf_init(&rec->strings, 0);
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	memset(&l, 0, sizeof(l));
	l.rec = rec;
	l.path = strcmp(path, "-") == 0 ? "(stdin)" : path;
	l.retry = -1;
	sse_buf_init(&l.lastid, 0);
	sse_buf_init(&l.scratch, 0);
	memset(&r, 0, sizeof(r));
	r.l = &l;
	cb.ctx = &l;
	sse_parser_init(&r.parser, &cb, max_event);
	sse_buf_init(&r.pend, 0);
	if (fd == -1 || load_fd(&r, fd) == -1) {
		fprintf(stderr, "sse: replay: cannot read '%s': %s\n", path,
		    strerror(errno));
		rc = EXIT_ERROR;
	} else {
		rc = r.rc;
	}
	if (fd > 0)
		close(fd);
	sse_parser_release(&r.parser);
	sse_buf_release(&r.pend);
	sse_buf_release(&l.lastid);
	sse_buf_release(&l.scratch);
	if (rc != 0)
		recording_release(rec);
	return rc;
}

void
recording_release(struct recording *rec)
{
	free(rec->ev);
	rec->ev = NULL;
	rec->nev = rec->cap = rec->nevents = rec->nchunks = 0;
	sse_buf_release(&rec->strings);
}

void
recording_event(const struct recording *rec, size_t i, struct sse_event *ev)
{
	const struct rec_event *e = &rec->ev[i];
	const char *s = rec->strings.p ? rec->strings.p : "";

	sse_event_init(ev);
	if (e->kind == REC_RETRY) {
		ev->retry = e->retry;
		return;
	}
	if (e->kind == REC_CHUNK) {
		ev->data = s + e->data;
		ev->data_len = e->data_len;
		return;
	}
	ev->type = s + e->type;
	ev->type_len = e->type_len;
	ev->data = s + e->data;
	ev->data_len = e->data_len;
	ev->id = s + e->id;
	ev->id_len = e->id_len;
	ev->has_id = e->has_id;
	ev->retry = e->retry;
}

long
recording_find_id(const struct recording *rec, const char *id, size_t len)
{
	const char *s = rec->strings.p;
	size_t i;

	for (i = 0; i < rec->nev; i++) {
		const struct rec_event *e = &rec->ev[i];

		if (e->kind == REC_EVENT && e->has_id && e->id_len == len &&
		    (len == 0 || memcmp(s + e->id, id, len) == 0))
			return (long)i;
	}
	return -1;
}

/* Writing --------------------------------------------------------------- */

void
recorder_init(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->retry = -1;
	sse_buf_init(&r->line, 0);
}

/* Write the line buffer out whole, then empty it. */
static int
flush_line(struct recorder *r)
{
	size_t off = 0;
	ssize_t n;

	while (off < r->line.len) {
		n = write(r->fd, r->line.p + off, r->line.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sse_buf_reset(&r->line);
			return recorder_fail(r, strerror(errno));
		}
		off += (size_t)n;
	}
	sse_buf_reset(&r->line);
	return 0;
}

static bool
active(const struct recorder *r)
{
	return r->fd != -1 && !r->failed;
}

static int64_t
offset(const struct recorder *r)
{
	return now_mono_ms() - r->start;
}

int
recorder_fail(struct recorder *r, const char *why)
{
	fprintf(stderr, "sse: listen: cannot write recording '%s': %s\n",
	    r->path, why);
	r->failed = true;
	return -1;
}

/* A line could not be made (allocation): as good as a failed write. */
static int
made(struct recorder *r, int rc)
{
	if (rc == -1)
		return recorder_fail(r, "out of memory");
	return flush_line(r);
}

int
recorder_start(struct recorder *r, const char *path, const char *url)
{
	r->path = path;
	r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (r->fd == -1) {
		fprintf(stderr,
		    "sse: listen: cannot create recording '%s': %s\n", path,
		    strerror(errno));
		return -1;
	}
	r->start = now_mono_ms();
	return made(r, sse_rec_header(&r->line, url, now_wall_ms()));
}

int
recorder_response(
    struct recorder *r, int status, const char *const *headers, size_t n)
{
	if (!active(r))
		return r->failed ? -1 : 0;
	r->open = true;
	return made(r, sse_rec_open(&r->line, offset(r), status, headers, n));
}

int
recorder_event(struct recorder *r, const struct sse_event *ev)
{
	struct sse_event e = *ev;

	if (!active(r))
		return r->failed ? -1 : 0;
	e.retry = r->retry;
	r->retry = -1;
	return made(r, sse_rec_event(&r->line, offset(r), &e));
}

void
recorder_retry(struct recorder *r, uint64_t ms)
{
	r->retry = ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

int
recorder_chunk(struct recorder *r, const void *p, size_t len)
{
	if (!active(r))
		return r->failed ? -1 : 0;
	return made(r, sse_rec_chunk(&r->line, offset(r), p, len));
}

int
recorder_end(struct recorder *r, const char *reason)
{
	int64_t t;

	if (!active(r))
		return r->failed ? -1 : 0;
	r->open = false;
	t = offset(r);
	if (r->retry >= 0) {
		if (made(r, sse_rec_retry(&r->line, t, r->retry)) == -1)
			return -1;
		r->retry = -1;
	}
	return made(r, sse_rec_close(&r->line, t, reason));
}

void
recorder_finish(struct recorder *r, const char *reason)
{
	if (r->fd == -1)
		return;
	if (r->open)
		recorder_end(r, reason);
	close(r->fd);
	r->fd = -1;
	sse_buf_release(&r->line);
}
