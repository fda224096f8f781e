/*
 * sse serve --journal DIR: every event written to disk before any client
 * can see it, and the history rebuilt from it on start (the format is
 * lib/journal.h). Only the input thread writes, in hub_flush(), one
 * write() a batch, before the batch goes to the event log: the HTTP loop
 * never waits on the disk, and a crash of the process (even SIGKILL)
 * never loses an event a client has seen, as the kernel holds what was
 * written. --fsync says what survives a power failure.
 *
 * The directory holds the segments, "lock" (flock: one server at a time;
 * it holds that server's pid) and, while a server runs, "open" (the boot
 * it runs in and its --fsync): found at start, it says the last server
 * did not stop cleanly; if that was before a reboot and it did not sync
 * every batch, the journal's tail may be lost though clients saw it, so
 * the stream takes a new epoch rather than name other events with ids
 * they have. "written" holds the number of the last event written (in
 * the page cache after each batch: it outlives a crash of the process,
 * and a crash of the machine is the case above): a journal that ends
 * before it lost its newest segment, or part of it, since, and is
 * refused rather than have its ids used again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "msg.h"
#include "serve_journal.h"
#include "util.h"

#define RETRY_S 10 /* a failing write is tried again this many seconds */

/* The segment before the one being written, if it waits for a sync. */
static void
sync_old(struct journal *j)
{
	int fd;

	pthread_mutex_lock(&j->mu);
	fd = j->oldfd;
	j->oldfd = -1;
	pthread_mutex_unlock(&j->mu);
	if (fd != -1) {
		(void)fdatasync(fd);
		close(fd);
	}
}

/* Sync the segment being written (and, after a new one, the directory). */
static void
sync_now(struct journal *j)
{
	sync_old(j);
	if (j->fd != -1 && j->dirty)
		(void)fdatasync(j->fd);
	if (j->newname)
		(void)fsync(j->dirfd);
	j->dirty = j->newname = false;
}

/* --fsync SECS: every SECS, sync what was written meanwhile. */
static void *
syncer_main(void *arg)
{
	struct serve *s = arg;
	struct journal *j = s->journal;
	struct timespec at = mono_after(s->fsync_ms);
	bool name;
	int fd, old;

	pthread_mutex_lock(&j->mu);
	while (!j->quit) {
		if (pthread_cond_timedwait(&j->cv, &j->mu, &at) != ETIMEDOUT)
			continue;
		at = mono_after(s->fsync_ms);
		fd = j->dirty && j->fd != -1 ? dup(j->fd) : -1;
		old = j->oldfd;
		name = j->newname;
		j->oldfd = -1;
		j->dirty = j->dirty && fd == -1; /* no descriptor: next time */
		j->newname = false;
		pthread_mutex_unlock(&j->mu);
		if (old != -1) {
			(void)fdatasync(old);
			close(old);
		}
		if (fd != -1) {
			(void)fdatasync(fd);
			close(fd);
		}
		if (name)
			(void)fsync(j->dirfd);
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Start a new segment whose first event will be N first. */
static int
seg_start(struct serve *s, struct journal *j, uint64_t first)
{
	unsigned char head[JOURNAL_HEAD];
	struct journal_head h = {JOURNAL_VERSION, first, ""};
	char name[32];
	int fd;

	jr_seg_name(first, name);
	fd = openat(
	    j->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	journal_head_put(head, s->epoch, first);
	if (fd == -1 ||
	    write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    jr_seg_add(j, first) == NULL) {
		msg_err("--journal: cannot write '%s'", jr_path(j, name));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/*
	 * The segment before is synced with the next sync, as is the new
	 * name in the directory: at once with --fsync always, in time with
	 * --fsync SECS (the input does not wait for the disk meanwhile).
	 */
	sync_old(j);
	pthread_mutex_lock(&j->mu);
	if (j->fd != -1 && s->fsync_ms < 0)
		close(j->fd);
	else if (j->fd != -1)
		j->oldfd = j->fd;
	j->fd = fd;
	j->dirty = true;
	j->newname = s->fsync_ms >= 0;
	pthread_mutex_unlock(&j->mu);
	j->size = JOURNAL_HEAD;
	snprintf(h.epoch, sizeof(h.epoch), "%s", s->epoch);
	journal_at_init(&j->at, &h); /* what its records imply */
	if (s->fsync_ms == 0)
		sync_now(j);
	return 0;
}

/* Go on writing the newest segment, cut after its last whole record. */
static int
seg_reopen(struct journal *j)
{
	char name[32];
	int fd;

	jr_seg_name(j->segs[j->nsegs - 1].first, name);
	fd = openat(j->dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd == -1 || ftruncate(fd, (off_t)j->size) == -1 ||
	    lseek(fd, 0, SEEK_END) == -1) {
		msg_err("--journal: cannot write '%s'", jr_path(j, name));
		if (fd != -1)
			close(fd);
		return -1;
	}
	j->fd = fd;
	return 0;
}

/*
 * Drop the oldest segments while those after them hold the whole
 * history (--history events or --history-bytes bytes): the journal stays
 * about the history's size, and a restart rebuilds all of it.
 */
static void
seg_trim(struct serve *s, struct journal *j)
{
	uint64_t events = 0, bytes = 0;
	size_t i, k;
	char name[32];

	for (i = j->nsegs; i > 1; i--) {
		events += j->segs[i - 1].events;
		bytes += j->segs[i - 1].bytes;
		if (events >= (uint64_t)s->history || bytes >= s->history_bytes)
			break;
	}
	/* Segments 0 .. i-2 are not needed. */
	for (k = 0; i > 1 && k + 1 < i; k++) {
		jr_seg_name(j->segs[k].first, name);
		(void)unlinkat(j->dirfd, name, 0);
	}
	if (k > 0) {
		memmove(
		    j->segs, j->segs + k, (j->nsegs - k) * sizeof(*j->segs));
		j->nsegs -= k;
	}
}

/* "BOOTID FSYNC" of this boot, for the open marker. */
static void
boot_id(char out[64])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f == NULL || fgets(out, 64, f) == NULL)
		snprintf(out, 64, "unknown");
	out[strcspn(out, "\n")] = '\0';
	if (f != NULL)
		fclose(f);
}

/*
 * The last server did not stop cleanly. The kernel kept what it wrote,
 * unless the machine went down meanwhile: a reboot with a server that
 * did not sync every batch may have lost the tail clients saw.
 */
bool
jr_tail_may_be_lost(struct journal *j)
{
	char buf[128] = "", boot[64];
	ssize_t n;
	int fd = openat(j->dirfd, "open", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return false; /* stopped cleanly, or a new journal */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	boot_id(boot);
	/* Another boot, and a server that did not sync every batch. */
	return strncmp(buf, boot, strlen(boot)) != 0 &&
	    strstr(buf, " always") == NULL;
}

static int
mark_open(struct serve *s, struct journal *j)
{
	char line[128];
	int fd, n;

	n = snprintf(line, sizeof(line), "%s %s\n", j->boot,
	    s->fsync_ms == 0 ? "always" : "other");
	fd = openat(
	    j->dirfd, "open", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, line, (size_t)n) != n) {
		msg_err("--journal: cannot write '%s'", jr_path(j, "open"));
		if (fd != -1)
			close(fd);
		return -1;
	}
	(void)fsync(fd);
	close(fd);
	(void)fsync(j->dirfd);
	return 0;
}

/* "written": the number of the last event written, fixed width. */
static void
mark_written(struct journal *j, uint64_t n)
{
	char line[24];

	snprintf(line, sizeof(line), "%020llu\n", (unsigned long long)n);
	if (j->writtenfd != -1 &&
	    pwrite(j->writtenfd, line, 21, 0) != 21) { /* only a check lost */
	}
}

/* "written", kept open to mark each batch (jr_rebuild checked it). */
static int
open_written(struct journal *j)
{
	j->writtenfd =
	    openat(j->dirfd, "written", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->writtenfd == -1) {
		msg_err("--journal: cannot open '%s'", jr_path(j, "written"));
		return -1;
	}
	return 0;
}

/* Lock the directory (made if need be) against a second server. */
static int
lock_dir(struct journal *j)
{
	char pid[32] = "";
	ssize_t n;

	/* Events may need the token to be read: the journal is ours alone. */
	if (mkdir(j->dir, 0700) == -1 && errno != EEXIST) {
		msg_err("--journal: cannot make '%s'", j->dir);
		return -1;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		msg_err("--journal: cannot open '%s'", j->dir);
		return -1;
	}
	j->lockfd =
	    openat(j->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lockfd == -1) {
		msg_err("--journal: cannot open '%s'", jr_path(j, "lock"));
		return -1;
	}
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(j->lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		msg_errx("--journal: '%s' is in use by another server%s%s%s",
		    j->dir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(j->lockfd, 0) == -1 ||
	    pwrite(j->lockfd, pid, (size_t)n, 0) != n) {
		msg_err("--journal: cannot write '%s'", jr_path(j, "lock"));
		return -1;
	}
	return 0;
}

/* The epoch of the newest segment, for the history's index (0, or -1). */
static int
newest_epoch(struct serve *s, struct journal *j)
{
	unsigned char b[JOURNAL_HEAD];
	struct journal_head h;
	const char *why;
	char name[32];
	int fd;

	if (j->nsegs == 0)
		return -1;
	jr_seg_name(j->segs[j->nsegs - 1].first, name);
	if ((fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b) ||
	    journal_head_get(b, sizeof(b), &h, &why) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	memcpy(s->epoch, h.epoch, sizeof(h.epoch));
	s->epoch_len = strlen(h.epoch);
	return 0;
}

int
serve_journal_open(struct serve *s)
{
	pthread_condattr_t ca;
	struct journal *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		msg_errx("out of memory");
		return EXIT_ERROR;
	}
	s->journal = j;
	j->dir = s->journal_dir;
	j->dirfd = j->lockfd = j->fd = j->oldfd = j->writtenfd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	j->seg_events = s->history / 4 > 0 ? (uint64_t)s->history / 4 : 1;
	j->seg_bytes =
	    s->history_bytes / 4 > 65536 ? s->history_bytes / 4 : 65536;
	sse_buf_init(&j->out, 0);
	/* A file-size limit must fail a write (EFBIG), not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	boot_id(j->boot);
	if (lock_dir(j) == -1)
		return EXIT_ERROR;
	if (jr_list_segments(j) == -1) {
		msg_err("--journal: cannot read '%s'", j->dir);
		return EXIT_ERROR;
	}
	s->journal_lost = jr_tail_may_be_lost(j);
	if (newest_epoch(s, j) == 0)
		serve_prefix(s);
	if (jr_rebuild(s, j) == -1 || open_written(j) == -1)
		return EXIT_ERROR;
	return 0;
}

int
serve_journal_start(struct serve *s, bool new_epoch)
{
	struct journal *j = s->journal;
	sigset_t all, old;
	int rc;

	if (new_epoch || j->nsegs == 0) {
		if (seg_start(s, j, s->seq + 1) == -1)
			return EXIT_ERROR;
	} else if (seg_reopen(j) == -1)
		return EXIT_ERROR;
	if (mark_open(s, j) == -1)
		return EXIT_ERROR;
	mark_written(j, s->seq); /* a new epoch may start from another */
	if (s->fsync_ms > 0) {
		/* Signals are the HTTP loop's (its signalfd), never the
		 * syncer's: it starts with them all blocked. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = pthread_create(&j->syncer, NULL, syncer_main, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0) {
			msg_errx("--journal: cannot start the sync thread");
			return EXIT_ERROR;
		}
		j->syncing = true;
	}
	return 0;
}

/* write() all of b, or -1 with errno. */
static int
write_all(int fd, const char *b, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * A write failed: what it wrote is cut off again, and it is tried again
 * every second (input waits meanwhile: the producer blocks), RETRY_S
 * times at most, or until the server stops. 0 once it worked.
 */
static int
write_retry(struct serve *s, struct journal *j, const char *name)
{
	struct pollfd pfd = {s->stopfd, POLLIN, 0};
	int err = errno, i;

	msg_warnx("--journal: cannot write '%s': %s: input waits until it "
		  "can (%d s at most)",
	    jr_path(j, name), strerror(err), RETRY_S);
	for (i = 0; i < RETRY_S; i++) {
		(void)ftruncate(j->fd, (off_t)j->size);
		(void)lseek(j->fd, (off_t)j->size, SEEK_SET);
		if (poll(&pfd, 1, 1000) > 0)
			return -1; /* the server stops */
		if (write_all(j->fd, j->out.p, j->out.len) == 0) {
			msg_warnx("--journal: writing '%s' works again: input "
				  "goes on",
			    jr_path(j, name));
			return 0;
		}
		err = errno;
	}
	(void)ftruncate(j->fd, (off_t)j->size);
	msg_errx("--journal: cannot write '%s': %s: giving up",
	    jr_path(j, name), strerror(err));
	return -1;
}

/* The newest segment is full: the next batch starts a new one. */
static int
rotate(struct serve *s, struct journal *j, uint64_t first)
{
	struct seg *sg = &j->segs[j->nsegs - 1];

	if (sg->events == 0 ||
	    (sg->events < j->seg_events && sg->bytes < j->seg_bytes))
		return 0;
	if (seg_start(s, j, first) == -1)
		return -1;
	seg_trim(s, j);
	return 0;
}

int
serve_journal_write(struct serve *s)
{
	struct journal *j = s->journal;
	struct journal_rec r;
	struct seg *sg;
	char name[32];
	size_t i;
	uint64_t bytes = 0;

	if (s->npend == 0)
		return 0;
	if (rotate(s, j, s->pend[0].n) == -1)
		return -1;
	sse_buf_reset(&j->out);
	r.time_ms = now_wall_ms();
	for (i = 0; i < s->npend; i++) {
		r.n = s->pend[i].n;
		r.bytes = s->batch.p + s->pend[i].off;
		r.len = s->pend[i].len;
		r.has_id = s->pend[i].has_id;
		r.id_off = s->pend[i].id_off - s->pend[i].off;
		r.id_len = s->pend[i].id_len;
		if (journal_rec_put(&j->out, &j->at, &r) != SSE_OK) {
			msg_errx("--journal: cannot make the record of event "
				 "%llu (out of memory)",
			    (unsigned long long)r.n);
			return -1;
		}
		bytes += r.len;
	}
	sg = &j->segs[j->nsegs - 1];
	jr_seg_name(sg->first, name);
	if (write_all(j->fd, j->out.p, j->out.len) == -1 &&
	    write_retry(s, j, name) == -1)
		return -1;
	j->size += j->out.len;
	mark_written(j, s->pend[s->npend - 1].n);
	sg->events += s->npend;
	sg->bytes += bytes;
	pthread_mutex_lock(&j->mu);
	j->dirty = true;
	pthread_mutex_unlock(&j->mu);
	if (s->fsync_ms == 0)
		sync_now(j);
	return 0;
}

void
serve_journal_close(struct serve *s)
{
	struct journal *j = s->journal;

	if (j == NULL)
		return;
	if (j->syncing) {
		pthread_mutex_lock(&j->mu);
		j->quit = true;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->syncer, NULL);
	}
	if (j->fd != -1) {
		/* Clean: all of it on disk before the marker goes. */
		j->dirty = true;
		j->newname = true;
		sync_now(j);
		close(j->fd);
		if (unlinkat(j->dirfd, "open", 0) == 0)
			(void)fsync(j->dirfd);
	}
	if (j->writtenfd != -1)
		close(j->writtenfd);
	if (j->lockfd != -1)
		close(j->lockfd);
	if (j->dirfd != -1)
		close(j->dirfd);
	sse_buf_release(&j->out);
	free(j->segs);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
	s->journal = NULL;
}
