/* sess.h: launch sessions. The token is carried by the page (no cookie after launch);
 * only its SHA-256 is stored. */
#ifndef AT_SESS_H
#define AT_SESS_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

struct sess {
	int64_t user_id, context_id, link_id;	/* 0 when absent */
	int role;
	const char *csrf;
	const char *message_type;
	const char *launch;	/* JSON of launch facts kept for later pages (deep linking) */
	const char *frame_ancestors;	/* origins of the launching platform that may frame us */
	int64_t expires_at;
};

/* Create a session; *token (from a) is the bearer value to hand to the browser. */
enum at_rc sess_create(struct db *db, struct arena *a, const struct sess *s, int64_t now,
		       char **token);
/* Look up a live session by token. AT_UNAUTH if unknown or expired. */
enum at_rc sess_lookup(struct db *db, struct arena *a, const char *token, int64_t now,
		       struct sess *out);
/* Remove expired sessions; *n = rows removed. */
enum at_rc sess_purge(struct db *db, int64_t now, int64_t *n);

#endif
