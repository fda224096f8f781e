/*
 * lib/pace.c and lib/record_mem.c: replay's pacing arithmetic, and the
 * recording in memory it works on (entries, last event IDs, line framing,
 * telling a recording from a plain stream).
 */
#include <string.h>

#include "evmake.h"
#include "pace.h"
#include "record.h"
#include "tap.h"

/* A recording: events at the given offsets (ms), ending at end. */
static void
rec_make(struct sse_recording *rec, const int64_t *t, size_t n, int64_t end)
{
	struct sse_event ev = ev_str(NULL, "x", NULL);
	size_t i;

	sse_recording_init(rec);
	for (i = 0; i < n; i++)
		sse_recording_add(rec, SSE_REC_EVENT, t[i], &ev);
	rec->end_t = end;
}

static struct sse_pace
pace(double speed, int64_t max_gap, double rate)
{
	struct sse_pace p = {speed, false, max_gap, rate, false};

	return p;
}

static void
test_pace(void)
{
	static const int64_t t[] = {100, 300, 5300};
	struct sse_recording rec;
	struct sse_plan plan;
	struct sse_pace p;

	rec_make(&rec, t, 3, 6000);
	p = pace(1, -1, 0);
	ok(sse_plan_make(&plan, &rec, &p) == 0 && plan.at[0] == 100000 &&
		plan.at[1] == 300000 && plan.at[2] == 5300000 &&
		plan.period == 6000000,
	    "recorded offsets, in microseconds; a loop lasts until the end");
	sse_plan_release(&plan);
	p = pace(2, -1, 0);
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[2] == 2650000 && plan.period == 3000000, "--speed 2");
	sse_plan_release(&plan);
	p = pace(1, 1000, 0);
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[0] == 100000 && plan.at[1] == 300000 &&
		plan.at[2] == 1300000 && plan.period == 2000000,
	    "--max-gap 1 shortens the long pauses only, the last one too");
	sse_plan_release(&plan);
	p = pace(1, -1, 4);
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[0] == 0 && plan.at[1] == 250000 && plan.at[2] == 500000 &&
		plan.period == 750000,
	    "--rate 4: evenly spaced, recorded timing ignored");
	sse_plan_release(&plan);
	p = pace(1, -1, 0);
	p.no_delay = true;
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[2] == 0 && plan.period == 0, "--no-delay: all at once");
	sse_plan_release(&plan);
	sse_recording_release(&rec);

	rec_make(&rec, NULL, 0, 0);
	p = pace(1, -1, 0);
	ok(sse_plan_make(&plan, &rec, &p) == 0 && plan.period == 0,
	    "an empty recording has a plan of nothing");
	sse_plan_release(&plan);
	sse_recording_release(&rec);
}

static void
test_rate_retry(void)
{
	struct sse_recording rec;
	struct sse_plan plan;
	struct sse_event ev = ev_str(NULL, "x", NULL), r;
	struct sse_pace p = pace(1, -1, 2);

	sse_recording_init(&rec);
	sse_event_init(&r);
	r.retry = 10;
	sse_recording_add(&rec, SSE_REC_EVENT, 0, &ev);
	sse_recording_add(&rec, SSE_REC_RETRY, 1, &r);
	sse_recording_add(&rec, SSE_REC_EVENT, 2, &ev);
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[1] == plan.at[2] && plan.at[2] == 500000 &&
		plan.period == 1000000,
	    "--rate: a lone retry goes with the next event");
	sse_plan_release(&plan);
	p.exact = true;
	sse_recording_add(&rec, SSE_REC_CHUNK, 3, &ev);
	sse_plan_make(&plan, &rec, &p);
	ok(plan.at[3] == 0 && plan.period == 500000,
	    "--rate with --exact counts chunks, not events");
	sse_plan_release(&plan);
	sse_recording_release(&rec);
}

static void
test_model(void)
{
	struct sse_recording rec;
	struct sse_event a = ev_str("t", "one", "7"),
			 b = ev_str(NULL, "two", NULL), got;

	sse_recording_init(&rec);
	sse_recording_add(&rec, SSE_REC_EVENT, 1, &a);
	sse_recording_add(&rec, SSE_REC_EVENT, 2, &b);
	sse_recording_add(&rec, SSE_REC_CHUNK, 3, &a);
	ok(rec.nev == 3 && rec.nevents == 2 && rec.nchunks == 1, "counts");
	sse_recording_event(&rec, 1, &got);
	ok(got.id_len == 1 && got.id[0] == '7' && !got.has_id &&
		got.data_len == 3 && memcmp(got.data, "two", 3) == 0,
	    "an event without an id keeps the last event ID");
	sse_recording_event(&rec, 2, &got);
	ok(got.data_len == 3 && memcmp(got.data, "one", 3) == 0 &&
		got.id_len == 0,
	    "a chunk's bytes are its data");
	ok(sse_recording_find_id(&rec, "7", 1) == 0, "find the id's event");
	ok(sse_recording_find_id(&rec, "8", 1) == -1, "no such id");
	sse_recording_release(&rec);
}

static void
test_lines(void)
{
	struct sse_rec_lines l;
	const char *p;
	size_t n;
	bool cut;

	sse_rec_lines_init(&l, 0);
	sse_rec_lines_add(&l, "ab\ncd", 5);
	ok(sse_rec_lines_next(&l, false, &p, &n, &cut) == 1 && n == 2 &&
		memcmp(p, "ab", 2) == 0 && !cut,
	    "a whole line");
	ok(sse_rec_lines_next(&l, false, &p, &n, &cut) == 0, "then none");
	sse_rec_lines_add(&l, "e\n\nf", 4);
	ok(sse_rec_lines_next(&l, false, &p, &n, &cut) == 1 && n == 3 &&
		memcmp(p, "cde", 3) == 0,
	    "a line across two blocks");
	ok(sse_rec_lines_next(&l, false, &p, &n, &cut) == 1 && n == 0,
	    "an empty line");
	ok(sse_rec_lines_next(&l, true, &p, &n, &cut) == 1 && n == 1 &&
		*p == 'f' && cut,
	    "at the end, the rest without LF, cut");
	ok(sse_rec_lines_next(&l, true, &p, &n, &cut) == 0, "then nothing");
	sse_rec_lines_release(&l);
}

#define SNIFF(s, end) sse_rec_sniff(s, sizeof(s) - 1, end)

static void
test_sniff(void)
{
	ok(SNIFF("{\"format\"", false) == SSE_REC_JSON, "'{' is a recording");
	ok(SNIFF("\xEF\xBB\xBF \n{", false) == SSE_REC_JSON,
	    "after a BOM and blanks");
	ok(SNIFF("data: x", false) == SSE_REC_PLAIN, "a field is a stream");
	ok(SNIFF("\xEF\xBB", false) == SSE_REC_MORE, "half a BOM: wait");
	ok(SNIFF("  \n", false) == SSE_REC_MORE, "blanks only: wait");
	ok(SNIFF("  \n", true) == SSE_REC_PLAIN, "blanks at the end: plain");
	ok(SNIFF("", true) == SSE_REC_PLAIN, "empty: plain");
}

int
main(void)
{
	test_pace();
	test_rate_retry();
	test_model();
	test_lines();
	test_sniff();
	return done_testing();
}
