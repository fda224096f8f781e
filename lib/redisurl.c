/* Redis URLs; see redisurl.h. */
#include <stdio.h>
#include <string.h>

#include "redisurl.h"

static int
fail(struct redis_url *u, const char *why)
{
	snprintf(u->err, sizeof(u->err), "%s", why);
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* [p, p + n) with %XX decoded into out (sz bytes); -1 if bad or long. */
static int
decode(const char *p, size_t n, char *out, size_t sz)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= sz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* "USER:PASSWORD", ":PASSWORD" or "PASSWORD" (as redis-cli reads it). */
static int
userinfo(struct redis_url *u, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t ulen = colon != NULL ? (size_t)(colon - p) : 0;
	const char *pw = colon != NULL ? colon + 1 : p;

	if (decode(p, ulen, u->user, sizeof(u->user)) == -1)
		return fail(u, "bad or too long user name");
	if (decode(pw, n - (size_t)(pw - p), u->password,
		sizeof(u->password)) == -1)
		return fail(u, "bad or too long password");
	u->has_password = true;
	return 0;
}

/* A decimal number in [min, max] spanning all of [p, p + n). */
static int
number(const char *p, size_t n, long min, long max, long *out)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_tcp(struct redis_url *u, const char *s)
{
	const char *end = s + strcspn(s, "/?#"), *at, *hp, *he, *colon;
	long v;

	if (*end == '?' || *end == '#')
		return fail(u, "unexpected '?' or '#'");
	at = memrchr(s, '@', (size_t)(end - s));
	if (at != NULL && userinfo(u, s, (size_t)(at - s)) == -1)
		return -1;
	hp = at != NULL ? at + 1 : s;
	if (*hp == '[') {
		if ((he = memchr(hp, ']', (size_t)(end - hp))) == NULL)
			return fail(u, "no ']' after an IPv6 address");
		colon = he + 1 < end ? he + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return fail(u, "unexpected text after ']'");
		hp++;
	} else {
		colon = memchr(hp, ':', (size_t)(end - hp));
		he = colon != NULL ? colon : end;
	}
	if (he == hp)
		return fail(u, "no host");
	if ((size_t)(he - hp) >= sizeof(u->host))
		return fail(u, "host name too long");
	memcpy(u->host, hp, (size_t)(he - hp));
	u->host[he - hp] = '\0';
	if (colon != NULL) {
		if (number(colon + 1, (size_t)(end - colon - 1), 1, 65535,
			&v) == -1)
			return fail(u, "bad port (1 to 65535)");
		u->port = (int)v;
	}
	if (*end == '/' && end[1] != '\0') {
		if (number(end + 1, strlen(end + 1), 0, 1000000, &u->db) == -1)
			return fail(u, "bad database number after '/'");
	}
	return 0;
}

static int
parse_unix(struct redis_url *u, const char *s)
{
	const char *path = s, *q, *at;
	long v;

	if (*s != '/') {
		if ((at = strchr(s, '@')) == NULL)
			return fail(
			    u, "the path must be absolute (unix:///PATH)");
		if (userinfo(u, s, (size_t)(at - s)) == -1)
			return -1;
		path = at + 1;
		if (*path != '/')
			return fail(
			    u, "the path must be absolute (unix:///PATH)");
	}
	q = path + strcspn(path, "?#");
	if (*q == '#')
		return fail(u, "unexpected '#'");
	if (*q == '?') {
		if (strncmp(q, "?db=", 4) != 0 ||
		    number(q + 4, strlen(q + 4), 0, 1000000, &v) == -1)
			return fail(u, "bad query (only ?db=N)");
		u->db = v;
	}
	if (q - path < 2)
		return fail(u, "no socket path");
	if ((size_t)(q - path) >= sizeof(u->path))
		return fail(u, "socket path too long");
	memcpy(u->path, path, (size_t)(q - path));
	u->path[q - path] = '\0';
	u->unix_socket = true;
	return 0;
}

int
redis_url_parse(struct redis_url *u, const char *s)
{
	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (strncmp(s, "redis://", 8) == 0)
		return parse_tcp(u, s + 8);
	if (strncmp(s, "unix://", 7) == 0)
		return parse_unix(u, s + 7);
	if (strncmp(s, "rediss://", 9) == 0)
		return fail(u, "rediss:// (TLS) is not supported");
	return fail(u, "not a redis:// or unix:// URL");
}

void
redis_url_show(const struct redis_url *u, char *out, unsigned long sz)
{
	const char *auth = u->has_password ? "***@" : "";
	char db[32] = "";

	if (u->unix_socket) {
		if (u->db > 0)
			snprintf(db, sizeof(db), "?db=%ld", u->db);
		snprintf(out, sz, "unix://%s%s%s", auth, u->path, db);
		return;
	}
	if (u->db > 0)
		snprintf(db, sizeof(db), "/%ld", u->db);
	snprintf(out, sz,
	    strchr(u->host, ':') ? "redis://%s[%s]:%d%s" : "redis://%s%s:%d%s",
	    auth, u->host, u->port, db);
}
