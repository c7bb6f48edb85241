/* share.c: capability links to evidence files (core/share.h). */
#include <string.h>

#include "core/share.h"
#include "core/token.h"

static const char SQL_FILE[] = "SELECT 1 FROM evidence WHERE id = ?1 AND kind = 'file'";
static const char SQL_PLATFORM[] = "SELECT 1 FROM platform WHERE id = ?1";
static const char SQL_DROP_EXPIRED_OF[] =
	"DELETE FROM evidence_share WHERE evidence_id = ?1 AND expires_at <= ?2";
static const char SQL_CREATE[] =
	"INSERT INTO evidence_share (token_hash, evidence_id, platform_id, created_at, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_RESOLVE[] =
	"SELECT evidence_id, COALESCE(platform_id, 0), created_at, expires_at, fetches"
	" FROM evidence_share WHERE token_hash = ?1 AND expires_at > ?2";
static const char SQL_FETCHED[] =
	"UPDATE evidence_share SET fetches = fetches + 1 WHERE token_hash = ?1 AND expires_at > ?2";
static const char SQL_REVOKE[] = "DELETE FROM evidence_share WHERE token_hash = ?1";
static const char SQL_PURGE[] = "DELETE FROM evidence_share WHERE expires_at <= ?1";

/* A token as share_create makes them: anything else is not looked up at all. */
static bool token_ok(const char *t)
{
	return t != NULL && strlen(t) == SHARE_TOKEN_CHARS &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
		       SHARE_TOKEN_CHARS;
}

/* The stored form of a token: lowercase hex SHA-256. The token has 256 random bits, so a
 * plain hash (no salt, no stretching) is enough: nothing to guess from it. */
static char *hash_of(struct arena *a, const char *token)
{
	return token_sha256_hex(a, token, strlen(token));
}

static enum at_rc exists(struct db *db, const char *sql, int64_t id, bool *found)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_step(st, found);
	}
	db_finalize(st);
	return rc;
}

static enum at_rc run_id_time(struct db *db, const char *sql, int64_t id, int64_t t)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		db_bind_i64(st, 2, t);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

enum at_rc share_create(struct db *db, struct arena *a, int64_t evidence_id,
			int64_t platform_id, int64_t now, char **token, struct at_err *err)
{
	struct db_stmt *st = NULL;
	bool found = false;
	char *t;
	enum at_rc rc = exists(db, SQL_FILE, evidence_id, &found);

	*token = NULL;
	if (rc != AT_OK)
		return at_fail(err, rc, "could not read evidence %lld", (long long)evidence_id);
	if (!found)
		return at_fail(err, AT_NOTFOUND, "evidence %lld is not a stored file",
			       (long long)evidence_id);
	if (platform_id != 0) {
		rc = exists(db, SQL_PLATFORM, platform_id, &found);
		if (rc != AT_OK)
			return at_fail(err, rc, "could not read platform %lld",
				       (long long)platform_id);
		if (!found)
			return at_fail(err, AT_NOTFOUND, "no platform %lld", (long long)platform_id);
	}
	rc = run_id_time(db, SQL_DROP_EXPIRED_OF, evidence_id, now);
	if (rc != AT_OK)
		return at_fail(err, rc, "could not drop expired shares");
	t = token_random(a, SHARE_TOKEN_BYTES);
	rc = db_prepare(db, SQL_CREATE, &st);
	if (rc == AT_OK) {
		db_bind_str(st, 1, hash_of(a, t));
		db_bind_i64(st, 2, evidence_id);
		if (platform_id != 0)
			db_bind_i64(st, 3, platform_id);
		else
			db_bind_null(st, 3);
		db_bind_i64(st, 4, now);
		db_bind_i64(st, 5, now + SHARE_TTL);
		rc = db_run(st);
	}
	db_finalize(st);
	if (rc != AT_OK)
		return at_fail(err, rc, "could not store the share of evidence %lld",
			       (long long)evidence_id);
	*token = t;
	return AT_OK;
}

char *share_path(struct arena *a, const char *token)
{
	return arena_printf(a, SHARE_PATH "%s", token);
}

enum at_rc share_resolve(struct db *db, const char *token, int64_t now, struct share *out)
{
	struct arena *a;
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	if (!token_ok(token))
		return AT_NOTFOUND;
	a = arena_new();
	rc = db_prepare(db, SQL_RESOLVE, &st);
	if (rc == AT_OK) {
		db_bind_str(st, 1, hash_of(a, token));
		db_bind_i64(st, 2, now);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = AT_NOTFOUND;
		if (rc == AT_OK) {
			out->evidence_id = db_col_i64(st, 0);
			out->platform_id = db_col_i64(st, 1);
			out->created_at = db_col_i64(st, 2);
			out->expires_at = db_col_i64(st, 3);
			out->fetches = db_col_i64(st, 4);
		}
	}
	db_finalize(st);
	arena_free(a);
	return rc;
}

/* Run sql (?1 the token's hash, ?2 now when with_now) and report AT_NOTFOUND when it
 * changed no row. */
static enum at_rc change_one(struct db *db, const char *sql, const char *token, bool with_now,
			     int64_t now)
{
	struct arena *a;
	struct db_stmt *st = NULL;
	enum at_rc rc;

	if (!token_ok(token))
		return AT_NOTFOUND;
	a = arena_new();
	rc = db_prepare(db, sql, &st);
	if (rc == AT_OK) {
		db_bind_str(st, 1, hash_of(a, token));
		if (with_now)
			db_bind_i64(st, 2, now);
		rc = db_run(st);
		if (rc == AT_OK && db_changes(st) == 0)
			rc = AT_NOTFOUND;
	}
	db_finalize(st);
	arena_free(a);
	return rc;
}

enum at_rc share_count_fetch(struct db *db, const char *token, int64_t now)
{
	return change_one(db, SQL_FETCHED, token, true, now);
}

enum at_rc share_revoke(struct db *db, const char *token)
{
	return change_one(db, SQL_REVOKE, token, false, 0);
}

enum at_rc share_purge(struct db *db, int64_t now, int64_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_PURGE, &st);

	if (n != NULL)
		*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, now);
		rc = db_run(st);
		if (rc == AT_OK && n != NULL)
			*n = db_changes(st);
	}
	db_finalize(st);
	return rc;
}
