/*
 * Reading serve's journal back: the segments in order, each record
 * checked (lib/journal.c), into the history on start, or out as a
 * recording (--journal-export), by the same checks. A torn last record
 * (one "written" does not count yet) is dropped with a warning; any other
 * damage is an error naming the file and offset, and so is a journal that
 * ends before the event "written" names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "msg.h"
#include "parser.h"
#include "record.h"
#include "serve_journal.h"
#include "util.h"

/* "DIR/NAME" for messages. */
const char *
jr_path(const struct journal *j, const char *name)
{
	static char p[4096];

	snprintf(p, sizeof(p), "%s/%s", j->dir, name);
	return p;
}

void
jr_seg_name(uint64_t first, char out[32])
{
	snprintf(out, 32, "%020llu" SEG_SUFFIX, (unsigned long long)first);
}

struct seg *
jr_seg_add(struct journal *j, uint64_t first)
{
	struct seg *v;
	size_t ncap;

	if (j->nsegs == j->capsegs) {
		ncap = j->capsegs ? j->capsegs * 2 : 16;
		if ((v = realloc(j->segs, ncap * sizeof(*v))) == NULL)
			return NULL;
		j->segs = v;
		j->capsegs = ncap;
	}
	v = &j->segs[j->nsegs++];
	memset(v, 0, sizeof(*v));
	v->first = first;
	return v;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* The segments in the directory, in stream order. */
int
jr_list_segments(struct journal *j)
{
	DIR *d;
	struct dirent *e;
	size_t n;
	char *end;
	unsigned long long v;

	if ((d = fdopendir(dup(j->dirfd))) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n != 20 + strlen(SEG_SUFFIX) ||
		    strcmp(e->d_name + 20, SEG_SUFFIX) != 0)
			continue;
		errno = 0;
		v = strtoull(e->d_name, &end, 10);
		if (errno != 0 || end != e->d_name + 20 || v == 0 ||
		    jr_seg_add(j, v) == NULL) {
			closedir(d);
			errno = errno ? errno : EINVAL;
			return -1;
		}
	}
	closedir(d);
	if (j->nsegs > 1) /* qsort wants an array, even of nothing */
		qsort(j->segs, j->nsegs, sizeof(*j->segs), seg_cmp);
	return 0;
}

/* The whole file NAME, malloc'd, in *p and *n. */
static int
slurp(struct journal *j, const char *name, char **p, size_t *n)
{
	struct stat st;
	ssize_t k;
	size_t got = 0;
	int fd;

	if ((fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 ||
	    (*p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (k = read(fd, *p + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)k;
	close(fd);
	*n = got;
	return 0;
}

static int
corrupt(const struct scan *sc, size_t off, const char *why)
{
	msg_errx("--journal: '%s' is corrupt at offset %zu: %s",
	    jr_path(sc->j, sc->name), off, why);
	return -1;
}

/* Is the bad record at off the end of the file (a torn write)? */
static bool
torn(const char *b, size_t off, size_t n)
{
	long long k = journal_rec_size(b + off, n - off);
	size_t i;

	if (k == -2 || (k > 0 && (size_t)k >= n - off))
		return true;
	for (i = off; i < n && b[i] == 0; i++)
		;
	return i == n; /* zeros to the end: space the crash never filled */
}

/* One event of the journal into the history. */
static void
rebuild_one(struct scan *sc, const struct journal_rec *r, struct seg *sg)
{
	struct serve *s = sc->s;
	const char *id =
	    r->has_id && r->id_len > 0 ? r->bytes + r->id_off : NULL;

	if (evlog_append(&s->log, r->bytes, r->len, id, r->id_len) == -1)
		msg_warnx("--journal: event %llu does not fit in "
			  "--history-bytes, not in the history",
		    (unsigned long long)r->n);
	sg->events++;
	sg->bytes += r->len;
}

/* The records of one segment, b[JOURNAL_HEAD..n). */
static int
scan_records(struct scan *sc, struct seg *sg, const char *b, size_t n)
{
	struct journal_rec r;
	const char *why = NULL;
	size_t off = JOURNAL_HEAD;
	long long k;

	while (off < n) {
		k = journal_rec_get(
		    &sc->at, b + off, n - off, &r, &sc->ev, &why);
		if (k < 0 && sc->last && sc->at.next > sc->written &&
		    torn(b, off, n)) {
			msg_warnx("--journal: '%s' ends with a torn record "
				  "(offset %zu, a crash while writing): "
				  "dropped",
			    jr_path(sc->j, sc->name), off);
			break;
		}
		if (k == -2)
			return corrupt(sc, off, "a record is cut short");
		if (k == -1)
			return corrupt(sc, off, why);
		sc->each(sc, &r, sg);
		off += (size_t)k;
	}
	sc->good = off;
	return 0;
}

/* A segment in another format version: say so, not "corrupt". */
static int
other_version(const struct scan *sc, const struct journal_head *h)
{
	msg_errx("--journal: '%s' is in journal format %u, which this sse "
		 "does not read (it reads format %d): export it with the sse "
		 "that wrote it (--journal-export)",
	    jr_path(sc->j, sc->name), (unsigned)h->version, JOURNAL_VERSION);
	return -1;
}

/* Read segment i; its header's epoch into epoch. */
static int
scan_segment(struct scan *sc, size_t i, char *epoch)
{
	struct journal_head h;
	struct seg *sg = &sc->j->segs[i];
	char name[32], *b = NULL;
	const char *why = NULL;
	size_t n = 0;
	int rc;

	jr_seg_name(sg->first, name);
	sc->name = name;
	sc->last = i + 1 == sc->j->nsegs;
	if (slurp(sc->j, name, &b, &n) == -1) {
		msg_err("--journal: cannot read '%s'", jr_path(sc->j, name));
		return -1;
	}
	if (n < JOURNAL_HEAD && sc->last) { /* a crash as it began */
		free(b); /* where the segment before ended stands */
		return 1;
	}
	rc = journal_head_get((unsigned char *)b, n, &h, &why);
	if (rc == 0 && h.first != sg->first) {
		why = "its name is not its first event";
		rc = -1;
	} else if (rc == 0 && i > 0 && h.first != sc->at.next) {
		why = "events are missing before it";
		rc = -1;
	}
	if (rc == 0) {
		journal_at_init(&sc->at, &h);
		memcpy(epoch, h.epoch, sizeof(h.epoch));
		rc = scan_records(sc, sg, b, n);
	} else
		rc = rc == -2 ? other_version(sc, &h) : corrupt(sc, 0, why);
	free(b);
	return rc;
}

/*
 * "written": the number of the last event written whole, 0 when it is no
 * check (a journal without it, or one whose tail a reboot may have lost).
 * Read before the segments are listed: a running server marks it only
 * after the segments hold the events.
 */
static uint64_t
read_written(struct journal *j, bool lost)
{
	char line[32] = "";
	unsigned long long n;
	ssize_t k;
	int fd;

	if (lost ||
	    (fd = openat(j->dirfd, "written", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	k = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	line[k > 0 ? k : 0] = '\0';
	return sscanf(line, "%llu", &n) == 1 ? (uint64_t)n : 0;
}

/*
 * Every segment, in order; its newest header's epoch into epoch. 1 when
 * the newest segment has not even a header. The journal must hold every
 * event "written" says was: one that ends before lost its tail (a newest
 * segment deleted or cut) after it was written, and its numbers would be
 * used again for other events.
 */
static int
scan_all(struct scan *sc, char *epoch)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sc->j->nsegs && rc == 0; i++)
		rc = scan_segment(sc, i, epoch);
	if (rc == -1 || sc->written < sc->at.next)
		return rc;
	msg_errx("--journal: '%s' ends at event %llu, but events up to %llu "
		 "were written: its newest segment was deleted or cut; move "
		 "the directory aside to start a new stream",
	    sc->j->dir, (unsigned long long)(sc->at.next - 1),
	    (unsigned long long)sc->written);
	return -1;
}

/*
 * Rebuild the history from the segments; the last one is cut after its
 * last whole record (a torn tail dropped). Sets s->seq and s->epoch, and
 * where writing goes on (j->size, j->at).
 */
int
jr_rebuild(struct serve *s, struct journal *j)
{
	struct scan sc = {.each = rebuild_one,
	    .s = s,
	    .j = j,
	    .at = {.next = 1},
	    .ev = SSE_BUF_INIT,
	    .written = read_written(j, s->journal_lost)};
	char epoch[JOURNAL_EPOCH_MAX + 1] = "", name[32];
	int rc;

	rc = scan_all(&sc, epoch);
	sse_buf_release(&sc.ev);
	if (rc == -1)
		return -1;
	if (rc == 1) { /* the newest segment has not even a header */
		jr_seg_name(j->segs[--j->nsegs].first, name);
		(void)unlinkat(j->dirfd, name, 0);
	}
	/* The newest whole segment goes on after its last whole record. */
	j->size = sc.good;
	j->at = sc.at;
	s->seq = sc.at.next - 1;
	if (epoch[0] != '\0') {
		memcpy(s->epoch, epoch, sizeof(epoch));
		s->epoch_len = strlen(epoch);
	}
	return 0;
}

/* ---- sse serve --journal DIR --journal-export: a recording ---- */

struct exporter {
	struct sse_buf *out;
	int64_t t; /* the record's offset from the first one */
	int64_t retry; /* a retry field, for the event it comes with */
};

static int
export_event(void *ctx, const struct sse_event *pev)
{
	struct exporter *x = ctx;
	struct sse_event ev = *pev;

	ev.retry = x->retry;
	x->retry = -1;
	return sse_rec_event(x->out, x->t, &ev) == -1;
}

static void
export_retry(void *ctx, uint64_t ms)
{
	((struct exporter *)ctx)->retry = (int64_t)ms;
}

static int64_t export_start = -1;

static void
export_one(struct scan *sc, const struct journal_rec *r, struct seg *sg)
{
	struct exporter x = {sc->out, 0, -1};
	struct sse_parser_cb cb = {export_event, export_retry, NULL, &x};
	struct sse_parser p;

	(void)sg;
	if (export_start < 0) {
		export_start = r->time_ms;
		(void)sse_rec_header(sc->out, sc->j->dir, NULL, r->time_ms);
	}
	x.t = r->time_ms - export_start < 0 ? 0 : r->time_ms - export_start;
	sse_parser_init(&p, &cb, r->len + 1);
	(void)sse_parser_feed(&p, r->bytes, r->len);
	sse_parser_release(&p);
	if (sc->out->len >= 1 << 20) {
		(void)!fwrite(sc->out->p, 1, sc->out->len, stdout);
		sse_buf_reset(sc->out);
	}
}

int
serve_journal_export(const char *dir)
{
	struct journal j;
	struct sse_buf out = SSE_BUF_INIT;
	struct scan sc = {.each = export_one,
	    .out = &out,
	    .j = &j,
	    .at = {.next = 1},
	    .ev = SSE_BUF_INIT};
	char epoch[JOURNAL_EPOCH_MAX + 1];
	int rc = 0;

	memset(&j, 0, sizeof(j));
	j.dir = dir;
	j.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.dirfd != -1) /* the checks serve's rebuild makes */
		sc.written = read_written(&j, jr_tail_may_be_lost(&j));
	if (j.dirfd == -1 || jr_list_segments(&j) == -1) {
		msg_err("--journal: cannot read '%s'", dir);
		rc = EXIT_ERROR;
	}
	if (rc == 0 && scan_all(&sc, epoch) == -1)
		rc = EXIT_ERROR;
	if (rc == 0 && export_start < 0) /* no event: a header alone */
		(void)sse_rec_header(&out, dir, NULL, now_wall_ms());
	if (out.len > 0 && fwrite(out.p, 1, out.len, stdout) != out.len)
		rc = EXIT_ERROR;
	if (fflush(stdout) != 0) {
		msg_err("cannot write the recording");
		rc = EXIT_ERROR;
	}
	sse_buf_release(&out);
	sse_buf_release(&sc.ev);
	free(j.segs);
	if (j.dirfd != -1)
		close(j.dirfd);
	return rc;
}
