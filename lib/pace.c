/*
 * Replay pacing: see pace.h.
 */
#include <stdlib.h>

#include "pace.h"

/* The pause before an offset, as --max-gap shortens it. */
static int64_t
gap(const struct sse_pace *p, int64_t from, int64_t to)
{
	int64_t g = to - from;

	return p->max_gap_ms >= 0 && g > p->max_gap_ms ? p->max_gap_ms : g;
}

/* --rate: evenly spaced; a lone retry goes with the next event. */
static void
by_rate(struct sse_plan *plan, const struct sse_recording *rec,
    const struct sse_pace *p)
{
	enum sse_rec_kind plays = p->exact ? SSE_REC_CHUNK : SSE_REC_EVENT;
	size_t i, k = 0;

	for (i = 0; i < rec->nev; i++) {
		plan->at[i] = (int64_t)((double)k * 1e6 / p->rate);
		if (rec->ev[i].kind == plays)
			k++;
	}
	plan->period = (int64_t)((double)k * 1e6 / p->rate);
}

int
sse_plan_make(struct sse_plan *plan, const struct sse_recording *rec,
    const struct sse_pace *p)
{
	int64_t prev = 0, adj = 0;
	size_t i;

	plan->period = 0;
	plan->at = calloc(rec->nev ? rec->nev : 1, sizeof(*plan->at));
	if (plan->at == NULL)
		return -1;
	if (p->no_delay)
		return 0;
	if (p->rate > 0) {
		by_rate(plan, rec, p);
		return 0;
	}
	for (i = 0; i < rec->nev; i++) {
		adj += gap(p, prev, rec->ev[i].t);
		prev = rec->ev[i].t;
		plan->at[i] = (int64_t)((double)adj * 1000.0 / p->speed);
	}
	adj += gap(p, prev, rec->end_t);
	plan->period = (int64_t)((double)adj * 1000.0 / p->speed);
	return 0;
}

void
sse_plan_release(struct sse_plan *plan)
{
	free(plan->at);
	plan->at = NULL;
}
