/* api_report.c: reports in JSON or CSV — progress by program within the session's course,
 * the end-of-day report, and one learner's record of learning.
 *
 * CSV (RFC 4180): CRLF line ends, a header row, fields quoted when they hold a comma,
 * quote, CR or LF (quotes doubled). Text cells starting with = + - @ (or a tab or CR) get a
 * leading single quote so a spreadsheet never runs them as formulas. Sent as an attachment
 * with nosniff. */
#include <json-c/json.h>
#include <string.h>

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
#include "fcgi/api_report.h"
#include "fcgi/app.h"
#include "fcgi/csv.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

/* Hundredths as CSV text: 8500 -> "85", 8550 -> "85.50", -5 -> "-0.05". */
static const char *hundredths_txt(struct arena *a, int64_t v)
{
	const char *sign = v < 0 ? "-" : "";
	int64_t m = v < 0 ? -v : v;

	if (m % 100 == 0)
		return arena_printf(a, "%s%lld", sign, (long long)(m / 100));
	return arena_printf(a, "%s%lld.%02lld", sign, (long long)(m / 100), (long long)(m % 100));
}

static const char *day_txt(struct arena *a, int64_t t)
{
	return t > 0 ? progress_day(a, t) : "";
}

static const char *bizday_txt(struct arena *a, int32_t day)
{
	char s[11];

	if (day < 0)
		return "";
	bizdays_format(day, s);
	return arena_strdup(a, s);
}

/* ?format=json|csv; false after answering 400. */
static bool want_csv(struct req *r, bool *csv)
{
	const char *f = req_param(r, "format");

	*csv = false;
	if (f == NULL || strcmp(f, "json") == 0)
		return true;
	if (strcmp(f, "csv") == 0) {
		*csv = true;
		return true;
	}
	api_error(r, 400, "bad_request", "format", "must be json or csv");
	return false;
}

/* The program of ?program=KEY; false after answering 400/404. */
static bool param_program(struct req *r, struct program **p)
{
	const char *key = req_param(r, "program");
	enum at_rc rc;

	if (key == NULL || *key == '\0') {
		api_error(r, 400, "bad_request", "program", "this parameter is required");
		return false;
	}
	if (strlen(key) > 200) {
		api_error(r, 400, "bad_request", "program", "must be at most 200 bytes");
		return false;
	}
	rc = program_load(g_app.db, r->arena, key, 0, p);
	if (rc == AT_NOTFOUND) {
		api_error(r, 404, "not_found", "program", "no such program");
		return false;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, "program", "could not load the program");
		return false;
	}
	return true;
}

static bool need_course(struct req *r)
{
	if (r->sess->s.context_id > 0)
		return true;
	api_error(r, 400, "bad_request", NULL, "the session has no course");
	return false;
}

/* ---- progress report ---- */

struct comp_col {
	struct enrolment_comp c;
	struct rating_scale sc;
	bool has_scale;
	int64_t proficient, rated;
};

struct learner_row {
	const struct enrolment *e;
	int64_t passed, total;
	struct rules_escalation esc;
	const char *outcome;	/* decision in force, or "" */
	int64_t *value;		/* per competency; -1 = not rated */
};

void api_report_progress(struct req *r)
{
	struct program *p = NULL;
	struct enrolment *ens = NULL;
	struct enrolment_comp *comps = NULL;
	struct comp_col *cols;
	struct learner_row *rows;
	size_t nens = 0, ncomps = 0;
	enum rating_policy pol = RATING_ASSESSOR_WINS;
	struct at_err err = { "" };
	int64_t now = api_now(), overdue = 0, due = 0;
	bool csv;
	enum at_rc rc;

	if (!need_course(r) || !want_csv(r, &csv) || !param_program(r, &p))
		return;
	rc = enrolment_list_context(g_app.db, r->arena, r->sess->s.context_id, p->id, &ens, &nens);
	if (rc == AT_OK)
		rc = enrolment_program_competencies(g_app.db, r->arena, p, &comps, &ncomps);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not build the report");
		return;
	}
	if (rating_policy_of_program(g_app.db, p->id, &pol, &err) != AT_OK)
		pol = RATING_ASSESSOR_WINS;
	cols = arena_zalloc(r->arena, (ncomps + 1) * sizeof(*cols));
	for (size_t k = 0; k < ncomps; k++) {
		cols[k].c = comps[k];
		cols[k].has_scale = rating_scale_of(g_app.db, r->arena, comps[k].id, &cols[k].sc,
						    &err) == AT_OK;
	}
	rows = arena_zalloc(r->arena, (nens + 1) * sizeof(*rows));
	for (size_t i = 0; i < nens; i++) {
		struct learner_row *lr = &rows[i];
		struct observation *obs = NULL;
		struct decision d;
		size_t nobs = 0;

		lr->e = &ens[i];
		rc = observation_effective(g_app.db, r->arena, ens[i].id, 0, NULL, &obs, &nobs);
		if (rc != AT_OK) {
			api_fail(r, rc, NULL, "could not build the report");
			return;
		}
		for (size_t j = 0; j < nobs; j++) {
			if (strcmp(obs[j].rater_role, "self") == 0)
				continue;
			lr->total++;
			if (obs[j].passed)
				lr->passed++;
		}
		rules_escalation(p, ens[i].started_at, now, ens[i].completed_at > 0, &lr->esc);
		overdue += lr->esc.overdue;
		due += lr->esc.due_today;
		lr->outcome = decision_current(g_app.db, r->arena, ens[i].id, now, &d) == AT_OK ?
			      d.final_outcome : "";
		lr->value = arena_alloc(r->arena, (ncomps + 1) * sizeof(int64_t));
		for (size_t k = 0; k < ncomps; k++) {
			int64_t v = 0;
			int fl = 0;

			lr->value[k] = -1;
			if (rating_current(g_app.db, ens[i].user_id, comps[k].id, pol, &v, &fl) !=
			    AT_OK)
				continue;
			lr->value[k] = v;
			cols[k].rated++;
			if (cols[k].has_scale && v >= 0 && (size_t)v < cols[k].sc.n &&
			    cols[k].sc.proficient[v])
				cols[k].proficient++;
		}
	}
	if (csv) {
		struct csv c;

		csv_init(&c);
		csv_cell(&c, "enrolment_id");
		csv_cell(&c, "learner_id");
		csv_cell(&c, "learner");
		csv_cell(&c, "status");
		csv_cell(&c, "started_on");
		csv_cell(&c, "observations_passed");
		csv_cell(&c, "observations_total");
		csv_cell(&c, "pass_rate");
		csv_cell(&c, "overdue");
		csv_cell(&c, "deadline");
		csv_cell(&c, "escalation_step");
		csv_cell(&c, "escalation_due_today");
		csv_cell(&c, "decision");
		for (size_t k = 0; k < ncomps; k++)
			csv_cell(&c, cols[k].c.idnumber);
		csv_end(&c);
		for (size_t i = 0; i < nens; i++) {
			const struct learner_row *lr = &rows[i];

			csv_num(&c, r->arena, lr->e->id);
			csv_num(&c, r->arena, lr->e->user_id);
			csv_cell(&c, lr->e->learner_name);
			csv_cell(&c, lr->e->status);
			csv_cell(&c, day_txt(r->arena, lr->e->started_at));
			csv_num(&c, r->arena, lr->passed);
			csv_num(&c, r->arena, lr->total);
			csv_cell(&c, lr->total > 0 ? hundredths_txt(r->arena, lr->passed * 10000 /
								     lr->total) : "");
			csv_cell(&c, lr->esc.overdue ? "yes" : "no");
			csv_cell(&c, bizday_txt(r->arena, lr->esc.deadline));
			csv_cell(&c, lr->esc.step >= 0 ? lr->esc.step_key : "");
			csv_cell(&c, lr->esc.due_today ? "yes" : "no");
			csv_cell(&c, lr->outcome ? lr->outcome : "");
			for (size_t k = 0; k < ncomps; k++) {
				int64_t v = lr->value[k];

				csv_cell(&c, v < 0 ? "" : cols[k].has_scale && (size_t)v <
					 cols[k].sc.n ? cols[k].sc.names[v] :
					 arena_printf(r->arena, "%lld", (long long)v));
			}
			csv_end(&c);
		}
		csv_cell(&c, "");
		csv_cell(&c, "");
		csv_cell(&c, "share proficient (%)");
		for (size_t k = 0; k < 10; k++)
			csv_cell(&c, "");
		for (size_t k = 0; k < ncomps; k++)
			csv_cell(&c, nens > 0 ? hundredths_txt(r->arena, cols[k].proficient *
							       10000 / (int64_t)nens) : "");
		csv_end(&c);
		csv_send(r, &c, arena_printf(r->arena, "progress-%s.csv", p->key));
		return;
	}
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct json_object *cl = json_object_new_array(), *sum = json_object_new_object();

	json_object_object_add(o, "program", json_object_new_string(p->key));
	json_object_object_add(o, "program_title", json_object_new_string(p->title));
	json_object_object_add(o, "course_id", json_object_new_int64(r->sess->s.context_id));
	json_object_object_add(o, "generated_at", json_object_new_int64(now));
	json_object_object_add(o, "reconciliation", json_object_new_string(rating_policy_name(pol)));
	for (size_t i = 0; i < nens; i++) {
		const struct learner_row *lr = &rows[i];
		struct json_object *x = json_object_new_object(), *l = json_object_new_object();
		struct json_object *prof = json_object_new_array();

		json_object_object_add(x, "enrolment_id", json_object_new_int64(lr->e->id));
		json_object_object_add(l, "id", json_object_new_int64(lr->e->user_id));
		json_object_object_add(l, "name", json_object_new_string(lr->e->learner_name));
		json_object_object_add(x, "learner", l);
		json_object_object_add(x, "status", json_object_new_string(lr->e->status));
		json_object_object_add(x, "started_on",
				       json_object_new_string(day_txt(r->arena, lr->e->started_at)));
		json_object_object_add(x, "observations_passed", json_object_new_int64(lr->passed));
		json_object_object_add(x, "observations_total", json_object_new_int64(lr->total));
		json_object_object_add(x, "pass_rate", lr->total > 0 ?
				       api_hundredths(lr->passed * 10000 / lr->total) : NULL);
		json_object_object_add(x, "overdue", json_object_new_boolean(lr->esc.overdue));
		json_object_object_add(x, "deadline", lr->esc.deadline >= 0 ? json_object_new_string(
					       bizday_txt(r->arena, lr->esc.deadline)) : NULL);
		json_object_object_add(x, "escalation_step", lr->esc.step >= 0 ?
				       json_object_new_string(lr->esc.step_key) : NULL);
		json_object_object_add(x, "escalation_due_today",
				       json_object_new_boolean(lr->esc.due_today));
		json_object_object_add(x, "decision", lr->outcome && *lr->outcome ?
				       json_object_new_string(lr->outcome) : NULL);
		for (size_t k = 0; k < ncomps; k++) {
			int64_t v = lr->value[k];

			if (v >= 0 && cols[k].has_scale && (size_t)v < cols[k].sc.n &&
			    cols[k].sc.proficient[v])
				json_object_array_add(prof,
						      json_object_new_string(cols[k].c.idnumber));
		}
		json_object_object_add(x, "proficient", prof);
		json_object_array_add(list, x);
	}
	json_object_object_add(o, "learners", list);
	for (size_t k = 0; k < ncomps; k++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "competency", json_object_new_string(cols[k].c.idnumber));
		json_object_object_add(x, "shortname", json_object_new_string(cols[k].c.shortname));
		json_object_object_add(x, "rated", json_object_new_int64(cols[k].rated));
		json_object_object_add(x, "proficient", json_object_new_int64(cols[k].proficient));
		json_object_object_add(x, "share_proficient",
				       nens > 0 ? api_hundredths(cols[k].proficient * 10000 /
								 (int64_t)nens) : NULL);
		json_object_array_add(cl, x);
	}
	json_object_object_add(o, "competencies", cl);
	json_object_object_add(sum, "learners", json_object_new_int64((int64_t)nens));
	json_object_object_add(sum, "overdue", json_object_new_int64(overdue));
	json_object_object_add(sum, "escalations_due_today", json_object_new_int64(due));
	json_object_object_add(o, "summary", sum);
	api_ok(r, 200, o);
	json_object_put(o);
}

/* ---- end-of-day report ---- */

static bool in_course(const struct enrolment *ens, size_t n, int64_t enrolment_id)
{
	for (size_t i = 0; i < n; i++)
		if (ens[i].id == enrolment_id)
			return true;
	return false;
}

static struct json_object *line_json(const struct progress_line *l)
{
	struct json_object *x = json_object_new_object();

	json_object_object_add(x, "kind", json_object_new_string(l->kind));
	json_object_object_add(x, "enrolment_id", json_object_new_int64(l->enrolment_id));
	json_object_object_add(x, "learner_id", json_object_new_int64(l->learner_id));
	json_object_object_add(x, "name", json_object_new_string(l->name));
	json_object_object_add(x, "day", json_object_new_string(l->day));
	if (strcmp(l->kind, "missing") != 0) {
		json_object_object_add(x, "author", json_object_new_string(l->author));
		json_object_object_add(x, "text", json_object_new_string(l->text));
		json_object_object_add(x, "line", json_object_new_string(l->line));
	}
	return x;
}

void api_report_day_of(struct req *r, const struct program *p, int64_t context_id,
		       const char *day, bool csv)
{
	struct enrolment *ens = NULL;
	struct progress_line *lines = NULL, *miss = NULL;
	size_t nens = 0, nlines = 0, nmiss = 0;
	enum at_rc rc;

	rc = enrolment_list_context(g_app.db, r->arena, context_id, p->id, &ens, &nens);
	if (rc == AT_OK)
		rc = progress_day_list(g_app.db, r->arena, p->id, day, &lines, &nlines);
	if (rc == AT_OK)
		rc = progress_missing(g_app.db, r->arena, p->id, day, &miss, &nmiss);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not build the report");
		return;
	}
	if (csv) {
		struct csv c;

		csv_init(&c);
		csv_cell(&c, "kind");
		csv_cell(&c, "day");
		csv_cell(&c, "enrolment_id");
		csv_cell(&c, "learner");
		csv_cell(&c, "author");
		csv_cell(&c, "text");
		csv_end(&c);
		for (size_t i = 0; i < nlines; i++) {
			if (!in_course(ens, nens, lines[i].enrolment_id))
				continue;
			csv_cell(&c, lines[i].kind);
			csv_cell(&c, lines[i].day);
			csv_num(&c, r->arena, lines[i].enrolment_id);
			csv_cell(&c, lines[i].name);
			csv_cell(&c, lines[i].author);
			csv_cell(&c, lines[i].text);
			csv_end(&c);
		}
		for (size_t i = 0; i < nmiss; i++) {
			if (!in_course(ens, nens, miss[i].enrolment_id))
				continue;
			csv_cell(&c, "missing");
			csv_cell(&c, day);
			csv_num(&c, r->arena, miss[i].enrolment_id);
			csv_cell(&c, miss[i].name);
			csv_cell(&c, "");
			csv_cell(&c, "");
			csv_end(&c);
		}
		csv_send(r, &c, arena_printf(r->arena, "day-%s-%s.csv", p->key, day));
		return;
	}
	struct json_object *o = json_object_new_object(), *reports = json_object_new_array();
	struct json_object *notes = json_object_new_array(), *missing = json_object_new_array();

	for (size_t i = 0; i < nlines; i++) {
		if (!in_course(ens, nens, lines[i].enrolment_id))
			continue;
		json_object_array_add(strcmp(lines[i].kind, "note") == 0 ? notes : reports,
				      line_json(&lines[i]));
	}
	for (size_t i = 0; i < nmiss; i++)
		if (in_course(ens, nens, miss[i].enrolment_id))
			json_object_array_add(missing, line_json(&miss[i]));
	json_object_object_add(o, "program", json_object_new_string(p->key));
	json_object_object_add(o, "course_id", json_object_new_int64(context_id));
	json_object_object_add(o, "day", json_object_new_string(day));
	json_object_object_add(o, "reports", reports);
	json_object_object_add(o, "notes", notes);
	json_object_object_add(o, "missing", missing);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_report_day(struct req *r)
{
	struct program *p = NULL;
	const char *day = req_param(r, "day");
	bool csv;

	if (!need_course(r) || !want_csv(r, &csv))
		return;
	if (day == NULL || *day == '\0')
		day = progress_day(r->arena, api_now());
	else if (!progress_day_ok(day)) {
		api_error(r, 400, "bad_request", "day", "must be a date written YYYY-MM-DD");
		return;
	}
	if (!param_program(r, &p))
		return;
	api_report_day_of(r, p, r->sess->s.context_id, day, csv);
}

/* ---- record of learning ---- */

struct rec_rating {
	const struct enrolment_comp *c;
	struct rating_row row;
	const char *name;	/* scale value name, or NULL */
};

void api_enrolment_record(struct req *r)
{
	struct enrolment e;
	struct program *p = NULL;
	struct enrolment_obs *obs = NULL;
	struct enrolment_comp *comps = NULL;
	struct evidence *ev = NULL;
	int64_t *dids = NULL, id;
	struct decision *ds;
	struct rec_rating *rr = NULL;
	size_t nobs = 0, ncomps = 0, nev = 0, nd = 0, nrr = 0, caprr = 0;
	struct at_err err = { "" };
	bool csv;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	rc = enrolment_get(g_app.db, r->arena, id, &e);
	if (rc != AT_OK && rc != AT_NOTFOUND) {
		api_fail(r, rc, NULL, "could not load the enrolment");
		return;
	}
	if (rc == AT_NOTFOUND || (e.user_id != r->sess->s.user_id &&
				  !enrolment_may_manage(g_app.db, &e, r->sess->s.user_id))) {
		api_error(r, 404, "not_found", NULL, "no such enrolment");
		return;
	}
	if (!want_csv(r, &csv))
		return;
	rc = program_load(g_app.db, r->arena, e.program_key, 0, &p);
	if (rc == AT_OK)
		rc = enrolment_observations(g_app.db, r->arena, e.id, &obs, &nobs);
	if (rc == AT_OK)
		rc = enrolment_program_competencies(g_app.db, r->arena, p, &comps, &ncomps);
	if (rc == AT_OK)
		rc = evidence_list(g_app.db, r->arena, e.user_id, &ev, &nev);
	if (rc == AT_OK)
		rc = enrolment_decision_ids(g_app.db, r->arena, e.id, &dids, &nd);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not build the record");
		return;
	}
	ds = arena_zalloc(r->arena, (nd + 1) * sizeof(*ds));
	for (size_t i = 0; i < nd; i++) {
		rc = decision_get(g_app.db, r->arena, dids[i], &ds[i]);
		if (rc != AT_OK) {
			api_fail(r, rc, NULL, "could not build the record");
			return;
		}
	}
	for (size_t k = 0; k < ncomps; k++) {
		struct rating_row *hist = NULL;
		struct rating_scale sc;
		size_t nh = 0;
		bool has_sc;

		rc = rating_history(g_app.db, r->arena, e.user_id, comps[k].id, &hist, &nh);
		if (rc != AT_OK) {
			api_fail(r, rc, NULL, "could not build the record");
			return;
		}
		has_sc = nh > 0 && rating_scale_of(g_app.db, r->arena, comps[k].id, &sc, &err) ==
			 AT_OK;
		for (size_t j = 0; j < nh; j++) {
			if (nrr == caprr) {
				struct rec_rating *nv;

				caprr = caprr ? caprr * 2 : 32;
				nv = arena_zalloc(r->arena, caprr * sizeof(*nv));
				if (nrr > 0)
					memcpy(nv, rr, nrr * sizeof(*nv));
				rr = nv;
			}
			rr[nrr].c = &comps[k];
			rr[nrr].row = hist[j];
			rr[nrr].name = has_sc && hist[j].value >= 0 && (size_t)hist[j].value < sc.n ?
				       sc.names[hist[j].value] : NULL;
			nrr++;
		}
	}
	if (csv) {
		struct csv c;

		csv_init(&c);
		csv_cell(&c, "type");
		csv_cell(&c, "id");
		csv_cell(&c, "date");
		csv_cell(&c, "subject");
		csv_cell(&c, "by");
		csv_cell(&c, "value");
		csv_cell(&c, "outcome");
		csv_cell(&c, "detail");
		csv_end(&c);
		for (size_t i = 0; i < nobs; i++) {
			csv_cell(&c, "observation");
			csv_num(&c, r->arena, obs[i].id);
			csv_cell(&c, day_txt(r->arena, obs[i].observed_at));
			csv_cell(&c, obs[i].checklist);
			csv_cell(&c, arena_printf(r->arena, "%s (%s)", obs[i].assessor,
						  obs[i].rater_role));
			csv_cell(&c, hundredths_txt(r->arena, obs[i].score));
			csv_cell(&c, obs[i].passed ? "passed" : "not passed");
			csv_cell(&c, arena_printf(r->arena, "%s%s%s",
				 obs[i].critical_missed ? "critical item missed; " : "",
				 obs[i].amends_id ? arena_printf(r->arena, "amends %lld: %s; ",
				 (long long)obs[i].amends_id, obs[i].amend_reason) : "",
				 obs[i].superseded_by ? arena_printf(r->arena, "superseded by %lld",
				 (long long)obs[i].superseded_by) : ""));
			csv_end(&c);
		}
		for (size_t i = 0; i < nrr; i++) {
			csv_cell(&c, "rating");
			csv_num(&c, r->arena, rr[i].row.id);
			csv_cell(&c, day_txt(r->arena, rr[i].row.created_at));
			csv_cell(&c, rr[i].c->idnumber);
			csv_cell(&c, arena_printf(r->arena, "user %lld (%s)",
						  (long long)rr[i].row.rater_id,
						  rr[i].row.rater_role));
			csv_cell(&c, rr[i].name ? rr[i].name : arena_printf(r->arena, "%lld",
					(long long)rr[i].row.value));
			csv_cell(&c, "");
			csv_cell(&c, rr[i].row.note);
			csv_end(&c);
		}
		for (size_t i = 0; i < nev; i++) {
			csv_cell(&c, "evidence");
			csv_num(&c, r->arena, ev[i].id);
			csv_cell(&c, day_txt(r->arena, ev[i].created_at));
			csv_cell(&c, ev[i].kind);
			csv_cell(&c, arena_printf(r->arena, "user %lld",
						  (long long)ev[i].uploaded_by));
			csv_cell(&c, strcmp(ev[i].kind, "file") == 0 ? ev[i].filename :
				 strcmp(ev[i].kind, "link") == 0 ? ev[i].url : "");
			csv_cell(&c, ev[i].status);
			csv_cell(&c, ev[i].note);
			csv_end(&c);
		}
		for (size_t i = 0; i < nd; i++) {
			csv_cell(&c, "decision");
			csv_num(&c, r->arena, ds[i].id);
			csv_cell(&c, day_txt(r->arena, ds[i].decided_at ? ds[i].decided_at :
					     ds[i].proposed_at));
			csv_cell(&c, e.program_key);
			csv_cell(&c, ds[i].decided_by ? arena_printf(r->arena, "user %lld",
					(long long)ds[i].decided_by) : "rule");
			csv_cell(&c, ds[i].status);
			csv_cell(&c, ds[i].final_outcome ? ds[i].final_outcome :
				 ds[i].proposed_outcome);
			csv_cell(&c, ds[i].justification);
			csv_end(&c);
		}
		csv_send(r, &c, arena_printf(r->arena, "record-%lld-%s.csv", (long long)e.id,
					     e.program_key));
		return;
	}
	struct json_object *o = json_object_new_object(), *l = json_object_new_object();
	struct json_object *jo = json_object_new_array(), *jr = json_object_new_array();
	struct json_object *je = json_object_new_array(), *jd = json_object_new_array();

	json_object_object_add(o, "enrolment_id", json_object_new_int64(e.id));
	json_object_object_add(o, "program", json_object_new_string(e.program_key));
	json_object_object_add(l, "id", json_object_new_int64(e.user_id));
	json_object_object_add(l, "name", json_object_new_string(e.learner_name));
	json_object_object_add(o, "learner", l);
	json_object_object_add(o, "status", json_object_new_string(e.status));
	json_object_object_add(o, "started_at", json_object_new_int64(e.started_at));
	for (size_t i = 0; i < nobs; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "id", json_object_new_int64(obs[i].id));
		json_object_object_add(x, "checklist", json_object_new_string(obs[i].checklist));
		json_object_object_add(x, "rater_role", json_object_new_string(obs[i].rater_role));
		json_object_object_add(x, "assessor_id", json_object_new_int64(obs[i].assessor_id));
		json_object_object_add(x, "assessor", json_object_new_string(obs[i].assessor));
		json_object_object_add(x, "score", api_hundredths(obs[i].score));
		json_object_object_add(x, "max_score", api_hundredths(obs[i].max_score));
		json_object_object_add(x, "passed", json_object_new_boolean(obs[i].passed));
		json_object_object_add(x, "critical_missed",
				       json_object_new_boolean(obs[i].critical_missed));
		json_object_object_add(x, "amends_id", obs[i].amends_id ?
				       json_object_new_int64(obs[i].amends_id) : NULL);
		json_object_object_add(x, "amend_reason", obs[i].amends_id ?
				       json_object_new_string(obs[i].amend_reason) : NULL);
		json_object_object_add(x, "superseded_by", obs[i].superseded_by ?
				       json_object_new_int64(obs[i].superseded_by) : NULL);
		json_object_object_add(x, "observed_at", json_object_new_int64(obs[i].observed_at));
		json_object_object_add(x, "submitted_at", json_object_new_int64(obs[i].submitted_at));
		json_object_array_add(jo, x);
	}
	for (size_t i = 0; i < nrr; i++) {
		struct json_object *x = json_object_new_object(), *evs = json_object_new_array();

		json_object_object_add(x, "id", json_object_new_int64(rr[i].row.id));
		json_object_object_add(x, "competency", json_object_new_string(rr[i].c->idnumber));
		json_object_object_add(x, "rater_id", json_object_new_int64(rr[i].row.rater_id));
		json_object_object_add(x, "rater_role", json_object_new_string(rr[i].row.rater_role));
		json_object_object_add(x, "value", json_object_new_int64(rr[i].row.value));
		json_object_object_add(x, "name", rr[i].name ? json_object_new_string(rr[i].name) :
				       NULL);
		json_object_object_add(x, "observation_id", rr[i].row.observation_id ?
				       json_object_new_int64(rr[i].row.observation_id) : NULL);
		json_object_object_add(x, "note", json_object_new_string(rr[i].row.note ?
					rr[i].row.note : ""));
		json_object_object_add(x, "created_at", json_object_new_int64(rr[i].row.created_at));
		for (size_t j = 0; j < rr[i].row.nevidence; j++)
			json_object_array_add(evs, json_object_new_int64(rr[i].row.evidence_ids[j]));
		json_object_object_add(x, "evidence_ids", evs);
		json_object_array_add(jr, x);
	}
	for (size_t i = 0; i < nev; i++) {
		struct json_object *x = json_object_new_object(), *cs = json_object_new_array();

		json_object_object_add(x, "id", json_object_new_int64(ev[i].id));
		json_object_object_add(x, "kind", json_object_new_string(ev[i].kind));
		json_object_object_add(x, "filename", json_object_new_string(ev[i].filename ?
					ev[i].filename : ""));
		json_object_object_add(x, "media_type", json_object_new_string(ev[i].media_type ?
					ev[i].media_type : ""));
		json_object_object_add(x, "size", json_object_new_int64(ev[i].size));
		json_object_object_add(x, "url", json_object_new_string(ev[i].url ? ev[i].url : ""));
		json_object_object_add(x, "note", json_object_new_string(ev[i].note ? ev[i].note :
					""));
		json_object_object_add(x, "observation_id", ev[i].observation_id ?
				       json_object_new_int64(ev[i].observation_id) : NULL);
		json_object_object_add(x, "status", json_object_new_string(ev[i].status));
		json_object_object_add(x, "review_comment", json_object_new_string(
					       ev[i].review_comment ? ev[i].review_comment : ""));
		json_object_object_add(x, "created_at", json_object_new_int64(ev[i].created_at));
		for (size_t j = 0; j < ev[i].ncompetencies; j++)
			json_object_array_add(cs, json_object_new_int64(ev[i].competency_ids[j]));
		json_object_object_add(x, "competency_ids", cs);
		json_object_array_add(je, x);
	}
	for (size_t i = 0; i < nd; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "id", json_object_new_int64(ds[i].id));
		json_object_object_add(x, "status", json_object_new_string(ds[i].status));
		json_object_object_add(x, "proposed_outcome",
				       json_object_new_string(ds[i].proposed_outcome));
		json_object_object_add(x, "final_outcome", ds[i].final_outcome ?
				       json_object_new_string(ds[i].final_outcome) : NULL);
		json_object_object_add(x, "justification", json_object_new_string(
					       ds[i].justification ? ds[i].justification : ""));
		json_object_object_add(x, "proposed_at", json_object_new_int64(ds[i].proposed_at));
		json_object_object_add(x, "decided_by", ds[i].decided_by ?
				       json_object_new_int64(ds[i].decided_by) : NULL);
		json_object_object_add(x, "decided_at", ds[i].decided_at ?
				       json_object_new_int64(ds[i].decided_at) : NULL);
		json_object_object_add(x, "basis", json_tokener_parse(ds[i].basis ? ds[i].basis :
								      "{}"));
		json_object_array_add(jd, x);
	}
	json_object_object_add(o, "observations", jo);
	json_object_object_add(o, "ratings", jr);
	json_object_object_add(o, "evidence", je);
	json_object_object_add(o, "decisions", jd);
	api_ok(r, 200, o);
	json_object_put(o);
}
