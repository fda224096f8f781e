/* sse listen --record: a recording written through listen's hooks. */
#ifndef SSE_LISTEN_RECORD_H
#define SSE_LISTEN_RECORD_H

#include <stdbool.h>

#include "listen.h"
#include "recorder.h"

struct listen_record {
	struct recorder rec;
	bool chunks; /* --record-chunks: raw bytes too */
};

/*
 * Create path, write the header and fill the hooks. -1 after printing why
 * (exit EXIT_ERROR).
 */
int listen_record_start(struct listen_record *, struct listen_hooks *,
    const char *path, const char *url, const char *method, bool chunks);
/* Close the file, ending an open connection with reason first. */
void listen_record_finish(struct listen_record *, const char *reason);

#endif
