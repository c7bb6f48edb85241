/* test_req.c: request parsing — query strings, forms, cookies, limits, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/req.h"

static void test_urldecode(void **state)
{
	static const struct {
		const char *in;
		bool form;
		const char *want;	/* NULL: must fail */
	} cases[] = {
		{ "a%20b", false, "a b" },
		{ "a+b", true, "a b" },
		{ "a+b", false, "a+b" },
		{ "%41%62", false, "Ab" },
		{ "%e2%9C%93", false, "\xe2\x9c\x93" },
		{ "", false, "" },
		{ "%", false, NULL },
		{ "%4", false, NULL },
		{ "%zz", false, NULL },
		{ "%00", false, NULL },
		{ "abc%", false, NULL },
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *out = NULL;
		size_t n = 0;
		enum at_rc rc = req_urldecode(a, cases[i].in, strlen(cases[i].in), cases[i].form,
					      &out, &n);

		if (cases[i].want == NULL) {
			assert_int_equal(rc, AT_BADREQ);
		} else {
			assert_int_equal(rc, AT_OK);
			assert_string_equal(out, cases[i].want);
			assert_int_equal(n, strlen(cases[i].want));
		}
	}
	arena_free(a);
}

static void test_query(void **state)
{
	struct arena *a = arena_new();
	struct kv *kv = NULL;
	size_t n = 0;
	const char *q = "iss=https%3A%2F%2Fx.edu&login_hint=42&&empty=&flag&a+b=c+d";

	(void)state;
	assert_int_equal(req_parse_query(a, q, strlen(q), &kv, &n), AT_OK);
	assert_int_equal(n, 5);
	assert_string_equal(kv[0].key, "iss");
	assert_string_equal(kv[0].val, "https://x.edu");
	assert_string_equal(kv[1].val, "42");
	assert_string_equal(kv[2].key, "empty");
	assert_string_equal(kv[2].val, "");
	assert_string_equal(kv[3].key, "flag");
	assert_string_equal(kv[4].key, "a b");
	assert_string_equal(kv[4].val, "c d");
	n = 0;
	kv = NULL;
	assert_int_equal(req_parse_query(a, "a=%zz", 5, &kv, &n), AT_BADREQ);
	arena_free(a);
}

static void test_query_too_many(void **state)
{
	struct arena *a = arena_new();
	struct kv *kv = NULL;
	size_t n = 0, len = 0;
	char *q = arena_alloc(a, 300 * 4 + 1);

	(void)state;
	for (int i = 0; i < 300; i++) {
		memcpy(q + len, "a=1&", 4);
		len += 4;
	}
	q[len] = '\0';
	assert_int_equal(req_parse_query(a, q, len, &kv, &n), AT_TOOBIG);
	arena_free(a);
}

static void test_cookies(void **state)
{
	struct arena *a = arena_new();
	struct kv *kv = NULL;
	size_t n = 0;

	(void)state;
	req_parse_cookies(a, "a=1; attest_state_x=s3cr3t;junk; =novalue; b=", &kv, &n);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].key, "a");
	assert_string_equal(kv[1].key, "attest_state_x");
	assert_string_equal(kv[1].val, "s3cr3t");
	assert_string_equal(kv[2].key, "b");
	assert_string_equal(kv[2].val, "");
	n = 0;
	req_parse_cookies(a, NULL, &kv, &n);
	assert_int_equal(n, 0);
	arena_free(a);
}

/* A fake CGI environment for req_parse. */
struct fake {
	const char **env;	/* name, value, name, value, ..., NULL */
	const char *body;
	size_t off, len;
};

static const char *f_env(void *ud, const char *name)
{
	struct fake *f = ud;

	for (size_t i = 0; f->env[i] != NULL; i += 2)
		if (strcmp(f->env[i], name) == 0)
			return f->env[i + 1];
	return NULL;
}

static long f_read(void *ud, char *p, size_t n)
{
	struct fake *f = ud;
	size_t left = f->len - f->off;

	if (n > left)
		n = left;
	memcpy(p, f->body + f->off, n);
	f->off += n;
	return (long)n;
}

static int f_write(void *ud, const char *p, size_t n)
{
	(void)ud;
	(void)p;
	(void)n;
	return 0;
}

static enum at_rc parse_with(const char **env, const char *body, size_t claimed,
			     size_t max_body, struct req *r, struct at_err *err)
{
	static struct fake f;
	static struct req_io io;
	char len[32];

	f.env = env;
	f.body = body;
	f.off = 0;
	f.len = body ? strlen(body) : 0;
	io.env = f_env;
	io.read = f_read;
	io.write = f_write;
	io.ud = &f;
	memset(r, 0, sizeof(*r));
	r->arena = arena_new();
	r->io = &io;
	snprintf(len, sizeof(len), "%zu", claimed);
	for (size_t i = 0; env[i] != NULL; i += 2)
		if (strcmp(env[i], "CONTENT_LENGTH") == 0)
			env[i + 1] = arena_strdup(r->arena, len);
	return req_parse(r, max_body, err);
}

static void test_parse_post_form(void **state)
{
	const char *env[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/lti/launch",
			      "QUERY_STRING", "x=1", "CONTENT_TYPE",
			      "application/x-www-form-urlencoded; charset=utf-8",
			      "CONTENT_LENGTH", "", "HTTP_COOKIE", "c=v", NULL };
	const char *body = "id_token=aaa.bbb.ccc&state=S%2BT";
	struct req r;
	struct at_err err = { "" };

	(void)state;
	assert_int_equal(parse_with(env, body, strlen(body), 1024, &r, &err), AT_OK);
	assert_string_equal(r.path, "/lti/launch");
	assert_string_equal(req_param(&r, "x"), "1");
	assert_string_equal(req_param(&r, "id_token"), "aaa.bbb.ccc");
	assert_string_equal(req_param(&r, "state"), "S+T");
	assert_string_equal(req_cookie(&r, "c"), "v");
	assert_null(req_param(&r, "nope"));
	arena_free(r.arena);
}

static void test_parse_limits(void **state)
{
	const char *env[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/x", "CONTENT_TYPE",
			      "application/x-www-form-urlencoded", "CONTENT_LENGTH", "", NULL };
	struct req r;
	struct at_err err = { "" };

	(void)state;
	/* over the body limit: 413 */
	assert_int_equal(parse_with(env, "a=12345", 7, 4, &r, &err), AT_TOOBIG);
	arena_free(r.arena);
	/* truncated body (claims more than it sends) */
	assert_int_equal(parse_with(env, "a=1", 50, 1024, &r, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "truncated"));
	arena_free(r.arena);
	/* bad percent-encoding in the form */
	assert_int_equal(parse_with(env, "a=%G1", 5, 1024, &r, &err), AT_BADREQ);
	arena_free(r.arena);
}

static void test_param_i64(void **state)
{
	const char *env[] = { "REQUEST_METHOD", "GET", "DOCUMENT_URI", "/x", "QUERY_STRING",
			      "a=42&b=-3&c=9223372036854775808&d=1x&e=", "CONTENT_LENGTH", "",
			      NULL };
	struct req r;
	struct at_err err = { "" };
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_with(env, NULL, 0, 1024, &r, &err), AT_OK);
	assert_int_equal(req_param_i64(&r, "a", 1, 100, &v), AT_OK);
	assert_int_equal(v, 42);
	assert_int_equal(req_param_i64(&r, "a", 1, 10, &v), AT_BADREQ);
	assert_int_equal(req_param_i64(&r, "b", -5, 5, &v), AT_OK);
	assert_int_equal(v, -3);
	assert_int_equal(req_param_i64(&r, "c", 0, INT64_MAX, &v), AT_BADREQ);
	assert_int_equal(req_param_i64(&r, "d", 0, 100, &v), AT_BADREQ);
	assert_int_equal(req_param_i64(&r, "e", 0, 100, &v), AT_BADREQ);
	assert_int_equal(req_param_i64(&r, "missing", 0, 100, &v), AT_BADREQ);
	arena_free(r.arena);
}

static void test_json_body(void **state)
{
	static const struct {
		const char *ct, *body;
		enum at_rc want;
	} cases[] = {
		{ "application/json", "{\"a\":1}", AT_OK },
		{ "application/json; charset=utf-8", " {\"a\":[1,2]} \n", AT_OK },
		{ "application/json", "[1,2]", AT_BADREQ },
		{ "application/json", "{\"a\":", AT_BADREQ },
		{ "application/json", "{\"a\":1} x", AT_BADREQ },
		{ "application/json", "{\"a\":1}{}", AT_BADREQ },
		{ "application/json", "nul", AT_BADREQ },
		{ "text/plain", "{\"a\":1}", AT_NOTFOUND },
		{ "application/jsonp", "{}", AT_NOTFOUND },
	};
	struct req r;
	struct at_err err = { "" };
	struct json_object *o;
	char deep[200];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *env[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/api/x",
				      "CONTENT_TYPE", cases[i].ct, "CONTENT_LENGTH", "", NULL };

		assert_int_equal(parse_with(env, cases[i].body, strlen(cases[i].body), 1024, &r,
					    &err), AT_OK);
		if (req_json(&r, &o, &err) != cases[i].want)
			fail_msg("case %zu (%s): %s", i, cases[i].body, err.msg);
		arena_free(r.arena);
	}
	/* nesting deeper than 32 is refused */
	memset(deep, '[', 100);
	memcpy(deep + 100, "", 1);
	{
		const char *env[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/api/x",
				      "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "",
				      NULL };
		char body[256];

		snprintf(body, sizeof(body), "{\"a\":%s", deep);
		assert_int_equal(parse_with(env, body, strlen(body), 1024, &r, &err), AT_OK);
		assert_int_equal(req_json(&r, &o, &err), AT_BADREQ);
		arena_free(r.arena);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urldecode),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_too_many),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_parse_post_form),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_param_i64),
		cmocka_unit_test(test_json_body),
	};

	return cmocka_run_group_tests_name("req", tests, NULL, NULL);
}
