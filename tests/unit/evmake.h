/* Building events for the unit tests. */
#ifndef SSE_EVMAKE_H
#define SSE_EVMAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "event.h"

/* An event of type (NULL: "message"), data, id (NULL: none) and retry (-1). */
__attribute__((unused)) static struct sse_event
ev_make(const char *type, const char *data, size_t dlen, const char *id,
    int64_t retry)
{
	struct sse_event ev;

	sse_event_init(&ev);
	if (type != NULL) {
		ev.type = type;
		ev.type_len = strlen(type);
	}
	ev.data = data;
	ev.data_len = dlen;
	if (id != NULL) {
		ev.id = id;
		ev.id_len = strlen(id);
		ev.has_id = true;
	}
	ev.retry = retry;
	return ev;
}

#define ev_str(type, data, id) ev_make((type), (data), strlen(data), (id), -1)

#endif
