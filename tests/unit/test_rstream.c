/*
 * The stream in Redis without a connection: events to entry fields and
 * back, entry ids, the epoch record, gaps and epoch changes as a reader
 * meets them, and the reconnect backoff.
 */
#include <string.h>

#include "rstream.h"
#include "tap.h"

static int
same_event(const struct sse_event *a, const struct sse_event *b)
{
	return a->type_len == b->type_len &&
	    memcmp(a->type, b->type, a->type_len) == 0 &&
	    a->data_len == b->data_len &&
	    (a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0) &&
	    a->has_id == b->has_id &&
	    (!a->has_id ||
		(a->id_len == b->id_len &&
		    (a->id_len == 0 ||
			memcmp(a->id, b->id, a->id_len) == 0))) &&
	    a->retry == b->retry;
}

/* ev to fields and back gives ev again; nf the number of strings. */
static void
round_trip(const struct sse_event *ev, size_t want_nf, const char *name)
{
	const char *f[RSTREAM_NFIELDS];
	size_t flen[RSTREAM_NFIELDS], nf;
	struct sse_event back;
	const char *why = NULL;
	char num[24];

	nf = rstream_fields(ev, f, flen, num);
	ok(nf == want_nf && nf <= RSTREAM_NFIELDS, "%s: %zu fields", name, nf);
	ok(rstream_event(&back, f, flen, nf, &why) == 0 &&
		same_event(ev, &back),
	    "%s: the same event back", name);
}

static enum rstream_step
step(struct rstream_pos *p, uint64_t seq)
{
	return rstream_pos_next(p, 0, seq);
}

int
main(void)
{
	struct sse_event ev;
	struct rstream_epoch e;
	struct rstream_pos pos;
	const char *why;
	char label[RSTREAM_LABEL_MAX + 1], name[RSTREAM_EPOCH_LEN + 1];
	unsigned char rnd[RSTREAM_EPOCH_LEN] = {0, 1, 31, 32, 200, 255, 9, 10};
	uint64_t ms, seq;
	size_t n;
	int i, inrange;

	sse_event_init(&ev);
	ev.data = "hello";
	ev.data_len = 5;
	round_trip(&ev, 2, "a line: data only");
	ev.type = "tick";
	ev.type_len = 4;
	ev.id = "a-7";
	ev.id_len = 3;
	ev.has_id = true;
	ev.retry = 2500;
	round_trip(&ev, 8, "type, the producer's id, retry");
	ev.id_len = 0;
	ev.data = "a\nb";
	ev.data_len = 3;
	ev.retry = -1;
	round_trip(
	    &ev, 6, "an empty id (it clears the client's) and two lines");
	sse_event_init(&ev);
	ev.data_len = 0;
	ev.data = NULL;
	ev.type = "";
	ev.type_len = 0;
	{
		const char *f[RSTREAM_NFIELDS];
		size_t flen[RSTREAM_NFIELDS];
		char num[24];

		n = rstream_fields(&ev, f, flen, num);
		ok(n == 2 && flen[1] == 0, "no data and no type: data empty");
	}

	{
		const char *f[] = {"x", "1", "data", "d", "event", "a\rb"};
		size_t fl[] = {1, 1, 4, 1, 5, 3};
		const char *g[] = {"data", "d", "retry", "-1"};
		size_t gl[] = {4, 1, 5, 2};
		const char *h[] = {"id", "a\nb"};
		size_t hl[] = {2, 3};
		const char *k[] = {"other", "v", "data", "x"};
		size_t kl[] = {5, 1, 4, 1};

		ok(rstream_event(&ev, f, fl, 6, &why) == -1 &&
			strcmp(why, "bad event field") == 0,
		    "an event type with CR is refused");
		ok(rstream_event(&ev, g, gl, 4, &why) == -1 &&
			strcmp(why, "bad retry field") == 0,
		    "a negative retry is refused");
		ok(rstream_event(&ev, h, hl, 2, &why) == -1,
		    "an id with LF is refused");
		ok(rstream_event(&ev, k, kl, 4, &why) == 0 &&
			ev.data_len == 1 && ev.type_len == 7 && !ev.has_id &&
			ev.retry == -1,
		    "other fields are ignored; the type is message");
		ok(rstream_event(&ev, k, kl, 1, &why) == 0 && ev.data_len == 0,
		    "a name without a value is ignored");
	}

	ok(rstream_id_parse("0-17", 4, &ms, &seq) == 0 && ms == 0 && seq == 17,
	    "entry id 0-17");
	ok(rstream_id_parse("1733612345678-3", 15, &ms, &seq) == 0 &&
		ms == 1733612345678ull && seq == 3,
	    "entry id made by XADD *");
	ok(rstream_id_parse("18446744073709551615-18446744073709551615", 41,
	       &ms, &seq) == 0 &&
		ms == UINT64_MAX && seq == UINT64_MAX,
	    "the largest entry id");
	ok(rstream_id_parse("18446744073709551616-0", 22, &ms, &seq) == -1,
	    "an id past 64 bits is refused");
	ok(rstream_id_parse("17", 2, &ms, &seq) == -1 &&
		rstream_id_parse("-1", 2, &ms, &seq) == -1 &&
		rstream_id_parse("1-", 2, &ms, &seq) == -1 &&
		rstream_id_parse("1-x", 3, &ms, &seq) == -1,
	    "malformed ids are refused");

	ok(rstream_epoch_parse(&e, "k3x9 120", 8) == 0 &&
		strcmp(e.name, "k3x9") == 0 && e.base == 120,
	    "epoch record");
	ok(rstream_epoch_parse(&e, "k3x9", 4) == -1 &&
		rstream_epoch_parse(&e, " 1", 2) == -1 &&
		rstream_epoch_parse(&e, "a-b 1", 5) == -1 &&
		rstream_epoch_parse(&e, "ab x", 4) == -1 &&
		rstream_epoch_parse(&e, "ab ", 3) == -1,
	    "malformed epoch records are refused");
	ok(rstream_epoch_parse(&e, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1", 35) ==
		-1,
	    "an epoch longer than 32 is refused");
	rstream_epoch_make(name, rnd);
	ok(strcmp(name, "01v08v9a") == 0 || (printf("# %s\n", name), 0),
	    "epoch names: 5 random bits a character");

	rstream_epoch_parse(&e, "k3x9 0", 6);
	n = rstream_label(&e, 0, 57, label);
	is_mem(label, n, "k3x9-57", 7, "the id of entry 0-57");
	n = rstream_label(&e, 1733612345678ull, 2, label);
	is_mem(label, n, "k3x9-1733612345678-2", 20, "of a foreign entry");
	memset(e.name, 'z', RSTREAM_EPOCH_MAX);
	e.name[RSTREAM_EPOCH_MAX] = '\0';
	n = rstream_label(&e, UINT64_MAX, UINT64_MAX, label);
	ok(n == RSTREAM_LABEL_MAX, "the longest id fits");

	memset(&pos, 0, sizeof(pos));
	rstream_epoch_parse(&e, "one 0", 5);
	ok(rstream_pos_epoch(&pos, &e) == RSTREAM_SWITCH &&
		strcmp(pos.epoch.name, "one") == 0,
	    "the first epoch read is taken");
	pos.fresh = true;
	pos.seq = 9;
	ok(step(&pos, 15) == RSTREAM_NEXT && pos.seq == 15,
	    "a fresh start owes nothing before the first entry");
	ok(step(&pos, 16) == RSTREAM_NEXT, "the next entry");
	ok(step(&pos, 16) == RSTREAM_OLD && step(&pos, 3) == RSTREAM_OLD &&
		pos.seq == 16,
	    "entries already read are skipped");
	ok(step(&pos, 20) == RSTREAM_GAP && pos.seq == 20,
	    "a missing number is a gap");
	ok(rstream_pos_next(&pos, 99, 1) == RSTREAM_FOREIGN && pos.seq == 20,
	    "a foreign id moves nothing");
	ok(step(&pos, 21) == RSTREAM_NEXT, "and the stream goes on");

	rstream_epoch_parse(&e, "one 5", 5);
	ok(rstream_pos_epoch(&pos, &e) == RSTREAM_SAME && pos.seq == 21,
	    "the same epoch");
	rstream_epoch_parse(&e, "two 30", 6);
	ok(rstream_pos_epoch(&pos, &e) == RSTREAM_SWITCH && pos.seq == 21 &&
		strcmp(pos.epoch.name, "two") == 0,
	    "a new epoch that began after what was read: only the ids change");
	rstream_epoch_parse(&e, "three 18", 8);
	ok(rstream_pos_epoch(&pos, &e) == RSTREAM_REWIND && pos.seq == 18 &&
		strcmp(pos.epoch.name, "three") == 0,
	    "a new epoch that began before: read again from its base");
	ok(step(&pos, 19) == RSTREAM_NEXT, "from the base on");
	rstream_epoch_parse(&e, "four 0", 6);
	ok(rstream_pos_epoch(&pos, &e) == RSTREAM_REWIND && pos.seq == 0 &&
		step(&pos, 1) == RSTREAM_NEXT,
	    "Redis restarted empty: from the start again");

	{
		static const char info[] = "# Server\r\nredis_git_sha1:0\r\n"
					   "redis_version:7.0.15\r\nx:1\r\n";
		static const char old[] = "redis_version:6.2.14\r\n";

		ok(rstream_version(info, sizeof(info) - 1) == 7,
		    "INFO server: version 7");
		ok(rstream_version(old, sizeof(old) - 1) == 6, "version 6");
		ok(rstream_version("redis_version:\r\n", 16) == -1 &&
			rstream_version("# Server\r\n", 10) == -1 &&
			rstream_version("", 0) == -1,
		    "no version: -1");
	}

	inrange = 1;
	for (i = 0; i < 12; i++) {
		int64_t lo = rstream_backoff_ms((unsigned)i, 0);
		int64_t hi = rstream_backoff_ms((unsigned)i, UINT32_MAX - 7);
		int64_t top = i < 6 ? 100 << i : 5000;

		if (top > 5000)
			top = 5000;
		if (lo != top / 2 || hi < lo || hi > top)
			inrange = 0;
	}
	ok(inrange, "backoff: doubling from 100 ms to 5 s, upper half");
	ok(rstream_backoff_ms(1000, 12345) <= 5000, "never above 5 s");
	return done_testing();
}
