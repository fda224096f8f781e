/*
 * libFuzzer target for the output template language and what renders JSON
 * data: -f TEMPLATE (lib/format.c: compile, then render an event), its
 * {data.PATH} placeholders through the real JSON reader (cmd/json_path.c,
 * jansson), and the pretty format's JSON indenter (lib/jsonpp.c). The input
 * is the template, a NUL, then the event's data. Besides memory safety
 * (ASan, UBSan) it checks, abort()ing on a mismatch:
 *
 * - a template is compiled, or refused with a message;
 * - rendering the same event twice gives the same bytes (the JSON reader's
 *   cache per event is right);
 * - the indenter takes its own output again and gives it back unchanged
 *   (what it prints is JSON, and its layout is a fixed point).
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json_path.h"
#include "jsonpp.h"
#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_pretty(const char *d, size_t n)
{
	struct sse_buf a, b;

	sse_buf_init(&a, 1 << 20);
	sse_buf_init(&b, 1 << 20);
	if (sse_json_pretty(&a, d, n, "", false) == 0) {
		if (sse_json_pretty(&b, a.p, a.len, "", false) != 0)
			abort(); /* its output is not JSON */
		if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
			abort(); /* the layout is not a fixed point */
	}
	sse_buf_release(&a);
	sse_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	struct sse_buf out1, out2;
	struct sse_format f;
	struct json_path jp;
	struct sse_event ev;
	char *spec, err[256];
	size_t slen = nul ? (size_t)(nul - (const char *)data) : size;

	if ((spec = malloc(slen + 1)) == NULL)
		return 0;
	memcpy(spec, data, slen);
	spec[slen] = '\0';
	sse_event_init(&ev);
	ev.data = nul ? nul + 1 : "{}";
	ev.data_len = nul ? size - slen - 1 : 2;
	ev.id = "7";
	ev.id_len = 1;
	check_pretty(ev.data, ev.data_len);
	err[0] = '\0';
	if (sse_format_init(&f, spec, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort(); /* refused without saying why */
		free(spec);
		return 0;
	}
	json_path_init(&jp);
	f.path_fn = json_path_fn;
	f.path_ctx = &jp;
	sse_buf_init(&out1, 1 << 24);
	sse_buf_init(&out2, 1 << 24);
	json_path_next(&jp);
	if (sse_format_event(&f, &out1, &ev, 1700000000000) == SSE_OK &&
	    sse_format_event(&f, &out2, &ev, 1700000000000) == SSE_OK &&
	    (out1.len != out2.len ||
		(out1.len > 0 && memcmp(out1.p, out2.p, out1.len) != 0)))
		abort(); /* the same event rendered two ways */
	sse_buf_release(&out1);
	sse_buf_release(&out2);
	json_path_release(&jp);
	sse_format_release(&f);
	free(spec);
	return 0;
}
