/* mem.h: allocation that aborts on failure (inputs are capped, so OOM is a sick host). */
#ifndef AT_MEM_H
#define AT_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void xfree(void *p);

#endif
