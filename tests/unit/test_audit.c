/* test_audit.c: the audit hash chain on both backends — appends, verification, and every
 * kind of tampering done with plain SQL (edit, delete, rehash, swap, insert), plus appends
 * from several processes at once. PostgreSQL runs when ATTEST_TEST_PG is set. */
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
#include "tests/unit/support/testdb.h"

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "audit", false, NULL); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "audit", true, NULL); }

static void exec_ok(struct testdb_fx *f, const char *sql)
{
	assert_int_equal(db_exec(f->db, sql), AT_OK);
}

/* Append n rows, each in its own transaction, as the modules do. */
static void append_n(struct db *db, int n, int64_t t0)
{
	struct at_err err = { "" };
	char data[64];

	for (int i = 0; i < n; i++) {
		snprintf(data, sizeof(data), "{\"i\":%d}", i);
		assert_int_equal(db_begin(db), AT_OK);
		assert_int_equal(audit_append(db, i % 3 == 0 ? 0 : 7, "observation.submit",
					      "observation", i + 1, data, t0 + i, &err), AT_OK);
		assert_int_equal(db_commit(db), AT_OK);
	}
}

static int64_t verify_bad(struct testdb_fx *f, int64_t *count)
{
	struct at_err err = { "" };
	int64_t bad = -1, n = -1;
	enum at_rc rc = audit_verify(f->db, &bad, &n, &err);

	if (rc == AT_OK) {
		assert_int_equal(bad, 0);
		if (count)
			*count = n;
		return 0;
	}
	assert_int_equal(rc, AT_CONFLICT);
	assert_true(strstr(err.msg, "entry") != NULL);
	return bad;
}

static void test_append_verify(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct audit_row *rows;
	size_t n;
	int64_t count = -1;

	assert_int_equal(verify_bad(f, &count), 0);	/* empty log */
	assert_int_equal(count, 0);
	append_n(f->db, 1200, 1000);	/* more than one verify page */
	assert_int_equal(verify_bad(f, &count), 0);
	assert_int_equal(count, 1200);
	assert_int_equal(audit_tail(f->db, f->a, 3, &rows, &n), AT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].id, 1198);
	assert_int_equal(rows[2].id, 1200);
	assert_int_equal(rows[2].actor_id, 7);
	assert_string_equal(rows[1].prev_hash, rows[0].hash);
	assert_int_equal(audit_tail(f->db, f->a, 5000, &rows, &n), AT_OK);
	assert_int_equal(n, 1200);
	assert_string_equal(rows[0].prev_hash, AUDIT_GENESIS);
	assert_int_equal(rows[0].actor_id, 0);	/* system: stored NULL */
	/* bad input */
	assert_int_equal(db_begin(f->db), AT_OK);
	assert_int_equal(audit_append(f->db, 1, "", "x", 1, "{}", 1, &err), AT_BADREQ);
	db_rollback(f->db);
	{
		char *big = arena_zalloc(f->a, AUDIT_DATA_MAX + 2);

		memset(big, 'x', AUDIT_DATA_MAX + 1);
		assert_int_equal(db_begin(f->db), AT_OK);
		assert_int_equal(audit_append(f->db, 1, "a", "x", 1, big, 1, &err), AT_TOOBIG);
		db_rollback(f->db);
	}
	/* a rolled-back append leaves nothing behind */
	assert_int_equal(db_begin(f->db), AT_OK);
	assert_int_equal(audit_append(f->db, 1, "a", "x", 1, NULL, 1, &err), AT_OK);
	db_rollback(f->db);
	assert_int_equal(verify_bad(f, &count), 0);
	assert_int_equal(count, 1200);
}

/* The serialisation is unambiguous: moving bytes between fields changes the hash. */
static void test_canonical(void **state)
{
	struct audit_row r1 = { .id = 1, .at = 5, .actor_id = 0, .entity_id = 1,
				.action = "ab", .entity = "c", .data = "{}",
				.prev_hash = AUDIT_GENESIS };
	struct audit_row r2 = r1;
	char h1[65], h2[65];

	(void)state;
	r2.action = "a";
	r2.entity = "bc";
	audit_hash(&r1, h1);
	audit_hash(&r2, h2);
	assert_string_not_equal(h1, h2);
	r2 = r1;
	r2.actor_id = 1;
	audit_hash(&r2, h2);
	assert_string_not_equal(h1, h2);
	r2 = r1;
	r2.id = 2;
	audit_hash(&r2, h2);
	assert_string_not_equal(h1, h2);
	audit_hash(&r1, h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
}

struct tamper {
	const char *name;
	const char *sql;
	int64_t want_bad;
};

static const struct tamper tampers[] = {
	{ "edit data", "UPDATE audit SET data = '{\"i\":999}' WHERE id = 17", 17 },
	{ "edit actor", "UPDATE audit SET actor_id = 1 WHERE id = 17", 17 },
	{ "edit time", "UPDATE audit SET at = at + 1 WHERE id = 30", 30 },
	{ "delete middle", "DELETE FROM audit WHERE id = 17", 18 },
	{ "delete first", "DELETE FROM audit WHERE id = 1", 2 },
	{ "edit hash", "UPDATE audit SET hash = '" AUDIT_GENESIS "' WHERE id = 17", 17 },
	{ "edit prev_hash", "UPDATE audit SET prev_hash = '" AUDIT_GENESIS "' WHERE id = 9", 9 },
	{ "swap ids",
	  "UPDATE audit SET id = -1 WHERE id = 17;"
	  "UPDATE audit SET id = 17 WHERE id = 18;"
	  "UPDATE audit SET id = 18 WHERE id = -1", 17 },
	{ "insert at the end",
	  "INSERT INTO audit (id, at, actor_id, action, entity, entity_id, data, prev_hash,"
	  " hash) SELECT 41, 5000, 1, 'decision.override', 'decision', 1, '{}', hash,"
	  " 'forged' FROM audit WHERE id = 40", 41 },
	{ "insert with a gap",
	  "INSERT INTO audit (id, at, actor_id, action, entity, entity_id, data, prev_hash,"
	  " hash) SELECT 45, 5000, 1, 'x', 'y', 1, '{}', hash, 'forged2' FROM audit"
	  " WHERE id = 40", 45 },
};

static void run_tampers(void **state)
{
	struct testdb_fx *f = *state;

	for (size_t i = 0; i < NELEM(tampers); i++) {
		int64_t count = 0;

		exec_ok(f, "DELETE FROM audit");
		append_n(f->db, 40, 1000);
		assert_int_equal(verify_bad(f, &count), 0);
		exec_ok(f, tampers[i].sql);
		if (verify_bad(f, NULL) != tampers[i].want_bad)
			fail_msg("tamper '%s': verify said %lld, want %lld", tampers[i].name,
				 (long long)verify_bad(f, NULL), (long long)tampers[i].want_bad);
	}
}

/* A forger who inserts a row in the middle and recomputes its hash is still caught: the
 * following rows were hashed with their old ids. */
static void test_insert_middle_rehashed(void **state)
{
	struct testdb_fx *f = *state;
	struct audit_row r = { .id = 20, .at = 1019, .actor_id = 1, .entity_id = 99,
			       .action = "decision.confirm", .entity = "decision", .data = "{}" };
	struct audit_row *rows;
	size_t n;
	char hash[65], sql[512];

	append_n(f->db, 40, 1000);
	assert_int_equal(audit_tail(f->db, f->a, 40, &rows, &n), AT_OK);
	for (int64_t id = 40; id >= 20; id--) {
		snprintf(sql, sizeof(sql), "UPDATE audit SET id = %lld WHERE id = %lld",
			 (long long)id + 1, (long long)id);
		exec_ok(f, sql);
	}
	r.prev_hash = rows[18].hash;	/* id 19 */
	audit_hash(&r, hash);
	snprintf(sql, sizeof(sql), "INSERT INTO audit (id, at, actor_id, action, entity,"
		 " entity_id, data, prev_hash, hash) VALUES (20, 1019, 1, 'decision.confirm',"
		 " 'decision', 99, '{}', '%s', '%s')", r.prev_hash, hash);
	exec_ok(f, sql);
	assert_int_equal(verify_bad(f, NULL), 21);
}

/* A forger who edits a row and recomputes its hash breaks the link of the next row. */
static void test_edit_rehashed(void **state)
{
	struct testdb_fx *f = *state;
	struct audit_row *rows, r;
	size_t n;
	char hash[65], sql[512];

	append_n(f->db, 10, 1000);
	assert_int_equal(audit_tail(f->db, f->a, 10, &rows, &n), AT_OK);
	r = rows[3];	/* id 4 */
	r.data = "{\"i\":0}";
	audit_hash(&r, hash);
	snprintf(sql, sizeof(sql), "UPDATE audit SET data = '%s', hash = '%s' WHERE id = 4",
		 r.data, hash);
	exec_ok(f, sql);
	assert_int_equal(verify_bad(f, NULL), 5);
}

/* Several processes append at once; the chain stays whole and gap-free. */
static void test_concurrent_appends(void **state)
{
	struct testdb_fx *f = *state;
	int64_t count = 0;
	pid_t kids[4];

	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct db *db = NULL;
			struct at_err err = { "" };
			int bad = 0;

			if (db_open(f->t.url, &db, &err) != AT_OK)
				_exit(2);
			for (int i = 0; i < 25; i++) {
				enum at_rc rc;
				int tries = 0;

				do {
					rc = db_begin(db);
					if (rc == AT_OK)
						rc = audit_append(db, k + 1, "rating.record", "rating",
								  i, "{}", 100 + i, &err);
					if (rc == AT_OK)
						rc = db_commit(db);
					if (rc != AT_OK)
						db_rollback(db);
				} while (rc == AT_TIMEOUT && ++tries < 50);
				if (rc != AT_OK)
					bad++;
			}
			db_close(db);
			_exit(bad ? 1 : 0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st = 0;

		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(verify_bad(f, &count), 0);
	assert_int_equal(count, 100);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_append_verify), cmocka_unit_test(test_canonical), SQ(run_tampers),
		SQ(test_insert_middle_rehashed), SQ(test_edit_rehashed),
		SQ(test_concurrent_appends),
	};
	const struct CMUnitTest pg[] = {
		PG(test_append_verify), PG(run_tampers), PG(test_insert_middle_rehashed),
		PG(test_edit_rehashed), PG(test_concurrent_appends),
	};
	return TESTDB_RUN("audit", sqlite, pg);
}
