/* lmsq.c: outbox items for stored changes (core/lmsq.h). Runs inside the caller's
 * transaction: every error is returned and the caller rolls back. */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/lmsq.h"
#include "core/outbox.h"
#include "core/rating.h"

struct target {
	int64_t learner, program, checklist, course, platform, enrolment;
	const char *flavor, *lms_url, *lms_token;
};

struct place {
	int64_t id, checklist_id, score_max;
	const char *lineitem;
};

static const char *json_text(struct arena *a, struct json_object *o)
{
	const char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

/* now (seconds) with the wall clock's milliseconds when now is the current second */
static int64_t stamp_ms(int64_t now)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec == now ? now * 1000 + ts.tv_nsec / 1000000 : now * 1000;
}

static const char *iso_ms(struct arena *a, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[32];

	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	return arena_printf(a, "%s.%03dZ", b, (int)(ms % 1000));
}

static const char SQL_TARGET[] =
	"SELECT e.user_id, e.program_id, COALESCE(e.context_id, 0), COALESCE(c.platform_id, 0),"
	" COALESCE(p.flavor, ''), COALESCE(p.lms_url, ''), COALESCE(p.lms_token, ''), e.id"
	" FROM enrolment e LEFT JOIN context c ON c.id = e.context_id"
	" LEFT JOIN platform p ON p.id = c.platform_id WHERE e.id = ?1";

static enum at_rc load_target(struct db *db, struct arena *a, int64_t enrolment,
			      struct target *t)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_TARGET, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, enrolment);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = AT_NOTFOUND;
		if (rc == AT_OK) {
			t->learner = db_col_i64(st, 0);
			t->program = db_col_i64(st, 1);
			t->course = db_col_i64(st, 2);
			t->platform = db_col_i64(st, 3);
			t->flavor = arena_strdup(a, db_col_text(st, 4));
			t->lms_url = arena_strdup(a, db_col_text(st, 5));
			t->lms_token = arena_strdup(a, db_col_text(st, 6));
			t->enrolment = db_col_i64(st, 7);
		}
	}
	db_finalize(st);
	return rc;
}

static bool has_rest(const struct target *t)
{
	return *t->lms_url && *t->lms_token;
}

static const char SQL_PLACES[] =
	"SELECT id, COALESCE(checklist_id, 0), score_max, lineitem_url FROM placement"
	" WHERE context_id = ?1 AND program_id = ?2 AND (checklist_id IS NULL OR ?3 = 0"
	" OR checklist_id = ?3) ORDER BY id";

/* The placements of t's program in its course; checklist 0 with program_only: those of
 * the program itself. */
static enum at_rc load_places(struct db *db, struct arena *a, const struct target *t,
			      int64_t checklist, bool program_only, struct place **out, size_t *n)
{
	struct db_stmt *st = NULL;
	bool row = false;
	size_t cap = 0;
	enum at_rc rc = db_prepare(db, SQL_PLACES, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, t->course);
	db_bind_i64(st, 2, t->program);
	db_bind_i64(st, 3, checklist);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (program_only && db_col_i64(st, 1) != 0)
			continue;
		*out = arena_reserve(a, *out, *n, &cap, sizeof(**out));
		(*out)[*n].id = db_col_i64(st, 0);
		(*out)[*n].checklist_id = db_col_i64(st, 1);
		(*out)[*n].score_max = db_col_i64(st, 2);
		(*out)[*n].lineitem = arena_strdup(a, db_col_text(st, 3));
		(*n)++;
	}
out:
	db_finalize(st);
	return rc;
}

static enum at_rc enqueue(struct db *db, const struct target *t, const char *kind,
			  const char *order_key, const char *idem_key, const char *payload,
			  int64_t now)
{
	int64_t id = 0;

	return outbox_enqueue(db, t->platform, kind, order_key, idem_key, payload, now * 1000,
			      &id);
}

static struct json_object *score_payload(const struct place *pl, const struct target *t,
					 double fraction, const char *activity, const char *ts,
					 const char *comment, bool new_submission)
{
	struct json_object *o = json_object_new_object();
	double max = pl->score_max / 100.0;

	json_object_object_add(o, "placement_id", json_object_new_int64(pl->id));
	json_object_object_add(o, "user_id", json_object_new_int64(t->learner));
	json_object_object_add(o, "lineitem", json_object_new_string(pl->lineitem));
	/* kept to hundredths: what Attest stores */
	json_object_object_add(o, "score_given", json_object_new_double(
		(double)(int64_t)(fraction * (double)pl->score_max + 0.5) / 100.0));
	json_object_object_add(o, "score_max", json_object_new_double(max));
	json_object_object_add(o, "activity_progress", json_object_new_string(activity));
	json_object_object_add(o, "grading_progress", json_object_new_string("FullyGraded"));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "comment", json_object_new_string(comment));
	json_object_object_add(o, "new_submission", json_object_new_boolean(new_submission));
	return o;
}

/* ---- observations ---- */

static const char SQL_OBS[] =
	"SELECT enrolment_id, checklist_id, rater_role, score, max_score, passed, status"
	" FROM observation WHERE id = ?1";
static const char SQL_OBS_EVIDENCE[] =
	"SELECT id, CASE WHEN filename <> '' THEN filename WHEN url <> '' THEN url ELSE kind END"
	" FROM evidence WHERE observation_id = ?1 AND kind = 'file' ORDER BY id";
static const char SQL_OBS_RATINGS[] =
	"SELECT r.competency_id, r.value, c.framework_id FROM rating r"
	" JOIN competency c ON c.id = r.competency_id WHERE r.observation_id = ?1"
	" ORDER BY c.framework_id, r.competency_id";

struct rate {
	int64_t competency, value, framework;
};

static enum at_rc read_rates(struct db *db, struct arena *a, struct db_stmt *st,
			     struct rate **out, size_t *n)
{
	bool row = false;
	size_t cap = 0;
	enum at_rc rc;

	(void)db;
	*out = NULL;
	*n = 0;
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			return rc;
		*out = arena_reserve(a, *out, *n, &cap, sizeof(**out));
		(*out)[*n].competency = db_col_i64(st, 0);
		(*out)[*n].value = db_col_i64(st, 1);
		(*out)[*n].framework = db_col_i64(st, 2);
		(*n)++;
	}
}

/* moodle_rating / canvas_result items for ratings; tag names the change ("obs:12"). */
static enum at_rc rest_items(struct db *db, struct arena *a, const struct target *t,
			     const struct place *pls, size_t npl, const struct rate *r, size_t nr,
			     const char *tag, const char *note, const char *evidence_url,
			     int64_t now)
{
	enum at_rc rc = AT_OK;

	if (strcmp(t->flavor, "moodle") == 0) {
		for (size_t i = 0; rc == AT_OK && i < nr; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "framework_id", json_object_new_int64(r[i].framework));
			json_object_object_add(o, "competency_id",
					       json_object_new_int64(r[i].competency));
			json_object_object_add(o, "context_id", json_object_new_int64(t->course));
			json_object_object_add(o, "user_id", json_object_new_int64(t->learner));
			json_object_object_add(o, "grade", json_object_new_int64(r[i].value + 1));
			json_object_object_add(o, "note", json_object_new_string(note));
			json_object_object_add(o, "evidence_url", json_object_new_string(evidence_url));
			rc = enqueue(db, t, "moodle_rating",
				     arena_printf(a, "moodle_rating:%" PRId64 ":%" PRId64 ":%" PRId64,
						  t->course, t->learner, r[i].competency),
				     arena_printf(a, "moodle_rating:%s:%" PRId64, tag,
						  r[i].competency),
				     json_text(a, o), now);
		}
		return rc;
	}
	if (strcmp(t->flavor, "canvas") != 0)
		return AT_OK;
	for (size_t p = 0; rc == AT_OK && p < npl; p++) {
		for (size_t i = 0; rc == AT_OK && i < nr;) {
			struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
			int64_t fw = r[i].framework;

			for (; i < nr && r[i].framework == fw; i++) {
				struct json_object *x = json_object_new_object();

				json_object_object_add(x, "competency_id",
						       json_object_new_int64(r[i].competency));
				json_object_object_add(x, "value", json_object_new_int64(r[i].value));
				json_object_array_add(arr, x);
			}
			json_object_object_add(o, "framework_id", json_object_new_int64(fw));
			json_object_object_add(o, "placement_id", json_object_new_int64(pls[p].id));
			json_object_object_add(o, "context_id", json_object_new_int64(t->course));
			json_object_object_add(o, "user_id", json_object_new_int64(t->learner));
			json_object_object_add(o, "ratings", arr);
			json_object_object_add(o, "comment", json_object_new_string(note));
			rc = enqueue(db, t, "canvas_result",
				     arena_printf(a, "canvas_result:%" PRId64 ":%" PRId64, pls[p].id,
						  t->learner),
				     arena_printf(a, "canvas_result:%s:%" PRId64 ":%" PRId64, tag,
						  pls[p].id, fw),
				     json_text(a, o), now);
		}
	}
	return rc;
}

enum at_rc lmsq_observation(struct db *db, struct arena *a, int64_t observation_id,
			    int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct target t;
	struct place *pls = NULL;
	struct rate *rates = NULL;
	struct json_object *ev = NULL;
	size_t npl = 0, nr = 0;
	bool row = false, passed;
	int64_t enrolment, checklist, score, max;
	const char *ts = iso_ms(a, stamp_ms(now)), *comment;
	enum at_rc rc = db_prepare(db, SQL_OBS, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, observation_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	if (strcmp(db_col_text(st, 2), "self") == 0 ||
	    strcmp(db_col_text(st, 6), "submitted") != 0)
		goto out;	/* self-evaluations grade nothing */
	enrolment = db_col_i64(st, 0);
	checklist = db_col_i64(st, 1);
	score = db_col_i64(st, 3);
	max = db_col_i64(st, 4);
	passed = db_col_i64(st, 5) != 0;
	db_finalize(st);
	st = NULL;
	rc = load_target(db, a, enrolment, &t);
	if (rc != AT_OK || t.course == 0 || t.platform == 0)
		goto out;
	rc = load_places(db, a, &t, checklist, false, &pls, &npl);
	if (rc != AT_OK)
		goto out;
	comment = arena_printf(a, "Observation %" PRId64 ": %.2f/%.2f (%s)", observation_id,
			       score / 100.0, max / 100.0, passed ? "passed" : "not passed");
	if (npl > 0) {
		rc = db_prepare(db, SQL_OBS_EVIDENCE, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, observation_id);
		ev = json_object_new_array();
		while ((rc = db_step(st, &row)) == AT_OK && row) {
			struct json_object *e = json_object_new_object();

			/* the id, not a link: the capability link is made when the score is
			 * sent (lti/lti_ags.c), so no usable token ever rests in the outbox */
			json_object_object_add(e, "evidence_id", json_object_new_int64(
					       db_col_i64(st, 0)));
			json_object_object_add(e, "title", json_object_new_string(db_col_text(st, 1)));
			json_object_array_add(ev, e);
		}
		db_finalize(st);
		st = NULL;
		if (rc != AT_OK)
			goto out;
	}
	for (size_t i = 0; i < npl; i++) {
		struct json_object *o = score_payload(&pls[i], &t, max > 0 ? (double)score / max : 0,
						      pls[i].checklist_id ? "Completed" : "InProgress",
						      ts, comment, true);

		json_object_object_add(o, "evidence", json_object_get(ev));
		rc = enqueue(db, &t, "score", arena_printf(a, "score:%" PRId64 ":%" PRId64,
							  pls[i].id, t.learner),
			     arena_printf(a, "score:obs:%" PRId64 ":%" PRId64, observation_id,
					  pls[i].id),
			     json_text(a, o), now);
		if (rc != AT_OK)
			goto out;
	}
	if (!has_rest(&t))
		goto out;
	rc = db_prepare(db, SQL_OBS_RATINGS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, observation_id);
	rc = read_rates(db, a, st, &rates, &nr);
	db_finalize(st);
	st = NULL;
	if (rc == AT_OK && nr > 0)
		rc = rest_items(db, a, &t, pls, npl, rates, nr,
				arena_printf(a, "obs:%" PRId64, observation_id), comment,
				arena_printf(a, "/app/observations/%" PRId64, observation_id), now);
out:
	json_object_put(ev);
	db_finalize(st);
	if (rc != AT_OK && err != NULL && err->msg[0] == '\0')
		at_fail(err, rc, "could not queue the LMS updates of observation %" PRId64,
			observation_id);
	return rc;
}

/* ---- decisions ---- */

static const char SQL_DECISION[] =
	"SELECT enrolment_id, COALESCE(final_outcome, ''), status FROM decision WHERE id = ?1";
static const char SQL_PROGRAM_COMPETENCIES[] =
	"SELECT DISTINCT l.competency_id, 0, c.framework_id FROM checklist k"
	" JOIN checklist_item i ON i.checklist_id = k.id"
	" JOIN item_competency l ON l.item_id = i.id"
	" JOIN competency c ON c.id = l.competency_id WHERE k.program_id = ?1"
	" ORDER BY c.framework_id, l.competency_id";

static bool failing(const char *outcome)
{
	return *outcome == '\0' || strcmp(outcome, "fail") == 0 ||
	       strcmp(outcome, "not_yet") == 0 || strcmp(outcome, "pending") == 0;
}

enum at_rc lmsq_decision(struct db *db, struct arena *a, int64_t decision_id, int64_t now,
			 struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct target t;
	struct place *pls = NULL;
	struct rate *rates = NULL, *kept;
	size_t npl = 0, nr = 0, nk = 0;
	bool row = false;
	int64_t enrolment;
	const char *outcome, *ts = iso_ms(a, stamp_ms(now)), *comment;
	enum rating_policy policy;
	enum at_rc rc = db_prepare(db, SQL_DECISION, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, decision_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	if (strcmp(db_col_text(st, 2), "confirmed") != 0 &&
	    strcmp(db_col_text(st, 2), "overridden") != 0)
		goto out;
	enrolment = db_col_i64(st, 0);
	outcome = arena_strdup(a, db_col_text(st, 1));
	db_finalize(st);
	st = NULL;
	rc = load_target(db, a, enrolment, &t);
	if (rc != AT_OK || t.course == 0 || t.platform == 0)
		goto out;
	rc = load_places(db, a, &t, 0, true, &pls, &npl);
	if (rc != AT_OK)
		goto out;
	comment = arena_printf(a, "Certification decision: %s", outcome);
	for (size_t i = 0; i < npl; i++) {
		struct json_object *o = score_payload(&pls[i], &t, failing(outcome) ? 0.0 : 1.0,
						      "Completed", ts, comment, false);

		json_object_object_add(o, "evidence", json_object_new_array());
		rc = enqueue(db, &t, "score", arena_printf(a, "score:%" PRId64 ":%" PRId64,
							  pls[i].id, t.learner),
			     arena_printf(a, "score:dec:%" PRId64 ":%" PRId64, decision_id,
					  pls[i].id),
			     json_text(a, o), now);
		if (rc != AT_OK)
			goto out;
	}
	if (!has_rest(&t))
		goto out;
	rc = rating_policy_of_program(db, t.program, &policy, NULL);
	if (rc == AT_DB || rc == AT_TIMEOUT)
		goto out;
	if (rc != AT_OK)	/* never block a decision over the LMS: the default policy */
		policy = RATING_ASSESSOR_WINS;
	rc = db_prepare(db, SQL_PROGRAM_COMPETENCIES, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, t.program);
	rc = read_rates(db, a, st, &rates, &nr);
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	kept = arena_zalloc(a, (nr ? nr : 1) * sizeof(*kept));
	for (size_t i = 0; i < nr; i++) {
		int64_t v = 0;
		int flags = 0;

		rc = rating_current(db, t.learner, rates[i].competency, policy, &v, &flags);
		if (rc == AT_NOTFOUND)
			continue;	/* nobody rated it: nothing to say */
		if (rc != AT_OK)
			goto out;
		kept[nk] = rates[i];
		kept[nk++].value = v;
	}
	rc = AT_OK;
	if (nk > 0)
		rc = rest_items(db, a, &t, pls, npl, kept, nk,
				arena_printf(a, "dec:%" PRId64, decision_id), comment,
				arena_printf(a, "/api/v1/enrolments/%" PRId64 "/record", enrolment),
				now);
out:
	db_finalize(st);
	if (rc != AT_OK && err != NULL && err->msg[0] == '\0')
		at_fail(err, rc, "could not queue the LMS updates of decision %" PRId64,
			decision_id);
	return rc;
}

/* ---- rosters ---- */

static const char SQL_ROSTER_CTX[] =
	"SELECT platform_id, nrps_url FROM context WHERE id = ?1";

enum at_rc lmsq_roster(struct db *db, int64_t context_id, int64_t now, bool force,
		       int64_t *id)
{
	struct db_stmt *st = NULL;
	struct arena *a = arena_new();
	struct json_object *o;
	bool row = false;
	int64_t platform;
	enum at_rc rc = db_prepare(db, SQL_ROSTER_CTX, &st);

	*id = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, context_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK || *db_col_text(st, 1) == '\0')
		goto out;
	platform = db_col_i64(st, 0);
	db_finalize(st);
	st = NULL;
	o = json_object_new_object();
	json_object_object_add(o, "context_id", json_object_new_int64(context_id));
	rc = outbox_enqueue(db, platform, "roster",
			    arena_printf(a, "roster:%" PRId64, context_id),
			    force ? arena_printf(a, "roster:%" PRId64 ":now:%" PRId64, context_id,
						 stamp_ms(now)) :
			    arena_printf(a, "roster:%" PRId64 ":hour:%" PRId64, context_id,
					 now / 3600),
			    json_text(a, o), now * 1000, id);
out:
	db_finalize(st);
	arena_free(a);
	return rc;
}
