/*
 * The suspended streams, in a binary min-heap ordered by deadline (the
 * next keepalive, or the source's own), so that the loop finds the next
 * one due at once, and a stream that wakes early leaves it in O(log n).
 */
#include <stdlib.h>

#include "http.h"

static bool
heap_less(struct conn *a, struct conn *b)
{
	return a->deadline < b->deadline;
}

static void
heap_set(struct httpd *h, size_t i, struct conn *c)
{
	h->heap[i] = c;
	c->heap_i = i;
}

int
heap_push(struct httpd *h, struct conn *c)
{
	struct conn **nh;
	size_t i, p;

	if (h->nheap == h->capheap) {
		size_t ncap = h->capheap ? h->capheap * 2 : 256;

		if ((nh = realloc(h->heap, ncap * sizeof(*nh))) == NULL)
			return -1;
		h->heap = nh;
		h->capheap = ncap;
	}
	for (i = h->nheap++; i > 0; i = p) {
		p = (i - 1) / 2;
		if (!heap_less(c, h->heap[p]))
			break;
		heap_set(h, i, h->heap[p]);
	}
	heap_set(h, i, c);
	return 0;
}

/* Move the entry at i up or down to its place. */
static void
heap_fix(struct httpd *h, size_t i)
{
	struct conn *c = h->heap[i];
	size_t p, k;

	while (i > 0 && heap_less(c, h->heap[p = (i - 1) / 2])) {
		heap_set(h, i, h->heap[p]);
		i = p;
	}
	for (;;) {
		k = 2 * i + 1;
		if (k >= h->nheap)
			break;
		if (k + 1 < h->nheap && heap_less(h->heap[k + 1], h->heap[k]))
			k++;
		if (!heap_less(h->heap[k], c))
			break;
		heap_set(h, i, h->heap[k]);
		i = k;
	}
	heap_set(h, i, c);
}

struct conn *
heap_pop(struct httpd *h)
{
	struct conn *top = h->heap[0];

	if (--h->nheap > 0) {
		heap_set(h, 0, h->heap[h->nheap]);
		heap_fix(h, 0);
	}
	return top;
}

/* Take stream c out of the heap, wherever it is. */
void
heap_remove(struct httpd *h, struct conn *c)
{
	size_t i = c->heap_i;

	h->nheap--;
	if (i == h->nheap)
		return;
	heap_set(h, i, h->heap[h->nheap]);
	heap_fix(h, i);
}
