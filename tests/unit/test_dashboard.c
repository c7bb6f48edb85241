/* test_dashboard.c: the coordinator's dashboard queries and assignments (core/dashboard.c,
 * core/assign.c) — every learner of the roster (not launched, not enrolled, enrolled through
 * another course), attempts per checklist with amendments and self-evaluations left out,
 * decisions, escalations, filters by group and assessor, group labels and assessor
 * assignments (audited, staff only), feedback links, the heat map and pass rates; on SQLite
 * and PostgreSQL (ATTEST_TEST_PG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assign.h"
#include "core/audit.h"
#include "core/dashboard.h"
#include "tests/unit/support/testdb.h"

/* Users: 1 Ada (launched), 2 Ben (roster only, nrps), 3 Cat (launched before launched_at), 4 Tess (assessor),
 * 5 Otto (learner of course 2 only), 6 Dan (enrolled via course 2, member of both),
 * 7 Tom (assessor of course 2 only), 8 Wes (withdrawn from course 1: inactive member). */
enum { ADA = 1, BEN = 2, CAT = 3, TESS = 4, OTTO = 5, DAN = 6, TOM = 7, WES = 8, C1 = 1, C2 = 2 };

#define DAY 86400
/* 2026-01-05 is a Monday */
#define MON (20458LL * DAY)

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, given_name, family_name, created_at,"
	" updated_at, launched_at) VALUES (1, 'a', 'Ada Agent', '', '', 1, 1, 5),"
	" (1, 'b', '', 'Ben', 'Baker', 1, 1, 0), (1, 'c', 'Cat <b>Nguyen</b>', '', '', 1, 1, 0),"
	" (1, 't', 'Tess Teacher', '', '', 1, 1, 5), (1, 'o', 'Otto Outsider', '', '', 1, 1, 5),"
	" (1, 'd', 'Dan Dual', '', '', 1, 1, 5), (1, 'tt', 'Tom Teacher', '', '', 1, 1, 5),"
	" (1, 'w', 'Wes Withdrawn', '', '', 1, 1, 5);"
	"INSERT INTO context (platform_id, context_id, title, label, created_at, updated_at)"
	" VALUES (1, 'c1', 'Course one', 'C1', 1, 1), (1, 'c2', 'Course two', 'C2', 1, 1);"
	"INSERT INTO membership (user_id, context_id, role, updated_at, source, active) VALUES"
	" (1, 1, 1, 1, 'launch', 1), (2, 1, 1, 1, 'nrps', 1), (3, 1, 1, 1, 'launch', 1),"
	" (4, 1, 2, 1, 'launch', 1), (5, 2, 1, 1, 'launch', 1), (6, 1, 1, 1, 'launch', 1),"
	" (6, 2, 1, 1, 'launch', 1), (7, 2, 2, 1, 'launch', 1), (8, 1, 1, 1, 'nrps', 0);"
	"INSERT INTO framework (id, idnumber, shortname, scale, created_at, updated_at) VALUES"
	" (1, 'FW', 'FW', '[{\"name\":\"Not yet\"},{\"name\":\"Competent\",\"proficient\":true}]',"
	" 1, 1);"
	"INSERT INTO competency (id, framework_id, idnumber, shortname) VALUES"
	" (1, 1, 'GREET', 'Greeting'), (2, 1, 'HOLD', 'Hold');"
	"INSERT INTO program (id, key, title, definition, created_at, updated_at) VALUES"
	" (1, 'call', 'Call certification', '{}', 1, 1), (2, 'l2', 'Level two', '{}', 1, 1);"
	"INSERT INTO checklist (id, program_id, key, title, definition) VALUES"
	" (1, 1, 'call', 'Call', '{}'), (2, 1, 'tbt', 'TBT', '{}');"
	"INSERT INTO checklist_item (id, checklist_id, key, position, kind, label) VALUES"
	" (1, 1, 'greeting', 1, 'yesno', 'Greeting'), (2, 1, 'hold', 2, 'yesno', 'Hold');"
	"INSERT INTO item_competency (item_id, competency_id) VALUES (1, 1), (2, 2);"
	"INSERT INTO placement (context_id, program_id, resource_id, created_at) VALUES"
	" (1, 1, 'r1', 1);";

static const char *FWS[] = { "FW" };
static const char *GREET[] = { "GREET" };
static const char *HOLD[] = { "HOLD" };
static struct program_item ITEMS[] = {
	{ .key = "greeting", .kind = PROGRAM_YESNO, .competencies = GREET, .n_competencies = 1 },
	{ .key = "hold", .kind = PROGRAM_YESNO, .competencies = HOLD, .n_competencies = 1 },
};
static struct program_checklist CHECKLISTS[] = {
	{ .key = "call", .title = "Call", .items = ITEMS, .n_items = 2 },
	{ .key = "tbt", .title = "TBT" },
};
static struct program_step STEPS[] = {
	{ .key = "coaching", .label = "Documented coaching", .after = 3, .offset = 3 },
	{ .key = "written_cap", .label = "Written CAP", .after = 1, .offset = 4 },
};

/* What dashboard_rows() and dashboard_heatmap() are given for program 1 of SEED. */
static const struct program PROG = {
	.id = 1,
	.key = "call",
	.title = "Call certification",
	.frameworks = FWS,
	.n_frameworks = 1,
	.checklists = CHECKLISTS,
	.n_checklists = 2,
	.complete_within = 2,
	.steps = STEPS,
	.n_steps = 2,
};

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "dashboard", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "dashboard", true, SEED); }

static int64_t enrol(struct testdb_fx *f, int64_t user, int64_t ctx, int64_t program, int64_t started)
{
	struct enrolment *v = NULL;
	size_t n = 0;
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO enrolment (program_id, user_id, context_id,"
		 " started_at) VALUES (%lld, %lld, %lld, %lld)", (long long)program,
		 (long long)user, (long long)ctx, (long long)started);
	assert_int_equal(db_exec(f->db, sql), AT_OK);
	assert_int_equal(enrolment_list_context(f->db, f->a, ctx, program, &v, &n), AT_OK);
	for (size_t i = 0; i < n; i++)
		if (v[i].user_id == user)
			return v[i].id;
	fail_msg("enrolment not found");
	return 0;
}

/* A submitted observation; returns its id. */
static int64_t observe(struct testdb_fx *f, int64_t enrolment, int64_t checklist, const char *role,
		       int passed, int64_t at, int64_t amends)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO observation (enrolment_id, checklist_id,"
		 " assessor_id, rater_role, status, passed, amends_id, observed_at, created_at,"
		 " updated_at, submitted_at) VALUES (%lld, %lld, %d, '%s', 'submitted', %d, NULL,"
		 " %lld, 1, 1, %lld)", (long long)enrolment, (long long)checklist, TESS, role,
		 passed, (long long)at, (long long)at);
	int64_t id;

	assert_int_equal(db_exec(f->db, sql), AT_OK);
	id = testdb_count(f->db, "SELECT MAX(id) FROM observation");
	if (amends) {
		snprintf(sql, sizeof(sql), "UPDATE observation SET amends_id = %lld WHERE id = %lld",
			 (long long)amends, (long long)id);
		assert_int_equal(db_exec(f->db, sql), AT_OK);
	}
	return id;
}

static const struct dashboard_row *find(const struct dashboard_row *v, size_t n, int64_t user)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].user_id == user)
			return &v[i];
	return NULL;
}

static void test_rows(void **state)
{
	struct testdb_fx *f = *state;
	struct dashboard_row *v = NULL;
	const struct dashboard_row *x;
	struct at_err err = { "" };
	size_t n = 0;
	int64_t ada, cat, o1;
	char sql[256];

	/* nobody enrolled yet: every active learner of the roster, launched or not */
	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, NULL, &v, &n), AT_OK);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "Ada Agent");
	assert_string_equal(v[1].name, "Ben Baker");
	assert_true(v[1].roster_only);
	assert_string_equal(v[1].source, "nrps");
	assert_false(v[0].roster_only);
	assert_string_equal(v[2].name, "Cat <b>Nguyen</b>");
	assert_false(v[2].roster_only);	/* launched_at unset, but a launch made the membership */
	assert_string_equal(v[3].name, "Dan Dual");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].enrolment_id, 0);
		assert_true(v[i].member);
		assert_false(v[i].has_escalation);
	}
	assert_null(find(v, n, WES));	/* inactive membership */
	assert_null(find(v, n, TESS));	/* staff */
	assert_null(find(v, n, OTTO));	/* another course */

	/* Ada started last Monday - 7 days; Cat today; Dan through course 2 */
	ada = enrol(f, ADA, C1, 1, MON - 7 * DAY);
	cat = enrol(f, CAT, C1, 1, MON);
	(void)enrol(f, DAN, C2, 1, MON);
	/* Wes left the course (inactive) but stays enrolled: still listed */
	(void)enrol(f, WES, C1, 1, MON);
	/* an enrolment of course 1 in another program changes nothing here */
	(void)enrol(f, BEN, C1, 2, MON);
	o1 = observe(f, ada, 1, "assessor", 0, MON - 6 * DAY, 0);
	(void)observe(f, ada, 1, "assessor", 1, MON - 5 * DAY, 0);
	(void)observe(f, ada, 1, "assessor", 1, MON - 5 * DAY, o1);	/* amends o1: passes */
	(void)observe(f, ada, 1, "self", 1, MON - 5 * DAY, 0);		/* not an attempt */
	(void)observe(f, ada, 2, "assessor", 0, MON - 4 * DAY, 0);
	(void)observe(f, cat, 1, "assessor", 1, MON, 0);
	snprintf(sql, sizeof(sql), "INSERT INTO decision (enrolment_id, proposed_outcome, basis,"
		 " proposed_at, status) VALUES (%lld, 'pass', '{}', 10, 'superseded'),"
		 " (%lld, 'fail', '{}', 11, 'proposed'), (%lld, 'pass', '{}', 9, 'confirmed')",
		 (long long)ada, (long long)ada, (long long)cat);
	assert_int_equal(db_exec(f->db, sql), AT_OK);
	assert_int_equal(db_exec(f->db, "UPDATE decision SET final_outcome = 'pass',"
				 " decided_at = 12, decided_by = 4 WHERE status = 'confirmed'"),
			 AT_OK);
	assert_int_equal(db_exec(f->db, "UPDATE enrolment SET status = 'completed',"
				 " completed_at = 12 WHERE user_id = 3"), AT_OK);
	assert_int_equal(assign_cohort_set(f->db, ada, "  Night shift ", TESS, 20, &err), AT_OK);
	assert_int_equal(assign_assessor_add(f->db, cat, TESS, TESS, 21, &err), AT_OK);

	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, NULL, &v, &n), AT_OK);
	assert_int_equal(n, 5);
	x = find(v, n, ADA);
	assert_non_null(x);
	assert_int_equal(x->enrolment_id, ada);
	assert_string_equal(x->status, "active");
	assert_string_equal(x->cohort, "Night shift");
	assert_int_equal(x->attempts[0], 2);	/* o1 replaced by its amendment */
	assert_int_equal(x->passed[0], 2);
	assert_int_equal(x->attempts[1], 1);
	assert_int_equal(x->passed[1], 0);
	assert_int_equal(x->attempts_total, 3);
	assert_int_equal(x->pending_id, testdb_count(f->db, "SELECT id FROM decision WHERE"
						     " status = 'proposed'"));
	assert_string_equal(x->pending_outcome, "fail");
	assert_null(x->decision);
	/* started 5 business days ago: deadline (2) passed, coaching due at 3, CAP at 4 */
	assert_true(x->has_escalation);
	assert_true(x->esc.overdue);
	assert_string_equal(x->esc.step_key, "written_cap");
	assert_false(x->esc.due_today);
	x = find(v, n, CAT);
	assert_string_equal(x->status, "completed");
	assert_string_equal(x->decision, "pass");
	assert_int_equal(x->pending_id, 0);
	assert_false(x->has_escalation);
	assert_int_equal(x->n_assessors, 1);
	assert_string_equal(x->assessors[0].name, "Tess Teacher");
	x = find(v, n, DAN);
	assert_true(x->elsewhere);	/* enrolled through course 2: nothing of it shown */
	assert_int_equal(x->enrolment_id, 0);
	assert_string_equal(x->status, "");
	x = find(v, n, WES);
	assert_non_null(x);
	assert_false(x->member);
	x = find(v, n, BEN);
	assert_int_equal(x->enrolment_id, 0);	/* enrolled in the other program only */

	/* filters: group, then assessor; unenrolled learners drop out */
	struct dashboard_filter fl = { .cohort = "Night shift" };

	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, &fl, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].user_id, ADA);
	fl = (struct dashboard_filter){ .cohort = "" };
	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, &fl, &v, &n), AT_OK);
	assert_int_equal(n, 2);	/* Cat and Wes: enrolled, no group */
	fl = (struct dashboard_filter){ .assessor_id = TESS };
	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, &fl, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].user_id, CAT);
	fl = (struct dashboard_filter){ .assessor_id = TOM };
	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C1, MON, &fl, &v, &n), AT_OK);
	assert_int_equal(n, 0);

	/* course 2 sees Otto (not enrolled) and Dan (enrolled there) only */
	assert_int_equal(dashboard_rows(f->db, f->a, &PROG, C2, MON, NULL, &v, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].user_id, DAN);
	assert_true(v[0].enrolment_id > 0);
	assert_false(v[0].elsewhere);
	assert_int_equal(v[1].user_id, OTTO);
}

static void test_assign(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct assign_person *v = NULL;
	const char **groups = NULL;
	size_t n = 0;
	int64_t ada = enrol(f, ADA, C1, 1, MON), dan = enrol(f, DAN, C2, 1, MON), first_bad = 0;
	char longl[ASSIGN_COHORT_MAX + 2];

	assert_int_equal(assign_staff(f->db, f->a, C1, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "Tess Teacher");
	/* Tom is staff of course 2 only; a learner is not staff */
	assert_int_equal(assign_assessor_add(f->db, ada, TOM, TESS, 1, &err), AT_BADREQ);
	assert_string_equal(err.msg, "assessor");
	assert_int_equal(assign_assessor_add(f->db, ada, BEN, TESS, 1, &err), AT_BADREQ);
	assert_int_equal(assign_assessor_add(f->db, 999, TESS, TESS, 1, &err), AT_NOTFOUND);
	assert_int_equal(assign_assessor_add(f->db, ada, TESS, TESS, 1, &err), AT_OK);
	assert_int_equal(assign_assessor_add(f->db, ada, TESS, TESS, 2, &err), AT_OK);
	assert_int_equal(assign_assessor_add(f->db, dan, TOM, TOM, 2, &err), AT_OK);
	assert_int_equal(assign_assessors(f->db, f->a, ada, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, TESS);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM audit WHERE action ="
				      " 'enrolment.assessor_add'"), 2);	/* once each */
	assert_int_equal(assign_assessor_remove(f->db, ada, TESS, TESS, 3, &err), AT_OK);
	assert_int_equal(assign_assessor_remove(f->db, ada, TESS, TESS, 3, &err), AT_NOTFOUND);
	assert_int_equal(assign_assessors(f->db, f->a, ada, &v, &n), AT_OK);
	assert_int_equal(n, 0);

	/* group labels: trimmed, capped, no control characters or bad UTF-8 */
	memset(longl, 'x', sizeof(longl) - 1);
	longl[sizeof(longl) - 1] = '\0';
	assert_int_equal(assign_cohort_set(f->db, ada, longl, TESS, 4, &err), AT_BADREQ);
	assert_string_equal(err.msg, "cohort");
	assert_int_equal(assign_cohort_set(f->db, ada, "a\nb", TESS, 4, &err), AT_BADREQ);
	assert_int_equal(assign_cohort_set(f->db, ada, "caf\xc3", TESS, 4, &err), AT_BADREQ);
	assert_int_equal(assign_cohort_set(f->db, 999, "x", TESS, 4, &err), AT_NOTFOUND);
	assert_int_equal(assign_cohort_set(f->db, ada, "Caf\xc3\xa9 crew", TESS, 4, &err), AT_OK);
	assert_int_equal(assign_cohort_set(f->db, dan, "Other", TOM, 4, &err), AT_OK);
	assert_int_equal(dashboard_cohorts(f->db, f->a, 1, C1, &groups, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(groups[0], "Caf\xc3\xa9 crew");
	assert_int_equal(assign_cohort_set(f->db, ada, "", TESS, 5, &err), AT_OK);
	assert_int_equal(dashboard_cohorts(f->db, f->a, 1, C1, &groups, &n), AT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM audit WHERE action ="
				      " 'enrolment.cohort'"), 3);
	assert_int_equal(audit_verify(f->db, &first_bad, NULL, &err), AT_OK);
}

static void test_courses_programs(void **state)
{
	struct testdb_fx *f = *state;
	struct dashboard_course *c = NULL;
	struct dashboard_program *p = NULL;
	size_t n = 0;

	assert_true(dashboard_is_staff(f->db, TESS, C1));
	assert_false(dashboard_is_staff(f->db, TESS, C2));
	assert_false(dashboard_is_staff(f->db, ADA, C1));
	assert_false(dashboard_is_staff(f->db, 0, C1));
	assert_int_equal(dashboard_courses(f->db, f->a, TESS, &c, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].title, "Course one");
	assert_int_equal(dashboard_courses(f->db, f->a, ADA, &c, &n), AT_OK);
	assert_int_equal(n, 0);
	/* placed in course 1; used in course 2 once someone is enrolled there */
	assert_int_equal(dashboard_programs(f->db, f->a, C1, &p, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].key, "call");
	assert_true(p[0].placed);
	assert_int_equal(p[0].enrolled, 0);
	assert_int_equal(dashboard_programs(f->db, f->a, C2, &p, &n), AT_OK);
	assert_int_equal(n, 0);
	(void)enrol(f, OTTO, C2, 2, MON);
	assert_int_equal(dashboard_programs(f->db, f->a, C2, &p, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].key, "l2");
	assert_false(p[0].placed);
	assert_int_equal(p[0].enrolled, 1);
}

static void test_feedback(void **state)
{
	struct testdb_fx *f = *state;
	struct dashboard_feedback *v = NULL;
	size_t n = 0;
	int64_t ada = enrol(f, ADA, C1, 1, MON);
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO feedback_link (token_hash, enrolment_id, form_key,"
		 " created_by, created_at, expires_at, used_at) VALUES ('h1', %lld, 'students', 4,"
		 " 10, 100, 50), ('h2', %lld, 'students', 4, 20, 200, NULL);"
		 "INSERT INTO feedback_response (link_id, answers, score, created_at) VALUES"
		 " (1, '{\"overall\":4}', 400, 50)", (long long)ada, (long long)ada);
	assert_int_equal(db_exec(f->db, sql), AT_OK);
	assert_int_equal(dashboard_feedback(f->db, f->a, ada, &v, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].created_at, 20);	/* newest first */
	assert_false(v[0].has_response);
	assert_int_equal(v[0].used_at, 0);
	assert_string_equal(v[1].form_key, "students");
	assert_string_equal(v[1].created_by, "Tess Teacher");
	assert_true(v[1].has_response);
	assert_string_equal(v[1].answers, "{\"overall\":4}");
	assert_true(v[1].has_score);
	assert_int_equal(v[1].score, 400);
	assert_int_equal(dashboard_feedback(f->db, f->a, 999, &v, &n), AT_OK);
	assert_int_equal(n, 0);
}

static void rate(struct testdb_fx *f, int64_t user, int64_t comp, int value)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO rating (learner_id, competency_id, rater_id,"
		 " rater_role, value, created_at) VALUES (%lld, %lld, 4, 'assessor', %d, 1)",
		 (long long)user, (long long)comp, value);
	assert_int_equal(db_exec(f->db, sql), AT_OK);
}

static void test_heatmap(void **state)
{
	struct testdb_fx *f = *state;
	struct dashboard_heat h;
	struct at_err err = { "" };
	int64_t ada = enrol(f, ADA, C1, 1, MON), ben = enrol(f, BEN, C1, 1, MON);
	int64_t cat = enrol(f, CAT, C1, 1, MON);

	(void)enrol(f, WES, C1, 1, MON);
	assert_int_equal(db_exec(f->db, "UPDATE enrolment SET status = 'withdrawn' WHERE"
				 " user_id = 8"), AT_OK);
	(void)enrol(f, DAN, C2, 1, MON);	/* another course: not counted */
	assert_int_equal(assign_cohort_set(f->db, ada, "A", TESS, 1, &err), AT_OK);
	assert_int_equal(assign_cohort_set(f->db, ben, "A", TESS, 1, &err), AT_OK);
	(void)cat;	/* no group */
	rate(f, ADA, 1, 1);	/* proficient */
	rate(f, BEN, 1, 0);	/* rated, not proficient */
	rate(f, ADA, 2, 1);
	rate(f, CAT, 2, 1);
	rate(f, DAN, 1, 1);
	assert_int_equal(dashboard_heatmap(f->db, f->a, &PROG, C1, &h), AT_OK);
	assert_int_equal(h.n_groups, 2);
	assert_string_equal(h.groups[0], "");
	assert_string_equal(h.groups[1], "A");
	assert_int_equal(h.learners[0], 1);
	assert_int_equal(h.learners[1], 2);
	assert_int_equal(h.n_comps, 2);
	assert_string_equal(h.comps[0].idnumber, "GREET");
	assert_string_equal(h.comps[1].idnumber, "HOLD");
	/* group A: GREET 1 of 2 proficient (2 rated), HOLD 1 of 2 */
	assert_int_equal(h.rated[1 * 2 + 0], 2);
	assert_int_equal(h.proficient[1 * 2 + 0], 1);
	assert_int_equal(dashboard_share(&h, 1, 0), 5000);
	assert_int_equal(dashboard_share(&h, 1, 1), 5000);
	/* no group: Cat, HOLD only */
	assert_int_equal(dashboard_share(&h, 0, 0), 0);
	assert_int_equal(h.rated[0], 0);
	assert_int_equal(dashboard_share(&h, 0, 1), 10000);
	assert_int_equal(dashboard_share(&h, 5, 0), -1);
	/* nobody enrolled */
	assert_int_equal(dashboard_heatmap(f->db, f->a, &PROG, 99, &h), AT_OK);
	assert_int_equal(h.n_groups, 0);
}

static void test_passrates(void **state)
{
	struct testdb_fx *f = *state;
	struct dashboard_period *v = NULL;
	int64_t ada = enrol(f, ADA, C1, 1, MON - 30 * DAY), o;
	int64_t now = MON + 2 * DAY + 3600;	/* Wednesday 2026-01-07 */

	(void)observe(f, ada, 1, "assessor", 1, MON + 1 * DAY, 0);	/* this week */
	o = observe(f, ada, 1, "assessor", 0, MON + 2 * DAY, 0);
	(void)observe(f, ada, 1, "assessor", 1, MON + 2 * DAY, o);	/* amended to pass */
	(void)observe(f, ada, 1, "self", 0, MON + 2 * DAY, 0);
	(void)observe(f, ada, 1, "assessor", 0, MON - 1 * DAY, 0);	/* Sunday: last week */
	(void)observe(f, ada, 1, "assessor", 1, MON - 7 * DAY, 0);	/* Monday of last week */
	(void)observe(f, ada, 1, "assessor", 1, MON - 20 * DAY, 0);	/* December */
	assert_int_equal(dashboard_passrates(f->db, f->a, 1, C1, false, 3, now, &v), AT_OK);
	assert_string_equal(v[0].label, "2025-12-22");
	assert_string_equal(v[1].start, "2025-12-29");
	assert_string_equal(v[2].label, "2026-01-05");
	assert_int_equal(v[2].total, 2);
	assert_int_equal(v[2].passed, 2);
	assert_int_equal(v[1].total, 2);
	assert_int_equal(v[1].passed, 1);
	assert_int_equal(v[0].total, 0);
	assert_int_equal(dashboard_passrates(f->db, f->a, 1, C1, true, 14, now, &v), AT_OK);
	assert_string_equal(v[0].label, "2024-12");
	assert_string_equal(v[12].label, "2025-12");
	assert_string_equal(v[12].start, "2025-12-01");
	assert_string_equal(v[13].label, "2026-01");
	assert_int_equal(v[13].total, 3);
	assert_int_equal(v[13].passed, 2);
	assert_int_equal(v[12].total, 2);
	assert_int_equal(v[12].passed, 2);
	assert_int_equal(dashboard_passrates(f->db, f->a, 1, C2, true, 2, now, &v), AT_OK);
	assert_int_equal(v[1].total, 0);
	assert_int_equal(dashboard_passrates(f->db, f->a, 1, C1, true, 0, now, &v), AT_BADREQ);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_rows), SQ(test_assign), SQ(test_courses_programs), SQ(test_feedback),
		SQ(test_heatmap), SQ(test_passrates),
	};
	const struct CMUnitTest pg[] = {
		PG(test_rows), PG(test_assign), PG(test_courses_programs), PG(test_feedback),
		PG(test_heatmap), PG(test_passrates),
	};
	return TESTDB_RUN("dashboard", sqlite, pg);
}
