/* test_progress.c: daily self-reports (appended within a day), coordinator notes as
 * "YYYY-MM-DD - Name - Note", per-enrolment and end-of-day lists, on SQLite and
 * PostgreSQL (ATTEST_TEST_PG, each test in its own schema). */
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
#include "core/progress.h"
#include "tests/unit/support/testdb.h"

enum { AGENT_A = 1, AGENT_B = 2, COORD = 3, NONAME = 4, E_A = 1, E_B = 2, E_N = 3,
       E_OTHER = 4, PROG = 1, PROG2 = 2 };

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, given_name, family_name, created_at,"
	" updated_at) VALUES (1, 'a', 'Zoe Agent', '', '', 1, 1),"
	" (1, 'b', '', 'Bob', 'Baker', 1, 1), (1, 'c', 'Cora Coordinator', '', '', 1, 1),"
	" (1, 'n', '', '', '', 1, 1);"
	"INSERT INTO program (key, title, definition, created_at, updated_at) VALUES"
	" ('call', 'Call certification', '{}', 1, 1), ('l2', 'Level Two', '{}', 1, 1);"
	"INSERT INTO enrolment (program_id, user_id, started_at) VALUES"
	" (1, 1, 1), (1, 2, 1), (1, 4, 1), (2, 1, 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "progress", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "progress", true, SEED); }

static void test_days(void **state)
{
	static const struct {
		const char *d;
		bool ok;
	} cases[] = {
		{ "2024-02-29", true }, { "2023-02-29", false }, { "2000-02-29", true },
		{ "1900-02-29", false }, { "2024-12-31", true }, { "2024-13-01", false },
		{ "2024-00-10", false }, { "2024-04-31", false }, { "2024-4-01", false },
		{ "2024/04/01", false }, { "2024-04-01x", false }, { "", false },
		{ "1969-12-31", false }, { "20a4-01-01", false },
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (progress_day_ok(cases[i].d) != cases[i].ok)
			fail_msg("day '%s'", cases[i].d);
	assert_false(progress_day_ok(NULL));
	assert_string_equal(progress_day(a, 0), "1970-01-01");
	assert_string_equal(progress_day(a, 1709683199), "2024-03-05");
	assert_string_equal(progress_day(a, 1709683200), "2024-03-06");
	arena_free(a);
}

static void test_reports_append(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct progress_line *l;
	size_t n;
	char *big;

	assert_int_equal(progress_report(f->db, E_A, "2024-03-05", "Calls 1-2 done", 100, &err),
			 AT_OK);
	assert_int_equal(progress_report(f->db, E_A, "2024-03-05", "Call 3 done\r\nTraining ok",
					 200, &err), AT_OK);
	assert_int_equal(progress_report(f->db, E_A, "2024-03-06", "Call 4", 300, &err), AT_OK);
	assert_int_equal(progress_list(f->db, f->a, E_A, &l, &n), AT_OK);
	assert_int_equal(n, 2);		/* one report per day */
	assert_string_equal(l[0].kind, "report");
	assert_string_equal(l[0].day, "2024-03-05");
	assert_string_equal(l[0].text, "Calls 1-2 done\nCall 3 done\r\nTraining ok");
	assert_string_equal(l[0].line, "2024-03-05 - Zoe Agent - Calls 1-2 done Call 3 done "
			    "Training ok");
	assert_int_equal(l[0].created_at, 100);
	assert_int_equal(l[0].author_id, AGENT_A);
	assert_string_equal(l[1].line, "2024-03-06 - Zoe Agent - Call 4");
	/* checks */
	assert_int_equal(progress_report(f->db, E_A, "2024-3-5", "x", 1, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "day"));
	assert_int_equal(progress_report(f->db, E_A, "2024-03-05", " \n", 1, &err), AT_BADREQ);
	assert_int_equal(progress_report(f->db, E_A, "2024-03-05", NULL, 1, &err), AT_BADREQ);
	assert_int_equal(progress_report(f->db, E_A, "2024-03-05", "\xc3(", 1, &err), AT_BADREQ);
	assert_int_equal(progress_report(f->db, 999, "2024-03-05", "x", 1, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "enrolment_id"));
	/* a day's report is capped in all */
	big = arena_alloc(f->a, PROGRESS_TEXT_MAX + 1);
	memset(big, 'x', PROGRESS_TEXT_MAX);
	big[PROGRESS_TEXT_MAX] = '\0';
	assert_int_equal(progress_report(f->db, E_B, "2024-03-05", big, 1, &err), AT_OK);
	assert_int_equal(progress_report(f->db, E_B, "2024-03-05", "more", 2, &err), AT_TOOBIG);
	assert_int_equal(progress_report(f->db, E_B, "2024-03-07", "x", 2, &err), AT_OK);
	big[0] = 'y';
	assert_int_equal(progress_report(f->db, E_N, "2024-03-05", "x", 1, &err), AT_OK);
	assert_int_equal(progress_list(f->db, f->a, E_B, &l, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(strlen(l[0].text), PROGRESS_TEXT_MAX);
}

static void test_notes_format(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct progress_line *l;
	size_t n;
	int64_t id, bad, count;

	assert_int_equal(progress_report(f->db, E_B, "2024-03-05", "All 5 calls done", 10, &err),
			 AT_OK);
	assert_int_equal(progress_note_add(f->db, E_B, COORD, "2024-03-05",
					   "Scored 85/84/100/90/95 - 80 %, passes", 20, &id, &err),
			 AT_OK);
	assert_true(id > 0);
	assert_int_equal(progress_note_add(f->db, E_A, COORD, "2024-03-05",
					   "Coaching due\ttomorrow", 30, &id, &err), AT_OK);
	assert_int_equal(progress_note_add(f->db, E_N, COORD, "2024-03-05", "No name on file",
					   40, &id, &err), AT_OK);
	assert_int_equal(progress_note_add(f->db, E_OTHER, COORD, "2024-03-05", "Other program",
					   50, &id, &err), AT_OK);
	assert_int_equal(progress_note_add(f->db, E_A, COORD, "2024-03-04", "Yesterday", 5,
					   &id, &err), AT_OK);
	assert_int_equal(progress_note_add(f->db, E_A, COORD, "05/03/2024", "x", 5, &id, &err),
			 AT_BADREQ);
	assert_int_equal(progress_note_add(f->db, E_A, 999, "2024-03-05", "x", 5, &id, &err),
			 AT_BADREQ);
	assert_non_null(strstr(err.msg, "author_id"));

	/* per enrolment: by day, reports before notes */
	assert_int_equal(progress_list(f->db, f->a, E_B, &l, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].line, "2024-03-05 - Bob Baker - All 5 calls done");
	assert_string_equal(l[1].kind, "note");
	assert_string_equal(l[1].line,
			    "2024-03-05 - Bob Baker - Scored 85/84/100/90/95 - 80 %, passes");
	assert_string_equal(l[1].author, "Cora Coordinator");
	assert_int_equal(l[1].author_id, COORD);

	/* end of day for the call program: by learner name, other days and programs out */
	assert_int_equal(progress_day_list(f->db, f->a, PROG, "2024-03-05", &l, &n), AT_OK);
	assert_int_equal(n, 4);
	assert_string_equal(l[0].line, "2024-03-05 - Bob Baker - All 5 calls done");
	assert_string_equal(l[1].line,
			    "2024-03-05 - Bob Baker - Scored 85/84/100/90/95 - 80 %, passes");
	assert_string_equal(l[2].line, "2024-03-05 - user 4 - No name on file");
	assert_string_equal(l[3].line, "2024-03-05 - Zoe Agent - Coaching due tomorrow");
	assert_int_equal(progress_day_list(f->db, f->a, PROG2, "2024-03-05", &l, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].line, "2024-03-05 - Zoe Agent - Other program");
	assert_int_equal(progress_day_list(f->db, f->a, PROG, "bad", &l, &n), AT_BADREQ);

	/* who has not reported that day */
	assert_int_equal(progress_missing(f->db, f->a, PROG, "2024-03-05", &l, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "user 4");
	assert_int_equal(l[0].enrolment_id, E_N);
	assert_string_equal(l[1].name, "Zoe Agent");
	assert_string_equal(l[1].kind, "missing");
	assert_string_equal(l[1].day, "2024-03-05");

	/* notes are audited */
	assert_int_equal(audit_verify(f->db, &bad, &count, &err), AT_OK);
	assert_int_equal(count, 5);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		cmocka_unit_test(test_days), SQ(test_reports_append), SQ(test_notes_format),
	};
	const struct CMUnitTest pg[] = {
		PG(test_reports_append), PG(test_notes_format),
	};
	return TESTDB_RUN("progress", sqlite, pg);
}
