/* share.h: capability links to evidence files (table evidence_share, migration 4).
 *
 * An LMS that pulls evidence into its own pages — Canvas downloads the files named in a
 * score's `content_items` into SpeedGrader — fetches them server-side, with no Attest
 * session. A share is a random 256-bit token (core/token.c) that names one evidence file
 * for one platform until it expires; the URL path /evidence-share/TOKEN (fcgi/page_share.c)
 * is the whole credential. Only the token's SHA-256 is stored: a database dump, a backup or
 * an admin reading the outbox cannot use it. The token exists in clear only in the memory
 * of the process that made it and in the request that hands it to the LMS.
 *
 * Lifetime: SHARE_TTL seconds from creation — a constant (not a configuration key) long
 * enough for an LMS that retries its downloads for days, short enough that a link leaked
 * from the LMS stops working. Shares are made when a score is sent (lti/lti_ags.c), so
 * the TTL runs from the delivery, however long the item waited in the outbox.
 */
#ifndef AT_SHARE_H
#define AT_SHARE_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define SHARE_TTL (14 * 24 * 3600)	/* seconds a capability link works: 14 days */
#define SHARE_TOKEN_BYTES 32		/* 256 random bits */
#define SHARE_TOKEN_CHARS 43		/* their base64url, no padding */
#define SHARE_PATH "/evidence-share/"	/* + token: the public route */

struct share {
	int64_t evidence_id;
	int64_t platform_id;		/* 0: none */
	int64_t created_at, expires_at;	/* unix seconds */
	int64_t fetches;		/* successful downloads so far */
};

/*
 * Share evidence evidence_id (a file) with platform platform_id (0: no platform) until
 * now + SHARE_TTL. Sets *token (the secret, from a; base64url, SHARE_TOKEN_CHARS long) and
 * stores only its SHA-256. Also drops the evidence's shares that have expired. AT_NOTFOUND
 * when there is no such evidence, it is not a file, or the platform is unknown;
 * AT_DB/AT_TIMEOUT from the database. Runs in the caller's transaction, if any.
 */
enum at_rc share_create(struct db *db, struct arena *a, int64_t evidence_id,
			int64_t platform_id, int64_t now, char **token, struct at_err *err);

/* SHARE_PATH + token, from a. */
char *share_path(struct arena *a, const char *token);

/*
 * The live share of token: AT_OK and *out; AT_NOTFOUND — whether the token is malformed,
 * unknown or expired (at now or before), with nothing telling these apart.
 */
enum at_rc share_resolve(struct db *db, const char *token, int64_t now, struct share *out);

/* Count one fetch of token's share (AT_NOTFOUND when it is gone or expired). */
enum at_rc share_count_fetch(struct db *db, const char *token, int64_t now);

/* Delete token's share now (an LMS that refused the score will not fetch). AT_NOTFOUND
 * when there was none. */
enum at_rc share_revoke(struct db *db, const char *token);

/* Delete every share expired at now; *n (may be NULL) how many. */
enum at_rc share_purge(struct db *db, int64_t now, int64_t *n);

#endif
