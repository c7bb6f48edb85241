/* testdb.h: the database fixture shared by the unit tests — a fresh, migrated SQLite file
 * in /tmp, or, when ATTEST_TEST_PG is set, a PostgreSQL schema of its own; dropped again by
 * testdb_close(). */
#ifndef AT_TESTDB_H
#define AT_TESTDB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

struct CMUnitTest;

/* The platform row most fixtures start from; it gets id 1 in a fresh database. */
#define TESTDB_PLATFORM_SQL \
	"INSERT INTO platform (issuer, client_id, auth_endpoint, jwks_uri, created_at)" \
	" VALUES ('https://lms.test', 'c', 'https://lms.test/auth', 'https://lms.test/jwks', 1);"

struct testdb {
	struct db *db;		/* owned: closed by testdb_close() */
	bool pg;
	int serial;		/* unique in this process; part of path and schema */
	char url[1024];		/* opens a second connection (e.g. in a child process) */
	char path[128];		/* SQLite file; "" on PostgreSQL */
	char schema[64];	/* PostgreSQL schema; "" on SQLite */
};

/* ATTEST_TEST_PG, or NULL when it is unset or empty (borrowed: the environment). */
const char *testdb_pg_url(void);

/* Run sql on its own connection to ATTEST_TEST_PG (CREATE/DROP SCHEMA). 0 or -1. */
int testdb_admin_exec(const char *sql);

/* Fill *t with a fresh database named after tag (a C identifier) and run every migration:
 * /tmp/attest-<tag>-<pid>-<n>.db, or schema <tag>_<pid>_<n> when pg. 0, or -1 with the
 * reason on stderr; testdb_close() is safe either way. */
int testdb_open(struct testdb *t, const char *tag, bool pg);

/* Close t->db and remove the database (schema, or the file with its -wal and -shm).
 * Safe on a zeroed struct testdb. */
void testdb_close(struct testdb *t);

/* The first column of the first row of sql (a count), -1 when there is no row; a failing
 * query fails the test. */
int64_t testdb_count(struct db *db, const char *sql);

/* The fixture most database tests share: a fresh database and an arena for the code under
 * test. */
struct testdb_fx {
	struct testdb t;
	struct db *db;		/* t.db, borrowed */
	struct arena *a;	/* owned: freed by testdb_fx_teardown() */
};

/* cmocka setup: *state = a new struct testdb_fx on a fresh database named after tag (see
 * testdb_open()), seed (SQL, may be NULL) run on it. Any failure fails the test. 0. */
int testdb_fx_setup(void **state, const char *tag, bool pg, const char *seed);

/* cmocka teardown for testdb_fx_setup(): frees the arena, drops the database. 0. */
int testdb_fx_teardown(void **state);

/* Run sqlite as cmocka group "<name>_sqlite", then pg as "<name>_postgresql" unless
 * ATTEST_TEST_PG is unset (then a SKIPPED line says so). The number of failed tests. */
int testdb_run_groups(const char *name, const struct CMUnitTest *sqlite, size_t n_sqlite,
		      const struct CMUnitTest *pg, size_t n_pg);
#define TESTDB_RUN(name, sqlite, pg) \
	testdb_run_groups(name, sqlite, NELEM(sqlite), pg, NELEM(pg))

#endif
