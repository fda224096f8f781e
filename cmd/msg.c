/*
 * Messages to people on stderr: see msg.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

static const char *msg_cmd;
static bool msg_silent;
static int msg_level;

void
msg_init(const char *cmd)
{
	msg_cmd = cmd;
}

void
msg_quiet(bool quiet)
{
	msg_silent = quiet;
}

void
msg_verbose(int level)
{
	msg_level = level;
}

int
msg_verbosity(void)
{
	return msg_level;
}

bool
msg_is_quiet(void)
{
	return msg_silent;
}

/*
 * One line, formatted whole and written with one write(2): stderr is
 * unbuffered, and stdio would write a line in pieces that another thread's
 * line could come between. A line longer than the buffer is cut, with
 * "..." to say so.
 */
void
msg_vline(bool with_errno, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0, room = sizeof(line) - 4; /* "...\n" */
	int saved = errno, k;

	k = msg_cmd ? snprintf(line, room, "sse: %s: ", msg_cmd)
		    : snprintf(line, room, "sse: ");
	n = k > 0 ? (size_t)k : 0;
	k = vsnprintf(line + n, room - n, fmt, ap);
	if (k > 0)
		n += (size_t)k < room - n ? (size_t)k : room - n - 1;
	if (with_errno && n < room - 1) {
		k = snprintf(line + n, room - n, ": %s", strerror(saved));
		if (k > 0)
			n += (size_t)k < room - n ? (size_t)k : room - n - 1;
	}
	if (n >= room - 1) {
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to say it */
	}
	errno = saved;
}

#define MSG_BODY(cond, with_errno)                                             \
	do {                                                                   \
		va_list ap;                                                    \
		if (!(cond))                                                   \
			return;                                                \
		va_start(ap, fmt);                                             \
		msg_vline(with_errno, fmt, ap);                                \
		va_end(ap);                                                    \
	} while (0)

void
msg_warnx(const char *fmt, ...)
{
	MSG_BODY(!msg_silent, false);
}

void
msg_warn(const char *fmt, ...)
{
	MSG_BODY(!msg_silent, true);
}

void
msg_errx(const char *fmt, ...)
{
	MSG_BODY(true, false);
}

void
msg_err(const char *fmt, ...)
{
	MSG_BODY(true, true);
}

void
msg_debug(int level, const char *fmt, ...)
{
	MSG_BODY(msg_level >= level, false);
}
