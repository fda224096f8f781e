/*
 * The viewer page, built into the binary: cmd/viewer.html is assembled in
 * as read-only data (the Makefile makes this object depend on it), so the
 * page needs no file at run time and no generated C source.
 */
#include <stddef.h>

#include "httpd.h"

__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl sse_viewer_start\n"
	".hidden sse_viewer_start\n"
	"sse_viewer_start:\n"
	".incbin \"cmd/viewer.html\"\n"
	".globl sse_viewer_end\n"
	".hidden sse_viewer_end\n"
	"sse_viewer_end:\n"
	".byte 0\n"
	".popsection\n");

extern const char sse_viewer_start[], sse_viewer_end[];

const char *
httpd_viewer(size_t *len)
{
	*len = (size_t)(sse_viewer_end - sse_viewer_start);
	return sse_viewer_start;
}
