/* feedback.c: one-time feedback links and their responses. */
#include <json-c/json.h>
#include <string.h>

#include "core/audit.h"
#include "core/feedback.h"
#include "core/program.h"
#include "core/token.h"

#define TOKEN_BYTES 32
#define TOKEN_CHARS 43		/* base64url of 32 bytes, no padding */
#define FORM_KEY_MAX 64

static const char SQL_ENROLMENT[] = "SELECT 1 FROM enrolment WHERE id = ?1";
static const char SQL_USER[] = "SELECT 1 FROM app_user WHERE id = ?1";
static const char SQL_CREATE[] =
	"INSERT INTO feedback_link (token_hash, enrolment_id, form_key, created_by, created_at,"
	" expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char SQL_GET[] =
	"SELECT id, enrolment_id, form_key, created_by, created_at, expires_at,"
	" COALESCE(used_at, 0) FROM feedback_link WHERE token_hash = ?1";
/* The claim: only one submission can turn used_at from NULL, whatever the concurrency. */
static const char SQL_CLAIM[] =
	"UPDATE feedback_link SET used_at = ?2"
	" WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING id";
static const char SQL_RESPOND[] =
	"INSERT INTO feedback_response (link_id, answers, score, created_at)"
	" VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_SUMMARY[] =
	"SELECT COUNT(r.id), COUNT(r.score), COALESCE(SUM(r.score), 0)"
	" FROM feedback_link l JOIN feedback_response r ON r.link_id = l.id"
	" WHERE l.enrolment_id = ?1 AND (?2 = '' OR l.form_key = ?2)";
static const char SQL_LINKS[] =
	"SELECT COUNT(*) FROM feedback_link WHERE enrolment_id = ?1 AND (?2 = '' OR form_key = ?2)";

static bool form_key_ok(const char *k)
{
	size_t n = k != NULL ? strlen(k) : 0;

	return n > 0 && n <= FORM_KEY_MAX &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool token_ok(const char *t)
{
	return t != NULL && strlen(t) == TOKEN_CHARS &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
		       TOKEN_CHARS;
}

static enum at_rc exists(struct db *db, const char *sql, int64_t id, bool *found)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_step(st, found);
	}
	db_finalize(st);
	return rc;
}

/* One row of a RETURNING statement: its first column in *id. */
static enum at_rc run_returning(struct db_stmt *st, bool *row, int64_t *id)
{
	enum at_rc rc = db_step(st, row);

	if (rc == AT_OK && *row) {
		*id = db_col_i64(st, 0);
		rc = db_run(st);
	}
	return rc;
}

enum at_rc feedback_link_create(struct db *db, struct arena *a, int64_t enrolment_id,
				const char *form_key, int64_t created_by, int64_t ttl,
				int64_t now, char **token, int64_t *link_id,
				struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *o = NULL;
	bool found, in_tx = false;
	char *t;
	int64_t id = 0;
	enum at_rc rc;

	if (!form_key_ok(form_key))
		return at_fail(err, AT_BADREQ, "form_key: 1 to %d letters, digits, '_', '.' "
			       "or '-'", FORM_KEY_MAX);
	if (ttl < 1 || ttl > FEEDBACK_TTL_MAX)
		return at_fail(err, AT_BADREQ, "ttl: 1 to %d seconds", FEEDBACK_TTL_MAX);
	rc = db_begin(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = true;
	rc = exists(db, SQL_ENROLMENT, enrolment_id, &found);
	if (rc != AT_OK)
		goto db_fail;
	if (!found) {
		rc = at_fail(err, AT_BADREQ, "enrolment_id: no enrolment %lld",
			     (long long)enrolment_id);
		goto out;
	}
	rc = exists(db, SQL_USER, created_by, &found);
	if (rc != AT_OK)
		goto db_fail;
	if (!found) {
		rc = at_fail(err, AT_BADREQ, "created_by: no user %lld", (long long)created_by);
		goto out;
	}
	t = token_random(a, TOKEN_BYTES);
	rc = db_prepare(db, SQL_CREATE, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_str(st, 1, token_sha256_hex(a, t, strlen(t)));
	db_bind_i64(st, 2, enrolment_id);
	db_bind_str(st, 3, form_key);
	db_bind_i64(st, 4, created_by);
	db_bind_i64(st, 5, now);
	db_bind_i64(st, 6, now + ttl);
	rc = run_returning(st, &found, &id);
	if (rc == AT_OK && !found)
		rc = AT_DB;
	if (rc != AT_OK)
		goto db_fail;
	o = json_object_new_object();
	json_object_object_add(o, "enrolment_id", json_object_new_int64(enrolment_id));
	json_object_object_add(o, "form_key", json_object_new_string(form_key));
	json_object_object_add(o, "expires_at", json_object_new_int64(now + ttl));
	rc = audit_append(db, created_by, "feedback.link", "feedback_link", id,
			  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), now, err);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
	*token = t;
	*link_id = id;
	goto out;
db_fail:
	at_fail(err, rc, "database: %s", db_errmsg(db));
out:
	json_object_put(o);
	db_finalize(st);
	if (in_tx)
		db_rollback(db);
	return rc;
}

/* Read the link of token; AT_NOTFOUND if none. */
static enum at_rc get_link(struct db *db, struct arena *a, const char *token,
			   struct feedback_link *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc;

	if (!token_ok(token))
		return AT_NOTFOUND;
	rc = db_prepare(db, SQL_GET, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, token_sha256_hex(a, token, strlen(token)));
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	out->id = db_col_i64(st, 0);
	out->enrolment_id = db_col_i64(st, 1);
	out->form_key = arena_strdup(a, db_col_text(st, 2));
	out->created_by = db_col_i64(st, 3);
	out->created_at = db_col_i64(st, 4);
	out->expires_at = db_col_i64(st, 5);
	out->used_at = db_col_i64(st, 6);
out:
	db_finalize(st);
	return rc;
}

/* Why a link cannot take a response, in words for the respondent. */
static enum at_rc link_state(const struct feedback_link *l, enum at_rc rc, int64_t now,
			     struct at_err *err)
{
	if (rc == AT_NOTFOUND)
		return at_fail(err, rc, "this feedback link is not valid");
	if (rc != AT_OK)
		return at_fail(err, rc, "the feedback link could not be checked");
	if (l->used_at != 0)
		return at_fail(err, AT_CONFLICT, "this feedback link has already been used");
	if (l->expires_at <= now)
		return at_fail(err, AT_FORBIDDEN, "this feedback link has expired");
	return AT_OK;
}

enum at_rc feedback_link_check(struct db *db, struct arena *a, const char *token, int64_t now,
			       struct feedback_link *out, struct at_err *err)
{
	memset(out, 0, sizeof(*out));
	return link_state(out, get_link(db, a, token, out), now, err);
}

/* Parse and re-serialise answers: a JSON object, depth-limited, exact length. */
static enum at_rc normalise_answers(struct arena *a, const char *s, char **out,
				    struct at_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t n = s != NULL ? strlen(s) : 0;
	enum json_tokener_error e;
	enum at_rc rc = AT_OK;

	if (n == 0)
		return at_fail(err, AT_BADREQ, "answers: required");
	if (n > FEEDBACK_ANSWERS_MAX)
		return at_fail(err, AT_BADREQ, "answers: more than %d bytes",
			       FEEDBACK_ANSWERS_MAX);
	tok = json_tokener_new_ex(16);
	if (tok == NULL)
		return at_fail(err, AT_INTERNAL, "out of memory");
	o = json_tokener_parse_ex(tok, s, (int)n);
	e = json_tokener_get_error(tok);
	if (e != json_tokener_success || o == NULL || json_tokener_get_parse_end(tok) != n)
		rc = at_fail(err, AT_BADREQ, "answers: malformed JSON");
	else if (!json_object_is_type(o, json_type_object))
		rc = at_fail(err, AT_BADREQ, "answers: must be a JSON object");
	else
		*out = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

enum at_rc feedback_submit(struct db *db, struct arena *a, const char *token,
			   const char *answers_json, bool has_score, int64_t score, int64_t now,
			   int64_t *response_id, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct feedback_link l;
	struct json_object *o = NULL;
	char *answers = NULL;
	bool row, in_tx = false;
	int64_t link_id = 0, id = 0;
	enum at_rc rc;

	if (has_score && (score < 0 || score > FEEDBACK_SCORE_MAX))
		return at_fail(err, AT_BADREQ, "score: 0 to %d hundredths", FEEDBACK_SCORE_MAX);
	rc = normalise_answers(a, answers_json, &answers, err);
	if (rc != AT_OK)
		return rc;
	if (!token_ok(token))
		return at_fail(err, AT_NOTFOUND, "this feedback link is not valid");
	rc = db_begin(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = true;
	rc = db_prepare(db, SQL_CLAIM, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_str(st, 1, token_sha256_hex(a, token, strlen(token)));
	db_bind_i64(st, 2, now);
	rc = run_returning(st, &row, &link_id);
	if (rc != AT_OK)
		goto db_fail;
	db_finalize(st);
	st = NULL;
	if (!row) {
		/* not claimed: say why (a racing submission shows as used) */
		db_rollback(db);
		in_tx = false;
		memset(&l, 0, sizeof(l));
		rc = link_state(&l, get_link(db, a, token, &l), now, err);
		if (rc == AT_OK)	/* claimed and rolled back by someone meanwhile */
			rc = at_fail(err, AT_CONFLICT, "this feedback link is busy; try again");
		goto out;
	}
	rc = db_prepare(db, SQL_RESPOND, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, link_id);
	db_bind_str(st, 2, answers);
	if (has_score)
		db_bind_i64(st, 3, score);
	else
		db_bind_null(st, 3);
	db_bind_i64(st, 4, now);
	rc = run_returning(st, &row, &id);
	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc != AT_OK)
		goto db_fail;
	/* audit what was counted, never the answers (respondents' words stay out of logs) */
	o = json_object_new_object();
	json_object_object_add(o, "link_id", json_object_new_int64(link_id));
	if (has_score)
		json_object_object_add(o, "score", json_object_new_int64(score));
	rc = audit_append(db, 0, "feedback.submit", "feedback_response", id,
			  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), now, err);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
	*response_id = id;
	goto out;
db_fail:
	at_fail(err, rc, "database: %s", db_errmsg(db));
out:
	json_object_put(o);
	db_finalize(st);
	if (in_tx)
		db_rollback(db);
	return rc;
}

enum at_rc feedback_summary(struct db *db, int64_t enrolment_id, const char *form_key,
			    struct feedback_summary *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_SUMMARY, &st);

	memset(out, 0, sizeof(*out));
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_str(st, 2, form_key != NULL ? form_key : "");
	rc = db_step(st, &row);
	if (rc != AT_OK || !row)
		goto out;
	out->responses = db_col_i64(st, 0);
	out->scored = db_col_i64(st, 1);
	if (out->scored > 0) {
		int64_t sum = db_col_i64(st, 2);

		out->average = (sum + out->scored / 2) / out->scored;	/* scores are >= 0 */
	}
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_LINKS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_str(st, 2, form_key != NULL ? form_key : "");
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		out->links = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

int64_t feedback_form_ttl_days(const struct program *p, const char *form)
{
	struct json_object *forms, *f, *v;

	if (p->root == NULL || !json_object_object_get_ex(p->root, "feedback_forms", &forms) ||
	    !json_object_is_type(forms, json_type_array))
		return FEEDBACK_TTL_DEFAULT_DAYS;
	for (size_t i = 0; i < json_object_array_length(forms); i++) {
		f = json_object_array_get_idx(forms, i);
		if (!json_object_object_get_ex(f, "key", &v) ||
		    strcmp(json_object_get_string(v), form) != 0)
			continue;
		if (json_object_object_get_ex(f, "link_valid_days", &v) &&
		    json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1 &&
		    json_object_get_int64(v) <= FEEDBACK_TTL_MAX / 86400)
			return json_object_get_int64(v);
	}
	return FEEDBACK_TTL_DEFAULT_DAYS;
}
