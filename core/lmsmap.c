/* lmsmap.c: the lms_map table. */
#include "core/lmsmap.h"

static const char SQL_GET[] =
	"SELECT remote_id FROM lms_map WHERE platform_id = ?1 AND kind = ?2 AND local_key = ?3";
static const char SQL_PUT[] =
	"INSERT INTO lms_map (platform_id, kind, local_key, remote_id, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (platform_id, kind, local_key)"
	" DO UPDATE SET remote_id = excluded.remote_id, updated_at = excluded.updated_at";
static const char SQL_DEL[] =
	"DELETE FROM lms_map WHERE platform_id = ?1 AND kind = ?2 AND local_key = ?3";

enum at_rc lmsmap_get(struct db *db, struct arena *a, int64_t platform_id, const char *kind,
		      const char *key, char **remote)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_GET, &st);

	*remote = NULL;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, platform_id);
	db_bind_str(st, 2, kind);
	db_bind_str(st, 3, key);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		*remote = arena_strdup(a, db_col_text(st, 0) ? db_col_text(st, 0) : "");
out:
	db_finalize(st);
	return rc;
}

enum at_rc lmsmap_put(struct db *db, int64_t platform_id, const char *kind, const char *key,
		      const char *remote, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_PUT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		db_bind_str(st, 2, kind);
		db_bind_str(st, 3, key);
		db_bind_str(st, 4, remote);
		db_bind_i64(st, 5, now);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

enum at_rc lmsmap_del(struct db *db, int64_t platform_id, const char *kind, const char *key)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_DEL, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		db_bind_str(st, 2, kind);
		db_bind_str(st, 3, key);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}
