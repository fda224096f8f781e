/*
 * A multi-topic id ("b:EPOCH-7 a:EPOCH-5"): the token of one topic, from
 * ids serve sent and from anything a client may send instead.
 */
#include <string.h>

#include "tap.h"
#include "topic.h"

/* The id v gives topic name: want, or NULL for "not named". */
static void
id_of(const char *v, size_t vlen, const char *name, const char *want)
{
	const char *id = NULL;
	size_t len = 0;
	bool got = sse_topic_id(v, vlen, name, strlen(name), &id, &len);

	if (want == NULL) {
		ok(!got, "'%.*s' names no '%s'", (int)vlen, v, name);
		return;
	}
	ok(got && id >= v && id + len <= v + vlen,
	    "'%.*s' names '%s', within it", (int)vlen, v, name);
	if (got)
		is_mem(id, len, want, strlen(want), "its id");
}

#define ID(v, name, want) id_of(v, sizeof(v) - 1, name, want)

int
main(void)
{
	/* Ids as serve sends them. */
	ID("b:k3x9q2mz-7 a:k3x9q2mz-5", "b", "k3x9q2mz-7");
	ID("b:k3x9q2mz-7 a:k3x9q2mz-5", "a", "k3x9q2mz-5");
	ID("b:k3x9q2mz-7 a:k3x9q2mz-5", "c", NULL);
	ID("a:7", "a", "7");
	ID("a:k3x9q2mz-end", "a", "k3x9q2mz-end");
	/* A name that is another's prefix, or ends like it. */
	ID("ab:1 a:2", "a", "2");
	ID("ab:1 b:2", "b", "2");
	ID("xa:1", "a", NULL);
	/* The first token naming it wins; ids keep their ':'. */
	ID("a:1 a:2", "a", "1");
	ID("a:x:y", "a", "x:y");
	/* Malformed: never a crash, named or not as written. */
	ID("", "a", NULL);
	ID("a", "a", NULL);
	ID("a:", "a", "");
	ID(":a:1", "a", NULL);
	ID(" a:1", "a", "1");
	ID("a:1 ", "a", "1");
	ID("b:1  a:2", "a", "2");
	ID("   ", "a", NULL);
	ID("garbage", "a", NULL);
	ID("k3x9q2mz-5", "a", NULL);
	ID("a:1\0b:2", "b", NULL); /* a NUL is a byte as any other */
	ID("a:1 \0b:2", "a", "1");
	ok(!sse_topic_id(NULL, 0, "a", 1, &(const char *){NULL}, &(size_t){0}),
	    "no id names nothing");
	return done_testing();
}
