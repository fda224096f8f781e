/*
 * lib/opts: the option table parser, its value checks, "did you mean" and
 * the help printer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "tap.h"

struct cfg {
	bool flag, on;
	int verbose;
	const char *name;
	struct opts_list types;
	long long n;
	int64_t ms;
	size_t size;
	double speed;
	const char *loop;
	int calls;
};

static int
odd_only(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	struct cfg *c = base;

	(void)row;
	if (strlen(arg) % 2 == 0) {
		snprintf(why, whysz, "even length");
		return -1;
	}
	c->calls++;
	return 0;
}

static const struct opts_row rows[] = {
    {NULL, 0, OPTS_SECTION, 0, NULL, "Things:", 0, 0, 0, NULL, 0},
    {"flag", 'F', OPTS_FLAG, offsetof(struct cfg, flag), NULL, "a flag", 0, 0,
	0, NULL, 0},
    {"no-on", 0, OPTS_UNSET, offsetof(struct cfg, on), NULL, "off", 0, 0, 0,
	NULL, 0},
    {"verbose", 'v', OPTS_COUNT, offsetof(struct cfg, verbose), NULL, "more", 0,
	0, 0, NULL, 0},
    {"name", 'N', OPTS_STR, offsetof(struct cfg, name), "NAME", "a name", 0, 0,
	0, NULL, 0},
    {"type", 'e', OPTS_LIST, offsetof(struct cfg, types), "TYPE",
	"a type\n(repeatable)", 0, 0, 0, NULL, 0},
    {"count", 'n', OPTS_INT, offsetof(struct cfg, n), "N", "a count", 1, 100, 0,
	NULL, 0},
    {"timeout", 0, OPTS_SECONDS, offsetof(struct cfg, ms), "SECS", "a duration",
	0, 0, 0, NULL, 0},
    {"max-size", 0, OPTS_SIZE, offsetof(struct cfg, size), "SIZE", "a size", 16,
	0, 0, NULL, 0},
    {"speed", 0, OPTS_DOUBLE, offsetof(struct cfg, speed), "X", "a factor",
	0.01, 1000, 0, NULL, 0},
    {"loop", 0, OPTS_STR, offsetof(struct cfg, loop), "N", "loop", 0, 0,
	OPTS_OPTARG, NULL, 0},
    {"odd", 0, OPTS_CALL, 0, "WORD", "an odd word", 0, 0, 0, odd_only, 0},
    {"hidden", 'H', OPTS_FLAG, offsetof(struct cfg, flag), NULL, "", 0, 0,
	OPTS_HIDDEN, NULL, 0},
    {"help", 'h', OPTS_HELP, 0, NULL, "show this help", 0, 0, 0, NULL, 0},
};

static int
parse(struct cfg *c, struct opts_parse *p, const char *line)
{
	char *copy = strdup(line), *argv[32], *w;
	static char *last; /* operands point into it until the next call */
	struct opts_table t = OPTS_TABLE(rows, c);
	int argc = 0, r;

	memset(c, 0, sizeof(*c));
	c->on = true;
	argv[argc++] = (char *)"cmd";
	for (w = strtok(copy, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	r = opts_parse(p, &t, 1, argc, argv);
	free(last);
	last = copy;
	return r;
}

static void
values(void)
{
	struct opts_parse p;
	struct cfg c;

	ok(parse(&c, &p, "-F --no-on -vv -N x --type a -eb -n 7 url") == 0,
	    "a line of every kind parses");
	ok(c.flag && !c.on && c.verbose == 2, "flags, unset, count");
	ok(c.name && strcmp(c.name, "x") == 0, "-N x");
	ok(c.types.n == 2 && strcmp(c.types.v[0], "a") == 0 &&
		strcmp(c.types.v[1], "b") == 0,
	    "a list in order, -eb bundled");
	ok(c.n == 7, "-n 7");
	ok(p.noperands == 1 && strcmp(p.operands[0], "url") == 0, "operand");
	free(c.types.v);
	opts_parse_release(&p);

	ok(parse(&c, &p, "a --count=3 b -- -F") == 0 && c.n == 3 &&
		p.noperands == 3 && strcmp(p.operands[2], "-F") == 0 && !c.flag,
	    "--name=value, permuted operands, -- ends options");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--cou 9") == 0 && c.n == 9, "a unique prefix");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--loop x") == 0 && c.loop == NULL && p.noperands == 1,
	    "an optional argument is only --name=value");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--loop=4") == 0 && strcmp(c.loop, "4") == 0,
	    "--loop=4");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--odd abc") == 0 && c.calls == 1, "a callback");
	opts_parse_release(&p);
	ok(parse(&c, &p, "-H") == 0 && c.flag, "a hidden alias still parses");
	opts_parse_release(&p);
	ok(parse(&c, &p, "-F -h --bogus") == 1, "help stops parsing");
	opts_parse_release(&p);
}

static void
durations(void)
{
	static const struct {
		const char *arg;
		int64_t ms;
	} good[] = {{"1", 1000}, {"1.5", 1500}, {"500ms", 500}, {"2m", 120000},
	    {"1h", 3600000}, {"0", 0}, {"0.0001", 1}, {"3s", 3000}};
	static const char *bad[] = {"", "x", "1x", "-1", "1e3", "0x10", " 1",
	    "1 s", "ms", "inf", "nan", "1.2.3"};
	char why[128];
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(opts_seconds(good[i].arg, &ms, why, sizeof(why)) == 0 &&
			ms == good[i].ms,
		    "duration '%s' is %lld ms", good[i].arg, (long long)ms);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(opts_seconds(bad[i], &ms, why, sizeof(why)) == -1 &&
			why[0] != '\0',
		    "duration '%s' refused: %s", bad[i], why);
}

static void
errors(void)
{
	struct opts_parse p;
	struct cfg c;

	ok(parse(&c, &p, "--formt x") == -1 && p.usage == 1 &&
		strstr(p.err, "did you mean") == NULL,
	    "no suggestion when nothing is near: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--tmeout 3") == -1 &&
		strcmp(p.err,
		    "unknown option '--tmeout' (did you mean "
		    "'--timeout'?)") == 0,
	    "did you mean: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--zzzzzzzz") == -1 &&
		strcmp(p.err, "unknown option '--zzzzzzzz'") == 0,
	    "unknown, nothing near: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "-z") == -1 &&
		strcmp(p.err, "unknown option '-z'") == 0,
	    "unknown short: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--count") == -1 &&
		strcmp(p.err, "option '--count' needs a value") == 0,
	    "missing value: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "-n") == -1 &&
		strcmp(p.err, "option '-n' needs a value") == 0,
	    "missing short value: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--flag=1") == -1 &&
		strcmp(p.err, "option '--flag' takes no value") == 0,
	    "a flag with a value: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--count 0") == -1 && p.usage == 0 &&
		strcmp(p.err, "--count: invalid value '0': too small") == 0,
	    "bounds: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "-n 101") == -1 &&
		strcmp(p.err, "--count: invalid value '101': too large") == 0,
	    "short names report the long name: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--max-size 8") == -1 &&
		strcmp(p.err, "--max-size: invalid value '8': too small") == 0,
	    "size minimum: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--max-size 2K") == 0 && c.size == 2048, "2K");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--speed 0") == -1, "double minimum");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--speed 2.5") == 0 && c.speed == 2.5, "2.5");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--odd ab") == -1 &&
		strcmp(p.err, "--odd: invalid value 'ab': even length") == 0,
	    "a callback's reason: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--name \x1b[31m") == 0, "a value is taken as is");
	opts_parse_release(&p);
	ok(parse(&c, &p, "--count \x1b") == -1 && strstr(p.err, "\x1b") == NULL,
	    "control bytes in a refused value are shown escaped: %s", p.err);
	opts_parse_release(&p);
	ok(parse(&c, &p, "--fla") == 0 && c.flag, "prefix of flag");
	opts_parse_release(&p);
}

static void
help(void)
{
	char out[2048];
	size_t n =
	    opts_help(rows, sizeof(rows) / sizeof(rows[0]), out, sizeof(out));
	const char *want = "Things:\n"
			   "  -F, --flag              a flag\n"
			   "      --no-on             off\n"
			   "  -v, --verbose           more\n"
			   "  -N, --name NAME         a name\n"
			   "  -e, --type TYPE         a type\n"
			   "                          (repeatable)\n"
			   "  -n, --count N           a count\n"
			   "      --timeout SECS      a duration\n"
			   "      --max-size SIZE     a size\n"
			   "      --speed X           a factor\n"
			   "      --loop[=N]          loop\n"
			   "      --odd WORD          an odd word\n"
			   "  -h, --help              show this help\n";

	is_mem(out, n, want, strlen(want), "help block");
	ok(opts_help(rows, 3, out, 8) > 8 && strlen(out) == 7,
	    "help truncates and says the length needed");
}

static void
nearest(void)
{
	static const char *const names[] = {
	    "format", "timeout", "until", "max-time", "retry-delay"};

	ok(opts_nearest("formt", names, 5) != NULL &&
		strcmp(opts_nearest("formt", names, 5), "format") == 0,
	    "formt -> format");
	ok(opts_nearest("untl", names, 5) != NULL, "untl -> until");
	ok(opts_nearest("colour", names, 5) == NULL, "colour -> none");
	ok(opts_nearest("x", names, 5) == NULL, "x -> none");
}

int
main(void)
{
	values();
	durations();
	errors();
	help();
	nearest();
	return done_testing();
}
