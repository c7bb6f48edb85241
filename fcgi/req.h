/* req.h: one HTTP request and its response, independent of FastCGI (tests drive it as CGI). */
#ifndef AT_REQ_H
#define AT_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/rc.h"

struct kv {
	const char *key;
	const char *val;	/* NUL-terminated; may contain no NUL (rejected at parse) */
	size_t val_len;
};

struct session;

/* How the front end hands a request over: the CGI/FastCGI environment and the body. */
struct req_io {
	const char *(*env)(void *ud, const char *name);
	/* read up to n body bytes; returns bytes read, 0 at end, -1 on error */
	long (*read)(void *ud, char *p, size_t n);
	/* write n bytes of the response (headers and body); returns 0 or -1 */
	int (*write)(void *ud, const char *p, size_t n);
	void *ud;
};

struct req {
	struct arena *arena;
	const struct req_io *io;
	char rid[40];
	const char *method;
	const char *path;
	const char *query;
	const char *content_type;
	const char *remote_addr;
	const char *user_agent;
	int64_t content_length;
	struct kv *params;	/* query string, then url-encoded form body */
	size_t nparams;
	struct kv *cookies;
	size_t ncookies;
	char *body;		/* raw body (NUL-terminated), NULL when none */
	size_t body_len;
	bool stream;		/* the body is left unread: the handler pulls it, req_read */
	int64_t body_left;	/* bytes of a streamed body not yet read */
	const char *pathvar;	/* the {id} segment of the matched route, if any */

	/* response */
	int status;
	struct buf headers;	/* "Name: value\r\n" lines */
	struct buf out;		/* body */
	bool is_html;
	bool sent;
	/* A file body (evidence downloads): http_send copies send_fd in chunks after the
	 * headers instead of r->out, and closes it. Set with http_send_file(). */
	bool has_send_fd;
	int send_fd;
	int64_t send_size;
	struct session *sess;
	int64_t started_us;
};

/* Parse method, path, query, cookies and (for POST forms) the body. Limits: max_body.
 * Returns AT_OK, or AT_BADREQ / AT_TOOBIG with err filled (the caller answers 4xx).
 * The body of a POST or PUT to a streaming route (R_STREAM, router_streams) is not read:
 * see req_parse_ex, with max_upload from the configuration. */
enum at_rc req_parse(struct req *r, size_t max_body, struct at_err *err);

/*
 * req_parse, with the streaming decision and limit explicit. When streams(method, path)
 * is true for a POST or PUT, the body is left for req_read: Content-Length is required
 * (AT_BADREQ without it) and may be up to max_upload bytes (AT_TOOBIG above); r->stream
 * is set and r->body stays NULL. streams may be NULL (nothing streams).
 */
enum at_rc req_parse_ex(struct req *r, size_t max_body, uint64_t max_upload,
			bool (*streams)(const char *method, const char *path),
			struct at_err *err);

/*
 * Pull up to n bytes of a streamed body into p. Returns the bytes read (> 0), 0 at the
 * end of the body (Content-Length reached), -1 when the client sent less than it
 * announced or the connection failed. Never reads past Content-Length. On a request that
 * does not stream, returns 0.
 */
long req_read(struct req *r, char *p, size_t n);

/* The {id} path segment as a positive integer (at most 18 digits), 0 when it is not one. */
int64_t req_path_id(const struct req *r);

/* First parameter named key (query or form), NULL if absent. Borrowed from r. */
const char *req_param(struct req *r, const char *key);
const char *req_cookie(struct req *r, const char *name);
const char *req_env(struct req *r, const char *name);

/* True when the request body is of this media type (parameters such as charset ignored). */
bool req_content_type_is(struct req *r, const char *type);
/* Parse a JSON body (Content-Type application/json): an object, nesting at most 32 deep.
 * *out is freed with r's arena. AT_BADREQ (err says where) for malformed JSON or another
 * root type; AT_NOTFOUND when there is no JSON body. */
struct json_object;
enum at_rc req_json(struct req *r, struct json_object **out, struct at_err *err);

/* Typed, range-checked parameter (no atoi). AT_BADREQ if absent or out of range. */
enum at_rc req_param_i64(struct req *r, const char *key, int64_t min, int64_t max,
			 int64_t *out);

/* Percent-decode s[0..len) into a ('+' is a space when form is true).
 * AT_BADREQ on bad escapes or an encoded NUL. */
enum at_rc req_urldecode(struct arena *a, const char *s, size_t len, bool form, char **out,
			 size_t *out_len);
/* Parse "a=b&c=d" into kv pairs appended to *kv (arena). */
enum at_rc req_parse_query(struct arena *a, const char *s, size_t len, struct kv **kv,
			   size_t *n);
/* Parse a Cookie header. Malformed pairs are skipped (browsers send junk). */
void req_parse_cookies(struct arena *a, const char *s, struct kv **kv, size_t *n);

#endif
