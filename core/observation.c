/* observation.c: drafts, autosave, submit (validate, score, ratings), amendments,
 * self-evaluations and side-by-side views. Scoring rules are documented in observation.h.
 *
 * Concurrency: every write starts by touching the observation row with a conditional UPDATE
 * (status = 'draft', or 'submitted' for amendments). On SQLite BEGIN IMMEDIATE already
 * serialises writers; on PostgreSQL the row lock makes a second submit or save wait, then
 * see the new status and fail with AT_CONFLICT instead of writing twice.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/audit.h"
#include "core/lmsq.h"
#include "core/observation.h"
#include "core/rating.h"

#define MAX_ITEMS 1000
#define MAX_WEIGHT 10000	/* 100.00 */
#define MAX_POINTS 1000000	/* 10000.00 */
#define MAX_SCORE 1000000
#define FRAC_ONE 10000		/* fixed-point precision of an item's weighted fraction */

struct link {
	int64_t competency_id;
	struct rating_scale scale;
};

struct item {
	int64_t id, weight, max_points;
	const char *key, *label, *kind;
	bool critical, required;
	struct link *links;
	size_t nlinks;
};

struct fbdef {
	const char *key, *label;
	bool required;
};

struct cl {
	int64_t id, program_id, pass_mark, max_score;
	struct item *items;
	size_t nitems;
	struct fbdef *fb;
	size_t nfb;
};

static const char SQL_CHECKLIST[] =
	"SELECT program_id, pass_mark, max_score, definition FROM checklist WHERE id = ?1";
static const char SQL_ITEMS[] =
	"SELECT id, key, kind, label, weight, max_points, critical, required FROM checklist_item"
	" WHERE checklist_id = ?1 ORDER BY position, id";
static const char SQL_LINKS[] =
	"SELECT ic.item_id, ic.competency_id, f.id, f.scale FROM item_competency ic"
	" JOIN checklist_item ci ON ci.id = ic.item_id"
	" JOIN competency c ON c.id = ic.competency_id"
	" JOIN framework f ON f.id = c.framework_id"
	" WHERE ci.checklist_id = ?1 ORDER BY ic.item_id, ic.competency_id";
static const char SQL_OBS_COLS[] =
	"SELECT o.id, o.enrolment_id, o.checklist_id, o.assessor_id, o.rater_role,"
	" o.session_key, o.client_key, o.status, o.score, o.max_score, o.passed,"
	" o.critical_missed, o.amends_id, o.amend_reason, o.observed_at, o.created_at,"
	" o.updated_at, o.submitted_at, e.user_id, e.program_id"
	" FROM observation o JOIN enrolment e ON e.id = o.enrolment_id WHERE o.id = ?1";
static const char SQL_EFFECTIVE[] =
	"SELECT o.id, o.enrolment_id, o.checklist_id, o.assessor_id, o.rater_role,"
	" o.session_key, o.client_key, o.status, o.score, o.max_score, o.passed,"
	" o.critical_missed, o.amends_id, o.amend_reason, o.observed_at, o.created_at,"
	" o.updated_at, o.submitted_at, e.user_id, e.program_id"
	" FROM observation o JOIN enrolment e ON e.id = o.enrolment_id"
	" WHERE o.enrolment_id = ?1 AND o.status = 'submitted'"
	" AND (CAST(?2 AS BIGINT) = 0 OR o.checklist_id = ?2)"
	" AND (CAST(?3 AS TEXT) = '' OR o.rater_role = ?3)"
	" AND NOT EXISTS (SELECT 1 FROM observation x"
	" WHERE x.amends_id = o.id AND x.status = 'submitted')"
	" ORDER BY o.observed_at, o.id";
static const char SQL_SESSION[] =
	"SELECT o.id FROM observation o WHERE o.checklist_id = ?1 AND o.session_key = ?2"
	" AND o.status = 'submitted' AND NOT EXISTS (SELECT 1 FROM observation x"
	" WHERE x.amends_id = o.id AND x.status = 'submitted')"
	" ORDER BY o.rater_role, o.id";
static const char SQL_ANSWERS[] =
	"SELECT a.item_id, ci.key, a.value, a.text FROM observation_answer a"
	" JOIN checklist_item ci ON ci.id = a.item_id WHERE a.observation_id = ?1"
	" ORDER BY ci.position, ci.id";
static const char SQL_FEEDBACK[] =
	"SELECT key, text FROM feedback_field WHERE observation_id = ?1 ORDER BY key";
static const char SQL_BY_CLIENT_KEY[] =
	"SELECT id, enrolment_id, checklist_id, assessor_id FROM observation WHERE client_key = ?1";
static const char SQL_ENROLMENT[] = "SELECT user_id, program_id FROM enrolment WHERE id = ?1";
static const char SQL_USER[] = "SELECT id FROM app_user WHERE id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO observation (enrolment_id, checklist_id, assessor_id, rater_role,"
	" session_key, client_key, observed_at, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id";
static const char SQL_LOCK_DRAFT[] =
	"UPDATE observation SET updated_at = ?2 WHERE id = ?1 AND status = 'draft'";
static const char SQL_LOCK_SUBMITTED[] =
	"UPDATE observation SET updated_at = updated_at WHERE id = ?1 AND status = 'submitted'";
static const char SQL_STATUS[] = "SELECT status FROM observation WHERE id = ?1";
static const char SQL_UPSERT_ANSWER[] =
	"INSERT INTO observation_answer (observation_id, item_id, value, text)"
	" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (observation_id, item_id)"
	" DO UPDATE SET value = excluded.value, text = excluded.text";
static const char SQL_UPSERT_FEEDBACK[] =
	"INSERT INTO feedback_field (observation_id, key, text) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (observation_id, key) DO UPDATE SET text = excluded.text";
static const char SQL_MARK_SUBMITTED[] =
	"UPDATE observation SET status = 'submitted', score = ?2, max_score = ?3, passed = ?4,"
	" critical_missed = ?5, submitted_at = ?6, updated_at = ?6"
	" WHERE id = ?1 AND status = 'draft'";
static const char SQL_PROGRAM_DEF[] = "SELECT definition FROM program WHERE id = ?1";
static const char SQL_QUALIFIED[] =
	"SELECT COALESCE(d.final_outcome, d.proposed_outcome), d.expires_at FROM decision d"
	" JOIN enrolment e ON e.id = d.enrolment_id JOIN program p ON p.id = e.program_id"
	" WHERE p.key = ?1 AND e.user_id = ?2 AND d.status IN ('confirmed', 'overridden')"
	" ORDER BY d.decided_at DESC, d.id DESC LIMIT 1";
static const char SQL_AMENDED_BY[] =
	"SELECT id FROM observation WHERE amends_id = ?1 ORDER BY id LIMIT 1";
static const char SQL_AMEND_INSERT[] =
	"INSERT INTO observation (enrolment_id, checklist_id, assessor_id, rater_role,"
	" session_key, amends_id, amend_reason, observed_at, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id";
static const char SQL_COPY_ANSWERS[] =
	"INSERT INTO observation_answer (observation_id, item_id, value, text)"
	" SELECT ?2, item_id, value, text FROM observation_answer WHERE observation_id = ?1";
static const char SQL_COPY_FEEDBACK[] =
	"INSERT INTO feedback_field (observation_id, key, text)"
	" SELECT ?2, key, text FROM feedback_field WHERE observation_id = ?1";

static const char *const kinds[] = { "yesno", "rating", "points", "comment" };
static const char *const rater_roles[] = { "assessor", "self", "second", "expert" };

/* ---- small helpers ---- */

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static bool blank(const char *s)
{
	for (; s != NULL && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/* Parse s (depth-limited, whole input); the root is freed with a. NULL when malformed. */
static struct json_object *parse_json(struct arena *a, const char *s)
{
	if (s == NULL || strlen(s) > (1u << 20))
		return NULL;
	return jsonx_parse(a, s, strlen(s), 32, NULL);
}

static char *json_text(struct arena *a, struct json_object *o)
{
	char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

static enum at_rc dbfail(struct db *db, struct at_err *err, enum at_rc rc)
{
	return at_fail(err, rc, "observation: %s", db_errmsg(db));
}

/* ---- checklist loading ---- */

static enum at_rc load_feedback_defs(struct arena *a, struct cl *c, const char *def,
				     struct at_err *err)
{
	struct json_object *root = parse_json(a, def), *list, *e, *v;
	size_t n;

	if (root == NULL || !json_object_is_type(root, json_type_object))
		return at_fail(err, AT_BADREQ, "checklist %" PRId64 ": definition is not a JSON"
			       " object", c->id);
	if (!json_object_object_get_ex(root, "feedback", &list))
		return AT_OK;
	if (!json_object_is_type(list, json_type_array))
		return at_fail(err, AT_BADREQ, "checklist %" PRId64 ": feedback is not a list",
			       c->id);
	n = json_object_array_length(list);
	c->fb = arena_zalloc(a, sizeof(*c->fb) * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		struct fbdef *f = &c->fb[c->nfb];

		e = json_object_array_get_idx(list, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "key", &v) ||
		    !json_object_is_type(v, json_type_string))
			return at_fail(err, AT_BADREQ, "checklist %" PRId64 ": feedback[%zu] has"
				       " no key", c->id, i);
		f->key = arena_strdup(a, json_object_get_string(v));
		f->label = f->key;
		if (json_object_object_get_ex(e, "label", &v) &&
		    json_object_is_type(v, json_type_string))
			f->label = arena_strdup(a, json_object_get_string(v));
		f->required = json_object_object_get_ex(e, "required", &v) &&
			      json_object_is_type(v, json_type_boolean) &&
			      json_object_get_boolean(v);
		c->nfb++;
	}
	return AT_OK;
}

static struct item *item_by_id(const struct cl *c, int64_t id)
{
	for (size_t i = 0; i < c->nitems; i++)
		if (c->items[i].id == id)
			return &c->items[i];
	return NULL;
}

static struct item *item_by_key(const struct cl *c, const char *key)
{
	for (size_t i = 0; key != NULL && i < c->nitems; i++)
		if (strcmp(c->items[i].key, key) == 0)
			return &c->items[i];
	return NULL;
}

static enum at_rc load_links(struct db *db, struct arena *a, struct cl *c, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct rating_scale *cache = arena_zalloc(a, sizeof(*cache) * 16);
	size_t ncache = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_LINKS, &st);

	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, c->id);
	for (;;) {
		struct item *it;
		struct link *l;
		int64_t fw;
		size_t k;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		it = item_by_id(c, db_col_i64(st, 0));
		if (it == NULL)
			continue;
		if (it->nlinks % 8 == 0) {
			struct link *grown = arena_zalloc(a, sizeof(*grown) * (it->nlinks + 8));

			if (it->nlinks > 0)
				memcpy(grown, it->links, sizeof(*grown) * it->nlinks);
			it->links = grown;
		}
		l = &it->links[it->nlinks++];
		l->competency_id = db_col_i64(st, 1);
		fw = db_col_i64(st, 2);
		for (k = 0; k < ncache && cache[k].framework_id != fw; k++)
			;
		if (k == ncache) {
			rc = rating_scale_parse(a, arena_strdup(a, db_col_text(st, 3)), &l->scale,
						err);
			if (rc != AT_OK)
				goto out;
			l->scale.framework_id = fw;
			if (ncache < 16)
				cache[ncache++] = l->scale;
		} else {
			l->scale = cache[k];
		}
	}
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc load_checklist(struct db *db, struct arena *a, int64_t id, struct cl *c,
				 struct at_err *err)
{
	struct db_stmt *st = NULL;
	const char *def = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc;

	memset(c, 0, sizeof(*c));
	c->id = id;
	rc = db_prepare(db, SQL_CHECKLIST, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "checklist %" PRId64 " not found", id);
		goto out;
	}
	c->program_id = db_col_i64(st, 0);
	c->pass_mark = db_col_i64(st, 1);
	c->max_score = db_col_i64(st, 2);
	def = arena_strdup(a, db_col_text(st, 3));
	db_finalize(st);
	st = NULL;
	if (c->max_score == 0)
		c->max_score = 10000;
	if (c->max_score < 0 || c->max_score > MAX_SCORE) {
		rc = at_fail(err, AT_BADREQ, "checklist %" PRId64 ": max_score out of range", id);
		goto out;
	}
	rc = load_feedback_defs(a, c, def, err);
	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_ITEMS, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	for (;;) {
		struct item *it;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		if (c->nitems == MAX_ITEMS) {
			rc = at_fail(err, AT_BADREQ, "checklist %" PRId64 ": over %d items", id,
				     MAX_ITEMS);
			goto out;
		}
		c->items = arena_reserve(a, c->items, c->nitems, &cap,
					     sizeof(*c->items));
		it = &c->items[c->nitems++];
		it->id = db_col_i64(st, 0);
		it->key = arena_strdup(a, str(db_col_text(st, 1)));
		it->kind = arena_strdup(a, str(db_col_text(st, 2)));
		it->label = arena_strdup(a, str(db_col_text(st, 3)));
		it->weight = db_col_i64(st, 4);
		it->max_points = db_col_i64(st, 5);
		it->critical = db_col_i64(st, 6) != 0;
		it->required = db_col_i64(st, 7) != 0;
		if (!in_list(it->kind, kinds, NELEM(kinds)) || it->weight < 0 ||
		    it->weight > MAX_WEIGHT || (strcmp(it->kind, "points") == 0 &&
		    (it->max_points < 1 || it->max_points > MAX_POINTS))) {
			rc = at_fail(err, AT_BADREQ, "checklist %" PRId64 ": item '%s' has a bad"
				     " kind, weight or max_points", id, it->key);
			goto out;
		}
	}
	db_finalize(st);
	st = NULL;
	rc = load_links(db, a, c, err);
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	return rc;
}

/* ---- observation rows ---- */

static void read_obs(struct db_stmt *st, struct arena *a, struct observation *o)
{
	memset(o, 0, sizeof(*o));
	o->id = db_col_i64(st, 0);
	o->enrolment_id = db_col_i64(st, 1);
	o->checklist_id = db_col_i64(st, 2);
	o->assessor_id = db_col_i64(st, 3);
	o->rater_role = arena_strdup(a, str(db_col_text(st, 4)));
	o->session_key = arena_strdup(a, str(db_col_text(st, 5)));
	o->client_key = arena_strdup(a, db_col_text(st, 6));
	o->status = arena_strdup(a, str(db_col_text(st, 7)));
	o->score = db_col_i64(st, 8);
	o->max_score = db_col_i64(st, 9);
	o->passed = db_col_i64(st, 10) != 0;
	o->critical_missed = db_col_i64(st, 11) != 0;
	o->amends_id = db_col_i64(st, 12);
	o->amend_reason = arena_strdup(a, str(db_col_text(st, 13)));
	o->observed_at = db_col_i64(st, 14);
	o->created_at = db_col_i64(st, 15);
	o->updated_at = db_col_i64(st, 16);
	o->submitted_at = db_col_i64(st, 17);
	o->learner_id = db_col_i64(st, 18);
	o->program_id = db_col_i64(st, 19);
}

static enum at_rc load_answers(struct db *db, struct arena *a, struct observation *o)
{
	struct db_stmt *st = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_ANSWERS, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, o->id);
	for (;;) {
		struct obs_item_answer *x;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		o->answers = arena_reserve(a, o->answers, o->nanswers, &cap,
					     sizeof(*o->answers));
		x = &o->answers[o->nanswers++];
		x->item_id = db_col_i64(st, 0);
		x->key = arena_strdup(a, str(db_col_text(st, 1)));
		x->has_value = !db_col_null(st, 2);
		x->value = db_col_i64(st, 2);
		x->text = arena_strdup(a, str(db_col_text(st, 3)));
	}
	if (rc != AT_OK)
		goto out;
	db_finalize(st);
	st = NULL;
	cap = 0;
	rc = db_prepare(db, SQL_FEEDBACK, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, o->id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		o->feedback = arena_reserve(a, o->feedback, o->nfeedback, &cap,
					     sizeof(*o->feedback));
		o->feedback[o->nfeedback].key = arena_strdup(a, str(db_col_text(st, 0)));
		o->feedback[o->nfeedback].text = arena_strdup(a, str(db_col_text(st, 1)));
		o->nfeedback++;
	}
out:
	db_finalize(st);
	return rc;
}

static enum at_rc get_row(struct db *db, struct arena *a, int64_t id, struct observation *o)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_OBS_COLS, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		read_obs(st, a, o);
out:
	db_finalize(st);
	return rc;
}

enum at_rc observation_get(struct db *db, struct arena *a, int64_t id,
			   struct observation *out)
{
	enum at_rc rc = get_row(db, a, id, out);

	if (rc == AT_OK)
		rc = load_answers(db, a, out);
	return rc;
}

/* Run a one-row lookup returning its first column as an integer; AT_NOTFOUND if none. */
static enum at_rc one_i64(struct db *db, const char *sql, int64_t p1, int64_t *v)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, p1);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		*v = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

/*
 * Take the write lock on observation id in the state it must be in (sql is SQL_LOCK_DRAFT
 * or SQL_LOCK_SUBMITTED). Returns AT_OK, AT_NOTFOUND, or AT_CONFLICT when its status is
 * another one (err names it).
 */
static enum at_rc lock_obs(struct db *db, const char *sql, int64_t id, int64_t now,
			   struct at_err *err)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	if (sql == SQL_LOCK_DRAFT)
		db_bind_i64(st, 2, now);
	rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	if (db_changes(st) == 1)
		goto out;
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_STATUS, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (!row)
		rc = at_fail(err, AT_NOTFOUND, "observation %" PRId64 " not found", id);
	else if (sql == SQL_LOCK_DRAFT)
		rc = at_fail(err, AT_CONFLICT, "observation %" PRId64 " is %s: a submitted"
			     " observation cannot change (amend it instead)", id,
			     str(db_col_text(st, 0)));
	else
		rc = at_fail(err, AT_CONFLICT, "observation %" PRId64 " is a %s: only a"
			     " submitted observation can be amended", id,
			     str(db_col_text(st, 0)));
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	return rc;
}

/* ---- create ---- */

static enum at_rc find_client_key(struct db *db, const struct obs_new *n, int64_t *id,
				  struct at_err *err)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_BY_CLIENT_KEY, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, n->client_key);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = AT_NOTFOUND;
		goto out;
	}
	if (db_col_i64(st, 1) != n->enrolment_id || db_col_i64(st, 2) != n->checklist_id ||
	    db_col_i64(st, 3) != n->assessor_id) {
		rc = at_fail(err, AT_CONFLICT, "client_key is already used by another"
			     " observation");
		goto out;
	}
	*id = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc create_tx(struct db *db, const struct obs_new *n, const char *role,
			    int64_t now, int64_t *id, struct at_err *err)
{
	struct db_stmt *st = NULL;
	int64_t learner = 0, program = 0, cl_program = 0, u;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_ENROLMENT, &st);

	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, n->enrolment_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "enrolment %" PRId64 " not found", n->enrolment_id);
		goto out;
	}
	learner = db_col_i64(st, 0);
	program = db_col_i64(st, 1);
	db_finalize(st);
	st = NULL;
	rc = one_i64(db, SQL_CHECKLIST, n->checklist_id, &cl_program);
	if (rc == AT_NOTFOUND) {
		rc = at_fail(err, rc, "checklist %" PRId64 " not found", n->checklist_id);
		goto out;
	}
	if (rc != AT_OK)
		goto dberr;
	if (cl_program != program) {
		rc = at_fail(err, AT_BADREQ, "checklist %" PRId64 " is not part of the program"
			     " of enrolment %" PRId64, n->checklist_id, n->enrolment_id);
		goto out;
	}
	rc = one_i64(db, SQL_USER, n->assessor_id, &u);
	if (rc == AT_NOTFOUND) {
		rc = at_fail(err, rc, "user %" PRId64 " not found", n->assessor_id);
		goto out;
	}
	if (rc != AT_OK)
		goto dberr;
	if (strcmp(role, "self") == 0 && n->assessor_id != learner) {
		rc = at_fail(err, AT_BADREQ, "a self-evaluation is made by the learner");
		goto out;
	}
	if (strcmp(role, "self") != 0 && n->assessor_id == learner) {
		rc = at_fail(err, AT_BADREQ, "a learner cannot assess themself (rater_role self"
			     " is the self-evaluation)");
		goto out;
	}
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, n->enrolment_id);
	db_bind_i64(st, 2, n->checklist_id);
	db_bind_i64(st, 3, n->assessor_id);
	db_bind_str(st, 4, role);
	db_bind_str(st, 5, str(n->session_key));
	if (n->client_key != NULL)
		db_bind_str(st, 6, n->client_key);
	else
		db_bind_null(st, 6);
	db_bind_i64(st, 7, n->observed_at);
	db_bind_i64(st, 8, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	if (rc == AT_OK)
		goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	return rc;
}

enum at_rc observation_create(struct db *db, const struct obs_new *n, int64_t now,
			      int64_t *id, bool *existed, struct at_err *err)
{
	const char *role = n->rater_role ? n->rater_role : "assessor";
	enum at_rc rc;

	*existed = false;
	*id = 0;
	if (!in_list(role, rater_roles, NELEM(rater_roles)))
		return at_fail(err, AT_BADREQ, "rater_role must be assessor, self, second or"
			       " expert");
	if (strlen(str(n->session_key)) > OBS_KEY_MAX ||
	    (n->client_key != NULL && (*n->client_key == '\0' ||
				       strlen(n->client_key) > OBS_KEY_MAX)))
		return at_fail(err, AT_BADREQ, "session_key or client_key: 1 to %d bytes",
			       OBS_KEY_MAX);
	if (n->client_key != NULL) {
		rc = find_client_key(db, n, id, err);
		if (rc == AT_OK)
			*existed = true;
		if (rc != AT_NOTFOUND)
			return rc;
	}
	rc = db_begin(db);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	rc = create_tx(db, n, role, now, id, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc == AT_OK)
		return AT_OK;
	db_rollback(db);
	if (rc == AT_CONFLICT && n->client_key != NULL) {
		/* Another worker created it between our lookup and insert. */
		rc = find_client_key(db, n, id, err);
		if (rc == AT_OK)
			*existed = true;
	}
	return rc;
}

/* ---- save ---- */

/* Check one answer against its item. Returns AT_OK or AT_BADREQ/AT_TOOBIG naming it. */
static enum at_rc check_answer(const struct item *it, const struct obs_answer *x,
			       struct at_err *err)
{
	if (strlen(str(x->text)) > OBS_TEXT_MAX)
		return at_fail(err, AT_TOOBIG, "item '%s': text over %d bytes", it->key,
			       OBS_TEXT_MAX);
	if (!x->has_value)
		return AT_OK;
	if (strcmp(it->kind, "comment") == 0)
		return at_fail(err, AT_BADREQ, "item '%s' is a comment: it takes text, not a"
			       " value", it->key);
	if (strcmp(it->kind, "yesno") == 0 && x->value != 0 && x->value != 1)
		return at_fail(err, AT_BADREQ, "item '%s' is yes/no: the value must be 0 or 1",
			       it->key);
	if (strcmp(it->kind, "points") == 0 && (x->value < 0 || x->value > it->max_points))
		return at_fail(err, AT_BADREQ, "item '%s': points must be 0 to %" PRId64
			       " (hundredths)", it->key, it->max_points);
	if (strcmp(it->kind, "rating") == 0) {
		if (it->nlinks == 0)
			return at_fail(err, AT_BADREQ, "item '%s' is a rating without a"
				       " competency, so it has no scale", it->key);
		for (size_t i = 0; i < it->nlinks; i++)
			if (x->value < 0 || (size_t)x->value >= it->links[i].scale.n)
				return at_fail(err, AT_BADREQ, "item '%s': rating must be a scale"
					       " value 0 to %zu", it->key,
					       it->links[i].scale.n - 1);
	}
	return AT_OK;
}

static const struct fbdef *fb_by_key(const struct cl *c, const char *key)
{
	for (size_t i = 0; key != NULL && i < c->nfb; i++)
		if (strcmp(c->fb[i].key, key) == 0)
			return &c->fb[i];
	return NULL;
}

static enum at_rc save_tx(struct db *db, struct arena *a, int64_t id, int64_t actor_id,
			  const struct obs_answer *ans, size_t nans,
			  const struct obs_feedback *fb, size_t nfb, int64_t now,
			  struct at_err *err)
{
	struct observation o;
	struct cl c;
	struct db_stmt *st = NULL;
	const struct item **its = arena_zalloc(a, sizeof(*its) * (nans ? nans : 1));
	enum at_rc rc = lock_obs(db, SQL_LOCK_DRAFT, id, now, err);

	if (rc != AT_OK)
		return rc;
	rc = get_row(db, a, id, &o);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (o.assessor_id != actor_id)
		return at_fail(err, AT_FORBIDDEN, "only the rater of observation %" PRId64
			       " may change it", id);
	rc = load_checklist(db, a, o.checklist_id, &c, err);
	if (rc != AT_OK)
		return rc;
	/* Validate everything before the first write. */
	for (size_t i = 0; i < nans; i++) {
		its[i] = item_by_key(&c, ans[i].item_key);
		if (its[i] == NULL)
			return at_fail(err, AT_BADREQ, "no item '%s' in this checklist",
				       str(ans[i].item_key));
		rc = check_answer(its[i], &ans[i], err);
		if (rc != AT_OK)
			return rc;
	}
	for (size_t i = 0; i < nfb; i++) {
		if (fb_by_key(&c, fb[i].key) == NULL)
			return at_fail(err, AT_BADREQ, "no feedback field '%s' in this checklist",
				       str(fb[i].key));
		if (strlen(str(fb[i].text)) > OBS_TEXT_MAX)
			return at_fail(err, AT_TOOBIG, "feedback field '%s': text over %d bytes",
				       fb[i].key, OBS_TEXT_MAX);
	}
	for (size_t i = 0; i < nans; i++) {
		rc = db_prepare(db, SQL_UPSERT_ANSWER, &st);
		if (rc != AT_OK)
			goto dberr;
		db_bind_i64(st, 1, id);
		db_bind_i64(st, 2, its[i]->id);
		if (ans[i].has_value)
			db_bind_i64(st, 3, ans[i].value);
		else
			db_bind_null(st, 3);
		db_bind_str(st, 4, str(ans[i].text));
		rc = db_run(st);
		if (rc != AT_OK)
			goto dberr;
		db_finalize(st);
		st = NULL;
	}
	for (size_t i = 0; i < nfb; i++) {
		rc = db_prepare(db, SQL_UPSERT_FEEDBACK, &st);
		if (rc != AT_OK)
			goto dberr;
		db_bind_i64(st, 1, id);
		db_bind_str(st, 2, fb[i].key);
		db_bind_str(st, 3, str(fb[i].text));
		rc = db_run(st);
		if (rc != AT_OK)
			goto dberr;
		db_finalize(st);
		st = NULL;
	}
	return AT_OK;
dberr:
	db_finalize(st);
	return dbfail(db, err, rc);
}

enum at_rc observation_save(struct db *db, int64_t id, int64_t actor_id,
			    const struct obs_answer *ans, size_t nans,
			    const struct obs_feedback *fb, size_t nfb, int64_t now,
			    struct at_err *err)
{
	struct arena *a = arena_new();
	enum at_rc rc = db_begin(db);

	if (rc != AT_OK) {
		dbfail(db, err, rc);
		goto out;
	}
	rc = save_tx(db, a, id, actor_id, ans, nans, fb, nfb, now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK)
		db_rollback(db);
out:
	arena_free(a);
	return rc;
}

/* ---- submit ---- */

static const struct obs_item_answer *answer_of(const struct observation *o, int64_t item_id)
{
	for (size_t i = 0; i < o->nanswers; i++)
		if (o->answers[i].item_id == item_id)
			return &o->answers[i];
	return NULL;
}

static bool answered(const struct item *it, const struct obs_item_answer *x)
{
	if (x == NULL)
		return false;
	if (strcmp(it->kind, "comment") == 0)
		return !blank(x->text);
	return x->has_value;
}

struct score {
	int64_t score, max_score;
	bool passed, critical_missed;
	const char *missed;	/* key of the first critical miss */
};

/* Score o against c (rules in observation.h). */
static void score_obs(const struct cl *c, const struct observation *o, bool self,
		      struct score *s)
{
	int64_t num = 0, den = 0;

	memset(s, 0, sizeof(*s));
	s->max_score = c->max_score;
	for (size_t i = 0; i < c->nitems; i++) {
		const struct item *it = &c->items[i];
		const struct obs_item_answer *x = answer_of(o, it->id);
		int64_t n = 0, d = 1;
		bool miss = false;

		if (strcmp(it->kind, "comment") == 0)
			continue;
		if (!answered(it, x)) {
			if (it->critical) {
				s->critical_missed = true;
				s->missed = s->missed ? s->missed : it->key;
			}
			continue;
		}
		if (strcmp(it->kind, "yesno") == 0) {
			n = x->value;
			miss = x->value == 0;
		} else if (strcmp(it->kind, "points") == 0) {
			n = x->value;
			d = it->max_points;
			miss = x->value == 0;
		} else if (it->nlinks > 0) {	/* rating: the first competency's scale */
			const struct rating_scale *sc = &it->links[0].scale;

			n = sc->n > 1 ? x->value : 1;
			d = sc->n > 1 ? (int64_t)sc->n - 1 : 1;
			for (size_t k = 0; k < it->nlinks; k++) {
				int64_t p = rating_scale_first_proficient(&it->links[k].scale);

				if (p >= 0 && x->value < p)
					miss = true;
			}
		}
		if (it->critical && miss) {
			s->critical_missed = true;
			s->missed = s->missed ? s->missed : it->key;
		}
		num += it->weight * n * FRAC_ONE / d;
		den += it->weight;
	}
	if (den > 0)
		s->score = c->max_score * num / (den * FRAC_ONE);
	s->passed = !self && !s->critical_missed && s->score >= c->pass_mark;
	if (self)
		s->critical_missed = false;
}

/* Check the assessor qualification named by the program definition, if any. */
static enum at_rc check_qualified(struct db *db, struct arena *a, const struct observation *o,
				  int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *root, *q, *pv, *ov;
	const char *pkey, *outcome, *def;
	bool row, ok = false;
	enum at_rc rc = db_prepare(db, SQL_PROGRAM_DEF, &st);

	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, o->program_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	def = row ? arena_strdup(a, db_col_text(st, 0)) : NULL;
	db_finalize(st);
	st = NULL;
	root = parse_json(a, def);
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "assessor_qualification", &q))
		goto out;	/* nothing required */
	if (!json_object_is_type(q, json_type_object) ||
	    !json_object_object_get_ex(q, "program", &pv) ||
	    !json_object_is_type(pv, json_type_string) ||
	    !json_object_object_get_ex(q, "outcome", &ov) ||
	    !json_object_is_type(ov, json_type_string)) {
		rc = at_fail(err, AT_BADREQ, "program %" PRId64 ": assessor_qualification needs"
			     " \"program\" and \"outcome\"", o->program_id);
		goto out;
	}
	pkey = json_object_get_string(pv);
	outcome = json_object_get_string(ov);
	rc = db_prepare(db, SQL_QUALIFIED, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_str(st, 1, pkey);
	db_bind_i64(st, 2, o->assessor_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (row)
		ok = strcmp(str(db_col_text(st, 0)), outcome) == 0 &&
		     (db_col_null(st, 1) || db_col_i64(st, 1) > now);
	if (!ok)
		rc = at_fail(err, AT_FORBIDDEN, "assessor %" PRId64 " is not qualified: this"
			     " program requires a current, confirmed '%s' certification in"
			     " program '%s'", o->assessor_id, outcome, pkey);
	goto out;
dberr:
	dbfail(db, err, rc);
out:
	db_finalize(st);
	return rc;
}

struct comp_rating {
	int64_t competency_id, value;
	const char *items;
};

/* The ratings o gives (rules in observation.h): one per competency, the lowest wins. */
static size_t ratings_of(struct arena *a, const struct cl *c, const struct observation *o,
			 struct comp_rating **out)
{
	size_t cap = 0, n = 0;
	struct comp_rating *v = NULL;

	for (size_t i = 0; i < c->nitems; i++) {
		const struct item *it = &c->items[i];
		const struct obs_item_answer *x = answer_of(o, it->id);
		bool yesno = strcmp(it->kind, "yesno") == 0;

		if (!answered(it, x) || (!yesno && strcmp(it->kind, "rating") != 0))
			continue;
		for (size_t k = 0; k < it->nlinks; k++) {
			const struct rating_scale *sc = &it->links[k].scale;
			int64_t val = x->value;
			size_t j;

			if (yesno && x->value == 1) {
				val = sc->def >= 0 && sc->proficient[sc->def] ? sc->def :
				      rating_scale_first_proficient(sc);
				if (val < 0)
					val = (int64_t)sc->n - 1;
			} else if (yesno) {
				val = 0;
			}
			for (j = 0; j < n && v[j].competency_id != it->links[k].competency_id; j++)
				;
			if (j < n) {
				if (val < v[j].value)
					v[j].value = val;
				v[j].items = arena_printf(a, "%s, %s", v[j].items, it->key);
				continue;
			}
			v = arena_reserve(a, v, n, &cap,
						     sizeof(*v));
			v[n].competency_id = it->links[k].competency_id;
			v[n].value = val;
			v[n].items = it->key;
			n++;
		}
	}
	*out = v;
	return n;
}

static enum at_rc submit_tx(struct db *db, struct arena *a, int64_t id, int64_t actor_id,
			    int64_t now, struct at_err *err)
{
	struct observation o;
	struct cl c;
	struct score s;
	struct comp_rating *cr;
	struct db_stmt *st = NULL;
	struct json_object *j;
	bool self;
	size_t ncr;
	enum at_rc rc = lock_obs(db, SQL_LOCK_DRAFT, id, now, err);

	if (rc != AT_OK)
		return rc;
	rc = observation_get(db, a, id, &o);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (o.assessor_id != actor_id)
		return at_fail(err, AT_FORBIDDEN, "only the rater of observation %" PRId64
			       " may submit it", id);
	self = strcmp(o.rater_role, "self") == 0;
	if (!self) {
		rc = check_qualified(db, a, &o, now, err);
		if (rc != AT_OK)
			return rc;
	}
	rc = load_checklist(db, a, o.checklist_id, &c, err);
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; i < c.nitems; i++) {
		const struct item *it = &c.items[i];

		if (it->required && !answered(it, answer_of(&o, it->id)))
			return at_fail(err, AT_BADREQ, "item '%s' (%s) must be answered", it->key,
				       it->label);
	}
	for (size_t i = 0; !self && i < c.nfb; i++) {
		const char *text = NULL;

		for (size_t k = 0; k < o.nfeedback; k++)
			if (strcmp(o.feedback[k].key, c.fb[i].key) == 0)
				text = o.feedback[k].text;
		if (c.fb[i].required && blank(text))
			return at_fail(err, AT_BADREQ, "feedback field '%s' (%s) must not be empty",
				       c.fb[i].key, c.fb[i].label);
	}
	score_obs(&c, &o, self, &s);
	rc = db_prepare(db, SQL_MARK_SUBMITTED, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	db_bind_i64(st, 2, s.score);
	db_bind_i64(st, 3, s.max_score);
	db_bind_i64(st, 4, s.passed);
	db_bind_i64(st, 5, s.critical_missed);
	db_bind_i64(st, 6, now);
	rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	if (db_changes(st) != 1) {
		db_finalize(st);
		return at_fail(err, AT_CONFLICT, "observation %" PRId64 " was submitted"
			       " meanwhile", id);
	}
	db_finalize(st);
	st = NULL;
	ncr = ratings_of(a, &c, &o, &cr);
	for (size_t i = 0; i < ncr; i++) {
		struct rating_in r = {
			.learner_id = o.learner_id, .competency_id = cr[i].competency_id,
			.rater_id = o.assessor_id, .rater_role = o.rater_role,
			.value = cr[i].value, .observation_id = id, .program_id = o.program_id,
			.note = arena_printf(a, "observation %" PRId64 ": %s", id, cr[i].items),
		};

		rc = rating_record(db, &r, now, NULL, err);
		if (rc != AT_OK)
			return rc;
	}
	j = json_object_new_object();
	json_object_object_add(j, "enrolment", json_object_new_int64(o.enrolment_id));
	json_object_object_add(j, "checklist", json_object_new_int64(o.checklist_id));
	json_object_object_add(j, "learner", json_object_new_int64(o.learner_id));
	json_object_object_add(j, "role", json_object_new_string(o.rater_role));
	json_object_object_add(j, "score", json_object_new_int64(s.score));
	json_object_object_add(j, "max_score", json_object_new_int64(s.max_score));
	json_object_object_add(j, "passed", json_object_new_boolean(s.passed));
	json_object_object_add(j, "critical_missed", json_object_new_boolean(s.critical_missed));
	if (s.missed != NULL && !self)
		json_object_object_add(j, "critical_item", json_object_new_string(s.missed));
	if (o.amends_id > 0)
		json_object_object_add(j, "amends", json_object_new_int64(o.amends_id));
	rc = audit_append(db, actor_id, "observation.submit", "observation", id,
			  json_text(a, j), now, err);
	if (rc == AT_OK)	/* the LMS hears of it in this same transaction */
		rc = lmsq_observation(db, a, id, now, err);
	return rc;
dberr:
	db_finalize(st);
	return dbfail(db, err, rc);
}

enum at_rc observation_submit(struct db *db, int64_t id, int64_t actor_id, int64_t now,
			      struct at_err *err)
{
	struct arena *a = arena_new();
	enum at_rc rc = db_begin(db);

	if (rc != AT_OK) {
		dbfail(db, err, rc);
		goto out;
	}
	rc = submit_tx(db, a, id, actor_id, now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK)
		db_rollback(db);
out:
	arena_free(a);
	return rc;
}

/* ---- amend ---- */

static enum at_rc copy_rows(struct db *db, const char *sql, int64_t from, int64_t to)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, from);
		db_bind_i64(st, 2, to);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static enum at_rc amend_tx(struct db *db, struct arena *a, int64_t id, int64_t actor_id,
			   const char *reason, int64_t now, int64_t *new_id,
			   struct at_err *err)
{
	struct observation o;
	struct db_stmt *st = NULL;
	struct json_object *j;
	int64_t other = 0;
	bool row;
	enum at_rc rc = lock_obs(db, SQL_LOCK_SUBMITTED, id, now, err);

	if (rc != AT_OK)
		return rc;
	rc = get_row(db, a, id, &o);
	if (rc != AT_OK)
		return dbfail(db, err, rc);
	if (o.assessor_id != actor_id)
		return at_fail(err, AT_FORBIDDEN, "only the rater of observation %" PRId64
			       " may amend it", id);
	rc = one_i64(db, SQL_AMENDED_BY, id, &other);
	if (rc == AT_OK)
		return at_fail(err, AT_CONFLICT, "observation %" PRId64 " is already amended by"
			       " observation %" PRId64 ": amend that one", id, other);
	if (rc != AT_NOTFOUND)
		return dbfail(db, err, rc);
	rc = db_prepare(db, SQL_AMEND_INSERT, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, o.enrolment_id);
	db_bind_i64(st, 2, o.checklist_id);
	db_bind_i64(st, 3, o.assessor_id);
	db_bind_str(st, 4, o.rater_role);
	db_bind_str(st, 5, o.session_key);
	db_bind_i64(st, 6, id);
	db_bind_str(st, 7, reason);
	db_bind_i64(st, 8, o.observed_at);
	db_bind_i64(st, 9, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*new_id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	if (rc != AT_OK)
		goto dberr;
	db_finalize(st);
	st = NULL;
	rc = copy_rows(db, SQL_COPY_ANSWERS, id, *new_id);
	if (rc == AT_OK)
		rc = copy_rows(db, SQL_COPY_FEEDBACK, id, *new_id);
	if (rc != AT_OK)
		goto dberr;
	j = json_object_new_object();
	json_object_object_add(j, "amends", json_object_new_int64(id));
	json_object_object_add(j, "enrolment", json_object_new_int64(o.enrolment_id));
	json_object_object_add(j, "reason", json_object_new_string(reason));
	return audit_append(db, actor_id, "observation.amend", "observation", *new_id,
			    json_text(a, j), now, err);
dberr:
	db_finalize(st);
	return dbfail(db, err, rc);
}

enum at_rc observation_amend(struct db *db, int64_t id, int64_t actor_id, const char *reason,
			     int64_t now, int64_t *new_id, struct at_err *err)
{
	struct arena *a;
	enum at_rc rc;

	*new_id = 0;
	if (blank(reason))
		return at_fail(err, AT_BADREQ, "an amendment needs a reason");
	if (strlen(reason) > OBS_TEXT_MAX)
		return at_fail(err, AT_TOOBIG, "reason over %d bytes", OBS_TEXT_MAX);
	a = arena_new();
	rc = db_begin(db);
	if (rc != AT_OK) {
		dbfail(db, err, rc);
		goto out;
	}
	rc = amend_tx(db, a, id, actor_id, reason, now, new_id, err);
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK) {
		db_rollback(db);
		*new_id = 0;
	}
out:
	arena_free(a);
	return rc;
}

/* ---- queries ---- */

enum at_rc observation_effective(struct db *db, struct arena *a, int64_t enrolment_id,
				 int64_t checklist_id, const char *rater_role,
				 struct observation **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct observation *v = NULL;
	size_t cap = 0, k = 0;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_EFFECTIVE, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_i64(st, 2, checklist_id);
	db_bind_str(st, 3, str(rater_role));
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		v = arena_reserve(a, v, k, &cap,
					     sizeof(*v));
		read_obs(st, a, &v[k++]);
	}
	if (rc == AT_OK) {
		*out = v;
		*n = k;
	}
out:
	db_finalize(st);
	return rc;
}

/* Fill out from the observations ids[0..n) of checklist_id. */
static enum at_rc side_build(struct db *db, struct arena *a, int64_t checklist_id,
			     const int64_t *ids, size_t n, struct obs_side *out)
{
	struct at_err err = { "" };
	struct cl c;
	enum at_rc rc = load_checklist(db, a, checklist_id, &c, &err);

	memset(out, 0, sizeof(*out));
	if (rc != AT_OK)
		return rc;
	out->obs = arena_zalloc(a, sizeof(*out->obs) * (n ? n : 1));
	for (size_t j = 0; j < n; j++) {
		rc = observation_get(db, a, ids[j], &out->obs[j]);
		if (rc != AT_OK)
			return rc;
	}
	out->nobs = n;
	out->nitems = c.nitems;
	out->rows = arena_zalloc(a, sizeof(*out->rows) * (c.nitems ? c.nitems : 1));
	for (size_t i = 0; i < c.nitems; i++) {
		struct obs_side_row *r = &out->rows[i];

		r->item_id = c.items[i].id;
		r->key = c.items[i].key;
		r->label = c.items[i].label;
		r->kind = c.items[i].kind;
		r->cells = arena_zalloc(a, sizeof(*r->cells) * (n ? n : 1));
		for (size_t j = 0; j < n; j++) {
			const struct obs_item_answer *x = answer_of(&out->obs[j], r->item_id);

			r->cells[j].text = "";
			if (x == NULL)
				continue;
			r->cells[j].answered = answered(&c.items[i], x);
			r->cells[j].has_value = x->has_value;
			r->cells[j].value = x->value;
			r->cells[j].text = x->text;
		}
	}
	return AT_OK;
}

enum at_rc observation_side_by_session(struct db *db, struct arena *a, int64_t checklist_id,
				       const char *session_key, struct obs_side *out)
{
	struct db_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool row;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	if (session_key == NULL || *session_key == '\0')
		return AT_BADREQ;
	rc = db_prepare(db, SQL_SESSION, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, checklist_id);
	db_bind_str(st, 2, session_key);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		ids = arena_reserve(a, ids, n, &cap,
					     sizeof(*ids));
		ids[n++] = db_col_i64(st, 0);
	}
	db_finalize(st);
	st = NULL;
	if (rc == AT_OK && n == 0)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		rc = side_build(db, a, checklist_id, ids, n, out);
out:
	db_finalize(st);
	return rc;
}

enum at_rc observation_side_self(struct db *db, struct arena *a, int64_t enrolment_id,
				 int64_t checklist_id, struct obs_side *out)
{
	struct observation *v;
	int64_t ids[2];
	size_t n, k = 0;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	rc = observation_effective(db, a, enrolment_id, checklist_id, "self", &v, &n);
	if (rc != AT_OK)
		return rc;
	if (n > 0)
		ids[k++] = v[n - 1].id;
	rc = observation_effective(db, a, enrolment_id, checklist_id, NULL, &v, &n);
	if (rc != AT_OK)
		return rc;
	for (size_t i = n; i > 0; i--) {
		if (strcmp(v[i - 1].rater_role, "self") != 0) {
			ids[k++] = v[i - 1].id;
			break;
		}
	}
	if (k == 0)
		return AT_NOTFOUND;
	return side_build(db, a, checklist_id, ids, k, out);
}
