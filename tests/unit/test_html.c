/* test_html.c: escaping by construction, URL encoding, origins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/platform.h"
#include "core/token.h"
#include "fcgi/html.h"

static void test_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a<b&c", "a&lt;b&amp;c" },
		{ "\"'", "&quot;&#x27;" },
		{ "", "" },
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "O'Neil & \"Co\"", "O&#x27;Neil &amp; &quot;Co&quot;" },
		{ "plain \xe2\x9c\x93", "plain \xe2\x9c\x93" },
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		assert_string_equal(html_escape(a, cases[i].in), cases[i].want);
	arena_free(a);
}

static void test_urlencode(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(html_urlencode(a, "a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
	assert_string_equal(html_urlencode(a, "AZaz09-._~"), "AZaz09-._~");
	arena_free(a);
}

static void test_origin(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "https://moodle.example.edu/mod/lti/auth.php", "https://moodle.example.edu" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "https://x.edu?y", "https://x.edu" },
		{ "ftp://x.edu/", NULL },
		{ "https://", NULL },
		{ "https://evil.edu;script-src *", NULL },
		{ "javascript:alert(1)", NULL },
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *o = platform_url_origin(a, cases[i].in);

		if (cases[i].want == NULL)
			assert_null(o);
		else
			assert_string_equal(o, cases[i].want);
	}
	arena_free(a);
}

static void test_b64url(void **state)
{
	struct arena *a = arena_new();
	unsigned char *out;
	size_t n;

	(void)state;
	assert_string_equal(token_b64url(a, "hello?>", 7), "aGVsbG8_Pg");
	assert_int_equal(token_b64url_decode(a, "aGVsbG8_Pg", 10, &out, &n), AT_OK);
	assert_int_equal(n, 7);
	assert_memory_equal(out, "hello?>", 7);
	assert_int_equal(token_b64url_decode(a, "a", 1, &out, &n), AT_BADREQ);
	assert_int_equal(token_b64url_decode(a, "ab$c", 4, &out, &n), AT_BADREQ);
	assert_int_equal(strlen(token_random(a, 32)), 43);
	assert_true(token_equal("abc", "abc"));
	assert_false(token_equal("abc", "abd"));
	assert_false(token_equal("abc", "abcd"));
	arena_free(a);
}

static void test_arena_reserve(void **state)
{
	struct arena *a = arena_new();
	int64_t *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int64_t i = 0; i < 1000; i++) {
		v = arena_reserve(a, v, n, &cap, sizeof(*v));
		assert_true(n < cap);
		v[n++] = i * 3;
	}
	assert_int_equal(cap, 1024);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (int64_t)i * 3);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_arena_reserve),
	};

	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
