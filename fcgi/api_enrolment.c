/* api_enrolment.c: /api/v1/enrolments — enrol, list, one learner's standing (observations,
 * ratings, decision, escalation, feedback), evaluate the rule, confirm or override the
 * decision, progress reports and notes.
 *
 * Authorization: a learner sees their own enrolments; an assessor or admin those of a
 * course where they hold that role (enrolment_may_manage). Whoever may not see an
 * enrolment gets 404, never 403, so ids reveal nothing. */
#include <json-c/json.h>
#include <string.h>

#include "core/bizdays.h"
#include "core/decision.h"
#include "core/enrolment.h"
#include "core/feedback.h"
#include "core/identity.h"
#include "core/observation.h"
#include "core/progress.h"
#include "core/program.h"
#include "core/rating.h"
#include "core/rules.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

enum access { ACCESS_NONE, ACCESS_LEARNER, ACCESS_MANAGER };

static struct json_object *day_json(struct arena *a, int64_t t)
{
	return t > 0 ? json_object_new_string(progress_day(a, t)) : NULL;
}

static struct json_object *bizday_json(int32_t day)
{
	char s[11];

	if (day < 0)
		return NULL;
	bizdays_format(day, s);
	return json_object_new_string(s);
}

/* Load the enrolment of the {id} segment and decide the caller's access; answers 404 (and
 * returns false) when it does not exist or the caller may not see it. */
static bool load_visible(struct req *r, struct enrolment *e, enum access *acc)
{
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return false;
	rc = enrolment_get(g_app.db, r->arena, id, e);
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		api_fail(r, rc, NULL, "could not load the enrolment");
		return false;
	}
	*acc = ACCESS_NONE;
	if (rc == AT_OK && enrolment_may_manage(g_app.db, e, r->sess->s.user_id))
		*acc = ACCESS_MANAGER;
	else if (rc == AT_OK && e->user_id == r->sess->s.user_id)
		*acc = ACCESS_LEARNER;
	if (*acc == ACCESS_NONE) {
		api_error(r, 404, "not_found", NULL, "no such enrolment");
		return false;
	}
	return true;
}

static struct json_object *enrolment_json(const struct enrolment *e, struct arena *a)
{
	struct json_object *o = json_object_new_object(), *l = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(e->id));
	json_object_object_add(o, "program", json_object_new_string(e->program_key));
	json_object_object_add(o, "program_title", json_object_new_string(e->program_title));
	json_object_object_add(l, "id", json_object_new_int64(e->user_id));
	json_object_object_add(l, "name", json_object_new_string(e->learner_name));
	json_object_object_add(o, "learner", l);
	json_object_object_add(o, "course_id", e->context_id > 0 ?
			       json_object_new_int64(e->context_id) : NULL);
	json_object_object_add(o, "status", json_object_new_string(e->status));
	json_object_object_add(o, "started_at", json_object_new_int64(e->started_at));
	json_object_object_add(o, "started_on", day_json(a, e->started_at));
	json_object_object_add(o, "completed_at", e->completed_at > 0 ?
			       json_object_new_int64(e->completed_at) : NULL);
	return o;
}

static bool is_manager_role(struct req *r)
{
	return (r->sess->s.role & (ROLE_ASSESSOR | ROLE_ADMIN)) != 0;
}

static void enrolments_list(struct req *r)
{
	struct enrolment *v = NULL;
	size_t n = 0;
	struct json_object *o, *list;
	enum at_rc rc;

	if (is_manager_role(r) && r->sess->s.context_id > 0)
		rc = enrolment_list_context(g_app.db, r->arena, r->sess->s.context_id, 0, &v, &n);
	else
		rc = enrolment_list_learner(g_app.db, r->arena, r->sess->s.user_id, &v, &n);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not list enrolments");
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(list, enrolment_json(&v[i], r->arena));
	o = json_object_new_object();
	json_object_object_add(o, "enrolments", list);
	api_ok(r, 200, o);
	json_object_put(o);
}

static void enrolments_create(struct req *r)
{
	struct json_object *b = api_body(r), *o;
	const char *program = NULL, *started = NULL;
	int64_t learner = 0, id = 0, ctx = r->sess->s.context_id, now = api_now(), started_at;
	int32_t day;
	struct at_err err = { "" };
	struct enrolment e;
	enum at_rc rc;

	if (b == NULL)
		return;
	if (!api_str(r, b, "program", true, 200, &program) ||
	    !api_i64(r, b, "learner_id", false, 1, INT64_MAX, &learner) ||
	    !api_str(r, b, "started_on", false, 10, &started))
		return;
	started_at = now;
	if (started != NULL) {
		/* a coordinator entering an agent who started earlier: deadlines count from it */
		if (!is_manager_role(r)) {
			api_error(r, 403, "forbidden", "started_on",
				  "only an assessor or admin of the course may set the start date");
			return;
		}
		if (bizdays_parse(started, &day) != AT_OK || (int64_t)day * 86400 > now) {
			api_error(r, 400, "bad_request", "started_on",
				  "must be a date YYYY-MM-DD, today or earlier");
			return;
		}
		started_at = (int64_t)day * 86400;
	}
	if (learner == 0)
		learner = r->sess->s.user_id;
	if (learner != r->sess->s.user_id && !is_manager_role(r)) {
		api_error(r, 403, "forbidden", "learner_id",
			  "only an assessor or admin of the course may enrol someone else");
		return;
	}
	if (ctx <= 0) {
		api_error(r, 400, "bad_request", NULL, "the session has no course to enrol in");
		return;
	}
	if (!is_manager_role(r) && !enrolment_offered(g_app.db, program, ctx)) {
		/* a learner enrols themself only in a program placed in the course */
		api_error(r, 403, "forbidden", "program",
			  "this program is not offered in this course");
		return;
	}
	rc = enrolment_create_at(g_app.db, program, learner, ctx, r->sess->s.user_id, now,
				 started_at, &id, &err);
	if (rc == AT_NOTFOUND) {
		api_error(r, 400, "bad_request", "program", "no such program");
		return;
	}
	if (rc == AT_BADREQ) {
		api_error(r, 400, "bad_request", strcmp(err.msg, "started_at") == 0 ? "started_on" :
			  "learner_id", strcmp(err.msg, "started_at") == 0 ? "not a valid start" :
			  "not a member of this course");
		return;
	}
	if (rc == AT_CONFLICT) {
		api_error(r, 409, "conflict", "program",
			  "the learner is enrolled in this program already");
		return;
	}
	if (rc == AT_OK)
		rc = enrolment_get(g_app.db, r->arena, id, &e);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not enrol");
		return;
	}
	o = enrolment_json(&e, r->arena);
	api_ok(r, 201, o);
	json_object_put(o);
}

void api_enrolments(struct req *r)
{
	if (strcmp(r->method, "POST") == 0)
		enrolments_create(r);
	else
		enrolments_list(r);
}

static struct json_object *decision_json(const struct decision *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *basis = json_tokener_parse(d->basis ? d->basis : "{}");

	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "enrolment_id", json_object_new_int64(d->enrolment_id));
	json_object_object_add(o, "status", json_object_new_string(d->status));
	json_object_object_add(o, "proposed_outcome",
			       json_object_new_string(d->proposed_outcome));
	json_object_object_add(o, "final_outcome", d->final_outcome ?
			       json_object_new_string(d->final_outcome) : NULL);
	json_object_object_add(o, "justification",
			       json_object_new_string(d->justification ? d->justification : ""));
	json_object_object_add(o, "proposed_at", json_object_new_int64(d->proposed_at));
	json_object_object_add(o, "decided_by", d->decided_by > 0 ?
			       json_object_new_int64(d->decided_by) : NULL);
	json_object_object_add(o, "decided_at", d->decided_at > 0 ?
			       json_object_new_int64(d->decided_at) : NULL);
	json_object_object_add(o, "expires_at", d->expires_at > 0 ?
			       json_object_new_int64(d->expires_at) : NULL);
	json_object_object_add(o, "expired", json_object_new_boolean(d->expired));
	json_object_object_add(o, "basis", basis);
	return o;
}

static struct json_object *escalation_json(const struct rules_escalation *x)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "start", bizday_json(x->start));
	json_object_object_add(o, "today", bizday_json(x->today));
	json_object_object_add(o, "elapsed_business_days", json_object_new_int(x->elapsed));
	json_object_object_add(o, "deadline", bizday_json(x->deadline));
	json_object_object_add(o, "overdue", json_object_new_boolean(x->overdue));
	if (x->step >= 0) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "key", json_object_new_string(x->step_key));
		json_object_object_add(s, "label", json_object_new_string(x->step_label ?
					x->step_label : x->step_key));
		json_object_object_add(s, "day", bizday_json(x->step_day));
		json_object_object_add(o, "step", s);
	} else {
		json_object_object_add(o, "step", NULL);
	}
	json_object_object_add(o, "due_today", json_object_new_boolean(x->due_today));
	if (x->next >= 0) {
		json_object_object_add(o, "next", json_object_new_int(x->next));
		json_object_object_add(o, "next_day", bizday_json(x->next_day));
	} else {
		json_object_object_add(o, "next", NULL);
		json_object_object_add(o, "next_day", NULL);
	}
	return o;
}

static struct json_object *ratings_json(struct req *r, const struct program *p,
					const struct enrolment *e)
{
	struct json_object *list = json_object_new_array();
	struct enrolment_comp *comps = NULL;
	enum rating_policy pol = RATING_ASSESSOR_WINS;
	struct at_err err = { "" };
	size_t n = 0;

	if (rating_policy_of_program(g_app.db, e->program_id, &pol, &err) != AT_OK)
		pol = RATING_ASSESSOR_WINS;
	if (enrolment_program_competencies(g_app.db, r->arena, p, &comps, &n) != AT_OK)
		return list;
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object(), *flags;
		struct rating_scale sc;
		int64_t value = 0;
		int fl = 0;
		const char *how = NULL;
		enum at_rc rc = rating_current_explain(g_app.db, r->arena, e->user_id,
						       comps[i].id, pol, &value, &fl, &how);

		json_object_object_add(x, "competency", json_object_new_string(comps[i].idnumber));
		json_object_object_add(x, "shortname", json_object_new_string(comps[i].shortname));
		if (rc != AT_OK) {
			json_object_object_add(x, "value", NULL);
			json_object_object_add(x, "level", NULL);
			json_object_object_add(x, "name", NULL);
			json_object_object_add(x, "proficient", json_object_new_boolean(false));
			json_object_object_add(x, "flags", json_object_new_array());
			json_object_object_add(x, "how", NULL);
			json_object_array_add(list, x);
			continue;
		}
		json_object_object_add(x, "value", json_object_new_int64(value));
		json_object_object_add(x, "level", json_object_new_int64(value + 1));
		if (rating_scale_of(g_app.db, r->arena, comps[i].id, &sc, &err) == AT_OK &&
		    value >= 0 && (size_t)value < sc.n) {
			json_object_object_add(x, "name", json_object_new_string(sc.names[value]));
			json_object_object_add(x, "proficient",
					       json_object_new_boolean(sc.proficient[value]));
		} else {
			json_object_object_add(x, "name", NULL);
			json_object_object_add(x, "proficient", json_object_new_boolean(false));
		}
		flags = json_object_new_array();
		if (fl & RATING_FLAG_REVIEW)
			json_object_array_add(flags, json_object_new_string("review"));
		if (fl & RATING_FLAG_SELF_ONLY)
			json_object_array_add(flags, json_object_new_string("self_only"));
		json_object_object_add(x, "flags", flags);
		json_object_object_add(x, "how", how ? json_object_new_string(how) : NULL);
		json_object_array_add(list, x);
	}
	return list;
}

static void enrolment_show(struct req *r)
{
	struct enrolment e;
	enum access acc;
	struct program *p = NULL;
	struct observation *obs = NULL;
	struct enrolment_obs *all = NULL;
	size_t nobs = 0, nall = 0;
	struct decision cur, pend;
	struct rules_escalation esc;
	struct feedback_summary fs;
	struct json_object *o, *list;
	enum rating_policy pol = RATING_ASSESSOR_WINS;
	struct at_err err = { "" };
	int64_t now = api_now();
	enum at_rc rc;

	if (!load_visible(r, &e, &acc))
		return;
	rc = program_load(g_app.db, r->arena, e.program_key, 0, &p);
	if (rc == AT_OK)
		rc = observation_effective(g_app.db, r->arena, e.id, 0, NULL, &obs, &nobs);
	if (rc == AT_OK)
		rc = enrolment_observations(g_app.db, r->arena, e.id, &all, &nall);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not load the enrolment");
		return;
	}
	o = enrolment_json(&e, r->arena);
	list = json_object_new_array();
	for (size_t i = 0; i < nobs; i++) {
		struct json_object *x = json_object_new_object();
		const char *ck = NULL;

		for (size_t k = 0; k < nall && ck == NULL; k++)
			if (all[k].id == obs[i].id)
				ck = all[k].checklist;
		json_object_object_add(x, "id", json_object_new_int64(obs[i].id));
		json_object_object_add(x, "checklist", ck ? json_object_new_string(ck) : NULL);
		json_object_object_add(x, "checklist_id", json_object_new_int64(obs[i].checklist_id));
		json_object_object_add(x, "rater_role", json_object_new_string(obs[i].rater_role));
		json_object_object_add(x, "assessor_id", json_object_new_int64(obs[i].assessor_id));
		json_object_object_add(x, "score", api_hundredths(obs[i].score));
		json_object_object_add(x, "max_score", api_hundredths(obs[i].max_score));
		json_object_object_add(x, "passed", json_object_new_boolean(obs[i].passed));
		json_object_object_add(x, "critical_missed",
				       json_object_new_boolean(obs[i].critical_missed));
		json_object_object_add(x, "amends_id", obs[i].amends_id > 0 ?
				       json_object_new_int64(obs[i].amends_id) : NULL);
		json_object_object_add(x, "observed_at", json_object_new_int64(obs[i].observed_at));
		json_object_array_add(list, x);
	}
	json_object_object_add(o, "observations", list);
	if (rating_policy_of_program(g_app.db, e.program_id, &pol, &err) != AT_OK)
		pol = RATING_ASSESSOR_WINS;
	json_object_object_add(o, "reconciliation", json_object_new_string(rating_policy_name(pol)));
	json_object_object_add(o, "ratings", ratings_json(r, p, &e));
	rc = decision_current(g_app.db, r->arena, e.id, now, &cur);
	json_object_object_add(o, "decision", rc == AT_OK ? decision_json(&cur) : NULL);
	rc = decision_pending(g_app.db, r->arena, e.id, &pend);
	json_object_object_add(o, "pending_decision", rc == AT_OK ? decision_json(&pend) : NULL);
	rules_escalation(p, e.started_at, now, e.completed_at > 0, &esc);
	json_object_object_add(o, "escalation", escalation_json(&esc));
	if (feedback_summary(g_app.db, e.id, NULL, &fs) == AT_OK) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "links", json_object_new_int64(fs.links));
		json_object_object_add(f, "responses", json_object_new_int64(fs.responses));
		json_object_object_add(f, "scored", json_object_new_int64(fs.scored));
		json_object_object_add(f, "average",
				       fs.scored > 0 ? api_hundredths(fs.average) : NULL);
		json_object_object_add(o, "feedback", f);
	} else {
		json_object_object_add(o, "feedback", NULL);
	}
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_enrolment(struct req *r)
{
	enrolment_show(r);
}

void api_enrolment_evaluate(struct req *r)
{
	struct enrolment e;
	enum access acc;
	struct rules_enrolment re;
	struct rules_result res;
	struct at_err err = { "" };
	struct json_object *o;
	int64_t now = api_now(), did = 0;
	enum at_rc rc;

	if (!load_visible(r, &e, &acc))
		return;
	if (acc != ACCESS_MANAGER) {
		api_error(r, 403, "forbidden", NULL,
			  "only an assessor or admin of the course may evaluate");
		return;
	}
	rc = rules_load_inputs(g_app.db, r->arena, e.id, now, &re);
	if (rc == AT_OK)
		rc = rules_evaluate(re.program, NULL, &re.in, r->arena, &res);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not evaluate the rule");
		return;
	}
	/* Not enough results yet: say so, but record nothing a coordinator could confirm. */
	if (strcmp(res.outcome, "pending") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "id", NULL);
		json_object_object_add(o, "enrolment_id", json_object_new_int64(e.id));
		json_object_object_add(o, "status", json_object_new_string("pending"));
		json_object_object_add(o, "outcome", json_object_new_string(res.outcome));
		json_object_object_add(o, "percent", res.has_percent ? api_hundredths(res.percent) :
				       NULL);
		json_object_object_add(o, "review", json_object_new_boolean(res.review));
		json_object_object_add(o, "basis", json_tokener_parse(res.basis ? res.basis : "{}"));
		api_ok(r, 200, o);
		json_object_put(o);
		return;
	}
	rc = decision_propose(g_app.db, e.id, res.outcome, res.basis, now, &did, &err);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg[0] ? err.msg : "could not record the proposal");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(did));
	json_object_object_add(o, "enrolment_id", json_object_new_int64(e.id));
	json_object_object_add(o, "status", json_object_new_string("proposed"));
	json_object_object_add(o, "outcome", json_object_new_string(res.outcome));
	json_object_object_add(o, "percent", res.has_percent ? api_hundredths(res.percent) : NULL);
	json_object_object_add(o, "review", json_object_new_boolean(res.review));
	json_object_object_add(o, "basis", json_tokener_parse(res.basis ? res.basis : "{}"));
	api_ok(r, 201, o);
	json_object_put(o);
}

/* The decision of the {id} segment, if the caller manages its enrolment (else 404 for
 * those who may not see it, 403 for its learner). */
static bool load_decision(struct req *r, struct decision *d)
{
	struct enrolment e;
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return false;
	rc = decision_get(g_app.db, r->arena, id, d);
	if (rc == AT_OK)
		rc = enrolment_get(g_app.db, r->arena, d->enrolment_id, &e);
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		api_fail(r, rc, NULL, "could not load the decision");
		return false;
	}
	if (rc == AT_OK && enrolment_may_manage(g_app.db, &e, r->sess->s.user_id))
		return true;
	if (rc == AT_OK && e.user_id == r->sess->s.user_id)
		api_error(r, 403, "forbidden", NULL,
			  "only an assessor or admin of the course may decide");
	else
		api_error(r, 404, "not_found", NULL, "no such decision");
	return false;
}

/* Answer decision id, decided (and its enrolment closed, when the outcome closes it) in
 * one transaction by decision_confirm or decision_override. */
static void decided(struct req *r, int64_t id)
{
	struct decision d;
	struct json_object *o;
	enum at_rc rc = decision_get(g_app.db, r->arena, id, &d);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not load the decision");
		return;
	}
	o = decision_json(&d);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_decision_confirm(struct req *r)
{
	struct decision d;
	struct at_err err = { "" };
	enum at_rc rc;

	if (!load_decision(r, &d))
		return;
	rc = decision_confirm(g_app.db, d.id, r->sess->s.user_id, true, api_now(), &err);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg[0] ? err.msg : "could not confirm");
		return;
	}
	decided(r, d.id);
}

void api_decision_override(struct req *r)
{
	struct decision d;
	struct json_object *b;
	const char *outcome = NULL, *just = NULL;
	struct at_err err = { "" };
	enum at_rc rc;

	if (!load_decision(r, &d))
		return;
	b = api_body(r);
	if (b == NULL)
		return;
	if (!api_str(r, b, "outcome", true, 200, &outcome) ||
	    !api_str(r, b, "justification", true, DECISION_TEXT_MAX, &just))
		return;
	if (strspn(outcome, " \t\r\n") == strlen(outcome)) {
		api_error(r, 400, "bad_request", "outcome", "must not be blank");
		return;
	}
	rc = decision_override(g_app.db, d.id, r->sess->s.user_id, true, outcome, just,
			       api_now(), &err);
	if (rc == AT_BADREQ) {
		api_error(r, 400, "bad_request", "justification", err.msg[0] ? err.msg :
			  "a justification of at least 10 characters is required");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg[0] ? err.msg : "could not override");
		return;
	}
	decided(r, d.id);
}

/*
 * POST /api/v1/enrolments/{id}/grant {"outcome", "justification"}: a coordinator (assessor
 * or admin of the course)
 * records a certification held already (the first Leads of a pathway whose assessors must
 * themselves be certified; certifications earned before Attest). It is a proposal
 * overridden at once — justified, audited, and shown as "overridden" in every record.
 */
void api_enrolment_grant(struct req *r)
{
	struct enrolment e;
	enum access acc;
	struct json_object *b, *basis;
	const char *outcome = NULL, *just = NULL;
	struct at_err err = { "" };
	int64_t did = 0, now = api_now();
	enum at_rc rc;

	if (!load_visible(r, &e, &acc))
		return;
	if (acc != ACCESS_MANAGER) {
		api_error(r, 403, "forbidden", NULL,
			  "only an assessor or admin of the course may grant");
		return;
	}
	b = api_body(r);
	if (b == NULL)
		return;
	if (!api_str(r, b, "outcome", true, 200, &outcome) ||
	    !api_str(r, b, "justification", true, DECISION_TEXT_MAX, &just))
		return;
	if (*outcome == '\0' || strcmp(outcome, "pending") == 0) {
		api_error(r, 400, "bad_request", "outcome", "name the certification granted");
		return;
	}
	while (*just == ' ' || *just == '\t' || *just == '\n')
		just++;
	if (strlen(just) < 10) {	/* checked first: no proposal is left behind */
		api_error(r, 400, "bad_request", "justification",
			  "a justification of at least 10 characters is required");
		return;
	}
	basis = json_object_new_object();
	json_object_object_add(basis, "granted", json_object_new_boolean(1));
	json_object_object_add(basis, "granted_by", json_object_new_int64(r->sess->s.user_id));
	rc = decision_propose(g_app.db, e.id, outcome,
			      json_object_to_json_string_ext(basis, JSON_C_TO_STRING_PLAIN), now,
			      &did, &err);
	json_object_put(basis);
	if (rc == AT_OK)
		rc = decision_override(g_app.db, did, r->sess->s.user_id, true, outcome, just,
				       now, &err);
	if (rc == AT_BADREQ) {
		api_error(r, 400, "bad_request", "justification", err.msg[0] ? err.msg :
			  "a justification of at least 10 characters is required");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, err.msg[0] ? err.msg : "could not grant");
		return;
	}
	decided(r, did);
	if (r->status == 200)
		r->status = 201;
}

/* Read {"text": .., "day"?: ..} into text and day (default: today, UTC). */
static bool text_day(struct req *r, const char **text, const char **day)
{
	struct json_object *b = api_body(r);

	if (b == NULL)
		return false;
	*day = NULL;
	if (!api_str(r, b, "text", true, PROGRESS_TEXT_MAX * 4, text) ||
	    !api_str(r, b, "day", false, 10, day))
		return false;
	if (*day == NULL)
		*day = progress_day(r->arena, api_now());
	else if (!progress_day_ok(*day)) {
		api_error(r, 400, "bad_request", "day", "must be a date written YYYY-MM-DD");
		return false;
	}
	if (strspn(*text, " \t\r\n") == strlen(*text)) {
		api_error(r, 400, "bad_request", "text", "must not be blank");
		return false;
	}
	return true;
}

static void text_fail(struct req *r, enum at_rc rc, const struct at_err *err)
{
	const char *field = strstr(err->msg, "day") ? "day" : "text";

	if (rc == AT_BADREQ || rc == AT_TOOBIG)
		api_error(r, rc == AT_TOOBIG ? 413 : 400, rc == AT_TOOBIG ? "too_big" :
			  "bad_request", field, err->msg[0] ? err->msg : "invalid");
	else
		api_fail(r, rc, NULL, "could not save");
}

void api_enrolment_progress(struct req *r)
{
	struct enrolment e;
	enum access acc;
	const char *text, *day;
	struct at_err err = { "" };
	struct json_object *o;
	enum at_rc rc;

	if (!load_visible(r, &e, &acc))
		return;
	if (e.user_id != r->sess->s.user_id) {
		api_error(r, 403, "forbidden", NULL, "only the learner reports their progress");
		return;
	}
	if (!text_day(r, &text, &day))
		return;
	rc = progress_report(g_app.db, e.id, day, text, api_now(), &err);
	if (rc != AT_OK) {
		text_fail(r, rc, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "enrolment_id", json_object_new_int64(e.id));
	json_object_object_add(o, "day", json_object_new_string(day));
	json_object_object_add(o, "kind", json_object_new_string("report"));
	api_ok(r, 201, o);
	json_object_put(o);
}

static void notes_add(struct req *r, const struct enrolment *e, enum access acc)
{
	const char *text, *day;
	struct at_err err = { "" };
	struct json_object *o;
	int64_t id = 0;
	enum at_rc rc;

	if (acc != ACCESS_MANAGER) {
		api_error(r, 403, "forbidden", NULL,
			  "only an assessor or admin of the course keeps notes");
		return;
	}
	if (!text_day(r, &text, &day))
		return;
	rc = progress_note_add(g_app.db, e->id, r->sess->s.user_id, day, text, api_now(), &id,
			       &err);
	if (rc != AT_OK) {
		text_fail(r, rc, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "enrolment_id", json_object_new_int64(e->id));
	json_object_object_add(o, "day", json_object_new_string(day));
	json_object_object_add(o, "kind", json_object_new_string("note"));
	api_ok(r, 201, o);
	json_object_put(o);
}

static void notes_list(struct req *r, const struct enrolment *e)
{
	struct progress_line *v = NULL;
	size_t n = 0;
	struct json_object *o, *lines;
	enum at_rc rc = progress_list(g_app.db, r->arena, e->id, &v, &n);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not list notes");
		return;
	}
	lines = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "kind", json_object_new_string(v[i].kind));
		json_object_object_add(x, "id", json_object_new_int64(v[i].id));
		json_object_object_add(x, "day", json_object_new_string(v[i].day));
		json_object_object_add(x, "name", json_object_new_string(v[i].name));
		json_object_object_add(x, "author_id", json_object_new_int64(v[i].author_id));
		json_object_object_add(x, "author", json_object_new_string(v[i].author));
		json_object_object_add(x, "text", json_object_new_string(v[i].text));
		json_object_object_add(x, "line", json_object_new_string(v[i].line));
		json_object_object_add(x, "created_at", json_object_new_int64(v[i].created_at));
		json_object_array_add(lines, x);
	}
	o = json_object_new_object();
	json_object_object_add(o, "enrolment_id", json_object_new_int64(e->id));
	json_object_object_add(o, "lines", lines);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_enrolment_notes(struct req *r)
{
	struct enrolment e;
	enum access acc;

	if (!load_visible(r, &e, &acc))
		return;
	if (strcmp(r->method, "POST") == 0)
		notes_add(r, &e, acc);
	else
		notes_list(r, &e);
}
