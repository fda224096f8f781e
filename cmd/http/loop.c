/*
 * The event loop: one thread waits on epoll (the listening socket, the
 * connections still sending their head, the two daemons, a wake eventfd
 * and a signalfd: the only way signals reach us) and drives everything.
 *
 * Wakes are coalesced only while it pays. A wake that comes when the
 * streams were last resumed longer ago than the hold window (an isolated
 * event, a low rate) resumes them at once. One that comes sooner is held:
 * the next wake (the next event: the source wakes again while no stream
 * took the last one) resumes them at once, so that both events leave in
 * one send per client, the second with no delay, the first one gap late;
 * if none comes, the window's end does. The window is HOLD_K times what a
 * flush of the streams costs (the loop's time to write them, measured):
 * a few microseconds for one client, so that delay stays negligible where
 * holding saves little, and milliseconds for thousands, where it halves
 * the sends. httpd_wake_now() (a producer that waits for its clients) is
 * never held.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "util.h"

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
httpd_wake_all(struct httpd *h)
{
	uint64_t one = 1;

	if (!atomic_exchange(&h->wake, true))
		(void)!write(h->wakefd, &one, sizeof(one));
}

void
httpd_wake_now(struct httpd *h)
{
	atomic_store(&h->wake_now, true);
	httpd_wake_all(h);
}

void
httpd_drain(struct httpd *h)
{
	atomic_store(&h->drain, true);
	httpd_wake_all(h);
}

static void
begin_stop(struct httpd *h, int signo)
{
	if (h->stopping)
		return;
	h->stopping = true;
	h->signo = signo;
	if (h->stop_by == 0) /* a drain's grace is not extended */
		h->stop_by = now_mono_ms() + GRACE_MS;
	door_close_all(h);
	stream_resume_all(h);
}

/* The earlier of timeout t (us, -1 none) and a time (ms) from now. */
static int64_t
sooner(int64_t t, int64_t at, int64_t now)
{
	int64_t d = at - now;

	d = d < 0 ? 0 : d * 1000;
	return t < 0 || d < t ? d : t;
}

/* How long the loop may sleep, in microseconds; -1 for no limit. */
static int64_t
loop_timeout_us(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG mto;
	int64_t t = -1, d, now = now_mono_ms();
	int i;

	if (h->accept_ready)
		return 0;
	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL &&
		    MHD_get_timeout(h->door[i].d, &mto) == MHD_YES) {
			d = mto > INT32_MAX ? INT32_MAX : (int64_t)mto * 1000;
			if (t < 0 || d < t)
				t = d;
		}
	if (h->nheap > 0 && h->heap[0]->deadline != INT64_MAX)
		t = sooner(t, h->heap[0]->deadline, now);
	if (h->stop_by != 0)
		t = sooner(t, h->stop_by, now);
	if (!TAILQ_EMPTY(&h->pending))
		t = sooner(t, TAILQ_FIRST(&h->pending)->deadline, now);
	if (h->accept_at != 0)
		t = sooner(t, h->accept_at, now);
	/* Streams that are not suspended may be lost (stream_check_lost). */
	if (h->src.lost != NULL && (size_t)h->nstreams > h->nheap)
		t = sooner(t, h->lost_at, now);
	if (h->wake_due) { /* the rest of the hold window */
		d = h->held_until - now_us();
		d = d < 0 ? 0 : d;
		if (t < 0 || d < t)
			t = d;
	}
	return t;
}

/* epoll_wait() to the microsecond where the kernel can (Linux 5.11). */
static int
loop_wait(struct httpd *h, struct epoll_event *evs, int nevs, int64_t us)
{
	struct timespec ts;
	int n;

	if (us >= 0 && h->pwait2) {
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (long)(us % 1000000) * 1000;
		n = epoll_pwait2(h->ep, evs, nevs, &ts, NULL);
		if (n != -1 || errno != ENOSYS)
			return n;
		h->pwait2 = false;
	}
	return epoll_wait(
	    h->ep, evs, nevs, us < 0 ? -1 : (int)((us + 999) / 1000));
}

void
loop_run_doors(struct httpd *h)
{
	int i;

	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL)
			MHD_run(h->door[i].d);
}

/* W_CONN or W_PENDING for what an event names, 0 for our own fds. */
static int
watched(struct httpd *h, void *p)
{
	if (p == &h->wakefd || p == &h->sigfd || p == &h->lfd ||
	    p == &h->door[0].fd || p == &h->door[1].fd)
		return 0;
	return *(int *)p;
}

/*
 * The events of one wait; returns the signal that came, or 0. Nothing is
 * freed in the first pass: every stream and pending connection an event
 * names is live (streams are freed only in MHD_run(), pending connections
 * only when handed on). Then the heads: handing a connection to
 * libmicrohttpd may free streams that the first pass still had to see.
 */
static int
loop_events(struct httpd *h, struct epoll_event *evs, int n)
{
	struct signalfd_siginfo si;
	uint64_t junk;
	int i, signo = 0;

	for (i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == &h->wakefd)
			(void)!read(h->wakefd, &junk, sizeof(junk));
		else if (p == &h->sigfd) {
			if (read(h->sigfd, &si, sizeof(si)) == sizeof(si))
				signo = (int)si.ssi_signo;
		} else if (p == &h->lfd)
			h->accept_ready = true;
		else if (watched(h, p) == W_CONN)
			stream_hung_up(h, p, evs[i].events);
	}
	for (i = 0; i < n; i++)
		if (watched(h, evs[i].data.ptr) == W_PENDING)
			door_peek(h, evs[i].data.ptr, evs[i].events);
	return signo;
}

/* New connections, and those whose head is overdue. */
static void
loop_accept(struct httpd *h)
{
	int64_t now = now_mono_ms();

	door_expire(h, now);
	if (h->accept_at != 0 && now >= h->accept_at && h->lfd != -1) {
		h->accept_at = 0;
		if (httpd_watch_fd(h->ep, &h->lfd) == 0)
			h->accept_ready = true;
	}
	if (h->accept_ready)
		door_accept(h);
}

/* How long a wake may be held (us): a few flushes' time. */
static int64_t
hold_window(const struct httpd *h)
{
	int64_t w = HOLD_K * h->flush_us;

	return w < HOLD_MAX_US ? w : HOLD_MAX_US;
}

/*
 * A drain, and the wakes: resume the streams now, hold the wake, or let a
 * held one's window end.
 */
static void
loop_wakes(struct httpd *h)
{
	int64_t us;

	if (atomic_load(&h->drain) && !h->draining) {
		h->draining = true;
		/* A client that does not read is not waited for long. */
		if (h->stop_by == 0)
			h->stop_by = now_mono_ms() + GRACE_MS;
		stream_resume_all(h);
	}
	if (atomic_exchange(&h->pub_wake, false))
		publish_resume_done(h);
	us = now_us();
	if (atomic_exchange(&h->wake, false)) {
		/* A second wake while one is held, or a producer waiting:
		 * at once. So is an isolated one. */
		if (!atomic_exchange(&h->wake_now, false) && !h->wake_due &&
		    us - h->woke_at < hold_window(h)) {
			h->wake_due = true;
			h->held_until = us + hold_window(h);
			return;
		}
	} else if (!h->wake_due || us < h->held_until)
		return;
	h->wake_due = false;
	h->woke_at = us;
	if (h->nheap == 0)
		return;
	h->flush_n = h->nheap;
	stream_resume_all(h);
	h->flushing = true;
}

/*
 * A flush lasts from the wake that resumed the streams until the loop has
 * nothing left to do at once (libmicrohttpd writes a resumed stream over
 * two or more of its runs), or until three quarters of those streams are
 * suspended again (with thousands of clients some are always being
 * written to): what it cost, as a moving average.
 */
static void
loop_flushed(struct httpd *h, int64_t timeout)
{
	int64_t d, m;

	if (!h->flushing ||
	    (timeout == 0 && h->nheap < h->flush_n - h->flush_n / 4))
		return;
	h->flushing = false;
	/* A flush that the machine stalled does not stretch the window: a
	 * sample is the lesser of this flush and the one before. */
	d = now_us() - h->woke_at;
	m = d < h->flush_last ? d : h->flush_last;
	h->flush_last = d;
	h->flush_us = (h->flush_us + m) / 2;
}

int
httpd_run(struct httpd *h)
{
	struct epoll_event evs[64];
	int n, signo;
	int64_t t;

	for (;;) {
		t = loop_timeout_us(h);
		loop_flushed(h, t);
		n = loop_wait(h, evs, 64, t);
		if (n == -1 && errno != EINTR)
			break;
		signo = loop_events(h, evs, n < 0 ? 0 : n);
		if (signo != 0)
			begin_stop(h, signo);
		loop_accept(h);
		loop_wakes(h);
		stream_resume_due(h, now_mono_ms());
		stream_check_lost(h, now_mono_ms());
		loop_run_doors(h);
		if ((h->draining || h->stopping) && h->nstreams == 0)
			break;
		if (h->stop_by != 0 && now_mono_ms() >= h->stop_by)
			break;
	}
	return h->stopping ? h->signo : 0;
}
