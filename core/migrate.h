/* migrate.h: versioned schema migrations for both backends. */
#ifndef AT_MIGRATE_H
#define AT_MIGRATE_H

#include "core/db.h"

/* Bring the schema to the newest version. Idempotent; safe with concurrent callers
 * (SQLite: write lock; PostgreSQL: advisory lock). *applied = migrations run now. */
enum at_rc migrate_run(struct db *db, int *applied, struct at_err *err);
int migrate_latest(void);
/* Current schema version of db, 0 when empty. Reads only. */
enum at_rc migrate_version(struct db *db, int *version);

#endif
