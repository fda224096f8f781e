/* Checked option values and the clocks, shared by every command. */
#ifndef SSE_UTIL_H
#define SSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Each returns 0 and sets *out, or -1 after printing
 * "sse: OPTION: invalid value 'ARG': REASON" to stderr; OPTION names the
 * command too, as "listen: --timeout". Numbers are decimal: no blanks,
 * no '+', no hexadecimal, exponent, inf or nan.
 */
int opt_int(const char *opt, const char *arg, long long min, long long max,
    long long *out);
/*
 * Seconds as a decimal number ("1.5"), >= 0, stored in milliseconds; a
 * value above 0 is at least 1 ms (0 may mean "no limit" to the caller).
 */
int opt_seconds(const char *opt, const char *arg, int64_t *ms);
/* A size with an optional K, M or G suffix (powers of 1024). */
int opt_size(const char *opt, const char *arg, size_t min, size_t *out);
/* A positive float, e.g. a speed factor. */
int opt_double(
    const char *opt, const char *arg, double min, double max, double *out);

/* Monotonic and wall clocks in milliseconds. */
int64_t now_mono_ms(void);
int64_t now_mono_us(void);
int64_t now_wall_ms(void);
/*
 * now + ms on the monotonic clock, as a pthread_cond_timedwait() deadline
 * (for a condition variable set to CLOCK_MONOTONIC).
 */
struct timespec mono_after(int64_t ms);

#endif
