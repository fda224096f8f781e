/*
 * UTF-8 as the WHATWG Encoding Standard decodes it: validity checks and
 * repair (each maximal invalid subpart becomes U+FFFD), used by the parser
 * on every line, by the formatters and by the recording format.
 */
#ifndef SSE_UTF8_H
#define SSE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Decode a byte span as UTF-8 the WHATWG way (each maximal invalid subpart
 * becomes U+FFFD). Returns 0 and leaves out untouched if the span is valid
 * UTF-8; otherwise writes the repaired text to out and returns 1; -1 when
 * out's cap is reached.
 */
int sse_utf8_repair(const char *s, size_t len, struct sse_buf *out);
/* Whether the span is valid UTF-8. */
bool sse_utf8_valid(const char *s, size_t len);
/*
 * The valid UTF-8 sequence at u (u[0] >= 0x80): its length, or 0 with *bad
 * set to the length of the maximal invalid subpart that one U+FFFD replaces.
 */
size_t sse_utf8_seq(const unsigned char *u, size_t len, size_t *bad);

#endif
