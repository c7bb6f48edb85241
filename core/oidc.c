/* oidc.c: login state and nonce storage. Deletion is the one-time guarantee: DELETE ...
 * RETURNING is atomic in both backends, so two workers cannot both take one state. */
#include "core/oidc.h"

static const char SQL_PURGE[] = "DELETE FROM oidc_state WHERE expires_at < ?1";
static const char SQL_PURGE_NONCE[] = "DELETE FROM nonce_used WHERE expires_at < ?1";
static const char SQL_PUT[] =
	"INSERT INTO oidc_state (state, secret_hash, nonce, platform_id, target_link_uri,"
	" deployment_hint, storage, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_PEEK[] =
	"SELECT state, secret_hash, nonce, platform_id, target_link_uri, deployment_hint,"
	" storage, expires_at FROM oidc_state WHERE state = ?1 AND expires_at >= ?2";
static const char SQL_TAKE[] =
	"DELETE FROM oidc_state WHERE state = ?1 AND expires_at >= ?2"
	" RETURNING state, secret_hash, nonce, platform_id, target_link_uri, deployment_hint,"
	" storage, expires_at";
static const char SQL_NONCE[] =
	"INSERT INTO nonce_used (platform_id, nonce, expires_at) VALUES (?1, ?2, ?3)";

static enum at_rc purge(struct db *db, const char *sql, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, now);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

enum at_rc oidc_state_put(struct db *db, const struct oidc_state *s, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = purge(db, SQL_PURGE, now);

	if (rc != AT_OK)
		return rc;
	rc = db_prepare(db, SQL_PUT, &st);
	if (rc == AT_OK) {
		db_bind_str(st, 1, s->state);
		db_bind_str(st, 2, s->secret_hash);
		db_bind_str(st, 3, s->nonce);
		db_bind_i64(st, 4, s->platform_id);
		db_bind_str(st, 5, s->target_link_uri);
		db_bind_str(st, 6, s->deployment_hint);
		db_bind_i64(st, 7, s->storage);
		db_bind_i64(st, 8, s->expires_at);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static enum at_rc fetch(struct db *db, const char *sql, struct arena *a, const char *state,
			int64_t now, struct oidc_state *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, state);
	db_bind_i64(st, 2, now);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = AT_NOTFOUND;
		goto out;
	}
	out->state = arena_strdup(a, db_col_text(st, 0));
	out->secret_hash = arena_strdup(a, db_col_text(st, 1));
	out->nonce = arena_strdup(a, db_col_text(st, 2));
	out->platform_id = db_col_i64(st, 3);
	out->target_link_uri = arena_strdup(a, db_col_text(st, 4));
	out->deployment_hint = arena_strdup(a, db_col_text(st, 5));
	out->storage = (int)db_col_i64(st, 6);
	out->expires_at = db_col_i64(st, 7);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

enum at_rc oidc_state_peek(struct db *db, struct arena *a, const char *state, int64_t now,
			   struct oidc_state *out)
{
	return fetch(db, SQL_PEEK, a, state, now, out);
}

enum at_rc oidc_state_take(struct db *db, struct arena *a, const char *state, int64_t now,
			   struct oidc_state *out)
{
	return fetch(db, SQL_TAKE, a, state, now, out);
}

enum at_rc oidc_nonce_use(struct db *db, int64_t platform_id, const char *nonce,
			  int64_t expires_at, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = purge(db, SQL_PURGE_NONCE, now);

	if (rc != AT_OK)
		return rc;
	rc = db_prepare(db, SQL_NONCE, &st);
	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		db_bind_str(st, 2, nonce);
		db_bind_i64(st, 3, expires_at);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}
