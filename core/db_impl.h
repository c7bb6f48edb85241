/* db_impl.h: what a storage backend provides. Only db.c and db_*.c include this. */
#ifndef AT_DB_IMPL_H
#define AT_DB_IMPL_H

#include "core/db.h"

struct db_ops {
	void (*close)(struct db *db);
	const char *(*errmsg)(struct db *db);
	enum at_rc (*prepare)(struct db *db, const char *sql, struct db_stmt **out);
	void (*bind_i64)(struct db_stmt *st, int idx, int64_t v);
	void (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t len);
	void (*bind_null)(struct db_stmt *st, int idx);
	enum at_rc (*step)(struct db_stmt *st, bool *row);
	int64_t (*col_i64)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col);
	size_t (*col_len)(struct db_stmt *st, int col);
	bool (*col_null)(struct db_stmt *st, int col);
	int64_t (*changes)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	enum at_rc (*exec)(struct db *db, const char *sql);
	enum at_rc (*begin)(struct db *db);
};

/* Every backend's struct db and struct db_stmt start with these. */
struct db {
	const struct db_ops *ops;
	enum db_kind kind;
};

struct db_stmt {
	const struct db_ops *ops;
	struct db *db;
};

enum at_rc db_sqlite_open(const char *path, struct db **out, struct at_err *err);
enum at_rc db_pg_open(const char *conninfo, struct db **out, struct at_err *err);

#endif
