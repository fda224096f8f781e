/*
 * Checked option values (over lib/opts.c's checks, printing what they
 * refuse) and the clocks every command reads: see util.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "opts.h"
#include "util.h"

/*
 * The checks are lib/opts.c's; these print what they refuse, as
 * "sse: OPTION: invalid value 'ARG': REASON".
 */
static int
said(int r, const char *opt, const char *arg, const char *why)
{
	if (r == -1)
		fprintf(
		    stderr, "sse: %s: invalid value '%s': %s\n", opt, arg, why);
	return r;
}

int
opt_int(const char *opt, const char *arg, long long min, long long max,
    long long *out)
{
	char why[128];

	return said(
	    opts_int(arg, min, max, out, why, sizeof(why)), opt, arg, why);
}

int
opt_double(
    const char *opt, const char *arg, double min, double max, double *out)
{
	char why[128];

	return said(
	    opts_double(arg, min, max, out, why, sizeof(why)), opt, arg, why);
}

int
opt_seconds(const char *opt, const char *arg, int64_t *ms)
{
	char why[128];

	return said(opts_seconds(arg, ms, why, sizeof(why)), opt, arg, why);
}

int
opt_size(const char *opt, const char *arg, size_t min, size_t *out)
{
	char why[128];

	return said(opts_size(arg, min, out, why, sizeof(why)), opt, arg, why);
}

/* The clock id in units of 1/per of a second (1000: ms, 1000000: us). */
static int64_t
clock_in(clockid_t id, int64_t per)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * per + ts.tv_nsec / (1000000000 / per);
}

int64_t
now_mono_ms(void)
{
	return clock_in(CLOCK_MONOTONIC, 1000);
}

int64_t
now_mono_us(void)
{
	return clock_in(CLOCK_MONOTONIC, 1000000);
}

int64_t
now_wall_ms(void)
{
	return clock_in(CLOCK_REALTIME, 1000);
}

struct timespec
mono_after(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}
