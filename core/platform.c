/* platform.c: storage of platform registrations, deployments, JWKS cache, frame origins. */
#include <string.h>

#include "core/platform.h"

static const char SQL_INSERT[] =
	"INSERT INTO platform (issuer, client_id, name, flavor, auth_endpoint, token_endpoint,"
	" jwks_uri, auth_server, source, scopes, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id";
static const char SQL_UPSERT[] =
	"INSERT INTO platform (issuer, client_id, name, flavor, auth_endpoint, token_endpoint,"
	" jwks_uri, auth_server, source, scopes, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT (issuer, client_id) DO UPDATE SET name = excluded.name,"
	" flavor = excluded.flavor, auth_endpoint = excluded.auth_endpoint,"
	" token_endpoint = excluded.token_endpoint, jwks_uri = excluded.jwks_uri,"
	" auth_server = excluded.auth_server, source = excluded.source,"
	" scopes = excluded.scopes, jwks_body = NULL, jwks_expires_at = 0 RETURNING id";

static void bind_platform(struct db_stmt *st, const struct platform *p, int64_t now)
{
	db_bind_str(st, 1, p->issuer);
	db_bind_str(st, 2, p->client_id);
	db_bind_str(st, 3, p->name ? p->name : "");
	db_bind_str(st, 4, p->flavor ? p->flavor : "generic");
	db_bind_str(st, 5, p->auth_endpoint);
	db_bind_str(st, 6, p->token_endpoint ? p->token_endpoint : "");
	db_bind_str(st, 7, p->jwks_uri);
	db_bind_str(st, 8, p->auth_server ? p->auth_server : "");
	db_bind_str(st, 9, p->source ? p->source : "manual");
	db_bind_str(st, 10, p->scopes ? p->scopes : "");
	db_bind_i64(st, 11, now);
}

static enum at_rc insert(struct db *db, const char *sql, struct platform *p, int64_t now)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	bind_platform(st, p, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		p->id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

enum at_rc platform_add(struct db *db, struct platform *p, int64_t now)
{
	return insert(db, SQL_INSERT, p, now);
}

enum at_rc platform_upsert(struct db *db, struct platform *p, int64_t now)
{
	return insert(db, SQL_UPSERT, p, now);
}

static void read_row(struct db_stmt *st, struct arena *a, struct platform *p)
{
	p->id = db_col_i64(st, 0);
	p->issuer = arena_strdup(a, db_col_text(st, 1));
	p->client_id = arena_strdup(a, db_col_text(st, 2));
	p->name = arena_strdup(a, db_col_text(st, 3));
	p->flavor = arena_strdup(a, db_col_text(st, 4));
	p->auth_endpoint = arena_strdup(a, db_col_text(st, 5));
	p->token_endpoint = arena_strdup(a, db_col_text(st, 6));
	p->jwks_uri = arena_strdup(a, db_col_text(st, 7));
	p->auth_server = arena_strdup(a, db_col_text(st, 8));
	p->source = arena_strdup(a, db_col_text(st, 9));
	p->scopes = arena_strdup(a, db_col_text(st, 10));
	p->jwks_body = arena_strdup(a, db_col_text(st, 11));
	p->jwks_fetched_at = db_col_i64(st, 12);
	p->jwks_expires_at = db_col_i64(st, 13);
	p->created_at = db_col_i64(st, 14);
	p->lms_url = arena_strdup(a, db_col_text(st, 15) ? db_col_text(st, 15) : "");
	p->lms_token = arena_strdup(a, db_col_text(st, 16) ? db_col_text(st, 16) : "");
}

static const char SQL_FIND[] =
	"SELECT id, issuer, client_id, name, flavor, auth_endpoint, token_endpoint, jwks_uri,"
	" auth_server, source, scopes, jwks_body, jwks_fetched_at, jwks_expires_at, created_at,"
	" lms_url, lms_token FROM platform WHERE issuer = ?1 AND client_id = ?2";
static const char SQL_FIND_ISS[] =
	"SELECT id, issuer, client_id, name, flavor, auth_endpoint, token_endpoint, jwks_uri,"
	" auth_server, source, scopes, jwks_body, jwks_fetched_at, jwks_expires_at, created_at,"
	" lms_url, lms_token FROM platform WHERE issuer = ?1 ORDER BY id LIMIT 2";
static const char SQL_GET[] =
	"SELECT id, issuer, client_id, name, flavor, auth_endpoint, token_endpoint, jwks_uri,"
	" auth_server, source, scopes, jwks_body, jwks_fetched_at, jwks_expires_at, created_at,"
	" lms_url, lms_token FROM platform WHERE id = ?1";
static const char SQL_ALL[] =
	"SELECT id, issuer, client_id, name, flavor, auth_endpoint, token_endpoint, jwks_uri,"
	" auth_server, source, scopes, jwks_body, jwks_fetched_at, jwks_expires_at, created_at,"
	" lms_url, lms_token FROM platform ORDER BY id";

enum at_rc platform_find(struct db *db, struct arena *a, const char *issuer,
			 const char *client_id, struct platform *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, client_id ? SQL_FIND : SQL_FIND_ISS, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, issuer);
	if (client_id)
		db_bind_str(st, 2, client_id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = AT_NOTFOUND;
		goto out;
	}
	read_row(st, a, out);
	if (client_id == NULL) {
		rc = db_step(st, &row);
		if (rc == AT_OK && row)
			rc = AT_CONFLICT;
	}
out:
	db_finalize(st);
	return rc;
}

enum at_rc platform_get(struct db *db, struct arena *a, int64_t id, struct platform *out)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_GET, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		read_row(st, a, out);
out:
	db_finalize(st);
	return rc;
}

enum at_rc platform_each(struct db *db, struct arena *a,
			 void (*fn)(const struct platform *p, void *ud), void *ud)
{
	struct db_stmt *st = NULL;
	bool row = true;
	struct platform p;
	enum at_rc rc = db_prepare(db, SQL_ALL, &st);

	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		read_row(st, a, &p);
		fn(&p, ud);
	}
	db_finalize(st);
	return rc;
}

static enum at_rc exec_id(struct db *db, const char *sql, int64_t id, int64_t *changes)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_run(st);
		if (changes)
			*changes = db_changes(st);
	}
	db_finalize(st);
	return rc;
}

enum at_rc platform_remove(struct db *db, int64_t id)
{
	int64_t n = 0;
	enum at_rc rc = exec_id(db, "DELETE FROM platform WHERE id = ?1", id, &n);

	if (rc == AT_OK && n == 0)
		rc = AT_NOTFOUND;
	return rc;
}

static const char SQL_LMS_SET[] =
	"UPDATE platform SET lms_url = COALESCE(?2, lms_url), lms_token = COALESCE(?3, lms_token)"
	" WHERE id = ?1";

enum at_rc platform_lms_set(struct db *db, int64_t id, const char *url, const char *token)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_LMS_SET, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		if (url != NULL)
			db_bind_str(st, 2, url);
		else
			db_bind_null(st, 2);
		if (token != NULL)
			db_bind_str(st, 3, token);
		else
			db_bind_null(st, 3);
		rc = db_run(st);
		if (rc == AT_OK && db_changes(st) == 0)
			rc = AT_NOTFOUND;
	}
	db_finalize(st);
	return rc;
}

static const char SQL_JWKS_STORE[] =
	"UPDATE platform SET jwks_body = ?2, jwks_fetched_at = ?3, jwks_expires_at = ?4"
	" WHERE id = ?1";

enum at_rc platform_jwks_store(struct db *db, int64_t id, const char *body, int64_t now,
			       int64_t expires_at)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_JWKS_STORE, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		db_bind_str(st, 2, body);
		db_bind_i64(st, 3, now);
		db_bind_i64(st, 4, expires_at);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_JWKS_CLAIM[] =
	"UPDATE platform SET jwks_lock_until = ?2 + ?3 WHERE id = ?1 AND jwks_lock_until <= ?2";

enum at_rc platform_jwks_claim(struct db *db, int64_t id, int64_t now, int64_t min_interval)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_JWKS_CLAIM, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		db_bind_i64(st, 2, now);
		db_bind_i64(st, 3, min_interval);
		rc = db_run(st);
		if (rc == AT_OK && db_changes(st) == 0)
			rc = AT_CONFLICT;
	}
	db_finalize(st);
	return rc;
}

static const char SQL_DEP_ADD[] =
	"INSERT INTO deployment (platform_id, deployment_id, learned, created_at)"
	" VALUES (?1, ?2, ?3, ?4) RETURNING id";

enum at_rc platform_deployment_add(struct db *db, int64_t platform_id, const char *deployment_id,
				   int learned, int64_t now, int64_t *row_id)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_DEP_ADD, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, platform_id);
	db_bind_str(st, 2, deployment_id);
	db_bind_i64(st, 3, learned);
	db_bind_i64(st, 4, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && row && row_id)
		*row_id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

static const char SQL_DEP_FIND[] =
	"SELECT id FROM deployment WHERE platform_id = ?1 AND deployment_id = ?2";

enum at_rc platform_deployment_find(struct db *db, int64_t platform_id,
				    const char *deployment_id, int64_t *row_id)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_DEP_FIND, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, platform_id);
	db_bind_str(st, 2, deployment_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		*row_id = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

enum at_rc platform_deployment_count(struct db *db, int64_t platform_id, int64_t *n)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, "SELECT COUNT(*) FROM deployment WHERE platform_id = ?1",
				   &st);

	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		rc = db_step(st, &row);
		if (rc == AT_OK && row)
			*n = db_col_i64(st, 0);
	}
	db_finalize(st);
	return rc;
}

enum at_rc platform_deployment_print(struct db *db, int64_t platform_id, FILE *out)
{
	struct db_stmt *st = NULL;
	bool row = true;
	enum at_rc rc = db_prepare(db, "SELECT deployment_id, learned FROM deployment"
				   " WHERE platform_id = ?1 ORDER BY id", &st);

	if (rc == AT_OK)
		db_bind_i64(st, 1, platform_id);
	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		fprintf(out, "  deployment %s%s\n", db_col_text(st, 0),
			db_col_i64(st, 1) ? " (learned at first launch)" : "");
	}
	db_finalize(st);
	return rc;
}

static const char SQL_ORIGIN_ADD[] =
	"INSERT INTO platform_origin (platform_id, origin, created_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (platform_id, origin) DO NOTHING";

enum at_rc platform_origin_add(struct db *db, int64_t platform_id, const char *origin,
			       int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_ORIGIN_ADD, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		db_bind_str(st, 2, origin);
		db_bind_i64(st, 3, now);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

char *platform_url_origin(struct arena *a, const char *url)
{
	const char *p;
	size_t n;

	if (url == NULL)
		return NULL;
	if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return NULL;
	n = strcspn(p, "/?#");
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)	/* keep CSP and header values clean */
		if (p[i] <= 0x20 || p[i] >= 0x7f || strchr(";,'\"\\<>", p[i]))
			return NULL;
	return arena_strndup(a, url, (size_t)(p - url) + n);
}

static enum at_rc add_origin(struct arena *a, char **list, const char *url)
{
	char *o = platform_url_origin(a, url);
	size_t n;

	if (o == NULL)
		return AT_OK;
	/* skip duplicates: compare whole space-separated words */
	for (const char *p = *list; p && *p;) {
		n = strcspn(p, " ");
		if (n == strlen(o) && strncmp(p, o, n) == 0)
			return AT_OK;
		p += n;
		while (*p == ' ')
			p++;
	}
	*list = (*list)[0] ? arena_printf(a, "%s %s", *list, o) : o;
	return AT_OK;
}

static const char SQL_ORIGINS_P[] =
	"SELECT issuer, auth_endpoint FROM platform WHERE ?1 = 0 OR id = ?1 ORDER BY id";
static const char SQL_ORIGINS_L[] =
	"SELECT origin FROM platform_origin WHERE ?1 = 0 OR platform_id = ?1"
	" ORDER BY platform_id, created_at";

enum at_rc platform_origins(struct db *db, struct arena *a, int64_t platform_id, char **out)
{
	struct db_stmt *st = NULL;
	bool row = true;
	char *list = arena_strdup(a, "");
	enum at_rc rc = db_prepare(db, SQL_ORIGINS_P, &st);

	if (rc == AT_OK)
		db_bind_i64(st, 1, platform_id);

	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		add_origin(a, &list, db_col_text(st, 0));
		add_origin(a, &list, db_col_text(st, 1));
	}
	db_finalize(st);
	st = NULL;
	if (rc == AT_OK)
		rc = db_prepare(db, SQL_ORIGINS_L, &st);
	if (rc == AT_OK)
		db_bind_i64(st, 1, platform_id);
	row = true;
	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		add_origin(a, &list, db_col_text(st, 0));
	}
	db_finalize(st);
	*out = list;
	return rc;
}
