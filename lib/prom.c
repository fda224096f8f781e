/*
 * The Prometheus text format: see prom.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

/* Escape s: backslash and LF always, '"' too in label values. */
static int
escaped(struct sse_buf *out, const char *s, size_t n, int quote)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (s[i] == '\\')
			rc = sse_buf_addstr(out, "\\\\");
		else if (s[i] == '\n')
			rc = sse_buf_addstr(out, "\\n");
		else if (s[i] == '"' && quote)
			rc = sse_buf_addstr(out, "\\\"");
		else
			rc = sse_buf_addch(out, s[i]);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
prom_family(
    struct sse_buf *out, const char *name, const char *type, const char *help)
{
	if (sse_buf_addf(out, "# HELP %s ", name) == -1 ||
	    escaped(out, help, strlen(help), 0) == -1)
		return -1;
	return sse_buf_addf(out, "\n# TYPE %s %s\n", name, type);
}

static int
head(struct sse_buf *out, const char *name, const char *label,
    const char *value, size_t vlen)
{
	if (sse_buf_addstr(out, name) == -1)
		return -1;
	if (label == NULL)
		return sse_buf_addch(out, ' ');
	if (sse_buf_addf(out, "{%s=\"", label) == -1 ||
	    escaped(out, value, vlen, 1) == -1)
		return -1;
	return sse_buf_addstr(out, "\"} ");
}

int
prom_u64(struct sse_buf *out, const char *name, const char *label,
    const char *value, size_t vlen, uint64_t v)
{
	if (head(out, name, label, value, vlen) == -1)
		return -1;
	return sse_buf_addf(out, "%llu\n", (unsigned long long)v);
}

int
prom_one(struct sse_buf *out, const char *name, const char *type,
    const char *help, uint64_t v)
{
	if (prom_family(out, name, type, help) == -1)
		return -1;
	return prom_u64(out, name, NULL, NULL, 0, v);
}

int
prom_f64(struct sse_buf *out, const char *name, const char *label,
    const char *value, size_t vlen, double v)
{
	if (head(out, name, label, value, vlen) == -1)
		return -1;
	if (isnan(v))
		return sse_buf_addstr(out, "NaN\n");
	if (isinf(v))
		return sse_buf_addstr(out, v > 0 ? "+Inf\n" : "-Inf\n");
	return sse_buf_addf(out, "%.17g\n", v);
}
