/* lms_util.c: shared helpers of the LMS REST handlers. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonx.h"
#include "lti/lms_util.h"

static void buf_free_cb(void *ud)
{
	buf_cleanup(ud);
}

struct buf *lms_util_buf(struct arena *a)
{
	struct buf *b = arena_zalloc(a, sizeof(*b));

	buf_init(b, LMS_UTIL_MAX_BODY);
	arena_on_free(a, buf_free_cb, b);
	return b;
}

static void enc_into(struct buf *b, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char e[3];

		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_append(b, p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		buf_append(b, e, 3);
	}
}

void lms_util_form(struct buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		buf_append(b, "&", 1);
	enc_into(b, name);
	buf_append(b, "=", 1);
	enc_into(b, value ? value : "");
}

void lms_util_formf(struct buf *b, const char *name, const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	lms_util_form(b, name, v);
}

char *lms_util_enc(struct arena *a, const char *value)
{
	struct buf *b = lms_util_buf(a);

	enc_into(b, value ? value : "");
	return arena_strdup(a, buf_cstr(b));
}

void lms_util_fail(struct lms_result *res, enum lms_verdict v, const char *fmt, ...)
{
	va_list ap;

	res->verdict = v;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	for (char *p = res->error; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

void lms_util_transport(struct lms_result *res, const char *what, enum at_rc rc,
			const struct at_err *err)
{
	res->http_status = 0;
	lms_util_fail(res, LMS_RETRY, "%s: %s: %s", what, at_strerror(rc),
		      err && err->msg[0] ? err->msg : "-");
}

void lms_util_status(struct lms_result *res, const struct httpc_resp *resp)
{
	res->http_status = resp->status;
	res->retry_after_ms = resp->retry_after >= 0 ? resp->retry_after * 1000 : -1;
}

int lms_util_http_failed(struct lms_result *res, const char *what, const struct httpc_resp *resp,
			 const char *detail)
{
	long s = resp->status;
	int transient = s == 408 || s == 425 || s == 429 || s >= 500;

	lms_util_status(res, resp);
	if (s >= 200 && s < 300)
		return 0;
	lms_util_fail(res, transient ? LMS_RETRY : LMS_PARK, "%s: HTTP %ld%s%s; body: %.600s",
		      what, s, detail && *detail ? ": " : "", detail ? detail : "",
		      resp->body ? resp->body : "");
	return 1;
}

static void put_cb(void *o)
{
	json_object_put(o);
}

struct json_object *lms_util_json(struct arena *a, const char *text, size_t len)
{
	size_t b = 0, e = len;
	struct json_object *o = NULL;

	if (text == NULL || len == 0)
		return NULL;
	/* bare literals (Moodle answers true, false or null for some functions), which the
	 * tokener cannot finish without a terminator */
	while (b < e && (text[b] == ' ' || text[b] == '\n' || text[b] == '\r' || text[b] == '\t'))
		b++;
	while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n' || text[e - 1] == '\r' ||
			 text[e - 1] == '\t'))
		e--;
	if (e - b == 4 && strncmp(text + b, "true", 4) == 0)
		o = json_object_new_boolean(1);
	else if (e - b == 5 && strncmp(text + b, "false", 5) == 0)
		o = json_object_new_boolean(0);
	else if (e - b == 4 && strncmp(text + b, "null", 4) == 0)
		o = json_object_new_string("");	/* json-c has no null object */
	if (o != NULL) {
		arena_on_free(a, put_cb, o);
		return o;
	}
	return jsonx_parse(a, text, len, 64, NULL);
}

const char *lms_util_str(struct arena *a, struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return "";
	if (json_object_is_type(v, json_type_string))
		return arena_strdup(a, json_object_get_string(v));
	if (json_object_is_type(v, json_type_int))
		return arena_printf(a, "%lld", (long long)json_object_get_int64(v));
	return "";
}

int64_t lms_util_i64(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	if (json_object_is_type(v, json_type_string) && lms_util_digits(json_object_get_string(v)))
		return strtoll(json_object_get_string(v), NULL, 10);
	return def;
}

int lms_util_digits(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int lms_util_same_site(const char *base, const char *url)
{
	size_t n = strlen(base);

	return n > 0 && strncmp(base, url, n) == 0 &&
	       (url[n] == '/' || url[n] == '?' || url[n] == '\0');
}

static enum at_rc one_row(struct db *db, const char *sql, int64_t a1, int64_t a2, int nparams,
			  int ncols, struct arena *a, const char **out)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, a1);
	if (nparams > 1)
		db_bind_i64(st, 2, a2);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	for (int i = 0; rc == AT_OK && i < ncols; i++)
		out[i] = arena_strdup(a, db_col_text(st, i) ? db_col_text(st, i) : "");
out:
	db_finalize(st);
	return rc;
}

enum at_rc lms_util_context(struct db *db, struct arena *a, int64_t platform_id,
			    int64_t context_id, const char **course_id, const char **lti_context)
{
	const char *v[2] = { "", "" };
	enum at_rc rc = one_row(db, "SELECT lms_course_id, context_id FROM context"
				" WHERE id = ?1 AND platform_id = ?2", context_id, platform_id, 2,
				2, a, v);

	*course_id = v[0];
	*lti_context = v[1];
	return rc;
}

enum at_rc lms_util_user(struct db *db, struct arena *a, int64_t platform_id, int64_t user_id,
			 const char **lms_user_id, const char **sub)
{
	const char *v[2] = { "", "" };
	enum at_rc rc = one_row(db, "SELECT lms_user_id, sub FROM app_user"
				" WHERE id = ?1 AND platform_id = ?2", user_id, platform_id, 2, 2, a, v);

	*lms_user_id = v[0];
	*sub = v[1];
	return rc;
}

enum at_rc lms_util_assignment(struct db *db, struct arena *a, int64_t placement_id,
			       int64_t *context_id, const char **assignment_id)
{
	const char *v[2] = { "", "" };
	enum at_rc rc = one_row(db, "SELECT p.context_id, COALESCE(r.lms_assignment_id, '')"
				" FROM placement p LEFT JOIN resource_link r"
				" ON r.context_id = p.context_id AND r.link_id = p.link_id"
				" WHERE p.id = ?1", placement_id, 0, 1, 2, a, v);

	*context_id = rc == AT_OK ? strtoll(v[0], NULL, 10) : 0;
	*assignment_id = v[1];
	return rc;
}

int lms_util_configured(struct lms_ctx *c, struct lms_result *res, const char *service,
			const char *url_hint)
{
	if (c->p->lms_url == NULL || c->p->lms_url[0] == '\0' || c->p->lms_token == NULL ||
	    c->p->lms_token[0] == '\0') {
		lms_util_fail(res, LMS_PARK, "%s not configured for platform %lld: attest platform"
			      " set %lld lms_url=%s lms_token=TOKEN", service, (long long)c->p->id,
			      (long long)c->p->id, url_hint);
		return 0;
	}
	return 1;
}

struct json_object *lms_util_payload(struct lms_ctx *c, const struct outbox_item *it,
				     struct lms_result *res)
{
	struct json_object *j = lms_util_json(c->a, it->payload, strlen(it->payload));

	if (j == NULL || !json_object_is_type(j, json_type_object))
		lms_util_fail(res, LMS_PARK, "%s item %lld: payload is not a JSON object", it->kind,
			      (long long)it->id);
	return j;
}

enum at_rc lms_util_course(struct lms_ctx *c, int64_t context_id, const char **course_id,
			   const char **lti_context, struct lms_result *res)
{
	if (lms_util_context(c->db, c->a, c->p->id, context_id, course_id, lti_context) != AT_OK) {
		lms_util_fail(res, LMS_PARK, "context %lld is not a course of platform %lld",
			      (long long)context_id, (long long)c->p->id);
		return AT_NOTFOUND;
	}
	return AT_OK;
}

void lms_util_no_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			const struct httpc_resp *resp, struct lms_result *res)
{
	(void)c;
	(void)it;
	(void)rc;
	(void)resp;
	(void)res;
}
