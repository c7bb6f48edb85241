/* page_health.c: GET /healthz — is the database reachable? */
#include <json-c/json.h>
#include <time.h>

#include "core/migrate.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"

void page_health(struct req *r)
{
	struct json_object *o = json_object_new_object();
	int version = 0;
	enum at_rc rc = migrate_version(g_app.db, &version);

	json_object_object_add(o, "status", json_object_new_string(rc == AT_OK ? "ok" : "error"));
	json_object_object_add(o, "database",
			       json_object_new_string(rc == AT_OK ? "ok" : "unreachable"));
	json_object_object_add(o, "backend", json_object_new_string(
		db_kind(g_app.db) == DB_PG ? "postgresql" : "sqlite"));
	json_object_object_add(o, "schema", json_object_new_int(version));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	http_json(r, rc == AT_OK ? 200 : 503, o);
	json_object_put(o);
}
