/* testdb.c: the per-test database fixture (SQLite file or PostgreSQL schema), see
 * testdb.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/migrate.h"
#include "tests/unit/support/testdb.h"

static int g_serial;

const char *testdb_pg_url(void)
{
	const char *url = getenv("ATTEST_TEST_PG");

	return url != NULL && *url != '\0' ? url : NULL;
}

int testdb_admin_exec(const char *sql)
{
	const char *url = testdb_pg_url();
	struct at_err err = { "" };
	struct db *db = NULL;
	enum at_rc rc;

	if (url == NULL) {
		fprintf(stderr, "testdb: ATTEST_TEST_PG is not set\n");
		return -1;
	}
	rc = db_open(url, &db, &err);
	if (rc == AT_OK)
		rc = db_exec(db, sql);
	if (rc != AT_OK)
		fprintf(stderr, "testdb admin: %s\n", db != NULL ? db_errmsg(db) : err.msg);
	db_close(db);
	return rc == AT_OK ? 0 : -1;
}

static void unlink_sqlite(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[160];

	for (size_t i = 0; i < NELEM(suffix); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

int testdb_open(struct testdb *t, const char *tag, bool pg)
{
	struct at_err err = { "" };
	char sql[128];
	int applied = 0;

	memset(t, 0, sizeof(*t));
	t->pg = pg;
	t->serial = ++g_serial;
	if (pg) {
		const char *base = testdb_pg_url();

		if (base == NULL) {
			fprintf(stderr, "testdb: ATTEST_TEST_PG is not set\n");
			return -1;
		}
		snprintf(t->schema, sizeof(t->schema), "%s_%d_%d", tag, (int)getpid(), t->serial);
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", t->schema);
		if (testdb_admin_exec(sql) != 0) {
			t->schema[0] = '\0';	/* not ours to drop */
			return -1;
		}
		snprintf(t->url, sizeof(t->url), "%s%soptions=-csearch_path%%3D%s", base,
			 strchr(base, '?') != NULL ? "&" : "?", t->schema);
	} else {
		snprintf(t->path, sizeof(t->path), "/tmp/attest-%s-%d-%d.db", tag, (int)getpid(),
			 t->serial);
		unlink_sqlite(t->path);		/* left over from an earlier process */
		snprintf(t->url, sizeof(t->url), "sqlite:%s", t->path);
	}
	if (db_open(t->url, &t->db, &err) != AT_OK ||
	    migrate_run(t->db, &applied, &err) != AT_OK) {
		fprintf(stderr, "testdb %s: %s\n", t->url, err.msg);
		return -1;
	}
	return 0;
}

void testdb_close(struct testdb *t)
{
	char sql[128];

	db_close(t->db);
	t->db = NULL;
	if (t->schema[0] != '\0') {
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", t->schema);
		(void)testdb_admin_exec(sql);
		t->schema[0] = '\0';
	}
	if (t->path[0] != '\0') {
		unlink_sqlite(t->path);
		t->path[0] = '\0';
	}
}

int64_t testdb_count(struct db *db, const char *sql)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t n = -1;

	assert_int_equal(db_prepare(db, sql, &st), AT_OK);
	assert_int_equal(db_step(st, &row), AT_OK);
	if (row)
		n = db_col_i64(st, 0);
	db_finalize(st);
	return n;
}

int testdb_fx_setup(void **state, const char *tag, bool pg, const char *seed)
{
	struct testdb_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	assert_int_equal(testdb_open(&f->t, tag, pg), 0);
	f->db = f->t.db;
	if (seed != NULL)
		assert_int_equal(db_exec(f->db, seed), AT_OK);
	f->a = arena_new();
	return 0;
}

int testdb_fx_teardown(void **state)
{
	struct testdb_fx *f = *state;

	if (f == NULL)
		return 0;
	arena_free(f->a);
	testdb_close(&f->t);
	free(f);
	*state = NULL;
	return 0;
}

int testdb_run_groups(const char *name, const struct CMUnitTest *sqlite, size_t n_sqlite,
		      const struct CMUnitTest *pg, size_t n_pg)
{
	char group[96];
	int rc;

	snprintf(group, sizeof(group), "%s_sqlite", name);
	rc = _cmocka_run_group_tests(group, sqlite, n_sqlite, NULL, NULL);
	snprintf(group, sizeof(group), "%s_postgresql", name);
	if (testdb_pg_url() == NULL) {
		printf("[  SKIPPED ] %s: ATTEST_TEST_PG is not set\n", group);
		return rc;
	}
	return rc + _cmocka_run_group_tests(group, pg, n_pg, NULL, NULL);
}
