/* assign.c: an enrolment's group label and assigned assessors (see assign.h). */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "core/assign.h"
#include "core/audit.h"

#define NAME(u) "COALESCE(NULLIF(" u ".name, ''), NULLIF(TRIM(" u ".given_name || ' ' || " \
	u ".family_name), ''), 'user ' || CAST(" u ".id AS TEXT))"

static const char SQL_STAFF[] =
	"SELECT u.id, " NAME("u") " FROM membership m JOIN app_user u ON u.id = m.user_id"
	" WHERE m.context_id = ?1 AND m.active = 1 AND (m.role & 6) <> 0"
	" ORDER BY LOWER(" NAME("u") "), u.id";
static const char SQL_ASSESSORS[] =
	"SELECT u.id, " NAME("u") " FROM enrolment_assessor ea"
	" JOIN app_user u ON u.id = ea.assessor_id WHERE ea.enrolment_id = ?1"
	" ORDER BY LOWER(" NAME("u") "), u.id";
static const char SQL_ENROLMENT_CTX[] =
	"SELECT COALESCE(context_id, 0) FROM enrolment WHERE id = ?1";
static const char SQL_IS_STAFF[] =
	"SELECT 1 FROM membership WHERE user_id = ?1 AND context_id = ?2 AND active = 1"
	" AND (role & 6) <> 0";
static const char SQL_ASSIGNED[] =
	"SELECT 1 FROM enrolment_assessor WHERE enrolment_id = ?1 AND assessor_id = ?2";
static const char SQL_ADD[] =
	"INSERT INTO enrolment_assessor (enrolment_id, assessor_id, assigned_by, created_at)"
	" VALUES (?1, ?2, ?3, ?4)";
static const char SQL_REMOVE[] =
	"DELETE FROM enrolment_assessor WHERE enrolment_id = ?1 AND assessor_id = ?2";
static const char SQL_COHORT[] = "UPDATE enrolment SET cohort = ?2 WHERE id = ?1";

static enum at_rc dbfail(struct db *db, struct at_err *err, enum at_rc rc)
{
	return at_fail(err, rc, "%s", db_errmsg(db));
}

static enum at_rc read_person(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct assign_person *p = elem;

	(void)ud;
	p->id = db_col_i64(st, 0);
	p->name = arena_strdup(a, db_col_text(st, 1));
	return AT_OK;
}

static enum at_rc people(struct db *db, struct arena *a, const char *sql, int64_t id,
			 struct assign_person **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, sql, id, sizeof(**out), read_person, NULL, &v, n);

	*out = v;
	return rc;
}

enum at_rc assign_staff(struct db *db, struct arena *a, int64_t context_id,
			struct assign_person **out, size_t *n)
{
	return people(db, a, SQL_STAFF, context_id, out, n);
}

enum at_rc assign_assessors(struct db *db, struct arena *a, int64_t enrolment_id,
			    struct assign_person **out, size_t *n)
{
	return people(db, a, SQL_ASSESSORS, enrolment_id, out, n);
}

/* Does sql bound with (x, y) give a row? */
static enum at_rc exists(struct db *db, const char *sql, int64_t x, int64_t y, bool *found)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 1, x);
	db_bind_i64(st, 2, y);
	rc = db_step(st, found);
	db_finalize(st);
	return rc;
}

static enum at_rc enrolment_context(struct db *db, int64_t enrolment_id, int64_t *ctx,
				    struct at_err *err)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_ENROLMENT_CTX, &st);

	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, enrolment_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*ctx = db_col_i64(st, 0);
	db_finalize(st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (!row)
		return at_fail(err, AT_NOTFOUND, "enrolment");
	return AT_OK;
}

static enum at_rc audit(struct db *db, int64_t actor_id, const char *action, int64_t id,
			const char *key, struct json_object *val, int64_t now, struct at_err *err)
{
	struct json_object *data = json_object_new_object();
	enum at_rc rc;

	json_object_object_add(data, key, val);
	rc = audit_append(db, actor_id, action, "enrolment", id,
			  json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), now, err);
	json_object_put(data);
	return rc;
}

static enum at_rc add_tx(struct db *db, int64_t enrolment_id, int64_t assessor_id,
			 int64_t actor_id, int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	int64_t ctx = 0;
	bool found;
	enum at_rc rc = enrolment_context(db, enrolment_id, &ctx, err);

	if (rc != AT_OK)
		return rc;
	rc = exists(db, SQL_IS_STAFF, assessor_id, ctx, &found);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (ctx <= 0 || !found)
		return at_fail(err, AT_BADREQ, "assessor");
	rc = exists(db, SQL_ASSIGNED, enrolment_id, assessor_id, &found);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (found)
		return AT_OK;
	rc = db_prepare(db, SQL_ADD, &st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, enrolment_id);
	db_bind_i64(st, 2, assessor_id);
	if (actor_id > 0)
		db_bind_i64(st, 3, actor_id);
	else
		db_bind_null(st, 3);
	db_bind_i64(st, 4, now);
	rc = db_run(st);
	db_finalize(st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	return audit(db, actor_id, "enrolment.assessor_add", enrolment_id, "assessor_id",
		     json_object_new_int64(assessor_id), now, err);
}

/* Run a bound change of one row and finalize it; AT_NOTFOUND naming what when it changed
 * nothing. */
static enum at_rc run_one(struct db *db, struct db_stmt *st, const char *what,
			  struct at_err *err)
{
	enum at_rc rc = db_run(st);
	int64_t changed = rc == AT_OK ? db_changes(st) : 0;

	db_finalize(st);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (changed == 0)
		return at_fail(err, AT_NOTFOUND, "%s", what);
	return AT_OK;
}

static enum at_rc remove_tx(struct db *db, int64_t enrolment_id, int64_t assessor_id,
			    int64_t actor_id, int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_REMOVE, &st);

	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, enrolment_id);
	db_bind_i64(st, 2, assessor_id);
	rc = run_one(db, st, "assessor", err);
	if (rc != AT_OK)
		return rc;
	return audit(db, actor_id, "enrolment.assessor_remove", enrolment_id, "assessor_id",
		     json_object_new_int64(assessor_id), now, err);
}

/* True for valid UTF-8 without control characters. */
static bool clean_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return false;
		/* overlong 3- and 4-byte forms, surrogates, past U+10FFFF */
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
			return false;
		i += k + 1;
	}
	return true;
}

static enum at_rc cohort_tx(struct db *db, int64_t enrolment_id, const char *cohort,
			    int64_t actor_id, int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_COHORT, &st);

	if (rc != AT_OK)
		return dbfail(db, err, rc);
	db_bind_i64(st, 1, enrolment_id);
	db_bind_str(st, 2, cohort);
	rc = run_one(db, st, "enrolment", err);
	if (rc != AT_OK)
		return rc;
	return audit(db, actor_id, "enrolment.cohort", enrolment_id, "cohort",
		     json_object_new_string(cohort), now, err);
}

/* Commit after a step that went well, else roll back. */
static enum at_rc finish(struct db *db, enum at_rc rc)
{
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK)
		db_rollback(db);
	return rc;
}

enum at_rc assign_assessor_add(struct db *db, int64_t enrolment_id, int64_t assessor_id,
			       int64_t actor_id, int64_t now, struct at_err *err)
{
	enum at_rc rc;

	if (assessor_id <= 0)
		return at_fail(err, AT_BADREQ, "assessor");
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	return finish(db, add_tx(db, enrolment_id, assessor_id, actor_id, now, err));
}

enum at_rc assign_assessor_remove(struct db *db, int64_t enrolment_id, int64_t assessor_id,
				  int64_t actor_id, int64_t now, struct at_err *err)
{
	enum at_rc rc = db_begin(db);

	if (rc != AT_OK)
		return dbfail(db, err, rc);
	return finish(db, remove_tx(db, enrolment_id, assessor_id, actor_id, now, err));
}

enum at_rc assign_cohort_set(struct db *db, int64_t enrolment_id, const char *cohort,
			     int64_t actor_id, int64_t now, struct at_err *err)
{
	size_t n;
	char buf[ASSIGN_COHORT_MAX + 1];
	enum at_rc rc;

	if (cohort == NULL)
		cohort = "";
	while (*cohort == ' ' || *cohort == '\t')
		cohort++;
	n = strlen(cohort);
	while (n > 0 && (cohort[n - 1] == ' ' || cohort[n - 1] == '\t'))
		n--;
	if (n > ASSIGN_COHORT_MAX)
		return at_fail(err, AT_BADREQ, "cohort");
	if (!clean_text((const unsigned char *)cohort, n))
		return at_fail(err, AT_BADREQ, "cohort");
	memcpy(buf, cohort, n);
	buf[n] = '\0';
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	return finish(db, cohort_tx(db, enrolment_id, buf, actor_id, now, err));
}
