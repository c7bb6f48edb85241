/* oidc.h: OIDC login state and nonces — server-side, one-time, shared by all workers. */
#ifndef AT_OIDC_H
#define AT_OIDC_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

struct oidc_state {
	const char *state;
	const char *secret_hash;	/* SHA-256 hex of the browser-bound secret */
	const char *nonce;
	int64_t platform_id;
	const char *target_link_uri;
	const char *deployment_hint;	/* lti_deployment_id from the login, or NULL */
	int storage;			/* 1: the login used platform storage */
	int64_t expires_at;
};

/* Store a new login state (expired ones are purged on the way). */
enum at_rc oidc_state_put(struct db *db, const struct oidc_state *s, int64_t now);
/* Read without consuming (the platform-storage check page). AT_NOTFOUND if absent/expired. */
enum at_rc oidc_state_peek(struct db *db, struct arena *a, const char *state, int64_t now,
			   struct oidc_state *out);
/* Take (delete and return) a state: a second take of the same state finds nothing.
 * AT_NOTFOUND if absent or expired. */
enum at_rc oidc_state_take(struct db *db, struct arena *a, const char *state, int64_t now,
			   struct oidc_state *out);
/* Record a nonce as used; AT_CONFLICT if it was used before (replay). */
enum at_rc oidc_nonce_use(struct db *db, int64_t platform_id, const char *nonce,
			  int64_t expires_at, int64_t now);

#endif
