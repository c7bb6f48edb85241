/* rating.c: competency ratings — append-only rows per rater, reconciliation policies. */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/audit.h"
#include "core/rating.h"

static const char SQL_SCALE[] =
	"SELECT f.scale, f.id FROM competency c JOIN framework f ON f.id = c.framework_id"
	" WHERE c.id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO rating (learner_id, competency_id, rater_id, rater_role, value,"
	" observation_id, program_id, note, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
static const char SQL_LATEST[] =
	"SELECT rater_role, value FROM rating WHERE learner_id = ?1 AND competency_id = ?2"
	" ORDER BY created_at DESC, id DESC";
static const char SQL_HISTORY[] =
	"SELECT id, rater_id, rater_role, value, observation_id, program_id, note, created_at"
	" FROM rating WHERE learner_id = ?1 AND competency_id = ?2 ORDER BY created_at, id";
static const char SQL_EVIDENCE[] =
	"SELECT e.id FROM evidence e WHERE (?3 <> 0 AND e.observation_id = ?3)"
	" OR (e.learner_id = ?1 AND e.id IN"
	" (SELECT evidence_id FROM evidence_competency WHERE competency_id = ?2))"
	" ORDER BY e.id";
static const char SQL_PROGRAM_DEF[] = "SELECT definition FROM program WHERE id = ?1";

static const char *const policy_names[] = {
	[RATING_ASSESSOR_WINS] = "assessor_wins",
	[RATING_MINIMUM] = "minimum",
	[RATING_MEAN] = "mean",
	[RATING_AGREE_WITHIN_ONE] = "agree_within_one",
};

/* Rater roles; the assessor side prefers them in this order (self is never on it). */
static const char *const roles[] = { "assessor", "expert", "second", "self" };
#define ROLE_SELF 3

enum at_rc rating_policy_parse(const char *s, enum rating_policy *out)
{
	if (s == NULL || *s == '\0') {
		*out = RATING_ASSESSOR_WINS;
		return AT_OK;
	}
	for (size_t i = 0; i < NELEM(policy_names); i++) {
		if (strcmp(s, policy_names[i]) == 0) {
			*out = (enum rating_policy)i;
			return AT_OK;
		}
	}
	return AT_BADREQ;
}

const char *rating_policy_name(enum rating_policy p)
{
	return (size_t)p < NELEM(policy_names) ? policy_names[p] : "?";
}

static struct json_object *parse_json(const char *s, size_t len)
{
	return jsonx_parse(NULL, s, len, 32, NULL);
}

static void put_json(void *o)
{
	json_object_put(o);
}

enum at_rc rating_scale_parse(struct arena *a, const char *json, struct rating_scale *out,
			      struct at_err *err)
{
	struct json_object *root, *v, *e;
	const char **names;
	bool *prof;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->def = -1;
	if (json == NULL || strlen(json) > 65536)
		return at_fail(err, AT_BADREQ, "scale: missing or too long");
	root = parse_json(json, strlen(json));
	if (root == NULL)
		return at_fail(err, AT_BADREQ, "scale: not JSON");
	arena_on_free(a, put_json, root);
	if (!json_object_is_type(root, json_type_array))
		return at_fail(err, AT_BADREQ, "scale: not an array");
	n = json_object_array_length(root);
	if (n < 1 || n > 100)
		return at_fail(err, AT_BADREQ, "scale: needs 1 to 100 values");
	names = arena_zalloc(a, sizeof(*names) * n);
	prof = arena_zalloc(a, sizeof(*prof) * n);
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(root, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "name", &v) ||
		    !json_object_is_type(v, json_type_string))
			return at_fail(err, AT_BADREQ, "scale: value %zu has no name", i);
		names[i] = arena_strdup(a, json_object_get_string(v));
		if (json_object_object_get_ex(e, "proficient", &v) &&
		    json_object_is_type(v, json_type_boolean))
			prof[i] = json_object_get_boolean(v);
		if (json_object_object_get_ex(e, "default", &v) &&
		    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v) &&
		    out->def < 0)
			out->def = (int64_t)i;
	}
	out->n = n;
	out->names = names;
	out->proficient = prof;
	return AT_OK;
}

enum at_rc rating_scale_of(struct db *db, struct arena *a, int64_t competency_id,
			   struct rating_scale *out, struct at_err *err)
{
	struct db_stmt *st = NULL;
	const char *json;
	int64_t fw;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_SCALE, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, competency_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "competency %" PRId64 " not found", competency_id);
		goto out;
	}
	json = arena_strdup(a, db_col_text(st, 0));
	fw = db_col_i64(st, 1);
	rc = rating_scale_parse(a, json, out, err);
	out->framework_id = fw;
out:
	db_finalize(st);
	return rc;
}

int64_t rating_scale_first_proficient(const struct rating_scale *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->proficient[i])
			return (int64_t)i;
	return -1;
}

enum at_rc rating_policy_of_program(struct db *db, int64_t program_id,
				    enum rating_policy *out, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *root = NULL, *v;
	const char *def;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_PROGRAM_DEF, &st);

	*out = RATING_ASSESSOR_WINS;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, program_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "program %" PRId64 " not found", program_id);
		goto out;
	}
	def = db_col_text(st, 0);
	root = def ? parse_json(def, strlen(def)) : NULL;
	if (root == NULL || !json_object_object_get_ex(root, "reconciliation", &v))
		goto out;	/* no policy named: the default */
	if (!json_object_is_type(v, json_type_string) ||
	    rating_policy_parse(json_object_get_string(v), out) != AT_OK)
		rc = at_fail(err, AT_BADREQ, "program %" PRId64 ": unknown reconciliation policy",
			     program_id);
out:
	json_object_put(root);
	db_finalize(st);
	return rc;
}

static int role_index(const char *r)
{
	for (size_t i = 0; r != NULL && i < NELEM(roles); i++)
		if (strcmp(r, roles[i]) == 0)
			return (int)i;
	return -1;
}

static char *json_text(struct arena *a, struct json_object *o)
{
	char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

enum at_rc rating_record(struct db *db, const struct rating_in *in, int64_t now, int64_t *id,
			 struct at_err *err)
{
	struct arena *a = arena_new();
	struct rating_scale sc;
	struct db_stmt *st = NULL;
	struct json_object *o;
	int64_t rid = 0;
	bool row;
	enum at_rc rc;

	if (role_index(in->rater_role) < 0) {
		rc = at_fail(err, AT_BADREQ, "rater_role must be assessor, self, second or expert");
		goto out;
	}
	if (in->learner_id <= 0 || in->rater_id <= 0) {
		rc = at_fail(err, AT_BADREQ, "rating needs a learner and a rater");
		goto out;
	}
	rc = rating_scale_of(db, a, in->competency_id, &sc, err);
	if (rc != AT_OK)
		goto out;
	if (in->value < 0 || (size_t)in->value >= sc.n) {
		rc = at_fail(err, AT_BADREQ, "rating value %" PRId64 " is outside the scale of"
			     " competency %" PRId64 " (0..%zu)", in->value, in->competency_id,
			     sc.n - 1);
		goto out;
	}
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, in->learner_id);
	db_bind_i64(st, 2, in->competency_id);
	db_bind_i64(st, 3, in->rater_id);
	db_bind_str(st, 4, in->rater_role);
	db_bind_i64(st, 5, in->value);
	if (in->observation_id > 0)
		db_bind_i64(st, 6, in->observation_id);
	else
		db_bind_null(st, 6);
	if (in->program_id > 0)
		db_bind_i64(st, 7, in->program_id);
	else
		db_bind_null(st, 7);
	db_bind_str(st, 8, in->note ? in->note : "");
	db_bind_i64(st, 9, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		rid = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	o = json_object_new_object();
	json_object_object_add(o, "learner", json_object_new_int64(in->learner_id));
	json_object_object_add(o, "competency", json_object_new_int64(in->competency_id));
	json_object_object_add(o, "role", json_object_new_string(in->rater_role));
	json_object_object_add(o, "value", json_object_new_int64(in->value));
	if (in->observation_id > 0)
		json_object_object_add(o, "observation", json_object_new_int64(in->observation_id));
	if (in->program_id > 0)
		json_object_object_add(o, "program", json_object_new_int64(in->program_id));
	rc = audit_append(db, in->rater_id, "rating.record", "rating", rid, json_text(a, o), now,
			  err);
	if (rc == AT_OK && id != NULL)
		*id = rid;
	goto out;
dberr:
	at_fail(err, rc, "rating: %s", db_errmsg(db));
out:
	db_finalize(st);
	arena_free(a);
	return rc;
}

/* Apply policy to the latest value per role (have[i] says whether role i rated). */
static void reconcile(enum rating_policy policy, const bool have[4], const int64_t val[4],
		      int64_t *value, int *flags, struct arena *a, const char **how)
{
	int side = -1, nroles = 0;
	int64_t sum = 0, min = INT64_MAX;
	const char *seen = "";

	for (int i = 0; i < 4; i++) {
		if (!have[i])
			continue;
		if (side < 0 && i != ROLE_SELF)
			side = i;
		nroles++;
		sum += val[i];
		if (val[i] < min)
			min = val[i];
		if (a != NULL)
			seen = arena_printf(a, "%s%s%s %" PRId64, seen, *seen ? ", " : "", roles[i],
					    val[i]);
	}
	*flags = side < 0 ? RATING_FLAG_SELF_ONLY : 0;
	switch (policy) {
	case RATING_MINIMUM:
		*value = min;
		break;
	case RATING_MEAN:
		*value = sum / nroles;	/* values are >= 0: division rounds down */
		break;
	case RATING_AGREE_WITHIN_ONE:
		/* Agreeing raters: the assessor's level. Raters more than one level apart: the
		 * lower level stands until a coordinator reviews it (as the rules engine does). */
		*value = side >= 0 ? val[side] : val[ROLE_SELF];
		if (side >= 0 && have[ROLE_SELF] &&
		    (val[side] - val[ROLE_SELF] > 1 || val[ROLE_SELF] - val[side] > 1)) {
			*flags |= RATING_FLAG_REVIEW;
			if (val[ROLE_SELF] < *value)
				*value = val[ROLE_SELF];
		}
		break;
	case RATING_ASSESSOR_WINS:
	default:
		*value = side >= 0 ? val[side] : val[ROLE_SELF];
		break;
	}
	if (a != NULL)
		*how = arena_printf(a, "%s: %s -> %" PRId64 "%s%s", rating_policy_name(policy),
				    seen, *value,
				    *flags & RATING_FLAG_REVIEW ?
				    "; differ by more than one level, coordinator review" : "",
				    *flags & RATING_FLAG_SELF_ONLY ? "; self-rating only" : "");
}

static enum at_rc current(struct db *db, struct arena *a, int64_t learner_id,
			  int64_t competency_id, enum rating_policy policy, int64_t *value,
			  int *flags, const char **how)
{
	struct db_stmt *st = NULL;
	bool have[4] = { false, false, false, false }, row, any = false;
	int64_t val[4] = { 0, 0, 0, 0 };
	enum at_rc rc = db_prepare(db, SQL_LATEST, &st);

	*value = 0;
	*flags = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, learner_id);
	db_bind_i64(st, 2, competency_id);
	for (;;) {
		int r;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		r = role_index(db_col_text(st, 0));
		if (r < 0 || have[r])
			continue;	/* newest first: only each role's latest counts */
		have[r] = true;
		val[r] = db_col_i64(st, 1);
		any = true;
	}
	if (rc != AT_OK)
		goto out;
	if (!any) {
		rc = AT_NOTFOUND;
		goto out;
	}
	reconcile(policy, have, val, value, flags, a, how);
out:
	db_finalize(st);
	return rc;
}

enum at_rc rating_current(struct db *db, int64_t learner_id, int64_t competency_id,
			  enum rating_policy policy, int64_t *value, int *flags)
{
	return current(db, NULL, learner_id, competency_id, policy, value, flags, NULL);
}

enum at_rc rating_current_explain(struct db *db, struct arena *a, int64_t learner_id,
				  int64_t competency_id, enum rating_policy policy,
				  int64_t *value, int *flags, const char **how)
{
	*how = "";
	return current(db, a, learner_id, competency_id, policy, value, flags, how);
}

static enum at_rc evidence_of(struct db *db, struct arena *a, int64_t learner_id,
			      int64_t competency_id, struct rating_row *r)
{
	struct db_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_EVIDENCE, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, learner_id);
	db_bind_i64(st, 2, competency_id);
	db_bind_i64(st, 3, r->observation_id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		ids = arena_reserve(a, ids, n, &cap,
					     sizeof(*ids));
		ids[n++] = db_col_i64(st, 0);
	}
	r->evidence_ids = ids;
	r->nevidence = n;
out:
	db_finalize(st);
	return rc;
}

enum at_rc rating_history(struct db *db, struct arena *a, int64_t learner_id,
			  int64_t competency_id, struct rating_row **rows, size_t *nrows)
{
	struct db_stmt *st = NULL;
	struct rating_row *v = NULL;
	size_t n = 0, cap = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_HISTORY, &st);

	*rows = NULL;
	*nrows = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, learner_id);
	db_bind_i64(st, 2, competency_id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		v = arena_reserve(a, v, n, &cap,
					     sizeof(*v));
		v[n].id = db_col_i64(st, 0);
		v[n].rater_id = db_col_i64(st, 1);
		v[n].rater_role = arena_strdup(a, db_col_text(st, 2));
		v[n].value = db_col_i64(st, 3);
		v[n].observation_id = db_col_i64(st, 4);
		v[n].program_id = db_col_i64(st, 5);
		v[n].note = arena_strdup(a, db_col_text(st, 6));
		v[n].created_at = db_col_i64(st, 7);
		n++;
	}
	db_finalize(st);
	st = NULL;
	for (size_t i = 0; rc == AT_OK && i < n; i++)
		rc = evidence_of(db, a, learner_id, competency_id, &v[i]);
	if (rc == AT_OK) {
		*rows = v;
		*nrows = n;
	}
out:
	db_finalize(st);
	return rc;
}
