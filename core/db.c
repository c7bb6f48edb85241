/* db.c: backend dispatch and small helpers shared by both backends. */
#include <string.h>

#include "core/arena.h"
#include "core/db_impl.h"
#include "core/fault.h"

enum at_rc db_open(const char *url, struct db **out, struct at_err *err)
{
	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return at_fail(err, AT_BADREQ, "empty database url");
	if (strncmp(url, "sqlite:", 7) == 0)
		return db_sqlite_open(url + 7, out, err);
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return db_pg_open(url, out, err);
	if (strchr(url, ':') == NULL)
		return db_sqlite_open(url, out, err);
	return at_fail(err, AT_BADREQ,
		       "database url must start with sqlite: or postgresql://");
}

void db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

enum db_kind db_kind(const struct db *db)
{
	return db->kind;
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

enum at_rc db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, out);
}

void db_bind_i64(struct db_stmt *st, int idx, int64_t v)
{
	st->ops->bind_i64(st, idx, v);
}

void db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
	if (s == NULL)
		st->ops->bind_null(st, idx);
	else
		st->ops->bind_text(st, idx, s, len);
}

void db_bind_str(struct db_stmt *st, int idx, const char *s)
{
	db_bind_text(st, idx, s, s ? strlen(s) : 0);
}

void db_bind_null(struct db_stmt *st, int idx)
{
	st->ops->bind_null(st, idx);
}

enum at_rc db_step(struct db_stmt *st, bool *row)
{
	*row = false;
	if (fault_hit("db_step"))
		return AT_DB;
	return st->ops->step(st, row);
}

int64_t db_col_i64(struct db_stmt *st, int col)
{
	return st->ops->col_i64(st, col);
}

const char *db_col_text(struct db_stmt *st, int col)
{
	return st->ops->col_text(st, col);
}

size_t db_col_len(struct db_stmt *st, int col)
{
	return st->ops->col_len(st, col);
}

bool db_col_null(struct db_stmt *st, int col)
{
	return st->ops->col_null(st, col);
}

int64_t db_changes(struct db_stmt *st)
{
	return st->ops->changes(st);
}

void db_finalize(struct db_stmt *st)
{
	if (st != NULL)
		st->ops->finalize(st);
}

enum at_rc db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

enum at_rc db_begin(struct db *db)
{
	return db->ops->begin(db);
}

enum at_rc db_commit(struct db *db)
{
	return db->ops->exec(db, "COMMIT");
}

void db_rollback(struct db *db)
{
	(void)db->ops->exec(db, "ROLLBACK");
}

enum at_rc db_run(struct db_stmt *st)
{
	bool row = true;
	enum at_rc rc = AT_OK;

	while (rc == AT_OK && row)
		rc = db_step(st, &row);
	return rc;
}

enum at_rc db_rows(struct db_stmt *st, struct arena *a, size_t size,
		   enum at_rc (*read)(struct db_stmt *st, struct arena *a, void *elem, void *ud),
		   void *ud, void **out, size_t *n)
{
	unsigned char *v = NULL;
	size_t cap = 0;
	bool row;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		v = arena_reserve(a, v, *n, &cap, size);
		rc = read(st, a, v + *n * size, ud);
		if (rc != AT_OK)
			break;
		(*n)++;
	}
	if (rc != AT_OK)
		*n = 0;
	else
		*out = v;
	return rc;
}

enum at_rc db_rows_i64(struct db *db, struct arena *a, const char *sql, int64_t id,
		       size_t size,
		       enum at_rc (*read)(struct db_stmt *st, struct arena *a, void *elem,
					  void *ud),
		       void *ud, void **out, size_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		return rc;
	db_bind_i64(st, 1, id);
	rc = db_rows(st, a, size, read, ud, out, n);
	db_finalize(st);
	return rc;
}
