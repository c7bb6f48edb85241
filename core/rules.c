/* rules.c: certification rules (k of last n, counts, feedback, all/any, competency tiers
 * with rating reconciliation) and the escalation ladder — pure evaluation — plus the
 * loader that reads an enrolment's inputs from the tables.
 *
 * Every evaluation builds a JSON "basis" beside its verdict, so a decision records what
 * was counted: which observations, which ratings from whom, which tier fell short where.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/rules.h"

enum verdict { MET, UNMET, PENDING };

static const char *verdict_name(enum verdict v)
{
	return v == MET ? "met" : v == UNMET ? "unmet" : "pending";
}

struct ectx {
	const struct program *p;
	const struct rules_input *in;
	struct arena *a;
	bool review;
	bool has_percent;
	int64_t percent;
};

/* ---- JSON helpers ---- */

static struct json_object *jget(struct json_object *o, const char *k, enum json_type t)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

static const char *jstr(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v = jget(o, k, json_type_string);

	return v ? json_object_get_string(v) : def;
}

static int64_t jint(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *v = jget(o, k, json_type_int);

	return v ? json_object_get_int64(v) : def;
}

static bool jbool(struct json_object *o, const char *k, bool def)
{
	struct json_object *v = jget(o, k, json_type_boolean);

	return v ? json_object_get_boolean(v) != 0 : def;
}

/* Hundredths as a JSON number: 8500 -> 85, 8550 -> 85.5, 6667 -> 66.67. */
static struct json_object *jnum(int64_t h)
{
	char s[40];
	int64_t ah = h < 0 ? -h : h;

	if (ah % 100 == 0)
		return json_object_new_int64(h / 100);
	if (ah % 10 == 0)
		(void)snprintf(s, sizeof(s), "%s%lld.%lld", h < 0 ? "-" : "", (long long)(ah / 100),
			       (long long)(ah % 100 / 10));
	else
		(void)snprintf(s, sizeof(s), "%s%lld.%02lld", h < 0 ? "-" : "",
			       (long long)(ah / 100), (long long)(ah % 100));
	return json_object_new_double_s((double)h / 100.0, s);
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

/* ---- observation-based conditions ---- */

static bool rater_matches(const struct rules_obs *o, const char *rater)
{
	bool self = o->rater_role != NULL && strcmp(o->rater_role, "self") == 0;

	return strcmp(rater, "self") == 0 ? self : !self;
}

static int newest_first(const void *x, const void *y)
{
	const struct rules_obs *a = *(const struct rules_obs *const *)x;
	const struct rules_obs *b = *(const struct rules_obs *const *)y;

	if (a->observed_at != b->observed_at)
		return a->observed_at > b->observed_at ? -1 : 1;
	return (a->id < b->id) - (a->id > b->id);
}

static bool obs_passed(const struct rules_obs *o, bool has_min, int64_t min_score)
{
	if (o->critical_missed)
		return false;
	return has_min ? o->score >= min_score : o->passed;
}

static enum verdict eval_k_of_last_n(struct ectx *c, struct json_object *r, bool top,
				     struct json_object *basis)
{
	const char *ck = jstr(r, "checklist", "");
	const char *rater = jstr(r, "rater", "assessor");
	int64_t k = jint(r, "k", 1), n = jint(r, "n", 1), window = jint(r, "window_days", 0);
	int64_t min_assessors = jint(r, "min_distinct_assessors", 0), min_score = 0;
	struct json_object *ms = NULL, *counted = json_object_new_array();
	const struct rules_obs **sel;
	size_t m = 0, passed = 0, distinct = 0;
	bool has_min;
	enum verdict v;

	has_min = json_object_object_get_ex(r, "min_score", &ms) &&
		program_hundredths(ms, &min_score);
	sel = arena_alloc(c->a, (c->in->n_obs + 1) * sizeof(*sel));
	for (size_t i = 0; i < c->in->n_obs; i++) {
		const struct rules_obs *o = &c->in->obs[i];

		if (o->checklist == NULL || strcmp(o->checklist, ck) != 0 || !rater_matches(o, rater))
			continue;
		if (window > 0 && o->observed_at < c->in->now - window * 86400)
			continue;
		sel[m++] = o;
	}
	qsort(sel, m, sizeof(*sel), newest_first);
	if (m > (size_t)n)
		m = (size_t)n;
	for (size_t i = 0; i < m; i++) {
		struct json_object *e = json_object_new_object();
		bool ok = obs_passed(sel[i], has_min, min_score);
		size_t j;

		for (j = 0; j < i; j++)
			if (sel[j]->assessor_id == sel[i]->assessor_id)
				break;
		if (j == i)
			distinct++;
		passed += ok;
		add(e, "observation", json_object_new_int64(sel[i]->id));
		add(e, "score", jnum(sel[i]->score));
		add(e, "critical_missed", json_object_new_boolean(sel[i]->critical_missed));
		add(e, "passed", json_object_new_boolean(ok));
		add(e, "assessor", json_object_new_int64(sel[i]->assessor_id));
		add(e, "observed_at", json_object_new_int64(sel[i]->observed_at));
		json_object_array_add(counted, e);
	}
	if (m < (size_t)n)
		v = PENDING;	/* decided once n observations exist */
	else if ((int64_t)passed < k)
		v = UNMET;
	else if ((int64_t)distinct < min_assessors)
		v = PENDING;	/* enough passes, too few assessors: more observations needed */
	else
		v = MET;
	add(basis, "checklist", json_object_new_string(ck));
	add(basis, "k", json_object_new_int64(k));
	add(basis, "n", json_object_new_int64(n));
	if (has_min)
		add(basis, "min_score", jnum(min_score));
	if (window > 0)
		add(basis, "window_days", json_object_new_int64(window));
	if (min_assessors > 0)
		add(basis, "min_distinct_assessors", json_object_new_int64(min_assessors));
	add(basis, "observations", json_object_new_int64((int64_t)m));
	add(basis, "passed", json_object_new_int64((int64_t)passed));
	add(basis, "distinct_assessors", json_object_new_int64((int64_t)distinct));
	add(basis, "percent", jnum((int64_t)passed * 10000 / n));
	add(basis, "counted", counted);
	if (top && jbool(r, "percent", false)) {
		c->has_percent = true;
		c->percent = (int64_t)passed * 10000 / n;
	}
	return v;
}

static enum verdict eval_count(struct ectx *c, struct json_object *r, struct json_object *basis)
{
	const char *ck = jstr(r, "checklist", "");
	const char *rater = jstr(r, "rater", "assessor");
	bool passed_only = jbool(r, "passed_only", false);
	bool sessions = jbool(r, "distinct_sessions", false);
	int64_t min = jint(r, "min", 1), count = 0;
	struct json_object *ids = json_object_new_array();
	const struct rules_obs **seen = arena_alloc(c->a, (c->in->n_obs + 1) * sizeof(*seen));
	size_t n_seen = 0;

	for (size_t i = 0; i < c->in->n_obs; i++) {
		const struct rules_obs *o = &c->in->obs[i];
		size_t j;

		if (o->checklist == NULL || strcmp(o->checklist, ck) != 0 || !rater_matches(o, rater))
			continue;
		if (passed_only && !obs_passed(o, false, 0))
			continue;
		if (sessions && o->session_key != NULL && *o->session_key != '\0') {
			for (j = 0; j < n_seen; j++)
				if (strcmp(seen[j]->session_key, o->session_key) == 0)
					break;
			if (j < n_seen)
				continue;
			seen[n_seen++] = o;
		}
		count++;
		json_object_array_add(ids, json_object_new_int64(o->id));
	}
	add(basis, "checklist", json_object_new_string(ck));
	add(basis, "min", json_object_new_int64(min));
	add(basis, "count", json_object_new_int64(count));
	add(basis, "observations", ids);
	return count >= min ? MET : PENDING;
}

static enum verdict eval_feedback(struct ectx *c, struct json_object *r,
				  struct json_object *basis)
{
	const char *fk = jstr(r, "form", "");
	int64_t min = jint(r, "min_responses", 0), min_avg = 0, avg = 0;
	struct json_object *ma = NULL;
	const struct rules_feedback *f = NULL;
	bool has_avg;

	has_avg = json_object_object_get_ex(r, "min_average", &ma) &&
		program_hundredths(ma, &min_avg);
	for (size_t i = 0; i < c->in->n_feedback; i++)
		if (c->in->feedback[i].form && strcmp(c->in->feedback[i].form, fk) == 0)
			f = &c->in->feedback[i];
	add(basis, "form", json_object_new_string(fk));
	add(basis, "min_responses", json_object_new_int64(min));
	add(basis, "responses", json_object_new_int64(f ? f->responses : 0));
	if (f != NULL && f->scored > 0) {
		avg = f->score_sum / f->scored;
		add(basis, "average", jnum(avg));
	}
	if (has_avg)
		add(basis, "min_average", jnum(min_avg));
	if (f == NULL || f->responses < min)
		return PENDING;
	if (has_avg && (f->scored == 0 || avg < min_avg))
		return UNMET;
	return MET;
}

static enum verdict eval_cond(struct ectx *c, struct json_object *r, bool top,
			      struct json_object **basis);

static enum verdict eval_all_any(struct ectx *c, struct json_object *r, bool all,
				 struct json_object *basis)
{
	struct json_object *rules = jget(r, "rules", json_type_array);
	struct json_object *parts = json_object_new_array();
	bool any_met = false, any_unmet = false, any_pending = false;

	for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
		struct json_object *b = NULL;
		enum verdict v = eval_cond(c, json_object_array_get_idx(rules, i), false, &b);

		json_object_array_add(parts, b);
		any_met |= v == MET;
		any_unmet |= v == UNMET;
		any_pending |= v == PENDING;
	}
	add(basis, "rules", parts);
	if (all)
		return any_unmet ? UNMET : any_pending ? PENDING : MET;
	return any_met ? MET : any_pending ? PENDING : UNMET;
}

/* Evaluate one boolean condition; *basis gets a new object describing it. */
static enum verdict eval_cond(struct ectx *c, struct json_object *r, bool top,
			      struct json_object **basis)
{
	const char *type = jstr(r, "type", "");
	enum verdict v;

	*basis = json_object_new_object();
	add(*basis, "type", json_object_new_string(type));
	if (strcmp(type, "k_of_last_n") == 0)
		v = eval_k_of_last_n(c, r, top, *basis);
	else if (strcmp(type, "count") == 0)
		v = eval_count(c, r, *basis);
	else if (strcmp(type, "feedback") == 0)
		v = eval_feedback(c, r, *basis);
	else if (strcmp(type, "all") == 0 || strcmp(type, "any") == 0)
		v = eval_all_any(c, r, strcmp(type, "all") == 0, *basis);
	else
		v = PENDING;	/* unknown: never met (a parsed program has none) */
	add(*basis, "result", json_object_new_string(verdict_name(v)));
	return v;
}

/* ---- competency tiers ---- */

struct level {
	bool has_assessor, has_self, missing, flagged;
	int assessor, self;
	int64_t value;		/* hundredths of a level, after reconciliation */
};

static void latest(const struct rules_input *in, const char *competency, bool self, int *level,
		   bool *has)
{
	int64_t at = INT64_MIN;

	*has = false;
	for (size_t i = 0; i < in->n_ratings; i++) {
		const struct rules_rating *r = &in->ratings[i];
		bool is_self = r->rater_role != NULL && strcmp(r->rater_role, "self") == 0;

		if (r->competency == NULL || strcmp(r->competency, competency) != 0 ||
		    is_self != self || r->at < at)
			continue;
		at = r->at;	/* ties: the later in the input wins (loader orders by time, id) */
		*level = r->level;
		*has = true;
	}
}

static struct level reconcile(const struct program *p, const struct rules_input *in,
			      const char *competency)
{
	struct level l;

	memset(&l, 0, sizeof(l));
	latest(in, competency, false, &l.assessor, &l.has_assessor);
	latest(in, competency, true, &l.self, &l.has_self);
	if (!l.has_assessor || (p->policy != PROGRAM_ASSESSOR_WINS && !l.has_self)) {
		l.missing = true;
		return l;
	}
	switch (p->policy) {
	case PROGRAM_ASSESSOR_WINS:
		l.value = (int64_t)l.assessor * 100;
		break;
	case PROGRAM_MINIMUM:
		l.value = (int64_t)(l.assessor < l.self ? l.assessor : l.self) * 100;
		break;
	case PROGRAM_MEAN:
		l.value = ((int64_t)l.assessor + l.self) * 100 / 2;
		break;
	case PROGRAM_AGREE_WITHIN_ONE:
		if (abs(l.assessor - l.self) > 1) {
			/* disagreement: propose on the lower level, a coordinator decides */
			l.flagged = true;
			l.value = (int64_t)(l.assessor < l.self ? l.assessor : l.self) * 100;
		} else {
			l.value = (int64_t)l.assessor * 100;
		}
		break;
	}
	return l;
}

static const char *policy_name(enum program_policy p)
{
	static const char *const names[] = { "assessor_wins", "minimum", "mean",
					     "agree_within_one" };

	return names[p];
}

static const char *eval_tiers(struct ectx *c, struct json_object *r, struct json_object *basis)
{
	const struct program *p = c->p;
	const char *fallback = jstr(r, "fallback", "not_yet");
	struct json_object *req = jget(r, "requires", json_type_object);
	struct json_object *comps = json_object_new_object(), *tiers = json_object_new_array();
	struct json_object *flagged = json_object_new_array();
	const char *outcome = NULL;
	bool missing = false;

	add(basis, "policy", json_object_new_string(policy_name(p->policy)));
	add(basis, "fallback", json_object_new_string(fallback));
	if (req != NULL) {
		struct json_object *b = NULL;
		enum verdict v = eval_cond(c, req, false, &b);

		add(basis, "requires", b);
		if (v == PENDING)
			outcome = "pending";
		else if (v == UNMET)
			outcome = fallback;
	}
	/* Every competency any tier names, reconciled once. */
	for (size_t t = 0; t < p->n_tiers; t++)
		for (size_t i = 0; i < p->tiers[t].n_targets; i++) {
			const char *cid = p->tiers[t].targets[i].competency;
			struct json_object *e;
			struct level l;

			if (json_object_object_get_ex(comps, cid, NULL))
				continue;
			l = reconcile(p, c->in, cid);
			e = json_object_new_object();
			add(e, "assessor", l.has_assessor ? json_object_new_int(l.assessor) : NULL);
			add(e, "self", l.has_self ? json_object_new_int(l.self) : NULL);
			add(e, "level", l.missing ? NULL : jnum(l.value));
			if (l.missing)
				missing = true;
			if (l.flagged) {
				add(e, "flagged", json_object_new_boolean(true));
				json_object_array_add(flagged, json_object_new_string(cid));
				c->review = true;
			}
			add(comps, cid, e);
		}
	add(basis, "competencies", comps);
	add(basis, "flagged", flagged);
	if (outcome == NULL && missing) {
		outcome = "pending";	/* some rating is still to be given */
		add(basis, "missing_ratings", json_object_new_boolean(true));
	}
	for (size_t t = 0; t < p->n_tiers; t++) {
		const struct program_tier *tier = &p->tiers[t];
		struct json_object *e = json_object_new_object(), *shortfall = json_object_new_array();
		bool met = true;

		for (size_t i = 0; i < tier->n_targets; i++) {
			struct json_object *ce = NULL, *lv = NULL;
			int64_t have = -1;

			if (json_object_object_get_ex(comps, tier->targets[i].competency, &ce) &&
			    json_object_object_get_ex(ce, "level", &lv) && lv != NULL)
				(void)program_hundredths(lv, &have);
			if (have < (int64_t)tier->targets[i].level * 100) {
				struct json_object *s = json_object_new_object();

				met = false;
				add(s, "competency",
				    json_object_new_string(tier->targets[i].competency));
				add(s, "target", json_object_new_int(tier->targets[i].level));
				add(s, "level", have < 0 ? NULL : jnum(have));
				json_object_array_add(shortfall, s);
			}
		}
		if (met && tier->requires != NULL) {
			struct json_object *b = NULL;

			/* a tier's own condition must be met; pending counts as not (yet) met */
			met = eval_cond(c, tier->requires, false, &b) == MET;
			add(e, "requires", b);
		}
		add(e, "key", json_object_new_string(tier->key));
		add(e, "met", json_object_new_boolean(met));
		add(e, "shortfall", shortfall);
		json_object_array_add(tiers, e);
		if (met && outcome == NULL)
			outcome = tier->key;
	}
	add(basis, "tiers", tiers);
	return outcome ? outcome : fallback;
}

static void put_json(void *ud)
{
	json_object_put(ud);
}

enum at_rc rules_evaluate(const struct program *p, struct json_object *rule,
			  const struct rules_input *in, struct arena *a, struct rules_result *out)
{
	struct ectx c;
	struct json_object *basis;
	const char *type;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.in = in;
	c.a = a;
	if (rule == NULL)
		rule = p->rule;
	type = jstr(rule, "type", "");
	if (strcmp(type, "tiers") == 0) {
		basis = json_object_new_object();
		add(basis, "type", json_object_new_string("tiers"));
		out->outcome = arena_strdup(a, eval_tiers(&c, rule, basis));
	} else if (strcmp(type, "k_of_last_n") == 0 || strcmp(type, "count") == 0 ||
		   strcmp(type, "feedback") == 0 || strcmp(type, "all") == 0 ||
		   strcmp(type, "any") == 0) {
		enum verdict v = eval_cond(&c, rule, true, &basis);

		out->outcome = v == MET ? "pass" : v == UNMET ? "fail" : "pending";
	} else {
		return AT_BADREQ;
	}
	add(basis, "outcome", json_object_new_string(out->outcome));
	if (c.has_percent)
		add(basis, "percent", jnum(c.percent));
	if (c.review)
		add(basis, "review", json_object_new_boolean(true));
	arena_on_free(a, put_json, basis);
	out->basis = json_object_to_json_string_ext(basis, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	out->has_percent = c.has_percent;
	out->percent = c.percent;
	out->review = c.review;
	return AT_OK;
}

/* ---- escalation ---- */

void rules_escalation(const struct program *p, int64_t started_at, int64_t now, bool completed,
		      struct rules_escalation *out)
{
	const struct bizdays *cal = &p->calendar;

	memset(out, 0, sizeof(*out));
	out->start = bizdays_of_time(started_at);
	out->today = bizdays_of_time(now);
	out->elapsed = bizdays_between(cal, out->start, out->today);
	out->deadline = p->complete_within >= 0 ?
		bizdays_add(cal, out->start, p->complete_within) : -1;
	out->step = -1;
	out->next = -1;
	if (completed)
		return;
	out->overdue = out->deadline >= 0 && out->today > out->deadline;
	for (size_t i = 0; i < p->n_steps; i++) {
		int32_t due = bizdays_add(cal, out->start, p->steps[i].offset);

		if (due <= out->today) {
			out->step = (int)i;
			out->step_day = due;
		} else {
			out->next = (int)i;
			out->next_day = due;
			break;
		}
	}
	if (out->step >= 0) {
		out->step_key = p->steps[out->step].key;
		out->step_label = p->steps[out->step].label;
		out->due_today = out->step_day == out->today;
	}
}

/* ---- loading inputs ---- */

static const char SQL_ENROL[] =
	"SELECT program_id, user_id, status, started_at, completed_at FROM enrolment"
	" WHERE id = ?1";
static const char SQL_OBS[] =
	"SELECT o.id, c.key, o.rater_role, o.session_key, o.assessor_id, o.score, o.max_score,"
	" o.passed, o.critical_missed, o.observed_at"
	" FROM observation o JOIN checklist c ON c.id = o.checklist_id"
	" WHERE o.enrolment_id = ?1 AND o.status = 'submitted' AND NOT EXISTS"
	" (SELECT 1 FROM observation n WHERE n.amends_id = o.id AND n.status = 'submitted')"
	" ORDER BY o.observed_at, o.id";
static const char SQL_RATINGS[] =
	"SELECT c.idnumber, f.idnumber, r.rater_role, r.rater_id, r.value, r.created_at"
	" FROM rating r JOIN competency c ON c.id = r.competency_id"
	" JOIN framework f ON f.id = c.framework_id"
	" WHERE r.learner_id = ?1 AND (r.program_id = ?2 OR r.program_id IS NULL)"
	" ORDER BY r.created_at, r.id";
static const char SQL_FEEDBACK[] =
	"SELECT l.form_key, COUNT(*), COUNT(r.score), COALESCE(SUM(r.score), 0)"
	" FROM feedback_response r JOIN feedback_link l ON l.id = r.link_id"
	" WHERE l.enrolment_id = ?1 GROUP BY l.form_key ORDER BY l.form_key";

/* Grow *arr (n used, *cap slots of size sz) by one slot from a; returns the new slot. */
static void *grow(struct arena *a, void **arr, size_t n, size_t *cap, size_t sz)
{
	if (n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char *na = arena_zalloc(a, ncap * sz);

		if (n > 0)
			memcpy(na, *arr, n * sz);
		*arr = na;
		*cap = ncap;
	}
	return (char *)*arr + n * sz;
}

static const char *col_str(struct arena *a, struct db_stmt *st, int col)
{
	const char *s = db_col_text(st, col);

	return arena_strndup(a, s ? s : "", s ? db_col_len(st, col) : 0);
}

static bool in_frameworks(const struct program *p, const char *fw)
{
	for (size_t i = 0; i < p->n_frameworks; i++)
		if (strcmp(p->frameworks[i], fw) == 0)
			return true;
	return false;
}

enum at_rc rules_load_inputs(struct db *db, struct arena *a, int64_t enrolment_id, int64_t now,
			     struct rules_enrolment *out)
{
	struct db_stmt *st = NULL;
	struct rules_obs *obs = NULL;
	struct rules_rating *ratings = NULL;
	struct rules_feedback *fb = NULL;
	size_t cap_o = 0, cap_r = 0, cap_f = 0;
	int64_t program_id = 0;
	bool row = false;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	out->id = enrolment_id;
	out->in.now = now;
	rc = db_prepare(db, SQL_ENROL, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	program_id = db_col_i64(st, 0);
	out->user_id = db_col_i64(st, 1);
	out->status = col_str(a, st, 2);
	out->started_at = db_col_i64(st, 3);
	out->completed = !db_col_null(st, 4);
	rc = db_run(st);
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	rc = program_load(db, a, NULL, program_id, &out->program);
	if (rc != AT_OK)
		goto out;

	rc = db_prepare(db, SQL_OBS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	for (;;) {
		struct rules_obs *o;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		o = grow(a, (void **)&obs, out->in.n_obs++, &cap_o, sizeof(*obs));
		o->id = db_col_i64(st, 0);
		o->checklist = col_str(a, st, 1);
		o->rater_role = col_str(a, st, 2);
		o->session_key = col_str(a, st, 3);
		o->assessor_id = db_col_i64(st, 4);
		o->score = db_col_i64(st, 5);
		o->max_score = db_col_i64(st, 6);
		o->passed = db_col_i64(st, 7) != 0;
		o->critical_missed = db_col_i64(st, 8) != 0;
		o->observed_at = db_col_i64(st, 9);
	}
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	out->in.obs = obs;

	rc = db_prepare(db, SQL_RATINGS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, out->user_id);
	db_bind_i64(st, 2, program_id);
	for (;;) {
		struct rules_rating *r;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (!in_frameworks(out->program, db_col_text(st, 1) ? db_col_text(st, 1) : ""))
			continue;
		r = grow(a, (void **)&ratings, out->in.n_ratings++, &cap_r, sizeof(*ratings));
		r->competency = col_str(a, st, 0);
		r->rater_role = col_str(a, st, 2);
		r->rater_id = db_col_i64(st, 3);
		r->level = (int)db_col_i64(st, 4) + 1;
		r->at = db_col_i64(st, 5);
	}
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	out->in.ratings = ratings;

	rc = db_prepare(db, SQL_FEEDBACK, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, enrolment_id);
	for (;;) {
		struct rules_feedback *f;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		f = grow(a, (void **)&fb, out->in.n_feedback++, &cap_f, sizeof(*fb));
		f->form = col_str(a, st, 0);
		f->responses = db_col_i64(st, 1);
		f->scored = db_col_i64(st, 2);
		f->score_sum = db_col_i64(st, 3);
	}
	out->in.feedback = fb;
out:
	db_finalize(st);
	return rc;
}
