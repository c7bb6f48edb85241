/* page_admin.h: what the admin pages (/app/admin/..., LTI Administrator sessions) share:
 * the admin's own platform, the page data skeleton, audited actions and the message
 * shown after a post/redirect/get. Handlers: page_admin.c (registration, deployments,
 * keys, audit), page_admin_import.c (frameworks, programs), page_admin_sync.c (outbox). */
#ifndef AT_PAGE_ADMIN_H
#define AT_PAGE_ADMIN_H

#include <json-c/json.h>
#include <stdint.h>

#include "core/identity.h"
#include "core/platform.h"
#include "fcgi/req.h"

struct admin {
	struct user user;
	struct platform platform;	/* the platform the admin launched from: the only one
					 * whose registration and sync items they see */
};

/* Load the session's user and platform into *ad. False after answering an error page. */
bool page_admin_load(struct req *r, struct admin *ad);

/* The data root of an admin page: css, the admin navigation with `section` current, and
 * the message of the action the admin just did (?done=<audit id>, see page_admin_done).
 * The caller owns the object. */
struct json_object *page_admin_data(struct req *r, const struct admin *ad, const char *section);

/* Append an audit row for an admin action (its own transaction) and return its id in *id
 * (0 when it could not be written: logged, the action itself stands). */
void page_admin_audit(struct req *r, const struct admin *ad, const char *action,
		      const char *entity, int64_t entity_id, struct json_object *data,
		      int64_t *id);
/* The id of the newest audit row of the session's user with action (0 if none). */
int64_t page_admin_last_audit(struct req *r, const char *action);

/* 303 to path (an admin page) within the session, with ?done=<audit_id> when non-zero. */
void page_admin_done(struct req *r, const char *path, int64_t audit_id);

/* Render an admin page: tmpl_page with "admin/<name>" (status set first when non-zero). */
void page_admin_render(struct req *r, int status, const char *title, const char *name,
		       struct json_object *data);

/* "2026-01-05 14:03 UTC" for a unix time (from r's arena); "" for 0. */
const char *page_admin_time(struct req *r, int64_t t);

/* The URLs an LMS admin pastes into the LMS (the facts `attest urls` prints). */
struct page_admin_url {
	const char *label, *path;
};
extern const struct page_admin_url page_admin_urls[];
extern const size_t page_admin_nurls;

#endif
