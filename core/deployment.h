/* deployment.h: an LMS admin's view of a platform's deployments — list them, add one by
 * hand, remove one. Each change is audited in its own transaction ("deployment.add",
 * "deployment.remove"). The launch path records learned deployments through
 * platform_deployment_add (core/platform.h). */
#ifndef AT_DEPLOYMENT_H
#define AT_DEPLOYMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define DEPLOYMENT_ID_MAX 255	/* bytes of a deployment id (LTI: at most 255 ASCII) */

struct deployment {
	int64_t id, platform_id;
	const char *deployment_id;
	bool learned;		/* recorded at a first launch (learn policy), not declared */
	int64_t created_at;
	int64_t courses;	/* contexts that launched through it */
};

/* The deployments of platform_id, oldest first; *out is an arena array of *n. */
enum at_rc deployment_list(struct db *db, struct arena *a, int64_t platform_id,
			   struct deployment **out, size_t *n);

/* Is s a deployment id we accept (1..255 bytes of printable ASCII, no blank)? */
bool deployment_id_valid(const char *s);

/* Declare deployment_id for platform_id (learned = 0), audited as actor. AT_BADREQ
 * (err says why) for an invalid id, AT_CONFLICT when it exists; nothing stored unless AT_OK. */
enum at_rc deployment_add(struct db *db, int64_t platform_id, const char *deployment_id,
			  int64_t actor_id, int64_t now, struct at_err *err);

/* Remove deployment_id of platform_id (courses keep their data; their deployment link is
 * cleared), audited as actor. AT_NOTFOUND when platform_id has no such deployment. */
enum at_rc deployment_remove(struct db *db, int64_t platform_id, const char *deployment_id,
			     int64_t actor_id, int64_t now, struct at_err *err);

#endif
