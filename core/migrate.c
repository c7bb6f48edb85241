/* migrate.c: the schema, as numbered migrations. Never edit a shipped migration: add one.
 *
 * DDL is written once; "@ID" becomes the backend's auto-increment key column.
 * All integers are BIGINT (timestamps are unix seconds); no fixed small text sizes
 * (Canvas sends long nonces, ids and names).
 */
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/migrate.h"

static const char M1[] =
	"CREATE TABLE platform ("
	" id @ID,"
	" issuer TEXT NOT NULL,"
	" client_id TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" flavor TEXT NOT NULL DEFAULT 'generic',"
	" auth_endpoint TEXT NOT NULL,"
	" token_endpoint TEXT NOT NULL DEFAULT '',"
	" jwks_uri TEXT NOT NULL,"
	" auth_server TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL DEFAULT 'manual',"
	" scopes TEXT NOT NULL DEFAULT '',"
	" jwks_body TEXT,"
	" jwks_fetched_at BIGINT NOT NULL DEFAULT 0,"
	" jwks_expires_at BIGINT NOT NULL DEFAULT 0,"
	" jwks_lock_until BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (issuer, client_id));"
	"CREATE TABLE platform_origin ("
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" origin TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" PRIMARY KEY (platform_id, origin));"
	"CREATE TABLE deployment ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" deployment_id TEXT NOT NULL,"
	" learned BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, deployment_id));"
	"CREATE TABLE oidc_state ("
	" state TEXT PRIMARY KEY,"
	" secret_hash TEXT NOT NULL,"
	" nonce TEXT NOT NULL,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" target_link_uri TEXT NOT NULL,"
	" deployment_hint TEXT,"
	" storage BIGINT NOT NULL DEFAULT 0,"
	" expires_at BIGINT NOT NULL);"
	"CREATE INDEX oidc_state_expires ON oidc_state(expires_at);"
	"CREATE TABLE nonce_used ("
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" nonce TEXT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" PRIMARY KEY (platform_id, nonce));"
	"CREATE TABLE app_user ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" sub TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" given_name TEXT NOT NULL DEFAULT '',"
	" family_name TEXT NOT NULL DEFAULT '',"
	" email TEXT NOT NULL DEFAULT '',"
	" admin BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, sub));"
	"CREATE TABLE context ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" deployment_id BIGINT REFERENCES deployment(id) ON DELETE SET NULL,"
	" context_id TEXT NOT NULL,"
	" label TEXT NOT NULL DEFAULT '',"
	" title TEXT NOT NULL DEFAULT '',"
	" nrps_url TEXT NOT NULL DEFAULT '',"
	" ags_lineitems TEXT NOT NULL DEFAULT '',"
	" ags_scopes TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, context_id));"
	"CREATE TABLE membership ("
	" user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" context_id BIGINT NOT NULL REFERENCES context(id) ON DELETE CASCADE,"
	" roles TEXT NOT NULL DEFAULT '',"
	" role BIGINT NOT NULL DEFAULT 0,"
	" updated_at BIGINT NOT NULL,"
	" PRIMARY KEY (user_id, context_id));"
	"CREATE TABLE resource_link ("
	" id @ID,"
	" context_id BIGINT NOT NULL REFERENCES context(id) ON DELETE CASCADE,"
	" link_id TEXT NOT NULL,"
	" title TEXT NOT NULL DEFAULT '',"
	" ags_lineitem TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (context_id, link_id));"
	"CREATE TABLE session ("
	" token_hash TEXT PRIMARY KEY,"
	" user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" context_id BIGINT REFERENCES context(id) ON DELETE CASCADE,"
	" resource_link_id BIGINT REFERENCES resource_link(id) ON DELETE SET NULL,"
	" role BIGINT NOT NULL DEFAULT 0,"
	" csrf TEXT NOT NULL,"
	" message_type TEXT NOT NULL DEFAULT '',"
	" launch TEXT NOT NULL DEFAULT '',"
	" frame_ancestors TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL);"
	"CREATE INDEX session_expires ON session(expires_at);"
	"CREATE TABLE tool_key ("
	" kid TEXT PRIMARY KEY,"
	" public_jwk TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" sign_from BIGINT NOT NULL,"
	" retire_at BIGINT);";

static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{ 1, M1 },
};

int migrate_latest(void)
{
	return migrations[NELEM(migrations) - 1].version;
}

static const char SQL_META[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
static const char SQL_EXISTS_SQLITE[] =
	"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
static const char SQL_EXISTS_PG[] =
	"SELECT COUNT(*) FROM information_schema.tables"
	" WHERE table_schema = current_schema() AND table_name = 'schema_version'";
static const char SQL_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char SQL_RECORD[] =
	"INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)";

enum at_rc migrate_version(struct db *db, int *version)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc;

	*version = 0;
	rc = db_prepare(db, db_kind(db) == DB_PG ? SQL_EXISTS_PG : SQL_EXISTS_SQLITE, &st);
	if (rc != AT_OK)
		goto out;
	rc = db_step(st, &row);
	if (rc != AT_OK || !row || db_col_i64(st, 0) == 0)
		goto out;	/* an empty database: version 0 */
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_VERSION, &st);
	if (rc != AT_OK)
		goto out;
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*version = (int)db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

/* Expand @ID for this backend into b. */
static enum at_rc expand(struct db *db, const char *sql, struct buf *b)
{
	const char *id = db_kind(db) == DB_PG ?
		"BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" :
		"INTEGER PRIMARY KEY";
	const char *p = sql, *at;
	enum at_rc rc = AT_OK;

	while (rc == AT_OK && (at = strstr(p, "@ID")) != NULL) {
		rc = buf_append(b, p, (size_t)(at - p));
		if (rc == AT_OK)
			rc = buf_puts(b, id);
		p = at + 3;
	}
	if (rc == AT_OK)
		rc = buf_puts(b, p);
	return rc;
}

enum at_rc migrate_run(struct db *db, int *applied, struct at_err *err)
{
	struct buf b;
	struct db_stmt *st = NULL;
	int current = 0;
	enum at_rc rc;

	*applied = 0;
	buf_init(&b, 1 << 20);
	rc = db_begin(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot begin migration: %s", db_errmsg(db));
		goto out_nt;
	}
	if (db_kind(db) == DB_PG) {
		rc = db_exec(db, "SELECT pg_advisory_xact_lock(7273726)");
		if (rc != AT_OK)
			goto out;
	}
	/* Inside the lock: two hosts migrating at once cannot both create it. */
	rc = db_exec(db, SQL_META);
	if (rc == AT_OK)
		rc = migrate_version(db, &current);
	if (rc != AT_OK)
		goto out;
	for (size_t i = 0; i < NELEM(migrations); i++) {
		if (migrations[i].version <= current)
			continue;
		buf_reset(&b);
		rc = expand(db, migrations[i].sql, &b);
		if (rc == AT_OK)
			rc = db_exec(db, buf_cstr(&b));
		if (rc != AT_OK) {
			at_fail(err, rc, "migration %d failed: %s", migrations[i].version,
				db_errmsg(db));
			goto out;
		}
		rc = db_prepare(db, SQL_RECORD, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, migrations[i].version);
		db_bind_i64(st, 2, (int64_t)time(NULL));
		rc = db_run(st);
		db_finalize(st);
		st = NULL;
		if (rc != AT_OK)
			goto out;
		(*applied)++;
	}
	rc = db_commit(db);
	if (rc != AT_OK)
		at_fail(err, rc, "cannot commit migration: %s", db_errmsg(db));
out:
	if (rc != AT_OK) {
		if (err != NULL && err->msg[0] == '\0')
			at_fail(err, rc, "migration failed: %s", db_errmsg(db));
		db_rollback(db);
		*applied = 0;
	}
out_nt:
	buf_cleanup(&b);
	return rc;
}
