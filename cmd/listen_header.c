/*
 * sse listen: the header callback. It decides, once the final header block
 * of a response is in, whether the connection is announced (status 200 and
 * an event stream) or failed, following the standard's EventSource: "if
 * res's status is not 200, or if res's `Content-Type` is not
 * `text/event-stream`, then fail the connection".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "listen.h"
#include "util.h"

void
listen_conn_reset(struct listen *l)
{
	l->status = 0;
	sse_buf_reset(&l->ctype);
	sse_buf_reset(&l->headers);
	l->location = false;
	l->opened = false;
	l->http_retry = false;
}

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim optional white space (and the CRLF of a header line) at both ends. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (ows(**s) || **s == '\r' || **s == '\n')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 &&
	    (ows((*s)[*n - 1]) || (*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n'))
		(*n)--;
}

static bool
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/*
 * Whether a Content-Type value is text/event-stream: the essence compared
 * without regard to case, parameters ignored, except that a charset other
 * than UTF-8 is refused, as Chromium's EventSource does (the stream is
 * always decoded as UTF-8). An empty charset is taken as none, as Chromium
 * takes it too.
 */
static bool
event_stream(const char *ct, size_t len)
{
	const char *semi, *p, *eqs;
	size_t n, vn;

	semi = memchr(ct, ';', len);
	n = semi ? (size_t)(semi - ct) : len;
	p = ct;
	trim(&p, &n);
	if (!eq(p, n, "text/event-stream"))
		return false;
	while (semi != NULL) {
		p = semi + 1;
		len -= (size_t)(p - ct);
		ct = p;
		semi = memchr(ct, ';', len);
		n = semi ? (size_t)(semi - ct) : len;
		trim(&p, &n);
		if ((eqs = memchr(p, '=', n)) == NULL)
			continue;
		vn = n - (size_t)(eqs + 1 - p);
		n = (size_t)(eqs - p);
		trim(&p, &n);
		if (!eq(p, n, "charset"))
			continue;
		p = eqs + 1;
		trim(&p, &vn);
		if (vn >= 2 && p[0] == '"' && p[vn - 1] == '"') {
			p++;
			vn -= 2;
		}
		if (vn > 0 && !eq(p, vn, "utf-8"))
			return false;
	}
	return true;
}

static const char *
url(const struct listen *l)
{
	return l->o->url;
}

/* The final header block is in: announce the connection or fail it. */
static bool
decide(struct listen *l)
{
	struct listen_conn c;
	const char *ct;
	int ctlen;
	char *final = NULL;

	if (l->status == 200 &&
	    event_stream(l->ctype.len ? l->ctype.p : "", l->ctype.len)) {
		l->opened = true;
		l->failures = 0;
		(void)curl_easy_getinfo(
		    l->easy, CURLINFO_EFFECTIVE_URL, &final);
		listen_log(l, "* connected to %s", final ? final : url(l));
		if (l->hooks.open != NULL) {
			memset(&c, 0, sizeof(c));
			c.url = url(l);
			c.final_url = final ? final : url(l);
			c.status = l->status;
			c.headers = l->headers.len ? l->headers.p : "";
			c.headers_len = l->headers.len;
			c.attempt = l->attempts;
			c.unix_ms = now_wall_ms();
			if (l->hooks.open(l->hooks.ctx, &c) != 0) {
				l->stop = EXIT_ERROR;
				return false;
			}
		}
		return true;
	}
	/* "Clients will reconnect if the connection is closed; a client can
	 * be told to stop reconnecting using the HTTP 204 No Content response
	 * code." */
	if (l->status == 204) {
		listen_log(l,
		    "* HTTP status 204: the server asks the client to "
		    "stop");
		l->stop = EXIT_OK;
		return false;
	}
	if (l->o->retry_http && l->o->reconnect &&
	    (l->status >= 500 || l->status == 429)) {
		l->http_retry = true;
		return false;
	}
	ct = listen_visible(l, l->ctype.p, l->ctype.len, &ctlen);
	if (l->status != 200)
		listen_fail(l, EXIT_HTTP,
		    "'%s' answered HTTP status %ld (content type '%.*s'), "
		    "not 200",
		    url(l), l->status, ctlen, ct);
	else
		listen_fail(l, EXIT_HTTP,
		    "'%s' answered content type '%.*s' (HTTP status %ld), not "
		    "text/event-stream",
		    url(l), ctlen, ct, l->status);
	return false;
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

static void
keep_header(struct listen *l, const char *s, size_t n)
{
	size_t len = n;
	const char *p = s;

	trim(&p, &len);
	if (l->headers.len + len + 2 <= LISTEN_MAX_HEADERS) {
		(void)sse_buf_add(&l->headers, p, len);
		(void)sse_buf_add(&l->headers, "\r\n", 2);
	}
}

size_t
listen_header_cb(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct listen *l = ctx;
	size_t n = size * nitems, vlen;
	const char *colon, *v;

	l->last_byte_ms = now_mono_ms();
	/* Trailers after the body, if any, change nothing. */
	if (l->opened)
		return n;
	v = buf;
	vlen = n;
	trim(&v, &vlen);
	if (vlen > 0)
		listen_show(l, "< ", v, vlen);
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A new response: an interim one, a redirect, or the last. */
		listen_conn_reset(l);
		l->status = status_code(buf, n);
		keep_header(l, buf, n);
		return n;
	}
	if ((n == 2 && buf[0] == '\r' && buf[1] == '\n') ||
	    (n == 1 && buf[0] == '\n')) {
		/* Interim responses and redirects that curl follows go on. */
		if (l->status >= 100 && l->status < 200)
			return n;
		if (l->status >= 300 && l->status < 400 && l->location)
			return n;
		return decide(l) ? n : 0;
	}
	keep_header(l, buf, n);
	if ((colon = memchr(buf, ':', n)) == NULL)
		return n;
	v = colon + 1;
	vlen = n - (size_t)(v - buf);
	trim(&v, &vlen);
	if (eq(buf, (size_t)(colon - buf), "Content-Type"))
		(void)sse_buf_set(&l->ctype, v, vlen);
	else if (eq(buf, (size_t)(colon - buf), "Location") && vlen > 0)
		l->location = true;
	return n;
}
