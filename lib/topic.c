/*
 * Topic names, checked: see topic.h.
 */
#include <string.h>

#include "topic.h"

static bool
topic_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool
sse_topic_valid(const char *name, size_t len, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (len == 0) {
		*why = "empty";
		return false;
	}
	if (len > SSE_TOPIC_MAX) {
		*why = "longer than 64 bytes";
		return false;
	}
	if (name[0] == '.') {
		*why = "starts with '.'";
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (!topic_char((unsigned char)name[i])) {
			*why = "only letters, digits, '-', '_' and '.' are "
			       "allowed";
			return false;
		}
	return true;
}

bool
sse_topic_id(const char *v, size_t vlen, const char *name, size_t nlen,
    const char **id, size_t *idlen)
{
	const char *p = v, *end = v + vlen, *sp;
	size_t k;

	if (v == NULL)
		return false;
	for (;;) {
		sp = memchr(p, ' ', (size_t)(end - p));
		k = (size_t)((sp != NULL ? sp : end) - p);
		if (k > nlen && p[nlen] == ':' && memcmp(p, name, nlen) == 0) {
			*id = p + nlen + 1;
			*idlen = k - nlen - 1;
			return true;
		}
		if (sp == NULL)
			return false;
		p = sp + 1;
	}
}
