/* api.h: helpers shared by the JSON API handlers (/api/v1/...): bodies, typed fields with
 * the field named in every error, JSON answers, and the authorization questions. */
#ifndef AT_API_H
#define AT_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcgi/req.h"

/* Answer {"error": code, "field": field|null, "message": msg, "request_id": ...}. */
void api_error(struct req *r, int status, const char *code, const char *field, const char *msg);
/* Map rc to a status and answer api_error; msg is shown as is (plain text, no secrets). */
void api_fail(struct req *r, enum at_rc rc, const char *field, const char *msg);
/* Answer o (not consumed) with status. */
void api_ok(struct req *r, int status, struct json_object *o);

/* The request's JSON object, or NULL after answering 400/415. */
struct json_object *api_body(struct req *r);

/* Typed fields of a JSON object. Each returns false after answering 400 naming the field
 * (required and absent, wrong type, out of range). Optional fields leave *out as is. */
bool api_str(struct req *r, struct json_object *o, const char *field, bool required,
	     size_t max_len, const char **out);
bool api_i64(struct req *r, struct json_object *o, const char *field, bool required,
	     int64_t min, int64_t max, int64_t *out);
bool api_bool(struct req *r, struct json_object *o, const char *field, bool required,
	      bool *out);

/* The {id} path segment as a positive integer; false after answering 404. */
bool api_path_id(struct req *r, int64_t *id);

/* The current time in seconds since the epoch. */
int64_t api_now(void);
/* Hundredths as a JSON number: 8500 -> 85, 8550 -> 85.5 (caller owns the object). */
struct json_object *api_hundredths(int64_t v);
/* v as a JSON integer, or NULL (JSON null) when v is 0 (an unset id or time). */
struct json_object *api_i64_or_null(int64_t v);

/* May the session's user see learner_id's records? Learners: only themselves. Assessors and
 * admins: learners who are members of a course where the caller holds an assessor or admin
 * role (an admin launching from another course sees nothing of this one). */
bool api_may_see_learner(struct req *r, int64_t learner_id);

#endif
