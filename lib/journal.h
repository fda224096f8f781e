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
 *     8  u32 version (1)
 *    12  u32 header size (64)
 *    16  u64 N of the segment's first record
 *    24  epoch, NUL-padded to 32 bytes: the stream's life its ids are in
 *    56  u32 CRC32C of bytes 0..55
 *    60  u32 zero
 *   record
 *     0  u32 length of the body (from byte 8)
 *     4  u32 CRC32C of the length's 4 bytes and the body
 *     8  u64 N, the event's number in the stream (the one before's + 1)
 *    16  i64 wall-clock time it was read, in ms since the epoch (1970)
 *    24  u32 offset of its id in the event's bytes, 0xffffffff for none
 *    28  u32 length of the id
 *    32  the event, serialized (text/event-stream bytes, as sent)
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
#define JOURNAL_VERSION 1
#define JOURNAL_HEAD 64
#define JOURNAL_REC_HEAD 32 /* a record's bytes before the event's */
#define JOURNAL_EPOCH_MAX 32
#define JOURNAL_NO_ID 0xffffffffu
/* A record longer than this is corrupt, whatever its CRC says. */
#define JOURNAL_REC_MAX ((size_t)1 << 30)

struct journal_head {
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

/* CRC32C (Castagnoli), continued from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n);

/* The header of a segment whose first record is N first. */
void journal_head_put(
    unsigned char out[JOURNAL_HEAD], const char *epoch, uint64_t first);
/* Read a header: 0, or -1 with *why ("not a journal segment" ...). */
int journal_head_get(
    const unsigned char *b, size_t n, struct journal_head *, const char **why);

/* Append r as a record to out; SSE_OK or SSE_ERR_TOO_BIG (out unchanged). */
int journal_rec_put(struct sse_buf *out, const struct journal_rec *r);
/*
 * The record at b[0..n): its size, with *r filled (views into b); -2 when
 * b ends inside it; -1 with *why when it is corrupt (its CRC, a length
 * past JOURNAL_REC_MAX, an id outside the event).
 */
long long journal_rec_get(
    const char *b, size_t n, struct journal_rec *r, const char **why);

#endif
