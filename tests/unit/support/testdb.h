/* testdb.h: the database fixture shared by the unit tests — a fresh, migrated SQLite file
 * in /tmp, or, when ATTEST_TEST_PG is set, a PostgreSQL schema of its own; dropped again by
 * testdb_close(). */
#ifndef AT_TESTDB_H
#define AT_TESTDB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"

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

#endif
