/* deployment.c: list, declare and remove a platform's deployments (the admin pages). */
#include <string.h>

#include <json-c/json.h>

#include "core/audit.h"
#include "core/deployment.h"
#include "core/platform.h"

static const char SQL_LIST[] =
	"SELECT d.id, d.deployment_id, d.learned, d.created_at,"
	" (SELECT COUNT(*) FROM context c WHERE c.deployment_id = d.id)"
	" FROM deployment d WHERE d.platform_id = ?1 ORDER BY d.id";
static const char SQL_DELETE[] =
	"DELETE FROM deployment WHERE id = ?1";

enum at_rc deployment_list(struct db *db, struct arena *a, int64_t platform_id,
			   struct deployment **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct deployment *v = NULL;
	size_t k = 0, cap = 0;
	bool row = true;
	enum at_rc rc = db_prepare(db, SQL_LIST, &st);

	if (rc == AT_OK)
		db_bind_i64(st, 1, platform_id);
	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		v = arena_reserve(a, v, k, &cap, sizeof(*v));
		v[k].id = db_col_i64(st, 0);
		v[k].platform_id = platform_id;
		v[k].deployment_id = arena_strdup(a, db_col_text(st, 1) ? db_col_text(st, 1) : "");
		v[k].learned = db_col_i64(st, 2) != 0;
		v[k].created_at = db_col_i64(st, 3);
		v[k].courses = db_col_i64(st, 4);
		k++;
	}
	db_finalize(st);
	*out = v;
	*n = rc == AT_OK ? k : 0;
	return rc;
}

bool deployment_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > DEPLOYMENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The audit data {"platform_id": N, "deployment_id": "..."} (from a). */
static const char *audit_data(struct arena *a, int64_t platform_id, const char *deployment_id)
{
	struct json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "platform_id", json_object_new_int64(platform_id));
	json_object_object_add(o, "deployment_id", json_object_new_string(deployment_id));
	s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

enum at_rc deployment_add(struct db *db, int64_t platform_id, const char *deployment_id,
			  int64_t actor_id, int64_t now, struct at_err *err)
{
	struct arena *a;
	int64_t row_id = 0;
	enum at_rc rc;

	if (!deployment_id_valid(deployment_id))
		return at_fail(err, AT_BADREQ, "a deployment id is 1 to %d printable ASCII "
			       "characters without blanks", DEPLOYMENT_ID_MAX);
	a = arena_new();
	rc = db_begin(db);
	if (rc != AT_OK)
		goto out;
	rc = platform_deployment_find(db, platform_id, deployment_id, &row_id);
	if (rc == AT_OK) {
		rc = at_fail(err, AT_CONFLICT, "deployment %s is registered already",
			     deployment_id);
		goto out;
	}
	if (rc != AT_NOTFOUND)
		goto out;
	rc = platform_deployment_add(db, platform_id, deployment_id, 0, now, &row_id);
	if (rc == AT_OK)
		rc = audit_append(db, actor_id, "deployment.add", "deployment", row_id,
				  audit_data(a, platform_id, deployment_id), now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
out:
	if (rc != AT_OK) {
		db_rollback(db);
		if (err->msg[0] == '\0')
			at_fail(err, rc, "could not add the deployment: %s", at_strerror(rc));
	}
	arena_free(a);
	return rc;
}

enum at_rc deployment_remove(struct db *db, int64_t platform_id, const char *deployment_id,
			     int64_t actor_id, int64_t now, struct at_err *err)
{
	struct arena *a = arena_new();
	struct db_stmt *st = NULL;
	int64_t row_id = 0;
	enum at_rc rc = db_begin(db);

	if (rc != AT_OK)
		goto out;
	rc = platform_deployment_find(db, platform_id, deployment_id ? deployment_id : "",
				      &row_id);
	if (rc == AT_NOTFOUND) {
		at_fail(err, rc, "there is no deployment %s", deployment_id ? deployment_id : "");
		goto out;
	}
	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_DELETE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, row_id);
	rc = db_run(st);
	if (rc == AT_OK)
		rc = audit_append(db, actor_id, "deployment.remove", "deployment", row_id,
				  audit_data(a, platform_id, deployment_id), now, err);
	if (rc == AT_OK)
		rc = db_commit(db);
out:
	db_finalize(st);
	if (rc != AT_OK) {
		db_rollback(db);
		if (err->msg[0] == '\0')
			at_fail(err, rc, "could not remove the deployment: %s", at_strerror(rc));
	}
	arena_free(a);
	return rc;
}
