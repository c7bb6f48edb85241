/* test_store.c: the LTI storage modules (platform, oidc, identity, sess) on both backends:
 * registrations keyed by (issuer, client_id), the JWKS refetch slot, one-time states,
 * nonce replay, sessions. PostgreSQL runs when ATTEST_TEST_PG is set (each test in its own
 * schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/identity.h"
#include "core/oidc.h"
#include "core/platform.h"
#include "core/sess.h"
#include "tests/unit/support/testdb.h"

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "store", false, NULL); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "store", true, NULL); }

static int64_t add_platform(struct db *db, const char *iss, const char *cid)
{
	struct platform p;

	memset(&p, 0, sizeof(p));
	p.issuer = iss;
	p.client_id = cid;
	p.auth_endpoint = "https://lms.test/auth";
	p.jwks_uri = "https://lms.test/jwks";
	assert_int_equal(platform_add(db, &p, 1000), AT_OK);
	assert_true(p.id > 0);
	return p.id;
}

static void test_platform_keys(void **state)
{
	struct testdb_fx *f = *state;
	struct platform p;
	int64_t a = add_platform(f->db, "https://canvas.instructure.com", "100");
	int64_t b = add_platform(f->db, "https://canvas.instructure.com", "200");

	assert_int_not_equal(a, b);
	assert_int_equal(platform_find(f->db, f->a, "https://canvas.instructure.com", "200", &p),
			 AT_OK);
	assert_int_equal(p.id, b);
	/* the same issuer twice: no client_id means ambiguous */
	assert_int_equal(platform_find(f->db, f->a, "https://canvas.instructure.com", NULL, &p),
			 AT_CONFLICT);
	assert_int_equal(platform_find(f->db, f->a, "https://other", NULL, &p), AT_NOTFOUND);
	add_platform(f->db, "https://moodle.test", "m1");
	assert_int_equal(platform_find(f->db, f->a, "https://moodle.test", NULL, &p), AT_OK);
	assert_string_equal(p.client_id, "m1");
	/* (issuer, client_id) is unique */
	memset(&p, 0, sizeof(p));
	p.issuer = "https://moodle.test";
	p.client_id = "m1";
	p.auth_endpoint = p.jwks_uri = "https://x";
	assert_int_equal(platform_add(f->db, &p, 1), AT_CONFLICT);
	/* upsert updates in place */
	p.jwks_uri = "https://moodle.test/new-jwks";
	assert_int_equal(platform_upsert(f->db, &p, 2), AT_OK);
	assert_int_equal(platform_get(f->db, f->a, p.id, &p), AT_OK);
	assert_string_equal(p.jwks_uri, "https://moodle.test/new-jwks");
	assert_int_equal(platform_remove(f->db, a), AT_OK);
	assert_int_equal(platform_remove(f->db, a), AT_NOTFOUND);
}

static void test_deployments(void **state)
{
	struct testdb_fx *f = *state;
	int64_t p = add_platform(f->db, "https://lms.test", "c"), row = 0, n = 0;
	const char *long_id = "9:d89e33ab0c1e4f2a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3"
			      "c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1";

	assert_int_equal(platform_deployment_find(f->db, p, "1", &row), AT_NOTFOUND);
	assert_int_equal(platform_deployment_add(f->db, p, "1", 0, 10, &row), AT_OK);
	assert_int_equal(platform_deployment_add(f->db, p, "1", 1, 10, &row), AT_CONFLICT);
	assert_int_equal(platform_deployment_add(f->db, p, long_id, 1, 10, &row), AT_OK);
	assert_int_equal(platform_deployment_find(f->db, p, long_id, &row), AT_OK);
	assert_int_equal(platform_deployment_count(f->db, p, &n), AT_OK);
	assert_int_equal(n, 2);
}

static void test_jwks_claim(void **state)
{
	struct testdb_fx *f = *state;
	int64_t p = add_platform(f->db, "https://lms.test", "c");

	/* one fetch slot per interval, across all workers */
	assert_int_equal(platform_jwks_claim(f->db, p, 1000, 10), AT_OK);
	assert_int_equal(platform_jwks_claim(f->db, p, 1005, 10), AT_CONFLICT);
	assert_int_equal(platform_jwks_claim(f->db, p, 1009, 10), AT_CONFLICT);
	assert_int_equal(platform_jwks_claim(f->db, p, 1010, 10), AT_OK);
	assert_int_equal(platform_jwks_store(f->db, p, "{\"keys\":[]}", 1010, 1310), AT_OK);
}

static void test_state_once(void **state)
{
	struct testdb_fx *f = *state;
	struct oidc_state s, got;
	int64_t p = add_platform(f->db, "https://lms.test", "c");

	memset(&s, 0, sizeof(s));
	s.state = "S1";
	s.secret_hash = "hash";
	s.nonce = "N1";
	s.platform_id = p;
	s.target_link_uri = "https://attest.test/lti/launch";
	s.expires_at = 2000;
	assert_int_equal(oidc_state_put(f->db, &s, 1000), AT_OK);
	assert_int_equal(oidc_state_peek(f->db, f->a, "S1", 1500, &got), AT_OK);
	assert_string_equal(got.nonce, "N1");
	assert_null(got.deployment_hint);
	assert_int_equal(oidc_state_take(f->db, f->a, "S1", 1500, &got), AT_OK);
	assert_string_equal(got.target_link_uri, "https://attest.test/lti/launch");
	/* taken once: gone for everyone */
	assert_int_equal(oidc_state_take(f->db, f->a, "S1", 1500, &got), AT_NOTFOUND);
	/* an expired state cannot be taken */
	s.state = "S2";
	assert_int_equal(oidc_state_put(f->db, &s, 1000), AT_OK);
	assert_int_equal(oidc_state_take(f->db, f->a, "S2", 2001, &got), AT_NOTFOUND);
}

static void test_nonce_replay(void **state)
{
	struct testdb_fx *f = *state;
	int64_t p = add_platform(f->db, "https://lms.test", "c");
	int64_t q = add_platform(f->db, "https://lms2.test", "c");

	assert_int_equal(oidc_nonce_use(f->db, p, "n-1", 2000, 1000), AT_OK);
	assert_int_equal(oidc_nonce_use(f->db, p, "n-1", 2000, 1001), AT_CONFLICT);
	assert_int_equal(oidc_nonce_use(f->db, q, "n-1", 2000, 1001), AT_OK);
	/* expired entries are purged, so the table stays small */
	assert_int_equal(oidc_nonce_use(f->db, p, "n-2", 3000, 2500), AT_OK);
	assert_int_equal(oidc_nonce_use(f->db, p, "n-1", 3000, 2500), AT_OK);
}

static void test_identity_and_session(void **state)
{
	struct testdb_fx *f = *state;
	int64_t p = add_platform(f->db, "https://lms.test", "c"), n = 0;
	struct user u, got;
	struct context c;
	struct sess s, sg;
	char *tok = NULL;

	memset(&u, 0, sizeof(u));
	u.platform_id = p;
	u.sub = "user-1";
	u.name = "<b>O'Neil & \"Co\"</b>";
	u.email = "o@x.test";
	assert_int_equal(identity_user_upsert(f->db, &u, 10), AT_OK);
	int64_t id = u.id;

	u.name = "";	/* a later launch without a name keeps the stored one */
	u.email = "new@x.test";
	assert_int_equal(identity_user_upsert(f->db, &u, 20), AT_OK);
	assert_int_equal(u.id, id);
	assert_int_equal(identity_user_get(f->db, f->a, id, &got), AT_OK);
	assert_string_equal(got.name, "<b>O'Neil & \"Co\"</b>");
	assert_string_equal(got.email, "new@x.test");
	memset(&c, 0, sizeof(c));
	c.platform_id = p;
	c.context_id = "course-1";
	c.title = "Safety 101";
	assert_int_equal(identity_context_upsert(f->db, &c, 10), AT_OK);
	assert_int_equal(identity_membership_set(f->db, id, c.id, "Learner", 1, 10), AT_OK);
	assert_int_equal(identity_membership_set(f->db, id, c.id, "Instructor", 2, 11), AT_OK);
	assert_int_equal(identity_member_count(f->db, c.id, 2, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(identity_member_count(f->db, c.id, 1, &n), AT_OK);
	assert_int_equal(n, 0);
	memset(&s, 0, sizeof(s));
	s.user_id = id;
	s.context_id = c.id;
	s.role = 1;
	s.csrf = "csrf";
	s.expires_at = 100;
	assert_int_equal(sess_create(f->db, f->a, &s, 10, &tok), AT_OK);
	assert_true(strlen(tok) >= 40);
	assert_int_equal(sess_lookup(f->db, f->a, tok, 50, &sg), AT_OK);
	assert_int_equal(sg.user_id, id);
	assert_int_equal(sg.context_id, c.id);
	assert_int_equal(sess_lookup(f->db, f->a, tok, 100, &sg), AT_UNAUTH);	/* expired */
	assert_int_equal(sess_lookup(f->db, f->a, "x", 50, &sg), AT_UNAUTH);
	assert_int_equal(sess_lookup(f->db, f->a, "forged-token-of-some-length", 50, &sg),
			 AT_UNAUTH);
	assert_int_equal(sess_purge(f->db, 200, &n), AT_OK);
	assert_int_equal(n, 1);
}

static void test_origins(void **state)
{
	struct testdb_fx *f = *state;
	int64_t p = add_platform(f->db, "https://lms.test", "c");
	char *list = NULL;

	assert_int_equal(platform_origin_add(f->db, p, "https://school.instructure.com", 1), AT_OK);
	assert_int_equal(platform_origin_add(f->db, p, "https://school.instructure.com", 2), AT_OK);
	assert_int_equal(platform_origins(f->db, f->a, 0, &list), AT_OK);
	assert_string_equal(list, "https://lms.test https://school.instructure.com");
	int64_t q = add_platform(f->db, "https://other.test", "c");

	assert_int_equal(platform_origin_add(f->db, q, "https://other-school.test", 1), AT_OK);
	assert_int_equal(platform_origins(f->db, f->a, q, &list), AT_OK);
	/* every test platform authorizes at https://lms.test/auth */
	assert_string_equal(list, "https://other.test https://lms.test https://other-school.test");
	assert_int_equal(platform_origins(f->db, f->a, 0, &list), AT_OK);
	assert_string_equal(list, "https://lms.test https://other.test"
			    " https://school.instructure.com https://other-school.test");
}

#define BOTH(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		BOTH(test_platform_keys), BOTH(test_deployments), BOTH(test_jwks_claim),
		BOTH(test_state_once), BOTH(test_nonce_replay), BOTH(test_identity_and_session),
		BOTH(test_origins),
	};
	const struct CMUnitTest pg[] = {
		PG(test_platform_keys), PG(test_deployments), PG(test_jwks_claim),
		PG(test_state_once), PG(test_nonce_replay), PG(test_identity_and_session),
		PG(test_origins),
	};
	return TESTDB_RUN("store", sqlite, pg);
}
