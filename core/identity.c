/* identity.c: storage of users, contexts, memberships, resource links. */
#include "core/identity.h"

static const char SQL_USER_UPSERT[] =
	"INSERT INTO app_user (platform_id, sub, name, given_name, family_name, email, admin,"
	" created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
	" ON CONFLICT (platform_id, sub) DO UPDATE SET"
	" name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE app_user.name END,"
	" given_name = CASE WHEN excluded.given_name <> '' THEN excluded.given_name"
	"  ELSE app_user.given_name END,"
	" family_name = CASE WHEN excluded.family_name <> '' THEN excluded.family_name"
	"  ELSE app_user.family_name END,"
	" email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE app_user.email END,"
	" admin = excluded.admin, updated_at = excluded.updated_at RETURNING id";

static const char *nz(const char *s)
{
	return s ? s : "";
}

static enum at_rc returning_id(struct db_stmt *st, int64_t *id)
{
	bool row;
	enum at_rc rc = db_step(st, &row);

	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	return rc;
}

enum at_rc identity_user_upsert(struct db *db, struct user *u, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_USER_UPSERT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, u->platform_id);
		db_bind_str(st, 2, u->sub);
		db_bind_str(st, 3, nz(u->name));
		db_bind_str(st, 4, nz(u->given_name));
		db_bind_str(st, 5, nz(u->family_name));
		db_bind_str(st, 6, nz(u->email));
		db_bind_i64(st, 7, u->admin);
		db_bind_i64(st, 8, now);
		rc = returning_id(st, &u->id);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_USER_GET[] =
	"SELECT id, platform_id, sub, name, given_name, family_name, email, admin"
	" FROM app_user WHERE id = ?1";

enum at_rc identity_user_get(struct db *db, struct arena *a, int64_t id, struct user *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_USER_GET, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	out->id = db_col_i64(st, 0);
	out->platform_id = db_col_i64(st, 1);
	out->sub = arena_strdup(a, db_col_text(st, 2));
	out->name = arena_strdup(a, db_col_text(st, 3));
	out->given_name = arena_strdup(a, db_col_text(st, 4));
	out->family_name = arena_strdup(a, db_col_text(st, 5));
	out->email = arena_strdup(a, db_col_text(st, 6));
	out->admin = (int)db_col_i64(st, 7);
out:
	db_finalize(st);
	return rc;
}

static const char SQL_CTX_UPSERT[] =
	"INSERT INTO context (platform_id, deployment_id, context_id, label, title, nrps_url,"
	" ags_lineitems, ags_scopes, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
	" ON CONFLICT (platform_id, context_id) DO UPDATE SET"
	" deployment_id = excluded.deployment_id,"
	" label = CASE WHEN excluded.label <> '' THEN excluded.label ELSE context.label END,"
	" title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE context.title END,"
	" nrps_url = CASE WHEN excluded.nrps_url <> '' THEN excluded.nrps_url"
	"  ELSE context.nrps_url END,"
	" ags_lineitems = CASE WHEN excluded.ags_lineitems <> '' THEN excluded.ags_lineitems"
	"  ELSE context.ags_lineitems END,"
	" ags_scopes = CASE WHEN excluded.ags_scopes <> '' THEN excluded.ags_scopes"
	"  ELSE context.ags_scopes END,"
	" updated_at = excluded.updated_at RETURNING id";

enum at_rc identity_context_upsert(struct db *db, struct context *c, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_CTX_UPSERT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, c->platform_id);
		if (c->deployment_row > 0)
			db_bind_i64(st, 2, c->deployment_row);
		else
			db_bind_null(st, 2);
		db_bind_str(st, 3, c->context_id);
		db_bind_str(st, 4, nz(c->label));
		db_bind_str(st, 5, nz(c->title));
		db_bind_str(st, 6, nz(c->nrps_url));
		db_bind_str(st, 7, nz(c->ags_lineitems));
		db_bind_str(st, 8, nz(c->ags_scopes));
		db_bind_i64(st, 9, now);
		rc = returning_id(st, &c->id);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_CTX_GET[] =
	"SELECT id, platform_id, COALESCE(deployment_id, 0), context_id, label, title, nrps_url,"
	" ags_lineitems, ags_scopes FROM context WHERE id = ?1";

enum at_rc identity_context_get(struct db *db, struct arena *a, int64_t id,
				struct context *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_CTX_GET, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	out->id = db_col_i64(st, 0);
	out->platform_id = db_col_i64(st, 1);
	out->deployment_row = db_col_i64(st, 2);
	out->context_id = arena_strdup(a, db_col_text(st, 3));
	out->label = arena_strdup(a, db_col_text(st, 4));
	out->title = arena_strdup(a, db_col_text(st, 5));
	out->nrps_url = arena_strdup(a, db_col_text(st, 6));
	out->ags_lineitems = arena_strdup(a, db_col_text(st, 7));
	out->ags_scopes = arena_strdup(a, db_col_text(st, 8));
out:
	db_finalize(st);
	return rc;
}

static const char SQL_MEMBER_SET[] =
	"INSERT INTO membership (user_id, context_id, roles, role, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, context_id) DO UPDATE SET"
	" roles = excluded.roles, role = excluded.role, updated_at = excluded.updated_at";

enum at_rc identity_membership_set(struct db *db, int64_t user_id, int64_t context_id,
				   const char *roles, int role, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_MEMBER_SET, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, user_id);
		db_bind_i64(st, 2, context_id);
		db_bind_str(st, 3, nz(roles));
		db_bind_i64(st, 4, role);
		db_bind_i64(st, 5, now);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_LINK_UPSERT[] =
	"INSERT INTO resource_link (context_id, link_id, title, ags_lineitem, created_at,"
	" updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
	" ON CONFLICT (context_id, link_id) DO UPDATE SET"
	" title = CASE WHEN excluded.title <> '' THEN excluded.title"
	"  ELSE resource_link.title END,"
	" ags_lineitem = CASE WHEN excluded.ags_lineitem <> '' THEN excluded.ags_lineitem"
	"  ELSE resource_link.ags_lineitem END,"
	" updated_at = excluded.updated_at RETURNING id";

enum at_rc identity_link_upsert(struct db *db, struct resource_link *l, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_LINK_UPSERT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, l->context_id);
		db_bind_str(st, 2, l->link_id);
		db_bind_str(st, 3, nz(l->title));
		db_bind_str(st, 4, nz(l->ags_lineitem));
		db_bind_i64(st, 5, now);
		rc = returning_id(st, &l->id);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_MEMBER_COUNT[] =
	"SELECT COUNT(*) FROM membership WHERE context_id = ?1 AND (role & ?2) <> 0";

enum at_rc identity_member_count(struct db *db, int64_t context_id, int role, int64_t *n)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_MEMBER_COUNT, &st);

	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, context_id);
		db_bind_i64(st, 2, role);
		rc = db_step(st, &row);
		if (rc == AT_OK && row)
			*n = db_col_i64(st, 0);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_USER_LAUNCHED[] =
	"UPDATE app_user SET launched_at = ?2, lms_user_id = CASE WHEN ?3 <> '' THEN ?3"
	" ELSE lms_user_id END WHERE id = ?1";
static const char SQL_CTX_LMS[] =
	"UPDATE context SET lms_course_id = ?2 WHERE id = ?1 AND ?2 <> ''";
static const char SQL_LINK_LMS[] =
	"UPDATE resource_link SET lms_assignment_id = ?2 WHERE id = ?1 AND ?2 <> ''";

static enum at_rc run_id_text(struct db *db, const char *sql, int64_t id, const char *text,
			      int64_t now, bool with_now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		if (with_now) {
			db_bind_i64(st, 2, now);
			db_bind_str(st, 3, nz(text));
		} else {
			db_bind_str(st, 2, nz(text));
		}
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

enum at_rc identity_launch_ids(struct db *db, int64_t user_id, const char *lms_user_id,
			       int64_t context_id, const char *lms_course_id, int64_t link_row,
			       const char *lms_assignment_id, int64_t now)
{
	enum at_rc rc = run_id_text(db, SQL_USER_LAUNCHED, user_id, lms_user_id, now, true);

	if (rc == AT_OK && context_id > 0)
		rc = run_id_text(db, SQL_CTX_LMS, context_id, lms_course_id, now, false);
	if (rc == AT_OK && link_row > 0)
		rc = run_id_text(db, SQL_LINK_LMS, link_row, lms_assignment_id, now, false);
	return rc;
}

static const char SQL_PLACEMENT_BIND[] =
	"UPDATE placement SET link_id = CASE WHEN link_id = '' THEN ?3 ELSE link_id END,"
	" lineitem_url = CASE WHEN lineitem_url = '' THEN ?4 ELSE lineitem_url END"
	" WHERE context_id = ?1 AND resource_id = ?2";

enum at_rc identity_placement_bind(struct db *db, int64_t context_id, const char *resource_id,
				   const char *link_id, const char *lineitem_url)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_PLACEMENT_BIND, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, context_id);
		db_bind_str(st, 2, resource_id);
		db_bind_str(st, 3, nz(link_id));
		db_bind_str(st, 4, nz(lineitem_url));
		rc = db_run(st);
		if (rc == AT_OK && db_changes(st) == 0)
			rc = AT_NOTFOUND;
	}
	db_finalize(st);
	return rc;
}
