/*
 * {data.PATH}: see json_path.h.
 */
#include <stdlib.h>
#include <string.h>

#include "json_path.h"

void
json_path_init(struct json_path *jp)
{
	memset(jp, 0, sizeof(*jp));
	jp->cached_seq = UINT64_MAX;
}

void
json_path_release(struct json_path *jp)
{
	json_decref(jp->root);
	jp->root = NULL;
	jp->cached_seq = UINT64_MAX;
}

void
json_path_next(struct json_path *jp)
{
	jp->seq++;
}

/* An array index: digits only, no sign, no leading zero but "0". */
static bool
index_of(const char *s, size_t n, size_t *i)
{
	size_t k;

	if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
		return false;
	for (*i = 0, k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		*i = *i * 10 + (size_t)(s[k] - '0');
	}
	return true;
}

/* The member at path in v, or NULL. */
static json_t *
walk(json_t *v, const char *path, size_t plen)
{
	const char *p = path, *end = path + plen, *dot;
	size_t n, i;

	while (v != NULL && p <= end) {
		dot = memchr(p, '.', (size_t)(end - p));
		n = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (json_is_object(v))
			v = json_object_getn(v, p, n);
		else if (json_is_array(v) && index_of(p, n, &i))
			v = json_array_get(v, i);
		else
			v = NULL;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return v;
}

int
json_path_fn(void *ctx, const char *path, size_t plen,
    const struct sse_event *ev, struct sse_buf *out)
{
	struct json_path *jp = ctx;
	json_t *v;
	char *dump;
	int rc;

	if (jp->cached_seq != jp->seq) {
		json_decref(jp->root);
		jp->root = json_loadb(ev->data, ev->data_len,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		jp->cached_seq = jp->seq;
	}
	if ((v = walk(jp->root, path, plen)) == NULL)
		return 0;
	if (json_is_string(v))
		return sse_buf_add(
		    out, json_string_value(v), json_string_length(v));
	if ((dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return -1;
	rc = sse_buf_addstr(out, dump);
	free(dump);
	return rc;
}
