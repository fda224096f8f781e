/*
 * Topic names, as in GET /events/NAME, ?topic=NAME and the "topic" member
 * of JSON input: 1 to SSE_TOPIC_MAX bytes of ASCII letters, digits, '-',
 * '_' and '.', not starting with '.'. Names so plain need no escaping in a
 * URL path, a query string, JSON, a Prometheus label or a file name.
 */
#ifndef SSE_TOPIC_H
#define SSE_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_TOPIC_MAX 64

/* true, or false with *why saying what is wrong ("too long", ...). */
bool sse_topic_valid(const char *name, size_t len, const char **why);

/*
 * A connection that follows several topics gets ids that name each
 * topic's place, tokens NAME:ID separated by spaces, the event's own
 * first: "b:k3x9q2mz-7 a:k3x9q2mz-5". In such an id v (vlen bytes, from a
 * client: anything at all), the ID that topic name's token gives, as a
 * view into v (*idlen may be 0: "a:" names a but no event). false when no
 * token names it. Names have no ':' or ' ', so a token is split at its
 * first ':'; IDs have no ' ' (serve's EPOCH-N never has, and a producer's
 * id with one cannot be told from two tokens: the first wins).
 */
bool sse_topic_id(const char *v, size_t vlen, const char *name, size_t nlen,
    const char **id, size_t *idlen);

#endif
