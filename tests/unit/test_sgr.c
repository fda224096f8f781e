/*
 * lib/sgr: which bytes are an SGR sequence, and what it does.
 */
#include <string.h>

#include "format.h"
#include "sgr.h"
#include "tap.h"

static size_t
len(const char *s)
{
	return sse_sgr_len(s, strlen(s));
}

static struct sse_sgr
after(const char *seqs)
{
	struct sse_sgr r;
	size_t n;

	sse_sgr_reset(&r);
	while ((n = len(seqs)) > 0) {
		sse_sgr_apply(&r, seqs, n);
		seqs += n;
	}
	return r;
}

/* The data part of ev formatted pretty (after the header line). */
static const char *
pretty(const char *data, bool color)
{
	static char got[256];
	struct sse_format f;
	struct sse_buf b = SSE_BUF_INIT;
	struct sse_event ev;
	char err[128];
	const char *nl;

	sse_format_init(&f, "pretty", err, sizeof(err));
	f.color = color;
	sse_event_init(&ev);
	ev.data = data;
	ev.data_len = strlen(data);
	sse_format_event(&f, &b, &ev, 0);
	sse_buf_addch(&b, '\0');
	nl = strchr(b.p, '\n');
	snprintf(got, sizeof(got), "%s", nl ? nl + 1 : "");
	sse_buf_release(&b);
	sse_format_release(&f);
	return got;
}

static void
test_pretty(void)
{
	const char *g;

	g = pretty("\033[31mred\033[0m ok", true);
	ok(strcmp(g, "  \033[31mred\033[0m ok\n") == 0,
	    "pretty on a terminal: SGR passes through");
	g = pretty("\033[1;32mPASSED", true);
	ok(strcmp(g, "  \033[1;32mPASSED\033[0m\n") == 0,
	    "  and what it leaves on is reset at the end");
	g = pretty("\033[2Jx\033]0;t\007", true);
	ok(strstr(g, "\\x1B") != NULL && strstr(g, "\033[2J") == NULL &&
		strstr(g, "\033]0") == NULL && strstr(g, "\\x07") != NULL &&
		strchr(g, '\007') == NULL,
	    "  other control sequences stay escaped: %s", g);
	g = pretty("\033[31mred", false);
	ok(strcmp(g, "  \\x1B[31mred\n") == 0,
	    "without colours: escaped as before");
}

int
main(void)
{
	struct sse_sgr r;

	test_pretty();

	ok(len("\033[31mred") == 5, "ESC[31m is one");
	ok(len("\033[m") == 3, "ESC[m (reset) is one");
	ok(len("\033[1;38;5;208m") == 13, "with 256 colours");
	ok(len("\033[38:2:1:2:3m") == 13, "colon-separated");
	ok(len("\033[2J") == 0, "erase display is not SGR");
	ok(len("\033[31") == 0, "unfinished: not one");
	ok(len("\033]0;title\007") == 0, "OSC is not SGR");
	ok(len("\033[?25l") == 0, "private modes are not SGR");
	ok(len("\033["
	       "0000000000000000000000000000000000000000000000000000000000000"
	       "01m") == 0,
	    "longer than 64 bytes: not taken");

	r = after("\033[1;31m");
	ok(r.attrs == SSE_SGR_BOLD && r.fg == 1 && r.bg == SSE_SGR_DEFAULT,
	    "bold red");
	r = after("\033[1;31m\033[0m");
	ok(sse_sgr_is_default(&r), "then reset");
	r = after("\033[1;31m\033[m");
	ok(sse_sgr_is_default(&r), "ESC[m resets too");
	r = after("\033[4;7;9;3m\033[24;27m");
	ok(r.attrs == (SSE_SGR_STRIKE | SSE_SGR_ITALIC),
	    "underline and inverse off, the rest kept");
	r = after("\033[1;2m\033[22m");
	ok(r.attrs == 0, "22: neither bold nor dim");
	r = after("\033[92;104m");
	ok(r.fg == 10 && r.bg == 12, "bright colours: 8-15");
	r = after("\033[38;5;208;48;2;1;2;3m");
	ok(r.fg == 208 && r.bg == (SSE_SGR_RGB | 0x010203),
	    "256 colours and true colour in one");
	r = after("\033[31;39;41;49m");
	ok(sse_sgr_is_default(&r), "39 and 49: default colours");
	r = after("\033[38;5;999;1m");
	ok(r.fg == SSE_SGR_DEFAULT && r.attrs == SSE_SGR_BOLD,
	    "a colour out of range is ignored, what follows taken");
	r = after("\033[38;5m");
	ok(r.fg == SSE_SGR_DEFAULT, "38 cut short: nothing");
	return done_testing();
}
