/* worklist.c: an assessor's learners in one course and what waits for them; the rating
 * scales of a checklist's rating items. One SELECT per list (no query per learner). */
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/worklist.h"

#define NAME(u) "COALESCE(NULLIF(" u ".name, ''), NULLIF(TRIM(" u ".given_name || ' ' || " \
	u ".family_name), ''), 'user ' || CAST(" u ".id AS TEXT))"

/* An observation o that no submitted amendment replaces. */
#define EFFECTIVE(o) " AND NOT EXISTS (SELECT 1 FROM observation x WHERE x.amends_id = " \
	o ".id AND x.status = 'submitted')"
/* The effective submitted assessor (not self) observations of enrolment e, as "o". */
#define ASSESSED " FROM observation o WHERE o.enrolment_id = e.id AND o.status = 'submitted'" \
	" AND o.rater_role <> 'self'" EFFECTIVE("o")
/* My drafts on enrolment e. */
#define DRAFTS " FROM observation o WHERE o.enrolment_id = e.id AND o.status = 'draft'" \
	" AND o.assessor_id = ?2 AND o.rater_role <> 'self'"
/* Pending evidence of e's learner that I did not upload. */
#define PENDING " FROM evidence v WHERE v.learner_id = e.user_id AND v.status = 'pending'" \
	" AND v.uploaded_by <> ?2"
/* Effective submitted self-evaluations of e that no assessor observation of the same
 * checklist was submitted after. */
#define SELF_NEW " FROM observation s WHERE s.enrolment_id = e.id AND s.rater_role = 'self'" \
	" AND s.status = 'submitted'" EFFECTIVE("s") \
	" AND NOT EXISTS (SELECT 1 FROM observation a WHERE a.enrolment_id = e.id" \
	" AND a.checklist_id = s.checklist_id AND a.rater_role <> 'self'" \
	" AND a.status = 'submitted' AND a.submitted_at >= s.submitted_at)"
#define LAST(col) "COALESCE((SELECT " col ASSESSED " ORDER BY o.observed_at DESC, o.id DESC" \
	" LIMIT 1), 0)"

static const char SQL_LIST[] =
	"SELECT e.id, e.user_id, e.program_id, " NAME("u") ", p.key, p.title, e.status,"
	" e.cohort, e.started_at,"
	" (SELECT COUNT(*) FROM enrolment_assessor ea WHERE ea.enrolment_id = e.id),"
	" (SELECT COUNT(*) FROM enrolment_assessor ea WHERE ea.enrolment_id = e.id"
	" AND ea.assessor_id = ?2) AS mine,"
	" (SELECT COUNT(*)" DRAFTS "), COALESCE((SELECT MAX(o.id)" DRAFTS "), 0),"
	" (SELECT COUNT(*)" PENDING "), COALESCE((SELECT MIN(v.id)" PENDING "), 0),"
	" (SELECT COUNT(*)" SELF_NEW "), COALESCE((SELECT MAX(s.id)" SELF_NEW "), 0),"
	" (SELECT COUNT(*) FROM feedback_response fr JOIN feedback_link fl"
	" ON fl.id = fr.link_id WHERE fl.enrolment_id = e.id),"
	" (SELECT COUNT(*)" ASSESSED "), (SELECT COUNT(*)" ASSESSED " AND o.passed <> 0),"
	" " LAST("o.id") ", " LAST("o.score") ", " LAST("o.max_score") ", " LAST("o.passed")
	" FROM enrolment e JOIN program p ON p.id = e.program_id"
	" JOIN app_user u ON u.id = e.user_id"
	" JOIN membership m ON m.user_id = e.user_id AND m.context_id = e.context_id"
	" WHERE e.context_id = ?1 AND m.active <> 0"
	" ORDER BY mine DESC, LOWER(" NAME("u") "), e.id";

/* Every (rating item, competency) link of a checklist with the competency's framework
 * scale, in item order, then competency id (the order core/observation.c scores by). */
static const char SQL_SCALES[] =
	"SELECT ci.key, f.id, f.scale FROM checklist_item ci"
	" JOIN item_competency ic ON ic.item_id = ci.id"
	" JOIN competency c ON c.id = ic.competency_id"
	" JOIN framework f ON f.id = c.framework_id"
	" WHERE ci.checklist_id = ?1 AND ci.kind = 'rating'"
	" ORDER BY ci.position, ci.id, ic.competency_id";

static const char *dup(struct arena *a, const char *s)
{
	return arena_strdup(a, s != NULL ? s : "");
}

enum at_rc worklist_list(struct db *db, struct arena *a, int64_t context_id,
			 int64_t assessor_id, bool mine_only, struct worklist_row **out,
			 size_t *n, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct worklist_row *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	rc = db_prepare(db, SQL_LIST, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, context_id);
	db_bind_i64(st, 2, assessor_id);
	for (;;) {
		struct worklist_row *w;
		int c = 0;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		if (mine_only && db_col_i64(st, 10) == 0)
			continue;
		v = arena_reserve(a, v, *n, &cap, sizeof(*v));
		w = &v[(*n)++];
		memset(w, 0, sizeof(*w));
		w->enrolment_id = db_col_i64(st, c++);
		w->learner_id = db_col_i64(st, c++);
		w->program_id = db_col_i64(st, c++);
		w->learner_name = dup(a, db_col_text(st, c++));
		w->program_key = dup(a, db_col_text(st, c++));
		w->program_title = dup(a, db_col_text(st, c++));
		w->status = dup(a, db_col_text(st, c++));
		w->cohort = dup(a, db_col_text(st, c++));
		w->started_at = db_col_i64(st, c++);
		w->assignees = db_col_i64(st, c++);
		w->assigned_to_me = db_col_i64(st, c++) != 0;
		w->drafts = db_col_i64(st, c++);
		w->draft_id = db_col_i64(st, c++);
		w->evidence = db_col_i64(st, c++);
		w->evidence_id = db_col_i64(st, c++);
		w->self_new = db_col_i64(st, c++);
		w->self_id = db_col_i64(st, c++);
		w->feedback = db_col_i64(st, c++);
		w->observations = db_col_i64(st, c++);
		w->passed = db_col_i64(st, c++);
		w->last_id = db_col_i64(st, c++);
		w->last_score = db_col_i64(st, c++);
		w->last_max_score = db_col_i64(st, c++);
		w->last_passed = db_col_i64(st, c++) != 0;
	}
	*out = v;
	goto out;
dberr:
	at_fail(err, rc, "%s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}

enum at_rc worklist_scales(struct db *db, struct arena *a, int64_t checklist_id,
			   struct worklist_scale **out, size_t *n, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct worklist_scale *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	rc = db_prepare(db, SQL_SCALES, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, checklist_id);
	for (;;) {
		struct rating_scale sc;
		const char *key;
		int64_t p;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		key = db_col_text(st, 0);
		rc = rating_scale_parse(a, dup(a, db_col_text(st, 2)), &sc, err);
		if (rc != AT_OK)
			goto out;
		sc.framework_id = db_col_i64(st, 1);
		p = rating_scale_first_proficient(&sc);
		if (*n > 0 && strcmp(v[*n - 1].item_key, key != NULL ? key : "") == 0) {
			/* another competency of the same item: its scale is not the scored one,
			 * but falling below its first proficient value is still a miss */
			if (p > v[*n - 1].proficient_from)
				v[*n - 1].proficient_from = p;
			continue;
		}
		v = arena_reserve(a, v, *n, &cap, sizeof(*v));
		v[*n].item_key = dup(a, key);
		v[*n].scale = sc;
		v[*n].proficient_from = p > 0 ? p : 0;
		(*n)++;
	}
	*out = v;
	goto out;
dberr:
	at_fail(err, rc, "%s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}

static const char SQL_CHECKLIST[] =
	"SELECT id, program_id, key, title, pass_mark, max_score, definition FROM checklist"
	" WHERE id = ?1";
static const char SQL_CHECKLISTS[] =
	"SELECT id, program_id, key, title, pass_mark, max_score, definition FROM checklist"
	" WHERE program_id = ?1 ORDER BY id";
static const char SQL_ITEMS[] =
	"SELECT key, label, kind, weight, max_points, critical, required FROM checklist_item"
	" WHERE checklist_id = ?1 ORDER BY position, id";

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o != NULL && json_object_object_get_ex(o, k, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static bool jtrue(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Read the columns of SQL_CHECKLIST(S) and the definition's raters, description and
 * feedback fields. */
static enum at_rc read_checklist(struct db_stmt *st, struct arena *a,
				 struct worklist_checklist *c, struct at_err *err)
{
	const char *def = db_col_text(st, 6);
	struct json_object *root, *list;

	memset(c, 0, sizeof(*c));
	c->id = db_col_i64(st, 0);
	c->program_id = db_col_i64(st, 1);
	c->key = dup(a, db_col_text(st, 2));
	c->title = dup(a, db_col_text(st, 3));
	c->pass_mark = db_col_i64(st, 4);
	c->max_score = db_col_i64(st, 5) > 0 ? db_col_i64(st, 5) : 10000;
	root = def != NULL && strlen(def) < (1u << 20) ?
	       jsonx_parse(a, def, strlen(def), 32, NULL) : NULL;
	if (root == NULL || !json_object_is_type(root, json_type_object))
		return at_fail(err, AT_BADREQ, "checklist %lld: definition is not a JSON object",
			       (long long)c->id);
	c->description = dup(a, jstr(root, "description"));
	c->by_assessor = true;
	if (json_object_object_get_ex(root, "raters", &list) &&
	    json_object_is_type(list, json_type_array)) {
		c->by_assessor = false;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *r = json_object_get_string(json_object_array_get_idx(list, i));

			if (r != NULL && strcmp(r, "assessor") == 0)
				c->by_assessor = true;
			if (r != NULL && strcmp(r, "self") == 0)
				c->by_self = true;
		}
	}
	if (json_object_object_get_ex(root, "feedback", &list) &&
	    json_object_is_type(list, json_type_array)) {
		size_t n = json_object_array_length(list);

		c->fields = arena_zalloc(a, sizeof(*c->fields) * (n ? n : 1));
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(list, i);
			struct worklist_field *f = &c->fields[c->nfields];

			if (jstr(e, "key") == NULL)
				continue;
			f->key = dup(a, jstr(e, "key"));
			f->label = dup(a, jstr(e, "label") ? jstr(e, "label") : f->key);
			f->help = dup(a, jstr(e, "help"));
			f->required = jtrue(e, "required");
			c->nfields++;
		}
	}
	return AT_OK;
}

enum at_rc worklist_checklists(struct db *db, struct arena *a, int64_t program_id,
			       struct worklist_checklist **out, size_t *n, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct worklist_checklist *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	rc = db_prepare(db, SQL_CHECKLISTS, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, program_id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto dberr;
		if (!row)
			break;
		v = arena_reserve(a, v, *n, &cap, sizeof(*v));
		rc = read_checklist(st, a, &v[*n], err);
		if (rc != AT_OK)
			goto out;
		(*n)++;
	}
	*out = v;
	goto out;
dberr:
	at_fail(err, rc, "%s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}

static enum at_rc read_item(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct worklist_item *it = elem;

	(void)ud;
	it->key = dup(a, db_col_text(st, 0));
	it->label = dup(a, db_col_text(st, 1));
	it->kind = dup(a, db_col_text(st, 2));
	it->weight = db_col_i64(st, 3);
	it->max_points = db_col_i64(st, 4);
	it->critical = db_col_i64(st, 5) != 0;
	it->required = db_col_i64(st, 6) != 0;
	return AT_OK;
}

enum at_rc worklist_checklist(struct db *db, struct arena *a, int64_t id,
			      struct worklist_checklist *out, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct worklist_scale *sc = NULL;
	void *items;
	size_t nsc = 0;
	bool row;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	rc = db_prepare(db, SQL_CHECKLIST, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto dberr;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "no such checklist");
		goto out;
	}
	rc = read_checklist(st, a, out, err);
	if (rc != AT_OK)
		goto out;
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_ITEMS, &st);
	if (rc != AT_OK)
		goto dberr;
	db_bind_i64(st, 1, id);
	rc = db_rows(st, a, sizeof(*out->items), read_item, NULL, &items, &out->nitems);
	if (rc != AT_OK)
		goto dberr;
	out->items = items;
	db_finalize(st);
	st = NULL;
	rc = worklist_scales(db, a, id, &sc, &nsc, err);
	if (rc != AT_OK)
		goto out;
	for (size_t k = 0; k < nsc; k++)
		for (size_t i = 0; i < out->nitems; i++)
			if (strcmp(out->items[i].key, sc[k].item_key) == 0) {
				out->items[i].has_scale = true;
				out->items[i].scale = sc[k].scale;
				out->items[i].proficient_from = sc[k].proficient_from;
			}
	goto out;
dberr:
	at_fail(err, rc, "%s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}
