/* test_share.c: capability links to evidence files — only the token's hash stored, expiry,
 * unknown/malformed/expired tokens all alike, fetch counting, one token per file, revoking
 * and purging, cascades — on SQLite and PostgreSQL (ATTEST_TEST_PG, a schema per test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/share.h"
#include "core/token.h"
#include "tests/unit/support/testdb.h"

enum { PLATFORM = 1, EV_FILE = 1, EV_LINK = 2, EV_FILE2 = 3, EV_NOTE = 4 };

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, created_at, updated_at) VALUES"
	" (1, 'l', 'Tina Trainee', 1, 1);"
	"INSERT INTO evidence (learner_id, kind, sha256, size, media_type, filename, url,"
	" uploaded_by, created_at) VALUES"
	" (1, 'file', 'aa', 3, 'image/png', 'a.png', '', 1, 1),"
	" (1, 'link', '', 0, '', '', 'https://example.org/x', 1, 1),"
	" (1, 'file', 'bb', 4, 'application/pdf', 'b.pdf', '', 1, 1),"
	" (1, 'note', '', 0, '', '', '', 1, 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "share", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "share", true, SEED); }

static char *make(struct testdb_fx *f, int64_t evidence, int64_t platform, int64_t now)
{
	struct at_err err = { "" };
	char *tok = NULL;

	if (share_create(f->db, f->a, evidence, platform, now, &tok, &err) != AT_OK)
		fail_msg("share: %s", err.msg);
	assert_non_null(tok);
	return tok;
}

static void test_create_resolve(void **state)
{
	struct testdb_fx *f = *state;
	struct db_stmt *st = NULL;
	struct share s;
	bool row = false;
	char *tok = make(f, EV_FILE, PLATFORM, 1000);

	assert_int_equal(strlen(tok), SHARE_TOKEN_CHARS);
	assert_string_equal(share_path(f->a, tok), arena_printf(f->a, "/evidence-share/%s", tok));
	/* only the hash is stored, bound to the evidence and the platform */
	assert_int_equal(db_prepare(f->db, "SELECT token_hash, evidence_id, platform_id,"
				    " created_at, expires_at, fetches FROM evidence_share", &st),
			 AT_OK);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	assert_string_equal(db_col_text(st, 0), token_sha256_hex(f->a, tok, strlen(tok)));
	assert_null(strstr(db_col_text(st, 0), tok));
	assert_int_equal(db_col_i64(st, 1), EV_FILE);
	assert_int_equal(db_col_i64(st, 2), PLATFORM);
	assert_int_equal(db_col_i64(st, 3), 1000);
	assert_int_equal(db_col_i64(st, 4), 1000 + SHARE_TTL);
	assert_int_equal(db_col_i64(st, 5), 0);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_false(row);
	db_finalize(st);

	assert_int_equal(share_resolve(f->db, tok, 1001, &s), AT_OK);
	assert_int_equal(s.evidence_id, EV_FILE);
	assert_int_equal(s.platform_id, PLATFORM);
	assert_int_equal(s.created_at, 1000);
	assert_int_equal(s.expires_at, 1000 + SHARE_TTL);
	assert_int_equal(s.fetches, 0);
	/* 14 days */
	assert_int_equal(SHARE_TTL, 14 * 86400);
}

static void test_fresh_tokens(void **state)
{
	struct testdb_fx *f = *state;
	struct share s;
	char *t1 = make(f, EV_FILE, PLATFORM, 1000);
	char *t2 = make(f, EV_FILE, PLATFORM, 1000);
	char *t3 = make(f, EV_FILE2, PLATFORM, 1000);

	/* every share gets its own token; each names exactly its own file */
	assert_string_not_equal(t1, t2);
	assert_string_not_equal(t1, t3);
	assert_int_equal(share_resolve(f->db, t1, 1001, &s), AT_OK);
	assert_int_equal(s.evidence_id, EV_FILE);
	assert_int_equal(share_resolve(f->db, t3, 1001, &s), AT_OK);
	assert_int_equal(s.evidence_id, EV_FILE2);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM evidence_share"), 3);
}

static void test_expired_unknown_malformed(void **state)
{
	struct testdb_fx *f = *state;
	struct share s;
	char *tok = make(f, EV_FILE, PLATFORM, 1000);
	char *forged = arena_strdup(f->a, tok);
	int64_t end = 1000 + SHARE_TTL;

	assert_int_equal(share_resolve(f->db, tok, end - 1, &s), AT_OK);
	assert_int_equal(share_resolve(f->db, tok, end, &s), AT_NOTFOUND);
	assert_int_equal(s.evidence_id, 0);
	assert_int_equal(share_count_fetch(f->db, tok, end), AT_NOTFOUND);
	forged[0] = forged[0] == 'A' ? 'B' : 'A';
	assert_int_equal(share_resolve(f->db, forged, 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, "short", 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, "", 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, NULL, 1001, &s), AT_NOTFOUND);
	/* the stored hash is no token */
	assert_int_equal(share_resolve(f->db, token_sha256_hex(f->a, tok, strlen(tok)), 1001, &s),
			 AT_NOTFOUND);
	/* right length, a character outside base64url */
	forged = arena_strdup(f->a, tok);
	forged[5] = '\'';
	assert_int_equal(share_resolve(f->db, forged, 1001, &s), AT_NOTFOUND);
	forged = arena_printf(f->a, "%s=", tok);
	assert_int_equal(share_resolve(f->db, forged, 1001, &s), AT_NOTFOUND);
}

static void test_count_fetches(void **state)
{
	struct testdb_fx *f = *state;
	struct share s;
	char *tok = make(f, EV_FILE, PLATFORM, 1000);
	char *other = make(f, EV_FILE2, PLATFORM, 1000);

	assert_int_equal(share_count_fetch(f->db, tok, 1001), AT_OK);
	assert_int_equal(share_count_fetch(f->db, tok, 1002), AT_OK);
	assert_int_equal(share_count_fetch(f->db, tok, 1003), AT_OK);
	assert_int_equal(share_resolve(f->db, tok, 1004, &s), AT_OK);
	assert_int_equal(s.fetches, 3);
	assert_int_equal(share_resolve(f->db, other, 1004, &s), AT_OK);
	assert_int_equal(s.fetches, 0);
	assert_int_equal(share_count_fetch(f->db, "nope", 1001), AT_NOTFOUND);
}

static void test_only_files(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	char *tok = (char *)"x";

	assert_int_equal(share_create(f->db, f->a, EV_LINK, PLATFORM, 1000, &tok, &err),
			 AT_NOTFOUND);
	assert_null(tok);
	assert_int_equal(share_create(f->db, f->a, EV_NOTE, PLATFORM, 1000, &tok, &err),
			 AT_NOTFOUND);
	assert_int_equal(share_create(f->db, f->a, 999, PLATFORM, 1000, &tok, &err), AT_NOTFOUND);
	assert_string_equal(err.msg, "evidence 999 is not a stored file");
	assert_int_equal(share_create(f->db, f->a, EV_FILE, 77, 1000, &tok, &err), AT_NOTFOUND);
	assert_string_equal(err.msg, "no platform 77");
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM evidence_share"), 0);
	/* no platform at all is allowed (platform_id NULL) */
	tok = make(f, EV_FILE, 0, 1000);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM evidence_share"
					     " WHERE platform_id IS NULL"), 1);
}

static void test_revoke_purge(void **state)
{
	struct testdb_fx *f = *state;
	struct share s;
	int64_t n = -1;
	char *old = make(f, EV_FILE, PLATFORM, 1000);
	char *old2 = make(f, EV_FILE2, PLATFORM, 1000);
	char *keep = make(f, EV_FILE2, PLATFORM, 5000);
	char *gone = make(f, EV_FILE2, PLATFORM, 5000);

	assert_int_equal(share_revoke(f->db, gone), AT_OK);
	assert_int_equal(share_revoke(f->db, gone), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, gone, 5001, &s), AT_NOTFOUND);
	/* a new share of a file drops that file's expired shares (only that file's) */
	(void)make(f, EV_FILE, PLATFORM, 1000 + SHARE_TTL);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM evidence_share"
					     " WHERE evidence_id = 1"), 1);
	assert_int_equal(share_resolve(f->db, old, 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, old2, 1001, &s), AT_OK);
	/* the purge drops every expired one */
	assert_int_equal(share_purge(f->db, 1000 + SHARE_TTL, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(share_resolve(f->db, keep, 5001, &s), AT_OK);
	assert_int_equal(share_purge(f->db, 1000 + SHARE_TTL, NULL), AT_OK);
}

static void test_cascades(void **state)
{
	struct testdb_fx *f = *state;
	struct share s;
	char *a, *b, *c;

	assert_int_equal(db_exec(f->db, "INSERT INTO platform (issuer, client_id, auth_endpoint,"
				 " jwks_uri, created_at) VALUES ('https://two.test', 'c',"
				 " 'https://two.test/auth', 'https://two.test/jwks', 1)"), AT_OK);
	a = make(f, EV_FILE, PLATFORM, 1000);
	b = make(f, EV_FILE2, PLATFORM, 1000);
	c = make(f, EV_FILE2, 2, 1000);
	/* a deleted evidence file takes its shares with it */
	assert_int_equal(db_exec(f->db, "DELETE FROM evidence WHERE id = 1"), AT_OK);
	assert_int_equal(share_resolve(f->db, a, 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, b, 1001, &s), AT_OK);
	/* and so does a deleted platform: its shares only */
	assert_int_equal(share_resolve(f->db, c, 1001, &s), AT_OK);
	assert_int_equal(s.platform_id, 2);
	assert_int_equal(db_exec(f->db, "DELETE FROM platform WHERE id = 2"), AT_OK);
	assert_int_equal(share_resolve(f->db, c, 1001, &s), AT_NOTFOUND);
	assert_int_equal(share_resolve(f->db, b, 1001, &s), AT_OK);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_create_resolve), SQ(test_fresh_tokens), SQ(test_expired_unknown_malformed),
		SQ(test_count_fetches), SQ(test_only_files), SQ(test_revoke_purge),
		SQ(test_cascades),
	};
	const struct CMUnitTest pg[] = {
		PG(test_create_resolve), PG(test_fresh_tokens), PG(test_expired_unknown_malformed),
		PG(test_count_fetches), PG(test_only_files), PG(test_revoke_purge),
		PG(test_cascades),
	};
	return TESTDB_RUN("share", sqlite, pg);
}
