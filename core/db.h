/* db.h: the one storage interface. Two backends: SQLite (db_sqlite.c) and PostgreSQL (db_pg.c).
 *
 * SQL is written once, with parameters ?1 .. ?N; the PostgreSQL backend rewrites them to
 * $1 .. $N at prepare time. Timestamps are int64 unix seconds, booleans 0/1 integers.
 * A connection is used by one thread at a time (each worker process opens its own).
 */
#ifndef AT_DB_H
#define AT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

struct arena;
struct db;
struct db_stmt;

enum db_kind { DB_SQLITE, DB_PG };

/*
 * Open url: "sqlite:PATH" (or a bare path) or "postgresql://..." / "postgres://...".
 * Returns AT_OK and sets *out (caller owns: db_close()); AT_BADREQ for an unknown scheme,
 * AT_DB when the database cannot be opened (err says why).
 */
enum at_rc db_open(const char *url, struct db **out, struct at_err *err);
void db_close(struct db *db);				/* NULL-safe */
enum db_kind db_kind(const struct db *db);
const char *db_errmsg(struct db *db);			/* borrowed: last error text */

/* Prepare sql (a literal: values are bound, never formatted in). Caller finalizes. */
enum at_rc db_prepare(struct db *db, const char *sql, struct db_stmt **out);
void db_bind_i64(struct db_stmt *st, int idx, int64_t v);		/* idx is 1-based */
void db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len); /* s NULL: NULL */
void db_bind_str(struct db_stmt *st, int idx, const char *s);		/* strlen(s) */
void db_bind_null(struct db_stmt *st, int idx);

/*
 * Run or advance st. Returns AT_OK with *row true while a row is available, false when done;
 * AT_CONFLICT on a unique/foreign-key/not-null violation; AT_TIMEOUT when the database is
 * busy (SQLite) or a transaction must be retried (PostgreSQL 40001/40P01); AT_TOOBIG;
 * AT_DB on other errors. Text must not contain NUL bytes.
 */
enum at_rc db_step(struct db_stmt *st, bool *row);
int64_t db_col_i64(struct db_stmt *st, int col);	/* col is 0-based; NULL reads as 0 */
const char *db_col_text(struct db_stmt *st, int col);	/* borrowed until next step; NULL if NULL */
size_t db_col_len(struct db_stmt *st, int col);
bool db_col_null(struct db_stmt *st, int col);
int64_t db_changes(struct db_stmt *st);			/* rows changed by a finished write */
void db_finalize(struct db_stmt *st);			/* NULL-safe */

/* Run a parameterless script (several statements: migrations). */
enum at_rc db_exec(struct db *db, const char *sql);

/* Transactions. On SQLite db_begin takes the write lock at once (BEGIN IMMEDIATE); on
 * PostgreSQL read-then-write code relies on unique constraints or atomic statements.
 * After ANY error inside a transaction, call db_rollback: PostgreSQL has aborted it. */
enum at_rc db_begin(struct db *db);
enum at_rc db_commit(struct db *db);
void db_rollback(struct db *db);			/* safe when no transaction is open */

/* Helpers for the common one-shot shapes. */
/* Run a prepared statement to completion, ignoring rows. */
enum at_rc db_run(struct db_stmt *st);

/* Step st (prepared and bound) to its end into an arena array of size-byte elements, one a
 * row, each filled by read(st, a, elem, ud) from the current row (elem starts zeroed); a
 * read that returns other than AT_OK stops there with its code. AT_OK: *out (NULL when
 * there is no row) and *n; otherwise *out NULL and *n 0. st stays the caller's. */
enum at_rc db_rows(struct db_stmt *st, struct arena *a, size_t size,
		   enum at_rc (*read)(struct db_stmt *st, struct arena *a, void *elem, void *ud),
		   void *ud, void **out, size_t *n);

/* db_rows() for sql with ?1 = id: prepares, binds, steps and finalizes (a failed prepare
 * also leaves *out NULL and *n 0). */
enum at_rc db_rows_i64(struct db *db, struct arena *a, const char *sql, int64_t id,
		       size_t size,
		       enum at_rc (*read)(struct db_stmt *st, struct arena *a, void *elem,
					  void *ud),
		       void *ud, void **out, size_t *n);

#endif
