/* test_enrolment.c: enrolments — create (members only, one per program and learner,
 * audited, nothing stored on failure), get, lists per learner and course, status, who may
 * manage, and the record-of-learning queries; on SQLite and PostgreSQL (ATTEST_TEST_PG,
 * each test in its own schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/enrolment.h"
#include "tests/unit/support/testdb.h"

enum { ZOE = 1, BOB = 2, TEACH = 3, OUTSIDER = 4, ADMIN = 5, TEACH2 = 6,
       C1 = 1, C2 = 2 };

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, given_name, family_name, created_at,"
	" updated_at) VALUES (1, 'z', 'Zoe Agent', '', '', 1, 1),"
	" (1, 'b', '', 'Bob', 'Baker', 1, 1), (1, 't', 'Tess Teacher', '', '', 1, 1),"
	" (1, 'o', 'Otto Outsider', '', '', 1, 1), (1, 'a', 'Ada Admin', '', '', 1, 1),"
	" (1, 't2', 'Tom Teacher', '', '', 1, 1);"
	"INSERT INTO context (platform_id, context_id, title, created_at, updated_at) VALUES"
	" (1, 'c1', 'Course one', 1, 1), (1, 'c2', 'Course two', 1, 1);"
	"INSERT INTO membership (user_id, context_id, role, updated_at) VALUES"
	" (1, 1, 1, 1), (2, 1, 1, 1), (3, 1, 2, 1), (5, 1, 4, 1), (4, 2, 1, 1), (6, 2, 2, 1);"
	"INSERT INTO program (key, title, definition, created_at, updated_at) VALUES"
	" ('call', 'Call certification', '{}', 1, 1), ('l2', 'Level Two', '{}', 1, 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "enrolment", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "enrolment", true, SEED); }

static void test_create(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct enrolment e;
	int64_t id = 0, id2 = 0, bad = 7, first_bad = 0;

	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 1000, &id, &err), AT_OK);
	assert_true(id > 0);
	assert_int_equal(enrolment_get(f->db, f->a, id, &e), AT_OK);
	assert_int_equal(e.user_id, ZOE);
	assert_int_equal(e.context_id, C1);
	assert_string_equal(e.program_key, "call");
	assert_string_equal(e.program_title, "Call certification");
	assert_string_equal(e.learner_name, "Zoe Agent");
	assert_string_equal(e.status, "active");
	assert_int_equal(e.started_at, 1000);
	assert_int_equal(e.completed_at, 0);
	/* audited in the same transaction, and the chain holds */
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM audit WHERE action = "
				      "'enrolment.create' AND entity = 'enrolment'"), 1);
	assert_int_equal(audit_verify(f->db, &first_bad, NULL, &err), AT_OK);

	/* one per program and learner, whatever the course */
	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 1001, &bad, &err),
			 AT_CONFLICT);
	assert_int_equal(bad, 0);
	/* the learner must be a member of the course */
	assert_int_equal(enrolment_create(f->db, "call", OUTSIDER, C1, TEACH, 1, &bad, &err),
			 AT_BADREQ);
	assert_string_equal(err.msg, "learner");
	assert_int_equal(enrolment_create(f->db, "nope", BOB, C1, TEACH, 1, &bad, &err),
			 AT_NOTFOUND);
	assert_string_equal(err.msg, "program");
	assert_int_equal(enrolment_create(f->db, "", BOB, C1, TEACH, 1, &bad, &err),
			 AT_NOTFOUND);
	assert_int_equal(enrolment_create(f->db, "call", 999, C1, TEACH, 1, &bad, &err),
			 AT_BADREQ);
	/* nothing partial: one enrolment, one audit row */
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM enrolment"), 1);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM audit"), 1);
	/* the same learner in another program */
	assert_int_equal(enrolment_create(f->db, "l2", ZOE, C1, ZOE, 1002, &id2, &err), AT_OK);
	assert_true(id2 != id);
	assert_int_equal(enrolment_get(f->db, f->a, 12345, &e), AT_NOTFOUND);
}

static void test_lists(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct enrolment *v = NULL;
	size_t n = 0;
	int64_t zc = 0, bc = 0, zl = 0, oc = 0;

	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 10, &zc, &err), AT_OK);
	assert_int_equal(enrolment_create(f->db, "call", BOB, C1, TEACH, 11, &bc, &err), AT_OK);
	assert_int_equal(enrolment_create(f->db, "l2", ZOE, C1, TEACH, 12, &zl, &err), AT_OK);
	assert_int_equal(enrolment_create(f->db, "call", OUTSIDER, C2, TEACH2, 13, &oc, &err),
			 AT_OK);

	assert_int_equal(enrolment_list_learner(f->db, f->a, ZOE, &v, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].program_key, "call");
	assert_string_equal(v[1].program_key, "l2");
	assert_int_equal(enrolment_list_learner(f->db, f->a, TEACH, &v, &n), AT_OK);
	assert_int_equal(n, 0);

	/* by learner name: "Bob Baker" (given + family) before "Zoe Agent" */
	assert_int_equal(enrolment_list_context(f->db, f->a, C1, 0, &v, &n), AT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, bc);
	assert_string_equal(v[0].learner_name, "Bob Baker");
	assert_int_equal(enrolment_list_context(f->db, f->a, C1, 1, &v, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, bc);
	assert_int_equal(v[1].id, zc);
	assert_int_equal(enrolment_list_context(f->db, f->a, C2, 0, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, oc);
}

static void test_manage(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct enrolment e;
	int64_t id = 0;

	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 10, &id, &err), AT_OK);
	assert_int_equal(enrolment_get(f->db, f->a, id, &e), AT_OK);
	assert_true(enrolment_may_manage(f->db, &e, TEACH));
	assert_true(enrolment_may_manage(f->db, &e, ADMIN));
	assert_false(enrolment_may_manage(f->db, &e, ZOE));	/* the learner */
	assert_false(enrolment_may_manage(f->db, &e, BOB));	/* another learner */
	assert_false(enrolment_may_manage(f->db, &e, TEACH2));	/* another course's assessor */
	assert_false(enrolment_may_manage(f->db, &e, 999));
	assert_false(enrolment_may_manage(f->db, NULL, TEACH));
	assert_true(enrolment_is_member(f->db, BOB, C1));
	assert_false(enrolment_is_member(f->db, OUTSIDER, C1));
	/* a course that is gone leaves nobody in charge */
	e.context_id = 0;
	assert_false(enrolment_may_manage(f->db, &e, TEACH));
}

/* Self-enrolment offers: the programs placed in a course (deep linking), each once. */
static void test_offers(void **state)
{
	struct testdb_fx *f = *state;
	struct enrolment_offer *v = NULL;
	size_t n = 9;

	assert_int_equal(enrolment_offers(f->db, f->a, C1, &v, &n), AT_OK);
	assert_int_equal(n, 0);
	assert_false(enrolment_offered(f->db, "call", C1));
	/* the program placed twice in course one (itself and again), the other in course two */
	assert_int_equal(db_exec(f->db, "INSERT INTO placement (context_id, program_id,"
		" resource_id, created_at) VALUES (1, 2, 'r1', 1), (1, 2, 'r2', 1),"
		" (2, 1, 'r3', 1)"), AT_OK);
	assert_int_equal(enrolment_offers(f->db, f->a, C1, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, "l2");
	assert_string_equal(v[0].title, "Level Two");
	assert_true(enrolment_offered(f->db, "l2", C1));
	assert_false(enrolment_offered(f->db, "call", C1));	/* placed in course two only */
	assert_true(enrolment_offered(f->db, "call", C2));
	assert_false(enrolment_offered(f->db, "nope", C1));
	assert_false(enrolment_offered(f->db, NULL, C1));
	assert_false(enrolment_offered(f->db, "l2", 0));
}

static void test_status(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct enrolment e;
	int64_t id = 0;

	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 10, &id, &err), AT_OK);
	assert_int_equal(enrolment_set_status(f->db, id, "completed", TEACH, 500, &err), AT_OK);
	assert_int_equal(enrolment_get(f->db, f->a, id, &e), AT_OK);
	assert_string_equal(e.status, "completed");
	assert_int_equal(e.completed_at, 500);
	/* completing again keeps the first date */
	assert_int_equal(enrolment_set_status(f->db, id, "completed", TEACH, 600, &err), AT_OK);
	assert_int_equal(enrolment_get(f->db, f->a, id, &e), AT_OK);
	assert_int_equal(e.completed_at, 500);
	assert_int_equal(enrolment_set_status(f->db, id, "active", TEACH, 700, &err), AT_OK);
	assert_int_equal(enrolment_get(f->db, f->a, id, &e), AT_OK);
	assert_int_equal(e.completed_at, 0);
	assert_int_equal(enrolment_set_status(f->db, id, "done", TEACH, 1, &err), AT_BADREQ);
	assert_int_equal(enrolment_set_status(f->db, id, NULL, TEACH, 1, &err), AT_BADREQ);
	assert_int_equal(enrolment_set_status(f->db, 999, "active", TEACH, 1, &err), AT_NOTFOUND);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM audit WHERE action = "
				      "'enrolment.status'"), 3);
}

static const char SEED_RECORD[] =
	"INSERT INTO checklist (program_id, key, title, definition) VALUES (1, 'call', 'Call', '{}');"
	"INSERT INTO observation (enrolment_id, checklist_id, assessor_id, status, score,"
	" max_score, passed, observed_at, created_at, updated_at, submitted_at) VALUES"
	" (1, 1, 3, 'submitted', 8400, 10000, 0, 200, 200, 200, 200),"
	" (1, 1, 3, 'submitted', 9000, 10000, 1, 100, 100, 100, 100),"
	" (1, 1, 3, 'draft', 0, 0, 0, 300, 300, 300, NULL);"
	"INSERT INTO observation (enrolment_id, checklist_id, assessor_id, status, score,"
	" max_score, passed, amends_id, amend_reason, observed_at, created_at, updated_at,"
	" submitted_at) VALUES"
	" (1, 1, 3, 'submitted', 8600, 10000, 1, 1, 'mis-scored item', 200, 400, 400, 400);"
	"INSERT INTO decision (enrolment_id, proposed_outcome, basis, proposed_at, status)"
	" VALUES (1, 'fail', '{}', 10, 'superseded'), (1, 'pass', '{}', 20, 'proposed');";

static void test_record(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct enrolment_obs *o = NULL;
	int64_t *d = NULL, id = 0;
	size_t n = 0;

	assert_int_equal(enrolment_create(f->db, "call", ZOE, C1, TEACH, 10, &id, &err), AT_OK);
	assert_int_equal(id, 1);
	assert_int_equal(db_exec(f->db, SEED_RECORD), AT_OK);
	assert_int_equal(enrolment_observations(f->db, f->a, id, &o, &n), AT_OK);
	assert_int_equal(n, 3);		/* the draft is left out */
	assert_int_equal(o[0].id, 2);	/* oldest observed first */
	assert_true(o[0].passed);
	assert_int_equal(o[1].id, 1);
	assert_int_equal(o[1].superseded_by, 4);
	assert_int_equal(o[2].id, 4);
	assert_int_equal(o[2].amends_id, 1);
	assert_string_equal(o[2].amend_reason, "mis-scored item");
	assert_string_equal(o[2].checklist, "call");
	assert_string_equal(o[2].assessor, "Tess Teacher");
	assert_string_equal(o[2].rater_role, "assessor");
	assert_int_equal(o[2].score, 8600);
	assert_int_equal(enrolment_decision_ids(f->db, f->a, id, &d, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_true(d[0] < d[1]);
	assert_int_equal(enrolment_decision_ids(f->db, f->a, 999, &d, &n), AT_OK);
	assert_int_equal(n, 0);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_create), SQ(test_lists), SQ(test_manage), SQ(test_offers), SQ(test_status),
		SQ(test_record),
	};
	const struct CMUnitTest pg[] = {
		PG(test_create), PG(test_lists), PG(test_manage), PG(test_offers), PG(test_status),
		PG(test_record),
	};
	return TESTDB_RUN("enrolment", sqlite, pg);
}
