/*
 * The Prometheus text exposition format (version 0.0.4), as GET /metrics
 * answers it: a family is "# HELP" and "# TYPE" lines then its samples,
 * "name{label=\"value\"} 42". Label values and help text are escaped as
 * the format says (\\, \" and \n in values; \\ and \n in help).
 */
#ifndef SSE_PROM_H
#define SSE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* type: "counter", "gauge", ... Returns 0, or -1 at out's cap. */
int prom_family(
    struct sse_buf *out, const char *name, const char *type, const char *help);
/*
 * One sample; label NULL for none, else label="value" (vlen bytes). Whole
 * numbers as integers, others with as many digits as it takes.
 */
int prom_u64(struct sse_buf *out, const char *name, const char *label,
    const char *value, size_t vlen, uint64_t v);
/* A family of one unlabelled whole-number sample. */
int prom_one(struct sse_buf *out, const char *name, const char *type,
    const char *help, uint64_t v);
int prom_f64(struct sse_buf *out, const char *name, const char *label,
    const char *value, size_t vlen, double v);

#endif
