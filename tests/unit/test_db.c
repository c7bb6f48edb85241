/* test_db.c: core/db.h and core/migrate.h against both backends.
 *
 * SQLite always runs (each test on a fresh temp file); PostgreSQL runs when ATTEST_TEST_PG
 * holds a URL (tests/pg.sh start DIR prints one), each test in a fresh schema reached through
 * search_path and dropped afterwards. Fault injection (ATTEST_FAULT=db_step:N) needs a process
 * whose fault counters are untouched, so that case re-runs this binary as
 * "test_db --fault-child" and checks its exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/db.h"
#include "core/mem.h"
#include "core/migrate.h"

struct backend {
	enum db_kind kind;
	const char *name;
};

static struct backend be_sqlite = { DB_SQLITE, "sqlite" };
static struct backend be_pg = { DB_PG, "postgresql" };

static const char *g_argv0;	/* this binary, for the fault child */
static const char *g_pg_url;	/* ATTEST_TEST_PG, or NULL */
static int g_serial;

/* One test's database: its URL, the main connection and an optional second one. */
struct fx {
	const struct backend *be;
	char dir[64];		/* sqlite: temp directory holding t.db */
	char schema[64];	/* pg: this test's schema */
	char url[1024];
	struct db *db;
	struct db *db2;
};

static const char SQL_KV[] = "CREATE TABLE kv (k TEXT PRIMARY KEY, t TEXT, n BIGINT)";
static const char SQL_KV_PUT[] = "INSERT INTO kv (k, t, n) VALUES (?1, ?2, ?3)";
static const char SQL_KV_GET[] = "SELECT t, n FROM kv WHERE k = ?1";
static const char SQL_KV_COUNT[] = "SELECT COUNT(*) FROM kv";
static const char SQL_PLATFORM_PUT[] =
	"INSERT INTO platform (issuer, client_id, name, auth_endpoint, jwks_uri, created_at)"
	" VALUES (?1, ?2, ?3, 'https://lms.example/auth', 'https://lms.example/jwks', ?4)"
	" RETURNING id";
static const char SQL_PLATFORM_COUNT[] = "SELECT COUNT(*) FROM platform";

/* ---- helpers ---- */

/* Run sql on a throwaway connection to the PostgreSQL test database. */
static int pg_admin(const char *sql)
{
	struct at_err err = { "" };
	struct db *db = NULL;
	enum at_rc rc;

	rc = db_open(g_pg_url, &db, &err);
	if (rc != AT_OK) {
		fprintf(stderr, "pg admin connect: %s\n", err.msg);
		return -1;
	}
	rc = db_exec(db, sql);
	if (rc != AT_OK)
		fprintf(stderr, "pg admin: %s: %s\n", sql, db_errmsg(db));
	db_close(db);
	return rc == AT_OK ? 0 : -1;
}

/* base with its database name replaced by dbname (for the "no such database" case). */
static void pg_other_db(char *out, size_t n, const char *base, const char *dbname)
{
	const char *auth = strstr(base, "://");
	const char *path, *query;

	auth = auth != NULL ? auth + 3 : base;
	query = auth + strcspn(auth, "?");
	path = memchr(auth, '/', (size_t)(query - auth));
	if (path == NULL)
		path = query;
	snprintf(out, n, "%.*s/%s%s", (int)(path - base), base, dbname, query);
}

/* One value from a query taking at most one text parameter. */
static int64_t q_i64(struct db *db, const char *sql, const char *arg)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t v;

	assert_int_equal(db_prepare(db, sql, &st), AT_OK);
	if (arg != NULL)
		db_bind_str(st, 1, arg);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	v = db_col_i64(st, 0);
	db_finalize(st);
	return v;
}

static enum at_rc run_sql(struct db *db, const char *sql)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK)
		rc = db_run(st);
	db_finalize(st);
	return rc;
}

static enum at_rc kv_put(struct db *db, const char *k, const char *t, size_t t_len, int64_t n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_KV_PUT, &st);

	if (rc != AT_OK)
		return rc;
	db_bind_str(st, 1, k);
	db_bind_text(st, 2, t, t_len);
	db_bind_i64(st, 3, n);
	rc = db_run(st);
	db_finalize(st);
	return rc;
}

static enum at_rc platform_put(struct db *db, const char *iss, const char *cid,
			       const char *name, int64_t *id)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_PLATFORM_PUT, &st);

	*id = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, iss);
	db_bind_str(st, 2, cid);
	db_bind_str(st, 3, name);
	db_bind_i64(st, 4, 1700000000);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (row)
		*id = db_col_i64(st, 0);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

static bool ci_contains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

/* ---- fixtures ---- */

static int setup_fresh(void **state)
{
	struct backend *be = *state;
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct at_err err = { "" };
	char sql[256];

	fx->be = be;
	*state = fx;
	if (be->kind == DB_SQLITE) {
		snprintf(fx->dir, sizeof(fx->dir), "/tmp/attest-test-db.XXXXXX");
		if (mkdtemp(fx->dir) == NULL) {
			fx->dir[0] = '\0';
			fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
			return -1;
		}
		snprintf(fx->url, sizeof(fx->url), "sqlite:%s/t.db", fx->dir);
	} else {
		snprintf(fx->schema, sizeof(fx->schema), "attest_t%ld_%d", (long)getpid(),
			 ++g_serial);
		snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
			 fx->schema, fx->schema);
		if (pg_admin(sql) != 0) {
			fx->schema[0] = '\0';
			return -1;
		}
		snprintf(fx->url, sizeof(fx->url), "%s%soptions=-csearch_path%%3D%s", g_pg_url,
			 strchr(g_pg_url, '?') != NULL ? "&" : "?", fx->schema);
	}
	if (db_open(fx->url, &fx->db, &err) != AT_OK) {
		fprintf(stderr, "open %s: %s\n", be->name, err.msg);
		return -1;
	}
	return 0;
}

static int setup_migrated(void **state)
{
	struct at_err err = { "" };
	struct fx *fx;
	int applied = 0;

	if (setup_fresh(state) != 0)
		return -1;
	fx = *state;
	if (migrate_run(fx->db, &applied, &err) != AT_OK) {
		fprintf(stderr, "migrate: %s\n", err.msg);
		return -1;
	}
	if (db_exec(fx->db, SQL_KV) != AT_OK) {
		fprintf(stderr, "create kv: %s\n", db_errmsg(fx->db));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm", "t.db-journal" };
	char path[128], sql[128];
	int rc = 0;

	db_close(fx->db2);
	db_close(fx->db);
	if (fx->dir[0] != '\0') {
		for (size_t i = 0; i < NELEM(files); i++) {
			snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i]);
			(void)unlink(path);
		}
		rc = rmdir(fx->dir);
	}
	if (fx->schema[0] != '\0') {
		snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", fx->schema);
		rc = pg_admin(sql);
	}
	xfree(fx);
	return rc;
}

/* ---- cases without a database ---- */

static void open_fails(const char *url, enum at_rc want, const char *secret)
{
	struct at_err err = { "" };
	struct db *db = (struct db *)&err;	/* must be reset to NULL */

	assert_int_equal(db_open(url, &db, &err), want);
	assert_null(db);
	assert_true(err.msg[0] != '\0');
	assert_null(strchr(err.msg, '\n'));
	if (secret != NULL && strstr(err.msg, secret) != NULL)
		fail_msg("error message leaks the password: %s", err.msg);
}

static void test_open_errors(void **state)
{
	(void)state;
	open_fails("", AT_BADREQ, NULL);
	open_fails(NULL, AT_BADREQ, NULL);
	open_fails("mysql://root@localhost/attest", AT_BADREQ, NULL);
	open_fails("sqlite:/nonexistent-attest-dir/x/t.db", AT_DB, NULL);
	/* nothing listens on port 1; libpq quotes malformed URIs whole, password included */
	open_fails("postgresql://bob:sekrit@127.0.0.1:1/attest?connect_timeout=5", AT_DB,
		   "sekrit");
	open_fails("postgresql://bob:sekrit@[::1", AT_DB, "sekrit");
	open_fails("postgres://bob:sekrit@127.0.0.1:99999/attest", AT_DB, "sekrit");
	open_fails("postgres://bob@127.0.0.1:1/x?password=hunter2&a=b=c", AT_DB, "hunter2");
	open_fails("postgresql://bob@127.0.0.1:1/x?no_such_option=1", AT_DB, NULL);
}

/* ---- cases run on each backend ---- */

static void test_kind_and_bad_db(void **state)
{
	struct fx *fx = *state;
	struct at_err err = { "" };
	char url[1024];

	assert_int_equal(db_kind(fx->db), fx->be->kind);
	if (fx->be->kind == DB_PG) {
		pg_other_db(url, sizeof(url), g_pg_url, "attest_no_such_database");
		assert_int_equal(db_open(url, &fx->db2, &err), AT_DB);
		assert_null(fx->db2);
		assert_true(ci_contains(err.msg, "attest_no_such_database"));
	}
}

static void test_migrate(void **state)
{
	struct fx *fx = *state;
	struct at_err err = { "" };
	int version = -1, applied = -1, first;

	assert_int_equal(migrate_version(fx->db, &version), AT_OK);
	assert_int_equal(version, 0);

	assert_int_equal(migrate_run(fx->db, &applied, &err), AT_OK);
	assert_string_equal(err.msg, "");
	assert_true(applied >= 1);
	first = applied;
	assert_int_equal(migrate_version(fx->db, &version), AT_OK);
	assert_int_equal(version, migrate_latest());

	assert_int_equal(migrate_run(fx->db, &applied, &err), AT_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(migrate_version(fx->db, &version), AT_OK);
	assert_int_equal(version, migrate_latest());
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM schema_version", NULL), first);
	assert_int_equal(q_i64(fx->db, SQL_PLATFORM_COUNT, NULL), 0);
}

static void check_text(struct db *db, const char *k, const char *want, size_t want_len)
{
	struct db_stmt *st = NULL;
	bool row = false;
	const char *got;

	assert_int_equal(db_prepare(db, SQL_KV_GET, &st), AT_OK);
	db_bind_str(st, 1, k);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_false(db_col_null(st, 0));
	got = db_col_text(st, 0);
	assert_non_null(got);
	assert_int_equal(db_col_len(st, 0), want_len);
	assert_memory_equal(got, want, want_len);
	assert_int_equal(got[want_len], '\0');
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_false(row);
	db_finalize(st);
}

static void test_text_roundtrip(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *k, *v;
	} cases[] = {
		{ "quotes", "it's \"quoted\"; DROP TABLE kv; -- ''" },
		{ "unicode", "na\xc3\xafve caf\xc3\xa9 \xe2\x80\x94 "
			     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 "
			     "\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1" },
		{ "escapes", "C:\\path\\n\\t %s %n $1 ?1 \\x00 \t\r\n end" },
		{ "empty", "" },
	};
	static const char unit[] = "ab\xe2\x82\xac'\"?1 ";	/* 10 bytes, valid UTF-8 */
	size_t big_len = 0, big_cap = 100 * 1024 + sizeof(unit);
	char *big = xmalloc(big_cap);

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(kv_put(fx->db, cases[i].k, cases[i].v, strlen(cases[i].v),
					(int64_t)i),
				 AT_OK);
	while (big_len < 100 * 1024) {
		memcpy(big + big_len, unit, sizeof(unit) - 1);
		big_len += sizeof(unit) - 1;
	}
	assert_int_equal(kv_put(fx->db, "big", big, big_len, 7), AT_OK);
	/* the length is honoured: "hello world" cut to "hello" */
	assert_int_equal(kv_put(fx->db, "cut", "hello world", 5, 8), AT_OK);

	for (size_t i = 0; i < NELEM(cases); i++)
		check_text(fx->db, cases[i].k, cases[i].v, strlen(cases[i].v));
	check_text(fx->db, "big", big, big_len);
	check_text(fx->db, "cut", "hello", 5);
	assert_int_equal(q_i64(fx->db, "SELECT LENGTH(t) FROM kv WHERE k = ?1", "unicode"), 24);
	xfree(big);
}

static void test_int64(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *k;
		int64_t v;
		const char *txt;
	} cases[] = {
		{ "min", INT64_MIN, "-9223372036854775808" },
		{ "min1", INT64_MIN + 1, "-9223372036854775807" },
		{ "m1", -1, "-1" },
		{ "zero", 0, "0" },
		{ "one", 1, "1" },
		{ "big32", (int64_t)INT32_MAX + 1, "2147483648" },
		{ "max", INT64_MAX, "9223372036854775807" },
	};
	struct db_stmt *st = NULL;
	bool row = false;

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(kv_put(fx->db, cases[i].k, "x", 1, cases[i].v), AT_OK);
	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(db_prepare(fx->db, SQL_KV_GET, &st), AT_OK);
		db_bind_str(st, 1, cases[i].k);
		assert_int_equal(db_step(st, &row), AT_OK);
		assert_true(row);
		assert_true(db_col_i64(st, 1) == cases[i].v);
		assert_string_equal(db_col_text(st, 1), cases[i].txt);
		db_finalize(st);
		/* the server compares the bound value, not a rounded one */
		assert_int_equal(db_prepare(fx->db, "SELECT k FROM kv WHERE n = ?1", &st),
				 AT_OK);
		db_bind_i64(st, 1, cases[i].v);
		assert_int_equal(db_step(st, &row), AT_OK);
		assert_true(row);
		assert_string_equal(db_col_text(st, 0), cases[i].k);
		db_finalize(st);
	}
}

/* Aggregates and comparisons read the same on both backends (PostgreSQL: numeric, boolean). */
static void test_numeric_reads(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(kv_put(fx->db, "a", "x", 1, 1), AT_OK);
	assert_int_equal(kv_put(fx->db, "b", "x", 1, 2), AT_OK);
	assert_int_equal(db_prepare(fx->db, "SELECT AVG(n), SUM(n), MAX(n) = 2, MIN(n) = 2,"
				    " COUNT(*) FROM kv", &st), AT_OK);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_int_equal(db_col_i64(st, 0), 1);		/* 1.5 truncated */
	assert_int_equal(db_col_i64(st, 1), 3);
	assert_int_equal(db_col_i64(st, 2), 1);
	assert_int_equal(db_col_i64(st, 3), 0);
	assert_int_equal(db_col_i64(st, 4), 2);
	assert_int_equal(db_col_i64(st, 9), 0);		/* no such column */
	assert_null(db_col_text(st, 9));
	assert_true(db_col_null(st, 9));
	db_finalize(st);
}

static void check_null(struct db *db, const char *k)
{
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(db_prepare(db, SQL_KV_GET, &st), AT_OK);
	db_bind_str(st, 1, k);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	for (int col = 0; col < 2; col++) {
		assert_true(db_col_null(st, col));
		assert_null(db_col_text(st, col));
		assert_int_equal(db_col_len(st, col), 0);
		assert_int_equal(db_col_i64(st, col), 0);
	}
	db_finalize(st);
}

static void test_null(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_OK);
	db_bind_str(st, 1, "null");
	db_bind_null(st, 2);
	db_bind_null(st, 3);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_OK);
	db_bind_str(st, 1, "textnull");
	db_bind_text(st, 2, NULL, 0);
	db_bind_i64(st, 3, 5);
	db_bind_null(st, 3);			/* a later bind replaces an earlier one */
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_OK);
	db_bind_str(st, 1, "unbound");		/* ?2 and ?3 never bound: NULL */
	db_bind_str(st, 2, NULL);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);

	check_null(fx->db, "null");
	check_null(fx->db, "textnull");
	check_null(fx->db, "unbound");
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM kv WHERE t IS NULL AND n IS NULL",
			       NULL), 3);

	/* the empty string is not NULL */
	assert_int_equal(kv_put(fx->db, "empty", "", 0, 0), AT_OK);
	assert_int_equal(db_prepare(fx->db, SQL_KV_GET, &st), AT_OK);
	db_bind_str(st, 1, "empty");
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_false(db_col_null(st, 0));
	assert_string_equal(db_col_text(st, 0), "");
	db_finalize(st);
}

/* ?N inside literals, quoted identifiers and comments is text, not a parameter. */
static void test_qmark_literal(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(db_prepare(fx->db,
				    "SELECT '?1 is text', 'it''s ?2', ?1 AS \"?3 col\", /* ?4 */"
				    " '''?5''' -- ?6 ?7\n, ?2, '', ''''", &st), AT_OK);
	db_bind_str(st, 1, "one");
	db_bind_i64(st, 2, 42);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), "?1 is text");
	assert_string_equal(db_col_text(st, 1), "it's ?2");
	assert_string_equal(db_col_text(st, 2), "one");
	assert_string_equal(db_col_text(st, 3), "'?5'");
	assert_int_equal(db_col_i64(st, 4), 42);
	assert_string_equal(db_col_text(st, 5), "");
	assert_string_equal(db_col_text(st, 6), "'");
	db_finalize(st);

	/* a ?N kept in the table round-trips untouched */
	assert_int_equal(db_prepare(fx->db, "INSERT INTO kv (k, t) VALUES ('lit', 'x ?1 y')",
				    &st), AT_OK);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);
	check_text(fx->db, "lit", "x ?1 y", 6);

	/* parameter numbers out of range fail on both */
	assert_int_equal(run_sql(fx->db, "SELECT ?0"), AT_DB);
	assert_int_equal(run_sql(fx->db, "SELECT ?300000"), AT_DB);
	assert_int_equal(run_sql(fx->db, "SELECT ?99999999999999999999"), AT_DB);
}

static void test_returning_id(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t id1 = 0, id2 = 0;

	assert_int_equal(platform_put(fx->db, "https://a.example", "c1", "A", &id1), AT_OK);
	assert_int_equal(platform_put(fx->db, "https://b.example", "c1", "B", &id2), AT_OK);
	assert_true(id1 > 0);
	assert_true(id2 > id1);
	assert_int_equal(db_prepare(fx->db, "SELECT issuer, name FROM platform WHERE id = ?1",
				    &st), AT_OK);
	db_bind_i64(st, 1, id2);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), "https://b.example");
	assert_string_equal(db_col_text(st, 1), "B");
	db_finalize(st);
}

static void test_unique_conflict(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t id = 0, id2 = 0;

	assert_int_equal(platform_put(fx->db, "https://a.example", "c1", "first", &id), AT_OK);
	assert_int_equal(platform_put(fx->db, "https://a.example", "c1", "second", &id2),
			 AT_CONFLICT);
	assert_true(ci_contains(db_errmsg(fx->db), "unique"));
	assert_null(strchr(db_errmsg(fx->db), '\n'));
	assert_int_equal(q_i64(fx->db, SQL_PLATFORM_COUNT, NULL), 1);
	assert_int_equal(db_prepare(fx->db, "SELECT name FROM platform WHERE id = ?1", &st),
			 AT_OK);
	db_bind_i64(st, 1, id);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), "first");
	db_finalize(st);

	/* inside a transaction: rollback and the connection is usable again */
	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "k", "v", 1, 1), AT_OK);
	assert_int_equal(kv_put(fx->db, "k", "v", 1, 2), AT_CONFLICT);
	db_rollback(fx->db);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 0);
	assert_int_equal(kv_put(fx->db, "k", "v", 1, 3), AT_OK);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 1);
}

static void test_fk_and_notnull_conflict(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	int64_t id = 0;

	assert_int_equal(db_prepare(fx->db, "INSERT INTO deployment (platform_id, deployment_id,"
				    " created_at) VALUES (?1, ?2, ?3)", &st), AT_OK);
	db_bind_i64(st, 1, 424242);
	db_bind_str(st, 2, "d1");
	db_bind_i64(st, 3, 1);
	assert_int_equal(db_run(st), AT_CONFLICT);
	db_finalize(st);
	assert_true(ci_contains(db_errmsg(fx->db), "foreign key"));
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM deployment", NULL), 0);

	/* NOT NULL is a constraint too */
	assert_int_equal(platform_put(fx->db, NULL, "c1", "x", &id), AT_CONFLICT);
	assert_int_equal(q_i64(fx->db, SQL_PLATFORM_COUNT, NULL), 0);
}

static void test_transaction(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_OK);
	assert_int_equal(kv_put(fx->db, "b", "2", 1, 2), AT_OK);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 2);
	db_rollback(fx->db);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 0);

	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "c", "3", 1, 3), AT_OK);
	assert_int_equal(db_commit(fx->db), AT_OK);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 1);

	/* rollback with nothing open is harmless */
	db_rollback(fx->db);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 1);

	/* no nested transactions; the open one is unharmed */
	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "d", "4", 1, 4), AT_OK);
	assert_int_equal(db_begin(fx->db), AT_DB);
	assert_int_equal(db_commit(fx->db), AT_OK);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 2);
}

static void test_changes(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;

	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_OK);
	assert_int_equal(kv_put(fx->db, "b", "2", 1, 2), AT_OK);
	assert_int_equal(kv_put(fx->db, "c", "3", 1, 3), AT_OK);

	assert_int_equal(db_prepare(fx->db, "UPDATE kv SET n = n + ?1", &st), AT_OK);
	db_bind_i64(st, 1, 10);
	assert_int_equal(db_run(st), AT_OK);
	assert_int_equal(db_changes(st), 3);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, "UPDATE kv SET n = 0 WHERE k = ?1", &st), AT_OK);
	db_bind_str(st, 1, "none");
	assert_int_equal(db_run(st), AT_OK);
	assert_int_equal(db_changes(st), 0);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, "DELETE FROM kv WHERE k IN (?1, ?2)", &st), AT_OK);
	db_bind_str(st, 1, "a");
	db_bind_str(st, 2, "c");
	assert_int_equal(db_run(st), AT_OK);
	assert_int_equal(db_changes(st), 2);
	db_finalize(st);
	assert_int_equal(q_i64(fx->db, "SELECT n FROM kv WHERE k = ?1", "b"), 12);
}

/* DELETE ... RETURNING as a one-time take (the OIDC state and nonce pattern). */
static void test_take_once(void **state)
{
	struct fx *fx = *state;
	static const char take[] =
		"DELETE FROM oidc_state WHERE state = ?1 AND expires_at > ?2"
		" RETURNING nonce, platform_id";
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t pid = 0;

	assert_int_equal(platform_put(fx->db, "https://a.example", "c1", "A", &pid), AT_OK);
	assert_int_equal(db_prepare(fx->db, "INSERT INTO oidc_state (state, secret_hash, nonce,"
				    " platform_id, target_link_uri, expires_at)"
				    " VALUES (?1, 'h', ?2, ?3, 'https://t', ?4)", &st), AT_OK);
	db_bind_str(st, 1, "S1");
	db_bind_str(st, 2, "N1");
	db_bind_i64(st, 3, pid);
	db_bind_i64(st, 4, 2000);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, take, &st), AT_OK);
	db_bind_str(st, 1, "S1");
	db_bind_i64(st, 2, 1000);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), "N1");
	assert_int_equal(db_col_i64(st, 1), pid);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_false(row);
	assert_int_equal(db_changes(st), 1);
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, take, &st), AT_OK);
	db_bind_str(st, 1, "S1");
	db_bind_i64(st, 2, 1000);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_false(row);
	assert_int_equal(db_changes(st), 0);
	db_finalize(st);
}

struct migrator {
	struct db *db;
	pthread_barrier_t *go;
	enum at_rc rc;
	int applied;
	struct at_err err;
};

static void *migrate_thread(void *arg)
{
	struct migrator *m = arg;

	pthread_barrier_wait(m->go);
	m->rc = migrate_run(m->db, &m->applied, &m->err);
	return NULL;
}

/* Two connections migrate an empty database at once: both succeed, one applies. */
static void test_concurrent_migrate(void **state)
{
	struct fx *fx = *state;
	struct migrator m[2];
	pthread_t th[2];
	pthread_barrier_t go;
	struct at_err err = { "" };
	int version = 0;

	assert_int_equal(db_open(fx->url, &fx->db2, &err), AT_OK);
	/* the fault counters are loaded by a first step, before any thread starts */
	assert_int_equal(q_i64(fx->db, "SELECT 1", NULL), 1);
	memset(m, 0, sizeof(m));
	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	for (int i = 0; i < 2; i++) {
		m[i].db = i == 0 ? fx->db : fx->db2;
		m[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 2; i++)
		if (m[i].rc != AT_OK)
			fail_msg("migrator %d: %s: %s", i, at_strerror(m[i].rc), m[i].err.msg);
	assert_true(m[0].applied + m[1].applied >= 1);
	assert_true(m[0].applied == 0 || m[1].applied == 0);
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM schema_version", NULL),
			 m[0].applied + m[1].applied);
	assert_int_equal(migrate_version(fx->db2, &version), AT_OK);
	assert_int_equal(version, migrate_latest());
}

/* ATTEST_FAULT=db_step:2 in a fresh process: the migration's second step fails. */
static void test_fault(void **state)
{
	struct fx *fx = *state;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setenv("ATTEST_FAULT", "db_step:2", 1) == 0 &&
		    setenv("ATTEST_TEST_FAULT_URL", fx->url, 1) == 0)
			execl(g_argv0, g_argv0, "--fault-child", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the child's successful second run is visible here */
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM schema_version", NULL),
			 q_i64(fx->db, "SELECT MAX(version) FROM schema_version", NULL));
}

/* The fault child: exit 0 when every check holds, else 1 with the reason on stderr. */
static int fault_child(const char *url)
{
	struct at_err err = { "" };
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	int applied = -1, version = -1;
	const char *why = NULL;
	enum at_rc rc;

	if (url == NULL || db_open(url, &db, &err) != AT_OK) {
		fprintf(stderr, "fault child: cannot open: %s\n", err.msg);
		return 1;
	}
	/* step 1 reads the version, step 2 records migration 1: it fails and all rolls back */
	rc = migrate_run(db, &applied, &err);
	if (rc != AT_DB || applied != 0 || err.msg[0] == '\0')
		why = "migrate_run under fault did not fail with AT_DB";
	else if (migrate_version(db, &version) != AT_OK || version != 0)
		why = "version is not 0 after the failed migration";
	if (why == NULL) {
		/* the DDL rolled back too: platform does not exist */
		rc = db_prepare(db, SQL_PLATFORM_COUNT, &st);
		if (rc == AT_OK)
			rc = db_run(st);
		db_finalize(st);
		if (rc != AT_DB)
			why = "table platform survived the rollback";
	}
	if (why == NULL) {
		err.msg[0] = '\0';
		rc = migrate_run(db, &applied, &err);
		if (rc != AT_OK || applied < 1)
			why = "migrate_run after the fault did not succeed";
	}
	if (why != NULL)
		fprintf(stderr, "fault child: %s (rc=%s, err=%s, db=%s)\n", why,
			at_strerror(rc), err.msg, db_errmsg(db));
	db_close(db);
	return why == NULL ? 0 : 1;
}

/* ---- PostgreSQL only ---- */

/* E'' strings honour backslash escapes; a bare ? (a jsonb operator) is left alone. */
static void test_pg_qmark_extras(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(db_prepare(fx->db, "SELECT E'\\'?1', ?1, '{\"a\":1}'::jsonb ? 'a',"
				    " e'\\\\' || ?2", &st), AT_OK);
	db_bind_str(st, 1, "p1");
	db_bind_str(st, 2, "p2");
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), "'?1");
	assert_string_equal(db_col_text(st, 1), "p1");
	assert_int_equal(db_col_i64(st, 2), 1);
	assert_string_equal(db_col_text(st, 3), "\\p2");
	db_finalize(st);
}

/* Where SQLite is lenient the PostgreSQL backend refuses rather than guess. */
static void test_pg_bind_errors(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;
	bool row = false;

	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_OK);
	db_bind_str(st, 1, "nul");
	db_bind_text(st, 2, "a\0b", 3);
	assert_int_equal(db_step(st, &row), AT_DB);
	assert_true(ci_contains(db_errmsg(fx->db), "NUL"));
	assert_int_equal(db_step(st, &row), AT_DB);	/* stays failed */
	db_finalize(st);

	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_OK);
	db_bind_str(st, 1, "range");
	db_bind_i64(st, 4, 1);
	assert_int_equal(db_step(st, &row), AT_DB);
	db_finalize(st);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 0);

	/* a server error: message kept, one line, no DETAIL */
	assert_int_equal(run_sql(fx->db, "SELEC 1"), AT_DB);
	assert_true(ci_contains(db_errmsg(fx->db), "syntax error"));
	assert_null(strchr(db_errmsg(fx->db), '\n'));
}

/* End the main connection's server process from a second connection. */
static void kill_backend(struct fx *fx)
{
	struct at_err err = { "" };
	int64_t pid = q_i64(fx->db, "SELECT pg_backend_pid()", NULL);
	struct db_stmt *st = NULL;
	bool row = false;

	if (fx->db2 == NULL)
		assert_int_equal(db_open(fx->url, &fx->db2, &err), AT_OK);
	assert_int_equal(db_prepare(fx->db2, "SELECT pg_terminate_backend(?1, 10000)", &st),
			 AT_OK);
	db_bind_i64(st, 1, pid);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_int_equal(db_col_i64(st, 0), 1);
	db_finalize(st);
}

static void test_pg_reconnect(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_OK);
	kill_backend(fx);
	/* the first statement finds the connection gone ... */
	assert_int_equal(run_sql(fx->db, "SELECT 1"), AT_DB);
	assert_true(db_errmsg(fx->db)[0] != '\0');
	/* ... the next prepare resets it once, with the session settings again */
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 1);
	assert_int_equal(q_i64(fx->db, "SELECT COUNT(*) FROM pg_settings WHERE"
			       " name = 'client_min_messages' AND setting = 'warning'", NULL), 1);
}

/* A connection lost inside a transaction is not silently replaced. */
static void test_pg_lost_in_transaction(void **state)
{
	struct fx *fx = *state;
	struct db_stmt *st = NULL;

	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_OK);
	kill_backend(fx);
	assert_int_equal(kv_put(fx->db, "b", "2", 1, 2), AT_DB);
	/* no reset while the transaction is open: later writes would autocommit alone */
	assert_int_equal(db_prepare(fx->db, SQL_KV_PUT, &st), AT_DB);
	assert_null(st);
	assert_int_equal(db_commit(fx->db), AT_DB);
	db_rollback(fx->db);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 0);
	assert_int_equal(kv_put(fx->db, "c", "3", 1, 3), AT_OK);
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 1);
}

/*
 * A failed statement aborts a PostgreSQL transaction (SQLite only undoes the statement):
 * COMMIT then rolls back on the server and must not report success.
 */
static void test_pg_commit_after_error(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(db_begin(fx->db), AT_OK);
	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_OK);
	assert_int_equal(kv_put(fx->db, "a", "1", 1, 1), AT_CONFLICT);
	assert_int_equal(db_commit(fx->db), AT_DB);
	assert_true(ci_contains(db_errmsg(fx->db), "rolled back"));
	assert_int_equal(q_i64(fx->db, SQL_KV_COUNT, NULL), 0);
	assert_int_equal(db_begin(fx->db), AT_OK);		/* the session is idle again */
	db_rollback(fx->db);
}

/* A serialization failure (40001) is AT_TIMEOUT: the caller may retry. */
static void test_pg_serialization(void **state)
{
	struct fx *fx = *state;
	struct at_err err = { "" };
	struct db_stmt *st = NULL;

	assert_int_equal(kv_put(fx->db, "x", "v", 1, 1), AT_OK);
	assert_int_equal(db_open(fx->url, &fx->db2, &err), AT_OK);
	assert_int_equal(db_exec(fx->db, "BEGIN ISOLATION LEVEL REPEATABLE READ"), AT_OK);
	assert_int_equal(q_i64(fx->db, "SELECT n FROM kv WHERE k = ?1", "x"), 1);
	assert_int_equal(run_sql(fx->db2, "UPDATE kv SET n = 2 WHERE k = 'x'"), AT_OK);
	assert_int_equal(db_prepare(fx->db, "UPDATE kv SET n = 3 WHERE k = ?1", &st), AT_OK);
	db_bind_str(st, 1, "x");
	assert_int_equal(db_run(st), AT_TIMEOUT);
	db_finalize(st);
	db_rollback(fx->db);
	assert_int_equal(q_i64(fx->db, "SELECT n FROM kv WHERE k = ?1", "x"), 2);
}

/* ---- main ---- */

#define FRESH(f, be) cmocka_unit_test_prestate_setup_teardown(f, setup_fresh, teardown, &(be))
#define MIGRATED(f, be) \
	cmocka_unit_test_prestate_setup_teardown(f, setup_migrated, teardown, &(be))
#define BOTH_TESTS(be) \
	FRESH(test_kind_and_bad_db, be), \
	FRESH(test_migrate, be), \
	MIGRATED(test_text_roundtrip, be), \
	MIGRATED(test_int64, be), \
	MIGRATED(test_numeric_reads, be), \
	MIGRATED(test_null, be), \
	MIGRATED(test_qmark_literal, be), \
	MIGRATED(test_returning_id, be), \
	MIGRATED(test_unique_conflict, be), \
	MIGRATED(test_fk_and_notnull_conflict, be), \
	MIGRATED(test_transaction, be), \
	MIGRATED(test_changes, be), \
	MIGRATED(test_take_once, be), \
	FRESH(test_concurrent_migrate, be), \
	FRESH(test_fault, be)

int main(int argc, char **argv)
{
	static const struct CMUnitTest common[] = {
		cmocka_unit_test(test_open_errors),
	};
	static const struct CMUnitTest sqlite[] = {
		BOTH_TESTS(be_sqlite),
	};
	static const struct CMUnitTest pg[] = {
		BOTH_TESTS(be_pg),
		MIGRATED(test_pg_qmark_extras, be_pg),
		MIGRATED(test_pg_bind_errors, be_pg),
		MIGRATED(test_pg_reconnect, be_pg),
		MIGRATED(test_pg_lost_in_transaction, be_pg),
		MIGRATED(test_pg_commit_after_error, be_pg),
		MIGRATED(test_pg_serialization, be_pg),
	};
	int failed = 0;

	if (argc == 2 && strcmp(argv[1], "--fault-child") == 0)
		return fault_child(getenv("ATTEST_TEST_FAULT_URL"));
	g_argv0 = strchr(argv[0], '/') != NULL ? argv[0] : "/proc/self/exe";
	g_pg_url = getenv("ATTEST_TEST_PG");
	if (g_pg_url != NULL && g_pg_url[0] == '\0')
		g_pg_url = NULL;

	failed += cmocka_run_group_tests_name("db_common", common, NULL, NULL);
	failed += cmocka_run_group_tests_name("db_sqlite", sqlite, NULL, NULL);
	if (g_pg_url != NULL) {
		failed += cmocka_run_group_tests_name("db_postgresql", pg, NULL, NULL);
	} else {
		printf("[  SKIPPED ] db_postgresql: %zu tests not run, ATTEST_TEST_PG is not set"
		       " (tests/pg.sh start DIR prints a URL for it)\n", NELEM(pg));
		fflush(stdout);
	}
	return failed == 0 ? 0 : 1;
}
