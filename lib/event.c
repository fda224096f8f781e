/*
 * The event model's one function: an empty message event (see event.h).
 */
#include <string.h>

#include "event.h"

void
sse_event_init(struct sse_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = SSE_DEFAULT_TYPE;
	ev->type_len = sizeof(SSE_DEFAULT_TYPE) - 1;
	ev->data = "";
	ev->id = "";
	ev->retry = -1;
}
