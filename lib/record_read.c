/*
 * The recording's event line, read without a JSON tree: the exact shape
 * sse_rec_event() writes, {"t":N,"event":S,"data":S[,"id":S][,"retry":N]},
 * which is nearly every line of a recording. Anything else (another order,
 * blanks, other keys, numbers or escapes this reader does not take, bytes
 * that are not UTF-8) is 0: the caller reads the line with a JSON library,
 * which also says what is wrong with a bad one. So this reader only ever
 * takes lines that the general one reads the same way (the fuzz target
 * fuzz_record checks that, against jansson).
 */
#include <string.h>

#include "record.h"
#include "scan.h"
#include "utf8.h"

struct span {
	size_t off, len; /* in the scratch buffer */
};

/* A JSON whole number >= 0 without leading zeros, at most 18 digits. */
static const char *
number(const char *p, const char *end, int64_t *v)
{
	const char *start = p;

	*v = 0;
	while (p < end && *p >= '0' && *p <= '9' && p - start < 18)
		*v = *v * 10 + (*p++ - '0');
	if (p == start || (p < end && *p >= '0' && *p <= '9') ||
	    (*start == '0' && p - start > 1))
		return NULL;
	return p;
}

static int
hex4(const char *p, const char *end, unsigned *u)
{
	int i, c;

	if (end - p < 4)
		return -1;
	for (*u = 0, i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		*u = *u << 4 | (unsigned)c;
	}
	return 0;
}

/* The UTF-8 bytes of cp at w; after them. */
static char *
put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*w++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * One escape after the backslash at p, its bytes written at *w (never
 * more than the escape's own); the new p, or NULL.
 */
static const char *
escape(const char *p, const char *end, char **w)
{
	unsigned cp, lo;

	if (++p >= end)
		return NULL;
	switch (*p) {
	case '"':
	case '\\':
	case '/':
		*(*w)++ = *p;
		return p + 1;
	case 'b':
		*(*w)++ = '\b';
		return p + 1;
	case 'f':
		*(*w)++ = '\f';
		return p + 1;
	case 'n':
		*(*w)++ = '\n';
		return p + 1;
	case 'r':
		*(*w)++ = '\r';
		return p + 1;
	case 't':
		*(*w)++ = '\t';
		return p + 1;
	case 'u':
		break;
	default:
		return NULL;
	}
	if (hex4(p + 1, end, &cp) == -1)
		return NULL;
	p += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return NULL; /* a lone low surrogate */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
		    hex4(p + 2, end, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return NULL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	*w = put_utf8(*w, cp);
	return p;
}

/* A byte that ends a run of a JSON string: '"', '\\' or a control. */
static inline bool
special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20;
}

/*
 * A JSON string at p (its opening quote), decoded into b; after it, or
 * NULL. Decoded bytes are never more than the quoted ones, so b has room
 * for them all (and 8 more) from the start: runs between escapes are
 * copied 8 bytes at a time, found with SWAR, with no call a run. The
 * bytes are checked as UTF-8 once, at the end, and only when one is not
 * ASCII: what escapes decode to is valid UTF-8 and starts no sequence
 * short, so the whole is valid exactly when every run is.
 */
static const char *
string(const char *p, const char *end, struct sse_buf *b, struct span *s)
{
	uint64_t w, m, hi = 0;
	unsigned char c;
	char *d, *start;

	if (p >= end || *p++ != '"' ||
	    sse_buf_room(b, (size_t)(end - p) + 8) == -1)
		return NULL;
	s->off = b->len;
	d = start = b->p + b->len;
	for (;;) {
		if (end - p >= 8) {
			memcpy(&w, p, 8);
			memcpy(d, &w, 8);
			hi |= w;
			/* '"', '\\', below 0x20: exact for the lowest */
			m = swar_eq(w, '"') | swar_eq(w, '\\') |
			    ((w - SSE_ONES * 0x20) & ~w & SSE_HIGHS);
			if (m == 0) {
				p += 8;
				d += 8;
				continue;
			}
			m = (uint64_t)__builtin_ctzll(m) >> 3;
			p += m;
			d += m;
		} else {
			while (p < end && !special(c = (unsigned char)*p)) {
				hi |= c;
				*d++ = (char)c;
				p++;
			}
		}
		if (p >= end || (unsigned char)*p < 0x20)
			return NULL;
		if (*p == '"')
			break;
		/* JSON in JSON: \" most of all, at once */
		if (end - p >= 2 && (p[1] == '"' || p[1] == '\\')) {
			*d++ = p[1];
			p += 2;
			continue;
		}
		if ((p = escape(p, end, &d)) == NULL)
			return NULL;
	}
	if ((hi & SSE_HIGHS) != 0 &&
	    !sse_utf8_valid(start, (size_t)(d - start)))
		return NULL;
	b->len = (size_t)(d - b->p);
	s->len = b->len - s->off;
	return p + 1;
}

/* The literal key (with its quotes and colon) at p; after it, or NULL. */
static const char *
key(const char *p, const char *end, const char *k)
{
	size_t n = strlen(k);

	return (size_t)(end - p) >= n && memcmp(p, k, n) == 0 ? p + n : NULL;
}

int
sse_rec_read_event(
    const char *p, size_t len, struct sse_rec_entry *e, struct sse_buf *scratch)
{
	const char *end = p + len, *q;
	struct span type, data, id = {0, 0};
	bool has_id = false;
	int64_t retry = -1;

	sse_buf_reset(scratch);
	memset(e, 0, sizeof(*e));
	if ((p = key(p, end, "{\"t\":")) == NULL ||
	    (p = number(p, end, &e->t)) == NULL ||
	    (p = key(p, end, ",\"event\":")) == NULL ||
	    (p = string(p, end, scratch, &type)) == NULL ||
	    (p = key(p, end, ",\"data\":")) == NULL ||
	    (p = string(p, end, scratch, &data)) == NULL)
		return 0;
	if ((q = key(p, end, ",\"id\":")) != NULL) {
		if ((p = string(q, end, scratch, &id)) == NULL)
			return 0;
		has_id = true;
	}
	if ((q = key(p, end, ",\"retry\":")) != NULL &&
	    (p = number(q, end, &retry)) == NULL)
		return 0;
	if (end - p != 1 || *p != '}')
		return 0;
	sse_event_init(&e->ev);
	e->kind = SSE_REC_EVENT;
	/* As the general reader does: an empty type is "message". */
	if (type.len > 0) {
		e->ev.type = scratch->p + type.off;
		e->ev.type_len = type.len;
	}
	e->ev.data = data.len ? scratch->p + data.off : "";
	e->ev.data_len = data.len;
	if (has_id) {
		e->ev.id = id.len ? scratch->p + id.off : "";
		e->ev.id_len = id.len;
		e->ev.has_id = true;
	}
	e->ev.retry = retry;
	return 1;
}
