/*
 * --access-log lines: see accesslog.h.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "accesslog.h"
#include "json.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Whether the argument name k[0..n), %-decoded, has "token" in it. */
static int
is_token_name(const char *k, size_t n)
{
	char dec[64];
	size_t d = 0;

	for (size_t i = 0; i < n && d < sizeof(dec) - 1; i++) {
		if (k[i] == '%' && i + 2 < n && hexval(k[i + 1]) >= 0 &&
		    hexval(k[i + 2]) >= 0) {
			dec[d++] = (char)tolower(
			    hexval(k[i + 1]) * 16 + hexval(k[i + 2]));
			i += 2;
		} else {
			dec[d++] = (char)tolower((unsigned char)k[i]);
		}
	}
	dec[d] = '\0';
	return strstr(dec, "token") != NULL;
}

int
access_redact(struct sse_buf *out, const char *path)
{
	const char *q = strchr(path, '?'), *a, *end, *eq;

	if (q == NULL)
		return sse_buf_addstr(out, path);
	if (sse_buf_add(out, path, (size_t)(q + 1 - path)) == -1)
		return -1;
	for (a = q + 1; *a != '\0'; a = *end ? end + 1 : end) {
		end = a + strcspn(a, "&;");
		eq = memchr(a, '=', (size_t)(end - a));
		if (eq != NULL && is_token_name(a, (size_t)(eq - a))) {
			if (sse_buf_add(out, a, (size_t)(eq + 1 - a)) == -1 ||
			    sse_buf_addstr(out, "REDACTED") == -1)
				return -1;
		} else if (eq == NULL && is_token_name(a, (size_t)(end - a))) {
			if (sse_buf_addstr(out, "REDACTED") == -1)
				return -1;
		} else if (sse_buf_add(out, a, (size_t)(end - a)) == -1) {
			return -1;
		}
		if (*end != '\0' && sse_buf_addch(out, *end) == -1)
			return -1;
	}
	return 0;
}

int
access_log_line(struct sse_buf *out, const struct access_rec *r)
{
	struct sse_buf path = SSE_BUF_INIT;
	time_t t = (time_t)(r->time_ms / 1000);
	struct tm tm;
	char ts[32];
	int rc;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (access_redact(&path, r->path) == -1) {
		sse_buf_release(&path);
		return -1;
	}
	rc = sse_buf_addf(out, "{\"time\":\"%s.%03dZ\",\"peer\":", ts,
		 (int)(r->time_ms % 1000)) == -1 ||
	    sse_json_str(out, r->peer, strlen(r->peer)) == -1 ||
	    sse_buf_addstr(out, ",\"method\":") == -1 ||
	    sse_json_str(out, r->method, strlen(r->method)) == -1 ||
	    sse_buf_addstr(out, ",\"path\":") == -1 ||
	    sse_json_str(out, path.p != NULL ? path.p : "", path.len) == -1 ||
	    sse_buf_addf(out,
		",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%lld}\n",
		r->status, (unsigned long long)r->bytes,
		(long long)r->duration_ms) == -1;
	sse_buf_release(&path);
	return rc ? -1 : 0;
}
