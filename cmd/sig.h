/*
 * SIGINT and SIGTERM for the clients (listen, replay): one handler that
 * records which signal came and writes a byte to a self-pipe, so that a
 * program waiting in poll(2) (listen's curl_multi_poll) wakes up, and one
 * sleeping or writing (replay's clock_nanosleep, a write to a stalled
 * stdout) is interrupted with EINTR (the handler has no SA_RESTART).
 * output.c's SIGALRM is a timer for its writes, not a way of handling
 * these.
 */
#ifndef SSE_SIG_H
#define SSE_SIG_H

#include <signal.h>

/* The signal that came (SIGINT or SIGTERM), 0 while none has. */
extern volatile sig_atomic_t sig_caught;

/* Install the handler; -1 with errno set. */
int sig_catch(void);
/* The self-pipe's read end, for poll(2): readable once a signal came. */
int sig_fd(void);
/* Empty the self-pipe after a wakeup. */
void sig_drain(void);
/* Close the self-pipe (the handler stays, with nothing to write to). */
void sig_release(void);

#endif
