/* api_feedback.c: POST /api/v1/feedback-links — an assessor makes a one-time link to a
 * program's third-party feedback form (the public side is page_feedback.c). */
#include <json-c/json.h>
#include <string.h>

#include "core/enrolment.h"
#include "core/feedback.h"
#include "core/program.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

void api_feedback_link_create(struct req *r)
{
	struct json_object *b = api_body(r), *o;
	struct enrolment e;
	struct program *p = NULL;
	struct at_err err = { "" };
	const char *form = NULL;
	char *token = NULL;
	int64_t enrolment_id = 0, ttl_days = 0, link_id = 0, now = api_now();
	int64_t me = r->sess->s.user_id;
	enum at_rc rc;

	if (b == NULL ||
	    !api_i64(r, b, "enrolment_id", true, 1, INT64_MAX, &enrolment_id) ||
	    !api_str(r, b, "form", true, 64, &form) ||
	    !api_i64(r, b, "ttl_days", false, 1, FEEDBACK_TTL_MAX / 86400, &ttl_days))
		return;
	if (enrolment_get(g_app.db, r->arena, enrolment_id, &e) != AT_OK ||
	    !api_may_see_learner(r, e.user_id)) {
		api_error(r, 404, "not_found", "enrolment_id", "no such enrolment");
		return;
	}
	if (me == e.user_id || !enrolment_may_manage(g_app.db, &e, me)) {
		api_error(r, 403, "forbidden", "enrolment_id",
			  "only an assessor of the learner's course may ask for feedback");
		return;
	}
	rc = program_load(g_app.db, r->arena, NULL, e.program_id, &p);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "the enrolment's program could not be loaded");
		return;
	}
	if (program_form(p, form) == NULL) {
		api_error(r, 400, "bad_request", "form",
			  "the enrolment's program has no feedback form with this key");
		return;
	}
	if (ttl_days == 0)
		ttl_days = feedback_form_ttl_days(p, form);
	rc = feedback_link_create(g_app.db, r->arena, enrolment_id, form, me, ttl_days * 86400,
				  now, &token, &link_id, &err);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(link_id));
	json_object_object_add(o, "enrolment_id", json_object_new_int64(enrolment_id));
	json_object_object_add(o, "form", json_object_new_string(form));
	json_object_object_add(o, "url", json_object_new_string(
		arena_printf(r->arena, "%s/feedback/%s", g_app.cfg.base_url, token)));
	json_object_object_add(o, "expires_at", json_object_new_int64(now + ttl_days * 86400));
	api_ok(r, 201, o);
	json_object_put(o);
}
