/* rc.h: the one result enum of Attest. 0 is success, as in curl and SQLite. */
#ifndef AT_RC_H
#define AT_RC_H

#include <stdio.h>
#include <stdlib.h>

enum at_rc {
	AT_OK = 0,
	AT_BADREQ,	/* the caller sent something invalid */
	AT_NOTFOUND,
	AT_FORBIDDEN,
	AT_UNAUTH,	/* no or bad credentials (401) */
	AT_CONFLICT,	/* unique constraint, replay, stale state */
	AT_TOOBIG,
	AT_DB,
	AT_UPSTREAM,	/* an LMS or platform answered badly */
	AT_TIMEOUT,
	AT_INTERNAL,
};

/* Optional human detail for a failure: plain text, never HTML, never a secret. */
struct at_err {
	char msg[256];
};

const char *at_strerror(enum at_rc rc);

/* Fill err (if not NULL) with a printf-style message; returns rc for chaining. */
enum at_rc at_fail(struct at_err *err, enum at_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Invariant checks: abort with file:line (Redis serverAssert). */
#define AT_ASSERT(x) \
	((x) ? (void)0 : at_assert_fail(#x, __FILE__, __LINE__))
void at_assert_fail(const char *what, const char *file, int line)
	__attribute__((noreturn));

#endif
