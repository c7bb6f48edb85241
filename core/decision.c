/* decision.c: propose, confirm, override and expire certification decisions.
 *
 * Confirm and override are one conditional UPDATE (status = 'proposed'), so two
 * coordinators racing on PostgreSQL cannot both decide: the second sees 0 rows changed.
 * Proposals of one enrolment are serialised by locking the enrolment row first.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/audit.h"
#include "core/decision.h"
#include "core/enrolment.h"
#include "core/lmsq.h"
#include "core/program.h"
#include "core/token.h"

#define AUDIT_BASIS_MAX 8192	/* larger bases are audited by hash only */

static const char SQL_LOCK_ENROLMENT[] =
	"UPDATE enrolment SET status = status WHERE id = ?1";
static const char SQL_SUPERSEDE[] =
	"UPDATE decision SET status = 'superseded' WHERE enrolment_id = ?1"
	" AND status = 'proposed' RETURNING id";
static const char SQL_INSERT[] =
	"INSERT INTO decision (enrolment_id, proposed_outcome, basis, proposed_at)"
	" VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_VALIDITY[] =
	"SELECT p.definition, d.enrolment_id FROM decision d"
	" JOIN enrolment e ON e.id = d.enrolment_id JOIN program p ON p.id = e.program_id"
	" WHERE d.id = ?1";
static const char SQL_DECIDE[] =
	"UPDATE decision SET status = ?2, final_outcome = COALESCE(?3, proposed_outcome),"
	" justification = ?4,"
	" decided_by = ?5, decided_at = ?6, expires_at = ?7"
	" WHERE id = ?1 AND status = 'proposed'";
#define COLS "SELECT id, enrolment_id, proposed_outcome, basis, status, final_outcome," \
	" justification, proposed_at, decided_by, decided_at, expires_at FROM decision"
static const char SQL_GET[] = COLS " WHERE id = ?1";
static const char SQL_CURRENT[] =
	COLS " WHERE enrolment_id = ?1 AND status IN ('confirmed', 'overridden')"
	" ORDER BY decided_at DESC, id DESC LIMIT 1";
static const char SQL_PENDING[] =
	COLS " WHERE enrolment_id = ?1 AND status = 'proposed' ORDER BY id DESC LIMIT 1";
#undef COLS

static const char *str(const char *s)
{
	return s ? s : "";
}

static enum at_rc dbfail(struct db *db, struct at_err *err, enum at_rc rc)
{
	return at_fail(err, rc, "decision: %s", db_errmsg(db));
}

static struct json_object *parse_json(const char *s)
{
	if (s == NULL || strlen(s) > (1u << 20))
		return NULL;
	return jsonx_parse(NULL, s, strlen(s), 32, NULL);
}

/* Audit one step; j is consumed. */
static enum at_rc audit(struct db *db, int64_t actor, const char *action, int64_t id,
			struct json_object *j, int64_t now, struct at_err *err)
{
	struct arena *a = arena_new();
	const char *data = arena_strdup(a, json_object_to_json_string_ext(j,
							JSON_C_TO_STRING_PLAIN));
	enum at_rc rc;

	json_object_put(j);
	rc = audit_append(db, actor, action, "decision", id, data, now, err);
	arena_free(a);
	return rc;
}

static bool blank_len(const char *s, size_t *n)
{
	const char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*n = (size_t)(e - s);
	return *n == 0;
}

static enum at_rc propose_tx(struct db *db, int64_t enrolment_id, const char *outcome,
			     const char *basis, const char *basis_hash, int64_t now, int64_t *id,
			     struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *j, *old = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_LOCK_ENROLMENT, &st);

	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, enrolment_id);
	rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	if (db_changes(st) != 1) {
		db_finalize(st);
		return at_fail(err, AT_NOTFOUND, "enrolment %" PRId64 " not found", enrolment_id);
	}
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_SUPERSEDE, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, enrolment_id);
	old = json_object_new_array();
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		json_object_array_add(old, json_object_new_int64(db_col_i64(st, 0)));
	}
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_str(st, 2, outcome);
	db_bind_str(st, 3, basis);
	db_bind_i64(st, 4, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	db_finalize(st);
	j = json_object_new_object();
	json_object_object_add(j, "enrolment", json_object_new_int64(enrolment_id));
	json_object_object_add(j, "outcome", json_object_new_string(outcome));
	/* The hash pins the stored basis; the text itself only while it is small. */
	json_object_object_add(j, "basis_sha256", json_object_new_string(basis_hash));
	if (strlen(basis) <= AUDIT_BASIS_MAX)
		json_object_object_add(j, "basis", parse_json(basis));
	json_object_object_add(j, "supersedes", old);
	return audit(db, 0, "decision.propose", *id, j, now, err);
dberr:
	json_object_put(old);
	db_finalize(st);
	return dbfail(db, err, rc);
}

enum at_rc decision_propose(struct db *db, int64_t enrolment_id, const char *outcome,
			    const char *basis_json, int64_t now, int64_t *id,
			    struct at_err *err)
{
	struct json_object *b;
	struct arena *a;
	size_t n;
	enum at_rc rc;

	*id = 0;
	if (outcome == NULL || blank_len(outcome, &n) || strlen(outcome) > 200)
		return at_fail(err, AT_BADREQ, "a decision needs an outcome (1 to 200 bytes)");
	b = parse_json(basis_json);
	if (b == NULL || !json_object_is_type(b, json_type_object)) {
		json_object_put(b);
		return at_fail(err, AT_BADREQ, "basis must be a JSON object");
	}
	json_object_put(b);
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	a = arena_new();
	rc = propose_tx(db, enrolment_id, outcome, basis_json,
			token_sha256_hex(a, basis_json, strlen(basis_json)), now, id, err);
	arena_free(a);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK) {
		db_rollback(db);
		*id = 0;
	}
	return rc;
}

/* expires_at for decision id decided at now (0 = never), with its enrolment. */
static enum at_rc validity(struct db *db, int64_t id, int64_t now, int64_t *expires,
			   int64_t *enrolment_id, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *def = NULL, *v, *d;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_VALIDITY, &st);

	*expires = 0;
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "decision %" PRId64 " not found", id);
		goto out;
	}
	*enrolment_id = db_col_i64(st, 1);
	def = parse_json(db_col_text(st, 0));
	if (def != NULL && json_object_is_type(def, json_type_object) &&
	    json_object_object_get_ex(def, "validity", &v) &&
	    json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "days", &d)) {
		int64_t days = json_object_get_int64(d);

		if (!json_object_is_type(d, json_type_int) || days < 1 || days > 36500) {
			rc = at_fail(err, AT_BADREQ, "program validity.days must be 1 to 36500");
			goto out;
		}
		*expires = now + days * 86400;
	}
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	json_object_put(def);
	db_finalize(st);
	return rc;
}

/* In the decision's transaction: mark enrolment completed by actor when outcome closes
 * it (program_outcome_closes, on the program's current definition) and it is not yet. */
static enum at_rc close_tx(struct db *db, struct arena *a, int64_t enrolment,
			   const char *outcome, int64_t actor, int64_t now, struct at_err *err)
{
	struct enrolment e;
	struct program *p = NULL;
	enum at_rc rc = enrolment_get(db, a, enrolment, &e);

	if (rc == AT_OK)
		rc = program_load(db, a, e.program_key, 0, &p);
	if (rc != AT_OK)
		return at_fail(err, rc, "decision: cannot load enrolment %" PRId64 " and its"
			       " program: %s", enrolment, db_errmsg(db));
	if (!program_outcome_closes(p, outcome) || strcmp(e.status, "completed") == 0)
		return AT_OK;
	return enrolment_set_status_tx(db, enrolment, "completed", actor, now, err);
}

static enum at_rc decide_tx(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			    const char *outcome, const char *justification, int64_t now,
			    struct at_err *err)
{
	struct arena *a = arena_new();
	struct db_stmt *st = NULL;
	struct decision d;
	struct json_object *j;
	int64_t expires = 0, enrolment = 0;
	bool override = justification != NULL;
	enum at_rc rc = validity(db, id, now, &expires, &enrolment, err);

	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_DECIDE, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	db_bind_str(st, 2, override ? "overridden" : "confirmed");
	db_bind_str(st, 3, outcome);	/* NULL (confirm): the proposed outcome */
	db_bind_str(st, 4, str(justification));
	db_bind_i64(st, 5, coordinator_id);
	db_bind_i64(st, 6, now);
	if (expires > 0)
		db_bind_i64(st, 7, expires);
	else
		db_bind_null(st, 7);
	rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	if (db_changes(st) != 1) {
		rc = at_fail(err, AT_CONFLICT, "decision %" PRId64 " was already decided or"
			     " superseded: it cannot change", id);
		goto out;
	}
	rc = decision_get(db, a, id, &d);
	if (rc != AT_OK)
		goto dberr;
	j = json_object_new_object();
	json_object_object_add(j, "enrolment", json_object_new_int64(enrolment));
	json_object_object_add(j, "proposed", json_object_new_string(d.proposed_outcome));
	json_object_object_add(j, "outcome", json_object_new_string(str(d.final_outcome)));
	if (override)
		json_object_object_add(j, "justification", json_object_new_string(justification));
	if (expires > 0)
		json_object_object_add(j, "expires_at", json_object_new_int64(expires));
	rc = audit(db, coordinator_id, override ? "decision.override" : "decision.confirm",
		   id, j, now, err);
	if (rc == AT_OK)	/* the final grade and ratings, in this same transaction */
		rc = lmsq_decision(db, a, id, now, err);
	if (rc == AT_OK && closing)	/* and the enrolment's end */
		rc = close_tx(db, a, enrolment, d.final_outcome, coordinator_id, now, err);
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	arena_free(a);
	return rc;
}

static enum at_rc decide(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			 const char *outcome, const char *justification, int64_t now,
			 struct at_err *err)
{
	enum at_rc rc;

	if (coordinator_id <= 0)
		return at_fail(err, AT_BADREQ, "a decision needs a coordinator");
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	rc = decide_tx(db, id, coordinator_id, closing, outcome, justification, now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK)
		db_rollback(db);
	return rc;
}

enum at_rc decision_confirm(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			    int64_t now, struct at_err *err)
{
	return decide(db, id, coordinator_id, closing, NULL, NULL, now, err);
}

enum at_rc decision_override(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			     const char *outcome, const char *justification, int64_t now,
			     struct at_err *err)
{
	size_t n;

	if (outcome == NULL || blank_len(outcome, &n) || strlen(outcome) > 200)
		return at_fail(err, AT_BADREQ, "an override needs an outcome (1 to 200 bytes)");
	if (justification == NULL || (blank_len(justification, &n), n) <
	    DECISION_JUSTIFICATION_MIN)
		return at_fail(err, AT_BADREQ, "an override needs a justification of at least"
			       " %d characters", DECISION_JUSTIFICATION_MIN);
	if (strlen(justification) > DECISION_TEXT_MAX)
		return at_fail(err, AT_TOOBIG, "justification over %d bytes", DECISION_TEXT_MAX);
	return decide(db, id, coordinator_id, closing, outcome, justification, now, err);
}

static void read_row(struct db_stmt *st, struct arena *a, struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->id = db_col_i64(st, 0);
	d->enrolment_id = db_col_i64(st, 1);
	d->proposed_outcome = arena_strdup(a, str(db_col_text(st, 2)));
	d->basis = arena_strdup(a, str(db_col_text(st, 3)));
	d->status = arena_strdup(a, str(db_col_text(st, 4)));
	d->final_outcome = arena_strdup(a, db_col_text(st, 5));
	d->justification = arena_strdup(a, str(db_col_text(st, 6)));
	d->proposed_at = db_col_i64(st, 7);
	d->decided_by = db_col_i64(st, 8);
	d->decided_at = db_col_i64(st, 9);
	d->expires_at = db_col_i64(st, 10);
}

static enum at_rc one(struct db *db, struct arena *a, const char *sql, int64_t p,
		      struct decision *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, p);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		read_row(st, a, out);
out:
	db_finalize(st);
	return rc;
}

enum at_rc decision_get(struct db *db, struct arena *a, int64_t id, struct decision *out)
{
	return one(db, a, SQL_GET, id, out);
}

enum at_rc decision_current(struct db *db, struct arena *a, int64_t enrolment_id, int64_t now,
			    struct decision *out)
{
	enum at_rc rc = one(db, a, SQL_CURRENT, enrolment_id, out);

	if (rc == AT_OK)
		out->expired = out->expires_at > 0 && out->expires_at <= now;
	return rc;
}

enum at_rc decision_pending(struct db *db, struct arena *a, int64_t enrolment_id,
			    struct decision *out)
{
	return one(db, a, SQL_PENDING, enrolment_id, out);
}
