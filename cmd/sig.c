/*
 * SIGINT and SIGTERM: a flag and a self-pipe; see sig.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "sig.h"

volatile sig_atomic_t sig_caught;
static int pipe_fd[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;

	sig_caught = sig;
	if (pipe_fd[1] != -1)
		(void)!write(pipe_fd[1], "", 1);
	errno = saved;
}

int
sig_catch(void)
{
	struct sigaction sa;
	int i;

	if (pipe_fd[0] == -1 && pipe(pipe_fd) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		(void)fcntl(pipe_fd[i], F_SETFL,
		    fcntl(pipe_fd[i], F_GETFL) | O_NONBLOCK);
		(void)fcntl(pipe_fd[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked write(2) or sleep must see EINTR. */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	return 0;
}

int
sig_fd(void)
{
	return pipe_fd[0];
}

void
sig_drain(void)
{
	char buf[64];

	while (pipe_fd[0] != -1 && read(pipe_fd[0], buf, sizeof(buf)) > 0)
		;
}

void
sig_release(void)
{
	int i, fd;

	for (i = 0; i < 2; i++)
		if ((fd = pipe_fd[i]) != -1) {
			pipe_fd[i] = -1;
			close(fd);
		}
}
