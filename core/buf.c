/* buf.c: capped growable buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_cleanup(struct buf *b)
{
	xfree(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

enum at_rc buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		buf_cleanup(b);
		return AT_TOOBIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return AT_OK;
}

enum at_rc buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum at_rc buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return AT_INTERNAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	enum at_rc rc = buf_append(b, big, (size_t)n);
	xfree(big);
	return rc;
}

const char *buf_cstr(struct buf *b)
{
	if (b->data == NULL)
		return "";
	return b->data;
}
