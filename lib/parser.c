/*
 * The event stream parser: lines out of bytes, the hot loop. Rules quoted
 * from the WHATWG HTML Standard, section 9.2.5 "Parsing an event stream";
 * what each field does and dispatching an event ("Interpreting an event
 * stream", 9.2.6) are in parser_event.c. tests/unit/test_parser.c checks
 * each rule and names it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"
#include "parser_impl.h"
#include "scan.h"
#include "utf8.h"

static const char bom[] = "\xEF\xBB\xBF";

void
sse_parser_init(
    struct sse_parser *p, const struct sse_parser_cb *cb, size_t max_event)
{
	memset(p, 0, sizeof(*p));
	if (cb != NULL)
		p->cb = *cb;
	if (max_event == 0)
		max_event = SSE_DEFAULT_MAX_EVENT;
	p->max_event = max_event;
	p->default_retry = SSE_DEFAULT_RETRY_MS;
	p->max_data = SIZE_MAX;
	sse_buf_init(&p->line, max_event);
	sse_buf_init(&p->data, max_event);
	sse_buf_init(&p->type, max_event);
	sse_buf_init(&p->idbuf, max_event);
	sse_buf_init(&p->lastid, max_event);
	/* A repaired line can be three times longer than the bytes it came
	 * from. */
	sse_buf_init(
	    &p->utf8, max_event > SIZE_MAX / 3 ? SIZE_MAX : max_event * 3);
}

void
sse_parser_release(struct sse_parser *p)
{
	sse_buf_release(&p->line);
	sse_buf_release(&p->data);
	sse_buf_release(&p->type);
	sse_buf_release(&p->idbuf);
	sse_buf_release(&p->lastid);
	sse_buf_release(&p->utf8);
}

const char *
sse_strerror(int status)
{
	switch (status) {
	case SSE_OK:
		return "success";
	case SSE_ERR_TOO_BIG:
		return "event too large";
	case SSE_ERR_NOMEM:
		return "out of memory";
	case SSE_ERR_ABORTED:
		return "stopped by callback";
	case SSE_ERR_INVALID:
		return "invalid argument";
	}
	return "unknown error";
}

/* An error in sse_parser_feed: the bytes of buf before at were gone through. */
static int
failed_at(struct sse_parser *p, int err, const void *buf, const char *at)
{
	p->taken = (size_t)(at - (const char *)buf);
	return sse__fail(p, err);
}

/*
 * The raw bytes of an event: while the lines of an event block are exactly
 * what sse_serialize would write for it ("event: T" unless T is empty or
 * "message", then "id: I", then "data: D" lines, in that order, with one
 * space after each colon, LF line ends, nothing else, nothing repaired,
 * all in the caller's buffer), the block is kept as a span to hand out by
 * sse_parser_raw(), so that the raw format can copy it.
 */
static const unsigned char raw_next[5][5] = {
    /* kind:  START    EVENT      ID      DATA      NO */
    [RAW_START] = {RAW_NO, RAW_EVENT, RAW_ID, RAW_DATA, RAW_NO},
    [RAW_EVENT] = {RAW_NO, RAW_NO, RAW_ID, RAW_DATA, RAW_NO},
    [RAW_ID] = {RAW_NO, RAW_NO, RAW_NO, RAW_DATA, RAW_NO},
    [RAW_DATA] = {RAW_NO, RAW_NO, RAW_NO, RAW_DATA, RAW_NO},
    [RAW_NO] = {RAW_NO, RAW_NO, RAW_NO, RAW_NO, RAW_NO},
};

/* Forwards only (event, id, data), data lines repeated. */
static inline void
raw_line(struct sse_parser *p, const char *l, unsigned kind)
{
	p->blk = p->blk_state == RAW_START ? l : p->blk;
	p->blk_state = raw_next[p->blk_state][kind];
}

/*
 * A line that is not a blank line nor one of the common fields: a comment,
 * retry, an unknown field, or a field name without a colon.
 */
static int
line_other(struct sse_parser *p, const char *l, size_t n, bool in_input)
{
	const char *v;
	size_t i, k, vlen;

	p->blk_state = RAW_NO;
	/* "If the line starts with a U+003A COLON character": a comment. */
	if (l[0] == ':') {
		if (p->cb.comment != NULL)
			p->cb.comment(p->cb.ctx, l + 1, n - 1);
		return SSE_OK;
	}
	/*
	 * "If the line contains a U+003A COLON character": the field is what
	 * comes before the first colon, the value what comes after it, less
	 * one leading U+0020 SPACE. Otherwise the whole line is the field name
	 * and the value is the empty string.
	 *
	 * No field we know has a name longer than five characters, so only
	 * the first six bytes need looking at: a line with no colon there
	 * names an unknown field (or, if it is that short, is a name alone).
	 */
	k = n < 6 ? n : 6;
	for (i = 0; i < k && l[i] != ':'; i++)
		;
	if (i == k) {
		if (n > 5)
			return SSE_OK;
		return sse__field(p, l, n, "", 0, in_input);
	}
	v = l + i + 1;
	vlen = n - i - 1;
	if (vlen > 0 && *v == ' ') {
		v++;
		vlen--;
	}
	return sse__field(p, l, i, v, vlen, in_input);
}

/*
 * One decoded line, without its line end: blank lines and "data:", "id:"
 * and "event:" lines here, without calls; in_input: the line lies in the
 * caller's buffer (a blank line: l is its line end there).
 */
static inline __attribute__((always_inline)) int
line_known(struct sse_parser *p, const char *l, size_t n, bool in_input)
{
	const char *v;
	size_t vlen;
	int rc;

	if (n == 0)
		return sse__dispatch(p, in_input && *l == '\n' ? l : NULL);
	if (n >= 5 && memcmp(l, "data:", 5) == 0) {
		v = l + 5;
		vlen = n - 5;
		raw_line(p, l,
		    in_input && vlen > 0 && *v == ' ' ? RAW_DATA : RAW_NO);
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		if (p->data.len == 0 && p->dview == NULL && in_input) {
			p->dview = v;
			p->dview_len = vlen;
			return SSE_OK;
		}
		return sse__data(p, v, vlen, in_input);
	}
	if (n >= 3 && l[0] == 'i' && l[1] == 'd' && l[2] == ':') {
		v = l + 3;
		vlen = n - 3;
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		/* An id with NUL is ignored: not what the serializer writes. */
		rc = sse__id(p, v, vlen);
		raw_line(p, l,
		    in_input && n > 3 && l[3] == ' ' && p->id_seen ? RAW_ID
								   : RAW_NO);
		return rc;
	}
	if (n >= 6 && memcmp(l, "event:", 6) == 0) {
		v = l + 6;
		vlen = n - 6;
		raw_line(p, l,
		    in_input && vlen > 1 && *v == ' ' &&
			    !(vlen == 8 && memcmp(v, " message", 8) == 0)
			? RAW_EVENT
			: RAW_NO);
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		return sse__event_type(p, v, vlen);
	}
	return line_other(p, l, n, in_input);
}

/*
 * One line, without its line end, that may need the BOM stripped or UTF-8
 * decoding (ascii: it is known to be ASCII, so valid UTF-8).
 */
static int
line(struct sse_parser *p, const char *l, size_t n, bool ascii, bool in_input)
{
	int rc;

	/* The UTF-8 decode algorithm strips one leading BOM, at the start
	 * only. */
	if (!p->bom_done) {
		p->bom_done = true;
		if (n >= 3 && memcmp(l, bom, 3) == 0) {
			l += 3;
			n -= 3;
		}
	}
	if (n == 0)
		return sse__dispatch(p, NULL);
	/* UTF-8 decode: each maximal invalid subpart becomes U+FFFD. */
	if (!ascii) {
		if ((rc = sse_utf8_repair(l, n, &p->utf8)) == -1)
			return sse__fail(p, SSE_ERR_TOO_BIG);
		if (rc == 1) {
			l = p->utf8.p;
			n = p->utf8.len;
			in_input = false;
		}
	}
	return line_known(p, l, n, in_input);
}

/*
 * The most common event shape, a single "data: " line then the blank line
 * (LF, LF), in the caller's buffer and known to be ASCII: when l is the
 * first data line of its event, take it as line_known() would (a view, and
 * the raw span's state) and return true: the caller dispatches at once.
 */
static inline bool
one_data_line(struct sse_parser *p, const char *l, const char *eol)
{
	if (eol - l < 6 || memcmp(l, "data: ", 6) != 0 || p->dview != NULL ||
	    p->data.len != 0)
		return false;
	raw_line(p, l, RAW_DATA);
	p->dview = l + 6;
	p->dview_len = (size_t)(eol - l) - 6;
	return true;
}

/* Whether s[0..len) holds a NUL byte (ids are short: few loads). */
static inline bool
has_nul(const char *s, size_t len)
{
	const char *last;
	uint32_t a, b;
	uint64_t w;

	if (len >= 8) {
		for (last = s + len - 8; s < last; s += 8) {
			memcpy(&w, s, 8);
			if (swar_eq(w, '\0') != 0)
				return true;
		}
		memcpy(&w, last, 8);
		return swar_eq(w, '\0') != 0;
	}
	if (len >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		return swar_eq((uint64_t)a << 32 | b, '\0') != 0;
	}
	for (; len > 0; len--, s++)
		if (*s == '\0')
			return true;
	return false;
}

/*
 * Whether the line l..eol is "data: D" within lim bytes, ASCII (below hi)
 * and followed by the blank line (LF, LF), as in a run.
 */
static inline bool
run_data(
    const char *l, const char *eol, const char *end, const char *hi, size_t lim)
{
	return eol <= hi && end - eol >= 2 && eol[1] == '\n' && *eol == '\n' &&
	    eol - l >= 6 && (size_t)(eol - l) <= lim &&
	    memcmp(l, "data: ", 6) == 0;
}

/*
 * The line end after e, the one before it: lines of a run are taken in
 * order, so with SSE2 the lowest bit of the scanner's mask is e's, cleared
 * to find the next (cheaper than eolscan_next's search from a place).
 */
static inline __attribute__((always_inline)) const char *
next_eol(struct eolscan *sc, const char *e)
{
#ifdef __SSE2__
	(void)e;
	sc->mask &= sc->mask - 1;
	while (sc->mask == 0) {
		if (sc->end - sc->base <= 64)
			return sc->end;
		sc->base += 64;
		sc->mask = eol_mask64(sc->base, sc->end);
	}
	return sc->base + __builtin_ctzll(sc->mask);
#else
	return eolscan_next(sc, e + 1);
#endif
}

/*
 * Whether the line l..eol is "NAME V" (name: "event: " or "id: ", n its
 * length) with a value of at most lim bytes, ASCII (below hi), ending in
 * LF and followed by another line within the buffer.
 */
static inline bool
run_field(const char *l, const char *eol, const char *end, const char *hi,
    size_t lim, const char *name, size_t n)
{
	return eol <= hi && end - eol >= 2 && *eol == '\n' &&
	    (size_t)(eol - l) >= n && (size_t)(eol - l) <= lim &&
	    memcmp(l, name, n) == 0;
}

/*
 * One event of a run, from the line l (ending at e) on: where it ends (past
 * its blank line), or NULL if it is not of the shape; *id: its id's value
 * (*idlen bytes), NULL if it has no id line.
 */
static inline __attribute__((always_inline)) const char *
run_one(const struct sse_parser *p, struct eolscan *sc, const char *l,
    const char *e, const char *end, const char *hi, size_t lim, bool first,
    const char **type, size_t *tlen, const char **id, size_t *idlen,
    const char **data, bool *moved)
{
	*id = NULL;
	*tlen = 0;
	/* l is a whole line, so one byte at l can be read. */
	if (*l == 'e') {
		if (!run_field(l, e, end, hi, p->max_event, "event: ", 7) ||
		    e - l == 7 ||
		    (e - l == 14 && memcmp(l + 7, "message", 7) == 0))
			return NULL; /* empty or "message": no line for it */
		*type = l + 7;
		*tlen = (size_t)(e - *type);
		l = e + 1;
		e = next_eol(sc, e);
		*moved = true;
	}
	if (*l == 'i') {
		if (!run_field(l, e, end, hi, p->max_event, "id: ", 4))
			return NULL;
		*id = l + 4;
		*idlen = (size_t)(e - *id);
		if (has_nul(*id, *idlen))
			return NULL;
		l = e + 1;
		e = next_eol(sc, e);
		*moved = true;
	} else if (first && p->id_pending)
		return NULL;
	*data = l + 6;
	return run_data(l, e, end, hi, lim) ? e + 2 : NULL;
}

/*
 * For p->run, at the start of an event (RAW_START: no line of it seen, so
 * no field of it set): the events from the line s (ending at eol) on, as
 * long as each is what sse_serialize writes for it: "event: T\n" (T not
 * empty nor "message") if it has a type, "id: I\n" (I without NUL) if it
 * has an id field, "data: D\n", then the blank line, each within the caps;
 * hi: the first byte >= 0x80 at or after s. The first event has an id
 * line if an id-only block came before it (id_pending: it has has_id
 * set, which its bytes would not say). The last event ID is set to the
 * run's last I once the run has been handed over, so that the run
 * callback sees the one before it. Returns where the run ends (s if it is
 * empty), with *rc set.
 */
static inline __attribute__((always_inline)) const char *
data_run_as(struct sse_parser *p, struct eolscan *sc, const char *s,
    const char *eol, const char *end, const char *hi, int *rc, bool index)
{
	const char *start = s, *id = NULL, *next, *nid, *type = NULL, *data;
	size_t lim = p->max_event, n = 0, idlen = 0, nidlen = 0, tlen;
	size_t cap = index ? p->ridx_cap : SIZE_MAX;
	struct sse_run_event *x;
	bool moved = false;

	if (lim > 6 && p->max_data < lim - 6)
		lim = p->max_data + 6;
	*rc = SSE_OK;
	/* Events of data alone first, the most common, with the least to
	 * look at (not after an id-only block: see above). */
	if (!p->id_pending) {
		while (n < cap && run_data(s, eol, end, hi, lim)) {
			if (index) {
				x = &p->ridx[n];
				x->data = (size_t)(s - start) + 6;
				x->data_len = (size_t)(eol - s) - 6;
				x->type = x->type_len = 0;
				x->id = x->id_len = 0;
				x->has_id = false;
			}
			n++;
			if ((s = eol + 2) == end)
				goto done;
			/* Past the blank line's LF, to the next line's end. */
			eol = next_eol(sc, next_eol(sc, eol));
		}
	}
	while (n < cap) {
		moved = false;
		next = run_one(p, sc, s, eol, end, hi, lim, n == 0, &type,
		    &tlen, &nid, &nidlen, &data, &moved);
		if (next == NULL) {
			/* The scanner went past s: back to s. */
			if (moved)
				eolscan_init(sc, s, end);
			break;
		}
		if (nid != NULL) {
			id = nid;
			idlen = nidlen;
		}
		if (index) {
			x = &p->ridx[n];
			x->data = (size_t)(data - start);
			x->data_len = (size_t)(next - 2 - data);
			x->type = tlen > 0 ? (size_t)(type - start) : 0;
			x->type_len = tlen;
			x->has_id = nid != NULL;
			x->id = nid != NULL ? (size_t)(nid - start) : 0;
			x->id_len = nid != NULL ? nidlen : 0;
		}
		n++;
		if ((s = next) == end)
			break;
		eol = next_eol(sc, next_eol(sc, s - 2));
	}
done:
	if (n == 0)
		return start;
	/* Room for the run's last id before the run is handed over. */
	if (id != NULL && sse__set(p, &p->idbuf, id, idlen) != SSE_OK) {
		*rc = p->err;
		return start;
	}
	/* A line that starts "data: ", "id: " or "event: " has no BOM. */
	p->bom_done = true;
	p->nevents += n;
	p->id_pending = false;
	p->ridx_on = index;
	if (p->run(p->cb.ctx, start, (size_t)(s - start), n) != 0)
		*rc = sse__fail(p, SSE_ERR_ABORTED);
	p->ridx_on = false;
	/* The last id of the run is now the last event ID string. */
	if (id != NULL) {
		struct sse_buf t = p->lastid;

		p->lastid = p->idbuf;
		p->idbuf = t;
	}
	return s;
}

/* data_run_as() compiled twice: with no index, no index to write. */
static const char *
data_run(struct sse_parser *p, struct eolscan *sc, const char *s,
    const char *eol, const char *end, const char *hi, int *rc)
{
	if (p->ridx != NULL)
		return data_run_as(p, sc, s, eol, end, hi, rc, true);
	return data_run_as(p, sc, s, eol, end, hi, rc, false);
}

int
sse_parser_feed(struct sse_parser *p, const void *buf, size_t len)
{
	const char *s = buf, *end, *eol, *hi, *next;
	struct eolscan sc;
	int rc = SSE_OK;

	if (p->err != SSE_OK)
		return p->err;
	if (len == 0)
		return SSE_OK; /* buf may be NULL */
	end = s + len;
	p->nbytes += len;
	p->taken = len;
	/* A CRLF split across two feeds: the LF belongs to the CR already
	 * seen. */
	if (p->skip_lf) {
		p->skip_lf = false;
		if (*s == '\n' && ++s == end)
			return SSE_OK;
	}
	/* Lines end at CRLF, LF or CR. A line begun in an earlier feed is
	 * completed in p->line first. */
	if (p->line.len > 0) {
		eol = find_eol(s, end);
		if (sse_buf_add(&p->line, s, (size_t)(eol - s)) == -1)
			return failed_at(p, SSE_ERR_TOO_BIG, buf, s);
		if (eol == end)
			return SSE_OK;
		rc = line(p, p->line.p, p->line.len, false, false);
		sse_buf_reset(&p->line);
		s = eol + 1;
		if (*eol == '\r') {
			if (s == end)
				p->skip_lf = true;
			else if (*s == '\n')
				s++;
		}
		if (rc != SSE_OK)
			return failed_at(p, rc, buf, s);
	}
	hi = find_high(s, end);
	eolscan_init(&sc, s, end);
	while (s < end) {
		eol = eolscan_next(&sc, s);
		if ((size_t)(eol - s) > p->max_event)
			return failed_at(p, SSE_ERR_TOO_BIG, buf, s);
		if (eol == end) {
			if (sse_buf_add(&p->line, s, (size_t)(end - s)) == -1)
				return failed_at(p, SSE_ERR_TOO_BIG, buf, s);
			break;
		}
		if (hi < s)
			hi = find_high(s, end);
		if (p->run != NULL && p->blk_state == RAW_START &&
		    (next = data_run(p, &sc, s, eol, end, hi, &rc)) != s) {
			if (rc != SSE_OK)
				return rc;
			s = next;
			continue;
		}
		if (eol <= hi && p->bom_done && end - eol >= 2 &&
		    eol[1] == '\n' && *eol == '\n' &&
		    one_data_line(p, s, eol)) {
			/* The blank line is done with too. */
			s = eol + 2;
			if ((rc = sse__dispatch(p, eol + 1)) != SSE_OK)
				return rc;
			continue;
		}
		if (eol <= hi && p->bom_done)
			rc = line_known(p, s, (size_t)(eol - s), true);
		else
			rc = line(p, s, (size_t)(eol - s), eol <= hi, true);
		if (*eol == '\r') {
			/* The serializer ends lines with LF. */
			if (eol > s)
				p->blk_state = RAW_NO;
			s = eol + 1;
			if (s == end)
				p->skip_lf = true;
			else if (*s == '\n')
				s++;
		} else
			s = eol + 1;
		if (rc != SSE_OK)
			return failed_at(p, rc, buf, s);
	}
	/* The caller's buffer is about to go: keep a pending data line; an
	 * event begun here has no raw span. */
	if (p->blk_state != RAW_START)
		p->blk_state = RAW_NO;
	if (p->dview != NULL)
		return sse__materialize(p);
	return SSE_OK;
}

void
sse_parser_end(struct sse_parser *p)
{
	p->dview = NULL;
	p->blk_state = RAW_START;
	sse_buf_reset(&p->line);
	sse_buf_reset(&p->data);
	sse_buf_reset(&p->type);
	/*
	 * A new stream starts with the last event ID the client holds (the
	 * last event ID buffer is only read when an id field set it, so
	 * dropping that is enough).
	 */
	p->id_seen = false;
	p->bom_done = false;
	p->skip_lf = false;
	p->err = SSE_OK;
}

void
sse_parser_set_default_retry(struct sse_parser *p, uint64_t ms)
{
	p->default_retry = ms;
}

int
sse_parser_set_last_id(struct sse_parser *p, const char *id, size_t len)
{
	if (len > 0 &&
	    (memchr(id, '\0', len) != NULL || memchr(id, '\r', len) != NULL ||
		memchr(id, '\n', len) != NULL || !sse_utf8_valid(id, len)))
		return SSE_ERR_INVALID;
	if (sse_buf_set(&p->lastid, id, len) == -1)
		return SSE_ERR_TOO_BIG;
	return SSE_OK;
}

void
sse_parser_set_max_data(struct sse_parser *p, size_t max)
{
	p->max_data = max;
}

void
sse_parser_set_run(struct sse_parser *p,
    int (*run)(void *ctx, const char *raw, size_t len, size_t n))
{
	p->run = run;
}

void
sse_parser_set_run_index(
    struct sse_parser *p, struct sse_run_event *idx, size_t cap)
{
	p->ridx = cap > 0 ? idx : NULL;
	p->ridx_cap = cap;
}

const struct sse_run_event *
sse_parser_run_index(const struct sse_parser *p)
{
	return p->ridx_on ? p->ridx : NULL;
}

void
sse_parser_set_dropped(struct sse_parser *p,
    int (*dropped)(void *ctx, const char *type, size_t type_len))
{
	p->dropped = dropped;
}

const char *
sse_parser_raw(const struct sse_parser *p, size_t *len)
{
	*len = p->raw != NULL ? p->raw_len : 0;
	return p->raw;
}

const char *
sse_parser_last_id(const struct sse_parser *p, size_t *len)
{
	*len = p->lastid.len;
	return p->lastid.len ? p->lastid.p : "";
}

size_t
sse_parser_taken(const struct sse_parser *p)
{
	return p->taken;
}
