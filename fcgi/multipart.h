/* multipart.h: a streaming multipart/form-data parser (RFC 7578, RFC 2046 §5.1).
 *
 * Feed the body in chunks of any size; the parser calls back once per part with its
 * headers, then with the part's data in pieces, then at its end. It keeps at most one
 * part's header block (MULTIPART_MAX_HEADER bytes) and a few bytes of state: a file part
 * is never held in memory. Boundaries may be split anywhere across chunks.
 */
#ifndef AT_MULTIPART_H
#define AT_MULTIPART_H

#include <stddef.h>

#include "core/arena.h"
#include "core/rc.h"

#define MULTIPART_MAX_BOUNDARY 70	/* RFC 2046 */
#define MULTIPART_MAX_HEADER 8192	/* one part's header block, CRLFs included */
#define MULTIPART_MAX_PARTS 256
#define MULTIPART_MAX_PADDING 64	/* blanks allowed after a boundary */

/* One part's headers. Strings are borrowed: valid during the part callback only. */
struct multipart_part {
	const char *name;		/* Content-Disposition name (never NULL, may be "") */
	const char *filename;		/* NULL when absent (a plain field) */
	const char *content_type;	/* as sent (untrusted); "text/plain" when absent */
};

/*
 * Callbacks (each may be NULL). Each returns AT_OK to go on; any other value stops the
 * parser, and multipart_feed returns it with the message the callback put in err.
 * data may be called many times per part, with n > 0; end once per completed part.
 */
struct multipart_cb {
	enum at_rc (*part)(void *ud, const struct multipart_part *p, struct at_err *err);
	enum at_rc (*data)(void *ud, const char *p, size_t n, struct at_err *err);
	enum at_rc (*end)(void *ud, struct at_err *err);
	void *ud;
};

struct multipart;

/*
 * Take the boundary out of a Content-Type value ("multipart/form-data; boundary=x", the
 * boundary quoted or not, 1..70 characters of RFC 2046's bchars). Returns AT_OK and
 * copies it NUL-terminated into out (size > MULTIPART_MAX_BOUNDARY); AT_BADREQ (err says
 * why) for another media type or a missing or malformed boundary.
 */
enum at_rc multipart_boundary(const char *content_type, char *out, size_t size,
			      struct at_err *err);

/*
 * A parser for a body of Content-Type content_type, allocated from a (nothing to free).
 * The callbacks in cb are copied. AT_BADREQ as multipart_boundary.
 */
enum at_rc multipart_new(struct arena *a, const char *content_type,
			 const struct multipart_cb *cb, struct multipart **out,
			 struct at_err *err);

/*
 * Parse the next n bytes of the body. Returns AT_OK; AT_BADREQ for malformed input (err
 * names it: a header line too long, a part without a name, a bad header...); AT_TOOBIG
 * past MULTIPART_MAX_PARTS; or the value a callback returned. After a failure every
 * later call returns the same value. Bytes after the closing boundary are ignored.
 */
enum at_rc multipart_feed(struct multipart *m, const char *p, size_t n, struct at_err *err);

/* The body has ended. AT_OK if the closing boundary was seen; else AT_BADREQ
 * ("missing final boundary") or the earlier failure. */
enum at_rc multipart_finish(struct multipart *m, struct at_err *err);

#endif
