/* JSON text output: always strictly valid JSON, whatever the input bytes. */
#ifndef SSE_JSON_H
#define SSE_JSON_H

#include <stddef.h>

#include "buf.h"

/*
 * Append s as a quoted JSON string: ", \ and control characters escaped
 * (\n, \t, ... or \u00XX), U+2028/U+2029 escaped, invalid UTF-8 replaced
 * by U+FFFD. Returns 0, or -1 when out's cap is reached.
 */
int sse_json_str(struct sse_buf *out, const char *s, size_t len);

/*
 * The room sse_json_put() needs for len input bytes: at most six bytes for
 * each, the quotes, and 16 bytes it may write past the end (and leave).
 */
#define SSE_JSON_ROOM(len) (6 * (len) + 18)
/*
 * The same quoted string written at w, which has room for
 * SSE_JSON_ROOM(len) bytes (the caller checked): returns its end.
 */
char *sse_json_put(char *w, const char *s, size_t len);
/*
 * The same, for a string that lies in a buffer that can be read up to lim
 * (lim >= s + len): when 16 bytes past the string can be read, it is read
 * in place, not copied first (short strings, a run's type or id, cost
 * little more than their copy).
 */
char *sse_json_put_in(char *w, const char *s, size_t len, const char *lim);

#endif
