/*
 * JSON data indented (and coloured) for the pretty format.
 */
#ifndef SSE_JSONPP_H
#define SSE_JSONPP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * When s[0..len) is a JSON object or array: append it a member or element
 * a line, nested two spaces deeper, every line after the first starting
 * with indent; with color, keys, strings, numbers and literals in SGR
 * colours; control characters in strings made visible. Returns 0, or 1
 * (out untouched) when it is not JSON, or at out's cap.
 */
int sse_json_pretty(struct sse_buf *out, const char *s, size_t len,
    const char *indent, bool color);

#endif
