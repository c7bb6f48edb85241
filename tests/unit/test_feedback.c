/* test_feedback.c: one-time feedback links — token stored hashed, once only, expiry, answer
 * checks, racing submissions from several processes, the summary rules count — on SQLite
 * and PostgreSQL (ATTEST_TEST_PG, each test in its own schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/feedback.h"
#include "core/token.h"
#include "tests/unit/support/testdb.h"

enum { LEARNER = 1, COORD = 2, ENROL = 1, ENROL2 = 2 };

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, created_at, updated_at) VALUES"
	" (1, 'l', 'Tina Trainee', 1, 1), (1, 'c', 'Cora Coordinator', 1, 1),"
	" (1, 'o', 'Otto Other', 1, 1);"
	"INSERT INTO program (key, title, definition, created_at, updated_at)"
	" VALUES ('l2', 'Level Two', '{}', 1, 1);"
	"INSERT INTO enrolment (program_id, user_id, started_at) VALUES (1, 1, 1), (1, 3, 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "feedback", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "feedback", true, SEED); }

static char *make_link(struct testdb_fx *f, int64_t enrolment, const char *form, int64_t ttl,
		       int64_t now)
{
	struct at_err err = { "" };
	char *tok = NULL;
	int64_t id = 0;

	if (feedback_link_create(f->db, f->a, enrolment, form, COORD, ttl, now, &tok, &id,
				 &err) != AT_OK)
		fail_msg("link: %s", err.msg);
	assert_true(id > 0);
	return tok;
}

static void test_once(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct feedback_link l;
	struct db_stmt *st = NULL;
	bool row;
	int64_t rid = 0, rid2 = 0;
	char *tok = make_link(f, ENROL, "students", 3600, 100);

	assert_int_equal(strlen(tok), 43);
	/* only the hash is stored */
	assert_int_equal(db_prepare(f->db, "SELECT token_hash FROM feedback_link", &st), AT_OK);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), token_sha256_hex(f->a, tok, strlen(tok)));
	assert_null(strstr(db_col_text(st, 0), tok));
	db_finalize(st);

	assert_int_equal(feedback_link_check(f->db, f->a, tok, 200, &l, &err), AT_OK);
	assert_int_equal(l.enrolment_id, ENROL);
	assert_string_equal(l.form_key, "students");
	assert_int_equal(l.expires_at, 3700);
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{\"went_well\": \"clear\", \"n\": 4}",
					 true, 450, 300, &rid, &err), AT_OK);
	assert_true(rid > 0);
	/* once only */
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{}", false, 0, 301, &rid2, &err),
			 AT_CONFLICT);
	assert_string_equal(err.msg, "this feedback link has already been used");
	assert_int_equal(feedback_link_check(f->db, f->a, tok, 302, &l, &err), AT_CONFLICT);
	assert_int_equal(l.used_at, 300);
	/* stored re-serialised */
	assert_int_equal(db_prepare(f->db, "SELECT answers, score FROM feedback_response", &st),
			 AT_OK);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_string_equal(db_col_text(st, 0), "{\"went_well\":\"clear\",\"n\":4}");
	assert_int_equal(db_col_i64(st, 1), 450);
	db_finalize(st);
}

static void test_expired_and_unknown(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct feedback_link l;
	int64_t rid = 0;
	char *tok = make_link(f, ENROL, "students", 10, 100);
	char *forged = arena_strdup(f->a, tok);

	assert_int_equal(feedback_link_check(f->db, f->a, tok, 109, &l, &err), AT_OK);
	assert_int_equal(feedback_link_check(f->db, f->a, tok, 110, &l, &err), AT_FORBIDDEN);
	assert_string_equal(err.msg, "this feedback link has expired");
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{}", false, 0, 110, &rid, &err),
			 AT_FORBIDDEN);
	forged[0] = forged[0] == 'A' ? 'B' : 'A';
	assert_int_equal(feedback_submit(f->db, f->a, forged, "{}", false, 0, 105, &rid, &err),
			 AT_NOTFOUND);
	assert_int_equal(feedback_link_check(f->db, f->a, forged, 105, &l, &err), AT_NOTFOUND);
	assert_int_equal(feedback_link_check(f->db, f->a, "short", 105, &l, &err), AT_NOTFOUND);
	assert_int_equal(feedback_link_check(f->db, f->a, NULL, 105, &l, &err), AT_NOTFOUND);
	assert_int_equal(feedback_submit(f->db, f->a, "x' OR '1'='1", "{}", false, 0, 105, &rid,
					 &err), AT_NOTFOUND);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = { "", "[]", "{", "{\"a\":1} x", "\"s\"", "null",
					   "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}" };
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	int64_t rid = 0, id;
	char *tok = make_link(f, ENROL, "students", 100, 100), *big;

	for (size_t i = 0; i < NELEM(bad); i++)
		if (feedback_submit(f->db, f->a, tok, bad[i], false, 0, 101, &rid, &err) !=
		    AT_BADREQ)
			fail_msg("answers '%s' accepted", bad[i]);
	assert_int_equal(feedback_submit(f->db, f->a, tok, NULL, false, 0, 101, &rid, &err),
			 AT_BADREQ);
	big = arena_alloc(f->a, FEEDBACK_ANSWERS_MAX + 16);
	memset(big, ' ', FEEDBACK_ANSWERS_MAX + 8);
	memcpy(big, "{}", 2);
	big[FEEDBACK_ANSWERS_MAX + 8] = '\0';
	assert_int_equal(feedback_submit(f->db, f->a, tok, big, false, 0, 101, &rid, &err),
			 AT_BADREQ);
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{}", true, -1, 101, &rid, &err),
			 AT_BADREQ);
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{}", true, FEEDBACK_SCORE_MAX + 1,
					 101, &rid, &err), AT_BADREQ);
	/* none of that used the link up */
	assert_int_equal(feedback_submit(f->db, f->a, tok, "{}", true, FEEDBACK_SCORE_MAX, 101,
					 &rid, &err), AT_OK);
	/* link arguments */
	assert_int_equal(feedback_link_create(f->db, f->a, ENROL, "", COORD, 10, 1, &big, &id,
					      &err), AT_BADREQ);
	assert_int_equal(feedback_link_create(f->db, f->a, ENROL, "a b", COORD, 10, 1, &big,
					      &id, &err), AT_BADREQ);
	assert_int_equal(feedback_link_create(f->db, f->a, ENROL, "s", COORD, 0, 1, &big, &id,
					      &err), AT_BADREQ);
	assert_int_equal(feedback_link_create(f->db, f->a, ENROL, "s", COORD,
					      FEEDBACK_TTL_MAX + 1, 1, &big, &id, &err),
			 AT_BADREQ);
	assert_int_equal(feedback_link_create(f->db, f->a, 999, "s", COORD, 10, 1, &big, &id,
					      &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "enrolment_id"));
	assert_int_equal(feedback_link_create(f->db, f->a, ENROL, "s", 999, 10, 1, &big, &id,
					      &err), AT_BADREQ);
}

/* Many processes submit one link at the same moment: exactly one wins. */
static void test_race(void **state)
{
	enum { KIDS = 8 };
	struct testdb_fx *f = *state;
	char *tok = make_link(f, ENROL, "students", 3600, 100);
	pid_t kids[KIDS];
	int go[2], won = 0, lost = 0;
	struct feedback_summary s;

	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < KIDS; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct db *db = NULL;
			struct arena *a = arena_new();
			struct at_err err = { "" };
			int64_t rid;
			char c;
			enum at_rc rc;

			close(go[1]);
			if (db_open(f->t.url, &db, &err) != AT_OK)
				_exit(3);
			(void)!read(go[0], &c, 1);	/* wait for the start */
			rc = feedback_submit(db, a, tok, "{\"k\": 1}", true, 100 * i, 200, &rid,
					     &err);
			db_close(db);
			arena_free(a);
			_exit(rc == AT_OK ? 0 : rc == AT_CONFLICT ? 1 : 2);
		}
	}
	close(go[0]);
	usleep(200 * 1000);
	close(go[1]);		/* all start */
	for (int i = 0; i < KIDS; i++) {
		int status;

		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else if (WEXITSTATUS(status) == 1)
			lost++;
		else
			fail_msg("a submitter failed with code %d", WEXITSTATUS(status));
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, KIDS - 1);
	assert_int_equal(feedback_summary(f->db, ENROL, NULL, &s), AT_OK);
	assert_int_equal(s.responses, 1);
}

static void test_summary(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct feedback_summary s;
	int64_t rid, bad, count;
	char *t1 = make_link(f, ENROL, "students", 100, 1);
	char *t2 = make_link(f, ENROL, "students", 100, 1);
	char *t3 = make_link(f, ENROL, "students", 100, 1);
	char *t4 = make_link(f, ENROL, "peers", 100, 1);

	(void)make_link(f, ENROL, "students", 100, 1);	/* never answered */
	(void)make_link(f, ENROL2, "students", 100, 1);
	assert_int_equal(feedback_summary(f->db, ENROL, NULL, &s), AT_OK);
	assert_int_equal(s.responses, 0);
	assert_int_equal(s.average, 0);
	assert_int_equal(s.links, 5);
	assert_int_equal(feedback_submit(f->db, f->a, t1, "{}", true, 450, 2, &rid, &err), AT_OK);
	assert_int_equal(feedback_submit(f->db, f->a, t2, "{}", true, 401, 2, &rid, &err), AT_OK);
	assert_int_equal(feedback_submit(f->db, f->a, t3, "{}", false, 0, 2, &rid, &err), AT_OK);
	assert_int_equal(feedback_submit(f->db, f->a, t4, "{}", true, 100, 2, &rid, &err), AT_OK);
	assert_int_equal(feedback_summary(f->db, ENROL, "students", &s), AT_OK);
	assert_int_equal(s.responses, 3);
	assert_int_equal(s.scored, 2);
	assert_int_equal(s.average, 426);	/* 425.5 rounds up */
	assert_int_equal(s.links, 4);
	assert_int_equal(feedback_summary(f->db, ENROL, NULL, &s), AT_OK);
	assert_int_equal(s.responses, 4);
	assert_int_equal(s.average, 317);	/* 951 / 3 */
	assert_int_equal(feedback_summary(f->db, ENROL2, NULL, &s), AT_OK);
	assert_int_equal(s.responses, 0);
	assert_int_equal(s.links, 1);
	/* links and submissions are audited */
	assert_int_equal(audit_verify(f->db, &bad, &count, &err), AT_OK);
	assert_int_equal(count, 6 + 4);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_once), SQ(test_expired_and_unknown), SQ(test_bad_input), SQ(test_race),
		SQ(test_summary),
	};
	const struct CMUnitTest pg[] = {
		PG(test_once), PG(test_expired_and_unknown), PG(test_bad_input), PG(test_race),
		PG(test_summary),
	};
	return TESTDB_RUN("feedback", sqlite, pg);
}
