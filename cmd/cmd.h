/*
 * The command table. A command is a name, a one-line summary, its help text
 * (printed by `sse CMD --help` and `sse help CMD`) and an exec function that
 * returns an exit status; only main() exits.
 */
#ifndef SSE_CMD_H
#define SSE_CMD_H

#include <stdio.h>

/* Exit statuses shared by all commands; see sse(1), EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1, /* any other error */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_CONNECT = 3, /* cannot connect / cannot bind */
	EXIT_HTTP = 4, /* HTTP status or content type refused */
	EXIT_TIMEOUT = 5, /* --timeout */
	EXIT_IDLE = 6, /* --idle-timeout */
	EXIT_STREAM = 7, /* event too large or malformed stream */
	EXIT_RECONNECTS = 8, /* reconnects exhausted */
	EXIT_EXPECT = 9, /* listen --expect: the events differ */
	EXIT_SIGINT = 130,
	EXIT_SIGTERM = 143,
};

struct cmd_entry {
	const char *name;
	const char *summary;
	const char *help; /* --help text, usage line first */
	int (*exec)(int argc, char **argv);
	/*
	 * The options' part of --help, made from the command's option tables
	 * (opts_help()) and printed after help; NULL when help says it all.
	 * Returns the length needed, as snprintf does.
	 */
	size_t (*opts_help)(char *out, size_t outsz);
};

extern const struct cmd_entry cmd_listen_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_replay_entry;

/* Print "usage: ..." (the first line of help) and a hint to stderr; EXIT_USAGE.
 */
int cmd_usage(const struct cmd_entry *);
/* Print the full help text to stdout; EXIT_OK. */
int cmd_help(const struct cmd_entry *);

#endif
