/* page_admin_sync.c: the sync status of the admin's own platform (core/outbox.h).
 *
 *   GET  /app/admin/sync        counts (pending, failing, parked), the parked items with
 *                               their last HTTP status and response body, the pending ones
 *   POST /app/admin/sync/retry  id=N: a parked item becomes pending again (outbox_requeue)
 *
 * An admin sees and retries only the items of the platform they launched from: an item of
 * another platform answers 404, as if it did not exist. */
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/outbox.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/page_admin.h"
#include "fcgi/pages.h"

#define ITEMS_SHOWN 100		/* items per list */
#define BODY_SHOWN 500		/* bytes of a response body shown */

static void jstr(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void jint(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* s cut to at most max bytes on a UTF-8 character boundary, with "…" when cut. */
static const char *truncated(struct req *r, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n <= max)
		return s ? s : "";
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return arena_printf(r->arena, "%.*s…", (int)max, s);
}

static void add_items(struct req *r, int64_t platform_id, int status, const char *key,
		      struct json_object *root)
{
	struct json_object *list = json_object_new_array();
	struct outbox_item *v = NULL;
	size_t n = 0;

	if (outbox_list(g_app.db, r->arena, platform_id, status, ITEMS_SHOWN, &v, &n) != AT_OK)
		log_msg(1, r->rid, "admin: cannot list the outbox: %s", db_errmsg(g_app.db));
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		jint(o, "id", v[i].id);
		jstr(o, "kind", v[i].kind);
		jstr(o, "status", outbox_status_name(v[i].status));
		jint(o, "attempts", v[i].attempts);
		jstr(o, "last_status", v[i].last_status > 0 ?
		     arena_printf(r->arena, "%lld", (long long)v[i].last_status) :
		     v[i].attempts > 0 ? "no answer" : "");
		jstr(o, "last_error", truncated(r, v[i].last_error, BODY_SHOWN));
		jstr(o, "next_at", page_admin_time(r, v[i].next_at_ms / 1000));
		jstr(o, "created", page_admin_time(r, v[i].created_at));
		jstr(o, "updated", page_admin_time(r, v[i].updated_at));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, key, list);
}

static void sync_page(struct req *r, const struct admin *ad, int status, const char *error)
{
	struct json_object *data = page_admin_data(r, ad, "sync");
	struct json_object *counts = json_object_new_object();
	struct outbox_counts c;

	memset(&c, 0, sizeof(c));
	if (outbox_count(g_app.db, ad->platform.id, &c) != AT_OK)
		log_msg(1, r->rid, "admin: cannot count the outbox: %s", db_errmsg(g_app.db));
	jint(counts, "pending", c.pending);
	jint(counts, "failing", c.failing);
	jint(counts, "parked", c.parked);
	jint(counts, "done", c.done);
	json_object_object_add(data, "counts", counts);
	add_items(r, ad->platform.id, OUTBOX_PARKED, "parked", data);
	add_items(r, ad->platform.id, OUTBOX_PENDING, "pending", data);
	if (error != NULL)
		jstr(data, "error", error);
	page_admin_render(r, status, "Sync status", "sync", data);
}

void page_admin_sync(struct req *r)
{
	struct admin ad;

	if (!page_admin_load(r, &ad))
		return;
	sync_page(r, &ad, 0, NULL);
}

void page_admin_sync_retry(struct req *r)
{
	struct admin ad;
	struct outbox_item it;
	struct json_object *audit;
	int64_t id, aid = 0;
	enum at_rc rc;

	if (!page_admin_load(r, &ad))
		return;
	if (req_param_i64(r, "id", 1, INT64_MAX, &id) != AT_OK) {
		sync_page(r, &ad, 404, "There is no such item.");
		return;
	}
	memset(&it, 0, sizeof(it));
	rc = outbox_get(g_app.db, r->arena, id, &it);
	if (rc == AT_OK && it.platform_id != ad.platform.id)
		rc = AT_NOTFOUND;	/* another platform's item: as if there were none */
	if (rc == AT_OK)
		rc = outbox_requeue(g_app.db, id, (int64_t)time(NULL) * 1000);
	if (rc == AT_NOTFOUND) {
		sync_page(r, &ad, 404, "There is no such item.");
		return;
	}
	if (rc == AT_CONFLICT) {
		sync_page(r, &ad, 409, "This item was delivered or replaced by a newer one "
			  "already: there is nothing to retry.");
		return;
	}
	if (rc != AT_OK) {
		log_msg(0, r->rid, "admin: outbox requeue %lld: %s", (long long)id,
			at_strerror(rc));
		sync_page(r, &ad, http_status_of(rc), "The item could not be requeued: try again.");
		return;
	}
	audit = json_object_new_object();
	jint(audit, "item", id);
	jstr(audit, "kind", it.kind);
	jint(audit, "platform_id", it.platform_id);
	page_admin_audit(r, &ad, "outbox.requeue", "outbox", id, audit, &aid);
	json_object_put(audit);
	page_admin_done(r, "/app/admin/sync", aid);
}
