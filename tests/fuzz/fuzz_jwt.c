/* fuzz_jwt.c: id_tokens — peek, verify against a fixed key set, and the claim checks. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "lti/lti_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static const char JWKS[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\",\"use\":\"sig\",\"e\":\"AQAB\","
	"\"n\":\"loIbsU9aJtZ2824d5xHjxKUHsJ3simZ4osShoryshIljl23cIFuWeDB0kopkDXubgr3kKx3nUIz8caQ4"
	"TOv-fdIdtlx3Jmqi4RML-rxEMUqktFJsnejh7ZN-VMRroH2GHBY9L2e11P587ZAn-eC-FoGD8G0hXBW7Lw0jGF"
	"SJKvMhISYMFr_lgbkcCJwHs2_lo91OhO65tEjbAuYZZjcRqE-CRrKzt8OMA3uhHeldTquKwOYSd06-tYmSqY4x"
	"E2uv5MjsngT8siE-a8IH7CNUMX80kOqRDkDozLSLZqC9MxLjhHMgbEqxUzEQr-Ha3nWFXN1FyaupZt5TPPv09HP"
	"NAw\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct arena *a = arena_new();
	struct json_object *h = NULL, *p = NULL, *claims = NULL;
	struct at_err err;
	const char *tok = arena_strndup(a, (const char *)data, len);

	if (lti_jwt_peek(a, tok, len, &h, &p, &err) == AT_OK) {
		struct lti_expect x = { "https://lms.test", "client", 1700000000, 60, "nonce",
					NULL };
		struct lti_claims c;

		(void)lti_claims_check(a, p, &x, &c, &err);
	}
	(void)lti_jwt_verify(a, tok, len, JWKS, &claims, &err);
	arena_free(a);
	return 0;
}
