/*
 * The event log, serve's history ring of serialized events: see evlog.h.
 */
#include <stdlib.h>
#include <string.h>

#include "evlog.h"

struct evlog_rec {
	uint64_t off; /* absolute offset of the event's first byte */
	uint64_t id_off; /* absolute offset of its id, when indexed */
	/*
	 * By number (!l->hashed): 1 + the number of the newest indexed id
	 * at or before this event (0: none yet), so keys never decrease
	 * along the ring. By hash: the hash of its id.
	 */
	uint64_t key;
	uint32_t len;
	uint32_t id_len;
	int indexed;
};

#define FNV_OFFSET 0xcbf29ce484222325ULL

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL; /* FNV-1a */
	}
	return h;
}

static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = fnv(FNV_OFFSET, p, n);

	return h ^ (h >> 29);
}

/*
 * The value of an id that is the log's prefix and a plain decimal number
 * (digits only, no leading zero, at most 19 digits so that it fits): 1
 * and *v, else 0.
 */
static int
id_number(const struct evlog *l, const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned d;
	size_t i;

	if (n < l->prefix_len || memcmp(p, l->prefix, l->prefix_len) != 0)
		return 0;
	p += l->prefix_len;
	n -= l->prefix_len;

	if (n == 0 || n > 19 || (p[0] == '0' && n > 1))
		return 0;
	for (i = 0; i < n; i++) {
		if ((d = (unsigned)(unsigned char)p[i] - '0') > 9)
			return 0;
		x = x * 10 + d;
	}
	*v = x;
	return 1;
}

static struct evlog_rec *
rec(const struct evlog *l, uint64_t seq)
{
	return &l->recs[seq & l->rmask];
}

int
evlog_init(struct evlog *l, size_t max_events, size_t max_bytes)
{
	size_t hsize = 16, rsize = 1;

	memset(l, 0, sizeof(*l));
	if (max_events == 0 || max_bytes == 0 || max_events > SIZE_MAX / 4)
		return -1;
	while (hsize < max_events * 2)
		hsize *= 2;
	/* Records by seq & mask: a power of two spares a division. */
	while (rsize < max_events)
		rsize *= 2;
	l->ring = malloc(max_bytes);
	l->recs = calloc(rsize, sizeof(*l->recs));
	l->htab = calloc(hsize, sizeof(*l->htab));
	if (l->ring == NULL || l->recs == NULL || l->htab == NULL) {
		evlog_release(l);
		return -1;
	}
	l->max_bytes = max_bytes;
	l->max_events = max_events;
	l->hmask = hsize - 1;
	l->rmask = rsize - 1;
	l->first = l->next = 1;
	return 0;
}

int
evlog_set_prefix(struct evlog *l, const char *p, size_t len)
{
	if (len >= sizeof(l->prefix) || l->next != l->first || l->hashed)
		return -1;
	memcpy(l->prefix, p, len);
	l->prefix_len = len;
	return 0;
}

void
evlog_release(struct evlog *l)
{
	free(l->ring);
	free(l->recs);
	free(l->htab);
	memset(l, 0, sizeof(*l));
}

/* Compare [p, p + n) with the ring bytes at absolute offset off. */
static int
ring_eq(const struct evlog *l, uint64_t off, const char *p, size_t n)
{
	size_t at = (size_t)(off % l->max_bytes);
	size_t first = l->max_bytes - at;

	if (first >= n)
		return memcmp(l->ring + at, p, n) == 0;
	return memcmp(l->ring + at, p, first) == 0 &&
	    memcmp(l->ring, p + first, n - first) == 0;
}

/* Compare the n ring bytes at absolute offsets a and b (ids at the
 * switch to the hash index: rare, short, and either may wrap). */
static int
ring_eq_ring(const struct evlog *l, uint64_t a, uint64_t b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l->ring[(a + i) % l->max_bytes] !=
		    l->ring[(b + i) % l->max_bytes])
			return 0;
	return 1;
}

/*
 * The htab slot holding the id, or the empty slot where it would go. The
 * id is [id, id + len), or when id is NULL the len ring bytes at id_off.
 */
static size_t
slot_of(const struct evlog *l, uint64_t hash, const char *id, uint64_t id_off,
    size_t len, int *found)
{
	size_t i = (size_t)hash & l->hmask;
	const struct evlog_rec *r;

	for (;; i = (i + 1) & l->hmask) {
		if (l->htab[i].seq1 == 0) {
			*found = 0;
			return i;
		}
		/* The hash is in the slot: only a likely match costs a
		 * look at the record and the ring. */
		if (l->htab[i].hash != hash)
			continue;
		r = rec(l, l->htab[i].seq1 - 1);
		if (r->id_len == len &&
		    (id != NULL ? ring_eq(l, r->id_off, id, len)
				: ring_eq_ring(l, r->id_off, id_off, len))) {
			*found = 1;
			return i;
		}
	}
}

/* Remove slot i, shifting later entries of the probe run back (no
 * tombstones, so lookups stay short however many events pass through). */
static void
htab_delete(struct evlog *l, size_t i)
{
	size_t j = i, k;

	for (;;) {
		j = (j + 1) & l->hmask;
		if (l->htab[j].seq1 == 0)
			break;
		k = (size_t)l->htab[j].hash & l->hmask;
		/* Move j to i unless its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		l->htab[i] = l->htab[j];
		i = j;
	}
	l->htab[i].seq1 = 0;
}

/* The hash of the id of a record, from the ring (where it may wrap). */
static uint64_t
rec_hash(const struct evlog *l, const struct evlog_rec *r)
{
	size_t at = (size_t)(r->id_off % l->max_bytes);
	size_t first = l->max_bytes - at;
	uint64_t h;

	if (first >= r->id_len) {
		h = fnv(FNV_OFFSET, l->ring + at, r->id_len);
	} else {
		h = fnv(FNV_OFFSET, l->ring + at, first);
		h = fnv(h, l->ring, r->id_len - first);
	}
	return h ^ (h >> 29);
}

/* Put record seq, in place in the ring, in the hash index. */
static void
htab_insert(struct evlog *l, uint64_t seq, const char *id)
{
	struct evlog_rec *r = rec(l, seq);
	size_t i;
	int found;

	i = slot_of(l, r->key, id, r->id_off, r->id_len, &found);
	l->htab[i].seq1 = seq + 1; /* the newest event wins */
	l->htab[i].hash = r->key;
}

/*
 * An id that is not a number above the last came: from now on ids are
 * found by hash. Index every event held, oldest first, so that the newest
 * of equal ids wins.
 */
static void
switch_to_hash(struct evlog *l)
{
	struct evlog_rec *r;
	uint64_t seq;

	l->hashed = 1;
	for (seq = l->first; seq != l->next; seq++) {
		r = rec(l, seq);
		if (!r->indexed)
			continue;
		r->key = rec_hash(l, r);
		htab_insert(l, seq, NULL);
	}
}

static void
evict_oldest(struct evlog *l)
{
	uint64_t seq = l->first;
	struct evlog_rec *r = rec(l, seq);
	size_t i;

	/* Unindex it, unless a newer event with the same id took the slot. */
	if (r->indexed && l->hashed)
		for (i = (size_t)r->key & l->hmask; l->htab[i].seq1 != 0;
		     i = (i + 1) & l->hmask)
			if (l->htab[i].seq1 == seq + 1) {
				htab_delete(l, i);
				break;
			}
	l->tail = r->off + r->len;
	l->first++;
}

int
evlog_append(struct evlog *l, const char *bytes, size_t len, const char *id,
    size_t id_len)
{
	return evlog_append_keep(l, bytes, len, id, id_len, UINT64_MAX);
}

int
evlog_append_keep(struct evlog *l, const char *bytes, size_t len,
    const char *id, size_t id_len, uint64_t keep)
{
	struct evlog_rec *r;
	size_t at, first;
	uint64_t num;

	if (len == 0 || len > l->max_bytes || len > UINT32_MAX)
		return -1;
	if (id != NULL &&
	    (id < bytes || id_len > len || (size_t)(id - bytes) > len - id_len))
		return -1;
	while (l->next - l->first >= l->max_events ||
	    l->head - l->tail + len > l->max_bytes) {
		r = rec(l, l->first);
		if (r->off + r->len > keep)
			return EVLOG_FULL;
		evict_oldest(l);
	}
	at = l->head_at;
	first = l->max_bytes - at;
	if (first > len) {
		memcpy(l->ring + at, bytes, len);
		l->head_at = at + len;
	} else {
		memcpy(l->ring + at, bytes, first);
		memcpy(l->ring, bytes + first, len - first);
		l->head_at = len - first;
	}
	r = rec(l, l->next);
	r->off = l->head;
	r->len = (uint32_t)len;
	r->indexed = id != NULL;
	r->key = l->last_key; /* by number: what an unindexed event carries */
	if (id != NULL) {
		r->id_off = l->head + (uint64_t)(id - bytes);
		r->id_len = (uint32_t)id_len;
		/* Ids that are rising numbers need no index: the keys are
		 * sorted along the ring and a lookup is a binary search. */
		if (!l->hashed && id_number(l, id, id_len, &num) &&
		    num + 1 > l->last_key)
			r->key = l->last_key = num + 1;
		else if (!l->hashed)
			switch_to_hash(l);
	}
	l->head += len;
	if (id != NULL && l->hashed) {
		/* The record is in place, so slot_of can compare ring bytes. */
		r->key = hash_bytes(id, id_len);
		htab_insert(l, l->next, id);
	}
	l->next++;
	return 0;
}

long long
evlog_read(const struct evlog *l, uint64_t cursor, struct evlog_span *s)
{
	size_t n, at, first;

	s->p[0] = s->p[1] = NULL;
	s->len[0] = s->len[1] = 0;
	if (cursor < l->tail || cursor > l->head)
		return EVLOG_LOST;
	n = (size_t)(l->head - cursor);
	if (n == 0)
		return 0;
	at = (size_t)(cursor % l->max_bytes);
	first = l->max_bytes - at;
	s->p[0] = l->ring + at;
	if (first >= n) {
		s->len[0] = n;
	} else {
		s->len[0] = first;
		s->p[1] = l->ring;
		s->len[1] = n - first;
	}
	return (long long)n;
}

int
evlog_find_id(
    const struct evlog *l, const char *id, size_t len, uint64_t *cursor)
{
	const struct evlog_rec *r;
	uint64_t num, lo = l->first, hi = l->next, mid;
	size_t i;
	int found;

	if (l->htab == NULL)
		return -1;
	if (l->hashed) {
		i = slot_of(l, hash_bytes(id, len), id, 0, len, &found);
		if (!found)
			return -1;
		r = rec(l, l->htab[i].seq1 - 1);
	} else {
		/* The first event whose key reaches num + 1 is the one with
		 * that id, if it is held. */
		if (!id_number(l, id, len, &num))
			return -1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (rec(l, mid)->key < num + 1)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == l->next)
			return -1;
		r = rec(l, lo);
		if (!r->indexed || r->key != num + 1)
			return -1;
	}
	*cursor = r->off + r->len;
	return 0;
}

uint64_t
evlog_backlog(const struct evlog *l, size_t n)
{
	if (n == 0 || l->next == l->first)
		return l->head;
	if (n >= l->next - l->first)
		return l->tail;
	return rec(l, l->next - n)->off;
}

uint64_t
evlog_seq_at(const struct evlog *l, uint64_t cursor)
{
	uint64_t lo = l->first, hi = l->next, mid;

	if (cursor <= l->tail)
		return l->first - 1;
	if (cursor >= l->head)
		return l->next - 1;
	while (lo < hi) { /* the first event that starts at or after it */
		mid = lo + (hi - lo) / 2;
		if (rec(l, mid)->off < cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Inside event lo - 1 (it ends after the cursor): not wholly. */
	if (lo == l->next || rec(l, lo)->off > cursor)
		return lo - 2;
	return lo - 1;
}

uint64_t
evlog_behind(
    const struct evlog *l, uint64_t cursor, size_t events, size_t bytes)
{
	uint64_t lo = l->first, hi = l->next, mid, at, by;

	if (cursor <= l->tail || lo == hi)
		return l->tail;
	if (cursor >= l->head) {
		at = l->next; /* every event held is behind the cursor */
	} else {
		/* The event that holds the cursor: the last that starts at or
		 * before it (offsets grow with seq). */
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (rec(l, mid)->off <= cursor)
				lo = mid;
			else
				hi = mid;
		}
		at = lo;
	}
	by = cursor - l->tail > bytes ? cursor - bytes : l->tail;
	if (at - l->first <= events)
		return by;
	at = rec(l, at - events)->off;
	return at > by ? at : by;
}
