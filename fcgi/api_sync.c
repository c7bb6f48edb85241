/* api_sync.c: the outbox of LMS writes for an LMS administrator, as JSON (docs/api.md,
 * "Sync"): the same facts as the admin page /app/admin/sync.
 *
 *   GET  /api/v1/sync/status               counts per platform (the admin's own)
 *   GET  /api/v1/sync/items[?status=&limit=]  items, newest first
 *   POST /api/v1/sync/items/{id}/retry     a parked item becomes due now (audited)
 *
 * Admins only (the router answers 403 to anyone else). An admin sees and retries only the
 * items of the platform they launched from: another platform's item answers 404, as if it
 * did not exist. */
#include <json-c/json.h>
#include <string.h>

#include "core/audit.h"
#include "core/identity.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/outbox.h"
#include "core/platform.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

#define ITEMS_DEFAULT 100
#define ITEMS_MAX 500

/* The platform of the session's user (the admin's own). False after answering. */
static bool own_platform(struct req *r, struct platform *p)
{
	struct user u;
	enum at_rc rc = identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &u);

	if (rc == AT_OK)
		rc = platform_get(g_app.db, r->arena, u.platform_id, p);
	if (rc != AT_OK) {
		api_fail(r, rc == AT_NOTFOUND ? AT_INTERNAL : rc, NULL,
			 "the session's user or platform is gone");
		return false;
	}
	return true;
}

static void add_i64(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *item_json(struct req *r, const struct outbox_item *it)
{
	struct json_object *o = json_object_new_object();
	struct json_object *pl = jsonx_parse(NULL, it->payload, strlen(it->payload), 16, NULL);

	(void)r;
	add_i64(o, "id", it->id);
	add_i64(o, "platform_id", it->platform_id);
	json_object_object_add(o, "kind", json_object_new_string(it->kind));
	json_object_object_add(o, "status", json_object_new_string(
		outbox_status_name(it->status)));
	add_i64(o, "attempts", it->attempts);
	add_i64(o, "next_at_ms", it->next_at_ms);
	json_object_object_add(o, "last_status", api_i64_or_null(it->last_status));
	json_object_object_add(o, "last_error", json_object_new_string(it->last_error ?
								       it->last_error : ""));
	json_object_object_add(o, "order_key", json_object_new_string(it->order_key));
	add_i64(o, "created_at", it->created_at);
	add_i64(o, "updated_at", it->updated_at);
	json_object_object_add(o, "delivered_at", api_i64_or_null(it->delivered_at));
	json_object_object_add(o, "payload", pl);	/* NULL (JSON null) if unparsable */
	return o;
}

void api_sync_status(struct req *r)
{
	struct platform p;
	struct outbox_counts c;
	struct json_object *o, *list, *x;
	enum at_rc rc;

	if (!own_platform(r, &p))
		return;
	rc = outbox_count(g_app.db, p.id, &c);
	if (rc != AT_OK) {
		log_msg(LOG_WARN, r->rid, "api sync: cannot count the outbox: %s",
			db_errmsg(g_app.db));
		api_fail(r, rc, NULL, "could not count the outbox");
		return;
	}
	x = json_object_new_object();
	add_i64(x, "id", p.id);
	json_object_object_add(x, "name", json_object_new_string(*p.name ? p.name : p.issuer));
	json_object_object_add(x, "issuer", json_object_new_string(p.issuer));
	json_object_object_add(x, "flavor", json_object_new_string(p.flavor ? p.flavor : ""));
	add_i64(x, "pending", c.pending);
	add_i64(x, "failing", c.failing);
	add_i64(x, "parked", c.parked);
	add_i64(x, "done", c.done);
	list = json_object_new_array();
	json_object_array_add(list, x);
	o = json_object_new_object();
	json_object_object_add(o, "platforms", list);
	api_ok(r, 200, o);
	json_object_put(o);
}

static int status_of(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return OUTBOX_PENDING;
	if (strcmp(s, "parked") == 0)
		return OUTBOX_PARKED;
	if (strcmp(s, "done") == 0)
		return OUTBOX_DONE;
	if (strcmp(s, "superseded") == 0)
		return OUTBOX_SUPERSEDED;
	if (strcmp(s, "open") == 0)
		return -1;	/* pending and parked */
	if (strcmp(s, "all") == 0)
		return -2;
	return -3;
}

void api_sync_items(struct req *r)
{
	struct platform p;
	const char *s = req_param(r, "status");
	int64_t limit = ITEMS_DEFAULT;
	int status = s == NULL ? -1 : status_of(s);
	struct json_object *o, *list;

	if (status == -3) {
		api_error(r, 400, "bad_request", "status",
			  "must be pending, parked, done, superseded, open or all");
		return;
	}
	if (req_param(r, "limit") != NULL &&
	    req_param_i64(r, "limit", 1, ITEMS_MAX, &limit) != AT_OK) {
		api_error(r, 400, "bad_request", "limit", "must be an integer from 1 to 500");
		return;
	}
	if (!own_platform(r, &p))
		return;
	list = json_object_new_array();
	for (int pass = 0; pass < (status == -2 ? 4 : 1); pass++) {
		struct outbox_item *v = NULL;
		size_t n = 0;
		enum at_rc rc = outbox_list(g_app.db, r->arena, p.id, status == -2 ? pass : status,
					    (size_t)limit, &v, &n);

		if (rc != AT_OK) {
			json_object_put(list);
			log_msg(LOG_WARN, r->rid, "api sync: cannot list the outbox: %s",
				db_errmsg(g_app.db));
			api_fail(r, rc, NULL, "could not list the outbox");
			return;
		}
		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, item_json(r, &v[i]));
	}
	o = json_object_new_object();
	json_object_object_add(o, "platform_id", json_object_new_int64(p.id));
	json_object_object_add(o, "items", list);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_sync_retry(struct req *r)
{
	struct platform p;
	struct outbox_item it;
	struct at_err err = { "" };
	struct json_object *audit, *o;
	int64_t id, now = api_now();
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	if (r->body != NULL && r->body_len > 0 && api_body(r) == NULL)
		return;		/* answered: the body, when sent, must be a JSON object */
	if (!own_platform(r, &p))
		return;
	memset(&it, 0, sizeof(it));
	rc = outbox_get(g_app.db, r->arena, id, &it);
	if (rc == AT_OK && it.platform_id != p.id)
		rc = AT_NOTFOUND;	/* another platform's item: as if there were none */
	if (rc == AT_NOTFOUND) {
		api_error(r, 404, "not_found", NULL, "no such item");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not load the item");
		return;
	}
	audit = json_object_new_object();
	add_i64(audit, "item", id);
	json_object_object_add(audit, "kind", json_object_new_string(it.kind));
	add_i64(audit, "platform_id", it.platform_id);
	json_object_object_add(audit, "via", json_object_new_string("api"));
	rc = db_begin(g_app.db);
	if (rc == AT_OK)
		rc = outbox_requeue(g_app.db, id, now * 1000);
	if (rc == AT_OK)
		rc = audit_append(g_app.db, r->sess->s.user_id, "outbox.requeue", "outbox", id,
				  json_object_to_json_string_ext(audit, JSON_C_TO_STRING_PLAIN),
				  now, &err);
	if (rc == AT_OK)
		rc = db_commit(g_app.db);
	json_object_put(audit);
	if (rc != AT_OK) {
		db_rollback(g_app.db);
		if (rc == AT_CONFLICT) {
			api_error(r, 409, "conflict", NULL, "the item was delivered or replaced by a"
				  " newer one already, or is being delivered right now: there is"
				  " nothing to retry");
			return;
		}
		log_msg(LOG_WARN, r->rid, "api sync: requeue %lld: %s", (long long)id,
			err.msg[0] ? err.msg : at_strerror(rc));
		api_fail(r, rc, NULL, "the item could not be requeued");
		return;
	}
	if (outbox_get(g_app.db, r->arena, id, &it) != AT_OK) {
		api_fail(r, AT_DB, NULL, "could not load the item");
		return;
	}
	o = item_json(r, &it);
	api_ok(r, 200, o);
	json_object_put(o);
}
