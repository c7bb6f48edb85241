/* lti_jwt.h: LTI 1.3 id_token verification (RS256 via cjose) and claim checks
 * (notes/lti.md §1c). Nothing here fetches keys: the caller passes the JWKS text.
 */
#ifndef AT_LTI_JWT_H
#define AT_LTI_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/rc.h"

#define LTI_JWT_MAX_LEN		(64 * 1024)	/* bytes of a compact token we accept */
#define LTI_JWT_MAX_AGE		3600		/* seconds: iat older than now - this is refused */

/* role_flags bits (notes/lti.md §1c roles vocabulary). */
#define LTI_ROLE_LEARNER	1u
#define LTI_ROLE_ASSESSOR	2u	/* Instructor, TA, Mentor, ContentDeveloper */
#define LTI_ROLE_ADMIN		4u	/* membership, institution or system Administrator */

/*
 * Decode the header and payload of a compact JWS without verifying it (to find the
 * platform by iss/aud before fetching its keys: never trust what this returns).
 * Returns AT_OK and sets *header and *payload (JSON objects, freed with a);
 * AT_TOOBIG when len > LTI_JWT_MAX_LEN; AT_BADREQ when the token is not three
 * base64url parts with JSON-object header and payload (err says which part).
 */
enum at_rc lti_jwt_peek(struct arena *a, const char *token, size_t len,
			struct json_object **header, struct json_object **payload,
			struct at_err *err);

/*
 * Verify the RS256 signature of token with the key named by its header kid in
 * jwks_json ({"keys":[...]}). Returns AT_OK and sets *claims (the verified payload, a
 * JSON object freed with a). AT_NOTFOUND when jwks_json has no key with that kid (refetch
 * the JWKS once, then give up); AT_UNAUTH for alg other than exactly RS256, a missing kid,
 * a "crit" header, an unsuitable key (not RSA, alg/use/key_ops not for RS256 signing,
 * modulus < 2048 bits) or a bad signature; AT_BADREQ/AT_TOOBIG as lti_jwt_peek;
 * AT_UPSTREAM when jwks_json is not {"keys":[...]}. Claims are NOT checked: call
 * lti_claims_check next.
 */
enum at_rc lti_jwt_verify(struct arena *a, const char *token, size_t len,
			  const char *jwks_json, struct json_object **claims,
			  struct at_err *err);

/* What the launch must match. nonce is required; target_link_uri NULL skips that one. */
struct lti_expect {
	const char *issuer;		/* registered iss, exact match */
	const char *client_id;		/* our client_id: in aud, and azp when present */
	int64_t now;			/* unix seconds */
	int64_t skew;			/* leeway on exp and iat, seconds */
	const char *nonce;		/* the nonce issued for this state */
	const char *target_link_uri;	/* bound to the state at login, or NULL */
};

/*
 * Parsed launch. Every string is copied into the arena given to lti_claims_check, and
 * is NULL when the claim is absent or JSON null. Sets of words (scopes, accept_types,
 * accept_targets) are joined with single spaces.
 */
struct lti_claims {
	const char *iss;
	const char *sub;
	const char *name, *given_name, *family_name, *email;
	int64_t iat, exp;
	const char *message_type;	/* LtiResourceLinkRequest, LtiDeepLinkingRequest, ... */
	const char *version;		/* "1.3.0" */
	const char *deployment_id;
	const char *target_link_uri;
	const char **roles;		/* nroles strings, exactly as sent */
	size_t nroles;
	unsigned role_flags;		/* LTI_ROLE_* of all roles */
	struct {
		const char *id, *label, *title;
	} context;
	struct {
		const char *id, *title;
	} resource_link;
	struct {
		const char *lineitems, *lineitem;
		const char *scopes;	/* space-joined scope[] */
	} ags;				/* all NULL without the AGS endpoint claim */
	const char *nrps_url;		/* namesroleservice context_memberships_url */
	struct {
		const char *return_url;	/* deep_link_return_url */
		const char *data;	/* opaque: MUST be echoed in the response */
		const char *accept_types;	/* space-joined accept_types[] */
		const char *accept_targets;	/* accept_presentation_document_targets[] */
		/* absent: false, so the tool sends one item, which every platform takes */
		bool accept_multiple;
		/* absent: true. DL 2.0 says no assumption can be made then, and a platform
		 * that does not support line items ignores them, so offering one is safe */
		bool accept_lineitem;
		const char *title;
	} dl;				/* set only for LtiDeepLinkingRequest */
	const char *return_url;		/* launch_presentation.return_url */
	struct {
		const char *guid, *url, *product_family_code;
	} tool_platform;
	struct json_object *custom;	/* borrowed from claims: lives as long as they do */
};

/*
 * Check claims (from lti_jwt_verify) against x and fill *out (zeroed first; strings from
 * a). Implements every non-signature check of notes/lti.md §1c:
 *   AT_UNAUTH  iss != x->issuer; aud (string or array) without client_id, several
 *              audiences without azp, azp != client_id; exp missing or <= now - skew;
 *              iat missing, > now + skew or < now - LTI_JWT_MAX_AGE; nonce missing or
 *              != x->nonce (constant time). Wrong JSON types of these claims also give
 *              AT_UNAUTH: they are credentials, not data. exp/iat may be any JSON
 *              number (RFC 7519 NumericDate), fractions are dropped.
 *   AT_BADREQ  version != "1.3.0"; message_type missing or unknown; deployment_id
 *              missing, empty, > 255 bytes or with control bytes; target_link_uri
 *              missing or != x->target_link_uri; resource_link.id missing for
 *              LtiResourceLinkRequest; roles missing or not an array of strings;
 *              sub missing or empty (Attest needs a user: anonymous launches are
 *              refused) or > 255 bytes; deep_link_return_url missing for
 *              LtiDeepLinkingRequest; a context claim without id; any optional
 *              claim of the wrong JSON type (JSON null counts as absent).
 *   AT_INTERNAL x lacks issuer, client_id or nonce.
 * err names the claim, never its value. Unknown claims and unknown roles are ignored.
 */
enum at_rc lti_claims_check(struct arena *a, struct json_object *claims,
			    const struct lti_expect *x, struct lti_claims *out,
			    struct at_err *err);

/* LTI_ROLE_* bits of one role value (full URI or short context role name); 0 if unknown. */
unsigned lti_jwt_role_flag(const char *role);

#endif
