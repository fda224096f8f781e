/*
 * Where a Redis server is, as `sse serve --redis URL` names it:
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]   TCP, port 6379 by default
 *   unix://[[USER]:PASSWORD@]/PATH[?db=DB]       a unix socket
 *
 * HOST may be a name, an IPv4 address or an IPv6 address in brackets
 * ("redis://[::1]:6379"). USER and PASSWORD may use %XX escapes (a ':' or
 * '@' in a password). rediss:// (TLS) is refused: hiredis as Debian builds
 * it has no TLS. Pure: errors are a reason in err, never printed.
 */
#ifndef SSE_REDISURL_H
#define SSE_REDISURL_H

#include <stdbool.h>

struct redis_url {
	bool unix_socket; /* path, not host and port */
	char host[256]; /* without brackets */
	int port;
	char path[108]; /* sun_path's size on Linux */
	char user[128]; /* "" for none (AUTH PASSWORD) */
	char password[256]; /* "" for none (no AUTH) */
	bool has_password;
	long db; /* SELECT DB when above 0 */
	char err[128]; /* why redis_url_parse() refused */
};

/* Returns 0, or -1 with u->err set ("no host", "bad port" ...). */
int redis_url_parse(struct redis_url *u, const char *s);

/*
 * The URL again for messages, with "***" for the user and password:
 * "redis://host:6379/2", "redis://[::1]:6379", "unix:///run/redis.sock".
 * Truncated to fit out.
 */
void redis_url_show(const struct redis_url *u, char *out, unsigned long sz);

#endif
