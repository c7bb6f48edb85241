/* test_rules.c: certification rules as pure functions — the call certification (k of the
 * last n, critical misses, windows, distinct assessors), the Level Two tiers under each
 * reconciliation policy, the escalation ladder on business days — and the loader on
 * SQLite (and PostgreSQL when ATTEST_TEST_PG is set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/rules.h"
#include "tests/unit/support/testdb.h"

/* The tables below list only the fields that matter; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define DAY 86400
#define T0 1704326400	/* 2024-01-04, a Thursday, 00:00 UTC */

static struct program *load(struct arena *a, const char *path)
{
	struct jsonschema_report rep;
	struct program *p = NULL;
	FILE *f = fopen(path, "rb");
	char *buf = arena_alloc(a, 1 << 16);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	if (program_parse(a, buf, n, &p, &rep) != AT_OK)
		fail_msg("%s: %s", path, rep.msg[0]);
	return p;
}

static struct program *parse(struct arena *a, const char *doc)
{
	struct jsonschema_report rep;
	struct program *p = NULL;

	if (program_parse(a, doc, strlen(doc), &p, &rep) != AT_OK)
		fail_msg("%s", rep.msg[0]);
	return p;
}

/* ---- call certification ---- */

struct call {
	int score;		/* points, 0..100 */
	bool critical_missed;
	int64_t assessor;
	int day;		/* days after T0 */
	const char *role;
};

static void calls(struct rules_obs *o, const struct call *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].id = (int64_t)i + 1;
		o[i].checklist = "call";
		o[i].rater_role = c[i].role ? c[i].role : "assessor";
		o[i].session_key = "";
		o[i].assessor_id = c[i].assessor ? c[i].assessor : 7;
		o[i].score = (int64_t)c[i].score * 100;
		o[i].max_score = 10000;
		o[i].critical_missed = c[i].critical_missed;
		o[i].passed = !c[i].critical_missed && o[i].score >= 8500;
		o[i].observed_at = T0 + (int64_t)(c[i].day ? c[i].day : (int)i) * DAY + (int64_t)i;
	}
}

static void run_calls(const struct program *p, struct arena *a, const struct call *c, size_t n,
		      struct rules_result *r)
{
	struct rules_obs o[16];
	struct rules_input in;

	calls(o, c, n);
	memset(&in, 0, sizeof(in));
	in.now = T0 + 40 * DAY;
	in.obs = o;
	in.n_obs = n;
	assert_int_equal(rules_evaluate(p, NULL, &in, a, r), AT_OK);
}

static void test_call_cert(void **state)
{
	static const struct {
		struct call c[8];
		size_t n;
		const char *outcome;
		int64_t percent;
	} cases[] = {
		/* 85/84/100/90/95: 4 of 5 at >= 85 -> pass at 80 % */
		{ { { 85 }, { 84 }, { 100 }, { 90 }, { 95 } }, 5, "pass", 8000 },
		/* 85/84/100/90/70: 3 of 5 -> fail at 60 % */
		{ { { 85 }, { 84 }, { 100 }, { 90 }, { 70 } }, 5, "fail", 6000 },
		/* 100 x 4, then a 100 that misses a critical item: that call fails -> 80 % pass */
		{ { { 100 }, { 100 }, { 100 }, { 100 }, { 100, true } }, 5, "pass", 8000 },
		/* 85/84/100/90/95 with a critical miss on the 100: 3 of 5 -> fail */
		{ { { 85 }, { 84 }, { 100, true }, { 90 }, { 95 } }, 5, "fail", 6000 },
		/* 5 of 5 */
		{ { { 85 }, { 86 }, { 100 }, { 90 }, { 95 } }, 5, "pass", 10000 },
		/* exactly 85 passes, 84.99 would not */
		{ { { 85 }, { 85 }, { 85 }, { 85 }, { 10 } }, 5, "pass", 8000 },
		/* four calls so far: not decided yet */
		{ { { 100 }, { 100 }, { 100 }, { 100 } }, 4, "pending", 8000 },
		/* only the last five count: two early failures drop out */
		{ { { 10 }, { 20 }, { 90 }, { 90 }, { 90 }, { 90 }, { 90 } }, 7, "pass", 10000 },
		/* a self-evaluation never counts as a call */
		{ { { 100 }, { 100 }, { 100 }, { 100 }, { 100, false, 9, 0, "self" } }, 5, "pending",
		  8000 },
	};
	struct arena *a = arena_new();
	struct program *p = load(a, "examples/programs/call-certification.json");

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct rules_result r;

		run_calls(p, a, cases[i].c, cases[i].n, &r);
		if (strcmp(r.outcome, cases[i].outcome) != 0 || !r.has_percent ||
		    r.percent != cases[i].percent)
			fail_msg("case %zu: %s %lld, want %s %lld\n%s", i, r.outcome,
				 (long long)r.percent, cases[i].outcome,
				 (long long)cases[i].percent, r.basis);
	}
	/* the basis says what was counted */
	{
		struct rules_result r;
		static const struct call c[] = { { 85 }, { 84 }, { 100 }, { 90 }, { 95 } };

		run_calls(p, a, c, 5, &r);
		assert_non_null(strstr(r.basis, "\"type\":\"k_of_last_n\""));
		assert_non_null(strstr(r.basis, "\"passed\":4"));
		assert_non_null(strstr(r.basis, "\"percent\":80"));
		assert_non_null(strstr(r.basis, "\"min_score\":85"));
		assert_non_null(strstr(r.basis, "\"outcome\":\"pass\""));
		assert_non_null(strstr(r.basis, "{\"observation\":2,\"score\":84,"
				       "\"critical_missed\":false,\"passed\":false"));
	}
	arena_free(a);
}

#define VARIANT(extra) \
	"{\"key\":\"v\",\"title\":\"V\",\"version\":1,\"checklists\":[{\"key\":\"call\"," \
	"\"title\":\"C\",\"pass_mark\":85,\"items\":[{\"key\":\"a\",\"kind\":\"yesno\"," \
	"\"label\":\"A\"}]}],\"rule\":{\"type\":\"k_of_last_n\",\"checklist\":\"call\"," \
	"\"k\":4,\"n\":5,\"percent\":true" extra "}}"

static void test_call_variants(void **state)
{
	struct arena *a = arena_new();
	struct program *win = parse(a, VARIANT(",\"window_days\":30"));
	struct program *two = parse(a, VARIANT(",\"min_distinct_assessors\":2"));
	struct program *nomin = parse(a, VARIANT(""));
	struct rules_result r;
	/* now = T0 + 40 days: days 0..9 fall outside a 30-day window */
	static const struct call old[] = { { 90, false, 0, 1 }, { 90, false, 0, 2 },
					   { 90, false, 0, 20 }, { 90, false, 0, 21 },
					   { 90, false, 0, 22 } };
	static const struct call recent[] = { { 90, false, 0, 11 }, { 90, false, 0, 12 },
					      { 90, false, 0, 20 }, { 90, false, 0, 21 },
					      { 90, false, 0, 22 } };
	static const struct call one[] = { { 90 }, { 90 }, { 90 }, { 90 }, { 90 } };
	static const struct call mixed[] = { { 90, false, 3 }, { 90 }, { 90 }, { 90 }, { 90 } };
	/* without min_score the submit-time verdict (passed) counts */
	static const struct call low[] = { { 84 }, { 84 }, { 90 }, { 90 }, { 90 } };

	(void)state;
	run_calls(win, a, old, 5, &r);
	assert_string_equal(r.outcome, "pending");	/* two are too old */
	run_calls(win, a, recent, 5, &r);
	assert_string_equal(r.outcome, "pass");
	run_calls(two, a, one, 5, &r);
	assert_string_equal(r.outcome, "pending");	/* all by one assessor */
	assert_non_null(strstr(r.basis, "\"distinct_assessors\":1"));
	run_calls(two, a, mixed, 5, &r);
	assert_string_equal(r.outcome, "pass");
	run_calls(nomin, a, low, 5, &r);
	assert_string_equal(r.outcome, "fail");
	assert_int_equal(r.percent, 6000);
	arena_free(a);
}

/* ---- Level Two ---- */

static const char *const L2[] = {
	"L2T-FAC-GROUP", "L2T-FAC-DEPTH", "L2T-COT-PLAN", "L2T-COT-DELIVER", "L2T-LRN-SPACE",
	"L2T-LRN-FEEDBACK", "L2T-PRO-REFLECT", "L2T-PRO-MENTOR",
};

struct l2case {
	enum program_policy policy;
	int assessor[8], self[8];	/* 0: no rating */
	int64_t fb_n, fb_avg;		/* responses, average in hundredths */
	int modules, selfs;		/* assessor / self module observations */
	const char *outcome;
	bool review;
};

#define ALL(x) { x, x, x, x, x, x, x, x }

static const struct l2case l2cases[] = {
	/* everyone at 4, students happy: Lead */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(4), 6, 420, 2, 2, "lead", false },
	/* self one higher or lower: agreement, the assessor's level stands */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(5), 6, 420, 2, 2, "lead", false },
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(3), 6, 420, 2, 2, "lead", false },
	/* self two below on one: flagged, the lower level is proposed (2: not yet; 3:
	 * Professional) */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), { 4, 4, 4, 2, 4, 4, 4, 4 }, 6, 420, 2, 2,
	  "not_yet", true },
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(5), { 5, 5, 5, 3, 5, 5, 5, 5 }, 6, 420, 2, 2,
	  "professional", true },
	/* 3 everywhere: Professional */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(3), ALL(3), 6, 420, 2, 2, "professional", false },
	/* one competency at 3: Professional; two at 1: not yet */
	{ PROGRAM_AGREE_WITHIN_ONE, { 4, 4, 4, 4, 4, 4, 3, 4 }, ALL(4), 6, 420, 2, 2,
	  "professional", false },
	{ PROGRAM_AGREE_WITHIN_ONE, { 4, 4, 4, 4, 4, 4, 1, 1 }, { 4, 4, 4, 4, 4, 4, 1, 1 },
	  6, 420, 2, 2, "not_yet", false },
	/* all 4 but the students average 3.5 (< 4 for Lead): Professional */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(4), 6, 350, 2, 2, "professional", false },
	/* one Professional competency at 2: not yet */
	{ PROGRAM_AGREE_WITHIN_ONE, { 4, 2, 4, 4, 4, 4, 4, 4 }, { 4, 2, 4, 4, 4, 4, 4, 4 },
	  6, 420, 2, 2, "not_yet", false },
	/* students unhappy (average 2.5 < 3): the gate fails -> not yet */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(5), ALL(5), 6, 250, 2, 2, "not_yet", false },
	/* the second module not done yet, too few responses, a missing self rating: pending */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(4), 6, 420, 1, 2, "pending", false },
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), ALL(4), 4, 420, 2, 2, "pending", false },
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(4), { 4, 4, 4, 4, 0, 4, 4, 4 }, 6, 420, 2, 2,
	  "pending", false },
	/* assessor_wins: self ignored (even missing or far off) */
	{ PROGRAM_ASSESSOR_WINS, ALL(4), ALL(1), 6, 420, 2, 2, "lead", false },
	{ PROGRAM_ASSESSOR_WINS, ALL(4), ALL(0), 6, 420, 2, 2, "lead", false },
	{ PROGRAM_ASSESSOR_WINS, ALL(0), ALL(5), 6, 420, 2, 2, "pending", false },
	/* minimum: the lower of the two */
	{ PROGRAM_MINIMUM, ALL(4), ALL(3), 6, 420, 2, 2, "professional", false },
	{ PROGRAM_MINIMUM, ALL(3), ALL(5), 6, 420, 2, 2, "professional", false },
	{ PROGRAM_MINIMUM, ALL(5), ALL(4), 6, 420, 2, 2, "lead", false },
	/* mean: 4 and 3 make 3.5 (< 4): Professional; 5 and 3 make 4: Lead */
	{ PROGRAM_MEAN, ALL(4), ALL(3), 6, 420, 2, 2, "professional", false },
	{ PROGRAM_MEAN, ALL(5), ALL(3), 6, 420, 2, 2, "lead", false },
	{ PROGRAM_MEAN, ALL(3), ALL(2), 6, 420, 2, 2, "not_yet", false },
	/* agree_within_one, the self-evaluation two above: flagged, the assessor's 3 stands */
	{ PROGRAM_AGREE_WITHIN_ONE, ALL(3), { 3, 3, 3, 3, 3, 3, 5, 3 }, 6, 420, 2, 2,
	  "professional", true },
};

static void run_l2(struct program *p, struct arena *a, const struct l2case *c,
		   struct rules_result *r)
{
	struct rules_rating rt[40];
	struct rules_obs o[8];
	struct rules_feedback fb = { "student-outcomes", c->fb_n, c->fb_n, c->fb_n * c->fb_avg };
	struct rules_input in;
	size_t nr = 0, no = 0;

	memset(o, 0, sizeof(o));
	for (size_t i = 0; i < NELEM(L2); i++) {
		/* an older, different rating first: only the latest counts */
		if (c->assessor[i])
			rt[nr++] = (struct rules_rating){ L2[i], "expert", 5, 1, 10 };
		if (c->assessor[i])
			rt[nr++] = (struct rules_rating){ L2[i], "expert", 5, c->assessor[i], 20 };
		if (c->self[i])
			rt[nr++] = (struct rules_rating){ L2[i], "self", 9, c->self[i], 30 };
	}
	for (int i = 0; i < c->modules; i++)
		o[no++] = (struct rules_obs){ .id = no + 1, .checklist = "co-teach-module",
					      .rater_role = "expert", .session_key = i ? "m2" : "m1",
					      .assessor_id = 5, .observed_at = T0 + i };
	for (int i = 0; i < c->selfs; i++)
		o[no++] = (struct rules_obs){ .id = no + 1, .checklist = "co-teach-module",
					      .rater_role = "self", .session_key = i ? "m2" : "m1",
					      .assessor_id = 9, .observed_at = T0 + i };
	memset(&in, 0, sizeof(in));
	in.now = T0 + DAY;
	in.obs = o;
	in.n_obs = no;
	in.ratings = rt;
	in.n_ratings = nr;
	in.feedback = &fb;
	in.n_feedback = 1;
	p->policy = c->policy;
	assert_int_equal(rules_evaluate(p, NULL, &in, a, r), AT_OK);
}

static void test_level_two(void **state)
{
	struct arena *a = arena_new();
	struct program *p = load(a, "examples/programs/level-two-trainer.json");

	(void)state;
	for (size_t i = 0; i < NELEM(l2cases); i++) {
		struct rules_result r;

		run_l2(p, a, &l2cases[i], &r);
		if (strcmp(r.outcome, l2cases[i].outcome) != 0 || r.review != l2cases[i].review)
			fail_msg("case %zu: %s review=%d, want %s review=%d\n%s", i, r.outcome,
				 r.review, l2cases[i].outcome, l2cases[i].review, r.basis);
		assert_false(r.has_percent);
	}
	{
		struct rules_result r;

		run_l2(p, a, &l2cases[4], &r);	/* the flagged one */
		assert_non_null(strstr(r.basis, "\"flagged\":[\"L2T-COT-DELIVER\"]"));
		assert_non_null(strstr(r.basis, "\"policy\":\"agree_within_one\""));
		assert_non_null(strstr(r.basis, "\"review\":true"));
		run_l2(p, a, &l2cases[20], &r);	/* mean 3.5 */
		assert_non_null(strstr(r.basis, "\"level\":3.5"));
	}
	arena_free(a);
}

/* Two observations of one co-taught session count once with distinct_sessions. */
static void test_sessions(void **state)
{
	struct arena *a = arena_new();
	struct program *p = load(a, "examples/programs/level-two-trainer.json");
	struct l2case c = l2cases[0];
	struct rules_result r;
	struct rules_obs o[4];
	struct rules_input in;
	struct rules_feedback fb = { "student-outcomes", 6, 6, 6 * 420 };

	(void)state;
	run_l2(p, a, &c, &r);
	assert_string_equal(r.outcome, "lead");
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 4; i++)
		o[i] = (struct rules_obs){ .id = i + 1, .checklist = "co-teach-module",
					   .rater_role = i < 2 ? "expert" : "self",
					   .session_key = "same", .assessor_id = i < 2 ? 5 + i : 9 };
	memset(&in, 0, sizeof(in));
	in.obs = o;
	in.n_obs = 4;
	in.feedback = &fb;
	in.n_feedback = 1;
	assert_int_equal(rules_evaluate(p, json_object_object_get(p->rule, "requires"), &in, a,
					&r), AT_OK);
	assert_string_equal(r.outcome, "pending");	/* one session, two raters */
	assert_non_null(strstr(r.basis, "\"count\":1"));
	arena_free(a);
}

/* ---- escalation ---- */

static void test_escalation(void **state)
{
	static const struct {
		int day;	/* days after Thursday 2024-01-04 */
		int step;
		bool due_today, overdue;
		int elapsed;
	} ladder[] = {
		{ 0, -1, false, false, 0 },	/* Thu: started */
		{ 1, -1, false, false, 1 },	/* Fri */
		{ 2, -1, false, false, 1 },	/* Sat */
		{ 3, -1, false, false, 1 },	/* Sun */
		{ 4, -1, false, false, 2 },	/* Mon: the deadline (2 business days) */
		{ 5, 0, true, true, 3 },	/* Tue: documented coaching */
		{ 6, 1, true, true, 4 },	/* Wed: written CAP */
		{ 7, 2, true, true, 5 },	/* Thu: final CAP */
		{ 8, 3, true, true, 6 },	/* Fri: termination review */
		{ 9, 3, false, true, 6 },	/* Sat: still the last step, not new today */
		{ 11, 3, false, true, 7 },	/* Mon */
	};
	static const char *const keys[] = { "coaching", "written_cap", "final_cap",
					     "termination_review" };
	struct arena *a = arena_new();
	struct program *p = load(a, "examples/programs/call-certification.json");
	struct rules_escalation e;
	char d[11];

	(void)state;
	for (size_t i = 0; i < NELEM(ladder); i++) {
		rules_escalation(p, T0 + 3600, T0 + (int64_t)ladder[i].day * DAY + 7200, false, &e);
		if (e.step != ladder[i].step || e.due_today != ladder[i].due_today ||
		    e.overdue != ladder[i].overdue || e.elapsed != ladder[i].elapsed)
			fail_msg("day %d: step %d today %d overdue %d elapsed %d", ladder[i].day,
				 e.step, e.due_today, e.overdue, e.elapsed);
		if (e.step >= 0)
			assert_string_equal(e.step_key, keys[e.step]);
	}
	rules_escalation(p, T0, T0 + 4 * DAY, false, &e);
	assert_int_equal(e.next, 0);
	bizdays_format(e.next_day, d);
	assert_string_equal(d, "2024-01-09");
	bizdays_format(e.deadline, d);
	assert_string_equal(d, "2024-01-08");
	/* completed: nothing due, never overdue */
	rules_escalation(p, T0, T0 + 8 * DAY, true, &e);
	assert_int_equal(e.step, -1);
	assert_false(e.overdue);
	/* over Christmas (a program holiday) and New Year's Day 2026 */
	{
		int32_t start = 0;

		assert_int_equal(bizdays_parse("2025-12-23", &start), AT_OK);
		rules_escalation(p, (int64_t)start * DAY, (int64_t)(start + 6) * DAY, false, &e);
		assert_int_equal(e.step, 0);	/* Mon 12-29: coaching */
		assert_true(e.due_today);
		rules_escalation(p, (int64_t)start * DAY, (int64_t)(start + 9) * DAY, false, &e);
		assert_int_equal(e.step, 2);	/* 01-01 is a holiday: final CAP stays */
		assert_false(e.due_today);
		assert_int_equal(e.next, 3);
		bizdays_format(e.next_day, d);
		assert_string_equal(d, "2026-01-02");
	}
	arena_free(a);
}

/* ---- the loader ---- */

static int64_t ins(struct db *db, const char *sql, const int64_t *v, size_t nv,
		   const char *text)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t id = 0;

	assert_int_equal(db_prepare(db, sql, &st), AT_OK);
	for (size_t i = 0; i < nv; i++)
		db_bind_i64(st, (int)i + 1, v[i]);
	if (text)
		db_bind_str(st, (int)nv + 1, text);
	assert_int_equal(db_step(st, &row), AT_OK);
	if (row)
		id = db_col_i64(st, 0);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);
	return id;
}

static void loader(int pg)
{
	struct testdb t;
	struct db *db;
	struct arena *a = arena_new();
	struct jsonschema_report rep;
	struct program *p;
	struct rules_enrolment en;
	struct rules_result r;
	int64_t fw, cid, plat, learner, certifier, enr, cl, o[6];
	static const int scores[] = { 8500, 8400, 10000, 9000, 9500 };

	assert_int_equal(testdb_open(&t, "rules", pg), 0);
	db = t.db;
	fw = ins(db, "INSERT INTO framework (idnumber, shortname, scale, created_at, updated_at)"
		 " VALUES ('CALL', 'C', '[{\"name\":\"n\"},{\"name\":\"y\"}]', 0, 0)"
		 " RETURNING id", NULL, 0, NULL);
	{
		static const char *const ids[] = { "CALL-OPEN-GREET", "CALL-OPEN-VERIFY",
			"CALL-PROF-COMPLIANCE", "CALL-DISC-PROBE", "CALL-RES-SYSTEMS",
			"CALL-RES-ACCURATE", "CALL-RES-HOLD", "CALL-PROF-EMPATHY",
			"CALL-CLOSE-SUMMARY", "CALL-CLOSE-FURTHER" };

		for (size_t i = 0; i < NELEM(ids); i++)
			cid = ins(db, "INSERT INTO competency (framework_id, idnumber, shortname)"
				  " VALUES (?1, ?2, ?2) RETURNING id", &fw, 1, ids[i]);
	}
	p = load(a, "examples/programs/call-certification.json");
	assert_int_equal(program_import(db, a, p, false, 1, &rep), AT_OK);
	plat = ins(db, "INSERT INTO platform (issuer, client_id, auth_endpoint, jwks_uri,"
		   " created_at) VALUES ('https://i', 'c', 'a', 'j', 0) RETURNING id", NULL, 0,
		   NULL);
	learner = ins(db, "INSERT INTO app_user (platform_id, sub, created_at, updated_at)"
		      " VALUES (?1, 'learner', 0, 0) RETURNING id", &plat, 1, NULL);
	certifier = ins(db, "INSERT INTO app_user (platform_id, sub, created_at, updated_at)"
			" VALUES (?1, 'certifier', 0, 0) RETURNING id", &plat, 1, NULL);
	{
		int64_t v[] = { p->id, learner, T0 };

		enr = ins(db, "INSERT INTO enrolment (program_id, user_id, started_at) VALUES"
			  " (?1, ?2, ?3) RETURNING id", v, 3, NULL);
	}
	cl = ins(db, "SELECT id FROM checklist", NULL, 0, NULL);
	for (int i = 0; i < 5; i++) {
		int64_t v[] = { enr, cl, certifier, scores[i], scores[i] >= 8500,
				T0 + i * 3600 };

		o[i] = ins(db, "INSERT INTO observation (enrolment_id, checklist_id, assessor_id,"
			   " status, score, max_score, passed, observed_at, created_at, updated_at)"
			   " VALUES (?1, ?2, ?3, 'submitted', ?4, 10000, ?5, ?6, 0, 0) RETURNING id",
			   v, 6, NULL);
	}
	/* a draft does not count; an amended call is replaced by its amendment */
	{
		int64_t v[] = { enr, cl, certifier, T0 + 9 * 3600 };
		int64_t w[] = { enr, cl, certifier, T0 + 3600 + 1, o[1] };

		(void)ins(db, "INSERT INTO observation (enrolment_id, checklist_id, assessor_id,"
			  " status, score, observed_at, created_at, updated_at)"
			  " VALUES (?1, ?2, ?3, 'draft', 0, ?4, 0, 0) RETURNING id", v, 4, NULL);
		assert_int_equal(rules_load_inputs(db, a, enr, T0 + DAY, &en), AT_OK);
		assert_int_equal(en.in.n_obs, 5);
		assert_int_equal(rules_evaluate(en.program, NULL, &en.in, a, &r), AT_OK);
		assert_string_equal(r.outcome, "pass");
		assert_int_equal(r.percent, 8000);
		/* the 84 is amended to 88, with a critical miss: still 4 of 5 */
		o[5] = ins(db, "INSERT INTO observation (enrolment_id, checklist_id, assessor_id,"
			   " status, score, max_score, passed, critical_missed, observed_at,"
			   " created_at, updated_at, amends_id) VALUES (?1, ?2, ?3, 'submitted',"
			   " 8800, 10000, 0, 1, ?4, 0, 0, ?5) RETURNING id", w, 5, NULL);
	}
	assert_int_equal(rules_load_inputs(db, a, enr, T0 + DAY, &en), AT_OK);
	assert_int_equal(en.in.n_obs, 5);
	assert_int_equal(en.user_id, learner);
	assert_false(en.completed);
	assert_string_equal(en.program->key, "call-certification");
	assert_int_equal(rules_evaluate(en.program, NULL, &en.in, a, &r), AT_OK);
	assert_string_equal(r.outcome, "pass");
	assert_non_null(strstr(r.basis, "\"critical_missed\":true"));
	/* a rating and feedback reach the inputs */
	{
		int64_t v[] = { learner, cid, certifier, p->id };
		int64_t w[] = { enr, certifier };
		int64_t link;

		(void)ins(db, "INSERT INTO rating (learner_id, competency_id, rater_id, rater_role,"
			  " value, program_id, created_at) VALUES (?1, ?2, ?3, 'assessor', 1, ?4, 5)"
			  " RETURNING id", v, 4, NULL);
		link = ins(db, "INSERT INTO feedback_link (token_hash, enrolment_id, form_key,"
			   " created_by, created_at, expires_at) VALUES ('h', ?1, 'f', ?2, 0, 9)"
			   " RETURNING id", w, 2, NULL);
		(void)ins(db, "INSERT INTO feedback_response (link_id, answers, score, created_at)"
			  " VALUES (?1, '{}', 400, 0) RETURNING id", &link, 1, NULL);
	}
	assert_int_equal(rules_load_inputs(db, a, enr, T0 + DAY, &en), AT_OK);
	assert_int_equal(en.in.n_ratings, 1);
	assert_string_equal(en.in.ratings[0].competency, "CALL-CLOSE-FURTHER");
	assert_int_equal(en.in.ratings[0].level, 2);
	assert_int_equal(en.in.n_feedback, 1);
	assert_int_equal(en.in.feedback[0].responses, 1);
	assert_int_equal(en.in.feedback[0].score_sum, 400);
	assert_int_equal(rules_load_inputs(db, a, enr + 100, T0, &en), AT_NOTFOUND);
	arena_free(a);
	testdb_close(&t);
}

static void test_loader_sqlite(void **state)
{
	(void)state;
	loader(0);
}

static void test_loader_pg(void **state)
{
	(void)state;
	if (testdb_pg_url() == NULL)
		skip();
	loader(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_cert),
		cmocka_unit_test(test_call_variants),
		cmocka_unit_test(test_level_two),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_loader_sqlite),
		cmocka_unit_test(test_loader_pg),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
