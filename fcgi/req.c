/* req.c: request parsing — query strings, forms, cookies, bodies — with hard limits. */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>
#include <strings.h>

#include "fcgi/app.h"
#include "core/jsonx.h"
#include "fcgi/req.h"
#include "fcgi/router.h"

#define MAX_PARAMS 256

const char *req_env(struct req *r, const char *name)
{
	return r->io->env(r->io->ud, name);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

enum at_rc req_urldecode(struct arena *a, const char *s, size_t len, bool form, char **out,
			 size_t *out_len)
{
	char *o = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return AT_BADREQ;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return AT_BADREQ;
			o[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && form) {
			o[n++] = ' ';
		} else if (c == '\0') {
			return AT_BADREQ;
		} else {
			o[n++] = c;
		}
	}
	o[n] = '\0';
	*out = o;
	if (out_len != NULL)
		*out_len = n;
	return AT_OK;
}

enum at_rc req_parse_query(struct arena *a, const char *s, size_t len, struct kv **kv,
			   size_t *n)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, eq = (size_t)-1;
		char *k, *v;
		size_t vlen;
		struct kv *nk;

		while (j < len && s[j] != '&') {
			if (s[j] == '=' && eq == (size_t)-1)
				eq = j;
			j++;
		}
		if (j > i) {
			size_t kend = eq == (size_t)-1 ? j : eq;

			if (*n >= MAX_PARAMS)
				return AT_TOOBIG;
			if (req_urldecode(a, s + i, kend - i, true, &k, NULL) != AT_OK)
				return AT_BADREQ;
			if (eq == (size_t)-1) {
				v = arena_strdup(a, "");
				vlen = 0;
			} else if (req_urldecode(a, s + eq + 1, j - eq - 1, true, &v, &vlen) !=
				   AT_OK) {
				return AT_BADREQ;
			}
			nk = arena_alloc(a, (*n + 1) * sizeof(*nk));
			if (*n > 0)
				memcpy(nk, *kv, *n * sizeof(*nk));
			nk[*n].key = k;
			nk[*n].val = v;
			nk[*n].val_len = vlen;
			*kv = nk;
			(*n)++;
		}
		i = j + 1;
	}
	return AT_OK;
}

void req_parse_cookies(struct arena *a, const char *s, struct kv **kv, size_t *n)
{
	while (s != NULL && *s) {
		const char *end = strchr(s, ';');
		const char *eq;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		struct kv *nk;

		while (len > 0 && *s == ' ') {
			s++;
			len--;
		}
		eq = memchr(s, '=', len);
		if (eq != NULL && eq > s && *n < MAX_PARAMS) {
			nk = arena_alloc(a, (*n + 1) * sizeof(*nk));
			if (*n > 0)
				memcpy(nk, *kv, *n * sizeof(*nk));
			nk[*n].key = arena_strndup(a, s, (size_t)(eq - s));
			nk[*n].val = arena_strndup(a, eq + 1, len - (size_t)(eq - s) - 1);
			nk[*n].val_len = len - (size_t)(eq - s) - 1;
			*kv = nk;
			(*n)++;
		}
		s = end ? end + 1 : NULL;
	}
}

static const char *env_or(struct req *r, const char *name, const char *def)
{
	const char *v = req_env(r, name);

	return v ? v : def;
}

static enum at_rc parse_length(const char *s, int64_t *out)
{
	int64_t n = 0;

	if (s == NULL || *s == '\0') {
		*out = -1;
		return AT_OK;
	}
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || n > (INT64_MAX - 9) / 10)
			return AT_BADREQ;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return AT_OK;
}

static enum at_rc read_body(struct req *r, size_t max_body, struct at_err *err)
{
	size_t want, got = 0;

	if (r->content_length <= 0)
		return AT_OK;
	if ((uint64_t)r->content_length > max_body)
		return at_fail(err, AT_TOOBIG, "request body of %lld bytes is over the limit of %zu",
			       (long long)r->content_length, max_body);
	want = (size_t)r->content_length;
	r->body = arena_alloc(r->arena, want + 1);
	while (got < want) {
		long n = r->io->read(r->io->ud, r->body + got, want - got);

		if (n <= 0)
			return at_fail(err, AT_BADREQ, "request body truncated (%zu of %zu bytes)",
				       got, want);
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return AT_OK;
}

static bool media_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return ct != NULL && strncasecmp(ct, type, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool is_form(const char *ct)
{
	return media_is(ct, "application/x-www-form-urlencoded");
}

bool req_content_type_is(struct req *r, const char *type)
{
	return media_is(r->content_type, type);
}

enum at_rc req_json(struct req *r, struct json_object **out, struct at_err *err)
{
	struct json_object *o;

	*out = NULL;
	if (r->body == NULL || !media_is(r->content_type, "application/json"))
		return at_fail(err, AT_NOTFOUND, "no JSON body");
	o = jsonx_parse(r->arena, r->body, r->body_len, 32, err);
	if (o == NULL)
		return r->body_len > INT32_MAX ? AT_TOOBIG : AT_BADREQ;
	if (!json_object_is_type(o, json_type_object))
		return at_fail(err, AT_BADREQ, "the JSON body must be an object");
	*out = o;
	return AT_OK;
}

/* Leave the body of a streaming route unread; only its announced length is checked. */
static enum at_rc start_stream(struct req *r, uint64_t max_upload, struct at_err *err)
{
	if (r->content_length < 0)
		return at_fail(err, AT_BADREQ, "an upload needs a Content-Length");
	if ((uint64_t)r->content_length > max_upload)
		return at_fail(err, AT_TOOBIG, "upload of %lld bytes is over the limit of %llu",
			       (long long)r->content_length, (unsigned long long)max_upload);
	r->stream = true;
	r->body_left = r->content_length;
	return AT_OK;
}

long req_read(struct req *r, char *p, size_t n)
{
	long got;

	if (!r->stream || r->body_left <= 0 || n == 0)
		return 0;
	if ((uint64_t)n > (uint64_t)r->body_left)
		n = (size_t)r->body_left;
	got = r->io->read(r->io->ud, p, n);
	if (got <= 0) {
		r->body_left = 0;	/* truncated: later calls see the end, this one fails */
		return -1;
	}
	if ((size_t)got > n)
		got = (long)n;	/* ALWAYS: the front end honours n */
	r->body_left -= got;
	return got;
}

enum at_rc req_parse(struct req *r, size_t max_body, struct at_err *err)
{
	return req_parse_ex(r, max_body, (uint64_t)g_app.cfg.max_upload, router_streams, err);
}

enum at_rc req_parse_ex(struct req *r, size_t max_body, uint64_t max_upload,
			bool (*streams)(const char *method, const char *path),
			struct at_err *err)
{
	const char *uri;
	enum at_rc rc;

	r->method = env_or(r, "REQUEST_METHOD", "GET");
	r->query = env_or(r, "QUERY_STRING", "");
	r->content_type = req_env(r, "CONTENT_TYPE");
	r->remote_addr = env_or(r, "REMOTE_ADDR", "-");
	r->user_agent = env_or(r, "HTTP_USER_AGENT", "");
	uri = req_env(r, "DOCUMENT_URI");
	if (uri == NULL)
		uri = req_env(r, "PATH_INFO");
	if (uri == NULL || *uri == '\0') {
		const char *ru = env_or(r, "REQUEST_URI", "/");
		const char *q = strchr(ru, '?');

		uri = q ? arena_strndup(r->arena, ru, (size_t)(q - ru)) : ru;
	}
	r->path = uri;
	if (parse_length(req_env(r, "CONTENT_LENGTH"), &r->content_length) != AT_OK)
		return at_fail(err, AT_BADREQ, "bad Content-Length");
	rc = req_parse_query(r->arena, r->query, strlen(r->query), &r->params, &r->nparams);
	if (rc != AT_OK)
		return at_fail(err, rc, "malformed query string");
	req_parse_cookies(r->arena, req_env(r, "HTTP_COOKIE"), &r->cookies, &r->ncookies);
	if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
		if (streams != NULL && streams(r->method, r->path))
			return start_stream(r, max_upload, err);
		rc = read_body(r, max_body, err);
		if (rc != AT_OK)
			return rc;
		if (is_form(r->content_type) && r->body != NULL) {
			if (memchr(r->body, '\0', r->body_len) != NULL)
				return at_fail(err, AT_BADREQ, "NUL byte in form body");
			rc = req_parse_query(r->arena, r->body, r->body_len, &r->params,
					     &r->nparams);
			if (rc != AT_OK)
				return at_fail(err, rc, "malformed form body");
		}
	}
	return AT_OK;
}

int64_t req_path_id(const struct req *r)
{
	const char *p = r->pathvar;
	int64_t n = 0;

	if (p == NULL || *p == '\0' || strlen(p) > 18)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (*p - '0');
	}
	return n;
}

const char *req_param(struct req *r, const char *key)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return r->params[i].val;
	return NULL;
}

const char *req_cookie(struct req *r, const char *name)
{
	for (size_t i = 0; i < r->ncookies; i++)
		if (strcmp(r->cookies[i].key, name) == 0)
			return r->cookies[i].val;
	return NULL;
}

enum at_rc req_param_i64(struct req *r, const char *key, int64_t min, int64_t max,
			 int64_t *out)
{
	const char *s = req_param(r, key);
	int64_t n = 0;
	bool neg = false;

	if (s == NULL || *s == '\0')
		return AT_BADREQ;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s == '\0')
		return AT_BADREQ;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || n > (INT64_MAX - 9) / 10)
			return AT_BADREQ;
		n = n * 10 + (*s - '0');
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		return AT_BADREQ;
	*out = n;
	return AT_OK;
}
