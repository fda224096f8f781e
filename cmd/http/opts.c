/*
 * The options every serving command (serve, replay --serve) shares: their
 * defaults, their table (lib/opts) with the checks of their values, and
 * httpd_opt() for a command that hands them over one at a time.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "msg.h"

void
httpd_opts_init(struct httpd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind = "127.0.0.1";
	o->port = 8080;
	o->max_clients = 10000;
	o->keepalive_ms = 15000;
	o->viewer = true;
}

void
httpd_opts_release(struct httpd_opts *o)
{
	free(o->cors.v);
	o->cors.v = NULL;
	o->cors.n = 0;
}

/* --bind, --token: not empty; --cors: an origin (the one just added). */
static int
check_value(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	(void)base;
	if (*arg == '\0')
		snprintf(why, whysz, "empty %s",
		    row->id == 'b'		    ? "address"
			: row->id == HTTPD_OPT_CORS ? "origin"
						    : "token");
	else if (row->id == HTTPD_OPT_CORS && strpbrk(arg, "\r\n") != NULL)
		snprintf(why, whysz, "an origin has no line break");
	else
		return 0;
	return -1;
}

#define HO(f) offsetof(struct httpd_opts, f)

/* clang-format off */
const struct opts_row httpd_rows[] = {
    {.kind = OPTS_SECTION, .help = "HTTP:"},
    {OPTS_ROW("bind", 'b', OPTS_STR, HO(bind), "ADDR"),
	.help = "address to listen on (default 127.0.0.1)",
	.call = check_value, .id = 'b'},
    {OPTS_ROW("port", 'p', OPTS_INT, HO(port), "PORT"),
	.help = "port to listen on, 0 for any free one\n(default 8080)",
	.min = 0, .max = 65535, .id = 'p'},
    {OPTS_ROW("cors", 0, OPTS_LIST, HO(cors), "ORIGIN"),
	.help = "allow this origin (repeatable, or '*')",
	.call = check_value, .id = HTTPD_OPT_CORS},
    {OPTS_ROW("token", 0, OPTS_STR, HO(token), "TOKEN"),
	.help = "require 'Authorization: Bearer TOKEN' or\n"
	    "?token=TOKEN (default: $SSE_TOKEN)",
	.call = check_value, .id = HTTPD_OPT_TOKEN},
    {OPTS_ROW("tls-cert", 0, OPTS_STR, HO(tls_cert), "FILE"),
	.help = "serve HTTPS with this PEM certificate",
	.id = HTTPD_OPT_TLS_CERT},
    {OPTS_ROW("tls-key", 0, OPTS_STR, HO(tls_key), "FILE"),
	.help = "and this PEM private key", .id = HTTPD_OPT_TLS_KEY},
    {OPTS_ROW("max-clients", 0, OPTS_INT, HO(max_clients), "N"),
	.help = "streams at once, 503 beyond (default 10000)",
	.min = 1, .max = 1000000, .id = HTTPD_OPT_MAX_CLIENTS},
    {OPTS_ROW("keepalive", 0, OPTS_SECONDS, HO(keepalive_ms), "SECS"),
	.help = "comment on idle streams (default 15, 0 off)",
	.id = HTTPD_OPT_KEEPALIVE},
    {OPTS_ROW("no-viewer", 0, OPTS_UNSET, HO(viewer), NULL),
	.help = "do not serve the viewer page at /",
	.id = HTTPD_OPT_NO_VIEWER},
};
/* clang-format on */

const size_t httpd_nrows = sizeof(httpd_rows) / sizeof(httpd_rows[0]);

int
httpd_opt(struct httpd_opts *o, int ch, const char *arg, const char *cmd)
{
	struct opts_table tab = {httpd_rows, httpd_nrows, o};
	struct opts_parse p;
	char name[32], *argv[3] = {(char *)"sse", NULL, NULL};
	size_t i;
	int rc;

	(void)cmd;
	for (i = 0; i < httpd_nrows; i++)
		if (httpd_rows[i].name != NULL && httpd_rows[i].id == ch)
			break;
	if (i == httpd_nrows)
		return 0;
	/*
	 * The one option, parsed by the table as if it came alone: its value
	 * is the caller's own string, which the options may keep.
	 */
	snprintf(name, sizeof(name), "--%s", httpd_rows[i].name);
	argv[1] = name;
	argv[2] = (char *)(uintptr_t)arg;
	rc = opts_parse(&p, &tab, 1, arg != NULL ? 3 : 2, argv);
	if (rc != 0 && p.err[0] != '\0')
		msg_errx("%s", p.err);
	opts_parse_release(&p);
	return rc == 0 ? 1 : -1;
}
