/*
 * sse listen: the request. Options become curl_easy_setopt() calls once;
 * the header list is rebuilt for each attempt, since Last-Event-ID changes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "listen.h"
#include "msg.h"

/* The largest request body read from a file or stdin. */
#define BODY_MAX (1024u * 1024 * 1024)

/* Whether header line h ("Name: value" or curl's "Name;") names name. */
static bool
names(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ';');
}

static bool
user_has(const struct listen_opts *o, const char *name)
{
	const struct curl_slist *h;

	for (h = o->headers; h != NULL; h = h->next)
		if (names(h->data, name))
			return true;
	return false;
}

static int
add(struct curl_slist **list, const char *h)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*list, h)) == NULL)
		return -1;
	*list = n;
	return 0;
}

int
listen_request_headers(struct listen *l)
{
	const struct listen_opts *o = l->o;
	const struct curl_slist *h;
	struct curl_slist *list = NULL;
	struct sse_buf line;
	const char *id;
	size_t idlen;
	int rc = -1;

	sse_buf_init(&line, 0);
	/* The request of the standard's "EventSource(url)" constructor. */
	if (!user_has(o, "Accept") && add(&list, "Accept: text/event-stream"))
		goto out;
	if (!user_has(o, "Cache-Control") &&
	    add(&list, "Cache-Control: no-cache"))
		goto out;
	if (o->json && !user_has(o, "Content-Type") &&
	    add(&list, "Content-Type: application/json"))
		goto out;
	/* No "Expect: 100-continue" round trip for large bodies. */
	if (!user_has(o, "Expect") && add(&list, "Expect:"))
		goto out;
	/* Decoding is always on, asking only with --compressed. */
	if (!o->compressed && !user_has(o, "Accept-Encoding") &&
	    add(&list, "Accept-Encoding:"))
		goto out;
	for (h = o->headers; h != NULL; h = h->next)
		if (add(&list, h->data))
			goto out;
	/*
	 * "If the EventSource object's last event ID string is not the empty
	 * string, set (`Last-Event-ID`, last event ID string, encoded as UTF-8)
	 * in request's header list."
	 */
	id = sse_parser_last_id(&l->parser, &idlen);
	if (idlen > 0) {
		if (sse_buf_addstr(&line, "Last-Event-ID: ") == -1 ||
		    sse_buf_add(&line, id, idlen) == -1 ||
		    sse_buf_addch(&line, '\0') == -1 || add(&list, line.p))
			goto out;
		/* -vv shows it with the rest of the request */
		if (o->verbose == 1)
			listen_show(l, "> Last-Event-ID: ", id, idlen);
	}
	if (curl_easy_setopt(l->easy, CURLOPT_HTTPHEADER, list) != CURLE_OK)
		goto out;
	curl_slist_free_all(l->req_headers);
	l->req_headers = list;
	list = NULL;
	rc = 0;
out:
	curl_slist_free_all(list);
	sse_buf_release(&line);
	if (rc == -1)
		msg_errx("out of memory");
	return rc;
}

/*
 * libcurl does not tell a transfer's socket until the transfer is over
 * (CURLINFO_ACTIVESOCKET), so the sockets it opens and closes are tracked
 * here, for the idle clock to see bytes waiting while stdout is blocked.
 */
static int
on_sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	struct listen *l = ctx;

	if (purpose == CURLSOCKTYPE_IPCXN && l->nsocks < LISTEN_MAX_SOCKS)
		l->socks[l->nsocks++] = fd;
	return CURL_SOCKOPT_OK;
}

static int
on_closesocket(void *ctx, curl_socket_t fd)
{
	struct listen *l = ctx;
	unsigned i;

	for (i = 0; i < l->nsocks; i++)
		if (l->socks[i] == fd) {
			l->socks[i] = l->socks[--l->nsocks];
			break;
		}
	return close(fd);
}

/*
 * -vv: libcurl's trace, each line made safe for a terminal. The response
 * headers are left to the header callback, which shows them with -v.
 */
/*
 * A request header whose value is a secret: never shown, even with -vv.
 * Besides Authorization and Cookie, the API keys of -H (X-Api-Key,
 * X-Auth-Token, ...) by a word in their name.
 */
static bool
secret(const char *p, size_t n)
{
	static const char *const words[] = {
	    "auth", "cookie", "key", "token", "secret", "session", "pass"};
	const char *colon = memchr(p, ':', n);
	char name[128];
	size_t i, k;

	/* Not the request line: a header's name has no space. */
	if (colon == NULL || (k = (size_t)(colon - p)) >= sizeof(name) ||
	    memchr(p, ' ', k) != NULL)
		return false;
	for (i = 0; i < k; i++)
		name[i] = (char)tolower((unsigned char)p[i]);
	name[k] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(name, words[i]) != NULL)
			return true;
	return false;
}

static void
show_redacted(struct listen *l, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n), *sp;
	size_t k = (size_t)(colon - p) + 1;
	char line[256];

	/* Keep the scheme ("Bearer", "Basic"): it says which was sent. */
	sp = NULL;
	if (strncasecmp(p, "cookie:", 7) != 0 && colon + 2 < p + n)
		sp = memchr(colon + 2, ' ', n - k - 1);
	snprintf(line, sizeof(line), "%.*s%.*s <redacted>", (int)k, p,
	    sp != NULL && sp > colon + 1 ? (int)(sp - colon - 1) : 0,
	    colon + 1);
	listen_show(l, "> ", line, strlen(line));
}

/* "GET /path?token=... HTTP/1.1", the token masked as in the URL. */
static void
show_request_line(struct listen *l, const char *p, size_t n)
{
	char line[2048], tail[64];
	char *q, *sp;

	if (n >= sizeof(line) / 2 || memchr(p, '?', n) == NULL) {
		listen_show(l, "> ", p, n);
		return;
	}
	memcpy(line, p, n);
	line[n] = '\0';
	tail[0] = '\0';
	if ((sp = strrchr(line, ' ')) != NULL && strlen(sp) < sizeof(tail)) {
		snprintf(tail, sizeof(tail), "%s", sp);
		*sp = '\0';
	}
	if ((q = strchr(line, '?')) != NULL)
		listen_mask_query(q + 1);
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s", tail);
	listen_show(l, "> ", line, strlen(line));
}

static int
on_debug(CURL *h, curl_infotype type, char *data, size_t n, void *ctx)
{
	struct listen *l = ctx;
	const char *p, *eol, *end = data + n;

	(void)h;
	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_OUT)
		return 0;
	for (p = data; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && type == CURLINFO_HEADER_OUT && secret(p, n))
			show_redacted(l, p, n);
		else if (n > 0 && type == CURLINFO_HEADER_OUT && p == data)
			show_request_line(l, p, n);
		else if (n > 0)
			listen_show(
			    l, type == CURLINFO_TEXT ? "* " : "> ", p, n);
	}
	return 0;
}

#define SET(opt, val)                                                          \
	do {                                                                   \
		if ((cc = curl_easy_setopt(e, opt, val)) != CURLE_OK)          \
			goto fail;                                             \
	} while (0)

int
listen_request_setup(struct listen *l)
{
	const struct listen_opts *o = l->o;
	CURL *e = l->easy;
	CURLcode cc;

	SET(CURLOPT_URL, o->fetch_url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, o->max_redirs);
	/* A proxy's CONNECT response is not the server's answer. */
	SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_USERAGENT,
	    o->user_agent ? o->user_agent : "sse/" SSE_VERSION);
	/* Fewer, larger reads and callbacks (libcurl caps this at 512 KiB). */
	SET(CURLOPT_BUFFERSIZE, 512L * 1024);
	/*
	 * A response with a Content-Encoding libcurl knows is decoded, asked
	 * for or not, as browsers do: libcurl decodes only with this option
	 * set, and it also sends Accept-Encoding, which the header list drops
	 * without --compressed (listen_request_headers).
	 */
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_HEADERFUNCTION, listen_header_cb);
	SET(CURLOPT_HEADERDATA, l);
	SET(CURLOPT_WRITEFUNCTION, listen_write_cb);
	SET(CURLOPT_WRITEDATA, l);
	SET(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	SET(CURLOPT_SOCKOPTDATA, l);
	SET(CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
	SET(CURLOPT_CLOSESOCKETDATA, l);
	if (o->has_body) {
		/* Not copied: the body lives as long as the session. */
		SET(CURLOPT_POSTFIELDS, o->body.p ? o->body.p : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body.len);
	}
	if (o->method != NULL)
		SET(CURLOPT_CUSTOMREQUEST, o->method);
	if (o->user != NULL)
		SET(CURLOPT_USERPWD, o->user);
	if (o->bearer != NULL) {
		SET(CURLOPT_XOAUTH2_BEARER, o->bearer);
		SET(CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
	}
	if (o->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->cacert != NULL)
		SET(CURLOPT_CAINFO, o->cacert);
	if (o->proxy != NULL)
		SET(CURLOPT_PROXY, o->proxy);
	if (o->connect_timeout_ms > 0)
		SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	if (o->verbose >= 2) {
		SET(CURLOPT_DEBUGFUNCTION, on_debug);
		SET(CURLOPT_DEBUGDATA, l);
		SET(CURLOPT_VERBOSE, 1L);
	}
	return 0;
fail:
	msg_errx("cannot set up the request: %s", curl_easy_strerror(cc));
	return -1;
}

static int
read_file(const char *opt, const char *path, struct sse_buf *b, bool strip)
{
	FILE *fp = stdin;
	char chunk[8192];
	size_t n, i;
	int rc = 0;

	if (strcmp(path, "-") != 0 && (fp = fopen(path, "rb")) == NULL) {
		msg_err("%s: cannot read '%s'", opt, path);
		return -1;
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		for (i = 0; i < n && rc == 0; i++)
			/* curl's -d @file drops CR and LF */
			if (!strip || (chunk[i] != '\r' && chunk[i] != '\n'))
				rc = sse_buf_addch(b, chunk[i]);
	if (rc == -1)
		msg_errx("%s: '%s' is too large", opt, path);
	else if (ferror(fp)) {
		msg_err("%s: cannot read '%s'", opt, path);
		rc = -1;
	}
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/*
 * -d, --data-binary and --json, as curl does them: several -d join with
 * '&', several --json are concatenated; "@file" reads a file ("@-" stdin).
 */
int
listen_load_body(
    struct listen_opts *o, const char *opt, const char *arg, int mode)
{
	struct sse_buf *b = &o->body;

	if (b->max == 0)
		sse_buf_init(b, BODY_MAX);
	if (mode != BODY_JSON && b->len > 0 && sse_buf_addch(b, '&') == -1)
		return -1;
	if (mode == BODY_JSON)
		o->json = true;
	o->has_body = true;
	if (arg[0] == '@')
		return read_file(opt, arg + 1, b, mode == BODY_DATA);
	if (sse_buf_addstr(b, arg) == -1) {
		msg_errx("%s: body too large", opt);
		return -1;
	}
	return 0;
}
