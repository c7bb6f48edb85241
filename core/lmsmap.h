/* lmsmap.h: what an LMS calls Attest's things (table lms_map, migration 3): per platform,
 * kind ("moodle_framework", "moodle_competency", "canvas_outcome", ...) and Attest's key
 * (usually an id as decimal text), the LMS's id or a small JSON record. Written when an LMS
 * answers a create, read before the next call so nothing is created twice. */
#ifndef AT_LMSMAP_H
#define AT_LMSMAP_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

/* The remote id of (platform, kind, key), from a; AT_NOTFOUND when none is recorded. */
enum at_rc lmsmap_get(struct db *db, struct arena *a, int64_t platform_id, const char *kind,
		      const char *key, char **remote);
/* Record (insert or replace) the remote id of (platform, kind, key). */
enum at_rc lmsmap_put(struct db *db, int64_t platform_id, const char *kind, const char *key,
		      const char *remote, int64_t now);
/* Forget one entry (AT_OK whether or not it existed). */
enum at_rc lmsmap_del(struct db *db, int64_t platform_id, const char *kind, const char *key);

#endif
