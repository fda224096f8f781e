/*
 * libFuzzer target for the journal reader (lib/journal.c), which reads
 * whatever a crash, a full disk or a stray editor left in `sse serve
 * --journal DIR` at every start. The input is a segment: a header, then
 * records. Besides memory safety (ASan, UBSan) it checks, abort()ing on a
 * mismatch:
 *
 * - a record read is within the bytes given, its event and id within it;
 * - picohttpparser's convention: every shorter prefix of a record read
 *   whole is -2 (partial), never a record or -1;
 * - a record read back writes the very same bytes (journal_rec_put);
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
check_record(const char *b, size_t n, long long k, const struct journal_rec *r)
{
	struct sse_buf out = SSE_BUF_INIT;
	struct journal_rec g;
	const char *why;
	size_t i;

	if (k < JOURNAL_REC_HEAD || (size_t)k > n ||
	    r->bytes != b + JOURNAL_REC_HEAD ||
	    r->len != (size_t)k - JOURNAL_REC_HEAD)
		abort();
	if (r->has_id && (r->id_off > r->len || r->id_len > r->len - r->id_off))
		abort();
	for (i = 0; i < (size_t)k; i += 1 + i / 4)
		if (journal_rec_get(b, i, &g, &why) != -2)
			abort();
	if (journal_rec_put(&out, r) != SSE_OK || out.len != (size_t)k ||
	    memcmp(out.p, b, out.len) != 0) {
		/* An id of length 0 at offset 0 reads back as no id: the
		 * only bytes that may differ are that offset. */
		if (!(!r->has_id && out.len == (size_t)k))
			abort();
	}
	sse_buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data, *why = NULL;
	unsigned char head[JOURNAL_HEAD];
	struct journal_head h;
	struct journal_rec r;
	size_t off = 0;
	long long k;

	if (journal_head_get(data, size, &h, &why) == 0) {
		journal_head_put(head, h.epoch, h.first);
		if (memcmp(head, data, JOURNAL_HEAD) != 0)
			abort();
		off = JOURNAL_HEAD;
	}
	while (off < size) {
		k = journal_rec_get(b + off, size - off, &r, &why);
		if (k == -2)
			break;
		if (k == -1) {
			if (why == NULL)
				abort();
			off++; /* read on from the next byte, as a fuzzer */
			continue;
		}
		check_record(b + off, size - off, k, &r);
		off += (size_t)k;
	}
	return 0;
}
