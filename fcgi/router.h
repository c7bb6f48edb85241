/* router.h: the one route table; flags are enforced before a handler runs. */
#ifndef AT_ROUTER_H
#define AT_ROUTER_H

#include "fcgi/req.h"

enum {
	R_SESSION = 1 << 0,	/* a live launch session (s= parameter or Bearer header) */
	R_CSRF = 1 << 1,	/* POST must carry the session's csrf token */
	R_LEARNER = 1 << 2,	/* any of the role flags below admits the request */
	R_ASSESSOR = 1 << 3,
	R_ADMIN = 1 << 4,
	R_JSON = 1 << 5,	/* POST bodies are application/json (else url-encoded forms) */
	/* The body is not read before the handler: it pulls it with req_read (uploads up
	 * to max_upload). POST bodies must be multipart/form-data; the CSRF token comes
	 * from the query string or an X-CSRF-Token header, since the form is not parsed. */
	R_STREAM = 1 << 6,
};

/* Dispatch r to its handler (after checks). The response is left in r. */
void router_dispatch(struct req *r);

/* True when the route for method and path has R_STREAM (req_parse asks, to leave its
 * body unread). */
bool router_streams(const char *method, const char *path);

#endif
