/*
 * The EventSource client's rules (see eventsource.h): reading a response
 * head, accepting or failing it, and the reconnection delay.
 */
#include <string.h>
#include <strings.h>

#include "eventsource.h"

/* A Content-Type longer than this is kept cut (it cannot be accepted). */
#define CTYPE_MAX 4096

void
sse_es_response_init(struct sse_es_response *r)
{
	r->status = 0;
	r->location = false;
	sse_buf_init(&r->ctype, CTYPE_MAX);
}

void
sse_es_response_reset(struct sse_es_response *r)
{
	r->status = 0;
	r->location = false;
	sse_buf_reset(&r->ctype);
}

void
sse_es_response_release(struct sse_es_response *r)
{
	sse_buf_release(&r->ctype);
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
sse_es_trim(const char **s, size_t *n)
{
	while (*n > 0 && blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && blank((*s)[*n - 1]))
		(*n)--;
}

static bool
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* A parameter "name=value" of a Content-Type: a charset other than UTF-8? */
static bool
bad_charset(const char *p, size_t n)
{
	const char *eqs = memchr(p, '=', n);
	size_t vn;

	if (eqs == NULL)
		return false;
	vn = n - (size_t)(eqs + 1 - p);
	n = (size_t)(eqs - p);
	sse_es_trim(&p, &n);
	if (!eq(p, n, "charset"))
		return false;
	p = eqs + 1;
	sse_es_trim(&p, &vn);
	if (vn >= 2 && p[0] == '"' && p[vn - 1] == '"') {
		p++;
		vn -= 2;
	}
	/* An empty charset is taken as none, as Chromium takes it too. */
	return vn > 0 && !eq(p, vn, "utf-8");
}

bool
sse_es_event_stream(const char *ct, size_t len)
{
	const char *semi, *p;
	size_t n;

	semi = memchr(ct, ';', len);
	n = semi ? (size_t)(semi - ct) : len;
	p = ct;
	sse_es_trim(&p, &n);
	if (!eq(p, n, "text/event-stream"))
		return false;
	while (semi != NULL) {
		p = semi + 1;
		len -= (size_t)(p - ct);
		ct = p;
		semi = memchr(ct, ';', len);
		n = semi ? (size_t)(semi - ct) : len;
		if (bad_charset(p, n))
			return false;
	}
	return true;
}

/* The three digits after "HTTP/x ", or 0. */
static long
status_code(const char *s, size_t n)
{
	const char *sp = memchr(s, ' ', n);
	size_t i, left;
	long code = 0;

	if (sp == NULL)
		return 0;
	left = n - (size_t)(sp + 1 - s);
	for (i = 0; i < 3 && i < left; i++) {
		if (sp[1 + i] < '0' || sp[1 + i] > '9')
			return 0;
		code = code * 10 + (sp[1 + i] - '0');
	}
	return i == 3 ? code : 0;
}

enum sse_es_line
sse_es_response_line(struct sse_es_response *r, const char *s, size_t n)
{
	const char *colon, *v;
	size_t vlen;

	if (n >= 5 && memcmp(s, "HTTP/", 5) == 0) {
		sse_es_response_reset(r);
		r->status = status_code(s, n);
		return SSE_ES_STATUS;
	}
	if ((n == 2 && s[0] == '\r' && s[1] == '\n') ||
	    (n == 1 && s[0] == '\n'))
		return SSE_ES_END;
	if ((colon = memchr(s, ':', n)) == NULL)
		return SSE_ES_FIELD;
	v = colon + 1;
	vlen = n - (size_t)(v - s);
	sse_es_trim(&v, &vlen);
	if (eq(s, (size_t)(colon - s), "Content-Type"))
		(void)sse_buf_set(&r->ctype, v, vlen);
	else if (eq(s, (size_t)(colon - s), "Location") && vlen > 0)
		r->location = true;
	return SSE_ES_FIELD;
}

bool
sse_es_response_final(const struct sse_es_response *r)
{
	if (r->status >= 100 && r->status < 200)
		return false;
	return !(r->status >= 300 && r->status < 400 && r->location);
}

enum sse_es_verdict
sse_es_verdict(const struct sse_es_response *r, bool retry_http)
{
	if (r->status == 200 &&
	    sse_es_event_stream(r->ctype.len ? r->ctype.p : "", r->ctype.len))
		return SSE_ES_OPEN;
	if (r->status == 204)
		return SSE_ES_STOP;
	if (retry_http && (r->status >= 500 || r->status == 429))
		return SSE_ES_RETRY;
	return r->status != 200 ? SSE_ES_BAD_STATUS : SSE_ES_BAD_TYPE;
}

/*
 * After a connection that was open, the reconnection time exactly. After n
 * consecutive attempts that failed, a target of max(reconnection time,
 * 0.1 s) * 2^n, capped at cap_ms, with equal jitter (a random delay between
 * half the target and the target), and never less than the reconnection
 * time.
 */
int64_t
sse_es_reconnect_delay(
    uint64_t retry_ms, unsigned failures, uint64_t cap_ms, uint64_t rnd)
{
	uint64_t base = retry_ms, target, d;
	unsigned i;

	if (base > (UINT64_C(1) << 40))
		base = UINT64_C(1) << 40; /* 35 years is forever enough */
	if (failures == 0)
		return (int64_t)base;
	target = base > SSE_ES_BACKOFF_MIN_MS ? base : SSE_ES_BACKOFF_MIN_MS;
	for (i = 0; i < failures && target < cap_ms; i++)
		target *= 2;
	if (target > cap_ms)
		target = cap_ms;
	d = target / 2 + rnd % (target / 2 + 1);
	return (int64_t)(d > base ? d : base);
}
