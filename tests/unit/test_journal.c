/*
 * The journal's format: CRC32C's check value, the segment header and the
 * records written and read back, every prefix of a record partial (-2),
 * and every single flipped byte caught (-1 or, in the length, -2/-1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "parser.h"
#include "tap.h"

int
main(void)
{
	static const char ev[] = "id: ab-7\ndata: hello\n\n";
	unsigned char head[JOURNAL_HEAD];
	struct journal_head h;
	struct journal_rec r, g;
	struct sse_buf out = SSE_BUF_INIT;
	const char *why = NULL;
	size_t i, bad = 0, n;
	long long k;

	ok(journal_crc32c(0, "123456789", 9) == 0xe3069283u,
	    "CRC32C check value (RFC 3720 B.4)");
	ok(journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5) ==
		0xe3069283u,
	    "CRC32C continues across pieces");

	journal_head_put(head, "q7nx2kab", 41);
	ok(journal_head_get(head, sizeof(head), &h, &why) == 0 &&
		h.first == 41 && strcmp(h.epoch, "q7nx2kab") == 0,
	    "a header reads back: first N and epoch");
	ok(journal_head_get(head, 63, &h, &why) == -1, "a short header");
	head[0] = 'X';
	ok(journal_head_get(head, sizeof(head), &h, &why) == -1 &&
		strcmp(why, "not a journal segment") == 0,
	    "a bad magic: not a journal segment");
	journal_head_put(head, "q7nx2kab", 41);
	head[8] = 2;
	ok(journal_head_get(head, sizeof(head), &h, &why) == -1,
	    "another version is refused");
	journal_head_put(head, "q7nx2kab", 41);
	head[30] ^= 1;
	ok(journal_head_get(head, sizeof(head), &h, &why) == -1,
	    "a flipped bit in the header: its checksum");

	memset(&r, 0, sizeof(r));
	r.n = 7;
	r.time_ms = 1700000000123;
	r.bytes = ev;
	r.len = sizeof(ev) - 1;
	r.has_id = true;
	r.id_off = 4;
	r.id_len = 4;
	ok(journal_rec_put(&out, &r) == SSE_OK &&
		out.len == JOURNAL_REC_HEAD + r.len,
	    "a record: 32 bytes and the event");
	k = journal_rec_get(out.p, out.len, &g, &why);
	ok(k == (long long)out.len && g.n == 7 && g.time_ms == r.time_ms &&
		g.len == r.len && memcmp(g.bytes, ev, g.len) == 0 && g.has_id &&
		g.id_off == 4 && g.id_len == 4,
	    "it reads back whole");
	for (i = 0; i < out.len; i++)
		if (journal_rec_get(out.p, i, &g, &why) != -2)
			bad++;
	ok(bad == 0, "every prefix of it is partial (-2)");
	for (i = 0, bad = 0; i < out.len; i++) {
		out.p[i] ^= 0x10;
		k = journal_rec_get(out.p, out.len, &g, &why);
		/* A flip in the length may make it look longer: partial. */
		if (k >= 0 || (i >= 4 && k != -1))
			bad++;
		out.p[i] ^= 0x10;
	}
	ok(bad == 0, "every flipped byte is caught");
	r.has_id = false;
	n = out.len;
	journal_rec_put(&out, &r);
	k = journal_rec_get(out.p + n, out.len - n, &g, &why);
	ok(k > 0 && !g.has_id, "a record without id");
	sse_buf_reset(&out);
	r.has_id = true;
	r.id_off = 20;
	r.id_len = 10;
	journal_rec_put(&out, &r);
	ok(journal_rec_get(out.p, out.len, &g, &why) == -1 &&
		strstr(why, "id") != NULL,
	    "an id outside its event is corrupt");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\xff\xff\xff\x7f\0\0\0\0", 8);
	ok(journal_rec_get(out.p, out.len, &g, &why) == -1,
	    "an impossible length is corrupt, not partial");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\0\0\0\0\0\0\0\0", 8);
	ok(journal_rec_get(out.p, out.len, &g, &why) == -1,
	    "zeros are no record");
	sse_buf_release(&out);
	return done_testing();
}
