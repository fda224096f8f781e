/*
 * libFuzzer target for a recording's lines (sse replay reads files from
 * anywhere). Besides memory safety (ASan, UBSan) it checks, abort()ing on a
 * mismatch:
 *
 * - the reader without a JSON tree (sse_rec_read_event) takes a line only
 *   if jansson, as the general reader calls it, reads the same event from
 *   it: t, type (an empty one is "message"), data, id and retry;
 * - every event line sse_rec_event() writes (for an event cut from the
 *   input) is taken by it, and read back as that event;
 * - the line splitter (sse_rec_lines) hands out the input's lines, in
 *   order, whatever the pieces it is fed in.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sse_buf scratch, line;

static bool
same_str(json_t *v, const char *s, size_t n)
{
	return json_is_string(v) && json_string_length(v) == n &&
	    memcmp(json_string_value(v), s, n) == 0;
}

/* The fast reader took p[0..n): jansson must read the same event. */
static void
against_jansson(const char *p, size_t n, const struct sse_rec_entry *e)
{
	json_t *o =
	    json_loadb(p, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
	json_t *type, *id, *retry;

	if (!json_is_object(o) ||
	    json_integer_value(json_object_get(o, "t")) != e->t ||
	    !json_is_integer(json_object_get(o, "t")) ||
	    !same_str(json_object_get(o, "data"), e->ev.data, e->ev.data_len))
		abort();
	type = json_object_get(o, "event");
	if (!json_is_string(type) ||
	    (json_string_length(type) > 0
		    ? !same_str(type, e->ev.type, e->ev.type_len)
		    : e->ev.type_len != 7 || memcmp(e->ev.type, "message", 7)))
		abort();
	id = json_object_get(o, "id");
	if ((id != NULL) != e->ev.has_id ||
	    (id != NULL && !same_str(id, e->ev.id, e->ev.id_len)))
		abort();
	retry = json_object_get(o, "retry");
	if (retry != NULL ? !json_is_integer(retry) ||
		    json_integer_value(retry) != e->ev.retry
			  : e->ev.retry != -1)
		abort();
	json_decref(o);
}

/* An event cut from the input at its first two 0x01 bytes. */
static void
round_trip(const char *p, size_t n)
{
	const char *a = memchr(p, 1, n), *b;
	struct sse_event ev;
	struct sse_rec_entry e;

	sse_event_init(&ev);
	if (a == NULL)
		return;
	b = memchr(a + 1, 1, n - (size_t)(a + 1 - p));
	ev.type = p;
	ev.type_len = (size_t)(a - p);
	ev.data = a + 1;
	ev.data_len = b ? (size_t)(b - a - 1) : n - (size_t)(a + 1 - p);
	if (b != NULL) {
		ev.id = b + 1;
		ev.id_len = n - (size_t)(b + 1 - p);
		ev.has_id = true;
		ev.retry = (int64_t)n * 7;
	}
	/*
	 * What is recorded is an event the parser made, always UTF-8 (what
	 * is not is replaced on the way in); the writer's JSON repairs
	 * anything else, which then cannot read back as it was.
	 */
	if (!sse_utf8_valid(p, n))
		return;
	sse_buf_reset(&line);
	if (sse_rec_event(&line, (int64_t)n, &ev) == -1)
		return;
	if (sse_rec_read_event(line.p, line.len - 1, &e, &scratch) != 1 ||
	    e.t != (int64_t)n || e.ev.data_len != ev.data_len ||
	    memcmp(e.ev.data, ev.data, ev.data_len) != 0 ||
	    e.ev.has_id != ev.has_id || e.ev.retry != ev.retry ||
	    (ev.has_id &&
		(e.ev.id_len != ev.id_len ||
		    memcmp(e.ev.id, ev.id, ev.id_len) != 0)))
		abort();
	if (ev.type_len > 0 &&
	    (e.ev.type_len != ev.type_len ||
		memcmp(e.ev.type, ev.type, ev.type_len)))
		abort();
}

/* Lines fed whole and in pieces of a size from the data agree. */
static void
lines(const char *p, size_t n)
{
	struct sse_rec_lines whole, parts;
	const char *l1, *l2;
	size_t n1, n2, off = 0,
		       step = n ? (size_t)(unsigned char)p[0] % 7 + 1 : 1;
	bool c1, c2;
	struct sse_buf got;

	sse_buf_init(&got, 0);
	sse_rec_lines_init(&whole, 0);
	sse_rec_lines_init(&parts, 0);
	if (sse_rec_lines_add(&whole, p, n) == -1)
		abort();
	while (sse_rec_lines_next(&whole, true, &l1, &n1, &c1) == 1)
		if (sse_buf_add(&got, l1, n1) == -1 ||
		    sse_buf_addch(&got, '\n'))
			abort();
	for (; off < n; off += step) {
		if (sse_rec_lines_add(
			&parts, p + off, n - off < step ? n - off : step) == -1)
			abort();
		while (sse_rec_lines_next(&parts, false, &l2, &n2, &c2) == 1) {
			if (got.len < n2 + 1 || memcmp(got.p, l2, n2) != 0)
				abort();
			memmove(got.p, got.p + n2 + 1, got.len - n2 - 1);
			got.len -= n2 + 1;
		}
	}
	while (sse_rec_lines_next(&parts, true, &l2, &n2, &c2) == 1) {
		if (got.len < n2 + 1 || memcmp(got.p, l2, n2) != 0)
			abort();
		memmove(got.p, got.p + n2 + 1, got.len - n2 - 1);
		got.len -= n2 + 1;
	}
	if (got.len != 0)
		abort();
	sse_rec_lines_release(&whole);
	sse_rec_lines_release(&parts);
	sse_buf_release(&got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct sse_rec_entry e;

	if (sse_rec_read_event(p, size, &e, &scratch) == 1)
		against_jansson(p, size, &e);
	round_trip(p, size);
	lines(p, size);
	return 0;
}
