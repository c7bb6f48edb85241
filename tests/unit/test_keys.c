/* test_keys.c: the tool's own keys (lti/lti_keys.c): ensure, rotate, JWKS, sign, list, prune.
 *
 * Each test gets a temp directory with a fresh SQLite database (migrated) and a keys dir
 * that does not exist yet. With ATTEST_TEST_PG set to a URL (tests/pg.sh start DIR), every
 * test also runs against PostgreSQL in a throwaway schema. Signatures made here are
 * checked with lti_jwt_verify against lti_keys_jwks output: the platform's view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/mem.h"
#include "lti/lti_jwt.h"
#include "lti/lti_keys.h"
#include "tests/unit/support/testdb.h"

struct fx {
	struct testdb t;
	struct db *db;		/* t.db, borrowed */
	char dir[64];		/* temp dir: keys/ */
	char keys[128];
};

static int setup(void **state, int pg)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	*state = fx;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/attest-test-keys.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->keys, sizeof(fx->keys), "%s/keys", fx->dir);
	if (testdb_open(&fx->t, "keys", pg) != 0)
		return -1;
	fx->db = fx->t.db;
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, 0);
}

static int setup_pg(void **state)
{
	return setup(state, 1);
}

static void rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (unlink(p) != 0 && errno == EISDIR)
			rm_dir(p);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	if (fx == NULL)
		return 0;
	testdb_close(&fx->t);
	if (fx->dir[0] != '\0')
		rm_dir(fx->dir);
	xfree(fx);
	return 0;
}

/* ---- helpers ---- */

/* Number of *.pem files in dir; each must be a 0600 regular file. */
static int count_pem(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char p[512];
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".pem") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
		n++;
	}
	closedir(d);
	return n;
}

static int pem_exists(const struct fx *fx, const char *kid)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s.pem", fx->keys, kid);
	return access(p, F_OK) == 0;
}

/* Space-joined kids of a JWKS, checking each key holds public members only. */
static char *jwks_kids(struct arena *a, const char *json)
{
	static const char *const allowed[] = { "kty", "n", "e", "kid", "alg", "use" };
	struct json_object *root = json_tokener_parse(json), *keys, *v;
	char *out = arena_strdup(a, "");

	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "keys", &keys));
	assert_true(json_object_is_type(keys, json_type_array));
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);

		json_object_object_foreach(k, key, val) {
			size_t j;

			(void)val;
			for (j = 0; j < NELEM(allowed); j++) {
				if (strcmp(key, allowed[j]) == 0)
					break;
			}
			if (j == NELEM(allowed))
				fail_msg("JWKS key has member '%s'", key);
		}
		assert_true(json_object_object_get_ex(k, "kty", &v));
		assert_string_equal(json_object_get_string(v), "RSA");
		assert_true(json_object_object_get_ex(k, "alg", &v));
		assert_string_equal(json_object_get_string(v), "RS256");
		assert_true(json_object_object_get_ex(k, "use", &v));
		assert_string_equal(json_object_get_string(v), "sig");
		assert_true(json_object_object_get_ex(k, "kid", &v));
		out = arena_printf(a, "%s%s%s", out, i ? " " : "", json_object_get_string(v));
	}
	json_object_put(root);
	return out;
}

static char *jwks_at(struct fx *fx, struct arena *a, int64_t now)
{
	char *json = NULL;

	assert_int_equal(lti_keys_jwks(fx->db, now, a, &json), AT_OK);
	assert_non_null(json);
	return json;
}

/* Sign at now, verify with the JWKS published at verify_at; returns the header kid. */
static const char *sign_check(struct fx *fx, struct arena *a, int64_t now, int64_t verify_at,
			      enum at_rc want_verify)
{
	static const char payload[] = "{\"iss\":\"client-42\",\"aud\":\"https://lms.example\","
				      "\"nonce\":\"n1\",\"text\":\"caf\xc3\xa9 a/b\"}";
	struct at_err err = { "" };
	struct json_object *h = NULL, *p = NULL, *claims = NULL, *v;
	char *compact = NULL;
	enum at_rc rc;

	rc = lti_keys_sign(fx->db, fx->keys, now, a, payload, &compact, &err);
	if (rc != AT_OK)
		fail_msg("sign: %s (%s)", at_strerror(rc), err.msg);
	assert_int_equal(lti_jwt_peek(a, compact, strlen(compact), &h, &p, &err), AT_OK);
	assert_true(json_object_object_get_ex(h, "alg", &v));
	assert_string_equal(json_object_get_string(v), "RS256");
	assert_true(json_object_object_get_ex(h, "typ", &v));
	assert_string_equal(json_object_get_string(v), "JWT");
	assert_true(json_object_object_get_ex(h, "kid", &v));
	rc = lti_jwt_verify(a, compact, strlen(compact), jwks_at(fx, a, verify_at), &claims, &err);
	if (rc != want_verify)
		fail_msg("verify: %s (%s), want %s", at_strerror(rc), err.msg,
			 at_strerror(want_verify));
	if (rc == AT_OK) {
		struct json_object *t;

		assert_true(json_object_object_get_ex(claims, "text", &t));
		assert_string_equal(json_object_get_string(t), "caf\xc3\xa9 a/b");
	}
	return json_object_get_string(v);
}

static char *list_at(struct fx *fx, struct arena *a, int64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *out;

	assert_non_null(f);
	assert_int_equal(lti_keys_list(fx->db, now, f), AT_OK);
	fclose(f);
	out = arena_strdup(a, buf);
	xfree(buf);	/* open_memstream's buffer comes from malloc */
	return out;
}

/* The state column of kid's line in list output, or NULL if kid is not listed. */
static char *state_of(struct arena *a, const char *list, const char *kid)
{
	for (const char *line = list; *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t klen = strlen(kid);

		assert_non_null(end);
		if (strncmp(line, kid, klen) == 0 && line[klen] == ' ') {
			const char *s = line + klen + 2;

			return arena_strndup(a, s, strcspn(s, " "));
		}
		line = end + 1;
	}
	return NULL;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- tests ---- */

static void test_ensure(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	struct stat st;
	char *kid, *list, path[512], head[64];
	int fd;
	ssize_t n;

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	assert_int_equal(stat(fx->keys, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(count_pem(fx->keys), 1);
	kid = jwks_kids(a, jwks_at(fx, a, 1000));
	assert_int_equal(strlen(kid), 22);	/* base64url of 16 bytes */
	assert_true(pem_exists(fx, kid));
	snprintf(path, sizeof(path), "%s/%s.pem", fx->keys, kid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, head, 27);
	close(fd);
	assert_int_equal(n, 27);
	assert_memory_equal(head, "-----BEGIN PRIVATE KEY-----", 27);
	list = list_at(fx, a, 1000);
	assert_int_equal(count_lines(list), 1);
	assert_string_equal(state_of(a, list, kid), "signing");
	assert_non_null(strstr(list, "1970-01-01T00:16:40Z"));

	/* again: nothing new */
	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1001, &err), AT_OK);
	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 5000, &err), AT_OK);
	assert_int_equal(count_pem(fx->keys), 1);
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 5000)), kid);
	arena_free(a);
}

static void test_sign_verify(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	char *kid;

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	kid = jwks_kids(a, jwks_at(fx, a, 1000));
	assert_string_equal(sign_check(fx, a, 1000, 1000, AT_OK), kid);
	assert_string_equal(sign_check(fx, a, 99999, 99999, AT_OK), kid);
	arena_free(a);
}

static void test_rotate(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	char *k1, *k2 = NULL, *k3 = NULL, *list;
	int removed = -1;

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	k1 = jwks_kids(a, jwks_at(fx, a, 1000));

	/* new key published at 2000, signs from 2100, old one leaves the JWKS at 2600 */
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 2000, 100, 500, a, &k2, &err), AT_OK);
	assert_non_null(k2);
	assert_string_not_equal(k1, k2);
	assert_int_equal(count_pem(fx->keys), 2);
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 2000)), arena_printf(a, "%s %s", k1, k2));
	list = list_at(fx, a, 2000);
	assert_string_equal(state_of(a, list, k1), "signing");
	assert_string_equal(state_of(a, list, k2), "pending");

	/* the old key keeps signing until activation; ensure changes nothing meanwhile */
	assert_string_equal(sign_check(fx, a, 2050, 2050, AT_OK), k1);
	assert_string_equal(sign_check(fx, a, 2099, 2099, AT_OK), k1);
	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 2050, &err), AT_OK);
	assert_int_equal(count_pem(fx->keys), 2);
	assert_string_equal(sign_check(fx, a, 2100, 2100, AT_OK), k2);
	list = list_at(fx, a, 2200);
	assert_string_equal(state_of(a, list, k1), "retiring");
	assert_string_equal(state_of(a, list, k2), "signing");

	/* a token signed by the old key still verifies through the grace period */
	assert_string_equal(sign_check(fx, a, 2050, 2599, AT_OK), k1);
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 2599)), arena_printf(a, "%s %s", k1, k2));
	/* after it, the JWKS has only the new key */
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 2600)), k2);
	assert_string_equal(sign_check(fx, a, 2050, 2600, AT_NOTFOUND), k1);
	list = list_at(fx, a, 2600);
	assert_string_equal(state_of(a, list, k1), "retired");
	assert_string_equal(state_of(a, list, k2), "signing");

	/* prune: nothing before retirement, then the old row and file */
	assert_int_equal(lti_keys_prune(fx->db, fx->keys, 2599, &removed, &err), AT_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(count_pem(fx->keys), 2);
	assert_int_equal(lti_keys_prune(fx->db, fx->keys, 2700, &removed, &err), AT_OK);
	assert_int_equal(removed, 1);
	assert_false(pem_exists(fx, k1));
	assert_true(pem_exists(fx, k2));
	assert_int_equal(count_pem(fx->keys), 1);
	list = list_at(fx, a, 2700);
	assert_int_equal(count_lines(list), 1);
	assert_null(state_of(a, list, k1));
	assert_int_equal(lti_keys_prune(fx->db, fx->keys, 2700, &removed, &err), AT_OK);
	assert_int_equal(removed, 0);

	/* immediate rotation: the new key signs at once, the old one retires at 3100 */
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 3000, 0, 100, a, &k3, &err), AT_OK);
	assert_string_equal(sign_check(fx, a, 3000, 3000, AT_OK), k3);
	list = list_at(fx, a, 3000);
	assert_string_equal(state_of(a, list, k2), "retiring");
	assert_string_equal(state_of(a, list, k3), "signing");
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 3099)), arena_printf(a, "%s %s", k2, k3));
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 3100)), k3);
	arena_free(a);
}

/* A second rotation during a grace period never extends the older key's retirement. */
static void test_rotate_twice(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	char *k1, *k2 = NULL, *k3 = NULL, *list;

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	k1 = jwks_kids(a, jwks_at(fx, a, 1000));
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 2000, 100, 200, a, &k2, &err), AT_OK);
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 2050, 100, 1000, a, &k3, &err), AT_OK);
	/* k1 keeps 2300; k2 (never active) retires at 3150 */
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 2299)),
			    arena_printf(a, "%s %s %s", k1, k2, k3));
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 2300)), arena_printf(a, "%s %s", k2, k3));
	assert_string_equal(sign_check(fx, a, 2120, 2120, AT_OK), k2);
	assert_string_equal(sign_check(fx, a, 2150, 2150, AT_OK), k3);
	list = list_at(fx, a, 2120);
	assert_string_equal(state_of(a, list, k1), "retiring");
	assert_string_equal(state_of(a, list, k2), "signing");
	assert_string_equal(state_of(a, list, k3), "pending");
	arena_free(a);
}

/* Rotating in the same second as the first key: the new key still signs at once. */
static void test_rotate_same_second(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	char *k1, *k2 = NULL, *k3 = NULL, *list;

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	k1 = jwks_kids(a, jwks_at(fx, a, 1000));
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 1000, 0, 60, a, &k2, &err), AT_OK);
	assert_string_equal(sign_check(fx, a, 1000, 1000, AT_OK), k2);
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 1000, 0, 60, a, &k3, &err), AT_OK);
	assert_string_equal(sign_check(fx, a, 1000, 1000, AT_OK), k3);
	list = list_at(fx, a, 1000);
	assert_string_equal(state_of(a, list, k1), "retiring");
	assert_string_equal(state_of(a, list, k2), "retiring");
	assert_string_equal(state_of(a, list, k3), "signing");
	assert_string_equal(jwks_kids(a, jwks_at(fx, a, 1060)), k3);
	arena_free(a);
}

static void test_errors(void **state)
{
	struct fx *fx = *state;
	struct arena *a = arena_new();
	struct at_err err = { "" };
	char *compact = (char *)"x", *kid = (char *)"x", *k1, *k2, *path, *bad_dir;
	int removed = -1, fd;
	static const char *const bad_payloads[] = { "", "not json", "[1]", "{\"a\":1} x", "{" };

	/* no key yet */
	assert_int_equal(lti_keys_sign(fx->db, fx->keys, 1000, a, "{}", &compact, &err),
			 AT_NOTFOUND);
	assert_null(compact);
	assert_int_equal(lti_keys_prune(fx->db, fx->keys, 1000, &removed, &err), AT_OK);
	assert_int_equal(removed, 0);
	assert_string_equal(jwks_at(fx, a, 1000), "{\"keys\":[]}");
	assert_string_equal(list_at(fx, a, 1000), "");

	/* bad arguments */
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 1000, -1, 10, a, &kid, &err),
			 AT_BADREQ);
	assert_null(kid);
	assert_int_equal(lti_keys_rotate(fx->db, fx->keys, 1000, 10, -1, a, &kid, &err),
			 AT_BADREQ);
	bad_dir = arena_printf(a, "%s/no/such/parent", fx->dir);
	assert_int_equal(lti_keys_ensure(fx->db, bad_dir, 1000, &err), AT_INTERNAL);
	assert_non_null(strstr(err.msg, "keys dir"));
	assert_string_equal(jwks_at(fx, a, 1000), "{\"keys\":[]}");

	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1000, &err), AT_OK);
	k1 = jwks_kids(a, jwks_at(fx, a, 1000));
	for (size_t i = 0; i < NELEM(bad_payloads); i++) {
		compact = (char *)"x";
		assert_int_equal(lti_keys_sign(fx->db, fx->keys, 1000, a, bad_payloads[i],
					       &compact, &err), AT_BADREQ);
		assert_null(compact);
	}
	assert_int_equal(lti_keys_sign(fx->db, fx->keys, 1000, a, NULL, &compact, &err),
			 AT_BADREQ);

	/* a corrupt private file: a clear error that shows no file contents */
	path = arena_printf(a, "%s/%s.pem", fx->keys, k1);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "SECRET-GARBAGE\n", 15), 15);
	close(fd);
	assert_int_equal(lti_keys_sign(fx->db, fx->keys, 1000, a, "{}", &compact, &err),
			 AT_INTERNAL);
	assert_null(strstr(err.msg, "SECRET"));
	assert_non_null(strstr(err.msg, k1));

	/* a lost private file: ensure makes a new key, which then signs */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(lti_keys_sign(fx->db, fx->keys, 1000, a, "{}", &compact, &err),
			 AT_NOTFOUND);
	assert_int_equal(lti_keys_ensure(fx->db, fx->keys, 1001, &err), AT_OK);
	assert_int_equal(count_pem(fx->keys), 1);
	k2 = jwks_kids(a, jwks_at(fx, a, 1001));
	assert_string_equal(k2, arena_printf(a, "%s %s", k1, strchr(k2, ' ') + 1));
	assert_string_equal(sign_check(fx, a, 1001, 1001, AT_OK), strchr(k2, ' ') + 1);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test_setup_teardown(test_ensure, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sign_verify, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_rotate, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_twice, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_same_second, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup_sqlite, teardown),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_ensure, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_rotate, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_twice, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_same_second, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup_pg, teardown),
	};
	int failed;

	umask(022);
	failed = cmocka_run_group_tests_name("keys/sqlite", sqlite_tests, NULL, NULL);
	if (testdb_pg_url() != NULL)
		failed += cmocka_run_group_tests_name("keys/postgresql", pg_tests, NULL, NULL);
	return failed;
}
