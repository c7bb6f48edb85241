/* dashboard.c: the coordinator's view of a program in a course (see dashboard.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bizdays.h"
#include "core/dashboard.h"
#include "core/rating.h"

#define NAME(u) "COALESCE(NULLIF(" u ".name, ''), NULLIF(TRIM(" u ".given_name || ' ' || " \
	u ".family_name), ''), 'user ' || CAST(" u ".id AS TEXT))"

/* The enrolments of program ?2 through course ?1. */
#define IN_COURSE "e.context_id = ?1 AND e.program_id = ?2"
/* An effective assessor observation o (not self, not replaced by a submitted amendment). */
#define EFFECTIVE "o.status = 'submitted' AND o.rater_role <> 'self' AND NOT EXISTS" \
	" (SELECT 1 FROM observation x WHERE x.amends_id = o.id AND x.status = 'submitted')"

static const char SQL_IS_STAFF[] =
	"SELECT 1 FROM membership WHERE user_id = ?1 AND context_id = ?2 AND active = 1"
	" AND (role & 6) <> 0";
static const char SQL_COURSES[] =
	"SELECT c.id, c.title, c.label FROM membership m JOIN context c ON c.id = m.context_id"
	" WHERE m.user_id = ?1 AND m.active = 1 AND (m.role & 6) <> 0"
	" ORDER BY LOWER(c.title), c.id";
static const char SQL_PROGRAMS[] =
	"SELECT p.id, p.key, p.title,"
	" CASE WHEN EXISTS (SELECT 1 FROM placement pl WHERE pl.context_id = ?1"
	" AND pl.program_id = p.id) THEN 1 ELSE 0 END,"
	" (SELECT COUNT(*) FROM enrolment e WHERE e.context_id = ?1 AND e.program_id = p.id)"
	" FROM program p WHERE EXISTS (SELECT 1 FROM placement pl WHERE pl.context_id = ?1"
	" AND pl.program_id = p.id) OR EXISTS (SELECT 1 FROM enrolment e"
	" WHERE e.context_id = ?1 AND e.program_id = p.id)"
	" ORDER BY LOWER(p.title), p.id";
static const char SQL_ROWS[] =
	"SELECT u.id, " NAME("u") ", u.launched_at, COALESCE(m.source, ''),"
	" CASE WHEN m.active = 1 AND (m.role & 1) <> 0 THEN 1 ELSE 0 END,"
	" COALESCE(e.id, 0), COALESCE(e.context_id, 0), COALESCE(e.status, ''),"
	" COALESCE(e.started_at, 0), COALESCE(e.completed_at, 0), COALESCE(e.cohort, '')"
	" FROM app_user u"
	" LEFT JOIN membership m ON m.user_id = u.id AND m.context_id = ?1"
	" LEFT JOIN enrolment e ON e.user_id = u.id AND e.program_id = ?2"
	" WHERE u.id IN (SELECT user_id FROM membership WHERE context_id = ?1 AND active = 1"
	" AND (role & 1) <> 0 UNION SELECT user_id FROM enrolment e WHERE " IN_COURSE ")"
	" ORDER BY LOWER(" NAME("u") "), u.id";
static const char SQL_ATTEMPTS[] =
	"SELECT o.enrolment_id, c.key, COUNT(*),"
	" SUM(CASE WHEN o.passed <> 0 THEN 1 ELSE 0 END)"
	" FROM observation o JOIN enrolment e ON e.id = o.enrolment_id"
	" JOIN checklist c ON c.id = o.checklist_id"
	" WHERE " IN_COURSE " AND " EFFECTIVE
	" GROUP BY o.enrolment_id, c.key";
static const char SQL_PENDING[] =
	"SELECT d.enrolment_id, d.id, d.proposed_outcome FROM decision d"
	" JOIN enrolment e ON e.id = d.enrolment_id"
	" WHERE " IN_COURSE " AND d.status = 'proposed' ORDER BY d.id";
static const char SQL_DECIDED[] =
	"SELECT d.enrolment_id, d.final_outcome, COALESCE(d.expires_at, 0) FROM decision d"
	" JOIN enrolment e ON e.id = d.enrolment_id"
	" WHERE " IN_COURSE " AND d.status IN ('confirmed', 'overridden')"
	" ORDER BY d.decided_at, d.id";
static const char SQL_ASSESSORS[] =
	"SELECT ea.enrolment_id, u.id, " NAME("u") " FROM enrolment_assessor ea"
	" JOIN enrolment e ON e.id = ea.enrolment_id JOIN app_user u ON u.id = ea.assessor_id"
	" WHERE " IN_COURSE " ORDER BY LOWER(" NAME("u") "), u.id";
static const char SQL_COHORTS[] =
	"SELECT DISTINCT e.cohort FROM enrolment e WHERE " IN_COURSE " AND e.cohort <> ''"
	" ORDER BY e.cohort";
static const char SQL_FEEDBACK[] =
	"SELECT l.id, l.form_key, " NAME("u") ", l.created_at, l.expires_at,"
	" COALESCE(l.used_at, 0), r.id, COALESCE(r.answers, ''), r.score"
	" FROM feedback_link l JOIN app_user u ON u.id = l.created_by"
	" LEFT JOIN feedback_response r ON r.link_id = l.id"
	" WHERE l.enrolment_id = ?1 ORDER BY l.created_at DESC, l.id DESC";
static const char SQL_HEAT_ENROLMENTS[] =
	"SELECT e.user_id, e.cohort FROM enrolment e WHERE " IN_COURSE
	" AND e.status <> 'withdrawn' ORDER BY e.cohort, e.id";
static const char SQL_PASSES[] =
	"SELECT o.observed_at, o.passed FROM observation o"
	" JOIN enrolment e ON e.id = o.enrolment_id"
	" WHERE " IN_COURSE " AND " EFFECTIVE " AND o.observed_at >= ?3";

bool dashboard_is_staff(struct db *db, int64_t user_id, int64_t context_id)
{
	struct db_stmt *st = NULL;
	bool row = false;

	if (user_id <= 0 || context_id <= 0 || db_prepare(db, SQL_IS_STAFF, &st) != AT_OK)
		return false;
	db_bind_i64(st, 1, user_id);
	db_bind_i64(st, 2, context_id);
	if (db_step(st, &row) != AT_OK)
		row = false;
	db_finalize(st);
	return row;
}

static enum at_rc read_course(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct dashboard_course *c = elem;

	(void)ud;
	c->id = db_col_i64(st, 0);
	c->title = arena_strdup(a, db_col_text(st, 1));
	c->label = arena_strdup(a, db_col_text(st, 2));
	return AT_OK;
}

enum at_rc dashboard_courses(struct db *db, struct arena *a, int64_t user_id,
			     struct dashboard_course **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, SQL_COURSES, user_id, sizeof(**out), read_course,
				    NULL, &v, n);

	*out = v;
	return rc;
}

static enum at_rc read_program(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct dashboard_program *p = elem;

	(void)ud;
	p->id = db_col_i64(st, 0);
	p->key = arena_strdup(a, db_col_text(st, 1));
	p->title = arena_strdup(a, db_col_text(st, 2));
	p->placed = db_col_i64(st, 3) != 0;
	p->enrolled = db_col_i64(st, 4);
	return AT_OK;
}

enum at_rc dashboard_programs(struct db *db, struct arena *a, int64_t context_id,
			      struct dashboard_program **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, SQL_PROGRAMS, context_id, sizeof(**out),
				    read_program, NULL, &v, n);

	*out = v;
	return rc;
}

/* ---- the learner rows ---- */

/* Enrolment id -> row index, sorted by id, for the per-enrolment queries. */
struct eidx {
	int64_t enrolment_id;
	size_t row;
};

static int eidx_cmp(const void *x, const void *y)
{
	const struct eidx *a = x, *b = y;

	return a->enrolment_id < b->enrolment_id ? -1 : a->enrolment_id > b->enrolment_id;
}

static struct dashboard_row *row_of(struct dashboard_row *rows, const struct eidx *ix,
				    size_t nix, int64_t enrolment_id)
{
	struct eidx key = { enrolment_id, 0 };
	const struct eidx *hit = bsearch(&key, ix, nix, sizeof(*ix), eidx_cmp);

	return hit ? &rows[hit->row] : NULL;
}

/* Prepare sql and bind (context_id, program_id). */
static enum at_rc prep2(struct db *db, const char *sql, int64_t context_id, int64_t program_id,
			struct db_stmt **st)
{
	enum at_rc rc = db_prepare(db, sql, st);

	if (rc != AT_OK)
		return rc;
	db_bind_i64(*st, 1, context_id);
	db_bind_i64(*st, 2, program_id);
	return AT_OK;
}

static enum at_rc read_rows(struct db *db, struct arena *a, const struct program *p,
			    int64_t context_id, struct dashboard_row **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct dashboard_row *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc = prep2(db, SQL_ROWS, context_id, p->id, &st);

	if (rc != AT_OK)
		return rc;
	for (;;) {
		struct dashboard_row *x;
		int64_t ectx;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		v = arena_reserve(a, v, *n, &cap, sizeof(*v));
		x = &v[(*n)++];
		memset(x, 0, sizeof(*x));
		x->user_id = db_col_i64(st, 0);
		x->name = arena_strdup(a, db_col_text(st, 1));
		x->source = arena_strdup(a, db_col_text(st, 3));
		/* launched_at is set by launches; a membership made by a launch says so too */
		x->roster_only = db_col_i64(st, 2) == 0 && strcmp(x->source, "launch") != 0;
		x->member = db_col_i64(st, 4) != 0;
		ectx = db_col_i64(st, 6);
		x->status = "";
		x->cohort = "";
		if (db_col_i64(st, 5) > 0 && ectx != context_id) {
			x->elsewhere = true;	/* nothing more: that course is not ours */
		} else if (db_col_i64(st, 5) > 0) {
			x->enrolment_id = db_col_i64(st, 5);
			x->status = arena_strdup(a, db_col_text(st, 7));
			x->started_at = db_col_i64(st, 8);
			x->completed_at = db_col_i64(st, 9);
			x->cohort = arena_strdup(a, db_col_text(st, 10));
		}
		x->attempts = arena_zalloc(a, (p->n_checklists + 1) * sizeof(int64_t));
		x->passed = arena_zalloc(a, (p->n_checklists + 1) * sizeof(int64_t));
	}
	db_finalize(st);
	*out = v;
	return rc;
}

/* The learner rows a per-enrolment query fills in, and what its row readers need. */
struct rowset {
	struct dashboard_row *rows;
	const struct eidx *ix;
	size_t nix;
	struct arena *a;
	const struct program *p;
	int64_t now;
};

/* Run sql bound to (context_id, program_id); for every result row whose first column is
 * the enrolment of a learner row, call fn with that row. */
static enum at_rc each_row(struct db *db, const char *sql, int64_t context_id,
			   const struct rowset *rs,
			   void (*fn)(struct db_stmt *st, struct dashboard_row *x,
				      const struct rowset *rs))
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = prep2(db, sql, context_id, rs->p->id, &st);

	if (rc != AT_OK)
		return rc;
	for (;;) {
		struct dashboard_row *x;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		x = row_of(rs->rows, rs->ix, rs->nix, db_col_i64(st, 0));
		if (x != NULL)
			fn(st, x, rs);
	}
	db_finalize(st);
	return rc;
}

static void put_attempts(struct db_stmt *st, struct dashboard_row *x, const struct rowset *rs)
{
	const char *key = db_col_text(st, 1);

	x->attempts_total += db_col_i64(st, 2);
	for (size_t k = 0; k < rs->p->n_checklists; k++) {
		if (key != NULL && strcmp(rs->p->checklists[k].key, key) == 0) {
			x->attempts[k] = db_col_i64(st, 2);
			x->passed[k] = db_col_i64(st, 3);
		}
	}
}

static void put_pending(struct db_stmt *st, struct dashboard_row *x, const struct rowset *rs)
{
	x->pending_id = db_col_i64(st, 1);	/* ordered by id: the latest wins */
	x->pending_outcome = arena_strdup(rs->a, db_col_text(st, 2));
}

static void put_decided(struct db_stmt *st, struct dashboard_row *x, const struct rowset *rs)
{
	int64_t exp = db_col_i64(st, 2);

	x->decision = arena_strdup(rs->a, db_col_text(st, 1));	/* the latest wins */
	x->decision_expired = exp > 0 && exp <= rs->now;
}

static void put_assessor(struct db_stmt *st, struct dashboard_row *x, const struct rowset *rs)
{
	struct assign_person *v = arena_alloc(rs->a, (x->n_assessors + 1) * sizeof(*v));

	if (x->n_assessors > 0)
		memcpy(v, x->assessors, x->n_assessors * sizeof(*v));
	v[x->n_assessors].id = db_col_i64(st, 1);
	v[x->n_assessors].name = arena_strdup(rs->a, db_col_text(st, 2));
	x->assessors = v;
	x->n_assessors++;
}

static bool keep(const struct dashboard_row *x, const struct dashboard_filter *f)
{
	if (f == NULL)
		return true;
	if (f->cohort != NULL && (x->enrolment_id == 0 || strcmp(x->cohort, f->cohort) != 0))
		return false;
	if (f->assessor_id > 0) {
		for (size_t i = 0; i < x->n_assessors; i++)
			if (x->assessors[i].id == f->assessor_id)
				return true;
		return false;
	}
	return true;
}

enum at_rc dashboard_rows(struct db *db, struct arena *a, const struct program *p,
			  int64_t context_id, int64_t now, const struct dashboard_filter *f,
			  struct dashboard_row **out, size_t *n)
{
	struct dashboard_row *rows = NULL;
	struct eidx *ix;
	struct rowset rs;
	size_t nrows = 0, nix = 0, kept = 0;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	rc = read_rows(db, a, p, context_id, &rows, &nrows);
	if (rc != AT_OK)
		return rc;
	ix = arena_alloc(a, (nrows + 1) * sizeof(*ix));
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].enrolment_id > 0)
			ix[nix++] = (struct eidx){ rows[i].enrolment_id, i };
	qsort(ix, nix, sizeof(*ix), eidx_cmp);
	rs = (struct rowset){ rows, ix, nix, a, p, now };
	rc = each_row(db, SQL_ATTEMPTS, context_id, &rs, put_attempts);
	if (rc == AT_OK)
		rc = each_row(db, SQL_PENDING, context_id, &rs, put_pending);
	if (rc == AT_OK)
		rc = each_row(db, SQL_DECIDED, context_id, &rs, put_decided);
	if (rc == AT_OK)
		rc = each_row(db, SQL_ASSESSORS, context_id, &rs, put_assessor);
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; i < nrows; i++) {
		struct dashboard_row *x = &rows[i];

		if (x->enrolment_id > 0 && strcmp(x->status, "active") == 0) {
			x->has_escalation = true;
			rules_escalation(p, x->started_at, now, x->completed_at > 0, &x->esc);
		}
		if (keep(x, f))
			rows[kept++] = *x;
	}
	*out = rows;
	*n = kept;
	return AT_OK;
}

static enum at_rc read_cohort(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	const char **c = elem;

	(void)ud;
	*c = arena_strdup(a, db_col_text(st, 0));
	return AT_OK;
}

enum at_rc dashboard_cohorts(struct db *db, struct arena *a, int64_t program_id,
			     int64_t context_id, const char ***out, size_t *n)
{
	struct db_stmt *st = NULL;
	void *v = NULL;
	enum at_rc rc = prep2(db, SQL_COHORTS, context_id, program_id, &st);

	*n = 0;
	if (rc == AT_OK)
		rc = db_rows(st, a, sizeof(**out), read_cohort, NULL, &v, n);
	db_finalize(st);
	*out = v;
	return rc;
}

static enum at_rc read_feedback(struct db_stmt *st, struct arena *a, void *elem, void *ud)
{
	struct dashboard_feedback *x = elem;

	(void)ud;
	x->id = db_col_i64(st, 0);
	x->form_key = arena_strdup(a, db_col_text(st, 1));
	x->created_by = arena_strdup(a, db_col_text(st, 2));
	x->created_at = db_col_i64(st, 3);
	x->expires_at = db_col_i64(st, 4);
	x->used_at = db_col_i64(st, 5);
	x->has_response = !db_col_null(st, 6);
	x->answers = arena_strdup(a, db_col_text(st, 7));
	x->has_score = !db_col_null(st, 8);
	x->score = db_col_i64(st, 8);
	return AT_OK;
}

enum at_rc dashboard_feedback(struct db *db, struct arena *a, int64_t enrolment_id,
			      struct dashboard_feedback **out, size_t *n)
{
	void *v;
	enum at_rc rc = db_rows_i64(db, a, SQL_FEEDBACK, enrolment_id, sizeof(**out),
				    read_feedback, NULL, &v, n);

	*out = v;
	return rc;
}

/* ---- heat map ---- */

enum at_rc dashboard_heatmap(struct db *db, struct arena *a, const struct program *p,
			     int64_t context_id, struct dashboard_heat *out)
{
	struct db_stmt *st = NULL;
	struct rating_scale *sc;
	bool *has_sc, row;
	int64_t *users = NULL;
	size_t *grp = NULL, nusers = 0, cap_u = 0, cap_g = 0, cap_gr = 0;
	enum rating_policy pol = RATING_ASSESSOR_WINS;
	struct at_err err = { "" };
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	rc = enrolment_program_competencies(db, a, p, &out->comps, &out->n_comps);
	if (rc != AT_OK)
		return rc;
	if (rating_policy_of_program(db, p->id, &pol, &err) != AT_OK)
		pol = RATING_ASSESSOR_WINS;
	rc = prep2(db, SQL_HEAT_ENROLMENTS, context_id, p->id, &st);
	if (rc != AT_OK)
		return rc;
	for (;;) {
		const char *c;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		c = db_col_text(st, 1);
		if (c == NULL)
			c = "";
		/* ordered by cohort: a new label starts a new group */
		if (out->n_groups == 0 || strcmp(out->groups[out->n_groups - 1], c) != 0) {
			out->groups = arena_reserve(a, out->groups, out->n_groups, &cap_g,
						    sizeof(*out->groups));
			out->groups[out->n_groups++] = arena_strdup(a, c);
		}
		users = arena_reserve(a, users, nusers, &cap_u, sizeof(*users));
		grp = arena_reserve(a, grp, nusers, &cap_gr, sizeof(*grp));
		users[nusers] = db_col_i64(st, 0);
		grp[nusers] = out->n_groups - 1;
		nusers++;
	}
	db_finalize(st);
	if (rc != AT_OK)
		return rc;
	out->learners = arena_zalloc(a, (out->n_groups + 1) * sizeof(int64_t));
	out->rated = arena_zalloc(a, (out->n_groups * out->n_comps + 1) * sizeof(int64_t));
	out->proficient = arena_zalloc(a, (out->n_groups * out->n_comps + 1) * sizeof(int64_t));
	sc = arena_zalloc(a, (out->n_comps + 1) * sizeof(*sc));
	has_sc = arena_zalloc(a, (out->n_comps + 1) * sizeof(*has_sc));
	for (size_t c = 0; c < out->n_comps; c++)
		has_sc[c] = rating_scale_of(db, a, out->comps[c].id, &sc[c], &err) == AT_OK;
	for (size_t i = 0; i < nusers; i++) {
		size_t g = grp[i];

		out->learners[g]++;
		for (size_t c = 0; c < out->n_comps; c++) {
			int64_t v = 0;
			int fl = 0;

			rc = rating_current(db, users[i], out->comps[c].id, pol, &v, &fl);
			if (rc == AT_NOTFOUND)
				continue;
			if (rc != AT_OK)
				return rc;
			out->rated[g * out->n_comps + c]++;
			if (has_sc[c] && v >= 0 && (size_t)v < sc[c].n && sc[c].proficient[v])
				out->proficient[g * out->n_comps + c]++;
		}
	}
	return AT_OK;
}

int64_t dashboard_share(const struct dashboard_heat *h, size_t g, size_t c)
{
	if (g >= h->n_groups || c >= h->n_comps || h->learners[g] == 0)
		return -1;
	return h->proficient[g * h->n_comps + c] * 10000 / h->learners[g];
}

/* ---- pass rates ---- */

/* The first day of the period holding day, and of the period k periods later. */
static int32_t period_start(int32_t day, bool monthly, int k)
{
	char s[24];
	int y, m;
	int32_t out;

	if (!monthly)
		return day - bizdays_weekday(day) + 7 * k;
	bizdays_format(day, s);
	y = (int)strtol(s, NULL, 10);		/* bizdays_format: YYYY-MM-DD */
	m = (int)strtol(s + 5, NULL, 10) - 1 + k;
	y += m >= 0 ? m / 12 : -((11 - m) / 12);
	m = ((m % 12) + 12) % 12;
	snprintf(s, sizeof(s), "%04d-%02d-01", y, m + 1);
	if (bizdays_parse(s, &out) != AT_OK)
		return day;
	return out;
}

enum at_rc dashboard_passrates(struct db *db, struct arena *a, int64_t program_id,
			       int64_t context_id, bool monthly, int count, int64_t now,
			       struct dashboard_period **out)
{
	struct dashboard_period *v;
	int32_t *starts, today = bizdays_of_time(now);
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc;

	*out = NULL;
	if (count < 1 || count > 104)
		return AT_BADREQ;
	v = arena_zalloc(a, (size_t)count * sizeof(*v));
	starts = arena_zalloc(a, ((size_t)count + 1) * sizeof(*starts));
	for (int i = 0; i <= count; i++)
		starts[i] = period_start(today, monthly, i - count + 1);
	for (int i = 0; i < count; i++) {
		bizdays_format(starts[i], v[i].start);
		if (monthly)
			snprintf(v[i].label, sizeof(v[i].label), "%.7s", v[i].start);
		else
			snprintf(v[i].label, sizeof(v[i].label), "%s", v[i].start);
	}
	rc = prep2(db, SQL_PASSES, context_id, program_id, &st);
	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 3, (int64_t)starts[0] * 86400);
	for (;;) {
		int32_t d;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		d = bizdays_of_time(db_col_i64(st, 0));
		for (int i = 0; i < count; i++) {
			if (d >= starts[i] && d < starts[i + 1]) {
				v[i].total++;
				v[i].passed += db_col_i64(st, 1) != 0;
				break;
			}
		}
	}
	db_finalize(st);
	if (rc == AT_OK)
		*out = v;
	return rc;
}
