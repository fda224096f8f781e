/*
 * The inside of serve's journal (serve_journal.c writes it,
 * serve_journal_read.c reads it back): the segments, and a scan of them.
 */
#ifndef SSE_SERVE_JOURNAL_H
#define SSE_SERVE_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "journal.h"
#include "serve.h"

#define SEG_SUFFIX ".ssej"

struct seg {
	uint64_t first; /* N of its first event */
	uint64_t events; /* how many it holds */
	uint64_t bytes; /* of events (serialized), as the history counts */
};

struct journal {
	const char *dir;
	int dirfd, lockfd, fd; /* fd: the segment being written */
	int writtenfd; /* "written": the last event number written, or -1 */
	int oldfd; /* the one before, not synced yet (--fsync SECS), or -1 */
	bool newname; /* a segment was made since the directory's sync */
	struct seg *segs; /* oldest first; the last is being written */
	size_t nsegs, capsegs;
	uint64_t size; /* bytes of the segment being written */
	uint64_t seg_events, seg_bytes; /* when to start a new segment */
	/*
	 * With --fsync SECS a thread of its own syncs every SECS what was
	 * written (through a dup of fd, so that input never waits for the
	 * disk); fd, oldfd, dirty and newname are shared with it, under mu.
	 */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* quit */
	pthread_t syncer;
	bool syncing, quit;
	bool dirty; /* written since the last sync */
	struct sse_buf out; /* the records of one batch */
	struct journal_at at; /* where the segment being written stands */
	char boot[64];
};

struct scan {
	/* What is done with each record: into the history, or exported. */
	void (*each)(struct scan *, const struct journal_rec *, struct seg *);
	struct serve *s;
	struct sse_buf *out; /* exporting: the recording */
	struct journal *j;
	const char *name; /* the segment's file name */
	bool last; /* the newest segment: a torn tail may end it */
	struct journal_at at; /* where the segment being read stands */
	struct sse_buf ev; /* an event whose id the record implied */
	size_t good; /* bytes of the file up to the last whole record */
	/* "written": events up to it were written whole (0: no check). */
	uint64_t written;
};

/* "DIR/NAME" for messages (a static buffer). */
const char *jr_path(const struct journal *, const char *name);
/* The file name of the segment whose first event is N first. */
void jr_seg_name(uint64_t first, char out[32]);
struct seg *jr_seg_add(struct journal *, uint64_t first);
/* The segments in the directory, in stream order. */
int jr_list_segments(struct journal *);
/*
 * Rebuild the history from the segments; the last one is cut after its
 * last whole record (a torn tail dropped). Sets s->seq and s->epoch.
 */
int jr_rebuild(struct serve *, struct journal *);
/*
 * The last server did not stop cleanly and the machine restarted since:
 * the tail it wrote may be lost, and "written" is no check.
 */
bool jr_tail_may_be_lost(struct journal *);

#endif
