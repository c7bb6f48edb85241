/* api_me.c: GET /api/v1/me — who the session is: user, course, roles, csrf token. */
#include <json-c/json.h>

#include "core/identity.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

void api_me(struct req *r)
{
	struct user u;
	struct context c;
	struct json_object *o, *roles;
	enum at_rc rc = identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &u);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "the session's user is gone");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "user_id", json_object_new_int64(u.id));
	json_object_object_add(o, "name", json_object_new_string(u.name));
	json_object_object_add(o, "email", json_object_new_string(u.email));
	roles = json_object_new_array();
	if (r->sess->s.role & ROLE_LEARNER)
		json_object_array_add(roles, json_object_new_string("learner"));
	if (r->sess->s.role & ROLE_ASSESSOR)
		json_object_array_add(roles, json_object_new_string("assessor"));
	if (r->sess->s.role & ROLE_ADMIN)
		json_object_array_add(roles, json_object_new_string("admin"));
	json_object_object_add(o, "roles", roles);
	if (r->sess->s.context_id > 0 &&
	    identity_context_get(g_app.db, r->arena, r->sess->s.context_id, &c) == AT_OK) {
		struct json_object *co = json_object_new_object();

		json_object_object_add(co, "id", json_object_new_int64(c.id));
		json_object_object_add(co, "title", json_object_new_string(c.title));
		json_object_object_add(co, "label", json_object_new_string(c.label));
		json_object_object_add(o, "course", co);
	}
	json_object_object_add(o, "csrf", json_object_new_string(r->sess->s.csrf));
	api_ok(r, 200, o);
	json_object_put(o);
}
