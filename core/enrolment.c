/* enrolment.c: enrolments of learners in programs, per course, and the read-only queries
 * behind progress reports and records of learning. */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "core/audit.h"
#include "core/enrolment.h"
#include "core/program.h"

#define NAME(u) "COALESCE(NULLIF(" u ".name, ''), NULLIF(TRIM(" u ".given_name || ' ' || " \
	u ".family_name), ''), 'user ' || CAST(" u ".id AS TEXT))"

static const char SQL_PROGRAM[] = "SELECT id FROM program WHERE key = ?1";
static const char SQL_MEMBER[] =
	"SELECT role FROM membership WHERE user_id = ?1 AND context_id = ?2";
static const char SQL_INSERT[] =
	"INSERT INTO enrolment (program_id, user_id, context_id, status, started_at)"
	" VALUES (?1, ?2, ?3, 'active', ?4) RETURNING id";
static const char SQL_STATUS[] =
	"UPDATE enrolment SET status = ?2,"
	" completed_at = CASE WHEN ?2 = 'completed' THEN COALESCE(completed_at, ?3) END"
	" WHERE id = ?1";
static const char SQL_OBS[] =
	"SELECT o.id, o.checklist_id, o.assessor_id, o.score, o.max_score,"
	" COALESCE(o.amends_id, 0),"
	" COALESCE((SELECT MAX(x.id) FROM observation x WHERE x.amends_id = o.id"
	" AND x.status = 'submitted'), 0),"
	" o.observed_at, COALESCE(o.submitted_at, 0), c.key, o.rater_role, " NAME("u") ","
	" o.session_key, o.amend_reason, o.passed, o.critical_missed"
	" FROM observation o JOIN checklist c ON c.id = o.checklist_id"
	" JOIN app_user u ON u.id = o.assessor_id"
	" WHERE o.enrolment_id = ?1 AND o.status = 'submitted'"
	" ORDER BY o.observed_at, o.id";
static const char SQL_OFFERS[] =
	"SELECT p.id, p.key, p.title FROM program p WHERE EXISTS (SELECT 1 FROM placement pl"
	" WHERE pl.context_id = ?1 AND pl.program_id = p.id) ORDER BY LOWER(p.title), p.id";
static const char SQL_OFFERED[] =
	"SELECT p.id FROM program p WHERE p.key = ?1 AND EXISTS (SELECT 1 FROM placement pl"
	" WHERE pl.context_id = ?2 AND pl.program_id = p.id)";
static const char SQL_DECISIONS[] =
	"SELECT id FROM decision WHERE enrolment_id = ?1 ORDER BY id";
static const char SQL_ITEM_COMPS[] =
	"SELECT c.id, c.idnumber, c.shortname FROM checklist ch"
	" JOIN checklist_item i ON i.checklist_id = ch.id"
	" JOIN item_competency ic ON ic.item_id = i.id"
	" JOIN competency c ON c.id = ic.competency_id"
	" WHERE ch.program_id = ?1 ORDER BY ch.id, i.position, c.id";
static const char SQL_COMP_IN_FW[] =
	"SELECT c.id, c.shortname FROM competency c JOIN framework f ON f.id = c.framework_id"
	" WHERE f.idnumber = ?1 AND c.idnumber = ?2";

/* One SELECT per listing: the columns are read by read_row(). */
static const char SQL_BY_ID[] =
	"SELECT e.id, e.program_id, e.user_id, COALESCE(e.context_id, 0), p.key, p.title, "
	NAME("u") ", e.status, e.started_at, COALESCE(e.completed_at, 0)"
	" FROM enrolment e JOIN program p ON p.id = e.program_id"
	" JOIN app_user u ON u.id = e.user_id WHERE e.id = ?1";
static const char SQL_BY_LEARNER[] =
	"SELECT e.id, e.program_id, e.user_id, COALESCE(e.context_id, 0), p.key, p.title, "
	NAME("u") ", e.status, e.started_at, COALESCE(e.completed_at, 0)"
	" FROM enrolment e JOIN program p ON p.id = e.program_id"
	" JOIN app_user u ON u.id = e.user_id WHERE e.user_id = ?1 ORDER BY p.key, e.id";
static const char SQL_BY_CONTEXT[] =
	"SELECT e.id, e.program_id, e.user_id, COALESCE(e.context_id, 0), p.key, p.title, "
	NAME("u") ", e.status, e.started_at, COALESCE(e.completed_at, 0)"
	" FROM enrolment e JOIN program p ON p.id = e.program_id"
	" JOIN app_user u ON u.id = e.user_id"
	" WHERE e.context_id = ?1 AND (?2 = 0 OR e.program_id = ?2)"
	" ORDER BY LOWER(" NAME("u") "), e.id";

static enum at_rc dbfail(struct db *db, struct at_err *err, enum at_rc rc)
{
	return at_fail(err, rc, "%s", db_errmsg(db));
}

static enum at_rc read_row(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct enrolment *e = elem;

	(void)ud;
	e->id = db_col_i64(st, 0);
	e->program_id = db_col_i64(st, 1);
	e->user_id = db_col_i64(st, 2);
	e->context_id = db_col_i64(st, 3);
	e->program_key = arena_strdup(a, db_col_text(st, 4));
	e->program_title = arena_strdup(a, db_col_text(st, 5));
	e->learner_name = arena_strdup(a, db_col_text(st, 6));
	e->status = arena_strdup(a, db_col_text(st, 7));
	e->started_at = db_col_i64(st, 8);
	e->completed_at = db_col_i64(st, 9);
	return AT_OK;
}

/* Look up one i64 column of the first row of sql bound with (a, b|none); *found. */
static enum at_rc one_i64(struct db *db, const char *sql, int64_t a, const char *s, int64_t b,
			  bool use_b, int64_t *out, bool *found)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc != AT_OK)
		return rc;
	if (s != NULL)
		db_bind_str(st, 1, s);
	else
		db_bind_i64(st, 1, a);
	if (use_b)
		db_bind_i64(st, 2, b);
	rc = db_step(st, found);
	if (rc == AT_OK && *found)
		*out = db_col_i64(st, 0);
	db_finalize(st);
	return rc;
}

static enum at_rc create_tx(struct db *db, const char *program_key, int64_t user_id,
			    int64_t context_id, int64_t actor_id, int64_t now,
			    int64_t started_at, int64_t *id,
			    struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *data = NULL;
	int64_t program_id = 0, role = 0;
	bool found, row;
	enum at_rc rc;

	rc = one_i64(db, SQL_PROGRAM, 0, program_key, 0, false, &program_id, &found);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (!found)
		return at_fail(err, AT_NOTFOUND, "program");
	rc = one_i64(db, SQL_MEMBER, user_id, NULL, context_id, true, &role, &found);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (!found)
		return at_fail(err, AT_BADREQ, "learner");
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, program_id);
	db_bind_i64(st, 2, user_id);
	db_bind_i64(st, 3, context_id);
	db_bind_i64(st, 4, started_at);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	db_finalize(st);
	if (rc == AT_CONFLICT)
		return at_fail(err, AT_CONFLICT, "the learner is enrolled in this program already");
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (!row)
		return at_fail(err, AT_DB, "insert returned no id");
	data = json_object_new_object();
	json_object_object_add(data, "program", json_object_new_string(program_key));
	json_object_object_add(data, "learner_id", json_object_new_int64(user_id));
	json_object_object_add(data, "context_id", json_object_new_int64(context_id));
	rc = audit_append(db, actor_id, "enrolment.create", "enrolment", *id,
			  json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), now, err);
	json_object_put(data);
	return rc;
}

enum at_rc enrolment_create(struct db *db, const char *program_key, int64_t user_id,
			    int64_t context_id, int64_t actor_id, int64_t now, int64_t *id,
			    struct at_err *err)
{
	return enrolment_create_at(db, program_key, user_id, context_id, actor_id, now, now, id,
				   err);
}

enum at_rc enrolment_create_at(struct db *db, const char *program_key, int64_t user_id,
			       int64_t context_id, int64_t actor_id, int64_t now,
			       int64_t started_at, int64_t *id, struct at_err *err)
{
	enum at_rc rc;

	if (started_at <= 0 || started_at > now)
		return at_fail(err, AT_BADREQ, "started_at");
	*id = 0;
	if (program_key == NULL || *program_key == '\0')
		return at_fail(err, AT_NOTFOUND, "program");
	if (user_id <= 0 || context_id <= 0)
		return at_fail(err, AT_BADREQ, "learner");
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	rc = create_tx(db, program_key, user_id, context_id, actor_id, now, started_at, id, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK) {
		db_rollback(db);
		*id = 0;
	}
	return rc;
}

enum at_rc enrolment_get(struct db *db, struct arena *a, int64_t id, struct enrolment *out)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_BY_ID, &st);

	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		(void)read_row(st, a, out, NULL);
	db_finalize(st);
	return rc;
}

/* Run an enrolment listing bound with (a, b) into an arena array. */
static enum at_rc list(struct db *db, struct arena *a, const char *sql, int64_t x, int64_t y,
		       bool use_y, struct enrolment **out, size_t *n)
{
	struct db_stmt *st = NULL;
	void *v = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, x);
		if (use_y)
			db_bind_i64(st, 2, y);
		rc = db_rows(st, a, sizeof(**out), read_row, NULL, &v, n);
	}
	db_finalize(st);
	*out = v;
	return rc;
}

static enum at_rc read_offer(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct enrolment_offer *o = elem;

	(void)ud;
	o->id = db_col_i64(st, 0);
	o->key = arena_strdup(a, db_col_text(st, 1));
	o->title = arena_strdup(a, db_col_text(st, 2));
	return AT_OK;
}

enum at_rc enrolment_offers(struct db *db, struct arena *a, int64_t context_id,
			    struct enrolment_offer **out, size_t *n)
{
	struct db_stmt *st = NULL;
	void *v = NULL;
	enum at_rc rc = db_prepare(db, SQL_OFFERS, &st);

	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, context_id);
		rc = db_rows(st, a, sizeof(**out), read_offer, NULL, &v, n);
	}
	db_finalize(st);
	*out = v;
	return rc;
}

bool enrolment_offered(struct db *db, const char *program_key, int64_t context_id)
{
	int64_t id = 0;
	bool found = false;

	if (program_key == NULL || context_id <= 0)
		return false;
	if (one_i64(db, SQL_OFFERED, 0, program_key, context_id, true, &id, &found) != AT_OK)
		return false;
	return found;
}

enum at_rc enrolment_list_learner(struct db *db, struct arena *a, int64_t user_id,
				  struct enrolment **out, size_t *n)
{
	return list(db, a, SQL_BY_LEARNER, user_id, 0, false, out, n);
}

enum at_rc enrolment_list_context(struct db *db, struct arena *a, int64_t context_id,
				  int64_t program_id, struct enrolment **out, size_t *n)
{
	return list(db, a, SQL_BY_CONTEXT, context_id, program_id, true, out, n);
}

static enum at_rc status_tx(struct db *db, int64_t id, const char *status, int64_t actor_id,
			    int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *data;
	int64_t changed;
	enum at_rc rc = db_prepare(db, SQL_STATUS, &st);

	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, id);
	db_bind_str(st, 2, status);
	db_bind_i64(st, 3, now);
	rc = db_run(st);
	changed = rc == AT_OK ? db_changes(st) : 0;
	db_finalize(st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (changed == 0)
		return at_fail(err, AT_NOTFOUND, "enrolment %" PRId64 " not found", id);
	data = json_object_new_object();
	json_object_object_add(data, "status", json_object_new_string(status));
	rc = audit_append(db, actor_id, "enrolment.status", "enrolment", id,
			  json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), now, err);
	json_object_put(data);
	return rc;
}

static bool status_valid(const char *status)
{
	return status != NULL && (strcmp(status, "active") == 0 ||
				  strcmp(status, "completed") == 0 ||
				  strcmp(status, "withdrawn") == 0);
}

enum at_rc enrolment_set_status_tx(struct db *db, int64_t id, const char *status,
				   int64_t actor_id, int64_t now, struct at_err *err)
{
	if (!status_valid(status))
		return at_fail(err, AT_BADREQ, "status must be active, completed or withdrawn");
	return status_tx(db, id, status, actor_id, now, err);
}

enum at_rc enrolment_set_status(struct db *db, int64_t id, const char *status,
				int64_t actor_id, int64_t now, struct at_err *err)
{
	enum at_rc rc;

	if (!status_valid(status))
		return at_fail(err, AT_BADREQ, "status must be active, completed or withdrawn");
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	rc = enrolment_set_status_tx(db, id, status, actor_id, now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK)
		db_rollback(db);
	return rc;
}

bool enrolment_may_manage(struct db *db, const struct enrolment *e, int64_t user_id)
{
	int64_t role = 0;
	bool found = false;

	if (e == NULL || e->context_id <= 0 || user_id <= 0)
		return false;
	if (one_i64(db, SQL_MEMBER, user_id, NULL, e->context_id, true, &role, &found) != AT_OK)
		return false;
	return found && (role & (2 | 4)) != 0;
}

bool enrolment_is_member(struct db *db, int64_t user_id, int64_t context_id)
{
	int64_t role = 0;
	bool found = false;

	if (one_i64(db, SQL_MEMBER, user_id, NULL, context_id, true, &role, &found) != AT_OK)
		return false;
	return found;
}

static enum at_rc read_obs(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct enrolment_obs *o = elem;

	(void)ud;
	o->id = db_col_i64(st, 0);
	o->checklist_id = db_col_i64(st, 1);
	o->assessor_id = db_col_i64(st, 2);
	o->score = db_col_i64(st, 3);
	o->max_score = db_col_i64(st, 4);
	o->amends_id = db_col_i64(st, 5);
	o->superseded_by = db_col_i64(st, 6);
	o->observed_at = db_col_i64(st, 7);
	o->submitted_at = db_col_i64(st, 8);
	o->checklist = arena_strdup(a, db_col_text(st, 9));
	o->rater_role = arena_strdup(a, db_col_text(st, 10));
	o->assessor = arena_strdup(a, db_col_text(st, 11));
	o->session_key = arena_strdup(a, db_col_text(st, 12));
	o->amend_reason = arena_strdup(a, db_col_text(st, 13));
	o->passed = db_col_i64(st, 14) != 0;
	o->critical_missed = db_col_i64(st, 15) != 0;
	return AT_OK;
}

enum at_rc enrolment_observations(struct db *db, struct arena *a, int64_t enrolment_id,
				  struct enrolment_obs **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, SQL_OBS, enrolment_id, sizeof(**out), read_obs, NULL,
				    &v, n);

	*out = v;
	return rc;
}

static enum at_rc read_id(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	(void)a;
	(void)ud;
	*(int64_t *)elem = db_col_i64(st, 0);
	return AT_OK;
}

enum at_rc enrolment_decision_ids(struct db *db, struct arena *a, int64_t enrolment_id,
				  int64_t **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, SQL_DECISIONS, enrolment_id, sizeof(**out), read_id,
				    NULL, &v, n);

	*out = v;
	return rc;
}

/* Append c unless its id is listed already. v has room for cap entries. */
static void comp_add(struct arena *a, struct enrolment_comp **v, size_t *n, size_t *cap,
		     int64_t id, const char *idnumber, const char *shortname)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].id == id)
			return;
	if (*n == *cap) {
		struct enrolment_comp *nv;

		*cap = *cap ? *cap * 2 : 32;
		nv = arena_zalloc(a, *cap * sizeof(*nv));
		if (*n > 0)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
	}
	(*v)[*n].id = id;
	(*v)[*n].idnumber = arena_strdup(a, idnumber);
	(*v)[*n].shortname = arena_strdup(a, shortname ? shortname : "");
	(*n)++;
}

/* Resolve idnumber within p's frameworks; adds it when found. */
static enum at_rc comp_resolve(struct db *db, struct arena *a, const struct program *p,
			       const char *idnumber, struct enrolment_comp **v, size_t *n,
			       size_t *cap)
{
	for (size_t f = 0; f < p->n_frameworks; f++) {
		struct db_stmt *st = NULL;
		bool row = false;
		enum at_rc rc = db_prepare(db, SQL_COMP_IN_FW, &st);

		if (rc != AT_OK)
			return rc;
		db_bind_str(st, 1, p->frameworks[f]);
		db_bind_str(st, 2, idnumber);
		rc = db_step(st, &row);
		if (rc == AT_OK && row)
			comp_add(a, v, n, cap, db_col_i64(st, 0), idnumber, db_col_text(st, 1));
		db_finalize(st);
		if (rc != AT_OK)
			return rc;
		if (row)
			return AT_OK;
	}
	return AT_OK;
}

enum at_rc enrolment_program_competencies(struct db *db, struct arena *a,
					  const struct program *p, struct enrolment_comp **out,
					  size_t *n)
{
	struct db_stmt *st = NULL;
	struct enrolment_comp *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_ITEM_COMPS, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 1, p->id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		comp_add(a, &v, n, &cap, db_col_i64(st, 0), db_col_text(st, 1),
			 db_col_text(st, 2));
	}
	db_finalize(st);
	for (size_t t = 0; rc == AT_OK && t < p->n_tiers; t++)
		for (size_t k = 0; rc == AT_OK && k < p->tiers[t].n_targets; k++)
			rc = comp_resolve(db, a, p, p->tiers[t].targets[k].competency, &v, n,
					  &cap);
	if (rc != AT_OK) {
		*n = 0;
		return rc;
	}
	*out = v;
	return AT_OK;
}
