/* lti_jwt.c: LTI 1.3 id_token verification and claim checks (notes/lti.md §1c).
 *
 * The signature is checked by cjose (RS256 only, key chosen by kid); claims are read
 * with json-c from the bytes cjose verified. cjose's JSON (jansson) stays inside cjose.
 * Strings with an embedded NUL (\u0000) are treated as malformed everywhere, so a plain
 * strcmp can never be fooled by a value that only looks equal up to the NUL.
 */
#include <cjose/cjose.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/token.h"
#include "lti/lti_jwt.h"

#define LTI_CLAIM	"https://purl.imsglobal.org/spec/lti/claim/"
#define C_MESSAGE_TYPE	LTI_CLAIM "message_type"
#define C_VERSION	LTI_CLAIM "version"
#define C_DEPLOYMENT_ID	LTI_CLAIM "deployment_id"
#define C_TARGET_LINK	LTI_CLAIM "target_link_uri"
#define C_RESOURCE_LINK	LTI_CLAIM "resource_link"
#define C_ROLES		LTI_CLAIM "roles"
#define C_CONTEXT	LTI_CLAIM "context"
#define C_CUSTOM	LTI_CLAIM "custom"
#define C_LAUNCH_PRES	LTI_CLAIM "launch_presentation"
#define C_TOOL_PLATFORM	LTI_CLAIM "tool_platform"
#define C_AGS		"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
#define C_NRPS		"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
#define C_DL_SETTINGS	"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

#define MSG_RESOURCE_LINK	"LtiResourceLinkRequest"
#define MSG_DEEP_LINKING	"LtiDeepLinkingRequest"

#define JSON_DEPTH	32
#define MIN_RSA_BITS	2048
#define MAX_ID_LEN	255	/* sub and deployment_id (Core §5.3.3, §5.3.6) */

enum jget { J_ABSENT, J_OK, J_BAD };

static void json_put_cb(void *ud)
{
	json_object_put(ud);
}

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Value of a base64url digit (the caller checked is_b64url). */
static unsigned b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0') + 52;
	return c == '-' ? 62 : 63;
}

/*
 * Unpadded base64url whose unused low bits in the last digit are zero, as every encoder
 * writes it: otherwise several strings decode alike and a signed token is malleable.
 */
static int is_canonical(const char *s, size_t len)
{
	switch (len % 4) {
	case 1:
		return 0;
	case 2:
		return (b64_val(s[len - 1]) & 0x0f) == 0;
	case 3:
		return (b64_val(s[len - 1]) & 0x03) == 0;
	default:
		return 1;
	}
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Parse exactly s[0..len) as one JSON object (strict, UTF-8 checked, nesting capped).
 * Returns AT_OK and *out (put when a is freed) or AT_BADREQ.
 */
static enum at_rc parse_object(struct arena *a, const char *s, size_t len,
			       struct json_object **out)
{
	enum at_rc rc = AT_BADREQ;
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	size_t end;

	*out = NULL;
	if (len == 0 || len > INT_MAX)
		goto out;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL) {
		rc = AT_INTERNAL;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!is_json_space(s[end]))
			goto out;
	}
	if (!json_object_is_type(o, json_type_object))
		goto out;
	arena_on_free(a, json_put_cb, o);
	*out = o;
	o = NULL;
	rc = AT_OK;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* Decode one base64url part of a token and parse it as a JSON object. */
static enum at_rc decode_part(struct arena *a, const char *s, size_t len,
			      const char *what, struct json_object **out,
			      struct at_err *err)
{
	enum at_rc rc;
	unsigned char *raw = NULL;
	size_t raw_len = 0;

	if (len == 0)
		return at_fail(err, AT_BADREQ, "id_token %s is empty", what);
	rc = token_b64url_decode(a, s, len, &raw, &raw_len);
	if (rc != AT_OK)
		return at_fail(err, AT_BADREQ, "id_token %s is not base64url", what);
	if (memchr(raw, '\0', raw_len) != NULL)
		return at_fail(err, AT_BADREQ, "id_token %s contains a NUL byte", what);
	rc = parse_object(a, (const char *)raw, raw_len, out);
	if (rc != AT_OK)
		return at_fail(err, rc, "id_token %s is not a JSON object", what);
	return AT_OK;
}

enum at_rc lti_jwt_peek(struct arena *a, const char *token, size_t len,
			struct json_object **header, struct json_object **payload,
			struct at_err *err)
{
	size_t dot[2] = { 0, 0 };
	size_t ndots = 0;
	enum at_rc rc;

	*header = NULL;
	*payload = NULL;
	if (token == NULL || len == 0)
		return at_fail(err, AT_BADREQ, "id_token is empty");
	if (len > LTI_JWT_MAX_LEN)
		return at_fail(err, AT_TOOBIG, "id_token is longer than %d bytes",
			       LTI_JWT_MAX_LEN);
	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2)
				return at_fail(err, AT_BADREQ,
					       "id_token has more than 3 parts");
			dot[ndots++] = i;
		} else if (!is_b64url(token[i])) {
			return at_fail(err, AT_BADREQ,
				       "id_token has a byte outside base64url");
		}
	}
	if (ndots != 2)
		return at_fail(err, AT_BADREQ, "id_token must have 3 dot-separated parts");
	if (!is_canonical(token, dot[0]) ||
	    !is_canonical(token + dot[0] + 1, dot[1] - dot[0] - 1) ||
	    !is_canonical(token + dot[1] + 1, len - dot[1] - 1))
		return at_fail(err, AT_BADREQ, "id_token part is not canonical base64url");
	rc = decode_part(a, token, dot[0], "header", header, err);
	if (rc != AT_OK)
		return rc;
	rc = decode_part(a, token + dot[0] + 1, dot[1] - dot[0] - 1, "payload", payload, err);
	if (rc != AT_OK) {
		*header = NULL;	/* still freed with a */
		return rc;
	}
	return AT_OK;
}

/* Member key of o as a NUL-free string: J_ABSENT (missing or null), J_OK, J_BAD. */
static enum jget get_str(struct json_object *o, const char *key, const char **s)
{
	struct json_object *v;

	*s = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return J_ABSENT;
	if (!json_object_is_type(v, json_type_string))
		return J_BAD;
	*s = json_object_get_string(v);
	if (strlen(*s) != (size_t)json_object_get_string_len(v)) {
		*s = NULL;
		return J_BAD;
	}
	return J_OK;
}

/* Member key of o as an object: J_ABSENT (missing or null), J_OK, J_BAD. */
static enum jget get_obj(struct json_object *o, const char *key, struct json_object **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return J_ABSENT;
	if (!json_object_is_type(v, json_type_object))
		return J_BAD;
	*out = v;
	return J_OK;
}

/* A NumericDate (RFC 7519 §2): any JSON number; a fraction is dropped. */
static enum jget get_time(struct json_object *o, const char *key, int64_t *t)
{
	struct json_object *v;
	double d;

	*t = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return J_ABSENT;
	if (json_object_is_type(v, json_type_int)) {
		*t = json_object_get_int64(v);
		return J_OK;
	}
	if (!json_object_is_type(v, json_type_double))
		return J_BAD;
	d = json_object_get_double(v);
	if (!isfinite(d) || d < -9.0e18 || d > 9.0e18)
		return J_BAD;
	*t = (int64_t)d;
	return J_OK;
}

/* Optional string member copied into a (NULL when absent); AT_BADREQ on a wrong type. */
static enum at_rc opt_str(struct arena *a, struct json_object *o, const char *key,
			  const char *what, const char **out, struct at_err *err)
{
	const char *s;

	switch (get_str(o, key, &s)) {
	case J_ABSENT:
		*out = NULL;
		return AT_OK;
	case J_OK:
		*out = arena_strdup(a, s);
		return AT_OK;
	case J_BAD:
		break;
	}
	*out = NULL;
	return at_fail(err, AT_BADREQ, "claim %s must be a string", what);
}

/* Required non-empty string member copied into a. */
static enum at_rc req_str(struct arena *a, struct json_object *o, const char *key,
			  const char *what, const char **out, struct at_err *err)
{
	enum at_rc rc = opt_str(a, o, key, what, out, err);

	if (rc != AT_OK)
		return rc;
	if (*out == NULL || (*out)[0] == '\0')
		return at_fail(err, AT_BADREQ, "claim %s is missing or empty", what);
	return AT_OK;
}

/* Optional object member; AT_BADREQ when present with another type. */
static enum at_rc opt_obj(struct json_object *o, const char *key, const char *what,
			  struct json_object **out, struct at_err *err)
{
	if (get_obj(o, key, out) == J_BAD)
		return at_fail(err, AT_BADREQ, "claim %s must be an object", what);
	return AT_OK;
}

/* Optional boolean member; *out is left alone (the default) when absent. */
static enum at_rc opt_bool(struct json_object *o, const char *key, const char *what,
			   bool *out, struct at_err *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return AT_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return at_fail(err, AT_BADREQ, "claim %s must be a boolean", what);
	*out = json_object_get_boolean(v) != 0;
	return AT_OK;
}

/* Optional array of strings member, joined with single spaces into a. */
static enum at_rc opt_words(struct arena *a, struct json_object *o, const char *key,
			    const char *what, const char **out, struct at_err *err)
{
	struct json_object *v;
	size_t n, total = 0;
	char *p;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return AT_OK;
	if (!json_object_is_type(v, json_type_array))
		return at_fail(err, AT_BADREQ, "claim %s must be an array", what);
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (e == NULL || !json_object_is_type(e, json_type_string) ||
		    strlen(json_object_get_string(e)) !=
		    (size_t)json_object_get_string_len(e))
			return at_fail(err, AT_BADREQ, "claim %s must hold strings", what);
		total += (size_t)json_object_get_string_len(e) + 1;
	}
	p = arena_alloc(a, total + 1);
	*out = p;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t len = (size_t)json_object_get_string_len(e);

		if (i > 0)
			*p++ = ' ';
		memcpy(p, json_object_get_string(e), len);
		p += len;
	}
	*p = '\0';
	return AT_OK;
}

static int has_ctl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

/* --- roles ---------------------------------------------------------------------- */

#define LIS		"http://purl.imsglobal.org/vocab/lis/v2/"
#define MEMBERSHIP	LIS "membership#"
#define SUBROLE		LIS "membership/"

static const struct {
	const char *name;
	unsigned flag;
} role_table[] = {
	{ MEMBERSHIP "Learner", LTI_ROLE_LEARNER },
	{ MEMBERSHIP "Instructor", LTI_ROLE_ASSESSOR },
	{ MEMBERSHIP "Mentor", LTI_ROLE_ASSESSOR },
	{ MEMBERSHIP "ContentDeveloper", LTI_ROLE_ASSESSOR },
	/* not in the vocabulary, but sent by some platforms for a TA */
	{ MEMBERSHIP "TeachingAssistant", LTI_ROLE_ASSESSOR },
	{ MEMBERSHIP "Administrator", LTI_ROLE_ADMIN },
	{ LIS "institution/person#Administrator", LTI_ROLE_ADMIN },
	{ LIS "system/person#Administrator", LTI_ROLE_ADMIN },
	{ LIS "system/person#SysAdmin", LTI_ROLE_ADMIN },	/* Canvas site admin */
	/* short context role names (Core §A.2.3, Moodle NRPS) */
	{ "Learner", LTI_ROLE_LEARNER },
	{ "Instructor", LTI_ROLE_ASSESSOR },
	{ "Mentor", LTI_ROLE_ASSESSOR },
	{ "ContentDeveloper", LTI_ROLE_ASSESSOR },
	{ "TeachingAssistant", LTI_ROLE_ASSESSOR },
	{ "Administrator", LTI_ROLE_ADMIN },
};

/* Parent of a context sub-role "…/membership/<Parent>#<Sub>" decides its flag. */
static const struct {
	const char *parent;
	unsigned flag;
} subrole_table[] = {
	{ "Learner", LTI_ROLE_LEARNER },
	{ "Instructor", LTI_ROLE_ASSESSOR },
	{ "Mentor", LTI_ROLE_ASSESSOR },
	{ "ContentDeveloper", LTI_ROLE_ASSESSOR },
	{ "Administrator", LTI_ROLE_ADMIN },
};

unsigned lti_jwt_role_flag(const char *role)
{
	const char *parent, *hash;
	size_t plen;

	if (role == NULL)
		return 0;
	for (size_t i = 0; i < NELEM(role_table); i++) {
		if (strcmp(role, role_table[i].name) == 0)
			return role_table[i].flag;
	}
	if (strncmp(role, SUBROLE, sizeof(SUBROLE) - 1) != 0)
		return 0;
	parent = role + sizeof(SUBROLE) - 1;
	hash = strchr(parent, '#');
	if (hash == NULL || hash[1] == '\0')
		return 0;
	plen = (size_t)(hash - parent);
	for (size_t i = 0; i < NELEM(subrole_table); i++) {
		if (strlen(subrole_table[i].parent) == plen &&
		    memcmp(parent, subrole_table[i].parent, plen) == 0)
			return subrole_table[i].flag;
	}
	return 0;
}

/* --- verification --------------------------------------------------------------- */

static int str_is(struct json_object *v, const char *want)
{
	return v != NULL && json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == strlen(want) &&
	       memcmp(json_object_get_string(v), want, strlen(want)) == 0;
}

/* Significant bits of a big-endian unsigned integer. */
static size_t bit_length(const unsigned char *p, size_t n)
{
	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	size_t bits = (n - 1) * 8;
	for (unsigned c = *p; c != 0; c >>= 1)
		bits++;
	return bits;
}

/*
 * Find the signing JWK named kid in the JWKS keys array. Returns AT_OK and *out
 * (borrowed), AT_NOTFOUND when no key has that kid, AT_UNAUTH when the only keys
 * with that kid are for encryption.
 */
static enum at_rc find_key(struct json_object *keys, const char *kid,
			   struct json_object **out, struct at_err *err)
{
	size_t n = json_object_array_length(keys);
	int other_use = 0;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		struct json_object *v;

		if (k == NULL || !json_object_is_type(k, json_type_object))
			continue;
		if (!json_object_object_get_ex(k, "kid", &v) || !str_is(v, kid))
			continue;
		if (json_object_object_get_ex(k, "use", &v) && v != NULL &&
		    !str_is(v, "sig")) {
			other_use = 1;
			continue;
		}
		*out = k;
		return AT_OK;
	}
	if (other_use)
		return at_fail(err, AT_UNAUTH,
			       "platform key for the id_token kid is not a signing key");
	return at_fail(err, AT_NOTFOUND, "platform JWKS has no key for the id_token kid");
}

/* Is the JWK fit to verify RS256: kty RSA, alg/key_ops allow it, n >= 2048 bits. */
static enum at_rc check_jwk(struct arena *a, struct json_object *k, struct at_err *err)
{
	struct json_object *v;
	const char *n;
	unsigned char *raw = NULL;
	size_t raw_len = 0;

	if (!json_object_object_get_ex(k, "kty", &v) || !str_is(v, "RSA"))
		return at_fail(err, AT_UNAUTH, "platform key is not an RSA key");
	if (json_object_object_get_ex(k, "alg", &v) && v != NULL && !str_is(v, "RS256"))
		return at_fail(err, AT_UNAUTH, "platform key alg is not RS256");
	if (json_object_object_get_ex(k, "key_ops", &v) && v != NULL) {
		int verify = 0;

		if (!json_object_is_type(v, json_type_array))
			return at_fail(err, AT_UNAUTH, "platform key key_ops is not an array");
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (str_is(json_object_array_get_idx(v, i), "verify"))
				verify = 1;
		}
		if (!verify)
			return at_fail(err, AT_UNAUTH,
				       "platform key key_ops does not allow verify");
	}
	if (get_str(k, "n", &n) != J_OK ||
	    token_b64url_decode(a, n, strlen(n), &raw, &raw_len) != AT_OK)
		return at_fail(err, AT_UNAUTH, "platform key has no valid modulus n");
	if (bit_length(raw, raw_len) < MIN_RSA_BITS)
		return at_fail(err, AT_UNAUTH, "platform key is shorter than %d bits",
			       MIN_RSA_BITS);
	return AT_OK;
}

enum at_rc lti_jwt_verify(struct arena *a, const char *token, size_t len,
			  const char *jwks_json, struct json_object **claims,
			  struct at_err *err)
{
	enum at_rc rc;
	struct json_object *hdr, *pl, *v, *jwks, *keys, *k;
	const char *kid, *alg, *jwk_text;
	size_t jwk_len = 0;
	cjose_err cerr;
	cjose_jwk_t *jwk = NULL;
	cjose_jws_t *jws = NULL;
	uint8_t *plain = NULL;
	size_t plain_len = 0;

	*claims = NULL;
	rc = lti_jwt_peek(a, token, len, &hdr, &pl, err);
	if (rc != AT_OK)
		goto out;

	rc = AT_UNAUTH;
	if (!json_object_object_get_ex(hdr, "alg", &v) || v == NULL) {
		at_fail(err, rc, "id_token header has no alg");
		goto out;
	}
	if (!str_is(v, "RS256")) {
		at_fail(err, rc, "id_token alg must be RS256");
		goto out;
	}
	if (get_str(hdr, "kid", &kid) != J_OK || kid[0] == '\0') {
		at_fail(err, rc, "id_token header has no kid");
		goto out;
	}
	if (json_object_object_get_ex(hdr, "crit", &v)) {
		at_fail(err, rc, "id_token header has crit extensions");
		goto out;
	}

	if (jwks_json == NULL ||
	    parse_object(a, jwks_json, strlen(jwks_json), &jwks) != AT_OK ||
	    !json_object_object_get_ex(jwks, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		rc = at_fail(err, AT_UPSTREAM, "platform JWKS is not {\"keys\":[...]}");
		goto out;
	}
	rc = find_key(keys, kid, &k, err);
	if (rc != AT_OK)
		goto out;
	rc = check_jwk(a, k, err);
	if (rc != AT_OK)
		goto out;

	rc = AT_UNAUTH;
	jwk_text = json_object_to_json_string_length(k, JSON_C_TO_STRING_PLAIN, &jwk_len);
	jwk = cjose_jwk_import(jwk_text, jwk_len, &cerr);
	if (jwk == NULL || cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_RSA ||
	    cjose_jwk_get_keysize(jwk, &cerr) < MIN_RSA_BITS) {
		at_fail(err, rc, "platform key cannot be used for RS256");
		goto out;
	}
	jws = cjose_jws_import(token, len, &cerr);
	if (jws == NULL) {
		at_fail(err, rc, "id_token is not a valid JWS");
		goto out;
	}
	/* cjose parsed the header itself: make sure it saw the same alg we checked */
	alg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG, &cerr);
	if (alg == NULL || strcmp(alg, CJOSE_HDR_ALG_RS256) != 0) {
		at_fail(err, rc, "id_token alg must be RS256");
		goto out;
	}
	if (!cjose_jws_verify(jws, jwk, &cerr)) {
		at_fail(err, rc, "id_token signature is invalid");
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &cerr) ||
	    memchr(plain, '\0', plain_len) != NULL ||
	    parse_object(a, (const char *)plain, plain_len, claims) != AT_OK) {
		rc = at_fail(err, AT_BADREQ, "id_token payload is not a JSON object");
		goto out;
	}
	rc = AT_OK;
out:
	cjose_jws_release(jws);	/* owns plain */
	cjose_jwk_release(jwk);
	return rc;
}

/* --- claims --------------------------------------------------------------------- */

static enum at_rc check_security(struct json_object *c, const struct lti_expect *x,
				 struct lti_claims *out, struct arena *a,
				 struct at_err *err)
{
	struct json_object *aud;
	const char *s;
	size_t naud = 0;
	int ours = 0;

	switch (get_str(c, "iss", &s)) {
	case J_ABSENT:
		return at_fail(err, AT_UNAUTH, "claim iss is missing");
	case J_BAD:
		return at_fail(err, AT_UNAUTH, "claim iss must be a string");
	case J_OK:
		break;
	}
	if (strcmp(s, x->issuer) != 0)
		return at_fail(err, AT_UNAUTH, "claim iss is not the registered issuer");
	out->iss = arena_strdup(a, s);

	if (!json_object_object_get_ex(c, "aud", &aud) || aud == NULL)
		return at_fail(err, AT_UNAUTH, "claim aud is missing");
	if (json_object_is_type(aud, json_type_string)) {
		naud = 1;
		ours = str_is(aud, x->client_id);
	} else if (json_object_is_type(aud, json_type_array)) {
		naud = json_object_array_length(aud);
		for (size_t i = 0; i < naud; i++) {
			struct json_object *e = json_object_array_get_idx(aud, i);

			if (e == NULL || !json_object_is_type(e, json_type_string))
				return at_fail(err, AT_UNAUTH,
					       "claim aud must hold strings");
			if (str_is(e, x->client_id))
				ours = 1;
		}
	} else {
		return at_fail(err, AT_UNAUTH, "claim aud must be a string or an array");
	}
	if (!ours)
		return at_fail(err, AT_UNAUTH, "claim aud does not contain our client_id");

	/* SF §5.1.3 items 4-5: several audiences need azp; azp must be us */
	switch (get_str(c, "azp", &s)) {
	case J_ABSENT:
		if (naud > 1)
			return at_fail(err, AT_UNAUTH,
				       "claim azp is required when aud has several values");
		break;
	case J_BAD:
		return at_fail(err, AT_UNAUTH, "claim azp must be a string");
	case J_OK:
		if (strcmp(s, x->client_id) != 0)
			return at_fail(err, AT_UNAUTH, "claim azp is not our client_id");
		break;
	}

	switch (get_time(c, "exp", &out->exp)) {
	case J_ABSENT:
		return at_fail(err, AT_UNAUTH, "claim exp is missing");
	case J_BAD:
		return at_fail(err, AT_UNAUTH, "claim exp must be a number");
	case J_OK:
		break;
	}
	if (out->exp <= x->now - x->skew)
		return at_fail(err, AT_UNAUTH, "id_token has expired (claim exp)");

	/* iat bounds how long a nonce must be remembered (notes/lti.md §1c item 8) */
	switch (get_time(c, "iat", &out->iat)) {
	case J_ABSENT:
		return at_fail(err, AT_UNAUTH, "claim iat is missing");
	case J_BAD:
		return at_fail(err, AT_UNAUTH, "claim iat must be a number");
	case J_OK:
		break;
	}
	if (out->iat > x->now + x->skew)
		return at_fail(err, AT_UNAUTH, "claim iat is in the future");
	if (out->iat < x->now - LTI_JWT_MAX_AGE)
		return at_fail(err, AT_UNAUTH, "claim iat is more than %d seconds old",
			       LTI_JWT_MAX_AGE);

	switch (get_str(c, "nonce", &s)) {
	case J_ABSENT:
		return at_fail(err, AT_UNAUTH, "claim nonce is missing");
	case J_BAD:
		return at_fail(err, AT_UNAUTH, "claim nonce must be a string");
	case J_OK:
		break;
	}
	if (!token_equal(s, x->nonce))
		return at_fail(err, AT_UNAUTH, "claim nonce does not match the login");
	return AT_OK;
}

static enum at_rc check_roles(struct arena *a, struct json_object *c,
			      struct lti_claims *out, struct at_err *err)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(c, C_ROLES, &v) || v == NULL)
		return at_fail(err, AT_BADREQ, "claim roles is missing");
	if (!json_object_is_type(v, json_type_array))
		return at_fail(err, AT_BADREQ, "claim roles must be an array");
	n = json_object_array_length(v);
	out->roles = arena_zalloc(a, (n + 1) * sizeof(*out->roles));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *s;

		if (e == NULL || !json_object_is_type(e, json_type_string))
			return at_fail(err, AT_BADREQ, "claim roles must hold strings");
		s = json_object_get_string(e);
		if (strlen(s) != (size_t)json_object_get_string_len(e))
			return at_fail(err, AT_BADREQ, "claim roles must hold strings");
		out->roles[i] = arena_strdup(a, s);
		out->role_flags |= lti_jwt_role_flag(s);
	}
	out->nroles = n;
	return AT_OK;
}

/* Claims every message needs: version, message_type, deployment_id, target, sub, roles. */
static enum at_rc check_message(struct arena *a, struct json_object *c,
				const struct lti_expect *x, struct lti_claims *out,
				struct at_err *err)
{
	static const char *const types[] = {
		MSG_RESOURCE_LINK, MSG_DEEP_LINKING, "LtiSubmissionReviewRequest",
	};
	enum at_rc rc;
	size_t i;

	rc = req_str(a, c, C_VERSION, "version", &out->version, err);
	if (rc != AT_OK)
		return rc;
	if (strcmp(out->version, "1.3.0") != 0)
		return at_fail(err, AT_BADREQ, "claim version must be 1.3.0");

	rc = req_str(a, c, C_MESSAGE_TYPE, "message_type", &out->message_type, err);
	if (rc != AT_OK)
		return rc;
	for (i = 0; i < NELEM(types); i++) {
		if (strcmp(out->message_type, types[i]) == 0)
			break;
	}
	if (i == NELEM(types))
		return at_fail(err, AT_BADREQ, "claim message_type is not a message "
			       "Attest handles (resource link, deep linking, "
			       "submission review)");

	rc = req_str(a, c, C_DEPLOYMENT_ID, "deployment_id", &out->deployment_id, err);
	if (rc != AT_OK)
		return rc;
	if (strlen(out->deployment_id) > MAX_ID_LEN || has_ctl(out->deployment_id))
		return at_fail(err, AT_BADREQ,
			       "claim deployment_id must be 1-%d printable bytes", MAX_ID_LEN);

	rc = req_str(a, c, C_TARGET_LINK, "target_link_uri", &out->target_link_uri, err);
	if (rc != AT_OK)
		return rc;
	if (x->target_link_uri != NULL && strcmp(out->target_link_uri, x->target_link_uri) != 0)
		return at_fail(err, AT_BADREQ,
			       "claim target_link_uri does not match the login request");

	/* sub may be absent for anonymous launches (Core §5.3.6); Attest needs a user */
	rc = req_str(a, c, "sub", "sub", &out->sub, err);
	if (rc != AT_OK)
		return rc;
	if (strlen(out->sub) > MAX_ID_LEN)
		return at_fail(err, AT_BADREQ, "claim sub is longer than %d bytes", MAX_ID_LEN);

	return check_roles(a, c, out, err);
}

/* Optional groups: resource_link, context, user names, AGS, NRPS, presentation, ... */
static enum at_rc check_optional(struct arena *a, struct json_object *c,
				 struct lti_claims *out, struct at_err *err)
{
	struct json_object *o;
	enum at_rc rc;

	rc = opt_obj(c, C_RESOURCE_LINK, "resource_link", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "id", "resource_link.id", &out->resource_link.id, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "title", "resource_link.title",
			     &out->resource_link.title, err);
	if (rc != AT_OK)
		return rc;
	if (strcmp(out->message_type, MSG_RESOURCE_LINK) == 0 &&
	    (out->resource_link.id == NULL || out->resource_link.id[0] == '\0'))
		return at_fail(err, AT_BADREQ, "claim resource_link.id is missing");

	rc = opt_obj(c, C_CONTEXT, "context", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = req_str(a, o, "id", "context.id", &out->context.id, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "label", "context.label", &out->context.label, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "title", "context.title", &out->context.title, err);
	if (rc != AT_OK)
		return rc;

	rc = opt_str(a, c, "name", "name", &out->name, err);
	if (rc == AT_OK)
		rc = opt_str(a, c, "given_name", "given_name", &out->given_name, err);
	if (rc == AT_OK)
		rc = opt_str(a, c, "family_name", "family_name", &out->family_name, err);
	if (rc == AT_OK)
		rc = opt_str(a, c, "email", "email", &out->email, err);
	if (rc != AT_OK)
		return rc;

	rc = opt_obj(c, C_AGS, "ags endpoint", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "lineitems", "ags lineitems", &out->ags.lineitems, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "lineitem", "ags lineitem", &out->ags.lineitem, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_words(a, o, "scope", "ags scope", &out->ags.scopes, err);
	if (rc != AT_OK)
		return rc;

	rc = opt_obj(c, C_NRPS, "namesroleservice", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "context_memberships_url",
			     "namesroleservice context_memberships_url", &out->nrps_url, err);
	if (rc != AT_OK)
		return rc;

	rc = opt_obj(c, C_LAUNCH_PRES, "launch_presentation", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "return_url", "launch_presentation.return_url",
			     &out->return_url, err);
	if (rc != AT_OK)
		return rc;

	rc = opt_obj(c, C_TOOL_PLATFORM, "tool_platform", &o, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "guid", "tool_platform.guid", &out->tool_platform.guid, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "url", "tool_platform.url", &out->tool_platform.url, err);
	if (rc == AT_OK && o != NULL)
		rc = opt_str(a, o, "product_family_code", "tool_platform.product_family_code",
			     &out->tool_platform.product_family_code, err);
	if (rc != AT_OK)
		return rc;

	return opt_obj(c, C_CUSTOM, "custom", &out->custom, err);
}

static enum at_rc check_deep_linking(struct arena *a, struct json_object *c,
				     struct lti_claims *out, struct at_err *err)
{
	struct json_object *o;
	enum at_rc rc;

	if (strcmp(out->message_type, MSG_DEEP_LINKING) != 0)
		return AT_OK;
	out->dl.accept_multiple = false;
	out->dl.accept_lineitem = true;
	rc = opt_obj(c, C_DL_SETTINGS, "deep_linking_settings", &o, err);
	if (rc != AT_OK)
		return rc;
	if (o == NULL)
		return at_fail(err, AT_BADREQ, "claim deep_linking_settings is missing");
	rc = req_str(a, o, "deep_link_return_url",
		     "deep_linking_settings.deep_link_return_url", &out->dl.return_url, err);
	if (rc == AT_OK)
		rc = opt_str(a, o, "data", "deep_linking_settings.data", &out->dl.data, err);
	if (rc == AT_OK)
		rc = opt_str(a, o, "title", "deep_linking_settings.title", &out->dl.title, err);
	if (rc == AT_OK)
		rc = opt_words(a, o, "accept_types", "deep_linking_settings.accept_types",
			       &out->dl.accept_types, err);
	if (rc == AT_OK)
		rc = opt_words(a, o, "accept_presentation_document_targets",
			       "deep_linking_settings.accept_presentation_document_targets",
			       &out->dl.accept_targets, err);
	if (rc == AT_OK)
		rc = opt_bool(o, "accept_multiple", "deep_linking_settings.accept_multiple",
			      &out->dl.accept_multiple, err);
	if (rc == AT_OK)
		rc = opt_bool(o, "accept_lineitem", "deep_linking_settings.accept_lineitem",
			      &out->dl.accept_lineitem, err);
	return rc;
}

enum at_rc lti_claims_check(struct arena *a, struct json_object *claims,
			    const struct lti_expect *x, struct lti_claims *out,
			    struct at_err *err)
{
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	if (x == NULL || x->issuer == NULL || x->client_id == NULL || x->nonce == NULL)
		return at_fail(err, AT_INTERNAL, "launch expectations are incomplete");
	if (claims == NULL || !json_object_is_type(claims, json_type_object))
		return at_fail(err, AT_BADREQ, "id_token claims are not a JSON object");

	rc = check_security(claims, x, out, a, err);
	if (rc == AT_OK)
		rc = check_message(a, claims, x, out, err);
	if (rc == AT_OK)
		rc = check_optional(a, claims, out, err);
	if (rc == AT_OK)
		rc = check_deep_linking(a, claims, out, err);
	if (rc != AT_OK) {
		memset(out, 0, sizeof(*out));	/* nothing half-checked leaks out */
	}
	return rc;
}
