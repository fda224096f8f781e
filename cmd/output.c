/*
 * The client output pipeline shared by listen and replay; see output.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "msg.h"
#include "output.h"

/* One event's formatted text may not pass this (a template can repeat). */
#define OUTPUT_MAX (256u * 1024 * 1024)

/* Compile a --match or --until-match REGEX (when given); -1 after a message. */
static int
compile(regex_t *re, bool *has, const char *src, const char *opt)
{
	char err[256];
	int rc;

	if (src == NULL)
		return 0;
	rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
	if ((*has = rc == 0))
		return 0;
	regerror(rc, re, err, sizeof(err));
	msg_errx("%s: invalid value '%s': %s", opt, src, err);
	return -1;
}

/*
 * Whether data matches re. REG_STARTEND bounds the match (the data may
 * hold NUL bytes); the copy ends with a NUL all the same, as sanitizers'
 * regexec(3) reads up to one.
 */
static bool
matches(struct output *out, const regex_t *re, const char *data, size_t len)
{
	struct sse_buf *b = &out->rebuf;
	regmatch_t m[1];

	if (sse_buf_set(b, data, len) == -1 || sse_buf_addch(b, '\0') == -1)
		return false;
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	return regexec(re, b->p, 1, m, REG_STARTEND) == 0;
}

int
output_init(struct output *out, const struct output_opts *o, int fd)
{
	char err[256];
	const char *spec = o->format;

	memset(out, 0, sizeof(*out));
	out->opts = o;
	out->fd = fd;
	out->state = OUTPUT_CONTINUE;
	sse_buf_init(&out->buf, OUTPUT_MAX);
	sse_buf_init(&out->rebuf, 0);
	if (spec == NULL)
		spec = isatty(fd) ? "pretty" : "raw";
	err[0] = '\0';
	if (sse_format_init(&out->fmt, spec, err, sizeof(err)) == -1) {
		msg_errx("invalid format '%s': %s", spec,
		    err[0] ? err : "unknown format");
		return -1;
	}
	out->fmt.color =
	    out->fmt.kind == SSE_FMT_PRETTY && output_color(o->color, fd);
	json_path_init(&out->jpath);
	out->fmt.path_fn = json_path_fn;
	out->fmt.path_ctx = &out->jpath;
	if (compile(&out->match, &out->has_match, o->match, "--match") == -1 ||
	    compile(&out->until_match, &out->has_until_match, o->until_match,
		"--until-match") == -1) {
		output_release(out);
		return -1;
	}
	out->filter = o->types.n > 0 || o->match != NULL;
	out->runs = sse_format_runs(&out->fmt) && !out->filter &&
	    o->until.n == 0 && o->max_events == 0 && o->until_match == NULL &&
	    o->until_data == NULL;
	out->plain = out->runs && out->fmt.kind == SSE_FMT_RAW;
	/* A closed stdout must be a write error we can see, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int
output_check_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1 && (fl & O_ACCMODE) != O_RDONLY)
		return 0;
	errno = fl == -1 ? errno : EBADF;
	msg_err("cannot write to stdout");
	return -1;
}

void
output_release(struct output *out)
{
	if (out->has_match)
		regfree(&out->match);
	if (out->has_until_match)
		regfree(&out->until_match);
	out->has_match = out->has_until_match = false;
	sse_buf_release(&out->rebuf);
	json_path_release(&out->jpath);
	sse_format_release(&out->fmt);
	sse_buf_release(&out->buf);
}

static bool
in(const char *const *v, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(v[i], s, len) == 0 && v[i][len] == '\0')
			return true;
	return false;
}

bool
output_wants(const struct output *out, const char *type, size_t len)
{
	const struct output_opts *o = out->opts;

	return o->types.n == 0 || in(o->types.v, o->types.n, type, len);
}

/* -e and --match: whether ev is printed. */
static bool
shown(struct output *out, const struct sse_event *ev)
{
	return output_wants(out, ev->type, ev->type_len) &&
	    (!out->has_match ||
		matches(out, &out->match, ev->data, ev->data_len));
}

bool
output_shows(struct output *out, const struct sse_event *ev)
{
	return !out->filter || shown(out, ev);
}

/* --until, --until-match, --until-data: whether ev ends the output. */
static bool
until_met(struct output *out, const struct sse_event *ev)
{
	const struct output_opts *o = out->opts;
	const char *d = o->until_data;

	return (o->until.n > 0 &&
		   in(o->until.v, o->until.n, ev->type, ev->type_len)) ||
	    (out->has_until_match &&
		matches(out, &out->until_match, ev->data, ev->data_len)) ||
	    (d != NULL && strlen(d) == ev->data_len &&
		memcmp(d, ev->data, ev->data_len) == 0);
}

static void
on_alarm(int sig)
{
	(void)sig; /* only there to interrupt write(2) */
}

int
output_set_deadline(struct output *out, int64_t (*fn)(void *), void *ctx)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked write(2) must see EINTR. */
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return -1;
	out->deadline = fn;
	out->deadline_ctx = ctx;
	return 0;
}

/* The milliseconds a write may still wait; 0: give up; -1: no limit. */
static int64_t
time_left(struct output *out)
{
	return out->deadline ? out->deadline(out->deadline_ctx) : -1;
}

/*
 * SIGALRM after ms (0: disarm), then every 10 ms: a signal that comes
 * before write(2) has blocked is followed by another.
 */
static void
arm(int64_t ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	if (ms > 0) {
		it.it_value.tv_sec = (time_t)(ms / 1000);
		it.it_value.tv_usec = (suseconds_t)(ms % 1000 * 1000);
		it.it_interval.tv_usec = 10000;
	}
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

/* write(2), bounded by the deadline when there is one: -2 when it passed. */
static ssize_t
write_timed(struct output *out, const char *p, size_t len)
{
	int64_t left;
	ssize_t n;
	int saved;

	if ((left = time_left(out)) < 0)
		return write(out->fd, p, len);
	if (left == 0)
		return -2;
	arm(left);
	n = write(out->fd, p, len);
	saved = errno;
	arm(0);
	errno = saved;
	return n;
}

/*
 * Wait until fd takes more bytes (stdout may have been left non-blocking);
 * false when the deadline has passed.
 */
static bool
wait_writable(struct output *out)
{
	struct pollfd pfd = {out->fd, POLLOUT, 0};
	int64_t left = time_left(out);

	if (left == 0)
		return false;
	(void)poll(&pfd, 1, left < 0 || left > INT_MAX ? -1 : (int)left);
	return true;
}

/*
 * Write p[0..len) out: CONTINUE, or CLOSED, FAILED (message printed) or
 * EXPIRED, sticky but for a signal that ends a stuck write.
 */
static enum output_result
write_out(struct output *out, const char *p, size_t left)
{
	ssize_t n;

	while (left > 0) {
		if ((n = write_timed(out, p, left)) >= 0) {
			p += n;
			left -= (size_t)n;
			/* A signal cuts a blocked pipe write short. */
			if (left > 0 && out->interrupted != NULL &&
			    *out->interrupted != 0)
				return out->state = OUTPUT_CLOSED;
			continue;
		}
		if (n == -1 && errno == EINTR &&
		    (out->interrupted == NULL || *out->interrupted == 0))
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_writable(out))
			continue;
		if (n == -2 || errno == EAGAIN || errno == EWOULDBLOCK)
			return out->state = OUTPUT_EXPIRED;
		if (errno == EINTR)
			return OUTPUT_CLOSED; /* a signal ends a stuck write */
		if (errno == EPIPE)
			return out->state = OUTPUT_CLOSED;
		if (out->opts->path != NULL)
			msg_err("--output: cannot write '%s'", out->opts->path);
		else
			msg_err("cannot write to stdout");
		return out->state = OUTPUT_FAILED;
	}
	return OUTPUT_CONTINUE;
}

/* Write out the buffer; whatever happens, it is empty afterwards. */
static enum output_result
write_buf(struct output *out)
{
	enum output_result r = OUTPUT_CONTINUE;

	if (out->state != OUTPUT_CONTINUE)
		r = out->state;
	else if (out->buf.len > 0)
		r = write_out(out, out->buf.p, out->buf.len);
	sse_buf_reset(&out->buf);
	return r;
}

enum output_result
output_commit(struct output *out)
{
	const char *span = out->span;
	size_t len = out->span_len;
	enum output_result r;

	out->span = NULL;
	out->span_len = 0;
	if (len == 0)
		return out->state;
	if (out->buf.len >= OUTPUT_BATCH &&
	    (r = write_buf(out)) != OUTPUT_CONTINUE)
		return r;
	if (out->state != OUTPUT_CONTINUE)
		return out->state;
	if (sse_buf_add(&out->buf, span, len) == -1) {
		msg_errx("out of memory");
		sse_buf_reset(&out->buf);
		return out->state = OUTPUT_FAILED;
	}
	return OUTPUT_CONTINUE;
}

enum output_result
output_flush(struct output *out)
{
	enum output_result r;

	if ((r = output_commit(out)) != OUTPUT_CONTINUE) {
		sse_buf_reset(&out->buf);
		return r;
	}
	return write_buf(out);
}

/* Hold back raw bytes, as one span with the previous ones when adjacent. */
static enum output_result
hold(struct output *out, const char *raw, size_t len)
{
	enum output_result r;

	if (out->span_len > 0 && raw == out->span + out->span_len) {
		out->span_len += len;
		return OUTPUT_CONTINUE;
	}
	if (out->span_len > 0 && (r = output_commit(out)) != OUTPUT_CONTINUE)
		return r;
	out->span = raw;
	out->span_len = len;
	return OUTPUT_CONTINUE;
}

/* Format ev into the buffer (written out first if it holds a batch). */
static enum output_result
format(struct output *out, const struct sse_event *ev, int64_t unix_ms)
{
	enum output_result r;

	if (out->buf.len >= OUTPUT_BATCH &&
	    (r = write_buf(out)) != OUTPUT_CONTINUE)
		return r;
	json_path_next(&out->jpath);
	if (sse_format_event(&out->fmt, &out->buf, ev, unix_ms) != 0) {
		msg_errx("cannot format an event of %zu bytes", ev->data_len);
		return out->state = OUTPUT_FAILED;
	}
	return OUTPUT_CONTINUE;
}

enum output_result
output_event_raw(struct output *out, const struct sse_event *ev,
    int64_t unix_ms, const char *raw, size_t len)
{
	const struct output_opts *o = out->opts;
	enum output_result r = OUTPUT_CONTINUE;

	if (out->state != OUTPUT_CONTINUE)
		return out->state;
	/* The common case first: a stream relayed as it came. */
	if (out->plain && raw != NULL)
		return hold(out, raw, len);
	/* json, data or data0 with no filter: nothing else to decide. */
	if (out->runs && !out->plain) {
		out->nwritten++;
		return format(out, ev, unix_ms);
	}
	if (!out->filter || shown(out, ev)) {
		if (raw != NULL && out->fmt.kind == SSE_FMT_RAW) {
			if ((r = hold(out, raw, len)) != OUTPUT_CONTINUE)
				return r;
		} else {
			if (out->span_len > 0 &&
			    (r = output_commit(out)) != OUTPUT_CONTINUE)
				return r;
			if ((r = format(out, ev, unix_ms)) != OUTPUT_CONTINUE)
				return r;
		}
		out->nwritten++;
		if (o->max_events > 0 &&
		    out->nwritten >= (uint64_t)o->max_events)
			r = OUTPUT_DONE;
	}
	if (until_met(out, ev))
		r = OUTPUT_DONE;
	return r;
}

enum output_result
output_comment(struct output *out, const char *text, size_t len, int64_t ms)
{
	struct sse_buf *b = &out->buf;
	int rc = 0;

	(void)ms;
	if (out->state != OUTPUT_CONTINUE || !out->opts->comments)
		return out->state;
	if (out->span_len > 0 && output_commit(out) != OUTPUT_CONTINUE)
		return out->state;
	switch (out->fmt.kind) {
	case SSE_FMT_RAW:
		rc = sse_buf_addch(b, ':') == -1 || sse_buf_add(b, text, len) ||
		    sse_buf_addch(b, '\n');
		break;
	case SSE_FMT_JSON:
		rc = sse_buf_addstr(b, "{\"comment\":") == -1 ||
		    sse_json_str(b, text, len) == -1 ||
		    sse_buf_addstr(b, "}\n") == -1;
		break;
	case SSE_FMT_PRETTY:
		rc = sse_buf_addstr(b, out->fmt.color ? "\033[2m:" : ":") ||
		    sse_format_visible(b, text, len, NULL, NULL) ||
		    sse_buf_addstr(b, out->fmt.color ? "\033[0m\n" : "\n");
		break;
	default:
		break;
	}
	if (rc != 0) {
		msg_errx("out of memory");
		return out->state = OUTPUT_FAILED;
	}
	return OUTPUT_CONTINUE;
}

enum output_result
output_block(struct output *out, const char *type, size_t len)
{
	const struct output_opts *o = out->opts;

	if (out->state != OUTPUT_CONTINUE)
		return out->state;
	if (len > 0 && o->until.n > 0 && in(o->until.v, o->until.n, type, len))
		return OUTPUT_DONE;
	return OUTPUT_CONTINUE;
}

enum output_result
output_events_raw(struct output *out, const char *raw, size_t len, size_t n,
    const struct sse_run_event *idx, const char *id, size_t id_len,
    int64_t unix_ms)
{
	enum output_result r;
	size_t taken;

	if (out->state != OUTPUT_CONTINUE)
		return out->state;
	out->nwritten += n;
	if (out->plain)
		return hold(out, raw, len);
	/* A batch at a time: the events may repeat a long last event ID. */
	while (idx != NULL && n > 0) {
		if (out->buf.len >= OUTPUT_BATCH &&
		    (r = write_buf(out)) != OUTPUT_CONTINUE)
			return r;
		if (sse_format_run_index(&out->fmt, &out->buf, raw, len, idx, n,
			&id, &id_len, unix_ms, OUTPUT_BATCH, &taken) != 0) {
			msg_errx(
			    "cannot format %zu events of %zu bytes", n, len);
			return out->state = OUTPUT_FAILED;
		}
		idx += taken;
		n -= taken;
	}
	while (idx == NULL && len > 0) {
		if (out->buf.len >= OUTPUT_BATCH &&
		    (r = write_buf(out)) != OUTPUT_CONTINUE)
			return r;
		if (sse_format_run(&out->fmt, &out->buf, raw, len, &id, &id_len,
			unix_ms, OUTPUT_BATCH, &taken) != 0) {
			msg_errx(
			    "cannot format %zu events of %zu bytes", n, len);
			return out->state = OUTPUT_FAILED;
		}
		raw += taken;
		len -= taken;
	}
	return OUTPUT_CONTINUE;
}

enum output_result
output_event(struct output *out, const struct sse_event *ev, int64_t unix_ms)
{
	return output_event_raw(out, ev, unix_ms, NULL, 0);
}

int
output_status(enum output_result r)
{
	if (r == OUTPUT_EXPIRED)
		return EXIT_TIMEOUT;
	return r == OUTPUT_FAILED ? EXIT_ERROR : EXIT_OK;
}
