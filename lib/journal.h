/*
 * The journal's format (sse serve --journal DIR): what a segment file and
 * a record look like, written and read without I/O. cmd/serve_journal.c
 * does the files: writing, syncing, rotating, the lock, the rebuild.
 *
 * A journal is a directory of segment files named after the number of
 * their first event, in 20 decimal digits ("00000000000000000001.ssej"),
 * so that name order is stream order. A segment is a header, then
 * records, all integers little-endian:
 *
 *   header (JOURNAL_HEAD bytes)
 *     0  magic "SSEJRNL\n"
 *     8  u32 format version (2)
 *    12  u32 header size (64)
 *    16  u64 N of the segment's first record
 *    24  epoch, NUL-padded to 32 bytes: the stream's life its ids are in
 *    56  u32 CRC32C of bytes 0..55
 *    60  u32 zero
 *   record: what the segment implies is not written again
 *        u32 CRC32C of the rest of the record (the varint and the body)
 *        varint L, the length of the body (1 .. JOURNAL_REC_MAX)
 *      body:
 *        u8 flags: bits 0-1 the id (0 none, 1 the stream's own EPOCH-N,
 *           2 another), bit 2 a time step follows, the rest zero
 *        varint the time step, zigzag, in ms from the record before in
 *           the segment (from 0 for the first), only when it is not 0: a
 *           batch has one time, so only its first record has a step
 *        varint the id's offset in the event (ids 1 and 2)
 *        varint the id's length (id 2 only)
 *        the event, serialized (text/event-stream bytes, as sent), less
 *           an id 1: EPOCH-N (the header's epoch, the record's N) is put
 *           back at its offset by the reader
 *   A record's N is the one before's + 1 (the header's first for the
 *   first). Varints are LEB128 in their shortest form, and an id 2 is
 *   never EPOCH-N: one record has one form.
 *
 * Format 1 (a 32-byte head a record: length, CRC, N, time, id place; the
 * event whole) is refused with a message that says so: export such a
 * journal with the sse that wrote it.
 *
 * A reader is told, record by record, in picohttpparser's convention:
 * the record's size, -2 when the bytes end inside it (more must come, or,
 * at the end of a file, a torn write), -1 when it is corrupt.
 */
#ifndef SSE_JOURNAL_H
#define SSE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JOURNAL_MAGIC "SSEJRNL\n"
#define JOURNAL_VERSION 2
#define JOURNAL_HEAD 64
#define JOURNAL_EPOCH_MAX 32
/* A record longer than this is corrupt, whatever its CRC says. */
#define JOURNAL_REC_MAX ((size_t)1 << 30)

struct journal_head {
	uint32_t version; /* the file's, even one refused */
	uint64_t first; /* N of the first record */
	char epoch[JOURNAL_EPOCH_MAX + 1];
};

struct journal_rec {
	uint64_t n; /* the event's number in the stream */
	int64_t time_ms; /* wall clock, when it was read */
	const char *bytes; /* the serialized event (a view, when read) */
	size_t len;
	bool has_id; /* indexed by the id at bytes + id_off */
	size_t id_off, id_len;
};

/*
 * Where a segment's records stand, for the next one written or read:
 * what records leave implied (their N, their time, their ids' epoch).
 */
struct journal_at {
	char epoch[JOURNAL_EPOCH_MAX + 1];
	size_t epoch_len;
	uint64_t next; /* N of the next record */
	int64_t time_ms; /* the time of the record before (0 at the start) */
	char id[JOURNAL_EPOCH_MAX + 22]; /* EPOCH-N of next, counted along */
	size_t id_len;
};

/* CRC32C (Castagnoli), continued from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n);

/* The header of a segment whose first record is N first. */
void journal_head_put(
    unsigned char out[JOURNAL_HEAD], const char *epoch, uint64_t first);
/*
 * Read a header: 0; -1 with *why ("not a journal segment" ...); -2 for a
 * segment in another format version (h->version says which).
 */
int journal_head_get(
    const unsigned char *b, size_t n, struct journal_head *, const char **why);

/* The start of the segment whose header is h. */
void journal_at_init(struct journal_at *, const struct journal_head *h);

/*
 * Append r as the record after at (r->n must be at->next) and move at on;
 * SSE_OK, or SSE_ERR_TOO_BIG or SSE_ERR_INVALID (out and at unchanged).
 */
int journal_rec_put(
    struct sse_buf *out, struct journal_at *at, const struct journal_rec *r);
/*
 * The record at b[0..n) after at: its size, with *r filled and at moved
 * on; -2 when b ends inside it; -1 with *why when it is corrupt (its CRC,
 * a length past JOURNAL_REC_MAX, an id outside the event, a form that is
 * not the one the writer makes). r->bytes is a view into b, or into ev
 * when the id was implied (put back there, valid until the next call).
 */
long long journal_rec_get(struct journal_at *at, const char *b, size_t n,
    struct journal_rec *r, struct sse_buf *ev, const char **why);
/*
 * The size the record at b[0..n) says it has, from its length alone: -2
 * when b ends inside the length, -1 when the length is impossible.
 */
long long journal_rec_size(const char *b, size_t n);

#endif
