/*
 * sse: main, the command table, and the options every command shares.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <microhttpd.h>

#include "cmd.h"
#include "msg.h"
#include "opts.h"

static const struct cmd_entry *const commands[] = {
    &cmd_listen_entry,
    &cmd_serve_entry,
    &cmd_replay_entry,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_line[] = "usage: sse [-hV] <command> [<args>]\n";

static void
main_help(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "%s\n"
	    "sse is a toolkit for Server-Sent Events (text/event-stream).\n\n"
	    "Commands:\n",
	    usage_line);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(
		    fp, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(fp, "  %-8s %s\n", "help", "show the help of a command");
	fprintf(fp,
	    "\nOptions:\n"
	    "  -h, --help     show this help and exit\n"
	    "  -V, --version  show the version and exit\n\n"
	    "Run 'sse help <command>' or 'sse <command> --help' for the\n"
	    "options of a command; man sse(1) for the whole story.\n");
}

static int
main_usage(void)
{
	fputs(usage_line, stderr);
	fputs("Run 'sse --help' for the list of commands.\n", stderr);
	return EXIT_USAGE;
}

static const struct cmd_entry *
find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int
cmd_usage(const struct cmd_entry *c)
{
	const char *nl = strchr(c->help, '\n');
	int n = nl ? (int)(nl - c->help) : (int)strlen(c->help);

	fprintf(stderr, "%.*s\n", n, c->help);
	fprintf(
	    stderr, "Run 'sse %s --help' for the list of options.\n", c->name);
	return EXIT_USAGE;
}

int
cmd_help(const struct cmd_entry *c)
{
	char *text;
	size_t n;

	fputs(c->help, stdout);
	if (c->opts_help == NULL)
		return EXIT_OK;
	n = c->opts_help(NULL, 0) + 1;
	if ((text = malloc(n)) == NULL) {
		msg_err("cannot show the help");
		return EXIT_ERROR;
	}
	c->opts_help(text, n);
	fputs(text, stdout);
	free(text);
	return EXIT_OK;
}

/*
 * As curl -V does: what we are, and the libraries we run with (not those we
 * were built against, but for hiredis), with what of them matters here:
 * libcurl's TLS backend and HTTP/2, libmicrohttpd's TLS.
 */
static int
version(void)
{
	const curl_version_info_data *c = curl_version_info(CURLVERSION_NOW);
	bool h2 = (c->features & CURL_VERSION_HTTP2) != 0;
	bool mhd_tls = MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;

	printf("sse %s\n", SSE_VERSION);
	printf("libcurl %s, TLS %s, HTTP/2 %s", c->version,
	    c->ssl_version ? c->ssl_version : "none", h2 ? "yes" : "no");
	if (h2 && c->age >= CURLVERSION_SIXTH && c->nghttp2_version)
		printf(" (nghttp2/%s)", c->nghttp2_version);
	printf("\nlibmicrohttpd %s, TLS %s\n", MHD_get_version(),
	    mhd_tls ? "yes" : "no");
#if JANSSON_VERSION_HEX >= 0x020d00
	printf("jansson %s\n", jansson_version_str());
#else
	printf("jansson %s\n", JANSSON_VERSION);
#endif
	/* hiredis has no run-time version: its soname changes with it */
	printf(
	    "hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
	return EXIT_OK;
}

/*
 * A standard descriptor closed at start would be the next one opened, by
 * libcurl (its socketpair, a connection) or by us, and events or messages
 * would go into that. Each closed one is held by /dev/null opened the
 * wrong way round, so that using it still fails with EBADF, as the closed
 * descriptor would have: nothing is lost without an error.
 */
static int
hold_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			return -1;
	}
	return 0;
}

/* "unknown command 'lisen' (did you mean 'listen'?)" */
static void
unknown_command(const char *arg)
{
	const char *names[NCOMMANDS + 1], *near;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i]->name;
	names[NCOMMANDS] = "help";
	if ((near = opts_nearest(arg, names, NCOMMANDS + 1)) != NULL)
		msg_errx(
		    "unknown command '%s' (did you mean '%s'?)", arg, near);
	else
		msg_errx("unknown command '%s'", arg);
}

static int
dispatch(int argc, char **argv)
{
	const struct cmd_entry *c;
	const char *arg;

	if (argc < 2)
		return main_usage();
	arg = argv[1];
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		main_help(stdout);
		return EXIT_OK;
	}
	if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)
		return version();
	if (strcmp(arg, "help") == 0) {
		if (argc == 2) {
			main_help(stdout);
			return EXIT_OK;
		}
		if ((c = find(argv[2])) == NULL) {
			msg_errx("help: unknown command '%s'", argv[2]);
			return main_usage();
		}
		return cmd_help(c);
	}
	if (arg[0] == '-') {
		msg_errx("unknown option '%s'", arg);
		return main_usage();
	}
	if ((c = find(arg)) == NULL) {
		unknown_command(arg);
		return main_usage();
	}
	msg_init(c->name);
	return c->exec(argc - 1, argv + 1);
}

int
main(int argc, char **argv)
{
	int rc;

	if (hold_std_fds() == -1)
		return EXIT_ERROR;
	rc = dispatch(argc, argv);
	if (fflush(stdout) == EOF && rc == EXIT_OK) {
		msg_init(NULL);
		msg_err("cannot write to stdout");
		rc = EXIT_ERROR;
	}
	return rc;
}
