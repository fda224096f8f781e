/* struct sse_buf: growth, the hard cap, and printf-style appends. */
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct sse_buf b;
	int i, rc = 0;

	sse_buf_init(&b, 10);
	ok(sse_buf_add(&b, "hello", 5) == 0, "add within the cap");
	ok(sse_buf_add(&b, "world", 5) == 0, "add up to the cap exactly");
	is_mem(b.p, b.len, "helloworld", 10, "contents kept across growth");
	ok(sse_buf_addch(&b, '!') == -1, "one byte past the cap is refused");
	ok(b.len == 10, "a refused add changes nothing");
	sse_buf_reset(&b);
	ok(sse_buf_addf(&b, "%d-%s", 42, "x") == 0 && b.len == 4 &&
		memcmp(b.p, "42-x", 4) == 0,
	    "addf appends formatted text");
	ok(sse_buf_addf(&b, "%s", "0123456789") == -1 && b.len == 4,
	    "addf past the cap is refused and changes nothing");
	sse_buf_release(&b);

	sse_buf_init(&b, 0);
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = sse_buf_addch(&b, (char)('a' + i % 26));
	ok(rc == 0 && b.len == 100000 && b.p[99999] == 'a' + 99999 % 26,
	    "an uncapped buffer grows as needed");
	ok(sse_buf_set(&b, "xy", 2) == 0 && b.len == 2 && b.p[1] == 'y',
	    "set replaces the contents");
	sse_buf_release(&b);
	ok(b.p == NULL && b.len == 0, "release frees and empties");
	return done_testing();
}
