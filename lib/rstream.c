/* The stream in Redis, without a connection; see rstream.h. */
#include <stdio.h>
#include <string.h>

#include "rstream.h"

static size_t
put(const char *f[], size_t flen[], size_t n, const char *name, const char *v,
    size_t vlen)
{
	f[n] = name;
	flen[n] = strlen(name);
	f[n + 1] = v;
	flen[n + 1] = vlen;
	return n + 2;
}

size_t
rstream_fields(
    const struct sse_event *ev, const char *f[], size_t flen[], char num[24])
{
	size_t n = 0;

	n = put(f, flen, n, "data", ev->data ? ev->data : "", ev->data_len);
	if (ev->type_len > 0 &&
	    !(ev->type_len == sizeof(SSE_DEFAULT_TYPE) - 1 &&
		memcmp(ev->type, SSE_DEFAULT_TYPE, ev->type_len) == 0))
		n = put(f, flen, n, "event", ev->type, ev->type_len);
	if (ev->has_id)
		n = put(f, flen, n, "id", ev->id ? ev->id : "", ev->id_len);
	if (ev->retry >= 0) {
		int k = snprintf(num, 24, "%lld", (long long)ev->retry);

		n = put(f, flen, n, "retry", num, (size_t)k);
	}
	return n;
}

static bool
is(const char *p, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(p, name, len) == 0;
}

static bool
has_eol(const char *p, size_t len)
{
	return memchr(p, '\r', len) != NULL || memchr(p, '\n', len) != NULL;
}

static int
u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
rstream_event(struct sse_event *ev, const char *const f[], const size_t flen[],
    size_t n, const char **why)
{
	uint64_t r;
	size_t i;

	sse_event_init(ev);
	ev->data = "";
	for (i = 0; i + 1 < n; i += 2) {
		const char *v = f[i + 1];
		size_t vlen = flen[i + 1];

		if (is(f[i], flen[i], "data")) {
			ev->data = v;
			ev->data_len = vlen;
		} else if (is(f[i], flen[i], "event")) {
			if (vlen == 0 || has_eol(v, vlen)) {
				*why = "bad event field";
				return -1;
			}
			ev->type = v;
			ev->type_len = vlen;
		} else if (is(f[i], flen[i], "id")) {
			if (has_eol(v, vlen) || memchr(v, '\0', vlen)) {
				*why = "bad id field";
				return -1;
			}
			ev->id = v;
			ev->id_len = vlen;
			ev->has_id = true;
		} else if (is(f[i], flen[i], "retry")) {
			if (u64(v, vlen, &r) == -1 || r > INT64_MAX) {
				*why = "bad retry field";
				return -1;
			}
			ev->retry = (int64_t)r;
		}
	}
	return 0;
}

int
rstream_id_parse(const char *s, size_t len, uint64_t *ms, uint64_t *seq)
{
	const char *dash = memchr(s, '-', len);

	if (dash == NULL || u64(s, (size_t)(dash - s), ms) == -1 ||
	    u64(dash + 1, len - (size_t)(dash + 1 - s), seq) == -1)
		return -1;
	return 0;
}

int
rstream_epoch_parse(struct rstream_epoch *e, const char *v, size_t len)
{
	const char *sp = memchr(v, ' ', len);
	size_t i, n;

	if (sp == NULL || sp == v || (n = (size_t)(sp - v)) > RSTREAM_EPOCH_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') || c == '_'))
			return -1;
	}
	if (u64(sp + 1, len - n - 1, &e->base) == -1)
		return -1;
	memcpy(e->name, v, n);
	e->name[n] = '\0';
	return 0;
}

void
rstream_epoch_make(
    char out[RSTREAM_EPOCH_LEN + 1], const unsigned char rnd[RSTREAM_EPOCH_LEN])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";

	for (int i = 0; i < RSTREAM_EPOCH_LEN; i++)
		out[i] = digits[rnd[i] & 31];
	out[RSTREAM_EPOCH_LEN] = '\0';
}

size_t
rstream_label(const struct rstream_epoch *e, uint64_t ms, uint64_t seq,
    char out[RSTREAM_LABEL_MAX + 1])
{
	size_t k = strlen(e->name), d = 0;
	char digits[20];
	int n;

	if (ms == 0) { /* every entry: no printf */
		do
			digits[d++] = (char)('0' + seq % 10);
		while ((seq /= 10) != 0);
		memcpy(out, e->name, k);
		out[k++] = '-';
		while (d > 0)
			out[k++] = digits[--d];
		out[k] = '\0';
		return k;
	} else
		n = snprintf(out, RSTREAM_LABEL_MAX + 1, "%s-%llu-%llu",
		    e->name, (unsigned long long)ms, (unsigned long long)seq);
	return (size_t)n;
}

enum rstream_step
rstream_pos_next(struct rstream_pos *pos, uint64_t ms, uint64_t seq)
{
	bool fresh = pos->fresh;

	if (ms != 0) {
		pos->fresh = false;
		return RSTREAM_FOREIGN;
	}
	if (seq <= pos->seq && !fresh)
		return RSTREAM_OLD;
	pos->fresh = false;
	if (!fresh && seq != pos->seq + 1) {
		pos->seq = seq;
		return RSTREAM_GAP;
	}
	pos->seq = seq;
	return RSTREAM_NEXT;
}

enum rstream_change
rstream_pos_epoch(struct rstream_pos *pos, const struct rstream_epoch *now)
{
	if (strcmp(pos->epoch.name, now->name) == 0) {
		pos->epoch.base = now->base;
		return RSTREAM_SAME;
	}
	pos->epoch = *now;
	if (pos->seq > now->base) {
		pos->seq = now->base;
		return RSTREAM_REWIND;
	}
	return RSTREAM_SWITCH;
}

int
rstream_version(const char *info, size_t len)
{
	static const char key[] = "redis_version:";
	const char *p = info, *end = info + len;
	int v = 0, digits = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;

		if ((size_t)(eol - p) > sizeof(key) - 1 &&
		    memcmp(p, key, sizeof(key) - 1) == 0) {
			for (p += sizeof(key) - 1;
			     p < eol && *p >= '0' && *p <= '9' && v < 100000;
			     p++)
				v = v * 10 + (*p - '0'), digits++;
			return digits > 0 ? v : -1;
		}
		p = eol + 1;
	}
	return -1;
}

int64_t
rstream_backoff_ms(unsigned attempt, uint32_t rnd)
{
	int64_t base = 100;

	while (attempt-- > 0 && base < 5000)
		base *= 2;
	if (base > 5000)
		base = 5000;
	return base / 2 + (int64_t)(rnd % (uint32_t)(base / 2 + 1));
}
