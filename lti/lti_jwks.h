/* lti_jwks.h: platform JWKS cache (in the database, shared by all workers and hosts) and
 * id_token signature verification with refetch-once on an unknown kid. */
#ifndef AT_LTI_JWKS_H
#define AT_LTI_JWKS_H

#include <json-c/json.h>

#include "core/platform.h"
#include "lti/httpc.h"

struct lti_jwks_opts {
	struct httpc_opts http;
	int64_t default_max_age;	/* when the platform sends no max-age */
	int64_t min_refetch;		/* seconds between fetches caused by unknown kids */
};

/*
 * Verify token's signature with p's keys. Uses the cached JWKS while fresh; fetches it when
 * missing or expired; on an unknown kid refetches once (single flight and rate limited
 * across workers by platform_jwks_claim) and fails closed after that.
 * Returns AT_OK and *claims (freed with a); AT_UNAUTH for a bad signature, alg or unknown
 * kid; AT_UPSTREAM when the JWKS cannot be had; AT_BADREQ for a malformed token.
 * *fetched counts the fetches this call made.
 */
enum at_rc lti_jwks_verify(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			   struct platform *p, const char *token, size_t len, int64_t now,
			   struct json_object **claims, int *fetched, struct at_err *err);

#endif
