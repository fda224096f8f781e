/*
 * The client output's command line, shared by listen and replay: the
 * options' rows (-f, -e, -n, --match, --until..., --timeout, --color),
 * their checks, the colour decision and the help they make.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"

void
output_opts_init(struct output_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = -1;
}

void
output_opts_release(struct output_opts *o)
{
	free(o->types.v);
	free(o->until.v);
	memset(&o->types, 0, sizeof(o->types));
	memset(&o->until, 0, sizeof(o->until));
}

int
output_zero_is_none(void *base, const struct opts_row *row, const char *arg,
    char *why, size_t n)
{
	int64_t *ms = (int64_t *)(void *)((char *)base + row->off);

	(void)arg;
	(void)why;
	(void)n;
	if (*ms == 0)
		*ms = -1; /* as curl's --max-time 0 */
	return 0;
}

static bool
set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0';
}

/*
 * --color always or never; auto: on a terminal unless NO_COLOR is set,
 * and anywhere when FORCE_COLOR is (but not "0"), for `| less -R`.
 */
bool
output_color(const char *when, int fd)
{
	const char *fc = getenv("FORCE_COLOR");

	if (when != NULL && strcmp(when, "auto") != 0)
		return strcmp(when, "always") == 0;
	if (set("FORCE_COLOR") && strcmp(fc, "0") != 0)
		return true;
	return isatty(fd) && !set("NO_COLOR");
}

static int
opt_color(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t n)
{
	(void)base;
	(void)row;
	if (strcmp(arg, "auto") == 0 || strcmp(arg, "always") == 0 ||
	    strcmp(arg, "never") == 0)
		return 0;
	snprintf(why, n, "not auto, always or never");
	return -1;
}

#define OO(f) offsetof(struct output_opts, f)

const struct opts_row output_rows[] = {
    {.kind = OPTS_SECTION,
	.help = "Output (default: pretty on a terminal, raw otherwise):"},
    {OPTS_ROW("format", 'f', OPTS_STR, OO(format), "FMT"),
	.help = "raw, json, data, data0, pretty, or a template\n"
		"with {event} {data} {id} {time} {json}"},
    {OPTS_ROW("color", 0, OPTS_STR, OO(color), "WHEN"),
	.help = "pretty's colours: auto (a terminal, unless\nNO_COLOR; or "
		"FORCE_COLOR), always, never",
	.call = opt_color},
    {OPTS_ROW("event", 'e', OPTS_LIST, OO(types), "TYPE"),
	.help = "print only events of this type (repeatable)"},
    {OPTS_ROW("max-events", 'n', OPTS_INT, OO(max_events), "N"),
	.help = "exit 0 after printing N events", .min = 1, .max = 1e18},
    {OPTS_ROW("match", 0, OPTS_STR, OO(match), "REGEX"),
	.help = "print only events whose data matches REGEX"},
    {OPTS_ROW("until-match", 0, OPTS_STR, OO(until_match), "REGEX"),
	.help = "exit 0 after an event whose data matches REGEX"},
    {OPTS_ROW("until-data", 0, OPTS_STR, OO(until_data), "TEXT"),
	.help = "exit 0 after an event whose data is TEXT\n(e.g. [DONE])"},
    {OPTS_ROW("until", 0, OPTS_LIST, OO(until), "TYPE"),
	.help = "exit 0 after an event of this type (repeatable)"},
    {OPTS_ROW("timeout", 0, OPTS_SECONDS, OO(timeout_ms), "SECS"),
	.help = "exit 5 after SECS seconds in all (0: none)",
	.call = output_zero_is_none},
};
const size_t output_nrows = sizeof(output_rows) / sizeof(output_rows[0]);

/* One table's help appended at n of out[0..outsz): the new length. */
static size_t
help_at(const struct opts_row *rows, size_t nrows, char *out, size_t outsz,
    size_t n)
{
	if (out == NULL || n >= outsz)
		return n + opts_help(rows, nrows, NULL, 0);
	return n + opts_help(rows, nrows, out + n, outsz - n);
}

size_t
output_opts_help(const struct opts_row *before, size_t nbefore,
    const struct opts_row *after, size_t nafter, char *out, size_t outsz)
{
	size_t n = 0;

	if (before != NULL)
		n = help_at(before, nbefore, out, outsz, n);
	n = help_at(output_rows, output_nrows, out, outsz, n);
	return help_at(after, nafter, out, outsz, n);
}
