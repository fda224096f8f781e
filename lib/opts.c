/*
 * Options as a table: the parser, the help printer and the value checks
 * (see opts.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "format.h"
#include "opts.h"

#define HELP_COL 26

/* One found row and the struct it belongs to. */
struct hit {
	const struct opts_row *row;
	void *base;
};

static int
why_set(char *why, size_t whysz, const char *s)
{
	snprintf(why, whysz, "%s", s);
	return -1;
}

int
opts_int(const char *arg, long long min, long long max, long long *out,
    char *why, size_t whysz)
{
	char *end;
	long long v;

	/* strtoll() would also take leading blanks and a '+'. */
	if (!isdigit((unsigned char)arg[0]) &&
	    !(arg[0] == '-' && isdigit((unsigned char)arg[1])))
		return why_set(why, whysz, "not a whole number");
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0')
		return why_set(why, whysz, "not a whole number");
	if ((errno == ERANGE && v < 0) || v < min)
		return why_set(why, whysz, "too small");
	if (errno == ERANGE || v > max)
		return why_set(why, whysz, "too large");
	*out = v;
	return 0;
}

/*
 * Digits with at most one '.', after an optional '-', ending at end: what
 * strtod() also takes (hexadecimal, exponents, inf, nan, leading blanks)
 * is refused.
 */
static bool
decimal(const char *s, const char *end)
{
	bool digits = false, dot = false;

	if (s < end && *s == '-')
		s++;
	for (; s < end; s++) {
		if (isdigit((unsigned char)*s))
			digits = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits;
}

static int
number(const char *arg, const char *end, double min, double max, double *out,
    char *why, size_t whysz)
{
	char tmp[64];
	double v;

	if (!decimal(arg, end) || (size_t)(end - arg) >= sizeof(tmp))
		return why_set(why, whysz, "not a decimal number");
	memcpy(tmp, arg, (size_t)(end - arg));
	tmp[end - arg] = '\0';
	errno = 0;
	v = strtod(tmp, NULL);
	if (isnan(v))
		return why_set(why, whysz, "not a decimal number");
	if (v < min)
		return why_set(why, whysz, "too small");
	if (v > max || errno == ERANGE)
		return why_set(why, whysz, "too large");
	*out = v;
	return 0;
}

int
opts_double(const char *arg, double min, double max, double *out, char *why,
    size_t whysz)
{
	return number(arg, arg + strlen(arg), min, max, out, why, whysz);
}

int
opts_seconds(const char *arg, int64_t *ms, char *why, size_t whysz)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
	    {"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"h", 3600000}};
	const char *u = arg + strlen(arg);
	double v, scale = 0;
	size_t i;

	while (u > arg && isalpha((unsigned char)u[-1]))
		u--;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(u, units[i].unit) == 0)
			scale = units[i].ms;
	if (scale == 0)
		return why_set(why, whysz, "unknown unit (use ms, s, m or h)");
	if (number(arg, u, 0, 1e12 / scale, &v, why, whysz) == -1)
		return -1;
	*ms = (int64_t)llround(v * scale);
	/* Where 0 means none, a tiny value must not become it. */
	if (*ms == 0 && v > 0)
		*ms = 1;
	return 0;
}

int
opts_size(const char *arg, size_t min, size_t *out, char *why, size_t whysz)
{
	char *end;
	unsigned long long v, mul = 1;

	if (*arg == '-')
		return why_set(why, whysz, "negative size");
	/* strtoull() would take leading blanks, and then negate a '-'. */
	if (!isdigit((unsigned char)*arg))
		return why_set(why, whysz, "not a size");
	errno = 0;
	v = strtoull(arg, &end, 10);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1024ULL;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1024ULL * 1024;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1024ULL * 1024 * 1024;
		end++;
		break;
	default:
		return why_set(why, whysz, "unknown suffix (use K, M or G)");
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return why_set(why, whysz, "trailing characters");
	if (errno == ERANGE || v > SIZE_MAX / mul)
		return why_set(why, whysz, "too large");
	if (v * mul < min)
		return why_set(why, whysz, "too small");
	*out = (size_t)(v * mul);
	return 0;
}

/* Levenshtein distance, capped: names are short. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, up;
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			row[j] = cur;
			prev = up;
		}
	}
	return row[lb];
}

const char *
opts_nearest(const char *name, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = (size_t)-1, len = strlen(name);
	/* About one edit in three letters, at least one, at most three. */
	size_t limit = len < 3 ? 1 : len / 3 > 3 ? 3 : len / 3;

	for (i = 0; i < n; i++) {
		d = distance(name, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

static int fail(struct opts_parse *p, int usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct opts_parse *p, int usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	p->usage = usage;
	return -1;
}

/* "--name: invalid value 'ARG': WHY", the value's control bytes shown. */
static int
bad_value(
    struct opts_parse *p, const char *opt, const char *arg, const char *why)
{
	struct sse_buf b;
	int r;

	sse_buf_init(&b, 256);
	if (sse_format_visible(&b, arg, strlen(arg), NULL, NULL) == -1 &&
	    b.len == 0)
		sse_buf_addstr(&b, "...");
	r = fail(p, 0, "%s: invalid value '%.*s': %s", opt, (int)b.len,
	    b.len ? b.p : "", why);
	sse_buf_release(&b);
	return r;
}

static int
list_add(struct opts_list *l, const char *arg)
{
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	v[l->n++] = arg;
	l->v = v;
	return 0;
}

/* Stores arg (NULL for an option without one) as row says. */
static int
take(struct opts_parse *p, struct hit h, const char *opt, const char *arg)
{
	char why[160];
	char *dst = (char *)h.base + h.row->off;
	long long n;
	int r = 0;

	why[0] = '\0';
	switch (h.row->kind) {
	case OPTS_FLAG:
	case OPTS_UNSET:
		*(bool *)(void *)dst = h.row->kind == OPTS_FLAG;
		break;
	case OPTS_COUNT:
		(*(int *)(void *)dst)++;
		break;
	case OPTS_STR:
		*(const char **)(void *)dst = arg;
		break;
	case OPTS_LIST:
		if (list_add((struct opts_list *)(void *)dst, arg) == -1)
			return fail(p, 0, "out of memory");
		break;
	case OPTS_INT:
		r = opts_int(arg, (long long)h.row->min, (long long)h.row->max,
		    &n, why, sizeof(why));
		if (r == 0)
			*(long long *)(void *)dst = n;
		break;
	case OPTS_SECONDS:
		r = opts_seconds(arg, (int64_t *)(void *)dst, why, sizeof(why));
		break;
	case OPTS_SIZE:
		r = opts_size(arg, (size_t)h.row->min, (size_t *)(void *)dst,
		    why, sizeof(why));
		break;
	case OPTS_DOUBLE:
		r = opts_double(arg, h.row->min, h.row->max,
		    (double *)(void *)dst, why, sizeof(why));
		break;
	case OPTS_CALL:
	case OPTS_HELP:
	case OPTS_SECTION:
		break;
	}
	if (r == 0 && h.row->call != NULL)
		r = h.row->call(h.base, h.row, arg, why, sizeof(why));
	if (r == -1)
		return why[0] ? bad_value(p, opt, arg ? arg : "", why) : -1;
	return 0;
}

static bool
takes_arg(const struct opts_row *row)
{
	return row->metavar != NULL && !(row->flags & OPTS_OPTARG);
}

static struct hit
by_letter(const struct opts_table *tabs, size_t ntabs, char c)
{
	struct hit h = {NULL, NULL};
	size_t t, i;

	for (t = 0; t < ntabs && h.row == NULL; t++)
		for (i = 0; i < tabs[t].nrows && h.row == NULL; i++)
			if (tabs[t].rows[i].letter == c &&
			    tabs[t].rows[i].kind != OPTS_SECTION) {
				h.row = &tabs[t].rows[i];
				h.base = tabs[t].base;
			}
	return h;
}

/* Exact name first, then a unique prefix; *ambiguous when two fit. */
static struct hit
by_name(const struct opts_table *tabs, size_t ntabs, const char *name,
    size_t len, bool *ambiguous)
{
	struct hit exact = {NULL, NULL}, prefix = {NULL, NULL};
	const struct opts_row *r;
	size_t t, i, nprefix = 0;

	for (t = 0; t < ntabs; t++)
		for (i = 0; i < tabs[t].nrows; i++) {
			r = &tabs[t].rows[i];
			if (r->name == NULL || strncmp(r->name, name, len) != 0)
				continue;
			if (r->name[len] == '\0') {
				exact.row = r;
				exact.base = tabs[t].base;
			} else if (prefix.row == NULL ||
			    strcmp(prefix.row->name, r->name) != 0) {
				prefix.row = r;
				prefix.base = tabs[t].base;
				nprefix++;
			}
		}
	*ambiguous = exact.row == NULL && nprefix > 1;
	return exact.row != NULL ? exact : nprefix == 1 ? prefix : exact;
}

static int
unknown_long(struct opts_parse *p, const struct opts_table *tabs, size_t ntabs,
    const char *word, size_t len)
{
	const char *names[256], *near;
	char name[64];
	size_t t, i, n = 0;

	snprintf(name, sizeof(name), "%.*s", (int)len, word + 2);
	for (t = 0; t < ntabs; t++)
		for (i = 0; i < tabs[t].nrows && n < 256; i++)
			if (tabs[t].rows[i].name != NULL)
				names[n++] = tabs[t].rows[i].name;
	near = opts_nearest(name, names, n);
	if (near != NULL)
		return fail(p, 1,
		    "unknown option '--%s' (did you mean '--%s'?)", name, near);
	return fail(p, 1, "unknown option '%.*s'", (int)len + 2, word);
}

static int
long_opt(struct opts_parse *p, const struct opts_table *tabs, size_t ntabs,
    int argc, char **argv, int *i)
{
	const char *word = argv[*i], *eq = strchr(word, '='), *arg = NULL;
	size_t len = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
	char opt[80];
	bool ambiguous;
	struct hit h = by_name(tabs, ntabs, word + 2, len, &ambiguous);

	if (ambiguous)
		return fail(
		    p, 1, "option '%.*s' is ambiguous", (int)len + 2, word);
	if (h.row == NULL)
		return unknown_long(p, tabs, ntabs, word, len);
	snprintf(opt, sizeof(opt), "--%s", h.row->name);
	if (h.row->kind == OPTS_HELP)
		return 1;
	if (eq != NULL) {
		if (h.row->metavar == NULL)
			return fail(p, 1, "option '%s' takes no value", opt);
		arg = eq + 1;
	} else if (takes_arg(h.row)) {
		if (*i + 1 >= argc)
			return fail(p, 1, "option '%s' needs a value", opt);
		arg = argv[++*i];
	}
	return take(p, h, opt, arg);
}

static int
short_opts(struct opts_parse *p, const struct opts_table *tabs, size_t ntabs,
    int argc, char **argv, int *i)
{
	const char *word = argv[*i], *s;
	char opt[80];
	struct hit h;
	int r;

	for (s = word + 1; *s != '\0'; s++) {
		h = by_letter(tabs, ntabs, *s);
		if (h.row == NULL)
			return fail(p, 1, "unknown option '-%c'", *s);
		if (h.row->kind == OPTS_HELP)
			return 1;
		if (h.row->name != NULL)
			snprintf(opt, sizeof(opt), "--%s", h.row->name);
		else
			snprintf(opt, sizeof(opt), "-%c", *s);
		if (!takes_arg(h.row)) {
			if ((r = take(p, h, opt, NULL)) != 0)
				return r;
			continue;
		}
		if (s[1] != '\0')
			return take(p, h, opt, s + 1);
		if (*i + 1 >= argc)
			return fail(p, 1, "option '-%c' needs a value", *s);
		return take(p, h, opt, argv[++*i]);
	}
	return 0;
}

int
opts_parse(struct opts_parse *p, const struct opts_table *tabs, size_t ntabs,
    int argc, char **argv)
{
	bool operands_only = false;
	const char *w;
	int i, r;

	memset(p, 0, sizeof(*p));
	p->operands = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	if (p->operands == NULL)
		return fail(p, 0, "out of memory");
	for (i = 1; i < argc; i++) {
		w = argv[i];
		if (operands_only || w[0] != '-' || w[1] == '\0') {
			p->operands[p->noperands++] = argv[i];
			continue;
		}
		if (strcmp(w, "--") == 0) {
			operands_only = true;
			continue;
		}
		r = w[1] == '-' ? long_opt(p, tabs, ntabs, argc, argv, &i)
				: short_opts(p, tabs, ntabs, argc, argv, &i);
		if (r != 0)
			return r;
	}
	return 0;
}

void
opts_parse_release(struct opts_parse *p)
{
	free(p->operands);
	p->operands = NULL;
	p->noperands = 0;
}

/* snprintf into out + *len, keeping *len the length needed in all. */
static void put(char *out, size_t outsz, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
put(char *out, size_t outsz, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*len < outsz ? out + *len : NULL,
	    *len < outsz ? outsz - *len : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len += (size_t)k;
}

/* "  -f, --format FMT", padded to the help column (or on a line alone). */
static void
left(const struct opts_row *r, char *out, size_t outsz, size_t *len)
{
	char col[128];
	int n;

	n = snprintf(col, sizeof(col), "  %c%c%s%s%s%s%s%s",
	    r->letter ? '-' : ' ', r->letter ? r->letter : ' ',
	    r->letter && r->name ? ", " : "  ", r->name ? "--" : "",
	    r->name ? r->name : "",
	    r->metavar == NULL		 ? ""
		: r->flags & OPTS_OPTARG ? "[="
					 : " ",
	    r->metavar ? r->metavar : "",
	    r->metavar && (r->flags & OPTS_OPTARG) ? "]" : "");
	if (n > 0 && n < HELP_COL - 1)
		put(out, outsz, len, "%-*s", HELP_COL, col);
	else
		put(out, outsz, len, "%s\n%*s", col, HELP_COL, "");
}

size_t
opts_help(const struct opts_row *rows, size_t nrows, char *out, size_t outsz)
{
	const struct opts_row *r;
	const char *s, *nl;
	size_t i, len = 0;

	if (outsz > 0)
		out[0] = '\0';
	for (i = 0; i < nrows; i++) {
		r = &rows[i];
		if (r->flags & OPTS_HIDDEN)
			continue;
		if (r->kind == OPTS_SECTION) {
			put(out, outsz, &len, "%s\n", r->help);
			continue;
		}
		left(r, out, outsz, &len);
		for (s = r->help; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
			put(out, outsz, &len, "%.*s\n%*s", (int)(nl - s), s,
			    HELP_COL, "");
		put(out, outsz, &len, "%s\n", s);
	}
	return len;
}
