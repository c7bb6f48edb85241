/* sess.c: session storage keyed by token hash. */
#include <string.h>

#include "core/sess.h"
#include "core/token.h"

static const char SQL_CREATE[] =
	"INSERT INTO session (token_hash, user_id, context_id, resource_link_id, role, csrf,"
	" message_type, launch, created_at, expires_at, frame_ancestors)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_LOOKUP[] =
	"SELECT user_id, COALESCE(context_id, 0), COALESCE(resource_link_id, 0), role, csrf,"
	" message_type, launch, expires_at, frame_ancestors FROM session WHERE token_hash = ?1 AND expires_at > ?2";

enum at_rc sess_create(struct db *db, struct arena *a, const struct sess *s, int64_t now,
		       char **token)
{
	struct db_stmt *st = NULL;
	char *t = token_random(a, 32);
	enum at_rc rc = db_prepare(db, SQL_CREATE, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, token_sha256_hex(a, t, strlen(t)));
	db_bind_i64(st, 2, s->user_id);
	if (s->context_id > 0)
		db_bind_i64(st, 3, s->context_id);
	else
		db_bind_null(st, 3);
	if (s->link_id > 0)
		db_bind_i64(st, 4, s->link_id);
	else
		db_bind_null(st, 4);
	db_bind_i64(st, 5, s->role);
	db_bind_str(st, 6, s->csrf);
	db_bind_str(st, 7, s->message_type ? s->message_type : "");
	db_bind_str(st, 8, s->launch ? s->launch : "");
	db_bind_i64(st, 9, now);
	db_bind_i64(st, 10, s->expires_at);
	db_bind_str(st, 11, s->frame_ancestors ? s->frame_ancestors : "");
	rc = db_run(st);
	if (rc == AT_OK)
		*token = t;
out:
	db_finalize(st);
	return rc;
}

enum at_rc sess_lookup(struct db *db, struct arena *a, const char *token, int64_t now,
		       struct sess *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc;

	if (token == NULL || strlen(token) < 16 || strlen(token) > 128)
		return AT_UNAUTH;
	rc = db_prepare(db, SQL_LOOKUP, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, token_sha256_hex(a, token, strlen(token)));
	db_bind_i64(st, 2, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_UNAUTH;
	if (rc != AT_OK)
		goto out;
	out->user_id = db_col_i64(st, 0);
	out->context_id = db_col_i64(st, 1);
	out->link_id = db_col_i64(st, 2);
	out->role = (int)db_col_i64(st, 3);
	out->csrf = arena_strdup(a, db_col_text(st, 4));
	out->message_type = arena_strdup(a, db_col_text(st, 5));
	out->launch = arena_strdup(a, db_col_text(st, 6));
	out->expires_at = db_col_i64(st, 7);
	out->frame_ancestors = arena_strdup(a, db_col_text(st, 8));
out:
	db_finalize(st);
	return rc;
}

enum at_rc sess_purge(struct db *db, int64_t now, int64_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, "DELETE FROM session WHERE expires_at <= ?1", &st);

	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, now);
		rc = db_run(st);
		*n = db_changes(st);
	}
	db_finalize(st);
	return rc;
}
