#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

static int
bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "sse: %s: invalid value '%s': %s\n", opt, arg, why);
	return -1;
}

int
opt_int(const char *opt, const char *arg, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	/* strtoll() would also take leading blanks and a '+'. */
	if (!isdigit((unsigned char)arg[0]) &&
	    !(arg[0] == '-' && isdigit((unsigned char)arg[1])))
		return bad(opt, arg, "not a whole number");
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0')
		return bad(opt, arg, "not a whole number");
	if ((errno == ERANGE && v < 0) || v < min)
		return bad(opt, arg, "too small");
	if (errno == ERANGE || v > max)
		return bad(opt, arg, "too large");
	*out = v;
	return 0;
}

/*
 * Digits with at most one '.', after an optional '-': what strtod() also
 * takes (hexadecimal, exponents, inf, nan, leading blanks) is refused.
 */
static bool
decimal(const char *s)
{
	bool digits = false, dot = false;

	if (*s == '-')
		s++;
	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digits = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits;
}

int
opt_double(
    const char *opt, const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	if (!decimal(arg))
		return bad(opt, arg, "not a decimal number");
	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || isnan(v))
		return bad(opt, arg, "not a decimal number");
	if (v < min)
		return bad(opt, arg, "too small");
	if (v > max || errno == ERANGE)
		return bad(opt, arg, "too large");
	*out = v;
	return 0;
}

int
opt_seconds(const char *opt, const char *arg, int64_t *ms)
{
	double v;

	if (opt_double(opt, arg, 0, 1e9, &v) == -1)
		return -1;
	*ms = (int64_t)llround(v * 1000.0);
	/* Where 0 means none, a tiny value must not become it. */
	if (*ms == 0 && v > 0)
		*ms = 1;
	return 0;
}

int
opt_size(const char *opt, const char *arg, size_t min, size_t *out)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	if (*arg == '-')
		return bad(opt, arg, "negative size");
	/* strtoull() would take leading blanks, and then negate a '-'. */
	if (!isdigit((unsigned char)*arg))
		return bad(opt, arg, "not a size");
	v = strtoull(arg, &end, 10);
	if (end == arg)
		return bad(opt, arg, "not a size");
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
		return bad(opt, arg, "unknown suffix (use K, M or G)");
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return bad(opt, arg, "trailing characters");
	if (errno == ERANGE || v > SIZE_MAX / mul)
		return bad(opt, arg, "too large");
	if (v * mul < min)
		return bad(opt, arg, "too small");
	*out = (size_t)(v * mul);
	return 0;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
now_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
