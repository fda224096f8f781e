/*
 * sse replay: the command line. Its own option table, output's, and the
 * HTTP server's options (for --serve), then the checks of what goes
 * together.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "httpd.h"
#include "msg.h"
#include "opts.h"
#include "output.h"
#include "parser.h"
#include "replay.h"

void
replay_cli_init(struct replay_cli *c)
{
	memset(c, 0, sizeof(*c));
	c->o.pace.speed = 1;
	c->o.pace.max_gap_ms = -1;
	c->o.loops = 1;
	c->o.max_event = SSE_DEFAULT_MAX_EVENT;
	c->o.stall_ms = -1;
	c->o.stall_after = 1;
	c->o.retry_ms = -1;
	output_opts_init(&c->oo);
	httpd_opts_init(&c->ho);
}

void
replay_cli_release(struct replay_cli *c)
{
	output_opts_release(&c->oo);
	httpd_opts_release(&c->ho);
}

/* --loop[=N]: bare, it plays forever. */
static int
opt_loop(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	struct replay_cli *c = base;
	long long n;

	(void)row;
	c->loop_bare = arg == NULL;
	c->o.loops = 0;
	if (arg == NULL)
		return 0;
	if (opts_int(arg, 1, INT32_MAX, &n, why, whysz) == -1)
		return -1;
	c->o.loops = n;
	return 0;
}

static int
opt_seen(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	(void)arg;
	(void)why;
	(void)whysz;
	((struct replay_cli *)base)->speed_set |= row->id == 's';
	return 0;
}

/*
 * The HTTP server's options go to httpd_opt(), which checks them and
 * prints its own messages; the row's id is its getopt code.
 */
static int
opt_httpd(void *base, const struct opts_row *row, const char *arg, char *why,
    size_t whysz)
{
	struct replay_cli *c = base;

	(void)why;
	(void)whysz;
	c->httpd = true;
	c->keepalive |= row->id == HTTPD_OPT_KEEPALIVE;
	return httpd_opt(&c->ho, row->id, arg, "replay") == 1 ? 0 : -1;
}

/* A recording's line may take 6 bytes a byte of data (\u0000): bounded. */
static int
opt_max_event(void *base, const struct opts_row *row, const char *arg,
    char *why, size_t whysz)
{
	(void)row;
	(void)arg;
	if (((struct replay_cli *)base)->o.max_event > SIZE_MAX / 8) {
		snprintf(why, whysz, "too large");
		return -1;
	}
	return 0;
}

#define RO(f) offsetof(struct replay_cli, o.f)
#define HTTPD_ROW(n, l, mv, h, code)                                           \
	{                                                                      \
		OPTS_ROW(n, l, OPTS_CALL, 0, mv),                              \
		    .help = h, .call = opt_httpd, .id = code                   \
	}

/* clang-format off */
static const struct opts_row pace_rows[] = {
    {.kind = OPTS_SECTION, .help = "Pacing:"},
    {OPTS_ROW("speed", 0, OPTS_DOUBLE, RO(pace.speed), "X"),
	.help = "play X times as fast (default 1)", .min = 1e-3, .max = 1e6,
	.call = opt_seen, .id = 's'},
    {OPTS_ROW("no-delay", 0, OPTS_FLAG, RO(pace.no_delay), NULL),
	.help = "play as fast as possible"},
    {OPTS_ROW("max-gap", 0, OPTS_SECONDS, RO(pace.max_gap_ms), "SECS"),
	.help = "shorten every pause to at most SECS"},
    {OPTS_ROW("rate", 0, OPTS_DOUBLE, RO(pace.rate), "N"),
	.help = "N events per second, ignoring recorded timing",
	.min = 1e-3, .max = 1e9},
    {OPTS_ROW("loop", 0, OPTS_CALL, 0, "N"),
	.help = "play N times in all (forever without N)",
	.flags = OPTS_OPTARG, .call = opt_loop},
    {OPTS_ROW("from-id", 0, OPTS_STR, RO(from_id), "ID"),
	.help = "start just after the event with this id"},
    {OPTS_ROW("exact", 0, OPTS_FLAG, RO(pace.exact), NULL),
	.help = "play the bytes as received, not the events"},
    {OPTS_ROW("stall", 0, OPTS_SECONDS, RO(stall_ms), "SECS"),
	.help = "go silent for SECS after --stall-after events"},
    {OPTS_ROW("stall-after", 0, OPTS_INT, RO(stall_after), "N"),
	.help = "events before the stall (default 1)", .min = 1,
	.max = INT32_MAX},
    {.kind = OPTS_SECTION, .help = ""},
};

static const struct opts_row serve_rows[] = {
    {.kind = OPTS_SECTION, .help = "\nServer:"},
    {OPTS_ROW("serve", 0, OPTS_FLAG, RO(serve), NULL),
	.help = "serve FILE at /events instead of printing it"},
    HTTPD_ROW("bind", 'b', "ADDR", "address to listen on (default "
	"127.0.0.1)", 'b'),
    HTTPD_ROW("port", 'p', "PORT", "port to listen on, 0 for any free one\n"
	"(default 8080)", 'p'),
    HTTPD_ROW("cors", 0, "ORIGIN", "allow this origin (repeatable, or '*')",
	HTTPD_OPT_CORS),
    HTTPD_ROW("token", 0, "TOKEN", "require 'Authorization: Bearer TOKEN' "
	"or\n?token=TOKEN (default: $SSE_TOKEN)", HTTPD_OPT_TOKEN),
    HTTPD_ROW("tls-cert", 0, "FILE", "serve HTTPS with this PEM certificate",
	HTTPD_OPT_TLS_CERT),
    HTTPD_ROW("tls-key", 0, "FILE", "and this PEM private key",
	HTTPD_OPT_TLS_KEY),
    HTTPD_ROW("max-clients", 0, "N", "streams at once, 503 beyond (default "
	"10000)", HTTPD_OPT_MAX_CLIENTS),
    HTTPD_ROW("keepalive", 0, "SECS", "comment on idle streams (default 15, "
	"0 off)", HTTPD_OPT_KEEPALIVE),
    {OPTS_ROW("no-viewer", 0, OPTS_CALL, 0, NULL),
	.help = "do not serve the viewer page at /", .call = opt_httpd,
	.id = HTTPD_OPT_NO_VIEWER},
    {.kind = OPTS_SECTION, .help = "\nFaults (--serve):"},
    {OPTS_ROW("disconnect-after", 0, OPTS_INT, RO(disconnect_after), "N"),
	.help = "end each connection after N events", .min = 1,
	.max = INT32_MAX},
    {OPTS_ROW("fail-first", 0, OPTS_INT, RO(fail_first), "K"),
	.help = "answer the first K requests with --status", .min = 1,
	.max = INT32_MAX},
    {OPTS_ROW("status", 0, OPTS_INT, RO(status), "CODE"),
	.help = "their status (default 503)", .min = 400, .max = 599},
    {OPTS_ROW("retry", 0, OPTS_INT, RO(retry_ms), "MS"),
	.help = "send 'retry: MS' first on every connection",
	.max = INT32_MAX},
    {.kind = OPTS_SECTION, .help = "\nOther:"},
    {OPTS_ROW("max-event-size", 0, OPTS_SIZE, RO(max_event), "SIZE"),
	.help = "exit 7 on a larger event (default 1M)", .min = 1,
	.call = opt_max_event},
    {OPTS_ROW("help", 'h', OPTS_HELP, 0, NULL),
	.help = "show this help and exit"},
};
/* clang-format on */

#define NROWS(r) (sizeof(r) / sizeof((r)[0]))

size_t
replay_opts_help(char *out, size_t outsz)
{
	return output_opts_help(pace_rows, NROWS(pace_rows), serve_rows,
	    NROWS(serve_rows), out, outsz);
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Output options that look at events (all but --timeout). */
static bool
events_used(const struct output_opts *oo)
{
	return oo->format != NULL || oo->types.n > 0 || oo->until.n > 0 ||
	    oo->max_events > 0 || oo->match != NULL ||
	    oo->until_match != NULL || oo->until_data != NULL;
}

/* What goes together: 0, or -1 after a message. */
static int
check(struct replay_cli *c)
{
	struct replay_opts *o = &c->o;
	const struct output_opts *oo = &c->oo;
	const char *e = NULL;

	if (o->pace.no_delay &&
	    (c->speed_set || o->pace.rate > 0 || o->pace.max_gap_ms >= 0))
		e = "--no-delay cannot be combined with --speed, --rate or "
		    "--max-gap";
	else if (o->status != 0 && o->fail_first == 0)
		e = "--status needs --fail-first";
	else if (!o->serve &&
	    (c->httpd || o->disconnect_after > 0 || o->fail_first > 0 ||
		o->retry_ms >= 0))
		e = "server and fault options need --serve";
	else if (o->serve && (events_used(oo) || oo->timeout_ms >= 0))
		e = "output options (-f, -e, -n, --match, --until..., "
		    "--timeout) do not go with --serve";
	else if (o->pace.exact && (o->from_id != NULL || events_used(oo)))
		e = "--exact plays bytes, not events: no --from-id, -f, -e, "
		    "-n, "
		    "--match or --until...";
	if (e != NULL) {
		msg_errx("%s", e);
		return -1;
	}
	/* A stall must be silent: no keepalive comments unless asked for. */
	if (o->stall_ms > 0 && !c->keepalive)
		c->ho.keepalive_ms = 0;
	if (o->status == 0)
		o->status = 503;
	return 0;
}

/* The operands: one FILE. */
static int
operands(struct replay_cli *c, char **w, int n)
{
	if (n == 0) {
		msg_errx("no FILE to play");
		return -1;
	}
	if (n > 1) {
		if (c->loop_bare && all_digits(w[0]))
			msg_errx("a --loop count is written --loop=%s", w[0]);
		else
			msg_errx("one FILE only, not '%s'", w[1]);
		return -1;
	}
	c->o.file = w[0];
	return 0;
}

int
replay_cli_parse(struct replay_cli *c, int argc, char **argv)
{
	struct opts_table tabs[] = {
	    OPTS_TABLE(pace_rows, c),
	    OPTS_TABLE(serve_rows, c),
	    {output_rows, output_nrows, &c->oo},
	};
	struct opts_parse p;
	int rc;

	rc = opts_parse(&p, tabs, 3, argc, argv);
	if (rc == -1 && p.err[0] != '\0')
		msg_errx("%s", p.err);
	if (rc == 0)
		rc = operands(c, p.operands, p.noperands) == -1 ? -1 : check(c);
	opts_parse_release(&p);
	return rc;
}
