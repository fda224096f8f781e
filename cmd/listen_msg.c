/*
 * sse listen: what it says on stderr beyond cmd/msg.h's messages: the -v
 * trace lines, in curl's way, and the failure that ends a session.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "format.h"
#include "listen.h"
#include "msg.h"

void
listen_trace(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity() == 0)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
listen_fail(struct listen *l, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	msg_errx("%s", l->why);
	l->stop = status;
}

const char *
listen_visible(struct listen *l, const char *s, size_t n, int *len)
{
	sse_buf_reset(&l->vis);
	if (sse_format_visible(&l->vis, s, n, NULL, NULL) == -1)
		sse_buf_reset(&l->vis);
	*len = (int)l->vis.len;
	return l->vis.len ? l->vis.p : "";
}

void
listen_show(struct listen *l, const char *prefix, const char *s, size_t n)
{
	const char *v;
	int len;

	if (msg_verbosity() == 0)
		return;
	v = listen_visible(l, s, n, &len);
	fprintf(stderr, "%s%.*s\n", prefix, len, v);
}

void
listen_refuse(struct listen *l)
{
	const char *p = l->errbody.p, *end = p + l->errbody.len, *nl, *v;
	size_t cap = msg_verbosity() > 0 ? LISTEN_ERRBODY_V : LISTEN_ERRBODY;
	int len;

	l->refused = false;
	msg_errx("%s", l->why);
	l->stop = EXIT_HTTP;
	/* The start of the body, a line at a time, made safe, indented. */
	while (p != NULL && p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		v = listen_visible(l, p, (size_t)(nl - p), &len);
		fprintf(stderr, "  %.*s\n", len, v);
		p = nl + 1;
	}
	if (l->errbody.len >= cap)
		fprintf(stderr, "  ...\n");
}
