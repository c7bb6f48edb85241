/* test_jwt.c: id_token peek/verify and LTI claim checks (lti/lti_jwt.c).
 *
 * Tokens are built here with OpenSSL (EVP sign, HMAC) and json-c, independently of the
 * cjose code under test. Claims cases follow the 1EdTech LTI 1.3 certification suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "core/arena.h"
#include "core/token.h"
#include "lti/lti_jwt.h"

#define NOW		INT64_C(1700000000)
#define SKEW		60
#define ISS		"https://lms.example.edu"
#define CLIENT		"client-42"
#define NONCE		"NONCE-7f3a9c"
#define SUB		"SUB-9c1d"
#define TARGET		"https://attest.example.org/lti/launch"
#define CLAIM		"https://purl.imsglobal.org/spec/lti/claim/"
#define DL_SETTINGS	"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
#define MEMBERSHIP	"http://purl.imsglobal.org/vocab/lis/v2/membership#"

static EVP_PKEY *key1, *key2, *key_small;
static char *jwks;	/* key1 = "k1", key2 = "k2", key_small = "k3", plus unusable keys */
static struct arena *ga;	/* lives for the whole run: keys text */

/* --- token building -------------------------------------------------------------- */

static char *b64(struct arena *a, const char *s)
{
	return token_b64url(a, s, strlen(s));
}

static char *rs256(struct arena *a, EVP_PKEY *k, const char *input)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t sig_len = sizeof(sig);

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input,
					strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	return token_b64url(a, sig, sig_len);
}

/* b64(hdr).b64(payload).sig — signed RS256 with k, or with an empty signature. */
static char *make_token(struct arena *a, const char *hdr, const char *payload, EVP_PKEY *k)
{
	char *input = arena_printf(a, "%s.%s", b64(a, hdr), b64(a, payload));

	return arena_printf(a, "%s.%s", input, k ? rs256(a, k, input) : "");
}

static char *make_hs256(struct arena *a, const char *hdr, const char *payload,
			const char *secret)
{
	char *input = arena_printf(a, "%s.%s", b64(a, hdr), b64(a, payload));
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
			     (const unsigned char *)input, strlen(input), mac, &mac_len));
	return arena_printf(a, "%s.%s", input, token_b64url(a, mac, mac_len));
}

static char *bn_b64(struct arena *a, EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return token_b64url(a, buf, (size_t)n);
}

/* Public JWK of k as JSON text; extra is spliced in (",\"alg\":\"RS256\"" ...). */
static char *jwk_of(struct arena *a, EVP_PKEY *k, const char *kid, const char *extra)
{
	return arena_printf(a, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
			    kid, bn_b64(a, k, OSSL_PKEY_PARAM_RSA_N),
			    bn_b64(a, k, OSSL_PKEY_PARAM_RSA_E), extra);
}

static int group_setup(void **state)
{
	(void)state;
	ga = arena_new();
	key1 = EVP_RSA_gen(2048);
	key2 = EVP_RSA_gen(2048);
	key_small = EVP_RSA_gen(1024);
	if (key1 == NULL || key2 == NULL || key_small == NULL)
		return -1;
	jwks = arena_printf(ga, "{\"keys\":[%s,%s,%s,%s,%s,%s,%s,%s]}",
			    jwk_of(ga, key1, "k1", ",\"alg\":\"RS256\",\"use\":\"sig\""),
			    jwk_of(ga, key2, "k2", ""),
			    jwk_of(ga, key_small, "k3", ",\"alg\":\"RS256\""),
			    jwk_of(ga, key1, "enc-only", ",\"use\":\"enc\""),
			    jwk_of(ga, key1, "rs512", ",\"alg\":\"RS512\""),
			    jwk_of(ga, key1, "ops-sign", ",\"key_ops\":[\"sign\"]"),
			    jwk_of(ga, key1, "extras", ",\"key_ops\":[\"verify\"],\"x5t\":\"abc\","
				   "\"x5c\":[\"MIIB\"],\"use\":\"sig\",\"ext\":true,\"d\":null"),
			    "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\","
			    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
			    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(key_small);
	arena_free(ga);
	return 0;
}

/* --- peek ------------------------------------------------------------------------ */

static void test_peek(void **state)
{
	struct arena *a = arena_new();
	const char *ok_hdr = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
	char *deep = arena_strdup(a, "{\"a\":");
	char *huge;
	struct {
		const char *name;
		const char *token;
		enum at_rc want;
		const char *msg;	/* in err.msg on failure */
	} cases[] = {
		{ "valid", make_token(a, ok_hdr, "{\"iss\":\"x\"}", key1), AT_OK, NULL },
		{ "valid, empty signature", make_token(a, ok_hdr, "{}", NULL), AT_OK, NULL },
		{ "empty", "", AT_BADREQ, "empty" },
		{ "one part", "abc", AT_BADREQ, "3 dot-separated" },
		{ "two parts", "eyJhIjoxfQ.eyJhIjoxfQ", AT_BADREQ, "3 dot-separated" },
		{ "four parts", "eyJhIjoxfQ.eyJhIjoxfQ.c2ln.c2ln", AT_BADREQ, "more than 3" },
		{ "non-base64url byte", "eyJhIjoxfQ.eyJhIjox+Q.sig", AT_BADREQ,
		  "outside base64url" },
		{ "padding", "eyJhIjoxfQ==.eyJhIjoxfQ.sig", AT_BADREQ, "outside base64url" },
		{ "space", "eyJhIjoxfQ .eyJhIjoxfQ.sig", AT_BADREQ, "outside base64url" },
		{ "empty header", ".eyJhIjoxfQ.sig", AT_BADREQ, "header is empty" },
		{ "empty payload", "eyJhIjoxfQ..sig", AT_BADREQ, "payload is empty" },
		{ "bad base64 length", "eyJhIjoxfQ.e.sig", AT_BADREQ, "canonical" },
		/* {"a":1} is eyJhIjoxfQ; eyJhIjoxfR decodes alike but is not canonical */
		{ "non-canonical header", "eyJhIjoxfR.eyJhIjoxfQ.sig", AT_BADREQ, "canonical" },
		{ "non-canonical signature", "eyJhIjoxfQ.eyJhIjoxfQ.sih", AT_BADREQ, "canonical" },
		{ "header not JSON", arena_printf(a, "%s.%s.sig", b64(a, "nope"), b64(a, "{}")),
		  AT_BADREQ, "header is not a JSON object" },
		{ "header array", arena_printf(a, "%s.%s.sig", b64(a, "[1]"), b64(a, "{}")),
		  AT_BADREQ, "header is not a JSON object" },
		{ "payload number", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "123")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "payload string", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "\"x\"")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "payload null", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "null")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "trailing garbage", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{}x")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "two objects", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{}{}")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "truncated JSON", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{\"a\":")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "invalid UTF-8", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr),
						 b64(a, "{\"a\":\"\xff\xfe\"}")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "unquoted key", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{a:1}")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "comment", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{\"a\":1/**/}")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "trailing comma",
		  arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, "{\"a\":1,}")),
		  AT_BADREQ, "payload is not a JSON object" },
		{ "NUL byte", arena_printf(a, "%s.%s.sig", b64(a, ok_hdr),
					    token_b64url(a, "{}\0", 3)), AT_BADREQ, "NUL" },
		{ "too deep", NULL, AT_BADREQ, "payload is not a JSON object" },
		{ "huge", NULL, AT_TOOBIG, "longer than" },
	};

	(void)state;
	for (int i = 0; i < 40; i++)
		deep = arena_printf(a, "%s[", deep);
	for (int i = 0; i < 40; i++)
		deep = arena_printf(a, "%s]", deep);
	deep = arena_printf(a, "%s}", deep);
	cases[NELEM(cases) - 2].token = arena_printf(a, "%s.%s.sig", b64(a, ok_hdr), b64(a, deep));
	huge = arena_alloc(a, LTI_JWT_MAX_LEN + 2);
	memset(huge, 'A', LTI_JWT_MAX_LEN + 1);
	huge[10] = '.';
	huge[20] = '.';
	huge[LTI_JWT_MAX_LEN + 1] = '\0';
	cases[NELEM(cases) - 1].token = huge;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct json_object *h = (struct json_object *)1, *p = (struct json_object *)1;
		struct at_err err = { "" };
		enum at_rc rc = lti_jwt_peek(a, cases[i].token, strlen(cases[i].token), &h, &p,
					     &err);

		if (rc != cases[i].want)
			fail_msg("peek case '%s': got %s (%s), want %s", cases[i].name,
				 at_strerror(rc), err.msg, at_strerror(cases[i].want));
		if (rc == AT_OK) {
			assert_true(json_object_is_type(h, json_type_object));
			assert_true(json_object_is_type(p, json_type_object));
		} else {
			assert_null(h);
			assert_null(p);
			if (strstr(err.msg, cases[i].msg) == NULL)
				fail_msg("peek case '%s': message '%s' lacks '%s'", cases[i].name,
					 err.msg, cases[i].msg);
		}
	}
	arena_free(a);
}

/* --- verify ---------------------------------------------------------------------- */

static void test_verify(void **state)
{
	struct arena *a = arena_new();
	const char *pl = "{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\"}";
	char *good = make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", pl, key1);
	char *tampered = arena_strdup(a, good);
	char *payload_swapped;
	char *pub_pem_secret = jwk_of(a, key1, "k1", "");
	struct {
		const char *name;
		const char *token;
		const char *jwks;
		enum at_rc want;
	} cases[] = {
		{ "valid k1", good, jwks, AT_OK },
		{ "valid k2 (JWK without alg/use)",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", pl, key2), jwks, AT_OK },
		{ "valid, JWK with extra members",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"extras\"}", pl, key1), jwks, AT_OK },
		{ "alg none", make_token(a, "{\"alg\":\"none\",\"kid\":\"k1\"}", pl, NULL), jwks,
		  AT_UNAUTH },
		{ "alg None signed", make_token(a, "{\"alg\":\"None\",\"kid\":\"k1\"}", pl, key1),
		  jwks, AT_UNAUTH },
		{ "alg HS256 with the public key as secret",
		  make_hs256(a, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", pl, pub_pem_secret), jwks,
		  AT_UNAUTH },
		{ "alg ES256", make_token(a, "{\"alg\":\"ES256\",\"kid\":\"ec\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "alg PS256", make_token(a, "{\"alg\":\"PS256\",\"kid\":\"k1\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "alg RS512", make_token(a, "{\"alg\":\"RS512\",\"kid\":\"k1\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "alg rs256 (case)", make_token(a, "{\"alg\":\"rs256\",\"kid\":\"k1\"}", pl, key1),
		  jwks, AT_UNAUTH },
		{ "alg with NUL", make_token(a, "{\"alg\":\"RS256\\u0000x\",\"kid\":\"k1\"}", pl,
					      key1), jwks, AT_UNAUTH },
		{ "alg not a string", make_token(a, "{\"alg\":256,\"kid\":\"k1\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "missing alg", make_token(a, "{\"kid\":\"k1\"}", pl, key1), jwks, AT_UNAUTH },
		{ "missing kid", make_token(a, "{\"alg\":\"RS256\"}", pl, key1), jwks, AT_UNAUTH },
		{ "empty kid", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "kid not a string", make_token(a, "{\"alg\":\"RS256\",\"kid\":1}", pl, key1),
		  jwks, AT_UNAUTH },
		{ "crit header", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"x\"],"
					     "\"x\":1}", pl, key1), jwks, AT_UNAUTH },
		{ "unknown kid", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k9\"}", pl, key1),
		  jwks, AT_NOTFOUND },
		{ "empty JWKS", good, "{\"keys\":[]}", AT_NOTFOUND },
		{ "wrong key", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", pl, key2), jwks,
		  AT_UNAUTH },
		{ "1024-bit key",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k3\"}", pl, key_small), jwks,
		  AT_UNAUTH },
		{ "encryption-only key",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"enc-only\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "JWK alg RS512", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"rs512\"}", pl, key1),
		  jwks, AT_UNAUTH },
		{ "JWK key_ops without verify",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"ops-sign\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "JWK is EC", make_token(a, "{\"alg\":\"RS256\",\"kid\":\"ec\"}", pl, key1), jwks,
		  AT_UNAUTH },
		{ "tampered signature", tampered, jwks, AT_UNAUTH },
		{ "payload swapped", NULL, jwks, AT_UNAUTH },
		{ "truncated", arena_strndup(a, good, strlen(good) - 10), jwks, AT_UNAUTH },
		{ "signature stripped",
		  arena_strndup(a, good, (size_t)(strrchr(good, '.') - good + 1)), jwks,
		  AT_UNAUTH },
		{ "garbage", "not a token", jwks, AT_BADREQ },
		{ "2 parts", "eyJhIjoxfQ.eyJhIjoxfQ", jwks, AT_BADREQ },
		{ "4 parts", arena_printf(a, "%s.x", good), jwks, AT_BADREQ },
		{ "payload array",
		  make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", "[1,2]", key1), jwks,
		  AT_BADREQ },
		{ "JWKS not JSON", good, "<html>", AT_UPSTREAM },
		{ "JWKS keys not array", good, "{\"keys\":{}}", AT_UPSTREAM },
		{ "JWKS NULL", good, NULL, AT_UPSTREAM },
	};

	(void)state;
	/* flip one character of the signature */
	tampered[strlen(tampered) - 5] = tampered[strlen(tampered) - 5] == 'A' ? 'B' : 'A';
	/* a valid signature over another payload */
	{
		char *other = make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
					 "{\"iss\":\"evil\"}", key1);
		const char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
		const char *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');

		payload_swapped = arena_printf(a, "%.*s%.*s%s", (int)(d1 - good), good,
					       (int)(o2 - o1), o1, d2);
		for (size_t i = 0; i < NELEM(cases); i++) {
			if (strcmp(cases[i].name, "payload swapped") == 0)
				cases[i].token = payload_swapped;
		}
	}

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct json_object *claims = (struct json_object *)1, *v;
		struct at_err err = { "" };
		enum at_rc rc = lti_jwt_verify(a, cases[i].token, strlen(cases[i].token),
					       cases[i].jwks, &claims, &err);

		if (rc != cases[i].want)
			fail_msg("verify case '%s': got %s (%s), want %s", cases[i].name,
				 at_strerror(rc), err.msg, at_strerror(cases[i].want));
		if (rc == AT_OK) {
			assert_true(json_object_object_get_ex(claims, "sub", &v));
			assert_string_equal(json_object_get_string(v), SUB);
		} else {
			assert_null(claims);
			assert_true(err.msg[0] != '\0');
			assert_null(strstr(err.msg, SUB));
		}
	}
	arena_free(a);
}

/* --- claims ---------------------------------------------------------------------- */

static const char BASE_CLAIMS[] =
	"{"
	"\"iss\":\"" ISS "\","
	"\"aud\":\"" CLIENT "\","
	"\"exp\":1700000060,"
	"\"iat\":1699999995,"
	"\"nonce\":\"" NONCE "\","
	"\"sub\":\"" SUB "\","
	"\"name\":\"Ada Lovelace\",\"given_name\":\"Ada\",\"family_name\":\"Lovelace\","
	"\"email\":\"ada@example.edu\","
	"\"" CLAIM "message_type\":\"LtiResourceLinkRequest\","
	"\"" CLAIM "version\":\"1.3.0\","
	"\"" CLAIM "deployment_id\":\"dep-1\","
	"\"" CLAIM "target_link_uri\":\"" TARGET "\","
	"\"" CLAIM "resource_link\":{\"id\":\"rl-1\",\"title\":\"Welding check\"},"
	"\"" CLAIM "roles\":[\"" MEMBERSHIP "Instructor\"],"
	"\"" CLAIM "context\":{\"id\":\"ctx-1\",\"label\":\"WELD101\",\"title\":\"Welding\","
	"\"type\":[\"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering\"]},"
	"\"" CLAIM "custom\":{\"checklist\":\"7\"},"
	"\"" CLAIM "launch_presentation\":{\"document_target\":\"iframe\","
	"\"return_url\":\"https://lms.example.edu/return\"},"
	"\"" CLAIM "tool_platform\":{\"guid\":\"g-1\",\"url\":\"https://lms.example.edu\","
	"\"product_family_code\":\"moodle\"},"
	"\"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint\":{"
	"\"scope\":[\"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem\","
	"\"https://purl.imsglobal.org/spec/lti-ags/scope/score\"],"
	"\"lineitems\":\"https://lms.example.edu/li\","
	"\"lineitem\":\"https://lms.example.edu/li/1\"},"
	"\"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice\":{"
	"\"context_memberships_url\":\"https://lms.example.edu/nrps\","
	"\"service_versions\":[\"2.0\"]},"
	"\"https://example.com/unknown_claim\":{\"ignored\":true}"
	"}";

/* One change to the base claims: json NULL deletes; path "parent|child" reaches in. */
struct mut {
	const char *path;
	const char *json;
};

static void apply(struct json_object *root, const struct mut *m)
{
	const char *bar = strchr(m->path, '|');
	struct json_object *obj = root;
	const char *leaf = m->path;

	if (bar != NULL) {
		char parent[256];

		assert_true((size_t)(bar - m->path) < sizeof(parent));
		memcpy(parent, m->path, (size_t)(bar - m->path));
		parent[bar - m->path] = '\0';
		assert_true(json_object_object_get_ex(root, parent, &obj));
		leaf = bar + 1;
	}
	if (m->json == NULL) {
		json_object_object_del(obj, leaf);
	} else {
		struct json_object *v = json_tokener_parse(m->json);

		if (v == NULL)
			assert_string_equal(m->json, "null");
		json_object_object_add(obj, leaf, v);
	}
}

#define RL	CLAIM "resource_link"
#define ROLES	CLAIM "roles"
#define DL_OK	"{\"deep_link_return_url\":\"https://lms.example.edu/dl\"," \
		"\"accept_types\":[\"ltiResourceLink\"],"                      \
		"\"accept_presentation_document_targets\":[\"iframe\",\"window\"]," \
		"\"accept_multiple\":true,\"accept_lineitem\":false,"          \
		"\"data\":\"opaque-data\",\"title\":\"Pick\"}"

#define D10	"dddddddddd"
#define D50	D10 D10 D10 D10 D10
#define D255	D50 D50 D50 D50 D50 "ddddd"

struct ccase {
	const char *name;
	struct mut m[3];
	enum at_rc want;
	int flags;		/* expected role_flags on success; -1: not checked */
	const char *msg;	/* substring of err.msg on failure */
};

static const struct ccase claim_cases[] = {
	/* valid launches */
	{ "instructor", { { NULL, NULL } }, AT_OK, LTI_ROLE_ASSESSOR, NULL },
	{ "student", { { ROLES, "[\"" MEMBERSHIP "Learner\"]" } }, AT_OK, LTI_ROLE_LEARNER, NULL },
	{ "no roles (empty array)", { { ROLES, "[]" } }, AT_OK, 0, NULL },
	{ "unknown role", { { ROLES, "[\"http://example.com/roles#Wizard\"]" } }, AT_OK, 0, NULL },
	{ "short role Learner", { { ROLES, "[\"Learner\"]" } }, AT_OK, LTI_ROLE_LEARNER, NULL },
	{ "multiple roles", { { ROLES, "[\"" MEMBERSHIP "Learner\",\"http://purl.imsglobal.org/"
				"vocab/lis/v2/membership/Instructor#TeachingAssistant\","
				"\"http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
				"Administrator\",\"x\"]" } },
	  AT_OK, LTI_ROLE_LEARNER | LTI_ROLE_ASSESSOR | LTI_ROLE_ADMIN, NULL },
	{ "deep linking request", { { CLAIM "message_type", "\"LtiDeepLinkingRequest\"" },
				     { RL, NULL }, { DL_SETTINGS, DL_OK } }, AT_OK, -1, NULL },
	{ "submission review", { { CLAIM "message_type", "\"LtiSubmissionReviewRequest\"" } },
	  AT_OK, -1, NULL },
	{ "aud array with us only", { { "aud", "[\"" CLIENT "\"]" } }, AT_OK, -1, NULL },
	{ "aud array + azp",
	  { { "aud", "[\"other\",\"" CLIENT "\"]" }, { "azp", "\"" CLIENT "\"" } },
	  AT_OK, -1, NULL },
	{ "azp with single aud", { { "azp", "\"" CLIENT "\"" } }, AT_OK, -1, NULL },
	{ "exp past but within skew", { { "exp", "1699999970" } }, AT_OK, -1, NULL },
	{ "exp as fractional number", { { "exp", "1700000060.5" } }, AT_OK, -1, NULL },
	{ "iat future within skew", { { "iat", "1700000030" } }, AT_OK, -1, NULL },
	{ "Canvas null titles", { { RL "|title", "null" }, { CLAIM "context|title", "null" } },
	  AT_OK, -1, NULL },
	{ "null email", { { "email", "null" } }, AT_OK, -1, NULL },
	{ "no optional claims", { { CLAIM "context", NULL }, { CLAIM "custom", NULL },
				   { "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
				     NULL } }, AT_OK, -1, NULL },
	{ "deployment_id 255", { { CLAIM "deployment_id", "\"" D255 "\"" } }, AT_OK, -1, NULL },

	/* security claims: 401 */
	{ "exp past beyond skew", { { "exp", "1699999939" } }, AT_UNAUTH, -1, "exp" },
	{ "exp missing", { { "exp", NULL } }, AT_UNAUTH, -1, "exp" },
	{ "exp as string", { { "exp", "\"1700000060\"" } }, AT_UNAUTH, -1, "exp" },
	{ "exp null", { { "exp", "null" } }, AT_UNAUTH, -1, "exp" },
	{ "exp NaN", { { "exp", "NaN" } }, AT_UNAUTH, -1, "exp" },
	{ "exp huge", { { "exp", "1e300" } }, AT_UNAUTH, -1, "exp" },
	{ "iat in the future", { { "iat", "1700000061" } }, AT_UNAUTH, -1, "iat" },
	{ "iat too old", { { "iat", "1699996399" } }, AT_UNAUTH, -1, "iat" },
	{ "iat missing", { { "iat", NULL } }, AT_UNAUTH, -1, "iat" },
	{ "iat as bool", { { "iat", "true" } }, AT_UNAUTH, -1, "iat" },
	{ "wrong iss", { { "iss", "\"https://evil.example\"" } }, AT_UNAUTH, -1, "iss" },
	{ "iss prefix", { { "iss", "\"https://lms.example.edu/\"" } }, AT_UNAUTH, -1, "iss" },
	{ "iss with NUL", { { "iss", "\"" ISS "\\u0000x\"" } }, AT_UNAUTH, -1, "iss" },
	{ "iss missing", { { "iss", NULL } }, AT_UNAUTH, -1, "iss" },
	{ "aud wrong", { { "aud", "\"client-43\"" } }, AT_UNAUTH, -1, "aud" },
	{ "aud array without us", { { "aud", "[\"a\",\"b\"]" } }, AT_UNAUTH, -1, "aud" },
	{ "aud array without azp", { { "aud", "[\"" CLIENT "\",\"other\"]" } }, AT_UNAUTH, -1,
	  "azp" },
	{ "aud empty array", { { "aud", "[]" } }, AT_UNAUTH, -1, "aud" },
	{ "aud number", { { "aud", "42" } }, AT_UNAUTH, -1, "aud" },
	{ "aud array of numbers", { { "aud", "[42]" } }, AT_UNAUTH, -1, "aud" },
	{ "aud missing", { { "aud", NULL } }, AT_UNAUTH, -1, "aud" },
	{ "azp wrong", { { "aud", "[\"" CLIENT "\",\"other\"]" }, { "azp", "\"other\"" } },
	  AT_UNAUTH, -1, "azp" },
	{ "azp wrong single aud", { { "azp", "\"other\"" } }, AT_UNAUTH, -1, "azp" },
	{ "azp number", { { "azp", "1" } }, AT_UNAUTH, -1, "azp" },
	{ "nonce wrong", { { "nonce", "\"NONCE-7f3a9d\"" } }, AT_UNAUTH, -1, "nonce" },
	{ "nonce prefix", { { "nonce", "\"NONCE-7f3a9\"" } }, AT_UNAUTH, -1, "nonce" },
	{ "nonce missing", { { "nonce", NULL } }, AT_UNAUTH, -1, "nonce" },
	{ "nonce number", { { "nonce", "7" } }, AT_UNAUTH, -1, "nonce" },

	/* LTI claims: 400 */
	{ "version 1.2.0", { { CLAIM "version", "\"1.2.0\"" } }, AT_BADREQ, -1, "version" },
	{ "version missing", { { CLAIM "version", NULL } }, AT_BADREQ, -1, "version" },
	{ "version number", { { CLAIM "version", "1.3" } }, AT_BADREQ, -1, "version" },
	{ "message_type missing", { { CLAIM "message_type", NULL } }, AT_BADREQ, -1,
	  "message_type" },
	{ "message_type unknown", { { CLAIM "message_type", "\"LtiStartProctoring\"" } },
	  AT_BADREQ, -1, "message_type" },
	{ "deployment_id missing", { { CLAIM "deployment_id", NULL } }, AT_BADREQ, -1,
	  "deployment_id" },
	{ "deployment_id empty", { { CLAIM "deployment_id", "\"\"" } }, AT_BADREQ, -1,
	  "deployment_id" },
	{ "deployment_id too long", { { CLAIM "deployment_id", "\"" D255 "d\"" } }, AT_BADREQ,
	  -1, "deployment_id" },
	{ "deployment_id control byte", { { CLAIM "deployment_id", "\"dep\\n1\"" } }, AT_BADREQ,
	  -1, "deployment_id" },
	{ "deployment_id number", { { CLAIM "deployment_id", "1" } }, AT_BADREQ, -1,
	  "deployment_id" },
	{ "target_link_uri mismatch", { { CLAIM "target_link_uri",
					   "\"https://evil.example/lti/launch\"" } },
	  AT_BADREQ, -1, "target_link_uri" },
	{ "target_link_uri missing", { { CLAIM "target_link_uri", NULL } }, AT_BADREQ, -1,
	  "target_link_uri" },
	{ "resource_link missing", { { RL, NULL } }, AT_BADREQ, -1, "resource_link" },
	{ "resource_link id missing", { { RL "|id", NULL } }, AT_BADREQ, -1, "resource_link" },
	{ "resource_link id empty", { { RL "|id", "\"\"" } }, AT_BADREQ, -1, "resource_link" },
	{ "resource_link not object", { { RL, "\"rl-1\"" } }, AT_BADREQ, -1, "resource_link" },
	{ "roles missing", { { ROLES, NULL } }, AT_BADREQ, -1, "roles" },
	{ "roles as string", { { ROLES, "\"" MEMBERSHIP "Learner\"" } }, AT_BADREQ, -1, "roles" },
	{ "roles holding a number", { { ROLES, "[1]" } }, AT_BADREQ, -1, "roles" },
	{ "roles null", { { ROLES, "null" } }, AT_BADREQ, -1, "roles" },
	{ "sub empty (user claim missing)", { { "sub", "\"\"" } }, AT_BADREQ, -1, "sub" },
	{ "sub missing", { { "sub", NULL } }, AT_BADREQ, -1, "sub" },
	{ "sub number", { { "sub", "12" } }, AT_BADREQ, -1, "sub" },
	{ "deep linking without settings", { { CLAIM "message_type", "\"LtiDeepLinkingRequest\"" },
					      { RL, NULL } }, AT_BADREQ, -1,
	  "deep_linking_settings" },
	{ "deep linking without return url", { { CLAIM "message_type",
						  "\"LtiDeepLinkingRequest\"" },
						{ DL_SETTINGS, "{\"accept_types\":[\"link\"]}" } },
	  AT_BADREQ, -1, "deep_link_return_url" },
	{ "deep linking accept_multiple string",
	  { { CLAIM "message_type", "\"LtiDeepLinkingRequest\"" },
	    { DL_SETTINGS, "{\"deep_link_return_url\":\"https://x\","
	      "\"accept_multiple\":\"yes\"}" } },
	  AT_BADREQ, -1, "accept_multiple" },
	{ "context not object", { { CLAIM "context", "[]" } }, AT_BADREQ, -1, "context" },
	{ "context without id", { { CLAIM "context|id", NULL } }, AT_BADREQ, -1, "context.id" },
	{ "custom not object", { { CLAIM "custom", "[\"a\"]" } }, AT_BADREQ, -1, "custom" },
	{ "email number", { { "email", "5" } }, AT_BADREQ, -1, "email" },
	{ "ags scope string", { { "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint|scope",
				   "\"https://purl.imsglobal.org/spec/lti-ags/scope/score\"" } },
	  AT_BADREQ, -1, "scope" },
};

static struct json_object *claims_with(const struct mut *m, size_t n)
{
	struct json_object *c = json_tokener_parse(BASE_CLAIMS);

	assert_non_null(c);
	for (size_t i = 0; i < n && m[i].path != NULL; i++)
		apply(c, &m[i]);
	return c;
}

static const struct lti_expect expect = {
	.issuer = ISS, .client_id = CLIENT, .now = NOW, .skew = SKEW,
	.nonce = NONCE, .target_link_uri = TARGET,
};

static void test_claims_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(claim_cases); i++) {
		const struct ccase *t = &claim_cases[i];
		struct arena *a = arena_new();
		struct json_object *c = claims_with(t->m, NELEM(t->m));
		struct lti_claims out;
		struct at_err err = { "" };
		enum at_rc rc = lti_claims_check(a, c, &expect, &out, &err);

		if (rc != t->want)
			fail_msg("claims case '%s': got %s (%s), want %s", t->name,
				 at_strerror(rc), err.msg, at_strerror(t->want));
		if (rc == AT_OK) {
			assert_string_equal(out.sub, SUB);
			if (t->flags >= 0 && out.role_flags != (unsigned)t->flags)
				fail_msg("claims case '%s': role_flags %u, want %d", t->name,
					 out.role_flags, t->flags);
		} else {
			if (t->msg != NULL && strstr(err.msg, t->msg) == NULL)
				fail_msg("claims case '%s': message '%s' does not name '%s'",
					 t->name, err.msg, t->msg);
			/* never the token's values */
			assert_null(strstr(err.msg, NONCE));
			assert_null(strstr(err.msg, SUB));
			assert_null(strstr(err.msg, "evil"));
			assert_null(out.sub);
		}
		json_object_put(c);
		arena_free(a);
	}
}

static void test_claims_fields(void **state)
{
	struct arena *a = arena_new();
	struct json_object *c = claims_with((const struct mut[]){
		{ ROLES, "[\"Learner\",\"" MEMBERSHIP "Instructor\"]" } }, 1);
	struct lti_claims out;
	struct at_err err = { "" };
	struct json_object *v;

	(void)state;
	assert_int_equal(lti_claims_check(a, c, &expect, &out, &err), AT_OK);
	json_object_put(c);	/* everything but custom is a copy: custom dies with c */
	c = NULL;
	assert_string_equal(out.iss, ISS);
	assert_string_equal(out.name, "Ada Lovelace");
	assert_string_equal(out.given_name, "Ada");
	assert_string_equal(out.family_name, "Lovelace");
	assert_string_equal(out.email, "ada@example.edu");
	assert_int_equal(out.exp, 1700000060);
	assert_int_equal(out.iat, 1699999995);
	assert_string_equal(out.message_type, "LtiResourceLinkRequest");
	assert_string_equal(out.version, "1.3.0");
	assert_string_equal(out.deployment_id, "dep-1");
	assert_string_equal(out.target_link_uri, TARGET);
	assert_int_equal(out.nroles, 2);
	assert_string_equal(out.roles[0], "Learner");
	assert_string_equal(out.roles[1], MEMBERSHIP "Instructor");
	assert_int_equal(out.role_flags, LTI_ROLE_LEARNER | LTI_ROLE_ASSESSOR);
	assert_string_equal(out.context.id, "ctx-1");
	assert_string_equal(out.context.label, "WELD101");
	assert_string_equal(out.context.title, "Welding");
	assert_string_equal(out.resource_link.id, "rl-1");
	assert_string_equal(out.resource_link.title, "Welding check");
	assert_string_equal(out.ags.lineitems, "https://lms.example.edu/li");
	assert_string_equal(out.ags.lineitem, "https://lms.example.edu/li/1");
	assert_string_equal(out.ags.scopes,
			    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem "
			    "https://purl.imsglobal.org/spec/lti-ags/scope/score");
	assert_string_equal(out.nrps_url, "https://lms.example.edu/nrps");
	assert_string_equal(out.return_url, "https://lms.example.edu/return");
	assert_string_equal(out.tool_platform.guid, "g-1");
	assert_string_equal(out.tool_platform.url, "https://lms.example.edu");
	assert_string_equal(out.tool_platform.product_family_code, "moodle");
	assert_null(out.dl.return_url);
	assert_non_null(out.custom);
	arena_free(a);

	/* custom is borrowed: check it while the claims live */
	a = arena_new();
	c = claims_with(NULL, 0);
	assert_int_equal(lti_claims_check(a, c, &expect, &out, &err), AT_OK);
	assert_true(json_object_object_get_ex(out.custom, "checklist", &v));
	assert_string_equal(json_object_get_string(v), "7");
	json_object_put(c);
	arena_free(a);

	/* deep linking settings */
	a = arena_new();
	c = claims_with((const struct mut[]){
		{ CLAIM "message_type", "\"LtiDeepLinkingRequest\"" }, { RL, NULL },
		{ DL_SETTINGS, DL_OK } }, 3);
	assert_int_equal(lti_claims_check(a, c, &expect, &out, &err), AT_OK);
	json_object_put(c);
	assert_string_equal(out.message_type, "LtiDeepLinkingRequest");
	assert_null(out.resource_link.id);
	assert_string_equal(out.dl.return_url, "https://lms.example.edu/dl");
	assert_string_equal(out.dl.data, "opaque-data");
	assert_string_equal(out.dl.title, "Pick");
	assert_string_equal(out.dl.accept_types, "ltiResourceLink");
	assert_string_equal(out.dl.accept_targets, "iframe window");
	assert_true(out.dl.accept_multiple);
	assert_false(out.dl.accept_lineitem);
	arena_free(a);

	/* deep linking defaults */
	a = arena_new();
	c = claims_with((const struct mut[]){
		{ CLAIM "message_type", "\"LtiDeepLinkingRequest\"" },
		{ DL_SETTINGS, "{\"deep_link_return_url\":\"https://x/dl\"}" } }, 2);
	assert_int_equal(lti_claims_check(a, c, &expect, &out, &err), AT_OK);
	json_object_put(c);
	assert_false(out.dl.accept_multiple);
	assert_true(out.dl.accept_lineitem);
	assert_null(out.dl.data);
	assert_null(out.dl.accept_types);
	arena_free(a);
}

static void test_claims_expect(void **state)
{
	struct arena *a = arena_new();
	struct json_object *c = claims_with(NULL, 0);
	struct lti_claims out;
	struct at_err err = { "" };
	struct lti_expect x = expect;

	(void)state;
	x.target_link_uri = NULL;	/* not bound: any target accepted */
	apply(c, &(struct mut){ CLAIM "target_link_uri", "\"https://attest.example.org/other\"" });
	assert_int_equal(lti_claims_check(a, c, &x, &out, &err), AT_OK);
	x.nonce = NULL;
	assert_int_equal(lti_claims_check(a, c, &x, &out, &err), AT_INTERNAL);
	x = expect;
	x.skew = 0;	/* exp == now is expired without leeway */
	apply(c, &(struct mut){ "exp", "1700000000" });
	assert_int_equal(lti_claims_check(a, c, &x, &out, &err), AT_UNAUTH);
	assert_int_equal(lti_claims_check(a, NULL, &expect, &out, &err), AT_BADREQ);
	json_object_put(c);
	arena_free(a);
}

static void test_role_flags(void **state)
{
	static const struct {
		const char *role;
		unsigned want;
	} cases[] = {
		{ MEMBERSHIP "Learner", LTI_ROLE_LEARNER },
		{ MEMBERSHIP "Instructor", LTI_ROLE_ASSESSOR },
		{ MEMBERSHIP "Mentor", LTI_ROLE_ASSESSOR },
		{ MEMBERSHIP "ContentDeveloper", LTI_ROLE_ASSESSOR },
		{ MEMBERSHIP "Administrator", LTI_ROLE_ADMIN },
		{ MEMBERSHIP "Member", 0 },
		{ MEMBERSHIP "Manager", 0 },
		{ MEMBERSHIP "Officer", 0 },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
		  LTI_ROLE_ASSESSOR },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#Grader",
		  LTI_ROLE_ASSESSOR },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#NonCreditLearner",
		  LTI_ROLE_LEARNER },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Mentor#Advisor",
		  LTI_ROLE_ASSESSOR },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/ContentDeveloper#Librarian",
		  LTI_ROLE_ASSESSOR },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Administrator#Developer",
		  LTI_ROLE_ADMIN },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#", 0 },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor", 0 },
		{ "http://purl.imsglobal.org/vocab/lis/v2/membership/Member#Member", 0 },
		{ MEMBERSHIP "TeachingAssistant", LTI_ROLE_ASSESSOR },
		{ "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
		  LTI_ROLE_ADMIN },
		{ "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
		  LTI_ROLE_ADMIN },
		{ "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin", LTI_ROLE_ADMIN },
		{ "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor", 0 },
		{ "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student", 0 },
		{ "http://purl.imsglobal.org/vocab/lis/v2/system/person#User", 0 },
		{ "http://purl.imsglobal.org/vocab/lti/system/person#TestUser", 0 },
		{ "Learner", LTI_ROLE_LEARNER },
		{ "Instructor", LTI_ROLE_ASSESSOR },
		{ "TeachingAssistant", LTI_ROLE_ASSESSOR },
		{ "Mentor", LTI_ROLE_ASSESSOR },
		{ "ContentDeveloper", LTI_ROLE_ASSESSOR },
		{ "Administrator", LTI_ROLE_ADMIN },
		{ "learner", 0 },
		{ "Learner ", 0 },
		{ MEMBERSHIP "Learner#x", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		if (lti_jwt_role_flag(cases[i].role) != cases[i].want)
			fail_msg("role '%s': got %u, want %u", cases[i].role,
				 lti_jwt_role_flag(cases[i].role), cases[i].want);
	}
	assert_int_equal(lti_jwt_role_flag(NULL), 0);
}

/* The whole launch path: signed token -> verify -> claims check. */
static void test_round_trip(void **state)
{
	struct arena *a = arena_new();
	char *tok = make_token(a, "{\"alg\":\"RS256\",\"kid\":\"k2\",\"typ\":\"JWT\"}",
			       BASE_CLAIMS, key2);
	struct json_object *claims = NULL;
	struct lti_claims out;
	struct at_err err = { "" };

	(void)state;
	assert_int_equal(lti_jwt_verify(a, tok, strlen(tok), jwks, &claims, &err), AT_OK);
	assert_int_equal(lti_claims_check(a, claims, &expect, &out, &err), AT_OK);
	assert_string_equal(out.resource_link.id, "rl-1");
	assert_int_equal(out.role_flags, LTI_ROLE_ASSESSOR);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_claims_table),
		cmocka_unit_test(test_claims_fields),
		cmocka_unit_test(test_claims_expect),
		cmocka_unit_test(test_role_flags),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
