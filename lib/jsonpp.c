/*
 * JSON data shown indented and coloured by the pretty format: one pass that
 * checks the text is a JSON object or array (RFC 8259's grammar, nesting
 * at most JSONPP_DEPTH deep) while it writes it out again, a member or an
 * element a line. Text that is not JSON is left to the caller, untouched.
 */
#include <stdbool.h>
#include <string.h>

#include "format.h"
#include "jsonpp.h"
#include "utf8.h"

#define JSONPP_DEPTH 64

#define C_KEY "\033[34m"
#define C_STR "\033[32m"
#define C_NUM "\033[35m"
#define C_LIT "\033[36m"
#define C_OFF "\033[0m"

struct pp {
	const char *s, *end;
	struct sse_buf *out;
	const char *indent; /* before every line after the first */
	bool color;
	int depth;
	bool bad;
};

static void
ws(struct pp *p)
{
	while (p->s < p->end &&
	    (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static void
put(struct pp *p, const char *s, size_t n)
{
	if (sse_buf_add(p->out, s, n) == -1)
		p->bad = true;
}

static void
colored(struct pp *p, const char *c, const char *s, size_t n, bool visible)
{
	if (p->color)
		put(p, c, strlen(c));
	if (visible) {
		if (sse_format_visible(
			p->out, s, n, p->color ? c : NULL, NULL) == -1)
			p->bad = true;
	} else
		put(p, s, n);
	if (p->color)
		put(p, C_OFF, strlen(C_OFF));
}

static void
newline(struct pp *p)
{
	int i;

	put(p, "\n", 1);
	put(p, p->indent, strlen(p->indent));
	for (i = 0; i < p->depth; i++)
		put(p, "  ", 2);
}

/* A string token at p->s: its length with the quotes, or 0. */
static size_t
string_len(const struct pp *p)
{
	const char *s = p->s + 1;
	size_t n;

	if (p->s >= p->end || *p->s != '"')
		return 0;
	for (; s < p->end; s++) {
		if ((unsigned char)*s < 0x20)
			return 0;
		if (*s == '\\') {
			if (++s == p->end || strchr("\"\\/bfnrtu", *s) == NULL)
				return 0;
		} else if (*s == '"') {
			/* Shown as JSON only when each byte stays what it is:
			 * UTF-8 text without DEL (C1 controls become \u00NN). */
			n = (size_t)(s + 1 - p->s);
			return sse_utf8_valid(p->s, n) &&
				memchr(p->s, 0x7F, n) == NULL
			    ? n
			    : 0;
		}
	}
	return 0;
}

/* A number or a literal: its length, or 0. */
static size_t
scalar_len(const struct pp *p, bool *num)
{
	static const char *const lits[] = {"true", "false", "null"};
	const char *s = p->s;
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(lits[i]);
		if ((size_t)(p->end - s) >= n && memcmp(s, lits[i], n) == 0) {
			*num = false;
			return n;
		}
	}
	*num = true;
	if (s < p->end && *s == '-')
		s++;
	if (s == p->end || *s < '0' || *s > '9')
		return 0;
	while (s < p->end && strchr("0123456789.eE+-", *s) != NULL)
		s++;
	return (size_t)(s - p->s);
}

static void value(struct pp *p);

/* An object or array at p->s (its opening bracket). */
static void
container(struct pp *p)
{
	char close = *p->s == '{' ? '}' : ']';
	bool obj = close == '}', first = true;
	size_t n;

	if (++p->depth > JSONPP_DEPTH) {
		p->bad = true;
		return;
	}
	put(p, p->s++, 1);
	ws(p);
	while (!p->bad && p->s < p->end && *p->s != close) {
		if (!first) {
			if (*p->s != ',') {
				p->bad = true;
				return;
			}
			put(p, ",", 1);
			p->s++;
			ws(p);
		}
		first = false;
		newline(p);
		if (obj) {
			if ((n = string_len(p)) == 0) {
				p->bad = true;
				return;
			}
			colored(p, C_KEY, p->s, n, true);
			p->s += n;
			ws(p);
			if (p->s == p->end || *p->s != ':') {
				p->bad = true;
				return;
			}
			put(p, ": ", 2);
			p->s++;
			ws(p);
		}
		value(p);
		ws(p);
	}
	if (p->s == p->end) {
		p->bad = true;
		return;
	}
	p->depth--;
	if (!first)
		newline(p);
	put(p, p->s++, 1);
}

static void
value(struct pp *p)
{
	size_t n;
	bool num;

	if (p->s == p->end) {
		p->bad = true;
	} else if (*p->s == '{' || *p->s == '[') {
		container(p);
	} else if ((n = string_len(p)) > 0) {
		colored(p, C_STR, p->s, n, true);
		p->s += n;
	} else if ((n = scalar_len(p, &num)) > 0) {
		colored(p, num ? C_NUM : C_LIT, p->s, n, false);
		p->s += n;
	} else
		p->bad = true;
}

int
sse_json_pretty(struct sse_buf *out, const char *s, size_t len,
    const char *indent, bool color)
{
	struct pp p = {s, s + len, out, indent, color, 0, false};
	size_t old = out->len;

	ws(&p);
	if (p.s == p.end || (*p.s != '{' && *p.s != '['))
		return 1;
	container(&p);
	ws(&p);
	if (p.bad || p.s != p.end) {
		out->len = old;
		return 1;
	}
	return 0;
}
