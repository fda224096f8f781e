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

#endif
