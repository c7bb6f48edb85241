/* test_worklist.c: an assessor's worklist — who is listed (enrolled, active members of the
 * course only), assignment order and the "mine" filter, drafts, pending evidence,
 * self-evaluations to compare, feedback, effective observations (amendments replace the
 * original) — and the rating scales of a checklist; on SQLite and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/worklist.h"
#include "tests/unit/support/testdb.h"

enum { ZOE = 1, BOB = 2, TESS = 3, TOM = 4, LEE = 5, OTTO = 6 };

/* Course 1: learners Zoe, Bob and Lee (Lee's membership is inactive), assessors Tess and
 * Tom; course 2: learner Otto. Bob is assigned to Tom. */
static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (id, platform_id, sub, name, given_name, family_name, created_at,"
	" updated_at) VALUES (1, 1, 'z', 'Zoe Agent', '', '', 1, 1),"
	" (2, 1, 'b', '', 'Bob', 'Baker', 1, 1), (3, 1, 't', 'Tess Teacher', '', '', 1, 1),"
	" (4, 1, 't2', 'Tom Teacher', '', '', 1, 1), (5, 1, 'l', 'Lee Left', '', '', 1, 1),"
	" (6, 1, 'o', 'Otto Other', '', '', 1, 1);"
	"INSERT INTO context (id, platform_id, context_id, title, created_at, updated_at) VALUES"
	" (1, 1, 'c1', 'Course one', 1, 1), (2, 1, 'c2', 'Course two', 1, 1);"
	"INSERT INTO membership (user_id, context_id, role, active, updated_at) VALUES"
	" (1, 1, 1, 1, 1), (2, 1, 1, 1, 1), (3, 1, 2, 1, 1), (4, 1, 2, 1, 1), (5, 1, 1, 0, 1),"
	" (6, 2, 1, 1, 1);"
	"INSERT INTO framework (id, idnumber, shortname, scale, created_at, updated_at) VALUES"
	" (1, 'fw', 'FW', '[{\"name\":\"not yet\",\"proficient\":false},"
	"{\"name\":\"with supervision\",\"proficient\":false},"
	"{\"name\":\"competent\",\"proficient\":true,\"default\":true},"
	"{\"name\":\"expert\",\"proficient\":true}]', 1, 1),"
	" (2, 'fw2', 'FW2', '[{\"name\":\"no\",\"proficient\":false},"
	"{\"name\":\"yes\",\"proficient\":true}]', 1, 1);"
	"INSERT INTO competency (id, framework_id, idnumber, shortname) VALUES"
	" (1, 1, 'c1', 'C1'), (2, 1, 'c2', 'C2'), (3, 2, 'd1', 'D1');"
	"INSERT INTO program (id, key, title, definition, created_at, updated_at) VALUES"
	" (1, 'call', 'Call certification', '{}', 1, 1);"
	"INSERT INTO checklist (id, program_id, key, title, pass_mark, max_score, definition)"
	" VALUES (1, 1, 'call', 'Call', 8500, 10000, '{\"description\":\"One call\","
	"\"feedback\":[{\"key\":\"went_well\",\"label\":\"What went well\",\"help\":\"Be kind\","
	"\"required\":true},{\"key\":\"improve\"},{\"label\":\"no key\"}]}'),"
	" (2, 1, 'other', 'Other', 0, 0, '{\"raters\":[\"self\"]}');"
	"INSERT INTO checklist_item (id, checklist_id, key, position, kind, label, weight,"
	" max_points, critical, required) VALUES"
	" (1, 1, 'greet', 1, 'yesno', 'Greets', 100, 0, 1, 1),"
	" (2, 1, 'listen', 3, 'rating', 'Listens', 100, 0, 0, 1),"
	" (3, 1, 'tone', 2, 'rating', 'Tone', 100, 0, 0, 1),"
	" (4, 1, 'unlinked', 4, 'rating', 'No competency', 100, 0, 0, 0),"
	" (5, 2, 'else', 1, 'rating', 'Elsewhere', 100, 0, 0, 1);"
	"INSERT INTO item_competency (item_id, competency_id) VALUES"
	" (1, 1), (2, 3), (2, 1), (3, 2), (5, 2);"
	"INSERT INTO enrolment (id, program_id, user_id, context_id, started_at) VALUES"
	" (1, 1, 1, 1, 10), (2, 1, 2, 1, 20), (3, 1, 5, 1, 30), (4, 1, 6, 2, 40);"
	"INSERT INTO enrolment_assessor (enrolment_id, assessor_id, created_at) VALUES (2, 4, 1);";

/* Zoe: an observation by Tess amended (the amendment stands: 80, not passed), a later self-
 * evaluation nobody followed, Tess's draft, Tom's draft; evidence she uploaded (pending),
 * evidence Tess uploaded for her (pending), accepted evidence; one feedback response.
 * Bob: a self-evaluation followed by Tom's passing observation. */
static const char SEED_WORK[] =
	"INSERT INTO observation (id, enrolment_id, checklist_id, assessor_id, rater_role,"
	" status, score, max_score, passed, amends_id, observed_at, created_at, updated_at,"
	" submitted_at) VALUES"
	" (1, 1, 1, 3, 'assessor', 'submitted', 9000, 10000, 1, NULL, 100, 100, 100, 100),"
	" (2, 1, 1, 3, 'assessor', 'submitted', 8000, 10000, 0, 1, 100, 150, 200, 200),"
	" (3, 1, 1, 1, 'self', 'submitted', 7000, 10000, 0, NULL, 300, 300, 300, 300),"
	" (4, 1, 1, 3, 'assessor', 'draft', 0, 0, 0, NULL, 400, 400, 400, NULL),"
	" (5, 1, 1, 4, 'assessor', 'draft', 0, 0, 0, NULL, 400, 400, 400, NULL),"
	" (6, 2, 1, 2, 'self', 'submitted', 5000, 10000, 0, NULL, 50, 50, 50, 50),"
	" (7, 2, 1, 4, 'assessor', 'submitted', 9500, 10000, 1, NULL, 60, 60, 60, 60),"
	" (8, 1, 1, 3, 'assessor', 'draft', 0, 0, 0, NULL, 500, 500, 500, NULL);"
	"INSERT INTO evidence (id, learner_id, kind, uploaded_by, status, created_at) VALUES"
	" (1, 1, 'note', 1, 'pending', 1), (2, 1, 'note', 3, 'pending', 2),"
	" (3, 1, 'note', 1, 'accepted', 3), (4, 1, 'note', 1, 'pending', 4);"
	"INSERT INTO feedback_link (id, token_hash, enrolment_id, form_key, created_by,"
	" created_at, expires_at) VALUES (1, 'h1', 1, 'f', 3, 1, 9), (2, 'h2', 1, 'f', 3, 1, 9);"
	"INSERT INTO feedback_response (link_id, answers, score, created_at)"
	" VALUES (1, '{}', 400, 5);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "worklist", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "worklist", true, SEED); }

static void test_who_and_order(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct worklist_row *v;
	size_t n;

	/* Tess: nobody assigned to her; by name (Bob Baker from given + family name) */
	assert_int_equal(worklist_list(f->db, f->a, 1, TESS, false, &v, &n, &err), AT_OK);
	assert_int_equal(n, 2);		/* Lee's membership is inactive; Otto is elsewhere */
	assert_string_equal(v[0].learner_name, "Bob Baker");
	assert_int_equal(v[0].enrolment_id, 2);
	assert_int_equal(v[0].assignees, 1);
	assert_false(v[0].assigned_to_me);
	assert_string_equal(v[1].learner_name, "Zoe Agent");
	assert_int_equal(v[1].assignees, 0);
	assert_string_equal(v[1].program_key, "call");
	assert_string_equal(v[1].program_title, "Call certification");
	assert_string_equal(v[1].status, "active");
	assert_int_equal(v[1].started_at, 10);
	assert_int_equal(v[1].learner_id, ZOE);
	/* only hers: none */
	assert_int_equal(worklist_list(f->db, f->a, 1, TESS, true, &v, &n, &err), AT_OK);
	assert_int_equal(n, 0);

	/* Tom: Bob is assigned to him, so Bob comes first whatever the name */
	assert_int_equal(db_exec(f->db, "UPDATE app_user SET given_name = 'Zz' WHERE id = 2"),
			 AT_OK);
	assert_int_equal(worklist_list(f->db, f->a, 1, TOM, false, &v, &n, &err), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].learner_id, BOB);
	assert_true(v[0].assigned_to_me);
	assert_int_equal(v[1].learner_id, ZOE);
	assert_int_equal(worklist_list(f->db, f->a, 1, TOM, true, &v, &n, &err), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].learner_id, BOB);

	/* course 2 */
	assert_int_equal(worklist_list(f->db, f->a, 2, TESS, false, &v, &n, &err), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].learner_id, OTTO);
	assert_int_equal(v[0].observations, 0);
	assert_int_equal(v[0].last_id, 0);
	/* no such course */
	assert_int_equal(worklist_list(f->db, f->a, 99, TESS, false, &v, &n, &err), AT_OK);
	assert_int_equal(n, 0);
}

static void test_waiting(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct worklist_row *v, *zoe, *bob;
	size_t n;

	assert_int_equal(db_exec(f->db, SEED_WORK), AT_OK);
	assert_int_equal(worklist_list(f->db, f->a, 1, TESS, false, &v, &n, &err), AT_OK);
	assert_int_equal(n, 2);
	bob = &v[0];
	zoe = &v[1];
	/* Zoe, for Tess */
	assert_int_equal(zoe->drafts, 2);		/* 4 and 8 (Tom's 5 is not hers) */
	assert_int_equal(zoe->draft_id, 8);
	assert_int_equal(zoe->evidence, 2);		/* 1 and 4: 2 is Tess's own upload */
	assert_int_equal(zoe->evidence_id, 1);
	assert_int_equal(zoe->self_new, 1);
	assert_int_equal(zoe->self_id, 3);
	assert_int_equal(zoe->feedback, 1);
	assert_int_equal(zoe->observations, 1);		/* 1 is replaced by its amendment */
	assert_int_equal(zoe->passed, 0);
	assert_int_equal(zoe->last_id, 2);
	assert_int_equal(zoe->last_score, 8000);
	assert_int_equal(zoe->last_max_score, 10000);
	assert_false(zoe->last_passed);
	/* Bob: his self-evaluation was followed by Tom's observation */
	assert_int_equal(bob->self_new, 0);
	assert_int_equal(bob->self_id, 0);
	assert_int_equal(bob->drafts, 0);
	assert_int_equal(bob->observations, 1);
	assert_int_equal(bob->passed, 1);
	assert_int_equal(bob->last_id, 7);
	assert_true(bob->last_passed);

	/* Zoe, for Tom: his draft, all three pending pieces of evidence */
	assert_int_equal(worklist_list(f->db, f->a, 1, TOM, false, &v, &n, &err), AT_OK);
	zoe = &v[1];
	assert_int_equal(zoe->drafts, 1);
	assert_int_equal(zoe->draft_id, 5);
	assert_int_equal(zoe->evidence, 3);

	/* an assessor observation after the self-evaluation: nothing new to compare; the
	 * draft submitted leaves the drafts */
	assert_int_equal(db_exec(f->db, "UPDATE observation SET status = 'submitted',"
				 " submitted_at = 600, passed = 1, score = 9900, observed_at = 600"
				 " WHERE id = 8"), AT_OK);
	assert_int_equal(worklist_list(f->db, f->a, 1, TESS, false, &v, &n, &err), AT_OK);
	zoe = &v[1];
	assert_int_equal(zoe->self_new, 0);
	assert_int_equal(zoe->drafts, 1);
	assert_int_equal(zoe->draft_id, 4);
	assert_int_equal(zoe->observations, 2);
	assert_int_equal(zoe->passed, 1);
	assert_int_equal(zoe->last_id, 8);
	assert_int_equal(zoe->last_score, 9900);
	assert_true(zoe->last_passed);
}

static void test_scales(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct worklist_scale *s;
	size_t n;

	assert_int_equal(worklist_scales(f->db, f->a, 1, &s, &n, &err), AT_OK);
	assert_int_equal(n, 2);		/* greet is yes/no; unlinked has no competency */
	assert_string_equal(s[0].item_key, "tone");	/* position 2 before position 3 */
	assert_int_equal(s[0].scale.n, 4);
	assert_string_equal(s[0].scale.names[2], "competent");
	assert_int_equal(s[0].proficient_from, 2);
	/* listen links d1 (fw2) and c1 (fw): scored on c1's scale (lowest competency id), and
	 * below c1's first proficient value is a miss */
	assert_string_equal(s[1].item_key, "listen");
	assert_int_equal(s[1].scale.n, 4);
	assert_int_equal(s[1].scale.framework_id, 1);
	assert_int_equal(s[1].proficient_from, 2);
	assert_int_equal(worklist_scales(f->db, f->a, 2, &s, &n, &err), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(worklist_scales(f->db, f->a, 99, &s, &n, &err), AT_OK);
	assert_int_equal(n, 0);
	/* a broken stored scale is an error, not a guess */
	assert_int_equal(db_exec(f->db, "UPDATE framework SET scale = 'nope' WHERE id = 1"),
			 AT_OK);
	assert_int_equal(worklist_scales(f->db, f->a, 1, &s, &n, &err), AT_BADREQ);
}

static void test_checklist(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct worklist_checklist c, *v;
	size_t n;

	assert_int_equal(worklist_checklist(f->db, f->a, 1, &c, &err), AT_OK);
	assert_string_equal(c.key, "call");
	assert_string_equal(c.title, "Call");
	assert_string_equal(c.description, "One call");
	assert_int_equal(c.pass_mark, 8500);
	assert_int_equal(c.max_score, 10000);
	assert_true(c.by_assessor);
	assert_false(c.by_self);
	assert_int_equal(c.nitems, 4);
	assert_string_equal(c.items[0].key, "greet");
	assert_true(c.items[0].critical);
	assert_false(c.items[0].has_scale);
	assert_string_equal(c.items[1].key, "tone");
	assert_true(c.items[1].has_scale);
	assert_int_equal(c.items[1].scale.n, 4);
	assert_string_equal(c.items[3].key, "unlinked");
	assert_false(c.items[3].has_scale);
	assert_false(c.items[3].required);
	assert_int_equal(c.nfields, 2);		/* the entry without a key is skipped */
	assert_string_equal(c.fields[0].label, "What went well");
	assert_string_equal(c.fields[0].help, "Be kind");
	assert_true(c.fields[0].required);
	assert_string_equal(c.fields[1].label, "improve");	/* no label: the key */
	assert_false(c.fields[1].required);
	assert_int_equal(worklist_checklist(f->db, f->a, 2, &c, &err), AT_OK);
	assert_int_equal(c.max_score, 10000);	/* 0 in storage reads as 100 */
	assert_false(c.by_assessor);
	assert_true(c.by_self);
	assert_int_equal(worklist_checklist(f->db, f->a, 99, &c, &err), AT_NOTFOUND);
	assert_int_equal(worklist_checklists(f->db, f->a, 1, &v, &n, &err), AT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].key, "call");
	assert_string_equal(v[1].key, "other");
	assert_int_equal(v[1].nitems, 0);
	assert_int_equal(db_exec(f->db, "UPDATE checklist SET definition = '[1]' WHERE id = 2"),
			 AT_OK);
	assert_int_equal(worklist_checklist(f->db, f->a, 2, &c, &err), AT_BADREQ);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_who_and_order), SQ(test_waiting), SQ(test_scales), SQ(test_checklist),
	};
	const struct CMUnitTest pg[] = {
		PG(test_who_and_order), PG(test_waiting), PG(test_scales), PG(test_checklist),
	};
	return TESTDB_RUN("worklist", sqlite, pg);
}
