/* httpc.h: the only libcurl user. HTTPS only (http:// only when allow_http), TLS verified,
 * connect and total timeouts, capped replies. */
#ifndef AT_HTTPC_H
#define AT_HTTPC_H

#include <stdint.h>

#include "core/arena.h"
#include "core/rc.h"

struct httpc_opts {
	int64_t connect_ms, total_ms;
	size_t max_reply;
	int allow_http;
};

struct httpc_resp {
	long status;
	char *body;		/* NUL-terminated, from the arena */
	size_t body_len;
	char *content_type;	/* from the arena, or NULL */
	int64_t max_age;	/* Cache-Control max-age, -1 when absent; 0 for no-store/no-cache */
	int64_t retry_after;	/* seconds, -1 when absent */
	char *link_next;	/* the URL of Link: <...>; rel="next" (RFC 8288), or NULL */
	char *location;		/* the Location header (redirects are not followed), or NULL */
};

/* The target of the link with relation rel (e.g. "next") in a Link header value, from a;
 * NULL when there is none. */
char *httpc_link_rel(struct arena *a, const char *value, const char *rel);

/* One request. method "GET" or "POST"; body may be NULL. headers: NULL-terminated array
 * of "Name: value" lines. Returns AT_OK for any HTTP status (check resp->status);
 * AT_BADREQ for a refused URL, AT_TIMEOUT, AT_TOOBIG (reply over max_reply), AT_UPSTREAM
 * for other transport errors (err says which; never a header value). */
enum at_rc httpc_request(struct arena *a, const struct httpc_opts *o, const char *method,
			 const char *url, const char *const *headers, const char *body,
			 size_t body_len, struct httpc_resp *resp, struct at_err *err);

/* Process-wide init/cleanup (curl_global_*). */
void httpc_global_init(void);
void httpc_global_cleanup(void);

#endif
