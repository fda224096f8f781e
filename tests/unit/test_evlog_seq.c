/*
 * lib/evlog: evlog_seq_at, how many events lie wholly before a cursor
 * (serve's count of events sent, sse_events_out_total).
 */
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "tap.h"

static void
add(struct evlog *l, const char *data)
{
	char ev[64];
	int n = snprintf(ev, sizeof(ev), "data: %s\n\n", data);

	evlog_append(l, ev, (size_t)n, NULL, 0);
}

int
main(void)
{
	struct evlog l;
	uint64_t h0, h1;

	evlog_init(&l, 3, 1000);
	ok(evlog_seq_at(&l, 0) == 0, "an empty log: nothing before");
	add(&l, "a"); /* 9 bytes */
	h0 = evlog_head(&l);
	add(&l, "bb"); /* 10 bytes */
	h1 = evlog_head(&l);
	ok(evlog_seq_at(&l, 0) == 0, "the tail: nothing before");
	ok(evlog_seq_at(&l, h0) == 1, "after the first event: one");
	ok(evlog_seq_at(&l, h0 + 3) == 1, "inside the second: still one");
	ok(evlog_seq_at(&l, h1) == 2, "the head: all");
	add(&l, "c");
	add(&l, "d"); /* the first is evicted */
	ok(evlog_seq_at(&l, 0) == 1, "below the tail: those evicted");
	ok(evlog_seq_at(&l, h1) == 2, "a cursor still held: the same");
	ok(evlog_seq_at(&l, evlog_head(&l)) - evlog_seq_at(&l, h0) == 3,
	    "events taken between two cursors");
	evlog_release(&l);
	return done_testing();
}
