/* http.h: building responses. Only fcgi/ turns results into HTTP. */
#ifndef AT_HTTP_H
#define AT_HTTP_H

#include "fcgi/req.h"

/* Add a header; returns AT_BADREQ (and adds nothing) if name or value has CR/LF. */
enum at_rc http_header(struct req *r, const char *name, const char *value);
void http_status(struct req *r, int status);
/* Map rc to a status, log the detail with the request id, answer an escaped error page
 * (HTML) or JSON ({"error": ...}) for API paths. Returns rc. */
enum at_rc http_error(struct req *r, enum at_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with an explicit status and a user-facing message (plain text, escaped here). */
enum at_rc http_error_page(struct req *r, int status, const char *title, const char *msg);
int http_status_of(enum at_rc rc);
void http_redirect(struct req *r, int status, const char *url);
/* Answer a JSON document (json-c object, not consumed). */
struct json_object;
void http_json(struct req *r, int status, struct json_object *o);
/* Append a Set-Cookie header (name/value checked: token characters only). */
enum at_rc http_cookie(struct req *r, const char *name, const char *value, const char *path,
		       int max_age);
/* Answer with the open file fd (size bytes) as the body, streamed at send time: no size
 * limit, nothing held in memory. Takes ownership of fd. */
void http_send_file(struct req *r, int fd, int64_t size);
/* Write status line, headers and body through r->io (once). */
void http_send(struct req *r);
/* Security headers for HTML pages (CSP with frame-ancestors, nosniff, referrer). */
void http_html_headers(struct req *r);

#endif
