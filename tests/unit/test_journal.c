/*
 * The journal's format: CRC32C's check value, the segment header and the
 * records written and read back (what the segment implies left out and
 * put back), every prefix of a record partial (-2), every single flipped
 * byte caught (-1 or, in the length, -2/-1), one form for each record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "parser.h"
#include "tap.h"

/* A fresh reader at the start of the segment h. */
static struct journal_at
rat0(const struct journal_head *h)
{
	struct journal_at at;

	journal_at_init(&at, h);
	return at;
}

/* The CRC of a record made by hand, of one length byte and its body. */
static void
put_crc(struct sse_buf *b)
{
	uint32_t c = journal_crc32c(0, b->p + 4, b->len - 4);

	b->p[0] = (char)c;
	b->p[1] = (char)(c >> 8);
	b->p[2] = (char)(c >> 16);
	b->p[3] = (char)(c >> 24);
}

int
main(void)
{
	static const char ev[] = "id: q7nx2kab-7\ndata: hello\n\n";
	static const char ev8[] = "id: q7nx2kab-8\ndata: hello\n\n";
	unsigned char head[JOURNAL_HEAD];
	struct journal_head h;
	struct journal_at wat, rat, probe;
	struct journal_rec r, g;
	struct sse_buf out = SSE_BUF_INIT, ev2 = SSE_BUF_INIT;
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
	head[8] = 1;
	ok(journal_head_get(head, sizeof(head), &h, &why) == -2 &&
		h.version == 1,
	    "format 1 is refused, as another version (-2)");
	journal_head_put(head, "q7nx2kab", 41);
	head[30] ^= 1;
	ok(journal_head_get(head, sizeof(head), &h, &why) == -1,
	    "a flipped bit in the header: its checksum");

	/* Records: after a header, each implies its N, time and own id. */
	journal_head_put(head, "q7nx2kab", 7);
	journal_head_get(head, sizeof(head), &h, &why);
	journal_at_init(&wat, &h);
	rat = wat;
	memset(&r, 0, sizeof(r));
	r.n = 7;
	r.time_ms = 1700000000123;
	r.bytes = ev;
	r.len = sizeof(ev) - 1;
	r.has_id = true;
	r.id_off = 4;
	r.id_len = 10;
	ok(journal_rec_put(&out, &wat, &r) == SSE_OK && wat.next == 8 &&
		out.len == 1 + 4 + 1 + 6 + 1 + r.len - 10,
	    "a record: CRC, length, flags, time, id place, the event less "
	    "its EPOCH-N id");
	k = journal_rec_get(&rat, out.p, out.len, &g, &ev2, &why);
	ok(k == (long long)out.len && g.n == 7 && g.time_ms == r.time_ms &&
		g.len == r.len && memcmp(g.bytes, ev, g.len) == 0 && g.has_id &&
		g.id_off == 4 && g.id_len == 10 && rat.next == 8,
	    "it reads back whole, the id put back");
	for (i = 0; i < out.len; i++) {
		probe = rat0(&h);
		if (journal_rec_get(&probe, out.p, i, &g, &ev2, &why) != -2)
			bad++;
	}
	ok(bad == 0, "every prefix of it is partial (-2)");
	for (i = 0, bad = 0; i < out.len; i++) {
		out.p[i] ^= 0x10;
		probe = rat0(&h);
		k = journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why);
		/* A flip in the length may make it look longer: partial. */
		if (k >= 0 || ((i < 4 || i > 4) && k != -1))
			bad++;
		out.p[i] ^= 0x10;
	}
	ok(bad == 0, "every flipped byte is caught");
	ok(journal_rec_size(out.p, out.len) == (long long)out.len &&
		journal_rec_size(out.p, 0) == -2,
	    "its size from its length alone");

	/* The next one, in the same batch: no time step, 3 bytes a head. */
	n = out.len;
	r.n = 8;
	r.bytes = ev8;
	r.len = sizeof(ev8) - 1;
	ok(journal_rec_put(&out, &wat, &r) == SSE_OK &&
		out.len - n == 1 + 4 + 1 + 1 + r.len - 10,
	    "a record of the same time has no time step");
	k = journal_rec_get(&rat, out.p + n, out.len - n, &g, &ev2, &why);
	ok(k == (long long)(out.len - n) && g.n == 8 &&
		g.time_ms == r.time_ms && g.len == r.len &&
		memcmp(g.bytes, ev8, g.len) == 0,
	    "and reads back with the time before");
	/* Another's id, no id, and time going back. */
	n = out.len;
	r.n = 9;
	r.bytes = ev;
	r.len = sizeof(ev) - 1;
	r.time_ms -= 5000;
	ok(journal_rec_put(&out, &wat, &r) == SSE_OK, "an id not ours");
	k = journal_rec_get(&rat, out.p + n, out.len - n, &g, &ev2, &why);
	ok(k > 0 && g.n == 9 && g.bytes == out.p + out.len - r.len &&
		g.has_id && g.id_off == 4 && g.id_len == 10 &&
		g.time_ms == r.time_ms,
	    "reads back as it is, with a step back in time");
	n = out.len;
	r.n = 10;
	r.has_id = false;
	journal_rec_put(&out, &wat, &r);
	k = journal_rec_get(&rat, out.p + n, out.len - n, &g, &ev2, &why);
	ok(k > 0 && !g.has_id && g.n == 10, "a record without id");
	r.n = 12;
	ok(journal_rec_put(&out, &wat, &r) == SSE_ERR_INVALID,
	    "a record out of order is not written");

	sse_buf_reset(&out);
	r.n = 11;
	r.has_id = true;
	r.id_off = 20;
	r.id_len = 10;
	ok(journal_rec_put(&out, &wat, &r) == SSE_ERR_INVALID,
	    "an id outside its event is not written");
	sse_buf_add(&out, "\0\0\0\0\x03\x02\x30\x00", 8);
	put_crc(&out);
	probe = rat0(&h);
	ok(journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why) == -1 &&
		strstr(why, "id") != NULL,
	    "an id outside its event is corrupt");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\0\0\0\0\x03\x04\x00x", 8);
	put_crc(&out);
	probe = rat0(&h);
	ok(journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why) == -1,
	    "a time step of 0 written is not the one form: corrupt");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\0\0\0\0\x82\x00\x00x", 8);
	ok(journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why) == -1,
	    "a length not in its shortest form is corrupt");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\0\0\0\0\xff\xff\xff\xff\x7f", 9);
	ok(journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why) == -1,
	    "an impossible length is corrupt, not partial");
	sse_buf_reset(&out);
	sse_buf_add(&out, "\0\0\0\0\0\0\0\0", 8);
	ok(journal_rec_get(&probe, out.p, out.len, &g, &ev2, &why) == -1 &&
		journal_rec_size(out.p, out.len) == -1,
	    "zeros are no record");
	sse_buf_release(&out);
	sse_buf_release(&ev2);
	return done_testing();
}
