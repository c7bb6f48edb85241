/* test_cfg.c: configuration file, environment overrides and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"

static char *write_conf(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/attest-cfg-%d.conf", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void clear_env(void)
{
	unsetenv("ATTEST_WORKERS");
	unsetenv("ATTEST_BASE_URL");
	unsetenv("ATTEST_DATABASE");
}

static void test_defaults(void **state)
{
	struct cfg c;
	struct at_err err = { "" };

	(void)state;
	clear_env();
	assert_int_equal(cfg_load(&c, "/nonexistent/attest.conf", false, &err), AT_OK);
	assert_string_equal(c.database, "sqlite:var/attest.db");
	assert_int_equal(c.workers, 2);
	assert_string_equal(c.deployment_policy, "learn");
	cfg_free(&c);
	/* a named file that does not exist is an error */
	assert_int_equal(cfg_load(&c, "/nonexistent/attest.conf", true, &err), AT_BADREQ);
	cfg_free(&c);
}

static void test_file_and_env(void **state)
{
	struct cfg c;
	struct at_err err = { "" };
	char *p = write_conf("# comment\n\nbase_url = https://attest.example.edu/\n"
			     "workers=8\n  database =  postgresql://u@h/db  \n");

	(void)state;
	clear_env();
	assert_int_equal(cfg_load(&c, p, true, &err), AT_OK);
	assert_string_equal(c.base_url, "https://attest.example.edu");	/* slash trimmed */
	assert_int_equal(c.workers, 8);
	assert_string_equal(c.database, "postgresql://u@h/db");
	cfg_free(&c);
	setenv("ATTEST_WORKERS", "3", 1);
	assert_int_equal(cfg_load(&c, p, true, &err), AT_OK);
	assert_int_equal(c.workers, 3);		/* environment wins */
	cfg_free(&c);
	clear_env();
	unlink(p);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *env_key, *env_val;
		const char *want;	/* substring of the error */
	} cases[] = {
		{ "nope = 1\n", NULL, NULL, ":1: unknown key 'nope'" },
		{ "\n\nworkers = many\n", NULL, NULL, ":3: workers: not a number" },
		{ "workers = 0\n", NULL, NULL, "out of range 1..256" },
		{ "workers = 99999999999999999999999\n", NULL, NULL, "not a number" },
		{ "just words\n", NULL, NULL, ":1: expected 'key = value'" },
		{ "", "ATTEST_WORKERS", "-1", "ATTEST_WORKERS: workers: -1 is out of range" },
		{ "base_url = ftp://x\n", NULL, NULL, "base_url must start with" },
		{ "deployment_policy = loose\n", NULL, NULL, "deployment_policy must be" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cfg c;
		struct at_err err = { "" };
		char *p = write_conf(cases[i].text);

		clear_env();
		if (cases[i].env_key)
			setenv(cases[i].env_key, cases[i].env_val, 1);
		assert_int_equal(cfg_load(&c, p, true, &err), AT_BADREQ);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' does not contain '%s'", i, err.msg, cases[i].want);
		cfg_free(&c);
		unlink(p);
	}
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_and_env),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
