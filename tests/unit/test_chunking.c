/*
 * Properties over every fixture, the *.sse files in tests/fixtures:
 *
 * 1. Chunking invariance: the same bytes fed whole, byte by byte, split at
 *    every offset (at 1024 of them for fixtures over 16 KiB), in chunks
 *    of 1 to 16 bytes and of a few prime sizes,
 *    at every pair of offsets (fixtures up to 256 bytes) and in random
 *    chunks give identical events, retries, comments and errors; also with
 *    a small max_event, where the cap error must come at the same point.
 * 2. Round trip: parse -> sse_serialize -> parse gives the same events
 *    (type, data, last event ID), and serializing those again gives the
 *    same bytes.
 * 3. Every span sse_parser_raw() hands out, in every chunking, is exactly
 *    what sse_serialize writes for the event.
 * 4. Raw relay: what `sse listen -f raw` writes (each event's raw span when
 *    there is one, else the event serialized, has_id as the parser set it;
 *    runs as they came), fed in several chunkings, parses back to the same
 * events with the same last event IDs, id-only blocks included.
 * 5. Runs (sse_parser_set_run), taken in every other chunking, change
 *    nothing: their events are those the event callback would get.
 *
 * SSE_FIXTURES overrides the fixture directory (default tests/fixtures,
 * found from the working directory or from the test binary's path).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "parselog.h"
#include "rnd.h"
#include "serialize.h"
#include "tap.h"

#define SMALL_MAX 256 /* max_event for the cap runs */

/* Number of ways tried; *bad counts those that disagreed with want. */
static size_t
check_splits(const char *s, size_t n, size_t max, const struct sse_buf *want,
    size_t *bad)
{
	static const size_t primes[] = {61, 127, 509, 4093, 65521};
	size_t cuts[64], i, j, k, ways = 0, stride;

	/* Every other way also takes events in runs (rec_agrees). */
#define TRY(c, nc, step)                                                       \
	(*bad += !rec_agrees(s, n, max, c, nc, step, want, &ways))

	/* Fixed chunk sizes: 1 to 16 bytes, then a few primes. */
	for (k = 1; k <= 16; k++)
		TRY(NULL, 0, k);
	for (k = 0; k < sizeof(primes) / sizeof(primes[0]); k++)
		TRY(NULL, 0, primes[k]);
	/*
	 * Single cuts: every offset, or, for fixtures over 16 KiB (where that
	 * is quadratic), every offset near the ends and 1024 in between; the
	 * byte-by-byte run above already puts a boundary at every offset.
	 */
	stride = n <= 16384 ? 1 : n / 1024;
	for (i = 0; i <= n; i++) {
		if (stride > 1 && i > 64 && i + 64 < n && i % stride != 0)
			continue;
		cuts[0] = i;
		TRY(cuts, 1, 0);
	}
	if (n <= 256)
		for (i = 0; i <= n; i++)
			for (j = i; j <= n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				TRY(cuts, 2, 0);
			}
	/* Random chunkings: up to 64 sorted random cuts. */
	for (k = 0; k < 20; k++) {
		size_t m = 1 + rnd_below(64), a, b, t;

		for (i = 0; i < m; i++)
			cuts[i] = rnd_below(n + 1);
		for (a = 1; a < m; a++)
			for (b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
				t = cuts[b];
				cuts[b] = cuts[b - 1];
				cuts[b - 1] = t;
			}
		TRY(cuts, m, 0);
	}
#undef TRY
	return ways;
}

/* Round trip state: the parse log plus the events serialized again. */
struct rt {
	struct rec r; /* first: the parser's ctx is this struct */
	struct sse_buf ser;
	bool raw; /* copy raw spans, as the raw format does */
	int bad;
};

/*
 * The id field is written when has_id says (the parser sets it also when
 * an id-only block changed the last event ID), so that the reparsed events
 * carry the same last event ID.
 */
static int
rt_event(void *ctx, const struct sse_event *ev)
{
	struct rt *t = ctx;
	const char *why, *raw;
	size_t len;

	rec_event(&t->r, ev);
	if (t->raw && (raw = sse_parser_raw(&t->r.p, &len)) != NULL) {
		if (sse_buf_add(&t->ser, raw, len) == -1)
			t->bad++;
	} else if (sse_serialize(&t->ser, ev, &why) != SSE_OK)
		t->bad++;
	return 0;
}

/* A run, as sse listen relays it: its bytes copied as they are. */
static int
rt_run(void *ctx, const char *raw, size_t len, size_t n)
{
	struct rt *t = ctx;

	if (sse_buf_add(&t->ser, raw, len) == -1)
		t->bad++;
	return rec_run(&t->r, raw, len, n);
}

static void
rt_init(struct rt *t, bool raw)
{
	rec_init(&t->r, 0);
	t->r.plain = true;
	t->r.p.cb.event = rt_event;
	sse_buf_init(&t->ser, 0);
	t->raw = raw;
	t->bad = 0;
}

static void
rt_parse(struct rt *t, const char *s, size_t n)
{
	rt_init(t, false);
	rec_feed_step(&t->r, s, n, 0);
}

static void
rt_release(struct rt *t)
{
	rec_release(&t->r);
	sse_buf_release(&t->ser);
}

/*
 * Property 4, with the input fed in chunks of step bytes (0: whole), each
 * way with and without runs (property 5).
 */
static void
raw_relay(const char *name, const char *s, size_t n, const struct rt *want)
{
	static const size_t steps[] = {0, 1, 2, 3, 7, 64};
	struct rt a, b;
	size_t i, bad = 0, nraw = 0;

	for (i = 0; i < 2 * sizeof(steps) / sizeof(steps[0]); i++) {
		rt_init(&a, true);
		if (i % 2 == 1)
			sse_parser_set_run(&a.r.p, rt_run);
		rec_feed_step(&a.r, s, n, steps[i / 2]);
		rt_parse(&b, a.ser.p, a.ser.len);
		bad +=
		    a.bad != 0 || b.bad != 0 || !rec_log_is(&b.r, &want->r.log);
		nraw += (size_t)a.r.nraw;
		rt_release(&a);
		rt_release(&b);
	}
	ok(bad == 0,
	    "%s: raw relay (%zu raw spans) parses back to the same %d events "
	    "and last event IDs in %zu chunkings",
	    name, nraw, want->r.nevents, i);
}

static void
round_trip(const char *name, const char *s, size_t n)
{
	struct rt a, b;

	rt_parse(&a, s, n);
	rt_parse(&b, a.ser.p, a.ser.len);
	ok(a.bad == 0 && b.bad == 0 && rec_log_is(&b.r, &a.r.log),
	    "%s: parse -> serialize -> parse gives the same %d events", name,
	    a.r.nevents);
	ok(a.ser.len == b.ser.len &&
		(a.ser.len == 0 || memcmp(a.ser.p, b.ser.p, a.ser.len) == 0),
	    "%s: and serializing them again gives the same bytes", name);
	raw_relay(name, s, n, &a);
	rt_release(&a);
	rt_release(&b);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL, *np;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((np = realloc(p, cap)) == NULL)
				break;
			p = np;
		}
		if ((got = fread(p + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return p != NULL ? p : malloc(1);
}

static void
fixture(const char *dir, const char *file)
{
	char path[8192];
	struct sse_buf want = SSE_BUF_INIT;
	struct rec r;
	size_t n = 0, ways, bad = 0;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!ok((s = slurp(path, &n)) != NULL, "%s: read", file))
		return;

	rec_init(&r, 0);
	rec_feed_step(&r, s, n, 0);
	sse_buf_set(&want, r.log.p, r.log.len);
	ok(r.raw_bad == 0,
	    "%s: %d of %d events had raw spans, each the serializer's bytes",
	    file, r.nraw, r.nevents);
	rec_release(&r);
	ways = check_splits(s, n, 0, &want, &bad);
	ok(bad == 0, "%s (%zu bytes): the same log in all %zu chunkings", file,
	    n, ways);
	if (bad != 0)
		printf("#   %zu of them differed\n", bad);

	rec_init(&r, SMALL_MAX);
	rec_feed_step(&r, s, n, 0);
	sse_buf_set(&want, r.log.p, r.log.len);
	rec_release(&r);
	bad = 0;
	ways = check_splits(s, n, SMALL_MAX, &want, &bad);
	ok(bad == 0, "%s: with max_event %d too (%zu chunkings%s)", file,
	    SMALL_MAX, ways,
	    memmem(want.p ? want.p : "", want.len, "ERR=", 4) ? ", cap hit"
							      : "");

	round_trip(file, s, n);
	sse_buf_release(&want);
	free(s);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	char dir[4096], *names[256];
	const char *env = getenv("SSE_FIXTURES");
	struct dirent *de;
	DIR *d = NULL;
	size_t i, nnames = 0, len;

	rnd_seed(0x853C49E6748FEA9Bu);
	if (env != NULL)
		snprintf(dir, sizeof(dir), "%s", env);
	else {
		snprintf(dir, sizeof(dir), "tests/fixtures");
		if ((d = opendir(dir)) == NULL && argc > 0) {
			/* build/tests/test_chunking -> tests/fixtures */
			snprintf(dir, sizeof(dir), "%s/../../tests/fixtures",
			    argv[0]);
			if (strrchr(argv[0], '/') != NULL) {
				len = (size_t)(strrchr(argv[0], '/') - argv[0]);
				snprintf(dir, sizeof(dir),
				    "%.*s/../../tests/fixtures", (int)len,
				    argv[0]);
			}
		}
		if (d != NULL)
			closedir(d);
	}
	if ((d = opendir(dir)) == NULL) {
		ok(0, "open fixture directory %s: %s", dir, strerror(errno));
		return done_testing();
	}
	while ((de = readdir(d)) != NULL && nnames < 256) {
		len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".sse") == 0)
			names[nnames++] = strdup(de->d_name);
	}
	closedir(d);
	ok(nnames >= 10, "found %zu fixtures in %s", nnames, dir);
	qsort(names, nnames, sizeof(names[0]), by_name);
	for (i = 0; i < nnames; i++) {
		fixture(dir, names[i]);
		free(names[i]);
	}
	return done_testing();
}
