/*
 * sse listen: the command line. The option table (with output's), the
 * checks of values that go into the request as they are, and the URL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "eventsource.h"
#include "listen.h"
#include "msg.h"
#include "opts.h"
#include "utf8.h"

void
listen_opts_init(struct listen_opts *o)
{
	memset(o, 0, sizeof(*o));
	output_opts_init(&o->out);
	sse_buf_init(&o->body, 0);
	o->reconnect = true;
	o->max_redirs = LISTEN_MAX_REDIRS;
	o->idle_timeout_ms = -1;
	o->retry_delay_ms = SSE_ES_RETRY_DEFAULT_MS;
	o->retry_max_ms = SSE_ES_BACKOFF_MAX_MS;
	o->max_reconnects = -1;
	o->retry_connect_ms = -1;
	o->connect_timeout_ms = LISTEN_CONNECT_TIMEOUT_MS;
	o->max_event = SSE_DEFAULT_MAX_EVENT;
}

void
listen_opts_release(struct listen_opts *o)
{
	output_opts_release(&o->out);
	free(o->state_text);
	free(o->bearer_text);
	if (o->expected != NULL) {
		sse_recording_release(o->expected);
		free(o->expected);
	}
	curl_slist_free_all(o->headers);
	sse_buf_release(&o->body);
}

static int
why(char *buf, size_t n, const char *s)
{
	snprintf(buf, n, "%s", s);
	return -1;
}

/*
 * A value that goes into the request head as it is: libcurl does not check
 * it, and a CR or LF would end its line and start one of the value's
 * choosing (another header, or another request).
 */
static int
one_line(
    void *base, const struct opts_row *row, const char *arg, char *w, size_t wn)
{
	(void)base;
	(void)row;
	if (strpbrk(arg, "\r\n") != NULL)
		return why(w, wn, "contains a line break (CR or LF)");
	return 0;
}

/*
 * --last-event-id, or the value of -H 'Last-Event-ID: ...' (arg): what the
 * standard sends is the last event ID string encoded as UTF-8, and no
 * stream can set an ID that is not valid UTF-8 (it is decoded), so such an
 * ID is refused rather than changed (repaired, it would not be the ID the
 * server knows).
 */
static int
last_event_id(
    struct listen_opts *o, const char *arg, const char *id, char *w, size_t wn)
{
	if (one_line(NULL, NULL, arg, w, wn) == -1)
		return -1;
	if (!sse_utf8_valid(id, strlen(id)))
		return why(w, wn, "the ID is not valid UTF-8");
	o->last_event_id = id;
	return 0;
}

static int
opt_last_event_id(
    void *base, const struct opts_row *row, const char *arg, char *w, size_t wn)
{
	(void)row;
	return last_event_id(base, arg, arg, w, wn);
}

static int
opt_header(
    void *base, const struct opts_row *row, const char *h, char *w, size_t wn)
{
	struct listen_opts *o = base;
	struct curl_slist *n;
	const char *v;

	(void)row;
	if (one_line(NULL, NULL, h, w, wn) == -1)
		return -1;
	if (strchr(h, ':') == NULL && strchr(h, ';') == NULL)
		return why(w, wn, "not 'Name: value'");
	/* Last-Event-ID is ours to send: take it as --last-event-id. */
	if (strncasecmp(h, "Last-Event-ID:", 14) == 0) {
		for (v = h + 14; *v == ' ' || *v == '\t'; v++)
			;
		return last_event_id(o, h, v, w, wn);
	}
	if ((n = curl_slist_append(o->headers, h)) == NULL)
		return why(w, wn, "out of memory");
	o->headers = n;
	return 0;
}

/* -d, --data-binary, --json: the row's id says which. */
static int
opt_body(
    void *base, const struct opts_row *row, const char *arg, char *w, size_t wn)
{
	char opt[32];

	(void)w;
	(void)wn;
	snprintf(opt, sizeof(opt), "--%s", row->name);
	return listen_load_body(base, opt, arg, row->id);
}

static int
opt_max_event(
    void *base, const struct opts_row *row, const char *arg, char *w, size_t wn)
{
	(void)row;
	(void)arg;
	if (((struct listen_opts *)base)->max_event > SIZE_MAX / 4)
		return why(w, wn, "too large");
	return 0;
}

#define LO(f) offsetof(struct listen_opts, f)

/* clang-format off */
static const struct opts_row listen_rows[] = {
    {OPTS_ROW("output", 'o', OPTS_STR, LO(output), "FILE"),
	.help = "write to FILE instead of standard output"},
    {OPTS_ROW("include", 'i', OPTS_FLAG, LO(include), NULL),
	.help = "print each response's head before its events"},
    {OPTS_ROW("max-time", 'm', OPTS_SECONDS, LO(out.timeout_ms), "SECS"),
	.help = "the same as --timeout, as curl names it",
	.call = output_zero_is_none},
    {OPTS_ROW("no-buffer", 'N', OPTS_FLAG, LO(curl_noop), NULL),
	.help = "accepted, as curl's: output is never held back"},
    {OPTS_ROW("comments", 0, OPTS_FLAG, LO(out.comments), NULL),
	.help = "print comment lines too (pretty, raw, json)"},
    {.kind = OPTS_SECTION, .help = "\nFor each event:"},
    {OPTS_ROW("state", 0, OPTS_STR, LO(state), "FILE"),
	.help = "start from the last event ID in FILE and\nkeep it there "
	"after each event"},
    {OPTS_ROW("exec", 0, OPTS_STR, LO(exec), "CMD"),
	.help = "run CMD for each printed event, data on its\nstdin, "
	"SSE_EVENT, SSE_ID, SSE_DATA set"},
    {OPTS_ROW("exec-stop", 0, OPTS_FLAG, LO(exec_stop), NULL),
	.help = "exit 1 when CMD fails (default: warn, go on)"},
    {OPTS_ROW("expect", 0, OPTS_STR, LO(expect), "FILE"),
	.help = "exit 0 once the events of FILE (a recording or\nan SSE "
	"file) have come, 9 at one that differs"},
    {.kind = OPTS_SECTION,
	.help = "\nRecording (played back by sse replay):"},
    {OPTS_ROW("record", 0, OPTS_STR, LO(record), "FILE"),
	.help = "write the session to FILE as it is received"},
    {OPTS_ROW("record-chunks", 0, OPTS_FLAG, LO(record_chunks), NULL),
	.help = "with --record: also the raw bytes received"},
    {.kind = OPTS_SECTION, .help = "\nRequest:"},
    {OPTS_ROW("header", 'H', OPTS_CALL, 0, "LINE"),
	.help = "add a request header (repeatable)", .call = opt_header},
    {OPTS_ROW("request", 'X', OPTS_STR, LO(method), "METHOD"),
	.help = "request method (default GET, POST with a body)", .call = one_line},
    {OPTS_ROW("data", 'd', OPTS_CALL, 0, "DATA"),
	.help = "request body; @FILE reads a file, @- stdin", .call = opt_body,
	.id = BODY_DATA},
    {OPTS_ROW("data-binary", 0, OPTS_CALL, 0, "DATA"),
	.help = "the same, with FILE's bytes kept exactly", .call = opt_body,
	.id = BODY_BINARY},
    {OPTS_ROW("json", 0, OPTS_CALL, 0, "DATA"),
	.help = "JSON request body (Content-Type: application/json)",
	.call = opt_body, .id = BODY_JSON},
    {OPTS_ROW("user", 'u', OPTS_STR, LO(user), "USER:PASS"),
	.help = "HTTP basic authentication"},
    {OPTS_ROW("oauth2-bearer", 0, OPTS_STR, LO(bearer), "TOKEN"),
	.help = "Authorization: Bearer TOKEN; @FILE reads it\nfrom "
	"FILE (default: $SSE_BEARER)", .call = one_line},
    {OPTS_ROW("user-agent", 'A', OPTS_STR, LO(user_agent), "NAME"),
	.help = "User-Agent header", .call = one_line},
    {OPTS_ROW("insecure", 'k', OPTS_FLAG, LO(insecure), NULL),
	.help = "do not verify the server's TLS certificate"},
    {OPTS_ROW("compressed", 0, OPTS_FLAG, LO(compressed), NULL),
	.help = "ask for a compressed response (any is decoded)"},
    {OPTS_ROW("cacert", 0, OPTS_STR, LO(cacert), "FILE"),
	.help = "CA certificates to verify the server with"},
    {OPTS_ROW("proxy", 0, OPTS_STR, LO(proxy), "URL"),
	.help = "use this proxy (default: the *_proxy variables)"},
    {OPTS_ROW("connect-timeout", 0, OPTS_SECONDS, LO(connect_timeout_ms), "SECS"),
	.help = "give up connecting after SECS (default 10, TLS included)"},
    {OPTS_ROW("location", 'L', OPTS_FLAG, LO(curl_noop), NULL),
	.help = "accepted, as curl's: redirects are followed"},
    {OPTS_ROW("max-redirs", 0, OPTS_INT, LO(max_redirs), "N"),
	.help = "follow at most N redirects (default 20)", .max = 1000},
    {.kind = OPTS_SECTION, .help = "\nReconnection:"},
    {OPTS_ROW("no-reconnect", 0, OPTS_FLAG, LO(no_reconnect), NULL),
	.help = "exit when the stream ends"},
    {OPTS_ROW("reconnect", 0, OPTS_FLAG, LO(force_reconnect), NULL),
	.help = "reconnect after a request with a body too\n"
	"(not by default: a POST is not sent twice)"},
    {OPTS_ROW("retry-connect", 0, OPTS_SECONDS, LO(retry_connect_ms),
	"SECS"),
	.help = "keep trying for SECS when the first\nconnection cannot be "
	"made (default: exit 3)"},
    {OPTS_ROW("max-reconnects", 0, OPTS_INT, LO(max_reconnects), "N"),
	.help = "reconnect at most N times, then exit 8", .max = 1e18},
    {OPTS_ROW("retry-delay", 0, OPTS_SECONDS, LO(retry_delay_ms), "SECS"),
	.help = "reconnection time until the server sends\nretry: (default 3)"},
    {OPTS_ROW("retry-max-delay", 0, OPTS_SECONDS, LO(retry_max_ms), "SECS"),
	.help = "cap of the backoff after failures\n(default 30)"},
    {OPTS_ROW("retry-on-http-error", 0, OPTS_FLAG, LO(retry_http), NULL),
	.help = "reconnect after a 5xx or 429 status"},
    {OPTS_ROW("last-event-id", 0, OPTS_CALL, 0, "ID"),
	.help = "send Last-Event-ID: ID on the first request",
	.call = opt_last_event_id},
    {.kind = OPTS_SECTION, .help = "\nLimits and messages:"},
    {OPTS_ROW("idle-timeout", 0, OPTS_SECONDS, LO(idle_timeout_ms), "SECS"),
	.help = "exit 6 after SECS with nothing received (0: none)",
	.call = output_zero_is_none},
    {OPTS_ROW("max-event-size", 0, OPTS_SIZE, LO(max_event), "SIZE"),
	.help = "exit 7 on a larger event (default 1M)", .min = 1,
	.call = opt_max_event},
    {OPTS_ROW("verbose", 'v', OPTS_COUNT, LO(verbose), NULL),
	.help = "report connections, headers, comments and\nretries on stderr "
	"(twice: libcurl's trace too)"},
    {OPTS_ROW("quiet", 'q', OPTS_FLAG, LO(quiet), NULL),
	.help = "print errors only"},
    {OPTS_ROW("silent", 's', OPTS_FLAG, LO(quiet), NULL),
	.help = "the same as --quiet, as curl names it"},
    {OPTS_ROW("help", 'h', OPTS_HELP, 0, NULL),
	.help = "show this help and exit"},
};
/* clang-format on */

/*
 * The bearer token kept out of the command line (and so out of ps): from
 * --oauth2-bearer @FILE (its first line), or SSE_BEARER when the option is
 * not given. -1 after a message.
 */
static int
bearer_resolve(struct listen_opts *o)
{
	const char *v;
	char buf[16384];
	FILE *fp;
	size_t n;

	if (o->bearer == NULL) {
		if ((v = getenv("SSE_BEARER")) == NULL || *v == '\0')
			return 0;
		if (strpbrk(v, "\r\n") != NULL) {
			msg_errx(
			    "SSE_BEARER: contains a line break (CR or LF)");
			return -1;
		}
		o->bearer = v;
		return 0;
	}
	if (o->bearer[0] == '@') {
		if ((fp = fopen(o->bearer + 1, "r")) == NULL) {
			msg_err(
			    "--oauth2-bearer: cannot read '%s'", o->bearer + 1);
			return -1;
		}
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		if (memchr(buf, '\n', n) != NULL)
			n = (size_t)((char *)memchr(buf, '\n', n) - buf);
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		buf[n] = '\0';
		if (n == 0 || strlen(buf) != n) {
			msg_errx("--oauth2-bearer: '%s' does not hold a token "
				 "on its first line",
			    o->bearer + 1);
			return -1;
		}
		if ((o->bearer_text = strdup(buf)) == NULL) {
			msg_errx("out of memory");
			return -1;
		}
		o->bearer = o->bearer_text;
	}
	return 0;
}

size_t
listen_opts_help(char *out, size_t outsz)
{
	return output_opts_help(NULL, 0, listen_rows,
	    sizeof(listen_rows) / sizeof(listen_rows[0]), out, outsz);
}

int
listen_opts_parse(struct listen_opts *o, int argc, char **argv)
{
	struct opts_table tabs[] = {
	    OPTS_TABLE(listen_rows, o),
	    {output_rows, output_nrows, &o->out},
	};
	struct opts_parse p;
	int rc;

	rc = opts_parse(&p, tabs, 2, argc, argv);
	if (rc != 0) {
		if (rc == -1 && p.err[0] != '\0')
			msg_errx("%s", p.err);
		opts_parse_release(&p);
		return rc == 1 ? 1 : p.usage ? -2 : -1;
	}
	rc = 0;
	if (p.noperands != 1) {
		msg_errx(p.noperands == 0 ? "no URL given"
					  : "more than one URL given");
		rc = -2;
	} else if (o->record_chunks && o->record == NULL) {
		msg_errx("--record-chunks needs --record");
		rc = -2;
	} else if (o->exec_stop && o->exec == NULL) {
		msg_errx("--exec-stop needs --exec");
		rc = -2;
	} else if (o->no_reconnect && o->force_reconnect) {
		msg_errx("--reconnect and --no-reconnect do not go together");
		rc = -2;
	} else if (bearer_resolve(o) == -1)
		rc = -1;
	else
		o->url = p.operands[0];
	/* EventSource never sends a body: a request with one is sent once. */
	o->reconnect = !o->no_reconnect && (!o->has_body || o->force_reconnect);
	opts_parse_release(&p);
	return rc;
}

/*
 * Mask the values of token= and access_token= in a query, in place (q must
 * have room for 3 more bytes per parameter).
 */
void
listen_mask_query(char *q)
{
	static const char *const keys[] = {"token=", "access_token="};
	char *p, *amp;
	size_t i, k;

	for (p = q; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		for (i = 0; i < 2; i++) {
			k = strlen(keys[i]);
			if (strncasecmp(p, keys[i], k) == 0 &&
			    (amp ? (size_t)(amp - p) : strlen(p)) > k) {
				memmove(p + k + 3, amp ? amp : p + strlen(p),
				    strlen(amp ? amp : p + strlen(p)) + 1);
				memcpy(p + k, "***", 3);
				amp = strchr(p + k, '&');
			}
		}
	}
}

char *
listen_shown_url(const char *url)
{
	CURLU *u = curl_url();
	char *pw = NULL, *q = NULL, *out = NULL, *r = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
	    CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
			curl_url_set(u, CURLUPART_PASSWORD, "***", 0);
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK &&
		    (q = realloc(q, strlen(q) * 2 + 8)) != NULL) {
			listen_mask_query(q);
			curl_url_set(u, CURLUPART_QUERY, q, 0);
		}
		(void)curl_url_get(u, CURLUPART_URL, &out, 0);
	}
	r = strdup(out != NULL ? out : url);
	curl_free(pw);
	free(q);
	curl_free(out);
	curl_url_cleanup(u);
	return r;
}

/*
 * Check the URL with libcurl's parser: only http and https; a URL given
 * without a scheme gets http:// as curl(1) does. Returns the URL to use
 * (allocated by libcurl) or NULL after a message.
 */
char *
listen_check_url(const char *arg)
{
	CURLU *u = curl_url();
	CURLUcode uc;
	char *scheme = NULL, *out = NULL, *full = NULL;

	if (u == NULL)
		return NULL;
	/* libcurl's own default scheme would be https */
	if (strstr(arg, "://") == NULL && asprintf(&full, "http://%s", arg) < 0)
		full = NULL;
	uc = curl_url_set(
	    u, CURLUPART_URL, full ? full : arg, CURLU_NON_SUPPORT_SCHEME);
	free(full);
	if (uc != CURLUE_OK)
		msg_errx("invalid URL '%s': %s", arg, curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 &&
		strcasecmp(scheme, "https") != 0))
		msg_errx("invalid URL '%s': not http or https", arg);
	else if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		msg_errx("invalid URL '%s'", arg);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}
