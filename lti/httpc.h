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
	char *link_next;	/* Link: <...>; rel="next", from the arena, or NULL */
	char *link_differences;	/* Link: <...>; rel="differences" (NRPS), or NULL */
	char *location;		/* Location (redirects are not followed), or NULL */
};

/* One request. method "GET" or "POST"; body may be NULL. headers: NULL-terminated array
 * of "Name: value" lines. Returns AT_OK for any HTTP status (check resp->status);
 * AT_BADREQ for a refused URL, AT_TIMEOUT, AT_TOOBIG (reply over max_reply), AT_UPSTREAM
 * for other transport errors (err says which; never a header value). */
enum at_rc httpc_request(struct arena *a, const struct httpc_opts *o, const char *method,
			 const char *url, const char *const *headers, const char *body,
			 size_t body_len, struct httpc_resp *resp, struct at_err *err);

/* One request of a batch: filled by the caller, answered by httpc_pool_run. */
struct httpc_call {
	const char *method, *url;
	const char *const *headers;
	const char *body;
	size_t body_len;
	enum at_rc rc;		/* as httpc_request */
	struct httpc_resp resp;
	struct at_err err;
};

/* A curl multi handle kept across batches: its connection cache keeps connections to an
 * LMS alive between batches (keep-alive), at most max_per_host at once per host. */
struct httpc_pool;
struct httpc_pool *httpc_pool_new(long max_per_host);	/* caller owns: httpc_pool_free */
void httpc_pool_free(struct httpc_pool *p);		/* NULL-safe */

/* Send every call at once and wait for all of them (each bounded by o's timeouts); replies
 * and strings come from a. Each call's rc says how it went. */
void httpc_pool_run(struct httpc_pool *p, struct arena *a, const struct httpc_opts *o,
		    struct httpc_call *calls, size_t n);

/* Process-wide init/cleanup (curl_global_*). */
void httpc_global_init(void);
void httpc_global_cleanup(void);

#endif
