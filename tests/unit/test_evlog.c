/*
 * The event log: cursors, wrap-around spans, eviction by count and by
 * bytes, lost cursors, lookup by id (duplicates, eviction, collisions in
 * the index) and the backlog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evlog.h"
#include "tap.h"

/* Append "id: ID\ndata: DATA\n\n" indexed by ID. */
static int
add(struct evlog *l, const char *id, const char *data)
{
	char b[256];
	int n = snprintf(b, sizeof(b), "id: %s\ndata: %s\n\n", id, data);

	return evlog_append(l, b, (size_t)n, b + 4, strlen(id));
}

/*
 * Events 1..10000 (id and data the number, but the id of event odd is
 * "x<odd>") through a 50-event ring; after each event past from, the id
 * that just left is unknown and the oldest one kept is found. Returns how
 * many of those checks failed.
 */
static int
through_ring(struct evlog *l, int odd, int from)
{
	char id[32];
	uint64_t cur;
	int i, bad = 0;

	for (i = 1; i <= 10000; i++) {
		snprintf(id, sizeof(id), i == odd ? "x%d" : "%d", i);
		if (add(l, id, id) != 0)
			bad++;
		if (i <= from)
			continue;
		snprintf(id, sizeof(id), "%d", i - 50);
		if (evlog_find_id(l, id, strlen(id), &cur) != -1)
			bad++;
		snprintf(id, sizeof(id), "%d", i - 49);
		if (evlog_find_id(l, id, strlen(id), &cur) != 0)
			bad++;
	}
	return bad;
}

/* Everything from cursor, joined. */
static size_t
readall(const struct evlog *l, uint64_t cur, char *out, long long *rc)
{
	struct evlog_span s;

	*rc = evlog_read(l, cur, &s);
	if (*rc <= 0)
		return 0;
	memcpy(out, s.p[0], s.len[0]);
	if (s.len[1])
		memcpy(out + s.len[0], s.p[1], s.len[1]);
	return s.len[0] + s.len[1];
}

int
main(void)
{
	struct evlog l;
	struct evlog_span s;
	char out[4096], want[4096], id[32];
	uint64_t cur, c0;
	long long rc;
	size_t n, wn;
	int i;

	ok(evlog_init(&l, 0, 10) == -1, "zero events is refused");
	ok(evlog_init(&l, 4, 1000) == 0, "init");
	ok(evlog_read(&l, 0, &s) == 0 && evlog_count(&l) == 0,
	    "an empty log reads nothing");
	ok(evlog_find_id(&l, "1", 1, &cur) == -1, "an empty log knows no id");
	c0 = evlog_head(&l);
	ok(add(&l, "1", "a") == 0 && add(&l, "2", "b") == 0, "append two");
	n = readall(&l, c0, out, &rc);
	is_mem(out, n, "id: 1\ndata: a\n\nid: 2\ndata: b\n\n", 30,
	    "a reader gets all pending bytes at once, in order");
	ok(evlog_find_id(&l, "1", 1, &cur) == 0 && cur == 15,
	    "find_id gives the cursor just after that event");
	n = readall(&l, cur, out, &rc);
	is_mem(out, n, "id: 2\ndata: b\n\n", 15, "resume after id 1");
	ok(evlog_find_id(&l, "2", 1, &cur) == 0 && cur == evlog_head(&l),
	    "the newest id resumes at the head");
	ok(evlog_read(&l, evlog_head(&l), &s) == 0, "caught up: nothing");
	ok(evlog_read(&l, evlog_head(&l) + 1, &s) == EVLOG_LOST,
	    "a cursor past the head is refused");
	ok(evlog_find_id(&l, "3", 1, &cur) == -1, "an unknown id");
	ok(evlog_find_id(&l, "", 0, &cur) == -1, "the empty id is unknown");
	ok(evlog_append(&l, "x", 0, NULL, 0) == -1, "an empty append fails");
	ok(evlog_append(&l, "abc", 3, "zz", 2) == -1,
	    "an id outside the bytes is refused");

	/* Eviction by count: 4 events max. */
	add(&l, "3", "c");
	add(&l, "4", "d");
	add(&l, "5", "e");
	ok(evlog_count(&l) == 4, "the ring keeps max_events events");
	ok(evlog_read(&l, c0, &s) == EVLOG_LOST,
	    "a cursor on an evicted event is lost");
	ok(evlog_find_id(&l, "1", 1, &cur) == -1, "an evicted id is gone");
	ok(evlog_find_id(&l, "2", 1, &cur) == 0, "the oldest held id is found");
	n = readall(&l, evlog_backlog(&l, 2), out, &rc);
	is_mem(out, n, "id: 4\ndata: d\n\nid: 5\ndata: e\n\n", 30,
	    "backlog 2 starts two events back");
	ok(evlog_backlog(&l, 0) == evlog_head(&l), "backlog 0 is the head");
	ok(evlog_backlog(&l, 100) == l.tail, "a large backlog is the tail");
	evlog_release(&l);

	/* Eviction by bytes, and wrap-around into two spans. */
	ok(evlog_init(&l, 100, 40) == 0, "init a 40-byte ring");
	add(&l, "1", "aaaa"); /* 18 bytes */
	add(&l, "2", "bbbb"); /* 36 */
	cur = evlog_head(&l) - 18;
	add(&l, "3", "cccc"); /* evicts 1; wraps */
	ok(evlog_count(&l) == 2, "the byte cap evicts the oldest whole");
	rc = evlog_read(&l, cur, &s);
	ok(rc == 36 && s.len[1] > 0 && s.len[0] + s.len[1] == 36,
	    "bytes that wrap come back as two spans");
	n = readall(&l, cur, out, &rc);
	is_mem(out, n, "id: 2\ndata: bbbb\n\nid: 3\ndata: cccc\n\n", 36,
	    "and the two spans join up in order");
	ok(evlog_find_id(&l, "3", 1, &cur) == 0 && cur == evlog_head(&l),
	    "an id that straddles the wrap is found");
	ok(evlog_append(&l, out, 41, NULL, 0) == -1,
	    "an event larger than the ring is refused");
	ok(evlog_count(&l) == 2, "and changes nothing");
	evlog_release(&l);

	/* Duplicate ids: the newest wins; evicting the old one keeps it. */
	ok(evlog_init(&l, 3, 1000) == 0, "init");
	add(&l, "x", "1");
	add(&l, "x", "2");
	add(&l, "y", "3");
	ok(evlog_find_id(&l, "x", 1, &cur) == 0 && cur == 30,
	    "a duplicate id resumes after the newest event with it");
	add(&l, "z", "4"); /* evicts the first x */
	ok(evlog_find_id(&l, "x", 1, &cur) == 0 && cur == 30,
	    "evicting an older duplicate keeps the newer one indexed");
	evlog_release(&l);

	/* Many ids through a small ring: the index stays exact. */
	ok(evlog_init(&l, 50, 1 << 20) == 0, "init");
	ok(through_ring(&l, 0, 60) == 0,
	    "10000 events through a 50-event ring: index exact");
	for (i = 9951, wn = 0; i <= 10000; i++)
		wn += (size_t)snprintf(
		    want + wn, sizeof(want) - wn, "id: %d\ndata: %d\n\n", i, i);
	n = readall(&l, l.tail, out, &rc);
	is_mem(out, n, want, wn, "the ring holds exactly the last 50");
	evlog_release(&l);

	/* Flow control: nothing a reader at keep needs is evicted. */
	ok(evlog_init(&l, 3, 1000) == 0, "init");
	add(&l, "1", "a");
	cur = evlog_head(&l); /* a reader after event 1 */
	add(&l, "2", "b");
	add(&l, "3", "c");
	ok(evlog_append_keep(&l, "id: 4\ndata: d\n\n", 15, NULL, 0, cur) == 0,
	    "keep: evicting what the reader has read is allowed");
	ok(evlog_count(&l) == 3 && l.tail == cur, "only event 1 went");
	ok(evlog_append_keep(&l, "id: 5\ndata: e\n\n", 15, NULL, 0, cur) ==
		EVLOG_FULL,
	    "keep: evicting what the reader still needs is refused");
	ok(evlog_count(&l) == 3 && l.tail == cur && l.head == cur + 45,
	    "and nothing changed");
	n = readall(&l, cur, out, &rc);
	is_mem(out, n, "id: 2\ndata: b\n\nid: 3\ndata: c\n\nid: 4\ndata: d\n\n",
	    45, "the reader still gets everything it is owed");
	ok(evlog_append_keep(
	       &l, "id: 5\ndata: e\n\n", 15, NULL, 0, evlog_head(&l)) == 0,
	    "once it caught up, appends go on");
	ok(evlog_append_keep(
	       &l, "id: 6\ndata: f\n\n", 15, NULL, 0, UINT64_MAX) == 0 &&
		evlog_read(&l, cur, &s) == EVLOG_LOST,
	    "with no reader to keep, the oldest are evicted as before");
	evlog_release(&l);
	ok(evlog_init(&l, 100, 40) == 0, "init a 40-byte ring");
	cur = evlog_head(&l);
	add(&l, "1", "aaaa"); /* 18 bytes */
	add(&l, "2", "bbbb"); /* 36 */
	ok(evlog_append_keep(&l, "id: 3\ndata: cccc\n\n", 18, NULL, 0, cur) ==
		EVLOG_FULL,
	    "keep holds against the byte cap too");
	ok(evlog_append_keep(
	       &l, "id: 3\ndata: cccc\n\n", 18, NULL, 0, cur + 18) == 0 &&
		evlog_count(&l) == 2,
	    "and lets go of the bytes it read");
	evlog_release(&l);

	/* evlog_behind: history kept behind a reader, by events or bytes. */
	ok(evlog_init(&l, 10, 1000) == 0, "init");
	ok(evlog_behind(&l, 0, 2, 100) == 0,
	    "behind in an empty log: the tail");
	for (i = 1; i <= 6; i++) { /* events of 15 bytes: 0, 15, ... 75 */
		snprintf(id, sizeof(id), "%d", i);
		add(&l, id, "x");
	}
	ok(evlog_behind(&l, 45, 2, 1000) == 15,
	    "two events behind a cursor between events");
	ok(evlog_behind(&l, 50, 2, 1000) == 15,
	    "a cursor inside an event counts from that event");
	ok(evlog_behind(&l, evlog_head(&l), 2, 1000) == 60,
	    "two events behind the head");
	ok(evlog_behind(&l, 45, 10, 1000) == 0, "more events than held: tail");
	ok(evlog_behind(&l, 45, 10, 20) == 25, "bytes, when they are nearer");
	ok(evlog_behind(&l, 45, 1, 40) == 30, "events, when they are nearer");
	ok(evlog_behind(&l, 45, 0, 0) == 45, "nothing behind: the cursor");
	add(&l, "7", "x");
	add(&l, "8", "x");
	add(&l, "9", "x");
	add(&l, "10", "x");
	add(&l, "11", "x"); /* evicts 1: the tail is 15 */
	ok(evlog_behind(&l, 20, 0, 0) == 20 && evlog_behind(&l, 10, 0, 0) == 15,
	    "never below the tail");
	ok(evlog_append_keep(&l, "data: y\n\n", 9, NULL, 0,
	       evlog_behind(&l, 45, 1, 1000)) == 0 &&
		l.tail == 30 &&
		evlog_append_keep(&l, "data: y\n\n", 9, NULL, 0,
		    evlog_behind(&l, 45, 1, 1000)) == EVLOG_FULL,
	    "keep behind a reader: one event of slack is not evicted");
	evlog_release(&l);

	/* Rising numbers need no hash; anything else switches to it. */
	ok(evlog_init(&l, 6, 1000) == 0, "init");
	ok(evlog_append(&l, "data: q\n\n", 9, NULL, 0) == 0, "no id first");
	add(&l, "0", "a");
	ok(evlog_find_id(&l, "0", 1, &cur) == 0 && cur == 9 + 15,
	    "id 0 after an event without id");
	add(&l, "7", "b");
	ok(evlog_append(&l, "data: r\n\n", 9, NULL, 0) == 0, "no id between");
	add(&l, "12", "c");
	ok(!l.hashed, "rising numbers: no hash index");
	ok(evlog_find_id(&l, "7", 1, &cur) == 0 && cur == 39,
	    "a number is found, not the event without id after it");
	ok(evlog_find_id(&l, "12", 2, &cur) == 0 && cur == evlog_head(&l),
	    "the newest number resumes at the head");
	ok(evlog_find_id(&l, "8", 1, &cur) == -1 &&
		evlog_find_id(&l, "13", 2, &cur) == -1 &&
		evlog_find_id(&l, "07", 2, &cur) == -1 &&
		evlog_find_id(&l, "x", 1, &cur) == -1 &&
		evlog_find_id(&l, "", 0, &cur) == -1,
	    "numbers not held, a leading zero, a word: unknown");
	add(&l, "007", "d"); /* not a plain number: the hash takes over */
	ok(l.hashed, "an id with a leading zero switches to the hash");
	ok(evlog_find_id(&l, "7", 1, &cur) == 0 && cur == 39 &&
		evlog_find_id(&l, "12", 2, &cur) == 0 &&
		evlog_find_id(&l, "007", 3, &cur) == 0 &&
		cur == evlog_head(&l) && evlog_find_id(&l, "0", 1, &cur) == 0,
	    "and every id held is still found");
	add(&l, "13", "e"); /* evicts the first event (no id) */
	add(&l, "14", "f"); /* evicts 0 */
	ok(evlog_find_id(&l, "0", 1, &cur) == -1 &&
		evlog_find_id(&l, "14", 2, &cur) == 0,
	    "hashed: eviction unindexes what switched over");
	evlog_release(&l);

	ok(evlog_init(&l, 10, 1000) == 0, "init");
	add(&l, "5", "a");
	add(&l, "5", "b");
	ok(l.hashed && evlog_find_id(&l, "5", 1, &cur) == 0 &&
		cur == evlog_head(&l),
	    "a repeated number: the hash, and the newest wins");
	evlog_release(&l);
	ok(evlog_init(&l, 10, 1000) == 0, "init");
	add(&l, "9", "a");
	add(&l, "3", "b");
	add(&l, "10000000000000000000", "c"); /* 20 digits */
	ok(l.hashed && evlog_find_id(&l, "9", 1, &cur) == 0 && cur == 15 &&
		evlog_find_id(&l, "3", 1, &cur) == 0 &&
		evlog_find_id(&l, "10000000000000000000", 20, &cur) == 0,
	    "a smaller number: the hash, and both are found");
	evlog_release(&l);
	ok(evlog_init(&l, 10, 1000) == 0, "init");
	add(&l, "9999999999999999999", "a"); /* 19 digits: the largest */
	add(&l, "x", "b");
	ok(evlog_find_id(&l, "9999999999999999999", 19, &cur) == 0 && cur == 33,
	    "the largest number, found by number then by hash");
	evlog_release(&l);

	/* An id that wraps around the ring end is hashed at the switch. */
	ok(evlog_init(&l, 100, 60) == 0, "init a 60-byte ring");
	add(&l, "1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 48 bytes */
	add(&l, "123456789", "b"); /* evicts 1; its id wraps at 60 */
	ok(evlog_find_id(&l, "123456789", 9, &cur) == 0, "by number");
	add(&l, "y", "c");
	ok(l.hashed && evlog_find_id(&l, "123456789", 9, &cur) == 0 &&
		evlog_find_id(&l, "y", 1, &cur) == 0,
	    "a wrapped id is hashed and compared across the wrap");
	evlog_release(&l);

	/* Many non-numeric ids through a small ring: the hash stays exact. */
	ok(evlog_init(&l, 50, 1 << 20) == 0, "init");
	ok(through_ring(&l, 5000, 5060) == 0 && l.hashed,
	    "10000 events, switched to the hash half-way: index exact");
	evlog_release(&l);

	/* Events without ids are not indexed but are delivered. */
	ok(evlog_init(&l, 10, 100) == 0, "init");
	ok(evlog_append(&l, "data: q\n\n", 9, NULL, 0) == 0, "no id");
	n = readall(&l, 0, out, &rc);
	is_mem(out, n, "data: q\n\n", 9, "delivered");
	ok(evlog_find_id(&l, "data", 4, &cur) == -1, "not indexed");
	evlog_release(&l);
	/* Ids by number after a prefix ("EPOCH-N", serve's own). */
	ok(evlog_init(&l, 100, 1 << 16) == 0 &&
		evlog_set_prefix(&l, "ab12cd34-", 9) == 0,
	    "a prefix set before the first append");
	for (i = 1; i <= 150; i++) {
		snprintf(id, sizeof(id), "ab12cd34-%d", i);
		add(&l, id, "x");
	}
	ok(!l.hashed, "rising EPOCH-N ids need no hash index");
	ok(evlog_find_id(&l, "ab12cd34-120", 12, &cur) == 0 &&
		evlog_find_id(&l, "ab12cd34-150", 12, &c0) == 0 &&
		c0 == evlog_head(&l) && cur < c0,
	    "EPOCH-N ids are found by their number");
	ok(evlog_find_id(&l, "ab12cd34-50", 11, &cur) == -1,
	    "an evicted one is not");
	ok(evlog_find_id(&l, "ab12cd34-151", 12, &cur) == -1 &&
		evlog_find_id(&l, "zz12cd34-120", 12, &cur) == -1 &&
		evlog_find_id(&l, "120", 3, &cur) == -1 &&
		evlog_find_id(&l, "ab12cd34-0120", 13, &cur) == -1,
	    "nor one from the future, another epoch, without the prefix, "
	    "or with a leading zero");
	ok(evlog_set_prefix(&l, "x-", 2) == -1,
	    "the prefix cannot change once events are in");
	add(&l, "7", "producer");
	ok(l.hashed && evlog_find_id(&l, "7", 1, &cur) == 0 &&
		cur == evlog_head(&l) &&
		evlog_find_id(&l, "ab12cd34-150", 12, &cur) == 0,
	    "an id of another form switches to the hash index, and all "
	    "are still found");
	evlog_release(&l);

	return done_testing();
}
