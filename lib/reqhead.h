/*
 * What an HTTP/1.x request head costs a server that keeps it in a fixed
 * memory pool, measured from its first bytes before the server sees it.
 *
 * serve's front end peeks at each new connection's bytes and hands it to a
 * small-pool or a large-pool server (see cmd/http/doors.c): this says which,
 * in the picohttpparser convention, so that it can be fed what has come so
 * far and asked again when more comes.
 */
#ifndef SSE_REQHEAD_H
#define SSE_REQHEAD_H

#include <stddef.h>

/*
 * The cost of a head: a byte costs 1, a field (a header line, a URL
 * argument, a ';' parameter, a cookie) REQHEAD_FIELD_COST more, as the
 * server keeps a record of each in the pool; a byte of a value that is
 * copied (Cookie) or echoed in the answer's head (Origin,
 * Access-Control-Request-Headers) costs 2.
 */
#define REQHEAD_FIELD_COST 64

/*
 * Measure the head that b[0..n) begins. Returns the length of the head
 * (through the blank line that ends it; what follows is not looked at) when
 * it is all there and costs at most budget; -1 when it cannot fit budget
 * (it costs more, already, or it has a folded line, which is joined by a
 * copy too dear to count); -2 when b ends before the head does and what
 * came so far fits. Empty lines before the request line are skipped (and
 * counted in the length), as servers do.
 */
long reqhead_fit(const char *b, size_t n, size_t budget);

#endif
