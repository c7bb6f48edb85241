/* lti_jwks.c: fetch, cache and use platform keys. */
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Fetch if this worker wins the slot; otherwise wait briefly for the winner's result. */
static enum at_rc refresh(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			  struct platform *p, int64_t now, int *fetched, struct at_err *err)
{
	enum at_rc rc = platform_jwks_claim(db, p->id, now, o->min_refetch);

	if (rc == AT_OK) {
		(*fetched)++;
		return fetch(db, a, o, p, now, err);
	}
	if (rc != AT_CONFLICT)
		return rc;
	/* Someone fetched recently (or is fetching): use what is stored. */
	for (int i = 0; i < 10; i++) {
		struct platform q;

		rc = platform_get(db, a, p->id, &q);
		if (rc != AT_OK)
			return rc;
		if (q.jwks_body != NULL && q.jwks_fetched_at >= p->jwks_fetched_at &&
		    (p->jwks_body == NULL || q.jwks_fetched_at > p->jwks_fetched_at)) {
			*p = q;
			return AT_OK;
		}
		if (p->jwks_body != NULL)
			return AT_CONFLICT;	/* nothing newer: the rate limit holds */
		usleep(100 * 1000);
	}
	return at_fail(err, AT_UPSTREAM, "platform JWKS is being fetched by another worker");
}

enum at_rc lti_jwks_verify(struct db *db, struct arena *a, const struct lti_jwks_opts *o,
			   struct platform *p, const char *token, size_t len, int64_t now,
			   struct json_object **claims, int *fetched, struct at_err *err)
{
	enum at_rc rc;
	int64_t before;

	*fetched = 0;
	if (p->jwks_body == NULL || p->jwks_expires_at <= now) {
		rc = refresh(db, a, o, p, now, fetched, err);
		if (rc != AT_OK && p->jwks_body == NULL)
			return rc == AT_CONFLICT ? AT_UPSTREAM : rc;
	}
	rc = lti_jwt_verify(a, token, len, p->jwks_body, claims, err);
	if (rc != AT_NOTFOUND)
		return rc;
	/* Unknown kid: the platform may have rotated its key. Refetch once. */
	before = p->jwks_fetched_at;
	if (*fetched == 0) {
		rc = refresh(db, a, o, p, now, fetched, err);
		if (rc == AT_OK && p->jwks_fetched_at != before)
			rc = lti_jwt_verify(a, token, len, p->jwks_body, claims, err);
		else if (rc == AT_OK || rc == AT_CONFLICT)
			rc = AT_NOTFOUND;
	}
	if (rc == AT_NOTFOUND)
		return at_fail(err, AT_UNAUTH, "the id_token is signed with a key id the platform"
			       " does not publish");
	return rc;
}
