/* page_coord.c: the coordinator's pages (assessors and admins of a course) — the course
 * dashboard at /app, a program's dashboard with every learner of the roster (enrol, filter
 * by course, group and assessor), the end-of-day report, and one learner's page (notes,
 * decisions to confirm or override, evaluation, group, assessors, feedback links).
 *
 * Routes carry R_ASSESSOR | R_ADMIN; every handler also checks the record: a course where
 * the user is not staff, or an enrolment they may not manage, is a 404. Forms post with
 * the CSRF token and answer 303 to a GET page; a refused form is shown again (400) with
 * the message, the field named and what was typed. */
#include <string.h>

#include "core/assign.h"
#include "core/bizdays.h"
#include "core/dashboard.h"
#include "core/decision.h"
#include "core/enrolment.h"
#include "core/feedback.h"
#include "core/identity.h"
#include "core/observation.h"
#include "core/program.h"
#include "core/progress.h"
#include "core/rules.h"
#include "fcgi/api.h"
#include "fcgi/api_report.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/page_coord.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

/* ---------------------------------------------------------------- shared helpers */

void page_coord_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

void page_coord_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void page_coord_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

const char *page_coord_date(struct req *r, int64_t t)
{
	return t > 0 ? progress_day(r->arena, t) : "";
}

static void put_json(void *o)
{
	json_object_put(o);
}

/* A data root freed with the request. */
static struct json_object *new_root(struct req *r)
{
	struct json_object *o = page_coord_data();

	arena_on_free(r->arena, put_json, o);
	return o;
}

struct json_object *page_coord_data(void)
{
	struct json_object *o = json_object_new_object(), *css = json_object_new_array();
	struct json_object *js = json_object_new_array();

	json_object_array_add(css, json_object_new_string("coord.css"));
	json_object_array_add(js, json_object_new_string("coord.js"));
	json_object_object_add(o, "css", css);
	json_object_object_add(o, "js", js);
	return o;
}

bool page_coord_course(struct req *r, int64_t *context_id)
{
	const char *c = req_param(r, "course");
	int64_t id = r->sess->s.context_id;

	if (c != NULL && *c != '\0' && req_param_i64(r, "course", 1, INT64_MAX, &id) != AT_OK)
		id = 0;
	if (!dashboard_is_staff(g_app.db, r->sess->s.user_id, id)) {
		http_error_page(r, 404, "Not found", "There is no such course, or you do not "
				"teach in it.");
		return false;
	}
	*context_id = id;
	return true;
}

struct json_object *page_coord_root(struct req *r, int64_t context_id)
{
	struct json_object *data = new_root(r), *course = page_coord_course_json(r, context_id);

	if (course == NULL)
		return NULL;
	json_object_object_add(data, "course", course);
	return data;
}

struct json_object *page_coord_course_json(struct req *r, int64_t context_id)
{
	struct dashboard_course *v = NULL;
	size_t n = 0;
	struct json_object *o, *list;

	if (dashboard_courses(g_app.db, r->arena, r->sess->s.user_id, &v, &n) != AT_OK) {
		http_error(r, AT_DB, "cannot list the courses");
		return NULL;
	}
	o = json_object_new_object();
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();

		page_coord_int(x, "id", v[i].id);
		page_coord_str(x, "title", *v[i].title ? v[i].title : v[i].label);
		page_coord_bool(x, "selected", v[i].id == context_id);
		json_object_array_add(list, x);
		if (v[i].id == context_id)
			page_coord_str(o, "title", *v[i].title ? v[i].title : v[i].label);
	}
	page_coord_int(o, "id", context_id);
	page_coord_bool(o, "several", n > 1);
	json_object_object_add(o, "courses", list);
	return o;
}

void page_coord_redirect(struct req *r, const char *path, int64_t context_id,
			 const char *extra)
{
	char *url = arena_printf(r->arena, "%s?s=%s&course=%lld%s%s", path,
				 html_urlencode(r->arena, r->sess->token), (long long)context_id,
				 extra ? "&" : "", extra ? extra : "");

	http_redirect(r, 303, url);
}

/* The flash message of ?done=KEY (fixed texts: nothing typed is echoed). */
static const char *flash_of(struct req *r)
{
	static const char *const msgs[][2] = {
		{ "enrolled", "The learners are enrolled." },
		{ "note", "The note is saved." },
		{ "group", "The group is saved." },
		{ "assessor", "The assessors are saved." },
		{ "confirmed", "The decision is confirmed." },
		{ "overridden", "The decision is overridden; the justification is on record." },
		{ "evaluated", "The rule was evaluated: its proposal waits for confirmation." },
		{ "pending", "The rule was evaluated: not enough results yet, nothing to decide." },
		{ "granted", "The certification held already is recorded, with its justification." },
	};
	const char *d = req_param(r, "done");

	for (size_t i = 0; d != NULL && i < NELEM(msgs); i++)
		if (strcmp(d, msgs[i][0]) == 0)
			return msgs[i][1];
	return NULL;
}

static void set_flash(struct req *r, struct json_object *data)
{
	const char *f = flash_of(r);

	if (f != NULL)
		page_coord_str(data, "flash", f);
}

/* The error shown at the top and beside field. */
static void set_error(struct json_object *data, const char *field, const char *msg)
{
	struct json_object *e = json_object_new_object();

	page_coord_str(data, "error", msg);
	page_coord_str(e, field, msg);
	json_object_object_add(data, "errors", e);
}

/* ---------------------------------------------------------------- the course dashboard */

static void other_program(const struct program_row *row, void *ud)
{
	struct json_object *x = json_object_new_object();

	page_coord_int(x, "id", row->id);
	page_coord_str(x, "key", row->key);
	page_coord_str(x, "title", row->title);
	json_object_array_add(ud, x);
}

void page_coord_home(struct req *r)
{
	struct dashboard_program *v = NULL;
	size_t n = 0;
	int64_t ctx = r->sess->s.context_id, learners = 0, staff = 0;
	struct json_object *data, *list, *all, *others;
	enum at_rc rc;

	if (!dashboard_is_staff(g_app.db, r->sess->s.user_id, ctx)) {
		/* staff by the launch, but the membership is gone or inactive */
		http_error_page(r, 404, "Not found", "You do not teach in this course.");
		return;
	}
	rc = dashboard_programs(g_app.db, r->arena, ctx, &v, &n);
	if (rc == AT_OK)
		rc = identity_member_count(g_app.db, ctx, ROLE_LEARNER, &learners);
	if (rc == AT_OK)
		rc = identity_member_count(g_app.db, ctx, ROLE_ASSESSOR | ROLE_ADMIN, &staff);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load the course dashboard");
		return;
	}
	data = page_coord_root(r, ctx);
	if (data == NULL)
		return;
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();

		page_coord_int(x, "id", v[i].id);
		page_coord_str(x, "key", v[i].key);
		page_coord_str(x, "title", v[i].title);
		page_coord_bool(x, "placed", v[i].placed);
		page_coord_int(x, "enrolled", v[i].enrolled);
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "programs", list);
	all = json_object_new_array();
	if (program_each(g_app.db, other_program, all) != AT_OK) {
		json_object_put(all);
		http_error(r, AT_DB, "cannot list the programs");
		return;
	}
	others = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *x = json_object_array_get_idx(all, i), *id;
		bool used = false;

		json_object_object_get_ex(x, "id", &id);
		for (size_t k = 0; k < n; k++)
			used = used || v[k].id == json_object_get_int64(id);
		if (!used)
			json_object_array_add(others, json_object_get(x));
	}
	json_object_put(all);
	page_coord_bool(data, "has_programs", n > 0);
	page_coord_bool(data, "has_others", json_object_array_length(others) > 0);
	json_object_object_add(data, "others", others);
	page_coord_int(data, "learners", learners);
	page_coord_int(data, "staff", staff);
	page_coord_str(data, "role_name", r->sess->s.role & ROLE_ADMIN ? "administrator" :
		       "instructor");
	tmpl_page(r, "Course dashboard", "coord/home", data);
}

/* ---------------------------------------------------------------- a program's dashboard */

/* The program of the {id} segment (a number or a key); 404 when there is none. */
static bool load_program(struct req *r, struct program **p)
{
	const char *v = r->pathvar;
	int64_t id = 0;
	enum at_rc rc;

	if (v == NULL) {
		http_error_page(r, 404, "Not found", "There is no such program.");
		return false;
	}
	if (strspn(v, "0123456789") == strlen(v) && strlen(v) < 18)
		id = strtoll(v, NULL, 10);
	rc = id > 0 ? program_load(g_app.db, r->arena, NULL, id, p) :
	     program_load(g_app.db, r->arena, v, 0, p);
	if (rc == AT_NOTFOUND) {
		http_error_page(r, 404, "Not found", "There is no such program.");
		return false;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load program %s", v);
		return false;
	}
	return true;
}

/* What the enrol form holds when it is shown again. */
struct enrol_form {
	const char *started_on, *group;
	const int64_t *chosen;
	size_t n_chosen;
};

static bool chosen(const struct enrol_form *f, int64_t id)
{
	for (size_t i = 0; f != NULL && i < f->n_chosen; i++)
		if (f->chosen[i] == id)
			return true;
	return false;
}

static const char *status_label(const struct dashboard_row *x)
{
	if (x->elsewhere)
		return "Enrolled through another course";
	if (x->enrolment_id == 0)
		return "Not enrolled";
	if (strcmp(x->status, "active") == 0)
		return "Active";
	if (strcmp(x->status, "completed") == 0)
		return "Completed";
	if (strcmp(x->status, "withdrawn") == 0)
		return "Withdrawn";
	return x->status;
}

static const char *bizday_str(struct req *r, int32_t d)
{
	char s[11];

	if (d < 0)
		return "";
	bizdays_format(d, s);
	return arena_strdup(r->arena, s);
}

static struct json_object *row_json(struct req *r, const struct program *p,
				    const struct dashboard_row *x, const struct enrol_form *f)
{
	struct json_object *o = json_object_new_object(), *att = json_object_new_array();
	char *names = NULL;

	page_coord_int(o, "user_id", x->user_id);
	page_coord_str(o, "name", x->name);
	page_coord_bool(o, "roster_only", x->roster_only);
	page_coord_bool(o, "from_roster", strcmp(x->source, "nrps") == 0);
	page_coord_bool(o, "left_course", !x->member);
	page_coord_bool(o, "enrolled", x->enrolment_id > 0);
	page_coord_bool(o, "may_enrol", x->enrolment_id == 0 && !x->elsewhere && x->member);
	page_coord_bool(o, "checked", chosen(f, x->user_id));
	page_coord_int(o, "enrolment_id", x->enrolment_id);
	page_coord_str(o, "status", status_label(x));
	page_coord_str(o, "status_key", x->enrolment_id > 0 ? x->status : "none");
	page_coord_str(o, "started_on", page_coord_date(r, x->started_at));
	page_coord_str(o, "group", x->cohort);
	for (size_t i = 0; i < x->n_assessors; i++)
		names = names ? arena_printf(r->arena, "%s, %s", names, x->assessors[i].name) :
			arena_strdup(r->arena, x->assessors[i].name);
	page_coord_str(o, "assessors", names);
	for (size_t k = 0; k < p->n_checklists; k++) {
		struct json_object *a = json_object_new_object();

		page_coord_str(a, "checklist", p->checklists[k].title);
		page_coord_int(a, "total", x->attempts[k]);
		page_coord_int(a, "passed", x->passed[k]);
		json_object_array_add(att, a);
	}
	json_object_object_add(o, "attempts", att);
	if (x->has_escalation) {
		page_coord_bool(o, "overdue", x->esc.overdue);
		page_coord_str(o, "deadline", bizday_str(r, x->esc.deadline));
		if (x->esc.step >= 0) {
			page_coord_str(o, "step", x->esc.step_label ? x->esc.step_label :
				       x->esc.step_key);
			page_coord_str(o, "step_day", bizday_str(r, x->esc.step_day));
			page_coord_bool(o, "step_today", x->esc.due_today);
		}
	}
	if (x->pending_id > 0) {
		struct json_object *d = json_object_new_object();

		page_coord_int(d, "id", x->pending_id);
		page_coord_str(d, "outcome", x->pending_outcome);
		json_object_object_add(o, "pending", d);
	}
	if (x->decision != NULL)
		page_coord_str(o, "decision", arena_printf(r->arena, "%s%s", x->decision,
			       x->decision_expired ? " (expired)" : ""));
	return o;
}

static void program_page(struct req *r, struct program *p, int64_t ctx, int status,
			 const char *field, const char *error, const struct enrol_form *f)
{
	struct dashboard_filter fl = { NULL, 0 };
	struct dashboard_row *rows = NULL;
	struct assign_person *staff = NULL;
	const char **groups = NULL, *g = req_param(r, "group"), *as = req_param(r, "assessor");
	size_t nrows = 0, nstaff = 0, ngroups = 0;
	int64_t now = api_now(), overdue = 0, due = 0, pending = 0, roster = 0, enrolled = 0;
	struct json_object *data, *list, *jg, *js, *cl, *sum;
	enum at_rc rc;

	/* group: "" any, "-" no group, else the label */
	if (g != NULL && *g != '\0')
		fl.cohort = strcmp(g, "-") == 0 ? "" : g;
	if (as != NULL && *as != '\0' &&
	    req_param_i64(r, "assessor", 1, INT64_MAX, &fl.assessor_id) != AT_OK)
		fl.assessor_id = 0;
	rc = dashboard_rows(g_app.db, r->arena, p, ctx, now, &fl, &rows, &nrows);
	if (rc == AT_OK)
		rc = dashboard_cohorts(g_app.db, r->arena, p->id, ctx, &groups, &ngroups);
	if (rc == AT_OK)
		rc = assign_staff(g_app.db, r->arena, ctx, &staff, &nstaff);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load the dashboard of %s", p->key);
		return;
	}
	data = page_coord_root(r, ctx);
	if (data == NULL)
		return;
	page_coord_int(data, "program_id", p->id);
	page_coord_str(data, "program_key", p->key);
	page_coord_str(data, "program_title", p->title);
	list = json_object_new_array();
	for (size_t i = 0; i < nrows; i++) {
		json_object_array_add(list, row_json(r, p, &rows[i], f));
		overdue += rows[i].has_escalation && rows[i].esc.overdue;
		due += rows[i].has_escalation && rows[i].esc.due_today;
		pending += rows[i].pending_id > 0;
		roster += rows[i].roster_only;
		enrolled += rows[i].enrolment_id > 0;
	}
	json_object_object_add(data, "rows", list);
	page_coord_bool(data, "any_to_enrol", nrows > (size_t)enrolled);
	sum = json_object_new_object();
	page_coord_int(sum, "learners", (int64_t)nrows);
	page_coord_int(sum, "enrolled", enrolled);
	page_coord_int(sum, "not_enrolled", (int64_t)nrows - enrolled);
	page_coord_int(sum, "roster_only", roster);
	page_coord_int(sum, "overdue", overdue);
	page_coord_int(sum, "due_today", due);
	page_coord_int(sum, "pending", pending);
	json_object_object_add(data, "summary", sum);
	cl = json_object_new_array();
	for (size_t k = 0; k < p->n_checklists; k++) {
		struct json_object *x = json_object_new_object();

		page_coord_str(x, "title", p->checklists[k].title);
		json_object_array_add(cl, x);
	}
	json_object_object_add(data, "checklists", cl);
	jg = json_object_new_array();
	for (size_t i = 0; i < ngroups; i++) {
		struct json_object *x = json_object_new_object();

		page_coord_str(x, "label", groups[i]);
		page_coord_bool(x, "selected", fl.cohort != NULL && strcmp(fl.cohort, groups[i]) == 0);
		json_object_array_add(jg, x);
	}
	json_object_object_add(data, "groups", jg);
	page_coord_bool(data, "group_none", fl.cohort != NULL && *fl.cohort == '\0');
	js = json_object_new_array();
	for (size_t i = 0; i < nstaff; i++) {
		struct json_object *x = json_object_new_object();

		page_coord_int(x, "id", staff[i].id);
		page_coord_str(x, "name", staff[i].name);
		page_coord_bool(x, "selected", staff[i].id == fl.assessor_id);
		json_object_array_add(js, x);
	}
	json_object_object_add(data, "staff", js);
	page_coord_bool(data, "filtered", fl.cohort != NULL || fl.assessor_id > 0);
	page_coord_str(data, "today", progress_day(r->arena, now));
	page_coord_str(data, "started_on", f && f->started_on ? f->started_on : "");
	page_coord_str(data, "new_group", f && f->group ? f->group : "");
	set_flash(r, data);
	if (error != NULL)
		set_error(data, field, error);
	r->status = status;
	tmpl_page(r, p->title, "coord/program", data);
}

void page_coord_program(struct req *r)
{
	struct program *p = NULL;
	int64_t ctx;

	if (!page_coord_course(r, &ctx) || !load_program(r, &p))
		return;
	program_page(r, p, ctx, 200, NULL, NULL, NULL);
}

/* POST /app/programs/{id}/enrol: learner=ID (checkboxes) or one=ID (a row's button),
 * started_on (optional, today or earlier), group (optional). */
void page_coord_enrol(struct req *r)
{
	struct program *p = NULL;
	struct enrol_form f = { req_param(r, "started_on"), req_param(r, "group"), NULL, 0 };
	const char *one = req_param(r, "one");
	int64_t ctx, now = api_now(), started_at = now, *ids;
	size_t n = 0, done = 0;
	int32_t day;

	if (!page_coord_course(r, &ctx) || !load_program(r, &p))
		return;
	ids = arena_zalloc(r->arena, (r->nparams + 1) * sizeof(*ids));
	for (size_t i = 0; i < r->nparams; i++) {
		const char *k = r->params[i].key;
		int64_t v;

		if (strcmp(k, one != NULL ? "one" : "learner") != 0)
			continue;
		v = strtoll(r->params[i].val, NULL, 10);
		if (v > 0)
			ids[n++] = v;
	}
	f.chosen = ids;
	f.n_chosen = n;
	if (n == 0) {
		program_page(r, p, ctx, 400, "learner", "Choose at least one learner to enrol.",
			     &f);
		return;
	}
	if (f.started_on != NULL && *f.started_on != '\0') {
		if (bizdays_parse(f.started_on, &day) != AT_OK || (int64_t)day * 86400 > now) {
			program_page(r, p, ctx, 400, "started_on", "Start date: enter a date "
				     "written YYYY-MM-DD, today or earlier.", &f);
			return;
		}
		started_at = (int64_t)day * 86400;
	}
	if (f.group != NULL && strlen(f.group) > ASSIGN_COHORT_MAX) {
		program_page(r, p, ctx, 400, "group", "Group: at most 100 characters.", &f);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct at_err err = { "" };
		int64_t id = 0;
		enum at_rc rc = enrolment_create_at(g_app.db, p->key, ids[i], ctx,
						    r->sess->s.user_id, now, started_at, &id, &err);

		if (rc == AT_CONFLICT)
			continue;	/* enrolled already (a second click): nothing to do */
		if (rc == AT_BADREQ) {
			program_page(r, p, ctx, 400, "learner", done > 0 ?
				     "Some learners were enrolled; one of the others is not a "
				     "member of this course." :
				     "A chosen learner is not a member of this course.", &f);
			return;
		}
		if (rc == AT_OK && f.group != NULL && *f.group != '\0')
			rc = assign_cohort_set(g_app.db, id, f.group, r->sess->s.user_id, now, &err);
		if (rc == AT_BADREQ) {
			program_page(r, p, ctx, 400, "group", "Group: use letters, digits and "
				     "spaces, at most 100 characters.", &f);
			return;
		}
		if (rc != AT_OK) {
			http_error(r, rc, "cannot enrol: %s", err.msg);
			return;
		}
		done++;
	}
	page_coord_redirect(r, arena_printf(r->arena, "/app/programs/%lld", (long long)p->id),
			    ctx, "done=enrolled");
}

/* ---------------------------------------------------------------- the end-of-day report */

void page_coord_day(struct req *r)
{
	struct program *p = NULL;
	struct enrolment *ens = NULL;
	struct progress_line *lines = NULL, *miss = NULL;
	size_t nens = 0, nlines = 0, nmiss = 0;
	const char *day = req_param(r, "day"), *fmt = req_param(r, "format");
	struct json_object *data, *rep, *notes, *missing;
	int64_t ctx;
	enum at_rc rc;

	if (!page_coord_course(r, &ctx) || !load_program(r, &p))
		return;
	if (day == NULL || *day == '\0')
		day = progress_day(r->arena, api_now());
	else if (!progress_day_ok(day)) {
		http_error_page(r, 400, "Bad date", "Day: enter a date written YYYY-MM-DD.");
		return;
	}
	if (fmt != NULL && strcmp(fmt, "csv") == 0) {
		api_report_day_of(r, p, ctx, day, true);
		return;
	}
	rc = enrolment_list_context(g_app.db, r->arena, ctx, p->id, &ens, &nens);
	if (rc == AT_OK)
		rc = progress_day_list(g_app.db, r->arena, p->id, day, &lines, &nlines);
	if (rc == AT_OK)
		rc = progress_missing(g_app.db, r->arena, p->id, day, &miss, &nmiss);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot build the day report");
		return;
	}
	data = page_coord_root(r, ctx);
	if (data == NULL)
		return;
	rep = json_object_new_array();
	notes = json_object_new_array();
	missing = json_object_new_array();
	for (size_t i = 0; i < nlines + nmiss; i++) {
		const struct progress_line *l = i < nlines ? &lines[i] : &miss[i - nlines];
		struct json_object *x;
		bool ours = false;

		for (size_t k = 0; k < nens && !ours; k++)
			ours = ens[k].id == l->enrolment_id;
		if (!ours)
			continue;
		x = json_object_new_object();
		page_coord_int(x, "enrolment_id", l->enrolment_id);
		page_coord_str(x, "name", l->name);
		page_coord_str(x, "author", l->author);
		page_coord_str(x, "text", l->text);
		page_coord_str(x, "line", l->line);
		json_object_array_add(i >= nlines ? missing : strcmp(l->kind, "note") == 0 ? notes :
				      rep, x);
	}
	json_object_object_add(data, "reports", rep);
	json_object_object_add(data, "notes", notes);
	json_object_object_add(data, "missing", missing);
	page_coord_int(data, "program_id", p->id);
	page_coord_str(data, "program_title", p->title);
	page_coord_str(data, "day", day);
	tmpl_page(r, arena_printf(r->arena, "End of day %s", day), "coord/day", data);
}

/* ---------------------------------------------------------------- one learner */

/* The enrolment of the {id} segment if the user manages its course; else 404. */
static bool load_enrolment(struct req *r, struct enrolment *e)
{
	int64_t id = req_path_id(r);
	enum at_rc rc = AT_NOTFOUND;

	if (id > 0)
		rc = enrolment_get(g_app.db, r->arena, id, e);
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		http_error(r, rc, "cannot load enrolment %lld", (long long)id);
		return false;
	}
	if (rc == AT_NOTFOUND || !enrolment_may_manage(g_app.db, e, r->sess->s.user_id)) {
		http_error_page(r, 404, "Not found", "There is no such learner in your courses.");
		return false;
	}
	return true;
}

/* What the forms of the learner page hold when one is shown again. */
struct learner_form {
	const char *note, *note_day, *outcome, *justification, *group;
	int64_t decision_id;
	const char *feedback_url;	/* a link just made: shown once */
	const char *feedback_form;
	const char *grant_outcome, *grant_justification;
};

static const char *outcome_label(const char *o)
{
	if (o == NULL)
		return "";
	if (strcmp(o, "pass") == 0)
		return "pass";
	if (strcmp(o, "fail") == 0)
		return "fail";
	if (strcmp(o, "not_yet") == 0)
		return "not yet";
	return o;
}

/* The outcomes a coordinator may choose when overriding: pass/fail, or the tiers and
 * the rule's fallback. */
static struct json_object *outcomes_json(const struct program *p, const char *sel)
{
	struct json_object *list = json_object_new_array(), *v;
	const char *fallback = "not_yet";

	if (p->rule != NULL && json_object_object_get_ex(p->rule, "fallback", &v) &&
	    json_object_is_type(v, json_type_string))
		fallback = json_object_get_string(v);
	for (size_t i = 0; i < p->n_tiers + 2; i++) {
		struct json_object *x = json_object_new_object();
		const char *key, *label;

		if (p->n_tiers == 0 && i >= 2)
			break;
		if (p->n_tiers == 0) {
			key = i == 0 ? "pass" : "fail";
			label = key;
		} else if (i < p->n_tiers) {
			key = p->tiers[i].key;
			label = p->tiers[i].label ? p->tiers[i].label : key;
		} else if (i == p->n_tiers) {
			key = fallback;
			label = outcome_label(fallback);
		} else {
			json_object_put(x);
			break;
		}
		page_coord_str(x, "key", key);
		page_coord_str(x, "label", label);
		page_coord_bool(x, "selected", sel != NULL && strcmp(sel, key) == 0);
		json_object_array_add(list, x);
	}
	return list;
}

/* An outcome in words: a tier's label (its key when it has none), else outcome_label(). */
static const char *outcome_text(const struct program *p, const char *o)
{
	const struct program_tier *t = p != NULL && o != NULL ? program_tier(p, o) : NULL;

	return t != NULL && t->label != NULL ? t->label : outcome_label(o);
}

static struct json_object *decision_json(struct req *r, const struct program *p,
					 const struct decision *d)
{
	struct json_object *o = json_object_new_object(), *basis, *v;

	page_coord_int(o, "id", d->id);
	page_coord_str(o, "status", d->status);
	page_coord_str(o, "proposed", outcome_text(p, d->proposed_outcome));
	page_coord_str(o, "final", outcome_text(p, d->final_outcome));
	page_coord_str(o, "justification", d->justification);
	page_coord_str(o, "proposed_on", page_coord_date(r, d->proposed_at));
	page_coord_str(o, "decided_on", page_coord_date(r, d->decided_at));
	page_coord_bool(o, "expired", d->expired);
	basis = json_tokener_parse(d->basis ? d->basis : "{}");
	if (basis != NULL) {
		/* the rule's own words: "4 of the last 5 passed (80 %)" */
		int64_t passed = -1, seen = -1;

		if (json_object_object_get_ex(basis, "passed", &v))
			passed = json_object_get_int64(v);
		if (json_object_object_get_ex(basis, "observations", &v))
			seen = json_object_get_int64(v);
		if (passed >= 0 && seen >= 0)
			page_coord_str(o, "basis", arena_printf(r->arena, "%lld of %lld counted "
				       "observations passed", (long long)passed, (long long)seen));
		if (json_object_object_get_ex(basis, "granted", &v) && json_object_get_boolean(v))
			page_coord_str(o, "basis", "granted: a certification held already");
		json_object_put(basis);
	}
	return o;
}

/* The certifications a coordinator may record as held already: the tiers, or pass. */
static struct json_object *grants_json(const struct program *p, const char *sel)
{
	struct json_object *list = json_object_new_array();

	for (size_t i = 0; i < (p->n_tiers > 0 ? p->n_tiers : 1); i++) {
		struct json_object *x = json_object_new_object();
		const char *key = p->n_tiers > 0 ? p->tiers[i].key : "pass";
		const char *label = p->n_tiers > 0 && p->tiers[i].label ? p->tiers[i].label : key;

		page_coord_str(x, "key", key);
		page_coord_str(x, "label", label);
		page_coord_bool(x, "selected", sel != NULL && strcmp(sel, key) == 0);
		json_object_array_add(list, x);
	}
	return list;
}

/* Is key one of the outcomes grants_json offers? */
static bool grantable(const struct program *p, const char *key)
{
	if (key == NULL)
		return false;
	if (p->n_tiers == 0)
		return strcmp(key, "pass") == 0;
	return program_tier(p, key) != NULL;
}

/* Does the program define a feedback form with this key? */
static bool has_form(const struct program *p, const char *key)
{
	return key != NULL && program_form(p, key) != NULL;
}

/* The answers of a response as [{key, value}] (scalars printed, in the stored order). */
static struct json_object *answers_json(const char *text)
{
	struct json_object *list = json_object_new_array(), *root = json_tokener_parse(text);

	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return list;
	}
	json_object_object_foreach(root, k, v) {
		struct json_object *x = json_object_new_object();

		page_coord_str(x, "key", k);
		page_coord_str(x, "value", v == NULL ? "" : json_object_is_type(v, json_type_string) ?
			       json_object_get_string(v) : json_object_to_json_string_ext(v,
			       JSON_C_TO_STRING_PLAIN));
		json_object_array_add(list, x);
	}
	json_object_put(root);
	return list;
}

static void learner_page(struct req *r, const struct enrolment *e, int status,
			 const char *field, const char *error, const struct learner_form *f)
{
	struct program *p = NULL;
	struct observation *obs = NULL;
	struct progress_line *lines = NULL;
	struct assign_person *assigned = NULL, *staff = NULL;
	struct dashboard_feedback *fb = NULL;
	struct decision cur, pend;
	struct rules_escalation esc;
	int64_t *dids = NULL, now = api_now();
	size_t nobs = 0, nlines = 0, nassigned = 0, nstaff = 0, nfb = 0, nd = 0;
	struct json_object *data, *x, *list;
	const char *cohort = "";
	enum at_rc rc;

	rc = program_load(g_app.db, r->arena, e->program_key, 0, &p);
	if (rc == AT_OK)
		rc = observation_effective(g_app.db, r->arena, e->id, 0, NULL, &obs, &nobs);
	if (rc == AT_OK)
		rc = progress_list(g_app.db, r->arena, e->id, &lines, &nlines);
	if (rc == AT_OK)
		rc = assign_assessors(g_app.db, r->arena, e->id, &assigned, &nassigned);
	if (rc == AT_OK)
		rc = assign_staff(g_app.db, r->arena, e->context_id, &staff, &nstaff);
	if (rc == AT_OK)
		rc = dashboard_feedback(g_app.db, r->arena, e->id, &fb, &nfb);
	if (rc == AT_OK)
		rc = enrolment_decision_ids(g_app.db, r->arena, e->id, &dids, &nd);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load the learner page of enrolment %lld",
			   (long long)e->id);
		return;
	}
	{
		/* the group label is not in struct enrolment: read it from the dashboard row */
		struct dashboard_row *rows = NULL;
		size_t n = 0;

		if (dashboard_rows(g_app.db, r->arena, p, e->context_id, now, NULL, &rows, &n) ==
		    AT_OK)
			for (size_t i = 0; i < n; i++)
				if (rows[i].enrolment_id == e->id)
					cohort = rows[i].cohort;
	}
	data = page_coord_root(r, e->context_id);
	if (data == NULL)
		return;
	page_coord_int(data, "enrolment_id", e->id);
	page_coord_str(data, "name", e->learner_name);
	page_coord_int(data, "program_id", e->program_id);
	page_coord_str(data, "program_title", e->program_title);
	page_coord_str(data, "status", e->status);
	page_coord_str(data, "started_on", page_coord_date(r, e->started_at));
	page_coord_str(data, "completed_on", page_coord_date(r, e->completed_at));
	page_coord_str(data, "group", f && f->group ? f->group : cohort);
	rules_escalation(p, e->started_at, now, e->completed_at > 0 ||
			 strcmp(e->status, "active") != 0, &esc);
	page_coord_str(data, "deadline", bizday_str(r, esc.deadline));
	page_coord_bool(data, "overdue", esc.overdue);
	if (esc.step >= 0) {
		page_coord_str(data, "step", esc.step_label ? esc.step_label : esc.step_key);
		page_coord_str(data, "step_day", bizday_str(r, esc.step_day));
		page_coord_bool(data, "step_today", esc.due_today);
	}
	/* observations */
	list = json_object_new_array();
	for (size_t i = 0; i < nobs; i++) {
		x = json_object_new_object();
		page_coord_str(x, "day", page_coord_date(r, obs[i].observed_at));
		page_coord_str(x, "rater_role", obs[i].rater_role);
		page_coord_str(x, "score", arena_printf(r->arena, "%lld", (long long)
			       (obs[i].score / 100)));
		page_coord_bool(x, "passed", obs[i].passed);
		page_coord_bool(x, "self", strcmp(obs[i].rater_role, "self") == 0);
		page_coord_bool(x, "critical_missed", obs[i].critical_missed);
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "observations", list);
	/* decisions */
	if (decision_pending(g_app.db, r->arena, e->id, &pend) == AT_OK) {
		x = decision_json(r, p, &pend);
		json_object_object_add(x, "outcomes", outcomes_json(p, f && f->outcome ? f->outcome :
				       NULL));
		page_coord_str(x, "justification_typed", f && f->justification ?
			       f->justification : "");
		json_object_object_add(data, "pending", x);
	}
	if (decision_current(g_app.db, r->arena, e->id, now, &cur) == AT_OK)
		json_object_object_add(data, "decision", decision_json(r, p, &cur));
	json_object_object_add(data, "grants", grants_json(p, f ? f->grant_outcome : NULL));
	page_coord_str(data, "grant_typed", f && f->grant_justification ?
		       f->grant_justification : "");
	list = json_object_new_array();
	for (size_t i = nd; i-- > 0;) {
		struct decision d;

		if (decision_get(g_app.db, r->arena, dids[i], &d) == AT_OK)
			json_object_array_add(list, decision_json(r, p, &d));
	}
	json_object_object_add(data, "history", list);
	/* notes and reports */
	list = json_object_new_array();
	for (size_t i = 0; i < nlines; i++) {
		x = json_object_new_object();
		page_coord_str(x, "kind", lines[i].kind);
		page_coord_bool(x, "is_note", strcmp(lines[i].kind, "note") == 0);
		page_coord_str(x, "line", arena_printf(r->arena, "%s - %s - %s", lines[i].day,
			       strcmp(lines[i].kind, "note") == 0 ? lines[i].author : lines[i].name,
			       lines[i].text));
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "lines", list);
	page_coord_str(data, "today", progress_day(r->arena, now));
	page_coord_str(data, "note_typed", f && f->note ? f->note : "");
	page_coord_str(data, "note_day", f && f->note_day ? f->note_day :
		       progress_day(r->arena, now));
	/* assessors */
	list = json_object_new_array();
	for (size_t i = 0; i < nassigned; i++) {
		x = json_object_new_object();
		page_coord_int(x, "id", assigned[i].id);
		page_coord_str(x, "name", assigned[i].name);
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "assessors", list);
	list = json_object_new_array();
	for (size_t i = 0; i < nstaff; i++) {
		bool has = false;

		for (size_t k = 0; k < nassigned; k++)
			has = has || assigned[k].id == staff[i].id;
		if (has)
			continue;
		x = json_object_new_object();
		page_coord_int(x, "id", staff[i].id);
		page_coord_str(x, "name", staff[i].name);
		json_object_array_add(list, x);
	}
	page_coord_bool(data, "has_staff", json_object_array_length(list) > 0);
	json_object_object_add(data, "staff", list);
	/* feedback */
	list = json_object_new_array();
	for (size_t i = 0; i < p->n_forms; i++) {
		x = json_object_new_object();
		page_coord_str(x, "key", p->forms[i].key);
		page_coord_str(x, "title", p->forms[i].title ? p->forms[i].title : p->forms[i].key);
		page_coord_bool(x, "selected", f && f->feedback_form &&
				strcmp(f->feedback_form, p->forms[i].key) == 0);
		json_object_array_add(list, x);
	}
	page_coord_bool(data, "has_forms", p->n_forms > 0);
	json_object_object_add(data, "forms", list);
	list = json_object_new_array();
	for (size_t i = 0; i < nfb; i++) {
		const struct program_form *pf = program_form(p, fb[i].form_key);

		x = json_object_new_object();
		page_coord_str(x, "form", pf && pf->title ? pf->title : fb[i].form_key);
		page_coord_str(x, "created_on", page_coord_date(r, fb[i].created_at));
		page_coord_str(x, "created_by", fb[i].created_by);
		page_coord_str(x, "expires_on", page_coord_date(r, fb[i].expires_at));
		page_coord_str(x, "state", fb[i].has_response ? "answered" : fb[i].expires_at <= now ?
			       "expired" : "waiting for an answer");
		page_coord_bool(x, "answered", fb[i].has_response);
		page_coord_str(x, "answered_on", page_coord_date(r, fb[i].used_at));
		if (fb[i].has_score)
			page_coord_str(x, "score", arena_printf(r->arena, "%lld.%02lld",
				       (long long)(fb[i].score / 100), (long long)(fb[i].score % 100)));
		json_object_object_add(x, "answers", answers_json(fb[i].answers));
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "feedback", list);
	if (f && f->feedback_url)
		page_coord_str(data, "new_link", f->feedback_url);
	set_flash(r, data);
	if (error != NULL)
		set_error(data, field, error);
	r->status = status;
	tmpl_page(r, e->learner_name, "coord/learner", data);
}

void page_coord_learner(struct req *r)
{
	struct enrolment e;

	if (load_enrolment(r, &e))
		learner_page(r, &e, 200, NULL, NULL, NULL);
}

static void back_to_learner(struct req *r, const struct enrolment *e, const char *done)
{
	page_coord_redirect(r, arena_printf(r->arena, "/app/coord/enrolments/%lld",
					    (long long)e->id), e->context_id,
			    arena_printf(r->arena, "done=%s", done));
}

static bool blank(const char *s)
{
	return s == NULL || strspn(s, " \t\r\n") == strlen(s);
}

/* POST .../note: text, day (default today). */
void page_coord_note(struct req *r)
{
	struct enrolment e;
	struct learner_form f = { 0 };
	struct at_err err = { "" };
	int64_t id = 0;
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	f.note = req_param(r, "text");
	f.note_day = req_param(r, "day");
	if (blank(f.note_day))
		f.note_day = progress_day(r->arena, api_now());
	if (!progress_day_ok(f.note_day)) {
		learner_page(r, &e, 400, "day", "Day: enter a date written YYYY-MM-DD.", &f);
		return;
	}
	if (blank(f.note)) {
		learner_page(r, &e, 400, "text", "Note: write something first.", &f);
		return;
	}
	rc = progress_note_add(g_app.db, e.id, r->sess->s.user_id, f.note_day, f.note, api_now(),
			       &id, &err);
	if (rc == AT_BADREQ || rc == AT_TOOBIG) {
		learner_page(r, &e, 400, "text", rc == AT_TOOBIG ? "Note: it is too long." :
			     "Note: it is not valid text.", &f);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot save the note: %s", err.msg);
		return;
	}
	back_to_learner(r, &e, "note");
}

/* POST .../group: group ("" clears it). */
void page_coord_group(struct req *r)
{
	struct enrolment e;
	struct learner_form f = { 0 };
	struct at_err err = { "" };
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	f.group = req_param(r, "group");
	rc = assign_cohort_set(g_app.db, e.id, f.group ? f.group : "", r->sess->s.user_id,
			       api_now(), &err);
	if (rc == AT_BADREQ) {
		learner_page(r, &e, 400, "group", "Group: at most 100 characters, on one line.",
			     &f);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot save the group: %s", err.msg);
		return;
	}
	back_to_learner(r, &e, "group");
}

/* POST .../assessors: add=ID or remove=ID. */
void page_coord_assessors(struct req *r)
{
	struct enrolment e;
	struct at_err err = { "" };
	int64_t id = 0;
	bool add = req_param(r, "add") != NULL;
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	if (req_param_i64(r, add ? "add" : "remove", 1, INT64_MAX, &id) != AT_OK) {
		learner_page(r, &e, 400, "assessor", "Assessor: choose someone from the list.",
			     NULL);
		return;
	}
	rc = add ? assign_assessor_add(g_app.db, e.id, id, r->sess->s.user_id, api_now(), &err) :
	     assign_assessor_remove(g_app.db, e.id, id, r->sess->s.user_id, api_now(), &err);
	if (rc == AT_BADREQ || rc == AT_NOTFOUND) {
		learner_page(r, &e, 400, "assessor", add ? "Assessor: only an assessor or "
			     "instructor of this course can be assigned." :
			     "Assessor: this person is not assigned.", NULL);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot save the assessors: %s", err.msg);
		return;
	}
	back_to_learner(r, &e, "assessor");
}

/* POST .../evaluate: run the program's rule; a result is a proposal to confirm. */
void page_coord_evaluate(struct req *r)
{
	struct enrolment e;
	struct rules_enrolment re;
	struct rules_result res;
	struct at_err err = { "" };
	int64_t now = api_now(), did = 0;
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	rc = rules_load_inputs(g_app.db, r->arena, e.id, now, &re);
	if (rc == AT_OK)
		rc = rules_evaluate(re.program, NULL, &re.in, r->arena, &res);
	if (rc == AT_OK && strcmp(res.outcome, "pending") == 0) {
		back_to_learner(r, &e, "pending");
		return;
	}
	if (rc == AT_OK)
		rc = decision_propose(g_app.db, e.id, res.outcome, res.basis, now, &did, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot evaluate the rule: %s", err.msg);
		return;
	}
	back_to_learner(r, &e, "evaluated");
}

/* The decision of the {id} segment and its enrolment, if the user manages it; else 404. */
static bool load_decision(struct req *r, struct decision *d, struct enrolment *e)
{
	int64_t id = req_path_id(r);
	enum at_rc rc = AT_NOTFOUND;

	if (id > 0)
		rc = decision_get(g_app.db, r->arena, id, d);
	if (rc == AT_OK)
		rc = enrolment_get(g_app.db, r->arena, d->enrolment_id, e);
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		http_error(r, rc, "cannot load decision %lld", (long long)id);
		return false;
	}
	if (rc == AT_NOTFOUND || !enrolment_may_manage(g_app.db, e, r->sess->s.user_id)) {
		http_error_page(r, 404, "Not found", "There is no such decision in your courses.");
		return false;
	}
	return true;
}

/* The end of a confirm or override (what) that answered rc — decided, and the enrolment
 * closed when the outcome closes it, in one transaction: 409 on the learner page when the
 * proposal was decided meanwhile; else back to the learner saying done, or 500. f: the
 * form to show again (NULL: none). */
static void decided(struct req *r, struct enrolment *e, enum at_rc rc,
		    struct learner_form *f, const char *what, const char *done,
		    const struct at_err *err)
{
	if (rc == AT_CONFLICT) {
		learner_page(r, e, 409, "decision", "This proposal is no longer open: someone "
			     "decided it, or the rule proposed again.", f);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot %s: %s", what, err->msg);
		return;
	}
	back_to_learner(r, e, done);
}

void page_coord_confirm(struct req *r)
{
	struct decision d;
	struct enrolment e;
	struct at_err err = { "" };
	enum at_rc rc;

	if (!load_decision(r, &d, &e))
		return;
	rc = decision_confirm(g_app.db, d.id, r->sess->s.user_id, true, api_now(), &err);
	decided(r, &e, rc, NULL, "confirm", "confirmed", &err);
}

/* POST .../override: outcome, justification (required, at least 10 characters). */
void page_coord_override(struct req *r)
{
	struct decision d;
	struct enrolment e;
	struct learner_form f = { 0 };
	struct at_err err = { "" };
	const char *j;
	enum at_rc rc;

	if (!load_decision(r, &d, &e))
		return;
	f.outcome = req_param(r, "outcome");
	f.justification = req_param(r, "justification");
	f.decision_id = d.id;
	if (blank(f.outcome) || strlen(f.outcome) > 200) {
		learner_page(r, &e, 400, "outcome", "Outcome: choose the outcome that stands.",
			     &f);
		return;
	}
	j = f.justification ? f.justification : "";
	j += strspn(j, " \t\r\n");
	if (blank(j)) {
		learner_page(r, &e, 400, "justification", "Justification: an override needs a "
			     "justification. Say why the rule's proposal does not stand.", &f);
		return;
	}
	if (strlen(j) < DECISION_JUSTIFICATION_MIN || strlen(j) > DECISION_TEXT_MAX) {
		learner_page(r, &e, 400, "justification", "Justification: write at least 10 "
			     "characters (and at most 16384).", &f);
		return;
	}
	rc = decision_override(g_app.db, d.id, r->sess->s.user_id, true, f.outcome,
			       f.justification, api_now(), &err);
	if (rc == AT_BADREQ) {
		learner_page(r, &e, 400, "justification", "Justification: write at least 10 "
			     "characters.", &f);
		return;
	}
	decided(r, &e, rc, &f, "override", "overridden", &err);
}

/* POST .../feedback: form. The new link is shown on the page answering the POST (it holds
 * the secret token, shown once: it never goes into a redirect URL). */
void page_coord_feedback(struct req *r)
{
	struct enrolment e;
	struct learner_form f = { 0 };
	struct program *p = NULL;
	struct at_err err = { "" };
	char *token = NULL;
	int64_t link = 0;
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	f.feedback_form = req_param(r, "form");
	rc = program_load(g_app.db, r->arena, e.program_key, 0, &p);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load program %s", e.program_key);
		return;
	}
	if (!has_form(p, f.feedback_form)) {
		learner_page(r, &e, 400, "form", "Feedback form: choose one of the program's "
			     "forms.", &f);
		return;
	}
	rc = feedback_link_create(g_app.db, r->arena, e.id, f.feedback_form, r->sess->s.user_id,
				  feedback_form_ttl_days(p, f.feedback_form) * 86400, api_now(), &token,
				  &link, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot make the feedback link: %s", err.msg);
		return;
	}
	f.feedback_url = arena_printf(r->arena, "%s/feedback/%s", g_app.cfg.base_url, token);
	(void)http_header(r, "Cache-Control", "no-store");
	learner_page(r, &e, 200, NULL, NULL, &f);
}

/* POST .../grant: outcome (a tier, or pass), justification (required, at least 10
 * characters) — record a certification the learner holds already (e.g. the first
 * experienced Lead, certified before Attest: she must hold it to assess others). Stored as
 * a decision proposed and overridden at once, its basis {"granted": true}, as the API's
 * POST /api/v1/enrolments/{id}/grant does. */
void page_coord_grant(struct req *r)
{
	struct enrolment e;
	struct learner_form f = { 0 };
	struct program *p = NULL;
	struct json_object *basis;
	struct at_err err = { "" };
	int64_t did = 0, now = api_now();
	const char *j;
	enum at_rc rc;

	if (!load_enrolment(r, &e))
		return;
	rc = program_load(g_app.db, r->arena, e.program_key, 0, &p);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load program %s", e.program_key);
		return;
	}
	f.grant_outcome = req_param(r, "outcome");
	f.grant_justification = req_param(r, "justification");
	if (!grantable(p, f.grant_outcome)) {
		learner_page(r, &e, 400, "grant_outcome", "Certification held: choose one of the "
			     "program's certifications.", &f);
		return;
	}
	j = f.grant_justification ? f.grant_justification : "";
	j += strspn(j, " \t\r\n");
	if (strlen(j) < DECISION_JUSTIFICATION_MIN || strlen(j) > DECISION_TEXT_MAX) {
		learner_page(r, &e, 400, "grant_justification", "Justification: say where the "
			     "certification comes from, in at least 10 characters.", &f);
		return;
	}
	basis = json_object_new_object();
	json_object_object_add(basis, "granted", json_object_new_boolean(1));
	json_object_object_add(basis, "granted_by", json_object_new_int64(r->sess->s.user_id));
	rc = decision_propose(g_app.db, e.id, f.grant_outcome,
			      json_object_to_json_string_ext(basis, JSON_C_TO_STRING_PLAIN), now,
			      &did, &err);
	json_object_put(basis);
	if (rc == AT_OK)
		rc = decision_override(g_app.db, did, r->sess->s.user_id, true, f.grant_outcome,
				       j, now, &err);
	if (rc == AT_BADREQ) {
		learner_page(r, &e, 400, "grant_justification", "Justification: write at least 10 "
			     "characters.", &f);
		return;
	}
	decided(r, &e, rc, &f, "record the certification", "granted", &err);
}
