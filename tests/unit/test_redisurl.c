/* Redis URLs: the forms sse serve --redis takes, and the ones it refuses. */
#include <string.h>

#include "redisurl.h"
#include "tap.h"

static void
good(const char *s, const char *show)
{
	struct redis_url u;
	char out[512];

	if (!ok(redis_url_parse(&u, s) == 0, "accepted: %s", s)) {
		printf("#   %s\n", u.err);
		return;
	}
	redis_url_show(&u, out, sizeof(out));
	is_mem(out, strlen(out), show, strlen(show), "shown without secrets");
}

static void
bad(const char *s, const char *why)
{
	struct redis_url u;

	ok(redis_url_parse(&u, s) == -1 && strstr(u.err, why) != NULL,
	    "refused: %s (%s)", s, why);
	if (strstr(u.err, why) == NULL)
		printf("#   got: %s\n", u.err);
}

int
main(void)
{
	struct redis_url u;

	good("redis://localhost", "redis://localhost:6379");
	good("redis://127.0.0.1:6390", "redis://127.0.0.1:6390");
	good("redis://127.0.0.1:6390/", "redis://127.0.0.1:6390");
	good("redis://h:1/3", "redis://h:1/3");
	good("redis://[::1]:7000", "redis://[::1]:7000");
	good("redis://[::1]", "redis://[::1]:6379");
	good("redis://:s3cret@h:7", "redis://***@h:7");
	good("unix:///tmp/r.sock", "unix:///tmp/r.sock");
	good("unix:///tmp/r.sock?db=2", "unix:///tmp/r.sock?db=2");
	good("unix://:pw@/tmp/r.sock", "unix://***@/tmp/r.sock");

	redis_url_parse(&u, "redis://:s3cret@h:7");
	ok(u.has_password && strcmp(u.password, "s3cret") == 0 &&
		u.user[0] == '\0' && strcmp(u.host, "h") == 0 && u.port == 7,
	    "':PASSWORD@': a password, no user");
	redis_url_parse(&u, "redis://bob:a%3Ab%40c@h");
	ok(strcmp(u.user, "bob") == 0 && strcmp(u.password, "a:b@c") == 0,
	    "USER:PASSWORD with %%XX escapes");
	redis_url_parse(&u, "redis://pw@h");
	ok(u.has_password && strcmp(u.password, "pw") == 0 && !u.user[0],
	    "no ':' in the user part: all of it is the password (redis-cli)");
	redis_url_parse(&u, "redis://p@ss@h");
	ok(strcmp(u.password, "p@ss") == 0 && strcmp(u.host, "h") == 0,
	    "the last '@' ends the user part");
	redis_url_parse(&u, "unix:///run/redis/redis.sock");
	ok(u.unix_socket && strcmp(u.path, "/run/redis/redis.sock") == 0 &&
		!u.has_password && u.db == 0,
	    "unix socket path");
	redis_url_parse(&u, "redis://h/15");
	ok(u.db == 15 && !u.unix_socket, "database number");

	bad("http://h", "not a redis:// or unix:// URL");
	bad("h:6379", "not a redis:// or unix:// URL");
	bad("rediss://h", "TLS");
	bad("redis://", "no host");
	bad("redis://:6379", "no host");
	bad("redis://h:0", "bad port");
	bad("redis://h:65536", "bad port");
	bad("redis://h:x", "bad port");
	bad("redis://h:", "bad port");
	bad("redis://h/x", "bad database");
	bad("redis://h?x=1", "unexpected");
	bad("redis://[::1", "no ']'");
	bad("redis://[::1]x", "after ']'");
	bad("redis://:%4@h", "bad or too long password");
	bad("redis://:%00@h", "bad or too long password");
	bad("unix://tmp/x", "absolute");
	bad("unix://", "absolute");
	bad("unix:///", "no socket path");
	bad("unix:///x?db=a", "bad query");
	bad("unix:///x?foo=1", "bad query");
	bad("unix:///"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "too long");
	return done_testing();
}
