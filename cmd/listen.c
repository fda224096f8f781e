#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_listen_exec(int, char **);

const struct cmd_entry cmd_listen_entry = {
    "listen",
    "receive a stream and print its events",
    "usage: sse listen [options]\n\n"
    "Options:\n"
    "  -h, --help  show this help and exit\n",
    cmd_listen_exec,
};

static int
cmd_listen_exec(int argc, char **argv)
{
	if (argc > 1 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return cmd_help(&cmd_listen_entry);
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "sse: listen: unknown option '%s'\n", argv[1]);
		return cmd_usage(&cmd_listen_entry);
	}
	fprintf(stderr, "sse: listen: not built yet\n");
	return EXIT_ERROR;
}
