/*
 * A command's options as a table: one row says an option's names, what
 * kind of value it takes and its bounds, where the value goes, and its
 * line of --help. One parser reads argv against the rows, with the checked
 * number, size and duration parsing every command shares, and one printer
 * makes the help block from the same rows, so the two cannot disagree.
 *
 * Rows point into the command's options struct by offset (offsetof), so a
 * table is a static constant; several tables (a command's own, output's,
 * the HTTP server's) are parsed together, each with its own struct.
 *
 * Syntax, as getopt_long(3) with GNU's permutation: "-x VAL", "-xVAL",
 * bundled flags "-vq", "--name VAL", "--name=VAL", a unique prefix of a
 * long name, "--" ends the options; other words are operands, kept in
 * order. Pure: errors are a message in struct opts_parse's err, never
 * printed; a mistyped long name gets "did you mean '--NAME'?".
 */
#ifndef SSE_OPTS_H
#define SSE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opts_kind {
	OPTS_SECTION, /* no option: a heading line in the help ("Output:") */
	OPTS_FLAG, /* bool = true */
	OPTS_UNSET, /* bool = false (--no-x) */
	OPTS_COUNT, /* int, one more each time (-v -v) */
	OPTS_STR, /* const char * = the argument (argv's own storage) */
	OPTS_LIST, /* struct opts_list: the argument appended */
	OPTS_INT, /* long long in [min, max] */
	OPTS_SECONDS, /* int64_t milliseconds: "1.5", "500ms", "2m", "1h" */
	OPTS_SIZE, /* size_t, "64K", "1M", "2G" (powers of 1024), >= min */
	OPTS_DOUBLE, /* double in [min, max] */
	OPTS_CALL, /* call(base, row, arg, err): the command checks it */
	OPTS_HELP, /* -h, --help: parsing stops, opts_parse returns 1 */
};

/* A row's argument is optional (--loop[=N]): only "--name=VAL" gives one. */
#define OPTS_OPTARG 0x1
/* In the table, parsed, but left out of the help (an alias such as -N). */
#define OPTS_HIDDEN 0x2

struct opts_list {
	const char **v;
	size_t n;
};

struct opts_row;
/* OPTS_CALL: 0 taken; -1 refused, with a reason written into why. */
typedef int (*opts_call_fn)(void *base, const struct opts_row *row,
    const char *arg, char *why, size_t whysz);

struct opts_row {
	const char *name; /* long name without "--"; NULL for none */
	char letter; /* short letter, 0 for none */
	enum opts_kind kind;
	size_t off; /* offsetof(struct cmd_opts, field) */
	const char *metavar; /* "SECS"; NULL for options without a value */
	const char *help; /* the help text; '\n' continues on a new line */
	double min, max; /* OPTS_INT, OPTS_DOUBLE; OPTS_SIZE: min only */
	unsigned flags; /* OPTS_OPTARG, OPTS_HIDDEN */
	opts_call_fn call; /* OPTS_CALL; OPTS_FLAG etc. may set it too */
	int id; /* free for the command (OPTS_CALL dispatch) */
};

/*
 * The first members of a row by name, so that a table lists only what a
 * row needs: {OPTS_ROW("max-redirs", 0, OPTS_INT, off, "N"), .help = "...",
 * .max = 1000} (-Wmissing-field-initializers stays quiet on designators).
 */
#define OPTS_ROW(n, l, k, o, mv)                                               \
	.name = (n), .letter = (l), .kind = (k), .off = (o), .metavar = (mv)

/* One table and the struct its offsets point into. */
struct opts_table {
	const struct opts_row *rows;
	size_t nrows;
	void *base;
};

#define OPTS_TABLE(rows, base)                                                 \
	{                                                                      \
		rows, sizeof(rows) / sizeof(rows[0]), base                     \
	}

struct opts_parse {
	char **operands; /* the words that are not options, in order */
	int noperands;
	char err[512]; /* why parsing stopped, when it returns -1 */
	int usage; /* -1: the error is a usage error (unknown, missing) */
};

/*
 * Parses argv[1..argc-1] (argv[0] is the command's name) against the
 * tables. Returns 0, 1 when -h/--help was given (nothing after it is
 * read), or -1 with p->err set. operands points into a new array the
 * caller frees with opts_parse_release().
 */
int opts_parse(struct opts_parse *p, const struct opts_table *tabs,
    size_t ntabs, int argc, char **argv);
void opts_parse_release(struct opts_parse *p);

/*
 * The help block of one table, appended to out (at most outsz bytes, NUL
 * terminated): "  -f, --format FMT      text", the text in column 26.
 * Returns the length the whole block needs, as snprintf does.
 */
size_t opts_help(
    const struct opts_row *rows, size_t nrows, char *out, size_t outsz);

/*
 * The value checks, for callers outside a table. 0 and *out set, or -1
 * with a reason in why ("not a whole number", "too large" ...).
 */
int opts_int(const char *arg, long long min, long long max, long long *out,
    char *why, size_t whysz);
int opts_double(const char *arg, double min, double max, double *out, char *why,
    size_t whysz);
/* Seconds by default; units ms, s, m, h. A value above 0 is >= 1 ms. */
int opts_seconds(const char *arg, int64_t *ms, char *why, size_t whysz);
int opts_size(
    const char *arg, size_t min, size_t *out, char *why, size_t whysz);

/* The long name in names[0..n) closest to name, or NULL if none is close. */
const char *opts_nearest(const char *name, const char *const *names, size_t n);

#endif
