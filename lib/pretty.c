/*
 * The pretty format, for people on a terminal: time, type and id on a line,
 * the data below, indented (JSON data laid out by jsonpp.c), coloured when
 * asked; and text from the network made safe for a terminal
 * (sse_format_visible), which sse listen's -v uses too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "format_impl.h"
#include "jsonpp.h"
#include "sgr.h"
#include "utf8.h"

/* The pretty format's colours (SGR). */
#define C_TIME "\033[2m"
#define C_TYPE "\033[1;36m"
#define C_ID "\033[33m"
#define C_ESC "\033[7m"
#define C_OFF "\033[0m"

/* Whether u[0..n) starts with a character to show escaped. */
static bool
hidden(const unsigned char *u, size_t n, size_t *k)
{
	size_t bad;

	*k = 1;
	if (u[0] < 0x80)
		return (u[0] < 0x20 && u[0] != '\t') || u[0] == 0x7F;
	if ((*k = sse_utf8_seq(u, n, &bad)) == 0) {
		*k = 1; /* shown byte by byte */
		return true;
	}
	return u[0] == 0xC2 && u[1] <= 0x9F; /* C1 */
}

/*
 * sgr: SGR sequences (colours in the data, as make or pytest print them)
 * pass through instead of being escaped, and what they left on is reset
 * at the end.
 */
static int
visible(struct sse_buf *out, const char *s, size_t len, const char *color,
    const char *indent, bool sgr)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, k;
	struct sse_sgr r;
	int rc;

	sse_sgr_reset(&r);
	while (i < len) {
		for (run = i; run < len && !hidden(u + run, len - run, &k);
		     run += k)
			;
		if (sse_buf_add(out, u + i, run - i) == -1)
			return -1;
		if ((i = run) == len)
			break;
		if (sgr && u[i] == 0x1B &&
		    (k = sse_sgr_len(s + i, len - i)) > 0) {
			sse_sgr_apply(&r, s + i, k);
			rc = sse_buf_add(out, s + i, k);
			i += k;
		} else if (u[i] == '\n' && indent != NULL) {
			rc = sse_buf_addch(out, '\n') == -1 ||
			    sse_buf_addstr(out, indent) == -1;
			i++;
		} else if (k == 2) {
			rc = sse_buf_addf(out, "%s\\u00%02X%s%s",
			    color ? C_ESC : "", u[i + 1], color ? C_OFF : "",
			    color ? color : "");
			i += 2;
		} else {
			rc = sse_buf_addf(out, "%s\\x%02X%s%s",
			    color ? C_ESC : "", u[i], color ? C_OFF : "",
			    color ? color : "");
			i++;
		}
		if (rc != 0)
			return -1;
	}
	if (!sse_sgr_is_default(&r))
		return sse_buf_addstr(out, C_OFF);
	return 0;
}

int
sse_format_visible(struct sse_buf *out, const char *s, size_t len,
    const char *color, const char *indent)
{
	return visible(out, s, len, color, indent, false);
}

/*
 * Each event type its own colour, the same on every run: "message" cyan,
 * as before; others by a hash of the name.
 */
static const char *
type_color(const char *t, size_t n)
{
	static const char *const c[] = {"\033[1;31m", "\033[1;32m",
	    "\033[1;33m", "\033[1;34m", "\033[1;35m", C_TYPE};
	uint32_t h = 2166136261u;
	size_t i;

	if (n == 7 && memcmp(t, "message", 7) == 0)
		return C_TYPE;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)t[i]) * 16777619u;
	return c[h % 6];
}

/*
 *   12:34:56.789 update id=42
 *     first data line
 *     second data line
 *
 * Local time of day; the type and id on the header line; the data below,
 * indented, so that where one event ends and the next starts is plain
 * (empty data: the header line alone).
 */
int
sse__add_pretty(struct sse_buf *out, const struct sse_event *ev,
    int64_t unix_ms, bool color)
{
	const char *tc;
	struct tm tm;
	int ms;

	sse__split_time(unix_ms, true, &tm, &ms);
	tc = type_color(ev->type, ev->type_len);
	if (sse_buf_addf(out, "%s%02d:%02d:%02d.%03d%s %s", color ? C_TIME : "",
		tm.tm_hour, tm.tm_min, tm.tm_sec, ms, color ? C_OFF : "",
		color ? tc : "") == -1 ||
	    sse_format_visible(
		out, ev->type, ev->type_len, color ? tc : NULL, NULL) == -1 ||
	    sse_buf_addstr(out, color ? C_OFF : "") == -1)
		return -1;
	if (ev->id_len > 0 &&
	    (sse_buf_addf(out, " %sid=", color ? C_ID : "") == -1 ||
		sse_format_visible(
		    out, ev->id, ev->id_len, color ? C_ID : NULL, NULL) == -1 ||
		sse_buf_addstr(out, color ? C_OFF : "") == -1))
		return -1;
	if (ev->data_len == 0)
		return sse_buf_addch(out, '\n');
	if (sse_buf_add(out, "\n  ", 3) == -1)
		return -1;
	/* JSON data indented and coloured; any other text as it is. */
	if (sse_json_pretty(out, ev->data, ev->data_len, "  ", color) == 1 &&
	    visible(out, ev->data, ev->data_len, color ? "" : NULL, "  ",
		color) == -1)
		return -1;
	return sse_buf_addch(out, '\n');
}
