/*
 * The one edge for messages to people, in the style of err(3) and
 * warnx(3): every line is "sse: CMD: MESSAGE", the command's name set once
 * at dispatch, so a module shared by several commands never names one.
 *
 *   msg_warnx(fmt, ...)   a warning; silenced by msg_quiet(true) (-q)
 *   msg_warn(fmt, ...)    the same, with ": strerror(errno)" appended
 *   msg_errx(fmt, ...)    an error the command ends on; never silenced
 *   msg_err(fmt, ...)     the same, with ": strerror(errno)" appended
 *   msg_debug(n, ...)     only when -v was given at least n times
 *
 * None of them exits: only main() does (STYLE.md). Each line is formatted
 * whole and written with one call, so lines from two threads never mix.
 */
#ifndef SSE_MSG_H
#define SSE_MSG_H

#include <stdarg.h>
#include <stdbool.h>

#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The command the messages are about ("listen"); NULL for sse itself. */
void msg_init(const char *cmd);
void msg_quiet(bool quiet);
void msg_verbose(int level);
int msg_verbosity(void);
bool msg_is_quiet(void);

void msg_warnx(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_errx(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_err(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_debug(int level, const char *fmt, ...) MSG_PRINTF(2, 3);
void msg_vline(bool with_errno, const char *fmt, va_list ap) MSG_PRINTF(2, 0);

#endif
