/* lti_jwks.c: fetch, cache and use platform keys. */
#include <stdbool.h>
#include <string.h>

#include "core/log.h"
#include "lti/lti_jwks.h"
#include "lti/lti_jwt.h"

static enum at_rc fetch(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			struct platform *p, int64_t now, struct at_err *err)
{
	static const char *const hdrs[] = { "Accept: application/json", NULL };
	struct httpc_resp resp;
	struct json_object *root = NULL, *keys;
	int64_t max_age;
	enum at_rc rc;

	rc = httpc_request(a, &o->http, "GET", p->jwks_uri, hdrs, NULL, 0, &resp, err);
	if (rc != AT_OK)
		return rc == AT_BADREQ ? AT_UPSTREAM : rc;
	if (resp.status != 200)
		return at_fail(err, AT_UPSTREAM, "platform JWKS answered HTTP %ld", resp.status);
	root = json_tokener_parse(resp.body);
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		json_object_put(root);
		return at_fail(err, AT_UPSTREAM, "platform JWKS is not a JSON key set");
	}
	json_object_put(root);
	max_age = resp.max_age >= 0 ? resp.max_age : o->default_max_age;
	if (max_age > 86400)
		max_age = 86400;
	rc = platform_jwks_store(db, p->id, resp.body, now, now + max_age);
	if (rc != AT_OK)
		return at_fail(err, rc, "cannot cache platform JWKS");
	p->jwks_body = resp.body;
	p->jwks_fetched_at = now;
	p->jwks_expires_at = now + max_age;
	log_msg(LOG_INFO, NULL, "op=jwks_fetch platform=%lld max_age=%lld", (long long)p->id,
		(long long)max_age);
	return AT_OK;
}

/*
 * An unknown kid: refetch if this worker wins the refetch slot (one per min_refetch
 * seconds across all workers and hosts). Otherwise use a copy another worker stored after
 * ours, if any. *changed says whether p now holds different keys than before.
 */
static enum at_rc refetch(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			  struct platform *p, int64_t now, int *fetched, bool *changed,
			  struct at_err *err)
{
	const char *before = p->jwks_body;
	struct platform q;
	enum at_rc rc = platform_jwks_claim(db, p->id, now, o->min_refetch);

	*changed = false;
	if (rc == AT_OK) {
		(*fetched)++;
		rc = fetch(db, a, o, p, now, err);
		*changed = rc == AT_OK && (before == NULL || strcmp(before, p->jwks_body) != 0);
		return rc;
	}
	if (rc != AT_CONFLICT)
		return rc;
	rc = platform_get(db, a, p->id, &q);
	if (rc != AT_OK)
		return rc;
	if (q.jwks_body != NULL && (before == NULL || strcmp(before, q.jwks_body) != 0)) {
		*p = q;
		*changed = true;
	}
	return AT_OK;
}

enum at_rc lti_jwks_verify(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			   struct platform *p, const char *token, size_t len, int64_t now,
			   struct json_object **claims, int *fetched, struct at_err *err)
{
	enum at_rc rc;
	bool changed = false;

	*fetched = 0;
	if (p->jwks_body == NULL || p->jwks_expires_at <= now) {
		/* A cache fill, not a reaction to an unknown kid: no rate limit. A stale
		 * copy is kept if the platform cannot be reached. */
		(*fetched)++;
		rc = fetch(db, a, o, p, now, err);
		if (rc != AT_OK && p->jwks_body == NULL)
			return rc;
	}
	rc = lti_jwt_verify(a, token, len, p->jwks_body, claims, err);
	if (rc != AT_NOTFOUND)
		return rc;
	/* Unknown kid: the platform may have rotated its key. Refetch once, unless this
	 * call has just fetched the set. */
	if (*fetched == 0) {
		rc = refetch(db, a, o, p, now, fetched, &changed, err);
		if (rc == AT_OK && changed)
			rc = lti_jwt_verify(a, token, len, p->jwks_body, claims, err);
		else if (rc == AT_OK)
			rc = AT_NOTFOUND;
	}
	if (rc == AT_NOTFOUND)
		return at_fail(err, AT_UNAUTH, "the id_token is signed with a key id the platform"
			       " does not publish");
	return rc;
}
