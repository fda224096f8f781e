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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "httpd.h"
#include "msg.h"
#include "output.h"
#include "recording.h"
#include "replay.h"
#include "sig.h"
#include "util.h"

static int cmd_replay_exec(int, char **);

const struct cmd_entry cmd_replay_entry = {
    "replay",
    "play a recorded stream back",
    "usage: sse replay [options] FILE\n"
    "       sse replay --serve [options] FILE\n\n"
    "Plays FILE (a recording made by 'sse listen --record', or a plain\n"
    "text/event-stream file; - for stdin) with its recorded timing.\n\n",
    cmd_replay_exec,
    replay_opts_help,
};

/*
 * Sleep until the monotonic time due (microseconds). -1 when a signal
 * came (sig_caught is set), 0 otherwise.
 */
static int
sleep_until(int64_t due)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due / 1000000);
	ts.tv_nsec = (long)(due % 1000000) * 1000;
	while (!sig_caught)
		if (clock_nanosleep(
			CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != EINTR)
			return 0;
	return -1;
}

struct player {
	const struct sse_recording *rec;
	const struct replay_opts *o;
	struct sse_plan plan;
	struct output out;
	int64_t start; /* monotonic us: play time 0 */
	int64_t deadline; /* monotonic us of --timeout, or INT64_MAX */
	uint64_t nsent; /* events played, for --stall-after */
	int64_t now; /* monotonic us, as last read by wait_for() */
	unsigned unread; /* entries played since */
	int64_t wall; /* wall-clock ms for the output, or -1: read it */
};

/*
 * The wall clock for an event's output (a {time} in -f): read when the
 * monotonic one is, not once an event (it was a tenth of a --no-delay
 * run), so at most 64 entries played flat out share a reading.
 */
static int64_t
wall_ms(struct player *p)
{
	if (p->wall < 0)
		p->wall = now_wall_ms();
	return p->wall;
}

enum { PLAY_ON, PLAY_STOP, PLAY_SIGNAL, PLAY_TIMEOUT };

/* Wait for an entry due at due: flush first, since the next write is late. */
static int
wait_for(struct player *p, int64_t due, enum output_result *r)
{
	int64_t now;

	/* Checked here too, since an endless --no-delay loop never sleeps. */
	if (sig_caught)
		return PLAY_SIGNAL;
	/*
	 * Entries due before the time last read are played with no new
	 * reading, 64 at the most: a --no-delay run plays instead of asking
	 * the clock (it was a sixth of its time), and --timeout is late by
	 * 64 entries at the most.
	 */
	if (due <= p->now && p->unread++ < 64)
		return PLAY_ON;
	p->unread = 0;
	p->wall = -1;
	now = p->now = now_mono_us();
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

	if (ms <= 0 || ++p->nsent != (uint64_t)p->o->stall_after)
		return PLAY_ON;
	/* Everything later moves by the stall. */
	p->start += ms * 1000;
	return wait_for(p, now_mono_us() + ms * 1000, r);
}

static int
play_stdout(struct player *p, long first, enum output_result *r)
{
	const struct sse_recording *rec = p->rec;
	const struct replay_opts *o = p->o;
	struct sse_event ev;
	enum sse_rec_kind kind;
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
			if (kind == SSE_REC_RETRY ||
			    kind ==
				(o->pace.exact ? SSE_REC_EVENT
					       : SSE_REC_CHUNK)) {
				if (kind == SSE_REC_EVENT &&
				    (st = stall(p, r)) != PLAY_ON)
					return st;
				continue;
			}
			due = p->start + loop * p->plan.period + p->plan.at[i] -
			    base;
			if ((st = wait_for(p, due, r)) != PLAY_ON)
				return st;
			sse_recording_event(rec, i, &ev);
			if (kind == SSE_REC_CHUNK) {
				if (sse_buf_add(&p->out.buf, ev.data,
					ev.data_len) == -1 ||
				    (*r = output_flush(&p->out)) !=
					OUTPUT_CONTINUE)
					return PLAY_STOP;
				continue;
			}
			*r = output_event(&p->out, &ev, wall_ms(p));
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
	int64_t left = p->deadline - now_mono_us();

	return left > 0 ? (left + 999) / 1000 : 0;
}

static int
replay_stdout(const struct sse_recording *rec, const struct replay_opts *o,
    const struct output_opts *oo, long first)
{
	struct player p;
	enum output_result r = OUTPUT_CONTINUE, fr;
	int st, rc;

	memset(&p, 0, sizeof(p));
	p.rec = rec;
	p.o = o;
	if (output_init(&p.out, oo, STDOUT_FILENO) == -1)
		return EXIT_USAGE;
	if (sse_plan_make(&p.plan, rec, &o->pace) == -1) {
		output_release(&p.out);
		msg_errx("out of memory");
		return EXIT_ERROR;
	}
	if (sig_catch() == -1) {
		msg_err("cannot set up signals");
		sse_plan_release(&p.plan);
		output_release(&p.out);
		return EXIT_ERROR;
	}
	p.out.interrupted = &sig_caught;
	p.start = now_mono_us();
	p.wall = -1;
	p.deadline =
	    oo->timeout_ms >= 0 ? p.start + oo->timeout_ms * 1000 : INT64_MAX;
	if (p.deadline != INT64_MAX &&
	    output_set_deadline(&p.out, time_left, &p) == -1) {
		msg_err("cannot set up a timer");
		sse_plan_release(&p.plan);
		output_release(&p.out);
		return EXIT_ERROR;
	}

	st = play_stdout(&p, first, &r);
	fr = output_flush(&p.out);
	if (r == OUTPUT_CONTINUE || r == OUTPUT_DONE)
		r = fr == OUTPUT_CONTINUE ? r : fr;
	switch (st) {
	case PLAY_SIGNAL:
		rc = sig_caught == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
		break;
	case PLAY_TIMEOUT:
		rc = EXIT_TIMEOUT;
		break;
	default:
		rc = output_status(r);
	}
	sse_plan_release(&p.plan);
	output_release(&p.out);
	sig_release();
	return rc;
}

static int
cmd_replay_exec(int argc, char **argv)
{
	struct replay_cli c;
	struct sse_recording rec;
	long first = 0;
	int rc;

	replay_cli_init(&c);
	if ((rc = replay_cli_parse(&c, argc, argv)) != 0) {
		replay_cli_release(&c);
		return rc == 1 ? cmd_help(&cmd_replay_entry)
			       : cmd_usage(&cmd_replay_entry);
	}
	if ((rc = recording_load(&rec, c.o.file, c.o.max_event)) != 0) {
		replay_cli_release(&c);
		return rc;
	}
	if (c.o.pace.exact && rec.nchunks == 0) {
		msg_errx("--exact: '%s' has no chunks (record with sse listen "
			 "--record-chunks)",
		    c.o.file);
		rc = EXIT_ERROR;
	} else if (c.o.from_id != NULL &&
	    (first = sse_recording_find_id(
		 &rec, c.o.from_id, strlen(c.o.from_id))) < 0) {
		msg_errx("--from-id: no event with id '%s' in '%s'",
		    c.o.from_id, c.o.file);
		rc = EXIT_ERROR;
	} else if (c.o.serve)
		rc = replay_serve(
		    &rec, &c.o, &c.ho, c.o.from_id != NULL ? first + 1 : 0);
	else
		rc = replay_stdout(
		    &rec, &c.o, &c.oo, c.o.from_id != NULL ? first + 1 : 0);
	sse_recording_release(&rec);
	replay_cli_release(&c);
	return rc;
}
