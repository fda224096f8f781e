#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_replay_exec(int, char **);

const struct cmd_entry cmd_replay_entry = {
    "replay",
    "play a recorded stream back",
    "usage: sse replay [options]\n\n"
    "Options:\n"
    "  -h, --help  show this help and exit\n",
    cmd_replay_exec,
};

static int
cmd_replay_exec(int argc, char **argv)
{
	if (argc > 1 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return cmd_help(&cmd_replay_entry);
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "sse: replay: unknown option '%s'\n", argv[1]);
		return cmd_usage(&cmd_replay_entry);
	}
	fprintf(stderr, "sse: replay: not built yet\n");
	return EXIT_ERROR;
}
