#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_serve_exec(int, char **);

const struct cmd_entry cmd_serve_entry = {
    "serve",
    "broadcast lines from stdin to SSE clients",
    "usage: sse serve [options]\n\n"
    "Options:\n"
    "  -h, --help  show this help and exit\n",
    cmd_serve_exec,
};

static int
cmd_serve_exec(int argc, char **argv)
{
	if (argc > 1 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return cmd_help(&cmd_serve_entry);
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "sse: serve: unknown option '%s'\n", argv[1]);
		return cmd_usage(&cmd_serve_entry);
	}
	fprintf(stderr, "sse: serve: not built yet\n");
	return EXIT_ERROR;
}
