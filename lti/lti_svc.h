/* lti_svc.h: access tokens for LTI Advantage services (AGS, NRPS) — OAuth 2.0 client
 * credentials with an RFC 7523 JWT client assertion (1EdTech Security Framework §4.1).
 *
 * The assertion is signed with the tool key (lti_keys_sign): iss = sub = client_id,
 * aud = the platform's token endpoint, iat, exp = iat + 5 min, a unique jti. Tokens are
 * cached per platform and scope set until LTI_SVC_SKEW_MS before they expire. A platform
 * may grant fewer scopes than asked: the granted set is returned and lti_svc_need() says
 * clearly which one is missing. */
#ifndef AT_LTI_SVC_H
#define AT_LTI_SVC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/platform.h"
#include "lti/httpc.h"

#define LTI_SCOPE_LINEITEM	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
#define LTI_SCOPE_LINEITEM_RO	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
#define LTI_SCOPE_RESULT_RO	"https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
#define LTI_SCOPE_SCORE		"https://purl.imsglobal.org/spec/lti-ags/scope/score"
#define LTI_SCOPE_NRPS \
	"https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

#define LTI_SVC_SKEW_MS 60000	/* a cached token is dropped this long before it expires */

struct lti_svc_tokens;		/* the per-process cache */

struct lti_svc_tokens *lti_svc_tokens_new(const char *keys_dir);	/* lti_svc_tokens_free */
void lti_svc_tokens_free(struct lti_svc_tokens *t);			/* NULL-safe */

struct lti_svc_token {
	const char *access_token;	/* from a */
	const char *granted;		/* space-separated granted scopes, from a */
	int64_t expires_ms;
	bool fresh;			/* fetched now, not from the cache */
};

/* A token of platform p for scopes (space separated; the cache key). Returns AT_OK;
 * AT_BADREQ when p has no token endpoint; AT_UNAUTH when the platform refused the client
 * (4xx from the token endpoint; err carries its error and description); AT_UPSTREAM,
 * AT_TIMEOUT for transport errors and 5xx; AT_NOTFOUND when no tool key can sign. */
enum at_rc lti_svc_get(struct lti_svc_tokens *t, struct db *db, struct arena *a,
		       const struct httpc_opts *o, const struct platform *p, const char *scopes,
		       int64_t now_ms, struct lti_svc_token *out, struct at_err *err);

/* Drop the cached token of (platform, scopes): after a 401 the next lti_svc_get fetches a
 * new one. */
void lti_svc_forget(struct lti_svc_tokens *t, int64_t platform_id, const char *scopes);

/* AT_OK when scope is among granted, else AT_FORBIDDEN with err naming it. */
enum at_rc lti_svc_need(const struct lti_svc_token *tok, const char *scope, struct at_err *err);

/* "Authorization: Bearer ..." from a. */
const char *lti_svc_auth_header(struct arena *a, const struct lti_svc_token *tok);

/* s percent-encoded for a URL query value (RFC 3986 unreserved kept). From a. */
const char *lti_svc_pct(struct arena *a, const char *s);

/* How many token requests this cache made (tests, logs). */
int64_t lti_svc_fetches(const struct lti_svc_tokens *t);

#endif
