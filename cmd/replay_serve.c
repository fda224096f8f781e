/* sse replay --serve: the recording to SSE clients, on serve's front end. */
#include <stdio.h>

#include "cmd.h"
#include "replay.h"

int
replay_serve(
    const struct recording *rec, const struct replay_opts *o, long first)
{
	(void)rec;
	(void)o;
	(void)first;
	fprintf(stderr, "sse: replay: --serve is not built yet\n");
	return EXIT_ERROR;
}
