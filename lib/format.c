/*
 * Output formats for the client. A template is compiled once, at init, into
 * a list of literal spans and placeholders, so that formatting an event is a
 * walk over that list with no parsing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "format_impl.h"
#include "json.h"
#include "parser.h"
#include "record.h"
#include "scan.h"
#include "serialize.h"

enum op_kind {
	OP_LIT,
	OP_EVENT,
	OP_DATA,
	OP_ID,
	OP_TIME,
	OP_JSON,
	OP_PATH, /* {data.PATH}: the path is a span of tmpl->lit */
};

struct op {
	enum op_kind kind;
	size_t off, len; /* OP_LIT: span of tmpl->lit */
};

struct tmpl {
	struct op *ops;
	size_t nops;
	struct sse_buf lit;
};

static const struct {
	const char *name;
	enum op_kind kind;
} placeholders[] = {
    {"event", OP_EVENT},
    {"data", OP_DATA},
    {"id", OP_ID},
    {"time", OP_TIME},
    {"json", OP_JSON},
};

static const struct {
	const char *name;
	enum sse_format_kind kind;
} names[] = {
    {"raw", SSE_FMT_RAW},
    {"json", SSE_FMT_JSON},
    {"data", SSE_FMT_DATA},
    {"data0", SSE_FMT_DATA0},
    {"pretty", SSE_FMT_PRETTY},
};

static void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->ops);
	sse_buf_release(&t->lit);
	free(t);
}

static int
tmpl_push(struct tmpl *t, enum op_kind kind, size_t off, size_t len)
{
	struct op *o;

	/* Adjacent literal text is one span. */
	if (kind == OP_LIT && t->nops > 0 &&
	    t->ops[t->nops - 1].kind == OP_LIT) {
		t->ops[t->nops - 1].len += len;
		return 0;
	}
	if ((o = realloc(t->ops, (t->nops + 1) * sizeof(*o))) == NULL)
		return -1;
	t->ops = o;
	o[t->nops].kind = kind;
	o[t->nops].off = off;
	o[t->nops].len = len;
	t->nops++;
	return 0;
}

/* Append one literal byte to the template. */
static int
tmpl_lit(struct tmpl *t, char c)
{
	if (sse_buf_addch(&t->lit, c) == -1)
		return -1;
	return tmpl_push(t, OP_LIT, t->lit.len - 1, 1);
}

/* The escape after a backslash at *s: the character, or -1 after err. */
static int
tmpl_escape(const char **s, char *err, size_t errlen)
{
	char c = **s;

	if (c == '\0') {
		snprintf(err, errlen, "template ends with a lone '\\'");
		return -1;
	}
	(*s)++;
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case '\\':
		return '\\';
	}
	snprintf(err, errlen,
	    "unknown escape '\\%c' in template (use \\n, \\t or \\\\)", c);
	return -1;
}

/* The placeholder after a '{' at *s: 0, -1 after err, -2 out of memory. */
static int
tmpl_placeholder(struct tmpl *t, const char **s, char *err, size_t errlen)
{
	const size_t np = sizeof(placeholders) / sizeof(placeholders[0]);
	const char *close = strchr(*s, '}');
	size_t i, n;

	if (close == NULL) {
		snprintf(err, errlen,
		    "unterminated placeholder '{%s' in template", *s);
		return -1;
	}
	n = (size_t)(close - *s);
	if (n > 5 && memcmp(*s, "data.", 5) == 0) {
		if ((*s)[5] == '.' || (*s)[n - 1] == '.' ||
		    memmem(*s + 5, n - 5, "..", 2) != NULL) {
			snprintf(err, errlen,
			    "'{%.*s}': a path has no empty member names",
			    (int)(n > 200 ? 200 : n), *s);
			return -1;
		}
		/* The path is kept in lit, out of the literal spans' way. */
		i = t->lit.len;
		if (sse_buf_add(&t->lit, *s + 5, n - 5) == -1 ||
		    tmpl_push(t, OP_PATH, i, n - 5) == -1)
			return -2;
		*s = close + 1;
		return 0;
	}
	for (i = 0; i < np; i++)
		if (strlen(placeholders[i].name) == n &&
		    memcmp(placeholders[i].name, *s, n) == 0)
			break;
	if (i == np) {
		snprintf(err, errlen,
		    "unknown placeholder '{%.*s}' (known: {event}, {data}, "
		    "{data.PATH}, {id}, {time}, {json})",
		    (int)(n > 200 ? 200 : n), *s);
		return -1;
	}
	if (tmpl_push(t, placeholders[i].kind, 0, 0) == -1)
		return -2;
	*s = close + 1;
	return 0;
}

static struct tmpl *
tmpl_compile(const char *s, char *err, size_t errlen)
{
	struct tmpl *t;
	int c, r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	sse_buf_init(&t->lit, 0);
	while (*s != '\0') {
		c = *s++;
		if (c == '\\' && (c = tmpl_escape(&s, err, errlen)) == -1)
			goto fail;
		else if (c == '{' && *s == '{')
			s++;
		else if (c == '}' && *s++ != '}') {
			snprintf(err, errlen,
			    "single '}' in template (use '}}' for a literal "
			    "brace)");
			goto fail;
		} else if (c == '{') {
			if ((r = tmpl_placeholder(t, &s, err, errlen)) == -1)
				goto fail;
			if (r == -2)
				goto nomem;
			continue;
		}
		if (tmpl_lit(t, (char)c) == -1)
			goto nomem;
	}
	return t;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	tmpl_free(t);
	return NULL;
}

/* .PATH: the template {data.PATH}\n. */
static int
short_path(struct sse_format *f, const char *path, char *err, size_t errlen)
{
	struct sse_buf b;
	int rc = -1;

	sse_buf_init(&b, 0);
	if (strpbrk(path, "{}\\") != NULL)
		snprintf(err, errlen,
		    "'.%.200s': a path has no braces or "
		    "backslashes",
		    path);
	else if (sse_buf_addf(&b, "{data.%s}\\n", path) == -1)
		snprintf(err, errlen, "out of memory");
	else {
		f->kind = SSE_FMT_TEMPLATE;
		if ((f->tmpl = tmpl_compile(b.p, err, errlen)) != NULL)
			rc = 0;
	}
	sse_buf_release(&b);
	return rc;
}

int
sse_format_init(
    struct sse_format *f, const char *spec, char *err, size_t errlen)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->t_sec = INT64_MIN;
	if (errlen > 0)
		err[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(spec, names[i].name) == 0) {
			f->kind = names[i].kind;
			return 0;
		}
	}
	if (spec[0] == '.' && spec[1] != '\0')
		return short_path(f, spec + 1, err, errlen);
	if (strchr(spec, '{') == NULL) {
		snprintf(err, errlen,
		    "unknown format '%.200s' (expected raw, json, data, data0, "
		    "pretty or a template such as '{event}\\t{data}')",
		    spec);
		return -1;
	}
	f->kind = SSE_FMT_TEMPLATE;
	if ((f->tmpl = tmpl_compile(spec, err, errlen)) == NULL)
		return -1;
	return 0;
}

void
sse_format_release(struct sse_format *f)
{
	tmpl_free(f->tmpl);
	f->tmpl = NULL;
}

#define TIME_KEY ",\"time\":\""

/*
 * The json format's time member for unix_ms, its LF included
 * (f->tmember, f->t_len): the second's text is sse_rec_time()'s, made
 * once a second; the milliseconds are written into it when they change.
 * A time before 1970 is written as 1970 began, as sse_rec_time() does.
 * The second's text allocates (once a second).
 */
static void
json_time(struct sse_format *f, int64_t unix_ms)
{
	/* Out of memory, or a time gmtime(3) cannot take: the epoch. */
	const char *txt = "1970-01-01T00:00:00.000Z";
	size_t tlen = 24;
	struct sse_buf b;
	int64_t sec, ms;
	char *w;

	if (unix_ms == f->t_ms && f->t_sec != INT64_MIN)
		return;
	f->t_ms = unix_ms;
	if (unix_ms < 0)
		unix_ms = 0;
	sec = unix_ms / 1000;
	ms = unix_ms % 1000;
	if (sec != f->t_sec) {
		/* "...SS.mmmZ": the text up to the dot is the second's. */
		sse_buf_init(&b, 0);
		if (sse_rec_time(&b, sec * 1000) == 0 &&
		    b.len + sizeof(TIME_KEY) + 3 <= sizeof(f->tmember)) {
			txt = b.p;
			tlen = b.len;
		}
		w = f->tmember;
		memcpy(w, TIME_KEY, sizeof(TIME_KEY) - 1);
		w += sizeof(TIME_KEY) - 1;
		memcpy(w, txt, tlen);
		memcpy(w + tlen, "\"}\n", 3);
		f->t_len = (size_t)(w + tlen + 3 - f->tmember);
		f->t_sec = sec;
		sse_buf_release(&b);
	}
	/* The milliseconds: the three digits before Z"}\n. */
	w = f->tmember + f->t_len - 7;
	w[0] = (char)('0' + ms / 100);
	w[1] = (char)('0' + ms / 10 % 10);
	w[2] = (char)('0' + ms % 10);
}

/* The json format's object, one string at a time, near the buffer's cap. */
static int
add_json_tight(struct sse_buf *out, const struct sse_event *ev,
    const struct sse_format *f, bool nl)
{
	if (sse_buf_add(out, "{\"event\":", 9) == -1 ||
	    sse_json_str(out, ev->type, ev->type_len) == -1 ||
	    sse_buf_add(out, ",\"data\":", 8) == -1 ||
	    sse_json_str(out, ev->data, ev->data_len) == -1 ||
	    sse_buf_add(out, ",\"id\":", 6) == -1 ||
	    sse_json_str(out, ev->id, ev->id_len) == -1 ||
	    sse_buf_add(out, f->tmember, f->t_len - !nl) == -1)
		return -1;
	return 0;
}

/*
 * A JSON string at w: read in place when it lies in the run being
 * formatted (lo..lim), else copied first as sse_json_put() does.
 */
static inline __attribute__((always_inline)) char *
put_str(char *w, const char *s, size_t len, const char *lo, const char *lim)
{
	if (lim != NULL && (uintptr_t)s >= (uintptr_t)lo &&
	    (uintptr_t)s <= (uintptr_t)lim)
		return sse_json_put_in(w, s, len, lim);
	return sse_json_put(w, s, len);
}

#define JSON_MESSAGE "{\"event\":\"message\",\"data\":"

/*
 * {"event":..,"data":..,"id":..,"time":..}, then LF when nl, the time
 * member as json_time() made it: room for the worst case is asked for
 * once, then the strings are written with no checks.
 */
static inline __attribute__((always_inline)) int
add_json(struct sse_buf *out, const struct sse_event *ev,
    const struct sse_format *f, bool nl, const char *lo, const char *lim)
{
	size_t n = ev->type_len + ev->data_len + ev->id_len;
	char *w;

	/* Three strings' room (n counts 6 bytes each), 23 bytes around
	 * them, the time member. */
	if (n > (SIZE_MAX - 256) / 6 ||
	    sse_buf_room(out, SSE_JSON_ROOM(n) + 32 + SSE_FORMAT_TIME_MAX) ==
		-1)
		return add_json_tight(out, ev, f, nl);
	w = out->p + out->len;
	/* The most common type and id: known text, nothing to look at. */
	if (ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0) {
		memcpy(w, JSON_MESSAGE, sizeof(JSON_MESSAGE) - 1);
		w += sizeof(JSON_MESSAGE) - 1;
	} else {
		memcpy(w, "{\"event\":", 9);
		w = put_str(w + 9, ev->type, ev->type_len, lo, lim);
		memcpy(w, ",\"data\":", 8);
		w += 8;
	}
	w = put_str(w, ev->data, ev->data_len, lo, lim);
	if (ev->id_len == 0) {
		memcpy(w, ",\"id\":\"\"", 8);
		w += 8;
	} else {
		memcpy(w, ",\"id\":", 6);
		w = put_str(w + 6, ev->id, ev->id_len, lo, lim);
	}
	/* Copied whole (it fits the room asked for); LF or not. */
	memcpy(w, f->tmember, SSE_FORMAT_TIME_MAX);
	out->len = (size_t)(w - out->p) + f->t_len - !nl;
	return 0;
}

/* {time}: the json format's time text (ISO 8601, UTC, milliseconds). */
static int
add_time(struct sse_buf *out, struct sse_format *f, int64_t unix_ms)
{
	json_time(f, unix_ms);
	return sse_buf_add(out, f->tmember + sizeof(TIME_KEY) - 1,
	    f->t_len - (sizeof(TIME_KEY) - 1) - 3);
}

static int
add_template(struct sse_buf *out, struct sse_format *f,
    const struct sse_event *ev, int64_t unix_ms)
{
	const struct tmpl *t = f->tmpl;
	const struct op *o;
	int rc = 0;
	size_t i;

	for (i = 0; i < t->nops && rc == 0; i++) {
		o = &t->ops[i];
		switch (o->kind) {
		case OP_LIT:
			rc = sse_buf_add(out, t->lit.p + o->off, o->len);
			break;
		case OP_EVENT:
			rc = sse_buf_add(out, ev->type, ev->type_len);
			break;
		case OP_DATA:
			rc = sse_buf_add(out, ev->data, ev->data_len);
			break;
		case OP_ID:
			rc = sse_buf_add(out, ev->id, ev->id_len);
			break;
		case OP_TIME:
			rc = add_time(out, f, unix_ms);
			break;
		case OP_JSON:
			json_time(f, unix_ms);
			rc = add_json(out, ev, f, false, NULL, NULL);
			break;
		case OP_PATH:
			if (f->path_fn != NULL)
				rc = f->path_fn(f->path_ctx, t->lit.p + o->off,
				    o->len, ev, out);
			break;
		}
	}
	return rc;
}

int
sse_format_event(struct sse_format *f, struct sse_buf *out,
    const struct sse_event *ev, int64_t unix_ms)
{
	size_t old = out->len;
	int rc = 0;

	switch (f->kind) {
	case SSE_FMT_RAW:
		rc = sse_serialize(out, ev, NULL);
		break;
	case SSE_FMT_JSON:
		json_time(f, unix_ms);
		rc = add_json(out, ev, f, true, NULL, NULL) == -1;
		break;
	case SSE_FMT_DATA:
	case SSE_FMT_DATA0:
		if (sse_buf_room(out, ev->data_len + 1) == -1)
			return SSE_ERR_TOO_BIG;
		if (ev->data_len > 0)
			memcpy(out->p + out->len, ev->data, ev->data_len);
		out->len += ev->data_len;
		out->p[out->len++] = f->kind == SSE_FMT_DATA ? '\n' : '\0';
		return SSE_OK;
	case SSE_FMT_PRETTY:
		rc = sse__add_pretty(out, ev, unix_ms, f->color) == -1;
		break;
	case SSE_FMT_TEMPLATE:
		if (f->tmpl == NULL)
			return SSE_ERR_INVALID;
		rc = add_template(out, f, ev, unix_ms) == -1;
		break;
	default:
		return SSE_ERR_INVALID;
	}
	if (rc == 0)
		return SSE_OK;
	out->len = old;
	/* The serializer says why itself; everything else is the cap. */
	return rc < 0 ? rc : SSE_ERR_TOO_BIG;
}

bool
sse_format_runs(const struct sse_format *f)
{
	return f->kind == SSE_FMT_RAW || f->kind == SSE_FMT_JSON ||
	    f->kind == SSE_FMT_DATA || f->kind == SSE_FMT_DATA0;
}

/*
 * One event of a run (lo..lim). Short data is copied 32 bytes at once
 * when as many can be read and written; the rest is overwritten. JSON
 * strings in the run are read in place.
 */
static inline int
run_event(const struct sse_format *f, struct sse_buf *out,
    const struct sse_event *ev, const char *lo, const char *lim)
{
	size_t n = ev->data_len;
	char *w;

	if (f->kind == SSE_FMT_JSON)
		return add_json(out, ev, f, true, lo, lim);
	if (n <= 32 && lim - ev->data >= 32 && sse_buf_room(out, 33) == 0) {
		w = out->p + out->len;
		memcpy(w, ev->data, 32);
	} else {
		if (sse_buf_room(out, n + 1) == -1)
			return -1;
		w = out->p + out->len;
		memcpy(w, ev->data, n);
	}
	w[n] = f->kind == SSE_FMT_DATA ? '\n' : '\0';
	out->len += n + 1;
	return 0;
}

/*
 * The line ends of a run, taken in order, none skipped: with SSE2 the
 * lowest bit of a 64-byte block's mask, cleared as it is taken (cheaper
 * than asking for the first line end after a place).
 */
struct run_lines {
	struct eolscan sc;
	const char *at; /* without SSE2: where the next line starts */
};

static inline void
run_lines_init(struct run_lines *rl, const char *s, const char *end)
{
	eolscan_init(&rl->sc, s, end);
	rl->at = s;
}

/* The next CR or LF, or the end. */
static inline __attribute__((always_inline)) const char *
run_eol(struct run_lines *rl)
{
#ifdef __SSE2__
	struct eolscan *sc = &rl->sc;
	const char *e;

	while (sc->mask == 0) {
		if (sc->end - sc->base <= 64)
			return sc->end;
		sc->base += 64;
		sc->mask = eol_mask64(sc->base, sc->end);
	}
	e = sc->base + __builtin_ctzll(sc->mask);
	sc->mask &= sc->mask - 1;
	return e;
#else
	const char *e = eolscan_next(&rl->sc, rl->at);

	rl->at = e < rl->sc.end ? e + 1 : e;
	return e;
#endif
}

/*
 * A run's line at s that starts with name (n bytes): where it ends, the LF;
 * NULL if it does not start so or does not end in LF.
 */
static inline __attribute__((always_inline)) const char *
run_line(struct run_lines *rl, const char *s, const char *end, const char *name,
    size_t n)
{
	const char *e = run_eol(rl);

	if (e == end || *e != '\n' || (size_t)(e - s) < n ||
	    memcmp(s, name, n) != 0)
		return NULL;
	return e;
}

/*
 * What both run formatters do first: refuse a format that takes no runs,
 * copy a raw run whole (1: done), or stamp json's time and start ev at
 * the id from before the run (0: go on).
 */
static int
run_start(struct sse_format *f, struct sse_buf *out, const char *raw,
    size_t len, const char *id, size_t id_len, int64_t unix_ms,
    struct sse_event *ev)
{
	if (!sse_format_runs(f))
		return SSE_ERR_INVALID;
	if (f->kind == SSE_FMT_RAW)
		return sse_buf_add(out, raw, len) == -1 ? SSE_ERR_TOO_BIG : 1;
	if (f->kind == SSE_FMT_JSON)
		json_time(f, unix_ms);
	sse_event_init(ev);
	ev->id = id;
	ev->id_len = id_len;
	return 0;
}

/*
 * Each event of the run by its line ends, found 64 bytes at a time, not
 * parsed again; a line end that is a CR, or anything not of the shape,
 * makes the bytes invalid.
 */
int
sse_format_run(struct sse_format *f, struct sse_buf *out, const char *raw,
    size_t len, const char **id, size_t *id_len, int64_t unix_ms, size_t until,
    size_t *taken)
{
	const char *s = raw, *end = raw + len, *eol;
	size_t old = out->len;
	struct run_lines rl;
	struct sse_event ev;
	int r;

	*taken = 0;
	if ((r = run_start(f, out, raw, len, *id, *id_len, unix_ms, &ev)) !=
	    0) {
		*taken = r == 1 ? len : 0;
		return r == 1 ? SSE_OK : r;
	}
	run_lines_init(&rl, s, end);
	while (s < end) {
		ev.type = SSE_DEFAULT_TYPE;
		ev.type_len = sizeof(SSE_DEFAULT_TYPE) - 1;
		if (*s == 'e') {
			if ((eol = run_line(&rl, s, end, "event: ", 7)) == NULL)
				goto invalid;
			ev.type = s + 7;
			ev.type_len = (size_t)(eol - ev.type);
			s = eol + 1;
		}
		if (s < end && *s == 'i') {
			if ((eol = run_line(&rl, s, end, "id: ", 4)) == NULL)
				goto invalid;
			ev.id = s + 4;
			ev.id_len = (size_t)(eol - ev.id);
			s = eol + 1;
		}
		/* The data line, then the blank line. */
		if ((eol = run_line(&rl, s, end, "data: ", 6)) == NULL ||
		    run_eol(&rl) != eol + 1 || eol[1] != '\n')
			goto invalid;
		ev.data = s + 6;
		ev.data_len = (size_t)(eol - ev.data);
		s = eol + 2;
		if (run_event(f, out, &ev, raw, end) == -1) {
			out->len = old;
			return SSE_ERR_TOO_BIG;
		}
		if (until > 0 && out->len >= until)
			break;
	}
	*taken = (size_t)(s - raw);
	*id = ev.id;
	*id_len = ev.id_len;
	return SSE_OK;
invalid:
	out->len = old;
	return SSE_ERR_INVALID;
}

int
sse_format_run_index(struct sse_format *f, struct sse_buf *out, const char *raw,
    size_t len, const struct sse_run_event *idx, size_t n, const char **id,
    size_t *id_len, int64_t unix_ms, size_t until, size_t *done)
{
	const char *end = raw + len;
	size_t old = out->len, i;
	struct sse_event ev;
	int r;

	*done = 0;
	if ((r = run_start(f, out, raw, len, *id, *id_len, unix_ms, &ev)) !=
	    0) {
		*done = r == 1 ? n : 0;
		return r == 1 ? SSE_OK : r;
	}
	for (i = 0; i < n; i++) {
		ev.data = raw + idx[i].data;
		ev.data_len = idx[i].data_len;
		if (idx[i].type_len > 0) {
			ev.type = raw + idx[i].type;
			ev.type_len = idx[i].type_len;
		} else {
			ev.type = SSE_DEFAULT_TYPE;
			ev.type_len = sizeof(SSE_DEFAULT_TYPE) - 1;
		}
		if (idx[i].has_id) {
			ev.id = raw + idx[i].id;
			ev.id_len = idx[i].id_len;
		}
		if (run_event(f, out, &ev, raw, end) == -1) {
			out->len = old;
			return SSE_ERR_TOO_BIG;
		}
		if (until > 0 && out->len >= until) {
			i++;
			break;
		}
	}
	*done = i;
	*id = ev.id;
	*id_len = ev.id_len;
	return SSE_OK;
}
