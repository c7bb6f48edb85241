/* api.c: JSON API plumbing. Every error names the field; nothing here writes data. */
#include <string.h>
#include <time.h>

#include "core/db.h"
#include "core/identity.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/session.h"

void api_ok(struct req *r, int status, struct json_object *o)
{
	http_json(r, status, o);
}

void api_error(struct req *r, int status, const char *code, const char *field, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "field", field ? json_object_new_string(field) : NULL);
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "request_id", json_object_new_string(r->rid));
	buf_reset(&r->headers);
	http_json(r, status, o);
	json_object_put(o);
}

void api_fail(struct req *r, enum at_rc rc, const char *field, const char *msg)
{
	static const char *codes[] = {
		[AT_OK] = "ok", [AT_BADREQ] = "bad_request", [AT_NOTFOUND] = "not_found",
		[AT_FORBIDDEN] = "forbidden", [AT_UNAUTH] = "unauthorized",
		[AT_CONFLICT] = "conflict", [AT_TOOBIG] = "too_big", [AT_DB] = "internal",
		[AT_UPSTREAM] = "upstream", [AT_TIMEOUT] = "busy", [AT_INTERNAL] = "internal",
	};
	int status = http_status_of(rc);

	if (status >= 500)
		msg = "Attest could not complete this request; try again.";
	api_error(r, status, (size_t)rc < NELEM(codes) && codes[rc] ? codes[rc] : "internal",
		  field, msg);
}

struct json_object *api_body(struct req *r)
{
	struct json_object *o = NULL;
	struct at_err err = { "" };
	enum at_rc rc = req_json(r, &o, &err);

	if (rc == AT_NOTFOUND) {
		api_error(r, 415, "unsupported_media_type", NULL,
			  "send a JSON object with Content-Type: application/json");
		return NULL;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg);
		return NULL;
	}
	return o;
}

static bool field_get(struct req *r, struct json_object *o, const char *field, bool required,
		      struct json_object **v)
{
	if (!json_object_object_get_ex(o, field, v) || *v == NULL) {
		*v = NULL;
		if (required)
			api_error(r, 400, "bad_request", field, "this field is required");
		return !required;
	}
	return true;
}

bool api_str(struct req *r, struct json_object *o, const char *field, bool required,
	     size_t max_len, const char **out)
{
	struct json_object *v;

	if (!field_get(r, o, field, required, &v))
		return false;
	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		api_error(r, 400, "bad_request", field, "must be a string");
		return false;
	}
	if ((size_t)json_object_get_string_len(v) > max_len ||
	    memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v))) {
		api_error(r, 400, "bad_request", field,
			  arena_printf(r->arena, "must be at most %zu bytes of text", max_len));
		return false;
	}
	*out = arena_strdup(r->arena, json_object_get_string(v));
	return true;
}

bool api_i64(struct req *r, struct json_object *o, const char *field, bool required,
	     int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v;
	int64_t n;

	if (!field_get(r, o, field, required, &v))
		return false;
	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_int)) {
		api_error(r, 400, "bad_request", field, "must be an integer");
		return false;
	}
	n = json_object_get_int64(v);
	if (n < min || n > max) {
		api_error(r, 400, "bad_request", field,
			  arena_printf(r->arena, "must be between %lld and %lld", (long long)min,
				       (long long)max));
		return false;
	}
	*out = n;
	return true;
}

bool api_bool(struct req *r, struct json_object *o, const char *field, bool required,
	      bool *out)
{
	struct json_object *v;

	if (!field_get(r, o, field, required, &v))
		return false;
	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		api_error(r, 400, "bad_request", field, "must be true or false");
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* An assessor (or course admin) of the caller's and a member course of the learner. */
static const char SQL_SHARED_COURSE[] =
	"SELECT 1 FROM membership me JOIN membership them ON them.context_id = me.context_id"
	" WHERE me.user_id = ?1 AND (me.role & ?3) <> 0 AND them.user_id = ?2 LIMIT 1";

static bool exists(const char *sql, int64_t a, int64_t b, int64_t c)
{
	struct db_stmt *st = NULL;
	bool row = false;

	if (db_prepare(g_app.db, sql, &st) != AT_OK)
		return false;
	db_bind_i64(st, 1, a);
	db_bind_i64(st, 2, b);
	if (c >= 0)
		db_bind_i64(st, 3, c);
	if (db_step(st, &row) != AT_OK)
		row = false;
	db_finalize(st);
	return row;
}

bool api_may_see_learner(struct req *r, int64_t learner_id)
{
	int64_t me;

	if (r->sess == NULL)
		return false;
	me = r->sess->s.user_id;
	if (me == learner_id)
		return true;
	return exists(SQL_SHARED_COURSE, me, learner_id, ROLE_ASSESSOR | ROLE_ADMIN);
}

bool api_path_id(struct req *r, int64_t *id)
{
	*id = req_path_id(r);
	if (*id > 0)
		return true;
	api_error(r, 404, "not_found", NULL, "no such record");
	return false;
}

int64_t api_now(void)
{
	return (int64_t)time(NULL);
}

struct json_object *api_hundredths(int64_t v)
{
	if (v % 100 == 0)
		return json_object_new_int64(v / 100);
	return json_object_new_double((double)v / 100.0);
}

struct json_object *api_i64_or_null(int64_t v)
{
	return v != 0 ? json_object_new_int64(v) : NULL;
}
