/* page_learner.c: the learner's pages, after an LTI launch.
 *
 *   GET  /app (learners; page_app.c calls page_learner_home) and GET /app/learner:
 *        "My programs" — each enrolment with its status, what is due next and by when,
 *        progress per competency (current vs target level), decisions and certificates.
 *   GET  /app/enrolments/{id}               one program: competencies, scorecards of every
 *        observation with the assessor's feedback, evidence, decision, notes, the daily
 *        progress report form, self-evaluations.
 *   GET  /app/enrolments/{id}/evidence      upload photos, videos, files (web/static/
 *        evidence.js posts to /api/v1/evidence), add links and notes, see the reviews.
 *   GET  /app/enrolments/{id}/record        the record of learning, printable (CSV: the API).
 *   GET  /app/enrolments/{id}/certificate   printable, only when a decision certifies.
 *   POST /app/enrolments                    enrol yourself in a program placed in the
 *        course by deep linking (the only ones the form offers; others are refused, 403).
 *   POST /app/enrolments/{id}/progress      the day's progress report.
 *   POST /app/enrolments/{id}/evidence      a link or a note as evidence.
 *   POST /app/enrolments/{id}/self-evaluation  start (or continue) a self-evaluation; it is
 *        filled in on the observation page (GET /app/observations/{id}).
 *
 * Authorization, on every request: the enrolment's learner sees it; an assessor or admin of
 * its course (enrolment_may_manage) sees it too; anyone else gets 404, as from the API.
 * Pages are data trees rendered by templates in web/templates/learner/ (fcgi/tmpl.h).
 */
#include <json-c/json.h>
#include <string.h>

#include "core/bizdays.h"
#include "core/decision.h"
#include "core/enrolment.h"
#include "core/evidence.h"
#include "core/identity.h"
#include "core/observation.h"
#include "core/program.h"
#include "core/progress.h"
#include "core/rating.h"
#include "core/rules.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

#define CSS "learner.css"

static const char SQL_CHECKLIST_ID[] =
	"SELECT id FROM checklist WHERE program_id = ?1 AND key = ?2";
/* The learner's unfinished self-evaluations of one enrolment. */
static const char SQL_SELF_DRAFTS[] =
	"SELECT o.id, c.key, o.created_at FROM observation o JOIN checklist c ON c.id = "
	"o.checklist_id WHERE o.enrolment_id = ?1 AND o.assessor_id = ?2 AND o.rater_role = "
	"'self' AND o.status = 'draft' ORDER BY o.id";

/* ------------------------------------------------------------------ small helpers */

static void put(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void put_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v != NULL ? v : ""));
}

static void put_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void put_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static const char *day_of(struct arena *a, int64_t t)
{
	return t > 0 ? progress_day(a, t) : "";
}

static const char *bizday(struct arena *a, int32_t d)
{
	char s[11];

	if (d < 0)
		return "";
	bizdays_format(d, s);
	return arena_strdup(a, s);
}

static const char *user_name(struct req *r, int64_t id)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	if (id <= 0 || identity_user_get(g_app.db, r->arena, id, &u) != AT_OK)
		return "";
	if (u.name != NULL && *u.name)
		return u.name;
	if (u.given_name != NULL && *u.given_name)
		return arena_printf(r->arena, "%s %s", u.given_name,
				    u.family_name ? u.family_name : "");
	return arena_printf(r->arena, "user %lld", (long long)id);
}

/* Every value of form parameter key (a checkbox group), from r's params. */
static size_t params_all(struct req *r, const char *key, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nparams && n < max; i++)
		if (strcmp(r->params[i].key, key) == 0)
			out[n++] = r->params[i].val;
	return n;
}

static bool parse_pos(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return false;
	*out = v;
	return true;
}

static bool blank(const char *s)
{
	return s == NULL || strspn(s, " \t\r\n") == strlen(s);
}

static void not_found(struct req *r)
{
	http_error_page(r, 404, "Not found", "There is no such program here for you.");
}

/* ------------------------------------------------------------------ one enrolment */

struct view {
	struct enrolment e;
	bool own;			/* the session's user is its learner */
	struct program *p;
	struct enrolment_comp *comps;
	size_t ncomps;
	struct enrolment_obs *obs;	/* every submitted observation, oldest first */
	size_t nobs;
	enum rating_policy pol;
	struct rules_escalation esc;
	struct decision cur, pend;
	bool has_cur, has_pend;
	struct progress_line *lines;
	size_t nlines;
	int64_t now;
};

/* Load the enrolment of the {id} segment for the caller: false after answering 404 (no
 * such enrolment, or one the caller may not see) or 500. */
static bool load_enrolment(struct req *r, struct enrolment *e, bool *own)
{
	int64_t id, me = r->sess->s.user_id;
	enum at_rc rc;

	if (!parse_pos(r->pathvar, &id)) {
		not_found(r);
		return false;
	}
	rc = enrolment_get(g_app.db, r->arena, id, e);
	if (rc == AT_NOTFOUND) {
		not_found(r);
		return false;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load enrolment %lld", (long long)id);
		return false;
	}
	*own = e->user_id == me;
	if (!*own && !enrolment_may_manage(g_app.db, e, me)) {
		not_found(r);
		return false;
	}
	return true;
}

static enum at_rc view_fill(struct req *r, struct view *v)
{
	struct at_err err = { "" };
	enum at_rc rc;

	v->now = api_now();
	rc = program_load(g_app.db, r->arena, v->e.program_key, 0, &v->p);
	if (rc == AT_OK)
		rc = enrolment_program_competencies(g_app.db, r->arena, v->p, &v->comps,
						    &v->ncomps);
	if (rc == AT_OK)
		rc = enrolment_observations(g_app.db, r->arena, v->e.id, &v->obs, &v->nobs);
	if (rc == AT_OK)
		rc = progress_list(g_app.db, r->arena, v->e.id, &v->lines, &v->nlines);
	if (rc != AT_OK)
		return rc;
	if (rating_policy_of_program(g_app.db, v->e.program_id, &v->pol, &err) != AT_OK)
		v->pol = RATING_ASSESSOR_WINS;
	rules_escalation(v->p, v->e.started_at, v->now, v->e.completed_at > 0, &v->esc);
	rc = decision_current(g_app.db, r->arena, v->e.id, v->now, &v->cur);
	if (rc != AT_OK && rc != AT_NOTFOUND)
		return rc;
	v->has_cur = rc == AT_OK;
	rc = decision_pending(g_app.db, r->arena, v->e.id, &v->pend);
	if (rc != AT_OK && rc != AT_NOTFOUND)
		return rc;
	v->has_pend = rc == AT_OK;
	return AT_OK;
}

/* The enrolment of {id} with everything the pages show; false after answering. */
static bool view_load(struct req *r, struct view *v)
{
	enum at_rc rc;

	memset(v, 0, sizeof(*v));
	if (!load_enrolment(r, &v->e, &v->own))
		return false;
	rc = view_fill(r, v);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load enrolment %lld", (long long)v->e.id);
		return false;
	}
	return true;
}

/* The fallback outcome of a tiered program ("not yet"). */
static const char *fallback_of(const struct program *p)
{
	struct json_object *f;

	if (p->rule != NULL && json_object_object_get_ex(p->rule, "fallback", &f) &&
	    json_object_is_type(f, json_type_string))
		return json_object_get_string(f);
	return "not_yet";
}

/* Does outcome certify the learner? A tier of a tiered program, or "pass" for the others.
 * *label: what the certificate says. */
static bool certifies(const struct program *p, const char *outcome, const char **label)
{
	const struct program_tier *t;

	if (outcome == NULL)
		return false;
	if (p->n_tiers > 0) {
		t = program_tier(p, outcome);
		if (t == NULL)
			return false;
		*label = t->label != NULL && *t->label ? t->label : t->key;
		return true;
	}
	if (strcmp(outcome, "pass") != 0)
		return false;
	*label = p->title;
	return true;
}

/* Words for an outcome key. */
static const char *outcome_words(struct arena *a, const struct program *p, const char *o)
{
	const struct program_tier *t;

	if (o == NULL)
		return "";
	if (p->n_tiers > 0 && (t = program_tier(p, o)) != NULL)
		return t->label != NULL && *t->label ? t->label : t->key;
	if (strcmp(o, "pass") == 0)
		return "Passed";
	if (strcmp(o, "fail") == 0)
		return "Not passed";
	if (strcmp(o, "pending") == 0)
		return "Not enough results yet";
	if (strcmp(o, fallback_of(p)) == 0)
		return "Not yet";
	return arena_strdup(a, o);
}

/* The competency's scale, or NULL. */
static const struct rating_scale *scale_of(struct req *r, int64_t comp_id)
{
	struct rating_scale *sc = arena_zalloc(r->arena, sizeof(*sc));
	struct at_err err = { "" };

	if (rating_scale_of(g_app.db, r->arena, comp_id, sc, &err) != AT_OK)
		return NULL;
	return sc;
}

static int64_t comp_id_of(const struct view *v, const char *idnumber)
{
	for (size_t i = 0; i < v->ncomps; i++)
		if (strcmp(v->comps[i].idnumber, idnumber) == 0)
			return v->comps[i].id;
	return 0;
}

static const char *comp_name_by_id(const struct view *v, int64_t id)
{
	for (size_t i = 0; i < v->ncomps; i++)
		if (v->comps[i].id == id)
			return v->comps[i].shortname;
	return NULL;
}

/*
 * Progress per competency: the reconciled current level against the target. The target is
 * the level each tier asks for (the first tier's is the one shown as "target"); programs
 * without tiers aim at the first proficient level of the competency's scale.
 */
static struct json_object *competencies_json(struct req *r, const struct view *v,
					     size_t *met_out)
{
	struct json_object *list = json_object_new_array();
	size_t met = 0;

	for (size_t i = 0; i < v->ncomps; i++) {
		struct json_object *x = json_object_new_object(), *tiers = json_object_new_array();
		const struct rating_scale *sc = scale_of(r, v->comps[i].id);
		int64_t value = 0, level = 0, target = 0;
		int flags = 0;
		const char *how = NULL;
		bool rated = rating_current_explain(g_app.db, r->arena, v->e.user_id,
						    v->comps[i].id, v->pol, &value, &flags,
						    &how) == AT_OK;

		put_str(x, "idnumber", v->comps[i].idnumber);
		put_str(x, "shortname", v->comps[i].shortname);
		put_int(x, "id", v->comps[i].id);
		if (rated)
			level = value + 1;
		for (size_t t = 0; t < v->p->n_tiers; t++) {
			const struct program_tier *tier = &v->p->tiers[t];

			for (size_t k = 0; k < tier->n_targets; k++) {
				struct json_object *y;

				if (strcmp(tier->targets[k].competency, v->comps[i].idnumber) != 0)
					continue;
				y = json_object_new_object();
				put_str(y, "label", tier->label ? tier->label : tier->key);
				put_int(y, "level", tier->targets[k].level);
				put_bool(y, "met", level >= tier->targets[k].level);
				json_object_array_add(tiers, y);
				if (target == 0)
					target = tier->targets[k].level;
			}
		}
		if (target == 0 && v->p->n_tiers == 0 && sc != NULL) {
			int64_t fp = rating_scale_first_proficient(sc);

			if (fp >= 0)
				target = fp + 1;
		}
		put_bool(x, "rated", rated);
		put_int(x, "level", level);
		put_str(x, "level_name", rated && sc != NULL && value >= 0 &&
			(size_t)value < sc->n ? sc->names[value] : "");
		put_int(x, "max_level", sc != NULL ? (int64_t)sc->n : (target > level ? target :
									 level));
		put_int(x, "target", target);
		put_str(x, "target_name", sc != NULL && target > 0 && (size_t)target <= sc->n ?
			sc->names[target - 1] : "");
		put_bool(x, "has_target", target > 0);
		put_bool(x, "met", target > 0 && level >= target);
		put_bool(x, "review", (flags & RATING_FLAG_REVIEW) != 0);
		put_bool(x, "self_only", (flags & RATING_FLAG_SELF_ONLY) != 0);
		put(x, "tiers", tiers);
		if (target > 0 && level >= target)
			met++;
		json_object_array_add(list, x);
	}
	if (met_out != NULL)
		*met_out = met;
	return list;
}

static bool effective(const struct enrolment_obs *o)
{
	return o->superseded_by == 0;
}

static const struct program_checklist *checklist_of(const struct program *p, const char *key)
{
	return key != NULL ? program_checklist(p, key) : NULL;
}

/* Count the effective observations of checklist key by rater side ("self" or assessor). */
static void count_obs(const struct view *v, const char *key, bool self, int64_t *done,
		      int64_t *passed)
{
	*done = 0;
	*passed = 0;
	for (size_t i = 0; i < v->nobs; i++) {
		bool is_self = strcmp(v->obs[i].rater_role, "self") == 0;

		if (!effective(&v->obs[i]) || is_self != self ||
		    (key != NULL && strcmp(v->obs[i].checklist, key) != 0))
			continue;
		(*done)++;
		if (v->obs[i].passed)
			(*passed)++;
	}
}

static int64_t json_int(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *x;

	if (o != NULL && json_object_object_get_ex(o, k, &x) && json_object_is_type(x, json_type_int))
		return json_object_get_int64(x);
	return def;
}

static const char *json_str(struct json_object *o, const char *k)
{
	struct json_object *x;

	if (o != NULL && json_object_object_get_ex(o, k, &x) &&
	    json_object_is_type(x, json_type_string))
		return json_object_get_string(x);
	return NULL;
}

/* The observation counts the program's rule asks for: k_of_last_n, and "count" rules
 * anywhere under a tiered rule's "requires". Appends to list. */
static void rule_needs(struct req *r, const struct view *v, struct json_object *rule,
		       struct json_object *list, int depth)
{
	const char *type = json_str(rule, "type");
	struct json_object *sub;

	if (type == NULL || depth > 8)
		return;
	if (strcmp(type, "k_of_last_n") == 0 || strcmp(type, "count") == 0) {
		const char *key = json_str(rule, "checklist");
		const struct program_checklist *cl = checklist_of(v->p, key);
		const char *rater = json_str(rule, "rater");
		bool self = rater != NULL && strcmp(rater, "self") == 0;
		bool kn = strcmp(type, "k_of_last_n") == 0;
		int64_t done, passed, need = kn ? json_int(rule, "n", 0) : json_int(rule, "min", 0);
		struct json_object *x = json_object_new_object();

		count_obs(v, key, self, &done, &passed);
		put_str(x, "checklist", cl != NULL && cl->title ? cl->title : key);
		put_bool(x, "self", self);
		put_int(x, "done", done);
		put_int(x, "need", need);
		put_bool(x, "enough", done >= need);
		put_bool(x, "has_pass", kn);
		put_int(x, "passed", passed);
		put_int(x, "k", kn ? json_int(rule, "k", 0) : 0);
		json_object_array_add(list, x);
		(void)r;
		return;
	}
	if (json_object_object_get_ex(rule, "requires", &sub))
		rule_needs(r, v, sub, list, depth + 1);
	if (json_object_object_get_ex(rule, "rules", &sub) &&
	    json_object_is_type(sub, json_type_array))
		for (size_t i = 0; i < json_object_array_length(sub); i++)
			rule_needs(r, v, json_object_array_get_idx(sub, i), list, depth + 1);
}

/* What is due next and by when: the deadline, the escalation step in force and the next
 * one, the observations the rule still needs, today's progress report. */
static struct json_object *due_json(struct req *r, const struct view *v)
{
	struct json_object *o = json_object_new_object(), *needs = json_object_new_array();
	const struct rules_escalation *x = &v->esc;
	const char *today = progress_day(r->arena, v->now);
	bool reported = false;

	put_bool(o, "active", strcmp(v->e.status, "active") == 0);
	put_str(o, "deadline", bizday(r->arena, x->deadline));
	put_bool(o, "has_deadline", x->deadline >= 0);
	put_bool(o, "overdue", x->overdue);
	put_int(o, "elapsed", x->elapsed);
	put_bool(o, "has_step", x->step >= 0);
	put_str(o, "step_label", x->step_label ? x->step_label : x->step_key);
	put_str(o, "step_day", bizday(r->arena, x->step_day));
	put_bool(o, "step_today", x->due_today);
	put_bool(o, "has_next", x->next >= 0 && (size_t)x->next < v->p->n_steps);
	if (x->next >= 0 && (size_t)x->next < v->p->n_steps) {
		const struct program_step *s = &v->p->steps[x->next];

		put_str(o, "next_label", s->label && *s->label ? s->label : s->key);
		put_str(o, "next_day", bizday(r->arena, x->next_day));
	}
	if (v->p->rule != NULL)
		rule_needs(r, v, v->p->rule, needs, 0);
	put(o, "needs", needs);
	for (size_t i = 0; i < v->nlines; i++)
		if (strcmp(v->lines[i].kind, "report") == 0 && strcmp(v->lines[i].day, today) == 0)
			reported = true;
	put_bool(o, "reported_today", reported);
	put_str(o, "today", today);
	return o;
}

static struct json_object *decision_json(struct req *r, const struct view *v,
					 const struct decision *d)
{
	struct json_object *o = json_object_new_object();
	const char *label = NULL;
	const char *out = d->final_outcome ? d->final_outcome : d->proposed_outcome;
	bool cert = d->final_outcome != NULL && certifies(v->p, d->final_outcome, &label);

	put_int(o, "id", d->id);
	put_str(o, "status", d->status);
	put_str(o, "outcome", out);
	put_str(o, "outcome_words", outcome_words(r->arena, v->p, out));
	put_bool(o, "certifies", cert);
	put_str(o, "certificate", cert ? label : "");
	put_bool(o, "overridden", strcmp(d->status, "overridden") == 0);
	put_str(o, "justification", d->justification);
	put_str(o, "proposed_on", day_of(r->arena, d->proposed_at));
	put_str(o, "decided_on", day_of(r->arena, d->decided_at));
	put_str(o, "decided_by", d->decided_by > 0 ? user_name(r, d->decided_by) : "");
	put_bool(o, "expires", d->expires_at > 0);
	put_str(o, "expires_on", day_of(r->arena, d->expires_at));
	put_bool(o, "expired", d->expired);
	return o;
}

/* Everything "My programs" shows of one enrolment (also the head of its own page). */
static struct json_object *summary_json(struct req *r, const struct view *v)
{
	struct json_object *o = json_object_new_object();
	size_t met = 0;
	struct json_object *comps = competencies_json(r, v, &met);
	int64_t self_cl = 0;

	put_int(o, "id", v->e.id);
	put_str(o, "program", v->e.program_key);
	put_str(o, "program_title", v->e.program_title);
	put_str(o, "description", v->p->description);
	put_str(o, "learner", v->e.learner_name);
	put_str(o, "status", v->e.status);
	put_bool(o, "completed", strcmp(v->e.status, "completed") == 0);
	put_str(o, "started_on", day_of(r->arena, v->e.started_at));
	put_str(o, "completed_on", day_of(r->arena, v->e.completed_at));
	put(o, "competencies", comps);
	put_int(o, "competencies_met", (int64_t)met);
	put_int(o, "competencies_total", (int64_t)v->ncomps);
	put(o, "due", due_json(r, v));
	put(o, "decision", v->has_cur ? decision_json(r, v, &v->cur) : NULL);
	put(o, "pending", v->has_pend ? decision_json(r, v, &v->pend) : NULL);
	for (size_t i = 0; i < v->p->n_checklists; i++)
		if (v->p->checklists[i].by_self)
			self_cl++;
	put_bool(o, "self_evaluation", self_cl > 0 && v->own);
	if (v->e.context_id > 0 && v->e.context_id != r->sess->s.context_id) {
		struct context c;

		memset(&c, 0, sizeof(c));
		if (identity_context_get(g_app.db, r->arena, v->e.context_id, &c) == AT_OK)
			put_str(o, "other_course", c.title && *c.title ? c.title : c.label);
	}
	return o;
}

/* ------------------------------------------------------------------ scorecards */

/* How an answer reads: "Yes", "3 of 5 points", the scale value's name. */
static const char *answer_words(struct req *r, const struct view *v,
				const struct program_item *it, const struct obs_item_answer *a)
{
	if (a == NULL || !a->has_value)
		return it->kind == PROGRAM_COMMENT ? "" : "Not answered";
	switch (it->kind) {
	case PROGRAM_YESNO:
		return a->value ? "Yes" : "No";
	case PROGRAM_POINTS:
		return arena_printf(r->arena, "%lld%s of %lld%s points",
				    (long long)(a->value / 100), a->value % 100 ?
				    arena_printf(r->arena, ".%02lld", (long long)(a->value % 100)) :
				    "", (long long)(it->max_points / 100), it->max_points % 100 ?
				    arena_printf(r->arena, ".%02lld",
						 (long long)(it->max_points % 100)) : "");
	case PROGRAM_RATING: {
		const struct rating_scale *sc = it->n_competencies > 0 ?
			scale_of(r, comp_id_of(v, it->competencies[0])) : NULL;

		if (sc != NULL && a->value >= 0 && (size_t)a->value < sc->n)
			return arena_printf(r->arena, "%s (level %lld of %zu)",
					    sc->names[a->value], (long long)a->value + 1, sc->n);
		return arena_printf(r->arena, "level %lld", (long long)a->value + 1);
	}
	case PROGRAM_COMMENT:
		return "";
	}
	return "";
}

/* Was item it, answered a, a miss (a critical item that fails the observation)? */
static bool item_missed(struct req *r, const struct view *v, const struct program_item *it,
			const struct obs_item_answer *a)
{
	if (!it->critical || it->kind == PROGRAM_COMMENT)
		return false;
	if (a == NULL || !a->has_value)
		return true;
	if (it->kind == PROGRAM_YESNO || it->kind == PROGRAM_POINTS)
		return a->value == 0;
	if (it->kind == PROGRAM_RATING && it->n_competencies > 0) {
		const struct rating_scale *sc = scale_of(r, comp_id_of(v, it->competencies[0]));

		return sc != NULL && a->value < rating_scale_first_proficient(sc);
	}
	return false;
}

/* One submitted observation with every item, its answer, the score against the pass mark
 * and the rater's feedback. */
static struct json_object *scorecard_json(struct req *r, const struct view *v,
					  const struct enrolment_obs *eo)
{
	struct json_object *o = json_object_new_object(), *items = json_object_new_array();
	struct json_object *fb = json_object_new_array();
	const struct program_checklist *cl = checklist_of(v->p, eo->checklist);
	struct observation ob;
	bool self = strcmp(eo->rater_role, "self") == 0;

	memset(&ob, 0, sizeof(ob));
	put_int(o, "id", eo->id);
	put_str(o, "checklist", cl != NULL && cl->title ? cl->title : eo->checklist);
	put_str(o, "rater", eo->assessor);
	put_str(o, "rater_role", eo->rater_role);
	put_bool(o, "self", self);
	put_str(o, "observed_on", day_of(r->arena, eo->observed_at));
	put(o, "score", api_hundredths(eo->score));
	put(o, "max_score", api_hundredths(eo->max_score));
	put(o, "pass_mark", cl != NULL ? api_hundredths(cl->pass_mark) : NULL);
	put_bool(o, "has_pass_mark", cl != NULL && cl->pass_mark > 0 && !self);
	put_bool(o, "passed", eo->passed);
	put_bool(o, "critical_missed", eo->critical_missed);
	put_bool(o, "amended", eo->amends_id > 0);
	put_str(o, "amend_reason", eo->amend_reason);
	put_bool(o, "superseded", eo->superseded_by > 0);
	if (cl == NULL || observation_get(g_app.db, r->arena, eo->id, &ob) != AT_OK) {
		put(o, "items", items);
		put(o, "feedback", fb);
		return o;
	}
	for (size_t i = 0; i < cl->n_items; i++) {
		const struct program_item *it = &cl->items[i];
		const struct obs_item_answer *a = NULL;
		struct json_object *x = json_object_new_object();

		for (size_t k = 0; k < ob.nanswers; k++)
			if (strcmp(ob.answers[k].key, it->key) == 0)
				a = &ob.answers[k];
		put_str(x, "label", it->label);
		put_bool(x, "critical", it->critical);
		put_bool(x, "comment_item", it->kind == PROGRAM_COMMENT);
		put_str(x, "answer", answer_words(r, v, it, a));
		put_bool(x, "missed", item_missed(r, v, it, a));
		put_str(x, "text", a != NULL ? a->text : "");
		json_object_array_add(items, x);
	}
	for (size_t i = 0; i < cl->n_feedback; i++) {
		struct json_object *x = json_object_new_object();
		const char *text = "";

		for (size_t k = 0; k < ob.nfeedback; k++)
			if (strcmp(ob.feedback[k].key, cl->feedback[i].key) == 0)
				text = ob.feedback[k].text;
		if (blank(text))
			continue;
		put_str(x, "label", cl->feedback[i].label);
		put_str(x, "text", text);
		json_object_array_add(fb, x);
	}
	put(o, "items", items);
	put_bool(o, "has_feedback", json_object_array_length(fb) > 0);
	put(o, "feedback", fb);
	return o;
}

/* ------------------------------------------------------------------ evidence */

/* Evidence that belongs with this program: tied to one of its competencies or to one of
 * this enrolment's observations, or to nothing in particular. */
static bool evidence_relevant(const struct view *v, const struct evidence *ev)
{
	if (ev->observation_id > 0) {
		for (size_t i = 0; i < v->nobs; i++)
			if (v->obs[i].id == ev->observation_id)
				return true;
		return false;
	}
	if (ev->ncompetencies == 0)
		return true;
	for (size_t i = 0; i < ev->ncompetencies; i++)
		if (comp_name_by_id(v, ev->competency_ids[i]) != NULL)
			return true;
	return false;
}

static const char *size_words(struct arena *a, int64_t n)
{
	if (n < 1024)
		return arena_printf(a, "%lld bytes", (long long)n);
	if (n < 1024 * 1024)
		return arena_printf(a, "%lld KB", (long long)((n + 512) / 1024));
	return arena_printf(a, "%.1f MB", (double)n / (1024.0 * 1024.0));
}

static struct json_object *evidence_item_json(struct req *r, const struct view *v,
					      const struct evidence *ev)
{
	struct json_object *o = json_object_new_object(), *cs = json_object_new_array();
	bool file = strcmp(ev->kind, "file") == 0;
	const char *mt = ev->media_type ? ev->media_type : "";

	put_int(o, "id", ev->id);
	put_str(o, "kind", ev->kind);
	put_bool(o, "file", file);
	put_bool(o, "link", strcmp(ev->kind, "link") == 0);
	put_bool(o, "note_only", strcmp(ev->kind, "note") == 0);
	put_bool(o, "image", file && strncmp(mt, "image/", 6) == 0);
	put_bool(o, "video", file && strncmp(mt, "video/", 6) == 0);
	put_str(o, "filename", ev->filename);
	put_str(o, "media_type", mt);
	put_str(o, "size", file ? size_words(r->arena, ev->size) : "");
	put_str(o, "url", ev->url);
	put_str(o, "note", ev->note);
	put_str(o, "status", ev->status);
	put_bool(o, "pending", strcmp(ev->status, "pending") == 0);
	put_bool(o, "accepted", strcmp(ev->status, "accepted") == 0);
	put_bool(o, "rejected", strcmp(ev->status, "rejected") == 0);
	put_str(o, "review_comment", ev->review_comment);
	put_str(o, "reviewer", ev->reviewer_id > 0 ? user_name(r, ev->reviewer_id) : "");
	put_str(o, "reviewed_on", day_of(r->arena, ev->reviewed_at));
	put_str(o, "added_on", day_of(r->arena, ev->created_at));
	for (size_t i = 0; i < ev->ncompetencies; i++) {
		const char *n = comp_name_by_id(v, ev->competency_ids[i]);

		if (n != NULL)
			json_object_array_add(cs, json_object_new_string(n));
	}
	put(o, "competencies", cs);
	return o;
}

static enum at_rc evidence_json(struct req *r, const struct view *v, struct json_object **out,
				size_t *pending)
{
	struct evidence *ev = NULL;
	size_t n = 0;
	enum at_rc rc = evidence_list(g_app.db, r->arena, v->e.user_id, &ev, &n);

	*out = json_object_new_array();
	*pending = 0;
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!evidence_relevant(v, &ev[i]))
			continue;
		if (strcmp(ev[i].status, "pending") == 0)
			(*pending)++;
		json_object_array_add(*out, evidence_item_json(r, v, &ev[i]));
	}
	return AT_OK;
}

/* ------------------------------------------------------------------ notes, self-evaluations */

static struct json_object *notes_json(const struct view *v)
{
	struct json_object *list = json_object_new_array();

	for (size_t i = v->nlines; i-- > 0;) {	/* newest day first */
		struct json_object *x = json_object_new_object();

		put_str(x, "kind", v->lines[i].kind);
		put_bool(x, "report", strcmp(v->lines[i].kind, "report") == 0);
		put_str(x, "day", v->lines[i].day);
		put_str(x, "author", v->lines[i].author);
		put_str(x, "text", v->lines[i].text);
		json_object_array_add(list, x);
	}
	return list;
}

/* Checklists the learner may self-evaluate, each with its unfinished draft if any. */
static enum at_rc self_eval_json(struct req *r, const struct view *v, struct json_object **out)
{
	struct json_object *list = json_object_new_array();
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	*out = list;
	for (size_t i = 0; i < v->p->n_checklists; i++) {
		const struct program_checklist *cl = &v->p->checklists[i];
		struct json_object *x;
		int64_t done, passed;

		if (!cl->by_self)
			continue;
		count_obs(v, cl->key, true, &done, &passed);
		x = json_object_new_object();
		put_str(x, "key", cl->key);
		put_str(x, "title", cl->title ? cl->title : cl->key);
		put_int(x, "submitted", done);
		put_int(x, "draft", 0);
		json_object_array_add(list, x);
	}
	rc = db_prepare(g_app.db, SQL_SELF_DRAFTS, &st);
	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 1, v->e.id);
	db_bind_i64(st, 2, v->e.user_id);
	while ((rc = db_step(st, &row)) == AT_OK && row) {
		const char *key = db_col_text(st, 1);

		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *x = json_object_array_get_idx(list, i);

			if (key != NULL && strcmp(json_str(x, "key"), key) == 0 &&
			    json_int(x, "draft", 0) == 0) {
				put_int(x, "draft", db_col_i64(st, 0));
				put_str(x, "draft_on", day_of(r->arena, db_col_i64(st, 2)));
			}
		}
	}
	db_finalize(st);
	return rc;
}

/* ------------------------------------------------------------------ rendering */

static struct json_object *page_data(const char *js)
{
	struct json_object *d = json_object_new_object(), *css = json_object_new_array();

	json_object_array_add(css, json_object_new_string(CSS));
	put(d, "css", css);
	if (js != NULL) {
		struct json_object *j = json_object_new_array();

		json_object_array_add(j, json_object_new_string(js));
		put(d, "js", j);
	}
	return d;
}

/* Render template name into the layout with data (consumed), answering status. */
static void render(struct req *r, int status, const char *title, const char *name,
		   struct json_object *data)
{
	tmpl_page(r, title, name, data);
	json_object_put(data);
	if (status != 200 && r->status < 500)	/* not when rendering failed */
		http_status(r, status);
}


/* An error to show on a form, under key (e.g. "progress_error"): {"field", "message",
 * "field_<field>": true} — the template marks that field invalid and names it. */
static void put_error(struct req *r, struct json_object *d, const char *key, const char *field,
		      const char *message)
{
	struct json_object *e = json_object_new_object();

	put_str(e, "field", field);
	put_str(e, "message", message);
	put_bool(e, arena_printf(r->arena, "field_%s", field), true);
	put(d, key, e);
}

/* The layout's flash line after a POST/redirect/GET (?saved=...): a fixed message per known
 * name, never a value from the request. */
static void put_saved(struct req *r, struct json_object *d)
{
	static const char *const known[][2] = {
		{ "progress", "Your progress report is saved." },
		{ "link", "The link is added to your evidence." },
		{ "note", "The note is added to your evidence." },
		{ "enrolled", "You are enrolled. Here is what the program asks of you." },
	};
	const char *s = req_param(r, "saved");

	for (size_t i = 0; s != NULL && i < NELEM(known); i++)
		if (strcmp(s, known[i][0]) == 0)
			put_str(d, "flash", known[i][1]);
}

static const char *enrolment_url(struct req *r, int64_t id, const char *tail)
{
	return session_url(r, arena_printf(r->arena, "/app/enrolments/%lld%s", (long long)id,
					   tail));
}

/* ------------------------------------------------------------------ My programs */

/* The programs placed in the session's course (deep linking) that the learner is not in
 * yet: what "Join a program" offers. */
static enum at_rc join_list(struct req *r, const struct enrolment *ens, size_t n,
			    struct json_object **out)
{
	struct enrolment_offer *offers = NULL;
	size_t noffers = 0;
	enum at_rc rc = AT_OK;

	*out = json_object_new_array();
	if (r->sess->s.context_id > 0)
		rc = enrolment_offers(g_app.db, r->arena, r->sess->s.context_id, &offers, &noffers);
	for (size_t k = 0; rc == AT_OK && k < noffers; k++) {
		struct json_object *x;
		bool in = false;

		for (size_t i = 0; i < n; i++)
			in = in || ens[i].program_id == offers[k].id;
		if (in)
			continue;
		x = json_object_new_object();
		put_str(x, "key", offers[k].key);
		put_str(x, "title", offers[k].title);
		json_object_array_add(*out, x);
	}
	return rc;
}

static void home(struct req *r, int status, const char *err_field, const char *err_msg)
{
	struct enrolment *ens = NULL;
	size_t n = 0;
	struct json_object *d, *list, *join;
	struct user u;
	enum at_rc rc;

	memset(&u, 0, sizeof(u));
	rc = identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &u);
	if (rc == AT_OK)
		rc = enrolment_list_learner(g_app.db, r->arena, r->sess->s.user_id, &ens, &n);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot list the learner's enrolments");
		return;
	}
	d = page_data(NULL);
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct view v;

		memset(&v, 0, sizeof(v));
		v.e = ens[i];
		v.own = true;
		rc = view_fill(r, &v);
		if (rc != AT_OK) {
			json_object_put(d);
			json_object_put(list);
			http_error(r, rc, "cannot load enrolment %lld", (long long)ens[i].id);
			return;
		}
		json_object_array_add(list, summary_json(r, &v));
	}
	put(d, "enrolments", list);
	put_bool(d, "has_enrolments", n > 0);
	put_str(d, "name", u.given_name && *u.given_name ? u.given_name :
		u.name && *u.name ? u.name : "");
	if (join_list(r, ens, n, &join) != AT_OK) {
		json_object_put(join);
		join = json_object_new_array();
	}
	put_bool(d, "can_join", json_object_array_length(join) > 0);
	put(d, "programs", join);
	if (err_field != NULL)	/* the layout's alert line: the form may be gone */
		put_str(d, "error", err_msg);
	put_saved(r, d);
	render(r, status, "My programs", "learner/home", d);
}

void page_learner_home(struct req *r)
{
	home(r, 200, NULL, NULL);
}

/* POST /app/enrolments: program=KEY — enrol yourself in this course. */
void page_learner_enrol(struct req *r)
{
	const char *program = req_param(r, "program");
	struct at_err err = { "" };
	int64_t id = 0, me = r->sess->s.user_id;
	enum at_rc rc;

	if (blank(program)) {
		home(r, 400, "program", "Choose a program to join.");
		return;
	}
	if (r->sess->s.context_id <= 0) {
		home(r, 400, "program", "Launch Attest from a course to join a program.");
		return;
	}
	/* only a program placed in this course (the form offers no other; the server checks) */
	if (!enrolment_offered(g_app.db, program, r->sess->s.context_id)) {
		home(r, 403, "program", "This program is not offered in this course. Choose one "
		     "from the list.");
		return;
	}
	rc = enrolment_create(g_app.db, program, me, r->sess->s.context_id, me, api_now(), &id,
			      &err);
	if (rc == AT_NOTFOUND) {
		home(r, 400, "program", "There is no such program. Choose one from the list.");
		return;
	}
	if (rc == AT_CONFLICT) {
		home(r, 409, "program", "You are enrolled in this program already.");
		return;
	}
	if (rc == AT_BADREQ) {
		home(r, 400, "program", "You are not a member of this course.");
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "cannot enrol: %s", err.msg);
		return;
	}
	http_redirect(r, 303, arena_printf(r->arena, "%s&saved=enrolled",
					   enrolment_url(r, id, "")));
}

/* ------------------------------------------------------------------ one program */

static void enrolment_page(struct req *r, struct view *v, int status, const char *err_key,
			   const char *err_field, const char *err_msg, struct json_object *typed)
{
	struct json_object *d = page_data(NULL), *cards = json_object_new_array(), *ev, *self;
	size_t pending = 0, amended = 0;
	enum at_rc rc;

	put(d, "enrolment", summary_json(r, v));
	for (size_t i = v->nobs; i-- > 0;) {	/* newest first */
		if (!effective(&v->obs[i])) {
			amended++;
			continue;
		}
		json_object_array_add(cards, scorecard_json(r, v, &v->obs[i]));
	}
	put(d, "scorecards", cards);
	put_bool(d, "has_scorecards", json_object_array_length(cards) > 0);
	put_int(d, "amended", (int64_t)amended);
	rc = evidence_json(r, v, &ev, &pending);
	if (rc == AT_OK)
		rc = self_eval_json(r, v, &self);
	else
		self = json_object_new_array();
	if (rc != AT_OK) {
		json_object_put(d);
		json_object_put(ev);
		json_object_put(self);
		json_object_put(typed);
		http_error(r, rc, "cannot load enrolment %lld", (long long)v->e.id);
		return;
	}
	put(d, "evidence", ev);
	put_bool(d, "has_evidence", json_object_array_length(ev) > 0);
	put_int(d, "evidence_pending", (int64_t)pending);
	put_bool(d, "has_self_evaluations", v->own && json_object_array_length(self) > 0);
	put(d, "self_evaluations", v->own ? self : NULL);
	if (!v->own)
		json_object_put(self);
	put(d, "notes", notes_json(v));
	put_bool(d, "has_notes", v->nlines > 0);
	put_bool(d, "own", v->own);
	put_str(d, "today", progress_day(r->arena, v->now));
	if (err_key != NULL)
		put_error(r, d, err_key, err_field, err_msg);
	put(d, "typed", typed != NULL ? typed : json_object_new_object());
	put_saved(r, d);
	render(r, status, v->own ? v->e.program_title :
	       arena_printf(r->arena, "%s: %s", v->e.program_title, v->e.learner_name),
	       "learner/enrolment", d);
}

void page_learner_enrolment(struct req *r)
{
	struct view v;

	if (!view_load(r, &v))
		return;
	enrolment_page(r, &v, 200, NULL, NULL, NULL, NULL);
}

/* POST /app/enrolments/{id}/progress: text, day (default today). The learner only. */
void page_learner_progress(struct req *r)
{
	struct view v;
	const char *text = req_param(r, "text"), *day = req_param(r, "day");
	struct json_object *typed;
	struct at_err err = { "" };
	const char *field = NULL, *msg = NULL;
	int status = 400;
	enum at_rc rc;

	if (!view_load(r, &v))
		return;
	if (!v.own) {
		http_error_page(r, 403, "Not allowed", "Only the learner writes their progress "
				"report.");
		return;
	}
	if (blank(day))
		day = progress_day(r->arena, v.now);
	if (!progress_day_ok(day)) {
		field = "day";
		msg = "The day must be a date, written YYYY-MM-DD.";
	} else if (blank(text)) {
		field = "text";
		msg = "Write what you did and what comes next before sending the report.";
	} else {
		rc = progress_report(g_app.db, v.e.id, day, text, v.now, &err);
		if (rc == AT_OK) {
			http_redirect(r, 303, arena_printf(r->arena, "%s&saved=progress#progress",
							   enrolment_url(r, v.e.id, "")));
			return;
		}
		if (rc != AT_BADREQ && rc != AT_TOOBIG) {
			http_error(r, rc, "cannot save the progress report: %s", err.msg);
			return;
		}
		field = strstr(err.msg, "day") ? "day" : "text";
		msg = rc == AT_TOOBIG ? "The day's report is too long: shorten it." :
		      arena_printf(r->arena, "The report was not saved: %s.", err.msg);
		status = rc == AT_TOOBIG ? 413 : 400;
	}
	typed = json_object_new_object();
	put_str(typed, "progress_text", text);
	put_str(typed, "progress_day", day);
	enrolment_page(r, &v, status, "progress_error", field, msg, typed);
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

/* POST /app/enrolments/{id}/self-evaluation: checklist=KEY. Continues the learner's draft
 * of that checklist if there is one, else creates one (rater role "self", as POST
 * /api/v1/observations does), then goes to the observation page to fill it in. */
void page_learner_self_eval(struct req *r)
{
	struct view v;
	const char *key = req_param(r, "checklist");
	const struct program_checklist *cl;
	struct json_object *self = NULL;
	struct obs_new n;
	struct at_err err = { "" };
	int64_t oid = 0;
	bool existed = false;
	enum at_rc rc;

	if (!view_load(r, &v))
		return;
	if (!v.own) {
		http_error_page(r, 403, "Not allowed", "Only the learner evaluates themself.");
		return;
	}
	cl = key != NULL ? program_checklist(v.p, key) : NULL;
	if (cl == NULL || !cl->by_self) {
		enrolment_page(r, &v, 400, "self_error", "checklist",
			       "Choose a checklist that you may evaluate yourself on.", NULL);
		return;
	}
	rc = self_eval_json(r, &v, &self);
	for (size_t i = 0; rc == AT_OK && i < json_object_array_length(self); i++) {
		struct json_object *x = json_object_array_get_idx(self, i);

		if (strcmp(json_str(x, "key"), cl->key) == 0)
			oid = json_int(x, "draft", 0);
	}
	json_object_put(self);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot list self-evaluations");
		return;
	}
	if (oid == 0) {
		memset(&n, 0, sizeof(n));
		n.enrolment_id = v.e.id;
		n.assessor_id = v.e.user_id;
		n.rater_role = "self";
		n.observed_at = v.now;
		rc = checklist_id_of(v.e.program_id, cl->key, &n.checklist_id);
		if (rc == AT_OK)
			rc = observation_create(g_app.db, &n, v.now, &oid, &existed, &err);
		if (rc != AT_OK) {
			http_error(r, rc, "cannot start a self-evaluation: %s", err.msg);
			return;
		}
	}
	http_redirect(r, 303, session_url(r, arena_printf(r->arena, "/app/observations/%lld",
							  (long long)oid)));
}

/* ------------------------------------------------------------------ evidence */

/* The accept= list of the file inputs: photos and videos (phone cameras) and every media
 * type the site accepts (evidence_types). */
static const char *accept_list(struct req *r)
{
	const char *t = g_app.cfg.evidence_types ? g_app.cfg.evidence_types : "";
	char *s = arena_printf(r->arena, "image/*,video/*%s%s", *t ? "," : "", t);

	for (char *p = s; *p; p++)
		if (*p == ' ')
			*p = ',';
	return s;
}

static void evidence_page(struct req *r, struct view *v, int status, const char *err_field,
			  const char *err_msg, struct json_object *typed)
{
	struct json_object *d = page_data("evidence.js"), *ev, *comps = json_object_new_array();
	const char **checked = NULL;
	size_t pending = 0, nchecked = 0;
	enum at_rc rc = evidence_json(r, v, &ev, &pending);

	if (rc != AT_OK) {
		json_object_put(d);
		json_object_put(ev);
		json_object_put(comps);
		json_object_put(typed);
		http_error(r, rc, "cannot list evidence");
		return;
	}
	if (typed != NULL) {
		checked = arena_alloc(r->arena, sizeof(*checked) * EVIDENCE_MAX_COMPETENCIES);
		nchecked = params_all(r, "competency_ids", checked, EVIDENCE_MAX_COMPETENCIES);
	}
	for (size_t i = 0; i < v->ncomps; i++) {
		struct json_object *x = json_object_new_object();
		const char *id = arena_printf(r->arena, "%lld", (long long)v->comps[i].id);
		bool on = false;

		for (size_t k = 0; k < nchecked; k++)
			on = on || strcmp(checked[k], id) == 0;
		put_int(x, "id", v->comps[i].id);
		put_str(x, "idnumber", v->comps[i].idnumber);
		put_str(x, "shortname", v->comps[i].shortname);
		put_bool(x, "checked", on);
		json_object_array_add(comps, x);
	}
	put(d, "enrolment", summary_json(r, v));
	put_int(d, "learner_id", v->e.user_id);
	put_bool(d, "own", v->own);
	put(d, "competencies", comps);
	put_bool(d, "has_competencies", v->ncomps > 0);
	put(d, "evidence", ev);
	put_bool(d, "has_evidence", json_object_array_length(ev) > 0);
	put_int(d, "evidence_pending", (int64_t)pending);
	put_str(d, "accept", accept_list(r));
	put_str(d, "max_upload", size_words(r->arena, g_app.cfg.max_upload));
	put_int(d, "max_upload_bytes", g_app.cfg.max_upload);
	if (err_field != NULL)
		put_error(r, d, "evidence_error", err_field, err_msg);
	put(d, "typed", typed != NULL ? typed : json_object_new_object());
	put_saved(r, d);
	render(r, status, arena_printf(r->arena, "Evidence: %s", v->e.program_title),
	       "learner/evidence", d);
}

void page_learner_evidence(struct req *r)
{
	struct view v;

	if (!view_load(r, &v))
		return;
	evidence_page(r, &v, 200, NULL, NULL, NULL);
}

/* POST /app/enrolments/{id}/evidence: url (a link) and/or note, competency_ids (checkbox
 * group) — a link (with the note as its caption) or a note. */
void page_learner_evidence_add(struct req *r)
{
	struct view v;
	const char *url = req_param(r, "url"), *note = req_param(r, "note");
	const char **vals = arena_alloc(r->arena, sizeof(*vals) * (EVIDENCE_MAX_COMPETENCIES + 1));
	int64_t *ids = arena_alloc(r->arena, sizeof(*ids) * (EVIDENCE_MAX_COMPETENCIES + 1));
	size_t n = params_all(r, "competency_ids", vals, EVIDENCE_MAX_COMPETENCIES + 1);
	struct evidence_attach at;
	struct json_object *typed;
	struct at_err err = { "" };
	const char *field = NULL, *msg = NULL;
	bool link = !blank(url);
	int64_t id = 0;
	enum at_rc rc;

	if (!view_load(r, &v))
		return;
	for (size_t i = 0; i < n && field == NULL; i++)
		if (!parse_pos(vals[i], &ids[i]) || comp_name_by_id(&v, ids[i]) == NULL ||
		    i == EVIDENCE_MAX_COMPETENCIES) {
			field = "competency_ids";
			msg = "Choose competencies of this program only.";
		}
	if (field == NULL && !link && blank(note)) {
		field = "note";
		msg = "Paste a link or write a note to add as evidence.";
	}
	if (field == NULL) {
		memset(&at, 0, sizeof(at));
		at.learner_id = v.e.user_id;
		at.uploaded_by = r->sess->s.user_id;
		at.competency_ids = ids;
		at.ncompetencies = n;
		at.note = blank(note) ? NULL : note;
		rc = link ? evidence_add_link(g_app.db, url, &at, v.now, &id, &err) :
		     evidence_add_note(g_app.db, &at, v.now, &id, &err);
		if (rc == AT_OK) {
			http_redirect(r, 303, arena_printf(r->arena, "%s&saved=%s#evidence-list",
					enrolment_url(r, v.e.id, "/evidence"), link ? "link" :
					"note"));
			return;
		}
		if (rc != AT_BADREQ && rc != AT_TOOBIG) {
			http_error(r, rc, "cannot add evidence: %s", err.msg);
			return;
		}
		field = strncmp(err.msg, "url", 3) == 0 ? "url" :
			strncmp(err.msg, "competency", 10) == 0 ? "competency_ids" : "note";
		msg = strcmp(field, "url") == 0 ?
		      "The link must be a full web address starting with https:// or http://." :
		      arena_printf(r->arena, "The evidence was not added: %s.", err.msg);
	}
	typed = json_object_new_object();
	put_str(typed, "url", url);
	put_str(typed, "note", note);
	evidence_page(r, &v, 400, field, msg, typed);
}

/* ------------------------------------------------------------------ record, certificate */

void page_learner_record(struct req *r)
{
	struct view v;
	struct json_object *d, *obs, *ev, *ds;
	int64_t *dids = NULL;
	size_t nd = 0, pending = 0;
	enum at_rc rc;

	if (!view_load(r, &v))
		return;
	rc = enrolment_decision_ids(g_app.db, r->arena, v.e.id, &dids, &nd);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot list decisions");
		return;
	}
	d = page_data("learner.js");
	obs = json_object_new_array();
	for (size_t i = 0; i < v.nobs; i++) {
		const struct enrolment_obs *o = &v.obs[i];
		const struct program_checklist *cl = checklist_of(v.p, o->checklist);
		struct json_object *x = json_object_new_object();

		put_int(x, "id", o->id);
		put_str(x, "day", day_of(r->arena, o->observed_at));
		put_str(x, "checklist", cl && cl->title ? cl->title : o->checklist);
		put_str(x, "rater", o->assessor);
		put_bool(x, "self", strcmp(o->rater_role, "self") == 0);
		put(x, "score", api_hundredths(o->score));
		put(x, "max_score", api_hundredths(o->max_score));
		put_bool(x, "passed", o->passed);
		put_bool(x, "critical_missed", o->critical_missed);
		put_bool(x, "superseded", o->superseded_by > 0);
		put_bool(x, "amended", o->amends_id > 0);
		put_str(x, "amend_reason", o->amend_reason);
		json_object_array_add(obs, x);
	}
	ds = json_object_new_array();
	for (size_t i = 0; i < nd; i++) {
		struct decision dec;

		if (decision_get(g_app.db, r->arena, dids[i], &dec) == AT_OK)
			json_object_array_add(ds, decision_json(r, &v, &dec));
	}
	rc = evidence_json(r, &v, &ev, &pending);
	if (rc != AT_OK) {
		json_object_put(d);
		json_object_put(obs);
		json_object_put(ds);
		json_object_put(ev);
		http_error(r, rc, "cannot list evidence");
		return;
	}
	put(d, "enrolment", summary_json(r, &v));
	put(d, "observations", obs);
	put_bool(d, "has_observations", v.nobs > 0);
	put(d, "decisions", ds);
	put_bool(d, "has_decisions", nd > 0);
	put(d, "evidence", ev);
	put_bool(d, "has_evidence", json_object_array_length(ev) > 0);
	put(d, "notes", notes_json(&v));
	put_bool(d, "has_notes", v.nlines > 0);
	put_str(d, "generated_on", progress_day(r->arena, v.now));
	render(r, 200, arena_printf(r->arena, "Record of learning: %s", v.e.program_title),
	       "learner/record", d);
}

void page_learner_certificate(struct req *r)
{
	struct view v;
	struct json_object *d, *comps, *met;
	struct context c;
	const char *label = NULL;

	if (!view_load(r, &v))
		return;
	if (!v.has_cur || !certifies(v.p, v.cur.final_outcome, &label)) {
		not_found(r);
		return;
	}
	d = page_data("learner.js");
	put(d, "enrolment", summary_json(r, &v));
	put(d, "decision", decision_json(r, &v, &v.cur));
	put_str(d, "certificate", label);
	put_str(d, "learner", v.e.learner_name);
	put_str(d, "program_title", v.e.program_title);
	memset(&c, 0, sizeof(c));
	if (v.e.context_id > 0 &&
	    identity_context_get(g_app.db, r->arena, v.e.context_id, &c) == AT_OK)
		put_str(d, "course", c.title && *c.title ? c.title : c.label);
	put_str(d, "reference", arena_printf(r->arena, "%lld-%lld", (long long)v.e.id,
					     (long long)v.cur.id));
	/* The competencies shown as met on the certificate. */
	comps = competencies_json(r, &v, NULL);
	met = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(comps); i++) {
		struct json_object *x = json_object_array_get_idx(comps, i), *b;

		if (json_object_object_get_ex(x, "rated", &b) && json_object_get_boolean(b))
			json_object_array_add(met, json_object_get(x));
	}
	json_object_put(comps);
	put(d, "competencies", met);
	put_bool(d, "has_competencies", json_object_array_length(met) > 0);
	render(r, 200, arena_printf(r->arena, "Certificate: %s", label), "learner/certificate",
	       d);
}
