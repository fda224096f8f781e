/*
 * The journal's format (journal.h): CRC32C, the segment header and the
 * records, with explicit little-endian stores so that a journal moves
 * between machines.
 */
#include <string.h>

#include "journal.h"
#include "parser.h"

/* CRC32C, reflected polynomial 0x82f63b78, a byte at a time. */
static const uint32_t crc_table[256] = {
    0x00000000u,
    0xf26b8303u,
    0xe13b70f7u,
    0x1350f3f4u,
    0xc79a971fu,
    0x35f1141cu,
    0x26a1e7e8u,
    0xd4ca64ebu,
    0x8ad958cfu,
    0x78b2dbccu,
    0x6be22838u,
    0x9989ab3bu,
    0x4d43cfd0u,
    0xbf284cd3u,
    0xac78bf27u,
    0x5e133c24u,
    0x105ec76fu,
    0xe235446cu,
    0xf165b798u,
    0x030e349bu,
    0xd7c45070u,
    0x25afd373u,
    0x36ff2087u,
    0xc494a384u,
    0x9a879fa0u,
    0x68ec1ca3u,
    0x7bbcef57u,
    0x89d76c54u,
    0x5d1d08bfu,
    0xaf768bbcu,
    0xbc267848u,
    0x4e4dfb4bu,
    0x20bd8edeu,
    0xd2d60dddu,
    0xc186fe29u,
    0x33ed7d2au,
    0xe72719c1u,
    0x154c9ac2u,
    0x061c6936u,
    0xf477ea35u,
    0xaa64d611u,
    0x580f5512u,
    0x4b5fa6e6u,
    0xb93425e5u,
    0x6dfe410eu,
    0x9f95c20du,
    0x8cc531f9u,
    0x7eaeb2fau,
    0x30e349b1u,
    0xc288cab2u,
    0xd1d83946u,
    0x23b3ba45u,
    0xf779deaeu,
    0x05125dadu,
    0x1642ae59u,
    0xe4292d5au,
    0xba3a117eu,
    0x4851927du,
    0x5b016189u,
    0xa96ae28au,
    0x7da08661u,
    0x8fcb0562u,
    0x9c9bf696u,
    0x6ef07595u,
    0x417b1dbcu,
    0xb3109ebfu,
    0xa0406d4bu,
    0x522bee48u,
    0x86e18aa3u,
    0x748a09a0u,
    0x67dafa54u,
    0x95b17957u,
    0xcba24573u,
    0x39c9c670u,
    0x2a993584u,
    0xd8f2b687u,
    0x0c38d26cu,
    0xfe53516fu,
    0xed03a29bu,
    0x1f682198u,
    0x5125dad3u,
    0xa34e59d0u,
    0xb01eaa24u,
    0x42752927u,
    0x96bf4dccu,
    0x64d4cecfu,
    0x77843d3bu,
    0x85efbe38u,
    0xdbfc821cu,
    0x2997011fu,
    0x3ac7f2ebu,
    0xc8ac71e8u,
    0x1c661503u,
    0xee0d9600u,
    0xfd5d65f4u,
    0x0f36e6f7u,
    0x61c69362u,
    0x93ad1061u,
    0x80fde395u,
    0x72966096u,
    0xa65c047du,
    0x5437877eu,
    0x4767748au,
    0xb50cf789u,
    0xeb1fcbadu,
    0x197448aeu,
    0x0a24bb5au,
    0xf84f3859u,
    0x2c855cb2u,
    0xdeeedfb1u,
    0xcdbe2c45u,
    0x3fd5af46u,
    0x7198540du,
    0x83f3d70eu,
    0x90a324fau,
    0x62c8a7f9u,
    0xb602c312u,
    0x44694011u,
    0x5739b3e5u,
    0xa55230e6u,
    0xfb410cc2u,
    0x092a8fc1u,
    0x1a7a7c35u,
    0xe811ff36u,
    0x3cdb9bddu,
    0xceb018deu,
    0xdde0eb2au,
    0x2f8b6829u,
    0x82f63b78u,
    0x709db87bu,
    0x63cd4b8fu,
    0x91a6c88cu,
    0x456cac67u,
    0xb7072f64u,
    0xa457dc90u,
    0x563c5f93u,
    0x082f63b7u,
    0xfa44e0b4u,
    0xe9141340u,
    0x1b7f9043u,
    0xcfb5f4a8u,
    0x3dde77abu,
    0x2e8e845fu,
    0xdce5075cu,
    0x92a8fc17u,
    0x60c37f14u,
    0x73938ce0u,
    0x81f80fe3u,
    0x55326b08u,
    0xa759e80bu,
    0xb4091bffu,
    0x466298fcu,
    0x1871a4d8u,
    0xea1a27dbu,
    0xf94ad42fu,
    0x0b21572cu,
    0xdfeb33c7u,
    0x2d80b0c4u,
    0x3ed04330u,
    0xccbbc033u,
    0xa24bb5a6u,
    0x502036a5u,
    0x4370c551u,
    0xb11b4652u,
    0x65d122b9u,
    0x97baa1bau,
    0x84ea524eu,
    0x7681d14du,
    0x2892ed69u,
    0xdaf96e6au,
    0xc9a99d9eu,
    0x3bc21e9du,
    0xef087a76u,
    0x1d63f975u,
    0x0e330a81u,
    0xfc588982u,
    0xb21572c9u,
    0x407ef1cau,
    0x532e023eu,
    0xa145813du,
    0x758fe5d6u,
    0x87e466d5u,
    0x94b49521u,
    0x66df1622u,
    0x38cc2a06u,
    0xcaa7a905u,
    0xd9f75af1u,
    0x2b9cd9f2u,
    0xff56bd19u,
    0x0d3d3e1au,
    0x1e6dcdeeu,
    0xec064eedu,
    0xc38d26c4u,
    0x31e6a5c7u,
    0x22b65633u,
    0xd0ddd530u,
    0x0417b1dbu,
    0xf67c32d8u,
    0xe52cc12cu,
    0x1747422fu,
    0x49547e0bu,
    0xbb3ffd08u,
    0xa86f0efcu,
    0x5a048dffu,
    0x8ecee914u,
    0x7ca56a17u,
    0x6ff599e3u,
    0x9d9e1ae0u,
    0xd3d3e1abu,
    0x21b862a8u,
    0x32e8915cu,
    0xc083125fu,
    0x144976b4u,
    0xe622f5b7u,
    0xf5720643u,
    0x07198540u,
    0x590ab964u,
    0xab613a67u,
    0xb831c993u,
    0x4a5a4a90u,
    0x9e902e7bu,
    0x6cfbad78u,
    0x7fab5e8cu,
    0x8dc0dd8fu,
    0xe330a81au,
    0x115b2b19u,
    0x020bd8edu,
    0xf0605beeu,
    0x24aa3f05u,
    0xd6c1bc06u,
    0xc5914ff2u,
    0x37faccf1u,
    0x69e9f0d5u,
    0x9b8273d6u,
    0x88d28022u,
    0x7ab90321u,
    0xae7367cau,
    0x5c18e4c9u,
    0x4f48173du,
    0xbd23943eu,
    0xf36e6f75u,
    0x0105ec76u,
    0x12551f82u,
    0xe03e9c81u,
    0x34f4f86au,
    0xc69f7b69u,
    0xd5cf889du,
    0x27a40b9eu,
    0x79b737bau,
    0x8bdcb4b9u,
    0x988c474du,
    0x6ae7c44eu,
    0xbe2da0a5u,
    0x4c4623a6u,
    0x5f16d052u,
    0xad7d5351u,

};

static uint32_t
crc_table_run(uint32_t crc, const unsigned char *b, size_t n)
{
	while (n-- > 0)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The SSE4.2 crc32 instruction: eight bytes a cycle or so. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw_run(uint32_t crc, const unsigned char *b, size_t n)
{
	uint64_t c = crc, w;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	if (n >= 4) { /* the tail in 3 steps at most, not 7 */
		uint32_t v;

		memcpy(&v, b, 4);
		crc = __builtin_ia32_crc32si(crc, v);
		b += 4;
		n -= 4;
	}
	for (; n > 0; n--)
		crc = __builtin_ia32_crc32qi(crc, *b++);
	return crc;
}

static bool
crc_hw(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t
crc_hw_run(uint32_t crc, const unsigned char *b, size_t n)
{
	return crc_table_run(crc, b, n);
}

static bool
crc_hw(void)
{
	return false;
}
#endif

uint32_t
journal_crc32c(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;

	crc = ~crc;
	crc = crc_hw() ? crc_hw_run(crc, b, n) : crc_table_run(crc, b, n);
	return ~crc;
}

static void
put32(unsigned char *w, uint32_t v)
{
	w[0] = (unsigned char)v;
	w[1] = (unsigned char)(v >> 8);
	w[2] = (unsigned char)(v >> 16);
	w[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *w, uint64_t v)
{
	put32(w, (uint32_t)v);
	put32(w + 4, (uint32_t)(v >> 32));
}

static uint32_t
get32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static uint64_t
get64(const unsigned char *b)
{
	return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

void
journal_head_put(
    unsigned char out[JOURNAL_HEAD], const char *epoch, uint64_t first)
{
	size_t n = strlen(epoch);

	memset(out, 0, JOURNAL_HEAD);
	memcpy(out, JOURNAL_MAGIC, 8);
	put32(out + 8, JOURNAL_VERSION);
	put32(out + 12, JOURNAL_HEAD);
	put64(out + 16, first);
	memcpy(out + 24, epoch, n < JOURNAL_EPOCH_MAX ? n : JOURNAL_EPOCH_MAX);
	put32(out + 56, journal_crc32c(0, out, 56));
}

int
journal_head_get(
    const unsigned char *b, size_t n, struct journal_head *h, const char **why)
{
	size_t i;

	if (n < JOURNAL_HEAD || memcmp(b, JOURNAL_MAGIC, 8) != 0) {
		*why = "not a journal segment";
		return -1;
	}
	h->version = get32(b + 8);
	if (h->version != JOURNAL_VERSION) {
		*why = "a journal format version this sse does not read";
		return -2;
	}
	if (get32(b + 12) != JOURNAL_HEAD) {
		*why = "the segment header's size is wrong";
		return -1;
	}
	if (get32(b + 56) != journal_crc32c(0, b, 56)) {
		*why = "the segment header's checksum is wrong";
		return -1;
	}
	h->first = get64(b + 16);
	memcpy(h->epoch, b + 24, JOURNAL_EPOCH_MAX);
	h->epoch[JOURNAL_EPOCH_MAX] = '\0';
	for (i = 0; h->epoch[i] != '\0'; i++)
		if (h->epoch[i] == '-' || (unsigned char)h->epoch[i] < 0x21) {
			*why = "the segment header's epoch is not one";
			return -1;
		}
	/* What is not used is zero: one header has one form. */
	for (n = 24 + i; n < 56; n++)
		if (b[n] != 0) {
			*why = "the segment header's padding is not zero";
			return -1;
		}
	if (get32(b + 60) != 0) {
		*why = "the segment header's padding is not zero";
		return -1;
	}
	if (i == 0 || h->first == 0) {
		*why = "the segment header is empty";
		return -1;
	}
	return 0;
}

/* The id serve gives event N: EPOCH-N, in at->id. */
static void
at_id(struct journal_at *at, uint64_t n)
{
	char num[21], *p = num + sizeof(num);
	size_t k;

	memcpy(at->id, at->epoch, at->epoch_len);
	at->id[at->epoch_len] = '-';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	k = (size_t)(num + sizeof(num) - p);
	memcpy(at->id + at->epoch_len + 1, p, k);
	at->id_len = at->epoch_len + 1 + k;
}

/* The next record: N + 1, in at->id too, counted in decimal. */
static void
at_next(struct journal_at *at)
{
	size_t i = at->id_len;

	if (++at->next == 0) { /* 2^64: not an id serve gives */
		at->id_len = 0;
		return;
	}
	while (i > at->epoch_len + 1 && at->id[i - 1] == '9')
		at->id[--i] = '0';
	if (i > at->epoch_len + 1) {
		at->id[i - 1]++;
		return;
	}
	at_id(at, at->next); /* 99 to 100: one digit more */
}

/* Is id[0..len) EPOCH-N of the next record? */
static bool
is_our_id(const struct journal_at *at, const char *id, size_t len)
{
	uint64_t a, b, c, d;

	if (at->epoch_len == 0 || at->id_len == 0 || len != at->id_len)
		return false;
	if (len < 8 || len > 16)
		return memcmp(id, at->id, len) == 0;
	/* The usual id, 8 to 16 bytes: two words each, overlapping. */
	memcpy(&a, id, 8);
	memcpy(&b, id + len - 8, 8);
	memcpy(&c, at->id, 8);
	memcpy(&d, at->id + len - 8, 8);
	return a == c && b == d;
}

void
journal_at_init(struct journal_at *at, const struct journal_head *h)
{
	memcpy(at->epoch, h->epoch, sizeof(at->epoch));
	at->epoch_len = strlen(at->epoch);
	at->next = h->first;
	at->time_ms = 0;
	at_id(at, at->next);
}

enum {
	ID_NONE = 0,
	ID_OURS = 1, /* EPOCH-N, implied */
	ID_OTHER = 2,
	ID_MASK = 3,
	HAS_STEP = 4,
};

/* LEB128: at most 10 bytes. */
static size_t
varint_put(unsigned char *w, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		w[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	w[n++] = (unsigned char)v;
	return n;
}

/*
 * A varint at b[0..n) in its shortest form, of at most max bytes: its
 * size, -2 when b ends inside it, -1 when it is longer or not shortest.
 */
static int
varint_get(const unsigned char *b, size_t n, size_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
		if ((b[i] & 0x80) == 0) {
			/* no zero last byte but for 0 itself; and 64 bits */
			if ((i > 0 && b[i] == 0) || (i == 9 && b[i] > 1))
				return -1;
			*v = x;
			return (int)i + 1;
		}
	}
	return i == max ? -1 : -2;
}

#define LEN_MAX 5 /* bytes of a varint up to JOURNAL_REC_MAX */
#define HEAD_MAX (1 + 3 * 10) /* flags, step, id place */

int
journal_rec_put(
    struct sse_buf *out, struct journal_at *at, const struct journal_rec *r)
{
	unsigned char head[HEAD_MAX], *w, *p;
	size_t hn = 1, body, skip = 0, i;
	uint64_t step = (uint64_t)r->time_ms - (uint64_t)at->time_ms;

	if (r->n != at->next ||
	    (r->has_id &&
		(r->id_off > r->len || r->id_len > r->len - r->id_off)))
		return SSE_ERR_INVALID;
	head[0] = ID_NONE;
	if (step != 0) {
		head[0] |= HAS_STEP;
		/* zigzag: small steps back or forth, few bytes */
		hn += varint_put(
		    head + hn, step << 1 ^ (uint64_t)((int64_t)step >> 63));
	}
	if (r->has_id) {
		if (is_our_id(at, r->bytes + r->id_off, r->id_len)) {
			head[0] |= ID_OURS;
			skip = r->id_len;
		} else
			head[0] |= ID_OTHER;
		hn += varint_put(head + hn, r->id_off);
		if (skip == 0)
			hn += varint_put(head + hn, r->id_len);
	}
	body = hn + r->len - skip;
	if (body > JOURNAL_REC_MAX ||
	    sse_buf_room(out, 4 + LEN_MAX + body + 8) == -1)
		return SSE_ERR_TOO_BIG;
	w = (unsigned char *)out->p + out->len;
	p = w + 4;
	p += varint_put(p, body);
	for (i = 0; i < hn; i++)
		*p++ = head[i];
	if (skip == 0) {
		memcpy(p, r->bytes, r->len);
	} else {
		/* "id: " before the id, as serve writes it: one word (what
		 * it copies past the offset is written over, or lies past
		 * the record, in the room kept for it) */
		if (r->id_off <= 8 && r->len >= 8)
			memcpy(p, r->bytes, 8);
		else
			memcpy(p, r->bytes, r->id_off);
		memcpy(p + r->id_off, r->bytes + r->id_off + skip,
		    r->len - r->id_off - skip);
	}
	p += r->len - skip;
	put32(w, journal_crc32c(0, w + 4, (size_t)(p - w - 4)));
	out->len += (size_t)(p - w);
	at_next(at);
	at->time_ms = r->time_ms;
	return SSE_OK;
}

long long
journal_rec_size(const char *b, size_t n)
{
	uint64_t body;
	int k;

	if (n < 4)
		return -2;
	k = varint_get((const unsigned char *)b + 4, n - 4, LEN_MAX, &body);
	if (k < 0)
		return k;
	if (body == 0 || body > JOURNAL_REC_MAX)
		return -1;
	return (long long)(4 + (uint64_t)k + body);
}

/* The body's head (flags, step, id place): its size, or -1 and *why. */
static int
head_get(const unsigned char *u, size_t n, uint64_t *step, uint64_t *off,
    uint64_t *len, const char **why)
{
	size_t h = 1;
	int k;

	*step = *off = *len = 0;
	if ((u[0] & ~(ID_MASK | HAS_STEP)) != 0 || (u[0] & ID_MASK) == 3) {
		*why = "a record's flags are unknown";
		return -1;
	}
	if (u[0] & HAS_STEP) {
		if ((k = varint_get(u + h, n - h, 10, step)) < 0 || *step == 0)
			goto bad;
		h += (size_t)k;
	}
	if ((u[0] & ID_MASK) != ID_NONE) {
		if ((k = varint_get(u + h, n - h, 10, off)) < 0)
			goto bad;
		h += (size_t)k;
	}
	if ((u[0] & ID_MASK) == ID_OTHER) {
		if ((k = varint_get(u + h, n - h, 10, len)) < 0)
			goto bad;
		h += (size_t)k;
	}
	return (int)h;
bad:
	*why = "a record's head is not one";
	return -1;
}

long long
journal_rec_get(struct journal_at *at, const char *b, size_t n,
    struct journal_rec *r, struct sse_buf *ev, const char **why)
{
	const unsigned char *u = (const unsigned char *)b;
	uint64_t body, step, off, len, zz;
	size_t idn = 0;
	int ln, hn;

	if (n < 4 || (ln = varint_get(u + 4, n - 4, LEN_MAX, &body)) == -2)
		return -2;
	if (ln < 0 || body == 0 || body > JOURNAL_REC_MAX) {
		*why = "a record's length is impossible";
		return -1;
	}
	if (n - 4 - (size_t)ln < body)
		return -2;
	if (get32(u) != journal_crc32c(0, u + 4, (size_t)ln + (size_t)body)) {
		*why = "a record's checksum is wrong";
		return -1;
	}
	u += 4 + ln;
	if ((hn = head_get(u, (size_t)body, &step, &off, &len, why)) < 0)
		return -1;
	zz = step >> 1 ^ (0 - (step & 1)); /* zigzag back */
	r->n = at->next;
	r->time_ms = (int64_t)((uint64_t)at->time_ms + zz);
	r->bytes = (const char *)u + hn;
	r->len = (size_t)body - (size_t)hn;
	r->has_id = (u[0] & ID_MASK) != ID_NONE;
	r->id_off = (size_t)off;
	r->id_len = (size_t)len;
	if (r->has_id && r->id_off > r->len) {
		*why = "a record's id lies outside its event";
		return -1;
	}
	if ((u[0] & ID_MASK) == ID_OTHER) {
		if (r->id_len > r->len - r->id_off) {
			*why = "a record's id lies outside its event";
			return -1;
		}
		if (is_our_id(at, r->bytes + r->id_off, r->id_len)) {
			*why = "a record's id is not in its form";
			return -1;
		}
	} else if ((u[0] & ID_MASK) == ID_OURS) {
		if (at->epoch_len == 0 || at->id_len == 0) {
			*why = "a record's id is not in its form";
			return -1;
		}
		/* EPOCH-N back in its place, in ev */
		idn = at->id_len;
		sse_buf_reset(ev);
		if (sse_buf_add(ev, r->bytes, r->id_off) == -1 ||
		    sse_buf_add(ev, at->id, idn) == -1 ||
		    sse_buf_add(ev, r->bytes + r->id_off, r->len - r->id_off) ==
			-1) {
			*why = "out of memory";
			return -1;
		}
		r->bytes = ev->p;
		r->len = ev->len;
		r->id_len = idn;
	}
	at_next(at);
	at->time_ms = r->time_ms;
	return 4 + (long long)ln + (long long)body;
}
