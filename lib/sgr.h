/*
 * ANSI SGR ("Select Graphic Rendition") sequences in event data, as
 * `make` or `pytest` colour their output: ESC '[' parameters 'm'. Only
 * these are recognised; every other control sequence stays what it was
 * (escaped by the pretty format, shown as text by the viewer).
 *
 * sse_sgr_len() finds one; sse_sgr_apply() folds its parameters into a
 * rendition (bold, colours ...), so that a caller can tell whether the
 * data left colours on, and the viewer's JavaScript twin (cmd/viewer.html)
 * follows the same rules: 0 or nothing resets; 1 2 3 4 7 9 set and 22 23
 * 24 27 29 clear; 30-37 90-97 39 and 40-47 100-107 49 the 16 colours and
 * the default; 38/48 with ;5;N (256 colours) or ;2;R;G;B (true colour).
 */
#ifndef SSE_SGR_H
#define SSE_SGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest sequence recognised, ESC and 'm' included. */
#define SSE_SGR_MAX 64

enum {
	SSE_SGR_BOLD = 1,
	SSE_SGR_DIM = 2,
	SSE_SGR_ITALIC = 4,
	SSE_SGR_UNDERLINE = 8,
	SSE_SGR_INVERSE = 16,
	SSE_SGR_STRIKE = 32,
};

/* A colour: SSE_SGR_DEFAULT, 0-255 (palette), or SSE_SGR_RGB | 0xRRGGBB. */
#define SSE_SGR_DEFAULT (-1)
#define SSE_SGR_RGB 0x1000000

struct sse_sgr {
	unsigned attrs;
	int32_t fg, bg;
};

/* The length of the SGR sequence at p, or 0 when p has none there. */
size_t sse_sgr_len(const char *p, size_t n);
void sse_sgr_reset(struct sse_sgr *);
/* Fold the sequence p[0..n) (measured by sse_sgr_len) into r. */
void sse_sgr_apply(struct sse_sgr *r, const char *p, size_t n);
bool sse_sgr_is_default(const struct sse_sgr *);

#endif
