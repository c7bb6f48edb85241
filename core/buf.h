/* buf.h: a growable byte buffer with a hard cap (our sds/dynbuf). */
#ifndef AT_BUF_H
#define AT_BUF_H

#include <stddef.h>

#include "core/rc.h"

struct buf {
	char *data;	/* owned; always NUL-terminated when len > 0 or after buf_cstr */
	size_t len, cap, max;
};

void buf_init(struct buf *b, size_t max);	/* max = hard cap in bytes */
void buf_cleanup(struct buf *b);		/* frees data; b can be reused after buf_init */
void buf_reset(struct buf *b);			/* len = 0, keeps memory */

/* Append; past max: AT_TOOBIG and the buffer is emptied (curl's dynbuf rule). */
enum at_rc buf_append(struct buf *b, const void *p, size_t n);
enum at_rc buf_puts(struct buf *b, const char *s);
enum at_rc buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *buf_cstr(struct buf *b);		/* borrowed; "" when empty */

#endif
