/*
 * The options every serving command (serve, replay --serve) shares: their
 * defaults, and the checks of their values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "msg.h"
#include "util.h"

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
	free(o->cors);
	o->cors = NULL;
	o->ncors = 0;
}

int
httpd_opt(struct httpd_opts *o, int ch, const char *arg, const char *cmd)
{
	char opt[64];
	long long v;
	const char **nc;

	switch (ch) {
	case 'b':
		if (*arg == '\0') {
			msg_errx("--bind: empty address");
			return -1;
		}
		o->bind = arg;
		return 1;
	case 'p':
		snprintf(opt, sizeof(opt), "%s: --port", cmd);
		if (opt_int(opt, arg, 0, 65535, &v) == -1)
			return -1;
		o->port = (long)v;
		return 1;
	case HTTPD_OPT_CORS:
		if (*arg == '\0' || strpbrk(arg, "\r\n") != NULL) {
			msg_errx("--cors: invalid origin '%s'", arg);
			return -1;
		}
		if ((nc = realloc(o->cors, (o->ncors + 1) * sizeof(*nc))) ==
		    NULL) {
			msg_errx("out of memory");
			return -1;
		}
		o->cors = nc;
		o->cors[o->ncors++] = arg;
		return 1;
	case HTTPD_OPT_TOKEN:
		if (*arg == '\0') {
			msg_errx("--token: empty token");
			return -1;
		}
		o->token = arg;
		return 1;
	case HTTPD_OPT_TLS_CERT:
		o->tls_cert = arg;
		return 1;
	case HTTPD_OPT_TLS_KEY:
		o->tls_key = arg;
		return 1;
	case HTTPD_OPT_MAX_CLIENTS:
		snprintf(opt, sizeof(opt), "%s: --max-clients", cmd);
		if (opt_int(opt, arg, 1, 1000000, &v) == -1)
			return -1;
		o->max_clients = (long)v;
		return 1;
	case HTTPD_OPT_KEEPALIVE:
		snprintf(opt, sizeof(opt), "%s: --keepalive", cmd);
		return opt_seconds(opt, arg, &o->keepalive_ms) == -1 ? -1 : 1;
	case HTTPD_OPT_NO_VIEWER:
		o->viewer = false;
		return 1;
	default:
		return 0;
	}
}
