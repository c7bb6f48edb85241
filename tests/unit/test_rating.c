/* test_rating.c: per-rater ratings and the reconciliation policies (table-driven), value
 * checks against the framework scale, history with the evidence behind each rating, on
 * both backends. PostgreSQL runs when ATTEST_TEST_PG is set. */
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
#include "core/rating.h"
#include "tests/unit/support/testdb.h"

/* Scale 0..3 (2 and 3 proficient); competencies 1 and 10..29; learner 1, raters 2, 3, 4. */
static const char SEED[] =
	"INSERT INTO platform (id, issuer, client_id, auth_endpoint, jwks_uri, created_at)"
	" VALUES (1, 'https://lms.test', 'c', 'https://lms.test/a', 'https://lms.test/j', 1);"
	"INSERT INTO app_user (id, platform_id, sub, created_at, updated_at) VALUES"
	" (1, 1, 'learner', 1, 1), (2, 1, 'assessor', 1, 1), (3, 1, 'second', 1, 1),"
	" (4, 1, 'expert', 1, 1);"
	"INSERT INTO framework (id, idnumber, shortname, scale, created_at, updated_at) VALUES"
	" (1, 'fw', 'FW', '[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":\"3\",\"proficient\":true,"
	"\"default\":true},{\"name\":\"4\",\"proficient\":true}]', 1, 1),"
	" (2, 'bad', 'Bad', 'not json', 1, 1);"
	"INSERT INTO competency (id, framework_id, idnumber, shortname) VALUES"
	" (1, 1, 'c1', 'C1'), (2, 2, 'c2', 'C2');"
	"INSERT INTO program (id, key, title, definition, created_at, updated_at) VALUES"
	" (1, 'p1', 'P1', '{\"reconciliation\":\"agree_within_one\"}', 1, 1),"
	" (2, 'p2', 'P2', '{}', 1, 1), (3, 'p3', 'P3', '{\"reconciliation\":\"vote\"}', 1, 1);"
	"INSERT INTO checklist (id, program_id, key, title, definition) VALUES"
	" (1, 1, 'k', 'K', '{}');"
	"INSERT INTO enrolment (id, program_id, user_id, started_at) VALUES (1, 1, 1, 1);"
	"INSERT INTO observation (id, enrolment_id, checklist_id, assessor_id, observed_at,"
	" created_at, updated_at) VALUES (1, 1, 1, 2, 1, 1, 1);"
	"INSERT INTO evidence (id, learner_id, kind, uploaded_by, created_at, observation_id)"
	" VALUES (1, 1, 'note', 1, 1, 1), (2, 1, 'link', 1, 1, NULL), (3, 1, 'link', 1, 1, NULL);"
	"INSERT INTO evidence_competency (evidence_id, competency_id) VALUES (2, 1);";

static int setup(void **state, bool pg)
{
	struct testdb_fx *f;
	char sql[256];

	testdb_fx_setup(state, "rating", pg, SEED);
	f = *state;
	for (int c = 10; c < 30; c++) {
		snprintf(sql, sizeof(sql), "INSERT INTO competency (id, framework_id, idnumber,"
			 " shortname) VALUES (%d, 1, 'c%d', 'C%d')", c, c, c);
		assert_int_equal(db_exec(f->db, sql), AT_OK);
	}
	return 0;
}

static int setup_sqlite(void **state) { return setup(state, false); }
static int setup_pg(void **state) { return setup(state, true); }

static enum at_rc record(struct testdb_fx *f, int64_t comp, const char *role, int64_t value,
			 int64_t now, struct at_err *err)
{
	static const struct { const char *role; int64_t rater; } raters[] = {
		{ "assessor", 2 }, { "second", 3 }, { "expert", 4 }, { "self", 1 },
	};
	struct rating_in in = { .learner_id = 1, .competency_id = comp, .rater_id = 2,
				.rater_role = role, .value = value, .program_id = 1 };
	enum at_rc rc;

	for (size_t i = 0; i < NELEM(raters); i++)
		if (strcmp(role, raters[i].role) == 0)
			in.rater_id = raters[i].rater;
	assert_int_equal(db_begin(f->db), AT_OK);
	rc = rating_record(f->db, &in, now, NULL, err);
	if (rc == AT_OK)
		assert_int_equal(db_commit(f->db), AT_OK);
	else
		db_rollback(f->db);
	return rc;
}

struct given {
	const char *role;
	int64_t value;
};

struct want {
	int64_t value;
	int flags;
};

struct rec_case {
	const char *name;
	struct given in[5];		/* oldest first */
	struct want w[4];		/* assessor_wins, minimum, mean, agree_within_one */
};

#define R RATING_FLAG_REVIEW
#define S RATING_FLAG_SELF_ONLY

static const struct rec_case rec_cases[] = {
	{ "assessor 3, self 1: flagged, the lower level stands", { { "assessor", 3 }, { "self", 1 } },
	  { { 3, 0 }, { 1, 0 }, { 2, 0 }, { 1, R } } },
	{ "assessor 2, self 3 (mean rounds down)", { { "assessor", 2 }, { "self", 3 } },
	  { { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 } } },
	{ "self only", { { "self", 2 } },
	  { { 2, S }, { 2, S }, { 2, S }, { 2, S } } },
	{ "assessor only", { { "assessor", 1 } },
	  { { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 } } },
	{ "expert beats second without an assessor", { { "expert", 3 }, { "second", 1 } },
	  { { 3, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 } } },
	{ "assessor beats expert; self within one", { { "assessor", 1 }, { "expert", 3 },
						      { "self", 0 } },
	  { { 1, 0 }, { 0, 0 }, { 1, 0 }, { 1, 0 } } },
	{ "only each role's latest counts", { { "assessor", 0 }, { "self", 0 },
					       { "assessor", 3 }, { "self", 3 } },
	  { { 3, 0 }, { 3, 0 }, { 3, 0 }, { 3, 0 } } },
	{ "assessor 0, self 2: flagged", { { "assessor", 0 }, { "self", 2 } },
	  { { 0, 0 }, { 0, 0 }, { 1, 0 }, { 0, R } } },
	{ "second 3, self 1: flagged against the second assessor",
	  { { "second", 3 }, { "self", 1 } },
	  { { 3, 0 }, { 1, 0 }, { 2, 0 }, { 1, R } } },
	{ "four roles", { { "assessor", 2 }, { "second", 3 }, { "expert", 3 }, { "self", 1 } },
	  { { 2, 0 }, { 1, 0 }, { 2, 0 }, { 2, 0 } } },
};

static void test_reconcile(void **state)
{
	struct testdb_fx *f = *state;
	static const enum rating_policy pol[] = { RATING_ASSESSOR_WINS, RATING_MINIMUM,
						  RATING_MEAN, RATING_AGREE_WITHIN_ONE };
	struct at_err err = { "" };

	for (size_t c = 0; c < NELEM(rec_cases); c++) {
		int64_t comp = 10 + (int64_t)c;

		for (size_t i = 0; i < 5 && rec_cases[c].in[i].role; i++)
			if (record(f, comp, rec_cases[c].in[i].role, rec_cases[c].in[i].value,
				   100 + (int64_t)i, &err) != AT_OK)
				fail_msg("%s: %s", rec_cases[c].name, err.msg);
		for (size_t p = 0; p < NELEM(pol); p++) {
			int64_t v = -1;
			int flags = -1;
			const char *how = NULL;

			assert_int_equal(rating_current(f->db, 1, comp, pol[p], &v, &flags), AT_OK);
			if (v != rec_cases[c].w[p].value || flags != rec_cases[c].w[p].flags)
				fail_msg("%s / %s: got %lld flags %d, want %lld flags %d",
					 rec_cases[c].name, rating_policy_name(pol[p]), (long long)v,
					 flags, (long long)rec_cases[c].w[p].value,
					 rec_cases[c].w[p].flags);
			assert_int_equal(rating_current_explain(f->db, f->a, 1, comp, pol[p], &v,
								&flags, &how), AT_OK);
			assert_non_null(strstr(how, rating_policy_name(pol[p])));
		}
	}
}

static void test_record_checks(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct rating_row *rows;
	size_t n;
	int64_t v;
	int flags;
	enum rating_policy p;
	struct rating_in in = { .learner_id = 1, .competency_id = 1, .rater_id = 2,
				.rater_role = "assessor", .value = 2, .observation_id = 1,
				.program_id = 1, .note = "observation 1: greet" };
	int64_t id = 0;

	assert_int_equal(rating_current(f->db, 1, 1, RATING_MEAN, &v, &flags), AT_NOTFOUND);
	assert_int_equal(record(f, 1, "assessor", 4, 1, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "scale"));
	assert_int_equal(record(f, 1, "assessor", -1, 1, &err), AT_BADREQ);
	assert_int_equal(record(f, 1, "manager", 1, 1, &err), AT_BADREQ);
	assert_int_equal(record(f, 99, "assessor", 1, 1, &err), AT_NOTFOUND);
	assert_int_equal(record(f, 2, "assessor", 1, 1, &err), AT_BADREQ);	/* broken scale */
	assert_int_equal(db_begin(f->db), AT_OK);
	assert_int_equal(rating_record(f->db, &in, 5, &id, &err), AT_OK);
	assert_int_equal(db_commit(f->db), AT_OK);
	assert_true(id > 0);
	assert_int_equal(record(f, 1, "self", 3, 6, &err), AT_OK);
	/* every rater kept, oldest first, with the evidence behind it */
	assert_int_equal(rating_history(f->db, f->a, 1, 1, &rows, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, id);
	assert_string_equal(rows[0].rater_role, "assessor");
	assert_int_equal(rows[0].observation_id, 1);
	assert_string_equal(rows[0].note, "observation 1: greet");
	assert_int_equal(rows[0].nevidence, 2);	/* on the observation, and for C1 */
	assert_int_equal(rows[0].evidence_ids[0], 1);
	assert_int_equal(rows[0].evidence_ids[1], 2);
	assert_string_equal(rows[1].rater_role, "self");
	assert_int_equal(rows[1].nevidence, 1);
	/* policy names and program policies */
	assert_int_equal(rating_policy_parse("mean", &p), AT_OK);
	assert_int_equal(p, RATING_MEAN);
	assert_int_equal(rating_policy_parse(NULL, &p), AT_OK);
	assert_int_equal(p, RATING_ASSESSOR_WINS);
	assert_int_equal(rating_policy_parse("average", &p), AT_BADREQ);
	assert_int_equal(rating_policy_of_program(f->db, 1, &p, &err), AT_OK);
	assert_int_equal(p, RATING_AGREE_WITHIN_ONE);
	assert_int_equal(rating_policy_of_program(f->db, 2, &p, &err), AT_OK);
	assert_int_equal(p, RATING_ASSESSOR_WINS);
	assert_int_equal(rating_policy_of_program(f->db, 3, &p, &err), AT_BADREQ);
	assert_int_equal(rating_policy_of_program(f->db, 9, &p, &err), AT_NOTFOUND);
	/* each rating is audited */
	{
		int64_t bad = 0, cnt = 0;

		assert_int_equal(audit_verify(f->db, &bad, &cnt, &err), AT_OK);
		assert_int_equal(cnt, 2);
	}
}

static void test_scale_parse(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct rating_scale s;
	static const char *const bad[] = {
		"", "{}", "[]", "[1]", "[{\"proficient\":true}]", "[{\"name\":1}]", "[{",
	};

	assert_int_equal(rating_scale_parse(f->a, "[{\"name\":\"no\"},{\"name\":\"yes\","
					    "\"proficient\":true}]", &s, &err), AT_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.def, -1);
	assert_int_equal(rating_scale_first_proficient(&s), 1);
	assert_string_equal(s.names[1], "yes");
	for (size_t i = 0; i < NELEM(bad); i++)
		assert_int_equal(rating_scale_parse(f->a, bad[i], &s, &err), AT_BADREQ);
	assert_int_equal(rating_scale_of(f->db, f->a, 1, &s, &err), AT_OK);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.def, 2);
	assert_int_equal(s.framework_id, 1);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_reconcile), SQ(test_record_checks), SQ(test_scale_parse),
	};
	const struct CMUnitTest pg[] = {
		PG(test_reconcile), PG(test_record_checks), PG(test_scale_parse),
	};
	return TESTDB_RUN("rating", sqlite, pg);
}
