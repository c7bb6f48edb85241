/* api_observation.c: /api/v1/observations — create, read, autosave, submit, amend and
 * compare observations. The rules live in core/observation.c; here: who may do what. */
#include <json-c/json.h>
#include <string.h>

#include "core/db.h"
#include "core/enrolment.h"
#include "core/identity.h"
#include "core/observation.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

#define MAX_ANSWERS 1000	/* entries of one autosave; checklists hold far fewer items */

static const char SQL_CHECKLIST_ID[] =
	"SELECT id FROM checklist WHERE program_id = ?1 AND key = ?2";
static const char SQL_CHECKLIST_KEY[] = "SELECT key FROM checklist WHERE id = ?1";

/* May the caller assess in e's course (an assessor or admin there, not its learner)? */
static bool may_manage(struct req *r, const struct enrolment *e)
{
	return r->sess->s.user_id != e->user_id &&
	       enrolment_may_manage(g_app.db, e, r->sess->s.user_id);
}

static enum at_rc checklist_id_of(int64_t program_id, const char *key, int64_t *id)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(g_app.db, SQL_CHECKLIST_ID, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, program_id);
	db_bind_str(st, 2, key);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		*id = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

static const char *checklist_key_of(struct req *r, int64_t id)
{
	struct db_stmt *st = NULL;
	bool row = false;
	const char *key = "";

	if (db_prepare(g_app.db, SQL_CHECKLIST_KEY, &st) != AT_OK)
		return key;
	db_bind_i64(st, 1, id);
	if (db_step(st, &row) == AT_OK && row)
		key = arena_strdup(r->arena, db_col_text(st, 0));
	db_finalize(st);
	return key != NULL ? key : "";
}

/* The text between the first pair of single quotes of msg ("item 'greeting' ..."), from
 * r's arena; fallback when there is none. Core messages name items and fields that way. */
static const char *quoted(struct req *r, const char *msg, const char *fallback)
{
	const char *a = strchr(msg, '\'');
	const char *b = a != NULL ? strchr(a + 1, '\'') : NULL;

	if (b == NULL || b == a + 1)
		return fallback;
	return arena_strndup(r->arena, a + 1, (size_t)(b - a - 1));
}

/*
 * Load observation id for the caller: its learner, its rater and the assessors of its
 * course see it; anyone else gets 404 as if it did not exist. Returns false after
 * answering. Fills *e with its enrolment when e is not NULL.
 */
static bool obs_visible(struct req *r, int64_t id, struct observation *o, struct enrolment *e)
{
	struct enrolment tmp;
	int64_t me = r->sess->s.user_id;
	enum at_rc rc = observation_get(g_app.db, r->arena, id, o);

	if (e == NULL)
		e = &tmp;
	if (rc == AT_OK)
		rc = enrolment_get(g_app.db, r->arena, o->enrolment_id, e);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "no such observation");
		return false;
	}
	if (o->learner_id == me || o->assessor_id == me || may_manage(r, e))
		return true;
	api_error(r, 404, "not_found", NULL, "no such observation");
	return false;
}

static struct json_object *obs_json(struct req *r, const struct observation *o)
{
	struct json_object *j = json_object_new_object();
	struct json_object *ans = json_object_new_array();
	struct json_object *fb = json_object_new_object();
	bool submitted = strcmp(o->status, "submitted") == 0;

	json_object_object_add(j, "id", json_object_new_int64(o->id));
	json_object_object_add(j, "enrolment_id", json_object_new_int64(o->enrolment_id));
	json_object_object_add(j, "learner_id", json_object_new_int64(o->learner_id));
	json_object_object_add(j, "program_id", json_object_new_int64(o->program_id));
	json_object_object_add(j, "checklist_id", json_object_new_int64(o->checklist_id));
	json_object_object_add(j, "checklist",
			       json_object_new_string(checklist_key_of(r, o->checklist_id)));
	json_object_object_add(j, "rater_id", json_object_new_int64(o->assessor_id));
	json_object_object_add(j, "rater_role", json_object_new_string(o->rater_role));
	json_object_object_add(j, "session_key", json_object_new_string(o->session_key));
	json_object_object_add(j, "client_key",
			       o->client_key ? json_object_new_string(o->client_key) : NULL);
	json_object_object_add(j, "status", json_object_new_string(o->status));
	json_object_object_add(j, "amends_id", api_i64_or_null(o->amends_id));
	json_object_object_add(j, "amend_reason", json_object_new_string(o->amend_reason));
	/* score and pass are only meaningful once submitted */
	json_object_object_add(j, "score", submitted ? json_object_new_int64(o->score) : NULL);
	json_object_object_add(j, "max_score",
			       submitted ? json_object_new_int64(o->max_score) : NULL);
	json_object_object_add(j, "passed", submitted ? json_object_new_boolean(o->passed) : NULL);
	json_object_object_add(j, "critical_missed",
			       submitted ? json_object_new_boolean(o->critical_missed) : NULL);
	json_object_object_add(j, "observed_at", json_object_new_int64(o->observed_at));
	json_object_object_add(j, "created_at", json_object_new_int64(o->created_at));
	json_object_object_add(j, "updated_at", json_object_new_int64(o->updated_at));
	json_object_object_add(j, "submitted_at", api_i64_or_null(o->submitted_at));
	for (size_t i = 0; i < o->nanswers; i++) {
		const struct obs_item_answer *x = &o->answers[i];
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, "item", json_object_new_string(x->key));
		json_object_object_add(a, "value",
				       x->has_value ? json_object_new_int64(x->value) : NULL);
		json_object_object_add(a, "text", json_object_new_string(x->text ? x->text : ""));
		json_object_array_add(ans, a);
	}
	json_object_object_add(j, "answers", ans);
	for (size_t i = 0; i < o->nfeedback; i++)
		json_object_object_add(fb, o->feedback[i].key,
				       json_object_new_string(o->feedback[i].text));
	json_object_object_add(j, "feedback", fb);
	return j;
}

/* Answer observation id (freshly loaded) with status. */
static void answer_obs(struct req *r, int64_t id, int status)
{
	struct observation o;
	struct json_object *j;
	enum at_rc rc = observation_get(g_app.db, r->arena, id, &o);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "no such observation");
		return;
	}
	j = obs_json(r, &o);
	api_ok(r, status, j);
	json_object_put(j);
}

static bool valid_role(const char *s)
{
	return strcmp(s, "assessor") == 0 || strcmp(s, "self") == 0 ||
	       strcmp(s, "second") == 0 || strcmp(s, "expert") == 0;
}

/* POST /api/v1/observations */
void api_observation_create(struct req *r)
{
	struct json_object *b = api_body(r), *o;
	struct obs_new n = { 0 };
	struct at_err err = { "" };
	struct enrolment e;
	const char *checklist = NULL, *role = "assessor";
	int64_t id = 0, me = r->sess->s.user_id, now = api_now();
	bool existed = false;
	enum at_rc rc;

	n.observed_at = now;
	if (b == NULL ||
	    !api_i64(r, b, "enrolment_id", true, 1, INT64_MAX, &n.enrolment_id) ||
	    !api_str(r, b, "checklist", true, 64, &checklist) ||
	    !api_str(r, b, "rater_role", false, 16, &role) ||
	    !api_str(r, b, "session_key", false, OBS_KEY_MAX, &n.session_key) ||
	    !api_str(r, b, "client_key", false, OBS_KEY_MAX, &n.client_key) ||
	    !api_i64(r, b, "observed_at", false, 0, INT64_MAX / 2, &n.observed_at))
		return;
	if (!valid_role(role)) {
		api_error(r, 400, "bad_request", "rater_role",
			  "must be assessor, self, second or expert");
		return;
	}
	if (enrolment_get(g_app.db, r->arena, n.enrolment_id, &e) != AT_OK ||
	    !api_may_see_learner(r, e.user_id)) {
		api_error(r, 404, "not_found", "enrolment_id", "no such enrolment");
		return;
	}
	if (strcmp(role, "self") == 0 ? e.user_id != me : !may_manage(r, &e)) {
		api_error(r, 403, "forbidden", "rater_role",
			  strcmp(role, "self") == 0 ?
			  "only the learner makes a self-evaluation" :
			  "only an assessor of the learner's course may observe");
		return;
	}
	if (checklist_id_of(e.program_id, checklist, &n.checklist_id) != AT_OK) {
		api_error(r, 400, "bad_request", "checklist",
			  "no checklist with this key in the enrolment's program");
		return;
	}
	n.assessor_id = me;
	n.rater_role = role;
	rc = observation_create(g_app.db, &n, now, &id, &existed, &err);
	if (rc != AT_OK) {
		api_fail(r, rc, rc == AT_CONFLICT ? "client_key" : NULL, err.msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "existed", json_object_new_boolean(existed));
	api_ok(r, existed ? 200 : 201, o);
	json_object_put(o);
}

/* GET /api/v1/observations/{id} */
void api_observation_get(struct req *r)
{
	struct observation o;
	struct json_object *j;
	int64_t id;

	if (!api_path_id(r, &id) || !obs_visible(r, id, &o, NULL))
		return;
	j = obs_json(r, &o);
	api_ok(r, 200, j);
	json_object_put(j);
}

/* Read answers[i]; false after answering 400 naming "answers[i].field". */
static bool read_answer(struct req *r, struct json_object *v, size_t i, struct obs_answer *a)
{
	struct json_object *f;

	if (!json_object_is_type(v, json_type_object)) {
		api_error(r, 400, "bad_request", arena_printf(r->arena, "answers[%zu]", i),
			  "must be an object {\"item\", \"value\", \"text\"}");
		return false;
	}
	if (!json_object_object_get_ex(v, "item", &f) || !json_object_is_type(f, json_type_string) ||
	    json_object_get_string_len(f) == 0 || json_object_get_string_len(f) > 200) {
		api_error(r, 400, "bad_request", arena_printf(r->arena, "answers[%zu].item", i),
			  "must be an item key");
		return false;
	}
	a->item_key = arena_strdup(r->arena, json_object_get_string(f));
	if (json_object_object_get_ex(v, "value", &f) && f != NULL) {
		if (!json_object_is_type(f, json_type_int)) {
			api_error(r, 400, "bad_request",
				  arena_printf(r->arena, "answers[%zu].value", i),
				  "must be an integer or null");
			return false;
		}
		a->has_value = true;
		a->value = json_object_get_int64(f);
	}
	if (json_object_object_get_ex(v, "text", &f) && f != NULL) {
		if (!json_object_is_type(f, json_type_string) ||
		    memchr(json_object_get_string(f), '\0', (size_t)json_object_get_string_len(f))) {
			api_error(r, 400, "bad_request",
				  arena_printf(r->arena, "answers[%zu].text", i), "must be text");
			return false;
		}
		a->text = arena_strdup(r->arena, json_object_get_string(f));
	}
	return true;
}

/* PUT /api/v1/observations/{id}: autosave a draft. */
void api_observation_save(struct req *r)
{
	struct json_object *b, *arr = NULL, *fbo = NULL;
	struct obs_answer *ans = NULL;
	struct obs_feedback *fb = NULL;
	struct observation o;
	struct at_err err = { "" };
	size_t nans = 0, nfb = 0;
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	b = api_body(r);
	if (b == NULL || !obs_visible(r, id, &o, NULL))
		return;
	if (o.assessor_id != r->sess->s.user_id) {
		api_error(r, 403, "forbidden", NULL, "only the rater may change an observation");
		return;
	}
	if (json_object_object_get_ex(b, "answers", &arr) && arr != NULL) {
		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > MAX_ANSWERS) {
			api_error(r, 400, "bad_request", "answers",
				  "must be a list of at most 1000 answers");
			return;
		}
		nans = json_object_array_length(arr);
		ans = arena_zalloc(r->arena, sizeof(*ans) * (nans ? nans : 1));
		for (size_t i = 0; i < nans; i++)
			if (!read_answer(r, json_object_array_get_idx(arr, i), i, &ans[i]))
				return;
	}
	if (json_object_object_get_ex(b, "feedback", &fbo) && fbo != NULL) {
		if (!json_object_is_type(fbo, json_type_object) ||
		    json_object_object_length(fbo) > MAX_ANSWERS) {
			api_error(r, 400, "bad_request", "feedback",
				  "must be an object of field key to text");
			return;
		}
		fb = arena_zalloc(r->arena, sizeof(*fb) * ((size_t)json_object_object_length(fbo) + 1));
		json_object_object_foreach(fbo, key, val) {
			if (!json_object_is_type(val, json_type_string) ||
			    memchr(json_object_get_string(val), '\0',
				   (size_t)json_object_get_string_len(val))) {
				api_error(r, 400, "bad_request",
					  arena_printf(r->arena, "feedback.%s", key), "must be text");
				return;
			}
			fb[nfb].key = arena_strdup(r->arena, key);
			fb[nfb].text = arena_strdup(r->arena, json_object_get_string(val));
			nfb++;
		}
	}
	rc = observation_save(g_app.db, id, r->sess->s.user_id, ans, nans, fb, nfb,
			      api_now(), &err);
	if (rc != AT_OK) {
		const char *field = strstr(err.msg, "feedback field") != NULL ? "feedback" :
				    "answers";

		api_fail(r, rc, rc == AT_BADREQ || rc == AT_TOOBIG ?
			 quoted(r, err.msg, field) : NULL, err.msg);
		return;
	}
	answer_obs(r, id, 200);
}

/* POST /api/v1/observations/{id}/submit [{"client_key"}]: with the draft's client key, a
 * resubmission of an observation already submitted answers it (200) instead of 409 — a
 * client whose reply was lost can safely send again. */
void api_observation_submit(struct req *r)
{
	struct observation o;
	struct json_object *b;
	struct at_err err = { "" };
	const char *ck = NULL;
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	if (r->body != NULL && r->body_len > 0) {
		b = api_body(r);
		if (b == NULL || !api_str(r, b, "client_key", false, OBS_KEY_MAX, &ck))
			return;
	}
	if (!obs_visible(r, id, &o, NULL))
		return;
	if (o.assessor_id != r->sess->s.user_id) {
		api_error(r, 403, "forbidden", NULL, "only the rater may submit an observation");
		return;
	}
	if (ck != NULL && *ck != '\0' && o.client_key != NULL &&
	    strcmp(o.client_key, ck) == 0 && strcmp(o.status, "submitted") == 0) {
		answer_obs(r, id, 200);
		return;
	}
	rc = observation_submit(g_app.db, id, r->sess->s.user_id, api_now(), &err);
	if (rc != AT_OK) {
		api_fail(r, rc, rc == AT_BADREQ ? quoted(r, err.msg, NULL) : NULL, err.msg);
		return;
	}
	answer_obs(r, id, 200);
}

/* POST /api/v1/observations/{id}/amend {"reason"} */
void api_observation_amend(struct req *r)
{
	struct json_object *b;
	struct observation o;
	struct at_err err = { "" };
	const char *reason = NULL;
	int64_t id, new_id = 0;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	b = api_body(r);
	if (b == NULL || !api_str(r, b, "reason", true, OBS_TEXT_MAX, &reason) ||
	    !obs_visible(r, id, &o, NULL))
		return;
	if (o.assessor_id != r->sess->s.user_id) {
		api_error(r, 403, "forbidden", NULL, "only the rater may amend an observation");
		return;
	}
	if (strcmp(o.status, "submitted") != 0) {
		api_error(r, 409, "conflict", NULL, "only a submitted observation is amended; "
			  "change the draft instead");
		return;
	}
	rc = observation_amend(g_app.db, id, r->sess->s.user_id, reason, api_now(),
			       &new_id, &err);
	if (rc != AT_OK) {
		api_fail(r, rc, rc == AT_BADREQ || rc == AT_TOOBIG ? "reason" : NULL, err.msg);
		return;
	}
	answer_obs(r, new_id, 201);
}

/* GET /api/v1/observations/{id}/side-by-side[?view=session|self] */
void api_observation_side(struct req *r)
{
	struct observation o;
	struct obs_side s;
	struct json_object *j, *obs, *items;
	const char *view;
	bool *keep;
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id) || !obs_visible(r, id, &o, NULL))
		return;
	view = req_param(r, "view");
	if (view == NULL)
		view = o.session_key[0] != '\0' ? "session" : "self";
	if (strcmp(view, "session") == 0 && o.session_key[0] != '\0') {
		rc = observation_side_by_session(g_app.db, r->arena, o.checklist_id,
						 o.session_key, &s);
	} else if (strcmp(view, "self") == 0) {
		rc = observation_side_self(g_app.db, r->arena, o.enrolment_id, o.checklist_id,
					   &s);
	} else {
		api_error(r, 400, "bad_request", "view",
			  "must be session (for an observation with a session_key) or self");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "no submitted observations to compare yet");
		return;
	}
	/* a reused session key must not show another learner's observation */
	keep = arena_zalloc(r->arena, sizeof(*keep) * (s.nobs ? s.nobs : 1));
	obs = json_object_new_array();
	for (size_t k = 0; k < s.nobs; k++) {
		struct json_object *x;

		keep[k] = s.obs[k].learner_id == o.learner_id;
		if (!keep[k])
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_int64(s.obs[k].id));
		json_object_object_add(x, "rater_id", json_object_new_int64(s.obs[k].assessor_id));
		json_object_object_add(x, "rater_role",
				       json_object_new_string(s.obs[k].rater_role));
		json_object_object_add(x, "score", json_object_new_int64(s.obs[k].score));
		json_object_object_add(x, "passed", json_object_new_boolean(s.obs[k].passed));
		json_object_object_add(x, "submitted_at",
				       json_object_new_int64(s.obs[k].submitted_at));
		json_object_array_add(obs, x);
	}
	items = json_object_new_array();
	for (size_t i = 0; i < s.nitems; i++) {
		struct json_object *row = json_object_new_object();
		struct json_object *cells = json_object_new_array();

		json_object_object_add(row, "item", json_object_new_string(s.rows[i].key));
		json_object_object_add(row, "label", json_object_new_string(s.rows[i].label));
		json_object_object_add(row, "kind", json_object_new_string(s.rows[i].kind));
		for (size_t k = 0; k < s.nobs; k++) {
			const struct obs_cell *c = &s.rows[i].cells[k];
			struct json_object *x;

			if (!keep[k])
				continue;
			x = json_object_new_object();
			json_object_object_add(x, "answered", json_object_new_boolean(c->answered));
			json_object_object_add(x, "value",
					       c->has_value ? json_object_new_int64(c->value) : NULL);
			json_object_object_add(x, "text",
					       json_object_new_string(c->text ? c->text : ""));
			json_object_array_add(cells, x);
		}
		json_object_object_add(row, "answers", cells);
		json_object_array_add(items, row);
	}
	j = json_object_new_object();
	json_object_object_add(j, "view", json_object_new_string(view));
	json_object_object_add(j, "observations", obs);
	json_object_object_add(j, "items", items);
	api_ok(r, 200, j);
	json_object_put(j);
}
