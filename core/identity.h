/* identity.h: users, courses (contexts), memberships and resource links from LTI claims. */
#ifndef AT_IDENTITY_H
#define AT_IDENTITY_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

/* Attest roles (a membership may hold several). */
enum {
	ROLE_LEARNER = 1,
	ROLE_ASSESSOR = 2,
	ROLE_ADMIN = 4,
};

struct user {
	int64_t id, platform_id;
	const char *sub, *name, *given_name, *family_name, *email;
	int admin;
};

struct context {
	int64_t id, platform_id, deployment_row;
	const char *context_id, *label, *title;
	const char *nrps_url, *ags_lineitems, *ags_scopes;
};

struct resource_link {
	int64_t id, context_id;
	const char *link_id, *title, *ags_lineitem;
};

/* Insert or update by (platform_id, sub); sets u->id. Empty names keep the stored ones. */
enum at_rc identity_user_upsert(struct db *db, struct user *u, int64_t now);
enum at_rc identity_user_get(struct db *db, struct arena *a, int64_t id, struct user *out);
/* Insert or update by (platform_id, context_id); sets c->id. */
enum at_rc identity_context_upsert(struct db *db, struct context *c, int64_t now);
enum at_rc identity_context_get(struct db *db, struct arena *a, int64_t id,
				struct context *out);
/* Insert or update the membership of user in context with roles (raw claim, space
 * separated) and role flags. */
enum at_rc identity_membership_set(struct db *db, int64_t user_id, int64_t context_id,
				   const char *roles, int role, int64_t now);
/* Insert or update by (context_id, link_id); sets l->id. */
enum at_rc identity_link_upsert(struct db *db, struct resource_link *l, int64_t now);
/* Count members of a context having any of role's flags. */
enum at_rc identity_member_count(struct db *db, int64_t context_id, int role, int64_t *n);

/* What a launch tells about the LMS's own ids (REST APIs) and that the user has launched:
 * app_user.launched_at = now and lms_user_id; context.lms_course_id; resource_link.
 * lms_assignment_id. Empty strings and ids of 0 leave the stored values alone. */
enum at_rc identity_launch_ids(struct db *db, int64_t user_id, const char *lms_user_id,
			       int64_t context_id, const char *lms_course_id, int64_t link_row,
			       const char *lms_assignment_id, int64_t now);

/* Bind the placement resource_id (the deep-linked item's custom attest_placement) of
 * context_id to the LTI resource link link_id and, when the launch carried it, its AGS line
 * item (kept when known already). AT_NOTFOUND when the course has no such placement. */
enum at_rc identity_placement_bind(struct db *db, int64_t context_id, const char *resource_id,
				   const char *link_id, const char *lineitem_url);

#endif
