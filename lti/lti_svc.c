/* lti_svc.c: service access tokens (lti/lti_svc.h). */
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/token.h"
#include "lti/lti_keys.h"
#include "lti/lti_svc.h"

#define ASSERTION_TTL 300	/* seconds */
#define MAX_ENTRIES 256

struct entry {
	int64_t platform_id;
	char *scopes, *token, *granted;
	int64_t expires_ms;
};

struct lti_svc_tokens {
	char *keys_dir;
	struct entry e[MAX_ENTRIES];
	size_t n;
	int64_t fetches;
};

struct lti_svc_tokens *lti_svc_tokens_new(const char *keys_dir)
{
	struct lti_svc_tokens *t = xcalloc(1, sizeof(*t));

	t->keys_dir = xstrdup(keys_dir);
	return t;
}

static void drop(struct entry *e)
{
	xfree(e->scopes);
	xfree(e->token);
	xfree(e->granted);
	memset(e, 0, sizeof(*e));
}

void lti_svc_tokens_free(struct lti_svc_tokens *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		drop(&t->e[i]);
	xfree(t->keys_dir);
	xfree(t);
}

int64_t lti_svc_fetches(const struct lti_svc_tokens *t)
{
	return t->fetches;
}

static struct entry *find(struct lti_svc_tokens *t, int64_t platform_id, const char *scopes)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].platform_id == platform_id && strcmp(t->e[i].scopes, scopes) == 0)
			return &t->e[i];
	return NULL;
}

void lti_svc_forget(struct lti_svc_tokens *t, int64_t platform_id, const char *scopes)
{
	struct entry *e = find(t, platform_id, scopes);

	if (e == NULL)
		return;
	drop(e);
	*e = t->e[--t->n];	/* move the last one into the hole */
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
}

static const char *enc(struct arena *a, const char *s, int plus)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = arena_alloc(a, n * 3 + 1), *p = o;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else if (c == ' ' && plus) {
			*p++ = '+';
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

/* application/x-www-form-urlencoded value */
static const char *form_enc(struct arena *a, const char *s)
{
	return enc(a, s, 1);
}

const char *lti_svc_pct(struct arena *a, const char *s)
{
	return enc(a, s, 0);
}

static const char *assertion_json(struct arena *a, const struct platform *p, int64_t now)
{
	struct json_object *o = json_object_new_object();
	const char *s;

	json_object_object_add(o, "iss", json_object_new_string(p->client_id));
	json_object_object_add(o, "sub", json_object_new_string(p->client_id));
	json_object_object_add(o, "aud", json_object_new_string(p->token_endpoint));
	json_object_object_add(o, "iat", json_object_new_int64(now));
	json_object_object_add(o, "exp", json_object_new_int64(now + ASSERTION_TTL));
	json_object_object_add(o, "jti", json_object_new_string(token_random(a, 18)));
	s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static enum at_rc fetch(struct lti_svc_tokens *t, struct db *db, struct arena *a,
			const struct httpc_opts *o, const struct platform *p, const char *scopes,
			int64_t now_ms, struct lti_svc_token *out, struct at_err *err)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL,
	};
	struct httpc_resp resp;
	struct json_object *root, *v;
	const char *tok, *granted, *body, *e, *d;
	char *assertion = NULL;
	int64_t expires_in = 3600;
	enum at_rc rc;

	rc = lti_keys_sign(db, t->keys_dir, now_ms / 1000, a, assertion_json(a, p, now_ms / 1000),
			   &assertion, err);
	if (rc != AT_OK)
		return rc;
	body = arena_printf(a, "grant_type=client_credentials&client_assertion_type=%s"
			    "&client_assertion=%s&scope=%s",
			    form_enc(a, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			    form_enc(a, assertion), form_enc(a, scopes));
	t->fetches++;
	rc = httpc_request(a, o, "POST", p->token_endpoint, headers, body, strlen(body), &resp,
			   err);
	if (rc != AT_OK)
		return rc == AT_BADREQ ? rc : (rc == AT_TIMEOUT ? rc : AT_UPSTREAM);
	root = jsonx_parse(a, resp.body, resp.body_len, 8, NULL);
	if (resp.status >= 500 || resp.status == 429)
		return at_fail(err, AT_UPSTREAM, "token endpoint answered %ld", resp.status);
	if (resp.status != 200) {
		e = root && json_object_is_type(root, json_type_object) ? jstr(root, "error") : NULL;
		d = root && json_object_is_type(root, json_type_object) ?
		    jstr(root, "error_description") : NULL;
		return at_fail(err, AT_UNAUTH, "token endpoint answered %ld: %s%s%s", resp.status,
			       e ? e : "no error code", d ? ": " : "", d ? d : "");
	}
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    (tok = jstr(root, "access_token")) == NULL || *tok == '\0')
		return at_fail(err, AT_UPSTREAM, "token endpoint answer has no access_token");
	granted = jstr(root, "scope");
	if (granted == NULL)
		granted = scopes;	/* RFC 6749 §5.1: omitted means as requested */
	if (json_object_object_get_ex(root, "expires_in", &v) &&
	    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string)))
		expires_in = json_object_get_int64(v);
	if (expires_in <= 0)
		expires_in = 60;
	out->access_token = arena_strdup(a, tok);
	out->granted = arena_strdup(a, granted);
	out->expires_ms = now_ms + expires_in * 1000;
	out->fresh = true;
	return AT_OK;
}

enum at_rc lti_svc_get(struct lti_svc_tokens *t, struct db *db, struct arena *a,
		       const struct httpc_opts *o, const struct platform *p, const char *scopes,
		       int64_t now_ms, struct lti_svc_token *out, struct at_err *err)
{
	struct entry *e = find(t, p->id, scopes);
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	if (e != NULL && e->expires_ms - LTI_SVC_SKEW_MS > now_ms) {
		out->access_token = arena_strdup(a, e->token);
		out->granted = arena_strdup(a, e->granted);
		out->expires_ms = e->expires_ms;
		return AT_OK;
	}
	if (p->token_endpoint == NULL || *p->token_endpoint == '\0')
		return at_fail(err, AT_BADREQ, "platform %lld has no token endpoint",
			       (long long)p->id);
	rc = fetch(t, db, a, o, p, scopes, now_ms, out, err);
	if (rc != AT_OK)
		return rc;
	if (e == NULL) {
		if (t->n == MAX_ENTRIES)
			lti_svc_forget(t, t->e[0].platform_id, t->e[0].scopes);
		e = &t->e[t->n++];
		e->platform_id = p->id;
		e->scopes = xstrdup(scopes);
	} else {
		xfree(e->token);
		xfree(e->granted);
	}
	e->token = xstrdup(out->access_token);
	e->granted = xstrdup(out->granted);
	e->expires_ms = out->expires_ms;
	return AT_OK;
}

enum at_rc lti_svc_need(const struct lti_svc_token *tok, const char *scope, struct at_err *err)
{
	size_t n = strlen(scope);

	for (const char *s = tok->granted; s != NULL && *s != '\0';) {
		const char *sp = strchr(s, ' ');
		size_t len = sp ? (size_t)(sp - s) : strlen(s);

		if (len == n && strncmp(s, scope, n) == 0)
			return AT_OK;
		s = sp ? sp + 1 : NULL;
	}
	return at_fail(err, AT_FORBIDDEN, "the platform did not grant the scope %s (granted: %s)",
		       scope, tok->granted && *tok->granted ? tok->granted : "none");
}

const char *lti_svc_auth_header(struct arena *a, const struct lti_svc_token *tok)
{
	return arena_printf(a, "Authorization: Bearer %s", tok->access_token);
}
