/* db_sqlite.c: the embedded SQLite backend (WAL, foreign keys, busy timeout). */
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "core/db_impl.h"
#include "core/mem.h"

struct sdb {
	struct db base;
	sqlite3 *h;
};

struct sstmt {
	struct db_stmt base;
	sqlite3_stmt *st;
	int64_t changes;
};

static const struct db_ops sqlite_ops;

/* Busy handler: SQLite's default sleeps in growing steps (up to 100 ms), which puts whole
 * steps into launch latency when workers contend for the write lock. Retry every 0.5 ms
 * instead, for at most 5 s in all. */
static int on_busy(void *ud, int count)
{
	(void)ud;
	if (count >= 10000)
		return 0;
	usleep(500);
	return 1;
}

static sqlite3 *H(struct db *db)
{
	return ((struct sdb *)db)->h;
}

static enum at_rc map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return AT_OK;
	case SQLITE_CONSTRAINT:
		return AT_CONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return AT_TIMEOUT;
	case SQLITE_TOOBIG:
		return AT_TOOBIG;
	default:
		return AT_DB;
	}
}

enum at_rc db_sqlite_open(const char *path, struct db **out, struct at_err *err)
{
	struct sdb *d = xcalloc(1, sizeof(*d));
	int rc;

	d->base.ops = &sqlite_ops;
	d->base.kind = DB_SQLITE;
	rc = sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		at_fail(err, AT_DB, "cannot open sqlite database %s: %s", path,
			d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		sqlite3_close(d->h);
		xfree(d);
		return AT_DB;
	}
	sqlite3_busy_handler(d->h, on_busy, NULL);
	sqlite3_extended_result_codes(d->h, 1);
	rc = sqlite3_exec(d->h, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			  " PRAGMA synchronous=FULL;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		at_fail(err, AT_DB, "cannot configure sqlite database %s: %s", path,
			sqlite3_errmsg(d->h));
		sqlite3_close(d->h);
		xfree(d);
		return AT_DB;
	}
	*out = &d->base;
	return AT_OK;
}

static void s_close(struct db *db)
{
	sqlite3_close(H(db));
	xfree(db);
}

static const char *s_errmsg(struct db *db)
{
	return sqlite3_errmsg(H(db));
}

static enum at_rc s_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct sstmt *s;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(H(db), sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return map_rc(rc) == AT_OK ? AT_DB : map_rc(rc);
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->base.db = db;
	s->st = st;
	*out = &s->base;
	return AT_OK;
}

static sqlite3_stmt *S(struct db_stmt *st)
{
	return ((struct sstmt *)st)->st;
}

static void s_bind_i64(struct db_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(S(st), idx, v);
}

static void s_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
	sqlite3_bind_text64(S(st), idx, s, len, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void s_bind_null(struct db_stmt *st, int idx)
{
	sqlite3_bind_null(S(st), idx);
}

static enum at_rc s_step(struct db_stmt *st, bool *row)
{
	int rc = sqlite3_step(S(st));

	if (rc == SQLITE_ROW) {
		*row = true;
		return AT_OK;
	}
	if (rc == SQLITE_DONE) {
		((struct sstmt *)st)->changes = sqlite3_changes64(H(st->db));
		return AT_OK;
	}
	return map_rc(rc) == AT_OK ? AT_DB : map_rc(rc);
}

static int64_t s_col_i64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(S(st), col);
}

static const char *s_col_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(S(st), col);
}

static size_t s_col_len(struct db_stmt *st, int col)
{
	(void)sqlite3_column_text(S(st), col);
	return (size_t)sqlite3_column_bytes(S(st), col);
}

static bool s_col_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(S(st), col) == SQLITE_NULL;
}

static int64_t s_changes(struct db_stmt *st)
{
	return ((struct sstmt *)st)->changes;
}

static void s_finalize(struct db_stmt *st)
{
	sqlite3_finalize(S(st));
	xfree(st);
}

static enum at_rc s_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(H(db), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? AT_OK : (map_rc(rc) == AT_OK ? AT_DB : map_rc(rc));
}

static enum at_rc s_begin(struct db *db)
{
	return s_exec(db, "BEGIN IMMEDIATE");
}

static const struct db_ops sqlite_ops = {
	.close = s_close,
	.errmsg = s_errmsg,
	.prepare = s_prepare,
	.bind_i64 = s_bind_i64,
	.bind_text = s_bind_text,
	.bind_null = s_bind_null,
	.step = s_step,
	.col_i64 = s_col_i64,
	.col_text = s_col_text,
	.col_len = s_col_len,
	.col_null = s_col_null,
	.changes = s_changes,
	.finalize = s_finalize,
	.exec = s_exec,
	.begin = s_begin,
};
