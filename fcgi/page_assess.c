/* page_assess.c: the assessor's pages — the worklist (GET /app/assess), starting an
 * observation (/app/enrolments/{id}/observe), the checklist page of an observation or a
 * self-evaluation (/app/observations/{id}: a phone-first form that web/static/checklist.js
 * autosaves through the JSON API; without JavaScript it posts here), the read-only
 * scorecard of a submitted one with its amendment form, and the side-by-side comparison
 * of a self-evaluation with the assessor's ratings (/app/observations/{id}/compare).
 *
 * Authorization as the API: the rater, the learner (not another rater's unfinished draft)
 * and the assessors and admins of the enrolment's course see an observation; anyone else
 * gets 404. Only the rater changes, submits or amends it. Templates: web/templates/assess/.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/enrolment.h"
#include "core/identity.h"
#include "core/observation.h"
#include "core/token.h"
#include "core/worklist.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

/* ------------------------------------------------------------------ small helpers */

static void put_str(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, json_object_new_string(s != NULL ? s : ""));
}

static void put_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void put_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/* Hundredths as text: 8500 -> "85", 8550 -> "85.5", 8525 -> "85.25". */
static const char *hstr(struct arena *a, int64_t v)
{
	const char *sign = v < 0 ? "-" : "";
	unsigned long long u = v < 0 ? (unsigned long long)-(v + 1) + 1 : (unsigned long long)v;

	if (u % 100 == 0)
		return arena_printf(a, "%s%llu", sign, u / 100);
	if (u % 10 == 0)
		return arena_printf(a, "%s%llu.%llu", sign, u / 100, (u % 100) / 10);
	return arena_printf(a, "%s%llu.%02llu", sign, u / 100, u % 100);
}

/* "4", "4.5", "4.25" (at most two decimals, no sign) as hundredths; false otherwise. */
static bool parse_hundredths(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (whole > 100000000)
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, decimals++) {
			if (decimals == 2)
				return false;
			frac = frac * 10 + (*s - '0');
		}
		if (decimals == 0)
			return false;
		if (decimals == 1)
			frac *= 10;
	}
	if (*s != '\0' || digits == 0)
		return false;
	*out = whole * 100 + frac;
	return true;
}

static const char *when(struct arena *a, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[40];

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return "";
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
	return arena_strdup(a, buf);
}

static const char *user_name(struct req *r, int64_t id)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	if (identity_user_get(g_app.db, r->arena, id, &u) != AT_OK)
		return arena_printf(r->arena, "user %" PRId64, id);
	if (u.name != NULL && *u.name)
		return u.name;
	if ((u.given_name && *u.given_name) || (u.family_name && *u.family_name))
		return arena_printf(r->arena, "%s%s%s", u.given_name ? u.given_name : "",
				    u.given_name && *u.given_name && u.family_name &&
				    *u.family_name ? " " : "", u.family_name ? u.family_name : "");
	return arena_printf(r->arena, "user %" PRId64, id);
}

/* The {id} path segment as a positive integer; false after a 404 page. */
static bool path_id(struct req *r, int64_t *id)
{
	*id = req_path_id(r);
	if (*id > 0)
		return true;
	http_error_page(r, 404, "Not found", "There is no page at this address.");
	return false;
}

static void not_found(struct req *r, const char *what)
{
	http_error_page(r, 404, "Not found", what);
}

/* /app/observations/ID?s=TOKEN */
static const char *obs_url(struct req *r, int64_t id)
{
	return session_url(r, arena_printf(r->arena, "/app/observations/%" PRId64, id));
}

/* Render a page and drop its data. */
static void render(struct req *r, int status, const char *title, const char *tmpl,
		   struct json_object *data)
{
	struct json_object *css = json_object_new_array();

	json_object_array_add(css, json_object_new_string("assess.css"));
	json_object_object_add(data, "css", css);
	if (status != 200)
		r->status = status;
	tmpl_page(r, title, tmpl, data);
	json_object_put(data);
}

/* May the caller assess in e's course (an assessor or admin there, not its learner)? */
static bool may_manage(struct req *r, const struct enrolment *e)
{
	return r->sess->s.user_id != e->user_id &&
	       enrolment_may_manage(g_app.db, e, r->sess->s.user_id);
}

/* ------------------------------------------------------------------ the worklist */

/* GET /app/assess[?mine=1] */
void page_assess_list(struct req *r)
{
	struct worklist_row *v;
	struct at_err err = { "" };
	struct json_object *d, *rows;
	const char *mine_p = req_param(r, "mine");
	bool mine = mine_p != NULL && strcmp(mine_p, "1") == 0;
	size_t n;
	int64_t drafts = 0, evidence = 0, selfs = 0;
	enum at_rc rc;

	rc = worklist_list(g_app.db, r->arena, r->sess->s.context_id, r->sess->s.user_id, mine,
			   &v, &n, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "worklist: %s", err.msg);
		return;
	}
	d = json_object_new_object();
	rows = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct worklist_row *w = &v[i];
		bool waiting = w->drafts || w->evidence || w->self_new;

		put_int(o, "enrolment_id", w->enrolment_id);
		put_str(o, "learner", w->learner_name);
		put_str(o, "program", w->program_title);
		put_str(o, "status", w->status);
		put_bool(o, "active", strcmp(w->status, "active") == 0);
		put_str(o, "cohort", w->cohort);
		put_bool(o, "assigned_to_me", w->assigned_to_me);
		put_bool(o, "assigned_to_others", w->assignees > 0 && !w->assigned_to_me);
		put_int(o, "drafts", w->drafts);
		put_int(o, "draft_id", w->draft_id);
		put_int(o, "evidence", w->evidence);
		put_int(o, "evidence_id", w->evidence_id);
		put_int(o, "self_new", w->self_new);
		put_int(o, "self_id", w->self_id);
		put_int(o, "feedback", w->feedback);
		put_int(o, "observations", w->observations);
		put_int(o, "passed", w->passed);
		put_int(o, "last_id", w->last_id);
		put_str(o, "last_score", hstr(r->arena, w->last_score));
		put_str(o, "last_max", hstr(r->arena, w->last_max_score));
		put_bool(o, "last_passed", w->last_passed);
		put_bool(o, "waiting", waiting);
		drafts += w->drafts;
		evidence += w->evidence;
		selfs += w->self_new;
		json_object_array_add(rows, o);
	}
	json_object_object_add(d, "learners", rows);
	put_bool(d, "mine", mine);
	put_int(d, "count", (int64_t)n);
	put_int(d, "drafts", drafts);
	put_int(d, "evidence", evidence);
	put_int(d, "self_new", selfs);
	render(r, 200, "Learners to assess", "assess/list", d);
}

/* ------------------------------------------------------------------ starting one */

static bool valid_role(const char *s)
{
	return strcmp(s, "assessor") == 0 || strcmp(s, "second") == 0 ||
	       strcmp(s, "expert") == 0;
}

/* GET POST /app/enrolments/{id}/observe */
void page_assess_observe(struct req *r)
{
	struct enrolment e;
	struct worklist_checklist *cl;
	struct at_err err = { "" };
	struct json_object *d, *list;
	const char *error = NULL, *error_field = NULL;
	const char *p_cl = req_param(r, "checklist"), *p_key = req_param(r, "session_key");
	const char *p_role = req_param(r, "rater_role"), *p_ck = req_param(r, "client_key");
	size_t n, offered = 0;
	int64_t id, chosen = 0;
	enum at_rc rc;

	if (!path_id(r, &id))
		return;
	if (enrolment_get(g_app.db, r->arena, id, &e) != AT_OK || !may_manage(r, &e)) {
		not_found(r, "There is no such enrolment, or it is not in a course you assess.");
		return;
	}
	rc = worklist_checklists(g_app.db, r->arena, e.program_id, &cl, &n, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "checklists: %s", err.msg);
		return;
	}
	if (p_cl != NULL)
		chosen = strtoll(p_cl, NULL, 10);
	if (strcmp(r->method, "POST") == 0) {
		struct obs_new nw = { 0 };
		bool ok_cl = false, existed = false;
		int64_t obs_id = 0, now = api_now();

		for (size_t i = 0; i < n; i++)
			ok_cl |= cl[i].id == chosen && cl[i].by_assessor;
		if (p_role == NULL || *p_role == '\0')
			p_role = "assessor";
		if (!ok_cl) {
			error_field = "checklist";
			error = "Choose one of the program's checklists.";
		} else if (!valid_role(p_role)) {
			error_field = "rater_role";
			error = "Choose assessor, second rater or expert.";
		} else if (p_key != NULL && strlen(p_key) > OBS_KEY_MAX) {
			error_field = "session_key";
			error = "The session name is too long (at most 200 characters).";
		} else if (p_ck != NULL && (strlen(p_ck) < 16 || strlen(p_ck) > 100)) {
			error_field = NULL;
			error = "The form was damaged; reload the page and try again.";
		} else {
			nw.enrolment_id = e.id;
			nw.checklist_id = chosen;
			nw.assessor_id = r->sess->s.user_id;
			nw.rater_role = p_role;
			nw.session_key = p_key;
			/* the form's key: a second POST of the same form (a double tap, a retry
			 * after a lost answer) opens the same draft */
			nw.client_key = p_ck != NULL ? arena_printf(r->arena, "page:%s", p_ck) : NULL;
			nw.observed_at = now;
			rc = observation_create(g_app.db, &nw, now, &obs_id, &existed, &err);
			if (rc == AT_OK) {
				http_redirect(r, 303, obs_url(r, obs_id));
				return;
			}
			if (rc != AT_BADREQ && rc != AT_CONFLICT) {
				http_error(r, rc, "observe: %s", err.msg);
				return;
			}
			error = rc == AT_CONFLICT ? "This form was used for another observation; "
				"reload the page and start again." : err.msg;
		}
	}
	d = json_object_new_object();
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o;

		if (!cl[i].by_assessor)
			continue;
		o = json_object_new_object();
		put_int(o, "id", cl[i].id);
		put_str(o, "title", cl[i].title);
		put_str(o, "description", cl[i].description);
		put_str(o, "pass_mark", hstr(r->arena, cl[i].pass_mark));
		put_str(o, "max_score", hstr(r->arena, cl[i].max_score));
		put_bool(o, "checked", chosen ? cl[i].id == chosen : offered == 0);
		json_object_array_add(list, o);
		offered++;
	}
	json_object_object_add(d, "checklists", list);
	put_bool(d, "none", offered == 0);
	put_int(d, "enrolment_id", e.id);
	put_str(d, "learner", e.learner_name);
	put_str(d, "program", e.program_title);
	put_str(d, "session_key", p_key);
	put_str(d, "rater_role", p_role && *p_role ? p_role : "assessor");
	put_bool(d, "role_second", p_role && strcmp(p_role, "second") == 0);
	put_bool(d, "role_expert", p_role && strcmp(p_role, "expert") == 0);
	put_str(d, "client_key", p_ck != NULL ? p_ck : token_random(r->arena, 18));
	if (error != NULL) {	/* the layout shows "error"; the form marks the field */
		put_str(d, "error", error);
		put_str(d, "error_field", error_field);
		put_bool(d, "error_checklist", error_field && strcmp(error_field, "checklist") == 0);
		put_bool(d, "error_session_key",
			 error_field && strcmp(error_field, "session_key") == 0);
	}
	render(r, error ? 400 : 200, "Start an observation", "assess/observe", d);
}

/* ------------------------------------------------------------------ one observation */

struct view {
	struct observation o;
	struct enrolment e;
	struct worklist_checklist c;
	bool mine, editable, staff, self;
};

/* Load observation id for the caller (see the top of the file); false after answering. */
static bool load_view(struct req *r, int64_t id, struct view *v)
{
	struct at_err err = { "" };
	int64_t me = r->sess->s.user_id;
	enum at_rc rc;

	memset(v, 0, sizeof(*v));
	if (observation_get(g_app.db, r->arena, id, &v->o) != AT_OK ||
	    enrolment_get(g_app.db, r->arena, v->o.enrolment_id, &v->e) != AT_OK) {
		not_found(r, "There is no such observation.");
		return false;
	}
	v->mine = v->o.assessor_id == me;
	v->staff = may_manage(r, &v->e);
	v->self = strcmp(v->o.rater_role, "self") == 0;
	if (!v->mine && !v->staff &&
	    !(v->o.learner_id == me && strcmp(v->o.status, "submitted") == 0)) {
		not_found(r, "There is no such observation.");
		return false;
	}
	v->editable = v->mine && strcmp(v->o.status, "draft") == 0;
	rc = worklist_checklist(g_app.db, r->arena, v->o.checklist_id, &v->c, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "checklist: %s", err.msg);
		return false;
	}
	return true;
}

/* The current value of every item and feedback field: from storage, or from a form. */
struct cur {
	bool has_value;
	int64_t value;
	const char *raw;	/* the form's text for a number input that did not parse */
	const char *text;
};

static void cur_from_obs(const struct view *v, struct cur *ci, const char **cf)
{
	for (size_t i = 0; i < v->c.nitems; i++) {
		memset(&ci[i], 0, sizeof(ci[i]));
		ci[i].text = "";
		for (size_t k = 0; k < v->o.nanswers; k++)
			if (strcmp(v->o.answers[k].key, v->c.items[i].key) == 0) {
				ci[i].has_value = v->o.answers[k].has_value;
				ci[i].value = v->o.answers[k].value;
				ci[i].text = v->o.answers[k].text ? v->o.answers[k].text : "";
			}
	}
	for (size_t j = 0; j < v->c.nfields; j++) {
		cf[j] = "";
		for (size_t k = 0; k < v->o.nfeedback; k++)
			if (strcmp(v->o.feedback[k].key, v->c.fields[j].key) == 0)
				cf[j] = v->o.feedback[k].text;
	}
}

static bool blank(const char *s)
{
	for (; s != NULL && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static bool is_kind(const struct worklist_item *it, const char *k)
{
	return strcmp(it->kind, k) == 0;
}

static bool answered(const struct worklist_item *it, const struct cur *c)
{
	return is_kind(it, "comment") ? !blank(c->text) : c->has_value;
}

/* Points items drawn as a row of buttons: whole points up to 10. */
static bool points_as_buttons(const struct worklist_item *it)
{
	return it->max_points % 100 == 0 && it->max_points <= 1000;
}

static const char *answer_text(struct arena *a, const struct worklist_item *it,
			       const struct cur *c)
{
	if (!answered(it, c))
		return "Not answered";
	if (is_kind(it, "yesno"))
		return c->value ? "Yes" : "No";
	if (is_kind(it, "points"))
		return arena_printf(a, "%s of %s", hstr(a, c->value), hstr(a, it->max_points));
	if (is_kind(it, "rating")) {
		if (it->has_scale && c->value >= 0 && (size_t)c->value < it->scale.n)
			return it->scale.names[c->value];
		return arena_printf(a, "%" PRId64, c->value);
	}
	return "";
}

static void add_option(struct arena *a, struct json_object *opts, const char *key,
		       const char *value, const char *label, bool checked)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "name", arena_printf(a, "v.%s", key));
	put_str(o, "id", arena_printf(a, "o-%s-%s", key, *value ? value : "na"));
	put_str(o, "value", value);
	put_str(o, "label", label);
	put_bool(o, "checked", checked);
	json_object_array_add(opts, o);
}

/* The item rows of the page (and the JS state). */
static struct json_object *items_json(struct req *r, const struct view *v, const struct cur *ci,
				      bool review, size_t *nmissing, struct json_object *js)
{
	struct arena *a = r->arena;
	struct json_object *list = json_object_new_array();
	struct json_object *jitems = json_object_new_array();
	struct json_object *janswers = json_object_new_object();

	for (size_t i = 0; i < v->c.nitems; i++) {
		const struct worklist_item *it = &v->c.items[i];
		const struct cur *c = &ci[i];
		struct json_object *o = json_object_new_object(), *ji = json_object_new_object();
		struct json_object *opts = json_object_new_array(), *ja;
		bool missing = it->required && !answered(it, c);

		put_int(o, "n", (int64_t)i + 1);
		put_str(o, "key", it->key);
		put_str(o, "label", it->label);
		put_str(o, "kind", it->kind);
		put_bool(o, "critical", it->critical);
		put_bool(o, "required", it->required);
		put_bool(o, "optional", !it->required);
		put_str(o, "text", c->text);
		put_bool(o, "answered", answered(it, c));
		put_str(o, "answer", answer_text(a, it, c));
		put_bool(o, "yes", c->has_value && c->value == 1 && is_kind(it, "yesno"));
		put_bool(o, "no", c->has_value && c->value == 0 && is_kind(it, "yesno"));
		put_bool(o, "missing", review && missing);
		put_bool(o, "is_comment", is_kind(it, "comment"));
		put_str(o, "weight", hstr(a, it->weight));
		if (is_kind(it, "points"))
			put_str(o, "max_points", hstr(a, it->max_points));
		if (missing)
			(*nmissing)++;
		if (is_kind(it, "yesno")) {
			add_option(a, opts, it->key, "1", "Yes", c->has_value && c->value == 1);
			add_option(a, opts, it->key, "0", "No", c->has_value && c->value == 0);
		} else if (is_kind(it, "points") && points_as_buttons(it)) {
			for (int64_t p = 0; p <= it->max_points; p += 100)
				add_option(a, opts, it->key, hstr(a, p), hstr(a, p),
					   c->has_value && c->value == p);
		} else if (is_kind(it, "rating") && it->has_scale) {
			for (size_t k = 0; k < it->scale.n; k++)
				add_option(a, opts, it->key, arena_printf(a, "%zu", k),
					   it->scale.names[k],
					   c->has_value && c->value == (int64_t)k);
		}
		if (!is_kind(it, "comment") && !it->required && json_object_array_length(opts) > 0)
			add_option(a, opts, it->key, "", "Not applicable", !c->has_value);
		put_bool(o, "is_choice", json_object_array_length(opts) > 0);
		put_bool(o, "is_number", is_kind(it, "points") && !points_as_buttons(it));
		put_bool(o, "no_scale", is_kind(it, "rating") && !it->has_scale);
		put_bool(o, "wide", json_object_array_length(opts) > 4);
		put_str(o, "number_value", c->raw != NULL ? c->raw :
			c->has_value ? hstr(a, c->value) : "");
		json_object_object_add(o, "options", opts);
		json_object_array_add(list, o);

		put_str(ji, "key", it->key);
		put_str(ji, "label", it->label);
		put_str(ji, "kind", it->kind);
		put_int(ji, "weight", it->weight);
		put_int(ji, "max_points", it->max_points);
		put_bool(ji, "critical", it->critical);
		put_bool(ji, "required", it->required);
		put_int(ji, "scale_n", it->has_scale ? (int64_t)it->scale.n : 0);
		put_int(ji, "proficient_from", it->proficient_from);
		json_object_array_add(jitems, ji);
		ja = json_object_new_object();
		json_object_object_add(ja, "value", c->has_value && !is_kind(it, "comment") ?
				       json_object_new_int64(c->value) : NULL);
		put_str(ja, "text", c->text);
		json_object_object_add(janswers, it->key, ja);
	}
	json_object_object_add(js, "items", jitems);
	json_object_object_add(js, "answers", janswers);
	return list;
}

static struct json_object *fields_json(const struct view *v, const char **cf, bool review,
				       size_t *nmissing, struct json_object *js)
{
	struct json_object *list = json_object_new_array();
	struct json_object *jf = json_object_new_array(), *jfb = json_object_new_object();

	for (size_t j = 0; j < v->c.nfields; j++) {
		const struct worklist_field *f = &v->c.fields[j];
		struct json_object *o = json_object_new_object(), *x = json_object_new_object();
		bool required = f->required && !v->self;
		bool missing = required && blank(cf[j]);

		put_str(o, "key", f->key);
		put_str(o, "label", f->label);
		put_str(o, "help", f->help);
		put_bool(o, "required", required);
		put_str(o, "text", cf[j]);
		put_bool(o, "missing", review && missing);
		put_bool(o, "empty", blank(cf[j]));
		if (missing)
			(*nmissing)++;
		json_object_array_add(list, o);
		put_str(x, "key", f->key);
		put_str(x, "label", f->label);
		put_bool(x, "required", required);
		json_object_array_add(jf, x);
		put_str(jfb, f->key, cf[j]);
	}
	json_object_object_add(js, "fields", jf);
	json_object_object_add(js, "feedback", jfb);
	return list;
}

/* The page data of observation v with current values ci/cf. */
static struct json_object *obs_data(struct req *r, const struct view *v, const struct cur *ci,
				    const char **cf, bool review)
{
	struct arena *a = r->arena;
	struct json_object *d = json_object_new_object(), *js = json_object_new_object();
	struct json_object *js_list;
	bool submitted = strcmp(v->o.status, "submitted") == 0;
	size_t nmissing = 0;

	put_int(d, "id", v->o.id);
	put_str(d, "learner", v->e.learner_name);
	put_str(d, "program", v->e.program_title);
	put_str(d, "checklist", v->c.title);
	put_str(d, "description", v->c.description);
	put_str(d, "rater", v->mine ? "you" : user_name(r, v->o.assessor_id));
	put_str(d, "rater_role", v->o.rater_role);
	put_bool(d, "self", v->self);
	put_bool(d, "editable", v->editable);
	put_bool(d, "submitted", submitted);
	put_bool(d, "draft", !submitted);
	put_bool(d, "staff", v->staff);
	put_bool(d, "may_amend", submitted && v->mine);
	put_bool(d, "review", review && v->editable);
	put_str(d, "pass_mark", hstr(a, v->c.pass_mark));
	put_str(d, "max_score", hstr(a, v->c.max_score));
	put_str(d, "observed", when(a, v->o.observed_at));
	put_str(d, "submitted_at", when(a, v->o.submitted_at));
	put_str(d, "session_key", v->o.session_key);
	put_int(d, "amends_id", v->o.amends_id);
	put_str(d, "amend_reason", v->o.amend_reason);
	put_int(d, "enrolment_id", v->o.enrolment_id);
	if (submitted) {
		put_str(d, "score", hstr(a, v->o.score));
		put_str(d, "score_max", hstr(a, v->o.max_score));
		put_bool(d, "passed", v->o.passed);
		put_bool(d, "critical_missed", v->o.critical_missed);
	}
	json_object_object_add(d, "items", items_json(r, v, ci, review, &nmissing, js));
	json_object_object_add(d, "fields", fields_json(v, cf, review, &nmissing, js));
	put_bool(d, "complete", nmissing == 0);
	put_int(d, "nmissing", (int64_t)nmissing);
	js_list = js;
	put_int(js_list, "id", v->o.id);
	put_str(js_list, "client_key", v->o.client_key);
	put_int(js_list, "updated_at", v->o.updated_at);
	put_int(js_list, "created_at", v->o.created_at);
	put_int(js_list, "pass_mark", v->c.pass_mark);
	put_int(js_list, "max_score", v->c.max_score);
	put_bool(js_list, "self", v->self);
	json_object_object_add(d, "state", js);
	return d;
}

static void show_obs(struct req *r, const struct view *v, int status, bool review,
		     const struct cur *ci, const char **cf, const char *err_field,
		     const char *err_msg, const char *reason)
{
	struct json_object *d = obs_data(r, v, ci, cf, review);
	const char *title;

	if (v->editable) {
		struct json_object *js = json_object_new_array();

		json_object_array_add(js, json_object_new_string("checklist.js"));
		json_object_object_add(d, "js", js);
	}
	put_bool(d, "has_fields", v->c.nfields > 0);
	if (err_field != NULL) {	/* mark the item the error names */
		struct json_object *items = json_object_object_get(d, "items");

		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *it = json_object_array_get_idx(items, i);

			put_bool(it, "bad", strcmp(json_object_get_string(
				json_object_object_get(it, "key")), err_field) == 0);
		}
	}
	if (err_msg != NULL) {	/* the layout shows "error" */
		put_str(d, "error", err_msg);
		put_str(d, "error_field", err_field);
		put_bool(d, "error_reason", err_field && strcmp(err_field, "reason") == 0);
	} else if (req_param(r, "saved") != NULL && v->editable) {
		put_str(d, "flash", "Saved.");
	}
	put_str(d, "reason", reason);
	title = arena_printf(r->arena, "%s%s: %s", v->c.title,
			     v->self ? " (self-evaluation)" : "", v->e.learner_name);
	render(r, status, title, "assess/checklist", d);
}

/* Read the plain form (no JavaScript) into answers and feedback. false with *bad_field
 * naming the item whose value does not parse (ci keeps what was typed). */
static bool read_form(struct req *r, const struct view *v, struct cur *ci, const char **cf,
		      struct obs_answer *ans, struct obs_feedback *fb, const char **bad_field)
{
	bool ok = true;

	for (size_t i = 0; i < v->c.nitems; i++) {
		const struct worklist_item *it = &v->c.items[i];
		const char *val = req_param(r, arena_printf(r->arena, "v.%s", it->key));
		const char *text = req_param(r, arena_printf(r->arena, "t.%s", it->key));

		memset(&ci[i], 0, sizeof(ci[i]));
		ci[i].text = text != NULL ? text : "";
		ans[i].item_key = it->key;
		ans[i].text = ci[i].text;
		if (is_kind(it, "comment") || val == NULL || *val == '\0')
			continue;
		if (is_kind(it, "points")) {
			ci[i].has_value = parse_hundredths(val, &ci[i].value);
		} else {
			char *end = NULL;
			long long x = strtoll(val, &end, 10);

			ci[i].has_value = end != val && *end == '\0' && x >= 0 && x < 1000000;
			ci[i].value = x;
		}
		if (!ci[i].has_value) {
			ci[i].raw = val;
			if (ok)
				*bad_field = it->key;
			ok = false;
			continue;
		}
		ans[i].has_value = true;
		ans[i].value = ci[i].value;
	}
	for (size_t j = 0; j < v->c.nfields; j++) {
		const char *t = req_param(r, arena_printf(r->arena, "f.%s", v->c.fields[j].key));

		cf[j] = t != NULL ? t : "";
		fb[j].key = v->c.fields[j].key;
		fb[j].text = cf[j];
	}
	return ok;
}

/* The item or field key named in a core message ("item 'greeting' ..."), or NULL. */
static const char *quoted(struct req *r, const char *msg)
{
	const char *a = strchr(msg, '\'');
	const char *b = a != NULL ? strchr(a + 1, '\'') : NULL;

	if (b == NULL || b == a + 1)
		return NULL;
	return arena_strndup(r->arena, a + 1, (size_t)(b - a - 1));
}

/* POST /app/observations/{id}: the plain form — save, review, or save and submit. */
static void post_obs(struct req *r, struct view *v)
{
	struct cur *ci = arena_zalloc(r->arena, sizeof(*ci) * (v->c.nitems + 1));
	const char **cf = arena_zalloc(r->arena, sizeof(*cf) * (v->c.nfields + 1));
	struct obs_answer *ans = arena_zalloc(r->arena, sizeof(*ans) * (v->c.nitems + 1));
	struct obs_feedback *fb = arena_zalloc(r->arena, sizeof(*fb) * (v->c.nfields + 1));
	struct at_err err = { "" };
	const char *action = req_param(r, "action"), *bad = NULL;
	const char *url = obs_url(r, v->o.id);
	enum at_rc rc;

	if (!v->editable) {
		if (v->mine) {	/* submitted meanwhile (a resent form): show what stands */
			http_redirect(r, 303, url);
			return;
		}
		http_error_page(r, 403, "Not allowed", "Only the rater changes an observation.");
		return;
	}
	if (action == NULL)
		action = "save";
	if (!read_form(r, v, ci, cf, ans, fb, &bad)) {
		show_obs(r, v, 400, false, ci, cf, bad,
			 arena_printf(r->arena, "The answer to item '%s' is not a number this item "
				      "takes. Nothing was saved.", bad), NULL);
		return;
	}
	rc = observation_save(g_app.db, v->o.id, r->sess->s.user_id, ans, v->c.nitems, fb,
			      v->c.nfields, api_now(), &err);
	if (rc == AT_BADREQ || rc == AT_TOOBIG) {
		show_obs(r, v, 400, false, ci, cf, quoted(r, err.msg),
			 arena_printf(r->arena, "%s. Nothing was saved.", err.msg), NULL);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "save: %s", err.msg);
		return;
	}
	if (strcmp(action, "submit") == 0) {
		rc = observation_submit(g_app.db, v->o.id, r->sess->s.user_id, api_now(), &err);
		if (rc == AT_BADREQ || rc == AT_FORBIDDEN) {
			show_obs(r, v, rc == AT_BADREQ ? 400 : 403, true, ci, cf,
				 quoted(r, err.msg), arena_printf(r->arena, "Not submitted: %s. "
				 "Your answers are saved.", err.msg), NULL);
			return;
		}
		if (rc != AT_OK && rc != AT_CONFLICT) {
			http_error(r, rc, "submit: %s", err.msg);
			return;
		}
		http_redirect(r, 303, url);
		return;
	}
	if (strcmp(action, "review") == 0) {
		http_redirect(r, 303, arena_printf(r->arena, "%s&review=1#review", url));
		return;
	}
	http_redirect(r, 303, arena_printf(r->arena, "%s&saved=1", url));
}

/* GET POST /app/observations/{id} */
void page_assess_obs(struct req *r)
{
	struct view v;
	struct cur *ci;
	const char **cf;
	int64_t id;

	if (!path_id(r, &id) || !load_view(r, id, &v))
		return;
	if (strcmp(r->method, "POST") == 0) {
		post_obs(r, &v);
		return;
	}
	ci = arena_zalloc(r->arena, sizeof(*ci) * (v.c.nitems + 1));
	cf = arena_zalloc(r->arena, sizeof(*cf) * (v.c.nfields + 1));
	cur_from_obs(&v, ci, cf);
	show_obs(r, &v, 200, req_param(r, "review") != NULL, ci, cf, NULL, NULL, NULL);
}

/* POST /app/observations/{id}/amend (reason): a new draft amending a submitted one. */
void page_assess_amend(struct req *r)
{
	struct view v;
	struct at_err err = { "" };
	const char *reason = req_param(r, "reason");
	int64_t id, new_id = 0;
	enum at_rc rc;

	if (!path_id(r, &id) || !load_view(r, id, &v))
		return;
	if (!v.mine) {
		http_error_page(r, 403, "Not allowed", "Only the rater amends an observation.");
		return;
	}
	if (strcmp(v.o.status, "submitted") != 0) {
		http_redirect(r, 303, obs_url(r, id));
		return;
	}
	if (reason == NULL || blank(reason) || strlen(reason) > OBS_TEXT_MAX) {
		rc = AT_BADREQ;
		snprintf(err.msg, sizeof(err.msg), "%s", reason && !blank(reason) ?
			 "The reason is too long." : "Give the reason for the amendment.");
	} else {
		rc = observation_amend(g_app.db, id, r->sess->s.user_id, reason, api_now(),
				       &new_id, &err);
	}
	if (rc == AT_OK) {
		http_redirect(r, 303, obs_url(r, new_id));
		return;
	}
	if (rc == AT_BADREQ || rc == AT_CONFLICT) {
		struct cur *ci = arena_zalloc(r->arena, sizeof(*ci) * (v.c.nitems + 1));
		const char **cf = arena_zalloc(r->arena, sizeof(*cf) * (v.c.nfields + 1));

		cur_from_obs(&v, ci, cf);
		show_obs(r, &v, rc == AT_BADREQ ? 400 : 409, false, ci, cf, "reason",
			 rc == AT_CONFLICT ? "This observation has been amended already: amend "
			 "the amendment instead." : err.msg, reason);
		return;
	}
	http_error(r, rc, "amend: %s", err.msg);
}

/* ------------------------------------------------------------------ side by side */

static const char *role_label(const char *role)
{
	if (strcmp(role, "self") == 0)
		return "Self-evaluation";
	if (strcmp(role, "second") == 0)
		return "Second rater";
	if (strcmp(role, "expert") == 0)
		return "Expert";
	return "Assessor";
}

/* The observations of s that are about learner_id (a reused session key may name others). */
static size_t session_raters(const struct obs_side *s, int64_t learner_id)
{
	size_t n = 0;

	for (size_t k = 0; k < s->nobs; k++)
		n += s->obs[k].learner_id == learner_id;
	return n;
}

/* GET /app/observations/{id}/compare[?view=self|session]: without view, the session's
 * raters when the observation names a session that someone else rated too, else the
 * learner's self-evaluation beside the assessor's latest ratings. */
void page_assess_compare(struct req *r)
{
	struct view v;
	struct obs_side s;
	struct json_object *d, *cols, *rows;
	const char *view = req_param(r, "view");
	bool *keep;
	int64_t id;
	enum at_rc rc;

	if (!path_id(r, &id) || !load_view(r, id, &v))
		return;
	bool chosen = view != NULL && (strcmp(view, "session") == 0 || strcmp(view, "self") == 0);

	if (!chosen)
		view = v.o.session_key[0] != '\0' ? "session" : "self";
	if (strcmp(view, "session") == 0 && v.o.session_key[0] != '\0')
		rc = observation_side_by_session(g_app.db, r->arena, v.o.checklist_id,
						 v.o.session_key, &s);
	else
		rc = observation_side_self(g_app.db, r->arena, v.o.enrolment_id,
					   v.o.checklist_id, &s);
	if (!chosen && rc == AT_OK && strcmp(view, "session") == 0 &&
	    session_raters(&s, v.o.learner_id) < 2) {
		/* nobody else rated the session (a learner's self-evaluation names no session):
		 * by default, compare with the learner's self-evaluation instead */
		view = "self";
		rc = observation_side_self(g_app.db, r->arena, v.o.enrolment_id,
					   v.o.checklist_id, &s);
	}
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		http_error(r, rc, "side by side");
		return;
	}
	if (rc == AT_NOTFOUND)
		memset(&s, 0, sizeof(s));
	d = json_object_new_object();
	cols = json_object_new_array();
	rows = json_object_new_array();
	keep = arena_zalloc(r->arena, sizeof(*keep) * (s.nobs + 1));
	for (size_t k = 0; k < s.nobs; k++) {
		struct json_object *c;
		const struct observation *o = &s.obs[k];

		/* a reused session key must not show another learner's observation */
		keep[k] = o->learner_id == v.o.learner_id;
		if (!keep[k])
			continue;
		c = json_object_new_object();
		put_int(c, "id", o->id);
		put_str(c, "role", role_label(o->rater_role));
		put_str(c, "rater", user_name(r, o->assessor_id));
		put_str(c, "score", hstr(r->arena, o->score));
		put_str(c, "max", hstr(r->arena, o->max_score));
		put_bool(c, "passed", o->passed);
		put_bool(c, "self", strcmp(o->rater_role, "self") == 0);
		put_str(c, "submitted", when(r->arena, o->submitted_at));
		json_object_array_add(cols, c);
	}
	for (size_t i = 0; i < s.nitems; i++) {
		const struct worklist_item *it = NULL;
		struct json_object *row = json_object_new_object(), *cells = json_object_new_array();
		const char *first = NULL;
		bool differs = false;

		for (size_t j = 0; j < v.c.nitems; j++)
			if (strcmp(v.c.items[j].key, s.rows[i].key) == 0)
				it = &v.c.items[j];
		for (size_t k = 0; k < s.nobs; k++) {
			const struct obs_cell *c = &s.rows[i].cells[k];
			struct cur cu = { c->has_value, c->value, NULL, c->text ? c->text : "" };
			struct json_object *x;
			const char *t;

			if (!keep[k])
				continue;
			t = it != NULL ? answer_text(r->arena, it, &cu) :
			    c->answered ? "Answered" : "Not answered";
			if (first == NULL)
				first = t;
			else if (strcmp(first, t) != 0)
				differs = true;
			x = json_object_new_object();
			put_str(x, "answer", it != NULL && is_kind(it, "comment") ? "" : t);
			put_str(x, "text", cu.text);
			json_object_array_add(cells, x);
		}
		put_str(row, "label", s.rows[i].label);
		put_str(row, "key", s.rows[i].key);
		put_bool(row, "critical", it != NULL && it->critical);
		put_bool(row, "differs", differs && !(it != NULL && is_kind(it, "comment")));
		json_object_object_add(row, "cells", cells);
		json_object_array_add(rows, row);
	}
	put_int(d, "id", v.o.id);
	put_str(d, "learner", v.e.learner_name);
	put_str(d, "checklist", v.c.title);
	put_str(d, "view", view);
	put_bool(d, "by_session", strcmp(view, "session") == 0);
	put_bool(d, "has_session", v.o.session_key[0] != '\0');
	put_bool(d, "empty", json_object_array_length(cols) == 0);
	put_bool(d, "single", json_object_array_length(cols) == 1);
	json_object_object_add(d, "columns", cols);
	json_object_object_add(d, "rows", rows);
	render(r, 200, arena_printf(r->arena, "Side by side: %s", v.e.learner_name),
	       "assess/compare", d);
}
