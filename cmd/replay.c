/*
 * sse replay: play a recording (or a plain text/event-stream file) back, to
 * stdout through listen's output pipeline, or as an SSE server.
 *
 * Timing: every entry's play time is computed once, up front, from the
 * recorded offsets and the pacing options (--max-gap, --rate, --speed,
 * --no-delay), in microseconds from the start of the first loop. Each event
 * is then due at start + its play time, on the monotonic clock, and the
 * program sleeps until that absolute time: no sleep's error carries over
 * to the next event, so there is no drift however long the recording.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "httpd.h"
#include "output.h"
#include "recording.h"
#include "replay.h"
#include "util.h"

static int cmd_replay_exec(int, char **);

/* clang-format off */
const struct cmd_entry cmd_replay_entry = {
    "replay",
    "play a recorded stream back",
    "usage: sse replay [options] FILE\n"
    "       sse replay --serve [options] FILE\n\n"
    "Plays FILE (a recording made by 'sse listen --record', or a plain\n"
    "text/event-stream file; - for stdin) with its recorded timing.\n\n"
    "Pacing:\n"
    "      --speed X           play X times as fast (default 1)\n"
    "      --no-delay          play as fast as possible\n"
    "      --max-gap SECS      shorten every pause to at most SECS\n"
    "      --rate N            N events per second, ignoring recorded timing\n"
    "      --loop[=N]          play N times in all (forever without N)\n"
    "      --from-id ID        start just after the event with this id\n"
    "      --exact             play the bytes as received, not the events\n"
    "      --stall SECS        go silent for SECS after --stall-after events\n"
    "      --stall-after N     events before the stall (default 1)\n\n"
    OUTPUT_HELP
    "\nServer:\n"
    "      --serve             serve FILE at /events instead of printing it\n"
    HTTPD_HELP
    "\nFaults (--serve):\n"
    "      --disconnect-after N  end each connection after N events\n"
    "      --fail-first K      answer the first K requests with --status\n"
    "      --status CODE       their status (default 503)\n"
    "      --retry MS          send 'retry: MS' first on every connection\n\n"
    "Other:\n"
    "  -h, --help              show this help and exit\n",
    cmd_replay_exec,
};
/* clang-format on */

enum {
	OPT_SPEED = 0x5200,
	OPT_NO_DELAY,
	OPT_MAX_GAP,
	OPT_RATE,
	OPT_LOOP,
	OPT_FROM_ID,
	OPT_EXACT,
	OPT_STALL,
	OPT_STALL_AFTER,
	OPT_SERVE,
	OPT_DISCONNECT_AFTER,
	OPT_FAIL_FIRST,
	OPT_STATUS,
	OPT_RETRY,
};

static const struct option longopts[] = {
    {"speed", required_argument, NULL, OPT_SPEED},
    {"no-delay", no_argument, NULL, OPT_NO_DELAY},
    {"max-gap", required_argument, NULL, OPT_MAX_GAP},
    {"rate", required_argument, NULL, OPT_RATE},
    {"loop", optional_argument, NULL, OPT_LOOP},
    {"from-id", required_argument, NULL, OPT_FROM_ID},
    {"exact", no_argument, NULL, OPT_EXACT},
    {"stall", required_argument, NULL, OPT_STALL},
    {"stall-after", required_argument, NULL, OPT_STALL_AFTER},
    {"serve", no_argument, NULL, OPT_SERVE},
    {"disconnect-after", required_argument, NULL, OPT_DISCONNECT_AFTER},
    {"fail-first", required_argument, NULL, OPT_FAIL_FIRST},
    {"status", required_argument, NULL, OPT_STATUS},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"help", no_argument, NULL, 'h'},
    OUTPUT_LONGOPTS,
    HTTPD_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

int64_t
replay_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
replay_pace(struct replay_plan *plan, const struct recording *rec,
    const struct replay_opts *o)
{
	int64_t prev = 0, adj = 0, gap;
	size_t i, k = 0;

	plan->at = calloc(rec->nev ? rec->nev : 1, sizeof(*plan->at));
	if (plan->at == NULL)
		return -1;
	plan->period = 0;
	if (o->no_delay)
		return 0;
	for (i = 0; i < rec->nev; i++) {
		if (o->rate > 0) {
			/* Evenly spaced events; a lone retry goes with the
			 * next event. */
			plan->at[i] = (int64_t)((double)k * 1e6 / o->rate);
			if (rec->ev[i].kind ==
			    (o->exact ? REC_CHUNK : REC_EVENT))
				k++;
			continue;
		}
		gap = rec->ev[i].t - prev;
		if (o->max_gap_ms >= 0 && gap > o->max_gap_ms)
			gap = o->max_gap_ms;
		adj += gap;
		prev = rec->ev[i].t;
		plan->at[i] = (int64_t)((double)adj * 1000.0 / o->speed);
	}
	if (o->rate > 0)
		plan->period = (int64_t)((double)k * 1e6 / o->rate);
	else {
		gap = rec->end_t - prev;
		if (o->max_gap_ms >= 0 && gap > o->max_gap_ms)
			gap = o->max_gap_ms;
		plan->period =
		    (int64_t)((double)(adj + gap) * 1000.0 / o->speed);
	}
	return 0;
}

/*
 * Sleep until the monotonic time due (microseconds). -1 when a signal
 * came (got_signal is set), 0 otherwise.
 */
static int
sleep_until(int64_t due)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due / 1000000);
	ts.tv_nsec = (long)(due % 1000000) * 1000;
	while (!got_signal)
		if (clock_nanosleep(
			CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != EINTR)
			return 0;
	return -1;
}

struct player {
	const struct recording *rec;
	const struct replay_opts *o;
	struct replay_plan plan;
	struct output out;
	int64_t start; /* monotonic us: play time 0 */
	int64_t deadline; /* monotonic us of --timeout, or INT64_MAX */
	uint64_t nsent; /* events played, for --stall-after */
};

enum { PLAY_ON, PLAY_STOP, PLAY_SIGNAL, PLAY_TIMEOUT };

/* Wait for an entry due at due: flush first, since the next write is late. */
static int
wait_for(struct player *p, int64_t due, enum output_result *r)
{
	int64_t now = replay_now_us();

	/* Checked here too, since an endless --no-delay loop never sleeps. */
	if (got_signal)
		return PLAY_SIGNAL;
	if (now >= p->deadline)
		return PLAY_TIMEOUT;
	if (due <= now)
		return PLAY_ON;
	if ((*r = output_flush(&p->out)) != OUTPUT_CONTINUE)
		return PLAY_STOP;
	if (due > p->deadline) {
		if (sleep_until(p->deadline) == -1)
			return PLAY_SIGNAL;
		return PLAY_TIMEOUT;
	}
	return sleep_until(due) == -1 ? PLAY_SIGNAL : PLAY_ON;
}

/* An event was played: the stall comes after --stall-after of them. */
static int
stall(struct player *p, enum output_result *r)
{
	int64_t ms = p->o->stall_ms;

	if (ms <= 0 || ++p->nsent != p->o->stall_after)
		return PLAY_ON;
	/* Everything later moves by the stall. */
	p->start += ms * 1000;
	return wait_for(p, replay_now_us() + ms * 1000, r);
}

static int
play_stdout(struct player *p, long first, enum output_result *r)
{
	const struct recording *rec = p->rec;
	const struct replay_opts *o = p->o;
	struct sse_event ev;
	enum rec_kind kind;
	int64_t base, due;
	long long loop;
	size_t i;
	int st;

	/* Play time is counted from the event we start after. */
	base = first > 0 ? p->plan.at[first - 1] : 0;
	for (loop = 0; o->loops == 0 || loop < o->loops; loop++) {
		for (i = loop == 0 ? (size_t)first : 0; i < rec->nev; i++) {
			kind = rec->ev[i].kind;
			/* --exact plays the chunks; events still count for
			 * --stall-after. */
			if (kind == REC_RETRY ||
			    kind == (o->exact ? REC_EVENT : REC_CHUNK)) {
				if (kind == REC_EVENT &&
				    (st = stall(p, r)) != PLAY_ON)
					return st;
				continue;
			}
			due = p->start + loop * p->plan.period + p->plan.at[i] -
			    base;
			if ((st = wait_for(p, due, r)) != PLAY_ON)
				return st;
			recording_event(rec, i, &ev);
			if (kind == REC_CHUNK) {
				if (sse_buf_add(&p->out.buf, ev.data,
					ev.data_len) == -1 ||
				    (*r = output_flush(&p->out)) !=
					OUTPUT_CONTINUE)
					return PLAY_STOP;
				continue;
			}
			*r = output_event(&p->out, &ev, now_wall_ms());
			if (*r != OUTPUT_CONTINUE)
				return PLAY_STOP;
			if ((st = stall(p, r)) != PLAY_ON)
				return st;
		}
		if (rec->nevents == 0)
			break; /* nothing to loop over */
	}
	return PLAY_ON;
}

/* --timeout holds while stdout's reader does not read (output_set_deadline). */
static int64_t
time_left(void *ctx)
{
	const struct player *p = ctx;
	int64_t left = p->deadline - replay_now_us();

	return left > 0 ? (left + 999) / 1000 : 0;
}

static int
replay_stdout(const struct recording *rec, const struct replay_opts *o,
    const struct output_opts *oo, long first)
{
	struct player p;
	enum output_result r = OUTPUT_CONTINUE, fr;
	struct sigaction sa;
	int st, rc;

	memset(&p, 0, sizeof(p));
	p.rec = rec;
	p.o = o;
	if (output_init(&p.out, oo, STDOUT_FILENO, "replay") == -1)
		return EXIT_USAGE;
	if (replay_pace(&p.plan, rec, o) == -1) {
		output_release(&p.out);
		fprintf(stderr, "sse: replay: out of memory\n");
		return EXIT_ERROR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	p.out.interrupted = &got_signal;
	p.start = replay_now_us();
	p.deadline =
	    oo->timeout_ms >= 0 ? p.start + oo->timeout_ms * 1000 : INT64_MAX;
	if (p.deadline != INT64_MAX &&
	    output_set_deadline(&p.out, time_left, &p) == -1) {
		fprintf(stderr, "sse: replay: cannot set up a timer: %s\n",
		    strerror(errno));
		free(p.plan.at);
		output_release(&p.out);
		return EXIT_ERROR;
	}

	st = play_stdout(&p, first, &r);
	fr = output_flush(&p.out);
	if (r == OUTPUT_CONTINUE || r == OUTPUT_DONE)
		r = fr == OUTPUT_CONTINUE ? r : fr;
	switch (st) {
	case PLAY_SIGNAL:
		rc = got_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
		break;
	case PLAY_TIMEOUT:
		rc = EXIT_TIMEOUT;
		break;
	default:
		rc = output_status(r);
	}
	free(p.plan.at);
	output_release(&p.out);
	return rc;
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

static bool
output_used(const struct output_opts *oo)
{
	return oo->format != NULL || oo->ntypes > 0 || oo->nuntil > 0 ||
	    oo->max_events > 0 || oo->timeout_ms >= 0;
}

static int
parse(int argc, char **argv, struct replay_opts *o, struct output_opts *oo,
    struct httpd_opts *ho)
{
	long long n;
	int ch, rc;
	bool loop_bare = false, speed = false, httpd = false, keepalive = false;

	optind = 0;
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, ":h" OUTPUT_SHORTOPTS HTTPD_SHORTOPTS,
		 longopts, NULL)) != -1) {
		if ((rc = output_opt(oo, "replay", ch, optarg)) == 1)
			continue;
		if (rc == -1)
			return -1;
		if ((rc = httpd_opt(ho, ch, optarg, "replay")) == 1) {
			httpd = true;
			keepalive |= ch == HTTPD_OPT_KEEPALIVE;
			continue;
		}
		if (rc == -1)
			return -1;
		switch (ch) {
		case 'h':
			return 1;
		case OPT_SPEED:
			if (opt_double("replay: --speed", optarg, 1e-3, 1e6,
				&o->speed) == -1)
				return -1;
			speed = true;
			break;
		case OPT_NO_DELAY:
			o->no_delay = true;
			break;
		case OPT_MAX_GAP:
			if (opt_seconds("replay: --max-gap", optarg,
				&o->max_gap_ms) == -1)
				return -1;
			break;
		case OPT_RATE:
			if (opt_double("replay: --rate", optarg, 1e-3, 1e9,
				&o->rate) == -1)
				return -1;
			break;
		case OPT_LOOP:
			loop_bare = optarg == NULL;
			o->loops = 0;
			if (optarg != NULL &&
			    opt_int("replay: --loop", optarg, 1, INT32_MAX,
				&o->loops) == -1)
				return -1;
			break;
		case OPT_FROM_ID:
			o->from_id = optarg;
			break;
		case OPT_EXACT:
			o->exact = true;
			break;
		case OPT_STALL:
			if (opt_seconds(
				"replay: --stall", optarg, &o->stall_ms) == -1)
				return -1;
			break;
		case OPT_STALL_AFTER:
			if (opt_int("replay: --stall-after", optarg, 1,
				INT32_MAX, &n) == -1)
				return -1;
			o->stall_after = (uint64_t)n;
			break;
		case OPT_SERVE:
			o->serve = true;
			break;
		case OPT_DISCONNECT_AFTER:
			if (opt_int("replay: --disconnect-after", optarg, 1,
				INT32_MAX, &o->disconnect_after) == -1)
				return -1;
			break;
		case OPT_FAIL_FIRST:
			if (opt_int("replay: --fail-first", optarg, 1,
				INT32_MAX, &o->fail_first) == -1)
				return -1;
			break;
		case OPT_STATUS:
			if (opt_int("replay: --status", optarg, 400, 599, &n) ==
			    -1)
				return -1;
			o->status = (int)n;
			break;
		case OPT_RETRY:
			if (opt_int("replay: --retry", optarg, 0, INT32_MAX,
				&o->retry_ms) == -1)
				return -1;
			break;
		case ':':
			fprintf(stderr,
			    "sse: replay: option '%s' needs a value\n",
			    argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0)
				fprintf(stderr,
				    "sse: replay: unknown option '-%c'\n",
				    optopt);
			else
				fprintf(stderr,
				    "sse: replay: unknown option '%s'\n",
				    argv[optind - 1]);
			return -1;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "sse: replay: no FILE to play\n");
		return -1;
	}
	if (argc - optind > 1) {
		if (loop_bare && all_digits(argv[optind]))
			fprintf(stderr,
			    "sse: replay: a --loop count is written "
			    "--loop=%s\n",
			    argv[optind]);
		else
			fprintf(stderr,
			    "sse: replay: one FILE only, not '%s'\n",
			    argv[optind + 1]);
		return -1;
	}
	o->file = argv[optind];
	if (o->no_delay && (speed || o->rate > 0 || o->max_gap_ms >= 0)) {
		fprintf(stderr,
		    "sse: replay: --no-delay cannot be combined "
		    "with --speed, --rate or --max-gap\n");
		return -1;
	}
	if (o->status != 0 && o->fail_first == 0) {
		fprintf(stderr, "sse: replay: --status needs --fail-first\n");
		return -1;
	}
	if (!o->serve &&
	    (httpd || o->disconnect_after > 0 || o->fail_first > 0 ||
		o->retry_ms >= 0)) {
		fprintf(stderr,
		    "sse: replay: server and fault options need "
		    "--serve\n");
		return -1;
	}
	if (o->serve && output_used(oo)) {
		fprintf(stderr,
		    "sse: replay: output options (-f, -e, -n, "
		    "--until, --timeout) do not go with --serve\n");
		return -1;
	}
	if (o->exact &&
	    (o->from_id != NULL || oo->format != NULL || oo->ntypes > 0 ||
		oo->nuntil > 0 || oo->max_events > 0)) {
		fprintf(stderr,
		    "sse: replay: --exact plays bytes, not events: "
		    "no --from-id, -f, -e, -n or --until\n");
		return -1;
	}
	/* A stall must be silent: no keepalive comments unless asked for. */
	if (o->stall_ms > 0 && !keepalive)
		ho->keepalive_ms = 0;
	if (o->status == 0)
		o->status = 503;
	return 0;
}

static void
opts_init(struct replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->speed = 1;
	o->max_gap_ms = -1;
	o->loops = 1;
	o->stall_ms = -1;
	o->stall_after = 1;
	o->retry_ms = -1;
}

static int
cmd_replay_exec(int argc, char **argv)
{
	struct replay_opts o;
	struct output_opts oo;
	struct httpd_opts ho;
	struct recording rec;
	long first = 0;
	int rc;

	opts_init(&o);
	output_opts_init(&oo);
	httpd_opts_init(&ho);
	if ((rc = parse(argc, argv, &o, &oo, &ho)) != 0) {
		output_opts_release(&oo);
		httpd_opts_release(&ho);
		return rc == 1 ? cmd_help(&cmd_replay_entry)
			       : cmd_usage(&cmd_replay_entry);
	}
	if ((rc = recording_load(&rec, o.file, 0)) != 0) {
		output_opts_release(&oo);
		httpd_opts_release(&ho);
		return rc;
	}
	if (o.exact && rec.nchunks == 0) {
		fprintf(stderr,
		    "sse: replay: --exact: '%s' has no chunks (record with "
		    "sse listen --record-chunks)\n",
		    o.file);
		rc = EXIT_ERROR;
		goto out;
	}
	if (o.from_id != NULL) {
		first = recording_find_id(&rec, o.from_id, strlen(o.from_id));
		if (first < 0) {
			fprintf(stderr,
			    "sse: replay: --from-id: no event with id '%s' in "
			    "'%s'\n",
			    o.from_id, o.file);
			rc = EXIT_ERROR;
			goto out;
		}
		first++;
	}
	if (o.serve)
		rc = replay_serve(&rec, &o, &ho, first);
	else
		rc = replay_stdout(&rec, &o, &oo, first);
out:
	recording_release(&rec);
	output_opts_release(&oo);
	httpd_opts_release(&ho);
	return rc;
}
