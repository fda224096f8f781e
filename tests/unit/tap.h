/*
 * A minimal TAP producer for the C unit tests (run by prove(1)).
 * ok(cond, fmt, ...) prints one test line; done_testing() prints the plan
 * and returns the exit status.
 */
#ifndef SSE_TAP_H
#define SSE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

/* Compare two byte strings; on failure print both as TAP diagnostics. */
__attribute__((unused)) static int
is_mem(const char *got, size_t glen, const char *want, size_t wlen,
    const char *name)
{
	int same = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);

	ok(same, "%s", name);
	if (!same)
		printf("#   got:  '%.*s' (%zu)\n#   want: '%.*s' (%zu)\n",
		    (int)glen, got, glen, (int)wlen, want, wlen);
	return same;
}

__attribute__((unused)) static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
