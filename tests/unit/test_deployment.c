/* test_deployment.c: a platform's deployments as the admin pages change them — declare
 * (validated, refused twice), list (learned vs declared, courses using each), remove (the
 * course keeps its data, its link is cleared), each change audited with the change and the
 * audit chain still verifying. PostgreSQL runs when ATTEST_TEST_PG is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/deployment.h"
#include "core/platform.h"
#include "tests/unit/support/testdb.h"

/* Platform 1 and a second one. */
static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO platform (issuer, client_id, auth_endpoint, jwks_uri, created_at)"
	" VALUES ('https://other.test', 'c', 'https://other.test/a', 'https://other.test/j', 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "deployment", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "deployment", true, SEED); }

static int64_t count(struct testdb_fx *f, const char *sql)
{
	return testdb_count(f->db, sql);
}

static void test_add_list_remove(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct deployment *v = NULL;
	size_t n = 0;
	int64_t row = 0, bad = 0, rows = 0;

	/* one learned at a launch, used by a course */
	assert_int_equal(platform_deployment_add(f->db, 1, "learned-1", 1, 10, &row), AT_OK);
	assert_int_equal(db_exec(f->db, "INSERT INTO context (platform_id, deployment_id, context_id,"
				 " created_at, updated_at) VALUES (1, 1, 'course-9', 10, 10);"), AT_OK);
	/* declared by the admin */
	assert_int_equal(deployment_add(f->db, 1, "declared-2", 7, 20, &err), AT_OK);
	assert_int_equal(deployment_add(f->db, 1, "declared-2", 7, 21, &err), AT_CONFLICT);
	assert_non_null(strstr(err.msg, "declared-2"));
	{
		const char *ids[] = { "", "x y", "tab\there", "\xc3\xa9" };

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			err.msg[0] = '\0';
			assert_int_equal(deployment_add(f->db, 1, ids[i], 7, 22, &err), AT_BADREQ);
			assert_true(err.msg[0] != '\0');
		}
	}
	{
		char longid[DEPLOYMENT_ID_MAX + 2];

		memset(longid, 'a', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		assert_int_equal(deployment_add(f->db, 1, longid, 7, 22, &err), AT_BADREQ);
		longid[DEPLOYMENT_ID_MAX] = '\0';
		assert_true(deployment_id_valid(longid));
	}
	/* the same id on another platform is another deployment */
	assert_int_equal(deployment_add(f->db, 2, "declared-2", 8, 23, &err), AT_OK);

	assert_int_equal(deployment_list(f->db, f->a, 1, &v, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].deployment_id, "learned-1");
	assert_true(v[0].learned);
	assert_int_equal(v[0].courses, 1);
	assert_string_equal(v[1].deployment_id, "declared-2");
	assert_false(v[1].learned);
	assert_int_equal(v[1].courses, 0);
	assert_int_equal(v[1].created_at, 20);

	/* remove: only this platform's, the course stays with its link cleared */
	assert_int_equal(deployment_remove(f->db, 1, "nope", 7, 30, &err), AT_NOTFOUND);
	assert_int_equal(deployment_remove(f->db, 1, "learned-1", 7, 30, &err), AT_OK);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM context WHERE context_id = 'course-9'"
			       " AND deployment_id IS NULL"), 1);
	assert_int_equal(deployment_list(f->db, f->a, 1, &v, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(deployment_list(f->db, f->a, 2, &v, &n), AT_OK);
	assert_int_equal(n, 1);

	/* audited: two adds and one remove, by their actors; the chain verifies */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'deployment.add'"), 2);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'deployment.remove'"
			       " AND actor_id = 7"), 1);
	assert_int_equal(audit_verify(f->db, &bad, &rows, &err), AT_OK);
	assert_int_equal(rows, 3);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = { SQ(test_add_list_remove) };
	const struct CMUnitTest pg[] = { PG(test_add_list_remove) };
	return TESTDB_RUN("deployment", sqlite, pg);
}
