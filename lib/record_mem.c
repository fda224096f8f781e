/*
 * A recording in memory (what `sse replay` plays) and the line framing of
 * its file as it is read; see record.h.
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"

void
sse_recording_init(struct sse_recording *rec)
{
	memset(rec, 0, sizeof(*rec));
	sse_buf_init(&rec->strings, 0);
}

int
sse_recording_set_request(struct sse_recording *rec, const char *url,
    size_t url_len, const char *method, size_t method_len)
{
	rec->url = rec->strings.len;
	rec->url_len = url_len;
	if (sse_buf_add(&rec->strings, url, url_len) == -1)
		return -1;
	rec->method = rec->strings.len;
	rec->method_len = method_len;
	return sse_buf_add(&rec->strings, method, method_len);
}

int
sse_recording_add_head(
    struct sse_recording *rec, int status, const char *line, size_t len)
{
	size_t *n;

	rec->status = status;
	if ((n = realloc(rec->head_lines, (rec->nhead + 1) * 2 * sizeof(*n))) ==
	    NULL)
		return -1;
	rec->head_lines = n;
	n[rec->nhead * 2] = rec->strings.len;
	n[rec->nhead * 2 + 1] = len;
	if (sse_buf_add(&rec->strings, line, len) == -1)
		return -1;
	rec->nhead++;
	return 0;
}

void
sse_recording_release(struct sse_recording *rec)
{
	free(rec->head_lines);
	rec->head_lines = NULL;
	rec->nhead = 0;
	rec->status = 0;
	free(rec->ev);
	rec->ev = NULL;
	rec->nev = rec->cap = rec->nevents = rec->nchunks = 0;
	rec->lastid = rec->lastid_len = 0;
	sse_buf_release(&rec->strings);
}

static int
store(struct sse_recording *rec, const char *s, size_t len, size_t *off)
{
	*off = rec->strings.len;
	return len == 0 ? 0 : sse_buf_add(&rec->strings, s, len);
}

static int
add_event(struct sse_recording *rec, struct sse_rec_item *e,
    const struct sse_event *ev)
{
	e->has_id = ev->has_id;
	if (ev->has_id) {
		if (store(rec, ev->id, ev->id_len, &rec->lastid) == -1)
			return -1;
		rec->lastid_len = ev->id_len;
	}
	if (store(rec, ev->type, ev->type_len, &e->type) == -1 ||
	    store(rec, ev->data, ev->data_len, &e->data) == -1)
		return -1;
	e->id = rec->lastid;
	e->id_len = rec->lastid_len;
	e->type_len = ev->type_len;
	e->data_len = ev->data_len;
	rec->nevents++;
	return 0;
}

int
sse_recording_add(struct sse_recording *rec, enum sse_rec_kind kind, int64_t t,
    const struct sse_event *ev)
{
	struct sse_rec_item *e, *nev;
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
	if (kind == SSE_REC_CHUNK) {
		if (store(rec, ev->data, ev->data_len, &e->data) == -1)
			return -1;
		e->data_len = ev->data_len;
		rec->nchunks++;
	} else if (kind == SSE_REC_EVENT && add_event(rec, e, ev) == -1)
		return -1;
	rec->nev++;
	return 0;
}

void
sse_recording_event(
    const struct sse_recording *rec, size_t i, struct sse_event *ev)
{
	const struct sse_rec_item *e = &rec->ev[i];
	const char *s = rec->strings.p ? rec->strings.p : "";

	sse_event_init(ev);
	if (e->kind == SSE_REC_RETRY) {
		ev->retry = e->retry;
		return;
	}
	if (e->kind == SSE_REC_CHUNK) {
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
sse_recording_find_id(
    const struct sse_recording *rec, const char *id, size_t len)
{
	const char *s = rec->strings.p;
	const struct sse_rec_item *e;
	size_t i;

	for (i = 0; i < rec->nev; i++) {
		e = &rec->ev[i];
		if (e->kind == SSE_REC_EVENT && e->has_id && e->id_len == len &&
		    (len == 0 || memcmp(s + e->id, id, len) == 0))
			return (long)i;
	}
	return -1;
}

void
sse_rec_lines_init(struct sse_rec_lines *l, size_t max)
{
	sse_buf_init(&l->pend, max);
	l->off = l->scan = 0;
}

void
sse_rec_lines_release(struct sse_rec_lines *l)
{
	sse_buf_release(&l->pend);
}

int
sse_rec_lines_add(struct sse_rec_lines *l, const char *p, size_t len)
{
	/* What was handed out goes: only the unfinished line stays. */
	if (l->off > 0) {
		memmove(l->pend.p, l->pend.p + l->off, l->pend.len - l->off);
		l->pend.len -= l->off;
		l->off = 0;
	}
	return sse_buf_add(&l->pend, p, len);
}

int
sse_rec_lines_next(struct sse_rec_lines *l, bool end, const char **line,
    size_t *len, bool *cut)
{
	size_t left = l->pend.len - l->off;
	char *p, *nl;

	*cut = false;
	if (left == 0)
		return 0; /* and pend.p may still be NULL */
	p = l->pend.p + l->off;
	if ((nl = memchr(p + l->scan, '\n', left - l->scan)) != NULL) {
		*line = p;
		*len = (size_t)(nl - p);
		l->off += *len + 1;
		l->scan = 0;
		return 1;
	}
	l->scan = left;
	if (!end)
		return 0;
	*line = p;
	*len = left;
	*cut = true;
	l->off = l->pend.len;
	l->scan = 0;
	return 1;
}

enum sse_rec_sniff
sse_rec_sniff(const char *p, size_t n, bool end)
{
	size_t i = 0;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	else if (n < 3 && !end && (n == 0 || (unsigned char)p[0] == 0xEF))
		return SSE_REC_MORE; /* a BOM may be coming */
	while (i < n && strchr(" \t\r\n", p[i]) != NULL)
		i++;
	if (i == n && !end)
		return SSE_REC_MORE;
	return i < n && p[i] == '{' ? SSE_REC_JSON : SSE_REC_PLAIN;
}
