/* rc.c: result codes and their names. */
#include <stdarg.h>

#include "core/rc.h"

const char *at_strerror(enum at_rc rc)
{
	switch (rc) {
	case AT_OK: return "ok";
	case AT_BADREQ: return "bad request";
	case AT_NOTFOUND: return "not found";
	case AT_FORBIDDEN: return "forbidden";
	case AT_UNAUTH: return "unauthorized";
	case AT_CONFLICT: return "conflict";
	case AT_TOOBIG: return "too big";
	case AT_DB: return "database error";
	case AT_UPSTREAM: return "upstream error";
	case AT_TIMEOUT: return "timeout";
	case AT_INTERNAL: return "internal error";
	}
	return "unknown error";
}

enum at_rc at_fail(struct at_err *err, enum at_rc rc, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void at_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "attest: assertion failed: %s (%s:%d)\n", what, file, line);
	abort();
}
