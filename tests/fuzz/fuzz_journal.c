/*
 * libFuzzer target for the journal reader (lib/journal.c), which reads
 * whatever a crash, a full disk or a stray editor left in `sse serve
 * --journal DIR` at every start. The input is a segment: a header, then
 * records (without a header, records after one of epoch "fz9", N 1).
 * Besides memory safety (ASan, UBSan) it checks, abort()ing on a
 * mismatch:
 *
 * - a record read is within the bytes given, its event and id within it,
 *   its N the one after the record before's, its size what its length
 *   alone says (journal_rec_size);
 * - picohttpparser's convention: every shorter prefix of a record read
 *   whole is -2 (partial), never a record or -1;
 * - a record has one form: read back, it writes the very same bytes
 *   (journal_rec_put, from where the reader stood);
 * - a header read writes the same 64 bytes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_record(const char *b, size_t n, long long k,
    const struct journal_at *before, const struct journal_at *after,
    const struct journal_rec *r)
{
	struct sse_buf out = SSE_BUF_INIT, ev = SSE_BUF_INIT;
	struct journal_at at;
	struct journal_rec g;
	const char *why;
	size_t i;

	if (k <= 4 || (size_t)k > n || r->n != before->next ||
	    after->next != before->next + 1 || after->time_ms != r->time_ms ||
	    journal_rec_size(b, n) != k)
		abort();
	if (r->has_id && (r->id_off > r->len || r->id_len > r->len - r->id_off))
		abort();
	for (i = 0; i < (size_t)k; i += 1 + i / 4) {
		at = *before;
		if (journal_rec_get(&at, b, i, &g, &ev, &why) != -2)
			abort();
	}
	at = *before;
	if (journal_rec_put(&out, &at, r) != SSE_OK || out.len != (size_t)k ||
	    memcmp(out.p, b, out.len) != 0 || at.next != after->next ||
	    at.time_ms != after->time_ms)
		abort();
	sse_buf_release(&out);
	sse_buf_release(&ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct journal_head none = {JOURNAL_VERSION, 1, "fz9"};
	const char *b = (const char *)data, *why = NULL;
	unsigned char head[JOURNAL_HEAD];
	struct sse_buf ev = SSE_BUF_INIT;
	struct journal_head h;
	struct journal_at at, before;
	struct journal_rec r;
	size_t off = 0;
	long long k;

	journal_at_init(&at, &none);
	if (journal_head_get(data, size, &h, &why) == 0) {
		journal_head_put(head, h.epoch, h.first);
		if (memcmp(head, data, JOURNAL_HEAD) != 0)
			abort();
		journal_at_init(&at, &h);
		off = JOURNAL_HEAD;
	}
	while (off < size) {
		before = at;
		k = journal_rec_get(&at, b + off, size - off, &r, &ev, &why);
		if (k == -2)
			break;
		if (k == -1) {
			if (why == NULL || at.next != before.next)
				abort();
			off++; /* read on from the next byte, as a fuzzer */
			continue;
		}
		check_record(b + off, size - off, k, &before, &at, &r);
		off += (size_t)k;
	}
	sse_buf_release(&ev);
	return 0;
}
